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

int hw_gtt_open(const char *render_node, HwGtt **ret) {
        _cleanup_close_ int fd = -EBADF;
        drmVersionPtr v;
        bool amdgpu;
        HwGtt *g;

        fd = open(render_node, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        v = drmGetVersion(fd);
        amdgpu = v && v->name && streq(v->name, "amdgpu");
        drmFreeVersion(v);
        if (!amdgpu)
                return -ENODEV;
        g = calloc(1, sizeof *g);
        if (!g)
                return -ENOMEM;
        g->node = strdup(render_node);
        if (!g->node) {
                free(g);
                return -ENOMEM;
        }
        g->fd = TAKE_FD(fd);
        *ret = g;
        return 0;
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

int hw_gtt_alloc(HwGtt *g, uint64_t size, HwGttBuffer *ret) {
        HwGttBuffer b = { .dmabuf_fd = -1 };
        int r;

        if (size == 0 || size > GTT_MAX_BYTES)
                return -EINVAL;
        b.size = ALIGN_TO(size, GTT_ALIGN);
        if (g) {
                r = hw_gtt_bo_export(g->fd, b.size, &b.dmabuf_fd);
                if (r >= 0) {
                        *ret = b;
                        return 0;
                }
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
