/* SPDX-License-Identifier: MIT */
#include "unicode.h"

unsigned unicode_flags(uint32_t cp) {
        size_t lo = 0, hi = unicode_n_ranges;

        /* ASCII is most of what real prompts contain: skip the search. */
        if (cp < 0x80) {
                if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z')
                        return UNICODE_LETTER;
                if (cp >= '0' && cp <= '9')
                        return UNICODE_NUMBER;
                if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D))
                        return UNICODE_WHITESPACE;
                return 0;
        }

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (cp < unicode_ranges[mid].lo)
                        hi = mid;
                else if (cp > unicode_ranges[mid].hi)
                        lo = mid + 1;
                else
                        return unicode_ranges[mid].flags;
        }
        return 0;
}

size_t unicode_decode(const uint8_t *s, size_t n, uint32_t *ret_cp) {
        uint8_t c = s[0];
        uint32_t cp, min;
        size_t len;

        if (c < 0x80) {
                *ret_cp = c;
                return 1;
        }
        if ((c & 0xE0) == 0xC0) {
                len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
                len = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
                len = 4, cp = c & 0x07, min = 0x10000;
        } else
                goto invalid;
        if (len > n)
                goto invalid;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xC0) != 0x80)
                        goto invalid;
                cp = (cp << 6) | (s[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                goto invalid;
        *ret_cp = cp;
        return len;

invalid:
        *ret_cp = UNICODE_INVALID_BASE + c;
        return 1;
}

size_t unicode_encode(uint32_t cp, char out[static 4]) {
        if (cp < 0x80) {
                out[0] = (char) cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char) (0xC0 | (cp >> 6));
                out[1] = (char) (0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char) (0xE0 | (cp >> 12));
                out[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
                out[2] = (char) (0x80 | (cp & 0x3F));
                return 3;
        }
        out[0] = (char) (0xF0 | (cp >> 18));
        out[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
        out[3] = (char) (0x80 | (cp & 0x3F));
        return 4;
}
