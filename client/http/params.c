/* SPDX-License-Identifier: MIT */
/*
 * Typed getters for request JSON (see params.h). Clients send every kind of
 * nonsense: numbers as strings, NaN-free but huge values, nested objects
 * where a string belongs. Each is refused with the parameter's name.
 */
#include <math.h>
#include <string.h>

#include "params.h"

static void param_name(char *buf, size_t n, const char *prefix, const char *key) {
        snprintf(buf, n, "%s%s", prefix ? prefix : "", key);
}

int json_get_double(json_t *o, const char *prefix, const char *key, double lo, double hi, double *ret, ApiError *e) {
        json_t *v = json_object_get(o, key);
        char p[96];
        double d;

        if (!v || json_is_null(v))
                return 0;
        param_name(p, sizeof p, prefix, key);
        if (!json_is_number(v))
                return bad_request(e, key, "'%s' must be a number.", p);
        d = json_number_value(v);
        if (!isfinite(d) || d < lo || d > hi)
                return bad_request(e, key, "'%s' must be between %g and %g.", p, lo, hi);
        *ret = d;
        return 0;
}

int json_get_int(json_t *o, const char *prefix, const char *key, int64_t lo, int64_t hi, int64_t *ret, ApiError *e) {
        json_t *v = json_object_get(o, key);
        char p[96];
        double d;
        int64_t i;

        if (!v || json_is_null(v))
                return 0;
        param_name(p, sizeof p, prefix, key);
        /* 3.0 is an integer to most clients (JavaScript has no other kind). */
        d = json_is_real(v) ? json_real_value(v) : NAN;
        if (json_is_integer(v))
                i = json_integer_value(v);
        else if (isfinite(d) && d == floor(d) && fabs(d) < 9e15)
                i = (int64_t) d;
        else
                return bad_request(e, key, "'%s' must be an integer.", p);
        if (i < lo || i > hi)
                return bad_request(e, key, "'%s' must be between %lld and %lld.", p, (long long) lo, (long long) hi);
        *ret = i;
        return 0;
}

int json_get_bool(json_t *o, const char *prefix, const char *key, bool *ret, ApiError *e) {
        json_t *v = json_object_get(o, key);
        char p[96];

        if (!v || json_is_null(v))
                return 0;
        param_name(p, sizeof p, prefix, key);
        if (!json_is_boolean(v))
                return bad_request(e, key, "'%s' must be true or false.", p);
        *ret = json_is_true(v);
        return 0;
}

int json_check_string(json_t *v, const char *param, const char **ret, ApiError *e) {
        if (!json_is_string(v))
                return bad_request(e, param, "'%s' must be a string.", param);
        /* jansson accepts \u0000; the bus would cut the string there. */
        if (json_string_length(v) != strlen(json_string_value(v)))
                return bad_request(e, param, "'%s' must not contain NUL characters.", param);
        *ret = json_string_value(v);
        return 0;
}

int json_get_string(json_t *o, const char *prefix, const char *key, const char **ret, ApiError *e) {
        json_t *v = json_object_get(o, key);
        char p[96];

        if (!v || json_is_null(v))
                return 0;
        param_name(p, sizeof p, prefix, key);
        return json_check_string(v, p, ret, e);
}

static int add_stop(GenParams *p, json_t *v, const char *param, ApiError *e) {
        const char *s;
        int r = json_check_string(v, param, &s, e);

        if (r < 0)
                return r;
        if (s[0] == '\0')
                return 0; /* an empty stop string stops nothing; some clients send [""] */
        if (strlen(s) > MAX_STOP_LEN)
                return bad_request(e, param, "Stop strings must be at most %d bytes.", MAX_STOP_LEN);
        if (p->n_stops >= MAX_STOPS)
                return bad_request(e, param, "At most %d stop strings are supported.", MAX_STOPS);
        p->stops[p->n_stops++] = s;
        return 0;
}

int json_get_stops(json_t *o, const char *prefix, const char *key, GenParams *p, ApiError *e) {
        json_t *v = json_object_get(o, key), *it;
        char name[96];
        size_t i;
        int r;

        if (!v || json_is_null(v))
                return 0;
        param_name(name, sizeof name, prefix, key);
        if (json_is_string(v))
                return add_stop(p, v, name, e);
        if (!json_is_array(v))
                return bad_request(e, key, "'%s' must be a string or an array of strings.", name);
        if (json_array_size(v) > MAX_STOPS)
                return bad_request(e, key, "At most %d stop strings are supported.", MAX_STOPS);
        json_array_foreach(v, i, it) {
                r = add_stop(p, it, name, e);
                if (r < 0)
                        return r;
        }
        return 0;
}

int json_get_model(json_t *o, const char *key, const char **ret, ApiError *e) {
        json_t *v = json_object_get(o, key);
        const char *s;
        int r;

        if (!v || json_is_null(v))
                return bad_request(e, key, "'%s' is required.", key);
        r = json_check_string(v, key, &s, e);
        if (r < 0)
                return r;
        if (s[0] == '\0' || strlen(s) > 256)
                return bad_request(e, key, "'%s' must be a model name of 1 to 256 bytes.", key);
        *ret = s;
        return 0;
}

int json_get_messages(json_t *body, GenInput *in, json_t **ret, ApiError *e) {
        json_t *msgs = json_object_get(body, "messages");

        if (!msgs || json_is_null(msgs))
                return bad_request(e, "messages", "'messages' is required.");
        if (!json_is_array(msgs) || json_array_size(msgs) == 0)
                return bad_request(e, "messages", "'messages' must be a non-empty array.");
        if (json_array_size(msgs) > MAX_MESSAGES)
                return bad_request(e, "messages", "At most %d messages are supported.", MAX_MESSAGES);
        in->messages = new0(GenMessage, json_array_size(msgs));
        if (!in->messages)
                return api_error(e, 500, NULL, NULL, "Out of memory.");
        *ret = msgs;
        return 0;
}
