/* SPDX-License-Identifier: MIT */
/*
 * The Hardware object: the list of compute devices (CPU, GPUs, NPUs), kept
 * current through udev (hw-monitor.c), their power mode (SetPowerMode),
 * and the model memory budget (hw-budget.c). The manager owns one and puts
 * it on the bus as the Devices, MemoryBudget and PowerMode properties.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-util.h"
#include "hw-device.h"
#include "log.h"

static void devices_free(HwDevice *d) {
        while (d) {
                HwDevice *next = d->next;
                hw_device_free(d);
                d = next;
        }
}

static HwDevice *find(HwDevice *list, const char *id) {
        for (HwDevice *d = list; d; d = d->next)
                if (streq(d->id, id))
                        return d;
        return NULL;
}

bool hardware_has_npu(Hardware *hw) {
        for (HwDevice *d = hw->devices; d; d = d->next)
                if (d->kind == HW_NPU && d->node)
                        return true;
        return false;
}

int hardware_scan(Hardware *hw) {
        HwDevice *list = NULL, *cpu = NULL, **tail;
        bool have_npu = false;
        int r;

        r = hw_cpu_device(&cpu);
        if (r < 0)
                return log_error_errno(r, "Failed to describe the CPU: %m");
        list = cpu;
        r = hw_drm_enumerate(&list);
        if (r < 0)
                log_warning_errno(r, "GPU discovery failed; listing none: %m");
        r = hw_npu_enumerate(&list);
        if (r < 0)
                log_warning_errno(r, "NPU discovery failed; listing none: %m");
        for (tail = &list; *tail; tail = &(*tail)->next)
                have_npu = have_npu || (*tail)->kind == HW_NPU;
        if (!have_npu) {
                /* Say so plainly rather than leave the NPU out: "absent" is a fact. */
                HwDevice *d = hw_device_new(HW_NPU, "npu");
                if (d) {
                        (void) hw_set_string(&d->name, "AMD Ryzen AI NPU", 0);
                        d->absent_reason = "no amdxdna device under /sys/class/accel";
                        *tail = d;
                }
        }
        /* Vulkan devices, matched to the GPUs; a new instance each scan, so
         * a hot-plugged GPU's driver is asked too. */
        r = hw_vulkan_add(&list);
        if (r < 0)
                log_warning_errno(r, "Vulkan device listing failed; GPUs are shown without their Vulkan device: %m");
        /* What unicornd changed must survive a rescan, or exit could not restore it. */
        for (HwDevice *d = list; d; d = d->next) {
                HwDevice *old = find(hw->devices, d->id);
                if (!old || !old->power_saved)
                        continue;
                d->power_saved = true;
                d->saved_npu_mode = old->saved_npu_mode;
                d->saved_gpu_level = TAKE_PTR(old->saved_gpu_level);
        }
        devices_free(hw->devices);
        hw->devices = list;
        for (HwDevice *d = list; d; d = d->next)
                log_debug("Device %s: %s %s (%s)%s", d->id, hw_kind_name(d->kind), strna(d->name), strna(d->driver),
                          d->absent_reason ? ", absent" : "");
        return 0;
}

int hardware_new(sd_event *event, uint64_t reserve, hw_changed_t changed, void *userdata, Hardware **ret) {
        _cleanup_(hardware_freep) Hardware *hw = NULL;
        int r;

        hw = calloc(1, sizeof *hw);
        if (!hw)
                return -ENOMEM;
        hw->event = sd_event_ref(event);
        hw->reserve = reserve;
        hw->changed = changed;
        hw->userdata = userdata;
        hw->power_mode = HW_POWER_DEFAULT;
        r = hardware_scan(hw);
        if (r < 0)
                return r;
        for (HwDevice *d = hw->devices; d; d = d->next) {
                if (d->absent_reason)
                        log_info("%s: absent (%s).", strna(d->name), d->absent_reason);
                else
                        log_info("Found %s %s: %s (%s%s%s).", hw_kind_name(d->kind), d->id, strna(d->name),
                                 strna(d->driver), d->node ? ", " : "", strempty(d->node));
        }
        /* Without udev events (containers, some sandboxes) the list just stays as found. */
        r = hw_monitor_start(hw);
        if (r < 0)
                log_warning_errno(r, "Cannot watch for device hot-plug; devices found later will not be used: %m");
        *ret = TAKE_PTR(hw);
        return 0;
}

Hardware *hardware_free(Hardware *hw) {
        if (!hw)
                return NULL;
        hw_monitor_stop(hw);
        for (HwDevice *d = hw->devices; d; d = d->next)
                (void) hw_power_restore(d);
        devices_free(hw->devices);
        while (hw->charges)
                hw_budget_uncharge(hw, hw->charges->model);
        sd_event_unref(hw->event);
        free(hw);
        return NULL;
}

const char *hardware_power_mode(Hardware *hw) {
        if (hw->power_set)
                return hw_power_mode_to_string(hw->power_mode);
        /* Not set by us: report what the devices say, NPU first. */
        for (HwDevice *d = hw->devices; d; d = d->next)
                if (d->kind == HW_NPU && d->node && d->power_level)
                        return d->power_level;
        for (HwDevice *d = hw->devices; d; d = d->next)
                if (d->kind == HW_GPU && d->power_level) {
                        if (streq(d->power_level, "auto"))
                                return "default";
                        return d->power_level; /* low, high, manual, profile_* (checked text) */
                }
        return "unsupported";
}

static const char *error_name(int r) {
        switch (r) {
        case -EOPNOTSUPP:
                return UNICORN_ERROR_NOT_SUPPORTED;
        case -EINVAL:
        case -EBUSY:
                return UNICORN_ERROR_BUSY;
        default:
                return UNICORN_ERROR_DEVICE_ERROR;
        }
}

int hardware_set_power_mode(Hardware *hw, const char *mode, const char **ret_error_name, char *error, size_t n) {
        enum hw_power_mode m = hw_power_mode_from_string(mode);
        HwDevice *done[64];
        size_t n_done = 0, n_targets = 0;
        int r = 0;

        if (m < 0) {
                snprintf(error, n, "Unknown power mode \"%s\"; use default, low, medium, high or turbo.",
                         string_is_safe(mode, 32) ? mode : "?");
                *ret_error_name = UNICORN_ERROR_INVALID_ARGUMENT;
                return -EINVAL;
        }
        /* NPUs first: they are the ones that refuse (turbo with live
         * contexts), and then no GPU has been touched yet. */
        for (int pass = 0; pass < 2 && r >= 0; pass++)
                for (HwDevice *d = hw->devices; d && r >= 0; d = d->next) {
                        if ((pass == 0) != (d->kind == HW_NPU) || !hw_power_controllable(d))
                                continue;
                        n_targets++;
                        r = hw_power_apply(d, m, error, n);
                        if (r >= 0 && n_done < ELEMENTSOF(done))
                                done[n_done++] = d;
                }
        if (n_targets == 0) {
                snprintf(error, n, "No device with power modes is available (no amdgpu GPU, no amdxdna NPU).");
                *ret_error_name = UNICORN_ERROR_NOT_SUPPORTED;
                return -EOPNOTSUPP;
        }
        if (r < 0) {
                /* Put back what already changed: all or nothing. */
                for (size_t i = 0; i < n_done; i++) {
                        char ignored[256];
                        if (hw->power_set)
                                (void) hw_power_apply(done[i], hw->power_mode, ignored, sizeof ignored);
                        else
                                (void) hw_power_restore(done[i]);
                }
                log_warning("Power mode %s refused: %s", mode, error);
                *ret_error_name = error_name(r);
                return r;
        }
        hw->power_mode = m;
        hw->power_set = true;
        if (hw->changed) {
                hw->changed(hw, "PowerMode", hw->userdata);
                hw->changed(hw, "Devices", hw->userdata);
        }
        return 0;
}

void hardware_match_vulkan(Hardware *hw, int vk_index, uint32_t domain, uint32_t bus, uint32_t dev, uint32_t func) {
        char slot[32];

        snprintf(slot, sizeof slot, "%04x:%02x:%02x.%u", domain, bus, dev, func);
        for (HwDevice *d = hw->devices; d; d = d->next)
                if (d->kind == HW_GPU && streq_ptr(d->pci_slot, slot))
                        d->vk_index = vk_index;
}

/* --- bus encoding -------------------------------------------------------- */

static int append_kv_s(sd_bus_message *m, const char *k, const char *v) {
        return v ? sd_bus_message_append(m, "{sv}", k, "s", v) : 0;
}

static int append_kv_t(sd_bus_message *m, const char *k, uint64_t v) {
        return sd_bus_message_append(m, "{sv}", k, "t", v);
}

static int append_kv_u(sd_bus_message *m, const char *k, uint32_t v) {
        return sd_bus_message_append(m, "{sv}", k, "u", v);
}

/* a(sssa{sv}): id, kind, name, details. Every string came through
 * hw_set_string() (or is ours), so it is clean UTF-8. */
int hardware_append_devices(Hardware *hw, sd_bus_message *reply) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(sssa{sv})");
        for (HwDevice *d = hw->devices; r >= 0 && d; d = d->next) {
                r = sd_bus_message_open_container(reply, 'r', "sssa{sv}");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "sss", d->id, hw_kind_name(d->kind), strempty(d->name));
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'a', "{sv}");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "{sv}", "present", "b", !d->absent_reason);
                if (r >= 0 && d->absent_reason)
                        r = append_kv_s(reply, "reason", d->absent_reason);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "{sv}", "verified", "b", d->verified);
                if (r >= 0)
                        r = append_kv_s(reply, "driver", d->driver);
                if (r >= 0)
                        r = append_kv_s(reply, "node", d->node);
                if (r >= 0)
                        r = append_kv_s(reply, "pci_slot", d->pci_slot);
                if (r >= 0 && (d->pci_vendor || d->pci_device)) {
                        char id[16];
                        snprintf(id, sizeof id, "%04x:%04x", d->pci_vendor, d->pci_device);
                        r = append_kv_s(reply, "pci_id", id);
                }
                if (r >= 0 && d->mem.valid) {
                        r = append_kv_t(reply, "memory_total", d->mem.vram_total + d->mem.gtt_total);
                        if (r >= 0)
                                r = append_kv_t(reply, "memory_used", d->mem.vram_used + d->mem.gtt_used);
                        if (r >= 0 && d->kind == HW_GPU) {
                                r = append_kv_t(reply, "vram_total", d->mem.vram_total);
                                if (r >= 0)
                                        r = append_kv_t(reply, "vram_used", d->mem.vram_used);
                                if (r >= 0)
                                        r = append_kv_t(reply, "gtt_total", d->mem.gtt_total);
                                if (r >= 0)
                                        r = append_kv_t(reply, "gtt_used", d->mem.gtt_used);
                        }
                }
                if (r >= 0)
                        r = append_kv_s(reply, "power_mode", d->power_level);
                if (r >= 0)
                        r = append_kv_s(reply, "firmware", d->firmware);
                if (r >= 0 && d->aie_cols)
                        r = append_kv_u(reply, "aie_columns", d->aie_cols);
                if (r >= 0 && d->aie_rows)
                        r = append_kv_u(reply, "aie_rows", d->aie_rows);
                if (r >= 0 && (d->aie_major || d->aie_minor)) {
                        char v[24];
                        snprintf(v, sizeof v, "%u.%u", d->aie_major, d->aie_minor);
                        r = append_kv_s(reply, "aie_version", v);
                }
                if (r >= 0 && d->npu_clock_mhz)
                        r = append_kv_u(reply, "npu_clock_mhz", d->npu_clock_mhz);
                if (r >= 0 && d->h_clock_mhz)
                        r = append_kv_u(reply, "h_clock_mhz", d->h_clock_mhz);
                if (r >= 0 && d->vk_index >= 0) {
                        r = sd_bus_message_append(reply, "{sv}", "vulkan_index", "i", d->vk_index);
                        if (r >= 0)
                                r = append_kv_s(reply, "vulkan_name", d->vk_name);
                        if (r >= 0)
                                r = append_kv_s(reply, "vulkan_type", d->vk_type);
                        if (r >= 0)
                                r = append_kv_s(reply, "vulkan_match", d->vk_match);
                        if (r >= 0)
                                r = append_kv_s(reply, "vulkan_driver", d->vk_driver);
                        if (r >= 0)
                                r = append_kv_s(reply, "vulkan_driver_info", d->vk_driver_info);
                        if (r >= 0)
                                r = append_kv_s(reply, "vulkan_uuid", d->vk_uuid);
                        if (r >= 0)
                                r = append_kv_t(reply, "vulkan_device_local", d->vk_heap_device_local);
                        if (r >= 0)
                                r = append_kv_t(reply, "vulkan_host_visible", d->vk_heap_host_visible);
                }
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* a{st}: the numbers behind the admission check, in bytes. */
int hardware_append_budget(Hardware *hw, sd_bus_message *reply) {
        struct hw_budget b;
        int r;

        hw_budget_compute(hw, &b);
        r = sd_bus_message_open_container(reply, 'a', "{st}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "{st}{st}{st}{st}", "budget", b.budget, "used", b.used, "free", b.free,
                                          "reserve", b.reserve);
        if (r >= 0)
                r = sd_bus_message_append(reply, "{st}{st}", "system_total", b.system_total, "system_available",
                                          b.system_available);
        if (r >= 0 && streq(b.source, "amdgpu"))
                r = sd_bus_message_append(reply, "{st}{st}{st}{st}{st}", "vram_total", b.vram_total, "vram_used",
                                          b.vram_used, "gtt_total", b.gtt_total, "gtt_used", b.gtt_used,
                                          "gtt_weights", b.gtt_weights);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}
