/* SPDX-License-Identifier: MIT */
/*
 * Attention of one (head, token) over its sequence's cached positions,
 * flash-style (online softmax over blocks of positions). Sliding layers
 * look back `window` positions; their cache is a ring of `ring` rows per
 * sequence.
 *
 * Decode is latency-bound (a few hundred KB of k/v per layer), so a block
 * costs two workgroup barriers: each subgroup scores PS positions at once,
 * lanes over the head dimensions (coalesced 16-byte loads, subgroup sums),
 * and every thread then reads the block's scores from shared memory itself
 * instead of joining tree reductions; the weighted sum of v rows has
 * threads over the v dimensions.
 *
 * Split-K (decode): with p.chunk > 0, workgroup z takes positions
 * [start + z * chunk, start + (z + 1) * chunk) only and writes its
 * unnormalised output, max and sum to the partials at p.part (after the
 * per-(token, head) counters, ATTN_CNT_BYTES). The last workgroup of a
 * (token, head) to finish, told by an atomic counter, merges the partials
 * and writes the output: no second dispatch and no barrier between. It
 * sets the counter back to 0 for the next dispatch.
 *
 * With p.q8 (one token, head_dim_v % 32 == 0, subgroups of at least 32:
 * the host checks) the final output is also written as 8-bit activations,
 * each block of 32 being 32 lanes of one subgroup, so the output
 * projection needs no quantx dispatch and barrier.
 *
 * This form takes any head size; attn_dec.comp is made per model for its head size and taken
 * where it suits (VK_P_ATTN_DEC): it reads each k and v row once for the heads that share it and
 * has no workgroup barrier in its loop.
 *
 * ATTN_QKV (one-token steps): the work of qkv.comp is done here, so a decode
 * layer has one dispatch and barrier fewer. Each workgroup takes the raw q of
 * its head and the raw k and v of its kv head from the projections' row,
 * adds the bias, applies QK-norm and RoPE, and uses that k and v for the
 * token's own position instead of the cache (which no other position of the
 * window shares a slot with); the first head of each kv group, z = 0, writes
 * them into the cache for later steps.
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
layout(constant_id = 0) const uint WG = 128;
layout(constant_id = 1) const bool KV16 = false; /* include/kv.glsl */
#include "include/kv.glsl"
#define MAX_HEAD 512
#define MAX_OUT 4 /* head_dim_v <= MAX_OUT * WG */
#define PS 8u     /* positions a subgroup scores at once */

layout(push_constant) uniform PC { pc_attn p; };

/* Partials and counters are written by other workgroups of this dispatch. */
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer CF32 { float v[]; };
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer CU32 { uint v[]; };

shared vec4 qs[MAX_HEAD / 4];
shared float sc[WG * PS]; /* a block: PS positions per subgroup, at most WG subgroups */
shared float ws[ATTN_MAX_SPLIT], wl[ATTN_MAX_SPLIT]; /* merge: each partial's weight (max first) and sum */
shared uint is_last;
/* ATTN_QKV: the token's q (then k) and v of this head, and the norms' partial sums */
shared float hq[MAX_HEAD], hk[MAX_HEAD], hv[MAX_HEAD];
shared float red[2u * WG];

void store_out(uint t, uint h, uint dd, float v)
{
        F32Buf(p.dst + uint64_t(t * p.n_head * p.head_dim_v + h * p.head_dim_v) * 4ul).v[dd] = v;
        if (p.q8 != 0ul)
                q8_lane(p.q8, p.n_head * p.head_dim_v, h * p.head_dim_v + dd, v);
}

/* The last workgroup of (t, h): combine the nz partials into the output. */
void merge(uint t, uint h, uint nz, CF32 part)
{
        uint lid = gl_LocalInvocationID.x, dv = p.head_dim_v, st = dv + 2u;
        /* Each partial's max and sum are loaded once, by one invocation each, all at once, and the
         * outputs' loads go MU (16) at a time: these loops read them one after another in every invocation
         * before, a memory latency each, and at 4,096 positions (64 partials) the merge was most of
         * the decode attention (H200, Qwen2.5 7B Q4_0 tg128 @ d4096: 267 t/s against llama.cpp's 271,
         * 438 against 294 at depth 0; run104.sh). The sums are taken in the same order as before. */
        for (uint s = lid; s < nz; s += WG) {
                ws[s] = part.v[s * st + dv];
                wl[s] = part.v[s * st + dv + 1u];
        }
        barrier();
        float mx = -1.0 / 0.0;
        for (uint s = 0; s < nz; s++)
                mx = max(mx, ws[s]);
        barrier();
        for (uint s = lid; s < nz; s += WG) {
                float ms = ws[s];
                ws[s] = ms == -1.0 / 0.0 ? 0.0 : exp(ms - mx);
        }
        barrier();
        float l = 0.0;
        for (uint s = 0; s < nz; s++)
                l += ws[s] * wl[s];
        const uint MU = 16u;
        [[unroll]] for (uint d = 0; d < MAX_OUT; d++) {
                uint dd = lid + d * WG;
                if (dd < dv) {
                        float o = 0.0;
                        for (uint s0 = 0; s0 < nz; s0 += MU) {
                                float v[MU];
                                [[unroll]] for (uint u = 0; u < MU; u++)
                                        v[u] = s0 + u < nz ? part.v[(s0 + u) * st + dd] : 0.0;
                                [[unroll]] for (uint u = 0; u < MU; u++)
                                        if (s0 + u < nz)
                                                o += ws[s0 + u] * v[u];
                        }
                        store_out(t, h, dd, o / l);
                }
        }
}

/* ATTN_QKV: q, k and v of token t for head h (kv head kvh) into hq, hk, hv, and q into qs. */
void prep_qkv(uint t, uint h, uint kvh)
{
        uint lid = gl_LocalInvocationID.x, hd = p.head_dim, hdv = p.head_dim_v;
        uint qc = h * hd, kc = p.n_head * hd + kvh * hd, vc = p.n_head * hd + p.n_head_kv * hd + kvh * hdv;
        F32Buf row = F32Buf(p.q + uint64_t(t * p.ldq) * 4ul), b = F32Buf(p.bias);
        bool bias = (p.flags & QKV_BIAS) != 0u;
        float sq = 0.0, sk = 0.0;
        for (uint i = lid; i < hd; i += WG) {
                float a = row.v[qc + i], c = row.v[kc + i];
                if (bias) {
                        a += b.v[qc + i];
                        c += b.v[kc + i];
                }
                hq[i] = a;
                hk[i] = c;
                sq += a * a;
                sk += c * c;
        }
        for (uint i = lid; i < hdv; i += WG)
                hv[i] = row.v[vc + i] + (bias ? b.v[vc + i] : 0.0);
        if ((p.flags & QKV_NORM) != 0u) {
                /* The same sums in the same order as qkv.comp (a tree over the invocations), so that
                 * q and k equal the qkv kernel's to the bit: 8-bit activations downstream turn a last-bit
                 * difference into a changed quant. Each invocation scales the elements it loaded. */
                red[lid] = sq;
                red[WG + lid] = sk;
                barrier();
                for (uint s = WG / 2u; s > 0u; s >>= 1) {
                        if (lid < s) {
                                red[lid] += red[lid + s];
                                red[WG + lid] += red[WG + lid + s];
                        }
                        barrier();
                }
                float cq = inversesqrt(red[0] / float(hd) + p.eps), ck = inversesqrt(red[WG] / float(hd) + p.eps);
                F32Buf nw = F32Buf(p.norm);
                for (uint i = lid; i < hd; i += WG) {
                        hq[i] = hq[i] * cq * nw.v[i];
                        hk[i] = hk[i] * ck * nw.v[hd + i];
                }
        }
        barrier();
        uint n_rot = p.flags >> 16, half_rot = n_rot / 2u;
        bool neox = (p.flags & QKV_NEOX) != 0u;
        F32Buf cs = F32Buf(p.tok + uint64_t(p.rope_off) + uint64_t(t * n_rot) * 4ul);
        for (uint i = lid; i < half_rot; i += WG) {
                uint a = neox ? i : 2u * i, e = neox ? i + half_rot : 2u * i + 1u;
                float c = cs.v[i], s = cs.v[half_rot + i];
                float q0 = hq[a], q1 = hq[e], k0 = hk[a], k1 = hk[e];
                hq[a] = q0 * c - q1 * s;
                hq[e] = q0 * s + q1 * c;
                hk[a] = k0 * c - k1 * s;
                hk[e] = k0 * s + k1 * c;
        }
        barrier();
        for (uint i = lid; i < hd / 4u; i += WG)
                qs[i] = vec4(hq[4u * i], hq[4u * i + 1u], hq[4u * i + 2u], hq[4u * i + 3u]);
        if (h % (p.n_head / p.n_head_kv) == 0u && gl_WorkGroupID.z == 0u) {
                uint slot = uint(I32Buf(p.tok).v[t * 4u + ((p.flags & ATTN_SLOT_SWA) != 0u ? 3u : 2u)]);
                uint64_t kcache = p.kc + (uint64_t(slot) * (p.n_head_kv * hd) + kvh * hd) * KV_BYTES;
                uint64_t vcache = p.vc + (uint64_t(slot) * (p.n_head_kv * hdv) + kvh * hdv) * KV_BYTES;
                for (uint i = lid; i < hd / 2u; i += WG)
                        kv_store2(kcache, i, vec2(hk[2u * i], hk[2u * i + 1u]));
                for (uint i = lid; i < hdv / 2u; i += WG)
                        kv_store2(vcache, i, vec2(hv[2u * i], hv[2u * i + 1u]));
        }
        barrier();
}

void main()
{
        uint h = gl_WorkGroupID.x, t = gl_WorkGroupID.y, lid = gl_LocalInvocationID.x;
        uint sg = gl_SubgroupID, nsg = gl_NumSubgroups, lane = gl_SubgroupInvocationID;
        uint bp = nsg * PS; /* positions per block */
        uint kvh = h / (p.n_head / p.n_head_kv);
        uint kd = p.n_head_kv * p.head_dim, vd = p.n_head_kv * p.head_dim_v, n4 = p.head_dim / 4u;
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
                prep_qkv(t, h, kvh);
        } else {
                F32x4Buf q = F32x4Buf(p.q + uint64_t(t * p.ldq + h * p.head_dim) * 4ul);
                for (uint i = lid; i < n4; i += WG)
                        qs[i] = q.v[i];
                barrier();
        }

        float m = -1.0 / 0.0, l = 0.0;
        float o[MAX_OUT];
        [[unroll]] for (uint d = 0; d < MAX_OUT; d++)
                o[d] = 0.0;
        uint64_t kbase = p.kc + (uint64_t(seq) * p.ring * kd + kvh * p.head_dim) * KV_BYTES;
        uint64_t vbase = p.vc + (uint64_t(seq) * p.ring * vd + kvh * p.head_dim_v) * KV_BYTES;

        for (int p0 = start; p0 <= end; p0 += int(bp)) {
                /* Scores: subgroup sg takes positions p0 + sg * PS + j, all PS loads in flight. */
                float a[PS];
                [[unroll]] for (uint j = 0; j < PS; j++)
                        a[j] = 0.0;
                for (uint i = lane; i < n4; i += gl_SubgroupSize) {
                        vec4 qv = qs[i];
                        /* Positions past `end` are still inside the ring: loaded, then masked. */
                        [[unroll]] for (uint j = 0; j < PS; j++) {
                                int pp = p0 + int(sg * PS + j);
                                vec4 kv = kv_load4(kbase + uint64_t(uint(pp) % p.ring) * kd * KV_BYTES, i);
                                if (fused && pp == pos) /* the token's own k: not in the cache yet */
                                        kv = vec4(hk[4u * i], hk[4u * i + 1u], hk[4u * i + 2u], hk[4u * i + 3u]);
                                a[j] += dot(kv, qv);
                        }
                }
                [[unroll]] for (uint j = 0; j < PS; j++) {
                        float s = subgroupAdd(a[j]) * p.scale;
                        if (lane == 0u)
                                sc[sg * PS + j] = p0 + int(sg * PS + j) <= end ? s : -1.0 / 0.0;
                }
                barrier();
                uint nb = uint(min(int(bp), end - p0 + 1));
                float mb = m;
                for (uint j = 0; j < nb; j++)
                        mb = max(mb, sc[j]);
                float c = exp(m - mb); /* 0 on the first block (m = -inf) */
                float lb = 0.0;
                [[unroll]] for (uint d = 0; d < MAX_OUT; d++)
                        o[d] *= c;
                /* 8 positions' v loads in flight at a time (4 before), added as two groups of 4 in the
                 * order they were. */
                for (uint j = 0; j < nb; j += 8u) {
                        float w[8];
                        uint slot[8];
                        bool own[8];
                        [[unroll]] for (uint u = 0; u < 8u; u++) {
                                w[u] = j + u < nb ? exp(sc[j + u] - mb) : 0.0;
                                int pp = p0 + int(min(j + u, nb - 1u));
                                slot[u] = uint(pp) % p.ring;
                                own[u] = fused && pp == pos;
                                lb += w[u];
                        }
                        [[unroll]] for (uint d = 0; d < MAX_OUT; d++) {
                                uint dd = lid + d * WG;
                                if (dd < p.head_dim_v) {
                                        float v[8];
                                        [[unroll]] for (uint u = 0; u < 8u; u++) {
                                                v[u] = kv_load1(vbase + uint64_t(slot[u]) * vd * KV_BYTES, dd);
                                                if (own[u])
                                                        v[u] = hv[dd];
                                        }
                                        o[d] += (w[0] * v[0] + w[1] * v[1]) + (w[2] * v[2] + w[3] * v[3]);
                                        o[d] += (w[4] * v[4] + w[5] * v[5]) + (w[6] * v[6] + w[7] * v[7]);
                                }
                        }
                }
                l = l * c + lb;
                m = mb;
                barrier();
        }
        uint nz = gl_NumWorkGroups.z;
        if (nz == 1u) {
                [[unroll]] for (uint d = 0; d < MAX_OUT; d++) {
                        uint dd = lid + d * WG;
                        if (dd < p.head_dim_v)
                                store_out(t, h, dd, o[d] / l);
                }
                return;
        }

        uint st = p.head_dim_v + 2u;
        CU32 cnt = CU32(p.part);
        CF32 part = CF32(p.part + uint64_t(ATTN_CNT_BYTES(p.n_head)) + uint64_t((t * p.n_head + h) * nz * st) * 4ul);
        uint z = gl_WorkGroupID.z;
        [[unroll]] for (uint d = 0; d < MAX_OUT; d++) {
                uint dd = lid + d * WG;
                if (dd < p.head_dim_v)
                        part.v[z * st + dd] = o[d];
        }
        if (lid == 0u) {
                part.v[z * st + p.head_dim_v] = m;
                part.v[z * st + p.head_dim_v + 1u] = l;
        }
        /* Publish the partials before counting this workgroup in. */
        memoryBarrierBuffer();
        barrier();
        if (lid == 0u)
                is_last = atomicAdd(cnt.v[t * p.n_head + h], 1u) == nz - 1u ? 1u : 0u;
        barrier();
        if (is_last == 0u)
                return;
        memoryBarrierBuffer();
        if (lid == 0u)
                cnt.v[t * p.n_head + h] = 0u;
        merge(t, h, nz, part);
}
