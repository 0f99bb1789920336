/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The little Unicode the tokenizers need: UTF-8 decoding that never fails
 * (an invalid byte is one "code point" of its own, so no input byte is ever
 * lost), and the \p{L} / \p{N} / \s classes of the BPE pre-tokenizer regexes
 * from generated range tables (unicode-data.c, tools/gen-unicode-data.py).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
        UNICODE_LETTER = 1 << 0,     /* \p{L}: Lu Ll Lt Lm Lo */
        UNICODE_NUMBER = 1 << 1,     /* \p{N}: Nd Nl No */
        UNICODE_WHITESPACE = 1 << 2, /* \s: White_Space */
};

struct unicode_range {
        uint32_t lo, hi; /* inclusive */
        uint8_t flags;
};

extern const struct unicode_range unicode_ranges[];
extern const size_t unicode_n_ranges;

/* Marks a byte that is not part of a valid UTF-8 sequence: it is decoded as
 * UNICODE_INVALID_BASE + byte, outside the Unicode range, with no flags. */
#define UNICODE_INVALID_BASE 0x110000u

/* Flags of a code point (0 for anything unassigned, invalid or other). */
unsigned unicode_flags(uint32_t cp);

/*
 * Decodes one code point at s[0..n) (n >= 1). Overlong forms, surrogates
 * and values above U+10FFFF are invalid. Returns the sequence length (1..4);
 * an invalid sequence yields UNICODE_INVALID_BASE + s[0] and length 1.
 */
size_t unicode_decode(const uint8_t *s, size_t n, uint32_t *ret_cp);
/* Encodes a valid code point, returns 1..4 bytes written into out[4]. */
size_t unicode_encode(uint32_t cp, char out[static 4]);
