/* SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "threadpool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() __asm__ __volatile__("" ::: "memory")
#endif

/* Waiting goes through three stages: a short busy spin (the next parallel
 * loop of a step usually starts within microseconds), then sched_yield() so
 * that on a loaded machine the thread we wait for can run on our core, then
 * sleeping on the condition variable (an idle daemon burns no CPU). */
#define SPIN_ITERATIONS 2000
#define YIELD_ITERATIONS 2000

struct ThreadPool {
        unsigned n_threads;
        pthread_t *threads;
        unsigned n_started;

        pthread_mutex_t lock;
        pthread_cond_t wake;

        /* The job: published by bumping generation. */
        threadpool_fn fn;
        void *ctx;
        size_t n_tasks;
        _Atomic size_t next_task;
        _Atomic unsigned generation;
        _Atomic unsigned busy; /* workers still inside the current job */
        _Atomic int sleeping;  /* workers waiting on the condition variable */
        bool stop;
};

static void run_tasks(ThreadPool *p) {
        for (;;) {
                size_t t = atomic_fetch_add_explicit(&p->next_task, 1, memory_order_relaxed);
                if (t >= p->n_tasks)
                        break;
                p->fn(p->ctx, t);
        }
}

static void *worker(void *arg) {
        ThreadPool *p = arg;
        unsigned seen = 0;

        for (;;) {
                unsigned gen;
                int spins = 0;

                while ((gen = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen) {
                        if (++spins < SPIN_ITERATIONS) {
                                cpu_relax();
                                continue;
                        }
                        if (spins < SPIN_ITERATIONS + YIELD_ITERATIONS) {
                                sched_yield();
                                continue;
                        }
                        pthread_mutex_lock(&p->lock);
                        atomic_fetch_add(&p->sleeping, 1);
                        while (atomic_load(&p->generation) == seen && !p->stop)
                                pthread_cond_wait(&p->wake, &p->lock);
                        atomic_fetch_sub(&p->sleeping, 1);
                        pthread_mutex_unlock(&p->lock);
                        spins = 0;
                }
                seen = gen;
                if (p->stop)
                        return NULL;
                run_tasks(p);
                atomic_fetch_sub_explicit(&p->busy, 1, memory_order_release);
        }
}

int threadpool_new(unsigned n_threads, ThreadPool **ret) {
        ThreadPool *p;

        if (n_threads == 0) {
                long n = sysconf(_SC_NPROCESSORS_ONLN);
                n_threads = n > 0 ? (unsigned) n : 1;
        }
        n_threads = MIN(n_threads, 512u);

        p = new0(ThreadPool, 1);
        if (!p)
                return -ENOMEM;
        p->n_threads = n_threads;
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->wake, NULL);
        if (n_threads > 1) {
                p->threads = new0(pthread_t, n_threads - 1);
                if (!p->threads) {
                        threadpool_free(p);
                        return -ENOMEM;
                }
                for (unsigned i = 0; i < n_threads - 1; i++) {
                        int r = pthread_create(&p->threads[i], NULL, worker, p);
                        if (r != 0) {
                                threadpool_free(p);
                                return -r;
                        }
                        p->n_started++;
                }
        }
        *ret = p;
        return 0;
}

ThreadPool *threadpool_free(ThreadPool *p) {
        if (!p)
                return NULL;
        pthread_mutex_lock(&p->lock);
        p->stop = true;
        atomic_fetch_add(&p->generation, 1);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
        for (unsigned i = 0; i < p->n_started; i++)
                pthread_join(p->threads[i], NULL);
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
        free(p->threads);
        free(p);
        return NULL;
}

unsigned threadpool_size(const ThreadPool *p) {
        return p->n_threads;
}

void threadpool_run(ThreadPool *p, size_t n_tasks, threadpool_fn fn, void *ctx) {
        if (n_tasks == 0)
                return;
        if (p->n_started == 0 || n_tasks == 1) {
                for (size_t t = 0; t < n_tasks; t++)
                        fn(ctx, t);
                return;
        }

        p->fn = fn;
        p->ctx = ctx;
        p->n_tasks = n_tasks;
        atomic_store_explicit(&p->next_task, 0, memory_order_relaxed);
        atomic_store_explicit(&p->busy, p->n_started, memory_order_relaxed);
        atomic_fetch_add(&p->generation, 1); /* seq_cst: ordered before the load of sleeping */
        if (atomic_load(&p->sleeping) > 0) {
                pthread_mutex_lock(&p->lock);
                pthread_cond_broadcast(&p->wake);
                pthread_mutex_unlock(&p->lock);
        }

        run_tasks(p);
        for (unsigned spins = 0; atomic_load_explicit(&p->busy, memory_order_acquire) != 0; spins++) {
                if (spins < SPIN_ITERATIONS)
                        cpu_relax();
                else
                        sched_yield();
        }
}
