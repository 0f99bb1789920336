/* SPDX-License-Identifier: MIT */
/*
 * Token sampling, llama.cpp's default chain (see sampler.h), and stop strings.
 *
 * This runs once per generated token over up to 262144 logits, so no step
 * sorts the whole vocabulary: top-k is a bounded heap selection, top-p
 * without top-k a histogram of the probability mass (top_p_whole_vocab), and
 * min-p a threshold on the logits.
 */

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errorf.h"
#include "sampler.h"

/* top-p without top-k: histogram bins over the EXP_CUTOFF range of logits. */
#define TOP_P_BINS 1024
/* exp(-EXP_CUTOFF) of the best token's weight, times the largest vocabulary,
 * is far below float rounding of the sum; such tokens are left out of the
 * normaliser rather than paying an expf() for each. */
#define EXP_CUTOFF 30.0f

struct cand {
        float logit;
        int32_t id;
};

struct Sampler {
        struct sampler_params p;
        size_t n_vocab;
        uint64_t rng[4];

        /* Accepted tokens, oldest first; only the last penalty_last_n matter. */
        int32_t *hist;
        size_t n_hist, cap_hist;
        /* Per-token occurrence counts, all zero between calls (penalties). */
        int32_t *counts;

        struct cand *cand; /* n_vocab */
};


void sampler_params_default(struct sampler_params *p) {
        *p = (struct sampler_params) {
                .temperature = 0.8f,
                .top_k = 40,
                .top_p = 0.95f,
                .min_p = 0.05f,
                .repeat_penalty = 1.0f,
                .presence_penalty = 0.0f,
                .frequency_penalty = 0.0f,
                .penalty_last_n = 64,
                .seed = 0,
        };
}

int sampler_params_check(const struct sampler_params *p, char *ret_error, size_t error_size) {
        static const struct {
                const char *name;
                size_t offset;
        } floats[] = {
                { "temperature", offsetof(struct sampler_params, temperature) },
                { "top_p", offsetof(struct sampler_params, top_p) },
                { "min_p", offsetof(struct sampler_params, min_p) },
                { "repeat_penalty", offsetof(struct sampler_params, repeat_penalty) },
                { "presence_penalty", offsetof(struct sampler_params, presence_penalty) },
                { "frequency_penalty", offsetof(struct sampler_params, frequency_penalty) },
        };

        if (!p)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(floats); i++) {
                float v;
                memcpy(&v, (const char *) p + floats[i].offset, sizeof v);
                if (!isfinite(v)) {
                        set_error(ret_error, error_size, "%s must be a finite number", floats[i].name);
                        return -EINVAL;
                }
        }
        if (p->temperature < 0) {
                set_error(ret_error, error_size, "temperature must be >= 0 (0: greedy), got %g",
                          (double) p->temperature);
                return -EINVAL;
        }
        if (!(p->top_p > 0 && p->top_p <= 1)) {
                set_error(ret_error, error_size, "top_p must be in (0, 1], got %g", (double) p->top_p);
                return -EINVAL;
        }
        if (!(p->min_p >= 0 && p->min_p <= 1)) {
                set_error(ret_error, error_size, "min_p must be in [0, 1], got %g", (double) p->min_p);
                return -EINVAL;
        }
        if (!(p->repeat_penalty > 0)) {
                set_error(ret_error, error_size, "repeat_penalty must be > 0 (1: off), got %g",
                          (double) p->repeat_penalty);
                return -EINVAL;
        }
        if (p->penalty_last_n < -1) {
                set_error(ret_error, error_size, "penalty_last_n must be >= -1 (-1: whole context), got %d",
                          (int) p->penalty_last_n);
                return -EINVAL;
        }
        return 0;
}

/* xoshiro256**, seeded through splitmix64 so that any seed (0 included) gives
 * a well-mixed, non-zero state. */
static uint64_t splitmix64(uint64_t *x) {
        uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) {
        return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(uint64_t s[4]) {
        uint64_t result = rotl(s[1] * 5, 7) * 9;
        uint64_t t = s[1] << 17;

        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        return result;
}

/* Uniform in [0, 1). */
static double rng_uniform(uint64_t s[4]) {
        return (double) (rng_next(s) >> 11) * 0x1.0p-53;
}

static void rng_seed(uint64_t s[4], uint64_t seed) {
        uint64_t x = seed;
        for (size_t i = 0; i < 4; i++)
                s[i] = splitmix64(&x);
}

int sampler_new(const struct sampler_params *p, size_t n_vocab, Sampler **ret) {
        int r;

        if (!p || !ret || n_vocab == 0 || n_vocab > INT32_MAX)
                return -EINVAL;
        r = sampler_params_check(p, NULL, 0);
        if (r < 0)
                return r;

        Sampler *s = new0(Sampler, 1);
        if (!s)
                return -ENOMEM;
        s->p = *p;
        s->n_vocab = n_vocab;
        s->cand = newa(struct cand, n_vocab);
        if (!s->cand) {
                sampler_free(s);
                return -ENOMEM;
        }
        rng_seed(s->rng, p->seed);
        *ret = s;
        return 0;
}

Sampler *sampler_free(Sampler *s) {
        if (!s)
                return NULL;
        free(s->hist);
        free(s->counts);
        free(s->cand);
        free(s);
        return NULL;
}

void sampler_reset(Sampler *s) {
        if (!s)
                return;
        s->n_hist = 0;
        rng_seed(s->rng, s->p.seed);
}

static bool penalties_on(const Sampler *s) {
        return s->p.penalty_last_n != 0 &&
               (s->p.repeat_penalty != 1.0f || s->p.presence_penalty != 0.0f || s->p.frequency_penalty != 0.0f);
}

void sampler_accept(Sampler *s, int32_t token) {
        if (!s || token < 0 || (size_t) token >= s->n_vocab || !penalties_on(s))
                return;

        size_t keep = s->p.penalty_last_n > 0 ? (size_t) s->p.penalty_last_n : SIZE_MAX;
        if (s->n_hist == s->cap_hist) {
                /* A bounded window slides by moving its tail to the front once
                 * the buffer is twice its size: amortised O(1) per token. */
                if (keep != SIZE_MAX && s->n_hist >= keep && s->cap_hist >= 2 * keep) {
                        memmove(s->hist, s->hist + s->n_hist - (keep - 1), (keep - 1) * sizeof(int32_t));
                        s->n_hist = keep - 1;
                } else {
                        size_t cap = s->cap_hist ? s->cap_hist * 2 : 256;
                        if (keep != SIZE_MAX)
                                cap = MIN(cap, MAX(2 * keep, (size_t) 256));
                        int32_t *h = cap > s->cap_hist ? realloc(s->hist, cap * sizeof(int32_t)) : NULL;
                        if (!h) {
                                /* No memory (void API): forget the older half
                                 * rather than the new token. */
                                if (s->n_hist == 0)
                                        return;
                                size_t half = s->n_hist / 2;
                                memmove(s->hist, s->hist + half, (s->n_hist - half) * sizeof(int32_t));
                                s->n_hist -= half;
                        } else {
                                s->hist = h;
                                s->cap_hist = cap;
                        }
                }
        }
        s->hist[s->n_hist++] = token;
}

/* llama.cpp's penalties: every distinct token of the window is penalised once,
 * the frequency term scaled by its count. */
static void apply_penalties(Sampler *s, float *logits) {
        if (!penalties_on(s) || s->n_hist == 0)
                return;
        if (!s->counts) {
                s->counts = new0(int32_t, s->n_vocab);
                if (!s->counts)
                        return;
        }

        size_t n = s->n_hist;
        if (s->p.penalty_last_n > 0)
                n = MIN(n, (size_t) s->p.penalty_last_n);
        const int32_t *w = s->hist + s->n_hist - n;

        for (size_t i = 0; i < n; i++)
                s->counts[w[i]]++;
        for (size_t i = 0; i < n; i++) {
                int32_t c = s->counts[w[i]];
                if (c == 0)
                        continue; /* already done */
                float *l = &logits[w[i]];
                if (*l <= 0)
                        *l *= s->p.repeat_penalty;
                else
                        *l /= s->p.repeat_penalty;
                *l -= (float) c * s->p.frequency_penalty + s->p.presence_penalty;
                s->counts[w[i]] = 0;
        }
}

/* NaN logits (a broken model) must not poison comparisons: they lose. */
static inline float sane(float x) {
        return isnan(x) ? -INFINITY : x;
}

/* Strict order: higher logit first, then lower id, so results are
 * deterministic whatever the selection algorithm did. */
static inline bool better(const struct cand *a, const struct cand *b) {
        return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

static int cand_cmp(const void *x, const void *y) {
        const struct cand *a = x, *b = y;
        return better(a, b) ? -1 : better(b, a) ? 1 : 0;
}

static void heap_sift_down(struct cand *h, size_t n, size_t i) {
        /* Min-heap by `better`: the root is the worst of the kept tokens. */
        for (;;) {
                size_t l = 2 * i + 1, r = l + 1, m = i;
                if (l < n && better(&h[m], &h[l]))
                        m = l;
                if (r < n && better(&h[m], &h[r]))
                        m = r;
                if (m == i)
                        return;
                struct cand tmp = h[i];
                h[i] = h[m];
                h[m] = tmp;
                i = m;
        }
}

/* The k best of all logits into out[0..k), sorted best first. O(n log k) at
 * worst, about one comparison per logit in practice. */
static size_t select_top(const float *logits, size_t n_vocab, size_t k, struct cand *out) {
        k = MIN(k, n_vocab);
        for (size_t i = 0; i < k; i++)
                out[i] = (struct cand) { sane(logits[i]), (int32_t) i };
        for (size_t i = k / 2; i-- > 0;)
                heap_sift_down(out, k, i);
        /* Later ids lose ties, so only a strictly larger logit gets in; NaN
         * compares false and never does. */
        float thr = out[0].logit;
        for (size_t i = k; i < n_vocab; i++) {
                if (_likely_(!(logits[i] > thr)))
                        continue;
                out[0] = (struct cand) { logits[i], (int32_t) i };
                heap_sift_down(out, k, 0);
                thr = out[0].logit;
        }
        qsort(out, k, sizeof *out, cand_cmp);
        return k;
}

/* The smallest best-first prefix of sorted c[0..n) whose probability (with
 * normaliser z relative to max logit m) reaches top_p; 0 if it does not. */
static size_t top_p_prefix(const struct cand *c, size_t n, float m, double z, float top_p) {
        double cum = 0;
        for (size_t i = 0; i < n; i++) {
                cum += exp((double) (c[i].logit - m)) / z;
                if (cum >= top_p)
                        return i + 1;
        }
        return 0;
}

/*
 * top-p without top-k, in two passes over the vocabulary and no full sort: a
 * histogram of probability mass by logit (bins of EXP_CUTOFF / TOP_P_BINS
 * below the best) finds the bin where the cumulative mass crosses top_p;
 * every token above it is in the nucleus whatever its exact rank, and only
 * that one bin is sorted to find where the nucleus ends. Fills s->cand with
 * the nucleus, not sorted, and returns its size.
 */
static size_t top_p_whole_vocab(Sampler *s, const float *logits, float top_p) {
        const float scale = (float) TOP_P_BINS / EXP_CUTOFF;
        struct cand *c = s->cand;
        size_t nv = s->n_vocab, n = 0, nb = 0, cross = TOP_P_BINS;
        double mass[TOP_P_BINS] = {};
        double z = 0, cum = 0;
        float m = -INFINITY;

        for (size_t i = 0; i < nv; i++)
                if (logits[i] > m) /* NaN compares false */
                        m = logits[i];
        if (!isfinite(m)) {
                for (size_t i = 0; i < nv; i++)
                        c[i] = (struct cand) { sane(logits[i]), (int32_t) i };
                return nv;
        }

#define BIN(l) MIN((size_t) ((m - (l)) * scale), (size_t) TOP_P_BINS - 1)
        for (size_t i = 0; i < nv; i++)
                if (logits[i] > m - EXP_CUTOFF) {
                        float w = expf(logits[i] - m);
                        z += w;
                        mass[BIN(logits[i])] += w;
                }
        for (size_t b = 0; b < TOP_P_BINS; b++) {
                if (cum + mass[b] >= top_p * z) {
                        cross = b;
                        break;
                }
                cum += mass[b];
        }
        /* cross == TOP_P_BINS (rounding kept the sum below top_p): all stay. */

        /* Tokens above the crossing bin go to the front, the bin's own to the
         * back; they cannot meet, both together are at most nv. */
        for (size_t i = 0; i < nv; i++) {
                if (!(logits[i] > m - EXP_CUTOFF))
                        continue;
                size_t b = BIN(logits[i]);
                if (b < cross)
                        c[n++] = (struct cand) { logits[i], (int32_t) i };
                else if (b == cross)
                        c[nv - ++nb] = (struct cand) { logits[i], (int32_t) i };
        }
#undef BIN
        /* Collected backwards: reverse to id order, which is already the
         * sorted order when the bin's logits are all equal (flat logits). */
        struct cand *edge = c + nv - nb;
        bool is_sorted = true;
        for (size_t j = 0; j < nb / 2; j++) {
                struct cand t = edge[j];
                edge[j] = edge[nb - 1 - j];
                edge[nb - 1 - j] = t;
        }
        for (size_t j = 1; j < nb && is_sorted; j++)
                is_sorted = !better(&edge[j], &edge[j - 1]);
        if (!is_sorted)
                qsort(edge, nb, sizeof *edge, cand_cmp);
        for (size_t j = 0; j < nb; j++) {
                cum += expf(edge[j].logit - m);
                c[n++] = edge[j]; /* n <= nv - nb + j: never past what is read */
                if (cum >= top_p * z)
                        break;
        }
        return n;
}

int32_t sampler_sample(Sampler *s, float *logits) {
        if (!s || !logits)
                return -EINVAL;

        const struct sampler_params *p = &s->p;
        struct cand *c = s->cand;
        size_t n;
        bool sorted = false;

        apply_penalties(s, logits);

        if (p->temperature <= 0) {
                size_t best = 0;
                float bl = sane(logits[0]);
                for (size_t i = 1; i < s->n_vocab; i++)
                        if (logits[i] > bl) { /* strict: ties keep the lowest id; NaN is false */
                                bl = logits[i];
                                best = i;
                        }
                return (int32_t) best;
        }

        /* top-k */
        if (p->top_k > 0 && (size_t) p->top_k < s->n_vocab) {
                n = select_top(logits, s->n_vocab, (size_t) p->top_k, c);
                sorted = true;
        } else if (p->top_p < 1.0f)
                n = top_p_whole_vocab(s, logits, p->top_p);
        else if (p->min_p > 0) {
                /* min-p alone: filter while building the candidates. */
                float m = -INFINITY;
                for (size_t i = 0; i < s->n_vocab; i++)
                        if (logits[i] > m)
                                m = logits[i];
                float thr = isfinite(m) ? m + logf(p->min_p) : -INFINITY;
                n = 0;
                for (size_t i = 0; i < s->n_vocab; i++)
                        if (!isfinite(m) || logits[i] >= thr)
                                c[n++] = (struct cand) { sane(logits[i]), (int32_t) i };
        } else {
                n = s->n_vocab;
                for (size_t i = 0; i < n; i++)
                        c[i] = (struct cand) { sane(logits[i]), (int32_t) i };
        }

        /* top-p over what top-k kept (the whole-vocabulary case is done). */
        if (p->top_p < 1.0f && p->top_k > 0 && (size_t) p->top_k < s->n_vocab && n > 1) {
                float m = c[0].logit;
                double z = 0;
                for (size_t i = 0; i < n; i++)
                        z += exp((double) (c[i].logit - m));
                size_t keep = isfinite(m) ? top_p_prefix(c, n, m, z, p->top_p) : 0;
                if (keep > 0)
                        n = keep;
        }

        /* min-p: p >= min_p * p_max ⇔ logit >= max + log(min_p); no softmax. */
        if (p->min_p > 0 && n > 1) {
                float m = -INFINITY;
                if (sorted)
                        m = c[0].logit;
                else
                        for (size_t i = 0; i < n; i++)
                                m = MAX(m, c[i].logit);
                if (isfinite(m)) {
                        float thr = m + logf(p->min_p);
                        size_t o = 0;
                        for (size_t i = 0; i < n; i++)
                                if (c[i].logit >= thr)
                                        c[o++] = c[i];
                        n = o; /* the best token always passes */
                }
        }

        /* temperature, softmax, draw */
        float m = -INFINITY;
        for (size_t i = 0; i < n; i++)
                m = MAX(m, c[i].logit);
        if (!isfinite(m)) {
                /* All -inf (or a +inf): the best candidate, deterministically. */
                size_t best = 0;
                for (size_t i = 1; i < n; i++)
                        if (better(&c[i], &c[best]))
                                best = i;
                return c[best].id;
        }
        float inv_t = 1.0f / p->temperature;
        double z = 0;
        for (size_t i = 0; i < n; i++) {
                /* Weights go into logit; candidates are rebuilt every call.
                 * The best gets exactly 1, also when a tiny temperature
                 * makes inv_t infinite (0 * inf would be NaN). */
                float d = c[i].logit - m;
                c[i].logit = d == 0 ? 1.0f : expf(d * inv_t);
                z += c[i].logit;
        }
        double u = rng_uniform(s->rng) * z, cum = 0;
        for (size_t i = 0; i < n; i++) {
                cum += c[i].logit;
                if (u < cum)
                        return c[i].id;
        }
        /* u rounded up to z: the last token with any weight. */
        for (size_t i = n; i-- > 0;)
                if (c[i].logit > 0)
                        return c[i].id;
        return c[0].id;
}

/* Stop strings. */

int stop_matcher_init(StopMatcher *m, const char *const *stops, size_t n) {
        if (!m)
                return -EINVAL;
        *m = (StopMatcher) {};
        if (n > SAMPLER_MAX_STOP || (n > 0 && !stops))
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                size_t len = stops[i] ? strnlen(stops[i], SAMPLER_MAX_STOP_LEN + 1) : 0;
                if (len == 0 || len > SAMPLER_MAX_STOP_LEN) {
                        stop_matcher_done(m);
                        return -EINVAL;
                }
                m->stops[i] = strndup(stops[i], len);
                if (!m->stops[i]) {
                        stop_matcher_done(m);
                        return -ENOMEM;
                }
                m->n_stops = i + 1;
                m->max_len = MAX(m->max_len, len);
        }
        return 0;
}

void stop_matcher_done(StopMatcher *m) {
        if (!m)
                return;
        for (size_t i = 0; i < m->n_stops; i++)
                free(m->stops[i]);
        free(m->held);
        *m = (StopMatcher) {};
}

/* Length of the longest suffix of s[0..n) that is a proper prefix of a stop
 * string: the part that must wait for more text. */
static size_t held_suffix(const StopMatcher *m, const char *s, size_t n) {
        for (size_t len = MIN(n, m->max_len - 1); len > 0; len--)
                for (size_t i = 0; i < m->n_stops; i++) {
                        size_t sl = strlen(m->stops[i]);
                        if (len < sl && memcmp(s + n - len, m->stops[i], len) == 0)
                                return len;
                }
        return 0;
}

int stop_matcher_push(StopMatcher *m, const char *text, size_t n, bool flush, char **ret) {
        if (!m || !ret || (n > 0 && !text))
                return -EINVAL;

        if (m->stopped) {
                /* Everything after a stop string is discarded. */
                char *e = strdup("");
                if (!e)
                        return -ENOMEM;
                *ret = e;
                return 0;
        }

        size_t total;
        if (ADD_OVERFLOW(m->n_held, n, &total) || total == SIZE_MAX)
                return -ENOMEM;
        _cleanup_free_ char *buf = malloc(total + 1);
        if (!buf)
                return -ENOMEM;
        if (m->n_held > 0)
                memcpy(buf, m->held, m->n_held);
        if (n > 0)
                memcpy(buf + m->n_held, text, n);
        buf[total] = '\0';

        /* The earliest stop string wins: all text before it is released. */
        size_t cut = SIZE_MAX;
        for (size_t i = 0; i < m->n_stops; i++) {
                const char *f = memmem(buf, total, m->stops[i], strlen(m->stops[i]));
                if (f)
                        cut = MIN(cut, (size_t) (f - buf));
        }

        size_t release, keep;
        if (cut != SIZE_MAX) {
                release = cut;
                keep = 0;
                m->stopped = true;
        } else if (flush) {
                release = total;
                keep = 0;
        } else {
                keep = m->n_stops > 0 ? held_suffix(m, buf, total) : 0;
                release = total - keep;
        }

        char *h = NULL;
        if (keep > 0) {
                h = malloc(keep);
                if (!h)
                        return -ENOMEM;
                memcpy(h, buf + release, keep);
        }
        free(m->held);
        m->held = h;
        m->n_held = keep;

        /* buf becomes the released string in place. */
        buf[release] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}
