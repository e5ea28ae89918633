/*
 * clv.c: discounted residual customer lifetime value on the fitted purchase
 * and spend models, its interval from the parameters' sampling
 * distribution, the Gupta-Lehmann margin multiple, and the store-level
 * functions (CLV of every customer, of one, and the calibration/holdout
 * comparison).
 *
 * CLV of a customer over a horizon H cut into periods ending at
 * t_1 < ... < t_K = H (model time units), annual discount rate d, margin m:
 *   CLV = m E[Z | x, zbar] P(alive) sum_k (G(t_k) - G(t_(k-1))) / (1 + d)^(t_k / Y)
 * where G(t) is the expected number of purchases in (T, T + t] of a customer
 * alive at T (E[X(t) | x, t_x, T] = P(alive) G(t)), E[Z | ..] the
 * Gamma-Gamma expected spend and Y the year in model units (365.2425 days).
 * Purchases expected in a period are discounted from its end (the
 * convention of the spreadsheet CLV of Fader & Hardie and of lifetimes'
 * customer_lifetime_value, but with an annual rate and the true length of
 * each period instead of a 30-day month). G(t_k) depends on (x, T) only,
 * so it is computed once for each distinct (x, T).
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CS_DAYS_PER_YEAR 365.2425
#define CS_CLV_MAX_PERIODS 100000
#define CS_CLV_DEFAULT_DRAWS 200

/* ---------------------------------------------------------------------- */
/* Random numbers: xoshiro256** (Blackman & Vigna 2018) seeded through
 * splitmix64, the state in the caller's struct (no global state). */

static uint64_t cs_splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void cs_rng_seed(cs_rng *g, uint64_t seed)
{
    uint64_t s = seed;
    for (int i = 0; i < 4; i++)
        g->s[i] = cs_splitmix64(&s);
}

static uint64_t cs_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t cs_rng_next(cs_rng *g)
{
    uint64_t *s = g->s;
    uint64_t result = cs_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = cs_rotl(s[3], 45);
    return result;
}

double cs_rng_uniform(cs_rng *g)
{
    return ((double)(cs_rng_next(g) >> 11) + 0.5) * 0x1.0p-53;
}

double cs_rng_normal(cs_rng *g)
{
    /* Box-Muller, one value per call (no hidden spare). */
    double u1 = cs_rng_uniform(g), u2 = cs_rng_uniform(g);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* ---------------------------------------------------------------------- */
/* Gupta & Lehmann (2003), "Customers as Assets", J. Interactive Marketing
 * 17(1) 9-24: with margin m per period, retention r and discount rate d per
 * period, the value of a customer just retained is sum_t m r^t/(1+d)^t
 * = m r / (1 + d - r). */

int custscore_clv_margin_multiple(double margin, double retention, double discount, double *out)
{
    if (!out || !isfinite(margin) || !isfinite(retention) || !isfinite(discount) ||
        retention < 0.0 || retention >= 1.0 || discount <= -1.0 || 1.0 + discount - retention <= 0)
        return CUSTSCORE_EINVAL;
    *out = margin * retention / (1.0 + discount - retention);
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */
/* Options and the discounting plan */

int cs_clv_options_resolve(const custscore_clv_options *o, custscore_unit model_unit,
                           double default_margin, custscore_clv_options *out, cs_clv_plan *plan,
                           char *err, size_t err_size)
{
    custscore_clv_options d = CUSTSCORE_CLV_OPTIONS_INIT;
    memset(plan, 0, sizeof *plan);
    if (!o)
        o = &d;
#define CS_FAIL(...)                                                                               \
    do {                                                                                           \
        if (err)                                                                                   \
            snprintf(err, err_size, __VA_ARGS__);                                                  \
        return CUSTSCORE_EINVAL;                                                                   \
    } while (0)
    if (o->version != CUSTSCORE_CLV_OPTIONS_VERSION)
        CS_FAIL("clv options: version %u, this library knows version %u (initialise with "
                "CUSTSCORE_CLV_OPTIONS_INIT)",
                o->version, CUSTSCORE_CLV_OPTIONS_VERSION);
    *out = *o;
    if (out->horizon == 0.0)
        out->horizon = 12.0;
    if (!isfinite(out->horizon) || out->horizon < 0.0)
        CS_FAIL("clv options: horizon %g: must be > 0", out->horizon);
    double hu = custscore_unit_days(out->horizon_unit), mu = custscore_unit_days(model_unit);
    if (hu <= 0.0)
        CS_FAIL("clv options: horizon_unit %d: unknown", (int)out->horizon_unit);
    if (mu <= 0.0)
        CS_FAIL("the purchase model's unit %d is unknown", (int)model_unit);
    if (!isfinite(out->discount_rate))
        CS_FAIL("clv options: discount_rate: not a finite number");
    if (out->discount_rate < 0.0)
        out->discount_rate = 0.0;
    if (!isfinite(out->margin))
        CS_FAIL("clv options: margin: not a finite number");
    if (out->margin == 0.0)
        out->margin = default_margin;
    if (!isfinite(out->interval_level) || out->interval_level < 0.0 || out->interval_level >= 1.0)
        CS_FAIL("clv options: interval_level %g: must be in [0, 1) (0: no interval)",
                out->interval_level);
    if (out->interval_draws == 0)
        out->interval_draws = CS_CLV_DEFAULT_DRAWS;
    if (out->interval_draws < 10 || out->interval_draws > 100000)
        CS_FAIL("clv options: interval_draws %d: must be 10..100000", out->interval_draws);
    double periods = ceil(out->horizon - 1e-9);
    if (periods > CS_CLV_MAX_PERIODS) {
        if (err)
            snprintf(err, err_size,
                     "clv options: horizon %g %s is more than %d discounting periods; use a "
                     "longer horizon_unit",
                     out->horizon, out->horizon_unit == CUSTSCORE_UNIT_DAY ? "days" : "units",
                     CS_CLV_MAX_PERIODS);
        return CUSTSCORE_ERANGE;
    }
#undef CS_FAIL
    int k = periods < 1.0 ? 1 : (int)periods;
    plan->horizon = out->horizon * hu / mu;
    plan->periods = k;
    plan->t = cs_mallocarray((size_t)k + 1, sizeof *plan->t);
    plan->disc = cs_mallocarray((size_t)k, sizeof *plan->disc);
    if (!plan->t || !plan->disc) {
        cs_free(plan->t);
        cs_free(plan->disc);
        plan->t = plan->disc = NULL;
        return CUSTSCORE_ENOMEM;
    }
    double year = CS_DAYS_PER_YEAR / mu, ld = log1p(out->discount_rate);
    plan->t[0] = 0.0;
    for (int i = 1; i <= k; i++) {
        plan->t[i] = i == k ? plan->horizon : (double)i * hu / mu;
        plan->disc[i - 1] = exp(-ld * plan->t[i] / year);
    }
    plan->margin = out->margin;
    plan->level = out->interval_level;
    plan->draws = out->interval_draws;
    plan->seed = out->seed;
    return CUSTSCORE_OK;
}

void cs_clv_plan_free(cs_clv_plan *plan)
{
    cs_free(plan->t);
    cs_free(plan->disc);
    plan->t = plan->disc = NULL;
}

/* Discounted (dg) and plain (eh) expected purchases over the horizon of a
 * customer alive at T with x repeat purchases. */
static int cs_clv_alive_value(const custscore_btyd_params *p, const cs_clv_plan *plan, double x,
                              double T, double *dg, double *eh)
{
    double prev = 0.0, acc = 0.0;
    for (int k = 1; k <= plan->periods; k++) {
        double g;
        if (cs_btyd_alive_expected(p, x, T, plan->t[k], &g) != 0)
            return -1;
        acc += plan->disc[k - 1] * (g - prev);
        prev = g;
    }
    *dg = acc;
    *eh = prev;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Parameter draws */

typedef struct cs_clv_draws {
    custscore_btyd_params *btyd;
    custscore_gg_params *gg;
    int n;
} cs_clv_draws;

/* theta = log(params) + L z, z ~ N(0, I), L the Cholesky factor of cov_log. */
static int cs_draw_log_params(const custscore_fit_info *m, cs_rng *g, double *out)
{
    int np = m->n_params;
    double l[CUSTSCORE_MAX_PARAMS * CUSTSCORE_MAX_PARAMS];
    for (int i = 0; i < np; i++)
        for (int j = 0; j < np; j++)
            l[i * np + j] = m->cov_log[i][j];
    if (cs_cholesky(np, l) != 0)
        return -1;
    double z[CUSTSCORE_MAX_PARAMS];
    for (int i = 0; i < np; i++)
        z[i] = cs_rng_normal(g);
    for (int i = 0; i < np; i++) {
        double v = log(m->param[i]);
        for (int j = 0; j <= i; j++)
            v += l[i * np + j] * z[j];
        out[i] = exp(v);
    }
    return 0;
}

static bool cs_cov_usable(const custscore_fit_info *m)
{
    for (int i = 0; i < m->n_params; i++)
        for (int j = 0; j < m->n_params; j++)
            if (!isfinite(m->cov_log[i][j]))
                return false;
    return true;
}

static int cs_clv_draws_make(const custscore_fit_info *pm, const custscore_fit_info *sm,
                             const cs_clv_plan *plan, bool need_gg, cs_clv_draws *d, char *err,
                             size_t err_size)
{
    memset(d, 0, sizeof *d);
    if (!cs_cov_usable(pm) || !cs_cov_usable(sm)) {
        if (err)
            snprintf(err, err_size,
                     "clv interval: a model has no covariance matrix (refit it, or set "
                     "interval_level 0)");
        return CUSTSCORE_EINVAL;
    }
    d->n = plan->draws;
    d->btyd = cs_mallocarray((size_t)d->n, sizeof *d->btyd);
    d->gg = cs_mallocarray((size_t)d->n, sizeof *d->gg);
    if (!d->btyd || !d->gg)
        return CUSTSCORE_ENOMEM;
    cs_rng g;
    cs_rng_seed(&g, plan->seed);
    for (int b = 0; b < d->n; b++) {
        double v[CUSTSCORE_MAX_PARAMS];
        if (cs_draw_log_params(pm, &g, v) != 0)
            goto singular;
        d->btyd[b] = pm->btyd;
        d->btyd[b].r = v[0];
        d->btyd[b].alpha = v[1];
        if (pm->model == CUSTSCORE_MODEL_PNBD) {
            d->btyd[b].s = v[2];
            d->btyd[b].beta = v[3];
        } else {
            d->btyd[b].a = v[2];
            d->btyd[b].b = v[3];
        }
        /* A spend draw with q <= 1 has an infinite population mean spend:
         * it is drawn again (a normal truncated to q > 1) when customers
         * without repeat purchases need that mean. */
        int tries = 0;
        do {
            if (cs_draw_log_params(sm, &g, v) != 0)
                goto singular;
        } while (need_gg && v[1] <= 1.0 && ++tries < 1000);
        d->gg[b].p = v[0];
        d->gg[b].q = v[1];
        d->gg[b].gamma = v[2];
    }
    return CUSTSCORE_OK;
singular:
    if (err)
        snprintf(err, err_size,
                 "clv interval: a model's covariance matrix is not positive definite (refit "
                 "it, or set interval_level 0)");
    return CUSTSCORE_EINVAL;
}

static void cs_clv_draws_free(cs_clv_draws *d)
{
    cs_free(d->btyd);
    cs_free(d->gg);
    memset(d, 0, sizeof *d);
}

/* The k-th smallest of v[0..n) (v is reordered): Hoare's selection. */
double cs_kth_smallest(double *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = v[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                double t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return v[k];
    }
    return v[k];
}

/* R type 7 quantile of v[0..n) (reordered). */
static double cs_quantile_select(double *v, size_t n, double p)
{
    double h = (double)(n - 1) * p;
    size_t lo = (size_t)floor(h);
    double a = cs_kth_smallest(v, n, lo);
    if (lo + 1 >= n || h == (double)lo)
        return a;
    /* The next order statistic is the smallest value above position lo. */
    double b = INFINITY;
    for (size_t i = lo + 1; i < n; i++)
        if (v[i] < b)
            b = v[i];
    return a + (h - (double)lo) * (b - a);
}

/* ---------------------------------------------------------------------- */
/* The computation over arrays */

static void cs_put(double *a, size_t i, double v)
{
    if (a)
        a[i] = v;
}

/* Discounted purchases of a customer alive at T for every T of @Ts (m
 * values, one x), for one parameter draw. With many T values the sums are
 * interpolated: they are smooth in u = log(alpha + T), so a Chebyshev
 * interpolant on CS_CHEB_NODES points of u (barycentric form, Berrut &
 * Trefethen 2004) matches the direct sums to about 1e-11 relative (checked
 * in tests/test_clv.c) at a fraction of the 2F1 evaluations. */
#define CS_CHEB_NODES 24

static void cs_clv_dg_over_T(const custscore_btyd_params *p, const cs_clv_plan *plan, double x,
                             const double *Ts, size_t m, double *out)
{
    double e;
    if (m <= CS_CHEB_NODES + 4) {
        for (size_t j = 0; j < m; j++)
            if (cs_clv_alive_value(p, plan, x, Ts[j], &out[j], &e) != 0)
                out[j] = NAN;
        return;
    }
    double lo = INFINITY, hi = -INFINITY;
    for (size_t j = 0; j < m; j++) {
        lo = fmin(lo, Ts[j]);
        hi = fmax(hi, Ts[j]);
    }
    double ulo = log(p->alpha + lo), uhi = log(p->alpha + hi);
    double node[CS_CHEB_NODES], f[CS_CHEB_NODES], wgt[CS_CHEB_NODES];
    const int N = CS_CHEB_NODES - 1;
    for (int k = 0; k <= N; k++) {
        double c = cos(M_PI * (double)k / (double)N); /* 1 .. -1 */
        node[k] = 0.5 * (ulo + uhi) + 0.5 * (uhi - ulo) * c;
        double T = exp(node[k]) - p->alpha;
        if (k == 0)
            T = hi;
        if (k == N)
            T = lo;
        if (cs_clv_alive_value(p, plan, x, fmax(T, 0.0), &f[k], &e) != 0)
            f[k] = NAN;
        wgt[k] = ((k % 2) ? -1.0 : 1.0) * ((k == 0 || k == N) ? 0.5 : 1.0);
    }
    for (size_t j = 0; j < m; j++) {
        double u = log(p->alpha + Ts[j]), num = 0.0, den = 0.0;
        int exact = -1;
        for (int k = 0; k <= N; k++) {
            double d = u - node[k];
            if (d == 0.0) {
                exact = k;
                break;
            }
            double c = wgt[k] / d;
            num += c * f[k];
            den += c;
        }
        out[j] = exact >= 0 ? f[exact] : num / den;
    }
}

/* The interval of every customer. Customers are visited grouped by x, then
 * (x, T), then (x, t_x, T), so that each group's draws are computed once:
 * the discounted sums per (x, T) and draw, P(alive) per pattern and draw,
 * and only the spend per customer and draw. */
static int cs_clv_interval(const cs_clv_plan *plan, const cs_clv_draws *dr, size_t n,
                           const double *x, const double *t_x, const double *T, const double *zbar,
                           const uint32_t *xt_group, size_t n_xt, const size_t *xt_first,
                           cs_clv_out *out)
{
    int B = dr->n, rc = CUSTSCORE_OK;
    double lo_p = (1.0 - plan->level) / 2.0, hi_p = (1.0 + plan->level) / 2.0;
    double *txc = cs_mallocarray(n, sizeof *txc);
    uint32_t *trip = cs_mallocarray(n, sizeof *trip);
    uint32_t *xgrp = NULL;
    double *xt_x = NULL;
    size_t *first = NULL, *xfirst = NULL, n_trip = 0, n_x = 0;
    size_t *order = NULL, *start = NULL, *trip_order = NULL, *xt_start = NULL;
    size_t *xt_order = NULL, *x_start = NULL, *fill = NULL;
    double *dg = NULL, *vals = NULL, *a_b = NULL, *Ts = NULL;
    if (!txc || !trip) {
        rc = CUSTSCORE_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        txc[i] = x[i] == 0.0 ? 0.0 : fmin(t_x[i], T[i]);
    const double *cols[3] = {x, txc, T};
    rc = cs_group_rows(n, 3, cols, trip, &n_trip, &first);
    if (rc)
        goto done;
    /* x of each (x, T) group, and the groups by x. */
    xt_x = cs_mallocarray(n_xt, sizeof *xt_x);
    xgrp = cs_mallocarray(n_xt, sizeof *xgrp);
    if (!xt_x || !xgrp) {
        rc = CUSTSCORE_ENOMEM;
        goto done;
    }
    for (size_t g = 0; g < n_xt; g++)
        xt_x[g] = x[xt_first[g]];
    const double *xcol[1] = {xt_x};
    rc = cs_group_rows(n_xt, 1, xcol, xgrp, &n_x, &xfirst);
    if (rc)
        goto done;
    /* Counting sorts: customers by pattern, patterns by (x, T) group,
     * (x, T) groups by x. */
    order = cs_mallocarray(n, sizeof *order);
    start = cs_calloc(n_trip + 1, sizeof *start);
    trip_order = cs_mallocarray(n_trip, sizeof *trip_order);
    xt_start = cs_calloc(n_xt + 1, sizeof *xt_start);
    xt_order = cs_mallocarray(n_xt, sizeof *xt_order);
    x_start = cs_calloc(n_x + 1, sizeof *x_start);
    size_t fill_n = (n_trip > n_xt ? n_trip : n_xt) + 1;
    fill = cs_mallocarray(fill_n > n_x + 1 ? fill_n : n_x + 1, sizeof *fill);
    if (!order || !start || !trip_order || !xt_start || !xt_order || !x_start || !fill) {
        rc = CUSTSCORE_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        start[trip[i] + 1]++;
    for (size_t k = 0; k < n_trip; k++)
        start[k + 1] += start[k];
    memcpy(fill, start, (n_trip + 1) * sizeof *fill);
    for (size_t i = 0; i < n; i++)
        order[fill[trip[i]]++] = i;
    for (size_t k = 0; k < n_trip; k++)
        xt_start[xt_group[first[k]] + 1]++;
    for (size_t g = 0; g < n_xt; g++)
        xt_start[g + 1] += xt_start[g];
    memcpy(fill, xt_start, (n_xt + 1) * sizeof *fill);
    for (size_t k = 0; k < n_trip; k++)
        trip_order[fill[xt_group[first[k]]]++] = k;
    for (size_t g = 0; g < n_xt; g++)
        x_start[xgrp[g] + 1]++;
    for (size_t v = 0; v < n_x; v++)
        x_start[v + 1] += x_start[v];
    memcpy(fill, x_start, (n_x + 1) * sizeof *fill);
    for (size_t g = 0; g < n_xt; g++)
        xt_order[fill[xgrp[g]]++] = g;
    /* The largest number of T values of one x bounds the buffers. */
    size_t most = 1;
    for (size_t v = 0; v < n_x; v++)
        if (x_start[v + 1] - x_start[v] > most)
            most = x_start[v + 1] - x_start[v];
    dg = cs_mallocarray(most * (size_t)B, sizeof *dg);
    Ts = cs_mallocarray(most, sizeof *Ts);
    vals = cs_mallocarray((size_t)B, sizeof *vals);
    a_b = cs_mallocarray((size_t)B, sizeof *a_b);
    double *col = cs_mallocarray(most, sizeof *col);
    if (!dg || !Ts || !vals || !a_b || !col) {
        cs_free(col);
        rc = CUSTSCORE_ENOMEM;
        goto done;
    }
    for (size_t v = 0; v < n_x; v++) {
        size_t m = x_start[v + 1] - x_start[v];
        const size_t *gs = xt_order + x_start[v];
        double xv = xt_x[gs[0]];
        for (size_t j = 0; j < m; j++)
            Ts[j] = T[xt_first[gs[j]]];
        /* dg[j * B + b]: group gs[j], draw b. */
        for (int b = 0; b < B; b++) {
            cs_clv_dg_over_T(&dr->btyd[b], plan, xv, Ts, m, col);
            for (size_t j = 0; j < m; j++)
                dg[j * (size_t)B + (size_t)b] = col[j];
        }
        for (size_t j = 0; j < m; j++) {
            size_t g = gs[j];
            const double *dgg = dg + j * (size_t)B;
            for (size_t pos = xt_start[g]; pos < xt_start[g + 1]; pos++) {
                size_t k = trip_order[pos];
                size_t rep = first[k];
                for (int b = 0; b < B; b++) {
                    double la, ld;
                    if (cs_btyd_log_p_alive(&dr->btyd[b], x[rep], txc[rep], T[rep], &la, &ld) != 0)
                        la = NAN;
                    a_b[b] = plan->margin * exp(la) * dgg[b];
                }
                bool have_zero = false;
                double zero_lo = NAN, zero_hi = NAN;
                for (size_t c = start[k]; c < start[k + 1]; c++) {
                    size_t i = order[c];
                    if (x[i] == 0.0 && have_zero) {
                        /* Same pattern, no repeat purchases: the same draws. */
                        cs_put(out->clv_low, i, zero_lo);
                        cs_put(out->clv_high, i, zero_hi);
                        continue;
                    }
                    bool bad = false;
                    for (int b = 0; b < B; b++) {
                        double sp =
                            cs_gg_expected_spend_one(&dr->gg[b], x[i], x[i] > 0 ? zbar[i] : 0.0);
                        vals[b] = a_b[b] * sp;
                        if (isnan(vals[b]))
                            bad = true;
                    }
                    double lo = NAN, hi = NAN;
                    if (!bad) {
                        lo = cs_quantile_select(vals, (size_t)B, lo_p);
                        hi = cs_quantile_select(vals, (size_t)B, hi_p);
                    }
                    cs_put(out->clv_low, i, lo);
                    cs_put(out->clv_high, i, hi);
                    if (x[i] == 0.0) {
                        have_zero = true;
                        zero_lo = lo;
                        zero_hi = hi;
                    }
                }
            }
        }
    }
    cs_free(col);
done:
    cs_free(txc);
    cs_free(trip);
    cs_free(xgrp);
    cs_free(xt_x);
    cs_free(first);
    cs_free(xfirst);
    cs_free(order);
    cs_free(start);
    cs_free(trip_order);
    cs_free(xt_start);
    cs_free(xt_order);
    cs_free(x_start);
    cs_free(fill);
    cs_free(dg);
    cs_free(Ts);
    cs_free(vals);
    cs_free(a_b);
    return rc;
}

int cs_clv_compute(const custscore_fit_info *pm, const custscore_fit_info *sm,
                   const cs_clv_plan *plan, size_t n, const double *x, const double *t_x,
                   const double *T, const double *zbar, cs_clv_out *out, double *total, char *err,
                   size_t err_size)
{
    *total = 0.0;
    if (n == 0)
        return CUSTSCORE_OK;
    bool any_zero = false;
    for (size_t i = 0; i < n; i++) {
        const char *why = NULL;
        if (!isfinite(x[i]) || !isfinite(t_x[i]) || !isfinite(T[i]) || x[i] < 0 || T[i] < 0 ||
            (x[i] > 0 && (t_x[i] < 0 || t_x[i] > T[i] * (1 + 1e-9) + 1e-12)))
            why = "x, t_x, T must be finite with x >= 0 and 0 <= t_x <= T";
        else if (x[i] > 0 && (!zbar || !isfinite(zbar[i]) || zbar[i] < 0))
            why = "mean_spend must be finite and >= 0";
        if (why) {
            if (err)
                snprintf(err, err_size, "customer %zu: %s", i + 1, why);
            return CUSTSCORE_EINVAL;
        }
        if (x[i] == 0.0)
            any_zero = true;
    }
    if (any_zero && !(sm->gg.q > 1.0)) {
        if (err)
            snprintf(err, err_size,
                     "the spend model has q = %g <= 1, so the mean spend of customers "
                     "without repeat purchases is infinite; refit the spend model on more data",
                     sm->gg.q);
        return CUSTSCORE_EINVAL;
    }
    /* Point estimates, the horizon's sums once per distinct (x, T). */
    uint32_t *xt = cs_mallocarray(n, sizeof *xt);
    size_t *first = NULL, n_xt = 0;
    double *dg = NULL, *eh = NULL;
    int rc = xt ? CUSTSCORE_OK : CUSTSCORE_ENOMEM;
    if (!rc) {
        const double *cols[2] = {x, T};
        rc = cs_group_rows(n, 2, cols, xt, &n_xt, &first);
    }
    if (!rc) {
        dg = cs_mallocarray(n_xt, sizeof *dg);
        eh = cs_mallocarray(n_xt, sizeof *eh);
        if (!dg || !eh)
            rc = CUSTSCORE_ENOMEM;
    }
    for (size_t g = 0; !rc && g < n_xt; g++) {
        size_t i = first[g];
        if (cs_clv_alive_value(&pm->btyd, plan, x[i], T[i], &dg[g], &eh[g]) != 0)
            dg[g] = eh[g] = NAN;
    }
    double sum = 0.0;
    for (size_t i = 0; !rc && i < n; i++) {
        double la, ld, tx = x[i] == 0.0 ? 0.0 : fmin(t_x[i], T[i]);
        double pa = cs_btyd_log_p_alive(&pm->btyd, x[i], tx, T[i], &la, &ld) == 0 ? exp(la) : NAN;
        double s = cs_gg_expected_spend_one(&sm->gg, x[i], x[i] > 0 ? zbar[i] : 0.0);
        double v = plan->margin * s * pa * dg[xt[i]];
        cs_put(out->p_alive, i, pa);
        cs_put(out->expected_purchases, i, pa * eh[xt[i]]);
        cs_put(out->expected_spend, i, s);
        cs_put(out->clv, i, v);
        cs_put(out->clv_low, i, NAN);
        cs_put(out->clv_high, i, NAN);
        if (isfinite(v))
            sum += v;
    }
    *total = sum;
    if (!rc && plan->level > 0.0 && (out->clv_low || out->clv_high)) {
        cs_clv_draws dr;
        rc = cs_clv_draws_make(pm, sm, plan, any_zero, &dr, err, err_size);
        if (!rc)
            rc = cs_clv_interval(plan, &dr, n, x, t_x, T, zbar, xt, n_xt, first, out);
        cs_clv_draws_free(&dr);
    }
    if (rc == CUSTSCORE_ENOMEM && err)
        snprintf(err, err_size, "out of memory for %zu customers", n);
    cs_free(xt);
    cs_free(first);
    cs_free(dg);
    cs_free(eh);
    return rc;
}

void cs_clv_info_fill(custscore_clv_info *info, const custscore_fit_info *pm,
                      const custscore_fit_info *sm, const custscore_clv_options *o,
                      const cs_clv_plan *plan, int64_t as_of, int64_t customers, double total,
                      bool from_costs)
{
    if (!info)
        return;
    memset(info, 0, sizeof *info);
    info->purchase_model = pm->model;
    info->unit = pm->unit;
    snprintf(info->purchase_model_name, sizeof info->purchase_model_name, "%s", pm->name);
    snprintf(info->spend_model_name, sizeof info->spend_model_name, "%s", sm->name);
    info->purchase_model_id = pm->model_id;
    info->spend_model_id = sm->model_id;
    info->as_of = as_of;
    info->horizon = o->horizon;
    info->horizon_unit = o->horizon_unit;
    info->horizon_in_unit = plan->horizon;
    info->periods = plan->periods;
    info->discount_rate = o->discount_rate;
    info->margin = plan->margin;
    info->margin_from_costs = from_costs;
    info->interval_level = plan->level;
    info->interval_draws = plan->level > 0 ? plan->draws : 0;
    info->seed = plan->seed;
    info->customers = customers;
    info->total_clv = total;
}

static bool cs_models_usable(const custscore_fit_info *pm, const custscore_fit_info *sm)
{
    return pm && sm && pm->model != CUSTSCORE_MODEL_GG && cs_btyd_params_valid(&pm->btyd) &&
           pm->btyd.model == pm->model && sm->model == CUSTSCORE_MODEL_GG &&
           cs_gg_params_valid(&sm->gg);
}

int custscore_clv_arrays(const custscore_fit_info *purchase, const custscore_fit_info *spend,
                         const custscore_clv_options *options, size_t n, const double *x,
                         const double *t_x, const double *T, const double *mean_spend,
                         double *p_alive, double *expected_purchases, double *expected_spend,
                         double *clv, double *clv_low, double *clv_high, custscore_clv_info *info)
{
    if (!cs_models_usable(purchase, spend) || (n > 0 && (!x || !t_x || !T)))
        return CUSTSCORE_EINVAL;
    custscore_clv_options o;
    cs_clv_plan plan;
    int rc = cs_clv_options_resolve(options, purchase->unit, 1.0, &o, &plan, NULL, 0);
    if (rc)
        return rc;
    cs_clv_out out = {p_alive, expected_purchases, expected_spend, clv, clv_low, clv_high};
    double total;
    rc = cs_clv_compute(purchase, spend, &plan, n, x, t_x, T, mean_spend, &out, &total, NULL, 0);
    if (!rc)
        cs_clv_info_fill(info, purchase, spend, &o, &plan, 0, (int64_t)n, total, false);
    cs_clv_plan_free(&plan);
    return rc;
}
