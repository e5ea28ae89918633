/*
 * test_btyd.c: the lifetime-value models' numerics, likelihoods, fits and
 * predictions: special functions against mpmath, CDNOW parity with the
 * published estimates, parameter recovery on simulated data, edge cases.
 */
#include "btyd_sim.h"
#include "internal.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* CDNOW summary (weeks, calibration end 1997-09-30): read with plain code. */

typedef struct cdnow {
    size_t n;
    double *x, *t_x, *T, *zbar;
} cdnow;

static int cdnow_load(cdnow *d)
{
    memset(d, 0, sizeof *d);
    char *path = tu_shared_path("lifetimes-datasets/cdnow_customers_summary_with_transactions.csv");
    if (!path)
        return -1;
    FILE *f = fopen(path, "r");
    free(path);
    if (!f)
        return -1;
    size_t cap = 4096;
    d->x = malloc(cap * sizeof(double));
    d->t_x = malloc(cap * sizeof(double));
    d->T = malloc(cap * sizeof(double));
    d->zbar = malloc(cap * sizeof(double));
    char line[256];
    if (!fgets(line, sizeof line, f)) { /* header */
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof line, f) && d->n < cap) {
        int id;
        if (sscanf(line, "%d,%lf,%lf,%lf,%lf", &id, &d->x[d->n], &d->t_x[d->n], &d->T[d->n],
                   &d->zbar[d->n]) == 5)
            d->n++;
    }
    fclose(f);
    return d->n == 2357 ? 0 : -1;
}

static void cdnow_free(cdnow *d)
{
    free(d->x);
    free(d->t_x);
    free(d->T);
    free(d->zbar);
}

/* Three significant digits: |v - ref| <= half a unit in the third digit. */
static void ck_3sig(const char *what, double v, double ref)
{
    double unit = pow(10.0, floor(log10(fabs(ref))) - 2.0);
    ck_assert_msg(fabs(v - ref) <= 0.5 * unit + 1e-12, "%s = %.6f, published %.4g", what, v, ref);
}

/* ---------------------------------------------------------------------- */
/* Special functions */

/* log|2F1| and sign from mpmath 1.3 (mp.dps = 50), computed independently. */
static const struct {
    double a, b, c, z, log_abs;
    int sign;
} h2f1_ref[] = {
    {1, 1, 2, 0.5, 0.32663425997828098, 1},
    {2.243, 4.426, 4.219, 0.4740258161752194, 1.5206757450090226, 1},
    {222.16, 1.606, 223.16, 0.5, 1.1060546666448372, 1},
    {222.16, 1.606, 223.16, 0.99, 6.9432640349712603, 1},
    {222.16, 1.606, 223.16, 0.9999, 11.297377662887229, 1},
    {222.16, 1.606, 223.16, -0.01, -0.01590897192166308, 1},
    {222.16, 1.606, 223.16, -50.0, -6.3074000908021399, 1},
    {1001.159, 1.606, 1002.159, 0.999, 10.329288484378734, 1},
    {1.159, 1.606, 2.159, 0.9999, 6.2251179516698731, 1},
    {0.5, 0.5, -0.3, 0.7, 0.93461427471654337, -1},
    {0.5, 0.5, -0.3, 0.95, 4.001493272258646, -1},
    {1000.2, 1002.4, 1002.2, 0.95, 2996.9301867936592, 1},
    {3.0, 2.0, 1.5, -0.999, -3.1644093847498308, 1},
    {2.5, 3.5, 1.2, -200.0, -15.715336466709595, 1},
    {1.0, 1.606, 223.16, 0.9, 0.00652440095748859, 1},
};

START_TEST(test_hyp2f1_reference)
{
    for (size_t i = 0; i < sizeof h2f1_ref / sizeof h2f1_ref[0]; i++) {
        double l;
        int s;
        int rc = cs_hyp2f1(h2f1_ref[i].a, h2f1_ref[i].b, h2f1_ref[i].c, h2f1_ref[i].z, &l, &s);
        ck_assert_msg(rc == 0, "2F1 case %zu failed", i);
        ck_assert_int_eq(s, h2f1_ref[i].sign);
        double tol = 1e-9 * fmax(1.0, fabs(h2f1_ref[i].log_abs));
        ck_assert_msg(fabs(l - h2f1_ref[i].log_abs) <= tol, "2F1 case %zu: %.17g vs %.17g", i, l,
                      h2f1_ref[i].log_abs);
    }
    /* Closed forms: 2F1(1,1;2;z) = -log(1-z)/z, 2F1(a,b;b;z) = (1-z)^-a. */
    double l;
    int s;
    ck_assert_int_eq(cs_hyp2f1(1, 1, 2, -3.0, &l, &s), 0);
    ck_assert_double_eq_tol(exp(l), log(4.0) / 3.0, 1e-14);
    ck_assert_int_eq(cs_hyp2f1(2.5, 1.5, 1.5, 0.97, &l, &s), 0);
    ck_assert_double_eq_tol(l, -2.5 * log(0.03), 1e-12);
    /* A pole (c = 0) and z >= 1 are refused, not NaN. */
    ck_assert_int_ne(cs_hyp2f1(1, 1, 0, 0.5, &l, &s), 0);
    ck_assert_int_ne(cs_hyp2f1(1, 1, 2, 1.0, &l, &s), 0);
}
END_TEST

START_TEST(test_specfun_misc)
{
    const double euler = 0.57721566490153286061;
    ck_assert_double_eq_tol(cs_digamma(1.0), -euler, 1e-14);
    ck_assert_double_eq_tol(cs_digamma(0.5), -euler - 2.0 * log(2.0), 1e-14);
    ck_assert_double_eq_tol(cs_digamma(100.0), 4.600161852738087, 1e-13);
    ck_assert_double_eq_tol(cs_digamma(0.01), -100.56088545786867, 1e-11);
    ck_assert_double_eq_tol(cs_lgamma(0.5), 0.5 * log(M_PI), 1e-14);
    int sg;
    ck_assert_double_eq_tol(cs_lgamma_sign(-0.5, &sg), log(2.0 * sqrt(M_PI)), 1e-14);
    ck_assert_int_eq(sg, -1);
    ck_assert_double_eq_tol(cs_logaddexp(1000.0, 1000.0), 1000.0 + log(2.0), 1e-12);
    ck_assert_double_eq_tol(cs_log1pexp(-800.0), exp(-800.0), 1e-320);
    ck_assert_double_eq_tol(cs_log1pexp(800.0), 800.0, 1e-12);
    ck_assert_double_eq_tol(cs_log1mexp(-1e-20), log(1e-20), 1e-10);
    ck_assert_double_eq_tol(cs_log1mexp(-50.0), -exp(-50.0), 1e-30);
    double v[3] = {-1000.0, -1000.0, -INFINITY};
    ck_assert_double_eq_tol(cs_logsumexp(v, 3), -1000.0 + log(2.0), 1e-12);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Optimiser */

static int rosenbrock(const double *th, double *f, double *g, void *ctx)
{
    (void)ctx;
    double a = 1.0 - th[0], b = th[1] - th[0] * th[0];
    *f = a * a + 100.0 * b * b;
    if (g) {
        g[0] = -2.0 * a - 400.0 * th[0] * b;
        g[1] = 200.0 * b;
    }
    return 0;
}

START_TEST(test_optimizer)
{
    cs_opt_problem p;
    memset(&p, 0, sizeof p);
    p.n = 2;
    p.fn = rosenbrock;
    p.analytic_gradient = true;
    p.max_iterations = 500;
    p.gtol = 1e-9;
    for (int i = 0; i < 2; i++) {
        p.lower[i] = -5;
        p.upper[i] = 5;
    }
    double start[2] = {-1.2, 1.0};
    cs_opt_result r;
    ck_assert_int_eq(cs_minimize(&p, start, &r), 0);
    ck_assert_int_eq(r.status, CS_OPT_CONVERGED);
    ck_assert_double_eq_tol(r.theta[0], 1.0, 1e-6);
    ck_assert_double_eq_tol(r.theta[1], 1.0, 1e-6);
    /* Numerical gradient reaches the same point. */
    p.analytic_gradient = false;
    p.gtol = 1e-7;
    ck_assert_int_eq(cs_minimize(&p, start, &r), 0);
    ck_assert_int_eq(r.status, CS_OPT_CONVERGED);
    ck_assert_double_eq_tol(r.theta[0], 1.0, 1e-4);
    /* A bound that binds: the minimum on x <= 0.5 is (0.5, 0.25). */
    p.analytic_gradient = true;
    p.upper[0] = 0.5;
    ck_assert_int_eq(cs_minimize(&p, start, &r), 0);
    ck_assert_int_eq(r.status, CS_OPT_CONVERGED);
    ck_assert_double_eq_tol(r.theta[0], 0.5, 1e-9);
    ck_assert_double_eq_tol(r.theta[1], 0.25, 1e-6);
    /* The numerical Hessian of the Rosenbrock function at (1, 1). */
    double h[4];
    double at[2] = {1.0, 1.0};
    p.upper[0] = 5;
    ck_assert_int_eq(cs_numeric_hessian(&p, at, h), 0);
    ck_assert_double_eq_tol(h[0], 802.0, 1e-3);
    ck_assert_double_eq_tol(h[1], -400.0, 1e-3);
    ck_assert_double_eq_tol(h[3], 200.0, 1e-3);
    p.analytic_gradient = false;
    ck_assert_int_eq(cs_numeric_hessian(&p, at, h), 0);
    ck_assert_double_eq_tol(h[0], 802.0, 1e-2);
    ck_assert_double_eq_tol(h[1], -400.0, 1e-2);
    ck_assert_double_eq_tol(h[2], -400.0, 1e-2);
    /* SPD inverse. */
    double a[4] = {4, 2, 2, 3}, inv[4];
    ck_assert_int_eq(cs_spd_inverse(2, a, inv), 0);
    ck_assert_double_eq_tol(inv[0], 3.0 / 8.0, 1e-15);
    ck_assert_double_eq_tol(inv[1], -2.0 / 8.0, 1e-15);
    double bad[4] = {1, 2, 2, 1};
    ck_assert_int_ne(cs_spd_inverse(2, bad, inv), 0);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* CDNOW parity */

static custscore_fit_info fit_cdnow(const cdnow *d, custscore_model model, int starts)
{
    custscore_fit_options o = CUSTSCORE_FIT_OPTIONS_INIT;
    o.model = model;
    o.starts = starts;
    custscore_fit_info info;
    char err[512];
    int rc = model == CUSTSCORE_MODEL_GG
                 ? custscore_gg_fit(&o, d->n, d->x, d->zbar, &info, err, sizeof err)
                 : custscore_btyd_fit(&o, d->n, d->x, d->t_x, d->T, NULL, &info, err, sizeof err);
    ck_assert_msg(rc == 0, "fit %s: %d: %s", custscore_model_name(model), rc, err);
    ck_assert_int_eq(info.status, CUSTSCORE_FIT_CONVERGED);
    return info;
}

START_TEST(test_cdnow_bgnbd)
{
    cdnow d;
    if (cdnow_load(&d) != 0) {
        tu_skip("CDNOW summary not found (../shared/data/lifetimes-datasets)");
        cdnow_free(&d);
        return;
    }
    custscore_fit_info f = fit_cdnow(&d, CUSTSCORE_MODEL_BGNBD, 3);
    ck_3sig("r", f.param[0], 0.243);
    ck_3sig("alpha", f.param[1], 4.414);
    ck_3sig("a", f.param[2], 0.793);
    ck_3sig("b", f.param[3], 2.426);
    ck_assert_msg(fabs(f.loglik - -9582.43) <= 0.05, "LL %.4f", f.loglik);
    ck_assert_int_eq(f.n, 2357);
    ck_assert_int_eq(f.starts_agreeing, 3);
    ck_assert(f.n_unique < 2357 && f.n_unique > 900);
    for (int k = 0; k < 4; k++)
        ck_assert(isfinite(f.std_error[k]) && f.std_error[k] > 0 && f.std_error[k] < f.param[k]);
    ck_assert_str_eq(f.param_name[1], "alpha");
    ck_assert_double_eq(f.btyd.alpha, f.param[1]);

    /* The README's unconditional E[X(t)] are those of the unrounded MLE
     * (at the rounded 0.243, 4.414, ... mpmath gives 0.05327, 0.15087,
     * 1.04524, 1.86052); compare at the fitted parameters. */
    double t[4] = {1, 3, 32, 78}, e[4];
    const double ref[4] = {0.0532, 0.1506, 1.0437, 1.8576};
    ck_assert_int_eq(custscore_btyd_expected(&f.btyd, 4, t, e), 0);
    for (int k = 0; k < 4; k++)
        ck_assert_msg(fabs(e[k] - ref[k]) <= 1e-3, "E[X(%g)] = %.5f, published %.4f", t[k], e[k],
                      ref[k]);
    /* At the rounded parameters, exactly as mpmath (1e-9). */
    custscore_btyd_params pub = {CUSTSCORE_MODEL_BGNBD, 0.243, 4.414, 0.793, 2.426, 0, 0};
    const double mp_ref[4] = {0.0532678911716586, 0.150865230893046, 1.04524332837444,
                              1.86051905794277};
    ck_assert_int_eq(custscore_btyd_expected(&pub, 4, t, e), 0);
    for (int k = 0; k < 4; k++)
        ck_assert_double_eq_tol(e[k], mp_ref[k], 1e-9);
    double x = 2, tx = 30.43, T = 38.86, ce;
    ck_assert_int_eq(custscore_btyd_conditional_expected(&pub, 39, 1, &x, &tx, &T, &ce), 0);
    ck_assert_double_eq_tol(ce, 1.226, 1e-3);
    ck_assert_double_eq_tol(ce, 1.22602817476714, 1e-9); /* mpmath */
    /* The log-likelihood at the published parameters: the same optimum. */
    double ll;
    ck_assert_int_eq(custscore_btyd_loglik(&pub, d.n, d.x, d.t_x, d.T, NULL, NULL, &ll), 0);
    ck_assert(fabs(ll - -9582.43) < 0.01);
    cdnow_free(&d);
}
END_TEST

START_TEST(test_cdnow_mbgnbd)
{
    cdnow d;
    if (cdnow_load(&d) != 0) {
        tu_skip("CDNOW summary not found");
        cdnow_free(&d);
        return;
    }
    custscore_fit_info f = fit_cdnow(&d, CUSTSCORE_MODEL_MBGNBD, 3);
    ck_3sig("r", f.param[0], 0.525);
    ck_3sig("alpha", f.param[1], 6.183);
    ck_3sig("a", f.param[2], 0.891);
    ck_3sig("b", f.param[3], 1.614);
    /* MBG/NBD fits CDNOW about as well as BG/NBD. */
    ck_assert(fabs(f.loglik - -9582.43) < 1.0);
    cdnow_free(&d);
}
END_TEST

START_TEST(test_cdnow_pnbd)
{
    cdnow d;
    if (cdnow_load(&d) != 0) {
        tu_skip("CDNOW summary not found");
        cdnow_free(&d);
        return;
    }
    /* One start under valgrind: the numerical gradient makes it the slow one. */
    custscore_fit_info f = fit_cdnow(&d, CUSTSCORE_MODEL_PNBD, tu_under_valgrind() ? 1 : 3);
    ck_3sig("r", f.param[0], 0.553);
    ck_3sig("alpha", f.param[1], 10.578);
    ck_3sig("s", f.param[2], 0.606);
    ck_3sig("beta", f.param[3], 11.669);
    ck_assert_msg(fabs(f.loglik - -9594.97) <= 0.05, "LL %.4f", f.loglik);
    custscore_btyd_params pub = {CUSTSCORE_MODEL_PNBD, 0.553, 10.578, 0, 0, 0.606, 11.669};
    double x = 26, tx = 30.86, T = 31, ce, pa;
    ck_assert_int_eq(custscore_btyd_conditional_expected(&pub, 52, 1, &x, &tx, &T, &ce), 0);
    ck_assert_int_eq(custscore_btyd_p_alive(&pub, 1, &x, &tx, &T, &pa), 0);
    ck_assert_double_eq_tol(ce, 25.46, 5e-3);
    ck_assert_double_eq_tol(pa, 0.998, 5e-4);
    /* mpmath by direct quadrature of the likelihood integral (no 2F1). */
    ck_assert_double_eq_tol(ce, 25.4584729514288, 1e-8);
    ck_assert_double_eq_tol(pa, 0.997918731055158, 1e-10);
    cdnow_free(&d);
}
END_TEST

START_TEST(test_cdnow_gg)
{
    cdnow d;
    if (cdnow_load(&d) != 0) {
        tu_skip("CDNOW summary not found");
        cdnow_free(&d);
        return;
    }
    custscore_fit_info f = fit_cdnow(&d, CUSTSCORE_MODEL_GG, 3);
    ck_3sig("p", f.param[0], 6.25);
    ck_3sig("q", f.param[1], 3.74);
    ck_3sig("gamma", f.param[2], 15.44);
    ck_assert_msg(fabs(f.loglik - -4055.92) <= 0.1, "LL %.4f", f.loglik);
    ck_assert_int_eq(f.n, 946);
    ck_assert_int_eq(f.n_excluded, 2357 - 946);
    ck_assert(isfinite(f.spend_frequency_corr) && fabs(f.spend_frequency_corr) < 0.3);
    ck_assert_double_eq_tol(f.mean_spend, 35.08, 0.01);
    /* Conditional expected spend of customers 1-10 at the unrounded
     * estimates, published truncated to the cent (lifetimes' documentation
     * prints 24.658619, 18.911489, 35.170981, ...). */
    const double ref[10] = {24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17};
    double e[10];
    ck_assert_int_eq(custscore_gg_expected_spend(&f.gg, 10, d.x, d.zbar, e), 0);
    for (int i = 0; i < 10; i++)
        ck_assert_msg(e[i] >= ref[i] && e[i] < ref[i] + 0.01, "customer %d: %.4f vs %.2f", i + 1,
                      e[i], ref[i]);
    cdnow_free(&d);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Gradients: the closed forms against central differences */

static void check_gradient(custscore_btyd_params p, size_t n, const double *x, const double *tx,
                           const double *T)
{
    double g[4];
    ck_assert_int_eq(custscore_btyd_gradient(&p, n, x, tx, T, NULL, g), 0);
    double *slot[4] = {&p.r, &p.alpha, p.model == CUSTSCORE_MODEL_PNBD ? &p.s : &p.a,
                       p.model == CUSTSCORE_MODEL_PNBD ? &p.beta : &p.b};
    for (int k = 0; k < 4; k++) {
        double v = *slot[k], h = 1e-6 * v, lp, lm;
        *slot[k] = v + h;
        ck_assert_int_eq(custscore_btyd_loglik(&p, n, x, tx, T, NULL, NULL, &lp), 0);
        *slot[k] = v - h;
        ck_assert_int_eq(custscore_btyd_loglik(&p, n, x, tx, T, NULL, NULL, &lm), 0);
        *slot[k] = v;
        double num = (lp - lm) / (2 * h);
        ck_assert_msg(fabs(g[k] - num) <= 1e-5 * fmax(1.0, fabs(num)), "model %d d/dp%d: %g vs %g",
                      (int)p.model, k, g[k], num);
    }
}

START_TEST(test_gradients)
{
    double x[6] = {0, 1, 2, 5, 30, 0}, tx[6] = {0, 3.5, 10, 20.25, 38, 0},
           T[6] = {12, 20, 30, 38.5, 38.9, 0.5};
    custscore_btyd_params bg = {CUSTSCORE_MODEL_BGNBD, 0.3, 5.0, 0.8, 2.5, 0, 0};
    check_gradient(bg, 6, x, tx, T);
    bg.model = CUSTSCORE_MODEL_MBGNBD;
    check_gradient(bg, 6, x, tx, T);
    custscore_btyd_params pn = {CUSTSCORE_MODEL_PNBD, 0.6, 10.0, 0, 0, 0.7, 12.0};
    check_gradient(pn, 6, x, tx, T);
    /* Gamma-Gamma. */
    double gx[4] = {1, 2, 5, 30}, gz[4] = {20.0, 35.5, 12.25, 80.0}, g[3];
    custscore_gg_params gp = {6.0, 4.0, 15.0};
    ck_assert_int_eq(custscore_gg_gradient(&gp, 4, gx, gz, g), 0);
    double *slot[3] = {&gp.p, &gp.q, &gp.gamma};
    for (int k = 0; k < 3; k++) {
        double v = *slot[k], h = 1e-6 * v, lp, lm;
        *slot[k] = v + h;
        custscore_gg_loglik(&gp, 4, gx, gz, &lp);
        *slot[k] = v - h;
        custscore_gg_loglik(&gp, 4, gx, gz, &lm);
        *slot[k] = v;
        ck_assert_double_eq_tol(g[k], (lp - lm) / (2 * h), 1e-5 * fmax(1.0, fabs(g[k])));
    }
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Numerical stress: the cases where reference implementations return NaN */

START_TEST(test_stress_points)
{
    double x[5] = {221, 1000, 0, 3, 1e5}, tx[5] = {103.4, 10, 0, 20, 50},
           T[5] = {103.6, 100, 50, 20, 50};
    custscore_btyd_params ps[3] = {
        {CUSTSCORE_MODEL_BGNBD, 0.243, 4.414, 0.793, 2.426, 0, 0},
        {CUSTSCORE_MODEL_MBGNBD, 0.525, 6.183, 0.891, 1.614, 0, 0},
        {CUSTSCORE_MODEL_PNBD, 0.553, 10.578, 0, 0, 0.606, 11.669},
    };
    for (int m = 0; m < 3; m++) {
        double pa[5], ce[5], p0[5], ll[5];
        ck_assert_int_eq(custscore_btyd_p_alive(&ps[m], 5, x, tx, T, pa), 0);
        ck_assert_int_eq(custscore_btyd_conditional_expected(&ps[m], 52, 5, x, tx, T, ce), 0);
        ck_assert_int_eq(custscore_btyd_p_no_purchase(&ps[m], 52, 5, x, tx, T, p0), 0);
        ck_assert_int_eq(custscore_btyd_loglik(&ps[m], 5, x, tx, T, NULL, ll, NULL), 0);
        for (int i = 0; i < 5; i++) {
            ck_assert_msg(isfinite(pa[i]) && pa[i] >= 0 && pa[i] <= 1, "model %d row %d: %g", m, i,
                          pa[i]);
            ck_assert(isfinite(ce[i]) && ce[i] >= 0);
            ck_assert(isfinite(p0[i]) && p0[i] >= 0 && p0[i] <= 1);
            ck_assert(isfinite(ll[i])); /* a density: may exceed 0 */
            /* No purchase is at least as likely as being dead. */
            ck_assert(p0[i] >= 1 - pa[i] - 1e-12);
        }
        /* A customer silent for 90 weeks after 1000 purchases is gone. */
        ck_assert(pa[1] < 1e-100);
        /* x = 221 with the last purchase 0.2 weeks ago is alive. */
        ck_assert(pa[0] > 0.99);
    }
    /* Pareto/NBD against mpmath's quadrature of the likelihood integral. */
    double pa3[3], ce3[3];
    ck_assert_int_eq(custscore_btyd_p_alive(&ps[2], 3, x, tx, T, pa3), 0);
    ck_assert_int_eq(custscore_btyd_conditional_expected(&ps[2], 52, 3, x, tx, T, ce3), 0);
    ck_assert_double_eq_tol(pa3[0], 0.998714939380824, 1e-10);
    ck_assert_double_eq_tol(ce3[0], 89.5834344262835, 1e-8);
    ck_assert_double_eq_tol(pa3[2], 0.241020421264507, 1e-10);
    ck_assert_double_eq_tol(ce3[2], 0.0938214799030706, 1e-10);
    /* BG/NBD: P(alive) = 1 for x = 0 (no drop-out before a repeat purchase). */
    double pa1[5];
    custscore_btyd_p_alive(&ps[0], 5, x, tx, T, pa1);
    ck_assert_double_eq(pa1[2], 1.0);
}
END_TEST

/* The distribution of X(t) sums to 1 and its mean is E[X(t)]. */
START_TEST(test_pmf_consistency)
{
    custscore_btyd_params ps[3] = {
        {CUSTSCORE_MODEL_BGNBD, 0.243, 4.414, 0.793, 2.426, 0, 0},
        {CUSTSCORE_MODEL_MBGNBD, 0.525, 6.183, 0.891, 1.614, 0, 0},
        {CUSTSCORE_MODEL_PNBD, 0.553, 10.578, 0, 0, 0.606, 11.669},
    };
    /* Under valgrind a shorter period, so that fewer terms carry the mass. */
    size_t max_n = tu_under_valgrind() ? 60 : 200;
    double *pmf = malloc((max_n + 1) * sizeof *pmf);
    for (int m = 0; m < 3; m++) {
        double t = tu_under_valgrind() ? 8.0 : 39.0, e;
        ck_assert_int_eq(custscore_btyd_pmf(&ps[m], t, max_n, pmf), 0);
        ck_assert_int_eq(custscore_btyd_expected(&ps[m], 1, &t, &e), 0);
        double sum = 0, mean = 0;
        for (size_t k = 0; k <= max_n; k++) {
            ck_assert(pmf[k] >= 0 && pmf[k] <= 1);
            sum += pmf[k];
            mean += (double)k * pmf[k];
        }
        ck_assert_msg(fabs(sum - 1.0) < 1e-6, "model %d: sum %.10f", m, sum);
        ck_assert_msg(fabs(mean - e) < 1e-4, "model %d: mean %.8f vs E %.8f", m, mean, e);
        /* P(X(t) = 0) for a new customer equals P(no purchase | x=0, T=0). */
        double z = 0, p0;
        ck_assert_int_eq(custscore_btyd_p_no_purchase(&ps[m], t, 1, &z, &z, &z, &p0), 0);
        ck_assert_double_eq_tol(p0, pmf[0], 1e-10);
        /* t = 0: no purchases. */
        ck_assert_int_eq(custscore_btyd_pmf(&ps[m], 0.0, 3, pmf), 0);
        ck_assert_double_eq(pmf[0], 1.0);
        ck_assert_double_eq(pmf[1], 0.0);
    }
    free(pmf);
    ck_assert_int_eq(
        custscore_btyd_pmf(&(custscore_btyd_params){CUSTSCORE_MODEL_BGNBD, 1, 1, 1, 1, 0, 0}, 1.0,
                           2000000, NULL),
        CUSTSCORE_EINVAL);
}
END_TEST

/* P(no purchase in t | history) falls with t towards 1 - P(alive). */
START_TEST(test_no_purchase)
{
    custscore_btyd_params ps[3] = {
        {CUSTSCORE_MODEL_BGNBD, 0.243, 4.414, 0.793, 2.426, 0, 0},
        {CUSTSCORE_MODEL_MBGNBD, 0.525, 6.183, 0.891, 1.614, 0, 0},
        {CUSTSCORE_MODEL_PNBD, 0.553, 10.578, 0, 0, 0.606, 11.669},
    };
    double x = 4, tx = 20, T = 35;
    for (int m = 0; m < 3; m++) {
        double pa, prev = 1.0;
        custscore_btyd_p_alive(&ps[m], 1, &x, &tx, &T, &pa);
        for (double t = 0; t <= 1e6; t = t == 0 ? 1 : t * 4) {
            double p0;
            ck_assert_int_eq(custscore_btyd_p_no_purchase(&ps[m], t, 1, &x, &tx, &T, &p0), 0);
            if (t == 0)
                ck_assert_double_eq(p0, 1.0);
            ck_assert(p0 <= prev + 1e-15);
            ck_assert(p0 >= 1 - pa - 1e-12);
            prev = p0;
        }
        if (m < 2) {
            /* BG/NBD, MBG/NBD: drop-out happens only at a purchase, so in
             * the long run no purchase means dead. */
            ck_assert_double_eq_tol(prev, 1 - pa, 1e-2);
        } else {
            /* Pareto/NBD: an alive customer may also die before buying. */
            ck_assert(prev > 1 - pa + 0.01);
        }
    }
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Edge cases and bad input */

START_TEST(test_edge_cases)
{
    custscore_fit_options o = CUSTSCORE_FIT_OPTIONS_INIT;
    custscore_fit_info info;
    char err[512];
    /* All one-time buyers: a clear error, not garbage. */
    double x0[4] = {0, 0, 0, 0}, t0[4] = {0, 0, 0, 0}, T0[4] = {10, 20, 30, 40};
    for (int m = CUSTSCORE_MODEL_BGNBD; m <= CUSTSCORE_MODEL_PNBD; m++) {
        o.model = (custscore_model)m;
        ck_assert_int_eq(custscore_btyd_fit(&o, 4, x0, t0, T0, NULL, &info, err, sizeof err),
                         CUSTSCORE_EINVAL);
        ck_assert_msg(strstr(err, "repeat purchase") != NULL, "%s", err);
    }
    o.model = CUSTSCORE_MODEL_GG;
    double z0[4] = {0, 0, 0, 0};
    ck_assert_int_eq(custscore_gg_fit(&o, 4, x0, z0, &info, err, sizeof err), CUSTSCORE_EINVAL);
    ck_assert(strstr(err, "at least 2") != NULL);
    /* A single customer: 4 parameters cannot be identified. */
    o.model = CUSTSCORE_MODEL_BGNBD;
    double x1 = 3, t1 = 20, T1 = 30;
    int rc = custscore_btyd_fit(&o, 1, &x1, &t1, &T1, NULL, &info, err, sizeof err);
    ck_assert_int_eq(rc, CUSTSCORE_ENOCONV);
    ck_assert_msg(strstr(err, "Try") != NULL || strstr(err, "try") != NULL, "%s", err);
    ck_assert(info.status != CUSTSCORE_FIT_CONVERGED);
    /* T = t_x and huge x: finite likelihood and predictions. */
    custscore_btyd_params p = {CUSTSCORE_MODEL_BGNBD, 0.243, 4.414, 0.793, 2.426, 0, 0};
    double xe[2] = {5, 1e6}, te[2] = {30, 52}, Te[2] = {30, 52}, ll[2], ce[2];
    ck_assert_int_eq(custscore_btyd_loglik(&p, 2, xe, te, Te, NULL, ll, NULL), 0);
    ck_assert_int_eq(custscore_btyd_conditional_expected(&p, 10, 2, xe, te, Te, ce), 0);
    ck_assert(isfinite(ll[0]) && isfinite(ll[1]) && isfinite(ce[0]) && isfinite(ce[1]));
    /* 1e6 purchases in 52 weeks, the last today: about 1e6 / 52 * 10 more. */
    ck_assert(ce[1] > 1e5 && ce[1] < 3e5);
    /* Bad input is refused. */
    double xb[1] = {2}, tb[1] = {5}, Tb[1] = {4}, out[1];
    ck_assert_int_eq(custscore_btyd_p_alive(&p, 1, xb, tb, Tb, out), CUSTSCORE_EINVAL);
    tb[0] = NAN;
    ck_assert_int_eq(custscore_btyd_p_alive(&p, 1, xb, tb, Tb, out), CUSTSCORE_EINVAL);
    tb[0] = 1;
    xb[0] = -1;
    ck_assert_int_eq(custscore_btyd_p_alive(&p, 1, xb, tb, Tb, out), CUSTSCORE_EINVAL);
    p.a = -1;
    xb[0] = 1;
    ck_assert_int_eq(custscore_btyd_p_alive(&p, 1, xb, tb, Tb, out), CUSTSCORE_EINVAL);
    p.a = 0.8;
    p.model = CUSTSCORE_MODEL_GG;
    ck_assert_int_eq(custscore_btyd_p_alive(&p, 1, xb, tb, Tb, out), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_btyd_p_alive(NULL, 1, xb, tb, Tb, out), CUSTSCORE_EINVAL);
    o.model = CUSTSCORE_MODEL_BGNBD;
    o.version = 99;
    ck_assert_int_eq(custscore_btyd_fit(&o, 1, &x1, &t1, &T1, NULL, &info, err, sizeof err),
                     CUSTSCORE_EINVAL);
    ck_assert(strstr(err, "version") != NULL);
    /* x = 0 ignores t_x. */
    custscore_btyd_params q = {CUSTSCORE_MODEL_PNBD, 0.5, 10, 0, 0, 0.6, 12};
    double xz = 0, tz = 7, Tz = 20, a1, a2;
    custscore_btyd_p_alive(&q, 1, &xz, &tz, &Tz, &a1);
    tz = 0;
    custscore_btyd_p_alive(&q, 1, &xz, &tz, &Tz, &a2);
    ck_assert_double_eq(a1, a2);
    /* Gamma-Gamma with q <= 1: no population mean for x = 0. */
    custscore_gg_params g = {2, 0.9, 10};
    double gx = 0, gz = 0, ge;
    ck_assert_int_eq(custscore_gg_expected_spend(&g, 1, &gx, &gz, &ge), CUSTSCORE_EINVAL);
    /* Degenerate 2F1 cases of E[X | ...]: c - a - b = a - 1 - r - x an
     * integer with z = 2000 / 2034 close to 1, and c = a + b + x - 1 = 0
     * (a pole). References from mpmath (the second as the limit). */
    custscore_btyd_params dg1 = {CUSTSCORE_MODEL_BGNBD, 0.5, 4.0, 2.5, 3.0, 0, 0};
    custscore_btyd_params dg2 = {CUSTSCORE_MODEL_BGNBD, 0.5, 4.0, 0.4, 0.6, 0, 0};
    double dx = 3, dtx = 20, dT = 30, d0 = 0, dT0 = 5, dv;
    ck_assert_int_eq(custscore_btyd_conditional_expected(&dg1, 2000, 1, &dx, &dtx, &dT, &dv), 0);
    ck_assert_double_eq_tol(dv, 1.8400081729, 1e-9);
    ck_assert_int_eq(custscore_btyd_conditional_expected(&dg2, 10, 1, &d0, &d0, &dT0, &dv), 0);
    ck_assert_double_eq_tol(dv, 0.439270431364, 1e-9);
    /* Names. */
    custscore_model mm;
    ck_assert_int_eq(custscore_model_parse("Pareto/NBD", &mm), 0);
    ck_assert_int_eq(mm, CUSTSCORE_MODEL_PNBD);
    ck_assert_int_eq(custscore_model_parse("xyz", &mm), CUSTSCORE_EINVAL);
    ck_assert_str_eq(custscore_model_name(CUSTSCORE_MODEL_MBGNBD), "mbgnbd");
    ck_assert_ptr_null(custscore_model_name((custscore_model)42));
}
END_TEST

/* Compression: weights reproduce the expanded likelihood; patterns found. */
START_TEST(test_compression)
{
    double x[6] = {0, 2, 0, 2, 3, 0}, tx[6] = {0, 5, 9, 5, 7, 0}, T[6] = {10, 12, 10, 12, 12, 11};
    cs_btyd_data d;
    uint32_t grp[6];
    char err[256];
    ck_assert_int_eq(cs_btyd_data_build(6, x, tx, T, NULL, 0.0, grp, &d, err, sizeof err), 0);
    /* (0,0,10) twice (t_x ignored for x = 0), (2,5,12) twice, (3,7,12), (0,0,11). */
    ck_assert_uint_eq(d.n, 4);
    ck_assert_uint_eq(grp[0], grp[2]);
    ck_assert_uint_eq(grp[1], grp[3]);
    ck_assert_double_eq(d.total_w, 6.0);
    ck_assert_double_eq(d.sum_wx, 7.0);
    ck_assert_double_eq_tol(d.time_scale, 67.0 / 6.0, 1e-12);
    ck_assert_uint_eq(d.n_xv, 3);
    ck_assert_uint_eq(d.n_Tv, 3);
    cs_btyd_data_free(&d);
    double ux[4] = {0, 2, 3, 0}, utx[4] = {0, 5, 7, 0}, uT[4] = {10, 12, 12, 11},
           w[4] = {2, 2, 1, 1};
    for (int m = CUSTSCORE_MODEL_BGNBD; m <= CUSTSCORE_MODEL_PNBD; m++) {
        custscore_btyd_params p = {(custscore_model)m, 0.4, 5, 0.8, 2.5, 0.7, 9};
        double l1, l2;
        ck_assert_int_eq(custscore_btyd_loglik(&p, 6, x, tx, T, NULL, NULL, &l1), 0);
        ck_assert_int_eq(custscore_btyd_loglik(&p, 4, ux, utx, uT, w, NULL, &l2), 0);
        ck_assert_double_eq_tol(l1, l2, 1e-10);
    }
    ck_assert_int_eq(cs_btyd_data_build(1, (double[]){1}, (double[]){5}, (double[]){4}, NULL, 0.0,
                                        NULL, &d, err, sizeof err),
                     CUSTSCORE_EINVAL);
    ck_assert(strstr(err, "t_x is greater than T") != NULL);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Parameter recovery on simulated data */

/* Within 2 standard errors for 20,000 customers (fixed seeds). The 3,000
 * customers of a valgrind run only check memory use, and get 3. */
static double recovery_se(size_t n)
{
    return n >= 20000 ? 2.0 : 3.0;
}

static void recover(enum sim_model sm, custscore_model model, const double truth[4], uint64_t seed)
{
    size_t n = tu_under_valgrind() ? 3000 : 20000;
    double *x = malloc(n * sizeof *x), *tx = malloc(n * sizeof *tx), *T = malloc(n * sizeof *T);
    sim_rng g;
    sim_seed(&g, seed);
    sim_btyd(&g, sm, truth[0], truth[1], truth[2], truth[3], n, 26.0, 52.0, 0.0, x, tx, T);
    custscore_fit_options o = CUSTSCORE_FIT_OPTIONS_INIT;
    o.model = model;
    if (model == CUSTSCORE_MODEL_PNBD)
        o.starts = 1; /* the slow one (numerical gradient); multistart is tested on CDNOW */
    custscore_fit_info f;
    char err[512];
    int rc = custscore_btyd_fit(&o, n, x, tx, T, NULL, &f, err, sizeof err);
    ck_assert_msg(rc == 0, "%s: %s", custscore_model_name(model), err);
    for (int k = 0; k < 4; k++)
        ck_assert_msg(fabs(f.param[k] - truth[k]) <= recovery_se(n) * f.std_error[k],
                      "%s %s: %.4f (se %.4f), true %.4f", custscore_model_name(model),
                      f.param_name[k], f.param[k], f.std_error[k], truth[k]);
    free(x);
    free(tx);
    free(T);
}

START_TEST(test_recovery_bgnbd)
{
    const double truth[4] = {0.5, 8.0, 0.8, 2.5};
    recover(SIM_BGNBD, CUSTSCORE_MODEL_BGNBD, truth, 11);
}
END_TEST

START_TEST(test_recovery_mbgnbd)
{
    const double truth[4] = {0.5, 8.0, 0.8, 2.5};
    recover(SIM_MBGNBD, CUSTSCORE_MODEL_MBGNBD, truth, 12);
}
END_TEST

START_TEST(test_recovery_pnbd)
{
    const double truth[4] = {0.6, 10.0, 0.7, 12.0};
    recover(SIM_PNBD, CUSTSCORE_MODEL_PNBD, truth, 13);
}
END_TEST

START_TEST(test_recovery_gg)
{
    size_t n = tu_under_valgrind() ? 3000 : 20000;
    double *x = malloc(n * sizeof *x), *z = malloc(n * sizeof *z);
    sim_rng g;
    sim_seed(&g, 14);
    for (size_t i = 0; i < n; i++)
        x[i] = 1.0 + floor(-log(sim_uniform(&g)) * 4.0); /* 1, 2, ... geometric-like */
    const double truth[3] = {6.0, 4.0, 15.0};
    sim_gg(&g, truth[0], truth[1], truth[2], n, x, z);
    custscore_fit_options o = CUSTSCORE_FIT_OPTIONS_INIT;
    custscore_fit_info f;
    char err[512];
    ck_assert_msg(custscore_gg_fit(&o, n, x, z, &f, err, sizeof err) == 0, "%s", err);
    for (int k = 0; k < 3; k++)
        ck_assert_msg(fabs(f.param[k] - truth[k]) <= recovery_se(n) * f.std_error[k],
                      "gg %s: %.4f (se %.4f), true %.4f", f.param_name[k], f.param[k],
                      f.std_error[k], truth[k]);
    /* Spend independent of frequency by construction. */
    ck_assert(fabs(f.spend_frequency_corr) < 0.05);
    free(x);
    free(z);
}
END_TEST

/* The penalty shrinks the log-parameters towards 0 and is reported. */
START_TEST(test_penalty)
{
    double x[5] = {0, 1, 3, 0, 7}, tx[5] = {0, 4, 20, 0, 30}, T[5] = {30, 31, 32, 33, 34};
    custscore_fit_options o = CUSTSCORE_FIT_OPTIONS_INIT;
    o.penalty = 0.1;
    custscore_fit_info f;
    char err[512];
    ck_assert_msg(custscore_btyd_fit(&o, 5, x, tx, T, NULL, &f, err, sizeof err) == 0, "%s", err);
    ck_assert_double_eq(f.penalty, 0.1);
    for (int k = 0; k < 4; k++)
        ck_assert(isfinite(f.param[k]) && isfinite(f.std_error[k]));
    o.penalty = -1;
    ck_assert_int_eq(custscore_btyd_fit(&o, 5, x, tx, T, NULL, &f, err, sizeof err),
                     CUSTSCORE_EINVAL);
}
END_TEST

static Suite *btyd_suite(void)
{
    Suite *s = suite_create("btyd");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_hyp2f1_reference);
    tcase_add_test(tc, test_specfun_misc);
    tcase_add_test(tc, test_optimizer);
    tcase_add_test(tc, test_cdnow_bgnbd);
    tcase_add_test(tc, test_cdnow_mbgnbd);
    tcase_add_test(tc, test_cdnow_pnbd);
    tcase_add_test(tc, test_cdnow_gg);
    tcase_add_test(tc, test_gradients);
    tcase_add_test(tc, test_stress_points);
    tcase_add_test(tc, test_pmf_consistency);
    tcase_add_test(tc, test_no_purchase);
    tcase_add_test(tc, test_edge_cases);
    tcase_add_test(tc, test_compression);
    tcase_add_test(tc, test_recovery_bgnbd);
    tcase_add_test(tc, test_recovery_mbgnbd);
    tcase_add_test(tc, test_recovery_pnbd);
    tcase_add_test(tc, test_recovery_gg);
    tcase_add_test(tc, test_penalty);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(btyd_suite());
}
