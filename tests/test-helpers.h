/* SPDX-License-Identifier: MIT */
#pragma once

/* Minimal assertion helpers for the C tests: a failed check prints where and
 * why and exits 1; exit 77 means skipped (meson, automake convention). */

#include <dirent.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
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

/* Normalised mean squared error of a against ref. */
static inline double test_nmse(const float *a, const float *ref, size_t n) {
        double num = 0, den = 0;

        for (size_t i = 0; i < n; i++) {
                double d = (double) a[i] - ref[i];
                num += d * d;
                den += (double) ref[i] * ref[i];
        }
        return den > 0 ? num / den : num;
}

static inline int32_t test_argmax(const float *x, size_t n) {
        size_t best = 0;

        for (size_t i = 1; i < n; i++)
                if (x[i] > x[best])
                        best = i;
        return (int32_t) best;
}

/* Open file descriptors of this process (with the one reading the list), for leak checks. */
static inline unsigned test_count_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        unsigned n = 0;

        CHECK(d);
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}
