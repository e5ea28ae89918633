/* The HTML report: every chart present, self-contained, notes for missing
 * parts, escaping, errors, atomic replacement. (tests/report/check_report.sh
 * renders it in headless Chromium.) */
#include "custscore.h"
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The customer key that must come out escaped. */
#define NASTY_KEY "<b>&\"x"
#define NASTY_ESCAPED "&lt;b&gt;&amp;&quot;x"

static const char *const charts[] = {"whale",        "pyramid", "segments",  "clv",
                                     "value-matrix", "churn",   "churn-top", "ipm",
                                     "loyalty",      "changes", "retention"};

static int64_t date(const char *s)
{
    int64_t t;
    ck_assert_int_eq(custscore_parse_time(s, NULL, &t), 0);
    return t;
}

/* The CDNOW sample plus one big, steady customer with a key full of HTML
 * special characters (so it tops the value-at-risk table). */
static custscore *store_with_orders(void)
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
    ck_assert_int_eq(custscore_begin(db), 0);
    for (int k = 0; k < 19; k++) {
        char key[16];
        snprintf(key, sizeof key, "n%d", k);
        custscore_order o = {.customer = NASTY_KEY,
                             .order_key = key,
                             .ts = date("1997-01-05") + (int64_t)k * 14 * 86400,
                             .revenue = 2000.0 + 10 * k};
        ck_assert_int_eq(custscore_add_order(db, &o, NULL), 0);
    }
    ck_assert_int_eq(custscore_commit(db), 0);
    return db;
}

/* Fit the CLV models, store the survey and its model, train churn and save
 * two snapshots. */
static void add_models(custscore *db, int64_t as_of)
{
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
    ck_assert_int_eq(custscore_survey_model_set_nps_item(model, "RECOMMEND"), 0);
    ck_assert_int_eq(custscore_survey_model_save(db, model), 0);
    custscore_survey_model_free(model);
    custscore_churn_options co = CUSTSCORE_CHURN_OPTIONS_INIT;
    co.window_days = 90;
    ck_assert_int_eq(custscore_churn_train(db, as_of, &co, NULL), 0);
    ck_assert_int_eq(custscore_score_all(db, date("1997-06-30"), NULL, NULL, NULL, NULL), 0);
    ck_assert_int_eq(custscore_score_all(db, as_of, NULL, NULL, NULL, NULL), 0);
}

/* The first changes of custscore_changes(), to compare with the report's. */
typedef struct change_keys {
    int n, kept;
    char key[5][64];
} change_keys;

static int collect_change(const custscore_change *ch, void *payload)
{
    change_keys *c = payload;
    if (c->kept < 5) {
        /* The table shows keys escaped. */
        bool nasty = strcmp(ch->customer, NASTY_KEY) == 0;
        snprintf(c->key[c->kept++], sizeof c->key[0], "%s", nasty ? NASTY_ESCAPED : ch->customer);
    }
    c->n++;
    return 0;
}

/* Write the report into a fresh directory and read it back. */
static char *report(custscore *db, int64_t as_of, const custscore_report_options *o)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "report.html");
    int rc = custscore_report_html(db, as_of, o, path);
    ck_assert_msg(rc == 0, "report: %s", custscore_errmsg(db));
    size_t size = 0;
    char *html = tu_read_file(path, &size);
    ck_assert_ptr_nonnull(html);
    ck_assert_uint_eq(strlen(html), size);
    /* Nothing else left in the directory (no temporary file). */
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            entries++;
    closedir(d);
    ck_assert_int_eq(entries, 1);
    free(path);
    tu_rmtree(dir);
    free(dir);
    return html;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* One file, no scripts, nothing fetched: the only URL is the SVG namespace. */
static void check_self_contained(const char *html)
{
    ck_assert_msg(strncmp(html, "<!DOCTYPE html>", 15) == 0, "no doctype");
    ck_assert_ptr_nonnull(strstr(html, "</html>"));
    ck_assert_ptr_null(strstr(html, "<script"));
    ck_assert_ptr_null(strstr(html, "<SCRIPT"));
    ck_assert_ptr_null(strstr(html, "https://"));
    ck_assert_int_eq(count(html, "http://"), count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
    ck_assert_ptr_null(strstr(html, "<img"));
    ck_assert_ptr_null(strstr(html, "<link"));
    ck_assert_ptr_null(strstr(html, "@import"));
    ck_assert_ptr_null(strstr(html, "url("));
    ck_assert_ptr_null(strstr(html, " src="));
    ck_assert_ptr_null(strstr(html, " onload=")); /* no event handlers */
    ck_assert_ptr_null(strstr(html, " onerror="));
    ck_assert_ptr_null(strstr(html, " onclick="));
    ck_assert_ptr_nonnull(strstr(html, "Content-Security-Policy"));
    for (size_t i = 0; i < sizeof charts / sizeof charts[0]; i++) {
        char attr[64];
        snprintf(attr, sizeof attr, "data-chart=\"%s\"", charts[i]);
        ck_assert_msg(count(html, attr) == 1, "%s: %d times", attr, count(html, attr));
    }
}

START_TEST(test_orders_only)
{
    custscore *db = store_with_orders();
    custscore_report_options o = CUSTSCORE_REPORT_OPTIONS_INIT;
    o.title = "Shop <Nord> & \"Süd\"";
    char *html = report(db, date("1997-09-30"), &o);
    check_self_contained(html);
    /* Each missing part says what to run. */
    ck_assert_ptr_nonnull(strstr(html, "<code>custscore fit --model bgnbd --as-of 1997-09-30"));
    ck_assert_ptr_nonnull(strstr(html, "<code>custscore churn train --as-of 1997-09-30"));
    ck_assert_ptr_nonnull(strstr(html, "No survey model is stored"));
    ck_assert_ptr_nonnull(strstr(html, "changes need two"));
    /* clv, value-matrix, churn, churn-top, ipm, loyalty, changes */
    ck_assert_int_eq(count(html, "class=\"chart missing"), 7);
    /* What does not need a model is drawn. */
    ck_assert_ptr_nonnull(strstr(html, "Top 20% of customers earn"));
    ck_assert_ptr_nonnull(strstr(html, "<svg"));
    ck_assert_ptr_null(strstr(html, "class=\"chart missing\" data-chart=\"whale\""));
    ck_assert_ptr_null(strstr(html, "class=\"chart missing wide\" data-chart=\"retention\""));
    /* The title, escaped. */
    ck_assert_ptr_nonnull(strstr(html, "Shop &lt;Nord&gt; &amp; &quot;Süd&quot;"));
    ck_assert_ptr_null(strstr(html, "<Nord>"));
    free(html);
    custscore_close(db);
}
END_TEST

START_TEST(test_full_pipeline)
{
    custscore *db = store_with_orders();
    int64_t as_of = date("1997-09-30");
    add_models(db, as_of);
    custscore_report_options o = CUSTSCORE_REPORT_OPTIONS_INIT;
    o.csi_bootstrap = 20; /* enough for an interval; quick under valgrind */
    o.top = 5;
    char *html = report(db, as_of, &o);
    check_self_contained(html);
    ck_assert_int_eq(count(html, "chart missing"), 0);
    ck_assert_int_eq(count(html, "class=\"kpi off\""), 0);
    ck_assert_ptr_nonnull(strstr(html, "Satisfaction index"));
    ck_assert_ptr_nonnull(strstr(html, "95% interval"));
    ck_assert_ptr_nonnull(strstr(html, "Net Promoter Score"));
    ck_assert_ptr_nonnull(strstr(html, "Churn model AUC"));
    ck_assert_ptr_nonnull(strstr(html, "Top 5 customers by value at risk"));
    ck_assert_ptr_nonnull(strstr(html, "Between the snapshots of <b>1997-06-30</b> and "
                                       "<b>1997-09-30</b>"));
    /* The big customer heads the value-at-risk table, escaped. */
    const char *table = strstr(html, "data-chart=\"churn-top\"");
    ck_assert_ptr_nonnull(table);
    const char *first = strstr(table, "<td class=\"key\">");
    ck_assert_ptr_nonnull(first);
    ck_assert_msg(strncmp(first + 16, NASTY_ESCAPED "</td>", strlen(NASTY_ESCAPED) + 5) == 0,
                  "first row: %.60s", first);
    ck_assert_ptr_null(strstr(html, NASTY_KEY));
    /* Five rows in the top table. */
    const char *end = strstr(table, "</table>");
    ck_assert_ptr_nonnull(end);
    int rows = 0;
    for (const char *p = table; (p = strstr(p, "<td class=\"key\">")) && p < end; p++)
        rows++;
    ck_assert_int_eq(rows, 5);

    /* The changes table: the same customers, in the same order, as
     * custscore_changes() between the two snapshots, and the same count. */
    change_keys ck = {0};
    ck_assert_int_eq(custscore_changes(db, date("1997-06-30"), as_of, collect_change, &ck), 0);
    ck_assert_int_eq(ck.kept, 5);
    const char *changes = strstr(html, "data-chart=\"changes\"");
    ck_assert_ptr_nonnull(changes);
    char moved[128];
    ck_assert_int_lt(ck.n, 1000); /* printed without a thousands separator */
    snprintf(moved, sizeof moved, "<b>1997-09-30</b>, %d customers moved", ck.n);
    ck_assert_msg(strstr(changes, moved) != NULL, "no '%s'", moved);
    const char *p = changes;
    for (int i = 0; i < ck.kept; i++) {
        p = strstr(p, "<td class=\"key\">");
        ck_assert_ptr_nonnull(p);
        p += 16;
        ck_assert_msg(strncmp(p, ck.key[i], strlen(ck.key[i])) == 0 && p[strlen(ck.key[i])] == '<',
                      "change %d: want %s, have %.20s", i, ck.key[i], p);
    }
    free(html);

    /* No bootstrap: the index without an interval. */
    o.csi_bootstrap = 0;
    html = report(db, as_of, &o);
    check_self_contained(html);
    ck_assert_ptr_nonnull(strstr(html, "Satisfaction index"));
    ck_assert_ptr_null(strstr(html, "0–100; 95% interval"));
    free(html);

    /* A survey model that does not exist: notes, not an error. */
    o.survey_model = "nosuch";
    html = report(db, as_of, &o);
    check_self_contained(html);
    ck_assert_ptr_nonnull(strstr(html, "class=\"chart missing\" data-chart=\"ipm\""));
    ck_assert_ptr_nonnull(strstr(html, "class=\"chart missing\" data-chart=\"loyalty\""));
    ck_assert_ptr_nonnull(strstr(html, "Survey model &#39;nosuch&#39; is not available"));
    free(html);
    custscore_close(db);
}
END_TEST

START_TEST(test_empty_store)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    char *html = report(db, date("2024-01-31"), NULL);
    check_self_contained(html);
    ck_assert_int_eq(count(html, "chart missing"), 11);
    ck_assert_ptr_nonnull(strstr(html, "No customers yet"));
    ck_assert_ptr_nonnull(strstr(html, "there are no cohorts yet"));
    free(html);
    custscore_close(db);
}
END_TEST

START_TEST(test_errors)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    int64_t t = date("2024-01-31");
    ck_assert_int_eq(custscore_report_html(NULL, t, NULL, "x.html"), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_report_html(db, t, NULL, NULL), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_report_html(db, t, NULL, ""), CUSTSCORE_EINVAL);
    custscore_report_options o = CUSTSCORE_REPORT_OPTIONS_INIT;
    o.version = 99;
    ck_assert_int_eq(custscore_report_html(db, t, &o, "x.html"), CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "version"));
    o = (custscore_report_options)CUSTSCORE_REPORT_OPTIONS_INIT;
    o.top = -1;
    ck_assert_int_eq(custscore_report_html(db, t, &o, "x.html"), CUSTSCORE_EINVAL);
    o.top = 20;
    o.csi_bootstrap = 100000;
    ck_assert_int_eq(custscore_report_html(db, t, &o, "x.html"), CUSTSCORE_EINVAL);
    o.csi_bootstrap = 200;
    o.title = "bad \xff utf-8";
    ck_assert_int_eq(custscore_report_html(db, t, &o, "x.html"), CUSTSCORE_EINVAL);
    o.title = NULL;
    o.score.band_medium = 0.9;
    o.score.band_high = 0.5;
    ck_assert_int_eq(custscore_report_html(db, t, &o, "x.html"), CUSTSCORE_EINVAL);
    /* A directory that does not exist: an I/O error, nothing written. */
    ck_assert_int_eq(custscore_report_html(db, t, NULL, "/nonexistent-dir/report.html"),
                     CUSTSCORE_EIO);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "/nonexistent-dir/report.html"));
    custscore_close(db);
}
END_TEST

START_TEST(test_readonly_and_replace)
{
    char *dir = tu_tmpdir();
    char *db_path = tu_join(dir, "store.db");
    char *out = tu_join(dir, "report.html");
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(db_path, CUSTSCORE_OPEN_CREATE, &db), 0);
    custscore_order o = {.customer = "A", .order_key = "1", .ts = date("2024-01-02"), .revenue = 5};
    ck_assert_int_eq(custscore_add_order(db, &o, NULL), 0);
    custscore_close(db);
    ck_assert_int_eq(tu_write_file(out, "old"), 0);
    ck_assert_int_eq(custscore_open(db_path, CUSTSCORE_OPEN_READONLY, &db), 0);
    ck_assert_int_eq(custscore_report_html(db, date("2024-01-31"), NULL, out), 0);
    custscore_close(db);
    char *html = tu_read_file(out, NULL);
    ck_assert_ptr_nonnull(html);
    ck_assert_ptr_nonnull(strstr(html, "data-chart=\"whale\""));
    free(html);
    tu_rmtree(dir);
    free(out);
    free(db_path);
    free(dir);
}
END_TEST

static Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("report");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_orders_only);
    tcase_add_test(tc, test_full_pipeline);
    tcase_add_test(tc, test_empty_store);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_readonly_and_replace);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(report_suite());
}
