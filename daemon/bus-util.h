/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Small helpers around sd-bus shared by every object of unicornd: cleanup
 * functions for the sd-bus/sd-event types, the domain error names, and the
 * unicast property-invalidation signal used for per-user objects.
 */

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "macros.h"

#define UNICORN_BUS_NAME "org.unicorn.Engine1"
#define UNICORN_PATH "/org/unicorn/Engine1"
#define UNICORN_SESSION_PREFIX UNICORN_PATH "/session"
#define UNICORN_REQUEST_PREFIX UNICORN_PATH "/request"
#define UNICORN_JOB_PREFIX UNICORN_PATH "/job"
#define UNICORN_MANAGER_IFACE "org.unicorn.Engine1.Manager"
#define UNICORN_SESSION_IFACE "org.unicorn.Engine1.Session"
#define UNICORN_REQUEST_IFACE "org.unicorn.Engine1.Request"
#define UNICORN_JOB_IFACE "org.unicorn.Engine1.Job"

#define UNICORN_ERROR_NO_SUCH_MODEL "org.unicorn.Engine1.Error.NoSuchModel"
#define UNICORN_ERROR_MODEL_EXISTS "org.unicorn.Engine1.Error.ModelExists"
#define UNICORN_ERROR_INVALID_ARGUMENT "org.unicorn.Engine1.Error.InvalidArgument"
#define UNICORN_ERROR_INVALID_MODEL "org.unicorn.Engine1.Error.InvalidModel"
#define UNICORN_ERROR_LIMIT_EXCEEDED "org.unicorn.Engine1.Error.LimitExceeded"
#define UNICORN_ERROR_BUSY "org.unicorn.Engine1.Error.Busy"
#define UNICORN_ERROR_NOT_LOADED "org.unicorn.Engine1.Error.NotLoaded"
#define UNICORN_ERROR_LOAD_FAILED "org.unicorn.Engine1.Error.LoadFailed"
#define UNICORN_ERROR_SHUTTING_DOWN "org.unicorn.Engine1.Error.ShuttingDown"
#define UNICORN_ERROR_NOT_SUPPORTED "org.unicorn.Engine1.Error.NotSupported"

/* sd-bus.h and sd-event.h already define sd_bus_message_unrefp() and
 * friends for _cleanup_(). */
#define _cleanup_bus_error_ _cleanup_(sd_bus_error_free)

/*
 * PropertiesChanged with only invalidated names, addressed to one peer.
 * Session, request and job objects belong to one caller; their changes are
 * not broadcast (STYLE.md §5), so sd_bus_emit_properties_changed() is not
 * used for them.
 */
int bus_emit_invalidated_unicast(sd_bus *bus, const char *destination, const char *path,
                                 const char *interface, const char *const *names);

/* Valid UTF-8 without control characters, at most max bytes: what a string
 * from a model file or device must be before it goes on the bus. */
bool string_is_safe(const char *s, size_t max);
bool bus_string_is_utf8(const char *s);

/* Parses "_N" at the end of path below prefix; 0 or -ENXIO. */
int bus_path_get_id(const char *path, const char *prefix, uint64_t *ret);

/*
 * Reads an options dictionary (a{sv}) in which `key` is the only known
 * option, of the basic D-Bus type `sig` ("b", "u"…); its value goes to *ret
 * (left alone when absent). An unknown key or a wrong type is an
 * InvalidArgument error naming it.
 */
int bus_read_single_option(sd_bus_message *msg, const char *key, const char *sig, void *ret, sd_bus_error *error);

static inline const char *strna(const char *s) {
        return s ? s : "n/a";
}
static inline const char *strempty(const char *s) {
        return s ? s : "";
}
