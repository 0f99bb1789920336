/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Tensor types with the exact GGUF (ggml) block layouts, so a GGUF from
 * anywhere loads unchanged: dequantization, quantization (activations and
 * offline model conversion), and dot products / matrix products between a
 * quantized weight row and quantized activations.
 *
 * SIMD: every kernel has a portable C path, and AVX2 and AVX-512 paths
 * chosen at run time (quant_cpu_level). All paths give the same result within
 * the tolerance stated in tests/unit/test-quant.c.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macros.h"

/* ggml's type ids, as stored in GGUF tensor infos. */
enum ggml_type {
        GGML_TYPE_F32 = 0,
        GGML_TYPE_F16 = 1,
        GGML_TYPE_Q4_0 = 2,
        GGML_TYPE_Q4_1 = 3,
        GGML_TYPE_Q5_0 = 6,
        GGML_TYPE_Q5_1 = 7,
        GGML_TYPE_Q8_0 = 8,
        GGML_TYPE_Q8_1 = 9,
        GGML_TYPE_Q2_K = 10,
        GGML_TYPE_Q3_K = 11,
        GGML_TYPE_Q4_K = 12,
        GGML_TYPE_Q5_K = 13,
        GGML_TYPE_Q6_K = 14,
        GGML_TYPE_Q8_K = 15,
        GGML_TYPE_BF16 = 30,
        GGML_TYPE_COUNT = 40, /* ids are < this */
};

#define QK4_0 32
#define QK4_1 32
#define QK5_0 32
#define QK5_1 32
#define QK8_0 32
#define QK8_1 32
#define QK_K 256
#define K_SCALE_SIZE 12

typedef uint16_t ggml_half; /* IEEE binary16 bits */
typedef uint16_t ggml_bf16; /* bfloat16 bits */

/* Exact ggml block layouts (ggml-common.h). */
typedef struct {
        ggml_half d;
        uint8_t qs[QK4_0 / 2];
} block_q4_0;
typedef struct {
        ggml_half d, m;
        uint8_t qs[QK4_1 / 2];
} block_q4_1;
typedef struct {
        ggml_half d;
        uint8_t qh[4];
        uint8_t qs[QK5_0 / 2];
} block_q5_0;
typedef struct {
        ggml_half d, m;
        uint8_t qh[4];
        uint8_t qs[QK5_1 / 2];
} block_q5_1;
typedef struct {
        ggml_half d;
        int8_t qs[QK8_0];
} block_q8_0;
typedef struct {
        ggml_half d; /* delta */
        ggml_half s; /* d * sum(qs) */
        int8_t qs[QK8_1];
} block_q8_1;
typedef struct {
        ggml_half d, dmin;
        uint8_t scales[K_SCALE_SIZE];
        uint8_t qs[QK_K / 2];
} block_q4_K;
typedef struct {
        ggml_half d, dmin;
        uint8_t scales[K_SCALE_SIZE];
        uint8_t qh[QK_K / 8];
        uint8_t qs[QK_K / 2];
} block_q5_K;
typedef struct {
        uint8_t ql[QK_K / 2];
        uint8_t qh[QK_K / 4];
        int8_t scales[QK_K / 16];
        ggml_half d;
} block_q6_K;
typedef struct {
        float d;
        int8_t qs[QK_K];
        int16_t bsums[QK_K / 16];
} block_q8_K;

_Static_assert(sizeof(block_q4_0) == 18, "block_q4_0");
_Static_assert(sizeof(block_q4_1) == 20, "block_q4_1");
_Static_assert(sizeof(block_q5_0) == 22, "block_q5_0");
_Static_assert(sizeof(block_q5_1) == 24, "block_q5_1");
_Static_assert(sizeof(block_q8_0) == 34, "block_q8_0");
_Static_assert(sizeof(block_q8_1) == 36, "block_q8_1");
_Static_assert(sizeof(block_q4_K) == 144, "block_q4_K");
_Static_assert(sizeof(block_q5_K) == 176, "block_q5_K");
_Static_assert(sizeof(block_q6_K) == 210, "block_q6_K");
_Static_assert(sizeof(block_q8_K) == 292, "block_q8_K");

struct quant_type_info {
        const char *name;            /* "Q4_K" … as ggml names them */
        uint32_t block_size;         /* elements per block */
        uint32_t type_size;          /* bytes per block */
        bool supported;              /* dequant + dot implemented (weights may have this type) */
        enum ggml_type vec_dot_type; /* type the activations are quantized to for the dot */
};

/* NULL for an unknown id. */
const struct quant_type_info *quant_type_info(uint32_t type);
const char *quant_type_name(uint32_t type); /* "unknown" for unknown ids */

/* Bytes of a row of n elements: -EINVAL if n is not a multiple of the block
 * size or the type is unknown, -EOVERFLOW on overflow. */
int quant_row_size(uint32_t type, uint64_t n, size_t *ret);

float fp16_to_fp32(ggml_half h);
ggml_half fp32_to_fp16(float f);
float bf16_to_fp32(ggml_bf16 h);
ggml_bf16 fp32_to_bf16(float f); /* round to nearest even, NaN kept */

/* dst[0..n) = values of the n elements at src. n is a multiple of the block size. */
void dequantize_row(enum ggml_type type, const void *src, float *dst, size_t n);

/* Reference quantization of n floats (multiple of the block size) into type.
 * Supports every supported weight type plus Q8_1 and Q8_K (activations).
 * The K-quant quantizers follow ggml's reference (quantize_row_*_ref), so that
 * models quantized by Unicorn's tools are what llama.cpp would produce. */
void quantize_row(enum ggml_type type, const float *src, void *dst, size_t n);

/* Fast activation quantization for the dot product (vec_dot_type of a weight type). */
void quantize_activations(enum ggml_type vec_dot_type, const float *src, void *dst, size_t n);

/*
 * Matrix product against a weight matrix W of `type` with rows of k elements:
 *   y[t * ldy + r] = dot(W row r, x_t)   for r in [r0, r1), t in [0, nt)
 * x holds nt activation rows of k elements each, quantized to the weight
 * type's vec_dot_type (or plain float for F32/F16/BF16 weights: see
 * quant_type_info), x_row_bytes apart. Rows of W are w_row_bytes apart.
 * Kernels tile over rows and tokens so each weight byte is read once per tile.
 * Thread-safe; callers split [r0, r1) across threads.
 */
void quant_matmul(enum ggml_type type, size_t k,
                  const void *w, size_t w_row_bytes, size_t r0, size_t r1,
                  const void *x, size_t x_row_bytes, size_t nt,
                  float *y, size_t ldy);

/* One dot product (same contract as quant_matmul with one row and one token). */
float quant_dot(enum ggml_type type, size_t k, const void *w_row, const void *x);

enum quant_cpu_level {
        QUANT_CPU_PORTABLE = 0,
        QUANT_CPU_AVX2 = 1,   /* AVX2 + FMA + F16C */
        QUANT_CPU_AVX512 = 2, /* AVX-512 F/BW/VL (+VNNI where present) */
};
/* Best level this CPU supports (detected once). */
enum quant_cpu_level quant_cpu_detect(void);
/* Level in use; UNICORN_CPU_LEVEL=portable|avx2|avx512 caps it. */
enum quant_cpu_level quant_cpu_level(void);
/* For tests: force a level (capped at what the CPU supports). Returns the level set. */
enum quant_cpu_level quant_set_cpu_level(enum quant_cpu_level level);
const char *quant_cpu_level_name(enum quant_cpu_level level);
