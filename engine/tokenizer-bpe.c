/* SPDX-License-Identifier: MIT */
/*
 * Byte-level BPE (tokenizer.ggml.model "gpt2": GPT-2, SmolLM2, Qwen2,
 * Llama 3), as llama.cpp's llm_tokenizer_bpe: the family's pre-tokenizer
 * regex cuts the text into words (hand-written matchers, like llama.cpp's
 * unicode_regex_split_custom_*), each byte of a word is mapped to its GPT-2
 * printable code point, and adjacent symbols are merged lowest merge rank
 * first.
 */

#include <stdio.h>
#include <string.h>

#include "tokenizer-internal.h"
#include "unicode.h"

/* GPT-2's bytes_to_unicode(): printable Latin-1 bytes stand for themselves,
 * the other 68 are shifted to U+0100.. in byte order. */
static bool byte_is_printable(unsigned b) {
        return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

/* The 68 others, in order: 0x00-0x20 (33), 0x7F-0xA0 (34), 0xAD (1). */
uint32_t bpe_byte_to_cp(uint8_t b) {
        if (byte_is_printable(b))
                return b;
        if (b <= 0x20)
                return 0x100 + b;
        if (b >= 0x7F && b <= 0xA0)
                return 0x100 + 33 + (b - 0x7F);
        return 0x100 + 67; /* 0xAD */
}

int bpe_cp_to_byte(uint32_t cp) {
        if (cp < 0x100)
                return byte_is_printable(cp) ? (int) cp : -1;
        if (cp < 0x100 + 33)
                return (int) (cp - 0x100);
        if (cp < 0x100 + 67)
                return (int) (cp - 0x100 - 33 + 0x7F);
        if (cp == 0x100 + 67)
                return 0xAD;
        return -1;
}

static uint64_t merge_hash(uint64_t key) {
        key ^= key >> 33;
        key *= 0xff51afd7ed558ccdull;
        key ^= key >> 33;
        return key;
}

static const struct bpe_merge_slot *merge_find(const Tokenizer *t, int32_t left, int32_t right) {
        uint64_t key = ((uint64_t) (uint32_t) left << 32 | (uint32_t) right) + 1;
        for (size_t i = merge_hash(key) & t->merges_mask;; i = (i + 1) & t->merges_mask) {
                if (t->merges[i].key == key)
                        return &t->merges[i];
                if (t->merges[i].key == 0)
                        return NULL;
        }
}

int bpe_build_merges(Tokenizer *t, const struct tokenizer_vocab *v, char *err, size_t err_size) {
        size_t size = 1;
        while (size < v->n_merges * 2 + 2)
                size <<= 1;
        t->merges = new0(struct bpe_merge_slot, size);
        if (!t->merges)
                return -ENOMEM;
        t->merges_mask = size - 1;

        for (size_t rank = 0; rank < v->n_merges; rank++) {
                const struct gguf_str *m = &v->merges[rank];
                const char *sp = m->len > 2 ? memchr(m->s + 1, ' ', m->len - 2) : NULL;
                char buf[2 * TOKENIZER_MAX_TOKEN_LEN];

                if (!sp || m->len > sizeof buf) {
                        if (err && err_size)
                                snprintf(err, err_size, "merge %zu is not \"left right\"", rank);
                        return -EBADMSG;
                }
                size_t ll = (size_t) (sp - m->s), rl = m->len - ll - 1;
                int32_t left = tokenizer_lookup(t, m->s, ll), right = tokenizer_lookup(t, sp + 1, rl);
                memcpy(buf, m->s, ll);
                memcpy(buf + ll, sp + 1, rl);
                int32_t merged = tokenizer_lookup(t, buf, ll + rl);
                /* A merge of or into something outside the vocabulary can
                 * never produce a token: Hugging Face refuses such files,
                 * we just skip the entry. */
                if (left < 0 || right < 0 || merged < 0)
                        continue;

                uint64_t key = ((uint64_t) (uint32_t) left << 32 | (uint32_t) right) + 1;
                for (size_t i = merge_hash(key) & t->merges_mask;; i = (i + 1) & t->merges_mask) {
                        if (t->merges[i].key == key)
                                break; /* duplicate: the first (lowest) rank wins */
                        if (t->merges[i].key == 0) {
                                t->merges[i] = (struct bpe_merge_slot) {
                                        .key = key, .rank = (uint32_t) rank, .merged = merged };
                                break;
                        }
                }
        }
        return 0;
}

/* ---- pre-tokenizers ---- */

struct cpts {
        uint32_t *cp;
        uint32_t *off; /* byte offset of cp[i]; off[n] = end */
        size_t n;
};

#define OUT_OF_RANGE UINT32_MAX

struct split {
        const struct cpts *c;
        size_t ini, end; /* the segment being split, in code points */
        size_t prev;
        bpe_word_fn emit;
        void *userdata;
        int r;
};

static uint32_t get_cp(const struct split *s, size_t pos) {
        return pos >= s->ini && pos < s->end ? s->c->cp[pos] : OUT_OF_RANGE;
}

/* Flags plus a bit for "inside the segment", which llama.cpp's matchers
 * test as flags.as_uint() != 0. */
#define IN_RANGE 0x80u

static unsigned get_flags(const struct split *s, size_t pos) {
        if (pos < s->ini || pos >= s->end)
                return 0;
        return unicode_flags(s->c->cp[pos]) | IN_RANGE;
}

static size_t add_word(struct split *s, size_t end) {
        size_t len = end - s->prev;
        if (len > 0 && s->r >= 0)
                s->r = s->emit(s->userdata, s->c->off[s->prev], s->c->off[end]);
        s->prev = end;
        return len;
}

#define L UNICODE_LETTER
#define N UNICODE_NUMBER
#define W UNICODE_WHITESPACE

static bool is_other(unsigned f) {
        return !(f & (W | L | N)) && (f & IN_RANGE);
}

/* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
static void split_gpt2(struct split *s) {
        for (size_t pos = s->ini; pos < s->end;) {
                uint32_t cp = get_cp(s, pos);
                unsigned flags = get_flags(s, pos);

                if (cp == '\'' && pos + 1 < s->end) {
                        uint32_t n1 = get_cp(s, pos + 1);
                        if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') {
                                pos += add_word(s, pos + 2);
                                continue;
                        }
                        if (pos + 2 < s->end) {
                                uint32_t n2 = get_cp(s, pos + 2);
                                if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) {
                                        pos += add_word(s, pos + 3);
                                        continue;
                                }
                        }
                }

                unsigned f2 = cp == ' ' ? get_flags(s, pos + 1) : flags;
                if (f2 & L) {
                        pos += cp == ' ';
                        while (f2 & L)
                                f2 = get_flags(s, ++pos);
                        add_word(s, pos);
                        continue;
                }
                if (f2 & N) {
                        pos += cp == ' ';
                        while (f2 & N)
                                f2 = get_flags(s, ++pos);
                        add_word(s, pos);
                        continue;
                }
                if (is_other(f2)) {
                        pos += cp == ' ';
                        while (is_other(f2))
                                f2 = get_flags(s, ++pos);
                        add_word(s, pos);
                        continue;
                }

                size_t nws = 0;
                while (get_flags(s, pos + nws) & W)
                        nws++;
                if (nws > 1 && get_cp(s, pos + nws) != OUT_OF_RANGE) {
                        /* \s+(?!\S): leave the last space to the next word */
                        pos += nws - 1;
                        add_word(s, pos);
                        continue;
                }
                if (nws > 0) {
                        pos += nws;
                        add_word(s, pos);
                        continue;
                }
                add_word(s, ++pos);
        }
}

static uint32_t ascii_lower(uint32_t c) {
        return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/*
 * Llama 3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 *          ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * Qwen2 is the same with \p{N} instead of \p{N}{1,3} (max_digits 1).
 */
static void split_llama3(struct split *s, size_t max_digits) {
        for (size_t pos = s->ini; pos < s->end;) {
                uint32_t cp = get_cp(s, pos);
                unsigned flags = get_flags(s, pos);

                if (cp == '\'' && pos + 1 < s->end) {
                        uint32_t n1 = ascii_lower(get_cp(s, pos + 1));
                        if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') {
                                pos += add_word(s, pos + 2);
                                continue;
                        }
                        if (pos + 2 < s->end) {
                                uint32_t n2 = ascii_lower(get_cp(s, pos + 2));
                                if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) {
                                        pos += add_word(s, pos + 3);
                                        continue;
                                }
                        }
                }

                if (!(cp == '\r' || cp == '\n' || (flags & N))) {
                        if ((flags & L) || (get_flags(s, pos + 1) & L)) {
                                pos++;
                                while (get_flags(s, pos) & L)
                                        pos++;
                                add_word(s, pos);
                                continue;
                        }
                }

                if (flags & N) {
                        size_t ini = pos;
                        while (get_flags(s, pos) & N) {
                                if (++pos - ini >= max_digits) {
                                        add_word(s, pos);
                                        ini = pos;
                                }
                        }
                        add_word(s, pos);
                        continue;
                }

                unsigned f2 = cp == ' ' ? get_flags(s, pos + 1) : flags;
                if (!(f2 & (W | L | N)) && (flags & IN_RANGE)) {
                        pos += cp == ' ';
                        while (is_other(f2))
                                f2 = get_flags(s, ++pos);
                        uint32_t c2 = get_cp(s, pos);
                        while (c2 == '\r' || c2 == '\n')
                                c2 = get_cp(s, ++pos);
                        add_word(s, pos);
                        continue;
                }

                size_t nws = 0, last_rn = 0;
                while (get_flags(s, pos + nws) & W) {
                        uint32_t c2 = get_cp(s, pos + nws);
                        if (c2 == '\r' || c2 == '\n')
                                last_rn = pos + nws + 1;
                        nws++;
                }
                if (last_rn > 0) {
                        /* \s*[\r\n]+ */
                        pos = last_rn;
                        add_word(s, pos);
                        continue;
                }
                if (nws > 1 && get_cp(s, pos + nws) != OUT_OF_RANGE) {
                        pos += nws - 1;
                        add_word(s, pos);
                        continue;
                }
                if (nws > 0) {
                        pos += nws;
                        add_word(s, pos);
                        continue;
                }
                add_word(s, ++pos);
        }
}

#undef L
#undef N
#undef W

static void split_segment(struct split *s, enum tokenizer_pre pre, size_t ini, size_t end) {
        s->ini = s->prev = ini;
        s->end = end;
        switch (pre) {
        case TOKENIZER_PRE_LLAMA3:
                split_llama3(s, 3);
                break;
        case TOKENIZER_PRE_QWEN2:
                split_llama3(s, 1);
                break;
        default:
                split_gpt2(s);
                break;
        }
}

int bpe_pretokenize(enum tokenizer_pre pre, const char *text, size_t len, bpe_word_fn emit, void *userdata) {
        _cleanup_free_ uint32_t *cp = NULL, *off = NULL;
        struct cpts c = {};
        struct split s = { .c = &c, .emit = emit, .userdata = userdata };

        if (len >= UINT32_MAX)
                return -E2BIG;
        cp = new0(uint32_t, len + 1);
        off = new0(uint32_t, len + 1);
        if (!cp || !off)
                return -ENOMEM;
        for (size_t i = 0; i < len;) {
                off[c.n] = (uint32_t) i;
                i += unicode_decode((const uint8_t *) text + i, len - i, &cp[c.n]);
                c.n++;
        }
        off[c.n] = (uint32_t) len;
        c.cp = cp;
        c.off = off;

        if (pre == TOKENIZER_PRE_SMOLLM) {
                /* First \p{N}: every digit is a word of its own; the GPT-2
                 * regex then splits the text between them. */
                size_t start = 0;
                for (size_t i = 0; i < c.n && s.r >= 0; i++) {
                        if (!(unicode_flags(cp[i]) & UNICODE_NUMBER))
                                continue;
                        split_segment(&s, pre, start, i);
                        if (s.r >= 0)
                                s.r = emit(userdata, off[i], off[i + 1]);
                        start = i + 1;
                }
                if (s.r >= 0)
                        split_segment(&s, pre, start, c.n);
        } else
                split_segment(&s, pre, 0, c.n);
        return s.r;
}

/* ---- merging ---- */

struct bpe_symbol {
        int32_t prev, next;
        int32_t id; /* -1: merged away */
};

struct bpe_bigram {
        uint32_t rank;
        int32_t left, right;
        int32_t left_id, right_id, merged;
};

struct bpe_state {
        const Tokenizer *t;
        const char *text;
        struct tok_out *out;
        struct bpe_symbol *sym;
        size_t sym_cap;
        struct bpe_bigram *heap;
        size_t heap_n, heap_cap;
};

/* Lowest rank first; equal ranks: leftmost first. */
static bool bb_before(const struct bpe_bigram *a, const struct bpe_bigram *b) {
        return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static int bb_push(struct bpe_state *st, int32_t left, int32_t right) {
        if (left < 0 || right < 0)
                return 0;
        int32_t lid = st->sym[left].id, rid = st->sym[right].id;
        if (lid < 0 || rid < 0)
                return 0;
        const struct bpe_merge_slot *m = merge_find(st->t, lid, rid);
        if (!m)
                return 0;
        if (st->heap_n == st->heap_cap) {
                size_t cap = st->heap_cap ? st->heap_cap * 2 : 64;
                struct bpe_bigram *p = reallocarray(st->heap, cap, sizeof(*p));
                if (!p)
                        return -ENOMEM;
                st->heap = p;
                st->heap_cap = cap;
        }
        struct bpe_bigram b = {
                .rank = m->rank, .left = left, .right = right, .left_id = lid, .right_id = rid, .merged = m->merged };
        size_t i = st->heap_n++;
        while (i > 0) {
                size_t parent = (i - 1) / 2;
                if (!bb_before(&b, &st->heap[parent]))
                        break;
                st->heap[i] = st->heap[parent];
                i = parent;
        }
        st->heap[i] = b;
        return 0;
}

static struct bpe_bigram bb_pop(struct bpe_state *st) {
        struct bpe_bigram top = st->heap[0], last = st->heap[--st->heap_n];
        size_t i = 0;
        for (;;) {
                size_t c = 2 * i + 1;
                if (c >= st->heap_n)
                        break;
                if (c + 1 < st->heap_n && bb_before(&st->heap[c + 1], &st->heap[c]))
                        c++;
                if (!bb_before(&st->heap[c], &last))
                        break;
                st->heap[i] = st->heap[c];
                i = c;
        }
        if (st->heap_n > 0)
                st->heap[i] = last;
        return top;
}

static int bpe_word(void *userdata, size_t start, size_t end) {
        struct bpe_state *st = userdata;
        const Tokenizer *t = st->t;
        const uint8_t *w = (const uint8_t *) st->text + start;
        size_t n = end - start;
        int r;

        if (t->ignore_merges && n <= TOKENIZER_MAX_TOKEN_LEN / 2) {
                /* The whole word may be a token already (Llama 3). */
                char buf[TOKENIZER_MAX_TOKEN_LEN];
                size_t k = 0;
                for (size_t i = 0; i < n; i++)
                        k += unicode_encode(bpe_byte_to_cp(w[i]), buf + k);
                int32_t id = tokenizer_lookup(t, buf, k);
                if (id >= 0)
                        return tok_out_push(st->out, id);
        }

        if (n > st->sym_cap) {
                struct bpe_symbol *p = reallocarray(st->sym, n, sizeof(*p));
                if (!p)
                        return -ENOMEM;
                st->sym = p;
                st->sym_cap = n;
        }
        for (size_t i = 0; i < n; i++)
                st->sym[i] = (struct bpe_symbol) {
                        .prev = (int32_t) i - 1, .next = i + 1 < n ? (int32_t) i + 1 : -1, .id = t->byte_token[w[i]] };

        st->heap_n = 0;
        for (size_t i = 1; i < n; i++) {
                r = bb_push(st, (int32_t) i - 1, (int32_t) i);
                if (r < 0)
                        return r;
        }
        while (st->heap_n > 0) {
                struct bpe_bigram b = bb_pop(st);
                struct bpe_symbol *l = &st->sym[b.left], *rr = &st->sym[b.right];

                /* Stale: either side changed since the pair was queued. */
                if (l->id != b.left_id || rr->id != b.right_id || l->next != b.right)
                        continue;
                l->id = b.merged;
                rr->id = -1;
                rr->prev = -2;
                l->next = rr->next;
                if (rr->next >= 0)
                        st->sym[rr->next].prev = b.left;
                r = bb_push(st, l->prev, b.left);
                if (r >= 0)
                        r = bb_push(st, b.left, l->next);
                if (r < 0)
                        return r;
        }

        for (int32_t i = n > 0 ? 0 : -1; i >= 0; i = st->sym[i].next) {
                int32_t id = st->sym[i].id;
                if (id < 0)
                        id = t->unk; /* a byte the vocabulary has no token for */
                if (id < 0)
                        continue;
                r = tok_out_push(st->out, id);
                if (r < 0)
                        return r;
        }
        return 0;
}

int bpe_encode(const Tokenizer *t, const char *text, size_t len, struct tok_out *out) {
        struct bpe_state st = { .t = t, .text = text, .out = out };
        int r = bpe_pretokenize(t->pre, text, len, bpe_word, &st);
        free(st.sym);
        free(st.heap);
        return r;
}
