/* SPDX-License-Identifier: MIT */
/*
 * Context: a KV cache with n_seq sequence slots over a shared Model, and the
 * batch entry point. Every batch is validated here, once, before a backend
 * sees it: backends may then index without checks.
 */

#include <stdio.h>
#include <string.h>

#include "model.h"

Context *context_free(Context *c) {
        if (!c)
                return NULL;
        if (c->model && c->model->backend)
                c->model->backend->context_free(c->backend_state);
        if (c->seq_tokens)
                for (uint32_t s = 0; s < c->n_seq; s++)
                        free(c->seq_tokens[s]);
        free(c->seq_tokens);
        free(c->seq_len);
        free(c->logits);
        model_unref(c->model);
        free(c);
        return NULL;
}

int context_new(Model *m, const struct context_options *o, Context **ret, char *err, size_t errsz) {
        _cleanup_(context_freep) Context *c = NULL;
        uint32_t n_ctx = o ? o->n_ctx : 0, n_seq = o ? o->n_seq : 0, n_batch = o ? o->n_batch : 0;
        int r;

        if (n_ctx == 0)
                n_ctx = MIN(m->hp.n_ctx_train, 4096u);
        if (n_seq == 0)
                n_seq = 1;
        if (n_batch == 0)
                n_batch = 512;
        if (n_ctx > ENGINE_MAX_CTX || n_seq > ENGINE_MAX_SEQ || n_batch > ENGINE_MAX_BATCH) {
                if (err)
                        snprintf(err, errsz, "context of %u tokens x %u sequences (batch %u) exceeds the limits "
                                 "(%u tokens, %u sequences, batch %u)", n_ctx, n_seq, n_batch, ENGINE_MAX_CTX,
                                 ENGINE_MAX_SEQ, ENGINE_MAX_BATCH);
                return -E2BIG;
        }
        n_batch = MIN(n_batch, n_ctx * n_seq);

        c = new0(Context, 1);
        if (!c)
                return -ENOMEM;
        c->model = model_ref(m);
        c->n_ctx = n_ctx;
        c->n_seq = n_seq;
        c->n_batch = n_batch;
        c->seq_len = new0(int32_t, n_seq);
        c->seq_tokens = new0(int32_t *, n_seq);
        if (!c->seq_len || !c->seq_tokens)
                return -ENOMEM;
        for (uint32_t s = 0; s < n_seq; s++) {
                c->seq_tokens[s] = newa(int32_t, n_ctx);
                if (!c->seq_tokens[s])
                        return -ENOMEM;
        }
        r = m->backend->context_init(c, &c->backend_state);
        if (r < 0) {
                if (err)
                        snprintf(err, errsz, "cannot allocate a context of %u tokens x %u sequences: %s", n_ctx,
                                 n_seq, strerror(-r));
                return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

Model *context_model(const Context *c) {
        return c->model;
}

uint32_t context_n_ctx(const Context *c) {
        return c->n_ctx;
}

uint32_t context_n_seq(const Context *c) {
        return c->n_seq;
}

int32_t context_seq_len(const Context *c, int32_t seq) {
        if (seq < 0 || (uint32_t) seq >= c->n_seq)
                return 0;
        return c->seq_len[seq];
}

const int32_t *context_seq_tokens(const Context *c, int32_t seq) {
        if (seq < 0 || (uint32_t) seq >= c->n_seq)
                return NULL;
        return c->seq_tokens[seq];
}

void context_seq_truncate(Context *c, int32_t seq, int32_t p0) {
        if (seq < 0 || (uint32_t) seq >= c->n_seq || p0 >= c->seq_len[seq])
                return;
        if (p0 < 0)
                p0 = 0;
        if (p0 > 0)
                p0 = c->model->backend->seq_truncate(c, seq, p0);
        c->seq_len[seq] = p0;
}

int context_decode(Context *c, const struct batch *b) {
        int32_t next[ENGINE_MAX_SEQ];
        size_t n_out = 0;
        int r;

        if (!b || b->n_tokens == 0 || b->n_tokens > c->n_batch)
                return -EINVAL;
        memcpy(next, c->seq_len, c->n_seq * sizeof(int32_t));
        for (size_t i = 0; i < b->n_tokens; i++) {
                int32_t s = b->seq_id[i];

                if (s < 0 || (uint32_t) s >= c->n_seq)
                        return -EINVAL;
                if (b->token[i] < 0 || (uint32_t) b->token[i] >= c->model->hp.n_vocab)
                        return -EINVAL;
                /* Each sequence continues exactly where its cache ends. */
                if (b->pos[i] != next[s])
                        return -EINVAL;
                if ((uint32_t) b->pos[i] >= c->n_ctx)
                        return -ERANGE;
                next[s]++;
                n_out += b->logits[i];
        }

        if (n_out > c->logits_cap) {
                size_t cap = MAX(n_out, c->logits_cap * 2);
                float *l = aligned_alloc_array(cap, (size_t) c->model->hp.n_vocab * sizeof(float));
                if (!l)
                        return -ENOMEM;
                free(c->logits);
                c->logits = l;
                c->logits_cap = cap;
        }

        c->logits_view = NULL;
        c->n_logits = 0;
        r = c->model->backend->decode(c, b, c->logits, &c->logits_view);
        if (r < 0)
                return r;
        for (size_t i = 0; i < b->n_tokens; i++)
                c->seq_tokens[b->seq_id[i]][b->pos[i]] = b->token[i];
        memcpy(c->seq_len, next, c->n_seq * sizeof(int32_t));
        c->n_logits = n_out;
        return 0;
}

const float *context_logits(const Context *c, size_t i) {
        if (i >= c->n_logits)
                return NULL;
        return (c->logits_view ? c->logits_view : c->logits) + i * c->model->hp.n_vocab;
}
