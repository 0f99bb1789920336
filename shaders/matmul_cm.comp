/* SPDX-License-Identifier: MIT */
/*
 * Tiled matrix product on cooperative matrices (GL_KHR_cooperative_matrix),
 * for prefill; same contract as matmul.comp (pc_mm). A workgroup of 256
 * invocations in 8 subgroups of 32 (the host requires that size) computes
 * BM = 128 weight rows x BN tokens. For every BK = 64 columns the weight
 * tile is dequantized once into shared memory as f16 and the activation
 * tile converted to f16; each subgroup multiplies its 32 rows x BN / 2
 * tokens with 16x16x16 products accumulated in f32. f16 operands are what
 * llama.cpp's coopmat path uses too: each operand rounded to 11 bits.
 * The weight and activation tiles of the next BK columns are loaded into
 * registers while the current ones are multiplied, so global latency
 * overlaps the products.
 */
#version 450
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_shader_subgroup_basic : require
#include "include/common.glsl"
#include "include/dequant.glsl"
#include "include/push.glsl"

layout(local_size_x = 256) in;
layout(constant_id = 0) const uint BN = 128; /* tokens per workgroup: 64 or 128 */

#define BM 128u
#define BK 64u
/* Shared rows in f16vec4 units: BK / 4 + 2 keeps every row 16-byte aligned (coopMatLoad) and
 * shifts consecutive rows by 4 banks. */
#define LDS 18u
const uint WN = BN / 2u;      /* tokens per subgroup: 4 subgroups down the rows, 2 across the tokens */
const uint FN = WN / 16u;     /* 16-wide accumulator tiles across */
const uint TPT = 256u / BN;   /* loader invocations per token: 2 or 4 */
const uint XV = BK / 4u / TPT; /* vec4 of one token's BK columns per invocation: 8 or 4 */
#define XV_MAX 8u

layout(push_constant) uniform PC { pc_mm p; };

shared f16vec4 As[BM * LDS];
shared f16vec4 Bs[BN * LDS];
shared float Cs[8u * 256u];

void main()
{
        uint lid = gl_LocalInvocationID.x, sg = gl_SubgroupID, lane = gl_SubgroupInvocationID;
        uint r0 = gl_WorkGroupID.x * BM, t0 = gl_WorkGroupID.y * BN;
        /* Loaders: the weight tile is 128 rows x BK columns, half a row (8 x dequant4) per invocation;
         * the activation tile BN tokens x BK columns, XV vec4 per invocation. */
        uint ar = lid >> 1, ac = (lid & 1u) * (BK / 2u);
        uint b0;
        U32Buf w = weight_row(p.w, min(r0 + ar, p.n - 1u), p.row_bytes, b0);
        uint xt = lid / TPT, xc = (lid % TPT) * XV * 4u;
        bool xin = t0 + xt < p.nt;
        F32x4Buf x = F32x4Buf(p.x + uint64_t(min(t0 + xt, p.nt - 1u) * p.ldx) * 4ul);

        uint wm = sg & 3u, wn = sg >> 2;
        coopmat<float, gl_ScopeSubgroup, 16, 16, gl_MatrixUseAccumulator> acc[2][FN];
        [[unroll]] for (uint i = 0; i < 2u; i++)
                [[unroll]] for (uint j = 0; j < FN; j++)
                        acc[i][j] = coopmat<float, gl_ScopeSubgroup, 16, 16, gl_MatrixUseAccumulator>(0.0);

        /* Registers hold the next tile while the current one is multiplied. */
        vec4 wv[BK / 8u], xv[XV_MAX];
        [[unroll]] for (uint j = 0; j < BK / 8u; j++) {
                uint e = ac + j * 4u;
                wv[j] = e < p.k ? dequant4(w, b0, e) : vec4(0.0);
        }
        [[unroll]] for (uint j = 0; j < XV; j++) {
                uint e = xc + j * 4u;
                xv[j] = xin && e < p.k ? x.v[e >> 2] : vec4(0.0);
        }
        for (uint kb = 0; kb < p.k; kb += BK) {
                [[unroll]] for (uint j = 0; j < BK / 8u; j++)
                        As[ar * LDS + (ac >> 2) + j] = f16vec4(wv[j]);
                [[unroll]] for (uint j = 0; j < XV; j++)
                        Bs[xt * LDS + (xc >> 2) + j] = f16vec4(xv[j]);
                barrier();
                if (kb + BK < p.k) {
                        [[unroll]] for (uint j = 0; j < BK / 8u; j++) {
                                uint e = kb + BK + ac + j * 4u;
                                wv[j] = e < p.k ? dequant4(w, b0, e) : vec4(0.0);
                        }
                        [[unroll]] for (uint j = 0; j < XV; j++) {
                                uint e = kb + BK + xc + j * 4u;
                                xv[j] = xin && e < p.k ? x.v[e >> 2] : vec4(0.0);
                        }
                }
                [[unroll]] for (uint kk = 0; kk < BK / 4u; kk += 4u) {
                        coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseA> a[2];
                        [[unroll]] for (uint i = 0; i < 2u; i++)
                                coopMatLoad(a[i], As, (wm * 32u + i * 16u) * LDS + kk, LDS,
                                            gl_CooperativeMatrixLayoutRowMajor);
                        [[unroll]] for (uint j = 0; j < FN; j++) {
                                coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseB> b;
                                /* B is k x tokens; token t's columns are one shared row: column-major. */
                                coopMatLoad(b, Bs, (wn * WN + j * 16u) * LDS + kk, LDS,
                                            gl_CooperativeMatrixLayoutColumnMajor);
                                [[unroll]] for (uint i = 0; i < 2u; i++)
                                        acc[i][j] = coopMatMulAdd(a[i], b, acc[i][j]);
                        }
                }
                barrier();
        }

        /* Each 16x16 tile goes through this subgroup's corner of shared memory, so that bias,
         * accumulation and the edges are handled per element, 16 consecutive rows per token. */
        F32Buf y = F32Buf(p.y);
        uint cs = sg * 256u;
        [[unroll]] for (uint i = 0; i < 2u; i++)
                [[unroll]] for (uint j = 0; j < FN; j++) {
                        coopMatStore(acc[i][j], Cs, cs, 16, gl_CooperativeMatrixLayoutColumnMajor);
                        subgroupMemoryBarrierShared();
                        subgroupBarrier();
                        [[unroll]] for (uint q = 0; q < 256u / 32u; q++) {
                                uint idx = q * 32u + lane;
                                uint r = r0 + wm * 32u + i * 16u + (idx & 15u);
                                uint t = t0 + wn * WN + j * 16u + (idx >> 4);
                                if (r < p.n && t < p.nt) {
                                        float v = Cs[cs + idx];
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
