/* SPDX-License-Identifier: MIT */
/*
 * Pools: one Context with ParallelSessions= sequence slots over a resident
 * model, shared by that many sessions, so that the engine thread can run
 * their requests in one forward step (continuous batching: the weights are
 * read once for all of them). Its slots hold at least DefaultContextLength=
 * tokens; a session takes the shortest free slot that holds what it asked
 * for. With ParallelSessions=1 (the default) every session has a pool of
 * its own, of the length it asked for, or the kept one (below).
 *
 * The KV memory of all slots is allocated when the pool is made, so a pool
 * costs ParallelSessions times a session's cache from its first session on:
 * that is the price of batching, and why it is the administrator's choice.
 *
 * The last pool a model's sessions left is kept, empty, while the model
 * stays resident (and freed with it: pool_free_all), and the next session
 * that fits takes it, as it takes the shortest free slot of any pool:
 * making and freeing a context costs far more than a step on a GPU
 * (run195.sh: ~230 ms a session on the H100), and one-shot
 * clients (`unicornctl run`, each HTTP request) open a session each. Only
 * pools of slots no longer than DefaultContextLength= are kept, so what a
 * model holds while idle is at most one pool of the default size (a
 * session's default cache with ParallelSessions=1); a pool that empties
 * while another is kept replaces it.
 *
 * Privacy: the engine keeps sequences apart (a token attends only to its
 * own sequence), and a slot handed to a new session still holds its last
 * owner's cache until the engine thread clears it, before that session's
 * first request (Session.clear_cache): otherwise the prefix reuse would
 * reveal, through cached_tokens and timing, how the last owner's prompt
 * began. Main thread only, except that the Context is used by the engine
 * thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "unicornd.h"

static Pool *pool_free(Pool *p) {
        if (!p)
                return NULL;
        for (Pool **q = &p->lm->pools; *q; q = &(*q)->next)
                if (*q == p) {
                        *q = p->next;
                        break;
                }
        context_free(p->context);
        free(p->used);
        free(p);
        return NULL;
}

static int pool_new(LoadedModel *lm, uint32_t n_ctx, uint32_t n_slots, Pool **ret, char *err, size_t errsz) {
        Pool *p = calloc(1, sizeof *p);
        int r;

        if (!p)
                return -ENOMEM;
        p->lm = lm;
        p->n_ctx = n_ctx;
        p->n_slots = n_slots;
        p->used = calloc(n_slots, sizeof *p->used);
        r = p->used ? context_new(lm->model, &(struct context_options) { .n_ctx = n_ctx, .n_seq = n_slots },
                                  &p->context, err, errsz)
                    : -ENOMEM;
        if (r < 0) {
                pool_free(p); /* not listed yet: it only frees */
                return r;
        }
        p->next = lm->pools;
        lm->pools = p;
        *ret = p;
        return 0;
}

int pool_acquire(LoadedModel *lm, uint32_t n_ctx, uint32_t min_ctx, uint32_t n_slots, Pool **ret, int32_t *ret_seq,
                 char *err, size_t errsz) {
        Pool *p = NULL;
        int r;

        if (n_slots == 0 || n_slots > ENGINE_MAX_SEQ)
                return -EINVAL;
        /* Shared pools hold at least min_ctx tokens a slot, and a session may
         * take a slot longer than it asked for (the smallest that is free):
         * clients that size each session to its prompt (unicorn-http does)
         * still meet in one pool, instead of each making a pool of its own
         * with n_slots caches. Alone (n_slots 1), a session gets what it
         * asked for, or the kept pool where that holds it. */
        for (Pool *q = lm->pools; q; q = q->next)
                if (q->n_slots == n_slots && q->n_used < q->n_slots && q->n_ctx >= n_ctx &&
                    (!p || q->n_ctx < p->n_ctx))
                        p = q;
        if (p && p->n_used == 0)
                log_debug("Reusing the kept context of %u x %u tokens on %s.", p->n_slots, p->n_ctx, lm->name);
        if (!p) {
                r = pool_new(lm, n_slots > 1 ? MAX(n_ctx, min_ctx) : n_ctx, n_slots, &p, err, errsz);
                if (r < 0)
                        return r;
                p->keep = p->n_ctx <= min_ctx;
                if (n_slots > 1)
                        log_debug("New pool of %u sessions x %u tokens on %s.", n_slots, n_ctx, lm->name);
        }
        for (uint32_t i = 0; i < p->n_slots; i++)
                if (!p->used[i]) {
                        p->used[i] = true;
                        p->n_used++;
                        *ret = p;
                        *ret_seq = (int32_t) i;
                        return 0;
                }
        return -EBUSY; /* not reached: n_used < n_slots */
}

void pool_release(Pool *p, int32_t seq) {
        if (!p || seq < 0 || (uint32_t) seq >= p->n_slots || !p->used[seq])
                return;
        p->used[seq] = false;
        /* The last session is gone, and with it every request on this
         * Context (a session is freed only once its request is collected):
         * the engine thread holds nothing of it. */
        if (--p->n_used > 0)
                return;
        if (!p->keep || p->lm->lost) {
                pool_free(p);
                return;
        }
        /* kept for the next session; the one kept before goes */
        for (Pool *q = p->lm->pools, *next; q; q = next) {
                next = q->next;
                if (q != p && q->n_used == 0)
                        pool_free(q);
        }
}

void pool_free_all(LoadedModel *lm) {
        while (lm->pools)
                pool_free(lm->pools);
}
