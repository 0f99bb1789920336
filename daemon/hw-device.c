/* SPDX-License-Identifier: MIT */
/*
 * One compute device (HwDevice) and the small sysfs/procfs readers every
 * hw-* file shares; also the CPU device, which is always there.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "bus-util.h"
#include "hw-device.h"
#include "log.h"

static int real_ioctl(int fd, unsigned long request, void *arg) {
        int r;

        /* Restart on EINTR/EAGAIN like libdrm's drmIoctl() does: a signal
         * must not turn into a spurious device error. */
        do
                r = ioctl(fd, request, arg);
        while (r < 0 && (errno == EINTR || errno == EAGAIN));
        return r < 0 ? -errno : r;
}

int (*hw_ioctl)(int fd, unsigned long request, void *arg) = real_ioctl;

const char *hw_kind_name(enum hw_kind k) {
        switch (k) {
        case HW_CPU:
                return "cpu";
        case HW_GPU:
                return "gpu";
        case HW_NPU:
                return "npu";
        case HW_VULKAN:
                return "vulkan";
        }
        return "unknown";
}

HwDevice *hw_device_new(enum hw_kind kind, const char *id) {
        HwDevice *d = calloc(1, sizeof *d);

        if (!d)
                return NULL;
        d->kind = kind;
        d->vk_index = -1;
        d->saved_npu_mode = -1;
        d->id = strdup(id);
        if (!d->id) {
                free(d);
                return NULL;
        }
        return d;
}

HwDevice *hw_device_free(HwDevice *d) {
        if (!d)
                return NULL;
        free(d->id);
        free(d->node);
        free(d->syspath);
        free(d->name);
        free(d->driver);
        free(d->pci_slot);
        free(d->firmware);
        free(d->power_level);
        free(d->saved_gpu_level);
        free(d->vk_name);
        free(d->vk_driver);
        free(d->vk_driver_info);
        free(d->vk_uuid);
        free(d);
        return NULL;
}

int hw_set_string(char **dst, const char *src, size_t max) {
        char *s;

        /* Device strings come from firmware and drivers we do not control;
         * what is not clean text never reaches the bus (STYLE.md §4). */
        if (!src || !string_is_safe(src, max ? max : HW_STRING_MAX))
                src = "(unprintable)";
        s = strdup(src);
        if (!s)
                return -ENOMEM;
        free(*dst);
        *dst = s;
        return 0;
}

int hw_read_attr(const char *dir, const char *attr, char **ret) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        char buf[4096];
        ssize_t n;
        char *s;

        if (asprintf(&path, "%s/%s", dir, attr) < 0)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof buf - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        s = strdup(buf);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int hw_read_attr_u64(const char *dir, const char *attr, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;
        unsigned long long v;
        char *end;
        int r;

        r = hw_read_attr(dir, attr, &s);
        if (r < 0)
                return r;
        errno = 0;
        v = strtoull(s, &end, 0);
        if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
                return -EBADMSG;
        *ret = v;
        return 0;
}

int hw_write_attr(const char *dir, const char *attr, const char *value) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t len = strlen(value);
        ssize_t n;

        if (asprintf(&path, "%s/%s", dir, attr) < 0)
                return -ENOMEM;
        fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_TRUNC);
        if (fd < 0)
                return -errno;
        /* sysfs takes the whole value in one write(); a short write is an error. */
        n = write(fd, value, len);
        if (n < 0)
                return -errno;
        if ((size_t) n != len)
                return -EIO;
        return 0;
}

int hw_sysfs_device_dir(const char *subsystem, const char *sysname, char **ret) {
        sd_device *dev = NULL, *parent = NULL;
        const char *syspath;
        char *s;
        int r;

        /* The class device's parent through sd-device rather than its
         * "device" link: the same answer on real sysfs, and it also works
         * where the link is missing (umockdev testbeds, some containers). */
        r = sd_device_new_from_subsystem_sysname(&dev, subsystem, sysname);
        if (r < 0)
                return r;
        r = sd_device_get_parent_with_subsystem_devtype(dev, "pci", NULL, &parent);
        if (r < 0)
                r = sd_device_get_parent(dev, &parent);
        if (r >= 0)
                r = sd_device_get_syspath(parent, &syspath);
        if (r >= 0) {
                s = strdup(syspath);
                r = s ? 0 : -ENOMEM;
                if (s)
                        *ret = s;
        }
        sd_device_unref(dev);
        return r;
}

int hw_meminfo(uint64_t *ret_total, uint64_t *ret_available) {
        _cleanup_free_ char *line = NULL;
        uint64_t total = 0, avail = 0;
        bool have_total = false, have_avail = false;
        size_t cap = 0;
        FILE *f;

        f = fopen("/proc/meminfo", "re");
        if (!f)
                return -errno;
        while (getline(&line, &cap, f) >= 0) {
                unsigned long long kb;
                if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
                        total = (uint64_t) kb * 1024, have_total = true;
                else if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
                        avail = (uint64_t) kb * 1024, have_avail = true;
        }
        fclose(f);
        if (!have_total || !have_avail)
                return -EBADMSG;
        *ret_total = total;
        *ret_available = avail;
        return 0;
}

int hw_cpu_device(HwDevice **ret) {
        _cleanup_(hw_device_freep) HwDevice *d = NULL;
        _cleanup_free_ char *line = NULL, *model = NULL;
        size_t cap = 0;
        uint64_t total, avail;
        FILE *f;
        int r;

        d = hw_device_new(HW_CPU, "cpu");
        if (!d)
                return -ENOMEM;
        f = fopen("/proc/cpuinfo", "re");
        if (f) {
                while (!model && getline(&line, &cap, f) >= 0) {
                        char *colon = strchr(line, ':');
                        if (strncmp(line, "model name", 10) != 0 || !colon)
                                continue;
                        colon++;
                        colon += strspn(colon, " \t");
                        colon[strcspn(colon, "\n")] = '\0';
                        model = strdup(colon);
                }
                fclose(f);
        }
        r = hw_set_string(&d->name, model ? model : "CPU", HW_STRING_MAX);
        if (r >= 0)
                r = hw_set_string(&d->driver, "cpu", 0);
        if (r < 0)
                return r;
        /* System RAM is the CPU's "memory": total and what is available now. */
        if (hw_meminfo(&total, &avail) >= 0) {
                d->mem.valid = true;
                d->mem.vram_total = total;
                d->mem.vram_used = total - MIN(avail, total);
                d->mem.source = "/proc/meminfo";
        }
        /* Reading /proc is the same everywhere: nothing hardware-specific to verify. */
        d->verified = true;
        *ret = TAKE_PTR(d);
        return 0;
}
