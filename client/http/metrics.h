/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Prometheus metrics: requests by endpoint and status, tokens in and out,
 * time-to-first-token and tokens/s histograms, generations in flight.
 * Labels come from the route table and a fixed status list, never from
 * the client, so the number of series is bounded.
 */

#include "upstream.h"

int metrics_init(unsigned n_endpoints);
void metrics_request(int endpoint, unsigned status);
/* A generation ended: ttft_s < 0 when no token came. */
void metrics_generation(const GenStats *s, double ttft_s, double tokens_per_s);
void metrics_in_flight(int delta);
enum MHD_Result metrics_reply(HttpRequest *req);
