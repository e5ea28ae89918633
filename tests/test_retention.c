/* Cohort retention and per-period loyalty indicators. */
#include "custscore.h"
#include "testutil.h"

#include <math.h>
#include <stdlib.h>

static int64_t date(const char *s)
{
    int64_t t;
    ck_assert_int_eq(custscore_parse_time(s, NULL, &t), 0);
    return t;
}

static void add(custscore *db, const char *cust, const char *key, const char *when, double revenue)
{
    custscore_order o = {.customer = cust, .order_key = key, .ts = date(when), .revenue = revenue};
    ck_assert_int_eq(custscore_add_order(db, &o, NULL), 0);
}

START_TEST(test_monthly_cohorts)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    /* January cohort: A (buys Jan, Feb, Apr), B (Jan only), C (Jan twice same day, Mar). */
    add(db, "A", "1", "2024-01-05", 10);
    add(db, "A", "2", "2024-02-10", 20);
    add(db, "A", "3", "2024-04-01", 30);
    add(db, "B", "1", "2024-01-20", 40);
    add(db, "C", "1", "2024-01-31", 5);
    add(db, "C", "2", "2024-01-31", 5);
    add(db, "C", "3", "2024-03-01", 50);
    add(db, "C", "4", "2024-03-15", -50); /* a return: no occasion, no purchase revenue */
    /* February cohort: D (Feb, Feb again later). */
    add(db, "D", "1", "2024-02-01", 100);
    add(db, "D", "2", "2024-02-11", 100);
    add(db, "E", "1", "2024-06-01", 1); /* after the as-of day: ignored */
    custscore_retention *r = NULL;
    ck_assert_int_eq(custscore_retention_compute(db, date("2024-04-30"), NULL, &r), 0);
    ck_assert_int_eq(r->period, CUSTSCORE_UNIT_MONTH);
    ck_assert_uint_eq(r->n_cohorts, 2);
    const custscore_cohort *jan = &r->cohorts[0], *feb = &r->cohorts[1];
    ck_assert_int_eq(jan->start, date("2024-01-01"));
    ck_assert_int_eq(jan->customers, 3);
    ck_assert_uint_eq(jan->n_periods, 4); /* Jan..Apr */
    ck_assert_double_eq(jan->retention[0], 1.0);
    ck_assert_double_eq_tol(jan->retention[1], 1.0 / 3, 1e-12); /* A in Feb */
    ck_assert_double_eq_tol(jan->retention[2], 1.0 / 3, 1e-12); /* C in Mar */
    ck_assert_double_eq_tol(jan->retention[3], 1.0 / 3, 1e-12); /* A in Apr */
    ck_assert_double_eq_tol(jan->repeat_rate, 2.0 / 3, 1e-12);  /* A and C */
    /* Gaps: A 36 and 51 days, C 30 days. */
    ck_assert_double_eq_tol(jan->mean_interpurchase_days, (36.0 + 51 + 30) / 3, 1e-12);
    /* Repeat revenue: A 20+30, C 50 over 10+20+30+40+5+5+50. */
    ck_assert_double_eq_tol(jan->repeat_revenue_share, 100.0 / 160, 1e-12);
    ck_assert_int_eq(feb->customers, 1);
    ck_assert_uint_eq(feb->n_periods, 3);
    ck_assert_double_eq(feb->retention[1], 0.0);
    ck_assert_double_eq(feb->repeat_rate, 1.0);
    ck_assert_double_eq(feb->repeat_revenue_share, 0.5);
    /* Periods Jan..Apr. */
    ck_assert_uint_eq(r->n_periods, 4);
    const custscore_period_stats *p = r->periods;
    ck_assert_int_eq(p[0].active, 3);
    ck_assert_int_eq(p[0].new_customers, 3);
    ck_assert(isnan(p[0].retention_rate));
    ck_assert_double_eq(p[0].repeat_purchase_rate, 0.0);
    ck_assert_int_eq(p[1].active, 2); /* A, D */
    ck_assert_int_eq(p[1].new_customers, 1);
    ck_assert_double_eq_tol(p[1].retention_rate, 1.0 / 3, 1e-12); /* of Jan's A, B, C only A */
    ck_assert_double_eq_tol(p[1].repeat_purchase_rate, 0.5, 1e-12);
    ck_assert_double_eq_tol(p[1].mean_interpurchase_days, (36.0 + 10) / 2, 1e-12);
    ck_assert_double_eq(p[1].revenue, 220);
    ck_assert_double_eq_tol(p[1].repeat_revenue_share, 120.0 / 220, 1e-12);
    ck_assert_int_eq(p[2].active, 1); /* C */
    ck_assert_double_eq(p[2].retention_rate, 0.0);
    ck_assert_double_eq(p[2].repeat_purchase_rate, 1.0);
    ck_assert_double_eq_tol(r->repeat_rate, 3.0 / 4, 1e-12);
    custscore_retention_free(r);
    /* Weekly and `since`. */
    custscore_retention_options o = CUSTSCORE_RETENTION_OPTIONS_INIT;
    o.period = CUSTSCORE_UNIT_WEEK;
    o.since = date("2024-01-29");
    ck_assert_int_eq(custscore_retention_compute(db, date("2024-04-30"), &o, &r), 0);
    ck_assert_uint_eq(r->n_cohorts, 1); /* only the week of 2024-01-29 starts after `since` */
    ck_assert_int_eq(r->cohorts[0].start, date("2024-01-29")); /* a Monday */
    ck_assert_int_eq(r->cohorts[0].customers, 2);              /* C (Jan 31) and D (Feb 1) */
    custscore_retention_free(r);
    o.max_periods = 0;
    ck_assert_int_eq(custscore_retention_compute(db, date("2024-04-30"), &o, &r), CUSTSCORE_EINVAL);
    custscore_retention_free(NULL);
    custscore_close(db);
}
END_TEST

START_TEST(test_empty_store)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    custscore_retention *r = NULL;
    ck_assert_int_eq(custscore_retention_compute(db, date("2024-04-30"), NULL, &r), 0);
    ck_assert_uint_eq(r->n_cohorts, 0);
    ck_assert_uint_eq(r->n_periods, 0);
    ck_assert(isnan(r->repeat_rate));
    custscore_retention_free(r);
    custscore_close(db);
}
END_TEST

static Suite *retention_suite(void)
{
    Suite *s = suite_create("retention");
    TCase *tc = tcase_create("retention");
    tcase_add_test(tc, test_monthly_cohorts);
    tcase_add_test(tc, test_empty_store);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(retention_suite());
}
