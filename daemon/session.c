/* SPDX-License-Identifier: MIT */
/*
 * Session objects: /org/unicorn/Engine1/session/_N. A session is a private
 * sequence (KV cache) of a Pool's Context over a shared resident Model
 * (pool.c: with ParallelSessions=1 a Context of its own), plus the
 * conversation so far. It belongs to the unique bus name that opened it:
 * nobody else can see it (find callback), and it goes away when that name
 * leaves the bus (sd_bus_track).
 *
 * A follow-up Chat() renders the whole conversation again; the engine
 * reuses the longest common prefix of what the KV cache holds, so earlier
 * turns are not recomputed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus-util.h"
#include "log.h"
#include "unicornd.h"

static bool caller_is(sd_bus *bus, const char *owner) {
        sd_bus_message *m = sd_bus_get_current_message(bus);
        uint8_t type;

        if (!m || sd_bus_message_get_type(m, &type) < 0 || type != SD_BUS_MESSAGE_METHOD_CALL)
                return true;
        return streq_ptr(sd_bus_message_get_sender(m), owner);
}

unsigned sessions_count_owner(Manager *m, const char *owner) {
        unsigned n = 0;
        for (Session *s = m->sessions; s; s = s->next)
                if (!s->closing && streq_ptr(s->owner, owner))
                        n++;
        return n;
}

static unsigned running_count_owner(Manager *m, const char *owner) {
        unsigned n = 0;
        for (Session *s = m->sessions; s; s = s->next)
                if (s->request && s->request->active && streq_ptr(s->owner, owner))
                        n++;
        return n;
}

static void conversation_clear(Session *s) {
        for (size_t i = 0; i < s->n_messages; i++) {
                free((char *) s->messages[i].role);
                free((char *) s->messages[i].content);
        }
        free(s->messages);
        s->messages = NULL;
        s->n_messages = 0;
        s->conversation_bytes = 0;
}

Session *session_free(Session *s) {
        Manager *m;

        if (!s)
                return NULL;
        m = s->manager;
        for (Session **p = &m->sessions; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next;
                        m->n_sessions--;
                        break;
                }
        request_free(s->request);
        pool_release(s->pool, s->seq);
        s->pool = NULL;
        if (s->lm && s->lm->n_sessions > 0)
                s->lm->n_sessions--;
        manager_lost_model_release(s->lm);
        sd_bus_track_unref(s->track);
        conversation_clear(s);
        free(s->owner);
        free(s->path);
        free(s);
        manager_emit_changed(m, "Sessions");
        manager_check_exit(m);
        return NULL;
}

void session_close(Session *s) {
        if (!s || s->closing)
                return;
        log_debug("Closing %s.", s->path);
        s->closing = true;
        s->track = sd_bus_track_unref(s->track);
        /* The engine thread may still hold the Context, or have finished and
         * queued the request for the main loop, which has not collected it
         * yet (manager_process_notify): either way the request is still
         * active, and the session is freed when it is collected
         * (session_request_finished). Testing `finished` here instead freed
         * a queued request under the main loop's feet. */
        if (s->request && s->request->active) {
                request_cancel(s->request);
                return;
        }
        session_free(s);
}

static int track_handler(sd_bus_track *t, void *userdata) {
        Session *s = userdata;

        /* The owner left the bus: its work stops within one step. */
        session_close(s);
        return 0;
}

static int conversation_append(Session *s, char *role, char *content) {
        struct chat_message *n = realloc(s->messages, (s->n_messages + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        s->messages = n;
        n[s->n_messages++] = (struct chat_message) { .role = role, .content = content };
        s->conversation_bytes += strlen(content);
        return 0;
}

void session_request_finished(Session *s, Request *r) {
        request_finished(r);
        if (s->closing) {
                session_free(s);
                return;
        }
        /* A chat turn becomes part of the conversation, even when cut short
         * (that is what the user saw); a failed one leaves no trace. */
        if (r->chat && r->state == REQUEST_DONE && s->n_messages + r->n_new + 1 <= MAX_MESSAGES_PER_SESSION) {
                size_t first = r->n_messages - r->n_new;
                bool ok = true;

                for (size_t i = first; i < r->n_messages && ok; i++) {
                        if (conversation_append(s, (char *) r->messages[i].role, (char *) r->messages[i].content) < 0)
                                ok = false;
                        else
                                r->messages[i].role = r->messages[i].content = NULL, r->n_new--;
                }
                if (ok) {
                        char *role = strdup("assistant"), *content = strdup(r->reply ? r->reply : "");
                        if (!role || !content || conversation_append(s, role, content) < 0) {
                                free(role);
                                free(content);
                        }
                }
                /* The request's view borrowed the session's strings and
                 * handed over its own: it owns nothing any more. */
                r->n_messages = 0;
                r->n_new = 0;
        }
}

static int session_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                        sd_bus_error *error) {
        Manager *m = userdata;
        uint64_t id;

        if (bus_path_get_id(path, UNICORN_SESSION_PREFIX, &id) < 0)
                return 0;
        for (Session *s = m->sessions; s; s = s->next)
                if (s->id == id && !s->closing) {
                        if (!caller_is(bus, s->owner))
                                return 0;
                        *found = s;
                        return 1;
                }
        return 0;
}

static int session_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Manager *m = userdata;
        sd_bus_message *cur = sd_bus_get_current_message(bus);
        const char *sender = cur ? sd_bus_message_get_sender(cur) : NULL;
        char **l = new0(char *, m->n_sessions + 1);
        size_t n = 0;

        if (!l)
                return -ENOMEM;
        for (Session *s = m->sessions; s && n < m->n_sessions; s = s->next)
                if (!s->closing && sender && streq(s->owner, sender)) {
                        l[n] = strdup(s->path);
                        if (!l[n])
                                break;
                        n++;
                }
        *nodes = l;
        return 1;
}

static int method_generate(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_bus_error_ sd_bus_error e = SD_BUS_ERROR_NULL;
        Session *s = userdata;
        Manager *m = s->manager;
        Request *req = NULL;
        int r;

        r = bus_authorize(m, msg, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if (m->shutting_down)
                return sd_bus_error_set(error, UNICORN_ERROR_SHUTTING_DOWN, "The service is shutting down.");
        if (s->request && s->request->active)
                return sd_bus_error_set(error, UNICORN_ERROR_BUSY,
                                        "This session is already generating; wait for it or cancel it.");
        if (running_count_owner(m, s->owner) >= m->config.max_requests_per_caller)
                return sd_bus_error_setf(error, UNICORN_ERROR_LIMIT_EXCEEDED,
                                         "Too many running requests (limit %u per client).",
                                         m->config.max_requests_per_caller);

        r = request_new(s, msg, &req);
        if (r < 0)
                return r;
        r = request_read_input(s, req, msg, &e);
        if (r < 0) {
                request_free(req);
                if (sd_bus_error_is_set(&e))
                        return sd_bus_error_move(error, &e);
                if (r == -ENXIO || r == -EINVAL || r == -EBADMSG)
                        return sd_bus_error_set(error, UNICORN_ERROR_INVALID_ARGUMENT, "Malformed arguments.");
                return r;
        }

        /* Only the last request object is kept per session. */
        request_free(s->request);
        s->request = req;
        req->active = true;
        m->n_active_requests++;
        scheduler_submit(m->scheduler, req);
        manager_emit_changed(m, "ActiveRequests");
        log_debug("%s: %s started %s.", s->path, sd_bus_message_get_member(msg), req->path);
        return sd_bus_reply_method_return(msg, "o", req->path);
}

static int method_reset(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        static const char *const changed[] = { "MessageCount", "ContextUsed", NULL };
        Session *s = userdata;
        int r = bus_authorize(s->manager, msg, error);

        if (r <= 0)
                return r < 0 ? r : 1;
        if (s->request && s->request->active)
                return sd_bus_error_set(error, UNICORN_ERROR_BUSY, "This session is generating; cancel it first.");
        conversation_clear(s);
        /* The engine thread clears the cache before the next request (Session.clear_cache). */
        atomic_store(&s->clear_cache, true);
        scheduler_lock(s->manager->scheduler);
        s->context_used = 0;
        scheduler_unlock(s->manager->scheduler);
        (void) bus_emit_invalidated_unicast(s->manager->bus, s->owner, s->path, UNICORN_SESSION_IFACE, changed);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_close(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Session *s = userdata;
        int r = bus_authorize(s->manager, msg, error);

        if (r <= 0)
                return r < 0 ? r : 1;
        r = sd_bus_reply_method_return(msg, NULL);
        session_close(s);
        return r;
}

static int method_get_messages(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Session *s = userdata;
        int r = bus_authorize(s->manager, msg, error);

        if (r <= 0)
                return r < 0 ? r : 1;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ss)");
        for (size_t i = 0; r >= 0 && i < s->n_messages; i++)
                r = sd_bus_message_append(reply, "(ss)", s->messages[i].role, s->messages[i].content);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Session *s = userdata;

        if (streq(property, "Model"))
                return sd_bus_message_append(reply, "s", s->lm->name);
        if (streq(property, "ContextLength"))
                return sd_bus_message_append(reply, "u", s->n_ctx);
        if (streq(property, "ContextUsed")) {
                /* Unknown (UINT32_MAX) while generating; else what the engine thread left. */
                uint32_t n = UINT32_MAX;
                if (!(s->request && s->request->active)) {
                        scheduler_lock(s->manager->scheduler);
                        n = s->context_used;
                        scheduler_unlock(s->manager->scheduler);
                }
                return sd_bus_message_append(reply, "u", n);
        }
        if (streq(property, "MessageCount"))
                return sd_bus_message_append(reply, "u", (uint32_t) s->n_messages);
        if (streq(property, "Busy"))
                return sd_bus_message_append(reply, "b", s->request && s->request->active);
        if (streq(property, "LastRequest"))
                return sd_bus_message_append(reply, "o", s->request ? s->request->path : "/");
        return -ENOENT;
}

const sd_bus_vtable session_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Model", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ContextLength", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ContextUsed", "u", property_get, 0, 0),
        SD_BUS_PROPERTY("MessageCount", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_PROPERTY("Busy", "b", property_get, 0, 0),
        SD_BUS_PROPERTY("LastRequest", "o", property_get, 0, 0),
        SD_BUS_METHOD_WITH_ARGS("Chat", SD_BUS_ARGS("aa{sv}", messages, "a{sv}", params, "h", pipe),
                                SD_BUS_RESULT("o", request), method_generate, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Complete", SD_BUS_ARGS("s", prompt, "a{sv}", params, "h", pipe),
                                SD_BUS_RESULT("o", request), method_generate, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reset", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_reset, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Close", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_close, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetMessages", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ss)", messages),
                                method_get_messages, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int session_add_bus_objects(Manager *m) {
        int r = sd_bus_add_fallback_vtable(m->bus, NULL, UNICORN_SESSION_PREFIX, UNICORN_SESSION_IFACE,
                                           session_vtable, session_find, m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(m->bus, NULL, UNICORN_SESSION_PREFIX, session_enumerate, m);
}

int session_new(Manager *m, LoadedModel *lm, sd_bus_message *msg, uint32_t n_ctx, Session **ret,
                sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        char err[ERROR_MAX] = "";
        Session *s;
        int r;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->manager = m;
        s->lm = lm;
        s->id = ++m->next_session_id;
        s->owner = strdup(sd_bus_message_get_sender(msg));
        if (!s->owner || asprintf(&s->path, UNICORN_SESSION_PREFIX "/_%llu", (unsigned long long) s->id) < 0) {
                s->path = NULL;
                r = -ENOMEM;
                goto fail;
        }
        if (sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds) >= 0)
                (void) sd_bus_creds_get_euid(creds, &s->uid);

        s->seq = -1;
        r = pool_acquire(lm, n_ctx, m->config.default_context_length, m->config.parallel_sessions, &s->pool, &s->seq,
                         err, sizeof err);
        if (r < 0) {
                log_warning_errno(r, "Failed to create a context for %s: %s", lm->name, err);
                r = sd_bus_error_setf(error, UNICORN_ERROR_LOAD_FAILED, "Cannot create a session: %s",
                                      err[0] ? err : strerror(-r));
                goto fail;
        }
        s->n_ctx = context_n_ctx(s->pool->context);
        /* The slot may hold the cache of a session that closed. */
        atomic_store(&s->clear_cache, true);

        r = sd_bus_track_new(m->bus, &s->track, track_handler, s);
        if (r >= 0)
                r = sd_bus_track_add_sender(s->track, msg);
        if (r < 0)
                goto fail;

        lm->n_sessions++;
        s->next = m->sessions;
        m->sessions = s;
        m->n_sessions++;
        manager_emit_changed(m, "Sessions");
        log_debug("Opened %s on %s for %s (uid %u).", s->path, lm->name, s->owner, (unsigned) s->uid);
        *ret = s;
        return 0;
fail:
        s->lm = NULL;
        pool_release(s->pool, s->seq);
        sd_bus_track_unref(s->track);
        free(s->owner);
        free(s->path);
        free(s);
        return r;
}
