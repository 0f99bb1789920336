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
        if (b->map && b->mem) /* a group's member maps through its block (vk_buf_group_free) */
                vkUnmapMemory(d->dev, b->mem);
        if (b->buf)
                vkDestroyBuffer(d->dev, b->buf, NULL);
        if (b->mem)
                vkFreeMemory(d->dev, b->mem, NULL);
        *b = (struct vk_buf) {};
}

/* The VkBuffer of b (size bytes, padded), without memory; *req what memory it needs. */
static int buf_new(struct vk_device *d, VkDeviceSize size, struct vk_buf *b, VkMemoryRequirements *req) {
        VkBufferCreateInfo bci = {
                .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                .size = vk_buf_padded(size),
                .usage = VK_BUF_USAGE,
                .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
        };

        *b = (struct vk_buf) { .size = size };
        if (vkCreateBuffer(d->dev, &bci, NULL, &b->buf) != VK_SUCCESS)
                return -ENOMEM;
        vkGetBufferMemoryRequirements(d->dev, b->buf, req);
        return 0;
}

/* b bound at off of mem (of type t, mapped at map where host-visible), and its device address. */
static int buf_bind(struct vk_device *d, struct vk_buf *b, VkDeviceMemory mem, VkDeviceSize off, int t, void *map) {
        VkBufferDeviceAddressInfo bda = { .sType = VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO, .buffer = b->buf };

        if (vkBindBufferMemory(d->dev, b->buf, mem, off) != VK_SUCCESS)
                return -ENOMEM;
        b->cached = d->mem.memoryTypes[t].propertyFlags & VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
        b->map = map ? (uint8_t *) map + off : NULL;
        b->addr = vkGetBufferDeviceAddress(d->dev, &bda);
        return 0;
}

/* Memory of type t for buffers reached by device address, mapped (*map) where host-visible. */
static int mem_alloc(struct vk_device *d, VkDeviceSize size, int t, VkDeviceMemory *ret, void **map) {
        VkMemoryAllocateFlagsInfo fi = {
                .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
                .flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT,
        };
        VkMemoryAllocateInfo ai = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .pNext = &fi,
                                    .allocationSize = size, .memoryTypeIndex = (uint32_t) t };

        *map = NULL;
        if (vkAllocateMemory(d->dev, &ai, NULL, ret) != VK_SUCCESS)
                return -ENOMEM;
        if ((d->mem.memoryTypes[t].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
            vkMapMemory(d->dev, *ret, 0, VK_WHOLE_SIZE, 0, map) != VK_SUCCESS) {
                vkFreeMemory(d->dev, *ret, NULL);
                *ret = VK_NULL_HANDLE;
                return -ENOMEM;
        }
        return 0;
}

int vk_buf_create(struct vk_device *d, VkDeviceSize size, enum vk_mem kind, struct vk_buf *ret) {
        VkMemoryRequirements req;
        struct vk_buf b;
        void *map = NULL;
        int t = -1, r;

        r = buf_new(d, size, &b, &req);
        if (r >= 0) {
                t = pick_type(d, req.memoryTypeBits, kind);
                r = t < 0 ? -ENOMEM : mem_alloc(d, req.size, t, &b.mem, &map);
        }
        if (r >= 0)
                r = buf_bind(d, &b, b.mem, 0, t, map);
        if (r < 0) {
                if (b.mem && map) /* vk_buf_destroy unmaps where b.map is set */
                        b.map = map;
                vk_buf_destroy(d, &b);
                return r;
        }
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

/*
 * Why groups: a context is ~85 buffers (a K and a V cache a layer, then scratch), and each was its own
 * vkAllocateMemory. On the H100's driver, one allocation a buffer against the groups (run196.sh, n_batch
 * 512): Llama 3 8B's context 197 -> 185 ms to make, 32 -> 24 ms to free; Gemma 3 1B's 223 -> 206 and
 * 54 -> 43. Not the main cost of a context (that grows with n_batch), but a tenth of it.
 */
void vk_buf_group_init(struct vk_buf_group *g, struct vk_device *d, enum vk_mem kind) {
        *g = (struct vk_buf_group) { .d = d, .kind = kind, .block = VK_GROUP_BLOCK };
}

void vk_buf_group_add(struct vk_buf_group *g, VkDeviceSize size, struct vk_buf *ret) {
        *ret = (struct vk_buf) {};
        if (g->err)
                return;
        if (g->n == g->cap) {
                size_t cap = g->cap ? 2 * g->cap : 32;
                struct vk_buf_group_ent *e = cap > SIZE_MAX / sizeof *e ? NULL : realloc(g->ent, cap * sizeof *e);
                if (!e) {
                        g->err = -ENOMEM;
                        return;
                }
                g->ent = e;
                g->cap = cap;
        }
        g->ent[g->n++] = (struct vk_buf_group_ent) { ret, size };
}

void vk_buf_group_free(struct vk_buf_group *g) {
        for (size_t i = 0; i < g->n_mem; i++) {
                if (g->map && g->map[i])
                        vkUnmapMemory(g->d->dev, g->mem[i]);
                vkFreeMemory(g->d->dev, g->mem[i], NULL);
        }
        free(g->mem);
        free(g->map);
        free(g->ent);
        *g = (struct vk_buf_group) { .d = g->d, .kind = g->kind, .block = g->block };
}

/* Undoes a failed commit: every member destroyed and zeroed, the blocks freed. */
static int group_fail(struct vk_buf_group *g, int r) {
        for (size_t i = 0; i < g->n; i++)
                vk_buf_destroy(g->d, g->ent[i].b);
        vk_buf_group_free(g);
        return r;
}

static bool group_off(void) {
        static int off = -1;
        if (off < 0) {
                const char *e = getenv("UNICORN_VK_BUF_GROUP");
                off = e && streq(e, "0");
        }
        return off;
}

int vk_buf_group_commit(struct vk_buf_group *g) {
        struct vk_device *d = g->d;
        /* where each member goes in its block, and its end there; a member at 0 begins a block */
        _cleanup_free_ VkDeviceSize *off = NULL, *end = NULL;
        uint32_t bits = ~0u;
        VkDeviceSize used = 0;
        size_t n_mem = 0;
        int t;

        if (g->err)
                return group_fail(g, g->err);
        if (group_off() || g->n == 0) {
                for (size_t i = 0; i < g->n; i++) {
                        int r = vk_buf_create(d, g->ent[i].size, g->kind, g->ent[i].b);
                        if (r < 0)
                                return group_fail(g, r);
                }
                return 0;
        }
        off = new0(VkDeviceSize, g->n);
        end = new0(VkDeviceSize, g->n);
        if (!off || !end)
                return group_fail(g, -ENOMEM);
        /* The buffers first, then where each goes: in order, a new block where the next would pass
         * g->block; one larger than that is a block of its own. */
        for (size_t i = 0; i < g->n; i++) {
                VkMemoryRequirements req;

                if (buf_new(d, g->ent[i].size, g->ent[i].b, &req) < 0)
                        return group_fail(g, -ENOMEM);
                bits &= req.memoryTypeBits;
                VkDeviceSize at = req.alignment > 1 ? ALIGN_TO(used, req.alignment) : used;
                if (i == 0 || at > g->block || req.size > g->block - at) {
                        n_mem++;
                        at = 0;
                }
                off[i] = at;
                end[i] = used = at + req.size;
        }
        t = pick_type(d, bits, g->kind);
        g->mem = new0(VkDeviceMemory, n_mem);
        g->map = new0(void *, n_mem);
        if (t < 0 || !g->mem || !g->map)
                return group_fail(g, -ENOMEM);
        for (size_t k = 0, i = 0; k < n_mem; k++) {
                size_t last = i; /* the block's last member, whose end is its size */
                while (last + 1 < g->n && off[last + 1] > 0)
                        last++;
                if (mem_alloc(d, end[last], t, &g->mem[k], &g->map[k]) < 0)
                        return group_fail(g, -ENOMEM);
                g->n_mem = k + 1;
                for (; i <= last; i++)
                        if (buf_bind(d, g->ent[i].b, g->mem[k], off[i], t, g->map[k]) < 0)
                                return group_fail(g, -ENOMEM);
        }
        return 0;
}
