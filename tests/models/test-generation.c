/* SPDX-License-Identifier: MIT */
/*
 * Generation (engine/generation.c) on the fixture models: several
 * generations stepped together over one Context (generation_step_many,
 * what the daemon does for sessions of one model) must produce exactly
 * what each produces stepped alone on a context of its own, token for token
 * and byte for byte, while they start at different times, so that steps
 * mix prompt chunks with decoded tokens and a prompt waits for room in the
 * step. One of them samples (its own seeded RNG), the others are greedy.
 * Then the error paths: generations of two contexts, or two on one
 * sequence, are refused; a cancelled one ends without stopping the others.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "test-helpers.h"

#define N_GEN 3
#define N_BATCH 8
#define MAX_STEPS 400

struct run {
        char *text;
        enum finish_reason finish;
        struct gen_timings timings;
        int32_t cache[256];
        int32_t cache_len;
        unsigned steps;  /* steps it took part in before it finished */
};

static const int32_t prompt_len[N_GEN] = { 5, 13, 21 };
static const unsigned start_step[N_GEN] = { 0, 2, 3 };

static void make_prompt(int g, uint32_t n_vocab, int32_t *out) {
        for (int i = 0; i < prompt_len[g]; i++)
                out[i] = (int32_t) ((uint32_t) (7 + 31 * g + 17 * i) % n_vocab);
}

static void params(int g, struct gen_params *p) {
        gen_params_default(p);
        p->max_tokens = 10 + 3 * g;
        if (g == 1) {
                p->sampling.seed = 42;          /* sampled: temperature 0.8 with its own RNG */
        } else
                p->sampling.temperature = 0.0f; /* greedy */
}

static void text_append(char **text, const char *more) {
        size_t a = strlen(*text), b = strlen(more);
        *text = realloc(*text, a + b + 1);
        CHECK(*text);
        memcpy(*text + a, more, b + 1);
}

static void record(struct run *r, Context *ctx, int32_t seq, Generation *g) {
        r->timings = *generation_timings(g);
        r->cache_len = context_seq_len(ctx, seq);
        CHECK(r->cache_len >= 0 && r->cache_len <= 256);
        memcpy(r->cache, context_seq_tokens(ctx, seq), (size_t) r->cache_len * sizeof(int32_t));
}

static void alone(Model *m, int g, struct run *r) {
        _cleanup_(context_freep) Context *ctx = NULL;
        _cleanup_(generation_freep) Generation *gen = NULL;
        int32_t prompt[64];
        struct gen_params p;
        char err[256];

        make_prompt(g, model_get_info(m)->n_vocab, prompt);
        params(g, &p);
        CHECK_MSG(context_new(m, &(struct context_options) { .n_ctx = 256, .n_batch = N_BATCH }, &ctx, err,
                              sizeof err) == 0, "%s", err);
        CHECK_MSG(generation_new(ctx, 0, prompt, (size_t) prompt_len[g], &p, &gen, err, sizeof err) == 0, "%s", err);
        r->text = strdup("");
        for (r->finish = FINISH_NONE; r->finish == FINISH_NONE;) {
                _cleanup_free_ char *t = NULL;
                CHECK_RET(generation_step(gen, &t, &r->finish), 0);
                text_append(&r->text, t);
                CHECK(++r->steps < MAX_STEPS);
        }
        record(r, ctx, 0, gen);
}

static void together(Model *m, struct run *r) {
        _cleanup_(context_freep) Context *ctx = NULL;
        Generation *gen[N_GEN] = {};
        int32_t prompt[N_GEN][64];
        bool done[N_GEN] = {};
        char err[256];

        CHECK_MSG(context_new(m, &(struct context_options) { .n_ctx = 256, .n_seq = 4, .n_batch = N_BATCH }, &ctx, err,
                              sizeof err) == 0, "%s", err);
        for (int g = 0; g < N_GEN; g++) {
                make_prompt(g, model_get_info(m)->n_vocab, prompt[g]);
                r[g].text = strdup("");
        }
        for (unsigned step = 0;; step++) {
                Generation *live[N_GEN];
                char *text[N_GEN];
                enum finish_reason fin[N_GEN];
                int idx[N_GEN];
                size_t n = 0;

                /* Sequence 3 - g: slots need not be in order. */
                for (int g = 0; g < N_GEN; g++)
                        if (step == start_step[g]) {
                                struct gen_params p;
                                params(g, &p);
                                CHECK_MSG(generation_new(ctx, 3 - g, prompt[g], (size_t) prompt_len[g], &p, &gen[g],
                                                         err, sizeof err) == 0, "%s", err);
                        }
                for (int g = N_GEN - 1; g >= 0; g--)
                        if (gen[g] && !done[g]) {
                                idx[n] = g;
                                live[n++] = gen[g];
                        }
                if (n == 0)
                        break;
                CHECK(step < MAX_STEPS);
                CHECK_RET(generation_step_many(live, n, text, fin), 0);
                for (size_t i = 0; i < n; i++) {
                        int g = idx[i];
                        text_append(&r[g].text, text[i]);
                        free(text[i]);
                        r[g].finish = fin[i];
                        r[g].steps++;
                        if (fin[i] != FINISH_NONE) {
                                done[g] = true;
                                record(&r[g], ctx, 3 - g, gen[g]);
                        }
                }
        }
        for (int g = 0; g < N_GEN; g++)
                generation_free(gen[g]);
}

static void check_errors(Model *m) {
        _cleanup_(context_freep) Context *a = NULL, *b = NULL;
        _cleanup_(generation_freep) Generation *ga = NULL, *gb = NULL, *gc = NULL, *gd = NULL;
        int32_t prompt[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
        struct gen_params p;
        char *text[3];
        enum finish_reason fin[3];
        char err[256];

        params(0, &p);
        CHECK(context_new(m, &(struct context_options) { .n_ctx = 64, .n_seq = 3, .n_batch = N_BATCH }, &a, err,
                          sizeof err) == 0);
        CHECK(context_new(m, &(struct context_options) { .n_ctx = 64 }, &b, err, sizeof err) == 0);
        CHECK_RET(generation_new(a, 0, prompt, 8, &p, &ga, err, sizeof err), 0);
        CHECK_RET(generation_new(a, 0, prompt, 4, &p, &gb, err, sizeof err), 0);
        CHECK_RET(generation_new(b, 0, prompt, 8, &p, &gc, err, sizeof err), 0);
        CHECK_RET(generation_new(a, 2, prompt, 6, &p, &gd, err, sizeof err), 0);

        CHECK_RET(generation_step_many((Generation *[]) { ga, gb }, 2, text, fin), -EINVAL); /* one sequence */
        CHECK_RET(generation_step_many((Generation *[]) { ga, gc }, 2, text, fin), -EINVAL); /* two contexts */
        CHECK_RET(generation_step_many((Generation *[]) { ga }, 0, text, fin), -EINVAL);

        /* Cancelled beside a running one: it ends at once, the other goes on. */
        generation_cancel(gd);
        CHECK_RET(generation_step_many((Generation *[]) { gd, ga }, 2, text, fin), 0);
        CHECK(fin[0] == FINISH_CANCELLED && fin[1] == FINISH_NONE);
        CHECK(strcmp(text[0], "") == 0);
        CHECK_RET(context_seq_len(a, 0), 8);  /* ga's prompt: one chunk of 8 */
        CHECK_RET(context_seq_len(a, 2), 0);  /* gd did no work */
        free(text[0]);
        free(text[1]);
}

static void check_model(const char *dir, const char *file) {
        _cleanup_free_ char *path = NULL;
        _cleanup_(model_unrefp) Model *m = NULL;
        struct run ref[N_GEN] = {}, got[N_GEN] = {};
        unsigned together_steps = 0, alone_steps = 0;
        char err[512];

        CHECK(asprintf(&path, "%s/models/%s", dir, file) > 0);
        CHECK_MSG(model_load(path, NULL, &m, err, sizeof err) == 0, "%s: %s", path, err);

        for (int g = 0; g < N_GEN; g++)
                alone(m, g, &ref[g]);
        together(m, got);
        for (int g = 0; g < N_GEN; g++) {
                printf("%s: generation %d: %s after %u tokens, %u steps alone, %u together; cache %d tokens\n", file,
                       g, finish_reason_name(ref[g].finish), ref[g].timings.n_generated, ref[g].steps, got[g].steps,
                       ref[g].cache_len);
                CHECK_MSG(ref[g].timings.n_generated > 1, "%s: generation %d made too few tokens to compare", file, g);
                CHECK_MSG(got[g].finish == ref[g].finish, "%s: generation %d ends %s together, %s alone", file, g,
                          finish_reason_name(got[g].finish), finish_reason_name(ref[g].finish));
                CHECK_MSG(got[g].cache_len == ref[g].cache_len &&
                                  memcmp(got[g].cache, ref[g].cache, (size_t) ref[g].cache_len * sizeof(int32_t)) == 0,
                          "%s: generation %d's tokens differ together and alone", file, g);
                CHECK_MSG(strcmp(got[g].text, ref[g].text) == 0, "%s: generation %d's text differs", file, g);
                CHECK(got[g].timings.n_generated == ref[g].timings.n_generated);
                CHECK(got[g].timings.n_prompt == (uint32_t) prompt_len[g]);
                CHECK(ref[g].timings.max_batch_seqs == 1 && got[g].timings.max_batch_seqs >= 2);
                together_steps = MAX(together_steps, got[g].steps + start_step[g]);
                alone_steps += ref[g].steps;
                free(ref[g].text);
                free(got[g].text);
        }
        /* Batching is the point: the steps overlapped. */
        CHECK_MSG(together_steps < alone_steps, "%s: %u steps together, %u alone", file, together_steps, alone_steps);
        check_errors(m);
}

int main(void) {
        const char *dir = test_fixtures_dir();

        /* Gemma 3's sliding-window layers and Qwen2's biases beside plain Llama. */
        check_model(dir, "llama-q4_0.gguf");
        check_model(dir, "gemma3-q4_0.gguf");
        check_model(dir, "qwen2-f32.gguf");
        return 0;
}
