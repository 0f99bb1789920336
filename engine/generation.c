/* SPDX-License-Identifier: MIT */
/*
 * Generation: turns one sequence's prompt into streamed text, one forward
 * step per call, so the daemon's scheduler can interleave requests and
 * cancel between any two steps. Reuses the longest cached prefix of the
 * sequence (a follow-up chat turn evaluates only its new tokens).
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "model.h"

struct Generation {
        Context *ctx;
        int32_t seq;
        int32_t *prompt;
        size_t n_prompt;
        size_t n_done;      /* prompt tokens in the KV cache */
        Sampler *sampler;
        StopMatcher stop;
        Utf8Stream utf8;
        int32_t max_tokens;
        int32_t pending;    /* sampled, not yet in the KV cache; -1: none */
        enum finish_reason finish;
        bool cancelled;
        uint64_t t_start;
        struct gen_timings timings;
};

static uint64_t now_us(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

const char *finish_reason_name(enum finish_reason r) {
        switch (r) {
        case FINISH_NONE:
                return "none";
        case FINISH_STOP:
                return "stop";
        case FINISH_LENGTH:
                return "length";
        case FINISH_CONTEXT:
                return "context";
        case FINISH_CANCELLED:
                return "cancelled";
        }
        return "unknown";
}

void gen_params_default(struct gen_params *p) {
        *p = (struct gen_params) {};
        sampler_params_default(&p->sampling);
        p->max_tokens = 512;
}

Generation *generation_free(Generation *g) {
        if (!g)
                return NULL;
        sampler_free(g->sampler);
        stop_matcher_done(&g->stop);
        free(g->prompt);
        free(g);
        return NULL;
}

int generation_new(Context *c, int32_t seq, const int32_t *prompt, size_t n_prompt, const struct gen_params *p,
                   Generation **ret, char *err, size_t errsz) {
        _cleanup_(generation_freep) Generation *g = NULL;
        const int32_t *cached;
        size_t lcp = 0, len;
        int r;

        if (seq < 0 || (uint32_t) seq >= c->n_seq || n_prompt == 0) {
                if (err)
                        snprintf(err, errsz, n_prompt == 0 ? "the prompt is empty" : "no sequence %d", seq);
                return -EINVAL;
        }
        if (n_prompt >= c->n_ctx) {
                if (err)
                        snprintf(err, errsz, "the prompt has %zu tokens; the context holds %u", n_prompt, c->n_ctx);
                return -E2BIG;
        }
        for (size_t i = 0; i < n_prompt; i++)
                if (prompt[i] < 0 || (uint32_t) prompt[i] >= c->model->hp.n_vocab) {
                        if (err)
                                snprintf(err, errsz, "token %d of the prompt is outside the vocabulary", prompt[i]);
                        return -EINVAL;
                }
        r = sampler_params_check(&p->sampling, err, errsz);
        if (r < 0)
                return r;

        g = new0(Generation, 1);
        if (!g)
                return -ENOMEM;
        g->t_start = now_us();
        g->ctx = c;
        g->seq = seq;
        g->pending = -1;
        g->max_tokens = p->max_tokens;
        g->prompt = newa(int32_t, n_prompt);
        if (!g->prompt)
                return -ENOMEM;
        memcpy(g->prompt, prompt, n_prompt * sizeof(int32_t));
        g->n_prompt = n_prompt;

        r = stop_matcher_init(&g->stop, p->stops, p->n_stops);
        if (r < 0) {
                if (err)
                        snprintf(err, errsz, "at most %d stop strings of 1 to %d bytes each", SAMPLER_MAX_STOP,
                                 SAMPLER_MAX_STOP_LEN);
                return r;
        }
        r = sampler_new(&p->sampling, c->model->hp.n_vocab, &g->sampler);
        if (r < 0)
                return r;

        /* Keep the longest common prefix; at least one prompt token must be
         * evaluated, since its logits give the first generated token. */
        len = (size_t) context_seq_len(c, seq);
        cached = context_seq_tokens(c, seq);
        while (lcp < len && lcp < n_prompt && cached[lcp] == prompt[lcp])
                lcp++;
        if (lcp == n_prompt)
                lcp--;
        context_seq_truncate(c, seq, (int32_t) lcp);
        g->n_done = (size_t) context_seq_len(c, seq);
        g->timings.n_prompt_cached = (uint32_t) g->n_done;
        g->timings.n_prompt = (uint32_t) (n_prompt - g->n_done);

        for (size_t i = 0; i < n_prompt; i++)
                sampler_accept(g->sampler, prompt[i]);

        *ret = TAKE_PTR(g);
        return 0;
}

void generation_cancel(Generation *g) {
        g->cancelled = true;
}

const struct gen_timings *generation_timings(const Generation *g) {
        return &g->timings;
}

static int finish(Generation *g, enum finish_reason reason, char **text, size_t *n) {
        char buf[16];
        size_t k;
        char *more = NULL;
        int r;

        /* Release what the UTF-8 stream and the stop matcher still hold. */
        k = utf8_stream_push(&g->utf8, "", 0, true, buf, sizeof buf);
        r = stop_matcher_push(&g->stop, buf, k, true, &more);
        if (r < 0)
                return r;
        if (!g->stop.stopped) {
                size_t m = strlen(more);
                char *joined = realloc(*text, *n + m + 1);
                if (!joined) {
                        free(more);
                        return -ENOMEM;
                }
                memcpy(joined + *n, more, m + 1);
                *text = joined;
                *n += m;
        }
        free(more);
        g->finish = reason;
        return 0;
}

/* Appends the text of a sampled token; decides whether generation ends. */
static int take_token(Generation *g, int32_t tok, char **text, size_t *n) {
        const Tokenizer *tk = g->ctx->model->tokenizer;
        char piece[256], out[256 + 16];
        _cleanup_free_ char *released = NULL;
        size_t k;
        int len, r;

        if (g->timings.n_generated++ == 0)
                g->timings.first_token_us = now_us() - g->t_start;
        if (tokenizer_is_eog(tk, tok))
                return finish(g, FINISH_STOP, text, n);

        len = tokenizer_token_to_piece(tk, tok, false, piece, sizeof piece);
        if (len < 0)
                return len;
        k = utf8_stream_push(&g->utf8, piece, MIN((size_t) len, sizeof piece), false, out, sizeof out);
        r = stop_matcher_push(&g->stop, out, k, false, &released);
        if (r < 0)
                return r;
        k = strlen(released);
        if (k > 0) {
                char *joined = realloc(*text, *n + k + 1);
                if (!joined)
                        return -ENOMEM;
                memcpy(joined + *n, released, k + 1);
                *text = joined;
                *n += k;
        }
        if (g->stop.stopped) {
                g->finish = FINISH_STOP;
                return 0;
        }

        g->pending = tok;
        sampler_accept(g->sampler, tok);
        if (g->max_tokens > 0 && g->timings.n_generated >= (uint32_t) g->max_tokens)
                return finish(g, FINISH_LENGTH, text, n);
        if ((uint32_t) context_seq_len(g->ctx, g->seq) >= g->ctx->n_ctx)
                return finish(g, FINISH_CONTEXT, text, n);
        return 0;
}

/* Frees what a failed generation_step_many() had handed out. */
static void texts_free(char **text, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(text[i]);
                text[i] = NULL;
        }
}

int generation_step_many(Generation *const *gs, size_t n, char **ret_text, enum finish_reason *ret_finish) {
        int32_t tok[ENGINE_MAX_BATCH], pos[ENGINE_MAX_BATCH], seq[ENGINE_MAX_BATCH];
        bool want[ENGINE_MAX_BATCH], seen[ENGINE_MAX_SEQ] = {};
        /* Per generation: tokens it put in the batch, and the index of its logits (-1: none). */
        size_t n_in[ENGINE_MAX_SEQ] = {}, nb = 0, n_out = 0, lens[ENGINE_MAX_SEQ] = {};
        bool prefill[ENGINE_MAX_SEQ] = {};
        uint32_t n_seqs = 0;
        int32_t out[ENGINE_MAX_SEQ];
        Context *c;
        uint64_t t0, dt;
        int r;

        if (n == 0 || n > ENGINE_MAX_SEQ)
                return -EINVAL;
        c = gs[0]->ctx;
        for (size_t i = 0; i < n; i++) {
                /* One step is one forward pass of one Context: each generation its own sequence of it. */
                if (gs[i]->ctx != c || seen[gs[i]->seq])
                        return -EINVAL;
                seen[gs[i]->seq] = true;
        }
        for (size_t i = 0; i < n; i++) {
                ret_text[i] = strdup("");
                if (!ret_text[i]) {
                        texts_free(ret_text, i);
                        return -ENOMEM;
                }
                out[i] = -1;
                if (gs[i]->finish == FINISH_NONE && gs[i]->cancelled)
                        gs[i]->finish = FINISH_CANCELLED;
        }

        /* Decoding sequences first, one token each: they are what a reader
         * is waiting on. Prompts fill what is left of the step (n_batch), in
         * the order given, so a long prompt costs each step at most one chunk. */
        for (size_t i = 0; i < n && nb < c->n_batch; i++) {
                Generation *g = gs[i];

                if (g->finish != FINISH_NONE || g->n_done < g->n_prompt)
                        continue;
                tok[nb] = g->pending;
                pos[nb] = context_seq_len(c, g->seq);
                seq[nb] = g->seq;
                want[nb] = true;
                out[i] = (int32_t) n_out++;
                n_in[i] = 1;
                nb++;
        }
        for (size_t i = 0; i < n && nb < c->n_batch; i++) {
                Generation *g = gs[i];
                size_t chunk;

                if (g->finish != FINISH_NONE || g->n_done >= g->n_prompt)
                        continue;
                chunk = MIN(c->n_batch - nb, g->n_prompt - g->n_done);
                for (size_t k = 0; k < chunk; k++) {
                        tok[nb + k] = g->prompt[g->n_done + k];
                        pos[nb + k] = (int32_t) (g->n_done + k);
                        seq[nb + k] = g->seq;
                        want[nb + k] = false;
                }
                if (g->n_done + chunk == g->n_prompt) {
                        want[nb + chunk - 1] = true;
                        out[i] = (int32_t) n_out++;
                }
                n_in[i] = chunk;
                prefill[i] = true;
                nb += chunk;
        }
        if (nb == 0)
                goto done; /* every one has finished: their final results, without work */

        t0 = now_us();
        r = context_decode(c, &(struct batch) { nb, tok, pos, seq, want });
        if (r < 0) {
                texts_free(ret_text, n);
                return r;
        }
        for (size_t i = 0; i < n; i++) {
                Generation *g = gs[i];

                if (n_in[i] == 0)
                        continue;
                if (g->n_done < g->n_prompt)
                        g->n_done += n_in[i];
                else
                        g->pending = -1;
                if (out[i] < 0)
                        continue;
                r = take_token(g, sampler_sample(g->sampler, (float *) context_logits(c, (size_t) out[i])),
                               &ret_text[i], &lens[i]);
                if (r < 0) {
                        texts_free(ret_text, n);
                        return r;
                }
        }
        /* The step's time goes to each one in it: to the prompt while it was
         * prefilling (prefill[], since the loop above has advanced n_done), else
         * to generation. */
        dt = now_us() - t0;
        for (size_t i = 0; i < n; i++)
                n_seqs += n_in[i] > 0;
        for (size_t i = 0; i < n; i++) {
                if (n_in[i] == 0)
                        continue;
                gs[i]->timings.max_batch_seqs = MAX(gs[i]->timings.max_batch_seqs, n_seqs);
                if (prefill[i])
                        gs[i]->timings.prompt_us += dt;
                else
                        gs[i]->timings.generate_us += dt;
        }
done:
        for (size_t i = 0; i < n; i++)
                ret_finish[i] = gs[i]->finish;
        return 0;
}

int generation_step(Generation *g, char **ret_text, enum finish_reason *ret_finish) {
        return generation_step_many(&g, 1, ret_text, ret_finish);
}
