/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Run: one generation on behalf of one HTTP request, shared by the OpenAI
 * and Ollama handlers. It holds the concurrency slot, the Gen, and the
 * timings the metrics need, and accounts for the generation exactly once
 * however it ends (finished, failed, client gone).
 */

#include "upstream.h"

typedef struct Run {
        Gen *gen;
        char client[128];
        bool slot;
        bool accounted;
        uint64_t start_usec, first_usec;
} Run;

/* Takes a slot, connects and starts the generation. */
int run_start(HttpRequest *req, const GenInput *in, Run *run, ApiError *e);
/* gen_next() plus timing; on the final record the run is accounted. */
int run_next(Run *run, GenEvent *ev);
/* Cancels what still runs, gives the slot back. Idempotent. */
void run_end(Run *run);
/* A random id for responses: prefix + 24 hex digits. */
void make_id(char *buf, size_t n, const char *prefix);
