/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Engine-internal Vulkan layer: device (vk-device.c), buffers
 * (vk-buffer.c), pipelines and command recording (vk-pipeline.c), the
 * kernels' recording helpers (vk-ops.c) and the backend (vk-backend.c).
 * tests/ops/test-vk-ops.c drives the kernels through these directly.
 */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vulkan/vulkan.h>

#include "quant.h"
#include "vk-push.h"

struct vk_device {
        unsigned n_ref;
        VkInstance instance;
        VkPhysicalDevice phys;
        VkDevice dev;
        VkQueue queue;
        uint32_t queue_family;
        pthread_mutex_t queue_lock; /* vkQueueSubmit needs external sync */
        VkPhysicalDeviceProperties props;
        VkPhysicalDeviceMemoryProperties mem;
        bool uma;            /* integrated/CPU: device-local memory is also host-visible */
        bool fp16, int8_storage, int_dot, coopmat, subgroup_size_control;
        uint32_t subgroup_size;
        uint64_t heap_device, heap_host_visible_device; /* bytes */
        char desc[224];
};

/* The process-wide device (refcounted): UNICORN_VK_DEVICE picks one by index
 * or name substring; default discrete > integrated > virtual > CPU. */
int vk_device_acquire(struct vk_device **ret, char *err, size_t errsz);
void vk_device_release(struct vk_device *d);
/* Whether some usable device exists, without keeping it; reason on failure. */
bool vk_device_usable(char *reason, size_t reasonsz);

enum vk_mem {
        VK_MEM_DEVICE,  /* device-local (weights, KV cache, scratch) */
        VK_MEM_HOST,    /* host-visible, cached where possible (inputs, readback) */
};

struct vk_buf {
        VkBuffer buf;
        VkDeviceMemory mem;
        VkDeviceSize size;
        VkDeviceAddress addr;
        void *map; /* non-NULL when host-visible */
};

int vk_buf_create(struct vk_device *d, VkDeviceSize size, enum vk_mem kind, struct vk_buf *ret);
void vk_buf_destroy(struct vk_device *d, struct vk_buf *b);
/* Copies into a buffer: directly when mapped, else through a staging buffer. */
int vk_buf_write(struct vk_device *d, struct vk_buf *b, VkDeviceSize off, const void *src, size_t n);
int vk_buf_read(struct vk_device *d, struct vk_buf *b, VkDeviceSize off, void *dst, size_t n);
int vk_buf_fill0(struct vk_device *d, struct vk_buf *b);

/* Weight types the kernels handle (one pipeline variant each). */
enum vk_wtype {
        VK_W_F32, VK_W_F16, VK_W_BF16, VK_W_Q4_0, VK_W_Q4_1, VK_W_Q5_0, VK_W_Q5_1, VK_W_Q8_0,
        VK_W_Q4_K, VK_W_Q5_K, VK_W_Q6_K, VK_W_COUNT,
};
int vk_wtype(enum ggml_type t); /* -EOPNOTSUPP if unsupported */
/* The device layout of a weight: Q4_0 and Q8_0 are repacked at upload into
 * superblocks of 8 ggml blocks (8 f16 scales, then the 8 blocks' quants),
 * so that every block's quants are 16-byte aligned; other types keep ggml's
 * layout. vk_row_bytes: bytes of one device row of k elements (ggml_row_bytes
 * for types kept as they are); vk_repack: n rows from ggml's layout. */
bool vk_wtype_repacked(enum vk_wtype wt);
size_t vk_row_bytes(enum vk_wtype wt, uint32_t k, size_t ggml_row_bytes);
void vk_repack(enum vk_wtype wt, const void *src, size_t src_row_bytes, uint32_t k, uint32_t n, void *dst);
/* Whether the mat-vec of this type is the wide-load kernel (16-byte aligned rows). */
bool vk_matvec_wide(enum vk_wtype wt);

enum vk_pipe {
        VK_P_MATVEC,                     /* + wtype */
        VK_P_MATMUL = VK_P_MATVEC + VK_W_COUNT,
        VK_P_GET_ROWS = VK_P_MATMUL + VK_W_COUNT,
        VK_P_NORM = VK_P_GET_ROWS + VK_W_COUNT,
        VK_P_QKV,
        VK_P_ATTN,
        VK_P_ATTN_MERGE,
        VK_P_ACT,
        VK_P_MATVEC1,                    /* + wtype: one-token wide-load mat-vec (wide types only) */
        VK_P_MATVEC_GLU = VK_P_MATVEC1 + VK_W_COUNT, /* + wtype: gate/up/activation in one (wide types) */
        VK_P_COUNT = VK_P_MATVEC_GLU + VK_W_COUNT,
};

struct vk_pipelines {
        VkPipelineLayout layout;
        VkPipeline p[VK_P_COUNT];
        uint32_t matvec_rows; /* rows per matvec workgroup (specialization constant) */
        uint32_t matvec_wide_rows; /* the same for the wide-load kernels */
        uint32_t matvec1_rows, matvec_glu_rows; /* the same for the one-token and GLU variants */
        bool glu;                  /* GLU variants enabled (UNICORN_VK_GLU=0 turns them off) */
};

int vk_pipelines_create(struct vk_device *d, struct vk_pipelines *ret, char *err, size_t errsz);
void vk_pipelines_destroy(struct vk_device *d, struct vk_pipelines *p);

struct vk_cmd {
        struct vk_device *d;
        const struct vk_pipelines *pl;
        VkCommandPool pool;
        VkCommandBuffer cb;
        VkFence fence;
        VkPipeline bound;
        /* UNICORN_VK_PROFILE=1: a timestamp after every dispatch, per-kernel totals printed at exit. */
        VkQueryPool prof;
        uint32_t n_prof;
        uint8_t prof_pipe[1024];
};

int vk_cmd_init(struct vk_device *d, const struct vk_pipelines *pl, struct vk_cmd *ret);
void vk_cmd_free(struct vk_cmd *c);
int vk_cmd_begin(struct vk_cmd *c);
/* One submit, one fence wait. */
int vk_cmd_submit_wait(struct vk_cmd *c);
void vk_cmd_dispatch(struct vk_cmd *c, enum vk_pipe p, const void *pc, size_t pc_size, uint32_t gx, uint32_t gy,
                     uint32_t gz);
/* Compute writes before, compute/transfer reads after. */
void vk_cmd_barrier(struct vk_cmd *c);

/* ---- kernels (vk-ops.c): each records one dispatch ---- */

/* y[t*ldy + r] (+)= W[r] . x[t*ldx] (+ bias[r]) for r < n, t < nt; W: n rows of k of type wt. */
void vk_op_matmul(struct vk_cmd *c, enum vk_wtype wt, VkDeviceAddress w, uint32_t row_bytes, uint32_t k, uint32_t n,
                  VkDeviceAddress x, uint32_t ldx, uint32_t nt, VkDeviceAddress y, uint32_t ldy,
                  VkDeviceAddress bias, bool acc);
void vk_op_get_rows(struct vk_cmd *c, enum vk_wtype wt, VkDeviceAddress w, uint32_t row_bytes, uint32_t k,
                    VkDeviceAddress ids, uint32_t nt, VkDeviceAddress y, uint32_t ldy, float scale);
void vk_op_norm(struct vk_cmd *c, const struct pc_norm *pc);
void vk_op_qkv(struct vk_cmd *c, const struct pc_qkv *pc);
/* n_split > 1: split-K over positions (pc->chunk each) into the partials at part
 * ([nt][n_head][n_split][head_dim_v + 2] floats), then a merge; records its own barrier. */
#define VK_ATTN_MAX_SPLIT 64
void vk_op_attn(struct vk_cmd *c, const struct pc_attn *pc, uint32_t n_split, VkDeviceAddress part);
void vk_op_act(struct vk_cmd *c, VkDeviceAddress gate, VkDeviceAddress up, uint32_t n, uint32_t op);
/* One token: y[r] = act(gate[r] . x) * (up[r] . x) in one dispatch; false (nothing recorded) where
 * no GLU kernel fits (more tokens, a type without one, gate and up of different types). */
bool vk_op_matvec_glu(struct vk_cmd *c, enum vk_wtype wt, VkDeviceAddress gate, VkDeviceAddress up,
                      uint32_t row_bytes, uint32_t k, uint32_t n, VkDeviceAddress x, uint32_t nt, VkDeviceAddress y,
                      uint32_t op);
