/* SPDX-License-Identifier: MIT */
/*
 * Chat templates: recognition, fallbacks, errors, and rendering compared byte
 * for byte with what the real Jinja templates render
 * (tests/fixtures/gen-chat-ref.py writes tests/fixtures/chat/).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "macros.h"
#include "test-helpers.h"

static char *read_fixture(const char *name, size_t *ret_len) {
        char path[4096];
        snprintf(path, sizeof path, "%s/chat/%s", test_fixtures_dir(), name);

        FILE *f = fopen(path, "rb");
        CHECK_MSG(f, "cannot open %s (run tests/fixtures/gen-chat-ref.py)", path);
        CHECK(fseek(f, 0, SEEK_END) == 0);
        long len = ftell(f);
        CHECK(len >= 0);
        rewind(f);
        char *s = malloc((size_t) len + 1);
        CHECK(s);
        CHECK(fread(s, 1, (size_t) len, f) == (size_t) len);
        s[len] = '\0';
        fclose(f);
        if (ret_len)
                *ret_len = (size_t) len;
        return s;
}

/* Keep in sync with CONVERSATIONS in tests/fixtures/gen-chat-ref.py. */
static const struct chat_message conv_single[] = {
        { "user", "Hello!" },
};
static const struct chat_message conv_system[] = {
        { "system", "You are a terse assistant." },
        { "user", "What is 2+2?" },
};
static const struct chat_message conv_multi[] = {
        { "user", "Hi, who are you?" },
        { "assistant", "I am a model." },
        { "user", "Tell me a joke." },
};
static const struct chat_message conv_unicode[] = {
        { "system", " Réponds en français.\n" },
        { "user", "\u3000 Ça va ? 🦄\nLigne 2\n\n" },
        { "assistant", "\tOui, très bien — merci ! 日本語 \n" },
        { "user", "Encore\r\nune fois\u00a0" },
};

static const struct {
        const char *name;
        const struct chat_message *msgs;
        size_t n;
} conversations[] = {
        { "single", conv_single, ELEMENTSOF(conv_single) },
        { "system", conv_system, ELEMENTSOF(conv_system) },
        { "multi", conv_multi, ELEMENTSOF(conv_multi) },
        { "unicode", conv_unicode, ELEMENTSOF(conv_unicode) },
};

static void check_family(const char *family, const char *template_file) {
        _cleanup_free_ char *text = read_fixture(template_file, NULL);
        ChatTemplate t = {};
        char err[256] = "";

        CHECK_RET(chat_template_init(&t, text, "llama", err, sizeof err), 0);
        CHECK(streq(chat_template_kind_name(t.kind), family));

        for (size_t i = 0; i < ELEMENTSOF(conversations); i++)
                for (int gen = 0; gen <= 1; gen++) {
                        char name[128];
                        size_t want_len;
                        _cleanup_free_ char *out = NULL;

                        snprintf(name, sizeof name, "%s-%s%s.txt", family, conversations[i].name,
                                 gen ? "-gen" : "");
                        _cleanup_free_ char *want = read_fixture(name, &want_len);
                        CHECK_RET(chat_template_apply(&t, conversations[i].msgs, conversations[i].n, gen,
                                                      &out),
                                  0);
                        CHECK_MSG(strlen(out) == want_len && memcmp(out, want, want_len) == 0,
                                  "%s differs:\n--- got ---\n%s\n--- want ---\n%s", name, out, want);
                }
        chat_template_done(&t);
}

static void test_fixtures(void) {
        check_family("chatml", "smollm2-template.jinja");
        check_family("gemma", "gemma3-template.jinja");
        check_family("llama3", "llama3-template.jinja");
}

static void test_default_system(void) {
        ChatTemplate t = {};

        /* The real SmolLM2 template: the literal is written with real newlines. */
        _cleanup_free_ char *smol = read_fixture("smollm2-template.jinja", NULL);
        CHECK_RET(chat_template_init(&t, smol, "llama", NULL, 0), 0);
        CHECK(t.kind == CHAT_TEMPLATE_CHATML);
        CHECK(streq_ptr(t.default_system, "You are a helpful AI assistant named SmolLM, trained by Hugging Face"));
        chat_template_done(&t);
        CHECK(!t.default_system);

        /* Qwen 2.5 writes it with \n escapes, in a template with tools etc. */
        static const char qwen[] =
                "{%- if tools %}\n    {{- '<|im_start|>system\\n' }}\n"
                "    {%- if messages[0]['role'] == 'system' %}\n        {{- messages[0]['content'] }}\n"
                "    {%- else %}\n        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful "
                "assistant.' }}\n    {%- endif %}\n"
                "{%- else %}\n    {%- if messages[0]['role'] == 'system' %}\n"
                "        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n"
                "    {%- else %}\n"
                "        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
                "assistant.<|im_end|>\\n' }}\n"
                "    {%- endif %}\n{%- endif %}\n";
        CHECK_RET(chat_template_init(&t, qwen, "qwen2", NULL, 0), 0);
        CHECK(t.kind == CHAT_TEMPLATE_CHATML);
        CHECK(streq_ptr(t.default_system, "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."));

        _cleanup_free_ char *out = NULL;
        CHECK_RET(chat_template_apply(&t, conv_single, 1, true, &out), 0);
        CHECK(streq(out, "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
                         "assistant.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n"));
        free(out);
        out = NULL;
        /* The conversation's own system message replaces it. */
        CHECK_RET(chat_template_apply(&t, conv_system, 2, false, &out), 0);
        CHECK(streq(out, "<|im_start|>system\nYou are a terse assistant.<|im_end|>\n"
                         "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"));
        chat_template_done(&t);

        /* Plain ChatML: the system marker only wraps the caller's message, and
         * a double-quoted literal with an escaped quote does not confuse it. */
        static const char plain[] =
                "{% for message in messages %}{{ \"<|im_start|>\" + message['role'] + \"\\n\\\"\" + "
                "message['content'] + '<|im_end|>\\n' }}{% endfor %}"
                "<|im_start|>system\nraw text, not a literal<|im_end|>";
        CHECK_RET(chat_template_init(&t, plain, "qwen2", NULL, 0), 0);
        CHECK(t.kind == CHAT_TEMPLATE_CHATML);
        CHECK(!t.default_system);
        chat_template_done(&t);
}

static void test_detection(void) {
        ChatTemplate t = {};
        char err[256];

        CHECK_RET(chat_template_init(&t, "{{ '<start_of_turn>user\\n' }}", "qwen2", NULL, 0), 0);
        CHECK(t.kind == CHAT_TEMPLATE_GEMMA && !t.default_system);
        chat_template_done(&t);
        CHECK_RET(chat_template_init(&t, "{{ '<|start_header_id|>' }}", "gemma3", NULL, 0), 0);
        CHECK(t.kind == CHAT_TEMPLATE_LLAMA3);
        chat_template_done(&t);

        /* No template: the architecture decides, without a default system. */
        CHECK_RET(chat_template_init(&t, NULL, "gemma3", NULL, 0), 0);
        CHECK(t.kind == CHAT_TEMPLATE_GEMMA);
        chat_template_done(&t);
        CHECK_RET(chat_template_init(&t, "", "qwen2", NULL, 0), 0);
        CHECK(t.kind == CHAT_TEMPLATE_CHATML && !t.default_system);
        chat_template_done(&t);

        err[0] = '\0';
        CHECK_RET(chat_template_init(&t, NULL, "llama", err, sizeof err), -EOPNOTSUPP);
        CHECK(strstr(err, "llama") && strstr(err, "no chat template"));
        CHECK_RET(chat_template_init(&t, NULL, NULL, err, sizeof err), -EOPNOTSUPP);

        /* Present but unknown: refused, never guessed from the architecture. */
        err[0] = '\0';
        CHECK_RET(chat_template_init(&t, "{% for m in messages %}[INST] {{ m.content }} [/INST]{% endfor %}",
                                     "qwen2", err, sizeof err),
                  -EOPNOTSUPP);
        CHECK(strstr(err, "Unsupported chat template"));
        /* A tiny buffer is truncated, not overrun; NULL is fine. */
        char tiny[4] = "xxx";
        CHECK_RET(chat_template_init(&t, "bogus", "gemma3", tiny, sizeof tiny), -EOPNOTSUPP);
        CHECK(strlen(tiny) == 3);
        CHECK_RET(chat_template_init(&t, "bogus", "gemma3", NULL, 0), -EOPNOTSUPP);

        CHECK(streq(chat_template_kind_name(CHAT_TEMPLATE_CHATML), "chatml"));
        CHECK(streq(chat_template_kind_name(CHAT_TEMPLATE_GEMMA), "gemma"));
        CHECK(streq(chat_template_kind_name(CHAT_TEMPLATE_LLAMA3), "llama3"));
}

static void test_errors(void) {
        ChatTemplate kinds[3] = {};
        char *out = NULL;

        CHECK_RET(chat_template_init(&kinds[0], NULL, "qwen2", NULL, 0), 0);
        CHECK_RET(chat_template_init(&kinds[1], NULL, "gemma3", NULL, 0), 0);
        CHECK_RET(chat_template_init(&kinds[2], "<|start_header_id|>", "llama", NULL, 0), 0);

        for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                const struct chat_message bad_role[] = { { "user", "hi" }, { "tool", "x" } };
                const struct chat_message null_role[] = { { NULL, "hi" } };
                const struct chat_message null_content[] = { { "user", NULL } };

                CHECK_RET(chat_template_apply(&kinds[k], conv_single, 0, true, &out), -EINVAL);
                CHECK_RET(chat_template_apply(&kinds[k], NULL, 0, true, &out), -EINVAL);
                CHECK_RET(chat_template_apply(&kinds[k], bad_role, 2, true, &out), -EINVAL);
                CHECK_RET(chat_template_apply(&kinds[k], null_role, 1, true, &out), -EINVAL);
                CHECK_RET(chat_template_apply(&kinds[k], null_content, 1, true, &out), -EINVAL);
                CHECK(!out);
        }

        /* Gemma's template refuses turns that do not alternate user/model. */
        const struct chat_message two_users[] = { { "user", "a" }, { "user", "b" } };
        const struct chat_message starts_with_model[] = { { "assistant", "a" } };
        CHECK_RET(chat_template_apply(&kinds[1], two_users, 2, true, &out), -EINVAL);
        CHECK_RET(chat_template_apply(&kinds[1], starts_with_model, 1, true, &out), -EINVAL);
        CHECK(!out);
        /* …which ChatML and Llama 3 render as given. */
        CHECK_RET(chat_template_apply(&kinds[0], two_users, 2, false, &out), 0);
        CHECK(streq(out, "<|im_start|>user\na<|im_end|>\n<|im_start|>user\nb<|im_end|>\n"));
        free(out);
        CHECK_RET(chat_template_apply(&kinds[2], two_users, 2, false, &out), 0);
        CHECK(streq(out, "<|start_header_id|>user<|end_header_id|>\n\na<|eot_id|>"
                         "<|start_header_id|>user<|end_header_id|>\n\nb<|eot_id|>"));
        free(out);

        /* Gemma, system message only: the template renders no turn at all. */
        const struct chat_message only_system[] = { { "system", "s" } };
        CHECK_RET(chat_template_apply(&kinds[1], only_system, 1, true, &out), 0);
        CHECK(streq(out, "<start_of_turn>model\n"));
        free(out);

        /* Trimming: whitespace-only content, and bytes that only look like
         * the start of a Unicode space are kept. */
        const struct chat_message spaces[] = { { "user", " \t\n\u2003\u2029 " } };
        CHECK_RET(chat_template_apply(&kinds[2], spaces, 1, false, &out), 0);
        CHECK(streq(out, "<|start_header_id|>user<|end_header_id|>\n\n<|eot_id|>"));
        free(out);
        const struct chat_message not_space[] = { { "user", "\u2030x\u2010" } };
        CHECK_RET(chat_template_apply(&kinds[2], not_space, 1, false, &out), 0);
        CHECK(streq(out, "<|start_header_id|>user<|end_header_id|>\n\n\u2030x\u2010<|eot_id|>"));
        free(out);

        for (size_t k = 0; k < ELEMENTSOF(kinds); k++)
                chat_template_done(&kinds[k]);
        chat_template_done(NULL);
}

int main(void) {
        test_fixtures();
        test_default_system();
        test_detection();
        test_errors();
        printf("OK\n");
        return 0;
}
