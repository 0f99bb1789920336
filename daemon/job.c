/* SPDX-License-Identifier: MIT */
/*
 * Job objects: /org/unicorn/Engine1/job/_N, one per ImportModel(), like
 * importd's transfers. The copy and the full check run on a thread of
 * their own; the main thread publishes Progress (a unicast invalidation
 * every 250 ms at most) and, at the end, a Finished signal to the caller.
 * A finished job stays visible for a minute so a client that was slow to
 * subscribe can still read State and Error.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus-util.h"
#include "log.h"
#include "unicornd.h"

#define JOB_LINGER_USEC (60 * UINT64_C(1000000))
#define JOB_PROGRESS_USEC (250 * UINT64_C(1000))

static bool caller_is(sd_bus *bus, const char *owner) {
        sd_bus_message *m = sd_bus_get_current_message(bus);
        uint8_t type;

        if (!m || sd_bus_message_get_type(m, &type) < 0 || type != SD_BUS_MESSAGE_METHOD_CALL)
                return true;
        return streq_ptr(sd_bus_message_get_sender(m), owner);
}

Job *job_free(Job *j) {
        Manager *m;

        if (!j)
                return NULL;
        m = j->manager;
        if (j->thread_running) {
                atomic_store(&j->cancel, true);
                pthread_join(j->thread, NULL);
        }
        for (Job **p = &m->jobs; *p; p = &(*p)->next)
                if (*p == j) {
                        *p = j->next;
                        m->n_jobs--;
                        break;
                }
        sd_event_source_unref(j->progress_timer);
        sd_event_source_unref(j->expire_timer);
        if (j->src_fd >= 0)
                close(j->src_fd);
        free(j->name);
        free(j->owner);
        free(j->path);
        free(j);
        manager_check_exit(m);
        return NULL;
}

static void *import_thread(void *userdata) {
        Job *j = userdata;

        j->result = store_import(j->manager->store_fd, j->src_fd, j->name, j->replace,
                                 j->manager->config.max_import_bytes, &j->bytes_done, &j->cancel, j->error,
                                 sizeof j->error);
        atomic_store(&j->done, true);
        manager_notify(j->manager);
        return NULL;
}

static int expire(sd_event_source *s, uint64_t usec, void *userdata) {
        job_free(userdata);
        return 0;
}

static double job_progress(Job *j) {
        uint64_t done = atomic_load(&j->bytes_done);
        if (streq(j->state, "done"))
                return 1.0;
        /* The copy is most of the work; the check takes the last bit. */
        return j->size ? 0.95 * (double) MIN(done, j->size) / (double) j->size : 0.0;
}

static int progress_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        static const char *const changed[] = { "Progress", "BytesDone", NULL };
        Job *j = userdata;
        double p = job_progress(j);

        if (p != j->last_progress) {
                j->last_progress = p;
                (void) bus_emit_invalidated_unicast(j->manager->bus, j->owner, j->path, UNICORN_JOB_IFACE, changed);
        }
        (void) sd_event_source_set_time_relative(s, JOB_PROGRESS_USEC);
        return 0;
}

void job_process(Job *j) {
        static const char *const changed[] = { "State", "Progress", "BytesDone", "Error", NULL };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *sig = NULL;
        Manager *m = j->manager;
        int r;

        if (!j->thread_running || !atomic_load(&j->done))
                return;
        pthread_join(j->thread, NULL);
        j->thread_running = false;
        close(j->src_fd);
        j->src_fd = -EBADF;
        j->progress_timer = sd_event_source_disable_unref(j->progress_timer);

        if (j->result >= 0) {
                j->state = "done";
                log_info("Imported model %s.", j->name);
        } else {
                j->state = j->result == -ECANCELED ? "cancelled" : "failed";
                log_info_errno(j->result, "Import of %s %s: %s", j->name, j->state, j->error);
        }

        r = sd_bus_message_new_signal(m->bus, &sig, j->path, UNICORN_JOB_IFACE, "Finished");
        if (r >= 0)
                r = sd_bus_message_set_destination(sig, j->owner);
        if (r >= 0)
                r = sd_bus_message_append(sig, "ss", j->state, j->result >= 0 ? "" : j->error);
        if (r >= 0)
                r = sd_bus_send(m->bus, sig, NULL);
        if (r < 0)
                log_debug_errno(r, "Failed to send Finished for %s: %m", j->path);
        (void) bus_emit_invalidated_unicast(m->bus, j->owner, j->path, UNICORN_JOB_IFACE, changed);

        if (m->shutting_down) {
                job_free(j);
                return;
        }
        r = sd_event_add_time_relative(m->event, &j->expire_timer, CLOCK_MONOTONIC, JOB_LINGER_USEC, 0, expire, j);
        if (r < 0)
                job_free(j);
}

int job_new_import(Manager *m, sd_bus_message *msg, int fd, const char *name, bool replace, Job **ret,
                   sd_bus_error *error) {
        struct stat st;
        Job *j;
        int r;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return sd_bus_error_set(error, UNICORN_ERROR_INVALID_ARGUMENT,
                                        "The model must be passed as an fd of a regular file.");
        if ((fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY)
                return sd_bus_error_set(error, UNICORN_ERROR_INVALID_ARGUMENT, "The model fd must be readable.");
        if ((uint64_t) st.st_size > m->config.max_import_bytes)
                return sd_bus_error_setf(error, UNICORN_ERROR_LIMIT_EXCEEDED,
                                         "The file is larger than the import limit of %llu bytes.",
                                         (unsigned long long) m->config.max_import_bytes);
        if (m->n_jobs >= MAX_JOBS)
                return sd_bus_error_setf(error, UNICORN_ERROR_LIMIT_EXCEEDED,
                                         "Too many imports at once (at most %u).", MAX_JOBS);
        for (Job *o = m->jobs; o; o = o->next)
                if (o->thread_running && streq(o->name, name))
                        return sd_bus_error_setf(error, UNICORN_ERROR_BUSY,
                                                 "A model named \"%s\" is being imported already.", name);

        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        j->manager = m;
        j->src_fd = -EBADF;
        j->state = "running";
        j->replace = replace;
        j->size = (uint64_t) st.st_size;
        j->id = ++m->next_job_id;
        j->name = strdup(name);
        j->owner = strdup(sd_bus_message_get_sender(msg));
        if (!j->name || !j->owner ||
            asprintf(&j->path, UNICORN_JOB_PREFIX "/_%llu", (unsigned long long) j->id) < 0) {
                j->path = NULL;
                r = -ENOMEM;
                goto fail;
        }
        /* Our own copy of the caller's fd; theirs is closed with the message. */
        j->src_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (j->src_fd < 0) {
                r = -errno;
                goto fail;
        }
        r = sd_event_add_time_relative(m->event, &j->progress_timer, CLOCK_MONOTONIC, JOB_PROGRESS_USEC, 0,
                                       progress_tick, j);
        if (r >= 0)
                r = sd_event_source_set_enabled(j->progress_timer, SD_EVENT_ON);
        if (r < 0)
                goto fail;
        r = -pthread_create(&j->thread, NULL, import_thread, j);
        if (r < 0)
                goto fail;
        j->thread_running = true;
        j->next = m->jobs;
        m->jobs = j;
        m->n_jobs++;
        log_info("Importing model %s (%llu bytes) for %s.", name, (unsigned long long) j->size, j->owner);
        *ret = j;
        return 0;
fail:
        sd_event_source_unref(j->progress_timer);
        if (j->src_fd >= 0)
                close(j->src_fd);
        free(j->name);
        free(j->owner);
        free(j->path);
        free(j);
        return r;
}

static int job_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error) {
        Manager *m = userdata;
        uint64_t id;

        if (bus_path_get_id(path, UNICORN_JOB_PREFIX, &id) < 0)
                return 0;
        for (Job *j = m->jobs; j; j = j->next)
                if (j->id == id) {
                        if (!caller_is(bus, j->owner))
                                return 0;
                        *found = j;
                        return 1;
                }
        return 0;
}

static int job_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Manager *m = userdata;
        sd_bus_message *cur = sd_bus_get_current_message(bus);
        const char *sender = cur ? sd_bus_message_get_sender(cur) : NULL;
        char **l = new0(char *, m->n_jobs + 1);
        size_t n = 0;

        if (!l)
                return -ENOMEM;
        for (Job *j = m->jobs; j && n < m->n_jobs; j = j->next)
                if (sender && streq(j->owner, sender)) {
                        l[n] = strdup(j->path);
                        if (!l[n])
                                break;
                        n++;
                }
        *nodes = l;
        return 1;
}

static int method_cancel(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Job *j = userdata;
        int r = bus_authorize(j->manager, msg, error);

        if (r <= 0)
                return r < 0 ? r : 1;
        atomic_store(&j->cancel, true);
        return sd_bus_reply_method_return(msg, NULL);
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Job *j = userdata;

        if (streq(property, "Id"))
                return sd_bus_message_append(reply, "u", (uint32_t) j->id);
        if (streq(property, "Type"))
                return sd_bus_message_append(reply, "s", "import");
        if (streq(property, "Model"))
                return sd_bus_message_append(reply, "s", j->name);
        if (streq(property, "State"))
                return sd_bus_message_append(reply, "s", j->state);
        if (streq(property, "Progress"))
                return sd_bus_message_append(reply, "d", job_progress(j));
        if (streq(property, "BytesDone"))
                return sd_bus_message_append(reply, "t", (uint64_t) atomic_load(&j->bytes_done));
        if (streq(property, "BytesTotal"))
                return sd_bus_message_append(reply, "t", j->size);
        if (streq(property, "Error"))
                return sd_bus_message_append(reply, "s",
                                             j->thread_running || j->result >= 0 ? "" : j->error);
        return -ENOENT;
}

const sd_bus_vtable job_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Type", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Model", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_PROPERTY("Progress", "d", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_PROPERTY("BytesDone", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_PROPERTY("BytesTotal", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Error", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_METHOD_WITH_ARGS("Cancel", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_cancel,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("Finished", SD_BUS_ARGS("s", result, "s", error), 0),
        SD_BUS_VTABLE_END,
};

int job_add_bus_objects(Manager *m) {
        int r = sd_bus_add_fallback_vtable(m->bus, NULL, UNICORN_JOB_PREFIX, UNICORN_JOB_IFACE, job_vtable,
                                           job_find, m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(m->bus, NULL, UNICORN_JOB_PREFIX, job_enumerate, m);
}
