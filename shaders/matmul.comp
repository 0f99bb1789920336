/* SPDX-License-Identifier: MIT */
/*
 * Tiled matrix product for prefill (pc_mm, same contract as matvec.comp):
 * BM weight rows x BN tokens per workgroup of 256 threads, each thread a
 * 4x4 block of outputs; weight tiles are dequantized to float once into
 * shared memory and reused by all BN tokens.
 */
#version 450
#include "include/common.glsl"
#include "include/dequant.glsl"
#include "include/push.glsl"

layout(local_size_x = 256) in;
#define BM 64
#define BN 64
#define BK 16

layout(push_constant) uniform PC { pc_mm p; };

shared float ws[BK][BM + 4];
shared float xs[BK][BN + 4];

void main()
{
        uint lid = gl_LocalInvocationID.x;
        uint r0 = gl_WorkGroupID.x * BM, t0 = gl_WorkGroupID.y * BN;
        uint lr = lid / 4u, lq = lid % 4u;       /* loader: row/token of the tile, vec4 within BK */
        uint tr = lid / 16u, tc = lid % 16u;     /* compute: 4 rows x 4 tokens */
        uint wr = min(r0 + lr, p.n - 1u);
        uint b0;
        U32Buf w = weight_row(p.w, wr, p.row_bytes, b0);
        uint xt = t0 + lr;
        F32x4Buf x = F32x4Buf(p.x + uint64_t(min(xt, p.nt - 1u) * p.ldx) * 4ul);
        float acc[4][4];
        [[unroll]] for (uint i = 0; i < 4; i++)
                [[unroll]] for (uint j = 0; j < 4; j++)
                        acc[i][j] = 0.0;

        for (uint kb = 0; kb < p.k; kb += BK) {
                uint e = kb + lq * 4u;
                vec4 wv = e < p.k ? dequant4(w, b0, e) : vec4(0.0);
                vec4 xv = e < p.k && xt < p.nt ? x.v[e / 4u] : vec4(0.0);
                [[unroll]] for (uint j = 0; j < 4; j++) {
                        ws[lq * 4u + j][lr] = wv[j];
                        xs[lq * 4u + j][lr] = xv[j];
                }
                barrier();
                [[unroll]] for (uint kk = 0; kk < BK; kk++) {
                        vec4 a = vec4(ws[kk][tr * 4u], ws[kk][tr * 4u + 1u], ws[kk][tr * 4u + 2u], ws[kk][tr * 4u + 3u]);
                        vec4 b = vec4(xs[kk][tc * 4u], xs[kk][tc * 4u + 1u], xs[kk][tc * 4u + 2u], xs[kk][tc * 4u + 3u]);
                        [[unroll]] for (uint i = 0; i < 4; i++)
                                [[unroll]] for (uint j = 0; j < 4; j++)
                                        acc[i][j] += a[i] * b[j];
                }
                barrier();
        }
        F32Buf y = F32Buf(p.y);
        [[unroll]] for (uint i = 0; i < 4; i++) {
                uint r = r0 + tr * 4u + i;
                if (r >= p.n)
                        continue;
                float bias = (p.flags & MM_BIAS) != 0u ? F32Buf(p.bias).v[r] : 0.0;
                [[unroll]] for (uint j = 0; j < 4; j++) {
                        uint t = t0 + tc * 4u + j;
                        if (t >= p.nt)
                                continue;
                        uint yi = t * p.ldy + r;
                        float v = acc[i][j] + bias;
                        if ((p.flags & MM_ACC) != 0u)
                                v += y.v[yi];
                        y.v[yi] = v;
                }
        }
}
