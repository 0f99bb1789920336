/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine.h"
#include "log.h"
#include "macros.h"

void config_init(struct config *c) {
        *c = (struct config) {
                .state_dir = strdup(CONFIG_DEFAULT_STATE_DIR),
                .auto_load = true,
                .backend = strdup("auto"),
                .threads = 0,
                .max_sessions_per_caller = 16,
                .max_requests_per_caller = 4,
                .max_sessions = 256,
                .max_prompt_bytes = 1024 * 1024,
                .max_context_length = 32768,
                .default_context_length = 4096,
                .parallel_sessions = 1,
                .max_import_bytes = UINT64_C(64) << 30,
                .max_loaded_models = 4,
                .memory_reserve = UINT64_C(2) << 30,
                .kv_cache_reserve = UINT64_C(256) << 20,
                .evict_idle_models = false,
        };
}

void config_done(struct config *c) {
        free(c->state_dir);
        free(c->backend);
        *c = (struct config) {};
}

static int parse_bool(const char *v, bool *ret) {
        if (streq(v, "yes") || streq(v, "true") || streq(v, "1") || streq(v, "on"))
                *ret = true;
        else if (streq(v, "no") || streq(v, "false") || streq(v, "0") || streq(v, "off"))
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

/* Accepts a K/M/G/T suffix (base 1024) so sizes read naturally. */
static int parse_u64(const char *v, uint64_t max, uint64_t *ret) {
        char *end;
        unsigned long long x;
        unsigned shift = 0;

        if (!isdigit((unsigned char) *v))
                return -EINVAL;
        errno = 0;
        x = strtoull(v, &end, 10);
        if (errno != 0)
                return -ERANGE;
        switch (*end) {
        case 'K': shift = 10; end++; break;
        case 'M': shift = 20; end++; break;
        case 'G': shift = 30; end++; break;
        case 'T': shift = 40; end++; break;
        }
        if (*end != '\0')
                return -EINVAL;
        if (shift && x > (UINT64_MAX >> shift))
                return -ERANGE;
        x <<= shift;
        if (x > max)
                return -ERANGE;
        *ret = x;
        return 0;
}

static int set_u32(const char *v, uint32_t min, uint32_t max, uint32_t *ret) {
        uint64_t x;
        int r = parse_u64(v, max, &x);
        if (r < 0)
                return r;
        if (x < min)
                return -ERANGE;
        *ret = (uint32_t) x;
        return 0;
}

static int set_str(const char *v, char **ret) {
        char *s = strdup(v);
        if (!s)
                return -ENOMEM;
        free(*ret);
        *ret = s;
        return 0;
}

static char *strip(char *s) {
        while (isspace((unsigned char) *s))
                s++;
        size_t n = strlen(s);
        while (n > 0 && isspace((unsigned char) s[n - 1]))
                s[--n] = '\0';
        return s;
}

static int config_set(struct config *c, const char *k, const char *v) {
        uint64_t x;
        int r;

        if (streq(k, "StateDirectory")) {
                if (v[0] != '/')
                        return -EINVAL;
                return set_str(v, &c->state_dir);
        }
        if (streq(k, "AutoLoad"))
                return parse_bool(v, &c->auto_load);
        if (streq(k, "Backend")) {
                if (!streq(v, "auto") && !streq(v, "cpu") && !streq(v, "vulkan"))
                        return -EINVAL;
                return set_str(v, &c->backend);
        }
        if (streq(k, "Threads"))
                return set_u32(v, 0, 1024, &c->threads);
        if (streq(k, "MaxSessionsPerCaller"))
                return set_u32(v, 1, 4096, &c->max_sessions_per_caller);
        if (streq(k, "MaxRequestsPerCaller"))
                return set_u32(v, 1, 4096, &c->max_requests_per_caller);
        if (streq(k, "MaxSessions"))
                return set_u32(v, 1, 65536, &c->max_sessions);
        if (streq(k, "MaxContextLength"))
                return set_u32(v, 16, 1u << 20, &c->max_context_length);
        if (streq(k, "DefaultContextLength"))
                return set_u32(v, 16, 1u << 20, &c->default_context_length);
        if (streq(k, "ParallelSessions"))
                return set_u32(v, 1, ENGINE_MAX_SEQ, &c->parallel_sessions);
        if (streq(k, "MaxLoadedModels"))
                return set_u32(v, 1, 64, &c->max_loaded_models);
        if (streq(k, "MaxPromptBytes")) {
                r = parse_u64(v, UINT64_C(1) << 30, &x);
                if (r < 0)
                        return r;
                c->max_prompt_bytes = x;
                return 0;
        }
        if (streq(k, "MemoryReserve"))
                return parse_u64(v, UINT64_C(1) << 50, &c->memory_reserve);
        if (streq(k, "KVCacheReserve"))
                return parse_u64(v, UINT64_C(1) << 40, &c->kv_cache_reserve);
        if (streq(k, "EvictIdleModels"))
                return parse_bool(v, &c->evict_idle_models);
        if (streq(k, "MaxImportBytes")) {
                r = parse_u64(v, UINT64_MAX, &x);
                if (r < 0)
                        return r;
                c->max_import_bytes = x;
                return 0;
        }
        return -ENOKEY;
}

int config_load(struct config *c, const char *path, bool required) {
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        unsigned lineno = 0;
        FILE *f;
        int r = 0;

        f = fopen(path, "re");
        if (!f) {
                if (errno == ENOENT && !required)
                        return 0;
                return log_error_errno(-errno, "Failed to open %s: %m", path);
        }
        while (getline(&line, &cap, f) >= 0) {
                char *s = strip(line), *eq, *k, *v;

                lineno++;
                if (*s == '\0' || *s == '#' || *s == ';' || *s == '[')
                        continue;
                eq = strchr(s, '=');
                if (!eq) {
                        r = log_error_errno(-EINVAL, "%s:%u: expected Key=Value.", path, lineno);
                        break;
                }
                *eq = '\0';
                k = strip(s);
                v = strip(eq + 1);
                r = config_set(c, k, v);
                if (r == -ENOKEY) {
                        r = log_error_errno(-EINVAL, "%s:%u: unknown key %s.", path, lineno, k);
                        break;
                }
                if (r < 0) {
                        log_error_errno(r, "%s:%u: bad value for %s: %s", path, lineno, k, v);
                        r = -EINVAL;
                        break;
                }
        }
        fclose(f);
        if (r < 0)
                return r;
        if (c->default_context_length > c->max_context_length)
                c->default_context_length = c->max_context_length;
        return 0;
}
