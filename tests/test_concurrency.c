/* Separate handles on one file in parallel threads; readers during a write. */
#include "custscore.h"
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct writer_arg {
    const char *path;
    const char *prefix;
    int orders;
    int busy_retries;
    int failures;
} writer_arg;

static void *writer(void *p)
{
    writer_arg *w = p;
    custscore *db = NULL;
    if (custscore_open(w->path, 0, &db) != 0) {
        w->failures++;
        custscore_close(db);
        return NULL;
    }
    char cust[32], key[32];
    for (int i = 0; i < w->orders; i++) {
        snprintf(cust, sizeof cust, "%s%d", w->prefix, i % 50);
        snprintf(key, sizeof key, "o%d", i);
        custscore_order o = {
            .customer = cust, .order_key = key, .ts = 86400 * (1 + i % 300), .revenue = 1.0};
        int rc;
        while ((rc = custscore_add_order(db, &o, NULL)) == CUSTSCORE_EBUSY)
            w->busy_retries++;
        if (rc != 0)
            w->failures++;
    }
    custscore_close(db);
    return NULL;
}

typedef struct totals {
    int64_t orders;
    double revenue;
} totals;

static int sum_row(const custscore_summary *s, void *payload)
{
    totals *t = payload;
    t->orders += s->orders;
    t->revenue += s->revenue;
    return 0;
}

START_TEST(test_two_writers)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "c.db");
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_CREATE, &db), 0);
    custscore_close(db);
    int n = tu_under_valgrind() ? 100 : 1000;
    writer_arg a = {path, "a", n, 0, 0}, b = {path, "b", n, 0, 0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, writer, &a);
    pthread_create(&tb, NULL, writer, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    ck_assert_int_eq(a.failures, 0);
    ck_assert_int_eq(b.failures, 0);
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_READONLY, &db), 0);
    totals t = {0};
    ck_assert_int_eq(custscore_summary_each(db, INT64_C(4000000000), NULL, sum_row, &t), 0);
    ck_assert_int_eq(t.orders, 2 * n);
    ck_assert_double_eq(t.revenue, 2.0 * n);
    custscore_close(db);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* A reader sees the state before a batch until it commits, never a part. */
START_TEST(test_reader_during_write)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "r.db");
    custscore *w = NULL, *r = NULL;
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_CREATE, &w), 0);
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_READONLY, &r), 0);
    custscore_order o = {.customer = "X", .order_key = "0", .ts = 86400, .revenue = 1};
    ck_assert_int_eq(custscore_add_order(w, &o, NULL), 0);
    ck_assert_int_eq(custscore_begin(w), 0);
    char key[16];
    for (int i = 1; i <= 100; i++) {
        snprintf(key, sizeof key, "%d", i);
        o.order_key = key;
        ck_assert_int_eq(custscore_add_order(w, &o, NULL), 0);
    }
    totals t = {0};
    ck_assert_int_eq(custscore_summary_each(r, INT64_C(4000000000), NULL, sum_row, &t), 0);
    ck_assert_int_eq(t.orders, 1); /* WAL: the reader is not blocked and sees no part */
    ck_assert_int_eq(custscore_commit(w), 0);
    t = (totals){0};
    ck_assert_int_eq(custscore_summary_each(r, INT64_C(4000000000), NULL, sum_row, &t), 0);
    ck_assert_int_eq(t.orders, 101);
    /* A second writer waits past its busy timeout and gets EBUSY, retryable. */
    custscore *w2 = NULL;
    ck_assert_int_eq(custscore_open(path, 0, &w2), 0);
    ck_assert_int_eq(custscore_busy_timeout(w2, 50), 0);
    ck_assert_int_eq(custscore_begin(w), 0);
    ck_assert_int_eq(custscore_add_customer(w2, "Y", 0), CUSTSCORE_EBUSY);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(w2), "retry"));
    ck_assert_int_eq(custscore_rollback(w), 0);
    ck_assert_int_eq(custscore_add_customer(w2, "Y", 0), 0);
    custscore_close(w2);
    custscore_close(r);
    custscore_close(w);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *concurrency_suite(void)
{
    Suite *s = suite_create("concurrency");
    TCase *tc = tcase_create("concurrency");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_two_writers);
    tcase_add_test(tc, test_reader_during_write);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(concurrency_suite());
}
