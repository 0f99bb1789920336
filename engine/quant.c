/* SPDX-License-Identifier: MIT */
/*
 * Tensor types: type table, fp16/bf16 conversion, dequantization,
 * quantization and the dispatch of dot/matmul kernels to the portable,
 * AVX2 or AVX-512 implementation.
 */

#include <errno.h>
#include <string.h>

#include "quant.h"

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
