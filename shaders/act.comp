/* SPDX-License-Identifier: MIT */
/* Gated FFN activation: dst = act(gate) * up (SiLU for llama/qwen2, GELU-tanh for Gemma), in place or
 * from the two halves of a joined gate/up product's rows. */
#version 450
#include "include/common.glsl"
#include "include/push.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;

layout(push_constant) uniform PC { pc_act p; };

void main()
{
        uint i = gl_GlobalInvocationID.x + gl_NumWorkGroups.x * WG * gl_GlobalInvocationID.y;
        if (i >= p.n)
                return;
        uint j = i;
        if (p.k != p.ld) /* rows of k elements, ld apart: [gate | up] of a joined product */
                j = i / p.k * p.ld + i % p.k;
        float x = F32Buf(p.gate).v[j], u = F32Buf(p.up).v[j];
        if (p.op == ACT_SILU) {
                x = x / (1.0 + exp(-x));
        } else {
                /* tanh(a) = 1 - 2 / (exp(2a) + 1): exact enough and safe for large |a|. */
                float a = 0.79788456080286535588 * (x + 0.044715 * x * x * x);
                x = 0.5 * x * (2.0 - 2.0 / (exp(2.0 * a) + 1.0));
        }
        F32Buf(p.dst).v[i] = x * u;
}
