/* SPDX-License-Identifier: MIT */
/*
 * The real models from PyPI (tools/fetch-models) against transformers:
 *  - the text of tests/fixtures/text/ppl-en.txt tokenizes to exactly the
 *    reference ids;
 *  - perplexity over it (protocol in tests/fixtures/README.md) is within 1%
 *    of transformers' float32 run on the dequantized weights;
 *  - greedy generation from the reference prompt follows transformers'
 *    tokens; where the default (8-bit activation) path leaves them, the
 *    step must be a near-tie (the two candidates within 1% of the logit
 *    scale, the largest logit magnitude at that step). SmolLM2's first reply token is such a tie: "The" leads "L" by
 *    0.08 logits in float32, and 8-bit activations flip it, after which the
 *    model writes "L'Étoile, la Cité…" (llama.cpp, whose CPU path also
 *    quantizes activations to 8 bits, answers "L'Étoile, la Marseillaise…"
 *    from the same prompt with llama-simple). So the reply
 *    naming Paris is checked on the exact-activation path (float
 *    activations on the dequantized weights, the reference's own
 *    arithmetic), which must follow transformers token for token.
 * Skipped (77) when the models are not fetched.
 */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "test-helpers.h"

#define MAX_REF_TOKENS 8192

struct ppl_ref {
        int n_tokens, window, bos, n_predicted;
        double ppl;
        int32_t *tokens;
};

static char *slurp(const char *path, size_t *ret_n) {
        FILE *f = fopen(path, "re");
        char *buf;
        long n;

        CHECK_MSG(f, "%s: %m", path);
        CHECK(fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0);
        buf = malloc((size_t) n + 1);
        CHECK(buf && fread(buf, 1, (size_t) n, f) == (size_t) n);
        buf[n] = 0;
        fclose(f);
        if (ret_n)
                *ret_n = (size_t) n;
        return buf;
}

/* Finds "key " at the start of a line; returns a pointer past it. */
static const char *field(const char *text, const char *key) {
        size_t k = strlen(key);
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, key, k) == 0 && p[k] == ' ')
                        return p + k + 1;
        fprintf(stderr, "fixture lacks '%s'\n", key);
        exit(EXIT_FAILURE);
}

static int parse_ids(const char *p, int32_t *out, int max) {
        int n = 0;
        char *end;
        while (n < max) {
                long v = strtol(p, &end, 10);
                if (end == p)
                        break;
                out[n++] = (int32_t) v;
                p = end;
                if (*p == '\n')
                        break;
        }
        return n;
}

static void load_ppl_ref(const char *path, struct ppl_ref *r) {
        _cleanup_free_ char *t = slurp(path, NULL);

        r->n_tokens = atoi(field(t, "n_tokens"));
        r->window = atoi(field(t, "window"));
        r->bos = atoi(field(t, "bos"));
        r->n_predicted = atoi(field(t, "n_predicted"));
        r->ppl = atof(field(t, "ppl"));
        CHECK(r->n_tokens > 0 && r->n_tokens <= MAX_REF_TOKENS && r->window > 1 && r->window <= 2048);
        r->tokens = newa(int32_t, r->n_tokens);
        CHECK(r->tokens);
        CHECK_MSG(parse_ids(field(t, "tokens"), r->tokens, r->n_tokens) == r->n_tokens, "%s: token count", path);
}

static double log_softmax_at(const float *logits, size_t n, int32_t tok) {
        double m = -INFINITY, s = 0;
        for (size_t i = 0; i < n; i++)
                m = fmax(m, logits[i]);
        for (size_t i = 0; i < n; i++)
                s += exp((double) logits[i] - m);
        return (double) logits[tok] - m - log(s);
}

static void check_perplexity(Model *m, const char *fixtures, const char *name) {
        _cleanup_free_ char *ref_path = NULL, *text_path = NULL, *text = NULL;
        _cleanup_free_ int32_t *ids = NULL;
        _cleanup_(context_freep) Context *ctx = NULL;
        struct ppl_ref ref = {};
        uint32_t n_vocab = model_get_info(m)->n_vocab;
        const uint32_t chunk = 64; /* logits of 64 positions x 262144 vocab = 64 MiB at a time */
        double nll = 0, ppl;
        size_t n_text, n_ids;
        int n_pred = 0;
        char err[256];

        CHECK(asprintf(&ref_path, "%s/ppl/%s.txt", fixtures, name) > 0);
        CHECK(asprintf(&text_path, "%s/text/ppl-en.txt", fixtures) > 0);
        load_ppl_ref(ref_path, &ref);
        text = slurp(text_path, &n_text);

        CHECK_RET(tokenizer_encode(model_tokenizer(m), text, n_text, false, false, &ids, &n_ids), 0);
        CHECK_MSG(n_ids == (size_t) ref.n_tokens, "%s: %zu tokens, reference %d", name, n_ids, ref.n_tokens);
        for (size_t i = 0; i < n_ids; i++)
                CHECK_MSG(ids[i] == ref.tokens[i], "%s: token %zu is %d, reference %d", name, i, ids[i],
                          ref.tokens[i]);

        CHECK(context_new(m, &(struct context_options) { .n_ctx = (uint32_t) ref.window + 1, .n_batch = chunk },
                          &ctx, err, sizeof err) == 0);
        for (int w0 = 0; w0 < ref.n_tokens; w0 += ref.window) {
                int n = MIN(ref.window, ref.n_tokens - w0);
                int32_t in[2048 + 1];
                int n_in = 0;

                if (n < 2)
                        break;
                if (ref.bos >= 0)
                        in[n_in++] = ref.bos;
                memcpy(in + n_in, ref.tokens + w0, (size_t) n * sizeof(int32_t));
                n_in += n;
                context_seq_truncate(ctx, 0, 0);
                for (int p = 0; p < n_in; p += (int) chunk) {
                        int32_t pos[64], seq[64];
                        bool want[64];
                        int k = MIN((int) chunk, n_in - p);
                        for (int i = 0; i < k; i++) {
                                pos[i] = p + i;
                                seq[i] = 0;
                                want[i] = true;
                        }
                        CHECK_RET(context_decode(ctx, &(struct batch) { (size_t) k, in + p, pos, seq, want }), 0);
                        /* Position q predicts in[q + 1]. */
                        for (int i = 0; i < k && p + i + 1 < n_in; i++) {
                                nll -= log_softmax_at(context_logits(ctx, (size_t) i), n_vocab, in[p + i + 1]);
                                n_pred++;
                        }
                }
        }
        CHECK_MSG(n_pred == ref.n_predicted, "%s: predicted %d tokens, reference %d", name, n_pred, ref.n_predicted);
        ppl = exp(nll / n_pred);
        printf("%s: perplexity %.4f, transformers %.4f (%+.2f%%) over %d tokens\n", name, ppl, ref.ppl,
               100 * (ppl - ref.ppl) / ref.ppl, n_pred);
        CHECK_MSG(fabs(ppl - ref.ppl) <= 0.01 * ref.ppl, "%s: perplexity off by more than 1%%", name);
        free(ref.tokens);
}

/* Greedy continuation of the reference prompt, token by token, compared with transformers. */
static void check_greedy(Model *m, const char *fixtures, const char *name, const char *must_say, bool exact) {
        _cleanup_free_ char *path = NULL, *t = NULL, *reply = NULL;
        _cleanup_(context_freep) Context *ctx = NULL;
        int32_t prompt[256], ref_gen[64], pos[256], seq[256], tok;
        bool want[256];
        int n_prompt, n_gen, followed = 0, diverged = -1;
        uint32_t n_vocab = model_get_info(m)->n_vocab;
        size_t reply_len = 0;
        char err[256];

        CHECK(asprintf(&path, "%s/ppl/%s-france.txt", fixtures, name) > 0);
        t = slurp(path, NULL);
        n_prompt = parse_ids(field(t, "prompt_tokens"), prompt, 256);
        n_gen = parse_ids(field(t, "gen_tokens"), ref_gen, 64);
        CHECK(n_prompt > 0 && n_gen > 0);

        /* The engine's own chat path must build the same prompt. */
        {
                struct chat_message msg = { "user", "What is the capital of France?" };
                _cleanup_free_ int32_t *ids = NULL;
                size_t n;
                CHECK_RET(model_tokenize_chat(m, &msg, 1, &ids, &n, err, sizeof err), 0);
                CHECK_MSG(n == (size_t) n_prompt && memcmp(ids, prompt, n * sizeof(int32_t)) == 0,
                          "%s: chat prompt tokens differ from transformers' template", name);
        }

        CHECK(context_new(m, &(struct context_options) { .n_ctx = 256 }, &ctx, err, sizeof err) == 0);
        for (int i = 0; i < n_prompt; i++) {
                pos[i] = i;
                seq[i] = 0;
                want[i] = i == n_prompt - 1;
        }
        CHECK_RET(context_decode(ctx, &(struct batch) { (size_t) n_prompt, prompt, pos, seq, want }), 0);
        reply = strdup("");
        for (int step = 0; step < n_gen; step++) {
                const float *l = context_logits(ctx, 0);
                int32_t best = 0, second = -1;
                char piece[256];
                int len;

                for (uint32_t i = 1; i < n_vocab; i++)
                        if (l[i] > l[best])
                                best = (int32_t) i;
                for (uint32_t i = 0; i < n_vocab; i++)
                        if ((int32_t) i != best && (second < 0 || l[i] > l[second]))
                                second = (int32_t) i;
                if (diverged < 0 && best != ref_gen[step]) {
                        /* The logit scale, as for the fixtures: the largest magnitude in the vocabulary. */
                        double scale = 0;
                        for (uint32_t i = 0; i < n_vocab; i++)
                                scale = fmax(scale, fabs(l[i]));
                        diverged = step;
                        printf("%s: step %d: ours %d (%.4f), transformers %d (our logit %.4f), gap %.4f\n", name, step,
                               best, l[best], ref_gen[step], l[ref_gen[step]], l[best] - l[ref_gen[step]]);
                        CHECK_MSG(l[best] - l[ref_gen[step]] <= 0.01 * scale,
                                  "%s: diverged from transformers at step %d, not a near-tie", name, step);
                }
                if (diverged < 0)
                        followed++;
                tok = best;
                if (tokenizer_is_eog(model_tokenizer(m), tok))
                        break;
                len = tokenizer_token_to_piece(model_tokenizer(m), tok, false, piece, sizeof piece);
                CHECK(len >= 0 && (size_t) len < sizeof piece);
                reply = realloc(reply, reply_len + (size_t) len + 1);
                memcpy(reply + reply_len, piece, (size_t) len);
                reply_len += (size_t) len;
                reply[reply_len] = 0;
                pos[0] = n_prompt + step;
                CHECK_RET(context_decode(ctx, &(struct batch) { 1, &tok, pos, seq, want + n_prompt - 1 }), 0);
        }
        printf("%s (%s activations): greedy reply follows transformers for %d of %d tokens: \"%s\"\n", name,
               exact ? "float" : "8-bit", followed, n_gen, reply);
        if (exact) {
                /* Same arithmetic as the reference: only float summation order differs. */
                CHECK_MSG(followed >= 8, "%s: exact path leaves transformers after %d tokens", name, followed);
                if (must_say)
                        CHECK_MSG(strstr(reply, must_say), "%s: reply does not mention %s", name, must_say);
        }
}

int main(void) {
        const char *models = test_models_dir(), *fixtures = test_fixtures_dir();
        static const struct {
                const char *name, *must_say;
        } cases[] = {
                { "SmolLM2-135M-Instruct.Q4_1", "Paris" },
                /* The PyPI package holds the base (pretrained) Gemma 3 270M, not the
                 * instruction-tuned one: it answers by repeating the question, in
                 * transformers as here. Its check is that it does so identically. */
                { "gemma-3-270m-q4_k_m", NULL },
        };

        if (!models)
                SKIP("UNICORN_MODELS is not set (tools/fetch-models fetches the models)");
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *path = NULL;
                _cleanup_(model_unrefp) Model *m = NULL;
                char err[512];

                CHECK(asprintf(&path, "%s/%s.gguf", models, cases[i].name) > 0);
                if (access(path, R_OK) < 0)
                        SKIP("%s is missing (run tools/fetch-models)", path);
                CHECK_MSG(model_load(path, NULL, &m, err, sizeof err) == 0, "%s: %s", path, err);
                check_perplexity(m, fixtures, cases[i].name);
                check_greedy(m, fixtures, cases[i].name, cases[i].must_say, false);
                if (cases[i].must_say) {
                        _cleanup_(model_unrefp) Model *mx = NULL;
                        CHECK(model_load(path, &(struct model_load_options) { .exact_activations = true }, &mx, err,
                                         sizeof err) == 0);
                        check_greedy(mx, fixtures, cases[i].name, cases[i].must_say, true);
                }
        }
        return 0;
}
