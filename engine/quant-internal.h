/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Shared between quant.c (portable code, dispatch) and the SIMD kernel files
 * quant-avx2.c / quant-avx512.c, which are compiled with their own -m flags:
 * nothing here may need more than baseline x86-64 (or any other arch).
 */

#include <string.h>

#include "quant.h"

/* y[t * ldy + r] for r in [r0, r1), t in [0, nt): see quant_matmul(). */
typedef void (*quant_matmul_fn)(size_t k, const void *w, size_t w_row_bytes, size_t r0, size_t r1,
                                const void *x, size_t x_row_bytes, size_t nt, float *y, size_t ldy);
typedef void (*quant_act_fn)(const float *src, void *dst, size_t n);

/* One table per CPU level; a NULL entry falls back to the level below. */
struct quant_kernels {
        quant_matmul_fn matmul[GGML_TYPE_COUNT]; /* by weight type */
        quant_act_fn act[GGML_TYPE_COUNT];       /* by vec_dot_type */
};

#ifdef UNICORN_X86_64
/* Fill in the kernels each file has; entries it lacks are left alone. */
void quant_kernels_avx2(struct quant_kernels *k);
/* AVX-512 kernels; VNNI (vpdpbusd) variants only when vnni is true, else the
 * integer kernels stay the AVX2 ones (what AVX-512 without VNNI gains on
 * them is small). */
void quant_kernels_avx512(struct quant_kernels *k, bool vnni);
#endif

/* Bit-exact IEEE binary16 <-> binary32, round to nearest even (what F16C
 * does), so the portable and SIMD paths agree bit for bit. */
static inline float quant_fp16_to_fp32(uint16_t h) {
        uint32_t sign = (uint32_t) (h & 0x8000) << 16;
        uint32_t exp = (h >> 10) & 0x1f;
        uint32_t man = h & 0x3ff;
        uint32_t bits;
        float f;

        if (exp == 0x1f) {
                bits = sign | 0x7f800000u | (man << 13); /* inf, NaN (payload kept) */
        } else if (exp != 0) {
                bits = sign | ((exp + 112) << 23) | (man << 13);
        } else if (man == 0) {
                bits = sign;
        } else {
                /* Subnormal: man * 2^-24 is exact in binary32. */
                f = (float) man * 0x1p-24f;
                memcpy(&bits, &f, 4);
                bits |= sign;
        }
        memcpy(&f, &bits, 4);
        return f;
}

static inline uint16_t quant_fp32_to_fp16(float f) {
        uint32_t x, sign, ax;

        memcpy(&x, &f, 4);
        sign = (x >> 16) & 0x8000;
        ax = x & 0x7fffffffu;
        if (ax > 0x7f800000u) /* NaN: keep it a quiet NaN, keep the top payload bits */
                return (uint16_t) (sign | 0x7e00 | ((ax >> 13) & 0x3ff));
        if (ax >= 0x477ff000u) /* rounds to >= 65520: inf */
                return (uint16_t) (sign | 0x7c00);
        if (ax < 0x38800000u) {
                /* Result is subnormal or zero: align the 24-bit significand
                 * so that bit 0 is 2^-24, then round to nearest even. */
                uint32_t e = ax >> 23, shift, m, r, half;

                if (e < 102) /* below 2^-25: rounds to zero */
                        return (uint16_t) sign;
                m = (ax & 0x7fffff) | 0x800000;
                shift = 126 - e; /* 14..24 */
                r = m >> shift;
                half = 1u << (shift - 1);
                if ((m & ((half << 1) - 1)) > half || ((m & ((half << 1) - 1)) == half && (r & 1)))
                        r++;
                return (uint16_t) (sign | r);
        }
        /* Normal: rebias, round the 13 dropped bits to nearest even (a carry
         * into the exponent is the right answer, up to inf). */
        ax = ax - 0x38000000u;
        ax += 0xfff + ((ax >> 13) & 1);
        return (uint16_t) (sign | (ax >> 13));
}

static inline float quant_bf16_to_fp32(uint16_t h) {
        uint32_t bits = (uint32_t) h << 16;
        float f;

        memcpy(&f, &bits, 4);
        return f;
}

static inline uint16_t quant_fp32_to_bf16(float f) {
        uint32_t x;

        memcpy(&x, &f, 4);
        if ((x & 0x7fffffffu) > 0x7f800000u) /* NaN: force quiet, like ggml */
                return (uint16_t) ((x >> 16) | 64);
        return (uint16_t) ((x + (0x7fff + ((x >> 16) & 1))) >> 16);
}

/* 6-bit scale and min j of a Q4_K/Q5_K block (ggml's get_scale_min_k4). */
static inline void quant_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
        if (j < 4) {
                *d = q[j] & 63;
                *m = q[j + 4] & 63;
        } else {
                *d = (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4);
                *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
        }
}

/* ggml's nearest_int: round half to even for |f| < 2^22, as the SIMD
 * conversions do under the default MXCSR. */
static inline int quant_nearest_int(float f) {
        float v = f + 12582912.f;
        int32_t i;

        memcpy(&i, &v, 4);
        return (i & 0x007fffff) - 0x00400000;
}
