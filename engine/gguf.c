/* SPDX-License-Identifier: MIT */

/*
 * GGUF v2/v3 reader. Everything read from the file goes through the parser's
 * bounds-checked cursor; every count is checked against a cap (gguf.h) and
 * against the bytes left in the file before anything is allocated for it, so
 * a small hostile file can neither crash us nor make us allocate much.
 */

#include <endian.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "errorf.h"
#include "gguf.h"
#include "quant.h"

/* Smallest possible encodings, used to reject counts that cannot fit in the
 * rest of the file before allocating for them. */
#define MIN_KV_BYTES (8 + 1 + 4 + 1)              /* key len, 1-byte key, type, u8 value */
#define MIN_TENSOR_INFO_BYTES (8 + 1 + 4 + 8 + 4 + 8) /* name len, name, n_dims, ne[0], type, offset */

static const uint8_t value_size[_GGUF_TYPE_MAX] = {
        [GGUF_TYPE_UINT8] = 1,  [GGUF_TYPE_INT8] = 1,   [GGUF_TYPE_UINT16] = 2,  [GGUF_TYPE_INT16] = 2,
        [GGUF_TYPE_UINT32] = 4, [GGUF_TYPE_INT32] = 4,  [GGUF_TYPE_FLOAT32] = 4, [GGUF_TYPE_BOOL] = 1,
        [GGUF_TYPE_UINT64] = 8, [GGUF_TYPE_INT64] = 8,  [GGUF_TYPE_FLOAT64] = 8,
        /* STRING and ARRAY are variable-sized: 0 */
};

static const char *const type_names[_GGUF_TYPE_MAX] = {
        [GGUF_TYPE_UINT8] = "uint8",   [GGUF_TYPE_INT8] = "int8",       [GGUF_TYPE_UINT16] = "uint16",
        [GGUF_TYPE_INT16] = "int16",   [GGUF_TYPE_UINT32] = "uint32",   [GGUF_TYPE_INT32] = "int32",
        [GGUF_TYPE_FLOAT32] = "float32", [GGUF_TYPE_BOOL] = "bool",     [GGUF_TYPE_STRING] = "string",
        [GGUF_TYPE_ARRAY] = "array",   [GGUF_TYPE_UINT64] = "uint64",   [GGUF_TYPE_INT64] = "int64",
        [GGUF_TYPE_FLOAT64] = "float64",
};

size_t gguf_type_size(enum gguf_type t) {
        return (unsigned) t < _GGUF_TYPE_MAX ? value_size[t] : 0;
}

const char *gguf_type_name(enum gguf_type t) {
        if ((unsigned) t >= _GGUF_TYPE_MAX)
                return "unknown";
        return type_names[t];
}

/* The file is little-endian and the mapping gives no alignment guarantee. */
static uint16_t ld16(const void *p) {
        uint16_t v;
        memcpy(&v, p, sizeof(v));
        return le16toh(v);
}
static uint32_t ld32(const void *p) {
        uint32_t v;
        memcpy(&v, p, sizeof(v));
        return le32toh(v);
}
static uint64_t ld64(const void *p) {
        uint64_t v;
        memcpy(&v, p, sizeof(v));
        return le64toh(v);
}

bool gguf_str_eq(struct gguf_str a, const char *b) {
        size_t n = strlen(b);
        return a.len == n && (n == 0 || memcmp(a.s, b, n) == 0);
}

/* Names from the file go into error messages that may end up in a log:
 * keep them short and printable ASCII. */
static const char *safe_name(struct gguf_str s, char *buf, size_t size) {
        size_t n = MIN(s.len, size - 4), i;

        for (i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s.s[i];
                buf[i] = c >= 0x20 && c < 0x7f && c != '\'' ? (char) c : '?';
        }
        if (n < s.len)
                memcpy(buf + i, "...", 3), i += 3;
        buf[i] = 0;
        return buf;
}

struct parser {
        const uint8_t *buf;
        size_t size;
        size_t off;
        char ctx[128]; /* what is being read, for messages: "metadata key #3 'general.name'" */
        char *err;
        size_t err_size;
};

#define fail(p, r, ...) errorf((p)->err, (p)->err_size, (r), __VA_ARGS__)

static int need(struct parser *p, uint64_t n) {
        if (n <= p->size - p->off)
                return 0;
        return fail(p, -EBADMSG, "file truncated: %s needs %" PRIu64 " bytes at offset %zu, file has %zu",
                    p->ctx, n, p->off, p->size);
}

static int rd_u32(struct parser *p, uint32_t *ret) {
        int r = need(p, 4);
        if (r < 0)
                return r;
        *ret = ld32(p->buf + p->off);
        p->off += 4;
        return 0;
}

static int rd_u64(struct parser *p, uint64_t *ret) {
        int r = need(p, 8);
        if (r < 0)
                return r;
        *ret = ld64(p->buf + p->off);
        p->off += 8;
        return 0;
}

static int rd_str(struct parser *p, uint64_t max, const char *what, struct gguf_str *ret) {
        uint64_t len;
        int r;

        r = rd_u64(p, &len);
        if (r < 0)
                return r;
        if (len > max)
                return fail(p, -E2BIG, "%s: %s of %" PRIu64 " bytes, the limit is %" PRIu64, p->ctx, what, len,
                            max);
        r = need(p, len);
        if (r < 0)
                return r;
        *ret = (struct gguf_str) { (const char *) p->buf + p->off, (size_t) len };
        p->off += len;
        return 0;
}

/* FNV-1a: names are short and this only has to resist accidental clustering;
 * a crafted collision costs time, bounded by the caps, never safety. */
static uint64_t hash_name(const char *s, size_t n) {
        uint64_t h = UINT64_C(0xcbf29ce484222325);
        for (size_t i = 0; i < n; i++)
                h = (h ^ (uint8_t) s[i]) * UINT64_C(0x100000001b3);
        return h;
}

/* Index tables hold i + 1 for entry i of an array of `stride`-sized structs
 * whose struct gguf_str name lives at `name_off`. */
static struct gguf_str index_name(const void *base, size_t stride, size_t name_off, uint32_t i) {
        struct gguf_str s;
        memcpy(&s, (const uint8_t *) base + (size_t) i * stride + name_off, sizeof(s));
        return s;
}

static int index_new(size_t n, uint32_t **ret, size_t *ret_mask) {
        size_t cap = 16;
        while (cap < 2 * n)
                cap *= 2;
        *ret = new0(uint32_t, cap);
        if (!*ret)
                return -ENOMEM;
        *ret_mask = cap - 1;
        return 0;
}

/* Returns the index of an entry with this name, or -1 if there is none. */
static int64_t index_find(const uint32_t *table, size_t mask, const void *base, size_t stride, size_t name_off,
                          const char *s, size_t n) {
        if (!table)
                return -1;
        for (size_t h = hash_name(s, n) & mask;; h = (h + 1) & mask) {
                if (table[h] == 0)
                        return -1;
                struct gguf_str e = index_name(base, stride, name_off, table[h] - 1);
                if (e.len == n && (n == 0 || memcmp(e.s, s, n) == 0))
                        return table[h] - 1;
        }
}

/* Inserts entry i; false if the name is already present. The table is sized
 * for every entry up front, so it never fills. */
static bool index_add(uint32_t *table, size_t mask, const void *base, size_t stride, size_t name_off, uint32_t i) {
        struct gguf_str s = index_name(base, stride, name_off, i);
        size_t h;

        for (h = hash_name(s.s, s.len) & mask; table[h] != 0; h = (h + 1) & mask) {
                struct gguf_str e = index_name(base, stride, name_off, table[h] - 1);
                if (e.len == s.len && (s.len == 0 || memcmp(e.s, s.s, s.len) == 0))
                        return false;
        }
        table[h] = i + 1;
        return true;
}

#define KV_INDEX_ARGS(f) (f)->kv, sizeof(struct gguf_kv), offsetof(struct gguf_kv, key)
#define TENSOR_INDEX_ARGS(f) (f)->tensors, sizeof(struct gguf_tensor), offsetof(struct gguf_tensor, name)

struct str_pool {
        struct gguf_str *v;
        size_t n, cap;
};

static int parse_value(struct parser *p, struct gguf_kv *kv, struct str_pool *pool, size_t *ret_pool_first) {
        uint32_t t32;
        uint64_t n;
        int r;

        if (kv->type == GGUF_TYPE_STRING)
                return rd_str(p, GGUF_MAX_STRING, "string", &kv->str);

        if (kv->type != GGUF_TYPE_ARRAY) {
                r = need(p, value_size[kv->type]);
                if (r < 0)
                        return r;
                kv->data = p->buf + p->off;
                if (kv->type == GGUF_TYPE_BOOL && p->buf[p->off] > 1)
                        return fail(p, -EBADMSG, "%s: bool value %u is not 0 or 1", p->ctx, p->buf[p->off]);
                p->off += value_size[kv->type];
                return 0;
        }

        r = rd_u32(p, &t32);
        if (r < 0)
                return r;
        if (t32 >= _GGUF_TYPE_MAX)
                return fail(p, -EBADMSG, "%s: unknown array element type %" PRIu32, p->ctx, t32);
        /* Nothing in the GGUF ecosystem writes arrays of arrays, and allowing them
         * would make parsing recursive: refuse. */
        if (t32 == GGUF_TYPE_ARRAY)
                return fail(p, -EOPNOTSUPP, "%s: nested arrays are not supported", p->ctx);
        kv->arr_type = t32;

        r = rd_u64(p, &n);
        if (r < 0)
                return r;
        if (n > GGUF_MAX_ARRAY)
                return fail(p, -E2BIG, "%s: array has %" PRIu64 " elements, the limit is %u", p->ctx, n,
                            GGUF_MAX_ARRAY);
        kv->arr_n = n;

        if (t32 != GGUF_TYPE_STRING) {
                /* n <= 2^24 and size <= 8: cannot overflow */
                r = need(p, n * value_size[t32]);
                if (r < 0)
                        return r;
                kv->data = p->buf + p->off;
                if (t32 == GGUF_TYPE_BOOL)
                        for (uint64_t i = 0; i < n; i++)
                                if (p->buf[p->off + i] > 1)
                                        return fail(p, -EBADMSG, "%s: bool element %" PRIu64 " is %u, not 0 or 1",
                                                    p->ctx, i, p->buf[p->off + i]);
                p->off += n * value_size[t32];
                return 0;
        }

        /* Each string takes at least its 8-byte length: this bounds the pool by
         * the file size before we grow it. */
        r = need(p, n * 8);
        if (r < 0)
                return r;
        if (pool->cap - pool->n < n) {
                size_t cap = MAX(pool->cap * 2, pool->n + n);
                struct gguf_str *v = realloc(pool->v, MAX(cap, (size_t) 1) * sizeof(struct gguf_str));
                if (!v)
                        return -ENOMEM;
                pool->v = v;
                pool->cap = cap;
        }
        *ret_pool_first = pool->n;
        for (uint64_t i = 0; i < n; i++) {
                r = rd_str(p, GGUF_MAX_STRING, "array string", &pool->v[pool->n]);
                if (r < 0)
                        return r;
                pool->n++;
        }
        return 0;
}

static int parse_kvs(struct parser *p, GgufFile *f, uint64_t n_kv) {
        _cleanup_free_ size_t *pool_first = NULL;
        struct str_pool pool = {};
        char name[72];
        int r;

        if (n_kv > GGUF_MAX_KV)
                return fail(p, -E2BIG, "file has %" PRIu64 " metadata entries, the limit is %u", n_kv, GGUF_MAX_KV);
        snprintf(p->ctx, sizeof(p->ctx), "metadata (%" PRIu64 " entries)", n_kv);
        r = need(p, n_kv * MIN_KV_BYTES);
        if (r < 0)
                return r;

        f->kv = new0(struct gguf_kv, n_kv);
        pool_first = new0(size_t, n_kv);
        if (!f->kv || !pool_first)
                return -ENOMEM;
        r = index_new(n_kv, &f->kv_index, &f->kv_index_mask);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n_kv; i++) {
                struct gguf_kv *kv = &f->kv[i];
                uint32_t t;

                snprintf(p->ctx, sizeof(p->ctx), "metadata key #%zu", i);
                r = rd_str(p, GGUF_MAX_NAME, "key", &kv->key);
                if (r < 0)
                        goto fail;
                if (kv->key.len == 0) {
                        r = fail(p, -EBADMSG, "%s: empty key", p->ctx);
                        goto fail;
                }
                snprintf(p->ctx, sizeof(p->ctx), "metadata key #%zu '%s'", i,
                         safe_name(kv->key, name, sizeof(name)));
                f->n_kv = i + 1;
                if (!index_add(f->kv_index, f->kv_index_mask, KV_INDEX_ARGS(f), i)) {
                        r = fail(p, -EBADMSG, "%s: duplicate key", p->ctx);
                        goto fail;
                }

                r = rd_u32(p, &t);
                if (r < 0)
                        goto fail;
                if (t >= _GGUF_TYPE_MAX) {
                        r = fail(p, -EBADMSG, "%s: unknown value type %" PRIu32, p->ctx, t);
                        goto fail;
                }
                kv->type = t;
                pool_first[i] = SIZE_MAX;
                r = parse_value(p, kv, &pool, &pool_first[i]);
                if (r < 0)
                        goto fail;
        }

        /* The pool only stops moving now: point the string arrays into it. */
        f->str_pool = pool.v;
        for (size_t i = 0; i < n_kv; i++)
                if (f->kv[i].type == GGUF_TYPE_ARRAY && f->kv[i].arr_type == GGUF_TYPE_STRING)
                        f->kv[i].strs = f->kv[i].arr_n > 0 ? pool.v + pool_first[i] : pool.v;
        return 0;
fail:
        free(pool.v);
        return r;
}

static int parse_alignment(struct parser *p, GgufFile *f) {
        const struct gguf_kv *kv = gguf_find_kv(f, "general.alignment");
        uint32_t a;

        f->alignment = GGUF_DEFAULT_ALIGNMENT;
        if (!kv)
                return 0;
        if (kv->type != GGUF_TYPE_UINT32)
                return fail(p, -EBADMSG, "general.alignment has type %s, expected uint32", gguf_type_name(kv->type));
        a = ld32(kv->data);
        if (a == 0 || (a & (a - 1)) != 0 || a > GGUF_MAX_ALIGNMENT)
                return fail(p, -EBADMSG, "general.alignment %" PRIu32 " is not a power of two in 1..%u", a,
                            GGUF_MAX_ALIGNMENT);
        f->alignment = a;
        return 0;
}

static int parse_tensor_info(struct parser *p, GgufFile *f, size_t i) {
        struct gguf_tensor *t = &f->tensors[i];
        const struct quant_type_info *qi;
        uint64_t elems = 1, rows = 1;
        char name[72];
        size_t row;
        int r;

        snprintf(p->ctx, sizeof(p->ctx), "tensor info #%zu", i);
        r = rd_str(p, GGUF_MAX_NAME, "name", &t->name);
        if (r < 0)
                return r;
        if (t->name.len == 0)
                return fail(p, -EBADMSG, "%s: empty name", p->ctx);
        snprintf(p->ctx, sizeof(p->ctx), "tensor '%s'", safe_name(t->name, name, sizeof(name)));
        f->n_tensors = i + 1;
        if (!index_add(f->tensor_index, f->tensor_index_mask, TENSOR_INDEX_ARGS(f), i))
                return fail(p, -EBADMSG, "%s: duplicate tensor name", p->ctx);

        r = rd_u32(p, &t->n_dims);
        if (r < 0)
                return r;
        if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
                return fail(p, -EBADMSG, "%s: %" PRIu32 " dimensions, expected 1..%u", p->ctx, t->n_dims,
                            GGUF_MAX_DIMS);
        for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
                t->ne[d] = 1;
                if (d >= t->n_dims)
                        continue;
                r = rd_u64(p, &t->ne[d]);
                if (r < 0)
                        return r;
                if (t->ne[d] == 0)
                        return fail(p, -EBADMSG, "%s: dimension %" PRIu32 " is 0", p->ctx, d);
                if (MUL_OVERFLOW(elems, t->ne[d], &elems) || elems >= GGUF_MAX_ELEMENTS)
                        return fail(p, -E2BIG, "%s: more than 2^50 elements (dimension %" PRIu32 " is %" PRIu64 ")",
                                    p->ctx, d, t->ne[d]);
                if (d > 0)
                        rows *= t->ne[d]; /* <= elems: no overflow */
        }
        r = rd_u32(p, &t->type);
        if (r < 0)
                return r;
        r = rd_u64(p, &t->offset);
        if (r < 0)
                return r;

        qi = quant_type_info(t->type);
        if (!qi)
                return fail(p, -EBADMSG, "%s: unknown tensor type id %" PRIu32, p->ctx, t->type);
        if (!qi->supported)
                return fail(p, -EOPNOTSUPP, "%s: type %s is not supported", p->ctx, qi->name);
        if (t->ne[0] % qi->block_size != 0)
                return fail(p, -EBADMSG, "%s: row length %" PRIu64 " is not a multiple of the %s block size %" PRIu32,
                            p->ctx, t->ne[0], qi->name, qi->block_size);
        if (quant_row_size(t->type, t->ne[0], &row) < 0 || MUL_OVERFLOW(row, rows, &t->nbytes))
                return fail(p, -E2BIG, "%s: data size overflows", p->ctx);
        if (t->offset % f->alignment != 0)
                return fail(p, -EBADMSG, "%s: offset %" PRIu64 " is not a multiple of the alignment %" PRIu32, p->ctx,
                            t->offset, f->alignment);
        return 0;
}

static int parse_tensors(struct parser *p, GgufFile *f, uint64_t n_tensors) {
        char name[72];
        int r;

        if (n_tensors > GGUF_MAX_TENSORS)
                return fail(p, -E2BIG, "file has %" PRIu64 " tensors, the limit is %u", n_tensors, GGUF_MAX_TENSORS);
        snprintf(p->ctx, sizeof(p->ctx), "tensor infos (%" PRIu64 " tensors)", n_tensors);
        r = need(p, n_tensors * MIN_TENSOR_INFO_BYTES);
        if (r < 0)
                return r;

        f->tensors = new0(struct gguf_tensor, n_tensors);
        if (!f->tensors)
                return -ENOMEM;
        r = index_new(n_tensors, &f->tensor_index, &f->tensor_index_mask);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n_tensors; i++) {
                r = parse_tensor_info(p, f, i);
                if (r < 0)
                        return r;
        }

        /* The data section starts at the first aligned offset after the infos. */
        if (ADD_OVERFLOW(p->off, (size_t) f->alignment - 1, &f->data_offset))
                return fail(p, -EBADMSG, "data section offset overflows");
        f->data_offset -= f->data_offset % f->alignment;

        for (size_t i = 0; i < f->n_tensors; i++) {
                struct gguf_tensor *t = &f->tensors[i];
                uint64_t start, end;

                if (ADD_OVERFLOW((uint64_t) f->data_offset, t->offset, &start) ||
                    ADD_OVERFLOW(start, (uint64_t) t->nbytes, &end) || end > f->size)
                        return fail(p, -EBADMSG,
                                    "tensor '%s': %zu bytes of data at offset %" PRIu64 " of the data section "
                                    "(which starts at %zu) lie outside the file (size %zu)",
                                    safe_name(t->name, name, sizeof(name)), t->nbytes, t->offset,
                                    f->data_offset, f->size);
                t->data = f->map + start;
        }
        return 0;
}

int gguf_parse_buffer(const void *data, size_t size, GgufFile **ret, char *ret_error, size_t error_size) {
        _cleanup_(gguf_freep) GgufFile *f = NULL;
        struct parser p = {
                .buf = data,
                .size = size,
                .ctx = "header",
                .err = ret_error,
                .err_size = error_size,
        };
        uint32_t magic;
        uint64_t n_tensors, n_kv;
        int r;

        if (!data && size > 0)
                return -EINVAL;
        if (size == 0)
                return fail(&p, -EBADMSG, "file is empty");

        r = rd_u32(&p, &magic);
        if (r < 0)
                return r;
        if (magic != GGUF_MAGIC)
                return fail(&p, -EPROTONOSUPPORT, "not a GGUF file (magic %02x %02x %02x %02x)", p.buf[0], p.buf[1],
                            p.buf[2], p.buf[3]);
        f = new0(GgufFile, 1);
        if (!f)
                return -ENOMEM;
        f->map = data;
        f->size = size;

        r = rd_u32(&p, &f->version);
        if (r < 0)
                return r;
        if (f->version != 2 && f->version != 3) {
                /* Big-endian GGUF stores the version byte-swapped too. */
                if (f->version >= (1u << 16) && (f->version & 0xffff) == 0)
                        return fail(&p, -EPROTONOSUPPORT, "big-endian GGUF files are not supported");
                return fail(&p, -EPROTONOSUPPORT, "GGUF version %" PRIu32 " is not supported (only 2 and 3)",
                            f->version);
        }
        r = rd_u64(&p, &n_tensors);
        if (r < 0)
                return r;
        r = rd_u64(&p, &n_kv);
        if (r < 0)
                return r;

        r = parse_kvs(&p, f, n_kv);
        if (r < 0)
                return r;
        r = parse_alignment(&p, f);
        if (r < 0)
                return r;
        r = parse_tensors(&p, f, n_tensors);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(f);
        return 0;
}

int gguf_open_fd(int fd, GgufFile **ret, char *ret_error, size_t error_size) {
        GgufFile *f = NULL;
        struct stat st;
        void *m;
        int r;

        /* %m: errno is still the one of the failed call when vsnprintf reads it. */
        if (fstat(fd, &st) < 0)
                return errorf(ret_error, error_size, -errno, "fstat failed: %m");
        if (!S_ISREG(st.st_mode))
                return errorf(ret_error, error_size, -EINVAL, "not a regular file");
        if (st.st_size == 0)
                return errorf(ret_error, error_size, -EBADMSG, "file is empty");
        if ((uint64_t) st.st_size > SIZE_MAX)
                return errorf(ret_error, error_size, -EFBIG, "file too large to map");

        /* MAP_PRIVATE + PROT_READ: we never write, and a file that shrinks under
         * us would still SIGBUS; model files are expected to be immutable. */
        m = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED)
                return errorf(ret_error, error_size, -errno, "mmap failed: %m");

        r = gguf_parse_buffer(m, (size_t) st.st_size, &f, ret_error, error_size);
        if (r < 0) {
                munmap(m, (size_t) st.st_size);
                return r;
        }
        f->owns_map = true;
        *ret = f;
        return 0;
}

int gguf_open(const char *path, GgufFile **ret, char *ret_error, size_t error_size) {
        _cleanup_close_ int fd = -EBADF;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errorf(ret_error, error_size, -errno, "cannot open: %m");
        /* The mapping keeps its own reference to the file. */
        return gguf_open_fd(fd, ret, ret_error, error_size);
}

GgufFile *gguf_free(GgufFile *f) {
        if (!f)
                return NULL;
        if (f->owns_map && f->map)
                munmap((void *) f->map, f->size);
        free(f->kv);
        free(f->tensors);
        free(f->str_pool);
        free(f->kv_index);
        free(f->tensor_index);
        free(f);
        return NULL;
}

const struct gguf_kv *gguf_find_kv(const GgufFile *f, const char *key) {
        int64_t i;

        if (!f || !key)
                return NULL;
        i = index_find(f->kv_index, f->kv_index_mask, KV_INDEX_ARGS(f), key, strlen(key));
        return i < 0 ? NULL : &f->kv[i];
}

const struct gguf_tensor *gguf_find_tensor(const GgufFile *f, const char *name) {
        int64_t i;

        if (!f || !name)
                return NULL;
        i = index_find(f->tensor_index, f->tensor_index_mask, TENSOR_INDEX_ARGS(f), name, strlen(name));
        return i < 0 ? NULL : &f->tensors[i];
}

/* Reads an integer value of any integer type as sign + magnitude, so every
 * target type can be range-checked without a wider type. */
static bool load_int(enum gguf_type t, const void *p, bool *ret_neg, uint64_t *ret_abs) {
        int64_t s;

        switch (t) {
        case GGUF_TYPE_UINT8:
                *ret_neg = false, *ret_abs = *(const uint8_t *) p;
                return true;
        case GGUF_TYPE_UINT16:
                *ret_neg = false, *ret_abs = ld16(p);
                return true;
        case GGUF_TYPE_UINT32:
                *ret_neg = false, *ret_abs = ld32(p);
                return true;
        case GGUF_TYPE_UINT64:
                *ret_neg = false, *ret_abs = ld64(p);
                return true;
        case GGUF_TYPE_INT8:
                s = *(const int8_t *) p;
                break;
        case GGUF_TYPE_INT16:
                s = (int16_t) ld16(p);
                break;
        case GGUF_TYPE_INT32:
                s = (int32_t) ld32(p);
                break;
        case GGUF_TYPE_INT64:
                s = (int64_t) ld64(p);
                break;
        default:
                return false;
        }
        *ret_neg = s < 0;
        *ret_abs = s < 0 ? (uint64_t) 0 - (uint64_t) s : (uint64_t) s;
        return true;
}

static int get_int(const GgufFile *f, const char *key, bool *ret_neg, uint64_t *ret_abs) {
        const struct gguf_kv *kv = gguf_find_kv(f, key);

        if (!kv)
                return -ENOENT;
        if (!load_int(kv->type, kv->data, ret_neg, ret_abs))
                return -EBADMSG;
        return 0;
}

int gguf_get_u32(const GgufFile *f, const char *key, uint32_t *ret) {
        uint64_t v;
        bool neg;
        int r = get_int(f, key, &neg, &v);

        if (r < 0)
                return r;
        if (neg || v > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

int gguf_get_u64(const GgufFile *f, const char *key, uint64_t *ret) {
        uint64_t v;
        bool neg;
        int r = get_int(f, key, &neg, &v);

        if (r < 0)
                return r;
        if (neg)
                return -ERANGE;
        *ret = v;
        return 0;
}

int gguf_get_i64(const GgufFile *f, const char *key, int64_t *ret) {
        uint64_t v;
        bool neg;
        int r = get_int(f, key, &neg, &v);

        if (r < 0)
                return r;
        if (neg) {
                if (v > (uint64_t) INT64_MAX + 1)
                        return -ERANGE;
                *ret = v == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) v;
        } else {
                if (v > INT64_MAX)
                        return -ERANGE;
                *ret = (int64_t) v;
        }
        return 0;
}

static double load_float(enum gguf_type t, const void *p) {
        if (t == GGUF_TYPE_FLOAT32) {
                uint32_t u = ld32(p);
                float v;
                memcpy(&v, &u, sizeof(v));
                return v;
        } else {
                uint64_t u = ld64(p);
                double v;
                memcpy(&v, &u, sizeof(v));
                return v;
        }
}

int gguf_get_f32(const GgufFile *f, const char *key, float *ret) {
        const struct gguf_kv *kv = gguf_find_kv(f, key);

        if (!kv)
                return -ENOENT;
        if (kv->type != GGUF_TYPE_FLOAT32 && kv->type != GGUF_TYPE_FLOAT64)
                return -EBADMSG;
        *ret = (float) load_float(kv->type, kv->data);
        return 0;
}

int gguf_get_bool(const GgufFile *f, const char *key, bool *ret) {
        const struct gguf_kv *kv = gguf_find_kv(f, key);

        if (!kv)
                return -ENOENT;
        if (kv->type != GGUF_TYPE_BOOL)
                return -EBADMSG;
        *ret = *(const uint8_t *) kv->data != 0;
        return 0;
}

int gguf_get_str(const GgufFile *f, const char *key, struct gguf_str *ret) {
        const struct gguf_kv *kv = gguf_find_kv(f, key);

        if (!kv)
                return -ENOENT;
        if (kv->type != GGUF_TYPE_STRING)
                return -EBADMSG;
        *ret = kv->str;
        return 0;
}

int gguf_get_strdup(const GgufFile *f, const char *key, char **ret) {
        struct gguf_str s;
        char *c;
        int r;

        r = gguf_get_str(f, key, &s);
        if (r < 0)
                return r;
        if (s.len > 0 && memchr(s.s, 0, s.len))
                return -EBADMSG;
        c = malloc(s.len + 1);
        if (!c)
                return -ENOMEM;
        if (s.len > 0)
                memcpy(c, s.s, s.len);
        c[s.len] = 0;
        *ret = c;
        return 0;
}

int gguf_get_array(const GgufFile *f, const char *key, enum gguf_type elem_type, const struct gguf_kv **ret) {
        const struct gguf_kv *kv = gguf_find_kv(f, key);

        if (!kv)
                return -ENOENT;
        if (kv->type != GGUF_TYPE_ARRAY || kv->arr_type != elem_type)
                return -EBADMSG;
        *ret = kv;
        return 0;
}

static const void *array_elem(const struct gguf_kv *kv, uint64_t i) {
        if (kv->type != GGUF_TYPE_ARRAY || value_size[kv->arr_type] == 0)
                return NULL;
        return (const uint8_t *) kv->data + i * value_size[kv->arr_type];
}

double gguf_array_get_f64(const struct gguf_kv *kv, uint64_t i) {
        const void *p = array_elem(kv, i);
        uint64_t v;
        bool neg;

        if (!p)
                return 0;
        if (kv->arr_type == GGUF_TYPE_FLOAT32 || kv->arr_type == GGUF_TYPE_FLOAT64)
                return load_float(kv->arr_type, p);
        if (kv->arr_type == GGUF_TYPE_BOOL)
                return *(const uint8_t *) p;
        if (!load_int(kv->arr_type, p, &neg, &v))
                return 0;
        return neg ? -(double) v : (double) v;
}

int64_t gguf_array_get_i64(const struct gguf_kv *kv, uint64_t i) {
        const void *p = array_elem(kv, i);
        uint64_t v;
        bool neg;

        if (!p)
                return 0;
        if (kv->arr_type == GGUF_TYPE_FLOAT32 || kv->arr_type == GGUF_TYPE_FLOAT64) {
                double d = load_float(kv->arr_type, p);
                /* Saturate: converting an out-of-range double is undefined. */
                if (!(d == d))
                        return 0;
                if (d >= 9223372036854775807.0)
                        return INT64_MAX;
                if (d <= -9223372036854775808.0)
                        return INT64_MIN;
                return (int64_t) d;
        }
        if (kv->arr_type == GGUF_TYPE_BOOL)
                return *(const uint8_t *) p;
        if (!load_int(kv->arr_type, p, &neg, &v))
                return 0;
        if (neg)
                return v > (uint64_t) INT64_MAX ? INT64_MIN : -(int64_t) v;
        return v > INT64_MAX ? INT64_MAX : (int64_t) v;
}
