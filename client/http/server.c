/* SPDX-License-Identifier: MIT */
/*
 * HttpRequest: what happens to every HTTP request before and after its
 * handler. In order: route and method (404/405), Host and Origin (403:
 * a web page must not drive a loopback service, and DNS rebinding must not
 * turn a foreign name into 127.0.0.1), CORS preflight, bearer token (401),
 * body size (413), then the handler. Replies add CORS headers where
 * configured and count into the metrics.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "metrics.h"
#include "upstream.h"

enum { M_GET = 1, M_POST = 2 };

typedef struct Route {
        const char *path;
        bool prefix;                  /* path is a prefix ("/v1/models/ID") */
        unsigned methods;
        Api api;
        bool public;                  /* no token needed (liveness probes) */
        enum MHD_Result (*handler)(HttpRequest *req);
} Route;

static enum MHD_Result ops_health(HttpRequest *req);

static const Route routes[] = {
        { "/health", false, M_GET, API_OPS, true, ops_health },
        { "/metrics", false, M_GET, API_OPS, false, metrics_reply },
        { "/v1/models", false, M_GET, API_OPENAI, false, openai_models },
        { "/v1/models/", true, M_GET, API_OPENAI, false, openai_model },
        { "/v1/chat/completions", false, M_POST, API_OPENAI, false, openai_chat },
        { "/v1/completions", false, M_POST, API_OPENAI, false, openai_completions },
        { "/", false, M_GET, API_OLLAMA, false, ollama_root },
        { "/api/tags", false, M_GET, API_OLLAMA, false, ollama_tags },
        { "/api/ps", false, M_GET, API_OLLAMA, false, ollama_ps },
        { "/api/version", false, M_GET, API_OLLAMA, false, ollama_version },
        { "/api/show", false, M_POST, API_OLLAMA, false, ollama_show },
        { "/api/chat", false, M_POST, API_OLLAMA, false, ollama_chat },
        { "/api/generate", false, M_POST, API_OLLAMA, false, ollama_generate },
};

const char *server_endpoint_name(int endpoint) {
        if (endpoint < 0 || (size_t) endpoint >= ELEMENTSOF(routes))
                return "other";
        return routes[endpoint].prefix ? "/v1/models/{id}" : routes[endpoint].path;
}

unsigned server_n_endpoints(void) {
        return ELEMENTSOF(routes);
}

/* --- small helpers ------------------------------------------------------ */

uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

uint64_t realtime_nsec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

void format_rfc3339(uint64_t ns, char *buf, size_t n) {
        time_t t = (time_t) (ns / 1000000000u);
        struct tm tm;
        char s[32];

        gmtime_r(&t, &tm);
        strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, n, "%s.%09lluZ", s, (unsigned long long) (ns % 1000000000u));
}

int buf_append(char **buf, size_t *len, const char *s, size_t n) {
        char *nb;

        if (n > SIZE_MAX - *len - 1)
                return -ENOMEM;
        nb = realloc(*buf, *len + n + 1);
        if (!nb)
                return -ENOMEM;
        memcpy(nb + *len, s, n);
        *len += n;
        nb[*len] = '\0';
        *buf = nb;
        return 0;
}

int buf_printf(char **buf, size_t *len, const char *fmt, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0) {
                s = NULL;
                return -ENOMEM;
        }
        return buf_append(buf, len, s, (size_t) n);
}

int buf_append_json(char **buf, size_t *len, const json_t *j, const char *prefix, const char *suffix) {
        _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);
        int r;

        if (!s)
                return -ENOMEM;
        r = buf_append(buf, len, prefix, strlen(prefix));
        if (r >= 0)
                r = buf_append(buf, len, s, strlen(s));
        if (r >= 0)
                r = buf_append(buf, len, suffix, strlen(suffix));
        return r;
}

int buf_append_json_take(char **buf, size_t *len, json_t *j, const char *prefix, const char *suffix) {
        int r;

        if (!j)
                return -ENOMEM;
        r = buf_append_json(buf, len, j, prefix, suffix);
        json_decref(j);
        return r;
}

static void vlog(const char *level, const char *fmt, va_list ap) {
        char line[1024];
        vsnprintf(line, sizeof line, fmt, ap);
        fprintf(stderr, "%s%s\n", level, line);
}

void log_info(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vlog("", fmt, ap);
        va_end(ap);
}

void log_error(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vlog("", fmt, ap);
        va_end(ap);
}

void log_debug(const char *fmt, ...) {
        va_list ap;
        if (!config.verbose)
                return;
        va_start(ap, fmt);
        vlog("", fmt, ap);
        va_end(ap);
}

int api_error(ApiError *e, unsigned status, const char *code, const char *param, const char *fmt, ...) {
        va_list ap;

        e->status = status;
        e->code = code;
        snprintf(e->param, sizeof e->param, "%s", param ? param : "");
        switch (status) {
        case 401:
                e->type = "authentication_error";
                break;
        case 403:
                e->type = "permission_error";
                break;
        case 429:
                e->type = "rate_limit_error";
                break;
        default:
                e->type = status >= 500 ? "server_error" : "invalid_request_error";
        }
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof e->message, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

/* --- replies ------------------------------------------------------------ */

static const char *header(HttpRequest *req, const char *name) {
        return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, name);
}

static bool origin_allowed(const char *origin) {
        return config.cors_origin && (streq(config.cors_origin, "*") || streq(config.cors_origin, origin));
}

static enum MHD_Result queue(HttpRequest *req, unsigned status, struct MHD_Response *resp) {
        const char *origin = header(req, "Origin");
        enum MHD_Result ret;

        if (!resp)
                return MHD_NO;
        if (origin && origin_allowed(origin)) {
                MHD_add_response_header(resp, "Access-Control-Allow-Origin",
                                        streq(config.cors_origin, "*") ? "*" : origin);
                MHD_add_response_header(resp, "Vary", "Origin");
        }
        if (status == 429 || status == 503)
                MHD_add_response_header(resp, "Retry-After", "1");
        if (status == 401)
                MHD_add_response_header(resp, "WWW-Authenticate", "Bearer");
        ret = MHD_queue_response(req->connection, status, resp);
        MHD_destroy_response(resp);
        if (!req->replied) {
                req->replied = true;
                metrics_request(req->endpoint, status);
                log_debug("%s %s -> %u", req->method, req->url, status);
        }
        return ret;
}

enum MHD_Result reply_text(HttpRequest *req, unsigned status, const char *content_type, const char *text) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), (void *) text,
                                                                    MHD_RESPMEM_MUST_COPY);
        if (resp)
                MHD_add_response_header(resp, "Content-Type", content_type);
        return queue(req, status, resp);
}

enum MHD_Result reply_json(HttpRequest *req, unsigned status, json_t *body) {
        _cleanup_free_ char *s = json_dumps(body, JSON_COMPACT);
        _cleanup_free_ char *nl = NULL;

        if (!s)
                return MHD_NO;
        if (asprintf(&nl, "%s\n", s) < 0)
                return MHD_NO;
        return reply_text(req, status, "application/json", nl);
}

enum MHD_Result reply_error(HttpRequest *req, const ApiError *e) {
        json_t *j;
        enum MHD_Result ret;

        if (req->api == API_OLLAMA)
                j = json_pack("{ss}", "error", e->message);
        else
                j = json_pack("{s{ss,ss,ss?,ss?}}", "error", "message", e->message, "type", e->type, "param",
                              e->param[0] ? e->param : NULL, "code", e->code);
        if (!j)
                return MHD_NO;
        ret = reply_json(req, e->status, j);
        json_decref(j);
        return ret;
}

typedef struct Stream {
        stream_fill_t fill;
        stream_done_t done;
        void *userdata;
        char *out;
        size_t len, off;
        bool ended;
} Stream;

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
        Stream *s = cls;
        size_t n;

        while (s->off >= s->len) {
                int r;
                if (s->ended)
                        return MHD_CONTENT_READER_END_OF_STREAM;
                s->len = s->off = 0;
                r = s->fill(s->userdata, &s->out, &s->len);
                if (r < 0)
                        return MHD_CONTENT_READER_END_WITH_ERROR;
                if (r == 0)
                        s->ended = true;
        }
        n = MIN(max, s->len - s->off);
        memcpy(buf, s->out + s->off, n);
        s->off += n;
        return (ssize_t) n;
}

static void stream_free(void *cls) {
        Stream *s = cls;
        s->done(s->userdata);
        free(s->out);
        free(s);
}

enum MHD_Result reply_stream(HttpRequest *req, const char *content_type, stream_fill_t fill, stream_done_t done,
                             void *userdata) {
        struct MHD_Response *resp;
        Stream *s = new0(Stream, 1);

        if (!s) {
                done(userdata);
                return MHD_NO;
        }
        *s = (Stream) { .fill = fill, .done = done, .userdata = userdata };
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, s, stream_free);
        if (!resp) {
                stream_free(s);
                return MHD_NO;
        }
        MHD_add_response_header(resp, "Content-Type", content_type);
        MHD_add_response_header(resp, "Cache-Control", "no-cache");
        /* Proxies (nginx) must not hold tokens back. */
        MHD_add_response_header(resp, "X-Accel-Buffering", "no");
        return queue(req, 200, resp);
}

/* --- limits --------------------------------------------------------------- */

typedef struct ClientSlots {
        struct ClientSlots *next;
        unsigned running;
        char key[128];
} ClientSlots;

static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static ClientSlots *clients;
static unsigned running_total;

int slot_acquire(HttpRequest *req, ApiError *e) {
        ClientSlots *c;
        int r = 0;

        pthread_mutex_lock(&slots_lock);
        for (c = clients; c; c = c->next)
                if (streq(c->key, req->client))
                        break;
        if (running_total >= config.max_generations)
                r = api_error(e, 429, "rate_limit_exceeded", NULL,
                              "Too many generations at once (limit %u); try again shortly.", config.max_generations);
        else if (c && c->running >= config.max_per_client)
                r = api_error(e, 429, "rate_limit_exceeded", NULL,
                              "Too many generations at once from this client (limit %u); try again shortly.",
                              config.max_per_client);
        else if (!c && !(c = new0(ClientSlots, 1)))
                r = api_error(e, 500, NULL, NULL, "Out of memory.");
        else {
                if (!c->key[0]) {
                        snprintf(c->key, sizeof c->key, "%s", req->client);
                        c->next = clients;
                        clients = c;
                }
                c->running++;
                running_total++;
        }
        pthread_mutex_unlock(&slots_lock);
        if (r >= 0)
                metrics_in_flight(+1);
        return r;
}

void slot_release(const char *client) {
        pthread_mutex_lock(&slots_lock);
        for (ClientSlots **p = &clients; *p; p = &(*p)->next) {
                ClientSlots *c = *p;
                if (!streq(c->key, client))
                        continue;
                if (c->running > 0)
                        c->running--;
                if (running_total > 0)
                        running_total--;
                /* Keep the table as small as the set of active clients. */
                if (c->running == 0) {
                        *p = c->next;
                        free(c);
                }
                break;
        }
        pthread_mutex_unlock(&slots_lock);
        metrics_in_flight(-1);
}

int request_client_fd(HttpRequest *req) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->connection,
                                                                     MHD_CONNECTION_INFO_CONNECTION_FD);
        return ci ? ci->connect_fd : -1;
}

int request_json(HttpRequest *req, json_t **ret, ApiError *e) {
        json_error_t je;
        json_t *j;

        if (!req->body || req->body_len == 0)
                return bad_request(e, NULL, "The request body is empty; a JSON object is expected.");
        /* Duplicate keys are ambiguous; refuse rather than guess. */
        j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
        if (!j)
                return bad_request(e, NULL, "The request body is not valid JSON: %s (line %d, column %d).", je.text,
                                   je.line, je.column);
        if (!json_is_object(j)) {
                json_decref(j);
                return bad_request(e, NULL, "The request body must be a JSON object.");
        }
        *ret = j;
        return 0;
}

/* --- checks before the handler ---------------------------------------------- */

static bool host_is_loopback(const char *host) {
        static const char *const names[] = { "localhost", "127.0.0.1", "[::1]", "ip6-localhost" };
        size_t l = strlen(host);
        const char *colon;

        /* Strip ":port" (after "]" for IPv6 literals). */
        colon = strrchr(host, ':');
        if (colon && (host[0] != '[' || colon > strchr(host, ']')))
                l = (size_t) (colon - host);
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strlen(names[i]) == l && strncasecmp(host, names[i], l) == 0)
                        return true;
        /* *.localhost resolves to loopback by definition (RFC 6761). */
        return l > 10 && strncasecmp(host + l - 10, ".localhost", 10) == 0;
}

/* Compares in time independent of where the strings differ (the length
 * is not secret enough to matter: tokens should be long and random). */
static bool token_equal(const char *a, const char *b, size_t bl) {
        unsigned char d = 0;

        if (strlen(a) != bl)
                return false;
        for (size_t i = 0; i < bl; i++)
                d |= (unsigned char) (a[i] ^ b[i]);
        return d == 0;
}

static int check_token(HttpRequest *req, ApiError *e) {
        const char *h = header(req, MHD_HTTP_HEADER_AUTHORIZATION);
        size_t l;
        bool ok = false;
        int idx = -1;

        if (!h)
                return api_error(e, 401, "invalid_api_key", NULL,
                                 "Missing bearer token (Authorization: Bearer TOKEN).");
        if (strncasecmp(h, "Bearer ", 7) != 0)
                return api_error(e, 401, "invalid_api_key", NULL, "Only bearer tokens are accepted.");
        h += 7;
        while (*h == ' ')
                h++;
        l = strlen(h);
        for (size_t i = 0; i < config.n_tokens; i++)
                if (token_equal(config.tokens[i], h, l) && !ok) {
                        ok = true;
                        idx = (int) i;
                }
        if (!ok)
                return api_error(e, 401, "invalid_api_key", NULL, "Invalid bearer token.");
        /* With tokens, a client is a token: many users may share one NAT. */
        snprintf(req->client, sizeof req->client, "token:%d", idx);
        return 0;
}

static void client_address(HttpRequest *req) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->connection,
                                                                     MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        char a[INET6_ADDRSTRLEN] = "unknown";

        if (ci && ci->client_addr) {
                if (ci->client_addr->sa_family == AF_INET)
                        inet_ntop(AF_INET, &((const struct sockaddr_in *) ci->client_addr)->sin_addr, a, sizeof a);
                else if (ci->client_addr->sa_family == AF_INET6)
                        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) ci->client_addr)->sin6_addr, a, sizeof a);
        }
        snprintf(req->client, sizeof req->client, "ip:%s", a);
}

static enum MHD_Result preflight(HttpRequest *req) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
        const char *want = header(req, "Access-Control-Request-Headers");
        bool sane = want && strlen(want) < 512;

        /* Echo the requested headers only when they are plain header names
         * (SDKs add their own x-… headers). */
        for (const char *p = want; sane && *p; p++)
                if (!(*p == ',' || *p == ' ' || *p == '-' || *p == '_' || (*p >= 'a' && *p <= 'z') ||
                      (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
                        sane = false;
        if (!resp)
                return MHD_NO;
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        MHD_add_response_header(resp, "Access-Control-Allow-Headers", sane ? want : "Authorization, Content-Type");
        MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
        return queue(req, 204, resp);
}

static const Route *find_route(const char *url, int *ret_index, bool *ret_path_known) {
        for (size_t i = 0; i < ELEMENTSOF(routes); i++) {
                const Route *rt = &routes[i];
                bool match = rt->prefix ? strncmp(url, rt->path, strlen(rt->path)) == 0 && url[strlen(rt->path)]
                                        : streq(url, rt->path);
                if (match) {
                        *ret_index = (int) i;
                        *ret_path_known = true;
                        return rt;
                }
        }
        *ret_index = -1;
        *ret_path_known = false;
        return NULL;
}

/* Returns a reply already queued (MHD_YES/NO) through *ret, or false to go on. */
static bool first_call(HttpRequest *req, const Route **ret_route, enum MHD_Result *ret) {
        const Route *rt;
        const char *h;
        bool known;
        unsigned m;
        ApiError e;

        rt = find_route(req->url, &req->endpoint, &known);
        req->api = rt ? rt->api : strncmp(req->url, "/api/", 5) == 0 ? API_OLLAMA : API_OPENAI;
        m = streq(req->method, "GET") || streq(req->method, "HEAD") ? M_GET : streq(req->method, "POST") ? M_POST : 0;

        /* Host first: a rebinding page must learn nothing, not even 404s. */
        h = header(req, MHD_HTTP_HEADER_HOST);
        if (config.loopback && config.n_tokens == 0 && h && !host_is_loopback(h)) {
                api_error(&e, 403, NULL, NULL, "Host '%.64s' is not allowed: this service answers loopback names only.",
                          h);
                *ret = reply_error(req, &e);
                return true;
        }
        h = header(req, "Origin");
        if (h && !origin_allowed(h)) {
                api_error(&e, 403, NULL, NULL,
                          "Requests from web pages (Origin '%.64s') are refused; see --cors-origin.", h);
                *ret = reply_error(req, &e);
                return true;
        }
        if (streq(req->method, "OPTIONS") && h && config.cors_origin) {
                *ret = preflight(req);
                return true;
        }
        if (!rt) {
                api_error(&e, 404, "unknown_url", NULL, "Unknown path '%.128s'.", req->url);
                *ret = reply_error(req, &e);
                return true;
        }
        if (!(rt->methods & m)) {
                struct MHD_Response *resp;
                json_t *j;
                _cleanup_free_ char *s = NULL;

                api_error(&e, 405, "method_not_allowed", NULL, "Method %.16s is not allowed on %s; use %s.",
                          req->method, rt->prefix ? "/v1/models/{id}" : rt->path, rt->methods & M_POST ? "POST" : "GET");
                j = req->api == API_OLLAMA ? json_pack("{ss}", "error", e.message)
                                           : json_pack("{s{ss,ss,sn,ss}}", "error", "message", e.message, "type",
                                                       e.type, "param", "code", e.code);
                s = j ? json_dumps(j, JSON_COMPACT) : NULL;
                json_decref(j);
                if (!s)
                        return *ret = MHD_NO, true;
                resp = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_COPY);
                if (resp) {
                        MHD_add_response_header(resp, "Content-Type", "application/json");
                        MHD_add_response_header(resp, "Allow", rt->methods & M_POST ? "POST" : "GET, HEAD");
                }
                *ret = queue(req, 405, resp);
                return true;
        }
        client_address(req);
        if (config.n_tokens > 0 && !rt->public && check_token(req, &e) < 0) {
                *ret = reply_error(req, &e);
                return true;
        }
        h = header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (h) {
                char *end;
                unsigned long long l;
                errno = 0;
                l = strtoull(h, &end, 10);
                if (errno || *end || l > config.max_body) {
                        api_error(&e, 413, "request_too_large", NULL, "The request body is larger than %zu bytes.",
                                  config.max_body);
                        *ret = reply_error(req, &e);
                        return true;
                }
        }
        *ret_route = rt;
        return false;
}

typedef struct Connection {
        HttpRequest req;
        const Route *route;
} Connection;

enum MHD_Result server_access(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size,
                              void **con_cls) {
        Connection *c = *con_cls;
        enum MHD_Result ret;
        ApiError e;

        if (!c) {
                c = new0(Connection, 1);
                if (!c)
                        return MHD_NO;
                *con_cls = c;
                c->req.connection = connection;
                c->req.method = method;
                c->req.url = url;
                c->req.start_usec = now_usec();
                if (first_call(&c->req, &c->route, &ret))
                        return ret;
                return MHD_YES;
        }
        if (c->req.replied) {
                /* Replied before the body: drop what still comes. */
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (*upload_data_size > 0) {
                size_t n = *upload_data_size;
                *upload_data_size = 0;
                if (c->req.body_too_large || n > config.max_body - c->req.body_len) {
                        c->req.body_too_large = true; /* chunked uploads have no Content-Length */
                        return MHD_YES;
                }
                if (buf_append(&c->req.body, &c->req.body_len, upload_data, n) < 0)
                        return MHD_NO;
                return MHD_YES;
        }
        if (c->req.body_too_large) {
                api_error(&e, 413, "request_too_large", NULL, "The request body is larger than %zu bytes.",
                          config.max_body);
                return reply_error(&c->req, &e);
        }
        return c->route->handler(&c->req);
}

void server_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
        Connection *c = *con_cls;

        if (!c)
                return;
        /* Gone before an answer: nginx's "client closed request". */
        if (!c->req.replied)
                metrics_request(c->req.endpoint, 499);
        free(c->req.body);
        free(c);
        *con_cls = NULL;
}

static enum MHD_Result ops_health(HttpRequest *req) {
        _cleanup_free_ char *version = NULL;
        ApiError e;
        json_t *j;
        enum MHD_Result ret;

        if (upstream_version(&version, &e) < 0)
                j = json_pack("{ss,ss}", "status", "unavailable", "error", e.message);
        else
                j = json_pack("{ss,ss,ss}", "status", "ok", "version", HTTP_VERSION_STRING, "unicornd", version);
        if (!j)
                return MHD_NO;
        ret = reply_json(req, version ? 200 : 503, j);
        json_decref(j);
        return ret;
}
