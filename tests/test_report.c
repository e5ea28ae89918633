/* The HTML report: every chart present, self-contained, notes for missing
 * parts, escaping, errors, atomic replacement. (tests/report/check_report.sh
 * renders it in headless Chromium.) */
#include "custscore.h"
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <sqlite3.h>
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
 * special characters (so it tops the value-at-risk table), in the store
 * file @store (NULL: in memory). */
static custscore *store_with_orders_in(const char *store)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(store, CUSTSCORE_OPEN_CREATE, &db), 0);
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

/* The same in memory. */
static custscore *store_with_orders(void)
{
    return store_with_orders_in(NULL);
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

/* The page's note on where the customer scores come from. */
static char *source_note(const char *html)
{
    const char *p = strstr(html, "<p class=\"note\" id=\"source\"");
    ck_assert_ptr_nonnull(p);
    const char *end = strstr(p, "</p>");
    ck_assert_ptr_nonnull(end);
    size_t len = (size_t)(end - p) + 4;
    char *note = malloc(len + 1);
    ck_assert_ptr_nonnull(note);
    memcpy(note, p, len);
    note[len] = '\0';
    return note;
}

/* The document without the source note and the time it was generated:
 * what must not depend on where the scores came from. */
static char *without_source(const char *html)
{
    char *copy = strdup(html);
    ck_assert_ptr_nonnull(copy);
    char *p = strstr(copy, "<p class=\"note\" id=\"source\"");
    ck_assert_ptr_nonnull(p);
    char *end = strstr(p, "</p>\n");
    ck_assert_ptr_nonnull(end);
    memmove(p, end + 5, strlen(end + 5) + 1);
    char *gen = strstr(copy, " · generated ");
    ck_assert_ptr_nonnull(gen);
    char *by = strstr(gen, " by custscore");
    ck_assert_ptr_nonnull(by);
    memmove(gen, by, strlen(by) + 1);
    return copy;
}

/* "scored at TIME" of the snapshot saved for @as_of. */
static void scored_at_text(custscore *db, int64_t as_of, char *buf, size_t size)
{
    custscore_snapshot_row row;
    ck_assert_int_eq(custscore_snapshot_get(db, NASTY_KEY, as_of, &row), 0);
    char t[32];
    ck_assert_int_eq(custscore_format_time(row.scored_at, 0, t, sizeof t), 0);
    snprintf(buf, size, "scored at %s", t);
}

/* The nightly job saves the snapshot of the date before the report: the
 * report then reads the scores from it, and it is the same report as when
 * scoring every customer afresh, headline figures, charts, top tables and
 * changes alike (the CDNOW keys are not in store-id order, so this also
 * checks that the snapshot's rows are put in key order). */
START_TEST(test_snapshot_same_as_scoring)
{
    custscore *db = store_with_orders();
    int64_t as_of = date("1997-09-30");
    add_models(db, as_of);
    custscore_report_options o = CUSTSCORE_REPORT_OPTIONS_INIT;
    o.csi_bootstrap = 20;
    char *from_snapshot = report(db, as_of, &o);
    check_self_contained(from_snapshot);
    char *note = source_note(from_snapshot);
    ck_assert_ptr_nonnull(strstr(note, "data-source=\"snapshot\""));
    ck_assert_ptr_nonnull(strstr(note, "snapshot saved for 1997-09-30"));
    char scored[64];
    scored_at_text(db, as_of, scored, sizeof scored);
    ck_assert_msg(strstr(note, scored) != NULL, "no '%s' in %s", scored, note);
    free(note);
    ck_assert_ptr_nonnull(strstr(from_snapshot, "(20 bootstrap resamples)"));

    /* The same scoring options given explicitly (the survey model by
     * name): the report scores afresh, and says so. */
    o.score.survey_model = "ecsi";
    char *scored_now = report(db, as_of, &o);
    note = source_note(scored_now);
    ck_assert_ptr_nonnull(strstr(note, "data-source=\"computed\""));
    ck_assert_ptr_nonnull(strstr(note, "scoring options"));
    free(note);
    char *a = without_source(from_snapshot), *b = without_source(scored_now);
    ck_assert_ptr_nonnull(strstr(a, "data-chart=\"loyalty\""));
    ck_assert_ptr_null(strstr(a, "chart missing"));
    if (strcmp(a, b) != 0) {
        size_t i = 0;
        while (a[i] && a[i] == b[i])
            i++;
        ck_abort_msg("reports differ at %zu: snapshot '%.80s' vs scored '%.80s'", i,
                     a + (i > 40 ? i - 40 : 0), b + (i > 40 ? i - 40 : 0));
    }
    free(a);
    free(b);
    free(from_snapshot);
    free(scored_now);

    /* A date without a snapshot: scored now, and the note says how to
     * save one. */
    o = (custscore_report_options)CUSTSCORE_REPORT_OPTIONS_INIT;
    o.csi_bootstrap = 0;
    char *html = report(db, date("1997-10-15"), &o);
    note = source_note(html);
    ck_assert_ptr_nonnull(strstr(note, "data-source=\"computed\""));
    ck_assert_ptr_nonnull(strstr(note, "no snapshot is saved for 1997-10-15"));
    free(note);
    /* Its changes are those of the two latest snapshots before it. */
    ck_assert_ptr_nonnull(strstr(html, "Between the snapshots of <b>1997-06-30</b> and "
                                       "<b>1997-09-30</b>"));
    free(html);
    custscore_close(db);
}
END_TEST

/* A snapshot the store has moved past (orders imported after it was saved)
 * is not shown as the store's state: the report scores afresh and says
 * which snapshot it left aside, and when that was scored. */
START_TEST(test_snapshot_older_than_data)
{
    custscore *db = store_with_orders();
    int64_t as_of = date("1997-09-30");
    add_models(db, as_of);
    char scored[64];
    scored_at_text(db, as_of, scored, sizeof scored);
    custscore_report_options o = CUSTSCORE_REPORT_OPTIONS_INIT;
    o.csi_bootstrap = 0;
    char *before = report(db, as_of, &o);
    ck_assert_ptr_nonnull(strstr(before, "data-source=\"snapshot\""));

    /* A late order of an existing customer, dated before the as-of date. */
    custscore_order late = {
        .customer = NASTY_KEY, .order_key = "late", .ts = date("1997-09-01"), .revenue = 5000};
    ck_assert_int_eq(custscore_add_order(db, &late, NULL), 0);
    char *html = report(db, as_of, &o);
    check_self_contained(html);
    char *note = source_note(html);
    ck_assert_ptr_nonnull(strstr(note, "data-source=\"computed\""));
    ck_assert_ptr_nonnull(strstr(note, "snapshot saved for 1997-09-30"));
    ck_assert_ptr_nonnull(strstr(note, "orders changed since it was saved"));
    ck_assert_msg(strstr(note, scored) != NULL, "no '%s' in %s", scored, note);
    ck_assert_ptr_nonnull(strstr(note, "<code>custscore score --as-of 1997-09-30</code>"));
    free(note);
    /* The headline has the new revenue. */
    ck_assert_str_ne(strstr(before, "id=\"headline\""), strstr(html, "id=\"headline\""));
    free(html);

    /* A new customer after the snapshot: another number of customers. */
    custscore_order newcomer = {
        .customer = "newcomer", .order_key = "1", .ts = date("1997-09-02"), .revenue = 10};
    ck_assert_int_eq(custscore_add_order(db, &newcomer, NULL), 0);
    html = report(db, as_of, &o);
    note = source_note(html);
    ck_assert_ptr_nonnull(strstr(note, "another number of customers"));
    free(note);
    free(html);

    /* Scored again: the snapshot is used again. */
    ck_assert_int_eq(custscore_score_all(db, as_of, NULL, NULL, NULL, NULL), 0);
    html = report(db, as_of, &o);
    ck_assert_ptr_nonnull(strstr(html, "data-source=\"snapshot\""));
    free(html);
    free(before);
    custscore_close(db);
}
END_TEST

/* A snapshot saved with other tiers than the report's: not used. */
START_TEST(test_snapshot_other_options)
{
    custscore *db = store_with_orders();
    int64_t as_of = date("1997-09-30");
    static const char *const names[] = {"gold", "silver", "bronze", "red"};
    custscore_score_options so = CUSTSCORE_SCORE_OPTIONS_INIT;
    so.value.tiers.names = names;
    so.value.tiers.n_names = 4;
    ck_assert_int_eq(custscore_score_all(db, as_of, &so, NULL, NULL, NULL), 0);
    char *html = report(db, as_of, NULL);
    char *note = source_note(html);
    ck_assert_ptr_nonnull(strstr(note, "data-source=\"computed\""));
    ck_assert_ptr_nonnull(strstr(note, "tiers are not the tiers of this report"));
    free(note);
    ck_assert_ptr_nonnull(strstr(html, ">key<"));
    free(html);
    /* The report given those tiers scores with them (options other than
     * the defaults: a snapshot does not say which options it used). */
    custscore_report_options o = CUSTSCORE_REPORT_OPTIONS_INIT;
    o.score = so;
    html = report(db, as_of, &o);
    ck_assert_ptr_nonnull(strstr(html, "data-source=\"computed\""));
    ck_assert_ptr_nonnull(strstr(html, ">gold<"));
    free(html);
    custscore_close(db);
}
END_TEST

/* The report from the snapshot and the report scoring afresh (forced by
 * naming the survey model) must be the same document but for the source
 * note and the generation time. */
static void assert_same_reports(custscore *db, int64_t as_of)
{
    custscore_report_options o = CUSTSCORE_REPORT_OPTIONS_INIT;
    o.csi_bootstrap = 10;
    char *from_snapshot = report(db, as_of, &o);
    ck_assert_ptr_nonnull(strstr(from_snapshot, "data-source=\"snapshot\""));
    o.score.survey_model = "ecsi";
    char *scored_now = report(db, as_of, &o);
    ck_assert_ptr_nonnull(strstr(scored_now, "data-source=\"computed\""));
    char *a = without_source(from_snapshot), *b = without_source(scored_now);
    ck_assert_ptr_null(strstr(a, "chart missing"));
    if (strcmp(a, b) != 0) {
        size_t i = 0;
        while (a[i] && a[i] == b[i])
            i++;
        ck_abort_msg("reports differ at %zu: snapshot '%.80s' vs scored '%.80s'", i,
                     a + (i > 40 ? i - 40 : 0), b + (i > 40 ? i - 40 : 0));
    }
    free(a);
    free(b);
    free(from_snapshot);
    free(scored_now);
}

/* Store ids in another order than the keys and far apart (a store filled
 * by an ERP with its own ids), and a purchase model that counts
 * zero-revenue orders as purchases (the loyalty then comes from the
 * snapshot's JSON): the report from the snapshot is still the same. */
START_TEST(test_snapshot_sparse_ids)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "store.db");
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_CREATE, &db), 0);
    sqlite3 *sql = NULL;
    ck_assert_int_eq(sqlite3_open(path, &sql), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(sql, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    for (int k = 1; k <= 2357; k++) {
        char stmt[128];
        /* A permutation of 1..2357 (7919 is prime), times 2^40. */
        long long id = ((long long)(k * 7919 % 2357) + 1) << 40;
        snprintf(stmt, sizeof stmt, "INSERT INTO customer(id, key) VALUES (%lld, '%04d')", id, k);
        ck_assert_int_eq(sqlite3_exec(sql, stmt, NULL, NULL, NULL), SQLITE_OK);
    }
    ck_assert_int_eq(sqlite3_exec(sql, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(sql);
    char *cdnow = tu_data_path("../../data/cdnow_sample.txt");
    custscore_import_options opt = CUSTSCORE_IMPORT_OPTIONS_INIT;
    opt.whitespace = 1;
    opt.no_header = 1;
    opt.map = "customer=2,ts=3,revenue=5";
    ck_assert_int_eq(custscore_import_csv(db, CUSTSCORE_KIND_ORDERS, cdnow, &opt, NULL), 0);
    free(cdnow);
    /* Zero-revenue orders (free replacements) on days of their own for
     * the first survey respondents. */
    ck_assert_int_eq(custscore_begin(db), 0);
    for (int k = 8; k < 400; k += 7) {
        char key[16];
        snprintf(key, sizeof key, "%04d", k);
        custscore_order o = {.customer = key,
                             .order_key = "free",
                             .ts = date("1997-08-15") + (int64_t)(k % 20) * 86400,
                             .revenue = 0};
        ck_assert_int_eq(custscore_add_order(db, &o, NULL), 0);
    }
    ck_assert_int_eq(custscore_commit(db), 0);
    int64_t as_of = date("1997-09-30");
    add_models(db, as_of);
    assert_same_reports(db, as_of);

    /* The purchase model counting zero-revenue orders as purchases. */
    custscore_fit_options fo = CUSTSCORE_FIT_OPTIONS_INIT;
    fo.zero = CUSTSCORE_ZERO_REVENUE_PURCHASE;
    ck_assert_int_eq(custscore_fit(db, as_of, &fo, NULL), 0);
    ck_assert_int_eq(custscore_score_all(db, as_of, NULL, NULL, NULL, NULL), 0);
    assert_same_reports(db, as_of);
    custscore_close(db);
    tu_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

/* The two reports are the same document but for the generation time. */
static void assert_same_html(const char *what, const char *x, const char *y)
{
    char *a = without_source(x), *b = without_source(y);
    if (strcmp(a, b) != 0) {
        size_t i = 0;
        while (a[i] && a[i] == b[i])
            i++;
        ck_abort_msg("%s: reports differ at %zu: '%.80s' vs '%.80s'", what, i,
                     a + (i > 40 ? i - 40 : 0), b + (i > 40 ? i - 40 : 0));
    }
    free(a);
    free(b);
    /* The source notes too (the times in them are the snapshot's). */
    const char *na = strstr(x, "id=\"source\""), *nb = strstr(y, "id=\"source\"");
    ck_assert_ptr_nonnull(na);
    ck_assert_ptr_nonnull(nb);
    const char *ea = strstr(na, "</p>"), *eb = strstr(nb, "</p>");
    ck_assert_ptr_nonnull(ea);
    ck_assert_ptr_nonnull(eb);
    ck_assert_msg(ea - na == eb - nb && memcmp(na, nb, (size_t)(ea - na)) == 0,
                  "%s: source notes differ", what);
}

/* A store in a file: the orders pass and the previous snapshot are read by
 * a second connection in a thread of their own while the report reads the
 * snapshot of the date; inside a batch (uncommitted changes another
 * connection would not see) they are read on the handle itself. The same
 * report either way, and a change made inside the batch shows. */
START_TEST(test_reads_alongside)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "store.db");
    custscore *db = store_with_orders_in(path);
    int64_t as_of = date("1997-09-30");
    add_models(db, as_of);
    custscore_report_options o = CUSTSCORE_REPORT_OPTIONS_INIT;
    o.csi_bootstrap = 10;
    char *alongside = report(db, as_of, &o);
    ck_assert_ptr_nonnull(strstr(alongside, "data-source=\"snapshot\""));
    ck_assert_ptr_nonnull(strstr(alongside, "Between the snapshots of <b>1997-06-30</b> and "
                                            "<b>1997-09-30</b>"));
    ck_assert_int_eq(custscore_begin(db), 0);
    char *in_batch = report(db, as_of, &o);
    assert_same_html("in a batch", alongside, in_batch);
    /* Without the previous snapshot's part (a report as of the earlier
     * date has none before it). */
    char *earlier = report(db, date("1997-06-30"), &o);
    ck_assert_int_eq(custscore_rollback(db), 0);
    char *earlier_alongside = report(db, date("1997-06-30"), &o);
    assert_same_html("earlier date", earlier_alongside, earlier);
    ck_assert_ptr_nonnull(strstr(earlier, "data-source=\"snapshot\""));

    /* An order added in the batch, not committed: the report sees it (the
     * snapshot then no longer matches the orders). */
    ck_assert_int_eq(custscore_begin(db), 0);
    custscore_order order = {
        .customer = NASTY_KEY, .order_key = "late", .ts = date("1997-09-01"), .revenue = 5000};
    ck_assert_int_eq(custscore_add_order(db, &order, NULL), 0);
    char *changed = report(db, as_of, &o);
    char *note = source_note(changed);
    ck_assert_msg(strstr(note, "orders changed since it was saved") != NULL, "%s", note);
    ck_assert_ptr_nonnull(strstr(note, "data-source=\"computed\""));
    free(note);
    ck_assert_int_eq(custscore_rollback(db), 0);
    free(changed);
    free(earlier);
    free(earlier_alongside);
    free(in_batch);
    free(alongside);
    custscore_close(db);
    tu_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

/* The bootstrap of the satisfaction index: automatic (-1) or as given; the
 * page says how many resamples were drawn. */
START_TEST(test_bootstrap_draws)
{
    custscore *db = store_with_orders();
    int64_t as_of = date("1997-09-30");
    add_models(db, as_of);
    custscore_report_options o = CUSTSCORE_REPORT_OPTIONS_INIT;
    o.csi_bootstrap = -1; /* few respondents: 200 */
    char *html = report(db, as_of, &o);
    ck_assert_ptr_nonnull(strstr(html, "(200 bootstrap resamples)"));
    free(html);
    o.csi_bootstrap = -2;
    ck_assert_int_eq(custscore_report_html(db, as_of, &o, "x.html"), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_report_html(db, CUSTSCORE_TIME_MAX + 1, NULL, "x.html"),
                     CUSTSCORE_ERANGE);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "custscore_report_html: as-of time"));
    custscore_close(db);
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
    tcase_add_test(tc, test_snapshot_same_as_scoring);
    tcase_add_test(tc, test_snapshot_older_than_data);
    tcase_add_test(tc, test_snapshot_other_options);
    tcase_add_test(tc, test_snapshot_sparse_ids);
    tcase_add_test(tc, test_bootstrap_draws);
    tcase_add_test(tc, test_reads_alongside);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(report_suite());
}
