/* SPDX-License-Identifier: MIT */
/*
 * SentencePiece-style BPE (tokenizer.ggml.model "llama": Llama 2, Gemma),
 * as llama.cpp's llm_tokenizer_spm: spaces become U+2581, the text is cut
 * into UTF-8 characters, and the adjacent pair whose concatenation is the
 * highest-scoring vocabulary token is merged until no pair is in the
 * vocabulary. Characters left outside the vocabulary fall back to <0xXX>
 * byte tokens.
 */

#include <string.h>

#include "tokenizer-internal.h"
#include "unicode.h"

struct spm_symbol {
        int32_t prev, next;
        uint32_t start, n; /* bytes in the escaped text; n == 0: merged away */
};

struct spm_bigram {
        float score;
        int32_t left, right;
        uint32_t size;
        int32_t id;
};

/* Highest score first; equal scores: leftmost first (llama.cpp's order). */
static bool bigram_before(const struct spm_bigram *a, const struct spm_bigram *b) {
        return a->score > b->score || (a->score == b->score && a->left < b->left);
}

struct spm_heap {
        struct spm_bigram *v;
        size_t n, cap;
};

static int heap_push(struct spm_heap *h, struct spm_bigram b) {
        if (h->n == h->cap) {
                size_t cap = h->cap ? h->cap * 2 : 64;
                struct spm_bigram *p = reallocarray(h->v, cap, sizeof(*p));
                if (!p)
                        return -ENOMEM;
                h->v = p;
                h->cap = cap;
        }
        size_t i = h->n++;
        while (i > 0) {
                size_t parent = (i - 1) / 2;
                if (!bigram_before(&b, &h->v[parent]))
                        break;
                h->v[i] = h->v[parent];
                i = parent;
        }
        h->v[i] = b;
        return 0;
}

static struct spm_bigram heap_pop(struct spm_heap *h) {
        struct spm_bigram top = h->v[0], last = h->v[--h->n];
        size_t i = 0;
        for (;;) {
                size_t c = 2 * i + 1;
                if (c >= h->n)
                        break;
                if (c + 1 < h->n && bigram_before(&h->v[c + 1], &h->v[c]))
                        c++;
                if (!bigram_before(&h->v[c], &last))
                        break;
                h->v[i] = h->v[c];
                i = c;
        }
        if (h->n > 0)
                h->v[i] = last;
        return top;
}

static int try_bigram(const Tokenizer *t, const char *text, const struct spm_symbol *sym, int32_t left,
                      int32_t right, struct spm_heap *h) {
        if (left < 0 || right < 0)
                return 0;
        uint32_t size = sym[left].n + sym[right].n;
        int32_t id = tokenizer_lookup(t, text + sym[left].start, size);
        if (id < 0)
                return 0;
        return heap_push(h, (struct spm_bigram) {
                .score = t->tokens[id].score, .left = left, .right = right, .size = size, .id = id });
}

int spm_encode(const Tokenizer *t, const char *text, size_t len, bool prefix_space, struct tok_out *out) {
        _cleanup_free_ char *s = NULL;
        _cleanup_free_ struct spm_symbol *sym = NULL;
        struct spm_heap h = {};
        size_t n = 0, n_sym = 0;
        int r = 0;

        /* Escaped text: at most 3 bytes per input byte, plus the prefix. */
        if (len > (UINT32_MAX - 3) / 3)
                return -E2BIG;
        s = malloc(len * 3 + 3);
        sym = new0(struct spm_symbol, len + 1);
        if (!s || !sym)
                return -ENOMEM;
        if (prefix_space) {
                memcpy(s, "\xe2\x96\x81", 3);
                n = 3;
        }
        for (size_t i = 0; i < len; i++) {
                if (text[i] == ' ') {
                        memcpy(s + n, "\xe2\x96\x81", 3);
                        n += 3;
                } else
                        s[n++] = text[i];
        }

        /* One symbol per UTF-8 character; a stray byte is a character too.
         * Continuation bytes are checked: a lead byte followed by anything else
         * is one invalid byte, so it cannot swallow the next character (such
         * as the U+2581 of a space, which would then decode as "▁"). */
        for (size_t i = 0; i < n;) {
                uint32_t cp;
                size_t l = unicode_decode((const uint8_t *) s + i, n - i, &cp);

                if (l == 0)
                        l = 1;
                sym[n_sym] = (struct spm_symbol) {
                        .prev = (int32_t) n_sym - 1,
                        .next = i + l < n ? (int32_t) n_sym + 1 : -1,
                        .start = (uint32_t) i,
                        .n = (uint32_t) l,
                };
                n_sym++;
                i += l;
        }

        for (size_t i = 1; i < n_sym && r >= 0; i++)
                r = try_bigram(t, s, sym, (int32_t) i - 1, (int32_t) i, &h);

        while (r >= 0 && h.n > 0) {
                struct spm_bigram b = heap_pop(&h);
                struct spm_symbol *l = &sym[b.left], *rr = &sym[b.right];

                /* Stale: one side was merged into something else since. */
                if (l->n == 0 || rr->n == 0 || l->n + rr->n != b.size)
                        continue;
                l->n += rr->n;
                rr->n = 0;
                l->next = rr->next;
                if (rr->next >= 0)
                        sym[rr->next].prev = b.left;
                r = try_bigram(t, s, sym, l->prev, b.left, &h);
                if (r >= 0)
                        r = try_bigram(t, s, sym, b.left, l->next, &h);
        }
        free(h.v);
        if (r < 0)
                return r;

        for (int32_t i = n_sym > 0 ? 0 : -1; i >= 0; i = sym[i].next) {
                int32_t id = tokenizer_lookup(t, s + sym[i].start, sym[i].n);
                if (id >= 0) {
                        r = tok_out_push(out, id);
                        if (r < 0)
                                return r;
                        continue;
                }
                for (uint32_t k = 0; k < sym[i].n; k++) {
                        id = t->byte_token[(uint8_t) s[sym[i].start + k]];
                        if (id < 0)
                                id = t->unk;
                        if (id < 0)
                                continue;
                        r = tok_out_push(out, id);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}
