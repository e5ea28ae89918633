/*
 * pls.c: PLS path modelling engine (Wold 1982; Lohmöller 1989; Tenenhaus,
 * Esposito Vinzi, Chatelin & Lauro 2005, "PLS path modeling", CSDA 48,
 * 159-205; formulas in docs/models.md ("Satisfaction index")).
 *
 * Every step of Wold's algorithm is a linear function of the items, so the
 * whole iteration runs on the p x p covariance (or correlation) matrix of the
 * items: cov(x_i, Y_c) = (S W)_ic, cov(Y_c, Y_d) = w_c' S_cd w_d. After one
 * O(n p²) pass over the data each iteration costs O(p²), whatever n is; the
 * scores are computed once at the end. This gives the same numbers as the
 * data-matrix form of plspm and seminr, and a bootstrap resample costs one
 * weighted covariance pass.
 */
#include "internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cs_errbuf(char *errbuf, size_t size, int code, const char *fmt, ...)
{
    if (errbuf && size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, size, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ---------------------------------------------------------------------- */
/* Random numbers for the bootstrap: xoshiro256** (Blackman & Vigna 2018)
 * seeded through splitmix64; the state lives in the caller's frame. */

typedef struct pls_rng {
    uint64_t s[4];
} pls_rng;

static uint64_t pls_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static void pls_rng_seed(pls_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = pls_splitmix64(&seed);
}

static uint64_t pls_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t pls_rng_next(pls_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = pls_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = pls_rotl(s[3], 45);
    return result;
}

/* Uniform integer in [0, n): rejection on the top of the range, no modulo bias. */
static size_t pls_rng_below(pls_rng *r, size_t n)
{
    uint64_t bound = (uint64_t)n;
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t x;
    do {
        x = pls_rng_next(r);
    } while (x >= limit);
    return (size_t)(x % bound);
}

/* ---------------------------------------------------------------------- */
/* Small dense linear algebra. */

/* Solve A x = b for a symmetric positive definite m x m matrix A (row-major,
 * overwritten by its Cholesky factor); b is overwritten by x. Returns -1 when
 * A is not (numerically) positive definite. */
static int pls_solve_spd(double *a, double *b, size_t m)
{
    for (size_t j = 0; j < m; j++) {
        double d = a[j * m + j];
        for (size_t k = 0; k < j; k++)
            d -= a[j * m + k] * a[j * m + k];
        if (!(d > 1e-12 * (fabs(a[j * m + j]) + 1e-300)))
            return -1;
        d = sqrt(d);
        a[j * m + j] = d;
        for (size_t i = j + 1; i < m; i++) {
            double s = a[i * m + j];
            for (size_t k = 0; k < j; k++)
                s -= a[i * m + k] * a[j * m + k];
            a[i * m + j] = s / d;
        }
    }
    for (size_t i = 0; i < m; i++) {
        double s = b[i];
        for (size_t k = 0; k < i; k++)
            s -= a[i * m + k] * b[k];
        b[i] = s / a[i * m + i];
    }
    for (size_t i = m; i-- > 0;) {
        double s = b[i];
        for (size_t k = i + 1; k < m; k++)
            s -= a[k * m + i] * b[k];
        b[i] = s / a[i * m + i];
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* The problem: items grouped in blocks, constructs and paths. */

typedef struct pls_problem {
    size_t p, k;        /* items, constructs */
    int *block;         /* [p] construct of each item */
    size_t *order;      /* [p] items sorted by construct */
    size_t *start;      /* [k + 1] block c is order[start[c] .. start[c+1]) */
    int *mode;          /* [k] */
    unsigned char *adj; /* [k * k] from -> to */
    size_t *n_pred;     /* [k] number of predecessors */
    custscore_pls_scheme scheme;
    bool standardize;
    bool variance_n;
    bool sign_fix;
    double tol;
    int max_iter;
} pls_problem;

/* Workspace of one fit (reused across bootstrap resamples). */
typedef struct pls_work {
    double *S;    /* [p * p] covariance of the items */
    double *C;    /* [p * p] working matrix: correlation (standardised) or S */
    double *mean; /* [p] */
    double *sd;   /* [p] */
    double *w;    /* [p] outer weights */
    double *w_old;
    double *T;     /* [p * k] cov(x_i, Y_c) */
    double *V;     /* [k * k] cor(Y_c, Y_d) */
    double *E;     /* [k * k] inner weights: Z_c = sum_d E[c*k + d] Y_d */
    double *u;     /* [p] cov(x_i, Z_c) */
    double *a;     /* [max(p, k)²] scratch for solves */
    double *b;     /* [max(p, k)] */
    double *dev;   /* [p] scratch row */
    double *paths; /* [k * k] */
    double *r2;    /* [k] */
} pls_work;

static void pls_work_free(pls_work *w)
{
    cs_free(w->S);
    cs_free(w->C);
    cs_free(w->mean);
    cs_free(w->sd);
    cs_free(w->w);
    cs_free(w->w_old);
    cs_free(w->T);
    cs_free(w->V);
    cs_free(w->E);
    cs_free(w->u);
    cs_free(w->a);
    cs_free(w->b);
    cs_free(w->dev);
    cs_free(w->paths);
    cs_free(w->r2);
    memset(w, 0, sizeof *w);
}

static int pls_work_alloc(pls_work *w, size_t p, size_t k)
{
    size_t m = p > k ? p : k;
    memset(w, 0, sizeof *w);
    w->S = cs_mallocarray(p * p, sizeof(double));
    w->C = cs_mallocarray(p * p, sizeof(double));
    w->mean = cs_mallocarray(p, sizeof(double));
    w->sd = cs_mallocarray(p, sizeof(double));
    w->w = cs_mallocarray(p, sizeof(double));
    w->w_old = cs_mallocarray(p, sizeof(double));
    w->T = cs_mallocarray(p * k, sizeof(double));
    w->V = cs_mallocarray(k * k, sizeof(double));
    w->E = cs_mallocarray(k * k, sizeof(double));
    w->u = cs_mallocarray(p, sizeof(double));
    w->a = cs_mallocarray(m * m, sizeof(double));
    w->b = cs_mallocarray(m, sizeof(double));
    w->dev = cs_mallocarray(p, sizeof(double));
    w->paths = cs_mallocarray(k * k, sizeof(double));
    w->r2 = cs_mallocarray(k, sizeof(double));
    if (!w->S || !w->C || !w->mean || !w->sd || !w->w || !w->w_old || !w->T || !w->V || !w->E ||
        !w->u || !w->a || !w->b || !w->dev || !w->paths || !w->r2) {
        pls_work_free(w);
        return CUSTSCORE_ENOMEM;
    }
    return CUSTSCORE_OK;
}

/* Means and covariance of the rows of X (n x p) with multiplicities count[r]
 * (NULL: each row once); divisor N or N - 1 where N is the total count. Then
 * the working matrix. Returns -1 (with *bad_item) when an item has no
 * variance. */
static int pls_moments(const pls_problem *pp, pls_work *ws, const double *X, size_t n,
                       const unsigned *count, size_t *bad_item)
{
    size_t p = pp->p;
    double total = 0;
    memset(ws->mean, 0, p * sizeof(double));
    for (size_t r = 0; r < n; r++) {
        double c = count ? count[r] : 1.0;
        if (c == 0)
            continue;
        total += c;
        const double *x = X + r * p;
        for (size_t i = 0; i < p; i++)
            ws->mean[i] += c * x[i];
    }
    for (size_t i = 0; i < p; i++)
        ws->mean[i] /= total;
    memset(ws->S, 0, p * p * sizeof(double));
    for (size_t r = 0; r < n; r++) {
        double c = count ? count[r] : 1.0;
        if (c == 0)
            continue;
        const double *x = X + r * p;
        for (size_t i = 0; i < p; i++)
            ws->dev[i] = x[i] - ws->mean[i];
        for (size_t i = 0; i < p; i++) {
            double di = c * ws->dev[i];
            double *row = ws->S + i * p;
            for (size_t j = i; j < p; j++)
                row[j] += di * ws->dev[j];
        }
    }
    double div = pp->variance_n ? total : total - 1;
    for (size_t i = 0; i < p; i++)
        for (size_t j = i; j < p; j++) {
            ws->S[i * p + j] /= div;
            ws->S[j * p + i] = ws->S[i * p + j];
        }
    for (size_t i = 0; i < p; i++) {
        double v = ws->S[i * p + i];
        double scale = fabs(ws->mean[i]) + 1.0;
        if (!(v > 1e-24 * scale * scale)) {
            *bad_item = i;
            return -1;
        }
        ws->sd[i] = sqrt(v);
    }
    for (size_t i = 0; i < p; i++)
        for (size_t j = 0; j < p; j++)
            ws->C[i * p + j] =
                pp->standardize ? ws->S[i * p + j] / (ws->sd[i] * ws->sd[j]) : ws->S[i * p + j];
    return 0;
}

/* T = C W (cov of each item with each construct) and V = W' C W. */
static void pls_project(const pls_problem *pp, pls_work *ws)
{
    size_t p = pp->p, k = pp->k;
    for (size_t i = 0; i < p; i++) {
        const double *crow = ws->C + i * p;
        for (size_t c = 0; c < k; c++) {
            double s = 0;
            for (size_t t = pp->start[c]; t < pp->start[c + 1]; t++) {
                size_t j = pp->order[t];
                s += crow[j] * ws->w[j];
            }
            ws->T[i * k + c] = s;
        }
    }
    for (size_t c = 0; c < k; c++)
        for (size_t d = 0; d < k; d++) {
            double s = 0;
            for (size_t t = pp->start[c]; t < pp->start[c + 1]; t++) {
                size_t i = pp->order[t];
                s += ws->w[i] * ws->T[i * k + d];
            }
            ws->V[c * k + d] = s;
        }
}

/* Scale block c's weights so that its score has unit variance. */
static int pls_normalize_block(const pls_problem *pp, pls_work *ws, size_t c)
{
    size_t p = pp->p;
    double v = 0;
    for (size_t s = pp->start[c]; s < pp->start[c + 1]; s++) {
        size_t i = pp->order[s];
        for (size_t t = pp->start[c]; t < pp->start[c + 1]; t++) {
            size_t j = pp->order[t];
            v += ws->w[i] * ws->C[i * p + j] * ws->w[j];
        }
    }
    if (!(v > 0) || !isfinite(v))
        return -1;
    double f = 1.0 / sqrt(v);
    for (size_t s = pp->start[c]; s < pp->start[c + 1]; s++)
        ws->w[pp->order[s]] *= f;
    return 0;
}

/* Regression of construct c on its predecessors from the construct
 * correlations V: coefficients into coef[k] (0 elsewhere), R² returned. */
static double pls_regress(const pls_problem *pp, pls_work *ws, size_t c, double *coef,
                          int *singular)
{
    size_t k = pp->k, m = 0;
    size_t idx[64];
    size_t *pred = idx;
    size_t *heap = NULL;
    if (k > 64) {
        heap = cs_mallocarray(k, sizeof(size_t));
        if (!heap) {
            *singular = 2;
            return NAN;
        }
        pred = heap;
    }
    for (size_t d = 0; d < k; d++) {
        coef[d] = 0;
        if (pp->adj[d * k + c])
            pred[m++] = d;
    }
    double r2 = NAN;
    if (m > 0) {
        for (size_t i = 0; i < m; i++) {
            for (size_t j = 0; j < m; j++)
                ws->a[i * m + j] = ws->V[pred[i] * k + pred[j]];
            ws->b[i] = ws->V[pred[i] * k + c];
        }
        if (pls_solve_spd(ws->a, ws->b, m) != 0) {
            *singular = 1;
        } else {
            r2 = 0;
            for (size_t i = 0; i < m; i++) {
                coef[pred[i]] = ws->b[i];
                r2 += ws->b[i] * ws->V[pred[i] * k + c];
            }
        }
    }
    cs_free(heap);
    return r2;
}

/* Inner weights E from V for the chosen scheme (Tenenhaus et al. 2005,
 * section 2.2.2). Z_c = sum_d E[c][d] Y_d. */
static int pls_inner(const pls_problem *pp, pls_work *ws)
{
    size_t k = pp->k;
    for (size_t c = 0; c < k; c++) {
        for (size_t d = 0; d < k; d++) {
            double e = 0;
            bool linked = pp->adj[c * k + d] || pp->adj[d * k + c];
            if (linked) {
                double v = ws->V[c * k + d];
                if (pp->scheme == CUSTSCORE_PLS_CENTROID)
                    e = v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0);
                else
                    e = v; /* factorial; path scheme: followers */
            }
            ws->E[c * k + d] = e;
        }
        if (pp->scheme == CUSTSCORE_PLS_PATH && pp->n_pred[c] > 0) {
            /* Predecessors enter with their coefficients in the regression of
             * construct c on all its predecessors. */
            int singular = 0;
            double *coef = ws->paths + c * k; /* scratch row */
            pls_regress(pp, ws, c, coef, &singular);
            if (singular)
                return singular == 2 ? CUSTSCORE_ENOMEM : -1;
            for (size_t d = 0; d < k; d++)
                if (pp->adj[d * k + c])
                    ws->E[c * k + d] = coef[d];
        }
    }
    return 0;
}

/* Initial weights: 1 for every item, normalised (plspm and seminr). */
static int pls_init_weights(const pls_problem *pp, pls_work *ws)
{
    for (size_t i = 0; i < pp->p; i++)
        ws->w[i] = 1.0;
    for (size_t c = 0; c < pp->k; c++)
        if (pls_normalize_block(pp, ws, c) != 0)
            return -1;
    return 0;
}

enum { PLS_CONVERGED = 0, PLS_NOT_CONVERGED = 1, PLS_SINGULAR = -1 };

/* Wold's iteration from the current weights. *bad_construct is set on
 * PLS_SINGULAR. */
static int pls_iterate(const pls_problem *pp, pls_work *ws, int *iterations, double *change,
                       size_t *bad_construct)
{
    size_t p = pp->p, k = pp->k;
    *iterations = 0;
    *change = INFINITY;
    for (int it = 1; it <= pp->max_iter; it++) {
        pls_project(pp, ws);
        int rc = pls_inner(pp, ws);
        if (rc == CUSTSCORE_ENOMEM)
            return rc;
        if (rc != 0) {
            *bad_construct = SIZE_MAX;
            return PLS_SINGULAR;
        }
        memcpy(ws->w_old, ws->w, p * sizeof(double));
        /* cov(x_i, Z_c) for the items of block c. */
        for (size_t c = 0; c < k; c++)
            for (size_t t = pp->start[c]; t < pp->start[c + 1]; t++) {
                size_t i = pp->order[t];
                double s = 0;
                for (size_t d = 0; d < k; d++)
                    s += ws->E[c * k + d] * ws->T[i * k + d];
                ws->u[i] = s;
            }
        for (size_t c = 0; c < k; c++) {
            size_t m = pp->start[c + 1] - pp->start[c];
            if (pp->mode[c] == CUSTSCORE_PLS_MODE_B && m > 1) {
                /* Mode B: w_c = C_cc^-1 cov(x_c, Z_c), the regression of the
                 * inner proxy on the block. */
                for (size_t s = 0; s < m; s++) {
                    size_t i = pp->order[pp->start[c] + s];
                    for (size_t t = 0; t < m; t++)
                        ws->a[s * m + t] = ws->C[i * p + pp->order[pp->start[c] + t]];
                    ws->b[s] = ws->u[i];
                }
                if (pls_solve_spd(ws->a, ws->b, m) != 0) {
                    *bad_construct = c;
                    return PLS_SINGULAR;
                }
                for (size_t s = 0; s < m; s++)
                    ws->w[pp->order[pp->start[c] + s]] = ws->b[s];
            } else {
                /* Mode A: w_c = cov(x_c, Z_c). */
                for (size_t t = pp->start[c]; t < pp->start[c + 1]; t++)
                    ws->w[pp->order[t]] = ws->u[pp->order[t]];
            }
            if (pls_normalize_block(pp, ws, c) != 0) {
                *bad_construct = c;
                return PLS_SINGULAR;
            }
        }
        double diff = 0;
        for (size_t i = 0; i < p; i++)
            diff += fabs(ws->w[i] - ws->w_old[i]);
        *iterations = it;
        *change = diff;
        if (diff < pp->tol)
            return PLS_CONVERGED;
    }
    return PLS_NOT_CONVERGED;
}

/* Make each construct correlate positively with the majority of its items
 * (ties: with a positive sum of loadings). Needs T from pls_project(). */
static void pls_fix_signs(const pls_problem *pp, pls_work *ws)
{
    size_t k = pp->k;
    bool flipped = false;
    for (size_t c = 0; c < k; c++) {
        int pos = 0, neg = 0;
        double sum = 0;
        for (size_t t = pp->start[c]; t < pp->start[c + 1]; t++) {
            double cv = ws->T[pp->order[t] * k + c];
            pos += cv > 0;
            neg += cv < 0;
            sum += cv / sqrt(ws->C[pp->order[t] * pp->p + pp->order[t]]);
        }
        if (neg > pos || (neg == pos && sum < 0)) {
            for (size_t t = pp->start[c]; t < pp->start[c + 1]; t++)
                ws->w[pp->order[t]] = -ws->w[pp->order[t]];
            flipped = true;
        }
    }
    if (flipped)
        pls_project(pp, ws);
}

/* Path coefficients and R² of every endogenous construct from V. */
static int pls_paths(const pls_problem *pp, pls_work *ws)
{
    size_t k = pp->k;
    for (size_t c = 0; c < k; c++) {
        double coef[64];
        double *row = k <= 64 ? coef : NULL;
        double *heap = NULL;
        if (!row) {
            heap = cs_mallocarray(k, sizeof(double));
            if (!heap)
                return CUSTSCORE_ENOMEM;
            row = heap;
        }
        int singular = 0;
        ws->r2[c] = pls_regress(pp, ws, c, row, &singular);
        for (size_t d = 0; d < k; d++)
            ws->paths[d * k + c] = singular ? NAN : row[d];
        cs_free(heap);
        if (singular == 2)
            return CUSTSCORE_ENOMEM;
        if (singular)
            ws->r2[c] = NAN;
    }
    return 0;
}

/* Index weights of block c from raw weights: w / sum w when every weight is
 * non-negative and the sum positive, else NaN; returns the construct mean. */
static double pls_index_weights(const pls_problem *pp, const double *raw, const double *mean,
                                size_t c, double *out)
{
    double sum = 0;
    bool negative = false;
    for (size_t t = pp->start[c]; t < pp->start[c + 1]; t++) {
        double r = raw[pp->order[t]];
        sum += r;
        negative |= r < 0;
    }
    bool ok = !negative && sum > 0;
    double m = 0;
    for (size_t t = pp->start[c]; t < pp->start[c + 1]; t++) {
        size_t i = pp->order[t];
        double v = ok ? raw[i] / sum : NAN;
        if (out)
            out[i] = v;
        m += v * mean[i];
    }
    return ok ? m : NAN;
}

static void pls_raw_weights(const pls_problem *pp, const pls_work *ws, double *raw)
{
    for (size_t i = 0; i < pp->p; i++)
        raw[i] = pp->standardize ? ws->w[i] / ws->sd[i] : ws->w[i];
}

/* ---------------------------------------------------------------------- */
/* Model checks and setup. */

static void pls_problem_free(pls_problem *pp)
{
    cs_free(pp->block);
    cs_free(pp->order);
    cs_free(pp->start);
    cs_free(pp->mode);
    cs_free(pp->adj);
    cs_free(pp->n_pred);
    memset(pp, 0, sizeof *pp);
}

static int pls_problem_init(pls_problem *pp, size_t n_cols, const custscore_pls_model *model,
                            size_t **item_column, char *errbuf, size_t errsize)
{
    size_t k = model->n_constructs;
    memset(pp, 0, sizeof *pp);
    if (k < 2)
        return cs_errbuf(errbuf, errsize, CUSTSCORE_EINVAL,
                         "model: %zu construct(s); a path model needs at least 2", k);
    if (k > 4096)
        return cs_errbuf(errbuf, errsize, CUSTSCORE_ERANGE, "model: %zu constructs: too many", k);
    if (!model->item_construct || !model->paths)
        return cs_errbuf(errbuf, errsize, CUSTSCORE_EINVAL,
                         "model: item_construct and paths are required");
    size_t p = 0;
    for (size_t j = 0; j < n_cols; j++) {
        int c = model->item_construct[j];
        if (c < -1 || c >= (int)k)
            return cs_errbuf(errbuf, errsize, CUSTSCORE_EINVAL,
                             "model: column %zu: construct %d is not -1 or 0..%zu", j + 1, c,
                             k - 1);
        p += c >= 0;
    }
    pp->p = p;
    pp->k = k;
    pp->block = cs_mallocarray(p, sizeof(int));
    pp->order = cs_mallocarray(p, sizeof(size_t));
    pp->start = cs_calloc(k + 1, sizeof(size_t));
    pp->mode = cs_mallocarray(k, sizeof(int));
    pp->adj = cs_calloc(k * k, 1);
    pp->n_pred = cs_calloc(k, sizeof(size_t));
    *item_column = cs_mallocarray(p, sizeof(size_t));
    if (!pp->block || !pp->order || !pp->start || !pp->mode || !pp->adj || !pp->n_pred ||
        !*item_column) {
        cs_free(*item_column);
        *item_column = NULL;
        pls_problem_free(pp);
        return CUSTSCORE_ENOMEM;
    }
    size_t i = 0;
    for (size_t j = 0; j < n_cols; j++)
        if (model->item_construct[j] >= 0) {
            (*item_column)[i] = j;
            pp->block[i] = model->item_construct[j];
            pp->start[pp->block[i] + 1]++;
            i++;
        }
    for (size_t c = 0; c < k; c++)
        pp->start[c + 1] += pp->start[c];
    /* Stable counting sort of the items by construct. */
    size_t *fill = cs_mallocarray(k, sizeof(size_t));
    if (!fill) {
        cs_free(*item_column);
        *item_column = NULL;
        pls_problem_free(pp);
        return CUSTSCORE_ENOMEM;
    }
    memcpy(fill, pp->start, k * sizeof(size_t));
    for (i = 0; i < p; i++)
        pp->order[fill[pp->block[i]]++] = i;
    cs_free(fill);

    int rc = CUSTSCORE_OK;
    for (size_t c = 0; c < k && rc == 0; c++) {
        int mode = model->mode ? model->mode[c] : CUSTSCORE_PLS_MODE_A;
        if (mode != CUSTSCORE_PLS_MODE_A && mode != CUSTSCORE_PLS_MODE_B)
            rc = cs_errbuf(errbuf, errsize, CUSTSCORE_EINVAL,
                           "model: construct %zu: mode %d is not A (0) or B (1)", c, mode);
        pp->mode[c] = mode;
        if (pp->start[c + 1] == pp->start[c])
            rc = cs_errbuf(errbuf, errsize, CUSTSCORE_EINVAL, "model: construct %zu has no items",
                           c);
    }
    size_t *indeg = NULL, *queue = NULL;
    for (size_t a = 0; a < k && rc == 0; a++) {
        bool linked = false;
        for (size_t b = 0; b < k; b++) {
            if (model->paths[a * k + b]) {
                if (a == b) {
                    rc = cs_errbuf(errbuf, errsize, CUSTSCORE_EINVAL,
                                   "model: construct %zu has a path to itself", a);
                    break;
                }
                pp->adj[a * k + b] = 1;
                pp->n_pred[b]++;
            }
            linked |= model->paths[a * k + b] || model->paths[b * k + a];
        }
        if (rc == 0 && !linked)
            rc = cs_errbuf(errbuf, errsize, CUSTSCORE_EINVAL,
                           "model: construct %zu has no path to or from another construct", a);
    }
    if (rc == 0) {
        /* Kahn's algorithm: the structural model must be recursive (acyclic). */
        indeg = cs_mallocarray(k, sizeof(size_t));
        queue = cs_mallocarray(k, sizeof(size_t));
        if (!indeg || !queue) {
            rc = CUSTSCORE_ENOMEM;
        } else {
            size_t head = 0, tail = 0;
            for (size_t c = 0; c < k; c++) {
                indeg[c] = pp->n_pred[c];
                if (indeg[c] == 0)
                    queue[tail++] = c;
            }
            while (head < tail) {
                size_t a = queue[head++];
                for (size_t b = 0; b < k; b++)
                    if (pp->adj[a * k + b] && --indeg[b] == 0)
                        queue[tail++] = b;
            }
            if (tail < k)
                rc = cs_errbuf(errbuf, errsize, CUSTSCORE_EINVAL,
                               "model: the paths form a cycle (PLS path models are recursive)");
        }
    }
    cs_free(indeg);
    cs_free(queue);
    if (rc) {
        cs_free(*item_column);
        *item_column = NULL;
        pls_problem_free(pp);
    }
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Results. */

void custscore_pls_result_free(custscore_pls_result *r)
{
    if (!r)
        return;
    cs_free(r->item_column);
    cs_free(r->item_construct);
    cs_free(r->rows);
    cs_free(r->item_mean);
    cs_free(r->item_sd);
    cs_free(r->weights);
    cs_free(r->raw_weights);
    cs_free(r->index_weights);
    cs_free(r->loadings);
    cs_free(r->cross_loadings);
    cs_free(r->paths);
    cs_free(r->total_effects);
    cs_free(r->r2);
    cs_free(r->r2_adj);
    cs_free(r->alpha);
    cs_free(r->rho_c);
    cs_free(r->ave);
    cs_free(r->construct_mean);
    cs_free(r->scores);
    cs_free(r->weights_se);
    cs_free(r->weights_low);
    cs_free(r->weights_high);
    cs_free(r->paths_se);
    cs_free(r->paths_low);
    cs_free(r->paths_high);
    cs_free(r->construct_mean_se);
    cs_free(r->construct_mean_low);
    cs_free(r->construct_mean_high);
    cs_free(r);
}

static int pls_result_alloc(custscore_pls_result *r, size_t n, size_t p, size_t k, bool scores,
                            bool boot)
{
    r->item_construct = cs_mallocarray(p, sizeof(int));
    r->rows = cs_mallocarray(n, sizeof(size_t));
    r->item_mean = cs_mallocarray(p, sizeof(double));
    r->item_sd = cs_mallocarray(p, sizeof(double));
    r->weights = cs_mallocarray(p, sizeof(double));
    r->raw_weights = cs_mallocarray(p, sizeof(double));
    r->index_weights = cs_mallocarray(p, sizeof(double));
    r->loadings = cs_mallocarray(p, sizeof(double));
    r->cross_loadings = cs_mallocarray(p * k, sizeof(double));
    r->paths = cs_mallocarray(k * k, sizeof(double));
    r->total_effects = cs_mallocarray(k * k, sizeof(double));
    r->r2 = cs_mallocarray(k, sizeof(double));
    r->r2_adj = cs_mallocarray(k, sizeof(double));
    r->alpha = cs_mallocarray(k, sizeof(double));
    r->rho_c = cs_mallocarray(k, sizeof(double));
    r->ave = cs_mallocarray(k, sizeof(double));
    r->construct_mean = cs_mallocarray(k, sizeof(double));
    if (scores)
        r->scores = cs_mallocarray(n * k, sizeof(double));
    if (!r->item_construct || !r->rows || !r->item_mean || !r->item_sd || !r->weights ||
        !r->raw_weights || !r->index_weights || !r->loadings || !r->cross_loadings || !r->paths ||
        !r->total_effects || !r->r2 || !r->r2_adj || !r->alpha || !r->rho_c || !r->ave ||
        !r->construct_mean || (scores && !r->scores))
        return CUSTSCORE_ENOMEM;
    if (boot) {
        r->weights_se = cs_mallocarray(p, sizeof(double));
        r->weights_low = cs_mallocarray(p, sizeof(double));
        r->weights_high = cs_mallocarray(p, sizeof(double));
        r->paths_se = cs_mallocarray(k * k, sizeof(double));
        r->paths_low = cs_mallocarray(k * k, sizeof(double));
        r->paths_high = cs_mallocarray(k * k, sizeof(double));
        r->construct_mean_se = cs_mallocarray(k, sizeof(double));
        r->construct_mean_low = cs_mallocarray(k, sizeof(double));
        r->construct_mean_high = cs_mallocarray(k, sizeof(double));
        if (!r->weights_se || !r->weights_low || !r->weights_high || !r->paths_se ||
            !r->paths_low || !r->paths_high || !r->construct_mean_se || !r->construct_mean_low ||
            !r->construct_mean_high)
            return CUSTSCORE_ENOMEM;
    }
    return CUSTSCORE_OK;
}

/* Everything after the weights: loadings, paths, effects, quality. */
static int pls_fill_result(const pls_problem *pp, pls_work *ws, custscore_pls_result *r,
                           const double *X, size_t n)
{
    size_t p = pp->p, k = pp->k;
    int rc = pls_paths(pp, ws);
    if (rc)
        return rc;
    for (size_t i = 0; i < p; i++) {
        r->item_construct[i] = pp->block[i];
        r->item_mean[i] = ws->mean[i];
        r->item_sd[i] = ws->sd[i];
        r->weights[i] = ws->w[i];
        double sdi = sqrt(ws->C[i * p + i]);
        for (size_t c = 0; c < k; c++)
            r->cross_loadings[i * k + c] = ws->T[i * k + c] / sdi;
        r->loadings[i] = r->cross_loadings[i * k + pp->block[i]];
    }
    pls_raw_weights(pp, ws, r->raw_weights);
    for (size_t c = 0; c < k; c++)
        r->construct_mean[c] = pls_index_weights(pp, r->raw_weights, ws->mean, c, r->index_weights);
    memcpy(r->paths, ws->paths, k * k * sizeof(double));
    /* Total effects of a recursive model: B + B² + ... + B^(k-1). */
    double *power = cs_mallocarray(k * k, sizeof(double));
    double *next = cs_mallocarray(k * k, sizeof(double));
    if (!power || !next) {
        cs_free(power);
        cs_free(next);
        return CUSTSCORE_ENOMEM;
    }
    memcpy(power, ws->paths, k * k * sizeof(double));
    memcpy(r->total_effects, ws->paths, k * k * sizeof(double));
    for (size_t step = 1; step < k; step++) {
        bool any = false;
        for (size_t a = 0; a < k; a++)
            for (size_t b = 0; b < k; b++) {
                double s = 0;
                for (size_t m = 0; m < k; m++)
                    s += power[a * k + m] * ws->paths[m * k + b];
                next[a * k + b] = s;
                any |= s != 0;
            }
        if (!any)
            break;
        memcpy(power, next, k * k * sizeof(double));
        for (size_t a = 0; a < k * k; a++)
            r->total_effects[a] += power[a];
    }
    cs_free(power);
    cs_free(next);

    double comm_sum = 0, r2_sum = 0;
    size_t comm_n = 0, r2_n = 0;
    for (size_t c = 0; c < k; c++) {
        size_t m = pp->n_pred[c];
        r->r2[c] = m ? ws->r2[c] : NAN;
        r->r2_adj[c] =
            m && n > m + 1 ? 1 - (1 - ws->r2[c]) * (double)(n - 1) / (double)(n - m - 1) : NAN;
        if (m && isfinite(ws->r2[c])) {
            r2_sum += ws->r2[c];
            r2_n++;
        }
        size_t q = pp->start[c + 1] - pp->start[c];
        double lsum = 0, l2sum = 0, rsum = 0;
        for (size_t s = pp->start[c]; s < pp->start[c + 1]; s++) {
            size_t i = pp->order[s];
            double l = r->loadings[i];
            lsum += l;
            l2sum += l * l;
            for (size_t t = pp->start[c]; t < pp->start[c + 1]; t++) {
                size_t j = pp->order[t];
                rsum += ws->S[i * p + j] / (ws->sd[i] * ws->sd[j]);
            }
        }
        if (q > 1) {
            comm_sum += l2sum;
            comm_n += q;
        }
        if (pp->mode[c] == CUSTSCORE_PLS_MODE_B) {
            r->alpha[c] = r->rho_c[c] = r->ave[c] = NAN;
        } else {
            /* Standardised Cronbach's alpha; composite reliability (Werts, Linn
             * & Jöreskog 1974) and AVE (Fornell & Larcker 1981) from the loadings. */
            r->alpha[c] = q > 1 ? (double)q / (double)(q - 1) * (1 - (double)q / rsum) : 1.0;
            r->rho_c[c] = lsum * lsum / (lsum * lsum + ((double)q - l2sum));
            r->ave[c] = l2sum / (double)q;
        }
    }
    r->gof = comm_n && r2_n ? sqrt(comm_sum / (double)comm_n * (r2_sum / (double)r2_n)) : NAN;

    if (r->scores) {
        for (size_t row = 0; row < n; row++) {
            const double *x = X + row * p;
            double *y = r->scores + row * k;
            for (size_t c = 0; c < k; c++)
                y[c] = 0;
            for (size_t i = 0; i < p; i++) {
                double z = x[i] - ws->mean[i];
                if (pp->standardize)
                    z /= ws->sd[i];
                y[pp->block[i]] += ws->w[i] * z;
            }
        }
    }
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */
/* Bootstrap. */

static int pls_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile of sorted v[m] (R's type 7: linear interpolation). */
static double pls_quantile(const double *v, size_t m, double q)
{
    if (m == 0)
        return NAN;
    double h = (double)(m - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= m)
        return v[m - 1];
    return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

/* Standard error and percentile interval of column j of samples[B][width]. */
static void pls_summarize(const double *samples, size_t b_used, size_t width, size_t j,
                          double level, double *scratch, double *se, double *low, double *high)
{
    size_t m = 0;
    double mean = 0;
    for (size_t b = 0; b < b_used; b++) {
        double v = samples[b * width + j];
        if (isfinite(v)) {
            scratch[m++] = v;
            mean += v;
        }
    }
    if (m < 2) {
        *se = *low = *high = NAN;
        return;
    }
    mean /= (double)m;
    double ss = 0;
    for (size_t t = 0; t < m; t++)
        ss += (scratch[t] - mean) * (scratch[t] - mean);
    *se = sqrt(ss / (double)(m - 1));
    qsort(scratch, m, sizeof(double), pls_cmp_double);
    *low = pls_quantile(scratch, m, (1 - level) / 2);
    *high = pls_quantile(scratch, m, 1 - (1 - level) / 2);
}

static int pls_bootstrap(const pls_problem *pp, const double *X, size_t n,
                         const custscore_pls_options *o, custscore_pls_result *r)
{
    size_t p = pp->p, k = pp->k;
    size_t width = p + k * k + k;
    size_t B = (size_t)o->bootstrap;
    pls_work ws;
    int rc = pls_work_alloc(&ws, p, k);
    if (rc)
        return rc;
    double *samples = cs_mallocarray(B, width * sizeof(double));
    unsigned *count = cs_mallocarray(n, sizeof(unsigned));
    double *raw = cs_mallocarray(p, sizeof(double));
    double *scratch = cs_mallocarray(B, sizeof(double));
    if (!samples || !count || !raw || !scratch) {
        rc = CUSTSCORE_ENOMEM;
        goto done;
    }
    pls_rng rng;
    pls_rng_seed(&rng, o->seed);
    size_t used = 0;
    int failed = 0;
    for (size_t b = 0; b < B; b++) {
        memset(count, 0, n * sizeof(unsigned));
        for (size_t t = 0; t < n; t++)
            count[pls_rng_below(&rng, n)]++;
        size_t bad = 0;
        if (pls_moments(pp, &ws, X, n, count, &bad) != 0 || pls_init_weights(pp, &ws) != 0) {
            failed++;
            continue;
        }
        int iterations;
        double change;
        int st = pls_iterate(pp, &ws, &iterations, &change, &bad);
        if (st == CUSTSCORE_ENOMEM) {
            rc = st;
            goto done;
        }
        if (st != PLS_CONVERGED) {
            failed++;
            continue;
        }
        pls_project(pp, &ws);
        if (pp->sign_fix)
            pls_fix_signs(pp, &ws);
        rc = pls_paths(pp, &ws);
        if (rc)
            goto done;
        double *row = samples + used * width;
        memcpy(row, ws.w, p * sizeof(double));
        memcpy(row + p, ws.paths, k * k * sizeof(double));
        pls_raw_weights(pp, &ws, raw);
        for (size_t c = 0; c < k; c++)
            row[p + k * k + c] = pls_index_weights(pp, raw, ws.mean, c, NULL);
        used++;
    }
    r->boot_resamples = (int)used;
    r->boot_failed = failed;
    r->level = o->level;
    for (size_t i = 0; i < p; i++)
        pls_summarize(samples, used, width, i, o->level, scratch, &r->weights_se[i],
                      &r->weights_low[i], &r->weights_high[i]);
    for (size_t j = 0; j < k * k; j++) {
        if (pp->adj[j])
            pls_summarize(samples, used, width, p + j, o->level, scratch, &r->paths_se[j],
                          &r->paths_low[j], &r->paths_high[j]);
        else
            r->paths_se[j] = r->paths_low[j] = r->paths_high[j] = 0;
    }
    for (size_t c = 0; c < k; c++)
        pls_summarize(samples, used, width, p + k * k + c, o->level, scratch,
                      &r->construct_mean_se[c], &r->construct_mean_low[c],
                      &r->construct_mean_high[c]);
done:
    pls_work_free(&ws);
    cs_free(samples);
    cs_free(count);
    cs_free(raw);
    cs_free(scratch);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* The fit. */

/* Copy the model columns of the usable rows into X (n_used x p), treating
 * missing answers. */
static int pls_prepare_data(const pls_problem *pp, const double *data, size_t n_rows, size_t n_cols,
                            const size_t *item_column, custscore_pls_missing missing,
                            double **x_out, size_t **rows_out, size_t *n_used, char *errbuf,
                            size_t errsize)
{
    size_t p = pp->p;
    double *X = cs_mallocarray(n_rows, p * sizeof(double));
    size_t *rows = cs_mallocarray(n_rows, sizeof(size_t));
    double *sum = cs_calloc(p, sizeof(double));
    size_t *cnt = cs_calloc(p, sizeof(size_t));
    int rc = CUSTSCORE_OK;
    if (!X || !rows || !sum || !cnt) {
        rc = CUSTSCORE_ENOMEM;
        goto fail;
    }
    size_t n = 0;
    for (size_t r = 0; r < n_rows; r++) {
        const double *src = data + r * n_cols;
        size_t answered = 0;
        for (size_t i = 0; i < p; i++) {
            double v = src[item_column[i]];
            if (isinf(v)) {
                rc = cs_errbuf(errbuf, errsize, CUSTSCORE_EINVAL,
                               "data: row %zu, column %zu: infinite value", r + 1,
                               item_column[i] + 1);
                goto fail;
            }
            answered += !isnan(v);
        }
        if (answered == 0 || (missing == CUSTSCORE_PLS_MISSING_LISTWISE && answered < p))
            continue;
        double *dst = X + n * p;
        for (size_t i = 0; i < p; i++) {
            double v = src[item_column[i]];
            dst[i] = v;
            if (!isnan(v)) {
                sum[i] += v;
                cnt[i]++;
            }
        }
        rows[n++] = r;
    }
    for (size_t i = 0; i < p && n > 0; i++)
        if (cnt[i] == 0) {
            rc = cs_errbuf(errbuf, errsize, CUSTSCORE_EINVAL,
                           "data: column %zu: no answers in the rows used", item_column[i] + 1);
            goto fail;
        }
    /* Mean replacement: each missing answer takes its item's mean. */
    for (size_t r = 0; r < n; r++)
        for (size_t i = 0; i < p; i++)
            if (isnan(X[r * p + i]))
                X[r * p + i] = sum[i] / (double)cnt[i];
    cs_free(sum);
    cs_free(cnt);
    *x_out = X;
    *rows_out = rows;
    *n_used = n;
    return CUSTSCORE_OK;
fail:
    cs_free(X);
    cs_free(rows);
    cs_free(sum);
    cs_free(cnt);
    return rc;
}

int custscore_pls_fit(const double *data, size_t n_rows, size_t n_cols,
                      const custscore_pls_model *model, const custscore_pls_options *options,
                      custscore_pls_result **out, char *errbuf, size_t errbuf_size)
{
    if (errbuf && errbuf_size)
        errbuf[0] = '\0';
    if (!out)
        return cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL, "custscore_pls_fit: out is NULL");
    *out = NULL;
    if (!model || (!data && n_rows > 0))
        return cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL,
                         "custscore_pls_fit: model or data is NULL");
    custscore_pls_options o = CUSTSCORE_PLS_OPTIONS_INIT;
    if (options) {
        if (options->version != CUSTSCORE_PLS_OPTIONS_VERSION)
            return cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL,
                             "custscore_pls_fit: options version %u, expected %u", options->version,
                             CUSTSCORE_PLS_OPTIONS_VERSION);
        o = *options;
    }
    if (o.scheme == 0)
        o.scheme = CUSTSCORE_PLS_PATH;
    if (o.tolerance == 0)
        o.tolerance = 1e-7;
    if (o.max_iterations == 0)
        o.max_iterations = 300;
    if (o.level == 0)
        o.level = 0.95;
    if (o.scheme < CUSTSCORE_PLS_PATH || o.scheme > CUSTSCORE_PLS_FACTORIAL)
        return cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL, "options: unknown scheme %d",
                         (int)o.scheme);
    if (o.scaling != CUSTSCORE_PLS_STANDARDIZE && o.scaling != CUSTSCORE_PLS_CENTER)
        return cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL, "options: unknown scaling %d",
                         (int)o.scaling);
    if (o.missing != CUSTSCORE_PLS_MISSING_MEAN && o.missing != CUSTSCORE_PLS_MISSING_LISTWISE)
        return cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL,
                         "options: unknown missing-value treatment %d", (int)o.missing);
    if (!(o.tolerance > 0) || o.max_iterations < 0 || o.bootstrap < 0 || !(o.level > 0) ||
        !(o.level < 1))
        return cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL,
                         "options: tolerance must be > 0, max_iterations and bootstrap >= 0, "
                         "level in (0, 1)");

    pls_problem pp;
    size_t *item_column = NULL;
    int rc = pls_problem_init(&pp, n_cols, model, &item_column, errbuf, errbuf_size);
    if (rc)
        return rc;
    pp.scheme = o.scheme;
    pp.standardize = o.scaling == CUSTSCORE_PLS_STANDARDIZE;
    pp.variance_n = o.variance_n != 0;
    pp.sign_fix = !o.no_sign_fix;
    pp.tol = o.tolerance;
    pp.max_iter = o.max_iterations;

    double *X = NULL;
    size_t *rows = NULL, n = 0;
    custscore_pls_result *r = NULL;
    pls_work ws;
    memset(&ws, 0, sizeof ws);
    rc = pls_prepare_data(&pp, data, n_rows, n_cols, item_column, o.missing, &X, &rows, &n, errbuf,
                          errbuf_size);
    if (rc)
        goto done;
    if (n < 3) {
        rc = cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL,
                       "data: %zu usable row(s) of %zu; PLS needs at least 3", n, n_rows);
        goto done;
    }
    for (size_t c = 0; c < pp.k; c++) {
        size_t q = pp.start[c + 1] - pp.start[c];
        if (pp.mode[c] == CUSTSCORE_PLS_MODE_B && q >= n) {
            rc = cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL,
                           "model: Mode B construct %zu has %zu items but only %zu rows", c, q, n);
            goto done;
        }
    }
    rc = pls_work_alloc(&ws, pp.p, pp.k);
    if (rc)
        goto done;
    size_t bad = 0;
    if (pls_moments(&pp, &ws, X, n, NULL, &bad) != 0) {
        rc = cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL,
                       "data: column %zu: no variance (every answer is %g); drop the item",
                       item_column[bad] + 1, ws.mean[bad]);
        goto done;
    }
    r = cs_calloc(1, sizeof *r);
    if (!r) {
        rc = CUSTSCORE_ENOMEM;
        goto done;
    }
    r->n_rows = n;
    r->n_dropped = n_rows - n;
    r->n_items = pp.p;
    r->n_constructs = pp.k;
    r->item_column = item_column;
    item_column = NULL;
    rc = pls_result_alloc(r, n, pp.p, pp.k, !o.no_scores, o.bootstrap > 0);
    if (rc)
        goto done;
    memcpy(r->rows, rows, n * sizeof(size_t));

    int status = pls_init_weights(&pp, &ws);
    if (status == 0)
        status = pls_iterate(&pp, &ws, &r->iterations, &r->last_change, &bad);
    else
        bad = SIZE_MAX;
    if (status == CUSTSCORE_ENOMEM) {
        rc = status;
        goto done;
    }
    if (status == PLS_SINGULAR) {
        if (bad == SIZE_MAX)
            rc = cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL,
                           "data: the predecessors of a construct are collinear; the path "
                           "weighting regression is singular");
        else if (pp.mode[bad] == CUSTSCORE_PLS_MODE_B)
            rc = cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL,
                           "data: the items of Mode B construct %zu are collinear", bad);
        else
            rc = cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL,
                           "data: construct %zu: its inner estimate is zero (it is "
                           "uncorrelated with its neighbours)",
                           bad);
        goto done;
    }
    r->converged = status == PLS_CONVERGED;
    pls_project(&pp, &ws);
    if (pp.sign_fix)
        pls_fix_signs(&pp, &ws);
    rc = pls_fill_result(&pp, &ws, r, X, n);
    if (rc)
        goto done;
    if (!r->converged) {
        rc = cs_errbuf(errbuf, errbuf_size, CUSTSCORE_ENOCONV,
                       "PLS did not converge in %d iterations (last change %.3g, tolerance "
                       "%.3g); the estimates are those of the last iteration",
                       r->iterations, r->last_change, pp.tol);
        goto done;
    }
    if (o.bootstrap > 0) {
        rc = pls_bootstrap(&pp, X, n, &o, r);
        if (rc)
            goto done;
    }
done:
    pls_work_free(&ws);
    pls_problem_free(&pp);
    cs_free(item_column);
    cs_free(X);
    cs_free(rows);
    if (rc && rc != CUSTSCORE_ENOCONV) {
        custscore_pls_result_free(r);
        r = NULL;
        if (rc == CUSTSCORE_ENOMEM)
            cs_errbuf(errbuf, errbuf_size, rc, "out of memory");
    }
    *out = r;
    return rc;
}
