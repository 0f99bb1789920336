/* SPDX-License-Identifier: MIT */
/*
 * Float rows to f16 rows, 4 elements an invocation: y + t * ldy <- f16(x +
 * t * ldx), t < nt (pc_mm; ldx in floats, ldy in halves; k, ldx and ldy
 * multiples of 4). The matrix-core prefill kernels multiply f16 operands
 * and take the activations in f16: half the bytes of the larger operand,
 * no conversion in their loops, and for the NV workgroup-scope kernel a
 * plain tensor load instead of a per-element callback. One conversion
 * serves every product that reads the same rows (q, k and v; gate and up).
 */
#version 450
#include "include/common.glsl"
#include "include/push.glsl"

layout(local_size_x = 256) in;

layout(push_constant) uniform PC { pc_mm p; };

void main()
{
        uint i = gl_GlobalInvocationID.x, t = gl_WorkGroupID.y;
        if (i >= p.k / 4u)
                return;
        vec4 v = F32x4Buf(p.x + uint64_t(t) * p.ldx * 4ul).v[i];
        U32x2Buf(p.y + uint64_t(t) * p.ldy * 2ul).v[i] = uvec2(packHalf2x16(v.xy), packHalf2x16(v.zw));
}
