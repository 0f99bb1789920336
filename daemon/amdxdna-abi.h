/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Unicorn's own copy of the amdxdna (AMD Ryzen AI NPU) ioctl ABI, written
 * from the kernel's documented UAPI, include/uapi/drm/amdxdna_accel.h
 * (Linux 6.14+, also amd/xdna-driver). Distributions do not ship that
 * header yet, and a UAPI is a binary contract: so the layout is spelt out
 * here and every struct size and ioctl number is pinned with
 * _Static_assert against the values the kernel header produces. If one of
 * these asserts fires, the header was edited wrongly, not the kernel.
 *
 * Only what unicornd uses is here: GET_INFO (device facts, power mode) and
 * SET_STATE (power mode), plus the hardware-context ioctls' numbers so the
 * fake ioctl layer in tests/hw can recognise them.
 */

#include <stdint.h>
#include <linux/ioctl.h>

/* From drm.h: every DRM driver's ioctls live at 'd' 0x40.. */
#define XDNA_DRM_IOCTL_BASE 'd'
#define XDNA_DRM_COMMAND_BASE 0x40
#define XDNA_IOWR(nr, type) _IOWR(XDNA_DRM_IOCTL_BASE, XDNA_DRM_COMMAND_BASE + (nr), type)

/* enum amdxdna_drm_ioctl_id */
enum {
        XDNA_CREATE_HWCTX = 0,
        XDNA_DESTROY_HWCTX = 1,
        XDNA_CONFIG_HWCTX = 2,
        XDNA_CREATE_BO = 3,
        XDNA_GET_BO_INFO = 4,
        XDNA_SYNC_BO = 5,
        XDNA_EXEC_CMD = 6,
        XDNA_GET_INFO = 7,
        XDNA_SET_STATE = 8,
};

/* enum amdxdna_drm_get_param; 6 and 7 are not assigned upstream. */
enum {
        XDNA_QUERY_AIE_STATUS = 0,
        XDNA_QUERY_AIE_METADATA = 1,
        XDNA_QUERY_AIE_VERSION = 2,
        XDNA_QUERY_CLOCK_METADATA = 3,
        XDNA_QUERY_SENSORS = 4,
        XDNA_QUERY_HW_CONTEXTS = 5,
        XDNA_QUERY_FIRMWARE_VERSION = 8,
        XDNA_GET_POWER_MODE = 9,
};

/* enum amdxdna_drm_set_param */
enum {
        XDNA_SET_POWER_MODE = 0,
        XDNA_WRITE_AIE_MEM = 1,
        XDNA_WRITE_AIE_REG = 2,
};

/* enum amdxdna_power_mode_type */
enum xdna_power_mode {
        XDNA_POWER_MODE_DEFAULT = 0, /* the driver's calculated DPM */
        XDNA_POWER_MODE_LOW = 1,
        XDNA_POWER_MODE_MEDIUM = 2,
        XDNA_POWER_MODE_HIGH = 3,
        XDNA_POWER_MODE_TURBO = 4,
        _XDNA_POWER_MODE_MAX,
};

/* struct amdxdna_drm_get_info */
struct xdna_get_info {
        uint32_t param;       /* in: XDNA_QUERY_* / XDNA_GET_POWER_MODE */
        uint32_t buffer_size; /* in: size of *buffer; out: size written/needed */
        uint64_t buffer;      /* in/out: user pointer */
};

/* struct amdxdna_drm_set_state */
struct xdna_set_state {
        uint32_t param;       /* XDNA_SET_POWER_MODE */
        uint32_t buffer_size;
        uint64_t buffer;      /* user pointer to e.g. struct xdna_set_power_mode */
};

/* struct amdxdna_drm_set_power_mode / amdxdna_drm_get_power_mode */
struct xdna_power_mode_arg {
        uint8_t power_mode;   /* enum xdna_power_mode */
        uint8_t pad[7];       /* MBZ */
};

/* struct amdxdna_drm_query_aie_version */
struct xdna_aie_version {
        uint32_t major, minor;
};

/* struct amdxdna_drm_query_aie_tile_metadata */
struct xdna_aie_tile_metadata {
        uint16_t row_count;
        uint16_t row_start;
        uint16_t dma_channel_count;
        uint16_t lock_count;
        uint16_t event_reg_count;
        uint16_t pad[3];
};

/* struct amdxdna_drm_query_aie_metadata */
struct xdna_aie_metadata {
        uint32_t col_size;    /* bytes per column */
        uint16_t cols, rows;
        struct xdna_aie_version version;
        struct xdna_aie_tile_metadata core, mem, shim;
};

/* struct amdxdna_drm_query_clock */
struct xdna_clock {
        uint8_t name[16];     /* not necessarily NUL-terminated: checked before use */
        uint32_t freq_mhz;
        uint32_t pad;
};

/* struct amdxdna_drm_query_clock_metadata */
struct xdna_clock_metadata {
        struct xdna_clock mp_npu_clock;
        struct xdna_clock h_clock;
};

/* struct amdxdna_drm_query_firmware_version */
struct xdna_firmware_version {
        uint32_t major, minor, patch, build;
};

/* struct amdxdna_drm_destroy_hwctx, for the numbers below. */
struct xdna_destroy_hwctx {
        uint32_t handle, pad;
};

/* struct amdxdna_drm_create_hwctx, for the numbers below. */
struct xdna_create_hwctx {
        uint64_t ext, ext_flags, qos_p;
        uint32_t umq_bo, log_buf_bo, max_opc, num_tiles, mem_size, umq_doorbell, handle, syncobj_handle;
};

#define XDNA_IOCTL_CREATE_HWCTX XDNA_IOWR(XDNA_CREATE_HWCTX, struct xdna_create_hwctx)
#define XDNA_IOCTL_DESTROY_HWCTX XDNA_IOWR(XDNA_DESTROY_HWCTX, struct xdna_destroy_hwctx)
#define XDNA_IOCTL_GET_INFO XDNA_IOWR(XDNA_GET_INFO, struct xdna_get_info)
#define XDNA_IOCTL_SET_STATE XDNA_IOWR(XDNA_SET_STATE, struct xdna_set_state)

/* Sizes as the kernel's structs have them on every architecture (all
 * fields naturally aligned, explicit padding). */
_Static_assert(sizeof(struct xdna_get_info) == 16, "amdxdna_drm_get_info");
_Static_assert(sizeof(struct xdna_set_state) == 16, "amdxdna_drm_set_state");
_Static_assert(sizeof(struct xdna_power_mode_arg) == 8, "amdxdna_drm_{get,set}_power_mode");
_Static_assert(sizeof(struct xdna_aie_version) == 8, "amdxdna_drm_query_aie_version");
_Static_assert(sizeof(struct xdna_aie_tile_metadata) == 16, "amdxdna_drm_query_aie_tile_metadata");
_Static_assert(sizeof(struct xdna_aie_metadata) == 64, "amdxdna_drm_query_aie_metadata");
_Static_assert(sizeof(struct xdna_clock) == 24, "amdxdna_drm_query_clock");
_Static_assert(sizeof(struct xdna_clock_metadata) == 48, "amdxdna_drm_query_clock_metadata");
_Static_assert(sizeof(struct xdna_firmware_version) == 16, "amdxdna_drm_query_firmware_version");
_Static_assert(sizeof(struct xdna_destroy_hwctx) == 8, "amdxdna_drm_destroy_hwctx");
_Static_assert(sizeof(struct xdna_create_hwctx) == 56, "amdxdna_drm_create_hwctx");
_Static_assert(__builtin_offsetof(struct xdna_aie_metadata, version) == 8, "aie_metadata.version");
_Static_assert(__builtin_offsetof(struct xdna_aie_metadata, core) == 16, "aie_metadata.core");
_Static_assert(__builtin_offsetof(struct xdna_get_info, buffer) == 8, "get_info.buffer");

/* The request numbers, as _IOWR('d', 0x40 + n, size) works out: dir 3
 * (read|write) << 30 | size << 16 | 'd' << 8 | nr. Written out so that a
 * wrong struct or a wrong nr shows up here and not as ENOTTY on a laptop. */
_Static_assert(XDNA_IOCTL_CREATE_HWCTX == 0xC0386440u, "DRM_IOCTL_AMDXDNA_CREATE_HWCTX");
_Static_assert(XDNA_IOCTL_DESTROY_HWCTX == 0xC0086441u, "DRM_IOCTL_AMDXDNA_DESTROY_HWCTX");
_Static_assert(XDNA_IOCTL_GET_INFO == 0xC0106447u, "DRM_IOCTL_AMDXDNA_GET_INFO");
_Static_assert(XDNA_IOCTL_SET_STATE == 0xC0106448u, "DRM_IOCTL_AMDXDNA_SET_STATE");

/* PCI ids of the devices amdxdna binds (drivers/accel/amdxdna/amdxdna_pci_drv.c). */
#define XDNA_PCI_VENDOR_AMD 0x1022
#define XDNA_PCI_DEVICE_NPU1 0x1502 /* Phoenix, Hawk Point */
#define XDNA_PCI_DEVICE_NPU4 0x17f0 /* Strix, Krackan, Strix Halo */
