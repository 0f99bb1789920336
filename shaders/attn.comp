/* SPDX-License-Identifier: MIT */
/*
 * Attention of one (head, token) over its sequence's cached positions,
 * flash-style: positions in blocks of WG, one score per thread, then a
 * running max / sum (online softmax) and the weighted sum of v rows with
 * threads over the v dimensions. Sliding layers look back `window`
 * positions; their cache is a ring of `ring` rows per sequence.
 *
 * Split-K (decode): with p.chunk > 0, workgroup z takes positions
 * [start + z * chunk, start + (z + 1) * chunk) only and writes its
 * unnormalised output, max and sum to the partials at p.dst (per (token,
 * head, split): head_dim_v + 2 floats); -DMERGE builds the kernel that
 * combines them (one workgroup per (head, token), gl_NumWorkGroups.z = 1,
 * p.window = number of splits).
 *
 * With p.q8 (one token, head_dim_v % 32 == 0, subgroups of at least 32:
 * the host checks) the final output is also written as 8-bit activations,
 * each block of 32 being 32 lanes of one subgroup, so the output
 * projection needs no quantx dispatch and barrier.
 */
#version 450
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_clustered : require
#extension GL_KHR_shader_subgroup_basic : require
#include "include/common.glsl"
#include "include/push.glsl"
#define Q8_LANES
#include "include/q8.glsl"

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

#ifdef MERGE
void main()
{
        uint h = gl_WorkGroupID.x, t = gl_WorkGroupID.y, lid = gl_LocalInvocationID.x, ns = p.window;
        uint dv = p.head_dim_v, st = dv + 2u;
        F32Buf part = F32Buf(p.q + uint64_t((t * p.n_head + h) * ns * st) * 4ul);
        float mx = -1.0 / 0.0;
        for (uint s = 0; s < ns; s++)
                mx = max(mx, part.v[s * st + dv]);
        float l = 0.0;
        for (uint s = 0; s < ns; s++) {
                float ms = part.v[s * st + dv];
                l += ms == -1.0 / 0.0 ? 0.0 : part.v[s * st + dv + 1u] * exp(ms - mx);
        }
        F32Buf ob = F32Buf(p.dst + uint64_t(t * p.n_head * dv + h * dv) * 4ul);
        for (uint d = lid; d < dv; d += WG) {
                float o = 0.0;
                for (uint s = 0; s < ns; s++) {
                        float ms = part.v[s * st + dv];
                        if (ms != -1.0 / 0.0)
                                o += part.v[s * st + d] * exp(ms - mx);
                }
                ob.v[d] = o / l;
                if (p.q8 != 0ul)
                        q8_lane(p.q8, p.n_head * dv, h * dv + d, o / l);
        }
}
#else
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
        int end = pos; /* last position, inclusive */
        if (p.chunk > 0u) {
                start += int(gl_WorkGroupID.z * p.chunk);
                end = min(end, start + int(p.chunk) - 1);
        }

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

        for (int p0 = start; p0 <= end; p0 += int(WG)) {
                int pp = p0 + int(lid);
                float s = -1.0 / 0.0;
                if (pp <= end) {
                        uint slot = uint(pp) % p.ring;
                        F32x4Buf k = F32x4Buf(kbase + uint64_t(slot) * kd * 4ul);
                        /* Four independent loads and sums in flight. */
                        vec4 a4 = vec4(0.0);
                        uint n4 = p.head_dim / 4u, i = 0;
                        for (; i + 4u <= n4; i += 4u) {
                                vec4 k0 = k.v[i], k1 = k.v[i + 1u], k2 = k.v[i + 2u], k3 = k.v[i + 3u];
                                a4.x += dot(k0, vec4(qs[4u * i], qs[4u * i + 1u], qs[4u * i + 2u], qs[4u * i + 3u]));
                                a4.y += dot(k1, vec4(qs[4u * i + 4u], qs[4u * i + 5u], qs[4u * i + 6u], qs[4u * i + 7u]));
                                a4.z += dot(k2, vec4(qs[4u * i + 8u], qs[4u * i + 9u], qs[4u * i + 10u], qs[4u * i + 11u]));
                                a4.w += dot(k3, vec4(qs[4u * i + 12u], qs[4u * i + 13u], qs[4u * i + 14u], qs[4u * i + 15u]));
                        }
                        for (; i < n4; i++)
                                a4.x += dot(k.v[i], vec4(qs[4u * i], qs[4u * i + 1u], qs[4u * i + 2u], qs[4u * i + 3u]));
                        s = ((a4.x + a4.y) + (a4.z + a4.w)) * p.scale;
                }
                float mb = max(m, reduce_max(s));
                float c = exp(m - mb); /* 0 on the first block (m = -inf) */
                float wgt = pp <= end ? exp(s - mb) : 0.0;
                sc[lid] = wgt;
                l = l * c + reduce_sum(wgt); /* reduce_sum's barriers also publish sc[] */
                m = mb;
                uint nb = uint(min(int(WG), end - p0 + 1));
                [[unroll]] for (uint d = 0; d < MAX_OUT; d++) {
                        uint dd = lid + d * WG;
                        if (dd < p.head_dim_v) {
                                float a0 = o[d] * c, a1 = 0.0, a2 = 0.0, a3 = 0.0;
                                uint i = 0;
                                for (; i + 4u <= nb; i += 4u) {
                                        uint s0 = uint(p0 + int(i)) % p.ring, s1 = uint(p0 + int(i) + 1) % p.ring;
                                        uint s2 = uint(p0 + int(i) + 2) % p.ring, s3 = uint(p0 + int(i) + 3) % p.ring;
                                        float v0 = F32Buf(vbase + uint64_t(s0) * vd * 4ul).v[dd];
                                        float v1 = F32Buf(vbase + uint64_t(s1) * vd * 4ul).v[dd];
                                        float v2 = F32Buf(vbase + uint64_t(s2) * vd * 4ul).v[dd];
                                        float v3 = F32Buf(vbase + uint64_t(s3) * vd * 4ul).v[dd];
                                        a0 += sc[i] * v0;
                                        a1 += sc[i + 1u] * v1;
                                        a2 += sc[i + 2u] * v2;
                                        a3 += sc[i + 3u] * v3;
                                }
                                for (; i < nb; i++) {
                                        uint slot = uint(p0 + int(i)) % p.ring;
                                        a0 += sc[i] * F32Buf(vbase + uint64_t(slot) * vd * 4ul).v[dd];
                                }
                                o[d] = (a0 + a1) + (a2 + a3);
                        }
                }
                barrier();
        }
        if (p.chunk > 0u) {
                uint st = p.head_dim_v + 2u;
                F32Buf pb = F32Buf(p.dst + uint64_t(((t * p.n_head + h) * gl_NumWorkGroups.z + gl_WorkGroupID.z) * st) * 4ul);
                [[unroll]] for (uint d = 0; d < MAX_OUT; d++) {
                        uint dd = lid + d * WG;
                        if (dd < p.head_dim_v)
                                pb.v[dd] = o[d];
                }
                if (lid == 0u) {
                        pb.v[p.head_dim_v] = m;
                        pb.v[p.head_dim_v + 1u] = l;
                }
                return;
        }
        F32Buf ob = F32Buf(p.dst + uint64_t(t * p.n_head * p.head_dim_v + h * p.head_dim_v) * 4ul);
        [[unroll]] for (uint d = 0; d < MAX_OUT; d++) {
                uint dd = lid + d * WG;
                if (dd < p.head_dim_v) {
                        ob.v[dd] = o[d] / l;
                        if (p.q8 != 0ul)
                                q8_lane(p.q8, p.n_head * p.head_dim_v, h * p.head_dim_v + dd, o[d] / l);
                }
        }
}
#endif
