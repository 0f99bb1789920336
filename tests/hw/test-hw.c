/* SPDX-License-Identifier: MIT */
/*
 * The hardware layer at the kernel interface, without hardware: every
 * driver ioctl goes through hw_ioctl, which this test replaces with a
 * recorder that checks the exact request numbers and argument encodings
 * against the kernel UAPI (amdxdna_accel.h, amdgpu_drm.h, drm.h) and
 * answers with scripted replies, errors included. Also the power-mode
 * mapping, string hygiene and the memory budget arithmetic.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <drm.h>
#include <amdgpu_drm.h>

#include "amdxdna-abi.h"
#include "engine.h"
#include "hw-device.h"
#include "hw-gtt.h"
#include "test-helpers.h"

/* --- the recorder -------------------------------------------------------- */

static struct {
        unsigned long requests[16];
        size_t n;
        int fail_on;        /* request number that fails … */
        int fail_errno;     /* … with this errno */
        int mode;           /* the fake NPU's power mode */
        int hwctx;          /* hardware contexts exist */
        union drm_amdgpu_gem_create gem_in;
        struct drm_prime_handle prime_in;
        uint32_t closed_handle;
} rec;

static int fake_ioctl(int fd, unsigned long request, void *arg) {
        if (rec.n < ELEMENTSOF(rec.requests))
                rec.requests[rec.n++] = request;
        if (rec.fail_on && request == (unsigned long) (unsigned) rec.fail_on)
                return -rec.fail_errno;
        switch (request) {
        case XDNA_IOCTL_GET_INFO: {
                struct xdna_get_info *gi = arg;
                void *buf = (void *) (uintptr_t) gi->buffer;
                if (gi->param == XDNA_GET_POWER_MODE) {
                        CHECK(gi->buffer_size == 8);
                        ((struct xdna_power_mode_arg *) buf)->power_mode = (uint8_t) rec.mode;
                        return 0;
                }
                if (gi->param == XDNA_QUERY_FIRMWARE_VERSION) {
                        CHECK(gi->buffer_size == 16);
                        *(struct xdna_firmware_version *) buf = (struct xdna_firmware_version) { 1, 5, 2, 380 };
                        return 0;
                }
                if (gi->param == XDNA_QUERY_AIE_METADATA) {
                        CHECK(gi->buffer_size == 64);
                        *(struct xdna_aie_metadata *) buf = (struct xdna_aie_metadata) {
                                .cols = 5, .rows = 6, .version = { 2, 0 } };
                        return 0;
                }
                if (gi->param == XDNA_QUERY_CLOCK_METADATA) {
                        struct xdna_clock_metadata *c = buf;
                        CHECK(gi->buffer_size == 48);
                        memset(c, 'X', sizeof *c); /* names without NUL */
                        c->mp_npu_clock.freq_mhz = 1267;
                        c->h_clock.freq_mhz = 1800;
                        return 0;
                }
                return -EOPNOTSUPP;
        }
        case XDNA_IOCTL_SET_STATE: {
                struct xdna_set_state *ss = arg;
                const struct xdna_power_mode_arg *pm = (const void *) (uintptr_t) ss->buffer;
                CHECK(ss->param == XDNA_SET_POWER_MODE);
                CHECK(ss->buffer_size == 8);
                for (int i = 0; i < 7; i++)
                        CHECK(pm->pad[i] == 0);
                if (pm->power_mode == XDNA_POWER_MODE_TURBO && rec.hwctx)
                        return -EINVAL;
                rec.mode = pm->power_mode;
                return 0;
        }
        case DRM_IOCTL_AMDGPU_GEM_CREATE: {
                union drm_amdgpu_gem_create *c = arg;
                rec.gem_in = *c;
                memset(c, 0, sizeof *c);
                c->out.handle = 42;
                return 0;
        }
        case DRM_IOCTL_PRIME_HANDLE_TO_FD: {
                struct drm_prime_handle *p = arg;
                rec.prime_in = *p;
                p->fd = open("/dev/null", O_RDWR | O_CLOEXEC);
                return p->fd < 0 ? -errno : 0;
        }
        case DRM_IOCTL_GEM_CLOSE:
                rec.closed_handle = ((struct drm_gem_close *) arg)->handle;
                return 0;
        }
        return -ENOTTY;
}

static void reset(void) {
        memset(&rec, 0, sizeof rec);
}

/* --- tests --------------------------------------------------------------- */

static void test_request_numbers(void) {
        /* The kernel's own macros, from libdrm's copies of drm.h/amdgpu_drm.h. */
        CHECK(DRM_IOCTL_AMDGPU_GEM_CREATE == 0xC0206440ul);
        CHECK(DRM_IOCTL_PRIME_HANDLE_TO_FD == 0xC00C642Dul);
        CHECK(DRM_IOCTL_GEM_CLOSE == 0x40086409ul);
        CHECK(DRM_IOCTL_AMDGPU_INFO == 0x40206445ul);
        CHECK(sizeof(union drm_amdgpu_gem_create) == 32);
        CHECK(sizeof(struct drm_prime_handle) == 12);
        /* Our amdxdna header (also _Static_assert'ed in it). */
        CHECK(XDNA_IOCTL_GET_INFO == 0xC0106447ul);
        CHECK(XDNA_IOCTL_SET_STATE == 0xC0106448ul);
        CHECK(_IOC_TYPE(XDNA_IOCTL_SET_STATE) == 'd');
        CHECK(_IOC_NR(XDNA_IOCTL_GET_INFO) == 0x40 + 7);
        CHECK(_IOC_SIZE(XDNA_IOCTL_GET_INFO) == 16);
        CHECK(_IOC_DIR(XDNA_IOCTL_SET_STATE) == (_IOC_READ | _IOC_WRITE));
}

static void test_npu_power(void) {
        int mode = -1;

        reset();
        CHECK_RET(hw_npu_set_power_mode(3, XDNA_POWER_MODE_HIGH), 0);
        CHECK(rec.n == 1 && rec.requests[0] == 0xC0106448ul);
        CHECK_RET(hw_npu_get_power_mode(3, &mode), 0);
        CHECK(mode == XDNA_POWER_MODE_HIGH);
        CHECK(rec.requests[1] == 0xC0106447ul);
        CHECK_RET(hw_npu_set_power_mode(3, 5), -EINVAL); /* never reaches the driver */
        CHECK(rec.n == 2);

        /* Turbo while contexts exist: EINVAL from the driver, mode unchanged. */
        rec.hwctx = 1;
        CHECK_RET(hw_npu_set_power_mode(3, XDNA_POWER_MODE_TURBO), -EINVAL);
        CHECK(rec.mode == XDNA_POWER_MODE_HIGH);

        rec.fail_on = (int) XDNA_IOCTL_SET_STATE;
        rec.fail_errno = EOPNOTSUPP;
        CHECK_RET(hw_npu_set_power_mode(3, XDNA_POWER_MODE_LOW), -EOPNOTSUPP);
        rec.fail_errno = EACCES;
        CHECK_RET(hw_npu_set_power_mode(3, XDNA_POWER_MODE_LOW), -EACCES);
        CHECK(rec.mode == XDNA_POWER_MODE_HIGH);
}

static void test_npu_query(void) {
        HwDevice *d = hw_device_new(HW_NPU, "accel0");

        reset();
        rec.mode = XDNA_POWER_MODE_MEDIUM;
        d->node = strdup("/dev/accel/accel0");
        CHECK_RET(hw_npu_query(d, 3), 0);
        CHECK(streq_ptr(d->firmware, "1.5.2.380"));
        CHECK(d->aie_cols == 5 && d->aie_rows == 6 && d->aie_major == 2);
        CHECK(d->npu_clock_mhz == 1267 && d->h_clock_mhz == 1800);
        CHECK(streq_ptr(d->power_level, "medium"));
        hw_device_free(d);
}

static void test_gtt(void) {
        HwGttBuffer b;
        int fd = -1;

        reset();
        CHECK_RET(hw_gtt_bo_export(3, 1 << 20, &fd), 0);
        CHECK(fd >= 0);
        close(fd);
        CHECK(rec.n == 3);
        CHECK(rec.requests[0] == DRM_IOCTL_AMDGPU_GEM_CREATE);
        CHECK(rec.requests[1] == DRM_IOCTL_PRIME_HANDLE_TO_FD);
        CHECK(rec.requests[2] == DRM_IOCTL_GEM_CLOSE);
        CHECK(rec.gem_in.in.bo_size == 1 << 20);
        CHECK(rec.gem_in.in.domains == AMDGPU_GEM_DOMAIN_GTT);
        CHECK(rec.gem_in.in.alignment == 4096);
        CHECK(rec.prime_in.handle == 42);
        CHECK(rec.prime_in.flags == (DRM_CLOEXEC | DRM_RDWR));
        CHECK(rec.closed_handle == 42);

        /* Export fails: the handle is still closed, the error comes back. */
        reset();
        rec.fail_on = (int) DRM_IOCTL_PRIME_HANDLE_TO_FD;
        rec.fail_errno = ENOSPC;
        CHECK_RET(hw_gtt_bo_export(3, 4096, &fd), -ENOSPC);
        CHECK(rec.closed_handle == 42);

        /* No amdgpu: the plain fallback, said so. */
        CHECK_RET(hw_gtt_alloc(NULL, 1000, &b), 0);
        CHECK(b.dmabuf_fd == -1 && b.host && b.size == 4096 && b.fallback_reason);
        hw_gtt_buffer_release(&b);
        CHECK_RET(hw_gtt_alloc(NULL, 0, &b), -EINVAL);
        /* The dma-buf half alone has no fallback. */
        CHECK_RET(hw_gtt_alloc_dmabuf(NULL, 4096, &b), -ENODEV);
}

/* The engine's weight allocator (HwGttAllocator): device check, cap, errors, and fds. */
static void test_gtt_allocator(void) {
        static const uint8_t uuid[16] = { 0xab, [15] = 1 }, other[16] = { 0xab, [15] = 2 };
        unsigned fds = test_count_fds();
        HwGttAllocator *a = NULL;
        HwGtt *g = NULL;
        int fd = -1;

        reset();
        /* /dev/null stands in for the render node: every ioctl goes to the recorder. */
        CHECK_RET(hw_gtt_from_fd(open("/dev/null", O_RDWR | O_CLOEXEC), "/dev/dri/renderD128", &g), 0);
        CHECK_RET(hw_gtt_allocator_new(g, "ab000000000000000000000000000001", 3 * 4096, &a), 0);
        CHECK(a->engine.alloc && a->engine.userdata == a && a->engine.n_imported == 0);

        /* Another GPU's Vulkan device: refused before any ioctl. */
        CHECK_RET(a->engine.alloc(a->engine.userdata, other, 4096, &fd), -ENODEV);
        CHECK(rec.n == 0 && fd == -1);
        /* A dma-buf (the recorder's /dev/null), page-aligned bytes counted against the cap. */
        CHECK_RET(a->engine.alloc(a->engine.userdata, uuid, 100, &fd), 0);
        CHECK(fd >= 0);
        close(fd);
        fd = -1;
        CHECK(rec.n == 3 && rec.requests[0] == DRM_IOCTL_AMDGPU_GEM_CREATE && rec.gem_in.in.bo_size == 4096);
        CHECK(rec.gem_in.in.domains == AMDGPU_GEM_DOMAIN_GTT);
        CHECK(a->allocated == 4096 && a->n_allocated == 1);
        /* Past the cap (what the model was admitted with): -ENOSPC, no ioctl. */
        rec.n = 0;
        CHECK_RET(a->engine.alloc(a->engine.userdata, uuid, 3 * 4096, &fd), -ENOSPC);
        CHECK_RET(a->engine.alloc(a->engine.userdata, uuid, UINT64_MAX, &fd), -EINVAL);
        CHECK(rec.n == 0 && fd == -1);
        /* The driver refuses the export: its errno, the GEM handle closed, no fd, nothing counted. */
        rec.fail_on = (int) DRM_IOCTL_PRIME_HANDLE_TO_FD;
        rec.fail_errno = ENOMEM;
        CHECK_RET(a->engine.alloc(a->engine.userdata, uuid, 4096, &fd), -ENOMEM);
        CHECK(fd == -1 && rec.closed_handle == 42 && a->allocated == 4096 && a->n_allocated == 1);
        rec.fail_on = 0;
        /* The rest of the cap is still there. */
        CHECK_RET(a->engine.alloc(a->engine.userdata, uuid, 8192, &fd), 0);
        CHECK(fd >= 0);
        close(fd);
        CHECK(a->allocated == 3 * 4096 && a->n_allocated == 2);
        a = hw_gtt_allocator_free(a);
        CHECK(!a);
        CHECK_MSG(test_count_fds() == fds, "%u fds before, %u after", fds, test_count_fds()); /* the node's fd too */

        /* A malformed deviceUUID is refused, and the HwGtt given is closed all the same. */
        CHECK_RET(hw_gtt_from_fd(open("/dev/null", O_RDWR | O_CLOEXEC), "/dev/dri/renderD128", &g), 0);
        CHECK_RET(hw_gtt_allocator_new(g, "AB000000000000000000000000000001", 4096, &a), -EINVAL);
        CHECK_RET(hw_gtt_from_fd(open("/dev/null", O_RDWR | O_CLOEXEC), "/dev/dri/renderD128", &g), 0);
        CHECK_RET(hw_gtt_allocator_new(g, "ab00", 4096, &a), -EINVAL);
        CHECK_MSG(test_count_fds() == fds, "%u fds before, %u after", fds, test_count_fds());
        CHECK(hw_gtt_allocator_free(NULL) == NULL);
}

static void test_modes(void) {
        CHECK(hw_power_mode_from_string("turbo") == HW_POWER_TURBO);
        CHECK(hw_power_mode_from_string("Turbo") == HW_POWER_INVALID);
        CHECK(hw_power_mode_from_string("") == HW_POWER_INVALID);
        CHECK(streq(hw_power_gpu_level(HW_POWER_DEFAULT), "auto"));
        CHECK(streq(hw_power_gpu_level(HW_POWER_MEDIUM), "auto"));
        CHECK(streq(hw_power_gpu_level(HW_POWER_LOW), "low"));
        CHECK(streq(hw_power_gpu_level(HW_POWER_TURBO), "high"));
        CHECK(hw_power_npu_mode(HW_POWER_TURBO) == XDNA_POWER_MODE_TURBO);
        CHECK(hw_power_npu_mode(HW_POWER_MEDIUM) == XDNA_POWER_MODE_MEDIUM);
        for (int i = 0; i < _HW_POWER_MAX; i++)
                CHECK(streq(hw_power_mode_to_string(i), hw_npu_mode_name(hw_power_npu_mode(i))));
}

static void test_strings(void) {
        char *s = NULL;

        CHECK_RET(hw_set_string(&s, "AMD Radeon 780M", 0), 0);
        CHECK(streq(s, "AMD Radeon 780M"));
        CHECK_RET(hw_set_string(&s, "bad\x1b[31m", 0), 0);
        CHECK(streq(s, "(unprintable)"));
        CHECK_RET(hw_set_string(&s, "\xff\xfe", 0), 0);
        CHECK(streq(s, "(unprintable)"));
        free(s);
}

static void test_budget(void) {
        Hardware hw = { .reserve = UINT64_C(2) << 30 };
        HwDevice *gpu = hw_device_new(HW_GPU, "renderD128");
        struct hw_budget b;
        char err[256];

        gpu->driver = strdup("amdgpu");
        gpu->mem = (struct hw_mem) { .valid = true, .vram_total = UINT64_C(512) << 20,
                                     .gtt_total = UINT64_C(16) << 30 };
        hw.devices = gpu;
        hw_budget_compute(&hw, &b);
        CHECK(streq(b.source, "amdgpu"));
        CHECK(b.budget == (UINT64_C(512) << 20) + (UINT64_C(14) << 30));
        CHECK(b.free == b.budget && b.used == 0);

        CHECK_RET(hw_budget_admit(&hw, "a", UINT64_C(10) << 30, err, sizeof err), 0);
        CHECK_RET(hw_budget_charge(&hw, "a", UINT64_C(10) << 30), 0);
        hw_budget_touch(&hw, "a", 100);
        CHECK_RET(hw_budget_charge(&hw, "b", UINT64_C(1) << 30), 0);
        hw_budget_touch(&hw, "b", 50);
        CHECK_RET(hw_budget_admit(&hw, "big", UINT64_C(8) << 30, err, sizeof err), -ENOSPC);
        CHECK_MSG(streq(err, "model big needs 8192 MiB, 3584 MiB free of 14848 MiB budget"), "%s", err);
        /* GTT weights are part of a charge, not added to it, and never more than it. */
        hw_budget_set_gtt(&hw, "a", UINT64_C(3) << 30);
        hw_budget_set_gtt(&hw, "b", UINT64_C(5) << 30);
        hw_budget_set_gtt(&hw, "nobody", 1);
        hw_budget_compute(&hw, &b);
        CHECK(b.used == UINT64_C(11) << 30 && b.gtt_weights == UINT64_C(4) << 30);
        hw_budget_uncharge(&hw, "a");
        hw_budget_compute(&hw, &b);
        CHECK(b.gtt_weights == UINT64_C(1) << 30);
        hw_budget_uncharge(&hw, "b");
        CHECK(hw.charges == NULL);
        hw_device_free(gpu);
}

static bool all_idle(const char *model, void *userdata) {
        return !streq(model, (const char *) userdata);
}

static void test_lru(void) {
        Hardware hw = {};

        CHECK_RET(hw_budget_charge(&hw, "old", 1), 0);
        CHECK_RET(hw_budget_charge(&hw, "mid", 1), 0);
        CHECK_RET(hw_budget_charge(&hw, "new", 1), 0);
        hw_budget_touch(&hw, "old", 10);
        hw_budget_touch(&hw, "mid", 20);
        hw_budget_touch(&hw, "new", 30);
        CHECK(streq(hw_budget_lru_victim(&hw, all_idle, (void *) "none"), "old"));
        /* "old" has a session: the next least recently used goes. */
        CHECK(streq(hw_budget_lru_victim(&hw, all_idle, (void *) "old"), "mid"));
        while (hw.charges)
                hw_budget_uncharge(&hw, hw.charges->model);
}

/* --- Vulkan ↔ DRM matching (hw-vulkan.c) on fabricated lists ------------- */

static HwDevice *gpu(HwDevice **list, const char *id, const char *slot, uint16_t ven, uint16_t dev) {
        HwDevice *d = hw_device_new(HW_GPU, id), **tail;

        CHECK(d);
        if (slot)
                CHECK(hw_set_string(&d->pci_slot, slot, 0) >= 0);
        d->pci_vendor = ven;
        d->pci_device = dev;
        for (tail = list; *tail; tail = &(*tail)->next)
                ;
        *tail = d;
        return d;
}

static struct engine_vk_device vkdev(uint32_t index, const char *name, const char *type, uint32_t ven, uint32_t dev,
                                     bool have_pci, uint32_t dom, uint32_t bus, uint32_t slot, uint32_t fn) {
        struct engine_vk_device v = {
                .index = index, .type = type, .vendor_id = ven, .device_id = dev, .have_pci = have_pci,
                .pci_domain = dom, .pci_bus = bus, .pci_device = slot, .pci_function = fn,
                .heap_device_local = 1u << 30, .have_driver = true, .have_uuid = true,
        };
        snprintf(v.name, sizeof v.name, "%s", name);
        snprintf(v.driver_name, sizeof v.driver_name, "drv%u", index);
        v.uuid[0] = 0xab;
        v.uuid[15] = (uint8_t) index;
        return v;
}

static void free_list(HwDevice *l) {
        while (l) {
                HwDevice *n = l->next;
                hw_device_free(l);
                l = n;
        }
}

static void test_vulkan_match(void) {
        HwDevice *list = NULL, *a, *b, *c, *e, *f;
        bool m[8];

        /* PCI match wins even when ids would be ambiguous, and differs by
         * function; the order of the Vulkan list does not matter. */
        a = gpu(&list, "renderD128", "0000:c4:00.0", 0x1002, 0x15bf);
        b = gpu(&list, "renderD129", "0000:03:00.0", 0x1002, 0x744c);
        c = gpu(&list, "renderD130", "0000:04:00.0", 0x1002, 0x744c);
        {
                struct engine_vk_device vk[] = {
                        vkdev(0, "AMD Radeon RX 7900 (RADV NAVI31)", "discrete", 0x1002, 0x744c, true, 0, 4, 0, 0),
                        vkdev(1, "AMD Radeon 780M (RADV GFX1103_R1)", "integrated", 0x1002, 0x15bf, true, 0, 0xc4, 0, 0),
                        vkdev(2, "AMD Radeon RX 7900 (RADV NAVI31)", "discrete", 0x1002, 0x744c, true, 0, 3, 0, 0),
                        vkdev(3, "llvmpipe (LLVM 15.0.6, 256 bits)", "cpu", 0x10005, 0, false, 0, 0, 0, 0),
                };
                CHECK_RET(hw_vulkan_match(list, vk, ELEMENTSOF(vk), m), 0);
                CHECK(a->vk_index == 1 && streq(a->vk_match, "pci") && streq(a->vk_type, "integrated"));
                CHECK(streq(a->vk_name, "AMD Radeon 780M (RADV GFX1103_R1)") && streq(a->vk_driver, "drv1"));
                CHECK(streq(a->vk_uuid, "ab000000000000000000000000000001"));
                CHECK(b->vk_index == 2 && streq(b->vk_match, "pci"));
                CHECK(c->vk_index == 0 && streq(c->vk_match, "pci"));
                CHECK(m[0] && m[1] && m[2] && !m[3]);

                /* Unmatched ones become "vulkan" entries: lavapipe as cpu. */
                CHECK_RET(hw_vulkan_add_from(&list, vk, ELEMENTSOF(vk)), 0);
                e = c->next;
                CHECK(e && !e->next && e->kind == HW_VULKAN && streq(e->id, "vulkan3"));
                CHECK(streq(hw_kind_name(e->kind), "vulkan") && streq(e->vk_type, "cpu") && e->vk_index == 3);
                CHECK(streq(e->name, "llvmpipe (LLVM 15.0.6, 256 bits)") && !e->vk_match && e->verified);
                CHECK(e->pci_vendor == 0 && !e->pci_slot); /* 0x10005 is no PCI id */
        }
        free_list(list);
        list = NULL;

        /* No PCI bus info: unique vendor:device falls back; identical GPUs
         * (ambiguous) stay unmatched on both sides; a device whose bus info
         * is known and differs is never matched by id. */
        a = gpu(&list, "renderD128", "0000:c4:00.0", 0x1002, 0x15bf);
        b = gpu(&list, "renderD129", "0000:03:00.0", 0x1002, 0x744c);
        c = gpu(&list, "renderD130", "0000:04:00.0", 0x1002, 0x744c);
        e = gpu(&list, "renderD131", "0000:05:00.0", 0x8086, 0x56a0);
        f = gpu(&list, "renderD132", NULL, 0x10de, 0x2684); /* no slot known on the DRM side */
        {
                struct engine_vk_device vk[] = {
                        vkdev(0, "780M", "integrated", 0x1002, 0x15bf, false, 0, 0, 0, 0),
                        vkdev(1, "7900 a", "discrete", 0x1002, 0x744c, false, 0, 0, 0, 0),
                        vkdev(2, "7900 b", "discrete", 0x1002, 0x744c, false, 0, 0, 0, 0),
                        vkdev(3, "Arc", "discrete", 0x8086, 0x56a0, true, 0, 6, 0, 0), /* elsewhere */
                        vkdev(4, "4090", "discrete", 0x10de, 0x2684, true, 0, 1, 0, 0),
                };
                CHECK_RET(hw_vulkan_match(list, vk, ELEMENTSOF(vk), m), 0);
                CHECK(a->vk_index == 0 && streq(a->vk_match, "pci_id"));
                CHECK(b->vk_index == -1 && c->vk_index == -1); /* ambiguous: no guess */
                CHECK(e->vk_index == -1);                      /* bus info says another device */
                CHECK(f->vk_index == 4 && streq(f->vk_match, "pci_id"));
                CHECK(m[0] && !m[1] && !m[2] && !m[3] && m[4]);

                /* One GPU, two Vulkan devices with its id: ambiguous too. */
                free_list(list);
                list = NULL;
                a = gpu(&list, "renderD128", "0000:03:00.0", 0x1002, 0x744c);
                CHECK_RET(hw_vulkan_match(list, vk, ELEMENTSOF(vk), m), 0);
                CHECK(a->vk_index == -1 && !m[1] && !m[2]);

                /* A rematch clears what an earlier one set. */
                a->pci_device = 0x15bf;
                CHECK_RET(hw_vulkan_match(list, vk, ELEMENTSOF(vk), m), 0);
                CHECK(a->vk_index == 0);
                a->pci_device = 0x1234;
                CHECK_RET(hw_vulkan_match(list, vk, ELEMENTSOF(vk), m), 0);
                CHECK(a->vk_index == -1 && !a->vk_match);
        }
        free_list(list);
        list = NULL;

        /* No Vulkan devices at all, and no enumerate hook: nothing added. */
        a = gpu(&list, "renderD128", "0000:c4:00.0", 0x1002, 0x15bf);
        CHECK_RET(hw_vulkan_add_from(&list, NULL, 0), 0);
        CHECK(a->vk_index == -1 && !a->next);
        CHECK_RET(hw_vulkan_add(&list), 0);
        CHECK(!a->next);
        free_list(list);
}

/* Which GPU's GTT a model's weights may go to: only the amdgpu GPU behind the backend's Vulkan device. */
static void test_weight_gpu(void) {
        HwDevice *list = NULL, *apu, *dgpu;
        bool m[3];
        struct engine_vk_device vk[] = {
                vkdev(0, "AMD Radeon 780M (RADV GFX1103_R1)", "integrated", 0x1002, 0x15bf, true, 0, 0xc4, 0, 0),
                vkdev(1, "Intel Arc (ANV)", "discrete", 0x8086, 0x56a0, true, 0, 3, 0, 0),
                vkdev(2, "llvmpipe (LLVM 15.0.6, 256 bits)", "cpu", 0x10005, 0, false, 0, 0, 0, 0),
        };

        apu = gpu(&list, "renderD128", "0000:c4:00.0", 0x1002, 0x15bf);
        dgpu = gpu(&list, "renderD129", "0000:03:00.0", 0x8086, 0x56a0);
        CHECK(hw_set_string(&apu->driver, "amdgpu", 0) >= 0);
        CHECK(hw_set_string(&apu->node, "/dev/dri/renderD128", 0) >= 0);
        CHECK(hw_set_string(&dgpu->driver, "i915", 0) >= 0);
        CHECK(hw_set_string(&dgpu->node, "/dev/dri/renderD129", 0) >= 0);

        /* The backend runs on the 780M: its GTT. */
        vk[0].selected = true;
        CHECK_RET(hw_vulkan_match(list, vk, ELEMENTSOF(vk), m), 0);
        CHECK(apu->vk_selected && !dgpu->vk_selected);
        CHECK(hw_vulkan_weight_gpu(list) == apu);
        /* On another vendor's GPU, or on lavapipe: none (no allocator is passed). */
        vk[0].selected = false;
        vk[1].selected = true;
        CHECK_RET(hw_vulkan_match(list, vk, ELEMENTSOF(vk), m), 0);
        CHECK(!apu->vk_selected && dgpu->vk_selected && !hw_vulkan_weight_gpu(list));
        vk[1].selected = false;
        vk[2].selected = true;
        CHECK_RET(hw_vulkan_match(list, vk, ELEMENTSOF(vk), m), 0);
        CHECK(!hw_vulkan_weight_gpu(list));
        /* The 780M chosen but its Vulkan device unmatched (no bus info, id elsewhere), or without a
         * render node: none. */
        vk[2].selected = false;
        vk[0].selected = true;
        vk[0].have_pci = false;
        vk[0].device_id = 0x1234;
        CHECK_RET(hw_vulkan_match(list, vk, ELEMENTSOF(vk), m), 0);
        CHECK(apu->vk_index == -1 && !hw_vulkan_weight_gpu(list));
        vk[0].have_pci = true;
        CHECK_RET(hw_vulkan_match(list, vk, ELEMENTSOF(vk), m), 0);
        CHECK(hw_vulkan_weight_gpu(list) == apu);
        free(apu->node);
        apu->node = NULL;
        CHECK(!hw_vulkan_weight_gpu(list));
        free_list(list);
}

int main(void) {
        hw_ioctl = fake_ioctl;
        test_request_numbers();
        test_npu_power();
        test_npu_query();
        test_gtt();
        test_gtt_allocator();
        test_modes();
        test_strings();
        test_budget();
        test_lru();
        test_vulkan_match();
        test_weight_gpu();
        printf("hw: all checks passed\n");
        return 0;
}
