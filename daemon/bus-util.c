/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-util.h"

int bus_emit_invalidated_unicast(sd_bus *bus, const char *destination, const char *path,
                                 const char *interface, const char *const *names) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        if (!destination)
                return 0;
        r = sd_bus_message_new_signal(bus, &m, path, "org.freedesktop.DBus.Properties", "PropertiesChanged");
        if (r < 0)
                return r;
        r = sd_bus_message_set_destination(m, destination);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", interface);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "s");
        if (r < 0)
                return r;
        for (const char *const *n = names; n && *n; n++) {
                r = sd_bus_message_append(m, "s", *n);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        return sd_bus_send(bus, m, NULL);
}

bool bus_string_is_utf8(const char *s) {
        const unsigned char *p = (const unsigned char *) s;

        while (*p) {
                unsigned c = *p, n;
                uint32_t cp;

                if (c < 0x80) {
                        p++;
                        continue;
                } else if ((c & 0xe0) == 0xc0) {
                        n = 1, cp = c & 0x1f;
                } else if ((c & 0xf0) == 0xe0) {
                        n = 2, cp = c & 0x0f;
                } else if ((c & 0xf8) == 0xf0) {
                        n = 3, cp = c & 0x07;
                } else
                        return false;
                for (unsigned i = 1; i <= n; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (p[i] & 0x3f);
                }
                /* Overlong forms, surrogates and values past U+10FFFF. */
                if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
                    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                        return false;
                p += n + 1;
        }
        return true;
}

bool string_is_safe(const char *s, size_t max) {
        if (!s || strnlen(s, max + 1) > max)
                return false;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return false;
        return bus_string_is_utf8(s);
}

int bus_path_get_id(const char *path, const char *prefix, uint64_t *ret) {
        size_t l = strlen(prefix);
        char *end;
        unsigned long long v;

        if (strncmp(path, prefix, l) != 0 || path[l] != '/' || path[l + 1] != '_')
                return -ENXIO;
        path += l + 2;
        if (*path < '1' || *path > '9')
                return -ENXIO;
        errno = 0;
        v = strtoull(path, &end, 10);
        if (errno != 0 || *end != '\0')
                return -ENXIO;
        *ret = v;
        return 0;
}

int bus_read_single_option(sd_bus_message *msg, const char *key, const char *sig, void *ret, sd_bus_error *error) {
        int r;

        r = sd_bus_message_enter_container(msg, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                const char *k;

                r = sd_bus_message_read(msg, "s", &k);
                if (r < 0)
                        return r;
                if (!streq(k, key))
                        return sd_bus_error_setf(error, UNICORN_ERROR_INVALID_ARGUMENT, "Unknown option \"%s\".", k);
                r = sd_bus_message_read(msg, "v", sig, ret);
                if (r < 0)
                        return sd_bus_error_setf(error, UNICORN_ERROR_INVALID_ARGUMENT,
                                                 "Option \"%s\" must be of type '%s'.", key, sig);
                r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(msg);
}
