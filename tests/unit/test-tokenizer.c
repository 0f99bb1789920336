/* SPDX-License-Identifier: MIT */
/*
 * Tokenizer algorithms on small in-memory vocabularies (no GGUF): SPM merges
 * by score and byte fallback, BPE merges by rank, the pre-tokenizer splits
 * (expected values from Python's `regex` module with each family's pattern),
 * special-token matching, decoding and UTF-8 streaming. The real models are
 * checked against Hugging Face in tests/models/test-real-tokenizer.c.
 */

#include <string.h>

#include "tokenizer-internal.h"
#include "unicode.h"
#include "test-helpers.h"

#define MAX_TOK 600

struct vocab_builder {
        struct gguf_str tokens[MAX_TOK];
        float scores[MAX_TOK];
        int32_t types[MAX_TOK];
        char store[MAX_TOK][16];
        size_t n;
};

static int32_t add(struct vocab_builder *b, const char *s, float score, int32_t type) {
        CHECK(b->n < MAX_TOK && strlen(s) < 16);
        strcpy(b->store[b->n], s);
        b->tokens[b->n] = (struct gguf_str) { b->store[b->n], strlen(s) };
        b->scores[b->n] = score;
        b->types[b->n] = type;
        return (int32_t) b->n++;
}

static void encode_check(const Tokenizer *t, const char *text, bool bos, bool special, const int32_t *want,
                         size_t n_want) {
        int32_t *ids = NULL;
        size_t n = 0;
        CHECK_RET(tokenizer_encode(t, text, strlen(text), bos, special, &ids, &n), 0);
        bool ok = n == n_want && memcmp(ids, want, n * sizeof(int32_t)) == 0;
        if (!ok) {
                fprintf(stderr, "encode(\"%s\"): got", text);
                for (size_t i = 0; i < n; i++)
                        fprintf(stderr, " %d", ids[i]);
                fprintf(stderr, ", want");
                for (size_t i = 0; i < n_want; i++)
                        fprintf(stderr, " %d", want[i]);
                fprintf(stderr, "\n");
        }
        CHECK(ok);
        free(ids);
}
#define ENCODE(t, text, bos, special, ...)                                                    \
        do {                                                                                  \
                const int32_t _w[] = { __VA_ARGS__ };                                         \
                encode_check(t, text, bos, special, _w, ELEMENTSOF(_w));                      \
        } while (0)

static void decode_check(const Tokenizer *t, const char *text, bool special) {
        int32_t *ids = NULL;
        size_t n = 0;
        char *s = NULL;
        /* With BOS only when it is not rendered: "<s>" is not in the text. */
        CHECK_RET(tokenizer_encode(t, text, strlen(text), !special, special, &ids, &n), 0);
        CHECK_RET(tokenizer_decode(t, ids, n, special, &s), 0);
        CHECK_MSG(strcmp(s, text) == 0, "decode(encode(\"%s\")) = \"%s\"", text, s);
        free(s);
        free(ids);
}

static void test_spm(void) {
        static struct vocab_builder b;
        _cleanup_(tokenizer_freep) Tokenizer *t = NULL;
        char err[256];

        b.n = 0;
        int32_t unk = add(&b, "<unk>", 0, TOKEN_TYPE_UNKNOWN);
        int32_t bos = add(&b, "<s>", 0, TOKEN_TYPE_CONTROL);
        int32_t eos = add(&b, "</s>", 0, TOKEN_TYPE_CONTROL);
        int32_t byte0 = (int32_t) b.n;
        for (unsigned i = 0; i < 256; i++) {
                char s[8];
                snprintf(s, sizeof s, "<0x%02X>", i);
                add(&b, s, 0, TOKEN_TYPE_BYTE);
        }
        int32_t sp = add(&b, "\xe2\x96\x81", -1, TOKEN_TYPE_NORMAL);
        int32_t a = add(&b, "a", -2, TOKEN_TYPE_NORMAL);
        int32_t bb = add(&b, "b", -2, TOKEN_TYPE_NORMAL);
        int32_t c = add(&b, "c", -2, TOKEN_TYPE_NORMAL);
        int32_t ab = add(&b, "ab", -3, TOKEN_TYPE_NORMAL);
        int32_t bc = add(&b, "bc", -1.5f, TOKEN_TYPE_NORMAL);
        int32_t spa = add(&b, "\xe2\x96\x81" "a", -1, TOKEN_TYPE_NORMAL);
        int32_t abc = add(&b, "abcd", -1, TOKEN_TYPE_NORMAL); /* unreachable: no "abc" piece */
        int32_t turn = add(&b, "<turn>", 0, TOKEN_TYPE_CONTROL);
        int32_t nl2 = add(&b, "\n\n", 0, TOKEN_TYPE_USER_DEFINED);
        (void) abc;

        struct tokenizer_vocab v = {
                .kind = TOKENIZER_SPM, .n_tokens = b.n, .tokens = b.tokens, .scores = b.scores, .types = b.types,
                .bos = bos, .eos = eos, .unk = unk, .pad = -1, .eot = -1, .eom = -1,
                .add_bos = true, .add_space_prefix = false,
        };
        CHECK_RET(tokenizer_new_from_vocab(&v, &t, err, sizeof err), 0);

        /* "bc" (-1.5) outscores "ab" (-3): a + bc, not ab + c. */
        ENCODE(t, "abc", false, false, a, bc);
        ENCODE(t, "abc", true, false, bos, a, bc);
        /* Space → ▁, and "▁a" is a token. */
        ENCODE(t, "ab a", false, false, ab, spa);
        /* Not in the vocabulary: UTF-8 bytes of é. */
        ENCODE(t, "\xc3\xa9" "b", false, false, byte0 + 0xC3, byte0 + 0xA9, bb);
        /* Invalid UTF-8 goes through byte fallback too, never rejected. */
        ENCODE(t, "\xff" "c", false, false, byte0 + 0xFF, c);
        /* Control tokens only with parse_special; user-defined always. */
        ENCODE(t, "a<turn>b", false, true, a, turn, bb);
        ENCODE(t, "a\n\n\nb", false, false, a, nl2, byte0 + '\n', bb);
        ENCODE(t, "", true, true, bos);
        ENCODE(t, "", false, true, );

        decode_check(t, "abc ab a\xc3\xa9 x\n\n\n", false);
        decode_check(t, "a<turn>b", true);
        /* A lone lead byte must not swallow the next character (the U+2581 of a space). */
        decode_check(t, "ab\xc4 a", false);
        decode_check(t, "\xe2\x96 a\xf0", false);
        char *s = NULL;
        int32_t ids[] = { bos, a, turn, sp, bb };
        CHECK_RET(tokenizer_decode(t, ids, ELEMENTSOF(ids), false, &s), 0);
        CHECK(strcmp(s, "a b") == 0);
        free(s);
        CHECK_RET(tokenizer_decode(t, ids, ELEMENTSOF(ids), true, &s), 0);
        CHECK(strcmp(s, "<s>a<turn> b") == 0);
        free(s);

        char buf[4];
        CHECK_RET(tokenizer_token_to_piece(t, spa, false, buf, sizeof buf), 2);
        CHECK(memcmp(buf, " a", 2) == 0);
        CHECK_RET(tokenizer_token_to_piece(t, byte0 + 0x41, false, buf, sizeof buf), 1);
        CHECK(buf[0] == 'A');
        CHECK_RET(tokenizer_token_to_piece(t, turn, false, buf, sizeof buf), 0);
        CHECK_RET(tokenizer_token_to_piece(t, turn, true, buf, sizeof buf), 6); /* truncated, size returned */
        CHECK_RET(tokenizer_token_to_piece(t, (int32_t) b.n, true, buf, sizeof buf), -EINVAL);
        CHECK(tokenizer_is_eog(t, eos) && !tokenizer_is_eog(t, bos));
        CHECK(tokenizer_find(t, "<turn>") == turn && tokenizer_find(t, "zz") == -1);
        CHECK(strcmp(tokenizer_token_text(t, ab), "ab") == 0);
        t = tokenizer_free(t);

        /* add_space_prefix: "▁" goes in front, and decode removes it again. */
        v.add_space_prefix = true;
        CHECK_RET(tokenizer_new_from_vocab(&v, &t, err, sizeof err), 0);
        ENCODE(t, "a", false, false, spa);
        ENCODE(t, "ab", true, false, bos, spa, bb);
        decode_check(t, "a b", false);
        t = tokenizer_free(t);

        /* Validation. */
        v.bos = (int32_t) b.n;
        CHECK_RET(tokenizer_new_from_vocab(&v, &t, err, sizeof err), -EBADMSG);
        CHECK(strstr(err, "bos"));
        v.bos = bos;
        b.types[5] = 9;
        CHECK_RET(tokenizer_new_from_vocab(&v, &t, err, sizeof err), -EBADMSG);
        b.types[5] = TOKEN_TYPE_BYTE;
        b.tokens[a] = (struct gguf_str) { "\xc3(", 2 };
        CHECK_RET(tokenizer_new_from_vocab(&v, &t, err, sizeof err), -EBADMSG);
        CHECK(strstr(err, "UTF-8"));
}

static void test_bpe(void) {
        static struct vocab_builder b;
        _cleanup_(tokenizer_freep) Tokenizer *t = NULL;
        char err[256];

        b.n = 0;
        for (unsigned i = 0; i < 256; i++) {
                char s[8];
                size_t n = unicode_encode(bpe_byte_to_cp((uint8_t) i), s);
                s[n] = 0;
                add(&b, s, 0, TOKEN_TYPE_NORMAL);
        }
        int32_t he = add(&b, "he", 0, TOKEN_TYPE_NORMAL);
        int32_t el = add(&b, "el", 0, TOKEN_TYPE_NORMAL);
        int32_t ll = add(&b, "ll", 0, TOKEN_TYPE_NORMAL);
        int32_t hell = add(&b, "hell", 0, TOKEN_TYPE_NORMAL);
        int32_t gw = add(&b, "\xc4\xa0w", 0, TOKEN_TYPE_NORMAL); /* "Ġw" */
        int32_t eot = add(&b, "<|endoftext|>", 0, TOKEN_TYPE_CONTROL);
        int32_t im_end = add(&b, "<|im_end|>", 0, TOKEN_TYPE_CONTROL);
        int32_t im = add(&b, "<|im", 0, TOKEN_TYPE_CONTROL);
        const struct gguf_str merges[] = {
                { "h e", 3 }, { "l l", 3 }, { "e l", 3 }, { "he ll", 5 }, { "\xc4\xa0 w", 4 }, { "x y", 3 },
        };
        struct tokenizer_vocab v = {
                .kind = TOKENIZER_BPE, .pre = TOKENIZER_PRE_GPT2, .n_tokens = b.n, .tokens = b.tokens,
                .types = b.types, .n_merges = ELEMENTSOF(merges), .merges = merges,
                .bos = eot, .eos = eot, .unk = -1, .pad = -1, .eot = -1, .eom = -1,
        };
        CHECK_RET(tokenizer_new_from_vocab(&v, &t, err, sizeof err), 0);

        /* "h e" (rank 0) before "e l" (rank 2); then "l l", then "he ll". */
        ENCODE(t, "hello", false, false, hell, 'o');
        ENCODE(t, "hel", false, false, he, 'l');
        /* "l l" (rank 1) beats "e l" (rank 2). */
        ENCODE(t, "ell", false, false, 'e', ll);
        ENCODE(t, "elx", false, false, el, 'x');
        /* Byte-level: the space is Ġ, merged with w; é is two byte tokens. */
        ENCODE(t, "he w\xc3\xa9", false, false, he, gw, 0xC3, 0xA9); /* byte tokens: id == byte here */
        /* Longest control match: <|im_end|> rather than <|im. */
        ENCODE(t, "<|im_end|><|im", false, true, im_end, im);
        ENCODE(t, "<|im_end|>", false, false, '<', '|', 'i', 'm', '_', 'e', 'n', 'd', '|', '>');
        /* Not add_bos (BPE default). */
        ENCODE(t, "he", true, true, he);
        (void) ll;

        decode_check(t, "hello world\n\t\xc3\xa9\xf0\x9f\x98\x80  ", false);
        decode_check(t, "x<|endoftext|>y", true);
        /* Invalid UTF-8 survives the byte-level round trip. */
        decode_check(t, "a\xff\xc3(b", false);
        CHECK(tokenizer_is_eog(t, eot) && tokenizer_is_eog(t, im_end) && !tokenizer_is_eog(t, im));
        t = tokenizer_free(t);

        const struct gguf_str bad[] = { { "hello", 5 } };
        v.merges = bad;
        v.n_merges = 1;
        CHECK_RET(tokenizer_new_from_vocab(&v, &t, err, sizeof err), -EBADMSG);
}

struct words {
        const char *text;
        char buf[512];
        size_t n;
};

static int collect(void *userdata, size_t start, size_t end) {
        struct words *w = userdata;
        if (w->n > 0)
                w->buf[w->n++] = '|';
        CHECK(w->n + (end - start) < sizeof w->buf);
        memcpy(w->buf + w->n, w->text + start, end - start);
        w->n += end - start;
        w->buf[w->n] = 0;
        return 0;
}

static void split_check(enum tokenizer_pre pre, const char *text, const char *want) {
        struct words w = { .text = text };
        CHECK_RET(bpe_pretokenize(pre, text, strlen(text), collect, &w), 0);
        CHECK_MSG(strcmp(w.buf, want) == 0, "pre %d split \"%s\": got \"%s\", want \"%s\"", pre, text, w.buf, want);
}

static void test_pretokenizers(void) {
        /* Expected values: Python `regex` with each family's pattern. */
        const char *t1 = "Hello world's  test\n\n123 abc!!  ";
        const char *t2 = "don't I'LL  x\ty";
        const char *t3 = "h\xc3\xa9llo \xd0\xbc\xd0\xb8\xd1\x80 \xe4\xbd\xa0\xe5\xa5\xbd \xd9\xa1\xd9\xa2\xd9\xa3 x\xc2\xb2";
        split_check(TOKENIZER_PRE_GPT2, t1, "Hello| world|'s| | test|\n|\n|123| abc|!!|  ");
        split_check(TOKENIZER_PRE_GPT2, t2, "don|'t| I|'|LL| | x|\t|y");
        split_check(TOKENIZER_PRE_GPT2, t3,
                    "h\xc3\xa9llo| \xd0\xbc\xd0\xb8\xd1\x80| \xe4\xbd\xa0\xe5\xa5\xbd| \xd9\xa1\xd9\xa2\xd9\xa3| x|\xc2\xb2");
        split_check(TOKENIZER_PRE_SMOLLM, "abc 123 x1y22", "abc| |1|2|3| x|1|y|2|2");
        split_check(TOKENIZER_PRE_SMOLLM, t1, "Hello| world|'s| | test|\n\n|1|2|3| abc|!!|  ");
        split_check(TOKENIZER_PRE_SMOLLM, t3,
                    "h\xc3\xa9llo| \xd0\xbc\xd0\xb8\xd1\x80| \xe4\xbd\xa0\xe5\xa5\xbd| |\xd9\xa1|\xd9\xa2|\xd9\xa3| x|\xc2\xb2");
        split_check(TOKENIZER_PRE_LLAMA3, "Hello  WORLD'S 12345\r\n\n  x", "Hello| | WORLD|'S| |123|45|\r\n\n| | x");
        split_check(TOKENIZER_PRE_QWEN2, "Hello  WORLD'S 12345\r\n\n  x", "Hello| | WORLD|'S| |1|2|3|4|5|\r\n\n| | x");
        split_check(TOKENIZER_PRE_LLAMA3, "a.\n\nb ...\n", "a|.\n\n|b| ...\n");
        split_check(TOKENIZER_PRE_LLAMA3, "$12 (x)", "$|12| (|x|)");
        split_check(TOKENIZER_PRE_QWEN2, "$12 (x)", "$|1|2| (|x|)");
        split_check(TOKENIZER_PRE_LLAMA3, t2, "don|'t| I|'LL| | x|\ty");
        split_check(TOKENIZER_PRE_LLAMA3, t1, "Hello| world|'s| | test|\n\n|123| abc|!!|  ");
        split_check(TOKENIZER_PRE_LLAMA3, t3,
                    "h\xc3\xa9llo| \xd0\xbc\xd0\xb8\xd1\x80| \xe4\xbd\xa0\xe5\xa5\xbd| |\xd9\xa1\xd9\xa2\xd9\xa3| x|\xc2\xb2");
        /* Invalid bytes are kept, as "other" characters. */
        split_check(TOKENIZER_PRE_GPT2, "a\xff\xfe b", "a|\xff\xfe| b");
        split_check(TOKENIZER_PRE_GPT2, "", "");
}

static void test_unicode(void) {
        /* GPT-2's bytes_to_unicode(): a bijection onto 256 code points. */
        CHECK(bpe_byte_to_cp(' ') == 0x120 && bpe_byte_to_cp('\n') == 0x10A && bpe_byte_to_cp('a') == 'a');
        CHECK(bpe_byte_to_cp(0xAD) == 0x143 && bpe_byte_to_cp(0x7F) == 0x121 && bpe_byte_to_cp(0xA0) == 0x142);
        for (unsigned b = 0; b < 256; b++)
                CHECK(bpe_cp_to_byte(bpe_byte_to_cp((uint8_t) b)) == (int) b);
        CHECK(bpe_cp_to_byte(0x144) == -1 && bpe_cp_to_byte(0x20) == -1);
        CHECK(unicode_flags('a') == UNICODE_LETTER && unicode_flags('7') == UNICODE_NUMBER);
        CHECK(unicode_flags(0x3000) == UNICODE_WHITESPACE && unicode_flags(0x00A0) == UNICODE_WHITESPACE);
        CHECK(unicode_flags(0x4E2D) == UNICODE_LETTER && unicode_flags(0x0661) == UNICODE_NUMBER);
        CHECK(unicode_flags(0x0301) == 0 && unicode_flags(0x1F600) == 0 && unicode_flags(0x1C) == 0);
        CHECK(utf8_is_valid("h\xc3\xa9\xf0\x9f\x98\x80", 7));
        CHECK(!utf8_is_valid("\xc0\xaf", 2));         /* overlong */
        CHECK(!utf8_is_valid("\xed\xa0\x80", 3));     /* surrogate */
        CHECK(!utf8_is_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
        CHECK(!utf8_is_valid("\xf0\x9f\x98", 3));     /* truncated */
        CHECK(utf8_is_valid("", 0));
}

static void test_utf8_stream(void) {
        Utf8Stream s = {};
        char out[64];
        const char *emoji = "\xf0\x9f\x98\x80"; /* 😀 */

        /* A 4-byte emoji split over three pushes comes out whole, once. */
        CHECK_RET(utf8_stream_push(&s, "a\xf0", 2, false, out, sizeof out), 1);
        CHECK(out[0] == 'a');
        CHECK_RET(utf8_stream_push(&s, emoji + 1, 1, false, out, sizeof out), 0);
        CHECK_RET(utf8_stream_push(&s, emoji + 2, 2, false, out, sizeof out), 4);
        CHECK(memcmp(out, emoji, 4) == 0);
        CHECK(s.n_pending == 0);

        /* Invalid bytes become U+FFFD; a truncated sequence too, and the
         * byte that interrupted it is kept. */
        CHECK_RET(utf8_stream_push(&s, "\xff" "b\xe2\x82" "c", 5, false, out, sizeof out), 8);
        CHECK(memcmp(out, "\xef\xbf\xbd" "b\xef\xbf\xbd" "c", 8) == 0);
        /* Pending at flush: replaced. */
        CHECK_RET(utf8_stream_push(&s, "\xe2\x82", 2, false, out, sizeof out), 0);
        CHECK_RET(utf8_stream_push(&s, NULL, 0, true, out, sizeof out), 3);
        CHECK(memcmp(out, "\xef\xbf\xbd", 3) == 0);
        /* Surrogate encoded in UTF-8: complete but invalid. */
        CHECK_RET(utf8_stream_push(&s, "\xed\xa0\x80", 3, true, out, sizeof out), 3);
        CHECK(memcmp(out, "\xef\xbf\xbd", 3) == 0);
        /* Never writes past out_size. */
        CHECK_RET(utf8_stream_push(&s, "abcdef", 6, false, out, 4), 4);
}

int main(void) {
        test_unicode();
        test_utf8_stream();
        test_pretokenizers();
        test_spm();
        test_bpe();
        printf("tokenizer: all tests passed\n");
        return 0;
}
