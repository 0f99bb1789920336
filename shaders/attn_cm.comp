/* SPDX-License-Identifier: MIT */
/*
 * Attention for prefill on cooperative matrices (GL_KHR_cooperative_matrix,
 * subgroups of 32): same contract as attn_pf.comp (pc_attn; one head and
 * BQ consecutive query tokens of one sequence per workgroup, positions
 * rising by one a token, which context_decode enforces), flash-style.
 * Each subgroup owns 16 query rows; for every block of BKV cached
 * positions the workgroup stages the k rows, then the v rows, in shared
 * memory as f16, and each subgroup computes its scores S = Q K^T
 * (16 x BKV, f32 sums) on the matrix cores, the online softmax on them in
 * plain code (2 lanes a row), and O += P V with P rounded to f16. O stays
 * in f32 accumulators; when a row's running max grows, the subgroup
 * rescales O through shared memory (KHR matrices have no per-row scaling);
 * blocks where no row's max grows skip that. q is scaled before its
 * rounding.
 *
 * Why: attn_pf.comp multiplies in scalar f32 and reads every score back
 * through shared memory 8 queries at a time; UNICORN_VK_PROFILE put it at
 * 15% of a Qwen2.5 7B pp512 step on the H200 (19% for Gemma 3 4B), but
 * that profile's step came to 2.4x the benchmark's step time, and
 * the one side-by-side run measured 7B pp512 8,745 +- 58 -> 8,935 +- 874
 * t/s with this kernel (docs/vulkan.md): within the spread.
 *
 * Operands are f16 like those of the matrix-core products (matmul_cm.comp);
 * the host uses this kernel only where those run (not with exact
 * activations).
 */
#version 450
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#extension GL_KHR_shader_subgroup_vote : require
#include "include/common.glsl"
#include "include/push.glsl"

layout(local_size_x_id = 1) in;
layout(constant_id = 0) const uint D = 128;  /* head_dim = head_dim_v: a multiple of 16, at most 256 */
layout(constant_id = 1) const uint NT = 128; /* invocations: 32 a subgroup */
layout(constant_id = 2) const uint BKV = 32; /* cached positions a block: 16, 32 or 64 */

const uint NSG = NT / 32u;
const uint BQ = 16u * NSG;  /* query tokens a workgroup */
const uint DT = D / 16u;    /* 16-wide tiles across a head */
const uint KT = BKV / 16u;  /* 16-wide tiles across a block */
/* Shared rows padded by 16 bytes: rows stay 16-byte aligned for coopMatLoad and successive rows
 * start in different banks. */
const uint LDH = D + 8u;    /* q, k, v rows (halves) */
const uint LDS = BKV + 4u;  /* score rows (floats); also holds one 16 x 16 O tile (LDS >= 16) */
const uint LDP = BKV + 8u;  /* probability rows (halves) */
const uint HALF = BKV / 2u; /* columns a lane of a row pair */

layout(push_constant) uniform PC { pc_attn p; };

shared float16_t qs[BQ * LDH];
shared float16_t kvs[BKV * LDH]; /* the block's k rows, then its v rows */
shared float sf[NSG * 16u * LDS];
shared float16_t ps[NSG * 16u * LDP];

const float NEG_INF = -1.0 / 0.0;

/* Rows [lo, hi] of the cache (positions; rows outside get zeros, so that stale ring slots cannot
 * turn masked products into NaN) into kvs as f16. */
void stage(uint64_t base, uint stride, int p0, int lo, int hi)
{
        for (uint i = gl_LocalInvocationID.x; i < BKV * (D / 4u); i += NT) {
                uint r = i / (D / 4u), c = i % (D / 4u);
                int pp = p0 + int(r);
                vec4 v = vec4(0.0);
                if (pp >= lo && pp <= hi)
                        v = F32x4Buf(base + uint64_t(uint(pp) % p.ring) * stride * 4ul).v[c];
                uint o = r * LDH + c * 4u;
                kvs[o] = float16_t(v.x);
                kvs[o + 1u] = float16_t(v.y);
                kvs[o + 2u] = float16_t(v.z);
                kvs[o + 3u] = float16_t(v.w);
        }
}

/* The first position a query at pos attends to: pos - window + 1 on sliding layers, else 0. */
int first_seen(int pos)
{
        return p.window > 0u && pos >= int(p.window) ? pos - int(p.window) + 1 : 0;
}

void main()
{
        uint h = gl_WorkGroupID.x, lid = gl_LocalInvocationID.x;
        uint sg = lid / 32u, lane = lid % 32u;
        /* The last query blocks see the most positions: start them first. */
        uint tq0 = (gl_NumWorkGroups.y - 1u - gl_WorkGroupID.y) * BQ;
        uint kvh = h / (p.n_head / p.n_head_kv);
        uint kd = p.n_head_kv * p.head_dim, vd = p.n_head_kv * p.head_dim_v;
        I32Buf tok = I32Buf(p.tok);
        int seq = tok.v[tq0 * 4u + 1u];

        /* Query t attends to [qstart(t), pos(t)]; positions rise by one a token. */
        uint tlast = min(tq0 + BQ, p.nt) - 1u;
        int pos0 = tok.v[tq0 * 4u];
        int lo = first_seen(pos0), hi = tok.v[tlast * 4u];
        /* This lane's row (2 lanes a row), and the rows of its subgroup. */
        uint row = lane >> 1, t = tq0 + sg * 16u + row;
        int qend = t < p.nt ? pos0 + int(t - tq0) : -1;
        int qstart = first_seen(qend);
        uint sfirst = tq0 + sg * 16u, slast = min(sfirst + 16u, p.nt) - 1u;
        bool sg_any = sfirst < p.nt;
        int sg_hi = pos0 + int(slast - tq0);
        int sg_lo = first_seen(pos0 + int(sfirst - tq0));

        /* q rows, scaled, as f16 (rows past the step repeat the last token's and are never written). */
        for (uint i = lid; i < BQ * (D / 4u); i += NT) {
                uint r = i / (D / 4u), c = i % (D / 4u);
                uint tt = min(tq0 + r, p.nt - 1u);
                vec4 v = F32x4Buf(p.q + uint64_t(tt * p.ldq + h * p.head_dim) * 4ul).v[c] * p.scale;
                uint o = r * LDH + c * 4u;
                qs[o] = float16_t(v.x);
                qs[o + 1u] = float16_t(v.y);
                qs[o + 2u] = float16_t(v.z);
                qs[o + 3u] = float16_t(v.w);
        }

        coopmat<float, gl_ScopeSubgroup, 16, 16, gl_MatrixUseAccumulator> o[DT];
        [[unroll]] for (uint j = 0; j < DT; j++)
                o[j] = coopmat<float, gl_ScopeSubgroup, 16, 16, gl_MatrixUseAccumulator>(0.0);
        float m = NEG_INF, l = 0.0;
        uint sbase = sg * 16u * LDS, pbase = sg * 16u * LDP;
        uint64_t kbase = p.kc + (uint64_t(seq) * p.ring * kd + kvh * p.head_dim) * 4ul;
        uint64_t vbase = p.vc + (uint64_t(seq) * p.ring * vd + kvh * p.head_dim_v) * 4ul;

        for (int p0 = lo; p0 <= hi; p0 += int(BKV)) {
                /* Whether any of this subgroup's rows sees a position of the block (uniform in it). */
                bool act = sg_any && p0 <= sg_hi && p0 + int(BKV) - 1 >= sg_lo;
                stage(kbase, kd, p0, lo, hi);
                barrier();
                if (act) {
                        coopmat<float, gl_ScopeSubgroup, 16, 16, gl_MatrixUseAccumulator> s[KT];
                        [[unroll]] for (uint n = 0; n < KT; n++)
                                s[n] = coopmat<float, gl_ScopeSubgroup, 16, 16, gl_MatrixUseAccumulator>(0.0);
                        [[unroll]] for (uint d = 0; d < DT; d++) {
                                coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseA> a;
                                coopMatLoad(a, qs, sg * 16u * LDH + d * 16u, LDH, gl_CooperativeMatrixLayoutRowMajor);
                                [[unroll]] for (uint n = 0; n < KT; n++) {
                                        /* K^T: column c of the tile is cached row n * 16 + c. */
                                        coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseB> b;
                                        coopMatLoad(b, kvs, n * 16u * LDH + d * 16u, LDH,
                                                    gl_CooperativeMatrixLayoutColumnMajor);
                                        s[n] = coopMatMulAdd(a, b, s[n]);
                                }
                        }
                        [[unroll]] for (uint n = 0; n < KT; n++)
                                coopMatStore(s[n], sf, sbase + n * 16u, LDS, gl_CooperativeMatrixLayoutRowMajor);
                }
                barrier(); /* every subgroup is done with the k rows */
                stage(vbase, vd, p0, lo, hi);
                if (act) {
                        subgroupMemoryBarrierShared();
                        subgroupBarrier();
                        /* Online softmax of row `row` over this lane's half of the block. */
                        uint c0 = (lane & 1u) * HALF;
                        float mb = NEG_INF;
                        [[unroll]] for (uint i = 0; i < HALF; i++) {
                                int pp = p0 + int(c0 + i);
                                if (pp >= qstart && pp <= qend)
                                        mb = max(mb, sf[sbase + row * LDS + c0 + i]);
                        }
                        mb = max(mb, subgroupShuffleXor(mb, 1u));
                        float mn = max(m, mb);
                        /* A row with nothing in range so far keeps m = -inf: no rescale, no weight. */
                        float c = mn == NEG_INF ? 1.0 : exp(m - mn);
                        float sum = 0.0;
                        [[unroll]] for (uint i = 0; i < HALF; i++) {
                                int pp = p0 + int(c0 + i);
                                float16_t pv = float16_t(0.0);
                                if (pp >= qstart && pp <= qend)
                                        pv = float16_t(exp(sf[sbase + row * LDS + c0 + i] - mn));
                                ps[pbase + row * LDP + c0 + i] = pv;
                                sum += float(pv); /* the weights as rounded for P V */
                        }
                        sum += subgroupShuffleXor(sum, 1u);
                        /* O's rows scale by c where the max grew over a row with weight already in O. */
                        bool rescale = subgroupAny(c != 1.0 && l != 0.0);
                        l = l * c + sum;
                        m = mn;
                        if (rescale) {
                                /* Lane pairs own the 8 + 8 elements of their row in a row-major 16 x 16 tile. */
                                [[unroll]] for (uint j = 0; j < DT; j++) {
                                        coopMatStore(o[j], sf, sbase, 16u, gl_CooperativeMatrixLayoutRowMajor);
                                        subgroupMemoryBarrierShared();
                                        subgroupBarrier();
                                        [[unroll]] for (uint e = 0; e < 8u; e++)
                                                sf[sbase + lane * 8u + e] *= c;
                                        subgroupMemoryBarrierShared();
                                        subgroupBarrier();
                                        coopMatLoad(o[j], sf, sbase, 16u, gl_CooperativeMatrixLayoutRowMajor);
                                        subgroupMemoryBarrierShared();
                                        subgroupBarrier();
                                }
                        }
                }
                barrier(); /* the v rows are staged; P is written */
                if (act) {
                        [[unroll]] for (uint n = 0; n < KT; n++) {
                                coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseA> a;
                                coopMatLoad(a, ps, pbase + n * 16u, LDP, gl_CooperativeMatrixLayoutRowMajor);
                                [[unroll]] for (uint j = 0; j < DT; j++) {
                                        coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseB> b;
                                        coopMatLoad(b, kvs, n * 16u * LDH + j * 16u, LDH,
                                                    gl_CooperativeMatrixLayoutRowMajor);
                                        o[j] = coopMatMulAdd(a, b, o[j]);
                                }
                        }
                }
                barrier(); /* every subgroup is done with the v rows */
        }

        /* O / l, row by row through shared memory (lane pairs as in the rescale); every lane takes
         * part in the stores, lanes of rows past the step write nothing. */
        F32Buf ob = F32Buf(p.dst + uint64_t(min(t, p.nt - 1u) * p.n_head * p.head_dim_v + h * p.head_dim_v) * 4ul);
        float inv = l > 0.0 ? 1.0 / l : 0.0;
        uint c0 = (lane & 1u) * 8u;
        [[unroll]] for (uint j = 0; j < DT; j++) {
                coopMatStore(o[j], sf, sbase, 16u, gl_CooperativeMatrixLayoutRowMajor);
                subgroupMemoryBarrierShared();
                subgroupBarrier();
                if (t < p.nt)
                        [[unroll]] for (uint e = 0; e < 8u; e++)
                                ob.v[j * 16u + c0 + e] = sf[sbase + lane * 8u + e] * inv;
                subgroupMemoryBarrierShared();
                subgroupBarrier();
        }
}
