/* SPDX-License-Identifier: MIT */
/*
 * Run: the lifecycle of one generation for an HTTP request (see run.h).
 */
#include <string.h>
#include <sys/random.h>

#include "metrics.h"
#include "run.h"

void make_id(char *buf, size_t n, const char *prefix) {
        uint8_t b[12] = {};
        char hex[2 * sizeof b + 1];

        /* Ids only need to be unique, not secret: no need to block. */
        (void) getrandom(b, sizeof b, GRND_NONBLOCK);
        for (size_t i = 0; i < sizeof b; i++)
                snprintf(hex + 2 * i, 3, "%02x", b[i]);
        snprintf(buf, n, "%s%s", prefix, hex);
}

int run_start(HttpRequest *req, const GenInput *in, Run *run, ApiError *e) {
        int r;

        *run = (Run) { .start_usec = req->start_usec };
        snprintf(run->client, sizeof run->client, "%s", req->client);
        r = slot_acquire(req, e);
        if (r < 0)
                return r;
        run->slot = true;
        r = gen_start(in, request_client_fd(req), &run->gen, e);
        if (r < 0) {
                run_end(run);
                return r;
        }
        return 0;
}

static void account(Run *run, const GenStats *s) {
        double ttft = run->first_usec ? (double) (run->first_usec - run->start_usec) / 1e6 : -1;

        if (run->accounted)
                return;
        run->accounted = true;
        metrics_generation(s, ttft, s->tokens_per_second);
}

static void release(Run *run) {
        if (run->slot) {
                slot_release(run->client);
                run->slot = false;
        }
}

int run_next(Run *run, GenEvent *ev) {
        int r = gen_next(run->gen, ev);

        if (r > 0 && ev->type == GEN_DELTA && ev->text_len > 0 && !run->first_usec)
                run->first_usec = now_usec();
        if (r > 0 && ev->type == GEN_DONE)
                account(run, gen_stats(run->gen));
        if (r > 0 && ev->type == GEN_ERROR) {
                GenStats s = { .finish_reason = "error" };
                account(run, &s);
        }
        /* Free the slot before the last bytes go out: a client that sends
         * its next request as soon as it has read the end must find it. */
        if (r > 0 && ev->type != GEN_DELTA)
                release(run);
        return r;
}

void run_end(Run *run) {
        if (run->gen && !run->accounted) {
                GenStats s = { .finish_reason = "cancelled" };
                account(run, &s);
        }
        run->gen = gen_free(run->gen);
        release(run);
}
