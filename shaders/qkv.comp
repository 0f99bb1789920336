/* SPDX-License-Identifier: MIT */
/*
 * After the q/k/v projections, per (head, token): bias (qwen2), QK-norm
 * (gemma3), RoPE (neox halves or adjacent pairs) with the step's cos/sin
 * table (computed on the host exactly as the CPU backend does), and k/v
 * written into the layer's KV cache at the token's slot. Steps of several
 * tokens only: one-token steps do this in attn.comp (ATTN_QKV).
 */
#version 450
#include "include/common.glsl"
#include "include/push.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 128;
layout(constant_id = 1) const bool KV16 = false; /* include/kv.glsl */
#include "include/kv.glsl"
#define MAX_HEAD 512

layout(push_constant) uniform PC { pc_qkv p; };

shared float hv[MAX_HEAD];
shared float red[WG];

void main()
{
        uint j = gl_WorkGroupID.x, t = gl_WorkGroupID.y, lid = gl_LocalInvocationID.x;
        uint kd = p.n_head_kv * p.head_dim;
        uint col, dim, kind; /* kind: 0 q, 1 k, 2 v */

        if (j < p.n_head) {
                kind = 0u;
                col = j * p.head_dim;
                dim = p.head_dim;
        } else if (j < p.n_head + p.n_head_kv) {
                kind = 1u;
                col = p.n_head * p.head_dim + (j - p.n_head) * p.head_dim;
                dim = p.head_dim;
        } else {
                kind = 2u;
                col = p.n_head * p.head_dim + kd + (j - p.n_head - p.n_head_kv) * p.head_dim_v;
                dim = p.head_dim_v;
        }
        F32Buf row = F32Buf(p.qkv + uint64_t(t * p.ld + col) * 4ul);
        for (uint i = lid; i < dim; i += WG) {
                float v = row.v[i];
                if ((p.flags & QKV_BIAS) != 0u)
                        v += F32Buf(p.bias).v[col + i];
                hv[i] = v;
        }
        barrier();
        if (kind < 2u && (p.flags & QKV_NORM) != 0u) {
                float ss = 0.0;
                for (uint i = lid; i < dim; i += WG)
                        ss += hv[i] * hv[i];
                red[lid] = ss;
                barrier();
                for (uint s = WG / 2u; s > 0u; s >>= 1) {
                        if (lid < s)
                                red[lid] += red[lid + s];
                        barrier();
                }
                float sc = inversesqrt(red[0] / float(dim) + p.eps);
                F32Buf nw = F32Buf(p.norm + uint64_t(kind * p.head_dim) * 4ul);
                for (uint i = lid; i < dim; i += WG)
                        hv[i] = hv[i] * sc * nw.v[i];
                barrier();
        }
        if (kind < 2u) {
                uint half_rot = p.n_rot / 2u;
                F32Buf cs = F32Buf(p.rope + uint64_t(t * p.n_rot) * 4ul);
                for (uint i = lid; i < half_rot; i += WG) {
                        uint a = (p.flags & QKV_NEOX) != 0u ? i : 2u * i;
                        uint b = (p.flags & QKV_NEOX) != 0u ? i + half_rot : 2u * i + 1u;
                        float c = cs.v[i], s = cs.v[half_rot + i];
                        float x0 = hv[a], x1 = hv[b];
                        hv[a] = x0 * c - x1 * s;
                        hv[b] = x0 * s + x1 * c;
                }
                barrier();
        }
        if (kind == 0u) {
                for (uint i = lid; i < dim; i += WG)
                        row.v[i] = hv[i];
                return;
        }
        uint slot = uint(I32Buf(p.tok).v[t * 4u + p.tok_slot]);
        uint h = kind == 1u ? j - p.n_head : j - p.n_head - p.n_head_kv;
        uint64_t cache = kind == 1u ? p.kc + (uint64_t(slot) * kd + h * dim) * KV_BYTES
                                    : p.vc + (uint64_t(slot) * (p.n_head_kv * p.head_dim_v) + h * dim) * KV_BYTES;
        for (uint i = lid; i < dim / 2u; i += WG)
                kv_store2(cache, i, vec2(hv[2u * i], hv[2u * i + 1u]));
}
