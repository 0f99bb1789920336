/* SPDX-License-Identifier: MIT */
/*
 * Vocabulary loading and validation, special-token matching, decoding and
 * UTF-8 streaming, common to both tokenizer algorithms. Behaviour follows
 * llama.cpp's llama-vocab.cpp, checked against Hugging Face tokenizers
 * (tests/fixtures/gen-tokenizer-ref.py).
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errorf.h"
#include "tokenizer-internal.h"
#include "unicode.h"

#define fail(err, size, ...) errorf((err), (size), -EBADMSG, __VA_ARGS__)

uint64_t tokenizer_hash(const char *s, size_t len) {
        /* FNV-1a, then a final mix so the low bits (the table index) depend
         * on every byte: tokens are short, this is not the bottleneck. */
        uint64_t h = 0xcbf29ce484222325ull;
        for (size_t i = 0; i < len; i++)
                h = (h ^ (uint8_t) s[i]) * 0x100000001b3ull;
        h ^= h >> 31;
        h *= 0x7fb5d329728ea185ull;
        h ^= h >> 27;
        return h;
}

int32_t tokenizer_lookup(const Tokenizer *t, const char *s, size_t len) {
        for (size_t i = tokenizer_hash(s, len) & t->index_mask;; i = (i + 1) & t->index_mask) {
                int32_t id = t->index[i];
                if (id < 0)
                        return -1;
                if (t->tokens[id].len == len && memcmp(t->tokens[id].text, s, len) == 0)
                        return id;
        }
}

int tok_out_push(struct tok_out *o, int32_t id) {
        if (o->n == o->cap) {
                size_t cap = o->cap ? o->cap * 2 : 64;
                int32_t *p = reallocarray(o->ids, cap, sizeof(int32_t));
                if (!p)
                        return -ENOMEM;
                o->ids = p;
                o->cap = cap;
        }
        o->ids[o->n++] = id;
        return 0;
}

Tokenizer *tokenizer_free(Tokenizer *t) {
        if (!t)
                return NULL;
        free(t->tokens);
        free(t->blob);
        free(t->index);
        free(t->merges);
        free(t->trie);
        free(t->eog);
        free(t);
        return NULL;
}

static int trie_add(Tokenizer *t, int32_t id, size_t *cap) {
        const struct tok_token *tok = &t->tokens[id];
        int32_t node = -1;

        for (uint32_t i = 0; i < tok->len; i++) {
                uint8_t b = (uint8_t) tok->text[i];
                int32_t c = node < 0 ? t->trie_root[b] : t->trie[node].child;

                if (node >= 0)
                        while (c >= 0 && t->trie[c].byte != b)
                                c = t->trie[c].sibling;
                if (c < 0) {
                        if (t->n_trie == *cap) {
                                size_t ncap = *cap ? *cap * 2 : 1024;
                                struct special_node *p = reallocarray(t->trie, ncap, sizeof(*p));
                                if (!p)
                                        return -ENOMEM;
                                t->trie = p;
                                *cap = ncap;
                        }
                        /* Root children sit in trie_root[] by byte; deeper
                         * ones on a sibling list, new ones in front. */
                        c = (int32_t) t->n_trie++;
                        t->trie[c] = (struct special_node) {
                                .child = -1,
                                .sibling = node < 0 ? -1 : t->trie[node].child,
                                .token = -1,
                                .byte = b,
                        };
                        if (node < 0)
                                t->trie_root[b] = c;
                        else
                                t->trie[node].child = c;
                }
                node = c;
        }
        if (node >= 0 && t->trie[node].token < 0)
                t->trie[node].token = id;
        return 0;
}

static bool is_special_type(uint8_t type) {
        return type == TOKEN_TYPE_CONTROL || type == TOKEN_TYPE_USER_DEFINED || type == TOKEN_TYPE_UNKNOWN;
}

static int add_eog(Tokenizer *t, int32_t id) {
        if (id < 0)
                return 0;
        for (size_t i = 0; i < t->n_eog; i++)
                if (t->eog[i] == id)
                        return 0;
        int32_t *p = reallocarray(t->eog, t->n_eog + 1, sizeof(int32_t));
        if (!p)
                return -ENOMEM;
        t->eog = p;
        t->eog[t->n_eog++] = id;
        return 0;
}

int tokenizer_new_from_vocab(const struct tokenizer_vocab *v, Tokenizer **ret, char *err, size_t err_size) {
        _cleanup_(tokenizer_freep) Tokenizer *t = NULL;
        size_t blob_size = 0, trie_cap = 0;
        int r;

        if (v->n_tokens == 0 || v->n_tokens > TOKENIZER_MAX_VOCAB)
                return fail(err, err_size, "vocabulary size %zu out of range (1..%u)", v->n_tokens,
                            TOKENIZER_MAX_VOCAB);
        if (v->kind != TOKENIZER_SPM && v->kind != TOKENIZER_BPE)
                return -EOPNOTSUPP;

        t = new0(Tokenizer, 1);
        if (!t)
                return -ENOMEM;
        t->kind = v->kind;
        t->pre = v->pre;
        t->n_tokens = v->n_tokens;
        t->bos = v->bos, t->eos = v->eos, t->unk = v->unk, t->pad = v->pad, t->eot = v->eot, t->eom = v->eom;
        t->add_bos = v->add_bos, t->add_eos = v->add_eos, t->add_space_prefix = v->add_space_prefix;
        t->ignore_merges = v->kind == TOKENIZER_BPE && v->pre == TOKENIZER_PRE_LLAMA3;

        const struct { const char *name; int32_t id; } ids[] = {
                { "bos", v->bos }, { "eos", v->eos }, { "unknown", v->unk },
                { "padding", v->pad }, { "eot", v->eot }, { "eom", v->eom },
        };
        for (size_t i = 0; i < ELEMENTSOF(ids); i++)
                if (ids[i].id < -1 || (ids[i].id >= 0 && (size_t) ids[i].id >= v->n_tokens))
                        return fail(err, err_size, "%s token id %" PRId32 " out of range (vocabulary has %zu)",
                                    ids[i].name, ids[i].id, v->n_tokens);

        for (size_t i = 0; i < v->n_tokens; i++) {
                const struct gguf_str *s = &v->tokens[i];
                if (s->len > TOKENIZER_MAX_TOKEN_LEN)
                        return fail(err, err_size, "token %zu is %zu bytes long (cap %u)", i, s->len,
                                    TOKENIZER_MAX_TOKEN_LEN);
                if (s->len > 0 && (memchr(s->s, 0, s->len) || !utf8_is_valid(s->s, s->len)))
                        return fail(err, err_size, "token %zu is not valid UTF-8 text", i);
                if (v->types && (v->types[i] < TOKEN_TYPE_UNDEFINED || v->types[i] > TOKEN_TYPE_BYTE))
                        return fail(err, err_size, "token %zu has unknown type %" PRId32, i, v->types[i]);
                blob_size += s->len + 1;
        }

        t->tokens = new0(struct tok_token, v->n_tokens);
        t->blob = malloc(blob_size);
        if (!t->tokens || !t->blob)
                return -ENOMEM;

        size_t index_size = 1;
        while (index_size < v->n_tokens * 2)
                index_size <<= 1;
        t->index = malloc(index_size * sizeof(int32_t));
        if (!t->index)
                return -ENOMEM;
        memset(t->index, 0xff, index_size * sizeof(int32_t));
        t->index_mask = index_size - 1;

        char *p = t->blob;
        for (size_t i = 0; i < v->n_tokens; i++) {
                struct tok_token *tok = &t->tokens[i];
                memcpy(p, v->tokens[i].s, v->tokens[i].len);
                p[v->tokens[i].len] = 0;
                tok->text = p;
                tok->len = (uint32_t) v->tokens[i].len;
                tok->type = v->types ? (uint8_t) v->types[i] : TOKEN_TYPE_NORMAL;
                tok->score = v->scores ? v->scores[i] : 0.0f;
                p += tok->len + 1;

                /* Duplicate texts (seen in real vocabularies): the first id wins. */
                size_t j = tokenizer_hash(tok->text, tok->len) & t->index_mask;
                for (;; j = (j + 1) & t->index_mask) {
                        int32_t o = t->index[j];
                        if (o < 0) {
                                t->index[j] = (int32_t) i;
                                break;
                        }
                        if (t->tokens[o].len == tok->len && memcmp(t->tokens[o].text, tok->text, tok->len) == 0)
                                break;
                }
        }

        /* Byte tokens for SPM's fallback; the mapped char for byte-level BPE. */
        for (unsigned b = 0; b < 256; b++) {
                char buf[8];
                size_t n;
                if (t->kind == TOKENIZER_SPM)
                        n = (size_t) snprintf(buf, sizeof buf, "<0x%02X>", b);
                else
                        n = unicode_encode(bpe_byte_to_cp((uint8_t) b), buf);
                t->byte_token[b] = tokenizer_lookup(t, buf, n);
        }

        /* Control, user-defined and unknown tokens are cut out of the raw
         * text before the algorithm runs (llama.cpp's tokenizer_st_partition). */
        memset(t->trie_root, 0xff, sizeof t->trie_root);
        for (size_t i = 0; i < v->n_tokens; i++)
                if (is_special_type(t->tokens[i].type) && t->tokens[i].len > 0) {
                        r = trie_add(t, (int32_t) i, &trie_cap);
                        if (r < 0)
                                return r;
                }

        if (t->kind == TOKENIZER_BPE) {
                r = bpe_build_merges(t, v, err, err_size);
                if (r < 0)
                        return r;
        }

        static const char *const eog_texts[] = {
                "<end_of_turn>", "<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|endoftext|>", "<|eom_id|>",
        };
        r = add_eog(t, t->eos);
        if (r >= 0)
                r = add_eog(t, t->eot);
        if (r >= 0)
                r = add_eog(t, t->eom);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(eog_texts); i++) {
                int32_t id = tokenizer_lookup(t, eog_texts[i], strlen(eog_texts[i]));
                if (id >= 0 && t->tokens[id].type == TOKEN_TYPE_CONTROL)
                        r = add_eog(t, id);
        }
        if (r < 0)
                return r;

        *ret = TAKE_PTR(t);
        return 0;
}

static int get_token_id(const GgufFile *f, const char *key, size_t n, int32_t *ret, char *err, size_t err_size) {
        uint32_t u;
        int r = gguf_get_u32(f, key, &u);
        if (r == -ENOENT) {
                *ret = -1;
                return 0;
        }
        if (r < 0)
                return fail(err, err_size, "%s has the wrong type", key);
        if (u >= n)
                return fail(err, err_size, "%s = %" PRIu32 " out of range (vocabulary has %zu)", key, u, n);
        *ret = (int32_t) u;
        return 0;
}

static int get_flag(const GgufFile *f, const char *key, bool def, bool *ret, char *err, size_t err_size) {
        int r = gguf_get_bool(f, key, ret);
        if (r == -ENOENT) {
                *ret = def;
                return 0;
        }
        if (r < 0)
                return fail(err, err_size, "%s has the wrong type", key);
        return 0;
}

int tokenizer_new_from_gguf(const GgufFile *f, Tokenizer **ret, char *err, size_t err_size) {
        struct tokenizer_vocab v = {};
        struct gguf_str model, pre = {};
        const struct gguf_kv *tokens, *kv;
        _cleanup_free_ float *scores = NULL;
        _cleanup_free_ int32_t *types = NULL;
        int r;

        if (err && err_size)
                err[0] = 0;

        r = gguf_get_str(f, "tokenizer.ggml.model", &model);
        if (r < 0)
                return fail(err, err_size, "tokenizer.ggml.model missing or not a string");
        if (gguf_str_eq(model, "llama"))
                v.kind = TOKENIZER_SPM;
        else if (gguf_str_eq(model, "gpt2"))
                v.kind = TOKENIZER_BPE;
        else {
                if (err && err_size)
                        snprintf(err, err_size, "tokenizer model '%.*s' is not supported", (int) MIN(model.len, 64u),
                                 model.s);
                return -EOPNOTSUPP;
        }

        if (v.kind == TOKENIZER_BPE) {
                static const struct { const char *name; enum tokenizer_pre pre; } pres[] = {
                        { "default", TOKENIZER_PRE_GPT2 },   { "gpt2", TOKENIZER_PRE_GPT2 },
                        { "gpt-2", TOKENIZER_PRE_GPT2 },     { "smollm", TOKENIZER_PRE_SMOLLM },
                        { "llama3", TOKENIZER_PRE_LLAMA3 },  { "llama-bpe", TOKENIZER_PRE_LLAMA3 },
                        { "llama-v3", TOKENIZER_PRE_LLAMA3 }, { "qwen2", TOKENIZER_PRE_QWEN2 },
                };
                size_t i;

                r = gguf_get_str(f, "tokenizer.ggml.pre", &pre);
                if (r == -ENOENT)
                        pre = (struct gguf_str) { "default", 7 };
                else if (r < 0)
                        return fail(err, err_size, "tokenizer.ggml.pre is not a string");
                for (i = 0; i < ELEMENTSOF(pres); i++)
                        if (gguf_str_eq(pre, pres[i].name))
                                break;
                if (i == ELEMENTSOF(pres)) {
                        if (err && err_size)
                                snprintf(err, err_size, "pre-tokenizer '%.*s' is not supported",
                                         (int) MIN(pre.len, 64u), pre.s);
                        return -EOPNOTSUPP;
                }
                v.pre = pres[i].pre;
        }

        r = gguf_get_array(f, "tokenizer.ggml.tokens", GGUF_TYPE_STRING, &tokens);
        if (r < 0)
                return fail(err, err_size, "tokenizer.ggml.tokens missing or not a string array");
        if (tokens->arr_n == 0 || tokens->arr_n > TOKENIZER_MAX_VOCAB)
                return fail(err, err_size, "vocabulary size %" PRIu64 " out of range (1..%u)", tokens->arr_n,
                            TOKENIZER_MAX_VOCAB);
        v.n_tokens = tokens->arr_n;
        v.tokens = tokens->strs;

        /* The arrays point into the mapping, maybe unaligned: copy them. */
        r = gguf_get_array(f, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, &kv);
        if (r >= 0) {
                if (kv->arr_n != v.n_tokens)
                        return fail(err, err_size, "tokenizer.ggml.scores has %" PRIu64 " entries, expected %zu",
                                    kv->arr_n, v.n_tokens);
                scores = new0(float, v.n_tokens);
                if (!scores)
                        return -ENOMEM;
                for (size_t i = 0; i < v.n_tokens; i++)
                        scores[i] = (float) gguf_array_get_f64(kv, i);
                v.scores = scores;
        } else if (r != -ENOENT)
                return fail(err, err_size, "tokenizer.ggml.scores is not a float32 array");
        else if (v.kind == TOKENIZER_SPM)
                return fail(err, err_size, "tokenizer.ggml.scores missing (needed by the llama tokenizer)");

        r = gguf_get_array(f, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, &kv);
        if (r >= 0) {
                if (kv->arr_n != v.n_tokens)
                        return fail(err, err_size,
                                    "tokenizer.ggml.token_type has %" PRIu64 " entries, expected %zu", kv->arr_n,
                                    v.n_tokens);
                types = new0(int32_t, v.n_tokens);
                if (!types)
                        return -ENOMEM;
                for (size_t i = 0; i < v.n_tokens; i++)
                        types[i] = (int32_t) gguf_array_get_i64(kv, i);
                v.types = types;
        } else if (r != -ENOENT)
                return fail(err, err_size, "tokenizer.ggml.token_type is not an int32 array");

        if (v.kind == TOKENIZER_BPE) {
                r = gguf_get_array(f, "tokenizer.ggml.merges", GGUF_TYPE_STRING, &kv);
                if (r < 0)
                        return fail(err, err_size, "tokenizer.ggml.merges missing or not a string array");
                if (kv->arr_n > TOKENIZER_MAX_MERGES)
                        return fail(err, err_size, "%" PRIu64 " merges (cap %u)", kv->arr_n, TOKENIZER_MAX_MERGES);
                v.n_merges = kv->arr_n;
                v.merges = kv->strs;
        }

        r = get_token_id(f, "tokenizer.ggml.bos_token_id", v.n_tokens, &v.bos, err, err_size);
        if (r >= 0)
                r = get_token_id(f, "tokenizer.ggml.eos_token_id", v.n_tokens, &v.eos, err, err_size);
        if (r >= 0)
                r = get_token_id(f, "tokenizer.ggml.unknown_token_id", v.n_tokens, &v.unk, err, err_size);
        if (r >= 0)
                r = get_token_id(f, "tokenizer.ggml.padding_token_id", v.n_tokens, &v.pad, err, err_size);
        if (r >= 0)
                r = get_token_id(f, "tokenizer.ggml.eot_token_id", v.n_tokens, &v.eot, err, err_size);
        if (r >= 0)
                r = get_token_id(f, "tokenizer.ggml.eom_token_id", v.n_tokens, &v.eom, err, err_size);
        /* Defaults as llama.cpp: SPM models want BOS and a space prefix,
         * byte-level BPE models only BOS, and only the Llama 3 family. */
        if (r >= 0)
                r = get_flag(f, "tokenizer.ggml.add_bos_token",
                             v.kind == TOKENIZER_SPM || v.pre == TOKENIZER_PRE_LLAMA3, &v.add_bos, err, err_size);
        if (r >= 0)
                r = get_flag(f, "tokenizer.ggml.add_eos_token", false, &v.add_eos, err, err_size);
        if (r >= 0)
                r = get_flag(f, "tokenizer.ggml.add_space_prefix", v.kind == TOKENIZER_SPM, &v.add_space_prefix,
                             err, err_size);
        if (r < 0)
                return r;

        return tokenizer_new_from_vocab(&v, ret, err, err_size);
}

/* Leftmost-longest match of a special token at text[0..len), or -1. */
static int32_t match_special(const Tokenizer *t, const char *text, size_t len, bool parse_special, size_t *ret_len) {
        int32_t node = t->trie_root[(uint8_t) text[0]], best = -1;
        size_t i = 0;

        while (node >= 0) {
                int32_t tok = t->trie[node].token;
                if (tok >= 0 && (parse_special || t->tokens[tok].type == TOKEN_TYPE_USER_DEFINED)) {
                        best = tok;
                        *ret_len = i + 1;
                }
                if (++i >= len)
                        break;
                uint8_t b = (uint8_t) text[i];
                for (node = t->trie[node].child; node >= 0 && t->trie[node].byte != b; node = t->trie[node].sibling)
                        ;
        }
        return best;
}

static int encode_fragment(const Tokenizer *t, const char *text, size_t len, bool prev_special, struct tok_out *out) {
        if (len == 0)
                return 0;
        if (t->kind == TOKENIZER_SPM)
                return spm_encode(t, text, len, t->add_space_prefix && prev_special, out);
        return bpe_encode(t, text, len, out);
}

int tokenizer_encode(const Tokenizer *t, const char *text, size_t len, bool add_bos, bool parse_special,
                     int32_t **ret_ids, size_t *ret_n) {
        struct tok_out out = {};
        size_t start = 0;
        bool prev_special = true; /* SPM: the first fragment gets the space prefix */
        int r;

        if (!t || (!text && len > 0) || !ret_ids || !ret_n)
                return -EINVAL;
        if (len > TOKENIZER_MAX_TEXT)
                return -E2BIG;

        bool special = add_bos; /* llama.cpp's add_special: BOS and EOS as the model wants */
        if (special && t->add_bos && t->bos >= 0) {
                r = tok_out_push(&out, t->bos);
                if (r < 0)
                        goto fail;
        }

        for (size_t i = 0; i < len;) {
                size_t mlen = 0;
                int32_t id = t->trie_root[(uint8_t) text[i]] >= 0 ? match_special(t, text + i, len - i, parse_special, &mlen)
                                                                 : -1;
                if (id < 0) {
                        i++;
                        continue;
                }
                r = encode_fragment(t, text + start, i - start, prev_special, &out);
                if (r < 0)
                        goto fail;
                r = tok_out_push(&out, id);
                if (r < 0)
                        goto fail;
                prev_special = true;
                i += mlen;
                start = i;
        }
        r = encode_fragment(t, text + start, len - start, prev_special, &out);
        if (r < 0)
                goto fail;

        if (special && t->add_eos && t->eos >= 0) {
                r = tok_out_push(&out, t->eos);
                if (r < 0)
                        goto fail;
        }
        if (!out.ids) {
                out.ids = malloc(sizeof(int32_t));
                if (!out.ids)
                        return -ENOMEM;
        }
        *ret_ids = out.ids;
        *ret_n = out.n;
        return 0;

fail:
        free(out.ids);
        return r;
}

static int copy_piece(const char *s, size_t n, char *buf, size_t size) {
        if (n > INT32_MAX)
                return -E2BIG;
        if (buf)
                memcpy(buf, s, MIN(n, size));
        return (int) n;
}

int tokenizer_token_to_piece(const Tokenizer *t, int32_t id, bool render_special, char *buf, size_t size) {
        if (!t || id < 0 || (size_t) id >= t->n_tokens)
                return -EINVAL;

        const struct tok_token *tok = &t->tokens[id];
        switch (tok->type) {
        case TOKEN_TYPE_CONTROL:
        case TOKEN_TYPE_UNKNOWN:
                return render_special ? copy_piece(tok->text, tok->len, buf, size) : 0;
        case TOKEN_TYPE_USER_DEFINED:
                return copy_piece(tok->text, tok->len, buf, size);
        case TOKEN_TYPE_UNUSED:
                return 0;
        case TOKEN_TYPE_BYTE:
                if (t->kind == TOKENIZER_SPM && tok->len == 6 && strncmp(tok->text, "<0x", 3) == 0) {
                        char c = (char) strtoul(tok->text + 3, NULL, 16);
                        return copy_piece(&c, 1, buf, size);
                }
                break;
        default:
                break;
        }

        size_t n = 0;
        if (t->kind == TOKENIZER_SPM) {
                /* U+2581 (e2 96 81) stands for a space. */
                for (uint32_t i = 0; i < tok->len;) {
                        char c;
                        if (i + 3 <= tok->len && memcmp(tok->text + i, "\xe2\x96\x81", 3) == 0) {
                                c = ' ';
                                i += 3;
                        } else
                                c = tok->text[i++];
                        if (buf && n < size)
                                buf[n] = c;
                        n++;
                }
        } else {
                const uint8_t *s = (const uint8_t *) tok->text;
                for (uint32_t i = 0; i < tok->len;) {
                        uint32_t cp;
                        size_t l = unicode_decode(s + i, tok->len - i, &cp);
                        int b = bpe_cp_to_byte(cp);
                        if (b >= 0) {
                                if (buf && n < size)
                                        buf[n] = (char) b;
                                n++;
                        } else {
                                /* Not byte-level text: pass it through. */
                                for (size_t k = 0; k < l; k++, n++)
                                        if (buf && n < size)
                                                buf[n] = (char) s[i + k];
                        }
                        i += (uint32_t) l;
                }
        }
        return (int) n;
}

int tokenizer_decode(const Tokenizer *t, const int32_t *ids, size_t n, bool render_special, char **ret) {
        _cleanup_free_ char *s = NULL;
        size_t len = 0, cap = 0;
        bool first = true;

        if (!t || (!ids && n > 0) || !ret)
                return -EINVAL;

        for (size_t i = 0; i < n; i++) {
                int k = tokenizer_token_to_piece(t, ids[i], render_special, NULL, 0);
                if (k < 0)
                        return k;
                if (len + (size_t) k + 1 > cap) {
                        size_t ncap = MAX(cap * 2, len + (size_t) k + 1);
                        ncap = MAX(ncap, 64u);
                        char *p = realloc(s, ncap);
                        if (!p)
                                return -ENOMEM;
                        s = p;
                        cap = ncap;
                }
                tokenizer_token_to_piece(t, ids[i], render_special, s + len, (size_t) k);
                /* The space SPM put in front of the text is not part of it. */
                if (first && k > 0 && t->kind == TOKENIZER_SPM && t->add_space_prefix && s[len] == ' ') {
                        memmove(s + len, s + len + 1, (size_t) k - 1);
                        k--;
                }
                if (k > 0)
                        first = false;
                len += (size_t) k;
        }
        if (!s) {
                s = strdup("");
                if (!s)
                        return -ENOMEM;
        } else
                s[len] = 0;
        *ret = TAKE_PTR(s);
        return 0;
}

size_t tokenizer_n_vocab(const Tokenizer *t) {
        return t->n_tokens;
}

enum tokenizer_kind tokenizer_kind(const Tokenizer *t) {
        return t->kind;
}

int32_t tokenizer_bos(const Tokenizer *t) {
        return t->bos;
}

int32_t tokenizer_eos(const Tokenizer *t) {
        return t->eos;
}

bool tokenizer_add_bos(const Tokenizer *t) {
        return t->add_bos && t->bos >= 0;
}

bool tokenizer_is_eog(const Tokenizer *t, int32_t id) {
        if (id < 0)
                return false;
        for (size_t i = 0; i < t->n_eog; i++)
                if (t->eog[i] == id)
                        return true;
        return false;
}

bool tokenizer_is_control(const Tokenizer *t, int32_t id) {
        return id >= 0 && (size_t) id < t->n_tokens && t->tokens[id].type == TOKEN_TYPE_CONTROL;
}

const char *tokenizer_token_text(const Tokenizer *t, int32_t id) {
        if (id < 0 || (size_t) id >= t->n_tokens)
                return NULL;
        return t->tokens[id].text;
}

int32_t tokenizer_find(const Tokenizer *t, const char *s) {
        return s ? tokenizer_lookup(t, s, strlen(s)) : -1;
}

bool utf8_is_valid(const char *s, size_t n) {
        const uint8_t *p = (const uint8_t *) s;
        for (size_t i = 0; i < n;) {
                uint32_t cp;
                i += unicode_decode(p + i, n - i, &cp);
                if (cp >= UNICODE_INVALID_BASE)
                        return false;
        }
        return true;
}

static size_t utf8_seq_len(uint8_t c) {
        if (c < 0x80)
                return 1;
        if (c >= 0xC2 && c <= 0xDF)
                return 2;
        if ((c & 0xF0) == 0xE0)
                return 3;
        if (c >= 0xF0 && c <= 0xF4)
                return 4;
        return 0; /* continuation byte or never valid */
}

static size_t emit(char *out, size_t out_size, size_t w, const char *s, size_t n) {
        /* Never overflows: a sequence that does not fit is dropped whole. */
        if (w + n > out_size)
                return w;
        memcpy(out + w, s, n);
        return w + n;
}

#define REPLACEMENT "\xef\xbf\xbd"

size_t utf8_stream_push(Utf8Stream *s, const char *in, size_t n, bool flush, char *out, size_t out_size) {
        size_t w = 0;

        for (size_t i = 0; i < n;) {
                uint8_t c = (uint8_t) in[i];

                if (s->n_pending == 0) {
                        size_t l = utf8_seq_len(c);
                        if (l == 0)
                                w = emit(out, out_size, w, REPLACEMENT, 3);
                        else if (l == 1)
                                w = emit(out, out_size, w, (const char *) &in[i], 1);
                        else
                                s->pending[s->n_pending++] = (char) c;
                        i++;
                        continue;
                }

                if ((c & 0xC0) != 0x80) {
                        /* Truncated sequence: replace it, then look at c afresh. */
                        w = emit(out, out_size, w, REPLACEMENT, 3);
                        s->n_pending = 0;
                        continue;
                }
                s->pending[s->n_pending++] = (char) c;
                i++;
                if (s->n_pending == utf8_seq_len((uint8_t) s->pending[0])) {
                        uint32_t cp;
                        size_t l = unicode_decode((const uint8_t *) s->pending, s->n_pending, &cp);
                        if (l == s->n_pending && cp < UNICODE_INVALID_BASE)
                                w = emit(out, out_size, w, s->pending, s->n_pending);
                        else
                                w = emit(out, out_size, w, REPLACEMENT, 3);
                        s->n_pending = 0;
                }
        }
        if (flush && s->n_pending > 0) {
                w = emit(out, out_size, w, REPLACEMENT, 3);
                s->n_pending = 0;
        }
        return w;
}
