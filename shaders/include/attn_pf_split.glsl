/* SPDX-License-Identifier: MIT */
/*
 * The prefill attention's split over positions (pc_attn.chunk > 0), shared by attn_cm.comp and
 * attn_cm2.comp: workgroup z of (query block, head) takes positions [lo + z * chunk, + chunk) only and
 * leaves its rows' unnormalised outputs, maxima and sums at part + part_off, one row of D + 4 floats a
 * (token, head, split) (push.glsl); the last workgroup of (query block, head) to count itself in (a
 * counter per pair at part, left zeroed) merges them.
 *
 * The includer defines D, and:
 *   PF_ROWS  query rows a workgroup (at most PF_NT)
 *   PF_NT    invocations a workgroup
 *   PF_W     a shared float array of at least PF_ROWS * (ATTN_PF_MAX_SPLIT + 1) elements, free when
 *            the merge runs (the weights)
 *   PF_FLAG  a shared float outside PF_W's part, free then too (the last workgroup's flag). Not a
 *            shared scalar of its own: run110.sh-run112.sh (a `shared uint` beside attn_cm.comp's
 *            coopMatLoad rows broke every case on the H100)
 *   PF_EXP   exp, or exp2 where the scores are in log2 units (attn_cm2.comp)
 * A maximum at or below -1e38 is a split that saw none of the row's positions: weight 0, whatever its
 * sum and outputs (-inf in attn_cm.comp, the finite mask value in attn_cm2.comp).
 */

/* Split-K's partials and counters are written by other workgroups of this dispatch. */
layout(buffer_reference, std430, buffer_reference_align = 16) coherent buffer CF32x4 { vec4 v[]; };
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer CF32 { float v[]; };
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer CU32 { uint v[]; };

/* Partial row (t, h, z) of head_dim_v + 4 floats: the output, then the max and the sum. */
uint64_t part_row(uint t, uint h, uint z)
{
        return p.part + uint64_t(p.part_off) + uint64_t(((t * p.n_head + h) * gl_NumWorkGroups.z + z) * (D + 4u)) * 4ul;
}

/* The merge of the last workgroup of (query block, head): each row's nz partials weighted against their
 * largest max (the weights over the sum into PF_W), then the output rows and their f16 copies, a vec4
 * an invocation at a time. */
void split_merge(uint h, uint tq0)
{
        uint lid = gl_LocalInvocationID.x, nz = gl_NumWorkGroups.z, rows = min(PF_ROWS, p.nt - tq0);
        const uint W = ATTN_PF_MAX_SPLIT + 1u;
        if (lid < rows) {
                float mz[ATTN_PF_MAX_SPLIT], mx = -1.0 / 0.0, sum = 0.0;
                for (uint z = 0; z < nz; z++) {
                        vec2 ml = CF32x4(part_row(tq0 + lid, h, z)).v[D / 4u].xy;
                        mz[z] = ml.x;
                        mx = max(mx, ml.x);
                        PF_W[lid * W + z] = ml.y; /* the sum, until the weights are known */
                }
                for (uint z = 0; z < nz; z++) {
                        float w = mz[z] <= -1.0e38 ? 0.0 : PF_EXP(mz[z] - mx);
                        sum += w * PF_W[lid * W + z];
                        PF_W[lid * W + z] = w;
                }
                float inv = sum > 0.0 ? 1.0 / sum : 0.0;
                for (uint z = 0; z < nz; z++)
                        PF_W[lid * W + z] *= inv;
        }
        barrier();
        for (uint i = lid; i < rows * (D / 4u); i += PF_NT) {
                uint r = i / (D / 4u), c = i % (D / 4u), t = tq0 + r;
                vec4 acc = vec4(0.0);
                for (uint z = 0; z < nz; z++)
                        acc += PF_W[r * W + z] * CF32x4(part_row(t, h, z)).v[c];
                uint64_t o = uint64_t(t * p.n_head * p.head_dim_v + h * p.head_dim_v + 4u * c);
                F32x4Buf(p.dst + o * 4ul).v[0] = acc;
                if (p.q8 != 0ul)
                        U32x2Buf(p.q8 + o * 2ul).v[0] = uvec2(packHalf2x16(acc.xy), packHalf2x16(acc.zw));
        }
}

/* After this workgroup wrote its partials: counts it in; the last workgroup of (query block, head)
 * merges. */
void split_count(uint h, uint tq0)
{
        uint lid = gl_LocalInvocationID.x;
        CU32 cnt = CU32(p.part);
        uint ci = (tq0 / PF_ROWS) * p.n_head + h;
        /* Publish the partials before counting this workgroup in. */
        memoryBarrierBuffer();
        barrier();
        if (lid == 0u)
                PF_FLAG = atomicAdd(cnt.v[ci], 1u) == gl_NumWorkGroups.z - 1u ? 1.0 : 0.0;
        barrier();
        if (PF_FLAG == 0.0)
                return;
        memoryBarrierBuffer();
        if (lid == 0u)
                cnt.v[ci] = 0u;
        split_merge(h, tq0);
}
