/* SPDX-License-Identifier: MIT */
/*
 * Vulkan kernels against the CPU reference (quant.h dequantize_row + double
 * dot products), for every weight type the engine supports:
 *  - matmul: mat-vec (nt <= 8) and tiled (nt > 8) paths, odd row counts,
 *    rows not a multiple of the tiles, k not a multiple of 256 where the
 *    block size allows, accumulate (residual) mode. Bound: NMSE 1e-10
 *    (float32 products, only the summation order differs).
 *  - get_rows (embedding lookup): bound NMSE 1e-12 (the same float products).
 *  - prefill attention on cooperative matrices (attn_cm.comp, where the
 *    device has them) against double-precision softmax attention: head
 *    sizes 16-256, grouped heads, partial query blocks, earlier context,
 *    a sliding window over a wrapped ring whose other slots hold NaN.
 *    Bound: NMSE 1e-5 (q, k, v and the weights rounded to f16).
 * The rest of the forward pass (norms, RoPE, QK-norm, the other attention
 * kernels, gates) is checked through whole models in test-vk-models.c.
 * Skipped (77) without a Vulkan device.
 */

#include <errno.h>
#include <math.h>

#include "macros.h"
#include "ops-helpers.h"
#include "quant.h"
#include "test-helpers.h"
#include "vk.h"

static const enum ggml_type types[] = {
        GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0,
        GGML_TYPE_Q5_1, GGML_TYPE_Q8_0, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K,
};

static uint64_t rng = 88172645463325252ull;
static float frand(void) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (float) ((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static double nmse(const float *a, const double *ref, size_t n) {
        double num = 0, den = 0;
        for (size_t i = 0; i < n; i++) {
                num += (a[i] - ref[i]) * (a[i] - ref[i]);
                den += ref[i] * ref[i];
        }
        return den > 0 ? num / den : num;
}

static struct vk_device *d;
static struct vk_pipelines pl;
static struct vk_cmd cmd;
static int n_cm; /* cooperative-matrix cases run */
static int n_split, n_split_cm; /* split over k: the float kernel's cases, the NV kernel's */
static int n_tail_cm; /* the NV kernel's cases with a batch's tail apart (cm2_tail) */
static int n_staged;            /* staged 8-bit mat-vec cases */
static int n_split4;            /* 8-bit mat-vec cases in the four-group split form */
static int n_gluq;              /* of those, staged GLUs writing their 8-bit output (UNICORN_VK_GLU_Q8) */
static int n_q8n;               /* 8-bit mat-vec cases of several tokens (mv8n) */

/* The 8-bit activation row of shaders/include/q8.glsl, computed here as the kernels do; xd gets the
 * dequantized values (what the integer-dot mat-vec multiplies by). */
static void q8_row(const float *x, uint32_t k, uint8_t *q, float *xd) {
        for (uint32_t b = 0; b < k / 32; b++) {
                float amax = 0, d, id;
                int sum = 0;
                for (int i = 0; i < 32; i++)
                        amax = fmaxf(amax, fabsf(x[b * 32 + i]));
                d = amax / 127.0f;
                id = d > 0 ? 1.0f / d : 0;
                for (int i = 0; i < 32; i++) {
                        int v = (int) roundf(x[b * 32 + i] * id);
                        q[b * 32 + i] = (uint8_t) (int8_t) v;
                        sum += v;
                        xd[b * 32 + i] = (float) v * d;
                }
                float s[2] = { d, d * (float) sum };
                memcpy(q + k + b * 8, s, sizeof s);
        }
}

/* Device 8-bit row qd against q (q8_row's): a quant may be one off where x / d lands on a rounding
 * edge (the device's division is not correctly rounded), at most max_off of them; scales to 1e-5. */
static void check_q8_row(const uint8_t *q, const uint8_t *qd, uint32_t k, uint32_t max_off, const char *what) {
        uint32_t nq = 0;

        for (uint32_t i = 0; i < k; i++) {
                int a = (int8_t) q[i], b = (int8_t) qd[i];
                CHECK_MSG(abs(a - b) <= 1, "%s k=%u: quant %u is %d, expected %d", what, k, i, b, a);
                nq += a != b;
        }
        CHECK_MSG(nq <= max_off, "%s k=%u: %u quants off by one", what, k, nq);
        for (uint32_t b = 0; b < k / 32; b++) {
                float sd[2], sr[2];
                memcpy(sd, qd + k + b * 8, sizeof sd);
                memcpy(sr, q + k + b * 8, sizeof sr);
                CHECK_MSG(fabsf(sd[0] - sr[0]) <= 1e-5f * sr[0] && fabsf(sd[1] - sr[1]) <= 1e-4f * sr[0] * 32 * 127,
                          "%s k=%u block %u: scales (%g, %g), expected (%g, %g)", what, k, b, sd[0], sd[1], sr[0], sr[1]);
        }
}

/* The reference of the 8-bit mat-vec (or its GLU form) over the dequantized activations xd. */
static void q8_ref(const float *deq, const float *xd, uint32_t k, uint32_t n, bool glu, uint32_t op, double *ref) {
        for (uint32_t r = 0; r < n; r++) {
                double g = 0, u = 0;
                for (uint32_t i = 0; i < k; i++) {
                        g += (double) deq[(size_t) r * k + i] * xd[i];
                        if (glu)
                                u += (double) deq[(size_t) (n + r) * k + i] * xd[i];
                }
                if (glu) {
                        if (op == ACT_SILU)
                                g = g / (1 + exp(-g));
                        else
                                g = 0.5 * g * (1 + tanh(0.79788456080286535588 * (g + 0.044715 * g * g * g)));
                        g *= u;
                }
                ref[r] = g;
        }
}

/*
 * The one-token mat-vec on 8-bit activations (integer dot products): x quantized on the device by
 * the quantx kernel, checked against the quants computed here (a quant may differ by one where
 * x / d lands on a rounding edge: the device's division is not correctly rounded), then the product
 * against deq . xd in double. Bound: NMSE 1e-8 (float32 scale products; a rare off-by-one quant).
 * Then the staged forms, which quantize the float row themselves: plain (the same quants, so the
 * same reference), RMS-normed with weights g first (reference: the norm in double here, then
 * quantized; the device's sum of squares in float may move a quant at a rounding edge, as above),
 * and with Gemma's post-norm too (x + rmsnorm(t) * wt first, which the first workgroup also writes
 * out: checked to 1e-6).
 */
static void test_matvec_q8(enum ggml_type type, const float *deq, struct vk_buf *bw, uint32_t drb, uint32_t k,
                           uint32_t n, bool glu, uint32_t op) {
        uint32_t qrb = vk_q8_row_bytes(k);
        const float eps = 1e-6f;
        _cleanup_free_ float *x = new0(float, k), *xd = newa(float, k), *y = newa(float, n), *g = newa(float, k);
        _cleanup_free_ float *xn = newa(float, k), *xnd = newa(float, k), *t = newa(float, k), *wt = newa(float, k);
        _cleanup_free_ float *xp = newa(float, k), *xpd = newa(float, k);
        _cleanup_free_ uint8_t *q = new0(uint8_t, qrb), *qd = newa(uint8_t, qrb), *qn = newa(uint8_t, qrb);
        _cleanup_free_ double *ref = newa(double, n), *refn = newa(double, n), *refp = newa(double, n);
        struct vk_buf bx, bq, by, bg, bt, bwt, bxo;
        double ss = 0, st = 0, sp = 0;

        CHECK(x && xd && y && g && xn && xnd && t && wt && xp && xpd && q && qd && qn && ref && refn && refp);
        for (uint32_t i = 0; i < k; i++) {
                x[i] = frand() * (i % 7 == 0 ? 2.0f : 0.1f);
                g[i] = 1.0f + 0.5f * frand();
                t[i] = frand() * 3.0f;
                wt[i] = 0.5f + frand();
                ss += (double) x[i] * x[i];
                st += (double) t[i] * t[i];
        }
        double rinv = 1.0 / sqrt(ss / k + eps), rt = 1.0 / sqrt(st / k + eps);
        for (uint32_t i = 0; i < k; i++) {
                xn[i] = (float) (x[i] * rinv * g[i]);
                xp[i] = (float) (x[i] + t[i] * rt * wt[i]);
                sp += (double) xp[i] * xp[i];
        }
        double rp = 1.0 / sqrt(sp / k + eps);
        _cleanup_free_ float *xpn = newa(float, k);
        CHECK(xpn);
        for (uint32_t i = 0; i < k; i++)
                xpn[i] = (float) (xp[i] * rp * g[i]);
        q8_row(x, k, q, xd);
        q8_row(xn, k, qn, xnd);
        q8_ref(deq, xd, k, n, glu, op, ref);
        q8_ref(deq, xnd, k, n, glu, op, refn);
        q8_row(xpn, k, qn, xpd);
        q8_ref(deq, xpd, k, n, glu, op, refp);
        CHECK(vk_buf_create(d, (size_t) k * 4, VK_MEM_DEVICE, &bx) == 0);
        CHECK(vk_buf_create(d, (size_t) k * 4, VK_MEM_DEVICE, &bg) == 0);
        CHECK(vk_buf_create(d, (size_t) k * 4, VK_MEM_DEVICE, &bt) == 0);
        CHECK(vk_buf_create(d, (size_t) k * 4, VK_MEM_DEVICE, &bwt) == 0);
        CHECK(vk_buf_create(d, (size_t) k * 4, VK_MEM_DEVICE, &bxo) == 0);
        CHECK(vk_buf_write(d, &bt, 0, t, (size_t) k * 4) == 0);
        CHECK(vk_buf_write(d, &bwt, 0, wt, (size_t) k * 4) == 0);
        CHECK(vk_buf_create(d, qrb, VK_MEM_DEVICE, &bq) == 0);
        CHECK(vk_buf_create(d, (size_t) n * 4, VK_MEM_DEVICE, &by) == 0);
        CHECK(vk_buf_write(d, &bx, 0, x, (size_t) k * 4) == 0);
        CHECK(vk_buf_write(d, &bg, 0, g, (size_t) k * 4) == 0);
        /* The mat-vec in its three forms: a row per group of 32 lanes, shared by mv8_split groups, and by
         * mv8_split4_g groups (the forms of long rows, forced here at every size; the last only where
         * the type has it). */
        for (int split = 0; split < (glu ? 1 : 3); split++) {
                struct vk_pipelines p2 = pl;
                if (split == 2 && !pl.p[VK_P_MATVEC_Q8_SPLIT4 + vk_wtype(type)])
                        continue;
                p2.mv8_split_k = split ? 0 : UINT32_MAX;
                p2.mv8_split4_k = split == 2 ? 0 : UINT32_MAX;
                p2.mv8_split4_n = split == 2 ? 0 : UINT32_MAX;
                /* NaNs where a form leaves a row unwritten (by holds the form before's output). */
                for (uint32_t i = 0; i < n; i++)
                        y[i] = NAN;
                CHECK(vk_buf_write(d, &by, 0, y, (size_t) n * 4) == 0);
                cmd.pl = &p2;
                CHECK(vk_cmd_begin(&cmd) == 0);
                vk_op_quantx(&cmd, bx.addr, k, k, 1, bq.addr);
                vk_cmd_barrier(&cmd);
                if (glu)
                        CHECK(vk_op_matvec_glu_q8(&cmd, vk_wtype(type), bw->addr, bw->addr + (VkDeviceAddress) drb * n,
                                                  drb, k, n, bq.addr, by.addr, op));
                else
                        CHECK(vk_op_matvec_q8(&cmd, vk_wtype(type), bw->addr, drb, k, n, bq.addr, by.addr, false));
                vk_cmd_barrier(&cmd);
                CHECK(vk_cmd_submit_wait(&cmd) == 0);
                cmd.pl = &pl;
                CHECK(vk_buf_read(d, &bq, 0, qd, qrb) == 0);
                CHECK(vk_buf_read(d, &by, 0, y, (size_t) n * 4) == 0);
                check_q8_row(q, qd, k, k / 256 + 1, "quantx");
                double e = nmse(y, ref, n);
                CHECK_MSG(e <= 1e-8, "%s q8 %s%s k=%u n=%u: NMSE %.3g", glu ? "glu" : "matvec",
                          split == 2 ? "split4 " : split ? "split " : "", quant_type_name(type), k, n, e);
                n_split4 += split == 2;
        }
        /* Each form with a workgroup per block of rows, then with 3 workgroups taking every third block
         * (the capped grid of GPUs whose multiprocessor count is known). */
        for (int form = 0; form < 6 && vk_mv8s_ok(&pl, vk_wtype(type), k, glu); form++) {
                int norm = form % 3;
                struct vk_pipelines p2 = pl;
                p2.mv8s_grid = form >= 3 ? 3 : 0;
                cmd.pl = &p2;
                struct vk_xrow xr = { .x = bx.addr, .g = norm ? bg.addr : 0, .eps = eps, .norm = norm };
                if (norm == 2) {
                        xr.t = bt.addr;
                        xr.wt = bwt.addr;
                        xr.xo = bxo.addr;
                }
                CHECK(vk_cmd_begin(&cmd) == 0);
                if (glu)
                        CHECK(vk_op_matvec_glu_q8s(&cmd, vk_wtype(type), bw->addr,
                                                   bw->addr + (VkDeviceAddress) drb * n, drb, k, n, &xr, by.addr, op));
                else
                        CHECK(vk_op_matvec_q8s(&cmd, vk_wtype(type), bw->addr, drb, k, n, &xr, by.addr, false));
                vk_cmd_barrier(&cmd);
                CHECK(vk_cmd_submit_wait(&cmd) == 0);
                cmd.pl = &pl;
                CHECK(vk_buf_read(d, &by, 0, y, (size_t) n * 4) == 0);
                double e = nmse(y, norm == 2 ? refp : norm ? refn : ref, n);
                CHECK_MSG(e <= 1e-8, "%s q8 staged%s%s %s k=%u n=%u: NMSE %.3g", glu ? "glu" : "matvec",
                          norm == 2 ? " post-norm" : norm ? " norm" : "", p2.mv8s_grid ? " grid 3" : "",
                          quant_type_name(type), k, n, e);
                /* The form that writes its output as an 8-bit row too: the same y, and that row as q8_row
                 * makes it from y (the quants of quantx). */
                if (glu && n % 32 == 0 && pl.p[VK_P_MATVEC_Q8S_GLUQ + vk_wtype(type)]) {
                        uint32_t yrb = vk_q8_row_bytes(n);
                        _cleanup_free_ float *y2 = newa(float, n), *yd = newa(float, n);
                        _cleanup_free_ uint8_t *yq = newa(uint8_t, yrb), *yqd = newa(uint8_t, yrb);
                        struct vk_buf byq;
                        CHECK(y2 && yd && yq && yqd);
                        CHECK(vk_buf_create(d, yrb, VK_MEM_DEVICE, &byq) == 0);
                        p2.mv8sq_grid = form >= 3 ? 2 : 0;
                        cmd.pl = &p2;
                        CHECK(vk_cmd_begin(&cmd) == 0);
                        CHECK(vk_op_matvec_glu_q8s_q(&cmd, vk_wtype(type), bw->addr,
                                                     bw->addr + (VkDeviceAddress) drb * n, drb, k, n, &xr, by.addr,
                                                     byq.addr, op));
                        vk_cmd_barrier(&cmd);
                        CHECK(vk_cmd_submit_wait(&cmd) == 0);
                        cmd.pl = &pl;
                        CHECK(vk_buf_read(d, &by, 0, y2, (size_t) n * 4) == 0);
                        CHECK(vk_buf_read(d, &byq, 0, yqd, yrb) == 0);
                        vk_buf_destroy(d, &byq);
                        e = nmse(y2, norm == 2 ? refp : norm ? refn : ref, n);
                        CHECK_MSG(e <= 1e-8, "glu q8 staged, 8-bit out%s %s k=%u n=%u: NMSE %.3g",
                                  p2.mv8sq_grid ? " grid 2" : "", quant_type_name(type), k, n, e);
                        q8_row(y2, n, yq, yd);
                        check_q8_row(yq, yqd, n, n / 256 + 1, "glu 8-bit out");
                        n_gluq++;
                }
                if (norm == 2) {
                        CHECK(vk_buf_read(d, &bxo, 0, xpd, (size_t) k * 4) == 0);
                        for (uint32_t i = 0; i < k; i++)
                                CHECK_MSG(fabsf(xpd[i] - xp[i]) <= 1e-6f * (1 + fabsf(xp[i])),
                                          "staged post-norm k=%u: residual %u is %g, expected %g", k, i, xpd[i], xp[i]);
                }
                n_staged++;
        }
        vk_buf_destroy(d, &bx);
        vk_buf_destroy(d, &bt);
        vk_buf_destroy(d, &bwt);
        vk_buf_destroy(d, &bxo);
        vk_buf_destroy(d, &bg);
        vk_buf_destroy(d, &bq);
        vk_buf_destroy(d, &by);
}

/*
 * The 8-bit mat-vec of several tokens (mv8n: steps of sequences decoding together): nt = 2, 3, 5 and 8
 * tokens (its forms of 2, 4, 8 and 8 tokens, the last two with rows to spare), their rows quantized by
 * quantx, each token's outputs ldy = n + 3 floats apart (the gap must stay as it was: NaN), against
 * q8_ref of each token's own 8-bit row; accumulating into y (MM_ACC) for nt = 5. A token's sums in
 * another's row, or a spare token's written, fail.
 */
static void test_matvec_q8n(enum ggml_type type, const float *deq, struct vk_buf *bw, uint32_t drb, uint32_t k,
                            uint32_t n) {
        static const uint32_t nts[] = { 2, 3, 5, 8 };
        const uint32_t ntm = VK_MV8N_MAX, ldy = n + 3, qrb = vk_q8_row_bytes(k);
        _cleanup_free_ float *x = newa(float, (size_t) ntm * k), *xd = newa(float, (size_t) ntm * k);
        _cleanup_free_ float *y = newa(float, (size_t) ntm * ldy), *y0 = newa(float, (size_t) ntm * ldy);
        _cleanup_free_ float *yr = newa(float, n);
        _cleanup_free_ uint8_t *q = newa(uint8_t, (size_t) ntm * qrb);
        _cleanup_free_ double *ref = newa(double, (size_t) ntm * n);
        struct vk_buf bx, bq, by;

        CHECK(x && xd && y && y0 && yr && q && ref);
        for (size_t i = 0; i < (size_t) ntm * k; i++)
                x[i] = frand() * (i % 5 == 0 ? 2.0f : 0.1f);
        for (uint32_t t = 0; t < ntm; t++) {
                q8_row(x + (size_t) t * k, k, q + (size_t) t * qrb, xd + (size_t) t * k);
                q8_ref(deq, xd + (size_t) t * k, k, n, false, 0, ref + (size_t) t * n);
        }
        CHECK(vk_buf_create(d, (size_t) ntm * k * 4, VK_MEM_DEVICE, &bx) == 0);
        CHECK(vk_buf_create(d, (size_t) ntm * qrb, VK_MEM_DEVICE, &bq) == 0);
        CHECK(vk_buf_create(d, (size_t) ntm * ldy * 4, VK_MEM_DEVICE, &by) == 0);
        CHECK(vk_buf_write(d, &bx, 0, x, (size_t) ntm * k * 4) == 0);
        for (size_t c = 0; c < ELEMENTSOF(nts); c++) {
                uint32_t nt = nts[c];
                bool acc = nt == 5;
                for (size_t i = 0; i < (size_t) ntm * ldy; i++)
                        y0[i] = i % ldy < n && i / ldy < nt && acc ? 0.25f * frand() : NAN;
                CHECK(vk_buf_write(d, &by, 0, y0, (size_t) ntm * ldy * 4) == 0);
                CHECK(vk_cmd_begin(&cmd) == 0);
                vk_op_quantx(&cmd, bx.addr, k, k, nt, bq.addr);
                vk_cmd_barrier(&cmd);
                CHECK(vk_op_matvec_q8n(&cmd, vk_wtype(type), bw->addr, drb, k, n, bq.addr, nt, by.addr, ldy, acc));
                vk_cmd_barrier(&cmd);
                CHECK(vk_cmd_submit_wait(&cmd) == 0);
                CHECK(vk_buf_read(d, &by, 0, y, (size_t) ntm * ldy * 4) == 0);
                for (uint32_t t = 0; t < ntm; t++) {
                        const float *yt = y + (size_t) t * ldy;
                        if (t >= nt) {
                                for (uint32_t r = 0; r < ldy; r++)
                                        CHECK_MSG(isnan(yt[r]),
                                                  "matvec q8n %s k=%u n=%u nt=%u: row %u of spare token %u written",
                                                  quant_type_name(type), k, n, nt, r, t);
                                continue;
                        }
                        for (uint32_t r = 0; r < n; r++)
                                yr[r] = yt[r] - (acc ? y0[(size_t) t * ldy + r] : 0.0f);
                        for (uint32_t r = n; r < ldy; r++)
                                CHECK_MSG(isnan(yt[r]), "matvec q8n %s k=%u n=%u nt=%u: gap %u of token %u written",
                                          quant_type_name(type), k, n, nt, r, t);
                        double e = nmse(yr, ref + (size_t) t * n, n);
                        CHECK_MSG(e <= 1e-8, "matvec q8n %s k=%u n=%u nt=%u acc=%d token %u: NMSE %.3g",
                                  quant_type_name(type), k, n, nt, acc, t, e);
                }
                n_q8n++;
        }
        vk_buf_destroy(d, &bx);
        vk_buf_destroy(d, &bq);
        vk_buf_destroy(d, &by);
}

static void test_matmul(enum ggml_type type, uint32_t k, uint32_t n, uint32_t nt, bool acc) {
        size_t row_bytes;
        struct vk_buf bw, bx, by;
        _cleanup_free_ float *wf = NULL, *x = NULL, *y = NULL, *y0 = NULL, *deq = NULL;
        _cleanup_free_ uint8_t *wq = NULL;
        _cleanup_free_ double *ref = NULL;

        CHECK(quant_row_size(type, k, &row_bytes) == 0);
        wf = newa(float, k);
        deq = newa(float, (size_t) n * k);
        wq = newa(uint8_t, row_bytes * n);
        x = newa(float, (size_t) nt * k);
        y = newa(float, MAX((size_t) nt * n, 3 * (size_t) k));
        y0 = newa(float, (size_t) nt * n);
        ref = newa(double, (size_t) nt * n);
        CHECK(wf && deq && wq && x && y && y0 && ref);
        for (uint32_t r = 0; r < n; r++) {
                for (uint32_t i = 0; i < k; i++)
                        wf[i] = frand();
                quantize_row(type, wf, wq + r * row_bytes, k);
                dequantize_row(type, wq + r * row_bytes, deq + (size_t) r * k, k);
        }
        for (size_t i = 0; i < (size_t) nt * k; i++)
                x[i] = frand();
        for (size_t i = 0; i < (size_t) nt * n; i++)
                y0[i] = acc ? frand() : 0;
        for (uint32_t t = 0; t < nt; t++)
                for (uint32_t r = 0; r < n; r++) {
                        double s = y0[(size_t) t * n + r];
                        for (uint32_t i = 0; i < k; i++)
                                s += (double) deq[(size_t) r * k + i] * x[(size_t) t * k + i];
                        ref[(size_t) t * n + r] = s;
                }
        /* The device layout (Q4_0 and Q8_0 are repacked at upload). */
        size_t drb = vk_row_bytes(vk_wtype(type), k, row_bytes);
        _cleanup_free_ uint8_t *wd = newa(uint8_t, drb * n);
        CHECK(wd);
        vk_repack(vk_wtype(type), wq, row_bytes, k, n, wd);
        CHECK(vk_buf_create(d, drb * n, VK_MEM_DEVICE, &bw) == 0);
        CHECK(vk_buf_create(d, (size_t) nt * k * 4, VK_MEM_DEVICE, &bx) == 0);
        CHECK(vk_buf_create(d, (size_t) nt * n * 4, VK_MEM_DEVICE, &by) == 0);
        CHECK(vk_buf_write(d, &bw, 0, wd, drb * n) == 0);
        CHECK(vk_buf_write(d, &bx, 0, x, (size_t) nt * k * 4) == 0);
        CHECK(vk_buf_write(d, &by, 0, y0, (size_t) nt * n * 4) == 0);
        CHECK(vk_cmd_begin(&cmd) == 0);
        cmd.exact = true;
        vk_op_matmul(&cmd, vk_wtype(type), bw.addr, (uint32_t) drb, k, n, bx.addr, 0, k, nt, by.addr, n, 0, acc);
        vk_cmd_barrier(&cmd);
        CHECK(vk_cmd_submit_wait(&cmd) == 0);
        CHECK(vk_buf_read(d, &by, 0, y, (size_t) nt * n * 4) == 0);
        double e = nmse(y, ref, (size_t) nt * n);
        CHECK_MSG(e <= 1e-10, "matmul %s k=%u n=%u nt=%u acc=%d: NMSE %.3g", quant_type_name(type), k, n, nt, acc, e);
        if (nt > 8 && k > 256) {
                /* Split over k (3 slices of whole 256 columns where k has room for them, else 2) into
                 * partial planes and their sum, here on the float kernel, with a bias: what the NV
                 * kernel's split runs. */
                _cleanup_free_ float *bias = newa(float, n);
                _cleanup_free_ double *rb = newa(double, (size_t) nt * n);
                struct vk_buf bb;
                struct vk_pipelines p2 = pl;
                CHECK(bias && rb);
                for (uint32_t r = 0; r < n; r++)
                        bias[r] = frand();
                for (size_t i = 0; i < (size_t) nt * n; i++)
                        rb[i] = ref[i] + bias[i % n];
                CHECK(vk_buf_create(d, (size_t) n * 4, VK_MEM_DEVICE, &bb) == 0);
                CHECK(vk_buf_write(d, &bb, 0, bias, (size_t) n * 4) == 0);
                CHECK(vk_buf_write(d, &by, 0, y0, (size_t) nt * n * 4) == 0);
                p2.split_force = 3;
                cmd.pl = &p2;
                CHECK(vk_cmd_begin(&cmd) == 0);
                cmd.exact = true;
                vk_op_matmul(&cmd, vk_wtype(type), bw.addr, (uint32_t) drb, k, n, bx.addr, 0, k, nt, by.addr, n, bb.addr,
                             acc);
                vk_cmd_barrier(&cmd);
                CHECK(vk_cmd_submit_wait(&cmd) == 0);
                cmd.pl = &pl;
                CHECK(vk_buf_read(d, &by, 0, y, (size_t) nt * n * 4) == 0);
                e = nmse(y, rb, (size_t) nt * n);
                CHECK_MSG(e <= 1e-10, "matmul %s k=%u n=%u nt=%u acc=%d split in up to 3: NMSE %.3g",
                          quant_type_name(type), k, n, nt, acc, e);
                vk_buf_destroy(d, &bb);
                n_split++;
        }
        if (nt > 8 && pl.coopmat) {
                /* Cooperative matrices, both tile widths: against the products of the f16-rounded operands
                 * (what the kernel multiplies), in double; f32 sums in another order. Against the
                 * unrounded reference the NMSE is ~1e-7, so 1e-8 tells a rounding slip from the design. */
                for (uint32_t t = 0; t < nt; t++)
                        for (uint32_t r = 0; r < n; r++) {
                                double s = y0[(size_t) t * n + r];
                                for (uint32_t i = 0; i < k; i++)
                                        s += (double) fp16_to_fp32(fp32_to_fp16(deq[(size_t) r * k + i])) *
                                             fp16_to_fp32(fp32_to_fp16(x[(size_t) t * k + i]));
                                ref[(size_t) t * n + r] = s;
                        }
                /* The activations as f16 (cvt16), as these kernels take them. */
                struct vk_buf bx16;
                size_t pad = ((size_t) ALIGN_TO(nt, 256) - nt) * k;
                CHECK(vk_buf_create(d, (nt * (size_t) k + pad) * 2, VK_MEM_DEVICE, &bx16) == 0);
                CHECK(vk_cmd_begin(&cmd) == 0);
                vk_op_cvt16(&cmd, bx.addr, k, k, nt, bx16.addr, k);
                vk_cmd_barrier(&cmd);
                CHECK(vk_cmd_submit_wait(&cmd) == 0);
                /* The rows past nt that the NV kernel reads with MM_XPAD (as a step's x16 has them): NaNs,
                 * which fail the comparison if any reaches a stored output. */
                if (pad) {
                        _cleanup_free_ uint16_t *nan = newa(uint16_t, pad);
                        for (size_t i = 0; i < pad; i++)
                                nan[i] = 0x7e00;
                        CHECK(vk_buf_write(d, &bx16, (size_t) nt * k * 2, nan, pad * 2) == 0);
                }
                /* Both KHR tiles (narrow, wide), then the NV workgroup-scope kernel where built for
                 * the type (UNICORN_VK_COOPMAT2=1: every type), on its tile, its wide one and its
                 * small one, and split over k where k has more than 256 columns; the NV kernel's cases with
                 * the padded rows (MM_XPAD, as steps run them), then its narrow tile without (w == 7), then
                 * with the tokens past its last whole tile on the small tile (w == 8, cm2_tail). */
                bool cm2 = pl.coopmat2 && pl.p[VK_P_MATMUL_CM2 + vk_wtype(type)];
                for (int w = 0; w < 9; w++) {
                        enum vk_pipe alt = w == 3 || w == 6 ? VK_P_MATMUL_CM2_WIDE : VK_P_MATMUL_CM2_SMALL;
                        uint32_t ks = 0, split = 1, tile_bn = 0;
                        if ((w >= 2 && !cm2) || ((w == 3 || w == 4 || w == 6) && !pl.p[alt + vk_wtype(type)]))
                                continue;
                        struct vk_pipelines p2 = pl;
                        p2.cm_force = w ? 0 : 1;
                        p2.coopmat2 = w >= 2;
                        /* w == 3, 4: the wide and the small tile at every width, in the narrow one's place. */
                        p2.cm2_sms = 0;
                        /* w == 8: where there is such a tail and a tile for it, picked by llama.cpp's
                         * rule (each product split from rows of 256 columns) at the first multiprocessor
                         * count where the batch takes the wide tile with a tail apart. */
                        if (w == 8) {
                                uint32_t tbn = 0, tsplit = 1, tks = 0, bn8 = 0;
                                enum vk_pipe tp8 = 0;
                                p2.cm2_tail = true;
                                p2.cm2_split = 8;
                                p2.cm2_split_k = 256;
                                p2.cm2_rule = VK_CM2_RULE_LLAMA;
                                for (uint32_t m = 1; m <= 132 && !tp8; m++) {
                                        p2.cm2_sms = m;
                                        vk_cm2_pick(&p2, vk_wtype(type), n, k, nt, cmd.splitk.addr != 0, true, &bn8,
                                                    &split, &ks);
                                        tp8 = vk_cm2_tail(&(struct vk_cmd) { .pl = &p2, .x16_pad = true,
                                                                             .splitk = cmd.splitk },
                                                          vk_wtype(type), n, k, nt, bn8, &tbn, &tsplit, &tks);
                                }
                                if (!tp8)
                                        continue;
                                tile_bn = bn8;
                                n_tail_cm++;
                                n_split_cm += tsplit > 1;
                        }
                        /* w == 5: the narrow tile split over k, as a product of long rows would be (the
                         * split rule on 132 multiprocessors, from rows of 256 columns). */
                        if (w == 5) {
                                p2.cm2_sms = 132;
                                p2.cm2_wide_bn = p2.cm2_small_bn = 0;
                                p2.cm2_split = 8;
                                p2.cm2_split_k = 256;
                                split = vk_cm2_split(&p2, DIV_ROUND_UP(n, 128) * DIV_ROUND_UP(nt, p2.cm2_bn), k, &ks);
                                if (split < 2 || !cmd.splitk.addr)
                                        continue;
                        }
                        /* w == 6: llama.cpp's rule (UNICORN_VK_CM2_RULE=llama) where it takes the wide tile
                         * split over k: at the first multiprocessor count where it does for this shape. */
                        if (w == 6) {
                                uint32_t bn6 = 0;
                                enum vk_pipe pp6 = VK_P_MATMUL_CM2 + vk_wtype(type);
                                p2.cm2_rule = VK_CM2_RULE_LLAMA;
                                p2.cm2_split = 8;
                                p2.cm2_split_k = 256;
                                for (uint32_t m = 1; m <= 64 && !(pp6 == alt + vk_wtype(type) && split > 1); m++) {
                                        p2.cm2_sms = m;
                                        pp6 = vk_cm2_pick_llama(&p2, vk_wtype(type), n, k, nt, true, true, &bn6, &split,
                                                                &ks);
                                }
                                if (pp6 != alt + vk_wtype(type) || split < 2 || !cmd.splitk.addr)
                                        continue;
                                tile_bn = bn6;
                        }
                        if (w == 3 || w == 4) {
                                p2.p[VK_P_MATMUL_CM2 + vk_wtype(type)] = p2.p[alt + vk_wtype(type)];
                                p2.cm2_bn = w == 3 ? p2.cm2_wide_bn : p2.cm2_small_bn;
                        }
                        cmd.pl = &p2;
                        CHECK(vk_buf_write(d, &by, 0, y0, (size_t) nt * n * 4) == 0);
                        CHECK(vk_cmd_begin(&cmd) == 0);
                        cmd.exact = false;
                        cmd.x16_pad = p2.coopmat2 && w != 7;
                        CHECK(vk_op_matmul_reads_x16(&cmd, vk_wtype(type), nt));
                        vk_op_matmul(&cmd, vk_wtype(type), bw.addr, (uint32_t) drb, k, n, bx.addr,
                                     bx16.addr, k, nt, by.addr, n, 0, acc);
                        vk_cmd_barrier(&cmd);
                        CHECK(vk_cmd_submit_wait(&cmd) == 0);
                        cmd.x16_pad = false;
                        cmd.pl = &pl;
                        CHECK(vk_buf_read(d, &by, 0, y, (size_t) nt * n * 4) == 0);
                        e = nmse(y, ref, (size_t) nt * n);
                        /* f16 sums (UNICORN_VK_CM2_ACC16=1) round each partial sum to 11 bits: NMSE
                         * ~1e-6 at these k, so 1e-4 still tells a wrong element or tile from it. */
                        bool h = p2.coopmat2 && p2.cm2_acc16;
                        CHECK_MSG(e <= (h ? 1e-4 : 1e-8),
                                  "matmul_cm%s%u%s %s k=%u n=%u nt=%u acc=%d split=%u: NMSE %.3g",
                                  p2.coopmat2 ? (h ? "2h_" : "2_") : "",
                                  tile_bn ? tile_bn : p2.coopmat2 ? p2.cm2_bn : p2.cm_tile[p2.cm_force].bn,
                                  w == 7 ? " unpadded" : w == 8 ? " tail" : "", quant_type_name(type), k, n,
                                  nt, acc, split, e);
                        n_split_cm += split > 1;
                        if (h && getenv("UNICORN_TEST_VERBOSE"))
                                printf("# cm2h %s k=%u n=%u nt=%u acc=%d: NMSE %.3g\n", quant_type_name(type), k, n,
                                       nt, acc, e);
                        n_cm++;
                }
                vk_buf_destroy(d, &bx16);
        }
        if (nt == 1 && !acc && pl.p[VK_P_MATVEC_Q8 + vk_wtype(type)])
                test_matvec_q8(type, deq, &bw, (uint32_t) drb, k, n, false, 0);
        if (nt == 1 && !acc && pl.p[VK_P_MATVEC_Q8N2 + vk_wtype(type)])
                test_matvec_q8n(type, deq, &bw, (uint32_t) drb, k, n);

        /* Embedding lookup of a few rows of the same weight. */
        if (k <= 1024) {
                int32_t ids[3] = { 0, (int32_t) n - 1, (int32_t) n / 2 };
                struct vk_buf bi, bo;
                double rr[3 * 1024];
                CHECK(k <= 1024);
                CHECK(vk_buf_create(d, sizeof ids, VK_MEM_DEVICE, &bi) == 0);
                CHECK(vk_buf_write(d, &bi, 0, ids, sizeof ids) == 0);
                CHECK(vk_buf_create(d, 3 * (size_t) k * 4, VK_MEM_DEVICE, &bo) == 0);
                CHECK(vk_cmd_begin(&cmd) == 0);
                vk_op_get_rows(&cmd, vk_wtype(type), bw.addr, (uint32_t) drb, k, bi.addr, 3, bo.addr, k, 0.5f);
                vk_cmd_barrier(&cmd);
                CHECK(vk_cmd_submit_wait(&cmd) == 0);
                CHECK(vk_buf_read(d, &bo, 0, y, 3 * (size_t) k * 4) == 0);
                for (int j = 0; j < 3; j++)
                        for (uint32_t i = 0; i < k; i++)
                                rr[j * k + i] = 0.5 * deq[(size_t) ids[j] * k + i];
                e = nmse(y, rr, 3 * (size_t) k);
                CHECK_MSG(e <= 1e-12, "get_rows %s k=%u: NMSE %.3g", quant_type_name(type), k, e);
                vk_buf_destroy(d, &bi);
                vk_buf_destroy(d, &bo);
        }
        vk_buf_destroy(d, &bw);
        vk_buf_destroy(d, &bx);
        vk_buf_destroy(d, &by);
}

/* The norm kernel's 8-bit output (NORM_Q8: by 32-lane clusters where subgroups have 32 lanes, else
 * a block per invocation) against q8_row of the normalized row computed here. */
static void test_norm_q8(uint32_t n) {
        uint32_t qrb = vk_q8_row_bytes(n);
        _cleanup_free_ float *x = newa(float, n), *w = newa(float, n), *h = newa(float, n), *xd = newa(float, n);
        _cleanup_free_ uint8_t *q = new0(uint8_t, qrb), *qd = newa(uint8_t, qrb);
        struct vk_buf bx, bw, bh, bq;
        double ss = 0;

        CHECK(x && w && h && xd && q && qd);
        for (uint32_t i = 0; i < n; i++) {
                x[i] = frand() * (i % 5 == 0 ? 3.0f : 1.0f);
                w[i] = 1.0f + frand() * 0.5f;
                ss += (double) x[i] * x[i];
        }
        float sc = (float) (1.0 / sqrt(ss / n + 1e-6));
        for (uint32_t i = 0; i < n; i++)
                h[i] = x[i] * sc * w[i];
        q8_row(h, n, q, xd);
        CHECK(vk_buf_create(d, (size_t) n * 4, VK_MEM_DEVICE, &bx) == 0);
        CHECK(vk_buf_create(d, (size_t) n * 4, VK_MEM_DEVICE, &bw) == 0);
        CHECK(vk_buf_create(d, (size_t) n * 4, VK_MEM_DEVICE, &bh) == 0);
        CHECK(vk_buf_create(d, qrb, VK_MEM_DEVICE, &bq) == 0);
        CHECK(vk_buf_write(d, &bx, 0, x, (size_t) n * 4) == 0);
        CHECK(vk_buf_write(d, &bw, 0, w, (size_t) n * 4) == 0);
        CHECK(vk_cmd_begin(&cmd) == 0);
        vk_op_norm(&cmd, &(struct pc_norm) { .x = bx.addr, .w = bw.addr, .dst = bh.addr, .q8 = bq.addr, .n = n,
                                             .rows = 1, .flags = NORM_OUT | NORM_W | NORM_Q8, .eps = 1e-6f });
        vk_cmd_barrier(&cmd);
        CHECK(vk_cmd_submit_wait(&cmd) == 0);
        CHECK(vk_buf_read(d, &bq, 0, qd, qrb) == 0);
        check_q8_row(q, qd, n, n / 64 + 1, "norm q8");
        vk_buf_destroy(d, &bx);
        vk_buf_destroy(d, &bw);
        vk_buf_destroy(d, &bh);
        vk_buf_destroy(d, &bq);
}

/* The norm's f16 rows (dst16, for the matrix-core products): rows picked by idx, with and without the
 * 8-bit rows beside them, rows that fit the registers (n <= 6144) and longer ones. Its floats against
 * the norm computed here, its halves equal to its floats rounded, nothing past the rows. */
static void test_norm16(uint32_t n, bool q8) {
        const uint32_t rows = 3, xrows = 4;
        const int32_t ids[3] = { 2, 0, 3 };
        size_t nout = (size_t) rows * n;
        _cleanup_free_ float *x = newa(float, (size_t) xrows * n), *w = newa(float, n), *o = newa(float, nout);
        _cleanup_free_ uint16_t *h = newa(uint16_t, nout + 4);
        struct vk_buf bx, bw, bo, bh, bi, bq = { 0 };
        uint32_t bad = 0;

        CHECK(x && w && o && h);
        for (size_t i = 0; i < (size_t) xrows * n; i++)
                x[i] = frand() * (i % 7 == 0 ? 4.0f : 1.0f);
        for (uint32_t i = 0; i < n; i++)
                w[i] = 1.0f + frand() * 0.5f;
        for (size_t i = 0; i < nout + 4; i++)
                h[i] = 0xabcd;
        CHECK(vk_buf_create(d, (size_t) xrows * n * 4, VK_MEM_DEVICE, &bx) == 0);
        CHECK(vk_buf_create(d, (size_t) n * 4, VK_MEM_DEVICE, &bw) == 0);
        CHECK(vk_buf_create(d, nout * 4, VK_MEM_DEVICE, &bo) == 0);
        CHECK(vk_buf_create(d, (nout + 4) * 2, VK_MEM_DEVICE, &bh) == 0);
        CHECK(vk_buf_create(d, sizeof ids, VK_MEM_DEVICE, &bi) == 0);
        if (q8)
                CHECK(vk_buf_create(d, (size_t) rows * vk_q8_row_bytes(n), VK_MEM_DEVICE, &bq) == 0);
        CHECK(vk_buf_write(d, &bx, 0, x, (size_t) xrows * n * 4) == 0);
        CHECK(vk_buf_write(d, &bw, 0, w, (size_t) n * 4) == 0);
        CHECK(vk_buf_write(d, &bh, 0, h, (nout + 4) * 2) == 0);
        CHECK(vk_buf_write(d, &bi, 0, ids, sizeof ids) == 0);
        CHECK(vk_cmd_begin(&cmd) == 0);
        vk_op_norm(&cmd, &(struct pc_norm) { .x = bx.addr, .w = bw.addr, .dst = bo.addr, .idx = bi.addr,
                                             .q8 = bq.addr, .dst16 = bh.addr, .n = n, .rows = rows,
                                             .flags = NORM_OUT | NORM_W | NORM_IDX | (q8 ? NORM_Q8 : 0),
                                             .eps = 1e-6f });
        vk_cmd_barrier(&cmd);
        CHECK(vk_cmd_submit_wait(&cmd) == 0);
        CHECK(vk_buf_read(d, &bo, 0, o, nout * 4) == 0);
        CHECK(vk_buf_read(d, &bh, 0, h, (nout + 4) * 2) == 0);
        for (uint32_t r = 0; r < rows; r++) {
                const float *xr = x + (size_t) ids[r] * n;
                double ss = 0;
                for (uint32_t i = 0; i < n; i++)
                        ss += (double) xr[i] * xr[i];
                double sc = 1.0 / sqrt(ss / n + 1e-6);
                for (uint32_t i = 0; i < n; i++) {
                        double want = xr[i] * sc * w[i];
                        float got = o[(size_t) r * n + i];
                        CHECK_MSG(fabs(got - want) <= 1e-5 * (1 + fabs(want)), "norm16 n=%u: %u,%u is %g, expected %g",
                                  n, r, i, got, want);
                        bad += h[(size_t) r * n + i] != fp32_to_fp16(got);
                }
        }
        CHECK_MSG(bad == 0, "norm16 n=%u q8=%d: %u halves differ from the floats rounded", n, q8, bad);
        for (size_t i = nout; i < nout + 4; i++)
                CHECK_MSG(h[i] == 0xabcd, "norm16 n=%u: wrote halves past the rows", n);
        vk_buf_destroy(d, &bx);
        vk_buf_destroy(d, &bw);
        vk_buf_destroy(d, &bo);
        vk_buf_destroy(d, &bh);
        vk_buf_destroy(d, &bi);
        if (q8)
                vk_buf_destroy(d, &bq);
}

/* One-token gate/up/activation mat-vec (wide types, and 8-bit forms): y = act(G x) * (U x). */
static void test_glu(enum ggml_type type, uint32_t k, uint32_t n, uint32_t op) {
        size_t row_bytes;
        struct vk_buf bw, bx, by;
        _cleanup_free_ float *wf = NULL, *x = NULL, *y = NULL, *deq = NULL;
        _cleanup_free_ uint8_t *wq = NULL, *wd = NULL;
        _cleanup_free_ double *ref = NULL;

        CHECK(quant_row_size(type, k, &row_bytes) == 0);
        size_t drb = vk_row_bytes(vk_wtype(type), k, row_bytes);
        wf = newa(float, k);
        deq = newa(float, (size_t) 2 * n * k);
        wq = newa(uint8_t, row_bytes * 2 * n);
        wd = newa(uint8_t, drb * 2 * n);
        x = newa(float, k);
        y = newa(float, n);
        ref = newa(double, n);
        CHECK(wf && deq && wq && wd && x && y && ref);
        for (uint32_t r = 0; r < 2 * n; r++) {
                for (uint32_t i = 0; i < k; i++)
                        wf[i] = frand();
                quantize_row(type, wf, wq + r * row_bytes, k);
                dequantize_row(type, wq + r * row_bytes, deq + (size_t) r * k, k);
        }
        for (uint32_t i = 0; i < k; i++)
                x[i] = frand() * 0.1f;
        for (uint32_t r = 0; r < n; r++) {
                double g = 0, u = 0;
                for (uint32_t i = 0; i < k; i++) {
                        g += (double) deq[(size_t) r * k + i] * x[i];
                        u += (double) deq[(size_t) (n + r) * k + i] * x[i];
                }
                if (op == ACT_SILU)
                        g = g / (1 + exp(-g));
                else
                        g = 0.5 * g * (1 + tanh(0.79788456080286535588 * (g + 0.044715 * g * g * g)));
                ref[r] = g * u;
        }
        vk_repack(vk_wtype(type), wq, row_bytes, k, 2 * n, wd);
        CHECK(vk_buf_create(d, drb * 2 * n, VK_MEM_DEVICE, &bw) == 0);
        CHECK(vk_buf_create(d, (size_t) k * 4, VK_MEM_DEVICE, &bx) == 0);
        CHECK(vk_buf_create(d, (size_t) n * 4, VK_MEM_DEVICE, &by) == 0);
        CHECK(vk_buf_write(d, &bw, 0, wd, drb * 2 * n) == 0);
        CHECK(vk_buf_write(d, &bx, 0, x, (size_t) k * 4) == 0);
        if (pl.p[VK_P_MATVEC_GLU + vk_wtype(type)]) { /* Q6_K has the 8-bit form only */
                CHECK(vk_cmd_begin(&cmd) == 0);
                CHECK(vk_op_matvec_glu(&cmd, vk_wtype(type), bw.addr, bw.addr + drb * n, (uint32_t) drb, k, n,
                                       bx.addr, 1, by.addr, op));
                vk_cmd_barrier(&cmd);
                CHECK(vk_cmd_submit_wait(&cmd) == 0);
                CHECK(vk_buf_read(d, &by, 0, y, (size_t) n * 4) == 0);
                double e = nmse(y, ref, n);
                CHECK_MSG(e <= 1e-10, "glu %s k=%u n=%u op=%u: NMSE %.3g", quant_type_name(type), k, n, op, e);
        }
        if (pl.p[VK_P_MATVEC_Q8_GLU + vk_wtype(type)])
                test_matvec_q8(type, deq, &bw, (uint32_t) drb, k, n, true, op);
        vk_buf_destroy(d, &bw);
        vk_buf_destroy(d, &bx);
        vk_buf_destroy(d, &by);
}

/* cvt16 (the f16 activations of the matrix-core kernels): nt rows of k floats, ldx apart, to rows
 * ldy halves apart. Each half must be the float rounded to nearest (even), as fp32_to_fp16 does, and
 * the halves past k of each row untouched. Values span f16's range, its subnormals and its overflow. */
static void test_cvt16(uint32_t k, uint32_t nt, uint32_t ldx, uint32_t ldy) {
        _cleanup_free_ float *x = newa(float, (size_t) nt * ldx);
        _cleanup_free_ uint16_t *y = newa(uint16_t, (size_t) nt * ldy);
        struct vk_buf bx, by;
        uint32_t bad = 0, kept = 0;

        CHECK(x && y);
        for (size_t i = 0; i < (size_t) nt * ldx; i++)
                x[i] = frand() * (i % 7 == 0 ? 70000.0f : i % 7 == 1 ? 1e-6f : i % 7 == 2 ? 1e-4f : 8.0f);
        CHECK(vk_buf_create(d, (size_t) nt * ldx * 4, VK_MEM_DEVICE, &bx) == 0);
        CHECK(vk_buf_create(d, (size_t) nt * ldy * 2, VK_MEM_DEVICE, &by) == 0);
        CHECK(vk_buf_write(d, &bx, 0, x, (size_t) nt * ldx * 4) == 0);
        for (size_t i = 0; i < (size_t) nt * ldy; i++)
                y[i] = 0xabcd;
        CHECK(vk_buf_write(d, &by, 0, y, (size_t) nt * ldy * 2) == 0);
        CHECK(vk_cmd_begin(&cmd) == 0);
        vk_op_cvt16(&cmd, bx.addr, ldx, k, nt, by.addr, ldy);
        vk_cmd_barrier(&cmd);
        CHECK(vk_cmd_submit_wait(&cmd) == 0);
        CHECK(vk_buf_read(d, &by, 0, y, (size_t) nt * ldy * 2) == 0);
        for (uint32_t t = 0; t < nt; t++)
                for (uint32_t i = 0; i < ldy; i++) {
                        uint16_t got = y[(size_t) t * ldy + i];
                        if (i >= k)
                                kept += got == 0xabcd;
                        else if (got != fp32_to_fp16(x[(size_t) t * ldx + i]))
                                bad++;
                }
        CHECK_MSG(bad == 0, "cvt16 k=%u nt=%u: %u halves differ from round-to-nearest", k, nt, bad);
        CHECK_MSG(kept == nt * (ldy - k), "cvt16 k=%u nt=%u: wrote past k", k, nt);
        vk_buf_destroy(d, &bx);
        vk_buf_destroy(d, &by);
}

/* The FFN activation over nt rows of k: in place (ld = k) or from joined [gate | up] rows (ld = 2k)
 * into other rows, with the f16 copy (dst16) that the matrix-core down projection reads. Floats within
 * 1e-5 relative of the activation in double here (the device's exp); each half exactly the device's
 * float rounded to nearest (as cvt16), and nothing written past the rows. */
static void test_act(uint32_t k, uint32_t nt, bool joined, uint32_t op) {
        uint32_t ld = joined ? 2 * k : k;
        size_t nin = (size_t) nt * ld, nout = (size_t) nt * k;
        _cleanup_free_ float *in = newa(float, nin + (joined ? 0 : nin)), *out = newa(float, nout + 4);
        _cleanup_free_ uint16_t *h = newa(uint16_t, nout + 4);
        struct vk_buf bin, bout, bh;
        uint32_t bad = 0;

        CHECK(in && out && h);
        /* in place: gate rows in `in`, up rows after them; joined: one buffer of [gate | up] rows */
        for (size_t i = 0; i < nin + (joined ? 0 : nin); i++)
                in[i] = frand() * 6.0f;
        CHECK(vk_buf_create(d, (nin + (joined ? 0 : nin)) * 4, VK_MEM_DEVICE, &bin) == 0);
        CHECK(vk_buf_write(d, &bin, 0, in, (nin + (joined ? 0 : nin)) * 4) == 0);
        CHECK(vk_buf_create(d, (nout + 4) * 4, VK_MEM_DEVICE, &bout) == 0);
        CHECK(vk_buf_create(d, (nout + 4) * 2, VK_MEM_DEVICE, &bh) == 0);
        for (size_t i = 0; i < nout + 4; i++)
                h[i] = 0xabcd;
        CHECK(vk_buf_write(d, &bh, 0, h, (nout + 4) * 2) == 0);
        VkDeviceAddress g = bin.addr, u = bin.addr + (joined ? (VkDeviceAddress) k * 4 : (VkDeviceAddress) nin * 4);
        VkDeviceAddress dst = joined ? bout.addr : g;
        CHECK(vk_cmd_begin(&cmd) == 0);
        vk_op_act_rows(&cmd, g, u, ld, k, nt, dst, bh.addr, op);
        vk_cmd_barrier(&cmd);
        CHECK(vk_cmd_submit_wait(&cmd) == 0);
        CHECK(vk_buf_read(d, joined ? &bout : &bin, 0, out, nout * 4) == 0);
        CHECK(vk_buf_read(d, &bh, 0, h, (nout + 4) * 2) == 0);
        for (uint32_t t = 0; t < nt; t++)
                for (uint32_t c = 0; c < k; c++) {
                        double x = in[(size_t) t * ld + c];
                        double uu = joined ? in[(size_t) t * ld + k + c] : in[nin + (size_t) t * ld + c];
                        double a = op == ACT_SILU
                                           ? x / (1 + exp(-x))
                                           : 0.5 * x * (1 + tanh(0.79788456080286535588 * (x + 0.044715 * x * x * x)));
                        float got = out[(size_t) t * k + c];
                        CHECK_MSG(fabs(got - a * uu) <= 1e-5 * (1 + fabs(a * uu)),
                                  "act k=%u nt=%u joined=%d: %u,%u is %g, expected %g", k, nt, joined, t, c, got, a * uu);
                        bad += h[(size_t) t * k + c] != fp32_to_fp16(got);
                }
        CHECK_MSG(bad == 0, "act k=%u nt=%u joined=%d: %u halves differ from the floats rounded", k, nt, joined, bad);
        for (size_t i = nout; i < nout + 4; i++)
                CHECK_MSG(h[i] == 0xabcd, "act k=%u nt=%u: wrote halves past the rows", k, nt);
        vk_buf_destroy(d, &bin);
        vk_buf_destroy(d, &bout);
        vk_buf_destroy(d, &bh);
}

/* vk_op_prefetch reads and writes nothing: the buffer it reads, and one a kernel beside it writes,
 * hold what they should afterwards; sizes below a 16-byte unit and past a whole workgroup's span. */
static void test_prefetch(void) {
        const size_t n = ((size_t) 256 * 8 * 16 * 3 + 48) / 4; /* three workgroups and three units */
        _cleanup_free_ uint32_t *w = newa(uint32_t, n), *back = newa(uint32_t, n);
        _cleanup_free_ float *x = newa(float, 1024);
        _cleanup_free_ uint16_t *y = newa(uint16_t, 1024);
        struct vk_buf bw, bx, by;

        CHECK(w && back && x && y);
        for (size_t i = 0; i < n; i++)
                w[i] = (uint32_t) (i * 2654435761u);
        for (uint32_t i = 0; i < 1024; i++)
                x[i] = frand();
        CHECK(vk_buf_create(d, n * 4, VK_MEM_DEVICE, &bw) == 0);
        CHECK(vk_buf_create(d, 1024 * 4, VK_MEM_DEVICE, &bx) == 0);
        CHECK(vk_buf_create(d, 1024 * 2, VK_MEM_DEVICE, &by) == 0);
        CHECK(vk_buf_write(d, &bw, 0, w, n * 4) == 0);
        CHECK(vk_buf_write(d, &bx, 0, x, 1024 * 4) == 0);
        CHECK(vk_cmd_begin(&cmd) == 0);
        vk_op_cvt16(&cmd, bx.addr, 1024, 1024, 1, by.addr, 1024);
        vk_op_prefetch(&cmd, bw.addr, n * 4);
        vk_op_prefetch(&cmd, bw.addr, 15);
        vk_op_prefetch(&cmd, bw.addr + 16, n * 4 - 16 - 4);
        vk_cmd_barrier(&cmd);
        CHECK(vk_cmd_submit_wait(&cmd) == 0);
        CHECK(vk_buf_read(d, &bw, 0, back, n * 4) == 0);
        CHECK_MSG(memcmp(w, back, n * 4) == 0, "prefetch changed the buffer it read");
        CHECK(vk_buf_read(d, &by, 0, y, 1024 * 2) == 0);
        for (uint32_t i = 0; i < 1024; i++)
                CHECK_MSG(y[i] == fp32_to_fp16(x[i]), "cvt16 beside a prefetch: element %u", i);
        vk_buf_destroy(d, &bw);
        vk_buf_destroy(d, &bx);
        vk_buf_destroy(d, &by);
}

static int n_attn_nv;  /* cases test_attn_cm ran on attn_cm2.comp */
static double attn_cm_nmse_max = 1e-5; /* test_attn_cm's bound */
static int n_attn_split; /* cases test_attn_cm split over positions (either kernel) */
static int n_attn_dec; /* cases test_attn_dec ran on attn_dec.comp */

/* An attention case on the device: nt tokens at positions p0.. of sequence 0, heads of dim dd (n_kv of
 * them shared by n_head), window 0 or sliding, over a ring of `ring` cached rows (f16 ones where
 * pl.kv16), and its reference in double precision. */
struct attn_case {
        uint32_t dd, n_head, n_kv, nt, window, ring, ldq, od;
        int32_t p0;
        float *o;
        double *ref;
        struct vk_buf bq, bk, bv, bo, bt;
};

static void attn_case_free(struct attn_case *a) {
        free(a->o);
        free(a->ref);
        vk_buf_destroy(d, &a->bq);
        vk_buf_destroy(d, &a->bk);
        vk_buf_destroy(d, &a->bv);
        vk_buf_destroy(d, &a->bo);
        vk_buf_destroy(d, &a->bt);
}

static void attn_case_init(struct attn_case *a, uint32_t dd, uint32_t n_head, uint32_t n_kv, uint32_t nt, int32_t p0,
                           uint32_t window, uint32_t ring) {
        uint32_t kd = n_kv * dd, ldq = (n_head + 2 * n_kv) * dd, od = n_head * dd;
        _cleanup_free_ float *q = newa(float, (size_t) nt * ldq), *kc = newa(float, (size_t) ring * kd),
                             *vc = newa(float, (size_t) ring * kd);
        _cleanup_free_ double *w = newa(double, ring);
        _cleanup_free_ int32_t *tok = newa(int32_t, (size_t) nt * 4);
        float scale = 1.0f / sqrtf((float) dd);

        *a = (struct attn_case) { .dd = dd, .n_head = n_head, .n_kv = n_kv, .nt = nt, .window = window, .ring = ring,
                                  .ldq = ldq, .od = od, .p0 = p0, .o = newa(float, (size_t) nt * od),
                                  .ref = newa(double, (size_t) nt * od) };
        CHECK(q && kc && vc && a->o && a->ref && w && tok);
        for (size_t i = 0; i < (size_t) nt * ldq; i++)
                q[i] = 4.0f * frand();
        /* Slots the step does not see hold NaN: the kernel must not let them into any product. */
        int32_t first = window && p0 >= (int32_t) window ? p0 - (int32_t) window + 1 : 0, last = p0 + (int32_t) nt - 1;
        CHECK(last - first < (int32_t) ring);
        for (size_t i = 0; i < (size_t) ring * kd; i++)
                kc[i] = vc[i] = NAN;
        for (int32_t pp = first; pp <= last; pp++)
                for (uint32_t i = 0; i < kd; i++) {
                        kc[(size_t) ((uint32_t) pp % ring) * kd + i] = frand();
                        vc[(size_t) ((uint32_t) pp % ring) * kd + i] = frand();
                }
        /* A cache of f16 rows (pl.kv16): the reference takes the rows as rounded, the device the halves. */
        _cleanup_free_ uint16_t *k16 = pl.kv16 ? newa(uint16_t, (size_t) ring * kd) : NULL,
                                *v16 = pl.kv16 ? newa(uint16_t, (size_t) ring * kd) : NULL;
        CHECK(!pl.kv16 || (k16 && v16));
        for (size_t i = 0; pl.kv16 && i < (size_t) ring * kd; i++) {
                k16[i] = fp32_to_fp16(kc[i]);
                v16[i] = fp32_to_fp16(vc[i]);
                kc[i] = fp16_to_fp32(k16[i]);
                vc[i] = fp16_to_fp32(v16[i]);
        }
        size_t es = pl.kv16 ? 2 : 4; /* bytes a cached element */
        for (uint32_t t = 0; t < nt; t++) {
                tok[4 * t] = p0 + (int32_t) t;
                tok[4 * t + 1] = 0;
                tok[4 * t + 2] = tok[4 * t + 3] = 0;
        }
        for (uint32_t t = 0; t < nt; t++)
                for (uint32_t h = 0; h < n_head; h++) {
                        int32_t pos = p0 + (int32_t) t;
                        int32_t lo = window && pos >= (int32_t) window ? pos - (int32_t) window + 1 : 0;
                        const float *qr = q + (size_t) t * ldq + h * dd;
                        uint32_t kvh = h / (n_head / n_kv);
                        double mx = -INFINITY, sum = 0;
                        for (int32_t pp = lo; pp <= pos; pp++) {
                                const float *kr = kc + (size_t) ((uint32_t) pp % ring) * kd + kvh * dd;
                                double sc = 0;
                                for (uint32_t i = 0; i < dd; i++)
                                        sc += (double) qr[i] * kr[i];
                                w[pp - lo] = sc * scale;
                                mx = fmax(mx, w[pp - lo]);
                        }
                        for (int32_t pp = lo; pp <= pos; pp++)
                                sum += w[pp - lo] = exp(w[pp - lo] - mx);
                        /* Row by row of the cache, not element by element down it: the cases of 512
                         * tokens over 1,024-4,608 positions took minutes on the GPU machine's CPU. */
                        double *ref = a->ref + (size_t) t * od + h * dd;
                        for (uint32_t i = 0; i < dd; i++)
                                ref[i] = 0;
                        for (int32_t pp = lo; pp <= pos; pp++) {
                                const float *vr = vc + (size_t) ((uint32_t) pp % ring) * kd + kvh * dd;
                                for (uint32_t i = 0; i < dd; i++)
                                        ref[i] += w[pp - lo] * vr[i];
                        }
                        for (uint32_t i = 0; i < dd; i++)
                                ref[i] /= sum;
                }
        CHECK(vk_buf_create(d, (size_t) nt * ldq * 4, VK_MEM_DEVICE, &a->bq) == 0);
        CHECK(vk_buf_create(d, (size_t) ring * kd * es, VK_MEM_DEVICE, &a->bk) == 0);
        CHECK(vk_buf_create(d, (size_t) ring * kd * es, VK_MEM_DEVICE, &a->bv) == 0);
        CHECK(vk_buf_create(d, (size_t) nt * od * 4, VK_MEM_DEVICE, &a->bo) == 0);
        CHECK(vk_buf_create(d, (size_t) nt * 16, VK_MEM_DEVICE, &a->bt) == 0);
        CHECK(vk_buf_write(d, &a->bq, 0, q, (size_t) nt * ldq * 4) == 0);
        CHECK(vk_buf_write(d, &a->bk, 0, pl.kv16 ? (const void *) k16 : kc, (size_t) ring * kd * es) == 0);
        CHECK(vk_buf_write(d, &a->bv, 0, pl.kv16 ? (const void *) v16 : vc, (size_t) ring * kd * es) == 0);
        CHECK(vk_buf_write(d, &a->bt, 0, tok, (size_t) nt * 16) == 0);
}

static struct pc_attn attn_case_pc(const struct attn_case *a) {
        return (struct pc_attn) {
                .q = a->bq.addr, .kc = a->bk.addr, .vc = a->bv.addr, .dst = a->bo.addr, .tok = a->bt.addr,
                .n_head = a->n_head, .n_head_kv = a->n_kv, .head_dim = a->dd, .head_dim_v = a->dd, .ldq = a->ldq,
                .ring = a->ring, .window = a->window, .nt = a->nt, .scale = 1.0f / sqrtf((float) a->dd),
        };
}

/* attn_cm.comp (or attn_cm2.comp where made and the positions do not wrap the ring) on an attn_case
 * against double precision. False where the device has no such kernel for heads of dd. */
static bool test_attn_cm(uint32_t dd, uint32_t n_head, uint32_t n_kv, uint32_t nt, int32_t p0, uint32_t window,
                         uint32_t ring) {
        char err[256] = "";
        struct attn_case a;

        CHECK_MSG(vk_pipeline_attn(d, &pl, dd, dd, 1, err, sizeof err) == 0, "%s", err);
        if (!pl.p[VK_P_ATTN_CM])
                return false;
        attn_case_init(&a, dd, n_head, n_kv, nt, p0, window, ring);
        /* with the o projection's f16 rows beside the floats, and 4 halves past them that stay */
        size_t no = (size_t) nt * a.od;
        _cleanup_free_ uint16_t *h = newa(uint16_t, no + 4);
        struct vk_buf bh;
        CHECK(h);
        for (size_t i = 0; i < no + 4; i++)
                h[i] = 0xabcd;
        CHECK(vk_buf_create(d, (no + 4) * 2, VK_MEM_DEVICE, &bh) == 0);
        CHECK(vk_buf_write(d, &bh, 0, h, (no + 4) * 2) == 0);
        /* Split-K scratch for one token more than the step (the backend's is for its longest step),
         * its counters zeroed once, as the backend has them. */
        struct vk_buf bp;
        CHECK(vk_buf_create(d, vk_attn_pf_part_bytes(nt + 1, n_head, dd), VK_MEM_DEVICE, &bp) == 0);
        CHECK(vk_buf_fill0(d, &bp) == 0);
        CHECK(vk_cmd_begin(&cmd) == 0);
        cmd.exact = false; /* the matrix-core kernel runs only on default activations */
        struct pc_attn pa = attn_case_pc(&a);
        bool nv = vk_attn_cm2_ok(&cmd, &pa, p0);
        n_attn_nv += nv;
        uint32_t chunk, n_split = vk_attn_pf_split(&cmd, &pa, p0, &chunk);
        n_attn_split += n_split > 1;
        bool wrote16 = vk_op_attn_prefill(&cmd, &pa, bh.addr, p0, bp.addr, nt + 1);
        vk_cmd_barrier(&cmd);
        CHECK(vk_cmd_submit_wait(&cmd) == 0);
        CHECK(vk_buf_read(d, &a.bo, 0, a.o, no * 4) == 0);
        CHECK(vk_buf_read(d, &bh, 0, h, (no + 4) * 2) == 0);
        double e = nmse(a.o, a.ref, no);
        CHECK_MSG(e <= attn_cm_nmse_max, "attn_cm d=%u heads %u/%u nt=%u p0=%d window %u ring %u: NMSE %.3g > %.0e",
                  dd, n_head, n_kv, nt, p0, window, ring, e, attn_cm_nmse_max);
        uint32_t bad = 0;
        for (size_t i = 0; i < no; i++)
                bad += h[i] != fp32_to_fp16(a.o[i]);
        CHECK_MSG(wrote16 && bad == 0, "attn_cm d=%u nt=%u: f16 rows %s, %u halves differ from the floats rounded",
                  dd, nt, wrote16 ? "written" : "not written", bad);
        for (size_t i = no; i < no + 4; i++)
                CHECK_MSG(h[i] == 0xabcd, "attn_cm d=%u nt=%u: wrote halves past the rows", dd, nt);
        /* The last workgroup of each split set its counter back to 0. */
        size_t nc = vk_attn_pf_cnt_bytes(nt + 1, n_head) / 4;
        _cleanup_free_ uint32_t *cnt = newa(uint32_t, nc);
        CHECK(cnt && vk_buf_read(d, &bp, 0, cnt, nc * 4) == 0);
        for (size_t i = 0; i < nc; i++)
                CHECK_MSG(cnt[i] == 0, "attn_cm d=%u nt=%u: split counter %zu left at %u", dd, nt, i, cnt[i]);
        vk_buf_destroy(d, &bp);
        vk_buf_destroy(d, &bh);
        printf("attention on cooperative matrices (%s%s), d=%u heads %u/%u nt=%u p0=%d window %u: NMSE %.3g (%u query "
               "rows a workgroup, %u splits)\n", nv ? "NV, attn_cm2" : "KHR, attn_cm", pl.kv16 ? ", f16 cache" : "", dd,
               n_head, n_kv, nt, p0, window, e, nv ? pl.attn_cm2_bq : pl.attn_cm_bq, n_split);
        attn_case_free(&a);
        return true;
}

/* Decode attention (split over positions as the backend splits it) of nt tokens at p0.. against double
 * precision: on attn_dec.comp (VK_P_ATTN_DEC) where it suits the heads, and on attn.comp (f32 rows
 * only: that pipeline is made once, for the f32 cache). */
static void test_attn_dec(uint32_t dd, uint32_t n_head, uint32_t n_kv, uint32_t nt, int32_t p0, uint32_t window,
                          uint32_t ring) {
        char err[256] = "";
        struct attn_case a;
        struct vk_buf part;
        uint32_t len = (uint32_t) p0 + nt; /* the last token's span, as the backend takes it */

        CHECK_MSG(vk_pipeline_attn(d, &pl, dd, dd, n_head / n_kv, err, sizeof err) == 0, "%s", err);
        attn_case_init(&a, dd, n_head, n_kv, nt, p0, window, ring);
        if (window && len > window)
                len = window;
        uint32_t chunk, n_split = vk_attn_split(len, 16, &chunk);
        CHECK(vk_buf_create(d, ATTN_CNT_BYTES(n_head) + (size_t) nt * n_head * VK_ATTN_MAX_SPLIT * (dd + 2) * 4,
                            VK_MEM_DEVICE, &part) == 0);
        CHECK(vk_buf_fill0(d, &part) == 0);
        uint32_t dec_d = pl.attn_dec_d;
        for (int form = 0; form < 2; form++) {
                bool clusters = form == 0;
                if ((clusters && !dec_d) || (!clusters && pl.kv16))
                        continue;
                pl.attn_dec_d = clusters ? dec_d : 0; /* vk_op_attn takes VK_P_ATTN_DEC for heads of attn_dec_d */
                if (clusters)
                        n_attn_dec++;
                size_t no = (size_t) nt * a.od;
                for (size_t i = 0; i < no; i++)
                        a.o[i] = NAN;
                CHECK(vk_buf_write(d, &a.bo, 0, a.o, no * 4) == 0);
                CHECK(vk_cmd_begin(&cmd) == 0);
                struct pc_attn pa = attn_case_pc(&a);
                pa.chunk = chunk;
                vk_op_attn(&cmd, &pa, n_split, part.addr);
                vk_cmd_barrier(&cmd);
                CHECK(vk_cmd_submit_wait(&cmd) == 0);
                CHECK(vk_buf_read(d, &a.bo, 0, a.o, no * 4) == 0);
                double e = nmse(a.o, a.ref, no);
                CHECK_MSG(e <= 1e-9, "decode attention (%s) d=%u heads %u/%u nt=%u p0=%d window %u ring %u, %u splits: NMSE %.3g > 1e-9",
                          clusters ? "attn_dec" : "attn", dd, n_head, n_kv, nt, p0, window, ring, n_split, e);
                printf("decode attention (%s%s), d=%u heads %u/%u nt=%u p0=%d window %u, %u splits: NMSE %.3g\n",
                       clusters ? "attn_dec" : "attn", pl.kv16 ? ", f16 cache" : "", dd, n_head, n_kv, nt, p0, window,
                       n_split, e);
                if (clusters)
                        printf("  (attn_dec: %u heads a workgroup, clusters of %u lanes)\n", pl.attn_dec_g,
                               pl.attn_dec_c);
        }
        pl.attn_dec_d = dec_d;
        vk_buf_destroy(d, &part);
        attn_case_free(&a);
}

/* Decode attention cases: a first position, short spans, splits (two merge rounds from 17 on, the
 * most at 4,096), a sliding window over a wrapped ring, three tokens a step, head sizes of one to
 * several vec4 a lane (and 256, which small subgroups leave to attn.comp), groups of 1 to 7 query
 * heads a kv head. */
static void attn_dec_cases(void) {
        test_attn_dec(128, 4, 1, 1, 0, 0, 64);
        test_attn_dec(64, 3, 3, 1, 12, 0, 64);
        test_attn_dec(128, 7, 1, 1, 299, 0, 320);
        test_attn_dec(32, 4, 1, 3, 500, 0, 512);
        test_attn_dec(16, 4, 2, 1, 40, 0, 64);
        test_attn_dec(256, 4, 1, 1, 1000, 512, 640);
        test_attn_dec(128, 4, 2, 2, 4094, 0, 4096);
}

/* Prefill attention cases: causal from 0 over several query blocks, the last partial; earlier context;
 * a sliding window over a wrapped ring; odd head counts and sizes, those of the fixture models (16, 32)
 * and real ones. */
static void attn_cm_cases(void) {
        CHECK(test_attn_cm(256, 2, 1, 37, 50, 0, 128));
        CHECK(test_attn_cm(256, 4, 1, 150, 0, 0, 256));
        CHECK(test_attn_cm(256, 4, 2, 90, 600, 512, 640));
        CHECK(test_attn_cm(64, 3, 3, 70, 100, 40, 110));
        CHECK(test_attn_cm(96, 2, 1, 20, 7, 0, 64));
        CHECK(test_attn_cm(16, 4, 2, 24, 0, 0, 64));
        CHECK(test_attn_cm(32, 4, 1, 65, 3, 0, 128));
        CHECK(test_attn_cm(128, 7, 1, 512, 0, 0, 512));
}

/* The prefill attention split over positions (UNICORN_VK_ATTN_PF_SPLITS): earlier context over several
 * splits, a sliding window over a wrapped ring, causal from 0 (the first query blocks' later splits
 * see nothing), f16 rows, 8 splits that the span cuts short. On attn_cm.comp (the NV kernel off), then
 * where the device has NV matrices on attn_cm2.comp, which takes all but the wrapped ring, and that one
 * on its WRAP form. */
static void attn_split_cases(void) {
        const char *cm2 = getenv("UNICORN_VK_ATTN_CM2");
        char *keep = cm2 ? strdup(cm2) : NULL;
        char err[256] = "";

        for (int nv = 0; nv < (pl.coopmat2 && d->coopmat2_attn ? 2 : 1); nv++) {
                setenv("UNICORN_VK_ATTN_CM2", nv ? "1" : "0", 1);
                CHECK_MSG(vk_pipeline_attn(d, &pl, 0, 0, 0, err, sizeof err) == 0, "%s", err);
                n_attn_split = n_attn_nv = 0;
                /* Only the pipelines attn-quick makes anyway (Mesa 26.1's lavapipe compiles each for
                 * minutes); spans of at least 3 blocks of 64. */
                setenv("UNICORN_VK_ATTN_PF_SPLITS", "3", 1);
                CHECK(test_attn_cm(128, 4, 2, 40, 300, 0, 512));
                CHECK(test_attn_cm(256, 4, 2, 90, 600, 512, 640));
                pl.kv16 = true;
                CHECK(test_attn_cm(128, 4, 2, 200, 0, 0, 256));
                CHECK(test_attn_cm(64, 3, 3, 70, 300, 0, 512));
                pl.kv16 = false;
                setenv("UNICORN_VK_ATTN_PF_SPLITS", "8", 1);
                CHECK(test_attn_cm(128, 4, 2, 20, 300, 0, 512));
                unsetenv("UNICORN_VK_ATTN_PF_SPLITS");
                CHECK_MSG(n_attn_split == 5, "%s split %d of 5 cases", nv ? "attn_cm2" : "attn_cm",
                          n_attn_split);
                /* All but the wrapped ring; that one too on the WRAP form, made by default. */
                int want_nv = nv ? (pl.p[VK_P_ATTN_CM2_WRAP] ? 5 : 4) : 0;
                CHECK_MSG(n_attn_nv == want_nv, "attn_cm2 ran %d of the split cases, not %d", n_attn_nv, want_nv);
        }
        CHECK(vk_pipeline_attn(d, &pl, 0, 0, 0, err, sizeof err) == 0);
        if (keep)
                setenv("UNICORN_VK_ATTN_CM2", keep, 1);
        else
                unsetenv("UNICORN_VK_ATTN_CM2");
        free(keep);
}

/* Pipelines made for some weight types only (a model's): the others are absent, and a step that
 * dispatches one fails with -EINVAL instead of binding no pipeline; the next step runs. */
static void test_wtype_subset(void) {
        struct vk_pipelines sub = {};
        struct vk_cmd c = {};
        struct vk_buf b;
        char err[256];

        CHECK_MSG(vk_pipelines_create(d, &sub, 1u << VK_W_Q8_0, 0, 0, 0, false, err, sizeof err) == 0, "%s", err);
        CHECK(sub.p[VK_P_MATVEC + VK_W_Q8_0] && sub.p[VK_P_MATMUL + VK_W_Q8_0] && sub.p[VK_P_GET_ROWS + VK_W_Q8_0]);
        /* Float rows by index are made whatever the types (the last layer's gather, vk_decode). */
        for (int t = 0; t < VK_W_COUNT; t++)
                if (t != VK_W_Q8_0)
                        CHECK_MSG(!sub.p[VK_P_MATVEC + t] && !sub.p[VK_P_MATMUL + t] &&
                                          !sub.p[VK_P_GET_ROWS + t] == (t != VK_W_F32) && !sub.p[VK_P_MATMUL_CM2 + t] &&
                                          !sub.p[VK_P_MATVEC_Q8 + t],
                                  "type %d has pipelines it was not asked for", t);
        CHECK(sub.p[VK_P_NORM] && sub.p[VK_P_ATTN] && sub.p[VK_P_CVT16]);
        CHECK(vk_cmd_init(d, &sub, &c) == 0);
        CHECK(vk_buf_create(d, 1 << 16, VK_MEM_DEVICE, &b) == 0);
        CHECK(vk_cmd_begin(&c) == 0);
        vk_op_matmul(&c, VK_W_Q4_0, b.addr, 18, 32, 4, b.addr, 0, 32, 1, b.addr + 32768, 4, 0, false);
        CHECK_RET(vk_cmd_submit_wait(&c), -EINVAL);
        CHECK(vk_cmd_begin(&c) == 0);
        vk_op_cvt16(&c, b.addr, 32, 32, 1, b.addr + 32768, 32);
        CHECK_RET(vk_cmd_submit_wait(&c), 0);
        vk_buf_destroy(d, &b);
        vk_cmd_free(&c);
        vk_pipelines_destroy(d, &sub);
        printf("pipelines of one weight type: others absent, their dispatch fails the step with -EINVAL\n");
}

/* The prefill tile checks and choice (vk-pipeline.c) at the limits of a few kinds of device: they
 * decide what the coopmat kernels are built with, and the devices here have only some of them. */
static void test_cm_tiles(void) {
        VkPhysicalDeviceLimits nv = { .maxComputeSharedMemorySize = 49152, .maxComputeWorkGroupInvocations = 1024,
                                      .maxComputeWorkGroupSize = { 1024, 1024, 64 } },
                               small = nv;
        struct vk_pipelines p = {};
        const char *why, *shape = getenv("UNICORN_VK_ATTN_CM_SHAPE");
        _cleanup_free_ char *user_shape = shape ? strdup(shape) : NULL;

        /* What is checked here are the defaults; a shape given to the kernel tests below stays. */
        unsetenv("UNICORN_VK_ATTN_CM_SHAPE");
        /* Which products on which subgroups: 16x16x16 on 16-64 lanes, else 8x8x8 on 8-16 (lavapipe). */
        CHECK(vk_cm_matrix_size(32, true, true) == 16 && vk_cm_matrix_size(64, true, false) == 16 &&
              vk_cm_matrix_size(16, true, true) == 16 && vk_cm_matrix_size(8, true, true) == 8 &&
              vk_cm_matrix_size(16, false, true) == 8 && vk_cm_matrix_size(32, false, true) == 0 &&
              vk_cm_matrix_size(8, true, false) == 0 && vk_cm_matrix_size(128, true, true) == 0 &&
              vk_cm_matrix_size(0, true, true) == 0);
        CHECK(vk_cm_tiles_pick(&nv, 16, 32, &p) && p.cm_force == -1);
        CHECK(p.cm_tile[0].bm == 128 && p.cm_tile[0].bn == 128 && p.cm_tile[0].nt == 512);
        CHECK(p.cm_tile[1].bm == 64 && p.cm_tile[1].bn == 64 && p.cm_tile[1].nt == 256);
        CHECK(p.cm_tile[0].ms == 16 && p.cm_tile[0].sg == 32 && p.cm_tile[1].ms == 16 && p.cm_tile[1].sg == 32);
        /* Subgroups of 8 with 8x8x8 products: the same tiles in 8-lane subgroups. */
        CHECK(vk_cm_tiles_pick(&nv, 8, 8, &p) && p.cm_tile[0].nt == 128 && p.cm_tile[1].nt == 64 &&
              p.cm_tile[0].ms == 8 && p.cm_tile[1].sg == 8);
        CHECK(!vk_cm_tiles_pick(&nv, 8, 32, &p) && !vk_cm_tiles_pick(&nv, 16, 8, &p));
        /* 32 KiB of shared memory and 256 invocations: the 40 KiB, 512-invocation tile does not fit. */
        small.maxComputeSharedMemorySize = 32768;
        small.maxComputeWorkGroupInvocations = 256;
        CHECK(vk_cm_tiles_pick(&small, 16, 32, &p));
        CHECK(p.cm_tile[0].bm == 128 && p.cm_tile[0].bn == 64 && p.cm_tile[0].nt == 256);
        /* 16 KiB (what Vulkan guarantees): no tile, so no coopmat kernel. */
        small.maxComputeSharedMemorySize = 16384;
        CHECK(!vk_cm_tiles_pick(&small, 16, 32, &p));
        struct vk_cm_tile bad[] = {
                { 128, 128, 64, 64, 64, 2 }, /* 73,728 bytes of shared memory */
                { 128, 128, 16, 16, 32, 2 }, /* 2048 invocations */
                { 96, 64, 32, 32, 32, 2 },   /* 64 tokens x 8 vec4 over 192 invocations */
                { 128, 128, 24, 32, 32, 2 }, /* not whole 16x16 products */
                { 128, 128, 32, 8, 32, 2 },  /* the same */
                { 128, 128, 32, 32, 48, 2 }, /* BK */
                { 128, 128, 32, 32, 32, 3 }, /* buffers */
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                CHECK_MSG(!vk_cm_tile_ok(&nv, 16, 32, &bad[i], &why), "tile %zu taken", i);
        struct vk_cm_tile one = { 128, 128, 32, 32, 64, 1 }, eight = { 128, 128, 32, 8, 32, 2 };
        CHECK(vk_cm_tile_ok(&nv, 16, 32, &one, &why) && one.nt == 512);
        CHECK(vk_cm_tile_ok(&nv, 8, 8, &eight, &why) && eight.nt == 512); /* whole 8x8 products */
        /* attn_cm.comp: 4 subgroups, 32 positions (64 for heads up to 128), heads over 128 split 4 ways
         * (a head of 160, 10 tiles, 2 ways), in 48 KiB; in 16 KiB blocks of 16 and, for heads over 64, 2
         * subgroups (of one row block for heads of 256, split 2 ways); a start from the environment, one
         * that does not divide the head ignored; head sizes it cannot take. 8-lane subgroups of 8x8x8
         * products (lavapipe): 4 of them, the same blocks. */
        struct vk_attn_cm_shape acs;
#define ACS(lim, dd, n, b, s_)                                                                                 \
        (vk_attn_cm_pick(&(lim), dd, 16, 32, &acs) && acs.nt == (n) && acs.bkv == (b) && acs.ds == (s_) &&      \
         acs.ms == 16 && acs.sg == 32)
        CHECK(ACS(nv, 128, 128, 64, 1) && ACS(nv, 256, 128, 32, 4) && ACS(nv, 64, 128, 64, 1) && ACS(nv, 32, 128, 64, 1));
        CHECK(ACS(nv, 160, 128, 32, 2));
        CHECK(ACS(small, 128, 64, 16, 1) && ACS(small, 256, 64, 16, 2) && ACS(small, 64, 128, 16, 1));
        setenv("UNICORN_VK_ATTN_CM_SHAPE", "64,32,4", 1);
        CHECK(ACS(nv, 256, 128, 32, 4)); /* 2 subgroups cannot split 4 ways */
        setenv("UNICORN_VK_ATTN_CM_SHAPE", "256,64,4", 1);
        CHECK(ACS(nv, 256, 256, 16, 4) && ACS(nv, 96, 128, 64, 1));
        unsetenv("UNICORN_VK_ATTN_CM_SHAPE");
#undef ACS
        CHECK(vk_attn_cm_pick(&nv, 256, 8, 8, &acs) && acs.nt == 32 && acs.bkv == 32 && acs.ds == 4 && acs.ms == 8);
        CHECK(vk_attn_cm_pick(&nv, 72, 8, 8, &acs) && acs.nt == 32 && acs.bkv == 64 && acs.ds == 1);
        CHECK(!vk_attn_cm_pick(&nv, 72, 16, 32, &acs) && !vk_attn_cm_pick(&nv, 272, 16, 32, &acs) &&
              !vk_attn_cm_pick(&nv, 0, 16, 32, &acs) && !vk_attn_cm_pick(&nv, 128, 16, 8, &acs));
        if (user_shape)
                setenv("UNICORN_VK_ATTN_CM_SHAPE", user_shape, 1);
        /* The matrix kernels' 32 lanes a subgroup: as they are where that is the default (NVIDIA);
         * required where the default differs and the device lets it be required for compute in full
         * subgroups (RADV on RDNA: default 64, sizes 32-64; an Intel-like 8-32); not where 32 is out of
         * range (lavapipe: 8), not required-able for compute, without full subgroups or with too few
         * subgroups a workgroup. */
        CHECK(vk_subgroup32_mode(32, false, false, 0, 0, false, 0) == 0);
        CHECK(vk_subgroup32_mode(64, true, true, 32, 64, true, UINT32_MAX) == 1);
        CHECK(vk_subgroup32_mode(16, true, true, 8, 32, true, 128) == 1);
        CHECK(vk_subgroup32_mode(8, true, true, 8, 8, true, UINT32_MAX) < 0);
        CHECK(vk_subgroup32_mode(64, false, true, 32, 64, true, UINT32_MAX) < 0);
        CHECK(vk_subgroup32_mode(64, true, false, 32, 64, true, UINT32_MAX) < 0);
        CHECK(vk_subgroup32_mode(64, true, true, 32, 64, false, UINT32_MAX) < 0);
        CHECK(vk_subgroup32_mode(64, true, true, 32, 64, true, 16) < 0);
        CHECK(vk_subgroup32_mode(64, true, true, 64, 64, true, UINT32_MAX) < 0);
        /* The NV kernel's wide tile (H200: 132 multiprocessors, 128 and 256 tokens): taken for the Gemma
         * 3 27B FFN products of a 512-token prefill, where it measured 1.15-1.3x faster, not for its q
         * projection (4096 rows), where the narrow grid is one round and measured 1.6x faster; never
         * for a batch that fits one narrow tile, nor without a multiprocessor count. */
        struct vk_pipelines c2 = { .cm2_sms = 132, .cm2_bn = 128, .cm2_wide_bn = 256 };
        CHECK(vk_cm2_wide(&c2, 21504, 5376, 512) && vk_cm2_wide(&c2, 5376, 21504, 512));
        CHECK(!vk_cm2_wide(&c2, 4096, 5376, 512) && !vk_cm2_wide(&c2, 21504, 5376, 128) &&
              !vk_cm2_wide(&c2, 10240, 2560, 512));
        /* With f16 sums a wide workgroup costs less against a narrow one: the Qwen2.5 7B FFN's 18944 rows
         * (3 rounds against 5) take it, as measured (1.02x Q4_0, 1.14x Q4_K). */
        CHECK(!vk_cm2_wide(&c2, 18944, 3584, 512));
        c2.cm2_acc16 = true;
        CHECK(vk_cm2_wide(&c2, 18944, 3584, 512) && !vk_cm2_wide(&c2, 4096, 5376, 512) &&
              !vk_cm2_wide(&c2, 10240, 2560, 512));
        /* Short rows keep the narrow tile, where the rounds alone would take the wide one: Qwen2.5 0.5B
         * (4864 x 896) and Gemma 3 1B (6912 x 1152) ran pp512 2-9% slower with it. */
        CHECK(!vk_cm2_wide(&c2, 4864, 896, 512) && !vk_cm2_wide(&c2, 6912, 1152, 512));
        CHECK(vk_cm2_wide_bk(&c2, VK_W_Q4_K) == 64 && vk_cm2_wide_bk(&c2, VK_W_Q6_K) == 64 &&
              vk_cm2_wide_bk(&(struct vk_pipelines) { .cm2_wide_bk = 32 }, VK_W_Q4_0) == 32);
        c2.cm2_sms = 0;
        CHECK(!vk_cm2_wide(&c2, 21504, 5376, 512));
        /* The small tile (64 tokens) where its grid fits in one round: Qwen2.5 0.5B's q/o/down (7 x 8
         * workgroups) and k (1 x 8), Gemma 3 4B's q (16 x 8); not its gate (38 x 8), nor Qwen2.5 7B's
         * q (28 x 8), nor where the small grid overfills one round (100 tokens on 18944 rows: 148 x 2);
         * but for a batch of at most 64 tokens, whatever the grid. */
        c2 = (struct vk_pipelines) { .cm2_sms = 132, .cm2_bn = 128, .cm2_small_bn = 64 };
        CHECK(vk_cm2_small(&c2, 896, 512) && vk_cm2_small(&c2, 128, 512) && vk_cm2_small(&c2, 2048, 512));
        CHECK(!vk_cm2_small(&c2, 4864, 512) && !vk_cm2_small(&c2, 3584, 512) && !vk_cm2_small(&c2, 18944, 100));
        CHECK(vk_cm2_small(&c2, 896, 64) && vk_cm2_small(&c2, 18944, 30));
        CHECK(vk_cm2_small(&c2, 896, 100));
        c2.cm2_small_bn = 0;
        CHECK(!vk_cm2_small(&c2, 896, 512));
        /* Split-K: Gemma 3 4B's k and v products at 512 tokens (8 x 4 tiles, k 2560) in 4 slices of 768
         * columns; its down (20 x 4, k 10240) in 3; not its gate (80 x 4) nor rows under 2048; slices
         * fewer where the last would be empty (k 2304 on one tile: 5 of 512); none with cm2_split 0. */
        uint32_t ks = 0;
        c2 = (struct vk_pipelines) { .cm2_sms = 132, .cm2_split = 8, .cm2_split_k = 2048 };
        CHECK(vk_cm2_split(&c2, 32, 2560, &ks) == 4 && ks == 768);
        CHECK(vk_cm2_split(&c2, 80, 10240, &ks) == 3 && ks == 3584);
        CHECK(vk_cm2_split(&c2, 8, 2048, &ks) == 8 && ks == 256);
        CHECK(vk_cm2_split(&c2, 1, 2304, &ks) == 5 && ks == 512);
        CHECK(vk_cm2_split(&c2, 320, 2560, &ks) == 1 && vk_cm2_split(&c2, 32, 1024, &ks) == 1);
        c2.cm2_split = 0;
        CHECK(vk_cm2_split(&c2, 32, 2560, &ks) == 1);
        /* llama.cpp's choice (UNICORN_VK_CM2_RULE=llama), 512 tokens on 132 multiprocessors, Q4_K with a wide
         * and a small pipeline, Q4_0 without: Gemma 3 4B's gate wide and unsplit, its down and o wide in 3
         * slices, its q narrow in 2; Qwen2.5 7B's down narrow and unsplit, its k narrow in 7, its gate wide;
         * 48 tokens the small tile, unsplit (fewer tokens than a tile). */
        struct vk_pipelines c3 = { .cm2_sms = 132, .cm2_bn = 128, .cm2_wide_bn = 256, .cm2_small_bn = 64,
                                   .cm2_split = 8, .cm2_split_k = 2048 };
        const enum vk_pipe n4 = VK_P_MATMUL_CM2 + VK_W_Q4_K, w4 = VK_P_MATMUL_CM2_WIDE + VK_W_Q4_K;
        uint32_t bn = 0, sp = 0;
        c3.p[w4] = c3.p[VK_P_MATMUL_CM2_SMALL + VK_W_Q4_K] = (VkPipeline) (uintptr_t) 1;
        CHECK(vk_cm2_pick_llama(&c3, VK_W_Q4_K, 10240, 2560, 512, true, false, &bn, &sp, &ks) ==
              w4 && bn == 256 && sp == 1);
        CHECK(vk_cm2_pick_llama(&c3, VK_W_Q4_K, 2560, 10240, 512, true, false, &bn, &sp, &ks) ==
              w4 && sp == 3 && ks == 3584);
        CHECK(vk_cm2_pick_llama(&c3, VK_W_Q4_K, 2560, 2048, 512, true, false, &bn, &sp, &ks) ==
              w4 && sp == 3 && ks == 768);
        CHECK(vk_cm2_pick_llama(&c3, VK_W_Q4_K, 2048, 2560, 512, true, false, &bn, &sp, &ks) ==
              n4 && bn == 128 && sp == 2 && ks == 1280);
        CHECK(vk_cm2_pick_llama(&c3, VK_W_Q4_K, 3584, 18944, 512, true, false, &bn, &sp, &ks) == n4 && sp == 1);
        CHECK(vk_cm2_pick_llama(&c3, VK_W_Q4_K, 512, 3584, 512, true, false, &bn, &sp, &ks) ==
              n4 && sp == 7 && ks == 512);
        CHECK(vk_cm2_pick_llama(&c3, VK_W_Q4_K, 18944, 3584, 512, true, false, &bn, &sp, &ks) == w4 && sp == 1);
        CHECK(vk_cm2_pick_llama(&c3, VK_W_Q4_K, 2048, 2560, 48, true, false, &bn, &sp, &ks) ==
                      VK_P_MATMUL_CM2_SMALL + VK_W_Q4_K && bn == 64 && sp == 1);
        /* ... but split where the partial tile runs as a whole one (MM_XPAD): 16 tiles, 5 slices of 512. */
        CHECK(vk_cm2_pick_llama(&c3, VK_W_Q4_K, 2048, 2560, 48, true, true, &bn, &sp, &ks) ==
                      VK_P_MATMUL_CM2_SMALL + VK_W_Q4_K && bn == 64 && sp == 5 && ks == 512);
        /* A padded batch's tokens past its last whole tile as a product of their own, picked for their count
         * (cm2_tail): Llama 3 8B's down product of 300 tokens as 256 on the wide tile and 44 on the small
         * one in 4 slices (32 tiles), unsplit without the scratch; 352 on 4096 x 4096 as 256 and 96 on the
         * narrow tile in 4. None where that saves fewer tokens than a narrow tile: 300 on the narrow tile
         * (44 small saves 64), short rows on it (the rounds rule), 400 on the wide tile (144 on two narrow
         * tiles saves none); none without a whole tile (200) or a tail (384 on the narrow tile), unpadded,
         * or off. */
        {
                struct vk_cmd cc = { .pl = &c3, .x16_pad = true, .splitk = { .addr = 1 } };
                const enum vk_pipe s4 = VK_P_MATMUL_CM2_SMALL + VK_W_Q4_K;
                uint32_t tb = 0, tsp = 0, tks = 0;
                c3.cm2_tail = true;
                CHECK(vk_cm2_tail(&cc, VK_W_Q4_K, 4096, 14336, 300, 256, &tb, &tsp, &tks) == s4 && tb == 64 &&
                      tsp == 4 && tks == 3584);
                CHECK(vk_cm2_tail(&cc, VK_W_Q4_K, 4096, 4096, 352, 256, &tb, &tsp, &tks) == n4 && tb == 128 &&
                      tsp == 4 && tks == 1024);
                CHECK(!vk_cm2_tail(&cc, VK_W_Q4_K, 4096, 4096, 300, 128, &tb, &tsp, &tks) &&
                      !vk_cm2_tail(&cc, VK_W_Q4_K, 896, 896, 300, 128, &tb, &tsp, &tks));
                CHECK(!vk_cm2_tail(&cc, VK_W_Q4_K, 4096, 4096, 400, 256, &tb, &tsp, &tks) &&
                      !vk_cm2_tail(&cc, VK_W_Q4_K, 4096, 4096, 200, 256, &tb, &tsp, &tks) &&
                      !vk_cm2_tail(&cc, VK_W_Q4_K, 4096, 4096, 384, 128, &tb, &tsp, &tks));
                cc.splitk.addr = 0;
                CHECK(vk_cm2_tail(&cc, VK_W_Q4_K, 4096, 14336, 300, 256, &tb, &tsp, &tks) == s4 && tsp == 1);
                cc.x16_pad = false;
                CHECK(!vk_cm2_tail(&cc, VK_W_Q4_K, 4096, 14336, 300, 256, &tb, &tsp, &tks));
                cc.x16_pad = true;
                c3.cm2_tail = false;
                CHECK(!vk_cm2_tail(&cc, VK_W_Q4_K, 4096, 14336, 300, 256, &tb, &tsp, &tks));
        }
        /* No wide pipeline for the type, no split scratch, no multiprocessor count: the narrow tile, unsplit
         * where it cannot split. */
        CHECK(vk_cm2_pick_llama(&c3, VK_W_Q4_0, 10240, 2560, 512, true, false, &bn, &sp, &ks) ==
              VK_P_MATMUL_CM2 + VK_W_Q4_0 && bn == 128 && sp == 1);
        CHECK(vk_cm2_pick_llama(&c3, VK_W_Q4_K, 2560, 10240, 512, false, false, &bn, &sp, &ks) == w4 && sp == 1);
        /* The default (VK_CM2_RULE_AUTO): llama.cpp's choice on rows of 2048 columns or more, where it was
         * faster (H100 pp512: Gemma 3 4B Q4_K +6%, 27B Q4_0 +8%; 4B's down wide in 3 slices, 27B's down
         * wide in 3), the rounds rule on shorter ones, where it was (Qwen2.5 0.5B: 6% slower with
         * llama.cpp's gate and up wide and o narrow). And each rule alone where asked for. */
        c3.p[VK_P_MATMUL_CM2_WIDE + VK_W_Q4_0] = c3.p[VK_P_MATMUL_CM2_SMALL + VK_W_Q4_0] = (VkPipeline) (uintptr_t) 1;
        c3.cm2_acc16 = true;
        const enum vk_pipe n0 = VK_P_MATMUL_CM2 + VK_W_Q4_0, w0 = VK_P_MATMUL_CM2_WIDE + VK_W_Q4_0,
                           s0 = VK_P_MATMUL_CM2_SMALL + VK_W_Q4_0;
        CHECK(vk_cm2_pick(&c3, VK_W_Q4_K, 2560, 10240, 512, true, false, &bn, &sp, &ks) ==
              w4 && bn == 256 && sp == 3 &&
              ks == 3584);
        CHECK(vk_cm2_pick(&c3, VK_W_Q4_0, 5376, 21504, 512, true, false, &bn, &sp, &ks) ==
              w0 && sp == 3 && ks == 7168);
        CHECK(vk_cm2_pick(&c3, VK_W_Q4_0, 9728, 896, 512, true, false, &bn, &sp, &ks) == n0 && bn == 128 && sp == 1);
        CHECK(vk_cm2_pick(&c3, VK_W_Q4_0, 896, 896, 512, true, false, &bn, &sp, &ks) == s0 && bn == 64 && sp == 1);
        CHECK(vk_cm2_pick(&c3, VK_W_Q4_0, 1152, 6912, 512, true, false, &bn, &sp, &ks) ==
              n0 && sp == 3 && ks == 2304);
        c3.cm2_rule = VK_CM2_RULE_ROUNDS;
        CHECK(vk_cm2_pick(&c3, VK_W_Q4_K, 2560, 10240, 512, true, false, &bn, &sp, &ks) ==
              n4 && bn == 128 && sp == 3);
        CHECK(vk_cm2_pick(&c3, VK_W_Q4_0, 5376, 21504, 512, true, false, &bn, &sp, &ks) ==
              w0 && bn == 256 && sp == 1);
        CHECK(vk_cm2_pick(&c3, VK_W_Q4_0, 9728, 896, 512, true, false, &bn, &sp, &ks) == n0 && sp == 1);
        CHECK(vk_cm2_pick(&c3, VK_W_Q4_K, 2560, 10240, 512, false, false, &bn, &sp, &ks) == n4 && sp == 1);
        c3.cm2_rule = VK_CM2_RULE_LLAMA;
        CHECK(vk_cm2_pick(&c3, VK_W_Q4_0, 9728, 896, 512, true, false, &bn, &sp, &ks) == w0 && bn == 256 && sp == 1);
        CHECK(vk_cm2_pick(&c3, VK_W_Q4_0, 896, 896, 512, true, false, &bn, &sp, &ks) == n0 && bn == 128);
        c3.cm2_rule = VK_CM2_RULE_AUTO;
        c3.cm2_sms = 0;
        CHECK(vk_cm2_pick_llama(&c3, VK_W_Q4_K, 10240, 2560, 512, true, false, &bn, &sp, &ks) ==
              n4 && bn == 128 && sp == 1);
        CHECK(vk_cm2_pick(&c3, VK_W_Q4_0, 896, 896, 512, true, false, &bn, &sp, &ks) == n0 && sp == 1);
        printf("cooperative-matrix tile choice: ok\n");
}

/* The prefill attention's split rule on 132 multiprocessors (host arithmetic; the pipelines are never
 * dispatched). 512 tokens after 3,584 positions: Qwen2.5 7B's 28 heads of 128 on the NV kernel (8 query
 * blocks of 64, 224 workgroups) unsplit, as measured (run119.sh, run120); on the KHR kernel (blocks of
 * 64 too) in 3; a step whose positions wrap the ring goes to the KHR kernel and its rule; Gemma 3 1B's
 * and 4B's heads of 256 (16 blocks of 32: 64 and 128 workgroups) on the NV kernel; no split where the
 * multiprocessor count is unknown, nor where UNICORN_VK_ATTN_PF_SPLITS=1 left it 0. */
static void test_attn_pf_split_rule(void) {
        static struct vk_device dv;
        struct vk_pipelines p = { .attn_cm_d = 128, .attn_cm_bq = 64, .attn_cm_bkv = 64, .attn_cm2_bq = 64,
                                  .attn_cm2_bkv = 64, .attn_pf_split = VK_ATTN_PF_AUTO };
        struct vk_cmd c = { .d = &dv, .pl = &p };
        struct pc_attn a = { .n_head = 28, .n_head_kv = 4, .head_dim = 128, .head_dim_v = 128, .ring = 8192,
                             .nt = 512 };
        uint32_t chunk;

        dv.sm_count = 132;
        p.p[VK_P_ATTN_CM] = p.p[VK_P_ATTN_CM2] = (VkPipeline) (uintptr_t) 1;
        CHECK(vk_attn_cm2_ok(&c, &a, 3584) && vk_attn_pf_split(&c, &a, 3584, &chunk) == 1 && chunk == 0);
        p.p[VK_P_ATTN_CM2] = VK_NULL_HANDLE;
        CHECK(vk_attn_pf_split(&c, &a, 3584, &chunk) == 3 && chunk == 1408);
        p.p[VK_P_ATTN_CM2] = (VkPipeline) (uintptr_t) 1;
        /* A window of 1024 over a ring of 1536: positions 2561..4095 lie in slots 1025.. and wrap. */
        a.window = 1024;
        a.ring = 1536;
        CHECK(!vk_attn_cm2_ok(&c, &a, 3584) && vk_attn_pf_split(&c, &a, 3584, &chunk) == 3 && chunk == 384);
        /* The NV kernel's WRAP form (made by default) takes it, unsplit as the NV rule has
         * it; not a span longer than the ring. */
        p.p[VK_P_ATTN_CM2_WRAP] = (VkPipeline) (uintptr_t) 1;
        CHECK(vk_attn_cm2_ok(&c, &a, 3584) && vk_attn_pf_split(&c, &a, 3584, &chunk) == 1);
        a.ring = 1534;
        CHECK(!vk_attn_cm2_ok(&c, &a, 3584));
        p.p[VK_P_ATTN_CM2_WRAP] = VK_NULL_HANDLE;
        /* Which steps wrap: Gemma 3 4B's sliding layers (window 1024, ring 1536) from 3,584 (first visible
         * position 2,561: slot 1,025) but not from 4,096 (3,073: slot 1); 1B's (window 512, ring 1024)
         * from 4,096 (3,585: slot 513) but not from 3,584 (3,073: slot 1). */
        a.ring = 1536;
        CHECK(!vk_attn_cm2_ok(&c, &a, 3584) && vk_attn_cm2_ok(&c, &a, 4096));
        a.window = 512;
        a.ring = 1024;
        CHECK(!vk_attn_cm2_ok(&c, &a, 4096) && vk_attn_cm2_ok(&c, &a, 3584));
        p = (struct vk_pipelines) { .attn_cm_d = 256, .attn_cm_bq = 32, .attn_cm_bkv = 32, .attn_cm2_bq = 32,
                                    .attn_cm2_bkv = 32, .attn_pf_split = VK_ATTN_PF_AUTO };
        p.p[VK_P_ATTN_CM] = p.p[VK_P_ATTN_CM2] = (VkPipeline) (uintptr_t) 1;
        a = (struct pc_attn) { .n_head = 4, .n_head_kv = 1, .head_dim = 256, .head_dim_v = 256, .ring = 8192,
                               .nt = 512 };
        /* Over a span of 4,096 positions llama.cpp's count, one wave of two workgroups a multiprocessor
         * (264 / 64): 4 splits of 1,024; the rule of heads up to 128 (auto4) made 8 (4 x 132 / 64, 9,
         * capped). From an empty context (a span of 512) the latter, capped at 4 blocks of 32 a split.
         * Gemma 3 4B's 8 heads (128 workgroups): 2 deep, 4 from 0. */
        CHECK(vk_attn_cm2_ok(&c, &a, 3584) && vk_attn_pf_split(&c, &a, 3584, &chunk) == 4 && chunk == 1024);
        CHECK(vk_attn_pf_split(&c, &a, 0, &chunk) == 4 && chunk == 128);
        p.attn_pf_split = VK_ATTN_PF_AUTO4;
        CHECK(vk_attn_pf_split(&c, &a, 3584, &chunk) == 8 && chunk == 512);
        p.attn_pf_split = VK_ATTN_PF_AUTO;
        a.n_head = 8;
        a.n_head_kv = 4;
        CHECK(vk_attn_pf_split(&c, &a, 4096, &chunk) == 2 && chunk == 2304);
        CHECK(vk_attn_pf_split(&c, &a, 0, &chunk) == 4 && chunk == 128);
        /* A sliding layer's step after 4,096 positions (window 1,024): the last query block's span is
         * 1,055 positions (3,553..4,607), so 2 of 544. */
        a.window = 1024;
        a.ring = 1536;
        CHECK(vk_attn_pf_split(&c, &a, 4096, &chunk) == 2 && chunk == 544);
        a.window = 0;
        a.ring = 8192;
        a.n_head = 4;
        a.n_head_kv = 1;
        dv.sm_count = 0;
        CHECK(vk_attn_pf_split(&c, &a, 3584, &chunk) == 1);
        dv.sm_count = 132;
        p.attn_pf_split = 0;
        CHECK(vk_attn_pf_split(&c, &a, 3584, &chunk) == 1);
        p.p[VK_P_ATTN_CM] = p.p[VK_P_ATTN_CM2] = VK_NULL_HANDLE;
        printf("prefill attention split rule: ok\n");
}

/* Every pipeline slot has a name of its own (the profile's lines, UNICORN_VK_PROFILE=1), and the ranges
 * by weight type name the type. */
static void test_pipe_names(void) {
        static char names[VK_P_COUNT][48];

        for (int i = 0; i < VK_P_COUNT; i++) {
                vk_pipe_name((enum vk_pipe) i, names[i], sizeof names[i]);
                CHECK_MSG(!streq(names[i], "?"), "pipeline %d has no name", i);
                for (int j = 0; j < i; j++)
                        CHECK_MSG(!streq(names[i], names[j]), "pipelines %d and %d are both %s", j, i, names[i]);
        }
        CHECK(streq(names[VK_P_MATMUL_CM2_WIDE + VK_W_Q4_K], "matmul_cm2_wide_q4_k"));
        CHECK(streq(names[VK_P_ATTN_DEC], "attn_dec"));
        CHECK(streq(vk_pipe_name(VK_P_COUNT, names[0], sizeof names[0]), "?"));
}

/* The parts named on the command line (matmul, small, attn-dec, attn, attn-shapes, attn-quick), or all of them. */
static int g_argc;
static char **g_argv;
static bool part(const char *name) {
        if (g_argc < 2)
                return true;
        for (int i = 1; i < g_argc; i++)
                if (streq(g_argv[i], name))
                        return true;
        return false;
}

/*
 * Buffers sharing allocations (vk_buf_group, a context's caches and scratch): with blocks of 4 KiB,
 * sizes that fill a block exactly, pass it, and exceed it alone. Every buffer must hold its own bytes
 * (a pattern each, written and read back through vk_buf_write/vk_buf_read, after all were written),
 * its device range must not overlap another's, and members are freed as any buffer, then the group.
 */
static void test_buf_group(void) {
        static const VkDeviceSize sizes[] = { 100, 3000, 4000, 9000, 16, 1, 4096, 700 };
        struct vk_buf b[ELEMENTSOF(sizes)], big;
        struct vk_buf_group g;
        uint8_t want[9000], got[9000];

        if (getenv("UNICORN_VK_BUF_GROUP") && streq(getenv("UNICORN_VK_BUF_GROUP"), "0")) {
                printf("buffer group: not tested (UNICORN_VK_BUF_GROUP=0)\n");
                return;
        }
        vk_buf_group_init(&g, d, VK_MEM_DEVICE);
        g.block = 4096;
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++)
                vk_buf_group_add(&g, sizes[i], &b[i]);
        CHECK(vk_buf_group_commit(&g) == 0);
        CHECK(g.n_mem >= 5 && g.n_mem <= ELEMENTSOF(sizes)); /* 9000 alone; no block past 4096 otherwise */
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                CHECK(b[i].buf && b[i].addr && b[i].size == sizes[i] && !b[i].mem);
                memset(want, (int) (0x11 * (i + 1)), sizes[i]);
                CHECK(vk_buf_write(d, &b[i], 0, want, sizes[i]) == 0);
                for (size_t j = 0; j < i; j++)
                        CHECK(b[i].addr + sizes[i] <= b[j].addr || b[j].addr + sizes[j] <= b[i].addr);
        }
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                memset(want, (int) (0x11 * (i + 1)), sizes[i]);
                CHECK(vk_buf_read(d, &b[i], 0, got, sizes[i]) == 0);
                CHECK_MSG(memcmp(got, want, sizes[i]) == 0, "buffer %zu of the group lost its bytes", i);
        }
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++)
                vk_buf_destroy(d, &b[i]);
        vk_buf_group_free(&g);
        CHECK(g.n_mem == 0 && !g.mem);

        /* A failure leaves nothing: every member zeroed. */
        vk_buf_group_init(&g, d, VK_MEM_DEVICE);
        vk_buf_group_add(&g, 64, &b[0]);
        vk_buf_group_add(&g, (VkDeviceSize) 1 << 50, &big);
        CHECK(vk_buf_group_commit(&g) < 0);
        CHECK(!b[0].buf && !big.buf && g.n_mem == 0);
        vk_buf_group_free(&g);
        printf("buffer group: ok\n");
}

int main(int argc, char **argv) {
        char err[256];
        int n = 0;

        g_argc = argc;
        g_argv = argv;
        test_cm_tiles();
        test_attn_pf_split_rule();
        test_pipe_names();

        /* The one-token and GLU mat-vec variants of every wide type, also those off by default; the
         * matrix-core attention also for heads over 128. */
        setenv("UNICORN_VK_MV1_ALL", "1", 0);
        setenv("UNICORN_VK_ATTN_CM", "1", 0);
        setenv("UNICORN_VK_GLU_Q8", "1", 0);
        if (vk_device_acquire(&d, err, sizeof err) < 0)
                SKIP("no usable Vulkan device: %s", err);
        CHECK_MSG(vk_pipelines_create(d, &pl, VK_WTYPES_ALL, 0, 0, 0, false, err, sizeof err) == 0, "%s", err);
        CHECK(vk_cmd_init(d, &pl, &cmd) == 0);
        /* Split-K scratch, which the command has only where the NV kernel splits (test_matmul forces
         * splits everywhere); 16 MiB holds the planes of its largest case (3 x 300 x 264 floats) many times. */
        if (!cmd.splitk.addr)
                CHECK(vk_buf_create(d, 16u << 20, VK_MEM_DEVICE, &cmd.splitk) == 0);
        printf("device: %s\n", d->desc);
        /* The memory the buffers were placed in (vk-buffer.c pick_type), for reading a failure. */
        for (uint32_t i = 0; i < d->mem.memoryTypeCount; i++)
                printf("memory type %u: heap %u (%.1f GiB), flags 0x%x\n", i, d->mem.memoryTypes[i].heapIndex,
                       (double) d->mem.memoryHeaps[d->mem.memoryTypes[i].heapIndex].size / (1 << 30),
                       d->mem.memoryTypes[i].propertyFlags);
        CHECK_MSG(!test_want_coopmat() || pl.coopmat, "UNICORN_TEST_COOPMAT=1, but no cooperative matrices: %s",
                  d->coopmat ? "not built" : d->coopmat_why);
        printf("cooperative-matrix prefill: %s\n",
               pl.coopmat ? "tested" : d->coopmat ? "not built (glslc lacks GL_KHR_cooperative_matrix)" : d->coopmat_why);
        printf("workgroup-scope (NV coopmat2) prefill: %s\n",
               pl.coopmat2 ? "tested" : d->coopmat2 ? "not built (glslc lacks GL_NV_cooperative_matrix2)" : d->coopmat2_why);
        printf("8-bit activation mat-vecs (integer dot): %s\n",
               pl.q8 ? "tested" : d->int_dot ? "not built (glslc lacks GL_EXT_integer_dot_product)" : "device lacks int-dot");
        if (part("bufgroup"))
                test_buf_group();
        for (size_t i = 0; i < ELEMENTSOF(types) && part("matmul"); i++) {
                uint32_t bs = quant_type_info(types[i])->block_size;
                /* k: one superblock, and (for 32-blocks) 9 blocks = not a multiple of 256 or of the 16-wide k tile. */
                uint32_t ks[2] = { 256, bs == 1 ? 292 : bs == 32 ? 288 : 512 };
                for (int a = 0; a < 2; a++)
                        for (uint32_t nt = 1; nt <= 70; nt = nt < 9 ? nt + 4 : nt * 8) { /* 1 5 9 72: both paths */
                                test_matmul(types[i], ks[a], 67, MIN(nt, 70u), false);
                                n++;
                        }
                test_matmul(types[i], ks[1], 131, 3, true);
                /* Long rows: several loop trips of the wide mat-vec, a partial last superblock. */
                test_matmul(types[i], bs == 256 ? 2816 : 2336, 37, 1, false);
                test_matmul(types[i], bs == 256 ? 2816 : 2336, 37, 2, true);
                test_matmul(types[i], ks[1], 65, 20, true);
                /* Several cooperative-matrix tiles in both directions, with partial edges. */
                test_matmul(types[i], 512, 300, 200, false);
                /* Whole tiles of the NV kernel (its unclamped loops: 256 columns a pass, then 64 where
                 * 256 does not divide k), then partial ones. */
                test_matmul(types[i], bs == 256 ? 512 : 576, 256, 264, true);
                n += 4;
                /* The NV kernel's wide tile split over k, as llama.cpp's rule takes it (UNICORN_VK_CM2_RULE=
                 * llama; no shape above gets there at any multiprocessor count): 512 tokens, 2 rows of tiles. */
                if (pl.coopmat2 && pl.p[VK_P_MATMUL_CM2_WIDE + vk_wtype(types[i])]) {
                        test_matmul(types[i], 1024, 256, 512, false);
                        n++;
                }
                if (pl.p[VK_P_MATVEC_GLU + vk_wtype(types[i])] || pl.p[VK_P_MATVEC_Q8_GLU + vk_wtype(types[i])]) {
                        test_glu(types[i], bs == 256 ? 2816 : 2336, 67, ACT_SILU);
                        test_glu(types[i], 256, 37, ACT_GELU_TANH);
                        /* Whole blocks of 32 rows: the staged GLU that writes its 8-bit output (5 blocks,
                         * 2 workgroups on the capped grid). */
                        test_glu(types[i], 512, 160, ACT_SILU);
                        printf("%-5s gate/up/activation mat-vec: ok%s\n", quant_type_name(types[i]),
                               pl.p[VK_P_MATVEC_Q8_GLU + vk_wtype(types[i])] ? " (also on 8-bit activations)" : "");
                }
                printf("%-5s matmul (mat-vec and tiled) and get_rows: ok\n", quant_type_name(types[i]));
        }
        if (part("small")) {
                if (pl.q8) {
                        /* 1 and 3 rows per lane-loop trip of the 256-wide norm kernel, and a partial trip. */
                        test_norm_q8(256);
                        test_norm_q8(768);
                        test_norm_q8(3584);
                        printf("norm with 8-bit output (subgroup %u): ok\n", d->subgroup_size);
                }
                test_norm16(1152, pl.q8);
                test_norm16(6144, false);
                test_norm16(8192, pl.q8); /* past the registers: the general path */
                /* The prefill form with registers for rows of 1152 (Gemma 3 1B; 5 a lane): its rows, shorter
                 * ones, and longer ones, which the decode form takes. */
                CHECK_MSG(vk_pipeline_norm_rows(d, &pl, 1152, err, sizeof err) == 0, "%s", err);
                CHECK(pl.p[VK_P_NORM_ROWS] && pl.norm_rows_n == 1280);
                test_norm16(1152, pl.q8);
                test_norm16(1000, false);
                test_norm16(2048, pl.q8);
                CHECK(vk_pipeline_norm_rows(d, &pl, 6144, err, sizeof err) == 0 && !pl.p[VK_P_NORM_ROWS]);
                printf("norm with f16 output: ok (also its prefill form)\n");
                /* A partial last workgroup (260 / 4 = 65 invocations of 256), rows with padding. */
                test_cvt16(260, 3, 264, 268);
                test_cvt16(3584, 5, 3584, 3584);
                printf("f32 -> f16 rows (cvt16): ok\n");
                /* 260 x 3 / 4 = 195 invocations: a partial workgroup */
                test_act(260, 3, false, ACT_SILU);
                test_act(260, 3, true, ACT_GELU_TANH);
                test_act(2048, 5, true, ACT_SILU);
                printf("FFN activation, in place and from joined rows, with f16 rows: ok\n");
                test_prefetch();
                printf("weight prefetch: ok\n");
        }
        if (part("attn-dec")) {
                attn_dec_cases();
                pl.kv16 = true;
                attn_dec_cases();
                pl.kv16 = false;
                /* Groups of more than one head (by default one a workgroup), and smaller than the model's
                 * (several workgroups a kv head; the first writes k and v). */
                setenv("UNICORN_VK_ATTN_DEC", "2", 1);
                test_attn_dec(64, 8, 2, 1, 77, 0, 128);
                setenv("UNICORN_VK_ATTN_DEC", "8", 1);
                test_attn_dec(128, 7, 1, 1, 299, 0, 320); /* 7 heads a workgroup where shared memory allows */
                pl.kv16 = true;
                test_attn_dec(256, 4, 1, 1, 1000, 512, 640);
                pl.kv16 = false;
                unsetenv("UNICORN_VK_ATTN_DEC");
                /* Heads of 16 to 128 suit it on every subgroup size of 4 or more. */
                CHECK_MSG(n_attn_dec >= 14 || !(d->subgroup_ops & VK_SUBGROUP_FEATURE_SHUFFLE_BIT) || d->subgroup_min < 4,
                          "attn_dec.comp ran %d cases", n_attn_dec);
                printf("decode attention: %d cases on attn_dec.comp\n", n_attn_dec);
                CHECK(vk_pipeline_attn(d, &pl, 0, 0, 0, err, sizeof err) == 0);
        }
        /* Causal from 0 over two query blocks, the last partial; earlier context; a sliding window
         * over a wrapped ring; the head sizes of the fixture models (16, 32) and of real ones. */
        /* attn_cm.comp's cases with the NV kernel off (on by default where the device has NV
         * matrices; its own cases below turn it on). */
        setenv("UNICORN_VK_ATTN_CM2", "0", 1);
        CHECK(vk_pipeline_attn(d, &pl, 0, 0, 0, err, sizeof err) == 0);
        if (!part("attn") && !part("attn-shapes") && !part("attn-quick"))
                ;
        else if (g_argc > 1 && !part("attn") && !part("attn-shapes")) {
                /* attn-quick: a few cases in few pipelines (tests/ops/meson.build: on lavapipe each
                 * attention pipeline takes LLVM tens of seconds to compile, the whole attn part 12
                 * minutes cold): causal over two query blocks, a sliding window over a wrapped ring
                 * with heads of 256 split 4 ways, and both on f16 rows with a third head size. */
                bool ran = test_attn_cm(128, 4, 2, 100, 0, 0, 256);
                CHECK_MSG(ran || !test_want_coopmat(), "UNICORN_TEST_COOPMAT=1, but attention did not run on them");
                if (ran) {
                        CHECK(test_attn_cm(256, 4, 2, 90, 600, 512, 640));
                        pl.kv16 = true;
                        CHECK(test_attn_cm(128, 4, 2, 100, 0, 0, 256));
                        CHECK(test_attn_cm(64, 3, 3, 70, 100, 40, 110));
                        pl.kv16 = false;
                        attn_split_cases();
                }
        } else if (test_attn_cm(128, 4, 2, 100, 0, 0, 256)) {
                /* The default shapes, then others: heads split 2 and 4 ways, one row block, 8 subgroups
                 * (a shape a head cannot take falls back to its default). The others are a part of their
                 * own, attn-shapes: on lavapipe each of these pipelines takes LLVM many seconds to
                 * compile (vk-ops-coopmat runs the default shapes only). */
                static const char *const shapes[] = { NULL, "64,32,2", "128,16,4", "256,32,1", "128,64,2", "256,32,8" };
                for (size_t i = 0; i < (part("attn-shapes") ? ELEMENTSOF(shapes) : 1); i++) {
                        if (shapes[i]) {
                                printf("attn_cm with UNICORN_VK_ATTN_CM_SHAPE=%s\n", shapes[i]);
                                setenv("UNICORN_VK_ATTN_CM_SHAPE", shapes[i], 1);
                                CHECK(test_attn_cm(128, 4, 2, 100, 0, 0, 256));
                        }
                        attn_cm_cases();
                }
                unsetenv("UNICORN_VK_ATTN_CM_SHAPE");
                /* The same cases on a cache of f16 rows (what default activations get). */
                pl.kv16 = true;
                attn_cm_cases();
                pl.kv16 = false;
                attn_split_cases();
                CHECK(vk_pipeline_attn(d, &pl, 0, 0, 0, err, sizeof err) == 0);
                /* The NV kernel (attn_cm2.comp) where the device has NV matrices: the same cases with its
                 * default blocks and two others. The two whose window wraps around the ring (p0 600, window
                 * 512, ring 640; p0 100, window 40, ring 110) take the KHR kernel, the other six this one.
                 * It needs row reductions, conversions between uses and sizes for 128 invocations too. */
                if (pl.coopmat2 && !d->coopmat2_attn)
                        printf("attention on NV matrices (attn_cm2): not tested (%s)\n", d->coopmat2_attn_why);
                if (pl.coopmat2 && d->coopmat2_attn) {
                        /* (not 16 rows: the H100's driver takes multiples of 32) */
                        static const char *const shapes2[] = { NULL, "32,64", "32,16" };
                        setenv("UNICORN_VK_ATTN_CM2", "1", 1);
                        setenv("UNICORN_VK_ATTN_CM2_WRAP", "0", 1); /* its WRAP form: below */
                        attn_cm_nmse_max = 1e-4; /* O's sums round to f16 at every block */
                        for (size_t i = 0; i < ELEMENTSOF(shapes2); i++) {
                                if (shapes2[i]) {
                                        printf("attn_cm2 with UNICORN_VK_ATTN_CM2_SHAPE=%s\n", shapes2[i]);
                                        setenv("UNICORN_VK_ATTN_CM2_SHAPE", shapes2[i], 1);
                                }
                                n_attn_nv = 0;
                                attn_cm_cases();
                                CHECK_MSG(n_attn_nv == 6, "attn_cm2 ran %d of 8 cases, not 6", n_attn_nv);
                        }
                        /* Its default blocks on a cache of f16 rows (loaded without the decode callback). */
                        unsetenv("UNICORN_VK_ATTN_CM2_SHAPE");
                        pl.kv16 = true;
                        n_attn_nv = 0;
                        attn_cm_cases();
                        CHECK_MSG(n_attn_nv == 6, "attn_cm2 on f16 rows ran %d of 8 cases, not 6", n_attn_nv);
                        /* Its WRAP form (made by default) takes the two wrapped cases too, on
                         * f16 and f32 rows; and sliding layers' steps of 512 tokens whose positions wrap
                         * their rings (window + 512), as the backend runs them: Gemma 3 4B's after 3,584
                         * positions, unsplit, and 1B's after 4,096 (the bench's timed step at depth 4096),
                         * in 4 splits, some of which cross the ring's end. */
                        unsetenv("UNICORN_VK_ATTN_CM2_WRAP");
                        for (int kv16 = 1; kv16 >= 0; kv16--) {
                                pl.kv16 = kv16;
                                n_attn_nv = 0;
                                attn_cm_cases();
                                CHECK(test_attn_cm(256, 8, 4, 512, 3584, 1024, 1536));
                                CHECK(test_attn_cm(256, 4, 1, 512, 4096, 512, 1024));
                                CHECK_MSG(n_attn_nv == 10, "attn_cm2 with its WRAP form ran %d of 10 cases%s",
                                          n_attn_nv, kv16 ? " (f16 rows)" : "");
                        }
                        /* Each side of the rule for bounds checks on the cache loads, forced on every
                         * head size (UNICORN_VK_ATTN_CM2_CLAMP: 1 checks every load, as heads of up to 64
                         * do by default; 0 checks only the block at a layout's end, as larger heads do),
                         * on f16 and f32 rows, with the wrapped steps. */
                        for (int i = 0; i < 4; i++) {
                                printf("attn_cm2 with UNICORN_VK_ATTN_CM2_CLAMP=%d, %s rows\n", i / 2,
                                       i % 2 ? "f32" : "f16");
                                setenv("UNICORN_VK_ATTN_CM2_CLAMP", i / 2 ? "1" : "0", 1);
                                pl.kv16 = i % 2 == 0;
                                n_attn_nv = 0;
                                attn_cm_cases();
                                CHECK(test_attn_cm(256, 4, 1, 512, 4096, 512, 1024));
                                CHECK_MSG(n_attn_nv == 9, "attn_cm2 with CLAMP=%d ran %d of 9 cases", i / 2,
                                          n_attn_nv);
                        }
                        unsetenv("UNICORN_VK_ATTN_CM2_CLAMP");
                        /* Both forms with O summed in f32 (UNICORN_VK_ATTN_CM2_O16=0; the default sums
                         * it in f16, as llama.cpp's kernel of this kind does, and is what the cases above
                         * ran) at their blocks (64 x 64 for heads of 128) and at f16's (64 x 32), on f16
                         * rows, and at their blocks on f32 rows (UNICORN_VK_DISABLE_KV16=1): the
                         * wrapped steps and a global layer of Gemma 3 4B after 4,096 positions, the
                         * longest sums. */
                        static const struct { const char *shape; bool kv16; } f32o[] = {
                                { NULL, true }, { "64,32", true }, { NULL, false },
                        };
                        setenv("UNICORN_VK_ATTN_CM2_O16", "0", 1);
                        attn_cm_nmse_max = 1e-5;
                        for (size_t i = 0; i < ELEMENTSOF(f32o); i++) {
                                printf("attn_cm2 with UNICORN_VK_ATTN_CM2_O16=0, UNICORN_VK_ATTN_CM2_SHAPE=%s, %s rows\n",
                                       f32o[i].shape ? f32o[i].shape : "(default)", f32o[i].kv16 ? "f16" : "f32");
                                if (f32o[i].shape)
                                        setenv("UNICORN_VK_ATTN_CM2_SHAPE", f32o[i].shape, 1);
                                else
                                        unsetenv("UNICORN_VK_ATTN_CM2_SHAPE");
                                pl.kv16 = f32o[i].kv16;
                                n_attn_nv = 0;
                                attn_cm_cases();
                                CHECK(test_attn_cm(256, 8, 4, 512, 3584, 1024, 1536));
                                CHECK(test_attn_cm(256, 8, 4, 512, 4096, 0, 4608));
                                CHECK_MSG(n_attn_nv == 10, "attn_cm2 in f32 ran %d of 10 cases", n_attn_nv);
                        }
                        unsetenv("UNICORN_VK_ATTN_CM2_O16");
                        pl.kv16 = false;
                        unsetenv("UNICORN_VK_ATTN_CM2_SHAPE");
                }
        } else {
                CHECK_MSG(!test_want_coopmat(), "UNICORN_TEST_COOPMAT=1, but attention did not run on them");
                printf("attention on cooperative matrices: %s\n",
                       pl.coopmat ? "no kernel for these heads" : "not tested (no cooperative matrices)");
        }
        unsetenv("UNICORN_VK_ATTN_CM2");
        CHECK(vk_pipeline_attn(d, &pl, 0, 0, 0, err, sizeof err) == 0);
        test_wtype_subset();
        printf("%d matmul cases passed (NMSE <= 1e-10; %d more split over k), %d on cooperative matrices (NMSE <= 1e-8; "
               "%d of them split over k, %d with a batch's tail apart)\n", n, n_split, n_cm, n_split_cm, n_tail_cm);
        /* Where the NV kernel has its small and wide tiles, the whole-tile shapes above (264 tokens) have such a
         * tail (256 wide and 8 small, at some multiprocessor count). */
        CHECK(!pl.coopmat2 || !pl.p[VK_P_MATMUL_CM2_SMALL + VK_W_Q4_K] || !pl.p[VK_P_MATMUL_CM2_WIDE + VK_W_Q4_K] ||
              n_tail_cm > 0 || !part("matmul"));
        /* Every 8-bit mat-vec case also runs the staged forms where the device has 8-bit mat-vecs. */
        CHECK(!pl.q8 || n_staged > 0 || !part("matmul"));
        CHECK_MSG(!test_want_coopmat() || n_cm > 0 || !part("matmul"), "UNICORN_TEST_COOPMAT=1, but no product ran on them");
        printf("%d staged 8-bit mat-vec cases passed (NMSE <= 1e-8), %d of them GLUs writing 8-bit output too; %d "
               "8-bit mat-vec cases in the four-group split form; %d of several tokens (mv8n)\n", n_staged, n_gluq,
               n_split4, n_q8n);
        /* Where the device has 8-bit mat-vecs, the forms of several tokens ran. */
        CHECK(!pl.q8 || !pl.mv8n_split || n_q8n > 0 || !part("matmul"));
        /* Where the device has 8-bit mat-vecs, the four-group split form ran (128-lane workgroups). */
        CHECK(!pl.q8 || !pl.mv8_split4_g || n_split4 > 0 || !part("matmul"));
        /* Where the device has the staged forms and 1024 lanes a workgroup, the 8-bit-output GLU ran. */
        CHECK(!pl.mv8s_k || !part("matmul") || d->props.limits.maxComputeWorkGroupInvocations < 1024 ||
              !streq(getenv("UNICORN_VK_GLU_Q8"), "1") || n_gluq > 0);
        vk_cmd_free(&cmd);
        vk_pipelines_destroy(d, &pl);
        vk_device_release(d);
        return 0;
}
