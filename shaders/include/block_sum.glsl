/* SPDX-License-Identifier: MIT */
/*
 * Sum of v over the workgroup: subgroup sums, then one pass over the
 * subgroups' partials; two barriers, any subgroup size. The includer
 * declares `shared float red[]` with an entry per subgroup, free before and
 * after the call; uniform control flow.
 */

float block_sum(float v)
{
        float s = subgroupAdd(v);
        if (subgroupElect())
                red[gl_SubgroupID] = s;
        barrier();
        float r = 0.0;
        for (uint i = 0; i < gl_NumSubgroups; i++)
                r += red[i];
        barrier();
        return r;
}
