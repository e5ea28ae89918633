/* Scoring everything: snapshots, matrices, changes, notes when parts are missing. */
#include "custscore.h"
#include "testutil.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t date(const char *s)
{
    int64_t t;
    ck_assert_int_eq(custscore_parse_time(s, NULL, &t), 0);
    return t;
}

static custscore *cdnow_store(void)
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
    return db;
}

typedef struct collect {
    int64_t n, with_clv, with_churn, with_sat, with_sat_and_loyalty;
    int64_t vq[5], lq[5];
    double total_profit;
    custscore_score_info info; /* filled by the test for the consistency checks */
    bool check_splits;
    int bad_quadrant, bad_var, bad_band;
    char first_key[64];
    char clv_note[256], sat_note[256], churn_note[256];
    /* The values the median splits are taken over. */
    size_t n_clv, n_sat, n_loyal;
    double clv[4096], current[4096], sat[4096], loyal[4096];
} collect;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median by sorting, as a check of the library's. */
static double sorted_median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int collect_row(const custscore_score *s, void *payload)
{
    collect *c = payload;
    if (c->n == 0)
        snprintf(c->first_key, sizeof c->first_key, "%s", s->customer);
    c->n++;
    c->vq[s->value_quadrant]++;
    c->lq[s->loyalty_quadrant]++;
    c->total_profit += s->value.profit;
    if (isfinite(s->clv)) {
        c->with_clv++;
        ck_assert_uint_lt(c->n_clv, 4096);
        c->clv[c->n_clv] = s->clv;
        c->current[c->n_clv++] = s->value.profit;
    } else
        snprintf(c->clv_note, sizeof c->clv_note, "%s", s->clv_note);
    if (isfinite(s->churn_probability)) {
        c->with_churn++;
        if (isfinite(s->clv) && fabs(s->value_at_risk - s->churn_probability * s->clv) > 1e-9)
            c->bad_var++;
        if (strcmp(s->band, "low") && strcmp(s->band, "medium") && strcmp(s->band, "high"))
            c->bad_band++;
    } else {
        snprintf(c->churn_note, sizeof c->churn_note, "%s", s->churn_note);
    }
    if (isfinite(s->satisfaction)) {
        c->with_sat++;
        ck_assert_uint_lt(c->n_sat, 4096);
        c->sat[c->n_sat++] = s->satisfaction;
        if (isfinite(s->loyalty)) {
            c->with_sat_and_loyalty++;
            c->loyal[c->n_loyal++] = s->loyalty;
        }
        ck_assert(s->satisfaction >= 0 && s->satisfaction <= 100);
    } else {
        snprintf(c->sat_note, sizeof c->sat_note, "%s", s->satisfaction_note);
    }
    return 0;
}

/* Second pass: each classified customer sits on the right side of the splits. */
static int check_row(const custscore_score *s, void *payload)
{
    collect *c = payload;
    const custscore_score_info *in = &c->info;
    if (s->value_quadrant != CUSTSCORE_VQ_UNCLASSIFIED) {
        bool high_now = s->value.profit > in->current_value_split;
        bool high_future = s->clv > in->future_value_split;
        custscore_value_quadrant want =
            high_now ? (high_future ? CUSTSCORE_VQ_VALUE : CUSTSCORE_VQ_MAINTAIN)
                     : (high_future ? CUSTSCORE_VQ_POTENTIAL : CUSTSCORE_VQ_LOW);
        if (want != s->value_quadrant)
            c->bad_quadrant++;
    } else if (isfinite(s->clv)) {
        c->bad_quadrant++;
    }
    if (s->loyalty_quadrant != CUSTSCORE_LQ_UNCLASSIFIED) {
        bool sat = s->satisfaction > in->satisfaction_split;
        bool loyal = s->loyalty > in->loyalty_split;
        custscore_loyalty_quadrant want =
            sat ? (loyal ? CUSTSCORE_LQ_APOSTLE : CUSTSCORE_LQ_MERCENARY)
                : (loyal ? CUSTSCORE_LQ_HOSTAGE : CUSTSCORE_LQ_DEFECTOR);
        if (want != s->loyalty_quadrant)
            c->bad_quadrant++;
    } else if (isfinite(s->satisfaction) && isfinite(s->loyalty)) {
        c->bad_quadrant++;
    }
    return 0;
}

static int64_t count_rows(custscore *db, int64_t as_of)
{
    int64_t times[8];
    size_t n = 0;
    ck_assert_int_eq(custscore_snapshots(db, times, 8, &n), 0);
    (void)as_of;
    return (int64_t)n;
}

START_TEST(test_orders_only)
{
    custscore *db = cdnow_store();
    collect c = {0};
    custscore_score_info info;
    ck_assert_int_eq(custscore_score_all(db, date("1997-09-30"), NULL, collect_row, &c, &info), 0);
    ck_assert_int_eq(c.n, 2357);
    ck_assert_int_eq(info.customers, 2357);
    ck_assert_int_eq(info.has_clv, 0);
    ck_assert_int_eq(info.has_churn, 0);
    ck_assert_int_eq(info.has_satisfaction, 0);
    ck_assert_int_eq(info.saved, 1);
    ck_assert_int_eq(c.with_clv, 0);
    ck_assert_ptr_nonnull(strstr(c.clv_note, "custscore fit"));
    ck_assert_ptr_nonnull(strstr(c.churn_note, "churn train"));
    ck_assert_ptr_nonnull(strstr(c.sat_note, "survey model"));
    ck_assert_int_eq(c.vq[CUSTSCORE_VQ_UNCLASSIFIED], 2357);
    ck_assert_int_eq(c.lq[CUSTSCORE_LQ_UNCLASSIFIED], 2357);
    ck_assert_str_eq(c.first_key, "0001");
    ck_assert_double_eq_tol(c.total_profit, info.total_profit, 1e-6);
    /* Snapshot saved; re-running the same date replaces it. */
    ck_assert_int_eq(count_rows(db, 0), 1);
    ck_assert_int_eq(custscore_score_all(db, date("1997-09-30"), NULL, NULL, NULL, &info), 0);
    ck_assert_int_eq(count_rows(db, 0), 1);
    custscore_snapshot_row row;
    ck_assert_int_eq(custscore_snapshot_get(db, "0001", 0, &row), 0);
    ck_assert_str_eq(row.customer, "0001");
    ck_assert_int_eq(row.as_of, date("1997-09-30"));
    ck_assert_int_eq(row.rfm_score, 544);
    ck_assert(isnan(row.clv));
    ck_assert_ptr_nonnull(strstr(row.json, "\"customer\":\"0001\""));
    ck_assert_int_eq(custscore_snapshot_get(db, "nobody", 0, &row), CUSTSCORE_ENOTFOUND);
    ck_assert_int_eq(custscore_snapshot_get(db, "0001", date("1990-01-01"), &row),
                     CUSTSCORE_ENOTFOUND);
    /* A callback that stops: nothing saved for that date. */
    custscore_score_options o = CUSTSCORE_SCORE_OPTIONS_INIT;
    o.band_medium = 0.8;
    o.band_high = 0.5;
    ck_assert_int_eq(custscore_score_all(db, date("1997-10-30"), &o, NULL, NULL, NULL),
                     CUSTSCORE_EINVAL);
    custscore_close(db);
}
END_TEST

static int stop_now(const custscore_score *s, void *payload)
{
    (void)s;
    (void)payload;
    return 7;
}

START_TEST(test_stop_saves_nothing)
{
    custscore *db = cdnow_store();
    ck_assert_int_eq(custscore_score_all(db, date("1997-09-30"), NULL, stop_now, NULL, NULL), 7);
    size_t n = 99;
    ck_assert_int_eq(custscore_snapshots(db, NULL, 0, &n), 0);
    ck_assert_uint_eq(n, 0);
    custscore_close(db);
}
END_TEST

typedef struct change_list {
    int n;
    double last_stake;
    int unsorted, no_change;
} change_list;

static int change_row(const custscore_change *ch, void *payload)
{
    change_list *l = payload;
    if (l->n > 0 && ch->value_at_stake > l->last_stake + 1e-9)
        l->unsorted++;
    l->last_stake = ch->value_at_stake;
    if (!ch->tier_changed && !ch->segment_changed && !ch->band_changed)
        l->no_change++;
    if (ch->tier_changed)
        ck_assert_str_ne(ch->before.tier, ch->after.tier);
    l->n++;
    return 0;
}

START_TEST(test_full_pipeline)
{
    custscore *db = cdnow_store();
    int64_t as_of = date("1997-09-30");
    /* Lifetime value models. */
    custscore_fit_options fo = CUSTSCORE_FIT_OPTIONS_INIT;
    ck_assert_int_eq(custscore_fit(db, as_of, &fo, NULL), 0);
    fo.model = CUSTSCORE_MODEL_GG;
    ck_assert_int_eq(custscore_fit(db, as_of, &fo, NULL), 0);
    /* Survey answers and a stored survey model. */
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
    /* Churn early-warning model (90-day window). */
    custscore_churn_options co = CUSTSCORE_CHURN_OPTIONS_INIT;
    co.window_days = 90;
    ck_assert_int_eq(custscore_churn_train(db, as_of, &co, NULL), 0);

    collect c = {0};
    custscore_score_info info;
    ck_assert_int_eq(custscore_score_all(db, as_of, NULL, collect_row, &c, &info), 0);
    ck_assert_int_eq(info.has_clv, 1);
    ck_assert_int_eq(info.has_churn, 1);
    ck_assert_int_eq(info.has_satisfaction, 1);
    ck_assert_int_eq(c.with_clv, 2349); /* every buyer ($0.00-only customers have no purchase) */
    ck_assert_int_gt(c.with_churn, 2000);
    ck_assert_int_ge(c.with_sat, 550); /* 600 respondents, a few without CUSA answers */
    ck_assert_int_le(c.with_sat, 600);
    ck_assert_int_eq(c.bad_var, 0);
    ck_assert_int_eq(c.bad_band, 0);
    int64_t vq_total = 0;
    for (int q = 0; q < 5; q++) {
        ck_assert_int_eq(c.vq[q], info.value_quadrant_count[q]);
        vq_total += c.vq[q];
    }
    ck_assert_int_eq(vq_total, 2357);
    ck_assert_int_eq(c.vq[CUSTSCORE_VQ_UNCLASSIFIED], 2357 - 2349);
    /* Median splits: exactly the medians (of the profit and CLV of the
     * customers with a CLV, of the satisfaction scores). */
    ck_assert(info.future_value_split == sorted_median(c.clv, c.n_clv));
    ck_assert(info.current_value_split == sorted_median(c.current, c.n_clv));
    ck_assert(info.satisfaction_split == sorted_median(c.sat, c.n_sat));
    ck_assert(info.loyalty_split == sorted_median(c.loyal, c.n_loyal));
    /* About half above on each axis. */
    int64_t high_future = c.vq[CUSTSCORE_VQ_VALUE] + c.vq[CUSTSCORE_VQ_POTENTIAL];
    ck_assert_int_le(high_future, 2349 / 2 + 1);
    ck_assert_int_gt(high_future, 2349 / 4);
    /* Unclassified: no satisfaction, or no purchase (so no behavioural loyalty). */
    ck_assert_int_eq(c.lq[CUSTSCORE_LQ_UNCLASSIFIED], 2357 - c.with_sat_and_loyalty);
    ck_assert_int_lt(c.with_sat_and_loyalty, c.with_sat + 1);
    /* Every classified customer is on the right side of the splits. */
    c.info = info;
    ck_assert_int_eq(custscore_score_all(db, as_of, NULL, check_row, &c, NULL), 0);
    ck_assert_int_eq(c.bad_quadrant, 0);
    /* A later snapshot, then the changes between the two. */
    ck_assert_int_eq(custscore_score_all(db, date("1998-03-31"), NULL, NULL, NULL, NULL), 0);
    change_list l = {0};
    ck_assert_int_eq(custscore_changes(db, as_of, 0, change_row, &l), 0);
    ck_assert_int_gt(l.n, 100);
    ck_assert_int_eq(l.unsorted, 0);
    ck_assert_int_eq(l.no_change, 0);
    ck_assert_int_eq(custscore_changes(db, date("1990-01-01"), 0, change_row, &l),
                     CUSTSCORE_ENOTFOUND);
    custscore_close(db);
}
END_TEST

START_TEST(test_quadrant_names)
{
    ck_assert_str_eq(custscore_value_quadrant_name(CUSTSCORE_VQ_POTENTIAL), "potential");
    ck_assert_str_eq(custscore_value_quadrant_name((custscore_value_quadrant)99), "unclassified");
    ck_assert_str_eq(custscore_loyalty_quadrant_name(CUSTSCORE_LQ_HOSTAGE), "hostage");
    ck_assert_str_eq(custscore_loyalty_quadrant_name(CUSTSCORE_LQ_UNCLASSIFIED), "unclassified");
}
END_TEST

START_TEST(test_readonly_needs_no_store)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "ro.db");
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_CREATE, &db), 0);
    custscore_order o = {.customer = "A", .order_key = "1", .ts = date("2020-01-01"), .revenue = 5};
    ck_assert_int_eq(custscore_add_order(db, &o, NULL), 0);
    custscore_close(db);
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_READONLY, &db), 0);
    ck_assert_int_eq(custscore_score_all(db, date("2020-02-01"), NULL, NULL, NULL, NULL),
                     CUSTSCORE_EREADONLY);
    custscore_score_options so = CUSTSCORE_SCORE_OPTIONS_INIT;
    so.no_store = 1;
    collect c = {0};
    ck_assert_int_eq(custscore_score_all(db, date("2020-02-01"), &so, collect_row, &c, NULL), 0);
    ck_assert_int_eq(c.n, 1);
    custscore_close(db);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *score_suite(void)
{
    Suite *s = suite_create("score");
    TCase *tc = tcase_create("score");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_orders_only);
    tcase_add_test(tc, test_stop_saves_nothing);
    tcase_add_test(tc, test_full_pipeline);
    tcase_add_test(tc, test_quadrant_names);
    tcase_add_test(tc, test_readonly_needs_no_store);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(score_suite());
}
