/* SPDX-License-Identifier: MIT */
/*
 * Model: binds a validated GGUF to an architecture description, its weight
 * tensors (every shape checked against the hyper-parameters before any
 * kernel sees it), tokenizer and chat template, and hands the weights to a
 * backend.
 */

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "errorf.h"
#include "model.h"

#define MAX_LAYERS 1024u
#define MAX_EMBD (1u << 16)
#define MAX_HEADS 1024u
#define MAX_HEAD_DIM 1024u
#define MAX_FF (1u << 18)
#define MAX_VOCAB (1u << 22)


static int get_u32_key(const GgufFile *f, const char *arch, const char *suffix, uint32_t *ret, bool required,
                       char *err, size_t errsz) {
        char key[256];
        int r;

        snprintf(key, sizeof key, "%s.%s", arch, suffix);
        r = gguf_get_u32(f, key, ret);
        if (r == -ENOENT && !required)
                return 0;
        if (r < 0) {
                set_error(err, errsz, r == -ENOENT ? "model file lacks the hyper-parameter '%s'"
                                                   : "hyper-parameter '%s' has a wrong type or value",
                          key);
                return -EBADMSG;
        }
        return 1;
}

static int get_f32_key(const GgufFile *f, const char *arch, const char *suffix, float *ret, bool required,
                       char *err, size_t errsz) {
        char key[256];
        int r;

        snprintf(key, sizeof key, "%s.%s", arch, suffix);
        r = gguf_get_f32(f, key, ret);
        if (r == -ENOENT && !required)
                return 0;
        if (r < 0 || !isfinite(*ret)) {
                set_error(err, errsz, r == -ENOENT ? "model file lacks the hyper-parameter '%s'"
                                                   : "hyper-parameter '%s' has a wrong type or value",
                          key);
                return -EBADMSG;
        }
        return 1;
}

int model_hparams_load(const GgufFile *f, struct hparams *hp, char *err, size_t errsz) {
        struct gguf_str arch_s;
        char arch[32];
        uint32_t u;
        float v;
        int r;

        *hp = (struct hparams) {};
        r = gguf_get_str(f, "general.architecture", &arch_s);
        if (r < 0) {
                set_error(err, errsz, "model file has no 'general.architecture'");
                return -EBADMSG;
        }
        if (arch_s.len >= sizeof arch || memchr(arch_s.s, 0, arch_s.len)) {
                set_error(err, errsz, "architecture name is malformed");
                return -EBADMSG;
        }
        memcpy(arch, arch_s.s, arch_s.len);
        arch[arch_s.len] = 0;
        for (char *p = arch; *p; p++)
                if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f)
                        *p = '?';

        if (streq(arch, "llama"))
                hp->arch = ARCH_LLAMA;
        else if (streq(arch, "qwen2"))
                hp->arch = ARCH_QWEN2;
        else if (streq(arch, "gemma3"))
                hp->arch = ARCH_GEMMA3;
        else {
                set_error(err, errsz, "architecture '%s' is not supported (supported: llama, qwen2, gemma3)", arch);
                return -EOPNOTSUPP;
        }

        if ((r = get_u32_key(f, arch, "embedding_length", &hp->n_embd, true, err, errsz)) < 0 ||
            (r = get_u32_key(f, arch, "block_count", &hp->n_layer, true, err, errsz)) < 0 ||
            (r = get_u32_key(f, arch, "attention.head_count", &hp->n_head, true, err, errsz)) < 0 ||
            (r = get_u32_key(f, arch, "feed_forward_length", &hp->n_ff, true, err, errsz)) < 0)
                return r;
        hp->n_head_kv = hp->n_head;
        if ((r = get_u32_key(f, arch, "attention.head_count_kv", &hp->n_head_kv, false, err, errsz)) < 0)
                return r;
        hp->n_ctx_train = 4096;
        if ((r = get_u32_key(f, arch, "context_length", &hp->n_ctx_train, false, err, errsz)) < 0)
                return r;

        if (hp->n_embd == 0 || hp->n_embd > MAX_EMBD || hp->n_layer == 0 || hp->n_layer > MAX_LAYERS ||
            hp->n_head == 0 || hp->n_head > MAX_HEADS || hp->n_head_kv == 0 || hp->n_head_kv > hp->n_head ||
            hp->n_head % hp->n_head_kv != 0 || hp->n_ff == 0 || hp->n_ff > MAX_FF || hp->n_ctx_train == 0) {
                set_error(err, errsz,
                          "hyper-parameters out of range: embedding %u, layers %u, heads %u/%u, ffn %u",
                          hp->n_embd, hp->n_layer, hp->n_head, hp->n_head_kv, hp->n_ff);
                return -EBADMSG;
        }

        hp->head_dim = hp->n_embd / hp->n_head;
        if ((r = get_u32_key(f, arch, "attention.key_length", &hp->head_dim, false, err, errsz)) < 0)
                return r;
        hp->head_dim_v = hp->head_dim;
        if ((r = get_u32_key(f, arch, "attention.value_length", &hp->head_dim_v, false, err, errsz)) < 0)
                return r;
        hp->n_rot = hp->head_dim;
        if ((r = get_u32_key(f, arch, "rope.dimension_count", &hp->n_rot, false, err, errsz)) < 0)
                return r;
        if (hp->head_dim == 0 || hp->head_dim > MAX_HEAD_DIM || hp->head_dim % 2 != 0 || hp->head_dim_v == 0 ||
            hp->head_dim_v > MAX_HEAD_DIM || hp->n_rot == 0 || hp->n_rot > hp->head_dim || hp->n_rot % 2 != 0) {
                set_error(err, errsz, "head dimensions out of range: key %u, value %u, rotary %u", hp->head_dim,
                          hp->head_dim_v, hp->n_rot);
                return -EBADMSG;
        }

        hp->norm_eps = 1e-5f;
        if ((r = get_f32_key(f, arch, "attention.layer_norm_rms_epsilon", &hp->norm_eps, false, err, errsz)) < 0)
                return r;
        hp->rope_base = 10000.0f;
        if ((r = get_f32_key(f, arch, "rope.freq_base", &hp->rope_base, false, err, errsz)) < 0)
                return r;
        hp->rope_base_swa = hp->rope_base;
        hp->rope_scale = 1.0f;
        v = 0;
        if ((r = get_f32_key(f, arch, "rope.scaling.factor", &v, false, err, errsz)) < 0)
                return r;
        if (r > 0 && v > 0) {
                struct gguf_str type = {};
                /* Only linear scaling changes positions; YaRN and others are refused rather than run wrong. */
                char key[96];
                snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
                if (gguf_get_str(f, key, &type) == 0 && !gguf_str_eq(type, "linear") && !gguf_str_eq(type, "none")) {
                        set_error(err, errsz, "RoPE scaling '%.*s' is not supported", (int) MIN(type.len, 32),
                                  type.s);
                        return -EOPNOTSUPP;
                }
                hp->rope_scale = 1.0f / v;
        }
        if (hp->norm_eps <= 0 || hp->norm_eps > 1 || hp->rope_base <= 1) {
                set_error(err, errsz, "norm epsilon %g or RoPE base %g out of range", hp->norm_eps, hp->rope_base);
                return -EBADMSG;
        }

        hp->attn_scale = 1.0f / sqrtf((float) hp->head_dim);
        hp->emb_scale = 1.0f;
        hp->act = FFN_SILU;

        switch (hp->arch) {
        case ARCH_LLAMA:
                hp->rope_neox = false;
                break;
        case ARCH_QWEN2:
                hp->rope_neox = true;
                hp->qkv_bias = true;
                break;
        case ARCH_GEMMA3:
                hp->rope_neox = true;
                hp->qk_norm = true;
                hp->post_norms = true;
                hp->act = FFN_GELU_TANH;
                hp->emb_scale = sqrtf((float) hp->n_embd);
                /* Gemma 3 runs local layers with base 10000 whatever the global base
                 * is; GGUF has no key for it (llama.cpp hard-codes it too). */
                hp->rope_base_swa = 10000.0f;
                hp->swa_pattern = 6;
                if ((r = get_u32_key(f, arch, "attention.sliding_window", &hp->sliding_window, false, err,
                                     errsz)) < 0)
                        return r;
                if ((r = get_u32_key(f, arch, "attention.sliding_window_pattern", &u, false, err, errsz)) < 0)
                        return r;
                if (r > 0) {
                        if (u == 0 || u > MAX_LAYERS) {
                                set_error(err, errsz, "sliding window pattern %u out of range", u);
                                return -EBADMSG;
                        }
                        hp->swa_pattern = u;
                }
                break;
        }
        return 0;
}

/* Looks a tensor up and checks its shape: ne0 x ne1 (ne1 == 0: a 1-D tensor). */
static int bind(const Model *m, struct tensor *t, const char *name, uint64_t ne0, uint64_t ne1, bool required,
                char *err, size_t errsz) {
        const struct gguf_tensor *g = gguf_find_tensor(m->gguf, name);
        uint64_t want1 = ne1 ? ne1 : 1;
        int r;

        if (!g) {
                if (!required)
                        return 0;
                set_error(err, errsz, "model file lacks the tensor '%s'", name);
                return -EBADMSG;
        }
        if (g->ne[0] != ne0 || g->ne[1] != want1 || g->ne[2] != 1 || g->ne[3] != 1) {
                set_error(err, errsz,
                          "tensor '%s' has shape [%llu, %llu, %llu, %llu], expected [%llu, %llu]", name,
                          (unsigned long long) g->ne[0], (unsigned long long) g->ne[1],
                          (unsigned long long) g->ne[2], (unsigned long long) g->ne[3],
                          (unsigned long long) ne0, (unsigned long long) want1);
                return -EBADMSG;
        }
        /* Norms, biases and other vectors are used as floats by every backend. */
        if (ne1 == 0 && g->type != GGML_TYPE_F32) {
                set_error(err, errsz, "tensor '%s' is %s; 1-D tensors must be F32", name,
                          quant_type_name(g->type));
                return -EOPNOTSUPP;
        }
        t->name = g->name.s; /* names are followed by data in the file; use only for messages via %.*s */
        t->type = g->type;
        t->ne[0] = g->ne[0];
        t->ne[1] = want1;
        r = quant_row_size(g->type, g->ne[0], &t->row_bytes);
        if (r < 0) {
                set_error(err, errsz, "tensor '%s' has a row length that does not fit its type", name);
                return -EBADMSG;
        }
        t->data = g->data;
        return 1;
}

static int model_bind_tensors(Model *m, char *err, size_t errsz) {
        const struct hparams *hp = &m->hp;
        uint64_t q_dim = (uint64_t) hp->n_head * hp->head_dim;
        uint64_t k_dim = (uint64_t) hp->n_head_kv * hp->head_dim;
        uint64_t v_dim = (uint64_t) hp->n_head_kv * hp->head_dim_v;
        uint64_t o_dim = (uint64_t) hp->n_head * hp->head_dim_v;
        const struct gguf_tensor *emb;
        char name[96];
        int r;

        emb = gguf_find_tensor(m->gguf, "token_embd.weight");
        if (!emb) {
                set_error(err, errsz, "model file lacks the tensor 'token_embd.weight'");
                return -EBADMSG;
        }
        if (emb->ne[1] == 0 || emb->ne[1] > MAX_VOCAB) {
                set_error(err, errsz, "vocabulary size %llu out of range", (unsigned long long) emb->ne[1]);
                return -EBADMSG;
        }
        m->hp.n_vocab = (uint32_t) emb->ne[1];
        if ((r = bind(m, &m->tok_embd, "token_embd.weight", hp->n_embd, hp->n_vocab, true, err, errsz)) < 0 ||
            (r = bind(m, &m->output_norm, "output_norm.weight", hp->n_embd, 0, true, err, errsz)) < 0 ||
            (r = bind(m, &m->output, "output.weight", hp->n_embd, hp->n_vocab, false, err, errsz)) < 0)
                return r;
        if (r == 0)
                m->output = m->tok_embd; /* tied embeddings */
        if ((r = bind(m, &m->rope_freqs, "rope_freqs.weight", hp->n_rot / 2, 0, false, err, errsz)) < 0)
                return r;

        m->layers = new0(struct layer, hp->n_layer);
        if (!m->layers)
                return -ENOMEM;

        for (uint32_t il = 0; il < hp->n_layer; il++) {
                struct layer *l = &m->layers[il];
#define B(field, suffix, ne0, ne1, req)                                                          \
        do {                                                                                     \
                snprintf(name, sizeof name, "blk.%u.%s", il, suffix);                            \
                if ((r = bind(m, &l->field, name, (ne0), (ne1), (req), err, errsz)) < 0)         \
                        return r;                                                                \
        } while (0)
                B(attn_norm, "attn_norm.weight", hp->n_embd, 0, true);
                B(wq, "attn_q.weight", hp->n_embd, q_dim, true);
                B(wk, "attn_k.weight", hp->n_embd, k_dim, true);
                B(wv, "attn_v.weight", hp->n_embd, v_dim, true);
                B(wo, "attn_output.weight", o_dim, hp->n_embd, true);
                B(ffn_norm, "ffn_norm.weight", hp->n_embd, 0, true);
                B(ffn_gate, "ffn_gate.weight", hp->n_embd, hp->n_ff, true);
                B(ffn_up, "ffn_up.weight", hp->n_embd, hp->n_ff, true);
                B(ffn_down, "ffn_down.weight", hp->n_ff, hp->n_embd, true);
                /* Biases: required by qwen2, honoured when present elsewhere (some llama fine-tunes). */
                B(bq, "attn_q.bias", q_dim, 0, hp->qkv_bias);
                B(bk, "attn_k.bias", k_dim, 0, hp->qkv_bias);
                B(bv, "attn_v.bias", v_dim, 0, hp->qkv_bias);
                if (hp->qk_norm) {
                        B(q_norm, "attn_q_norm.weight", hp->head_dim, 0, true);
                        B(k_norm, "attn_k_norm.weight", hp->head_dim, 0, true);
                }
                if (hp->post_norms) {
                        B(post_attn_norm, "post_attention_norm.weight", hp->n_embd, 0, true);
                        B(post_ffn_norm, "post_ffw_norm.weight", hp->n_embd, 0, true);
                }
#undef B
                l->swa = hp->sliding_window > 0 && hp->swa_pattern > 0 && (il + 1) % hp->swa_pattern != 0;
        }
        return 0;
}

/* llama.cpp's names for general.file_type (enum llama_ftype), which is what
 * users know a file by ("Q4_K_M"); the dominant tensor type otherwise. */
static const char *ftype_name(uint32_t ftype) {
        static const char *const names[] = {
                [0] = "F32",     [1] = "F16",     [2] = "Q4_0",    [3] = "Q4_1",    [7] = "Q8_0",
                [8] = "Q5_0",    [9] = "Q5_1",    [10] = "Q2_K",   [11] = "Q3_K_S", [12] = "Q3_K_M",
                [13] = "Q3_K_L", [14] = "Q4_K_S", [15] = "Q4_K_M", [16] = "Q5_K_S", [17] = "Q5_K_M",
                [18] = "Q6_K",   [32] = "BF16",
        };
        return ftype < ELEMENTSOF(names) ? names[ftype] : NULL;
}

static void model_fill_info(Model *m) {
        struct model_info *info = &m->info;
        uint64_t by_type[GGML_TYPE_COUNT] = {};
        uint32_t best = GGML_TYPE_F32;

        info->arch = m->arch_name;
        info->name = m->name;
        for (size_t i = 0; i < m->gguf->n_tensors; i++) {
                const struct gguf_tensor *t = &m->gguf->tensors[i];
                uint64_t n = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
                info->n_params += n;
                info->weight_bytes += t->nbytes;
                if (t->type < GGML_TYPE_COUNT && t->n_dims >= 2)
                        by_type[t->type] += t->nbytes;
        }
        for (uint32_t t = 0; t < GGML_TYPE_COUNT; t++)
                if (by_type[t] > by_type[best])
                        best = t;
        info->file_type = quant_type_name(best);
        {
                uint32_t ft;
                if (gguf_get_u32(m->gguf, "general.file_type", &ft) == 0 && ftype_name(ft))
                        info->file_type = ftype_name(ft);
        }
        info->n_ctx_train = m->hp.n_ctx_train;
        info->n_vocab = m->hp.n_vocab;
        info->n_layer = m->hp.n_layer;
        info->n_embd = m->hp.n_embd;
        info->n_head = m->hp.n_head;
        info->n_head_kv = m->hp.n_head_kv;
        info->head_dim = m->hp.head_dim;
        info->chat_template = m->chat.kind;
}

/* general.name shown on the bus and in tools: printable UTF-8 only. */
static char *model_sanitized_name(const GgufFile *f) {
        struct gguf_str s;
        char *out;

        if (gguf_get_str(f, "general.name", &s) < 0 || s.len == 0 || s.len > 256 || !utf8_is_valid(s.s, s.len))
                return strdup("unnamed");
        out = malloc(s.len + 1);
        if (!out)
                return NULL;
        for (size_t i = 0; i < s.len; i++)
                out[i] = (unsigned char) s.s[i] < 0x20 || s.s[i] == 0x7f ? ' ' : s.s[i];
        out[s.len] = 0;
        return out;
}

Model *model_ref(Model *m) {
        if (m)
                m->n_ref++;
        return m;
}

static Model *model_free(Model *m) {
        if (!m)
                return NULL;
        if (m->backend && m->backend->model_free)
                m->backend->model_free(m->backend_state);
        tokenizer_free(m->tokenizer);
        chat_template_done(&m->chat);
        free(m->layers);
        free(m->arch_name);
        free(m->name);
        gguf_free(m->gguf);
        free(m);
        return NULL;
}

Model *model_unref(Model *m) {
        if (!m)
                return NULL;
        if (--m->n_ref > 0)
                return NULL;
        return model_free(m);
}

/* Everything but the backend: used by model_check_fd (import validation) too. */
static int model_prepare(GgufFile *f, Model **ret, char *err, size_t errsz) {
        Model *m;
        _cleanup_free_ char *tmpl = NULL;
        int r;

        m = new0(Model, 1);
        if (!m) {
                gguf_free(f);
                return -ENOMEM;
        }
        m->n_ref = 1;
        m->gguf = f;

        r = model_hparams_load(f, &m->hp, err, errsz);
        if (r < 0)
                goto fail;
        r = gguf_get_strdup(f, "general.architecture", &m->arch_name);
        if (r < 0)
                goto fail;
        m->name = model_sanitized_name(f);
        if (!m->name) {
                r = -ENOMEM;
                goto fail;
        }
        r = model_bind_tensors(m, err, errsz);
        if (r < 0)
                goto fail;
        r = tokenizer_new_from_gguf(f, &m->tokenizer, err, errsz);
        if (r < 0)
                goto fail;
        if (tokenizer_n_vocab(m->tokenizer) != m->hp.n_vocab) {
                set_error(err, errsz, "tokenizer has %zu tokens but the embedding has %u rows",
                          tokenizer_n_vocab(m->tokenizer), m->hp.n_vocab);
                r = -EBADMSG;
                goto fail;
        }
        r = gguf_get_strdup(f, "tokenizer.chat_template", &tmpl);
        if (r < 0 && r != -ENOENT) {
                set_error(err, errsz, "tokenizer.chat_template is malformed");
                goto fail;
        }
        r = chat_template_init(&m->chat, tmpl, m->arch_name, err, errsz);
        if (r < 0)
                goto fail;
        model_fill_info(m);
        *ret = m;
        return 0;
fail:
        model_free(m);
        return r;
}

#if UNICORN_HAVE_VULKAN
#define BACKENDS "cpu, vulkan"
#else
#define BACKENDS "cpu"

/* Built without Vulkan: no Vulkan devices (vulkan/vk-device.c otherwise). */
int engine_vulkan_devices(struct engine_vk_device **ret, size_t *ret_n) {
        *ret = NULL;
        *ret_n = 0;
        return 0;
}
#endif

/* The configured backend (UNICORN_BACKEND overrides the caller), or for
 * "auto" the best one: Vulkan when a hardware device exists, else the CPU,
 * with the reason in *ret_why. */
static const struct backend_ops *backend_pick(const char *name, bool *ret_auto, char *why, size_t whysz, char *err,
                                              size_t errsz) {
        const char *env = getenv("UNICORN_BACKEND");

        if (env && *env)
                name = env;
        *ret_auto = !name || streq(name, "auto");
        if (*ret_auto) {
#if UNICORN_HAVE_VULKAN
                if (vulkan_backend_preferred(why, whysz))
                        return &vulkan_backend_ops;
#else
                snprintf(why, whysz, "built without Vulkan");
#endif
                return &cpu_backend_ops;
        }
        if (streq(name, "cpu"))
                return &cpu_backend_ops;
#if UNICORN_HAVE_VULKAN
        if (streq(name, "vulkan"))
                return &vulkan_backend_ops;
#endif
        set_error(err, errsz, "backend '%s' is not available (available: " BACKENDS ")", name);
        return NULL;
}

static int model_finish_load(GgufFile *f, const struct model_load_options *o, Model **ret, char *err,
                             size_t errsz) {
        _cleanup_(model_unrefp) Model *m = NULL;
        char why[160] = "";
        bool is_auto;
        int r;

        r = model_prepare(f, &m, err, errsz);
        if (r < 0)
                return r;
        m->n_threads = o ? o->n_threads : 0;
        m->exact_activations = o && o->exact_activations;
        m->weight_alloc = o ? o->weight_allocator : NULL;
        if (m->weight_alloc) {
                /* Only a backend that keeps imported weights fills these in. */
                m->weight_alloc->n_imported = 0;
                m->weight_alloc->imported_bytes = 0;
        }
        m->backend = backend_pick(o ? o->backend : NULL, &is_auto, why, sizeof why, err, errsz);
        if (!m->backend)
                return -ENODEV;
        r = m->backend->model_init(m, &m->backend_state, err, errsz);
        if (r < 0 && is_auto && m->backend != &cpu_backend_ops) {
                /* Vulkan could not take this model: fall back, and say why. */
                snprintf(why, sizeof why, "%s", err);
                m->backend = &cpu_backend_ops;
                r = m->backend->model_init(m, &m->backend_state, err, errsz);
        }
        /* The allocator is the caller's and lives only as long as this call. */
        m->weight_alloc = NULL;
        if (r < 0) {
                m->backend = NULL;
                return r;
        }
        if (is_auto && m->backend == &cpu_backend_ops && why[0]) {
                size_t l = strlen(m->backend_desc);
                snprintf(m->backend_desc + l, sizeof m->backend_desc - l, " [Vulkan not used: %s]", why);
        }
        *ret = TAKE_PTR(m);
        return 0;
}

int model_load(const char *path, const struct model_load_options *o, Model **ret, char *err, size_t errsz) {
        GgufFile *f;
        int r;

        r = gguf_open(path, &f, err, errsz);
        if (r < 0)
                return r;
        return model_finish_load(f, o, ret, err, errsz);
}

int model_load_fd(int fd, const struct model_load_options *o, Model **ret, char *err, size_t errsz) {
        GgufFile *f;
        int r;

        r = gguf_open_fd(fd, &f, err, errsz);
        if (r < 0)
                return r;
        return model_finish_load(f, o, ret, err, errsz);
}

int model_check_fd(int fd, struct model_info *ret_info, char *err, size_t errsz) {
        _cleanup_(model_unrefp) Model *m = NULL;
        GgufFile *f;
        int r;

        r = gguf_open_fd(fd, &f, err, errsz);
        if (r < 0)
                return r;
        r = model_prepare(f, &m, err, errsz);
        if (r < 0)
                return r;
        if (ret_info) {
                /* The strings point into m, which goes away: the caller gets numbers only. */
                *ret_info = m->info;
                ret_info->arch = ret_info->name = ret_info->file_type = NULL;
        }
        return 0;
}

const struct model_info *model_get_info(const Model *m) {
        return &m->info;
}

const Tokenizer *model_tokenizer(const Model *m) {
        return m->tokenizer;
}

const ChatTemplate *model_chat_template(const Model *m) {
        return &m->chat;
}

const char *model_backend_name(const Model *m) {
        return m->backend_desc;
}

int model_tokenize_chat(const Model *m, const struct chat_message *msgs, size_t n, int32_t **ret_ids,
                        size_t *ret_n, char *err, size_t errsz) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = chat_template_apply(&m->chat, msgs, n, true, &text);
        if (r < 0) {
                set_error(err, errsz, r == -EINVAL ? "conversation is empty or has a role other than "
                                                     "system, user or assistant"
                                                   : "cannot render the conversation");
                return r;
        }
        r = tokenizer_encode(m->tokenizer, text, strlen(text), tokenizer_add_bos(m->tokenizer), true, ret_ids,
                             ret_n);
        if (r < 0)
                set_error(err, errsz, "cannot tokenize the conversation");
        return r;
}

int model_tokenize_text(const Model *m, const char *text, int32_t **ret_ids, size_t *ret_n, char *err,
                        size_t errsz) {
        int r;

        r = tokenizer_encode(m->tokenizer, text, strlen(text), tokenizer_add_bos(m->tokenizer), false, ret_ids,
                             ret_n);
        if (r < 0)
                set_error(err, errsz, "cannot tokenize the prompt");
        return r;
}
