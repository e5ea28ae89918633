/* Adding rows and importing CSV: formats, bad input, idempotence, atomicity. */
#include "custscore.h"
#include "testutil.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static custscore *mem_store(void)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    return db;
}

static int import_text(custscore *db, custscore_kind kind, const char *text,
                       const custscore_import_options *opt, custscore_import_report *rep)
{
    return custscore_import_csv_buffer(db, kind, text, strlen(text), "t.csv", opt, rep);
}

typedef struct totals {
    int64_t customers, orders;
    double revenue;
} totals;

static int sum_row(const custscore_summary *s, void *payload)
{
    totals *t = payload;
    t->customers++;
    t->orders += s->orders;
    t->revenue += s->revenue;
    return 0;
}

static totals store_totals(custscore *db)
{
    totals t = {0};
    ck_assert_int_eq(custscore_summary_each(db, INT64_C(253402300799), NULL, sum_row, &t), 0);
    return t;
}

START_TEST(test_add_order_api)
{
    custscore *db = mem_store();
    custscore_order o = {.customer = "C1", .order_key = "O1", .ts = 86400, .revenue = 10};
    int replaced = -1;
    ck_assert_int_eq(custscore_add_order(db, &o, &replaced), 0);
    ck_assert_int_eq(replaced, 0);
    o.revenue = 12;
    ck_assert_int_eq(custscore_add_order(db, &o, &replaced), 0);
    ck_assert_int_eq(replaced, 1);
    totals t = store_totals(db);
    ck_assert_int_eq(t.orders, 1);
    ck_assert_double_eq(t.revenue, 12);
    o.revenue = 0.0 / 0.0;
    ck_assert_int_eq(custscore_add_order(db, &o, NULL), CUSTSCORE_EINVAL);
    o.revenue = 1;
    o.has_cost = 1;
    o.cost = -1;
    ck_assert_int_eq(custscore_add_order(db, &o, NULL), CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "cost"));
    o.cost = 0.5;
    o.customer = "";
    ck_assert_int_eq(custscore_add_order(db, &o, NULL), CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "empty"));
    ck_assert_int_eq(custscore_add_order(db, NULL, NULL), CUSTSCORE_EINVAL);
    /* Orders without a key are never replaced. */
    custscore_order nk = {.customer = "C2", .ts = 86400, .revenue = 5};
    ck_assert_int_eq(custscore_add_order(db, &nk, NULL), 0);
    ck_assert_int_eq(custscore_add_order(db, &nk, NULL), 0);
    t = store_totals(db);
    ck_assert_int_eq(t.orders, 3);
    ck_assert_int_eq(custscore_add_response(db, "C1", 0, "CUSA1", 7), 0);
    ck_assert_int_eq(custscore_add_response(db, "C1", 0, "", 7), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_add_response(db, "C1", 0, "X", 1.0 / 0.0), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_add_complaint(db, "C1", 100, 2, 50), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_add_complaint(db, "C1", 100, 2, 0), 0);
    ck_assert_int_eq(custscore_set_attribute(db, "C3", "age", 41), 0);
    ck_assert_int_eq(custscore_set_attribute_text(db, "C3", "plan", "gold"), 0);
    ck_assert_int_eq(custscore_set_attribute(db, "C3", "age", 1.0 / 0.0), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_add_customer(db, "C4", 1000), 0);
    t = store_totals(db);
    ck_assert_int_eq(t.customers, 4);
    custscore_close(db);
}
END_TEST

START_TEST(test_key_limits)
{
    custscore *db = mem_store();
    char key[300];
    memset(key, 'k', sizeof key);
    key[255] = '\0';
    ck_assert_int_eq(custscore_add_customer(db, key, 0), 0);
    key[255] = 'k';
    key[256] = '\0';
    ck_assert_int_eq(custscore_add_customer(db, key, 0), CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "255"));
    ck_assert_int_eq(custscore_add_customer(db, "bad\xff", 0), CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "UTF-8"));
    ck_assert_int_eq(custscore_add_customer(db, "ok \xc3\xa9\xe2\x82\xac", 0), 0);
    ck_assert_int_eq(custscore_add_customer(db, "\xc0\xaf", 0), CUSTSCORE_EINVAL); /* overlong */
    ck_assert_int_eq(custscore_add_customer(db, "\xed\xa0\x80", 0),
                     CUSTSCORE_EINVAL); /* surrogate */
    ck_assert_int_eq(custscore_add_customer(db, NULL, 0), CUSTSCORE_EINVAL);
    custscore_close(db);
}
END_TEST

START_TEST(test_import_lines_aggregate)
{
    custscore *db = mem_store();
    custscore_import_options opt = CUSTSCORE_IMPORT_OPTIONS_INIT;
    opt.cancel_prefix = "C";
    const char *csv = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID\n"
                      "536365,85123A,\"WHITE, HEART\",6,2010-12-01 08:26:00,2.55,17850.0\n"
                      "536365,71053,LANTERN,6,2010-12-01 08:26:00,3.39,17850.0\n"
                      "536366,22633,HAND WARMER,6,2010-12-01 08:28:00,1.85,17850.0\n"
                      "C536379,D,Discount,1,2010-12-01 09:41:00,27.50,14527.0\n";
    custscore_import_report rep;
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_ORDERS, csv, &opt, &rep), 0);
    ck_assert_int_eq(rep.records, 4);
    ck_assert_int_eq(rep.added, 3);
    ck_assert_int_eq(rep.replaced, 0);
    ck_assert_int_eq(rep.rejected, 0);
    ck_assert_int_eq(rep.lines, 5);
    custscore_summary s;
    ck_assert_int_eq(custscore_summary_one(db, "17850.0", 1291248000, NULL, &s), 0);
    ck_assert_int_eq(s.orders, 2);
    ck_assert_double_eq_tol(s.revenue, 6 * 2.55 + 6 * 3.39 + 6 * 1.85, 1e-9);
    ck_assert_int_eq(s.x, 0); /* same day: one occasion */
    ck_assert_int_eq(custscore_summary_one(db, "14527.0", 1291248000, NULL, &s), 0);
    ck_assert_double_eq(s.revenue, -27.5); /* cancellation prefix: negative */
    ck_assert_int_eq(s.first, 0);          /* a return is no purchase */
    /* Re-import: everything replaced, nothing doubled. */
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_ORDERS, csv, &opt, &rep), 0);
    ck_assert_int_eq(rep.added, 0);
    ck_assert_int_eq(rep.replaced, 3);
    totals t = store_totals(db);
    ck_assert_int_eq(t.orders, 3);
    ck_assert_double_eq_tol(t.revenue, 6 * 2.55 + 6 * 3.39 + 6 * 1.85 - 27.5, 1e-9);
    custscore_close(db);
}
END_TEST

START_TEST(test_import_map_positions_whitespace)
{
    custscore *db = mem_store();
    custscore_import_options opt = CUSTSCORE_IMPORT_OPTIONS_INIT;
    opt.whitespace = 1;
    opt.no_header = 1;
    opt.map = "customer=2,ts=3,revenue=5";
    const char *txt = " 00004 0001 19970101  2   29.33\r\n 00004 0001 19970118  2   29.73\r\n"
                      " 00004 0001 19970118  1   10.00\r\n 00021 0002 19970101  3   63.34\r\n";
    custscore_import_report rep;
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_ORDERS, txt, &opt, &rep), 0);
    ck_assert_int_eq(rep.added, 4);
    custscore_summary s;
    custscore_summary_options so = CUSTSCORE_SUMMARY_OPTIONS_INIT;
    so.unit = CUSTSCORE_UNIT_DAY;
    ck_assert_int_eq(custscore_summary_one(db, "0001", 875577600, &so, &s), 0);
    ck_assert_int_eq(s.orders, 3);
    ck_assert_int_eq(s.x, 1);
    ck_assert_double_eq(s.t_x, 17);
    ck_assert_double_eq_tol(s.mean_repeat_spend, 39.73, 1e-9);
    /* Same file again: the synthesized keys (time + rank) make it idempotent. */
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_ORDERS, txt, &opt, &rep), 0);
    ck_assert_int_eq(rep.added, 0);
    ck_assert_int_eq(rep.replaced, 4);
    /* Mapping by name without a header is a usage error. */
    opt.map = "customer=id,ts=3,revenue=5";
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_ORDERS, txt, &opt, &rep), CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "no header"));
    opt.map = "customer=2,ts=3,revenue=5,bogus=1";
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_ORDERS, txt, &opt, &rep), CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "unknown field 'bogus'"));
    custscore_close(db);
}
END_TEST

/* Each bad input aborts the import with a message naming file, line, column
 * and reason, and leaves the store as it was. */
typedef struct bad_case {
    const char *csv;
    const char *expect; /* substring of the message */
    int line;
} bad_case;

START_TEST(test_bad_input_all_or_nothing)
{
    static char long_key[400];
    memset(long_key, 'k', 300);
    long_key[300] = '\0';
    static char long_key_csv[600];
    snprintf(long_key_csv, sizeof long_key_csv,
             "customer,order,ts,revenue\nA,1,2020-01-01,5\n%s,2,2020-01-01,5\n", long_key);
    const bad_case cases[] = {
        {"customer,order,ts,revenue\nA,1,2020-01-01,5\nB,2,2020-01-01\n", "wrong number of columns",
         3},
        {"customer,order,ts,revenue\nA,1,2020-01-01,5\n\"B,2,2020-01-01,5\n", "unterminated", 3},
        {"customer,order,ts,revenue\nA,1,2020-01-01,5\n,2,2020-01-01,5\n", "empty customer key", 3},
        {long_key_csv, "longer than 255", 3},
        {"customer,order,ts,revenue\nA,1,2020-01-01,5\nB,2,2020-02-30,5\n", "no such day", 3},
        {"customer,order,ts,revenue\nA,1,2020-01-01,5\nB,2,tomorrow,5\n", "not a date", 3},
        {"customer,order,ts,revenue\nA,1,2020-01-01,5\nB,2,2020-01-01,NaN\n", "not a number", 3},
        {"customer,order,ts,revenue\nA,1,2020-01-01,5\nB,2,2020-01-01,inf\n", "not a number", 3},
        {"customer,order,ts,revenue\nA,1,2020-01-01,5\nB,2,2020-01-01,12abc\n", "not a number", 3},
        {"customer,order,ts,revenue,cost\nA,1,2020-01-01,5,1\nB,2,2020-01-01,5,-1\n",
         "negative cost", 3},
        {"customer,order,ts,revenue\nA,1,2020-01-01,5\nB\xff,2,2020-01-01,5\n", "invalid UTF-8", 3},
        {"customer,order,ts,revenue\nA,1,2020-01-01,5\n\"B\"x,2,2020-01-01,5\n", "closing quote",
         3},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        custscore *db = mem_store();
        custscore_order keep = {.customer = "KEEP", .order_key = "K", .ts = 0, .revenue = 1};
        ck_assert_int_eq(custscore_add_order(db, &keep, NULL), 0);
        custscore_import_report rep;
        int rc = import_text(db, CUSTSCORE_KIND_ORDERS, cases[k].csv, NULL, &rep);
        ck_assert_msg(rc == CUSTSCORE_EINVAL, "case %zu: rc %d", k, rc);
        const char *msg = custscore_errmsg(db);
        ck_assert_msg(strstr(msg, cases[k].expect) != NULL, "case %zu: message '%s'", k, msg);
        char where[32];
        snprintf(where, sizeof where, "t.csv:%d:", cases[k].line);
        ck_assert_msg(strstr(msg, where) != NULL, "case %zu: no '%s' in '%s'", k, where, msg);
        ck_assert_int_eq(rep.added, 0);
        totals t = store_totals(db);
        ck_assert_int_eq(t.customers, 1);
        ck_assert_int_eq(t.orders, 1);
        ck_assert_double_eq(t.revenue, 1);
        custscore_close(db);
    }
}
END_TEST

START_TEST(test_bad_input_message_format)
{
    custscore *db = mem_store();
    const char *csv = "customer,order,ts,revenue\nA,1,2020-01-01,5\nB,2,2020-01-01,abc\n";
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_ORDERS, csv, NULL, NULL), CUSTSCORE_EINVAL);
    ck_assert_str_eq(custscore_errmsg(db),
                     "t.csv:3:4: revenue: 'abc': not a number (NaN, Inf and text are rejected)");
    custscore_close(db);
}
END_TEST

typedef struct rejects {
    int n;
    int64_t lines[16];
    char msg[16][256];
} rejects;

static int on_reject(int64_t line, int column, const char *message, void *payload)
{
    rejects *r = payload;
    (void)column;
    if (r->n < 16) {
        r->lines[r->n] = line;
        snprintf(r->msg[r->n], sizeof r->msg[r->n], "%s", message);
    }
    r->n++;
    return 0;
}

START_TEST(test_skip_bad_reports_every_row)
{
    char *dir = tu_tmpdir();
    char *rej_path = tu_join(dir, "rejects.csv");
    custscore *db = mem_store();
    custscore_import_options opt = CUSTSCORE_IMPORT_OPTIONS_INIT;
    opt.skip_bad = 1;
    opt.rejects_path = rej_path;
    rejects r = {0};
    opt.on_reject = on_reject;
    opt.payload = &r;
    const char *csv = "customer,order,ts,revenue\n"
                      "A,1,2020-01-01,5\n"
                      ",2,2020-01-01,5\n"
                      "B,3,2020-13-01,5\n"
                      "C,4,2020-01-01,NaN\n"
                      "D,5,2020-01-01,7\n"
                      "E,6\n";
    custscore_import_report rep;
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_ORDERS, csv, &opt, &rep), 0);
    ck_assert_int_eq(rep.added, 2);
    ck_assert_int_eq(rep.rejected, 4);
    ck_assert_int_eq(r.n, 4);
    ck_assert_int_eq(r.lines[0], 3);
    ck_assert_int_eq(r.lines[1], 4);
    ck_assert_int_eq(r.lines[2], 5);
    ck_assert_int_eq(r.lines[3], 7);
    totals t = store_totals(db);
    ck_assert_int_eq(t.orders, 2);
    ck_assert_double_eq(t.revenue, 12);
    size_t size;
    char *text = tu_read_file(rej_path, &size);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(strstr(text, "line,column,reason,record\n"));
    ck_assert_ptr_nonnull(
        strstr(text, "3,1,\"t.csv:3:1: customer: '': empty customer key\",\",2,2020-01-01,5\""));
    ck_assert_ptr_nonnull(
        strstr(text, "7,3,\"t.csv:7:3: wrong number of columns: 2, expected 4\",\"E,6\"\n"));
    int lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    ck_assert_int_eq(lines, 5);
    free(text);
    custscore_close(db);
    free(rej_path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static int stop_reject(int64_t line, int column, const char *message, void *payload)
{
    (void)line;
    (void)column;
    (void)message;
    (void)payload;
    return 1;
}

START_TEST(test_reject_callback_abort)
{
    custscore *db = mem_store();
    custscore_import_options opt = CUSTSCORE_IMPORT_OPTIONS_INIT;
    opt.skip_bad = 1;
    opt.on_reject = stop_reject;
    const char *csv = "customer,order,ts,revenue\nA,1,2020-01-01,5\n,2,2020-01-01,5\n";
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_ORDERS, csv, &opt, NULL), CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "stopped"));
    ck_assert_int_eq(store_totals(db).orders, 0);
    custscore_close(db);
}
END_TEST

START_TEST(test_missing_columns_and_options)
{
    custscore *db = mem_store();
    ck_assert_int_eq(
        import_text(db, CUSTSCORE_KIND_ORDERS, "who,when,amount\nA,2020-01-01,5\n", NULL, NULL),
        CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "field 'customer'"));
    custscore_import_options opt = CUSTSCORE_IMPORT_OPTIONS_INIT;
    opt.map = "customer=who,ts=when";
    ck_assert_int_eq(
        import_text(db, CUSTSCORE_KIND_ORDERS, "who,when,amount\nA,2020-01-01,5\n", &opt, NULL),
        0); /* amount is an alias of revenue */
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_ORDERS, "", NULL, NULL), CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "empty file"));
    opt.version = 99;
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_ORDERS, "a\n", &opt, NULL), CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "version"));
    ck_assert_int_eq(import_text(db, (custscore_kind)9, "a\n", NULL, NULL), CUSTSCORE_EINVAL);
    ck_assert_int_eq(
        custscore_import_csv(db, CUSTSCORE_KIND_ORDERS, "/no/such/file.csv", NULL, NULL),
        CUSTSCORE_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "/no/such/file.csv"));
    /* Header-only file: nothing to do, fine. */
    custscore_import_report rep;
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_ORDERS, "customer,ts,revenue\n", NULL, &rep),
                     0);
    ck_assert_int_eq(rep.records, 0);
    custscore_close(db);
}
END_TEST

START_TEST(test_import_customers_responses_complaints)
{
    custscore *db = mem_store();
    custscore_import_report rep;
    const char *cust = "customerID,gender,SeniorCitizen,tenure,TotalCharges\n"
                       "7590-VHVEG,Female,0,1,29.85\n"
                       "5575-GNVDE,Male,0,34, \n";
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_CUSTOMERS, cust, NULL, &rep), 0);
    ck_assert_int_eq(rep.added, 2);
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_CUSTOMERS, cust, NULL, &rep), 0);
    ck_assert_int_eq(rep.replaced, 2);
    /* Long-form responses; a blank answer is missing, not zero. */
    const char *resp = "customer,date,item,value\nA,2020-01-01,CUSA1,8\nA,2020-01-01,CUSA2,\n";
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_RESPONSES, resp, NULL, &rep), 0);
    ck_assert_int_eq(rep.added, 1);
    /* Wide form. */
    custscore_import_options w = CUSTSCORE_IMPORT_OPTIONS_INIT;
    w.wide = 1;
    w.customer_column = "id";
    w.date_column = "when";
    const char *wide = "id,when,CUSA1,CUSA2,CUSA3\nA,2020-02-01,7,,9\nB,2020-02-01,5,6,7\n";
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_RESPONSES, wide, &w, &rep), 0);
    ck_assert_int_eq(rep.added, 5);
    const char *wide_bad = "id,when,CUSA1,CUSA2\nA,2020-02-01,7,x\n";
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_RESPONSES, wide_bad, &w, &rep),
                     CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "t.csv:2:4: CUSA2: 'x'"));
    const char *compl =
        "customer,ts,severity,resolved\nA,2020-01-05,2,2020-01-09\nB,2020-01-06,,\n";
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_COMPLAINTS, compl, NULL, &rep), 0);
    ck_assert_int_eq(rep.added, 2);
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_COMPLAINTS, compl, NULL, &rep), 0);
    ck_assert_int_eq(rep.replaced, 2);
    const char *compl_bad = "customer,ts,severity,resolved\nA,2020-01-05,2,2020-01-01\n";
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_COMPLAINTS, compl_bad, NULL, &rep),
                     CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "resolved before"));
    custscore_close(db);
}
END_TEST

START_TEST(test_date_format_option)
{
    custscore *db = mem_store();
    custscore_import_options opt = CUSTSCORE_IMPORT_OPTIONS_INIT;
    opt.date_format = "%d/%m/%Y";
    opt.delimiter = ';';
    custscore_import_report rep;
    ck_assert_int_eq(
        import_text(db, CUSTSCORE_KIND_ORDERS, "customer;ts;revenue\nA;31/12/2020;5\n", &opt, &rep),
        0);
    custscore_summary s;
    ck_assert_int_eq(custscore_summary_one(db, "A", 1609372800, NULL, &s), 0);
    ck_assert_int_eq(s.first, 1609372800);
    custscore_close(db);
}
END_TEST

/* A child imports a large file and is killed midway; the store must open
 * and hold exactly the data it had before. */
START_TEST(test_kill_during_import)
{
    char *dir = tu_tmpdir();
    char *db_path = tu_join(dir, "k.db");
    char *csv_path = tu_join(dir, "big.csv");
    FILE *f = fopen(csv_path, "w");
    fputs("customer,order,ts,revenue\n", f);
    int rows = tu_under_valgrind() ? 100000 : 600000;
    for (int i = 0; i < rows; i++)
        fprintf(f, "c%d,o%d,2020-01-%02d,%d.25\n", i % 5000, i, 1 + i % 28, i % 100);
    fclose(f);
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(db_path, CUSTSCORE_OPEN_CREATE, &db), 0);
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_ORDERS,
                                 "customer,order,ts,revenue\nbefore,1,2019-01-01,3\n", NULL, NULL),
                     0);
    custscore_close(db);
    for (int attempt = 0; attempt < 3; attempt++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            custscore *child = NULL;
            if (custscore_open(db_path, 0, &child) != 0)
                _exit(3);
            custscore_import_csv(child, CUSTSCORE_KIND_ORDERS, csv_path, NULL, NULL);
            _exit(0);
        }
        usleep((useconds_t)(50000 + attempt * 60000));
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        ck_assert_int_eq(custscore_open(db_path, 0, &db), 0);
        totals t = store_totals(db);
        custscore_close(db);
        if (WIFSIGNALED(status)) {
            ck_assert_int_eq(t.orders, 1);
            ck_assert_double_eq(t.revenue, 3);
            ck_assert_int_eq(t.customers, 1);
        }
        sqlite3 *s;
        sqlite3_open(db_path, &s);
        sqlite3_stmt *st;
        sqlite3_prepare_v2(s, "PRAGMA integrity_check", -1, &st, NULL);
        ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
        ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
        sqlite3_finalize(st);
        sqlite3_close(s);
        if (!WIFSIGNALED(status))
            break; /* the import finished before the kill: nothing more to test */
    }
    free(db_path);
    free(csv_path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *ingest_suite(void)
{
    Suite *s = suite_create("ingest");
    TCase *tc = tcase_create("ingest");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_add_order_api);
    tcase_add_test(tc, test_key_limits);
    tcase_add_test(tc, test_import_lines_aggregate);
    tcase_add_test(tc, test_import_map_positions_whitespace);
    tcase_add_test(tc, test_bad_input_all_or_nothing);
    tcase_add_test(tc, test_bad_input_message_format);
    tcase_add_test(tc, test_skip_bad_reports_every_row);
    tcase_add_test(tc, test_reject_callback_abort);
    tcase_add_test(tc, test_missing_columns_and_options);
    tcase_add_test(tc, test_import_customers_responses_complaints);
    tcase_add_test(tc, test_date_format_option);
    tcase_add_test(tc, test_kill_during_import);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(ingest_suite());
}
