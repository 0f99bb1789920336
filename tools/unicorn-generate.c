/* SPDX-License-Identifier: MIT */
/*
 * unicorn-generate: run a model file directly through the engine, for
 * debugging and for comparing with the daemon. Streams the reply to stdout,
 * timings to stderr.
 *
 *   unicorn-generate -m MODEL.gguf [--chat] [-p PROMPT] [-n MAX] [--temp T] [--seed S] [-t THREADS]
 */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"

static void usage(FILE *f) {
        fputs("Usage: unicorn-generate -m MODEL [options] [PROMPT]\n"
              "  -m, --model FILE     GGUF model\n"
              "  -p, --prompt TEXT    prompt (default: read standard input)\n"
              "      --raw            complete the prompt as plain text (default: chat, one user message)\n"
              "  -s, --system TEXT    system message (chat mode)\n"
              "  -n, --max-tokens N   stop after N tokens (default 256)\n"
              "      --temp T         temperature (default 0: greedy)\n"
              "      --top-k K, --top-p P, --min-p P, --repeat-penalty R, --seed S\n"
              "  -c, --ctx N          context length (default 4096)\n"
              "  -t, --threads N      CPU threads (default: all cores)\n"
              "      --backend NAME   cpu (default: best available)\n"
              "      --tokens         print the prompt's token ids to stderr\n"
              "      --exact          float activations, weights dequantized per row (slow; debugging)\n"
              "  -v, --verbose        print timings to stderr\n",
              f);
}

static char *read_all(FILE *f) {
        size_t cap = 4096, n = 0, k;
        char *buf = malloc(cap);

        while (buf && (k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
                n += k;
                if (n + 1 == cap) {
                        char *nb = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;
                        if (!nb) {
                                free(buf);
                                return NULL;
                        }
                        buf = nb;
                        cap *= 2;
                }
        }
        if (buf)
                buf[n] = 0;
        return buf;
}

int main(int argc, char **argv) {
        enum { ARG_RAW = 256, ARG_TEMP, ARG_TOPK, ARG_TOPP, ARG_MINP, ARG_REP, ARG_SEED, ARG_BACKEND, ARG_TOKENS, ARG_EXACT };
        static const struct option opts[] = {
                { "model", required_argument, NULL, 'm' },  { "prompt", required_argument, NULL, 'p' },
                { "system", required_argument, NULL, 's' }, { "raw", no_argument, NULL, ARG_RAW },
                { "max-tokens", required_argument, NULL, 'n' }, { "temp", required_argument, NULL, ARG_TEMP },
                { "top-k", required_argument, NULL, ARG_TOPK }, { "top-p", required_argument, NULL, ARG_TOPP },
                { "min-p", required_argument, NULL, ARG_MINP },
                { "repeat-penalty", required_argument, NULL, ARG_REP },
                { "seed", required_argument, NULL, ARG_SEED }, { "ctx", required_argument, NULL, 'c' },
                { "threads", required_argument, NULL, 't' }, { "backend", required_argument, NULL, ARG_BACKEND },
                { "tokens", no_argument, NULL, ARG_TOKENS }, { "exact", no_argument, NULL, ARG_EXACT }, { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },         {}
        };
        const char *model_path = NULL, *system = NULL, *backend = NULL;
        _cleanup_free_ char *prompt = NULL;
        bool raw = false, verbose = false, show_tokens = false;
        struct model_load_options lo = {};
        struct context_options co = { .n_ctx = 4096 };
        struct gen_params gp;
        char err[512] = "";
        int c, r;

        gen_params_default(&gp);
        gp.sampling.temperature = 0;
        gp.max_tokens = 256;
        while ((c = getopt_long(argc, argv, "m:p:s:n:c:t:vh", opts, NULL)) >= 0) {
                switch (c) {
                case 'm': model_path = optarg; break;
                case 'p': free(prompt); prompt = strdup(optarg); break;
                case 's': system = optarg; break;
                case ARG_RAW: raw = true; break;
                case 'n': gp.max_tokens = atoi(optarg); break;
                case ARG_TEMP: gp.sampling.temperature = strtof(optarg, NULL); break;
                case ARG_TOPK: gp.sampling.top_k = atoi(optarg); break;
                case ARG_TOPP: gp.sampling.top_p = strtof(optarg, NULL); break;
                case ARG_MINP: gp.sampling.min_p = strtof(optarg, NULL); break;
                case ARG_REP: gp.sampling.repeat_penalty = strtof(optarg, NULL); break;
                case ARG_SEED: gp.sampling.seed = strtoull(optarg, NULL, 0); break;
                case 'c': co.n_ctx = (uint32_t) atoi(optarg); break;
                case 't': lo.n_threads = (uint32_t) atoi(optarg); break;
                case ARG_BACKEND: backend = optarg; break;
                case ARG_TOKENS: show_tokens = true; break;
                case ARG_EXACT: lo.exact_activations = true; break;
                case 'v': verbose = true; break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        }
        if (!model_path) {
                usage(stderr);
                return 2;
        }
        if (optind < argc) {
                free(prompt);
                prompt = strdup(argv[optind]);
        }
        if (!prompt)
                prompt = read_all(stdin);
        if (!prompt) {
                fprintf(stderr, "unicorn-generate: cannot read the prompt\n");
                return 1;
        }
        lo.backend = backend;

        _cleanup_(model_unrefp) Model *m = NULL;
        r = model_load(model_path, &lo, &m, err, sizeof err);
        if (r < 0) {
                fprintf(stderr, "unicorn-generate: %s: %s\n", model_path, err[0] ? err : strerror(-r));
                return 1;
        }
        if (verbose)
                fprintf(stderr, "model: %s (%s, %s), backend: %s\n", model_get_info(m)->name,
                        model_get_info(m)->arch, model_get_info(m)->file_type, model_backend_name(m));

        _cleanup_(context_freep) Context *ctx = NULL;
        r = context_new(m, &co, &ctx, err, sizeof err);
        if (r < 0) {
                fprintf(stderr, "unicorn-generate: %s\n", err);
                return 1;
        }

        _cleanup_free_ int32_t *ids = NULL;
        size_t n_ids = 0;
        if (raw)
                r = model_tokenize_text(m, prompt, &ids, &n_ids, err, sizeof err);
        else {
                struct chat_message msgs[2];
                size_t n = 0;
                if (system)
                        msgs[n++] = (struct chat_message) { "system", system };
                msgs[n++] = (struct chat_message) { "user", prompt };
                r = model_tokenize_chat(m, msgs, n, &ids, &n_ids, err, sizeof err);
        }
        if (r < 0) {
                fprintf(stderr, "unicorn-generate: %s\n", err);
                return 1;
        }
        if (show_tokens) {
                for (size_t i = 0; i < n_ids; i++)
                        fprintf(stderr, "%s%d", i ? " " : "", ids[i]);
                fputc('\n', stderr);
        }

        _cleanup_(generation_freep) Generation *g = NULL;
        r = generation_new(ctx, 0, ids, n_ids, &gp, &g, err, sizeof err);
        if (r < 0) {
                fprintf(stderr, "unicorn-generate: %s\n", err);
                return 1;
        }
        for (;;) {
                _cleanup_free_ char *text = NULL;
                enum finish_reason fin;

                r = generation_step(g, &text, &fin);
                if (r < 0) {
                        fprintf(stderr, "unicorn-generate: generation failed: %s\n", strerror(-r));
                        return 1;
                }
                fputs(text, stdout);
                fflush(stdout);
                if (fin != FINISH_NONE) {
                        const struct gen_timings *t = generation_timings(g);
                        fputc('\n', stdout);
                        if (verbose)
                                fprintf(stderr,
                                        "finish: %s; prompt %u tokens (%u cached) in %.1f ms (%.1f t/s); "
                                        "generated %u tokens in %.1f ms (%.1f t/s); first token after %.1f ms\n",
                                        finish_reason_name(fin), t->n_prompt, t->n_prompt_cached,
                                        t->prompt_us / 1e3, t->n_prompt * 1e6 / MAX(t->prompt_us, 1),
                                        t->n_generated, t->generate_us / 1e3,
                                        (t->n_generated > 1 ? t->n_generated - 1 : 0) * 1e6 / MAX(t->generate_us, 1),
                                        t->first_token_us / 1e3);
                        break;
                }
        }
        return 0;
}
