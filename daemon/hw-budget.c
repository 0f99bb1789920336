/* SPDX-License-Identifier: MIT */
/*
 * The model memory budget: how many bytes resident models may take, and
 * the admission check LoadModel runs against it.
 *
 *   amdgpu present:  budget = VRAM carve-out + GTT − MemoryReserve=
 *   otherwise:       budget = MemAvailable + what our models hold − MemoryReserve=
 *
 * On an APU both VRAM and GTT are the same DDR; what the GPU can address
 * is their sum, which is what a model may fill. On a CPU-only machine the
 * kernel's MemAvailable estimate is the honest number (our own models are
 * already subtracted from it, so they are added back). Resident models are
 * charged what they were admitted with (weights file + KV reserve), so the
 * accounting does not drift with other processes' use.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw-device.h"
#include "log.h"

#define MIB (UINT64_C(1) << 20)

void hw_budget_compute(Hardware *hw, struct hw_budget *ret) {
        struct hw_budget b = { .source = "system", .reserve = hw->reserve };
        HwDevice *best = NULL;
        uint64_t pool;

        for (HwCharge *c = hw->charges; c; c = c->next) {
                b.used += c->bytes;
                b.gtt_weights += c->gtt_bytes;
        }
        (void) hw_meminfo(&b.system_total, &b.system_available);
        /* The amdgpu device with the most addressable memory is where models go. */
        for (HwDevice *d = hw->devices; d; d = d->next)
                if (d->kind == HW_GPU && d->mem.valid && streq_ptr(d->driver, "amdgpu") &&
                    (!best || d->mem.vram_total + d->mem.gtt_total > best->mem.vram_total + best->mem.gtt_total))
                        best = d;
        if (best) {
                b.source = "amdgpu";
                b.vram_total = best->mem.vram_total;
                b.vram_used = best->mem.vram_used;
                b.gtt_total = best->mem.gtt_total;
                b.gtt_used = best->mem.gtt_used;
                pool = b.vram_total + b.gtt_total;
        } else
                pool = b.system_available + b.used;
        b.budget = pool > b.reserve ? pool - b.reserve : 0;
        b.free = b.budget > b.used ? b.budget - b.used : 0;
        *ret = b;
}

int hw_budget_admit(Hardware *hw, const char *model, uint64_t bytes, char *error, size_t n) {
        struct hw_budget b;

        hw_budget_compute(hw, &b);
        if (bytes <= b.free)
                return 0;
        snprintf(error, n, "model %s needs %" PRIu64 " MiB, %" PRIu64 " MiB free of %" PRIu64 " MiB budget", model,
                 DIV_ROUND_UP(bytes, MIB), b.free / MIB, b.budget / MIB);
        return -ENOSPC;
}

static HwCharge *find(Hardware *hw, const char *model) {
        for (HwCharge *c = hw->charges; c; c = c->next)
                if (streq(c->model, model))
                        return c;
        return NULL;
}

int hw_budget_charge(Hardware *hw, const char *model, uint64_t bytes) {
        HwCharge *c = find(hw, model);

        if (!c) {
                c = calloc(1, sizeof *c);
                if (!c)
                        return -ENOMEM;
                c->model = strdup(model);
                if (!c->model) {
                        free(c);
                        return -ENOMEM;
                }
                c->next = hw->charges;
                hw->charges = c;
        }
        c->bytes = bytes;
        return 0;
}

void hw_budget_set_gtt(Hardware *hw, const char *model, uint64_t bytes) {
        HwCharge *c = find(hw, model);

        /* The allocator never hands out more than the charge (its cap); keep the report consistent. */
        if (c)
                c->gtt_bytes = MIN(bytes, c->bytes);
}

void hw_budget_uncharge(Hardware *hw, const char *model) {
        for (HwCharge **p = &hw->charges; *p; p = &(*p)->next)
                if (streq((*p)->model, model)) {
                        HwCharge *c = *p;
                        *p = c->next;
                        free(c->model);
                        free(c);
                        return;
                }
}

void hw_budget_touch(Hardware *hw, const char *model, uint64_t now) {
        HwCharge *c = find(hw, model);
        if (c)
                c->last_used_usec = now;
}

const char *hw_budget_lru_victim(Hardware *hw, bool (*is_idle)(const char *model, void *userdata), void *userdata) {
        HwCharge *victim = NULL;

        for (HwCharge *c = hw->charges; c; c = c->next)
                if (is_idle(c->model, userdata) && (!victim || c->last_used_usec < victim->last_used_usec))
                        victim = c;
        return victim ? victim->model : NULL;
}
