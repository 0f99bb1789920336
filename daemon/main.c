/* SPDX-License-Identifier: MIT */
/*
 * unicornd: the Unicorn system service. Owns org.unicorn.Engine1 on the
 * system bus (or the bus in DBUS_SYSTEM_BUS_ADDRESS, or --bus=…), tells
 * systemd when it is ready, pets the watchdog, and on SIGTERM cancels
 * running requests, lets them write their final record, and exits.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "bus-util.h"
#include "log.h"
#include "unicornd.h"

static void help(void) {
        printf("Usage: unicornd [OPTIONS]\n\n"
               "The Unicorn LLM service: runs models and serves them on the D-Bus system bus.\n\n"
               "  -h --help             Show this help\n"
               "     --version          Show the version\n"
               "     --bus-introspect   Print the D-Bus interfaces as introspection XML and exit\n"
               "     --config=PATH      Configuration file (default " CONFIG_DEFAULT_PATH ")\n"
               "     --state-dir=PATH   Model store (overrides StateDirectory=)\n"
               "     --bus=system|session|ADDRESS\n"
               "                        Bus to serve on (default: system, honouring\n"
               "                        DBUS_SYSTEM_BUS_ADDRESS)\n"
               "  -v --verbose          Log debug messages (may include user data)\n");
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        (void) sd_notify(false, "STOPPING=1\nSTATUS=Finishing requests…");
        manager_shutdown(m);
        return 0;
}

int main(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_INTROSPECT, ARG_CONFIG, ARG_STATE_DIR, ARG_BUS };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "bus-introspect", no_argument, NULL, ARG_INTROSPECT },
                { "config", required_argument, NULL, ARG_CONFIG },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "bus", required_argument, NULL, ARG_BUS },
                { "verbose", no_argument, NULL, 'v' },
                {}
        };
        const char *config_path = CONFIG_DEFAULT_PATH, *state_dir = NULL, *bus = NULL;
        bool config_given = false;
        Manager *m = NULL;
        sigset_t ss;
        int c, r;

        log_setup();
        while ((c = getopt_long(argc, argv, "hv", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("unicornd %s\n", UNICORN_VERSION);
                        return 0;
                case ARG_INTROSPECT:
                        return introspect_print(stdout) < 0 ? 1 : 0;
                case ARG_CONFIG:
                        config_path = optarg;
                        config_given = true;
                        break;
                case ARG_STATE_DIR:
                        state_dir = optarg;
                        break;
                case ARG_BUS:
                        bus = optarg;
                        break;
                case 'v':
                        log_max_level = LOG_DEBUG;
                        break;
                default:
                        return 2;
                }
        if (optind < argc) {
                fprintf(stderr, "unicornd takes no arguments.\n");
                return 2;
        }

        /* A reader that goes away must not kill us: EPIPE is handled. */
        signal(SIGPIPE, SIG_IGN);
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        pthread_sigmask(SIG_BLOCK, &ss, NULL);

        r = manager_new(&m);
        if (r < 0) {
                log_error_errno(r, "Failed to allocate: %m");
                return 1;
        }
        r = config_load(&m->config, config_path, config_given);
        if (r < 0)
                goto finish;
        if (state_dir) {
                char *d = strdup(state_dir);
                if (!d) {
                        r = log_oom();
                        goto finish;
                }
                free(m->config.state_dir);
                m->config.state_dir = d;
        }

        r = sd_event_add_signal(m->event, NULL, SIGTERM, on_sigterm, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, on_sigterm, m);
        if (r >= 0)
                r = sd_event_set_watchdog(m->event, true);
        if (r < 0) {
                log_error_errno(r, "Failed to set up the event loop: %m");
                goto finish;
        }

        if (!bus || streq(bus, "system"))
                r = manager_start(m, NULL, false);
        else if (streq(bus, "session") || streq(bus, "user"))
                r = manager_start(m, NULL, true);
        else
                r = manager_start(m, bus, false);
        if (r < 0)
                goto finish;

        log_info("unicornd %s ready; models in %s.", UNICORN_VERSION, m->config.state_dir);
        (void) sd_notify(false, "READY=1\nSTATUS=Serving.");
        r = sd_event_loop(m->event);
        if (r < 0)
                log_error_errno(r, "Event loop failed: %m");
        (void) sd_notify(false, "STOPPING=1");
finish:
        manager_free(m);
        return r < 0 ? 1 : 0;
}
