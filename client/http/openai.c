/* SPDX-License-Identifier: MIT */
/*
 * The OpenAI API: /v1/models, /v1/models/{id}, /v1/chat/completions,
 * /v1/completions, with SSE streaming ("data: {chunk}", "data: [DONE]").
 *
 * Requests are stateless, so each one gets its own daemon session. Unknown
 * fields are ignored, as OpenAI-compatible servers do (clients send
 * "user", "store", "metadata"…); fields we know but cannot honour (n > 1,
 * tools, logprobs, images, JSON mode) are refused rather than ignored, so
 * a client never gets silently different behaviour.
 */
#include <string.h>
#include <time.h>

#include "params.h"
#include "run.h"

#define FINGERPRINT "unicorn-" HTTP_VERSION_STRING

static const char *finish_reason(const char *daemon) {
        if (streq(daemon, "length") || streq(daemon, "context"))
                return "length";
        return "stop";
}

/* --- models --------------------------------------------------------------- */

static json_t *model_object(const ModelInfo *m, int64_t created) {
        return json_pack("{ss,ss,sI,ss}", "id", m->name, "object", "model", "created", (json_int_t) created,
                         "owned_by", "unicorn");
}

enum MHD_Result openai_models(HttpRequest *req) {
        ModelInfo *v = NULL;
        size_t n = 0;
        ApiError e;
        json_t *data, *j;
        enum MHD_Result ret;

        if (upstream_list_models(&v, &n, false, &e) < 0)
                return reply_error(req, &e);
        data = json_array();
        for (size_t i = 0; data && i < n; i++)
                json_array_append_new(data, model_object(&v[i], 0));
        model_info_free(v, n);
        j = json_pack("{ss,so}", "object", "list", "data", data);
        if (!j)
                return MHD_NO;
        ret = reply_json(req, 200, j);
        json_decref(j);
        return ret;
}

enum MHD_Result openai_model(HttpRequest *req) {
        const char *id = req->url + strlen("/v1/models/");
        ModelInfo *v = NULL;
        size_t n = 0;
        ApiError e;
        enum MHD_Result ret;

        if (upstream_list_models(&v, &n, false, &e) < 0)
                return reply_error(req, &e);
        for (size_t i = 0; i < n; i++)
                if (streq(v[i].name, id)) {
                        json_t *j = model_object(&v[i], 0);
                        model_info_free(v, n);
                        if (!j)
                                return MHD_NO;
                        ret = reply_json(req, 200, j);
                        json_decref(j);
                        return ret;
                }
        model_info_free(v, n);
        api_error(&e, 404, "model_not_found", "model", "The model '%.128s' does not exist.", id);
        return reply_error(req, &e);
}

/* --- request parsing --------------------------------------------------------- */

typedef struct OaRequest {
        json_t *json;
        GenInput in;
        bool stream;
        bool include_usage;
} OaRequest;

static void oa_request_done(OaRequest *o) {
        gen_input_done(&o->in);
        json_decref(o->json);
}

/* Fields we cannot honour: refused unless they ask for the default. */
static int check_unsupported(json_t *j, bool chat, ApiError *e) {
        json_t *v;
        int64_t n = 1;
        bool b = false;
        int r;

        r = json_get_int(j, NULL, "n", 1, 128, &n, e);
        if (r < 0)
                return r;
        if (n != 1)
                return bad_request(e, "n", "Only n=1 is supported.");
        if (json_is_true(json_object_get(j, "logprobs")) ||
            (json_is_integer(json_object_get(j, "logprobs")) && !chat))
                return bad_request(e, "logprobs", "logprobs are not supported.");
        v = json_object_get(j, "tools");
        if (v && !json_is_null(v) && !(json_is_array(v) && json_array_size(v) == 0))
                return bad_request(e, "tools", "Tools (function calling) are not supported.");
        v = json_object_get(j, "functions");
        if (v && !json_is_null(v) && !(json_is_array(v) && json_array_size(v) == 0))
                return bad_request(e, "functions", "Function calling is not supported.");
        v = json_object_get(j, "response_format");
        if (v && !json_is_null(v)) {
                const char *t = json_string_value(json_object_get(v, "type"));
                if (!json_is_object(v) || !t || !streq(t, "text"))
                        return bad_request(e, "response_format",
                                           "Only response_format {\"type\": \"text\"} is supported.");
        }
        v = json_object_get(j, "logit_bias");
        if (v && !json_is_null(v) && !(json_is_object(v) && json_object_size(v) == 0))
                return bad_request(e, "logit_bias", "logit_bias is not supported.");
        if (!chat) {
                r = json_get_bool(j, NULL, "echo", &b, e);
                if (r < 0)
                        return r;
                if (b)
                        return bad_request(e, "echo", "echo is not supported.");
                n = 1;
                r = json_get_int(j, NULL, "best_of", 1, 128, &n, e);
                if (r < 0)
                        return r;
                if (n != 1)
                        return bad_request(e, "best_of", "Only best_of=1 is supported.");
                v = json_object_get(j, "suffix");
                if (v && !json_is_null(v) && !(json_is_string(v) && json_string_length(v) == 0))
                        return bad_request(e, "suffix", "suffix (fill-in-the-middle) is not supported.");
        }
        return 0;
}

static int parse_params(json_t *j, bool chat, OaRequest *o, ApiError *e) {
        GenParams *p = &o->in.params;
        json_t *so;
        int64_t i = -1, seed;
        int r;

        r = json_get_model(j, "model", &o->in.model, e);
        if (r >= 0)
                r = json_get_bool(j, NULL, "stream", &o->stream, e);
        if (r < 0)
                return r;
        so = json_object_get(j, "stream_options");
        if (so && !json_is_null(so)) {
                if (!json_is_object(so))
                        return bad_request(e, "stream_options", "'stream_options' must be an object.");
                r = json_get_bool(so, "stream_options.", "include_usage", &o->include_usage, e);
                if (r < 0)
                        return r;
        }
        r = json_get_double(j, NULL, "temperature", 0, 2, &p->temperature, e);
        if (r >= 0)
                r = json_get_double(j, NULL, "top_p", 0, 1, &p->top_p, e);
        if (r >= 0)
                r = json_get_double(j, NULL, "presence_penalty", -2, 2, &p->presence_penalty, e);
        if (r >= 0)
                r = json_get_double(j, NULL, "frequency_penalty", -2, 2, &p->frequency_penalty, e);
        /* Extensions that llama.cpp's and vLLM's servers accept too. */
        if (r >= 0)
                r = json_get_int(j, NULL, "top_k", 0, 1000000, &p->top_k, e);
        if (r >= 0)
                r = json_get_double(j, NULL, "min_p", 0, 1, &p->min_p, e);
        if (r >= 0)
                r = json_get_double(j, NULL, "repeat_penalty", 0.01, 10, &p->repeat_penalty, e);
        if (r >= 0)
                r = json_get_int(j, NULL, "max_tokens", 0, 1 << 20, &i, e);
        if (r >= 0)
                r = json_get_int(j, NULL, "max_completion_tokens", 0, 1 << 20, &i, e);
        if (r >= 0)
                r = json_get_stops(j, NULL, "stop", p, e);
        if (r < 0)
                return r;
        /* The legacy completions endpoint stops after 16 tokens by default. */
        p->max_tokens = i >= 0 ? i : chat ? -1 : 16;
        if (json_object_get(j, "seed") && !json_is_null(json_object_get(j, "seed"))) {
                r = json_get_int(j, NULL, "seed", INT64_MIN, INT64_MAX, &seed, e);
                if (r < 0)
                        return r;
                p->has_seed = true;
                p->seed = (uint64_t) seed;
        }
        return check_unsupported(j, chat, e);
}

/* "content": a string, or an array of parts of which only text is
 * understood. */
static int message_content(json_t *c, size_t idx, GenMessage *m, ApiError *e) {
        char param[48];
        json_t *part;
        size_t i, len = 0;
        char *s = NULL;

        snprintf(param, sizeof param, "messages[%zu].content", idx);
        if (json_is_string(c))
                return json_check_string(c, param, &m->content, e);
        if (!json_is_array(c))
                return bad_request(e, "messages", "'%s' must be a string or an array of content parts.", param);
        json_array_foreach(c, i, part) {
                const char *type = json_string_value(json_object_get(part, "type")), *text;
                if (!type || !streq(type, "text")) {
                        free(s);
                        return bad_request(e, "messages", "'%s[%zu]': only text content parts are supported.", param,
                                           i);
                }
                if (json_check_string(json_object_get(part, "text"), "text", &text, e) < 0) {
                        free(s);
                        return bad_request(e, "messages", "'%s[%zu].text' must be a string.", param, i);
                }
                if ((len > 0 && buf_append(&s, &len, "\n", 1) < 0) || buf_append(&s, &len, text, strlen(text)) < 0) {
                        free(s);
                        return api_error(e, 500, NULL, NULL, "Out of memory.");
                }
        }
        m->owned_content = s ? s : strdup("");
        if (!m->owned_content)
                return api_error(e, 500, NULL, NULL, "Out of memory.");
        m->content = m->owned_content;
        return 0;
}

static int parse_messages(json_t *j, GenInput *in, ApiError *e) {
        json_t *msgs, *m;
        size_t i;
        int r;

        r = json_get_messages(j, in, &msgs, e);
        if (r < 0)
                return r;
        json_array_foreach(msgs, i, m) {
                const char *role;
                if (!json_is_object(m))
                        return bad_request(e, "messages", "'messages[%zu]' must be an object.", i);
                role = json_string_value(json_object_get(m, "role"));
                if (!role)
                        return bad_request(e, "messages", "'messages[%zu].role' is required and must be a string.", i);
                if (streq(role, "developer"))
                        role = "system"; /* what newer clients call the system prompt */
                else if (!streq(role, "system") && !streq(role, "user") && !streq(role, "assistant"))
                        return bad_request(e, "messages",
                                           "'messages[%zu].role' must be system, developer, user or assistant "
                                           "(tool messages are not supported).",
                                           i);
                in->messages[i].role = role;
                in->n_messages = i + 1;
                if (!json_object_get(m, "content") || json_is_null(json_object_get(m, "content")))
                        return bad_request(e, "messages", "'messages[%zu].content' is required.", i);
                r = message_content(json_object_get(m, "content"), i, &in->messages[i], e);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_prompt(json_t *j, GenInput *in, ApiError *e) {
        json_t *p = json_object_get(j, "prompt");

        /* The API allows an array of prompts; one is what we do. */
        if (json_is_array(p) && json_array_size(p) == 1 && json_is_string(json_array_get(p, 0)))
                p = json_array_get(p, 0);
        if (!p || json_is_null(p))
                return bad_request(e, "prompt", "'prompt' is required.");
        if (!json_is_string(p))
                return bad_request(e, "prompt", "'prompt' must be a string (token arrays and batches are not supported).");
        return json_check_string(p, "prompt", &in->prompt, e);
}

static int parse_request(HttpRequest *req, bool chat, OaRequest *o, ApiError *e) {
        int r;

        *o = (OaRequest) { .in = { .chat = chat, .params = GEN_PARAMS_INIT } };
        r = request_json(req, &o->json, e);
        if (r >= 0)
                r = parse_params(o->json, chat, o, e);
        if (r >= 0)
                r = chat ? parse_messages(o->json, &o->in, e) : parse_prompt(o->json, &o->in, e);
        return r;
}

/* --- responses --------------------------------------------------------------- */

static json_t *usage(const GenStats *s) {
        return json_pack("{sI,sI,sI,s{sI}}", "prompt_tokens", (json_int_t) s->prompt_tokens, "completion_tokens",
                         (json_int_t) s->generated_tokens, "total_tokens",
                         (json_int_t) (s->prompt_tokens + s->generated_tokens), "prompt_tokens_details",
                         "cached_tokens", (json_int_t) s->cached_tokens);
}

static json_t *choice(bool chat, bool stream, const char *text, const char *finish, bool role) {
        json_t *c;

        if (chat && stream) {
                json_t *delta = role ? json_pack("{ss,ss}", "role", "assistant", "content", "")
                                     : finish ? json_object() : json_pack("{ss}", "content", text);
                c = json_pack("{sI,so,sn,ss?}", "index", (json_int_t) 0, "delta", delta, "logprobs", "finish_reason",
                              finish);
        } else if (chat)
                c = json_pack("{sI,s{ss,ss,sn},sn,ss}", "index", (json_int_t) 0, "message", "role", "assistant",
                              "content", text, "refusal", "logprobs", "finish_reason", finish);
        else
                c = json_pack("{ss,sI,sn,ss?}", "text", text, "index", (json_int_t) 0, "logprobs", "finish_reason",
                              finish);
        /* ss? writes null for a NULL finish_reason, as OpenAI does. */
        return c;
}

static json_t *envelope(bool chat, bool stream, const char *id, int64_t created, const char *model, json_t *choices) {
        const char *object = chat ? (stream ? "chat.completion.chunk" : "chat.completion") : "text_completion";
        return json_pack("{ss,ss,sI,ss,ss,so}", "id", id, "object", object, "created", (json_int_t) created, "model",
                         model, "system_fingerprint", FINGERPRINT, "choices", choices);
}

static json_t *error_json(const char *message, const char *type) {
        return json_pack("{s{ss,ss,sn,sn}}", "error", "message", message, "type", type, "param", "code");
}

static const char *gen_failure(int r) {
        return r == -ESHUTDOWN ? "The HTTP adapter is shutting down."
                               : "The Unicorn service ended the reply early.";
}

static enum MHD_Result complete_blocking(HttpRequest *req, OaRequest *o, Run *run, bool chat) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        char id[64];
        GenEvent ev;
        ApiError e;
        json_t *choices, *j;
        enum MHD_Result ret;
        int r;

        make_id(id, sizeof id, chat ? "chatcmpl-" : "cmpl-");
        if (buf_append(&text, &len, "", 0) < 0)
                return MHD_NO;
        while ((r = run_next(run, &ev)) > 0 && ev.type == GEN_DELTA)
                if (buf_append(&text, &len, ev.text, ev.text_len) < 0)
                        return MHD_NO;
        if (r == -ECONNRESET)
                return MHD_NO; /* the client left; nobody to answer */
        if (r < 0) {
                api_error(&e, 503, NULL, NULL, "%s", gen_failure(r));
                return reply_error(req, &e);
        }
        if (ev.type == GEN_ERROR) {
                api_error(&e, 500, NULL, NULL, "Generation failed: %s", ev.text);
                return reply_error(req, &e);
        }
        choices = json_array();
        if (choices)
                json_array_append_new(choices,
                                      choice(chat, false, text, finish_reason(gen_stats(run->gen)->finish_reason), false));
        j = envelope(chat, false, id, time(NULL), gen_model(run->gen), choices);
        if (!j)
                return MHD_NO;
        json_object_set_new(j, "usage", usage(gen_stats(run->gen)));
        ret = reply_json(req, 200, j);
        json_decref(j);
        return ret;
}

typedef struct OaStream {
        Run run;
        bool chat, include_usage;
        int state;                    /* 0: role chunk due, 1: tokens, 2: ended */
        char id[64];
        int64_t created;
} OaStream;

static int sse(char **out, size_t *len, json_t *j) {
        return buf_append_json_take(out, len, j, "data: ", "\n\n");
}

static int oa_stream_fill(void *userdata, char **out, size_t *len) {
        OaStream *s = userdata;
        const char *model;
        GenEvent ev;
        json_t *j;
        int r;

        if (s->state == 2)
                return 0;
        model = gen_model(s->run.gen);
        if (s->state == 0) {
                s->state = 1;
                if (s->chat) {
                        json_t *c = json_array();
                        if (c)
                                json_array_append_new(c, choice(true, true, "", NULL, true));
                        j = envelope(true, true, s->id, s->created, model, c);
                        if (j && s->include_usage)
                                json_object_set_new(j, "usage", json_null());
                        return sse(out, len, j) < 0 ? -ENOMEM : 1;
                }
        }
        for (;;) {
                r = run_next(&s->run, &ev);
                if (r == -ECONNRESET || r == -ESHUTDOWN || r == -ENOMEM)
                        return -1; /* cut the connection */
                if (r < 0) {
                        s->state = 2;
                        return sse(out, len, error_json(gen_failure(r), "server_error")) < 0 ? -ENOMEM : 1;
                }
                if (ev.type == GEN_DELTA && ev.text_len == 0)
                        continue;
                break;
        }
        if (ev.type == GEN_ERROR) {
                char msg[600];
                snprintf(msg, sizeof msg, "Generation failed: %s", ev.text);
                s->state = 2;
                return sse(out, len, error_json(msg, "server_error")) < 0 ? -ENOMEM : 1;
        }
        if (ev.type == GEN_DELTA) {
                json_t *c = json_array();
                if (c)
                        json_array_append_new(c, choice(s->chat, true, ev.text, NULL, false));
                j = envelope(s->chat, true, s->id, s->created, model, c);
                if (j && s->include_usage)
                        json_object_set_new(j, "usage", json_null());
                return sse(out, len, j) < 0 ? -ENOMEM : 1;
        }
        /* GEN_DONE: the finish chunk, the usage chunk if asked for, [DONE]. */
        s->state = 2;
        {
                const GenStats *st = gen_stats(s->run.gen);
                json_t *c = json_array();
                if (c)
                        json_array_append_new(c, choice(s->chat, true, "", finish_reason(st->finish_reason), false));
                j = envelope(s->chat, true, s->id, s->created, model, c);
                if (j && s->include_usage)
                        json_object_set_new(j, "usage", json_null());
                r = sse(out, len, j);
                if (r >= 0 && s->include_usage) {
                        j = envelope(s->chat, true, s->id, s->created, model, json_array());
                        if (j)
                                json_object_set_new(j, "usage", usage(st));
                        r = sse(out, len, j);
                }
                if (r >= 0)
                        r = buf_append(out, len, "data: [DONE]\n\n", 14);
                return r < 0 ? -ENOMEM : 1;
        }
}

static void oa_stream_done(void *userdata) {
        OaStream *s = userdata;
        run_end(&s->run);
        free(s);
}

static enum MHD_Result generate(HttpRequest *req, bool chat) {
        OaRequest o;
        ApiError e;
        Run run;
        enum MHD_Result ret;
        OaStream *s;

        if (parse_request(req, chat, &o, &e) < 0 || run_start(req, &o.in, &run, &e) < 0) {
                oa_request_done(&o);
                return reply_error(req, &e);
        }
        if (!o.stream) {
                ret = complete_blocking(req, &o, &run, chat);
                run_end(&run);
                oa_request_done(&o);
                return ret;
        }
        s = new0(OaStream, 1);
        if (!s) {
                run_end(&run);
                oa_request_done(&o);
                return MHD_NO;
        }
        *s = (OaStream) { .run = run, .chat = chat, .include_usage = o.include_usage, .created = time(NULL) };
        make_id(s->id, sizeof s->id, chat ? "chatcmpl-" : "cmpl-");
        oa_request_done(&o);
        return reply_stream(req, "text/event-stream", oa_stream_fill, oa_stream_done, s);
}

enum MHD_Result openai_chat(HttpRequest *req) {
        return generate(req, true);
}

enum MHD_Result openai_completions(HttpRequest *req) {
        return generate(req, false);
}
