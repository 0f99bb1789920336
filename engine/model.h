/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Engine-internal view of a model: hyper-parameters, the per-architecture
 * forward description (flags below), and weight tensors as views into the
 * mmap'ed GGUF. Backends read these; nothing outside engine/ does.
 */

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "gguf.h"
#include "quant.h"

enum model_arch {
        ARCH_LLAMA,
        ARCH_QWEN2,
        ARCH_GEMMA3,
};

enum ffn_act {
        FFN_SILU,      /* llama, qwen2: silu(gate) * up */
        FFN_GELU_TANH, /* gemma3: gelu_tanh(gate) * up */
};

/* A 2-D (or 1-D) weight inside the mapping. ne[0] is the row length. */
struct tensor {
        const char *name;
        enum ggml_type type;
        uint64_t ne[2];    /* [row length, rows]; 1-D tensors have ne[1] == 1 */
        size_t row_bytes;
        const void *data;
};

struct hparams {
        enum model_arch arch;
        uint32_t n_vocab;
        uint32_t n_embd;        /* hidden size */
        uint32_t n_layer;
        uint32_t n_head;
        uint32_t n_head_kv;
        uint32_t head_dim;      /* per-head size of q and k */
        uint32_t head_dim_v;    /* per-head size of v */
        uint32_t n_rot;         /* rotary dims per head (<= head_dim) */
        uint32_t n_ff;
        uint32_t n_ctx_train;
        float norm_eps;
        float rope_base;        /* global layers */
        float rope_base_swa;    /* sliding-window layers */
        float rope_scale;       /* position multiplier on global layers (1/linear factor) */
        bool rope_neox;         /* rotate halves (qwen2, gemma3) vs adjacent pairs (llama, permuted weights) */
        uint32_t sliding_window; /* 0: none */
        uint32_t swa_pattern;   /* layer il is global iff (il + 1) % swa_pattern == 0 */
        float emb_scale;        /* gemma3: sqrt(n_embd) */
        float attn_scale;       /* 1/sqrt(head_dim) */
        enum ffn_act act;
        bool qkv_bias;          /* qwen2 */
        bool qk_norm;           /* gemma3 */
        bool post_norms;        /* gemma3: post-attention and post-FFN norms */
};

struct layer {
        bool swa;                       /* sliding-window layer */
        struct tensor attn_norm;        /* [n_embd] */
        struct tensor wq;               /* [n_embd] x n_head*head_dim rows */
        struct tensor wk;               /* [n_embd] x n_head_kv*head_dim rows */
        struct tensor wv;               /* [n_embd] x n_head_kv*head_dim_v rows */
        struct tensor wo;               /* [n_head*head_dim_v] x n_embd rows */
        struct tensor bq, bk, bv;       /* qwen2: [n_head*head_dim], [n_head_kv*head_dim] … */
        struct tensor q_norm, k_norm;   /* gemma3: [head_dim] */
        struct tensor post_attn_norm;   /* gemma3: [n_embd] */
        struct tensor ffn_norm;         /* [n_embd] */
        struct tensor ffn_gate;         /* [n_embd] x n_ff rows */
        struct tensor ffn_up;           /* [n_embd] x n_ff rows */
        struct tensor ffn_down;         /* [n_ff] x n_embd rows */
        struct tensor post_ffn_norm;    /* gemma3: [n_embd] */
};

struct backend_ops;

struct Model {
        unsigned n_ref;
        GgufFile *gguf;
        struct hparams hp;
        struct model_info info;
        char *arch_name;
        char *name;

        struct tensor tok_embd;   /* [n_embd] x n_vocab rows */
        struct tensor output_norm; /* [n_embd] */
        struct tensor output;     /* [n_embd] x n_vocab rows; == tok_embd when tied */
        struct tensor rope_freqs; /* llama 3: [n_rot/2] frequency divisors, or data == NULL */
        struct layer *layers;     /* [n_layer] */

        Tokenizer *tokenizer;
        ChatTemplate chat;

        const struct backend_ops *backend;
        void *backend_state;
        char backend_desc[384]; /* room for the device and a "[weights: …]" note after it */
        uint32_t n_threads;
        bool exact_activations;
        /* The caller's weight allocator while model_init runs (then NULL again). */
        struct engine_weight_allocator *weight_alloc;
};

/*
 * Backends implement this table (ARCHITECTURE.md: "Backends implement one
 * ops table"). The CPU backend is the reference every other one is tested
 * against.
 */
struct backend_ops {
        const char *name;
        /* Prepares weights (CPU: uses the mapping; GPU: uploads once). */
        int (*model_init)(Model *m, void **ret_state, char *ret_error, size_t error_size);
        void (*model_free)(void *state);
        /* KV cache and scratch for n_seq sequences of n_ctx tokens, n_batch tokens per step. */
        int (*context_init)(Context *c, void **ret_state);
        void (*context_free)(void *state);
        /* One forward step; logits of the n_out flagged tokens into out[n_out][n_vocab], or, where the
         * backend has them in host memory of its own, *view pointed at them instead (valid until the
         * next decode or context_free; writable, as out is) and out left alone. */
        int (*decode)(Context *c, const struct batch *b, float *out, float **view);
        /* Keeps positions < p0 of seq; returns the position actually kept (<= p0)
         * when a ring buffer has already overwritten what p0 would need. */
        int32_t (*seq_truncate)(Context *c, int32_t seq, int32_t p0);
};

extern const struct backend_ops cpu_backend_ops;
#if UNICORN_HAVE_VULKAN
extern const struct backend_ops vulkan_backend_ops;
/* Whether "auto" should use Vulkan: a usable device that is not a software one; else why not. */
bool vulkan_backend_preferred(char *reason, size_t reason_size);
#endif

/* Context internals shared by context.c and the backends. */
struct Context {
        Model *model;
        uint32_t n_ctx, n_seq, n_batch;
        int32_t *seq_len;      /* [n_seq] positions in the KV cache */
        int32_t **seq_tokens;  /* [n_seq][n_ctx] token at each cached position */
        float *logits;         /* [n_out][n_vocab] of the last decode */
        float *logits_view;    /* or these, the backend's (decode's view), where it set them */
        size_t n_logits, logits_cap;
        void *backend_state;
};

int model_hparams_load(const GgufFile *f, struct hparams *hp, char *ret_error, size_t error_size);
