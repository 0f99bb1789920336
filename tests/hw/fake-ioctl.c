/* SPDX-License-Identifier: MIT */
/*
 * A fake driver ioctl layer for tests, LD_PRELOADed into unicornd in front
 * of umockdev's preload library. umockdev gives the daemon a fake /sys and
 * /dev (an amdgpu render node, an amdxdna accel node); this file answers
 * the DRM ioctls on those nodes the way the kernel documents them:
 *
 *   DRM_IOCTL_VERSION              "amdgpu" / "amdxdna"
 *   DRM_IOCTL_AMDXDNA_GET_INFO     firmware version, AIE metadata, clocks,
 *                                  power mode (recorded from a Phoenix NPU's
 *                                  documented values)
 *   DRM_IOCTL_AMDXDNA_SET_STATE    power mode; checks the exact encoding
 *
 * and logs every request with its number, so the tests can check the exact
 * encoding. Replies are scripted through files in $UNICORN_FAKE_IOCTL_DIR:
 *
 *   npu_mode           the NPU's current power mode (0..4), read and written
 *   set_state_errno    if present: SET_STATE fails with this errno (a number)
 *   hwctx              if "1": hardware contexts exist, turbo gets EINVAL
 *   log                appended: "<node> <request hex> <details>"
 *
 * Anything else goes to the next ioctl() (umockdev's, then libc's).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <drm.h>

#include "amdxdna-abi.h"

#define EXPORT __attribute__((visibility("default")))

static int read_int_file(const char *name, int dflt) {
        const char *dir = getenv("UNICORN_FAKE_IOCTL_DIR");
        char path[4096];
        FILE *f;
        int v = dflt;

        if (!dir)
                return dflt;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        f = fopen(path, "re");
        if (!f)
                return dflt;
        if (fscanf(f, "%d", &v) != 1)
                v = dflt;
        fclose(f);
        return v;
}

static void write_int_file(const char *name, int v) {
        const char *dir = getenv("UNICORN_FAKE_IOCTL_DIR");
        char path[4096];
        FILE *f;

        if (!dir)
                return;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        f = fopen(path, "we");
        if (f) {
                fprintf(f, "%d\n", v);
                fclose(f);
        }
}

static void logf_(const char *node, unsigned long req, const char *fmt, ...) {
        const char *dir = getenv("UNICORN_FAKE_IOCTL_DIR");
        char path[4096];
        va_list ap;
        FILE *f;

        if (!dir)
                return;
        snprintf(path, sizeof path, "%s/log", dir);
        f = fopen(path, "ae");
        if (!f)
                return;
        fprintf(f, "%s 0x%08lx ", node, req);
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
        fputc('\n', f);
        fclose(f);
}

/* Which fake node fd is: "accel" or "render", or NULL for anything else. */
static const char *node_kind(int fd) {
        char link[64], target[4096];
        ssize_t n;

        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
                return NULL;
        target[n] = '\0';
        if (strstr(target, "/dev/accel/accel"))
                return "accel";
        if (strstr(target, "/dev/dri/renderD"))
                return "render";
        return NULL;
}

static int fail(int e) {
        errno = e;
        return -1;
}

static void copy_str(char *dst, size_t *len, const char *src) {
        size_t n = strlen(src);
        /* DRM_IOCTL_VERSION protocol: report the length, copy if there is room. */
        if (dst && *len > 0)
                memcpy(dst, src, n < *len ? n : *len);
        *len = n;
}

static int drm_version(const char *kind, struct drm_version *v) {
        size_t len;

        v->version_major = kind[0] == 'a' ? 0 : 3;
        v->version_minor = kind[0] == 'a' ? 0 : 57;
        v->version_patchlevel = 0;
        len = v->name_len;
        copy_str(v->name, &len, kind[0] == 'a' ? "amdxdna" : "amdgpu");
        v->name_len = len;
        len = v->date_len;
        copy_str(v->date, &len, "0");
        v->date_len = len;
        len = v->desc_len;
        copy_str(v->desc, &len, kind[0] == 'a' ? "AMD XDNA" : "AMD GPU");
        v->desc_len = len;
        return 0;
}

static int xdna_get_info(struct xdna_get_info *gi) {
        void *buf = (void *) (uintptr_t) gi->buffer;

        switch (gi->param) {
        case XDNA_QUERY_FIRMWARE_VERSION: {
                struct xdna_firmware_version fw = { 1, 5, 2, 380 };
                if (gi->buffer_size < sizeof fw)
                        return fail(EINVAL);
                memcpy(buf, &fw, sizeof fw);
                gi->buffer_size = sizeof fw;
                return 0;
        }
        case XDNA_QUERY_AIE_METADATA: {
                /* Phoenix: 5 columns (4 usable + 1), 6 rows: 1 shim, 1 mem, 4 core. */
                struct xdna_aie_metadata md = {
                        .col_size = 0x100000, .cols = 5, .rows = 6, .version = { 2, 0 },
                        .core = { .row_count = 4, .row_start = 2, .dma_channel_count = 2, .lock_count = 16 },
                        .mem = { .row_count = 1, .row_start = 1, .dma_channel_count = 6, .lock_count = 64 },
                        .shim = { .row_count = 1, .row_start = 0, .dma_channel_count = 2, .lock_count = 16 },
                };
                if (gi->buffer_size < sizeof md)
                        return fail(EINVAL);
                memcpy(buf, &md, sizeof md);
                gi->buffer_size = sizeof md;
                return 0;
        }
        case XDNA_QUERY_CLOCK_METADATA: {
                struct xdna_clock_metadata c = {};
                memcpy(c.mp_npu_clock.name, "MP-NPU Clock", 12);
                c.mp_npu_clock.freq_mhz = 1267;
                /* 16 bytes without a NUL: the daemon must cope. */
                memcpy(c.h_clock.name, "H Clock_________", 16);
                c.h_clock.freq_mhz = 1800;
                if (gi->buffer_size < sizeof c)
                        return fail(EINVAL);
                memcpy(buf, &c, sizeof c);
                gi->buffer_size = sizeof c;
                return 0;
        }
        case XDNA_GET_POWER_MODE: {
                struct xdna_power_mode_arg pm = { .power_mode = (uint8_t) read_int_file("npu_mode", 0) };
                if (gi->buffer_size < sizeof pm)
                        return fail(EINVAL);
                memcpy(buf, &pm, sizeof pm);
                gi->buffer_size = sizeof pm;
                return 0;
        }
        default:
                return fail(EOPNOTSUPP);
        }
}

static int xdna_set_state(struct xdna_set_state *ss) {
        const struct xdna_power_mode_arg *pm = (const void *) (uintptr_t) ss->buffer;
        int e;

        if (ss->param != XDNA_SET_POWER_MODE || ss->buffer_size != sizeof *pm || !pm)
                return fail(EINVAL);
        for (size_t i = 0; i < sizeof pm->pad; i++)
                if (pm->pad[i])
                        return fail(EINVAL); /* MBZ, as the kernel checks */
        if (pm->power_mode >= _XDNA_POWER_MODE_MAX)
                return fail(EINVAL);
        e = read_int_file("set_state_errno", 0);
        if (e > 0)
                return fail(e);
        if (pm->power_mode == XDNA_POWER_MODE_TURBO && read_int_file("hwctx", 0) > 0)
                return fail(EINVAL);
        write_int_file("npu_mode", pm->power_mode);
        return 0;
}

EXPORT int ioctl(int fd, unsigned long request, ...) {
        static int (*next)(int, unsigned long, ...);
        const char *kind;
        va_list ap;
        void *arg;
        int r;

        va_start(ap, request);
        arg = va_arg(ap, void *);
        va_end(ap);
        if (!next)
                next = (int (*)(int, unsigned long, ...)) dlsym(RTLD_NEXT, "ioctl");
        kind = _IOC_TYPE(request) == DRM_IOCTL_BASE ? node_kind(fd) : NULL;
        if (!kind)
                return next(fd, request, arg);

        if (request == DRM_IOCTL_VERSION)
                r = drm_version(kind, arg);
        else if (kind[0] == 'a' && request == XDNA_IOCTL_GET_INFO) {
                struct xdna_get_info *gi = arg;
                logf_(kind, request, "get_info param=%u size=%u", gi->param, gi->buffer_size);
                r = xdna_get_info(gi);
        } else if (kind[0] == 'a' && request == XDNA_IOCTL_SET_STATE) {
                struct xdna_set_state *ss = arg;
                const uint8_t *b = (const void *) (uintptr_t) ss->buffer;
                logf_(kind, request, "set_state param=%u size=%u mode=%u", ss->param, ss->buffer_size, b ? b[0] : 255);
                r = xdna_set_state(ss);
        } else {
                /* An ioctl the real driver would not know either. */
                logf_(kind, request, "unknown");
                r = fail(ENOTTY);
        }
        if (r < 0)
                logf_(kind, request, "-> errno %d", errno);
        return r;
}
