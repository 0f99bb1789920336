/* SPDX-License-Identifier: MIT */
/*
 * The KV cache's rows: f16 where the shader's KV16 specialization constant
 * (declared before this file is included) is true, else f32. Addresses
 * are of a row (or of a head's part of one); indices count elements, or
 * groups of 4 (kv_load4) or 2 (kv_store2). The halves are read and written
 * as 32-bit words, so the f16 form needs no 16-bit storage feature; head
 * sizes are multiples of 4, so every group is one aligned word or pair.
 * f16 halves the cache's memory and the attention's reads (the host turns
 * it on for default activations; exact activations keep f32, as the CPU
 * backend has).
 */
layout(buffer_reference, std430, buffer_reference_align = 4) buffer KvWords { uint v[]; };

const uint KV_BYTES = KV16 ? 2u : 4u; /* bytes an element */

vec4 kv_load4(uint64_t row, uint i)
{
        if (KV16) {
                uvec2 u = U32x2Buf(row).v[i];
                return vec4(unpackHalf2x16(u.x), unpackHalf2x16(u.y));
        }
        return F32x4Buf(row).v[i];
}

float kv_load1(uint64_t row, uint i)
{
        if (KV16)
                return unpackHalf2x16(KvWords(row).v[i >> 1])[i & 1u];
        return F32Buf(row).v[i];
}

/* Elements 2i and 2i + 1. */
void kv_store2(uint64_t row, uint i, vec2 v)
{
        if (KV16) {
                KvWords(row).v[i] = packHalf2x16(v);
        } else {
                F32Buf(row).v[2u * i] = v.x;
                F32Buf(row).v[2u * i + 1u] = v.y;
        }
}
