/*
 * The handle keeps the last order history it loaded (src/summary.c) and
 * reuses it while the customers and orders are unchanged; an earlier as-of
 * day is served from it by a filtered copy. Every answer must be the one a
 * fresh handle (no cache) gives: after the handle's own adds, after a
 * rolled-back batch, after another connection's commit, and for as-of days
 * in any order, including costs that appear only late in the history.
 */
#include "custscore.h"
#include "testutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400
#define T0 INT64_C(1577836800) /* 2020-01-01 */

typedef struct text {
    char *s;
    size_t len, cap;
} text;

static void add(text *t, const char *fmt, ...)
{
    va_list ap;
    char buf[512];
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ck_assert_int_ge(n, 0);
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->len + (size_t)n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        ck_assert_ptr_nonnull(t->s);
    }
    memcpy(t->s + t->len, buf, (size_t)n + 1);
    t->len += (size_t)n;
}

static int on_summary(const custscore_summary *r, void *p)
{
    add(p, "%s %lld %lld %lld %.17g %.17g %lld %.17g %.17g %.17g\n", r->customer,
        (long long)r->first, (long long)r->last, (long long)r->x, r->t_x, r->T,
        (long long)r->orders, r->revenue, r->cost, r->mean_repeat_spend);
    return 0;
}

static int on_value(const custscore_value *v, void *p)
{
    add(p, "%s %lld %d %s %.17g %.17g %.17g %d %d\n", v->customer, (long long)v->recency_days,
        v->rfm_score, v->segment, v->revenue, v->cost, v->profit, v->tier, (int)v->lifecycle);
    return 0;
}

/* Everything the history feeds, as text: summaries and customer values. */
static char *answers(custscore *db, int64_t as_of)
{
    text t = {0};
    add(&t, "as of %lld\n", (long long)as_of);
    ck_assert_int_eq(custscore_summary_each(db, as_of, NULL, on_summary, &t), 0);
    ck_assert_int_eq(custscore_value_each(db, as_of, NULL, on_value, &t), 0);
    return t.s;
}

static char *fresh_answers(const char *path, int64_t as_of)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, 0, &db), 0);
    char *a = answers(db, as_of);
    custscore_close(db);
    return a;
}

static void same_as_fresh(custscore *db, const char *path, int64_t as_of)
{
    char *cached = answers(db, as_of);
    char *fresh = fresh_answers(path, as_of);
    ck_assert_str_eq(cached, fresh);
    free(cached);
    free(fresh);
}

static void add_order(custscore *db, const char *cust, const char *key, int64_t day, double rev,
                      double cost)
{
    custscore_order o = {.customer = cust,
                         .order_key = key,
                         .ts = T0 + day * DAY + 3600,
                         .revenue = rev,
                         .cost = cost,
                         .has_cost = cost >= 0};
    ck_assert_int_eq(custscore_add_order(db, &o, NULL), 0);
}

START_TEST(test_same_answers_as_a_fresh_handle)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "s.db");
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_CREATE, &db), 0);
    ck_assert_int_eq(custscore_begin(db), 0);
    char cust[32], key[32];
    for (int c = 0; c < 60; c++) {
        snprintf(cust, sizeof cust, "C%03d", c);
        for (int k = 0; k <= c % 7; k++) {
            snprintf(key, sizeof key, "O%d-%d", c, k);
            /* Costs only from day 200 on: before it no order has a cost. */
            int day = (c * 37 + k * 53) % 365;
            add_order(db, cust, key, day, 10 + c + k, day >= 200 ? 4 + k : -1);
        }
    }
    ck_assert_int_eq(custscore_add_customer(db, "PROSPECT", T0), 0);
    ck_assert_int_eq(custscore_commit(db), 0);

    /* As-of days in any order: later (load), same (shared), earlier
     * (filtered copy, before and after the first cost), later again. */
    const int days[] = {300, 300, 120, 250, 199, 200, 364, 10, 364, -5};
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++)
        same_as_fresh(db, path, T0 + days[i] * DAY);

    /* The handle's own add: seen at once. */
    add_order(db, "C001", "NEW", 100, 99, 1);
    same_as_fresh(db, path, T0 + 300 * DAY);
    add_order(db, "C001", "NEW", 100, 77, 1); /* replaced */
    same_as_fresh(db, path, T0 + 150 * DAY);
    ck_assert_int_eq(custscore_add_customer(db, "LATE", T0), 0);
    same_as_fresh(db, path, T0 + 150 * DAY);

    /* A batch rolled back: what the history saw inside it is gone. */
    same_as_fresh(db, path, T0 + 300 * DAY);
    ck_assert_int_eq(custscore_begin(db), 0);
    add_order(db, "C002", "TEMP", 50, 500, 100);
    char *inside = answers(db, T0 + 300 * DAY);
    ck_assert_ptr_nonnull(strstr(inside, "\nC002 "));
    free(inside);
    ck_assert_int_eq(custscore_rollback(db), 0);
    same_as_fresh(db, path, T0 + 300 * DAY);

    /* Another connection's commit. */
    custscore *other = NULL;
    ck_assert_int_eq(custscore_open(path, 0, &other), 0);
    add_order(other, "C003", "OTHER", 60, 300, 30);
    ck_assert_int_eq(custscore_add_customer(other, "FROM-OTHER", T0), 0);
    custscore_close(other);
    same_as_fresh(db, path, T0 + 300 * DAY);
    char *after = answers(db, T0 + 300 * DAY);
    ck_assert_ptr_nonnull(strstr(after, "FROM-OTHER"));
    free(after);

    /* Freed memory is reloaded on the next call. */
    ck_assert_int_eq(custscore_release_memory(db), 0);
    same_as_fresh(db, path, T0 + 280 * DAY);
    ck_assert_int_eq(custscore_release_memory(NULL), CUSTSCORE_EINVAL);
    custscore_close(db);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* An import into an empty store hands the history it wrote to the
 * handle: the answers right after it must be a fresh handle's. */
static void import_then_compare(const char *csv, const int *days, size_t n_days)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "s.db");
    char *file = tu_join(dir, "orders.csv");
    ck_assert_int_eq(tu_write_file(file, csv), 0);
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_CREATE, &db), 0);
    custscore_import_report rep;
    ck_assert_msg(custscore_import_csv(db, CUSTSCORE_KIND_ORDERS, file, NULL, &rep) == 0, "%s",
                  custscore_errmsg(db));
    for (size_t i = 0; i < n_days; i++)
        same_as_fresh(db, path, T0 + days[i] * DAY);
    custscore_close(db);
    free(file);
    free(path);
    tu_rmtree(dir);
    free(dir);
}

START_TEST(test_import_hands_its_history_over)
{
    /* Lines summed into orders (cost on some lines only), same-day orders
     * whose key order differs from the file order, customers out of key
     * order, a return, and costs only from March on. */
    const char *keyed = "order,customer,date,revenue,cost\n"
                        "B2,zed,2020-03-05,10,\n"
                        "A1,alpha,2020-01-10,20,\n"
                        "B1,zed,2020-03-05,5,2\n"
                        "A1,alpha,2020-01-10,7,\n"
                        "Z9,alpha,2020-01-05,30,\n"
                        "C1,mid,2020-01-15,-4,\n"
                        "A2,alpha,2020-02-01,12,3\n"
                        "B2,zed,2020-03-06,1,1\n"
                        "M1,mid,2020-05-01,8,\n";
    const int days[] = {400, 40, 400, 31, 65, 500, 9, 400};
    import_then_compare(keyed, days, sizeof days / sizeof days[0]);
    /* Without an order column: keys made up per customer and time. */
    const char *unkeyed = "customer,date,revenue\n"
                          "zed,2020-03-05,10\n"
                          "alpha,2020-01-10,20\n"
                          "zed,2020-03-05,5\n"
                          "alpha,2020-02-01,7\n"
                          "zed,2020-01-01,3\n";
    import_then_compare(unkeyed, days, sizeof days / sizeof days[0]);
}
END_TEST

static Suite *history_cache_suite(void)
{
    Suite *s = suite_create("history_cache");
    TCase *tc = tcase_create("history_cache");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_same_answers_as_a_fresh_handle);
    tcase_add_test(tc, test_import_hands_its_history_over);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(history_cache_suite());
}
