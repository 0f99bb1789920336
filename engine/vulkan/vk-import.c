/* SPDX-License-Identifier: MIT */
/*
 * Weight buffers in memory the embedder allocated (struct
 * engine_weight_allocator, engine.h). On an APU unicornd hands out amdgpu
 * GTT buffers as dma-buf fds, so that the memory a model's weights take is
 * allocated, and accounted, by the daemon; the backend imports each one
 * with VK_EXT_external_memory_dma_buf and fills it like its own memory.
 *
 * fd ownership: the allocator's fd is ours from the moment alloc returns.
 * Vulkan takes an fd on a successful import only, yet some drivers close
 * it on a failed import too (lavapipe 22.3 does, against the spec). So
 * Vulkan is given a duplicate while we keep the original until the outcome
 * is known; after a failure the duplicate is closed only if it still is the
 * same file (device and inode) as the original, which a number the driver
 * closed and something else reused is not.
 *
 * UNICORN_VK_TEST_OPAQUE_FD=1 (tests only) imports the fds as
 * VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT instead: lavapipe has no
 * dma-buf import, but imports what another VkDevice exported as an opaque
 * fd, which is how tests/ops/test-vk-import.c runs this code for real.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "errorf.h"
#include "macros.h"
#include "vk.h"

static bool env_on(const char *name) {
        const char *v = getenv(name);
        return v && *v && !streq(v, "0");
}

int vk_import_init(struct vk_device *d, struct engine_weight_allocator *alloc, struct vk_import *ret,
                   char *why, size_t whysz) {
        bool opaque = env_on("UNICORN_VK_TEST_OPAQUE_FD");
        VkPhysicalDeviceExternalBufferInfo ebi = {
                .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_BUFFER_INFO,
                .usage = VK_BUF_USAGE,
                .handleType = opaque ? VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT
                                     : VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
        };
        VkExternalBufferProperties ebp = { .sType = VK_STRUCTURE_TYPE_EXTERNAL_BUFFER_PROPERTIES };
        struct vk_import imp = {
                .alloc = alloc,
                .type = ebi.handleType,
                .what = opaque ? "opaque fd (UNICORN_VK_TEST_OPAQUE_FD)" : "dma-buf",
        };

        if (!alloc || !alloc->alloc)
                return errorf(why, whysz, -EINVAL, "no allocator");
        if (env_on("UNICORN_VK_DISABLE_DMABUF"))
                return errorf(why, whysz, -EOPNOTSUPP, "UNICORN_VK_DISABLE_DMABUF is set");
        /* GTT behind a discrete GPU would put every weight read across PCIe. */
        if (!d->uma)
                return errorf(why, whysz, -EOPNOTSUPP, "a discrete GPU keeps weights in its own VRAM");
        if (!d->ext_memory_fd)
                return errorf(why, whysz, -EOPNOTSUPP, "the device lacks VK_KHR_external_memory_fd");
        if (!opaque && !d->ext_dma_buf)
                return errorf(why, whysz, -EOPNOTSUPP, "the device lacks VK_EXT_external_memory_dma_buf");
        vkGetPhysicalDeviceExternalBufferProperties(d->phys, &ebi, &ebp);
        if (!(ebp.externalMemoryProperties.externalMemoryFeatures &
              VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT))
                return errorf(why, whysz, -EOPNOTSUPP, "the device cannot import storage buffers as %s",
                              imp.what);
        imp.dedicated_only = ebp.externalMemoryProperties.externalMemoryFeatures &
                             VK_EXTERNAL_MEMORY_FEATURE_DEDICATED_ONLY_BIT;
        /* The spec gives opaque fds no such query (they must come from the same driver and device). */
        if (!opaque) {
                imp.fd_properties = (PFN_vkGetMemoryFdPropertiesKHR) vkGetDeviceProcAddr(
                        d->dev, "vkGetMemoryFdPropertiesKHR");
                if (!imp.fd_properties)
                        return errorf(why, whysz, -EOPNOTSUPP,
                                      "the driver has no vkGetMemoryFdPropertiesKHR");
        }
        *ret = imp;
        return 0;
}

/* Of the types both the buffer and the fd allow: mapped device-local (UMA), then mapped (GTT as RADV
 * shows it), then whatever is left, filled through a staging buffer. Mapped means coherent too:
 * vk_buf_write() does not flush. */
static int pick_type(const struct vk_device *d, uint32_t bits) {
        const VkMemoryPropertyFlags DL = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
                                    HV = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                         VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
        const VkMemoryPropertyFlags prefs[] = { DL | HV, HV, DL, 0 };

        for (size_t p = 0; p < ELEMENTSOF(prefs); p++)
                for (uint32_t i = 0; i < d->mem.memoryTypeCount; i++)
                        if ((bits & (1u << i)) &&
                            (d->mem.memoryTypes[i].propertyFlags & prefs[p]) == prefs[p])
                                return (int) i;
        return -1;
}

/* The fd must hold the whole allocation; a dma-buf (and a memfd) tells its size through lseek. This also
 * keeps pipes and sockets away from drivers that would block reading them. */
static int check_size(int fd, VkDeviceSize need, char *why, size_t whysz) {
        off_t end = lseek(fd, 0, SEEK_END);

        if (end < 0) {
                int e = errno;
                return errorf(why, whysz, -e, "the allocator's fd has no size (lseek: %s)", strerror(e));
        }
        (void) lseek(fd, 0, SEEK_SET);
        if ((uint64_t) end < need)
                return errorf(why, whysz, -EMSGSIZE,
                              "the allocator's fd holds %" PRIu64 " bytes, the buffer needs %" PRIu64,
                              (uint64_t) end, (uint64_t) need);
        return 0;
}

/* vkAllocateMemory on a duplicate of fd (see the top of the file): on success Vulkan owns the
 * duplicate and the caller still closes fd. */
static int import_dup(struct vk_device *d, VkMemoryAllocateInfo *ai, VkImportMemoryFdInfoKHR *imi, int fd,
                      VkDeviceMemory *ret, char *why, size_t whysz) {
        struct stat before, after;
        VkResult vr;
        int dupfd, r;

        if (fstat(fd, &before) < 0 || (dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) {
                int e = errno;
                return errorf(why, whysz, -e, "cannot duplicate the allocator's fd: %s", strerror(e));
        }
        imi->fd = dupfd;
        vr = vkAllocateMemory(d->dev, ai, NULL, ret);
        if (vr == VK_SUCCESS)
                return 0;
        *ret = VK_NULL_HANDLE;
        if (fstat(dupfd, &after) == 0 && after.st_dev == before.st_dev && after.st_ino == before.st_ino)
                close(dupfd);
        r = vr == VK_ERROR_OUT_OF_DEVICE_MEMORY || vr == VK_ERROR_OUT_OF_HOST_MEMORY ? -ENOMEM : -EIO;
        return errorf(why, whysz, r, "vkAllocateMemory did not import the fd (VkResult %d)", vr);
}

int vk_buf_import(struct vk_device *d, const struct vk_import *imp, VkDeviceSize size, struct vk_buf *ret,
                  uint64_t *ret_bytes, char *why, size_t whysz) {
        VkExternalMemoryBufferCreateInfo ext = {
                .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
                .handleTypes = imp->type,
        };
        VkBufferCreateInfo bci = {
                .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                .pNext = &ext,
                .size = vk_buf_padded(size),
                .usage = VK_BUF_USAGE,
                .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
        };
        VkMemoryDedicatedRequirements dreq = { .sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_REQUIREMENTS };
        VkMemoryRequirements2 req = { .sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2, .pNext = &dreq };
        VkBufferMemoryRequirementsInfo2 rqi = {
                .sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_REQUIREMENTS_INFO_2,
        };
        VkMemoryAllocateFlagsInfo fi = {
                .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
                .flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT,
        };
        VkMemoryDedicatedAllocateInfo ded = { .sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
                                              .pNext = &fi };
        VkImportMemoryFdInfoKHR imi = {
                .sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
                .pNext = &fi,
                .handleType = imp->type,
        };
        VkMemoryAllocateInfo ai = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .pNext = &imi };
        VkBufferDeviceAddressInfo bda = { .sType = VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO };
        _cleanup_close_ int fd = -EBADF;
        struct vk_buf b = { .size = size };
        uint32_t bits;
        int t, r;

        if (vkCreateBuffer(d->dev, &bci, NULL, &b.buf) != VK_SUCCESS)
                return errorf(why, whysz, -ENOMEM, "cannot create a buffer for external memory");
        rqi.buffer = b.buf;
        vkGetBufferMemoryRequirements2(d->dev, &rqi, &req);

        {
                int got = -EBADF;
                r = imp->alloc->alloc(imp->alloc->userdata, d->uuid, req.memoryRequirements.size, &got);
                if (r < 0) {
                        errorf(why, whysz, r, "the allocator failed: %s", strerror(-r));
                        goto fail;
                }
                fd = got;
        }
        if (fd < 0) {
                r = errorf(why, whysz, -EBADF, "the allocator returned no fd");
                goto fail;
        }
        r = check_size(fd, req.memoryRequirements.size, why, whysz);
        if (r < 0)
                goto fail;
        bits = req.memoryRequirements.memoryTypeBits;
        if (imp->fd_properties) {
                VkMemoryFdPropertiesKHR fp = { .sType = VK_STRUCTURE_TYPE_MEMORY_FD_PROPERTIES_KHR };
                VkResult vr = imp->fd_properties(d->dev, imp->type, fd, &fp);
                if (vr != VK_SUCCESS) {
                        r = errorf(why, whysz, -EINVAL,
                                   "the driver does not take the fd as a dma-buf "
                                   "(vkGetMemoryFdPropertiesKHR: VkResult %d)", vr);
                        goto fail;
                }
                bits &= fp.memoryTypeBits;
        }
        t = pick_type(d, bits);
        if (t < 0) {
                r = errorf(why, whysz, -EINVAL, "no memory type suits both the buffer and the fd");
                goto fail;
        }
        if (imp->dedicated_only || dreq.requiresDedicatedAllocation || dreq.prefersDedicatedAllocation) {
                ded.buffer = b.buf;
                imi.pNext = &ded;
        }
        ai.allocationSize = req.memoryRequirements.size;
        ai.memoryTypeIndex = (uint32_t) t;
        r = import_dup(d, &ai, &imi, fd, &b.mem, why, whysz);
        if (r < 0)
                goto fail;
        if (vkBindBufferMemory(d->dev, b.buf, b.mem, 0) != VK_SUCCESS) {
                r = errorf(why, whysz, -EIO, "cannot bind the imported memory");
                goto fail;
        }
        if ((d->mem.memoryTypes[t].propertyFlags &
             (VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)) ==
                    (VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) &&
            vkMapMemory(d->dev, b.mem, 0, VK_WHOLE_SIZE, 0, &b.map) != VK_SUCCESS) {
                r = errorf(why, whysz, -EIO, "cannot map the imported memory");
                goto fail;
        }
        bda.buffer = b.buf;
        b.addr = vkGetBufferDeviceAddress(d->dev, &bda);
        *ret = b;
        *ret_bytes = req.memoryRequirements.size;
        return 0;
fail:
        vk_buf_destroy(d, &b);
        return r;
}
