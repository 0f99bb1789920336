/* SPDX-License-Identifier: MIT */
/*
 * unicorn-bench: prompt-processing and generation speed, measured like
 * llama-bench so the numbers compare: ppN evaluates an N-token prompt from
 * an empty context (in chunks of the batch size), tgN decodes N tokens one
 * at a time from an empty context. Token ids are random (speed does not
 * depend on them). Each test first runs until WARMUP_S seconds have passed
 * (at least once, at most WARMUP_MAX_RUNS times), then -r times.
 *
 *   unicorn-bench -m MODEL [-m MODEL…] [-p 512] [-n 128] [-t 2[,4…]] [-r 5] [-b 512] [-o md|json]
 */

#include <getopt.h>
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

struct result {
        const char *model_path;
        const struct model_info *info;
        const char *backend;
        unsigned threads;
        char test[32];
        int n_prompt, n_gen;
        double mean_ts, stddev_ts;
        double samples[64];
        int n_samples;
};

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int parse_list(const char *s, int *out, int *n) {
        char *copy = strdup(s), *save = NULL;
        *n = 0;
        for (char *tok = strtok_r(copy, ",", &save); tok && *n < MAX_LIST; tok = strtok_r(NULL, ",", &save))
                out[(*n)++] = atoi(tok);
        free(copy);
        return *n > 0 ? 0 : -EINVAL;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static int32_t rand_token(uint32_t n_vocab) {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return (int32_t) (rng_state % n_vocab);
}

/* One timed run: returns seconds, or < 0 on error. */
static double run_once(Context *ctx, int n_prompt, int n_gen, uint32_t n_batch) {
        uint32_t n_vocab = model_get_info(context_model(ctx))->n_vocab;
        int32_t tok[ENGINE_MAX_BATCH], pos[ENGINE_MAX_BATCH], seq[ENGINE_MAX_BATCH];
        bool want[ENGINE_MAX_BATCH];
        double t0;
        int p = 0;

        context_seq_truncate(ctx, 0, 0);
        t0 = now_s();
        while (p < n_prompt) {
                int chunk = MIN(n_prompt - p, (int) n_batch);
                for (int i = 0; i < chunk; i++) {
                        tok[i] = rand_token(n_vocab);
                        pos[i] = p + i;
                        seq[i] = 0;
                        want[i] = i == chunk - 1;
                }
                if (context_decode(ctx, &(struct batch) { (size_t) chunk, tok, pos, seq, want }) < 0)
                        return -1;
                p += chunk;
        }
        for (int i = 0; i < n_gen; i++) {
                int32_t t = rand_token(n_vocab), ps = p + i, s = 0;
                bool w = true;
                if (context_decode(ctx, &(struct batch) { 1, &t, &ps, &s, &w }) < 0)
                        return -1;
        }
        return now_s() - t0;
}

static void usage(FILE *f) {
        fputs("Usage: unicorn-bench -m MODEL [options]\n"
              "  -m, --model FILE       GGUF model (repeatable)\n"
              "  -p, --n-prompt N[,N…]  prompt lengths (default 512; 0 to skip)\n"
              "  -n, --n-gen N[,N…]     generation lengths (default 128; 0 to skip)\n"
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
                { "repetitions", required_argument, NULL, 'r' }, { "batch", required_argument, NULL, 'b' },
                { "backend", required_argument, NULL, 'B' }, { "output", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },          {}
        };
        const char *models[MAX_LIST], *backend = NULL, *output = "md";
        int n_models = 0, pp[MAX_LIST] = { 512 }, n_pp = 1, tg[MAX_LIST] = { 128 }, n_tg = 1;
        int threads[MAX_LIST] = { 0 }, n_threads = 1, reps = 5, batch = 512, c;
        bool json;

        while ((c = getopt_long(argc, argv, "m:p:n:t:r:b:o:h", opts, NULL)) >= 0) {
                switch (c) {
                case 'm':
                        if (n_models < MAX_LIST)
                                models[n_models++] = optarg;
                        break;
                case 'p': if (parse_list(optarg, pp, &n_pp) < 0) return 2; break;
                case 'n': if (parse_list(optarg, tg, &n_tg) < 0) return 2; break;
                case 't': if (parse_list(optarg, threads, &n_threads) < 0) return 2; break;
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
                        const struct model_info *info = model_get_info(m);
                        int max_len = 1;
                        for (int i = 0; i < n_pp; i++)
                                max_len = MAX(max_len, pp[i] + 1);
                        for (int i = 0; i < n_tg; i++)
                                max_len = MAX(max_len, tg[i] + 1);
                        _cleanup_(context_freep) Context *ctx = NULL;
                        struct context_options co = { .n_ctx = (uint32_t) max_len, .n_batch = (uint32_t) batch };
                        r = context_new(m, &co, &ctx, err, sizeof err);
                        if (r < 0) {
                                fprintf(stderr, "unicorn-bench: %s\n", err);
                                return 1;
                        }

                        for (int kind = 0; kind < 2; kind++)
                                for (int i = 0; i < (kind == 0 ? n_pp : n_tg); i++) {
                                        int np = kind == 0 ? pp[i] : 0, ng = kind == 1 ? tg[i] : 0;
                                        int n_tok = np + ng;
                                        struct result res = { .model_path = models[mi], .info = info };
                                        double sum = 0, sq = 0;

                                        if (n_tok == 0)
                                                continue;
                                        double warm = 0;
                                        for (int w = 0; res.n_samples < reps;) {
                                                double s = run_once(ctx, np, ng, (uint32_t) batch);
                                                if (s < 0) {
                                                        fprintf(stderr, "unicorn-bench: decode failed\n");
                                                        return 1;
                                                }
                                                if (w < WARMUP_MAX_RUNS && warm < WARMUP_S) {
                                                        warm += s;
                                                        w++;
                                                        continue;
                                                }
                                                res.samples[res.n_samples++] = n_tok / s;
                                                sum += n_tok / s;
                                        }
                                        res.mean_ts = sum / res.n_samples;
                                        for (int k = 0; k < res.n_samples; k++)
                                                sq += (res.samples[k] - res.mean_ts) * (res.samples[k] - res.mean_ts);
                                        res.stddev_ts = res.n_samples > 1 ? sqrt(sq / (res.n_samples - 1)) : 0;
                                        snprintf(res.test, sizeof res.test, kind == 0 ? "pp%d" : "tg%d", n_tok);
                                        const char *slash = strrchr(models[mi], '/');
                                        if (json) {
                                                printf("{\"model\":\"%s\",\"arch\":\"%s\",\"type\":\"%s\","
                                                       "\"size_bytes\":%llu,\"params\":%llu,\"backend\":\"%s\","
                                                       "\"threads\":%d,\"test\":\"%s\",\"n_prompt\":%d,\"n_gen\":%d,"
                                                       "\"avg_ts\":%.3f,\"stddev_ts\":%.3f,\"samples_ts\":[",
                                                       slash ? slash + 1 : models[mi], info->arch, info->file_type,
                                                       (unsigned long long) info->weight_bytes,
                                                       (unsigned long long) info->n_params, model_backend_name(m),
                                                       threads[ti], res.test, np, ng, res.mean_ts, res.stddev_ts);
                                                for (int k = 0; k < res.n_samples; k++)
                                                        printf("%s%.3f", k ? "," : "", res.samples[k]);
                                                printf("]}\n");
                                        } else
                                                printf("| %s | %s | %s | %.1f MiB | %.1f M | %s | %d | %s | %.2f ± %.2f |\n",
                                                       slash ? slash + 1 : models[mi], info->arch, info->file_type,
                                                       info->weight_bytes / 1048576.0, info->n_params / 1e6,
                                                       model_backend_name(m), threads[ti], res.test, res.mean_ts,
                                                       res.stddev_ts);
                                        fflush(stdout);
                                }
                }
        return 0;
}
