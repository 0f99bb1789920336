/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Typed reading of request JSON. Every getter leaves *ret alone when the
 * key is absent or null, and fails with a 400 naming the parameter (as the
 * client spelled it: prefix + key) when the type or range is wrong.
 */

#include "upstream.h"

int json_get_double(json_t *o, const char *prefix, const char *key, double lo, double hi, double *ret, ApiError *e);
int json_get_int(json_t *o, const char *prefix, const char *key, int64_t lo, int64_t hi, int64_t *ret, ApiError *e);
int json_get_bool(json_t *o, const char *prefix, const char *key, bool *ret, ApiError *e);
/* Strings may not contain NUL (they go on the bus as C strings). */
int json_get_string(json_t *o, const char *prefix, const char *key, const char **ret, ApiError *e);
int json_check_string(json_t *v, const char *param, const char **ret, ApiError *e);
/* "stop": a string or an array of at most MAX_STOPS strings. */
int json_get_stops(json_t *o, const char *prefix, const char *key, GenParams *p, ApiError *e);
/* The model name: required, a non-empty string of sane length. */
int json_get_model(json_t *o, const char *key, const char **ret, ApiError *e);
/* The "messages" array of a chat request: required, a non-empty array of at
 * most MAX_MESSAGES entries; allocates in->messages for it and returns the
 * array in *ret. Each API then checks the entries by its own rules. */
int json_get_messages(json_t *body, GenInput *in, json_t **ret, ApiError *e);
