/* SPDX-License-Identifier: MIT */
/*
 * Hostile model files: a valid fixture GGUF is truncated, corrupted and
 * edited (unknown architecture, unsupported tensor type, absurd
 * hyper-parameters, overflowing shapes, huge arrays, a missing tensor), and
 * loading must fail with a clear message and the right errno, never crash.
 * The sanitizer build runs this too.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "engine.h"
#include "test-helpers.h"

static uint8_t *orig;
static size_t orig_size;
static char tmp_path[] = "/tmp/unicorn-bad-XXXXXX";

static void read_file(const char *path) {
        FILE *f = fopen(path, "re");
        struct stat st;

        if (!f)
                SKIP("fixture %s missing", path);
        CHECK(fstat(fileno(f), &st) == 0);
        orig_size = (size_t) st.st_size;
        orig = malloc(orig_size);
        CHECK(orig && fread(orig, 1, orig_size, f) == orig_size);
        fclose(f);
}

static size_t find(const uint8_t *buf, size_t n, const char *needle) {
        size_t k = strlen(needle);
        for (size_t i = 0; i + k <= n; i++)
                if (memcmp(buf + i, needle, k) == 0)
                        return i;
        fprintf(stderr, "'%s' not found in the fixture\n", needle);
        exit(EXIT_FAILURE);
}

/* Writes buf to the temp file and loads it; returns the error, prints the message. */
static int load_bytes(const uint8_t *buf, size_t n, char *err, size_t errsz) {
        _cleanup_(model_unrefp) Model *m = NULL;
        FILE *f = fopen(tmp_path, "we");
        int r;

        CHECK(f && fwrite(buf, 1, n, f) == n);
        fclose(f);
        err[0] = 0;
        r = model_load(tmp_path, &(struct model_load_options) { .n_threads = 1 }, &m, err, errsz);
        return r;
}

static void expect_fail(const char *what, const uint8_t *buf, size_t n, int want_errno, const char *want_text) {
        char err[512];
        int r = load_bytes(buf, n, err, sizeof err);

        printf("%-34s -> %d (%s): %s\n", what, r, r < 0 ? strerror(-r) : "ok", err);
        CHECK_MSG(r < 0, "%s: loaded", what);
        CHECK_MSG(err[0] != 0, "%s: no message", what);
        if (want_errno)
                CHECK_MSG(r == -want_errno, "%s: got %d, expected %d", what, r, -want_errno);
        if (want_text)
                CHECK_MSG(strstr(err, want_text), "%s: message '%s' lacks '%s'", what, err, want_text);
}

static uint8_t *copy(void) {
        uint8_t *b = malloc(orig_size);
        CHECK(b);
        memcpy(b, orig, orig_size);
        return b;
}

/* Offset of the value of a metadata key (after the key, its type). */
static size_t kv_value(const uint8_t *buf, const char *key) {
        return find(buf, orig_size, key) + strlen(key) + 4;
}

/* Offset of a tensor info's n_dims field. */
static size_t tensor_info(const uint8_t *buf, const char *name) {
        /* Tensor infos follow all metadata; the name is preceded by its u64 length. */
        size_t off = 0, k = strlen(name);
        for (size_t i = 8; i + k <= orig_size; i++)
                if (memcmp(buf + i, name, k) == 0) {
                        uint64_t len;
                        memcpy(&len, buf + i - 8, 8);
                        if (len == k)
                                off = i + k;
                }
        CHECK_MSG(off, "tensor info %s not found", name);
        return off;
}

int main(void) {
        _cleanup_free_ char *path = NULL;
        char err[512];
        uint8_t *b;
        int fd;

        CHECK(asprintf(&path, "%s/models/llama-f32.gguf", test_fixtures_dir()) > 0);
        read_file(path);
        fd = mkstemp(tmp_path);
        CHECK(fd >= 0);
        close(fd);

        /* The untouched file loads. */
        CHECK_MSG(load_bytes(orig, orig_size, err, sizeof err) == 0, "pristine fixture: %s", err);

        /* Truncation anywhere: header, metadata, tensor infos, data. */
        {
                size_t cuts[] = { 0, 3, 4, 8, 16, 23, 24, 40, 100, 1000, 5000, orig_size / 2, orig_size - 1 };
                for (size_t i = 0; i < ELEMENTSOF(cuts); i++) {
                        char what[64];
                        snprintf(what, sizeof what, "truncated to %zu bytes", cuts[i]);
                        expect_fail(what, orig, cuts[i], 0, NULL);
                }
        }

        b = copy();
        memcpy(b, "GGUX", 4);
        expect_fail("bad magic", b, orig_size, EPROTONOSUPPORT, NULL);
        free(b);

        b = copy();
        memcpy(b + kv_value(b, "general.architecture") + 8, "llamz", 5);
        expect_fail("unknown architecture", b, orig_size, EOPNOTSUPP, "llamz");
        free(b);

        /* Tensor type: Q2_K is a real ggml type Unicorn does not run; 99 is no type at all. */
        b = copy();
        {
                size_t off = tensor_info(b, "blk.0.attn_q.weight");
                uint32_t n_dims, type = 10;
                memcpy(&n_dims, b + off, 4);
                memcpy(b + off + 4 + 8 * n_dims, &type, 4);
                expect_fail("unsupported tensor type", b, orig_size, 0, "Q2_K");
                type = 99;
                memcpy(b + off + 4 + 8 * n_dims, &type, 4);
                expect_fail("unknown tensor type", b, orig_size, EBADMSG, NULL);
        }
        free(b);

        /* Overflowing shape: 2^62 rows. */
        b = copy();
        {
                size_t off = tensor_info(b, "blk.0.ffn_up.weight");
                uint64_t huge = 1ull << 62;
                memcpy(b + off + 4 + 8, &huge, 8);
                expect_fail("overflowing shape", b, orig_size, 0, NULL);
        }
        free(b);

        /* Absurd hyper-parameters. */
        b = copy();
        {
                uint32_t v = 0xffffffffu;
                memcpy(b + kv_value(b, "llama.block_count"), &v, 4);
                expect_fail("block_count 2^32-1", b, orig_size, EBADMSG, NULL);
        }
        free(b);
        b = copy();
        {
                uint32_t v = 100000;
                memcpy(b + kv_value(b, "llama.embedding_length"), &v, 4);
                expect_fail("embedding_length 100000", b, orig_size, EBADMSG, NULL);
        }
        free(b);
        b = copy();
        {
                uint32_t v = 7; /* heads that do not divide into the kv heads */
                memcpy(b + kv_value(b, "llama.attention.head_count_kv"), &v, 4);
                expect_fail("head_count_kv 7", b, orig_size, EBADMSG, NULL);
        }
        free(b);

        /* A vocabulary array claiming 2^40 entries. */
        b = copy();
        {
                size_t off = kv_value(b, "tokenizer.ggml.tokens"); /* -> array element type */
                uint64_t n = 1ull << 40;
                memcpy(b + off + 4, &n, 8);
                expect_fail("2^40 tokens", b, orig_size, 0, NULL);
        }
        free(b);

        /* A missing tensor (renamed). */
        b = copy();
        {
                size_t off = tensor_info(b, "blk.1.ffn_up.weight");
                memcpy(b + off - strlen("up.weight"), "uq", 2);
                expect_fail("missing tensor", b, orig_size, EBADMSG, "blk.1.ffn_up.weight");
        }
        free(b);

        /* Single-byte corruption across the header and metadata: any outcome but a crash. */
        {
                size_t limit = MIN(orig_size, (size_t) 4096);
                int failed = 0, loaded = 0;
                for (size_t i = 0; i < limit; i += 7) {
                        b = copy();
                        b[i] ^= 0xa5;
                        if (load_bytes(b, orig_size, err, sizeof err) < 0) {
                                CHECK_MSG(err[0] != 0, "corruption at %zu: error without a message", i);
                                failed++;
                        } else
                                loaded++;
                        free(b);
                }
                printf("byte flips in the first %zu bytes: %d refused with a message, %d still loadable\n", limit,
                       failed, loaded);
        }

        unlink(tmp_path);
        free(orig);
        return 0;
}
