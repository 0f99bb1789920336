/* SPDX-License-Identifier: MIT */
/*
 * Vulkan kernels against the CPU reference (quant.h dequantize_row + double
 * dot products), for every weight type the engine supports:
 *  - matmul: mat-vec (nt <= 8) and tiled (nt > 8) paths, odd row counts,
 *    rows not a multiple of the tiles, k not a multiple of 256 where the
 *    block size allows, accumulate (residual) mode. Bound: NMSE 1e-10
 *    (float32 products, only the summation order differs).
 *  - get_rows (embedding lookup): bound NMSE 1e-12 (the same float products).
 * The rest of the forward pass (norms, RoPE, QK-norm, attention, gates) is
 * checked through whole models in test-vk-models.c.
 * Skipped (77) without a Vulkan device.
 */

#include <errno.h>
#include <math.h>

#include "macros.h"
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
        vk_op_matmul(&cmd, vk_wtype(type), bw.addr, (uint32_t) drb, k, n, bx.addr, k, nt, by.addr, n, 0, acc);
        vk_cmd_barrier(&cmd);
        CHECK(vk_cmd_submit_wait(&cmd) == 0);
        CHECK(vk_buf_read(d, &by, 0, y, (size_t) nt * n * 4) == 0);
        double e = nmse(y, ref, (size_t) nt * n);
        CHECK_MSG(e <= 1e-10, "matmul %s k=%u n=%u nt=%u acc=%d: NMSE %.3g", quant_type_name(type), k, n, nt, acc, e);

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

/* One-token gate/up/activation mat-vec (wide types): y = act(G x) * (U x). */
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
        CHECK(vk_cmd_begin(&cmd) == 0);
        CHECK(vk_op_matvec_glu(&cmd, vk_wtype(type), bw.addr, bw.addr + drb * n, (uint32_t) drb, k, n, bx.addr, 1,
                               by.addr, op));
        vk_cmd_barrier(&cmd);
        CHECK(vk_cmd_submit_wait(&cmd) == 0);
        CHECK(vk_buf_read(d, &by, 0, y, (size_t) n * 4) == 0);
        double e = nmse(y, ref, n);
        CHECK_MSG(e <= 1e-10, "glu %s k=%u n=%u op=%u: NMSE %.3g", quant_type_name(type), k, n, op, e);
        vk_buf_destroy(d, &bw);
        vk_buf_destroy(d, &bx);
        vk_buf_destroy(d, &by);
}

int main(void) {
        char err[256];
        int n = 0;

        /* The one-token and GLU mat-vec variants of every wide type, also those off by default. */
        setenv("UNICORN_VK_MV1_ALL", "1", 0);
        if (vk_device_acquire(&d, err, sizeof err) < 0)
                SKIP("no usable Vulkan device: %s", err);
        CHECK_MSG(vk_pipelines_create(d, &pl, err, sizeof err) == 0, "%s", err);
        CHECK(vk_cmd_init(d, &pl, &cmd) == 0);
        printf("device: %s\n", d->desc);
        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
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
                n += 2;
                if (pl.p[VK_P_MATVEC_GLU + vk_wtype(types[i])]) {
                        test_glu(types[i], bs == 256 ? 2816 : 2336, 67, ACT_SILU);
                        test_glu(types[i], 256, 37, ACT_GELU_TANH);
                        printf("%-5s gate/up/activation mat-vec: ok\n", quant_type_name(types[i]));
                }
                printf("%-5s matmul (mat-vec and tiled) and get_rows: ok\n", quant_type_name(types[i]));
        }
        printf("%d matmul cases passed (NMSE <= 1e-10)\n", n);
        vk_cmd_free(&cmd);
        vk_pipelines_destroy(d, &pl);
        vk_device_release(d);
        return 0;
}
