/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The engine's public API: what the daemon and the tools use.
 *
 *   Model       a loaded model file: hyper-parameters, weights (mmap'ed, and
 *               uploaded once to the backend), tokenizer, chat template.
 *               Reference-counted; shared by every context that uses it.
 *   Context     the per-user state over a Model: a KV cache with n_seq
 *               sequence slots and the scratch buffers of one forward step.
 *   batch       one step for many sequences (continuous batching): each
 *               token has its own sequence id and position.
 *   Generation  a step-wise generator over one sequence of a Context: each
 *               generation_step() runs one forward step (a prefill chunk or
 *               one decoded token), so a caller can interleave requests and
 *               cancel between steps.
 *
 * All functions return >= 0 on success, a negative errno on failure, and
 * fill ret_error (when given) with a sentence a person can act on.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chat.h"
#include "macros.h"
#include "sampler.h"
#include "tokenizer.h"

#define ENGINE_MAX_CTX (1u << 20) /* tokens per context: hard cap */
#define ENGINE_MAX_SEQ 256u       /* sequences per context */
#define ENGINE_MAX_BATCH 4096u    /* tokens per decode call */

typedef struct Model Model;
typedef struct Context Context;
typedef struct Generation Generation;

struct model_info {
        const char *arch;        /* "llama", "qwen2", "gemma3" */
        const char *name;        /* general.name, checked UTF-8, or the file's base name */
        const char *file_type;   /* dominant weight type, e.g. "Q4_K" */
        uint64_t n_params;
        uint64_t weight_bytes;   /* bytes of tensor data */
        uint32_t n_ctx_train;
        uint32_t n_vocab;
        uint32_t n_layer;
        uint32_t n_embd;
        uint32_t n_head, n_head_kv, head_dim;
        enum chat_template_kind chat_template;
};

/*
 * Weight memory from the embedder (unicornd: amdgpu GTT buffers exported as
 * dma-buf, daemon/hw-gtt.h). On a UMA device with VK_KHR_external_memory_fd
 * and VK_EXT_external_memory_dma_buf the Vulkan backend asks alloc for one
 * dma-buf per weight matrix (the bulk of the bytes; norms and biases stay
 * ordinary), imports it (VkImportMemoryFdInfoKHR) and fills it. Whatever
 * fails (extension missing, no compatible memory type, the import, alloc's
 * own error) the rest of the weights are allocated the ordinary way, and
 * model_backend_name() says why in a "[weights: …]" suffix; with no
 * allocator nothing changes. Only model_load*() calls it, on its own thread.
 *
 * alloc: a dma-buf fd of at least size bytes, or a negative errno. The fd
 * passes to the engine, which closes it on every path. device_uuid is the
 * deviceUUID of the Vulkan device the model runs on, so the embedder can
 * check that it allocates on that GPU.
 */
struct engine_weight_allocator {
        int (*alloc)(void *userdata, const uint8_t device_uuid[16], uint64_t size, int *ret_fd);
        void *userdata;
        /* Filled by model_load*(): what the loaded model holds in imported
         * memory (0 when it fell back at once, or on another backend). */
        uint32_t n_imported;
        uint64_t imported_bytes;
};

struct model_load_options {
        const char *backend; /* "cpu", "vulkan", NULL/"auto": best available */
        uint32_t n_threads;  /* CPU threads; 0: one per core */
        /* CPU: keep activations in float and dequantize weight rows on the fly
         * instead of quantizing activations to 8 bits. Slow; it isolates
         * activation quantization as the only difference from a float
         * reference run on the dequantized weights (tests). */
        bool exact_activations;
        /* Vulkan: where weight matrices may live (above); NULL: ordinary allocation. */
        struct engine_weight_allocator *weight_allocator;
};

/* Loads and fully validates a GGUF model. -EOPNOTSUPP for an unknown
 * architecture or tensor type, -EBADMSG for missing/malformed tensors or
 * hyper-parameters (the message names the tensor or key). */
int model_load(const char *path, const struct model_load_options *o, Model **ret,
               char *ret_error, size_t error_size);
/* Same, from an open file descriptor (a regular file; the fd is duplicated). */
int model_load_fd(int fd, const struct model_load_options *o, Model **ret,
                  char *ret_error, size_t error_size);
Model *model_ref(Model *m);
Model *model_unref(Model *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Model *, model_unref);

const struct model_info *model_get_info(const Model *m);
const Tokenizer *model_tokenizer(const Model *m);
const ChatTemplate *model_chat_template(const Model *m);
const char *model_backend_name(const Model *m); /* backend in use, e.g. "cpu (avx512, 2 threads)" */

/*
 * Checks that a GGUF file is a model this engine can run (header, tensors,
 * hyper-parameters, tokenizer, chat template) without keeping it loaded:
 * what the daemon runs on an import before the file enters the store.
 */
int model_check_fd(int fd, struct model_info *ret_info_optional, char *ret_error, size_t error_size);

struct context_options {
        uint32_t n_ctx;   /* tokens per sequence; 0: min(model's training context, 4096) */
        uint32_t n_seq;   /* sequence slots; 0: 1 */
        uint32_t n_batch; /* max tokens per forward step (prefill chunk); 0: 512 */
};

int context_new(Model *m, const struct context_options *o, Context **ret, char *ret_error, size_t error_size);
Context *context_free(Context *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Context *, context_free);
Model *context_model(const Context *c);
uint32_t context_n_ctx(const Context *c);
uint32_t context_n_seq(const Context *c);

struct batch {
        size_t n_tokens;
        const int32_t *token;  /* [n_tokens] */
        const int32_t *pos;    /* [n_tokens] position of each token in its sequence */
        const int32_t *seq_id; /* [n_tokens] */
        const bool *logits;    /* [n_tokens] compute logits for this token */
};

/* Runs one forward step. Tokens of one sequence must be in position order
 * and continue what its KV cache holds. -ERANGE when a position exceeds the
 * context, -EINVAL for a bad token id or sequence id. */
int context_decode(Context *c, const struct batch *b);
/* Logits (n_vocab floats) of the i-th token flagged in the last decode's batch. */
const float *context_logits(const Context *c, size_t i);
/* Forgets positions >= p0 of a sequence (p0 = 0 clears it). */
void context_seq_truncate(Context *c, int32_t seq, int32_t p0);
/* Number of positions a sequence's KV cache holds. */
int32_t context_seq_len(const Context *c, int32_t seq);
/* The tokens a sequence's cache holds (context_seq_len of them). */
const int32_t *context_seq_tokens(const Context *c, int32_t seq);

enum finish_reason {
        FINISH_NONE = 0,   /* still running */
        FINISH_STOP,       /* end-of-generation token or a stop string */
        FINISH_LENGTH,     /* max_tokens reached */
        FINISH_CONTEXT,    /* the context is full */
        FINISH_CANCELLED,
};
const char *finish_reason_name(enum finish_reason r); /* "stop", "length", "context", "cancelled" */

struct gen_params {
        struct sampler_params sampling;
        int32_t max_tokens;            /* <= 0: until stop or context end */
        const char *const *stops;      /* stop strings, n_stops of them */
        size_t n_stops;
};
void gen_params_default(struct gen_params *p); /* sampler defaults, max_tokens 512 */

struct gen_timings {
        uint32_t n_prompt;        /* prompt tokens evaluated (after prefix reuse) */
        uint32_t n_prompt_cached; /* prompt tokens reused from the sequence's cache */
        uint32_t n_generated;
        uint64_t prompt_us;       /* time spent in prefill */
        uint64_t generate_us;     /* time spent decoding (first token to last) */
        uint64_t first_token_us;  /* from generation_new to the first generated token */
        uint32_t max_batch_seqs;  /* most sequences one of its forward steps held (1: never batched) */
};

/*
 * Starts generating on sequence seq of c after the prompt tokens. The
 * sequence's cache is reused for the longest common prefix with what it holds
 * (a follow-up chat turn only evaluates the new part), the rest is cleared.
 * -E2BIG if the prompt does not fit the context.
 */
int generation_new(Context *c, int32_t seq, const int32_t *prompt, size_t n_prompt,
                   const struct gen_params *p, Generation **ret, char *ret_error, size_t error_size);
Generation *generation_free(Generation *g);
DEFINE_TRIVIAL_CLEANUP_FUNC(Generation *, generation_free);

/*
 * Runs one step. *ret_text receives the new text that is safe to show (malloc'ed,
 * possibly "", complete UTF-8, stop strings held back); *ret_finish becomes
 * non-zero when generation ended (the text of that step is still valid).
 */
int generation_step(Generation *g, char **ret_text, enum finish_reason *ret_finish);
/*
 * One forward step for n generations over distinct sequences of one
 * Context (continuous batching): decoding ones add their next token, those
 * still in their prompt add chunks of it with what is left of the
 * context's n_batch, and one context_decode() runs them all. ret_text[i]
 * and ret_finish[i] are as generation_step()'s for gs[i]; one that has
 * finished (or is cancelled) gets its final result without work, and one
 * that found no room this step gets "" and FINISH_NONE. -EINVAL when the
 * generations are not of one Context or share a sequence. If the forward
 * step fails, every ret_text is freed and NULL and the error returned.
 */
int generation_step_many(Generation *const *gs, size_t n, char **ret_text, enum finish_reason *ret_finish);
/* Marks it cancelled: the next step returns FINISH_CANCELLED without work. */
void generation_cancel(Generation *g);
const struct gen_timings *generation_timings(const Generation *g);

/* Convenience for chat: renders messages with the model's template and
 * tokenizes (BOS added as the model wants). */
int model_tokenize_chat(const Model *m, const struct chat_message *msgs, size_t n,
                        int32_t **ret_ids, size_t *ret_n, char *ret_error, size_t error_size);
/* Tokenizes plain text for completion (BOS added as the model wants, special tokens not parsed). */
int model_tokenize_text(const Model *m, const char *text, int32_t **ret_ids, size_t *ret_n,
                        char *ret_error, size_t error_size);

/*
 * The machine's Vulkan physical devices, for listing and for matching them
 * to DRM devices (the daemon's Devices property). Creates and destroys its
 * own VkInstance: independent of the device a model runs on.
 */
#define ENGINE_VK_STRING_MAX 256

struct engine_vk_device {
        uint32_t index;              /* in vkEnumeratePhysicalDevices() order (what UNICORN_VK_DEVICE counts) */
        char name[ENGINE_VK_STRING_MAX];        /* deviceName, printable UTF-8, else "(unprintable)" */
        const char *type;            /* "discrete", "integrated", "virtual", "cpu", "other" (static) */
        uint32_t vendor_id, device_id; /* PCI ids for PCI devices; lavapipe: 0x10005 (Mesa), 0 */
        uint32_t api_version;        /* VK_MAKE_API_VERSION encoding */
        /* VK_KHR_driver_properties (core in 1.2); "" without it (have_driver false). */
        bool have_driver;
        char driver_name[ENGINE_VK_STRING_MAX]; /* "radv", "llvmpipe", … (checked like name) */
        char driver_info[ENGINE_VK_STRING_MAX]; /* "Mesa 25.0.7", … (checked like name) */
        bool have_uuid;              /* VkPhysicalDeviceIDProperties (Vulkan 1.1) */
        uint8_t uuid[16];            /* deviceUUID */
        /* VK_EXT_pci_bus_info; all 0 and have_pci false without it. */
        bool have_pci;
        uint32_t pci_domain, pci_bus, pci_device, pci_function;
        uint64_t heap_device_local;  /* bytes: sum of heaps with VK_MEMORY_HEAP_DEVICE_LOCAL_BIT */
        uint64_t heap_host_visible;  /* bytes: sum of heaps that have a HOST_VISIBLE memory type */
        bool selected;               /* the one the Vulkan backend would run on (UNICORN_VK_DEVICE, else the ranking) */
};

/* Fills *ret (malloc'ed array, free() it; NULL when none) and *ret_n. No
 * Vulkan loader, no ICD, or an engine built without Vulkan: 0 devices and
 * return 0. -ENOMEM on allocation failure. */
int engine_vulkan_devices(struct engine_vk_device **ret, size_t *ret_n);
