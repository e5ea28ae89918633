/* Churn risk: the logistic engine and metrics on hand-checkable cases, the
 * early-warning and label models on small stores, and the validation on
 * real data (IBM Telco, CDNOW, Online Retail) when ../shared/data is there. */
#include "custscore.h"
#include "internal.h"
#include "testutil.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400

/* A local SplitMix64 so the synthetic data are the same on every run. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static double rng_uniform(uint64_t *s)
{
    return ((double)(rng_next(s) >> 11) + 0.5) / 9007199254740992.0;
}

static custscore *mem_store(void)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    return db;
}

static void add_order(custscore *db, const char *cust, int64_t day, double revenue)
{
    char key[64];
    snprintf(key, sizeof key, "%s-%lld", cust, (long long)day);
    custscore_order o = {
        .customer = cust, .order_key = key, .ts = day * DAY + 3600, .revenue = revenue};
    ck_assert_int_eq(custscore_add_order(db, &o, NULL), 0);
}

/* ---------------------------------------------------------------------- */
/* Logistic regression */

START_TEST(test_logistic_binary_closed_form)
{
    /* One binary feature, no penalty: the MLE is the empirical log odds,
     * with standard errors sqrt(1/a + 1/b) (Agresti, Categorical Data
     * Analysis, 2002, §3.1). Group 0: 30 of 100 churn; group 1: 60 of 80. */
    double x[180], y[180];
    for (int i = 0; i < 180; i++) {
        x[i] = i < 100 ? 0 : 1;
        y[i] = i < 100 ? (i < 30) : (i - 100 < 60);
    }
    custscore_logistic_options o = CUSTSCORE_LOGISTIC_OPTIONS_INIT;
    o.l2 = 0;
    double coef[2], se[2];
    custscore_logistic_info info;
    char err[200];
    ck_assert_int_eq(
        custscore_logistic_fit(x, 180, 1, y, NULL, &o, coef, se, &info, err, sizeof err), 0);
    ck_assert(info.converged);
    ck_assert_double_eq_tol(coef[0], log(30.0 / 70.0), 1e-9);
    ck_assert_double_eq_tol(coef[1], log(60.0 / 20.0) - log(30.0 / 70.0), 1e-9);
    ck_assert_double_eq_tol(se[0], sqrt(1 / 30.0 + 1 / 70.0), 1e-7);
    ck_assert_double_eq_tol(se[1], sqrt(1 / 30.0 + 1 / 70.0 + 1 / 60.0 + 1 / 20.0), 1e-7);
    ck_assert_double_eq_tol(info.base_rate, 90.0 / 180.0, 1e-15);
    double ll = 30 * log(0.3) + 70 * log(0.7) + 60 * log(0.75) + 20 * log(0.25);
    ck_assert_double_eq_tol(info.loglik, ll, 1e-9);
    /* Predictions are the group rates. */
    double p[2], xs[2] = {0, 1};
    ck_assert_int_eq(custscore_logistic_predict(xs, 2, 1, coef, p), 0);
    ck_assert_double_eq_tol(p[0], 0.3, 1e-9);
    ck_assert_double_eq_tol(p[1], 0.75, 1e-9);
}
END_TEST

/* Gradient of the penalised objective at the returned coefficients, in the
 * standardised parametrisation the penalty is defined in. */
static double max_penalised_gradient(const double *x, size_t n, size_t p, const double *y,
                                     const double *coef, double l2)
{
    double mean[8] = {0}, sd[8] = {0}, b[9], g[9] = {0};
    for (size_t j = 0; j < p; j++) {
        for (size_t i = 0; i < n; i++)
            mean[j] += x[i * p + j] / (double)n;
        for (size_t i = 0; i < n; i++)
            sd[j] += pow(x[i * p + j] - mean[j], 2) / (double)n;
        sd[j] = sqrt(sd[j]);
        b[j + 1] = coef[j + 1] * sd[j];
    }
    for (size_t i = 0; i < n; i++) {
        double eta = coef[0];
        for (size_t j = 0; j < p; j++)
            eta += coef[j + 1] * x[i * p + j];
        double r = y[i] - 1 / (1 + exp(-eta));
        g[0] += r;
        for (size_t j = 0; j < p; j++)
            g[j + 1] += r * (x[i * p + j] - mean[j]) / sd[j];
    }
    double worst = fabs(g[0]);
    for (size_t j = 1; j <= p; j++)
        worst = fmax(worst, fabs(g[j] - l2 * b[j]));
    return worst;
}

START_TEST(test_logistic_penalised_optimum)
{
    uint64_t s = 7;
    size_t n = 400, p = 3;
    double *x = malloc(n * p * sizeof *x), *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        x[i * p] = rng_uniform(&s) * 10;
        x[i * p + 1] = rng_uniform(&s) - 0.5;
        x[i * p + 2] = 1000 + 50 * rng_uniform(&s);
        double eta = -1 + 0.3 * x[i * p] - 2 * x[i * p + 1] + 0.01 * (x[i * p + 2] - 1000);
        y[i] = rng_uniform(&s) < 1 / (1 + exp(-eta));
    }
    custscore_logistic_options o = CUSTSCORE_LOGISTIC_OPTIONS_INIT;
    o.l2 = 2.5;
    double coef[4];
    custscore_logistic_info info;
    ck_assert_int_eq(custscore_logistic_fit(x, n, p, y, NULL, &o, coef, NULL, &info, NULL, 0), 0);
    ck_assert(info.converged);
    ck_assert_double_le(max_penalised_gradient(x, n, p, y, coef, 2.5), 1e-7);
    /* Weights 0 leave rows out exactly. */
    double *w = malloc(n * sizeof *w);
    for (size_t i = 0; i < n; i++)
        w[i] = i % 3 != 0;
    double coef_w[4];
    ck_assert_int_eq(custscore_logistic_fit(x, n, p, y, w, &o, coef_w, NULL, &info, NULL, 0), 0);
    size_t m = 0;
    double *xs = malloc(n * p * sizeof *xs), *ys = malloc(n * sizeof *ys);
    for (size_t i = 0; i < n; i++)
        if (w[i] != 0) {
            memcpy(xs + m * p, x + i * p, p * sizeof *x);
            ys[m++] = y[i];
        }
    double coef_s[4];
    ck_assert_int_eq(custscore_logistic_fit(xs, m, p, ys, NULL, &o, coef_s, NULL, &info, NULL, 0),
                     0);
    ck_assert_int_eq(info.n, (int64_t)m);
    for (int j = 0; j < 4; j++)
        ck_assert_double_eq_tol(coef_w[j], coef_s[j], 1e-9 * (1 + fabs(coef_s[j])));
    free(x);
    free(y);
    free(w);
    free(xs);
    free(ys);
}
END_TEST

START_TEST(test_logistic_separable_finite)
{
    /* Perfectly separable: y = 1 exactly when x >= 50. */
    double x[100], y[100];
    for (int i = 0; i < 100; i++) {
        x[i] = i;
        y[i] = i >= 50;
    }
    double coef[2];
    custscore_logistic_info info;
    char err[200] = "";
    ck_assert_int_eq(
        custscore_logistic_fit(x, 100, 1, y, NULL, NULL, coef, NULL, &info, err, sizeof err), 0);
    ck_assert(info.converged);
    ck_assert(isfinite(coef[0]) && isfinite(coef[1]));
    ck_assert_double_gt(coef[1], 0);
    ck_assert_double_le(max_penalised_gradient(x, 100, 1, y, coef, 1.0), 1e-7);
    /* The boundary sits between 49 and 50. */
    double at[2] = {49, 50}, p[2];
    ck_assert_int_eq(custscore_logistic_predict(at, 2, 1, coef, p), 0);
    ck_assert_double_lt(p[0], 0.5);
    ck_assert_double_gt(p[1], 0.5);
    /* Without a penalty there is no finite estimate: a clear error. */
    custscore_logistic_options o = CUSTSCORE_LOGISTIC_OPTIONS_INIT;
    o.l2 = 0;
    ck_assert_int_eq(
        custscore_logistic_fit(x, 100, 1, y, NULL, &o, coef, NULL, &info, err, sizeof err),
        CUSTSCORE_ENOCONV);
    ck_assert_ptr_nonnull(strstr(err, "separable"));
}
END_TEST

START_TEST(test_logistic_constant_feature)
{
    uint64_t s = 11;
    size_t n = 300;
    double *x3 = malloc(n * 3 * sizeof *x3), *x2 = malloc(n * 2 * sizeof *x2);
    double *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        double a = rng_uniform(&s), b = rng_uniform(&s);
        x3[i * 3] = a;
        x3[i * 3 + 1] = 5.0; /* constant */
        x3[i * 3 + 2] = b;
        x2[i * 2] = a;
        x2[i * 2 + 1] = b;
        y[i] = rng_uniform(&s) < 1 / (1 + exp(-(2 * a - 3 * b)));
    }
    double c3[4], c2[3], se3[4];
    custscore_logistic_info info;
    ck_assert_int_eq(custscore_logistic_fit(x3, n, 3, y, NULL, NULL, c3, se3, &info, NULL, 0), 0);
    ck_assert_uint_eq(info.n_constant, 1);
    ck_assert_double_eq(c3[2], 0);
    ck_assert_double_eq(se3[2], 0);
    ck_assert_int_eq(custscore_logistic_fit(x2, n, 2, y, NULL, NULL, c2, NULL, &info, NULL, 0), 0);
    ck_assert_double_eq_tol(c3[0], c2[0], 1e-10);
    ck_assert_double_eq_tol(c3[1], c2[1], 1e-10);
    ck_assert_double_eq_tol(c3[3], c2[2], 1e-10);
    free(x3);
    free(x2);
    free(y);
}
END_TEST

START_TEST(test_logistic_one_class_error)
{
    double x[5] = {1, 2, 3, 4, 5}, ones[5] = {1, 1, 1, 1, 1}, zeros[5] = {0};
    double coef[2];
    char err[200];
    ck_assert_int_eq(
        custscore_logistic_fit(x, 5, 1, ones, NULL, NULL, coef, NULL, NULL, err, sizeof err),
        CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "all churned"));
    ck_assert_int_eq(
        custscore_logistic_fit(x, 5, 1, zeros, NULL, NULL, coef, NULL, NULL, err, sizeof err),
        CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "none churned"));
    double bad[5] = {0, 1, 2, 0, 1};
    ck_assert_int_eq(custscore_logistic_fit(x, 5, 1, bad, NULL, NULL, coef, NULL, NULL, NULL, 0),
                     CUSTSCORE_EINVAL);
    double nan_x[5] = {1, NAN, 3, 4, 5}, y[5] = {0, 1, 0, 1, 0};
    ck_assert_int_eq(
        custscore_logistic_fit(nan_x, 5, 1, y, NULL, NULL, coef, NULL, NULL, err, sizeof err),
        CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "not finite"));
    custscore_logistic_options o = CUSTSCORE_LOGISTIC_OPTIONS_INIT;
    o.version = 99;
    ck_assert_int_eq(custscore_logistic_fit(x, 5, 1, y, NULL, &o, coef, NULL, NULL, NULL, 0),
                     CUSTSCORE_EINVAL);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Metrics */

static double brute_auc(const double *s, const double *y, size_t n)
{
    double num = 0, pairs = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (y[i] == 1 && y[j] == 0) {
                pairs++;
                num += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
            }
    return num / pairs;
}

START_TEST(test_auc_small_cases)
{
    double auc;
    double s1[] = {0.1, 0.4, 0.35, 0.8}, y1[] = {0, 0, 1, 1};
    ck_assert_int_eq(custscore_auc(s1, y1, 4, &auc), 0);
    ck_assert_double_eq(auc, 0.75); /* pairs: (0.35 > 0.1), (0.35 < 0.4), 0.8 beats both */
    double s2[] = {0.5, 0.5, 0.5, 0.5};
    ck_assert_int_eq(custscore_auc(s2, y1, 4, &auc), 0);
    ck_assert_double_eq(auc, 0.5);
    double s3[] = {1, 2, 3, 4};
    ck_assert_int_eq(custscore_auc(s3, y1, 4, &auc), 0);
    ck_assert_double_eq(auc, 1);
    double y3[] = {1, 1, 0, 0};
    ck_assert_int_eq(custscore_auc(s3, y3, 4, &auc), 0);
    ck_assert_double_eq(auc, 0);
    double s4[] = {1, 2, 2, 3}, y4[] = {0, 1, 0, 1}; /* one tied pair counts 1/2 */
    ck_assert_int_eq(custscore_auc(s4, y4, 4, &auc), 0);
    ck_assert_double_eq(auc, (1 + 0.5 + 1 + 1) / 4.0);
    /* Errors: one class, a label not 0/1, NaN score. */
    double ones[] = {1, 1, 1, 1}, two[] = {0, 2, 1, 0}, snan[] = {0.1, NAN, 0.2, 0.3};
    ck_assert_int_eq(custscore_auc(s1, ones, 4, &auc), CUSTSCORE_EINVAL);
    ck_assert(isnan(auc));
    ck_assert_int_eq(custscore_auc(s1, two, 4, &auc), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_auc(snan, y1, 4, &auc), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_auc(s1, y1, 0, &auc), CUSTSCORE_EINVAL);
}
END_TEST

START_TEST(test_auc_brute_force)
{
    uint64_t s = 3;
    for (int round = 0; round < 20; round++) {
        size_t n = 5 + (size_t)(rng_uniform(&s) * 200);
        double *sc = malloc(n * sizeof *sc), *y = malloc(n * sizeof *y);
        do {
            for (size_t i = 0; i < n; i++) {
                sc[i] = floor(rng_uniform(&s) * 8) / 8; /* many ties */
                y[i] = rng_uniform(&s) < 0.3 + 0.4 * sc[i];
            }
        } while (isnan(brute_auc(sc, y, n))); /* until both classes are present */
        double auc;
        ck_assert_int_eq(custscore_auc(sc, y, n, &auc), 0);
        ck_assert_double_eq_tol(auc, brute_auc(sc, y, n), 1e-12);
        free(sc);
        free(y);
    }
}
END_TEST

START_TEST(test_brier_lift_calibration)
{
    double brier;
    double p[] = {0.2, 0.9}, y[] = {0, 1};
    ck_assert_int_eq(custscore_brier(p, y, 2, &brier), 0);
    ck_assert_double_eq_tol(brier, (0.04 + 0.01) / 2, 1e-15);
    double out_of_range[] = {0.2, 1.5};
    ck_assert_int_eq(custscore_brier(out_of_range, y, 2, &brier), CUSTSCORE_EINVAL);

    /* Lift: 10 customers, 4 events (base rate 0.4). Top 10% = the single
     * highest score, an event: lift 1 / 0.4. Top 30%: the 9 (event), then
     * two of the three tied at 8 (one event among them, counted 2/3):
     * rate (1 + 2/3) / 3, lift 1.3889. */
    double sc[] = {9, 8, 8, 8, 5, 4, 3, 2, 1, 0};
    double ly[] = {1, 1, 0, 0, 0, 1, 0, 1, 0, 0};
    double lift;
    ck_assert_int_eq(custscore_lift(sc, ly, 10, 0.1, &lift), 0);
    ck_assert_double_eq_tol(lift, 1 / 0.4, 1e-12);
    ck_assert_int_eq(custscore_lift(sc, ly, 10, 0.3, &lift), 0);
    ck_assert_double_eq_tol(lift, ((1 + 2.0 / 3) / 3) / 0.4, 1e-12);
    ck_assert_int_eq(custscore_lift(sc, ly, 10, 1.0, &lift), 0);
    ck_assert_double_eq_tol(lift, 1, 1e-12);
    ck_assert_int_eq(custscore_lift(sc, ly, 10, 0, &lift), CUSTSCORE_EINVAL);

    /* Calibration: 20 probabilities 0.05 .. 1.00, labels alternating. */
    double cp[20], cy[20];
    for (int i = 0; i < 20; i++) {
        cp[19 - i] = (i + 1) * 0.05; /* given in descending order */
        cy[19 - i] = i % 2;
    }
    custscore_calibration_bin bins[10];
    ck_assert_int_eq(custscore_calibration(cp, cy, 20, 10, bins), 0);
    for (int b = 0; b < 10; b++) {
        ck_assert_int_eq(bins[b].n, 2);
        ck_assert_double_eq_tol(bins[b].p_min, (2 * b + 1) * 0.05, 1e-12);
        ck_assert_double_eq_tol(bins[b].p_max, (2 * b + 2) * 0.05, 1e-12);
        ck_assert_double_eq_tol(bins[b].mean_predicted, (2 * b + 1.5) * 0.05, 1e-12);
        ck_assert_double_eq_tol(bins[b].observed_rate, 0.5, 1e-12);
    }
    ck_assert_int_eq(custscore_calibration(cp, cy, 20, 21, bins), CUSTSCORE_EINVAL);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Features */

START_TEST(test_behaviour_definitions)
{
    /* A: occasions on days 0 (two orders), 10 and 30, a return on day 25;
     * B: one purchase on day 5; C: nothing; D: only a return. */
    int64_t ts[] = {0, 0, 10, 25, 30, 5, 3};
    double rev[] = {10, 5, 20, -5, 40, 100, -10}, cost[7] = {0};
    for (int k = 0; k < 7; k++)
        ts[k] = ts[k] * DAY + 3600 * (k + 1);
    size_t offset[] = {0, 5, 6, 6, 7};
    int64_t ids[] = {1, 2, 3, 4};
    const char *keys[] = {"A", "B", "C", "D"};
    cs_history h = {.n_customers = 4,
                    .customer_id = ids,
                    .key = keys,
                    .offset = offset,
                    .n_orders = 7,
                    .ts = ts,
                    .revenue = rev,
                    .cost = cost};
    cs_churn_behaviour b;
    cs_churn_behaviour_of(&h, 0, 40, 365, 12, &b);
    ck_assert_double_eq(b.occasions, 3);
    ck_assert_double_eq(b.recency_days, 10);
    ck_assert_double_eq(b.tenure_days, 40);
    ck_assert_double_eq(b.usual_gap_days, (30.0 + 12.0) / 3.0);
    ck_assert_double_eq_tol(b.mean_spend, 70.0 / 3.0, 1e-12);
    /* Lookback min(365, 41) days: recent = ages < 20.5 (days 30 and 25),
     * earlier = days 10 and 0. */
    ck_assert_double_eq(b.freq_recent, 1);
    ck_assert_double_eq(b.freq_earlier, 2);
    ck_assert_double_eq(b.spend_recent, 35);
    ck_assert_double_eq(b.spend_earlier, 35);
    /* A 20-day lookback sees only days 30 and 25 (ages 10 and 15 >= 10: earlier). */
    cs_churn_behaviour_of(&h, 0, 40, 20, 12, &b);
    ck_assert_double_eq(b.freq_recent, 0);
    ck_assert_double_eq(b.freq_earlier, 1);
    ck_assert_double_eq(b.spend_earlier, 35);
    /* As of day 20: only the first two occasions count. */
    cs_churn_behaviour_of(&h, 0, 20, 365, 12, &b);
    ck_assert_double_eq(b.occasions, 2);
    ck_assert_double_eq(b.recency_days, 10);
    ck_assert_double_eq(b.usual_gap_days, (10.0 + 12.0) / 2.0);
    /* A one-time buyer's usual gap is the prior. */
    cs_churn_behaviour_of(&h, 1, 40, 365, 12, &b);
    ck_assert_double_eq(b.occasions, 1);
    ck_assert_double_eq(b.recency_days, 35);
    ck_assert_double_eq(b.usual_gap_days, 12);
    ck_assert_double_eq(b.freq_recent, 0);
    ck_assert_double_eq(b.freq_earlier, 1);
    cs_churn_behaviour_of(&h, 2, 40, 365, 12, &b);
    ck_assert_double_eq(b.occasions, 0);
    cs_churn_behaviour_of(&h, 3, 40, 365, 12, &b);
    ck_assert_double_eq(b.occasions, 0);
    /* Purchases in (after, through]. */
    ck_assert(cs_churn_purchased_between(&h, 0, 10, 30));
    ck_assert(!cs_churn_purchased_between(&h, 0, 30, 40));
    ck_assert(!cs_churn_purchased_between(&h, 0, 10, 29)); /* day 25 is a return */
    ck_assert(!cs_churn_purchased_between(&h, 3, 0, 40));
    /* Median gap of the repeat buyers: A only (mean gap 15). */
    double g;
    ck_assert_int_eq(cs_churn_median_gap(&h, 40, &g), 0);
    ck_assert_double_eq(g, 15);
}
END_TEST

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

START_TEST(test_median_gap_brute_force)
{
    uint64_t s = 17;
    for (size_t n = 1; n <= 400; n += 57) {
        int64_t *ts = malloc(n * 6 * sizeof *ts), *ids = malloc(n * sizeof *ids);
        double *rev = malloc(n * 6 * sizeof *rev), *gaps = malloc(n * sizeof *gaps);
        size_t *offset = malloc((n + 1) * sizeof *offset);
        const char **keys = malloc(n * sizeof *keys);
        size_t k = 0, m = 0;
        for (size_t i = 0; i < n; i++) {
            offset[i] = k;
            ids[i] = (int64_t)i;
            keys[i] = "x";
            int orders = 1 + (int)(rng_uniform(&s) * 5);
            int64_t day = (int64_t)(rng_uniform(&s) * 50);
            int64_t first = day, last = day;
            for (int o = 0; o < orders; o++) {
                ts[k] = day * DAY;
                rev[k++] = 1;
                last = day;
                day += 1 + (int64_t)(rng_uniform(&s) * 20) * (rng_uniform(&s) < 0.8);
            }
            (void)first;
            /* distinct days = occasions */
            int occ = 1;
            for (size_t q = offset[i] + 1; q < k; q++)
                occ += ts[q] != ts[q - 1];
            if (occ >= 2)
                gaps[m++] = (double)(last - first) / (occ - 1);
        }
        offset[n] = k;
        cs_history h = {.n_customers = n,
                        .customer_id = ids,
                        .key = keys,
                        .offset = offset,
                        .n_orders = k,
                        .ts = ts,
                        .revenue = rev,
                        .cost = rev};
        double got;
        ck_assert_int_eq(cs_churn_median_gap(&h, 1000, &got), 0);
        double want = 0;
        if (m > 0) {
            qsort(gaps, m, sizeof *gaps, cmp_double);
            want = m % 2 ? gaps[m / 2] : (gaps[m / 2 - 1] + gaps[m / 2]) / 2;
        }
        ck_assert_double_eq_tol(got, want, 1e-12);
        free(ts);
        free(ids);
        free(rev);
        free(gaps);
        free(offset);
        free(keys);
    }
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Models on a store */

/* Synthetic shop: customers buy every `gap` days from their start; "stayers"
 * keep buying to the end, "leavers" stop at a random day. */
static void synthetic_shop(custscore *db, int n, int64_t end_day, uint64_t seed)
{
    uint64_t s = seed;
    ck_assert_int_eq(custscore_begin(db), 0);
    for (int c = 0; c < n; c++) {
        char key[32];
        snprintf(key, sizeof key, "C%04d", c);
        int64_t start = (int64_t)(rng_uniform(&s) * 150);
        int64_t gap = 10 + (int64_t)(rng_uniform(&s) * 40);
        bool leaver = rng_uniform(&s) < 0.5;
        int64_t stop =
            leaver ? start + (int64_t)(rng_uniform(&s) * (double)(end_day - start)) : end_day;
        for (int64_t d = start; d <= stop; d += gap + (int64_t)(rng_uniform(&s) * 6) - 3)
            add_order(db, key, d, 20 + 30 * rng_uniform(&s));
    }
    ck_assert_int_eq(custscore_commit(db), 0);
}

typedef struct score_check {
    const custscore_churn_card *card;
    size_t n;
    int lapsed_with_recency_reason; /* customers long overdue whose top reason is recency */
    int lapsed;
} score_check;

/* Every score: the reasons and the intercept at the mean add up to the
 * logit, the reasons are the largest positive contributions in order, the
 * band follows the card's thresholds. */
static int check_score(const custscore_churn_score *sc, void *payload)
{
    score_check *c = payload;
    c->n++;
    ck_assert(sc->probability >= 0 && sc->probability <= 1);
    ck_assert_double_eq_tol(sc->probability, 1 / (1 + exp(-sc->logit)), 1e-12);
    double sum = sc->logit_at_mean;
    double smallest_reason = INFINITY;
    for (size_t g = 0; g < sc->n_groups; g++)
        sum += sc->contribution[g];
    ck_assert_double_eq_tol(sum, sc->logit, 1e-9 * (1 + fabs(sc->logit)));
    ck_assert_uint_le(sc->n_reasons, CUSTSCORE_CHURN_REASONS);
    for (size_t r = 0; r < sc->n_reasons; r++) {
        const custscore_churn_reason *re = &sc->reason[r];
        ck_assert_double_ge(re->contribution, CUSTSCORE_CHURN_REASON_MIN);
        if (r > 0)
            ck_assert_double_le(re->contribution, sc->reason[r - 1].contribution);
        smallest_reason = fmin(smallest_reason, re->contribution);
        bool found = false;
        for (size_t g = 0; g < sc->n_groups; g++)
            if (strcmp(sc->groups[g], re->feature) == 0) {
                ck_assert_double_eq(sc->contribution[g], re->contribution);
                found = true;
            }
        ck_assert(found);
        ck_assert_uint_gt(strlen(re->text), 0);
    }
    size_t positive = 0;
    for (size_t g = 0; g < sc->n_groups; g++)
        if (sc->contribution[g] >= CUSTSCORE_CHURN_REASON_MIN) {
            positive++;
            bool listed = false;
            for (size_t r = 0; r < sc->n_reasons; r++)
                listed = listed || strcmp(sc->reason[r].feature, sc->groups[g]) == 0;
            if (!listed)
                ck_assert_double_le(sc->contribution[g], smallest_reason);
        }
    ck_assert_uint_eq(sc->n_reasons, positive < 3 ? positive : 3);
    const char *band =
        custscore_churn_band(sc->probability, c->card->band_medium, c->card->band_high);
    ck_assert_str_eq(sc->band, band);
    ck_assert_int_eq(sc->band_level, strcmp(band, "high") == 0     ? 2
                                     : strcmp(band, "medium") == 0 ? 1
                                                                   : 0);
    ck_assert(!sc->has_clv);
    ck_assert_double_eq(sc->value_at_risk, 0);
    if (sc->n_reasons > 0 && strstr(sc->reason[0].text, "last purchase")) {
        int days = 0;
        double times = 0;
        if (sscanf(sc->reason[0].text, "last purchase %d day%*[s] ago, %lf times", &days, &times) ==
                2 &&
            times > 3) {
            c->lapsed_with_recency_reason++;
        }
    }
    return 0;
}

static void card_equal(const custscore_churn_card *a, const custscore_churn_card *b)
{
    ck_assert_int_eq(a->method, b->method);
    ck_assert_int_eq(a->as_of, b->as_of);
    ck_assert_int_eq(a->cutoff, b->cutoff);
    ck_assert_int_eq(a->n_train, b->n_train);
    ck_assert_int_eq(a->n_holdout, b->n_holdout);
    ck_assert_double_eq(a->intercept, b->intercept);
    ck_assert_double_eq(a->auc, b->auc);
    ck_assert_double_eq(a->brier, b->brier);
    ck_assert_double_eq(a->lift_top_decile, b->lift_top_decile);
    ck_assert_double_eq(a->base_rate, b->base_rate);
    ck_assert_uint_eq(a->n_coefs, b->n_coefs);
    for (size_t j = 0; j < a->n_coefs; j++) {
        ck_assert_str_eq(a->coefs[j].name, b->coefs[j].name);
        ck_assert_str_eq(a->coefs[j].group, b->coefs[j].group);
        ck_assert_double_eq(a->coefs[j].coefficient, b->coefs[j].coefficient);
        ck_assert_double_eq(a->coefs[j].mean, b->coefs[j].mean);
        ck_assert_double_eq(a->coefs[j].sd, b->coefs[j].sd);
    }
    ck_assert_uint_eq(a->n_calibration, b->n_calibration);
    for (size_t k = 0; k < a->n_calibration; k++) {
        ck_assert_int_eq(a->calibration[k].n, b->calibration[k].n);
        ck_assert_double_eq(a->calibration[k].observed_rate, b->calibration[k].observed_rate);
    }
}

START_TEST(test_window_model_synthetic)
{
    custscore *db = mem_store();
    int64_t end_day = 600;
    synthetic_shop(db, 600, end_day, 42);
    custscore_churn_options o = CUSTSCORE_CHURN_OPTIONS_INIT;
    custscore_churn_card *card = NULL;
    ck_assert_msg(custscore_churn_train(db, end_day * DAY, &o, &card) == 0, "%s",
                  custscore_errmsg(db));
    ck_assert_ptr_nonnull(card);
    ck_assert_int_eq(card->method, CUSTSCORE_CHURN_WINDOW);
    ck_assert_double_eq(card->window_days, 90);
    ck_assert_int_eq(card->cutoff, (end_day - 90) * DAY);
    ck_assert_int_eq(card->n_holdout, llround(0.3 * (double)(card->n_train + card->n_holdout)));
    ck_assert(card->converged);
    ck_assert_double_gt(card->base_rate, 0);
    ck_assert_double_lt(card->base_rate, 1);
    /* Leavers are easy to spot by their recency against their own rhythm. */
    ck_assert_double_gt(card->auc, 0.85);
    ck_assert_uint_eq(card->n_calibration, 10);
    bool has_ratio = false;
    for (size_t j = 0; j < card->n_coefs; j++)
        if (strcmp(card->coefs[j].name, "recency_ratio") == 0) {
            has_ratio = true;
            ck_assert_str_eq(card->coefs[j].group, "recency");
        }
    ck_assert(has_ratio);
    ck_assert_ptr_nonnull(strstr(card->params_json, "\"features\""));
    ck_assert_ptr_nonnull(strstr(card->info_json, "\"calibration\""));

    /* The stored card reads back exactly. */
    custscore_churn_card *stored = NULL;
    ck_assert_int_eq(custscore_churn_card_get(db, NULL, &stored), 0);
    card_equal(card, stored);
    custscore_churn_card_free(stored);

    score_check c = {.card = card};
    ck_assert_msg(custscore_churn_score_each(db, end_day * DAY, NULL, check_score, &c) == 0, "%s",
                  custscore_errmsg(db));
    ck_assert_uint_gt(c.n, 500);
    ck_assert_int_gt(c.lapsed_with_recency_reason, 0);

    /* Thresholds given at scoring override the card's. */
    custscore_churn_card high = *card;
    high.band_medium = 0.01;
    high.band_high = 0.02;
    o.band_medium = 0.01;
    o.band_high = 0.02;
    score_check c2 = {.card = &high};
    ck_assert_int_eq(custscore_churn_score_each(db, end_day * DAY, &o, check_score, &c2), 0);
    ck_assert_uint_eq(c2.n, c.n);
    custscore_churn_card_free(card);
    custscore_close(db);
}
END_TEST

static int stop_after_one(const custscore_churn_score *sc, void *payload)
{
    (void)sc;
    (*(int *)payload)++;
    return 7;
}

START_TEST(test_window_errors)
{
    custscore *db = mem_store();
    static custscore_churn_card dummy;
    custscore_churn_card *card = &dummy; /* must be reset to NULL */
    /* No model yet. */
    int calls = 0;
    ck_assert_int_eq(custscore_churn_score_each(db, 100 * DAY, NULL, stop_after_one, &calls),
                     CUSTSCORE_ENOMODEL);
    ck_assert_int_eq(custscore_churn_card_get(db, NULL, &card), CUSTSCORE_ENOMODEL);
    ck_assert_ptr_null(card);
    /* Everyone buys in the last 90 days: nobody churned. */
    for (int c = 0; c < 20; c++) {
        char key[16];
        snprintf(key, sizeof key, "K%02d", c);
        for (int64_t d = c; d <= 300; d += 30)
            add_order(db, key, d, 10);
    }
    ck_assert_int_eq(custscore_churn_train(db, 300 * DAY, NULL, &card), CUSTSCORE_EINVAL);
    ck_assert_ptr_null(card);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "none"));
    /* Nobody buys after day 300: all churned at an as-of 120 days later. */
    ck_assert_int_eq(custscore_churn_train(db, 420 * DAY, NULL, &card), CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "all"));
    /* A window longer than the history. */
    custscore_churn_options o = CUSTSCORE_CHURN_OPTIONS_INIT;
    o.window_days = 400;
    ck_assert_int_eq(custscore_churn_train(db, 300 * DAY, &o, &card), CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "longer than"));
    /* Bad options. */
    o = (custscore_churn_options)CUSTSCORE_CHURN_OPTIONS_INIT;
    o.window_days = 0.5;
    ck_assert_int_eq(custscore_churn_train(db, 300 * DAY, &o, NULL), CUSTSCORE_EINVAL);
    o = (custscore_churn_options)CUSTSCORE_CHURN_OPTIONS_INIT;
    o.holdout = 1;
    ck_assert_int_eq(custscore_churn_train(db, 300 * DAY, &o, NULL), CUSTSCORE_EINVAL);
    o = (custscore_churn_options)CUSTSCORE_CHURN_OPTIONS_INIT;
    o.band_medium = 0.8;
    o.band_high = 0.5;
    ck_assert_int_eq(custscore_churn_train(db, 300 * DAY, &o, NULL), CUSTSCORE_EINVAL);
    o = (custscore_churn_options)CUSTSCORE_CHURN_OPTIONS_INIT;
    o.version = 0;
    ck_assert_int_eq(custscore_churn_train(db, 300 * DAY, &o, NULL), CUSTSCORE_EINVAL);
    o = (custscore_churn_options)CUSTSCORE_CHURN_OPTIONS_INIT;
    o.method = CUSTSCORE_CHURN_LABEL;
    ck_assert_int_eq(custscore_churn_train(db, 300 * DAY, &o, NULL), CUSTSCORE_EINVAL);
    /* BTYD scores need a fitted BTYD model. */
    o = (custscore_churn_options)CUSTSCORE_CHURN_OPTIONS_INIT;
    o.method = CUSTSCORE_CHURN_BTYD;
    ck_assert_int_eq(custscore_churn_score_each(db, 300 * DAY, &o, stop_after_one, &calls),
                     CUSTSCORE_ENOMODEL);
    custscore_close(db);
    ck_assert_int_eq(custscore_churn_train(NULL, 0, NULL, NULL), CUSTSCORE_EINVAL);
    custscore_churn_card_free(NULL);
}
END_TEST

START_TEST(test_label_model_synthetic)
{
    /* Label model with a numeric attribute missing for some customers, a
     * categorical one with a rare level, and customers without a label. */
    custscore *db = mem_store();
    uint64_t s = 5;
    ck_assert_int_eq(custscore_begin(db), 0);
    for (int c = 0; c < 1000; c++) {
        char key[16];
        snprintf(key, sizeof key, "P%04d", c);
        double u = rng_uniform(&s);
        const char *plan = u < 0.45 ? "basic" : u < 0.9 ? "plus" : u < 0.995 ? "pro" : "legacy";
        double age = 18 + 60 * rng_uniform(&s);
        bool age_known = rng_uniform(&s) > 0.1;
        double eta =
            -1 + (strcmp(plan, "basic") == 0 ? 1.2 : 0) - 0.03 * (age - 45) + (age_known ? 0 : 0.8);
        bool churned = rng_uniform(&s) < 1 / (1 + exp(-eta));
        ck_assert_int_eq(custscore_set_attribute_text(db, key, "plan", plan), 0);
        if (age_known)
            ck_assert_int_eq(custscore_set_attribute(db, key, "age", age), 0);
        if (c % 50 != 0) /* every 50th customer has no label: scored, not trained */
            ck_assert_int_eq(custscore_set_attribute_text(db, key, "Churn", churned ? "Yes" : "No"),
                             0);
    }
    ck_assert_int_eq(custscore_set_attribute_text(db, "NEW", "plan", "unheard-of"), 0);
    ck_assert_int_eq(custscore_commit(db), 0);
    custscore_churn_options o = CUSTSCORE_CHURN_OPTIONS_INIT;
    o.label = "Churn";
    o.features = "plan, age";
    o.seed = 99;
    custscore_churn_card *card = NULL;
    ck_assert_msg(custscore_churn_train(db, 0, &o, &card) == 0, "%s", custscore_errmsg(db));
    ck_assert_int_eq(card->method, CUSTSCORE_CHURN_LABEL);
    ck_assert_str_eq(card->label, "Churn");
    ck_assert_int_eq(card->n_train + card->n_holdout, 980);
    const char *expect[] = {"plan=plus",    "plan=basic", "plan=pro",
                            "plan=(other)", "age",        "age:missing"};
    for (size_t k = 0; k < sizeof expect / sizeof *expect; k++) {
        bool found = false;
        for (size_t j = 0; j < card->n_coefs; j++)
            found = found || strcmp(card->coefs[j].name, expect[k]) == 0;
        ck_assert_msg(found, "no feature %s", expect[k]);
    }
    for (size_t j = 0; j < card->n_coefs; j++) {
        ck_assert_ptr_null(strstr(card->coefs[j].name, "legacy")); /* pooled */
        if (strcmp(card->coefs[j].name, "age") == 0)
            ck_assert_double_lt(card->coefs[j].coefficient, 0);
        if (strcmp(card->coefs[j].name, "age:missing") == 0)
            ck_assert_double_gt(card->coefs[j].coefficient, 0);
    }
    ck_assert_double_gt(card->auc, 0.6);
    /* Same seed, same split and card; another seed, another split. */
    custscore_churn_card *again = NULL, *other = NULL;
    o.no_store = 1;
    ck_assert_int_eq(custscore_churn_train(db, 0, &o, &again), 0);
    ck_assert_double_eq(again->auc, card->auc);
    ck_assert_double_eq(again->intercept, card->intercept);
    o.seed = 100;
    ck_assert_int_eq(custscore_churn_train(db, 0, &o, &other), 0);
    ck_assert_int_eq(other->n_holdout, card->n_holdout);
    ck_assert(other->auc != card->auc || other->intercept != card->intercept);
    custscore_churn_card_free(again);
    custscore_churn_card_free(other);
    /* Every customer is scored, the unlabelled and the unseen level too. */
    score_check c = {.card = card};
    ck_assert_int_eq(custscore_churn_score_each(db, 0, NULL, check_score, &c), 0);
    ck_assert_uint_eq(c.n, 1001);
    int calls = 0;
    ck_assert_int_eq(custscore_churn_score_each(db, 0, NULL, stop_after_one, &calls), 7);
    ck_assert_int_eq(calls, 1);
    /* The label cannot be a feature; an unknown attribute is an error. */
    o.features = "plan,Churn";
    ck_assert_int_eq(custscore_churn_train(db, 0, &o, NULL), CUSTSCORE_EINVAL);
    o.features = "plan,agee";
    ck_assert_int_eq(custscore_churn_train(db, 0, &o, NULL), CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "agee"));
    custscore_churn_card_free(card);
    custscore_close(db);
}
END_TEST

typedef struct sat_check {
    const custscore_churn_card *card;
    size_t n_missing, n_answered;
    double missing_contribution; /* the same for every customer without answers */
    bool set;
} sat_check;

static int check_satisfaction(const custscore_churn_score *sc, void *payload)
{
    sat_check *c = payload;
    score_check sub = {.card = c->card};
    check_score(sc, &sub);
    int number = atoi(sc->customer + 1);
    bool answered = number % 5 < 3;
    double contribution = NAN;
    for (size_t g = 0; g < sc->n_groups; g++)
        if (strcmp(sc->groups[g], "satisfaction") == 0)
            contribution = sc->contribution[g];
    ck_assert(!isnan(contribution));
    for (size_t r = 0; r < sc->n_reasons; r++) {
        if (strcmp(sc->reason[r].feature, "satisfaction") != 0)
            continue;
        if (answered)
            ck_assert_int_eq(strncmp(sc->reason[r].text, "satisfaction ", 13), 0);
        else
            ck_assert_str_eq(sc->reason[r].text, "no satisfaction score");
    }
    if (answered) {
        c->n_answered++;
        return 0;
    }
    c->n_missing++;
    if (!c->set) {
        c->missing_contribution = contribution;
        c->set = true;
    }
    ck_assert_double_eq_tol(contribution, c->missing_contribution, 1e-12);
    return 0;
}

START_TEST(test_missing_satisfaction)
{
    /* Three customers in five answer a survey (ECSI's satisfaction items
     * CUSA1-3 on 1..10) before the cut-off; leavers are unhappier. */
    custscore *db = mem_store();
    uint64_t s = 8;
    int64_t end_day = 600;
    ck_assert_int_eq(custscore_begin(db), 0);
    for (int c = 0; c < 600; c++) {
        char key[32];
        snprintf(key, sizeof key, "C%04d", c);
        int64_t start = (int64_t)(rng_uniform(&s) * 100);
        int64_t gap = 15 + (int64_t)(rng_uniform(&s) * 30);
        bool leaver = rng_uniform(&s) < 0.5;
        int64_t stop = leaver ? 250 + (int64_t)(rng_uniform(&s) * 340) : end_day;
        for (int64_t d = start; d <= stop; d += gap)
            add_order(db, key, d, 30);
        if (c % 5 < 3) {
            double base = leaver ? 3 : 7;
            for (int item = 1; item <= 3; item++) {
                char name[16];
                snprintf(name, sizeof name, "CUSA%d", item);
                double v = fmin(10, fmax(1, round(base + 4 * (rng_uniform(&s) - 0.5))));
                ck_assert_int_eq(custscore_add_response(db, key, 200 * DAY, name, v), 0);
            }
        }
    }
    ck_assert_int_eq(custscore_commit(db), 0);
    custscore_survey_model *model = NULL;
    ck_assert_int_eq(custscore_survey_model_template("ecsi", &model), 0);
    ck_assert_msg(custscore_survey_model_save(db, model) == 0, "%s", custscore_errmsg(db));
    custscore_survey_model_free(model);

    custscore_churn_card *card = NULL;
    ck_assert_msg(custscore_churn_train(db, end_day * DAY, NULL, &card) == 0, "%s",
                  custscore_errmsg(db));
    ck_assert_ptr_nonnull(card->survey_model);
    ck_assert_str_eq(card->survey_model, "ecsi");
    double coef_sat = NAN, coef_missing = NAN, mean_missing = NAN;
    for (size_t j = 0; j < card->n_coefs; j++) {
        if (strcmp(card->coefs[j].name, "satisfaction") == 0)
            coef_sat = card->coefs[j].coefficient;
        if (strcmp(card->coefs[j].name, "satisfaction_missing") == 0) {
            coef_missing = card->coefs[j].coefficient;
            mean_missing = card->coefs[j].mean;
            ck_assert_str_eq(card->coefs[j].group, "satisfaction");
        }
    }
    ck_assert_msg(coef_sat < 0, "higher satisfaction should lower the risk (%g)", coef_sat);
    ck_assert(!isnan(coef_missing));
    ck_assert_double_eq_tol(mean_missing, 0.4, 0.05);
    /* A customer without answers gets the mean satisfaction: the group's
     * contribution is the missing indicator's alone, the same for all. */
    sat_check c = {.card = card};
    ck_assert_int_eq(custscore_churn_score_each(db, end_day * DAY, NULL, check_satisfaction, &c),
                     0);
    ck_assert_uint_gt(c.n_missing, 100);
    ck_assert_uint_gt(c.n_answered, 100);
    ck_assert_double_eq_tol(c.missing_contribution, coef_missing * (1 - mean_missing), 1e-9);
    custscore_churn_card_free(card);
    custscore_close(db);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Allocation failures: in a -Dfault_injection=true build the library can
 * fail its Nth allocation (cs_fault_reset in src/custscore.c); the weak
 * reference finds the hook only there. Every allocation of training, card
 * reading and scoring is failed in turn: each must end in a clean ENOMEM
 * with a message (and, under valgrind, without a leak). */
#if defined(__GNUC__) || defined(__clang__)
void cs_fault_reset(long fail_at) __attribute__((weak));
#define HAVE_FAULT_HOOK (cs_fault_reset != NULL)
#else
#define HAVE_FAULT_HOOK 0
static void cs_fault_reset(long fail_at)
{
    (void)fail_at;
}
#endif

static int count_only(const custscore_churn_score *sc, void *payload)
{
    (void)sc;
    (*(int *)payload)++;
    return 0;
}

static int churn_steps(custscore *db, int64_t as_of, int *step)
{
    custscore_churn_options o = CUSTSCORE_CHURN_OPTIONS_INIT;
    o.features = "plan";
    custscore_churn_card *card = NULL;
    int n = 0, rc;
    *step = 1;
    rc = custscore_churn_train(db, as_of, &o, &card);
    custscore_churn_card_free(card);
    card = NULL;
    if (rc == 0) {
        *step = 2;
        rc = custscore_churn_card_get(db, NULL, &card);
        custscore_churn_card_free(card);
    }
    if (rc == 0) {
        *step = 3;
        rc = custscore_churn_score_each(db, as_of, NULL, count_only, &n);
    }
    if (rc == 0) {
        *step = 4;
        custscore_churn_options lo = CUSTSCORE_CHURN_OPTIONS_INIT;
        lo.label = "Churn";
        lo.features = "*";
        lo.no_store = 1;
        rc = custscore_churn_train(db, as_of, &lo, &card);
        custscore_churn_card_free(card);
    }
    if (rc == 0) {
        *step = 5;
        double sc[] = {0.1, 0.4, 0.35, 0.8}, y[] = {0, 0, 1, 1}, auc;
        custscore_calibration_bin bins[2];
        rc = custscore_auc(sc, y, 4, &auc);
        if (rc == 0)
            rc = custscore_calibration(sc, y, 4, 2, bins);
    }
    return rc;
}

START_TEST(test_allocation_failures)
{
    if (!HAVE_FAULT_HOOK) {
        tu_skip("allocation failures: not a fault-injection build (-Dfault_injection=true)");
        return;
    }
    custscore *db = mem_store();
    synthetic_shop(db, 60, 400, 9);
    for (int c = 0; c < 60; c++) {
        char key[32];
        snprintf(key, sizeof key, "C%04d", c);
        ck_assert_int_eq(custscore_set_attribute_text(db, key, "plan", c % 3 ? "a" : "b"), 0);
        ck_assert_int_eq(custscore_set_attribute_text(db, key, "Churn", c % 2 ? "Yes" : "No"), 0);
        if (c % 4 == 0)
            ck_assert_int_eq(custscore_add_complaint(db, key, (300 + c) * DAY, 1, 0), 0);
    }
    int step;
    ck_assert_msg(churn_steps(db, 400 * DAY, &step) == 0, "step %d: %s", step,
                  custscore_errmsg(db));
    long injected = 0;
    for (long n = 1;; n++) {
        cs_fault_reset(n);
        int rc = churn_steps(db, 400 * DAY, &step);
        long more = 0;
        void *p;
        while (more <= n && (p = cs_malloc(1)) != NULL) {
            cs_free(p);
            more++;
        }
        cs_fault_reset(-1);
        if (more <= n) { /* the failing allocation was never reached */
            ck_assert_int_eq(rc, 0);
            break;
        }
        injected++;
        if (rc) {
            ck_assert_msg(rc == CUSTSCORE_ENOMEM, "allocation %ld: step %d returned %d (%s)", n,
                          step, rc, custscore_errmsg(db));
            ck_assert_msg(step == 5 || custscore_errmsg(db)[0] != '\0',
                          "allocation %ld: step %d: no message", n, step);
        }
    }
    printf("churn: %ld allocation failures injected, each a clean ENOMEM\n", injected);
    ck_assert_int_gt(injected, 100);
    custscore_close(db);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Real data */

typedef struct collected {
    size_t n, cap;
    char **key;
    double *p;
} collected;

static int collect(const custscore_churn_score *sc, void *payload)
{
    collected *c = payload;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 1024;
        c->key = realloc(c->key, c->cap * sizeof *c->key);
        c->p = realloc(c->p, c->cap * sizeof *c->p);
    }
    c->key[c->n] = strdup(sc->customer);
    c->p[c->n] = sc->probability;
    c->n++;
    return 0;
}

static void collected_free(collected *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->key[i]);
    free(c->key);
    free(c->p);
    memset(c, 0, sizeof *c);
}

static void print_card(const char *what, const custscore_churn_card *card)
{
    printf("%s: n_train %lld, n_holdout %lld, base rate %.3f, train AUC %.4f, holdout AUC %.4f, "
           "Brier %.4f, top-decile lift %.3f\n",
           what, (long long)card->n_train, (long long)card->n_holdout, card->base_rate,
           card->train_auc, card->auc, card->brier, card->lift_top_decile);
    for (size_t j = 0; j < card->n_coefs; j++)
        printf("  %-36s coefficient %9.4f (se %.4f), per sd %8.4f\n", card->coefs[j].name,
               card->coefs[j].coefficient, card->coefs[j].std_error,
               card->coefs[j].std_coefficient);
}

START_TEST(test_telco_label)
{
    char *path = tu_shared_path("telco-churn/Telco-Customer-Churn.csv");
    if (!path) {
        tu_skip("telco-churn data set not found");
        return;
    }
    custscore *db = mem_store();
    custscore_import_options io = CUSTSCORE_IMPORT_OPTIONS_INIT;
    io.map = "customer=customerID";
    custscore_import_report rep;
    ck_assert_msg(custscore_import_csv(db, CUSTSCORE_KIND_CUSTOMERS, path, &io, &rep) == 0, "%s",
                  custscore_errmsg(db));
    ck_assert_int_eq(rep.added, 7043);
    custscore_churn_options o = CUSTSCORE_CHURN_OPTIONS_INIT;
    o.label = "Churn";
    o.features = "*";
    custscore_churn_card *card = NULL;
    ck_assert_msg(custscore_churn_train(db, 0, &o, &card) == 0, "%s", custscore_errmsg(db));
    print_card("Telco (label Churn, all attributes, seeded 30% holdout)", card);
    ck_assert_int_eq(card->n_holdout, 2113);
    ck_assert_double_ge(card->auc, 0.83);
    /* The holdout's churn rate is the data's 26.5% give or take. */
    ck_assert_double_gt(card->holdout_base_rate, 0.22);
    ck_assert_double_lt(card->holdout_base_rate, 0.31);
    score_check c = {.card = card};
    ck_assert_int_eq(custscore_churn_score_each(db, 0, NULL, check_score, &c), 0);
    ck_assert_uint_eq(c.n, 7043);
    custscore_churn_card_free(card);
    custscore_close(db);
    free(path);
}
END_TEST

/* AUC of the scores in @c for "no purchase occasion" labels, looked up by key. */
static double auc_of(const collected *c, const char *const *buyers, size_t n_buyers,
                     double *churn_rate)
{
    double *y = malloc(c->n * sizeof *y);
    double pos = 0;
    for (size_t i = 0; i < c->n; i++) {
        size_t lo = 0, hi = n_buyers;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (strcmp(buyers[mid], c->key[i]) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        y[i] = !(lo < n_buyers && strcmp(buyers[lo], c->key[i]) == 0);
        pos += y[i];
    }
    double auc = NAN;
    ck_assert_int_eq(custscore_auc(c->p, y, c->n, &auc), 0);
    if (churn_rate)
        *churn_rate = pos / (double)c->n;
    free(y);
    return auc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct var_check {
    size_t n, with_clv;
} var_check;

/* Value at risk = probability x CLV whenever a CLV is known. */
static int check_value_at_risk(const custscore_churn_score *sc, void *payload)
{
    var_check *v = payload;
    v->n++;
    if (sc->has_clv) {
        v->with_clv++;
        ck_assert(isfinite(sc->clv) && sc->clv >= 0);
        ck_assert_double_eq_tol(sc->value_at_risk, sc->probability * sc->clv,
                                1e-12 * (1 + sc->clv));
    } else {
        ck_assert_double_eq(sc->value_at_risk, 0);
    }
    return 0;
}

START_TEST(test_cdnow_holdout)
{
    /* Under valgrind the 2,357-customer sample, else the 23,570 cohort. */
    bool small = tu_under_valgrind();
    char *path = tu_shared_path(small ? "lifetimes-datasets/CDNOW_sample.txt"
                                      : "lifetimes-datasets/CDNOW_master.txt");
    if (!path) {
        tu_skip("lifetimes-datasets (CDNOW) not found");
        return;
    }
    size_t size;
    char *text = tu_read_file(path, &size);
    ck_assert_ptr_nonnull(text);
    /* The store gets the orders up to 1997-09-30 only; the buyers of
     * 1997-10-01 .. 1998-06-30 (the 39-week holdout) give the labels. */
    char *dir = tu_tmpdir();
    char *cal_path = tu_join(dir, "calibration.txt");
    FILE *cal = fopen(cal_path, "w");
    ck_assert_ptr_nonnull(cal);
    size_t n_buyers = 0, cap = 1024;
    char **buyers = malloc(cap * sizeof *buyers);
    for (char *line = strtok(text, "\r\n"); line; line = strtok(NULL, "\r\n")) {
        char id[32], id2[32];
        long date;
        double cds, dollars;
        int ok = small ? sscanf(line, "%31s %31s %ld %lf %lf", id2, id, &date, &cds, &dollars) == 5
                       : sscanf(line, "%31s %ld %lf %lf", id, &date, &cds, &dollars) == 4;
        if (!ok)
            continue; /* the header */
        if (date <= 19970930) {
            fprintf(cal, "%s %ld %.2f\n", id, date, dollars);
        } else if (date <= 19980630 && dollars > 0) {
            if (n_buyers == cap)
                buyers = realloc(buyers, (cap *= 2) * sizeof *buyers);
            buyers[n_buyers++] = strdup(id);
        }
    }
    fclose(cal);
    qsort(buyers, n_buyers, sizeof *buyers, cmp_str);

    custscore *db = mem_store();
    custscore_import_options io = CUSTSCORE_IMPORT_OPTIONS_INIT;
    io.whitespace = 1;
    io.no_header = 1;
    io.map = "customer=1,ts=2,revenue=3";
    ck_assert_msg(custscore_import_csv(db, CUSTSCORE_KIND_ORDERS, cal_path, &io, NULL) == 0, "%s",
                  custscore_errmsg(db));
    int64_t as_of;
    ck_assert_int_eq(custscore_parse_time("1997-09-30", NULL, &as_of), 0);

    /* BTYD scores: 1 - P(alive) and P(X(39 weeks) = 0 | history), for each
     * purchase model. Pareto/NBD is fitted last, so it is the "latest" BTYD
     * model behind the early-warning model's p_alive feature. */
    const custscore_model models[] = {CUSTSCORE_MODEL_BGNBD, CUSTSCORE_MODEL_MBGNBD,
                                      CUSTSCORE_MODEL_PNBD};
    double best_btyd = 0, best_no_purchase = 0;
    for (size_t k = 0; k < sizeof models / sizeof *models; k++) {
        custscore_fit_options fo = CUSTSCORE_FIT_OPTIONS_INIT;
        fo.model = models[k];
        fo.unit = CUSTSCORE_UNIT_WEEK;
        ck_assert_msg(custscore_fit(db, as_of, &fo, NULL) == 0, "%s", custscore_errmsg(db));
        const char *name = custscore_model_name(models[k]);
        for (int method = CUSTSCORE_CHURN_BTYD; method <= CUSTSCORE_CHURN_BTYD_ALIVE; method++) {
            custscore_churn_options o = CUSTSCORE_CHURN_OPTIONS_INIT;
            o.method = method;
            o.btyd_model = name;
            o.window_days = 273; /* 39 weeks */
            collected c = {0};
            ck_assert_msg(custscore_churn_score_each(db, as_of, &o, collect, &c) == 0, "%s",
                          custscore_errmsg(db));
            double auc = auc_of(&c, (const char *const *)buyers, n_buyers, NULL);
            printf("CDNOW %s holdout AUC of %-28s %-7s %.4f (n %zu)\n", small ? "sample" : "master",
                   method == CUSTSCORE_CHURN_BTYD ? "P(X(39 weeks)=0 | history)" : "1 - P(alive)",
                   name, auc, c.n);
            best_btyd = fmax(best_btyd, auc);
            if (method == CUSTSCORE_CHURN_BTYD)
                best_no_purchase = fmax(best_no_purchase, auc);
            collected_free(&c);
        }
    }

    /* The early-warning model, trained on the store alone (90-day window
     * inside the data: cut-off 1997-07-02). */
    custscore_churn_options o = CUSTSCORE_CHURN_OPTIONS_INIT;
    o.window_days = 90;
    custscore_churn_card *card = NULL;
    ck_assert_msg(custscore_churn_train(db, as_of, &o, &card) == 0, "%s", custscore_errmsg(db));
    print_card("CDNOW early-warning model (window 90 days)", card);
    collected c = {0};
    ck_assert_int_eq(custscore_churn_score_each(db, as_of, NULL, collect, &c), 0);
    double rate;
    double ew = auc_of(&c, (const char *const *)buyers, n_buyers, &rate);
    printf("CDNOW %s holdout AUC of the early-warning model: %.4f (n %zu, churn rate %.3f)\n",
           small ? "sample" : "master", ew, c.n, rate);
    ck_assert_double_ge(best_no_purchase, 0.76);
    ck_assert_double_ge(ew, 0.76);
    ck_assert_double_ge(ew, best_btyd - 0.01);
    collected_free(&c);

    /* With a spend model the CLV exists and the value at risk is p x CLV;
     * no_clv skips it. */
    custscore_fit_options fo = CUSTSCORE_FIT_OPTIONS_INIT;
    fo.model = CUSTSCORE_MODEL_GG;
    fo.unit = CUSTSCORE_UNIT_WEEK;
    ck_assert_msg(custscore_fit(db, as_of, &fo, NULL) == 0, "%s", custscore_errmsg(db));
    var_check v = {0};
    ck_assert_msg(custscore_churn_score_each(db, as_of, NULL, check_value_at_risk, &v) == 0, "%s",
                  custscore_errmsg(db));
    ck_assert_uint_eq(v.with_clv, v.n);
    custscore_churn_options no_clv = CUSTSCORE_CHURN_OPTIONS_INIT;
    no_clv.no_clv = 1;
    var_check w = {0};
    ck_assert_int_eq(custscore_churn_score_each(db, as_of, &no_clv, check_value_at_risk, &w), 0);
    ck_assert_uint_eq(w.n, v.n);
    ck_assert_uint_eq(w.with_clv, 0);
    custscore_churn_card_free(card);
    custscore_close(db);
    for (size_t i = 0; i < n_buyers; i++)
        free(buyers[i]);
    free(buyers);
    free(text);
    tu_rmtree(dir);
    free(dir);
    free(cal_path);
    free(path);
}
END_TEST

typedef struct last_after {
    int64_t as_of;
    size_t n, cap;
    char **buyers;
} last_after;

static int collect_buyers(const custscore_summary *s, void *payload)
{
    last_after *l = payload;
    if (s->last > l->as_of) {
        if (l->n == l->cap) {
            l->cap = l->cap ? 2 * l->cap : 1024;
            l->buyers = realloc(l->buyers, l->cap * sizeof *l->buyers);
        }
        l->buyers[l->n++] = strdup(s->customer);
    }
    return 0;
}

/* Keep the header and the lines of every second customer (valgrind runs). */
static char *retail_subset(const char *text, const char *dir)
{
    char *out_path = tu_join(dir, "retail-subset.csv");
    FILE *out = fopen(out_path, "w");
    const char *p = text;
    bool header = true;
    while (*p) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        /* CustomerID is the second field from the end (Country has no comma). */
        const char *last = NULL, *second = NULL;
        for (const char *q = p; q < p + len; q++)
            if (*q == ',') {
                second = last;
                last = q;
            }
        long id = second ? strtol(second + 1, NULL, 10) : 0;
        if (header || id % 2 == 0)
            fwrite(p, 1, len + (end ? 1 : 0), out);
        header = false;
        p += len + (end ? 1 : 0);
    }
    fclose(out);
    return out_path;
}

START_TEST(test_online_retail)
{
    char *path = tu_shared_path("online-retail/online-retail-2010-12-01_2011-12-09.csv");
    if (!path) {
        tu_skip("online-retail data set not found");
        return;
    }
    char *dir = NULL, *import_path = path;
    if (tu_under_valgrind()) {
        char *text = tu_read_file(path, NULL);
        dir = tu_tmpdir();
        import_path = retail_subset(text, dir);
        free(text);
    }
    custscore *db = mem_store();
    custscore_import_options io = CUSTSCORE_IMPORT_OPTIONS_INIT;
    io.map = "customer=CustomerID,order=InvoiceNo,ts=InvoiceDate,quantity=Quantity,"
             "price=UnitPrice";
    io.cancel_prefix = "C";
    io.skip_bad = 1; /* lines without a customer id */
    ck_assert_msg(custscore_import_csv(db, CUSTSCORE_KIND_ORDERS, import_path, &io, NULL) == 0,
                  "%s", custscore_errmsg(db));
    /* As-of 2011-09-09: the models see only orders up to that day (later
     * orders are in the store but after the as-of date); the label is no
     * purchase occasion in the following 90 days. */
    int64_t as_of;
    ck_assert_int_eq(custscore_parse_time("2011-09-09", NULL, &as_of), 0);
    custscore_churn_options o = CUSTSCORE_CHURN_OPTIONS_INIT;
    o.window_days = 90;
    custscore_churn_card *card = NULL;
    ck_assert_msg(custscore_churn_train(db, as_of, &o, &card) == 0, "%s", custscore_errmsg(db));
    print_card("Online Retail early-warning model (as-of 2011-09-09, window 90 days)", card);
    collected c = {0};
    ck_assert_int_eq(custscore_churn_score_each(db, as_of, NULL, collect, &c), 0);
    last_after la = {.as_of = as_of};
    ck_assert_int_eq(custscore_summary_each(db, as_of + 90 * DAY, NULL, collect_buyers, &la), 0);
    double rate;
    double auc = auc_of(&c, (const char *const *)la.buyers, la.n, &rate);
    printf("Online Retail out-of-time AUC (2011-09-10 .. 2011-12-08): %.4f (n %zu, churn rate "
           "%.3f)\n",
           auc, c.n, rate);
    ck_assert_double_gt(auc, 0.7);
    collected_free(&c);
    for (size_t i = 0; i < la.n; i++)
        free(la.buyers[i]);
    free(la.buyers);
    custscore_churn_card_free(card);
    custscore_close(db);
    if (dir) {
        tu_rmtree(dir);
        free(dir);
        free(import_path);
    }
    free(path);
}
END_TEST

static Suite *churn_suite(void)
{
    Suite *s = suite_create("churn");
    TCase *tc = tcase_create("logistic");
    tcase_add_test(tc, test_logistic_binary_closed_form);
    tcase_add_test(tc, test_logistic_penalised_optimum);
    tcase_add_test(tc, test_logistic_separable_finite);
    tcase_add_test(tc, test_logistic_constant_feature);
    tcase_add_test(tc, test_logistic_one_class_error);
    tcase_add_test(tc, test_auc_small_cases);
    tcase_add_test(tc, test_auc_brute_force);
    tcase_add_test(tc, test_brier_lift_calibration);
    tcase_add_test(tc, test_behaviour_definitions);
    tcase_add_test(tc, test_median_gap_brute_force);
    suite_add_tcase(s, tc);
    TCase *tm = tcase_create("models");
    tcase_set_timeout(tm, 120);
    tcase_add_test(tm, test_window_model_synthetic);
    tcase_add_test(tm, test_window_errors);
    tcase_add_test(tm, test_label_model_synthetic);
    tcase_add_test(tm, test_missing_satisfaction);
    tcase_add_test(tm, test_allocation_failures);
    suite_add_tcase(s, tm);
    TCase *td = tcase_create("data");
    tcase_set_timeout(td, 600);
    tcase_add_test(td, test_telco_label);
    tcase_add_test(td, test_cdnow_holdout);
    tcase_add_test(td, test_online_retail);
    suite_add_tcase(s, td);
    return s;
}

int main(void)
{
    return tu_run(churn_suite());
}
