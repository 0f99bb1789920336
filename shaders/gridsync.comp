/* SPDX-License-Identifier: MIT */
/*
 * An experiment, for tools/vk-kernel-bench only (case gridsync): can one
 * dispatch whose workgroups wait for each other (a grid-wide barrier on an
 * atomic counter) replace two dispatches with a pipeline barrier between?
 * A decode layer is five dependent kernels; each boundary costs the
 * barrier (2.3 us on the H200 with no work) plus the first kernel's drain
 * and the second's ramp to full bandwidth. In one persistent dispatch a
 * workgroup can issue the second phase's weight loads, which depend on
 * nothing, before it waits (p.flags & 1), so the bus stays busy across the
 * boundary. Had this measured well, fusing a layer's mat-vecs would have
 * been worth building (on the H200 the wait cost as much as a boundary:
 * docs/vulkan-sessions.md, "Seventeenth session"). The wait needs every workgroup
 * resident at once, which Vulkan does not promise, hence the bounded spin
 * and the error flag.
 *
 * Phase A streams p.k 16-byte units at p.w, phase B p.n units at p.x;
 * each workgroup takes its share of both. p.y: [0] arrival counter (the
 * host zeroes it; dispatch number p.ldx of a command buffer waits for
 * (p.ldx + 1) * p.nt arrivals, p.nt = workgroups), [1] bit 1 set where a
 * spin gave up, bit 2 where a workgroup past the wait did not see what its
 * neighbour wrote before arriving, [2 .. 2 + p.nt) those writes (p.ldx + 1
 * each), [2 + p.nt ..] a sink that keeps the loads (p.flags & 4, never set).
 * p.flags & 2: no wait at all (the two phases' streaming alone).
 */
#version 450
#extension GL_KHR_memory_scope_semantics : require
#include "include/common.glsl"
#include "include/push.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;

layout(push_constant) uniform PC { pc_mm p; };
layout(buffer_reference, std430, buffer_reference_align = 4) coherent buffer SyncBuf { uint v[]; };

#define PER 8u
#define SPIN_MAX (1u << 22)

/* This workgroup's share of n units at b; skip_first: its first PER units a lane were read already. */
uvec4 stream(U32x4Buf b, uint n, bool skip_first)
{
        uint share = (n + gl_NumWorkGroups.x - 1u) / gl_NumWorkGroups.x;
        uint lo = gl_WorkGroupID.x * share, hi = min(lo + share, n);
        uvec4 acc = uvec4(0u);
        uint u0 = lo + gl_LocalInvocationID.x;
        if (skip_first)
                u0 += PER * WG;
        for (uint u = u0; u < hi; u += PER * WG) {
                uvec4 v[PER];
                [[unroll]] for (uint i = 0u; i < PER; i++)
                        v[i] = u + i * WG < hi ? b.v[u + i * WG] : uvec4(0u);
                [[unroll]] for (uint i = 0u; i < PER; i++)
                        acc ^= v[i];
        }
        return acc;
}

void main()
{
        SyncBuf s = SyncBuf(p.y);
        bool preload = (p.flags & 1u) != 0u;
        uvec4 acc = stream(U32x4Buf(p.w), p.k, false);

        if (preload) {
                uint share = (p.n + gl_NumWorkGroups.x - 1u) / gl_NumWorkGroups.x;
                uint lo = gl_WorkGroupID.x * share, hi = min(lo + share, p.n);
                uvec4 pre[PER];
                [[unroll]] for (uint i = 0u; i < PER; i++) {
                        uint u = lo + gl_LocalInvocationID.x + i * WG;
                        pre[i] = u < hi ? U32x4Buf(p.x).v[u] : uvec4(0u);
                }
                /* Used before the wait, so that the compiler cannot sink the loads past it (a fused
                 * kernel would hold them in registers across it; the loads are in flight either way). */
                [[unroll]] for (uint i = 0u; i < PER; i++)
                        acc ^= pre[i];
        }
        if ((p.flags & 2u) == 0u) {
                /* Phase A's results (in a fused layer, its outputs) are visible before arriving. */
                memoryBarrier(gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsAcquireRelease);
                barrier();
                if (gl_LocalInvocationID.x == 0u) {
                        uint target = (p.ldx + 1u) * p.nt, i = 0u;
                        s.v[2u + gl_WorkGroupID.x] = p.ldx + 1u;
                        /* Release: what this workgroup wrote is visible to whoever sees the count; acquire:
                         * what the others wrote before counting is visible here after the wait. Plain
                         * atomics with memoryBarrierBuffer() did not order the check's load on llvmpipe. */
                        atomicAdd(s.v[0], 1u, gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsRelease);
                        while (atomicLoad(s.v[0], gl_ScopeDevice, gl_StorageSemanticsBuffer,
                                          gl_SemanticsAcquire) < target && i < SPIN_MAX)
                                i++;
                        if (i == SPIN_MAX)
                                atomicOr(s.v[1], 1u);
                        else if (s.v[2u + (gl_WorkGroupID.x + 1u) % p.nt] != p.ldx + 1u)
                                atomicOr(s.v[1], 2u);
                }
                barrier();
                memoryBarrier(gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsAcquireRelease);
        }
        acc ^= stream(U32x4Buf(p.x), p.n, preload);
        if ((p.flags & 4u) != 0u)
                s.v[2u + p.nt + gl_GlobalInvocationID.x] = acc.x ^ acc.y ^ acc.z ^ acc.w;
}
