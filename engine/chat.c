/* SPDX-License-Identifier: MIT */
/*
 * Chat templates without a Jinja interpreter: the family is recognised by its
 * special-token markers and rendered natively. Every format here is checked
 * byte for byte against the real templates rendered by transformers
 * (tests/fixtures/gen-chat-ref.py), including their whitespace handling.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errorf.h"
#include "chat.h"
#include "macros.h"

#define CHATML_SYSTEM_OPEN "<|im_start|>system\n"
#define CHATML_END "<|im_end|>"
/* A default system prompt longer than this is not one we want to inject. */
#define CHAT_DEFAULT_SYSTEM_MAX 4096


const char *chat_template_kind_name(enum chat_template_kind kind) {
        switch (kind) {
        case CHAT_TEMPLATE_CHATML:
                return "chatml";
        case CHAT_TEMPLATE_GEMMA:
                return "gemma";
        case CHAT_TEMPLATE_LLAMA3:
                return "llama3";
        }
        return "unknown";
}

/*
 * Decodes a Jinja string literal body (between its quotes) into buf. Only the
 * escapes that appear in real templates matter; an unknown escape is kept
 * verbatim, as Python does.
 */
static size_t decode_literal(const char *s, size_t n, char *buf) {
        size_t o = 0;

        for (size_t i = 0; i < n; i++) {
                if (s[i] != '\\' || i + 1 >= n) {
                        buf[o++] = s[i];
                        continue;
                }
                switch (s[++i]) {
                case 'n':
                        buf[o++] = '\n';
                        break;
                case 't':
                        buf[o++] = '\t';
                        break;
                case 'r':
                        buf[o++] = '\r';
                        break;
                case '\\':
                case '\'':
                case '"':
                        buf[o++] = s[i];
                        break;
                default:
                        buf[o++] = '\\';
                        buf[o++] = s[i];
                        break;
                }
        }
        return o;
}

/*
 * Looks for a quoted literal, inside a {{ }} or {% %} block, that holds a
 * whole system turn: "<|im_start|>system\n" TEXT "<|im_end|>". Templates that
 * insert a default system prompt (SmolLM2, Qwen 2.5) write it that way; a
 * template that only wraps the caller's system message has the marker and
 * <|im_end|> in separate literals around messages[0]['content'], so it does
 * not match. Returns 0 and *ret = NULL when there is none.
 */
static int chatml_find_default_system(const char *text, char **ret) {
        bool in_block = false;

        *ret = NULL;
        for (const char *p = text; *p;) {
                if (!in_block) {
                        if (p[0] == '{' && (p[1] == '{' || p[1] == '%')) {
                                in_block = true;
                                p += 2;
                        } else
                                p++;
                        continue;
                }
                if ((p[0] == '}' && p[1] == '}') || (p[0] == '%' && p[1] == '}')) {
                        in_block = false;
                        p += 2;
                        continue;
                }
                if (*p != '\'' && *p != '"') {
                        p++;
                        continue;
                }

                char quote = *p++;
                const char *start = p;
                while (*p && *p != quote)
                        p += (p[0] == '\\' && p[1]) ? 2 : 1;
                size_t n = (size_t) (p - start);
                if (*p)
                        p++;

                _cleanup_free_ char *lit = malloc(n + 1);
                if (!lit)
                        return -ENOMEM;
                size_t m = decode_literal(start, n, lit);
                lit[m] = '\0';

                char *open = strstr(lit, CHATML_SYSTEM_OPEN);
                if (!open)
                        continue;
                char *body = open + strlen(CHATML_SYSTEM_OPEN);
                char *end = strstr(body, CHATML_END);
                if (!end || end == body || (size_t) (end - body) > CHAT_DEFAULT_SYSTEM_MAX)
                        continue;

                char *d = strndup(body, (size_t) (end - body));
                if (!d)
                        return -ENOMEM;
                *ret = d;
                return 0;
        }
        return 0;
}

int chat_template_init(ChatTemplate *t, const char *template_text, const char *arch,
                       char *ret_error, size_t error_size) {
        enum chat_template_kind kind;
        char *def = NULL;
        int r;

        if (!t)
                return -EINVAL;

        if (template_text && template_text[0]) {
                if (strstr(template_text, "<|im_start|>"))
                        kind = CHAT_TEMPLATE_CHATML;
                else if (strstr(template_text, "<start_of_turn>"))
                        kind = CHAT_TEMPLATE_GEMMA;
                else if (strstr(template_text, "<|start_header_id|>"))
                        kind = CHAT_TEMPLATE_LLAMA3;
                else {
                        set_error(ret_error, error_size,
                                  "Unsupported chat template (not ChatML, Gemma or Llama 3)");
                        return -EOPNOTSUPP;
                }
                if (kind == CHAT_TEMPLATE_CHATML) {
                        r = chatml_find_default_system(template_text, &def);
                        if (r < 0) {
                                set_error(ret_error, error_size, "Out of memory");
                                return r;
                        }
                }
        } else if (streq_ptr(arch, "gemma3"))
                kind = CHAT_TEMPLATE_GEMMA;
        else if (streq_ptr(arch, "qwen2"))
                kind = CHAT_TEMPLATE_CHATML;
        else {
                set_error(ret_error, error_size,
                          "Model has no chat template and architecture '%s' has no default one",
                          arch ?: "(none)");
                return -EOPNOTSUPP;
        }

        *t = (ChatTemplate) {
                .kind = kind,
                .default_system = def,
        };
        return 0;
}

void chat_template_done(ChatTemplate *t) {
        if (!t)
                return;
        free(t->default_system);
        t->default_system = NULL;
}

/* A growable output string; the first allocation failure sticks. */
struct buf {
        char *s;
        size_t n, cap;
        bool oom;
};

static void buf_add(struct buf *b, const char *s, size_t n) {
        if (b->oom)
                return;
        if (n + 1 > b->cap - b->n || !b->s) {
                size_t need, cap = MAX(b->cap, (size_t) 256);
                if (ADD_OVERFLOW(b->n, n + 1, &need)) {
                        b->oom = true;
                        return;
                }
                while (cap < need) {
                        if (cap > SIZE_MAX / 2) {
                                cap = need;
                                break;
                        }
                        cap *= 2;
                }
                char *p = realloc(b->s, cap);
                if (!p) {
                        b->oom = true;
                        return;
                }
                b->s = p;
                b->cap = cap;
        }
        memcpy(b->s + b->n, s, n);
        b->n += n;
        b->s[b->n] = '\0';
}

static void buf_puts(struct buf *b, const char *s) {
        buf_add(b, s, strlen(s));
}

/*
 * Length of the Unicode whitespace character (as Python's str.isspace, which
 * Jinja's trim uses) that starts at s, 0 if there is none.
 */
static size_t space_len_fwd(const unsigned char *s, size_t n) {
        if (n >= 1 && ((s[0] >= 0x09 && s[0] <= 0x0d) || s[0] == ' ' || (s[0] >= 0x1c && s[0] <= 0x1f)))
                return 1;
        if (n >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
                return 2;
        if (n >= 3 && s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80) /* U+1680 */
                return 3;
        if (n >= 3 && s[0] == 0xe2 && s[1] == 0x80 &&
            ((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf))
                return 3; /* U+2000–200A, U+2028, U+2029, U+202F */
        if (n >= 3 && s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f) /* U+205F */
                return 3;
        if (n >= 3 && s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80) /* U+3000 */
                return 3;
        return 0;
}

/* Same, for the character that ends at s + n. */
static size_t space_len_back(const unsigned char *s, size_t n) {
        for (size_t k = 1; k <= MIN(n, (size_t) 3); k++) {
                size_t l = space_len_fwd(s + n - k, k);
                if (l == k)
                        return l;
        }
        return 0;
}

/* Jinja's `| trim`: Python's str.strip() with no argument. */
static void trim(const char *s, const char **ret_start, size_t *ret_len) {
        const unsigned char *p = (const unsigned char *) s;
        size_t n = strlen(s), l;

        while (n > 0 && (l = space_len_fwd(p, n)) > 0)
                p += l, n -= l;
        while (n > 0 && (l = space_len_back(p, n)) > 0)
                n -= l;
        *ret_start = (const char *) p;
        *ret_len = n;
}

static void add_trimmed(struct buf *b, const char *s) {
        const char *start;
        size_t len;

        trim(s, &start, &len);
        buf_add(b, start, len);
}

enum role { ROLE_SYSTEM, ROLE_USER, ROLE_ASSISTANT };

static int parse_role(const char *s) {
        if (!s)
                return -EINVAL;
        if (streq(s, "system"))
                return ROLE_SYSTEM;
        if (streq(s, "user"))
                return ROLE_USER;
        if (streq(s, "assistant"))
                return ROLE_ASSISTANT;
        return -EINVAL;
}

/* SmolLM2 / Qwen 2.5: content verbatim; the default system turn goes first
 * when the conversation does not start with its own. */
static int render_chatml(const ChatTemplate *t, const struct chat_message *msgs, size_t n,
                         bool gen, struct buf *b) {
        if (t->default_system && parse_role(msgs[0].role) != ROLE_SYSTEM) {
                buf_puts(b, CHATML_SYSTEM_OPEN);
                buf_puts(b, t->default_system);
                buf_puts(b, CHATML_END "\n");
        }
        for (size_t i = 0; i < n; i++) {
                buf_puts(b, "<|im_start|>");
                buf_puts(b, msgs[i].role);
                buf_puts(b, "\n");
                buf_puts(b, msgs[i].content);
                buf_puts(b, CHATML_END "\n");
        }
        if (gen)
                buf_puts(b, "<|im_start|>assistant\n");
        return 0;
}

/*
 * Gemma 3: no system turn; a leading system message becomes a prefix of the
 * first turn (untrimmed, then "\n\n"), turn contents are trimmed, and the
 * roles after it must alternate user/model — the official template raises
 * an exception otherwise, so do we (-EINVAL).
 */
static int render_gemma(const struct chat_message *msgs, size_t n, bool gen, struct buf *b) {
        const char *prefix = NULL;
        size_t first = 0;

        if (parse_role(msgs[0].role) == ROLE_SYSTEM) {
                prefix = msgs[0].content;
                first = 1;
        }
        for (size_t i = first; i < n; i++) {
                int role = parse_role(msgs[i].role);
                bool even = (i - first) % 2 == 0;

                if ((role == ROLE_USER) != even)
                        return -EINVAL;

                buf_puts(b, "<start_of_turn>");
                buf_puts(b, role == ROLE_ASSISTANT ? "model" : msgs[i].role);
                buf_puts(b, "\n");
                if (i == first && prefix) {
                        buf_puts(b, prefix);
                        buf_puts(b, "\n\n");
                }
                add_trimmed(b, msgs[i].content);
                buf_puts(b, "<end_of_turn>\n");
        }
        if (gen)
                buf_puts(b, "<start_of_turn>model\n");
        return 0;
}

/* Llama 3 (the 8B-Instruct template): every turn's content trimmed. */
static int render_llama3(const struct chat_message *msgs, size_t n, bool gen, struct buf *b) {
        for (size_t i = 0; i < n; i++) {
                buf_puts(b, "<|start_header_id|>");
                buf_puts(b, msgs[i].role);
                buf_puts(b, "<|end_header_id|>\n\n");
                add_trimmed(b, msgs[i].content);
                buf_puts(b, "<|eot_id|>");
        }
        if (gen)
                buf_puts(b, "<|start_header_id|>assistant<|end_header_id|>\n\n");
        return 0;
}

int chat_template_apply(const ChatTemplate *t, const struct chat_message *msgs, size_t n,
                        bool add_generation_prompt, char **ret) {
        struct buf b = {};
        int r;

        if (!t || !ret || !msgs || n == 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (parse_role(msgs[i].role) < 0 || !msgs[i].content)
                        return -EINVAL;

        switch (t->kind) {
        case CHAT_TEMPLATE_CHATML:
                r = render_chatml(t, msgs, n, add_generation_prompt, &b);
                break;
        case CHAT_TEMPLATE_GEMMA:
                r = render_gemma(msgs, n, add_generation_prompt, &b);
                break;
        case CHAT_TEMPLATE_LLAMA3:
                r = render_llama3(msgs, n, add_generation_prompt, &b);
                break;
        default:
                r = -EINVAL;
        }
        if (r >= 0 && b.oom)
                r = -ENOMEM;
        if (r < 0) {
                free(b.s);
                return r;
        }
        /* A Gemma conversation of only a system message renders nothing. */
        if (!b.s) {
                b.s = strdup("");
                if (!b.s)
                        return -ENOMEM;
        }
        *ret = b.s;
        return 0;
}
