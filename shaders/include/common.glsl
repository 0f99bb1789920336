/* SPDX-License-Identifier: MIT */
/*
 * Shared by every kernel. Buffers are reached through buffer device
 * addresses (push constants carry 64-bit pointers), so the host needs no
 * descriptor sets and one pipeline layout fits all kernels.
 */
#extension GL_EXT_buffer_reference : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#extension GL_EXT_control_flow_attributes : enable

layout(buffer_reference, std430, buffer_reference_align = 4) readonly buffer U32Buf { uint v[]; };
layout(buffer_reference, std430, buffer_reference_align = 4) buffer F32Buf { float v[]; };
layout(buffer_reference, std430, buffer_reference_align = 16) buffer F32x4Buf { vec4 v[]; };
layout(buffer_reference, std430, buffer_reference_align = 4) readonly buffer I32Buf { int v[]; };
layout(buffer_reference, std430, buffer_reference_align = 16) readonly buffer U32x4Buf { uvec4 v[]; };
layout(buffer_reference, std430, buffer_reference_align = 8) buffer U32x2Buf { uvec2 v[]; }; /* 4 halves */

/* Weight bytes: ggml blocks are 2-byte aligned at best (18, 22, 34, 210
 * bytes), so bytes are picked out of 32-bit words. */
uint ld8(U32Buf b, uint off)
{
        return (b.v[off >> 2] >> ((off & 3u) * 8u)) & 0xffu;
}

uint ld16(U32Buf b, uint off) /* off even */
{
        return (b.v[off >> 2] >> ((off & 2u) * 8u)) & 0xffffu;
}

uint ld32(U32Buf b, uint off) /* off even: may straddle two words */
{
        uint s = (off & 3u) * 8u;
        uint lo = b.v[off >> 2];
        if (s == 0u)
                return lo;
        return (lo >> s) | (b.v[(off >> 2) + 1u] << (32u - s));
}

float ldf16(U32Buf b, uint off)
{
        return unpackHalf2x16(ld16(b, off)).x;
}

vec4 bytes4(uint q) /* four unsigned bytes */
{
        return vec4(q & 0xffu, (q >> 8) & 0xffu, (q >> 16) & 0xffu, q >> 24);
}

vec4 sbytes4(uint q) /* four signed bytes */
{
        return vec4(bitfieldExtract(int(q), 0, 8), bitfieldExtract(int(q), 8, 8), bitfieldExtract(int(q), 16, 8),
                    bitfieldExtract(int(q), 24, 8));
}
