/* SPDX-License-Identifier: MIT */
/*
 * Decode attention (steps of up to ATTN_SPLIT_TOKENS tokens) for one head size, D = 4 * C * NV, with
 * the contract of attn.comp (pc_attn, split-K over positions with the last workgroup of a group
 * merging, ATTN_QKV, the 8-bit output), made per model (VK_P_ATTN_DEC, vk_attn_dec_pick).
 *
 * A workgroup takes G query heads that share one kv head (grouped-query attention), so each k and v
 * row it reads serves G heads: attn.comp reads the rows once a head, n_head / n_head_kv times over
 * (Qwen2.5 7B: 7 times, 56 MiB a layer at 4,096 positions).
 *
 * Its WG / C clusters of C lanes each walk their own positions, NV vec4 of a row a lane: a round is
 * PSC positions of k and v loaded together, the scores are butterfly sums over the cluster's lanes
 * that every lane gets, and each cluster keeps its own max, sum and output per head, so the loop has
 * no workgroup barrier. The clusters are combined through shared memory once at the end.
 * Why: attn.comp pays two workgroup barriers and five rounds of loads (scores, then v 8 positions at
 * a time) per 32 positions, and decode at depth is bound by that latency: Qwen2.5 7B Q4_0 tg128 fell
 * from 438 to 267 t/s at 4,096 positions on the H200 (run104.sh), llama.cpp's from 294 to 271.
 */
#version 450
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_clustered : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#include "include/common.glsl"
#include "include/push.glsl"
#define Q8_LANES
#include "include/q8.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 128;
layout(constant_id = 1) const bool KV16 = false; /* include/kv.glsl */
layout(constant_id = 2) const uint C = 32; /* lanes a cluster: a power of 2, 4 to the subgroup size */
layout(constant_id = 3) const uint NV = 1; /* vec4 of a row a lane, 1 to 4 */
layout(constant_id = 4) const uint G = 1;  /* query heads a workgroup, of one kv head */
#include "include/kv.glsl"

const uint D = 4u * C * NV;          /* head_dim = head_dim_v */
const uint GD = G * D;               /* a workgroup's outputs */
const uint NO = (GD + WG - 1u) / WG; /* outputs an invocation: output i = lid + d * WG */
const uint NCL = WG / C;
const uint PSC = 8u / NV;            /* positions of one round of a cluster */

layout(push_constant) uniform PC { pc_attn p; };

/* Partials and counters are written by other workgroups of this dispatch. */
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer CF32 { float v[]; };
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer CU32 { uint v[]; };

shared vec4 qs[GD / 4u];
shared float hq[GD], hk[D], hv[D];            /* ATTN_QKV: the token's q of the G heads, its k and v */
shared float red[(G + 1u) * WG];              /* ATTN_QKV: the norms' partial sums */
shared float cm_m[NCL * G], cm_l[NCL * G];    /* each cluster's max and sum a head */
shared vec4 cmb[NCL * GD / 4u];               /* each cluster's scaled output */
shared float hmax[G], hsum[G];                /* the workgroup's max and sum a head */
shared float ws[G * ATTN_MAX_SPLIT], wl[G * ATTN_MAX_SPLIT]; /* merge: each partial's weight and sum */
shared uint is_last;

/* Output i of the workgroup's heads (from h0), with its 8-bit form where asked. */
void store_out(uint t, uint h0, uint i, float v)
{
        F32Buf(p.dst + uint64_t(t * p.n_head * D + h0 * D) * 4ul).v[i] = v;
        if (p.q8 != 0ul)
                q8_lane(p.q8, p.n_head * D, h0 * D + i, v);
}

/* The partials of (t, h): nz of D outputs, max and sum each. */
CF32 partials(uint t, uint h, uint nz)
{
        return CF32(p.part + uint64_t(ATTN_CNT_BYTES(p.n_head)) + uint64_t((t * p.n_head + h) * nz * (D + 2u)) * 4ul);
}

/* The last workgroup of (t, h0..h0 + G): combine the nz partials of each head into the output. The
 * sums over partials are taken in order, as in attn.comp. */
void merge(uint t, uint h0, uint nz)
{
        uint lid = gl_LocalInvocationID.x, st = D + 2u;
        for (uint i = lid; i < G * nz; i += WG) {
                CF32 part = partials(t, h0 + i / nz, nz);
                ws[i] = part.v[(i % nz) * st + D];
                wl[i] = part.v[(i % nz) * st + D + 1u];
        }
        barrier();
        if (lid < G) {
                float mx = -1.0 / 0.0;
                for (uint s = 0; s < nz; s++)
                        mx = max(mx, ws[lid * nz + s]);
                hmax[lid] = mx;
        }
        barrier();
        for (uint i = lid; i < G * nz; i += WG) {
                float ms = ws[i];
                ws[i] = ms == -1.0 / 0.0 ? 0.0 : exp(ms - hmax[i / nz]);
        }
        barrier();
        if (lid < G) {
                float l = 0.0;
                for (uint s = 0; s < nz; s++)
                        l += ws[lid * nz + s] * wl[lid * nz + s];
                hsum[lid] = l;
        }
        barrier();
        const uint MU = 16u;
        [[unroll]] for (uint d = 0; d < NO; d++) {
                uint i = lid + d * WG;
                if (i < GD) {
                        uint g = i / D, dd = i % D;
                        CF32 part = partials(t, h0 + g, nz);
                        float o = 0.0;
                        for (uint s0 = 0; s0 < nz; s0 += MU) {
                                float v[MU];
                                [[unroll]] for (uint u = 0; u < MU; u++)
                                        v[u] = s0 + u < nz ? part.v[(s0 + u) * st + dd] : 0.0;
                                [[unroll]] for (uint u = 0; u < MU; u++)
                                        if (s0 + u < nz)
                                                o += ws[g * nz + s0 + u] * v[u];
                        }
                        store_out(t, h0, i, o / hsum[g]);
                }
        }
}

/* ATTN_QKV: q of heads h0.. and k and v of kv head kvh for token t into hq, hk, hv, and q into qs; the
 * first workgroup of the kv head writes k and v into the cache. Sums and order as qkv.comp's (a tree
 * over the invocations per head), so that q and k equal that kernel's to the bit. */
void prep_qkv(uint t, uint h0, uint kvh)
{
        uint lid = gl_LocalInvocationID.x;
        uint kc = p.n_head * D + kvh * D, vc = p.n_head * D + p.n_head_kv * D + kvh * D;
        F32Buf row = F32Buf(p.q + uint64_t(t * p.ldq) * 4ul), b = F32Buf(p.bias);
        bool bias = (p.flags & QKV_BIAS) != 0u;
        float sq[G], sk = 0.0;
        [[unroll]] for (uint g = 0; g < G; g++)
                sq[g] = 0.0;
        for (uint i = lid; i < D; i += WG) {
                [[unroll]] for (uint g = 0; g < G; g++) {
                        uint qc = (h0 + g) * D;
                        float a = row.v[qc + i] + (bias ? b.v[qc + i] : 0.0);
                        hq[g * D + i] = a;
                        sq[g] += a * a;
                }
                float c = row.v[kc + i] + (bias ? b.v[kc + i] : 0.0);
                hk[i] = c;
                sk += c * c;
                hv[i] = row.v[vc + i] + (bias ? b.v[vc + i] : 0.0);
        }
        if ((p.flags & QKV_NORM) != 0u) {
                [[unroll]] for (uint g = 0; g < G; g++)
                        red[g * WG + lid] = sq[g];
                red[G * WG + lid] = sk;
                barrier();
                for (uint s = WG / 2u; s > 0u; s >>= 1) {
                        if (lid < s) {
                                [[unroll]] for (uint r = 0; r <= G; r++)
                                        red[r * WG + lid] += red[r * WG + lid + s];
                        }
                        barrier();
                }
                F32Buf nw = F32Buf(p.norm);
                float ck = inversesqrt(red[G * WG] / float(D) + p.eps);
                for (uint i = lid; i < D; i += WG) {
                        [[unroll]] for (uint g = 0; g < G; g++)
                                hq[g * D + i] = hq[g * D + i] * inversesqrt(red[g * WG] / float(D) + p.eps) * nw.v[i];
                        hk[i] = hk[i] * ck * nw.v[D + i];
                }
        }
        barrier();
        uint n_rot = p.flags >> 16, half_rot = n_rot / 2u;
        bool neox = (p.flags & QKV_NEOX) != 0u;
        F32Buf cs = F32Buf(p.tok + uint64_t(p.rope_off) + uint64_t(t * n_rot) * 4ul);
        for (uint i = lid; i < half_rot; i += WG) {
                uint a = neox ? i : 2u * i, e = neox ? i + half_rot : 2u * i + 1u;
                float c = cs.v[i], s = cs.v[half_rot + i];
                [[unroll]] for (uint g = 0; g < G; g++) {
                        float q0 = hq[g * D + a], q1 = hq[g * D + e];
                        hq[g * D + a] = q0 * c - q1 * s;
                        hq[g * D + e] = q0 * s + q1 * c;
                }
                float k0 = hk[a], k1 = hk[e];
                hk[a] = k0 * c - k1 * s;
                hk[e] = k0 * s + k1 * c;
        }
        barrier();
        for (uint i = lid; i < GD / 4u; i += WG)
                qs[i] = vec4(hq[4u * i], hq[4u * i + 1u], hq[4u * i + 2u], hq[4u * i + 3u]);
        if (h0 % (p.n_head / p.n_head_kv) == 0u && gl_WorkGroupID.z == 0u) {
                uint slot = uint(I32Buf(p.tok).v[t * 4u + ((p.flags & ATTN_SLOT_SWA) != 0u ? 3u : 2u)]);
                uint64_t kcache = p.kc + (uint64_t(slot) * (p.n_head_kv * D) + kvh * D) * KV_BYTES;
                uint64_t vcache = p.vc + (uint64_t(slot) * (p.n_head_kv * D) + kvh * D) * KV_BYTES;
                for (uint i = lid; i < D / 2u; i += WG) {
                        kv_store2(kcache, i, vec2(hk[2u * i], hk[2u * i + 1u]));
                        kv_store2(vcache, i, vec2(hv[2u * i], hv[2u * i + 1u]));
                }
        }
        barrier();
}

/* A group of 4 cache elements as raw words (f16: .xy), so that a round's loads hold half the
 * registers with the f16 cache; kv_f4 converts it where it is used. */
uvec4 kv_raw4(uint64_t row, uint i)
{
        if (KV16)
                return uvec4(U32x2Buf(row).v[i], 0u, 0u);
        return floatBitsToUint(F32x4Buf(row).v[i]);
}

vec4 kv_f4(uvec4 u)
{
        return KV16 ? vec4(unpackHalf2x16(u.x), unpackHalf2x16(u.y)) : uintBitsToFloat(u);
}

/* A sum over the lanes of a cluster, which every lane gets (a butterfly: each step adds the same two
 * values in every lane, so the lanes agree to the bit). Shuffles rather than clustered sums, which
 * Debian 12's lavapipe lacks. */
float cluster_add(float a)
{
        [[unroll]] for (uint o = C / 2u; o > 0u; o >>= 1)
                a += subgroupShuffleXor(a, o);
        return a;
}

void main()
{
        uint h0 = gl_WorkGroupID.x * G, t = gl_WorkGroupID.y, lid = gl_LocalInvocationID.x;
        uint lane = gl_SubgroupInvocationID, cl = lane % C, cid = gl_SubgroupID * (gl_SubgroupSize / C) + lane / C;
        uint kvh = h0 / (p.n_head / p.n_head_kv), kd = p.n_head_kv * D;
        I32Buf tok = I32Buf(p.tok);
        int pos = tok.v[t * 4u], seq = tok.v[t * 4u + 1u];
        int start = 0;
        if (p.window > 0u && pos >= int(p.window))
                start = pos - int(p.window) + 1;
        int end = pos; /* last position, inclusive */
        if (p.chunk > 0u) {
                start += int(gl_WorkGroupID.z * p.chunk);
                end = min(end, start + int(p.chunk) - 1);
        }
        bool fused = (p.flags & ATTN_QKV) != 0u;
        if (fused) {
                prep_qkv(t, h0, kvh);
        } else {
                for (uint i = lid; i < GD / 4u; i += WG) {
                        uint g = i / (D / 4u);
                        qs[i] = F32x4Buf(p.q + uint64_t(t * p.ldq + (h0 + g) * D) * 4ul).v[i % (D / 4u)];
                }
                barrier();
        }

        vec4 qv[G][NV], ov[G][NV];
        float cm[G], cs[G];
        [[unroll]] for (uint g = 0; g < G; g++) {
                [[unroll]] for (uint k = 0; k < NV; k++) {
                        qv[g][k] = qs[g * (D / 4u) + cl + k * C];
                        ov[g][k] = vec4(0.0);
                }
                cm[g] = -1.0 / 0.0;
                cs[g] = 0.0;
        }
        uint64_t kbase = p.kc + (uint64_t(seq) * p.ring * kd + kvh * D) * KV_BYTES;
        uint64_t vbase = p.vc + (uint64_t(seq) * p.ring * kd + kvh * D) * KV_BYTES;
        /* Every cluster runs every trip (the butterflies in uniform control flow); positions past `end`
         * are masked, and their loads read position `end`. */
        for (int b0 = start; b0 <= end; b0 += int(NCL * PSC)) {
                int p0 = b0 + int(cid * PSC);
                uvec4 kr[PSC][NV], vr[PSC][NV];
                [[unroll]] for (uint j = 0; j < PSC; j++) {
                        uint slot = uint(min(p0 + int(j), end)) % p.ring;
                        [[unroll]] for (uint k = 0; k < NV; k++) {
                                kr[j][k] = kv_raw4(kbase + uint64_t(slot) * kd * KV_BYTES, cl + k * C);
                                vr[j][k] = kv_raw4(vbase + uint64_t(slot) * kd * KV_BYTES, cl + k * C);
                        }
                }
                float s[G][PSC];
                [[unroll]] for (uint j = 0; j < PSC; j++) {
                        float a[G];
                        [[unroll]] for (uint g = 0; g < G; g++)
                                a[g] = 0.0;
                        [[unroll]] for (uint k = 0; k < NV; k++) {
                                uint i = cl + k * C;
                                vec4 kv = kv_f4(kr[j][k]);
                                if (fused && p0 + int(j) == pos) /* the token's own k: not in the cache yet */
                                        kv = vec4(hk[4u * i], hk[4u * i + 1u], hk[4u * i + 2u], hk[4u * i + 3u]);
                                [[unroll]] for (uint g = 0; g < G; g++)
                                        a[g] += dot(kv, qv[g][k]);
                        }
                        [[unroll]] for (uint g = 0; g < G; g++) {
                                float r = cluster_add(a[g]) * p.scale; /* every lane: uniform flow */
                                s[g][j] = p0 + int(j) <= end ? r : -1.0 / 0.0;
                        }
                }
                /* Online softmax per head; a head whose max is still -inf adds nothing (c and w are 0,
                 * not NaN). */
                float c[G];
                [[unroll]] for (uint g = 0; g < G; g++) {
                        float mb = cm[g];
                        [[unroll]] for (uint j = 0; j < PSC; j++)
                                mb = max(mb, s[g][j]);
                        c[g] = cm[g] == -1.0 / 0.0 ? 0.0 : exp(cm[g] - mb);
                        cs[g] *= c[g];
                        [[unroll]] for (uint k = 0; k < NV; k++)
                                ov[g][k] *= c[g];
                        [[unroll]] for (uint j = 0; j < PSC; j++) {
                                float w = s[g][j] == -1.0 / 0.0 ? 0.0 : exp(s[g][j] - mb);
                                s[g][j] = w;
                                cs[g] += w;
                        }
                        cm[g] = mb;
                }
                [[unroll]] for (uint j = 0; j < PSC; j++) {
                        /* Masked positions load row `end`, which with ATTN_QKV is the token's own slot,
                         * not written yet (it may hold NaN): they add nothing. */
                        if (p0 + int(j) > end)
                                continue;
                        bool own = fused && p0 + int(j) == pos;
                        [[unroll]] for (uint k = 0; k < NV; k++) {
                                uint i = cl + k * C;
                                vec4 vv = kv_f4(vr[j][k]);
                                if (own)
                                        vv = vec4(hv[4u * i], hv[4u * i + 1u], hv[4u * i + 2u], hv[4u * i + 3u]);
                                [[unroll]] for (uint g = 0; g < G; g++)
                                        ov[g][k] += s[g][j] * vv;
                        }
                }
        }

        /* Combine the clusters: weights against each head's largest max, the scaled outputs summed. */
        if (cl == 0u) {
                [[unroll]] for (uint g = 0; g < G; g++) {
                        cm_m[cid * G + g] = cm[g];
                        cm_l[cid * G + g] = cs[g];
                }
        }
        barrier();
        [[unroll]] for (uint g = 0; g < G; g++) {
                float m = -1.0 / 0.0, l = 0.0;
                for (uint q = 0; q < NCL; q++)
                        m = max(m, cm_m[q * G + g]);
                for (uint q = 0; q < NCL; q++) {
                        float mq = cm_m[q * G + g];
                        l += mq == -1.0 / 0.0 ? 0.0 : exp(mq - m) * cm_l[q * G + g];
                }
                float wc = cm[g] == -1.0 / 0.0 ? 0.0 : exp(cm[g] - m);
                [[unroll]] for (uint k = 0; k < NV; k++)
                        cmb[cid * (GD / 4u) + g * (D / 4u) + cl + k * C] = ov[g][k] * wc;
                if (lid == 0u) {
                        hmax[g] = m;
                        hsum[g] = l;
                }
        }
        barrier();
        float o[NO];
        [[unroll]] for (uint d = 0; d < NO; d++) {
                uint i = lid + d * WG;
                o[d] = 0.0;
                if (i < GD)
                        for (uint q = 0; q < NCL; q++)
                                o[d] += cmb[q * (GD / 4u) + i / 4u][i % 4u];
        }

        uint nz = gl_NumWorkGroups.z;
        if (nz == 1u) {
                [[unroll]] for (uint d = 0; d < NO; d++) {
                        uint i = lid + d * WG;
                        if (i < GD)
                                store_out(t, h0, i, o[d] / hsum[i / D]);
                }
                return;
        }
        uint z = gl_WorkGroupID.z, st = D + 2u;
        [[unroll]] for (uint d = 0; d < NO; d++) {
                uint i = lid + d * WG;
                if (i < GD)
                        partials(t, h0 + i / D, nz).v[z * st + i % D] = o[d];
        }
        if (lid < G) {
                CF32 part = partials(t, h0 + lid, nz);
                part.v[z * st + D] = hmax[lid];
                part.v[z * st + D + 1u] = hsum[lid];
        }
        /* Publish the partials before counting this workgroup in; one counter for the G heads. */
        CU32 cnt = CU32(p.part);
        memoryBarrierBuffer();
        barrier();
        if (lid == 0u)
                is_last = atomicAdd(cnt.v[t * p.n_head + h0], 1u) == nz - 1u ? 1u : 0u;
        barrier();
        if (is_last == 0u)
                return;
        memoryBarrierBuffer();
        if (lid == 0u)
                cnt.v[t * p.n_head + h0] = 0u;
        merge(t, h0, nz);
}
