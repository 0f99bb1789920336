/* SPDX-License-Identifier: MIT */
/*
 * Tensor types: type table, fp16/bf16 conversion, dequantization,
 * quantization and the dispatch of dot/matmul kernels to the portable,
 * AVX2 or AVX-512 implementation.
 */

#include <errno.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "quant-internal.h"

static const struct quant_type_info type_table[GGML_TYPE_COUNT] = {
        [GGML_TYPE_F32] = { "F32", 1, 4, true, GGML_TYPE_F32 },
        [GGML_TYPE_F16] = { "F16", 1, 2, true, GGML_TYPE_F32 },
        [GGML_TYPE_BF16] = { "BF16", 1, 2, true, GGML_TYPE_F32 },
        [GGML_TYPE_Q4_0] = { "Q4_0", QK4_0, sizeof(block_q4_0), true, GGML_TYPE_Q8_0 },
        [GGML_TYPE_Q4_1] = { "Q4_1", QK4_1, sizeof(block_q4_1), true, GGML_TYPE_Q8_1 },
        [GGML_TYPE_Q5_0] = { "Q5_0", QK5_0, sizeof(block_q5_0), true, GGML_TYPE_Q8_0 },
        [GGML_TYPE_Q5_1] = { "Q5_1", QK5_1, sizeof(block_q5_1), true, GGML_TYPE_Q8_1 },
        [GGML_TYPE_Q8_0] = { "Q8_0", QK8_0, sizeof(block_q8_0), true, GGML_TYPE_Q8_0 },
        [GGML_TYPE_Q8_1] = { "Q8_1", QK8_1, sizeof(block_q8_1), false, GGML_TYPE_Q8_1 },
        [GGML_TYPE_Q2_K] = { "Q2_K", QK_K, 84, false, GGML_TYPE_Q8_K },
        [GGML_TYPE_Q3_K] = { "Q3_K", QK_K, 110, false, GGML_TYPE_Q8_K },
        [GGML_TYPE_Q4_K] = { "Q4_K", QK_K, sizeof(block_q4_K), true, GGML_TYPE_Q8_K },
        [GGML_TYPE_Q5_K] = { "Q5_K", QK_K, sizeof(block_q5_K), true, GGML_TYPE_Q8_K },
        [GGML_TYPE_Q6_K] = { "Q6_K", QK_K, sizeof(block_q6_K), true, GGML_TYPE_Q8_K },
        [GGML_TYPE_Q8_K] = { "Q8_K", QK_K, sizeof(block_q8_K), false, GGML_TYPE_Q8_K },
};

const struct quant_type_info *quant_type_info(uint32_t type) {
        if (type >= GGML_TYPE_COUNT || !type_table[type].name)
                return NULL;
        return &type_table[type];
}

const char *quant_type_name(uint32_t type) {
        const struct quant_type_info *t = quant_type_info(type);
        return t ? t->name : "unknown";
}

int quant_row_size(uint32_t type, uint64_t n, size_t *ret) {
        const struct quant_type_info *t = quant_type_info(type);
        uint64_t blocks, bytes;

        if (!t || n % t->block_size != 0)
                return -EINVAL;
        blocks = n / t->block_size;
        if (MUL_OVERFLOW(blocks, (uint64_t) t->type_size, &bytes) || bytes > SIZE_MAX)
                return -EOVERFLOW;
        *ret = (size_t) bytes;
        return 0;
}

/* ---- fp16 / bf16 ---------------------------------------------------------- */

float fp16_to_fp32(ggml_half h) {
        return quant_fp16_to_fp32(h);
}

ggml_half fp32_to_fp16(float f) {
        return quant_fp32_to_fp16(f);
}

float bf16_to_fp32(ggml_bf16 h) {
        return quant_bf16_to_fp32(h);
}

ggml_bf16 fp32_to_bf16(float f) {
        return quant_fp32_to_bf16(f);
}

#define FP16(h) quant_fp16_to_fp32(h)

/* ---- dequantization (ggml's dequantize_row_*, same float operations) ------ */

static void dequant_q4_0(const block_q4_0 *x, float *y, size_t nb) {
        for (size_t i = 0; i < nb; i++) {
                const float d = FP16(x[i].d);

                for (int j = 0; j < QK4_0 / 2; j++) {
                        y[i * QK4_0 + j] = ((x[i].qs[j] & 0xf) - 8) * d;
                        y[i * QK4_0 + j + QK4_0 / 2] = ((x[i].qs[j] >> 4) - 8) * d;
                }
        }
}

static void dequant_q4_1(const block_q4_1 *x, float *y, size_t nb) {
        for (size_t i = 0; i < nb; i++) {
                const float d = FP16(x[i].d), m = FP16(x[i].m);

                for (int j = 0; j < QK4_1 / 2; j++) {
                        y[i * QK4_1 + j] = (x[i].qs[j] & 0xf) * d + m;
                        y[i * QK4_1 + j + QK4_1 / 2] = (x[i].qs[j] >> 4) * d + m;
                }
        }
}

static void dequant_q5_0(const block_q5_0 *x, float *y, size_t nb) {
        for (size_t i = 0; i < nb; i++) {
                const float d = FP16(x[i].d);
                uint32_t qh;

                memcpy(&qh, x[i].qh, 4);
                for (int j = 0; j < QK5_0 / 2; j++) {
                        /* Bit j of qh is bit 4 of element j, bit j+16 that of element j+16. */
                        const int h0 = ((qh >> j) << 4) & 0x10;
                        const int h1 = (qh >> (j + 12)) & 0x10;

                        y[i * QK5_0 + j] = (((x[i].qs[j] & 0xf) | h0) - 16) * d;
                        y[i * QK5_0 + j + QK5_0 / 2] = (((x[i].qs[j] >> 4) | h1) - 16) * d;
                }
        }
}

static void dequant_q5_1(const block_q5_1 *x, float *y, size_t nb) {
        for (size_t i = 0; i < nb; i++) {
                const float d = FP16(x[i].d), m = FP16(x[i].m);
                uint32_t qh;

                memcpy(&qh, x[i].qh, 4);
                for (int j = 0; j < QK5_1 / 2; j++) {
                        const int h0 = ((qh >> j) << 4) & 0x10;
                        const int h1 = (qh >> (j + 12)) & 0x10;

                        y[i * QK5_1 + j] = ((x[i].qs[j] & 0xf) | h0) * d + m;
                        y[i * QK5_1 + j + QK5_1 / 2] = ((x[i].qs[j] >> 4) | h1) * d + m;
                }
        }
}

static void dequant_q8_0(const block_q8_0 *x, float *y, size_t nb) {
        for (size_t i = 0; i < nb; i++) {
                const float d = FP16(x[i].d);

                for (int j = 0; j < QK8_0; j++)
                        y[i * QK8_0 + j] = x[i].qs[j] * d;
        }
}

static void dequant_q8_1(const block_q8_1 *x, float *y, size_t nb) {
        for (size_t i = 0; i < nb; i++) {
                const float d = FP16(x[i].d);

                for (int j = 0; j < QK8_1; j++)
                        y[i * QK8_1 + j] = x[i].qs[j] * d;
        }
}

static void dequant_q4_K(const block_q4_K *x, float *y, size_t nb) {
        for (size_t i = 0; i < nb; i++) {
                const uint8_t *q = x[i].qs;
                const float d = FP16(x[i].d), min = FP16(x[i].dmin);

                for (int j = 0, is = 0; j < QK_K; j += 64, is += 2, q += 32) {
                        uint8_t sc, m;
                        float d1, m1, d2, m2;

                        quant_scale_min_k4(is, x[i].scales, &sc, &m);
                        d1 = d * sc;
                        m1 = min * m;
                        quant_scale_min_k4(is + 1, x[i].scales, &sc, &m);
                        d2 = d * sc;
                        m2 = min * m;
                        for (int l = 0; l < 32; l++)
                                *y++ = d1 * (q[l] & 0xf) - m1;
                        for (int l = 0; l < 32; l++)
                                *y++ = d2 * (q[l] >> 4) - m2;
                }
        }
}

static void dequant_q5_K(const block_q5_K *x, float *y, size_t nb) {
        for (size_t i = 0; i < nb; i++) {
                const uint8_t *ql = x[i].qs, *qh = x[i].qh;
                const float d = FP16(x[i].d), min = FP16(x[i].dmin);
                uint8_t u1 = 1, u2 = 2;

                for (int j = 0, is = 0; j < QK_K; j += 64, is += 2, ql += 32) {
                        uint8_t sc, m;
                        float d1, m1, d2, m2;

                        quant_scale_min_k4(is, x[i].scales, &sc, &m);
                        d1 = d * sc;
                        m1 = min * m;
                        quant_scale_min_k4(is + 1, x[i].scales, &sc, &m);
                        d2 = d * sc;
                        m2 = min * m;
                        for (int l = 0; l < 32; l++)
                                *y++ = d1 * ((ql[l] & 0xf) + (qh[l] & u1 ? 16 : 0)) - m1;
                        for (int l = 0; l < 32; l++)
                                *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
                        u1 <<= 2;
                        u2 <<= 2;
                }
        }
}

static void dequant_q6_K(const block_q6_K *x, float *y, size_t nb) {
        for (size_t i = 0; i < nb; i++) {
                const float d = FP16(x[i].d);
                const uint8_t *ql = x[i].ql, *qh = x[i].qh;
                const int8_t *sc = x[i].scales;

                for (int n = 0; n < QK_K; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
                        for (int l = 0; l < 32; l++) {
                                int is = l / 16;
                                const int8_t q1 = (int8_t) ((ql[l + 0] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32;
                                const int8_t q2 = (int8_t) ((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32;
                                const int8_t q3 = (int8_t) ((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                                const int8_t q4 = (int8_t) ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;

                                y[l + 0] = d * sc[is + 0] * q1;
                                y[l + 32] = d * sc[is + 2] * q2;
                                y[l + 64] = d * sc[is + 4] * q3;
                                y[l + 96] = d * sc[is + 6] * q4;
                        }
                }
        }
}

static void dequant_q8_K(const block_q8_K *x, float *y, size_t nb) {
        for (size_t i = 0; i < nb; i++)
                for (int j = 0; j < QK_K; j++)
                        *y++ = x[i].d * x[i].qs[j];
}

void dequantize_row(enum ggml_type type, const void *src, float *dst, size_t n) {
        const struct quant_type_info *t = quant_type_info(type);
        size_t nb;

        if (!t)
                return;
        nb = n / t->block_size;
        switch (type) {
        case GGML_TYPE_F32:
                memcpy(dst, src, n * sizeof(float));
                break;
        case GGML_TYPE_F16:
                for (size_t i = 0; i < n; i++)
                        dst[i] = FP16(((const uint16_t *) src)[i]);
                break;
        case GGML_TYPE_BF16:
                for (size_t i = 0; i < n; i++)
                        dst[i] = quant_bf16_to_fp32(((const uint16_t *) src)[i]);
                break;
        case GGML_TYPE_Q4_0: dequant_q4_0(src, dst, nb); break;
        case GGML_TYPE_Q4_1: dequant_q4_1(src, dst, nb); break;
        case GGML_TYPE_Q5_0: dequant_q5_0(src, dst, nb); break;
        case GGML_TYPE_Q5_1: dequant_q5_1(src, dst, nb); break;
        case GGML_TYPE_Q8_0: dequant_q8_0(src, dst, nb); break;
        case GGML_TYPE_Q8_1: dequant_q8_1(src, dst, nb); break;
        case GGML_TYPE_Q4_K: dequant_q4_K(src, dst, nb); break;
        case GGML_TYPE_Q5_K: dequant_q5_K(src, dst, nb); break;
        case GGML_TYPE_Q6_K: dequant_q6_K(src, dst, nb); break;
        case GGML_TYPE_Q8_K: dequant_q8_K(src, dst, nb); break;
        default:
                /* Q2_K/Q3_K: known layout, no kernels; callers check .supported. */
                memset(dst, 0, n * sizeof(float));
                break;
        }
}

/* ---- reference quantization (ggml's quantize_row_*_ref) ------------------- */

static void quant_ref_q4_0(const float *x, block_q4_0 *y, size_t nb) {
        for (size_t i = 0; i < nb; i++, x += QK4_0) {
                float amax = 0.0f, max = 0.0f, d, id;

                for (int j = 0; j < QK4_0; j++)
                        if (amax < fabsf(x[j])) {
                                amax = fabsf(x[j]);
                                max = x[j];
                        }
                d = max / -8;
                id = d ? 1.0f / d : 0.0f;
                y[i].d = quant_fp32_to_fp16(d);
                for (int j = 0; j < QK4_0 / 2; j++) {
                        const uint8_t q0 = MIN(15, (int8_t) (x[j] * id + 8.5f));
                        const uint8_t q1 = MIN(15, (int8_t) (x[j + QK4_0 / 2] * id + 8.5f));

                        y[i].qs[j] = q0 | (q1 << 4);
                }
        }
}

static void quant_ref_q4_1(const float *x, block_q4_1 *y, size_t nb) {
        for (size_t i = 0; i < nb; i++, x += QK4_1) {
                float min = FLT_MAX, max = -FLT_MAX, d, id;

                for (int j = 0; j < QK4_1; j++) {
                        if (x[j] < min)
                                min = x[j];
                        if (x[j] > max)
                                max = x[j];
                }
                d = (max - min) / 15;
                id = d ? 1.0f / d : 0.0f;
                y[i].d = quant_fp32_to_fp16(d);
                y[i].m = quant_fp32_to_fp16(min);
                for (int j = 0; j < QK4_1 / 2; j++) {
                        const uint8_t q0 = MIN(15, (int8_t) ((x[j] - min) * id + 0.5f));
                        const uint8_t q1 = MIN(15, (int8_t) ((x[j + QK4_1 / 2] - min) * id + 0.5f));

                        y[i].qs[j] = q0 | (q1 << 4);
                }
        }
}

static void quant_ref_q5_0(const float *x, block_q5_0 *y, size_t nb) {
        for (size_t i = 0; i < nb; i++, x += QK5_0) {
                float amax = 0.0f, max = 0.0f, d, id;
                uint32_t qh = 0;

                for (int j = 0; j < QK5_0; j++)
                        if (amax < fabsf(x[j])) {
                                amax = fabsf(x[j]);
                                max = x[j];
                        }
                d = max / -16;
                id = d ? 1.0f / d : 0.0f;
                y[i].d = quant_fp32_to_fp16(d);
                for (int j = 0; j < QK5_0 / 2; j++) {
                        const uint8_t q0 = MIN(31, (int8_t) (x[j] * id + 16.5f));
                        const uint8_t q1 = MIN(31, (int8_t) (x[j + QK5_0 / 2] * id + 16.5f));

                        y[i].qs[j] = (q0 & 0xf) | ((q1 & 0xf) << 4);
                        qh |= ((q0 & 0x10u) >> 4) << j;
                        qh |= ((q1 & 0x10u) >> 4) << (j + QK5_0 / 2);
                }
                memcpy(y[i].qh, &qh, 4);
        }
}

static void quant_ref_q5_1(const float *x, block_q5_1 *y, size_t nb) {
        for (size_t i = 0; i < nb; i++, x += QK5_1) {
                float min = FLT_MAX, max = -FLT_MAX, d, id;
                uint32_t qh = 0;

                for (int j = 0; j < QK5_1; j++) {
                        if (x[j] < min)
                                min = x[j];
                        if (x[j] > max)
                                max = x[j];
                }
                d = (max - min) / 31;
                id = d ? 1.0f / d : 0.0f;
                y[i].d = quant_fp32_to_fp16(d);
                y[i].m = quant_fp32_to_fp16(min);
                for (int j = 0; j < QK5_1 / 2; j++) {
                        const uint8_t q0 = (uint8_t) ((x[j] - min) * id + 0.5f);
                        const uint8_t q1 = (uint8_t) ((x[j + QK5_1 / 2] - min) * id + 0.5f);

                        y[i].qs[j] = (q0 & 0xf) | ((q1 & 0xf) << 4);
                        qh |= ((q0 & 0x10u) >> 4) << j;
                        qh |= ((q1 & 0x10u) >> 4) << (j + QK5_1 / 2);
                }
                memcpy(y[i].qh, &qh, 4);
        }
}

static void quant_ref_q8_0(const float *x, block_q8_0 *y, size_t nb) {
        for (size_t i = 0; i < nb; i++, x += QK8_0) {
                float amax = 0.0f, d, id;

                for (int j = 0; j < QK8_0; j++)
                        amax = MAX(amax, fabsf(x[j]));
                d = amax / 127;
                id = d ? 1.0f / d : 0.0f;
                y[i].d = quant_fp32_to_fp16(d);
                for (int j = 0; j < QK8_0; j++)
                        y[i].qs[j] = (int8_t) roundf(x[j] * id);
        }
}

static void quant_ref_q8_1(const float *x, block_q8_1 *y, size_t nb) {
        for (size_t i = 0; i < nb; i++, x += QK8_1) {
                float amax = 0.0f, d, id;
                int sum = 0;

                for (int j = 0; j < QK8_1; j++)
                        amax = MAX(amax, fabsf(x[j]));
                d = amax / 127;
                id = d ? 1.0f / d : 0.0f;
                y[i].d = quant_fp32_to_fp16(d);
                for (int j = 0; j < QK8_1; j++) {
                        y[i].qs[j] = (int8_t) roundf(x[j] * id);
                        sum += y[i].qs[j];
                }
                y[i].s = quant_fp32_to_fp16(sum * d);
        }
}

/* ggml's make_qkx2_quants: scale and min of a group of n values for levels
 * 0..nmax, minimising the weighted error over nstep+1 trial scales. */
static float make_qkx2_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                              float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep) {
        float min = x[0], max = x[0];
        float sum_w = weights[0], sum_x = sum_w * x[0];
        float iscale, scale, best_error = 0;

        for (int i = 1; i < n; i++) {
                if (x[i] < min)
                        min = x[i];
                if (x[i] > max)
                        max = x[i];
                sum_w += weights[i];
                sum_x += weights[i] * x[i];
        }
        if (min > 0)
                min = 0;
        if (max == min) {
                memset(L, 0, n);
                *the_min = -min;
                return 0.f;
        }
        iscale = nmax / (max - min);
        scale = 1 / iscale;
        for (int i = 0; i < n; i++) {
                int l = quant_nearest_int(iscale * (x[i] - min));
                float diff;

                L[i] = MAX(0, MIN(nmax, l));
                diff = scale * L[i] + min - x[i];
                best_error += weights[i] * diff * diff;
        }
        for (int is = 0; is <= nstep; is++) {
                float sum_l = 0, sum_l2 = 0, sum_xl = 0, D;

                iscale = (rmin + rdelta * is + nmax) / (max - min);
                for (int i = 0; i < n; i++) {
                        int l = quant_nearest_int(iscale * (x[i] - min));
                        float w = weights[i];

                        l = MAX(0, MIN(nmax, l));
                        Laux[i] = l;
                        sum_l += w * l;
                        sum_l2 += w * l * l;
                        sum_xl += w * l * x[i];
                }
                D = sum_w * sum_l2 - sum_l * sum_l;
                if (D > 0) {
                        float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
                        float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
                        float cur_error = 0;

                        if (this_min > 0) {
                                this_min = 0;
                                this_scale = sum_xl / sum_l2;
                        }
                        for (int i = 0; i < n; i++) {
                                float diff = this_scale * Laux[i] + this_min - x[i];

                                cur_error += weights[i] * diff * diff;
                        }
                        if (cur_error < best_error) {
                                memcpy(L, Laux, n);
                                best_error = cur_error;
                                scale = this_scale;
                                min = this_min;
                        }
                }
        }
        *the_min = -min;
        return scale;
}

/* ggml's make_qx_quants with rmse_type 1 and no importance weights (what
 * quantize_row_q6_K_ref uses): symmetric levels -nmax..nmax-1. */
static float make_qx_quants(int n, int nmax, const float *x, int8_t *L) {
        float max = 0, amax = 0, iscale, sumlx = 0, suml2 = 0, scale, best;

        for (int i = 0; i < n; i++) {
                float ax = fabsf(x[i]);

                if (ax > amax) {
                        amax = ax;
                        max = x[i];
                }
        }
        if (amax < 1e-15f) { /* GROUP_MAX_EPS */
                memset(L, 0, n);
                return 0.f;
        }
        iscale = -nmax / max;
        for (int i = 0; i < n; i++) {
                int l = quant_nearest_int(iscale * x[i]);
                float w = x[i] * x[i];

                l = MAX(-nmax, MIN(nmax - 1, l));
                L[i] = l + nmax;
                sumlx += w * x[i] * l;
                suml2 += w * l * l;
        }
        scale = suml2 ? sumlx / suml2 : 0.0f;
        best = scale * sumlx;
        for (int is = -9; is <= 9; is++) {
                if (is == 0)
                        continue;
                iscale = -(nmax + 0.1f * is) / max;
                sumlx = suml2 = 0;
                for (int i = 0; i < n; i++) {
                        int l = quant_nearest_int(iscale * x[i]);
                        float w = x[i] * x[i];

                        l = MAX(-nmax, MIN(nmax - 1, l));
                        sumlx += w * x[i] * l;
                        suml2 += w * l * l;
                }
                if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                        for (int i = 0; i < n; i++) {
                                int l = quant_nearest_int(iscale * x[i]);

                                L[i] = nmax + MAX(-nmax, MIN(nmax - 1, l));
                        }
                        scale = sumlx / suml2;
                        best = scale * sumlx;
                }
        }
        return scale;
}

/* Packs the 8 six-bit scales and mins of a Q4_K/Q5_K block. */
static void pack_scales_k4(const float *scales, const float *mins, float max_scale, float max_min,
                           uint8_t out[K_SCALE_SIZE]) {
        float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
        float inv_min = max_min > 0 ? 63.f / max_min : 0.f;

        for (int j = 0; j < QK_K / 32; j++) {
                uint8_t ls = quant_nearest_int(inv_scale * scales[j]);
                uint8_t lm = quant_nearest_int(inv_min * mins[j]);

                ls = MIN(63, ls);
                lm = MIN(63, lm);
                if (j < 4) {
                        out[j] = ls;
                        out[j + 4] = lm;
                } else {
                        out[j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
                        out[j - 4] |= (ls >> 4) << 6;
                        out[j - 0] |= (lm >> 4) << 6;
                }
        }
}

/* Shared by Q4_K (nmax 15) and Q5_K (nmax 31): sub-block scales/mins, then
 * the final levels against the 6-bit quantized scales. */
static void quant_ref_k4(const float *x, int nmax, float rmin, int nstep, uint8_t scales_out[K_SCALE_SIZE],
                         ggml_half *d_out, ggml_half *dmin_out, uint8_t L[QK_K]) {
        uint8_t Laux[32];
        float weights[32], mins[QK_K / 32], scales[QK_K / 32];
        float max_scale = 0, max_min = 0, dd, dm;

        for (int j = 0; j < QK_K / 32; j++) {
                float sum_x2 = 0, av_x;

                for (int l = 0; l < 32; l++)
                        sum_x2 += x[32 * j + l] * x[32 * j + l];
                av_x = sqrtf(sum_x2 / 32);
                for (int l = 0; l < 32; l++)
                        weights[l] = av_x + fabsf(x[32 * j + l]);
                scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux,
                                             rmin, 0.1f, nstep);
                if (scales[j] > max_scale)
                        max_scale = scales[j];
                if (mins[j] > max_min)
                        max_min = mins[j];
        }
        memset(scales_out, 0, K_SCALE_SIZE);
        pack_scales_k4(scales, mins, max_scale, max_min, scales_out);
        *d_out = quant_fp32_to_fp16(max_scale / 63.f);
        *dmin_out = quant_fp32_to_fp16(max_min / 63.f);
        dd = FP16(*d_out);
        dm = FP16(*dmin_out);
        for (int j = 0; j < QK_K / 32; j++) {
                uint8_t sc, m;
                float d, mm;

                quant_scale_min_k4(j, scales_out, &sc, &m);
                d = dd * sc;
                if (!d)
                        continue;
                mm = dm * m;
                for (int ii = 0; ii < 32; ii++) {
                        int l = quant_nearest_int((x[32 * j + ii] + mm) / d);

                        L[32 * j + ii] = MAX(0, MIN(nmax, l));
                }
        }
}

static void quant_ref_q4_K(const float *x, block_q4_K *y, size_t nb) {
        for (size_t i = 0; i < nb; i++, x += QK_K) {
                uint8_t L[QK_K];
                uint8_t *q = y[i].qs;

                quant_ref_k4(x, 15, -1.f, 20, y[i].scales, &y[i].d, &y[i].dmin, L);
                for (int j = 0; j < QK_K; j += 64, q += 32)
                        for (int l = 0; l < 32; l++)
                                q[l] = L[j + l] | (L[j + l + 32] << 4);
        }
}

static void quant_ref_q5_K(const float *x, block_q5_K *y, size_t nb) {
        for (size_t i = 0; i < nb; i++, x += QK_K) {
                uint8_t L[QK_K];
                uint8_t *qh = y[i].qh, *ql = y[i].qs;
                uint8_t m1 = 1, m2 = 2;

                quant_ref_k4(x, 31, -0.5f, 15, y[i].scales, &y[i].d, &y[i].dmin, L);
                memset(qh, 0, QK_K / 8);
                for (int n = 0; n < QK_K; n += 64, ql += 32) {
                        for (int j = 0; j < 32; j++) {
                                int l1 = L[n + j], l2 = L[n + j + 32];

                                if (l1 > 15) {
                                        l1 -= 16;
                                        qh[j] |= m1;
                                }
                                if (l2 > 15) {
                                        l2 -= 16;
                                        qh[j] |= m2;
                                }
                                ql[j] = l1 | (l2 << 4);
                        }
                        m1 <<= 2;
                        m2 <<= 2;
                }
        }
}

static void quant_ref_q6_K(const float *x, block_q6_K *y, size_t nb) {
        for (size_t i = 0; i < nb; i++, x += QK_K) {
                int8_t L[QK_K];
                float scales[QK_K / 16];
                float max_scale = 0, max_abs_scale = 0, iscale, dd;
                uint8_t *ql = y[i].ql, *qh = y[i].qh;

                for (int ib = 0; ib < QK_K / 16; ib++) {
                        scales[ib] = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib);
                        if (fabsf(scales[ib]) > max_abs_scale) {
                                max_abs_scale = fabsf(scales[ib]);
                                max_scale = scales[ib];
                        }
                }
                if (max_abs_scale < 1e-15f) {
                        memset(&y[i], 0, sizeof(y[i]));
                        continue;
                }
                iscale = -128.f / max_scale;
                y[i].d = quant_fp32_to_fp16(1 / iscale);
                for (int ib = 0; ib < QK_K / 16; ib++)
                        y[i].scales[ib] = MIN(127, quant_nearest_int(iscale * scales[ib]));
                dd = FP16(y[i].d);
                for (int j = 0; j < QK_K / 16; j++) {
                        float d = dd * y[i].scales[j];

                        if (!d)
                                continue;
                        for (int ii = 0; ii < 16; ii++) {
                                int l = quant_nearest_int(x[16 * j + ii] / d);

                                L[16 * j + ii] = MAX(-32, MIN(31, l)) + 32;
                        }
                }
                for (int j = 0; j < QK_K; j += 128, ql += 64, qh += 32) {
                        for (int l = 0; l < 32; l++) {
                                const uint8_t q1 = L[j + l + 0] & 0xf, q2 = L[j + l + 32] & 0xf;
                                const uint8_t q3 = L[j + l + 64] & 0xf, q4 = L[j + l + 96] & 0xf;

                                ql[l + 0] = q1 | (q3 << 4);
                                ql[l + 32] = q2 | (q4 << 4);
                                qh[l] = (L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                                        ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6);
                        }
                }
        }
}

/* Reference Q8_K (quantize_row_q8_K_ref): the scale's sign follows the value
 * of largest magnitude, so that value maps to -127 exactly. */
static void quant_ref_q8_K(const float *x, block_q8_K *y, size_t nb) {
        for (size_t i = 0; i < nb; i++, x += QK_K) {
                float max = 0, amax = 0, iscale;

                for (int j = 0; j < QK_K; j++)
                        if (fabsf(x[j]) > amax) {
                                amax = fabsf(x[j]);
                                max = x[j];
                        }
                if (!amax) {
                        y[i].d = 0;
                        memset(y[i].qs, 0, QK_K);
                        memset(y[i].bsums, 0, sizeof(y[i].bsums));
                        continue;
                }
                iscale = -127.f / max;
                for (int j = 0; j < QK_K; j++) {
                        int v = quant_nearest_int(iscale * x[j]);

                        y[i].qs[j] = MIN(127, v);
                }
                for (int j = 0; j < QK_K / 16; j++) {
                        int sum = 0;

                        for (int ii = 0; ii < 16; ii++)
                                sum += y[i].qs[j * 16 + ii];
                        y[i].bsums[j] = sum;
                }
                y[i].d = 1 / iscale;
        }
}

void quantize_row(enum ggml_type type, const float *src, void *dst, size_t n) {
        const struct quant_type_info *t = quant_type_info(type);
        size_t nb;

        if (!t)
                return;
        nb = n / t->block_size;
        switch (type) {
        case GGML_TYPE_F32:
                memcpy(dst, src, n * sizeof(float));
                break;
        case GGML_TYPE_F16:
                for (size_t i = 0; i < n; i++)
                        ((uint16_t *) dst)[i] = quant_fp32_to_fp16(src[i]);
                break;
        case GGML_TYPE_BF16:
                for (size_t i = 0; i < n; i++)
                        ((uint16_t *) dst)[i] = quant_fp32_to_bf16(src[i]);
                break;
        case GGML_TYPE_Q4_0: quant_ref_q4_0(src, dst, nb); break;
        case GGML_TYPE_Q4_1: quant_ref_q4_1(src, dst, nb); break;
        case GGML_TYPE_Q5_0: quant_ref_q5_0(src, dst, nb); break;
        case GGML_TYPE_Q5_1: quant_ref_q5_1(src, dst, nb); break;
        case GGML_TYPE_Q8_0: quant_ref_q8_0(src, dst, nb); break;
        case GGML_TYPE_Q8_1: quant_ref_q8_1(src, dst, nb); break;
        case GGML_TYPE_Q4_K: quant_ref_q4_K(src, dst, nb); break;
        case GGML_TYPE_Q5_K: quant_ref_q5_K(src, dst, nb); break;
        case GGML_TYPE_Q6_K: quant_ref_q6_K(src, dst, nb); break;
        case GGML_TYPE_Q8_K: quant_ref_q8_K(src, dst, nb); break;
        default:
                break;
        }
}

/* ---- portable activation quantization ------------------------------------ */

/* Like the reference, but rounding half to even as the SIMD paths do
 * (cvtps2dq), so every CPU level produces the same bytes. */
static void act_q8_0(const float *x, void *vy, size_t n) {
        block_q8_0 *y = vy;

        for (size_t i = 0; i < n / QK8_0; i++, x += QK8_0) {
                float amax = 0.0f, d, id;

                for (int j = 0; j < QK8_0; j++)
                        amax = MAX(amax, fabsf(x[j]));
                d = amax / 127;
                id = d ? 1.0f / d : 0.0f;
                y[i].d = quant_fp32_to_fp16(d);
                for (int j = 0; j < QK8_0; j++)
                        y[i].qs[j] = (int8_t) quant_nearest_int(x[j] * id);
        }
}

static void act_q8_1(const float *x, void *vy, size_t n) {
        block_q8_1 *y = vy;

        for (size_t i = 0; i < n / QK8_1; i++, x += QK8_1) {
                float amax = 0.0f, d, id;
                int sum = 0;

                for (int j = 0; j < QK8_1; j++)
                        amax = MAX(amax, fabsf(x[j]));
                d = amax / 127;
                id = d ? 1.0f / d : 0.0f;
                y[i].d = quant_fp32_to_fp16(d);
                for (int j = 0; j < QK8_1; j++) {
                        y[i].qs[j] = (int8_t) quant_nearest_int(x[j] * id);
                        sum += y[i].qs[j];
                }
                y[i].s = quant_fp32_to_fp16(sum * d);
        }
}

static void act_q8_K(const float *x, void *y, size_t n) {
        quant_ref_q8_K(x, y, n / QK_K);
}

static void act_f32(const float *x, void *y, size_t n) {
        memcpy(y, x, n * sizeof(float));
}

/* ---- portable dot products (ggml's generic vec_dot, same integer math) ---- */

static float dot_q4_0(size_t nb, const block_q4_0 *x, const block_q8_0 *y) {
        float sumf = 0;

        for (size_t i = 0; i < nb; i++) {
                int sumi = 0;

                for (int j = 0; j < QK4_0 / 2; j++)
                        sumi += ((x[i].qs[j] & 0xf) - 8) * y[i].qs[j] +
                                ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + QK4_0 / 2];
                sumf += sumi * FP16(x[i].d) * FP16(y[i].d);
        }
        return sumf;
}

static float dot_q4_1(size_t nb, const block_q4_1 *x, const block_q8_1 *y) {
        float sumf = 0;

        for (size_t i = 0; i < nb; i++) {
                int sumi = 0;

                for (int j = 0; j < QK4_1 / 2; j++)
                        sumi += (x[i].qs[j] & 0xf) * y[i].qs[j] + (x[i].qs[j] >> 4) * y[i].qs[j + QK4_1 / 2];
                sumf += (FP16(x[i].d) * FP16(y[i].d)) * sumi + FP16(x[i].m) * FP16(y[i].s);
        }
        return sumf;
}

static float dot_q5_0(size_t nb, const block_q5_0 *x, const block_q8_0 *y) {
        float sumf = 0;

        for (size_t i = 0; i < nb; i++) {
                uint32_t qh;
                int sumi = 0;

                memcpy(&qh, x[i].qh, 4);
                for (int j = 0; j < QK5_0 / 2; j++) {
                        const int h0 = ((qh >> j) << 4) & 0x10;
                        const int h1 = (qh >> (j + 12)) & 0x10;

                        sumi += (((x[i].qs[j] & 0xf) | h0) - 16) * y[i].qs[j] +
                                (((x[i].qs[j] >> 4) | h1) - 16) * y[i].qs[j + QK5_0 / 2];
                }
                sumf += sumi * FP16(x[i].d) * FP16(y[i].d);
        }
        return sumf;
}

static float dot_q5_1(size_t nb, const block_q5_1 *x, const block_q8_1 *y) {
        float sumf = 0;

        for (size_t i = 0; i < nb; i++) {
                uint32_t qh;
                int sumi = 0;

                memcpy(&qh, x[i].qh, 4);
                for (int j = 0; j < QK5_1 / 2; j++) {
                        const int h0 = ((qh >> j) << 4) & 0x10;
                        const int h1 = (qh >> (j + 12)) & 0x10;

                        sumi += ((x[i].qs[j] & 0xf) | h0) * y[i].qs[j] +
                                ((x[i].qs[j] >> 4) | h1) * y[i].qs[j + QK5_1 / 2];
                }
                sumf += (FP16(x[i].d) * FP16(y[i].d)) * sumi + FP16(x[i].m) * FP16(y[i].s);
        }
        return sumf;
}

static float dot_q8_0(size_t nb, const block_q8_0 *x, const block_q8_0 *y) {
        float sumf = 0;

        for (size_t i = 0; i < nb; i++) {
                int sumi = 0;

                for (int j = 0; j < QK8_0; j++)
                        sumi += x[i].qs[j] * y[i].qs[j];
                sumf += sumi * (FP16(x[i].d) * FP16(y[i].d));
        }
        return sumf;
}

/* Σ_j sc_j Σ q·y and the min term Σ_j m_j (bsum_2j + bsum_2j+1) of a
 * Q4_K/Q5_K block whose levels (0..31) are already unpacked in q. */
static float dot_k4_block(const uint8_t q[QK_K], const uint8_t *scales, float d, float dmin,
                          const block_q8_K *y) {
        int sumi = 0, summ = 0;

        for (int j = 0; j < QK_K / 32; j++) {
                uint8_t sc, m;
                int s = 0;

                quant_scale_min_k4(j, scales, &sc, &m);
                for (int l = 0; l < 32; l++)
                        s += q[32 * j + l] * y->qs[32 * j + l];
                sumi += sc * s;
                summ += m * (y->bsums[2 * j] + y->bsums[2 * j + 1]);
        }
        return d * y->d * sumi - dmin * y->d * summ;
}

static float dot_q4_K(size_t nb, const block_q4_K *x, const block_q8_K *y) {
        float sumf = 0;

        for (size_t i = 0; i < nb; i++) {
                uint8_t q[QK_K];

                for (int j = 0; j < QK_K / 64; j++)
                        for (int l = 0; l < 32; l++) {
                                q[64 * j + l] = x[i].qs[32 * j + l] & 0xf;
                                q[64 * j + 32 + l] = x[i].qs[32 * j + l] >> 4;
                        }
                sumf += dot_k4_block(q, x[i].scales, FP16(x[i].d), FP16(x[i].dmin), &y[i]);
        }
        return sumf;
}

static float dot_q5_K(size_t nb, const block_q5_K *x, const block_q8_K *y) {
        float sumf = 0;

        for (size_t i = 0; i < nb; i++) {
                uint8_t q[QK_K];

                for (int j = 0; j < QK_K / 64; j++)
                        for (int l = 0; l < 32; l++) {
                                const uint8_t h = x[i].qh[l];

                                q[64 * j + l] = (x[i].qs[32 * j + l] & 0xf) | (((h >> (2 * j)) & 1) << 4);
                                q[64 * j + 32 + l] = (x[i].qs[32 * j + l] >> 4) | (((h >> (2 * j + 1)) & 1) << 4);
                        }
                sumf += dot_k4_block(q, x[i].scales, FP16(x[i].d), FP16(x[i].dmin), &y[i]);
        }
        return sumf;
}

static float dot_q6_K(size_t nb, const block_q6_K *x, const block_q8_K *y) {
        float sumf = 0;

        for (size_t i = 0; i < nb; i++) {
                int8_t q[QK_K];
                const uint8_t *ql = x[i].ql, *qh = x[i].qh;
                int sumi = 0;

                for (int n = 0; n < QK_K; n += 128, ql += 64, qh += 32)
                        for (int l = 0; l < 32; l++) {
                                q[n + l + 0] = (int8_t) ((ql[l + 0] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32;
                                q[n + l + 32] = (int8_t) ((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32;
                                q[n + l + 64] = (int8_t) ((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                                q[n + l + 96] = (int8_t) ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                        }
                for (int j = 0; j < QK_K / 16; j++) {
                        int s = 0;

                        for (int l = 0; l < 16; l++)
                                s += q[16 * j + l] * y[i].qs[16 * j + l];
                        sumi += x[i].scales[j] * s;
                }
                sumf += FP16(x[i].d) * y[i].d * sumi;
        }
        return sumf;
}

static float dot_f32(size_t k, const float *w, const float *x) {
        float sum = 0;

        for (size_t i = 0; i < k; i++)
                sum += w[i] * x[i];
        return sum;
}

static float dot_f16(size_t k, const uint16_t *w, const float *x) {
        float sum = 0;

        for (size_t i = 0; i < k; i++)
                sum += FP16(w[i]) * x[i];
        return sum;
}

static float dot_bf16(size_t k, const uint16_t *w, const float *x) {
        float sum = 0;

        for (size_t i = 0; i < k; i++)
                sum += quant_bf16_to_fp32(w[i]) * x[i];
        return sum;
}

static float dot_portable(enum ggml_type type, size_t k, const void *w, const void *x) {
        switch (type) {
        case GGML_TYPE_F32: return dot_f32(k, w, x);
        case GGML_TYPE_F16: return dot_f16(k, w, x);
        case GGML_TYPE_BF16: return dot_bf16(k, w, x);
        case GGML_TYPE_Q4_0: return dot_q4_0(k / QK4_0, w, x);
        case GGML_TYPE_Q4_1: return dot_q4_1(k / QK4_1, w, x);
        case GGML_TYPE_Q5_0: return dot_q5_0(k / QK5_0, w, x);
        case GGML_TYPE_Q5_1: return dot_q5_1(k / QK5_1, w, x);
        case GGML_TYPE_Q8_0: return dot_q8_0(k / QK8_0, w, x);
        case GGML_TYPE_Q4_K: return dot_q4_K(k / QK_K, w, x);
        case GGML_TYPE_Q5_K: return dot_q5_K(k / QK_K, w, x);
        case GGML_TYPE_Q6_K: return dot_q6_K(k / QK_K, w, x);
        default: return 0.0f;
        }
}

#define DEFINE_PORTABLE_MATMUL(T)                                                                   \
        static void matmul_portable_##T(size_t k, const void *w, size_t w_row_bytes, size_t r0,   \
                                        size_t r1, const void *x, size_t x_row_bytes, size_t nt,  \
                                        float *y, size_t ldy) {                                   \
                for (size_t r = r0; r < r1; r++)                                                  \
                        for (size_t t = 0; t < nt; t++)                                           \
                                y[t * ldy + r] = dot_portable(GGML_TYPE_##T, k,                   \
                                                              (const uint8_t *) w + r * w_row_bytes, \
                                                              (const uint8_t *) x + t * x_row_bytes); \
        }
DEFINE_PORTABLE_MATMUL(F32)
DEFINE_PORTABLE_MATMUL(F16)
DEFINE_PORTABLE_MATMUL(BF16)
DEFINE_PORTABLE_MATMUL(Q4_0)
DEFINE_PORTABLE_MATMUL(Q4_1)
DEFINE_PORTABLE_MATMUL(Q5_0)
DEFINE_PORTABLE_MATMUL(Q5_1)
DEFINE_PORTABLE_MATMUL(Q8_0)
DEFINE_PORTABLE_MATMUL(Q4_K)
DEFINE_PORTABLE_MATMUL(Q5_K)
DEFINE_PORTABLE_MATMUL(Q6_K)

/* ---- dispatch ------------------------------------------------------------- */

static struct quant_kernels kernel_tables[3];
static pthread_once_t kernels_once = PTHREAD_ONCE_INIT;
static enum quant_cpu_level cpu_detected;
static int cpu_level_active = -1; /* atomic; -1 until first use */

#ifdef UNICORN_X86_64
#include <cpuid.h>
static bool cpu_has_f16c(void) {
        unsigned a, b, c, d;
        return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C);
}
#endif

static void kernels_init(void) {
        struct quant_kernels *p = &kernel_tables[QUANT_CPU_PORTABLE];

        p->matmul[GGML_TYPE_F32] = matmul_portable_F32;
        p->matmul[GGML_TYPE_F16] = matmul_portable_F16;
        p->matmul[GGML_TYPE_BF16] = matmul_portable_BF16;
        p->matmul[GGML_TYPE_Q4_0] = matmul_portable_Q4_0;
        p->matmul[GGML_TYPE_Q4_1] = matmul_portable_Q4_1;
        p->matmul[GGML_TYPE_Q5_0] = matmul_portable_Q5_0;
        p->matmul[GGML_TYPE_Q5_1] = matmul_portable_Q5_1;
        p->matmul[GGML_TYPE_Q8_0] = matmul_portable_Q8_0;
        p->matmul[GGML_TYPE_Q4_K] = matmul_portable_Q4_K;
        p->matmul[GGML_TYPE_Q5_K] = matmul_portable_Q5_K;
        p->matmul[GGML_TYPE_Q6_K] = matmul_portable_Q6_K;
        p->act[GGML_TYPE_Q8_0] = act_q8_0;
        p->act[GGML_TYPE_Q8_1] = act_q8_1;
        p->act[GGML_TYPE_Q8_K] = act_q8_K;
        p->act[GGML_TYPE_F32] = act_f32;

        cpu_detected = QUANT_CPU_PORTABLE;
#ifdef UNICORN_X86_64
        /* clang 14's __builtin_cpu_supports() does not know "f16c": ask CPUID (leaf 1, ECX bit 29). */
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c()) {
                cpu_detected = QUANT_CPU_AVX2;
                if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                    __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
                        cpu_detected = QUANT_CPU_AVX512;
        }
        /* Each level starts as a copy of the one below, so a kernel a level
         * lacks falls back to the best one it can run. */
        kernel_tables[QUANT_CPU_AVX2] = *p;
        quant_kernels_avx2(&kernel_tables[QUANT_CPU_AVX2]);
        kernel_tables[QUANT_CPU_AVX512] = kernel_tables[QUANT_CPU_AVX2];
        quant_kernels_avx512(&kernel_tables[QUANT_CPU_AVX512], __builtin_cpu_supports("avx512vnni"));
#else
        kernel_tables[1] = kernel_tables[2] = *p;
#endif
}

static enum quant_cpu_level level_from_env(enum quant_cpu_level best) {
        const char *e = secure_getenv("UNICORN_CPU_LEVEL");

        if (!e)
                return best;
        if (strcmp(e, "portable") == 0)
                return QUANT_CPU_PORTABLE;
        if (strcmp(e, "avx2") == 0)
                return MIN(best, QUANT_CPU_AVX2);
        return best; /* "avx512" or anything else: no cap below what we have */
}

enum quant_cpu_level quant_cpu_detect(void) {
        pthread_once(&kernels_once, kernels_init);
        return cpu_detected;
}

enum quant_cpu_level quant_cpu_level(void) {
        int l = __atomic_load_n(&cpu_level_active, __ATOMIC_ACQUIRE);

        if (_unlikely_(l < 0)) {
                l = level_from_env(quant_cpu_detect());
                __atomic_store_n(&cpu_level_active, l, __ATOMIC_RELEASE);
        }
        return (enum quant_cpu_level) l;
}

enum quant_cpu_level quant_set_cpu_level(enum quant_cpu_level level) {
        enum quant_cpu_level best = quant_cpu_detect();
        int l = MIN((int) level, (int) best);

        if (l < 0)
                l = 0;
        __atomic_store_n(&cpu_level_active, l, __ATOMIC_RELEASE);
        return (enum quant_cpu_level) l;
}

const char *quant_cpu_level_name(enum quant_cpu_level level) {
        switch (level) {
        case QUANT_CPU_PORTABLE: return "portable";
        case QUANT_CPU_AVX2: return "avx2";
        case QUANT_CPU_AVX512: return "avx512";
        }
        return "unknown";
}

static inline const struct quant_kernels *kernels(void) {
        /* quant_cpu_level() has run pthread_once, so the tables are built. */
        return &kernel_tables[quant_cpu_level()];
}

void quantize_activations(enum ggml_type vec_dot_type, const float *src, void *dst, size_t n) {
        quant_act_fn f = (unsigned) vec_dot_type < GGML_TYPE_COUNT ? kernels()->act[vec_dot_type] : NULL;

        if (f)
                f(src, dst, n);
        else
                quantize_row(vec_dot_type, src, dst, n);
}

void quant_matmul(enum ggml_type type, size_t k, const void *w, size_t w_row_bytes, size_t r0, size_t r1,
                  const void *x, size_t x_row_bytes, size_t nt, float *y, size_t ldy) {
        quant_matmul_fn f = (unsigned) type < GGML_TYPE_COUNT ? kernels()->matmul[type] : NULL;

        if (!f || r0 >= r1 || nt == 0)
                return;
        f(k, w, w_row_bytes, r0, r1, x, x_row_bytes, nt, y, ldy);
}

float quant_dot(enum ggml_type type, size_t k, const void *w_row, const void *x) {
        float y = 0.0f;

        quant_matmul(type, k, w_row, 0, 0, 1, x, 0, 1, &y, 1);
        return y;
}
