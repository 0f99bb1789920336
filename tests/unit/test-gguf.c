/* SPDX-License-Identifier: MIT */

/*
 * GGUF reader: every value type round-trips, tensors land where they should,
 * and every kind of hostile file gives the right errno and a message without
 * crashing (run this under ASan/UBSan too: every parse here reads from an
 * exact-size heap copy, so an over-read is caught).
 */

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf.h"
#include "quant.h"
#include "test-helpers.h"

/* ---- a tiny GGUF writer ---- */

struct buf {
        uint8_t *p;
        size_t n, cap;
};

static void put(struct buf *b, const void *d, size_t n) {
        if (b->n + n > b->cap) {
                b->cap = MAX(b->cap * 2, b->n + n + 64);
                b->p = realloc(b->p, b->cap);
                CHECK(b->p);
        }
        if (n > 0)
                memcpy(b->p + b->n, d, n);
        b->n += n;
}

/* Little-endian explicitly, so the test also means something on a BE host. */
static void put_le(struct buf *b, uint64_t v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                uint8_t c = (uint8_t) (v >> (8 * i));
                put(b, &c, 1);
        }
}
#define put_u8(b, v) put_le(b, (uint8_t) (v), 1)
#define put_u16(b, v) put_le(b, (uint16_t) (v), 2)
#define put_u32(b, v) put_le(b, (uint32_t) (v), 4)
#define put_u64(b, v) put_le(b, (uint64_t) (v), 8)

static void put_f32(struct buf *b, float f) {
        uint32_t u;
        memcpy(&u, &f, 4);
        put_u32(b, u);
}

static void put_f64(struct buf *b, double d) {
        uint64_t u;
        memcpy(&u, &d, 8);
        put_u64(b, u);
}

static void put_str(struct buf *b, const char *s) {
        put_u64(b, strlen(s));
        put(b, s, strlen(s));
}

static void put_header(struct buf *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
        put_u32(b, GGUF_MAGIC);
        put_u32(b, version);
        put_u64(b, n_tensors);
        put_u64(b, n_kv);
}

static void put_key(struct buf *b, const char *key, enum gguf_type t) {
        put_str(b, key);
        put_u32(b, t);
}

static void put_array_head(struct buf *b, const char *key, enum gguf_type elem, uint64_t n) {
        put_key(b, key, GGUF_TYPE_ARRAY);
        put_u32(b, elem);
        put_u64(b, n);
}

static void put_tensor_info(struct buf *b, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type,
                            uint64_t offset) {
        put_str(b, name);
        put_u32(b, n_dims);
        for (uint32_t i = 0; i < n_dims; i++)
                put_u64(b, ne[i]);
        put_u32(b, type);
        put_u64(b, offset);
}

static void pad_to(struct buf *b, size_t align) {
        while (b->n % align != 0)
                put_u8(b, 0);
}

static void buf_free(struct buf *b) {
        free(b->p);
        *b = (struct buf) {};
}

/* Parses an exact-size heap copy so ASan sees any over-read. */
static int parse(const uint8_t *d, size_t n, GgufFile **ret, char *err, size_t err_size) {
        uint8_t *copy = malloc(n ? n : 1);
        GgufFile *f = NULL;
        int r;

        CHECK(copy);
        if (n > 0)
                memcpy(copy, d, n);
        r = gguf_parse_buffer(copy, n, &f, err, err_size);
        if (r >= 0) {
                /* The caller's buffer must outlive the file: hand both over. */
                CHECK(f->map == copy);
                *ret = f;
                return r;
        }
        CHECK(f == NULL);
        free(copy);
        return r;
}

static void free_parsed(GgufFile *f) {
        if (!f)
                return;
        void *m = (void *) f->map;
        gguf_free(f);
        free(m);
}

static void expect_fail_n(const struct buf *b, size_t n, int want, const char *what, const char *needle) {
        char err[512];
        GgufFile *f = NULL;
        int r;

        memset(err, 0, sizeof(err));
        r = parse(b->p, n, &f, err, sizeof(err));
        CHECK_MSG(r == want, "%s: got %d, want %d (message: %s)", what, r, want, err);
        CHECK_MSG(err[0] != 0, "%s: no message", what);
        if (needle)
                CHECK_MSG(strstr(err, needle), "%s: message '%s' lacks '%s'", what, err, needle);
}

static void expect_fail(const struct buf *b, int want, const char *what, const char *needle) {
        char err[512] = "";
        GgufFile *f = NULL;

        expect_fail_n(b, b->n, want, what, needle);
        /* Print the message once, so a reader of the log sees what users would. */
        parse(b->p, b->n, &f, err, sizeof(err));
        printf("  %-28s -> %s\n", what, err);
}

/* ---- the valid file ---- */

#define N_VALID_TENSORS 3
static const struct {
        const char *name;
        uint32_t type;
        uint32_t n_dims;
        uint64_t ne[4];
        size_t nbytes;
} valid_tensors[N_VALID_TENSORS] = {
        { "f32.weight", GGML_TYPE_F32, 2, { 4, 3, 1, 1 }, 4 * 3 * 4 },
        { "q8.weight", GGML_TYPE_Q8_0, 2, { 64, 2, 1, 1 }, 2 * 2 * 34 },
        { "q4k.weight", GGML_TYPE_Q4_K, 3, { 256, 2, 1, 1 }, 2 * 144 },
};

static const char *const tokens[] = { "<s>", "", "hello", "wörld" };

/* alignment 0: no general.alignment key (default 32). */
static void build_valid(struct buf *b, uint32_t alignment) {
        uint32_t align = alignment ? alignment : GGUF_DEFAULT_ALIGNMENT;
        uint64_t offs[N_VALID_TENSORS], off = 0;

        put_header(b, 3, N_VALID_TENSORS, 19 + (alignment ? 1 : 0));
        put_key(b, "t.u8", GGUF_TYPE_UINT8), put_u8(b, 200);
        put_key(b, "t.i8", GGUF_TYPE_INT8), put_u8(b, (uint8_t) -100);
        put_key(b, "t.u16", GGUF_TYPE_UINT16), put_u16(b, 60000);
        put_key(b, "t.i16", GGUF_TYPE_INT16), put_u16(b, (uint16_t) -30000);
        put_key(b, "t.u32", GGUF_TYPE_UINT32), put_u32(b, 4000000000u);
        put_key(b, "t.i32", GGUF_TYPE_INT32), put_u32(b, (uint32_t) -2000000000);
        put_key(b, "t.f32", GGUF_TYPE_FLOAT32), put_f32(b, 1.5f);
        put_key(b, "t.bool", GGUF_TYPE_BOOL), put_u8(b, 1);
        put_key(b, "t.str", GGUF_TYPE_STRING), put_str(b, "gemma3");
        put_key(b, "t.u64", GGUF_TYPE_UINT64), put_u64(b, UINT64_MAX);
        put_key(b, "t.i64", GGUF_TYPE_INT64), put_u64(b, (uint64_t) INT64_MIN);
        put_key(b, "t.f64", GGUF_TYPE_FLOAT64), put_f64(b, -2.25);
        put_key(b, "t.nul", GGUF_TYPE_STRING), put_u64(b, 3), put(b, "a\0b", 3);
        put_array_head(b, "a.u8", GGUF_TYPE_UINT8, 3), put_u8(b, 1), put_u8(b, 2), put_u8(b, 255);
        put_array_head(b, "a.i32", GGUF_TYPE_INT32, 2), put_u32(b, (uint32_t) -7), put_u32(b, 7);
        put_array_head(b, "a.f32", GGUF_TYPE_FLOAT32, 2), put_f32(b, 0.25f), put_f32(b, -3.0f);
        put_array_head(b, "a.bool", GGUF_TYPE_BOOL, 2), put_u8(b, 0), put_u8(b, 1);
        put_array_head(b, "a.str", GGUF_TYPE_STRING, ELEMENTSOF(tokens));
        for (size_t i = 0; i < ELEMENTSOF(tokens); i++)
                put_str(b, tokens[i]);
        put_array_head(b, "a.empty", GGUF_TYPE_STRING, 0);
        if (alignment)
                put_key(b, "general.alignment", GGUF_TYPE_UINT32), put_u32(b, alignment);

        for (size_t i = 0; i < N_VALID_TENSORS; i++) {
                offs[i] = off;
                off = ALIGN_TO(off + valid_tensors[i].nbytes, align);
        }
        for (size_t i = 0; i < N_VALID_TENSORS; i++)
                put_tensor_info(b, valid_tensors[i].name, valid_tensors[i].n_dims, valid_tensors[i].ne,
                                valid_tensors[i].type, offs[i]);
        pad_to(b, align);
        /* No padding after the last tensor: then every proper prefix is truncated. */
        for (size_t i = 0; i < N_VALID_TENSORS; i++) {
                for (size_t j = 0; j < valid_tensors[i].nbytes; j++)
                        put_u8(b, (uint8_t) (i * 64 + j));
                if (i + 1 < N_VALID_TENSORS)
                        pad_to(b, align);
        }
}

static void test_valid(uint32_t alignment) {
        struct buf b = {};
        GgufFile *f = NULL;
        char err[256] = "";
        const struct gguf_kv *kv;
        struct gguf_str s;
        uint32_t u32;
        uint64_t u64;
        int64_t i64;
        float f32;
        bool bl;
        char *dup;

        printf("valid file, alignment %u\n", alignment ? alignment : GGUF_DEFAULT_ALIGNMENT);
        build_valid(&b, alignment);
        CHECK_MSG(parse(b.p, b.n, &f, err, sizeof(err)) == 0, "%s", err);
        CHECK(f->version == 3);
        CHECK(f->alignment == (alignment ? alignment : GGUF_DEFAULT_ALIGNMENT));
        CHECK(f->data_offset % f->alignment == 0);
        CHECK(f->n_kv == 19 + (alignment ? 1u : 0u));
        CHECK(f->n_tensors == N_VALID_TENSORS);
        CHECK(!f->owns_map);

        /* Integers: any type whose value fits. */
        CHECK_RET(gguf_get_u32(f, "t.u8", &u32), 0); CHECK(u32 == 200);
        CHECK_RET(gguf_get_u32(f, "t.u16", &u32), 0); CHECK(u32 == 60000);
        CHECK_RET(gguf_get_u32(f, "t.u32", &u32), 0); CHECK(u32 == 4000000000u);
        CHECK_RET(gguf_get_i64(f, "t.i8", &i64), 0); CHECK(i64 == -100);
        CHECK_RET(gguf_get_i64(f, "t.i16", &i64), 0); CHECK(i64 == -30000);
        CHECK_RET(gguf_get_i64(f, "t.i32", &i64), 0); CHECK(i64 == -2000000000);
        CHECK_RET(gguf_get_i64(f, "t.i64", &i64), 0); CHECK(i64 == INT64_MIN);
        CHECK_RET(gguf_get_i64(f, "t.u32", &i64), 0); CHECK(i64 == 4000000000);
        CHECK_RET(gguf_get_u64(f, "t.u64", &u64), 0); CHECK(u64 == UINT64_MAX);
        CHECK_RET(gguf_get_u64(f, "t.u8", &u64), 0); CHECK(u64 == 200);
        /* ... and not when it does not fit; ret untouched on failure. */
        u32 = 12345;
        CHECK_RET(gguf_get_u32(f, "t.i8", &u32), -ERANGE);
        CHECK_RET(gguf_get_u32(f, "t.u64", &u32), -ERANGE);
        CHECK(u32 == 12345);
        CHECK_RET(gguf_get_u64(f, "t.i64", &u64), -ERANGE);
        CHECK_RET(gguf_get_i64(f, "t.u64", &i64), -ERANGE);
        CHECK_RET(gguf_get_u32(f, "t.str", &u32), -EBADMSG);
        CHECK_RET(gguf_get_u32(f, "t.f32", &u32), -EBADMSG);
        CHECK_RET(gguf_get_u32(f, "t.bool", &u32), -EBADMSG);
        CHECK_RET(gguf_get_u32(f, "a.u8", &u32), -EBADMSG);
        CHECK_RET(gguf_get_u32(f, "missing", &u32), -ENOENT);
        CHECK_RET(gguf_get_u32(f, "t.u", &u32), -ENOENT);

        CHECK_RET(gguf_get_f32(f, "t.f32", &f32), 0); CHECK(f32 == 1.5f);
        CHECK_RET(gguf_get_f32(f, "t.f64", &f32), 0); CHECK(f32 == -2.25f);
        CHECK_RET(gguf_get_f32(f, "t.u8", &f32), -EBADMSG);
        CHECK_RET(gguf_get_bool(f, "t.bool", &bl), 0); CHECK(bl);
        CHECK_RET(gguf_get_bool(f, "t.u8", &bl), -EBADMSG);

        CHECK_RET(gguf_get_str(f, "t.str", &s), 0); CHECK(gguf_str_eq(s, "gemma3"));
        CHECK(!gguf_str_eq(s, "gemma"));
        CHECK(!gguf_str_eq(s, "gemma33"));
        CHECK_RET(gguf_get_str(f, "t.u8", &s), -EBADMSG);
        CHECK_RET(gguf_get_strdup(f, "t.str", &dup), 0); CHECK(streq(dup, "gemma3"));
        free(dup);
        CHECK_RET(gguf_get_strdup(f, "t.nul", &dup), -EBADMSG);
        CHECK_RET(gguf_get_str(f, "t.nul", &s), 0); CHECK(s.len == 3 && memcmp(s.s, "a\0b", 3) == 0);

        /* Arrays. */
        CHECK_RET(gguf_get_array(f, "a.u8", GGUF_TYPE_INT8, &kv), -EBADMSG);
        CHECK_RET(gguf_get_array(f, "t.u8", GGUF_TYPE_UINT8, &kv), -EBADMSG);
        CHECK_RET(gguf_get_array(f, "nope", GGUF_TYPE_UINT8, &kv), -ENOENT);
        CHECK_RET(gguf_get_array(f, "a.u8", GGUF_TYPE_UINT8, &kv), 0);
        CHECK(kv->arr_n == 3 && gguf_array_get_i64(kv, 2) == 255 && gguf_array_get_f64(kv, 0) == 1.0);
        CHECK_RET(gguf_get_array(f, "a.i32", GGUF_TYPE_INT32, &kv), 0);
        CHECK(kv->arr_n == 2 && gguf_array_get_i64(kv, 0) == -7 && gguf_array_get_f64(kv, 1) == 7.0);
        CHECK_RET(gguf_get_array(f, "a.f32", GGUF_TYPE_FLOAT32, &kv), 0);
        CHECK(gguf_array_get_f64(kv, 0) == 0.25 && gguf_array_get_f64(kv, 1) == -3.0);
        CHECK(gguf_array_get_i64(kv, 1) == -3);
        CHECK_RET(gguf_get_array(f, "a.bool", GGUF_TYPE_BOOL, &kv), 0);
        CHECK(gguf_array_get_i64(kv, 0) == 0 && gguf_array_get_i64(kv, 1) == 1);
        CHECK_RET(gguf_get_array(f, "a.str", GGUF_TYPE_STRING, &kv), 0);
        CHECK(kv->arr_n == ELEMENTSOF(tokens) && kv->strs);
        for (size_t i = 0; i < ELEMENTSOF(tokens); i++)
                CHECK_MSG(gguf_str_eq(kv->strs[i], tokens[i]), "token %zu", i);
        CHECK(gguf_array_get_f64(kv, 0) == 0);
        CHECK_RET(gguf_get_array(f, "a.empty", GGUF_TYPE_STRING, &kv), 0);
        CHECK(kv->arr_n == 0);

        /* Tensors. */
        CHECK(!gguf_find_tensor(f, "missing"));
        CHECK(!gguf_find_tensor(f, "f32.weigh"));
        for (size_t i = 0; i < N_VALID_TENSORS; i++) {
                const struct gguf_tensor *t = gguf_find_tensor(f, valid_tensors[i].name);
                const uint8_t *d;

                CHECK(t && t == &f->tensors[i]);
                CHECK(gguf_str_eq(t->name, valid_tensors[i].name));
                CHECK(t->type == valid_tensors[i].type);
                CHECK(t->n_dims == valid_tensors[i].n_dims);
                for (size_t j = 0; j < 4; j++)
                        CHECK(t->ne[j] == valid_tensors[i].ne[j]);
                CHECK_MSG(t->nbytes == valid_tensors[i].nbytes, "%s: %zu bytes", valid_tensors[i].name, t->nbytes);
                d = t->data;
                CHECK(d == f->map + f->data_offset + t->offset);
                CHECK((size_t) (d - f->map) % f->alignment == 0);
                CHECK(d[0] == (uint8_t) (i * 64) && d[t->nbytes - 1] == (uint8_t) (i * 64 + t->nbytes - 1));
        }
        CHECK((const uint8_t *) f->tensors[N_VALID_TENSORS - 1].data + f->tensors[N_VALID_TENSORS - 1].nbytes ==
              f->map + f->size);
        free_parsed(f);

        /* Every proper prefix is a truncated file. */
        for (size_t n = 0; n < b.n; n++)
                expect_fail_n(&b, n, -EBADMSG, "truncated", NULL);
        buf_free(&b);
}

/* ---- hostile files ---- */

/* A file with one key of the given raw encoding after the header. */
static void one_kv_head(struct buf *b) {
        put_header(b, 3, 0, 1);
}

static void one_tensor(struct buf *b, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type,
                       uint64_t offset, size_t data_bytes) {
        put_header(b, 3, 1, 0);
        put_tensor_info(b, name, n_dims, ne, type, offset);
        pad_to(b, GGUF_DEFAULT_ALIGNMENT);
        for (size_t i = 0; i < data_bytes; i++)
                put_u8(b, 0);
}

static void test_hostile(void) {
        struct buf b = {};
        uint64_t ne[5] = { 32, 2, 1, 1, 1 };

        printf("hostile files\n");
        expect_fail_n(&b, 0, -EBADMSG, "empty", "empty");

        put_u32(&b, 0x46554746), put_u32(&b, 3), put_u64(&b, 0), put_u64(&b, 0);
        expect_fail(&b, -EPROTONOSUPPORT, "bad magic", "magic");
        buf_free(&b);

        put_header(&b, 1, 0, 0);
        expect_fail(&b, -EPROTONOSUPPORT, "version 1", "version 1");
        buf_free(&b);
        put_header(&b, 4, 0, 0);
        expect_fail(&b, -EPROTONOSUPPORT, "version 4", "version 4");
        buf_free(&b);
        put_header(&b, 3u << 24, 0, 0);
        expect_fail(&b, -EPROTONOSUPPORT, "big-endian", "big-endian");
        buf_free(&b);

        /* Sanity: the minimal files these cases start from are valid. */
        {
                GgufFile *f = NULL;
                put_header(&b, 2, 0, 0);
                CHECK_RET(parse(b.p, b.n, &f, NULL, 0), 0);
                CHECK(f->version == 2 && f->n_kv == 0 && f->n_tensors == 0);
                free_parsed(f);
                buf_free(&b);
                one_tensor(&b, "t", 2, ne, GGML_TYPE_Q4_0, 0, 36);
                CHECK_RET(parse(b.p, b.n, &f, NULL, 0), 0);
                CHECK(f->tensors[0].nbytes == 36);
                free_parsed(f);
                buf_free(&b);
        }

        put_header(&b, 3, 0, UINT64_C(1) << 63);
        expect_fail(&b, -E2BIG, "n_kv 2^63", "limit");
        buf_free(&b);
        put_header(&b, 3, 0, 1000);
        expect_fail(&b, -EBADMSG, "n_kv 1000 in 24 bytes", "truncated");
        buf_free(&b);
        put_header(&b, 3, UINT64_C(1) << 63, 0);
        expect_fail(&b, -E2BIG, "n_tensors 2^63", "limit");
        buf_free(&b);
        put_header(&b, 3, 65536, 0);
        expect_fail(&b, -EBADMSG, "n_tensors 65536 in 24 bytes", "truncated");
        buf_free(&b);

        one_kv_head(&b), put_array_head(&b, "tokenizer.ggml.tokens", GGUF_TYPE_UINT32, UINT64_C(1) << 40);
        expect_fail(&b, -E2BIG, "array length 2^40", "'tokenizer.ggml.tokens': array has 1099511627776 elements");
        buf_free(&b);
        one_kv_head(&b), put_array_head(&b, "a", GGUF_TYPE_UINT32, 1000000);
        expect_fail(&b, -EBADMSG, "array 10^6 u32 in 50 bytes", "truncated");
        buf_free(&b);
        one_kv_head(&b), put_array_head(&b, "a", GGUF_TYPE_STRING, 1000000);
        expect_fail(&b, -EBADMSG, "array 10^6 strings", "truncated");
        buf_free(&b);

        one_kv_head(&b), put_key(&b, "s", GGUF_TYPE_STRING), put_u64(&b, UINT64_C(1) << 62);
        expect_fail(&b, -E2BIG, "string length 2^62", "limit");
        buf_free(&b);
        one_kv_head(&b), put_u64(&b, UINT64_C(1) << 62), put_u64(&b, 0), put_u64(&b, 0);
        expect_fail(&b, -E2BIG, "key length 2^62", "limit");
        buf_free(&b);
        one_kv_head(&b), put_key(&b, "s", GGUF_TYPE_STRING), put_u64(&b, 100), put(&b, "abc", 3);
        expect_fail(&b, -EBADMSG, "string past EOF", "needs 100 bytes");
        buf_free(&b);
        one_kv_head(&b), put_key(&b, "", GGUF_TYPE_UINT8), put_u8(&b, 0), put_u8(&b, 0);
        expect_fail(&b, -EBADMSG, "empty key", "empty key");
        buf_free(&b);

        one_kv_head(&b), put_array_head(&b, "nest", GGUF_TYPE_ARRAY, 1), put_u32(&b, GGUF_TYPE_UINT8),
                put_u64(&b, 1), put_u8(&b, 0);
        expect_fail(&b, -EOPNOTSUPP, "nested array", "nested");
        buf_free(&b);
        one_kv_head(&b), put_key(&b, "x", 99), put_u32(&b, 0);
        expect_fail(&b, -EBADMSG, "value type 99", "unknown value type 99");
        buf_free(&b);
        one_kv_head(&b), put_array_head(&b, "x", 13, 1), put_u32(&b, 0);
        expect_fail(&b, -EBADMSG, "array element type 13", "element type 13");
        buf_free(&b);
        one_kv_head(&b), put_key(&b, "b", GGUF_TYPE_BOOL), put_u8(&b, 2);
        expect_fail(&b, -EBADMSG, "bool 2", "bool");
        buf_free(&b);
        one_kv_head(&b), put_array_head(&b, "b", GGUF_TYPE_BOOL, 3), put_u8(&b, 1), put_u8(&b, 0), put_u8(&b, 2);
        expect_fail(&b, -EBADMSG, "bool array element 2", "element 2");
        buf_free(&b);

        put_header(&b, 3, 0, 2);
        put_key(&b, "k", GGUF_TYPE_UINT8), put_u8(&b, 1);
        put_key(&b, "k", GGUF_TYPE_STRING), put_str(&b, "v");
        expect_fail(&b, -EBADMSG, "duplicate key", "duplicate key");
        buf_free(&b);

        static const uint32_t bad_align[] = { 0, 3, 1u << 20, 48 };
        for (size_t i = 0; i < ELEMENTSOF(bad_align); i++) {
                char what[64];
                one_kv_head(&b), put_key(&b, "general.alignment", GGUF_TYPE_UINT32), put_u32(&b, bad_align[i]);
                snprintf(what, sizeof(what), "alignment %u", bad_align[i]);
                expect_fail(&b, -EBADMSG, what, "general.alignment");
                buf_free(&b);
        }
        one_kv_head(&b), put_key(&b, "general.alignment", GGUF_TYPE_UINT64), put_u64(&b, 32);
        expect_fail(&b, -EBADMSG, "alignment as uint64", "uint64");
        buf_free(&b);

        one_tensor(&b, "t", 0, ne, GGML_TYPE_F32, 0, 256);
        expect_fail(&b, -EBADMSG, "n_dims 0", "0 dimensions");
        buf_free(&b);
        one_tensor(&b, "t", 5, ne, GGML_TYPE_F32, 0, 256);
        expect_fail(&b, -EBADMSG, "n_dims 5", "5 dimensions");
        buf_free(&b);
        one_tensor(&b, "t", 2, (const uint64_t[]) { 32, 0 }, GGML_TYPE_F32, 0, 256);
        expect_fail(&b, -EBADMSG, "dim 0", "dimension 1 is 0");
        buf_free(&b);
        one_tensor(&b, "t", 2, (const uint64_t[]) { UINT64_C(1) << 40, UINT64_C(1) << 40 }, GGML_TYPE_F32, 0, 256);
        expect_fail(&b, -E2BIG, "ne 2^40 x 2^40", "2^50");
        buf_free(&b);
        one_tensor(&b, "t", 4, (const uint64_t[]) { 1u << 16, 1u << 16, 1u << 16, 1u << 16 }, GGML_TYPE_F32, 0, 0);
        expect_fail(&b, -E2BIG, "ne 2^64 total", "2^50");
        buf_free(&b);
        one_tensor(&b, "t", 2, ne, GGML_TYPE_F32, 16, 512);
        expect_fail(&b, -EBADMSG, "offset misaligned", "not a multiple of the alignment 32");
        buf_free(&b);
        one_tensor(&b, "blk.0.attn_q.weight", 2, ne, GGML_TYPE_F32, 0, 255);
        expect_fail(&b, -EBADMSG, "data beyond EOF", "lie outside the file");
        buf_free(&b);
        one_tensor(&b, "t", 2, ne, GGML_TYPE_F32, 64, 256);
        expect_fail(&b, -EBADMSG, "offset past EOF", "outside the file");
        buf_free(&b);
        one_tensor(&b, "t", 2, ne, GGML_TYPE_F32, UINT64_MAX - 31, 256);
        expect_fail(&b, -EBADMSG, "offset+nbytes overflow", "outside the file");
        buf_free(&b);
        one_tensor(&b, "t", 2, ne, 1000, 0, 256);
        expect_fail(&b, -EBADMSG, "tensor type 1000", "unknown tensor type id 1000");
        buf_free(&b);
        one_tensor(&b, "t", 2, ne, 4 /* removed Q4_2 */, 0, 256);
        expect_fail(&b, -EBADMSG, "tensor type 4", "unknown tensor type id 4");
        buf_free(&b);
        one_tensor(&b, "blk.0.attn_q.weight", 2, (const uint64_t[]) { 256, 1 }, GGML_TYPE_Q2_K, 0, 84);
        expect_fail(&b, -EOPNOTSUPP, "type Q2_K", "tensor 'blk.0.attn_q.weight': type Q2_K is not supported");
        buf_free(&b);
        one_tensor(&b, "t", 1, (const uint64_t[]) { 33 }, GGML_TYPE_Q4_0, 0, 256);
        expect_fail(&b, -EBADMSG, "Q4_0 ne[0] 33", "block size 32");
        buf_free(&b);
        one_tensor(&b, "", 1, ne, GGML_TYPE_F32, 0, 256);
        expect_fail(&b, -EBADMSG, "empty tensor name", "empty name");
        buf_free(&b);
        put_header(&b, 3, 1, 0), put_u64(&b, GGUF_MAX_NAME + 1);
        for (size_t i = 0; i <= GGUF_MAX_NAME + 64; i++)
                put_u8(&b, 'x');
        expect_fail(&b, -E2BIG, "tensor name 64 KiB + 1", "limit");
        buf_free(&b);
        /* Control characters in names do not reach the message. */
        one_tensor(&b, "bad\n\x1b[31mname", 1, ne, 1000, 0, 0);
        expect_fail(&b, -EBADMSG, "escape in name", "bad??[31mname");
        buf_free(&b);

        put_header(&b, 3, 2, 0);
        put_tensor_info(&b, "dup", 1, ne, GGML_TYPE_F32, 0);
        put_tensor_info(&b, "dup", 1, ne, GGML_TYPE_F32, 128);
        pad_to(&b, 32);
        for (size_t i = 0; i < 256; i++)
                put_u8(&b, 0);
        expect_fail(&b, -EBADMSG, "duplicate tensor name", "duplicate tensor name");
        buf_free(&b);
}

/* Many tensors: duplicate detection must not be quadratic, and must find
 * the one duplicate among them. */
static void test_many_tensors(void) {
        struct buf b = {};
        uint64_t ne[1] = { 1 };
        GgufFile *f = NULL;
        char name[32], err[256] = "";
        const size_t n = GGUF_MAX_TENSORS;

        printf("%zu tensors\n", n);
        put_header(&b, 3, n, 0);
        for (size_t i = 0; i < n; i++) {
                snprintf(name, sizeof(name), "t%zu", i);
                put_tensor_info(&b, name, 1, ne, GGML_TYPE_F32, 0);
        }
        pad_to(&b, 32);
        put_u32(&b, 0);
        CHECK_MSG(parse(b.p, b.n, &f, err, sizeof(err)) == 0, "%s", err);
        CHECK(gguf_find_tensor(f, "t65535") == &f->tensors[65535]);
        CHECK(gguf_find_tensor(f, "t0") == &f->tensors[0]);
        free_parsed(f);
        buf_free(&b);

        put_header(&b, 3, n, 0);
        for (size_t i = 0; i < n; i++) {
                snprintf(name, sizeof(name), "t%zu", i == n - 1 ? (size_t) 1234 : i);
                put_tensor_info(&b, name, 1, ne, GGML_TYPE_F32, 0);
        }
        pad_to(&b, 32);
        put_u32(&b, 0);
        expect_fail(&b, -EBADMSG, "duplicate among 65536", "'t1234': duplicate");
        buf_free(&b);

        put_header(&b, 3, n + 1, 0);
        expect_fail(&b, -E2BIG, "65537 tensors", "limit");
        buf_free(&b);
}

static void test_open(void) {
        char path[] = "/tmp/test-gguf-XXXXXX";
        char err[256] = "";
        struct buf b = {};
        GgufFile *f = NULL;
        int fd;

        printf("gguf_open\n");
        CHECK_RET(gguf_open("/nonexistent/x.gguf", &f, err, sizeof(err)), -ENOENT);
        CHECK(err[0]);
        err[0] = 0;
        CHECK_RET(gguf_open("/", &f, err, sizeof(err)), -EINVAL);
        CHECK(strstr(err, "regular file"));

        fd = mkstemp(path);
        CHECK(fd >= 0);
        err[0] = 0;
        CHECK_RET(gguf_open(path, &f, err, sizeof(err)), -EBADMSG);
        CHECK(err[0]);

        build_valid(&b, 64);
        CHECK((size_t) write(fd, b.p, b.n) == b.n);
        CHECK_MSG(gguf_open(path, &f, err, sizeof(err)) == 0, "%s", err);
        CHECK(f->owns_map && f->size == b.n && f->alignment == 64);
        CHECK(memcmp(f->map, b.p, b.n) == 0);
        f = gguf_free(f);
        CHECK(!f);
        CHECK(!gguf_free(NULL));

        CHECK_MSG(gguf_open_fd(fd, &f, err, sizeof(err)) == 0, "%s", err);
        CHECK(gguf_find_tensor(f, "q4k.weight"));
        gguf_free(f);
        close(fd);
        unlink(path);
        buf_free(&b);
}

static void test_type_names(void) {
        CHECK(streq(gguf_type_name(GGUF_TYPE_UINT8), "uint8"));
        CHECK(streq(gguf_type_name(GGUF_TYPE_FLOAT64), "float64"));
        CHECK(streq(gguf_type_name(GGUF_TYPE_ARRAY), "array"));
        CHECK(streq(gguf_type_name(_GGUF_TYPE_MAX), "unknown"));
        CHECK(streq(gguf_type_name((enum gguf_type) -1), "unknown"));
}

static GgufFile *open_model(const char *dir, const char *name) {
        char path[4096], err[512] = "";
        GgufFile *f = NULL;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        if (access(path, R_OK) < 0)
                return NULL;
        CHECK_MSG(gguf_open(path, &f, err, sizeof(err)) == 0, "%s: %s", path, err);
        return f;
}

static void test_models(void) {
        const char *dir = test_models_dir();
        const struct gguf_tensor *t;
        const struct gguf_kv *kv;
        struct gguf_str s;
        GgufFile *f;
        uint32_t u32;

        f = dir ? open_model(dir, "gemma-3-270m-q4_k_m.gguf") : NULL;
        if (!f) {
                printf("NOTE: gemma-3-270m-q4_k_m.gguf not found in UNICORN_MODELS=%s, skipping real-model checks "
                       "(tools/fetch-models fetches it)\n", dir ? dir : "(unset)");
        } else {
                printf("gemma-3-270m: %zu kv, %zu tensors\n", f->n_kv, f->n_tensors);
                CHECK_RET(gguf_get_str(f, "general.architecture", &s), 0);
                CHECK(gguf_str_eq(s, "gemma3"));
                CHECK(f->n_tensors == 236);
                CHECK_RET(gguf_get_u32(f, "gemma3.embedding_length", &u32), 0);
                CHECK(u32 == 640);
                t = gguf_find_tensor(f, "token_embd.weight");
                CHECK(t && t->type == GGML_TYPE_Q8_0 && t->n_dims == 2);
                CHECK(t->ne[0] == 640 && t->ne[1] == 262144);
                CHECK(t->nbytes == (size_t) 640 / 32 * 34 * 262144);
                gguf_free(f);
        }

        f = dir ? open_model(dir, "SmolLM2-135M-Instruct.Q4_1.gguf") : NULL;
        if (!f) {
                printf("NOTE: SmolLM2-135M-Instruct.Q4_1.gguf not found, skipping\n");
        } else {
                printf("SmolLM2-135M: %zu kv, %zu tensors\n", f->n_kv, f->n_tensors);
                CHECK(f->n_tensors == 272);
                CHECK_RET(gguf_get_u32(f, "llama.block_count", &u32), 0);
                CHECK(u32 == 30);
                CHECK_RET(gguf_get_array(f, "tokenizer.ggml.merges", GGUF_TYPE_STRING, &kv), 0);
                CHECK(kv->arr_n == 48900);
                CHECK(kv->strs[0].len > 0 && kv->strs[48899].len > 0);
                gguf_free(f);
        }
}

int main(void) {
        test_type_names();
        test_valid(0);
        test_valid(64);
        test_valid(1);
        test_hostile();
        test_many_tensors();
        test_open();
        test_models();
        printf("OK\n");
        return 0;
}
