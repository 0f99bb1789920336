/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * unicorn-http: the OpenAI- and Ollama-compatible HTTP adapter. A separate,
 * unprivileged process and an ordinary client of org.unicorn.Engine1; it
 * never links the engine and holds no model.
 *
 *   main.c      options, the listening socket (or the one systemd passes),
 *               the libmicrohttpd daemon, signals
 *   server.c    HttpRequest: routing, body, auth, Host/Origin/CORS checks,
 *               limits, replies (JSON, errors, streams)
 *   upstream.c  Gen: one generation on the bus (connection, session,
 *               request, pipe), read record by record
 *   openai.c    /v1/… handlers
 *   ollama.c    /api/… handlers
 *   params.c    typed reading of request JSON into generation parameters
 *   metrics.c   Prometheus counters and histograms
 *
 * Threads: libmicrohttpd runs one thread per connection, so a handler may
 * block on the bus and on the daemon's pipe. Every HTTP request that
 * generates gets its own bus connection (and so its own session); nothing
 * bus-related is shared between threads. What is shared (limits, metrics)
 * sits behind a mutex.
 */

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/macros.h"

#define HTTP_VERSION_STRING "0.1.0"
/* The Ollama API level whose shapes this adapter follows (GET /api/version):
 * clients gate features on it. */
#define OLLAMA_API_VERSION "0.6.0"

#define MAX_STOPS 16
#define MAX_STOP_LEN 256
#define MAX_MESSAGES 1024
#define TOKEN_MAX_LEN 256
#define MAX_TOKENS_IN_FILE 64

typedef struct Config {
        const char *bus_address;      /* NULL: the system bus */
        size_t max_body;              /* bytes of a request body */
        size_t max_header;            /* bytes of the request line + headers */
        unsigned max_generations;     /* running generations, all clients */
        unsigned max_per_client;      /* running generations per client */
        unsigned max_connections;     /* open HTTP connections */
        unsigned idle_timeout;        /* seconds an idle connection is kept */
        char **tokens;                /* bearer tokens, NULL: no auth */
        size_t n_tokens;
        const char *cors_origin;      /* NULL: CORS off */
        bool loopback;                /* listening on loopback only */
        bool verbose;
        int shutdown_fd;              /* eventfd, readable once we stop */
} Config;

extern Config config;

typedef enum Api {
        API_OPS,
        API_OPENAI,
        API_OLLAMA,
} Api;

/* An error as both APIs report it. */
typedef struct ApiError {
        unsigned status;
        const char *type;             /* OpenAI error type */
        const char *code;             /* OpenAI error code or NULL */
        /* The offending parameter ("" for none), copied: callers pass names
         * they built in a stack buffer ("options.stop"), which are gone by
         * the time the reply is written. */
        char param[96];
        char message[512];
} ApiError;

_printf_(5, 6) int api_error(ApiError *e, unsigned status, const char *code, const char *param, const char *fmt,
                             ...);
#define bad_request(e, param, ...) api_error((e), 400, NULL, (param), __VA_ARGS__)

typedef struct HttpRequest HttpRequest;

/* What a handler sees of the HTTP request. */
struct HttpRequest {
        struct MHD_Connection *connection;
        const char *method;
        const char *url;
        Api api;
        int endpoint;                 /* index into the route table, for metrics */
        char *body;
        size_t body_len;
        bool body_too_large;
        uint64_t start_usec;
        char client[128];             /* whom the per-client limit counts */
        bool replied;
};

/* Replies; each returns an MHD_Result. They take ownership of nothing. */
enum MHD_Result reply_json(HttpRequest *req, unsigned status, json_t *body);
enum MHD_Result reply_text(HttpRequest *req, unsigned status, const char *content_type, const char *text);
enum MHD_Result reply_error(HttpRequest *req, const ApiError *e);

/* A streamed reply: fill() is called whenever the previous output was sent;
 * it appends to *out and returns > 0 for more, 0 at the end, < 0 when the
 * stream must be cut (client gone, shutdown). done() frees userdata. */
typedef int (*stream_fill_t)(void *userdata, char **out, size_t *len);
typedef void (*stream_done_t)(void *userdata);
enum MHD_Result reply_stream(HttpRequest *req, const char *content_type, stream_fill_t fill, stream_done_t done,
                             void *userdata);

/* Generation slots: the total and per-client limits. */
int slot_acquire(HttpRequest *req, ApiError *e);
void slot_release(const char *client);

/* The client connection's socket, to notice a hang-up while we wait. */
int request_client_fd(HttpRequest *req);

/* Parses the body as a JSON object (400 otherwise). */
int request_json(HttpRequest *req, json_t **ret, ApiError *e);

static inline int safe_close_fd(int fd) {
        if (fd >= 0)
                close(fd);
        return -EBADF;
}

uint64_t now_usec(void);
uint64_t realtime_nsec(void);
void format_rfc3339(uint64_t ns, char *buf, size_t n);

/* Small growing buffer for streamed output. */
_printf_(3, 4) int buf_printf(char **buf, size_t *len, const char *fmt, ...);
int buf_append(char **buf, size_t *len, const char *s, size_t n);
/* Appends json_dumps(j) + suffix; steals nothing. */
int buf_append_json(char **buf, size_t *len, const json_t *j, const char *prefix, const char *suffix);
/* The same for a freshly built value, which it releases: j NULL (the builder
 * ran out of memory) gives -ENOMEM. For streaming frames (SSE, NDJSON). */
int buf_append_json_take(char **buf, size_t *len, json_t *j, const char *prefix, const char *suffix);

_printf_(1, 2) void log_info(const char *fmt, ...);
_printf_(1, 2) void log_error(const char *fmt, ...);
_printf_(1, 2) void log_debug(const char *fmt, ...);

/* Handlers. */
enum MHD_Result openai_models(HttpRequest *req);
enum MHD_Result openai_model(HttpRequest *req);
enum MHD_Result openai_chat(HttpRequest *req);
enum MHD_Result openai_completions(HttpRequest *req);
enum MHD_Result ollama_root(HttpRequest *req);
enum MHD_Result ollama_tags(HttpRequest *req);
enum MHD_Result ollama_ps(HttpRequest *req);
enum MHD_Result ollama_version(HttpRequest *req);
enum MHD_Result ollama_show(HttpRequest *req);
enum MHD_Result ollama_chat(HttpRequest *req);
enum MHD_Result ollama_generate(HttpRequest *req);

/* server.c */
enum MHD_Result server_access(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size,
                              void **con_cls);
void server_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                      enum MHD_RequestTerminationCode toe);
const char *server_endpoint_name(int endpoint);
unsigned server_n_endpoints(void);
