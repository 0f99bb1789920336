/* SPDX-License-Identifier: MIT */
/*
 * Attention of one (head, token) over its sequence's cached positions,
 * flash-style: positions in blocks of WG, one score per thread, then a
 * running max / sum (online softmax) and the weighted sum of v rows with
 * threads over the v dimensions. Sliding layers look back `window`
 * positions; their cache is a ring of `ring` rows per sequence.
 */
#version 450
#include "include/common.glsl"
#include "include/push.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 128;
#define MAX_HEAD 512
#define MAX_OUT 4 /* head_dim_v <= MAX_OUT * WG */

layout(push_constant) uniform PC { pc_attn p; };

shared float qs[MAX_HEAD];
shared float sc[WG];
shared float red[WG];

float reduce_max(float v)
{
        uint lid = gl_LocalInvocationID.x;
        red[lid] = v;
        barrier();
        for (uint s = WG / 2u; s > 0u; s >>= 1) {
                if (lid < s)
                        red[lid] = max(red[lid], red[lid + s]);
                barrier();
        }
        float r = red[0];
        barrier();
        return r;
}

float reduce_sum(float v)
{
        uint lid = gl_LocalInvocationID.x;
        red[lid] = v;
        barrier();
        for (uint s = WG / 2u; s > 0u; s >>= 1) {
                if (lid < s)
                        red[lid] += red[lid + s];
                barrier();
        }
        float r = red[0];
        barrier();
        return r;
}

void main()
{
        uint h = gl_WorkGroupID.x, t = gl_WorkGroupID.y, lid = gl_LocalInvocationID.x;
        uint kvh = h / (p.n_head / p.n_head_kv);
        uint kd = p.n_head_kv * p.head_dim, vd = p.n_head_kv * p.head_dim_v;
        I32Buf tok = I32Buf(p.tok);
        int pos = tok.v[t * 4u], seq = tok.v[t * 4u + 1u];
        int start = 0;
        if (p.window > 0u && pos >= int(p.window))
                start = pos - int(p.window) + 1;

        F32Buf q = F32Buf(p.q + uint64_t(t * p.ldq + h * p.head_dim) * 4ul);
        for (uint i = lid; i < p.head_dim; i += WG)
                qs[i] = q.v[i];
        barrier();

        float m = -1.0 / 0.0, l = 0.0;
        float o[MAX_OUT];
        [[unroll]] for (uint d = 0; d < MAX_OUT; d++)
                o[d] = 0.0;
        uint64_t kbase = p.kc + (uint64_t(seq) * p.ring * kd + kvh * p.head_dim) * 4ul;
        uint64_t vbase = p.vc + (uint64_t(seq) * p.ring * vd + kvh * p.head_dim_v) * 4ul;

        for (int p0 = start; p0 <= pos; p0 += int(WG)) {
                int pp = p0 + int(lid);
                float s = -1.0 / 0.0;
                if (pp <= pos) {
                        uint slot = uint(pp) % p.ring;
                        F32x4Buf k = F32x4Buf(kbase + uint64_t(slot) * kd * 4ul);
                        float acc = 0.0;
                        for (uint i = 0; i < p.head_dim / 4u; i++)
                                acc += dot(k.v[i], vec4(qs[4u * i], qs[4u * i + 1u], qs[4u * i + 2u], qs[4u * i + 3u]));
                        s = acc * p.scale;
                }
                float mb = max(m, reduce_max(s));
                float c = exp(m - mb); /* 0 on the first block (m = -inf) */
                float wgt = pp <= pos ? exp(s - mb) : 0.0;
                sc[lid] = wgt;
                l = l * c + reduce_sum(wgt); /* reduce_sum's barriers also publish sc[] */
                m = mb;
                uint nb = uint(min(int(WG), pos - p0 + 1));
                [[unroll]] for (uint d = 0; d < MAX_OUT; d++) {
                        uint dd = lid + d * WG;
                        if (dd < p.head_dim_v) {
                                float acc = o[d] * c;
                                for (uint i = 0; i < nb; i++) {
                                        uint slot = uint(p0 + int(i)) % p.ring;
                                        acc += sc[i] * F32Buf(vbase + uint64_t(slot) * vd * 4ul).v[dd];
                                }
                                o[d] = acc;
                        }
                }
                barrier();
        }
        F32Buf ob = F32Buf(p.dst + uint64_t(t * p.n_head * p.head_dim_v + h * p.head_dim_v) * 4ul);
        [[unroll]] for (uint d = 0; d < MAX_OUT; d++) {
                uint dd = lid + d * WG;
                if (dd < p.head_dim_v)
                        ob.v[dd] = o[d] / l;
        }
}
