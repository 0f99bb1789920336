/* SPDX-License-Identifier: MIT */
/*
 * Authorization. Every method handler calls bus_authorize() before it
 * touches any state. The action comes from one table (method → polkit
 * action); a method missing from it is denied, so a new method is closed
 * until someone decides who may call it.
 *
 * The check is asynchronous, as in systemd's bus-polkit.c: the first call
 * sends CheckAuthorization and returns 0 ("pending"; the handler returns
 * without replying). When polkit answers, the suspended call is put back
 * into the bus's read queue with sd_bus_enqueue_for_read(), the handler
 * runs again from the top, and this time bus_authorize() finds the answer
 * for this very message and returns it. So the handler's code stays
 * straight-line and still never blocks the main loop on polkit.
 */
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "bus-util.h"
#include "log.h"
#include "unicornd.h"

#define ACTION_PREFIX "org.unicorn.Engine1."

struct PolkitQuery {
        PolkitQuery *next;
        Manager *manager;
        sd_bus_message *request;
        sd_bus_slot *slot;
        const char *action;
        bool done;
        bool authorized;
        bool challenge;
        int error;
};

static const struct {
        const char *interface;
        const char *member;
        const char *action; /* NULL: anyone (read-only, or owner-checked) */
} action_table[] = {
        { UNICORN_MANAGER_IFACE, "ListModels", NULL },
        { UNICORN_MANAGER_IFACE, "ListLoadedModels", NULL },
        { UNICORN_MANAGER_IFACE, "ListSessions", NULL },
        { UNICORN_MANAGER_IFACE, "OpenSession", ACTION_PREFIX "generate" },
        { UNICORN_MANAGER_IFACE, "LoadModel", ACTION_PREFIX "load-model" },
        { UNICORN_MANAGER_IFACE, "UnloadModel", ACTION_PREFIX "load-model" },
        { UNICORN_MANAGER_IFACE, "ImportModel", ACTION_PREFIX "manage-models" },
        { UNICORN_MANAGER_IFACE, "RemoveModel", ACTION_PREFIX "manage-models" },
        { UNICORN_MANAGER_IFACE, "SetPowerMode", ACTION_PREFIX "set-power-mode" },
        { UNICORN_SESSION_IFACE, "Chat", ACTION_PREFIX "generate" },
        { UNICORN_SESSION_IFACE, "Complete", ACTION_PREFIX "generate" },
        { UNICORN_SESSION_IFACE, "Reset", ACTION_PREFIX "generate" },
        { UNICORN_SESSION_IFACE, "Close", ACTION_PREFIX "generate" },
        { UNICORN_SESSION_IFACE, "GetMessages", NULL },
        /* Only the owner reaches these objects at all (see the find
         * callbacks); stopping one's own work needs no more. */
        { UNICORN_REQUEST_IFACE, "Cancel", NULL },
        { UNICORN_JOB_IFACE, "Cancel", NULL },
};

static int lookup_action(sd_bus_message *msg, const char **ret) {
        const char *iface = sd_bus_message_get_interface(msg), *member = sd_bus_message_get_member(msg);

        if (!iface || !member)
                return -ENOENT;
        for (size_t i = 0; i < ELEMENTSOF(action_table); i++)
                if (streq(action_table[i].interface, iface) && streq(action_table[i].member, member)) {
                        *ret = action_table[i].action;
                        return 0;
                }
        return -ENOENT;
}

static PolkitQuery *query_free(PolkitQuery *q) {
        if (!q)
                return NULL;
        /* Unlink from the manager's list. */
        for (PolkitQuery **p = &q->manager->polkit_queries; *p; p = &(*p)->next)
                if (*p == q) {
                        *p = q->next;
                        break;
                }
        sd_bus_slot_unref(q->slot);
        sd_bus_message_unref(q->request);
        free(q);
        return NULL;
}

void polkit_queries_free(Manager *m) {
        while (m->polkit_queries)
                query_free(m->polkit_queries);
}

static int check_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PolkitQuery *q = userdata;
        const sd_bus_error *e;
        int r;

        q->slot = sd_bus_slot_unref(q->slot);
        q->done = true;
        e = sd_bus_message_get_error(reply);
        if (e) {
                /* No polkit on the bus, or it failed: deny, and say why. */
                log_warning("polkit check for %s failed: %s", q->action, e->message ?: e->name);
                q->error = -EACCES;
        } else {
                int authorized = 0, challenge = 0;

                r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
                if (r >= 0)
                        r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
                if (r < 0) {
                        log_warning_errno(r, "Malformed polkit reply: %m");
                        q->error = -EBADMSG;
                } else {
                        q->authorized = authorized;
                        q->challenge = challenge;
                }
        }
        /* Run the suspended call again; it finds its answer now. */
        r = sd_bus_enqueue_for_read(sd_bus_message_get_bus(q->request), q->request);
        if (r < 0) {
                log_error_errno(r, "Failed to re-queue a call after polkit: %m");
                (void) sd_bus_reply_method_errorf(q->request, SD_BUS_ERROR_FAILED, "Authorization failed.");
                query_free(q);
        }
        return 0;
}

static int deny(sd_bus_error *error, const char *action) {
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                 "Not authorized: this needs the polkit action %s.", action);
}

int bus_authorize(Manager *m, sd_bus_message *msg, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        const char *action = NULL, *sender;
        PolkitQuery *q;
        uid_t uid;
        int r;

        if (lookup_action(msg, &action) < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "Method %s is not allowed.",
                                         strna(sd_bus_message_get_member(msg)));
        if (!action)
                return 1;

        for (q = m->polkit_queries; q; q = q->next)
                if (q->request == msg)
                        break;
        if (q) {
                bool ok, challenge;
                int err;

                if (!q->done)
                        return 0; /* still waiting; a duplicate dispatch */
                ok = q->authorized, challenge = q->challenge, err = q->error;
                query_free(q);
                if (ok)
                        return 1;
                if (err == -EACCES)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                                 "Not authorized (polkit is not available to check %s).", action);
                if (err < 0)
                        return sd_bus_error_set_errno(error, err);
                if (challenge)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                                 "Interactive authentication is required for %s.", action);
                return deny(error, action);
        }

        /* Root needs no one's permission, as in systemd. Nor does the daemon's
         * own user when it runs unprivileged (a developer's private bus): that
         * user owns the daemon's state and could ptrace it anyway. */
        r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return sd_bus_error_set_errno(error, r);
        if (uid == 0 || uid == geteuid())
                return 1;

        sender = sd_bus_message_get_sender(msg);
        if (!sender)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "No sender.");

        r = sd_bus_message_new_method_call(m->bus, &call, "org.freedesktop.PolicyKit1",
                                           "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        if (r >= 0)
                r = sd_bus_message_append(call, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", sender,
                                          action, 0,
                                          sd_bus_message_get_allow_interactive_authorization(msg) ? 1u : 0u,
                                          "");
        if (r < 0)
                return sd_bus_error_set_errno(error, r);

        q = calloc(1, sizeof *q);
        if (!q)
                return sd_bus_error_set_errno(error, -ENOMEM);
        q->manager = m;
        q->action = action;
        q->request = sd_bus_message_ref(msg);
        /* Interactive authentication may take as long as a person needs. */
        r = sd_bus_call_async(m->bus, &q->slot, call, check_reply, q, UINT64_C(120) * 1000000);
        if (r < 0) {
                sd_bus_message_unref(q->request);
                free(q);
                return sd_bus_error_set_errno(error, r);
        }
        q->next = m->polkit_queries;
        m->polkit_queries = q;
        return 0;
}
