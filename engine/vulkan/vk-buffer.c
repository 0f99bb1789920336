/* SPDX-License-Identifier: MIT */
/*
 * Buffers and their memory. Every buffer is reachable by device address.
 * Weights, the KV cache and scratch live in device-local memory: on a
 * discrete GPU filled through a staging buffer, on UMA (integrated GPUs,
 * lavapipe) from host-visible device-local memory that the CPU writes
 * directly. File-backed mmap pages are never imported (RADV cannot).
 */

#include <errno.h>
#include <string.h>

#include "macros.h"
#include "vk.h"

#define STAGING_CHUNK ((VkDeviceSize) 64 << 20)

static int find_type(const struct vk_device *d, uint32_t bits, VkMemoryPropertyFlags want,
                     VkMemoryPropertyFlags avoid) {
        for (uint32_t i = 0; i < d->mem.memoryTypeCount; i++) {
                VkMemoryPropertyFlags f = d->mem.memoryTypes[i].propertyFlags;
                if ((bits & (1u << i)) && (f & want) == want && !(f & avoid))
                        return (int) i;
        }
        return -1;
}

static int pick_type(const struct vk_device *d, uint32_t bits, enum vk_mem kind) {
        const VkMemoryPropertyFlags DL = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
                                    HV = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                    HC = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
        int t = -1;

        if (kind == VK_MEM_DEVICE) {
                if (d->uma)
                        t = find_type(d, bits, DL | HV, 0);
                else
                        t = find_type(d, bits, DL, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
                if (t < 0)
                        t = find_type(d, bits, DL, 0);
                return t;
        }
        t = find_type(d, bits, HV | HC, 0);
        if (t < 0)
                t = find_type(d, bits, HV, 0);
        return t;
}

void vk_buf_destroy(struct vk_device *d, struct vk_buf *b) {
        if (!b)
                return;
        if (b->map)
                vkUnmapMemory(d->dev, b->mem);
        if (b->buf)
                vkDestroyBuffer(d->dev, b->buf, NULL);
        if (b->mem)
                vkFreeMemory(d->dev, b->mem, NULL);
        *b = (struct vk_buf) {};
}

int vk_buf_create(struct vk_device *d, VkDeviceSize size, enum vk_mem kind, struct vk_buf *ret) {
        VkBufferCreateInfo bci = {
                .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                .size = vk_buf_padded(size),
                .usage = VK_BUF_USAGE,
                .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
        };
        VkMemoryAllocateFlagsInfo fi = {
                .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
                .flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT,
        };
        VkMemoryAllocateInfo ai = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .pNext = &fi };
        VkBufferDeviceAddressInfo bda = { .sType = VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO };
        VkMemoryRequirements req;
        struct vk_buf b = { .size = size };
        int t;

        if (vkCreateBuffer(d->dev, &bci, NULL, &b.buf) != VK_SUCCESS)
                return -ENOMEM;
        vkGetBufferMemoryRequirements(d->dev, b.buf, &req);
        t = pick_type(d, req.memoryTypeBits, kind);
        if (t < 0) {
                vk_buf_destroy(d, &b);
                return -ENOMEM;
        }
        ai.allocationSize = req.size;
        ai.memoryTypeIndex = (uint32_t) t;
        if (vkAllocateMemory(d->dev, &ai, NULL, &b.mem) != VK_SUCCESS ||
            vkBindBufferMemory(d->dev, b.buf, b.mem, 0) != VK_SUCCESS) {
                vk_buf_destroy(d, &b);
                return -ENOMEM;
        }
        b.cached = d->mem.memoryTypes[t].propertyFlags & VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
        if (d->mem.memoryTypes[t].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)
                if (vkMapMemory(d->dev, b.mem, 0, VK_WHOLE_SIZE, 0, &b.map) != VK_SUCCESS) {
                        vk_buf_destroy(d, &b);
                        return -ENOMEM;
                }
        bda.buffer = b.buf;
        b.addr = vkGetBufferDeviceAddress(d->dev, &bda);
        *ret = b;
        return 0;
}

/* Copies between a mapped staging buffer and b, chunk by chunk, on the device's queue. */
static int staged(struct vk_device *d, struct vk_buf *b, VkDeviceSize off, void *host, size_t n, bool to_dev) {
        VkCommandPoolCreateInfo pci = {
                .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                .flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT | VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                .queueFamilyIndex = d->queue_family,
        };
        VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
        VkCommandPool pool = VK_NULL_HANDLE;
        VkCommandBuffer cb = VK_NULL_HANDLE;
        VkFence fence = VK_NULL_HANDLE;
        struct vk_buf st = {};
        int r = -EIO;

        if (atomic_load(&d->lost))
                return -ENODEV;
        if (vk_buf_create(d, MIN((VkDeviceSize) n, STAGING_CHUNK), VK_MEM_HOST, &st) < 0)
                return -ENOMEM;
        if (vkCreateCommandPool(d->dev, &pci, NULL, &pool) != VK_SUCCESS ||
            vkCreateFence(d->dev, &fci, NULL, &fence) != VK_SUCCESS)
                goto out;
        {
                VkCommandBufferAllocateInfo ai = {
                        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                        .commandPool = pool,
                        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                        .commandBufferCount = 1,
                };
                if (vkAllocateCommandBuffers(d->dev, &ai, &cb) != VK_SUCCESS)
                        goto out;
        }
        for (size_t done = 0; done < n;) {
                size_t len = MIN(n - done, (size_t) STAGING_CHUNK);
                VkCommandBufferBeginInfo bi = {
                        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
                };
                VkBufferCopy cp = { .size = len };
                VkSubmitInfo si = { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                                    .pCommandBuffers = &cb };
                VkResult vr;

                if (to_dev) {
                        memcpy(st.map, (uint8_t *) host + done, len);
                        cp.dstOffset = off + done;
                } else
                        cp.srcOffset = off + done;
                vkBeginCommandBuffer(cb, &bi);
                if (to_dev)
                        vkCmdCopyBuffer(cb, st.buf, b->buf, 1, &cp);
                else
                        vkCmdCopyBuffer(cb, b->buf, st.buf, 1, &cp);
                vkEndCommandBuffer(cb);
                pthread_mutex_lock(&d->queue_lock);
                vr = vkQueueSubmit(d->queue, 1, &si, fence);
                pthread_mutex_unlock(&d->queue_lock);
                if (vr == VK_SUCCESS)
                        vr = vkWaitForFences(d->dev, 1, &fence, VK_TRUE, UINT64_MAX);
                if (vr != VK_SUCCESS) {
                        r = vk_device_error(d, vr);
                        goto out;
                }
                vkResetFences(d->dev, 1, &fence);
                if (!to_dev)
                        memcpy((uint8_t *) host + done, st.map, len);
                done += len;
        }
        r = 0;
out:
        if (fence)
                vkDestroyFence(d->dev, fence, NULL);
        if (pool)
                vkDestroyCommandPool(d->dev, pool, NULL);
        vk_buf_destroy(d, &st);
        return r;
}

int vk_buf_write(struct vk_device *d, struct vk_buf *b, VkDeviceSize off, const void *src, size_t n) {
        if (off > b->size || n > b->size - off)
                return -EINVAL;
        if (n == 0)
                return 0;
        if (b->map) {
                memcpy((uint8_t *) b->map + off, src, n);
                return 0;
        }
        return staged(d, b, off, (void *) src, n, true);
}

int vk_buf_read(struct vk_device *d, struct vk_buf *b, VkDeviceSize off, void *dst, size_t n) {
        if (off > b->size || n > b->size - off)
                return -EINVAL;
        if (n == 0)
                return 0;
        if (b->map) {
                memcpy(dst, (uint8_t *) b->map + off, n);
                return 0;
        }
        return staged(d, b, off, dst, n, false);
}

int vk_buf_fill0(struct vk_device *d, struct vk_buf *b) {
        _cleanup_free_ void *z = NULL;

        if (b->map) {
                memset(b->map, 0, b->size);
                return 0;
        }
        z = calloc(1, MIN(b->size, STAGING_CHUNK));
        if (!z)
                return -ENOMEM;
        for (VkDeviceSize off = 0; off < b->size; off += STAGING_CHUNK) {
                int r = vk_buf_write(d, b, off, z, MIN(b->size - off, STAGING_CHUNK));
                if (r < 0)
                        return r;
        }
        return 0;
}
