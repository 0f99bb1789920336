/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The machine's compute devices as unicornd sees them: the CPU, GPUs (DRM
 * render nodes, found through libdrm) and NPUs (amdxdna accel nodes), their
 * memory, and their power modes. One HwDevice per device; the Hardware
 * object owns the list, rescans it on udev events, and computes the model
 * memory budget.
 *
 * Every path here was written to the kernel's documented interfaces
 * (sysfs ABI, DRM/amdgpu and amdxdna UAPI) and tested against fakes
 * (umockdev testbeds, tests/hw's ioctl interposer). HwDevice.verified says
 * whether the path that produced a device's facts has been seen working on
 * real hardware; docs/hardware.md lists which ones.
 */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-device.h>
#include <systemd/sd-event.h>

#include "macros.h"

#define UNICORN_ERROR_NO_MEMORY "org.unicorn.Engine1.Error.NoMemory"
#define UNICORN_ERROR_DEVICE_ERROR "org.unicorn.Engine1.Error.DeviceError"

#define HW_STRING_MAX 128

enum hw_kind {
        HW_CPU,
        HW_GPU,
        HW_NPU,
        HW_VULKAN, /* a Vulkan physical device no DRM GPU matched (lavapipe, …) */
};

/* Unicorn's power modes, mapped per device kind (hw-power.c). */
enum hw_power_mode {
        HW_POWER_DEFAULT,
        HW_POWER_LOW,
        HW_POWER_MEDIUM,
        HW_POWER_HIGH,
        HW_POWER_TURBO,
        _HW_POWER_MAX,
        HW_POWER_INVALID = -EINVAL,
};

struct hw_mem {
        bool valid;
        uint64_t vram_total, vram_used; /* bytes; the carve-out on an APU */
        uint64_t gtt_total, gtt_used;   /* system RAM the GPU can map */
        const char *source;             /* "sysfs", "amdgpu_query_info" */
};

typedef struct HwDevice HwDevice;
struct HwDevice {
        HwDevice *next;
        enum hw_kind kind;
        char *id;            /* stable key: "cpu", or the sysfs name ("renderD128", "accel0") */
        char *node;          /* /dev/dri/renderD128, /dev/accel/accel0; NULL for the CPU */
        char *syspath;       /* the PCI device's sysfs directory */
        char *name;          /* human readable; checked with string_is_safe() */
        char *driver;        /* "amdgpu", "amdxdna", "i915", … */
        char *pci_slot;      /* "0000:c4:00.0" */
        uint16_t pci_vendor, pci_device;
        struct hw_mem mem;
        /* NPU facts from GET_INFO (0 / NULL when the ioctl failed). */
        char *firmware;      /* "1.5.2.380" */
        uint32_t aie_cols, aie_rows;
        uint32_t aie_major, aie_minor;
        uint32_t npu_clock_mhz, h_clock_mhz;
        /* Power: what the device reports now, and what it had before
         * unicornd changed it (restored on exit). */
        char *power_level;   /* GPU: power_dpm_force_performance_level; NPU: mode name */
        bool power_saved;
        char *saved_gpu_level;
        int saved_npu_mode;
        /* The Vulkan physical device of this GPU (hw-vulkan.c), or for
         * HW_VULKAN the device itself; vk_index -1 when none matched. */
        int vk_index;
        char *vk_name;       /* deviceName (checked by the engine and hw_set_string()) */
        const char *vk_type; /* "discrete", "integrated", "virtual", "cpu", "other" */
        const char *vk_match; /* how: "pci" (bus info) or "pci_id" (unique vendor:device) */
        char *vk_driver;     /* VK_KHR_driver_properties driverName, NULL without it */
        char *vk_driver_info;
        char *vk_uuid;       /* deviceUUID, 32 hex digits */
        uint64_t vk_heap_device_local, vk_heap_host_visible;
        bool vk_selected;    /* the Vulkan device the engine's backend runs models on */
        bool verified;       /* this device's code path has run on real hardware */
        const char *absent_reason; /* NPU placeholder: why there is none */
};

HwDevice *hw_device_new(enum hw_kind kind, const char *id);
HwDevice *hw_device_free(HwDevice *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(HwDevice *, hw_device_free);
const char *hw_kind_name(enum hw_kind k);
/* Copies a string from a device (sysfs, ioctl) if it is safe to put on
 * the bus (UTF-8, no control characters, at most HW_STRING_MAX bytes);
 * otherwise stores a placeholder so one odd device does not hide the rest. */
int hw_set_string(char **dst, const char *src, size_t max);
/* Reads a small sysfs attribute of a device into ret (newline stripped). */
int hw_read_attr(const char *dir, const char *attr, char **ret);
int hw_read_attr_u64(const char *dir, const char *attr, uint64_t *ret);
int hw_write_attr(const char *dir, const char *attr, const char *value);
/* The sysfs directory of the (PCI) device behind a class device, e.g.
 * ("drm", "renderD128") → /sys/devices/pci0000:00/0000:c4:00.0. */
int hw_sysfs_device_dir(const char *subsystem, const char *sysname, char **ret);

/* Hooks for tests: every driver ioctl unicornd makes goes through this, so
 * tests/hw can link the hw-* objects with a fake. */
extern int (*hw_ioctl)(int fd, unsigned long request, void *arg);

/* hw-drm.c: GPUs (DRM render nodes) through libdrm, completed from sysfs. */
int hw_drm_enumerate(HwDevice **list);

/* hw-vulkan.c: Vulkan physical devices matched to DRM GPUs. The daemon
 * sets the hook to engine_vulkan_devices() (NULL: no Vulkan listing, as in
 * tests/hw); hw_vulkan_add() calls it. */
struct engine_vk_device;
extern int (*hw_vulkan_enumerate)(struct engine_vk_device **ret, size_t *ret_n);
/* Matches every HW_GPU of list to vk[]: first by PCI address (domain:bus:
 * dev.fn, VK_EXT_pci_bus_info against pci_slot), then, for those left on
 * both sides, by vendor:device id where exactly one GPU and one Vulkan
 * device are candidates for each other (a pair whose PCI addresses are
 * both known and differ is never a candidate). Fills the GPU's vk_* fields
 * and ret_matched[i] for each matched vk[i]. Pure: no I/O. */
int hw_vulkan_match(HwDevice *list, const struct engine_vk_device *vk, size_t n_vk, bool *ret_matched);
/* Enumerates (hw_vulkan_enumerate), matches, and appends a HW_VULKAN entry
 * ("vulkan0", …) for every Vulkan device no GPU matched. */
int hw_vulkan_add(HwDevice **list);
/* The same from a given list (tests). */
int hw_vulkan_add_from(HwDevice **list, const struct engine_vk_device *vk, size_t n_vk);
/* Where a model's weights may go as GTT dma-bufs (hw-gtt.h): the amdgpu GPU, with a render node,
 * matched to the Vulkan device the backend runs on (vk_selected) and whose deviceUUID is known; NULL
 * when the backend's device is anything else (lavapipe, another vendor) or there is none. Pure. */
HwDevice *hw_vulkan_weight_gpu(HwDevice *list);

/* hw-amdgpu-mem.c */
int hw_amdgpu_mem_read(const char *pci_syspath, struct hw_mem *ret);
int hw_amdgpu_mem_query_ioctl(int fd, struct hw_mem *ret);

/* hw-npu.c: amdxdna devices under /sys/class/accel. */
int hw_npu_enumerate(HwDevice **list);
int hw_npu_query(HwDevice *d, int fd);
int hw_npu_get_power_mode(int fd, int *ret_mode);
int hw_npu_set_power_mode(int fd, int mode);
const char *hw_npu_mode_name(int mode);

/* hw-cpu (in hw-device.c): the CPU and system memory. */
int hw_cpu_device(HwDevice **ret);
int hw_meminfo(uint64_t *ret_total, uint64_t *ret_available);

/* hw-power.c */
enum hw_power_mode hw_power_mode_from_string(const char *s);
const char *hw_power_mode_to_string(enum hw_power_mode m);
const char *hw_power_gpu_level(enum hw_power_mode m);
int hw_power_npu_mode(enum hw_power_mode m);
/* Applies mode to d; on failure the device keeps its previous mode and
 * error (size n) says why in words for the caller. */
int hw_power_apply(HwDevice *d, enum hw_power_mode m, char *error, size_t n);
int hw_power_restore(HwDevice *d);
bool hw_power_controllable(HwDevice *d);
/* Reads the current level/mode into d->power_level. */
int hw_power_read(HwDevice *d);

/* hw-budget.c: what models may use. */
struct hw_budget {
        const char *source;        /* "amdgpu" (carve-out + GTT) or "system" (MemAvailable) */
        uint64_t vram_total, vram_used, gtt_total, gtt_used;
        uint64_t system_total, system_available;
        uint64_t reserve;          /* MemoryReserve= */
        uint64_t budget;           /* what models may use in all */
        uint64_t used;             /* charged to resident models */
        uint64_t free;             /* budget - used, 0 when over */
        uint64_t gtt_weights;      /* of used: weights in GTT dma-bufs (hw_budget_set_gtt) */
};

typedef struct HwCharge HwCharge;
struct HwCharge {
        HwCharge *next;
        char *model;
        uint64_t bytes;
        uint64_t gtt_bytes;        /* of bytes: weights in GTT dma-bufs the Vulkan backend imported */
        uint64_t last_used_usec;
};

typedef struct Hardware Hardware;
typedef void (*hw_changed_t)(Hardware *hw, const char *property, void *userdata);

struct Hardware {
        sd_event *event;
        HwDevice *devices;         /* CPU first, then GPUs, then NPUs (or the NPU placeholder), then unmatched Vulkan devices */
        sd_device_monitor *monitor;
        sd_event_source *rescan_timer;
        hw_changed_t changed;
        void *userdata;
        enum hw_power_mode power_mode; /* last set by SetPowerMode, or read at start */
        bool power_set;            /* SetPowerMode succeeded at least once */
        uint64_t reserve;          /* MemoryReserve= */
        HwCharge *charges;         /* resident models and what they were admitted with */
};

/* hw-hardware.c */
int hardware_new(sd_event *event, uint64_t reserve, hw_changed_t changed, void *userdata, Hardware **ret);
Hardware *hardware_free(Hardware *hw); /* restores power modes it changed */
DEFINE_TRIVIAL_CLEANUP_FUNC(Hardware *, hardware_free);
int hardware_scan(Hardware *hw);
int hardware_set_power_mode(Hardware *hw, const char *mode, const char **ret_error_name, char *error, size_t n);
const char *hardware_power_mode(Hardware *hw);
bool hardware_has_npu(Hardware *hw);
/* The Devices (a(sssa{sv})) and MemoryBudget (a{st}) properties. */
int hardware_append_devices(Hardware *hw, sd_bus_message *reply);
int hardware_append_budget(Hardware *hw, sd_bus_message *reply);
/* Where the Vulkan backend reports a physical device's PCI bus info. */
void hardware_match_vulkan(Hardware *hw, int vk_index, uint32_t domain, uint32_t bus, uint32_t dev, uint32_t func);

/* hw-monitor.c: udev (sd-device) events on drm and accel → rescan. */
int hw_monitor_start(Hardware *hw);
void hw_monitor_stop(Hardware *hw);

/* hw-budget.c */
void hw_budget_compute(Hardware *hw, struct hw_budget *ret);
/* 0 fits; -ENOSPC with error filled ("model X needs N MiB, M MiB free of B budget"). */
int hw_budget_admit(Hardware *hw, const char *model, uint64_t bytes, char *error, size_t n);
int hw_budget_charge(Hardware *hw, const char *model, uint64_t bytes);
/* Records how much of a charged model's memory is GTT the daemon allocated (its weight dma-bufs);
 * part of its charge, not added to it. No-op for a model without a charge. */
void hw_budget_set_gtt(Hardware *hw, const char *model, uint64_t bytes);
void hw_budget_uncharge(Hardware *hw, const char *model);
void hw_budget_touch(Hardware *hw, const char *model, uint64_t now);
/* Idle-model eviction order: the least recently used charged model for
 * which is_idle(name) holds; NULL when none. */
const char *hw_budget_lru_victim(Hardware *hw, bool (*is_idle)(const char *model, void *userdata), void *userdata);
