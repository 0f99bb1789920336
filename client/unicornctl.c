/* SPDX-License-Identifier: MIT */
/*
 * unicornctl: the command-line client of unicornd. An ordinary D-Bus
 * client (sd-bus); it never links the engine.
 *
 * Exit codes (documented in docs/unicornctl.1):
 *   0 success, 1 failure, 2 usage error, 3 no such model/object,
 *   4 not authorized, 5 the service is not running.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#define BUS_NAME "org.unicorn.Engine1"
#define PATH "/org/unicorn/Engine1"
#define MANAGER "org.unicorn.Engine1.Manager"
#define SESSION "org.unicorn.Engine1.Session"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_NOT_FOUND = 3, EXIT_DENIED = 4, EXIT_NO_SERVICE = 5 };

static bool arg_json = false;
static const char *arg_bus = NULL;
static double arg_temperature = NAN;
static int arg_max_tokens = -1;
static long long arg_seed = -1;
static bool arg_stats = false;
static bool arg_replace = false;
static unsigned arg_context = 0;

#define _cleanup_(f) __attribute__((__cleanup__(f)))
static void freep(void *p) {
        free(*(void **) p);
}

static int bus_exit_code(const sd_bus_error *e, int r) {
        if (e && e->name) {
                if (strstr(e->name, "NoSuchModel") || strstr(e->name, "UnknownObject") || strstr(e->name, "NotLoaded"))
                        return EXIT_NOT_FOUND;
                if (strstr(e->name, "AccessDenied") || strstr(e->name, "InteractiveAuthorizationRequired"))
                        return EXIT_DENIED;
                if (strstr(e->name, "ServiceUnknown") || strstr(e->name, "NameHasNoOwner"))
                        return EXIT_NO_SERVICE;
        }
        return r == -ENOENT ? EXIT_NO_SERVICE : EXIT_FAIL;
}

static int fail(const sd_bus_error *e, int r, const char *what) {
        fprintf(stderr, "unicornctl: %s: %s\n", what, e && e->message ? e->message : strerror(-r));
        return bus_exit_code(e, r);
}

static int connect_bus(sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        if (!arg_bus || strcmp(arg_bus, "system") == 0)
                r = sd_bus_open_system(&bus); /* honours DBUS_SYSTEM_BUS_ADDRESS */
        else if (strcmp(arg_bus, "session") == 0 || strcmp(arg_bus, "user") == 0)
                r = sd_bus_open_user(&bus);
        else {
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, arg_bus);
                if (r >= 0)
                        r = sd_bus_set_bus_client(bus, true);
                if (r >= 0)
                        r = sd_bus_negotiate_fds(bus, true);
                if (r >= 0)
                        r = sd_bus_start(bus);
        }
        if (r < 0) {
                fprintf(stderr, "unicornctl: cannot connect to the bus: %s\n", strerror(-r));
                sd_bus_unref(bus);
                return EXIT_NO_SERVICE;
        }
        /* Let polkit ask for a password when a person is at the terminal. */
        (void) sd_bus_set_allow_interactive_authorization(bus, isatty(STDIN_FILENO));
        *ret = bus;
        return 0;
}

static void json_string(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p == '\n')
                        fputs("\\n", f);
                else if (*p < 0x20 || *p == 0x7f)
                        fprintf(f, "\\u%04x", *p);
                else
                        fputc(*p, f);
        }
        fputc('"', f);
}

static void format_size(uint64_t b, char *buf, size_t n) {
        const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        double v = (double) b;
        unsigned i = 0;
        while (v >= 1024 && i < 4)
                v /= 1024, i++;
        snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

/* --- list / ps / status ------------------------------------------------- */

static int cmd_list(sd_bus *bus, int argc, char **argv) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *name;
        uint64_t size;
        int loaded, r, n = 0;

        r = sd_bus_call_method(bus, BUS_NAME, PATH, MANAGER, "ListModels", &e, &reply, "");
        if (r < 0) {
                r = fail(&e, r, "ListModels");
                sd_bus_error_free(&e);
                return r;
        }
        r = sd_bus_message_enter_container(reply, 'a', "(stb)");
        if (arg_json)
                printf("[");
        else
                printf("%-40s %10s  %s\n", "NAME", "SIZE", "LOADED");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(stb)", &name, &size, &loaded)) > 0) {
                if (arg_json) {
                        printf("%s{\"name\":", n ? "," : "");
                        json_string(stdout, name);
                        printf(",\"size\":%" PRIu64 ",\"loaded\":%s}", size, loaded ? "true" : "false");
                } else {
                        char s[32];
                        format_size(size, s, sizeof s);
                        printf("%-40s %10s  %s\n", name, s, loaded ? "yes" : "no");
                }
                n++;
        }
        if (arg_json)
                printf("]\n");
        sd_bus_message_unref(reply);
        return r < 0 ? fail(NULL, r, "ListModels") : EXIT_OK;
}

static int get_u32(sd_bus *bus, const char *prop, uint32_t *ret) {
        return sd_bus_get_property_trivial(bus, BUS_NAME, PATH, MANAGER, prop, NULL, 'u', ret);
}

static int cmd_ps(sd_bus *bus, int argc, char **argv) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *name, *backend;
        uint64_t bytes, params;
        uint32_t sessions, running, active = 0, nsessions = 0;
        int r, n = 0;

        r = sd_bus_call_method(bus, BUS_NAME, PATH, MANAGER, "ListLoadedModels", &e, &reply, "");
        if (r < 0) {
                r = fail(&e, r, "ListLoadedModels");
                sd_bus_error_free(&e);
                return r;
        }
        (void) get_u32(bus, "ActiveRequests", &active);
        (void) get_u32(bus, "Sessions", &nsessions);
        r = sd_bus_message_enter_container(reply, 'a', "(ssttuu)");
        if (arg_json)
                printf("{\"active_requests\":%u,\"sessions\":%u,\"models\":[", active, nsessions);
        else
                printf("%-32s %-28s %10s %8s %8s\n", "MODEL", "BACKEND", "MEMORY", "SESSIONS", "RUNNING");
        while (r >= 0 &&
               (r = sd_bus_message_read(reply, "(ssttuu)", &name, &backend, &bytes, &params, &sessions, &running)) > 0) {
                if (arg_json) {
                        printf("%s{\"name\":", n ? "," : "");
                        json_string(stdout, name);
                        printf(",\"backend\":");
                        json_string(stdout, backend);
                        printf(",\"weight_bytes\":%" PRIu64 ",\"parameters\":%" PRIu64
                               ",\"sessions\":%u,\"running\":%u}",
                               bytes, params, sessions, running);
                } else {
                        char s[32];
                        format_size(bytes, s, sizeof s);
                        printf("%-32s %-28s %10s %8u %8u\n", name, backend, s, sessions, running);
                }
                n++;
        }
        if (arg_json)
                printf("]}\n");
        else
                printf("\n%u sessions, %u active requests.\n", nsessions, active);
        sd_bus_message_unref(reply);
        return r < 0 ? fail(NULL, r, "ListLoadedModels") : EXIT_OK;
}

static int cmd_status(sd_bus *bus, int argc, char **argv) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(freep) char *version = NULL;
        char **loaded = NULL;
        uint32_t active = 0, sessions = 0, max_ctx = 0, parallel = 0;
        int autoload = 0, r;

        r = sd_bus_get_property_string(bus, BUS_NAME, PATH, MANAGER, "Version", &e, &version);
        if (r < 0) {
                r = fail(&e, r, "Cannot reach unicornd");
                sd_bus_error_free(&e);
                return r;
        }
        (void) sd_bus_get_property_strv(bus, BUS_NAME, PATH, MANAGER, "LoadedModels", NULL, &loaded);
        (void) get_u32(bus, "ActiveRequests", &active);
        (void) get_u32(bus, "Sessions", &sessions);
        (void) get_u32(bus, "MaxContextLength", &max_ctx);
        (void) get_u32(bus, "ParallelSessions", &parallel);
        (void) sd_bus_get_property_trivial(bus, BUS_NAME, PATH, MANAGER, "AutoLoad", NULL, 'b', &autoload);
        if (arg_json) {
                printf("{\"version\":");
                json_string(stdout, version);
                printf(",\"loaded_models\":[");
                for (size_t i = 0; loaded && loaded[i]; i++) {
                        if (i)
                                printf(",");
                        json_string(stdout, loaded[i]);
                }
                printf("],\"active_requests\":%u,\"sessions\":%u,\"auto_load\":%s,\"max_context_length\":%u,"
                       "\"parallel_sessions\":%u}\n",
                       active, sessions, autoload ? "true" : "false", max_ctx, parallel);
        } else {
                printf("Version:         %s\nLoaded models:  ", version);
                for (size_t i = 0; loaded && loaded[i]; i++)
                        printf(" %s", loaded[i]);
                printf("%s\nSessions:        %u\nActive requests: %u\nAuto load:       %s\nMax context:     %u tokens\n"
                       "Parallel:        %u sessions a step\n",
                       loaded && loaded[0] ? "" : " (none)", sessions, active, autoload ? "yes" : "no", max_ctx,
                       parallel);
        }
        for (size_t i = 0; loaded && loaded[i]; i++)
                free(loaded[i]);
        free(loaded);
        return EXIT_OK;
}

static int simple_call(sd_bus *bus, const char *method, const char *arg) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = sd_bus_call_method(bus, BUS_NAME, PATH, MANAGER, method, &e, NULL, "s", arg);
        if (r < 0) {
                r = fail(&e, r, method);
                sd_bus_error_free(&e);
                return r;
        }
        return EXIT_OK;
}

static int cmd_rm(sd_bus *bus, int argc, char **argv) {
        int ret = EXIT_OK;
        for (int i = 1; i < argc; i++) {
                int r = simple_call(bus, "RemoveModel", argv[i]);
                if (r != EXIT_OK)
                        ret = r;
        }
        return ret;
}

static int cmd_load(sd_bus *bus, int argc, char **argv) {
        return simple_call(bus, "LoadModel", argv[1]);
}

static int cmd_unload(sd_bus *bus, int argc, char **argv) {
        return simple_call(bus, "UnloadModel", argv[1]);
}

/* --- import -------------------------------------------------------------- */

static int cmd_import(sd_bus *bus, int argc, char **argv) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *file = argv[1], *job;
        char name[129];
        bool tty = isatty(STDERR_FILENO) && !arg_json;
        int fd, r, ret = EXIT_OK;

        if (argc > 2)
                snprintf(name, sizeof name, "%s", argv[2]);
        else {
                /* Default name: the file's base name without ".gguf". */
                const char *b = strrchr(file, '/');
                snprintf(name, sizeof name, "%s", b ? b + 1 : file);
                size_t l = strlen(name);
                if (l > 5 && strcmp(name + l - 5, ".gguf") == 0)
                        name[l - 5] = '\0';
        }
        fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                fprintf(stderr, "unicornctl: cannot open %s: %m\n", file);
                return errno == ENOENT ? EXIT_NOT_FOUND : EXIT_FAIL;
        }
        r = sd_bus_call_method(bus, BUS_NAME, PATH, MANAGER, "ImportModel", &e, &reply, "hsa{sv}", fd, name, 1,
                               "replace", "b", (int) arg_replace);
        close(fd);
        if (r < 0) {
                r = fail(&e, r, "ImportModel");
                sd_bus_error_free(&e);
                return r;
        }
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                return fail(NULL, r, "ImportModel");

        /* Poll the job: simple, and immune to missing an early signal. */
        for (;;) {
                _cleanup_(freep) char *state = NULL, *error = NULL;
                double progress = 0;

                r = sd_bus_get_property_string(bus, BUS_NAME, job, "org.unicorn.Engine1.Job", "State", &e, &state);
                if (r < 0) {
                        ret = fail(&e, r, "Import");
                        sd_bus_error_free(&e);
                        break;
                }
                (void) sd_bus_get_property_trivial(bus, BUS_NAME, job, "org.unicorn.Engine1.Job", "Progress", NULL, 'd',
                                                   &progress);
                if (tty) {
                        int w = 40, filled = (int) (progress * w);
                        fprintf(stderr, "\rImporting %s [%.*s%*s] %3.0f%%", name, filled,
                                "########################################", w - filled, "", progress * 100);
                }
                if (strcmp(state, "running") != 0) {
                        if (tty)
                                fputc('\n', stderr);
                        if (strcmp(state, "done") == 0) {
                                if (arg_json) {
                                        printf("{\"name\":");
                                        json_string(stdout, name);
                                        printf(",\"state\":\"done\"}\n");
                                }
                        } else {
                                (void) sd_bus_get_property_string(bus, BUS_NAME, job, "org.unicorn.Engine1.Job",
                                                                  "Error", NULL, &error);
                                fprintf(stderr, "unicornctl: import %s: %s\n", state, error ? error : "");
                                ret = EXIT_FAIL;
                        }
                        break;
                }
                usleep(200 * 1000);
        }
        sd_bus_message_unref(reply);
        return ret;
}

/* --- run / chat ------------------------------------------------------------ */

/* Decodes one JSON string starting at *p (at the opening quote). */
static char *json_parse_string(const char **p) {
        const char *s = *p + 1;
        size_t cap = strlen(s) + 1, n = 0;
        char *out = malloc(cap);

        if (!out)
                return NULL;
        while (*s && *s != '"') {
                if (*s != '\\') {
                        out[n++] = *s++;
                        continue;
                }
                s++;
                switch (*s) {
                case 'n': out[n++] = '\n'; break;
                case 't': out[n++] = '\t'; break;
                case 'r': out[n++] = '\r'; break;
                case 'b': out[n++] = '\b'; break;
                case 'f': out[n++] = '\f'; break;
                case 'u': {
                        unsigned cp = 0;
                        if (sscanf(s + 1, "%4x", &cp) != 1)
                                break;
                        s += 4;
                        if (cp >= 0xd800 && cp < 0xdc00 && s[1] == '\\' && s[2] == 'u') {
                                unsigned lo = 0;
                                if (sscanf(s + 3, "%4x", &lo) == 1) {
                                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                                        s += 6;
                                }
                        }
                        if (cp < 0x80)
                                out[n++] = (char) cp;
                        else if (cp < 0x800) {
                                out[n++] = (char) (0xc0 | (cp >> 6));
                                out[n++] = (char) (0x80 | (cp & 0x3f));
                        } else if (cp < 0x10000) {
                                out[n++] = (char) (0xe0 | (cp >> 12));
                                out[n++] = (char) (0x80 | ((cp >> 6) & 0x3f));
                                out[n++] = (char) (0x80 | (cp & 0x3f));
                        } else {
                                out[n++] = (char) (0xf0 | (cp >> 18));
                                out[n++] = (char) (0x80 | ((cp >> 12) & 0x3f));
                                out[n++] = (char) (0x80 | ((cp >> 6) & 0x3f));
                                out[n++] = (char) (0x80 | (cp & 0x3f));
                        }
                        break;
                }
                default: out[n++] = *s; break;
                }
                if (*s)
                        s++;
        }
        out[n] = '\0';
        *p = *s ? s + 1 : s;
        return out;
}

static char *json_get_string(const char *line, const char *key) {
        char k[64];
        snprintf(k, sizeof k, "\"%s\":", key);
        const char *p = strstr(line, k);
        if (!p)
                return NULL;
        p += strlen(k);
        if (*p != '"')
                return NULL;
        return json_parse_string(&p);
}

static int append_params(sd_bus_message *m) {
        int r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && !isnan(arg_temperature))
                r = sd_bus_message_append(m, "{sv}", "temperature", "d", arg_temperature);
        if (r >= 0 && arg_max_tokens >= 0)
                r = sd_bus_message_append(m, "{sv}", "max_tokens", "i", arg_max_tokens);
        if (r >= 0 && arg_seed >= 0)
                r = sd_bus_message_append(m, "{sv}", "seed", "t", (uint64_t) arg_seed);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static int open_session(sd_bus *bus, const char *model, char **ret) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *path;
        int r;

        if (arg_context)
                r = sd_bus_call_method(bus, BUS_NAME, PATH, MANAGER, "OpenSession", &e, &reply, "sa{sv}", model, 1,
                                       "context_length", "u", arg_context);
        else
                r = sd_bus_call_method(bus, BUS_NAME, PATH, MANAGER, "OpenSession", &e, &reply, "sa{sv}", model, 0);
        if (r < 0) {
                r = fail(&e, r, "OpenSession");
                sd_bus_error_free(&e);
                return -r;
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0)
                *ret = strdup(path);
        sd_bus_message_unref(reply);
        return r < 0 ? -EXIT_FAIL : 0;
}

/* One turn: sends the message, streams the reply to stdout. */
static int chat_turn(sd_bus *bus, const char *session, const char *text) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        char *line = NULL;
        size_t cap = 0;
        int p[2], r, ret = EXIT_FAIL;
        bool ended = false, newline = true;
        FILE *f;

        if (pipe2(p, O_CLOEXEC) < 0)
                return fail(NULL, -errno, "pipe");
        r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, session, SESSION, "Chat");
        if (r >= 0)
                r = sd_bus_message_append(m, "aa{sv}", 1, 2, "role", "s", "user", "content", "s", text);
        if (r >= 0)
                r = append_params(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "h", p[1]);
        if (r >= 0)
                r = sd_bus_call(bus, m, 0, &e, &reply);
        close(p[1]);
        sd_bus_message_unref(m);
        sd_bus_message_unref(reply);
        if (r < 0) {
                close(p[0]);
                r = fail(&e, r, "Chat");
                sd_bus_error_free(&e);
                return r;
        }
        f = fdopen(p[0], "r");
        while (getline(&line, &cap, f) > 0) {
                char *type = json_get_string(line, "type");
                if (type && strcmp(type, "delta") == 0) {
                        char *t = json_get_string(line, "text");
                        if (t) {
                                fputs(t, stdout);
                                fflush(stdout);
                                newline = t[0] && t[strlen(t) - 1] == '\n';
                        }
                        free(t);
                } else if (type && strcmp(type, "done") == 0) {
                        ended = true;
                        ret = EXIT_OK;
                        if (!newline)
                                fputc('\n', stdout);
                        if (arg_stats)
                                fprintf(stderr, "%s", line);
                } else if (type && strcmp(type, "error") == 0) {
                        char *msg = json_get_string(line, "message");
                        ended = true;
                        fprintf(stderr, "unicornctl: %s\n", msg ? msg : "generation failed");
                        free(msg);
                }
                free(type);
        }
        free(line);
        fclose(f);
        if (!ended)
                fprintf(stderr, "unicornctl: the reply ended early.\n");
        return ret;
}

static char *read_all(FILE *f) {
        size_t cap = 4096, n = 0;
        char *s = malloc(cap);
        size_t k;

        while (s && (k = fread(s + n, 1, cap - n - 1, f)) > 0) {
                n += k;
                if (cap - n < 2) {
                        char *ns = realloc(s, cap * 2);
                        if (!ns) {
                                free(s);
                                return NULL;
                        }
                        s = ns, cap *= 2;
                }
        }
        if (s)
                s[n] = '\0';
        return s;
}

static int cmd_run(sd_bus *bus, int argc, char **argv) {
        _cleanup_(freep) char *session = NULL, *prompt = NULL;
        int r;

        if (argc > 2) {
                /* The remaining words are the prompt. */
                size_t len = 1;
                for (int i = 2; i < argc; i++)
                        len += strlen(argv[i]) + 1;
                prompt = calloc(1, len);
                for (int i = 2; prompt && i < argc; i++) {
                        if (i > 2)
                                strcat(prompt, " ");
                        strcat(prompt, argv[i]);
                }
        } else
                prompt = read_all(stdin);
        if (!prompt)
                return fail(NULL, -ENOMEM, "prompt");
        r = open_session(bus, argv[1], &session);
        if (r < 0)
                return -r;
        return chat_turn(bus, session, prompt);
}

static int cmd_chat(sd_bus *bus, int argc, char **argv) {
        _cleanup_(freep) char *session = NULL;
        char *line;
        int r;

        r = open_session(bus, argv[1], &session);
        if (r < 0)
                return -r;
        if (isatty(STDIN_FILENO))
                printf("Chatting with %s. /reset forgets the conversation, /quit or Ctrl-D ends.\n", argv[1]);
        while ((line = readline(isatty(STDIN_FILENO) ? ">>> " : ""))) {
                if (line[0] == '\0') {
                        free(line);
                        continue;
                }
                add_history(line);
                if (strcmp(line, "/quit") == 0 || strcmp(line, "/exit") == 0) {
                        free(line);
                        break;
                }
                if (strcmp(line, "/reset") == 0) {
                        sd_bus_error e = SD_BUS_ERROR_NULL;
                        if (sd_bus_call_method(bus, BUS_NAME, session, SESSION, "Reset", &e, NULL, "") < 0)
                                fail(&e, -EIO, "Reset");
                        sd_bus_error_free(&e);
                        free(line);
                        continue;
                }
                r = chat_turn(bus, session, line);
                free(line);
                if (r != EXIT_OK && r != EXIT_FAIL)
                        return r;
        }
        return EXIT_OK;
}

/* --- devices / power ----------------------------------------------------- */

struct device_row {
        const char *id, *kind, *name, *driver, *node, *power, *reason, *firmware;
        const char *vk_name, *vk_type, *vk_match;
        int32_t vk_index; /* -1: no Vulkan device */
        uint64_t mem_total, mem_used;
        bool have_mem, present, verified;
};

static bool type_is(const char *contents, const char *type) {
        return contents && strcmp(contents, type) == 0;
}

/* Reads one a{sv} of Devices; unknown keys are skipped so newer daemons work. */
static int read_device_details(sd_bus_message *m, struct device_row *d) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key, *contents;
                char type;
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                r = sd_bus_message_peek_type(m, &type, &contents);
                if (r < 0)
                        return r;
                if (type_is(contents, "s") && strcmp(key, "driver") == 0)
                        r = sd_bus_message_read(m, "v", "s", &d->driver);
                else if (type_is(contents, "s") && strcmp(key, "node") == 0)
                        r = sd_bus_message_read(m, "v", "s", &d->node);
                else if (type_is(contents, "s") && strcmp(key, "power_mode") == 0)
                        r = sd_bus_message_read(m, "v", "s", &d->power);
                else if (type_is(contents, "s") && strcmp(key, "reason") == 0)
                        r = sd_bus_message_read(m, "v", "s", &d->reason);
                else if (type_is(contents, "s") && strcmp(key, "firmware") == 0)
                        r = sd_bus_message_read(m, "v", "s", &d->firmware);
                else if (type_is(contents, "s") && strcmp(key, "vulkan_name") == 0)
                        r = sd_bus_message_read(m, "v", "s", &d->vk_name);
                else if (type_is(contents, "s") && strcmp(key, "vulkan_type") == 0)
                        r = sd_bus_message_read(m, "v", "s", &d->vk_type);
                else if (type_is(contents, "s") && strcmp(key, "vulkan_match") == 0)
                        r = sd_bus_message_read(m, "v", "s", &d->vk_match);
                else if (type_is(contents, "i") && strcmp(key, "vulkan_index") == 0)
                        r = sd_bus_message_read(m, "v", "i", &d->vk_index);
                else if (type_is(contents, "t") && strcmp(key, "memory_total") == 0) {
                        r = sd_bus_message_read(m, "v", "t", &d->mem_total);
                        d->have_mem = true;
                } else if (type_is(contents, "t") && strcmp(key, "memory_used") == 0)
                        r = sd_bus_message_read(m, "v", "t", &d->mem_used);
                else if (type_is(contents, "b") && strcmp(key, "present") == 0) {
                        int b;
                        r = sd_bus_message_read(m, "v", "b", &b);
                        d->present = b;
                } else if (type_is(contents, "b") && strcmp(key, "verified") == 0) {
                        int b;
                        r = sd_bus_message_read(m, "v", "b", &b);
                        d->verified = b;
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static void json_kv_string(const char *key, const char *v) {
        printf(",\"%s\":", key);
        if (v)
                json_string(stdout, v);
        else
                printf("null");
}

static int cmd_devices(sd_bus *bus, int argc, char **argv) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        _cleanup_(freep) char *power = NULL;
        unsigned n = 0;
        int r;

        r = sd_bus_get_property(bus, BUS_NAME, PATH, MANAGER, "Devices", &e, &reply, "a(sssa{sv})");
        if (r < 0) {
                r = fail(&e, r, "Devices");
                sd_bus_error_free(&e);
                return r;
        }
        (void) sd_bus_get_property_string(bus, BUS_NAME, PATH, MANAGER, "PowerMode", NULL, &power);
        r = sd_bus_message_enter_container(reply, 'a', "(sssa{sv})");
        if (arg_json)
                printf("{\"power_mode\":%s%s%s,\"devices\":[", power ? "\"" : "", power ? power : "null",
                       power ? "\"" : "");
        else
                printf("%-11s %-6s %-40s %-8s %-21s %-8s %-8s %s\n", "ID", "KIND", "NAME", "DRIVER",
                       "MEMORY (USED/TOTAL)", "POWER", "VERIFIED", "VULKAN DEVICE");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "sssa{sv}")) > 0) {
                struct device_row d = { .present = true, .vk_index = -1 };
                char total[32] = "-", used[32] = "-", mem[48], vk[200] = "-";

                r = sd_bus_message_read(reply, "sss", &d.id, &d.kind, &d.name);
                if (r >= 0)
                        r = read_device_details(reply, &d);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        break;
                if (arg_json) {
                        printf("%s{\"id\":", n++ ? "," : "");
                        json_string(stdout, d.id);
                        json_kv_string("kind", d.kind);
                        json_kv_string("name", d.name);
                        json_kv_string("driver", d.driver);
                        json_kv_string("node", d.node);
                        printf(",\"present\":%s,\"verified_on_hardware\":%s", d.present ? "true" : "false",
                               d.verified ? "true" : "false");
                        if (d.have_mem)
                                printf(",\"memory_total\":%" PRIu64 ",\"memory_used\":%" PRIu64, d.mem_total,
                                       d.mem_used);
                        json_kv_string("power_mode", d.power);
                        json_kv_string("firmware", d.firmware);
                        if (d.vk_index >= 0) {
                                printf(",\"vulkan_index\":%" PRIi32, d.vk_index);
                                json_kv_string("vulkan_name", d.vk_name);
                                json_kv_string("vulkan_type", d.vk_type);
                                json_kv_string("vulkan_match", d.vk_match);
                        }
                        if (!d.present)
                                json_kv_string("reason", d.reason);
                        printf("}");
                        continue;
                }
                if (!d.present) {
                        printf("%-11s %-6s %-40s absent: %s\n", d.id, d.kind, d.name, d.reason ? d.reason : "not found");
                        continue;
                }
                if (d.have_mem) {
                        format_size(d.mem_total, total, sizeof total);
                        format_size(d.mem_used, used, sizeof used);
                }
                snprintf(mem, sizeof mem, "%s / %s", used, total);
                if (d.vk_index >= 0)
                        snprintf(vk, sizeof vk, "#%" PRIi32 " %s (%s%s%s)", d.vk_index, d.vk_name ? d.vk_name : "?",
                                 d.vk_type ? d.vk_type : "?", d.vk_match ? ", matched by " : "",
                                 d.vk_match ? d.vk_match : "");
                printf("%-11s %-6s %-40.40s %-8s %-21s %-8s %-8s %s\n", d.id, d.kind, d.name,
                       d.driver ? d.driver : "-", mem, d.power ? d.power : "-", d.verified ? "yes" : "no", vk);
        }
        if (arg_json)
                printf("]}\n");
        else
                printf("\nPower mode: %s\n", power ? power : "unknown");
        sd_bus_message_unref(reply);
        return r < 0 ? fail(NULL, r, "Devices") : EXIT_OK;
}

static int cmd_power(sd_bus *bus, int argc, char **argv) {
        return simple_call(bus, "SetPowerMode", argv[1]);
}

/* ---------------------------------------------------------------------------- */

static void help(void) {
        printf("Usage: unicornctl [OPTIONS] COMMAND ...\n\n"
               "Control the Unicorn language model service (unicornd).\n\n"
               "Commands:\n"
               "  list                     List models in the store\n"
               "  import FILE [NAME]       Add a GGUF model to the store\n"
               "  rm NAME...               Remove models from the store\n"
               "  load NAME                Load a model into memory\n"
               "  unload NAME              Unload a model\n"
               "  ps                       Show loaded models, sessions and memory\n"
               "  run MODEL [PROMPT...]    Answer one prompt (read from stdin if none)\n"
               "  chat MODEL               Chat interactively\n"
               "  status                   Show the service's state\n"
               "  devices                  Show CPU, GPUs and NPUs, memory and power mode\n"
               "  power MODE               Set the power mode: default, low, medium, high, turbo\n\n"
               "Options:\n"
               "  -h --help                Show this help\n"
               "     --version             Show the version\n"
               "  -j --json                JSON output for list, ps, status, import, devices\n"
               "     --bus=system|session|ADDRESS\n"
               "                           Bus to use (default: system, or $DBUS_SYSTEM_BUS_ADDRESS)\n"
               "  -t --temperature=T       Sampling temperature (0: greedy)\n"
               "  -n --max-tokens=N        Stop after N tokens\n"
               "     --seed=N              Random seed\n"
               "  -c --context=N           Context length of the session in tokens\n"
               "     --replace             import: overwrite a model of the same name\n"
               "  -s --stats               run/chat: print the final record (timings) on stderr\n\n"
               "Exit status: 0 success, 1 failure, 2 usage error, 3 no such model,\n"
               "4 not authorized, 5 service not reachable.\n");
}

int main(int argc, char **argv) {
        enum { ARG_VERSION = 0x100, ARG_BUS, ARG_SEED, ARG_REPLACE };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "json", no_argument, NULL, 'j' },
                { "bus", required_argument, NULL, ARG_BUS },
                { "temperature", required_argument, NULL, 't' },
                { "max-tokens", required_argument, NULL, 'n' },
                { "seed", required_argument, NULL, ARG_SEED },
                { "context", required_argument, NULL, 'c' },
                { "replace", no_argument, NULL, ARG_REPLACE },
                { "stats", no_argument, NULL, 's' },
                {}
        };
        static const struct {
                const char *name;
                int min_args, max_args;
                int (*run)(sd_bus *bus, int argc, char **argv);
        } commands[] = {
                { "list", 0, 0, cmd_list },     { "import", 1, 2, cmd_import }, { "rm", 1, 1000, cmd_rm },
                { "load", 1, 1, cmd_load },     { "unload", 1, 1, cmd_unload }, { "ps", 0, 0, cmd_ps },
                { "run", 1, 100000, cmd_run },  { "chat", 1, 1, cmd_chat },     { "status", 0, 0, cmd_status },
                { "devices", 0, 0, cmd_devices }, { "power", 1, 1, cmd_power },
        };
        sd_bus *bus = NULL;
        char *end;
        int c, r;

        while ((c = getopt_long(argc, argv, "hjt:n:c:s", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_OK;
                case ARG_VERSION:
                        printf("unicornctl %s\n", UNICORN_VERSION);
                        return EXIT_OK;
                case 'j':
                        arg_json = true;
                        break;
                case ARG_BUS:
                        arg_bus = optarg;
                        break;
                case 't':
                        arg_temperature = strtod(optarg, &end);
                        if (*end || !(arg_temperature >= 0)) {
                                fprintf(stderr, "unicornctl: bad temperature: %s\n", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'n':
                        arg_max_tokens = (int) strtol(optarg, &end, 10);
                        if (*end || arg_max_tokens < 0) {
                                fprintf(stderr, "unicornctl: bad token count: %s\n", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_SEED:
                        arg_seed = strtoll(optarg, &end, 10);
                        if (*end || arg_seed < 0) {
                                fprintf(stderr, "unicornctl: bad seed: %s\n", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'c':
                        arg_context = (unsigned) strtoul(optarg, &end, 10);
                        if (*end) {
                                fprintf(stderr, "unicornctl: bad context length: %s\n", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_REPLACE:
                        arg_replace = true;
                        break;
                case 's':
                        arg_stats = true;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind >= argc) {
                help();
                return EXIT_USAGE;
        }
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
                int nargs = argc - optind - 1;
                if (strcmp(commands[i].name, argv[optind]) != 0)
                        continue;
                if (nargs < commands[i].min_args || nargs > commands[i].max_args) {
                        fprintf(stderr, "unicornctl: wrong number of arguments for %s (see --help).\n", commands[i].name);
                        return EXIT_USAGE;
                }
                signal(SIGPIPE, SIG_IGN);
                r = connect_bus(&bus);
                if (r != 0)
                        return r;
                r = commands[i].run(bus, argc - optind, argv + optind);
                sd_bus_flush_close_unref(bus);
                return r;
        }
        fprintf(stderr, "unicornctl: unknown command %s (see --help).\n", argv[optind]);
        return EXIT_USAGE;
}
