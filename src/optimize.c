/*
 * optimize.c: bounded quasi-Newton minimisation for the maximum-likelihood
 * fits of the lifetime-value models, and the numerical Hessian behind their
 * standard errors.
 *
 * The models are fitted on log-parameters, so every parameter is positive by
 * construction and the box bounds only keep the search away from overflow.
 * The method is BFGS on the inverse Hessian with projection onto the box
 * (variables at a bound whose gradient points outward are held fixed, as in
 * L-BFGS-B's active set; Byrd, Lu, Nocedal & Zhu 1995), an Armijo
 * backtracking line search (Nocedal & Wright 2006, alg. 3.1) and the
 * initial scaling of eq. (6.20). The problems here have at most
 * CS_OPT_MAX_DIM variables, so the dense update costs nothing next to the
 * likelihood.
 */
#include "internal.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define CS_OPT_ARMIJO 1e-4
#define CS_OPT_MAX_STEP 3.0 /* in log-parameter units: a factor of e^3 at most */
#define CS_OPT_MAX_BACKTRACK 60

static int cs_opt_eval(const cs_opt_problem *p, const double *theta, double *f, double *grad,
                       int *evals)
{
    (*evals)++;
    int rc = p->fn(theta, f, p->analytic_gradient ? grad : NULL, p->ctx);
    if (rc != 0 || !isfinite(*f))
        return -1;
    if (grad && !p->analytic_gradient)
        return cs_numeric_gradient(p, theta, *f, grad, evals);
    if (grad)
        for (int i = 0; i < p->n; i++)
            if (!isfinite(grad[i]))
                return -1;
    return 0;
}

int cs_numeric_gradient(const cs_opt_problem *p, const double *theta, double f0, double *grad,
                        int *evals)
{
    double t[CS_OPT_MAX_DIM];
    memcpy(t, theta, sizeof(double) * (size_t)p->n);
    for (int i = 0; i < p->n; i++) {
        /* Central differences with h ~ eps^(1/3): error O(h^2) + O(eps/h). */
        double h = 6e-6 * fmax(1.0, fabs(theta[i]));
        double up = theta[i] + h, down = theta[i] - h;
        double fu, fd;
        if (up > p->upper[i])
            up = theta[i];
        if (down < p->lower[i])
            down = theta[i];
        t[i] = up;
        if (up != theta[i]) {
            (*evals)++;
            if (p->fn(t, &fu, NULL, p->ctx) != 0 || !isfinite(fu))
                return -1;
        } else {
            fu = f0;
        }
        t[i] = down;
        if (down != theta[i]) {
            (*evals)++;
            if (p->fn(t, &fd, NULL, p->ctx) != 0 || !isfinite(fd))
                return -1;
        } else {
            fd = f0;
        }
        t[i] = theta[i];
        if (up == down)
            return -1;
        grad[i] = (fu - fd) / (up - down);
    }
    return 0;
}

/* Variable i is held at its bound when the gradient pushes it outward. */
static bool cs_opt_active(const cs_opt_problem *p, const double *theta, const double *g, int i)
{
    return (theta[i] <= p->lower[i] && g[i] > 0.0) || (theta[i] >= p->upper[i] && g[i] < 0.0);
}

static double cs_opt_pgnorm(const cs_opt_problem *p, const double *theta, const double *g)
{
    double m = 0.0;
    for (int i = 0; i < p->n; i++)
        if (!cs_opt_active(p, theta, g, i) && fabs(g[i]) > m)
            m = fabs(g[i]);
    return m;
}

static void cs_opt_identity(int n, double *h, double scale)
{
    memset(h, 0, sizeof(double) * (size_t)(n * n));
    for (int i = 0; i < n; i++)
        h[i * n + i] = scale;
}

int cs_minimize(const cs_opt_problem *p, const double *start, cs_opt_result *res)
{
    int n = p->n;
    double x[CS_OPT_MAX_DIM], g[CS_OPT_MAX_DIM], xn[CS_OPT_MAX_DIM], gn[CS_OPT_MAX_DIM];
    double d[CS_OPT_MAX_DIM], s[CS_OPT_MAX_DIM], y[CS_OPT_MAX_DIM];
    double h[CS_OPT_MAX_DIM * CS_OPT_MAX_DIM], tmp[CS_OPT_MAX_DIM * CS_OPT_MAX_DIM];
    double f, fn;
    int evals = 0;

    memset(res, 0, sizeof *res);
    if (n < 1 || n > CS_OPT_MAX_DIM)
        return -1;
    for (int i = 0; i < n; i++)
        x[i] = fmin(fmax(start[i], p->lower[i]), p->upper[i]);
    if (cs_opt_eval(p, x, &f, g, &evals) != 0) {
        res->status = CS_OPT_NOT_FINITE;
        res->f = INFINITY;
        memcpy(res->theta, x, sizeof(double) * (size_t)n);
        res->evaluations = evals;
        return 0;
    }
    bool scaled = false;
    if (p->hinv0) {
        memcpy(h, p->hinv0, sizeof(double) * (size_t)(n * n));
        scaled = true;
    } else {
        cs_opt_identity(n, h, 1.0);
    }
    int status = CS_OPT_MAX_ITER;
    int iter = 0, flat = 0;
    for (; iter < p->max_iterations; iter++) {
        double pg = cs_opt_pgnorm(p, x, g);
        if (pg <= p->gtol) {
            status = CS_OPT_CONVERGED;
            break;
        }
        /* Quasi-Newton direction on the free variables. */
        bool active[CS_OPT_MAX_DIM];
        for (int i = 0; i < n; i++)
            active[i] = cs_opt_active(p, x, g, i);
        double slope = 0.0;
        for (int i = 0; i < n; i++) {
            d[i] = 0.0;
            if (active[i])
                continue;
            for (int j = 0; j < n; j++)
                if (!active[j])
                    d[i] -= h[i * n + j] * g[j];
            slope += d[i] * g[i];
        }
        if (!(slope < 0.0)) {
            /* Not a descent direction: restart from steepest descent. */
            cs_opt_identity(n, h, 1.0);
            scaled = false;
            slope = 0.0;
            for (int i = 0; i < n; i++) {
                d[i] = active[i] ? 0.0 : -g[i];
                slope += d[i] * g[i];
            }
        }
        double dmax = 0.0;
        for (int i = 0; i < n; i++)
            dmax = fmax(dmax, fabs(d[i]));
        double step = dmax > CS_OPT_MAX_STEP ? CS_OPT_MAX_STEP / dmax : 1.0;
        bool accepted = false;
        for (int bt = 0; bt < CS_OPT_MAX_BACKTRACK; bt++) {
            double decrease = 0.0;
            for (int i = 0; i < n; i++) {
                xn[i] = fmin(fmax(x[i] + step * d[i], p->lower[i]), p->upper[i]);
                decrease += g[i] * (xn[i] - x[i]);
            }
            /* An analytic gradient costs little more than the function:
             * take it with every trial, ready when the step is accepted. */
            int rc = p->fn(xn, &fn, p->analytic_gradient ? gn : NULL, p->ctx);
            evals++;
            if (rc == 0 && isfinite(fn) && fn <= f + CS_OPT_ARMIJO * decrease) {
                accepted = true;
                break;
            }
            step *= (rc != 0 || !isfinite(fn)) ? 0.1 : 0.5;
        }
        if (!accepted) {
            if (scaled || h[0] != 1.0) {
                /* A stale curvature model: forget it and try once more. */
                cs_opt_identity(n, h, 1.0);
                scaled = false;
                continue;
            }
            /* No decrease is possible any more: at the optimum as far as
             * the arithmetic can tell when the gradient is small. */
            status = pg <= 1e3 * p->gtol ? CS_OPT_CONVERGED : CS_OPT_LINE_SEARCH;
            break;
        }
        bool grad_ok = true;
        if (p->analytic_gradient) {
            for (int i = 0; i < n; i++)
                grad_ok = grad_ok && isfinite(gn[i]);
        } else {
            grad_ok = cs_numeric_gradient(p, xn, fn, gn, &evals) == 0;
        }
        if (!grad_ok) {
            status = CS_OPT_NOT_FINITE;
            break;
        }
        double sy = 0.0, yy = 0.0, ss = 0.0;
        for (int i = 0; i < n; i++) {
            s[i] = xn[i] - x[i];
            y[i] = gn[i] - g[i];
            sy += s[i] * y[i];
            yy += y[i] * y[i];
            ss += s[i] * s[i];
        }
        double fchange = fabs(f - fn);
        memcpy(x, xn, sizeof(double) * (size_t)n);
        memcpy(g, gn, sizeof(double) * (size_t)n);
        f = fn;
        /* BFGS update of the inverse Hessian, skipped without positive
         * curvature (it keeps h positive definite). */
        if (sy > 1e-12 * sqrt(ss * yy)) {
            if (!scaled) {
                cs_opt_identity(n, h, sy / yy);
                scaled = true;
            }
            double rho = 1.0 / sy;
            /* h = (I - rho s y') h (I - rho y s') + rho s s' */
            double hy[CS_OPT_MAX_DIM];
            double yhy = 0.0;
            for (int i = 0; i < n; i++) {
                hy[i] = 0.0;
                for (int j = 0; j < n; j++)
                    hy[i] += h[i * n + j] * y[j];
                yhy += y[i] * hy[i];
            }
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    tmp[i * n + j] = h[i * n + j] - rho * (hy[i] * s[j] + s[i] * hy[j]) +
                                     (rho * rho * yhy + rho) * s[i] * s[j];
            memcpy(h, tmp, sizeof(double) * (size_t)(n * n));
        }
        /* The objective stopped moving: converged as far as the arithmetic
         * allows when the gradient is also small. */
        if (fchange <= 1e-15 * fmax(1.0, fabs(f))) {
            if (++flat >= 3) {
                iter++;
                status =
                    cs_opt_pgnorm(p, x, g) <= 1e3 * p->gtol ? CS_OPT_CONVERGED : CS_OPT_LINE_SEARCH;
                break;
            }
        } else {
            flat = 0;
        }
    }
    memcpy(res->theta, x, sizeof(double) * (size_t)n);
    memcpy(res->grad, g, sizeof(double) * (size_t)n);
    memcpy(res->hinv, h, sizeof(double) * (size_t)(n * n));
    res->f = f;
    res->grad_norm = cs_opt_pgnorm(p, x, g);
    res->iterations = iter;
    res->evaluations = evals;
    res->status = status;
    return 0;
}

int cs_minimize_multistart(const cs_opt_problem *p, int n_starts, const double *starts,
                           cs_opt_result *best, int *converged, int *agreeing)
{
    cs_opt_result r;
    bool have = false;
    int n = p->n;
    int total_evals = 0;
    *converged = 0;
    *agreeing = 0;
    double found_f[CS_OPT_MAX_STARTS];
    double found_theta[CS_OPT_MAX_STARTS][CS_OPT_MAX_DIM];
    int n_found = 0;
    for (int k = 0; k < n_starts && k < CS_OPT_MAX_STARTS; k++) {
        if (cs_minimize(p, starts + (size_t)k * (size_t)n, &r) != 0)
            return -1;
        total_evals += r.evaluations;
        if (r.status == CS_OPT_CONVERGED) {
            (*converged)++;
            found_f[n_found] = r.f;
            memcpy(found_theta[n_found], r.theta, sizeof(double) * (size_t)n);
            n_found++;
        }
        bool better =
            !have || (r.status == CS_OPT_CONVERGED && best->status != CS_OPT_CONVERGED) ||
            ((r.status == CS_OPT_CONVERGED) == (best->status == CS_OPT_CONVERGED) && r.f < best->f);
        if (better) {
            *best = r;
            have = true;
        }
    }
    best->evaluations = total_evals;
    /* How many converged starts reached the same optimum: a check that the
     * likelihood surface is not multimodal where it matters. */
    for (int k = 0; k < n_found; k++) {
        bool same = fabs(found_f[k] - best->f) <= 1e-8 * fmax(1.0, fabs(best->f));
        for (int i = 0; same && i < n; i++)
            if (fabs(found_theta[k][i] - best->theta[i]) > 1e-3)
                same = false;
        if (same)
            (*agreeing)++;
    }
    return have ? 0 : -1;
}

int cs_numeric_hessian(const cs_opt_problem *p, const double *theta, double *hess)
{
    int n = p->n;
    double t[CS_OPT_MAX_DIM];
    memcpy(t, theta, sizeof(double) * (size_t)n);
    if (p->analytic_gradient) {
        /* Central differences of the analytic gradient. */
        double gp[CS_OPT_MAX_DIM], gm[CS_OPT_MAX_DIM];
        for (int i = 0; i < n; i++) {
            double h = 1e-5 * fmax(1.0, fabs(theta[i]));
            double f;
            t[i] = theta[i] + h;
            if (p->fn(t, &f, gp, p->ctx) != 0)
                return -1;
            t[i] = theta[i] - h;
            if (p->fn(t, &f, gm, p->ctx) != 0)
                return -1;
            t[i] = theta[i];
            for (int j = 0; j < n; j++)
                hess[i * n + j] = (gp[j] - gm[j]) / (2.0 * h);
        }
    } else {
        /* Second differences of the function, h ~ eps^(1/4). */
        double f0;
        if (p->fn(t, &f0, NULL, p->ctx) != 0)
            return -1;
        double hs[CS_OPT_MAX_DIM];
        for (int i = 0; i < n; i++)
            hs[i] = 2e-4 * fmax(1.0, fabs(theta[i]));
        for (int i = 0; i < n; i++) {
            double fp, fm;
            t[i] = theta[i] + hs[i];
            if (p->fn(t, &fp, NULL, p->ctx) != 0)
                return -1;
            t[i] = theta[i] - hs[i];
            if (p->fn(t, &fm, NULL, p->ctx) != 0)
                return -1;
            t[i] = theta[i];
            hess[i * n + i] = (fp - 2.0 * f0 + fm) / (hs[i] * hs[i]);
            for (int j = 0; j < i; j++) {
                double fpp, fpm, fmp, fmm;
                t[i] = theta[i] + hs[i];
                t[j] = theta[j] + hs[j];
                if (p->fn(t, &fpp, NULL, p->ctx) != 0)
                    return -1;
                t[j] = theta[j] - hs[j];
                if (p->fn(t, &fpm, NULL, p->ctx) != 0)
                    return -1;
                t[i] = theta[i] - hs[i];
                if (p->fn(t, &fmm, NULL, p->ctx) != 0)
                    return -1;
                t[j] = theta[j] + hs[j];
                if (p->fn(t, &fmp, NULL, p->ctx) != 0)
                    return -1;
                t[i] = theta[i];
                t[j] = theta[j];
                hess[i * n + j] = hess[j * n + i] = (fpp - fpm - fmp + fmm) / (4.0 * hs[i] * hs[j]);
            }
        }
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++) {
            double v = 0.5 * (hess[i * n + j] + hess[j * n + i]);
            hess[i * n + j] = hess[j * n + i] = v;
        }
    for (int i = 0; i < n * n; i++)
        if (!isfinite(hess[i]))
            return -1;
    return 0;
}

int cs_cholesky(int n, double *a)
{
    for (int j = 0; j < n; j++) {
        double d = a[j * n + j];
        for (int k = 0; k < j; k++)
            d -= a[j * n + k] * a[j * n + k];
        if (!(d > 0.0))
            return -1;
        d = sqrt(d);
        a[j * n + j] = d;
        for (int i = j + 1; i < n; i++) {
            double v = a[i * n + j];
            for (int k = 0; k < j; k++)
                v -= a[i * n + k] * a[j * n + k];
            a[i * n + j] = v / d;
        }
        for (int i = 0; i < j; i++)
            a[i * n + j] = 0.0;
    }
    return 0;
}

int cs_spd_inverse(int n, const double *a, double *inv)
{
    double l[CS_OPT_MAX_DIM * CS_OPT_MAX_DIM];
    memcpy(l, a, sizeof(double) * (size_t)(n * n));
    if (cs_cholesky(n, l) != 0)
        return -1;
    /* Solve L L' X = I column by column. */
    for (int c = 0; c < n; c++) {
        double y[CS_OPT_MAX_DIM];
        for (int i = 0; i < n; i++) {
            double v = i == c ? 1.0 : 0.0;
            for (int k = 0; k < i; k++)
                v -= l[i * n + k] * y[k];
            y[i] = v / l[i * n + i];
        }
        for (int i = n - 1; i >= 0; i--) {
            double v = y[i];
            for (int k = i + 1; k < n; k++)
                v -= l[k * n + i] * inv[k * n + c];
            inv[i * n + c] = v / l[i * n + i];
        }
    }
    return 0;
}
