/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Engine-internal Vulkan layer: device (vk-device.c), buffers
 * (vk-buffer.c), pipelines and command recording (vk-pipeline.c), the
 * kernels' recording helpers (vk-ops.c) and the backend (vk-backend.c).
 * tests/ops/test-vk-ops.c drives the kernels through these directly.
 */

#include <pthread.h>
#include <stdatomic.h>
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
        const char *coopmat_why; /* why coopmat is false */
        /* The kernels written for subgroups of 32 (struct vk_spirv's subgroup32: the KHR matrix ones)
         * are made with a required subgroup size of 32 (VK_EXT_subgroup_size_control): the device's
         * default differs (RADV on RDNA: 64). */
        bool sg32_required;
        /* Those kernels' subgroup size (32, or the device's one fixed size) and the M = N = K of their
         * f16 products (16, or 8 where the device has only those); both 0 without coopmat. */
        uint32_t cm_sg, cm_size;
        /* Mesa's CPU driver (lavapipe), whose subgroup barrier waits like a workgroup barrier
         * (shaders/attn_cm.comp's subgroup_sync) */
        bool llvmpipe;
        /* The Vulkan memory model with device scope (enabled where the device has it): acquire and
         * release atomics between workgroups (shaders/gridsync.comp) */
        bool mem_model_device;
        bool coopmat2;            /* NV workgroup-scope matrices (VK_NV_cooperative_matrix2) */
        /* ... with what attn_cm2.comp needs on top: row reductions, conversions between uses and
         * sizes for 128 invocations (those two features are enabled only then), whose M (attn_cm2's
         * query rows a workgroup) is a multiple of coopmat2_attn_mgran (16 or 32) */
        bool coopmat2_attn;
        uint32_t coopmat2_attn_mgran;
        char coopmat2_attn_why[256]; /* why not, where coopmat2 */
        const char *coopmat2_why; /* why coopmat2 is false */
        uint32_t sm_count;        /* multiprocessors (VK_NV_shader_sm_builtins), 0: not known */
        uint32_t cu_count;        /* AMD compute units (VK_AMD_shader_core_properties*), 0: not known */
        uint32_t subgroup_size;
        uint32_t subgroup_min;  /* the smallest size a shader's subgroups may have (size control), else subgroup_size */
        uint32_t subgroup_ops; /* VkSubgroupFeatureFlags of compute */
        uint64_t heap_device, heap_host_visible_device; /* bytes */
        char desc[224];
        /* Weight import from the embedder's fds (vk-import.c): VK_KHR_external_memory_fd and
         * VK_EXT_external_memory_dma_buf, each enabled only where the device has it. */
        bool ext_memory_fd, ext_dma_buf;
        bool pipe_stats; /* UNICORN_VK_PIPELINE_STATS=1: print the driver's statistics of each pipeline */
        uint8_t uuid[16];    /* deviceUUID, handed to the embedder's allocator */
        /* The driver said VK_ERROR_DEVICE_LOST (a GPU reset or hang recovery, or the GPU gone): no
         * work runs on it again (-ENODEV), and vk_device_acquire makes a new device for later users
         * while this one lives on for those that hold it. */
        atomic_bool lost;
};

/* The process-wide device (refcounted): UNICORN_VK_DEVICE picks one by index
 * or name substring; default discrete > integrated > virtual > CPU. A lost
 * device is not handed out again. */
int vk_device_acquire(struct vk_device **ret, char *err, size_t errsz);
void vk_device_release(struct vk_device *d);
/* -ENODEV, marking d lost, for VK_ERROR_DEVICE_LOST; -EIO for any other failure. */
int vk_device_error(struct vk_device *d, VkResult vr);
/* How kernels written for subgroups of 32 lanes can run where the default compute subgroup size is
 * dflt: 0 as they are (dflt 32); 1 with a required size of 32 (VK_EXT_subgroup_size_control with its
 * subgroupSizeControl and computeFullSubgroups features, 32 within [min, max], required sizes allowed
 * for compute, and workgroups of 1024 invocations in subgroups of 32 within max_subgroups); -ENOTSUP
 * not at all. */
int vk_subgroup32_mode(uint32_t dflt, bool control, bool full, uint32_t min, uint32_t max, bool compute,
                       uint32_t max_subgroups);
/* The M = N = K of the KHR matrix kernels' products on subgroups of sg lanes given the sizes the device
 * has (16x16x16, 8x8x8): 16 for 16-64 lanes, else 8 for 8-16 (every lane of a query row's lanes in
 * attn_cm.comp owns a multiple of 4 of its elements), else 0 (none). */
uint32_t vk_cm_matrix_size(uint32_t sg, bool have16, bool have8);
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
        bool cached; /* host-cached: the CPU reads it at memory speed (else maybe uncached, slow) */
};

/* Every buffer's usage: kernels reach buffers by device address; staging copies go both ways. */
#define VK_BUF_USAGE                                                                                         \
        (VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT | \
         VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT)
/* What a buffer of size bytes is created with: kernels may read one 32-bit word past an unaligned tail. */
static inline VkDeviceSize vk_buf_padded(VkDeviceSize size) {
        return (((size < 16 ? 16 : size) + 15) & ~(VkDeviceSize) 15) + 16;
}
int vk_buf_create(struct vk_device *d, VkDeviceSize size, enum vk_mem kind, struct vk_buf *ret);
void vk_buf_destroy(struct vk_device *d, struct vk_buf *b);
/* Copies into a buffer: directly when mapped, else through a staging buffer. */
int vk_buf_write(struct vk_device *d, struct vk_buf *b, VkDeviceSize off, const void *src, size_t n);
int vk_buf_read(struct vk_device *d, struct vk_buf *b, VkDeviceSize off, void *dst, size_t n);
int vk_buf_fill0(struct vk_device *d, struct vk_buf *b);

/*
 * Buffers that are made and freed together (a context's KV cache and scratch) in a few allocations of
 * at most VK_GROUP_BLOCK bytes, instead of one vkAllocateMemory each. vk_buf_group_add() records a
 * buffer to make; vk_buf_group_commit() makes them all (or none: -errno, every added vk_buf zeroed).
 * Members are destroyed by vk_buf_destroy() as any buffer (their memory is the group's), and the group's
 * memory by vk_buf_group_free() after them. UNICORN_VK_BUF_GROUP=0: each member its own allocation.
 */
#define VK_GROUP_BLOCK ((VkDeviceSize) 1 << 30) /* maxMemoryAllocationSize is at least this (Vulkan 1.1) */
struct vk_buf_group {
        struct vk_device *d;
        enum vk_mem kind;
        size_t n, cap;
        struct vk_buf_group_ent {
                struct vk_buf *b;
                VkDeviceSize size;
        } *ent;
        VkDeviceMemory *mem; /* the blocks */
        void **map;          /* each block's mapping, where host-visible */
        size_t n_mem;
        VkDeviceSize block;  /* the largest block: VK_GROUP_BLOCK (tests set less) */
        int err;             /* the first add's failure, returned by the commit */
};
void vk_buf_group_init(struct vk_buf_group *g, struct vk_device *d, enum vk_mem kind);
void vk_buf_group_add(struct vk_buf_group *g, VkDeviceSize size, struct vk_buf *ret);
int vk_buf_group_commit(struct vk_buf_group *g);
void vk_buf_group_free(struct vk_buf_group *g);

/* UNICORN_VK_HOST_TIMES=1: a context made or freed since t0 (vk_host_clock()), in the report at exit. */
double vk_host_clock(void);
void vk_host_times_context(bool freed, double t0);

/* Weight buffers in memory from the embedder's allocator (struct engine_weight_allocator, engine.h). */
struct engine_weight_allocator;
struct vk_import {
        struct engine_weight_allocator *alloc;
        VkExternalMemoryHandleTypeFlagBits type; /* DMA_BUF_BIT_EXT; OPAQUE_FD_BIT only for tests */
        const char *what;                        /* the fds' kind, for descriptions */
        bool dedicated_only;                     /* the driver imports this type as dedicated allocations only */
        PFN_vkGetMemoryFdPropertiesKHR fd_properties;
};
/* Whether d can import alloc's fds as weight buffers: 0 and *ret, else -EOPNOTSUPP and why.
 * UNICORN_VK_DISABLE_DMABUF=1 turns it off; UNICORN_VK_TEST_OPAQUE_FD=1 (tests only) takes the
 * fds as VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT, which lavapipe can import. */
int vk_import_init(struct vk_device *d, struct engine_weight_allocator *alloc, struct vk_import *ret, char *why,
                   size_t whysz);
/* A buffer like vk_buf_create(VK_MEM_DEVICE) in memory from one alloc() call (of *ret_bytes); mapped
 * when host-visible and coherent. On any failure -errno and why, nothing left behind: the fd is closed
 * (or was taken by Vulkan). */
int vk_buf_import(struct vk_device *d, const struct vk_import *imp, VkDeviceSize size, struct vk_buf *ret,
                  uint64_t *ret_bytes, char *why, size_t whysz);

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
/* Bytes of a Q6_K block on the device: ggml's 210, padded so that blocks are 16-byte aligned. */
#define VK_Q6_K_BLOCK 224
/* Whether the type has one-token mat-vecs on 8-bit activations (shaders/mv8.comp). */
bool vk_mv8_type(enum vk_wtype wt);
/* Types whose mv8.comp unit is 64 weights (Q4_K, Q6_K): one unit a row in flight, their own split rule. */
bool vk_mv8_unit64(enum vk_wtype wt);
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
        VK_P_ACT,
        VK_P_MATVEC1,                    /* + wtype: one-token wide-load mat-vec (wide types only) */
        VK_P_MATVEC_GLU = VK_P_MATVEC1 + VK_W_COUNT, /* + wtype: gate/up/activation in one (wide types) */
        VK_P_MATVEC_Q8 = VK_P_MATVEC_GLU + VK_W_COUNT, /* + wtype: one-token mat-vec on 8-bit activations */
        VK_P_MATVEC_Q8_GLU = VK_P_MATVEC_Q8 + VK_W_COUNT, /* + wtype: its GLU form */
        VK_P_QUANTX = VK_P_MATVEC_Q8_GLU + VK_W_COUNT,   /* float rows -> 8-bit activations */
        VK_P_MATMUL_CM,                  /* + wtype: tiled on cooperative matrices (f16), cm_tile[0] */
        VK_P_MATMUL_CM_NARROW = VK_P_MATMUL_CM + VK_W_COUNT, /* + wtype: the same, cm_tile[1] */
        VK_P_ATTN_PF = VK_P_MATMUL_CM_NARROW + VK_W_COUNT, /* attention of 8 query tokens of one sequence at once */
        VK_P_MATMUL_CM2,                 /* + wtype: on NV workgroup-scope cooperative matrices (f16) */
        VK_P_MATVEC_Q8_SPLIT = VK_P_MATMUL_CM2 + VK_W_COUNT, /* + wtype: MATVEC_Q8 for long rows */
        VK_P_CVT16 = VK_P_MATVEC_Q8_SPLIT + VK_W_COUNT, /* float rows -> f16 rows (matrix-core inputs) */
        VK_P_ATTN_CM,                    /* prefill attention on cooperative matrices, one head size */
        VK_P_MATMUL_CM2_WIDE,            /* + wtype: MATMUL_CM2 on tiles of cm2_wide_bn tokens */
        VK_P_PREFETCH = VK_P_MATMUL_CM2_WIDE + VK_W_COUNT, /* reads weights into the L2 cache */
        VK_P_MATMUL_CM2_SMALL,           /* + wtype: MATMUL_CM2 on tiles of cm2_small_bn tokens */
        VK_P_SPLITK_SUM = VK_P_MATMUL_CM2_SMALL + VK_W_COUNT, /* adds up a split product's partial sums */
        VK_P_MATVEC_Q8S,                 /* + wtype: MATVEC_Q8 staging (and norming) its float row itself */
        VK_P_MATVEC_Q8S_GLU = VK_P_MATVEC_Q8S + VK_W_COUNT, /* + wtype: its GLU form */
        VK_P_MATVEC_Q8S_GLUQ = VK_P_MATVEC_Q8S_GLU + VK_W_COUNT, /* + wtype: that, 32 rows a workgroup, 8-bit out too */
        VK_P_ATTN_CM2 = VK_P_MATVEC_Q8S_GLUQ + VK_W_COUNT, /* prefill attention on NV matrices, one head size */
        VK_P_GRIDSYNC,                   /* vk-kernel-bench's grid-wide barrier experiment (made on demand) */
        VK_P_ATTN_DEC,                   /* decode attention by clusters of lanes, one head size */
        VK_P_NORM_ROWS,                  /* VK_P_NORM with registers for norm_rows_n elements a row */
        VK_P_ATTN_CM2_WRAP,              /* VK_P_ATTN_CM2 for steps that wrap the ring */
        VK_P_MATVEC_Q8_SPLIT4,           /* + wtype: MATVEC_Q8_SPLIT with mv8_split4_g groups a row */
        /* + wtype: MATVEC_Q8 for steps of up to 2, 4 and 8 tokens (mv8n: each weight unit loaded once) */
        VK_P_MATVEC_Q8N2 = VK_P_MATVEC_Q8_SPLIT4 + VK_W_COUNT,
        VK_P_MATVEC_Q8N4 = VK_P_MATVEC_Q8N2 + VK_W_COUNT,
        VK_P_MATVEC_Q8N8 = VK_P_MATVEC_Q8N4 + VK_W_COUNT,
        VK_P_COUNT = VK_P_MATVEC_Q8N8 + VK_W_COUNT,
};

/* 8-bit activation rows (shaders/include/q8.glsl): k quants, then a (d, d * sum) pair per block of 32,
 * 16-byte aligned. k % 32 == 0. */
static inline uint32_t vk_q8_row_bytes(uint32_t k) {
        return (k + k / 4 + 15) & ~15u;
}

/* A cooperative-matrix prefill tile: shaders/matmul_cm.comp's specialization constants. bm x bn
 * (weight rows x tokens) a workgroup, wm x wn a subgroup of sg lanes, bk columns a step, nbuf tiles
 * in shared memory; nt invocations a workgroup, (bm / wm) x (bn / wn) x sg; ms x ms x ms products. */
struct vk_cm_tile {
        uint32_t bm, bn, wm, wn, bk, nbuf, nt, ms, sg;
};

/* The NV product's tile and split-K choice (vk_cm2_pick). ROUNDS: split the narrow tile where its grid
 * leaves multiprocessors idle, else the wide or the small tile where it makes fewer rounds of workgroups
 * or fills more multiprocessors (vk_cm2_wide, vk_cm2_small); LLAMA: llama.cpp's choice
 * (vk_cm2_pick_llama); AUTO (the default): LLAMA for rows of at least VK_CM2_WIDE_MIN_K columns, ROUNDS
 * for shorter ones, the faster of the two on every model measured (docs/vulkan.md, twenty-third
 * session). */
enum vk_cm2_rule { VK_CM2_RULE_AUTO, VK_CM2_RULE_ROUNDS, VK_CM2_RULE_LLAMA };

struct vk_pipelines {
        VkPipelineLayout layout;
        VkPipeline p[VK_P_COUNT];
        uint32_t matvec_rows; /* rows per matvec workgroup (specialization constant) */
        uint32_t matvec_wide_rows; /* the same for the wide-load kernels */
        uint32_t matvec1_rows, matvec_glu_rows; /* the same for the one-token and GLU variants */
        bool glu;                  /* GLU variants enabled (UNICORN_VK_GLU=0 turns them off) */
        /* One-token mat-vecs on 8-bit activations with integer dot products (device and compiler
         * have them; UNICORN_VK_DISABLE_INTDOT=1 or exact activations turn them off). */
        bool q8;
        uint32_t matvec_q8_rows; /* rows per workgroup of those and their GLU forms (shaders/mv8.comp) */
        /* Rows of at least mv8_split_k columns take the split form: mv8_split groups of 32 lanes share
         * a row (UNICORN_VK_MV8_SPLIT=G,K; tests set K = 0 to run it at every size). */
        uint32_t mv8_split, mv8_split_k; /* mv8_split divides matvec_q8_rows */
        /* Q4_K and Q6_K (units of 64 weights) split only products of at most this many rows: past one
         * wave of split groups (64 a multiprocessor) the split ran slower on the H200. */
        uint32_t mv8_split_n64;
        /* Rows of 32-weight units (Q4_0, Q8_0, ...) of at least mv8_split4_k columns, more than
         * mv8_split4_n of them (mv8_split groups a row past one wave: 64 groups a multiprocessor), take
         * mv8_split4_g groups a row (VK_P_MATVEC_Q8_SPLIT4; 0: not made). Gemma 3 27B's Q4_0 down
         * projection (5376 x 21504) on the H100: 27.5 us with 4 against 30.6-30.7 with 2; Qwen2.5 7B's
         * (3584 x 18944, one wave with 2) 18.4 against 18.1-18.4 (kernels: run173.sh; whole
         * model: run174.sh; docs/vulkan-sessions.md, "Thirtieth session"). Taken only where the
         * multiprocessor count is known (mv8_split4_n UINT32_MAX elsewhere); UNICORN_VK_MV8_SPLIT4=0
         * turns it off, =G,K sets G and K. */
        uint32_t mv8_split4_g, mv8_split4_k, mv8_split4_n;
        /* Steps of 2..VK_MV8N_MAX tokens (sequences decoding together) take the mv8n forms
         * (VK_P_MATVEC_Q8N*), mv8n_split groups of 32 lanes a row (0: not made; UNICORN_VK_MV8N=0
         * leaves those steps to the float mat-vec of matvec.comp, =G sets the groups), and rows per
         * workgroup: one row a set of groups whatever R UNICORN_VK_MV8 gives the one-token forms. */
        uint32_t mv8n_split, mv8n_rows;
        /* The staged forms (VK_P_MATVEC_Q8S*): rows per workgroup, and the longest row they take
         * (shared memory; 0: none built). UNICORN_VK_MV8S=0 turns them off, =WG sets their lanes. */
        uint32_t matvec_q8s_rows, mv8s_k;
        /* At most this many of their workgroups, each taking every mv8s_grid-th block of rows, so that
         * one staging serves several (0: a workgroup per block; UNICORN_VK_MV8S_GRID=N per
         * multiprocessor where their count is known, per core on CPU devices). */
        uint32_t mv8s_grid;
        /* The staged GLU that also writes its output as an 8-bit row (VK_P_MATVEC_Q8S_GLUQ: 32 rows, so
         * 32 x 32 / R lanes, a workgroup; not built with UNICORN_VK_GLU_Q8=0); its grid cap, mv8s_grid
         * scaled to the same lanes. */
        uint32_t mv8sq_grid;
        /* Prefill on cooperative matrices (device and compiler have them; UNICORN_VK_DISABLE_COOPMAT=1
         * turns them off) in two tiles: [0] for batches of more than 64 tokens, [1] for the others.
         * cm_force >= 0 runs that tile at every width (tests; UNICORN_VK_CM_TILE sets and forces
         * tile 0, for tuning). */
        bool coopmat;
        /* The KV cache's rows are f16 (shaders/include/kv.glsl): vk_pipelines_create's kv16 (the
         * model's default activations) unless UNICORN_VK_DISABLE_KV16=1; else f32. */
        bool kv16;
        struct vk_cm_tile cm_tile[2];
        int cm_force;
        /* Prefill on NV workgroup-scope matrices instead, where device and compiler have them, for the
         * types in cm2_types (bit per vk_wtype; those have a VK_P_MATMUL_CM2 pipeline).
         * UNICORN_VK_CM2_BN=64|128|256 tokens a tile (default 128), UNICORN_VK_CM2_BK=32|64 columns a
         * product (default 64). cm2_acc16: the kernel sums in f16 (matmul_cm2h_*, half the
         * accumulator registers; default; UNICORN_VK_CM2_ACC16=0: f32 sums). Where the multiprocessor count
         * (cm2_sms) is known, also a wide tile (VK_P_MATMUL_CM2_WIDE: cm2_wide_bn tokens, BK
         * cm2_wide_bk), taken where it makes fewer rounds of workgroups over the multiprocessors
         * (vk_op_matmul; UNICORN_VK_CM2_WIDE=0 turns it off), and a small one (VK_P_MATMUL_CM2_SMALL:
         * cm2_small_bn tokens, 0: none; UNICORN_VK_CM2_SMALL=0|32|64, default 64) where the narrow
         * grid leaves multiprocessors idle (vk_cm2_small). cm2_pipe_head (Q4_K, Q5_K: the next
         * superblock's headers loaded before the current products) and cm2_dec16 (Q4_0, Q5_0, Q8_0
         * decoded in f16 arithmetic), both off (slower on the H200); UNICORN_VK_CM2_PIPE=1 and
         * UNICORN_VK_CM2_DEC16=1 turn them on (matmul_cm2.comp). cm2_unroll: columns a pass of its loop
         * for types other than the K-quants (256; UNICORN_VK_CM2_UNROLL=512: Qwen2.5 7B +3-4%, Gemma 3 1B
         * and 4B 1-9% slower, run153.sh). cm2_word: the types whose f16-sum form decodes a 32-bit word an
         * element (matmul_cm2hw_*; UNICORN_VK_CM2_WORD, bits: 1 Q4_0, the default, 2 Q8_0). cm2_kword:
         * the K-quant types and tiles whose decode takes each quant from its 16-bit word
         * (UNICORN_VK_CM2_KWORD: 3 bits a type, Q4_K, Q5_K, Q6_K; in each 1 narrow, 2 wide, 4 small;
         * default 361: Q4_K narrow, Q5_K and Q6_K narrow and small; vk-pipeline.c). */
        bool coopmat2;
        bool cm2_acc16;
        bool cm2_pipe_head, cm2_dec16;
        uint32_t cm2_word, cm2_kword;
        uint32_t cm2_unroll;
        uint32_t cm2_types;
        uint32_t cm2_bn;
        uint32_t cm2_bk;
        uint32_t cm2_sms;
        uint32_t cm2_wide_bn;
        uint32_t cm2_wide_bk;
        uint32_t cm2_small_bn;
        /* Split-K for the NV kernel (vk_cm2_split) where its grid leaves multiprocessors idle: at most
         * cm2_split slices (0: never; UNICORN_VK_CM2_SPLIT=N, default 8), for rows of at least
         * cm2_split_k columns (2048). split_force > 1: every product of more than 256 columns in that
         * many slices (or fewer: whole 256-column slices), on whichever kernel (tests). */
        uint32_t cm2_split, cm2_split_k, split_force;
        /* How vk_cm2_pick chooses the NV kernel's tile and split (UNICORN_VK_CM2_RULE=rounds|llama). */
        enum vk_cm2_rule cm2_rule;
        /* The tokens past a padded batch's last whole tile as a product of their own on a smaller tile,
         * beside the first (vk_cm2_tail; UNICORN_VK_CM2_TAIL=0: off). */
        bool cm2_tail;
        /* VK_P_NORM_ROWS, where made (vk_pipeline_norm_rows): takes norms of several rows of at most
         * norm_rows_n elements. */
        uint32_t norm_rows_n;
        /* Prefill attention on cooperative matrices (VK_P_ATTN_CM, shaders/attn_cm.comp) for heads of
         * attn_cm_d (0: none; vk_pipeline_attn_cm makes it per model), attn_cm_bq query tokens a
         * workgroup. UNICORN_VK_ATTN_CM=0: none (attn_pf.comp). The same on NV workgroup-scope matrices
         * (VK_P_ATTN_CM2, shaders/attn_cm2.comp, attn_cm2_bq query tokens a workgroup), taken before it
         * where the step's positions do not wrap around the ring (vk_attn_cm2_ok); UNICORN_VK_ATTN_CM2=0:
         * not made, UNICORN_VK_ATTN_CM2_SHAPE=rows,positions. Its form for steps that wrap the ring
         * (VK_P_ATTN_CM2_WRAP) is made beside it; UNICORN_VK_ATTN_CM2_WRAP=0: not (those take attn_cm.comp). */
        uint32_t attn_cm_d, attn_cm_bq, attn_cm_bkv, attn_cm2_bq, attn_cm2_bkv; /* bkv: positions a block */
        /* UNICORN_VK_ATTN_PF_SPLITS when VK_P_ATTN_CM was made (for both prefill attention kernels):
         * VK_ATTN_PF_AUTO by the multiprocessor count (vk_attn_pf_split; unset or auto, where the count
         * is known; VK_ATTN_PF_AUTO4 for auto4), 0 no split (0 or 1, or the count unknown), N that many
         * (2..ATTN_PF_MAX_SPLIT). */
        uint32_t attn_pf_split;
        /* Decode attention on shaders/attn_dec.comp (VK_P_ATTN_DEC) for heads of attn_dec_d (= head_dim_v;
         * 0: none, attn.comp runs) in groups of attn_dec_g query heads of one kv head, by clusters of
         * attn_dec_c lanes; made per model with the prefill kernels (vk_attn_dec_pick).
         * UNICORN_VK_ATTN_DEC=0: none; =G caps the group (tuning). */
        uint32_t attn_dec_d, attn_dec_c, attn_dec_g;
};

/* The pipelines of weights of the types in wtypes (bit per vk_wtype; VK_WTYPES_ALL: every type) and the
 * type-independent ones, the prefill and decode attention's for heads of head_dim (= head_dim_v; 0:
 * none) and n_gqa query heads a kv head included (vk_pipeline_attn); the attention kernels for a KV cache of f16 rows where kv16 (see kv16 above). A dispatch of
 * a type left out fails the step with -EINVAL. */
#define VK_WTYPES_ALL ((1u << VK_W_COUNT) - 1)
int vk_pipelines_create(struct vk_device *d, struct vk_pipelines *ret, uint32_t wtypes, uint32_t head_dim,
                        uint32_t head_dim_v, uint32_t n_gqa, bool kv16, char *err, size_t errsz);
/* Whether tile t suits shaders/matmul_cm.comp on a device with these limits, products of ms x ms x ms
 * and subgroups of sg lanes (sets t->nt, t->ms and t->sg; the reason in *why when not), and the two
 * tiles a device gets (false: none fits). */
bool vk_cm_tile_ok(const VkPhysicalDeviceLimits *lim, uint32_t ms, uint32_t sg, struct vk_cm_tile *t,
                   const char **why);
bool vk_cm_tiles_pick(const VkPhysicalDeviceLimits *lim, uint32_t ms, uint32_t sg, struct vk_pipelines *p);
void vk_pipelines_destroy(struct vk_device *d, struct vk_pipelines *p);
/* shaders/attn_cm.comp's sizes: nt invocations (sg a subgroup of ms query rows), bkv cached positions a
 * block, ds subgroups sharing ms query rows (each its d / ds of a head's dimensions); products of
 * ms x ms x ms. */
struct vk_attn_cm_shape {
        uint32_t nt, bkv, ds, ms, sg;
};
/* Those for heads of d dimensions under these limits, with products of ms x ms x ms on subgroups of sg
 * lanes; false where d does not suit the kernel or nothing fits the shared memory. */
bool vk_attn_cm_pick(const VkPhysicalDeviceLimits *lim, uint32_t d, uint32_t ms, uint32_t sg,
                     struct vk_attn_cm_shape *ret);
/* (Re)makes p's attention kernels for one head size: VK_P_ATTN_CM for heads of head_dim (= head_dim_v)
 * where device and compiler have cooperative matrices, and VK_P_ATTN_DEC for them in groups of n_gqa
 * query heads a kv head where they suit it (vk_attn_dec_pick); 0 also where they do not (then
 * attn_pf.comp and attn.comp run), negative errno where creating one failed. vk_pipelines_create makes
 * the model's; this is for other head sizes (tests, vk-kernel-bench). */
int vk_pipeline_attn(struct vk_device *d, struct vk_pipelines *p, uint32_t head_dim, uint32_t head_dim_v,
                     uint32_t n_gqa, char *err, size_t errsz);
/* attn_dec.comp's sizes for heads of head_dim = head_dim_v, n_gqa query heads a kv head, on subgroups
 * of at least sg_min lanes and shared memory of shm bytes: lanes a cluster (*c, a power of 2 from 4 to
 * 32 dividing head_dim / 4), vec4 a lane (*nv, at most 4) and query heads a workgroup (*g, dividing
 * n_gqa, at most max_g and 8, with their outputs at most 8 an invocation); false where the head does
 * not suit it. */
bool vk_attn_dec_pick(uint32_t head_dim, uint32_t head_dim_v, uint32_t n_gqa, uint32_t max_g, uint32_t sg_min,
                      uint32_t shm, uint32_t *c, uint32_t *nv, uint32_t *g);
/* Makes p's VK_P_NORM_ROWS for rows of n elements: norm.comp with registers for just those (the decode
 * form holds 6,144 a row), for prefill steps (vk_op_norm); vk-backend.c makes it for each model's rows
 * unless UNICORN_VK_NORM_ROWS=0. 0 where n needs no fewer registers than the decode form. */
int vk_pipeline_norm_rows(struct vk_device *d, struct vk_pipelines *p, uint32_t n, char *err, size_t errsz);
/* Makes p's VK_P_GRIDSYNC (shaders/gridsync.comp) if not made yet; for tools/vk-kernel-bench. */
int vk_pipeline_gridsync(struct vk_device *d, struct vk_pipelines *p, char *err, size_t errsz);

/* Command buffers a step may be cut into (vk_cmd_flush). */
#define VK_CMD_MAX_CB 16

/* Dispatches a step's profile times (UNICORN_VK_PROFILE=1); later ones go untimed. */
#define VK_PROF_MAX 1024
/* One timed dispatch: its pipeline, grid and, for the kernels of struct pc_mm and pc_mv8, rows m, tokens
 * n and columns k as llama.cpp's GGML_VK_PERF_LOGGER names a product's (0 for other kernels). */
struct vk_prof_rec {
        uint32_t pipe;
        uint32_t m, n, k;
        uint32_t gx, gy, gz;
};
/* The kernel a pipeline slot holds ("matmul_cm2_wide_q4_k"), for profiles and messages; "?" past the
 * table. */
const char *vk_pipe_name(enum vk_pipe p, char *buf, size_t size);

struct vk_cmd {
        struct vk_device *d;
        const struct vk_pipelines *pl;
        VkCommandPool pool;
        VkCommandBuffer cb;   /* the one being recorded: cbs[n_cb] */
        VkCommandBuffer cbs[VK_CMD_MAX_CB];
        uint32_t n_cb;        /* submitted so far in this step */
        int err;              /* a flush's failure, returned by vk_cmd_submit_wait */
        VkFence fence;
        VkPipeline bound;
        /* Float32 products only (exact activations): no f16 cooperative-matrix kernels. */
        bool exact;
        /* The f16 activations given to this command's tiled products have readable rows up to their token
         * count rounded up to a multiple of 256 (vk-backend.c's x16; MM_XPAD), so that the NV kernel
         * runs a batch's last, partial token tile as a whole one. */
        bool x16_pad;
        bool full_barrier; /* UNICORN_VK_FULL_BARRIER=1: host and transfer stages in every barrier */
        /* UNICORN_VK_PROFILE=1: a timestamp after every dispatch; totals per kernel and per kernel and
         * shape printed at exit. */
        VkQueryPool prof;
        uint32_t n_prof;
        struct vk_prof_rec *prof_rec; /* VK_PROF_MAX, allocated with prof */
        double t_begin; /* UNICORN_VK_HOST_TIMES: when recording began */
        VkQueryPool steps; /* UNICORN_VK_HOST_TIMES: GPU timestamps at a step's start and end */
        double wait_avg, wait_last; /* seconds from a step's last submit to its end (fence_wait) */
        /* Split-K products' partial sums (vk_op_matmul; made by vk_cmd_init where the NV kernel splits,
         * by tests that force splits elsewhere; without it nothing is split). Taken in
         * order by the products between two barriers of the caller (the q, k and v products are issued
         * together) and free again after the next: each split product's own barrier, between its
         * slices and their sum, keeps what is taken. */
        struct vk_buf splitk;
        uint64_t splitk_used;
};

int vk_cmd_init(struct vk_device *d, const struct vk_pipelines *pl, struct vk_cmd *ret);
void vk_cmd_free(struct vk_cmd *c);
int vk_cmd_begin(struct vk_cmd *c);
/* Submits what is recorded so far and goes on recording into the next command buffer, so that the GPU
 * runs the start of a step while the host records the rest (recording a large model's step takes a
 * few hundred microseconds). Work after it is ordered after work before it by a barrier. A no-op
 * once the step's command buffers are used up. */
void vk_cmd_flush(struct vk_cmd *c);
/* Submits the rest and waits for the whole step: one fence wait. */
int vk_cmd_submit_wait(struct vk_cmd *c);
void vk_cmd_dispatch(struct vk_cmd *c, enum vk_pipe p, const void *pc, size_t pc_size, uint32_t gx, uint32_t gy,
                     uint32_t gz);
/* Compute writes before, compute/transfer reads after. */
void vk_cmd_barrier(struct vk_cmd *c);
/* After the kernels recorded so far (a barrier), bytes from buffer src to dst on the transfer path; the
 * host sees dst after vk_cmd_submit_wait. */
void vk_cmd_copy(struct vk_cmd *c, VkBuffer src, VkBuffer dst, VkDeviceSize bytes);

/* ---- kernels (vk-ops.c): each records one dispatch ---- */

/* y[t*ldy + r] (+)= W[r] . x[t*ldx] (+ bias[r]) for r < n, t < nt; W: n rows of k of type wt. More
 * than 8 tokens run on cooperative matrices (f16 operands) where the device has them, unless c->exact,
 * given x16: the same rows as f16, ldx halves apart (vk_op_cvt16); vk_op_matmul_reads_x16 tells
 * whether they would. Without x16 the float tiled kernel runs. */
void vk_op_matmul(struct vk_cmd *c, enum vk_wtype wt, VkDeviceAddress w, uint32_t row_bytes, uint32_t k, uint32_t n,
                  VkDeviceAddress x, VkDeviceAddress x16, uint32_t ldx, uint32_t nt, VkDeviceAddress y, uint32_t ldy,
                  VkDeviceAddress bias, bool acc);
bool vk_op_matmul_reads_x16(const struct vk_cmd *c, enum vk_wtype wt, uint32_t nt);
/* Whether the rounds rule (vk_cm2_pick) takes the wide tile for an NV workgroup-scope product of n rows
 * of k columns by nt tokens (where p has one for the type); never for k < VK_CM2_WIDE_MIN_K. */
#define VK_CM2_WIDE_MIN_K 2048u
bool vk_cm2_wide(const struct vk_pipelines *p, uint32_t n, uint32_t k, uint32_t nt);
/* Whether it takes the small tile instead (where p has one for the type): where its grid still fits
 * in one round over the multiprocessors and the narrow grid is smaller. */
bool vk_cm2_small(const struct vk_pipelines *p, uint32_t n, uint32_t nt);
/* Split-K slices of a product of `tiles` workgroups over k columns (1: none), *ks columns each. */
uint32_t vk_cm2_split(const struct vk_pipelines *p, uint32_t tiles, uint32_t k, uint32_t *ks);
/* The tile and split of vk_op_matmul's NV product by p->cm2_rule: the pipeline (VK_P_MATMUL_CM2, _WIDE or
 * _SMALL, + wt), its tokens a tile, split-K slices (1: none; none unless can_split) and their columns. */
enum vk_pipe vk_cm2_pick(const struct vk_pipelines *p, enum vk_wtype wt, uint32_t n, uint32_t k, uint32_t nt,
                         bool can_split, bool pad, uint32_t *bn, uint32_t *split, uint32_t *ks);
/* llama.cpp's tile and split for the same product (VK_CM2_RULE_LLAMA), as vk_cm2_pick returns them. */
enum vk_pipe vk_cm2_pick_llama(const struct vk_pipelines *p, enum vk_wtype wt, uint32_t n, uint32_t k, uint32_t nt,
                               bool can_split, bool pad, uint32_t *bn, uint32_t *split, uint32_t *ks);
/* The tile of the tokens past a padded batch's last whole tile of bn tokens, run as a product of their
 * own (cm2_tail): picked by vk_cm2_pick for their count, with its split; 0 where that saves fewer tokens
 * than a narrow tile (so after the wide tile only). */
enum vk_pipe vk_cm2_tail(const struct vk_cmd *c, enum vk_wtype wt, uint32_t n, uint32_t k, uint32_t nt, uint32_t bn,
                         uint32_t *tbn, uint32_t *split, uint32_t *ks);
/* Its wide tile's BK for weights of type t. */
uint32_t vk_cm2_wide_bk(const struct vk_pipelines *p, enum vk_wtype t);
/* nt rows of k floats (ldx apart) to f16 rows at y16 (ldy halves apart); k, ldx, ldy multiples of 4. */
void vk_op_cvt16(struct vk_cmd *c, VkDeviceAddress x, uint32_t ldx, uint32_t k, uint32_t nt, VkDeviceAddress y16,
                 uint32_t ldy);
void vk_op_get_rows(struct vk_cmd *c, enum vk_wtype wt, VkDeviceAddress w, uint32_t row_bytes, uint32_t k,
                    VkDeviceAddress ids, uint32_t nt, VkDeviceAddress y, uint32_t ldy, float scale);
void vk_op_norm(struct vk_cmd *c, const struct pc_norm *pc);
void vk_op_qkv(struct vk_cmd *c, const struct pc_qkv *pc);
/* n_split > 1: split-K over positions (pc->chunk each) into the partials at part
 * ([nt][n_head][n_split][head_dim_v + 2] floats), then a merge; records its own barrier. */
#define VK_ATTN_MAX_SPLIT ATTN_MAX_SPLIT /* vk-push.h: attn.comp sizes its merge by it */
void vk_op_attn(struct vk_cmd *c, const struct pc_attn *pc, uint32_t n_split, VkDeviceAddress part);
/* Split-K of a decode span of len positions: positions per workgroup (*chunk) and the split count,
 * 1 (no split) below min_len. At most VK_ATTN_MAX_SPLIT splits, or UNICORN_VK_ATTN_SPLITS (for tuning). */
uint32_t vk_attn_split(uint32_t len, uint32_t min_len, uint32_t *chunk);
/* Prefill attention (pc->chunk, pc->q8 and pc->part unused): every token of the step must be of one
 * sequence, the first at position pos0.
 * dst16 != 0: also its output rows as f16 there, where the kernel it runs can (returns whether it
 * did; o_dim halves a row, as vk_op_cvt16 would convert them).
 * part != 0: split-K scratch of vk_attn_pf_part_bytes(part_nt, ...), part_nt >= pc->nt, zeroed
 * before its first use (the kernel leaves its counters so), which attn_cm.comp and attn_cm2.comp
 * split positions over where their grid would leave multiprocessors idle (vk_attn_pf_split). */
bool vk_op_attn_prefill(struct vk_cmd *c, const struct pc_attn *pc, VkDeviceAddress dst16, int32_t pos0,
                        VkDeviceAddress part, uint32_t part_nt);
/* The bytes of prefill split-K scratch for steps of up to nt tokens: counters (vk_attn_pf_cnt_bytes),
 * then partials. */
size_t vk_attn_pf_cnt_bytes(uint32_t nt, uint32_t n_head);
size_t vk_attn_pf_part_bytes(uint32_t nt, uint32_t n_head, uint32_t head_dim_v);
/* The prefill attention's split over positions for a step of nt tokens at pos0.. (on the kernel
 * vk_op_attn_prefill runs for it, attn_cm2.comp or attn_cm.comp): the split count (1: none) and
 * positions a split (*chunk), by attn_pf_split (UNICORN_VK_ATTN_PF_SPLITS, read when the kernel is
 * made): by default by the multiprocessor count, =N takes N where the span allows, =1 none. */
#define VK_ATTN_PF_AUTO UINT32_MAX
/* The rule before run165.sh on every head size (UNICORN_VK_ATTN_PF_SPLITS=auto4). */
#define VK_ATTN_PF_AUTO4 (UINT32_MAX - 1)
uint32_t vk_attn_pf_split(const struct vk_cmd *c, const struct pc_attn *pc, int32_t pos0, uint32_t *chunk);
/* Whether vk_op_attn_prefill runs shaders/attn_cm2.comp (either form) for a step whose first token is at
 * pos0 (< 0: unknown, no). */
bool vk_attn_cm2_ok(const struct vk_cmd *c, const struct pc_attn *pc, int32_t pos0);
/* Whether vk_op_attn writes pc->q8 too (else the caller converts the output with vk_op_quantx). */
bool vk_attn_q8_ok(const struct vk_cmd *c, const struct pc_attn *pc);
/* gate = act(gate) * up over n elements (n % 4 == 0). */
void vk_op_act(struct vk_cmd *c, VkDeviceAddress gate, VkDeviceAddress up, uint32_t n, uint32_t op);
/* The same over nt rows of k elements, ld apart in gate and up, into dst's rows of k (contiguous), and
 * where dst16 != 0 into its rows of k halves too (as vk_op_cvt16 would convert them). k and ld % 4 == 0. */
void vk_op_act_rows(struct vk_cmd *c, VkDeviceAddress gate, VkDeviceAddress up, uint32_t ld, uint32_t k, uint32_t nt,
                    VkDeviceAddress dst, VkDeviceAddress dst16, uint32_t op);
/* One token: y[r] = act(gate[r] . x) * (up[r] . x) in one dispatch; false (nothing recorded) where
 * no GLU kernel fits (more tokens, a type without one, gate and up of different types). */
bool vk_op_matvec_glu(struct vk_cmd *c, enum vk_wtype wt, VkDeviceAddress gate, VkDeviceAddress up,
                      uint32_t row_bytes, uint32_t k, uint32_t n, VkDeviceAddress x, uint32_t nt, VkDeviceAddress y,
                      uint32_t op);
/* The same two on one token's 8-bit activations xq (vk_q8_row_bytes(k) per row); false (nothing
 * recorded) where the type or device has no such kernel. */
bool vk_op_matvec_q8(struct vk_cmd *c, enum vk_wtype wt, VkDeviceAddress w, uint32_t row_bytes, uint32_t k,
                     uint32_t n, VkDeviceAddress xq, VkDeviceAddress y, bool acc);
/* The same for nt (2..VK_MV8N_MAX) tokens' 8-bit rows at xq (vk_q8_row_bytes(k) apart), token t's
 * outputs at y + t * ldy floats; false (nothing recorded) where the type or device has no such kernel. */
#define VK_MV8N_MAX 8u
bool vk_op_matvec_q8n(struct vk_cmd *c, enum vk_wtype wt, VkDeviceAddress w, uint32_t row_bytes, uint32_t k,
                      uint32_t n, VkDeviceAddress xq, uint32_t nt, VkDeviceAddress y, uint32_t ldy, bool acc);
bool vk_op_matvec_glu_q8(struct vk_cmd *c, enum vk_wtype wt, VkDeviceAddress gate, VkDeviceAddress up,
                         uint32_t row_bytes, uint32_t k, uint32_t n, VkDeviceAddress xq, VkDeviceAddress y,
                         uint32_t op);
/* The staged forms of those two (shaders/mv8.comp, XS): each workgroup quantizes the float row x->x
 * itself, RMS-normed first where x->norm (times x->g where not 0, eps x->eps), so that a decode step
 * needs no norm dispatch and barrier before them. vk_mv8s_ok: whether they take this type and k. */
struct vk_xrow {
        VkDeviceAddress x, g;
        float eps;
        bool norm;
        /* Where t != 0 (Gemma's post-norms): the row is x + rmsnorm(t) * wt, and the first workgroup
         * writes it to xo where that is not 0 (another buffer than x: the others still read x). */
        VkDeviceAddress t, wt, xo;
};
bool vk_mv8s_ok(const struct vk_pipelines *pl, enum vk_wtype wt, uint32_t k, bool glu);
bool vk_op_matvec_q8s(struct vk_cmd *c, enum vk_wtype wt, VkDeviceAddress w, uint32_t row_bytes, uint32_t k,
                      uint32_t n, const struct vk_xrow *x, VkDeviceAddress y, bool acc);
bool vk_op_matvec_glu_q8s(struct vk_cmd *c, enum vk_wtype wt, VkDeviceAddress gate, VkDeviceAddress up,
                          uint32_t row_bytes, uint32_t k, uint32_t n, const struct vk_xrow *x, VkDeviceAddress y,
                          uint32_t op);
/* The same, also writing y as an 8-bit row at yq (vk_q8_row_bytes(n)) for the next mat-vec, so that no
 * quantx dispatch and barrier come between: false (nothing recorded) where that form is not built or
 * n % 32 != 0. */
bool vk_op_matvec_glu_q8s_q(struct vk_cmd *c, enum vk_wtype wt, VkDeviceAddress gate, VkDeviceAddress up,
                            uint32_t row_bytes, uint32_t k, uint32_t n, const struct vk_xrow *x, VkDeviceAddress y,
                            VkDeviceAddress yq, uint32_t op);
/* Reads the first `bytes` of the buffer at a (16-byte aligned) so that a later kernel finds them in the
 * L2 cache; writes nothing. Dispatched beside a kernel that does not use the memory bus, before the
 * barrier the reader waits on (shaders/prefetch.comp). */
void vk_op_prefetch(struct vk_cmd *c, VkDeviceAddress a, uint64_t bytes);
/* nt rows of k floats (ldx apart) to 8-bit activation rows at q (vk_q8_row_bytes(k) apart). */
void vk_op_quantx(struct vk_cmd *c, VkDeviceAddress x, uint32_t ldx, uint32_t k, uint32_t nt, VkDeviceAddress q);
