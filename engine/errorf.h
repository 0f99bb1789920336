/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "macros.h"

/*
 * Writes a message for a person into a caller's error buffer (buf may be
 * NULL or size 0: then nothing is written) and returns r, so that failing
 * reads `return errorf(err, errsz, -EBADMSG, "tensor '%s' …", name);`.
 * The engine's only way of explaining an error: it never logs.
 */
_printf_(4, 5) int errorf(char *buf, size_t size, int r, const char *fmt, ...);

/* The same where only the message matters. */
#define set_error(buf, size, ...) ((void) errorf((buf), (size), 0, __VA_ARGS__))
