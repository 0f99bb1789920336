/* SPDX-License-Identifier: MIT */
/*
 * unicorn-bench: prompt-processing and generation speed, measured like
 * llama-bench so the numbers compare: ppN evaluates an N-token prompt from
 * an empty context (in chunks of the batch size), tgN decodes N tokens one
 * at a time from an empty context. Token ids are random (speed does not
 * depend on them). Each test first runs until WARMUP_S seconds have passed
 * (at least once, at most WARMUP_MAX_RUNS times), then -r times. With -d
 * DEPTH (llama-bench's -d) each run first fills DEPTH positions of context,
 * untimed, and the test is named "pp512 @ d4096": the speed of a prompt or of
 * decoding deep in a conversation, where attention over the cache costs what
 * it does in real use (split-K decode, the sliding window's ring, the cache's
 * row format).
 *
 * With -s N (llama-batched-bench's -npl, without -pps) N sequences of one
 * context run together (context_decode's continuous batching): ppN evaluates
 * N prompts as one stream of chunks (a chunk may hold the end of one and the
 * start of the next), tgN decodes N tokens a step, one of each sequence, and
 * t/s counts the tokens of all sequences. The test is named "tg128 x16".
 *
 *   unicorn-bench -m MODEL [-m MODEL…] [-p 512] [-n 128] [-d 0[,4096…]] [-s 1[,16…]] [-t 2[,4…]] [-r 5]
 *                 [-b 512] [-o md|json]
 */

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine.h"

#define MAX_LIST 16

/* A GPU idle during the model load sits at its lowest clocks; on an H200 the
 * first ~0.3 s of work after that ran at a third of the speed (run97.sh: a
 * 7B pp512 warm-up took 187 ms of GPU time and the first timed run 143 ms,
 * the next nine 50 ms each). One warm-up run, as llama-bench does, left that
 * ramp in the first timed sample. Warming up by time instead keeps it out on
 * any device; a run of 0.5 s or more is a whole warm-up by itself. */
#define WARMUP_S 0.5
#define WARMUP_MAX_RUNS 32

struct test {
        const char *model_path;
        Model *model;
        Context *ctx;
        int threads, depth, n_prompt, n_gen, n_seq;
};

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A comma-separated list of up to MAX_LIST integers in 0..max. */
static int parse_list(const char *opt, const char *s, int max, int *out, int *n) {
        int k = 0;

        for (const char *p = s;;) {
                char *end;
                errno = 0;
                long v = strtol(p, &end, 10);
                if (end == p || errno || v < 0 || v > max || k == MAX_LIST || (*end && *end != ',')) {
                        fprintf(stderr, "unicorn-bench: %s: expected up to %d numbers in 0..%d, got '%s'\n", opt,
                                MAX_LIST, max, s);
                        return -EINVAL;
                }
                out[k++] = (int) v;
                if (!*end)
                        break;
                p = end + 1;
        }
        *n = k;
        return 0;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static int32_t rand_token(uint32_t n_vocab) {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return (int32_t) (rng_state % n_vocab);
}

/* Evaluates positions p0..p1-1 of sequences 0..n_seq-1, one sequence after the other, in chunks of
 * n_batch tokens; each sequence's last token asks for logits, as a prompt's does. */
static int prompt(Context *ctx, int n_seq, int p0, int p1, uint32_t n_batch) {
        uint32_t n_vocab = model_get_info(context_model(ctx))->n_vocab;
        int32_t tok[ENGINE_MAX_BATCH], pos[ENGINE_MAX_BATCH], seq[ENGINE_MAX_BATCH];
        bool want[ENGINE_MAX_BATCH];
        int64_t total = (int64_t) n_seq * (p1 - p0);

        for (int64_t i0 = 0; i0 < total;) {
                int chunk = (int) MIN(total - i0, (int64_t) n_batch);
                for (int i = 0; i < chunk; i++) {
                        int64_t at = i0 + i;
                        tok[i] = rand_token(n_vocab);
                        seq[i] = (int32_t) (at / (p1 - p0));
                        pos[i] = p0 + (int32_t) (at % (p1 - p0));
                        want[i] = pos[i] == p1 - 1;
                }
                int r = context_decode(ctx, &(struct batch) { (size_t) chunk, tok, pos, seq, want });
                if (r < 0)
                        return r;
                i0 += chunk;
        }
        return 0;
}

/* One timed run after an untimed context of n_depth positions: returns
 * seconds, or < 0 on error. The context is filled again for every run, as
 * llama-bench does: truncating a sliding-window layer's ring back to the
 * depth would not restore the rows the run overwrote. */
static double run_once(Context *ctx, int n_depth, int n_prompt, int n_gen, int n_seq, uint32_t n_batch) {
        uint32_t n_vocab = model_get_info(context_model(ctx))->n_vocab;
        int32_t t[ENGINE_MAX_SEQ], ps[ENGINE_MAX_SEQ], s[ENGINE_MAX_SEQ];
        bool w[ENGINE_MAX_SEQ];
        int p = n_depth + n_prompt;
        double t0;

        for (int k = 0; k < n_seq; k++)
                context_seq_truncate(ctx, k, 0);
        if (n_depth > 0 && prompt(ctx, n_seq, 0, n_depth, n_batch) < 0)
                return -1;
        t0 = now_s();
        if (n_prompt > 0 && prompt(ctx, n_seq, n_depth, p, n_batch) < 0)
                return -1;
        for (int i = 0; i < n_gen; i++) {
                for (int k = 0; k < n_seq; k++) {
                        t[k] = rand_token(n_vocab);
                        ps[k] = p + i;
                        s[k] = k;
                        w[k] = true;
                }
                if (context_decode(ctx, &(struct batch) { (size_t) n_seq, t, ps, s, w }) < 0)
                        return -1;
        }
        return now_s() - t0;
}

/* Runs one test (warm-up, then reps timed runs) and prints its line. */
static int run_test(const struct test *t, int reps, uint32_t n_batch, bool json) {
        const struct model_info *info = model_get_info(t->model);
        const char *slash = strrchr(t->model_path, '/'), *name = slash ? slash + 1 : t->model_path;
        int n_tok = (t->n_prompt + t->n_gen) * t->n_seq, n = 0, w = 0;
        double samples[64], sum = 0, sq = 0, warm = 0, mean, sd;
        char test[48];

        while (n < reps) {
                double s = run_once(t->ctx, t->depth, t->n_prompt, t->n_gen, t->n_seq, n_batch);
                if (s < 0) {
                        fprintf(stderr, "unicorn-bench: decode failed\n");
                        return -EIO;
                }
                if (w < WARMUP_MAX_RUNS && warm < WARMUP_S) {
                        warm += s;
                        w++;
                        continue;
                }
                samples[n++] = n_tok / s;
                sum += n_tok / s;
        }
        mean = sum / n;
        for (int k = 0; k < n; k++)
                sq += (samples[k] - mean) * (samples[k] - mean);
        sd = n > 1 ? sqrt(sq / (n - 1)) : 0;
        /* llama-bench's names: "tg128", "pp512 @ d4096"; "tg128 x16" for 16 sequences. */
        int len = snprintf(test, sizeof test, t->n_prompt ? "pp%d" : "tg%d", t->n_prompt + t->n_gen);
        if (t->n_seq > 1)
                len += snprintf(test + len, sizeof test - len, " x%d", t->n_seq);
        if (t->depth)
                snprintf(test + len, sizeof test - len, " @ d%d", t->depth);
        if (json) {
                printf("{\"model\":\"%s\",\"arch\":\"%s\",\"type\":\"%s\",\"size_bytes\":%llu,\"params\":%llu,"
                       "\"backend\":\"%s\",\"threads\":%d,\"test\":\"%s\",\"n_prompt\":%d,\"n_gen\":%d,"
                       "\"n_depth\":%d,\"n_seq\":%d,\"avg_ts\":%.3f,\"stddev_ts\":%.3f,\"samples_ts\":[",
                       name, info->arch, info->file_type, (unsigned long long) info->weight_bytes,
                       (unsigned long long) info->n_params, model_backend_name(t->model), t->threads, test,
                       t->n_prompt, t->n_gen, t->depth, t->n_seq, mean, sd);
                for (int k = 0; k < n; k++)
                        printf("%s%.3f", k ? "," : "", samples[k]);
                printf("]}\n");
        } else
                printf("| %s | %s | %s | %.1f MiB | %.1f M | %s | %d | %s | %.2f ± %.2f |\n", name, info->arch,
                       info->file_type, info->weight_bytes / 1048576.0, info->n_params / 1e6,
                       model_backend_name(t->model), t->threads, test, mean, sd);
        fflush(stdout);
        return 0;
}

static void usage(FILE *f) {
        fputs("Usage: unicorn-bench -m MODEL [options]\n"
              "  -m, --model FILE       GGUF model (repeatable)\n"
              "  -p, --n-prompt N[,N…]  prompt lengths (default 512; 0 to skip)\n"
              "  -n, --n-gen N[,N…]     generation lengths (default 128; 0 to skip)\n"
              "  -d, --n-depth N[,N…]   context positions filled (untimed) before each test (default 0)\n"
              "  -s, --n-seq N[,N…]     sequences run together; t/s counts all of their tokens (default 1)\n"
              "  -t, --threads N[,N…]   CPU threads (default: all cores)\n"
              "  -r, --repetitions N    timed runs per test (default 5)\n"
              "  -b, --batch N          prompt chunk size (default 512)\n"
              "      --backend NAME     cpu (default: best available)\n"
              "  -o, --output md|json   table (default) or JSON lines\n",
              f);
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "model", required_argument, NULL, 'm' },   { "n-prompt", required_argument, NULL, 'p' },
                { "n-gen", required_argument, NULL, 'n' },   { "threads", required_argument, NULL, 't' },
                { "n-depth", required_argument, NULL, 'd' }, { "n-seq", required_argument, NULL, 's' },
                { "repetitions", required_argument, NULL, 'r' }, { "batch", required_argument, NULL, 'b' },
                { "backend", required_argument, NULL, 'B' }, { "output", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },          {}
        };
        const char *models[MAX_LIST], *backend = NULL, *output = "md";
        int n_models = 0, pp[MAX_LIST] = { 512 }, n_pp = 1, tg[MAX_LIST] = { 128 }, n_tg = 1;
        int depth[MAX_LIST] = { 0 }, n_depth = 1, seqs[MAX_LIST] = { 1 }, n_seqs = 1, max_seq = 1;
        int threads[MAX_LIST] = { 0 }, n_threads = 1, reps = 5, batch = 512, c;
        bool json;

        while ((c = getopt_long(argc, argv, "m:p:n:d:s:t:r:b:o:h", opts, NULL)) >= 0) {
                switch (c) {
                case 'm':
                        if (n_models < MAX_LIST)
                                models[n_models++] = optarg;
                        break;
                case 'p': if (parse_list("-p", optarg, ENGINE_MAX_CTX - 1, pp, &n_pp) < 0) return 2; break;
                case 'n': if (parse_list("-n", optarg, ENGINE_MAX_CTX - 1, tg, &n_tg) < 0) return 2; break;
                case 'd': if (parse_list("-d", optarg, ENGINE_MAX_CTX - 1, depth, &n_depth) < 0) return 2; break;
                case 's': if (parse_list("-s", optarg, ENGINE_MAX_SEQ, seqs, &n_seqs) < 0) return 2; break;
                case 't': if (parse_list("-t", optarg, 1024, threads, &n_threads) < 0) return 2; break;
                case 'r': reps = CLAMP(atoi(optarg), 1, 64); break;
                case 'b': batch = CLAMP(atoi(optarg), 1, (int) ENGINE_MAX_BATCH); break;
                case 'B': backend = optarg; break;
                case 'o': output = optarg; break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        }
        if (n_models == 0) {
                usage(stderr);
                return 2;
        }
        int max_len = 1, max_depth = 0;
        for (int i = 0; i < n_depth; i++)
                max_depth = MAX(max_depth, depth[i]);
        for (int i = 0; i < n_pp; i++)
                max_len = MAX(max_len, pp[i] + 1);
        for (int i = 0; i < n_tg; i++)
                max_len = MAX(max_len, tg[i] + 1);
        if (max_len + max_depth > (int) ENGINE_MAX_CTX) {
                fprintf(stderr, "unicorn-bench: depth + test length exceeds %u positions\n",
                        ENGINE_MAX_CTX);
                return 2;
        }
        max_len += max_depth;
        for (int i = 0; i < n_seqs; i++) {
                if (seqs[i] < 1) {
                        fprintf(stderr, "unicorn-bench: -s: sequences must be 1..%u\n", ENGINE_MAX_SEQ);
                        return 2;
                }
                max_seq = MAX(max_seq, seqs[i]);
        }
        json = streq(output, "json");
        if (!json)
                printf("| model | arch | type | size | params | backend | threads | test | t/s |\n"
                       "| --- | --- | --- | ---: | ---: | --- | ---: | ---: | ---: |\n");

        for (int mi = 0; mi < n_models; mi++)
                for (int ti = 0; ti < n_threads; ti++) {
                        struct model_load_options lo = { .backend = backend, .n_threads = (uint32_t) threads[ti] };
                        _cleanup_(model_unrefp) Model *m = NULL;
                        char err[512] = "";
                        int r = model_load(models[mi], &lo, &m, err, sizeof err);
                        if (r < 0) {
                                fprintf(stderr, "unicorn-bench: %s: %s\n", models[mi], err[0] ? err : strerror(-r));
                                return 1;
                        }
                        _cleanup_(context_freep) Context *ctx = NULL;
                        struct context_options co = { .n_ctx = (uint32_t) max_len, .n_seq = (uint32_t) max_seq,
                                                      .n_batch = (uint32_t) batch };
                        r = context_new(m, &co, &ctx, err, sizeof err);
                        if (r < 0) {
                                fprintf(stderr, "unicorn-bench: %s\n", err);
                                return 1;
                        }

                        for (int di = 0; di < n_depth; di++)
                                for (int si = 0; si < n_seqs; si++)
                                        for (int kind = 0; kind < 2; kind++)
                                                for (int i = 0; i < (kind == 0 ? n_pp : n_tg); i++) {
                                                        struct test t = {
                                                                .model_path = models[mi], .model = m, .ctx = ctx,
                                                                .threads = threads[ti], .depth = depth[di],
                                                                .n_prompt = kind == 0 ? pp[i] : 0,
                                                                .n_gen = kind == 1 ? tg[i] : 0,
                                                                .n_seq = seqs[si],
                                                        };
                                                        if (t.n_prompt + t.n_gen > 0 &&
                                                            run_test(&t, reps, (uint32_t) batch, json) < 0)
                                                                return 1;
                                                }
                }
        return 0;
}
