/* SPDX-License-Identifier: MIT */
/*
 * The manager object, /org/unicorn/Engine1: the model store, resident
 * models, and the door to sessions. Also the main loop's plumbing: the bus
 * connection and the eventfd through which worker threads say that
 * something finished.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus-util.h"
#include "hw-device.h"
#include "hw-gtt.h"
#include "log.h"
#include "unicornd.h"

#define SHUTDOWN_TIMEOUT_USEC (10 * UINT64_C(1000000))

/* Devices, memory budget and power modes (hw-*.c). There is one Manager
 * per process; the Hardware object hangs off this file rather than off
 * struct Manager so that unicornd.h, shared by every daemon object, stays
 * untouched by the hardware layer. NULL when discovery failed outright. */
static Hardware *manager_hw;

void manager_notify(Manager *m) {
        uint64_t one = 1;
        (void) !write(m->notify_fd, &one, sizeof one);
}

void manager_emit_changed(Manager *m, const char *property) {
        /* Counts and model names only: no user data in broadcasts. */
        if (m->bus)
                (void) sd_bus_emit_properties_changed(m->bus, UNICORN_PATH, UNICORN_MANAGER_IFACE, property, NULL);
}

LoadedModel *manager_find_loaded(Manager *m, const char *name) {
        for (LoadedModel *lm = m->models; lm; lm = lm->next)
                if (streq(lm->name, name))
                        return lm;
        return NULL;
}

static LoadedModel *loaded_model_free(LoadedModel *lm) {
        if (!lm)
                return NULL;
        for (LoadedModel **p = &lm->manager->models; *p; p = &(*p)->next)
                if (*p == lm) {
                        *p = lm->next;
                        break;
                }
        if (lm->loading)
                pthread_join(lm->thread, NULL);
        hw_gtt_allocator_free(lm->gtt);
        /* A lost model was uncharged when it was lost: its name may be charged anew by then. */
        if (manager_hw && !lm->lost)
                hw_budget_uncharge(manager_hw, lm->name);
        while (lm->waiters) {
                LoadWaiter *w = lm->waiters;
                lm->waiters = w->next;
                sd_bus_message_unref(w->message);
                free(w);
        }
        pool_free_all(lm); /* the pool kept empty for the next session, if any */
        model_unref(lm->loaded);
        model_unref(lm->model);
        free(lm->name);
        free(lm);
        return NULL;
}

void manager_lost_model_release(LoadedModel *lm) {
        if (lm && lm->lost && lm->n_sessions == 0) {
                Manager *m = lm->manager;
                log_info("Freed model %s of the lost GPU.", lm->name);
                loaded_model_free(lm);
                manager_emit_changed(m, "LoadedModels");
        }
}

/*
 * A request of lm failed with -ENODEV: its GPU was lost (a reset or hang recovery, or the GPU gone), so
 * every later step of it would fail too. It leaves the list of loaded models at once, so that the next
 * session or load of its name loads it anew (on a new device: vk_device_acquire); its sessions are
 * closed (their clients were told in the failed requests), and it is freed with the last of them.
 */
static void manager_model_lost(Manager *m, LoadedModel *lm) {
        if (lm->lost)
                return;
        log_warning("Model %s: the GPU was lost (reset or removed); its sessions are closed and it loads again "
                    "when next used.", lm->name);
        for (LoadedModel **p = &m->models; *p; p = &(*p)->next)
                if (*p == lm) {
                        *p = lm->next;
                        break;
                }
        lm->next = NULL;
        if (manager_hw)
                hw_budget_uncharge(manager_hw, lm->name);
        /* Sessions without a running request are freed here and now; lost is set after them, so that
         * none of those frees lm while this loop still needs it. */
        for (Session *s = m->sessions, *next; s; s = next) {
                next = s->next;
                if (s->lm == lm)
                        session_close(s);
        }
        lm->lost = true;
        manager_emit_changed(m, "LoadedModels");
        manager_emit_changed(m, "MemoryBudget");
        manager_lost_model_release(lm);
}

static void *load_thread(void *userdata) {
        LoadedModel *lm = userdata;
        Manager *m = lm->manager;
        struct model_load_options o = {
                .backend = m->config.backend,
                .n_threads = m->config.threads,
                .weight_allocator = lm->gtt ? &lm->gtt->engine : NULL,
        };
        _cleanup_close_ int fd = -EBADF;

        fd = store_open_model(m->store_fd, lm->name);
        if (fd < 0) {
                lm->load_result = fd;
                snprintf(lm->load_error, sizeof lm->load_error, "The model file cannot be opened: %s",
                         strerror(-fd));
        } else
                lm->load_result = model_load_fd(fd, &o, &lm->loaded, lm->load_error, sizeof lm->load_error);
        atomic_store(&lm->load_done, true);
        manager_notify(m);
        return NULL;
}

static void load_process(LoadedModel *lm) {
        Manager *m = lm->manager;
        LoadWaiter *w;
        int r;

        if (!lm->loading || !atomic_load(&lm->load_done))
                return;
        pthread_join(lm->thread, NULL);
        lm->loading = false;
        r = lm->load_result;
        if (r >= 0) {
                lm->model = TAKE_PTR(lm->loaded);
                /* The backend description says where the weights went and, if not into GTT, why. */
                log_info("Loaded model %s (%s).", lm->name, model_backend_name(lm->model));
                if (manager_hw && lm->gtt)
                        hw_budget_set_gtt(manager_hw, lm->name, lm->gtt->engine.imported_bytes);
        } else {
                if (!lm->load_error[0])
                        snprintf(lm->load_error, sizeof lm->load_error, "%s", strerror(-r));
                log_error_errno(r, "Failed to load model %s: %s", lm->name, lm->load_error);
        }
        /* Unlink from the list first when failed, so waiters see it gone. */
        if (r < 0)
                for (LoadedModel **p = &m->models; *p; p = &(*p)->next)
                        if (*p == lm) {
                                *p = lm->next;
                                break;
                        }
        /* Its dma-bufs live on in the model's Vulkan memory (or were closed by the engine); only the
         * render node goes. */
        lm->gtt = hw_gtt_allocator_free(lm->gtt);
        if (r < 0 && manager_hw)
                hw_budget_uncharge(manager_hw, lm->name);
        if (r >= 0 && manager_hw)
                hw_budget_touch(manager_hw, lm->name, now_usec());
        while ((w = lm->waiters)) {
                lm->waiters = w->next;
                w->callback(m, lm, w->message, w->arg, r, lm->load_error);
                sd_bus_message_unref(w->message);
                free(w);
        }
        if (r < 0) {
                lm->next = NULL;
                m->models = m->models; /* already unlinked */
                model_unref(lm->loaded);
                free(lm->name);
                free(lm);
        }
        manager_emit_changed(m, "LoadedModels");
        manager_emit_changed(m, "MemoryBudget");
        manager_check_exit(m);
}

static bool model_is_idle(const char *name, void *userdata) {
        LoadedModel *lm = manager_find_loaded(userdata, name);
        return lm && lm->model && !lm->loading && lm->n_sessions == 0;
}

/*
 * Admission against the memory budget: a model is charged its file size
 * (the weights, mmapped or uploaded) plus KVCacheReserve= for its KV
 * caches. When it does not fit and EvictIdleModels= allows it, resident
 * models without sessions go, least recently used first.
 */
static int admit_model(Manager *m, const char *name, uint64_t *ret_need, sd_bus_error *error) {
        _cleanup_close_ int fd = -EBADF;
        char why[ERROR_MAX];
        struct stat st;
        uint64_t need;
        int r;

        *ret_need = 0;
        if (!manager_hw)
                return 0;
        fd = store_open_model(m->store_fd, name);
        if (fd < 0 || fstat(fd, &st) < 0)
                return 0; /* the loader reports a missing file properly */
        if (ADD_OVERFLOW((uint64_t) st.st_size, m->config.kv_cache_reserve, &need))
                need = UINT64_MAX;
        while ((r = hw_budget_admit(manager_hw, name, need, why, sizeof why)) < 0) {
                const char *victim = m->config.evict_idle_models
                                             ? hw_budget_lru_victim(manager_hw, model_is_idle, m) : NULL;
                LoadedModel *lm = victim ? manager_find_loaded(m, victim) : NULL;

                if (!lm) {
                        log_notice("Refusing to load %s: %s.", name, why);
                        return sd_bus_error_setf(error, UNICORN_ERROR_NO_MEMORY, "Cannot load: %s.", why);
                }
                log_info("Evicting idle model %s to make room for %s.", lm->name, name);
                loaded_model_free(lm);
                manager_emit_changed(m, "LoadedModels");
                manager_emit_changed(m, "MemoryBudget");
        }
        r = hw_budget_charge(manager_hw, name, need);
        if (r >= 0) {
                hw_budget_touch(manager_hw, name, now_usec());
                *ret_need = need;
        }
        return r;
}

/*
 * GTT for the weights of a model about to load (hw-gtt.h): only where the
 * Vulkan device the backend runs on is an amdgpu GPU's, and no more than
 * the model was admitted with (cap). Anything else passes no allocator and
 * the engine allocates as it always does.
 */
static HwGttAllocator *weight_allocator(Manager *m, const char *name, uint64_t cap) {
        HwGttAllocator *a = NULL;
        HwDevice *gpu;
        HwGtt *g = NULL;
        int r;

        if (!manager_hw || cap == 0 || streq_ptr(m->config.backend, "cpu"))
                return NULL;
        gpu = hw_vulkan_weight_gpu(manager_hw->devices);
        if (!gpu)
                return NULL;
        r = hw_gtt_open(gpu->node, &g);
        if (r < 0) {
                log_info_errno(r, "Model %s: cannot open %s for GTT weight buffers; the engine allocates them "
                               "itself: %m", name, gpu->node);
                return NULL;
        }
        r = hw_gtt_allocator_new(g, gpu->vk_uuid, cap, &a);
        if (r < 0) {
                log_warning_errno(r, "Model %s: no GTT weight allocator: %m", name);
                return NULL;
        }
        log_debug("Model %s: weights may go to GTT on %s (at most %" PRIu64 " bytes).", name, gpu->node, cap);
        return a;
}

static unsigned loaded_count(Manager *m) {
        unsigned n = 0;
        for (LoadedModel *lm = m->models; lm; lm = lm->next)
                n++;
        return n;
}

/* Makes name resident, then calls cb on the main thread (at once if it is). */
int manager_load_model(Manager *m, const char *name, sd_bus_message *msg, load_callback_t cb, uint32_t arg,
                       sd_bus_error *error) {
        LoadedModel *lm = manager_find_loaded(m, name);
        LoadWaiter *w;
        int r;

        if (lm && lm->model) {
                cb(m, lm, msg, arg, 0, NULL);
                return 0;
        }
        if (!lm) {
                uint64_t need;

                r = store_model_exists(m->store_fd, name);
                if (r < 0 && r != -EINVAL)
                        return r;
                if (r <= 0)
                        return sd_bus_error_setf(error, UNICORN_ERROR_NO_SUCH_MODEL, "No model named \"%s\".", name);
                if (loaded_count(m) >= m->config.max_loaded_models)
                        return sd_bus_error_setf(error, UNICORN_ERROR_LIMIT_EXCEEDED,
                                                 "Too many models loaded (at most %u); unload one first.",
                                                 m->config.max_loaded_models);
                r = admit_model(m, name, &need, error);
                if (r < 0)
                        return r;
                lm = calloc(1, sizeof *lm);
                if (!lm) {
                        if (manager_hw)
                                hw_budget_uncharge(manager_hw, name);
                        return -ENOMEM;
                }
                lm->manager = m;
                lm->name = strdup(name);
                if (!lm->name) {
                        free(lm);
                        if (manager_hw)
                                hw_budget_uncharge(manager_hw, name);
                        return -ENOMEM;
                }
                lm->gtt = weight_allocator(m, name, need);
                r = -pthread_create(&lm->thread, NULL, load_thread, lm);
                if (r < 0) {
                        if (manager_hw)
                                hw_budget_uncharge(manager_hw, name);
                        hw_gtt_allocator_free(lm->gtt);
                        free(lm->name);
                        free(lm);
                        return r;
                }
                lm->loading = true;
                lm->next = m->models;
                m->models = lm;
                log_info("Loading model %s.", name);
        }
        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->message = sd_bus_message_ref(msg);
        w->callback = cb;
        w->arg = arg;
        w->next = lm->waiters;
        lm->waiters = w;
        return 0;
}

static void reply_load_error(sd_bus_message *msg, const char *name, int r, const char *error) {
        (void) sd_bus_reply_method_errorf(msg, r == -EBADMSG || r == -EOPNOTSUPP ? UNICORN_ERROR_INVALID_MODEL
                                                                                 : UNICORN_ERROR_LOAD_FAILED,
                                          "Cannot load %s: %s", name, error);
}

/* --- methods ------------------------------------------------------------ */

#define AUTHORIZE(m, msg, error)                              \
        do {                                                  \
                int _a = bus_authorize((m), (msg), (error));  \
                if (_a <= 0)                                  \
                        return _a < 0 ? _a : 1;               \
        } while (0)

static int check_name(const char *name, sd_bus_error *error) {
        if (!model_name_is_valid(name))
                return sd_bus_error_setf(error, UNICORN_ERROR_INVALID_ARGUMENT,
                                         "Invalid model name (1-%d characters of A-Z a-z 0-9 . _ - : +, "
                                         "not starting with . or -).", MODEL_NAME_MAX);
        return 0;
}

/* The model name argument of a method, read and checked. */
static int read_model_name(sd_bus_message *msg, const char **ret, sd_bus_error *error) {
        int r = sd_bus_message_read(msg, "s", ret);

        if (r < 0)
                return r;
        return check_name(*ret, error);
}

static int method_list_models(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        char **names = NULL;
        uint64_t *sizes = NULL;
        size_t n = 0;
        int r;

        AUTHORIZE(m, msg, error);
        r = store_list(m->store_fd, &names, &sizes, &n);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(stb)");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                LoadedModel *lm = manager_find_loaded(m, names[i]);
                r = sd_bus_message_append(reply, "(stb)", names[i], sizes[i], lm && lm->model);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        free(sizes);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_list_loaded(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        int r;

        AUTHORIZE(m, msg, error);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssttuu)");
        for (LoadedModel *lm = m->models; r >= 0 && lm; lm = lm->next) {
                const struct model_info *info;
                unsigned running = 0;

                if (!lm->model)
                        continue;
                info = model_get_info(lm->model);
                for (Session *s = m->sessions; s; s = s->next)
                        if (s->lm == lm && s->request && s->request->active)
                                running++;
                r = sd_bus_message_append(reply, "(ssttuu)", lm->name, strempty(model_backend_name(lm->model)),
                                          info ? info->weight_bytes : 0, info ? info->n_params : 0,
                                          lm->n_sessions, running);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_list_sessions(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        const char *sender = sd_bus_message_get_sender(msg);
        int r;

        AUTHORIZE(m, msg, error);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(osb)");
        /* Only the caller's own sessions: others' are none of its business. */
        for (Session *s = m->sessions; r >= 0 && s; s = s->next)
                if (!s->closing && streq_ptr(s->owner, sender))
                        r = sd_bus_message_append(reply, "(osb)", s->path, s->lm->name,
                                                  s->request && s->request->active);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_import(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name;
        int fd, replace = 0, r;
        Job *j;

        AUTHORIZE(m, msg, error);
        r = sd_bus_message_read(msg, "hs", &fd, &name);
        if (r < 0)
                return r;
        r = bus_read_single_option(msg, "replace", "b", &replace, error);
        if (r < 0)
                return r;
        r = check_name(name, error);
        if (r < 0)
                return r;
        if (m->shutting_down)
                return sd_bus_error_set(error, UNICORN_ERROR_SHUTTING_DOWN, "The service is shutting down.");
        if (!replace && store_model_exists(m->store_fd, name) > 0)
                return sd_bus_error_setf(error, UNICORN_ERROR_MODEL_EXISTS,
                                         "A model named \"%s\" already exists; pass replace=true to overwrite it.",
                                         name);
        if (replace && manager_find_loaded(m, name))
                return sd_bus_error_setf(error, UNICORN_ERROR_BUSY, "Model \"%s\" is loaded; unload it first.", name);
        r = job_new_import(m, msg, fd, name, replace, &j, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "o", j->path);
}

static int method_remove(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name;
        int r;

        AUTHORIZE(m, msg, error);
        r = read_model_name(msg, &name, error);
        if (r < 0)
                return r;
        if (manager_find_loaded(m, name))
                return sd_bus_error_setf(error, UNICORN_ERROR_BUSY, "Model \"%s\" is loaded; unload it first.", name);
        for (Job *j = m->jobs; j; j = j->next)
                if (j->thread_running && streq(j->name, name))
                        return sd_bus_error_setf(error, UNICORN_ERROR_BUSY, "Model \"%s\" is being imported.", name);
        r = store_remove(m->store_fd, name);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, UNICORN_ERROR_NO_SUCH_MODEL, "No model named \"%s\".", name);
        if (r < 0)
                return r;
        log_info("Removed model %s.", name);
        return sd_bus_reply_method_return(msg, NULL);
}

static void load_done_reply(Manager *m, LoadedModel *lm, sd_bus_message *msg, uint32_t arg, int r,
                            const char *error) {
        if (r < 0)
                reply_load_error(msg, lm->name, r, error);
        else
                (void) sd_bus_reply_method_return(msg, NULL);
}

static int method_load(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name;
        int r;

        AUTHORIZE(m, msg, error);
        r = read_model_name(msg, &name, error);
        if (r < 0)
                return r;
        if (m->shutting_down)
                return sd_bus_error_set(error, UNICORN_ERROR_SHUTTING_DOWN, "The service is shutting down.");
        r = manager_load_model(m, name, msg, load_done_reply, 0, error);
        return r < 0 ? r : 1;
}

static int method_unload(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        LoadedModel *lm;
        const char *name;
        int r;

        AUTHORIZE(m, msg, error);
        r = read_model_name(msg, &name, error);
        if (r < 0)
                return r;
        lm = manager_find_loaded(m, name);
        if (!lm || !lm->model)
                return sd_bus_error_setf(error, UNICORN_ERROR_NOT_LOADED, "Model \"%s\" is not loaded.", name);
        /* An administrator's unload wins over users' sessions: they are
         * closed (running requests cancelled) and the weights go once the
         * engine thread let go of the last one. */
        for (Session *s = m->sessions, *next; s; s = next) {
                next = s->next;
                if (s->lm == lm)
                        session_close(s);
        }
        if (lm->n_sessions > 0) {
                /* Sessions still finishing hold Contexts over this Model. */
                return sd_bus_error_setf(error, UNICORN_ERROR_BUSY,
                                         "Model \"%s\" is finishing %u requests; try again shortly.", name,
                                         lm->n_sessions);
        }
        loaded_model_free(lm);
        log_info("Unloaded model %s.", name);
        manager_emit_changed(m, "LoadedModels");
        manager_emit_changed(m, "MemoryBudget");
        return sd_bus_reply_method_return(msg, NULL);
}

static void open_session_loaded(Manager *m, LoadedModel *lm, sd_bus_message *msg, uint32_t n_ctx, int r,
                                const char *error) {
        _cleanup_bus_error_ sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *sender = sd_bus_message_get_sender(msg);
        Session *s;

        if (r < 0)
                return reply_load_error(msg, lm->name, r, error);
        /* Caps again: other calls may have opened sessions while loading. */
        if (sessions_count_owner(m, sender) >= m->config.max_sessions_per_caller || m->n_sessions >= m->config.max_sessions) {
                (void) sd_bus_reply_method_errorf(msg, UNICORN_ERROR_LIMIT_EXCEEDED, "Too many sessions.");
                return;
        }
        if (manager_hw)
                hw_budget_touch(manager_hw, lm->name, now_usec());
        r = session_new(m, lm, msg, n_ctx, &s, &e);
        if (r < 0) {
                if (sd_bus_error_is_set(&e))
                        (void) sd_bus_reply_method_error(msg, &e);
                else
                        (void) sd_bus_reply_method_errno(msg, r, NULL);
                return;
        }
        (void) sd_bus_reply_method_return(msg, "o", s->path);
}

static int method_open_session(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name, *sender = sd_bus_message_get_sender(msg);
        uint32_t n_ctx = m->config.default_context_length;
        LoadedModel *lm;
        int r;

        AUTHORIZE(m, msg, error);
        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = bus_read_single_option(msg, "context_length", "u", &n_ctx, error);
        if (r < 0)
                return r;
        if (n_ctx < 16 || n_ctx > m->config.max_context_length)
                return sd_bus_error_setf(error, UNICORN_ERROR_LIMIT_EXCEEDED,
                                         "context_length must be between 16 and %u tokens.",
                                         m->config.max_context_length);
        r = check_name(name, error);
        if (r < 0)
                return r;
        if (m->shutting_down)
                return sd_bus_error_set(error, UNICORN_ERROR_SHUTTING_DOWN, "The service is shutting down.");
        if (sessions_count_owner(m, sender) >= m->config.max_sessions_per_caller)
                return sd_bus_error_setf(error, UNICORN_ERROR_LIMIT_EXCEEDED,
                                         "Too many sessions (limit %u per client); close one first.",
                                         m->config.max_sessions_per_caller);
        if (m->n_sessions >= m->config.max_sessions)
                return sd_bus_error_setf(error, UNICORN_ERROR_LIMIT_EXCEEDED,
                                         "The service has too many sessions open (limit %u).", m->config.max_sessions);

        lm = manager_find_loaded(m, name);
        if (!lm && !m->config.auto_load) {
                if (store_model_exists(m->store_fd, name) <= 0)
                        return sd_bus_error_setf(error, UNICORN_ERROR_NO_SUCH_MODEL, "No model named \"%s\".", name);
                return sd_bus_error_setf(error, UNICORN_ERROR_NOT_LOADED,
                                         "Model \"%s\" is not loaded and AutoLoad= is off; ask an administrator "
                                         "to load it (unicornctl load %s).", name, name);
        }
        r = manager_load_model(m, name, msg, open_session_loaded, n_ctx, error);
        return r < 0 ? r : 1;
}

static int method_set_power_mode(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *mode;
        int r;

        const char *name = NULL;
        char why[ERROR_MAX];

        AUTHORIZE(m, msg, error);
        r = sd_bus_message_read(msg, "s", &mode);
        if (r < 0)
                return r;
        if (!manager_hw)
                return sd_bus_error_set(error, UNICORN_ERROR_NOT_SUPPORTED, "No device with power modes is available.");
        /* Hardware contexts are created only when a model runs on the NPU;
         * the driver itself refuses turbo while any exist (EINVAL), which
         * hardware_set_power_mode() turns into Busy with that reason. */
        r = hardware_set_power_mode(manager_hw, mode, &name, why, sizeof why);
        if (r < 0)
                return sd_bus_error_set(error, name, why);
        log_info("Power mode set to %s.", mode);
        return sd_bus_reply_method_return(msg, NULL);
}

static void on_hw_changed(Hardware *hw, const char *property, void *userdata) {
        manager_emit_changed(userdata, property);
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        if (streq(property, "Version"))
                return sd_bus_message_append(reply, "s", UNICORN_VERSION);
        if (streq(property, "ActiveRequests"))
                return sd_bus_message_append(reply, "u", m->n_active_requests);
        if (streq(property, "Sessions"))
                return sd_bus_message_append(reply, "u", m->n_sessions);
        if (streq(property, "AutoLoad"))
                return sd_bus_message_append(reply, "b", m->config.auto_load);
        if (streq(property, "MaxContextLength"))
                return sd_bus_message_append(reply, "u", m->config.max_context_length);
        if (streq(property, "ParallelSessions"))
                return sd_bus_message_append(reply, "u", m->config.parallel_sessions);
        if (streq(property, "MaxPromptBytes"))
                return sd_bus_message_append(reply, "t", m->config.max_prompt_bytes);
        if (streq(property, "Devices")) {
                if (manager_hw)
                        return hardware_append_devices(manager_hw, reply);
                return sd_bus_message_append(reply, "a(sssa{sv})", 0);
        }
        if (streq(property, "MemoryBudget")) {
                if (manager_hw)
                        return hardware_append_budget(manager_hw, reply);
                return sd_bus_message_append(reply, "a{st}", 0);
        }
        if (streq(property, "PowerMode"))
                return sd_bus_message_append(reply, "s", manager_hw ? hardware_power_mode(manager_hw) : "unsupported");
        if (streq(property, "LoadedModels")) {
                r = sd_bus_message_open_container(reply, 'a', "s");
                for (LoadedModel *lm = m->models; r >= 0 && lm; lm = lm->next)
                        if (lm->model)
                                r = sd_bus_message_append(reply, "s", lm->name);
                return r < 0 ? r : sd_bus_message_close_container(reply);
        }
        return -ENOENT;
}

const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("LoadedModels", "as", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ActiveRequests", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Sessions", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("AutoLoad", "b", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MaxContextLength", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ParallelSessions", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MaxPromptBytes", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Devices", "a(sssa{sv})", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("MemoryBudget", "a{st}", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_PROPERTY("PowerMode", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("ListModels", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(stb)", models), method_list_models,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ImportModel", SD_BUS_ARGS("h", fd, "s", name, "a{sv}", options),
                                SD_BUS_RESULT("o", job), method_import, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveModel", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT, method_remove,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("LoadModel", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT, method_load,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UnloadModel", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT, method_unload,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListLoadedModels", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssttuu)", models),
                                method_list_loaded, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("OpenSession", SD_BUS_ARGS("s", model, "a{sv}", options),
                                SD_BUS_RESULT("o", session), method_open_session, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListSessions", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(osb)", sessions),
                                method_list_sessions, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetPowerMode", SD_BUS_ARGS("s", mode), SD_BUS_NO_RESULT, method_set_power_mode,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

/* --- main loop plumbing -------------------------------------------------- */

static void manager_process_notify(Manager *m) {
        Request *done;

        for (LoadedModel *lm = m->models, *next; lm; lm = next) {
                next = lm->next;
                load_process(lm);
        }
        for (Job *j = m->jobs, *next; j; j = next) {
                next = j->next;
                job_process(j);
        }
        done = scheduler_take_finished(m->scheduler);
        while (done) {
                Request *r = done;
                done = r->wnext;
                r->wnext = NULL;
                /* The engine thread is done with r: its error is read without the lock. Before r is
                 * collected, so that its session (closed there) still holds the model. */
                if (r->error_code == -ENODEV)
                        manager_model_lost(m, r->session->lm);
                session_request_finished(r->session, r);
        }
        manager_check_exit(m);
}

static int on_notify(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        uint64_t v;
        (void) !read(fd, &v, sizeof v);
        manager_process_notify(userdata);
        return 0;
}

void manager_check_exit(Manager *m) {
        bool busy = m->n_active_requests > 0;

        if (!m->shutting_down)
                return;
        for (Job *j = m->jobs; j; j = j->next)
                busy = busy || j->thread_running;
        for (LoadedModel *lm = m->models; lm; lm = lm->next)
                busy = busy || lm->loading;
        if (!busy)
                (void) sd_event_exit(m->event, 0);
}

static int on_exit_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        log_warning("Requests did not finish in time; exiting anyway.");
        return sd_event_exit(m->event, 0);
}

void manager_shutdown(Manager *m) {
        if (m->shutting_down)
                return;
        m->shutting_down = true;
        log_info("Shutting down: cancelling %u running requests.", m->n_active_requests);
        for (Session *s = m->sessions; s; s = s->next)
                if (s->request && s->request->active)
                        request_cancel(s->request);
        for (Job *j = m->jobs; j; j = j->next)
                atomic_store(&j->cancel, true);
        (void) sd_event_add_time_relative(m->event, &m->exit_timer, CLOCK_MONOTONIC, SHUTDOWN_TIMEOUT_USEC, 0,
                                          on_exit_timeout, m);
        manager_check_exit(m);
}

int manager_new(Manager **ret) {
        Manager *m = calloc(1, sizeof *m);
        int r;

        if (!m)
                return -ENOMEM;
        m->store_fd = -EBADF;
        m->notify_fd = -EBADF;
        config_init(&m->config);
        r = sd_event_default(&m->event);
        if (r < 0)
                goto fail;
        m->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (m->notify_fd < 0) {
                r = -errno;
                goto fail;
        }
        r = sd_event_add_io(m->event, &m->notify_source, m->notify_fd, EPOLLIN, on_notify, m);
        if (r < 0)
                goto fail;
        *ret = m;
        return 0;
fail:
        manager_free(m);
        return r;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        /* Stop the engine thread first: after this no one else runs. */
        m->scheduler = scheduler_free(m->scheduler);
        while (m->sessions) {
                Session *s = m->sessions;
                if (s->request)
                        s->request->active = false;
                session_free(s);
        }
        while (m->jobs)
                job_free(m->jobs);
        while (m->models)
                loaded_model_free(m->models);
        /* Puts back the power modes SetPowerMode changed. */
        manager_hw = hardware_free(manager_hw);
        polkit_queries_free(m);
        sd_event_source_unref(m->exit_timer);
        sd_event_source_unref(m->notify_source);
        if (m->notify_fd >= 0)
                close(m->notify_fd);
        if (m->store_fd >= 0)
                close(m->store_fd);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        config_done(&m->config);
        free(m);
        return NULL;
}

int manager_start(Manager *m, const char *bus_address, bool user_bus) {
        int r;

        r = store_open(m->config.state_dir, &m->store_fd);
        if (r < 0)
                return r;
        (void) store_cleanup(m->store_fd);

        /* GPUs are matched to the engine's Vulkan devices on every scan. */
        hw_vulkan_enumerate = engine_vulkan_devices;
        r = hardware_new(m->event, m->config.memory_reserve, on_hw_changed, m, &manager_hw);
        if (r < 0)
                log_warning_errno(r, "Hardware discovery failed; no devices, budget or power modes: %m");

        r = scheduler_new(m, &m->scheduler);
        if (r < 0)
                return log_error_errno(r, "Failed to start the engine thread: %m");

        if (bus_address) {
                r = sd_bus_new(&m->bus);
                if (r >= 0)
                        r = sd_bus_set_address(m->bus, bus_address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(m->bus, true);
                if (r >= 0)
                        r = sd_bus_negotiate_fds(m->bus, true);
                if (r >= 0)
                        r = sd_bus_start(m->bus);
        } else if (user_bus)
                r = sd_bus_open_user(&m->bus);
        else
                r = sd_bus_open_system(&m->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the bus: %m");

        r = sd_bus_add_object_vtable(m->bus, NULL, UNICORN_PATH, UNICORN_MANAGER_IFACE, manager_vtable, m);
        if (r >= 0)
                r = session_add_bus_objects(m);
        if (r >= 0)
                r = request_add_bus_objects(m);
        if (r >= 0)
                r = job_add_bus_objects(m);
        if (r >= 0)
                r = sd_bus_add_object_manager(m->bus, NULL, UNICORN_PATH);
        if (r < 0)
                return log_error_errno(r, "Failed to register objects: %m");

        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus: %m");
        r = sd_bus_request_name(m->bus, UNICORN_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to own %s: %m", UNICORN_BUS_NAME);
        return 0;
}
