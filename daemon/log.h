/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Logging for unicornd: one line per event on stderr, prefixed with the
 * syslog priority ("<3>…") when stderr is the journal, so systemd files it
 * at the right level. Prompts and generated text are user data: they may
 * only ever be logged at debug (STYLE.md §5).
 */

#include <errno.h>
#include <syslog.h>

#include "macros.h"

extern int log_max_level;

void log_setup(void);
int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) _printf_(5, 6);

#define log_full_errno(level, error, ...)                                        \
        ({                                                                       \
                int _l = (level), _e = (error);                                  \
                (_l <= log_max_level)                                            \
                        ? log_internal(_l, _e, __FILE__, __LINE__, __VA_ARGS__)  \
                        : -abs(_e);                                              \
        })

#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_INFO, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, e, __VA_ARGS__)
#define log_oom() log_error_errno(-ENOMEM, "Out of memory.")
