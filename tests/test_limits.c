/*
 * Limits (docs/reliability.md, "Limits"): each documented limit is enforced
 * at its edge (the largest value accepted, the next one refused with a
 * message), and values at the ends of their types never turn into
 * undefined behaviour: key length, CSV record length and columns, the time
 * range, 64-bit customer ids, times read back from a store.
 */
#include "custscore.h"
#include "testutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    ck_assert_ptr_nonnull(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static int count_orders(const custscore_summary *s, void *payload)
{
    *(int64_t *)payload += s->orders;
    return 0;
}

static int64_t total_orders(custscore *db, int64_t as_of)
{
    int64_t n = 0;
    ck_assert_int_eq(custscore_summary_each(db, as_of, NULL, count_orders, &n), 0);
    return n;
}

START_TEST(test_key_length)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    char *k255 = repeat('k', CUSTSCORE_MAX_KEY), *k256 = repeat('k', CUSTSCORE_MAX_KEY + 1);
    ck_assert_int_eq(custscore_add_customer(db, k255, 0), 0);
    ck_assert_int_eq(custscore_add_customer(db, k256, 0), CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "255"));
    custscore_order o = {.customer = "c", .order_key = k256, .ts = 86400, .revenue = 1};
    ck_assert_int_eq(custscore_add_order(db, &o, NULL), CUSTSCORE_EINVAL);
    o.order_key = k255;
    ck_assert_int_eq(custscore_add_order(db, &o, NULL), 0);
    ck_assert_int_eq(custscore_add_response(db, "c", 86400, k256, 1), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_set_attribute(db, "c", k256, 1), CUSTSCORE_EINVAL);
    /* In a CSV file: the record is refused with its line and column. */
    size_t cap = 2 * CUSTSCORE_MAX_KEY + 100;
    char *csv = malloc(cap);
    ck_assert_ptr_nonnull(csv);
    snprintf(csv, cap, "customer,ts,revenue\n%s,2020-01-01,1\n%s,2020-01-01,1\n", k255, k256);
    custscore_import_report r;
    ck_assert_int_eq(custscore_import_csv_buffer(db, CUSTSCORE_KIND_ORDERS, csv, strlen(csv),
                                                 "keys.csv", NULL, &r),
                     CUSTSCORE_EINVAL);
    ck_assert_msg(strstr(custscore_errmsg(db), "keys.csv:3:1") != NULL, "%s", custscore_errmsg(db));
    free(csv);
    free(k255);
    free(k256);
    custscore_close(db);
}
END_TEST

/* A record (logical line) of at most CUSTSCORE_MAX_LINE bytes is read; a
 * longer one is a bad record, and with skip_bad reading goes on after it. */
START_TEST(test_line_length)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    size_t big = CUSTSCORE_MAX_LINE + 10;
    char *csv = malloc(2 * big + 200);
    ck_assert_ptr_nonnull(csv);
    size_t len = (size_t)sprintf(csv, "customer,ts,revenue,note\n");
    /* Just under the limit: accepted. */
    len += (size_t)sprintf(csv + len, "a,2020-01-01,1,");
    memset(csv + len, 'x', CUSTSCORE_MAX_LINE - 100);
    len += CUSTSCORE_MAX_LINE - 100;
    csv[len++] = '\n';
    /* Over it: refused. */
    len += (size_t)sprintf(csv + len, "b,2020-01-01,1,");
    memset(csv + len, 'y', CUSTSCORE_MAX_LINE);
    len += CUSTSCORE_MAX_LINE;
    csv[len++] = '\n';
    len += (size_t)sprintf(csv + len, "c,2020-01-02,1,short\n");
    custscore_import_report r;
    ck_assert_int_eq(
        custscore_import_csv_buffer(db, CUSTSCORE_KIND_ORDERS, csv, len, "long.csv", NULL, &r),
        CUSTSCORE_EINVAL);
    ck_assert_msg(strstr(custscore_errmsg(db), "CUSTSCORE_MAX_LINE") != NULL, "%s",
                  custscore_errmsg(db));
    ck_assert_msg(strstr(custscore_errmsg(db), "long.csv:3:") != NULL, "%s", custscore_errmsg(db));
    custscore_import_options o = CUSTSCORE_IMPORT_OPTIONS_INIT;
    o.skip_bad = 1;
    ck_assert_int_eq(
        custscore_import_csv_buffer(db, CUSTSCORE_KIND_ORDERS, csv, len, "long.csv", &o, &r), 0);
    ck_assert_int_eq(r.added, 2);
    ck_assert_int_eq(r.rejected, 1);
    ck_assert_int_eq(r.lines, 4);
    free(csv);
    custscore_close(db);
}
END_TEST

START_TEST(test_columns)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    for (int extra = 0; extra <= 1; extra++) {
        size_t ncols = CUSTSCORE_MAX_COLUMNS + (size_t)extra;
        char *csv = malloc(ncols * 16 + 100);
        ck_assert_ptr_nonnull(csv);
        size_t len = (size_t)sprintf(csv, "customer,ts,revenue");
        for (size_t c = 3; c < ncols; c++)
            len += (size_t)sprintf(csv + len, ",c%zu", c);
        static const char row[] = "\na,2020-01-01,1";
        memcpy(csv + len, row, sizeof row - 1);
        len += sizeof row - 1;
        for (size_t c = 3; c < ncols; c++)
            csv[len++] = ',';
        csv[len++] = '\n';
        custscore_import_report r;
        int rc =
            custscore_import_csv_buffer(db, CUSTSCORE_KIND_ORDERS, csv, len, "wide.csv", NULL, &r);
        if (extra == 0) {
            ck_assert_msg(rc == 0, "%s", custscore_errmsg(db));
        } else {
            ck_assert_int_eq(rc, CUSTSCORE_EINVAL);
            ck_assert_msg(strstr(custscore_errmsg(db), "CUSTSCORE_MAX_COLUMNS") != NULL, "%s",
                          custscore_errmsg(db));
        }
        free(csv);
    }
    custscore_close(db);
}
END_TEST

/* Times: CUSTSCORE_TIME_MIN .. CUSTSCORE_TIME_MAX in, ERANGE outside; as-of
 * times anywhere in int64_t work. */
START_TEST(test_time_range)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    const int64_t ok[] = {CUSTSCORE_TIME_MIN, CUSTSCORE_TIME_MAX, 0, -1};
    const int64_t bad[] = {CUSTSCORE_TIME_MIN - 1, CUSTSCORE_TIME_MAX + 1, INT64_MIN, INT64_MAX};
    char key[32];
    for (size_t i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "ok%zu", i);
        custscore_order o = {.customer = "c", .order_key = key, .ts = ok[i], .revenue = 1};
        ck_assert_int_eq(custscore_add_order(db, &o, NULL), 0);
        ck_assert_int_eq(custscore_add_response(db, "c", ok[i], "Q", 1), 0);
        ck_assert_int_eq(custscore_add_complaint(db, key, ok[i], 1, 0), 0);
        snprintf(key, sizeof key, "bad%zu", i);
        o.order_key = key;
        o.ts = bad[i];
        ck_assert_int_eq(custscore_add_order(db, &o, NULL), CUSTSCORE_ERANGE);
        ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "CUSTSCORE_TIME_MAX"));
        ck_assert_int_eq(custscore_add_response(db, "c", bad[i], "Q", 1), CUSTSCORE_ERANGE);
        ck_assert_int_eq(custscore_add_complaint(db, "c", 86400, 1, bad[i]), CUSTSCORE_ERANGE);
        ck_assert_int_eq(custscore_add_customer(db, "c", bad[i]), CUSTSCORE_ERANGE);
    }
    /* Summaries at the ends of int64_t: no overflow, sensible counts. */
    ck_assert_int_eq(total_orders(db, INT64_MAX), 4);
    ck_assert_int_eq(total_orders(db, INT64_MAX - 1), 4);
    ck_assert_int_eq(total_orders(db, CUSTSCORE_TIME_MAX), 4);
    ck_assert_int_eq(total_orders(db, INT64_MIN), 0);
    custscore_summary s;
    ck_assert_int_eq(custscore_summary_one(db, "c", INT64_MAX - 1, NULL, &s), 0);
    ck_assert_int_eq(s.orders, 4);
    ck_assert_int_eq(s.first, CUSTSCORE_TIME_MIN);
    /* Parsing and formatting share the range. */
    int64_t t;
    ck_assert_int_eq(custscore_parse_time("@253402300799", NULL, &t), 0);
    ck_assert_int_eq(custscore_parse_time("@253402300800", NULL, &t), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_parse_time("@-62135596801", NULL, &t), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_parse_time("0001-01-01T00:00:00+01:00", NULL, &t), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_parse_time("9999-12-31T23:59:59-01:00", NULL, &t), CUSTSCORE_EINVAL);
    char buf[32];
    ck_assert_int_eq(custscore_format_time(CUSTSCORE_TIME_MAX, 0, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "9999-12-31T23:59:59Z");
    ck_assert_int_eq(custscore_format_time(CUSTSCORE_TIME_MIN, 0, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "0001-01-01");
    ck_assert_int_eq(custscore_format_time(INT64_MIN, 0, buf, sizeof buf), CUSTSCORE_ERANGE);
    ck_assert_int_eq(custscore_format_time(INT64_MAX, 1, buf, sizeof buf), CUSTSCORE_ERANGE);
    ck_assert_int_eq(custscore_format_time(CUSTSCORE_TIME_MIN - 1, 1, buf, sizeof buf),
                     CUSTSCORE_ERANGE);
    /* A CSV date out of the range is a bad value of that row. */
    const char *csv = "customer,ts,revenue\nx,@253402300800,1\n";
    custscore_import_report r;
    ck_assert_int_eq(
        custscore_import_csv_buffer(db, CUSTSCORE_KIND_ORDERS, csv, strlen(csv), "t.csv", NULL, &r),
        CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "t.csv:2:2"));
    custscore_close(db);
}
END_TEST

/* Amounts: |revenue| and cost up to CUSTSCORE_MAX_AMOUNT, so a customer's
 * totals stay finite however many orders it has (two orders of 1e308 once
 * summed to infinity, and a return of -1e308 on top to NaN). */
START_TEST(test_amounts)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    custscore_order o = {.customer = "c",
                         .order_key = "1",
                         .ts = 86400,
                         .revenue = CUSTSCORE_MAX_AMOUNT,
                         .cost = CUSTSCORE_MAX_AMOUNT,
                         .has_cost = 1};
    ck_assert_int_eq(custscore_add_order(db, &o, NULL), 0);
    o.order_key = "2";
    o.revenue = -CUSTSCORE_MAX_AMOUNT;
    ck_assert_int_eq(custscore_add_order(db, &o, NULL), 0);
    const double bad[] = {1e308, -1e308, CUSTSCORE_MAX_AMOUNT * 1.0000001};
    for (size_t i = 0; i < 3; i++) {
        o.order_key = "3";
        o.revenue = bad[i];
        o.cost = 0;
        ck_assert_int_eq(custscore_add_order(db, &o, NULL), CUSTSCORE_ERANGE);
        ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "CUSTSCORE_MAX_AMOUNT"));
        o.revenue = 1;
        o.cost = bad[i];
        ck_assert_int_eq(custscore_add_order(db, &o, NULL),
                         bad[i] < 0 ? CUSTSCORE_EINVAL : CUSTSCORE_ERANGE);
    }
    custscore_summary s;
    ck_assert_int_eq(custscore_summary_one(db, "c", INT64_MAX, NULL, &s), 0);
    ck_assert_double_eq(s.revenue, 0);
    /* In a file: a value, quantity x price, or the sum of an order's lines. */
    const char *files[] = {"customer,ts,revenue\nx,2020-01-01,1e308\n",
                           "customer,ts,quantity,price\nx,2020-01-01,1e10,1e10\n",
                           "customer,order,ts,revenue\nx,1,2020-01-01,9e14\nx,1,2020-01-01,9e14\n",
                           "customer,ts,revenue,cost\nx,2020-01-01,1,2e15\n"};
    for (size_t i = 0; i < 4; i++) {
        custscore_import_report r;
        ck_assert_int_eq(custscore_import_csv_buffer(db, CUSTSCORE_KIND_ORDERS, files[i],
                                                     strlen(files[i]), "m.csv", NULL, &r),
                         CUSTSCORE_EINVAL);
        ck_assert_msg(strstr(custscore_errmsg(db), "CUSTSCORE_MAX_AMOUNT") != NULL, "%s",
                      custscore_errmsg(db));
    }
    custscore_close(db);
}
END_TEST

/* Customer ids are SQLite rowids: any int64. A store holding huge or
 * negative ids (written by another tool, or after the largest id was used,
 * when SQLite picks new ids at random) imports, summarises and scores like
 * any other. (The import once packed ids as id * 2 + flag: overflow.) */
START_TEST(test_64bit_ids)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "ids.db");
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_CREATE, &db), 0);
    custscore_close(db);
    sqlite3 *c = NULL;
    ck_assert_int_eq(sqlite3_open(path, &c), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(c,
                                  "INSERT INTO customer(id, key) VALUES"
                                  " (4611686018427387909, 'huge'), (-7, 'negative'),"
                                  " (9223372036854775807, 'max'),"
                                  " (-9223372036854775807, 'min')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(c);
    ck_assert_int_eq(custscore_open(path, 0, &db), 0);
    const char *csv = "customer,order,ts,revenue\n"
                      "huge,h1,2020-01-01,10\nhuge,h2,2020-02-01,20\n"
                      "negative,n1,2020-01-01,5\nmax,m1,2020-01-01,7\nmin,x1,2020-01-03,1\n"
                      "new,w1,2020-01-01,3\n";
    custscore_import_report r;
    int rc = custscore_import_csv_buffer(db, CUSTSCORE_KIND_ORDERS, csv, strlen(csv), "ids.csv",
                                         NULL, &r);
    ck_assert_msg(rc == 0, "%s", custscore_errmsg(db));
    ck_assert_int_eq(r.added, 6);
    /* Again: every order replaced, nothing added (ids resolved right). */
    rc = custscore_import_csv_buffer(db, CUSTSCORE_KIND_ORDERS, csv, strlen(csv), "ids.csv", NULL,
                                     &r);
    ck_assert_msg(rc == 0, "%s", custscore_errmsg(db));
    ck_assert_int_eq(r.added, 0);
    ck_assert_int_eq(r.replaced, 6);
    custscore_summary s;
    ck_assert_int_eq(custscore_summary_one(db, "huge", INT64_MAX, NULL, &s), 0);
    ck_assert_int_eq(s.orders, 2);
    ck_assert_double_eq(s.revenue, 30);
    ck_assert_int_eq(custscore_summary_one(db, "negative", INT64_MAX, NULL, &s), 0);
    ck_assert_int_eq(s.orders, 1);
    ck_assert_int_eq(custscore_summary_one(db, "max", INT64_MAX, NULL, &s), 0);
    ck_assert_double_eq(s.revenue, 7);
    ck_assert_int_eq(total_orders(db, INT64_MAX), 6);
    int64_t n = 0;
    ck_assert_int_eq(custscore_customer_count(db, &n), 0);
    ck_assert_int_eq(n, 5);
    custscore_close(db);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* An order time outside the range in a store (not written by this library,
 * or damaged) is reported as corrupt, never computed with. */
START_TEST(test_stored_time_out_of_range)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "t.db");
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_CREATE, &db), 0);
    ck_assert_int_eq(custscore_add_customer(db, "c", 0), 0);
    custscore_close(db);
    sqlite3 *c = NULL;
    ck_assert_int_eq(sqlite3_open(path, &c), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(c,
                                  "INSERT INTO orders(customer, order_key, ts, revenue) SELECT"
                                  " id, 'o', -9223372036854775808, 1 FROM customer",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(c);
    ck_assert_int_eq(custscore_open(path, 0, &db), 0);
    int64_t n = 0;
    ck_assert_int_eq(custscore_summary_each(db, INT64_MAX, NULL, count_orders, &n),
                     CUSTSCORE_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "outside"));
    custscore_summary s;
    ck_assert_int_eq(custscore_summary_one(db, "c", INT64_MAX, NULL, &s), CUSTSCORE_ECORRUPT);
    custscore_close(db);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *limits_suite(void)
{
    Suite *s = suite_create("limits");
    TCase *tc = tcase_create("limits");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_key_length);
    tcase_add_test(tc, test_line_length);
    tcase_add_test(tc, test_columns);
    tcase_add_test(tc, test_time_range);
    tcase_add_test(tc, test_amounts);
    tcase_add_test(tc, test_64bit_ids);
    tcase_add_test(tc, test_stored_time_out_of_range);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(limits_suite());
}
