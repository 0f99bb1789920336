/* SPDX-License-Identifier: MIT */
/*
 * Tiled matrix product on cooperative matrices (GL_KHR_cooperative_matrix),
 * for prefill; same contract as matmul.comp (pc_mm), except that x holds
 * the activations as f16 (ldx in halves, from cvt16.comp). A workgroup
 * computes BM weight rows x BN tokens; its subgroups (of SG lanes: 32 where
 * the device can run them so, which the host requires, else its fixed size)
 * each own WM rows x WN tokens, as (WM / MS) x (WN / MS) MSxMSxMS products
 * accumulated in f32 (MS 16, or 8 where the device has only those, as
 * lavapipe does). All these sizes are specialization constants (the host
 * picks them per device and batch width, see vk-pipeline.c), and the
 * workgroup size follows from them.
 *
 * For every BK columns the weight tile is dequantized once into shared
 * memory as f16 and the activation tile copied, f16 as it comes, which is
 * what llama.cpp's coopmat path multiplies too: each operand rounded to 11
 * bits. Activations in f16 halve the bytes of the larger operand and keep
 * their conversion out of this loop. A version that took either form,
 * chosen at run time, ran at 60-70% of this one's speed on the H200.
 * The next tile's weights and activations are loaded from global memory
 * into registers before the current tile is multiplied, so global latency
 * overlaps the products. With two tiles in shared memory (NBUF = 2) they
 * are stored into the other one right after, and one barrier per BK
 * columns is enough; with one, a second barrier waits for the products.
 */
#version 450
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_shader_subgroup_basic : require
#include "include/common.glsl"
#include "include/dequant.glsl"
#include "include/push.glsl"

layout(local_size_x_id = 5) in;
layout(constant_id = 0) const uint BN = 128; /* tokens per workgroup */
layout(constant_id = 1) const uint BM = 128; /* weight rows per workgroup */
layout(constant_id = 2) const uint WM = 64;  /* rows per subgroup */
layout(constant_id = 3) const uint WN = 64;  /* tokens per subgroup */
layout(constant_id = 4) const uint BK = 32;  /* columns per step: 32 or 64 */
layout(constant_id = 6) const uint NBUF = 2; /* tiles in shared memory: 2, or 1 with two barriers a step */
layout(constant_id = 7) const uint MS = 16;  /* the matrices' M = N = K: 16 or 8 */
layout(constant_id = 8) const uint SG = 32;  /* lanes a subgroup, MS * MS / SG a whole number */

const uint NT = gl_WorkGroupSize.x; /* (BM / WM) x (BN / WN) x SG */
const uint KV = BK / 4u;            /* vec4 across one tile row */
/* Shared rows in f16vec4 units: 2 more than KV keeps every row 16-byte aligned (coopMatLoad) and
 * puts 8 consecutive rows (one 8x8 load phase) in 8 different 16-byte bank groups. */
const uint LDS = KV + 2u;
const uint AV = BM * KV / NT;       /* weight vec4 per invocation per step */
const uint BV = BN * KV / NT;       /* activation vec4 per invocation per step */
const uint RSTEP = NT / KV;         /* tokens between an invocation's activation vec4 */
/* Weights: each invocation decodes CA consecutive vec4 of a row (up to 32 columns, one block of the
 * 32-wide types), TPR invocations a row, in APASS passes ARS rows apart (the host keeps AV a power of
 * two so that these divide). */
const uint CA = AV < 8u ? AV : 8u;
const uint TPR = KV / CA;
const uint ARS = NT / TPR;
const uint APASS = AV / CA;
const uint SGM = BM / WM;           /* subgroups down the rows */
const uint FM = WM / MS, FN = WN / MS;
const uint CS = MS * MS / 2u; /* one result tile in f16vec4 (f32 pairs) */

layout(push_constant) uniform PC { pc_mm p; };

/* The weight tiles, then the activation tiles, in one array so that after the last product the
 * results can go through any part of it: MS x MS f32 (CS f16vec4) per subgroup, which the host checks. */
shared f16vec4 S[NBUF * (BM + BN) * LDS];
const uint BS0 = NBUF * BM * LDS; /* where the activation tiles start */

void main()
{
        uint lid = gl_LocalInvocationID.x, sg = lid / SG, lane = lid % SG;
        uint r0 = gl_WorkGroupID.x * BM, t0 = gl_WorkGroupID.y * BN;
        /* Activations: invocation lid takes vec4 column lc of tokens lr, lr + RSTEP, ..., so KV
         * neighbouring invocations read one contiguous stretch of a token's row. */
        uint lc = lid % KV, lr = lid / KV;
        uint alc = (lid % TPR) * CA, alr = lid / TPR;

        uint wm = sg % SGM, wn = sg / SGM;
        coopmat<float, gl_ScopeSubgroup, MS, MS, gl_MatrixUseAccumulator> acc[FM * FN];
        [[unroll]] for (uint i = 0; i < FM * FN; i++)
                acc[i] = coopmat<float, gl_ScopeSubgroup, MS, MS, gl_MatrixUseAccumulator>(0.0);

        f16vec4 wv[AV], xv[BV];
        uint kb = 0, cur = 0;
#if defined(TYPE_Q4_K) || defined(TYPE_Q5_K)
        /* CA x 4 columns of one 32-column sub-block (CA <= 8, the run aligned to its length): its
         * scale and min decoded once, not per 4 columns as dequant4 does; k is a multiple of 256. */
#if defined(TYPE_Q4_K)
        const uint KBS = 144u, KQS = 16u;
#else
        const uint KBS = 176u, KQS = 48u;
#endif
#define DECODE_RUN(w_, b0_, e_, j)                                                                       \
        {                                                                                                \
                uint bo_ = b0_ + (e_ >> 8) * KBS, jj_ = e_ & 255u, hi_ = (jj_ >> 5) & 1u;                \
                vec2 dm_ = unpackHalf2x16(ld32(w_, bo_));                                                \
                vec2 sm_ = scale_min_k4(w_, bo_ + 4u, jj_ >> 5);                                         \
                float d_ = dm_.x * sm_.x, m_ = dm_.y * sm_.y;                                            \
                uint qo_ = bo_ + KQS + (jj_ >> 6) * 32u + (jj_ & 31u);                                   \
                [[unroll]] for (uint c = 0; c < CA; c++) {                                               \
                        uint q_ = (ld32(w_, qo_ + c * 4u) >> (hi_ * 4u)) & 0x0f0f0f0fu;                  \
                        DECODE_HIGH_BIT(q_, w_, bo_, jj_, hi_, c);                                            \
                        wv[(j) * CA + c] = e_ < p.k ? f16vec4(bytes4(q_) * d_ - m_) : f16vec4(0.0);      \
                }                                                                                        \
        }
#if defined(TYPE_Q5_K)
/* Q5_K: the fifth bit of each of the 4 quants, from the 32 bytes after the scales. */
#define DECODE_HIGH_BIT(q_, w_, bo_, jj_, hi_, c)                                                        \
        q_ |= ((ld32(w_, bo_ + 16u + (jj_ & 31u) + c * 4u) >> (2u * (jj_ >> 6) + hi_)) & 0x01010101u) << 4
#else
#define DECODE_HIGH_BIT(q_, w_, bo_, jj_, hi_, c)
#endif
#else
        /* CA x 4 columns from e_ on, 4 at a time. */
#define DECODE_RUN(w_, b0_, e_, j)                                                                       \
        [[unroll]] for (uint c = 0; c < CA; c++)                                                         \
                wv[(j) * CA + c] = e_ + c * 4u < p.k ? f16vec4(dequant4(w_, b0_, e_ + c * 4u)) : f16vec4(0.0)
#endif
        /* Registers <- global for columns kb.. (zero past k and past the last token). */
#define LOAD_TILES(kb)                                                                                   \
        {                                                                                                \
                uint e_ = (kb) + alc * 4u;                                                               \
                [[unroll]] for (uint j = 0; j < APASS; j++) {                                            \
                        /* Row addresses are recomputed, not kept: registers are scarce here. */          \
                        uint b0_;                                                                        \
                        U32Buf w_ = weight_row(p.w, min(r0 + alr + j * ARS, p.n - 1u), p.row_bytes, b0_); \
                        DECODE_RUN(w_, b0_, e_, j);                                                      \
                }                                                                                        \
                e_ = (kb) + lc * 4u;                                                                     \
                [[unroll]] for (uint j = 0; j < BV; j++) {                                               \
                        uint t_ = t0 + lr + j * RSTEP;                                                   \
                        uint64_t row_ = uint64_t(min(t_, p.nt - 1u)) * uint64_t(p.ldx);                  \
                        uvec2 u_ = t_ < p.nt && e_ < p.k ? U32x2Buf(p.x + row_ * 2ul).v[e_ >> 2] : uvec2(0); \
                        xv[j] = f16vec4(unpackFloat2x16(u_.x), unpackFloat2x16(u_.y));                   \
                }                                                                                        \
        }
#define STORE_TILES(buf)                                                                                 \
        {                                                                                                \
                [[unroll]] for (uint j = 0; j < APASS; j++)                                              \
                        [[unroll]] for (uint c = 0; c < CA; c++)                                         \
                                S[(buf) * BM * LDS + (alr + j * ARS) * LDS + alc + c] = wv[j * CA + c];  \
                [[unroll]] for (uint j = 0; j < BV; j++)                                                 \
                        S[BS0 + (buf) * BN * LDS + (lr + j * RSTEP) * LDS + lc] = xv[j];                      \
        }
        LOAD_TILES(0u);
        if (NBUF == 2u) {
                STORE_TILES(0u);
                barrier();
        }
        for (; kb < p.k; kb += BK) {
                bool more = kb + BK < p.k;
                if (NBUF == 1u) {
                        STORE_TILES(0u);
                        barrier();
                }
                if (more)
                        LOAD_TILES(kb + BK);
                uint ab = cur * BM * LDS, bb = BS0 + cur * BN * LDS;
                [[unroll]] for (uint kk = 0; kk < KV; kk += MS / 4u) {
                        coopmat<float16_t, gl_ScopeSubgroup, MS, MS, gl_MatrixUseA> a[FM];
                        [[unroll]] for (uint i = 0; i < FM; i++)
                                coopMatLoad(a[i], S, ab + (wm * WM + i * MS) * LDS + kk, LDS,
                                            gl_CooperativeMatrixLayoutRowMajor);
                        [[unroll]] for (uint j = 0; j < FN; j++) {
                                coopmat<float16_t, gl_ScopeSubgroup, MS, MS, gl_MatrixUseB> b;
                                /* B is k x tokens; token t's columns are one shared row: column-major. */
                                coopMatLoad(b, S, bb + (wn * WN + j * MS) * LDS + kk, LDS,
                                            gl_CooperativeMatrixLayoutColumnMajor);
                                [[unroll]] for (uint i = 0; i < FM; i++)
                                        acc[i * FN + j] = coopMatMulAdd(a[i], b, acc[i * FN + j]);
                        }
                }
                /* Two tiles: the other one was last read before the previous barrier, so it is free. */
                if (NBUF == 2u && more)
                        STORE_TILES(cur ^ 1u);
                barrier();
                if (NBUF == 2u)
                        cur ^= 1u;
        }

        /* Each MSxMS tile goes through this subgroup's corner of shared memory, so that bias,
         * accumulation and the edges are handled per element, MS consecutive rows per token. The
         * corner is f16vec4 storage holding f32 bits: the store reinterprets, its stride is in
         * f16vec4 (MS / 2 per MS floats), and the reads below take the bits back. */
        F32Buf y = F32Buf(p.y);
        uint cs = sg * CS;
        [[unroll]] for (uint i = 0; i < FM; i++)
                [[unroll]] for (uint j = 0; j < FN; j++) {
                        coopMatStore(acc[i * FN + j], S, cs, MS / 2u, gl_CooperativeMatrixLayoutColumnMajor);
                        subgroupMemoryBarrierShared();
                        subgroupBarrier();
                        [[unroll]] for (uint q = 0; q < MS * MS / SG; q++) {
                                uint idx = q * SG + lane;
                                uint r = r0 + wm * WM + i * MS + idx % MS;
                                uint t = t0 + wn * WN + j * MS + idx / MS;
                                if (r < p.n && t < p.nt) {
                                        f16vec4 h = S[cs + (idx >> 1)];
                                        uint u = (idx & 1u) != 0u ? packFloat2x16(h.zw) : packFloat2x16(h.xy);
                                        float v = uintBitsToFloat(u);
                                        if ((p.flags & MM_BIAS) != 0u)
                                                v += F32Buf(p.bias).v[r];
                                        uint yi = t * p.ldy + r;
                                        if ((p.flags & MM_ACC) != 0u)
                                                v += y.v[yi];
                                        y.v[yi] = v;
                                }
                        }
                        subgroupBarrier();
                }
}
