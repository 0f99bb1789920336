/* SPDX-License-Identifier: MIT */
/*
 * The engine thread. It owns every Generation and runs one forward step at
 * a time for the active requests in turn (a fair round-robin queue: a long
 * answer cannot starve a short one), writing each step's text into the
 * request's pipe as NDJSON. The request whose turn it is takes along every
 * other running request of its Pool whose reader has caught up: one
 * generation_step_many() steps them all, in one forward pass.
 *
 * Pipes are non-blocking. A request whose reader is behind keeps its output
 * in a buffer and is not stepped until the pipe drains, so a slow client
 * slows only itself; when nothing can run, the thread sleeps in poll() on
 * the blocked pipes and its wake eventfd. A closed pipe (EPIPE) cancels.
 *
 * Nothing here touches the bus: finished requests go on a list the main
 * thread collects after Manager.notify_fd fires.
 */
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "bus-util.h"
#include "log.h"
#include "unicornd.h"

enum {
        W_SETUP,      /* tokenize, generation_new */
        W_RUN,        /* stepping */
        W_FINAL,      /* final record queued; flushing it */
        W_DONE,
};

struct Scheduler {
        Manager *manager;
        pthread_t thread;
        bool thread_started;
        pthread_mutex_t lock;
        int wake_fd;
        bool quit;
        Request *active;      /* round-robin list, guarded by lock */
        Request *finished;    /* handed back to the main thread */
        Request *cursor;      /* who is next, engine thread only */
        uint64_t group_serial; /* steps of several requests so far, engine thread only */
        uint64_t last_group;   /* the last work's step of several requests, else 0 (engine thread) */
};

uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

void scheduler_lock(Scheduler *s) {
        pthread_mutex_lock(&s->lock);
}

void scheduler_unlock(Scheduler *s) {
        pthread_mutex_unlock(&s->lock);
}

void scheduler_wake(Scheduler *s) {
        uint64_t one = 1;
        (void) !write(s->wake_fd, &one, sizeof one);
}

void scheduler_submit(Scheduler *s, Request *r) {
        Request **p;

        r->wstate = W_SETUP;
        r->submit_usec = now_usec();
        scheduler_lock(s);
        /* Append: first come, first served for the first step. */
        for (p = &s->active; *p; p = &(*p)->wnext)
                ;
        r->wnext = NULL;
        *p = r;
        scheduler_unlock(s);
        scheduler_wake(s);
}

Request *scheduler_take_finished(Scheduler *s) {
        Request *l;

        scheduler_lock(s);
        l = s->finished;
        s->finished = NULL;
        scheduler_unlock(s);
        return l;
}

/* --- output ------------------------------------------------------------ */

static int out_reserve(Request *r, size_t more) {
        size_t need;

        /* Drop what was already written before growing. */
        if (r->out_off > 0) {
                memmove(r->out, r->out + r->out_off, r->out_len - r->out_off);
                r->out_len -= r->out_off;
                r->out_off = 0;
        }
        if (ADD_OVERFLOW(r->out_len, more, &need))
                return -ENOMEM;
        if (need <= r->out_cap)
                return 0;
        size_t nc = MAX(need, r->out_cap * 2);
        nc = MAX(nc, (size_t) 4096);
        char *n = realloc(r->out, nc);
        if (!n)
                return -ENOMEM;
        r->out = n;
        r->out_cap = nc;
        return 0;
}

static int out_append(Request *r, const char *s, size_t n) {
        int q = out_reserve(r, n);
        if (q < 0)
                return q;
        memcpy(r->out + r->out_len, s, n);
        r->out_len += n;
        return 0;
}

static int out_puts(Request *r, const char *s) {
        return out_append(r, s, strlen(s));
}

/* JSON string escaping (RFC 8259): quotes, backslash, control characters;
 * the engine only hands out complete UTF-8, which passes through. */
static int out_json_string(Request *r, const char *s) {
        int q = out_puts(r, "\"");
        for (const unsigned char *p = (const unsigned char *) s; q >= 0 && *p; p++) {
                char esc[8];
                switch (*p) {
                case '"': q = out_puts(r, "\\\""); break;
                case '\\': q = out_puts(r, "\\\\"); break;
                case '\n': q = out_puts(r, "\\n"); break;
                case '\r': q = out_puts(r, "\\r"); break;
                case '\t': q = out_puts(r, "\\t"); break;
                case '\b': q = out_puts(r, "\\b"); break;
                case '\f': q = out_puts(r, "\\f"); break;
                default:
                        if (*p < 0x20 || *p == 0x7f) {
                                snprintf(esc, sizeof esc, "\\u%04x", *p);
                                q = out_puts(r, esc);
                        } else
                                q = out_append(r, (const char *) p, 1);
                }
        }
        return q < 0 ? q : out_puts(r, "\"");
}

static double ms(uint64_t us) {
        return (double) us / 1000.0;
}

static int out_done_record(Request *r) {
        const struct gen_timings *t = &r->timings;
        char buf[512];
        double tps = t->generate_us > 0 ? (double) t->n_generated * 1e6 / (double) t->generate_us : 0.0;
        int q;

        q = out_puts(r, "{\"type\":\"done\",\"finish_reason\":");
        if (q >= 0)
                q = out_json_string(r, finish_reason_name(r->finish));
        snprintf(buf, sizeof buf,
                 ",\"prompt_tokens\":%u,\"cached_tokens\":%u,\"generated_tokens\":%u,"
                 "\"prompt_ms\":%.3f,\"generate_ms\":%.3f,\"ttft_ms\":%.3f,\"tokens_per_second\":%.3f,"
                 "\"max_batch_sequences\":%u}\n",
                 t->n_prompt + t->n_prompt_cached, t->n_prompt_cached, t->n_generated, ms(t->prompt_us),
                 ms(t->generate_us),
                 r->first_token_usec ? ms(r->first_token_usec - r->submit_usec) : 0.0,
                 isfinite(tps) ? tps : 0.0, t->max_batch_seqs);
        return q < 0 ? q : out_puts(r, buf);
}

static int out_error_record(Request *r, const char *message) {
        int q = out_puts(r, "{\"type\":\"error\",\"message\":");
        if (q >= 0)
                q = out_json_string(r, message);
        return q < 0 ? q : out_puts(r, "}\n");
}

/* 1: all written, 0: would block, < 0: the reader is gone. */
static int out_flush(Request *r) {
        while (r->out_off < r->out_len) {
                ssize_t n = write(r->fd, r->out + r->out_off, r->out_len - r->out_off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        return -errno;
                }
                r->out_off += (size_t) n;
        }
        r->out_off = r->out_len = 0;
        return 1;
}

/* --- steps ------------------------------------------------------------- */

static void finish(Scheduler *s, Request *r, enum request_state state) {
        Session *se = r->session;
        int32_t used = context_seq_len(se->pool->context, se->seq);
        Request **p;

        r->generation = generation_free(r->generation);
        r->wstate = W_DONE;
        r->end_usec = now_usec();
        scheduler_lock(s);
        /* Unless a clear is pending: then the cache is as good as empty. */
        se->context_used = atomic_load(&se->clear_cache) ? 0 : (uint32_t) MAX(used, 0);
        r->state = state;
        r->finished = true;
        for (p = &s->active; *p; p = &(*p)->wnext)
                if (*p == r) {
                        *p = r->wnext;
                        break;
                }
        if (s->cursor == r)
                s->cursor = r->wnext;
        r->wnext = s->finished;
        s->finished = r;
        scheduler_unlock(s);
        manager_notify(s->manager);
}

static void fail(Scheduler *s, Request *r, int error, const char *message) {
        scheduler_lock(s);
        free(r->error);
        r->error = strdup(message);
        r->error_code = error;
        scheduler_unlock(s);
        log_debug_errno(error, "Request %llu failed: %s", (unsigned long long) r->id, message);
        r->out_off = r->out_len = 0;
        if (out_error_record(r, message) < 0)
                r->pipe_broken = true;
        r->wstate = W_FINAL;
}

static void setup(Scheduler *s, Request *r) {
        char err[ERROR_MAX] = "";
        _cleanup_free_ int32_t *ids = NULL;
        size_t n_ids = 0;
        Session *se = r->session;
        Context *ctx = se->pool->context;
        Model *model = context_model(ctx);
        int q;

        scheduler_lock(s);
        r->state = REQUEST_RUNNING;
        scheduler_unlock(s);
        r->start_usec = now_usec();

        if (r->chat)
                q = model_tokenize_chat(model, r->messages, r->n_messages, &ids, &n_ids, err, sizeof err);
        else
                q = model_tokenize_text(model, r->prompt, &ids, &n_ids, err, sizeof err);
        if (q < 0)
                return fail(s, r, q, err[0] ? err : "The prompt could not be tokenized.");

        /* A new slot, or a Reset: nothing of what the sequence held may be reused. */
        if (atomic_exchange(&se->clear_cache, false))
                context_seq_truncate(ctx, se->seq, 0);
        q = generation_new(ctx, se->seq, ids, n_ids, &r->params, &r->generation, err, sizeof err);
        if (q == -E2BIG) {
                char msg[ERROR_MAX + 64];
                snprintf(msg, sizeof msg, "The prompt (%zu tokens) does not fit the session's context (%u tokens).",
                         n_ids, context_n_ctx(ctx));
                return fail(s, r, q, msg);
        }
        if (q < 0)
                return fail(s, r, q, err[0] ? err : "Generation could not start.");
        r->wstate = W_RUN;
}

static int reply_append(Request *r, const char *text, size_t n) {
        size_t need;

        /* Only chats keep the reply (it becomes the assistant's turn). */
        if (!r->chat)
                return 0;
        if (ADD_OVERFLOW(r->reply_len, n + 1, &need))
                return -ENOMEM;
        if (need > r->reply_cap) {
                size_t nc = MAX(need, r->reply_cap * 2);
                char *p = realloc(r->reply, MAX(nc, (size_t) 256));
                if (!p)
                        return -ENOMEM;
                r->reply = p;
                r->reply_cap = MAX(nc, (size_t) 256);
        }
        memcpy(r->reply + r->reply_len, text, n);
        r->reply_len += n;
        r->reply[r->reply_len] = '\0';
        return 0;
}

/* What one forward step left for r: its text and how it ended, or the step's error q. */
static void step_done(Scheduler *s, Request *r, int q, const char *text, enum finish_reason fr) {
        if (q == -ENODEV) {
                /* The GPU was reset or went away (the Vulkan device is lost): every step of this model
                 * fails from now on, while loading it again gets a new device (vk_device_acquire). The
                 * main thread sees the code and drops the model with its sessions (manager_model_lost). */
                return fail(s, r, q,
                            "The GPU was lost (reset or removed). This session is closed; open a new one, and "
                            "the model is loaded again.");
        }
        if (q < 0)
                return fail(s, r, q, "Generation failed in the engine.");

        const struct gen_timings *t = generation_timings(r->generation);
        scheduler_lock(s);
        r->timings = *t;
        r->tokens_generated = t->n_generated;
        scheduler_unlock(s);

        /* first_token_usec is read by the Request's property getter on the
         * main thread, under the lock: write it under the lock too. */
        if (!r->first_token_usec && ((text && text[0]) || t->n_generated > 0)) {
                uint64_t now = now_usec();
                scheduler_lock(s);
                r->first_token_usec = now;
                scheduler_unlock(s);
        }
        if (text && text[0]) {
                if (out_puts(r, "{\"type\":\"delta\",\"text\":") < 0 || out_json_string(r, text) < 0 ||
                    out_puts(r, "}\n") < 0 || reply_append(r, text, strlen(text)) < 0)
                        return fail(s, r, -ENOMEM, "Out of memory.");
        }

        if (fr != FINISH_NONE) {
                scheduler_lock(s);
                r->finish = fr;
                scheduler_unlock(s);
                if (out_done_record(r) < 0)
                        return fail(s, r, -ENOMEM, "Out of memory.");
                r->wstate = W_FINAL;
        }
}

/* r, then the other running requests of its Pool that can step with it:
 * those whose reader has taken all their output, the last step's included
 * (flushed here: the pipes do not block). None runs ahead of its reader;
 * one that is behind waits for its own turn. */
static size_t gather(Scheduler *s, Request *r, Request **group) {
        size_t n = 0;

        group[n++] = r;
        if (r->session->pool->n_slots == 1)
                return n;
        scheduler_lock(s);
        for (Request *o = s->active; o && n < ENGINE_MAX_SEQ; o = o->wnext) {
                if (o == r || o->wstate != W_RUN || o->session->pool != r->session->pool || o->pipe_broken)
                        continue;
                if (o->out_len > 0) {
                        int q = out_flush(o);
                        if (q < 0)
                                o->pipe_broken = true; /* its own turn ends it */
                        if (q <= 0)
                                continue;
                }
                group[n++] = o;
        }
        scheduler_unlock(s);
        return n;
}

static void step(Scheduler *s, Request *r) {
        Request *group[ENGINE_MAX_SEQ];
        Generation *gens[ENGINE_MAX_SEQ];
        char *text[ENGINE_MAX_SEQ];
        enum finish_reason fr[ENGINE_MAX_SEQ];
        size_t n = gather(s, r, group);
        int q;

        for (size_t i = 0; i < n; i++) {
                if (atomic_load(&group[i]->cancel))
                        generation_cancel(group[i]->generation);
                gens[i] = group[i]->generation;
        }
        if (n > 1) {
                s->last_group = ++s->group_serial;
                for (size_t i = 0; i < n; i++)
                        group[i]->group_serial = s->last_group;
        }
        /* On failure the step's error is every one's: they shared the forward pass. */
        q = generation_step_many(gens, n, text, fr);
        for (size_t i = 0; i < n; i++) {
                step_done(s, group[i], q, q < 0 ? NULL : text[i], q < 0 ? FINISH_NONE : fr[i]);
                if (q >= 0)
                        free(text[i]);
        }
}

/* One unit of work for r. Returns true if it did something, false if it is
 * waiting for its reader. */
static bool work(Scheduler *s, Request *r) {
        int q;

        /* Output first: a request does not run ahead of its reader. */
        if (r->out_len > 0 && !r->pipe_broken) {
                q = out_flush(r);
                if (q < 0)
                        r->pipe_broken = true;
                else if (q == 0) {
                        /* A cancelled request gets no more patience. */
                        if (!atomic_load(&r->cancel))
                                return false;
                        r->out_off = r->out_len = 0;
                        if (r->wstate == W_FINAL) {
                                finish(s, r, r->error ? REQUEST_FAILED : REQUEST_DONE);
                                return true;
                        }
                }
        }
        if (r->pipe_broken) {
                /* The reader left: that is a cancellation. */
                atomic_store(&r->cancel, true);
                r->out_off = r->out_len = 0;
                if (r->wstate == W_RUN) {
                        generation_cancel(r->generation);
                        scheduler_lock(s);
                        r->finish = FINISH_CANCELLED;
                        scheduler_unlock(s);
                }
                finish(s, r, r->error ? REQUEST_FAILED : REQUEST_DONE);
                return true;
        }

        switch (r->wstate) {
        case W_SETUP:
                if (atomic_load(&r->cancel)) {
                        scheduler_lock(s);
                        r->finish = FINISH_CANCELLED;
                        scheduler_unlock(s);
                        if (out_done_record(r) < 0)
                                r->pipe_broken = true;
                        r->wstate = W_FINAL;
                        return true;
                }
                setup(s, r);
                return true;
        case W_RUN:
                step(s, r);
                return true;
        case W_FINAL:
                /* Everything is written (out_len == 0 here). */
                finish(s, r, r->error ? REQUEST_FAILED : REQUEST_DONE);
                return true;
        }
        return true;
}

static void wait_for_work(Scheduler *s) {
        struct pollfd pfd[1 + 256];
        size_t n = 0;

        pfd[n++] = (struct pollfd) { .fd = s->wake_fd, .events = POLLIN };
        scheduler_lock(s);
        for (Request *r = s->active; r && n < ELEMENTSOF(pfd); r = r->wnext)
                if (r->out_len > 0)
                        pfd[n++] = (struct pollfd) { .fd = r->fd, .events = POLLOUT };
        scheduler_unlock(s);

        if (poll(pfd, n, -1) > 0 && (pfd[0].revents & POLLIN)) {
                uint64_t v;
                (void) !read(s->wake_fd, &v, sizeof v);
        }
}

/* Who is served after a step, under the lock: next, or past it while it
 * was in that step's group. A pool's step is one turn however many
 * requests it carried, so requests of other models and pools get their
 * share of the steps (and the same count of tokens per round). */
static Request *past_group(Scheduler *s, Request *next) {
        for (unsigned i = 0; next && s->last_group > 0 && next->group_serial == s->last_group && i < ENGINE_MAX_SEQ;
             i++)
                next = next->wnext ? next->wnext : s->active;
        return next;
}

static void *engine_thread(void *userdata) {
        Scheduler *s = userdata;

        for (;;) {
                bool did = false;
                Request *start, *r;

                scheduler_lock(s);
                if (s->quit) {
                        scheduler_unlock(s);
                        break;
                }
                /* Round robin: start after the last one served. */
                start = s->cursor && !s->cursor->finished ? s->cursor : s->active;
                scheduler_unlock(s);

                r = start;
                while (r) {
                        Request *next;

                        scheduler_lock(s);
                        next = r->wnext ? r->wnext : (s->active != start ? s->active : NULL);
                        scheduler_unlock(s);

                        s->last_group = 0;
                        if (work(s, r)) {
                                did = true;
                                scheduler_lock(s);
                                s->cursor = past_group(s, next);
                                scheduler_unlock(s);
                                break;
                        }
                        if (next == start)
                                break;
                        r = next;
                }
                if (!did)
                        wait_for_work(s);
        }
        return NULL;
}

int scheduler_new(Manager *m, Scheduler **ret) {
        Scheduler *s = calloc(1, sizeof *s);
        int r;

        if (!s)
                return -ENOMEM;
        s->manager = m;
        pthread_mutex_init(&s->lock, NULL);
        s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s->wake_fd < 0) {
                r = -errno;
                free(s);
                return r;
        }
        r = -pthread_create(&s->thread, NULL, engine_thread, s);
        if (r < 0) {
                close(s->wake_fd);
                free(s);
                return r;
        }
        s->thread_started = true;
        *ret = s;
        return 0;
}

Scheduler *scheduler_free(Scheduler *s) {
        if (!s)
                return NULL;
        if (s->thread_started) {
                scheduler_lock(s);
                s->quit = true;
                scheduler_unlock(s);
                scheduler_wake(s);
                pthread_join(s->thread, NULL);
        }
        /* Requests still listed were cancelled and are freed by their
         * sessions; the engine state they hold goes here. */
        for (Request *r = s->active; r; r = r->wnext)
                r->generation = generation_free(r->generation);
        close(s->wake_fd);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
}
