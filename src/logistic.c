/*
 * logistic.c: L2-penalised logistic regression fitted by Newton's method
 * (iteratively reweighted least squares) on standardised features, and the
 * metrics of a probabilistic classifier: AUC, Brier score, top-fraction lift
 * and a calibration table. Pure functions on plain arrays: no handle, no
 * global state, reentrant.
 *
 * Model (e.g. Hastie, Tibshirani & Friedman, The Elements of Statistical
 * Learning, 2nd ed., 2009, §4.4.1 and §4.4.4): with z_ij = (x_ij - m_j) / s_j,
 *
 *   eta_i = b_0 + sum_j b_j z_ij,   p_i = 1 / (1 + exp(-eta_i)),
 *
 * b minimises the penalised negative log-likelihood
 *
 *   f(b) = -sum_i w_i [y_i eta_i - log(1 + exp(eta_i))] + (l2 / 2) sum_{j>=1} b_j^2.
 *
 * The intercept b_0 is not penalised. With l2 > 0, f is strictly convex in
 * the slopes and coercive, so the minimum is finite even for perfectly
 * separable data (where the unpenalised MLE runs off to infinity). The
 * penalty is the negative log-density of independent N(0, 1/l2) priors on
 * the standardised slopes: l2 = 1 (the default) is a weak prior that matters
 * only for small or separable data. Newton steps solve H d = g with H =
 * Z'WZ + l2 I (Cholesky), halving the step until f decreases. Features with
 * zero variance among the rows used get coefficient 0 and are left out of
 * the Newton system.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A feature whose standard deviation is below this, relative to its scale, is
 * constant: floating-point noise in the mean must not make it a feature. */
#define CS_LOGISTIC_CONST_REL 1e-12

static void cs_logit_errbuf(char *errbuf, size_t errbuf_size, const char *fmt, ...) CS_PRINTF(3, 4);

static void cs_logit_errbuf(char *errbuf, size_t errbuf_size, const char *fmt, ...)
{
    if (!errbuf || errbuf_size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errbuf_size, fmt, ap);
    va_end(ap);
}

double cs_sigmoid(double eta)
{
    if (eta >= 0)
        return 1.0 / (1.0 + exp(-eta));
    double e = exp(eta);
    return e / (1.0 + e);
}

/* In-place Cholesky factorisation of the q x q symmetric positive definite
 * matrix a (row-major, lower triangle used). Returns false when a pivot is
 * not positive. */
static bool cs_logit_cholesky(double *a, size_t q)
{
    for (size_t j = 0; j < q; j++) {
        double d = a[j * q + j];
        for (size_t k = 0; k < j; k++)
            d -= a[j * q + k] * a[j * q + k];
        if (!(d > 0))
            return false;
        d = sqrt(d);
        a[j * q + j] = d;
        for (size_t i = j + 1; i < q; i++) {
            double s = a[i * q + j];
            for (size_t k = 0; k < j; k++)
                s -= a[i * q + k] * a[j * q + k];
            a[i * q + j] = s / d;
        }
    }
    return true;
}

/* Solve L L' x = b in place (b becomes x). */
static void cs_logit_chol_solve(const double *l, size_t q, double *b)
{
    for (size_t i = 0; i < q; i++) {
        double s = b[i];
        for (size_t k = 0; k < i; k++)
            s -= l[i * q + k] * b[k];
        b[i] = s / l[i * q + i];
    }
    for (size_t i = q; i-- > 0;) {
        double s = b[i];
        for (size_t k = i + 1; k < q; k++)
            s -= l[k * q + i] * b[k];
        b[i] = s / l[i * q + i];
    }
}

/* Workspace of one fit. Active features are those with nonzero variance;
 * col[k] is the original column of active feature k. */
typedef struct cs_logit_work {
    const double *x, *y, *w;
    size_t n, p, q; /* q = 1 + number of active features */
    size_t *col;
    double *mean, *sd; /* [p] */
    double *inv_sd;    /* [p] 1 / sd (0 for constant features) */
    double *beta;      /* [q] standardised coefficients, intercept first */
    double *base;      /* [q] the iterate a line search starts from */
    double *trial;     /* [q] */
    double *grad;      /* [q] */
    double *hess;      /* [q*q] */
    double *z;         /* [q] one standardised row with a leading 1 */
    double l2;
} cs_logit_work;

static inline double cs_row_weight(const cs_logit_work *wk, size_t i)
{
    return wk->w ? wk->w[i] : 1.0;
}

static inline void cs_row_z(const cs_logit_work *wk, size_t i, double *z)
{
    const double *row = wk->x + i * wk->p;
    z[0] = 1.0;
    for (size_t k = 1; k < wk->q; k++) {
        size_t j = wk->col[k - 1];
        z[k] = (row[j] - wk->mean[j]) * wk->inv_sd[j];
    }
}

static inline double cs_dot(const double *a, const double *b, size_t q)
{
    double s = 0;
    for (size_t k = 0; k < q; k++)
        s += a[k] * b[k];
    return s;
}

/* Penalised objective f(beta). */
static double cs_logit_objective(cs_logit_work *wk, const double *beta)
{
    double f = 0;
    for (size_t i = 0; i < wk->n; i++) {
        double wi = cs_row_weight(wk, i);
        if (wi == 0)
            continue;
        cs_row_z(wk, i, wk->z);
        double eta = cs_dot(beta, wk->z, wk->q);
        f += wi * (fmax(eta, 0) + log1p(exp(-fabs(eta))) - wk->y[i] * eta);
    }
    for (size_t k = 1; k < wk->q; k++)
        f += 0.5 * wk->l2 * beta[k] * beta[k];
    return f;
}

/* Gradient of -f (the score) and Hessian of f at wk->beta; returns f. */
static double cs_logit_derivatives(cs_logit_work *wk)
{
    size_t q = wk->q;
    memset(wk->grad, 0, q * sizeof *wk->grad);
    memset(wk->hess, 0, q * q * sizeof *wk->hess);
    double f = 0;
    for (size_t i = 0; i < wk->n; i++) {
        double wi = cs_row_weight(wk, i);
        if (wi == 0)
            continue;
        double *z = wk->z;
        cs_row_z(wk, i, z);
        double eta = cs_dot(wk->beta, z, q);
        /* One exp for both: e = exp(-|eta|), log(1 + exp(eta)) =
         * max(eta, 0) + log1p(e), and the probability. */
        double e = exp(-fabs(eta));
        double prob = eta >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        f += wi * (fmax(eta, 0) + log1p(e) - wk->y[i] * eta);
        double r = wi * (wk->y[i] - prob);
        double v = wi * prob * (1.0 - prob);
        for (size_t a = 0; a < q; a++) {
            wk->grad[a] += r * z[a];
            double vz = v * z[a];
            double *h = wk->hess + a * q;
            for (size_t b = 0; b <= a; b++)
                h[b] += vz * z[b];
        }
    }
    for (size_t k = 1; k < q; k++) {
        f += 0.5 * wk->l2 * wk->beta[k] * wk->beta[k];
        wk->grad[k] -= wk->l2 * wk->beta[k];
        wk->hess[k * q + k] += wk->l2;
    }
    for (size_t a = 0; a < q; a++)
        for (size_t b = a + 1; b < q; b++)
            wk->hess[a * q + b] = wk->hess[b * q + a];
    return f;
}

/* Factor the Hessian, adding a small ridge when it is numerically singular
 * (e.g. the intercept's curvature underflows on separable data). */
static bool cs_logit_factor(cs_logit_work *wk, double *copy)
{
    size_t q = wk->q;
    double scale = 0;
    for (size_t k = 0; k < q; k++)
        scale = fmax(scale, fabs(wk->hess[k * q + k]));
    if (!(scale > 0))
        scale = 1;
    double jitter = 0;
    for (int attempt = 0; attempt < 12; attempt++) {
        memcpy(copy, wk->hess, q * q * sizeof *copy);
        for (size_t k = 0; k < q; k++)
            copy[k * q + k] += jitter;
        if (cs_logit_cholesky(copy, q))
            return true;
        jitter = jitter == 0 ? scale * 1e-12 : jitter * 100;
    }
    return false;
}

int cs_logistic_fit(const double *x, size_t n, size_t p, const double *y, const double *weight,
                    const custscore_logistic_options *options, double *coef, double *se,
                    double *mean_out, double *sd_out, custscore_logistic_info *info, char *errbuf,
                    size_t errbuf_size)
{
    custscore_logistic_options defaults = CUSTSCORE_LOGISTIC_OPTIONS_INIT;
    const custscore_logistic_options *opt = options ? options : &defaults;
    if (info)
        memset(info, 0, sizeof *info);
    if (!x || !y || !coef || n == 0) {
        cs_logit_errbuf(errbuf, errbuf_size, "logistic fit: x, y and coef are required and n > 0");
        return CUSTSCORE_EINVAL;
    }
    if (opt->version != CUSTSCORE_LOGISTIC_OPTIONS_VERSION) {
        cs_logit_errbuf(errbuf, errbuf_size, "logistic fit: options version %u, expected %u",
                        opt->version, CUSTSCORE_LOGISTIC_OPTIONS_VERSION);
        return CUSTSCORE_EINVAL;
    }
    if (!(opt->l2 >= 0) || !isfinite(opt->l2) || opt->max_iterations < 1 || !(opt->tolerance > 0)) {
        cs_logit_errbuf(
            errbuf, errbuf_size,
            "logistic fit: l2 must be finite and >= 0 (got %g), max_iterations >= 1 (got "
            "%d), tolerance > 0 (got %g)",
            opt->l2, opt->max_iterations, opt->tolerance);
        return CUSTSCORE_EINVAL;
    }
    if (p > 100000 || n > SIZE_MAX / (p ? p : 1)) {
        cs_logit_errbuf(errbuf, errbuf_size, "logistic fit: %zu features is too many", p);
        return CUSTSCORE_ERANGE;
    }

    /* Weighted moments; check labels and values. */
    double w_total = 0, w_pos = 0;
    size_t n_used = 0;
    for (size_t i = 0; i < n; i++) {
        double wi = weight ? weight[i] : 1.0;
        if (!(wi >= 0) || !isfinite(wi)) {
            cs_logit_errbuf(errbuf, errbuf_size, "logistic fit: row %zu: weight %g is not >= 0", i,
                            wi);
            return CUSTSCORE_EINVAL;
        }
        if (wi == 0)
            continue;
        if (y[i] != 0 && y[i] != 1) {
            cs_logit_errbuf(errbuf, errbuf_size, "logistic fit: row %zu: label %g is not 0 or 1", i,
                            y[i]);
            return CUSTSCORE_EINVAL;
        }
        for (size_t j = 0; j < p; j++)
            if (!isfinite(x[i * p + j])) {
                cs_logit_errbuf(errbuf, errbuf_size,
                                "logistic fit: row %zu, feature %zu: value %g is not finite", i, j,
                                x[i * p + j]);
                return CUSTSCORE_EINVAL;
            }
        w_total += wi;
        w_pos += wi * y[i];
        n_used++;
    }
    if (n_used == 0 || !(w_total > 0)) {
        cs_logit_errbuf(errbuf, errbuf_size, "logistic fit: no rows with positive weight");
        return CUSTSCORE_EINVAL;
    }
    if (w_pos == 0 || w_pos == w_total) {
        cs_logit_errbuf(
            errbuf, errbuf_size,
            "logistic fit: all %zu rows have label %d (%s): the model needs both outcomes", n_used,
            w_pos == 0 ? 0 : 1, w_pos == 0 ? "none churned" : "all churned");
        return CUSTSCORE_EINVAL;
    }

    int rc = CUSTSCORE_ENOMEM;
    cs_logit_work wk = {.x = x, .y = y, .w = weight, .n = n, .p = p, .l2 = opt->l2};
    double *chol = NULL;
    wk.mean = cs_calloc(p ? p : 1, sizeof *wk.mean);
    wk.sd = cs_calloc(p ? p : 1, sizeof *wk.sd);
    wk.inv_sd = cs_calloc(p ? p : 1, sizeof *wk.inv_sd);
    wk.col = cs_mallocarray(p ? p : 1, sizeof *wk.col);
    if (!wk.mean || !wk.sd || !wk.inv_sd || !wk.col)
        goto done;
    for (size_t i = 0; i < n; i++) {
        double wi = weight ? weight[i] : 1.0;
        if (wi == 0)
            continue;
        for (size_t j = 0; j < p; j++)
            wk.mean[j] += wi * x[i * p + j];
    }
    for (size_t j = 0; j < p; j++)
        wk.mean[j] /= w_total;
    for (size_t i = 0; i < n; i++) {
        double wi = weight ? weight[i] : 1.0;
        if (wi == 0)
            continue;
        for (size_t j = 0; j < p; j++) {
            double d = x[i * p + j] - wk.mean[j];
            wk.sd[j] += wi * d * d;
        }
    }
    size_t active = 0;
    for (size_t j = 0; j < p; j++) {
        wk.sd[j] = sqrt(wk.sd[j] / w_total);
        if (wk.sd[j] > CS_LOGISTIC_CONST_REL * fmax(1.0, fabs(wk.mean[j])))
            wk.col[active++] = j;
        else
            wk.sd[j] = 0;
    }
    wk.q = active + 1;
    size_t q = wk.q;
    wk.beta = cs_calloc(q, sizeof *wk.beta);
    wk.base = cs_calloc(q, sizeof *wk.base);
    wk.trial = cs_calloc(q, sizeof *wk.trial);
    wk.grad = cs_calloc(q, sizeof *wk.grad);
    wk.z = cs_calloc(q, sizeof *wk.z);
    wk.hess = cs_mallocarray(q * q, sizeof *wk.hess);
    chol = cs_mallocarray(q * q, sizeof *chol);
    if (!wk.beta || !wk.base || !wk.trial || !wk.grad || !wk.z || !wk.hess || !chol)
        goto done;
    for (size_t j = 0; j < p; j++)
        wk.inv_sd[j] = wk.sd[j] > 0 ? 1.0 / wk.sd[j] : 0;

    /* Start at the base rate: the exact solution when no feature matters. */
    double base = w_pos / w_total;
    wk.beta[0] = log(base / (1 - base));
    int iter = 0;
    bool converged = false;
    double f = cs_logit_derivatives(&wk);
    for (iter = 1; iter <= opt->max_iterations; iter++) {
        if (!cs_logit_factor(&wk, chol)) {
            rc = CUSTSCORE_ENOCONV;
            cs_logit_errbuf(errbuf, errbuf_size,
                            "logistic fit: Hessian not positive definite at iteration %d", iter);
            goto done;
        }
        double *step = wk.trial; /* the Newton direction H^-1 g */
        memcpy(step, wk.grad, q * sizeof *step);
        cs_logit_chol_solve(chol, q, step);
        /* Newton decrement g' H^-1 g: twice the predicted decrease of f. */
        double decrement = cs_dot(wk.grad, step, q);
        double max_step = 0;
        for (size_t k = 0; k < q; k++)
            max_step = fmax(max_step, fabs(step[k]));
        bool small =
            decrement / 2 <= opt->tolerance * (1.0 + fabs(f)) && max_step < sqrt(opt->tolerance);
        /* Full Newton step first, evaluated with the derivatives (one pass
         * over the data); halve the step while f does not decrease. */
        memcpy(wk.base, wk.beta, q * sizeof *wk.base);
        for (size_t k = 0; k < q; k++)
            wk.beta[k] = wk.base[k] + step[k];
        double f_full = cs_logit_derivatives(&wk);
        bool improved = f_full <= f + 1e-13 * fabs(f);
        if (improved) {
            f = f_full;
        } else {
            double t = 0.5;
            for (int halving = 0; halving < 40 && !improved; halving++, t /= 2) {
                for (size_t k = 0; k < q; k++)
                    wk.beta[k] = wk.base[k] + t * step[k];
                improved = cs_logit_objective(&wk, wk.beta) <= f + 1e-13 * fabs(f);
            }
            if (!improved) {
                /* No decrease along the Newton direction: at the optimum to
                 * within rounding, unless the decrement says otherwise. */
                memcpy(wk.beta, wk.base, q * sizeof *wk.beta);
                f = cs_logit_derivatives(&wk);
                converged = decrement / 2 <= 1e-6 * (1.0 + fabs(f));
                break;
            }
            f = cs_logit_derivatives(&wk);
        }
        if (small) {
            /* The last (full, tiny) Newton step has been taken: with
             * quadratic convergence the estimate is now exact to rounding. */
            converged = true;
            break;
        }
    }
    if (iter > opt->max_iterations)
        iter = opt->max_iterations;
    /* Without a penalty, (quasi-)complete separation has no finite MLE: the
     * iterates run off until the likelihood saturates. A standardised
     * coefficient beyond 1e3 (a logit change of 1000 per standard
     * deviation) only arises that way. */
    bool separated = false;
    if (opt->l2 == 0)
        for (size_t k = 0; k < q; k++)
            if (fabs(wk.beta[k]) > 1e3)
                separated = true;
    if (separated)
        converged = false;

    /* Back to the original scale: b_j / s_j, intercept b_0 - sum b_j m_j / s_j. */
    memset(coef, 0, (p + 1) * sizeof *coef);
    coef[0] = wk.beta[0];
    for (size_t k = 1; k < q; k++) {
        size_t j = wk.col[k - 1];
        coef[j + 1] = wk.beta[k] / wk.sd[j];
        coef[0] -= wk.beta[k] * wk.mean[j] / wk.sd[j];
    }
    if (se) {
        /* Approximate standard errors from the inverse penalised Hessian
         * (the posterior covariance under the Gaussian prior). The
         * original-scale intercept is a linear combination a'b with
         * a = (1, -m_1/s_1, ...). */
        for (size_t j = 0; j <= p; j++)
            se[j] = 0;
        (void)cs_logit_derivatives(&wk);
        if (cs_logit_factor(&wk, chol)) {
            double *e = wk.trial;
            for (size_t k = 0; k < q; k++) {
                memset(e, 0, q * sizeof *e);
                e[k] = 1;
                cs_logit_chol_solve(chol, q, e);
                if (k > 0) {
                    size_t j = wk.col[k - 1];
                    se[j + 1] = sqrt(fmax(e[k], 0)) / wk.sd[j];
                }
            }
            double *a = wk.grad;
            a[0] = 1;
            for (size_t k = 1; k < q; k++) {
                size_t j = wk.col[k - 1];
                a[k] = -wk.mean[j] / wk.sd[j];
            }
            memcpy(e, a, q * sizeof *e);
            cs_logit_chol_solve(chol, q, e);
            se[0] = sqrt(fmax(cs_dot(a, e, q), 0));
        }
    }
    if (mean_out)
        memcpy(mean_out, wk.mean, p * sizeof *mean_out);
    if (sd_out)
        memcpy(sd_out, wk.sd, p * sizeof *sd_out);
    if (info) {
        double penalty = 0;
        for (size_t k = 1; k < q; k++)
            penalty += 0.5 * wk.l2 * wk.beta[k] * wk.beta[k];
        info->iterations = iter;
        info->converged = converged;
        info->loglik = -(cs_logit_objective(&wk, wk.beta) - penalty);
        info->penalty = penalty;
        info->n = (int64_t)n_used;
        info->base_rate = base;
        info->n_constant = p - active;
    }
    rc = CUSTSCORE_OK;
    if (!converged) {
        rc = CUSTSCORE_ENOCONV;
        if (separated)
            cs_logit_errbuf(
                errbuf, errbuf_size,
                "logistic fit: the classes are perfectly separable and l2 = 0: no finite "
                "estimate; use l2 > 0");
        else
            cs_logit_errbuf(errbuf, errbuf_size, "logistic fit: no convergence in %d iterations",
                            opt->max_iterations);
    }
done:
    if (rc == CUSTSCORE_ENOMEM)
        cs_logit_errbuf(errbuf, errbuf_size, "logistic fit: out of memory");
    cs_free(chol);
    cs_free(wk.hess);
    cs_free(wk.z);
    cs_free(wk.grad);
    cs_free(wk.trial);
    cs_free(wk.beta);
    cs_free(wk.base);
    cs_free(wk.inv_sd);
    cs_free(wk.col);
    cs_free(wk.sd);
    cs_free(wk.mean);
    return rc;
}

int custscore_logistic_fit(const double *x, size_t n, size_t p, const double *y,
                           const double *weight, const custscore_logistic_options *options,
                           double *coef, double *std_error, custscore_logistic_info *info,
                           char *errbuf, size_t errbuf_size)
{
    if (errbuf && errbuf_size)
        errbuf[0] = '\0';
    return cs_logistic_fit(x, n, p, y, weight, options, coef, std_error, NULL, NULL, info, errbuf,
                           errbuf_size);
}

int custscore_logistic_predict(const double *x, size_t n, size_t p, const double *coef,
                               double *prob)
{
    if (!x || !coef || !prob)
        return CUSTSCORE_EINVAL;
    for (size_t i = 0; i < n; i++) {
        double eta = coef[0];
        for (size_t j = 0; j < p; j++)
            eta += coef[j + 1] * x[i * p + j];
        if (isnan(eta))
            return CUSTSCORE_EINVAL;
        prob[i] = cs_sigmoid(eta);
    }
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */
/* Metrics */

typedef struct cs_scored {
    double score;
    double label;
} cs_scored;

/* A double's bits as an unsigned key in the same order (NaN excluded;
 * -0 taken as +0 so that it ties with 0). */
static inline uint64_t cs_order_key(double v)
{
    uint64_t u;
    if (v == 0)
        v = 0; /* -0 -> +0 */
    memcpy(&u, &v, sizeof u);
    return (u >> 63) ? ~u : u | UINT64_C(0x8000000000000000);
}

typedef struct cs_keyed {
    uint64_t key;
    uint64_t index;
} cs_keyed;

/* Stable LSD radix sort by key, 11 bits a pass (6 passes, each skipped when
 * every key has the same digit): O(n), which matters at millions of
 * customers. */
static int cs_radix_sort(cs_keyed *a, size_t n)
{
    cs_keyed *tmp = cs_mallocarray(n ? n : 1, sizeof *tmp);
    if (!tmp)
        return CUSTSCORE_ENOMEM;
    cs_keyed *src = a, *dst = tmp;
    for (unsigned shift = 0; shift < 64; shift += 11) {
        size_t count[2048] = {0};
        for (size_t i = 0; i < n; i++)
            count[(src[i].key >> shift) & 2047]++;
        if (n == 0 || count[(src[0].key >> shift) & 2047] == n)
            continue;
        size_t sum = 0;
        for (size_t d = 0; d < 2048; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i].key >> shift) & 2047]++] = src[i];
        cs_keyed *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
    cs_free(tmp);
    return CUSTSCORE_OK;
}

/* Copy and check (score, label) pairs, sorted by score ascending (ties in
 * input order); labels must be 0 or 1, scores not NaN. */
static int cs_scored_make(const double *score, const double *label, size_t n, cs_scored **out,
                          double *n_pos)
{
    *out = NULL;
    if (!score || !label || n == 0)
        return CUSTSCORE_EINVAL;
    cs_keyed *k = cs_mallocarray(n, sizeof *k);
    if (!k)
        return CUSTSCORE_ENOMEM;
    double pos = 0;
    for (size_t i = 0; i < n; i++) {
        if ((label[i] != 0 && label[i] != 1) || isnan(score[i])) {
            cs_free(k);
            return CUSTSCORE_EINVAL;
        }
        k[i].key = cs_order_key(score[i]);
        k[i].index = i;
        pos += label[i];
    }
    cs_scored *s = NULL;
    int rc = cs_radix_sort(k, n);
    if (rc == 0) {
        s = cs_mallocarray(n, sizeof *s);
        if (!s)
            rc = CUSTSCORE_ENOMEM;
    }
    if (rc) {
        cs_free(k);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        s[i].score = score[k[i].index];
        s[i].label = label[k[i].index];
    }
    cs_free(k);
    *out = s;
    *n_pos = pos;
    return CUSTSCORE_OK;
}

/* AUC as the Mann-Whitney statistic with mid-ranks for ties (Hanley &
 * McNeil 1982): AUC = (R_pos - n_pos (n_pos + 1) / 2) / (n_pos n_neg), the
 * probability that a random positive scores above a random negative, ties
 * counting one half. @s sorted ascending. */
static double cs_auc_sorted(const cs_scored *s, size_t n, double n_pos)
{
    double n_neg = (double)n - n_pos;
    double rank_sum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double pos_in_group = 0;
        while (j < n && s[j].score == s[i].score)
            pos_in_group += s[j++].label;
        /* ranks i+1 .. j, mid-rank (i + 1 + j) / 2 */
        rank_sum += pos_in_group * ((double)(i + 1) + (double)j) / 2.0;
        i = j;
    }
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg);
}

/* Lift of the top fraction: the positive rate among the fraction*n highest
 * scores over the overall rate. Customers tied with the last one taken enter
 * in proportion, so the result does not depend on the order of ties. */
static double cs_lift_sorted(const cs_scored *s, size_t n, double n_pos, double fraction)
{
    double k = fmax(fraction * (double)n, 1.0);
    double taken = 0, captured = 0;
    for (size_t end = n; end > 0 && taken < k;) {
        size_t start = end;
        double pos_in_group = 0;
        while (start > 0 && s[start - 1].score == s[end - 1].score)
            pos_in_group += s[--start].label;
        double size = (double)(end - start);
        double share = fmin(1.0, (k - taken) / size);
        captured += share * pos_in_group;
        taken += share * size;
        end = start;
    }
    return (captured / k) / (n_pos / (double)n);
}

/* Calibration table: customers sorted by probability and cut into @bins
 * groups of equal size (by rank; bin b holds ranks floor(b n / bins) ..
 * floor((b + 1) n / bins) - 1); per bin the mean predicted probability and
 * the observed rate (a reliability diagram in table form). */
static void cs_calibration_sorted(const cs_scored *s, size_t n, size_t bins,
                                  custscore_calibration_bin *out)
{
    for (size_t b = 0; b < bins; b++) {
        size_t lo = (size_t)((double)b * (double)n / (double)bins);
        size_t hi = b == bins - 1 ? n : (size_t)((double)(b + 1) * (double)n / (double)bins);
        custscore_calibration_bin *c = &out[b];
        memset(c, 0, sizeof *c);
        c->n = (int64_t)(hi - lo);
        if (hi <= lo)
            continue;
        double sp = 0, sy = 0;
        for (size_t i = lo; i < hi; i++) {
            sp += s[i].score;
            sy += s[i].label;
        }
        c->p_min = s[lo].score;
        c->p_max = s[hi - 1].score;
        c->mean_predicted = sp / (double)(hi - lo);
        c->observed_rate = sy / (double)(hi - lo);
    }
}

int custscore_auc(const double *score, const double *label, size_t n, double *auc)
{
    if (!auc)
        return CUSTSCORE_EINVAL;
    *auc = NAN;
    cs_scored *s;
    double n_pos;
    int rc = cs_scored_make(score, label, n, &s, &n_pos);
    if (rc)
        return rc;
    if (n_pos == 0 || n_pos == (double)n)
        rc = CUSTSCORE_EINVAL;
    else
        *auc = cs_auc_sorted(s, n, n_pos);
    cs_free(s);
    return rc;
}

/* Brier (1950): mean squared difference between probability and outcome. */
int custscore_brier(const double *prob, const double *label, size_t n, double *brier)
{
    if (!brier)
        return CUSTSCORE_EINVAL;
    *brier = NAN;
    if (!prob || !label || n == 0)
        return CUSTSCORE_EINVAL;
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        if ((label[i] != 0 && label[i] != 1) || !(prob[i] >= 0 && prob[i] <= 1))
            return CUSTSCORE_EINVAL;
        double d = prob[i] - label[i];
        s += d * d;
    }
    *brier = s / (double)n;
    return CUSTSCORE_OK;
}

int custscore_lift(const double *score, const double *label, size_t n, double fraction,
                   double *lift)
{
    if (!lift)
        return CUSTSCORE_EINVAL;
    *lift = NAN;
    if (!(fraction > 0 && fraction <= 1))
        return CUSTSCORE_EINVAL;
    cs_scored *s;
    double n_pos;
    int rc = cs_scored_make(score, label, n, &s, &n_pos);
    if (rc)
        return rc;
    if (n_pos == 0)
        rc = CUSTSCORE_EINVAL;
    else
        *lift = cs_lift_sorted(s, n, n_pos, fraction);
    cs_free(s);
    return rc;
}

int custscore_calibration(const double *prob, const double *label, size_t n, size_t bins,
                          custscore_calibration_bin *out)
{
    if (!out || bins == 0 || bins > n || !prob)
        return CUSTSCORE_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!(prob[i] >= 0 && prob[i] <= 1))
            return CUSTSCORE_EINVAL;
    cs_scored *s;
    double n_pos;
    int rc = cs_scored_make(prob, label, n, &s, &n_pos);
    if (rc)
        return rc;
    cs_calibration_sorted(s, n, bins, out);
    cs_free(s);
    return CUSTSCORE_OK;
}

int cs_classifier_metrics(const double *prob, const double *label, size_t n, double *auc,
                          double *brier, double *lift_top_decile, size_t bins,
                          custscore_calibration_bin *calibration, double *base_rate)
{
    *auc = *brier = *lift_top_decile = *base_rate = NAN;
    int rc = custscore_brier(prob, label, n, brier);
    if (rc)
        return rc;
    cs_scored *s;
    double n_pos;
    rc = cs_scored_make(prob, label, n, &s, &n_pos);
    if (rc)
        return rc;
    *base_rate = n_pos / (double)n;
    if (n_pos > 0 && n_pos < (double)n)
        *auc = cs_auc_sorted(s, n, n_pos);
    if (n_pos > 0)
        *lift_top_decile = cs_lift_sorted(s, n, n_pos, 0.1);
    if (calibration && bins > 0 && bins <= n)
        cs_calibration_sorted(s, n, bins, calibration);
    cs_free(s);
    return CUSTSCORE_OK;
}
