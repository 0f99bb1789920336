/* SPDX-License-Identifier: MIT */
/*
 * Chat with a local model through unicornd, in C with sd-bus.
 *
 *   chat-sdbus MODEL "What is the capital of France?"
 *
 * Prints the raw NDJSON records of the answer. Build:
 *   cc chat-sdbus.c $(pkg-config --cflags --libs libsystemd)
 * Run by tests/integration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL, *call = NULL;
        sd_bus *bus = NULL;
        const char *session;
        char buf[4096];
        int p[2], r;
        ssize_t n;

        if (argc != 3) {
                fprintf(stderr, "usage: %s MODEL PROMPT\n", argv[0]);
                return 2;
        }
        /* The system bus (or $DBUS_SYSTEM_BUS_ADDRESS). */
        r = sd_bus_open_system(&bus);
        if (r < 0)
                goto fail;

        /* A private session on the model. */
        r = sd_bus_call_method(bus, "org.unicorn.Engine1", "/org/unicorn/Engine1", "org.unicorn.Engine1.Manager",
                               "OpenSession", &error, &reply, "sa{sv}", argv[1], 0);
        if (r < 0)
                goto fail;
        r = sd_bus_message_read(reply, "o", &session);
        if (r < 0)
                goto fail;

        /* Chat: one user message, greedy, at most 64 tokens, the answer into our pipe. */
        if (pipe(p) < 0)
                return 1;
        r = sd_bus_message_new_method_call(bus, &call, "org.unicorn.Engine1", session, "org.unicorn.Engine1.Session",
                                           "Chat");
        if (r >= 0)
                r = sd_bus_message_append(call, "aa{sv}", 1, 2, "role", "s", "user", "content", "s", argv[2]);
        if (r >= 0)
                r = sd_bus_message_append(call, "a{sv}", 2, "temperature", "d", 0.0, "max_tokens", "i", 64);
        if (r >= 0)
                r = sd_bus_message_append(call, "h", p[1]);
        if (r >= 0)
                r = sd_bus_call(bus, call, 0, &error, NULL);
        /* The message holds a duplicate of the write end, and so do we: both
         * must go, or reading never sees the end of the stream. */
        call = sd_bus_message_unref(call);
        close(p[1]);
        if (r < 0)
                goto fail;

        /* {"type":"delta","text":"..."} lines, then {"type":"done",...}. */
        while ((n = read(p[0], buf, sizeof buf)) > 0)
                fwrite(buf, 1, (size_t) n, stdout);
        close(p[0]);
        sd_bus_message_unref(reply);
        sd_bus_flush_close_unref(bus);
        return 0;
fail:
        fprintf(stderr, "failed: %s\n", error.message ? error.message : strerror(-r));
        sd_bus_error_free(&error);
        return 1;
}
