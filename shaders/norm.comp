/* SPDX-License-Identifier: MIT */
/*
 * The glue between blocks, fused into one pass per row (pc_norm in
 * include/push.glsl): optional post-norm of the block output, the residual
 * add, and the RMSNorm that feeds the next block. Sums of squares are
 * reduced in shared memory in float (the CPU sums in double; the difference
 * is far below the tolerance of the tests).
 */
#version 450
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_clustered : require
#extension GL_KHR_shader_subgroup_basic : require
#include "include/common.glsl"
#include "include/push.glsl"
#define Q8_LANES
#include "include/q8.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;

layout(push_constant) uniform PC { pc_norm p; };

shared float red[WG];

/* Loads of a row are issued U at a time per invocation: a decode step's norm is one workgroup on one
 * compute unit, so its time is the number of memory round trips, not bandwidth. */
#define U 16u

#include "include/block_sum.glsl"

float sum_sq(F32Buf b)
{
        float ss = 0.0;
        for (uint i0 = gl_LocalInvocationID.x; i0 < p.n; i0 += WG * U) {
                float v[U];
                [[unroll]] for (uint j = 0; j < U; j++) {
                        uint i = i0 + j * WG;
                        v[j] = i < p.n ? b.v[i] : 0.0;
                }
                [[unroll]] for (uint j = 0; j < U; j++)
                        ss += v[j] * v[j];
        }
        return block_sum(ss);
}

/* Rows of at most WG * NREG elements stay in registers: every load of the row (x, t, both weights) is
 * issued at once, so a decode step's norm costs one memory round trip plus its reductions instead of
 * one round trip per pass. 24 for the decode steps' one row (the default pipeline); the rows form
 * (vk_pipeline_norm_rows) takes just enough for the model's rows, so that more workgroups fit a
 * multiprocessor when a prefill step norms hundreds of rows at once. */
layout(constant_id = 1) const uint NREG = 24;
shared float hs[WG * NREG];

bool fast_path()
{
        uint r = gl_WorkGroupID.x, lid = gl_LocalInvocationID.x;
        if (p.n > WG * NREG)
                return false;
        uint xr = (p.flags & NORM_IDX) != 0u ? uint(I32Buf(p.idx).v[r]) : r;
        F32Buf x = F32Buf(p.x + uint64_t(xr * p.n) * 4ul);
        F32Buf t = F32Buf(p.t + uint64_t(r * p.n) * 4ul);
        F32Buf wt = F32Buf(p.wt), w = F32Buf(p.w);
        bool has_t = (p.flags & (NORM_T | ADD_T)) != 0u, norm_t = (p.flags & NORM_T) != 0u;
        bool do_out = (p.flags & NORM_OUT) != 0u, has_w = (p.flags & NORM_W) != 0u;
        float xv[NREG], tv[NREG], wtv[NREG], wv[NREG];
        [[unroll]] for (uint j = 0; j < NREG; j++) {
                uint i = lid + j * WG;
                bool ok = i < p.n;
                xv[j] = ok ? x.v[i] : 0.0;
                tv[j] = ok && has_t ? t.v[i] : 0.0;
                wtv[j] = ok && norm_t ? wt.v[i] : 1.0;
                wv[j] = ok && has_w ? w.v[i] : 1.0;
        }
        if (has_t) {
                float sc = 1.0;
                if (norm_t) {
                        float ss = 0.0;
                        [[unroll]] for (uint j = 0; j < NREG; j++)
                                ss += tv[j] * tv[j];
                        sc = inversesqrt(block_sum(ss) / float(p.n) + p.eps);
                }
                [[unroll]] for (uint j = 0; j < NREG; j++) {
                        uint i = lid + j * WG;
                        float vv = norm_t ? tv[j] * sc * wtv[j] : tv[j];
                        if ((p.flags & ADD_T) != 0u) {
                                xv[j] += vv;
                                if (i < p.n)
                                        x.v[i] = xv[j];
                        } else if (i < p.n)
                                t.v[i] = vv;
                }
        }
        if (!do_out)
                return true;
        float ss = 0.0;
        [[unroll]] for (uint j = 0; j < NREG; j++)
                ss += xv[j] * xv[j];
        float sc = inversesqrt(block_sum(ss) / float(p.n) + p.eps);
        F32Buf o = F32Buf(p.dst + uint64_t(r * p.n) * 4ul);
        bool q8 = (p.flags & NORM_Q8) != 0u, h16 = p.dst16 != 0ul;
        [[unroll]] for (uint j = 0; j < NREG; j++) {
                uint i = lid + j * WG;
                if (i < p.n) {
                        float v = xv[j] * sc * wv[j];
                        o.v[i] = v;
                        if (q8 || h16)
                                hs[i] = v;
                }
        }
        if (q8 || h16)
                barrier();
        if (h16) {
                /* Four halves an invocation from shared memory: adjacent elements are other lanes'. */
                U32x2Buf o16 = U32x2Buf(p.dst16 + uint64_t(r * p.n) * 2ul);
                for (uint b = lid; b < p.n / 4u; b += WG)
                        o16.v[b] = uvec2(packHalf2x16(vec2(hs[4u * b], hs[4u * b + 1u])),
                                         packHalf2x16(vec2(hs[4u * b + 2u], hs[4u * b + 3u])));
        }
        if (q8) {
                /* 8-bit rows a block of 32 per invocation from shared memory: a few loads and in-register
                 * max/sum instead of three cross-lane reductions per element. */
                uint64_t q = p.q8 + uint64_t(r) * uint64_t((p.n + p.n / 4u + 15u) & ~15u);
                for (uint b = lid; b < p.n / 32u; b += WG) {
                        vec4 v[8];
                        [[unroll]] for (uint j = 0; j < 8u; j++) {
                                uint i = b * 32u + j * 4u;
                                v[j] = vec4(hs[i], hs[i + 1u], hs[i + 2u], hs[i + 3u]);
                        }
                        q8_store(q, p.n, b, v);
                }
        }
        return true;
}

void main()
{
        if (fast_path())
                return;
        uint r = gl_WorkGroupID.x, lid = gl_LocalInvocationID.x;
        uint xr = (p.flags & NORM_IDX) != 0u ? uint(I32Buf(p.idx).v[r]) : r;
        F32Buf x = F32Buf(p.x + uint64_t(xr * p.n) * 4ul);

        if ((p.flags & (NORM_T | ADD_T)) != 0u) {
                F32Buf t = F32Buf(p.t + uint64_t(r * p.n) * 4ul);
                float sc = 1.0;
                if ((p.flags & NORM_T) != 0u)
                        sc = inversesqrt(sum_sq(t) / float(p.n) + p.eps);
                F32Buf wt = F32Buf(p.wt);
                for (uint i0 = lid; i0 < p.n; i0 += WG * U) {
                        float v[U], a[U];
                        [[unroll]] for (uint j = 0; j < U; j++) {
                                uint i = i0 + j * WG;
                                if (i < p.n) {
                                        v[j] = t.v[i];
                                        a[j] = (p.flags & NORM_T) != 0u ? wt.v[i] : 1.0;
                                }
                        }
                        [[unroll]] for (uint j = 0; j < U; j++) {
                                uint i = i0 + j * WG;
                                if (i < p.n) {
                                        float vv = (p.flags & NORM_T) != 0u ? v[j] * sc * a[j] : v[j];
                                        if ((p.flags & ADD_T) != 0u)
                                                x.v[i] += vv;
                                        else
                                                t.v[i] = vv;
                                }
                        }
                }
                barrier();
                memoryBarrierBuffer();
        }
        if ((p.flags & NORM_OUT) != 0u) {
                float sc = inversesqrt(sum_sq(x) / float(p.n) + p.eps);
                F32Buf o = F32Buf(p.dst + uint64_t(r * p.n) * 4ul);
                F32Buf w = F32Buf(p.w);
                uint64_t q = p.q8 + uint64_t(r) * uint64_t((p.n + p.n / 4u + 15u) & ~15u);
                /* 8-bit output by 32-lane clusters (a block's elements are 32 consecutive
                 * invocations; with n % 32 == 0 a cluster is all in range or all out). */
                bool q8 = (p.flags & NORM_Q8) != 0u, lanes = gl_SubgroupSize >= 32u && p.n % 32u == 0u;
                for (uint i0 = lid; i0 < p.n; i0 += WG * U) {
                        float v[U];
                        [[unroll]] for (uint j = 0; j < U; j++) {
                                uint i = i0 + j * WG;
                                if (i < p.n)
                                        v[j] = (p.flags & NORM_W) != 0u ? x.v[i] * sc * w.v[i] : x.v[i] * sc;
                        }
                        [[unroll]] for (uint j = 0; j < U; j++) {
                                uint i = i0 + j * WG;
                                if (i < p.n) {
                                        o.v[i] = v[j];
                                        if (q8 && lanes)
                                                q8_lane(q, p.n, i, v[j]);
                                }
                        }
                }
                if (p.dst16 != 0ul) {
                        /* Four elements an invocation, recomputed from x as below. */
                        U32x2Buf o16 = U32x2Buf(p.dst16 + uint64_t(r * p.n) * 2ul);
                        for (uint b = lid; b < p.n / 4u; b += WG) {
                                uint i = 4u * b;
                                vec4 v = vec4(x.v[i], x.v[i + 1u], x.v[i + 2u], x.v[i + 3u]) * sc;
                                if ((p.flags & NORM_W) != 0u)
                                        v *= vec4(w.v[i], w.v[i + 1u], w.v[i + 2u], w.v[i + 3u]);
                                o16.v[b] = uvec2(packHalf2x16(v.xy), packHalf2x16(v.zw));
                        }
                }
                if (q8 && !lanes) {
                        /* Small subgroups: one block of 32 per invocation, recomputed from x (not read
                         * back from dst, which other invocations wrote). */
                        for (uint b = lid; b < p.n / 32u; b += WG) {
                                vec4 v[8];
                                [[unroll]] for (uint j = 0; j < 8u; j++) {
                                        uint i = b * 32u + j * 4u;
                                        v[j] = vec4(x.v[i], x.v[i + 1u], x.v[i + 2u], x.v[i + 3u]) * sc;
                                        if ((p.flags & NORM_W) != 0u)
                                                v[j] *= vec4(w.v[i], w.v[i + 1u], w.v[i + 2u], w.v[i + 3u]);
                                }
                                q8_store(q, p.n, b, v);
                        }
                }
        }
}
