/* SPDX-License-Identifier: MIT */
/*
 * AMD Ryzen AI NPUs (the amdxdna accel driver): found under
 * /sys/class/accel/accelN/device by PCI id and driver, described through
 * DRM_IOCTL_AMDXDNA_GET_INFO on /dev/accel/accelN (firmware version, AIE
 * array geometry, clocks, power mode) and switched between power modes
 * with DRM_IOCTL_AMDXDNA_SET_STATE. The ABI is daemon/amdxdna-abi.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "amdxdna-abi.h"
#include "hw-device.h"
#include "log.h"

static const char *const mode_names[_XDNA_POWER_MODE_MAX] = {
        [XDNA_POWER_MODE_DEFAULT] = "default",
        [XDNA_POWER_MODE_LOW] = "low",
        [XDNA_POWER_MODE_MEDIUM] = "medium",
        [XDNA_POWER_MODE_HIGH] = "high",
        [XDNA_POWER_MODE_TURBO] = "turbo",
};

const char *hw_npu_mode_name(int mode) {
        if (mode < 0 || mode >= _XDNA_POWER_MODE_MAX)
                return NULL;
        return mode_names[mode];
}

static int get_info(int fd, uint32_t param, void *buf, uint32_t size) {
        struct xdna_get_info req = {
                .param = param,
                .buffer_size = size,
                .buffer = (uintptr_t) buf,
        };
        return hw_ioctl(fd, XDNA_IOCTL_GET_INFO, &req);
}

int hw_npu_get_power_mode(int fd, int *ret_mode) {
        struct xdna_power_mode_arg arg = {};
        int r;

        r = get_info(fd, XDNA_GET_POWER_MODE, &arg, sizeof arg);
        if (r < 0)
                return r;
        if (arg.power_mode >= _XDNA_POWER_MODE_MAX)
                return -EBADMSG;
        *ret_mode = arg.power_mode;
        return 0;
}

int hw_npu_set_power_mode(int fd, int mode) {
        struct xdna_power_mode_arg arg = { .power_mode = (uint8_t) mode };
        struct xdna_set_state req = {
                .param = XDNA_SET_POWER_MODE,
                .buffer_size = sizeof arg,
                .buffer = (uintptr_t) &arg,
        };

        if (mode < 0 || mode >= _XDNA_POWER_MODE_MAX)
                return -EINVAL;
        return hw_ioctl(fd, XDNA_IOCTL_SET_STATE, &req);
}

/* A clock name from firmware: 16 bytes, maybe without a NUL. */
static void clock_name(const struct xdna_clock *c, char buf[static 17]) {
        memcpy(buf, c->name, 16);
        buf[16] = '\0';
}

int hw_npu_query(HwDevice *d, int fd) {
        struct xdna_firmware_version fw = {};
        struct xdna_aie_metadata md = {};
        struct xdna_clock_metadata clk = {};
        int r, mode, ret = 0;

        /* Each query on its own: an older driver that lacks one (EINVAL,
         * EOPNOTSUPP) still tells us the rest. */
        r = get_info(fd, XDNA_QUERY_FIRMWARE_VERSION, &fw, sizeof fw);
        if (r >= 0) {
                char buf[64];
                snprintf(buf, sizeof buf, "%u.%u.%u.%u", fw.major, fw.minor, fw.patch, fw.build);
                (void) hw_set_string(&d->firmware, buf, 64);
        } else
                ret = log_debug_errno(r, "%s: GET_INFO(FIRMWARE_VERSION) failed: %m", d->node);
        r = get_info(fd, XDNA_QUERY_AIE_METADATA, &md, sizeof md);
        if (r >= 0) {
                d->aie_cols = md.cols;
                d->aie_rows = md.rows;
                d->aie_major = md.version.major;
                d->aie_minor = md.version.minor;
        } else
                ret = log_debug_errno(r, "%s: GET_INFO(AIE_METADATA) failed: %m", d->node);
        r = get_info(fd, XDNA_QUERY_CLOCK_METADATA, &clk, sizeof clk);
        if (r >= 0) {
                char n1[17], n2[17];
                clock_name(&clk.mp_npu_clock, n1);
                clock_name(&clk.h_clock, n2);
                d->npu_clock_mhz = clk.mp_npu_clock.freq_mhz;
                d->h_clock_mhz = clk.h_clock.freq_mhz;
                log_debug("%s: clocks %s %u MHz, %s %u MHz.", d->node, n1, d->npu_clock_mhz, n2, d->h_clock_mhz);
        } else
                ret = log_debug_errno(r, "%s: GET_INFO(CLOCK_METADATA) failed: %m", d->node);
        r = hw_npu_get_power_mode(fd, &mode);
        if (r >= 0)
                (void) hw_set_string(&d->power_level, hw_npu_mode_name(mode), 0);
        else
                ret = log_debug_errno(r, "%s: GET_INFO(GET_POWER_MODE) failed: %m", d->node);
        return ret;
}

static bool is_xdna_pci(uint64_t vendor, uint64_t device) {
        return vendor == XDNA_PCI_VENDOR_AMD && (device == XDNA_PCI_DEVICE_NPU1 || device == XDNA_PCI_DEVICE_NPU4);
}

static int npu_from_sysfs(const char *accel, HwDevice **ret) {
        _cleanup_(hw_device_freep) HwDevice *d = NULL;
        _cleanup_free_ char *uevent = NULL, *line = NULL;
        _cleanup_close_ int fd = -EBADF;
        uint64_t vendor = 0, device = 0;
        size_t cap = 0;
        char buf[96];
        FILE *f;

        d = hw_device_new(HW_NPU, accel);
        if (!d)
                return -ENOMEM;
        if (asprintf(&d->node, "/dev/accel/%s", accel) < 0)
                return -ENOMEM;
        if (hw_sysfs_device_dir("accel", accel, &d->syspath) < 0 &&
            asprintf(&d->syspath, "/sys/class/accel/%s/device", accel) < 0)
                return -ENOMEM;
        if (asprintf(&uevent, "%s/uevent", d->syspath) < 0)
                return -ENOMEM;
        (void) hw_read_attr_u64(d->syspath, "vendor", &vendor);
        (void) hw_read_attr_u64(d->syspath, "device", &device);
        f = fopen(uevent, "re");
        if (f) {
                while (getline(&line, &cap, f) >= 0) {
                        line[strcspn(line, "\n")] = '\0';
                        if (strncmp(line, "DRIVER=", 7) == 0)
                                (void) hw_set_string(&d->driver, line + 7, 64);
                        else if (strncmp(line, "PCI_SLOT_NAME=", 14) == 0)
                                (void) hw_set_string(&d->pci_slot, line + 14, 64);
                }
                fclose(f);
        }
        /* Other accel drivers (ivpu, habanalabs, …) are not ours to drive. */
        if (!streq_ptr(d->driver, "amdxdna") && !is_xdna_pci(vendor, device))
                return 0;
        d->pci_vendor = (uint16_t) vendor;
        d->pci_device = (uint16_t) device;
        snprintf(buf, sizeof buf, "AMD Ryzen AI NPU (%s)",
                 device == XDNA_PCI_DEVICE_NPU1 ? "Phoenix/Hawk Point, NPU1"
                 : device == XDNA_PCI_DEVICE_NPU4 ? "Strix and later, NPU4" : "unknown model");
        (void) hw_set_string(&d->name, buf, 0);
        fd = open(d->node, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                log_warning_errno(-errno, "NPU %s found but %s cannot be opened: %m", accel, d->node);
        else
                (void) hw_npu_query(d, fd);
        *ret = TAKE_PTR(d);
        return 1;
}

int hw_npu_enumerate(HwDevice **list) {
        DIR *dir;
        struct dirent *de;
        int r = 0;

        while (*list)
                list = &(*list)->next;
        dir = opendir("/sys/class/accel");
        if (!dir)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(dir))) {
                HwDevice *d = NULL;
                if (strncmp(de->d_name, "accel", 5) != 0)
                        continue;
                r = npu_from_sysfs(de->d_name, &d);
                if (r < 0)
                        break;
                if (r > 0) {
                        *list = d;
                        list = &d->next;
                }
        }
        closedir(dir);
        return r < 0 ? r : 0;
}
