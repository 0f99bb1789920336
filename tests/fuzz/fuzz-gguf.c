/* SPDX-License-Identifier: MIT */

/*
 * libFuzzer target for the GGUF reader: any input must either fail with a
 * negative errno and a message, or give a file whose every value and every
 * tensor byte can be read without leaving the buffer (ASan checks that; the
 * buffer libFuzzer hands us is exactly `size` bytes).
 */

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

static void exercise_kv(const GgufFile *f, const struct gguf_kv *kv) {
        char *key, *dup = NULL;
        const struct gguf_kv *a;
        struct gguf_str s;
        uint32_t u32;
        uint64_t u64;
        int64_t i64;
        float f32;
        bool b;

        /* The getters take NUL-terminated keys. */
        key = malloc(kv->key.len + 1);
        if (!key)
                return;
        memcpy(key, kv->key.s, kv->key.len);
        key[kv->key.len] = 0;

        /* Keys are unique, so a key without an embedded NUL finds itself. */
        if (strlen(key) == kv->key.len)
                assert(gguf_find_kv(f, key) == kv);

        if (gguf_get_u32(f, key, &u32) == 0)
                sink += u32;
        if (gguf_get_u64(f, key, &u64) == 0)
                sink += u64;
        if (gguf_get_i64(f, key, &i64) == 0)
                sink += (uint64_t) i64;
        if (gguf_get_f32(f, key, &f32) == 0)
                sink += f32 == f32;
        if (gguf_get_bool(f, key, &b) == 0)
                sink += b;
        if (gguf_get_str(f, key, &s) == 0 && s.len > 0)
                sink += (uint8_t) s.s[0] + (uint8_t) s.s[s.len - 1];
        if (gguf_get_strdup(f, key, &dup) == 0) {
                sink += strlen(dup);
                free(dup);
        }
        for (int t = 0; t < _GGUF_TYPE_MAX; t++) {
                if (gguf_get_array(f, key, t, &a) < 0)
                        continue;
                assert(a->type == GGUF_TYPE_ARRAY && a->arr_type == (enum gguf_type) t);
                if (a->arr_n == 0)
                        continue;
                sink += (uint64_t) gguf_array_get_i64(a, 0) + (uint64_t) gguf_array_get_i64(a, a->arr_n - 1);
                sink += gguf_array_get_f64(a, a->arr_n - 1) != 0;
                if (t == GGUF_TYPE_STRING)
                        for (uint64_t i = 0; i < a->arr_n; i++)
                                if (a->strs[i].len > 0)
                                        sink += (uint8_t) a->strs[i].s[0] + (uint8_t) a->strs[i].s[a->strs[i].len - 1];
        }
        sink += strlen(gguf_type_name(kv->type));
        free(key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        GgufFile *f = NULL;
        char err[256] = "";
        int r;

        r = gguf_parse_buffer(data, size, &f, err, sizeof(err));
        if (r < 0) {
                /* Every failure but out-of-memory explains itself. */
                assert(r == -ENOMEM || err[0] != 0);
                return 0;
        }

        assert(f->alignment >= 1 && f->alignment <= GGUF_MAX_ALIGNMENT);
        for (size_t i = 0; i < f->n_kv; i++)
                exercise_kv(f, &f->kv[i]);

        for (size_t i = 0; i < f->n_tensors; i++) {
                const struct gguf_tensor *t = &f->tensors[i];
                const uint8_t *d = t->data;
                char name[GGUF_MAX_NAME + 1];

                assert(t->nbytes > 0);
                assert(d >= f->map && (size_t) (d - f->map) <= f->size - t->nbytes);
                assert((size_t) (d - f->map) % f->alignment == 0);
                sink += d[0] + d[t->nbytes - 1];

                memcpy(name, t->name.s, t->name.len);
                name[t->name.len] = 0;
                if (strlen(name) == t->name.len)
                        assert(gguf_find_tensor(f, name) == t);
        }
        sink += gguf_find_kv(f, "general.architecture") != NULL;
        gguf_free(f);
        return 0;
}
