/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Chat templates. GGUF files carry a Jinja template in
 * tokenizer.chat_template; Unicorn does not run Jinja: it recognises the
 * template family by its markers and renders that family's format natively.
 *
 * Recognised: ChatML (<|im_start|>: Qwen, SmolLM2), Gemma
 * (<start_of_turn>), Llama 3 (<|start_header_id|>). When the file has no
 * template, the architecture decides (gemma3 → Gemma, qwen2 → ChatML); a
 * template that is present but unrecognised is an error (-EOPNOTSUPP), never
 * silent garbage. The fallback is documented in docs/models.md.
 */

#include <stdbool.h>
#include <stddef.h>

enum chat_template_kind {
        CHAT_TEMPLATE_CHATML,
        CHAT_TEMPLATE_GEMMA,
        CHAT_TEMPLATE_LLAMA3,
};

struct chat_message {
        const char *role;    /* "system", "user", "assistant" */
        const char *content; /* UTF-8 */
};

typedef struct ChatTemplate {
        enum chat_template_kind kind;
        /* ChatML templates that insert a system turn when the conversation
         * has none (SmolLM2, Qwen 2.5) carry it here; NULL otherwise. */
        char *default_system;
} ChatTemplate;

/* template_text may be NULL (no tokenizer.chat_template); arch is
 * general.architecture. -EOPNOTSUPP with a message when nothing matches. */
int chat_template_init(ChatTemplate *t, const char *template_text, const char *arch,
                       char *ret_error, size_t error_size);
void chat_template_done(ChatTemplate *t);
const char *chat_template_kind_name(enum chat_template_kind kind);

/*
 * Renders messages as the model's prompt text (special tokens as text, to be
 * encoded with parse_special). BOS is NOT included: the tokenizer adds it.
 * add_generation_prompt appends the opening of the assistant's turn.
 * -EINVAL for an unknown role or an empty conversation.
 */
int chat_template_apply(const ChatTemplate *t, const struct chat_message *msgs, size_t n,
                        bool add_generation_prompt, char **ret);
