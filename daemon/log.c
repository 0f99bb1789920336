/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int log_max_level = LOG_INFO;
static bool log_prefix_priority;

void log_setup(void) {
        /* systemd sets JOURNAL_STREAM when stderr is connected to the
         * journal; then "<N>" prefixes carry the priority. */
        log_prefix_priority = getenv("JOURNAL_STREAM") != NULL;
}

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) {
        char buf[2048];
        va_list ap;
        int saved = errno;

        /* %m prints the error we were given, not whatever errno is. */
        errno = abs(error);
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);

        if (log_prefix_priority)
                fprintf(stderr, "<%d>%s\n", level, buf);
        else if (log_max_level >= LOG_DEBUG)
                fprintf(stderr, "%s:%d: %s\n", file, line, buf);
        else
                fprintf(stderr, "%s\n", buf);

        errno = saved;
        return -abs(error);
}
