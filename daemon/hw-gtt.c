/* SPDX-License-Identifier: MIT */
/*
 * GTT allocation through the amdgpu GEM ioctls, exported as dma-buf. This
 * is what libdrm_amdgpu's amdgpu_bo_alloc(AMDGPU_GEM_DOMAIN_GTT) followed
 * by amdgpu_bo_export(amdgpu_bo_handle_type_dma_buf_fd) does underneath;
 * the ioctls are issued directly (through hw_ioctl) so that the daemon
 * does not need a full amdgpu_device_initialize() — a dozen queries — to
 * hand out one buffer, and so the exact encoding is testable with a fake.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xf86drm.h>
#include <amdgpu_drm.h>

#include "hw-gtt.h"
#include "hw-device.h"
#include "log.h"

#define GTT_ALIGN 4096u
#define GTT_MAX_BYTES (UINT64_C(1) << 40)

struct HwGtt {
        int fd;
        char *node;
};

int hw_gtt_from_fd(int fd, const char *name, HwGtt **ret) {
        _cleanup_close_ int owned = fd;
        HwGtt *g;

        g = calloc(1, sizeof *g);
        if (!g)
                return -ENOMEM;
        g->node = strdup(name);
        if (!g->node) {
                free(g);
                return -ENOMEM;
        }
        g->fd = TAKE_FD(owned);
        *ret = g;
        return 0;
}

int hw_gtt_open(const char *render_node, HwGtt **ret) {
        _cleanup_close_ int fd = -EBADF;
        drmVersionPtr v;
        bool amdgpu;

        fd = open(render_node, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        v = drmGetVersion(fd);
        amdgpu = v && v->name && streq(v->name, "amdgpu");
        drmFreeVersion(v);
        if (!amdgpu)
                return -ENODEV;
        return hw_gtt_from_fd(TAKE_FD(fd), render_node, ret);
}

HwGtt *hw_gtt_close(HwGtt *g) {
        if (!g)
                return NULL;
        if (g->fd >= 0)
                close(g->fd);
        free(g->node);
        free(g);
        return NULL;
}

int hw_gtt_bo_export(int drm_fd, uint64_t size, int *ret_dmabuf_fd) {
        union drm_amdgpu_gem_create create = {
                .in = {
                        .bo_size = size,
                        .alignment = GTT_ALIGN,
                        .domains = AMDGPU_GEM_DOMAIN_GTT,
                        /* CPU-mapped for pread() filling; write-combined
                         * would make that slow, so cached (USWC off). */
                        .domain_flags = AMDGPU_GEM_CREATE_CPU_ACCESS_REQUIRED,
                },
        };
        struct drm_prime_handle prime = {};
        struct drm_gem_close gclose = {};
        int r;

        r = hw_ioctl(drm_fd, DRM_IOCTL_AMDGPU_GEM_CREATE, &create);
        if (r < 0)
                return r;
        prime.handle = create.out.handle;
        prime.flags = DRM_CLOEXEC | DRM_RDWR;
        prime.fd = -1;
        r = hw_ioctl(drm_fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime);
        /* Either way the GEM handle goes: the dma-buf holds its own reference. */
        gclose.handle = create.out.handle;
        (void) hw_ioctl(drm_fd, DRM_IOCTL_GEM_CLOSE, &gclose);
        if (r < 0)
                return r;
        if (prime.fd < 0)
                return -EBADF;
        *ret_dmabuf_fd = prime.fd;
        return 0;
}

int hw_gtt_alloc_dmabuf(HwGtt *g, uint64_t size, HwGttBuffer *ret) {
        HwGttBuffer b = { .dmabuf_fd = -1 };
        int r;

        if (size == 0 || size > GTT_MAX_BYTES)
                return -EINVAL;
        if (!g)
                return -ENODEV;
        b.size = ALIGN_TO(size, GTT_ALIGN);
        r = hw_gtt_bo_export(g->fd, b.size, &b.dmabuf_fd);
        if (r < 0)
                return r;
        *ret = b;
        return 0;
}

int hw_gtt_alloc(HwGtt *g, uint64_t size, HwGttBuffer *ret) {
        HwGttBuffer b = { .dmabuf_fd = -1 };
        int r;

        if (size == 0 || size > GTT_MAX_BYTES)
                return -EINVAL;
        b.size = ALIGN_TO(size, GTT_ALIGN);
        if (g) {
                r = hw_gtt_alloc_dmabuf(g, size, ret);
                if (r >= 0)
                        return 0;
                b.fallback_reason = r == -ENOMEM ? "GTT allocation failed (out of GTT)"
                                                 : "GTT allocation or dma-buf export failed";
                log_warning_errno(r, "%s: %s; using plain memory: %m", g->node, b.fallback_reason);
        } else {
                b.fallback_reason = "no amdgpu render node";
                log_info("No amdgpu render node for GTT buffers; using plain memory.");
        }
        b.host = aligned_alloc_array(b.size, 1);
        if (!b.host)
                return -ENOMEM;
        *ret = b;
        return 0;
}

void hw_gtt_buffer_release(HwGttBuffer *b) {
        if (b->dmabuf_fd >= 0)
                close(b->dmabuf_fd);
        free(b->host);
        *b = (HwGttBuffer) { .dmabuf_fd = -1 };
}

static int allocator_alloc(void *userdata, const uint8_t device_uuid[16], uint64_t size, int *ret_fd) {
        HwGttAllocator *a = userdata;
        HwGttBuffer b;
        uint64_t total;
        int r;

        /* A dma-buf of this GPU's GTT is no use to another GPU's Vulkan device. */
        if (memcmp(device_uuid, a->uuid, sizeof a->uuid) != 0)
                return -ENODEV;
        if (size == 0 || size > GTT_MAX_BYTES)
                return -EINVAL;
        if (ADD_OVERFLOW(a->allocated, ALIGN_TO(size, GTT_ALIGN), &total) || total > a->cap)
                return -ENOSPC;
        r = hw_gtt_alloc_dmabuf(a->gtt, size, &b);
        if (r < 0)
                return r;
        a->allocated += b.size;
        a->n_allocated++;
        *ret_fd = TAKE_FD(b.dmabuf_fd);
        return 0;
}

static int unhex(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int hw_gtt_allocator_new(HwGtt *g, const char *vk_uuid, uint64_t cap, HwGttAllocator **ret) {
        _cleanup_(hw_gtt_closep) HwGtt *owned = g;
        HwGttAllocator *a;

        if (!g || !vk_uuid || strlen(vk_uuid) != 32)
                return -EINVAL;
        a = calloc(1, sizeof *a);
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < 16; i++) {
                int hi = unhex(vk_uuid[2 * i]), lo = unhex(vk_uuid[2 * i + 1]);
                if (hi < 0 || lo < 0) {
                        free(a);
                        return -EINVAL;
                }
                a->uuid[i] = (uint8_t) (hi << 4 | lo);
        }
        a->engine.alloc = allocator_alloc;
        a->engine.userdata = a;
        a->cap = cap;
        a->gtt = TAKE_PTR(owned);
        *ret = a;
        return 0;
}

HwGttAllocator *hw_gtt_allocator_free(HwGttAllocator *a) {
        if (!a)
                return NULL;
        /* The dma-bufs handed out keep their buffer objects; only our DRM fd goes. */
        hw_gtt_close(a->gtt);
        free(a);
        return NULL;
}
