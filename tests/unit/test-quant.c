/* SPDX-License-Identifier: MIT */
/*
 * Tensor types: hand-worked blocks for every layout, fp16/bf16 bit patterns,
 * quantize → dequantize error bounds, and dot/matmul against a double
 * precision reference on every CPU level this machine has.
 */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant.h"
#include "test-helpers.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static float frand(void) { /* uniform in [-1, 1) */
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return (float) ((double) (rng_state >> 40) / (double) (1ull << 23) - 1.0);
}

static float f32_from_bits(uint32_t b) {
        float f;

        memcpy(&f, &b, 4);
        return f;
}

/* ---- fp16 / bf16 ---------------------------------------------------------- */

static void test_fp16(void) {
        CHECK_RET(fp32_to_fp16(1.0f), 0x3c00);
        CHECK_RET(fp32_to_fp16(-2.0f), 0xc000);
        CHECK_RET(fp32_to_fp16(0.5f), 0x3800);
        CHECK_RET(fp32_to_fp16(-0.0f), 0x8000);
        CHECK_RET(fp32_to_fp16(65504.0f), 0x7bff);
        CHECK_RET(fp32_to_fp16(65519.0f), 0x7bff);            /* below the 65520 midpoint */
        CHECK_RET(fp32_to_fp16(65520.0f), 0x7c00);            /* tie with odd 0x7bff: up to inf */
        CHECK_RET(fp32_to_fp16(1e10f), 0x7c00);
        CHECK_RET(fp32_to_fp16(INFINITY), 0x7c00);
        CHECK_RET(fp32_to_fp16(-INFINITY), 0xfc00);
        CHECK((fp32_to_fp16(NAN) & 0x7c00) == 0x7c00 && (fp32_to_fp16(NAN) & 0x3ff) != 0);
        CHECK_RET(fp32_to_fp16(0x1p-14f), 0x0400);            /* smallest normal */
        CHECK_RET(fp32_to_fp16(0x1p-24f), 0x0001);            /* smallest subnormal */
        CHECK_RET(fp32_to_fp16(0x1p-25f), 0x0000);            /* tie: to even (0) */
        CHECK_RET(fp32_to_fp16(0x1.8p-24f), 0x0002);          /* 1.5 ulp tie: to even (2) */
        CHECK_RET(fp32_to_fp16(0x1.2p-24f), 0x0001);
        CHECK_RET(fp32_to_fp16(0x3ffp-24f), 0x03ff);          /* largest subnormal */
        CHECK_RET(fp32_to_fp16(0x1.ffcp-15f), 0x0400);        /* rounds up into the normals */
        CHECK_RET(fp32_to_fp16(1.0f + 0x1p-11f), 0x3c00);     /* tie, even mantissa: down */
        CHECK_RET(fp32_to_fp16(1.0f + 0x3p-11f), 0x3c02);     /* tie, odd mantissa: up */
        CHECK_RET(fp32_to_fp16(1.0f + 0x1.8p-11f), 0x3c01);   /* above the tie: up */
        CHECK_RET(fp32_to_fp16(0.1f), 0x2e66);

        CHECK(fp16_to_fp32(0x3c00) == 1.0f);
        CHECK(fp16_to_fp32(0x7bff) == 65504.0f);
        CHECK(fp16_to_fp32(0x0001) == 0x1p-24f);
        CHECK(fp16_to_fp32(0x03ff) == 0x3ffp-24f);
        CHECK(fp16_to_fp32(0x3555) == 0.333251953125f);
        CHECK(isinf(fp16_to_fp32(0xfc00)) && fp16_to_fp32(0xfc00) < 0);
        CHECK(isnan(fp16_to_fp32(0x7e00)));
        CHECK(signbit(fp16_to_fp32(0x8000)) && fp16_to_fp32(0x8000) == 0.0f);

        /* Every non-NaN half survives the round trip exactly. */
        for (uint32_t h = 0; h < 0x10000; h++) {
                if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff))
                        continue;
                CHECK_MSG(fp32_to_fp16(fp16_to_fp32((uint16_t) h)) == h, "h=0x%04x", h);
        }

        CHECK_RET(fp32_to_bf16(1.0f), 0x3f80);
        CHECK_RET(fp32_to_bf16(1.0f + 0x1p-8f), 0x3f80);      /* tie, even: down */
        CHECK_RET(fp32_to_bf16(1.0f + 0x3p-8f), 0x3f82);      /* tie, odd: up */
        CHECK_RET(fp32_to_bf16(-3.0f), 0xc040);
        CHECK_RET(fp32_to_bf16(INFINITY), 0x7f80);
        CHECK(isnan(bf16_to_fp32(fp32_to_bf16(f32_from_bits(0x7f800001)))));
        CHECK(bf16_to_fp32(0x3f80) == 1.0f);
        CHECK(bf16_to_fp32(0xc040) == -3.0f);
}

/* ---- hand-worked blocks --------------------------------------------------- */

static void test_hand_q4_0(void) {
        block_q4_0 b;
        float y[32];

        b.d = 0x3800; /* 0.5 */
        memset(b.qs, 0x88, sizeof(b.qs)); /* level 8 → 0 */
        b.qs[0] = 0x21;
        b.qs[15] = 0xf0;
        dequantize_row(GGML_TYPE_Q4_0, &b, y, 32);
        CHECK(y[0] == -3.5f);   /* (1 - 8) * 0.5 */
        CHECK(y[16] == -3.0f);  /* (2 - 8) * 0.5 */
        CHECK(y[15] == -4.0f);  /* (0 - 8) * 0.5 */
        CHECK(y[31] == 3.5f);   /* (15 - 8) * 0.5 */
        CHECK(y[1] == 0.0f);
}

static void test_hand_q4_1(void) {
        block_q4_1 b;
        float y[32];

        b.d = 0x3400; /* 0.25 */
        b.m = 0xbc00; /* -1.0 */
        memset(b.qs, 0, sizeof(b.qs));
        b.qs[1] = 0xf3;
        dequantize_row(GGML_TYPE_Q4_1, &b, y, 32);
        CHECK(y[1] == -0.25f);  /* 3 * 0.25 - 1 */
        CHECK(y[17] == 2.75f);  /* 15 * 0.25 - 1 */
        CHECK(y[0] == -1.0f);   /* 0 * 0.25 - 1 */
}

static void test_hand_q5_0(void) {
        block_q5_0 b;
        uint32_t qh = (1u << 2) | (1u << 18);
        float y[32];

        b.d = 0x3c00; /* 1.0 */
        memset(b.qs, 0, sizeof(b.qs));
        b.qs[2] = 0x1f;
        memcpy(b.qh, &qh, 4);
        dequantize_row(GGML_TYPE_Q5_0, &b, y, 32);
        CHECK(y[2] == 15.0f);   /* (0xf | 16) - 16: qh bit 2 */
        CHECK(y[18] == 1.0f);   /* (0x1 | 16) - 16: qh bit 18 */
        CHECK(y[0] == -16.0f);  /* 0 - 16 */
        CHECK(y[3] == -16.0f);
}

static void test_hand_q5_1(void) {
        block_q5_1 b;
        uint32_t qh = 1u << 16;
        float y[32];

        b.d = 0x3800; /* 0.5 */
        b.m = 0x4000; /* 2.0 */
        memset(b.qs, 0, sizeof(b.qs));
        b.qs[0] = 0x30;
        memcpy(b.qh, &qh, 4);
        dequantize_row(GGML_TYPE_Q5_1, &b, y, 32);
        CHECK(y[0] == 2.0f);    /* 0 * 0.5 + 2 */
        CHECK(y[16] == 11.5f);  /* (3 | 16) * 0.5 + 2 */
        CHECK(y[17] == 2.0f);
}

static void test_hand_q8(void) {
        block_q8_0 b;
        block_q8_K k;
        float y[256];

        b.d = 0x3000; /* 0.125 */
        memset(b.qs, 0, sizeof(b.qs));
        b.qs[5] = -100;
        b.qs[31] = 127;
        dequantize_row(GGML_TYPE_Q8_0, &b, y, 32);
        CHECK(y[5] == -12.5f);    /* -100 * 0.125 */
        CHECK(y[31] == 15.875f);  /* 127 * 0.125 */

        memset(&k, 0, sizeof(k));
        k.d = 0.25f;
        k.qs[200] = -3;
        dequantize_row(GGML_TYPE_Q8_K, &k, y, 256);
        CHECK(y[200] == -0.75f);
        CHECK(y[0] == 0.0f);
}

/* The 12 scale bytes shared by the Q4_K and Q5_K cases:
 *   sub-block 0: sc 10, m 4     → scales[0] = 10, scales[4] = 4
 *   sub-block 1: sc 7,  m 3     → scales[1] = 7,  scales[5] = 3
 *   sub-block 5: sc 50 (0b110010), m 33 (0b100001)
 *                                → scales[9] = (50 & 0xf) | (33 & 0xf) << 4 = 0x12,
 *                                  top bits: scales[1] |= (50 >> 4) << 6 = 0xc0,
 *                                            scales[5] |= (33 >> 4) << 6 = 0x80
 *   others 0. */
static void hand_k4_scales(uint8_t s[12]) {
        memset(s, 0, 12);
        s[0] = 10;
        s[4] = 4;
        s[1] = 7 | 0xc0;
        s[5] = 3 | 0x80;
        s[9] = 0x12;
}

static void test_hand_q4_K(void) {
        block_q4_K b;
        float y[256];

        b.d = 0x3c00;    /* 1.0 */
        b.dmin = 0x3800; /* 0.5 */
        hand_k4_scales(b.scales);
        memset(b.qs, 0, sizeof(b.qs));
        b.qs[0] = 0x96;  /* element 0: 6 (sub-block 0); element 32: 9 (sub-block 1) */
        b.qs[64] = 0xa0; /* element 128: 0 (sub-block 4); element 160: 10 (sub-block 5) */
        dequantize_row(GGML_TYPE_Q4_K, &b, y, 256);
        CHECK(y[0] == 58.0f);     /* 1 * 10 * 6 - 0.5 * 4 */
        CHECK(y[32] == 61.5f);    /* 1 * 7 * 9 - 0.5 * 3 */
        CHECK(y[1] == -2.0f);     /* 1 * 10 * 0 - 0.5 * 4 */
        CHECK(y[160] == 483.5f);  /* 1 * 50 * 10 - 0.5 * 33 */
        CHECK(y[161] == -16.5f);  /* 1 * 50 * 0 - 0.5 * 33 */
        CHECK(y[128] == 0.0f);    /* sub-block 4: sc 0, m 0 */
}

static void test_hand_q5_K(void) {
        block_q5_K b;
        float y[256];

        b.d = 0x3c00;    /* 1.0 */
        b.dmin = 0x3800; /* 0.5 */
        hand_k4_scales(b.scales);
        memset(b.qs, 0, sizeof(b.qs));
        memset(b.qh, 0, sizeof(b.qh));
        b.qs[0] = 0x96;
        b.qh[0] = 0x01;  /* bit 0 of qh[l]: +16 for element l of sub-block 0 */
        b.qh[3] = 0x20;  /* bit 5 of qh[3]: +16 for element 5 * 32 + 3 = 163 */
        dequantize_row(GGML_TYPE_Q5_K, &b, y, 256);
        CHECK(y[0] == 218.0f);    /* 10 * (6 + 16) - 0.5 * 4 */
        CHECK(y[32] == 61.5f);    /* 7 * 9 - 1.5: bit 1 of qh[0] clear */
        CHECK(y[163] == 783.5f);  /* 50 * (0 + 16) - 0.5 * 33 */
        CHECK(y[162] == -16.5f);  /* 50 * 0 - 16.5 */
}

static void test_hand_q6_K(void) {
        block_q6_K b;
        float y[256];

        memset(&b, 0, sizeof(b));
        b.d = 0x3800; /* 0.5 */
        for (int i = 0; i < 16; i++)
                b.scales[i] = 1;
        b.scales[0] = 2;
        b.scales[2] = -3;
        b.scales[9] = 4;
        b.ql[0] = 0x5a;
        b.qh[0] = 0x1b;  /* 0b00 01 10 11: element 0 → 3, 32 → 2, 64 → 1, 96 → 0 */
        b.ql[33] = 0x0f;
        b.qh[1] = 0x0c;  /* element 33: high bits (0x0c >> 2) & 3 = 3 */
        b.ql[80] = 0x07; /* second half (ql + 64), l = 16: element 128 + 16 = 144 */
        b.qh[48] = 0x02; /* (qh + 32)[16] */
        dequantize_row(GGML_TYPE_Q6_K, &b, y, 256);
        CHECK(y[0] == 26.0f);    /* q = (0xa | 3 << 4) - 32 = 26; 0.5 * 2 * 26 */
        CHECK(y[32] == 0.0f);    /* q = (0 | 2 << 4) - 32 = 0 */
        CHECK(y[64] == -5.5f);   /* q = (5 | 1 << 4) - 32 = -11; 0.5 * sc[4] = 1 * -11 */
        CHECK(y[96] == -16.0f);  /* q = 0 - 32; 0.5 * sc[6] = 1 * -32 */
        CHECK(y[33] == -46.5f);  /* q = (15 | 3 << 4) - 32 = 31; 0.5 * -3 * 31 */
        CHECK(y[144] == 14.0f);  /* q = (7 | 2 << 4) - 32 = 7; 0.5 * sc[9] = 4 * 7 */
        CHECK(y[1] == -32.0f);   /* q = -32; 0.5 * 2 * -32 */
}

/* ---- round trips ---------------------------------------------------------- */

static void test_roundtrip(void) {
        /* RMSE of quantize → dequantize relative to the RMS of uniform
         * [-1, 1) data; bounds are about 1.3x what the reference quantizers
         * give, and well below what a wrong layout would give (~1). */
        static const struct {
                enum ggml_type type;
                double bound;
        } cases[] = {
                { GGML_TYPE_Q4_0, 0.085 }, { GGML_TYPE_Q4_1, 0.085 }, { GGML_TYPE_Q5_0, 0.042 },
                { GGML_TYPE_Q5_1, 0.042 }, { GGML_TYPE_Q8_0, 0.0055 }, { GGML_TYPE_Q8_1, 0.0055 },
                { GGML_TYPE_Q4_K, 0.085 }, { GGML_TYPE_Q5_K, 0.042 }, { GGML_TYPE_Q6_K, 0.022 },
                { GGML_TYPE_Q8_K, 0.0055 }, { GGML_TYPE_F16, 0.0005 }, { GGML_TYPE_BF16, 0.004 },
                { GGML_TYPE_F32, 0.0 },
        };
        enum { N = 4096 };
        static float x[N], y[N];
        static uint8_t q[N * 4];

        for (int i = 0; i < N; i++)
                x[i] = frand();
        for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
                double e2 = 0, s2 = 0;

                quantize_row(cases[c].type, x, q, N);
                dequantize_row(cases[c].type, q, y, N);
                for (int i = 0; i < N; i++) {
                        e2 += (double) (x[i] - y[i]) * (x[i] - y[i]);
                        s2 += (double) x[i] * x[i];
                }
                CHECK_MSG(sqrt(e2 / s2) <= cases[c].bound, "%s: relative RMSE %.5f > %.5f",
                          quant_type_name(cases[c].type), sqrt(e2 / s2), cases[c].bound);
                printf("round trip %-5s relative RMSE %.5f\n", quant_type_name(cases[c].type), sqrt(e2 / s2));
        }

        /* All-zero and constant blocks must not produce NaN. */
        memset(x, 0, sizeof(x));
        for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
                quantize_row(cases[c].type, x, q, 256);
                dequantize_row(cases[c].type, q, y, 256);
                for (int i = 0; i < 256; i++)
                        CHECK_MSG(y[i] == 0.0f, "%s zero block", quant_type_name(cases[c].type));
        }
}

/* Activation quantizers: Q8_K keeps the reference's sign convention (the
 * value of largest magnitude maps to -127) and bsums match qs. */
static void test_q8_K_sign(void) {
        float x[256];
        block_q8_K b;

        for (int i = 0; i < 256; i++)
                x[i] = frand() * 0.5f;
        x[17] = 2.0f;
        quantize_row(GGML_TYPE_Q8_K, x, &b, 256);
        CHECK(b.qs[17] == -127);
        CHECK(b.d < 0);
        for (int j = 0; j < 16; j++) {
                int s = 0;

                for (int i = 0; i < 16; i++)
                        s += b.qs[16 * j + i];
                CHECK(b.bsums[j] == s);
        }
}

/* ---- dot / matmul --------------------------------------------------------- */

static const enum ggml_type weight_types[] = {
        GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0,
        GGML_TYPE_Q5_1, GGML_TYPE_Q8_0, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K,
};

enum { NROWS = 13, MAX_NT = 16 };

struct mm_case {
        enum ggml_type type, vt;
        size_t k, w_row, x_row;
        uint8_t *w, *x;
        double *ref, *mag; /* [t * NROWS + r]: Σ w·x and Σ |w·x| in double */
};

static void mm_case_init(struct mm_case *c, enum ggml_type type, size_t k) {
        float *f = malloc(k * sizeof(float)), *wd = malloc(NROWS * k * sizeof(float));
        float *xd = malloc(MAX_NT * k * sizeof(float));

        CHECK(f && wd && xd);
        c->type = type;
        c->vt = quant_type_info(type)->vec_dot_type;
        c->k = k;
        CHECK_RET(quant_row_size(type, k, &c->w_row), 0);
        CHECK_RET(quant_row_size(c->vt, k, &c->x_row), 0);
        c->w = malloc(NROWS * c->w_row);
        c->x = malloc(MAX_NT * c->x_row);
        c->ref = malloc(NROWS * MAX_NT * sizeof(double));
        c->mag = malloc(NROWS * MAX_NT * sizeof(double));
        CHECK(c->w && c->x && c->ref && c->mag);
        for (size_t r = 0; r < NROWS; r++) {
                for (size_t i = 0; i < k; i++)
                        f[i] = frand() * (1.0f + r * 0.1f);
                quantize_row(type, f, c->w + r * c->w_row, k);
                dequantize_row(type, c->w + r * c->w_row, wd + r * k, k);
        }
        for (size_t t = 0; t < MAX_NT; t++) {
                for (size_t i = 0; i < k; i++)
                        f[i] = frand() * (0.5f + t * 0.25f);
                quantize_activations(c->vt, f, c->x + t * c->x_row, k);
                dequantize_row(c->vt, c->x + t * c->x_row, xd + t * k, k);
        }
        for (size_t t = 0; t < MAX_NT; t++)
                for (size_t r = 0; r < NROWS; r++) {
                        double s = 0, m = 0;

                        for (size_t i = 0; i < k; i++) {
                                s += (double) wd[r * k + i] * xd[t * k + i];
                                m += fabs((double) wd[r * k + i] * xd[t * k + i]);
                        }
                        if (c->vt == GGML_TYPE_Q8_1) {
                                /* Q4_1/Q5_1: the min term uses the activation's stored
                                 * s = fp16(d·Σq), not Σ of its dequantized values
                                 * (ggml's definition): swap that term in. Both block
                                 * types start with fp16 d, m. */
                                for (size_t b = 0; b < k / 32; b++) {
                                        const uint8_t *wb = c->w + r * c->w_row + b * (c->w_row / (k / 32));
                                        const block_q8_1 *xb = (const block_q8_1 *) (c->x + t * c->x_row) + b;
                                        uint16_t mh;
                                        double xs = 0;

                                        memcpy(&mh, wb + 2, 2);
                                        for (size_t i = 0; i < 32; i++)
                                                xs += xd[t * k + b * 32 + i];
                                        s += fp16_to_fp32(mh) * (fp16_to_fp32(xb->s) - xs);
                                }
                        }
                        c->ref[t * NROWS + r] = s;
                        c->mag[t * NROWS + r] = m;
                }
        free(f);
        free(wd);
        free(xd);
}

static void mm_case_free(struct mm_case *c) {
        free(c->w);
        free(c->x);
        free(c->ref);
        free(c->mag);
}

/* Runs quant_matmul on rows [r0, r1) and nt tokens at the current level;
 * checks against the double reference: the integer math is exact, so the
 * only error is float rounding, bounded by 1e-5 of Σ|w·x| (relative to the
 * magnitude, since the sum itself may cancel). Elements outside the range
 * must be untouched. */
static void mm_check(const struct mm_case *c, size_t r0, size_t r1, size_t nt, float *out) {
        const size_t ldy = NROWS + 2;
        float y[(NROWS + 2) * MAX_NT];

        for (size_t i = 0; i < ldy * MAX_NT; i++)
                y[i] = -12345.0f;
        quant_matmul(c->type, c->k, c->w, c->w_row, r0, r1, c->x, c->x_row, nt, y, ldy);
        for (size_t t = 0; t < MAX_NT; t++)
                for (size_t r = 0; r < ldy; r++) {
                        float v = y[t * ldy + r];

                        if (t >= nt || r < r0 || r >= r1) {
                                CHECK_MSG(v == -12345.0f, "%s k=%zu wrote outside the range", quant_type_name(c->type), c->k);
                                continue;
                        }
                        CHECK_MSG(fabs(v - c->ref[t * NROWS + r]) <= 1e-5 * c->mag[t * NROWS + r] + 1e-30,
                                  "%s level %s k=%zu nt=%zu r=%zu t=%zu: %.9g vs %.9g", quant_type_name(c->type),
                                  quant_cpu_level_name(quant_cpu_level()), c->k, nt, r, t, v, c->ref[t * NROWS + r]);
                        if (out)
                                out[t * NROWS + r] = v;
                }
}

static void test_matmul(void) {
        static const size_t ks_q32[] = { 32, 96, 256, 576, 2048, 1568 };
        static const size_t ks_k[] = { 256, 768, 2048 };
        static const size_t ks_f[] = { 1, 7, 32, 33, 576 };
        static const size_t nts[] = { 1, 2, 3, 4, 7, 16 };
        static const size_t ranges[][2] = { { 0, NROWS }, { 2, 9 }, { 5, 6 }, { 1, 5 } };
        const enum quant_cpu_level best = quant_cpu_detect();

        printf("CPU levels: best %s\n", quant_cpu_level_name(best));
        for (size_t ti = 0; ti < sizeof(weight_types) / sizeof(weight_types[0]); ti++) {
                const enum ggml_type type = weight_types[ti];
                const size_t *ks;
                size_t nk;

                if (quant_type_info(type)->block_size == QK_K) {
                        ks = ks_k;
                        nk = sizeof(ks_k) / sizeof(ks_k[0]);
                } else if (quant_type_info(type)->block_size == 1) {
                        ks = ks_f;
                        nk = sizeof(ks_f) / sizeof(ks_f[0]);
                } else {
                        ks = ks_q32;
                        nk = sizeof(ks_q32) / sizeof(ks_q32[0]);
                }
                for (size_t ki = 0; ki < nk; ki++) {
                        struct mm_case c;
                        float portable[NROWS * MAX_NT], simd[NROWS * MAX_NT];

                        quant_set_cpu_level(QUANT_CPU_PORTABLE);
                        mm_case_init(&c, type, ks[ki]);
                        for (size_t ni = 0; ni < sizeof(nts) / sizeof(nts[0]); ni++)
                                for (size_t ri = 0; ri < sizeof(ranges) / sizeof(ranges[0]); ri++) {
                                        quant_set_cpu_level(QUANT_CPU_PORTABLE);
                                        mm_check(&c, ranges[ri][0], ranges[ri][1], nts[ni], portable);
                                        for (int l = QUANT_CPU_AVX2; l <= (int) best; l++) {
                                                CHECK_RET(quant_set_cpu_level((enum quant_cpu_level) l), l);
                                                mm_check(&c, ranges[ri][0], ranges[ri][1], nts[ni], simd);
                                                /* SIMD vs portable: same integers, other float
                                                 * summation order: within 1e-6 of Σ|w·x|. */
                                                for (size_t t = 0; t < nts[ni]; t++)
                                                        for (size_t r = ranges[ri][0]; r < ranges[ri][1]; r++) {
                                                                size_t i = t * NROWS + r;

                                                                CHECK_MSG(fabs(simd[i] - portable[i]) <= 1e-6 * c.mag[i] + 1e-30,
                                                                          "%s %s k=%zu: %.9g vs portable %.9g",
                                                                          quant_type_name(type),
                                                                          quant_cpu_level_name((enum quant_cpu_level) l),
                                                                          c.k, simd[i], portable[i]);
                                                        }
                                        }
                                }
                        /* quant_dot is the one-row, one-token matmul. */
                        for (int l = 0; l <= (int) best; l++) {
                                float d;

                                quant_set_cpu_level((enum quant_cpu_level) l);
                                d = quant_dot(type, c.k, c.w + 3 * c.w_row, c.x + 2 * c.x_row);
                                CHECK(fabs(d - c.ref[2 * NROWS + 3]) <= 1e-5 * c.mag[2 * NROWS + 3] + 1e-30);
                        }
                        mm_case_free(&c);
                }
        }
        quant_set_cpu_level(best);
}

/* Activation quantization gives the same bytes at every level. */
static void test_activations_levels(void) {
        static const enum ggml_type vts[] = { GGML_TYPE_Q8_0, GGML_TYPE_Q8_1, GGML_TYPE_Q8_K, GGML_TYPE_F32 };
        enum { N = 2048 };
        static float x[N];
        static uint8_t a[N * 4], b[N * 4];
        const enum quant_cpu_level best = quant_cpu_detect();

        for (int i = 0; i < N; i++)
                x[i] = frand() * 3.0f;
        x[5] = 0.5f * 3.0f / 127.0f; /* exact ties are rounded the same everywhere */
        memset(x + 256, 0, 256 * sizeof(float)); /* an all-zero block */
        x[1000] = -7.0f;
        x[1001] = 7.0f; /* equal magnitudes: the first one sets Q8_K's sign */
        for (size_t v = 0; v < sizeof(vts) / sizeof(vts[0]); v++) {
                size_t sz;

                CHECK_RET(quant_row_size(vts[v], N, &sz), 0);
                quant_set_cpu_level(QUANT_CPU_PORTABLE);
                memset(a, 0xaa, sizeof(a));
                quantize_activations(vts[v], x, a, N);
                for (int l = 1; l <= (int) best; l++) {
                        quant_set_cpu_level((enum quant_cpu_level) l);
                        memset(b, 0x55, sizeof(b));
                        quantize_activations(vts[v], x, b, N);
                        CHECK_MSG(memcmp(a, b, sz) == 0, "%s differs at level %s", quant_type_name(vts[v]),
                                  quant_cpu_level_name((enum quant_cpu_level) l));
                }
        }
        quant_set_cpu_level(best);
}

static void test_misc(void) {
        size_t sz;

        CHECK_RET(quant_row_size(GGML_TYPE_Q4_K, 512, &sz), 0);
        CHECK(sz == 288);
        CHECK_RET(quant_row_size(GGML_TYPE_Q4_K, 100, &sz), -EINVAL);
        CHECK(strcmp(quant_type_name(GGML_TYPE_Q6_K), "Q6_K") == 0);
        CHECK(quant_set_cpu_level(QUANT_CPU_PORTABLE) == QUANT_CPU_PORTABLE);
        CHECK(quant_cpu_level() == QUANT_CPU_PORTABLE);
        CHECK(quant_set_cpu_level(QUANT_CPU_AVX512) == quant_cpu_detect());
}

int main(void) {
        printf("detected CPU level: %s\n", quant_cpu_level_name(quant_cpu_detect()));
        test_fp16();
        test_hand_q4_0();
        test_hand_q4_1();
        test_hand_q5_0();
        test_hand_q5_1();
        test_hand_q8();
        test_hand_q4_K();
        test_hand_q5_K();
        test_hand_q6_K();
        test_roundtrip();
        test_q8_K_sign();
        test_activations_levels();
        test_matmul();
        test_misc();
        printf("ok\n");
        return 0;
}
