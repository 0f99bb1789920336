/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * unicornd's objects and how they refer to each other.
 *
 *   Manager      /org/unicorn/Engine1: the store, resident models, sessions.
 *   LoadedModel  a resident Model (one copy of the weights shared by every
 *                session of every user); loaded on a thread of its own.
 *   Pool         a Context with ParallelSessions= sequence slots over a
 *                LoadedModel, shared by sessions so that their requests
 *                run in one forward step.
 *   Session      /org/unicorn/Engine1/session/_N: a private sequence of a
 *                Pool (its KV cache) and the conversation, owned by one
 *                unique bus name.
 *   Request      /org/unicorn/Engine1/request/_N: one Chat/Complete call,
 *                run by the scheduler's engine thread, streaming into the
 *                caller's pipe.
 *   Job          /org/unicorn/Engine1/job/_N: a model import, on a thread.
 *
 * Threads: sd-bus is not thread-safe, so only the main (sd-event) thread
 * touches the bus and these lists. Worker threads (engine, loaders,
 * importers) post "something finished" by writing Manager.notify_fd; the
 * main thread then looks at the objects' done flags (manager_process_notify).
 */

#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "engine.h"

typedef struct Manager Manager;
typedef struct LoadedModel LoadedModel;
typedef struct LoadWaiter LoadWaiter;
typedef struct Pool Pool;
typedef struct Session Session;
typedef struct Request Request;
typedef struct Job Job;
typedef struct Scheduler Scheduler;
typedef struct PolkitQuery PolkitQuery;

#define MODEL_NAME_MAX 128
#define MAX_MESSAGES_PER_CALL 1024u
#define MAX_MESSAGES_PER_SESSION 4096u
#define MAX_JOBS 8u
#define ERROR_MAX 512

/* Called on the main thread when a model finished loading (r < 0: failed,
 * error says why). */
typedef void (*load_callback_t)(Manager *m, LoadedModel *lm, sd_bus_message *msg, uint32_t arg,
                                int r, const char *error);

struct LoadWaiter {
        LoadWaiter *next;
        sd_bus_message *message;
        load_callback_t callback;
        uint32_t arg;
};

struct LoadedModel {
        Manager *manager;
        LoadedModel *next;
        char *name;
        Model *model;         /* NULL while loading */
        bool loading;
        pthread_t thread;
        atomic_bool load_done; /* set by the loader thread */
        int load_result;
        char load_error[ERROR_MAX];
        Model *loaded;        /* what the loader thread produced */
        struct HwGttAllocator *gtt; /* GTT weight allocator the loader thread uses (hw-gtt.h), or NULL */
        LoadWaiter *waiters;
        unsigned n_sessions;
        Pool *pools;
        /* Its GPU was lost (manager_model_lost): off the list of loaded models, its sessions closing,
         * freed with the last of them; the name loads anew on next use. */
        bool lost;
};

struct Pool {
        LoadedModel *lm;
        Pool *next;           /* on lm->pools */
        Context *context;     /* n_slots sequences of n_ctx tokens; stepped by the engine thread */
        uint32_t n_ctx, n_slots, n_used;
        bool *used;           /* [n_slots] */
        bool keep;            /* kept when its last session leaves: slots of at most DefaultContextLength= */
};

struct Session {
        Manager *manager;
        Session *next;
        uint64_t id;
        char *path;
        char *owner;          /* unique bus name */
        uid_t uid;
        sd_bus_track *track;
        LoadedModel *lm;
        Pool *pool;           /* its Context is the engine thread's alone (below) */
        int32_t seq;          /* this session's sequence of it */
        uint32_t n_ctx;
        /* The main thread never touches the Context, which the engine thread
         * may be stepping for other sessions of the pool: it asks for the
         * cache to be cleared (a new slot, Reset) before the next request,
         * and reads ContextUsed from the engine thread's copy (under
         * Scheduler.lock). */
        atomic_bool clear_cache;
        uint32_t context_used;
        struct chat_message *messages; /* the conversation; strings owned */
        size_t n_messages;
        size_t conversation_bytes;
        Request *request;     /* the running or the last finished request */
        bool closing;         /* gone from the bus, freed once idle */
};

enum request_state {
        REQUEST_QUEUED,
        REQUEST_RUNNING,
        REQUEST_DONE,
        REQUEST_FAILED,
};

struct Request {
        Manager *manager;
        Session *session;
        uint64_t id;
        char *path;
        char *owner;
        bool chat;

        /* Input, immutable once submitted. For a chat, messages[] is the
         * whole conversation: the session's (borrowed) then n_new owned
         * messages that are committed to the session when it finishes. */
        struct chat_message *messages;
        size_t n_messages, n_new;
        char *prompt;
        struct gen_params params;
        char **stops;
        int fd;

        /* Shared with the engine thread, under Scheduler.lock. */
        atomic_bool cancel;
        enum request_state state;
        uint32_t tokens_generated;
        struct gen_timings timings;
        enum finish_reason finish;
        char *error;
        int error_code;       /* with error: the engine's negative errno */
        bool finished;        /* the engine thread is done with it */
        bool active;          /* counted in Manager.n_active_requests */
        uint64_t submit_usec, start_usec, first_token_usec, end_usec;

        /* Engine thread only. */
        Request *wnext;
        uint64_t group_serial; /* the last step of several requests it was in */
        Generation *generation;
        int wstate;
        char *out;
        size_t out_len, out_off, out_cap;
        char *reply;
        size_t reply_len, reply_cap;
        bool pipe_broken;
};

struct Job {
        Manager *manager;
        Job *next;
        uint64_t id;
        char *path;
        char *owner;
        char *name;           /* model name it creates */
        bool replace;
        int src_fd;
        uint64_t size;
        pthread_t thread;
        bool thread_running;
        atomic_uint_least64_t bytes_done;
        atomic_bool cancel;
        atomic_bool done;
        int result;
        char error[ERROR_MAX];
        const char *state;    /* "running", "done", "failed", "cancelled" */
        double last_progress;
        sd_event_source *progress_timer, *expire_timer;
};

struct Manager {
        sd_event *event;
        sd_bus *bus;
        struct config config;
        int store_fd;

        LoadedModel *models;
        Session *sessions;
        Job *jobs;
        uint64_t next_session_id, next_request_id, next_job_id;
        unsigned n_sessions, n_active_requests, n_jobs;

        Scheduler *scheduler;
        PolkitQuery *polkit_queries;

        int notify_fd;        /* eventfd: worker threads → main thread */
        sd_event_source *notify_source;

        bool shutting_down;
        sd_event_source *exit_timer;
};

/* main.c / manager.c */
int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
int manager_start(Manager *m, const char *bus_address, bool user_bus);
void manager_notify(Manager *m);         /* any thread */
void manager_check_exit(Manager *m);
void manager_shutdown(Manager *m);
void manager_request_finished(Manager *m, Request *r);
LoadedModel *manager_find_loaded(Manager *m, const char *name);
/* Frees lm if its GPU was lost and its last session is gone (session_free). */
void manager_lost_model_release(LoadedModel *lm);
int manager_load_model(Manager *m, const char *name, sd_bus_message *msg, load_callback_t cb,
                       uint32_t arg, sd_bus_error *error);
void manager_emit_changed(Manager *m, const char *property);
extern const sd_bus_vtable manager_vtable[];

/* polkit.c: 1 authorized, 0 pending (return 1 from the handler), < 0 denied/error */
int bus_authorize(Manager *m, sd_bus_message *msg, sd_bus_error *error);
void polkit_queries_free(Manager *m);

/* session.c */
int session_new(Manager *m, LoadedModel *lm, sd_bus_message *msg, uint32_t n_ctx, Session **ret,
                sd_bus_error *error);
void session_close(Session *s);
Session *session_free(Session *s);
void session_request_finished(Session *s, Request *r);
int session_add_bus_objects(Manager *m);
unsigned sessions_count_owner(Manager *m, const char *owner);
extern const sd_bus_vtable session_vtable[];

/* pool.c: the shortest free slot of at least n_ctx tokens in a pool of lm
 * (a new pool of n_slots slots of max(n_ctx, min_ctx) tokens when none has
 * one; alone, n_slots 1, exactly n_ctx, unless the kept one holds it); -errno with err filled when the
 * Context cannot be made. pool_release keeps the pool its last slot left
 * for the next session where its slots hold at most min_ctx tokens (one
 * such a model); pool_free_all frees a model's pools, when it goes. */
int pool_acquire(LoadedModel *lm, uint32_t n_ctx, uint32_t min_ctx, uint32_t n_slots, Pool **ret, int32_t *ret_seq,
                 char *err, size_t errsz);
void pool_release(Pool *p, int32_t seq);
void pool_free_all(LoadedModel *lm);

/* request.c */
int request_new(Session *s, sd_bus_message *msg, Request **ret);
Request *request_free(Request *r);
void request_cancel(Request *r);
void request_finished(Request *r);      /* main thread, after the engine thread let go */
int request_add_bus_objects(Manager *m);
int request_parse_params(sd_bus_message *msg, Request *r, uint32_t n_ctx, sd_bus_error *error);
int request_read_input(Session *s, Request *req, sd_bus_message *msg, sd_bus_error *error);
const char *request_state_name(enum request_state s);
extern const sd_bus_vtable request_vtable[];

/* scheduler.c */
int scheduler_new(Manager *m, Scheduler **ret);
Scheduler *scheduler_free(Scheduler *s);
void scheduler_submit(Scheduler *s, Request *r);
void scheduler_wake(Scheduler *s);
void scheduler_lock(Scheduler *s);
void scheduler_unlock(Scheduler *s);
/* Hands back requests the engine thread finished with (main thread). */
Request *scheduler_take_finished(Scheduler *s);

/* job.c */
int job_new_import(Manager *m, sd_bus_message *msg, int fd, const char *name, bool replace,
                   Job **ret, sd_bus_error *error);
Job *job_free(Job *j);
void job_process(Job *j);               /* main thread, on notify */
int job_add_bus_objects(Manager *m);
extern const sd_bus_vtable job_vtable[];

/* store.c */
bool model_name_is_valid(const char *name);
int store_open(const char *dir, int *ret_fd);
int store_cleanup(int store_fd);
int store_model_exists(int store_fd, const char *name);
int store_open_model(int store_fd, const char *name);
int store_list(int store_fd, char ***ret_names, uint64_t **ret_sizes, size_t *ret_n);
int store_remove(int store_fd, const char *name);
/* Copies src into the store under name (thread-safe, no bus): size-capped,
 * checked with model_check_fd, linked in atomically. */
int store_import(int store_fd, int src_fd, const char *name, bool replace, uint64_t max_bytes,
                 atomic_uint_least64_t *progress, atomic_bool *cancel, char *error, size_t error_size);

/* introspect.c */
int introspect_print(FILE *f);

/* Who is calling: the sender's unique name (borrowed from msg). */
static inline const char *bus_sender(sd_bus_message *msg) {
        return msg ? sd_bus_message_get_sender(msg) : NULL;
}
uint64_t now_usec(void);
