/* SPDX-License-Identifier: MIT */
/*
 * engine_vulkan_devices(): every device's strings are printable UTF-8,
 * types and heaps are sane, two calls agree, at most one is the device
 * the Vulkan backend would pick (selected), and nothing leaks (the test
 * runs under ASan/LeakSanitizer; see vk-devices.supp for the one driver
 * leak that is suppressed). On a machine without an ICD it checks the
 * empty answer.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "test-helpers.h"

static bool printable(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

int main(void) {
        struct engine_vk_device *a = NULL, *b = NULL;
        size_t na = 0, nb = 0, n_selected = 0;

        CHECK_RET(engine_vulkan_devices(&a, &na), 0);
        CHECK_RET(engine_vulkan_devices(&b, &nb), 0);
        CHECK(na == nb);
        CHECK((na == 0) == (a == NULL));
        for (size_t i = 0; i < na; i++) {
                const struct engine_vk_device *d = &a[i];

                printf("vulkan%u: %s (%s) %04x:%04x driver %s [%s] pci %s%04x:%02x:%02x.%x "
                       "device-local %llu MiB host-visible %llu MiB%s\n",
                       d->index, d->name, d->type, d->vendor_id, d->device_id, d->driver_name, d->driver_info,
                       d->have_pci ? "" : "(none) ", d->pci_domain, d->pci_bus, d->pci_device, d->pci_function,
                       (unsigned long long) (d->heap_device_local >> 20),
                       (unsigned long long) (d->heap_host_visible >> 20), d->selected ? " (selected)" : "");
                CHECK(d->index == i);
                CHECK(d->name[0] && printable(d->name));
                CHECK(printable(d->driver_name) && printable(d->driver_info));
                CHECK(d->type);
                CHECK(strstr("discrete integrated virtual cpu other", d->type));
                CHECK(d->have_pci || (d->pci_domain == 0 && d->pci_bus == 0 && d->pci_device == 0 &&
                                      d->pci_function == 0));
                CHECK(d->heap_device_local > 0);
                /* Enumeration order is stable between two instances. */
                CHECK(streq(d->name, b[i].name) && d->vendor_id == b[i].vendor_id && d->device_id == b[i].device_id);
                CHECK(!d->have_uuid || memcmp(d->uuid, b[i].uuid, sizeof d->uuid) == 0);
                CHECK(d->selected == b[i].selected);
                n_selected += d->selected;
        }
        CHECK(n_selected <= 1);
        free(a);
        free(b);
        if (na == 0)
                SKIP("no Vulkan device (no ICD, or built without Vulkan): checked the empty answer only");
        return 0;
}
