/* Per-customer summary: rules on hand-built data and CDNOW parity. */
#include "custscore.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400

static custscore *mem_store(void)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    return db;
}

static void add(custscore *db, const char *cust, const char *key, int64_t day, double revenue,
                double cost, int has_cost)
{
    custscore_order o = {.customer = cust,
                         .order_key = key,
                         .ts = day * DAY + 3600,
                         .revenue = revenue,
                         .cost = cost,
                         .has_cost = has_cost};
    ck_assert_int_eq(custscore_add_order(db, &o, NULL), 0);
}

START_TEST(test_rules)
{
    custscore *db = mem_store();
    add(db, "A", "1", 10, 100, 60, 1);
    add(db, "A", "2", 10, 50, 0, 0); /* same day: one occasion */
    add(db, "A", "3", 17, 30, 10, 1);
    add(db, "A", "4", 20, -20, 0, 0); /* a return: revenue, not an occasion */
    add(db, "A", "5", 24, 70, 0, 0);
    add(db, "A", "6", 40, 999, 0, 0);                        /* after the as-of day: ignored */
    add(db, "B", "1", 30, -5, 0, 0);                         /* only a return */
    ck_assert_int_eq(custscore_add_customer(db, "C", 0), 0); /* no orders */
    custscore_summary_options o = CUSTSCORE_SUMMARY_OPTIONS_INIT;
    o.unit = CUSTSCORE_UNIT_DAY;
    custscore_summary s;
    ck_assert_int_eq(custscore_summary_one(db, "A", 31 * DAY, &o, &s), 0);
    ck_assert_str_eq(s.customer, "A");
    ck_assert_int_eq(s.first, 10 * DAY);
    ck_assert_int_eq(s.last, 24 * DAY);
    ck_assert_int_eq(s.x, 2);
    ck_assert_double_eq(s.t_x, 14);
    ck_assert_double_eq(s.T, 21);
    ck_assert_int_eq(s.orders, 5);
    ck_assert_double_eq(s.revenue, 230);
    ck_assert_double_eq(s.cost, 70);
    ck_assert_double_eq(s.profit, 160);
    ck_assert_double_eq(s.mean_repeat_spend, 50);
    /* The as-of day itself counts, the next day does not. */
    ck_assert_int_eq(custscore_summary_one(db, "A", 40 * DAY + 86399, &o, &s), 0);
    ck_assert_int_eq(s.orders, 6);
    ck_assert_int_eq(custscore_summary_one(db, "A", 39 * DAY, &o, &s), 0);
    ck_assert_int_eq(s.orders, 5);
    o.unit = CUSTSCORE_UNIT_WEEK;
    ck_assert_int_eq(custscore_summary_one(db, "A", 31 * DAY, &o, &s), 0);
    ck_assert_double_eq(s.t_x, 2);
    ck_assert_double_eq(s.T, 3);
    o.unit = CUSTSCORE_UNIT_MONTH;
    ck_assert_int_eq(custscore_summary_one(db, "A", 31 * DAY, &o, &s), 0);
    ck_assert_double_eq_tol(s.T, 21 / 30.436875, 1e-12);
    ck_assert_int_eq(custscore_summary_one(db, "B", 31 * DAY, NULL, &s), 0);
    ck_assert_int_eq(s.first, 0);
    ck_assert_int_eq(s.x, 0);
    ck_assert_double_eq(s.revenue, -5);
    ck_assert_int_eq(custscore_summary_one(db, "C", 31 * DAY, NULL, &s), 0);
    ck_assert_int_eq(s.orders, 0);
    ck_assert_int_eq(custscore_summary_one(db, "nobody", 31 * DAY, NULL, &s), CUSTSCORE_ENOTFOUND);
    o.unit = (custscore_unit)77;
    ck_assert_int_eq(custscore_summary_one(db, "A", 31 * DAY, &o, &s), CUSTSCORE_EINVAL);
    custscore_close(db);
}
END_TEST

START_TEST(test_zero_revenue_rule)
{
    custscore *db = mem_store();
    add(db, "Z", "1", 5, 0, 0, 0);
    add(db, "Z", "2", 12, 10, 0, 0);
    custscore_summary s;
    custscore_summary_options o = CUSTSCORE_SUMMARY_OPTIONS_INIT;
    o.unit = CUSTSCORE_UNIT_DAY;
    ck_assert_int_eq(custscore_summary_one(db, "Z", 20 * DAY, &o, &s), 0);
    ck_assert_int_eq(s.first, 12 * DAY);
    ck_assert_int_eq(s.x, 0);
    o.zero = CUSTSCORE_ZERO_REVENUE_PURCHASE;
    ck_assert_int_eq(custscore_summary_one(db, "Z", 20 * DAY, &o, &s), 0);
    ck_assert_int_eq(s.first, 5 * DAY);
    ck_assert_int_eq(s.x, 1);
    ck_assert_double_eq(s.mean_repeat_spend, 10);
    custscore_close(db);
}
END_TEST

typedef struct collect {
    int n;
    char keys[8][16];
    int64_t x[8];
} collect;

static int collect_row(const custscore_summary *s, void *payload)
{
    collect *c = payload;
    if (c->n < 8) {
        snprintf(c->keys[c->n], 16, "%s", s->customer);
        c->x[c->n] = s->x;
    }
    c->n++;
    return 0;
}

static int stop_after_one(const custscore_summary *s, void *payload)
{
    (void)s;
    (void)payload;
    return 42;
}

START_TEST(test_each_order_and_stop)
{
    custscore *db = mem_store();
    add(db, "b", "1", 1, 1, 0, 0);
    add(db, "a", "1", 1, 1, 0, 0);
    add(db, "a", "2", 3, 1, 0, 0);
    add(db, "B", "1", 2, 1, 0, 0);
    collect c = {0};
    ck_assert_int_eq(custscore_summary_each(db, 10 * DAY, NULL, collect_row, &c), 0);
    ck_assert_int_eq(c.n, 3);
    ck_assert_str_eq(c.keys[0], "B"); /* byte order */
    ck_assert_str_eq(c.keys[1], "a");
    ck_assert_int_eq(c.x[1], 1);
    ck_assert_str_eq(c.keys[2], "b");
    ck_assert_int_eq(custscore_summary_each(db, 10 * DAY, NULL, stop_after_one, NULL), 42);
    ck_assert_int_eq(custscore_summary_each(db, 10 * DAY, NULL, NULL, NULL), CUSTSCORE_EINVAL);
    custscore_close(db);
}
END_TEST

/* CDNOW parity: the summary of CDNOW_sample as of 1997-09-30 in weeks equals
 * lifetimes' cdnow_customers_summary_with_transactions.csv: x exactly, t_x
 * and T within 0.005 week (the file rounds to 2 decimals), mean repeat spend
 * within 0.01. */
typedef struct ref_row {
    int64_t x;
    double t_x, T, zbar;
} ref_row;

typedef struct parity {
    ref_row *ref;
    int n_ref, checked, x_bad;
    double max_tx, max_T, max_z;
} parity;

static int parity_row(const custscore_summary *s, void *payload)
{
    parity *p = payload;
    int id = atoi(s->customer);
    ck_assert_int_ge(id, 1);
    ck_assert_int_le(id, p->n_ref);
    const ref_row *r = &p->ref[id - 1];
    if (s->x != r->x)
        p->x_bad++;
    double d = fabs(s->t_x - r->t_x);
    if (d > p->max_tx)
        p->max_tx = d;
    d = fabs(s->T - r->T);
    if (d > p->max_T)
        p->max_T = d;
    d = fabs(s->mean_repeat_spend - r->zbar);
    if (d > p->max_z)
        p->max_z = d;
    p->checked++;
    return 0;
}

START_TEST(test_cdnow_parity)
{
    char *ref_path =
        tu_shared_path("lifetimes-datasets/cdnow_customers_summary_with_transactions.csv");
    char *data_path = tu_data_path("../../data/cdnow_sample.txt");
    if (!ref_path) {
        tu_skip("CDNOW reference summary not found in ../shared/data/lifetimes-datasets");
        free(data_path);
        return;
    }
    FILE *f = fopen(ref_path, "r");
    ck_assert_ptr_nonnull(f);
    parity p = {0};
    p.ref = calloc(3000, sizeof *p.ref);
    char line[256];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f)); /* header */
    while (fgets(line, sizeof line, f)) {
        int id;
        long x;
        double t_x, T, z;
        if (sscanf(line, "%d,%ld,%lf,%lf,%lf", &id, &x, &t_x, &T, &z) == 5 && id >= 1 &&
            id <= 3000) {
            p.ref[id - 1] = (ref_row){x, t_x, T, z};
            if (id > p.n_ref)
                p.n_ref = id;
        }
    }
    fclose(f);
    ck_assert_int_eq(p.n_ref, 2357);
    custscore *db = mem_store();
    custscore_import_options opt = CUSTSCORE_IMPORT_OPTIONS_INIT;
    opt.whitespace = 1;
    opt.no_header = 1;
    opt.map = "customer=2,ts=3,revenue=5";
    custscore_import_report rep;
    ck_assert_int_eq(custscore_import_csv(db, CUSTSCORE_KIND_ORDERS, data_path, &opt, &rep), 0);
    ck_assert_int_eq(rep.records, 6919);
    int64_t as_of;
    ck_assert_int_eq(custscore_parse_time("1997-09-30", NULL, &as_of), 0);
    custscore_summary_options so = CUSTSCORE_SUMMARY_OPTIONS_INIT;
    so.unit = CUSTSCORE_UNIT_WEEK;
    so.zero = CUSTSCORE_ZERO_REVENUE_PURCHASE; /* lifetimes counts the $0.00 rows */
    ck_assert_int_eq(custscore_summary_each(db, as_of, &so, parity_row, &p), 0);
    ck_assert_int_eq(p.checked, 2357);
    ck_assert_int_eq(p.x_bad, 0);
    ck_assert_double_le(p.max_tx, 0.005);
    ck_assert_double_le(p.max_T, 0.005);
    ck_assert_double_le(p.max_z, 0.01);
    custscore_close(db);
    free(p.ref);
    free(ref_path);
    free(data_path);
}
END_TEST

static Suite *summary_suite(void)
{
    Suite *s = suite_create("summary");
    TCase *tc = tcase_create("summary");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_rules);
    tcase_add_test(tc, test_zero_revenue_rule);
    tcase_add_test(tc, test_each_order_and_stop);
    tcase_add_test(tc, test_cdnow_parity);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(summary_suite());
}
