/* SPDX-License-Identifier: MIT */
/*
 * tools/unicorn-quantize (argv[1]), as a user runs it:
 *  - on a file written here with matrices of row lengths that do and do not divide into each block
 *    size, a Q8_0 source, a 1-D tensor and string arrays: every tensor gets the type the q4_k_m mix
 *    rules give (llama.cpp's: Q6_K for the output and for attn_v / ffn_down of the layers that get more
 *    bits, Q4_K otherwise, its fallbacks where rows do not divide), every quantized row is the engine's
 *    quantize_row of the source row's values, the rest is copied, and every metadata entry is copied
 *    with general.file_type set;
 *  - on the llama and qwen2 fixture models (float32 weights from transformers): the quantized file
 *    loads and its logits stay near transformers' (weights and activations both quantized now, so the
 *    bounds are looser than test-model-fixtures' for files quantized elsewhere);
 *  - hostile input: a truncated file and an unknown type fail with a message and leave no output.
 */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine.h"
#include "gguf.h"
#include "quant.h"
#include "test-helpers.h"

static const char *tool;
static char dir[] = "/tmp/test-quantize-XXXXXX";

static int run_tool(const char *in, const char *out, const char *type) {
        pid_t pid = fork();
        int st;

        CHECK(pid >= 0);
        if (pid == 0) {
                execl(tool, tool, "-t", "3", in, out, type, (char *) NULL);
                _exit(127);
        }
        CHECK(waitpid(pid, &st, 0) == pid);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- a small GGUF written here ---- */

struct wt {
        const char *name;
        uint32_t k, rows; /* rows 0: a 1-D tensor of k */
        uint32_t type;    /* of the source data */
        uint32_t want;    /* under q4_k_m */
};

static const struct wt synth[] = {
        { "token_embd.weight", 512, 6, GGML_TYPE_F32, GGML_TYPE_Q4_K },       /* the model has an output */
        { "output.weight", 512, 6, GGML_TYPE_F32, GGML_TYPE_Q6_K },
        { "blk.0.attn_v.weight", 512, 3, GGML_TYPE_F32, GGML_TYPE_Q6_K },     /* first eighth of 16 */
        { "blk.3.attn_v.weight", 512, 3, GGML_TYPE_F32, GGML_TYPE_Q4_K },     /* (3 - 2) % 3 == 1 */
        { "blk.4.ffn_down.weight", 768, 2, GGML_TYPE_F32, GGML_TYPE_Q6_K },   /* (4 - 2) % 3 == 2 */
        { "blk.14.ffn_down.weight", 96, 2, GGML_TYPE_F32, GGML_TYPE_Q8_0 },   /* last eighth; Q6_K -> Q8_0 */
        { "blk.3.attn_q.weight", 96, 4, GGML_TYPE_F32, GGML_TYPE_Q5_0 },      /* Q4_K -> Q5_0 */
        { "blk.3.odd.weight", 40, 2, GGML_TYPE_F32, GGML_TYPE_F16 },          /* no block fits */
        { "blk.3.attn_k.weight", 512, 2, GGML_TYPE_Q8_0, GGML_TYPE_Q4_K },    /* requantized */
        { "blk.5.ffn_gate.weight", 256, 2, GGML_TYPE_Q4_K, GGML_TYPE_Q4_K },  /* copied */
        { "blk.3.attn_norm.weight", 512, 0, GGML_TYPE_F32, GGML_TYPE_F32 },   /* 1-D: copied */
};

static float val(uint32_t t, uint64_t i) {
        uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ (uint64_t) t * 0xBF58476D1CE4E5B9ull;
        x ^= x >> 31;
        return (float) ((double) (x % 20001) / 10000.0 - 1.0);
}

/* The source bytes of tensor t. */
static uint8_t *synth_data(size_t t, size_t *ret_size) {
        const struct wt *w = &synth[t];
        uint32_t rows = w->rows ? w->rows : 1;
        size_t rb;
        float *row = malloc(w->k * sizeof(float));
        CHECK(row && quant_row_size(w->type, w->k, &rb) == 0);
        uint8_t *d = malloc(rb * rows);
        CHECK(d);
        for (uint32_t r = 0; r < rows; r++) {
                for (uint32_t i = 0; i < w->k; i++)
                        row[i] = val((uint32_t) t, (uint64_t) r * w->k + i);
                quantize_row(w->type, row, d + r * rb, w->k);
        }
        free(row);
        *ret_size = rb * rows;
        return d;
}

static void w32(FILE *f, uint32_t v) { CHECK(fwrite(&v, 4, 1, f) == 1); }
static void w64(FILE *f, uint64_t v) { CHECK(fwrite(&v, 8, 1, f) == 1); }
static void wstr(FILE *f, const char *s) {
        w64(f, strlen(s));
        CHECK(fwrite(s, 1, strlen(s), f) == strlen(s));
}
static void wpad(FILE *f) {
        while (ftell(f) % 32)
                CHECK(fputc(0, f) != EOF);
}

static void write_synth(const char *path) {
        FILE *f = fopen(path, "we");
        uint64_t off = 0;

        CHECK(f);
        w32(f, GGUF_MAGIC);
        w32(f, 3);
        w64(f, ELEMENTSOF(synth));
        w64(f, 5);
        wstr(f, "general.architecture"), w32(f, GGUF_TYPE_STRING), wstr(f, "llama");
        wstr(f, "llama.block_count"), w32(f, GGUF_TYPE_UINT32), w32(f, 16);
        wstr(f, "general.file_type"), w32(f, GGUF_TYPE_UINT32), w32(f, 0);
        wstr(f, "tokenizer.ggml.tokens"), w32(f, GGUF_TYPE_ARRAY), w32(f, GGUF_TYPE_STRING), w64(f, 3);
        wstr(f, "a"), wstr(f, ""), wstr(f, "\xe2\x96\x81the");
        wstr(f, "tokenizer.ggml.scores"), w32(f, GGUF_TYPE_ARRAY), w32(f, GGUF_TYPE_FLOAT32), w64(f, 2);
        w32(f, 0x3f800000), w32(f, 0xbf800000);
        for (size_t t = 0; t < ELEMENTSOF(synth); t++) {
                size_t n;
                free(synth_data(t, &n));
                wstr(f, synth[t].name);
                w32(f, synth[t].rows ? 2 : 1);
                w64(f, synth[t].k);
                if (synth[t].rows)
                        w64(f, synth[t].rows);
                w32(f, synth[t].type);
                w64(f, off);
                off += (n + 31) / 32 * 32;
        }
        wpad(f);
        for (size_t t = 0; t < ELEMENTSOF(synth); t++) {
                size_t n;
                _cleanup_free_ uint8_t *d = synth_data(t, &n);
                CHECK(fwrite(d, 1, n, f) == n);
                wpad(f);
        }
        CHECK(fclose(f) == 0);
}

/* Every metadata entry of a is in b with the same type and value, but general.file_type, which b has
 * as ftype. */
static void check_kv(const GgufFile *a, const GgufFile *b, uint32_t ftype) {
        uint32_t ft;

        CHECK(gguf_get_u32(b, "general.file_type", &ft) == 0 && ft == ftype);
        CHECK(b->n_kv == a->n_kv + (gguf_find_kv(a, "general.file_type") ? 0 : 1));
        for (size_t i = 0; i < a->n_kv; i++) {
                const struct gguf_kv *x = &a->kv[i];
                char key[256];
                snprintf(key, sizeof key, "%.*s", (int) x->key.len, x->key.s);
                if (streq(key, "general.file_type"))
                        continue;
                const struct gguf_kv *y = gguf_find_kv(b, key);
                CHECK_MSG(y && y->type == x->type, "%s", key);
                if (x->type == GGUF_TYPE_STRING)
                        CHECK_MSG(x->str.len == y->str.len && memcmp(x->str.s, y->str.s, x->str.len) == 0, "%s", key);
                else if (x->type == GGUF_TYPE_ARRAY) {
                        CHECK_MSG(y->arr_type == x->arr_type && y->arr_n == x->arr_n, "%s", key);
                        for (uint64_t j = 0; j < x->arr_n; j++)
                                if (x->arr_type == GGUF_TYPE_STRING)
                                        CHECK_MSG(x->strs[j].len == y->strs[j].len &&
                                                  memcmp(x->strs[j].s, y->strs[j].s, x->strs[j].len) == 0,
                                                  "%s[%lu]", key, (unsigned long) j);
                                else
                                        CHECK_MSG(gguf_array_get_f64(x, j) == gguf_array_get_f64(y, j), "%s[%lu]", key,
                                                  (unsigned long) j);
                } else {
                        /* Scalars: their little-endian bytes. */
                        CHECK_MSG(memcmp(x->data, y->data, gguf_type_size(x->type)) == 0, "%s", key);
                }
        }
}

/* Tensor t of b is a's in type `type`: each row the quantize_row of a's row's values. */
static void check_tensor(const struct gguf_tensor *x, const struct gguf_tensor *y, uint32_t type) {
        uint64_t rows = x->n_dims > 1 ? x->ne[1] : 1, k = x->ne[0];
        size_t rx, ry;

        CHECK_MSG(y->type == type, "%.*s: %s, expected %s", (int) x->name.len, x->name.s, quant_type_name(y->type),
                  quant_type_name(type));
        CHECK(y->n_dims == x->n_dims && memcmp(y->ne, x->ne, sizeof x->ne) == 0);
        if (type == x->type) {
                CHECK(y->nbytes == x->nbytes && memcmp(y->data, x->data, x->nbytes) == 0);
                return;
        }
        CHECK(quant_row_size(x->type, k, &rx) == 0 && quant_row_size(type, k, &ry) == 0 && y->nbytes == ry * rows);
        _cleanup_free_ float *f = malloc(k * sizeof(float));
        _cleanup_free_ uint8_t *q = malloc(ry);
        CHECK(f && q);
        for (uint64_t r = 0; r < rows; r++) {
                dequantize_row(x->type, (const uint8_t *) x->data + r * rx, f, k);
                quantize_row(type, f, q, k);
                CHECK_MSG(memcmp(q, (const uint8_t *) y->data + r * ry, ry) == 0, "%.*s row %lu", (int) x->name.len,
                          x->name.s, (unsigned long) r);
        }
}

static void test_synthetic(void) {
        char in[64], out[64], err[256];
        _cleanup_(gguf_freep) GgufFile *a = NULL, *b = NULL, *c = NULL;

        snprintf(in, sizeof in, "%s/in.gguf", dir);
        snprintf(out, sizeof out, "%s/out.gguf", dir);
        write_synth(in);
        CHECK_MSG(gguf_open(in, &a, err, sizeof err) == 0, "%s", err);

        CHECK_RET(run_tool(in, out, "q4_k_m"), 0);
        CHECK_MSG(gguf_open(out, &b, err, sizeof err) == 0, "%s", err);
        check_kv(a, b, 15);
        CHECK(b->n_tensors == ELEMENTSOF(synth));
        for (size_t t = 0; t < ELEMENTSOF(synth); t++) {
                const struct gguf_tensor *y = gguf_find_tensor(b, synth[t].name);
                CHECK_MSG(y, "%s", synth[t].name);
                check_tensor(gguf_find_tensor(a, synth[t].name), y, synth[t].want);
        }

        /* A plain type: where its blocks do not divide a row, F16 (no K-quant fallback applies). Written
         * over the earlier output: it is replaced whole. */
        CHECK_RET(run_tool(in, out, "q4_0"), 0);
        CHECK_MSG(gguf_open(out, &c, err, sizeof err) == 0, "%s", err);
        check_kv(a, c, 2);
        check_tensor(gguf_find_tensor(a, "blk.3.odd.weight"), gguf_find_tensor(c, "blk.3.odd.weight"),
                     GGML_TYPE_F16);
        check_tensor(gguf_find_tensor(a, "output.weight"), gguf_find_tensor(c, "output.weight"), GGML_TYPE_Q4_0);
        check_tensor(gguf_find_tensor(a, "blk.3.attn_k.weight"), gguf_find_tensor(c, "blk.3.attn_k.weight"),
                     GGML_TYPE_Q4_0);
        check_tensor(gguf_find_tensor(a, "blk.5.ffn_gate.weight"), gguf_find_tensor(c, "blk.5.ffn_gate.weight"),
                     GGML_TYPE_Q4_0);
        printf("synthetic file: q4_k_m mix types, rows and metadata as expected; q4_0 with its F16 fallback\n");
}

/* Hostile or wrong input: an error on stderr, a non-zero exit, no output file. */
static void test_bad(void) {
        char in[64], cut[64], out[64];
        struct stat st;

        snprintf(in, sizeof in, "%s/in.gguf", dir);
        snprintf(cut, sizeof cut, "%s/cut.gguf", dir);
        snprintf(out, sizeof out, "%s/bad-out.gguf", dir);
        CHECK(stat(in, &st) == 0);
        FILE *f = fopen(in, "re"), *g = fopen(cut, "we");
        CHECK(f && g);
        for (long i = 0; i < st.st_size - 100; i++)
                CHECK(fputc(fgetc(f), g) != EOF);
        fclose(f);
        CHECK(fclose(g) == 0);
        CHECK(run_tool(cut, out, "q8_0") == 1);
        CHECK(run_tool(in, out, "q3_k") == 2);
        CHECK(run_tool("/nonexistent.gguf", out, "q8_0") == 1);
        CHECK(stat(out, &st) < 0 && errno == ENOENT);
        printf("truncated file, unknown type, missing file: refused, no output\n");
}

/* A fixture model (float32 weights) quantized here to `type`: where `same_as` names a fixture that
 * tests/fixtures/gen-fixtures.py quantized from the same weights with gguf-py (an independent
 * implementation), every tensor must be byte for byte the same; the file loads, and the NMSE of its
 * logits against transformers' float32 ones is returned. */
static double test_fixture(const char *fx, const char *file, const char *arch, const char *type, const char *same_as) {
        char in[512], out[128], tok[512], ref[512], err[512] = "";
        _cleanup_(model_unrefp) Model *m = NULL;
        _cleanup_(context_freep) Context *ctx = NULL;
        int32_t toks[64], pos[64], seq[64];
        bool want[64];
        int n = 0;

        snprintf(in, sizeof in, "%s/models/%s", fx, file);
        snprintf(tok, sizeof tok, "%s/models/%s.tokens.txt", fx, arch);
        snprintf(ref, sizeof ref, "%s/models/%s.logits.bin", fx, arch);
        snprintf(out, sizeof out, "%s/%s-%s.gguf", dir, arch, type);
        CHECK_RET(run_tool(in, out, type), 0);
        if (same_as) {
                _cleanup_(gguf_freep) GgufFile *a = NULL, *b = NULL;
                snprintf(in, sizeof in, "%s/models/%s", fx, same_as);
                CHECK_MSG(gguf_open(in, &a, err, sizeof err) == 0 && gguf_open(out, &b, err, sizeof err) == 0, "%s",
                          err);
                CHECK(a->n_tensors == b->n_tensors);
                for (size_t i = 0; i < a->n_tensors; i++) {
                        const struct gguf_tensor *x = &a->tensors[i];
                        char name[128];
                        snprintf(name, sizeof name, "%.*s", (int) x->name.len, x->name.s);
                        const struct gguf_tensor *y = gguf_find_tensor(b, name);
                        CHECK_MSG(y && y->type == x->type && y->nbytes == x->nbytes &&
                                          memcmp(y->data, x->data, x->nbytes) == 0,
                                  "%s: %s differs from %s's", out, name, same_as);
                }
        }
        CHECK_MSG(model_load(out, &(struct model_load_options) { .n_threads = 2 }, &m, err, sizeof err) == 0, "%s: %s",
                  out, err);
        FILE *f = fopen(tok, "re");
        CHECK_MSG(f, "%s: %m", tok);
        while (n < 64 && fscanf(f, "%d", &toks[n]) == 1)
                n++;
        fclose(f);
        uint32_t nv = model_get_info(m)->n_vocab;
        size_t total = (size_t) n * nv;
        _cleanup_free_ float *r = malloc(total * sizeof(float));
        CHECK(r && (f = fopen(ref, "re")) && fread(r, sizeof(float), total, f) == total);
        fclose(f);
        CHECK(context_new(m, &(struct context_options) { .n_ctx = 64, .n_batch = 64 }, &ctx, err, sizeof err) == 0);
        for (int i = 0; i < n; i++) {
                pos[i] = i;
                seq[i] = 0;
                want[i] = true;
        }
        CHECK_RET(context_decode(ctx, &(struct batch) { (size_t) n, toks, pos, seq, want }), 0);
        double e = 0, s = 0;
        for (int i = 0; i < n; i++)
                for (uint32_t v = 0; v < nv; v++) {
                        double d = context_logits(ctx, (size_t) i)[v] - r[(size_t) i * nv + v];
                        e += d * d;
                        s += (double) r[(size_t) i * nv + v] * r[(size_t) i * nv + v];
                }
        printf("%s quantized to %s here%s%s: logits NMSE %.3g against transformers' float32\n", file, type,
               same_as ? ": the same bytes as gguf-py's " : "", same_as ? same_as : "", e / s);
        return e / s;
}

int main(int argc, char **argv) {
        const char *fx = getenv("UNICORN_FIXTURES");

        if (argc != 2)
                SKIP("usage: test-quantize PATH-TO-unicorn-quantize");
        tool = argv[1];
        CHECK(mkdtemp(dir));
        test_synthetic();
        test_bad();
        if (!fx)
                SKIP("UNICORN_FIXTURES not set");
        /* Q8_0 on these fixtures stays within test-model-fixtures' NMSE bound for quantized files (1e-3); the
         * q4_k_m mix (Q5_0 and Q8_0 here, rows of 64 and 128) must come closer than Q4_0. */
        CHECK(test_fixture(fx, "llama-f32.gguf", "llama", "q8_0", "llama-q8_0.gguf") <= 1e-3);
        double q4 = test_fixture(fx, "qwen2-f32.gguf", "qwen2", "q4_0", "qwen2-q4_0.gguf");
        CHECK(test_fixture(fx, "qwen2-f32.gguf", "qwen2", "q4_k_m", NULL) < q4);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        CHECK(system(cmd) == 0);
        return 0;
}
