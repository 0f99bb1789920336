/* SPDX-License-Identifier: MIT */
/*
 * Push-constant blocks. Mirrored in engine/vulkan/vk-push.h, where
 * _Static_assert checks each size: change both together. All are at most
 * 128 bytes (the smallest maxPushConstantsSize Vulkan allows).
 */

/* matvec / matmul / get_rows:
 *   y[t * ldy + r] (+)= sum_k W[r][k] * x[t * ldx + k] (+ bias[r]),  r < n, t < nt
 * get_rows: y[t * ldy + i] = W[ids[t]][i] * scale (x holds the ids). */
#define MM_ACC 1u   /* add into y (fuses the residual add) */
#define MM_BIAS 2u  /* add bias[r] */
#define MM_GLU_GELU 4u /* GLU mat-vec (bias = up weights): GELU-tanh instead of SiLU */
/* The NV tiled product (matmul_cm2.comp): x's rows up to nt rounded up to a multiple of 256 can be read
 * (their values only reach the outputs of tokens past nt, which are not stored). */
#define MM_XPAD 8u
struct pc_mm {
        uint64_t w, x, y, bias;
        uint k, n, nt, row_bytes;
        uint ldx, ldy, flags;
        float scale;
};

/* One-token mat-vec on 8-bit activations (mv8.comp): y[r] (+)= W[r] . x, or in the GLU form
 * y = act(gate . x) * (up . x) (w = gate, up = up weights). x is the 8-bit row of include/q8.glsl;
 * in the staged variants (mv8s*) it is the float row, which every workgroup quantizes into shared
 * memory itself, after an RMSNorm (times g where g != 0) under MV8_NORM. MV8_POST (Gemma's
 * post-norms): the row is first x + rmsnorm(t) * wt, and the first workgroup writes it to xo
 * (the residual for the next block; xo != x). Staged GLU with yq != 0: y also as an 8-bit row at yq
 * (32 rows a workgroup). */
#define MV8_NORM 8u
#define MV8_POST 16u
struct pc_mv8 {
        uint64_t w, x, y, up, g, t, wt, xo, yq;
        uint k, n, row_bytes, flags;
        float eps;
        uint nt, ldy; /* the mv8n forms (NT > 1): tokens, and floats between their output rows */
        uint pad;
};

/* Fused block glue, one row per workgroup:
 *   if NORM_T:   t = rmsnorm(t) * wt        (Gemma's post-norms)
 *   if ADD_T:    x += t
 *   if OUT:      dst = rmsnorm(x[idx ? idx[r] : r]) * w   (w optional)
 *   if Q8:       the same rows quantized, q8 + r * q8_row_bytes(n) */
#define NORM_T 1u
#define ADD_T 2u
#define NORM_OUT 4u
#define NORM_W 8u
#define NORM_IDX 16u
#define NORM_Q8 32u /* also write dst's rows as 8-bit activations (include/q8.glsl) at q8 */
/* dst16 != 0 (with OUT): dst's rows as f16 there too, n halves apart (what cvt16.comp would make of
 * them, for the matrix-core products; n % 4 == 0). */
struct pc_norm {
        uint64_t x, t, wt, w, dst, idx, q8, dst16;
        uint n, rows, flags;
        float eps;
};

/* Per (token, head) after the q/k/v projections, in the qkv rows
 * [q heads | k heads | v heads] of ld floats: bias, QK-norm, RoPE, and the
 * k/v rows written to their KV-cache slots. */
#define QKV_BIAS 1u
#define QKV_NORM 2u
#define QKV_NEOX 4u
#define ATTN_QKV 8u
#define ATTN_SLOT_SWA 16u
struct pc_qkv {
        uint64_t qkv, bias, norm, rope, kc, vc, tok;
        uint nt, n_head, n_head_kv, head_dim;
        uint head_dim_v, n_rot, ld, flags;
        float eps;
        uint tok_slot; /* which slot column of tok (ivec4: pos, seq, slot global, slot swa) */
};

/* Attention of token t, head h over the cached positions of its sequence. */
struct pc_attn {
        uint64_t q, kc, vc, dst, tok;
        uint64_t q8; /* non-zero: also the output rows as 8-bit activations (one token; needs subgroups of >= 32);
                      * in attn_cm.comp (prefill) the output rows as f16 instead */
        uint64_t part; /* split-K: counters, then partials (attn.comp) */
        uint64_t bias, norm; /* ATTN_QKV: as pc_qkv's */
        uint n_head, n_head_kv, head_dim, head_dim_v;
        uint ldq, ring, window, nt;
        float scale;
        uint chunk; /* split-K: positions per workgroup z (0: one pass) */
        /* ATTN_QKV (one token): the qkv kernel's work done here; the RoPE table at tok + rope_off,
         * flags: QKV_* | ATTN_QKV | ATTN_SLOT_SWA (tok's slot column 3, else 2) | n_rot << 16. */
        uint rope_off, flags;
        float eps;
        uint part_off; /* prefill split-K: the partials' byte offset from part (after the counters) */
};
/* Split-K runs for steps of up to ATTN_SPLIT_TOKENS tokens; its partials buffer starts with a
 * zeroed counter per (token, head), which the kernel leaves zeroed. */
#define ATTN_SPLIT_TOKENS 8u
#define ATTN_MAX_SPLIT 64u /* workgroups per (token, head) at most */
#define ATTN_CNT_BYTES(n_head) ((ATTN_SPLIT_TOKENS * (n_head) * 4u + 255u) & ~255u)
/* Prefill split-K (attn_cm.comp, chunk > 0): at most ATTN_PF_MAX_SPLIT workgroups per (query block,
 * head), each writing rows of head_dim_v + 4 floats (unnormalised output, max, sum, 2 unused: rows
 * stay 16-byte aligned) per (token, head, split) at part + part_off, after a zeroed counter per
 * (query block, head) at part, which the kernel leaves zeroed. */
#define ATTN_PF_MAX_SPLIT 8u

/* dst = act(gate) * up over n = nt x k elements: row t's element c of gate and up at t * ld + c, of dst at
 * t * k + c (dst = gate, k = ld = n: in place); dst16 != 0: the same as f16 there too. n, k and ld are
 * multiples of 4. */
#define ACT_SILU 0u
#define ACT_GELU_TANH 1u
struct pc_act {
        uint64_t gate, up, dst, dst16;
        uint n, op, k, ld;
};
