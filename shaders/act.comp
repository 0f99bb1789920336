/* SPDX-License-Identifier: MIT */
/* Gated FFN activation: gate = act(gate) * up (SiLU for llama/qwen2, GELU-tanh for Gemma). */
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
        F32Buf g = F32Buf(p.gate);
        float x = g.v[i], u = F32Buf(p.up).v[i];
        if (p.op == ACT_SILU) {
                x = x / (1.0 + exp(-x));
        } else {
                /* tanh(a) = 1 - 2 / (exp(2a) + 1): exact enough and safe for large |a|. */
                float a = 0.79788456080286535588 * (x + 0.044715 * x * x * x);
                x = 0.5 * x * (2.0 - 2.0 / (exp(2.0 * a) + 1.0));
        }
        g.v[i] = x * u;
}
