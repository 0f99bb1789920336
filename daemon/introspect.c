/* SPDX-License-Identifier: MIT */
/*
 * unicornd --bus-introspect: the D-Bus introspection XML of every
 * interface, written from the vtables themselves (as systemd's
 * bus-introspect.c does), without a bus. tests/integration diffs it
 * against dbus/org.unicorn.Engine1.xml so code and documentation cannot
 * drift apart.
 */
#include <stdio.h>
#include <string.h>

#include "bus-util.h"
#include "unicornd.h"

/* Length of the single complete type at the start of s. */
static size_t type_len(const char *s) {
        size_t n = 0;
        int depth = 0;

        if (s[0] == 'a')
                return 1 + type_len(s + 1);
        if (s[0] != '(' && s[0] != '{')
                return s[0] ? 1 : 0;
        do {
                if (s[n] == '\0')
                        return n;
                if (s[n] == '(' || s[n] == '{')
                        depth++;
                else if (s[n] == ')' || s[n] == '}')
                        depth--;
                n++;
        } while (depth > 0);
        return n;
}

/* Writes one <arg> per complete type in sig, names taken from *names. */
static void print_args(FILE *f, const char *sig, const char **names, const char *direction) {
        while (sig && *sig) {
                size_t l = type_len(sig);
                const char *name = *names && **names ? *names : NULL;

                fprintf(f, "   <arg type=\"%.*s\"", (int) l, sig);
                if (name) {
                        fprintf(f, " name=\"%s\"", name);
                        *names += strlen(name) + 1;
                }
                if (direction)
                        fprintf(f, " direction=\"%s\"", direction);
                fprintf(f, "/>\n");
                sig += l;
        }
}

static void print_interface(FILE *f, const char *name, const sd_bus_vtable *v) {
        fprintf(f, "  <interface name=\"%s\">\n", name);
        for (; v->type != _SD_BUS_VTABLE_END; v++) {
                const char *names;
                switch (v->type) {
                case _SD_BUS_VTABLE_METHOD:
                        names = v->x.method.names;
                        fprintf(f, "   <method name=\"%s\">\n", v->x.method.member);
                        print_args(f, v->x.method.signature, &names, "in");
                        print_args(f, v->x.method.result, &names, "out");
                        fprintf(f, "   </method>\n");
                        break;
                case _SD_BUS_VTABLE_SIGNAL:
                        names = v->x.signal.names;
                        fprintf(f, "   <signal name=\"%s\">\n", v->x.signal.member);
                        print_args(f, v->x.signal.signature, &names, NULL);
                        fprintf(f, "   </signal>\n");
                        break;
                case _SD_BUS_VTABLE_PROPERTY:
                case _SD_BUS_VTABLE_WRITABLE_PROPERTY: {
                        const char *emits = NULL;
                        if (v->flags & SD_BUS_VTABLE_PROPERTY_CONST)
                                emits = "const";
                        else if (v->flags & SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION)
                                emits = "invalidates";
                        else if (!(v->flags & SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE))
                                emits = "false";
                        fprintf(f, "   <property name=\"%s\" type=\"%s\" access=\"%s\"", v->x.property.member,
                                v->x.property.signature,
                                v->type == _SD_BUS_VTABLE_WRITABLE_PROPERTY ? "readwrite" : "read");
                        if (emits)
                                fprintf(f, ">\n    <annotation name=\"org.freedesktop.DBus.Property.EmitsChangedSignal\" "
                                           "value=\"%s\"/>\n   </property>\n", emits);
                        else
                                fprintf(f, "/>\n");
                        break;
                }
                }
        }
        fprintf(f, "  </interface>\n");
}

int introspect_print(FILE *f) {
        fprintf(f, "<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n"
                   " \"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n<node>\n");
        print_interface(f, UNICORN_MANAGER_IFACE, manager_vtable);
        print_interface(f, UNICORN_SESSION_IFACE, session_vtable);
        print_interface(f, UNICORN_REQUEST_IFACE, request_vtable);
        print_interface(f, UNICORN_JOB_IFACE, job_vtable);
        fprintf(f, "</node>\n");
        return fflush(f) == 0 ? 0 : -errno;
}
