/* SPDX-License-Identifier: MIT */
/*
 * Dequantizing matrix-vector product for decode (and small batches):
 * NR rows per workgroup, WG / NR threads per row striding over the row in
 * groups of 4 elements, each weight element read once per step of up to
 * NT_MAX tokens, partial sums reduced in shared memory.
 */
#version 450
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_clustered : require
#extension GL_KHR_shader_subgroup_basic : require
#include "include/common.glsl"
#include "include/dequant.glsl"
#include "include/push.glsl"

#if defined(TYPE_Q4_0) || defined(TYPE_Q8_0) || defined(TYPE_Q4_K)
/*
 * Wide-load path (types whose blocks are 16-byte aligned on the device:
 * Q4_0 and Q8_0 repacked at upload, Q4_K as is). A group of 32 lanes owns
 * RPS rows; the row is cut into units of 32 elements, lane i takes units
 * i, i + 32, ... with UNR units in flight per row; each unit is one or two
 * 16-byte loads of quants plus its scales. Nibbles and bytes become floats
 * by the exponent trick (no int->float conversions); partial sums reduced
 * by subgroup operations (or shared memory where subgroups are < 32).
 */
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 128;
layout(constant_id = 1) const uint NR = 8;   /* rows per workgroup = WG / 32 * RPS */
layout(constant_id = 2) const uint RPS = 2;  /* rows per 32-lane group */
layout(constant_id = 3) const uint UNR = 2;  /* units in flight per row and lane */
/* NT_MAX: tokens per pass (8; 1 for the decode variants, which keep 8x fewer accumulators). */
#ifndef NT_MAX
#define NT_MAX 8
#endif
#define RPS_MAX 8
#define UNR_MAX 8
/* GLU (decode variants): the group's RPS rows of gate (p.w) and the same rows of up (p.bias, same
 * type and row bytes) in one pass, y = act(gate . x) * (up . x): the FFN activation kernel and its
 * barrier fused away. RPS <= RPS_MAX / 2. */
#ifdef GLU
const uint RR = 2u * RPS;
#else
const uint RR = RPS;
#endif

layout(push_constant) uniform PC { pc_mm p; };

shared float red[WG];

const float MAGIC = 8388608.0; /* 2^23: float(0x4b000000 | n) == MAGIC + n for n < 2^23 */

vec4 nib4(uint q, uint sh)
{
        return uintBitsToFloat(((uvec4(q) >> uvec4(sh, sh + 8u, sh + 16u, sh + 24u)) & 0xfu) | 0x4b000000u);
}

/* The 8 nibbles of q as exact floats minus off: lo = low nibbles of bytes 0..3, hi = high ones.
 * A nibble at bit p under the exponent of 2^(23 - p) reads as 2^(23 - p) + n, so each takes one
 * and-or (no shift, no int->float conversion) and one subtraction. */
void nib8(uint q, float off, out vec4 lo, out vec4 hi)
{
        const uint E0 = 150u << 23, E4 = 146u << 23, E8 = 142u << 23, E12 = 138u << 23;
        uint h = q >> 16;
        lo = uintBitsToFloat(uvec4((q & 0xfu) | E0, (q & 0xf00u) | E8, (h & 0xfu) | E0, (h & 0xf00u) | E8)) -
             (vec4(8388608.0, 32768.0, 8388608.0, 32768.0) + off);
        hi = uintBitsToFloat(uvec4((q & 0xf0u) | E4, (q & 0xf000u) | E12, (h & 0xf0u) | E4, (h & 0xf000u) | E12)) -
             (vec4(524288.0, 2048.0, 524288.0, 2048.0) + off);
}

struct unit_t {
        uvec4 q;
#if defined(TYPE_Q8_0)
        uvec4 q2;
#endif
#if defined(TYPE_Q4_K)
        vec4 c; /* scale lo, min lo, scale hi, min hi */
#else
        float d;
#endif
};

#if defined(TYPE_Q4_0)
uint units_per_row(uint k) { return k / 32u; }
unit_t unit_load(uint64_t rb, uint u)
{
        unit_t r;
        uint64_t so = rb + uint64_t(u >> 3) * 144ul;
        uint bl = u & 7u;
        r.q = U32x4Buf(so + 16ul + uint64_t(bl) * 16ul).v[0];
        r.d = unpackHalf2x16(U32Buf(so).v[bl >> 1] >> ((bl & 1u) * 16u)).x;
        return r;
}
float unit_dot(unit_t w, uint u, uint64_t xa)
{
        F32x4Buf x = F32x4Buf(xa + uint64_t(u) * 128ul);
        vec4 l0, h0, l1, h1, l2, h2, l3, h3;
        nib8(w.q.x, 8.0, l0, h0);
        nib8(w.q.y, 8.0, l1, h1);
        nib8(w.q.z, 8.0, l2, h2);
        nib8(w.q.w, 8.0, l3, h3);
        float s = (dot(l0, x.v[0]) + dot(l1, x.v[1])) + (dot(l2, x.v[2]) + dot(l3, x.v[3]));
        s += (dot(h0, x.v[4]) + dot(h1, x.v[5])) + (dot(h2, x.v[6]) + dot(h3, x.v[7]));
        return s * w.d;
}
#elif defined(TYPE_Q8_0)
uint units_per_row(uint k) { return k / 32u; }
unit_t unit_load(uint64_t rb, uint u)
{
        unit_t r;
        uint64_t so = rb + uint64_t(u >> 3) * 272ul;
        uint bl = u & 7u;
        U32x4Buf qb = U32x4Buf(so + 16ul + uint64_t(bl) * 32ul);
        r.q = qb.v[0];
        r.q2 = qb.v[1];
        r.d = unpackHalf2x16(U32Buf(so).v[bl >> 1] >> ((bl & 1u) * 16u)).x;
        return r;
}
vec4 sb4(uint q)
{
        return uintBitsToFloat(((uvec4(q) >> uvec4(0u, 8u, 16u, 24u)) & 0xffu ^ 0x80u) | 0x4b000000u) -
               (MAGIC + 128.0);
}
float unit_dot(unit_t w, uint u, uint64_t xa)
{
        F32x4Buf x = F32x4Buf(xa + uint64_t(u) * 128ul);
        float s = dot(sb4(w.q.x), x.v[0]) + dot(sb4(w.q.y), x.v[1]) + dot(sb4(w.q.z), x.v[2]) +
                  dot(sb4(w.q.w), x.v[3]);
        s += dot(sb4(w.q2.x), x.v[4]) + dot(sb4(w.q2.y), x.v[5]) + dot(sb4(w.q2.z), x.v[6]) +
             dot(sb4(w.q2.w), x.v[7]);
        return s * w.d;
}
#else /* Q4_K: unit u = half h of the 32 quant bytes of sub-block pair c of block u / 8 */
uint units_per_row(uint k) { return k / 32u; }
uint sbyte(uvec4 hd, uint i) /* scales byte i (0..11): bytes 4.. of the block header */
{
        uint wd = i < 4u ? hd.y : (i < 8u ? hd.z : hd.w);
        return (wd >> ((i & 3u) * 8u)) & 0xffu;
}
vec2 scale_min(uvec4 hd, uint sb)
{
        if (sb < 4u)
                return vec2(sbyte(hd, sb) & 63u, sbyte(hd, sb + 4u) & 63u);
        uint a = sbyte(hd, sb + 4u);
        return vec2((a & 0xfu) | ((sbyte(hd, sb - 4u) >> 6) << 4), (a >> 4) | ((sbyte(hd, sb) >> 6) << 4));
}
unit_t unit_load(uint64_t rb, uint u)
{
        unit_t r;
        uint64_t bo = rb + uint64_t(u >> 3) * 144ul;
        uint c = (u >> 1) & 3u, h = u & 1u;
        uvec4 hd = U32x4Buf(bo).v[0];
        r.q = U32x4Buf(bo + 16ul + uint64_t(c * 32u + h * 16u)).v[0];
        vec2 dm = unpackHalf2x16(hd.x);
        vec2 lo = scale_min(hd, 2u * c), hi = scale_min(hd, 2u * c + 1u);
        r.c = vec4(dm.x * lo.x, dm.y * lo.y, dm.x * hi.x, dm.y * hi.y);
        return r;
}
float unit_dot(unit_t w, uint u, uint64_t xa)
{
        uint c = (u >> 1) & 3u, h = u & 1u;
        F32x4Buf xl = F32x4Buf(xa + uint64_t((u >> 3) * 256u + c * 64u + h * 16u) * 4ul);
        vec4 x0 = xl.v[0], x1 = xl.v[1], x2 = xl.v[2], x3 = xl.v[3];
        vec4 x4 = xl.v[8], x5 = xl.v[9], x6 = xl.v[10], x7 = xl.v[11];
        vec4 l0, h0, l1, h1, l2, h2, l3, h3;
        nib8(w.q.x, 0.0, l0, h0);
        nib8(w.q.y, 0.0, l1, h1);
        nib8(w.q.z, 0.0, l2, h2);
        nib8(w.q.w, 0.0, l3, h3);
        float sl = (dot(l0, x0) + dot(l1, x1)) + (dot(l2, x2) + dot(l3, x3));
        float sh = (dot(h0, x4) + dot(h1, x5)) + (dot(h2, x6) + dot(h3, x7));
        const vec4 one = vec4(1.0);
        float xsl = dot(x0 + x1 + x2 + x3, one), xsh = dot(x4 + x5 + x6 + x7, one);
        return w.c.x * sl - w.c.y * xsl + w.c.z * sh - w.c.w * xsh;
}
#endif

/* Sum over the 32-lane group of this invocation (uniform control flow). */
float reduce32(float v)
{
        if (gl_SubgroupSize == 32u)
                return subgroupAdd(v);
        if (gl_SubgroupSize > 32u)
                return subgroupClusteredAdd(v, 32);
        float s = subgroupAdd(v);
        barrier();
        if (subgroupElect())
                red[gl_SubgroupID] = s;
        barrier();
        uint per = 32u / gl_SubgroupSize, g0 = (gl_LocalInvocationID.x / 32u) * per;
        float r = 0.0;
        for (uint i = 0; i < per; i++)
                r += red[g0 + i];
        return r;
}

void store(uint r, uint t, float v)
{
        if ((p.flags & MM_BIAS) != 0u)
                v += F32Buf(p.bias).v[r];
        F32Buf y = F32Buf(p.y);
        uint yi = t * p.ldy + r;
        if ((p.flags & MM_ACC) != 0u)
                v += y.v[yi];
        y.v[yi] = v;
}

#ifdef GLU
/* The same functions as act.comp. */
float glu_act(float x)
{
        if ((p.flags & MM_GLU_GELU) == 0u)
                return x / (1.0 + exp(-x));
        float a = 0.79788456080286535588 * (x + 0.044715 * x * x * x);
        return 0.5 * x * (2.0 - 2.0 / (exp(2.0 * a) + 1.0));
}
#endif

void main()
{
        uint lid = gl_LocalInvocationID.x;
        uint grp = lid / 32u, lane = lid % 32u;
        uint r0 = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * NR + grp * RPS;
        uint nu = units_per_row(p.k);
        uint64_t rb[RPS_MAX];
        [[unroll]] for (uint i = 0; i < RPS_MAX; i++) {
#ifdef GLU
                uint64_t base = i < RPS ? p.w : p.bias;
                uint ri = i < RPS ? i : i - RPS;
#else
                uint64_t base = p.w;
                uint ri = i;
#endif
                rb[i] = base + uint64_t(min(r0 + ri, p.n - 1u)) * uint64_t(p.row_bytes);
        }

        for (uint t0 = 0; t0 < p.nt; t0 += NT_MAX) {
                uint nt = min(p.nt - t0, uint(NT_MAX));
                float acc[NT_MAX][RPS_MAX];
                [[unroll]] for (uint t = 0; t < NT_MAX; t++)
                        [[unroll]] for (uint i = 0; i < RPS_MAX; i++)
                                acc[t][i] = 0.0;
                for (uint u0 = lane; u0 < nu; u0 += 32u * UNR) {
                        unit_t w[UNR_MAX][RPS_MAX];
                        [[unroll]] for (uint j = 0; j < UNR_MAX; j++)
                                if (j < UNR)
                                        [[unroll]] for (uint i = 0; i < RPS_MAX; i++)
                                                if (i < RR)
                                                        w[j][i] = unit_load(rb[i], min(u0 + j * 32u, nu - 1u));
                        [[unroll]] for (uint t = 0; t < NT_MAX; t++) {
                                if (t < nt) {
                                        uint64_t xa = p.x + uint64_t((t0 + t) * p.ldx) * 4ul;
                                        [[unroll]] for (uint j = 0; j < UNR_MAX; j++)
                                                if (j < UNR && u0 + j * 32u < nu)
                                                        [[unroll]] for (uint i = 0; i < RPS_MAX; i++)
                                                                if (i < RR)
                                                                        acc[t][i] += unit_dot(w[j][i], u0 + j * 32u, xa);
                                }
                        }
                }
#ifdef GLU
                [[unroll]] for (uint t = 0; t < NT_MAX; t++)
                        if (t < nt)
                                [[unroll]] for (uint i = 0; i < RPS_MAX / 2u; i++)
                                        if (i < RPS) {
                                                float g = reduce32(acc[t][i]);
                                                float u = reduce32(acc[t][i + RPS]);
                                                if (lane == 0u && r0 + i < p.n)
                                                        F32Buf(p.y).v[(t0 + t) * p.ldy + r0 + i] = glu_act(g) * u;
                                        }
#else
                [[unroll]] for (uint t = 0; t < NT_MAX; t++)
                        if (t < nt)
                                [[unroll]] for (uint i = 0; i < RPS_MAX; i++)
                                        if (i < RPS) {
                                                float v = reduce32(acc[t][i]);
                                                if (lane == 0u && r0 + i < p.n)
                                                        store(r0 + i, t0 + t, v);
                                        }
#endif
        }
}
#else

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 128;
layout(constant_id = 1) const uint NR = 4;
#define NT_MAX 8

layout(push_constant) uniform PC { pc_mm p; };

shared float red[NT_MAX][WG];

void store(uint r, uint t, float v)
{
        if ((p.flags & MM_BIAS) != 0u)
                v += F32Buf(p.bias).v[r];
        F32Buf y = F32Buf(p.y);
        uint yi = t * p.ldy + r;
        if ((p.flags & MM_ACC) != 0u)
                v += y.v[yi];
        y.v[yi] = v;
}

void main()
{
        const uint tpr = WG / NR;
        uint lid = gl_LocalInvocationID.x;
        uint sub = lid / tpr, lane = lid % tpr;
        uint r = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * NR + sub;
        uint rr = min(r, p.n - 1u); /* out-of-range rows compute row n-1 and skip the store */
        uint b0;
        U32Buf w = weight_row(p.w, rr, p.row_bytes, b0);
        uint k4 = p.k / 4u;

        for (uint t0 = 0; t0 < p.nt; t0 += NT_MAX) {
                uint nt = min(p.nt - t0, uint(NT_MAX));
                float acc[NT_MAX];
                [[unroll]] for (uint t = 0; t < NT_MAX; t++)
                        acc[t] = 0.0;
                /* Four independent weight loads in flight per thread. */
                for (uint i0 = lane; i0 < k4; i0 += 4u * tpr) {
                        vec4 wv[4];
                        [[unroll]] for (uint u = 0; u < 4u; u++) {
                                uint i = i0 + u * tpr;
                                wv[u] = i < k4 ? dequant4(w, b0, i * 4u) : vec4(0.0);
                        }
                        [[unroll]] for (uint t = 0; t < NT_MAX; t++) {
                                if (t < nt) {
                                        F32x4Buf xb = F32x4Buf(p.x + uint64_t((t0 + t) * p.ldx) * 4ul);
                                        [[unroll]] for (uint u = 0; u < 4u; u++) {
                                                uint i = min(i0 + u * tpr, k4 - 1u);
                                                acc[t] += dot(wv[u], xb.v[i]);
                                        }
                                }
                        }
                }
                if (gl_SubgroupSize == tpr) {
                        /* A row is one subgroup (NVIDIA: 32): no shared memory, no barriers. */
                        [[unroll]] for (uint t = 0; t < NT_MAX; t++)
                                if (t < nt)
                                        acc[t] = subgroupAdd(acc[t]);
                        if (lane < nt && r < p.n) {
                                float v = acc[0];
                                [[unroll]] for (uint t = 1; t < NT_MAX; t++)
                                        if (lane == t)
                                                v = acc[t];
                                store(r, t0 + lane, v);
                        }
                        continue;
                }
                [[unroll]] for (uint t = 0; t < NT_MAX; t++)
                        if (t < nt)
                                red[t][lid] = acc[t];
                barrier();
                for (uint s = tpr / 2u; s > 0u; s >>= 1) {
                        if (lane < s)
                                [[unroll]] for (uint t = 0; t < NT_MAX; t++)
                                        if (t < nt)
                                                red[t][lid] += red[t][lid + s];
                        barrier();
                }
                if (lane < nt && r < p.n)
                        store(r, t0 + lane, red[lane][sub * tpr]);
                barrier();
        }
}
#endif
