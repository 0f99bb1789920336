/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Shared between tokenizer.c (vocabulary, special tokens, decode) and the
 * two algorithms (tokenizer-spm.c, tokenizer-bpe.c). Also the door for unit
 * tests: tokenizer_new_from_vocab() builds a tokenizer from plain arrays,
 * without a GGUF file.
 */

#include "tokenizer.h"

/* Caps on what a model file can make us allocate (STYLE.md §3). */
#define TOKENIZER_MAX_VOCAB (4u << 20)
#define TOKENIZER_MAX_MERGES (8u << 20)
#define TOKENIZER_MAX_TOKEN_LEN 4096u

/* Everything tokenizer.ggml.* declares, as plain arrays (not owned). */
struct tokenizer_vocab {
        enum tokenizer_kind kind;
        enum tokenizer_pre pre;      /* BPE only */
        size_t n_tokens;
        const struct gguf_str *tokens;
        const float *scores;         /* n_tokens, or NULL: all 0 */
        const int32_t *types;        /* n_tokens, or NULL: all normal */
        size_t n_merges;             /* BPE */
        const struct gguf_str *merges; /* "left right" */
        int32_t bos, eos, unk, pad, eot, eom; /* -1: none */
        bool add_bos, add_eos, add_space_prefix;
};

int tokenizer_new_from_vocab(const struct tokenizer_vocab *v, Tokenizer **ret, char *ret_error, size_t error_size);

struct tok_token {
        const char *text; /* NUL-terminated, in Tokenizer.blob */
        uint32_t len;
        uint8_t type;     /* enum token_type */
        float score;
};

/* Pair (left id, right id) → merge rank and the merged token. */
struct bpe_merge_slot {
        uint64_t key; /* (left << 32 | right) + 1; 0: empty */
        uint32_t rank;
        int32_t merged;
};

/* Byte trie of the tokens matched in raw text before the algorithm runs. */
struct special_node {
        int32_t child;   /* first child, -1 none */
        int32_t sibling; /* next sibling, -1 none */
        int32_t token;   /* token ending here, -1 none */
        uint8_t byte;
};

struct Tokenizer {
        enum tokenizer_kind kind;
        enum tokenizer_pre pre;
        size_t n_tokens;
        struct tok_token *tokens;
        char *blob;

        /* text → id, open addressing, power-of-two size, -1 empty */
        int32_t *index;
        size_t index_mask;

        /* BPE */
        struct bpe_merge_slot *merges;
        size_t merges_mask;
        bool ignore_merges;       /* llama3: whole words found in vocab skip merging */
        int32_t byte_token[256];  /* SPM: <0xXX>; BPE: the byte's mapped char; -1 none */

        struct special_node *trie;
        size_t n_trie;
        int32_t trie_root[256];   /* first-level nodes by byte, -1 none */

        int32_t bos, eos, unk, pad, eot, eom;
        bool add_bos, add_eos, add_space_prefix;

        int32_t *eog;
        size_t n_eog;
};

/* Growable id output shared by the algorithms. */
struct tok_out {
        int32_t *ids;
        size_t n, cap;
};
int tok_out_push(struct tok_out *o, int32_t id);

int32_t tokenizer_lookup(const Tokenizer *t, const char *s, size_t len);
uint64_t tokenizer_hash(const char *s, size_t len);

/* Encode one fragment of raw text (no special tokens inside). */
int spm_encode(const Tokenizer *t, const char *text, size_t len, bool prefix_space, struct tok_out *out);
int bpe_encode(const Tokenizer *t, const char *text, size_t len, struct tok_out *out);
int bpe_build_merges(Tokenizer *t, const struct tokenizer_vocab *v, char *err, size_t err_size);

/* Pre-tokenizer split (exposed for unit tests): calls emit for every word
 * [start, end) in byte offsets of text, in order, covering all of it. */
typedef int (*bpe_word_fn)(void *userdata, size_t start, size_t end);
int bpe_pretokenize(enum tokenizer_pre pre, const char *text, size_t len, bpe_word_fn emit, void *userdata);

/* GPT-2 byte ↔ unicode map. */
uint32_t bpe_byte_to_cp(uint8_t b);
int bpe_cp_to_byte(uint32_t cp); /* -1 if cp is not in the map */
