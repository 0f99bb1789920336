/* SPDX-License-Identifier: MIT */
/*
 * The sum of a product split over k (vk_op_matmul): p.k planes of p.nt x p.n partial sums at p.x (row t
 * of plane z at (z * nt + t) * n), added up in f32 into y[t * ldy + r], plus y itself (MM_ACC) and the
 * bias (MM_BIAS). One row element a invocation, one token a workgroup row.
 */
#version 450
#include "include/common.glsl"
#include "include/push.glsl"

layout(local_size_x = 256) in;

layout(push_constant) uniform PC { pc_mm p; };

void main()
{
        uint r = gl_GlobalInvocationID.x, t = gl_WorkGroupID.y;
        if (r >= p.n)
                return;
        F32Buf part = F32Buf(p.x), y = F32Buf(p.y);
        uint plane = p.n * p.nt, i = t * p.n + r, o = t * p.ldy + r;
        float v = 0.0;
        for (uint z = 0; z < p.k; z++)
                v += part.v[z * plane + i];
        if ((p.flags & MM_ACC) != 0u)
                v += y.v[o];
        if ((p.flags & MM_BIAS) != 0u)
                v += F32Buf(p.bias).v[r];
        y.v[o] = v;
}
