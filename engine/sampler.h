/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Per-sequence token sampling. Order of operations (as llama.cpp's default
 * chain, so users' expectations carry over):
 *   penalties (repetition / presence / frequency over the last
 *   penalty_last_n tokens) → greedy if temperature <= 0 → top-k → top-p →
 *   min-p → temperature → softmax → draw with the sequence's own RNG.
 * Same seed + same logits → same tokens.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macros.h"

#define SAMPLER_MAX_STOP 16          /* stop strings per request */
#define SAMPLER_MAX_STOP_LEN 256     /* bytes per stop string */

struct sampler_params {
        float temperature;     /* <= 0: greedy */
        int32_t top_k;         /* <= 0: off */
        float top_p;           /* >= 1: off */
        float min_p;           /* <= 0: off */
        float repeat_penalty;  /* 1: off; divides positive logits, multiplies negative ones */
        float presence_penalty;  /* 0: off; subtracted once from every token seen */
        float frequency_penalty; /* 0: off; subtracted per occurrence */
        int32_t penalty_last_n;  /* window of past tokens the penalties look at; 0: off, -1: whole context */
        uint64_t seed;
};

/* temperature 0.8, top_k 40, top_p 0.95, min_p 0.05, penalties off, seed 0. */
void sampler_params_default(struct sampler_params *p);
/* -EINVAL for a value out of range (NaN, negative top_p…); a message in ret_error. */
int sampler_params_check(const struct sampler_params *p, char *ret_error, size_t error_size);

typedef struct Sampler Sampler;

int sampler_new(const struct sampler_params *p, size_t n_vocab, Sampler **ret);
Sampler *sampler_free(Sampler *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Sampler *, sampler_free);

/* Records a token that is part of the context (prompt or generated) for the penalties. */
void sampler_accept(Sampler *s, int32_t token);
/* Picks the next token from n_vocab logits (modified in place). */
int32_t sampler_sample(Sampler *s, float *logits);
/* Restarts the RNG and forgets the history. */
void sampler_reset(Sampler *s);

/*
 * Stop strings on generated text. Text is pushed as it is produced; what is
 * safe to show comes out (text that might be the start of a stop string is
 * held back until it is known not to be), and once a stop string appears the
 * text before it is released and stopped becomes true.
 */
typedef struct StopMatcher {
        char *stops[SAMPLER_MAX_STOP];
        size_t n_stops;
        size_t max_len;
        char *held;  /* held-back text */
        size_t n_held;
        bool stopped;
} StopMatcher;

/* -EINVAL for too many or too long (or empty) stop strings. */
int stop_matcher_init(StopMatcher *m, const char *const *stops, size_t n);
void stop_matcher_done(StopMatcher *m);
/* Pushes text; *ret is a malloc'ed NUL-terminated string of releasable text
 * (possibly empty). flush (end of generation) releases everything held. */
int stop_matcher_push(StopMatcher *m, const char *text, size_t n, bool flush, char **ret);
