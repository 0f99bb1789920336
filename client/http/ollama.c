/* SPDX-License-Identifier: MIT */
/*
 * The Ollama API: /, /api/tags, /api/ps, /api/version, /api/show,
 * /api/chat, /api/generate. Streaming is NDJSON and on by default.
 *
 * "keep_alive" is accepted and ignored: which models stay resident is the
 * administrator's policy in unicornd, not a client's. Sampling options are
 * mapped to the daemon's parameters; options that only steer Ollama's own
 * runner (num_thread, num_gpu, mirostat…) are ignored. Features we cannot
 * honour (images, tools, structured "format", a custom template, a
 * "context" from a previous reply) are refused with 400.
 */
#include <string.h>

#include "params.h"
#include "run.h"

static const char *done_reason(const char *daemon) {
        if (streq(daemon, "length") || streq(daemon, "context"))
                return "length";
        return "stop";
}

static void now_string(char *buf, size_t n) {
        format_rfc3339(realtime_nsec(), buf, n);
}

/* An opaque, stable identifier: Ollama clients use digests to tell models
 * apart. FNV-1a of name and size, spread over 64 hex digits. */
static void digest(const ModelInfo *m, char *buf, size_t n) {
        uint64_t h = 1469598103934665603ull;
        char *p = buf;

        for (const char *s = m->name; *s; s++)
                h = (h ^ (uint8_t) *s) * 1099511628211ull;
        h ^= m->size;
        for (int i = 0; i < 4 && (size_t) (p - buf) + 17 <= n; i++) {
                h = (h ^ (uint64_t) i) * 1099511628211ull;
                p += snprintf(p, n - (size_t) (p - buf), "%016llx", (unsigned long long) h);
        }
}

static json_t *details(const ModelInfo *m) {
        char ps[32] = "";

        if (m->parameters >= 1000000000ull)
                snprintf(ps, sizeof ps, "%.1fB", (double) m->parameters / 1e9);
        else if (m->parameters > 0)
                snprintf(ps, sizeof ps, "%.0fM", (double) m->parameters / 1e6);
        return json_pack("{ss,ss,ss,sn,ss,ss}", "parent_model", "", "format", "gguf", "family", "", "families",
                         "parameter_size", ps, "quantization_level", "");
}

static json_t *model_entry(const ModelInfo *m, bool ps) {
        char d[72] = "";
        json_t *j;

        digest(m, d, sizeof d);
        j = json_pack("{ss,ss,sI,ss,so}", "name", m->name, "model", m->name, "size",
                      (json_int_t) (ps && m->weight_bytes ? m->weight_bytes : m->size), "digest", d, "details",
                      details(m));
        if (!j)
                return NULL;
        if (ps) {
                /* Residency is the daemon's policy: no expiry to report. */
                bool gpu = m->backend && (strstr(m->backend, "vulkan") || strstr(m->backend, "Vulkan"));
                json_object_set_new(j, "expires_at", json_string("2100-01-01T00:00:00Z"));
                json_object_set_new(j, "size_vram", json_integer(gpu ? (json_int_t) m->weight_bytes : 0));
        } else
                json_object_set_new(j, "modified_at", json_string("1970-01-01T00:00:00Z"));
        return j;
}

static enum MHD_Result list(HttpRequest *req, bool ps) {
        ModelInfo *v = NULL;
        size_t n = 0;
        ApiError e;
        json_t *models, *j;
        enum MHD_Result ret;

        if (upstream_list_models(&v, &n, ps, &e) < 0)
                return reply_error(req, &e);
        models = json_array();
        for (size_t i = 0; models && i < n; i++)
                if (!ps || v[i].loaded)
                        json_array_append_new(models, model_entry(&v[i], ps));
        model_info_free(v, n);
        j = json_pack("{so}", "models", models);
        if (!j)
                return MHD_NO;
        ret = reply_json(req, 200, j);
        json_decref(j);
        return ret;
}

enum MHD_Result ollama_tags(HttpRequest *req) {
        return list(req, false);
}

enum MHD_Result ollama_ps(HttpRequest *req) {
        return list(req, true);
}

enum MHD_Result ollama_root(HttpRequest *req) {
        return reply_text(req, 200, "text/plain; charset=utf-8", "Unicorn is running (Ollama and OpenAI compatible)");
}

enum MHD_Result ollama_version(HttpRequest *req) {
        json_t *j = json_pack("{ss,ss}", "version", OLLAMA_API_VERSION, "unicorn", HTTP_VERSION_STRING);
        enum MHD_Result ret;

        if (!j)
                return MHD_NO;
        ret = reply_json(req, 200, j);
        json_decref(j);
        return ret;
}

/* Finds a model by the name a client gave, "x:latest" meaning "x". */
static const ModelInfo *find_model(const ModelInfo *v, size_t n, const char *name) {
        size_t l = strlen(name);

        for (size_t i = 0; i < n; i++)
                if (streq(v[i].name, name))
                        return &v[i];
        if (l > 7 && streq(name + l - 7, ":latest"))
                for (size_t i = 0; i < n; i++)
                        if (strlen(v[i].name) == l - 7 && strncmp(v[i].name, name, l - 7) == 0)
                                return &v[i];
        return NULL;
}

enum MHD_Result ollama_show(HttpRequest *req) {
        _cleanup_(json_decrefp) json_t *body = NULL;
        const char *name = NULL;
        const ModelInfo *m;
        ModelInfo *v = NULL;
        size_t n = 0;
        ApiError e;
        json_t *j;
        enum MHD_Result ret;

        if (request_json(req, &body, &e) < 0)
                return reply_error(req, &e);
        /* "model" now, "name" in older clients. */
        if (json_object_get(body, "model"))
                (void) json_get_model(body, "model", &name, &e);
        else if (json_object_get(body, "name"))
                (void) json_get_model(body, "name", &name, &e);
        else
                bad_request(&e, "model", "'model' is required.");
        if (!name)
                return reply_error(req, &e);
        if (upstream_list_models(&v, &n, false, &e) < 0)
                return reply_error(req, &e);
        m = find_model(v, n, name);
        if (!m) {
                model_info_free(v, n);
                api_error(&e, 404, NULL, NULL, "model '%.128s' not found", name);
                return reply_error(req, &e);
        }
        j = json_pack("{ss,ss,ss,so,s{ss,sI},s[s]}", "modelfile", "", "parameters", "", "template", "", "details",
                      details(m), "model_info", "general.name", m->name, "general.parameter_count",
                      (json_int_t) m->parameters, "capabilities", "completion");
        if (j && m->backend)
                json_object_set_new(json_object_get(j, "model_info"), "unicorn.backend", json_string(m->backend));
        model_info_free(v, n);
        if (!j)
                return MHD_NO;
        json_object_set_new(j, "modified_at", json_string("1970-01-01T00:00:00Z"));
        ret = reply_json(req, 200, j);
        json_decref(j);
        return ret;
}

/* --- generation ------------------------------------------------------------ */

static int parse_options(json_t *body, GenParams *p, ApiError *e) {
        json_t *o = json_object_get(body, "options");
        int64_t i = -1, seed = -1, ctx = 0;
        int r;

        if (!o || json_is_null(o))
                return 0;
        if (!json_is_object(o))
                return bad_request(e, "options", "'options' must be an object.");
        r = json_get_double(o, "options.", "temperature", 0, 100, &p->temperature, e);
        if (r >= 0)
                r = json_get_double(o, "options.", "top_p", 0, 1, &p->top_p, e);
        if (r >= 0)
                r = json_get_double(o, "options.", "min_p", 0, 1, &p->min_p, e);
        if (r >= 0)
                r = json_get_double(o, "options.", "repeat_penalty", 0.01, 10, &p->repeat_penalty, e);
        if (r >= 0)
                r = json_get_double(o, "options.", "presence_penalty", -10, 10, &p->presence_penalty, e);
        if (r >= 0)
                r = json_get_double(o, "options.", "frequency_penalty", -10, 10, &p->frequency_penalty, e);
        if (r >= 0)
                r = json_get_int(o, "options.", "top_k", 0, 1000000, &p->top_k, e);
        /* num_predict: -1 is "no limit", -2 "fill the context". */
        if (r >= 0)
                r = json_get_int(o, "options.", "num_predict", -2, 1 << 20, &i, e);
        if (r >= 0)
                r = json_get_int(o, "options.", "num_ctx", 0, 1 << 20, &ctx, e);
        /* Ollama's seed -1 means random. */
        if (r >= 0)
                r = json_get_int(o, "options.", "seed", INT64_MIN, INT64_MAX, &seed, e);
        if (r >= 0)
                r = json_get_stops(o, "options.", "stop", p, e);
        if (r < 0)
                return r;
        p->max_tokens = i >= 0 ? i : -1;
        p->context_length = ctx > 0 ? (uint32_t) MAX(ctx, 16) : 0;
        if (json_object_get(o, "seed") && !json_is_null(json_object_get(o, "seed")) && seed >= 0) {
                p->has_seed = true;
                p->seed = (uint64_t) seed;
        }
        return 0;
}

static int refuse_nonempty(json_t *body, const char *key, const char *what, ApiError *e) {
        json_t *v = json_object_get(body, key);

        if (!v || json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0) ||
            (json_is_string(v) && json_string_length(v) == 0) || json_is_false(v))
                return 0;
        return bad_request(e, key, "%s", what);
}

static int parse_common(json_t *body, GenInput *in, bool *stream, ApiError *e) {
        json_t *ka = json_object_get(body, "keep_alive");
        int r;

        *stream = true;
        r = json_get_model(body, "model", &in->model, e);
        if (r >= 0)
                r = json_get_bool(body, NULL, "stream", stream, e);
        if (r >= 0 && ka && !json_is_null(ka) && !json_is_string(ka) && !json_is_number(ka))
                r = bad_request(e, "keep_alive", "'keep_alive' must be a duration string or a number of seconds.");
        if (r >= 0)
                r = refuse_nonempty(body, "format", "Structured output ('format') is not supported.", e);
        if (r >= 0)
                r = refuse_nonempty(body, "tools", "Tools are not supported.", e);
        if (r >= 0)
                r = parse_options(body, &in->params, e);
        return r;
}

static int parse_chat(json_t *body, GenInput *in, ApiError *e) {
        json_t *msgs, *m;
        size_t i;
        int r;

        r = json_get_messages(body, in, &msgs, e);
        if (r < 0)
                return r;
        json_array_foreach(msgs, i, m) {
                const char *role;
                char p[48];

                if (!json_is_object(m))
                        return bad_request(e, "messages", "'messages[%zu]' must be an object.", i);
                role = json_string_value(json_object_get(m, "role"));
                if (!role || (!streq(role, "system") && !streq(role, "user") && !streq(role, "assistant")))
                        return bad_request(e, "messages",
                                           "'messages[%zu].role' must be system, user or assistant.", i);
                r = refuse_nonempty(m, "images", "Images are not supported.", e);
                if (r >= 0)
                        r = refuse_nonempty(m, "tool_calls", "Tool calls are not supported.", e);
                if (r < 0)
                        return r;
                snprintf(p, sizeof p, "messages[%zu].content", i);
                in->messages[i].role = role;
                in->n_messages = i + 1;
                /* Ollama lets a message go without content (""). */
                if (!json_object_get(m, "content") || json_is_null(json_object_get(m, "content")))
                        in->messages[i].content = "";
                else if ((r = json_check_string(json_object_get(m, "content"), p, &in->messages[i].content, e)) < 0)
                        return r;
        }
        return 0;
}

/* /api/generate applies the model's chat template (as Ollama does) unless
 * "raw" is true; "system" becomes a system message. */
static int parse_generate(json_t *body, GenInput *in, ApiError *e) {
        const char *system = NULL;
        bool raw = false;
        int r;

        r = json_get_string(body, NULL, "prompt", &in->prompt, e);
        if (r >= 0)
                r = json_get_string(body, NULL, "system", &system, e);
        if (r >= 0)
                r = json_get_bool(body, NULL, "raw", &raw, e);
        if (r >= 0)
                r = refuse_nonempty(body, "images", "Images are not supported.", e);
        if (r >= 0)
                r = refuse_nonempty(body, "suffix", "'suffix' (fill-in-the-middle) is not supported.", e);
        if (r >= 0)
                r = refuse_nonempty(body, "template", "A custom 'template' is not supported.", e);
        if (r >= 0)
                r = refuse_nonempty(body, "context",
                                    "'context' is not supported: send the conversation with /api/chat instead.", e);
        if (r < 0)
                return r;
        if (!in->prompt)
                in->prompt = "";
        if (raw) {
                in->chat = false;
                return 0;
        }
        in->chat = true;
        in->messages = new0(GenMessage, 2);
        if (!in->messages)
                return api_error(e, 500, NULL, NULL, "Out of memory.");
        if (system && system[0])
                in->messages[in->n_messages++] = (GenMessage) { .role = "system", .content = system };
        in->messages[in->n_messages++] = (GenMessage) { .role = "user", .content = in->prompt };
        return 0;
}

static json_t *final_fields(json_t *j, Run *run, uint64_t end_usec) {
        const GenStats *s = gen_stats(run->gen);

        json_object_set_new(j, "done_reason", json_string(done_reason(s->finish_reason)));
        json_object_set_new(j, "total_duration", json_integer((json_int_t) (end_usec - run->start_usec) * 1000));
        json_object_set_new(j, "load_duration", json_integer((json_int_t) gen_session_usec(run->gen) * 1000));
        json_object_set_new(j, "prompt_eval_count", json_integer((json_int_t) s->prompt_tokens));
        json_object_set_new(j, "prompt_eval_duration", json_integer((json_int_t) (s->prompt_ms * 1e6)));
        json_object_set_new(j, "eval_count", json_integer((json_int_t) s->generated_tokens));
        json_object_set_new(j, "eval_duration", json_integer((json_int_t) (s->generate_ms * 1e6)));
        return j;
}

static json_t *chunk(bool chat, const char *model, const char *text, bool done) {
        char ts[48];

        now_string(ts, sizeof ts);
        if (chat)
                return json_pack("{ss,ss,s{ss,ss},sb}", "model", model, "created_at", ts, "message", "role",
                                 "assistant", "content", text, "done", done);
        return json_pack("{ss,ss,ss,sb}", "model", model, "created_at", ts, "response", text, "done", done);
}

typedef struct OlStream {
        Run run;
        bool chat;
        bool ended;
} OlStream;

static int ndjson(char **out, size_t *len, json_t *j) {
        return buf_append_json_take(out, len, j, "", "\n");
}

static int ol_stream_fill(void *userdata, char **out, size_t *len) {
        OlStream *s = userdata;
        const char *model;
        GenEvent ev;
        int r;

        if (s->ended)
                return 0;
        model = gen_model(s->run.gen);
        do
                r = run_next(&s->run, &ev);
        while (r > 0 && ev.type == GEN_DELTA && ev.text_len == 0);
        if (r == -ECONNRESET || r == -ESHUTDOWN || r == -ENOMEM)
                return -1;
        if (r < 0 || ev.type == GEN_ERROR) {
                char msg[600];
                snprintf(msg, sizeof msg, "%s", r < 0 ? "The Unicorn service ended the reply early." : ev.text);
                s->ended = true;
                return ndjson(out, len, json_pack("{ss}", "error", msg)) < 0 ? -ENOMEM : 1;
        }
        if (ev.type == GEN_DELTA)
                return ndjson(out, len, chunk(s->chat, model, ev.text, false)) < 0 ? -ENOMEM : 1;
        s->ended = true;
        {
                json_t *j = chunk(s->chat, model, "", true);
                if (j)
                        final_fields(j, &s->run, now_usec());
                return ndjson(out, len, j) < 0 ? -ENOMEM : 1;
        }
}

static void ol_stream_done(void *userdata) {
        OlStream *s = userdata;
        run_end(&s->run);
        free(s);
}

static enum MHD_Result blocking(HttpRequest *req, Run *run, bool chat) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        GenEvent ev;
        ApiError e;
        json_t *j;
        enum MHD_Result ret;
        int r;

        if (buf_append(&text, &len, "", 0) < 0)
                return MHD_NO;
        while ((r = run_next(run, &ev)) > 0 && ev.type == GEN_DELTA)
                if (buf_append(&text, &len, ev.text, ev.text_len) < 0)
                        return MHD_NO;
        if (r == -ECONNRESET)
                return MHD_NO;
        if (r < 0 || ev.type == GEN_ERROR) {
                api_error(&e, r < 0 ? 503 : 500, NULL, NULL, "%s",
                          r < 0 ? "The Unicorn service ended the reply early." : ev.text);
                return reply_error(req, &e);
        }
        j = chunk(chat, gen_model(run->gen), text, true);
        if (!j)
                return MHD_NO;
        final_fields(j, run, now_usec());
        ret = reply_json(req, 200, j);
        json_decref(j);
        return ret;
}

/* An empty /api/generate prompt asks Ollama to load the model: here the
 * daemon loads on first use, so only say whether the model exists. */
static enum MHD_Result load_only(HttpRequest *req, const char *name) {
        ModelInfo *v = NULL;
        size_t n = 0;
        ApiError e;
        json_t *j;
        char ts[48];
        enum MHD_Result ret;
        const ModelInfo *m;

        if (upstream_list_models(&v, &n, false, &e) < 0)
                return reply_error(req, &e);
        m = find_model(v, n, name);
        if (!m) {
                model_info_free(v, n);
                api_error(&e, 404, NULL, NULL, "model '%.128s' not found", name);
                return reply_error(req, &e);
        }
        now_string(ts, sizeof ts);
        j = json_pack("{ss,ss,ss,sb,ss}", "model", m->name, "created_at", ts, "response", "", "done", 1,
                      "done_reason", "load");
        model_info_free(v, n);
        if (!j)
                return MHD_NO;
        ret = reply_json(req, 200, j);
        json_decref(j);
        return ret;
}

static enum MHD_Result generate(HttpRequest *req, bool chat) {
        _cleanup_(json_decrefp) json_t *body = NULL;
        GenInput in = { .chat = chat, .params = GEN_PARAMS_INIT };
        bool stream = true;
        ApiError e;
        Run run;
        OlStream *s;
        enum MHD_Result ret;
        int r;

        r = request_json(req, &body, &e);
        if (r >= 0)
                r = parse_common(body, &in, &stream, &e);
        if (r >= 0)
                r = chat ? parse_chat(body, &in, &e) : parse_generate(body, &in, &e);
        if (r >= 0 && !chat && in.prompt[0] == '\0' &&
            !(json_object_get(body, "system") && json_string_length(json_object_get(body, "system")) > 0)) {
                gen_input_done(&in);
                return load_only(req, in.model);
        }
        if (r < 0 || run_start(req, &in, &run, &e) < 0) {
                gen_input_done(&in);
                return reply_error(req, &e);
        }
        gen_input_done(&in);
        if (!stream) {
                ret = blocking(req, &run, chat);
                run_end(&run);
                return ret;
        }
        s = new0(OlStream, 1);
        if (!s) {
                run_end(&run);
                return MHD_NO;
        }
        *s = (OlStream) { .run = run, .chat = chat };
        return reply_stream(req, "application/x-ndjson", ol_stream_fill, ol_stream_done, s);
}

enum MHD_Result ollama_chat(HttpRequest *req) {
        return generate(req, true);
}

enum MHD_Result ollama_generate(HttpRequest *req) {
        return generate(req, false);
}
