/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * /etc/unicorn/unicornd.conf: the administrator's settings, key=value per
 * line ('#' or ';' comments, an optional [Daemon] section header). Every
 * cap a caller can push against lives here with a safe default.
 */

#include <stdbool.h>
#include <stdint.h>

#define CONFIG_DEFAULT_PATH "/etc/unicorn/unicornd.conf"
#define CONFIG_DEFAULT_STATE_DIR "/var/lib/unicorn/models"

struct config {
        char *state_dir;               /* StateDirectory= */
        bool auto_load;                /* AutoLoad=: load a model on first OpenSession */
        char *backend;                 /* Backend=: "auto", "cpu", "vulkan" */
        uint32_t threads;              /* Threads=: CPU threads, 0: one per core */
        uint32_t max_sessions_per_caller;  /* MaxSessionsPerCaller= */
        uint32_t max_requests_per_caller;  /* MaxRequestsPerCaller= (running at once) */
        uint32_t max_sessions;         /* MaxSessions=: all callers together */
        uint64_t max_prompt_bytes;     /* MaxPromptBytes=: per call and per conversation */
        uint32_t max_context_length;   /* MaxContextLength=: tokens per session */
        uint32_t default_context_length; /* DefaultContextLength= */
        uint32_t parallel_sessions;    /* ParallelSessions=: sequence slots per shared KV cache */
        uint64_t max_import_bytes;     /* MaxImportBytes= */
        uint32_t max_loaded_models;    /* MaxLoadedModels= */
        uint64_t memory_reserve;       /* MemoryReserve=: bytes of the budget kept for everything else */
        uint64_t kv_cache_reserve;     /* KVCacheReserve=: added to a model's file size on admission */
        bool evict_idle_models;        /* EvictIdleModels=: unload idle models, LRU first, to admit one */
};

void config_init(struct config *c);
void config_done(struct config *c);
/* Reads a file on top of the defaults. A missing file is fine (0) when
 * !required; an unknown key or bad value is an error (-EINVAL) so a typo
 * in a cap never silently lifts it. */
int config_load(struct config *c, const char *path, bool required);
