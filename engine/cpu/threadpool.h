/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A fork-join pool for the forward pass. A step runs a few hundred parallel
 * loops per token, so dispatch must cost microseconds: workers spin briefly
 * on a generation counter after each loop and only then sleep on a condition
 * variable (an idle daemon must not burn CPU). The calling thread works too.
 */

#include <stddef.h>

#include "macros.h"

typedef struct ThreadPool ThreadPool;

/* fn(ctx, task) is called once for every task in [0, n_tasks), on any thread. */
typedef void (*threadpool_fn)(void *ctx, size_t task);

/* n_threads counts the caller: 1 means no worker threads. 0: one per online CPU. */
int threadpool_new(unsigned n_threads, ThreadPool **ret);
ThreadPool *threadpool_free(ThreadPool *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(ThreadPool *, threadpool_free);
unsigned threadpool_size(const ThreadPool *p);

/* Runs all tasks and returns when every one has finished. Not reentrant:
 * one caller at a time (the engine serialises steps per pool). */
void threadpool_run(ThreadPool *p, size_t n_tasks, threadpool_fn fn, void *ctx);
