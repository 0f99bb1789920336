/* SPDX-License-Identifier: MIT */
/*
 * Reads n 16-byte units from w and discards them, so that the next kernel
 * finds them in the GPU's L2 cache (pc_mm: w, n; flags 0). Decode steps
 * dispatch it beside a kernel that leaves the memory bus idle (a norm of
 * one row, the attention of one token, an 8-bit conversion) with the first
 * bytes of the weights the following mat-vec streams: those steps then
 * cost no bus time, and the mat-vec starts on cached rows. Each invocation
 * has PER loads in flight so that a few hundred workgroups cover tens of
 * MiB at the bus's rate.
 */
#version 450
#include "include/common.glsl"
#include "include/push.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;

layout(push_constant) uniform PC { pc_mm p; };

#define PER 8u

void main()
{
        U32x4Buf w = U32x4Buf(p.w);
        uint base = gl_WorkGroupID.x * WG * PER + gl_LocalInvocationID.x;
        uvec4 acc = uvec4(0u);
        [[unroll]] for (uint i = 0u; i < PER; i++) {
                uint u = base + i * WG;
                if (u < p.n)
                        acc ^= w.v[u];
        }
        /* Never taken (the host passes flags 0); it keeps the loads from being optimized away. */
        if (p.flags != 0u)
                F32x4Buf(p.y).v[gl_GlobalInvocationID.x] = uintBitsToFloat(acc);
}
