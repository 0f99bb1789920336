/* SPDX-License-Identifier: MIT */
/*
 * The glue between blocks, fused into one pass per row (pc_norm in
 * include/push.glsl): optional post-norm of the block output, the residual
 * add, and the RMSNorm that feeds the next block. Sums of squares are
 * reduced in shared memory in float (the CPU sums in double; the difference
 * is far below the tolerance of the tests).
 */
#version 450
#include "include/common.glsl"
#include "include/push.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;

layout(push_constant) uniform PC { pc_norm p; };

shared float red[WG];

float block_sum(float v)
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
        uint r = gl_WorkGroupID.x, lid = gl_LocalInvocationID.x;
        uint xr = (p.flags & NORM_IDX) != 0u ? uint(I32Buf(p.idx).v[r]) : r;
        F32Buf x = F32Buf(p.x + uint64_t(xr * p.n) * 4ul);

        if ((p.flags & (NORM_T | ADD_T)) != 0u) {
                F32Buf t = F32Buf(p.t + uint64_t(r * p.n) * 4ul);
                float sc = 1.0;
                if ((p.flags & NORM_T) != 0u) {
                        float ss = 0.0;
                        for (uint i = lid; i < p.n; i += WG)
                                ss += t.v[i] * t.v[i];
                        sc = inversesqrt(block_sum(ss) / float(p.n) + p.eps);
                }
                F32Buf wt = F32Buf(p.wt);
                for (uint i = lid; i < p.n; i += WG) {
                        float v = t.v[i];
                        if ((p.flags & NORM_T) != 0u)
                                v = v * sc * wt.v[i];
                        if ((p.flags & ADD_T) != 0u)
                                x.v[i] += v;
                        else
                                t.v[i] = v;
                }
                barrier();
                memoryBarrierBuffer();
        }
        if ((p.flags & NORM_OUT) != 0u) {
                float ss = 0.0;
                for (uint i = lid; i < p.n; i += WG)
                        ss += x.v[i] * x.v[i];
                float sc = inversesqrt(block_sum(ss) / float(p.n) + p.eps);
                F32Buf o = F32Buf(p.dst + uint64_t(r * p.n) * 4ul);
                F32Buf w = F32Buf(p.w);
                for (uint i = lid; i < p.n; i += WG)
                        o.v[i] = (p.flags & NORM_W) != 0u ? x.v[i] * sc * w.v[i] : x.v[i] * sc;
        }
}
