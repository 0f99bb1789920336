/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * GTT buffer objects exported as dma-buf fds, for the Vulkan backend to
 * import with VK_EXT_external_memory_dma_buf (VkImportMemoryFdInfoKHR,
 * handleType DMA_BUF_BIT_EXT). On an APU, GTT is where model weights fit
 * (the VRAM carve-out is small); allocating it through amdgpu and handing
 * Vulkan a dma-buf lets the daemon account for it and fill it with pread()
 * before any Vulkan device exists.
 *
 * Where no amdgpu render node works (another vendor, no permission, an
 * old kernel), hw_gtt_alloc() falls back to plain host memory, logs why,
 * and says so in HwGttBuffer.dmabuf_fd == -1: the Vulkan side then
 * allocates device memory the ordinary way.
 */

#include <stdbool.h>
#include <stdint.h>

#include "macros.h"

typedef struct HwGtt HwGtt;

typedef struct HwGttBuffer {
        int dmabuf_fd;        /* owned; -1 for a plain allocation */
        uint64_t size;        /* bytes, page-aligned */
        void *host;           /* plain allocation only (64-byte aligned) */
        const char *fallback_reason; /* why host memory, or NULL */
} HwGttBuffer;

/* Opens render_node (e.g. /dev/dri/renderD128); -ENODEV when it is not amdgpu. */
int hw_gtt_open(const char *render_node, HwGtt **ret);
HwGtt *hw_gtt_close(HwGtt *g);
DEFINE_TRIVIAL_CLEANUP_FUNC(HwGtt *, hw_gtt_close);
/* g may be NULL: then the plain fallback. */
int hw_gtt_alloc(HwGtt *g, uint64_t size, HwGttBuffer *ret);
void hw_gtt_buffer_release(HwGttBuffer *b);

/* The raw steps (exposed for tests/hw): DRM_IOCTL_AMDGPU_GEM_CREATE in the
 * GTT domain, then DRM_IOCTL_PRIME_HANDLE_TO_FD, then GEM_CLOSE (the
 * dma-buf keeps the object alive). */
int hw_gtt_bo_export(int drm_fd, uint64_t size, int *ret_dmabuf_fd);
