/*
 * The snapshot's data column holds only the fields without a column of
 * their own; custscore_snapshot_get() and custscore_changes() put the whole
 * row together again. These tests check that the row read back is, byte for
 * byte, the JSON of the row as it was scored (cs_score_json), for every
 * customer of a fully scored store (CLV with interval, churn reasons,
 * satisfaction, notes), for rows saved by earlier versions (every field in
 * data) and for a damaged data column.
 */
#include "custscore.h"
#include "internal.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t date(const char *s)
{
    int64_t t;
    ck_assert_int_eq(custscore_parse_time(s, NULL, &t), 0);
    return t;
}

/* CDNOW sample with CLV models, a survey model with answers and a churn model. */
static custscore *full_store(int64_t as_of)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    char *path = tu_data_path("../../data/cdnow_sample.txt");
    custscore_import_options opt = CUSTSCORE_IMPORT_OPTIONS_INIT;
    opt.whitespace = 1;
    opt.no_header = 1;
    opt.map = "customer=2,ts=3,revenue=5";
    ck_assert_int_eq(custscore_import_csv(db, CUSTSCORE_KIND_ORDERS, path, &opt, NULL), 0);
    free(path);
    custscore_fit_options fo = CUSTSCORE_FIT_OPTIONS_INIT;
    ck_assert_int_eq(custscore_fit(db, as_of, &fo, NULL), 0);
    fo.model = CUSTSCORE_MODEL_GG;
    ck_assert_int_eq(custscore_fit(db, as_of, &fo, NULL), 0);
    char *survey = tu_data_path("../../data/demo_survey.csv");
    custscore_import_options io = CUSTSCORE_IMPORT_OPTIONS_INIT;
    io.wide = 1;
    io.customer_column = "customer";
    io.date_column = "date";
    ck_assert_int_eq(custscore_import_csv(db, CUSTSCORE_KIND_RESPONSES, survey, &io, NULL), 0);
    free(survey);
    custscore_survey_model *model = NULL;
    ck_assert_int_eq(custscore_survey_model_template("ecsi", &model), 0);
    ck_assert_int_eq(custscore_survey_model_save(db, model), 0);
    custscore_survey_model_free(model);
    custscore_churn_options co = CUSTSCORE_CHURN_OPTIONS_INIT;
    co.window_days = 90;
    ck_assert_int_eq(custscore_churn_train(db, as_of, &co, NULL), 0);
    return db;
}

/* The full JSON of every scored row, by position (customers come in key order). */
typedef struct rows {
    size_t n;
    char *key[4096];
    char *json[4096];
    int with_reason, with_interval, with_note, with_satisfaction;
} rows;

static int keep_row(const custscore_score *s, void *payload)
{
    rows *r = payload;
    ck_assert_uint_lt(r->n, 4096);
    cs_buf b;
    cs_buf_init(&b);
    cs_score_json(&b, s);
    ck_assert(!b.failed);
    r->key[r->n] = strdup(s->customer);
    r->json[r->n] = strdup(b.data);
    cs_buf_free(&b);
    r->with_reason += s->reason[0] && *s->reason[0];
    r->with_interval += isfinite(s->clv_low);
    r->with_note += (s->churn_note && *s->churn_note) || (s->clv_note && *s->clv_note);
    r->with_satisfaction += isfinite(s->satisfaction);
    r->n++;
    return 0;
}

static void rows_free(rows *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->key[i]);
        free(r->json[i]);
    }
}

START_TEST(test_every_row_reads_back_exactly)
{
    int64_t as_of = date("1997-09-30");
    custscore *db = full_store(as_of);
    rows r = {0};
    custscore_score_options so = CUSTSCORE_SCORE_OPTIONS_INIT;
    so.clv.interval_draws = 20; /* an interval on every row, quickly */
    ck_assert_int_eq(custscore_score_all(db, as_of, &so, keep_row, &r, NULL), 0);
    ck_assert_uint_eq(r.n, 2357);
    /* The store exercises every kind of field. */
    ck_assert_int_gt(r.with_reason, 1000);
    ck_assert_int_gt(r.with_interval, 1000);
    ck_assert_int_gt(r.with_note, 0);
    ck_assert_int_gt(r.with_satisfaction, 100);
    size_t full_bytes = 0, data_bytes = 0;
    for (size_t i = 0; i < r.n; i++) {
        custscore_snapshot_row row;
        ck_assert_int_eq(custscore_snapshot_get(db, r.key[i], as_of, &row), 0);
        ck_assert_msg(strcmp(row.json, r.json[i]) == 0, "customer %s:\n read  %s\n saved %s",
                      r.key[i], row.json, r.json[i]);
        full_bytes += strlen(r.json[i]);
    }
    /* What the store holds is well under the full rows (about 60% here, with
     * reasons and intervals on most rows; less where parts are missing). */
    sqlite3 *sql = db->sql; /* internal: the test reads and damages rows */
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(sql, "SELECT sum(length(data)) FROM score", -1, &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    data_bytes = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    ck_assert_uint_lt(data_bytes * 10, full_bytes * 7);
    rows_free(&r);
    custscore_close(db);
}
END_TEST

/* Rows written by earlier versions hold every field in data; a damaged data
 * column still gives a whole, valid row from the columns. */
START_TEST(test_old_and_damaged_rows)
{
    int64_t as_of = date("1997-09-30");
    custscore *db = full_store(as_of);
    rows r = {0};
    ck_assert_int_eq(custscore_score_all(db, as_of, NULL, keep_row, &r, NULL), 0);
    sqlite3 *sql = db->sql; /* internal: the test reads and damages rows */
    sqlite3_stmt *up;
    ck_assert_int_eq(sqlite3_prepare_v2(sql,
                                        "UPDATE score SET data = ?2 WHERE customer = (SELECT id "
                                        "FROM customer WHERE key = ?1)",
                                        -1, &up, NULL),
                     SQLITE_OK);
    /* Old format: the full row. */
    sqlite3_bind_text(up, 1, r.key[0], -1, SQLITE_STATIC);
    sqlite3_bind_text(up, 2, r.json[0], -1, SQLITE_STATIC);
    ck_assert_int_eq(sqlite3_step(up), SQLITE_DONE);
    custscore_snapshot_row row;
    ck_assert_int_eq(custscore_snapshot_get(db, r.key[0], as_of, &row), 0);
    ck_assert_str_eq(row.json, r.json[0]);
    /* Damaged: not an object, an unterminated string, too many members. */
    const char *damaged[] = {"garbage", "{\"reason1\":\"unterminated", "{\"a\":1,", "",
                             "{\"x\":[1,2]}"};
    for (size_t k = 0; k < sizeof damaged / sizeof *damaged; k++) {
        sqlite3_reset(up);
        sqlite3_bind_text(up, 1, r.key[1], -1, SQLITE_STATIC);
        sqlite3_bind_text(up, 2, damaged[k], -1, SQLITE_STATIC);
        ck_assert_int_eq(sqlite3_step(up), SQLITE_DONE);
        ck_assert_int_eq(custscore_snapshot_get(db, r.key[1], as_of, &row), 0);
        ck_assert_msg(row.json[0] == '{' && row.json[strlen(row.json) - 1] == '}', "%s", row.json);
        ck_assert_ptr_nonnull(strstr(row.json, "\"customer\":\""));
        ck_assert_ptr_nonnull(strstr(row.json, "\"recency_days\":0,"));
        ck_assert_ptr_nonnull(strstr(row.json, "\"loyalty_quadrant\":\""));
    }
    sqlite3_finalize(up);
    rows_free(&r);
    custscore_close(db);
}
END_TEST

/* custscore_changes() gives both rows whole. */
typedef struct change_check {
    rows *before, *after;
    int n;
} change_check;

static const char *json_of(const rows *r, const char *key)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->key[i], key) == 0)
            return r->json[i];
    return NULL;
}

static int check_change(const custscore_change *ch, void *payload)
{
    change_check *c = payload;
    ck_assert_str_eq(ch->before.json, json_of(c->before, ch->customer));
    ck_assert_str_eq(ch->after.json, json_of(c->after, ch->customer));
    c->n++;
    return 0;
}

START_TEST(test_changes_rows_whole)
{
    int64_t as_of = date("1997-09-30");
    custscore *db = full_store(as_of);
    rows before = {0}, after = {0};
    ck_assert_int_eq(custscore_score_all(db, date("1997-06-30"), NULL, keep_row, &before, NULL), 0);
    ck_assert_int_eq(custscore_score_all(db, as_of, NULL, keep_row, &after, NULL), 0);
    change_check c = {&before, &after, 0};
    ck_assert_int_eq(custscore_changes(db, date("1997-06-30"), as_of, check_change, &c), 0);
    ck_assert_int_gt(c.n, 100);
    rows_free(&before);
    rows_free(&after);
    custscore_close(db);
}
END_TEST

static int pragma_temp_store(custscore *db)
{
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db->sql, "PRAGMA temp_store", -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Rows are saved in store id order, many to a statement: customers whose
 * ids are not in key order (added in a scrambled order), a count that is
 * not a multiple of the rows per statement, some without orders. Every row
 * reads back exactly, the callback still sees key order, and the
 * connection's temp_store is as it was; the same inside a batch. */
START_TEST(test_saved_in_any_id_order)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    int64_t as_of = date("2024-06-30");
    enum { N = 203 };
    for (int k = 0; k < N; k++) {
        int i = (k * 73 + 11) % N; /* 73 and N coprime: every customer once */
        char key[16];
        snprintf(key, sizeof key, "c%04d", i);
        if (i % 10 == 3) {
            ck_assert_int_eq(custscore_add_customer(db, key, 0), 0);
            continue;
        }
        for (int j = 0; j <= i % 4; j++) {
            custscore_order o = {key,
                                 NULL,
                                 date("2024-01-01") + (int64_t)(i + 17 * j) * 86400,
                                 10.0 + i * 0.37 + j,
                                 2.5 + j * 0.1,
                                 1};
            ck_assert_int_eq(custscore_add_order(db, &o, NULL), 0);
        }
    }
    int temp_store = pragma_temp_store(db);
    for (int in_batch = 0; in_batch < 2; in_batch++) {
        rows r = {0};
        if (in_batch)
            ck_assert_int_eq(custscore_begin(db), 0);
        ck_assert_int_eq(custscore_score_all(db, as_of, NULL, keep_row, &r, NULL), 0);
        if (in_batch)
            ck_assert_int_eq(custscore_commit(db), 0);
        ck_assert_int_eq(pragma_temp_store(db), temp_store);
        ck_assert_uint_eq(r.n, N);
        for (size_t i = 0; i < r.n; i++) {
            if (i > 0)
                ck_assert_int_lt(strcmp(r.key[i - 1], r.key[i]), 0);
            custscore_snapshot_row row;
            ck_assert_int_eq(custscore_snapshot_get(db, r.key[i], as_of, &row), 0);
            ck_assert_str_eq(row.json, r.json[i]);
        }
        sqlite3_stmt *st;
        ck_assert_int_eq(sqlite3_prepare_v2(db->sql, "SELECT count(*) FROM score WHERE as_of = ?1",
                                            -1, &st, NULL),
                         SQLITE_OK);
        sqlite3_bind_int64(st, 1, as_of);
        ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
        ck_assert_int_eq(sqlite3_column_int(st, 0), N);
        sqlite3_finalize(st);
        rows_free(&r);
    }
    custscore_close(db);
}
END_TEST

/* The texts of the JSON: escapes, null numbers, shortest numbers. */
START_TEST(test_row_json_text)
{
    custscore_score s;
    memset(&s, 0, sizeof s);
    s.customer = "k\"1";
    s.value.segment = "a\"b\\c\x01"
                      "d\x1f"; /* "\x01d" would be one escape */
    s.value.monetary = 45.36;
    s.value.recency_days = -1;
    s.value.r = 5;
    s.value.rfm_score = 555;
    s.value.profit_share = 1e-7;
    s.p_alive = NAN;
    s.clv = INFINITY;
    s.clv_low = 0.1 + 0.2;
    s.satisfaction_ts = INT64_C(-9223372036854775807) - 1;
    s.value_quadrant = CUSTSCORE_VQ_LOW;
    cs_buf b;
    cs_buf_init(&b);
    cs_score_json(&b, &s);
    ck_assert(!b.failed);
    ck_assert_msg(b.data[0] == '{' && b.data[b.len - 1] == '}', "%s", b.data);
    const char *want[] = {"{\"customer\":\"k\\\"1\",",
                          "\"recency_days\":-1,",
                          "\"monetary\":45.36,",
                          "\"r\":5,",
                          "\"rfm_score\":555,",
                          "\"segment\":\"a\\\"b\\\\c\\u0001d\\u001f\",",
                          "\"profit_share\":1e-7,",
                          "\"p_alive\":null,",
                          "\"clv\":null,",
                          "\"clv_low\":0.30000000000000004,",
                          "\"satisfaction_ts\":-9223372036854775808,",
                          "\"tier\":\"\",",
                          "\"value_matrix\":\"low value\","};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(b.data, want[i]), "%s not in %s", want[i], b.data);
    cs_buf_free(&b);
}
END_TEST

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median splits of the value matrix and the loyalty quadrant: the
 * median of the finite values, by selection, equal to the one by sorting. */
START_TEST(test_median_finite)
{
    bool oom = false;
    const double even[] = {NAN, 4.0, 1.0, INFINITY, 3.0, 2.0, -INFINITY};
    ck_assert(cs_median_finite(even, 7, &oom) == 2.5);
    const double odd[] = {3.0, NAN, 1.0, 2.0};
    ck_assert(cs_median_finite(odd, 4, &oom) == 2.0);
    const double none[] = {NAN, INFINITY};
    ck_assert(isnan(cs_median_finite(none, 2, &oom)));
    ck_assert(isnan(cs_median_finite(NULL, 0, &oom)));
    ck_assert(!oom);
    /* Random arrays with ties and NaN, odd and even counts. */
    uint64_t state = 12345;
    double v[301], sorted[301];
    for (int round = 0; round < 200; round++) {
        size_t n = 1 + (size_t)(round * 37 % 301), m = 0;
        for (size_t i = 0; i < n; i++) {
            state = state * UINT64_C(6364136223846793005) + 1442695040888963407u;
            uint64_t r = state >> 33;
            v[i] = r % 11 == 0 ? NAN : round % 2 ? (double)(r % 7) : (double)r / 1024.0;
            if (isfinite(v[i]))
                sorted[m++] = v[i];
        }
        double want = NAN;
        if (m) {
            qsort(sorted, m, sizeof *sorted, cmp_double);
            want = m % 2 ? sorted[m / 2] : 0.5 * (sorted[m / 2 - 1] + sorted[m / 2]);
        }
        double got = cs_median_finite(v, n, &oom);
        ck_assert_msg(got == want || (isnan(got) && isnan(want)), "round %d: %.17g, want %.17g",
                      round, got, want);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("snapshot_json");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_every_row_reads_back_exactly);
    tcase_add_test(tc, test_old_and_damaged_rows);
    tcase_add_test(tc, test_changes_rows_whole);
    tcase_add_test(tc, test_saved_in_any_id_order);
    tcase_add_test(tc, test_row_json_text);
    tcase_add_test(tc, test_median_finite);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
