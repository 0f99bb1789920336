/* SPDX-License-Identifier: MIT */
/*
 * Attention for prefill on NVIDIA's workgroup-scope cooperative matrices
 * (GL_NV_cooperative_matrix2), flash-style; same contract as attn_cm.comp
 * (pc_attn; one head and BR consecutive query tokens of one sequence per
 * workgroup, positions rising by one a token; q8, where set, is the f16
 * copy of the output rows for the o projection). The workgroup holds its
 * whole BR x D tile of O as one accumulator; per block of BC cached
 * positions: S = Q K^T, the causal and sliding-window mask per element,
 * the online softmax with row reductions (coopMatReduceNV), O rescaled by
 * the row factors and O += P V, all on matrix objects, so no staging of
 * scores or O through shared memory by hand as attn_cm.comp does (KHR
 * matrices have neither row reductions nor per-row scaling). The cache rows
 * are f16 (KV16, the default; loaded as they are) or f32 (exact
 * activations; a decode callback turns them into f16 as the driver stages
 * them).
 * This follows llama.cpp's flash_attn_cm2.comp: in run99.sh (H200) the
 * profilers put it at 45-63 us a layer where attn_cm.comp took 115-157; both
 * timers inflate (llama.cpp's ~4x in run103.sh), so that is a lead, not a
 * measured ratio.
 *
 * Masked scores are a large negative finite number, not -inf (as llama.cpp
 * does): a row with no visible position in a block then has m - s = 0 and
 * weights 1 there, which the first block with a visible position scales
 * by exp(-huge) = 0, and no inf - inf makes a NaN. Rows of the cache the
 * step does not see must not reach a product even with weight 0 (stale
 * slots may hold anything): blocks start at the workgroup's first visible
 * position, and the layout ends at its last one's slot, past which loads
 * read zeros. So the host dispatches this kernel only where the positions
 * the step reads do not wrap around the ring (vk_op_attn_prefill), or its
 * WRAP form (VK_P_ATTN_CM2_WRAP; UNICORN_VK_ATTN_CM2_WRAP=0 turns it off),
 * which walks them as virtual slots that run on past the ring's end: those
 * before the end through a layout of the ring's rows, the columns of the
 * block that crosses it masked, then from slot 0 through a layout that ends
 * at the last visible slot. A sliding layer's ring (window + batch) wraps on
 * most steps after its first pass, and those took the KHR kernel: in a
 * bench at depth 4096 a random-weight Gemma 3 4B (generated with a window
 * of 512 then) ran its 29 sliding layers at 242 us each against llama.cpp's
 * 85 on the H100 (run133.sh). A first form, one loop that switched its
 * layouts at the ring's end, ran the whole step 2.2x slower (run134.sh), so
 * this one keeps both layouts fixed and branches the loads: on the H100 a
 * wrapped 512-token step of the 4B's heads over its window of 1,024 takes
 * 169-183 us against 413 on the KHR kernel, the 1B's 52-53 against 138-139
 * (run135.sh, run137.sh).
 * Operands f16, sums f32 (S, the row sums), and O in f16 where O16 is
 * defined (attn_cm2_o16, attn_cm2_wrap_o16: the backend's default since
 * run139.sh-run143.sh; UNICORN_VK_ATTN_CM2_O16=0 takes the f32 forms), as
 * llama.cpp's kernel of this kind keeps it (its O_TYPE is f16 even where
 * S is f32): half O's registers. On the H100 it took Qwen2.5 7B's heads
 * after 4,096 positions from 371 to 263 us (with blocks of 32 positions,
 * vk-pipeline.c's attn_cm2_make), Gemma 3 4B's global layer from 432 to
 * 398 (llama.cpp's: 165); NMSE under 2e-6 in test-vk-ops.
 *
 * Cache blocks wholly inside a layout load through a copy of it without bounds checks (LOAD_K): every
 * element checked against the last visible slot cost the 4B's global layer after 4,096 positions 388 us
 * against 264 unchecked, its wrapped sliding step 172 against 119, Qwen2.5 7B's heads 258-261 against
 * 231-233 (H100, run158.sh). Heads of 64 read 19-23% slower unchecked at depth (Qwen2.5 0.5B's 83 us
 * against 101), cause unknown, so the host keeps every load checked there (CLAMP_ALL).
 *
 * Scores are in log2 units (q scaled by log2(e) too) so that the weights
 * are exp2, one multiply an element fewer. The mask runs only on blocks
 * that cross a row's causal or window edge: a step after long context walks
 * tens of blocks a workgroup that every row sees whole (llama.cpp skips its
 * mask there too). With pc_attn.chunk > 0 the workgroups of a (query block,
 * head) split its positions (include/attn_pf_split.glsl), for steps whose
 * grid would leave multiprocessors idle: Gemma 3 1B has 4 heads, so 512
 * tokens are 64 workgroups on the H100's 132.
 */
#version 450
#extension GL_KHR_cooperative_matrix : require
#extension GL_NV_cooperative_matrix2 : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#include "include/common.glsl"
#include "include/push.glsl"

layout(local_size_x = 128) in;
layout(constant_id = 0) const uint D = 128; /* head_dim = head_dim_v: a multiple of 16, at most 256 */
layout(constant_id = 1) const uint BR = 64; /* query tokens a workgroup */
layout(constant_id = 2) const uint BC = 64; /* cached positions a block */
layout(constant_id = 3) const bool KV16 = false; /* the cache's rows are f16 (include/kv.glsl), else f32 */
/* Every cache load through a bounds-checked layout (UNICORN_VK_ATTN_CM2_CLAMP=1), as before run158.sh;
 * else only the block that reaches a layout's end (see LOAD_K). */
layout(constant_id = 4) const bool CLAMP_ALL = false;

layout(push_constant) uniform PC { pc_attn p; };

#ifdef O16
#define O_T float16_t
#else
#define O_T float
#endif

/* Cache rows as the decode callback sees them: 4 floats a block. */
layout(buffer_reference, std430, buffer_reference_align = 16) readonly buffer KvBlock { vec4 v; };
layout(buffer_reference, std430, buffer_reference_align = 2) buffer F16Buf { float16_t v[]; };

const float NEG = -1.7e38; /* masked scores: finite (see above) */
const float LOG2E = 1.4426950408889634;

/* The split's weights and (the element past them) its flag. */
shared float pfw[BR * (ATTN_PF_MAX_SPLIT + 1u) + 1u];
#define PF_ROWS BR
#define PF_NT 128u
#define PF_W pfw
#define PF_FLAG pfw[BR * (ATTN_PF_MAX_SPLIT + 1u)]
#define PF_EXP exp2
#include "include/attn_pf_split.glsl"

float16_t decode_kv(const in KvBlock b, const in uint blockCoords[2], const in uint coordInBlock[2])
{
        return float16_t(b.v[coordInBlock[1]]);
}

/* BC cache rows from row r0 of layout L into m (K transposed): through LU, the same layout without
 * bounds checks, where full (the rows lie wholly inside it), else through L, whose rows past its end
 * read as zeros (stale slots past the last visible one must not reach a product). llama.cpp's
 * flash_attn_cm2.comp loads without checks where the span is a multiple of its block (its aligned
 * variant); here only the block at a layout's end needs them. f32 rows go through decode_kv. */
#define LOAD_K(m, L, LU, r0, full)                                                                        \
        if (KV16 && (full))                                                                               \
                coopMatLoadTensorNV(m, kh.v, 0, sliceTensorLayoutNV(LU, r0, BC, 0, D), tr);               \
        else if (KV16)                                                                                    \
                coopMatLoadTensorNV(m, kh.v, 0, sliceTensorLayoutNV(L, r0, BC, 0, D), tr);                \
        else if (full)                                                                                    \
                coopMatLoadTensorNV(m, kb.v, 0, sliceTensorLayoutNV(LU, r0, BC, 0, D), tr, decode_kv);    \
        else                                                                                              \
                coopMatLoadTensorNV(m, kb.v, 0, sliceTensorLayoutNV(L, r0, BC, 0, D), tr, decode_kv)
#define LOAD_V(m, L, LU, r0, full)                                                                        \
        if (KV16 && (full))                                                                               \
                coopMatLoadTensorNV(m, vh.v, 0, sliceTensorLayoutNV(LU, r0, BC, 0, D));                   \
        else if (KV16)                                                                                    \
                coopMatLoadTensorNV(m, vh.v, 0, sliceTensorLayoutNV(L, r0, BC, 0, D));                    \
        else if (full)                                                                                    \
                coopMatLoadTensorNV(m, vb.v, 0, sliceTensorLayoutNV(LU, r0, BC, 0, D), decode_kv);        \
        else                                                                                              \
                coopMatLoadTensorNV(m, vb.v, 0, sliceTensorLayoutNV(L, r0, BC, 0, D), decode_kv)

/* The first position a query at pos attends to: pos - window + 1 on sliding layers, else 0. */
int first_seen(int pos)
{
        return p.window > 0u && pos >= int(p.window) ? pos - int(p.window) + 1 : 0;
}

/* S's element of query row r (position q0 + r) and block column c (position k0 + c). */
float mask_s(const in uint r, const in uint c, const in float s, const in uint q0, const in uint k0)
{
        int qp = int(q0 + r), kp = int(k0 + c);
        return kp <= qp && kp >= first_seen(qp) ? s : NEG;
}

#ifdef WRAP
/* The same, and columns from position kend on masked: not this block's (past the ring's end, or past
 * the split's part). */
float mask_end(const in uint r, const in uint c, const in float s, const in uint q0, const in uint k0,
               const in uint kend)
{
        return k0 + c < kend ? mask_s(r, c, s, q0, k0) : NEG;
}
#endif

float max_r(const in float a, const in float b)
{
        return max(a, b);
}

float first_r(const in float a, const in float b)
{
        return a;
}

float16_t first_r16(const in float16_t a, const in float16_t b)
{
        return a;
}

float max_e(const in uint r, const in uint c, const in float a, const in float b)
{
        return max(a, b);
}

float exp_e(const in uint r, const in uint c, const in float a)
{
        return exp2(a);
}

/* A split's maxima or sums (row-constant) into its partial rows at float off, from column 0. */
float store_col0(const in uint r, const in uint c, const in float a, const in uint tq0, const in uint h,
                 const in uint off)
{
        if (c == 0u && tq0 + r < p.nt)
                CF32(part_row(tq0 + r, h, gl_WorkGroupID.z)).v[off] = a;
        return a;
}

void main()
{
        uint h = gl_WorkGroupID.x;
        /* The last query blocks see the most positions: start them first. */
        uint tq0 = (gl_NumWorkGroups.y - 1u - gl_WorkGroupID.y) * BR;
        uint kvh = h / (p.n_head / p.n_head_kv);
        uint kd = p.n_head_kv * p.head_dim, vd = p.n_head_kv * p.head_dim_v, od = p.n_head * p.head_dim_v;
        I32Buf tok = I32Buf(p.tok);
        int seq = tok.v[tq0 * 4u + 1u];
        uint tlast = min(tq0 + BR, p.nt) - 1u;
        int pos0 = tok.v[tq0 * 4u];
        int lo = first_seen(pos0), hi = tok.v[tlast * 4u];
#ifdef WRAP
        /* Virtual slots slot_lo..vs_hi hold positions lo..hi; past the ring's end, virtual slot u is slot
         * u - ring (the host keeps hi - lo under the ring). */
        uint slot_lo = uint(lo) % p.ring, slot_hi = uint(hi) % p.ring, vs_hi = slot_lo + uint(hi - lo);
#else
        /* The step's positions do not wrap (the host's condition): slots rise with positions. */
        uint slot_lo = uint(lo) % p.ring, slot_hi = uint(hi) % p.ring;
#endif

        tensorViewNV<2, false, 1, 0> tr = createTensorViewNV(2, false, 1, 0);

        /* q rows scaled, as f16; rows past the step load as zeros and are never stored. */
        tensorLayoutNV<2, gl_CooperativeMatrixClampModeConstantNV> lq =
                createTensorLayoutNV(2, gl_CooperativeMatrixClampModeConstantNV);
        lq = setTensorLayoutDimensionNV(lq, p.nt, p.ldq);
        lq = setTensorLayoutStrideNV(lq, p.ldq, 1);
        coopmat<float, gl_ScopeWorkgroup, BR, D, gl_MatrixUseAccumulator> qf;
        coopMatLoadTensorNV(qf, F32Buf(p.q).v, 0, sliceTensorLayoutNV(lq, tq0, BR, h * p.head_dim, D));
        qf = qf * (p.scale * LOG2E);
        coopmat<float16_t, gl_ScopeWorkgroup, BR, D, gl_MatrixUseA> qa =
                coopmat<float16_t, gl_ScopeWorkgroup, BR, D, gl_MatrixUseA>(qf);

        /* This sequence's and kv head's cache rows up to the last visible slot (zeros past it): f16
         * elements, or f32 ones in blocks of 4 floats. */
        tensorLayoutNV<2, gl_CooperativeMatrixClampModeConstantNV> lk =
                createTensorLayoutNV(2, gl_CooperativeMatrixClampModeConstantNV);
        tensorLayoutNV<2, gl_CooperativeMatrixClampModeConstantNV> lv =
                createTensorLayoutNV(2, gl_CooperativeMatrixClampModeConstantNV);
        /* The same without bounds checks, for the blocks that lie wholly inside them (LOAD_K). */
        tensorLayoutNV<2, gl_CooperativeMatrixClampModeUndefinedNV> lku =
                createTensorLayoutNV(2, gl_CooperativeMatrixClampModeUndefinedNV);
        tensorLayoutNV<2, gl_CooperativeMatrixClampModeUndefinedNV> lvu =
                createTensorLayoutNV(2, gl_CooperativeMatrixClampModeUndefinedNV);
        if (!KV16) {
                lk = setTensorLayoutBlockSizeNV(lk, 1, 4);
                lv = setTensorLayoutBlockSizeNV(lv, 1, 4);
                lku = setTensorLayoutBlockSizeNV(lku, 1, 4);
                lvu = setTensorLayoutBlockSizeNV(lvu, 1, 4);
        }
        /* Row strides in elements (f16) or blocks of 4 (f32); an f16 row's is a multiple of 16 (D is),
         * which the mask tells the compiler, as llama.cpp does, so that it may load 16 bytes at once. */
        uint ks = KV16 ? kd & ~7u : kd / 4u, vs = KV16 ? vd & ~7u : vd / 4u;
#ifdef WRAP
        /* lk, lv: the ring's rows up to its end (up to the last visible slot where they do not wrap);
         * lkb, lvb: from slot 0 up to the last visible slot, for virtual slots past the end. */
        tensorLayoutNV<2, gl_CooperativeMatrixClampModeConstantNV> lkb = lk, lvb = lv;
        tensorLayoutNV<2, gl_CooperativeMatrixClampModeUndefinedNV> lkbu = lku, lvbu = lvu;
        uint rows_a = vs_hi >= p.ring ? p.ring : slot_hi + 1u; /* lk's rows */
        lk = setTensorLayoutDimensionNV(lk, rows_a, D);
        lk = setTensorLayoutStrideNV(lk, ks, 1);
        lv = setTensorLayoutDimensionNV(lv, rows_a, D);
        lv = setTensorLayoutStrideNV(lv, vs, 1);
        lkb = setTensorLayoutDimensionNV(lkb, slot_hi + 1u, D);
        lkb = setTensorLayoutStrideNV(lkb, ks, 1);
        lvb = setTensorLayoutDimensionNV(lvb, slot_hi + 1u, D);
        lvb = setTensorLayoutStrideNV(lvb, vs, 1);
        lku = setTensorLayoutDimensionNV(lku, rows_a, D);
        lku = setTensorLayoutStrideNV(lku, ks, 1);
        lvu = setTensorLayoutDimensionNV(lvu, rows_a, D);
        lvu = setTensorLayoutStrideNV(lvu, vs, 1);
        lkbu = setTensorLayoutDimensionNV(lkbu, slot_hi + 1u, D);
        lkbu = setTensorLayoutStrideNV(lkbu, ks, 1);
        lvbu = setTensorLayoutDimensionNV(lvbu, slot_hi + 1u, D);
        lvbu = setTensorLayoutStrideNV(lvbu, vs, 1);
#else
        lk = setTensorLayoutDimensionNV(lk, slot_hi + 1u, D);
        lk = setTensorLayoutStrideNV(lk, ks, 1);
        lv = setTensorLayoutDimensionNV(lv, slot_hi + 1u, D);
        lv = setTensorLayoutStrideNV(lv, vs, 1);
        lku = setTensorLayoutDimensionNV(lku, slot_hi + 1u, D);
        lku = setTensorLayoutStrideNV(lku, ks, 1);
        lvu = setTensorLayoutDimensionNV(lvu, slot_hi + 1u, D);
        lvu = setTensorLayoutStrideNV(lvu, vs, 1);
#endif
        uint64_t es = KV16 ? 2ul : 4ul;
        uint64_t ka = p.kc + (uint64_t(seq) * p.ring * kd + kvh * p.head_dim) * es;
        uint64_t va = p.vc + (uint64_t(seq) * p.ring * vd + kvh * p.head_dim_v) * es;
        F32x4Buf kb = F32x4Buf(ka), vb = F32x4Buf(va);
        F16Buf kh = F16Buf(ka), vh = F16Buf(va);

        coopmat<O_T, gl_ScopeWorkgroup, BR, D, gl_MatrixUseAccumulator> o =
                coopmat<O_T, gl_ScopeWorkgroup, BR, D, gl_MatrixUseAccumulator>(O_T(0.0));
        /* Row-constant matrices: every column of a row holds the row's value. */
        coopmat<float, gl_ScopeWorkgroup, BR, BC, gl_MatrixUseAccumulator> l =
                coopmat<float, gl_ScopeWorkgroup, BR, BC, gl_MatrixUseAccumulator>(0.0);
        coopmat<float, gl_ScopeWorkgroup, BR, BC, gl_MatrixUseAccumulator> m =
                coopmat<float, gl_ScopeWorkgroup, BR, BC, gl_MatrixUseAccumulator>(NEG);
        coopmat<float16_t, gl_ScopeWorkgroup, BC, BC, gl_MatrixUseB> ones =
                coopmat<float16_t, gl_ScopeWorkgroup, BC, BC, gl_MatrixUseB>(1.0);

        /* Split (p.chunk > 0, a multiple of BC): workgroup z takes slots [slot_lo + z * chunk, + chunk);
         * one whose part lies past the last visible slot walks none and leaves empty partials. */
#ifdef WRAP
        /* (virtual slots) */
        uint nz = gl_NumWorkGroups.z, z = gl_WorkGroupID.z, sb = slot_lo, se = vs_hi;
        if (p.chunk > 0u) {
                sb = slot_lo + z * p.chunk;
                se = min(vs_hi, sb + p.chunk - 1u);
        }
#else
        uint nz = gl_NumWorkGroups.z, z = gl_WorkGroupID.z, sb = slot_lo, se = slot_hi;
        if (p.chunk > 0u) {
                sb = slot_lo + z * p.chunk;
                se = min(slot_hi, sb + p.chunk - 1u);
        }
#endif
        /* The last row's first visible position: blocks from it on and up to the first row's position
         * need no mask (the window only moves forwards with the rows). */
        int lo_last = first_seen(hi);
#ifdef WRAP
        /* Blocks of BC virtual slots from sb, and the first past the ring's end starting right at it. */
        for (uint s0 = sb; s0 <= se; s0 = s0 < p.ring && s0 + BC > p.ring ? p.ring : s0 + BC) {
                bool past = s0 >= p.ring;
                /* The block's columns end at the part's end, or at the ring's end before it. */
                uint kend = uint(lo) + (min(se + 1u, past ? se + 1u : p.ring) - slot_lo);
#else
        for (uint s0 = sb; s0 <= se; s0 += BC) {
#endif
                uint k0 = uint(lo) + (s0 - slot_lo); /* position of the block's first row */
                coopmat<float16_t, gl_ScopeWorkgroup, D, BC, gl_MatrixUseB> kt;
#ifdef WRAP
                bool full = !CLAMP_ALL && (past ? s0 - p.ring + BC <= slot_hi + 1u : s0 + BC <= rows_a);
                if (past) {
                        LOAD_K(kt, lkb, lkbu, s0 - p.ring, full);
                } else
#else
                bool full = !CLAMP_ALL && s0 + BC <= slot_hi + 1u;
#endif
                {
                        LOAD_K(kt, lk, lku, s0, full);
                }
                coopmat<float, gl_ScopeWorkgroup, BR, BC, gl_MatrixUseAccumulator> s =
                        coopmat<float, gl_ScopeWorkgroup, BR, BC, gl_MatrixUseAccumulator>(0.0);
                s = coopMatMulAdd(qa, kt, s);
#ifdef WRAP
                if (k0 + BC > kend)
                        coopMatPerElementNV(s, s, mask_end, uint(pos0), k0, kend);
                else
#endif
                if (int(k0 + BC) - 1 > pos0 || int(k0) < lo_last)
                        coopMatPerElementNV(s, s, mask_s, uint(pos0), k0);

                coopmat<float, gl_ScopeWorkgroup, BR, BC, gl_MatrixUseAccumulator> rmax, mold, pm, em, rsum;
                coopMatReduceNV(rmax, s, gl_CooperativeMatrixReduceRowNV, max_r);
                mold = m;
                coopMatPerElementNV(m, rmax, max_e, mold);
                coopMatPerElementNV(pm, s - m, exp_e);
                coopMatPerElementNV(em, mold - m, exp_e);
                /* The weights as rounded for P V, summed by a product with ones. */
                coopmat<float16_t, gl_ScopeWorkgroup, BR, BC, gl_MatrixUseA> pa =
                        coopmat<float16_t, gl_ScopeWorkgroup, BR, BC, gl_MatrixUseA>(pm);
                rsum = coopmat<float, gl_ScopeWorkgroup, BR, BC, gl_MatrixUseAccumulator>(0.0);
                rsum = coopMatMulAdd(pa, ones, rsum);
                l = em * l + rsum;

                coopmat<float16_t, gl_ScopeWorkgroup, BC, D, gl_MatrixUseB> v;
#ifdef WRAP
                if (past) {
                        LOAD_V(v, lvb, lvbu, s0 - p.ring, full);
                } else
#endif
                {
                        LOAD_V(v, lv, lvu, s0, full);
                }
#ifdef O16
                /* The row factors (in (0, 1]) smeared over O's columns in f16: no f32 matrix of O's
                 * size a block. */
                coopmat<float16_t, gl_ScopeWorkgroup, BR, BC, gl_MatrixUseAccumulator> em16 =
                        coopmat<float16_t, gl_ScopeWorkgroup, BR, BC, gl_MatrixUseAccumulator>(em);
                coopmat<float16_t, gl_ScopeWorkgroup, BR, D, gl_MatrixUseAccumulator> emd;
                coopMatReduceNV(emd, em16, gl_CooperativeMatrixReduceRowNV, first_r16);
#else
                coopmat<float, gl_ScopeWorkgroup, BR, D, gl_MatrixUseAccumulator> emd;
                coopMatReduceNV(emd, em, gl_CooperativeMatrixReduceRowNV, first_r);
#endif
                o = o * emd;
                o = coopMatMulAdd(pa, v, o);
        }
#ifdef O16
        /* The rest in f32: the partials and the normalised rows as without O16. */
        coopmat<float, gl_ScopeWorkgroup, BR, D, gl_MatrixUseAccumulator> of =
                coopmat<float, gl_ScopeWorkgroup, BR, D, gl_MatrixUseAccumulator>(o);
#else
#define of o
#endif

        if (nz > 1u) {
                /* The unnormalised rows, maxima and sums to the partials; the last workgroup merges. */
                tensorLayoutNV<2, gl_CooperativeMatrixClampModeConstantNV> lp =
                        createTensorLayoutNV(2, gl_CooperativeMatrixClampModeConstantNV);
                uint lpr = p.n_head * nz * (D + 4u); /* floats a token's partial rows */
                lp = setTensorLayoutDimensionNV(lp, p.nt, lpr);
                lp = setTensorLayoutStrideNV(lp, lpr, 1);
                coopMatStoreTensorNV(of, CF32(p.part + uint64_t(p.part_off)).v, 0,
                                     sliceTensorLayoutNV(lp, tq0, BR, (h * nz + z) * (D + 4u), D));
                coopMatPerElementNV(m, m, store_col0, tq0, h, D);
                coopMatPerElementNV(l, l, store_col0, tq0, h, D + 1u);
                split_count(h, tq0);
                return;
        }

        coopmat<float, gl_ScopeWorkgroup, BR, D, gl_MatrixUseAccumulator> inv;
        coopMatReduceNV(inv, l, gl_CooperativeMatrixReduceRowNV, first_r);
        [[unroll]] for (uint i = 0; i < inv.length(); i++)
                inv[i] = inv[i] > 0.0 ? 1.0 / inv[i] : 0.0;
        of = of * inv;

        /* Rows tq0.. of the output, this head's columns; rows past the step are clamped off. */
        tensorLayoutNV<2, gl_CooperativeMatrixClampModeConstantNV> lout =
                createTensorLayoutNV(2, gl_CooperativeMatrixClampModeConstantNV);
        lout = setTensorLayoutDimensionNV(lout, p.nt, od);
        lout = setTensorLayoutStrideNV(lout, od, 1);
        coopMatStoreTensorNV(of, F32Buf(p.dst).v, 0, sliceTensorLayoutNV(lout, tq0, BR, h * p.head_dim_v, D));
        if (p.q8 != 0ul) {
                coopmat<float16_t, gl_ScopeWorkgroup, BR, D, gl_MatrixUseAccumulator> o16 =
                        coopmat<float16_t, gl_ScopeWorkgroup, BR, D, gl_MatrixUseAccumulator>(of);
                coopMatStoreTensorNV(o16, F16Buf(p.q8).v, 0, sliceTensorLayoutNV(lout, tq0, BR, h * p.head_dim_v, D));
        }
}
