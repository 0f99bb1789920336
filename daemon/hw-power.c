/* SPDX-License-Identifier: MIT */
/*
 * Power modes. Unicorn has five ("default", "low", "medium", "high",
 * "turbo"), mapped per device:
 *
 *   mode     amdgpu power_dpm_force_performance_level   amdxdna power mode
 *   default  auto                                       POWER_MODE_DEFAULT
 *   low      low                                        POWER_MODE_LOW
 *   medium   auto (amdgpu has no middle level)          POWER_MODE_MEDIUM
 *   high     high                                       POWER_MODE_HIGH
 *   turbo    high                                       POWER_MODE_TURBO
 *
 * The GPU level is a sysfs attribute of the PCI device
 * (Documentation/gpu/amdgpu/thermal.rst); the NPU mode is
 * DRM_IOCTL_AMDXDNA_SET_STATE(DRM_AMDXDNA_SET_POWER_MODE), which the driver
 * takes only before hardware contexts exist for turbo (EINVAL otherwise).
 * A failed change leaves the device as it was; the first successful one
 * remembers the original setting so hw_power_restore() can put it back
 * when unicornd exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "amdxdna-abi.h"
#include "hw-device.h"
#include "log.h"

#define GPU_LEVEL_ATTR "power_dpm_force_performance_level"

static const char *const mode_names[_HW_POWER_MAX] = {
        [HW_POWER_DEFAULT] = "default",
        [HW_POWER_LOW] = "low",
        [HW_POWER_MEDIUM] = "medium",
        [HW_POWER_HIGH] = "high",
        [HW_POWER_TURBO] = "turbo",
};

enum hw_power_mode hw_power_mode_from_string(const char *s) {
        for (int i = 0; s && i < _HW_POWER_MAX; i++)
                if (streq(s, mode_names[i]))
                        return (enum hw_power_mode) i;
        return HW_POWER_INVALID;
}

const char *hw_power_mode_to_string(enum hw_power_mode m) {
        return m >= 0 && m < _HW_POWER_MAX ? mode_names[m] : NULL;
}

const char *hw_power_gpu_level(enum hw_power_mode m) {
        switch (m) {
        case HW_POWER_LOW:
                return "low";
        case HW_POWER_HIGH:
        case HW_POWER_TURBO:
                return "high";
        default:
                return "auto";
        }
}

int hw_power_npu_mode(enum hw_power_mode m) {
        static const int map[_HW_POWER_MAX] = {
                [HW_POWER_DEFAULT] = XDNA_POWER_MODE_DEFAULT, [HW_POWER_LOW] = XDNA_POWER_MODE_LOW,
                [HW_POWER_MEDIUM] = XDNA_POWER_MODE_MEDIUM,   [HW_POWER_HIGH] = XDNA_POWER_MODE_HIGH,
                [HW_POWER_TURBO] = XDNA_POWER_MODE_TURBO,
        };
        return m >= 0 && m < _HW_POWER_MAX ? map[m] : -EINVAL;
}

static bool gpu_has_levels(HwDevice *d) {
        _cleanup_free_ char *p = NULL;
        return d->kind == HW_GPU && d->syspath && asprintf(&p, "%s/" GPU_LEVEL_ATTR, d->syspath) >= 0 &&
               access(p, F_OK) == 0;
}

int hw_power_read(HwDevice *d) {
        _cleanup_free_ char *level = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r, mode;

        switch (d->kind) {
        case HW_GPU:
                r = hw_read_attr(d->syspath, GPU_LEVEL_ATTR, &level);
                if (r < 0)
                        return r;
                return hw_set_string(&d->power_level, level, 32);
        case HW_NPU:
                fd = open(d->node, O_RDWR | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return -errno;
                r = hw_npu_get_power_mode(fd, &mode);
                if (r < 0)
                        return r;
                return hw_set_string(&d->power_level, hw_npu_mode_name(mode), 0);
        default:
                return -EOPNOTSUPP;
        }
}

static int gpu_apply(HwDevice *d, enum hw_power_mode m, char *error, size_t n) {
        _cleanup_free_ char *old = NULL;
        const char *level = hw_power_gpu_level(m);
        int r;

        r = hw_read_attr(d->syspath, GPU_LEVEL_ATTR, &old);
        if (r < 0) {
                snprintf(error, n, "GPU %s has no performance levels (%s: %s).", d->id, GPU_LEVEL_ATTR, strerror(-r));
                return r == -ENOENT ? -EOPNOTSUPP : r;
        }
        r = hw_write_attr(d->syspath, GPU_LEVEL_ATTR, level);
        if (r < 0) {
                if (r == -EACCES || r == -EPERM)
                        snprintf(error, n, "Not permitted to set the performance level of GPU %s to %s "
                                 "(is %s writable for unicornd?).", d->id, level, GPU_LEVEL_ATTR);
                else if (r == -EROFS)
                        snprintf(error, n, "Cannot set the performance level of GPU %s: sysfs is read-only for "
                                 "unicornd (ProtectKernelTunables= in its service file).", d->id);
                else if (r == -EINVAL)
                        snprintf(error, n, "GPU %s refused performance level %s.", d->id, level);
                else
                        snprintf(error, n, "Cannot set the performance level of GPU %s to %s: %s.", d->id, level,
                                 strerror(-r));
                return r;
        }
        if (!d->power_saved) {
                d->saved_gpu_level = TAKE_PTR(old);
                d->power_saved = true;
        }
        (void) hw_set_string(&d->power_level, level, 32);
        log_info("GPU %s: performance level %s.", d->id, level);
        return 0;
}

static int npu_apply(HwDevice *d, enum hw_power_mode m, char *error, size_t n) {
        _cleanup_close_ int fd = -EBADF;
        int mode = hw_power_npu_mode(m), old = -1, r;

        fd = open(d->node, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                r = -errno;
                snprintf(error, n, "Cannot open NPU %s (%s): %s.", d->id, d->node, strerror(-r));
                return r;
        }
        (void) hw_npu_get_power_mode(fd, &old);
        r = hw_npu_set_power_mode(fd, mode);
        if (r < 0) {
                if (r == -EOPNOTSUPP || r == -ENOTTY)
                        snprintf(error, n, "NPU %s does not support power modes (driver or firmware too old).", d->id);
                else if (r == -EINVAL && m == HW_POWER_TURBO)
                        snprintf(error, n, "NPU %s cannot switch to turbo while hardware contexts exist; "
                                 "stop the programs using the NPU and try again.", d->id);
                else if (r == -EINVAL)
                        snprintf(error, n, "NPU %s refused power mode %s.", d->id, hw_npu_mode_name(mode));
                else if (r == -EACCES || r == -EPERM)
                        snprintf(error, n, "Not permitted to set the power mode of NPU %s "
                                 "(the driver wants CAP_SYS_ADMIN).", d->id);
                else
                        snprintf(error, n, "Cannot set NPU %s to power mode %s: %s.", d->id,
                                 hw_npu_mode_name(mode), strerror(-r));
                return r == -ENOTTY ? -EOPNOTSUPP : r;
        }
        if (!d->power_saved) {
                d->saved_npu_mode = old;
                d->power_saved = true;
        }
        (void) hw_set_string(&d->power_level, hw_npu_mode_name(mode), 0);
        log_info("NPU %s: power mode %s.", d->id, hw_npu_mode_name(mode));
        return 0;
}

int hw_power_apply(HwDevice *d, enum hw_power_mode m, char *error, size_t n) {
        if (m < 0 || m >= _HW_POWER_MAX) {
                snprintf(error, n, "Unknown power mode.");
                return -EINVAL;
        }
        if (d->kind == HW_NPU && d->node)
                return npu_apply(d, m, error, n);
        if (gpu_has_levels(d))
                return gpu_apply(d, m, error, n);
        snprintf(error, n, "%s has no power modes.", d->id);
        return -EOPNOTSUPP;
}

bool hw_power_controllable(HwDevice *d) {
        return (d->kind == HW_NPU && d->node) || gpu_has_levels(d);
}

int hw_power_restore(HwDevice *d) {
        int r = 0;

        if (!d->power_saved)
                return 0;
        if (d->kind == HW_GPU && d->saved_gpu_level)
                r = hw_write_attr(d->syspath, GPU_LEVEL_ATTR, d->saved_gpu_level);
        else if (d->kind == HW_NPU && d->saved_npu_mode >= 0) {
                _cleanup_close_ int fd = open(d->node, O_RDWR | O_CLOEXEC | O_NOCTTY);
                r = fd < 0 ? -errno : hw_npu_set_power_mode(fd, d->saved_npu_mode);
        }
        if (r < 0)
                return log_warning_errno(r, "Cannot restore the power setting of %s: %m", d->id);
        log_info("%s: power setting restored to %s.", d->id,
                 d->kind == HW_GPU ? d->saved_gpu_level : hw_npu_mode_name(d->saved_npu_mode));
        d->power_saved = false;
        return 0;
}
