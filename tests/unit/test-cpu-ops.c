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
        return 0;
}
