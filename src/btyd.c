/*
 * btyd.c: the buy-till-you-die purchase models over customer summaries
 * (x, t_x, T): compression into unique patterns, the BG/NBD and MBG/NBD
 * likelihoods with their closed-form gradients, P(alive), expected
 * purchases and the purchase-count distribution, and the public pure
 * functions for all three models (Pareto/NBD's mathematics is in pnbd.c).
 *
 * BG/NBD: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy
 * Way", Marketing Science 24(2) 275-284, eqs. (6), (8), (9), (10), and
 * Fader, Hardie & Lee (2007), "Computing P(alive) using the BG/NBD model".
 * MBG/NBD: Batislam, Denizel & Filiztekin (2007), IJRM 24(3) 201-209, with
 * the erratum of Wagner & Hoppe (2008), IJRM 25(3) 225-226.
 * Everything is evaluated in log space; see docs/models.md ("Lifetime value").
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Grouping equal rows (open addressing on the values' bits) */

static uint64_t cs_mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t cs_dbits(double v)
{
    uint64_t u;
    if (v == 0.0)
        v = 0.0; /* -0 and +0 are one value */
    memcpy(&u, &v, sizeof u);
    return u;
}

int cs_group_rows(size_t n, int k, const double *const *cols, uint32_t *group, size_t *n_groups,
                  size_t **first)
{
    /* Each slot holds a group number and 32 more bits of the hash, and the
     * groups' keys are copied side by side, so a probe touches two cache
     * lines instead of the scattered input rows. */
    typedef struct {
        uint32_t group1; /* group + 1; 0 = empty */
        uint32_t tag;
    } cs_slot;
    *n_groups = 0;
    *first = NULL;
    if (n >= UINT32_MAX)
        return CUSTSCORE_ERANGE;
    size_t cap = 16;
    while (cap < 2 * n)
        cap <<= 1;
    cs_slot *slot = cs_calloc(cap, sizeof *slot);
    size_t *rep = cs_mallocarray(n ? n : 1, sizeof *rep);
    double *keys = cs_mallocarray(n ? n * (size_t)k : 1, sizeof *keys);
    if (!slot || !rep || !keys) {
        cs_free(slot);
        cs_free(rep);
        cs_free(keys);
        return CUSTSCORE_ENOMEM;
    }
    size_t groups = 0, mask = cap - 1;
    for (size_t i = 0; i < n; i++) {
        double key[3];
        uint64_t h = 0;
        for (int c = 0; c < k; c++) {
            key[c] = cols[c][i] == 0.0 ? 0.0 : cols[c][i];
            h = cs_mix64(h ^ cs_dbits(key[c]));
        }
        uint32_t tag = (uint32_t)(h >> 32);
        size_t pos = (size_t)h & mask;
        for (;;) {
            cs_slot s = slot[pos];
            if (s.group1 == 0) {
                slot[pos].group1 = (uint32_t)(groups + 1);
                slot[pos].tag = tag;
                memcpy(keys + groups * (size_t)k, key, (size_t)k * sizeof(double));
                rep[groups] = i;
                group[i] = (uint32_t)groups;
                groups++;
                break;
            }
            if (s.tag == tag) {
                const double *gk = keys + (size_t)(s.group1 - 1) * (size_t)k;
                bool same = true;
                for (int c = 0; c < k && same; c++)
                    same = gk[c] == key[c];
                if (same) {
                    group[i] = s.group1 - 1;
                    break;
                }
            }
            pos = (pos + 1) & mask;
        }
    }
    cs_free(slot);
    cs_free(keys);
    *n_groups = groups;
    *first = rep;
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */
/* Compressed data */

void cs_btyd_data_free(cs_btyd_data *d)
{
    if (!d)
        return;
    cs_free(d->x);
    cs_free(d->t_x);
    cs_free(d->T);
    cs_free(d->w);
    cs_free(d->xv);
    cs_free(d->Tv);
    cs_free(d->tv);
    cs_free(d->xi);
    cs_free(d->Ti);
    cs_free(d->ti);
    memset(d, 0, sizeof *d);
}

static int cs_errf(char *buf, size_t size, int code, const char *fmt, ...) CS_PRINTF(4, 5);
static int cs_errf(char *buf, size_t size, int code, const char *fmt, ...)
{
    if (buf && size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, size, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Distinct values of one column of the compressed data. */
static int cs_distinct(const double *v, size_t n, double **values, uint32_t **index, size_t *count)
{
    uint32_t *idx = cs_mallocarray(n ? n : 1, sizeof *idx);
    if (!idx)
        return CUSTSCORE_ENOMEM;
    size_t *first = NULL, groups = 0;
    const double *cols[1] = {v};
    int rc = cs_group_rows(n, 1, cols, idx, &groups, &first);
    if (rc) {
        cs_free(idx);
        return rc;
    }
    double *vals = cs_mallocarray(groups ? groups : 1, sizeof *vals);
    if (!vals) {
        cs_free(idx);
        cs_free(first);
        return CUSTSCORE_ENOMEM;
    }
    for (size_t g = 0; g < groups; g++)
        vals[g] = v[first[g]];
    cs_free(first);
    *values = vals;
    *index = idx;
    *count = groups;
    return CUSTSCORE_OK;
}

/* A customer's data are valid: finite, x >= 0, 0 <= t_x <= T (t_x may exceed
 * T by rounding: 1e-9 relative). Returns a reason or NULL. */
static const char *cs_check_row(double x, double t_x, double T)
{
    if (!isfinite(x) || !isfinite(t_x) || !isfinite(T))
        return "not a finite number";
    if (x < 0.0)
        return "x is negative";
    if (T < 0.0)
        return "T is negative";
    if (x > 0.0 && t_x < 0.0)
        return "t_x is negative";
    if (x > 0.0 && t_x > T * (1.0 + 1e-9) + 1e-12)
        return "t_x is greater than T";
    return NULL;
}

int cs_btyd_data_build(size_t n, const double *x, const double *t_x, const double *T,
                       const double *w, double time_scale, uint32_t *group, cs_btyd_data *d,
                       char *err, size_t err_size)
{
    memset(d, 0, sizeof *d);
    if (n > 0 && (!x || !t_x || !T))
        return cs_errf(err, err_size, CUSTSCORE_EINVAL, "x, t_x and T are required");
    /* Validate; x = 0 rows are keyed with t_x = 0, and t_x is clamped to T. */
    double *tx_canon = NULL;
    double sum_T = 0.0, sum_w = 0.0;
    for (size_t i = 0; i < n; i++) {
        const char *why = cs_check_row(x[i], t_x[i], T[i]);
        if (why)
            return cs_errf(err, err_size, CUSTSCORE_EINVAL, "customer %zu: x=%g, t_x=%g, T=%g: %s",
                           i + 1, x[i], t_x[i], T[i], why);
        double wi = w ? w[i] : 1.0;
        if (!isfinite(wi) || wi < 0.0)
            return cs_errf(err, err_size, CUSTSCORE_EINVAL, "customer %zu: weight %g is not >= 0",
                           i + 1, wi);
        sum_T += wi * T[i];
        sum_w += wi;
        double canon = x[i] == 0.0 ? 0.0 : fmin(t_x[i], T[i]);
        if (canon != t_x[i] && !tx_canon) {
            tx_canon = cs_mallocarray(n, sizeof *tx_canon);
            if (!tx_canon)
                return CUSTSCORE_ENOMEM;
            memcpy(tx_canon, t_x, i * sizeof *tx_canon);
        }
        if (tx_canon)
            tx_canon[i] = canon;
    }
    if (!(sum_w > 0.0)) {
        cs_free(tx_canon);
        return cs_errf(err, err_size, CUSTSCORE_EINVAL, "no customers (total weight 0)");
    }
    if (time_scale <= 0.0)
        time_scale = sum_T > 0.0 ? sum_T / sum_w : 1.0;
    const double *txs = tx_canon ? tx_canon : t_x;

    uint32_t *grp = group ? group : cs_mallocarray(n ? n : 1, sizeof *grp);
    size_t *first = NULL, groups = 0;
    int rc = CUSTSCORE_ENOMEM;
    if (grp) {
        const double *cols[3] = {x, txs, T};
        rc = cs_group_rows(n, 3, cols, grp, &groups, &first);
    }
    if (rc) {
        if (grp != group)
            cs_free(grp);
        cs_free(tx_canon);
        return rc;
    }
    size_t m = groups ? groups : 1;
    d->x = cs_mallocarray(m, sizeof(double));
    d->t_x = cs_mallocarray(m, sizeof(double));
    d->T = cs_mallocarray(m, sizeof(double));
    d->w = cs_calloc(m, sizeof(double));
    if (!d->x || !d->t_x || !d->T || !d->w) {
        rc = CUSTSCORE_ENOMEM;
        goto done;
    }
    d->n = groups;
    d->time_scale = time_scale;
    for (size_t g = 0; g < groups; g++) {
        size_t i = first[g];
        d->x[g] = x[i];
        d->t_x[g] = txs[i] / time_scale;
        d->T[g] = T[i] / time_scale;
    }
    for (size_t i = 0; i < n; i++) {
        double wi = w ? w[i] : 1.0;
        d->w[grp[i]] += wi;
        d->sum_wx += wi * x[i];
    }
    d->total_w = sum_w;
    rc = cs_distinct(d->x, d->n, &d->xv, &d->xi, &d->n_xv);
    if (!rc)
        rc = cs_distinct(d->T, d->n, &d->Tv, &d->Ti, &d->n_Tv);
    if (!rc)
        rc = cs_distinct(d->t_x, d->n, &d->tv, &d->ti, &d->n_tv);
done:
    cs_free(first);
    if (grp != group)
        cs_free(grp);
    cs_free(tx_canon);
    if (rc)
        cs_btyd_data_free(d);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Parameters */

static bool cs_pos(double v)
{
    return isfinite(v) && v > 0.0;
}

bool cs_btyd_params_valid(const custscore_btyd_params *p)
{
    if (!p || !cs_pos(p->r) || !cs_pos(p->alpha))
        return false;
    switch (p->model) {
    case CUSTSCORE_MODEL_BGNBD:
    case CUSTSCORE_MODEL_MBGNBD:
        return cs_pos(p->a) && cs_pos(p->b);
    case CUSTSCORE_MODEL_PNBD:
        return cs_pos(p->s) && cs_pos(p->beta);
    default:
        return false;
    }
}

/* ---------------------------------------------------------------------- */
/* BG/NBD and MBG/NBD likelihood
 *
 * FHL (2005) eq. (6), in logs: with A = ln G(r+x) - ln G(r) + r ln alpha +
 * ln B(a, b+x) - ln B(a, b) - (r+x) ln(alpha+T),
 *   LL = A + ln(1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)).
 * MBG/NBD (Batislam et al. 2007 eq. A4, Wagner & Hoppe 2008): B(a, b+x+1)
 * in A and a/(b+x) in the second term, which is present for every x (the
 * customer may drop out at the first purchase). The second term is a
 * log1p(exp(D)), so nothing overflows for any x. */

enum { CS_WX_LG, CS_WX_LBX, CS_WX_DR, CS_WX_DA, CS_WX_DB, CS_WX_IBX, CS_WX__N };

size_t cs_btyd_ws_size(const cs_btyd_data *d)
{
    return d->n_xv * CS_WX__N + 2 * d->n_Tv + 2 * d->n_tv;
}

static int cs_bg_loglik_data(const custscore_btyd_params *p, const cs_btyd_data *d, double *ll,
                             double *grad, double *ws)
{
    bool mod = p->model == CUSTSCORE_MODEL_MBGNBD;
    double r = p->r, al = p->alpha, a = p->a, b = p->b;
    double *wx = ws, *wT = ws + d->n_xv * CS_WX__N, *wt = wT + 2 * d->n_Tv;
    double off = mod ? 1.0 : 0.0; /* B(a, b+x+off) */
    double lg_r = cs_lgamma(r), lg_ab = cs_lgamma(a + b), lg_b = cs_lgamma(b);
    double dg_r = 0, dg_ab = 0, dg_b = 0;
    if (grad) {
        dg_r = cs_digamma(r);
        dg_ab = cs_digamma(a + b);
        dg_b = cs_digamma(b);
    }
    for (size_t k = 0; k < d->n_xv; k++) {
        double x = d->xv[k], *v = wx + k * CS_WX__N;
        double lr = x == 0.0 ? 0.0 : cs_lgamma(r + x) - lg_r;
        v[CS_WX_LG] = lr + cs_lgamma(b + x + off) - cs_lgamma(a + b + x + off);
        double bx = b + x + off - 1.0; /* b+x-1 (BG), b+x (MBG) */
        v[CS_WX_LBX] = bx > 0.0 ? log(bx) : 0.0;
        v[CS_WX_IBX] = bx > 0.0 ? 1.0 / bx : 0.0;
        if (grad) {
            double dg_abx = cs_digamma(a + b + x + off);
            v[CS_WX_DR] = x == 0.0 ? 0.0 : cs_digamma(r + x) - dg_r;
            v[CS_WX_DA] = dg_ab - dg_abx;
            v[CS_WX_DB] = dg_ab + cs_digamma(b + x + off) - dg_b - dg_abx;
        }
    }
    for (size_t k = 0; k < d->n_Tv; k++) {
        wT[2 * k] = log(al + d->Tv[k]);
        wT[2 * k + 1] = 1.0 / (al + d->Tv[k]);
    }
    for (size_t k = 0; k < d->n_tv; k++) {
        wt[2 * k] = log(al + d->tv[k]);
        wt[2 * k + 1] = 1.0 / (al + d->tv[k]);
    }
    double la = log(a), lal = log(al);
    double sum = 0.0, gr = 0.0, gal = 0.0, ga = 0.0, gb = 0.0;
    for (size_t i = 0; i < d->n; i++) {
        const double *v = wx + (size_t)d->xi[i] * CS_WX__N;
        double x = d->x[i], w = d->w[i], rx = r + x;
        double lT = wT[2 * (size_t)d->Ti[i]];
        double term = v[CS_WX_LG] - rx * lT;
        double pd = 0.0; /* P(dropped out) weight of the second term */
        double lt = 0.0, it = 0.0;
        if (x > 0.0 || mod) {
            lt = wt[2 * (size_t)d->ti[i]];
            double dd = la - v[CS_WX_LBX] + rx * (lT - lt);
            if (dd > 36.0) {
                term += dd + exp(-dd);
                pd = 1.0 - exp(-dd);
            } else {
                double e = exp(dd);
                term += log1p(e);
                pd = e / (1.0 + e);
            }
        }
        sum += w * term;
        if (grad) {
            double iT = wT[2 * (size_t)d->Ti[i] + 1];
            if (x > 0.0 || mod)
                it = wt[2 * (size_t)d->ti[i] + 1];
            gr += w * (v[CS_WX_DR] - lT + pd * (lT - lt));
            gal += w * (-rx * iT + pd * rx * (iT - it));
            ga += w * (v[CS_WX_DA] + pd / a);
            gb += w * (v[CS_WX_DB] - pd * v[CS_WX_IBX]);
        }
    }
    double W = d->total_w;
    sum += W * (r * lal + lg_ab - lg_b);
    if (!isfinite(sum))
        return -1;
    *ll = sum;
    if (grad) {
        grad[0] = gr + W * lal;
        grad[1] = gal + W * r / al;
        grad[2] = ga;
        grad[3] = gb;
        for (int j = 0; j < 4; j++)
            if (!isfinite(grad[j]))
                return -1;
    }
    return 0;
}

int cs_btyd_loglik_data(const custscore_btyd_params *p, const cs_btyd_data *d, double *ll,
                        double *grad, double *ws)
{
    if (p->model != CUSTSCORE_MODEL_PNBD)
        return cs_bg_loglik_data(p, d, ll, grad, ws);
    /* Pareto/NBD: one customer at a time (two 2F1 per pattern). */
    (void)ws;
    double sum = 0.0;
    for (size_t i = 0; i < d->n; i++) {
        double v;
        if (cs_pnbd_loglik_one(p, d->x[i], d->t_x[i], d->T[i], &v) != 0)
            return -1;
        sum += d->w[i] * v;
    }
    if (!isfinite(sum))
        return -1;
    *ll = sum;
    if (grad)
        return -1; /* no closed form */
    return 0;
}

int cs_btyd_loglik_one(const custscore_btyd_params *p, double x, double t_x, double T, double *ll)
{
    if (p->model == CUSTSCORE_MODEL_PNBD)
        return cs_pnbd_loglik_one(p, x, t_x, T, ll);
    bool mod = p->model == CUSTSCORE_MODEL_MBGNBD;
    double r = p->r, al = p->alpha, a = p->a, b = p->b, off = mod ? 1.0 : 0.0;
    double rx = r + x;
    double v = (x == 0.0 ? 0.0 : cs_lgamma(rx) - cs_lgamma(r)) + r * log(al) + cs_lgamma(a + b) -
               cs_lgamma(b) + cs_lgamma(b + x + off) - cs_lgamma(a + b + x + off) -
               rx * log(al + T);
    if (x > 0.0 || mod) {
        double tx = x > 0.0 ? t_x : 0.0;
        v += cs_log1pexp(log(a) - log(b + x + off - 1.0) + rx * (log(al + T) - log(al + tx)));
    }
    if (!isfinite(v))
        return -1;
    *ll = v;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Predictions for one customer */

int cs_btyd_log_p_alive(const custscore_btyd_params *p, double x, double t_x, double T,
                        double *log_alive, double *log_dead)
{
    if (p->model == CUSTSCORE_MODEL_PNBD)
        return cs_pnbd_log_p_alive(p, x, t_x, T, log_alive, log_dead);
    bool mod = p->model == CUSTSCORE_MODEL_MBGNBD;
    if (x == 0.0 && !mod) {
        /* BG/NBD: nobody drops out before a repeat purchase. */
        *log_alive = 0.0;
        *log_dead = -INFINITY;
        return 0;
    }
    double tx = x > 0.0 ? t_x : 0.0;
    /* FHL (2005) eq. (A? in the 2007 note): P(alive) = 1 / (1 + e^D),
     * D = ln a - ln(b+x-1) + (r+x) ln((alpha+T)/(alpha+t_x)); MBG: b+x. */
    double bx = p->b + x + (mod ? 0.0 : -1.0);
    double dd = log(p->a) - log(bx) + (p->r + x) * log((p->alpha + T) / (p->alpha + tx));
    *log_alive = -cs_log1pexp(dd);
    *log_dead = dd - cs_log1pexp(dd);
    return isfinite(*log_alive) ? 0 : -1;
}

/* (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)]
 * with z = t/(alpha+T+t): FHL (2005) eq. (10) without its P(alive) factor;
 * MBG/NBD: (a+b+x)/(a-1) [1 - (..)^(r+x) 2F1(r+x, b+x+1; a+b+x; z)]. */
static int cs_bg_alive_expected_raw(bool mod, double r, double al, double a, double b, double x,
                                    double T, double t, double *out)
{
    double off = mod ? 1.0 : 0.0;
    double c = a + b + x - 1.0 + off;
    double z = t / (al + T + t);
    double lf;
    int sf;
    if (cs_hyp2f1(r + x, b + x + off, c, z, &lf, &sf) != 0)
        return -1;
    double l = -(r + x) * log1p(t / (al + T)) + lf;
    double bracket = sf > 0 ? -expm1(l) : 1.0 + exp(l);
    *out = c / (a - 1.0) * bracket;
    return isfinite(*out) ? 0 : -1;
}

static int cs_bg_alive_expected(bool mod, double r, double al, double a, double b, double x,
                                double T, double t, double *out)
{
    /* a = 1 is a removable singularity (0/0): interpolate across it. */
    const double h = 1e-6;
    if (fabs(a - 1.0) < h) {
        double lo, hi;
        if (cs_bg_alive_expected_raw(mod, r, al, 1.0 - h, b, x, T, t, &lo) != 0 ||
            cs_bg_alive_expected_raw(mod, r, al, 1.0 + h, b, x, T, t, &hi) != 0)
            return -1;
        *out = lo + (hi - lo) * (a - (1.0 - h)) / (2.0 * h);
        return 0;
    }
    if (cs_bg_alive_expected_raw(mod, r, al, a, b, x, T, t, out) == 0)
        return 0;
    /* 2F1 refused: c a pole, or c - a - b an integer with z close to 1.
     * Moving a moves both; the mean of the two sides is off by O(da^2). */
    double lo, hi, da = 1e-7 * fmax(a, 1.0);
    if (cs_bg_alive_expected_raw(mod, r, al, a - da, b, x, T, t, &lo) != 0 ||
        cs_bg_alive_expected_raw(mod, r, al, a + da, b, x, T, t, &hi) != 0)
        return -1;
    *out = 0.5 * (lo + hi);
    return 0;
}

int cs_btyd_alive_expected(const custscore_btyd_params *p, double x, double T, double t,
                           double *out)
{
    if (t == 0.0) {
        *out = 0.0;
        return 0;
    }
    if (p->model == CUSTSCORE_MODEL_PNBD) {
        /* Schmittlein et al. (1987); Fader & Hardie (2005) note eq. (19)
         * without P(alive): (r+x)(beta+T)/((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)],
         * written as -expm1(-(s-1) L)/(s-1) with L = ln(1 + t/(beta+T)),
         * which tends to L as s -> 1. */
        double L = log1p(t / (p->beta + T));
        double sm1 = p->s - 1.0;
        double f = sm1 == 0.0 ? L : -expm1(-sm1 * L) / sm1;
        *out = (p->r + x) * (p->beta + T) / (p->alpha + T) * f;
        return isfinite(*out) ? 0 : -1;
    }
    return cs_bg_alive_expected(p->model == CUSTSCORE_MODEL_MBGNBD, p->r, p->alpha, p->a, p->b, x,
                                T, t, out);
}

int cs_btyd_log_none_alive(const custscore_btyd_params *p, double x, double T, double t,
                           double *out)
{
    if (t == 0.0) {
        *out = 0.0;
        return 0;
    }
    if (p->model == CUSTSCORE_MODEL_PNBD)
        return cs_pnbd_log_none_alive(p, x, T, t, out);
    /* Alive at T, lambda | x, T ~ Gamma(r+x, alpha+T): no purchase in t has
     * probability ((alpha+T)/(alpha+T+t))^(r+x) (drop-out only happens at
     * purchases). */
    *out = -(p->r + x) * log1p(t / (p->alpha + T));
    return 0;
}

/* P(X(t) = k), k = 0..max_n, for BG/NBD (FHL 2005 eq. 8) and MBG/NBD:
 *   BG:  B(a,b+k)/B(a,b) NB(k) + [k>0] B(a+1,b+k-1)/B(a,b) P(NB >= k)
 *   MBG: B(a,b+k+1)/B(a,b) NB(k) + B(a+1,b+k)/B(a,b) P(NB >= k)
 * NB(j) = G(r+j)/(G(r) j!) (alpha/(alpha+t))^r (t/(alpha+t))^j. The tail
 * P(NB >= k) is 1 - CDF while the CDF is below 1/2, else summed upward, so
 * it never cancels. */
static int cs_bg_pmf(const custscore_btyd_params *p, double t, size_t max_n, double *out)
{
    bool mod = p->model == CUSTSCORE_MODEL_MBGNBD;
    double r = p->r, al = p->alpha, a = p->a, b = p->b;
    if (t == 0.0) {
        out[0] = 1.0;
        for (size_t k = 1; k <= max_n; k++)
            out[k] = 0.0;
        return CUSTSCORE_OK;
    }
    double lq = log(t / (al + t));
    double lnb0 = -r * log1p(t / al);
    double lbab = cs_lbeta(a, b);
    double *tail = cs_mallocarray(max_n + 1, sizeof *tail);
    double *lnb = cs_mallocarray(max_n + 1, sizeof *lnb);
    if (!tail || !lnb) {
        cs_free(tail);
        cs_free(lnb);
        return CUSTSCORE_ENOMEM;
    }
    lnb[0] = lnb0;
    for (size_t j = 1; j <= max_n; j++)
        lnb[j] = lnb[j - 1] + log((r + (double)j - 1.0) / (double)j) + lq;
    /* tail[k] = P(NB >= k). */
    double cdf = 0.0;
    size_t k_switch = max_n + 1;
    for (size_t k = 0; k <= max_n; k++) {
        if (cdf > 0.5) {
            k_switch = k;
            break;
        }
        tail[k] = 1.0 - cdf;
        cdf += exp(lnb[k]);
    }
    if (k_switch <= max_n) {
        /* Sum the terms above max_n until they no longer matter. */
        double above = 0.0, l = lnb[max_n];
        for (size_t j = max_n + 1; j < max_n + 10000000; j++) {
            l += log((r + (double)j - 1.0) / (double)j) + lq;
            double term = exp(l);
            above += term;
            double ratio = (r + (double)j) / ((double)j + 1.0) * (t / (al + t));
            if (ratio < 1.0 && term * ratio <= 1e-17 * (1.0 - ratio) * fmax(above, 1e-300))
                break;
            if (term == 0.0)
                break;
        }
        double acc = above;
        for (size_t k = max_n + 1; k-- > k_switch;) {
            acc += exp(lnb[k]);
            tail[k] = acc;
        }
    }
    for (size_t k = 0; k <= max_n; k++) {
        double kk = (double)k;
        double first = exp(cs_lbeta(a, b + kk + (mod ? 1.0 : 0.0)) - lbab + lnb[k]);
        double second = 0.0;
        if (mod)
            second = exp(cs_lbeta(a + 1.0, b + kk) - lbab) * tail[k];
        else if (k > 0)
            second = exp(cs_lbeta(a + 1.0, b + kk - 1.0) - lbab) * tail[k];
        out[k] = fmin(1.0, first + second);
    }
    cs_free(tail);
    cs_free(lnb);
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */
/* Public pure functions */

static int cs_check_arrays(size_t n, const double *x, const double *t_x, const double *T,
                           const double *out)
{
    if (n == 0)
        return CUSTSCORE_OK;
    if (!x || !t_x || !T || !out)
        return CUSTSCORE_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (cs_check_row(x[i], t_x[i], T[i]))
            return CUSTSCORE_EINVAL;
    return CUSTSCORE_OK;
}

static double cs_tx(double x, double t_x, double T)
{
    return x == 0.0 ? 0.0 : fmin(t_x, T);
}

int custscore_btyd_loglik(const custscore_btyd_params *params, size_t n, const double *x,
                          const double *t_x, const double *T, const double *weights,
                          double *loglik_each, double *loglik)
{
    if (!cs_btyd_params_valid(params))
        return CUSTSCORE_EINVAL;
    int rc = cs_check_arrays(n, x, t_x, T, x);
    if (rc)
        return rc;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double w = weights ? weights[i] : 1.0;
        if (!isfinite(w) || w < 0.0)
            return CUSTSCORE_EINVAL;
        double v;
        if (cs_btyd_loglik_one(params, x[i], cs_tx(x[i], t_x[i], T[i]), T[i], &v) != 0)
            v = NAN;
        if (loglik_each)
            loglik_each[i] = v;
        if (w != 0.0)
            sum += w * v;
    }
    if (loglik)
        *loglik = sum;
    return CUSTSCORE_OK;
}

int custscore_btyd_gradient(const custscore_btyd_params *params, size_t n, const double *x,
                            const double *t_x, const double *T, const double *weights,
                            double *gradient)
{
    if (!cs_btyd_params_valid(params) || !gradient)
        return CUSTSCORE_EINVAL;
    if (n == 0) {
        memset(gradient, 0, 4 * sizeof *gradient);
        return CUSTSCORE_OK;
    }
    cs_btyd_data d;
    int rc = cs_btyd_data_build(n, x, t_x, T, weights, 1.0, NULL, &d, NULL, 0);
    if (rc)
        return rc;
    if (params->model != CUSTSCORE_MODEL_PNBD) {
        double *ws = cs_mallocarray(cs_btyd_ws_size(&d) + 1, sizeof *ws);
        double ll;
        if (!ws) {
            rc = CUSTSCORE_ENOMEM;
        } else if (cs_bg_loglik_data(params, &d, &ll, gradient, ws) != 0) {
            for (int j = 0; j < 4; j++)
                gradient[j] = NAN;
        }
        cs_free(ws);
        cs_btyd_data_free(&d);
        return rc;
    }
    /* Pareto/NBD: central differences in each parameter. */
    double *slot[4];
    custscore_btyd_params q = *params;
    slot[0] = &q.r;
    slot[1] = &q.alpha;
    slot[2] = &q.s;
    slot[3] = &q.beta;
    for (int j = 0; j < 4; j++) {
        double v0 = *slot[j], h = 1e-5 * v0, lp, lm;
        *slot[j] = v0 + h;
        int e1 = cs_btyd_loglik_data(&q, &d, &lp, NULL, NULL);
        *slot[j] = v0 - h;
        int e2 = cs_btyd_loglik_data(&q, &d, &lm, NULL, NULL);
        *slot[j] = v0;
        gradient[j] = (e1 || e2) ? NAN : (lp - lm) / (2.0 * h);
    }
    cs_btyd_data_free(&d);
    return CUSTSCORE_OK;
}

int custscore_btyd_p_alive(const custscore_btyd_params *params, size_t n, const double *x,
                           const double *t_x, const double *T, double *out)
{
    if (!cs_btyd_params_valid(params))
        return CUSTSCORE_EINVAL;
    int rc = cs_check_arrays(n, x, t_x, T, out);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        double la, ld;
        if (cs_btyd_log_p_alive(params, x[i], cs_tx(x[i], t_x[i], T[i]), T[i], &la, &ld) != 0)
            out[i] = NAN;
        else
            out[i] = exp(la);
    }
    return CUSTSCORE_OK;
}

int custscore_btyd_expected(const custscore_btyd_params *params, size_t n, const double *t,
                            double *out)
{
    if (!cs_btyd_params_valid(params) || (n > 0 && (!t || !out)))
        return CUSTSCORE_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(t[i]) || t[i] < 0.0)
            return CUSTSCORE_EINVAL;
        if (params->model == CUSTSCORE_MODEL_MBGNBD) {
            /* A new customer may drop out at time 0 (P = a/(a+b)); the
             * expectation is that of x = 0, T = 0 times P(alive at 0). */
            double v;
            if (cs_btyd_alive_expected(params, 0.0, 0.0, t[i], &v) != 0)
                v = NAN;
            out[i] = v * params->b / (params->a + params->b);
        } else if (cs_btyd_alive_expected(params, 0.0, 0.0, t[i], &out[i]) != 0) {
            out[i] = NAN;
        }
    }
    return CUSTSCORE_OK;
}

int custscore_btyd_conditional_expected(const custscore_btyd_params *params, double t, size_t n,
                                        const double *x, const double *t_x, const double *T,
                                        double *out)
{
    if (!cs_btyd_params_valid(params) || !isfinite(t) || t < 0.0)
        return CUSTSCORE_EINVAL;
    int rc = cs_check_arrays(n, x, t_x, T, out);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        double la, ld, g;
        if (cs_btyd_log_p_alive(params, x[i], cs_tx(x[i], t_x[i], T[i]), T[i], &la, &ld) != 0 ||
            cs_btyd_alive_expected(params, x[i], T[i], t, &g) != 0)
            out[i] = NAN;
        else
            out[i] = exp(la) * g;
    }
    return CUSTSCORE_OK;
}

int custscore_btyd_pmf(const custscore_btyd_params *params, double t, size_t max_n, double *out)
{
    if (!cs_btyd_params_valid(params) || !out || !isfinite(t) || t < 0.0)
        return CUSTSCORE_EINVAL;
    if (max_n > 1000000)
        return CUSTSCORE_ERANGE;
    if (params->model == CUSTSCORE_MODEL_PNBD)
        return cs_pnbd_pmf(params, t, max_n, out);
    return cs_bg_pmf(params, t, max_n, out);
}

int custscore_btyd_p_no_purchase(const custscore_btyd_params *params, double t, size_t n,
                                 const double *x, const double *t_x, const double *T, double *out)
{
    if (!cs_btyd_params_valid(params) || !isfinite(t) || t < 0.0)
        return CUSTSCORE_EINVAL;
    int rc = cs_check_arrays(n, x, t_x, T, out);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        /* P(X = 0) = P(dead) + P(alive) P(no purchase | alive), added in logs. */
        double la, ld, ln;
        if (cs_btyd_log_p_alive(params, x[i], cs_tx(x[i], t_x[i], T[i]), T[i], &la, &ld) != 0 ||
            cs_btyd_log_none_alive(params, x[i], T[i], t, &ln) != 0)
            out[i] = NAN;
        else
            out[i] = fmin(1.0, exp(cs_logaddexp(ld, la + ln)));
    }
    return CUSTSCORE_OK;
}
