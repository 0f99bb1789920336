/* SPDX-License-Identifier: MIT */
/*
 * Weight matrices in memory from the embedder's allocator
 * (struct engine_weight_allocator, engine/vulkan/vk-import.c), as far as
 * the machine's Vulkan device lets it run. Every load is compared with the
 * CPU backend (exact activations on both sides: a 24-token prefill and 4
 * greedy steps within NMSE 1e-6), and every scenario must leave the process
 * with the fds it had before (/proc/self/fd).
 *
 *  1. dma-buf, what unicornd asks for. A device without
 *     VK_EXT_external_memory_dma_buf (lavapipe, Mesa 22.3) must never call
 *     the allocator and must say why in the backend description.
 *  2. The import for real, with the test-only switch
 *     UNICORN_VK_TEST_OPAQUE_FD=1: a second VkDevice on the same physical
 *     device exports memory as opaque fds, the backend imports every weight
 *     matrix from them. Then the exported memory is zeroed behind the
 *     backend's back and the logits must become exactly 0: the kernels read
 *     the imported memory, not a copy of it.
 *  3. The allocator's failures under the same switch: -ENOMEM at once and
 *     after 2 buffers (the rest falls back), a regular file (lavapipe's
 *     import fails and, against the spec, closes the fd itself), /dev/null
 *     (0 bytes) and a pipe (no size): each falls back with its reason.
 *
 * What this cannot show (no GPU here): a real dma-buf, the
 * vkGetMemoryFdPropertiesKHR query, RADV and amdgpu GTT; docs/hardware.md.
 * Skipped (77) without a Vulkan device.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vulkan/vulkan.h>

#include "engine.h"
#include "macros.h"
#include "model.h"
#include "ops-helpers.h"
#include "test-helpers.h"

#define NMSE_BOUND 1e-6
#define MAX_KEPT 512

/* The exporter: a VkDevice of its own on the device the backend picks. */
static struct {
        VkInstance inst;
        VkDevice dev;
        uint8_t uuid[16];
        uint32_t type;
        PFN_vkGetMemoryFdKHR get_fd;
} ex;

enum mode {
        EXPORT,        /* opaque fds exported by ex */
        NOMEM,         /* -ENOMEM */
        NOMEM_AFTER_2, /* two exported fds, then -ENOMEM */
        REGULAR_FILE,  /* a regular file of the right size: not importable */
        DEV_NULL,      /* 0 bytes */
        PIPE,          /* not seekable */
};

static struct {
        enum mode mode;
        unsigned calls;
        int kept[MAX_KEPT]; /* our own duplicates of what EXPORT handed out */
        uint64_t kept_size[MAX_KEPT];
        size_t n_kept;
} cb;

static int export_fd(uint64_t size, int *ret) {
        VkExportMemoryAllocateInfo exi = {
                .sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
                .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
        };
        VkMemoryAllocateInfo ai = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .pNext = &exi,
                                    .allocationSize = size, .memoryTypeIndex = ex.type };
        VkMemoryGetFdInfoKHR gi = { .sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
                                    .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT };
        VkDeviceMemory mem;
        int fd = -1;

        if (vkAllocateMemory(ex.dev, &ai, NULL, &mem) != VK_SUCCESS)
                return -ENOMEM;
        gi.memory = mem;
        CHECK(ex.get_fd(ex.dev, &gi, &fd) == VK_SUCCESS && fd >= 0);
        /* The fd keeps the memory; the exporter lets go of its handle at once. */
        vkFreeMemory(ex.dev, mem, NULL);
        CHECK(cb.n_kept < MAX_KEPT);
        cb.kept[cb.n_kept] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        CHECK(cb.kept[cb.n_kept] >= 0);
        cb.kept_size[cb.n_kept++] = (uint64_t) lseek(fd, 0, SEEK_END);
        *ret = fd;
        return 0;
}

static int test_alloc(void *userdata, const uint8_t uuid[16], uint64_t size, int *ret_fd) {
        int fd, p[2];

        CHECK(userdata == &cb);
        CHECK(size > 0);
        cb.calls++;
        switch (cb.mode) {
        case EXPORT:
                CHECK_MSG(memcmp(uuid, ex.uuid, 16) == 0, "the backend runs on another device than the exporter");
                return export_fd(size, ret_fd);
        case NOMEM:
                return -ENOMEM;
        case NOMEM_AFTER_2:
                return cb.calls <= 2 ? export_fd(size, ret_fd) : -ENOMEM;
        case REGULAR_FILE: {
                char tmpl[] = "/tmp/unicorn-vk-import-XXXXXX";
                fd = mkostemp(tmpl, O_CLOEXEC);
                CHECK(fd >= 0);
                unlink(tmpl);
                CHECK(ftruncate(fd, (off_t) size) == 0);
                *ret_fd = fd;
                return 0;
        }
        case DEV_NULL:
                *ret_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
                return 0;
        case PIPE:
                CHECK(pipe2(p, O_CLOEXEC) == 0);
                close(p[1]);
                *ret_fd = p[0];
                return 0;
        }
        return -EINVAL;
}

static void release_kept(void) {
        for (size_t i = 0; i < cb.n_kept; i++)
                close(cb.kept[i]);
        cb.n_kept = 0;
}

/* A second VkDevice, with VK_KHR_external_memory_fd, on the physical device the backend will use. */
static bool exporter_init(void) {
        VkApplicationInfo app = { .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_2 };
        VkInstanceCreateInfo ici = { .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app };
        const char *ext = VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME;
        float prio = 1.0f;
        VkDeviceQueueCreateInfo qci = { .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueCount = 1,
                                        .pQueuePriorities = &prio };
        VkDeviceCreateInfo dci = { .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .queueCreateInfoCount = 1,
                                   .pQueueCreateInfos = &qci, .enabledExtensionCount = 1,
                                   .ppEnabledExtensionNames = &ext };
        VkPhysicalDeviceIDProperties idp = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES };
        VkPhysicalDeviceProperties2 p2 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &idp };
        VkPhysicalDeviceMemoryProperties mp;
        struct engine_vk_device *list = NULL;
        VkPhysicalDevice devs[16];
        uint32_t n = ELEMENTSOF(devs), sel = UINT32_MAX;
        size_t n_list = 0;
        VkExtensionProperties exts[256];
        uint32_t n_ext = ELEMENTSOF(exts);
        bool have = false;

        /* engine_vulkan_devices() says which device the backend picks (what unicornd relies on too). */
        CHECK(engine_vulkan_devices(&list, &n_list) == 0);
        for (size_t i = 0; i < n_list; i++)
                if (list[i].selected) {
                        CHECK(sel == UINT32_MAX);
                        sel = list[i].index;
                }
        free(list);
        if (sel == UINT32_MAX)
                return false;
        CHECK(vkCreateInstance(&ici, NULL, &ex.inst) == VK_SUCCESS);
        CHECK(vkEnumeratePhysicalDevices(ex.inst, &n, devs) >= 0 && sel < n);
        if (vkEnumerateDeviceExtensionProperties(devs[sel], NULL, &n_ext, exts) < 0)
                n_ext = 0;
        for (uint32_t i = 0; i < n_ext; i++)
                have = have || streq(exts[i].extensionName, ext);
        if (!have)
                return false;
        vkGetPhysicalDeviceProperties2(devs[sel], &p2);
        memcpy(ex.uuid, idp.deviceUUID, 16);
        /* The importer's first choice (vk-import.c), so that both sides agree on the type. */
        vkGetPhysicalDeviceMemoryProperties(devs[sel], &mp);
        ex.type = UINT32_MAX;
        for (uint32_t i = 0; i < mp.memoryTypeCount && ex.type == UINT32_MAX; i++) {
                VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                             VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
                if ((mp.memoryTypes[i].propertyFlags & want) == want)
                        ex.type = i;
        }
        if (ex.type == UINT32_MAX)
                return false;
        CHECK(vkCreateDevice(devs[sel], &dci, NULL, &ex.dev) == VK_SUCCESS);
        ex.get_fd = (PFN_vkGetMemoryFdKHR) vkGetDeviceProcAddr(ex.dev, "vkGetMemoryFdKHR");
        CHECK(ex.get_fd);
        return true;
}

/* Prefill and 4 greedy steps on both; the Vulkan model's context stays for the caller when asked. */
static void compare(Model *mc, Model *mv, Context **ret_cv) {
        _cleanup_(context_freep) Context *cc = NULL, *cv = NULL;
        size_t nv = model_get_info(mc)->n_vocab;
        int32_t tok[24];

        for (size_t i = 0; i < ELEMENTSOF(tok); i++)
                tok[i] = (int32_t) ((i * 7919 + 11) % nv);
        cc = test_context(mc, 64, 32);
        cv = test_context(mv, 64, 32);
        const float *lc = test_step(cc, tok, ELEMENTSOF(tok), 0, true);
        const float *lv = test_step(cv, tok, ELEMENTSOF(tok), 0, true);
        double e = test_nmse(lv, lc, ELEMENTSOF(tok) * nv);
        CHECK_MSG(e <= NMSE_BOUND, "prefill: NMSE %.3g > %.1g", e, NMSE_BOUND);
        for (int32_t s = 0; s < 4; s++) {
                int32_t a = test_argmax(lc + (s == 0 ? (ELEMENTSOF(tok) - 1) * nv : 0), nv);
                int32_t b = test_argmax(lv + (s == 0 ? (ELEMENTSOF(tok) - 1) * nv : 0), nv);
                CHECK_MSG(a == b, "step %d: cpu picks %d, vulkan %d", s, a, b);
                lc = test_step(cc, &a, 1, (int32_t) ELEMENTSOF(tok) + s, false);
                lv = test_step(cv, &b, 1, (int32_t) ELEMENTSOF(tok) + s, false);
                e = test_nmse(lv, lc, nv);
                CHECK_MSG(e <= NMSE_BOUND, "step %d: NMSE %.3g > %.1g", s, e, NMSE_BOUND);
        }
        if (ret_cv)
                *ret_cv = TAKE_PTR(cv);
}

static Model *load(const char *path, const char *backend, struct engine_weight_allocator *a) {
        char err[256] = "";
        Model *m = NULL;
        int r = model_load(path,
                           &(struct model_load_options) { .backend = backend, .n_threads = 2,
                                                          .exact_activations = true, .weight_allocator = a },
                           &m, err, sizeof err);

        if (r < 0 && streq(backend, "vulkan"))
                SKIP("no usable Vulkan device: %s", err);
        CHECK_MSG(r == 0, "%s on %s: %s", path, backend, err);
        return m;
}

/* The weight buffers the backend allocates: the embedding, the output unless tied, and per layer one
 * per matrix, but q, k and v in one, and gate and up, where they share a type and row length
 * (upload_joined in vk-backend.c; so in every fixture). */
static bool same_rows(const struct tensor *a, const struct tensor *b) {
        return a->type == b->type && a->ne[0] == b->ne[0];
}

static unsigned n_buffers(const Model *m) {
        unsigned n = 1 + (m->output.data != m->tok_embd.data);

        for (uint32_t il = 0; il < m->hp.n_layer; il++) {
                const struct layer *L = &m->layers[il];
                n += same_rows(&L->wq, &L->wk) && same_rows(&L->wq, &L->wv) ? 1 : 3;
                n += same_rows(&L->ffn_gate, &L->ffn_up) ? 1 : 2;
                n += 2; /* o, down */
        }
        return n;
}

/* One load through the allocator in mode: the description has want (and want2), the logits are the
 * CPU's, and once the model is gone the process has the fds it had. */
static void run(const char *path, Model *mc, enum mode mode, const char *want, const char *want2) {
        struct engine_weight_allocator a = { .alloc = test_alloc, .userdata = &cb };
        _cleanup_(model_unrefp) Model *mv = NULL;
        unsigned fds = test_count_fds();

        cb.mode = mode;
        cb.calls = 0;
        mv = load(path, "vulkan", &a);
        printf("  %s\n", model_backend_name(mv));
        CHECK_MSG(strstr(model_backend_name(mv), want), "description lacks \"%s\"", want);
        CHECK_MSG(!want2 || strstr(model_backend_name(mv), want2), "description lacks \"%s\"", want2);
        CHECK(a.n_imported == cb.n_kept);
        compare(mc, mv, NULL);
        mv = model_unref(mv);
        release_kept();
        CHECK_MSG(test_count_fds() == fds, "%u fds before, %u after", fds, test_count_fds());
}

int main(void) {
        char path[1024];
        _cleanup_(model_unrefp) Model *mc = NULL;
        struct engine_weight_allocator a = { .alloc = test_alloc, .userdata = &cb };
        unsigned fds;

        setvbuf(stdout, NULL, _IOLBF, 0);
        unsetenv("UNICORN_VK_TEST_OPAQUE_FD");
        unsetenv("UNICORN_VK_DISABLE_DMABUF");
        snprintf(path, sizeof path, "%s/models/llama-q4_0.gguf", test_fixtures_dir());
        mc = load(path, "cpu", NULL);

        /* Warm up: the first Vulkan instance may keep files of the driver's open for good. */
        {
                _cleanup_(model_unrefp) Model *mv = load(path, "vulkan", NULL);
        }
        if (!exporter_init())
                printf("no exporter device with VK_KHR_external_memory_fd: parts 2 and 3 will be skipped\n");
        fds = test_count_fds();

        /* 1. dma-buf. */
        {
                _cleanup_(model_unrefp) Model *mv = NULL;
                cb.mode = EXPORT;
                cb.calls = 0;
                mv = load(path, "vulkan", &a);
                printf("dma-buf: %s\n", model_backend_name(mv));
                if (strstr(model_backend_name(mv), "not imported: the device lacks VK_EXT_external_memory_dma_buf")) {
                        CHECK(cb.calls == 0 && a.n_imported == 0 && a.imported_bytes == 0);
                        compare(mc, mv, NULL);
                        printf("1. no VK_EXT_external_memory_dma_buf: allocator not called, fallback said, logits "
                               "equal the CPU's\n");
                } else
                        printf("1. the device has dma-buf import (or is not UMA); the dma-buf path needs a real "
                               "allocator, not checked here\n");
        }
        CHECK_MSG(test_count_fds() == fds, "%u fds before, %u after", fds, test_count_fds());
        if (!ex.dev) {
                printf("2, 3: skipped\n");
                return 0;
        }

        setenv("UNICORN_VK_TEST_OPAQUE_FD", "1", 1);
        /* 2. The import for real. */
        {
                _cleanup_(model_unrefp) Model *mv = NULL;
                _cleanup_(context_freep) Context *cv = NULL;
                char want[64];
                size_t nv;

                cb.mode = EXPORT;
                cb.calls = 0;
                mv = load(path, "vulkan", &a);
                printf("opaque fd: %s\n", model_backend_name(mv));
                snprintf(want, sizeof want, "[weights: %u weight buffers imported (opaque fd", n_buffers(mv));
                CHECK_MSG(strstr(model_backend_name(mv), want), "description lacks \"%s\"", want);
                CHECK(cb.calls == n_buffers(mv) && a.n_imported == cb.calls && cb.n_kept == cb.calls);
                CHECK(a.imported_bytes > 0);
                compare(mc, mv, &cv);
                /* Zero what was exported: with every matrix 0 (this model has no biases) the logits are 0. */
                for (size_t i = 0; i < cb.n_kept; i++) {
                        void *p = mmap(NULL, cb.kept_size[i], PROT_READ | PROT_WRITE, MAP_SHARED, cb.kept[i], 0);
                        CHECK(p != MAP_FAILED);
                        memset(p, 0, cb.kept_size[i]);
                        munmap(p, cb.kept_size[i]);
                }
                nv = model_get_info(mv)->n_vocab;
                context_seq_truncate(cv, 0, 0);
                {
                        int32_t t = 1;
                        const float *l = test_step(cv, &t, 1, 0, false);
                        for (size_t i = 0; i < nv; i++)
                                CHECK_MSG(l[i] == 0.0f, "logit %zu is %g after the imported memory was zeroed", i,
                                          l[i]);
                }
                printf("2. %u weight buffers imported, logits equal the CPU's, and follow the exported memory\n",
                       cb.calls);
                cv = context_free(cv);
                mv = model_unref(mv);
                release_kept();
        }
        CHECK_MSG(test_count_fds() == fds, "%u fds before, %u after", fds, test_count_fds());

        /* 3. The allocator's failures. */
        printf("3. failures:\n");
        run(path, mc, NOMEM, "[weights: allocated here, not imported: the allocator failed: Cannot allocate memory]",
            NULL);
        run(path, mc, NOMEM_AFTER_2, "[weights: 2 weight buffers imported (opaque fd",
            "the rest allocated here: the allocator failed: Cannot allocate memory]");
        run(path, mc, REGULAR_FILE, "not imported: vkAllocateMemory did not import the fd (VkResult", NULL);
        run(path, mc, DEV_NULL, "not imported: the allocator's fd holds 0 bytes, the buffer needs", NULL);
        run(path, mc, PIPE, "not imported: the allocator's fd has no size (lseek: Illegal seek)", NULL);
        CHECK_MSG(test_count_fds() == fds, "%u fds before, %u after", fds, test_count_fds());

        unsetenv("UNICORN_VK_TEST_OPAQUE_FD");
        vkDestroyDevice(ex.dev, NULL);
        vkDestroyInstance(ex.inst, NULL);
        printf("vk-import: all checks passed\n");
        return 0;
}
