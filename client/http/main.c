/* SPDX-License-Identifier: MIT */
/*
 * unicorn-http: OpenAI- and Ollama-compatible HTTP in front of unicornd.
 * This file: options, the listening socket (ours, or the one systemd
 * passes), the loopback-unless-authenticated rule, the token file, the
 * libmicrohttpd daemon and the signals that stop it.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "metrics.h"

#define DEFAULT_LISTEN "127.0.0.1:11434"
#define TOKENS_FILE_MAX (64u * 1024u)
#define TOKEN_MIN_LEN 16

Config config = {
        .max_body = 1024 * 1024,
        .max_header = 64 * 1024,
        .max_generations = 64,
        .max_per_client = 16,
        .max_connections = 256,
        .idle_timeout = 60,
        .shutdown_fd = -EBADF,
};

static const char *arg_listen = NULL;
static const char *arg_tokens_file = NULL;

static void help(void) {
        printf("Usage: unicorn-http [OPTIONS]\n\n"
               "OpenAI- and Ollama-compatible HTTP API for the Unicorn service (unicornd).\n\n"
               "  -h --help                 Show this help\n"
               "     --version              Show the version\n"
               "  -l --listen=ADDR:PORT     Where to listen (default " DEFAULT_LISTEN "; [::1]:PORT for IPv6).\n"
               "                            Ignored when systemd passes a socket.\n"
               "     --tokens-file=PATH     Require \"Authorization: Bearer TOKEN\"; one token per line\n"
               "                            (needed to listen on a non-loopback address)\n"
               "     --cors-origin=ORIGIN   Allow browser pages from ORIGIN (or *) to call the API\n"
               "     --bus=ADDRESS          D-Bus address of unicornd (default: the system bus)\n"
               "     --max-body=BYTES       Largest request body (default 1048576)\n"
               "     --max-header=BYTES     Memory per connection; the request line and headers\n"
               "                            must fit in it (default 65536)\n"
               "     --max-generations=N    Generations running at once, all clients (default 64)\n"
               "     --max-per-client=N     Generations at once per client address or token (default 16)\n"
               "     --max-connections=N    Open HTTP connections (default 256)\n"
               "     --timeout=SECONDS      Close idle connections after this long (default 60)\n"
               "  -v --verbose              Log every request (method, path, status; never content)\n");
}

static int parse_size(const char *s, size_t lo, size_t hi, size_t *ret) {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi)
                return -EINVAL;
        *ret = (size_t) v;
        return 0;
}

static int parse_unsigned(const char *s, unsigned lo, unsigned hi, unsigned *ret) {
        size_t v;
        int r = parse_size(s, lo, hi, &v);
        if (r >= 0)
                *ret = (unsigned) v;
        return r;
}

/* "127.0.0.1:11434", "[::1]:11434", "localhost:8080". */
static int parse_listen(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len) {
        char host[INET6_ADDRSTRLEN + 16];
        const char *colon;
        unsigned port;
        size_t hl;

        if (s[0] == '[') {
                const char *close = strchr(s, ']');
                if (!close || close[1] != ':')
                        return -EINVAL;
                hl = (size_t) (close - s - 1);
                if (hl >= sizeof host)
                        return -EINVAL;
                memcpy(host, s + 1, hl);
                colon = close + 1;
        } else {
                colon = strrchr(s, ':');
                if (!colon)
                        return -EINVAL;
                hl = (size_t) (colon - s);
                if (hl >= sizeof host)
                        return -EINVAL;
                memcpy(host, s, hl);
        }
        host[hl] = '\0';
        if (parse_unsigned(colon + 1, 1, 65535, &port) < 0)
                return -EINVAL;
        if (streq(host, "localhost"))
                snprintf(host, sizeof host, "127.0.0.1");
        memset(ret, 0, sizeof *ret);
        if (s[0] == '[') {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *) ret;
                a->sin6_family = AF_INET6;
                a->sin6_port = htons((uint16_t) port);
                if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
                        return -EINVAL;
                *ret_len = sizeof *a;
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *) ret;
                a->sin_family = AF_INET;
                a->sin_port = htons((uint16_t) port);
                if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
                        return -EINVAL;
                *ret_len = sizeof *a;
        }
        return 0;
}

static bool address_is_loopback(const struct sockaddr_storage *ss) {
        if (ss->ss_family == AF_INET)
                return (ntohl(((const struct sockaddr_in *) ss)->sin_addr.s_addr) >> 24) == 127;
        if (ss->ss_family == AF_INET6) {
                const struct in6_addr *a = &((const struct sockaddr_in6 *) ss)->sin6_addr;
                if (IN6_IS_ADDR_LOOPBACK(a))
                        return true;
                return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
        }
        return false;
}

static void format_address(const struct sockaddr_storage *ss, char *buf, size_t n) {
        char a[INET6_ADDRSTRLEN] = "?";

        if (ss->ss_family == AF_INET) {
                inet_ntop(AF_INET, &((const struct sockaddr_in *) ss)->sin_addr, a, sizeof a);
                snprintf(buf, n, "%s:%u", a, ntohs(((const struct sockaddr_in *) ss)->sin_port));
        } else if (ss->ss_family == AF_INET6) {
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) ss)->sin6_addr, a, sizeof a);
                snprintf(buf, n, "[%s]:%u", a, ntohs(((const struct sockaddr_in6 *) ss)->sin6_port));
        } else
                snprintf(buf, n, "(unknown)");
}

static bool token_char_ok(char c) {
        /* RFC 6750 b64token, plus what generators commonly emit. */
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~+/=", c);
}

static int load_tokens(const char *path) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *data = NULL;
        struct stat st;
        size_t n = 0;
        ssize_t k;
        char *line, *save = NULL;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                log_error("Cannot open the tokens file %s: %s", path, strerror(errno));
                return -errno;
        }
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode)) {
                log_error("%s is not a regular file.", path);
                return -EINVAL;
        }
        /* Secrets readable by every local user are no secrets. */
        if (st.st_mode & (S_IROTH | S_IWOTH | S_IWGRP)) {
                log_error("%s is readable or writable by others; chmod 0600 (or 0640) it.", path);
                return -EPERM;
        }
        if (st.st_size > TOKENS_FILE_MAX) {
                log_error("%s is larger than %u bytes.", path, TOKENS_FILE_MAX);
                return -EFBIG;
        }
        data = malloc(TOKENS_FILE_MAX + 1);
        if (!data)
                return -ENOMEM;
        while (n < TOKENS_FILE_MAX && (k = read(fd, data + n, TOKENS_FILE_MAX - n)) != 0) {
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                n += (size_t) k;
        }
        data[n] = '\0';
        if (memchr(data, '\0', n)) {
                log_error("%s contains NUL bytes.", path);
                return -EINVAL;
        }
        config.tokens = new0(char *, MAX_TOKENS_IN_FILE);
        if (!config.tokens)
                return -ENOMEM;
        for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                size_t l;
                while (*line == ' ' || *line == '\t')
                        line++;
                l = strlen(line);
                while (l > 0 && (line[l - 1] == ' ' || line[l - 1] == '\t' || line[l - 1] == '\r'))
                        line[--l] = '\0';
                if (l == 0 || line[0] == '#')
                        continue;
                if (l < TOKEN_MIN_LEN || l > TOKEN_MAX_LEN) {
                        log_error("%s: tokens must be %d to %d characters long.", path, TOKEN_MIN_LEN, TOKEN_MAX_LEN);
                        return -EINVAL;
                }
                for (size_t i = 0; i < l; i++)
                        if (!token_char_ok(line[i])) {
                                log_error("%s: tokens may contain only A-Z a-z 0-9 - . _ ~ + / =.", path);
                                return -EINVAL;
                        }
                if (config.n_tokens >= MAX_TOKENS_IN_FILE) {
                        log_error("%s: at most %d tokens.", path, MAX_TOKENS_IN_FILE);
                        return -E2BIG;
                }
                config.tokens[config.n_tokens] = strdup(line);
                if (!config.tokens[config.n_tokens])
                        return -ENOMEM;
                config.n_tokens++;
        }
        explicit_bzero(data, n);
        if (config.n_tokens == 0) {
                log_error("%s holds no token.", path);
                return -EINVAL;
        }
        return 0;
}

static int parse_argv(int argc, char **argv) {
        enum {
                ARG_VERSION = 0x100,
                ARG_TOKENS,
                ARG_CORS,
                ARG_BUS,
                ARG_MAX_BODY,
                ARG_MAX_HEADER,
                ARG_MAX_GEN,
                ARG_MAX_CLIENT,
                ARG_MAX_CONN,
                ARG_TIMEOUT,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "listen", required_argument, NULL, 'l' },
                { "tokens-file", required_argument, NULL, ARG_TOKENS },
                { "cors-origin", required_argument, NULL, ARG_CORS },
                { "bus", required_argument, NULL, ARG_BUS },
                { "max-body", required_argument, NULL, ARG_MAX_BODY },
                { "max-header", required_argument, NULL, ARG_MAX_HEADER },
                { "max-generations", required_argument, NULL, ARG_MAX_GEN },
                { "max-per-client", required_argument, NULL, ARG_MAX_CLIENT },
                { "max-connections", required_argument, NULL, ARG_MAX_CONN },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "verbose", no_argument, NULL, 'v' },
                {}
        };
        int c, r = 0;

        while ((c = getopt_long(argc, argv, "hl:v", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("unicorn-http %s\n", HTTP_VERSION_STRING);
                        return 0;
                case 'l':
                        arg_listen = optarg;
                        break;
                case ARG_TOKENS:
                        arg_tokens_file = optarg;
                        break;
                case ARG_CORS:
                        if (!optarg[0] || strlen(optarg) > 256 || strpbrk(optarg, "\r\n ,")) {
                                log_error("Bad --cors-origin: one origin (scheme://host[:port]) or *.");
                                return -EINVAL;
                        }
                        config.cors_origin = optarg;
                        break;
                case ARG_BUS:
                        config.bus_address = optarg;
                        break;
                case ARG_MAX_BODY:
                        r = parse_size(optarg, 1024, 64u * 1024 * 1024, &config.max_body);
                        break;
                case ARG_MAX_HEADER:
                        r = parse_size(optarg, 4096, 1024 * 1024, &config.max_header);
                        break;
                case ARG_MAX_GEN:
                        r = parse_unsigned(optarg, 1, 4096, &config.max_generations);
                        break;
                case ARG_MAX_CLIENT:
                        r = parse_unsigned(optarg, 1, 4096, &config.max_per_client);
                        break;
                case ARG_MAX_CONN:
                        r = parse_unsigned(optarg, 1, 16384, &config.max_connections);
                        break;
                case ARG_TIMEOUT:
                        r = parse_unsigned(optarg, 1, 86400, &config.idle_timeout);
                        break;
                case 'v':
                        config.verbose = true;
                        break;
                default:
                        return -EINVAL;
                }
                if (r < 0) {
                        log_error("Bad value for an option: %s", optarg);
                        return r;
                }
        }
        if (optind < argc) {
                log_error("Unexpected argument: %s", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

int main(int argc, char **argv) {
        struct sockaddr_storage addr = {};
        socklen_t addr_len = sizeof addr;
        struct MHD_Daemon *d;
        unsigned flags;
        sigset_t ss;
        int listen_fd = -1, n, r, sig;
        char where[INET6_ADDRSTRLEN + 16];

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        if (arg_tokens_file && load_tokens(arg_tokens_file) < 0)
                return 1;

        n = sd_listen_fds(true);
        if (n < 0) {
                log_error("Cannot take the sockets systemd passed: %s", strerror(-n));
                return 1;
        }
        if (n > 1) {
                log_error("systemd passed %d sockets; one is expected.", n);
                return 1;
        }
        if (n == 1) {
                listen_fd = SD_LISTEN_FDS_START;
                if (sd_is_socket(listen_fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0 ||
                    getsockname(listen_fd, (struct sockaddr *) &addr, &addr_len) < 0 ||
                    (addr.ss_family != AF_INET && addr.ss_family != AF_INET6)) {
                        log_error("The socket systemd passed is not a listening TCP socket.");
                        return 1;
                }
        } else if (parse_listen(arg_listen ? arg_listen : DEFAULT_LISTEN, &addr, &addr_len) < 0) {
                log_error("Bad --listen address %s: expected IPV4:PORT or [IPV6]:PORT.", arg_listen);
                return 2;
        }
        format_address(&addr, where, sizeof where);
        config.loopback = address_is_loopback(&addr);
        if (!config.loopback && config.n_tokens == 0) {
                log_error("Refusing to listen on %s, which is not a loopback address, without --tokens-file: "
                          "anyone who can reach it could use the models.",
                          where);
                return 2;
        }

        config.shutdown_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (config.shutdown_fd < 0 || metrics_init(server_n_endpoints()) < 0) {
                log_error("Cannot set up: %s", strerror(errno));
                return 1;
        }

        /* Threads inherit the mask: only sigwait() below sees these. */
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &ss, NULL);
        signal(SIGPIPE, SIG_IGN);

        flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
        if (addr.ss_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        struct MHD_OptionItem opts[] = {
                listen_fd >= 0 ? (struct MHD_OptionItem) { MHD_OPTION_LISTEN_SOCKET, listen_fd, NULL }
                               : (struct MHD_OptionItem) { MHD_OPTION_SOCK_ADDR, 0, &addr },
                { MHD_OPTION_CONNECTION_LIMIT, config.max_connections, NULL },
                { MHD_OPTION_CONNECTION_TIMEOUT, config.idle_timeout, NULL },
                { MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t) config.max_header, NULL },
                { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t) server_completed, NULL },
                /* Handlers keep little on the stack; jansson's parser
                 * recursion is capped at depth 2048. */
                { MHD_OPTION_THREAD_STACK_SIZE, 1024 * 1024, NULL },
                { MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL },
                { MHD_OPTION_END, 0, NULL },
        };
        d = MHD_start_daemon(flags, 0, NULL, NULL, server_access, NULL, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
        if (!d) {
                log_error("Cannot listen on %s (in use, or not permitted).", where);
                return 1;
        }
        log_info("Listening on http://%s/ (%s%s%s).", where, config.n_tokens ? "bearer tokens required" : "no auth",
                 config.loopback ? ", loopback only" : "", config.cors_origin ? ", CORS on" : "");
        (void) sd_notify(false, "READY=1\nSTATUS=Serving HTTP");

        for (;;) {
                if (sigwait(&ss, &sig) != 0)
                        continue;
                if (sig == SIGHUP)
                        continue; /* nothing to reload; restart to change options */
                break;
        }
        (void) sd_notify(false, "STOPPING=1");
        log_info("Stopping.");
        /* Wake every thread waiting for the daemon; their requests cancel. */
        (void) eventfd_write(config.shutdown_fd, 1);
        MHD_stop_daemon(d);
        return 0;
}
