/* SPDX-License-Identifier: MIT */
/*
 * Sampler: each stage of the chain on hand-made logits, determinism, the
 * distribution of draws, parameter checks, and the stop-string matcher.
 */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "macros.h"
#include "sampler.h"
#include "test-helpers.h"

static struct sampler_params plain(void) {
        /* Everything off but temperature 1: a pure softmax draw. */
        return (struct sampler_params) {
                .temperature = 1.0f,
                .top_k = 0,
                .top_p = 1.0f,
                .min_p = 0.0f,
                .repeat_penalty = 1.0f,
                .penalty_last_n = 64,
                .seed = 1,
        };
}

/* Logits whose softmax is exactly probs (up to a constant). */
static void logits_from_probs(float *l, const double *probs, size_t n) {
        for (size_t i = 0; i < n; i++)
                l[i] = probs[i] > 0 ? (float) log(probs[i]) : -INFINITY;
}

/* Draws `draws` tokens from the same logits and counts them. */
static void histogram(const struct sampler_params *p, const float *logits, size_t n, size_t draws,
                      size_t *counts) {
        _cleanup_(sampler_freep) Sampler *s = NULL;
        float *buf = newa(float, n);

        CHECK(buf);
        CHECK_RET(sampler_new(p, n, &s), 0);
        memset(counts, 0, n * sizeof *counts);
        for (size_t d = 0; d < draws; d++) {
                memcpy(buf, logits, n * sizeof *buf);
                int32_t t = sampler_sample(s, buf);
                CHECK(t >= 0 && (size_t) t < n);
                counts[t]++;
        }
        free(buf);
}

static void test_greedy(void) {
        struct sampler_params p = plain();
        _cleanup_(sampler_freep) Sampler *s = NULL;
        float l[6] = { 0.5f, 3.0f, -1.0f, 7.0f, 7.0f, 2.0f };

        p.temperature = 0;
        CHECK_RET(sampler_new(&p, 6, &s), 0);
        for (int i = 0; i < 10; i++) {
                float c[6];
                memcpy(c, l, sizeof l);
                CHECK_RET(sampler_sample(s, c), 3); /* tie between 3 and 4: lowest id */
        }
        /* NaN never wins. */
        float nanl[6] = { NAN, -5.0f, NAN, -INFINITY, -9.0f, NAN };
        CHECK_RET(sampler_sample(s, nanl), 1);

        /* A tiny temperature is greedy in effect, not NaN. */
        sampler_free(TAKE_PTR(s));
        p = plain();
        p.temperature = 1e-30f;
        CHECK_RET(sampler_new(&p, 6, &s), 0);
        for (int i = 0; i < 20; i++) {
                float c[6];
                memcpy(c, l, sizeof l);
                int32_t t = sampler_sample(s, c);
                CHECK(t == 3 || t == 4);
        }
        CHECK_RET(sampler_sample(NULL, l), -EINVAL);

        /* top_k 1 at any temperature is greedy too. */
        sampler_free(TAKE_PTR(s));
        p = plain();
        p.top_k = 1;
        p.temperature = 5.0f;
        CHECK_RET(sampler_new(&p, 6, &s), 0);
        for (int i = 0; i < 100; i++) {
                float c[6];
                memcpy(c, l, sizeof l);
                CHECK_RET(sampler_sample(s, c), 3);
        }
}

static void test_determinism(void) {
        enum { N = 1000, DRAWS = 100 };
        struct sampler_params p = plain();
        float *l = newa(float, N), *c = newa(float, N);
        int32_t a[DRAWS], b[DRAWS];

        CHECK(l && c);
        for (size_t i = 0; i < N; i++)
                l[i] = (float) sin((double) i * 0.37) * 3.0f;

        for (int round = 0; round < 3; round++) {
                _cleanup_(sampler_freep) Sampler *s = NULL;
                p.seed = round < 2 ? 42 : 43;
                CHECK_RET(sampler_new(&p, N, &s), 0);
                int32_t *out = round == 0 ? a : b;
                for (size_t d = 0; d < DRAWS; d++) {
                        memcpy(c, l, N * sizeof *c);
                        out[d] = sampler_sample(s, c);
                }
                if (round == 1)
                        CHECK(memcmp(a, b, sizeof a) == 0);
                if (round == 2)
                        CHECK(memcmp(a, b, sizeof a) != 0);

                /* reset replays the same sequence */
                if (round == 0) {
                        sampler_reset(s);
                        for (size_t d = 0; d < DRAWS; d++) {
                                memcpy(c, l, N * sizeof *c);
                                CHECK_RET(sampler_sample(s, c), a[d]);
                        }
                }
        }
        free(l);
        free(c);
}

static void test_distribution(void) {
        /* A plain softmax draw follows the probabilities. */
        static const double probs[5] = { 0.4, 0.3, 0.15, 0.1, 0.05 };
        enum { DRAWS = 20000 };
        struct sampler_params p = plain();
        float l[5];
        size_t counts[5];

        logits_from_probs(l, probs, 5);
        histogram(&p, l, 5, DRAWS, counts);
        for (size_t i = 0; i < 5; i++)
                CHECK_NEAR((double) counts[i] / DRAWS, probs[i], 0.02);

        /* temperature 0.5 squares the probabilities (then renormalises). */
        p.temperature = 0.5f;
        histogram(&p, l, 5, DRAWS, counts);
        double z = 0;
        for (size_t i = 0; i < 5; i++)
                z += probs[i] * probs[i];
        for (size_t i = 0; i < 5; i++)
                CHECK_NEAR((double) counts[i] / DRAWS, probs[i] * probs[i] / z, 0.02);
}

static void test_top_k(void) {
        static const double probs[6] = { 0.05, 0.3, 0.1, 0.35, 0.15, 0.05 };
        enum { DRAWS = 10000 };
        struct sampler_params p = plain();
        float l[6];
        size_t counts[6];

        logits_from_probs(l, probs, 6);
        p.top_k = 3; /* tokens 3, 1, 4 */
        histogram(&p, l, 6, DRAWS, counts);
        CHECK(counts[0] == 0 && counts[2] == 0 && counts[5] == 0);
        double z = 0.35 + 0.3 + 0.15;
        CHECK_NEAR((double) counts[3] / DRAWS, 0.35 / z, 0.03);
        CHECK_NEAR((double) counts[1] / DRAWS, 0.3 / z, 0.03);
        CHECK_NEAR((double) counts[4] / DRAWS, 0.15 / z, 0.03);
}

static void test_top_p(void) {
        /* Sorted: 0.4 (2), 0.3 (0), 0.2 (4), 0.06 (1), 0.04 (3).
         * top_p 0.85: 0.4 + 0.3 = 0.7 < 0.85, + 0.2 = 0.9 >= 0.85 → {2, 0, 4}. */
        static const double probs[5] = { 0.3, 0.06, 0.4, 0.04, 0.2 };
        enum { DRAWS = 10000 };
        float l[5];
        size_t counts[5];

        logits_from_probs(l, probs, 5);
        for (int with_k = 0; with_k <= 1; with_k++) {
                struct sampler_params p = plain();
                p.top_p = 0.85f;
                p.top_k = with_k ? 4 : 0; /* both paths: after top-k, and on the whole vocabulary */
                histogram(&p, l, 5, DRAWS, counts);
                CHECK(counts[1] == 0 && counts[3] == 0);
                CHECK_NEAR((double) counts[2] / DRAWS, 0.4 / 0.9, 0.03);
                CHECK_NEAR((double) counts[0] / DRAWS, 0.3 / 0.9, 0.03);
                CHECK_NEAR((double) counts[4] / DRAWS, 0.2 / 0.9, 0.03);
        }

        /* With top-k, top-p works on the renormalised top-k: top_k 2 keeps
         * {2: 0.4/0.7, 0: 0.3/0.7}; top_p 0.5 then keeps only token 2. */
        struct sampler_params p = plain();
        p.top_k = 2;
        p.top_p = 0.5f;
        histogram(&p, l, 5, 1000, counts);
        CHECK(counts[2] == 1000);
        /* …and 0.6 keeps both (0.571 < 0.6). */
        p.top_p = 0.6f;
        histogram(&p, l, 5, DRAWS, counts);
        CHECK(counts[2] + counts[0] == DRAWS);
        CHECK_NEAR((double) counts[0] / DRAWS, 0.3 / 0.7, 0.03);
}

static void test_top_p_large(void) {
        /* A big, flat vocabulary: the nucleus is larger than the first slice
         * the sampler looks at, which makes it widen its search. */
        enum { N = 50000, DRAWS = 500 };
        struct sampler_params p = plain();
        float *l = newa(float, N);
        size_t *counts = new0(size_t, N);

        CHECK(l && counts);
        for (size_t i = 0; i < N; i++)
                l[i] = 0.0f;
        for (size_t i = 0; i < 10; i++)
                l[i * 1000] = -50.0f; /* negligible */
        p.top_p = 0.5f;
        histogram(&p, l, N, DRAWS, counts);
        /* Equal logits sort by id: the nucleus is the first half of ids that
         * are not negligible, ≈ tokens [0, 25005). */
        size_t lo = 0, hi = 0;
        for (size_t i = 0; i < N; i++) {
                if (i < 24990)
                        lo += counts[i];
                else if (i >= 25020)
                        hi += counts[i];
        }
        CHECK_MSG(hi == 0, "%zu draws beyond the nucleus", hi);
        CHECK(lo > DRAWS * 9 / 10);
        for (size_t i = 0; i < 10; i++)
                CHECK(counts[i * 1000] == 0);
        free(l);
        free(counts);
}

static int ref_cmp(const void *x, const void *y) {
        const float *a = *(const float *const *) x, *b = *(const float *const *) y;
        return *a > *b ? -1 : *a < *b ? 1 : a < b ? -1 : a > b ? 1 : 0;
}

/*
 * The exact nucleus on a realistic vocabulary, against a reference computed
 * here with a full sort: a very high temperature flattens the draw inside the
 * nucleus, so with enough draws every member shows up and nothing else may.
 */
static void test_nucleus_exact(void) {
        enum { N = 2000, DRAWS = 20000 };
        float *l = newa(float, N);
        const float **order = newa(const float *, N);
        size_t *counts = new0(size_t, N);
        bool *member = new0(bool, N);

        CHECK(l && order && counts && member);
        uint64_t x = 7;
        for (size_t i = 0; i < N; i++) {
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                double u1 = ((double) (x >> 11) + 0.5) * 0x1.0p-53;
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                double u2 = (double) (x >> 11) * 0x1.0p-53;
                l[i] = (float) (sqrt(-2 * log(u1)) * cos(2 * M_PI * u2) * 2.5);
        }

        for (int variant = 0; variant < 3; variant++) {
                struct sampler_params p = plain();
                p.temperature = 1000.0f;
                p.top_p = 0.8f;
                p.top_k = variant == 1 ? 300 : 0;
                p.min_p = variant == 2 ? 0.02f : 0.0f;

                /* reference: sort, cut at top_k, renormalise, cut at top_p, min-p */
                for (size_t i = 0; i < N; i++)
                        order[i] = &l[i];
                qsort(order, N, sizeof *order, ref_cmp);
                size_t k = p.top_k > 0 ? (size_t) p.top_k : N;
                double z = 0, cum = 0, mx = *order[0];
                for (size_t i = 0; i < k; i++)
                        z += exp(*order[i] - mx);
                memset(member, 0, N * sizeof *member);
                size_t n_member = 0;
                for (size_t i = 0; i < k; i++) {
                        double pr = exp(*order[i] - mx) / z;
                        if (p.min_p == 0 || pr >= p.min_p * exp(0) / z)
                                member[order[i] - l] = true, n_member++;
                        cum += pr;
                        if (cum >= p.top_p)
                                break;
                }
                CHECK(n_member > 20 && n_member < N / 2);

                histogram(&p, l, N, DRAWS, counts);
                for (size_t i = 0; i < N; i++)
                        CHECK_MSG(member[i] ? counts[i] > 0 : counts[i] == 0,
                                  "variant %d: token %zu (logit %g) drawn %zu times, member %d of %zu", variant, i,
                                  (double) l[i], counts[i], member[i], n_member);
        }
        free(l);
        free(order);
        free(counts);
        free(member);
}

static void test_min_p(void) {
        /* p_max 0.5; min_p 0.3 → keep p >= 0.15: tokens 0 (0.5), 2 (0.3), 3 (0.15). */
        static const double probs[5] = { 0.5, 0.04, 0.3, 0.15, 0.01 };
        enum { DRAWS = 10000 };
        struct sampler_params p = plain();
        float l[5];
        size_t counts[5];

        logits_from_probs(l, probs, 5);
        p.min_p = 0.3f;
        for (int with_k = 0; with_k <= 1; with_k++) {
                p.top_k = with_k ? 4 : 0;
                histogram(&p, l, 5, DRAWS, counts);
                CHECK(counts[1] == 0 && counts[4] == 0);
                CHECK_NEAR((double) counts[0] / DRAWS, 0.5 / 0.95, 0.03);
                CHECK_NEAR((double) counts[2] / DRAWS, 0.3 / 0.95, 0.03);
                CHECK_NEAR((double) counts[3] / DRAWS, 0.15 / 0.95, 0.03);
        }
        /* min_p 1 keeps only the best. */
        p.min_p = 1.0f;
        p.top_k = 0;
        histogram(&p, l, 5, 500, counts);
        CHECK(counts[0] == 500);
}

/* Runs penalties only: temperature 0 returns the argmax, but the logits are
 * modified in place first, which is what these tests look at. */
static void penalised(const struct sampler_params *p, const int32_t *hist, size_t n_hist, float *l, size_t n) {
        _cleanup_(sampler_freep) Sampler *s = NULL;
        struct sampler_params q = *p;

        q.temperature = 0;
        CHECK_RET(sampler_new(&q, n, &s), 0);
        for (size_t i = 0; i < n_hist; i++)
                sampler_accept(s, hist[i]);
        sampler_sample(s, l);
}

static void test_penalties(void) {
        static const int32_t hist[] = { 1, 2, 2, 4, 2, 1 }; /* counts: 1×2, 2×3, 4×1 */
        struct sampler_params p = plain();
        float l[5];

        /* repetition: positive logits divided, negative multiplied, once per token */
        p.repeat_penalty = 2.0f;
        memcpy(l, (float[]) { 1.0f, 4.0f, -3.0f, 5.0f, 0.0f }, sizeof l);
        penalised(&p, hist, ELEMENTSOF(hist), l, 5);
        CHECK(l[0] == 1.0f && l[1] == 2.0f && l[2] == -6.0f && l[3] == 5.0f && l[4] == 0.0f);

        /* presence: once per distinct token */
        p = plain();
        p.presence_penalty = 0.5f;
        memcpy(l, (float[]) { 1.0f, 4.0f, -3.0f, 5.0f, 0.0f }, sizeof l);
        penalised(&p, hist, ELEMENTSOF(hist), l, 5);
        CHECK(l[0] == 1.0f && l[1] == 3.5f && l[2] == -3.5f && l[3] == 5.0f && l[4] == -0.5f);

        /* frequency: per occurrence */
        p = plain();
        p.frequency_penalty = 0.25f;
        memcpy(l, (float[]) { 1.0f, 4.0f, -3.0f, 5.0f, 0.0f }, sizeof l);
        penalised(&p, hist, ELEMENTSOF(hist), l, 5);
        CHECK(l[0] == 1.0f && l[1] == 3.5f && l[2] == -3.75f && l[3] == 5.0f && l[4] == -0.25f);

        /* all three, repetition first: token 2: -3*1.5 - 3*0.25 - 0.5 */
        p = plain();
        p.repeat_penalty = 1.5f;
        p.presence_penalty = 0.5f;
        p.frequency_penalty = 0.25f;
        memcpy(l, (float[]) { 1.0f, 4.5f, -3.0f, 5.0f, 3.0f }, sizeof l);
        penalised(&p, hist, ELEMENTSOF(hist), l, 5);
        CHECK_NEAR(l[1], 4.5 / 1.5 - 2 * 0.25 - 0.5, 1e-6);
        CHECK_NEAR(l[2], -3.0 * 1.5 - 3 * 0.25 - 0.5, 1e-6);
        CHECK_NEAR(l[4], 3.0 / 1.5 - 0.25 - 0.5, 1e-6);
        CHECK(l[0] == 1.0f && l[3] == 5.0f);

        /* window: the last 2 tokens are {2, 1} */
        p = plain();
        p.frequency_penalty = 1.0f;
        p.penalty_last_n = 2;
        memcpy(l, (float[]) { 0, 0, 0, 0, 0 }, sizeof l);
        penalised(&p, hist, ELEMENTSOF(hist), l, 5);
        CHECK(l[0] == 0 && l[1] == -1.0f && l[2] == -1.0f && l[3] == 0 && l[4] == 0);

        /* window 0: off; -1: everything */
        p.penalty_last_n = 0;
        memcpy(l, (float[]) { 0, 0, 0, 0, 0 }, sizeof l);
        penalised(&p, hist, ELEMENTSOF(hist), l, 5);
        CHECK(l[1] == 0 && l[2] == 0 && l[4] == 0);
        p.penalty_last_n = -1;
        memcpy(l, (float[]) { 0, 0, 0, 0, 0 }, sizeof l);
        penalised(&p, hist, ELEMENTSOF(hist), l, 5);
        CHECK(l[1] == -2.0f && l[2] == -3.0f && l[4] == -1.0f);

        /* A long history slides the window (and out-of-range tokens are ignored). */
        _cleanup_(sampler_freep) Sampler *s = NULL;
        p = plain();
        p.temperature = 0;
        p.frequency_penalty = 1.0f;
        p.penalty_last_n = 3;
        CHECK_RET(sampler_new(&p, 5, &s), 0);
        for (int i = 0; i < 10000; i++)
                sampler_accept(s, i % 4);
        sampler_accept(s, -1);
        sampler_accept(s, 5);
        /* last three: 9997 % 4 = 1, 2, 3 */
        memcpy(l, (float[]) { 0, 0, 0, 0, 0 }, sizeof l);
        CHECK_RET(sampler_sample(s, l), 0);
        CHECK(l[0] == 0 && l[1] == -1.0f && l[2] == -1.0f && l[3] == -1.0f && l[4] == 0);
        /* reset forgets the history */
        sampler_reset(s);
        memcpy(l, (float[]) { 0, 0, 0, 0, 0 }, sizeof l);
        sampler_sample(s, l);
        CHECK(l[1] == 0 && l[2] == 0 && l[3] == 0);

        /* The penalty changes the pick: greedy avoids the repeated best token. */
        sampler_accept(s, 3);
        memcpy(l, (float[]) { 0, 0, 0, 1.5f, 1.0f }, sizeof l);
        CHECK_RET(sampler_sample(s, l), 4);
}

static void test_params(void) {
        struct sampler_params d, p;
        char err[256];
        Sampler *s = NULL;

        sampler_params_default(&d);
        CHECK(d.temperature == 0.8f && d.top_k == 40 && d.top_p == 0.95f && d.min_p == 0.05f);
        CHECK(d.repeat_penalty == 1.0f && d.presence_penalty == 0 && d.frequency_penalty == 0 && d.seed == 0);
        CHECK_RET(sampler_params_check(&d, err, sizeof err), 0);

#define BAD(field, value, word)                                                             \
        do {                                                                                \
                p = d;                                                                      \
                p.field = (value);                                                          \
                err[0] = '\0';                                                              \
                CHECK_RET(sampler_params_check(&p, err, sizeof err), -EINVAL);              \
                CHECK_MSG(strstr(err, word), "message '%s' lacks '%s'", err, word);         \
                CHECK_RET(sampler_new(&p, 10, &s), -EINVAL);                                \
        } while (0)

        BAD(temperature, NAN, "temperature");
        BAD(temperature, INFINITY, "temperature");
        BAD(temperature, -0.1f, "temperature");
        BAD(top_p, 0.0f, "top_p");
        BAD(top_p, 1.01f, "top_p");
        BAD(top_p, NAN, "top_p");
        BAD(min_p, -0.01f, "min_p");
        BAD(min_p, 1.5f, "min_p");
        BAD(repeat_penalty, 0.0f, "repeat_penalty");
        BAD(repeat_penalty, -1.0f, "repeat_penalty");
        BAD(presence_penalty, -INFINITY, "presence_penalty");
        BAD(frequency_penalty, NAN, "frequency_penalty");
        BAD(penalty_last_n, -2, "penalty_last_n");
#undef BAD

        p = d;
        p.temperature = 0;
        p.top_p = 1.0f;
        p.min_p = 1.0f;
        p.penalty_last_n = -1;
        p.presence_penalty = -2.0f; /* negative penalties are allowed, as in llama.cpp */
        CHECK_RET(sampler_params_check(&p, NULL, 0), 0);

        CHECK_RET(sampler_new(&d, 0, &s), -EINVAL);
        CHECK(!s);
        CHECK(sampler_free(NULL) == NULL);
}

static void test_speed(void) {
        /* Not a benchmark: a guard against an accidental full sort per token. */
        enum { N = 262144, DRAWS = 50 };
        struct sampler_params p;
        float *l = newa(float, N), *c = newa(float, N);
        _cleanup_(sampler_freep) Sampler *s = NULL;

        CHECK(l && c);
        uint64_t x = 12345;
        for (size_t i = 0; i < N; i++) {
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                l[i] = (float) (x >> 40) / (float) (1 << 24) * 20.0f - 10.0f;
        }
        sampler_params_default(&p);
        p.repeat_penalty = 1.1f;
        CHECK_RET(sampler_new(&p, N, &s), 0);
        for (int i = 0; i < 64; i++)
                sampler_accept(s, i * 97);

        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (int d = 0; d < DRAWS; d++) {
                memcpy(c, l, N * sizeof *c);
                int32_t t = sampler_sample(s, c);
                CHECK(t >= 0 && t < N);
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        double ms = ((double) (b.tv_sec - a.tv_sec) * 1e3 + (double) (b.tv_nsec - a.tv_nsec) / 1e6) / DRAWS;
        printf("default chain, %d logits: %.3f ms per token\n", N, ms);
        /* Generous: sanitiser builds are several times slower. */
        CHECK_MSG(ms < 50.0, "%.3f ms per token", ms);
        free(l);
        free(c);
}

/* Pushes pieces through a matcher and concatenates what comes out. */
static char *run_stop(const char *const *stops, size_t n_stops, const char *const *pieces, size_t n_pieces,
                      bool *ret_stopped) {
        StopMatcher m;
        char out[4096] = "";

        CHECK_RET(stop_matcher_init(&m, stops, n_stops), 0);
        for (size_t i = 0; i <= n_pieces; i++) {
                bool flush = i == n_pieces;
                const char *t = flush ? "" : pieces[i];
                char *r = NULL;
                CHECK_RET(stop_matcher_push(&m, t, strlen(t), flush, &r), 0);
                CHECK(r);
                CHECK(strlen(out) + strlen(r) < sizeof out);
                strcat(out, r);
                free(r);
        }
        *ret_stopped = m.stopped;
        stop_matcher_done(&m);
        char *s = strdup(out);
        CHECK(s);
        return s;
}

static void test_stop(void) {
        bool stopped;
        char *o;

        /* split across many pushes */
        o = run_stop((const char *[]) { "<|im_end|>" }, 1,
                     (const char *[]) { "Hello", " world<", "|im", "_", "end|", ">ignored" }, 6, &stopped);
        CHECK(stopped && streq(o, "Hello world"));
        free(o);

        /* overlapping prefix: "aabc" with stop "abc" */
        o = run_stop((const char *[]) { "abc" }, 1, (const char *[]) { "a", "a", "b", "c", "d" }, 5, &stopped);
        CHECK(stopped && streq(o, "a"));
        free(o);
        o = run_stop((const char *[]) { "abc" }, 1, (const char *[]) { "xaab", "abc" }, 2, &stopped);
        CHECK(stopped && streq(o, "xaab"));
        free(o);

        /* a false start is released, the rest flushed at the end */
        o = run_stop((const char *[]) { "STOP" }, 1, (const char *[]) { "ST", "Ox", " ST" },
                     3, &stopped);
        CHECK(!stopped && streq(o, "STOx ST"));
        free(o);

        /* the earliest of several stop strings wins */
        o = run_stop((const char *[]) { "world", "lo w" }, 2, (const char *[]) { "hello world" }, 1, &stopped);
        CHECK(stopped && streq(o, "hel"));
        free(o);

        /* no stops: everything passes through */
        o = run_stop(NULL, 0, (const char *[]) { "a", "bc" }, 2, &stopped);
        CHECK(!stopped && streq(o, "abc"));
        free(o);

        /* UTF-8: a multi-byte stop string split inside a character */
        o = run_stop((const char *[]) { "日本" }, 1,
                     (const char *[]) { "é\xe6", "\x97", "\xa5\xe6\x9c", "\xac" }, 4, &stopped);
        CHECK(stopped && streq(o, "é"));
        free(o);

        /* What comes out before the match: exactly what is safe. */
        StopMatcher m;
        char *r;
        CHECK_RET(stop_matcher_init(&m, (const char *[]) { "</s>", "\n\nUser:" }, 2), 0);
        CHECK_RET(stop_matcher_push(&m, "Hi <", 4, false, &r), 0);
        CHECK(streq(r, "Hi "));
        CHECK(m.n_held == 1);
        free(r);
        CHECK_RET(stop_matcher_push(&m, "b>\n", 3, false, &r), 0);
        CHECK(streq(r, "<b>"));
        CHECK(m.n_held == 1);
        free(r);
        CHECK_RET(stop_matcher_push(&m, "\nUse", 4, false, &r), 0);
        CHECK(streq(r, ""));
        CHECK(m.n_held == 5 && !m.stopped);
        free(r);
        CHECK_RET(stop_matcher_push(&m, "r: more", 7, false, &r), 0);
        CHECK(streq(r, "") && m.stopped);
        free(r);
        /* after the stop, further text is dropped */
        CHECK_RET(stop_matcher_push(&m, "x", 1, true, &r), 0);
        CHECK(streq(r, ""));
        free(r);
        stop_matcher_done(&m);
        stop_matcher_done(&m); /* twice is fine */

        /* Bad stop lists. */
        char long_stop[SAMPLER_MAX_STOP_LEN + 2];
        memset(long_stop, 'x', sizeof long_stop - 1);
        long_stop[sizeof long_stop - 1] = '\0';
        CHECK_RET(stop_matcher_init(&m, (const char *[]) { "ok", long_stop }, 2), -EINVAL);
        CHECK(m.n_stops == 0 && !m.stops[0]);
        long_stop[SAMPLER_MAX_STOP_LEN] = '\0'; /* exactly the limit is fine */
        CHECK_RET(stop_matcher_init(&m, (const char *[]) { long_stop }, 1), 0);
        stop_matcher_done(&m);
        CHECK_RET(stop_matcher_init(&m, (const char *[]) { "" }, 1), -EINVAL);
        CHECK_RET(stop_matcher_init(&m, (const char *[]) { NULL }, 1), -EINVAL);
        const char *many[SAMPLER_MAX_STOP + 1];
        for (size_t i = 0; i < ELEMENTSOF(many); i++)
                many[i] = "s";
        CHECK_RET(stop_matcher_init(&m, many, SAMPLER_MAX_STOP + 1), -EINVAL);
        CHECK_RET(stop_matcher_init(&m, many, SAMPLER_MAX_STOP), 0);
        stop_matcher_done(&m);
}

int main(void) {
        test_greedy();
        test_determinism();
        test_distribution();
        test_top_k();
        test_top_p();
        test_top_p_large();
        test_min_p();
        test_nucleus_exact();
        test_penalties();
        test_params();
        test_stop();
        test_speed();
        printf("OK\n");
        return 0;
}
