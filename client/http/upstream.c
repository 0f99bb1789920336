/* SPDX-License-Identifier: MIT */
/*
 * Gen: one generation on unicornd. See upstream.h.
 *
 * Why a bus connection per generation: the daemon ties sessions, caps
 * (MaxRequestsPerCaller) and cleanup to the caller's unique name, and sd-bus
 * connections are not thread-safe. A private connection per HTTP request
 * gives each one a session of its own, lets the daemon clean up everything
 * when it is dropped, and needs no locking; the adapter's own limits
 * (--max-generations, --max-per-client) bound how many there are.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "upstream.h"

#define BUS_NAME "org.unicorn.Engine1"
#define MANAGER_PATH "/org/unicorn/Engine1"
#define MANAGER "org.unicorn.Engine1.Manager"
#define SESSION "org.unicorn.Engine1.Session"
#define REQUEST "org.unicorn.Engine1.Request"
#define ERROR_PREFIX "org.unicorn.Engine1.Error."

/* A record from the daemon is one short line; anything longer is broken. */
#define MAX_LINE (1024u * 1024u)
/* Loading a model on the first OpenSession may take a while. */
#define OPEN_SESSION_TIMEOUT_USEC (300ull * 1000000ull)
#define CALL_TIMEOUT_USEC (30ull * 1000000ull)

struct Gen {
        sd_bus *bus;
        char *model;
        char *session;
        char *request;
        int fd;
        int client_fd;
        char *buf;
        size_t len, off, cap;
        json_t *cur;
        bool finished;
        GenStats stats;
        uint64_t start_usec, session_usec;
};

static void bus_unrefp(sd_bus **b) {
        if (*b)
                sd_bus_flush_close_unref(*b);
}

static void message_unrefp(sd_bus_message **m) {
        sd_bus_message_unref(*m);
}

static void bus_error_freep(sd_bus_error *e) {
        sd_bus_error_free(e);
}

static bool error_is(const sd_bus_error *be, const char *suffix) {
        return be && be->name && strncmp(be->name, ERROR_PREFIX, strlen(ERROR_PREFIX)) == 0 &&
               streq(be->name + strlen(ERROR_PREFIX), suffix);
}

/* Maps a failed bus call to what the HTTP client is told. The daemon's
 * messages are written for users and carry no prompt text, so they pass. */
static int map_bus_error(const sd_bus_error *be, int r, const char *model, ApiError *e) {
        const char *msg = be && be->message ? be->message : strerror(-r);

        if (error_is(be, "NoSuchModel"))
                return api_error(e, 404, "model_not_found", "model", "The model '%.128s' does not exist.", model);
        if (error_is(be, "InvalidArgument"))
                return api_error(e, 400, NULL, NULL, "%s", msg);
        if (error_is(be, "LimitExceeded")) {
                /* Size limits are the request's fault; counts are "try later". */
                if (strstr(msg, "too long") || strstr(msg, "Too many messages"))
                        return api_error(e, 400, "context_length_exceeded", "messages", "%s", msg);
                return api_error(e, 429, "rate_limit_exceeded", NULL, "%s", msg);
        }
        if (error_is(be, "Busy"))
                return api_error(e, 429, "rate_limit_exceeded", NULL, "%s", msg);
        if (error_is(be, "NotLoaded") || error_is(be, "ShuttingDown"))
                return api_error(e, 503, NULL, NULL, "%s", msg);
        if (error_is(be, "LoadFailed") || error_is(be, "InvalidModel"))
                return api_error(e, 500, NULL, NULL, "%s", msg);
        if (be && be->name &&
            (streq(be->name, SD_BUS_ERROR_ACCESS_DENIED) || streq(be->name, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED)))
                return api_error(e, 403, NULL, NULL, "unicornd refused this service: %s", msg);
        if ((be && be->name &&
             (streq(be->name, SD_BUS_ERROR_SERVICE_UNKNOWN) || streq(be->name, SD_BUS_ERROR_NAME_HAS_NO_OWNER) ||
              streq(be->name, SD_BUS_ERROR_NO_REPLY) || streq(be->name, SD_BUS_ERROR_DISCONNECTED) ||
              streq(be->name, SD_BUS_ERROR_TIMEOUT))) ||
            r == -ENOENT || r == -ECONNREFUSED || r == -ETIMEDOUT || r == -ECONNRESET || r == -ENOTCONN)
                return api_error(e, 503, NULL, NULL, "The Unicorn service (unicornd) is not reachable: %s", msg);
        return api_error(e, 500, NULL, NULL, "unicornd: %s", msg);
}

static int bus_connect(sd_bus **ret, ApiError *e) {
        _cleanup_(bus_unrefp) sd_bus *bus = NULL;
        int r;

        if (!config.bus_address)
                r = sd_bus_open_system(&bus); /* honours DBUS_SYSTEM_BUS_ADDRESS */
        else {
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, config.bus_address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(bus, true);
                if (r >= 0)
                        r = sd_bus_negotiate_fds(bus, true);
                if (r >= 0)
                        r = sd_bus_start(bus);
        }
        if (r < 0) {
                log_error("Cannot connect to the bus: %s", strerror(-r));
                return api_error(e, 503, NULL, NULL, "The Unicorn service is not reachable (no system bus).");
        }
        *ret = TAKE_PTR(bus);
        return 0;
}

static int get_max_context(sd_bus *bus, uint32_t *ret) {
        return sd_bus_get_property_trivial(bus, BUS_NAME, MANAGER_PATH, MANAGER, "MaxContextLength", NULL, 'u', ret);
}

static int open_session(Gen *g, const char *model, uint32_t n_ctx, ApiError *e) {
        _cleanup_(bus_error_freep) sd_bus_error be = SD_BUS_ERROR_NULL;
        _cleanup_(message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *path;
        int r;

        r = sd_bus_message_new_method_call(g->bus, &m, BUS_NAME, MANAGER_PATH, MANAGER, "OpenSession");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", model);
        if (r >= 0) {
                if (n_ctx)
                        r = sd_bus_message_append(m, "a{sv}", 1, "context_length", "u", n_ctx);
                else
                        r = sd_bus_message_append(m, "a{sv}", 0);
        }
        if (r < 0)
                return api_error(e, 500, NULL, NULL, "Cannot build the request: %s", strerror(-r));
        r = sd_bus_call(g->bus, m, OPEN_SESSION_TIMEOUT_USEC, &be, &reply);
        if (r < 0)
                return map_bus_error(&be, r, model, e);
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return api_error(e, 500, NULL, NULL, "unicornd sent a malformed reply.");
        g->session = strdup(path);
        g->model = strdup(model);
        if (!g->session || !g->model)
                return api_error(e, 500, NULL, NULL, "Out of memory.");
        return 0;
}

static int append_params(sd_bus_message *m, const GenParams *p) {
        static const struct {
                const char *key;
                size_t offset;
        } doubles[] = {
                { "temperature", offsetof(GenParams, temperature) },
                { "top_p", offsetof(GenParams, top_p) },
                { "min_p", offsetof(GenParams, min_p) },
                { "repeat_penalty", offsetof(GenParams, repeat_penalty) },
                { "presence_penalty", offsetof(GenParams, presence_penalty) },
                { "frequency_penalty", offsetof(GenParams, frequency_penalty) },
        };
        int r = sd_bus_message_open_container(m, 'a', "{sv}");

        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(doubles); i++) {
                double d = *(const double *) ((const char *) p + doubles[i].offset);
                if (!isnan(d))
                        r = sd_bus_message_append(m, "{sv}", doubles[i].key, "d", d);
        }
        if (r >= 0 && p->top_k >= 0)
                r = sd_bus_message_append(m, "{sv}", "top_k", "i", (int32_t) p->top_k);
        if (r >= 0 && p->has_seed)
                r = sd_bus_message_append(m, "{sv}", "seed", "t", p->seed);
        if (r >= 0 && p->max_tokens >= 0)
                r = sd_bus_message_append(m, "{sv}", "max_tokens", "i", (int32_t) p->max_tokens);
        if (r >= 0 && p->n_stops > 0) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "stop");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "s");
                for (size_t i = 0; r >= 0 && i < p->n_stops; i++)
                        r = sd_bus_message_append(m, "s", p->stops[i]);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static int append_messages(sd_bus_message *m, const GenInput *in) {
        int r = sd_bus_message_open_container(m, 'a', "a{sv}");
        for (size_t i = 0; r >= 0 && i < in->n_messages; i++)
                r = sd_bus_message_append(m, "a{sv}", 2, "role", "s", in->messages[i].role, "content", "s",
                                          in->messages[i].content);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* A context just large enough, so that fifty small concurrent requests do
 * not each reserve the daemon's default KV cache. A token is at least one
 * byte of input in every tokenizer the engine has; the slack covers chat
 * template tokens and default system prompts. */
static uint32_t context_for(const GenInput *in, uint32_t max_ctx) {
        uint64_t bytes = 256;

        if (in->params.context_length)
                return MIN(in->params.context_length, max_ctx);
        if (in->params.max_tokens < 0)
                return 0; /* the daemon's default */
        if (in->chat)
                for (size_t i = 0; i < in->n_messages; i++)
                        bytes += strlen(in->messages[i].content) + 32;
        else
                bytes += strlen(in->prompt);
        bytes += (uint64_t) in->params.max_tokens;
        bytes = ALIGN_TO(bytes, 256);
        return (uint32_t) MIN(bytes, (uint64_t) max_ctx);
}

int gen_start(const GenInput *in, int client_fd, Gen **ret, ApiError *e) {
        _cleanup_(gen_freep) Gen *g = NULL;
        _cleanup_(bus_error_freep) sd_bus_error be = SD_BUS_ERROR_NULL;
        _cleanup_(message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_close_ int wfd = -EBADF;
        GenParams params = in->params;
        uint32_t max_ctx = 0, n_ctx;
        const char *path;
        int p[2], r;

        g = new0(Gen, 1);
        if (!g)
                return api_error(e, 500, NULL, NULL, "Out of memory.");
        g->fd = -EBADF;
        g->client_fd = client_fd;
        g->start_usec = now_usec();
        r = bus_connect(&g->bus, e);
        if (r < 0)
                return r;
        r = get_max_context(g->bus, &max_ctx);
        if (r < 0 || max_ctx < 16)
                max_ctx = 4096;
        n_ctx = context_for(in, max_ctx);
        if (n_ctx && n_ctx < 16)
                n_ctx = 16;
        if (n_ctx && params.max_tokens > (int64_t) n_ctx)
                params.max_tokens = n_ctx;
        if (!n_ctx && params.max_tokens > (int64_t) max_ctx)
                params.max_tokens = max_ctx;

        r = open_session(g, in->model, n_ctx, e);
        if (r < 0 && e->status == 404) {
                /* Ollama clients name models "name:tag"; the store has no
                 * tags, so "x:latest" also means "x". */
                size_t l = strlen(in->model);
                if (l > 7 && streq(in->model + l - 7, ":latest")) {
                        _cleanup_free_ char *base = strndup(in->model, l - 7);
                        ApiError e2 = {};
                        if (!base)
                                return api_error(e, 500, NULL, NULL, "Out of memory.");
                        r = open_session(g, base, n_ctx, &e2);
                        if (r < 0 && e2.status != 404)
                                *e = e2;
                }
        }
        if (r < 0)
                return r;
        g->session_usec = now_usec() - g->start_usec;

        if (pipe2(p, O_CLOEXEC) < 0)
                return api_error(e, 500, NULL, NULL, "Cannot create a pipe: %s", strerror(errno));
        g->fd = p[0];
        wfd = p[1];
        r = sd_bus_message_new_method_call(g->bus, &m, BUS_NAME, g->session, SESSION, in->chat ? "Chat" : "Complete");
        if (r >= 0)
                r = in->chat ? append_messages(m, in) : sd_bus_message_append(m, "s", in->prompt);
        if (r >= 0)
                r = append_params(m, &params);
        if (r >= 0)
                r = sd_bus_message_append(m, "h", wfd);
        if (r < 0)
                return api_error(e, r == -EINVAL ? 400 : 500, NULL, NULL, "Cannot build the request: %s",
                                 r == -EINVAL ? "a string is not valid UTF-8 or contains NUL" : strerror(-r));
        r = sd_bus_call(g->bus, m, CALL_TIMEOUT_USEC, &be, &reply);
        /* The daemon has its own copy now; ours would hide its EOF. */
        wfd = safe_close_fd(wfd);
        if (r < 0)
                return map_bus_error(&be, r, in->model, e);
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0 || !(g->request = strdup(path)))
                return api_error(e, 500, NULL, NULL, "unicornd sent a malformed reply.");
        *ret = TAKE_PTR(g);
        return 0;
}

static double num(json_t *o, const char *key) {
        json_t *v = json_object_get(o, key);
        double d = json_is_number(v) ? json_number_value(v) : 0;
        return isfinite(d) && d > 0 ? d : 0;
}

static void parse_done(Gen *g, json_t *j) {
        const char *f = json_string_value(json_object_get(j, "finish_reason"));

        snprintf(g->stats.finish_reason, sizeof g->stats.finish_reason, "%s", f ? f : "stop");
        g->stats.prompt_tokens = (uint64_t) MIN(num(j, "prompt_tokens"), 1e12);
        g->stats.cached_tokens = (uint64_t) MIN(num(j, "cached_tokens"), 1e12);
        g->stats.generated_tokens = (uint64_t) MIN(num(j, "generated_tokens"), 1e12);
        g->stats.prompt_ms = num(j, "prompt_ms");
        g->stats.generate_ms = num(j, "generate_ms");
        g->stats.ttft_ms = num(j, "ttft_ms");
        g->stats.tokens_per_second = num(j, "tokens_per_second");
}

int gen_next(Gen *g, GenEvent *ev) {
        json_decref(g->cur);
        g->cur = NULL;
        if (g->finished)
                return -EPIPE;
        for (;;) {
                char *start = g->buf + g->off, *nl = g->len > g->off ? memchr(start, '\n', g->len - g->off) : NULL;

                if (nl) {
                        size_t n = (size_t) (nl - start);
                        json_error_t je;
                        json_t *j = json_loadb(start, n, 0, &je);
                        const char *type;

                        g->off += n + 1;
                        if (!j || !json_is_object(j)) {
                                json_decref(j);
                                return -EBADMSG;
                        }
                        type = json_string_value(json_object_get(j, "type"));
                        if (type && streq(type, "delta")) {
                                json_t *t = json_object_get(j, "text");
                                if (!json_is_string(t)) {
                                        json_decref(j);
                                        return -EBADMSG;
                                }
                                g->cur = j;
                                *ev = (GenEvent) { GEN_DELTA, json_string_value(t), json_string_length(t) };
                                return 1;
                        }
                        if (type && streq(type, "done")) {
                                parse_done(g, j);
                                g->finished = true;
                                g->cur = j;
                                *ev = (GenEvent) { GEN_DONE, "", 0 };
                                return 1;
                        }
                        if (type && streq(type, "error")) {
                                const char *msg = json_string_value(json_object_get(j, "message"));
                                g->finished = true;
                                g->cur = j;
                                msg = msg ? msg : "generation failed";
                                *ev = (GenEvent) { GEN_ERROR, msg, strlen(msg) };
                                return 1;
                        }
                        /* A record type from a newer daemon: skip it. */
                        json_decref(j);
                        continue;
                }
                if (g->off > 0) {
                        memmove(g->buf, g->buf + g->off, g->len - g->off);
                        g->len -= g->off;
                        g->off = 0;
                }
                if (g->len >= MAX_LINE)
                        return -EBADMSG;
                if (g->cap - g->len < 4096) {
                        size_t nc = MIN(MAX(g->cap * 2, (size_t) 16384), (size_t) MAX_LINE + 4096);
                        char *nb = realloc(g->buf, nc);
                        if (!nb)
                                return -ENOMEM;
                        g->buf = nb;
                        g->cap = nc;
                }

                struct pollfd pfd[3] = {
                        { .fd = g->fd, .events = POLLIN },
                        { .fd = config.shutdown_fd, .events = POLLIN },
                        /* POLLRDHUP: the peer closed; also reported when it
                         * has sent more (a pipelined request), which is not
                         * a hang-up, so POLLIN is not asked for. */
                        { .fd = g->client_fd, .events = POLLRDHUP },
                };
                int r = poll(pfd, g->client_fd >= 0 ? 3 : 2, -1);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (pfd[1].revents)
                        return -ESHUTDOWN;
                if (g->client_fd >= 0 && (pfd[2].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)))
                        return -ECONNRESET;
                if (pfd[0].revents) {
                        ssize_t n = read(g->fd, g->buf + g->len, g->cap - g->len);
                        if (n < 0) {
                                if (errno == EINTR || errno == EAGAIN)
                                        continue;
                                return -errno;
                        }
                        if (n == 0)
                                return -EPIPE; /* ended without a final record */
                        g->len += (size_t) n;
                }
        }
}

const GenStats *gen_stats(const Gen *g) {
        return &g->stats;
}

const char *gen_model(const Gen *g) {
        return g->model;
}

uint64_t gen_start_usec(const Gen *g) {
        return g->start_usec;
}

uint64_t gen_session_usec(const Gen *g) {
        return g->session_usec;
}

Gen *gen_free(Gen *g) {
        if (!g)
                return NULL;
        if (g->bus && g->request && !g->finished) {
                _cleanup_(message_unrefp) sd_bus_message *m = NULL;
                /* Stop the work now rather than at the next token; no need
                 * to wait for the answer (the flush below sends it). */
                if (sd_bus_message_new_method_call(g->bus, &m, BUS_NAME, g->request, REQUEST, "Cancel") >= 0 &&
                    sd_bus_message_set_expect_reply(m, false) >= 0)
                        (void) sd_bus_send(g->bus, m, NULL);
        }
        /* Closing the read end cancels too (EPIPE), and dropping the
         * connection closes the session. */
        g->fd = safe_close_fd(g->fd);
        if (g->bus)
                sd_bus_flush_close_unref(g->bus);
        json_decref(g->cur);
        free(g->buf);
        free(g->model);
        free(g->session);
        free(g->request);
        free(g);
        return NULL;
}

void gen_input_done(GenInput *in) {
        for (size_t i = 0; in->messages && i < in->n_messages; i++)
                free(in->messages[i].owned_content);
        free(in->messages);
        in->messages = NULL;
        in->n_messages = 0;
}

/* --- listings --------------------------------------------------------- */

void model_info_free(ModelInfo *m, size_t n) {
        for (size_t i = 0; m && i < n; i++) {
                free(m[i].name);
                free(m[i].backend);
        }
        free(m);
}

int upstream_list_models(ModelInfo **ret, size_t *ret_n, bool loaded_only, ApiError *e) {
        _cleanup_(bus_unrefp) sd_bus *bus = NULL;
        _cleanup_(bus_error_freep) sd_bus_error be = SD_BUS_ERROR_NULL;
        _cleanup_(message_unrefp) sd_bus_message *list = NULL, *loaded = NULL;
        ModelInfo *v = NULL;
        size_t n = 0;
        const char *name, *backend;
        uint64_t size, bytes, params;
        uint32_t sessions, running;
        int b, r;

        r = bus_connect(&bus, e);
        if (r < 0)
                return r;
        if (!loaded_only) {
                r = sd_bus_call_method(bus, BUS_NAME, MANAGER_PATH, MANAGER, "ListModels", &be, &list, "");
                if (r < 0)
                        return map_bus_error(&be, r, "", e);
        }
        r = sd_bus_call_method(bus, BUS_NAME, MANAGER_PATH, MANAGER, "ListLoadedModels", &be, &loaded, "");
        if (r < 0)
                return map_bus_error(&be, r, "", e);

        if (list) {
                r = sd_bus_message_enter_container(list, 'a', "(stb)");
                while (r >= 0 && (r = sd_bus_message_read(list, "(stb)", &name, &size, &b)) > 0) {
                        ModelInfo *nv = reallocarray(v, n + 1, sizeof *v);
                        if (!nv) {
                                r = -ENOMEM;
                                break;
                        }
                        v = nv;
                        v[n] = (ModelInfo) { .name = strdup(name), .size = size, .loaded = b };
                        if (!v[n++].name)
                                r = -ENOMEM;
                }
                if (r < 0)
                        goto fail;
        }
        r = sd_bus_message_enter_container(loaded, 'a', "(ssttuu)");
        while (r >= 0 &&
               (r = sd_bus_message_read(loaded, "(ssttuu)", &name, &backend, &bytes, &params, &sessions, &running)) > 0) {
                ModelInfo *m = NULL;
                for (size_t i = 0; i < n; i++)
                        if (streq(v[i].name, name))
                                m = &v[i];
                if (!m) {
                        ModelInfo *nv = reallocarray(v, n + 1, sizeof *v);
                        if (!nv) {
                                r = -ENOMEM;
                                break;
                        }
                        v = nv;
                        m = &v[n++];
                        *m = (ModelInfo) { .name = strdup(name), .size = bytes };
                        if (!m->name) {
                                r = -ENOMEM;
                                break;
                        }
                }
                m->loaded = true;
                free(m->backend);
                m->backend = strdup(backend);
                m->weight_bytes = bytes;
                m->parameters = params;
        }
        if (r < 0)
                goto fail;
        *ret = v;
        *ret_n = n;
        return 0;
fail:
        model_info_free(v, n);
        return api_error(e, 500, NULL, NULL, "unicornd sent a malformed reply: %s", strerror(-r));
}

int upstream_version(char **ret, ApiError *e) {
        _cleanup_(bus_unrefp) sd_bus *bus = NULL;
        _cleanup_(bus_error_freep) sd_bus_error be = SD_BUS_ERROR_NULL;
        int r;

        r = bus_connect(&bus, e);
        if (r < 0)
                return r;
        r = sd_bus_get_property_string(bus, BUS_NAME, MANAGER_PATH, MANAGER, "Version", &be, ret);
        if (r < 0)
                return map_bus_error(&be, r, "", e);
        return 0;
}
