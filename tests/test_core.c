/* Handle life cycle, errors, version, schema and migrations. */
#include "custscore.h"
#include "testutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

START_TEST(test_version)
{
    ck_assert_str_eq(custscore_version(), CUSTSCORE_VERSION_STRING);
    ck_assert_int_eq(custscore_version_number(), CUSTSCORE_VERSION_NUMBER);
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", CUSTSCORE_VERSION_MAJOR, CUSTSCORE_VERSION_MINOR,
             CUSTSCORE_VERSION_PATCH);
    ck_assert_str_eq(custscore_version(), expect);
}
END_TEST

START_TEST(test_errstr)
{
    for (int code = 0; code >= CUSTSCORE_EINTERNAL; code--) {
        const char *s = custscore_errstr(code);
        ck_assert_ptr_nonnull(s);
        ck_assert_str_ne(s, "unknown error");
    }
    ck_assert_str_eq(custscore_errstr(-999), "unknown error");
    ck_assert_str_eq(custscore_errstr(12345), "unknown error");
}
END_TEST

START_TEST(test_close_null)
{
    ck_assert_int_eq(custscore_close(NULL), 0);
    ck_assert_ptr_nonnull(custscore_errmsg(NULL));
    ck_assert_int_eq(custscore_errcode(NULL), CUSTSCORE_ENOMEM);
}
END_TEST

START_TEST(test_open_memory)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    ck_assert_ptr_nonnull(db);
    ck_assert_str_eq(custscore_errmsg(db), "");
    int64_t n = -1;
    ck_assert_int_eq(custscore_customer_count(db, &n), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(custscore_close(db), 0);
    ck_assert_int_eq(custscore_open(":memory:", CUSTSCORE_OPEN_CREATE, &db), 0);
    ck_assert_int_eq(custscore_busy_timeout(db, 100), 0);
    ck_assert_int_eq(custscore_busy_timeout(db, -1), CUSTSCORE_EINVAL);
    custscore_close(db);
}
END_TEST

START_TEST(test_open_bad_args)
{
    ck_assert_int_eq(custscore_open(NULL, 0, NULL), CUSTSCORE_EINVAL);
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0x100, &db), CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "unknown flags"));
    custscore_close(db);
    ck_assert_int_eq(custscore_open("x.db", CUSTSCORE_OPEN_READONLY | CUSTSCORE_OPEN_CREATE, &db),
                     CUSTSCORE_EINVAL);
    custscore_close(db);
}
END_TEST

START_TEST(test_open_missing)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "nope.db");
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, 0, &db), CUSTSCORE_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "nope.db"));
    custscore_close(db);
    /* Missing directory: an I/O error naming the path. */
    char *deep = tu_join(dir, "no/such/dir/x.db");
    ck_assert_int_eq(custscore_open(deep, CUSTSCORE_OPEN_CREATE, &db), CUSTSCORE_EIO);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "no/such/dir"));
    custscore_close(db);
    free(deep);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static int user_version(const char *path)
{
    sqlite3 *s;
    ck_assert_int_eq(sqlite3_open(path, &s), SQLITE_OK);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(s, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(s);
    return v;
}

START_TEST(test_create_and_reopen)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "s.db");
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_CREATE, &db), 0);
    ck_assert_int_eq(custscore_add_customer(db, "C1", 0), 0);
    custscore_close(db);
    ck_assert_int_eq(user_version(path), CUSTSCORE_SCHEMA_VERSION);
    /* Journal mode is WAL. */
    sqlite3 *s;
    sqlite3_open(path, &s);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(s, "PRAGMA journal_mode", -1, &st, NULL);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(s);
    ck_assert_int_eq(custscore_open(path, 0, &db), 0);
    int64_t n = 0;
    ck_assert_int_eq(custscore_customer_count(db, &n), 0);
    ck_assert_int_eq(n, 1);
    custscore_close(db);
    /* Read-only: reads work, writes fail with EREADONLY. */
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_READONLY, &db), 0);
    ck_assert_int_eq(custscore_customer_count(db, &n), 0);
    ck_assert_int_eq(custscore_add_customer(db, "C2", 0), CUSTSCORE_EREADONLY);
    ck_assert_int_eq(custscore_begin(db), CUSTSCORE_EREADONLY);
    custscore_close(db);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_migrate_from_empty_file)
{
    /* Schema v0: an existing empty file (e.g. `touch store.db`). */
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "empty.db");
    ck_assert_int_eq(tu_write_file(path, ""), 0);
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, 0, &db), 0);
    ck_assert_int_eq(custscore_add_customer(db, "K", 0), 0);
    custscore_close(db);
    ck_assert_int_eq(user_version(path), CUSTSCORE_SCHEMA_VERSION);
    /* An empty SQLite database with user_version 0 also migrates. */
    char *path2 = tu_join(dir, "v0.db");
    sqlite3 *s;
    sqlite3_open(path2, &s);
    sqlite3_exec(s, "PRAGMA user_version = 0; VACUUM", NULL, NULL, NULL);
    sqlite3_close(s);
    ck_assert_int_eq(custscore_open(path2, 0, &db), 0);
    custscore_close(db);
    ck_assert_int_eq(user_version(path2), CUSTSCORE_SCHEMA_VERSION);
    free(path2);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* A store written by schema v1 (as custscore 0.1 created it). */
static const char v1_schema[] =
    "CREATE TABLE customer(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE,"
    "  created INTEGER NOT NULL DEFAULT 0) STRICT;"
    "CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER NOT NULL REFERENCES"
    "  customer(id) ON DELETE CASCADE, order_key TEXT, ts INTEGER NOT NULL,"
    "  revenue REAL NOT NULL, cost REAL, UNIQUE(customer, order_key)) STRICT;"
    "CREATE TABLE response(id INTEGER PRIMARY KEY, customer INTEGER NOT NULL REFERENCES"
    "  customer(id) ON DELETE CASCADE, ts INTEGER NOT NULL, item TEXT NOT NULL,"
    "  value REAL NOT NULL, UNIQUE(customer, ts, item)) STRICT;"
    "CREATE TABLE complaint(id INTEGER PRIMARY KEY, customer INTEGER NOT NULL REFERENCES"
    "  customer(id) ON DELETE CASCADE, ts INTEGER NOT NULL, severity REAL NOT NULL,"
    "  resolved_ts INTEGER, UNIQUE(customer, ts)) STRICT;"
    "CREATE TABLE attribute(customer INTEGER NOT NULL REFERENCES customer(id) ON DELETE"
    "  CASCADE, name TEXT NOT NULL, value ANY, PRIMARY KEY(customer, name)) STRICT,"
    "  WITHOUT ROWID;"
    "CREATE TABLE model(id INTEGER PRIMARY KEY, name TEXT NOT NULL, fitted_at INTEGER NOT"
    "  NULL, as_of INTEGER NOT NULL, unit TEXT NOT NULL, params TEXT NOT NULL, stderr"
    "  TEXT, loglik REAL, n INTEGER NOT NULL, info TEXT) STRICT;"
    "CREATE INDEX model_by_name ON model(name, fitted_at);"
    "CREATE TABLE score(as_of INTEGER NOT NULL, customer INTEGER NOT NULL REFERENCES"
    "  customer(id) ON DELETE CASCADE, scored_at INTEGER NOT NULL, rfm_score INTEGER,"
    "  segment TEXT, tier TEXT, lifecycle TEXT, profit REAL, current_value REAL, clv REAL,"
    "  p_alive REAL, churn_probability REAL, band TEXT, value_at_risk REAL, satisfaction"
    "  REAL, value_matrix TEXT, loyalty TEXT, data TEXT NOT NULL, UNIQUE(as_of,"
    "  customer)) STRICT;"
    "CREATE INDEX score_by_customer ON score(customer, as_of);"
    "PRAGMA application_id = 1129534290; PRAGMA user_version = 1;";

/* The orders of a store as "customer/key=revenue" lines, in key order. */
static char *order_rows(const char *path)
{
    sqlite3 *s;
    ck_assert_int_eq(sqlite3_open(path, &s), SQLITE_OK);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(s,
                                        "SELECT c.key, o.order_key, o.ts, o.revenue FROM orders o"
                                        " JOIN customer c ON c.id = o.customer"
                                        " ORDER BY c.key, o.order_key",
                                        -1, &st, NULL),
                     SQLITE_OK);
    size_t cap = 4096, len = 0;
    char *out = calloc(cap, 1);
    while (sqlite3_step(st) == SQLITE_ROW)
        len += (size_t)snprintf(out + len, cap - len, "%s/%s@%lld=%g;", sqlite3_column_text(st, 0),
                                sqlite3_column_text(st, 1), (long long)sqlite3_column_int64(st, 2),
                                sqlite3_column_double(st, 3));
    sqlite3_finalize(st);
    sqlite3_close(s);
    return out;
}

START_TEST(test_migrate_v1)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "v1.db");
    sqlite3 *s;
    ck_assert_int_eq(sqlite3_open(path, &s), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(s, v1_schema, NULL, NULL, NULL), SQLITE_OK);
    /* Two orders without a key at the same time (v1 kept NULL), one with
     * a key an import gave a line without an order column, one ERP key. */
    ck_assert_int_eq(
        sqlite3_exec(s,
                     "INSERT INTO customer(id, key) VALUES (1, 'A'), (2, 'B');"
                     "INSERT INTO orders(customer, order_key, ts, revenue) VALUES"
                     " (1, NULL, 86400, 5), (1, '@86400#1', 86400, 7), (1, NULL, 86400, 6),"
                     " (1, NULL, 172800, 8), (2, 'SO-9', 86400, 9);"
                     "INSERT INTO score(as_of, customer, scored_at, tier, data) VALUES"
                     " (86400, 2, 1, 'gold', '{}'), (86400, 1, 1, 'lead', '{}');",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(s);
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, 0, &db), 0);
    custscore_close(db);
    ck_assert_int_eq(user_version(path), CUSTSCORE_SCHEMA_VERSION);
    /* The unkeyed orders get '@<ts>#<n>', n after the keys of that time,
     * in the order they were added. */
    char *rows = order_rows(path);
    ck_assert_str_eq(rows, "A/@172800#1@172800=8;A/@86400#1@86400=7;A/@86400#2@86400=5;"
                           "A/@86400#3@86400=6;B/SO-9@86400=9;");
    free(rows);
    /* The snapshot rows survive, and read back through the API. */
    ck_assert_int_eq(custscore_open(path, 0, &db), 0);
    custscore_snapshot_row row;
    ck_assert_int_eq(custscore_snapshot_get(db, "B", 86400, &row), 0);
    ck_assert_str_eq(row.tier, "gold");
    ck_assert_int_eq(custscore_snapshot_get(db, "A", 0, &row), 0);
    ck_assert_str_eq(row.tier, "lead");
    custscore_close(db);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_unkeyed_orders)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "s.db");
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_CREATE, &db), 0);
    /* Without a key an order is added, never replacing one. */
    custscore_order o = {.customer = "C", .ts = 86400, .revenue = 5};
    int replaced = -1;
    ck_assert_int_eq(custscore_add_order(db, &o, &replaced), 0);
    ck_assert_int_eq(replaced, 0);
    o.revenue = 6;
    ck_assert_int_eq(custscore_add_order(db, &o, &replaced), 0);
    ck_assert_int_eq(replaced, 0);
    custscore_order k = {.customer = "C", .order_key = "@86400#4", .ts = 86400, .revenue = 1};
    ck_assert_int_eq(custscore_add_order(db, &k, NULL), 0);
    /* Three keys of that time exist: the next goes after them. */
    o.revenue = 7;
    ck_assert_int_eq(custscore_add_order(db, &o, &replaced), 0);
    ck_assert_int_eq(replaced, 0);
    custscore_close(db);
    char *rows = order_rows(path);
    ck_assert_str_eq(rows, "C/@86400#1@86400=5;C/@86400#2@86400=6;C/@86400#4@86400=1;"
                           "C/@86400#5@86400=7;");
    free(rows);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_import_after_the_largest_id)
{
    /* New customers get the ids after the largest; with no room there
     * (ids set by hand near the end of the range) SQLite picks them. */
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "s.db");
    char *csv = tu_join(dir, "o.csv");
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_CREATE, &db), 0);
    ck_assert_int_eq(custscore_add_customer(db, "OLD", 0), 0);
    custscore_close(db);
    sqlite3 *s;
    ck_assert_int_eq(sqlite3_open(path, &s), SQLITE_OK);
    ck_assert_int_eq(
        sqlite3_exec(s, "UPDATE customer SET id = 9223372036854775806", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(s);
    ck_assert_int_eq(tu_write_file(csv, "order,customer,date,revenue\n"
                                        "1,N1,2020-01-01,5\n2,N2,2020-01-02,6\n"
                                        "3,N3,2020-01-03,7\n4,OLD,2020-01-04,8\n"),
                     0);
    ck_assert_int_eq(custscore_open(path, 0, &db), 0);
    custscore_import_report rep;
    ck_assert_msg(custscore_import_csv(db, CUSTSCORE_KIND_ORDERS, csv, NULL, &rep) == 0, "%s",
                  custscore_errmsg(db));
    ck_assert_int_eq(rep.added, 4);
    int64_t n = 0;
    ck_assert_int_eq(custscore_customer_count(db, &n), 0);
    ck_assert_int_eq(n, 4);
    custscore_close(db);
    char *rows = order_rows(path);
    ck_assert_str_eq(rows, "N1/1@1577836800=5;N2/2@1577923200=6;N3/3@1578009600=7;"
                           "OLD/4@1578096000=8;");
    free(rows);
    free(csv);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_newer_schema)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "new.db");
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_CREATE, &db), 0);
    custscore_close(db);
    sqlite3 *s;
    sqlite3_open(path, &s);
    sqlite3_exec(s, "PRAGMA user_version = 99", NULL, NULL, NULL);
    sqlite3_close(s);
    ck_assert_int_eq(custscore_open(path, 0, &db), CUSTSCORE_ESCHEMA);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "schema version 99"));
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "upgrade"));
    custscore_close(db);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_foreign_database)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "other.db");
    sqlite3 *s;
    sqlite3_open(path, &s);
    sqlite3_exec(s, "CREATE TABLE t(x); INSERT INTO t VALUES(1)", NULL, NULL, NULL);
    sqlite3_close(s);
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, 0, &db), CUSTSCORE_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "not a custscore store"));
    custscore_close(db);
    /* The foreign file was not touched. */
    ck_assert_int_eq(user_version(path), 0);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_not_a_database)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "text.db");
    char junk[4096];
    for (size_t i = 0; i < sizeof junk - 1; i++)
        junk[i] = (char)('a' + i % 26);
    junk[sizeof junk - 1] = '\0';
    tu_write_file(path, junk);
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, 0, &db), CUSTSCORE_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "text.db"));
    custscore_close(db);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_batch)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    ck_assert_int_eq(custscore_commit(db), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_rollback(db), 0);
    ck_assert_int_eq(custscore_begin(db), 0);
    ck_assert_int_eq(custscore_begin(db), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_add_customer(db, "A", 0), 0);
    ck_assert_int_eq(custscore_add_customer(db, "B", 0), 0);
    ck_assert_int_eq(custscore_rollback(db), 0);
    int64_t n = 0;
    custscore_customer_count(db, &n);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(custscore_begin(db), 0);
    ck_assert_int_eq(custscore_add_customer(db, "A", 0), 0);
    /* A failing add inside a batch undoes only itself. */
    ck_assert_int_eq(custscore_add_customer(db, "", 0), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_add_customer(db, "B", 0), 0);
    ck_assert_int_eq(custscore_commit(db), 0);
    custscore_customer_count(db, &n);
    ck_assert_int_eq(n, 2);
    /* Closing with an open batch rolls it back (no leak, no error). */
    ck_assert_int_eq(custscore_begin(db), 0);
    ck_assert_int_eq(custscore_add_customer(db, "C", 0), 0);
    ck_assert_int_eq(custscore_close(db), 0);
}
END_TEST

START_TEST(test_unit_days)
{
    ck_assert_double_eq(custscore_unit_days(CUSTSCORE_UNIT_DAY), 1.0);
    ck_assert_double_eq(custscore_unit_days(CUSTSCORE_UNIT_WEEK), 7.0);
    ck_assert_double_eq_tol(custscore_unit_days(CUSTSCORE_UNIT_MONTH), 30.436875, 1e-12);
    ck_assert_double_eq_tol(custscore_unit_days(CUSTSCORE_UNIT_YEAR), 365.2425, 1e-12);
    ck_assert_double_eq(custscore_unit_days((custscore_unit)42), 0.0);
}
END_TEST

static Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_version);
    tcase_add_test(tc, test_errstr);
    tcase_add_test(tc, test_close_null);
    tcase_add_test(tc, test_open_memory);
    tcase_add_test(tc, test_open_bad_args);
    tcase_add_test(tc, test_open_missing);
    tcase_add_test(tc, test_create_and_reopen);
    tcase_add_test(tc, test_migrate_from_empty_file);
    tcase_add_test(tc, test_migrate_v1);
    tcase_add_test(tc, test_unkeyed_orders);
    tcase_add_test(tc, test_import_after_the_largest_id);
    tcase_add_test(tc, test_newer_schema);
    tcase_add_test(tc, test_foreign_database);
    tcase_add_test(tc, test_not_a_database);
    tcase_add_test(tc, test_batch);
    tcase_add_test(tc, test_unit_days);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(core_suite());
}
