/* SPDX-License-Identifier: MIT */
/* Embedding lookup: one workgroup per token dequantizes its row (times scale). */
#version 450
#include "include/common.glsl"
#include "include/dequant.glsl"
#include "include/push.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 128;

layout(push_constant) uniform PC { pc_mm p; };

void main()
{
        uint t = gl_WorkGroupID.x;
        uint row = uint(I32Buf(p.x).v[t]);
        uint b0;
        U32Buf w = weight_row(p.w, row, p.row_bytes, b0);
        F32x4Buf y = F32x4Buf(p.y + uint64_t(t * p.ldy) * 4ul);

        for (uint i = gl_LocalInvocationID.x; i < p.k / 4u; i += WG)
                y.v[i] = dequant4(w, b0, i * 4u) * p.scale;
}
