/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Tokenizers built from GGUF metadata (tokenizer.ggml.*):
 *  - "llama": SentencePiece-style (Gemma, Llama 2): score-driven merges of
 *    UTF-8 characters, U+2581 for spaces, <0xXX> byte fallback.
 *  - "gpt2": byte-level BPE (Qwen2, Llama 3, SmolLM2): the family's
 *    pre-tokenizer split (tokenizer.ggml.pre), then merges by rank.
 * Special/control tokens are matched in text when parse_special is set.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf.h"
#include "macros.h"

#define TOKENIZER_MAX_TEXT (64u << 20) /* bytes of text accepted by encode */

enum tokenizer_kind {
        TOKENIZER_SPM,
        TOKENIZER_BPE,
};

/* Pre-tokenizer splits (byte-level BPE only). */
enum tokenizer_pre {
        TOKENIZER_PRE_GPT2,   /* "default", "gpt2", "gpt-2" */
        TOKENIZER_PRE_SMOLLM, /* "smollm": gpt2 with single digits */
        TOKENIZER_PRE_LLAMA3, /* "llama3", "llama-bpe", "llama-v3" */
        TOKENIZER_PRE_QWEN2,  /* "qwen2" */
};

/* Token attributes, from tokenizer.ggml.token_type (llama.cpp's values). */
enum token_type {
        TOKEN_TYPE_UNDEFINED = 0,
        TOKEN_TYPE_NORMAL = 1,
        TOKEN_TYPE_UNKNOWN = 2,
        TOKEN_TYPE_CONTROL = 3,
        TOKEN_TYPE_USER_DEFINED = 4,
        TOKEN_TYPE_UNUSED = 5,
        TOKEN_TYPE_BYTE = 6,
};

typedef struct Tokenizer Tokenizer;

/* -EBADMSG with a message for malformed/missing metadata, -EOPNOTSUPP for an
 * unknown tokenizer model or pre-tokenizer. */
int tokenizer_new_from_gguf(const GgufFile *f, Tokenizer **ret, char *ret_error, size_t error_size);
Tokenizer *tokenizer_free(Tokenizer *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Tokenizer *, tokenizer_free);

/*
 * Encodes len bytes of UTF-8 text (invalid UTF-8 is encoded through byte
 * fallback / byte-level tokens, never rejected). add_bos prepends BOS when the
 * model wants one (tokenizer.ggml.add_bos_token, default true for SPM).
 * parse_special: text like "<start_of_turn>" becomes that control token.
 * *ret_ids is a malloc'ed array of *ret_n ids.
 */
int tokenizer_encode(const Tokenizer *t, const char *text, size_t len, bool add_bos, bool parse_special,
                     int32_t **ret_ids, size_t *ret_n);

/*
 * The bytes token id stands for (byte tokens decode to their raw byte, SPM
 * U+2581 to a space, byte-level BPE through the byte map). Control tokens
 * decode to their text only if render_special. Returns the byte count (may
 * exceed size: then nothing is written beyond size), -EINVAL for a bad id.
 */
int tokenizer_token_to_piece(const Tokenizer *t, int32_t id, bool render_special, char *buf, size_t size);
/* Decodes a whole sequence into a new NUL-terminated string. */
int tokenizer_decode(const Tokenizer *t, const int32_t *ids, size_t n, bool render_special, char **ret);

size_t tokenizer_n_vocab(const Tokenizer *t);
enum tokenizer_kind tokenizer_kind(const Tokenizer *t);
int32_t tokenizer_bos(const Tokenizer *t); /* -1 if none */
int32_t tokenizer_eos(const Tokenizer *t);
bool tokenizer_add_bos(const Tokenizer *t);
/* End of generation: EOS, EOT, <end_of_turn>, <|im_end|>, <|eot_id|>, <|end_of_text|>… */
bool tokenizer_is_eog(const Tokenizer *t, int32_t id);
bool tokenizer_is_control(const Tokenizer *t, int32_t id);
/* Raw vocabulary text of a token (NUL-terminated copy owned by t); NULL for a bad id. */
const char *tokenizer_token_text(const Tokenizer *t, int32_t id);
/* Id of a token whose vocabulary text is exactly s, or -1. */
int32_t tokenizer_find(const Tokenizer *t, const char *s);

/*
 * Incremental detokenization for streaming: bytes from token pieces are
 * pushed in; only complete UTF-8 sequences come out, so a multi-token emoji
 * is never split across two deltas. Invalid sequences come out as U+FFFD.
 */
typedef struct Utf8Stream {
        char pending[8];
        size_t n_pending;
} Utf8Stream;
/* Appends the completed part of in[0..n) to out (capacity out_size); returns
 * bytes written. out_size >= n + 8 is enough for valid UTF-8; each invalid
 * byte becomes a 3-byte U+FFFD, so 3 * n + 8 is always enough. Never writes
 * past out_size (a sequence that does not fit is dropped). flush: emit
 * pending too. */
size_t utf8_stream_push(Utf8Stream *s, const char *in, size_t n, bool flush, char *out, size_t out_size);
/* True if s[0..n) is valid UTF-8. */
bool utf8_is_valid(const char *s, size_t n);
