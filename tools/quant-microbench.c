/* SPDX-License-Identifier: MIT */
/*
 * Single-thread throughput of quant_matmul per CPU level:
 *   nt == 1: GB/s of weight bytes streamed (decode, memory-bound);
 *   nt > 1:  GFLOP/s counting 2·rows·k·nt (prefill, compute-bound).
 * Times are CPU time of this (single-threaded) process, so other load on the
 * machine does not count against a case.
 * Usage: quant-microbench [seconds per case]
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quant.h"

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
        static const struct {
                enum ggml_type type;
                size_t rows, k;
        } shapes[] = {
                { GGML_TYPE_Q4_1, 1536, 576 }, { GGML_TYPE_Q4_1, 576, 1536 }, { GGML_TYPE_Q4_K, 2048, 1536 },
                { GGML_TYPE_Q4_K, 640, 2048 }, { GGML_TYPE_Q5_0, 2048, 640 }, { GGML_TYPE_Q6_K, 640, 2048 },
                { GGML_TYPE_Q8_0, 2048, 640 }, { GGML_TYPE_Q4_0, 4096, 4096 }, { GGML_TYPE_Q5_K, 640, 2048 },
                { GGML_TYPE_Q5_1, 1536, 576 }, { GGML_TYPE_F16, 1536, 576 },
        };
        static const size_t nts[] = { 1, 64, 512 };
        double secs = argc > 1 ? atof(argv[1]) : 0.3;
        enum quant_cpu_level best = quant_cpu_detect();

        for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
                const enum ggml_type type = shapes[s].type, vt = quant_type_info(type)->vec_dot_type;
                const size_t rows = shapes[s].rows, k = shapes[s].k;
                size_t wrow, xrow;
                uint8_t *w, *x;
                float *f, *y;

                quant_row_size(type, k, &wrow);
                quant_row_size(vt, k, &xrow);
                w = malloc(rows * wrow);
                x = malloc(512 * xrow);
                y = malloc(512 * rows * sizeof(float));
                f = malloc(k * sizeof(float));
                for (size_t r = 0; r < rows; r++) {
                        for (size_t i = 0; i < k; i++)
                                f[i] = (float) rand() / RAND_MAX - 0.5f;
                        quantize_row(type, f, w + r * wrow, k);
                }
                for (size_t t = 0; t < 512; t++) {
                        for (size_t i = 0; i < k; i++)
                                f[i] = (float) rand() / RAND_MAX - 0.5f;
                        quantize_activations(vt, f, x + t * xrow, k);
                }
                for (int l = 0; l <= (int) best; l++) {
                        quant_set_cpu_level((enum quant_cpu_level) l);
                        printf("%-5s %5zux%-5zu %-8s", quant_type_name(type), rows, k,
                               quant_cpu_level_name((enum quant_cpu_level) l));
                        for (size_t n = 0; n < sizeof(nts) / sizeof(nts[0]); n++) {
                                size_t nt = nts[n], iters = 0;
                                double t0 = now(), t1;

                                if (l == 0 && nt > 1) {
                                        printf("  %9s", "-");
                                        continue;
                                }
                                do {
                                        quant_matmul(type, k, w, wrow, 0, rows, x, xrow, nt, y, rows);
                                        iters++;
                                        t1 = now();
                                } while (t1 - t0 < secs);
                                if (nt == 1)
                                        printf("  %6.2f GB/s", rows * wrow * (double) iters / (t1 - t0) / 1e9);
                                else
                                        printf("  nt=%-3zu %6.1f GFLOP/s", nt,
                                               2.0 * rows * k * nt * iters / (t1 - t0) / 1e9);
                        }
                        printf("\n");
                }
                free(w);
                free(x);
                free(y);
                free(f);
        }
        return 0;
}
