/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The daemon side of a request. Gen is one generation: its own bus
 * connection (so its own session, which the daemon closes when the
 * connection goes), the request object and the read end of the pipe the
 * daemon writes NDJSON into. gen_next() returns one record at a time and
 * watches the HTTP client's socket while it waits, so a client that hangs
 * up is noticed at once, not at the next write.
 */

#include <math.h>
#include <systemd/sd-bus.h>

#include "http.h"

typedef struct GenParams {
        double temperature, top_p, min_p, repeat_penalty, presence_penalty, frequency_penalty; /* NAN: unset */
        int64_t top_k;                /* < 0: unset */
        bool has_seed;
        uint64_t seed;
        int64_t max_tokens;           /* < 0: unset */
        uint32_t context_length;      /* 0: sized from the input */
        const char *stops[MAX_STOPS]; /* borrowed */
        size_t n_stops;
} GenParams;

#define GEN_PARAMS_INIT                                                                                    \
        {                                                                                                  \
                .temperature = NAN, .top_p = NAN, .min_p = NAN, .repeat_penalty = NAN,                     \
                .presence_penalty = NAN, .frequency_penalty = NAN, .top_k = -1,                            \
                .max_tokens = -1,                                                                          \
        }

typedef struct GenMessage {
        const char *role;             /* borrowed */
        const char *content;          /* borrowed, or owned when owned_content */
        char *owned_content;
} GenMessage;

typedef struct GenInput {
        const char *model;
        bool chat;
        GenMessage *messages;
        size_t n_messages;
        const char *prompt;           /* !chat */
        GenParams params;
} GenInput;

typedef struct GenStats {
        char finish_reason[16];       /* stop, length, context, cancelled */
        uint64_t prompt_tokens, cached_tokens, generated_tokens;
        double prompt_ms, generate_ms, ttft_ms, tokens_per_second;
} GenStats;

typedef enum GenEventType {
        GEN_DELTA,
        GEN_DONE,
        GEN_ERROR,
} GenEventType;

typedef struct GenEvent {
        GenEventType type;
        const char *text;             /* DELTA: the text; ERROR: the message. Valid until the next call. */
        size_t text_len;
} GenEvent;

typedef struct Gen Gen;

/* Connects and starts: OpenSession + Chat/Complete. On failure fills *e
 * with the HTTP status the daemon's error deserves. */
int gen_start(const GenInput *in, int client_fd, Gen **ret, ApiError *e);
/* 1: *ev filled; < 0: the stream cannot go on (-ECONNRESET: the HTTP
 * client left; -ESHUTDOWN: we are stopping; else the daemon's side broke). */
int gen_next(Gen *g, GenEvent *ev);
const GenStats *gen_stats(const Gen *g);
const char *gen_model(const Gen *g);
uint64_t gen_start_usec(const Gen *g);
uint64_t gen_session_usec(const Gen *g);  /* how long OpenSession took (Ollama's load_duration) */
/* Cancels what is still running (Request.Cancel, pipe closed, connection
 * dropped) and frees. */
Gen *gen_free(Gen *g);
DEFINE_TRIVIAL_CLEANUP_FUNC(Gen *, gen_free);

void gen_input_done(GenInput *in);

/* Bus calls for the listing endpoints, on a short-lived connection. */
typedef struct ModelInfo {
        char *name;
        uint64_t size;
        bool loaded;
        char *backend;                /* loaded only */
        uint64_t weight_bytes, parameters;
} ModelInfo;

int upstream_list_models(ModelInfo **ret, size_t *ret_n, bool loaded_only, ApiError *e);
void model_info_free(ModelInfo *m, size_t n);
int upstream_version(char **ret, ApiError *e);
