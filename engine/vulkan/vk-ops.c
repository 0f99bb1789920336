/* SPDX-License-Identifier: MIT */
/*
 * Recording helpers: one dispatch per kernel, with the grid worked out from
 * the shapes. Barriers are the caller's (vk_cmd_barrier), so that
 * independent kernels (the q/k/v projections, gate and up) run together.
 */

#include "macros.h"
#include "vk.h"

/* Up to this many tokens the mat-vec kernel (weights read once per 8
 * tokens) beats the tiled one; above it the tiles reuse weights 64 times. */
#define MATVEC_MAX_TOKENS 8
/* The wide cooperative-matrix tile (128 tokens) from this many tokens on, else the narrow one (64):
 * a 128-token tile half empty does twice the products it needs. */
#define CM_WIDE_MIN_TOKENS 65

/* Grids larger than the guaranteed 65535 in x spill into y. */
static void grid_1d(uint32_t groups, uint32_t *gx, uint32_t *gy) {
        *gx = MIN(groups, 32768u);
        *gy = DIV_ROUND_UP(groups, *gx);
}

bool vk_op_matmul_reads_x16(const struct vk_cmd *c, enum vk_wtype wt, uint32_t nt) {
        const struct vk_pipelines *p = c->pl;

        return nt > MATVEC_MAX_TOKENS && !c->exact && p->p[VK_P_CVT16] &&
               ((p->coopmat2 && p->p[VK_P_MATMUL_CM2 + wt]) || (p->coopmat && p->p[VK_P_MATMUL_CM + wt]));
}

void vk_op_cvt16(struct vk_cmd *c, VkDeviceAddress x, uint32_t ldx, uint32_t k, uint32_t nt, VkDeviceAddress y16,
                 uint32_t ldy) {
        struct pc_mm pc = { .x = x, .y = y16, .k = k, .nt = nt, .ldx = ldx, .ldy = ldy };

        vk_cmd_dispatch(c, VK_P_CVT16, &pc, sizeof pc, DIV_ROUND_UP(k / 4, 256), nt, 1);
}

/*
 * Whether the NV workgroup-scope product of n rows by nt tokens takes the wide tile under the rounds rule
 * (vk_cm2_pick; the default takes llama.cpp's choice where k >= VK_CM2_WIDE_MIN_K): one workgroup runs
 * on each multiprocessor at a time, so a product takes rounds of workgroups, and a wide workgroup
 * (twice the tokens) takes 1.5-1.7 times a narrow one (H200, 128 -> 256 tokens, six shapes: 1.62-1.74x
 * with f32 sums, 1.47 (Q4_K) to 1.69x with f16 sums; docs/vulkan.md). The wide tile wins where it makes
 * enough fewer rounds: not where the narrow grid already fits in one round, which is where the narrow
 * one was 1.6x faster (4096 rows, 512 tokens on 132 multiprocessors). The ratios taken, 1.7 and 1.55,
 * pick the faster tile on every shape measured. Short rows (k < VK_CM2_WIDE_MIN_K) keep the narrow
 * tile: the whole-model prefill of Qwen2.5 0.5B (k 896) ran 9% slower with its wide products, Gemma 3 1B
 * Q8_0 (k 1152) 2% (H200 pp512), where the rule would take it; the gains were at k >= 3584. Again on the
 * H100 (run133.sh): Qwen2.5 0.5B 6% slower, Gemma 3 1B within noise, though the products alone ran 16%
 * faster wide (4864 x 896, 6912 x 1152: one round against two; run132.sh). A guess at why, not
 * measured: gate and up run side by side in a step (no barrier between them), so their grids share the
 * rounds: the 0.5B's two narrow grids of 152 workgroups together make 3 rounds, its two wide ones of 76
 * 2 rounds of wide workgroups (1.5-1.7x a narrow one each), no gain; alone, 2 against 1.
 */
bool vk_cm2_wide(const struct vk_pipelines *p, uint32_t n, uint32_t k, uint32_t nt) {
        if (!p->cm2_sms || !p->cm2_wide_bn || nt <= p->cm2_bn || k < VK_CM2_WIDE_MIN_K)
                return false;
        uint64_t rows = DIV_ROUND_UP(n, 128u), sms = p->cm2_sms;
        uint64_t narrow = DIV_ROUND_UP(rows * DIV_ROUND_UP(nt, p->cm2_bn), sms);
        uint64_t wide = DIV_ROUND_UP(rows * DIV_ROUND_UP(nt, p->cm2_wide_bn), sms);
        return p->cm2_acc16 ? wide * 31 < narrow * 20 : wide * 17 < narrow * 10;
}

/*
 * Small models' prefill leaves most multiprocessors idle on the narrow tile: Qwen2.5 0.5B's q, o and
 * down products at 512 tokens are 7 x 4 workgroups on the H200's 132, and the products were 68% of
 * its pp512 profile. Half the tokens a workgroup doubles the grid; the per-workgroup cost falls by
 * less than half (each weight tile is decoded for fewer tokens), so the small tile pays only where
 * its whole grid still runs in one round. H200: 7-15% faster products at eleven small-model shapes;
 * whole-model pp512 SmolLM2 +3-5%, Qwen2.5 0.5B 1.5-3% slower for a reason not found
 * (docs/vulkan.md). And for any batch of at most its tokens.
 */
bool vk_cm2_small(const struct vk_pipelines *p, uint32_t n, uint32_t nt) {
        if (!p->cm2_sms || !p->cm2_small_bn || p->cm2_small_bn >= p->cm2_bn)
                return false;
        /* A batch the small tile holds makes grids of one size on either tile, and a padded one
         * (MM_XPAD) multiplies the whole tile: the small one does half the work. */
        if (nt <= p->cm2_small_bn)
                return true;
        uint64_t rows = DIV_ROUND_UP(n, 128u);
        uint64_t narrow = rows * DIV_ROUND_UP(nt, p->cm2_bn), small = rows * DIV_ROUND_UP(nt, p->cm2_small_bn);
        return small > narrow && small <= p->cm2_sms;
}

/* s slices of *ks columns each, whole multiples of 256 (so that every block size divides a slice's start
 * and the NV kernel's unrolled loop covers it); fewer where the last would be empty. */
static uint32_t split_slices(uint32_t k, uint32_t s, uint32_t *ks) {
        for (; s > 1; s--) {
                *ks = ALIGN_TO(DIV_ROUND_UP(k, s), 256u);
                if (*ks * (s - 1) < k)
                        break;
        }
        return s;
}

/*
 * Split-K slices for an NV product of `tiles` workgroups over rows of k columns, as llama.cpp's Vulkan
 * backend chooses them: where the grid fills at most half of the multiprocessors and rows are long
 * (k >= cm2_split_k, 2048), enough slices to fill them (at most cm2_split); up to two thirds, 3.
 * 1: no split.
 */
uint32_t vk_cm2_split(const struct vk_pipelines *p, uint32_t tiles, uint32_t k, uint32_t *ks) {
        uint32_t s = 1;

        if (!p->cm2_sms || p->cm2_split < 2 || k < p->cm2_split_k || tiles == 0)
                return 1;
        if (tiles <= p->cm2_sms / 2)
                s = p->cm2_sms / tiles;
        else if (tiles * 3 <= p->cm2_sms * 2)
                s = 3;
        return split_slices(k, MIN(s, p->cm2_split), ks);
}

/*
 * llama.cpp's choice of tile and split for its kernel of this kind (its matmul_tile_selector for NV
 * matrices, then ggml_vk_guess_split_k on the chosen tile's grid). Its large tile is the wide one here
 * (128 x cm2_wide_bn), its medium the narrow one (128 x cm2_bn), its small (for at most 64 tokens) the
 * small one. The wide tile where either grid overfills the multiprocessors, or where the wide grid fits in
 * a third of them and the narrow one fills more than half; no minimum row length. Then split-K by
 * vk_cm2_split on that grid, where the tokens fill a tile or, unlike llama.cpp, where a partial tile runs
 * as a whole one (pad: MM_XPAD). Unsplit, Llama 3 8B's 4096-row products of 32 tokens were 32 workgroups
 * on 132 multiprocessors and took 3.6x the time of 64 tokens split in 4 (312 against 87 us, run183.sh);
 * split, 86 us (run184.sh). Where it differs from the rounds rule on long rows
 * it was faster (H100, 512 tokens): Gemma 3 4B's o and down wide in 3 slices instead of narrow in 3,
 * 27B's o and down wide in 3 instead of wide unsplit (4B down 194 -> 148 us, 27B down 805 -> 569; pp512
 * 4B Q4_K +6%, 27B Q4_0 +8%); on short rows slower (Qwen2.5 0.5B -6%: q/o narrow instead of small, gate
 * and up wide). So vk_cm2_pick takes it for rows of VK_CM2_WIDE_MIN_K columns or more.
 */
enum vk_pipe vk_cm2_pick_llama(const struct vk_pipelines *p, enum vk_wtype wt, uint32_t n, uint32_t k, uint32_t nt,
                               bool can_split, bool pad, uint32_t *bn, uint32_t *split, uint32_t *ks) {
        uint64_t rows = DIV_ROUND_UP(n, 128u), sms = p->cm2_sms;
        enum vk_pipe pp = VK_P_MATMUL_CM2 + wt;

        *bn = p->cm2_bn;
        *split = 1;
        if (!sms)
                return pp;
        if (p->p[VK_P_MATMUL_CM2_WIDE + wt] && p->cm2_wide_bn && nt > p->cm2_bn) {
                uint64_t tn = rows * DIV_ROUND_UP(nt, p->cm2_bn), tw = rows * DIV_ROUND_UP(nt, p->cm2_wide_bn);
                if (tn > sms || tw > sms || (tw <= sms / 3 && tn > sms / 2)) {
                        pp = VK_P_MATMUL_CM2_WIDE + wt;
                        *bn = p->cm2_wide_bn;
                }
        }
        if (pp == VK_P_MATMUL_CM2 + wt && p->p[VK_P_MATMUL_CM2_SMALL + wt] && p->cm2_small_bn &&
            nt <= p->cm2_small_bn) {
                pp = VK_P_MATMUL_CM2_SMALL + wt;
                *bn = p->cm2_small_bn;
        }
        if (can_split && (nt >= *bn || pad))
                *split = vk_cm2_split(p, (uint32_t) MIN(rows * DIV_ROUND_UP(nt, *bn), UINT32_MAX), k, ks);
        return pp;
}

/* The rounds rule's tile for a product split in `split` (vk_cm2_pick): the wide or the small tile only
 * where it is not split. */
static enum vk_pipe cm2_pick_rounds(const struct vk_pipelines *p, enum vk_wtype wt, uint32_t n, uint32_t k,
                                    uint32_t nt, uint32_t split, uint32_t *bn) {
        *bn = p->cm2_bn;
        if (split == 1 && p->p[VK_P_MATMUL_CM2_WIDE + wt] && vk_cm2_wide(p, n, k, nt)) {
                *bn = p->cm2_wide_bn;
                return VK_P_MATMUL_CM2_WIDE + wt;
        }
        if (split == 1 && p->p[VK_P_MATMUL_CM2_SMALL + wt] && vk_cm2_small(p, n, nt)) {
                *bn = p->cm2_small_bn;
                return VK_P_MATMUL_CM2_SMALL + wt;
        }
        return VK_P_MATMUL_CM2 + wt;
}

enum vk_pipe vk_cm2_pick(const struct vk_pipelines *p, enum vk_wtype wt, uint32_t n, uint32_t k, uint32_t nt,
                         bool can_split, bool pad, uint32_t *bn, uint32_t *split, uint32_t *ks) {
        if (p->cm2_rule == VK_CM2_RULE_LLAMA || (p->cm2_rule == VK_CM2_RULE_AUTO && k >= VK_CM2_WIDE_MIN_K))
                return vk_cm2_pick_llama(p, wt, n, k, nt, can_split, pad, bn, split, ks);
        *split = can_split ? vk_cm2_split(p, DIV_ROUND_UP(n, 128u) * DIV_ROUND_UP(nt, p->cm2_bn), k, ks) : 1;
        return cm2_pick_rounds(p, wt, n, k, nt, *split, bn);
}

/* Bytes from a weight row's start to its column kb (a multiple of 256). */
static uint64_t w_offset(enum vk_wtype wt, uint32_t row_bytes, uint32_t k, uint32_t kb) {
        /* Repacked types are rows of whole 256-column superblocks (the last one padded). */
        if (vk_wtype_repacked(wt))
                return (uint64_t) row_bytes / DIV_ROUND_UP(k, 256) * (kb / 256);
        return (uint64_t) row_bytes * kb / k;
}

/* A split product's sum of its planes, recorded after the barrier that follows its slices. */
struct split_sum {
        struct pc_mm pc;
        bool on;
};

/*
 * Records a tiled product, split over k where split > 1 and the scratch allows it: each slice of ks
 * columns runs the same kernel on its part of the rows (weights and activations offset, k shortened)
 * into its own plane of partial sums; *sum is then the splitk_sum.comp dispatch that adds the planes
 * (and y, the bias) into y, for product_sums after a barrier. The kernel itself is unchanged: a split-K
 * form inside the NV kernel (each workgroup taking its columns from gl_WorkGroupID.z, the last of a tile
 * adding the others' sums) spilled registers and ran up to 2.7x slower on the H200 (docs/vulkan.md).
 * xbytes: bytes of an activation element.
 */
static void product_slices(struct vk_cmd *c, enum vk_pipe pp, const struct pc_mm *pc, uint32_t gx, uint32_t gy,
                           uint32_t split, uint32_t ks, enum vk_wtype wt, uint32_t xbytes, struct split_sum *sum) {
        uint64_t plane = (uint64_t) pc->n * pc->nt * 4;
        VkDeviceAddress part;

        sum->on = false;
        if (split < 2 || !c->splitk.addr || !c->pl->p[VK_P_SPLITK_SUM] ||
            c->splitk_used + plane * split > c->splitk.size) {
                vk_cmd_dispatch(c, pp, pc, sizeof *pc, gx, gy, 1);
                return;
        }
        part = c->splitk.addr + c->splitk_used;
        c->splitk_used += ALIGN_TO(plane * split, 256);
        for (uint32_t z = 0; z < split; z++) {
                struct pc_mm s = *pc;
                uint32_t kb = z * ks;
                s.w += w_offset(wt, pc->row_bytes, pc->k, kb);
                s.x += (uint64_t) kb * xbytes;
                s.k = MIN(ks, pc->k - kb);
                s.y = part + z * plane;
                s.ldy = pc->n;
                s.bias = 0;
                s.flags = pc->flags & MM_XPAD; /* the accumulation and the bias are the sum's */
                vk_cmd_dispatch(c, pp, &s, sizeof s, gx, gy, 1);
        }
        sum->pc = (struct pc_mm) {
                .x = part, .y = pc->y, .bias = pc->bias, .k = split, .n = pc->n, .nt = pc->nt, .ldy = pc->ldy,
                .flags = pc->flags & (MM_ACC | MM_BIAS),
        };
        sum->on = true;
}

/* The sums of products recorded side by side (product_slices), after one barrier for all of them. */
static void product_sums(struct vk_cmd *c, const struct split_sum *sums, size_t n) {
        bool any = false;
        for (size_t i = 0; i < n; i++)
                any |= sums[i].on;
        if (!any)
                return;
        /* The planes stay taken until the caller's next barrier: the sums read them after this one. */
        uint64_t used = c->splitk_used;
        vk_cmd_barrier(c);
        c->splitk_used = used;
        for (size_t i = 0; i < n; i++)
                if (sums[i].on)
                        vk_cmd_dispatch(c, VK_P_SPLITK_SUM, &sums[i].pc, sizeof sums[i].pc,
                                        DIV_ROUND_UP(sums[i].pc.n, 256), sums[i].pc.nt, 1);
}

static void product(struct vk_cmd *c, enum vk_pipe pp, const struct pc_mm *pc, uint32_t gx, uint32_t gy,
                    uint32_t split, uint32_t ks, enum vk_wtype wt, uint32_t xbytes) {
        struct split_sum sum;

        product_slices(c, pp, pc, gx, gy, split, ks, wt, xbytes, &sum);
        product_sums(c, &sum, 1);
}

/*
 * A padded batch's last token tile costs as much as a whole one (MM_XPAD), so a 300-token batch on the
 * wide tile (256) multiplies 512 tokens. llama.cpp's kernel of this kind runs that tile as a matrix of a
 * half or a quarter of its tokens. Here the tokens past the last whole tile are a product of their own,
 * its tile and split picked for its token count by the same rule (vk_cm2_pick), recorded beside the
 * first (no barrier between: their outputs are apart; one barrier for both products' split sums): 300
 * tokens as 256 on the wide tile and 44 on the small one. Only where that saves a narrow tile's tokens
 * or more, so only after the wide tile. H100 (run185.sh, 300 tokens, us): after the wide tile Q4_K 14336
 * x 4096 306-313 -> 250, Q4_0 18944 x 3584 397-399 -> 280-281; after the narrow one (saving 64 tokens)
 * Q4_0 3584 x 18944 306-307 -> 331 and 3584 x 3584 69 -> 71 slower, Q4_K 4096 x 14336 and 4096 x 4096
 * within 1%. Whole models at pp300 with this rule: Qwen2.5 7B Q4_0 8,481 -> 9,603 t/s, Llama 3 8B Q4_K
 * mix 6,983 -> 7,633 (7,319 with the tail after narrow tiles too). A first form put the tail on the
 * smallest tile that held it, unsplit and after the first product's sum: its few workgroups then ran
 * the whole rows alone, and the 7B's pp300 fell from 8,521 to 6,461 (run184.sh). Where (cm2_tail): the
 * tail's tile (or 0), *tbn its tokens, *split and *ks its slices.
 */
enum vk_pipe vk_cm2_tail(const struct vk_cmd *c, enum vk_wtype wt, uint32_t n, uint32_t k, uint32_t nt, uint32_t bn,
                         uint32_t *tbn, uint32_t *split, uint32_t *ks) {
        const struct vk_pipelines *p = c->pl;
        uint32_t rest = bn ? nt % bn : 0;
        enum vk_pipe tp;

        if (!p->cm2_tail || !c->x16_pad || nt < bn || rest == 0)
                return 0;
        tp = vk_cm2_pick(p, wt, n, k, rest, c->splitk.addr != 0, true, tbn, split, ks);
        /* only where it saves at least a narrow tile's tokens (a wide batch tile) */
        return *tbn && DIV_ROUND_UP(rest, *tbn) * *tbn + p->cm2_bn <= bn ? tp : 0;
}

void vk_op_matmul(struct vk_cmd *c, enum vk_wtype wt, VkDeviceAddress w, uint32_t row_bytes, uint32_t k, uint32_t n,
                  VkDeviceAddress x, VkDeviceAddress x16, uint32_t ldx, uint32_t nt, VkDeviceAddress y, uint32_t ldy,
                  VkDeviceAddress bias, bool acc) {
        struct pc_mm pc = {
                .w = w, .x = x, .y = y, .bias = bias,
                .k = k, .n = n, .nt = nt, .row_bytes = row_bytes,
                .ldx = ldx, .ldy = ldy,
                .flags = (acc ? MM_ACC : 0) | (bias ? MM_BIAS : 0),
                .scale = 1.0f,
        };
        uint32_t gx, gy, ks = 0, split_force = c->pl->split_force, split = 1;

        if (split_force > 1 && k > 256)
                split = split_slices(k, split_force, &ks);
        if (nt == 1 && c->pl->p[VK_P_MATVEC1 + wt]) {
                grid_1d(DIV_ROUND_UP(n, c->pl->matvec1_rows), &gx, &gy);
                vk_cmd_dispatch(c, VK_P_MATVEC1 + wt, &pc, sizeof pc, gx, gy, 1);
        } else if (nt <= MATVEC_MAX_TOKENS) {
                grid_1d(DIV_ROUND_UP(n, vk_matvec_wide(wt) ? c->pl->matvec_wide_rows : c->pl->matvec_rows), &gx,
                        &gy);
                vk_cmd_dispatch(c, VK_P_MATVEC + wt, &pc, sizeof pc, gx, gy, 1);
        } else if (x16 && c->pl->coopmat2 && !c->exact && c->pl->p[VK_P_MATMUL_CM2 + wt]) {
                uint32_t bn, tx = DIV_ROUND_UP(n, 128);
                bool can_split = c->splitk.addr != 0;
                enum vk_pipe pp = split_force
                                          ? cm2_pick_rounds(c->pl, wt, n, k, nt, split, &bn)
                                          : vk_cm2_pick(c->pl, wt, n, k, nt, can_split, c->x16_pad, &bn, &split, &ks);
                pc.x = x16;
                pc.flags |= c->x16_pad ? MM_XPAD : 0;
                uint32_t tbn = 0, tsplit = 1, tks = 0;
                enum vk_pipe tp = split_force ? 0 : vk_cm2_tail(c, wt, n, k, nt, bn, &tbn, &tsplit, &tks);
                if (tp) {
                        /* the whole tiles as picked for the batch, then the tail at its offset */
                        struct pc_mm tl = pc;
                        struct split_sum sums[2];
                        uint32_t nw = nt - nt % bn;
                        pc.nt = nw;
                        product_slices(c, pp, &pc, tx, nw / bn, split, ks, wt, 2, &sums[0]);
                        tl.x += (uint64_t) nw * ldx * 2;
                        tl.y += (uint64_t) nw * ldy * 4;
                        tl.nt = nt - nw;
                        product_slices(c, tp, &tl, tx, DIV_ROUND_UP(tl.nt, tbn), tsplit, tks, wt, 2, &sums[1]);
                        product_sums(c, sums, 2);
                } else
                        product(c, pp, &pc, tx, DIV_ROUND_UP(nt, bn), split, ks, wt, 2);
        } else if (x16 && c->pl->coopmat && !c->exact && c->pl->p[VK_P_MATMUL_CM + wt]) {
                /* The wide tile dequantizes each weight tile for more tokens; the narrow one wastes
                 * less on short batches. */
                int i = c->pl->cm_force >= 0 ? c->pl->cm_force : nt >= CM_WIDE_MIN_TOKENS ? 0 : 1;
                const struct vk_cm_tile *tl = &c->pl->cm_tile[i];
                pc.x = x16;
                product(c, (i == 0 ? VK_P_MATMUL_CM : VK_P_MATMUL_CM_NARROW) + wt, &pc, DIV_ROUND_UP(n, tl->bm),
                        DIV_ROUND_UP(nt, tl->bn), split, ks, wt, 2);
        } else
                product(c, VK_P_MATMUL + wt, &pc, DIV_ROUND_UP(n, 64), DIV_ROUND_UP(nt, 64), split, ks, wt, 4);
}

void vk_op_get_rows(struct vk_cmd *c, enum vk_wtype wt, VkDeviceAddress w, uint32_t row_bytes, uint32_t k,
                    VkDeviceAddress ids, uint32_t nt, VkDeviceAddress y, uint32_t ldy, float scale) {
        struct pc_mm pc = {
                .w = w, .x = ids, .y = y, .k = k, .nt = nt, .row_bytes = row_bytes, .ldy = ldy, .scale = scale,
        };

        vk_cmd_dispatch(c, VK_P_GET_ROWS + wt, &pc, sizeof pc, nt, 1, 1);
}

void vk_op_norm(struct vk_cmd *c, const struct pc_norm *pc) {
        bool rows = pc->rows > 1 && c->pl->p[VK_P_NORM_ROWS] && pc->n <= c->pl->norm_rows_n;
        vk_cmd_dispatch(c, rows ? VK_P_NORM_ROWS : VK_P_NORM, pc, sizeof *pc, pc->rows, 1, 1);
}

void vk_op_qkv(struct vk_cmd *c, const struct pc_qkv *pc) {
        vk_cmd_dispatch(c, VK_P_QKV, pc, sizeof *pc, pc->n_head + 2 * pc->n_head_kv, pc->nt, 1);
}

/* attn_cm2.comp reads a workgroup's cache rows as one strip of slots from its first visible position's
 * to its last's, so the positions the step sees must not wrap around the ring; its WRAP form walks them
 * on past the ring's end, so they must only fit in it. Which one runs the step: VK_P_ATTN_CM2 or
 * VK_P_ATTN_CM2_WRAP, or 0 for neither. */
static enum vk_pipe attn_cm2_pipe(const struct vk_cmd *c, const struct pc_attn *pc, int32_t pos0) {
        if (!c->pl->p[VK_P_ATTN_CM2] || c->exact || pos0 < 0 || pc->nt == 0 || pc->ring == 0 ||
            pc->head_dim != c->pl->attn_cm_d || pc->head_dim_v != c->pl->attn_cm_d)
                return 0;
        uint64_t lo = pc->window && (uint32_t) pos0 >= pc->window ? (uint64_t) pos0 - pc->window + 1 : 0;
        uint64_t hi = (uint64_t) pos0 + pc->nt - 1;
        if (lo % pc->ring + (hi - lo) < pc->ring)
                return VK_P_ATTN_CM2;
        return hi - lo < pc->ring && c->pl->p[VK_P_ATTN_CM2_WRAP] ? VK_P_ATTN_CM2_WRAP : 0;
}

bool vk_attn_cm2_ok(const struct vk_cmd *c, const struct pc_attn *pc, int32_t pos0) {
        return attn_cm2_pipe(c, pc, pos0) != 0;
}

/* A counter per (query block, head): at most one a token. Sized for the scratch's capacity, not the
 * step, so that a longer step's counters never lie where a shorter one left partials. */
size_t vk_attn_pf_cnt_bytes(uint32_t nt, uint32_t n_head) {
        return ALIGN_TO((size_t) nt * n_head * 4, 256);
}

size_t vk_attn_pf_part_bytes(uint32_t nt, uint32_t n_head, uint32_t head_dim_v) {
        return vk_attn_pf_cnt_bytes(nt, n_head) + (size_t) nt * n_head * ATTN_PF_MAX_SPLIT * (head_dim_v + 4) * 4;
}

/* vk_attn_pf_split for the kernel that runs the step: attn_cm2.comp where nv, else attn_cm.comp. */
static uint32_t pf_split(const struct vk_cmd *c, const struct pc_attn *pc, int32_t pos0, bool nv, uint32_t *chunk) {
        uint32_t mode = c->pl->attn_pf_split;
        uint32_t bkv = nv ? c->pl->attn_cm2_bkv : c->pl->attn_cm_bkv;
        uint32_t bq = nv ? c->pl->attn_cm2_bq : c->pl->attn_cm_bq;
        uint32_t qb = DIV_ROUND_UP(pc->nt, MAX(bq, 1u)), wgs = pc->n_head * qb, n;

        *chunk = 0;
        if (pos0 < 0 || bkv == 0 || pc->nt == 0 || mode == 0)
                return 1;
        /* The longest span a query block sees: the last block's, from its first visible position. */
        uint64_t last = (uint64_t) pos0 + pc->nt - 1, first = (uint64_t) pos0 + (uint64_t) (qb - 1) * bq;
        uint64_t lo = pc->window && first >= pc->window ? first - pc->window + 1 : 0, span = last - lo + 1;
        /* Splits where the grid is under 4 workgroups a multiprocessor, each of at least 4 blocks: the
         * merge reads every split's rows once more. Unknown multiprocessor counts: no split. On the NV
         * kernel only where the grid is under one workgroup a multiprocessor: on the H100 (run119.sh,
         * run120.sh) 3 splits of Qwen2.5 7B's 224 workgroups took pp512 at depth 4096 from 9,201 to
         * 8,998 t/s, while 8 of Gemma 3 1B's 64 took it from 23,492 to 28,387 (4: 25,920); Gemma 3
         * 4B's 128 within 1% split or not.
         * Heads over 128 on the NV kernel over spans of 1,024 positions or more take llama.cpp's count
         * instead, one wave of two workgroups a multiprocessor (2 x 132 / workgroups, rounded down):
         * with its unchecked loads (run164.sh) Gemma 3 4B's global layer after 4,096 positions took 203 us
         * in 2 splits against 264 in the 5 above, its wrapped sliding step 74 against 119, the 1B's global
         * layer 104 in 4 against 131 in 8; whole models at depth 4096 (run165.sh, every layer so)
         * 4B Q4_K 15,107 / 15,810 against 14,687 / 15,065 t/s, 1B Q4_0 30,789 / 31,209 against 30,121 /
         * 30,835. From an empty context (spans of 512) the 4B read within 1.1% either way and keeps the
         * rule above. UNICORN_VK_ATTN_PF_SPLITS=auto4 takes the rule above everywhere. */
        bool automatic = mode == VK_ATTN_PF_AUTO || mode == VK_ATTN_PF_AUTO4;
        if (!automatic)
                n = mode;
        else if (!c->d->sm_count || (nv && wgs >= c->d->sm_count))
                n = 1;
        else if (nv && mode == VK_ATTN_PF_AUTO && pc->head_dim > 128 && span >= 1024)
                n = MAX(2 * c->d->sm_count / wgs, 1u);
        else
                n = DIV_ROUND_UP(4 * c->d->sm_count, wgs);
        n = MIN(MIN(n, ATTN_PF_MAX_SPLIT), (uint32_t) MIN(span / (automatic ? 4 * bkv : bkv), 65535ull));
        if (n <= 1)
                return 1;
        *chunk = ALIGN_TO((uint32_t) DIV_ROUND_UP(span, n), bkv);
        return (uint32_t) DIV_ROUND_UP(span, *chunk);
}

uint32_t vk_attn_pf_split(const struct vk_cmd *c, const struct pc_attn *pc, int32_t pos0, uint32_t *chunk) {
        return pf_split(c, pc, pos0, vk_attn_cm2_ok(c, pc, pos0), chunk);
}

bool vk_op_attn_prefill(struct vk_cmd *c, const struct pc_attn *pc, VkDeviceAddress dst16, int32_t pos0,
                        VkDeviceAddress part, uint32_t part_nt) {
        struct pc_attn a = *pc;

        a.chunk = 0;
        a.q8 = 0;
        a.part = 0;
        /* On the matrix cores where the f16 products run (not with exact activations): NV ones where
         * the step's positions do not wrap the ring (or where they do, by the WRAP form where made),
         * else KHR ones. Both write the f16 rows too (in q8's place: prefill has no 8-bit output), and
         * both split positions alike. */
        enum vk_pipe nvp = attn_cm2_pipe(c, pc, pos0);
        bool nv = nvp != 0;
        if (nv || (c->pl->p[VK_P_ATTN_CM] && !c->exact && pc->head_dim == c->pl->attn_cm_d &&
                   pc->head_dim_v == c->pl->attn_cm_d)) {
                uint32_t n_split = part && pc->nt <= part_nt ? pf_split(c, pc, pos0, nv, &a.chunk) : 1;
                a.q8 = dst16;
                if (n_split > 1) {
                        a.part = part;
                        a.part_off = (uint32_t) vk_attn_pf_cnt_bytes(part_nt, pc->n_head);
                } else {
                        a.chunk = 0;
                }
                vk_cmd_dispatch(c, nv ? nvp : VK_P_ATTN_CM, &a, sizeof a, pc->n_head,
                                DIV_ROUND_UP(pc->nt, nv ? c->pl->attn_cm2_bq : c->pl->attn_cm_bq), n_split);
                return dst16 != 0;
        }
        vk_cmd_dispatch(c, VK_P_ATTN_PF, &a, sizeof a, pc->n_head, DIV_ROUND_UP(pc->nt, 8), 1);
        return false;
}

bool vk_attn_q8_ok(const struct vk_cmd *c, const struct pc_attn *pc) {
        return pc->q8 && pc->nt == 1 && pc->head_dim_v % 32 == 0 && c->d->subgroup_size >= 32;
}

void vk_op_attn(struct vk_cmd *c, const struct pc_attn *pc, uint32_t n_split, VkDeviceAddress part) {
        struct pc_attn a = *pc;

        a.q8 = vk_attn_q8_ok(c, pc) ? pc->q8 : 0;
        /* Split-K merges in its last workgroup per (token, head): one dispatch either way. */
        if (n_split <= 1 || !part || pc->nt > ATTN_SPLIT_TOKENS || n_split > VK_ATTN_MAX_SPLIT) {
                a.chunk = 0;
                n_split = 1;
        }
        a.part = part;
        /* attn_dec.comp where it was made for these heads: a workgroup a group of attn_dec_g heads. */
        uint32_t g = c->pl->attn_dec_g;
        if (c->pl->p[VK_P_ATTN_DEC] && pc->head_dim == c->pl->attn_dec_d && pc->head_dim_v == c->pl->attn_dec_d &&
            pc->n_head_kv && pc->n_head % pc->n_head_kv == 0 && (pc->n_head / pc->n_head_kv) % g == 0)
                vk_cmd_dispatch(c, VK_P_ATTN_DEC, &a, sizeof a, pc->n_head / g, pc->nt, n_split);
        else
                vk_cmd_dispatch(c, VK_P_ATTN, &a, sizeof a, pc->n_head, pc->nt, n_split);
}

uint32_t vk_attn_split(uint32_t len, uint32_t min_len, uint32_t *chunk) {
        static uint32_t max_split;

        if (!max_split) {
                const char *e = getenv("UNICORN_VK_ATTN_SPLITS");
                unsigned long v = e && *e ? strtoul(e, NULL, 10) : 0;
                max_split = v >= 1 && v <= VK_ATTN_MAX_SPLIT ? (uint32_t) v : VK_ATTN_MAX_SPLIT;
        }
        *chunk = 0;
        if (len < min_len || len < 2)
                return 1;
        *chunk = ALIGN_TO(MAX(DIV_ROUND_UP(len, max_split), 16u), 16u);
        return DIV_ROUND_UP(len, *chunk);
}

void vk_op_act_rows(struct vk_cmd *c, VkDeviceAddress gate, VkDeviceAddress up, uint32_t ld, uint32_t k, uint32_t nt,
                    VkDeviceAddress dst, VkDeviceAddress dst16, uint32_t op) {
        struct pc_act pc = { .gate = gate, .up = up, .dst = dst, .dst16 = dst16, .n = k * nt, .op = op, .k = k,
                             .ld = ld };
        uint32_t gx, gy;

        /* act.comp: four elements an invocation */
        grid_1d(DIV_ROUND_UP(pc.n / 4, 256), &gx, &gy);
        vk_cmd_dispatch(c, VK_P_ACT, &pc, sizeof pc, gx, gy, 1);
}

void vk_op_act(struct vk_cmd *c, VkDeviceAddress gate, VkDeviceAddress up, uint32_t n, uint32_t op) {
        vk_op_act_rows(c, gate, up, n, n, 1, gate, 0, op);
}

bool vk_op_matvec_glu(struct vk_cmd *c, enum vk_wtype wt, VkDeviceAddress gate, VkDeviceAddress up,
                      uint32_t row_bytes, uint32_t k, uint32_t n, VkDeviceAddress x, uint32_t nt, VkDeviceAddress y,
                      uint32_t op) {
        struct pc_mm pc = {
                .w = gate, .x = x, .y = y, .bias = up,
                .k = k, .n = n, .nt = nt, .row_bytes = row_bytes,
                .ldx = k, .ldy = n,
                .flags = op == ACT_GELU_TANH ? MM_GLU_GELU : 0,
                .scale = 1.0f,
        };
        uint32_t gx, gy;

        if (nt != 1 || !c->pl->glu || !c->pl->p[VK_P_MATVEC_GLU + wt])
                return false;
        grid_1d(DIV_ROUND_UP(n, c->pl->matvec_glu_rows), &gx, &gy);
        vk_cmd_dispatch(c, VK_P_MATVEC_GLU + wt, &pc, sizeof pc, gx, gy, 1);
        return true;
}

bool vk_op_matvec_q8(struct vk_cmd *c, enum vk_wtype wt, VkDeviceAddress w, uint32_t row_bytes, uint32_t k,
                     uint32_t n, VkDeviceAddress xq, VkDeviceAddress y, bool acc) {
        struct pc_mv8 pc = {
                .w = w, .x = xq, .y = y, .k = k, .n = n, .row_bytes = row_bytes, .flags = acc ? MM_ACC : 0,
        };
        uint32_t gx, gy;

        if (!c->pl->q8 || !c->pl->p[VK_P_MATVEC_Q8 + wt] || k % 32)
                return false;
        if (k >= c->pl->mv8_split4_k && n > c->pl->mv8_split4_n && c->pl->p[VK_P_MATVEC_Q8_SPLIT4 + wt]) {
                grid_1d(DIV_ROUND_UP(n, c->pl->matvec_q8_rows / c->pl->mv8_split4_g), &gx, &gy);
                vk_cmd_dispatch(c, VK_P_MATVEC_Q8_SPLIT4 + wt, &pc, sizeof pc, gx, gy, 1);
                return true;
        }
        if (k >= c->pl->mv8_split_k && c->pl->p[VK_P_MATVEC_Q8_SPLIT + wt] &&
            (!vk_mv8_unit64(wt) || n <= c->pl->mv8_split_n64)) {
                grid_1d(DIV_ROUND_UP(n, c->pl->matvec_q8_rows / c->pl->mv8_split), &gx, &gy);
                vk_cmd_dispatch(c, VK_P_MATVEC_Q8_SPLIT + wt, &pc, sizeof pc, gx, gy, 1);
                return true;
        }
        grid_1d(DIV_ROUND_UP(n, c->pl->matvec_q8_rows), &gx, &gy);
        vk_cmd_dispatch(c, VK_P_MATVEC_Q8 + wt, &pc, sizeof pc, gx, gy, 1);
        return true;
}

bool vk_op_matvec_q8n(struct vk_cmd *c, enum vk_wtype wt, VkDeviceAddress w, uint32_t row_bytes, uint32_t k,
                      uint32_t n, VkDeviceAddress xq, uint32_t nt, VkDeviceAddress y, uint32_t ldy, bool acc) {
        struct pc_mv8 pc = {
                .w = w, .x = xq, .y = y, .k = k, .n = n, .row_bytes = row_bytes, .flags = acc ? MM_ACC : 0,
                .nt = nt, .ldy = ldy,
        };
        /* the form of the fewest tokens that holds nt: the others' sums are wasted work */
        enum vk_pipe pp = nt <= 2 ? VK_P_MATVEC_Q8N2 : nt <= 4 ? VK_P_MATVEC_Q8N4 : VK_P_MATVEC_Q8N8;
        uint32_t gx, gy;

        if (!c->pl->q8 || !c->pl->mv8n_split || nt < 2 || nt > VK_MV8N_MAX || !c->pl->p[pp + wt] || k % 32)
                return false;
        grid_1d(DIV_ROUND_UP(n, c->pl->mv8n_rows), &gx, &gy);
        vk_cmd_dispatch(c, pp + wt, &pc, sizeof pc, gx, gy, 1);
        return true;
}

bool vk_op_matvec_glu_q8(struct vk_cmd *c, enum vk_wtype wt, VkDeviceAddress gate, VkDeviceAddress up,
                         uint32_t row_bytes, uint32_t k, uint32_t n, VkDeviceAddress xq, VkDeviceAddress y,
                         uint32_t op) {
        struct pc_mv8 pc = {
                .w = gate, .x = xq, .y = y, .up = up, .k = k, .n = n, .row_bytes = row_bytes,
                .flags = op == ACT_GELU_TANH ? MM_GLU_GELU : 0,
        };
        uint32_t gx, gy;

        if (!c->pl->q8 || !c->pl->glu || !c->pl->p[VK_P_MATVEC_Q8_GLU + wt] || k % 32)
                return false;
        grid_1d(DIV_ROUND_UP(n, c->pl->matvec_q8_rows), &gx, &gy);
        vk_cmd_dispatch(c, VK_P_MATVEC_Q8_GLU + wt, &pc, sizeof pc, gx, gy, 1);
        return true;
}

bool vk_mv8s_ok(const struct vk_pipelines *pl, enum vk_wtype wt, uint32_t k, bool glu) {
        return pl->q8 && k % 32 == 0 && k <= pl->mv8s_k && (!glu || pl->glu) &&
               pl->p[(glu ? VK_P_MATVEC_Q8S_GLU : VK_P_MATVEC_Q8S) + wt];
}

/* The staged forms: up = 0 for the plain one, else the GLU form with gate = w (yq: its 8-bit output). */
static bool mv8s(struct vk_cmd *c, enum vk_wtype wt, VkDeviceAddress w, VkDeviceAddress up, uint32_t row_bytes,
                 uint32_t k, uint32_t n, const struct vk_xrow *x, VkDeviceAddress y, VkDeviceAddress yq,
                 uint32_t flags) {
        struct pc_mv8 pc = {
                .w = w, .x = x->x, .y = y, .up = up, .g = x->g, .t = x->t, .wt = x->wt, .xo = x->xo, .yq = yq,
                .k = k, .n = n, .row_bytes = row_bytes,
                .flags = flags | (x->norm ? MV8_NORM : 0) | (x->t ? MV8_POST : 0), .eps = x->eps,
        };
        uint32_t gx, gy, blocks, cap = c->pl->mv8s_grid;
        int pipe = up ? VK_P_MATVEC_Q8S_GLU : VK_P_MATVEC_Q8S;

        if (!vk_mv8s_ok(c->pl, wt, k, up != 0))
                return false;
        if (yq) {
                if (!up || n % 32 || !c->pl->p[VK_P_MATVEC_Q8S_GLUQ + wt])
                        return false;
                pipe = VK_P_MATVEC_Q8S_GLUQ;
                blocks = n / 32;
                cap = c->pl->mv8sq_grid;
        } else
                blocks = DIV_ROUND_UP(n, c->pl->matvec_q8s_rows);
        grid_1d(cap ? MIN(blocks, cap) : blocks, &gx, &gy);
        vk_cmd_dispatch(c, pipe + wt, &pc, sizeof pc, gx, gy, 1);
        return true;
}

bool vk_op_matvec_q8s(struct vk_cmd *c, enum vk_wtype wt, VkDeviceAddress w, uint32_t row_bytes, uint32_t k,
                      uint32_t n, const struct vk_xrow *x, VkDeviceAddress y, bool acc) {
        return mv8s(c, wt, w, 0, row_bytes, k, n, x, y, 0, acc ? MM_ACC : 0);
}

bool vk_op_matvec_glu_q8s(struct vk_cmd *c, enum vk_wtype wt, VkDeviceAddress gate, VkDeviceAddress up,
                          uint32_t row_bytes, uint32_t k, uint32_t n, const struct vk_xrow *x, VkDeviceAddress y,
                          uint32_t op) {
        return up && mv8s(c, wt, gate, up, row_bytes, k, n, x, y, 0, op == ACT_GELU_TANH ? MM_GLU_GELU : 0);
}

bool vk_op_matvec_glu_q8s_q(struct vk_cmd *c, enum vk_wtype wt, VkDeviceAddress gate, VkDeviceAddress up,
                            uint32_t row_bytes, uint32_t k, uint32_t n, const struct vk_xrow *x, VkDeviceAddress y,
                            VkDeviceAddress yq, uint32_t op) {
        return up && yq && mv8s(c, wt, gate, up, row_bytes, k, n, x, y, yq, op == ACT_GELU_TANH ? MM_GLU_GELU : 0);
}

void vk_op_prefetch(struct vk_cmd *c, VkDeviceAddress a, uint64_t bytes) {
        /* shaders/prefetch.comp: 256 invocations of 8 units of 16 bytes a workgroup. */
        const uint64_t per_wg = 256 * 8 * 16;
        struct pc_mm pc = { .w = a };

        bytes = MIN(bytes, (uint64_t) UINT16_MAX * per_wg);
        if (bytes < 16)
                return;
        pc.n = (uint32_t) (bytes / 16);
        vk_cmd_dispatch(c, VK_P_PREFETCH, &pc, sizeof pc, (uint32_t) DIV_ROUND_UP(bytes, per_wg), 1, 1);
}

void vk_op_quantx(struct vk_cmd *c, VkDeviceAddress x, uint32_t ldx, uint32_t k, uint32_t nt, VkDeviceAddress q) {
        struct pc_mm pc = { .x = x, .y = q, .k = k, .nt = nt, .ldx = ldx, .ldy = vk_q8_row_bytes(k) };

        vk_cmd_dispatch(c, VK_P_QUANTX, &pc, sizeof pc, DIV_ROUND_UP(k / 32, 64), nt, 1);
}
