/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The few macros every Unicorn file uses, defined once (STYLE.md §2):
 * cleanup attributes for ownership, TAKE_PTR for hand-over, and checked
 * arithmetic for every size that comes from a file or a caller.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define _unused_ __attribute__((__unused__))
#define _pure_ __attribute__((__pure__))
#define _const_ __attribute__((__const__))
#define _likely_(x) (__builtin_expect(!!(x), 1))
#define _unlikely_(x) (__builtin_expect(!!(x), 0))
#define _printf_(a, b) __attribute__((__format__(printf, a, b)))
#define _warn_unused_result_ __attribute__((__warn_unused_result__))
#define _cleanup_(f) __attribute__((__cleanup__(f)))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define CLAMP(x, lo, hi) ((x) < (lo) ? (lo) : (x) > (hi) ? (hi) : (x))
#define DIV_ROUND_UP(a, b) (((a) + (b) - 1) / (b))
#define ALIGN_TO(x, a) (((x) + (a) - 1) / (a) * (a))

/* Takes ownership out of a cleanup variable: returns it, leaves NULL. */
#define TAKE_PTR(p)                                \
        ({                                         \
                __typeof__(p) _take_p_ = (p);      \
                (p) = NULL;                        \
                _take_p_;                          \
        })

#define TAKE_FD(fd)                                \
        ({                                         \
                int _take_fd_ = (fd);              \
                (fd) = -EBADF;                     \
                _take_fd_;                         \
        })

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

/* For `_cleanup_(foo_freep)` on objects whose destructor returns NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)    \
        static inline void func##p(type *p) {      \
                if (*p)                            \
                        *p = func(*p);             \
        }

/* Checked arithmetic: true on overflow, like __builtin_*_overflow. */
#define MUL_OVERFLOW(a, b, res) __builtin_mul_overflow((a), (b), (res))
#define ADD_OVERFLOW(a, b, res) __builtin_add_overflow((a), (b), (res))

/* Allocates n elements of size sz, zeroed; NULL on overflow or no memory. */
static inline void *new0_array(size_t n, size_t sz) {
        if (sz != 0 && n > SIZE_MAX / sz)
                return NULL;
        return calloc(n ? n : 1, sz ? sz : 1);
}
#define new0(t, n) ((t *) new0_array((n), sizeof(t)))

/* malloc of n*sz bytes with an overflow check; contents undefined. */
static inline void *malloc_array(size_t n, size_t sz) {
        if (sz != 0 && n > SIZE_MAX / sz)
                return NULL;
        return malloc(n * sz != 0 ? n * sz : 1);
}
#define newa(t, n) ((t *) malloc_array((n), sizeof(t)))

/* 64-byte aligned allocation for SIMD buffers; free() releases it. */
static inline void *aligned_alloc_array(size_t n, size_t sz) {
        size_t bytes;
        if (MUL_OVERFLOW(n, sz, &bytes) || bytes > SIZE_MAX - 64)
                return NULL;
        return aligned_alloc(64, ALIGN_TO(bytes ? bytes : 1, 64));
}

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        while (*a && *a == *b)
                a++, b++;
        return *a == *b;
}
#define streq(a, b) (__builtin_strcmp((a), (b)) == 0)
