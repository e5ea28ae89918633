/*
 * Locale independence (docs/reliability.md, open finding 5): a host that
 * calls setlocale(LC_ALL, "") under a decimal-comma locale must get the
 * same numbers and the same text as under the C locale: models saved as
 * JSON (BTYD, churn, satisfaction weights) and as text (survey models) use
 * '.', read back to identical numbers; CSV numbers are read and written
 * with '.'. The tests switch to a decimal-comma locale (de_DE.UTF-8, which
 * `make deps` generates; else another one present) and skip with a message
 * when the machine has none.
 */
#include "custscore.h"
#include "internal.h"
#include "testutil.h"

#include <locale.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400
#define T1997 INT64_C(852076800) /* 1997-01-01 */

/* Switch the process to a decimal-comma locale; false (and a skip message)
 * when none is installed. */
static bool decimal_comma_locale(void)
{
    static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8",  "de_DE",      "fr_FR.UTF-8",
                                        "fr_FR.utf8",  "nl_NL.UTF-8", "es_ES.UTF-8"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (setlocale(LC_ALL, names[i]) && strcmp(localeconv()->decimal_point, ",") == 0) {
            /* The C library now writes and reads a decimal comma: what the
             * library must not follow. */
            char buf[32];
            snprintf(buf, sizeof buf, "%.1f", 1.5);
            ck_assert_str_eq(buf, "1,5");
            ck_assert(strtod("1.5", NULL) == 1.0);
            return true;
        }
    }
    setlocale(LC_ALL, "C");
    tu_skip("no decimal-comma locale installed (make deps generates de_DE.UTF-8)");
    return false;
}

START_TEST(test_helpers)
{
    if (!decimal_comma_locale())
        return;
    char *end = NULL;
    const char *text = "1.5e3,7";
    ck_assert(cs_strtod_c(text, &end) == 1500.0);
    ck_assert_ptr_eq(end, text + 5);
    char buf[64];
    ck_assert_int_eq(cs_snprintf_c(buf, sizeof buf, "%.17g %.2f", 0.1, 2.5), 24);
    ck_assert_str_eq(buf, "0.10000000000000001 2.50");
    ck_assert_int_gt(cs_fmt_double(buf, sizeof buf, 0.1), 0);
    ck_assert_str_eq(buf, "0.1");
    ck_assert_int_gt(cs_fmt_double(buf, sizeof buf, 1.0 / 3), 0);
    ck_assert(cs_strtod_c(buf, NULL) == 1.0 / 3);
    ck_assert_ptr_null(strchr(buf, ','));
    /* The shortest form (the snapshot's JSON) uses no C library conversion. */
    ck_assert_int_eq(cs_fmt_shortest(buf, -1234.5), 7);
    ck_assert_str_eq(buf, "-1234.5");
    /* JSON, SVG and HTML buffers. */
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_printf(&b, "{\"x\":%.17g,\"y\":\"%.1f\"}", 0.25, 12.5);
    ck_assert(!b.failed);
    ck_assert_str_eq(b.data, "{\"x\":0.25,\"y\":\"12.5\"}");
    cs_buf_free(&b);
    cs_fmt_num(buf, sizeof buf, 0.1234);
    ck_assert_str_eq(buf, "0.123");
    cs_fmt_num(buf, sizeof buf, 1234567);
    ck_assert_str_eq(buf, "1.23M");
    /* The host's locale is left as it was. */
    snprintf(buf, sizeof buf, "%.1f", 1.5);
    ck_assert_str_eq(buf, "1,5");
}
END_TEST

/* Survey models in the text format: scales and weights with '.', read back
 * equal. */
START_TEST(test_survey_model_text)
{
    if (!decimal_comma_locale())
        return;
    const char *text = "model m\nscale 0.5..9.5\n"
                       "construct A: a1 (weight=0.25), a2 (1.5..4.5, reverse)\n"
                       "construct S: s1, s2 (weight=1e-3)\n"
                       "path A -> S\ntarget S\n";
    char err[256];
    custscore_survey_model *m = NULL;
    ck_assert_msg(custscore_survey_model_parse(text, strlen(text), "m", &m, err, sizeof err) == 0,
                  "%s", err);
    char out[1024];
    ck_assert_int_eq(custscore_survey_model_format(m, out, sizeof out, NULL), 0);
    ck_assert_msg(strstr(out, "scale 0.5..9.5"), "%s", out);
    ck_assert_msg(strstr(out, "weight=0.25") && strstr(out, "1.5..4.5") &&
                      strstr(out, "weight=0.001"),
                  "%s", out);
    custscore_survey_model *back = NULL;
    ck_assert_int_eq(custscore_survey_model_parse(out, strlen(out), "out", &back, err, sizeof err),
                     0);
    char again[1024];
    ck_assert_int_eq(custscore_survey_model_format(back, again, sizeof again, NULL), 0);
    ck_assert_str_eq(out, again);
    custscore_survey_model_free(back);
    custscore_survey_model_free(m);
}
END_TEST

/* A store of 80 customers buying through 1997-1998 (CDNOW-like), on a file
 * so the saved JSON can be read with SQLite. */
static custscore *orders_store(const char *path)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_CREATE, &db), 0);
    ck_assert_int_eq(custscore_begin(db), 0);
    uint64_t seed = 3;
    for (int c = 0; c < 80; c++) {
        char key[16], order[32];
        snprintf(key, sizeof key, "c%02d", c);
        int64_t day = c % 40;
        int64_t last = c % 3 == 0 ? 300 : 700;
        for (int k = 0; day < last; k++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            snprintf(order, sizeof order, "%s-%d", key, k);
            custscore_order o = {.customer = key,
                                 .order_key = order,
                                 .ts = T1997 + day * DAY,
                                 .revenue = 5.25 + (double)((seed >> 33) % 9000) / 100};
            ck_assert_int_eq(custscore_add_order(db, &o, NULL), 0);
            day += 7 + (int64_t)((seed >> 45) % (30 + (uint64_t)c * 2));
        }
    }
    ck_assert_int_eq(custscore_commit(db), 0);
    return db;
}

/* Every number column of the model table's JSON is valid JSON with '.'. */
static void check_saved_json(const char *path, const char *name)
{
    sqlite3 *sql = NULL;
    ck_assert_int_eq(sqlite3_open_v2(path, &sql, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(sql,
                                        "SELECT params, stderr, info, json_valid(params),"
                                        " json_valid(coalesce(nullif(stderr, ''), '{}')),"
                                        " json_valid(coalesce(nullif(info, ''), '{}'))"
                                        " FROM model WHERE name = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        rows++;
        const char *params = (const char *)sqlite3_column_text(st, 0);
        ck_assert_msg(sqlite3_column_int(st, 3) == 1 && sqlite3_column_int(st, 4) == 1 &&
                          sqlite3_column_int(st, 5) == 1,
                      "model %s: JSON not valid: %s", name, params);
        ck_assert_msg(strchr(params, '.') != NULL, "model %s: no '.' in %s", name, params);
    }
    ck_assert_int_eq(rows, 1);
    sqlite3_finalize(st);
    sqlite3_close(sql);
}

START_TEST(test_btyd_model_round_trip)
{
    if (!decimal_comma_locale())
        return;
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "m.db");
    custscore *db = orders_store(path);
    int64_t as_of = T1997 + 700 * DAY;
    custscore_fit_options fo = CUSTSCORE_FIT_OPTIONS_INIT;
    custscore_fit_info fit, loaded;
    ck_assert_msg(custscore_fit(db, as_of, &fo, &fit) == 0, "%s", custscore_errmsg(db));
    fo.model = CUSTSCORE_MODEL_GG;
    custscore_fit_info gg, gg_loaded;
    ck_assert_msg(custscore_fit(db, as_of, &fo, &gg) == 0, "%s", custscore_errmsg(db));
    ck_assert_msg(custscore_model_load(db, "bgnbd", &loaded) == 0, "%s", custscore_errmsg(db));
    ck_assert_msg(custscore_model_load(db, "gg", &gg_loaded) == 0, "%s", custscore_errmsg(db));
    for (int k = 0; k < fit.n_params; k++) {
        ck_assert(fit.param[k] == loaded.param[k]);
        ck_assert(fit.std_error[k] == loaded.std_error[k] ||
                  (isnan(fit.std_error[k]) && isnan(loaded.std_error[k])));
    }
    for (int k = 0; k < gg.n_params; k++)
        ck_assert(gg.param[k] == gg_loaded.param[k]);
    ck_assert(fit.aic == loaded.aic && fit.gradient_norm == loaded.gradient_norm);
    check_saved_json(path, "bgnbd");
    check_saved_json(path, "gg");
    /* The same numbers as under the C locale. */
    setlocale(LC_ALL, "C");
    custscore_fit_info c_fit;
    fo.model = CUSTSCORE_MODEL_BGNBD;
    fo.no_store = 1;
    ck_assert_int_eq(custscore_fit(db, as_of, &fo, &c_fit), 0);
    for (int k = 0; k < fit.n_params; k++)
        ck_assert(c_fit.param[k] == fit.param[k]);
    custscore_close(db);
    tu_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

START_TEST(test_churn_model_round_trip)
{
    if (!decimal_comma_locale())
        return;
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "c.db");
    custscore *db = orders_store(path);
    /* A numeric attribute with a fraction mixed with words: categorical,
     * its numbers become levels ("2.5", not "2,5"). */
    for (int c = 0; c < 80; c++) {
        char key[16];
        snprintf(key, sizeof key, "c%02d", c);
        if (c % 4 == 0)
            ck_assert_int_eq(custscore_set_attribute_text(db, key, "plan", "basic"), 0);
        else
            ck_assert_int_eq(custscore_set_attribute(db, key, "plan", c % 4 == 1 ? 2.5 : 10), 0);
    }
    custscore_churn_options co = CUSTSCORE_CHURN_OPTIONS_INIT;
    co.features = "plan";
    custscore_churn_card *card = NULL, *loaded = NULL;
    ck_assert_msg(custscore_churn_train(db, T1997 + 700 * DAY, &co, &card) == 0, "%s",
                  custscore_errmsg(db));
    ck_assert_msg(custscore_churn_card_get(db, "churn", &loaded) == 0, "%s", custscore_errmsg(db));
    ck_assert_uint_eq(card->n_coefs, loaded->n_coefs);
    bool level = false;
    for (size_t k = 0; k < card->n_coefs; k++) {
        ck_assert_str_eq(card->coefs[k].name, loaded->coefs[k].name);
        ck_assert(card->coefs[k].coefficient == loaded->coefs[k].coefficient);
        ck_assert(card->coefs[k].mean == loaded->coefs[k].mean);
        ck_assert(card->coefs[k].sd == loaded->coefs[k].sd);
        level |= strcmp(card->coefs[k].name, "plan=2.5") == 0;
        ck_assert_msg(strstr(card->coefs[k].name, "2,5") == NULL, "%s", card->coefs[k].name);
    }
    ck_assert_msg(level, "no level plan=2.5 among the features");
    ck_assert(card->intercept == loaded->intercept);
    ck_assert(card->auc == loaded->auc || (isnan(card->auc) && isnan(loaded->auc)));
    check_saved_json(path, "churn");
    custscore_churn_card_free(card);
    custscore_churn_card_free(loaded);
    custscore_close(db);
    tu_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

typedef struct sat_rows {
    size_t n;
    double value[100];
} sat_rows;

static int collect_sat(const char *customer, int64_t ts, double satisfaction, void *payload)
{
    (void)customer;
    (void)ts;
    sat_rows *r = payload;
    ck_assert_uint_lt(r->n, 100);
    r->value[r->n++] = satisfaction;
    return 0;
}

/* The index weights saved with the data are read back (by the library's
 * own JSON reader) to the same per-customer satisfaction. */
START_TEST(test_saved_index_weights)
{
    if (!decimal_comma_locale())
        return;
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "s.db");
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_CREATE, &db), 0);
    const char *text = "model loc\nscale 1..10\nconstruct A: a1, a2, a3\n"
                       "construct S: s1, s2\npath A -> S\ntarget S\n";
    char err[256];
    custscore_survey_model *m = NULL;
    ck_assert_int_eq(custscore_survey_model_parse(text, strlen(text), "m", &m, err, sizeof err), 0);
    ck_assert_int_eq(custscore_begin(db), 0);
    static const char *const items[] = {"a1", "a2", "a3", "s1", "s2"};
    uint64_t seed = 5;
    for (int c = 0; c < 90; c++) {
        char key[16];
        snprintf(key, sizeof key, "r%02d", c);
        int base = 2 + c % 7;
        for (size_t i = 0; i < 5; i++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            double v = base + (double)((seed >> 40) % 3) - (i == 2 ? 1 : 0);
            ck_assert_int_eq(custscore_add_response(db, key, T1997 + c * DAY, items[i],
                                                    v < 1    ? 1
                                                    : v > 10 ? 10
                                                             : v),
                             0);
        }
    }
    ck_assert_int_eq(custscore_commit(db), 0);
    custscore_csi_options o = CUSTSCORE_CSI_OPTIONS_INIT;
    o.save = 1;
    custscore_csi_result *r = NULL;
    ck_assert_msg(custscore_csi_compute(db, m, &o, &r) == 0, "%s", custscore_errmsg(db));
    sat_rows direct = {0}, saved = {0};
    ck_assert_int_eq(custscore_csi_customers(db, m, r, 0, collect_sat, &direct), 0);
    ck_assert_int_eq(custscore_csi_customers(db, m, NULL, 0, collect_sat, &saved), 0);
    ck_assert_uint_eq(direct.n, 90);
    ck_assert_uint_eq(saved.n, direct.n);
    for (size_t i = 0; i < direct.n; i++)
        ck_assert_msg(direct.value[i] == saved.value[i],
                      "customer %zu: %.17g from the fit, %.17g "
                      "from the saved weights",
                      i, direct.value[i], saved.value[i]);
    check_saved_json(path, "csi:loc");
    custscore_csi_result_free(r);
    custscore_survey_model_free(m);
    custscore_close(db);
    tu_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

static int sum_revenue(const custscore_summary *s, void *payload)
{
    *(double *)payload += s->revenue;
    return 0;
}

/* CSV in: long numbers (the strtod path) read with '.'; CSV out: '.'. */
START_TEST(test_csv_numbers)
{
    if (!decimal_comma_locale())
        return;
    char *dir = tu_tmpdir();
    char *out = tu_join(dir, "value.csv");
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    const char *csv = "customer,order,ts,revenue\n"
                      "a,1,1997-01-01,12.345678901234567890123\n"
                      "a,2,1997-02-01,1.5e2\n"
                      "b,3,1997-03-01,0.000000000000000000000125\n";
    custscore_import_report rep;
    ck_assert_msg(custscore_import_csv_buffer(db, CUSTSCORE_KIND_ORDERS, csv, strlen(csv), "o.csv",
                                              NULL, &rep) == 0,
                  "%s", custscore_errmsg(db));
    double total = 0;
    ck_assert_int_eq(custscore_summary_each(db, INT64_MAX, NULL, sum_revenue, &total), 0);
    setlocale(LC_ALL, "C");
    double want =
        strtod("12.345678901234567890123", NULL) + 150 + strtod("0.000000000000000000000125", NULL);
    ck_assert(decimal_comma_locale());
    ck_assert_msg(total == want, "%.17g, expected %.17g", total, want);
    ck_assert_int_eq(custscore_value_write_csv(db, T1997 + 100 * DAY, NULL, out), 0);
    char *text = tu_read_file(out, NULL);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(strstr(text, "\na,") && strstr(text, ",162.345678901235,"), "%s", text);
    free(text);
    custscore_close(db);
    tu_rmtree(dir);
    free(out);
    free(dir);
}
END_TEST

/* The HTML report: the same store gives the same document under the C
 * locale and a decimal-comma one (figures, percentages, chart coordinates),
 * apart from the time it was generated. */
static char *read_report(custscore *db, int64_t as_of, const char *path)
{
    custscore_report_options ro = CUSTSCORE_REPORT_OPTIONS_INIT;
    ck_assert_int_eq(custscore_report_html(db, as_of, &ro, path), 0);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *html = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(html);
    ck_assert_uint_eq(fread(html, 1, (size_t)n, f), (size_t)n);
    html[n] = '\0';
    fclose(f);
    /* Drop the generation time (" · generated ... by custscore"). */
    char *gen = strstr(html, " · generated ");
    ck_assert_ptr_nonnull(gen);
    char *by = strstr(gen, " by custscore");
    ck_assert_ptr_nonnull(by);
    memmove(gen, by, strlen(by) + 1);
    return html;
}

START_TEST(test_report_same_under_decimal_comma)
{
    char *dir = tu_tmpdir();
    char html_path[512];
    snprintf(html_path, sizeof html_path, "%s/report.html", dir);
    /* CDNOW sample, lifetime-value models, the demo survey with the ECSI
     * model (an index with a bootstrap interval, drivers) and two snapshots. */
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    char *path = tu_data_path("../../data/cdnow_sample.txt");
    custscore_import_options opt = CUSTSCORE_IMPORT_OPTIONS_INIT;
    opt.whitespace = 1;
    opt.no_header = 1;
    opt.map = "customer=2,ts=3,revenue=5";
    ck_assert_int_eq(custscore_import_csv(db, CUSTSCORE_KIND_ORDERS, path, &opt, NULL), 0);
    free(path);
    int64_t as_of;
    ck_assert_int_eq(custscore_parse_time("1997-09-30", NULL, &as_of), 0);
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
    ck_assert_int_eq(custscore_score_all(db, as_of - 90 * DAY, NULL, NULL, NULL, NULL), 0);
    ck_assert_int_eq(custscore_score_all(db, as_of, NULL, NULL, NULL, NULL), 0);
    setlocale(LC_ALL, "C"); /* whatever an earlier test left (CK_FORK=no) */
    char *c_html = read_report(db, as_of, html_path);
    ck_assert_ptr_nonnull(strstr(c_html, "95% interval "));
    if (!decimal_comma_locale()) {
        free(c_html);
        custscore_close(db);
        tu_rmtree(dir);
        free(dir);
        return;
    }
    char *comma_html = read_report(db, as_of, html_path);
    setlocale(LC_ALL, "C");
    /* Point at the first difference, if any. */
    size_t k = 0;
    while (c_html[k] && c_html[k] == comma_html[k])
        k++;
    ck_assert_msg(c_html[k] == comma_html[k], "the report changed with the locale at: %.80s",
                  comma_html + (k > 40 ? k - 40 : 0));
    free(c_html);
    free(comma_html);
    custscore_close(db);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *locale_suite(void)
{
    Suite *s = suite_create("locale");
    TCase *tc = tcase_create("locale");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_helpers);
    tcase_add_test(tc, test_survey_model_text);
    tcase_add_test(tc, test_btyd_model_round_trip);
    tcase_add_test(tc, test_churn_model_round_trip);
    tcase_add_test(tc, test_saved_index_weights);
    tcase_add_test(tc, test_csv_numbers);
    tcase_add_test(tc, test_report_same_under_decimal_comma);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(locale_suite());
}
