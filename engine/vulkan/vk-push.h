/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Push-constant blocks of the kernels, mirrored from
 * shaders/include/push.glsl (the truth for their meaning; change both
 * together). Buffers are passed as buffer device addresses.
 */

#include <stdint.h>

#define MM_ACC 1u
#define MM_BIAS 2u
#define MM_GLU_GELU 4u
#define MM_XPAD 8u
struct pc_mm {
        uint64_t w, x, y, bias;
        uint32_t k, n, nt, row_bytes;
        uint32_t ldx, ldy, flags;
        float scale;
};

#define MV8_NORM 8u
#define MV8_POST 16u
struct pc_mv8 {
        uint64_t w, x, y, up, g, t, wt, xo, yq;
        uint32_t k, n, row_bytes, flags;
        float eps;
        uint32_t nt, ldy; /* the mv8n forms (NT > 1): tokens, and floats between their output rows */
        uint32_t pad;
};

#define NORM_T 1u
#define ADD_T 2u
#define NORM_OUT 4u
#define NORM_W 8u
#define NORM_IDX 16u
#define NORM_Q8 32u
struct pc_norm {
        uint64_t x, t, wt, w, dst, idx, q8, dst16;
        uint32_t n, rows, flags;
        float eps;
};

#define QKV_BIAS 1u
#define QKV_NORM 2u
#define QKV_NEOX 4u
#define ATTN_QKV 8u
#define ATTN_SLOT_SWA 16u
struct pc_qkv {
        uint64_t qkv, bias, norm, rope, kc, vc, tok;
        uint32_t nt, n_head, n_head_kv, head_dim;
        uint32_t head_dim_v, n_rot, ld, flags;
        float eps;
        uint32_t tok_slot;
};

struct pc_attn {
        uint64_t q, kc, vc, dst, tok;
        uint64_t q8; /* also the output row as 8-bit activations (include/q8.glsl), or 0; attn_cm.comp
                      * (prefill): the output rows as f16 (vk_op_attn_prefill) */
        uint64_t part; /* split-K: counters, then partials (attn.comp) */
        uint64_t bias, norm; /* ATTN_QKV: as pc_qkv's */
        uint32_t n_head, n_head_kv, head_dim, head_dim_v;
        uint32_t ldq, ring, window, nt;
        float scale;
        uint32_t chunk; /* split-K: positions per workgroup z (0: one pass) */
        /* ATTN_QKV (one token): the qkv kernel's work done here; the RoPE table at tok + rope_off,
         * flags: QKV_* | ATTN_QKV | ATTN_SLOT_SWA (tok's slot column 3, else 2) | n_rot << 16. */
        uint32_t rope_off, flags;
        float eps;
        uint32_t part_off; /* prefill split-K: the partials' byte offset from part (after the counters) */
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

#define ACT_SILU 0u
#define ACT_GELU_TANH 1u
struct pc_act {
        uint64_t gate, up, dst, dst16;
        uint32_t n, op, k, ld;
};

/* std430 push-constant layout equals the C layout for these (8-byte
 * members first, then 4-byte ones). */
_Static_assert(sizeof(struct pc_mm) == 64, "pc_mm");
_Static_assert(sizeof(struct pc_mv8) == 104, "pc_mv8");
_Static_assert(sizeof(struct pc_norm) == 80, "pc_norm");
_Static_assert(sizeof(struct pc_qkv) == 96, "pc_qkv");
_Static_assert(sizeof(struct pc_attn) == 128, "pc_attn");
_Static_assert(sizeof(struct pc_act) == 48, "pc_act");
#define VK_PUSH_MAX 128 /* every Vulkan device has at least 128 bytes */
