/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>

#include "errorf.h"

int errorf(char *buf, size_t size, int r, const char *fmt, ...) {
        va_list ap;

        if (buf && size > 0) {
                va_start(ap, fmt);
                vsnprintf(buf, size, fmt, ap);
                va_end(ap);
        }
        return r;
}
