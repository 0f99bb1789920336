/* SPDX-License-Identifier: MIT */
/*
 * The CPU backend: the reference every other backend is tested against, and
 * a fast path of its own. Weights stay in the GGUF mapping (no copy); the KV
 * cache is float32; one forward step runs the whole batch through every
 * layer, parallelising matrix products over rows and attention over
 * (token, head) pairs on a thread pool.
 */

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "cpu-ops.h"
#include "model.h"
#include "threadpool.h"

struct cpu_model {
        ThreadPool *pool;
        /* Contexts of one model share the pool: steps are serialised (one
         * scheduler per model drives them anyway). */
        pthread_mutex_t lock;
};

struct cpu_kv_layer {
        uint32_t ring;  /* positions kept per sequence: n_ctx, or window + n_batch on sliding layers */
        float *k;       /* [n_seq][ring][n_head_kv * head_dim] */
        float *v;       /* [n_seq][ring][n_head_kv * head_dim_v] */
};

#define N_QBUF 3

struct cpu_context {
        struct cpu_kv_layer *kv; /* [n_layer] */
        /* Scratch for one step of up to n_batch tokens. */
        float *x;     /* [n_batch][n_embd] residual stream */
        float *h;     /* [n_batch][max(n_embd, q_dim)] normed input of a block */
        float *q;     /* [n_batch][n_head * head_dim] */
        float *k;     /* [n_batch][n_head_kv * head_dim] */
        float *v;     /* [n_batch][n_head_kv * head_dim_v] */
        float *att;   /* [n_batch][n_head * head_dim_v] */
        float *tmp;   /* [n_batch][n_embd] */
        float *gate;  /* [n_batch][n_ff] */
        float *up;    /* [n_batch][n_ff] */
        float *rope_cos, *rope_sin;         /* [n_batch][n_rot / 2] global layers */
        float *rope_cos_swa, *rope_sin_swa; /* [n_batch][n_rot / 2] sliding layers */
        void *qbuf[N_QBUF];                 /* quantized activations, one per vec_dot type in flight */
        size_t qbuf_size;
        int32_t *out_idx;                   /* [n_batch] batch indices of tokens that want logits */
        float *attn_partial;                /* split attention partial results (decode) */
        size_t attn_partial_size;           /* floats */
        uint32_t attn_max_splits;
        bool exact;                         /* model_load_options.exact_activations */
};

/* ---- matrix products ---- */

struct mm_item {
        const struct tensor *w;
        const void *x;      /* activations in w's vec_dot type */
        size_t x_row_bytes;
        float *y;
        size_t ldy;
};

struct mm_job {
        bool exact;               /* float activations, weights dequantized row by row */
        struct mm_item items[3];
        size_t n_items;
        size_t nt;
        size_t chunk;             /* rows per task */
        size_t tasks_before[4];   /* prefix sums of tasks per item */
};

static void mm_task(void *ctx, size_t task) {
        struct mm_job *j = ctx;
        size_t i = 0;

        while (i + 1 < j->n_items && task >= j->tasks_before[i + 1])
                i++;
        const struct mm_item *it = &j->items[i];
        size_t r0 = (task - j->tasks_before[i]) * j->chunk;
        size_t r1 = MIN(r0 + j->chunk, (size_t) it->w->ne[1]);

        if (j->exact) {
                size_t k = it->w->ne[0];
                _cleanup_free_ float *row = newa(float, k);

                if (!row)
                        abort(); /* test-only mode: no way to report from a task */
                for (size_t r = r0; r < r1; r++) {
                        dequantize_row(it->w->type, (const uint8_t *) it->w->data + r * it->w->row_bytes, row, k);
                        for (size_t t = 0; t < j->nt; t++)
                                it->y[t * it->ldy + r] = cpu_dot_f32(
                                        row, (const float *) ((const uint8_t *) it->x + t * it->x_row_bytes), k);
                }
                return;
        }
        quant_matmul(it->w->type, it->w->ne[0], it->w->data, it->w->row_bytes, r0, r1, it->x, it->x_row_bytes,
                     j->nt, it->y, it->ldy);
}

static void mm_run(ThreadPool *pool, struct mm_job *j) {
        size_t total_rows = 0, n_tasks = 0, per;
        unsigned nth = threadpool_size(pool);

        for (size_t i = 0; i < j->n_items; i++)
                total_rows += j->items[i].w->ne[1];
        /* Enough tasks to balance threads, few enough that each streams a long run of rows. */
        per = DIV_ROUND_UP(total_rows, (size_t) nth * 4);
        j->chunk = ALIGN_TO(MAX(per, (size_t) 4), 4);
        for (size_t i = 0; i < j->n_items; i++) {
                j->tasks_before[i] = n_tasks;
                n_tasks += DIV_ROUND_UP((size_t) j->items[i].w->ne[1], j->chunk);
        }
        j->tasks_before[j->n_items] = n_tasks;
        threadpool_run(pool, n_tasks, mm_task, j);
}

/* Quantizes nt rows of k floats (x, ldx floats apart) for weights of type wt;
 * returns the buffer and its row stride. Float weights read x directly. */
static const void *activations_for(struct cpu_context *cc, unsigned slot, enum ggml_type wt, const float *x,
                                   size_t ldx, size_t k, size_t nt, size_t *ret_row_bytes) {
        enum ggml_type vt = quant_type_info(wt)->vec_dot_type;
        size_t row_bytes;
        uint8_t *buf;

        if (vt == GGML_TYPE_F32 || cc->exact) {
                *ret_row_bytes = ldx * sizeof(float);
                return x;
        }
        /* Shapes were validated at load: k is a multiple of the weight's block size. */
        (void) quant_row_size(vt, k, &row_bytes);
        buf = cc->qbuf[slot];
        for (size_t t = 0; t < nt; t++)
                quantize_activations(vt, x + t * ldx, buf + t * row_bytes, k);
        *ret_row_bytes = row_bytes;
        return buf;
}

/* y[t] = W x[t] for one weight; x holds nt rows of w->ne[0] floats, ldx apart. */
static void matmul1(ThreadPool *pool, struct cpu_context *cc, const struct tensor *w, const float *x, size_t ldx,
                    size_t nt, float *y, size_t ldy) {
        struct mm_job j = { .n_items = 1, .nt = nt, .exact = cc->exact };

        j.items[0] = (struct mm_item) { .w = w, .y = y, .ldy = ldy };
        j.items[0].x = activations_for(cc, 0, w->type, x, ldx, w->ne[0], nt, &j.items[0].x_row_bytes);
        mm_run(pool, &j);
}

/* Several weights applied to the same input in one parallel loop (q/k/v, gate/up);
 * weights that share an activation type share its quantized copy. */
static void matmul_group(ThreadPool *pool, struct cpu_context *cc, const struct tensor *const *ws, float *const *ys,
                         const size_t *ldys, size_t n, const float *x, size_t ldx, size_t nt) {
        struct mm_job j = { .n_items = n, .nt = nt, .exact = cc->exact };

        for (size_t i = 0; i < n; i++) {
                enum ggml_type vt = quant_type_info(ws[i]->type)->vec_dot_type;
                size_t p = 0;

                j.items[i] = (struct mm_item) { .w = ws[i], .y = ys[i], .ldy = ldys[i] };
                while (p < i && quant_type_info(ws[p]->type)->vec_dot_type != vt)
                        p++;
                if (p < i) {
                        j.items[i].x = j.items[p].x;
                        j.items[i].x_row_bytes = j.items[p].x_row_bytes;
                } else
                        j.items[i].x = activations_for(cc, (unsigned) i, ws[i]->type, x, ldx, ws[i]->ne[0], nt,
                                                       &j.items[i].x_row_bytes);
        }
        mm_run(pool, &j);
}

/* ---- attention ---- */

#define ATTN_BLOCK 64    /* positions scored at a time */
#define ATTN_MAX_GROUP 8 /* query heads sharing one K/V read */

/*
 * One task: query token t, KV head kvh, a group of up to ATTN_MAX_GROUP of
 * the query heads that share that KV head, and split `split` of the
 * positions. Each K and V row is read once for the whole group. Scores are
 * computed a block at a time; a running max per head rescales what was
 * accumulated (flash-attention style), so memory stays O(block).
 */
struct attn_job {
        const struct hparams *hp;
        const struct cpu_kv_layer *kv;
        bool swa;
        const struct batch *b;
        const float *q;
        float *out;
        uint32_t n_groups;   /* head groups per KV head */
        uint32_t n_splits;   /* position splits (decode of long contexts) */
        float *partial;      /* n_splits > 1: [task][group][head_dim_v + 2] (o, m, l) */
};

static void attn_task(void *ctx, size_t task) {
        const struct attn_job *j = ctx;
        const struct hparams *hp = j->hp;
        uint32_t split = (uint32_t) (task % j->n_splits);
        size_t rest = task / j->n_splits;
        uint32_t grp = (uint32_t) (rest % j->n_groups);
        size_t tk = rest / j->n_groups;
        uint32_t kvh = (uint32_t) (tk % hp->n_head_kv);
        size_t t = tk / hp->n_head_kv;
        uint32_t heads_per_kv = hp->n_head / hp->n_head_kv;
        uint32_t h0 = kvh * heads_per_kv + grp * ATTN_MAX_GROUP;
        uint32_t G = MIN((uint32_t) ATTN_MAX_GROUP, heads_per_kv - grp * ATTN_MAX_GROUP);
        size_t hd = hp->head_dim, hdv = hp->head_dim_v;
        size_t k_dim = (size_t) hp->n_head_kv * hd, v_dim = (size_t) hp->n_head_kv * hdv;
        int32_t pos = j->b->pos[t], seq = j->b->seq_id[t], start = 0, n_pos, s0, s1;
        uint32_t ring = j->kv->ring;
        const float *kbase = j->kv->k + (size_t) seq * ring * k_dim + kvh * hd;
        const float *vbase = j->kv->v + (size_t) seq * ring * v_dim + kvh * hdv;
        float scores[ATTN_MAX_GROUP][ATTN_BLOCK], m[ATTN_MAX_GROUP], l[ATTN_MAX_GROUP];
        float *o[ATTN_MAX_GROUP];
        /* The group's query heads are adjacent, and so are their outputs: o[g] = o[0] + g * o_stride
         * (a split's partials carry their max and sum after each head's output). */
        const float *qg = j->q + t * hp->n_head * hd + (size_t) h0 * hd;
        size_t o_stride = j->n_splits > 1 ? hdv + 2 : hdv;

        if (j->swa && hp->sliding_window > 0 && pos >= (int32_t) hp->sliding_window)
                start = pos - (int32_t) hp->sliding_window + 1;
        n_pos = pos - start + 1;
        s0 = start + (int32_t) ((int64_t) n_pos * split / j->n_splits);
        s1 = start + (int32_t) ((int64_t) n_pos * (split + 1) / j->n_splits);

        for (uint32_t g = 0; g < G; g++) {
                o[g] = (j->n_splits > 1 ? j->partial + (size_t) task * ATTN_MAX_GROUP * o_stride
                                        : j->out + t * hp->n_head * hdv + (size_t) h0 * hdv) + g * o_stride;
                memset(o[g], 0, hdv * sizeof(float));
                m[g] = -INFINITY;
                l[g] = 0;
        }

        for (int32_t p0 = s0; p0 < s1; p0 += ATTN_BLOCK) {
                int32_t n = MIN((int32_t) ATTN_BLOCK, s1 - p0);
                const float *vrows[ATTN_BLOCK];
                bool contiguous = true;

                for (int32_t i = 0; i < n; i++) {
                        vrows[i] = vbase + (size_t) (p0 + i) % ring * v_dim;
                        if (i > 0 && vrows[i] != vrows[i - 1] + v_dim)
                                contiguous = false;
                }
                /* Keys and values share slots: the block's key rows are as contiguous as its value rows. */
                if (contiguous)
                        cpu_attn_scores(qg, hd, G, kbase + (size_t) p0 % ring * k_dim, k_dim, (size_t) n, hd,
                                        scores[0], ATTN_BLOCK);
                else
                        for (int32_t i = 0; i < n; i++)
                                cpu_attn_scores(qg, hd, G, kbase + (size_t) (p0 + i) % ring * k_dim, 0, 1, hd,
                                                &scores[0][i], ATTN_BLOCK);
                for (uint32_t g = 0; g < G; g++) {
                        float bm = -INFINITY, sum = 0;

                        for (int32_t i = 0; i < n; i++) {
                                scores[g][i] *= hp->attn_scale;
                                /* fmaxf is a call into libm here; this is the same max, NaN scores skipped too. */
                                bm = scores[g][i] > bm ? scores[g][i] : bm;
                        }
                        if (bm > m[g]) {
                                float c = expf(m[g] - bm);
                                if (l[g] > 0)
                                        cpu_scale_f32(o[g], c, hdv);
                                l[g] *= c;
                                m[g] = bm;
                        }
                        for (int32_t i = 0; i < n; i++)
                                scores[g][i] -= m[g];
                        cpu_exp_inplace(scores[g], (size_t) n);
                        for (int32_t i = 0; i < n; i++)
                                sum += scores[g][i];
                        l[g] += sum;
                        if (!contiguous)
                                for (int32_t i = 0; i < n; i++)
                                        cpu_axpy_f32(o[g], scores[g][i], vrows[i], hdv);
                }
                /* The group's value rows read once for all its heads. */
                if (contiguous)
                        cpu_attn_accumulate(o[0], o_stride, scores[0], ATTN_BLOCK, G, vrows[0], v_dim, (size_t) n, hdv);
        }

        for (uint32_t g = 0; g < G; g++) {
                if (j->n_splits > 1) {
                        o[g][hdv] = m[g];
                        o[g][hdv + 1] = l[g];
                } else
                        cpu_scale_f32(o[g], 1.0f / l[g], hdv);
        }
}

/* Merges the position splits of one (token, KV head, group) into the output. */
static void attn_combine(const struct attn_job *j, size_t nt) {
        const struct hparams *hp = j->hp;
        size_t hdv = hp->head_dim_v;
        uint32_t heads_per_kv = hp->n_head / hp->n_head_kv;

        for (size_t t = 0; t < nt; t++)
                for (uint32_t kvh = 0; kvh < hp->n_head_kv; kvh++)
                        for (uint32_t grp = 0; grp < j->n_groups; grp++) {
                                uint32_t h0 = kvh * heads_per_kv + grp * ATTN_MAX_GROUP;
                                uint32_t G = MIN((uint32_t) ATTN_MAX_GROUP, heads_per_kv - grp * ATTN_MAX_GROUP);
                                size_t base = ((t * hp->n_head_kv + kvh) * j->n_groups + grp) * j->n_splits;

                                for (uint32_t g = 0; g < G; g++) {
                                        float *out = j->out + t * hp->n_head * hdv + (size_t) (h0 + g) * hdv;
                                        float mx = -INFINITY, l = 0;

                                        for (uint32_t sp = 0; sp < j->n_splits; sp++) {
                                                const float *pp = j->partial + ((base + sp) * ATTN_MAX_GROUP + g) * (hdv + 2);
                                                if (pp[hdv + 1] > 0)
                                                        mx = fmaxf(mx, pp[hdv]);
                                        }
                                        memset(out, 0, hdv * sizeof(float));
                                        for (uint32_t sp = 0; sp < j->n_splits; sp++) {
                                                const float *pp = j->partial + ((base + sp) * ATTN_MAX_GROUP + g) * (hdv + 2);
                                                float c;

                                                if (pp[hdv + 1] <= 0)
                                                        continue;
                                                c = expf(pp[hdv] - mx);
                                                cpu_axpy_f32(out, c, pp, hdv);
                                                l += c * pp[hdv + 1];
                                        }
                                        cpu_scale_f32(out, 1.0f / l, hdv);
                                }
                        }
}

static void attention(ThreadPool *pool, struct cpu_context *cc, const struct hparams *hp,
                      const struct cpu_kv_layer *kv, bool swa, const struct batch *b, const float *q, float *out) {
        uint32_t heads_per_kv = hp->n_head / hp->n_head_kv;
        struct attn_job aj = {
                .hp = hp, .kv = kv, .swa = swa, .b = b, .q = q, .out = out,
                .n_groups = DIV_ROUND_UP(heads_per_kv, (uint32_t) ATTN_MAX_GROUP),
                .n_splits = 1,
        };
        size_t tasks = b->n_tokens * hp->n_head_kv * aj.n_groups;
        int32_t longest = 0;

        for (size_t t = 0; t < b->n_tokens; t++)
                longest = MAX(longest, b->pos[t] + 1);
        if (swa && hp->sliding_window > 0)
                longest = MIN(longest, (int32_t) hp->sliding_window);
        /* Too few tasks to keep the threads busy (decode, one KV head) over a
         * long context: split the positions too, then merge (flash-decoding). */
        if (tasks < 2 * threadpool_size(pool) && longest >= 4 * ATTN_BLOCK) {
                aj.n_splits = MIN(DIV_ROUND_UP(2 * threadpool_size(pool), (unsigned) tasks),
                                  (unsigned) (longest / (2 * ATTN_BLOCK)));
                aj.n_splits = MIN(aj.n_splits, cc->attn_max_splits);
        }
        if (aj.n_splits > 1 && tasks * aj.n_splits * ATTN_MAX_GROUP * (hp->head_dim_v + 2) <= cc->attn_partial_size) {
                aj.partial = cc->attn_partial;
                threadpool_run(pool, tasks * aj.n_splits, attn_task, &aj);
                attn_combine(&aj, b->n_tokens);
        } else {
                aj.n_splits = 1;
                threadpool_run(pool, tasks, attn_task, &aj);
        }
}

/* ---- model and context ---- */

static int cpu_model_init(Model *m, void **ret, char *err, size_t errsz) {
        struct cpu_model *cm;
        int r;

        cm = new0(struct cpu_model, 1);
        if (!cm)
                return -ENOMEM;
        r = threadpool_new(m->n_threads, &cm->pool);
        if (r < 0) {
                free(cm);
                snprintf(err, errsz, "cannot start CPU threads: %s", strerror(-r));
                return r;
        }
        pthread_mutex_init(&cm->lock, NULL);
        snprintf(m->backend_desc, sizeof m->backend_desc, "cpu (%s, %u threads)",
                 quant_cpu_level_name(quant_cpu_level()), threadpool_size(cm->pool));
        *ret = cm;
        return 0;
}

static void cpu_model_free(void *state) {
        struct cpu_model *cm = state;

        if (!cm)
                return;
        threadpool_free(cm->pool);
        pthread_mutex_destroy(&cm->lock);
        free(cm);
}

static void cpu_context_free(void *state) {
        struct cpu_context *cc = state;

        if (!cc)
                return;
        if (cc->kv)
                for (size_t i = 0; cc->kv[i].k || cc->kv[i].v; i++) {
                        free(cc->kv[i].k);
                        free(cc->kv[i].v);
                }
        free(cc->kv);
        free(cc->x);
        free(cc->h);
        free(cc->q);
        free(cc->k);
        free(cc->v);
        free(cc->att);
        free(cc->tmp);
        free(cc->gate);
        free(cc->up);
        free(cc->rope_cos);
        free(cc->rope_sin);
        free(cc->rope_cos_swa);
        free(cc->rope_sin_swa);
        for (size_t i = 0; i < N_QBUF; i++)
                free(cc->qbuf[i]);
        free(cc->out_idx);
        free(cc->attn_partial);
        free(cc);
}

static float *alloc_f32(size_t a, size_t b) {
        size_t n;

        if (MUL_OVERFLOW(a, b, &n))
                return NULL;
        return aligned_alloc_array(n, sizeof(float));
}

static int cpu_context_init(Context *c, void **ret) {
        const struct hparams *hp = &c->model->hp;
        size_t nb = c->n_batch, q_dim = (size_t) hp->n_head * hp->head_dim;
        size_t o_dim = (size_t) hp->n_head * hp->head_dim_v;
        size_t k_dim = (size_t) hp->n_head_kv * hp->head_dim, v_dim = (size_t) hp->n_head_kv * hp->head_dim_v;
        size_t kmax = MAX(MAX((size_t) hp->n_embd, (size_t) hp->n_ff), o_dim);
        struct cpu_context *cc;

        cc = new0(struct cpu_context, 1);
        if (!cc)
                return -ENOMEM;
        cc->exact = c->model->exact_activations;
        /* One extra zeroed entry terminates the array for cpu_context_free. */
        cc->kv = new0(struct cpu_kv_layer, hp->n_layer + 1);
        if (!cc->kv)
                goto oom;
        for (uint32_t il = 0; il < hp->n_layer; il++) {
                struct cpu_kv_layer *l = &cc->kv[il];
                size_t n;

                l->ring = c->n_ctx;
                if (c->model->layers[il].swa && hp->sliding_window + c->n_batch < c->n_ctx)
                        l->ring = hp->sliding_window + c->n_batch;
                if (MUL_OVERFLOW((size_t) c->n_seq, (size_t) l->ring, &n))
                        goto oom;
                l->k = alloc_f32(n, k_dim);
                l->v = alloc_f32(n, v_dim);
                if (!l->k || !l->v)
                        goto oom;
        }
        cc->x = alloc_f32(nb, hp->n_embd);
        cc->h = alloc_f32(nb, MAX((size_t) hp->n_embd, o_dim));
        cc->q = alloc_f32(nb, q_dim);
        cc->k = alloc_f32(nb, k_dim);
        cc->v = alloc_f32(nb, v_dim);
        cc->att = alloc_f32(nb, o_dim);
        cc->tmp = alloc_f32(nb, hp->n_embd);
        cc->gate = alloc_f32(nb, hp->n_ff);
        cc->up = alloc_f32(nb, hp->n_ff);
        cc->rope_cos = alloc_f32(nb, hp->n_rot / 2);
        cc->rope_sin = alloc_f32(nb, hp->n_rot / 2);
        cc->rope_cos_swa = alloc_f32(nb, hp->n_rot / 2);
        cc->rope_sin_swa = alloc_f32(nb, hp->n_rot / 2);
        cc->out_idx = newa(int32_t, nb);
        /* Split attention is for a handful of tokens (decode): room for 16
         * tokens x every KV head x 16 splits. */
        cc->attn_max_splits = 16;
        cc->attn_partial_size = (size_t) 16 * hp->n_head_kv * DIV_ROUND_UP(hp->n_head / hp->n_head_kv, ATTN_MAX_GROUP) *
                                cc->attn_max_splits * ATTN_MAX_GROUP * (hp->head_dim_v + 2);
        cc->attn_partial = alloc_f32(cc->attn_partial_size, 1);
        /* Largest quantized row: Q8_K (292 bytes per 256 values) is the densest activation type. */
        cc->qbuf_size = (ALIGN_TO(kmax, QK_K) / QK_K + 1) * sizeof(block_q8_K);
        for (size_t i = 0; i < N_QBUF; i++) {
                cc->qbuf[i] = aligned_alloc_array(nb, cc->qbuf_size);
                if (!cc->qbuf[i])
                        goto oom;
        }
        if (!cc->x || !cc->h || !cc->q || !cc->k || !cc->v || !cc->att || !cc->tmp || !cc->gate || !cc->up ||
            !cc->rope_cos || !cc->rope_sin || !cc->rope_cos_swa || !cc->rope_sin_swa || !cc->out_idx ||
            !cc->attn_partial)
                goto oom;
        *ret = cc;
        return 0;
oom:
        cpu_context_free(cc);
        return -ENOMEM;
}

static int32_t cpu_seq_truncate(Context *c, int32_t seq, int32_t p0) {
        struct cpu_context *cc = c->backend_state;
        const struct hparams *hp = &c->model->hp;
        int32_t len = c->seq_len[seq];

        /* A sliding layer's ring keeps only the last `ring` positions: going
         * back to p0 needs [p0 - window, p0) still there. */
        for (uint32_t il = 0; il < hp->n_layer; il++) {
                int32_t ring = (int32_t) cc->kv[il].ring;
                if (ring >= (int32_t) c->n_ctx)
                        continue;
                if (len - ring > p0 - (int32_t) hp->sliding_window)
                        return 0;
        }
        return p0;
}

static void layer_norm_rows(float *out, const float *x, const struct tensor *w, size_t nt, size_t n, float eps) {
        for (size_t t = 0; t < nt; t++)
                cpu_rmsnorm(out + t * n, x + t * n, w ? w->data : NULL, n, eps);
}

static int cpu_decode(Context *c, const struct batch *b, float *out, float **view) {
        Model *m = c->model;
        struct cpu_model *cm = m->backend_state;
        struct cpu_context *cc = c->backend_state;
        const struct hparams *hp = &m->hp;
        size_t nt = b->n_tokens, E = hp->n_embd, F = hp->n_ff, half = hp->n_rot / 2;
        size_t q_dim = (size_t) hp->n_head * hp->head_dim, o_dim = (size_t) hp->n_head * hp->head_dim_v;
        size_t k_dim = (size_t) hp->n_head_kv * hp->head_dim, v_dim = (size_t) hp->n_head_kv * hp->head_dim_v;
        const float *freq_div = m->rope_freqs.data;
        ThreadPool *pool = cm->pool;
        size_t n_out = 0;

        pthread_mutex_lock(&cm->lock);

        /* Embeddings (Gemma scales them by sqrt(hidden)) and RoPE tables per token. */
        for (size_t t = 0; t < nt; t++) {
                const uint8_t *row = (const uint8_t *) m->tok_embd.data + (size_t) b->token[t] * m->tok_embd.row_bytes;
                dequantize_row(m->tok_embd.type, row, cc->x + t * E, E);
                if (hp->emb_scale != 1.0f)
                        cpu_scale_f32(cc->x + t * E, hp->emb_scale, E);
                cpu_rope_table(cc->rope_cos + t * half, cc->rope_sin + t * half, hp->n_rot,
                               (float) b->pos[t] * hp->rope_scale, hp->rope_base, freq_div);
                if (hp->sliding_window > 0)
                        cpu_rope_table(cc->rope_cos_swa + t * half, cc->rope_sin_swa + t * half, hp->n_rot,
                                       (float) b->pos[t], hp->rope_base_swa, freq_div);
                if (b->logits[t])
                        cc->out_idx[n_out++] = (int32_t) t;
        }

        for (uint32_t il = 0; il < hp->n_layer; il++) {
                const struct layer *L = &m->layers[il];
                struct cpu_kv_layer *kv = &cc->kv[il];
                const float *rc = L->swa ? cc->rope_cos_swa : cc->rope_cos;
                const float *rs = L->swa ? cc->rope_sin_swa : cc->rope_sin;

                /* Attention block. */
                layer_norm_rows(cc->h, cc->x, &L->attn_norm, nt, E, hp->norm_eps);
                {
                        const struct tensor *ws[3] = { &L->wq, &L->wk, &L->wv };
                        float *ys[3] = { cc->q, cc->k, cc->v };
                        size_t ld[3] = { q_dim, k_dim, v_dim };
                        matmul_group(pool, cc, ws, ys, ld, 3, cc->h, E, nt);
                }
                for (size_t t = 0; t < nt; t++) {
                        float *q = cc->q + t * q_dim, *k = cc->k + t * k_dim, *v = cc->v + t * v_dim;
                        size_t slot = (size_t) b->seq_id[t] * kv->ring + (size_t) b->pos[t] % kv->ring;

                        if (L->bq.data) {
                                cpu_add_f32(q, L->bq.data, q_dim);
                                cpu_add_f32(k, L->bk.data, k_dim);
                                cpu_add_f32(v, L->bv.data, v_dim);
                        }
                        for (uint32_t h = 0; h < hp->n_head; h++) {
                                float *qh = q + (size_t) h * hp->head_dim;
                                if (hp->qk_norm)
                                        cpu_rmsnorm(qh, qh, L->q_norm.data, hp->head_dim, hp->norm_eps);
                                cpu_rope_apply(qh, hp->n_rot, rc + t * half, rs + t * half, hp->rope_neox);
                        }
                        for (uint32_t h = 0; h < hp->n_head_kv; h++) {
                                float *kh = k + (size_t) h * hp->head_dim;
                                if (hp->qk_norm)
                                        cpu_rmsnorm(kh, kh, L->k_norm.data, hp->head_dim, hp->norm_eps);
                                cpu_rope_apply(kh, hp->n_rot, rc + t * half, rs + t * half, hp->rope_neox);
                        }
                        memcpy(kv->k + slot * k_dim, k, k_dim * sizeof(float));
                        memcpy(kv->v + slot * v_dim, v, v_dim * sizeof(float));
                }
                attention(pool, cc, hp, kv, L->swa, b, cc->q, cc->att);
                /* The last layer's output projection and feed-forward block serve only the logits
                 * (its keys and values are cached above), so they run for the flagged tokens alone,
                 * whose rows move to the front; none without any (llama.cpp does the same,
                 * inp_out_ids). out_idx ascends, so row i's source row, at or past i, is still unmoved. */
                if (il + 1 == hp->n_layer && n_out < nt) {
                        for (size_t i = 0; i < n_out; i++) {
                                size_t r = (size_t) cc->out_idx[i];
                                memmove(cc->att + i * o_dim, cc->att + r * o_dim, o_dim * sizeof(float));
                                memmove(cc->x + i * E, cc->x + r * E, E * sizeof(float));
                                cc->out_idx[i] = (int32_t) i;
                        }
                        nt = n_out;
                        if (nt == 0)
                                break;
                }
                matmul1(pool, cc, &L->wo, cc->att, o_dim, nt, cc->tmp, E);
                if (hp->post_norms)
                        layer_norm_rows(cc->tmp, cc->tmp, &L->post_attn_norm, nt, E, hp->norm_eps);
                cpu_add_f32(cc->x, cc->tmp, nt * E);

                /* Feed-forward block. */
                layer_norm_rows(cc->h, cc->x, &L->ffn_norm, nt, E, hp->norm_eps);
                {
                        const struct tensor *ws[2] = { &L->ffn_gate, &L->ffn_up };
                        float *ys[2] = { cc->gate, cc->up };
                        size_t ld[2] = { F, F };
                        matmul_group(pool, cc, ws, ys, ld, 2, cc->h, E, nt);
                }
                if (hp->act == FFN_GELU_TANH)
                        cpu_geglu_tanh(cc->gate, cc->up, nt * F);
                else
                        cpu_swiglu(cc->gate, cc->up, nt * F);
                matmul1(pool, cc, &L->ffn_down, cc->gate, F, nt, cc->tmp, E);
                if (hp->post_norms)
                        layer_norm_rows(cc->tmp, cc->tmp, &L->post_ffn_norm, nt, E, hp->norm_eps);
                cpu_add_f32(cc->x, cc->tmp, nt * E);
        }

        /* Output: final norm and vocabulary projection, only for the tokens that want logits. */
        for (size_t i = 0; i < n_out; i++)
                cpu_rmsnorm(cc->h + i * E, cc->x + (size_t) cc->out_idx[i] * E, m->output_norm.data, E,
                            hp->norm_eps);
        if (n_out > 0)
                matmul1(pool, cc, &m->output, cc->h, E, n_out, out, hp->n_vocab);

        pthread_mutex_unlock(&cm->lock);
        return 0;
}

const struct backend_ops cpu_backend_ops = {
        .name = "cpu",
        .model_init = cpu_model_init,
        .model_free = cpu_model_free,
        .context_init = cpu_context_init,
        .context_free = cpu_context_free,
        .decode = cpu_decode,
        .seq_truncate = cpu_seq_truncate,
};
