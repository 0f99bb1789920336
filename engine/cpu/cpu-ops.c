/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "cpu-ops.h"

/* No clones in sanitizer builds. Under ThreadSanitizer in particular:
 * target_clones makes an IFUNC resolver, which the dynamic loader runs while
 * relocating, before the TSan runtime is initialised; the resolver is
 * instrumented (__tsan_func_entry) and so every binary linking the engine
 * crashed before main(). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__) && \
        !defined(__SANITIZE_THREAD__)
#define SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SIMD_CLONES
#endif

SIMD_CLONES float cpu_dot_f32(const float *a, const float *b, size_t n) {
        /* Eight partial sums so the compiler can keep several FMA chains in flight. */
        float s[8] = {};
        size_t i = 0;

        for (; i + 8 <= n; i += 8)
                for (size_t j = 0; j < 8; j++)
                        s[j] += a[i + j] * b[i + j];
        for (; i < n; i++)
                s[0] += a[i] * b[i];
        return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

SIMD_CLONES void cpu_axpy_f32(float *restrict y, float a, const float *restrict x, size_t n) {
        for (size_t i = 0; i < n; i++)
                y[i] += a * x[i];
}

SIMD_CLONES void cpu_scale_f32(float *x, float a, size_t n) {
        for (size_t i = 0; i < n; i++)
                x[i] *= a;
}

SIMD_CLONES void cpu_add_f32(float *restrict y, const float *restrict x, size_t n) {
        for (size_t i = 0; i < n; i++)
                y[i] += x[i];
}

SIMD_CLONES void cpu_rmsnorm(float *out, const float *x, const float *w, size_t n, float eps) {
        /* Accumulate in double: with n up to 65536 and Gemma's large
         * activations (embedding x sqrt(hidden)) float sums lose digits. */
        double ss = 0;
        float scale;

        for (size_t i = 0; i < n; i++)
                ss += (double) x[i] * x[i];
        scale = (float) (1.0 / sqrt(ss / (double) n + eps));
        if (w)
                for (size_t i = 0; i < n; i++)
                        out[i] = x[i] * scale * w[i];
        else
                for (size_t i = 0; i < n; i++)
                        out[i] = x[i] * scale;
}

void cpu_rope_table(float *cos_out, float *sin_out, size_t n_rot, float pos, float base, const float *freq_div) {
        for (size_t i = 0; i < n_rot / 2; i++) {
                /* As HF: inv_freq = 1 / base^(2i/d) rounded to float, angle = pos * inv_freq in float. */
                float inv_freq = (float) (1.0 / pow((double) base, (double) (2 * i) / (double) n_rot));
                float theta = pos * inv_freq;

                if (freq_div)
                        theta /= freq_div[i];
                cos_out[i] = cosf(theta);
                sin_out[i] = sinf(theta);
        }
}

void cpu_rope_apply(float *x, size_t n_rot, const float *cos_t, const float *sin_t, bool neox) {
        size_t half = n_rot / 2;

        for (size_t i = 0; i < half; i++) {
                size_t a = neox ? i : 2 * i;
                size_t b = neox ? i + half : 2 * i + 1;
                float x0 = x[a], x1 = x[b];

                x[a] = x0 * cos_t[i] - x1 * sin_t[i];
                x[b] = x0 * sin_t[i] + x1 * cos_t[i];
        }
}

/*
 * exp(x) for the activations and the softmax: Cephes' expf (range reduction
 * by ln 2, degree-5 polynomial, relative error ~1e-7), written so the
 * compiler vectorizes the loops that call it, which libm's expf/tanhf do
 * not allow.
 */
static inline float exp_fast(float x) {
        const float log2e = 1.44269504088896341f;
        float fx, r, r2, y;
        union {
                float f;
                int32_t i;
        } pow2n;
        int32_t n;

        x = x < -87.3f ? -87.3f : x > 88.3f ? 88.3f : x;
        fx = __builtin_floorf(x * log2e + 0.5f);
        n = (int32_t) fx;
        r = x - fx * 0.693359375f + fx * 2.12194440e-4f;
        r2 = r * r;
        y = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r + 4.1665795894e-2f) * r +
             1.6666665459e-1f) * r + 5.0000001201e-1f;
        y = y * r2 + r + 1.0f;
        pow2n.i = (n + 127) << 23;
        return y * pow2n.f;
}

SIMD_CLONES void cpu_exp_inplace(float *x, size_t n) {
        for (size_t i = 0; i < n; i++)
                x[i] = exp_fast(x[i]);
}

SIMD_CLONES void cpu_swiglu(float *restrict gate, const float *restrict up, size_t n) {
        for (size_t i = 0; i < n; i++) {
                float g = gate[i];
                gate[i] = g / (1.0f + exp_fast(-g)) * up[i];
        }
}

float cpu_gelu_tanh(float x) {
        const float k = 0.79788456080286535588f; /* sqrt(2/pi) */
        return 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
}

SIMD_CLONES void cpu_geglu_tanh(float *restrict gate, const float *restrict up, size_t n) {
        /* 0.5 x (1 + tanh u) = x / (1 + exp(-2u)): one exp, no tanh. */
        const float k2 = 2.0f * 0.79788456080286535588f;

        for (size_t i = 0; i < n; i++) {
                float x = gate[i];
                float u2 = k2 * (x + 0.044715f * x * x * x);
                gate[i] = x / (1.0f + exp_fast(-u2)) * up[i];
        }
}

SIMD_CLONES void cpu_attn_accumulate(float *restrict o, const float *restrict w, const float *restrict v,
                                     size_t v_stride, size_t n, size_t d) {
        /* o[0..d) += Σ_p w[p] · v[p·v_stride + 0..d), 32 outputs at a time kept
         * in registers across all positions instead of one axpy per position. */
        size_t d0 = 0;

        for (; d0 + 32 <= d; d0 += 32) {
                float acc[32];

                for (size_t j = 0; j < 32; j++)
                        acc[j] = o[d0 + j];
                for (size_t p = 0; p < n; p++) {
                        const float *vp = v + p * v_stride + d0;
                        const float wp = w[p];

                        for (size_t j = 0; j < 32; j++)
                                acc[j] += wp * vp[j];
                }
                for (size_t j = 0; j < 32; j++)
                        o[d0 + j] = acc[j];
        }
        for (; d0 < d; d0++) {
                float a = o[d0];

                for (size_t p = 0; p < n; p++)
                        a += w[p] * v[p * v_stride + d0];
                o[d0] = a;
        }
}
