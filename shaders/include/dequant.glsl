/* SPDX-License-Identifier: MIT */
/*
 * dequant4(row, e): elements e..e+3 (e % 4 == 0) of one weight row whose
 * first byte is at byte offset 0 of `row` plus `b0` (rows of odd block
 * counts are only 2-byte aligned). Exact ggml block layouts (engine/quant.h).
 * Four consecutive elements always share one block and one scale, so each
 * call reads the scale once and the quants as one 32-bit load.
 *
 * Compiled once per type: -DTYPE_F32, -DTYPE_Q4_0 …
 */

#if defined(TYPE_F32)
#define BLOCK_SIZE 1
vec4 dequant4(U32Buf w, uint b0, uint e)
{
        uint o = b0 + e * 4u;
        return vec4(uintBitsToFloat(ld32(w, o)), uintBitsToFloat(ld32(w, o + 4u)), uintBitsToFloat(ld32(w, o + 8u)),
                    uintBitsToFloat(ld32(w, o + 12u)));
}
#elif defined(TYPE_F16)
#define BLOCK_SIZE 1
vec4 dequant4(U32Buf w, uint b0, uint e)
{
        uint o = b0 + e * 2u;
        return vec4(unpackHalf2x16(ld32(w, o)), unpackHalf2x16(ld32(w, o + 4u)));
}
#elif defined(TYPE_BF16)
#define BLOCK_SIZE 1
vec4 dequant4(U32Buf w, uint b0, uint e)
{
        uint o = b0 + e * 2u;
        uint a = ld32(w, o), b = ld32(w, o + 4u);
        return vec4(uintBitsToFloat(a << 16), uintBitsToFloat(a & 0xffff0000u), uintBitsToFloat(b << 16),
                    uintBitsToFloat(b & 0xffff0000u));
}
#elif defined(TYPE_Q4_0)
#define BLOCK_SIZE 32
/* Repacked at upload (engine/vulkan/vk-pipeline.c vk_repack): superblocks of
 * 8 ggml blocks, 144 bytes: 8 f16 scales, then the 8 blocks' 16 quant bytes,
 * so every block's quants are one 16-byte aligned load. */
vec4 dequant4(U32Buf w, uint b0, uint e)
{
        uint so = b0 + (e >> 8) * 144u, bl = (e >> 5) & 7u, j = e & 31u;
        uint q = (ld32(w, so + 16u + bl * 16u + (j & 15u)) >> ((j & 16u) != 0u ? 4u : 0u)) & 0x0f0f0f0fu;
        return (bytes4(q) - 8.0) * ldf16(w, so + bl * 2u);
}
#elif defined(TYPE_Q4_1)
#define BLOCK_SIZE 32
vec4 dequant4(U32Buf w, uint b0, uint e)
{
        uint bo = b0 + (e >> 5) * 20u, j = e & 31u;
        uint q = (ld32(w, bo + 4u + (j & 15u)) >> ((j & 16u) != 0u ? 4u : 0u)) & 0x0f0f0f0fu;
        vec2 dm = unpackHalf2x16(ld32(w, bo));
        return bytes4(q) * dm.x + dm.y;
}
#elif defined(TYPE_Q5_0)
#define BLOCK_SIZE 32
vec4 dequant4(U32Buf w, uint b0, uint e)
{
        uint bo = b0 + (e >> 5) * 22u, j = e & 31u;
        uint q = (ld32(w, bo + 6u + (j & 15u)) >> ((j & 16u) != 0u ? 4u : 0u)) & 0x0f0f0f0fu;
        uint hb = ld32(w, bo + 2u) >> j; /* bit e of qh is element e's fifth bit */
        q |= ((hb & 1u) << 4) | ((hb & 2u) << 11) | ((hb & 4u) << 18) | ((hb & 8u) << 25);
        return (bytes4(q) - 16.0) * ldf16(w, bo);
}
#elif defined(TYPE_Q5_1)
#define BLOCK_SIZE 32
vec4 dequant4(U32Buf w, uint b0, uint e)
{
        uint bo = b0 + (e >> 5) * 24u, j = e & 31u;
        uint q = (ld32(w, bo + 8u + (j & 15u)) >> ((j & 16u) != 0u ? 4u : 0u)) & 0x0f0f0f0fu;
        uint hb = ld32(w, bo + 4u) >> j;
        q |= ((hb & 1u) << 4) | ((hb & 2u) << 11) | ((hb & 4u) << 18) | ((hb & 8u) << 25);
        vec2 dm = unpackHalf2x16(ld32(w, bo));
        return bytes4(q) * dm.x + dm.y;
}
#elif defined(TYPE_Q8_0)
#define BLOCK_SIZE 32
/* Repacked at upload: superblocks of 8 blocks, 272 bytes: 8 f16 scales, then 8 x 32 quant bytes. */
vec4 dequant4(U32Buf w, uint b0, uint e)
{
        uint so = b0 + (e >> 8) * 272u, bl = (e >> 5) & 7u, j = e & 31u;
        return sbytes4(ld32(w, so + 16u + bl * 32u + j)) * ldf16(w, so + bl * 2u);
}
#elif defined(TYPE_Q4_K) || defined(TYPE_Q5_K)
#define BLOCK_SIZE 256
/* ggml get_scale_min_k4: 6-bit scale and min of sub-block sb (0..7). */
vec2 scale_min_k4(U32Buf w, uint so, uint sb)
{
        if (sb < 4u)
                return vec2(ld8(w, so + sb) & 63u, ld8(w, so + sb + 4u) & 63u);
        uint a = ld8(w, so + sb + 4u);
        return vec2((a & 0xfu) | ((ld8(w, so + sb - 4u) >> 6) << 4), (a >> 4) | ((ld8(w, so + sb) >> 6) << 4));
}
vec4 dequant4(U32Buf w, uint b0, uint e)
{
#if defined(TYPE_Q4_K)
        const uint bs = 144u, qs = 16u;
#else
        const uint bs = 176u, qs = 48u;
#endif
        uint bo = b0 + (e >> 8) * bs, j = e & 255u;
        uint c = j >> 6, hi = (j >> 5) & 1u, l = j & 31u;
        uint q = (ld32(w, bo + qs + c * 32u + l) >> (hi * 4u)) & 0x0f0f0f0fu;
#if defined(TYPE_Q5_K)
        uint h = (ld32(w, bo + 16u + l) >> (2u * c + hi)) & 0x01010101u;
        q |= h << 4;
#endif
        vec2 dm = unpackHalf2x16(ld32(w, bo));
        vec2 sm = scale_min_k4(w, bo + 4u, 2u * c + hi);
        return bytes4(q) * (dm.x * sm.x) - dm.y * sm.y;
}
#elif defined(TYPE_Q6_K)
#define BLOCK_SIZE 256
vec4 dequant4(U32Buf w, uint b0, uint e)
{
        uint bo = b0 + (e >> 8) * 224u, j = e & 255u; /* blocks padded to 224 bytes at upload */
        uint h = j >> 7, qq = (j >> 5) & 3u, l = j & 31u;
        uint ql = (ld32(w, bo + h * 64u + l + (qq & 1u) * 32u) >> (qq >= 2u ? 4u : 0u)) & 0x0f0f0f0fu;
        uint qh = (ld32(w, bo + 128u + h * 32u + l) >> (2u * qq)) & 0x03030303u;
        float sc = float(bitfieldExtract(int(ld8(w, bo + 192u + h * 8u + (l >> 4) + 2u * qq)), 0, 8));
        return (bytes4(ql | (qh << 4)) - 32.0) * (ldf16(w, bo + 208u) * sc);
}
#else
#error "no TYPE_* defined"
#endif

/* Row r of a weight at address base, row_bytes apart: a 4-aligned pointer and the byte offset of the row's start. */
U32Buf weight_row(uint64_t base, uint r, uint row_bytes, out uint b0)
{
        uint64_t a = base + uint64_t(r) * uint64_t(row_bytes);
        b0 = uint(a & 3ul);
        return U32Buf(a & ~3ul);
}
