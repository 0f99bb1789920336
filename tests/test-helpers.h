/* SPDX-License-Identifier: MIT */
#pragma once

/* Minimal assertion helpers for the C tests: a failed check prints where and
 * why and exits 1; exit 77 means skipped (meson, automake convention). */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_TEST_SKIP 77

#define CHECK(expr)                                                                         \
        do {                                                                                \
                if (!(expr)) {                                                              \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
                        exit(EXIT_FAILURE);                                                 \
                }                                                                           \
        } while (0)

#define CHECK_MSG(expr, ...)                                                                \
        do {                                                                                \
                if (!(expr)) {                                                              \
                        fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #expr); \
                        fprintf(stderr, __VA_ARGS__);                                       \
                        fputc('\n', stderr);                                                \
                        exit(EXIT_FAILURE);                                                 \
                }                                                                           \
        } while (0)

#define CHECK_RET(expr, want)                                                               \
        do {                                                                                \
                long _r = (long) (expr);                                                    \
                if (_r != (long) (want)) {                                                  \
                        fprintf(stderr, "%s:%d: %s returned %ld, expected %ld\n", __FILE__, __LINE__, \
                                #expr, _r, (long) (want));                                  \
                        exit(EXIT_FAILURE);                                                 \
                }                                                                           \
        } while (0)

#define CHECK_NEAR(a, b, tol)                                                               \
        do {                                                                                \
                double _a = (a), _b = (b);                                                  \
                if (!(fabs(_a - _b) <= (tol))) {                                            \
                        fprintf(stderr, "%s:%d: %s = %.9g, %s = %.9g, differ by more than %g\n", \
                                __FILE__, __LINE__, #a, _a, #b, _b, (double) (tol));        \
                        exit(EXIT_FAILURE);                                                 \
                }                                                                           \
        } while (0)

#define SKIP(...)                                                                           \
        do {                                                                                \
                printf("SKIP: ");                                                           \
                printf(__VA_ARGS__);                                                        \
                printf("\n");                                                               \
                exit(EXIT_TEST_SKIP);                                                       \
        } while (0)

static inline const char *test_fixtures_dir(void) {
        const char *d = getenv("UNICORN_FIXTURES");
        return d ? d : "tests/fixtures";
}

static inline const char *test_models_dir(void) {
        return getenv("UNICORN_MODELS");
}
