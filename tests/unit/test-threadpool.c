/* SPDX-License-Identifier: MIT */
/* The fork-join pool runs every task exactly once, returns only when all
 * are done, and survives many back-to-back jobs and idle periods (workers
 * going to sleep and waking up again). */

#include <stdatomic.h>
#include <time.h>

#include "cpu/threadpool.h"
#include "test-helpers.h"

struct job {
        _Atomic int *hits;
        _Atomic long sum;
};

static void task(void *ctx, size_t t) {
        struct job *j = ctx;
        atomic_fetch_add(&j->hits[t], 1);
        atomic_fetch_add(&j->sum, (long) t);
}

static void run_and_check(ThreadPool *p, size_t n) {
        _Atomic int *hits = calloc(n ? n : 1, sizeof(*hits));
        struct job j = { .hits = hits };

        CHECK(hits);
        threadpool_run(p, n, task, &j);
        for (size_t i = 0; i < n; i++)
                CHECK_MSG(atomic_load(&hits[i]) == 1, "task %zu of %zu ran %d times", i, n, atomic_load(&hits[i]));
        CHECK(atomic_load(&j.sum) == (long) (n * (n ? n - 1 : 0) / 2));
        free(hits);
}

int main(void) {
        for (unsigned nth = 1; nth <= 4; nth++) {
                _cleanup_(threadpool_freep) ThreadPool *p = NULL;

                CHECK_RET(threadpool_new(nth, &p), 0);
                CHECK(threadpool_size(p) == nth);
                run_and_check(p, 0);
                run_and_check(p, 1);
                for (size_t n = 2; n < 200; n += 7)
                        run_and_check(p, n);
                for (int i = 0; i < 3000; i++)
                        run_and_check(p, 3);
                /* Let the workers fall asleep, then wake them. */
                nanosleep(&(struct timespec) { 0, 50 * 1000 * 1000 }, NULL);
                run_and_check(p, 1000);
        }
        {
                _cleanup_(threadpool_freep) ThreadPool *p = NULL;
                CHECK_RET(threadpool_new(0, &p), 0); /* one per CPU */
                CHECK(threadpool_size(p) >= 1);
                run_and_check(p, 64);
        }
        return 0;
}
