/* SPDX-License-Identifier: MIT */
/*
 * Vulkan physical devices (engine_vulkan_devices()) matched to the DRM GPUs
 * found through libdrm/sysfs: by PCI address when the Vulkan driver has
 * VK_EXT_pci_bus_info, else by a vendor:device id that is unique on both
 * sides. Vulkan devices no GPU matched (lavapipe, a GPU without a render
 * node) are listed as their own "vulkan" entries.
 *
 * Checked against fabricated lists (tests/hw/test-hw.c) and lavapipe only:
 * no real GPU's Vulkan driver has been matched yet (docs/hardware.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "hw-device.h"
#include "log.h"

int (*hw_vulkan_enumerate)(struct engine_vk_device **ret, size_t *ret_n) = NULL;

static bool parse_slot(const char *s, uint32_t *dom, uint32_t *bus, uint32_t *dev, uint32_t *fn) {
        unsigned a, b, c, d;
        int n = 0;

        /* "0000:c4:00.0", as sysfs and libdrm write it. */
        if (!s || sscanf(s, "%x:%x:%x.%x%n", &a, &b, &c, &d, &n) != 4 || s[n] != '\0')
                return false;
        *dom = a, *bus = b, *dev = c, *fn = d;
        return true;
}

static bool pci_equal(const HwDevice *g, const struct engine_vk_device *v) {
        uint32_t dom, bus, dev, fn;

        return v->have_pci && parse_slot(g->pci_slot, &dom, &bus, &dev, &fn) && dom == v->pci_domain &&
               bus == v->pci_bus && dev == v->pci_device && fn == v->pci_function;
}

/* Both addresses known and different: certainly two devices. */
static bool pci_differ(const HwDevice *g, const struct engine_vk_device *v) {
        uint32_t dom, bus, dev, fn;

        return v->have_pci && parse_slot(g->pci_slot, &dom, &bus, &dev, &fn) && !pci_equal(g, v);
}

static bool id_candidate(const HwDevice *g, const struct engine_vk_device *v) {
        return g->pci_vendor != 0 && g->pci_vendor == v->vendor_id && g->pci_device == v->device_id &&
               !pci_differ(g, v);
}

static int set_vk(HwDevice *d, const struct engine_vk_device *v, const char *how) {
        static const char hex[] = "0123456789abcdef";
        int r;

        d->vk_index = (int) v->index;
        d->vk_type = v->type;
        d->vk_match = how;
        d->vk_heap_device_local = v->heap_device_local;
        d->vk_heap_host_visible = v->heap_host_visible;
        d->vk_selected = v->selected;
        r = hw_set_string(&d->vk_name, v->name, HW_STRING_MAX);
        if (r >= 0 && v->have_driver) {
                r = hw_set_string(&d->vk_driver, v->driver_name, HW_STRING_MAX);
                if (r >= 0)
                        r = hw_set_string(&d->vk_driver_info, v->driver_info, HW_STRING_MAX);
        }
        if (r >= 0 && v->have_uuid) {
                char u[33];
                for (size_t i = 0; i < 16; i++) {
                        u[2 * i] = hex[v->uuid[i] >> 4];
                        u[2 * i + 1] = hex[v->uuid[i] & 15];
                }
                u[32] = '\0';
                r = hw_set_string(&d->vk_uuid, u, 0);
        }
        return r;
}

int hw_vulkan_match(HwDevice *list, const struct engine_vk_device *vk, size_t n_vk, bool *matched) {
        int r;

        for (size_t i = 0; i < n_vk; i++)
                matched[i] = false;
        for (HwDevice *g = list; g; g = g->next)
                if (g->kind == HW_GPU)
                        g->vk_index = -1, g->vk_match = NULL, g->vk_selected = false;

        /* 1. PCI address. */
        for (HwDevice *g = list; g; g = g->next) {
                if (g->kind != HW_GPU)
                        continue;
                for (size_t i = 0; i < n_vk; i++)
                        if (!matched[i] && pci_equal(g, &vk[i])) {
                                r = set_vk(g, &vk[i], "pci");
                                if (r < 0)
                                        return r;
                                matched[i] = true;
                                break;
                        }
        }
        /* 2. vendor:device, only where the pair is unique both ways among
         * what is left: two identical GPUs without bus info stay unmatched
         * rather than risk swapping them. */
        for (HwDevice *g = list; g; g = g->next) {
                size_t n_cand = 0, pick = 0, n_rivals = 0;

                if (g->kind != HW_GPU || g->vk_index >= 0)
                        continue;
                for (size_t i = 0; i < n_vk; i++)
                        if (!matched[i] && id_candidate(g, &vk[i]))
                                n_cand++, pick = i;
                if (n_cand != 1)
                        continue;
                for (HwDevice *o = list; o; o = o->next)
                        if (o->kind == HW_GPU && o->vk_index < 0 && id_candidate(o, &vk[pick]))
                                n_rivals++;
                if (n_rivals != 1)
                        continue;
                r = set_vk(g, &vk[pick], "pci_id");
                if (r < 0)
                        return r;
                matched[pick] = true;
        }
        return 0;
}

int hw_vulkan_add_from(HwDevice **list, const struct engine_vk_device *vk, size_t n_vk) {
        _cleanup_free_ bool *matched = NULL;
        HwDevice **tail;
        int r;

        matched = calloc(MAX(n_vk, (size_t) 1), sizeof *matched);
        if (!matched)
                return -ENOMEM;
        r = hw_vulkan_match(*list, vk, n_vk, matched);
        if (r < 0)
                return r;
        for (tail = list; *tail; tail = &(*tail)->next)
                ;
        for (size_t i = 0; i < n_vk; i++) {
                char id[32];
                HwDevice *d;

                if (matched[i])
                        continue;
                snprintf(id, sizeof id, "vulkan%u", vk[i].index);
                d = hw_device_new(HW_VULKAN, id);
                if (!d)
                        return -ENOMEM;
                *tail = d;
                tail = &d->next;
                r = set_vk(d, &vk[i], NULL);
                if (r >= 0)
                        r = hw_set_string(&d->name, vk[i].name, HW_STRING_MAX);
                if (r >= 0 && vk[i].have_driver)
                        r = hw_set_string(&d->driver, vk[i].driver_name, HW_STRING_MAX);
                if (r < 0)
                        return r;
                d->pci_vendor = (uint16_t) vk[i].vendor_id; /* lavapipe's 0x10005 is not a PCI id: not shown */
                d->pci_device = (uint16_t) vk[i].device_id;
                if (vk[i].vendor_id > 0xffff)
                        d->pci_vendor = d->pci_device = 0;
                if (vk[i].have_pci) {
                        char slot[32];
                        snprintf(slot, sizeof slot, "%04x:%02x:%02x.%x", vk[i].pci_domain, vk[i].pci_bus,
                                 vk[i].pci_device, vk[i].pci_function);
                        r = hw_set_string(&d->pci_slot, slot, 0);
                        if (r < 0)
                                return r;
                }
                /* Listing a CPU Vulkan device is what lavapipe exercises on
                 * the CI machine; GPU drivers' answers were never seen. */
                d->verified = streq(vk[i].type, "cpu");
        }
        return 0;
}

HwDevice *hw_vulkan_weight_gpu(HwDevice *list) {
        for (HwDevice *d = list; d; d = d->next)
                if (d->kind == HW_GPU && d->vk_index >= 0 && d->vk_selected && streq_ptr(d->driver, "amdgpu") &&
                    d->node && d->vk_uuid && strlen(d->vk_uuid) == 32)
                        return d;
        return NULL;
}

int hw_vulkan_add(HwDevice **list) {
        struct engine_vk_device *vk = NULL;
        size_t n = 0;
        int r;

        if (!hw_vulkan_enumerate)
                return 0;
        r = hw_vulkan_enumerate(&vk, &n);
        if (r < 0)
                return r;
        r = hw_vulkan_add_from(list, vk, n);
        free(vk);
        return r;
}
