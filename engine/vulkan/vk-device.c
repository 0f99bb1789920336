/* SPDX-License-Identifier: MIT */
/*
 * The Vulkan device: one per process, shared (refcounted) by every model on
 * the Vulkan backend. Picks a physical device (UNICORN_VK_DEVICE = index or
 * name substring; default discrete > integrated > virtual > CPU), a compute
 * queue, and detects the features the kernels can use. Buffer device
 * addresses (Vulkan 1.2) are required: every kernel takes its buffers as
 * 64-bit pointers in push constants.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "errorf.h"
#include "macros.h"
#include "vk.h"

/* VK_KHR_cooperative_matrix, for headers older than 1.3.255 (Debian 12 has 1.3.239). */
#ifndef VK_KHR_cooperative_matrix
#define VK_KHR_cooperative_matrix 1
#define VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME "VK_KHR_cooperative_matrix"
#define VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR ((VkStructureType) 1000506000)
#define VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR ((VkStructureType) 1000506001)
#define VK_COMPONENT_TYPE_FLOAT16_KHR 0
#define VK_COMPONENT_TYPE_FLOAT32_KHR 1
#define VK_SCOPE_SUBGROUP_KHR 3
typedef struct VkPhysicalDeviceCooperativeMatrixFeaturesKHR {
        VkStructureType sType;
        void *pNext;
        VkBool32 cooperativeMatrix;
        VkBool32 cooperativeMatrixRobustBufferAccess;
} VkPhysicalDeviceCooperativeMatrixFeaturesKHR;
typedef struct VkCooperativeMatrixPropertiesKHR {
        VkStructureType sType;
        void *pNext;
        uint32_t MSize, NSize, KSize;
        uint32_t AType, BType, CType, ResultType; /* VkComponentTypeKHR */
        VkBool32 saturatingAccumulation;
        uint32_t scope; /* VkScopeKHR */
} VkCooperativeMatrixPropertiesKHR;
typedef VkResult(VKAPI_PTR *PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR)(
        VkPhysicalDevice, uint32_t *, VkCooperativeMatrixPropertiesKHR *);
#endif

/* VK_NV_cooperative_matrix2, for headers older than 1.4.304. */
#ifndef VK_NV_cooperative_matrix2
#define VK_NV_cooperative_matrix2 1
#define VK_NV_COOPERATIVE_MATRIX_2_EXTENSION_NAME "VK_NV_cooperative_matrix2"
#define VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_2_FEATURES_NV ((VkStructureType) 1000593000)
#define VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_FLEXIBLE_DIMENSIONS_PROPERTIES_NV ((VkStructureType) 1000593001)
#define VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_2_PROPERTIES_NV ((VkStructureType) 1000593002)
#define VK_SCOPE_WORKGROUP_KHR 2
typedef struct VkPhysicalDeviceCooperativeMatrix2FeaturesNV {
        VkStructureType sType;
        void *pNext;
        VkBool32 cooperativeMatrixWorkgroupScope;
        VkBool32 cooperativeMatrixFlexibleDimensions;
        VkBool32 cooperativeMatrixReductions;
        VkBool32 cooperativeMatrixConversions;
        VkBool32 cooperativeMatrixPerElementOperations;
        VkBool32 cooperativeMatrixTensorAddressing;
        VkBool32 cooperativeMatrixBlockLoads;
} VkPhysicalDeviceCooperativeMatrix2FeaturesNV;
typedef struct VkPhysicalDeviceCooperativeMatrix2PropertiesNV {
        VkStructureType sType;
        void *pNext;
        uint32_t cooperativeMatrixWorkgroupScopeMaxWorkgroupSize;
        uint32_t cooperativeMatrixFlexibleDimensionsMaxDimension;
        uint32_t cooperativeMatrixWorkgroupScopeReservedSharedMemory;
} VkPhysicalDeviceCooperativeMatrix2PropertiesNV;
typedef struct VkCooperativeMatrixFlexibleDimensionsPropertiesNV {
        VkStructureType sType;
        void *pNext;
        uint32_t MGranularity, NGranularity, KGranularity;
        uint32_t AType, BType, CType, ResultType; /* VkComponentTypeKHR */
        VkBool32 saturatingAccumulation;
        uint32_t scope; /* VkScopeKHR */
        uint32_t workgroupInvocations;
} VkCooperativeMatrixFlexibleDimensionsPropertiesNV;
typedef VkResult(VKAPI_PTR *PFN_vkGetPhysicalDeviceCooperativeMatrixFlexibleDimensionsPropertiesNV)(
        VkPhysicalDevice, uint32_t *, VkCooperativeMatrixFlexibleDimensionsPropertiesNV *);
#endif

static pthread_mutex_t device_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vk_device *device_shared;


static int type_rank(VkPhysicalDeviceType t) {
        switch (t) {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
        case VK_PHYSICAL_DEVICE_TYPE_CPU: return 1;
        default: return 0;
        }
}

static bool has_ext(const VkExtensionProperties *e, uint32_t n, const char *name) {
        for (uint32_t i = 0; i < n; i++)
                if (streq(e[i].extensionName, name))
                        return true;
        return false;
}

/* Fills the property struct chain at next (one whose extension the device has). */
static void props2(VkPhysicalDevice phys, void *next) {
        VkPhysicalDeviceProperties2 pp = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = next };

        vkGetPhysicalDeviceProperties2(phys, &pp);
}

static bool env_disabled(const char *feature) {
        char name[64];
        const char *v;

        snprintf(name, sizeof name, "UNICORN_VK_DISABLE_%s", feature);
        v = getenv(name);
        return v && *v && !streq(v, "0");
}

int vk_subgroup32_mode(uint32_t dflt, bool control, bool full, uint32_t min, uint32_t max, bool compute,
                       uint32_t max_subgroups) {
        if (dflt == 32)
                return 0;
        return control && full && compute && min <= 32 && max >= 32 && max_subgroups >= 1024 / 32 ? 1 : -ENOTSUP;
}

uint32_t vk_cm_matrix_size(uint32_t sg, bool have16, bool have8) {
        if (have16 && sg >= 16 && sg <= 64)
                return 16;
        if (have8 && sg >= 8 && sg <= 16)
                return 8;
        return 0;
}

/*
 * Whether the cooperative-matrix prefill kernels (shaders/matmul_cm.comp, attn_cm.comp) can run: the
 * extension and its feature, the Vulkan memory model their SPIR-V declares, f16 arithmetic, a known
 * subgroup size sg (32, by default or required; else the device's one fixed size; 0: neither) and
 * square f16 x f16 -> f32 subgroup products that suit it (vk_cm_matrix_size), whose size goes to
 * *ret_size. Otherwise prefill uses the float tiled kernel; why is in *why.
 */
static bool coopmat_usable(VkInstance inst, VkPhysicalDevice p, const VkExtensionProperties *e, uint32_t n,
                           bool feature, bool memory_model, bool fp16, uint32_t sg, uint32_t *ret_size,
                           const char **why) {
        PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR get;
        VkCooperativeMatrixPropertiesKHR props[64];
        uint32_t np = ELEMENTSOF(props);
        bool have[2] = { false, false }; /* 16x16x16, 8x8x8 */

        if (!has_ext(e, n, VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME))
                return *why = "no VK_KHR_cooperative_matrix", false;
        if (env_disabled("COOPMAT"))
                return *why = "UNICORN_VK_DISABLE_COOPMAT", false;
        if (!feature || !memory_model || !fp16)
                return *why = "cooperativeMatrix, vulkanMemoryModel or shaderFloat16 missing", false;
        if (sg == 0)
                return *why = "subgroup size is not 32, cannot be required to be (VK_EXT_subgroup_size_control) "
                              "and is not fixed",
                       false;
        get = (PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR) vkGetInstanceProcAddr(
                inst, "vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR");
        if (!get)
                return *why = "no vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR", false;
        for (uint32_t i = 0; i < np; i++)
                props[i] = (VkCooperativeMatrixPropertiesKHR) { .sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR };
        if (get(p, &np, props) < 0) /* VK_INCOMPLETE (more than 64) is fine: the list is partial */
                return *why = "cannot list cooperative matrix types", false;
        for (uint32_t i = 0; i < np; i++)
                if ((props[i].MSize == 16 || props[i].MSize == 8) && props[i].NSize == props[i].MSize &&
                    props[i].KSize == props[i].MSize && props[i].AType == VK_COMPONENT_TYPE_FLOAT16_KHR &&
                    props[i].BType == VK_COMPONENT_TYPE_FLOAT16_KHR &&
                    props[i].CType == VK_COMPONENT_TYPE_FLOAT32_KHR &&
                    props[i].ResultType == VK_COMPONENT_TYPE_FLOAT32_KHR && props[i].scope == VK_SCOPE_SUBGROUP_KHR)
                        have[props[i].MSize == 8] = true;
        *ret_size = vk_cm_matrix_size(sg, have[0], have[1]);
        if (*ret_size == 0)
                return *why = "no 16x16x16 or 8x8x8 f16/f32 subgroup matrix type for this subgroup size", false;
        return true;
}

/*
 * Whether the workgroup-scope prefill kernel (shaders/matmul_cm2.comp; UNICORN_VK_COOPMAT2=0 turns it
 * off) can run: on top of coopmat, Vulkan 1.3 (its SPIR-V is 1.6), 16-bit storage and
 * integers, the NV extension with the features it uses (workgroup scope, flexible sizes, tensor
 * addressing with block decode, per-element operations), 256-invocation workgroups, and f16 x f16 -> f32
 * workgroup products in granularities that divide its 128 x {64,128,256} x 64 tiles.
 */
static bool coopmat2_usable(const struct vk_device *d, const VkExtensionProperties *e, uint32_t n,
                            const VkPhysicalDeviceCooperativeMatrix2FeaturesNV *f, uint32_t max_wg, bool int16,
                            uint32_t *ret_mgran128, char *gran128, size_t gran128_sz, const char **why) {
        PFN_vkGetPhysicalDeviceCooperativeMatrixFlexibleDimensionsPropertiesNV get;
        VkCooperativeMatrixFlexibleDimensionsPropertiesNV props[64];
        uint32_t np = ELEMENTSOF(props);
        const char *on = getenv("UNICORN_VK_COOPMAT2");

        if (!d->coopmat)
                return *why = "no KHR cooperative matrices", false;
        if (!has_ext(e, n, VK_NV_COOPERATIVE_MATRIX_2_EXTENSION_NAME))
                return *why = "no VK_NV_cooperative_matrix2", false;
        if (on && streq(on, "0"))
                return *why = "switched off (UNICORN_VK_COOPMAT2=0)", false;
        if (d->props.apiVersion < VK_API_VERSION_1_3)
                return *why = "device below Vulkan 1.3 (the kernel is SPIR-V 1.6)", false;
        if (!int16)
                return *why = "16-bit storage or shaderInt16 missing", false;
        if (!f->cooperativeMatrixWorkgroupScope || !f->cooperativeMatrixFlexibleDimensions ||
            !f->cooperativeMatrixPerElementOperations || !f->cooperativeMatrixTensorAddressing ||
            !f->cooperativeMatrixBlockLoads)
                return *why = "a cooperative matrix 2 feature is missing", false;
        if (max_wg < 256)
                return *why = "workgroup-scope matrices limited below 256 invocations", false;
        get = (PFN_vkGetPhysicalDeviceCooperativeMatrixFlexibleDimensionsPropertiesNV) vkGetInstanceProcAddr(
                d->instance, "vkGetPhysicalDeviceCooperativeMatrixFlexibleDimensionsPropertiesNV");
        if (!get)
                return *why = "no vkGetPhysicalDeviceCooperativeMatrixFlexibleDimensionsPropertiesNV", false;
        for (uint32_t i = 0; i < np; i++)
                props[i] = (VkCooperativeMatrixFlexibleDimensionsPropertiesNV) {
                        .sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_FLEXIBLE_DIMENSIONS_PROPERTIES_NV };
        if (get(d->phys, &np, props) < 0)
                return *why = "cannot list flexible matrix sizes", false;
        /* Sizes for 128 invocations too: attn_cm2.comp's products are BR x D x BC, BR x BC x BC and
         * BR x BC x D, with BR (its M) 32 or 64 by default and BC, D multiples of 16. The H100's
         * driver (580.159.04) lists 32x16x16 for 128 invocations, so M's granularity is kept
         * (*ret_mgran128, 0: none) for the blocks it allows; 16x16x16 used to be required. */
        bool ok = false;
        *ret_mgran128 = 0;
        snprintf(gran128, gran128_sz, "none listed");
        for (uint32_t i = 0, w = 0; i < np; i++) {
                if (props[i].scope != VK_SCOPE_WORKGROUP_KHR || props[i].AType != VK_COMPONENT_TYPE_FLOAT16_KHR ||
                    props[i].BType != VK_COMPONENT_TYPE_FLOAT16_KHR || props[i].CType != VK_COMPONENT_TYPE_FLOAT32_KHR ||
                    props[i].ResultType != VK_COMPONENT_TYPE_FLOAT32_KHR || !props[i].MGranularity ||
                    !props[i].NGranularity || !props[i].KGranularity)
                        continue;
                if (props[i].workgroupInvocations == 256 && 128 % props[i].MGranularity == 0 &&
                    64 % props[i].NGranularity == 0 && 64 % props[i].KGranularity == 0)
                        ok = true;
                /* What the driver lists for 128 invocations, for the message where none fits. */
                if (props[i].workgroupInvocations == 128)
                        w += (uint32_t) snprintf(gran128 + MIN(w, gran128_sz - 1), gran128_sz - MIN(w, gran128_sz - 1),
                                                 "%s%ux%ux%u", w ? ", " : "granularity ", props[i].MGranularity,
                                                 props[i].NGranularity, props[i].KGranularity);
                if (props[i].workgroupInvocations == 128 && 32 % props[i].MGranularity == 0 &&
                    16 % props[i].NGranularity == 0 && 16 % props[i].KGranularity == 0 &&
                    (!*ret_mgran128 || props[i].MGranularity < *ret_mgran128))
                        *ret_mgran128 = props[i].MGranularity;
        }
        if (!ok)
                return *why = "no f16/f32 workgroup matrix sizes for 256 invocations", false;
        return true;
}

/* Whether a physical device can run the kernels at all. */
static bool phys_usable(VkPhysicalDevice p, uint32_t *ret_family) {
        VkPhysicalDeviceProperties props;
        VkPhysicalDeviceVulkan12Features f12 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES };
        VkPhysicalDeviceFeatures2 f2 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f12 };
        VkQueueFamilyProperties qf[16];
        uint32_t nq = ELEMENTSOF(qf);

        vkGetPhysicalDeviceProperties(p, &props);
        if (props.apiVersion < VK_API_VERSION_1_2)
                return false;
        vkGetPhysicalDeviceFeatures2(p, &f2);
        if (!f12.bufferDeviceAddress || !f2.features.shaderInt64)
                return false;
        vkGetPhysicalDeviceQueueFamilyProperties(p, &nq, qf);
        /* Prefer a compute-only family (async compute on discrete GPUs), else any with compute. */
        for (int pass = 0; pass < 2; pass++)
                for (uint32_t i = 0; i < nq; i++) {
                        VkQueueFlags fl = qf[i].queueFlags;
                        if (!(fl & VK_QUEUE_COMPUTE_BIT))
                                continue;
                        if (pass == 0 && (fl & VK_QUEUE_GRAPHICS_BIT))
                                continue;
                        *ret_family = i;
                        return true;
                }
        return false;
}

static int create_instance(VkInstance *ret, char *err, size_t errsz) {
        VkApplicationInfo app = {
                .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                .pApplicationName = "unicorn",
                .pEngineName = "unicorn",
                /* 1.2 is required (pick_phys); 1.3 is used where the device has it: the coopmat2 kernel
                 * is SPIR-V 1.6. */
                .apiVersion = VK_API_VERSION_1_3,
        };
        VkInstanceCreateInfo ci = { .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app };
        VkResult vr = vkCreateInstance(&ci, NULL, ret);

        if (vr != VK_SUCCESS) {
                set_error(err, errsz, "cannot create a Vulkan instance (VkResult %d)", vr);
                return -ENODEV;
        }
        return 0;
}

/* The process's one instance, made on first use and kept: each instance loads the driver (the loader
 * dlopens its ICD) and unloads it when destroyed, and on the H100 (driver 580.159.04, run121.sh)
 * test-vk-models, which loads and frees dozens of models one after another (a device, and so an
 * instance, each time none is held), could no longer create one at its seventh fixture
 * (VK_ERROR_INCOMPATIBLE_DRIVER). The daemon loads and unloads models over its whole life and lists
 * devices on request. Devices (vk_device) still come and go, a lost one included. */
static pthread_mutex_t instance_lock = PTHREAD_MUTEX_INITIALIZER;
static VkInstance instance_shared;

static int instance_get(VkInstance *ret, char *err, size_t errsz) {
        int r = 0;

        pthread_mutex_lock(&instance_lock);
        if (!instance_shared)
                r = create_instance(&instance_shared, err, errsz);
        *ret = instance_shared;
        pthread_mutex_unlock(&instance_lock);
        return r;
}

/* Chooses the physical device (and its index in enumeration order); -ENODEV with a reason if none is usable. */
static int pick_phys(VkInstance inst, VkPhysicalDevice *ret, uint32_t *ret_family, uint32_t *ret_index, char *err,
                     size_t errsz) {
        VkPhysicalDevice devs[16];
        uint32_t n = ELEMENTSOF(devs), fam = 0;
        const char *want = getenv("UNICORN_VK_DEVICE");
        int best = -1, best_rank = -1;

        if (vkEnumeratePhysicalDevices(inst, &n, devs) < 0 || n == 0) {
                set_error(err, errsz, "no Vulkan device");
                return -ENODEV;
        }
        for (uint32_t i = 0; i < n; i++) {
                VkPhysicalDeviceProperties props;
                uint32_t f;
                int rank;

                vkGetPhysicalDeviceProperties(devs[i], &props);
                if (want && *want) {
                        char *end;
                        unsigned long idx = strtoul(want, &end, 10);
                        bool match = *end == 0 ? idx == i : strcasestr(props.deviceName, want) != NULL;
                        if (!match)
                                continue;
                        if (!phys_usable(devs[i], &f)) {
                                set_error(err, errsz, "Vulkan device '%s' lacks Vulkan 1.2 buffer device "
                                        "addresses or 64-bit integers", props.deviceName);
                                return -ENODEV;
                        }
                        *ret = devs[i];
                        *ret_family = f;
                        *ret_index = i;
                        return 0;
                }
                if (!phys_usable(devs[i], &f))
                        continue;
                rank = type_rank(props.deviceType);
                if (rank > best_rank) {
                        best_rank = rank;
                        best = (int) i;
                        fam = f;
                }
        }
        if (want && *want) {
                set_error(err, errsz, "no Vulkan device matches UNICORN_VK_DEVICE='%s'", want);
                return -ENODEV;
        }
        if (best < 0) {
                set_error(err, errsz, "no Vulkan device has Vulkan 1.2 buffer device addresses and 64-bit "
                        "integers (%u found)", n);
                return -ENODEV;
        }
        *ret = devs[best];
        *ret_family = fam;
        *ret_index = (uint32_t) best;
        return 0;
}

static void device_destroy(struct vk_device *d) {
        if (!d)
                return;
        if (d->dev)
                vkDestroyDevice(d->dev, NULL);
        /* (d->instance is the process's: instance_get) */
        pthread_mutex_destroy(&d->queue_lock);
        free(d);
}

static int device_create(struct vk_device **ret, char *err, size_t errsz) {
        VkPhysicalDeviceCooperativeMatrix2FeaturesNV fcm2 = {
                .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_2_FEATURES_NV };
        VkPhysicalDeviceCooperativeMatrixFeaturesKHR fcm = {
                .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR };
        VkPhysicalDeviceCooperativeMatrix2PropertiesNV pcm2 = {
                .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_2_PROPERTIES_NV };
        VkPhysicalDeviceVulkan11Features f11 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES };
        VkPhysicalDeviceShaderIntegerDotProductFeaturesKHR fdot = {
                .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES_KHR, .pNext = &f11 };
        VkPhysicalDeviceVulkan12Features f12 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                                 .pNext = &fdot };
        VkPhysicalDeviceFeatures2 f2 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f12 };
        VkPhysicalDeviceSubgroupSizeControlFeaturesEXT fsc = {
                .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES_EXT };
        VkPhysicalDeviceSubgroupSizeControlPropertiesEXT psc = {
                .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES_EXT };
        const char *dev_exts[8];
        uint32_t n_dev_ext = 0;
        VkPhysicalDeviceDriverProperties drv = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES };
        VkPhysicalDeviceIDProperties idp = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES, .pNext = &drv };
        VkPhysicalDeviceSubgroupProperties sg = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES,
                                                  .pNext = &idp };
        VkPhysicalDeviceProperties2 p2 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &sg };
        VkExtensionProperties *exts = NULL;
        uint32_t n_ext = 0, phys_index;
        struct vk_device *d;
        float prio = 1.0f;
        int r;

        d = new0(struct vk_device, 1);
        if (!d)
                return -ENOMEM;
        d->n_ref = 1;
        pthread_mutex_init(&d->queue_lock, NULL);
        r = instance_get(&d->instance, err, errsz);
        if (r < 0)
                goto fail;
        r = pick_phys(d->instance, &d->phys, &d->queue_family, &phys_index, err, errsz);
        if (r < 0)
                goto fail;

        vkGetPhysicalDeviceProperties2(d->phys, &p2);
        d->props = p2.properties;
        d->subgroup_size = sg.subgroupSize;
        d->llvmpipe = drv.driverID == VK_DRIVER_ID_MESA_LLVMPIPE;
        d->subgroup_ops = sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT ? sg.supportedOperations : 0;
        memcpy(d->uuid, idp.deviceUUID, sizeof d->uuid);
        vkGetPhysicalDeviceMemoryProperties(d->phys, &d->mem);
        vkEnumerateDeviceExtensionProperties(d->phys, NULL, &n_ext, NULL);
        exts = newa(VkExtensionProperties, MAX(n_ext, 1u));
        if (!exts) {
                r = -ENOMEM;
                goto fail;
        }
        vkEnumerateDeviceExtensionProperties(d->phys, NULL, &n_ext, exts);
        /* A feature struct the driver does not know must not be chained. */
        if (has_ext(exts, n_ext, VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME)) {
                f11.pNext = &fcm;
                if (has_ext(exts, n_ext, VK_NV_COOPERATIVE_MATRIX_2_EXTENSION_NAME)) {
                        fcm.pNext = &fcm2;
                        props2(d->phys, &pcm2);
                }
        }
        /* The multiprocessor count (a property only; the extension need not be enabled): how many
         * workgroups of the prefill kernels run at once, for their tile choice (vk_op_matmul). */
        if (has_ext(exts, n_ext, VK_NV_SHADER_SM_BUILTINS_EXTENSION_NAME)) {
                VkPhysicalDeviceShaderSMBuiltinsPropertiesNV sm = {
                        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_SM_BUILTINS_PROPERTIES_NV };
                props2(d->phys, &sm);
                d->sm_count = sm.shaderSMCount;
        }
        /* AMD's compute units, for the staged mat-vecs' grid cap only (vk-pipeline.c): sm_count also
         * drives choices measured on NVIDIA alone. Unverified: no AMD GPU was at hand. */
        if (has_ext(exts, n_ext, VK_AMD_SHADER_CORE_PROPERTIES_2_EXTENSION_NAME)) {
                VkPhysicalDeviceShaderCoreProperties2AMD cp = {
                        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_CORE_PROPERTIES_2_AMD };
                props2(d->phys, &cp);
                d->cu_count = cp.activeComputeUnitCount;
        } else if (has_ext(exts, n_ext, VK_AMD_SHADER_CORE_PROPERTIES_EXTENSION_NAME)) {
                VkPhysicalDeviceShaderCorePropertiesAMD cp = {
                        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_CORE_PROPERTIES_AMD };
                props2(d->phys, &cp);
                d->cu_count = cp.shaderEngineCount * cp.shaderArraysPerEngineCount * cp.computeUnitsPerShaderArray;
        }
        d->subgroup_size_control = has_ext(exts, n_ext, VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME);
        if (d->subgroup_size_control) {
                props2(d->phys, &psc);
                fsc.pNext = f2.pNext;
                f2.pNext = &fsc;
        }
        vkGetPhysicalDeviceFeatures2(d->phys, &f2);
        int sg32 = vk_subgroup32_mode(d->subgroup_size, d->subgroup_size_control && fsc.subgroupSizeControl,
                                      fsc.computeFullSubgroups, psc.minSubgroupSize, psc.maxSubgroupSize,
                                      psc.requiredSubgroupSizeStages & VK_SHADER_STAGE_COMPUTE_BIT,
                                      psc.maxComputeWorkgroupSubgroups);
        d->subgroup_min = d->subgroup_size;
        if (d->subgroup_size_control && psc.minSubgroupSize)
                d->subgroup_min = MIN(d->subgroup_min, psc.minSubgroupSize);
        d->fp16 = f12.shaderFloat16 && f11.storageBuffer16BitAccess && !env_disabled("F16");
        d->int8_storage = f12.storageBuffer8BitAccess && f12.shaderInt8;
        d->mem_model_device = f12.vulkanMemoryModel && f12.vulkanMemoryModelDeviceScope;
        /* The extension is core in 1.3 but the instance asks for 1.2, so it is enabled by name. */
        d->int_dot = has_ext(exts, n_ext, VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME) &&
                     fdot.shaderIntegerDotProduct && !env_disabled("INTDOT");
        if (d->int_dot)
                dev_exts[n_dev_ext++] = VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME;
        /* The KHR matrix kernels' subgroup size: 32 (required where the default differs), else the
         * device's one size where it has only one (lavapipe: 8). */
        d->cm_sg = sg32 >= 0 ? 32
                   : d->subgroup_size_control && psc.minSubgroupSize == psc.maxSubgroupSize ? d->subgroup_size
                                                                                              : 0;
        d->coopmat = coopmat_usable(d->instance, d->phys, exts, n_ext, fcm.cooperativeMatrix, f12.vulkanMemoryModel,
                                    f12.shaderFloat16, d->cm_sg, &d->cm_size, &d->coopmat_why);
        if (d->coopmat)
                dev_exts[n_dev_ext++] = VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME;
        else
                d->cm_sg = d->cm_size = 0;
        /* Only the KHR matrix kernels need it; other kernels keep the default size. */
        d->sg32_required = d->coopmat && sg32 == 1;
        if (d->sg32_required)
                dev_exts[n_dev_ext++] = VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME;
        uint32_t mgran128 = 0;
        char gran128[96];
        d->coopmat2 = coopmat2_usable(d, exts, n_ext, &fcm2, pcm2.cooperativeMatrixWorkgroupScopeMaxWorkgroupSize,
                                      f11.storageBuffer16BitAccess && f2.features.shaderInt16, &mgran128, gran128,
                                      sizeof gran128, &d->coopmat2_why);
        /* attn_cm2.comp also reduces rows (coopMatReduceNV) and turns accumulators into A operands:
         * two more features, enabled below only where the device has them. */
        d->coopmat2_attn = d->coopmat2 && mgran128 && fcm2.cooperativeMatrixReductions &&
                           fcm2.cooperativeMatrixConversions;
        d->coopmat2_attn_mgran = d->coopmat2_attn ? mgran128 : 0;
        if (d->coopmat2 && !d->coopmat2_attn)
                snprintf(d->coopmat2_attn_why, sizeof d->coopmat2_attn_why, "%s%s%s%s",
                         fcm2.cooperativeMatrixReductions ? "" : "no row reductions; ",
                         fcm2.cooperativeMatrixConversions ? "" : "no conversions between uses; ",
                         mgran128 ? "" : "no f16 sizes for 128 invocations with M dividing 32, N and K 16: ",
                         mgran128 ? "" : gran128);
        if (d->coopmat2)
                dev_exts[n_dev_ext++] = VK_NV_COOPERATIVE_MATRIX_2_EXTENSION_NAME;
        /* Weight import from the embedder's dma-bufs (vk-import.c): only what the device has. */
        d->ext_memory_fd = has_ext(exts, n_ext, VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME);
        d->ext_dma_buf = d->ext_memory_fd && has_ext(exts, n_ext, VK_EXT_EXTERNAL_MEMORY_DMA_BUF_EXTENSION_NAME);
        if (d->ext_memory_fd)
                dev_exts[n_dev_ext++] = VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME;
        if (d->ext_dma_buf)
                dev_exts[n_dev_ext++] = VK_EXT_EXTERNAL_MEMORY_DMA_BUF_EXTENSION_NAME;
        /* UNICORN_VK_PIPELINE_STATS=1 (tuning): the driver's statistics of every pipeline (registers,
         * spills) printed as it is created (vk-pipeline.c). */
        d->pipe_stats = getenv("UNICORN_VK_PIPELINE_STATS") &&
                        has_ext(exts, n_ext, VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME);
        if (d->pipe_stats)
                dev_exts[n_dev_ext++] = VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME;
        free(exts);

        /* Heaps, reported as they are: on UMA the device-local heap is the
         * carve-out and the host-visible one is the shared system memory. */
        d->uma = d->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU ||
                 d->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
        for (uint32_t i = 0; i < d->mem.memoryHeapCount; i++)
                if (d->mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
                        d->heap_device += d->mem.memoryHeaps[i].size;
        for (uint32_t i = 0; i < d->mem.memoryTypeCount; i++) {
                VkMemoryPropertyFlags f = d->mem.memoryTypes[i].propertyFlags;
                if ((f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) && (f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
                        d->heap_host_visible_device = MAX(d->heap_host_visible_device,
                                                          d->mem.memoryHeaps[d->mem.memoryTypes[i].heapIndex].size);
        }

        {
                /* Only what the kernels use is enabled. */
                VkPhysicalDeviceCooperativeMatrix2FeaturesNV ecm2 = {
                        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_2_FEATURES_NV,
                        .cooperativeMatrixWorkgroupScope = VK_TRUE,
                        .cooperativeMatrixFlexibleDimensions = VK_TRUE,
                        .cooperativeMatrixPerElementOperations = VK_TRUE,
                        .cooperativeMatrixTensorAddressing = VK_TRUE,
                        .cooperativeMatrixBlockLoads = VK_TRUE,
                        .cooperativeMatrixReductions = d->coopmat2_attn,
                        .cooperativeMatrixConversions = d->coopmat2_attn,
                };
                VkPhysicalDeviceCooperativeMatrixFeaturesKHR ecm = {
                        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR,
                        .pNext = d->coopmat2 ? &ecm2 : NULL,
                        .cooperativeMatrix = VK_TRUE,
                };
                VkPhysicalDeviceShaderIntegerDotProductFeaturesKHR edot = {
                        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES_KHR,
                        .pNext = d->coopmat ? &ecm : NULL,
                        .shaderIntegerDotProduct = d->int_dot,
                };
                VkPhysicalDeviceVulkan12Features e12 = {
                        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                        .pNext = d->int_dot ? (void *) &edot : d->coopmat ? (void *) &ecm : NULL,
                        .bufferDeviceAddress = VK_TRUE,
                        /* matmul_cm's SPIR-V declares the Vulkan memory model (GL_KHR_memory_scope_semantics),
                         * and gridsync.comp's with device scope. */
                        .vulkanMemoryModel = d->coopmat || d->mem_model_device,
                        .vulkanMemoryModelDeviceScope = d->mem_model_device,
                        .shaderFloat16 = f12.shaderFloat16,
                        .shaderInt8 = f12.shaderInt8,
                        .storageBuffer8BitAccess = f12.storageBuffer8BitAccess,
                };
                VkPhysicalDeviceVulkan11Features e11 = {
                        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
                        .pNext = &e12,
                        .storageBuffer16BitAccess = f11.storageBuffer16BitAccess,
                };
                VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR eps = {
                        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR,
                        .pNext = &e11,
                        .pipelineExecutableInfo = VK_TRUE,
                };
                VkPhysicalDeviceSubgroupSizeControlFeaturesEXT esc = {
                        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES_EXT,
                        .pNext = d->pipe_stats ? (void *) &eps : (void *) &e11,
                        .subgroupSizeControl = VK_TRUE,
                        .computeFullSubgroups = VK_TRUE,
                };
                VkPhysicalDeviceFeatures2 e2 = {
                        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                        .pNext = d->sg32_required ? (void *) &esc : d->pipe_stats ? (void *) &eps : (void *) &e11,
                        .features = { .shaderInt64 = VK_TRUE, .shaderInt16 = f2.features.shaderInt16 },
                };
                VkDeviceQueueCreateInfo qci = {
                        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                        .queueFamilyIndex = d->queue_family,
                        .queueCount = 1,
                        .pQueuePriorities = &prio,
                };
                VkDeviceCreateInfo dci = {
                        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                        .pNext = &e2,
                        .queueCreateInfoCount = 1,
                        .pQueueCreateInfos = &qci,
                        .enabledExtensionCount = n_dev_ext,
                        .ppEnabledExtensionNames = dev_exts,
                };
                VkResult vr = vkCreateDevice(d->phys, &dci, NULL, &d->dev);
                if (vr != VK_SUCCESS) {
                        set_error(err, errsz, "cannot create Vulkan device '%s' (VkResult %d)", d->props.deviceName,
                                vr);
                        r = -ENODEV;
                        goto fail;
                }
        }
        vkGetDeviceQueue(d->dev, d->queue_family, 0, &d->queue);
        /* Device names are at most 256 bytes; 96 keep the description inside d->desc (224). */
        snprintf(d->desc, sizeof d->desc, "vulkan (%.96s, %s, %.1f GiB device-local%s, subgroup %u%s%s%s%s%s)",
                 d->props.deviceName, d->uma ? "UMA" : "discrete", (double) d->heap_device / (1 << 30),
                 d->uma && d->heap_host_visible_device ? " host-visible" : "", d->subgroup_size,
                 d->sg32_required ? " (32 for matrices)" : "",
                 d->fp16 ? ", fp16" : "", d->int_dot ? ", int-dot" : "", d->coopmat2 ? ", coopmat2" : d->coopmat ? ", coopmat" : "",
                 d->coopmat && d->cm_size != 16 ? " 8x8x8" : "");
        *ret = d;
        return 0;
fail:
        device_destroy(d);
        return r;
}

int vk_device_acquire(struct vk_device **ret, char *err, size_t errsz) {
        int r = 0;

        pthread_mutex_lock(&device_lock);
        /* A lost device stays with the models and contexts that hold it (they fail with -ENODEV and
         * release it when their owner lets go of them); whoever comes next gets a new one, so that a
         * model loaded again after a GPU reset works while another still holds the old device. */
        if (device_shared && atomic_load(&device_shared->lost))
                device_shared = NULL;
        if (device_shared)
                device_shared->n_ref++;
        else
                r = device_create(&device_shared, err, errsz);
        if (r >= 0)
                *ret = device_shared;
        pthread_mutex_unlock(&device_lock);
        return r;
}

void vk_device_release(struct vk_device *d) {
        if (!d)
                return;
        pthread_mutex_lock(&device_lock);
        if (--d->n_ref == 0) {
                vkDeviceWaitIdle(d->dev);
                if (device_shared == d)
                        device_shared = NULL;
                device_destroy(d);
        }
        pthread_mutex_unlock(&device_lock);
}

int vk_device_error(struct vk_device *d, VkResult vr) {
        if (vr != VK_ERROR_DEVICE_LOST)
                return -EIO;
        atomic_store(&d->lost, true); /* the caller's caller says so (the engine does not log) */
        return -ENODEV;
}

bool vk_device_usable(char *reason, size_t reasonsz) {
        struct vk_device *d;

        if (vk_device_acquire(&d, reason, reasonsz) < 0)
                return false;
        vk_device_release(d);
        return true;
}

/* --- listing (engine_vulkan_devices) ------------------------------------- */

/* Printable UTF-8 (no control characters, no overlong forms or surrogates)
 * copy of a driver string, else "(unprintable)". */
static void copy_printable(char *dst, size_t dstsz, const char *src, size_t srcsz) {
        size_t len = strnlen(src, srcsz);
        const unsigned char *p = (const unsigned char *) src, *end = p + len;

        if (len >= dstsz || len == srcsz)
                goto bad;
        while (p < end) {
                uint32_t c = *p;
                size_t n;

                if (c < 0x20 || c == 0x7f)
                        goto bad;
                if (c < 0x80) {
                        p++;
                        continue;
                }
                if ((c & 0xe0) == 0xc0)
                        n = 1, c &= 0x1f;
                else if ((c & 0xf0) == 0xe0)
                        n = 2, c &= 0x0f;
                else if ((c & 0xf8) == 0xf0)
                        n = 3, c &= 0x07;
                else
                        goto bad;
                if ((size_t) (end - p) <= n)
                        goto bad;
                for (size_t i = 1; i <= n; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                goto bad;
                        c = (c << 6) | (p[i] & 0x3f);
                }
                if ((n == 1 && c < 0x80) || (n == 2 && c < 0x800) || (n == 3 && c < 0x10000) || c > 0x10ffff ||
                    (c >= 0xd800 && c <= 0xdfff) || (c >= 0x80 && c < 0xa0))
                        goto bad;
                p += n + 1;
        }
        memcpy(dst, src, len);
        dst[len] = '\0';
        return;
bad:
        snprintf(dst, dstsz, "(unprintable)");
}

static const char *type_name(VkPhysicalDeviceType t) {
        switch (t) {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
        case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
        default: return "other";
        }
}

static int describe_phys(VkPhysicalDevice p, uint32_t index, struct engine_vk_device *ret) {
        VkPhysicalDeviceProperties props;
        VkPhysicalDeviceMemoryProperties mem;
        VkExtensionProperties *exts = NULL;
        uint32_t n_ext = 0;
        bool host_visible_heap[VK_MAX_MEMORY_HEAPS] = { false };

        *ret = (struct engine_vk_device) { .index = index };
        vkGetPhysicalDeviceProperties(p, &props);
        copy_printable(ret->name, sizeof ret->name, props.deviceName, sizeof props.deviceName);
        ret->type = type_name(props.deviceType);
        ret->vendor_id = props.vendorID;
        ret->device_id = props.deviceID;
        ret->api_version = props.apiVersion;

        if (vkEnumerateDeviceExtensionProperties(p, NULL, &n_ext, NULL) == VK_SUCCESS && n_ext > 0) {
                exts = new0(VkExtensionProperties, n_ext);
                if (!exts)
                        return -ENOMEM;
                if (vkEnumerateDeviceExtensionProperties(p, NULL, &n_ext, exts) < 0)
                        n_ext = 0;
        }

        /* vkGetPhysicalDeviceProperties2 is core in 1.1 (the instance asks
         * for 1.2); each struct is chained only where the device has it. */
        if (props.apiVersion >= VK_API_VERSION_1_1) {
                VkPhysicalDevicePCIBusInfoPropertiesEXT pci = {
                        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PCI_BUS_INFO_PROPERTIES_EXT };
                VkPhysicalDeviceDriverProperties drv = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES };
                VkPhysicalDeviceIDProperties id = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES };
                VkPhysicalDeviceProperties2 p2 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &id };
                bool have_pci = has_ext(exts, n_ext, VK_EXT_PCI_BUS_INFO_EXTENSION_NAME);
                bool have_drv = props.apiVersion >= VK_API_VERSION_1_2 ||
                                has_ext(exts, n_ext, VK_KHR_DRIVER_PROPERTIES_EXTENSION_NAME);

                if (have_drv) {
                        drv.pNext = p2.pNext;
                        p2.pNext = &drv;
                }
                if (have_pci) {
                        pci.pNext = p2.pNext;
                        p2.pNext = &pci;
                }
                vkGetPhysicalDeviceProperties2(p, &p2);
                ret->have_uuid = true;
                memcpy(ret->uuid, id.deviceUUID, sizeof ret->uuid);
                if (have_drv) {
                        ret->have_driver = true;
                        copy_printable(ret->driver_name, sizeof ret->driver_name, drv.driverName,
                                       sizeof drv.driverName);
                        copy_printable(ret->driver_info, sizeof ret->driver_info, drv.driverInfo,
                                       sizeof drv.driverInfo);
                }
                if (have_pci) {
                        ret->have_pci = true;
                        ret->pci_domain = pci.pciDomain;
                        ret->pci_bus = pci.pciBus;
                        ret->pci_device = pci.pciDevice;
                        ret->pci_function = pci.pciFunction;
                }
        }
        free(exts);

        vkGetPhysicalDeviceMemoryProperties(p, &mem);
        for (uint32_t i = 0; i < mem.memoryTypeCount && i < VK_MAX_MEMORY_TYPES; i++)
                if ((mem.memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
                    mem.memoryTypes[i].heapIndex < VK_MAX_MEMORY_HEAPS)
                        host_visible_heap[mem.memoryTypes[i].heapIndex] = true;
        for (uint32_t i = 0; i < mem.memoryHeapCount && i < VK_MAX_MEMORY_HEAPS; i++) {
                if (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
                        ret->heap_device_local += mem.memoryHeaps[i].size;
                if (host_visible_heap[i])
                        ret->heap_host_visible += mem.memoryHeaps[i].size;
        }
        return 0;
}

int engine_vulkan_devices(struct engine_vk_device **ret, size_t *ret_n) {
        struct engine_vk_device *list = NULL;
        VkPhysicalDevice *devs = NULL;
        VkInstance inst;
        uint32_t n = 0;
        char err[128];
        int r = 0;

        *ret = NULL;
        *ret_n = 0;
        /* No loader ICD (or no driver that can create an instance) is "no
         * Vulkan devices", not an error. */
        if (instance_get(&inst, err, sizeof err) < 0)
                return 0;
        if (vkEnumeratePhysicalDevices(inst, &n, NULL) < 0 || n == 0)
                goto out;
        devs = new0(VkPhysicalDevice, n);
        list = new0(struct engine_vk_device, n);
        if (!devs || !list) {
                r = -ENOMEM;
                goto out;
        }
        /* VK_INCOMPLETE (a device appeared in between) keeps the first n. */
        if (vkEnumeratePhysicalDevices(inst, &n, devs) < 0) {
                n = 0;
                goto out;
        }
        for (uint32_t i = 0; i < n; i++) {
                r = describe_phys(devs[i], i, &list[i]);
                if (r < 0)
                        goto out;
        }
        {
                /* The same choice vk_device_acquire() makes, so the daemon knows which GPU a model runs on. */
                VkPhysicalDevice p;
                uint32_t fam, sel;
                if (pick_phys(inst, &p, &fam, &sel, err, sizeof err) >= 0 && sel < n)
                        list[sel].selected = true;
        }
        *ret = TAKE_PTR(list);
        *ret_n = n;
out:
        free(list);
        free(devs);
        return r;
}
