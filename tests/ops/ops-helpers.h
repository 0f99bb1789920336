/* SPDX-License-Identifier: MIT */
#pragma once

/* What the whole-model Vulkan tests share (test-vk-models.c, test-vk-import.c). */

#include "engine.h"
#include "test-helpers.h"

/* A context on m; fails the test with the engine's message if there is none. */
/* UNICORN_TEST_COOPMAT=1 (tests/ops/meson.build, on the lavapipe that has them): the test fails where
 * the cooperative-matrix kernels did not run, instead of passing on the float kernels. */
static inline bool test_want_coopmat(void) {
        const char *e = getenv("UNICORN_TEST_COOPMAT");
        return e && streq(e, "1");
}

static inline Context *test_context_seqs(Model *m, uint32_t n_ctx, uint32_t n_batch, uint32_t n_seq) {
        char err[256] = "";
        Context *c = NULL;

        CHECK_MSG(context_new(m, &(struct context_options) { .n_ctx = n_ctx, .n_batch = n_batch, .n_seq = n_seq },
                              &c, err, sizeof err) == 0,
                  "%s", err);
        return c;
}

static inline Context *test_context(Model *m, uint32_t n_ctx, uint32_t n_batch) {
        return test_context_seqs(m, n_ctx, n_batch, 1);
}

/* Runs tokens [0, n) of sequence 0 at positions p0.. (logits for all, or the last); returns them
 * (n x n_vocab, or one row). */
static inline const float *test_step(Context *c, const int32_t *tok, size_t n, int32_t p0, bool all) {
        int32_t pos[64], seq[64] = {};
        bool lg[64];

        CHECK(n <= 64);
        for (size_t i = 0; i < n; i++) {
                pos[i] = p0 + (int32_t) i;
                lg[i] = all || i + 1 == n;
        }
        CHECK_RET(context_decode(c, &(struct batch) { .n_tokens = n, .token = tok, .pos = pos, .seq_id = seq,
                                                      .logits = lg }),
                  0);
        return context_logits(c, 0);
}
