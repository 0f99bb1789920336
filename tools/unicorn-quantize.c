/* SPDX-License-Identifier: MIT */
/*
 * unicorn-quantize: writes a GGUF model again with its weight matrices in another type, quantized by
 * the engine's own reference quantizers (quant.h quantize_row, which follow ggml's, so that a file is
 * what llama.cpp's quantizer makes of the same weights without an importance matrix). Used on
 * random-weight models from tools/gen-random-gguf.py (benchmarks on machines with no model to
 * download) and on any float GGUF.
 *
 *   unicorn-quantize [-t THREADS] IN.gguf OUT.gguf TYPE
 *
 * TYPE: f32 f16 bf16 q4_0 q4_1 q5_0 q5_1 q8_0 q4_k q5_k q6_k, or q4_k_m, llama.cpp's mix: Q6_K for
 * the output matrix (the token embeddings where the model ties them) and for attn_v and ffn_down in
 * the layers where llama.cpp gives them more bits, Q4_K for the other matrices. A matrix whose rows do
 * not divide into the type's blocks takes llama.cpp's fallback (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K ->
 * Q8_0), else F16. One-dimensional tensors (norms, biases) and tensors of more than two dimensions are
 * copied as they are, as are matrices already of their target type; others are dequantized to f32
 * and quantized again (from a quantized file that loses what the first quantization lost).
 * Metadata is copied, general.file_type set. The output is written beside OUT and renamed over it
 * only when whole.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf.h"
#include "macros.h"
#include "quant.h"

#define MAX_ROW (1u << 24) /* elements in one row: a float row buffer per thread */
#define MAX_THREADS 256u

struct target {
        const char *name;
        uint32_t type;  /* enum ggml_type; for the mix, its base type */
        uint32_t ftype; /* llama.cpp's general.file_type (enum llama_ftype) */
};

static const struct target targets[] = {
        { "f32", GGML_TYPE_F32, 0 },    { "f16", GGML_TYPE_F16, 1 },   { "bf16", GGML_TYPE_BF16, 32 },
        { "q4_0", GGML_TYPE_Q4_0, 2 },  { "q4_1", GGML_TYPE_Q4_1, 3 }, { "q5_0", GGML_TYPE_Q5_0, 8 },
        { "q5_1", GGML_TYPE_Q5_1, 9 },  { "q8_0", GGML_TYPE_Q8_0, 7 }, { "q4_k", GGML_TYPE_Q4_K, 14 },
        { "q5_k", GGML_TYPE_Q5_K, 16 }, { "q6_k", GGML_TYPE_Q6_K, 18 }, { "q4_k_m", GGML_TYPE_Q4_K, 15 },
};

static bool ends_with(struct gguf_str s, const char *suffix) {
        size_t n = strlen(suffix);
        return s.len >= n && memcmp(s.s + s.len - n, suffix, n) == 0;
}

/* llama.cpp's use_more_bits: the first and last eighth of the layers and every third one between. */
static bool more_bits(uint32_t i, uint32_t n) {
        return i < n / 8 || i >= 7 * n / 8 || (i >= n / 8 && (i - n / 8) % 3 == 2);
}

/* The layer of a "blk.N." tensor, or -1. */
static long layer_of(struct gguf_str name) {
        char buf[32];
        unsigned long l;
        int used = 0;

        snprintf(buf, sizeof buf, "%.*s", (int) MIN(name.len, sizeof buf - 1), name.s);
        if (sscanf(buf, "blk.%lu.%n", &l, &used) != 1 || used == 0 || l > 100000)
                return -1;
        return (long) l;
}

/* The type a tensor is written in. */
static uint32_t tensor_type(const struct target *tg, const struct gguf_tensor *t, bool has_output,
                            uint32_t n_layer) {
        uint32_t ty = tg->type;
        size_t rb;

        if (t->n_dims != 2)
                return t->type;
        if (tg->ftype == 15) { /* q4_k_m */
                long l = layer_of(t->name);
                if (gguf_str_eq(t->name, "output.weight") || (!has_output && gguf_str_eq(t->name, "token_embd.weight")))
                        ty = GGML_TYPE_Q6_K;
                else if ((ends_with(t->name, ".attn_v.weight") || ends_with(t->name, ".ffn_down.weight")) && l >= 0 &&
                         n_layer > 0 && more_bits((uint32_t) l, n_layer))
                        ty = GGML_TYPE_Q6_K;
        }
        if (quant_row_size(ty, t->ne[0], &rb) == 0)
                return ty;
        ty = ty == GGML_TYPE_Q4_K ? GGML_TYPE_Q5_0 : ty == GGML_TYPE_Q5_K ? GGML_TYPE_Q5_1 :
             ty == GGML_TYPE_Q6_K ? GGML_TYPE_Q8_0 : ty;
        return quant_row_size(ty, t->ne[0], &rb) == 0 ? ty : GGML_TYPE_F16;
}

/* ---- writing ---- */

struct out {
        FILE *f;
        int err; /* first write error */
};

static void put(struct out *o, const void *p, size_t n) {
        if (!o->err && n && fwrite(p, 1, n, o->f) != n)
                o->err = -EIO;
}

static void put_u32(struct out *o, uint32_t v) {
        put(o, &v, 4);
}

static void put_u64(struct out *o, uint64_t v) {
        put(o, &v, 8);
}

static void put_str(struct out *o, struct gguf_str s) {
        put_u64(o, s.len);
        put(o, s.s, s.len);
}

/* One metadata entry as the file had it (the parser checked it and its sizes). */
static void put_kv(struct out *o, const struct gguf_kv *kv) {
        put_str(o, kv->key);
        put_u32(o, kv->type);
        if (kv->type == GGUF_TYPE_STRING)
                put_str(o, kv->str);
        else if (kv->type == GGUF_TYPE_ARRAY) {
                put_u32(o, kv->arr_type);
                put_u64(o, kv->arr_n);
                if (kv->arr_type == GGUF_TYPE_STRING)
                        for (uint64_t i = 0; i < kv->arr_n; i++)
                                put_str(o, kv->strs[i]);
                else
                        put(o, kv->data, (size_t) kv->arr_n * gguf_type_size(kv->arr_type));
        } else
                put(o, kv->data, gguf_type_size(kv->type));
}

static void put_pad(struct out *o, uint64_t pos, uint32_t align) {
        static const uint8_t zeros[256];
        uint64_t n = (align - pos % align) % align;

        while (n > 0) {
                size_t k = MIN(n, sizeof zeros);
                put(o, zeros, k);
                n -= k;
        }
}

/* ---- converting a tensor's rows, over threads ---- */

struct job {
        const uint8_t *src;
        uint8_t *dst;
        uint32_t src_type, dst_type;
        size_t src_rb, dst_rb;
        uint64_t k, rows;
        unsigned n_threads, i;
        int err;
};

static void *convert(void *arg) {
        struct job *j = arg;
        uint64_t r0 = j->rows * j->i / j->n_threads, r1 = j->rows * (j->i + 1) / j->n_threads;
        _cleanup_free_ float *row = malloc(j->k * sizeof(float));

        if (!row) {
                j->err = -ENOMEM;
                return NULL;
        }
        for (uint64_t r = r0; r < r1; r++) {
                dequantize_row(j->src_type, j->src + r * j->src_rb, row, j->k);
                quantize_row(j->dst_type, row, j->dst + r * j->dst_rb, j->k);
        }
        return NULL;
}

static int convert_tensor(const struct gguf_tensor *t, uint32_t type, unsigned n_threads, uint8_t *dst) {
        struct job jobs[MAX_THREADS];
        pthread_t th[MAX_THREADS];
        size_t src_rb, dst_rb;
        unsigned started = 1;
        int r;

        if ((r = quant_row_size(t->type, t->ne[0], &src_rb)) < 0 || (r = quant_row_size(type, t->ne[0], &dst_rb)) < 0)
                return r;
        n_threads = (unsigned) MIN((uint64_t) n_threads, MAX(t->ne[1], 1u));
        for (unsigned i = 0; i < n_threads; i++)
                jobs[i] = (struct job) { .src = t->data, .dst = dst, .src_type = t->type, .dst_type = type,
                                         .src_rb = src_rb, .dst_rb = dst_rb, .k = t->ne[0], .rows = t->ne[1],
                                         .n_threads = n_threads, .i = i };
        while (started < n_threads && pthread_create(&th[started], NULL, convert, &jobs[started]) == 0)
                started++;
        /* This thread's share, and those of threads that could not start. */
        convert(&jobs[0]);
        for (unsigned i = started; i < n_threads; i++)
                convert(&jobs[i]);
        for (unsigned i = 1; i < started; i++)
                pthread_join(th[i], NULL);
        for (unsigned i = 0; i < n_threads; i++)
                if (jobs[i].err < 0)
                        return jobs[i].err;
        return 0;
}

static int quantize_file(const GgufFile *in, const struct target *tg, unsigned n_threads, FILE *f, char *err,
                         size_t errsz) {
        struct out o = { .f = f };
        const struct gguf_kv *ft = gguf_find_kv(in, "general.file_type");
        uint32_t n_layer = 0, align = in->alignment;
        bool has_output = gguf_find_tensor(in, "output.weight") != NULL;
        _cleanup_free_ uint32_t *types = NULL;
        _cleanup_free_ uint64_t *sizes = NULL;
        struct gguf_str arch = {};

        if (gguf_get_str(in, "general.architecture", &arch) == 0) {
                char key[96];
                snprintf(key, sizeof key, "%.*s.block_count", (int) MIN(arch.len, 64u), arch.s);
                (void) gguf_get_u32(in, key, &n_layer);
        }
        types = new0(uint32_t, MAX(in->n_tensors, 1u));
        sizes = new0(uint64_t, MAX(in->n_tensors, 1u));
        if (!types || !sizes)
                return -ENOMEM;
        for (size_t i = 0; i < in->n_tensors; i++) {
                const struct gguf_tensor *t = &in->tensors[i];
                size_t rb;
                types[i] = tensor_type(tg, t, has_output, n_layer);
                if (types[i] == t->type) {
                        sizes[i] = t->nbytes;
                        continue;
                }
                if (t->ne[0] > MAX_ROW) {
                        snprintf(err, errsz, "%.*s: rows of %" PRIu64 " elements (at most %u)", (int) t->name.len,
                                 t->name.s, t->ne[0], MAX_ROW);
                        return -E2BIG;
                }
                if (quant_row_size(types[i], t->ne[0], &rb) < 0 || __builtin_mul_overflow(rb, t->ne[1], &sizes[i]) ||
                    sizes[i] > SIZE_MAX / 2) {
                        snprintf(err, errsz, "%.*s: too large", (int) t->name.len, t->name.s);
                        return -EOVERFLOW;
                }
        }

        /* Header and metadata, general.file_type replaced or added. */
        put_u32(&o, GGUF_MAGIC);
        put_u32(&o, 3);
        put_u64(&o, in->n_tensors);
        put_u64(&o, in->n_kv + (ft ? 0 : 1));
        for (size_t i = 0; i < in->n_kv; i++)
                if (&in->kv[i] != ft)
                        put_kv(&o, &in->kv[i]);
        put_str(&o, (struct gguf_str) { "general.file_type", strlen("general.file_type") });
        put_u32(&o, GGUF_TYPE_UINT32);
        put_u32(&o, tg->ftype);

        /* Tensor infos, then the data, each tensor at the file's alignment. */
        uint64_t off = 0;
        for (size_t i = 0; i < in->n_tensors; i++) {
                const struct gguf_tensor *t = &in->tensors[i];
                put_str(&o, t->name);
                put_u32(&o, t->n_dims);
                for (uint32_t d = 0; d < t->n_dims; d++)
                        put_u64(&o, t->ne[d]);
                put_u32(&o, types[i]);
                put_u64(&o, off);
                if (__builtin_add_overflow(off, sizes[i] + (align - sizes[i] % align) % align, &off))
                        return -EOVERFLOW;
        }
        if (o.err)
                return o.err;
        long pos = ftell(f);
        if (pos < 0)
                return -errno;
        put_pad(&o, (uint64_t) pos, align);
        for (size_t i = 0; i < in->n_tensors && !o.err; i++) {
                const struct gguf_tensor *t = &in->tensors[i];
                if (types[i] == t->type)
                        put(&o, t->data, t->nbytes);
                else {
                        _cleanup_free_ uint8_t *buf = malloc(MAX(sizes[i], 1u));
                        int r;
                        if (!buf)
                                return -ENOMEM;
                        if ((r = convert_tensor(t, types[i], n_threads, buf)) < 0) {
                                snprintf(err, errsz, "%.*s: %s", (int) t->name.len, t->name.s, strerror(-r));
                                return r;
                        }
                        put(&o, buf, sizes[i]);
                }
                put_pad(&o, sizes[i], align);
        }
        if (!o.err && fflush(f) != 0)
                o.err = -errno;
        return o.err;
}

static void usage(FILE *f) {
        fputs("Usage: unicorn-quantize [-t THREADS] IN.gguf OUT.gguf TYPE\n"
              "TYPE: f32 f16 bf16 q4_0 q4_1 q5_0 q5_1 q8_0 q4_k q5_k q6_k q4_k_m\n",
              f);
}

int main(int argc, char **argv) {
        unsigned n_threads = (unsigned) MAX(1L, MIN(sysconf(_SC_NPROCESSORS_ONLN), (long) MAX_THREADS));
        const struct target *tg = NULL;
        char err[512] = "";
        int opt, r;

        while ((opt = getopt(argc, argv, "t:h")) != -1) {
                if (opt == 't' && atoi(optarg) > 0)
                        n_threads = (unsigned) MIN(atoi(optarg), (int) MAX_THREADS);
                else {
                        usage(opt == 'h' ? stdout : stderr);
                        return opt == 'h' ? 0 : 2;
                }
        }
        if (argc - optind != 3) {
                usage(stderr);
                return 2;
        }
        for (size_t i = 0; i < ELEMENTSOF(targets); i++)
                if (streq(argv[optind + 2], targets[i].name))
                        tg = &targets[i];
        if (!tg) {
                fprintf(stderr, "unicorn-quantize: unknown type '%s'\n", argv[optind + 2]);
                usage(stderr);
                return 2;
        }
        const char *in_path = argv[optind], *out_path = argv[optind + 1];
        _cleanup_(gguf_freep) GgufFile *in = NULL;
        if ((r = gguf_open(in_path, &in, err, sizeof err)) < 0) {
                fprintf(stderr, "unicorn-quantize: %s: %s\n", in_path, *err ? err : strerror(-r));
                return 1;
        }

        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, "%s.XXXXXX", out_path) < 0)
                return 1;
        int fd = mkstemp(tmp);
        if (fd < 0) {
                fprintf(stderr, "unicorn-quantize: %s: %m\n", tmp);
                return 1;
        }
        FILE *f = fdopen(fd, "w");
        if (!f) {
                close(fd);
                unlink(tmp);
                return 1;
        }
        (void) fchmod(fd, 0644);
        r = quantize_file(in, tg, n_threads, f, err, sizeof err);
        if (fclose(f) != 0 && r >= 0)
                r = -errno;
        if (r >= 0 && rename(tmp, out_path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                fprintf(stderr, "unicorn-quantize: %s: %s\n", out_path, *err ? err : strerror(-r));
                return 1;
        }
        printf("%s: %s, %zu tensors\n", out_path, tg->name, in->n_tensors);
        return 0;
}
