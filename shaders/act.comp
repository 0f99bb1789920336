/* SPDX-License-Identifier: MIT */
/*
 * Gated FFN activation: dst = act(gate) * up (SiLU for llama/qwen2,
 * GELU-tanh for Gemma), in place or from the two halves of a joined
 * gate/up product's rows (pc_act). Four elements an invocation (n, k and
 * ld are multiples of 4), so that with dst16 it also writes the down
 * projection's f16 rows (what cvt16.comp would make of dst) and that
 * product needs no conversion dispatch and barrier first.
 */
#version 450
#include "include/common.glsl"
#include "include/push.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;

layout(push_constant) uniform PC { pc_act p; };

float act(float x)
{
        if (p.op == ACT_SILU)
                return x / (1.0 + exp(-x));
        /* tanh(a) = 1 - 2 / (exp(2a) + 1): exact enough and safe for large |a|. */
        float a = 0.79788456080286535588 * (x + 0.044715 * x * x * x);
        return 0.5 * x * (2.0 - 2.0 / (exp(2.0 * a) + 1.0));
}

void main()
{
        uint q = gl_GlobalInvocationID.x + gl_NumWorkGroups.x * WG * gl_GlobalInvocationID.y, i = 4u * q;
        if (i >= p.n)
                return;
        uint j = i;
        if (p.k != p.ld) /* rows of k elements, ld apart: [gate | up] of a joined product */
                j = i / p.k * p.ld + i % p.k;
        vec4 g = F32x4Buf(p.gate).v[j / 4u], u = F32x4Buf(p.up).v[j / 4u];
        vec4 r = vec4(act(g.x), act(g.y), act(g.z), act(g.w)) * u;
        F32x4Buf(p.dst).v[q] = r;
        if (p.dst16 != 0ul)
                U32x2Buf(p.dst16).v[q] = uvec2(packHalf2x16(r.xy), packHalf2x16(r.zw));
}
