/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * GGUF v3 reader. The file is mmap'ed read-only; every string, array and
 * tensor returned points into the mapping and lives as long as the GgufFile.
 * Every count, size and offset read from the file is checked against caps
 * and against the file size before use: a hostile file gives a negative
 * errno and a message (gguf_last_error-style, through ret_error), never a
 * crash.
 *
 * Spec: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macros.h"

#define GGUF_MAGIC 0x46554747u /* "GGUF" little-endian */
#define GGUF_DEFAULT_ALIGNMENT 32u

/* Hard caps: far above any real model, far below what overflows. */
#define GGUF_MAX_KV 65536u               /* metadata entries */
#define GGUF_MAX_TENSORS 65536u          /* tensor infos */
#define GGUF_MAX_STRING (64u << 20)      /* one string: 64 MiB (chat templates are ~10 KiB) */
#define GGUF_MAX_ARRAY (16u << 20)       /* elements in one array (vocabularies are ~256 K) */
#define GGUF_MAX_DIMS 4u
#define GGUF_MAX_ALIGNMENT 65536u
#define GGUF_MAX_NAME 65536u             /* bytes in a tensor name */
#define GGUF_MAX_ELEMENTS (UINT64_C(1) << 50) /* elements in one tensor (exclusive) */

enum gguf_type {
        GGUF_TYPE_UINT8 = 0,
        GGUF_TYPE_INT8 = 1,
        GGUF_TYPE_UINT16 = 2,
        GGUF_TYPE_INT16 = 3,
        GGUF_TYPE_UINT32 = 4,
        GGUF_TYPE_INT32 = 5,
        GGUF_TYPE_FLOAT32 = 6,
        GGUF_TYPE_BOOL = 7,
        GGUF_TYPE_STRING = 8,
        GGUF_TYPE_ARRAY = 9,
        GGUF_TYPE_UINT64 = 10,
        GGUF_TYPE_INT64 = 11,
        GGUF_TYPE_FLOAT64 = 12,
        _GGUF_TYPE_MAX,
};

/* A string inside the mapping: NOT NUL-terminated. */
struct gguf_str {
        const char *s;
        size_t len;
};

struct gguf_kv {
        struct gguf_str key;
        enum gguf_type type;      /* GGUF_TYPE_ARRAY for arrays */
        enum gguf_type arr_type;  /* element type when type == ARRAY */
        uint64_t arr_n;           /* element count when type == ARRAY */
        /* Scalars: points at the little-endian value in the mapping (may be unaligned).
         * Arrays of fixed-size elements: points at the first element.
         * Strings: unused (see str). Arrays of strings: see strs. */
        const void *data;
        struct gguf_str str;            /* type == STRING */
        const struct gguf_str *strs;    /* type == ARRAY of STRING: arr_n entries */
};

struct gguf_tensor {
        struct gguf_str name;
        uint32_t n_dims;
        uint64_t ne[GGUF_MAX_DIMS]; /* ne[0] is the fastest-moving (row length); unused dims are 1 */
        uint32_t type;              /* enum ggml_type (quant.h); checked known and supported */
        uint64_t offset;            /* relative to the data section */
        size_t nbytes;              /* exact size of the data, checked to lie inside the file */
        const void *data;           /* in the mapping, aligned to the file's alignment */
};

typedef struct GgufFile GgufFile;

struct GgufFile {
        const uint8_t *map;   /* whole file (or caller's buffer) */
        size_t size;
        bool owns_map;        /* munmap on free */
        uint32_t version;
        uint32_t alignment;
        size_t data_offset;   /* start of the tensor data section */

        struct gguf_kv *kv;
        size_t n_kv;
        struct gguf_tensor *tensors;
        size_t n_tensors;

        struct gguf_str *str_pool; /* backing store for all string arrays */

        /* Private: open-addressing hash indexes (entry = index + 1, 0 = empty),
         * used for duplicate detection while parsing and for the find_* lookups. */
        uint32_t *kv_index;
        uint32_t *tensor_index;
        size_t kv_index_mask;
        size_t tensor_index_mask;
};

/*
 * Opens and fully validates a file. On failure returns a negative errno and,
 * if ret_error is not NULL, writes a human-readable reason (e.g. "tensor
 * 'blk.3.attn_q.weight' data [1234, 5678) lies outside the file (size 4000)")
 * into ret_error (size bytes, always NUL-terminated).
 *   -ENOENT/-EACCES…  from open()
 *   -EINVAL           not a regular file (gguf_open/gguf_open_fd)
 *   -EBADMSG          malformed or truncated file (also: empty file)
 *   -EPROTONOSUPPORT  not GGUF v2/v3 (wrong magic or version, big-endian)
 *   -E2BIG            a count or size exceeds a cap (GGUF_MAX_*)
 *   -EOPNOTSUPP       a tensor type Unicorn does not implement, nested arrays
 *   -ENOMEM           (no message)
 * ret_error is written on failure only.
 */
int gguf_open(const char *path, GgufFile **ret, char *ret_error, size_t error_size);
int gguf_open_fd(int fd, GgufFile **ret, char *ret_error, size_t error_size);
/* Parses a caller-owned buffer (tests, fuzzing); the buffer must outlive the file. */
int gguf_parse_buffer(const void *data, size_t size, GgufFile **ret, char *ret_error, size_t error_size);

GgufFile *gguf_free(GgufFile *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(GgufFile *, gguf_free);

bool gguf_str_eq(struct gguf_str a, const char *b);

const struct gguf_kv *gguf_find_kv(const GgufFile *f, const char *key);
const struct gguf_tensor *gguf_find_tensor(const GgufFile *f, const char *name);

/*
 * Typed getters. -ENOENT when the key is absent, -EBADMSG when its type does
 * not convert (any integer type is accepted for the integer getters;
 * FLOAT32/FLOAT64 for the float getter), -ERANGE when an integer value does
 * not fit the requested type (e.g. a negative INT32 asked for as u32).
 */
int gguf_get_u32(const GgufFile *f, const char *key, uint32_t *ret);
int gguf_get_u64(const GgufFile *f, const char *key, uint64_t *ret);
int gguf_get_i64(const GgufFile *f, const char *key, int64_t *ret);
int gguf_get_f32(const GgufFile *f, const char *key, float *ret);
int gguf_get_bool(const GgufFile *f, const char *key, bool *ret);
/* A string value; *ret points into the mapping (not NUL-terminated). */
int gguf_get_str(const GgufFile *f, const char *key, struct gguf_str *ret);
/* Copies a string value into a new NUL-terminated allocation. -EBADMSG if it contains NUL. */
int gguf_get_strdup(const GgufFile *f, const char *key, char **ret);
/* An array: -EBADMSG if not an array of elem_type. */
int gguf_get_array(const GgufFile *f, const char *key, enum gguf_type elem_type, const struct gguf_kv **ret);

/* Element i of a numeric array as double / int64 (caller checks i < arr_n);
 * 0 for arrays of strings. A UINT64 above INT64_MAX saturates in the i64 variant. */
double gguf_array_get_f64(const struct gguf_kv *kv, uint64_t i);
int64_t gguf_array_get_i64(const struct gguf_kv *kv, uint64_t i);

const char *gguf_type_name(enum gguf_type t);
/* Bytes of one value of a fixed-size type; 0 for STRING, ARRAY and unknown types. */
size_t gguf_type_size(enum gguf_type t);
