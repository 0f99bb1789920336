/* SPDX-License-Identifier: MIT */
/*
 * The tokenizers of the real models against Hugging Face: every case of
 * tests/fixtures/tokenizer/<model>.ref (gen-tokenizer-ref.py) must encode to
 * the reference ids and decode back to the exact text. Skipped (77) when
 * the model files are not in $UNICORN_MODELS (tools/fetch-models).
 */

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "gguf.h"
#include "test-helpers.h"
#include "tokenizer.h"

static const char *const refs[] = {
        "gemma-3-270m-q4_k_m.ref",
        "SmolLM2-135M-Instruct.Q4_1.ref",
};

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int hexval(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void roundtrip(const Tokenizer *t, const char *text, size_t len, const char *what) {
        int32_t *ids = NULL;
        size_t n = 0;
        char *s = NULL;

        CHECK_RET(tokenizer_encode(t, text, len, false, true, &ids, &n), 0);
        CHECK_RET(tokenizer_decode(t, ids, n, true, &s), 0);
        CHECK_MSG(strlen(s) == len && memcmp(s, text, len) == 0, "%s: decode(encode(\"%.*s\")) = \"%s\"", what,
                  (int) len, text, s);
        free(s);
        free(ids);
}

/* Returns false if the model file is missing. */
static bool run_ref(const char *models, const char *ref) {
        char path[4096], line[65536], model[256] = "", err[512] = "";
        _cleanup_(gguf_freep) GgufFile *f = NULL;
        _cleanup_(tokenizer_freep) Tokenizer *t = NULL;
        static char text[32768], big[1 << 16];
        size_t big_len = 0, n_cases = 0;
        int add_bos = -1;
        double encode_ms = 0;

        snprintf(path, sizeof path, "%s/tokenizer/%s", test_fixtures_dir(), ref);
        FILE *fp = fopen(path, "re");
        CHECK_MSG(fp, "cannot open %s", path);

        while (fgets(line, sizeof line, fp)) {
                size_t ll = strcspn(line, "\n");
                line[ll] = 0;
                if (line[0] == '#' || ll == 0)
                        continue;
                if (sscanf(line, "model %255s", model) == 1)
                        continue;
                if (sscanf(line, "add_bos %d", &add_bos) == 1)
                        continue;

                if (!t) {
                        int r;
                        CHECK(model[0] && add_bos >= 0);
                        snprintf(path, sizeof path, "%s/%s", models, model);
                        if (access(path, R_OK) < 0) {
                                printf("%s: missing, skipped\n", path);
                                fclose(fp);
                                return false;
                        }
                        r = gguf_open(path, &f, err, sizeof err);
                        CHECK_MSG(r == 0, "gguf_open(%s): %d %s", path, r, err);
                        double t0 = now_ms();
                        r = tokenizer_new_from_gguf(f, &t, err, sizeof err);
                        CHECK_MSG(r == 0, "tokenizer_new_from_gguf(%s): %d %s", model, r, err);
                        printf("%s: %zu tokens, built in %.1f ms\n", model, tokenizer_n_vocab(t), now_ms() - t0);
                        CHECK(tokenizer_add_bos(t) == (add_bos == 1));
                        CHECK(tokenizer_is_eog(t, tokenizer_eos(t)));
                        static const char *const eogs[] = { "<end_of_turn>", "<|im_end|>", "<|endoftext|>" };
                        for (size_t i = 0; i < ELEMENTSOF(eogs); i++) {
                                int32_t id = tokenizer_find(t, eogs[i]);
                                CHECK(id < 0 || tokenizer_is_eog(t, id));
                        }
                        CHECK(!tokenizer_is_eog(t, tokenizer_bos(t)));
                }

                char *tab = strchr(line, '\t');
                CHECK(tab);
                size_t hl = (size_t) (tab - line), len = hl / 2;
                CHECK(hl % 2 == 0 && len < sizeof text);
                for (size_t i = 0; i < len; i++) {
                        int hi = hexval(line[2 * i]), lo = hexval(line[2 * i + 1]);
                        CHECK(hi >= 0 && lo >= 0);
                        text[i] = (char) (hi << 4 | lo);
                }
                text[len] = 0;

                int32_t want[4096];
                size_t n_want = 0;
                for (char *p = tab + 1; *p;) {
                        char *end;
                        long v = strtol(p, &end, 10);
                        if (end == p)
                                break;
                        CHECK(n_want < ELEMENTSOF(want));
                        want[n_want++] = (int32_t) v;
                        p = end;
                }

                int32_t *ids = NULL;
                size_t n = 0;
                double t0 = now_ms();
                CHECK_RET(tokenizer_encode(t, text, len, true, true, &ids, &n), 0);
                encode_ms += now_ms() - t0;
                bool ok = n == n_want && memcmp(ids, want, n * sizeof(int32_t)) == 0;
                if (!ok) {
                        fprintf(stderr, "%s: encode(\"%s\")\n  got: ", model, text);
                        for (size_t i = 0; i < n; i++)
                                fprintf(stderr, " %" PRId32, ids[i]);
                        fprintf(stderr, "\n want:");
                        for (size_t i = 0; i < n_want; i++)
                                fprintf(stderr, " %" PRId32, want[i]);
                        fprintf(stderr, "\n");
                }
                CHECK(ok);
                free(ids);

                roundtrip(t, text, len, model);
                if (big_len + len < sizeof big) {
                        memcpy(big + big_len, text, len);
                        big_len += len;
                }
                n_cases++;
        }
        fclose(fp);
        CHECK(t && n_cases > 0);

        /* All cases in one text (multilingual, code, specials), repeated to
         * about 10 KB for the timing line. */
        roundtrip(t, big, big_len, model);
        static char ten_k[16384];
        size_t tl = 0;
        while (tl + big_len < 10240 && tl + big_len < sizeof ten_k) {
                memcpy(ten_k + tl, big, big_len);
                tl += big_len;
        }
        if (tl == 0) {
                memcpy(ten_k, big, MIN(big_len, sizeof ten_k));
                tl = MIN(big_len, sizeof ten_k);
        }
        int32_t *ids = NULL;
        size_t n = 0;
        double t0 = now_ms();
        CHECK_RET(tokenizer_encode(t, ten_k, tl, true, true, &ids, &n), 0);
        printf("%s: %zu cases match Hugging Face (%.2f ms total); %zu bytes -> %zu tokens in %.2f ms\n", model,
               n_cases, encode_ms, tl, n, now_ms() - t0);
        free(ids);
        roundtrip(t, ten_k, tl, model);
        return true;
}

int main(void) {
        const char *models = test_models_dir();
        size_t ran = 0;

        if (!models)
                SKIP("UNICORN_MODELS not set");
        for (size_t i = 0; i < ELEMENTSOF(refs); i++)
                ran += run_ref(models, refs[i]);
        if (ran == 0)
                SKIP("no model files in %s (tools/fetch-models)", models);
        printf("real-tokenizer: %zu models passed\n", ran);
        return 0;
}
