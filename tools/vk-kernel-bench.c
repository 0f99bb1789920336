/* SPDX-License-Identifier: MIT */
/*
 * vk-kernel-bench: GPU time of single Vulkan kernels at real model shapes,
 * to tell kernel speed from per-dispatch overhead (unicorn-bench times a
 * whole step). Each case records R dispatches into one command buffer,
 * separated by the same compute barrier a forward step uses, and reads two
 * GPU timestamps around them. Weight matrices rotate over enough copies that
 * the set is several times the GPU's L2 cache, so each dispatch reads its
 * weights from device memory as in a real step.
 *
 *   vk-kernel-bench [-r REPS] CASE...
 *   CASE: empty | empty-nobarrier | norm:E | quantx:K | attn:HEADS,KVHEADS,HEADDIM,LEN
 *         attnpf:HEADS,KVHEADS,HEADDIM,TOKENS[,P0[,WINDOW,RING]] (prefill attention, causal, at
 *         positions P0..; a sliding window over a ring of RING slots, as Gemma 3's sliding layers)
 *         mv:TYPE:N:K | mvq:TYPE:N:K | mvs:TYPE:N:K | glu:TYPE:N:K | gluq:TYPE:N:K |
 *         glus:TYPE:N:K | glusq:TYPE:N:K | mm:TYPE:N:K:T | gridsync:MIB_A,MIB_B[,WORKGROUPS]
 *   TYPE: q4_0 q8_0 q4_k q6_k ... (mv/glu: float activations; mvq/gluq: 8-bit;
 *         mvs/glus: the staged 8-bit forms, RMS-norming the float row themselves;
 *         glusq: glus writing its output as an 8-bit row too (built under UNICORN_VK_GLU_Q8=1);
 *         mm: the prefill product of T tokens;
 *         gridsync: an experiment, shaders/gridsync.comp: streaming MIB_A then MIB_B of memory as two
 *         dispatches with a barrier between, as one dispatch without a wait (the bound), one whose
 *         workgroups wait for each other between the two (a grid-wide barrier), and that with the
 *         first loads of B issued before the wait; WORKGROUPS default 2 per multiprocessor where
 *         the count is known, else 1)
 *
 * Prints per case: microseconds per dispatch (with its barrier) and, for the
 * mat-vecs, the weight bytes read per second; for mm, multiply-adds x 2 per
 * second. UNICORN_VK_* tuning variables
 * apply as in the engine; UNICORN_BENCH_SET_MB sizes the rotating set of weights (default 512).
 * Exit status: 0, 1 where a case failed, 77 where there is no Vulkan device.
 */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macros.h"
#include "quant.h"
#include "vk.h"

#define L2_DEFEAT_BYTES ((size_t) 512 << 20)
#define MAX_COPIES 256

static struct vk_device *d;
static struct vk_pipelines pl;
static struct vk_cmd cmd;
static VkQueryPool qp;

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rand32(void) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (uint32_t) (rng >> 16);
}

/* copies x n rows of k random weights of type t in the device layout, as the backend uploads them, in
 * one allocation (as the backend places weights in large chunks): *stride bytes apart. */
static int make_weights(enum ggml_type t, uint32_t n, uint32_t k, uint32_t copies, struct vk_buf *ret,
                        uint32_t *row_bytes, VkDeviceSize *stride) {
        size_t grb;
        int wt = vk_wtype(t);

        if (wt < 0 || quant_row_size(t, k, &grb) < 0)
                return -EINVAL;
        /* Quantize a few random rows for real, then tile them (quantizing GBs would take minutes). */
        const uint32_t distinct = 64;
        _cleanup_free_ float *f = malloc(sizeof(float) * k);
        _cleanup_free_ uint8_t *g = malloc(grb * distinct);
        size_t rb = vk_row_bytes((enum vk_wtype) wt, k, grb);
        _cleanup_free_ uint8_t *dev = malloc(rb * n);
        _cleanup_free_ uint8_t *rows = malloc(grb * n);
        if (!f || !g || !dev || !rows)
                return -ENOMEM;
        for (uint32_t r = 0; r < distinct; r++) {
                for (uint32_t i = 0; i < k; i++)
                        f[i] = (float) (rand32() % 2001) / 1000.0f - 1.0f;
                quantize_row(t, f, g + r * grb, k);
        }
        for (uint32_t r = 0; r < n; r++)
                memcpy(rows + (size_t) r * grb, g + (r % distinct) * grb, grb);
        vk_repack((enum vk_wtype) wt, rows, grb, k, n, dev);
        *stride = ALIGN_TO((VkDeviceSize) rb * n + 64, (VkDeviceSize) 256);
        int e = vk_buf_create(d, *stride * copies, VK_MEM_DEVICE, ret);
        for (uint32_t c = 0; c < copies && e >= 0; c++)
                e = vk_buf_write(d, ret, c * *stride, dev, rb * n);
        *row_bytes = (uint32_t) rb;
        return e;
}

static int begin(void) {
        int r = vk_cmd_begin(&cmd);
        if (r < 0)
                return r;
        cmd.x16_pad = true; /* the mm cases' x16 has the rows (bench_matvec) */
        vkCmdResetQueryPool(cmd.cb, qp, 0, 2);
        vkCmdWriteTimestamp(cmd.cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, qp, 0);
        return 0;
}

/* GPU microseconds between begin() and now, after the submit. */
static double end_us(void) {
        uint64_t ts[2];

        vkCmdWriteTimestamp(cmd.cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, qp, 1);
        if (vk_cmd_submit_wait(&cmd) < 0 ||
            vkGetQueryPoolResults(d->dev, qp, 0, 2, sizeof ts, ts, 8, VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT) !=
                    VK_SUCCESS)
                return -1;
        return (double) (ts[1] - ts[0]) * d->props.limits.timestampPeriod / 1e3;
}

static enum ggml_type parse_type(const char *s) {
        for (uint32_t t = 0; t < 64; t++) {
                const char *n = quant_type_name(t);
                if (n && strcasecmp(n, s) == 0)
                        return (enum ggml_type) t;
        }
        return (enum ggml_type) -1;
}

/* Whether a case runs another pass: at least 2, then until 300 ms of GPU time went by, at most 100; the
 * last pass is the one reported. An idle GPU runs its first milliseconds at low clocks (2-4x slower on
 * an idle H200). Every kind of case warms up this way. It is not shown to be enough on a fresh H100: the
 * first case of a call's first process read 3-4x slow there with it (run145.sh, a product: 1,336 us
 * for 429) and with 2 passes (run149.sh, a prefill attention case: 1,317 us for run147.sh's 332). */
static bool more_passes(int pass, double warm_us) {
        return pass < 2 || (pass < 100 && warm_us >= 0 && warm_us < 3e5); /* < 0: a pass failed */
}

static int bench_matvec(const char *kind, const char *spec, int reps) {
        char tname[16];
        uint32_t n, k, nt = 1;
        bool gsq = streq(kind, "glusq");
        bool q8 = kind[strlen(kind) - 1] == 'q' && !gsq, glu = strncmp(kind, "glu", 3) == 0, mm = streq(kind, "mm");
        bool staged = kind[strlen(kind) - 1] == 's' || gsq;

        /* T only for mm: a mat-vec case with tokens would time the tiled product as a mat-vec. */
        if (sscanf(spec, "%15[^:]:%u:%u:%u", tname, &n, &k, &nt) != 3 + mm || n == 0 || k == 0 || k % 32 ||
            k > (1u << 20) || nt == 0 || nt > 8192) {
                fprintf(stderr, "bad case %s:%s\n", kind, spec);
                return -EINVAL;
        }
        enum ggml_type t = parse_type(tname);
        int wt = vk_wtype(t);
        if (wt < 0) {
                fprintf(stderr, "unknown type %s\n", tname);
                return -EINVAL;
        }
        size_t grb;
        quant_row_size(t, k, &grb);
        size_t mbytes = vk_row_bytes((enum vk_wtype) wt, k, grb) * n;
        /* UNICORN_BENCH_SET_MB: the rotating set's size instead (a whole model's spread of pages). */
        size_t set = L2_DEFEAT_BYTES;
        const char *e = getenv("UNICORN_BENCH_SET_MB");
        if (e && atoi(e) > 0)
                set = (size_t) atoi(e) << 20;
        uint32_t copies = (uint32_t) MIN((size_t) MAX_COPIES, MAX((size_t) (glu ? 1 : 2), DIV_ROUND_UP(set, mbytes)));
        if (glu && copies % 2)
                copies++;
        struct vk_buf wall = {}, x = {}, xq = {}, y = {}, x16 = {};
        /* The matrix-core products take their activations as f16. */
        bool use16 = mm && vk_op_matmul_reads_x16(&cmd, (enum vk_wtype) wt, nt);
        VkDeviceAddress w[MAX_COPIES + 1];
        VkDeviceSize stride = 0;
        uint32_t rb = 0;
        int r = make_weights(t, n, k, copies, &wall, &rb, &stride);

        for (uint32_t i = 0; i < copies; i++)
                w[i] = wall.addr + i * stride;
        _cleanup_free_ float *xf = malloc(sizeof(float) * k * nt);
        if (r >= 0 && xf) {
                for (uint32_t i = 0; i < k * nt; i++)
                        xf[i] = (float) (rand32() % 2001) / 1000.0f - 1.0f;
                if ((r = vk_buf_create(d, (size_t) k * 4 * nt, VK_MEM_DEVICE, &x)) >= 0 &&
                    (r = vk_buf_write(d, &x, 0, xf, (size_t) k * 4 * nt)) >= 0 &&
                    (r = vk_buf_create(d, MAX(vk_q8_row_bytes(k), vk_q8_row_bytes(n / 32 * 32)), VK_MEM_DEVICE,
                                       &xq)) >= 0 &&
                    (r = vk_buf_create(d, (size_t) n * 4 * nt, VK_MEM_DEVICE, &y)) >= 0 &&
                    /* rows to a multiple of 256 (zeros past nt), as a step's are (MM_XPAD) */
                    (!use16 || (r = vk_buf_create(d, (size_t) k * 2 * ALIGN_TO(nt, 256), VK_MEM_DEVICE, &x16)) >= 0) &&
                    (!use16 || (r = vk_buf_fill0(d, &x16)) >= 0)) {
                        /* The 8-bit row from the quantx kernel, as a step makes it; the f16 rows. */
                        if ((r = begin()) >= 0) {
                                vk_op_quantx(&cmd, x.addr, k, k, 1, xq.addr);
                                if (use16)
                                        vk_op_cvt16(&cmd, x.addr, k, k, nt, x16.addr, k);
                                r = end_us() < 0 ? -EIO : 0;
                        }
                }
        } else if (r >= 0)
                r = -ENOMEM;
        double us = -1;
        bool ok = true;
        double warm = 0;
        for (int pass = 0; r >= 0 && more_passes(pass, warm); pass++) {
                begin();
                for (int i = 0; i < reps; i++) {
                        uint32_t c = glu ? (uint32_t) (2 * i) % copies : (uint32_t) i % copies;
                        /* The float row is its own norm weights here: any row of k floats will do. */
                        struct vk_xrow xr = { .x = x.addr, .g = x.addr, .eps = 1e-6f, .norm = true };
                        if (gsq) /* xq is free here: the 8-bit output goes there */
                                ok = vk_op_matvec_glu_q8s_q(&cmd, (enum vk_wtype) wt, w[c], w[c + 1], rb, k, n, &xr,
                                                            y.addr, xq.addr, ACT_SILU);
                        else if (glu && staged)
                                ok = vk_op_matvec_glu_q8s(&cmd, (enum vk_wtype) wt, w[c], w[c + 1], rb, k, n, &xr,
                                                          y.addr, ACT_SILU);
                        else if (staged)
                                ok = vk_op_matvec_q8s(&cmd, (enum vk_wtype) wt, w[c], rb, k, n, &xr, y.addr, false);
                        else if (glu && q8)
                                ok = vk_op_matvec_glu_q8(&cmd, (enum vk_wtype) wt, w[c], w[c + 1], rb, k, n,
                                                         xq.addr, y.addr, ACT_SILU);
                        else if (glu)
                                ok = vk_op_matvec_glu(&cmd, (enum vk_wtype) wt, w[c], w[c + 1], rb, k, n,
                                                      x.addr, 1, y.addr, ACT_SILU);
                        else if (q8)
                                ok = vk_op_matvec_q8(&cmd, (enum vk_wtype) wt, w[c], rb, k, n, xq.addr, y.addr,
                                                     false);
                        else
                                vk_op_matmul(&cmd, (enum vk_wtype) wt, w[c], rb, k, n, x.addr, x16.addr, k, nt,
                                             y.addr, n, 0, false);
                        if (!ok)
                                break;
                        vk_cmd_barrier(&cmd);
                }
                us = end_us();
                warm += us;
                us /= reps;
        }
        if (r >= 0 && !ok)
                printf("%-6s %-6s n=%-6u k=%-6u  no such kernel on this device/build\n", kind, tname, n, k);
        else if (r >= 0 && mm)
                printf("%-6s %-6s n=%-6u k=%-6u t=%-5u %9.2f us  %7.1f TFLOP/s\n", kind, tname, n, k, nt, us,
                       2.0 * n * k * nt / (us * 1e6));
        else if (r >= 0) {
                double bytes = (double) mbytes * (glu ? 2 : 1);
                printf("%-6s %-6s n=%-6u k=%-6u %9.2f us  %7.1f GB/s  (%.1f MiB, %u copies)\n", kind, tname, n, k, us,
                       bytes / (us * 1e3), bytes / (1 << 20), copies);
        } else
                fprintf(stderr, "%s:%s failed: %s\n", kind, spec, strerror(-r));
        vk_buf_destroy(d, &wall);
        vk_buf_destroy(d, &x);
        vk_buf_destroy(d, &xq);
        vk_buf_destroy(d, &x16);
        vk_buf_destroy(d, &y);
        return r;
}

static int bench_small(const char *kind, const char *spec, int reps) {
        struct vk_buf a = {}, b = {}, q = {}, part = {};
        uint32_t e = 0, nh = 0, nkv = 0, hd = 0, len = 0;
        int r;

        if (streq(kind, "norm") || streq(kind, "quantx"))
                e = (uint32_t) atoi(spec);
        else if (streq(kind, "attn") && sscanf(spec, "%u,%u,%u,%u", &nh, &nkv, &hd, &len) == 4 && nh && nkv &&
                 nh % nkv == 0 && hd % 32 == 0 && hd <= 512 && len)
                e = nh * hd;
        else if (strncmp(kind, "empty", 5) == 0)
                e = 32;
        if (e == 0 || e % 32) {
                fprintf(stderr, "bad case %s:%s\n", kind, spec ? spec : "");
                return -EINVAL;
        }
        size_t kv = (size_t) len * nkv * hd * 4;
        if ((r = vk_buf_create(d, MAX((size_t) e * 4 * 3, kv), VK_MEM_DEVICE, &a)) < 0 ||
            (r = vk_buf_create(d, MAX((size_t) e * 4 * 3, kv), VK_MEM_DEVICE, &b)) < 0 ||
            (r = vk_buf_create(d, vk_q8_row_bytes(e) + 4096, VK_MEM_DEVICE, &q)) < 0 ||
            /* q, the output, then the split-K counters and partials */
            (r = vk_buf_create(d, (size_t) (nh * hd + 64) * 4 * 2 + ATTN_CNT_BYTES(nh) +
                                          (size_t) nh * VK_ATTN_MAX_SPLIT * (hd + 2) * 4,
                               VK_MEM_DEVICE, &part)) < 0 ||
            (r = vk_buf_fill0(d, &a)) < 0 || (r = vk_buf_fill0(d, &b)) < 0 || (r = vk_buf_fill0(d, &part)) < 0)
                goto out;
        /* attention: one token at position len - 1 of sequence 0, slot len - 1. */
        int32_t info[4] = { (int32_t) len - 1, 0, (int32_t) len - 1, (int32_t) len - 1 };
        if (len && (r = vk_buf_write(d, &q, vk_q8_row_bytes(e), info, sizeof info)) < 0)
                goto out;
        uint32_t chunk, split = vk_attn_split(len, 16, &chunk);
        char err[256] = "";
        /* The model's decode kernel for these heads (attn_dec.comp where it suits them). */
        if (nh && (r = vk_pipeline_attn(d, &pl, hd, hd, nh / nkv, err, sizeof err)) < 0) {
                fprintf(stderr, "attn: %s\n", err);
                goto out;
        }
        double us = -1, warm = 0;
        for (int pass = 0; more_passes(pass, warm); pass++) {
                begin();
                for (int i = 0; i < reps; i++) {
                        if (strncmp(kind, "empty", 5) == 0)
                                vk_op_quantx(&cmd, a.addr, e, e, 1, q.addr);
                        else if (streq(kind, "quantx"))
                                vk_op_quantx(&cmd, a.addr, e, e, 1, q.addr);
                        else if (streq(kind, "norm"))
                                vk_op_norm(&cmd, &(struct pc_norm) { .x = a.addr, .w = b.addr, .dst = b.addr + e * 4,
                                                                     .q8 = q.addr, .n = e, .rows = 1,
                                                                     .flags = NORM_OUT | NORM_W | NORM_Q8, .eps = 1e-6f });
                        else
                                vk_op_attn(&cmd, &(struct pc_attn) {
                                        .q = part.addr, .kc = a.addr, .vc = b.addr, .dst = part.addr + nh * hd * 4,
                                        .tok = q.addr + vk_q8_row_bytes(e), .n_head = nh, .n_head_kv = nkv,
                                        .head_dim = hd, .head_dim_v = hd, .ldq = nh * hd, .ring = len, .nt = 1,
                                        .scale = 0.1f, .chunk = chunk }, split, part.addr + (nh * hd + 64) * 4 * 2);
                        if (!streq(kind, "empty-nobarrier"))
                                vk_cmd_barrier(&cmd);
                }
                us = end_us();
                warm += us;
                us /= reps;
        }
        if (nh)
                printf("%-16s %-14s %9.2f us  (%s %u, clusters of %u, %u splits)\n", kind, spec, us,
                       pl.attn_dec_d == hd ? "attn_dec, heads a workgroup" : "attn, heads a workgroup",
                       pl.attn_dec_d == hd ? pl.attn_dec_g : 1, pl.attn_dec_c, split);
        else
                printf("%-16s %-14s %9.2f us\n", kind, spec ? spec : "", us);
out:
        vk_buf_destroy(d, &a);
        vk_buf_destroy(d, &b);
        vk_buf_destroy(d, &q);
        vk_buf_destroy(d, &part);
        return r;
}

/* gridsync:MIB_A,MIB_B[,WORKGROUPS] (see the top): is a grid-wide barrier inside one dispatch cheaper
 * than a dispatch boundary, and does issuing the next phase's loads before it hide the boundary's
 * drain and ramp? A and B rotate over a set several times the L2 cache. */
static int bench_gridsync(const char *spec, int reps) {
        static const char *const modes[] = { "two dispatches", "one, no wait", "one, grid wait",
                                             "one, wait, B early" };
        struct vk_buf w = {}, sync = {};
        unsigned mba = 0, mbb = 0, g = d->sm_count ? 2 * d->sm_count : 1;
        char err[256] = "";
        int r;

        if (!spec || sscanf(spec, "%u,%u,%u", &mba, &mbb, &g) < 2 || !mba || !mbb || mba > 1024 || mbb > 1024 ||
            !g || g > 65535) {
                fprintf(stderr, "bad case gridsync:%s\n", spec ? spec : "");
                return -EINVAL;
        }
        if ((r = vk_pipeline_gridsync(d, &pl, err, sizeof err)) < 0) {
                fprintf(stderr, "gridsync: %s\n", err);
                return r;
        }
        size_t pair = ((size_t) mba + mbb) << 20, copies = MAX((size_t) 2, DIV_ROUND_UP(L2_DEFEAT_BYTES, pair));
        if ((r = vk_buf_create(d, pair * copies, VK_MEM_DEVICE, &w)) < 0 ||
            (r = vk_buf_create(d, 4096 + (size_t) g * 256 * 4, VK_MEM_DEVICE, &sync)) < 0 ||
            (r = vk_buf_fill0(d, &w)) < 0)
                goto out;
        printf("%-16s %-14s %u workgroups\n", "gridsync", spec, g);
        for (int mode = 0; mode < 4; mode++) {
                double us = -1;
                uint32_t flags = mode == 3 ? 1 : mode < 2 ? 2 : 0, gave_up = 0;
                for (int pass = 0; pass < 2; pass++) {
                        if ((r = vk_buf_fill0(d, &sync)) < 0 || (r = begin()) < 0)
                                goto out;
                        for (int i = 0; i < reps; i++) {
                                VkDeviceAddress a = w.addr + (i % copies) * pair, b = a + ((size_t) mba << 20);
                                struct pc_mm pc = { .w = a, .x = b, .y = sync.addr, .k = mba << 16, .n = mbb << 16,
                                                    .nt = g, .ldx = (uint32_t) i, .flags = flags };
                                if (mode == 0) {
                                        /* each phase its own dispatch: A, barrier, B */
                                        struct pc_mm pa = pc, pb = pc;
                                        pa.n = 0;
                                        pb.k = 0;
                                        vk_cmd_dispatch(&cmd, VK_P_GRIDSYNC, &pa, sizeof pa, g, 1, 1);
                                        vk_cmd_barrier(&cmd);
                                        vk_cmd_dispatch(&cmd, VK_P_GRIDSYNC, &pb, sizeof pb, g, 1, 1);
                                } else
                                        vk_cmd_dispatch(&cmd, VK_P_GRIDSYNC, &pc, sizeof pc, g, 1, 1);
                                vk_cmd_barrier(&cmd);
                        }
                        us = end_us() / reps;
                        if ((r = vk_buf_read(d, &sync, 4, &gave_up, 4)) < 0)
                                goto out;
                }
                /* A spin that gave up means the workgroups were not all resident; a stale neighbour's
                 * write, that the wait did not order memory: either way the figure is void. */
                printf("  %-20s %9.2f us  %6.0f GB/s%s%s\n", modes[mode], us,
                       us > 0 ? (double) pair / (us * 1e3) : 0.0, gave_up & 1 ? "  (a wait gave up: void)" : "",
                       gave_up & 2 ? "  (a wait did not order memory: void)" : "");
                if (gave_up)
                        r = -ETIMEDOUT;
        }
out:
        vk_buf_destroy(d, &w);
        vk_buf_destroy(d, &sync);
        return r;
}

/* Prefill attention of nt tokens at positions p0..p0+nt-1 of sequence 0 (causal, p0 0 unless given:
 * earlier context, as in a later chunk of a long prompt; no window unless given, and then over a ring of
 * the given slots, which wraps where the step's positions pass its end): attn_cm2.comp where asked for
 * (UNICORN_VK_ATTN_CM2=1, UNICORN_VK_ATTN_CM2_SHAPE), else attn_cm.comp
 * where the device and the head take it (UNICORN_VK_ATTN_CM, UNICORN_VK_ATTN_CM_SHAPE), else
 * attn_pf.comp. Cache and queries hold small random values. */
static int bench_attn_prefill(const char *spec, int reps) {
        struct vk_buf q = {}, kc = {}, vc = {}, o = {}, tok = {}, part = {};
        uint32_t nh = 0, nkv = 0, hd = 0, nt = 0, p0 = 0, window = 0, ring = 0;
        char err[256] = "";
        int r, nf = spec ? sscanf(spec, "%u,%u,%u,%u,%u,%u,%u", &nh, &nkv, &hd, &nt, &p0, &window, &ring) : 0;

        /* A ring must hold what the step sees: the window's positions before its first token and its own. */
        if ((nf != 4 && nf != 5 && nf != 7) || !nh || !nkv || nh % nkv || hd % 16 || !hd || hd > 256 || !nt ||
            nt > 65536 || p0 > 65536 || nh > 256 || window > 65536 || ring > 131072 ||
            (nf == 7 && (!window || ring < window + nt - 1))) {
                fprintf(stderr, "bad case attnpf:%s\n", spec ? spec : "");
                return -EINVAL;
        }
        if ((r = vk_pipeline_attn(d, &pl, hd, hd, 1, err, sizeof err)) < 0) {
                fprintf(stderr, "attnpf: %s\n", err);
                return r;
        }
        if (nf < 7)
                ring = p0 + nt;
        size_t ldq = (size_t) (nh + 2 * nkv) * hd, qn = nt * ldq, kvn = (size_t) ring * nkv * hd, on = (size_t) nt * nh * hd;
        _cleanup_free_ float *h = newa(float, MAX(qn, kvn));
        _cleanup_free_ int32_t *ti = newa(int32_t, (size_t) nt * 4);
        if (!h || !ti)
                return -ENOMEM;
        for (size_t i = 0; i < MAX(qn, kvn); i++)
                h[i] = (float) ((int) (rand32() % 2001) - 1000) / 1000.0f;
        /* The cache as the model's pipelines have it: f16 rows (pl.kv16) or f32. */
        size_t es = pl.kv16 ? 2 : 4;
        _cleanup_free_ uint16_t *h16 = pl.kv16 ? newa(uint16_t, kvn) : NULL;
        if (pl.kv16 && !h16)
                return -ENOMEM;
        for (size_t i = 0; pl.kv16 && i < kvn; i++)
                h16[i] = fp32_to_fp16(h[i]);
        const void *kvh = pl.kv16 ? (const void *) h16 : h;
        for (uint32_t t = 0; t < nt; t++) {
                ti[4 * t] = (int32_t) (p0 + t);
                ti[4 * t + 1] = ti[4 * t + 2] = ti[4 * t + 3] = 0;
        }
        double us = -1;
        if ((r = vk_buf_create(d, qn * 4, VK_MEM_DEVICE, &q)) < 0 || (r = vk_buf_create(d, kvn * es, VK_MEM_DEVICE, &kc)) < 0 ||
            (r = vk_buf_create(d, kvn * es, VK_MEM_DEVICE, &vc)) < 0 || (r = vk_buf_create(d, on * 4, VK_MEM_DEVICE, &o)) < 0 ||
            (r = vk_buf_create(d, (size_t) nt * 16, VK_MEM_DEVICE, &tok)) < 0 ||
            /* split-K scratch as the backend has it */
            (r = vk_buf_create(d, vk_attn_pf_part_bytes(nt, nh, hd), VK_MEM_DEVICE, &part)) < 0 ||
            (r = vk_buf_fill0(d, &part)) < 0 || (r = vk_buf_write(d, &q, 0, h, qn * 4)) < 0 || (r = vk_buf_write(d, &kc, 0, kvh, kvn * es)) < 0 ||
            (r = vk_buf_write(d, &vc, 0, kvh, kvn * es)) < 0 || (r = vk_buf_write(d, &tok, 0, ti, (size_t) nt * 16)) < 0)
                goto out;
        struct pc_attn pa = {
                .q = q.addr, .kc = kc.addr, .vc = vc.addr, .dst = o.addr, .tok = tok.addr, .n_head = nh, .n_head_kv = nkv,
                .head_dim = hd, .head_dim_v = hd, .ldq = (uint32_t) ldq, .ring = ring, .window = window, .nt = nt,
                .scale = 1.0f / sqrtf((float) hd),
        };
        double warm = 0;
        for (int pass = 0; more_passes(pass, warm); pass++) {
                begin();
                for (int i = 0; i < reps; i++) {
                        vk_op_attn_prefill(&cmd, &pa, 0, (int32_t) p0, part.addr, nt);
                        vk_cmd_barrier(&cmd);
                }
                us = end_us();
                warm += us;
                us /= reps;
        }
        /* q k and p v products, each query over the positions it sees (p0 + its index + 1, at most the
         * window): 2 x 2 x heads x dims x those */
        double seen = 0;
        for (uint32_t t = 0; t < nt; t++)
                seen += window ? MIN(p0 + t + 1.0, (double) window) : p0 + t + 1.0;
        uint32_t chunk, n_split = pl.p[VK_P_ATTN_CM] ? vk_attn_pf_split(&cmd, &pa, (int32_t) p0, &chunk) : 1;
        printf("%-16s %-18s %9.2f us  %7.1f TFLOP/s  (%s, %u splits)\n", "attnpf", spec, us,
               4.0 * nh * hd * seen / (us * 1e6),
               vk_attn_cm2_ok(&cmd, &pa, (int32_t) p0) ? "attn_cm2" : pl.p[VK_P_ATTN_CM] ? "attn_cm" : "attn_pf",
               n_split);
out:
        vk_buf_destroy(d, &q);
        vk_buf_destroy(d, &kc);
        vk_buf_destroy(d, &vc);
        vk_buf_destroy(d, &o);
        vk_buf_destroy(d, &tok);
        vk_buf_destroy(d, &part);
        return r;
}

int main(int argc, char **argv) {
        char err[256] = "";
        int reps = 200, r, opt, fails = 0;

        while ((opt = getopt(argc, argv, "r:h")) != -1) {
                if (opt == 'r')
                        reps = MAX(1, atoi(optarg));
                else {
                        fprintf(stderr, "usage: vk-kernel-bench [-r REPS] CASE...\n");
                        return 2;
                }
        }
        /* Only the cases' weight types: a cold NVIDIA compile of every type's matrix-core pipelines takes
         * tens of seconds. */
        uint32_t wtypes = 0;
        for (int i = optind; i < argc; i++) {
                char tname[16];
                int wt;
                if (sscanf(argv[i], "%*[^:]:%15[^:]", tname) == 1 && (wt = vk_wtype(parse_type(tname))) >= 0)
                        wtypes |= 1u << wt;
        }
        if ((r = vk_device_acquire(&d, err, sizeof err)) < 0 ||
            (r = vk_pipelines_create(d, &pl, wtypes, 0, 0, 0, true, err, sizeof err)) < 0 ||
            (r = vk_cmd_init(d, &pl, &cmd)) < 0) {
                fprintf(stderr, "vk-kernel-bench: %s\n", *err ? err : strerror(-r));
                /* 77: no device, the test harnesses' "skipped" (tools/meson.build runs it as a test) */
                return r == -ENODEV && !d ? 77 : 1;
        }
        VkQueryPoolCreateInfo qi = { .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                     .queryType = VK_QUERY_TYPE_TIMESTAMP, .queryCount = 2 };
        if (vkCreateQueryPool(d->dev, &qi, NULL, &qp) != VK_SUCCESS)
                return 1;
        printf("device: %s; q8 %d coopmat %d coopmat2 %d (BN %u, BK %u, %s sums, %u multiprocessors for the "
               "wide tile); %d dispatches a case\n",
               d->desc, pl.q8, pl.coopmat, pl.coopmat2, pl.cm2_bn, pl.cm2_bk, pl.cm2_acc16 ? "f16" : "f32", pl.cm2_sms,
               reps);
        if (pl.coopmat)
                for (int i = 0; i < 2; i++)
                        printf("coopmat tile %d: %ux%u, %ux%u a subgroup of %u, %ux%ux%u products, BK %u, %u buffers, "
                               "%u invocations (device shared memory %u B)\n",
                               i, pl.cm_tile[i].bm, pl.cm_tile[i].bn, pl.cm_tile[i].wm, pl.cm_tile[i].wn,
                               pl.cm_tile[i].sg, pl.cm_tile[i].ms, pl.cm_tile[i].ms, pl.cm_tile[i].ms, pl.cm_tile[i].bk,
                               pl.cm_tile[i].nbuf, pl.cm_tile[i].nt, d->props.limits.maxComputeSharedMemorySize);
        /* The tests' switch (tools/meson.build): fail where the matrix kernels are not there to run. */
        const char *want_cm = getenv("UNICORN_TEST_COOPMAT");
        if (want_cm && streq(want_cm, "1") && !pl.coopmat) {
                fprintf(stderr, "UNICORN_TEST_COOPMAT=1, but no cooperative matrices: %s\n",
                        d->coopmat ? "not built" : d->coopmat_why);
                return 1;
        }
        for (int i = optind; i < argc; i++) {
                char kind[32];
                const char *colon = strchr(argv[i], ':');
                size_t kl = colon ? (size_t) (colon - argv[i]) : strlen(argv[i]);
                snprintf(kind, sizeof kind, "%.*s", (int) MIN(kl, sizeof kind - 1), argv[i]);
                const char *spec = colon ? colon + 1 : NULL;
                if (streq(kind, "mv") || streq(kind, "mvq") || streq(kind, "glu") || streq(kind, "gluq") ||
                    streq(kind, "mvs") || streq(kind, "glus") || streq(kind, "glusq") ||
                    streq(kind, "mm"))
                        r = spec ? bench_matvec(kind, spec, reps) : -EINVAL;
                else if (streq(kind, "attnpf"))
                        r = bench_attn_prefill(spec, reps);
                else if (streq(kind, "gridsync"))
                        r = bench_gridsync(spec, reps);
                else
                        r = bench_small(kind, spec, reps);
                fails += r < 0;
                fflush(stdout);
        }
        vkDestroyQueryPool(d->dev, qp, NULL);
        vk_cmd_free(&cmd);
        vk_pipelines_destroy(d, &pl);
        vk_device_release(d);
        return fails ? 1 : 0;
}
