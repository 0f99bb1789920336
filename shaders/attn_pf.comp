/* SPDX-License-Identifier: MIT */
/*
 * Attention for prefill: one head and BQ consecutive query tokens of one
 * sequence per workgroup (the host uses it only when every token of the
 * step belongs to the same sequence), so that each cached k and v row is
 * read once for BQ queries instead of once per query as in attn.comp.
 * Same contract and arithmetic as attn.comp otherwise: positions in blocks
 * of WG, one position per invocation, online softmax per query, v rows
 * accumulated with invocations over the v dimensions; sliding layers look
 * back `window` positions in a ring of `ring` rows.
 */
#version 450
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_basic : require
#include "include/common.glsl"
#include "include/push.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 128;
layout(constant_id = 1) const bool KV16 = false; /* include/kv.glsl */
#include "include/kv.glsl"
#define BQ 8
#define MAX_HEAD 512
#define MAX_OUT 4 /* head_dim_v <= MAX_OUT * WG */

layout(push_constant) uniform PC { pc_attn p; };

shared float qs[BQ][MAX_HEAD];
shared float sc[BQ][WG];
shared float red[BQ][WG];

/* v[q] becomes the max (or the sum) of v[q] over the workgroup, for every q at once: one subgroup
 * operation per query and two barriers in all. */
void reduce(inout float v[BQ], bool is_max)
{
        [[unroll]] for (uint q = 0; q < BQ; q++) {
                float s = is_max ? subgroupMax(v[q]) : subgroupAdd(v[q]);
                if (subgroupElect())
                        red[q][gl_SubgroupID] = s;
        }
        barrier();
        [[unroll]] for (uint q = 0; q < BQ; q++) {
                float r = red[q][0];
                for (uint i = 1; i < gl_NumSubgroups; i++)
                        r = is_max ? max(r, red[q][i]) : r + red[q][i];
                v[q] = r;
        }
        barrier();
}

void main()
{
        uint h = gl_WorkGroupID.x, tq0 = gl_WorkGroupID.y * BQ, lid = gl_LocalInvocationID.x;
        uint kvh = h / (p.n_head / p.n_head_kv);
        uint kd = p.n_head_kv * p.head_dim, vd = p.n_head_kv * p.head_dim_v;
        I32Buf tok = I32Buf(p.tok);
        int seq = tok.v[tq0 * 4u + 1u];
        /* Query q attends to [qstart[q], qend[q]]; a query past the step's tokens to nothing. */
        int qstart[BQ], qend[BQ];
        int lo = 0x7fffffff, hi = -1;
        [[unroll]] for (uint q = 0; q < BQ; q++) {
                uint t = tq0 + q;
                if (t < p.nt) {
                        int pos = tok.v[t * 4u];
                        qstart[q] = p.window > 0u && pos >= int(p.window) ? pos - int(p.window) + 1 : 0;
                        qend[q] = pos;
                } else {
                        qstart[q] = 0x7fffffff;
                        qend[q] = -1;
                }
                lo = min(lo, qstart[q]);
                hi = max(hi, qend[q]);
        }
        [[unroll]] for (uint q = 0; q < BQ; q++) {
                uint t = min(tq0 + q, p.nt - 1u);
                F32Buf qv = F32Buf(p.q + uint64_t(t * p.ldq + h * p.head_dim) * 4ul);
                for (uint i = lid; i < p.head_dim; i += WG)
                        qs[q][i] = qv.v[i];
        }
        barrier();

        float m[BQ], l[BQ], o[BQ][MAX_OUT];
        [[unroll]] for (uint q = 0; q < BQ; q++) {
                m[q] = -1.0 / 0.0;
                l[q] = 0.0;
                [[unroll]] for (uint d = 0; d < MAX_OUT; d++)
                        o[q][d] = 0.0;
        }
        uint64_t kbase = p.kc + (uint64_t(seq) * p.ring * kd + kvh * p.head_dim) * KV_BYTES;
        uint64_t vbase = p.vc + (uint64_t(seq) * p.ring * vd + kvh * p.head_dim_v) * KV_BYTES;

        for (int p0 = lo; p0 <= hi; p0 += int(WG)) {
                int pp = p0 + int(lid);
                float s[BQ];
                [[unroll]] for (uint q = 0; q < BQ; q++)
                        s[q] = 0.0;
                if (pp <= hi) {
                        uint64_t k = kbase + uint64_t(uint(pp) % p.ring) * kd * KV_BYTES;
                        for (uint i = 0; i < p.head_dim / 4u; i++) {
                                vec4 kv = kv_load4(k, i);
                                [[unroll]] for (uint q = 0; q < BQ; q++)
                                        s[q] += dot(kv, vec4(qs[q][4u * i], qs[q][4u * i + 1u], qs[q][4u * i + 2u],
                                                             qs[q][4u * i + 3u]));
                        }
                }
                float mb[BQ], wsum[BQ], c[BQ];
                [[unroll]] for (uint q = 0; q < BQ; q++) {
                        bool inr = pp >= qstart[q] && pp <= qend[q];
                        s[q] = inr ? s[q] * p.scale : -1.0 / 0.0;
                        mb[q] = s[q];
                }
                reduce(mb, true);
                [[unroll]] for (uint q = 0; q < BQ; q++) {
                        mb[q] = max(m[q], mb[q]);
                        /* A query with nothing in range so far keeps m = -inf: no rescale, no weight. */
                        c[q] = mb[q] == -1.0 / 0.0 ? 1.0 : exp(m[q] - mb[q]);
                        wsum[q] = s[q] == -1.0 / 0.0 ? 0.0 : exp(s[q] - mb[q]);
                        sc[q][lid] = wsum[q];
                }
                reduce(wsum, false); /* its barriers also publish sc[] */
                [[unroll]] for (uint q = 0; q < BQ; q++) {
                        l[q] = l[q] * c[q] + wsum[q];
                        m[q] = mb[q];
                }
                uint nb = uint(min(int(WG), hi - p0 + 1));
                [[unroll]] for (uint d = 0; d < MAX_OUT; d++) {
                        uint dd = lid + d * WG;
                        if (dd < p.head_dim_v) {
                                [[unroll]] for (uint q = 0; q < BQ; q++)
                                        o[q][d] *= c[q];
                                for (uint i = 0; i < nb; i++) {
                                        float v = kv_load1(vbase + uint64_t(uint(p0 + int(i)) % p.ring) * vd * KV_BYTES, dd);
                                        [[unroll]] for (uint q = 0; q < BQ; q++)
                                                o[q][d] += sc[q][i] * v;
                                }
                        }
                }
                barrier();
        }
        [[unroll]] for (uint q = 0; q < BQ; q++) {
                uint t = tq0 + q;
                if (t >= p.nt)
                        continue;
                F32Buf ob = F32Buf(p.dst + uint64_t(t * p.n_head * p.head_dim_v + h * p.head_dim_v) * 4ul);
                [[unroll]] for (uint d = 0; d < MAX_OUT; d++) {
                        uint dd = lid + d * WG;
                        if (dd < p.head_dim_v)
                                ob.v[dd] = o[q][d] / l[q];
                }
        }
}
