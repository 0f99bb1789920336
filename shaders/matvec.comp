/* SPDX-License-Identifier: MIT */
/*
 * Dequantizing matrix-vector product for decode (and small batches):
 * NR rows per workgroup, WG / NR threads per row striding over the row in
 * groups of 4 elements, each weight element read once per step of up to
 * NT_MAX tokens, partial sums reduced in shared memory.
 */
#version 450
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "include/common.glsl"
#include "include/dequant.glsl"
#include "include/push.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 128;
layout(constant_id = 1) const uint NR = 4;
#define NT_MAX 8

layout(push_constant) uniform PC { pc_mm p; };

shared float red[NT_MAX][WG];

void store(uint r, uint t, float v)
{
        if ((p.flags & MM_BIAS) != 0u)
                v += F32Buf(p.bias).v[r];
        F32Buf y = F32Buf(p.y);
        uint yi = t * p.ldy + r;
        if ((p.flags & MM_ACC) != 0u)
                v += y.v[yi];
        y.v[yi] = v;
}

void main()
{
        const uint tpr = WG / NR;
        uint lid = gl_LocalInvocationID.x;
        uint sub = lid / tpr, lane = lid % tpr;
        uint r = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * NR + sub;
        uint rr = min(r, p.n - 1u); /* out-of-range rows compute row n-1 and skip the store */
        uint b0;
        U32Buf w = weight_row(p.w, rr, p.row_bytes, b0);
        uint k4 = p.k / 4u;

        for (uint t0 = 0; t0 < p.nt; t0 += NT_MAX) {
                uint nt = min(p.nt - t0, uint(NT_MAX));
                float acc[NT_MAX];
                [[unroll]] for (uint t = 0; t < NT_MAX; t++)
                        acc[t] = 0.0;
                /* Four independent weight loads in flight per thread. */
                for (uint i0 = lane; i0 < k4; i0 += 4u * tpr) {
                        vec4 wv[4];
                        [[unroll]] for (uint u = 0; u < 4u; u++) {
                                uint i = i0 + u * tpr;
                                wv[u] = i < k4 ? dequant4(w, b0, i * 4u) : vec4(0.0);
                        }
                        [[unroll]] for (uint t = 0; t < NT_MAX; t++) {
                                if (t < nt) {
                                        F32x4Buf xb = F32x4Buf(p.x + uint64_t((t0 + t) * p.ldx) * 4ul);
                                        [[unroll]] for (uint u = 0; u < 4u; u++) {
                                                uint i = min(i0 + u * tpr, k4 - 1u);
                                                acc[t] += dot(wv[u], xb.v[i]);
                                        }
                                }
                        }
                }
                if (gl_SubgroupSize == tpr) {
                        /* A row is one subgroup (NVIDIA: 32): no shared memory, no barriers. */
                        [[unroll]] for (uint t = 0; t < NT_MAX; t++)
                                if (t < nt)
                                        acc[t] = subgroupAdd(acc[t]);
                        if (lane < nt && r < p.n) {
                                float v = acc[0];
                                [[unroll]] for (uint t = 1; t < NT_MAX; t++)
                                        if (lane == t)
                                                v = acc[t];
                                store(r, t0 + lane, v);
                        }
                        continue;
                }
                [[unroll]] for (uint t = 0; t < NT_MAX; t++)
                        if (t < nt)
                                red[t][lid] = acc[t];
                barrier();
                for (uint s = tpr / 2u; s > 0u; s >>= 1) {
                        if (lane < s)
                                [[unroll]] for (uint t = 0; t < NT_MAX; t++)
                                        if (t < nt)
                                                red[t][lid] += red[t][lid + s];
                        barrier();
                }
                if (lane < nt && r < p.n)
                        store(r, t0 + lane, red[lane][sub * tpr]);
                barrier();
        }
}
