/* SPDX-License-Identifier: MIT */
/*
 * Tokenizers against hostile text: arbitrary bytes are encoded with the
 * fixture models' tokenizers (byte-level BPE and SentencePiece), with and
 * without special-token parsing, and must decode back to exactly the input
 * (both tokenizers fall back to bytes, so every input round-trips, except a
 * literal U+2581 under SentencePiece, which stands for a space), with
 * every id inside the vocabulary and streaming UTF-8 output always valid.
 */

#include <stdio.h>
#include <string.h>

#include "gguf.h"
#include "tokenizer.h"

static Tokenizer *tk[2];
static GgufFile *files[2]; /* kept for the life of the process */

static Tokenizer *load(const char *name, GgufFile **keep) {
        const char *dir = getenv("UNICORN_FIXTURES");
        char path[4096], err[256] = "";
        GgufFile *f;
        Tokenizer *t;

        snprintf(path, sizeof path, "%s/models/%s", dir ? dir : "tests/fixtures", name);
        if (gguf_open(path, &f, err, sizeof err) < 0 || tokenizer_new_from_gguf(f, &t, err, sizeof err) < 0) {
                fprintf(stderr, "fuzz-tokenizer: %s: %s\n", path, err);
                abort();
        }
        *keep = f;
        return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (!tk[0]) {
                tk[0] = load("llama-f32.gguf", &files[0]);
                tk[1] = load("gemma3-f16.gguf", &files[1]);
        }
        if (size > 1 << 16)
                return 0;
        for (int i = 0; i < 2; i++)
                for (int special = 0; special < 2; special++) {
                        int32_t *ids = NULL;
                        char *text = NULL;
                        size_t n = 0;

                        if (tokenizer_encode(tk[i], (const char *) data, size, false, special, &ids, &n) < 0)
                                abort();
                        for (size_t k = 0; k < n; k++)
                                if (ids[k] < 0 || (size_t) ids[k] >= tokenizer_n_vocab(tk[i]))
                                        abort();
                        if (tokenizer_decode(tk[i], ids, n, true, &text) < 0)
                                abort();
                        /* NUL bytes cannot survive a C string; and SentencePiece
                         * writes spaces as U+2581, so a literal U+2581 in the input
                         * comes back as a space (as in HF and sentencepiece). */
                        if (strnlen((const char *) data, size) == size &&
                            !(tokenizer_kind(tk[i]) == TOKENIZER_SPM && memmem(data, size, "\xe2\x96\x81", 3)) &&
                            (strlen(text) != size || memcmp(text, data, size) != 0))
                                abort();
                        {
                                Utf8Stream st = {};
                                char out[64 * 3 + 16];
                                size_t off = 0;
                                while (off < size) {
                                        size_t chunk = size - off < 64 ? size - off : 64;
                                        size_t m = utf8_stream_push(&st, (const char *) data + off, chunk, false, out,
                                                                    sizeof out);
                                        if (!utf8_is_valid(out, m))
                                                abort();
                                        off += chunk;
                                }
                        }
                        free(ids);
                        free(text);
                }
        return 0;
}
