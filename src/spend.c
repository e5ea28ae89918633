/*
 * spend.c: the Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee
 * 2005, "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis",
 * JMR 42(4) 415-430, section 4; Fader & Hardie 2013, "The Gamma-Gamma Model
 * of Monetary Value").
 *
 * A customer's purchases are Gamma(p, nu) with nu ~ Gamma(q, gamma) across
 * customers; the mean zbar of x purchases is Gamma(px, x nu), so (Fader &
 * Hardie 2013, eq. 3)
 *   f(zbar | x) = G(px+q) / (G(px) G(q)) gamma^q zbar^(px-1) x^(px) / (gamma + x zbar)^(px+q)
 * and E[Z | x, zbar] = (gamma + x zbar) p / (px + q - 1)   (FHL 2005 eq. 5).
 */
#include "internal.h"

#include <math.h>
#include <string.h>

static bool cs_pos(double v)
{
    return isfinite(v) && v > 0.0;
}

bool cs_gg_params_valid(const custscore_gg_params *p)
{
    return p && cs_pos(p->p) && cs_pos(p->q) && cs_pos(p->gamma);
}

double cs_gg_expected_spend_one(const custscore_gg_params *p, double x, double mean_spend)
{
    if (x == 0.0)
        return p->q > 1.0 ? p->p * p->gamma / (p->q - 1.0) : NAN;
    double den = p->p * x + p->q - 1.0;
    if (!(den > 0.0))
        return NAN;
    return p->p * (p->gamma + x * mean_spend) / den;
}

/* Log-density of one customer's mean spend. */
static double cs_gg_ll_one(const custscore_gg_params *p, double x, double z)
{
    double px = p->p * x;
    return cs_lgamma(px + p->q) - cs_lgamma(px) - cs_lgamma(p->q) + p->q * log(p->gamma) +
           (px - 1.0) * log(z) + px * log(x) - (px + p->q) * log(p->gamma + x * z);
}

static bool cs_gg_row_ok(double x, double z)
{
    return isfinite(x) && x >= 1.0 && isfinite(z) && z > 0.0;
}

int custscore_gg_loglik(const custscore_gg_params *params, size_t n, const double *x,
                        const double *mean_spend, double *loglik)
{
    if (!cs_gg_params_valid(params) || !loglik || (n > 0 && (!x || !mean_spend)))
        return CUSTSCORE_EINVAL;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!cs_gg_row_ok(x[i], mean_spend[i]))
            return CUSTSCORE_EINVAL;
        sum += cs_gg_ll_one(params, x[i], mean_spend[i]);
    }
    *loglik = sum;
    return CUSTSCORE_OK;
}

int custscore_gg_gradient(const custscore_gg_params *params, size_t n, const double *x,
                          const double *mean_spend, double *gradient)
{
    if (!cs_gg_params_valid(params) || !gradient || (n > 0 && (!x || !mean_spend)))
        return CUSTSCORE_EINVAL;
    double p = params->p, q = params->q, g = params->gamma;
    double gp = 0.0, gq = 0.0, gg = 0.0, dq = cs_digamma(q);
    for (size_t i = 0; i < n; i++) {
        double xi = x[i], z = mean_spend[i];
        if (!cs_gg_row_ok(xi, z))
            return CUSTSCORE_EINVAL;
        double dpq = cs_digamma(p * xi + q), l = log(g + xi * z);
        gp += xi * (dpq - cs_digamma(p * xi) + log(z) + log(xi) - l);
        gq += dpq - dq + log(g) - l;
        gg += q / g - (p * xi + q) / (g + xi * z);
    }
    gradient[0] = gp;
    gradient[1] = gq;
    gradient[2] = gg;
    return CUSTSCORE_OK;
}

int custscore_gg_expected_spend(const custscore_gg_params *params, size_t n, const double *x,
                                const double *mean_spend, double *out)
{
    if (!cs_gg_params_valid(params) || (n > 0 && (!x || !out)))
        return CUSTSCORE_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || x[i] < 0.0)
            return CUSTSCORE_EINVAL;
        double z = x[i] > 0.0 ? (mean_spend ? mean_spend[i] : NAN) : 0.0;
        if (x[i] > 0.0 && !(isfinite(z) && z >= 0.0))
            return CUSTSCORE_EINVAL;
        double v = cs_gg_expected_spend_one(params, x[i], z);
        if (isnan(v))
            return CUSTSCORE_EINVAL;
        out[i] = v;
    }
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */
/* Fitting data: the qualifying customers, spend divided by the mean spend,
 * with the terms of each distinct x computed once per evaluation. */

void cs_gg_data_free(cs_gg_data *d)
{
    if (!d)
        return;
    cs_free(d->x);
    cs_free(d->z);
    cs_free(d->lz);
    cs_free(d->xv);
    cs_free(d->xi);
    memset(d, 0, sizeof *d);
}

int cs_gg_data_build(size_t n, const double *x, const double *mean_spend, cs_gg_data *d,
                     int64_t *excluded, double *corr)
{
    memset(d, 0, sizeof *d);
    *excluded = 0;
    *corr = NAN;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || x[i] < 0.0 || !isfinite(mean_spend[i]))
            return CUSTSCORE_EINVAL;
        if (cs_gg_row_ok(x[i], mean_spend[i]))
            m++;
    }
    *excluded = (int64_t)(n - m);
    size_t cap = m ? m : 1;
    d->x = cs_mallocarray(cap, sizeof(double));
    d->z = cs_mallocarray(cap, sizeof(double));
    d->lz = cs_mallocarray(cap, sizeof(double));
    if (!d->x || !d->z || !d->lz) {
        cs_gg_data_free(d);
        return CUSTSCORE_ENOMEM;
    }
    double sx = 0, sz = 0;
    for (size_t i = 0; i < n; i++)
        if (cs_gg_row_ok(x[i], mean_spend[i])) {
            d->x[d->n] = x[i];
            d->z[d->n] = mean_spend[i];
            sx += x[i];
            sz += mean_spend[i];
            d->n++;
        }
    if (d->n == 0)
        return CUSTSCORE_OK;
    double mx = sx / (double)d->n, mz = sz / (double)d->n;
    double cxx = 0, czz = 0, cxz = 0;
    for (size_t i = 0; i < d->n; i++) {
        double dx = d->x[i] - mx, dz = d->z[i] - mz;
        cxx += dx * dx;
        czz += dz * dz;
        cxz += dx * dz;
    }
    *corr = cxx > 0 && czz > 0 ? cxz / sqrt(cxx * czz) : NAN;
    d->mean_spend = mz;
    d->scale = mz;
    for (size_t i = 0; i < d->n; i++) {
        d->z[i] /= d->scale;
        d->lz[i] = log(d->z[i]);
    }
    d->xi = cs_mallocarray(d->n, sizeof *d->xi);
    if (!d->xi) {
        cs_gg_data_free(d);
        return CUSTSCORE_ENOMEM;
    }
    size_t *first = NULL;
    const double *cols[1] = {d->x};
    int rc = cs_group_rows(d->n, 1, cols, d->xi, &d->n_xv, &first);
    if (rc) {
        cs_gg_data_free(d);
        return rc;
    }
    d->xv = cs_mallocarray(d->n_xv, sizeof *d->xv);
    if (!d->xv) {
        cs_free(first);
        cs_gg_data_free(d);
        return CUSTSCORE_ENOMEM;
    }
    for (size_t k = 0; k < d->n_xv; k++)
        d->xv[k] = d->x[first[k]];
    cs_free(first);
    return CUSTSCORE_OK;
}

enum { CS_GX_LG, CS_GX_LX, CS_GX_DPQ, CS_GX_DP, CS_GX__N };

size_t cs_gg_ws_size(const cs_gg_data *d)
{
    return d->n_xv * CS_GX__N;
}

int cs_gg_loglik_data(const custscore_gg_params *p, const cs_gg_data *d, double *ll, double *grad,
                      double *ws)
{
    double pp = p->p, q = p->q, g = p->gamma;
    double lg_q = cs_lgamma(q), dg_q = grad ? cs_digamma(q) : 0.0, lgm = log(g);
    for (size_t k = 0; k < d->n_xv; k++) {
        double x = d->xv[k], *v = ws + k * CS_GX__N;
        v[CS_GX_LG] = cs_lgamma(pp * x + q) - cs_lgamma(pp * x);
        v[CS_GX_LX] = log(x);
        if (grad) {
            v[CS_GX_DPQ] = cs_digamma(pp * x + q);
            v[CS_GX_DP] = cs_digamma(pp * x);
        }
    }
    double sum = 0.0, gp = 0.0, gq = 0.0, gg = 0.0;
    for (size_t i = 0; i < d->n; i++) {
        const double *v = ws + (size_t)d->xi[i] * CS_GX__N;
        double x = d->x[i], px = pp * x, l = log(g + x * d->z[i]);
        sum += v[CS_GX_LG] + (px - 1.0) * d->lz[i] + px * v[CS_GX_LX] - (px + q) * l;
        if (grad) {
            gp += x * (v[CS_GX_DPQ] - v[CS_GX_DP] + d->lz[i] + v[CS_GX_LX] - l);
            gq += v[CS_GX_DPQ] - l;
            gg += -(px + q) / (g + x * d->z[i]);
        }
    }
    double n = (double)d->n;
    sum += n * (q * lgm - lg_q);
    if (!isfinite(sum))
        return -1;
    *ll = sum;
    if (grad) {
        grad[0] = gp;
        grad[1] = gq + n * (lgm - dg_q);
        grad[2] = gg + n * q / g;
        for (int j = 0; j < 3; j++)
            if (!isfinite(grad[j]))
                return -1;
    }
    return 0;
}
