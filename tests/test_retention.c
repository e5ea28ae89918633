/* Cohort retention and per-period loyalty indicators. */
#include "custscore.h"
#include "testutil.h"

#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The same orders give the same indicators whatever order they were
 * imported in and whatever the customers' store ids: grouped by customer
 * and date (nothing to sort), by date across customers (grouped in
 * memory), and with sparse ids far apart (sorted instead of counted). */
static void add_orders(custscore *db, const int *perm, int n_orders)
{
    ck_assert_int_eq(custscore_begin(db), 0);
    for (int j = 0; j < n_orders; j++) {
        int k = perm[j], c = k / 12, o = k % 12;
        char cust[16], key[16];
        snprintf(cust, sizeof cust, "c%03d", c);
        snprintf(key, sizeof key, "%d", o);
        /* Customer c starts in month c % 9 of 2023 and buys every
         * 17 + c % 23 days, twice on some days, with a return now and then. */
        int64_t day = (c % 9) * 31 + o * (17 + c % 23) - (o % 5 == 4 ? 17 + c % 23 : 0);
        double revenue = o % 7 == 6 ? -5.0 : 10.0 + (double)((c * 7 + o * 3) % 40);
        custscore_order ord = {.customer = cust,
                               .order_key = key,
                               .ts = date("2023-01-01") + day * 86400 + (o % 3) * 3600,
                               .revenue = revenue};
        ck_assert_int_eq(custscore_add_order(db, &ord, NULL), 0);
    }
    ck_assert_int_eq(custscore_commit(db), 0);
}

/* Equal within @tol, or both NaN. */
static void same_num(double x, double y, double tol)
{
    if (isnan(x) || isnan(y))
        ck_assert_msg(isnan(x) && isnan(y), "%g vs %g", x, y);
    else
        ck_assert_double_eq_tol(x, y, tol);
}

static void same_retention(const custscore_retention *a, const custscore_retention *b)
{
    ck_assert_uint_eq(a->n_cohorts, b->n_cohorts);
    ck_assert_uint_eq(a->n_periods, b->n_periods);
    same_num(a->repeat_rate, b->repeat_rate, 1e-12);
    same_num(a->mean_interpurchase_days, b->mean_interpurchase_days, 1e-9);
    for (size_t i = 0; i < a->n_cohorts; i++) {
        const custscore_cohort *x = &a->cohorts[i], *y = &b->cohorts[i];
        ck_assert_int_eq(x->start, y->start);
        ck_assert_int_eq(x->customers, y->customers);
        same_num(x->repeat_rate, y->repeat_rate, 1e-12);
        same_num(x->mean_interpurchase_days, y->mean_interpurchase_days, 1e-9);
        same_num(x->repeat_revenue_share, y->repeat_revenue_share, 1e-12);
        ck_assert_uint_eq(x->n_periods, y->n_periods);
        for (size_t k = 0; k < x->n_periods; k++)
            same_num(x->retention[k], y->retention[k], 1e-12);
    }
    for (size_t i = 0; i < a->n_periods; i++) {
        const custscore_period_stats *x = &a->periods[i], *y = &b->periods[i];
        ck_assert_int_eq(x->start, y->start);
        ck_assert_int_eq(x->active, y->active);
        ck_assert_int_eq(x->new_customers, y->new_customers);
        same_num(x->revenue, y->revenue, 1e-9);
        same_num(x->repeat_revenue_share, y->repeat_revenue_share, 1e-12);
        same_num(x->retention_rate, y->retention_rate, 1e-12);
    }
}

START_TEST(test_import_order_and_ids)
{
    enum { CUSTOMERS = 60, PER = 12, N = CUSTOMERS * PER };
    static int grouped[N], by_date[N];
    for (int k = 0; k < N; k++)
        grouped[k] = by_date[k] = k;
    /* By date: a fixed pseudo-random shuffle stands for an ERP export
     * sorted by date (customers interleaved, days out of order). */
    uint64_t seed = 7;
    for (int k = N - 1; k > 0; k--) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        int j = (int)((seed >> 33) % (uint64_t)(k + 1));
        int t = by_date[k];
        by_date[k] = by_date[j];
        by_date[j] = t;
    }
    custscore *ref = NULL, *shuffled = NULL, *sparse = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &ref), 0);
    add_orders(ref, grouped, N);
    ck_assert_int_eq(custscore_open(NULL, 0, &shuffled), 0);
    add_orders(shuffled, by_date, N);
    /* Sparse ids: customers created by SQL with ids 2^40 apart, in reverse
     * key order, before their orders come. */
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "sparse.db");
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_CREATE, &sparse), 0);
    sqlite3 *sql = NULL;
    ck_assert_int_eq(sqlite3_open(path, &sql), SQLITE_OK);
    for (int c = 0; c < CUSTOMERS; c++) {
        char stmt[128];
        snprintf(stmt, sizeof stmt, "INSERT INTO customer(id, key) VALUES (%lld, 'c%03d')",
                 (long long)(CUSTOMERS - c) * (INT64_C(1) << 40) -
                     INT64_C(1) * (c % 2 ? 1 : -1) * (INT64_C(1) << 50),
                 c);
        ck_assert_int_eq(sqlite3_exec(sql, stmt, NULL, NULL, NULL), SQLITE_OK);
    }
    sqlite3_close(sql);
    add_orders(sparse, by_date, N);

    const custscore_unit units[] = {CUSTSCORE_UNIT_MONTH, CUSTSCORE_UNIT_WEEK, CUSTSCORE_UNIT_DAY};
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        custscore_retention_options o = CUSTSCORE_RETENTION_OPTIONS_INIT;
        o.period = units[u];
        o.max_periods = 1000;
        custscore_retention *a = NULL, *b = NULL, *c = NULL;
        ck_assert_int_eq(custscore_retention_compute(ref, date("2024-06-30"), &o, &a), 0);
        ck_assert_int_eq(custscore_retention_compute(shuffled, date("2024-06-30"), &o, &b), 0);
        ck_assert_int_eq(custscore_retention_compute(sparse, date("2024-06-30"), &o, &c), 0);
        ck_assert_uint_gt(a->n_cohorts, 1);
        same_retention(a, b);
        same_retention(a, c);
        custscore_retention_free(a);
        custscore_retention_free(b);
        custscore_retention_free(c);
    }
    custscore_close(ref);
    custscore_close(shuffled);
    custscore_close(sparse);
    tu_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

/* Customers with many orders each (more than the in-place sort of a few
 * takes), their days out of order in the table, some on the same day: the
 * same indicators as with the orders in day order. */
START_TEST(test_many_orders_out_of_order)
{
    custscore *in_order = NULL, *reversed = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &in_order), 0);
    ck_assert_int_eq(custscore_open(NULL, 0, &reversed), 0);
    const int per[] = {80, 33, 32, 5};
    for (int pass = 0; pass < 2; pass++) {
        custscore *db = pass ? reversed : in_order;
        ck_assert_int_eq(custscore_begin(db), 0);
        for (int c = 0; c < 4; c++) {
            for (int j = 0; j < per[c]; j++) {
                /* Reversed: the last day first, and every third pair swapped. */
                int o = pass ? per[c] - 1 - j : j;
                if (pass && j % 3 == 1 && j + 1 < per[c])
                    o = per[c] - 2 - j;
                else if (pass && j % 3 == 2)
                    o = per[c] - j;
                char cust[16], key[16];
                snprintf(cust, sizeof cust, "m%d", c);
                snprintf(key, sizeof key, "%d", o);
                int64_t day = (c * 40) + o * (3 + c) - (o % 4 == 3 ? 3 + c : 0);
                custscore_order ord = {.customer = cust,
                                       .order_key = key,
                                       .ts = date("2023-02-01") + day * 86400,
                                       .revenue = 5.0 + (double)((o * 13 + c) % 17)};
                ck_assert_int_eq(custscore_add_order(db, &ord, NULL), 0);
            }
        }
        ck_assert_int_eq(custscore_commit(db), 0);
    }
    const custscore_unit units[] = {CUSTSCORE_UNIT_MONTH, CUSTSCORE_UNIT_WEEK, CUSTSCORE_UNIT_DAY};
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        custscore_retention_options o = CUSTSCORE_RETENTION_OPTIONS_INIT;
        o.period = units[u];
        o.max_periods = 1000;
        custscore_retention *a = NULL, *b = NULL;
        ck_assert_int_eq(custscore_retention_compute(in_order, date("2024-06-30"), &o, &a), 0);
        ck_assert_int_eq(custscore_retention_compute(reversed, date("2024-06-30"), &o, &b), 0);
        ck_assert_uint_eq(a->n_cohorts, 4);
        same_retention(a, b);
        custscore_retention_free(a);
        custscore_retention_free(b);
    }
    custscore_close(in_order);
    custscore_close(reversed);
}
END_TEST

START_TEST(test_as_of_range)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    custscore_retention *r = NULL;
    ck_assert_int_eq(custscore_retention_compute(db, CUSTSCORE_TIME_MAX + 1, NULL, &r),
                     CUSTSCORE_ERANGE);
    ck_assert_ptr_null(r);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "custscore_retention_compute: as-of time"));
    ck_assert_int_eq(custscore_retention_compute(db, CUSTSCORE_TIME_MIN, NULL, &r), 0);
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
    tcase_add_test(tc, test_import_order_and_ids);
    tcase_add_test(tc, test_many_orders_out_of_order);
    tcase_add_test(tc, test_as_of_range);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(retention_suite());
}
