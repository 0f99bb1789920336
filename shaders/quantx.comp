/* SPDX-License-Identifier: MIT */
/*
 * Float activations to the 8-bit rows of include/q8.glsl, one block of 32
 * per invocation: y + t * ldy <- q8(x + t * ldx), t < nt (pc_mm; ldx in
 * floats, ldy in bytes). For inputs no norm kernel writes (the attention
 * output before the output projection, the FFN activation before down).
 */
#version 450
#include "include/common.glsl"
#include "include/push.glsl"
#include "include/q8.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;

layout(push_constant) uniform PC { pc_mm p; };

void main()
{
        uint b = gl_GlobalInvocationID.x, t = gl_WorkGroupID.y;
        if (b >= p.k / 32u)
                return;
        F32x4Buf x = F32x4Buf(p.x + (uint64_t(t) * p.ldx + uint64_t(b) * 32ul) * 4ul);
        vec4 v[8];
        [[unroll]] for (uint i = 0; i < 8u; i++)
                v[i] = x.v[i];
        q8_store(p.y + uint64_t(t) * p.ldy, p.k, b, v);
}
