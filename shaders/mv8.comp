/* SPDX-License-Identifier: MIT */
/*
 * One-token mat-vec on 8-bit activations (decode): y[r] (+)= W[r] . x for
 * the row x as include/q8.glsl rows (k quants, then (d, d * sum) per block
 * of 32), with 4-byte integer dot products. Types whose blocks are 16-byte
 * aligned on the device: Q4_0 and Q8_0 (repacked at upload), Q4_K, Q6_K
 * (padded to 224-byte blocks at upload); Q4_1 in ggml's 20-byte blocks
 * (five aligned words); and Q5_0 in ggml's 22-byte blocks, read as six
 * aligned words and shifted into place (the Q4_K mix of models whose rows
 * 256 does not divide is mostly Q5_0).
 *
 * A unit is the 32 weights of a row that meet one block of x (Q4_K, Q6_K:
 * 64 weights that meet two, so that a lane reads the block's scales once
 * per 64; H200: Q4_K GLU 18944 x 3584 35.3 -> 25.1 us, Qwen2.5 7B Q4_K
 * tg128 312 -> 379 t/s; docs/vulkan.md). A group of 32 lanes owns R rows;
 * lane i takes units i, i + 32, ... with U units per row in flight.
 * Everything that sizes registers (R, U) is a compile-time constant, so
 * each variant's arrays are exactly as large as used (the
 * specialization-constant form of matvec.comp kept up to 64 units of
 * registers alive and ran at a third of this speed on an H100 for Q4_K).
 * Each lane first issues all R x U weight loads of a step, then reads the U
 * activation units once for all R rows. With GPR > 1 (long rows), GPR
 * groups share the R rows, lane i of the set taking units i, i + 32 GPR, ...
 *
 * GLU: the group's R rows of gate (p.w) and the same rows of up (p.up),
 * y = act(gate . x) * (up . x).
 *
 * Staged (XS, the "mv8s" variants): x is the float row, and every
 * workgroup makes its 8-bit row in shared memory itself, with the RMSNorm
 * (MV8_NORM, times the norm weights g). A decode layer then needs no norm
 * dispatch and barrier between the residual add and the next products.
 *
 * Staged GLU with p.yq: the output also as an 8-bit row (include/q8.glsl)
 * at yq, for the down projection, so that no quantx dispatch and barrier
 * come between them. Each block of 32 rows is quantized by the workgroup
 * that made it: the host runs this only with 32 rows a workgroup (NS x R).
 *
 * NT > 1 (the "mv8n" variants; plain form only): NT tokens' 8-bit rows at
 * x, vk_q8_row_bytes(k) apart, each weight unit loaded once and dotted with
 * all of them; token t's outputs at y + t * ldy. Steps of 2-8 tokens (several
 * sequences decoding in one step, context_decode's continuous batching) read
 * the weights once, as one token does; p.nt <= NT tokens are real (the others
 * repeat the last row and are not written).
 */
#version 450
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_clustered : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_integer_dot_product : require
#include "include/common.glsl"
#include "include/push.glsl"
#ifdef XS
#include "include/q8.glsl"
#endif

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 128;
/* 32-lane groups that share a row (set of R rows): they take every GPR-th unit of it and add their
 * sums in shared memory. Long rows (the FFN's down projection) otherwise leave too few groups, each
 * with a long chain of dependent loads, to keep enough bytes in flight. */
layout(constant_id = 1) const uint GPR = 1;

#ifdef GLU
#define RR (2 * R)
#else
#define RR R
#endif
#ifndef NT
#define NT 1
#endif
#if NT > 1 && (defined(GLU) || defined(XS))
#error "NT > 1: the plain form only"
#endif

layout(push_constant) uniform PC { pc_mv8 p; };

#ifdef XS
/* Longest staged row (the host checks k against it): its quants and its blocks' (d, d * sum). */
layout(constant_id = 2) const uint XS_K = 8192;
shared uvec4 xsq[XS_K / 16u];
shared vec2 xss[XS_K / 32u];
#ifdef GLU
shared float yqs[2][32]; /* p.yq: the block's 32 outputs, by parity of the block (one barrier a block) */
#endif
#endif

shared float red[WG];
shared float part[WG / 32u * RR * NT]; /* per group, its R rows' sums for each token (GPR > 1) */

int idot(uint a, uint b)
{
        return dotPacked4x8EXT(int(a), int(b));
}

int idot4(uvec4 a, uvec4 b) /* 16 byte products, summed in pairs */
{
        return (idot(a.x, b.x) + idot(a.y, b.y)) + (idot(a.z, b.z) + idot(a.w, b.w));
}

/* One unit: 32 weights of a row (a ggml block); for Q4_K and Q6_K 64 (see below; the host's
 * vk_mv8_unit64 names the same types). */
#if defined(TYPE_Q4_K) || defined(TYPE_Q6_K)
#define UNIT64
#endif
struct wunit {
        uvec4 q;
#if defined(TYPE_Q8_0) || defined(TYPE_Q6_K) || defined(TYPE_Q5_0) || defined(TYPE_Q4_K)
        uvec4 q2;
#endif
#if defined(TYPE_Q4_K)
        vec4 c; /* scale lo, min lo, scale hi, min hi */
#elif defined(TYPE_Q6_K)
        uvec4 h, h2; /* the high bits */
        vec4 c;      /* d * scale of elements 0..15, 16..31 of quarter p, of quarter p + 2 */
        uint sh;     /* 2 p: quarter p's bits in h */
#else
        float d;
#endif
#if defined(TYPE_Q4_1)
        float m;
#endif
};

/* The activations a unit multiplies: 32 quants as two uvec4 (a, b) and the block scales s. */
struct xunit {
        uvec4 a, b;
#ifdef UNIT64
        uvec4 a2, b2; /* a unit of 64 weights meets two blocks of x */
#endif
        vec4 s;
};

uvec4 xload(uint64_t xa, uint off) /* 16 bytes at byte offset off (16-aligned) of the activation row */
{
        return U32x4Buf(xa + uint64_t(off)).v[0];
}

/* x block u: its 32 quants and (d, d * sum) (in .xy). */
xunit xunit_block(uint64_t xa, uint u)
{
        xunit x;
#ifdef XS
        x.a = xsq[2u * u];
        x.b = xsq[2u * u + 1u];
        x.s = vec4(xss[u], xss[u]);
        return x;
#endif
        x.a = xload(xa, u * 32u);
        x.b = xload(xa, u * 32u + 16u);
        uvec4 s = xload(xa, p.k + (u & ~1u) * 8u);
        x.s = uintBitsToFloat((u & 1u) == 0u ? s : s.zwxy);
        return x;
}

#if defined(TYPE_Q4_0) || defined(TYPE_Q8_0)
#if defined(TYPE_Q4_0)
#define SB_BYTES 144ul
#define QB 16u
#else
#define SB_BYTES 272ul
#define QB 32u
#endif
wunit wload(uint64_t rb, uint u)
{
        wunit r;
        uint64_t so = rb + uint64_t(u >> 3) * SB_BYTES;
        uint bl = u & 7u;
        r.q = U32x4Buf(so + 16ul + uint64_t(bl * QB)).v[0];
#if defined(TYPE_Q8_0)
        r.q2 = U32x4Buf(so + 32ul + uint64_t(bl * QB)).v[0];
#endif
        r.d = unpackHalf2x16(U32Buf(so).v[bl >> 1] >> ((bl & 1u) * 16u)).x;
        return r;
}
xunit xunit_load(uint64_t xa, uint u)
{
        return xunit_block(xa, u);
}
float wdot(wunit w, xunit x)
{
#if defined(TYPE_Q4_0)
        const uint M = 0x0f0f0f0fu;
        int s = idot4(w.q & M, x.a) + idot4((w.q >> 4) & M, x.b);
        /* sum (q - 8) qx dx = dx sum q qx - 8 (dx sum qx) */
        return w.d * (x.s.x * float(s) - 8.0 * x.s.y);
#else
        int s = idot4(w.q, x.a) + idot4(w.q2, x.b);
        return w.d * x.s.x * float(s);
#endif
}
#elif defined(TYPE_Q4_1)
/* Unit u = block u (ggml's 20 bytes: f16 d, f16 m, 16 bytes of nibbles; elements 0..15 the low
 * nibbles, 16..31 the high), 4-byte aligned as rows of 20-byte blocks are. */
wunit wload(uint64_t rb, uint u)
{
        wunit r;
        U32Buf b = U32Buf(rb + uint64_t(u) * 20ul);
        vec2 dm = unpackHalf2x16(b.v[0]);
        r.q = uvec4(b.v[1], b.v[2], b.v[3], b.v[4]);
        r.d = dm.x;
        r.m = dm.y;
        return r;
}
xunit xunit_load(uint64_t xa, uint u)
{
        return xunit_block(xa, u);
}
float wdot(wunit w, xunit x)
{
        const uint M = 0x0f0f0f0fu;
        int s = idot4(w.q & M, x.a) + idot4((w.q >> 4) & M, x.b);
        /* sum (d q + m) qx dx = d dx sum q qx + m (dx sum qx) */
        return w.d * x.s.x * float(s) + w.m * x.s.y;
}
#elif defined(TYPE_Q5_0)
/* Unit u = block u (ggml's 22 bytes: f16 d, 32 high bits qh, 16 bytes of nibbles qs), 2-byte aligned:
 * the six words that hold it, realigned, give the 5-bit quants of elements 0..15 (q: low nibbles, bit 4
 * from qh bit e) and 16..31 (q2: high nibbles, qh bit 16 + e). */
uint spread4(uint b) /* bits 0..3 of b to bit 4 of bytes 0..3 */
{
        return ((b & 1u) << 4) | ((b & 2u) << 11) | ((b & 4u) << 18) | ((b & 8u) << 25);
}
wunit wload(uint64_t rb, uint u)
{
        wunit r;
        uint64_t o = rb + uint64_t(u) * 22ul;
        U32Buf b = U32Buf(o & ~3ul);
        uint sh = uint(o & 2ul) * 8u; /* 0 or 16 */
        uint a[6];
        [[unroll]] for (uint i = 0; i < 6u; i++)
                a[i] = b.v[i];
        /* Six aligned words hold the block's 22 bytes either way (the last two bytes of the last word,
         * past the block when it is aligned, are in a word that holds its bytes). */
        if (sh != 0u) {
                [[unroll]] for (uint i = 0; i < 5u; i++)
                        a[i] = (a[i] >> 16) | (a[i + 1u] << 16);
                a[5] >>= 16;
        }
        uint qh = (a[0] >> 16) | (a[1] << 16);
        const uint M = 0x0f0f0f0fu;
        [[unroll]] for (uint j = 0; j < 4u; j++) {
                uint qs = (a[1u + j] >> 16) | (a[2u + j] << 16); /* bytes 6 + 4j .. 9 + 4j */
                r.q[j] = (qs & M) | spread4(qh >> (4u * j));
                r.q2[j] = ((qs >> 4) & M) | spread4(qh >> (16u + 4u * j));
        }
        r.d = unpackHalf2x16(a[0]).x;
        return r;
}
xunit xunit_load(uint64_t xa, uint u)
{
        return xunit_block(xa, u);
}
float wdot(wunit w, xunit x)
{
        int s = idot4(w.q, x.a) + idot4(w.q2, x.b);
        /* sum (q - 16) qx dx = dx sum q qx - 16 (dx sum qx) */
        return w.d * (x.s.x * float(s) - 16.0 * x.s.y);
}
#elif defined(TYPE_Q6_K)
/* Unit u = quarters p and p + 2 (p = u % 2) of half h = (u / 2) % 2 of block u / 4, 64 weights (224
 * bytes on the device: ggml's 210-byte block - ql[128], qh[64], int8 scales[16], f16 d - padded so
 * that every block is 16-byte aligned). Quant l of quarter qq of half h: the low (qq < 2) or high
 * nibble of ql[64 h + 32 (qq & 1) + l] and bits 2 qq of qh[32 h + l], minus 32; one scale per 16.
 * Quarters p and p + 2 share their ql and qh bytes, so a unit reads each once; their x blocks are
 * 4 h + p and 4 h + p + 2 of the block's 8. */
wunit wload(uint64_t rb, uint u)
{
        wunit r;
        uint64_t bo = rb + uint64_t(u >> 2) * 224ul;
        uint h = (u >> 1) & 1u, pq = u & 1u;
        U32x4Buf lq = U32x4Buf(bo + uint64_t(h * 64u + pq * 32u)), hq = U32x4Buf(bo + 128ul + uint64_t(h * 32u));
        r.q = lq.v[0];
        r.q2 = lq.v[1];
        r.h = hq.v[0];
        r.h2 = hq.v[1];
        /* Scales 8 h + 2 p, + 1 (quarter p) and + 4, + 5 (quarter p + 2): bytes 2 p, 2 p + 1 of words
         * 2 h and 2 h + 1. */
        uvec4 scw = U32x4Buf(bo + 192ul).v[0];
        uint w0 = h == 0u ? scw.x : scw.z, w1 = h == 0u ? scw.y : scw.w;
        int sh = int(pq * 16u);
        float d = unpackHalf2x16(U32Buf(bo + 208ul).v[0]).x;
        r.c = d * vec4(bitfieldExtract(int(w0), sh, 8), bitfieldExtract(int(w0), sh + 8, 8),
                       bitfieldExtract(int(w1), sh, 8), bitfieldExtract(int(w1), sh + 8, 8));
        r.sh = 2u * pq;
        return r;
}
xunit xunit_load(uint64_t xa, uint u)
{
        uint b0 = (u >> 2) * 8u + ((u >> 1) & 1u) * 4u + (u & 1u); /* x block of quarter p */
        xunit x;
#ifdef XS
        x.a = xsq[2u * b0];
        x.a2 = xsq[2u * b0 + 1u];
        x.b = xsq[2u * b0 + 4u];
        x.b2 = xsq[2u * b0 + 5u];
        x.s = vec4(xss[b0], xss[b0 + 2u]);
        return x;
#endif
        x.a = xload(xa, b0 * 32u);
        x.a2 = xload(xa, b0 * 32u + 16u);
        x.b = xload(xa, b0 * 32u + 64u);
        x.b2 = xload(xa, b0 * 32u + 80u);
        U32x2Buf sb = U32x2Buf(xa + uint64_t(p.k + b0 * 8u));
        x.s = vec4(uintBitsToFloat(sb.v[0]), uintBitsToFloat(sb.v[2]));
        return x;
}
float wdot(wunit w, xunit x)
{
        const uint M4 = 0x0f0f0f0fu, M2 = 0x03030303u;
        const uvec4 ONE = uvec4(0x01010101u);
        /* The 6-bit quants of quarter p (low nibbles, qh bits 2 p) and p + 2 (high, bits 2 p + 4). */
        uvec4 q0 = (w.q & M4) | (((w.h >> w.sh) & M2) << 4), q1 = (w.q2 & M4) | (((w.h2 >> w.sh) & M2) << 4);
        uvec4 q2 = ((w.q >> 4) & M4) | (((w.h >> (w.sh + 4u)) & M2) << 4);
        uvec4 q3 = ((w.q2 >> 4) & M4) | (((w.h2 >> (w.sh + 4u)) & M2) << 4);
        /* sum sc (q - 32) qx dx over each 16 */
        float lo = w.c.x * float(idot4(q0, x.a) - 32 * idot4(ONE, x.a)) +
                   w.c.y * float(idot4(q1, x.a2) - 32 * idot4(ONE, x.a2));
        float hi = w.c.z * float(idot4(q2, x.b) - 32 * idot4(ONE, x.b)) +
                   w.c.w * float(idot4(q3, x.b2) - 32 * idot4(ONE, x.b2));
        return x.s.x * lo + x.s.z * hi;
}
#else /* Q4_K: unit u = sub-block pair c = u % 4 of block u / 4, 64 weights */
/* A unit is the pair's 32 quant bytes (low nibbles: sub-block 2c, high: 2c + 1), so that the mins
 * need only the blocks' (d, d * sum) of x, and each lane reads the 16-byte block header and decodes
 * the scales once per 64 weights. */
wunit wload(uint64_t rb, uint u)
{
        wunit r;
        uint64_t bo = rb + uint64_t(u >> 2) * 144ul;
        uint c = u & 3u;
        uvec4 hd = U32x4Buf(bo).v[0];
        U32x4Buf qb = U32x4Buf(bo + 16ul + uint64_t(c * 32u));
        r.q = qb.v[0];
        r.q2 = qb.v[1];
        /* The 6-bit scales and mins of sub-blocks 0..3 (bytes of words y, z) and 4..7 (low and high
         * nibbles of w, top bits of y and z), four to a word; the pair's two are bytes 2 (c & 1), + 1. */
        const uint M6 = 0x3f3f3f3fu, M4 = 0x0f0f0f0fu, T2 = 0x30303030u;
        uint sw = c < 2u ? hd.y & M6 : (hd.w & M4) | ((hd.y >> 2) & T2);
        uint mw = c < 2u ? hd.z & M6 : ((hd.w >> 4) & M4) | ((hd.z >> 2) & T2);
        uint sh = (c & 1u) * 16u;
        vec2 dm = unpackHalf2x16(hd.x);
        r.c = vec4(dm.x * float((sw >> sh) & 0xffu), dm.y * float((mw >> sh) & 0xffu),
                   dm.x * float((sw >> (sh + 8u)) & 0xffu), dm.y * float((mw >> (sh + 8u)) & 0xffu));
        return r;
}
xunit xunit_load(uint64_t xa, uint u)
{
        /* Elements e0 .. e0 + 63: x blocks e0 / 32 (low nibbles) and the next (high), whose scales
         * are the same 16 bytes (e0 / 32 is even). */
        uint e0 = (u >> 2) * 256u + (u & 3u) * 64u;
        xunit x;
#ifdef XS
        x.a = xsq[e0 / 16u];
        x.a2 = xsq[e0 / 16u + 1u];
        x.b = xsq[e0 / 16u + 2u];
        x.b2 = xsq[e0 / 16u + 3u];
        x.s = vec4(xss[e0 / 32u], xss[e0 / 32u + 1u]);
        return x;
#endif
        x.a = xload(xa, e0);
        x.a2 = xload(xa, e0 + 16u);
        x.b = xload(xa, e0 + 32u);
        x.b2 = xload(xa, e0 + 48u);
        x.s = uintBitsToFloat(xload(xa, p.k + (e0 / 32u) * 8u));
        return x;
}
float wdot(wunit w, xunit x)
{
        const uint M = 0x0f0f0f0fu;
        int sl = idot4(w.q & M, x.a) + idot4(w.q2 & M, x.a2);
        int sh = idot4((w.q >> 4) & M, x.b) + idot4((w.q2 >> 4) & M, x.b2);
        /* sum over each sub-block (d sc q - dmin m) qx dx = d sc dx sum q qx - dmin m (dx sum qx) */
        return (x.s.x * w.c.x * float(sl) - w.c.y * x.s.y) + (x.s.z * w.c.z * float(sh) - w.c.w * x.s.w);
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

#ifdef XS
#include "include/block_sum.glsl"

/* The workgroup's 8-bit row in xsq/xss from the float row at p.x (times g where p.g != 0; under
 * MV8_POST of x + rmsnorm(t) * wt, written to xo by the first workgroup), in one pass after the
 * post-norm's sum of squares. A vec4 per invocation, a block of 32 per 8 lanes (clustered max and
 * sum; subgroups of 8 or more, which the host checks), so that the few registers it takes do not
 * cut the main loop's occupancy (a block per invocation took 74 registers against 32 and ran the
 * products 2x slower on the H200). The quants equal q8_store's of the same values. Quantizing is
 * scale-invariant, so the norm's 1 / rms is not applied here: it is returned, and the sums are
 * multiplied by it (1 without MV8_NORM). */
float stage_x()
{
        uint lid = gl_LocalInvocationID.x;
        /* Read-only types (a read-write one measured the same on the H200). */
        U32x4Buf x = U32x4Buf(p.x), g = U32x4Buf(p.g), t = U32x4Buf(p.t), wt = U32x4Buf(p.wt);
        bool has_g = p.g != 0ul, post = (p.flags & MV8_POST) != 0u;
        bool xo = post && p.xo != 0ul && gl_WorkGroupID.x == 0u && gl_WorkGroupID.y == 0u;
        float rt = 1.0;
        if (post) {
                float st = 0.0;
                for (uint i = lid; i < p.k / 4u; i += WG) {
                        vec4 v = uintBitsToFloat(t.v[i]);
                        st += dot(v, v);
                }
                rt = inversesqrt(block_sum(st) / float(p.k) + p.eps);
        }
        float ss = 0.0;
        /* 8 consecutive invocations hold one block; k % 32 == 0, so a block is in range or out whole. */
        for (uint i = lid; i < p.k / 4u; i += WG) {
                vec4 v = uintBitsToFloat(x.v[i]);
                if (post) {
                        /* norm.comp's arithmetic (NORM_T | ADD_T), so the residual is the glue kernel's. */
                        v += uintBitsToFloat(t.v[i]) * rt * uintBitsToFloat(wt.v[i]);
                        if (xo)
                                F32x4Buf(p.xo).v[i] = v;
                }
                ss += dot(v, v);
                if (has_g)
                        v *= uintBitsToFloat(g.v[i]);
                vec4 a = abs(v);
                float amax = subgroupClusteredMax(max(max(a.x, a.y), max(a.z, a.w)), 8);
                float d = amax / 127.0, id = d > 0.0 ? 1.0 / d : 0.0;
                int sum = 0;
                uint word = q8_pack(v, id, sum);
                sum = subgroupClusteredAdd(sum, 8);
                xsq[i / 4u][i % 4u] = word;
                if (i % 8u == 0u)
                        xss[i / 8u] = vec2(d, d * float(sum));
        }
        /* block_sum's barriers also make xsq and xss visible to the workgroup. */
        float ssum = block_sum(ss);
        return (p.flags & MV8_NORM) != 0u ? inversesqrt(ssum / float(p.k) + p.eps) : 1.0;
}
#endif

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

/* Token t's 8-bit row (NT > 1): rows vk_q8_row_bytes(k) apart; tokens past p.nt repeat the last. */
uint64_t xrow(uint t)
{
        return p.x + uint64_t(min(t, p.nt - 1u)) * uint64_t((p.k + p.k / 4u + 15u) & ~15u);
}

void main()
{
        const uint NG = WG / 32u, NS = NG / GPR; /* 32-lane groups, row sets per workgroup */
        uint lid = gl_LocalInvocationID.x, grp = lid / 32u, lane = lid % 32u;
        uint set = grp / GPR, gl = (grp % GPR) * 32u + lane; /* lane within the set's GPR x 32 */
        const uint STEP = 32u * GPR;
        uint wg = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
        /* Grids spill into y in whole rows of x: workgroups past the last row leave at once. */
        if (wg * NS * R >= p.n)
                return;
#ifdef XS
        /* Staged: a workgroup takes every wstride-th block of rows (the host caps the grid near what
         * the GPU holds at once), so that one staging of the row serves them all. The row is staged
         * before any weight load is in flight: loads held across the staging raised the register
         * count (Q4_K GLU: 56 against 45), which cut the products' occupancy. */
        uint wstride = gl_NumWorkGroups.x * gl_NumWorkGroups.y;
        float xscale = stage_x();
#else
        uint wstride = 0u;
#endif
#ifdef UNIT64
        uint nu = p.k / 64u;
#else
        uint nu = p.k / 32u;
#endif
        uint par = 0u;
        for (uint wb = wg; wb * NS * R < p.n; wb += wstride) {
                uint r0 = (wb * NS + set) * R;
                uint64_t rb[RR];
                [[unroll]] for (uint i = 0; i < RR; i++) {
#ifdef GLU
                        uint64_t base = i < R ? p.w : p.up;
                        uint ri = i < R ? i : i - R;
#else
                        uint64_t base = p.w;
                        uint ri = i;
#endif
                        rb[i] = base + uint64_t(min(r0 + ri, p.n - 1u)) * uint64_t(p.row_bytes);
                }

                /* token t's sum of row i at t * RR + i */
                float acc[NT * RR];
                [[unroll]] for (uint i = 0; i < NT * RR; i++)
                        acc[i] = 0.0;
                wunit w[U][RR];
                [[unroll]] for (uint j = 0; j < U; j++)
                        [[unroll]] for (uint i = 0; i < RR; i++)
                                w[j][i] = wload(rb[i], min(gl + j * STEP, nu - 1u));
                for (uint u0 = gl; u0 < nu; u0 += STEP * U) {
                        [[unroll]] for (uint j = 0; j < U; j++) {
                                uint u = u0 + j * STEP;
                                if (u < nu) {
                                        [[unroll]] for (uint t = 0; t < NT; t++) {
                                                xunit xu = xunit_load(NT > 1 ? xrow(t) : p.x, u);
                                                [[unroll]] for (uint i = 0; i < RR; i++)
                                                        acc[t * RR + i] += wdot(w[j][i], xu);
                                        }
                                }
                        }
                        uint un = u0 + STEP * U;
                        if (un < nu)
                                [[unroll]] for (uint j = 0; j < U; j++)
                                        [[unroll]] for (uint i = 0; i < RR; i++)
                                                w[j][i] = wload(rb[i], min(un + j * STEP, nu - 1u));
                }
                [[unroll]] for (uint i = 0; i < NT * RR; i++)
                        acc[i] = reduce32(acc[i]);
#ifdef XS
                [[unroll]] for (uint i = 0; i < RR; i++)
                        acc[i] *= xscale;
#endif
                if (GPR > 1u) {
                        if (lane == 0u)
                                [[unroll]] for (uint i = 0; i < NT * RR; i++)
                                        part[grp * NT * RR + i] = acc[i];
                        barrier();
                        [[unroll]] for (uint i = 0; i < NT * RR; i++) {
                                float s = 0.0;
                                for (uint g = 0; g < GPR; g++)
                                        s += part[(set * GPR + g) * NT * RR + i];
                                acc[i] = s;
                        }
                }
                if (lane == 0u && grp % GPR == 0u) {
#ifdef GLU
                        [[unroll]] for (uint i = 0; i < R; i++) {
                                if (r0 + i < p.n) {
                                        float v = glu_act(acc[i]) * acc[i + R];
                                        F32Buf(p.y).v[r0 + i] = v;
#ifdef XS
                                        if (p.yq != 0ul) /* NS x R == 32 then */
                                                yqs[par][set * R + i] = v;
#endif
                                }
                        }
#else
                        [[unroll]] for (uint t = 0; t < NT; t++) {
                                if (NT > 1 && t >= p.nt)
                                        break;
                                F32Buf y = F32Buf(p.y + (NT > 1 ? uint64_t(t) * uint64_t(p.ldy) * 4ul : 0ul));
                                [[unroll]] for (uint i = 0; i < R; i++) {
                                        if (r0 + i < p.n) {
                                                float v = acc[t * RR + i];
                                                if ((p.flags & MM_ACC) != 0u)
                                                        v += y.v[r0 + i];
                                                y.v[r0 + i] = v;
                                        }
                                }
                        }
#endif
                }
#if defined(GLU) && defined(XS)
                if (p.yq != 0ul) {
                        /* Block wb of the 8-bit row (n % 32 == 0), as stage_x quantizes: 4 values a lane,
                         * clusters of 8 (the quants of q8_store). */
                        barrier();
                        if (lid < 8u) {
                                vec4 v = vec4(yqs[par][4u * lid], yqs[par][4u * lid + 1u], yqs[par][4u * lid + 2u],
                                              yqs[par][4u * lid + 3u]);
                                vec4 a = abs(v);
                                float amax = subgroupClusteredMax(max(max(a.x, a.y), max(a.z, a.w)), 8);
                                float d = amax / 127.0, id = d > 0.0 ? 1.0 / d : 0.0;
                                int sum = 0;
                                uint word = q8_pack(v, id, sum);
                                sum = subgroupClusteredAdd(sum, 8);
                                U32W(p.yq + uint64_t(wb * 32u + 4u * lid)).v[0] = word;
                                if (lid == 0u)
                                        V2Buf(p.yq + uint64_t(p.n) + uint64_t(wb) * 8ul).v[0] = vec2(d, d * float(sum));
                        }
                        par ^= 1u;
                }
#endif
                if (wstride == 0u)
                        break;
        }
}
