/* SPDX-License-Identifier: MIT */
/*
 * 8-bit activations for the integer-dot mat-vec kernels (matvec.comp built
 * with Q8X). A row of k floats (k % 32 == 0) becomes, at a 16-byte aligned
 * address q: the k signed quants, then for each block b of 32 a vec2
 * (d, d * sum of its quants) at q + k + 8 b; rows q8_row_bytes(k) apart
 * (engine/vulkan/vk.h vk_q8_row_bytes). d = max|x| / 127, q = round(x / d)
 * half away from zero, as the CPU backend quantizes activations.
 */

layout(buffer_reference, std430, buffer_reference_align = 16) writeonly buffer U32x4W { uvec4 v[]; };
layout(buffer_reference, std430, buffer_reference_align = 8) buffer V2Buf { vec2 v[]; };
layout(buffer_reference, std430, buffer_reference_align = 4) writeonly buffer U32W { uint v[]; };

uint q8_pack(vec4 v, float id, inout int sum)
{
        ivec4 q = ivec4(sign(v) * floor(abs(v) * id + 0.5));
        sum += q.x + q.y + q.z + q.w;
        return uint(q.x & 0xff) | (uint(q.y & 0xff) << 8) | (uint(q.z & 0xff) << 16) | (uint(q.w & 0xff) << 24);
}

/* Block b's quants (lo: elements 0..15, hi: 16..31) and its (d, d * sum) from its 32 values v. */
void q8_quant(vec4 v[8], out uvec4 lo, out uvec4 hi, out vec2 ds)
{
        float amax = 0.0;
        [[unroll]] for (uint i = 0; i < 8u; i++) {
                vec4 a = abs(v[i]);
                amax = max(amax, max(max(a.x, a.y), max(a.z, a.w)));
        }
        float d = amax / 127.0, id = d > 0.0 ? 1.0 / d : 0.0;
        int sum = 0;
        lo.x = q8_pack(v[0], id, sum);
        lo.y = q8_pack(v[1], id, sum);
        lo.z = q8_pack(v[2], id, sum);
        lo.w = q8_pack(v[3], id, sum);
        hi.x = q8_pack(v[4], id, sum);
        hi.y = q8_pack(v[5], id, sum);
        hi.z = q8_pack(v[6], id, sum);
        hi.w = q8_pack(v[7], id, sum);
        ds = vec2(d, d * float(sum));
}

/* Block b (elements 32 b .. 32 b + 31) of the row at q (k elements). */
void q8_store(uint64_t q, uint k, uint b, vec4 v[8])
{
        uvec4 lo, hi;
        vec2 ds;
        q8_quant(v, lo, hi, ds);
        U32x4W o = U32x4W(q + uint64_t(b) * 32ul);
        o.v[0] = lo;
        o.v[1] = hi;
        V2Buf(q + uint64_t(k) + uint64_t(b) * 8ul).v[0] = ds;
}

#ifdef Q8_LANES /* the includer enabled the subgroup extensions */
/* The same by lanes: element i (of the row at q, k elements) is v, and the 32 elements of its block
 * are 32 consecutive invocations of one subgroup (gl_SubgroupSize >= 32, uniform control flow per
 * cluster). Quants and scales equal q8_store's: the max is exact and the arithmetic the same. */
void q8_lane(uint64_t q, uint k, uint i, float v)
{
        float amax = subgroupClusteredMax(abs(v), 32);
        float d = amax / 127.0, id = d > 0.0 ? 1.0 / d : 0.0;
        int qi = int(sign(v) * floor(abs(v) * id + 0.5));
        int sum = subgroupClusteredAdd(qi, 32);
        uint word = subgroupClusteredOr(uint(qi & 0xff) << ((i & 3u) * 8u), 4);
        if ((i & 3u) == 0u)
                U32W(q + uint64_t(i)).v[0] = word;
        if ((i & 31u) == 0u)
                V2Buf(q + uint64_t(k) + uint64_t(i / 32u) * 8ul).v[0] = vec2(d, d * float(sum));
}
#endif
