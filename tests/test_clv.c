/*
 * test_clv.c: discounted CLV, its interval, the margin multiple, and the
 * store functions (fit, load, CLV of every customer and of one, holdout)
 * through the public API only.
 */
#include "custscore.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MONTH_DAYS 30.436875

/* A purchase model and a spend model as a fit would give them. */
static custscore_fit_info purchase_model(custscore_model model, double p1, double p2, double p3,
                                         double p4, double var)
{
    custscore_fit_info f;
    memset(&f, 0, sizeof f);
    f.model = model;
    f.unit = CUSTSCORE_UNIT_WEEK;
    f.n_params = 4;
    double v[4] = {p1, p2, p3, p4};
    for (int k = 0; k < 4; k++) {
        f.param[k] = v[k];
        f.cov_log[k][k] = var;
    }
    f.btyd.model = model;
    f.btyd.r = p1;
    f.btyd.alpha = p2;
    if (model == CUSTSCORE_MODEL_PNBD) {
        f.btyd.s = p3;
        f.btyd.beta = p4;
    } else {
        f.btyd.a = p3;
        f.btyd.b = p4;
    }
    return f;
}

static custscore_fit_info spend_model(double p, double q, double gamma, double var)
{
    custscore_fit_info f;
    memset(&f, 0, sizeof f);
    f.model = CUSTSCORE_MODEL_GG;
    f.n_params = 3;
    f.param[0] = f.gg.p = p;
    f.param[1] = f.gg.q = q;
    f.param[2] = f.gg.gamma = gamma;
    for (int k = 0; k < 3; k++)
        f.cov_log[k][k] = var;
    return f;
}

START_TEST(test_margin_multiple)
{
    double v;
    ck_assert_int_eq(custscore_clv_margin_multiple(100.0, 0.8, 0.1, &v), 0);
    ck_assert_double_eq_tol(v, 100.0 * 0.8 / 0.3, 1e-12);
    /* The series it sums: m r^t / (1 + d)^t, t = 1, 2, ... */
    double sum = 0;
    for (int t = 1; t < 2000; t++)
        sum += 100.0 * pow(0.8, t) / pow(1.1, t);
    ck_assert_double_eq_tol(v, sum, 1e-9);
    ck_assert_int_eq(custscore_clv_margin_multiple(100.0, 1.0, 0.1, &v), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_clv_margin_multiple(100.0, 0.5, -1.0, &v), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_clv_margin_multiple(NAN, 0.5, 0.1, &v), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_clv_margin_multiple(1.0, 0.5, 0.1, NULL), CUSTSCORE_EINVAL);
}
END_TEST

/* CLV against the definition, through another code path: the public
 * conditional expectation at each period end, discounted at (1+d)^(t/year). */
static double clv_by_definition(const custscore_fit_info *pm, const custscore_fit_info *sm,
                                double x, double tx, double T, double zbar, double margin, double d,
                                double horizon_days, double period_days)
{
    double unit = custscore_unit_days(pm->unit), year = 365.2425 / unit;
    double H = horizon_days / unit, P = period_days / unit, prev = 0, acc = 0;
    for (int k = 1; (k - 1) * P < H - 1e-9; k++) {
        double t = fmin(k * P, H), e;
        ck_assert_int_eq(custscore_btyd_conditional_expected(&pm->btyd, t, 1, &x, &tx, &T, &e), 0);
        acc += (e - prev) / pow(1.0 + d, t / year);
        prev = e;
    }
    double s;
    ck_assert_int_eq(custscore_gg_expected_spend(&sm->gg, 1, &x, &zbar, &s), 0);
    return margin * s * acc;
}

START_TEST(test_clv_definition)
{
    custscore_fit_info pms[3] = {
        purchase_model(CUSTSCORE_MODEL_BGNBD, 0.243, 4.414, 0.793, 2.426, 0.01),
        purchase_model(CUSTSCORE_MODEL_MBGNBD, 0.525, 6.183, 0.891, 1.614, 0.01),
        purchase_model(CUSTSCORE_MODEL_PNBD, 0.553, 10.578, 0.606, 11.669, 0.01),
    };
    custscore_fit_info sm = spend_model(6.25, 3.74, 15.44, 0.01);
    double x[4] = {0, 2, 7, 25}, tx[4] = {0, 30.43, 20, 38}, T[4] = {38.86, 38.86, 39, 39},
           z[4] = {0, 22.35, 40, 18};
    for (int m = 0; m < 3; m++) {
        custscore_clv_options o = CUSTSCORE_CLV_OPTIONS_INIT;
        o.margin = 0.3;
        o.interval_level = 0;
        double pa[4], ep[4], es[4], clv[4], lo[4], hi[4];
        custscore_clv_info info;
        ck_assert_int_eq(
            custscore_clv_arrays(&pms[m], &sm, &o, 4, x, tx, T, z, pa, ep, es, clv, lo, hi, &info),
            0);
        for (int i = 0; i < 4; i++) {
            double ref = clv_by_definition(&pms[m], &sm, x[i], tx[i], T[i], z[i], 0.3, 0.10,
                                           12 * MONTH_DAYS, MONTH_DAYS);
            ck_assert_msg(fabs(clv[i] - ref) <= 1e-10 * fabs(ref),
                          "model %d customer %d: %.12g vs %.12g", m, i, clv[i], ref);
            ck_assert(isnan(lo[i]) && isnan(hi[i]));
            double e;
            ck_assert_int_eq(custscore_btyd_conditional_expected(
                                 &pms[m].btyd, 12 * MONTH_DAYS / 7.0, 1, &x[i], &tx[i], &T[i], &e),
                             0);
            ck_assert_double_eq_tol(ep[i], e, 1e-12 * fmax(1, e));
        }
        /* The echo: a month is 30.436875 days, never 30. */
        ck_assert_int_eq(info.periods, 12);
        ck_assert_double_eq_tol(info.horizon_in_unit, 12 * MONTH_DAYS / 7.0, 1e-12);
        ck_assert_double_eq(info.discount_rate, 0.10);
        ck_assert_double_eq(info.margin, 0.3);
        ck_assert_int_eq(info.unit, CUSTSCORE_UNIT_WEEK);
        ck_assert_int_eq(info.horizon_unit, CUSTSCORE_UNIT_MONTH);
        ck_assert_int_eq(info.customers, 4);
        ck_assert_double_eq_tol(info.total_clv, clv[0] + clv[1] + clv[2] + clv[3], 1e-9);
        ck_assert_int_eq(info.interval_draws, 0);

        /* No discounting: margin x spend x expected purchases. */
        o.discount_rate = 0.0;
        ck_assert_int_eq(custscore_clv_arrays(&pms[m], &sm, &o, 4, x, tx, T, z, NULL, ep, es, clv,
                                              NULL, NULL, NULL),
                         0);
        for (int i = 0; i < 4; i++)
            ck_assert_double_eq_tol(clv[i], 0.3 * es[i] * ep[i], 1e-10 * clv[i]);
        /* A higher rate lowers the value; a longer horizon raises it. */
        double c0[4], c1[4];
        o.discount_rate = 0.05;
        custscore_clv_arrays(&pms[m], &sm, &o, 4, x, tx, T, z, NULL, NULL, NULL, c0, NULL, NULL,
                             NULL);
        o.discount_rate = 0.25;
        custscore_clv_arrays(&pms[m], &sm, &o, 4, x, tx, T, z, NULL, NULL, NULL, c1, NULL, NULL,
                             NULL);
        for (int i = 0; i < 4; i++)
            ck_assert(c1[i] < c0[i]);
        o.horizon = 24;
        custscore_clv_arrays(&pms[m], &sm, &o, 4, x, tx, T, z, NULL, NULL, NULL, c0, NULL, NULL,
                             NULL);
        for (int i = 0; i < 4; i++)
            ck_assert(c0[i] > c1[i]);
    }
    /* A horizon in days and a partial last period, on a model in days. */
    custscore_fit_info pd =
        purchase_model(CUSTSCORE_MODEL_BGNBD, 0.243, 4.414 * 7, 0.793, 2.426, 0.01);
    pd.unit = CUSTSCORE_UNIT_DAY;
    custscore_clv_options o = CUSTSCORE_CLV_OPTIONS_INIT;
    o.horizon = 100.5;
    o.horizon_unit = CUSTSCORE_UNIT_DAY;
    o.discount_rate = 0.2;
    o.interval_level = 0;
    double xd = 3, txd = 150, Td = 250, zd = 30, clv, ep;
    custscore_clv_info info;
    ck_assert_int_eq(custscore_clv_arrays(&pd, &sm, &o, 1, &xd, &txd, &Td, &zd, NULL, &ep, NULL,
                                          &clv, NULL, NULL, &info),
                     0);
    ck_assert_int_eq(info.periods, 101);
    ck_assert_double_eq_tol(clv, clv_by_definition(&pd, &sm, xd, txd, Td, zd, 1.0, 0.2, 100.5, 1.0),
                            1e-10 * clv);
}
END_TEST

START_TEST(test_clv_interval)
{
    custscore_fit_info pm = purchase_model(CUSTSCORE_MODEL_BGNBD, 0.243, 4.414, 0.793, 2.426, 0.01);
    custscore_fit_info sm = spend_model(6.25, 3.74, 15.44, 0.005);
    double x[3] = {0, 2, 10}, tx[3] = {0, 30.43, 38}, T[3] = {38.86, 38.86, 39},
           z[3] = {0, 22.35, 40};
    custscore_clv_options o = CUSTSCORE_CLV_OPTIONS_INIT;
    o.interval_draws = tu_under_valgrind() ? 50 : 200;
    double clv[3], lo[3], hi[3], lo2[3], hi2[3];
    ck_assert_int_eq(
        custscore_clv_arrays(&pm, &sm, &o, 3, x, tx, T, z, NULL, NULL, NULL, clv, lo, hi, NULL), 0);
    for (int i = 0; i < 3; i++) {
        ck_assert(lo[i] < hi[i]);
        ck_assert_msg(lo[i] < clv[i] && clv[i] < hi[i], "%g %g %g", lo[i], clv[i], hi[i]);
    }
    /* The same seed gives the same interval; another seed another. */
    ck_assert_int_eq(
        custscore_clv_arrays(&pm, &sm, &o, 3, x, tx, T, z, NULL, NULL, NULL, clv, lo2, hi2, NULL),
        0);
    for (int i = 0; i < 3; i++) {
        ck_assert_double_eq(lo[i], lo2[i]);
        ck_assert_double_eq(hi[i], hi2[i]);
    }
    o.seed = 99;
    custscore_clv_arrays(&pm, &sm, &o, 3, x, tx, T, z, NULL, NULL, NULL, clv, lo2, hi2, NULL);
    ck_assert(lo2[1] != lo[1]);
    /* A wider level, a wider interval. */
    o.seed = 1;
    o.interval_level = 0.5;
    custscore_clv_arrays(&pm, &sm, &o, 3, x, tx, T, z, NULL, NULL, NULL, clv, lo2, hi2, NULL);
    for (int i = 0; i < 3; i++)
        ck_assert(lo2[i] > lo[i] && hi2[i] < hi[i]);

    /* Only gamma uncertain (sd 0.1 on its log): a customer without repeat
     * purchases has CLV proportional to gamma, so its interval is the
     * log-normal's: clv exp(+-1.6449 0.1). */
    custscore_fit_info pm0 =
        purchase_model(CUSTSCORE_MODEL_BGNBD, 0.243, 4.414, 0.793, 2.426, 1e-24);
    custscore_fit_info sm1 = spend_model(6.25, 3.74, 15.44, 1e-24);
    sm1.cov_log[2][2] = 0.01;
    o.interval_level = 0.9;
    o.interval_draws = tu_under_valgrind() ? 2000 : 20000;
    double c0, l0, h0;
    ck_assert_int_eq(
        custscore_clv_arrays(&pm0, &sm1, &o, 1, x, tx, T, z, NULL, NULL, NULL, &c0, &l0, &h0, NULL),
        0);
    double tol = tu_under_valgrind() ? 0.03 : 0.01;
    ck_assert_msg(fabs(l0 / c0 - exp(-1.6448536 * 0.1)) < tol, "%g", l0 / c0);
    ck_assert_msg(fabs(h0 / c0 - exp(1.6448536 * 0.1)) < tol, "%g", h0 / c0);

    /* No uncertainty at all: the interval collapses onto the estimate. */
    custscore_fit_info sm0 = spend_model(6.25, 3.74, 15.44, 1e-24);
    o.interval_draws = 20;
    ck_assert_int_eq(
        custscore_clv_arrays(&pm0, &sm0, &o, 3, x, tx, T, z, NULL, NULL, NULL, clv, lo, hi, NULL),
        0);
    for (int i = 0; i < 3; i++) {
        ck_assert_double_eq_tol(lo[i], clv[i], 1e-8 * clv[i]);
        ck_assert_double_eq_tol(hi[i], clv[i], 1e-8 * clv[i]);
    }
}
END_TEST

/* Many T values per x: the bulk interval interpolates the discounted sums
 * over T; one customer at a time it computes them directly. Same seed, same
 * draws: the intervals agree. */
START_TEST(test_clv_interval_interpolation)
{
    custscore_fit_info pms[2] = {
        purchase_model(CUSTSCORE_MODEL_BGNBD, 0.243, 4.414, 0.793, 2.426, 0.01),
        purchase_model(CUSTSCORE_MODEL_PNBD, 0.553, 10.578, 0.606, 11.669, 0.01),
    };
    custscore_fit_info sm = spend_model(6.25, 3.74, 15.44, 0.01);
    enum { N = 160 };
    double x[N], tx[N], T[N], z[N], clv[N], lo[N], hi[N];
    for (int i = 0; i < N; i++) {
        x[i] = i % 4;
        T[i] = 0.25 + 0.5 * i; /* 40 distinct T per x, 0.25 .. 79.75 weeks */
        tx[i] = x[i] > 0 ? T[i] * 0.6 : 0;
        z[i] = x[i] > 0 ? 20 + i % 7 : 0;
    }
    custscore_clv_options o = CUSTSCORE_CLV_OPTIONS_INIT;
    o.interval_draws = 20;
    for (int m = 0; m < 2; m++) {
        ck_assert_int_eq(custscore_clv_arrays(&pms[m], &sm, &o, N, x, tx, T, z, NULL, NULL, NULL,
                                              clv, lo, hi, NULL),
                         0);
        int step = tu_under_valgrind() ? 9 : 1;
        for (int i = 0; i < N; i += step) {
            double c1, l1, h1;
            ck_assert_int_eq(custscore_clv_arrays(&pms[m], &sm, &o, 1, &x[i], &tx[i], &T[i], &z[i],
                                                  NULL, NULL, NULL, &c1, &l1, &h1, NULL),
                             0);
            ck_assert_double_eq_tol(c1, clv[i], 1e-12 * c1);
            ck_assert_msg(fabs(l1 - lo[i]) <= 1e-7 * l1 && fabs(h1 - hi[i]) <= 1e-7 * h1,
                          "model %d customer %d: [%.12g, %.12g] vs [%.12g, %.12g]", m, i, lo[i],
                          hi[i], l1, h1);
        }
    }
}
END_TEST

START_TEST(test_clv_bad_input)
{
    custscore_fit_info pm = purchase_model(CUSTSCORE_MODEL_BGNBD, 0.243, 4.414, 0.793, 2.426, 0.01);
    custscore_fit_info sm = spend_model(6.25, 3.74, 15.44, 0.01);
    double x = 1, tx = 3, T = 5, z = 10, c;
    custscore_clv_options o = CUSTSCORE_CLV_OPTIONS_INIT;
    o.interval_level = 0;
    ck_assert_int_eq(custscore_clv_arrays(&pm, &sm, &o, 1, &x, &tx, &T, &z, NULL, NULL, NULL, &c,
                                          NULL, NULL, NULL),
                     0);
    /* Models swapped, bad data, bad options. */
    ck_assert_int_eq(custscore_clv_arrays(&sm, &pm, &o, 1, &x, &tx, &T, &z, NULL, NULL, NULL, &c,
                                          NULL, NULL, NULL),
                     CUSTSCORE_EINVAL);
    double bad_tx = 6;
    ck_assert_int_eq(custscore_clv_arrays(&pm, &sm, &o, 1, &x, &bad_tx, &T, &z, NULL, NULL, NULL,
                                          &c, NULL, NULL, NULL),
                     CUSTSCORE_EINVAL);
    custscore_clv_options b = o;
    b.version = 7;
    ck_assert_int_eq(custscore_clv_arrays(&pm, &sm, &b, 1, &x, &tx, &T, &z, NULL, NULL, NULL, &c,
                                          NULL, NULL, NULL),
                     CUSTSCORE_EINVAL);
    b = o;
    b.interval_level = 1.5;
    ck_assert_int_eq(custscore_clv_arrays(&pm, &sm, &b, 1, &x, &tx, &T, &z, NULL, NULL, NULL, &c,
                                          NULL, NULL, NULL),
                     CUSTSCORE_EINVAL);
    b = o;
    b.horizon = -1;
    ck_assert_int_eq(custscore_clv_arrays(&pm, &sm, &b, 1, &x, &tx, &T, &z, NULL, NULL, NULL, &c,
                                          NULL, NULL, NULL),
                     CUSTSCORE_EINVAL);
    b = o;
    b.horizon = 1e6;
    b.horizon_unit = CUSTSCORE_UNIT_DAY;
    ck_assert_int_eq(custscore_clv_arrays(&pm, &sm, &b, 1, &x, &tx, &T, &z, NULL, NULL, NULL, &c,
                                          NULL, NULL, NULL),
                     CUSTSCORE_ERANGE);
    /* q <= 1: the spend of a customer without repeat purchases is unbounded. */
    custscore_fit_info heavy = spend_model(2.0, 0.8, 10.0, 0.01);
    double x0 = 0;
    ck_assert_int_eq(custscore_clv_arrays(&pm, &heavy, &o, 1, &x0, &tx, &T, &z, NULL, NULL, NULL,
                                          &c, NULL, NULL, NULL),
                     CUSTSCORE_EINVAL);
    /* ... but those with repeat purchases are fine. */
    ck_assert_int_eq(custscore_clv_arrays(&pm, &heavy, &o, 1, &x, &tx, &T, &z, NULL, NULL, NULL, &c,
                                          NULL, NULL, NULL),
                     0);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* The store: CDNOW sample transactions */

typedef struct rows {
    size_t n;
    double total, total_pa;
    int bad;
    custscore_clv_row first;
    char first_key[64];
    custscore_clv_row key1;
} rows;

static int collect(const custscore_clv_row *r, void *payload)
{
    rows *c = payload;
    if (c->n == 0) {
        c->first = *r;
        snprintf(c->first_key, sizeof c->first_key, "%s", r->customer);
    }
    if (strcmp(r->customer, "0001") == 0)
        c->key1 = *r;
    c->n++;
    c->total += r->clv;
    if (!(r->p_alive >= 0 && r->p_alive <= 1) || !(r->clv >= 0) || !isfinite(r->clv) ||
        !(r->clv_low <= r->clv_high) || !(r->expected_spend > 0) || r->x < 0 || r->t_x > r->T)
        c->bad++;
    return 0;
}

static int stop_after_one(const custscore_clv_row *r, void *payload)
{
    (void)r;
    (*(int *)payload)++;
    return 42;
}

static int holdout_rows(const custscore_holdout_customer *c, void *payload)
{
    size_t *n = payload;
    (*n)++;
    return c->actual < 0 || !(c->predicted >= 0);
}

START_TEST(test_store_cdnow)
{
    char *path = tu_shared_path("lifetimes-datasets/CDNOW_sample.txt");
    if (!path) {
        tu_skip("CDNOW_sample.txt not found (../shared/data/lifetimes-datasets)");
        return;
    }
    custscore *db;
    ck_assert_int_eq(custscore_open(NULL, CUSTSCORE_OPEN_CREATE, &db), 0);
    custscore_import_options io = CUSTSCORE_IMPORT_OPTIONS_INIT;
    io.whitespace = 1;
    io.no_header = 1;
    io.map = "customer=2,ts=3,revenue=5";
    custscore_import_report rep;
    int rc = custscore_import_csv(db, CUSTSCORE_KIND_ORDERS, path, &io, &rep);
    ck_assert_msg(rc == 0, "import: %s", custscore_errmsg(db));
    free(path);
    int64_t cal, end;
    ck_assert_int_eq(custscore_parse_time("1997-09-30", NULL, &cal), 0);
    ck_assert_int_eq(custscore_parse_time("1998-06-30", NULL, &end), 0);

    /* Nothing fitted yet. */
    rows c;
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(custscore_clv_each(db, cal, NULL, collect, &c, NULL), CUSTSCORE_ENOMODEL);
    ck_assert(strstr(custscore_errmsg(db), "fit") != NULL);
    custscore_fit_info loaded;
    ck_assert_int_eq(custscore_model_load(db, NULL, &loaded), CUSTSCORE_ENOMODEL);

    /* Fit BG/NBD as the literature counts (zero-value transactions are
     * purchases): the published estimates. */
    custscore_fit_options fo = CUSTSCORE_FIT_OPTIONS_INIT;
    fo.zero = CUSTSCORE_ZERO_REVENUE_PURCHASE;
    custscore_fit_info bg;
    rc = custscore_fit(db, cal, &fo, &bg);
    ck_assert_msg(rc == 0, "fit: %s", custscore_errmsg(db));
    ck_assert_int_eq(bg.n, 2357);
    ck_assert(bg.model_id > 0);
    ck_assert_str_eq(bg.name, "bgnbd");
    ck_assert_int_eq(bg.as_of, cal);
    const double pub[4] = {0.243, 4.414, 0.793, 2.426};
    for (int k = 0; k < 4; k++)
        ck_assert_msg(fabs(bg.param[k] / pub[k] - 1) < 0.005, "%s %.5f vs %.3f", bg.param_name[k],
                      bg.param[k], pub[k]);
    ck_assert(fabs(bg.loglik - -9582.43) < 1.0);
    /* Spend. */
    fo.model = CUSTSCORE_MODEL_GG;
    custscore_fit_info gg;
    rc = custscore_fit(db, cal, &fo, &gg);
    ck_assert_msg(rc == 0, "fit gg: %s", custscore_errmsg(db));
    ck_assert_int_eq(gg.n, 946);
    const double gpub[3] = {6.25, 3.74, 15.44};
    for (int k = 0; k < 3; k++)
        ck_assert_msg(fabs(gg.param[k] / gpub[k] - 1) < 0.02, "%s %.5f vs %.3f", gg.param_name[k],
                      gg.param[k], gpub[k]);

    /* Saved and loaded exactly. */
    ck_assert_int_eq(custscore_model_load(db, NULL, &loaded), 0);
    ck_assert_int_eq(loaded.model, CUSTSCORE_MODEL_BGNBD);
    ck_assert_int_eq(loaded.model_id, bg.model_id);
    ck_assert_int_eq(loaded.unit, CUSTSCORE_UNIT_WEEK);
    ck_assert_int_eq(loaded.zero, CUSTSCORE_ZERO_REVENUE_PURCHASE);
    for (int k = 0; k < 4; k++) {
        ck_assert_double_eq(loaded.param[k], bg.param[k]);
        ck_assert_double_eq(loaded.std_error[k], bg.std_error[k]);
        for (int j = 0; j < 4; j++)
            ck_assert_double_eq(loaded.cov_log[k][j], bg.cov_log[k][j]);
    }
    ck_assert_double_eq(loaded.loglik, bg.loglik);
    ck_assert_double_eq(loaded.btyd.b, bg.param[3]);
    ck_assert_int_eq(custscore_model_load(db, "gg", &loaded), 0);
    ck_assert_int_eq(loaded.model, CUSTSCORE_MODEL_GG);
    ck_assert_double_eq(loaded.gg.gamma, gg.param[2]);
    ck_assert_double_eq(loaded.spend_frequency_corr, gg.spend_frequency_corr);
    ck_assert_int_eq(custscore_model_load(db, "nope", &loaded), CUSTSCORE_ENOMODEL);

    /* A Pareto/NBD fit under its own name becomes the latest purchase model. */
    fo.model = CUSTSCORE_MODEL_PNBD;
    fo.name = "pnbd-1997";
    fo.starts = 1;
    custscore_fit_info pn;
    rc = custscore_fit(db, cal, &fo, &pn);
    ck_assert_msg(rc == 0, "fit pnbd: %s", custscore_errmsg(db));
    ck_assert_int_eq(custscore_model_load(db, NULL, &loaded), 0);
    ck_assert_str_eq(loaded.name, "pnbd-1997");
    ck_assert_int_eq(loaded.model, CUSTSCORE_MODEL_PNBD);

    /* CLV of everyone with the BG/NBD model. */
    custscore_clv_options co = CUSTSCORE_CLV_OPTIONS_INIT;
    co.purchase_model = "bgnbd";
    co.interval_draws = tu_under_valgrind() ? 20 : 200;
    custscore_clv_info info;
    memset(&c, 0, sizeof c);
    rc = custscore_clv_each(db, cal, &co, collect, &c, &info);
    ck_assert_msg(rc == 0, "clv: %s", custscore_errmsg(db));
    ck_assert_uint_eq(c.n, 2357);
    ck_assert_int_eq(c.bad, 0);
    ck_assert_int_eq(info.customers, 2357);
    ck_assert_double_eq_tol(info.total_clv, c.total, 1e-6 * c.total);
    ck_assert_int_eq(info.margin_from_costs, 0);
    ck_assert_double_eq(info.margin, 1.0);
    ck_assert_str_eq(info.purchase_model_name, "bgnbd");
    ck_assert_str_eq(info.spend_model_name, "gg");
    ck_assert_double_eq_tol(info.horizon_in_unit, 12 * MONTH_DAYS / 7.0, 1e-12);
    ck_assert_str_eq(c.first_key, "0001"); /* ordered by key */
    /* Customer 0001 (x = 2, t_x = 30.43, T = 38.86): the same as in the bulk run. */
    custscore_clv_row one;
    rc = custscore_clv_one(db, "0001", cal, &co, &one, NULL);
    ck_assert_msg(rc == 0, "clv one: %s", custscore_errmsg(db));
    ck_assert_str_eq(one.customer, "0001");
    ck_assert_int_eq(one.x, 2);
    ck_assert_double_eq_tol(one.T, 38.86, 0.005);
    ck_assert_double_eq_tol(one.clv, c.key1.clv, 1e-9 * one.clv);
    ck_assert_double_eq_tol(one.p_alive, c.key1.p_alive, 1e-12);
    ck_assert_double_eq_tol(one.clv_low, c.key1.clv_low, 1e-9 * one.clv);
    ck_assert_int_eq(custscore_clv_one(db, "no-such-key", cal, &co, &one, NULL),
                     CUSTSCORE_ENOTFOUND);
    /* A callback's stop value is returned. */
    int calls = 0;
    co.interval_level = 0;
    ck_assert_int_eq(custscore_clv_each(db, cal, &co, stop_after_one, &calls, NULL), 42);
    ck_assert_int_eq(calls, 1);
    /* The spend model named must be one. */
    co.spend_model = "bgnbd";
    ck_assert_int_eq(custscore_clv_each(db, cal, &co, collect, &c, NULL), CUSTSCORE_EINVAL);

    /* Calibration / holdout: 39 weeks of holdout. */
    custscore_holdout_report hr;
    custscore_fit_options ho = CUSTSCORE_FIT_OPTIONS_INIT;
    ho.zero = CUSTSCORE_ZERO_REVENUE_PURCHASE;
    size_t visited = 0;
    rc = custscore_holdout(db, cal, end, &ho, 7, holdout_rows, &visited, &hr);
    ck_assert_msg(rc == 0, "holdout: %s", custscore_errmsg(db));
    ck_assert_uint_eq(visited, 2357);
    ck_assert_int_eq(hr.customers, 2357);
    ck_assert_double_eq_tol(hr.holdout_length, 273.0 / 7.0, 1e-12);
    ck_assert_uint_eq(hr.n_rows, 8);
    int64_t sum_customers = 0;
    for (size_t k = 0; k < hr.n_rows; k++)
        sum_customers += hr.rows[k].customers;
    ck_assert_int_eq(sum_customers, 2357);
    /* Holdout purchase occasions counted from CDNOW_sample.txt by a separate
     * script (distinct days in 1997-10-01 .. 1998-06-30): 1882. The sum of
     * E[X(39) | x, t_x, T] over the published summary at the MLE, computed
     * with mpmath: 1653.42 (BG/NBD under-forecasts this 1/10 sample by 12%,
     * as lifetimes' calibration/holdout plot of it shows). */
    ck_assert_double_eq(hr.actual_total, 1882.0);
    ck_assert_msg(fabs(hr.predicted_total - 1653.42) < 2.0, "predicted %.2f", hr.predicted_total);
    /* ...and by calibration frequency: more past purchases, more future ones. */
    ck_assert(hr.rows[0].predicted < hr.rows[2].predicted);
    ck_assert(hr.rows[0].actual < hr.rows[2].actual);
    ck_assert(hr.correlation > 0.5);
    for (int k = 0; k < 4; k++)
        ck_assert_double_eq(hr.fit.param[k], bg.param[k]); /* same calibration data */
    custscore_holdout_free(&hr);
    custscore_holdout_free(NULL);
    ck_assert_int_eq(custscore_holdout(db, end, cal, &ho, 7, NULL, NULL, &hr), CUSTSCORE_EINVAL);
    custscore_close(db);
}
END_TEST

/* Margin from the store's costs, and fits that cannot be done. */
START_TEST(test_store_small)
{
    custscore *db;
    ck_assert_int_eq(custscore_open(NULL, CUSTSCORE_OPEN_CREATE, &db), 0);
    const char *csv = "customer,order,ts,revenue,cost\n"
                      "a,1,2024-01-05,100,60\n"
                      "a,2,2024-02-10,50,30\n"
                      "a,3,2024-04-01,80,50\n"
                      "b,4,2024-01-20,40,30\n"
                      "b,5,2024-03-03,40,30\n"
                      "c,6,2024-02-02,200,100\n"
                      "d,7,2024-05-01,10,5\n";
    custscore_import_report rep;
    ck_assert_int_eq(
        custscore_import_csv_buffer(db, CUSTSCORE_KIND_ORDERS, csv, strlen(csv), NULL, NULL, &rep),
        0);
    int64_t as_of;
    custscore_parse_time("2024-06-30", NULL, &as_of);
    /* Four customers cannot identify four parameters. */
    custscore_fit_options fo = CUSTSCORE_FIT_OPTIONS_INIT;
    custscore_fit_info f;
    int rc = custscore_fit(db, as_of, &fo, &f);
    ck_assert_int_eq(rc, CUSTSCORE_ENOCONV);
    ck_assert_msg(strstr(custscore_errmsg(db), "penalty") != NULL, "%s", custscore_errmsg(db));
    ck_assert_int_eq(custscore_model_load(db, NULL, &f), CUSTSCORE_ENOMODEL);
    /* With a penalty it is defined, and saved. */
    fo.penalty = 0.05;
    rc = custscore_fit(db, as_of, &fo, &f);
    ck_assert_msg(rc == 0, "%s", custscore_errmsg(db));
    fo.model = CUSTSCORE_MODEL_GG;
    rc = custscore_fit(db, as_of, &fo, &f);
    ck_assert_msg(rc == 0, "%s", custscore_errmsg(db));
    /* Margin from costs: (520 - 305) / 520. */
    custscore_clv_options co = CUSTSCORE_CLV_OPTIONS_INIT;
    co.interval_draws = 20;
    custscore_clv_row row;
    custscore_clv_info info;
    rc = custscore_clv_one(db, "a", as_of, &co, &row, &info);
    ck_assert_msg(rc == 0, "%s", custscore_errmsg(db));
    ck_assert_int_eq(info.margin_from_costs, 1);
    ck_assert_double_eq_tol(info.margin, 215.0 / 520.0, 1e-12);
    ck_assert_int_eq(row.x, 2);
    co.margin = 0.5;
    custscore_clv_row row2;
    rc = custscore_clv_one(db, "a", as_of, &co, &row2, &info);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(info.margin_from_costs, 0);
    ck_assert_double_eq_tol(row2.clv / row.clv, 0.5 / (215.0 / 520.0), 1e-9);
    /* A customer without a purchase by the as-of day is not scored. */
    int64_t early;
    custscore_parse_time("2024-01-10", NULL, &early);
    ck_assert_int_eq(custscore_clv_one(db, "c", early, &co, &row, NULL), CUSTSCORE_EINVAL);
    /* No orders at all by then: a clear error. */
    int64_t before;
    custscore_parse_time("2023-01-01", NULL, &before);
    fo.model = CUSTSCORE_MODEL_BGNBD;
    ck_assert_int_eq(custscore_fit(db, before, &fo, &f), CUSTSCORE_EINVAL);
    ck_assert(strstr(custscore_errmsg(db), "no customer") != NULL);
    custscore_close(db);
}
END_TEST

static Suite *clv_suite(void)
{
    Suite *s = suite_create("clv");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_margin_multiple);
    tcase_add_test(tc, test_clv_definition);
    tcase_add_test(tc, test_clv_interval);
    tcase_add_test(tc, test_clv_interval_interpolation);
    tcase_add_test(tc, test_clv_bad_input);
    tcase_add_test(tc, test_store_cdnow);
    tcase_add_test(tc, test_store_small);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(clv_suite());
}
