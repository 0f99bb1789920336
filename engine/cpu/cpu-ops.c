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

/* Eight floats as one value: GCC's vector extension, so that each target
 * clone gets its own registers for it (two halves on baseline x86-64) without
 * intrinsics, and the arithmetic is lane by lane in the order written. */
typedef float v8sf __attribute__((vector_size(32)));
/* exp8 and select8 below return v8sf: they are always inlined into their target clones, so there is no
 * call whose ABI that could change (GCC warns for the baseline clone all the same, at the file's end). */
#pragma GCC diagnostic ignored "-Wpsabi"
/* The same at any float's alignment, to load and store rows through. */
typedef float v8sf_u __attribute__((vector_size(32), aligned(4), may_alias));
#define LOAD8(p) (*(const v8sf_u *) (p))
#define STORE8(p, v) (*(v8sf_u *) (p) = (v))

/* Up to 4 queries against up to 2 key rows, each dot product with eight
 * partial sums (lane j sums elements j, j + 8, ...; the tail goes to lane 0).
 * A key row is loaded once for all the queries and a query row once for both
 * keys, and the sums are up to 8 independent chains of FMAs, where one dot
 * product alone is a single chain waiting on its own latency. One query and
 * key (cpu_dot_f32) and several are summed in the same order. The counts are
 * constants where this is inlined, so the sums stay in registers (an array of
 * them written element by element, GCC kept on the stack). */
static inline __attribute__((always_inline)) void dot_multi(const float *q, size_t q_stride, size_t nq,
                                                            const float *k, size_t k_stride, size_t nk, size_t n,
                                                            float *out, size_t out_stride) {
        v8sf s[4][2];
        float t[4][2];
        size_t i = 0;

        for (size_t g = 0; g < nq; g++)
                for (size_t j = 0; j < nk; j++)
                        s[g][j] = (v8sf) {};
        for (; i + 8 <= n; i += 8) {
                v8sf kv[2];

                for (size_t j = 0; j < nk; j++)
                        kv[j] = LOAD8(k + j * k_stride + i);
                for (size_t g = 0; g < nq; g++) {
                        v8sf qv = LOAD8(q + g * q_stride + i);

                        for (size_t j = 0; j < nk; j++)
                                s[g][j] += qv * kv[j];
                }
        }
        for (size_t g = 0; g < nq; g++)
                for (size_t j = 0; j < nk; j++)
                        t[g][j] = s[g][j][0];
        for (; i < n; i++)
                for (size_t g = 0; g < nq; g++)
                        for (size_t j = 0; j < nk; j++)
                                t[g][j] += q[g * q_stride + i] * k[j * k_stride + i];
        for (size_t g = 0; g < nq; g++)
                for (size_t j = 0; j < nk; j++) {
                        v8sf v = s[g][j];

                        out[g * out_stride + j] = ((t[g][j] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
                }
}

SIMD_CLONES float cpu_dot_f32(const float *a, const float *b, size_t n) {
        float r;

        dot_multi(a, 0, 1, b, 0, 1, n, &r, 0);
        return r;
}

/* The inline bodies below are specialized for their count of queries: this
 * runs CALL(c, g) for the queries g.. g + c - 1 of nq, 4 at a time, with c a
 * constant in each call. */
#define BY_QUERY_GROUPS(nq, CALL)                                                                          \
        do {                                                                                               \
                size_t g_ = 0;                                                                             \
                                                                                                           \
                for (; g_ + 4 <= (nq); g_ += 4)                                                            \
                        CALL(4, g_);                                                                       \
                switch ((nq) - g_) {                                                                       \
                case 3: CALL(3, g_); break;                                                                \
                case 2: CALL(2, g_); break;                                                                \
                case 1: CALL(1, g_); break;                                                                \
                }                                                                                          \
        } while (0)

SIMD_CLONES void cpu_attn_scores(const float *q, size_t q_stride, size_t nq, const float *k, size_t k_stride,
                                 size_t n_keys, size_t n, float *out, size_t out_stride) {
        size_t key = 0;

#define SCORES(c, g) dot_multi(q + (g) * q_stride, q_stride, c, k, k_stride, nk, n, out + (g) * out_stride + key, \
                               out_stride)
        for (; key + 2 <= n_keys; key += 2, k += 2 * k_stride) {
                const size_t nk = 2;
                BY_QUERY_GROUPS(nq, SCORES);
        }
        if (key < n_keys) {
                const size_t nk = 1;
                BY_QUERY_GROUPS(nq, SCORES);
        }
#undef SCORES
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
 * by ln 2, degree-5 polynomial, relative error ~1e-7), eight lanes at a time
 * in GCC's vector extension. Written as plain loops over a scalar form, GCC
 * 12 left them scalar (-fopt-info-vec: the clamp's control flow, then "no
 * vectype"), and libm's expf/tanhf are scalar too; they were ~10% of Gemma 3
 * 270M's CPU prefill.
 */
typedef int32_t v8si __attribute__((vector_size(32)));

/* Lanes of a where m (all ones), else of b. */
static inline __attribute__((always_inline)) v8sf select8(v8si m, v8sf a, v8sf b) {
        return (v8sf) (((v8si) a & m) | ((v8si) b & ~m));
}

static inline __attribute__((always_inline)) v8sf exp8(v8sf x) {
        const v8sf lo = (v8sf) {} - 87.3f, hi = (v8sf) {} + 88.3f;
        v8sf t, tf, fx, r, r2, y;
        v8si n;

        x = select8(x < lo, lo, x);
        x = select8(x > hi, hi, x);
        /* floor(t) as the truncation, one less where that rounded up (t < 0); |t| < 128 here. */
        t = x * 1.44269504088896341f + 0.5f;
        n = __builtin_convertvector(t, v8si);
        tf = __builtin_convertvector(n, v8sf);
        n += tf > t;
        fx = __builtin_convertvector(n, v8sf);
        r = x - fx * 0.693359375f + fx * 2.12194440e-4f;
        r2 = r * r;
        y = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r + 4.1665795894e-2f) * r +
             1.6666665459e-1f) * r + 5.0000001201e-1f;
        y = y * r2 + r + 1.0f;
        return y * (v8sf) ((n + 127) << 23);
}

static inline __attribute__((always_inline)) v8sf swiglu8(v8sf g, v8sf u) {
        return g / (1.0f + exp8(-g)) * u;
}

/* 0.5 x (1 + tanh v) = x / (1 + exp(-2v)): one exp, no tanh. */
static inline __attribute__((always_inline)) v8sf geglu8(v8sf x, v8sf u) {
        const float k2 = 2.0f * 0.79788456080286535588f; /* 2 sqrt(2/pi) */
        return x / (1.0f + exp8(-k2 * (x + 0.044715f * x * x * x))) * u;
}

/* a[i] = OP(a[i], b[i]) for i < n, eight at a time; the last partial eight through zero-padded copies, so
 * that every element takes the same arithmetic. */
#define BY_EIGHT(a, b, n, OP)                                                                          \
        do {                                                                                           \
                size_t i_ = 0;                                                                         \
                for (; i_ + 8 <= (n); i_ += 8)                                                         \
                        STORE8((a) + i_, OP(LOAD8((a) + i_), LOAD8((b) + i_)));                        \
                if (i_ < (n)) {                                                                        \
                        float a_[8] = { 0 }, b_[8] = { 0 };                                            \
                        __builtin_memcpy(a_, (a) + i_, ((n) - i_) * sizeof a_[0]);                     \
                        __builtin_memcpy(b_, (b) + i_, ((n) - i_) * sizeof b_[0]);                     \
                        STORE8(a_, OP(LOAD8(a_), LOAD8(b_)));                                          \
                        __builtin_memcpy((a) + i_, a_, ((n) - i_) * sizeof a_[0]);                     \
                }                                                                                      \
        } while (0)

SIMD_CLONES void cpu_exp_inplace(float *x, size_t n) {
#define EXP8_OF_A(a, b) exp8(a)
        BY_EIGHT(x, x, n, EXP8_OF_A);
#undef EXP8_OF_A
}

SIMD_CLONES void cpu_swiglu(float *restrict gate, const float *restrict up, size_t n) {
        BY_EIGHT(gate, up, n, swiglu8);
}

float cpu_gelu_tanh(float x) {
        const float k = 0.79788456080286535588f; /* sqrt(2/pi) */
        return 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
}

SIMD_CLONES void cpu_geglu_tanh(float *restrict gate, const float *restrict up, size_t n) {
        BY_EIGHT(gate, up, n, geglu8);
}

/* o[g] += Σ_p w[g][p] · v[p], for up to 4 queries g at a time: 16 outputs of
 * each kept in registers across all positions, so each value row is loaded
 * once for the queries and their sums are independent chains. Every output
 * is summed over the positions in order, as a single query's would be. */
static inline __attribute__((always_inline)) void accumulate_multi(float *restrict o, size_t o_stride,
                                                                   const float *restrict w, size_t w_stride, size_t nq,
                                                                   const float *restrict v, size_t v_stride, size_t n,
                                                                   size_t d) {
        size_t d0 = 0;

        for (; d0 + 16 <= d; d0 += 16) {
                v8sf acc[4][2];

                for (size_t g = 0; g < nq; g++) {
                        acc[g][0] = LOAD8(o + g * o_stride + d0);
                        acc[g][1] = LOAD8(o + g * o_stride + d0 + 8);
                }
                for (size_t p = 0; p < n; p++) {
                        v8sf v0 = LOAD8(v + p * v_stride + d0), v1 = LOAD8(v + p * v_stride + d0 + 8);

                        for (size_t g = 0; g < nq; g++) {
                                const float ws = w[g * w_stride + p];
                                v8sf wp = { ws, ws, ws, ws, ws, ws, ws, ws };

                                acc[g][0] += wp * v0;
                                acc[g][1] += wp * v1;
                        }
                }
                for (size_t g = 0; g < nq; g++) {
                        STORE8(o + g * o_stride + d0, acc[g][0]);
                        STORE8(o + g * o_stride + d0 + 8, acc[g][1]);
                }
        }
        for (; d0 < d; d0++)
                for (size_t g = 0; g < nq; g++) {
                        float a = o[g * o_stride + d0];

                        for (size_t p = 0; p < n; p++)
                                a += w[g * w_stride + p] * v[p * v_stride + d0];
                        o[g * o_stride + d0] = a;
                }
}

SIMD_CLONES void cpu_attn_accumulate(float *restrict o, size_t o_stride, const float *restrict w, size_t w_stride,
                                     size_t nq, const float *restrict v, size_t v_stride, size_t n, size_t d) {
#define ACCUMULATE(c, g) accumulate_multi(o + (g) * o_stride, o_stride, w + (g) * w_stride, w_stride, c, v, v_stride, n, d)
        BY_QUERY_GROUPS(nq, ACCUMULATE);
#undef ACCUMULATE
}
