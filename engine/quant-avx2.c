/* SPDX-License-Identifier: MIT */
/*
 * AVX2 kernels: activation quantization and weight × activation products.
 *
 * The integer math inside a block is ggml's (u8 × s8 pair products with
 * maddubs, summed to i32), so results differ from the portable path only in
 * the order of the float accumulation. quant-avx512.c includes this file a
 * second time with QUANT_VNNI set, which turns the u8 × s8 4-way sums of
 * dot_u8s8 (tiles, Q8_0 decode) into one vpdpbusd on 256-bit vectors (EVEX
 * encoding, 32 registers); the panels and the other row kernels keep
 * maddubs, whose i16 sums take the K-quant scales in madd.
 *
 * Paths (matmul_dispatch at the end picks one):
 *  - decode (nt == 1): one weight row at a time, a row kernel per type, with
 *    the activation's per-block terms computed once per call and software
 *    prefetch ahead of the weight stream;
 *  - prefill, integer types: 8-row panels repacked once into plain u8
 *    levels, rows in the i32 lanes, reused for all tokens (matmul_panel);
 *  - prefill, float types: 16-row f32 panels (matmul_fpanel);
 *  - few tokens, and Q5_K decode: NR rows × NT tokens tiles, each weight
 *    block decoded once per tile (matmul_tiled).
 */

#include <immintrin.h>
#include <math.h>

#include "quant-internal.h"

#ifndef KNAME
#define KNAME(name) name##_avx2
#define QUANT_VNNI 0
#endif

#define _always_inline_ inline __attribute__((always_inline))

/* Rows and tokens of the prefill tile. With VNNI we have 32 vector registers
 * and a cheaper inner product, so the tile can be wider. */
#if QUANT_VNNI
#define TILE_R 4
#define TILE_T 4
#else
#define TILE_R 4
#define TILE_T 3
#endif

/* acc + Σ over groups of 4 bytes of u[i] * s[i] (u unsigned, s signed). */
static _always_inline_ __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s) {
#if QUANT_VNNI
        return _mm256_dpbusd_epi32(acc, u, s);
#else
        const __m256i p = _mm256_maddubs_epi16(u, s);

        return _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));
#endif
}

static _always_inline_ float hsum_ps(__m256 v) {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
}

static _always_inline_ float h2f(uint16_t h) {
        return _cvtsh_ss(h);
}

/* 32 bytes, 0xff where bit j of the 32-bit little-endian word at p is set. */
static _always_inline_ __m256i bytes_from_bits_32(const uint8_t *p) {
        uint32_t x32;
        __m256i bytes;

        memcpy(&x32, p, 4);
        bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int) x32),
                                    _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                                      0x0101010101010101, 0x0000000000000000));
        bytes = _mm256_or_si256(bytes, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
        return _mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1));
}

/* 16 bytes of nibbles → 32 bytes: low nibbles first, then high nibbles
 * (elements j and j+16 of a ggml 32-block). */
static _always_inline_ __m256i nibbles_32(const uint8_t *p) {
        const __m128i t = _mm_loadu_si128((const __m128i *) p);

        return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), _mm256_set1_epi8(0x0f));
}

/* ==== 32-element block types: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 ================ */

struct wblk {
        __m256i q;  /* unsigned levels (Q8_0: |q|) */
        __m256i s;  /* Q8_0 only: signed q, for the sign trick */
        __m256 d;   /* broadcast scale */
};

struct xblk {
        __m256i y;
        __m256i neg; /* i32 lanes summing to -offset * Σy (Q4_0: 8, Q5_0: 16) */
        __m256 d;
};

static _always_inline_ void decode_w32(enum ggml_type type, const uint8_t *row, size_t b, struct wblk *o) {
        switch (type) {
        case GGML_TYPE_Q4_0: {
                const block_q4_0 *x = (const block_q4_0 *) row + b;

                o->q = nibbles_32(x->qs);
                o->d = _mm256_set1_ps(h2f(x->d));
                break;
        }
        case GGML_TYPE_Q4_1: {
                const block_q4_1 *x = (const block_q4_1 *) row + b;

                o->q = nibbles_32(x->qs);
                o->d = _mm256_set1_ps(h2f(x->d));
                break;
        }
        case GGML_TYPE_Q5_0: {
                const block_q5_0 *x = (const block_q5_0 *) row + b;
                const __m256i hb = _mm256_and_si256(bytes_from_bits_32(x->qh), _mm256_set1_epi8(0x10));

                o->q = _mm256_or_si256(nibbles_32(x->qs), hb);
                o->d = _mm256_set1_ps(h2f(x->d));
                break;
        }
        case GGML_TYPE_Q5_1: {
                const block_q5_1 *x = (const block_q5_1 *) row + b;
                const __m256i hb = _mm256_and_si256(bytes_from_bits_32(x->qh), _mm256_set1_epi8(0x10));

                o->q = _mm256_or_si256(nibbles_32(x->qs), hb);
                o->d = _mm256_set1_ps(h2f(x->d));
                break;
        }
        case GGML_TYPE_Q8_0: {
                const block_q8_0 *x = (const block_q8_0 *) row + b;

                o->s = _mm256_loadu_si256((const __m256i *) x->qs);
                o->q = _mm256_abs_epi8(o->s);
                o->d = _mm256_set1_ps(h2f(x->d));
                break;
        }
        default:
                __builtin_unreachable();
        }
}

static _always_inline_ void decode_x32(enum ggml_type type, const uint8_t *row, size_t b, struct xblk *o) {
        switch (type) {
        case GGML_TYPE_Q4_0:
        case GGML_TYPE_Q5_0:
        case GGML_TYPE_Q8_0: {
                const block_q8_0 *y = (const block_q8_0 *) row + b;

                o->y = _mm256_loadu_si256((const __m256i *) y->qs);
                o->d = _mm256_set1_ps(h2f(y->d));
                if (type != GGML_TYPE_Q8_0) {
                        /* The weights' offset (8 or 16) folded into the
                         * integer sum: start each pair's accumulator at
                         * -offset·Σy, exactly as ggml's (q - offset)·y. */
                        const __m256i off = _mm256_set1_epi8(type == GGML_TYPE_Q4_0 ? 8 : 16);

                        o->neg = _mm256_sub_epi32(_mm256_setzero_si256(),
                                                  dot_u8s8(_mm256_setzero_si256(), off, o->y));
                }
                break;
        }
        case GGML_TYPE_Q4_1:
        case GGML_TYPE_Q5_1: {
                const block_q8_1 *y = (const block_q8_1 *) row + b;

                o->y = _mm256_loadu_si256((const __m256i *) y->qs);
                o->d = _mm256_set1_ps(h2f(y->d));
                break;
        }
        default:
                __builtin_unreachable();
        }
}

static _always_inline_ __m256i pair_int32(enum ggml_type type, const struct wblk *w, const struct xblk *x) {
        switch (type) {
        case GGML_TYPE_Q4_0:
        case GGML_TYPE_Q5_0:
                return dot_u8s8(x->neg, w->q, x->y);
        case GGML_TYPE_Q8_0:
                return dot_u8s8(_mm256_setzero_si256(), w->q, _mm256_sign_epi8(x->y, w->s));
        default:
                return dot_u8s8(_mm256_setzero_si256(), w->q, x->y);
        }
}

/* fp16 field at byte offset off of 8 consecutive blocks of stride bytes,
 * as 8 floats (one lane per block). */
static _always_inline_ __m256 gather_h8(const uint8_t *p, size_t stride, size_t off) {
        uint16_t h[8];

        for (int i = 0; i < 8; i++)
                memcpy(&h[i], p + i * stride + off, 2);
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) h));
}

static _always_inline_ void tile_q32(enum ggml_type type, const int nr, const int nt, size_t nb,
                                     const uint8_t *const *w, const uint8_t *const *x, float *y, size_t ldy) {
        __m256 acc[TILE_R][TILE_T];
        const bool has_min = type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1;
        const size_t wstride = type == GGML_TYPE_Q4_1 ? sizeof(block_q4_1) : sizeof(block_q5_1);
        size_t b = 0;

        for (int r = 0; r < nr; r++)
                for (int t = 0; t < nt; t++)
                        acc[r][t] = _mm256_setzero_ps();
        while (b < nb) {
                /* Q4_1/Q5_1: the min term m_w·s_x of 8 blocks at once, one
                 * block per lane, instead of a scalar fma per block and pair. */
                const size_t end = has_min && nb - b >= 8 ? b + 8 : nb;

                if (has_min && end == b + 8) {
                        __m256 mv[TILE_R], sv[TILE_T];

                        for (int r = 0; r < nr; r++)
                                mv[r] = gather_h8(w[r] + b * wstride, wstride, 2);
                        for (int t = 0; t < nt; t++)
                                sv[t] = gather_h8(x[t] + b * sizeof(block_q8_1), sizeof(block_q8_1), 2);
                        for (int r = 0; r < nr; r++)
                                for (int t = 0; t < nt; t++)
                                        acc[r][t] = _mm256_fmadd_ps(mv[r], sv[t], acc[r][t]);
                }
                for (; b < end; b++) {
                        struct wblk wb[TILE_R];
                        struct xblk xb[TILE_T];

                        for (int r = 0; r < nr; r++)
                                decode_w32(type, w[r], b, &wb[r]);
                        for (int t = 0; t < nt; t++)
                                decode_x32(type, x[t], b, &xb[t]);
                        for (int r = 0; r < nr; r++)
                                for (int t = 0; t < nt; t++) {
                                        const __m256i p = pair_int32(type, &wb[r], &xb[t]);

                                        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p),
                                                                    _mm256_mul_ps(wb[r].d, xb[t].d), acc[r][t]);
                                }
                }
        }
        /* Blocks past the last full group of 8: their min terms one by one. */
        if (has_min)
                for (size_t bb = nb & ~(size_t) 7; bb < nb; bb++)
                        for (int r = 0; r < nr; r++)
                                for (int t = 0; t < nt; t++) {
                                        uint16_t mh, sh;
                                        __m256 one;

                                        memcpy(&mh, w[r] + bb * wstride + 2, 2);
                                        memcpy(&sh, x[t] + bb * sizeof(block_q8_1) + 2, 2);
                                        /* Into lane 0 only, so the horizontal sum counts it once. */
                                        one = _mm256_setr_ps(h2f(mh) * h2f(sh), 0, 0, 0, 0, 0, 0, 0);
                                        acc[r][t] = _mm256_add_ps(acc[r][t], one);
                                }
        for (int r = 0; r < nr; r++)
                for (int t = 0; t < nt; t++)
                        y[t * ldy + r] = hsum_ps(acc[r][t]);
}

/* ==== K-quants: Q4_K, Q5_K, Q6_K against Q8_K ============================= */

/* A decoded 256-element weight block, kept in an L1-resident stack buffer
 * and reused for every token of the tile. */
struct wblk_k {
        __m256i q[8];     /* unsigned levels, element order */
        __m256i sc[8];    /* i16 multipliers for the maddubs pairs of q[j] */
        __m256i mins;     /* Q4_K/Q5_K: i16 mins, one per 16 elements (aligned with bsums); Q6_K: i16 scales */
        __m256 d, negdmin;
};

static _always_inline_ void decode_wk(enum ggml_type type, const uint8_t *row, size_t b, struct wblk_k *o) {
        if (type == GGML_TYPE_Q4_K || type == GGML_TYPE_Q5_K) {
                const uint8_t *scales, *qs, *qh = NULL;
                uint16_t d, dmin;
                int16_t mins[16];

                if (type == GGML_TYPE_Q4_K) {
                        const block_q4_K *x = (const block_q4_K *) row + b;

                        scales = x->scales;
                        qs = x->qs;
                        d = x->d;
                        dmin = x->dmin;
                } else {
                        const block_q5_K *x = (const block_q5_K *) row + b;

                        scales = x->scales;
                        qs = x->qs;
                        qh = x->qh;
                        d = x->d;
                        dmin = x->dmin;
                }
                for (int j = 0; j < 8; j++) {
                        uint8_t sc, m;

                        quant_scale_min_k4(j, scales, &sc, &m);
                        o->sc[j] = _mm256_set1_epi16(sc);
                        mins[2 * j] = mins[2 * j + 1] = m;
                }
                o->mins = _mm256_loadu_si256((const __m256i *) mins);
                for (int j = 0; j < 4; j++) {
                        const __m256i raw = _mm256_loadu_si256((const __m256i *) (qs + 32 * j));

                        o->q[2 * j] = _mm256_and_si256(raw, _mm256_set1_epi8(0x0f));
                        o->q[2 * j + 1] = _mm256_and_si256(_mm256_srli_epi16(raw, 4), _mm256_set1_epi8(0x0f));
                }
                if (qh) {
                        /* Bit j of qh[l] is bit 4 of element 32j + l. */
                        const __m256i hb = _mm256_loadu_si256((const __m256i *) qh);

                        for (int j = 0; j < 8; j++) {
                                __m256i bit = _mm256_and_si256(_mm256_srli_epi16(hb, j), _mm256_set1_epi8(1));

                                o->q[j] = _mm256_or_si256(o->q[j], _mm256_slli_epi16(bit, 4));
                        }
                }
                o->d = _mm256_set1_ps(h2f(d));
                o->negdmin = _mm256_set1_ps(-h2f(dmin));
        } else {
                const block_q6_K *x = (const block_q6_K *) row + b;
                const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(3);

                for (int h = 0; h < 2; h++) {
                        const uint8_t *ql = x->ql + 64 * h, *qhp = x->qh + 32 * h;
                        const __m256i l0 = _mm256_loadu_si256((const __m256i *) ql);
                        const __m256i l1 = _mm256_loadu_si256((const __m256i *) (ql + 32));
                        const __m256i hh = _mm256_loadu_si256((const __m256i *) qhp);

                        o->q[4 * h + 0] = _mm256_or_si256(_mm256_and_si256(l0, m4),
                                                          _mm256_slli_epi16(_mm256_and_si256(hh, m3), 4));
                        o->q[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hh, 2), m3), 4));
                        o->q[4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hh, 4), m3), 4));
                        o->q[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hh, 6), m3), 4));
                }
                /* 16-element sub-blocks: q[j] spans scales 2j (low 128 bits)
                 * and 2j+1 (high 128 bits). */
                for (int j = 0; j < 8; j++)
                        o->sc[j] = _mm256_set_m128i(_mm_set1_epi16(x->scales[2 * j + 1]),
                                                    _mm_set1_epi16(x->scales[2 * j]));
                o->mins = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *) x->scales));
                o->d = _mm256_set1_ps(h2f(x->d));
        }
}

static _always_inline_ void tile_k(enum ggml_type type, const int nr, const int nt, size_t nb,
                                   const uint8_t *const *w, const uint8_t *const *x, float *y, size_t ldy) {
        __m256 acc[TILE_R][TILE_T];

        for (int r = 0; r < nr; r++)
                for (int t = 0; t < nt; t++)
                        acc[r][t] = _mm256_setzero_ps();
        for (size_t b = 0; b < nb; b++) {
                struct wblk_k wb[TILE_R];

                for (int r = 0; r < nr; r++)
                        decode_wk(type, w[r], b, &wb[r]);
                for (int t = 0; t < nt; t++) {
                        const block_q8_K *yb = (const block_q8_K *) x[t] + b;
                        const __m256 yd = _mm256_set1_ps(yb->d);
                        const __m256i bsums = _mm256_loadu_si256((const __m256i *) yb->bsums);
                        __m256i yq[8];

                        for (int j = 0; j < 8; j++)
                                yq[j] = _mm256_loadu_si256((const __m256i *) (yb->qs + 32 * j));
                        for (int r = 0; r < nr; r++) {
                                __m256i sumi = _mm256_setzero_si256();

                                for (int j = 0; j < 8; j++)
                                        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(wb[r].q[j], yq[j]),
                                                                                        wb[r].sc[j]));
                                if (type == GGML_TYPE_Q6_K) {
                                        /* Levels are q - 32: Σ sc_i (Σ q y - 32 Σ y), with Σ y per
                                         * 16 elements from bsums. */
                                        const __m256i corr = _mm256_madd_epi16(wb[r].mins, bsums);

                                        sumi = _mm256_sub_epi32(sumi, _mm256_slli_epi32(corr, 5));
                                        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi),
                                                                    _mm256_mul_ps(wb[r].d, yd), acc[r][t]);
                                } else {
                                        const __m256i mp = _mm256_madd_epi16(wb[r].mins, bsums);

                                        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi),
                                                                    _mm256_mul_ps(wb[r].d, yd), acc[r][t]);
                                        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mp),
                                                                    _mm256_mul_ps(wb[r].negdmin, yd), acc[r][t]);
                                }
                        }
                }
        }
        for (int r = 0; r < nr; r++)
                for (int t = 0; t < nt; t++)
                        y[t * ldy + r] = hsum_ps(acc[r][t]);
}

/* ==== float weights against float activations ============================= */

static _always_inline_ __m256 load_w8(enum ggml_type type, const uint8_t *row, size_t i) {
        switch (type) {
        case GGML_TYPE_F32:
                return _mm256_loadu_ps((const float *) row + i);
        case GGML_TYPE_F16:
                return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) ((const uint16_t *) row + i)));
        default: /* BF16: the bits are the top half of a binary32 */
                return _mm256_castsi256_ps(_mm256_slli_epi32(
                        _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *) ((const uint16_t *) row + i))), 16));
        }
}

static _always_inline_ float load_w1(enum ggml_type type, const uint8_t *row, size_t i) {
        switch (type) {
        case GGML_TYPE_F32:
                return ((const float *) row)[i];
        case GGML_TYPE_F16:
                return h2f(((const uint16_t *) row)[i]);
        default:
                return quant_bf16_to_fp32(((const uint16_t *) row)[i]);
        }
}

static _always_inline_ void tile_f(enum ggml_type type, const int nr, const int nt, size_t k,
                                   const uint8_t *const *w, const uint8_t *const *x, float *y, size_t ldy) {
        __m256 acc[TILE_R][TILE_T];
        size_t i;

        for (int r = 0; r < nr; r++)
                for (int t = 0; t < nt; t++)
                        acc[r][t] = _mm256_setzero_ps();
        for (i = 0; i + 8 <= k; i += 8) {
                __m256 wv[TILE_R];

                for (int r = 0; r < nr; r++)
                        wv[r] = load_w8(type, w[r], i);
                for (int t = 0; t < nt; t++) {
                        const __m256 xv = _mm256_loadu_ps((const float *) x[t] + i);

                        for (int r = 0; r < nr; r++)
                                acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
                }
        }
        for (int r = 0; r < nr; r++)
                for (int t = 0; t < nt; t++) {
                        float s = hsum_ps(acc[r][t]);

                        for (size_t j = i; j < k; j++)
                                s += load_w1(type, w[r], j) * ((const float *) x[t])[j];
                        y[t * ldy + r] = s;
                }
}

/* ==== tiling driver ======================================================= */

enum tile_kind { TILE_Q32, TILE_K, TILE_F };

static _always_inline_ void tile(enum tile_kind kind, enum ggml_type type, const int nr, const int nt, size_t k,
                                 const uint8_t *const *w, const uint8_t *const *x, float *y, size_t ldy) {
        switch (kind) {
        case TILE_Q32:
                tile_q32(type, nr, nt, k / 32, w, x, y, ldy);
                break;
        case TILE_K:
                tile_k(type, nr, nt, k / QK_K, w, x, y, ldy);
                break;
        case TILE_F:
                tile_f(type, nr, nt, k, w, x, y, ldy);
                break;
        }
}

/* Rows in groups of TILE_R (the rest one at a time), tokens in groups of
 * TILE_T (the rest one at a time). For nt == 1 this is the decode path:
 * TILE_R rows streamed together against one activation row. */
static _always_inline_ void matmul_tiled(enum tile_kind kind, enum ggml_type type, size_t k, const void *w,
                                         size_t w_row_bytes, size_t r0, size_t r1, const void *x, size_t x_row_bytes,
                                         size_t nt, float *y, size_t ldy) {
        const uint8_t *wb = w, *xb = x;
        size_t r = r0;

        /* Decode (one token) is a pure stream over the weights: one row at a
         * time reads memory strictly in order, which the hardware prefetcher
         * follows best; interleaving TILE_R rows halved the bandwidth on AMD
         * Zen (measured: 11.7 vs 5.6 GB/s for Q8_0 on one core). */
        if (nt == 1) {
                for (; r < r1; r++) {
                        const uint8_t *wr[1] = { wb + r * w_row_bytes }, *xr[1] = { xb };

                        tile(kind, type, 1, 1, k, wr, xr, y + r, ldy);
                }
                return;
        }

        for (; r + TILE_R <= r1; r += TILE_R) {
                const uint8_t *wr[TILE_R];
                size_t t = 0;

                for (int i = 0; i < TILE_R; i++)
                        wr[i] = wb + (r + i) * w_row_bytes;
                for (; t + TILE_T <= nt; t += TILE_T) {
                        const uint8_t *xr[TILE_T];

                        for (int i = 0; i < TILE_T; i++)
                                xr[i] = xb + (t + i) * x_row_bytes;
                        tile(kind, type, TILE_R, TILE_T, k, wr, xr, y + t * ldy + r, ldy);
                }
                for (; t < nt; t++) {
                        const uint8_t *xr[1] = { xb + t * x_row_bytes };

                        tile(kind, type, TILE_R, 1, k, wr, xr, y + t * ldy + r, ldy);
                }
        }
        for (; r < r1; r++) {
                const uint8_t *wr[1] = { wb + r * w_row_bytes };
                size_t t = 0;

                for (; t + TILE_T <= nt; t += TILE_T) {
                        const uint8_t *xr[TILE_T];

                        for (int i = 0; i < TILE_T; i++)
                                xr[i] = xb + (t + i) * x_row_bytes;
                        tile(kind, type, 1, TILE_T, k, wr, xr, y + t * ldy + r, ldy);
                }
                for (; t < nt; t++) {
                        const uint8_t *xr[1] = { xb + t * x_row_bytes };

                        tile(kind, type, 1, 1, k, wr, xr, y + t * ldy + r, ldy);
                }
        }
}

static _always_inline_ int hsum_i8_32(__m256i q) {
        /* Σ of signed bytes: maddubs against 1s, then madd against 1s. */
        __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q), _mm256_set1_epi16(1));
        __m128i v = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));

        v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0x4e));
        v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0xb1));
        return _mm_cvtsi128_si32(v);
}

/* ==== prefill: 8-row repacked panels ======================================
 *
 * For many tokens, decoding each weight block once per 3 tokens (the tiles
 * above) costs as much as the products. Here a panel of 8 weight rows is
 * decoded once into plain u8 levels, transposed so that one i32 lane holds
 * one row (chunk j of a 32-group = elements 4j..4j+3 of the 8 rows), with
 * per-row scales as vectors, and then reused for every token: the product of
 * chunk j with the broadcast 4 activation bytes 4j..4j+3 accumulates all 8
 * rows at once, and the 8 results of a token are 8 consecutive floats of y.
 *
 * The integer math is ggml's: Σ level·y per group in i16 (bounded, see
 * PANEL_H) then i32; Q4_0/Q5_0 start the i32 sum at -offset·Σy; K-quants sum
 * sub-block scale × group dot over the 256-block in i32 (mins / Q6_K's -32
 * through the bsums), then one float scale per block as ggml does.
 */

#define PANEL_R 8    /* rows per panel, one per i32 lane */
#define PANEL_T 3    /* tokens per micro-tile */
#define PANEL_KC 64  /* 32-groups per k chunk (multiple of 8) */
#define PANEL_TC 64  /* tokens per chunk */

struct panel {
        uint8_t q[PANEL_KC][256]; /* levels (Q8_0: |w|) */
        uint8_t s[PANEL_KC][256]; /* Q8_0: signed weights, for the sign trick */
        float d[PANEL_KC][8];     /* per-row scale: per group (32-types), per block (K) */
        float m[PANEL_KC][8];     /* Q4_1/Q5_1: per-group min; Q4_K/Q5_K: -dmin */
        int16_t sc[PANEL_KC][2][16]; /* K: i16 scale per row, twice (Q6_K: per 16-half) */
        int16_t mn[PANEL_KC][16];    /* K: i16 multipliers of bsums 2g, 2g+1 per row */
};

static _always_inline_ bool is_kq(enum ggml_type type) {
        return type == GGML_TYPE_Q4_K || type == GGML_TYPE_Q5_K || type == GGML_TYPE_Q6_K;
}

/* Chunks whose i16 pair sums are added before widening to i32: at most 8,
 * 4, 2, 1 for |level| ≤ 15, 31, 63, 128 against |y| ≤ 127 (two products per
 * i16); 4 for Q4 too, which measured 10-20% faster than 8. */
static _always_inline_ int panel_h(enum ggml_type type) {
        switch (type) {
        case GGML_TYPE_Q4_0:
        case GGML_TYPE_Q4_1:
        case GGML_TYPE_Q4_K:
        case GGML_TYPE_Q5_0:
        case GGML_TYPE_Q5_1:
        case GGML_TYPE_Q5_K:
                return 4;
        case GGML_TYPE_Q6_K:
                return 2;
        default:
                return 1;
        }
}

/* v[r] = 8 dwords of row r → v[j] = dword j of the 8 rows. */
static _always_inline_ void transpose8x8(__m256i *v) {
        __m256i t[8], u[8];

        for (int i = 0; i < 4; i++) {
                t[2 * i] = _mm256_unpacklo_epi32(v[2 * i], v[2 * i + 1]);
                t[2 * i + 1] = _mm256_unpackhi_epi32(v[2 * i], v[2 * i + 1]);
        }
        for (int i = 0; i < 2; i++) {
                u[4 * i + 0] = _mm256_unpacklo_epi64(t[4 * i + 0], t[4 * i + 2]);
                u[4 * i + 1] = _mm256_unpackhi_epi64(t[4 * i + 0], t[4 * i + 2]);
                u[4 * i + 2] = _mm256_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
                u[4 * i + 3] = _mm256_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
        }
        for (int j = 0; j < 4; j++) {
                v[j] = _mm256_permute2x128_si256(u[j], u[4 + j], 0x20);
                v[j + 4] = _mm256_permute2x128_si256(u[j], u[4 + j], 0x31);
        }
}

static _always_inline_ void store_t8(uint8_t *dst, __m256i *v) {
        transpose8x8(v);
        for (int j = 0; j < 8; j++)
                _mm256_store_si256((__m256i *) (dst + 32 * j), v[j]);
}

/* Rows wr[0..nr) (pointing at the chunk's first block), groups [0, ng). */
static _always_inline_ void panel_pack(enum ggml_type type, const uint8_t *const *wr, int nr, size_t ng,
                                       struct panel *P) {
        if (!is_kq(type)) {
                for (size_t g = 0; g < ng; g++) {
                        __m256i lv[8], sg[8];

                        for (int r = 0; r < 8; r++) {
                                struct wblk wb;

                                if (r >= nr) {
                                        lv[r] = sg[r] = _mm256_setzero_si256();
                                        P->d[g][r] = 0;
                                        P->m[g][r] = 0;
                                        continue;
                                }
                                decode_w32(type, wr[r], g, &wb);
                                lv[r] = wb.q;
                                if (type == GGML_TYPE_Q8_0)
                                        sg[r] = wb.s;
                                P->d[g][r] = _mm256_cvtss_f32(wb.d);
                                if (type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1) {
                                        uint16_t mh;

                                        memcpy(&mh, wr[r] + g * (type == GGML_TYPE_Q4_1 ? sizeof(block_q4_1)
                                                                                        : sizeof(block_q5_1)) + 2, 2);
                                        P->m[g][r] = h2f(mh);
                                }
                        }
                        store_t8(P->q[g], lv);
                        if (type == GGML_TYPE_Q8_0)
                                store_t8(P->s[g], sg);
                }
                return;
        }
        for (size_t b = 0; b < ng / 8; b++) {
                __m256i lv[8][8];

                for (int r = 0; r < 8; r++) {
                        struct wblk_k wb;

                        if (r >= nr) {
                                for (int j = 0; j < 8; j++) {
                                        lv[j][r] = _mm256_setzero_si256();
                                        P->d[8 * b + j][r] = P->m[8 * b + j][r] = 0;
                                        P->sc[8 * b + j][0][2 * r] = P->sc[8 * b + j][0][2 * r + 1] = 0;
                                        P->sc[8 * b + j][1][2 * r] = P->sc[8 * b + j][1][2 * r + 1] = 0;
                                        P->mn[8 * b + j][2 * r] = P->mn[8 * b + j][2 * r + 1] = 0;
                                }
                                continue;
                        }
                        decode_wk(type, wr[r], b, &wb);
                        for (int j = 0; j < 8; j++)
                                lv[j][r] = wb.q[j];
                        if (type == GGML_TYPE_Q6_K) {
                                const block_q6_K *x = (const block_q6_K *) wr[r] + b;
                                const float d = h2f(x->d);

                                for (int j = 0; j < 8; j++) {
                                        const int16_t s0 = x->scales[2 * j], s1 = x->scales[2 * j + 1];

                                        P->d[8 * b + j][r] = d;
                                        P->sc[8 * b + j][0][2 * r] = P->sc[8 * b + j][0][2 * r + 1] = s0;
                                        P->sc[8 * b + j][1][2 * r] = P->sc[8 * b + j][1][2 * r + 1] = s1;
                                        P->mn[8 * b + j][2 * r] = (int16_t) (32 * s0);
                                        P->mn[8 * b + j][2 * r + 1] = (int16_t) (32 * s1);
                                }
                        } else {
                                const uint8_t *scales;
                                uint16_t dh, mh;

                                if (type == GGML_TYPE_Q4_K) {
                                        const block_q4_K *x = (const block_q4_K *) wr[r] + b;

                                        scales = x->scales;
                                        dh = x->d;
                                        mh = x->dmin;
                                } else {
                                        const block_q5_K *x = (const block_q5_K *) wr[r] + b;

                                        scales = x->scales;
                                        dh = x->d;
                                        mh = x->dmin;
                                }
                                for (int j = 0; j < 8; j++) {
                                        uint8_t sc, m;

                                        quant_scale_min_k4(j, scales, &sc, &m);
                                        P->d[8 * b + j][r] = h2f(dh);
                                        P->m[8 * b + j][r] = -h2f(mh);
                                        P->sc[8 * b + j][0][2 * r] = P->sc[8 * b + j][0][2 * r + 1] = sc;
                                        P->mn[8 * b + j][2 * r] = P->mn[8 * b + j][2 * r + 1] = m;
                                }
                        }
                }
                for (int j = 0; j < 8; j++)
                        store_t8(P->q[8 * b + j], lv[j]);
        }
}

static _always_inline_ __m256i bcast4(const uint8_t *p) {
        int32_t v;

        memcpy(&v, p, 4);
        return _mm256_set1_epi32(v);
}

/* Σ over the 8 chunks of group g of one token: i32 per row lane. The i16
 * sums restart every panel_h chunks; scv(j) is the i16 multiplier there. */
#define PANEL_GROUP(type, nt, qg, sgp, yq, is32, SCV, first)                                           \
        do {                                                                                           \
                const int H_ = panel_h(type);                                                          \
                __m256i is16_[PANEL_T] = { 0 };                                                        \
                for (int j = 0; j < 8; j++) {                                                          \
                        const __m256i w_ = _mm256_load_si256((const __m256i *) ((qg) + 32 * j));       \
                        __m256i s_ = _mm256_setzero_si256();                                           \
                        if (type == GGML_TYPE_Q8_0)                                                    \
                                s_ = _mm256_load_si256((const __m256i *) ((sgp) + 32 * j));            \
                        for (int t = 0; t < (nt); t++) {                                               \
                                __m256i yb_ = bcast4((yq)[t] + 4 * j), p_;                             \
                                if (type == GGML_TYPE_Q8_0)                                            \
                                        yb_ = _mm256_sign_epi8(yb_, s_);                               \
                                p_ = _mm256_maddubs_epi16(w_, yb_);                                    \
                                is16_[t] = j % H_ == 0 ? p_ : _mm256_add_epi16(is16_[t], p_);          \
                                if (j % H_ == H_ - 1) {                                                \
                                        const __m256i m_ = _mm256_madd_epi16(is16_[t], SCV(j));        \
                                        (is32)[t] = (first) && j == H_ - 1 ? m_ : _mm256_add_epi32((is32)[t], m_); \
                                }                                                                      \
                        }                                                                              \
                }                                                                                      \
        } while (0)

/* One micro-tile: the panel's 8 rows × nt tokens over ng groups. xq[t]:
 * token t's activation row at the chunk's first block. dy/aux: per token
 * (stride PANEL_KC) per group, 32-types only. */
static _always_inline_ void panel_tile(enum ggml_type type, const int nt, size_t ng, const struct panel *P,
                                       const uint8_t *const *xq, const float *dy, const int32_t *aux, float *y,
                                       size_t ldy, int nr, bool add) {
        __m256 acc[PANEL_T];
        __m256i is32[PANEL_T] = { 0 };

        for (int t = 0; t < nt; t++)
                acc[t] = _mm256_setzero_ps();
        if (!is_kq(type)) {
                const size_t xbs = type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1 ? sizeof(block_q8_1)
                                                                                     : sizeof(block_q8_0);
                const size_t xoff = xbs - 32;
                const bool neg = type == GGML_TYPE_Q4_0 || type == GGML_TYPE_Q5_0;
                const bool has_min = type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1;

                for (size_t g = 0; g < ng; g++) {
                        const uint8_t *yq[PANEL_T];
                        __m256 dv;

                        for (int t = 0; t < nt; t++)
                                yq[t] = xq[t] + g * xbs + xoff;
                        if (neg)
                                for (int t = 0; t < nt; t++)
                                        is32[t] = _mm256_set1_epi32(aux[t * PANEL_KC + g]);
#define SCV_ONES(j) _mm256_set1_epi16(1)
                        PANEL_GROUP(type, nt, P->q[g], P->s[g], yq, is32, SCV_ONES, !neg);
#undef SCV_ONES
                        dv = _mm256_load_ps(P->d[g]);
                        for (int t = 0; t < nt; t++) {
                                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is32[t]),
                                                         _mm256_mul_ps(dv, _mm256_set1_ps(dy[t * PANEL_KC + g])), acc[t]);
                                if (has_min) {
                                        float s;

                                        memcpy(&s, &aux[t * PANEL_KC + g], 4);
                                        acc[t] = _mm256_fmadd_ps(_mm256_load_ps(P->m[g]), _mm256_set1_ps(s), acc[t]);
                                }
                        }
                }
        } else {
                for (size_t b = 0; b < ng / 8; b++) {
                        const block_q8_K *xb[PANEL_T];

                        for (int t = 0; t < nt; t++)
                                xb[t] = (const block_q8_K *) xq[t] + b;
                        for (int gg = 0; gg < 8; gg++) {
                                const size_t g = 8 * b + gg;
                                const uint8_t *yq[PANEL_T];

                                for (int t = 0; t < nt; t++)
                                        yq[t] = (const uint8_t *) xb[t]->qs + 32 * gg;
#define SCV_K(j) _mm256_load_si256((const __m256i *) P->sc[g][type == GGML_TYPE_Q6_K ? (j) / 4 : 0])
                                PANEL_GROUP(type, nt, P->q[g], P->s[g], yq, is32, SCV_K, gg == 0);
#undef SCV_K
                        }
                        for (int t = 0; t < nt; t++) {
                                const __m256 yd = _mm256_set1_ps(xb[t]->d);
                                __m256i im = _mm256_setzero_si256();

                                for (int gg = 0; gg < 8; gg++)
                                        im = _mm256_add_epi32(im, _mm256_madd_epi16(
                                                _mm256_load_si256((const __m256i *) P->mn[8 * b + gg]),
                                                bcast4((const uint8_t *) (xb[t]->bsums + 2 * gg))));
                                if (type == GGML_TYPE_Q6_K) {
                                        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(is32[t], im)),
                                                                 _mm256_mul_ps(_mm256_load_ps(P->d[8 * b]), yd), acc[t]);
                                } else {
                                        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is32[t]),
                                                                 _mm256_mul_ps(_mm256_load_ps(P->d[8 * b]), yd), acc[t]);
                                        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(im),
                                                                 _mm256_mul_ps(_mm256_load_ps(P->m[8 * b]), yd), acc[t]);
                                }
                        }
                }
        }
#pragma GCC unroll 8
        for (int t = 0; t < nt; t++) {
                float *yt = y + t * ldy;

                if (nr == 8) {
                        _mm256_storeu_ps(yt, add ? _mm256_add_ps(_mm256_loadu_ps(yt), acc[t]) : acc[t]);
                } else {
                        float tmp[8];

                        _mm256_storeu_ps(tmp, acc[t]);
#pragma GCC unroll 1
                        for (int r = 0; r < nr; r++)
                                yt[r] = add ? yt[r] + tmp[r] : tmp[r];
                }
        }
}

static _always_inline_ void matmul_panel(enum ggml_type type, size_t k, const void *w, size_t w_row_bytes, size_t r0,
                                         size_t r1, const void *x, size_t x_row_bytes, size_t nt, float *y,
                                         size_t ldy) {
        const bool kq = is_kq(type);
        const size_t gpb = kq ? 8 : 1, ng_all = k / 32;
        const size_t xbs = kq ? sizeof(block_q8_K)
                              : type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1 ? sizeof(block_q8_1)
                                                                                  : sizeof(block_q8_0);
        const size_t wbs = quant_type_info(type)->type_size;
        struct panel P __attribute__((aligned(32)));
        float dy[PANEL_TC * PANEL_KC] __attribute__((aligned(32)));
        int32_t aux[PANEL_TC * PANEL_KC] __attribute__((aligned(32)));

        for (size_t kc = 0; kc < ng_all; kc += PANEL_KC) {
                const size_t ng = ng_all - kc < PANEL_KC ? ng_all - kc : PANEL_KC;

                for (size_t tc = 0; tc < nt; tc += PANEL_TC) {
                        const size_t ntc = nt - tc < PANEL_TC ? nt - tc : PANEL_TC;

                        if (!kq)
                                for (size_t t = 0; t < ntc; t++) {
                                        const uint8_t *xr = (const uint8_t *) x + (tc + t) * x_row_bytes + kc * xbs;

                                        for (size_t g = 0; g < ng; g++) {
                                                const uint8_t *blk = xr + g * xbs;
                                                uint16_t dh;

                                                memcpy(&dh, blk, 2);
                                                dy[t * PANEL_KC + g] = h2f(dh);
                                                if (type == GGML_TYPE_Q4_0 || type == GGML_TYPE_Q5_0) {
                                                        const int off = type == GGML_TYPE_Q4_0 ? 8 : 16;

                                                        aux[t * PANEL_KC + g] = -off * hsum_i8_32(
                                                                _mm256_loadu_si256((const __m256i *) (blk + 2)));
                                                } else if (type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1) {
                                                        uint16_t sh;
                                                        float s;

                                                        memcpy(&sh, blk + 2, 2);
                                                        s = h2f(sh);
                                                        memcpy(&aux[t * PANEL_KC + g], &s, 4);
                                                }
                                        }
                                }
                        for (size_t r = r0; r < r1; r += PANEL_R) {
                                const int nr = r1 - r < PANEL_R ? (int) (r1 - r) : PANEL_R;
                                const uint8_t *wr[PANEL_R];
                                size_t t = 0;

                                for (int i = 0; i < nr; i++)
                                        wr[i] = (const uint8_t *) w + (r + i) * w_row_bytes + kc / gpb * wbs;
                                panel_pack(type, wr, nr, ng, &P);
                                for (; t < ntc; t += PANEL_T) {
                                        const uint8_t *xq[PANEL_T];
                                        const int n = ntc - t < PANEL_T ? (int) (ntc - t) : PANEL_T;
                                        float *yt = y + (tc + t) * ldy + r;

                                        for (int i = 0; i < n; i++)
                                                xq[i] = (const uint8_t *) x + (tc + t + i) * x_row_bytes + kc / gpb * xbs;
                                        switch (n) {
                                        case PANEL_T:
                                                panel_tile(type, PANEL_T, ng, &P, xq, dy + t * PANEL_KC, aux + t * PANEL_KC,
                                                           yt, ldy, nr, kc > 0);
                                                break;
#if PANEL_T > 3
                                        case 3:
                                                panel_tile(type, 3, ng, &P, xq, dy + t * PANEL_KC, aux + t * PANEL_KC, yt,
                                                           ldy, nr, kc > 0);
                                                break;
#endif
                                        case 2:
                                                panel_tile(type, 2, ng, &P, xq, dy + t * PANEL_KC, aux + t * PANEL_KC, yt,
                                                           ldy, nr, kc > 0);
                                                break;
                                        default:
                                                panel_tile(type, 1, ng, &P, xq, dy + t * PANEL_KC, aux + t * PANEL_KC, yt,
                                                           ldy, nr, kc > 0);
                                                break;
                                        }
                                }
                        }
                }
        }
}

/* Fewest tokens for which the panels beat the tiles above (measured on
 * AMD Zen 2 cores: from 2 tokens for Q4/Q5, 3 for Q8_0, 4 for K-quants). */
static _always_inline_ size_t panel_min_nt(enum ggml_type type) {
        return is_kq(type) ? 4 : type == GGML_TYPE_Q8_0 ? 3 : 2;
}

/* ==== decode (one token): one weight row at a time =========================
 *
 * The activation row's per-block terms are computed once per call, not once
 * per row: its scale as a float, Q4_0/Q5_0's offset term -offset·Σy as the
 * i32 lanes it adds to the pair sums (so the integers stay ggml's exactly),
 * Q4_1/Q5_1's s as a float. Each row is then one pass over its blocks, two
 * blocks per step into independent accumulators.
 */

#define ROW_KC 256 /* blocks of activation terms kept on the stack */
#define ROW_PREFETCH 2048 /* bytes ahead in the weight stream */

/* Software prefetch ROW_PREFETCH bytes ahead of the n bytes at p, every cache
 * line of them: on AMD Zen this beats the hardware prefetcher alone by
 * 10-25% on one core, but prefetching only some of the lines was slower
 * than none. */
static _always_inline_ void prefetch_ahead(const uint8_t *p, size_t n) {
        for (size_t o = 0; o < n; o += 64)
                __builtin_prefetch(p + ROW_PREFETCH + o);
}

struct xrow_prep {
        __m256i neg[ROW_KC];
        float d[ROW_KC];
        float s[ROW_KC];
};

static _always_inline_ size_t quant_type_info_size(enum ggml_type type) {
        switch (type) {
        case GGML_TYPE_Q4_0:
                return sizeof(block_q4_0);
        case GGML_TYPE_Q4_1:
                return sizeof(block_q4_1);
        case GGML_TYPE_Q5_0:
                return sizeof(block_q5_0);
        case GGML_TYPE_Q5_1:
                return sizeof(block_q5_1);
        default:
                return sizeof(block_q8_0);
        }
}

static _always_inline_ void xrow_prep(enum ggml_type type, const uint8_t *xb, size_t nb, struct xrow_prep *p) {
        const size_t xbs = type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1 ? sizeof(block_q8_1) : sizeof(block_q8_0);

        for (size_t b = 0; b < nb; b++) {
                const uint8_t *blk = xb + b * xbs;
                uint16_t h;

                memcpy(&h, blk, 2);
                p->d[b] = h2f(h);
                if (type == GGML_TYPE_Q4_0 || type == GGML_TYPE_Q5_0) {
                        const __m256i off = _mm256_set1_epi8(type == GGML_TYPE_Q4_0 ? 8 : 16);
                        const __m256i yv = _mm256_loadu_si256((const __m256i *) (blk + 2));

                        p->neg[b] = _mm256_sub_epi32(_mm256_setzero_si256(),
                                                     _mm256_madd_epi16(_mm256_maddubs_epi16(off, yv), _mm256_set1_epi16(1)));
                } else if (type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1) {
                        memcpy(&h, blk + 2, 2);
                        p->s[b] = h2f(h);
                }
        }
}

/* Block b of a 32-type row against the prepared activation: its i32 lanes
 * (before scaling), and the scale d_w·d_x. */
static _always_inline_ __m256 row_block(enum ggml_type type, const uint8_t *row, const uint8_t *xb,
                                        const struct xrow_prep *p, size_t b, __m256 acc, float *macc) {
        const size_t xbs = type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1 ? sizeof(block_q8_1) : sizeof(block_q8_0);
        const __m256i y = _mm256_loadu_si256((const __m256i *) (xb + b * xbs + xbs - 32));
        __m256i q, i32;
        uint16_t dh;

        switch (type) {
        case GGML_TYPE_Q4_0: {
                const block_q4_0 *x = (const block_q4_0 *) row + b;

                q = nibbles_32(x->qs);
                dh = x->d;
                break;
        }
        case GGML_TYPE_Q4_1: {
                const block_q4_1 *x = (const block_q4_1 *) row + b;

                q = nibbles_32(x->qs);
                dh = x->d;
                *macc += h2f(x->m) * p->s[b];
                break;
        }
        case GGML_TYPE_Q5_0: {
                const block_q5_0 *x = (const block_q5_0 *) row + b;

                q = _mm256_or_si256(nibbles_32(x->qs), _mm256_and_si256(bytes_from_bits_32(x->qh), _mm256_set1_epi8(0x10)));
                dh = x->d;
                break;
        }
        case GGML_TYPE_Q5_1: {
                const block_q5_1 *x = (const block_q5_1 *) row + b;

                q = _mm256_or_si256(nibbles_32(x->qs), _mm256_and_si256(bytes_from_bits_32(x->qh), _mm256_set1_epi8(0x10)));
                dh = x->d;
                *macc += h2f(x->m) * p->s[b];
                break;
        }
        default: { /* Q8_0 */
                const block_q8_0 *x = (const block_q8_0 *) row + b;
                const __m256i s = _mm256_loadu_si256((const __m256i *) x->qs);

                dh = x->d;
                i32 = dot_u8s8(_mm256_setzero_si256(), _mm256_abs_epi8(s), _mm256_sign_epi8(y, s));
                return _mm256_fmadd_ps(_mm256_cvtepi32_ps(i32), _mm256_set1_ps(h2f(dh) * p->d[b]), acc);
        }
        }
        if (type == GGML_TYPE_Q4_0 || type == GGML_TYPE_Q5_0)
                i32 = dot_u8s8(p->neg[b], q, y);
        else
                i32 = dot_u8s8(_mm256_setzero_si256(), q, y);
        return _mm256_fmadd_ps(_mm256_cvtepi32_ps(i32), _mm256_set1_ps(h2f(dh) * p->d[b]), acc);
}

static _always_inline_ void matmul_row32(enum ggml_type type, size_t k, const void *w, size_t w_row_bytes, size_t r0,
                                         size_t r1, const void *x, float *y) {
        const size_t nb_all = k / 32, wbs = quant_type_info_size(type);
        const size_t xbs = type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1 ? sizeof(block_q8_1) : sizeof(block_q8_0);
        struct xrow_prep p __attribute__((aligned(32)));

        for (size_t kc = 0; kc < nb_all; kc += ROW_KC) {
                const size_t nb = nb_all - kc < ROW_KC ? nb_all - kc : ROW_KC;
                const uint8_t *xb = (const uint8_t *) x + kc * xbs;

                xrow_prep(type, xb, nb, &p);
                for (size_t r = r0; r < r1; r++) {
                        const uint8_t *row = (const uint8_t *) w + r * w_row_bytes + kc * wbs;
                        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
                        float m0 = 0, m1 = 0, s;
                        size_t b = 0;

                        for (; b + 2 <= nb; b += 2) {
                                prefetch_ahead(row + b * wbs, 2 * wbs);
                                a0 = row_block(type, row, xb, &p, b, a0, &m0);
                                a1 = row_block(type, row, xb, &p, b + 1, a1, &m1);
                        }
                        if (b < nb)
                                a0 = row_block(type, row, xb, &p, b, a0, &m0);
                        s = hsum_ps(_mm256_add_ps(a0, a1)) + (m0 + m1);
                        y[r] = kc ? y[r] + s : s;
                }
        }
}


/* Q4_0/Q4_1/Q5_0/Q5_1, two blocks per step: the 2 × 16 bytes of nibbles as
 * one vector (low nibbles = elements 0..15 of both blocks, high nibbles =
 * 16..31), against the activation rearranged the same way once per call. */
struct xrow_pair {
        __m256i ylo[ROW_KC / 2], yhi[ROW_KC / 2], neg[ROW_KC / 2];
        float ds[ROW_KC / 2][4]; /* d, s (Q8_1) of block 0, then of block 1 */
};

static _always_inline_ void xrow_pair_prep(enum ggml_type type, const uint8_t *xb, size_t np, struct xrow_pair *p) {
        const size_t xbs = type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1 ? sizeof(block_q8_1) : sizeof(block_q8_0);

        for (size_t i = 0; i < np; i++) {
                const uint8_t *b0 = xb + 2 * i * xbs, *b1 = b0 + xbs;
                const __m256i y0 = _mm256_loadu_si256((const __m256i *) (b0 + xbs - 32));
                const __m256i y1 = _mm256_loadu_si256((const __m256i *) (b1 + xbs - 32));
                uint16_t h;

                p->ylo[i] = _mm256_permute2x128_si256(y0, y1, 0x20);
                p->yhi[i] = _mm256_permute2x128_si256(y0, y1, 0x31);
                memcpy(&h, b0, 2);
                p->ds[i][0] = h2f(h);
                memcpy(&h, b1, 2);
                p->ds[i][2] = h2f(h);
                p->ds[i][1] = p->ds[i][3] = 0;
                if (type == GGML_TYPE_Q4_0 || type == GGML_TYPE_Q5_0) {
                        const __m256i off = _mm256_set1_epi8(type == GGML_TYPE_Q4_0 ? 8 : 16);
                        const __m256i s16 = _mm256_add_epi16(_mm256_maddubs_epi16(off, p->ylo[i]),
                                                             _mm256_maddubs_epi16(off, p->yhi[i]));

                        p->neg[i] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_madd_epi16(s16, _mm256_set1_epi16(1)));
                } else {
                        memcpy(&h, b0 + 2, 2);
                        p->ds[i][1] = h2f(h);
                        memcpy(&h, b1 + 2, 2);
                        p->ds[i][3] = h2f(h);
                }
        }
}

/* 0x10 in each byte whose bit is set: bytes 0..15 of each lane from bits
 * 0..15 (lo) or 16..31 (hi) of the lane's block (qh0: low lane, qh1: high). */
static _always_inline_ void pair_high_bits(uint32_t qh0, uint32_t qh1, __m256i *lo, __m256i *hi) {
        const __m256i v = _mm256_set1_epi64x((long long) (((uint64_t) qh1 << 32) | qh0));
        const __m256i sel = _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe), ones = _mm256_set1_epi64x(-1);
        const __m256i m10 = _mm256_set1_epi8(0x10);
        const __m256i slo = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5,
                                             5, 5, 5, 5, 5, 5);
        const __m256i shi = _mm256_setr_epi8(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7,
                                             7, 7, 7, 7, 7, 7);

        *lo = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_or_si256(_mm256_shuffle_epi8(v, slo), sel), ones), m10);
        *hi = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_or_si256(_mm256_shuffle_epi8(v, shi), sel), ones), m10);
}

static _always_inline_ __m256 row_pair(enum ggml_type type, const uint8_t *row, const struct xrow_pair *p, size_t i,
                                       __m256 acc, __m128 *macc) {
        const size_t wbs = quant_type_info_size(type);
        const uint8_t *b0 = row + 2 * i * wbs, *b1 = b0 + wbs;
        const size_t qoff = wbs - 16;
        const __m256i raw = _mm256_loadu2_m128i((const __m128i *) (b1 + qoff), (const __m128i *) (b0 + qoff));
        const __m256i m4 = _mm256_set1_epi8(0x0f);
        __m256i lo = _mm256_and_si256(raw, m4), hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4), i32;
        uint32_t h0, h1;
        __m128 f;

        if (type == GGML_TYPE_Q5_0 || type == GGML_TYPE_Q5_1) {
                const size_t hoff = type == GGML_TYPE_Q5_0 ? 2 : 4;
                uint32_t qh0, qh1;
                __m256i bl, bh;

                memcpy(&qh0, b0 + hoff, 4);
                memcpy(&qh1, b1 + hoff, 4);
                pair_high_bits(qh0, qh1, &bl, &bh);
                lo = _mm256_or_si256(lo, bl);
                hi = _mm256_or_si256(hi, bh);
        }
        i32 = _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(lo, p->ylo[i]), _mm256_maddubs_epi16(hi, p->yhi[i])),
                                _mm256_set1_epi16(1));
        if (type == GGML_TYPE_Q4_0 || type == GGML_TYPE_Q5_0)
                i32 = _mm256_add_epi32(i32, p->neg[i]);
        /* [d0 m0 d1 m1] (Q4_0/Q5_0: the m lanes are the next bytes, unused)
         * × [dy0 s0 dy1 s1]: the two scales, and the min terms. */
        memcpy(&h0, b0, 4);
        memcpy(&h1, b1, 4);
        f = _mm_mul_ps(_mm_cvtph_ps(_mm_insert_epi32(_mm_cvtsi32_si128((int) h0), (int) h1, 1)), _mm_load_ps(p->ds[i]));
        if (type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1)
                *macc = _mm_add_ps(*macc, f);
        return _mm256_fmadd_ps(_mm256_cvtepi32_ps(i32),
                               _mm256_permutevar8x32_ps(_mm256_castps128_ps256(f), _mm256_setr_epi32(0, 0, 0, 0, 2, 2, 2, 2)),
                               acc);
}

static _always_inline_ void matmul_row_pairs(enum ggml_type type, size_t k, const void *w, size_t w_row_bytes,
                                             size_t r0, size_t r1, const void *x, float *y) {
        const size_t nb_all = k / 32, wbs = quant_type_info_size(type);
        const size_t xbs = type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1 ? sizeof(block_q8_1) : sizeof(block_q8_0);
        struct xrow_pair p __attribute__((aligned(32)));
        struct xrow_prep tail __attribute__((aligned(32)));

        for (size_t kc = 0; kc < nb_all; kc += ROW_KC) {
                const size_t nb = nb_all - kc < ROW_KC ? nb_all - kc : ROW_KC, np = nb / 2;
                const uint8_t *xb = (const uint8_t *) x + kc * xbs;

                xrow_pair_prep(type, xb, np, &p);
                if (nb & 1)
                        xrow_prep(type, xb + (nb - 1) * xbs, 1, &tail);
                for (size_t r = r0; r < r1; r++) {
                        const uint8_t *row = (const uint8_t *) w + r * w_row_bytes + kc * wbs;
                        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
                        __m128 m0 = _mm_setzero_ps(), m1 = _mm_setzero_ps();
                        float s, mt = 0;
                        size_t i = 0;

                        for (; i + 2 <= np; i += 2) {
                                prefetch_ahead(row + 2 * i * wbs, 4 * wbs);
                                a0 = row_pair(type, row, &p, i, a0, &m0);
                                a1 = row_pair(type, row, &p, i + 1, a1, &m1);
                        }
                        if (i < np)
                                a0 = row_pair(type, row, &p, i, a0, &m0);
                        if (nb & 1)
                                a1 = row_block(type, row + (nb - 1) * wbs, xb + (nb - 1) * xbs, &tail, 0, a1, &mt);
                        m0 = _mm_add_ps(m0, m1);
                        s = hsum_ps(_mm256_add_ps(a0, a1)) + mt;
                        if (type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1)
                                s += _mm_cvtss_f32(_mm_add_ss(_mm_movehdup_ps(m0), _mm_movehdup_ps(_mm_movehl_ps(m0, m0))));
                        y[r] = kc ? y[r] + s : s;
                }
        }
}


/* Q4_K / Q6_K decode, one row at a time (ggml's AVX2 vec_dot layout): the
 * sub-block scales multiply the i16 pair sums inside madd, so one float
 * conversion per 256 elements. */
static _always_inline_ __m256 row_q4k(const block_q4_K *x, const block_q8_K *y, __m256 acc, __m256 *accm) {
        const uint32_t k1 = 0x3f3f3f3f, k2 = 0x0f0f0f0f, k3 = 0x03030303;
        const __m256i m4 = _mm256_set1_epi8(0x0f);
        uint32_t u[4], aux;
        __m256i ms, sc, sumi = _mm256_setzero_si256();
        __m128i s128;

        memcpy(u, x->scales, 12);
        u[3] = ((u[2] >> 4) & k2) | (((u[1] >> 6) & k3) << 4);
        aux = u[1] & k1;
        u[1] = (u[2] & k2) | (((u[0] >> 6) & k3) << 4);
        u[2] = aux;
        u[0] &= k1;
        /* i16: scales 0..7, then mins 0..7. */
        ms = _mm256_cvtepu8_epi16(_mm_set_epi32((int) u[3], (int) u[2], (int) u[1], (int) u[0]));
        {
                const __m256i bs = _mm256_loadu_si256((const __m256i *) y->bsums);
                const __m128i q8s = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
                const __m128i prod = _mm_madd_epi16(_mm256_extracti128_si256(ms, 1), q8s);

                *accm = _mm256_fmadd_ps(_mm256_set1_ps(-y->d * h2f(x->dmin)),
                                        _mm256_castps128_ps256(_mm_cvtepi32_ps(prod)), *accm);
        }
        s128 = _mm256_castsi256_si128(ms);
        sc = _mm256_set_m128i(s128, s128);
        for (int j = 0; j < 4; j++) {
                const __m256i sl = _mm256_shuffle_epi8(sc, _mm256_set1_epi16((short) (((4 * j + 1) << 8) | (4 * j))));
                const __m256i sh = _mm256_shuffle_epi8(sc, _mm256_set1_epi16((short) (((4 * j + 3) << 8) | (4 * j + 2))));
                const __m256i qb = _mm256_loadu_si256((const __m256i *) (x->qs + 32 * j));
                const __m256i pl = _mm256_maddubs_epi16(_mm256_and_si256(qb, m4),
                                                        _mm256_loadu_si256((const __m256i *) (y->qs + 64 * j)));
                const __m256i ph = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(qb, 4), m4),
                                                        _mm256_loadu_si256((const __m256i *) (y->qs + 64 * j + 32)));

                sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(_mm256_madd_epi16(sl, pl), _mm256_madd_epi16(sh, ph)));
        }
        return _mm256_fmadd_ps(_mm256_set1_ps(y->d * h2f(x->d)), _mm256_cvtepi32_ps(sumi), acc);
}

static _always_inline_ __m256 row_q6k(const block_q6_K *x, const block_q8_K *y, __m256 acc) {
        const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(0x30);
        const __m128i s128 = _mm_loadu_si128((const __m128i *) x->scales);
        /* The -32 of every level: 32 Σ sc_i · bsum_i. */
        const __m256i corr = _mm256_madd_epi16(_mm256_cvtepi8_epi16(s128),
                                               _mm256_loadu_si256((const __m256i *) y->bsums));
        __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(corr, 5));

        for (int h = 0; h < 2; h++) {
                const __m256i l0 = _mm256_loadu_si256((const __m256i *) (x->ql + 64 * h));
                const __m256i l1 = _mm256_loadu_si256((const __m256i *) (x->ql + 64 * h + 32));
                const __m256i hh = _mm256_loadu_si256((const __m256i *) (x->qh + 32 * h));
                __m256i q[4];

                q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(hh, 4), m3));
                q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(hh, 2), m3));
                q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(hh, m3));
                q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                       _mm256_and_si256(_mm256_srli_epi16(hh, 2), m3));
                for (int j = 0; j < 4; j++) {
                        const int i = 8 * h + 2 * j;
                        const __m256i sc = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(
                                s128, _mm_set_epi8(i + 1, i + 1, i + 1, i + 1, i + 1, i + 1, i + 1, i + 1, i, i, i, i, i, i, i, i)));
                        const __m256i p = _mm256_maddubs_epi16(q[j], _mm256_loadu_si256((const __m256i *) (y->qs + 128 * h + 32 * j)));

                        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, sc));
                }
        }
        return _mm256_fmadd_ps(_mm256_set1_ps(y->d * h2f(x->d)), _mm256_cvtepi32_ps(sumi), acc);
}

static _always_inline_ void matmul_rowk(enum ggml_type type, size_t k, const void *w, size_t w_row_bytes, size_t r0,
                                        size_t r1, const void *x, float *y) {
        const size_t nb = k / QK_K;
        const block_q8_K *xb = x;

        for (size_t r = r0; r < r1; r++) {
                const uint8_t *row = (const uint8_t *) w + r * w_row_bytes;
                __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), am = _mm256_setzero_ps();
                size_t b = 0;

                if (type == GGML_TYPE_Q4_K) {
                        const block_q4_K *wb = (const block_q4_K *) row;

                        for (; b + 2 <= nb; b += 2) {
                                prefetch_ahead((const uint8_t *) (wb + b), 2 * sizeof(*wb));
                                a0 = row_q4k(wb + b, xb + b, a0, &am);
                                a1 = row_q4k(wb + b + 1, xb + b + 1, a1, &am);
                        }
                        if (b < nb)
                                a0 = row_q4k(wb + b, xb + b, a0, &am);
                } else {
                        const block_q6_K *wb = (const block_q6_K *) row;

                        for (; b + 2 <= nb; b += 2) {
                                prefetch_ahead((const uint8_t *) (wb + b), 2 * sizeof(*wb));
                                a0 = row_q6k(wb + b, xb + b, a0);
                                a1 = row_q6k(wb + b + 1, xb + b + 1, a1);
                        }
                        if (b < nb)
                                a0 = row_q6k(wb + b, xb + b, a0);
                }
                y[r] = hsum_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), am));
        }
}


/* ==== float weights, prefill: 16-row f32 panels ===========================
 *
 * 16 rows × 64 elements of k converted to f32 and transposed (element kk of
 * the 16 rows = two vectors), then 6 tokens at a time: per element 2 loads,
 * 6 broadcasts, 12 fmas. Each chunk's 64-term sums are added to y, which
 * also keeps the rounding of long rows down. */

#define FPANEL_KC 64
#define FPANEL_T 6
#define FPANEL_MIN_NT 16

static _always_inline_ void fpanel_pack(enum ggml_type type, const uint8_t *const *wr, int nr, size_t k0, size_t n,
                                        float (*P)[16]) {
        size_t kk = 0;

        for (; kk + 8 <= n; kk += 8)
                for (int h = 0; h < 2; h++) {
                        __m256i v[8];

                        for (int r = 0; r < 8; r++)
                                v[r] = 8 * h + r < nr ? _mm256_castps_si256(load_w8(type, wr[8 * h + r], k0 + kk))
                                                      : _mm256_setzero_si256();
                        transpose8x8(v);
                        for (int j = 0; j < 8; j++)
                                _mm256_store_si256((__m256i *) &P[kk + j][8 * h], v[j]);
                }
        for (; kk < n; kk++)
                for (int r = 0; r < 16; r++)
                        P[kk][r] = r < nr ? load_w1(type, wr[r], k0 + kk) : 0.0f;
}

static _always_inline_ void fpanel_tile(const int nt, size_t n, const float (*P)[16], const float *const *xt, float *y,
                                        size_t ldy, int nr, bool add) {
        __m256 acc0[FPANEL_T], acc1[FPANEL_T];

        for (int t = 0; t < nt; t++)
                acc0[t] = acc1[t] = _mm256_setzero_ps();
        for (size_t kk = 0; kk < n; kk++) {
                const __m256 w0 = _mm256_load_ps(&P[kk][0]), w1 = _mm256_load_ps(&P[kk][8]);

                for (int t = 0; t < nt; t++) {
                        const __m256 xb = _mm256_broadcast_ss(xt[t] + kk);

                        acc0[t] = _mm256_fmadd_ps(w0, xb, acc0[t]);
                        acc1[t] = _mm256_fmadd_ps(w1, xb, acc1[t]);
                }
        }
#pragma GCC unroll 8
        for (int t = 0; t < nt; t++) {
                float *yt = y + t * ldy;

                if (nr == 16) {
                        if (add) {
                                acc0[t] = _mm256_add_ps(acc0[t], _mm256_loadu_ps(yt));
                                acc1[t] = _mm256_add_ps(acc1[t], _mm256_loadu_ps(yt + 8));
                        }
                        _mm256_storeu_ps(yt, acc0[t]);
                        _mm256_storeu_ps(yt + 8, acc1[t]);
                } else {
                        float tmp[16];

                        _mm256_storeu_ps(tmp, acc0[t]);
                        _mm256_storeu_ps(tmp + 8, acc1[t]);
#pragma GCC unroll 1
                        for (int r = 0; r < nr; r++)
                                yt[r] = add ? yt[r] + tmp[r] : tmp[r];
                }
        }
}

static _always_inline_ void matmul_fpanel(enum ggml_type type, size_t k, const void *w, size_t w_row_bytes, size_t r0,
                                          size_t r1, const void *x, size_t x_row_bytes, size_t nt, float *y,
                                          size_t ldy) {
        float P[FPANEL_KC][16] __attribute__((aligned(32)));

        for (size_t r = r0; r < r1; r += 16) {
                const int nr = r1 - r < 16 ? (int) (r1 - r) : 16;
                const uint8_t *wr[16];

                for (int i = 0; i < nr; i++)
                        wr[i] = (const uint8_t *) w + (r + i) * w_row_bytes;
                for (size_t k0 = 0; k0 < k; k0 += FPANEL_KC) {
                        const size_t n = k - k0 < FPANEL_KC ? k - k0 : FPANEL_KC;

                        fpanel_pack(type, wr, nr, k0, n, P);
                        for (size_t t = 0; t < nt; t += FPANEL_T) {
                                const int m = nt - t < FPANEL_T ? (int) (nt - t) : FPANEL_T;
                                const float *xt[FPANEL_T];
                                float *yt = y + t * ldy + r;

                                for (int i = 0; i < m; i++)
                                        xt[i] = (const float *) ((const uint8_t *) x + (t + i) * x_row_bytes) + k0;
                                switch (m) {
                                case 6:
                                        fpanel_tile(6, n, (const float (*)[16]) P, xt, yt, ldy, nr, k0 > 0);
                                        break;
                                case 5:
                                        fpanel_tile(5, n, (const float (*)[16]) P, xt, yt, ldy, nr, k0 > 0);
                                        break;
                                case 4:
                                        fpanel_tile(4, n, (const float (*)[16]) P, xt, yt, ldy, nr, k0 > 0);
                                        break;
                                case 3:
                                        fpanel_tile(3, n, (const float (*)[16]) P, xt, yt, ldy, nr, k0 > 0);
                                        break;
                                case 2:
                                        fpanel_tile(2, n, (const float (*)[16]) P, xt, yt, ldy, nr, k0 > 0);
                                        break;
                                default:
                                        fpanel_tile(1, n, (const float (*)[16]) P, xt, yt, ldy, nr, k0 > 0);
                                        break;
                                }
                        }
                }
        }
}


/* Float weights, decode: 32 elements per step into 4 accumulators (one fma
 * chain would cap a row at 8 elements per fma latency). */
static _always_inline_ void matmul_rowf(enum ggml_type type, size_t k, const void *w, size_t w_row_bytes, size_t r0,
                                        size_t r1, const void *x, float *y) {
        const size_t es = type == GGML_TYPE_F32 ? 4 : 2;
        const float *xf = x;

        for (size_t r = r0; r < r1; r++) {
                const uint8_t *row = (const uint8_t *) w + r * w_row_bytes;
                __m256 a[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };
                size_t i = 0;
                float s;

                for (; i + 32 <= k; i += 32) {
                        prefetch_ahead(row + i * es, 32 * es);
                        for (int j = 0; j < 4; j++)
                                a[j] = _mm256_fmadd_ps(load_w8(type, row, i + 8 * j), _mm256_loadu_ps(xf + i + 8 * j), a[j]);
                }
                for (; i + 8 <= k; i += 8)
                        a[0] = _mm256_fmadd_ps(load_w8(type, row, i), _mm256_loadu_ps(xf + i), a[0]);
                s = hsum_ps(_mm256_add_ps(_mm256_add_ps(a[0], a[1]), _mm256_add_ps(a[2], a[3])));
                for (; i < k; i++)
                        s += load_w1(type, row, i) * xf[i];
                y[r] = s;
        }
}

/* A few tokens (sequences decoding together, a prompt's last few tokens):
 * one weight row at a time, streamed in order as decode reads it, each of
 * its blocks decoded once for TILE_T tokens at a time. Below FEW_MAX_NT
 * tokens the panels' repacking costs more than it saves, and the TILE_R-row
 * tiles interleave rows (half the bandwidth, matmul_tiled). */
#ifndef FEW_MAX_NT
#define FEW_MAX_NT 4
#endif

static _always_inline_ void matmul_few(enum tile_kind kind, enum ggml_type type, size_t k, const void *w,
                                       size_t w_row_bytes, size_t r0, size_t r1, const void *x, size_t x_row_bytes,
                                       size_t nt, float *y, size_t ldy) {
        const uint8_t *wb = w, *xb = x;

        for (size_t r = r0; r < r1; r++) {
                const uint8_t *wr[1] = { wb + r * w_row_bytes }, *xr[TILE_T];
                size_t t = 0;

                for (; t + TILE_T <= nt; t += TILE_T) {
                        for (int i = 0; i < TILE_T; i++)
                                xr[i] = xb + (t + i) * x_row_bytes;
                        tile(kind, type, 1, TILE_T, k, wr, xr, y + t * ldy + r, ldy);
                }
                for (size_t i = 0; t + i < nt; i++)
                        xr[i] = xb + (t + i) * x_row_bytes;
                /* The tiles want their size as a constant. */
                switch (nt - t) {
                case 1:
                        tile(kind, type, 1, 1, k, wr, xr, y + t * ldy + r, ldy);
                        break;
                case 2:
                        tile(kind, type, 1, 2, k, wr, xr, y + t * ldy + r, ldy);
                        break;
#if TILE_T > 3
                case 3:
                        tile(kind, type, 1, 3, k, wr, xr, y + t * ldy + r, ldy);
                        break;
#endif
                }
        }
}

/* The Q4_K/Q6_K one-row decode kernels (13 vs 10 GB/s, 15.5 vs 11.5 GB/s on
 * one Zen 3 core). They sum in another float order than the tiles, which
 * moves 8-bit-activation results by rounding steps; the real-model tests
 * allow for that (near-ties judged against the logit scale). Set to 0 to
 * compare with the tile path. */
#ifndef QUANT_ROW_K
#define QUANT_ROW_K 1
#endif

/* Decode (one token): one row at a time, a row kernel per type (Q5_K, and
 * Q4_K/Q6_K unless QUANT_ROW_K: the tiles, one row). Prefill: the panels
 * from a few tokens on, the tiles below that. */
static _always_inline_ void matmul_dispatch(enum tile_kind kind, enum ggml_type type, size_t k, const void *w,
                                            size_t w_row_bytes, size_t r0, size_t r1, const void *x,
                                            size_t x_row_bytes, size_t nt, float *y, size_t ldy) {
        if (QUANT_ROW_K && nt == 1 && (type == GGML_TYPE_Q4_K || type == GGML_TYPE_Q6_K))
                matmul_rowk(type, k, w, w_row_bytes, r0, r1, x, y);
        else if (nt == 1 && type == GGML_TYPE_Q8_0)
                matmul_row32(type, k, w, w_row_bytes, r0, r1, x, y);
        else if (nt == 1 && kind == TILE_F)
                matmul_rowf(type, k, w, w_row_bytes, r0, r1, x, y);
        else if (nt == 1 && kind == TILE_Q32)
                matmul_row_pairs(type, k, w, w_row_bytes, r0, r1, x, y);
        else if (kind != TILE_F && nt <= FEW_MAX_NT)
                matmul_few(kind, type, k, w, w_row_bytes, r0, r1, x, x_row_bytes, nt, y, ldy);
        else if (kind != TILE_F && nt >= panel_min_nt(type))
                matmul_panel(type, k, w, w_row_bytes, r0, r1, x, x_row_bytes, nt, y, ldy);
        else if (kind == TILE_F && nt >= FPANEL_MIN_NT)
                matmul_fpanel(type, k, w, w_row_bytes, r0, r1, x, x_row_bytes, nt, y, ldy);
        else
                matmul_tiled(kind, type, k, w, w_row_bytes, r0, r1, x, x_row_bytes, nt, y, ldy);
}

#define DEFINE_MATMUL(KIND, T)                                                                            \
        static void KNAME(matmul_##T)(size_t k, const void *w, size_t w_row_bytes, size_t r0, size_t r1, \
                                      const void *x, size_t x_row_bytes, size_t nt, float *y, size_t ldy) { \
                matmul_dispatch(KIND, GGML_TYPE_##T, k, w, w_row_bytes, r0, r1, x, x_row_bytes, nt, y, ldy); \
        }
DEFINE_MATMUL(TILE_Q32, Q4_0)
DEFINE_MATMUL(TILE_Q32, Q4_1)
DEFINE_MATMUL(TILE_Q32, Q5_0)
DEFINE_MATMUL(TILE_Q32, Q5_1)
DEFINE_MATMUL(TILE_Q32, Q8_0)
DEFINE_MATMUL(TILE_K, Q4_K)
DEFINE_MATMUL(TILE_K, Q5_K)
DEFINE_MATMUL(TILE_K, Q6_K)
DEFINE_MATMUL(TILE_F, F32)
DEFINE_MATMUL(TILE_F, F16)
DEFINE_MATMUL(TILE_F, BF16)

/* ==== activation quantization ============================================ */

/* 32 floats → 32 int8 (round half to even, like the portable path) in order. */
static _always_inline_ __m256i quantize_32(const float *x, __m256 mul) {
        __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 0), mul));
        __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8), mul));
        __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 16), mul));
        __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 24), mul));

        i0 = _mm256_packs_epi32(i0, i1);
        i2 = _mm256_packs_epi32(i2, i3);
        i0 = _mm256_packs_epi16(i0, i2);
        /* packs interleave 128-bit lanes: put the dwords back in order. */
        return _mm256_permutevar8x32_epi32(i0, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

static _always_inline_ float amax_n(const float *x, int n) {
        const __m256 sign = _mm256_set1_ps(-0.0f);
        __m256 m = _mm256_setzero_ps();
        __m128 s;

        for (int i = 0; i < n; i += 8)
                m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
        s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        s = _mm_max_ps(s, _mm_movehl_ps(s, s));
        s = _mm_max_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
}

static void KNAME(act_q8_0)(const float *x, void *vy, size_t n) {
        block_q8_0 *y = vy;

        for (size_t i = 0; i < n / QK8_0; i++, x += QK8_0) {
                const float amax = amax_n(x, 32), d = amax / 127, id = d ? 1.0f / d : 0.0f;

                y[i].d = quant_fp32_to_fp16(d);
                _mm256_storeu_si256((__m256i *) y[i].qs, quantize_32(x, _mm256_set1_ps(id)));
        }
}

static void KNAME(act_q8_1)(const float *x, void *vy, size_t n) {
        block_q8_1 *y = vy;

        for (size_t i = 0; i < n / QK8_1; i++, x += QK8_1) {
                const float amax = amax_n(x, 32), d = amax / 127, id = d ? 1.0f / d : 0.0f;
                const __m256i q = quantize_32(x, _mm256_set1_ps(id));

                y[i].d = quant_fp32_to_fp16(d);
                y[i].s = quant_fp32_to_fp16(hsum_i8_32(q) * d);
                _mm256_storeu_si256((__m256i *) y[i].qs, q);
        }
}

static void KNAME(act_q8_K)(const float *x, void *vy, size_t n) {
        block_q8_K *y = vy;

        for (size_t i = 0; i < n / QK_K; i++, x += QK_K) {
                const float amax = amax_n(x, QK_K);
                float max = 0, iscale;
                __m256 mul;

                if (!amax) {
                        memset(&y[i], 0, sizeof(y[i]));
                        continue;
                }
                /* The first element of largest magnitude sets the sign, as in
                 * quantize_row_q8_K_ref. */
                for (int j = 0; j < QK_K; j++)
                        if (fabsf(x[j]) == amax) {
                                max = x[j];
                                break;
                        }
                iscale = -127.f / max;
                mul = _mm256_set1_ps(iscale);
                for (int j = 0; j < QK_K / 32; j++) {
                        /* packs saturates at 127: the reference's MIN(127, v). */
                        const __m256i q = quantize_32(x + 32 * j, mul);
                        /* bsums: Σ of each 16 bytes as i16. */
                        __m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), q);
                        __m128i s;

                        _mm256_storeu_si256((__m256i *) (y[i].qs + 32 * j), q);
                        s16 = _mm256_hadd_epi16(s16, s16);
                        s16 = _mm256_hadd_epi16(s16, s16);
                        s16 = _mm256_hadd_epi16(s16, s16);
                        s = _mm_unpacklo_epi16(_mm256_castsi256_si128(s16), _mm256_extracti128_si256(s16, 1));
                        y[i].bsums[2 * j] = (int16_t) _mm_extract_epi16(s, 0);
                        y[i].bsums[2 * j + 1] = (int16_t) _mm_extract_epi16(s, 1);
                }
                y[i].d = 1 / iscale;
        }
}

void KNAME(quant_kernels)(struct quant_kernels *k) {
        k->matmul[GGML_TYPE_Q4_0] = KNAME(matmul_Q4_0);
        k->matmul[GGML_TYPE_Q4_1] = KNAME(matmul_Q4_1);
        k->matmul[GGML_TYPE_Q5_0] = KNAME(matmul_Q5_0);
        k->matmul[GGML_TYPE_Q5_1] = KNAME(matmul_Q5_1);
        k->matmul[GGML_TYPE_Q8_0] = KNAME(matmul_Q8_0);
        k->matmul[GGML_TYPE_Q4_K] = KNAME(matmul_Q4_K);
        k->matmul[GGML_TYPE_Q5_K] = KNAME(matmul_Q5_K);
        k->matmul[GGML_TYPE_Q6_K] = KNAME(matmul_Q6_K);
        k->matmul[GGML_TYPE_F32] = KNAME(matmul_F32);
        k->matmul[GGML_TYPE_F16] = KNAME(matmul_F16);
        k->matmul[GGML_TYPE_BF16] = KNAME(matmul_BF16);
        k->act[GGML_TYPE_Q8_0] = KNAME(act_q8_0);
        k->act[GGML_TYPE_Q8_1] = KNAME(act_q8_1);
        k->act[GGML_TYPE_Q8_K] = KNAME(act_q8_K);
}
