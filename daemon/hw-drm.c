/* SPDX-License-Identifier: MIT */
/*
 * GPU discovery: DRM render nodes through libdrm (drmGetDevices2() for PCI
 * ids and nodes, drmGetVersion() for the kernel driver's name), completed
 * from the device's sysfs directory (memory, power level), which is where
 * amdgpu publishes those. A render node that libdrm does not report (an
 * old libdrm, or a sandbox that hides /dev/dri but not /sys) is still
 * listed from sysfs alone, so the two views never silently disagree.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xf86drm.h>
#include <systemd/sd-hwdb.h>

#include "hw-device.h"
#include "log.h"

#define MAX_DRM_DEVICES 64

static HwDevice *find(HwDevice *list, const char *id) {
        for (HwDevice *d = list; d; d = d->next)
                if (streq(d->id, id))
                        return d;
        return NULL;
}

static void append(HwDevice **list, HwDevice *d) {
        while (*list)
                list = &(*list)->next;
        *list = d;
}

static const char *basename_of(const char *p) {
        const char *s = strrchr(p, '/');
        return s ? s + 1 : p;
}

/* The marketing name from the hwdb's PCI database, as lspci shows it. */
static void name_from_hwdb(HwDevice *d) {
        sd_hwdb *hwdb = NULL;
        const char *model = NULL;
        char modalias[64];

        snprintf(modalias, sizeof modalias, "pci:v%08Xd%08X", d->pci_vendor, d->pci_device);
        if (sd_hwdb_new(&hwdb) >= 0) {
                if (sd_hwdb_get(hwdb, modalias, "ID_MODEL_FROM_DATABASE", &model) >= 0 && model)
                        (void) hw_set_string(&d->name, model, HW_STRING_MAX);
                sd_hwdb_unref(hwdb);
        }
        if (!d->name) {
                char buf[96];
                snprintf(buf, sizeof buf, "%s GPU %04x:%04x", d->driver ? d->driver : "DRM", d->pci_vendor,
                         d->pci_device);
                (void) hw_set_string(&d->name, buf, HW_STRING_MAX);
        }
}

/* Facts only sysfs has: driver (when libdrm could not ask), PCI slot,
 * memory and the performance level. */
static void complete_from_sysfs(HwDevice *d) {
        _cleanup_free_ char *uevent = NULL;
        char link[512];
        ssize_t n;
        uint64_t v;

        if (!d->pci_vendor && hw_read_attr_u64(d->syspath, "vendor", &v) >= 0)
                d->pci_vendor = (uint16_t) v;
        if (!d->pci_device && hw_read_attr_u64(d->syspath, "device", &v) >= 0)
                d->pci_device = (uint16_t) v;
        if (!d->driver) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/driver", d->syspath) >= 0 && (n = readlink(p, link, sizeof link - 1)) > 0) {
                        link[n] = '\0';
                        (void) hw_set_string(&d->driver, basename_of(link), 64);
                }
        }
        /* uevent has DRIVER= and PCI_SLOT_NAME= even where the driver link
         * is not a link (umockdev, some container sysfs). */
        if ((!d->driver || !d->pci_slot)) {
                _cleanup_free_ char *path = NULL, *line = NULL;
                size_t cap = 0;
                FILE *f;
                if (asprintf(&path, "%s/uevent", d->syspath) >= 0 && (f = fopen(path, "re"))) {
                        while (getline(&line, &cap, f) >= 0) {
                                line[strcspn(line, "\n")] = '\0';
                                if (!d->driver && strncmp(line, "DRIVER=", 7) == 0)
                                        (void) hw_set_string(&d->driver, line + 7, 64);
                                else if (!d->pci_slot && strncmp(line, "PCI_SLOT_NAME=", 14) == 0)
                                        (void) hw_set_string(&d->pci_slot, line + 14, 64);
                        }
                        fclose(f);
                }
        }
        if (d->driver && streq(d->driver, "amdgpu"))
                (void) hw_amdgpu_mem_read(d->syspath, &d->mem);
        (void) hw_power_read(d);
}

static int gpu_new(const char *render_name, HwDevice **ret) {
        _cleanup_(hw_device_freep) HwDevice *d = NULL;

        d = hw_device_new(HW_GPU, render_name);
        if (!d)
                return -ENOMEM;
        if (asprintf(&d->node, "/dev/dri/%s", render_name) < 0)
                return -ENOMEM;
        if (hw_sysfs_device_dir("drm", render_name, &d->syspath) < 0 &&
            asprintf(&d->syspath, "/sys/class/drm/%s/device", render_name) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(d);
        return 0;
}

/* Driver name from the kernel through DRM_IOCTL_VERSION. */
static void driver_from_version(HwDevice *d) {
        _cleanup_close_ int fd = -EBADF;
        drmVersionPtr v;

        fd = open(d->node, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                log_debug_errno(-errno, "Cannot open %s: %m", d->node);
                return;
        }
        v = drmGetVersion(fd);
        if (!v) {
                log_debug("DRM_IOCTL_VERSION failed on %s; taking the driver from sysfs.", d->node);
                return;
        }
        if (v->name && v->name_len > 0)
                (void) hw_set_string(&d->driver, v->name, 64);
        drmFreeVersion(v);
}

static int enumerate_libdrm(HwDevice **list) {
        drmDevicePtr devs[MAX_DRM_DEVICES];
        int n, r = 0;

        n = drmGetDevices2(0, devs, MAX_DRM_DEVICES);
        if (n == -ENOENT)
                return 0; /* no /dev/dri at all: no GPU, not an error */
        if (n < 0)
                return log_debug_errno(n, "drmGetDevices2() failed: %m");
        for (int i = 0; i < n && r >= 0; i++) {
                drmDevicePtr dev = devs[i];
                HwDevice *d;

                if (!(dev->available_nodes & (1 << DRM_NODE_RENDER)))
                        continue; /* display-only (KMS) devices do no compute */
                r = gpu_new(basename_of(dev->nodes[DRM_NODE_RENDER]), &d);
                if (r < 0)
                        break;
                if (dev->bustype == DRM_BUS_PCI && dev->businfo.pci && dev->deviceinfo.pci) {
                        char slot[32];
                        d->pci_vendor = dev->deviceinfo.pci->vendor_id;
                        d->pci_device = dev->deviceinfo.pci->device_id;
                        snprintf(slot, sizeof slot, "%04x:%02x:%02x.%u", dev->businfo.pci->domain,
                                 dev->businfo.pci->bus, dev->businfo.pci->dev, dev->businfo.pci->func);
                        (void) hw_set_string(&d->pci_slot, slot, 32);
                }
                driver_from_version(d);
                append(list, d);
        }
        drmFreeDevices(devs, n > 0 ? n : 0);
        return r < 0 ? r : n;
}

static int enumerate_sysfs(HwDevice **list) {
        DIR *dir;
        struct dirent *de;
        int r = 0, found = 0;

        dir = opendir("/sys/class/drm");
        if (!dir)
                return errno == ENOENT ? 0 : -errno;
        while (r >= 0 && (de = readdir(dir))) {
                HwDevice *d;
                if (strncmp(de->d_name, "renderD", 7) != 0 || find(*list, de->d_name))
                        continue;
                r = gpu_new(de->d_name, &d);
                if (r < 0)
                        break;
                log_debug("%s: not reported by libdrm; listed from sysfs.", de->d_name);
                driver_from_version(d);
                append(list, d);
                found++;
        }
        closedir(dir);
        return r < 0 ? r : found;
}

int hw_drm_enumerate(HwDevice **list) {
        HwDevice *gpus = NULL;
        int r;

        r = enumerate_libdrm(&gpus);
        if (r >= 0)
                r = enumerate_sysfs(&gpus);
        if (r < 0) {
                while (gpus) {
                        HwDevice *n = gpus->next;
                        hw_device_free(gpus);
                        gpus = n;
                }
                return r;
        }
        for (HwDevice *d = gpus; d; d = d->next) {
                complete_from_sysfs(d);
                name_from_hwdb(d);
        }
        append(list, gpus);
        return 0;
}
