/* SPDX-License-Identifier: MIT */
/*
 * Request objects: /org/unicorn/Engine1/request/_N, one per Chat() or
 * Complete(). Visible only to the caller that made it (the find callback
 * hides it from everyone else); its completion is a signal addressed to
 * that caller alone.
 */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus-util.h"
#include "log.h"
#include "unicornd.h"

const char *request_state_name(enum request_state s) {
        switch (s) {
        case REQUEST_QUEUED: return "queued";
        case REQUEST_RUNNING: return "running";
        case REQUEST_DONE: return "done";
        case REQUEST_FAILED: return "failed";
        }
        return "unknown";
}

Request *request_free(Request *r) {
        if (!r)
                return NULL;
        /* New messages not committed to the session are still ours. */
        for (size_t i = r->n_messages - r->n_new; i < r->n_messages; i++) {
                free((char *) r->messages[i].role);
                free((char *) r->messages[i].content);
        }
        free(r->messages);
        free(r->prompt);
        if (r->stops)
                for (size_t i = 0; i < r->params.n_stops; i++)
                        free(r->stops[i]);
        free(r->stops);
        if (r->fd >= 0)
                close(r->fd);
        generation_free(r->generation);
        free(r->error);
        free(r->out);
        free(r->reply);
        free(r->path);
        free(r->owner);
        free(r);
        return NULL;
}

void request_cancel(Request *r) {
        Scheduler *s;
        bool finished;

        if (!r)
                return;
        /* The engine thread sets `finished` under the scheduler lock
         * (scheduler.c finish()) while the main thread may be cancelling,
         * e.g. because the client just left the bus: read it under the
         * same lock, or the two race (found by ThreadSanitizer in the
         * integration tests). */
        s = r->manager->scheduler;
        scheduler_lock(s);
        finished = r->finished;
        scheduler_unlock(s);
        if (finished)
                return;
        atomic_store(&r->cancel, true);
        scheduler_wake(s);
}

/* Reads a variant holding exactly type t into p, or says which key was wrong. */
static int read_variant(sd_bus_message *msg, const char *key, const char *t, void *p, sd_bus_error *error) {
        int r = sd_bus_message_enter_container(msg, 'v', t);
        if (r < 0)
                return sd_bus_error_setf(error, UNICORN_ERROR_INVALID_ARGUMENT,
                                         "Parameter \"%s\" must be of type '%s'.", key, t);
        r = sd_bus_message_read_basic(msg, t[0], p);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(msg);
}

static int bad(sd_bus_error *error, const char *key, const char *what) {
        return sd_bus_error_setf(error, UNICORN_ERROR_INVALID_ARGUMENT, "Parameter \"%s\" %s.", key, what);
}

int request_parse_params(sd_bus_message *msg, Request *req, uint32_t n_ctx, sd_bus_error *error) {
        struct gen_params *p = &req->params;
        char err[ERROR_MAX] = "";
        int r;

        gen_params_default(p);
        r = sd_bus_message_enter_container(msg, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                const char *key;
                double d;
                int32_t i;

                r = sd_bus_message_read(msg, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "temperature")) {
                        r = read_variant(msg, key, "d", &d, error);
                        if (r < 0)
                                return r;
                        if (!isfinite(d) || d < 0 || d > 100)
                                return bad(error, key, "must be between 0 and 100");
                        p->sampling.temperature = (float) d;
                } else if (streq(key, "top_p") || streq(key, "min_p")) {
                        r = read_variant(msg, key, "d", &d, error);
                        if (r < 0)
                                return r;
                        if (!isfinite(d) || d < 0 || d > 1)
                                return bad(error, key, "must be between 0 and 1");
                        if (key[0] == 't')
                                p->sampling.top_p = (float) d;
                        else
                                p->sampling.min_p = (float) d;
                } else if (streq(key, "repeat_penalty")) {
                        r = read_variant(msg, key, "d", &d, error);
                        if (r < 0)
                                return r;
                        if (!isfinite(d) || d <= 0 || d > 10)
                                return bad(error, key, "must be above 0 and at most 10");
                        p->sampling.repeat_penalty = (float) d;
                } else if (streq(key, "presence_penalty") || streq(key, "frequency_penalty")) {
                        r = read_variant(msg, key, "d", &d, error);
                        if (r < 0)
                                return r;
                        if (!isfinite(d) || d < -10 || d > 10)
                                return bad(error, key, "must be between -10 and 10");
                        if (key[0] == 'p')
                                p->sampling.presence_penalty = (float) d;
                        else
                                p->sampling.frequency_penalty = (float) d;
                } else if (streq(key, "top_k")) {
                        r = read_variant(msg, key, "i", &i, error);
                        if (r < 0)
                                return r;
                        if (i < 0 || i > 1000000)
                                return bad(error, key, "must be between 0 and 1000000");
                        p->sampling.top_k = i;
                } else if (streq(key, "seed")) {
                        uint64_t seed;
                        r = read_variant(msg, key, "t", &seed, error);
                        if (r < 0)
                                return r;
                        p->sampling.seed = seed;
                } else if (streq(key, "max_tokens")) {
                        r = read_variant(msg, key, "i", &i, error);
                        if (r < 0)
                                return r;
                        if (i < 0 || (uint32_t) i > n_ctx)
                                return bad(error, key, "must be between 0 and the context length");
                        p->max_tokens = i;
                } else if (streq(key, "stop")) {
                        r = sd_bus_message_enter_container(msg, 'v', "as");
                        if (r < 0)
                                return bad(error, key, "must be of type 'as'");
                        r = sd_bus_message_enter_container(msg, 'a', "s");
                        if (r < 0)
                                return r;
                        if (req->stops)
                                return bad(error, key, "is given twice");
                        req->stops = new0(char *, SAMPLER_MAX_STOP);
                        if (!req->stops)
                                return -ENOMEM;
                        for (;;) {
                                const char *s;
                                r = sd_bus_message_read(msg, "s", &s);
                                if (r < 0)
                                        return r;
                                if (r == 0)
                                        break;
                                if (p->n_stops >= SAMPLER_MAX_STOP)
                                        return bad(error, key, "has too many strings (at most 16)");
                                if (s[0] == '\0' || strlen(s) > SAMPLER_MAX_STOP_LEN)
                                        return bad(error, key, "strings must be 1 to 256 bytes");
                                req->stops[p->n_stops] = strdup(s);
                                if (!req->stops[p->n_stops])
                                        return -ENOMEM;
                                p->n_stops++;
                        }
                        r = sd_bus_message_exit_container(msg);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(msg);
                        if (r < 0)
                                return r;
                        p->stops = (const char *const *) req->stops;
                } else
                        return sd_bus_error_setf(error, UNICORN_ERROR_INVALID_ARGUMENT,
                                                 "Unknown parameter \"%s\".", key);
                r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(msg);
        if (r < 0)
                return r;
        if (sampler_params_check(&p->sampling, err, sizeof err) < 0)
                return sd_bus_error_setf(error, UNICORN_ERROR_INVALID_ARGUMENT, "%s",
                                         err[0] ? err : "Invalid sampling parameters.");
        return 0;
}

/* --- bus object -------------------------------------------------------- */

static bool caller_is(sd_bus *bus, const char *owner) {
        sd_bus_message *m = sd_bus_get_current_message(bus);
        uint8_t type;

        /* Only method calls are filtered; our own emissions are not calls. */
        if (!m || sd_bus_message_get_type(m, &type) < 0 || type != SD_BUS_MESSAGE_METHOD_CALL)
                return true;
        return streq_ptr(sd_bus_message_get_sender(m), owner);
}

static Request *request_by_id(Manager *m, uint64_t id) {
        for (Session *s = m->sessions; s; s = s->next)
                if (!s->closing && s->request && s->request->id == id)
                        return s->request;
        return NULL;
}

static int request_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                        sd_bus_error *error) {
        Manager *m = userdata;
        Request *r;
        uint64_t id;

        if (bus_path_get_id(path, UNICORN_REQUEST_PREFIX, &id) < 0)
                return 0;
        r = request_by_id(m, id);
        /* Someone else's request does not exist, as far as they can tell. */
        if (!r || !caller_is(bus, r->owner))
                return 0;
        *found = r;
        return 1;
}

static int request_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Manager *m = userdata;
        sd_bus_message *cur = sd_bus_get_current_message(bus);
        const char *sender = cur ? sd_bus_message_get_sender(cur) : NULL;
        char **l;
        size_t n = 0;

        l = new0(char *, m->n_sessions + 1);
        if (!l)
                return -ENOMEM;
        for (Session *s = m->sessions; s; s = s->next)
                if (!s->closing && s->request && sender && streq(s->request->owner, sender) && n < m->n_sessions) {
                        l[n] = strdup(s->request->path);
                        if (!l[n])
                                break;
                        n++;
                }
        *nodes = l;
        return 1;
}

static int method_cancel(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Request *r = userdata;
        int q = bus_authorize(r->manager, msg, error);
        if (q <= 0)
                return q < 0 ? q : 1;
        request_cancel(r);
        return sd_bus_reply_method_return(msg, NULL);
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Request *r = userdata;
        Scheduler *s = r->manager->scheduler;
        enum request_state state;
        enum finish_reason fr;
        struct gen_timings t;
        uint32_t tokens;
        uint64_t ttft;
        _cleanup_free_ char *err = NULL;

        scheduler_lock(s);
        state = r->state;
        fr = r->finish;
        t = r->timings;
        tokens = r->tokens_generated;
        ttft = r->first_token_usec && r->first_token_usec > r->submit_usec ? r->first_token_usec - r->submit_usec : 0;
        err = r->error ? strdup(r->error) : NULL;
        scheduler_unlock(s);

        if (streq(property, "Session"))
                return sd_bus_message_append(reply, "o", r->session->path);
        if (streq(property, "State"))
                return sd_bus_message_append(reply, "s", request_state_name(state));
        if (streq(property, "FinishReason"))
                return sd_bus_message_append(reply, "s", fr == FINISH_NONE ? "" : finish_reason_name(fr));
        if (streq(property, "Error"))
                return sd_bus_message_append(reply, "s", strempty(err));
        if (streq(property, "TokensGenerated"))
                return sd_bus_message_append(reply, "u", tokens);
        if (streq(property, "PromptTokens"))
                return sd_bus_message_append(reply, "u", t.n_prompt + t.n_prompt_cached);
        if (streq(property, "CachedTokens"))
                return sd_bus_message_append(reply, "u", t.n_prompt_cached);
        if (streq(property, "TimeToFirstTokenUSec"))
                return sd_bus_message_append(reply, "t", ttft);
        if (streq(property, "PromptUSec"))
                return sd_bus_message_append(reply, "t", t.prompt_us);
        if (streq(property, "GenerateUSec"))
                return sd_bus_message_append(reply, "t", t.generate_us);
        return -ENOENT;
}

const sd_bus_vtable request_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Session", "o", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_PROPERTY("FinishReason", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_PROPERTY("Error", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_PROPERTY("TokensGenerated", "u", property_get, 0, 0),
        SD_BUS_PROPERTY("PromptTokens", "u", property_get, 0, 0),
        SD_BUS_PROPERTY("CachedTokens", "u", property_get, 0, 0),
        SD_BUS_PROPERTY("TimeToFirstTokenUSec", "t", property_get, 0, 0),
        SD_BUS_PROPERTY("PromptUSec", "t", property_get, 0, 0),
        SD_BUS_PROPERTY("GenerateUSec", "t", property_get, 0, 0),
        SD_BUS_METHOD_WITH_ARGS("Cancel", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_cancel,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("Finished", SD_BUS_ARGS("s", finish_reason, "s", error), 0),
        SD_BUS_VTABLE_END,
};

int request_add_bus_objects(Manager *m) {
        int r = sd_bus_add_fallback_vtable(m->bus, NULL, UNICORN_REQUEST_PREFIX, UNICORN_REQUEST_IFACE,
                                           request_vtable, request_find, m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(m->bus, NULL, UNICORN_REQUEST_PREFIX, request_enumerate, m);
}

/* Main thread: the engine thread let go of r. */
void request_finished(Request *r) {
        static const char *const changed[] = { "State", "FinishReason", "Error", NULL };
        Manager *m = r->manager;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *sig = NULL;
        int q;

        /* Our copy of the write end goes now, so the reader sees EOF. */
        if (r->fd >= 0) {
                close(r->fd);
                r->fd = -EBADF;
        }
        if (r->active) {
                r->active = false;
                m->n_active_requests--;
                manager_emit_changed(m, "ActiveRequests");
        }
        log_debug("Request %s finished: %s, %u tokens.", r->path, request_state_name(r->state), r->tokens_generated);

        if (r->session->closing)
                return;
        /* The caller learns first-hand; nobody else hears of it. */
        q = sd_bus_message_new_signal(m->bus, &sig, r->path, UNICORN_REQUEST_IFACE, "Finished");
        if (q >= 0)
                q = sd_bus_message_set_destination(sig, r->owner);
        if (q >= 0)
                q = sd_bus_message_append(sig, "ss", r->finish == FINISH_NONE ? "" : finish_reason_name(r->finish),
                                          strempty(r->error));
        if (q >= 0)
                q = sd_bus_send(m->bus, sig, NULL);
        if (q < 0)
                log_debug_errno(q, "Failed to send Finished for %s: %m", r->path);
        (void) bus_emit_invalidated_unicast(m->bus, r->owner, r->path, UNICORN_REQUEST_IFACE, changed);
}

static int read_fd(sd_bus_message *msg, int *ret, sd_bus_error *error) {
        struct stat st;
        int fd, flags, r;

        r = sd_bus_message_read(msg, "h", &fd);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode))
                return sd_bus_error_set(error, UNICORN_ERROR_INVALID_ARGUMENT,
                                        "The output fd must be a pipe or a socket.");
        flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return -errno;
        if ((flags & O_ACCMODE) == O_RDONLY)
                return sd_bus_error_set(error, UNICORN_ERROR_INVALID_ARGUMENT,
                                        "The output fd must be open for writing (the write end of a pipe).");
        fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        /* The engine thread never blocks on one reader. */
        if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        *ret = fd;
        return 0;
}

static int read_messages(sd_bus_message *msg, Session *s, Request *req, sd_bus_error *error) {
        Manager *m = s->manager;
        size_t cap = 0, bytes = s->conversation_bytes;
        struct chat_message *l = NULL;
        size_t n = 0;
        int r;

        r = sd_bus_message_enter_container(msg, 'a', "a{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(msg, 'a', "{sv}")) > 0) {
                const char *role = NULL, *content = NULL;

                if (n >= MAX_MESSAGES_PER_CALL || s->n_messages + n >= MAX_MESSAGES_PER_SESSION) {
                        r = sd_bus_error_setf(error, UNICORN_ERROR_LIMIT_EXCEEDED,
                                              "Too many messages (at most %u per call, %u per session).",
                                              MAX_MESSAGES_PER_CALL, MAX_MESSAGES_PER_SESSION);
                        goto fail;
                }
                while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                        const char *key, *v;

                        r = sd_bus_message_read(msg, "s", &key);
                        if (r < 0)
                                goto fail;
                        if (!streq(key, "role") && !streq(key, "content")) {
                                r = sd_bus_error_setf(error, UNICORN_ERROR_INVALID_ARGUMENT,
                                                      "Unknown message field \"%s\" (expected role, content).", key);
                                goto fail;
                        }
                        r = read_variant(msg, key, "s", &v, error);
                        if (r < 0)
                                goto fail;
                        if (key[0] == 'r')
                                role = v;
                        else
                                content = v;
                        r = sd_bus_message_exit_container(msg);
                        if (r < 0)
                                goto fail;
                }
                if (r < 0)
                        goto fail;
                r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        goto fail;
                if (!role || !content) {
                        r = sd_bus_error_set(error, UNICORN_ERROR_INVALID_ARGUMENT,
                                             "Every message needs a role and a content.");
                        goto fail;
                }
                if (!streq(role, "system") && !streq(role, "user") && !streq(role, "assistant")) {
                        r = sd_bus_error_setf(error, UNICORN_ERROR_INVALID_ARGUMENT,
                                              "Unknown role \"%.32s\" (expected system, user or assistant).", role);
                        goto fail;
                }
                bytes += strlen(content);
                if (bytes > m->config.max_prompt_bytes) {
                        r = sd_bus_error_setf(error, UNICORN_ERROR_LIMIT_EXCEEDED,
                                              "The conversation is too long (limit %llu bytes).",
                                              (unsigned long long) m->config.max_prompt_bytes);
                        goto fail;
                }
                if (!bus_string_is_utf8(content)) {
                        r = sd_bus_error_set(error, UNICORN_ERROR_INVALID_ARGUMENT, "Content is not valid UTF-8.");
                        goto fail;
                }
                if (n == cap) {
                        size_t nc = cap ? cap * 2 : 4;
                        struct chat_message *nl = realloc(l, nc * sizeof *nl);
                        if (!nl) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        l = nl, cap = nc;
                }
                l[n].role = strdup(role);
                l[n].content = strdup(content);
                n++;
                if (!l[n - 1].role || !l[n - 1].content) {
                        r = -ENOMEM;
                        goto fail;
                }
        }
        if (r < 0)
                goto fail;
        r = sd_bus_message_exit_container(msg);
        if (r < 0)
                goto fail;
        if (n == 0) {
                r = sd_bus_error_set(error, UNICORN_ERROR_INVALID_ARGUMENT, "No messages given.");
                goto fail;
        }

        /* The whole conversation: the session's turns, then these. */
        req->messages = new0(struct chat_message, s->n_messages + n);
        if (!req->messages) {
                r = -ENOMEM;
                goto fail;
        }
        for (size_t i = 0; i < s->n_messages; i++)
                req->messages[i] = s->messages[i];
        memcpy(req->messages + s->n_messages, l, n * sizeof *l);
        req->n_messages = s->n_messages + n;
        req->n_new = n;
        free(l);
        return 0;
fail:
        for (size_t i = 0; i < n; i++) {
                free((char *) l[i].role);
                free((char *) l[i].content);
        }
        free(l);
        return r;
}

/* Chat(aa{sv} messages, a{sv} params, h pipe) and Complete(s prompt, a{sv} params, h pipe). */
int request_new(Session *s, sd_bus_message *msg, Request **ret) {
        Request *r = calloc(1, sizeof *r);

        if (!r)
                return -ENOMEM;
        r->manager = s->manager;
        r->session = s;
        r->fd = -EBADF;
        r->chat = streq_ptr(sd_bus_message_get_member(msg), "Chat");
        r->id = ++s->manager->next_request_id;
        r->owner = strdup(s->owner);
        if (!r->owner || asprintf(&r->path, UNICORN_REQUEST_PREFIX "/_%llu", (unsigned long long) r->id) < 0) {
                r->path = NULL;
                request_free(r);
                return -ENOMEM;
        }
        *ret = r;
        return 0;
}


int request_read_input(Session *s, Request *req, sd_bus_message *msg, sd_bus_error *error) {
        Manager *m = s->manager;
        int r;

        if (req->chat) {
                r = read_messages(msg, s, req, error);
                if (r < 0)
                        return r;
        } else {
                const char *prompt;
                r = sd_bus_message_read(msg, "s", &prompt);
                if (r < 0)
                        return r;
                if (strlen(prompt) > m->config.max_prompt_bytes)
                        return sd_bus_error_setf(error, UNICORN_ERROR_LIMIT_EXCEEDED,
                                                 "The prompt is too long (limit %llu bytes).",
                                                 (unsigned long long) m->config.max_prompt_bytes);
                if (!bus_string_is_utf8(prompt))
                        return sd_bus_error_set(error, UNICORN_ERROR_INVALID_ARGUMENT, "The prompt is not valid UTF-8.");
                req->prompt = strdup(prompt);
                if (!req->prompt)
                        return -ENOMEM;
        }
        r = request_parse_params(msg, req, s->n_ctx, error);
        if (r < 0)
                return r;
        return read_fd(msg, &req->fd, error);
}
