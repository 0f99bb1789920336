/* SPDX-License-Identifier: MIT */
/*
 * Metrics in the Prometheus text format (version 0.0.4). Plain counters
 * under one mutex: a few increments per request cost nothing next to a
 * token.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static const unsigned statuses[] = { 200, 204, 400, 401, 403, 404, 405, 413, 429, 431, 499, 500, 503 };
#define N_STATUS (ELEMENTSOF(statuses) + 1) /* + "other" */

static const double ttft_buckets[] = { 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 };
static const double tps_buckets[] = { 1, 5, 10, 20, 50, 100, 200, 500, 1000 };

typedef struct Histogram {
        uint64_t counts[16];
        uint64_t count;
        double sum;
} Histogram;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned n_endpoints;
static uint64_t *requests; /* [endpoint][status] */
static uint64_t prompt_tokens, completion_tokens, generations, in_flight;
static uint64_t finish_counts[4]; /* stop, length, cancelled, error */
static Histogram ttft, tps;

int metrics_init(unsigned n) {
        requests = new0(uint64_t, (size_t) (n + 1) * N_STATUS);
        if (!requests)
                return -ENOMEM;
        n_endpoints = n;
        return 0;
}

static unsigned status_index(unsigned status) {
        for (unsigned i = 0; i < ELEMENTSOF(statuses); i++)
                if (statuses[i] == status)
                        return i;
        return N_STATUS - 1;
}

void metrics_request(int endpoint, unsigned status) {
        unsigned e = endpoint < 0 || (unsigned) endpoint >= n_endpoints ? n_endpoints : (unsigned) endpoint;

        pthread_mutex_lock(&lock);
        requests[e * N_STATUS + status_index(status)]++;
        pthread_mutex_unlock(&lock);
}

static void observe(Histogram *h, const double *buckets, size_t n, double v) {
        for (size_t i = 0; i < n; i++)
                if (v <= buckets[i])
                        h->counts[i]++;
        h->count++;
        h->sum += v;
}

void metrics_generation(const GenStats *s, double ttft_s, double tokens_per_s) {
        pthread_mutex_lock(&lock);
        generations++;
        prompt_tokens += s->prompt_tokens;
        completion_tokens += s->generated_tokens;
        if (streq(s->finish_reason, "stop"))
                finish_counts[0]++;
        else if (streq(s->finish_reason, "length") || streq(s->finish_reason, "context"))
                finish_counts[1]++;
        else if (streq(s->finish_reason, "cancelled"))
                finish_counts[2]++;
        else
                finish_counts[3]++;
        if (ttft_s >= 0)
                observe(&ttft, ttft_buckets, ELEMENTSOF(ttft_buckets), ttft_s);
        if (tokens_per_s > 0)
                observe(&tps, tps_buckets, ELEMENTSOF(tps_buckets), tokens_per_s);
        pthread_mutex_unlock(&lock);
}

void metrics_in_flight(int delta) {
        pthread_mutex_lock(&lock);
        in_flight += (uint64_t) (int64_t) delta;
        pthread_mutex_unlock(&lock);
}

static int histogram(char **b, size_t *l, const char *name, const char *help, const Histogram *h,
                     const double *buckets, size_t n) {
        int r = buf_printf(b, l, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = buf_printf(b, l, "%s_bucket{le=\"%g\"} %llu\n", name, buckets[i], (unsigned long long) h->counts[i]);
        if (r >= 0)
                r = buf_printf(b, l, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
                               (unsigned long long) h->count, name, h->sum, name, (unsigned long long) h->count);
        return r;
}

enum MHD_Result metrics_reply(HttpRequest *req) {
        static const char *const reasons[] = { "stop", "length", "cancelled", "error" };
        _cleanup_free_ char *b = NULL;
        size_t l = 0;
        int r;

        pthread_mutex_lock(&lock);
        r = buf_printf(&b, &l, "# HELP unicorn_http_requests_total HTTP requests by endpoint and status.\n"
                               "# TYPE unicorn_http_requests_total counter\n");
        for (unsigned e = 0; r >= 0 && e <= n_endpoints; e++)
                for (unsigned s = 0; r >= 0 && s < N_STATUS; s++) {
                        uint64_t v = requests[e * N_STATUS + s];
                        char st[16];
                        if (!v)
                                continue;
                        if (s < ELEMENTSOF(statuses))
                                snprintf(st, sizeof st, "%u", statuses[s]);
                        else
                                snprintf(st, sizeof st, "other");
                        r = buf_printf(&b, &l, "unicorn_http_requests_total{endpoint=\"%s\",status=\"%s\"} %llu\n",
                                       e < n_endpoints ? server_endpoint_name((int) e) : "other", st,
                                       (unsigned long long) v);
                }
        if (r >= 0)
                r = buf_printf(&b, &l,
                               "# HELP unicorn_http_prompt_tokens_total Prompt tokens of finished generations.\n"
                               "# TYPE unicorn_http_prompt_tokens_total counter\n"
                               "unicorn_http_prompt_tokens_total %llu\n"
                               "# HELP unicorn_http_completion_tokens_total Generated tokens.\n"
                               "# TYPE unicorn_http_completion_tokens_total counter\n"
                               "unicorn_http_completion_tokens_total %llu\n"
                               "# HELP unicorn_http_generations_in_flight Generations running now.\n"
                               "# TYPE unicorn_http_generations_in_flight gauge\n"
                               "unicorn_http_generations_in_flight %llu\n"
                               "# HELP unicorn_http_generations_total Finished generations by how they ended.\n"
                               "# TYPE unicorn_http_generations_total counter\n",
                               (unsigned long long) prompt_tokens, (unsigned long long) completion_tokens,
                               (unsigned long long) in_flight);
        for (unsigned i = 0; r >= 0 && i < ELEMENTSOF(reasons); i++)
                r = buf_printf(&b, &l, "unicorn_http_generations_total{finish_reason=\"%s\"} %llu\n", reasons[i],
                               (unsigned long long) finish_counts[i]);
        if (r >= 0)
                r = histogram(&b, &l, "unicorn_http_time_to_first_token_seconds",
                              "From the HTTP request to the first generated text.", &ttft, ttft_buckets,
                              ELEMENTSOF(ttft_buckets));
        if (r >= 0)
                r = histogram(&b, &l, "unicorn_http_tokens_per_second", "Decode speed of each generation.", &tps,
                              tps_buckets, ELEMENTSOF(tps_buckets));
        pthread_mutex_unlock(&lock);
        if (r < 0) {
                ApiError e;
                api_error(&e, 500, NULL, NULL, "Out of memory.");
                return reply_error(req, &e);
        }
        return reply_text(req, 200, "text/plain; version=0.0.4; charset=utf-8", b);
}
