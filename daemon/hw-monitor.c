/* SPDX-License-Identifier: MIT */
/*
 * Hot-plug: an sd-device monitor on the udev netlink group for the drm and
 * accel subsystems. A GPU or NPU that appears (driver loaded late, eGPU,
 * amdxdna module inserted after boot) or goes away triggers a rescan; the
 * rescan waits a moment so that the burst of events one device produces
 * (card, renderD, connectors) leads to one rescan and one PropertiesChanged.
 */
#include <errno.h>
#include <time.h>

#include "hw-device.h"
#include "log.h"

#define RESCAN_DELAY_USEC (200 * UINT64_C(1000))

static int on_rescan(sd_event_source *s, uint64_t usec, void *userdata) {
        Hardware *hw = userdata;
        int r;

        hw->rescan_timer = sd_event_source_disable_unref(hw->rescan_timer);
        r = hardware_scan(hw);
        if (r < 0)
                return 0;
        if (hw->changed) {
                hw->changed(hw, "Devices", hw->userdata);
                hw->changed(hw, "MemoryBudget", hw->userdata);
                hw->changed(hw, "PowerMode", hw->userdata);
        }
        return 0;
}

static int on_uevent(sd_device_monitor *monitor, sd_device *device, void *userdata) {
        Hardware *hw = userdata;
        const char *sysname = NULL;
        sd_device_action_t a = _SD_DEVICE_ACTION_INVALID;

        (void) sd_device_get_sysname(device, &sysname);
        (void) sd_device_get_action(device, &a);
        log_debug("uevent: action %d on %s", (int) a, sysname ? sysname : "?");
        if (hw->rescan_timer)
                return 0;
        (void) sd_event_add_time_relative(hw->event, &hw->rescan_timer, CLOCK_MONOTONIC, RESCAN_DELAY_USEC, 0,
                                          on_rescan, hw);
        return 0;
}

int hw_monitor_start(Hardware *hw) {
        sd_device_monitor *m = NULL;
        int r;

        r = sd_device_monitor_new(&m);
        if (r >= 0)
                r = sd_device_monitor_filter_add_match_subsystem_devtype(m, "drm", NULL);
        if (r >= 0)
                r = sd_device_monitor_filter_add_match_subsystem_devtype(m, "accel", NULL);
        if (r >= 0)
                r = sd_device_monitor_attach_event(m, hw->event);
        if (r >= 0)
                r = sd_device_monitor_start(m, on_uevent, hw);
        if (r < 0) {
                sd_device_monitor_unref(m);
                return r;
        }
        hw->monitor = m;
        return 0;
}

void hw_monitor_stop(Hardware *hw) {
        hw->rescan_timer = sd_event_source_disable_unref(hw->rescan_timer);
        hw->monitor = sd_device_monitor_unref(hw->monitor);
}
