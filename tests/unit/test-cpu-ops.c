/* SPDX-License-Identifier: MIT */
/* The CPU backend's element-wise operations against straightforward double
 * precision references (tolerance 1e-5 relative: float arithmetic in a
 * different order). */

#include <math.h>
#include <string.h>

#include "cpu/cpu-ops.h"
#include "macros.h"
#include "test-helpers.h"

static float frand(unsigned *s) {
        *s = *s * 1103515245u + 12345u;
        return (float) ((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

int main(void) {
        unsigned seed = 1;
        float a[1031], b[1031], y[1031], w[1031], out[1031];

        for (size_t i = 0; i < ELEMENTSOF(a); i++) {
                a[i] = frand(&seed) * 3;
                b[i] = frand(&seed);
                w[i] = 1 + frand(&seed);
        }

        for (size_t n = 0; n <= ELEMENTSOF(a); n += (n < 20 ? 1 : 97)) {
                double ref = 0, mag = 0;
                for (size_t i = 0; i < n; i++) {
                        ref += (double) a[i] * b[i];
                        mag += fabs((double) a[i] * b[i]);
                }
                CHECK_NEAR(cpu_dot_f32(a, b, n), ref, 1e-5 * (mag + 1));
        }

        /* The attention's scores: several queries (at a stride of 103 in a) against several keys (at a
         * stride of 29 in b), each bit-identical to the single dot product, so that a score does not
         * depend on how many heads share a kv head. Counts past the 4 queries taken at a time. */
        for (size_t nq = 1; nq <= 9; nq++)
                for (size_t n = 0; n <= 100; n += (n < 20 ? 1 : 37)) {
                        float sc[9 * 5];

                        cpu_attn_scores(a, 103, nq, b, 29, 3, n, sc, 5);
                        for (size_t g = 0; g < nq; g++)
                                for (size_t j = 0; j < 3; j++) {
                                        float one = cpu_dot_f32(a + g * 103, b + j * 29, n);
                                        CHECK(memcmp(&sc[g * 5 + j], &one, sizeof one) == 0);
                                }
                }

        /* The attention's weighted sums of value rows: nq heads (weights at a stride of 70, outputs
         * at one of d + 2, as the split partials lie), value rows at a stride of 300, widths that are
         * and are not multiples of the 16 outputs kept in registers, against double sums. */
        static float vals[64 * 300];
        for (size_t i = 0; i < ELEMENTSOF(vals); i++)
                vals[i] = a[(i * 7) % ELEMENTSOF(a)];
        for (size_t nq = 1; nq <= 6; nq++)
                for (size_t d = 1; d <= 140; d += 23)
                        for (size_t n = 0; n <= 64; n += 21) {
                                float o[6 * 142];

                                for (size_t i = 0; i < ELEMENTSOF(o); i++)
                                        o[i] = b[i % ELEMENTSOF(b)];
                                cpu_attn_accumulate(o, d + 2, w, 70, nq, vals, 300, n, d);
                                for (size_t g = 0; g < nq; g++)
                                        for (size_t i = 0; i < d; i++) {
                                                double ref = b[(g * (d + 2) + i) % ELEMENTSOF(b)], mag = fabs(ref);
                                                for (size_t p = 0; p < n; p++) {
                                                        ref += (double) w[g * 70 + p] * vals[p * 300 + i];
                                                        mag += fabs((double) w[g * 70 + p] * vals[p * 300 + i]);
                                                }
                                                CHECK_NEAR(o[g * (d + 2) + i], ref, 1e-5 * (mag + 1));
                                        }
                                /* The two floats past each head's outputs (a split's max and sum) are kept. */
                                for (size_t g = 0; g + 1 < nq; g++)
                                        CHECK(o[g * (d + 2) + d] == b[(g * (d + 2) + d) % ELEMENTSOF(b)]);
                        }

        memcpy(y, b, sizeof y);
        cpu_axpy_f32(y, 0.5f, a, ELEMENTSOF(a));
        for (size_t i = 0; i < ELEMENTSOF(a); i++)
                CHECK_NEAR(y[i], b[i] + 0.5 * a[i], 1e-6);

        /* RMSNorm: out = x / sqrt(mean(x^2) + eps) * w */
        {
                double ss = 0;
                for (size_t i = 0; i < ELEMENTSOF(a); i++)
                        ss += (double) a[i] * a[i];
                double scale = 1 / sqrt(ss / ELEMENTSOF(a) + 1e-6);
                cpu_rmsnorm(out, a, w, ELEMENTSOF(a), 1e-6f);
                for (size_t i = 0; i < ELEMENTSOF(a); i++)
                        CHECK_NEAR(out[i], a[i] * scale * w[i], 1e-5 * fabs(a[i] * scale * w[i]) + 1e-6);
                memcpy(y, a, sizeof y);
                cpu_rmsnorm(y, y, NULL, ELEMENTSOF(a), 1e-6f); /* in place, no weight */
                for (size_t i = 0; i < ELEMENTSOF(a); i++)
                        CHECK_NEAR(y[i], a[i] * scale, 1e-5);
        }

        /* RoPE, both layouts, against the rotation written out. */
        for (int neox = 0; neox <= 1; neox++) {
                const size_t d = 64;
                float cs[32], sn[32], x[64];
                const float pos = 37, base = 10000;

                cpu_rope_table(cs, sn, d, pos, base, NULL);
                memcpy(x, a, sizeof x);
                cpu_rope_apply(x, d, cs, sn, neox);
                for (size_t i = 0; i < d / 2; i++) {
                        double th = pos / pow(base, 2.0 * i / d);
                        size_t i0 = neox ? i : 2 * i, i1 = neox ? i + d / 2 : 2 * i + 1;
                        CHECK_NEAR(x[i0], a[i0] * cos(th) - a[i1] * sin(th), 2e-5 * pos);
                        CHECK_NEAR(x[i1], a[i0] * sin(th) + a[i1] * cos(th), 2e-5 * pos);
                }
                /* Position 0 is the identity. */
                cpu_rope_table(cs, sn, d, 0, base, NULL);
                memcpy(x, a, sizeof x);
                cpu_rope_apply(x, d, cs, sn, neox);
                CHECK(memcmp(x, a, sizeof x) == 0);
        }

        /* GELU (tanh approximation), known values. */
        CHECK_NEAR(cpu_gelu_tanh(0), 0, 0);
        CHECK_NEAR(cpu_gelu_tanh(1), 0.8411920, 1e-6);
        CHECK_NEAR(cpu_gelu_tanh(-1), -0.1588080, 1e-6);
        CHECK_NEAR(cpu_gelu_tanh(3), 2.9963627, 1e-6);

        /* Gates. */
        memcpy(y, a, sizeof y);
        cpu_swiglu(y, b, ELEMENTSOF(a));
        for (size_t i = 0; i < ELEMENTSOF(a); i++)
                CHECK_NEAR(y[i], a[i] / (1 + exp(-a[i])) * b[i], 1e-5);
        memcpy(y, a, sizeof y);
        cpu_geglu_tanh(y, b, ELEMENTSOF(a));
        for (size_t i = 0; i < ELEMENTSOF(a); i++)
                CHECK_NEAR(y[i], cpu_gelu_tanh(a[i]) * b[i], 1e-6);

        /* exp over the whole float range, eight lanes at a time and the tail: within 3e-7 relative of
         * exp in double, and clamped to exp(-87.3) and exp(88.3) outside (the softmax's masked -inf
         * scores come here too). */
        for (size_t i = 0; i < ELEMENTSOF(a); i++)
                y[i] = i == 5 ? -INFINITY : i == 6 ? INFINITY : -120.0f + 240.0f * (float) i / ELEMENTSOF(a);
        memcpy(w, y, sizeof w);
        cpu_exp_inplace(y, ELEMENTSOF(a));
        for (size_t i = 0; i < ELEMENTSOF(a); i++) {
                double want = exp(w[i] < -87.3f ? -87.3f : w[i] > 88.3f ? 88.3f : w[i]);
                CHECK_MSG(fabs(y[i] - want) <= 3e-7 * want, "exp(%g) = %g, expected %g", w[i], y[i], want);
        }
        return 0;
}
