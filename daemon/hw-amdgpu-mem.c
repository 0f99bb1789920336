/* SPDX-License-Identifier: MIT */
/*
 * amdgpu memory: the VRAM carve-out and the GTT pool (system RAM the GPU
 * maps). On an APU such as the Radeon 780M the carve-out is small (often
 * 512 MiB) and GTT is most of what the GPU can really use (by default half
 * of RAM or more), so a budget from VRAM alone is wrong by two orders of
 * magnitude. sysfs (Documentation/gpu/amdgpu/driver-misc.rst,
 * mem_info_*) is the ground truth and needs no open device;
 * DRM_IOCTL_AMDGPU_INFO(AMDGPU_INFO_MEMORY) gives the same numbers through
 * a render node where sysfs is hidden.
 */
#include <errno.h>
#include <string.h>
#include <amdgpu_drm.h>

#include "hw-device.h"
#include "log.h"

int hw_amdgpu_mem_read(const char *pci_syspath, struct hw_mem *ret) {
        struct hw_mem m = { .source = "sysfs" };
        int r;

        r = hw_read_attr_u64(pci_syspath, "mem_info_vram_total", &m.vram_total);
        if (r < 0)
                return log_debug_errno(r, "%s: no mem_info_vram_total: %m", pci_syspath);
        r = hw_read_attr_u64(pci_syspath, "mem_info_gtt_total", &m.gtt_total);
        if (r < 0)
                return log_debug_errno(r, "%s: no mem_info_gtt_total: %m", pci_syspath);
        /* "used" may be missing on old kernels; totals alone still give a budget. */
        (void) hw_read_attr_u64(pci_syspath, "mem_info_vram_used", &m.vram_used);
        (void) hw_read_attr_u64(pci_syspath, "mem_info_gtt_used", &m.gtt_used);
        m.vram_used = MIN(m.vram_used, m.vram_total);
        m.gtt_used = MIN(m.gtt_used, m.gtt_total);
        m.valid = true;
        *ret = m;
        return 0;
}

int hw_amdgpu_mem_query_ioctl(int fd, struct hw_mem *ret) {
        struct drm_amdgpu_memory_info info = {};
        struct drm_amdgpu_info req = {
                .return_pointer = (uintptr_t) &info,
                .return_size = sizeof info,
                .query = AMDGPU_INFO_MEMORY,
        };
        int r;

        r = hw_ioctl(fd, DRM_IOCTL_AMDGPU_INFO, &req);
        if (r < 0)
                return r;
        *ret = (struct hw_mem) {
                .valid = true,
                .source = "amdgpu_query_info",
                /* "total" as the kernel will let one process use, not the raw heap. */
                .vram_total = info.vram.total_heap_size,
                .vram_used = MIN(info.vram.heap_usage, info.vram.total_heap_size),
                .gtt_total = info.gtt.total_heap_size,
                .gtt_used = MIN(info.gtt.heap_usage, info.gtt.total_heap_size),
        };
        return 0;
}
