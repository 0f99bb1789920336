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

#include "engine.h"
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
/* Wraps a DRM fd the caller already checked (tests/hw: a fake one); takes fd, also on failure. */
int hw_gtt_from_fd(int fd, const char *name, HwGtt **ret);
HwGtt *hw_gtt_close(HwGtt *g);
DEFINE_TRIVIAL_CLEANUP_FUNC(HwGtt *, hw_gtt_close);
/* g may be NULL: then the plain fallback. */
int hw_gtt_alloc(HwGtt *g, uint64_t size, HwGttBuffer *ret);
/* The dma-buf half of hw_gtt_alloc() alone: no plain fallback and no logging, for a caller that has
 * its own fallback and says why (the Vulkan backend, through HwGttAllocator). */
int hw_gtt_alloc_dmabuf(HwGtt *g, uint64_t size, HwGttBuffer *ret);
void hw_gtt_buffer_release(HwGttBuffer *b);

/*
 * The engine's weight allocator (struct engine_weight_allocator,
 * engine/engine.h) for one model load: dma-buf GTT buffers on the amdgpu
 * GPU behind the Vulkan device the model runs on, at most cap bytes in all.
 * Every call checks the engine's deviceUUID against that GPU's (-ENODEV on
 * another device) and the running total against cap (-ENOSPC: the model
 * was admitted to the memory budget with cap bytes, and its weights do not
 * get more GTT than that). Made and freed on the main thread; the engine
 * calls it on the loading thread only, in between, so it needs no lock.
 * Every fd it hands out belongs to the engine from then on.
 */
typedef struct HwGttAllocator HwGttAllocator;
struct HwGttAllocator {
        struct engine_weight_allocator engine; /* what model_load_options.weight_allocator points to */
        HwGtt *gtt;
        uint8_t uuid[16];
        uint64_t cap;
        uint64_t allocated;     /* bytes handed out, page-aligned (imports that then failed included) */
        unsigned n_allocated;
};

/* Takes g (closed by hw_gtt_allocator_free(), or here on failure); vk_uuid: 32 hex digits. */
int hw_gtt_allocator_new(HwGtt *g, const char *vk_uuid, uint64_t cap, HwGttAllocator **ret);
HwGttAllocator *hw_gtt_allocator_free(HwGttAllocator *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(HwGttAllocator *, hw_gtt_allocator_free);

/* The raw steps (exposed for tests/hw): DRM_IOCTL_AMDGPU_GEM_CREATE in the
 * GTT domain, then DRM_IOCTL_PRIME_HANDLE_TO_FD, then GEM_CLOSE (the
 * dma-buf keeps the object alive). */
int hw_gtt_bo_export(int drm_fd, uint64_t size, int *ret_dmabuf_fd);
