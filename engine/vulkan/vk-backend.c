/* SPDX-License-Identifier: MIT */
/*
 * The Vulkan backend: the CPU backend's forward pass (engine/cpu/
 * cpu-backend.c is the reference) as compute kernels. Weights are uploaded
 * once per model; the KV cache (float32, ring buffers on sliding layers as
 * on the CPU) and all activations stay on the device. A step is one
 * command buffer, one submit and one fence wait; only the logits of the
 * flagged tokens come back.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../cpu/cpu-ops.h"
#include "macros.h"
#include "model.h"
#include "vk.h"

/* A step is submitted after its first layer and then every FLUSH_LAYERS layers, so the GPU starts
 * while the host still records the rest: recording costs ~10 us a layer on the NVIDIA driver, a
 * decode layer runs 60-150 us, so after the first part the GPU no longer waits for the host. */
#define FLUSH_LAYERS 4
/* Rows of logits a step writes to device memory first on a discrete GPU (vk_ctx.logits_dev): one a
 * sequence for batched decode; 64 MiB for Gemma 3's 262,144-token vocabulary. */
#define LOGITS_DEV_ROWS 64u
/* Rows of host-visible logits a context starts with (or one a sequence, if more): vk_context.logits. */
#define LOGITS_HOST_ROWS 16u

/* Decode steps of up to ATTN_SPLIT_TOKENS (vk-push.h) tokens split attention over positions,
 * over at least this many positions (UNICORN_VK_ATTN_SPLIT_MIN overrides, for tests and tuning).
 * 16 measured best on the H100 (Qwen2.5 7B Q4_0 tg128: 16 -> 218 t/s, 64 -> 216, 256 -> 210): one
 * workgroup per head walks its positions serially, so splitting pays even for short spans. */
static uint32_t ATTN_SPLIT_MIN_LEN = 16;

/* The prefetch budgets of a one-token step (see prefetch(); UNICORN_VK_PREFETCH overrides). 8 MiB at
 * every site on large NVIDIA GPUs: H200 tg128 Gemma 3 27B Q4_0 120.1 -> 124.1 t/s, Qwen2.5 7B Q4_0
 * 396-399 -> 402, Gemma 3 4B unchanged; 16 MiB and more made the steps it runs beside longer than
 * they save (7B: 369 t/s at 32). Only where the L2 cache holds it several times over: Vulkan does
 * not tell its size, but NVIDIA parts of 100 multiprocessors or more have 40-72 MiB (A100, H100,
 * H200, RTX 4090), where smaller ones can have 4-6 MiB (RTX 3090: 82, 6 MiB). Off elsewhere: not
 * measured, and an APU's cache is a few MiB. */
#define PREFETCH_MIN_SMS 100
static void prefetch_default(const struct vk_device *d, uint64_t bytes[5]) {
        bool nv = d->props.vendorID == 0x10de && d->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU &&
                  d->sm_count >= PREFETCH_MIN_SMS;
        for (uint32_t i = 0; i < 5; i++)
                bytes[i] = nv ? (uint64_t) 8 << 20 : 0;
}

struct vk_tensor {
        VkDeviceAddress addr; /* 0: absent */
        int wt;               /* enum vk_wtype */
        uint32_t row_bytes, k, n;
};

struct vk_layer {
        struct vk_tensor wq, wk, wv, wo, gate, up, down;
        /* q, k and v as one matrix (rows [q | k | v], so one product writes the qkv row), and gate and
         * up (rows [gate | up]), where they share a type and row length (upload_joined); the parts are
         * then views into them. addr 0: not joined. */
        struct vk_tensor wqkv, wgu;
        VkDeviceAddress attn_norm, ffn_norm, post_attn_norm, post_ffn_norm;
        VkDeviceAddress bqkv;  /* [q_dim + k_dim + v_dim] qwen2 biases, or 0 */
        VkDeviceAddress qk_norm; /* [2][head_dim] gemma3, or 0 */
};

struct vk_model {
        struct vk_device *d;
        struct vk_pipelines pl;
        struct vk_buf *bufs; /* every weight buffer, for freeing */
        size_t n_bufs, cap_bufs;
        struct vk_tensor tok_embd, output;
        VkDeviceAddress output_norm;
        struct vk_layer *layers;
        uint32_t n_layer;
        pthread_mutex_t lock; /* steps of the model's contexts are serialised */
        /* Weight matrices in the embedder's memory (vk-import.c) while importing holds. */
        struct vk_import imp;
        bool importing;
        uint32_t n_imported;
        uint64_t imported_bytes;
        char import_why[160]; /* why importing stopped (or never started) */
        /* Weights allocated here are placed in a few large buffers (chunks of at most WEIGHT_CHUNK)
         * rather than one allocation each; arena_left: bytes of such tensors not yet placed, so the
         * last chunk is no larger than what it holds. UNICORN_VK_SUBALLOC=0: one allocation each. */
        bool suballoc;
        struct vk_buf chunk; /* the chunk being filled (a copy of its entry in bufs), or none (.buf 0) */
        VkDeviceSize chunk_used;
        uint64_t arena_left;
};

/* Weights are placed in chunks of this size; larger tensors get their own allocation. A few large
 * allocations instead of one per tensor (~600 for a 27B model) stay far from drivers' allocation-count
 * limits; no speed difference was measured (docs/vulkan.md). */
#define WEIGHT_CHUNK ((VkDeviceSize) 256 << 20)
#define WEIGHT_ALIGN ((VkDeviceSize) 256)

enum { PF_QKV, PF_O, PF_GLU, PF_DOWN, PF_OUT };

struct vk_context {
        uint32_t n_layer;
        struct vk_buf *kc, *vc; /* [n_layer] caches: [n_seq][ring][kv dim] */
        uint32_t *ring;         /* [n_layer] */
        uint32_t ring_global, ring_swa;
        struct vk_buf x, h, qkv, att, tmp, gate, up;
        struct vk_buf x2;       /* one row: the other residual buffer of staged post-norms (vk_decode) */
        struct vk_buf hq, attq, gateq; /* up to VK_MV8N_MAX rows of h, att, gate as 8-bit activations */
        struct vk_buf x16;      /* prefill: the input of the next products as f16 (matrix-core devices) */
        struct vk_buf attp;     /* split-K attention partials of decode steps */
        struct vk_buf attpf;    /* the same of prefill steps on attn_cm.comp (vk_attn_pf_part_bytes), or none */
        bool no_pf;             /* UNICORN_VK_ATTN_PF=0: prefill attention one query per workgroup */
        bool no_pf_runs;        /* UNICORN_VK_ATTN_RUNS=0: steps of several sequences on the general kernel */
        bool no_attn_qkv;       /* UNICORN_VK_ATTN_QKV=0: one-token steps run the qkv kernel too */
        /* Which one-token products may take the staged mat-vec (norm folded in): bit 0 q/k/v, bit 1
         * gate/up (UNICORN_VK_MV8S_SITES=N; default 3). */
        uint32_t staged_sites;
        /* Which steps run q, k and v as one product where the model has them as one matrix (wqkv): bit 0
         * one-token steps, bit 1 longer ones (UNICORN_VK_QKV_FUSED=N). Default: bit 0 for small models
         * (small_model), else 0. */
        uint32_t qkv_fused;
        /* One-token steps: the staged GLU writes the down projection's 8-bit row itself (no quantx
         * dispatch and barrier). Default: small models only (its 32-row workgroups run the large
         * products ~15% slower, H200); UNICORN_VK_GLU_Q8=0|1. */
        bool glu_q8;
        /* Steps of several tokens run gate and up as one product where the model has them as one matrix
         * (wgu), into up (then two rows wide), and the activation reads both halves from there
         * (UNICORN_VK_GU_FUSED=1; default 0 until measured). */
        bool gu_fused;
        /* The kernels that make a product's input rows (the norms, the prefill attention on matrix
         * cores, the GLU activation) write its f16 rows themselves: no cvt16 dispatch and barrier
         * (UNICORN_VK_ACT16=0: off). */
        bool act16;
        uint32_t flush_layers;  /* submit the step's work every this many layers (0: once at the end) */
        /* One-token steps: weight bytes read into L2 beside an idle-bus kernel, by the product they are
         * for: PF_QKV (beside the norm before a layer), PF_O (the attention), PF_GLU (the norm after
         * it), PF_DOWN (the activation's 8-bit conversion), PF_OUT (the output norm). */
        uint64_t prefetch[5];
        struct vk_buf in;       /* host-visible: tokens, tok info, out idx, rope tables */
        size_t off_tok, off_info, off_idx, off_rope_g, off_rope_s;
        /* Host-visible [logits_rows][n_vocab], grown (logits_room) when a step asks for more rows. Made
         * whole, n_batch rows of a large vocabulary were the biggest buffer of a context, in pinned
         * host memory (512 x 262144 floats for Gemma 3: 512 MiB a session), for rows that only
         * perplexity-style steps ask for: a step of the daemon asks one a sequence. */
        struct vk_buf logits;
        uint32_t logits_rows;
        /* Device-local [LOGITS_DEV_ROWS][n_vocab], where the step's output product writes on a discrete
         * GPU for up to that many rows: logits gets them in one copy at the step's end (vk_cmd_copy).
         * Written across the bus directly, a float a row, the output mat-vec took Gemma 3 1B's 262144
         * rows in 321 us in a prefill step on the H100 (and 4B's in 345) against 72 (198) alone
         * (run133-results.txt). UMA devices, and steps of more rows (a whole batch's logits), write
         * logits directly. UNICORN_VK_LOGITS=device|host forces either. */
        struct vk_buf logits_dev;
        struct vk_buf_group mem; /* the device-local buffers' memory: the caches, scratch, logits_dev */
        struct vk_cmd cmd;
};

/* A weight buffer: matrices (the bulk of the bytes) in memory from the embedder's allocator while that
 * works; the first failure ends importing, and the rest, like every vector, is allocated here. */
static int weight_buf(struct vk_model *vm, size_t size, bool matrix, struct vk_buf *ret) {
        if (matrix && vm->importing) {
                uint64_t bytes;
                int r = vk_buf_import(vm->d, &vm->imp, size, ret, &bytes, vm->import_why, sizeof vm->import_why);
                if (r >= 0) {
                        vm->n_imported++;
                        vm->imported_bytes += bytes;
                        return 0;
                }
                vm->importing = false;
        }
        return vk_buf_create(vm->d, size, VK_MEM_DEVICE, ret);
}

/* The bytes a tensor takes in a chunk (vk_buf_padded: kernels may read a word past the end). */
static VkDeviceSize chunk_bytes(size_t size) {
        return ALIGN_TO(vk_buf_padded(size), WEIGHT_ALIGN);
}

/* Keeps b with the model's buffers, freed with it (destroyed now where that fails). */
static int keep_buf(struct vk_model *vm, struct vk_buf *b) {
        if (vm->n_bufs == vm->cap_bufs) {
                size_t cap = MAX(vm->cap_bufs * 2, (size_t) 64);
                struct vk_buf *nb = realloc(vm->bufs, cap * sizeof *nb);
                if (!nb) {
                        vk_buf_destroy(vm->d, b);
                        return -ENOMEM;
                }
                vm->bufs = nb;
                vm->cap_bufs = cap;
        }
        vm->bufs[vm->n_bufs++] = *b;
        return 0;
}

/* Room for size bytes of weights: in the current chunk, or a buffer of its own. */
static int place(struct vk_model *vm, size_t size, bool matrix, struct vk_buf *ret, VkDeviceSize *off) {
        VkDeviceSize need = chunk_bytes(size);
        bool in_chunk = vm->suballoc && !(matrix && vm->importing) && need <= WEIGHT_CHUNK;
        struct vk_buf b;
        int r;

        *off = 0;
        if (!in_chunk) {
                if ((r = weight_buf(vm, size, matrix, &b)) < 0 || (r = keep_buf(vm, &b)) < 0)
                        return r;
                *ret = b;
                return 0;
        }
        if (!vm->chunk.buf || vm->chunk.size - vm->chunk_used < need) {
                r = vk_buf_create(vm->d, MIN(WEIGHT_CHUNK, MAX((VkDeviceSize) vm->arena_left, need)), VK_MEM_DEVICE,
                                  &b);
                if (r < 0 || (r = keep_buf(vm, &b)) < 0)
                        return r;
                vm->chunk = b;
                vm->chunk_used = 0;
        }
        *ret = vm->chunk;
        *off = vm->chunk_used;
        vm->chunk_used += need;
        vm->arena_left -= MIN(vm->arena_left, (uint64_t) need);
        return 0;
}

static int upload(struct vk_model *vm, const void *data, size_t size, bool matrix, VkDeviceAddress *ret) {
        struct vk_buf b;
        VkDeviceSize off;
        int r = place(vm, size, matrix, &b, &off);

        if (r >= 0)
                r = vk_buf_write(vm->d, &b, off, data, size);
        if (r >= 0)
                *ret = b.addr + off;
        return r;
}

/* Whether the kernels take t, and its rows' size on the device (vk_row_bytes) in *rb. */
static int matrix_check(const struct tensor *t, size_t *rb, char *err, size_t errsz) {
        int wt = vk_wtype(t->type);

        if (wt < 0) {
                snprintf(err, errsz, "tensor '%s' has type %s, which the Vulkan kernels do not handle", t->name,
                         quant_type_name(t->type));
                return -EOPNOTSUPP;
        }
        if (t->ne[0] % 4 != 0 || t->ne[0] > UINT32_MAX || t->ne[1] > UINT32_MAX || t->row_bytes > UINT32_MAX / 2) {
                snprintf(err, errsz, "tensor '%s' has a shape the Vulkan kernels do not handle", t->name);
                return -EOPNOTSUPP;
        }
        *rb = vk_row_bytes(wt, (uint32_t) t->ne[0], t->row_bytes);
        return wt;
}

/* Writes t (checked by matrix_check: type wt, device rows of rb bytes) at off in b; *ret views it. */
static int matrix_write(struct vk_model *vm, struct vk_buf *b, VkDeviceSize off, const struct tensor *t, int wt,
                        size_t rb, struct vk_tensor *ret, char *err, size_t errsz) {
        int r;

        if (vk_wtype_repacked(wt)) {
                _cleanup_free_ void *tmp = malloc(rb * t->ne[1]);
                if (!tmp)
                        return -ENOMEM;
                vk_repack(wt, t->data, t->row_bytes, (uint32_t) t->ne[0], (uint32_t) t->ne[1], tmp);
                r = vk_buf_write(vm->d, b, off, tmp, rb * t->ne[1]);
        } else
                r = vk_buf_write(vm->d, b, off, t->data, t->row_bytes * t->ne[1]);
        if (r < 0) {
                snprintf(err, errsz, "cannot upload '%s' to the GPU: %s", t->name, strerror(-r));
                return r;
        }
        *ret = (struct vk_tensor) { .addr = b->addr + off, .wt = wt, .row_bytes = (uint32_t) rb,
                                    .k = (uint32_t) t->ne[0], .n = (uint32_t) t->ne[1] };
        return 0;
}

static int upload_matrix(struct vk_model *vm, const struct tensor *t, struct vk_tensor *ret, char *err,
                         size_t errsz) {
        struct vk_buf b;
        VkDeviceSize off;
        size_t rb;
        int wt = matrix_check(t, &rb, err, errsz), r;

        if (wt < 0)
                return wt;
        r = place(vm, rb * t->ne[1], true, &b, &off);
        if (r < 0) {
                snprintf(err, errsz, "cannot upload '%s' to the GPU: %s", t->name, strerror(-r));
                return r;
        }
        return matrix_write(vm, &b, off, t, wt, rb, ret, err, errsz);
}

/* Matrices of one input uploaded as one (rows of t[0], then t[1], ...) where they share a type and
 * row length, so that a step may run them as one product: q, k and v (every model here but some
 * layers of llama.cpp's Q4_K_M files, whose v may be Q6_K), gate and up. For a prefill that is one
 * grid instead of several, fewer rounds of workgroups where the grids' last rounds were part-empty;
 * for a staged decode product, one staging of the row. Each part starts where it would alone (a
 * WEIGHT_ALIGN boundary), else they stay apart. */
static size_t joined_row_bytes(const struct tensor *t) {
        return vk_row_bytes(vk_wtype(t->type), (uint32_t) t->ne[0], t->row_bytes);
}

/* The joined matrix's rows (0: not joinable). */
static uint64_t joined_rows(const struct tensor *const *t, int n) {
        uint64_t rows = 0;

        if (vk_wtype(t[0]->type) < 0 || t[0]->ne[0] > UINT32_MAX)
                return 0;
        for (int i = 0; i < n; i++) {
                if (!t[i]->data || t[i]->type != t[0]->type || t[i]->ne[0] != t[0]->ne[0] ||
                    t[i]->row_bytes != t[0]->row_bytes ||
                    (i + 1 < n && joined_row_bytes(t[0]) * t[i]->ne[1] % WEIGHT_ALIGN != 0))
                        return 0;
                rows += t[i]->ne[1];
        }
        return rows <= UINT32_MAX ? rows : 0;
}

/* t[0..n) into v[0..n), as views into one matrix *joined where joinable (else each alone and
 * joined->addr 0). */
static int upload_joined(struct vk_model *vm, const struct tensor *const *t, struct vk_tensor *const *v, int n,
                         struct vk_tensor *joined, char *err, size_t errsz) {
        struct vk_buf b;
        VkDeviceSize off;
        size_t rb = 0;
        uint64_t rows = joined_rows(t, n);
        int wt = -1, r;

        *joined = (struct vk_tensor) { 0 };
        if (!rows) {
                for (int i = 0; i < n; i++)
                        if ((r = upload_matrix(vm, t[i], v[i], err, errsz)) < 0)
                                return r;
                return 0;
        }
        for (int i = 0; i < n; i++)
                if ((wt = matrix_check(t[i], &rb, err, errsz)) < 0)
                        return wt;
        r = place(vm, rb * rows, true, &b, &off);
        if (r < 0) {
                snprintf(err, errsz, "cannot upload '%s' to the GPU: %s", t[0]->name, strerror(-r));
                return r;
        }
        for (int i = 0; i < n; i++) {
                if ((r = matrix_write(vm, &b, off, t[i], wt, rb, v[i], err, errsz)) < 0)
                        return r;
                off += rb * t[i]->ne[1];
        }
        *joined = *v[0];
        joined->n = (uint32_t) rows;
        return 0;
}

static int upload_vec(struct vk_model *vm, const struct tensor *t, VkDeviceAddress *ret, char *err, size_t errsz) {
        int r;

        if (!t->data) {
                *ret = 0;
                return 0;
        }
        r = upload(vm, t->data, t->ne[0] * sizeof(float), false, ret);
        if (r < 0)
                snprintf(err, errsz, "cannot upload '%s' to the GPU: %s", t->name, strerror(-r));
        return r;
}

static void vk_model_free(void *state) {
        struct vk_model *vm = state;

        if (!vm)
                return;
        if (vm->d) {
                vkDeviceWaitIdle(vm->d->dev);
                for (size_t i = 0; i < vm->n_bufs; i++)
                        vk_buf_destroy(vm->d, &vm->bufs[i]);
                vk_pipelines_destroy(vm->d, &vm->pl);
                vk_device_release(vm->d);
        }
        pthread_mutex_destroy(&vm->lock);
        free(vm->bufs);
        free(vm->layers);
        free(vm);
}

/* The engine never logs: where the weights went, and why not where asked, is in the description. */
static void describe_import(struct vk_model *vm, Model *m) {
        size_t l = strlen(m->backend_desc);
        char *p = m->backend_desc + l;
        size_t n = sizeof m->backend_desc - l;

        m->weight_alloc->n_imported = vm->n_imported;
        m->weight_alloc->imported_bytes = vm->imported_bytes;
        if (vm->n_imported == 0)
                snprintf(p, n, " [weights: allocated here, not imported: %s]", vm->import_why);
        else if (!vm->importing)
                snprintf(p, n, " [weights: %u weight buffers imported (%s, %.1f MiB), the rest allocated here: %s]",
                         vm->n_imported, vm->imp.what, (double) vm->imported_bytes / (1 << 20), vm->import_why);
        else
                snprintf(p, n, " [weights: %u weight buffers imported (%s, %.1f MiB)]", vm->n_imported, vm->imp.what,
                         (double) vm->imported_bytes / (1 << 20));
}

/* The bytes of the tensors upload() will place in chunks (vectors, and matrices unless imported). */
static uint64_t arena_add(const struct vk_model *vm, const struct tensor *t, bool matrix) {
        size_t size;
        int wt;

        if (!t->data)
                return 0;
        if (!matrix)
                size = t->ne[0] * sizeof(float);
        else if (vm->importing || (wt = vk_wtype(t->type)) < 0 || t->ne[0] > UINT32_MAX)
                return 0;
        else
                size = vk_row_bytes(wt, (uint32_t) t->ne[0], t->row_bytes) * t->ne[1];
        return chunk_bytes(size) <= WEIGHT_CHUNK ? chunk_bytes(size) : 0;
}

/* The same for matrices that upload_joined places: joined, or each alone. */
static uint64_t arena_joined(const struct vk_model *vm, const struct tensor *const *t, int n) {
        uint64_t b = joined_rows(t, n) * joined_row_bytes(t[0]), sum = 0;

        if (!b) {
                for (int i = 0; i < n; i++)
                        sum += arena_add(vm, t[i], true);
                return sum;
        }
        return vm->importing || chunk_bytes(b) > WEIGHT_CHUNK ? 0 : chunk_bytes(b);
}

static uint64_t arena_bytes(const struct vk_model *vm, const Model *m) {
        const struct hparams *hp = &m->hp;
        uint64_t n = arena_add(vm, &m->tok_embd, true) + arena_add(vm, &m->output_norm, false);

        if (m->output.data != m->tok_embd.data)
                n += arena_add(vm, &m->output, true);
        for (uint32_t il = 0; il < hp->n_layer; il++) {
                const struct layer *L = &m->layers[il];
                const struct tensor *qkv[3] = { &L->wq, &L->wk, &L->wv }, *gu[2] = { &L->ffn_gate, &L->ffn_up };
                n += arena_joined(vm, qkv, 3) + arena_joined(vm, gu, 2);
                n += arena_add(vm, &L->wo, true) + arena_add(vm, &L->ffn_down, true) +
                     arena_add(vm, &L->attn_norm, false) + arena_add(vm, &L->ffn_norm, false) +
                     arena_add(vm, &L->post_attn_norm, false) + arena_add(vm, &L->post_ffn_norm, false);
                if (L->bq.data)
                        n += chunk_bytes((L->bq.ne[0] + L->bk.ne[0] + L->bv.ne[0]) * sizeof(float));
                if (hp->qk_norm)
                        n += chunk_bytes(2 * (size_t) hp->head_dim * sizeof(float));
        }
        return n;
}

/* The weight types of m's matrices (bit per vk_wtype), for vk_pipelines_create. */
static uint32_t wtype_bit(const struct tensor *t) {
        int wt = t->data ? vk_wtype(t->type) : -1;
        return wt >= 0 ? 1u << wt : 0;
}

static uint32_t model_wtypes(const Model *m) {
        uint32_t b = wtype_bit(&m->tok_embd) | wtype_bit(&m->output);

        for (uint32_t il = 0; il < m->hp.n_layer; il++) {
                const struct layer *L = &m->layers[il];
                b |= wtype_bit(&L->wq) | wtype_bit(&L->wk) | wtype_bit(&L->wv) | wtype_bit(&L->wo) |
                     wtype_bit(&L->ffn_gate) | wtype_bit(&L->ffn_up) | wtype_bit(&L->ffn_down);
        }
        return b;
}

static int check_shapes(const struct hparams *hp, char *err, size_t errsz) {
        if (hp->head_dim % 4 || hp->head_dim_v % 4 || hp->head_dim > 512 || hp->head_dim_v > 512 || hp->n_rot % 2 ||
            hp->n_rot > hp->head_dim || hp->n_head % hp->n_head_kv || hp->n_embd % 4 || hp->n_ff % 4) {
                snprintf(err, errsz, "model shape (head dim %u/%u, rot %u) is outside what the Vulkan kernels "
                         "handle", hp->head_dim, hp->head_dim_v, hp->n_rot);
                return -EOPNOTSUPP;
        }
        return 0;
}

static int vk_model_init(Model *m, void **ret, char *err, size_t errsz) {
        const struct hparams *hp = &m->hp;
        struct vk_model *vm;
        int r;

        if (errsz)
                err[0] = 0;
        r = check_shapes(hp, err, errsz);
        if (r < 0)
                return r;
        vm = new0(struct vk_model, 1);
        if (!vm)
                return -ENOMEM;
        pthread_mutex_init(&vm->lock, NULL);
        r = vk_device_acquire(&vm->d, err, errsz);
        if (r < 0) {
                vm->d = NULL;
                goto fail;
        }
        /* f16 cache rows with default activations, as llama.cpp's default cache: half the memory and the
         * attention's reads; exact activations keep f32, as the CPU backend has. */
        r = vk_pipelines_create(vm->d, &vm->pl, model_wtypes(m), m->hp.head_dim, m->hp.head_dim_v,
                                m->hp.n_head_kv ? m->hp.n_head / m->hp.n_head_kv : 1, !m->exact_activations, err,
                                errsz);
        if (r < 0)
                goto fail;
        /* The prefill norms with registers for just the model's rows: pp512 +2-6% on the H100 (Gemma 3 1B
         * and 4B, Qwen2.5 0.5B; run132-results.txt), where the 6,144-element form the decode steps share
         * had our norms at twice llama.cpp's time. UNICORN_VK_NORM_ROWS=0: that form for prefill too. */
        const char *norm_rows = getenv("UNICORN_VK_NORM_ROWS");
        if (!(norm_rows && streq(norm_rows, "0")) &&
            (r = vk_pipeline_norm_rows(vm->d, &vm->pl, m->hp.n_embd, err, errsz)) < 0)
                goto fail;
        if (m->weight_alloc)
                vm->importing = vk_import_init(vm->d, m->weight_alloc, &vm->imp, vm->import_why,
                                               sizeof vm->import_why) >= 0;
        {
                const char *e = getenv("UNICORN_VK_SUBALLOC");
                vm->suballoc = !(e && streq(e, "0"));
        }
        vm->arena_left = arena_bytes(vm, m);
        vm->n_layer = hp->n_layer;
        vm->layers = new0(struct vk_layer, hp->n_layer);
        if (!vm->layers) {
                r = -ENOMEM;
                goto fail;
        }
        if ((r = upload_matrix(vm, &m->tok_embd, &vm->tok_embd, err, errsz)) < 0)
                goto fail;
        if (m->output.data == m->tok_embd.data)
                vm->output = vm->tok_embd;
        else if ((r = upload_matrix(vm, &m->output, &vm->output, err, errsz)) < 0)
                goto fail;
        if ((r = upload_vec(vm, &m->output_norm, &vm->output_norm, err, errsz)) < 0)
                goto fail;
        for (uint32_t il = 0; il < hp->n_layer; il++) {
                const struct layer *L = &m->layers[il];
                struct vk_layer *V = &vm->layers[il];
                const struct tensor *qkv[3] = { &L->wq, &L->wk, &L->wv }, *gu[2] = { &L->ffn_gate, &L->ffn_up };
                struct vk_tensor *vqkv[3] = { &V->wq, &V->wk, &V->wv }, *vgu[2] = { &V->gate, &V->up };

                if ((r = upload_joined(vm, qkv, vqkv, 3, &V->wqkv, err, errsz)) < 0 ||
                    (r = upload_matrix(vm, &L->wo, &V->wo, err, errsz)) < 0 ||
                    (r = upload_joined(vm, gu, vgu, 2, &V->wgu, err, errsz)) < 0 ||
                    (r = upload_matrix(vm, &L->ffn_down, &V->down, err, errsz)) < 0 ||
                    (r = upload_vec(vm, &L->attn_norm, &V->attn_norm, err, errsz)) < 0 ||
                    (r = upload_vec(vm, &L->ffn_norm, &V->ffn_norm, err, errsz)) < 0 ||
                    (r = upload_vec(vm, &L->post_attn_norm, &V->post_attn_norm, err, errsz)) < 0 ||
                    (r = upload_vec(vm, &L->post_ffn_norm, &V->post_ffn_norm, err, errsz)) < 0)
                        goto fail;
                if (L->bq.data) {
                        size_t qd = L->bq.ne[0], kd = L->bk.ne[0], vd = L->bv.ne[0];
                        _cleanup_free_ float *b = newa(float, qd + kd + vd);
                        if (!b) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        memcpy(b, L->bq.data, qd * sizeof(float));
                        memcpy(b + qd, L->bk.data, kd * sizeof(float));
                        memcpy(b + qd + kd, L->bv.data, vd * sizeof(float));
                        if ((r = upload(vm, b, (qd + kd + vd) * sizeof(float), false, &V->bqkv)) < 0)
                                goto fail;
                }
                if (hp->qk_norm) {
                        _cleanup_free_ float *b = newa(float, 2 * (size_t) hp->head_dim);
                        if (!b) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        memcpy(b, L->q_norm.data, hp->head_dim * sizeof(float));
                        memcpy(b + hp->head_dim, L->k_norm.data, hp->head_dim * sizeof(float));
                        if ((r = upload(vm, b, 2 * (size_t) hp->head_dim * sizeof(float), false, &V->qk_norm)) < 0)
                                goto fail;
                }
        }
        snprintf(m->backend_desc, sizeof m->backend_desc, "%s%s", vm->d->desc,
                 vm->pl.kv16 ? " [KV cache: f16]" : "");
        if (m->weight_alloc)
                describe_import(vm, m);
        *ret = vm;
        return 0;
fail:
        if (r == -ENOMEM && !*err)
                snprintf(err, errsz, "out of GPU memory while uploading the model");
        vk_model_free(vm);
        return r;
}

static void vk_context_free(void *state) {
        struct vk_context *vc = state;
        struct vk_device *d;
        double t0 = vk_host_clock();

        if (!vc)
                return;
        d = vc->cmd.d;
        if (d) {
                for (uint32_t i = 0; i < vc->n_layer; i++) {
                        vk_buf_destroy(d, &vc->kc[i]);
                        vk_buf_destroy(d, &vc->vc[i]);
                }
                vk_buf_destroy(d, &vc->x);
                vk_buf_destroy(d, &vc->x2);
                vk_buf_destroy(d, &vc->h);
                vk_buf_destroy(d, &vc->qkv);
                vk_buf_destroy(d, &vc->att);
                vk_buf_destroy(d, &vc->tmp);
                vk_buf_destroy(d, &vc->gate);
                vk_buf_destroy(d, &vc->up);
                vk_buf_destroy(d, &vc->x16);
                vk_buf_destroy(d, &vc->hq);
                vk_buf_destroy(d, &vc->attq);
                vk_buf_destroy(d, &vc->gateq);
                vk_buf_destroy(d, &vc->attp);
                vk_buf_destroy(d, &vc->attpf);
                vk_buf_destroy(d, &vc->in);
                vk_buf_destroy(d, &vc->logits);
                vk_buf_destroy(d, &vc->logits_dev);
                vk_buf_group_free(&vc->mem);
                vk_cmd_free(&vc->cmd);
                vk_host_times_context(true, t0);
        }
        free(vc->kc);
        free(vc->vc);
        free(vc->ring);
        free(vc);
}

/* Room for n rows of logits: the buffer again, twice as many rows or n (at most n_batch), where it
 * has fewer. Between steps, which each wait for their end, the device holds nothing of it. */
static int logits_room(struct vk_context *vc, uint32_t n, uint32_t n_batch, uint32_t n_vocab) {
        struct vk_buf nb;
        uint32_t rows;
        int r;

        if (n <= vc->logits_rows)
                return 0;
        rows = MIN(n_batch, MAX(n, 2 * vc->logits_rows));
        r = vk_buf_create(vc->cmd.d, (VkDeviceSize) rows * n_vocab * 4, VK_MEM_HOST, &nb);
        if (r < 0)
                return r;
        vk_buf_destroy(vc->cmd.d, &vc->logits);
        vc->logits = nb;
        vc->logits_rows = rows;
        return 0;
}

static int vk_context_init(Context *c, void **ret) {
        Model *m = c->model;
        struct vk_model *vm = m->backend_state;
        const struct hparams *hp = &m->hp;
        struct vk_device *d = vm->d;
        size_t nb = c->n_batch, E = hp->n_embd, F = hp->n_ff;
        size_t q_dim = (size_t) hp->n_head * hp->head_dim, o_dim = (size_t) hp->n_head * hp->head_dim_v;
        size_t k_dim = (size_t) hp->n_head_kv * hp->head_dim, v_dim = (size_t) hp->n_head_kv * hp->head_dim_v;
        struct vk_context *vc;
        size_t off = 0;
        double t0 = vk_host_clock();
        int r;

        vc = new0(struct vk_context, 1);
        if (!vc)
                return -ENOMEM;
        vc->n_layer = hp->n_layer;
        vc->kc = new0(struct vk_buf, hp->n_layer);
        vc->vc = new0(struct vk_buf, hp->n_layer);
        vc->ring = new0(uint32_t, hp->n_layer);
        if (!vc->kc || !vc->vc || !vc->ring) {
                free(vc->kc);
                free(vc->vc);
                free(vc->ring);
                free(vc);
                return -ENOMEM;
        }
        r = vk_cmd_init(d, &vm->pl, &vc->cmd);
        if (r < 0) {
                vc->cmd.d = NULL;
                vk_context_free(vc);
                return r;
        }
        {
                const char *e = getenv("UNICORN_VK_ATTN_SPLIT_MIN");
                if (e && *e)
                        ATTN_SPLIT_MIN_LEN = (uint32_t) strtoul(e, NULL, 10);
        }
        {
                const char *e = getenv("UNICORN_VK_ATTN_PF");
                vc->no_pf = e && streq(e, "0");
                e = getenv("UNICORN_VK_ATTN_RUNS");
                vc->no_pf_runs = e && streq(e, "0");
                e = getenv("UNICORN_VK_ATTN_QKV");
                vc->no_attn_qkv = e && streq(e, "0");
                e = getenv("UNICORN_VK_MV8S_SITES");
                vc->staged_sites = e && *e ? (uint32_t) strtoul(e, NULL, 10) : 3;
                /* Both gained on Gemma 3 270M and 1B decode and lost on Qwen2.5 7B (H200, tg128, docs/vulkan.md:
                 * 270M 904-918 -> 933-940 t/s with both, 7B Q4_K 400 -> 393-395). */
                bool small_model = F <= 8192;
                e = getenv("UNICORN_VK_QKV_FUSED");
                vc->qkv_fused = e && *e ? (uint32_t) strtoul(e, NULL, 10) : small_model ? 1 : 0;
                e = getenv("UNICORN_VK_GLU_Q8");
                vc->glu_q8 = e && *e ? streq(e, "1") : small_model;
                e = getenv("UNICORN_VK_GU_FUSED");
                vc->gu_fused = e && streq(e, "1");
                e = getenv("UNICORN_VK_ACT16");
                vc->act16 = !(e && streq(e, "0"));
                /* UNICORN_VK_FLUSH_LAYERS=N: submit every N layers (0: one submit per step). */
                e = getenv("UNICORN_VK_FLUSH_LAYERS");
                vc->flush_layers = e && *e ? (uint32_t) strtoul(e, NULL, 10) : FLUSH_LAYERS;
                /* UNICORN_VK_PREFETCH=MiB[,MiB...]: the prefetch budgets (PF_*; one value: all; 0: none). */
                e = getenv("UNICORN_VK_PREFETCH");
                prefetch_default(d, vc->prefetch);
                for (uint32_t i = 0; e && *e && i < ELEMENTSOF(vc->prefetch); i++) {
                        char *end;
                        uint64_t v = MIN(strtoull(e, &end, 10), 1024ull) << 20;
                        for (uint32_t j = i; j < ELEMENTSOF(vc->prefetch); j++)
                                vc->prefetch[j] = v;
                        e = *end == ',' ? end + 1 : NULL;
                }
        }
        vc->ring_global = vc->ring_swa = c->n_ctx;
        if (hp->sliding_window > 0 && hp->sliding_window + c->n_batch < c->n_ctx)
                vc->ring_swa = hp->sliding_window + c->n_batch;
        struct vk_buf_group *g = &vc->mem;
        vk_buf_group_init(g, d, VK_MEM_DEVICE);
        for (uint32_t il = 0; il < hp->n_layer; il++) {
                vc->ring[il] = m->layers[il].swa ? vc->ring_swa : vc->ring_global;
                size_t rows = (size_t) c->n_seq * vc->ring[il];
                size_t es = vm->pl.kv16 ? 2 : 4; /* bytes an element (shaders/include/kv.glsl) */
                vk_buf_group_add(g, rows * k_dim * es, &vc->kc[il]);
                vk_buf_group_add(g, rows * v_dim * es, &vc->vc[il]);
        }
        vk_buf_group_add(g, nb * E * 4, &vc->x);
        vk_buf_group_add(g, E * 4, &vc->x2);
        vk_buf_group_add(g, nb * MAX(E, o_dim) * 4, &vc->h);
        vk_buf_group_add(g, nb * (q_dim + k_dim + v_dim) * 4, &vc->qkv);
        vk_buf_group_add(g, nb * o_dim * 4, &vc->att);
        vk_buf_group_add(g, nb * E * 4, &vc->tmp);
        vk_buf_group_add(g, nb * F * 4, &vc->gate);
        vk_buf_group_add(g, nb * F * 4 * (vc->gu_fused ? 2 : 1), &vc->up);
        /* rows up to a multiple of 256 past the step's tokens, which the NV product reads (MM_XPAD) */
        if (vm->pl.coopmat || vm->pl.coopmat2)
                vk_buf_group_add(g, ALIGN_TO(nb, 256) * MAX(MAX(E, o_dim), F) * 2, &vc->x16);
        vk_buf_group_add(g, (size_t) VK_MV8N_MAX * vk_q8_row_bytes((uint32_t) MAX(E, o_dim)), &vc->hq);
        vk_buf_group_add(g, (size_t) VK_MV8N_MAX * vk_q8_row_bytes((uint32_t) o_dim), &vc->attq);
        vk_buf_group_add(g, (size_t) VK_MV8N_MAX * vk_q8_row_bytes((uint32_t) F), &vc->gateq);
        vk_buf_group_add(g, ATTN_CNT_BYTES(hp->n_head) + (size_t) MIN(nb, (size_t) ATTN_SPLIT_TOKENS) * hp->n_head *
                                                           VK_ATTN_MAX_SPLIT * (hp->head_dim_v + 2) * 4,
                         &vc->attp);
        /* the prefill split's scratch only where it may run (vk_pipeline_attn's attn_pf_split) */
        bool attpf = vm->pl.p[VK_P_ATTN_CM] && nb > ATTN_SPLIT_TOKENS && vm->pl.attn_pf_split;
        if (attpf)
                vk_buf_group_add(g, vk_attn_pf_part_bytes((uint32_t) nb, hp->n_head, hp->head_dim_v), &vc->attpf);
        {
                const char *e = getenv("UNICORN_VK_LOGITS");
                bool dev = e && streq(e, "device") ? true : e && streq(e, "host") ? false : !d->uma;
                if (dev)
                        vk_buf_group_add(g, MIN(nb, LOGITS_DEV_ROWS) * hp->n_vocab * 4, &vc->logits_dev);
        }
        if ((r = vk_buf_group_commit(g)) < 0 || (r = vk_buf_fill0(d, &vc->attp)) < 0 ||
            (attpf && (r = vk_buf_fill0(d, &vc->attpf)) < 0) ||
            (r = logits_room(vc, MIN(c->n_batch, MAX(c->n_seq, LOGITS_HOST_ROWS)), c->n_batch, hp->n_vocab)) < 0)
                goto fail;
        /* Per-step inputs, each at a 16-byte boundary. */
        vc->off_tok = off;
        off += ALIGN_TO(nb * 4, 16);
        vc->off_info = off;
        off += nb * 16;
        vc->off_idx = off;
        off += ALIGN_TO(nb * 4, 16);
        vc->off_rope_g = off;
        off += ALIGN_TO(nb * hp->n_rot * 4, 16);
        vc->off_rope_s = off;
        off += ALIGN_TO(nb * hp->n_rot * 4, 16);
        if ((r = vk_buf_create(d, off, VK_MEM_HOST, &vc->in)) < 0)
                goto fail;
        *ret = vc;
        vk_host_times_context(false, t0);
        return 0;
fail:
        vk_context_free(vc);
        return r;
}

static int32_t vk_seq_truncate(Context *c, int32_t seq, int32_t p0) {
        struct vk_context *vc = c->backend_state;
        const struct hparams *hp = &c->model->hp;
        int32_t len = c->seq_len[seq];

        /* As on the CPU: a sliding layer's ring must still hold [p0 - window, p0). */
        for (uint32_t il = 0; il < hp->n_layer; il++) {
                int32_t ring = (int32_t) vc->ring[il];
                if (ring >= (int32_t) c->n_ctx)
                        continue;
                if (len - ring > p0 - (int32_t) hp->sliding_window)
                        return 0;
        }
        return p0;
}


/* Positions per split-K chunk (and the split count) for the longest span of the step's tokens. */
static uint32_t attn_split(const struct batch *b, uint32_t window, uint32_t *chunk) {
        uint32_t len = 0;

        *chunk = 0;
        if (b->n_tokens > ATTN_SPLIT_TOKENS)
                return 1;
        for (size_t t = 0; t < b->n_tokens; t++) {
                uint32_t l = (uint32_t) b->pos[t] + 1;
                if (window > 0 && l > window)
                        l = window;
                len = MAX(len, l);
        }
        /* Below ATTN_SPLIT_MIN_LEN the merge costs more than it saves. */
        return vk_attn_split(len, ATTN_SPLIT_MIN_LEN, chunk);
}

#define VK_ATTN_MAX_RUNS 16u

/* The tokens [t0, t0 + n) of a step that are of t0's sequence at positions rising by one (n >= 1). */
static uint32_t seq_run(const struct batch *b, uint32_t t0) {
        uint32_t t = t0 + 1;

        while (t < b->n_tokens && b->seq_id[t] == b->seq_id[t0] && b->pos[t] - b->pos[t0] == (int32_t) (t - t0))
                t++;
        return t - t0;
}

/* pa for the step's tokens [t0, t0 + n) alone: every attention kernel finds a token's query, output
 * and position row from its index, so offsetting the bases runs them on these rows. */
static struct pc_attn attn_rows(const struct pc_attn *pa, uint32_t t0, uint32_t n, uint32_t o_dim) {
        struct pc_attn s = *pa;

        s.q += (VkDeviceAddress) t0 * pa->ldq * 4;
        s.dst += (VkDeviceAddress) t0 * o_dim * 4;
        s.tok += (VkDeviceAddress) t0 * 16; /* vk_decode's info: 4 ints a token */
        s.nt = n;
        return s;
}

/* The step's attention, into pa->dst; returns a16 where it also wrote every token's output row as f16
 * there (vk_op_attn_prefill), else 0. The prefill kernel shares k/v reads among a block of queries of
 * one sequence at consecutive positions. A step of one sequence runs it whole; a step of several
 * (prompts evaluated together, llama-batched-bench's pp) runs it once for each run of more than
 * ATTN_SPLIT_TOKENS tokens of one sequence, on the run's own rows, and the general kernel once for
 * the tokens between such runs; on the general kernel alone, each query walked its own sequence's
 * cache (an 8B model's prompts of 128 tokens, 8-32 together: 0.90-0.99x llama.cpp, H100, run190.sh).
 * These dispatches write disjoint rows and need no barrier between them. One such run (a prompt
 * beside sequences decoding, continuous batching's usual step) splits its positions as a step of its
 * own would (vk_attn_pf_split); several share no split-K scratch and fill the GPU together. Rows are
 * offset in whole rows of q (ldq floats, 16-byte loads) and of the f16 output (o_dim halves; 16-byte
 * aligned, as the matrix cores' stores may want): other shapes take the general kernel. */
static VkDeviceAddress attention(struct vk_cmd *cmd, const struct vk_context *vc, const struct pc_attn *pa,
                                 const struct batch *b, uint32_t n_split, VkDeviceAddress a16, uint32_t o_dim,
                                 uint32_t n_batch) {
        uint32_t nt = pa->nt, g0 = 0, n, runs = 0;
        bool all16 = a16 != 0;

        if (nt <= ATTN_SPLIT_TOKENS || vc->no_pf) {
                vk_op_attn(cmd, pa, n_split, vc->attp.addr);
                return 0;
        }
        if (seq_run(b, 0) == nt)
                return vk_op_attn_prefill(cmd, pa, a16, b->pos[0], vc->attpf.addr, n_batch) ? a16 : 0;
        if (!vc->no_pf_runs && pa->ldq % 4 == 0 && o_dim % 8 == 0)
                for (uint32_t t0 = 0; t0 < nt; t0 += n)
                        runs += (n = seq_run(b, t0)) > ATTN_SPLIT_TOKENS;
        /* No run, or past VK_ATTN_MAX_RUNS of them (short prompts of many sequences), where the
         * dispatches would cost more than the general kernel's own walk (a guess, not measured): one
         * general dispatch. */
        if (runs == 0 || runs > VK_ATTN_MAX_RUNS) {
                vk_op_attn(cmd, pa, 1, 0);
                return 0;
        }
        for (uint32_t t0 = 0; t0 < nt; t0 += n) {
                n = seq_run(b, t0);
                if (n <= ATTN_SPLIT_TOKENS)
                        continue;
                if (g0 < t0) {
                        struct pc_attn g = attn_rows(pa, g0, t0 - g0, o_dim);
                        vk_op_attn(cmd, &g, 1, 0);
                        all16 = false;
                }
                struct pc_attn r = attn_rows(pa, t0, n, o_dim);
                if (!vk_op_attn_prefill(cmd, &r, a16 ? a16 + (VkDeviceAddress) t0 * o_dim * 2 : 0, b->pos[t0],
                                        runs == 1 ? vc->attpf.addr : 0, n_batch))
                        all16 = false;
                g0 = t0 + n;
        }
        if (g0 < nt) {
                struct pc_attn g = attn_rows(pa, g0, nt - g0, o_dim);
                vk_op_attn(cmd, &g, 1, 0);
                all16 = false;
        }
        return all16 ? a16 : 0;
}

/* Decode steps dispatch the first weight bytes of the next products beside a kernel that leaves the
 * memory bus idle (see shaders/prefetch.comp), `budget` bytes shared evenly among up to three
 * matrices (q, k, v; gate, up). */
static void prefetch(struct vk_cmd *cmd, uint64_t budget, const struct vk_tensor *a, const struct vk_tensor *b,
                     const struct vk_tensor *c) {
        const struct vk_tensor *w[3] = { a, b, c };
        uint32_t n = 0;

        for (uint32_t i = 0; i < 3; i++)
                n += w[i] && w[i]->addr;
        for (uint32_t i = 0; i < 3 && budget; i++)
                if (w[i] && w[i]->addr)
                        vk_op_prefetch(cmd, w[i]->addr, MIN(budget / n, (uint64_t) w[i]->row_bytes * w[i]->n));
}

/* x16: x as f16 (to_x16) or 0; xq: the same rows as 8-bit activations (steps of up to VK_MV8N_MAX
 * tokens), or 0. */
static void mm(struct vk_cmd *cmd, const struct vk_tensor *w, VkDeviceAddress x, VkDeviceAddress x16,
               VkDeviceAddress xq, uint32_t ldx, uint32_t nt, VkDeviceAddress y, uint32_t ldy, bool acc) {
        if (xq && nt == 1 && vk_op_matvec_q8(cmd, w->wt, w->addr, w->row_bytes, w->k, w->n, xq, y, acc))
                return;
        if (xq && nt > 1 && vk_op_matvec_q8n(cmd, w->wt, w->addr, w->row_bytes, w->k, w->n, xq, nt, y, ldy, acc))
                return;
        vk_op_matmul(cmd, w->wt, w->addr, w->row_bytes, w->k, w->n, x, x16, ldx, nt, y, ldy, 0, acc);
}

/* The context's f16 buffer where the products of w over nt rows of ld floats read them as f16
 * (matrix cores); else 0. */
static VkDeviceAddress x16_buf(const struct vk_cmd *cmd, const struct vk_context *vc, const struct vk_tensor *w,
                               uint32_t ld, uint32_t nt) {
        return vc->x16.addr && ld % 4 == 0 && vk_op_matmul_reads_x16(cmd, w->wt, nt) ? vc->x16.addr : 0;
}

/* Where the products of w over these nt rows of x (ld floats apart) run on matrix cores, the rows
 * as f16 for all products that read them: made, where the kernel that made x wrote them (x16_target),
 * else converted once here (with its barrier); else 0. The buffer is free again by then: every
 * product that read the previous rows is behind a barrier. */
static VkDeviceAddress to_x16(struct vk_cmd *cmd, const struct vk_context *vc, const struct vk_tensor *w,
                              VkDeviceAddress x, uint32_t ld, uint32_t nt, VkDeviceAddress made) {
        VkDeviceAddress x16 = made ? made : x16_buf(cmd, vc, w, ld, nt);

        if (x16 && !made) {
                vk_op_cvt16(cmd, x, ld, ld, nt, x16, ld);
                vk_cmd_barrier(cmd);
        }
        return x16;
}

/* The same buffer, for the kernel making the rows to fill itself (UNICORN_VK_ACT16=0: 0, leaving it
 * to to_x16's conversion); nothing is recorded. */
static VkDeviceAddress x16_target(const struct vk_cmd *cmd, const struct vk_context *vc, const struct vk_tensor *w,
                                  uint32_t ld, uint32_t nt) {
        return vc->act16 ? x16_buf(cmd, vc, w, ld, nt) : 0;
}

/* One-token steps: whether layer L's q, k and v products (or its gate/up product) take the staged
 * mat-vec, which norms and quantizes the residual row itself (and adds Gemma's post-normed block
 * output to it), so that no norm dispatch and barrier come before them. */
static bool qkv_staged(const struct vk_context *vc, const struct vk_cmd *cmd, const struct vk_layer *L,
                       uint32_t E) {
        return (vc->staged_sites & 1) && vk_mv8s_ok(cmd->pl, L->wq.wt, E, false) &&
               vk_mv8s_ok(cmd->pl, L->wk.wt, E, false) && vk_mv8s_ok(cmd->pl, L->wv.wt, E, false);
}

static bool glu_staged(const struct vk_context *vc, const struct vk_cmd *cmd, const struct vk_layer *L,
                       uint32_t E) {
        return (vc->staged_sites & 2) && L->gate.wt == L->up.wt && L->gate.row_bytes == L->up.row_bytes &&
               vk_mv8s_ok(cmd->pl, L->gate.wt, E, true);
}

/* The residual buffer that is not x (staged post-norms alternate between the two; one row). */
static VkDeviceAddress other_x(const struct vk_context *vc, VkDeviceAddress x) {
        return x == vc->x.addr ? vc->x2.addr : vc->x.addr;
}

static int vk_decode(Context *c, const struct batch *b, float *out, float **view) {
        Model *m = c->model;
        struct vk_model *vm = m->backend_state;
        struct vk_context *vc = c->backend_state;
        const struct hparams *hp = &m->hp;
        struct vk_cmd *cmd = &vc->cmd;
        uint32_t nt = (uint32_t) b->n_tokens, E = hp->n_embd, F = hp->n_ff, n_out = 0;
        uint32_t q_dim = hp->n_head * hp->head_dim, k_dim = hp->n_head_kv * hp->head_dim;
        uint32_t v_dim = hp->n_head_kv * hp->head_dim_v, o_dim = hp->n_head * hp->head_dim_v;
        uint32_t ld = q_dim + k_dim + v_dim, half = hp->n_rot / 2;
        uint8_t *in = vc->in.map;
        int32_t *tok = (int32_t *) (in + vc->off_tok), *info = (int32_t *) (in + vc->off_info);
        int32_t *idx = (int32_t *) (in + vc->off_idx);
        float *rope_g = (float *) (in + vc->off_rope_g), *rope_s = (float *) (in + vc->off_rope_s);
        VkDeviceAddress ina = vc->in.addr;
        /* One-token steps (decode) run the mat-vecs on 8-bit activations where the device has integer
         * dot products, as the CPU backend does unless exact activations were asked for. */
        bool q8 = nt == 1 && vm->pl.q8 && !m->exact_activations;
        /* Steps of 2..VK_MV8N_MAX tokens (sequences decoding together) too, with the plain forms: the
         * norms and quantx make every row's 8-bit activations, and each product reads its weights once
         * for all of them (mv8n). On the float mat-vec of matvec.comp they replace, an 8B model's step
         * of two tokens took 10.4 ms against 2.9 ms for one token (H100, run190.sh). */
        bool q8n = nt >= 2 && nt <= VK_MV8N_MAX && vm->pl.q8 && vm->pl.mv8n_split && !m->exact_activations;
        /* ... and there, products that norm their input row themselves (qkv_staged). With Gemma's
         * post-norms they also add the post-normed block output to the residual, and the first
         * workgroup of one of them writes the sum into the other residual buffer: xr is the residual
         * row now, post the post-norm weights of the block output in tmp not yet added to it (0: none). */
        VkDeviceAddress xr = vc->x.addr, post = 0;
        const uint64_t none[5] = { 0 }, *pf = nt == 1 ? vc->prefetch : none;
        VkDeviceAddress hq = q8 || q8n ? vc->hq.addr : 0, attq = q8 || q8n ? vc->attq.addr : 0;
        VkDeviceAddress gateq = q8 || q8n ? vc->gateq.addr : 0;
        uint32_t fq8 = q8 || q8n ? NORM_Q8 : 0;
        /* The f16 rows of h for the next products, where the norm that made h wrote them (x16_target). */
        VkDeviceAddress h16n = 0;
        /* Whether the last layer ran for the flagged tokens' rows alone, now rows 0..n_out-1 of xr. */
        bool gathered = false;
        int r;

        /* Inputs, and the RoPE tables computed exactly as the CPU backend does. */
        for (uint32_t t = 0; t < nt; t++) {
                int32_t pos = b->pos[t], seq = b->seq_id[t];
                tok[t] = b->token[t];
                info[4 * t] = pos;
                info[4 * t + 1] = seq;
                info[4 * t + 2] = (int32_t) ((uint32_t) seq * vc->ring_global + (uint32_t) pos % vc->ring_global);
                info[4 * t + 3] = (int32_t) ((uint32_t) seq * vc->ring_swa + (uint32_t) pos % vc->ring_swa);
                cpu_rope_table(rope_g + (size_t) t * hp->n_rot, rope_g + (size_t) t * hp->n_rot + half, hp->n_rot,
                               (float) pos * hp->rope_scale, hp->rope_base, m->rope_freqs.data);
                if (hp->sliding_window > 0)
                        cpu_rope_table(rope_s + (size_t) t * hp->n_rot, rope_s + (size_t) t * hp->n_rot + half,
                                       hp->n_rot, (float) pos, hp->rope_base_swa, m->rope_freqs.data);
                if (b->logits[t])
                        idx[n_out++] = (int32_t) t;
        }
        r = logits_room(vc, n_out, c->n_batch, hp->n_vocab);
        if (r < 0)
                return r;

        pthread_mutex_lock(&vm->lock);
        r = vk_cmd_begin(cmd);
        if (r < 0)
                goto out;
        cmd->exact = m->exact_activations;
        cmd->x16_pad = true; /* vc->x16 has the rows (vk_context_init) */

        vk_op_get_rows(cmd, vm->tok_embd.wt, vm->tok_embd.addr, vm->tok_embd.row_bytes, E, ina + vc->off_tok, nt,
                       vc->x.addr, E, hp->emb_scale);
        vk_cmd_barrier(cmd);
        if (!(q8 && qkv_staged(vc, cmd, &vm->layers[0], E))) {
                h16n = x16_target(cmd, vc, &vm->layers[0].wq, E, nt);
                vk_op_norm(cmd, &(struct pc_norm) { .x = xr, .w = vm->layers[0].attn_norm, .dst = vc->h.addr,
                                                    .q8 = hq, .dst16 = h16n, .n = E, .rows = nt,
                                                    .flags = NORM_OUT | NORM_W | fq8, .eps = hp->norm_eps });
                prefetch(cmd, pf[PF_QKV], &vm->layers[0].wq, &vm->layers[0].wk, &vm->layers[0].wv);
                vk_cmd_barrier(cmd);
        }

        for (uint32_t il = 0; il < hp->n_layer; il++) {
                const struct vk_layer *L = &vm->layers[il];
                bool swa = m->layers[il].swa, last = il + 1 == hp->n_layer;
                VkDeviceAddress qkv = vc->qkv.addr;
                const struct vk_tensor *wqkv = L->wqkv.addr && (vc->qkv_fused & (nt == 1 ? 1 : 2)) ? &L->wqkv : NULL;

                /* Attention block: q, k, v in one row per token. */
                if (q8 && qkv_staged(vc, cmd, L, E)) {
                        struct vk_xrow xs = { .x = xr, .g = L->attn_norm, .eps = hp->norm_eps, .norm = true };
                        if (post) {
                                xs.t = vc->tmp.addr;
                                xs.wt = post;
                                xs.xo = other_x(vc, xr);
                        }
                        if (wqkv)
                                vk_op_matvec_q8s(cmd, wqkv->wt, wqkv->addr, wqkv->row_bytes, E, wqkv->n, &xs, qkv,
                                                 false);
                        else {
                                vk_op_matvec_q8s(cmd, L->wq.wt, L->wq.addr, L->wq.row_bytes, E, L->wq.n, &xs, qkv,
                                                 false);
                                xs.xo = 0; /* one writer */
                                vk_op_matvec_q8s(cmd, L->wk.wt, L->wk.addr, L->wk.row_bytes, E, L->wk.n, &xs,
                                                 qkv + (VkDeviceAddress) q_dim * 4, false);
                                vk_op_matvec_q8s(cmd, L->wv.wt, L->wv.addr, L->wv.row_bytes, E, L->wv.n, &xs,
                                                 qkv + (VkDeviceAddress) (q_dim + k_dim) * 4, false);
                        }
                        if (post)
                                xr = other_x(vc, xr);
                        post = 0;
                } else {
                        VkDeviceAddress h16 = to_x16(cmd, vc, &L->wq, vc->h.addr, E, nt, h16n);
                        if (wqkv)
                                mm(cmd, wqkv, vc->h.addr, h16, hq, E, nt, qkv, ld, false);
                        else {
                                mm(cmd, &L->wq, vc->h.addr, h16, hq, E, nt, qkv, ld, false);
                                mm(cmd, &L->wk, vc->h.addr, h16, hq, E, nt, qkv + (VkDeviceAddress) q_dim * 4, ld,
                                   false);
                                mm(cmd, &L->wv, vc->h.addr, h16, hq, E, nt,
                                   qkv + (VkDeviceAddress) (q_dim + k_dim) * 4, ld, false);
                        }
                }
                vk_cmd_barrier(cmd);
                uint32_t qkv_flags = (L->bqkv ? QKV_BIAS : 0) | (hp->qk_norm ? QKV_NORM : 0) |
                                     (hp->rope_neox ? QKV_NEOX : 0);
                /* One-token steps: bias, QK-norm, RoPE and the KV write happen in the attention kernel. */
                bool attn_qkv = nt == 1 && !vc->no_attn_qkv;
                if (!attn_qkv) {
                        vk_op_qkv(cmd, &(struct pc_qkv) {
                                .qkv = qkv, .bias = L->bqkv, .norm = L->qk_norm,
                                .rope = ina + (swa ? vc->off_rope_s : vc->off_rope_g),
                                .kc = vc->kc[il].addr, .vc = vc->vc[il].addr, .tok = ina + vc->off_info,
                                .nt = nt, .n_head = hp->n_head, .n_head_kv = hp->n_head_kv, .head_dim = hp->head_dim,
                                .head_dim_v = hp->head_dim_v, .n_rot = hp->n_rot, .ld = ld, .flags = qkv_flags,
                                .eps = hp->norm_eps, .tok_slot = swa ? 3 : 2,
                        });
                        vk_cmd_barrier(cmd);
                }
                uint32_t chunk = 0, n_split = attn_split(b, swa ? hp->sliding_window : 0, &chunk);
                struct pc_attn pa = {
                        .q = qkv, .kc = vc->kc[il].addr, .vc = vc->vc[il].addr, .dst = vc->att.addr,
                        .tok = ina + vc->off_info, .q8 = q8 && o_dim % 32 == 0 ? attq : 0, .n_head = hp->n_head,
                        .n_head_kv = hp->n_head_kv, .head_dim = hp->head_dim, .head_dim_v = hp->head_dim_v,
                        .ldq = ld, .ring = vc->ring[il], .window = swa ? hp->sliding_window : 0, .nt = nt,
                        .scale = hp->attn_scale, .chunk = chunk,
                };
                if (attn_qkv) {
                        pa.bias = L->bqkv;
                        pa.norm = L->qk_norm;
                        pa.rope_off = (uint32_t) ((swa ? vc->off_rope_s : vc->off_rope_g) - vc->off_info);
                        pa.flags = qkv_flags | ATTN_QKV | (swa ? ATTN_SLOT_SWA : 0) | hp->n_rot << 16;
                        pa.eps = hp->norm_eps;
                }
                VkDeviceAddress att = vc->att.addr;
                VkDeviceAddress att16 = attention(cmd, vc, &pa, b, n_split,
                                                  nt > ATTN_SPLIT_TOKENS ? x16_target(cmd, vc, &L->wo, o_dim, nt) : 0,
                                                  o_dim, c->n_batch);
                prefetch(cmd, pf[PF_O], &L->wo, NULL, NULL);
                vk_cmd_barrier(cmd);
                /* The last layer's output projection and feed-forward block serve only the logits (its
                 * keys and values are cached by now), so they run for the flagged tokens' rows alone,
                 * gathered to the front of two free buffers: the attention output into gate, the
                 * residual into qkv (llama.cpp does the same, inp_out_ids). None at all without any. */
                if (last && n_out < nt && (uint64_t) n_out * o_dim * 4 <= vc->gate.size &&
                    (uint64_t) n_out * E * 4 <= vc->qkv.size) {
                        if (n_out == 0)
                                break;
                        vk_op_get_rows(cmd, VK_W_F32, vc->att.addr, o_dim * 4, o_dim, ina + vc->off_idx, n_out,
                                       vc->gate.addr, o_dim, 1.0f);
                        vk_op_get_rows(cmd, VK_W_F32, xr, E * 4, E, ina + vc->off_idx, n_out, vc->qkv.addr, E, 1.0f);
                        vk_cmd_barrier(cmd);
                        att = vc->gate.addr;
                        xr = vc->qkv.addr;
                        att16 = 0;
                        nt = n_out;
                        gathered = true;
                }
                /* The attention kernel writes the 8-bit row itself where it can. */
                if ((pa.q8 && !vk_attn_q8_ok(cmd, &pa)) || (q8n && o_dim % 32 == 0)) {
                        vk_op_quantx(cmd, att, o_dim, o_dim, nt, attq);
                        vk_cmd_barrier(cmd);
                }
                /* Without post-norms the residual add is fused into the output projection. */
                att16 = to_x16(cmd, vc, &L->wo, att, o_dim, nt, att16);
                if (hp->post_norms)
                        mm(cmd, &L->wo, att, att16, attq, o_dim, nt, vc->tmp.addr, E, false);
                else
                        mm(cmd, &L->wo, att, att16, attq, o_dim, nt, xr, E, true);
                vk_cmd_barrier(cmd);
                bool glu_s = q8 && glu_staged(vc, cmd, L, E);
                h16n = 0;
                if (!glu_s) {
                        h16n = x16_target(cmd, vc, &L->gate, E, nt);
                        vk_op_norm(cmd, &(struct pc_norm) {
                                .x = xr, .t = vc->tmp.addr, .wt = L->post_attn_norm, .w = L->ffn_norm,
                                .dst = vc->h.addr, .q8 = hq, .dst16 = h16n, .n = E, .rows = nt, .eps = hp->norm_eps,
                                .flags = (hp->post_norms ? NORM_T | ADD_T : 0) | NORM_OUT | NORM_W | fq8,
                        });
                        prefetch(cmd, pf[PF_GLU], &L->gate, &L->up, NULL);
                        vk_cmd_barrier(cmd);
                }

                /* Feed-forward block. */
                uint32_t act = hp->act == FFN_GELU_TANH ? ACT_GELU_TANH : ACT_SILU;
                bool same = L->gate.wt == L->up.wt && L->gate.row_bytes == L->up.row_bytes;
                /* down on 8-bit activations where its type has that mat-vec. It pays even for small
                 * models: the conversion's dispatch and barrier cost less than the float mat-vec loses
                 * (docs/vulkan.md). The staged GLU may write them itself (vc->glu_q8). */
                bool down8 = (q8 || q8n) && F % 32 == 0 && vk_mv8_type((enum vk_wtype) L->down.wt);
                VkDeviceAddress downq = 0, gate16 = 0;
                if (glu_s) {
                        struct vk_xrow xf = { .x = xr, .g = L->ffn_norm, .eps = hp->norm_eps, .norm = true };
                        if (hp->post_norms) {
                                xf.t = vc->tmp.addr;
                                xf.wt = L->post_attn_norm;
                                xf.xo = other_x(vc, xr);
                                xr = xf.xo;
                        }
                        /* glu_staged asked vk_mv8s_ok, so one of these records the product. */
                        if (down8 && vc->glu_q8 &&
                            vk_op_matvec_glu_q8s_q(cmd, L->gate.wt, L->gate.addr, L->up.addr, L->gate.row_bytes, E, F,
                                                   &xf, vc->gate.addr, gateq, act))
                                downq = gateq;
                        else
                                vk_op_matvec_glu_q8s(cmd, L->gate.wt, L->gate.addr, L->up.addr, L->gate.row_bytes, E,
                                                     F, &xf, vc->gate.addr, act);
                } else if (!(same && q8 &&
                             vk_op_matvec_glu_q8(cmd, L->gate.wt, L->gate.addr, L->up.addr, L->gate.row_bytes, E, F, hq,
                                                 vc->gate.addr, act)) &&
                           !(same && vk_op_matvec_glu(cmd, L->gate.wt, L->gate.addr, L->up.addr, L->gate.row_bytes, E,
                                                      F, vc->h.addr, nt, vc->gate.addr, act))) {
                        VkDeviceAddress h16 = to_x16(cmd, vc, &L->gate, vc->h.addr, E, nt, h16n);
                        /* The gate/up products read h16 from x16, and all of them are behind the barrier
                         * before the activation, which may then write the down projection's f16 rows there. */
                        gate16 = x16_target(cmd, vc, &L->down, F, nt);
                        if (vc->gu_fused && L->wgu.addr && nt > 1) {
                                /* rows [gate | up] per token, 2F apart */
                                mm(cmd, &L->wgu, vc->h.addr, h16, hq, E, nt, vc->up.addr, 2 * F, false);
                                vk_cmd_barrier(cmd);
                                vk_op_act_rows(cmd, vc->up.addr, vc->up.addr + (VkDeviceAddress) F * 4, 2 * F, F, nt,
                                               vc->gate.addr, gate16, act);
                        } else {
                                mm(cmd, &L->gate, vc->h.addr, h16, hq, E, nt, vc->gate.addr, F, false);
                                mm(cmd, &L->up, vc->h.addr, h16, hq, E, nt, vc->up.addr, F, false);
                                vk_cmd_barrier(cmd);
                                vk_op_act_rows(cmd, vc->gate.addr, vc->up.addr, F, F, nt, vc->gate.addr, gate16, act);
                        }
                }
                vk_cmd_barrier(cmd);
                if (down8 && !downq) {
                        vk_op_quantx(cmd, vc->gate.addr, F, F, nt, gateq);
                        prefetch(cmd, pf[PF_DOWN], &L->down, NULL, NULL);
                        vk_cmd_barrier(cmd);
                        downq = gateq;
                }
                gate16 = to_x16(cmd, vc, &L->down, vc->gate.addr, F, nt, gate16);
                if (hp->post_norms)
                        mm(cmd, &L->down, vc->gate.addr, gate16, downq, F, nt, vc->tmp.addr, E, false);
                else
                        mm(cmd, &L->down, vc->gate.addr, gate16, downq, F, nt, xr, E, true);
                vk_cmd_barrier(cmd);
                /* Glue to the next block: post-norm + residual, then the next layer's input norm (which
                 * staged products do themselves, the post-norm too). */
                h16n = 0;
                if (!last && q8 && qkv_staged(vc, cmd, &vm->layers[il + 1], E))
                        post = hp->post_norms ? L->post_ffn_norm : 0;
                else if (hp->post_norms || !last) {
                        uint32_t fl = hp->post_norms ? NORM_T | ADD_T : 0;
                        if (!last) {
                                fl |= NORM_OUT | NORM_W | fq8;
                                h16n = x16_target(cmd, vc, &vm->layers[il + 1].wq, E, nt);
                        }
                        vk_op_norm(cmd, &(struct pc_norm) {
                                .x = xr, .t = vc->tmp.addr, .wt = L->post_ffn_norm,
                                .w = last ? 0 : vm->layers[il + 1].attn_norm, .dst = vc->h.addr, .q8 = hq,
                                .dst16 = h16n, .n = E, .rows = nt, .flags = fl, .eps = hp->norm_eps,
                        });
                        if (!last)
                                prefetch(cmd, pf[PF_QKV], &vm->layers[il + 1].wq, &vm->layers[il + 1].wk,
                                         &vm->layers[il + 1].wv);
                        vk_cmd_barrier(cmd);
                }
                if (vc->flush_layers && !last && (il == 0 || (il + 1) % vc->flush_layers == 0))
                        vk_cmd_flush(cmd);
        }

        if (n_out > 0) {
                bool dev_logits = vc->logits_dev.buf && n_out <= LOGITS_DEV_ROWS;
                /* One row of logits takes the 8-bit mat-vec in a prefill step too (a one-token step has
                 * q8 already), as the CPU backend's does: the f32 mat-vec read Gemma 3 27B's Q6_K output
                 * in 2.3 ms on the H200, llama.cpp's 0.48 ms (run99.sh); its pp512 gained 0.9% (run103.sh).
                 * So do up to VK_MV8N_MAX rows (mv8n). */
                if ((n_out == 1 || (n_out <= VK_MV8N_MAX && vm->pl.mv8n_split)) && vm->pl.q8 &&
                    !m->exact_activations) {
                        hq = vc->hq.addr;
                        fq8 = NORM_Q8;
                }
                h16n = x16_target(cmd, vc, &vm->output, E, n_out);
                vk_op_norm(cmd, &(struct pc_norm) {
                        .x = xr, .w = vm->output_norm, .dst = vc->h.addr, .idx = ina + vc->off_idx, .n = E,
                        .q8 = hq, .dst16 = h16n, .rows = n_out,
                        .flags = NORM_OUT | NORM_W | (gathered ? 0 : NORM_IDX) | fq8, .eps = hp->norm_eps,
                });
                prefetch(cmd, pf[PF_OUT], &vm->output, NULL, NULL);
                vk_cmd_barrier(cmd);
                mm(cmd, &vm->output, vc->h.addr, to_x16(cmd, vc, &vm->output, vc->h.addr, E, n_out, h16n), hq, E,
                   n_out, dev_logits ? vc->logits_dev.addr : vc->logits.addr, hp->n_vocab, false);
                if (dev_logits)
                        vk_cmd_copy(cmd, vc->logits_dev.buf, vc->logits.buf, (VkDeviceSize) n_out * hp->n_vocab * 4);
        }
        /* vk_cmd_submit_wait's own barrier makes the logits visible to the host. */
        r = vk_cmd_submit_wait(cmd);
        /* The caller reads the logits where the device wrote them, where that memory is host-cached: a
         * copy of n_vocab floats (1 MiB for Gemma 3) would sit between every two steps. Uncached memory
         * is read once, by the copy, since the sampler reads logits more than once. */
        if (r >= 0 && n_out > 0 && vc->logits.cached)
                *view = vc->logits.map;
        else if (r >= 0 && n_out > 0)
                memcpy(out, vc->logits.map, (size_t) n_out * hp->n_vocab * sizeof(float));
out:
        pthread_mutex_unlock(&vm->lock);
        return r;
}

bool vulkan_backend_preferred(char *reason, size_t reasonsz) {
        struct vk_device *d;
        bool cpu;

        if (vk_device_acquire(&d, reason, reasonsz) < 0)
                return false;
        /* lavapipe and other software devices are slower than the CPU backend. */
        cpu = d->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
        if (cpu)
                snprintf(reason, reasonsz, "only a CPU Vulkan device (%s)", d->props.deviceName);
        vk_device_release(d);
        return !cpu;
}

const struct backend_ops vulkan_backend_ops = {
        .name = "vulkan",
        .model_init = vk_model_init,
        .model_free = vk_model_free,
        .context_init = vk_context_init,
        .context_free = vk_context_free,
        .decode = vk_decode,
        .seq_truncate = vk_seq_truncate,
};
