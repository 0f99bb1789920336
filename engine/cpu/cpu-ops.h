/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The small element-wise and per-head operations of the forward pass on the
 * CPU. Matrix products live in quant.h; these are the rest. Each function is
 * compiled for AVX-512, AVX2 and baseline x86-64 and picked by the dynamic
 * loader (GCC target_clones), so no flags leak into the rest of the engine.
 */

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

float cpu_dot_f32(const float *a, const float *b, size_t n);
/* out[g * out_stride + j] = q[g * q_stride + 0..n) · k[j * k_stride + 0..n) for g < nq, j < n_keys:
 * the attention's scores of nq query heads that share the keys, each bit-identical to cpu_dot_f32. */
void cpu_attn_scores(const float *q, size_t q_stride, size_t nq, const float *k, size_t k_stride, size_t n_keys,
                     size_t n, float *out, size_t out_stride);
/* y += a * x */
void cpu_axpy_f32(float *y, float a, const float *x, size_t n);
void cpu_scale_f32(float *x, float a, size_t n);
/* y = x + y */
void cpu_add_f32(float *y, const float *x, size_t n);

/* out = x / rms(x) * w  (w may be NULL: no weight). out may alias x. */
void cpu_rmsnorm(float *out, const float *x, const float *w, size_t n, float eps);

/* Rotary embedding tables for one position: theta_i = pos * base^(-2i/n_rot)
 * / freq_div[i] (freq_div may be NULL), cos/sin of n_rot/2 angles. Computed
 * once per token and shared by every head and layer with that base. */
void cpu_rope_table(float *cos_out, float *sin_out, size_t n_rot, float pos, float base, const float *freq_div);
/* Rotates one head in place. neox: pairs (i, i + n_rot/2), else (2i, 2i + 1). */
void cpu_rope_apply(float *x, size_t n_rot, const float *cos_t, const float *sin_t, bool neox);

/* gate = act(gate) * up */
void cpu_swiglu(float *gate, const float *up, size_t n);
void cpu_geglu_tanh(float *gate, const float *up, size_t n);

float cpu_gelu_tanh(float x);

/* x[i] = exp(x[i]), relative error ~1e-7. */
void cpu_exp_inplace(float *x, size_t n);

/* o[g * o_stride + 0..d) += Σ_{p<n} w[g * w_stride + p] · v[p * v_stride + 0..d)
 * for g < nq: the weighted sums of values in attention for nq query heads
 * that share the values, accumulated in registers, each over p in order. */
void cpu_attn_accumulate(float *o, size_t o_stride, const float *w, size_t w_stride, size_t nq, const float *v,
                         size_t v_stride, size_t n, size_t d);
