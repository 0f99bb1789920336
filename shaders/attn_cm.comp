/* SPDX-License-Identifier: MIT */
/*
 * Attention for prefill on cooperative matrices (GL_KHR_cooperative_matrix,
 * MSxMSxMS products on subgroups of SG lanes as in matmul_cm.comp; the
 * comments say 16 and 32, the sizes on NVIDIA and AMD): same contract as
 * attn_pf.comp (pc_attn; one head and
 * BQ consecutive query tokens of one sequence per workgroup, positions
 * rising by one a token, which context_decode enforces), flash-style.
 * Each subgroup owns 16 query rows and D / DS of the head's dimensions;
 * the DS subgroups of a row block share its rows. For every block of BKV
 * cached positions every invocation issues all its loads of the block's
 * k and v rows, then the workgroup stores the k rows in shared memory as
 * f16; each subgroup computes its part of the scores S = Q K^T (16 x BKV,
 * f32 sums over its dimensions) on the matrix cores. The v rows replace
 * the k rows; every subgroup of a row block sums the DS parts and runs
 * the same online softmax on them in plain code (2 lanes a row; the DS
 * copies agree bit for bit), then O += P V for its columns of O with P
 * rounded to f16. O stays in f32 accumulators; when a row's running max
 * grows, the subgroup rescales O through shared memory (KHR matrices have
 * no per-row scaling); blocks where no row's max grows skip that. q is
 * scaled before its rounding and kept in registers. Prefill has no 8-bit
 * output, so here pc_attn's q8, where set, is the f16 copy of the output
 * rows that the o projection reads on the matrix cores (vk_op_attn_prefill).
 *
 * Why (H200, docs/vulkan.md): the first form kept a whole head in one
 * subgroup and stored each load to shared memory as it came; with heads
 * of 256 whole steps ran slower than with attn_pf.comp (Gemma 3 4B pp512
 * 10,946 against 12,567 t/s). With the loads in flight a whole head of 256
 * takes 198 us for 4B's 512 tokens (vk-kernel-bench attnpf), split 4 ways
 * 109 us, attn_pf.comp 237 us; the 4-way split went from 13,120 to 14,021
 * t/s in 4B pp512 when the loads went in flight. A lane now holds 32-64
 * f32 sums of O instead of 128, and a model of few heads gets more
 * workgroups. Heads of 128 or less are not split by default: that
 * lost 1.4-1.6x after long context. f32 loads converted to f16 as they
 * arrive measured 1.4-1.9x slower (the conversion likely waits on each load);
 * that is now the form of f32 rows only (UNICORN_VK_DISABLE_KV16=1): f16 cache
 * rows, the default, are taken as they are.
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
layout(constant_id = 0) const uint D = 128;  /* head_dim = head_dim_v: a multiple of MS, at most 256 */
layout(constant_id = 1) const uint NT = 128; /* invocations: SG a subgroup */
layout(constant_id = 2) const uint BKV = 32; /* cached positions a block: 16, 32 or 64 */
layout(constant_id = 3) const uint DS = 1;   /* subgroups sharing a row block: 1, 2, 4 or 8, dividing D / MS */
layout(constant_id = 4) const uint MS = 16;  /* the matrices' M = N = K: 16 or 8 */
layout(constant_id = 5) const uint SG = 32;  /* lanes a subgroup: MS to MS * MS / 4 */
layout(constant_id = 6) const bool SGBAR = true; /* subgroup_sync() waits for the subgroup's lanes */
layout(constant_id = 7) const bool KV16 = false; /* include/kv.glsl */
layout(constant_id = 8) const bool AHEAD = false; /* next block's loads issued during this one's products */
#include "include/kv.glsl"

const uint NSG = NT / SG;
const uint BQ = MS * (NSG / DS); /* query tokens a workgroup */
const uint DT = D / MS;     /* MS-wide tiles across a head */
const uint DTS = DT / DS;   /* those of one subgroup */
const uint KT = BKV / MS;   /* MS-wide tiles across a block */
const uint LPR = SG / MS;   /* lanes a query row (2 with 16 and 32) */
const uint EPL = MS / LPR;  /* elements of an MS x MS tile a lane, all in its row (8; a multiple of 4) */
/* Shared rows padded by 16 bytes: rows stay 16-byte aligned for coopMatLoad and successive rows
 * start in different banks. */
const uint LDH = D + 8u;    /* q, k, v rows (halves) */
const uint LDS = BKV + 4u;  /* score rows (floats) */
const uint LDP = BKV + 8u;  /* probability rows (halves) */
const uint CPL = BKV / LPR; /* columns of a block a lane */

layout(push_constant) uniform PC { pc_attn p; };

shared float16_t kvs[BKV * LDH]; /* q rows at the start, then each block's k rows, then its v rows */
shared float sf[NSG * MS * LDS]; /* S, a part per subgroup */
shared float16_t ps[NSG * MS * LDP];
shared float ot[NSG * MS * MS]; /* an O tile per subgroup (not in sf: the row block's others read it) */
/* No other shared variable: with a `shared uint` (the split's flag) beside these every case gave wrong
 * results on the H100 and H200, split or not, and without it they pass (run110.sh-run112.sh); likely
 * it was laid out first, moving these rows off the 16-byte alignment coopMatLoad needs. The split's
 * flag lives in ot instead. */

const float NEG_INF = -1.0 / 0.0;

/* The split over positions (include/attn_pf_split.glsl): its weights in sf (the scores are done when it
 * merges), its flag in ot (the O tiles are written out by then). */
#define PF_ROWS BQ
#define PF_NT NT
#define PF_W sf
#define PF_FLAG ot[0]
#define PF_EXP exp
#include "include/attn_pf_split.glsl"

const uint NV4 = BKV * (D / 4u);       /* vec4 of a block's k (or v) rows */
const uint LPT = (NV4 + NT - 1u) / NT; /* of them an invocation stages */

/* Elements 4i..4i+3 of a cache row as f16: f16 rows as they are (through kv_load4 they went to f32 and
 * back, and the H200 ran this kernel at half the speed on f16 rows as on f32 ones: run104.sh), f32 rows
 * rounded as kvs would round them. Held as f16 in registers either way (half the registers of vec4). */
f16vec4 kv_load4h(uint64_t row, uint i)
{
        if (KV16) {
                uvec2 u = U32x2Buf(row).v[i];
                return f16vec4(unpackFloat2x16(u.x), unpackFloat2x16(u.y));
        }
        return f16vec4(F32x4Buf(row).v[i]);
}

/* Rows [lo, hi] of the cache of block p0 (positions; rows outside get zeros, so that stale ring slots
 * cannot turn masked products into NaN) into registers, every load issued before any is used: a loop
 * that stored each load to shared memory as it came could wait a memory latency per vec4. */
void fetch(uint64_t base, uint stride, int p0, int lo, int hi, out f16vec4 r[LPT])
{
        [[unroll]] for (uint j = 0; j < LPT; j++) {
                uint i = gl_LocalInvocationID.x + j * NT;
                uint rr = i / (D / 4u), c = i % (D / 4u);
                int pp = p0 + int(rr);
                r[j] = f16vec4(0.0);
                if (i < NV4 && pp >= lo && pp <= hi)
                        r[j] = kv_load4h(base + uint64_t(uint(pp) % p.ring) * stride * KV_BYTES, c);
        }
}

/* Fetched rows into kvs. (The eighteenth session blamed the f16 rows for run107.sh's NaN and took them
 * out; the cause was the split's shared flag, and this form passed on the H200 without it: run111.sh.) */
void put(f16vec4 r[LPT])
{
        [[unroll]] for (uint j = 0; j < LPT; j++) {
                uint i = gl_LocalInvocationID.x + j * NT;
                if (i < NV4) {
                        uint o = (i / (D / 4u)) * LDH + (i % (D / 4u)) * 4u;
                        kvs[o] = r[j].x;
                        kvs[o + 1u] = r[j].y;
                        kvs[o + 2u] = r[j].z;
                        kvs[o + 3u] = r[j].w;
                }
        }
}

/* The subgroup's lanes see each other's shared-memory writes. llvmpipe (lavapipe) runs a subgroup's
 * lanes as one SIMD thread, where no execution barrier is needed, and its subgroup barrier then waits
 * for the other subgroups like barrier(): the rescale of O, which some subgroups of a workgroup skip,
 * lost rows there. So on it (SGBAR false, vk-pipeline.c) only the memory barrier. */
void subgroup_sync()
{
        subgroupMemoryBarrierShared();
        if (SGBAR)
                subgroupBarrier();
}

/* The first position a query at pos attends to: pos - window + 1 on sliding layers, else 0. */
int first_seen(int pos)
{
        return p.window > 0u && pos >= int(p.window) ? pos - int(p.window) + 1 : 0;
}

void main()
{
        uint h = gl_WorkGroupID.x, lid = gl_LocalInvocationID.x;
        uint sg = lid / SG, lane = lid % SG, rb = sg / DS, part = sg % DS;
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
        /* This lane's row (LPR lanes a row), and the rows of its subgroup. */
        uint row = lane / LPR, t = tq0 + rb * MS + row;
        int qend = t < p.nt ? pos0 + int(t - tq0) : -1;
        int qstart = first_seen(qend);
        uint sfirst = tq0 + rb * MS, slast = min(sfirst + MS, p.nt) - 1u;
        bool sg_any = sfirst < p.nt;
        int sg_hi = pos0 + int(slast - tq0);
        int sg_lo = first_seen(pos0 + int(sfirst - tq0));

        /* q rows, scaled, as f16 (rows past the step repeat the last token's and are never written),
         * BKV rows at a time through kvs into each subgroup's A tiles of its rows and dimensions. */
        coopmat<float16_t, gl_ScopeSubgroup, MS, MS, gl_MatrixUseA> qa[DTS];
        for (uint r0 = 0; r0 < BQ; r0 += BKV) {
                f16vec4 qr[LPT];
                [[unroll]] for (uint j = 0; j < LPT; j++) {
                        uint i = lid + j * NT, r = i / (D / 4u);
                        uint tt = min(tq0 + r0 + r, p.nt - 1u);
                        qr[j] = f16vec4(0.0);
                        if (i < NV4 && r0 + r < BQ)
                                qr[j] = f16vec4(F32x4Buf(p.q + uint64_t(tt * p.ldq + h * p.head_dim) * 4ul)
                                                        .v[i % (D / 4u)] * p.scale);
                }
                put(qr);
                barrier();
                /* A row block lies within one pass (MS divides BKV). */
                if (rb * MS >= r0 && rb * MS < r0 + BKV)
                        [[unroll]] for (uint d = 0; d < DTS; d++)
                                coopMatLoad(qa[d], kvs, (rb * MS - r0) * LDH + (part * DTS + d) * MS, LDH,
                                            gl_CooperativeMatrixLayoutRowMajor);
                barrier();
        }

        coopmat<float, gl_ScopeSubgroup, MS, MS, gl_MatrixUseAccumulator> o[DTS];
        [[unroll]] for (uint j = 0; j < DTS; j++)
                o[j] = coopmat<float, gl_ScopeSubgroup, MS, MS, gl_MatrixUseAccumulator>(0.0);
        float m = NEG_INF, l = 0.0;
        uint sbase = sg * MS * LDS, rbase = rb * DS * MS * LDS, pbase = sg * MS * LDP, obase = sg * MS * MS;
        uint64_t kbase = p.kc + (uint64_t(seq) * p.ring * kd + kvh * p.head_dim) * KV_BYTES;
        uint64_t vbase = p.vc + (uint64_t(seq) * p.ring * vd + kvh * p.head_dim_v) * KV_BYTES;

        /* Split-K (p.chunk > 0): workgroup z takes the block's positions [lo + z * chunk, + chunk) only
         * (chunk a multiple of BKV) and leaves its rows' unnormalised outputs, maxima and sums to the
         * last workgroup of (query block, head), which merges them. A step of few heads and query blocks
         * is otherwise a grid of a workgroup or two a multiprocessor, each walking all positions. */
        uint nz = gl_NumWorkGroups.z, z = gl_WorkGroupID.z;
        int zlo = lo, zhi = hi;
        if (p.chunk > 0u) {
                zlo = lo + int(z * p.chunk);
                zhi = min(hi, zlo + int(p.chunk) - 1);
        }
        /* AHEAD: a block's k and v rows are loaded during the block before it (its k loads issued once
         * its own k rows are staged, its v loads once its v rows are), so that a block waits for no
         * memory latency; else each block waits for its k rows. At 4,096 positions a workgroup walks
         * 128 blocks of 32 and the grid is a few workgroups a multiprocessor, so each wait adds up. */
        f16vec4 kr[LPT], vr[LPT];
        if (AHEAD) {
                fetch(kbase, kd, zlo, lo, zhi, kr);
                fetch(vbase, vd, zlo, lo, zhi, vr);
        }
        for (int p0 = zlo; p0 <= zhi; p0 += int(BKV)) {
                /* Whether any of this subgroup's rows sees a position of the block (uniform in it). */
                bool act = sg_any && p0 <= sg_hi && p0 + int(BKV) - 1 >= sg_lo;
                /* The v rows' loads stay in flight through the scores. */
                if (!AHEAD) {
                        fetch(kbase, kd, p0, lo, zhi, kr);
                        fetch(vbase, vd, p0, lo, zhi, vr);
                }
                put(kr);
                if (AHEAD) /* rows past zhi are zeros, not loads */
                        fetch(kbase, kd, p0 + int(BKV), lo, zhi, kr);
                barrier();
                if (act) {
                        coopmat<float, gl_ScopeSubgroup, MS, MS, gl_MatrixUseAccumulator> s[KT];
                        [[unroll]] for (uint n = 0; n < KT; n++)
                                s[n] = coopmat<float, gl_ScopeSubgroup, MS, MS, gl_MatrixUseAccumulator>(0.0);
                        [[unroll]] for (uint d = 0; d < DTS; d++) {
                                [[unroll]] for (uint n = 0; n < KT; n++) {
                                        /* K^T: column c of the tile is cached row n * MS + c. */
                                        coopmat<float16_t, gl_ScopeSubgroup, MS, MS, gl_MatrixUseB> b;
                                        coopMatLoad(b, kvs, n * MS * LDH + (part * DTS + d) * MS, LDH,
                                                    gl_CooperativeMatrixLayoutColumnMajor);
                                        s[n] = coopMatMulAdd(qa[d], b, s[n]);
                                }
                        }
                        [[unroll]] for (uint n = 0; n < KT; n++)
                                coopMatStore(s[n], sf, sbase + n * MS, LDS, gl_CooperativeMatrixLayoutRowMajor);
                }
                barrier(); /* every subgroup is done with the k rows; S's parts are written */
                put(vr);
                if (AHEAD)
                        fetch(vbase, vd, p0 + int(BKV), lo, zhi, vr);
                if (act) {
                        /* Online softmax of row `row` over this lane's half of the block, on S summed
                         * over the row block's parts (in one order in each of its subgroups). */
                        uint c0 = (lane % LPR) * CPL;
                        float sr[CPL];
                        float mb = NEG_INF;
                        [[unroll]] for (uint i = 0; i < CPL; i++) {
                                float v = sf[rbase + row * LDS + c0 + i];
                                [[unroll]] for (uint k = 1; k < DS; k++)
                                        v += sf[rbase + k * MS * LDS + row * LDS + c0 + i];
                                sr[i] = v;
                                int pp = p0 + int(c0 + i);
                                if (pp >= qstart && pp <= qend)
                                        mb = max(mb, v);
                        }
                        [[unroll]] for (uint x = 1u; x < LPR; x <<= 1)
                                mb = max(mb, subgroupShuffleXor(mb, x));
                        float mn = max(m, mb);
                        /* A row with nothing in range so far keeps m = -inf: no rescale, no weight. */
                        float c = mn == NEG_INF ? 1.0 : exp(m - mn);
                        float sum = 0.0;
                        [[unroll]] for (uint i = 0; i < CPL; i++) {
                                int pp = p0 + int(c0 + i);
                                float16_t pv = float16_t(0.0);
                                if (pp >= qstart && pp <= qend)
                                        pv = float16_t(exp(sr[i] - mn));
                                ps[pbase + row * LDP + c0 + i] = pv;
                                sum += float(pv); /* the weights as rounded for P V */
                        }
                        [[unroll]] for (uint x = 1u; x < LPR; x <<= 1)
                                sum += subgroupShuffleXor(sum, x);
                        /* O's rows scale by c where the max grew over a row with weight already in O. */
                        bool rescale = subgroupAny(c != 1.0 && l != 0.0);
                        l = l * c + sum;
                        m = mn;
                        if (rescale) {
                                /* The LPR lanes of a row own its EPL-element parts in a row-major tile. */
                                [[unroll]] for (uint j = 0; j < DTS; j++) {
                                        coopMatStore(o[j], ot, obase, MS, gl_CooperativeMatrixLayoutRowMajor);
                                        subgroup_sync();
                                        [[unroll]] for (uint e = 0; e < EPL; e++)
                                                ot[obase + lane * EPL + e] *= c;
                                        subgroup_sync();
                                        coopMatLoad(o[j], ot, obase, MS, gl_CooperativeMatrixLayoutRowMajor);
                                        subgroup_sync();
                                }
                        }
                }
                barrier(); /* the v rows are staged; P is written */
                if (act) {
                        [[unroll]] for (uint n = 0; n < KT; n++) {
                                coopmat<float16_t, gl_ScopeSubgroup, MS, MS, gl_MatrixUseA> a;
                                coopMatLoad(a, ps, pbase + n * MS, LDP, gl_CooperativeMatrixLayoutRowMajor);
                                [[unroll]] for (uint j = 0; j < DTS; j++) {
                                        coopmat<float16_t, gl_ScopeSubgroup, MS, MS, gl_MatrixUseB> b;
                                        coopMatLoad(b, kvs, n * MS * LDH + (part * DTS + j) * MS, LDH,
                                                    gl_CooperativeMatrixLayoutRowMajor);
                                        o[j] = coopMatMulAdd(a, b, o[j]);
                                }
                        }
                }
                barrier(); /* every subgroup is done with the v rows */
        }

        if (nz > 1u) {
                /* Split-K: the unnormalised rows (through ot, as below), maxima and sums to the partials. */
                uint c0 = (lane % LPR) * EPL;
                [[unroll]] for (uint j = 0; j < DTS; j++) {
                        coopMatStore(o[j], ot, obase, MS, gl_CooperativeMatrixLayoutRowMajor);
                        subgroup_sync();
                        if (t < p.nt) {
                                CF32 pr = CF32(part_row(t, h, z));
                                uint c = (part * DTS + j) * MS + c0;
                                [[unroll]] for (uint e = 0; e < EPL; e++)
                                        pr.v[c + e] = ot[obase + lane * EPL + e];
                        }
                        subgroup_sync();
                }
                if (t < p.nt && part == 0u && lane % LPR == 0u) {
                        CF32 pr = CF32(part_row(t, h, z));
                        pr.v[D] = m;
                        pr.v[D + 1u] = l;
                }
                split_count(h, tq0);
                return;
        }
        /* O / l, row by row through shared memory (a row's lanes as in the rescale); every lane
         * takes part in the stores, lanes of rows past the step write nothing. */
        F32Buf ob = F32Buf(p.dst + uint64_t(min(t, p.nt - 1u) * p.n_head * p.head_dim_v + h * p.head_dim_v) * 4ul);
        float inv = l > 0.0 ? 1.0 / l : 0.0;
        uint c0 = (lane % LPR) * EPL;
        [[unroll]] for (uint j = 0; j < DTS; j++) {
                coopMatStore(o[j], ot, obase, MS, gl_CooperativeMatrixLayoutRowMajor);
                subgroup_sync();
                if (t < p.nt) {
                        uint c = (part * DTS + j) * MS + c0;
                        float v[EPL];
                        [[unroll]] for (uint e = 0; e < EPL; e++) {
                                v[e] = ot[obase + lane * EPL + e] * inv;
                                ob.v[c + e] = v[e];
                        }
                        /* The o projection's f16 rows too (what cvt16.comp would make of these). */
                        if (p.q8 != 0ul) {
                                U32x2Buf o16 = U32x2Buf(p.q8 + (uint64_t(t * p.n_head * p.head_dim_v +
                                                                         h * p.head_dim_v + c) * 2ul));
                                [[unroll]] for (uint e = 0; e < EPL / 4u; e++)
                                        o16.v[e] = uvec2(packHalf2x16(vec2(v[4u * e], v[4u * e + 1u])),
                                                         packHalf2x16(vec2(v[4u * e + 2u], v[4u * e + 3u])));
                        }
                }
                subgroup_sync();
        }
}
