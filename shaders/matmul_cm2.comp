/* SPDX-License-Identifier: MIT */
/*
 * Tiled matrix product on NVIDIA's workgroup-scope cooperative matrices
 * (GL_NV_cooperative_matrix2), for prefill; same contract as matmul.comp
 * (pc_mm), except that x holds the activations as f16 (ldx in halves, from
 * cvt16.comp). The workgroup multiplies BM = 128 weight rows by BN tokens
 * as one matrix and the driver tiles it over the subgroups and stages the
 * operands. Weights are decoded to f16 by a callback per element of a
 * weight block (decode_w: the layouts of include/dequant.glsl, one element
 * at a time); activations load as they are; sums are f32, or f16 where
 * ACC16 is defined (matmul_cm2h_*: half the accumulator registers, so that
 * a tile of 256 tokens fits; llama.cpp's default for this kind of kernel).
 * Tiles at the edges take clamped loads (zeros past the edges), but for the last token tile where the
 * caller padded the activations (MM_XPAD).
 *
 * Used for F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K and Q6_K
 * (vk-pipeline.c), where it beats the KHR kernel
 * (matmul_cm.comp) on the H200: Qwen2.5 7B Q4_0 pp512 6,887 -> 8,718 t/s,
 * Q4_K mix 6,029 -> 7,817.
 * What made it fast (it was 2.5x slower than the KHR kernel): f16
 * activations loaded without a callback, and unclamped loads unrolled over
 * 256 columns for whole tiles, as llama.cpp's kernel of this kind does.
 */
#version 450
#extension GL_KHR_cooperative_matrix : require
#extension GL_NV_cooperative_matrix2 : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_EXT_shader_explicit_arithmetic_types_int16 : require
#include "include/common.glsl"
#include "include/dequant.glsl"
#include "include/push.glsl"

layout(local_size_x = 256) in;
layout(constant_id = 0) const uint BN = 256; /* tokens per workgroup */
layout(constant_id = 1) const uint BK = 64;  /* columns a product: 32 or 64 */
/* Q4_K, Q5_K, Q6_K: the next superblock's block headers are loaded before the current one's products (as
 * llama.cpp's fetch_scales/store_scales do), not after the barrier that frees the staged scales, so
 * that the workgroup does not wait for those loads with its matrix units idle once per 256 columns.
 * Slower on the H200 (0.8-1.3% on Q4_K, docs/vulkan.md), so off; UNICORN_VK_CM2_PIPE=1 turns it on. */
layout(constant_id = 2) const bool PIPE_HEAD = false;
/* Q4_0, Q5_0, Q8_0: the per-element decode in f16 arithmetic (llama.cpp's form). Bit-identical to the
 * f32 form rounded: (q - z) has at most 8 significant bits and the scale 11, so their f32 product is
 * exact and either way it is rounded to f16 once (unless the device flushes f16 denormals, which only
 * products under 6.1e-5 in size are). Slower on the H200 (up to 8%), so off; UNICORN_VK_CM2_DEC16=1. */
layout(constant_id = 3) const bool DEC16 = false;
/* Q4_K, Q5_K, Q6_K: each quant from its 16-bit word with one shift and one mask (kquant_at, q6_at), as
 * llama.cpp's decode takes it, rather than a byte's shift and mask and then the field's. H100, 512 tokens
 * (run178.sh): narrow tile Q4_K 4096 x 14336 369-371 -> 355-357 us, Q6_K 462-465 -> 402-404; the wide
 * tile's Q4_K 14336 x 4096 315-321 -> 426, so the wide pipelines take the byte form (vk-pipeline.c). */
layout(constant_id = 5) const bool KWORD = true;

#define BM 128u
/* Whole tiles (k a multiple of BK) take unclamped loads, UNROLL_K columns (every block size divides
 * it) a loop pass, so that the driver can overlap one product's loads with another's products; the
 * columns past the last multiple of UNROLL_K one product a pass. Clamped loads without the unrolling
 * ran 2.5-5x slower on the H200. */
#if defined(TYPE_Q4_K) || defined(TYPE_Q5_K) || defined(TYPE_Q6_K)
#define STAGED_SCALES
#define UNROLL_K 256u /* one superblock a pass: its scales are staged per pass */
#else
/* 256, or 512 as llama.cpp's kernel of this kind unrolls blocks of 32 (8 x its BK of 64;
 * UNICORN_VK_CM2_UNROLL=512, not measured yet). */
layout(constant_id = 4) const uint UNROLL_K = 256;
#endif

/* Bytes of one weight block as the decode callback sees it: ggml's blocks, Unicorn's repacked
 * superblocks of 8 (Q4_0, Q8_0) and its 224-byte Q6_K blocks (vk_row_bytes). */
#if defined(TYPE_F32)
#define WBLOCK_BYTES 4
#elif defined(TYPE_F16) || defined(TYPE_BF16)
#define WBLOCK_BYTES 2
#elif defined(TYPE_Q4_0) || defined(TYPE_Q4_K)
#define WBLOCK_BYTES 144
#elif defined(TYPE_Q8_0)
#define WBLOCK_BYTES 272
#elif defined(TYPE_Q4_1)
#define WBLOCK_BYTES 20
#elif defined(TYPE_Q5_0)
#define WBLOCK_BYTES 22
#elif defined(TYPE_Q5_1)
#define WBLOCK_BYTES 24
#elif defined(TYPE_Q5_K)
#define WBLOCK_BYTES 176
#elif defined(TYPE_Q6_K)
#define WBLOCK_BYTES 224
#endif
/* Elements a block holds along the row: Q4_0 and Q8_0 are decoded per repacked superblock. */
#if defined(TYPE_Q4_0) || defined(TYPE_Q8_0)
#define WBLOCK_K 256u
#else
#define WBLOCK_K BLOCK_SIZE
#endif

#ifdef ACC16
#define ACC_T float16_t
#else
#define ACC_T float
#endif

layout(push_constant) uniform PC { pc_mm p; };

#if defined(WORD_DECODE) && (defined(TYPE_Q4_0) || defined(TYPE_Q8_0))
/* matmul_cm2hw_q4_0, _q8_0: Unicorn's repacked superblocks (144 and 272 bytes) start 16-byte aligned
 * (rows of whole superblocks, vk_row_bytes), so an element's quant and scale come from one aligned
 * word each: one 32-bit load and one bit-field extract for the quant where the 16-bit form takes a
 * load, a shift, a mask and a sign extension (Q4_0 by default; UNICORN_VK_CM2_WORD picks, vk.h). */
layout(buffer_reference, std430, buffer_reference_align = 4) readonly buffer WBlock { uint w[WBLOCK_BYTES / 4]; };
#else
#undef WORD_DECODE
layout(buffer_reference, std430, buffer_reference_align = 2) readonly buffer WBlock { uint16_t h[WBLOCK_BYTES / 2]; };
#endif
layout(buffer_reference, std430, buffer_reference_align = 2) readonly buffer WHalves { uint16_t h[]; };
layout(buffer_reference, std430, buffer_reference_align = 2) readonly buffer XHalves { float16_t h[]; };

#ifdef WORD_DECODE
/* Scale bl of the superblock's 8 (the halves of words 0-3). */
float w_scale(const in WBlock b, uint bl)
{
        return unpackHalf2x16(b.w[bl >> 1])[bl & 1u];
}
#else
uint byte_at(const in WBlock b, uint i)
{
        return (uint(b.h[i >> 1]) >> ((i & 1u) * 8u)) & 0xffu;
}

float f16_at(const in WBlock b, uint i) /* i: index of the half */
{
        return float(uint16BitsToHalf(b.h[i]));
}
#endif

/* The K-quants' fields: with KWORD from the 16-bit word that holds their byte, one shift and one mask
 * (every byte offset below is even but for l's parity, hence (l & 1) * 8); else byte_at's shift and mask
 * and then the field's. */
#if defined(TYPE_Q4_K) || defined(TYPE_Q5_K)
/* The unsigned quant of element e of a Q4_K / Q5_K block (before its sub-block's scale and min). */
uint kquant_at(const in WBlock b, uint e)
{
        uint sb = e >> 5, c = e >> 6, hi = sb & 1u, l = e & 31u, lo = (l & 1u) * 8u;
#if defined(TYPE_Q4_K)
        if (KWORD)
                return (uint(b.h[8u + c * 16u + (l >> 1)]) >> (lo + hi * 4u)) & 15u; /* byte 16 + 32 c + l */
        return (byte_at(b, 16u + c * 32u + l) >> (hi * 4u)) & 15u;
#else
        if (KWORD)
                return ((uint(b.h[24u + c * 16u + (l >> 1)]) >> (lo + hi * 4u)) & 15u) | /* byte 48 + 32 c + l */
                       (((uint(b.h[8u + (l >> 1)]) >> (lo + sb)) & 1u) << 4);          /* byte 16 + l */
        return ((byte_at(b, 48u + c * 32u + l) >> (hi * 4u)) & 15u) | (((byte_at(b, 16u + l) >> sb) & 1u) << 4);
#endif
}
#endif

#if defined(TYPE_Q6_K)
/* The unsigned 6-bit quant of element e of a (224-byte) Q6_K block, and the index of its scale. */
uint q6_at(const in WBlock b, uint e)
{
        uint h = e >> 7, qq = (e >> 5) & 3u, l = e & 31u, lo = (l & 1u) * 8u, ql, qh;
        if (KWORD) {
                /* bytes 64 h + 32 (qq & 1) + l and 128 + 32 h + l */
                ql = (uint(b.h[h * 32u + (qq & 1u) * 16u + (l >> 1)]) >> (lo + (qq >> 1) * 4u)) & 15u;
                qh = (uint(b.h[64u + h * 16u + (l >> 1)]) >> (lo + 2u * qq)) & 3u;
        } else {
                ql = (byte_at(b, h * 64u + l + (qq & 1u) * 32u) >> (qq >= 2u ? 4u : 0u)) & 15u;
                qh = (byte_at(b, 128u + h * 32u + l) >> (2u * qq)) & 3u;
        }
        return ql | (qh << 4);
}

uint q6_scale(uint e)
{
        return (e >> 7) * 8u + ((e & 31u) >> 4) + 2u * ((e >> 5) & 3u);
}
#endif

/* Element coordInBlock[1] of a weight block, the layouts of include/dequant.glsl one element at a
 * time: the driver calls this for every element it stages, so it reads only what that element needs. */
float16_t decode_w(const in WBlock b, const in uint blockCoords[2], const in uint coordInBlock[2])
{
        uint e = coordInBlock[1];
#if defined(TYPE_F32)
        return float16_t(uintBitsToFloat(uint(b.h[0]) | (uint(b.h[1]) << 16)));
#elif defined(TYPE_F16)
        return uint16BitsToHalf(b.h[0]);
#elif defined(TYPE_BF16)
        return float16_t(uintBitsToFloat(uint(b.h[0]) << 16));
#elif defined(TYPE_Q4_0) && defined(WORD_DECODE)
        /* Byte 16 + 16 bl + (j & 15) of the superblock, low nibble for j < 16. */
        uint bl = e >> 5, j = e & 31u;
        uint q = (b.w[4u + bl * 4u + ((j & 15u) >> 2)] >> ((j & 3u) * 8u + (j >> 4) * 4u)) & 15u;
        return float16_t((float(q) - 8.0) * w_scale(b, bl));
#elif defined(TYPE_Q8_0) && defined(WORD_DECODE)
        /* Byte 16 + e of the superblock. */
        int q = bitfieldExtract(int(b.w[4u + (e >> 2)]), int((e & 3u) * 8u), 8);
        return float16_t(float(q) * w_scale(b, e >> 5));
#elif defined(TYPE_Q4_0)
        uint bl = e >> 5, j = e & 31u;
        uint q = (byte_at(b, 16u + bl * 16u + (j & 15u)) >> (j >> 4 << 2)) & 15u;
        if (DEC16)
                return float16_t(int(q) - 8) * uint16BitsToHalf(b.h[bl]);
        return float16_t((float(q) - 8.0) * f16_at(b, bl));
#elif defined(TYPE_Q8_0)
        uint bl = e >> 5;
        int q = bitfieldExtract(int(byte_at(b, 16u + bl * 32u + (e & 31u))), 0, 8);
        if (DEC16)
                return float16_t(q) * uint16BitsToHalf(b.h[bl]);
        return float16_t(float(q) * f16_at(b, bl));
#elif defined(TYPE_Q4_1)
        uint q = (byte_at(b, 4u + (e & 15u)) >> (e >> 4 << 2)) & 15u;
        return float16_t(float(q) * f16_at(b, 0) + f16_at(b, 1));
#elif defined(TYPE_Q5_0) || defined(TYPE_Q5_1)
#if defined(TYPE_Q5_0)
        const uint qh0 = 1u, qs0 = 6u;
#else
        const uint qh0 = 2u, qs0 = 8u;
#endif
        uint qh = uint(b.h[qh0 + (e >> 4)]) >> (e & 15u);
        uint q = ((byte_at(b, qs0 + (e & 15u)) >> (e >> 4 << 2)) & 15u) | ((qh & 1u) << 4);
#if defined(TYPE_Q5_0)
        if (DEC16)
                return float16_t(int(q) - 16) * uint16BitsToHalf(b.h[0]);
        return float16_t((float(q) - 16.0) * f16_at(b, 0));
#else
        return float16_t(float(q) * f16_at(b, 0) + f16_at(b, 1));
#endif
#elif defined(TYPE_Q4_K) || defined(TYPE_Q5_K)
        uint sb = e >> 5;
        uint sc, m; /* ggml get_scale_min_k4 */
        if (sb < 4u) {
                sc = byte_at(b, 4u + sb) & 63u;
                m = byte_at(b, 8u + sb) & 63u;
        } else {
                uint a = byte_at(b, 8u + sb);
                sc = (a & 15u) | ((byte_at(b, sb) >> 6) << 4);
                m = (a >> 4) | ((byte_at(b, 4u + sb) >> 6) << 4);
        }
        return float16_t(float(kquant_at(b, e)) * (f16_at(b, 0) * float(sc)) - f16_at(b, 1) * float(m));
#elif defined(TYPE_Q6_K)
        int sc = bitfieldExtract(int(byte_at(b, 192u + q6_scale(e))), 0, 8);
        return float16_t((float(q6_at(b, e)) - 32.0) * (f16_at(b, 104) * float(sc)));
#endif
}

#if defined(TYPE_Q4_K) || defined(TYPE_Q5_K)
/* Whole tiles: the 6-bit scales and mins of the tile's rows in the current superblock, combined with d
 * and dmin once per 256 columns into shared memory (as llama.cpp does), instead of per element as
 * decode_w does. */
#define DECODE_WHOLE decode_w_staged
const uint KS_LD = BM + 2u;
shared vec2 ksc[8u * KS_LD];

/* The 16-byte header (d, dmin, 12 bytes of 6-bit scales and mins) of superblock kb of this
 * invocation's row of r0..r0 + BM - 1 (2 invocations a row). */
uvec4 fetch_head(uint r0, uint kb)
{
        uint b0;
        U32Buf w = weight_row(p.w, r0 + (gl_LocalInvocationID.x >> 1), p.row_bytes, b0);
        uint bo = b0 + kb * WBLOCK_BYTES;
        return uvec4(ld32(w, bo), ld32(w, bo + 4u), ld32(w, bo + 8u), ld32(w, bo + 12u));
}

/* Its scales and mins times d and dmin into ksc, 4 sub-blocks an invocation (ggml get_scale_min_k4
 * on the header's words: scale bytes 0-3 in h.y, 4-7 in h.z, 8-11 in h.w). */
void store_head(uvec4 h)
{
        uint row = gl_LocalInvocationID.x >> 1, s0 = (gl_LocalInvocationID.x & 1u) * 4u;
        vec2 dm = unpackHalf2x16(h.x);
        barrier(); /* the previous superblock's products are done with ksc */
        [[unroll]] for (uint i = 0; i < 4u; i++) {
                uint j = 8u * i, sc, m;
                if (s0 == 0u) {
                        sc = (h.y >> j) & 63u;
                        m = (h.z >> j) & 63u;
                } else {
                        sc = ((h.w >> j) & 15u) | (((h.y >> j) >> 6 & 3u) << 4);
                        m = ((h.w >> j) >> 4 & 15u) | (((h.z >> j) >> 6 & 3u) << 4);
                }
                ksc[(s0 + i) * KS_LD + row] = vec2(dm.x * float(sc), dm.y * float(m));
        }
        barrier();
}

float16_t decode_w_staged(const in WBlock b, const in uint blockCoords[2], const in uint coordInBlock[2])
{
        uint e = coordInBlock[1];
        vec2 dm = ksc[(e >> 5) * KS_LD + blockCoords[0] % BM];
        return float16_t(float(kquant_at(b, e)) * dm.x - dm.y);
}
#elif defined(TYPE_Q6_K)
/* Q6_K the same way: its 16 signed 8-bit scales times d, 8 an invocation. Its per-element decode
 * reads a scale byte and d for every element. Same products in the same order as decode_w, so
 * bit-identical to it. */
#define DECODE_WHOLE decode_w_staged
const uint KS_LD = BM + 2u;
shared float ksc[16u * KS_LD];

/* This invocation's 8 scale bytes of superblock kb (h.x, h.y) and the word holding d (h.z). */
uvec4 fetch_head(uint r0, uint kb)
{
        uint b0;
        U32Buf w = weight_row(p.w, r0 + (gl_LocalInvocationID.x >> 1), p.row_bytes, b0);
        uint bo = b0 + kb * WBLOCK_BYTES;
        uint so = bo + 192u + (gl_LocalInvocationID.x & 1u) * 8u;
        return uvec4(ld32(w, so), ld32(w, so + 4u), ld32(w, bo + 208u), 0u);
}

void store_head(uvec4 h)
{
        uint row = gl_LocalInvocationID.x >> 1, s0 = (gl_LocalInvocationID.x & 1u) * 8u;
        float d = unpackHalf2x16(h.z).x;
        barrier(); /* the previous superblock's products are done with ksc */
        [[unroll]] for (uint i = 0; i < 8u; i++) {
                int sc = bitfieldExtract(int(i < 4u ? h.x : h.y), int(8u * (i & 3u)), 8);
                ksc[(s0 + i) * KS_LD + row] = d * float(sc);
        }
        barrier();
}

float16_t decode_w_staged(const in WBlock b, const in uint blockCoords[2], const in uint coordInBlock[2])
{
        uint e = coordInBlock[1];
        return float16_t((float(q6_at(b, e)) - 32.0) * ksc[q6_scale(e) * KS_LD + blockCoords[0] % BM]);
}
#else
#define DECODE_WHOLE decode_w
#endif

float add_bias(const in uint r, const in uint c, const in float v, const in uint64_t bias, const in uint r0)
{
        return v + F32Buf(bias).v[r0 + r];
}

#ifdef ACC16
/* The residual add (MM_ACC) in f32 after the f16 sums, so that the residual stream keeps its precision:
 * y's element of weight row r0 + r and token t0 + c, where it exists. */
float add_y(const in uint r, const in uint c, const in float v, const in uint r0, const in uint t0)
{
        if (r0 + r >= p.n || t0 + c >= p.nt)
                return v;
        return v + F32Buf(p.y).v[(t0 + c) * p.ldy + r0 + r];
}
#endif

void main()
{
        uint r0 = gl_WorkGroupID.x * BM, t0 = gl_WorkGroupID.y * BN;

        tensorLayoutNV<2, gl_CooperativeMatrixClampModeConstantNV> lw =
                createTensorLayoutNV(2, gl_CooperativeMatrixClampModeConstantNV);
        lw = setTensorLayoutBlockSizeNV(lw, 1, WBLOCK_K);
        lw = setTensorLayoutDimensionNV(lw, p.n, p.k);
        lw = setTensorLayoutStrideNV(lw, p.row_bytes / WBLOCK_BYTES, 1);

        tensorLayoutNV<2, gl_CooperativeMatrixClampModeConstantNV> lx =
                createTensorLayoutNV(2, gl_CooperativeMatrixClampModeConstantNV);
        lx = setTensorLayoutDimensionNV(lx, p.nt, p.k);
        lx = setTensorLayoutStrideNV(lx, p.ldx, 1);

        tensorLayoutNV<2, gl_CooperativeMatrixClampModeConstantNV> ly =
                createTensorLayoutNV(2, gl_CooperativeMatrixClampModeConstantNV);
        ly = setTensorLayoutDimensionNV(ly, p.nt, p.n);
        ly = setTensorLayoutStrideNV(ly, p.ldy, 1);

        tensorViewNV<2, false, 1, 0> tr = createTensorViewNV(2, false, 1, 0);

        F32Buf y = F32Buf(p.y);
        coopmat<ACC_T, gl_ScopeWorkgroup, BM, BN, gl_MatrixUseAccumulator> acc;
#ifndef ACC16
        if ((p.flags & MM_ACC) != 0u)
                coopMatLoadTensorNV(acc, y.v, 0, sliceTensorLayoutNV(ly, t0, BN, r0, BM), tr);
        else
#endif
                acc = coopmat<ACC_T, gl_ScopeWorkgroup, BM, BN, gl_MatrixUseAccumulator>(ACC_T(0.0));

        WHalves w = WHalves(p.w);
        XHalves x = XHalves(p.x);
        /* The last token tile of a batch that is not a multiple of BN (most prompts) is a whole one where
         * the activations' rows past nt can be read (MM_XPAD): their sums go to outputs that are not
         * stored. With every load clamped and no unrolling, as the loop below does, products with such
         * a tile ran 3-7x slower on the H100 (Q4_K 14336 x 4096 at 300 tokens 970 us against 315; Llama
         * 3 8B Q4_K mix pp100 642 t/s against 3,671; run183.sh). A second copy of the unrolled loop with
         * only the activations' loads clamped was 4-30% slower than this on such products, and made
         * whole tiles slower too (the 8B's pp512 by 15%; run182.sh). */
        bool xpad = (p.flags & MM_XPAD) != 0u;
        if (r0 + BM <= p.n && (t0 + BN <= p.nt || xpad) && p.k % BK == 0u && p.ldx % 8u == 0u) {
                tensorLayoutNV<2> uw = createTensorLayoutNV(2);
                uw = setTensorLayoutBlockSizeNV(uw, 1, WBLOCK_K);
                uw = setTensorLayoutDimensionNV(uw, p.n, p.k);
                uw = setTensorLayoutStrideNV(uw, p.row_bytes / WBLOCK_BYTES, 1);
                tensorLayoutNV<2> ux = createTensorLayoutNV(2);
                ux = setTensorLayoutDimensionNV(ux, xpad ? (p.nt + BN - 1u) / BN * BN : p.nt, p.k);
                /* 16-byte aligned rows, as the compiler can see. */
                ux = setTensorLayoutStrideNV(ux, p.ldx & ~7u, 1);
#ifdef TYPE_F16
                /* f16 weights load as the activations do: one tensor load, not a decode callback per
                 * element (H100: 168-190 TFLOP/s on the Gemma 3 4B and 27B FFN shapes, docs/vulkan.md). */
                XHalves wf = XHalves(p.w);
                tensorLayoutNV<2> uwf = createTensorLayoutNV(2);
                uwf = setTensorLayoutDimensionNV(uwf, p.n, p.k);
                uwf = setTensorLayoutStrideNV(uwf, (p.row_bytes / 2u) & ~7u, 1);
#endif
                uint k0 = 0, ku = p.k - p.k % UNROLL_K;
#ifdef STAGED_SCALES
                uvec4 head = PIPE_HEAD && ku > 0u ? fetch_head(r0, 0) : uvec4(0);
#endif
                for (; k0 < ku; k0 += UNROLL_K) {
#ifdef STAGED_SCALES
                        if (!PIPE_HEAD)
                                head = fetch_head(r0, k0 / UNROLL_K);
                        store_head(head);
                        if (PIPE_HEAD && k0 + UNROLL_K < ku)
                                head = fetch_head(r0, k0 / UNROLL_K + 1u);
#endif
                        [[unroll]] for (uint j = 0; j < UNROLL_K / BK; j++) {
                                coopmat<float16_t, gl_ScopeWorkgroup, BM, BK, gl_MatrixUseA> a;
                                coopmat<float16_t, gl_ScopeWorkgroup, BK, BN, gl_MatrixUseB> b;
#ifdef TYPE_F16
                                coopMatLoadTensorNV(a, wf.h, 0, sliceTensorLayoutNV(uwf, r0, BM, k0 + j * BK, BK));
#else
                                coopMatLoadTensorNV(a, w.h, 0, sliceTensorLayoutNV(uw, r0, BM, k0 + j * BK, BK),
                                                    DECODE_WHOLE);
#endif
                                coopMatLoadTensorNV(b, x.h, 0, sliceTensorLayoutNV(ux, t0, BN, k0 + j * BK, BK), tr);
                                acc = coopMatMulAdd(a, b, acc);
                        }
                }
                /* Only types of blocks under UNROLL_K columns get here (k % UNROLL_K != 0). */
                for (; k0 < p.k; k0 += BK) {
                        coopmat<float16_t, gl_ScopeWorkgroup, BM, BK, gl_MatrixUseA> a;
                        coopmat<float16_t, gl_ScopeWorkgroup, BK, BN, gl_MatrixUseB> b;
                        coopMatLoadTensorNV(a, w.h, 0, sliceTensorLayoutNV(uw, r0, BM, k0, BK), decode_w);
                        coopMatLoadTensorNV(b, x.h, 0, sliceTensorLayoutNV(ux, t0, BN, k0, BK), tr);
                        acc = coopMatMulAdd(a, b, acc);
                }
        } else
        for (uint k0 = 0; k0 < p.k; k0 += BK) {
                coopmat<float16_t, gl_ScopeWorkgroup, BM, BK, gl_MatrixUseA> a;
                coopmat<float16_t, gl_ScopeWorkgroup, BK, BN, gl_MatrixUseB> b;
                coopMatLoadTensorNV(a, w.h, 0, sliceTensorLayoutNV(lw, r0, BM, k0, BK), decode_w);
                coopMatLoadTensorNV(b, x.h, 0, sliceTensorLayoutNV(lx, t0, BN, k0, BK), tr);
                acc = coopMatMulAdd(a, b, acc);
        }
#ifdef ACC16
        /* A sum past the f16 range is clamped to it rather than left infinite (as llama.cpp does):
         * an inf would turn into NaNs in the next norm. */
        [[unroll]] for (uint i = 0; i < acc.length(); i++)
                acc[i] = clamp(acc[i], float16_t(-65504.0), float16_t(65504.0));
        coopmat<float, gl_ScopeWorkgroup, BM, BN, gl_MatrixUseAccumulator> res =
                coopmat<float, gl_ScopeWorkgroup, BM, BN, gl_MatrixUseAccumulator>(acc);
        if ((p.flags & MM_ACC) != 0u)
                coopMatPerElementNV(res, res, add_y, r0, t0);
#else
#define res acc
#endif
        if ((p.flags & MM_BIAS) != 0u)
                coopMatPerElementNV(res, res, add_bias, p.bias, r0);
        coopMatStoreTensorNV(res, y.v, 0, sliceTensorLayoutNV(ly, t0, BN, r0, BM), tr);
}
