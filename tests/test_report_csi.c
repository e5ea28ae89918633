/* The report's satisfaction index (src/report_csi.c): the same result, to
 * the bit, and the same errors as custscore_csi_compute(), whose answers it
 * reads another way. */
#include "custscore.h"
#include "report.h"
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

/* Equal as doubles, NaN equal to NaN, -0 apart from 0: the same bits but
 * for NaN payloads. */
static bool same_double(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return a == b && signbit(a) == signbit(b);
}

static void same_doubles(const char *what, const double *a, const double *b, size_t n)
{
    ck_assert_msg((a == NULL) == (b == NULL), "%s: one is NULL", what);
    for (size_t i = 0; a && i < n; i++)
        ck_assert_msg(same_double(a[i], b[i]), "%s[%zu]: %.17g vs %.17g", what, i, a[i], b[i]);
}

static void same_estimate(const custscore_csi_estimate *a, const custscore_csi_estimate *b,
                          size_t p, size_t k)
{
    ck_assert_uint_eq(a->n, b->n);
    ck_assert_uint_eq(a->n_dropped, b->n_dropped);
    ck_assert_int_eq(a->status, b->status);
    ck_assert_str_eq(a->message ? a->message : "", b->message ? b->message : "");
    ck_assert_int_eq(a->converged, b->converged);
    ck_assert_int_eq(a->iterations, b->iterations);
    double scalars_a[] = {a->index,      a->index_se,    a->index_low,
                          a->index_high, a->index_equal, a->gof};
    double scalars_b[] = {b->index,      b->index_se,    b->index_low,
                          b->index_high, b->index_equal, b->gof};
    same_doubles("index, se, low, high, equal, gof", scalars_a, scalars_b, 6);
    same_doubles("construct_index", a->construct_index, b->construct_index, k);
    same_doubles("construct_index_low", a->construct_index_low, b->construct_index_low, k);
    same_doubles("construct_index_high", a->construct_index_high, b->construct_index_high, k);
    same_doubles("weights", a->weights, b->weights, p);
    same_doubles("outer_weights", a->outer_weights, b->outer_weights, p);
    same_doubles("outer_weights_se", a->outer_weights_se, b->outer_weights_se, p);
    same_doubles("outer_weights_low", a->outer_weights_low, b->outer_weights_low, p);
    same_doubles("outer_weights_high", a->outer_weights_high, b->outer_weights_high, p);
    same_doubles("loadings", a->loadings, b->loadings, p);
    same_doubles("paths", a->paths, b->paths, k * k);
    same_doubles("paths_se", a->paths_se, b->paths_se, k * k);
    same_doubles("paths_low", a->paths_low, b->paths_low, k * k);
    same_doubles("paths_high", a->paths_high, b->paths_high, k * k);
    same_doubles("total_effects", a->total_effects, b->total_effects, k * k);
    same_doubles("r2", a->r2, b->r2, k);
    same_doubles("r2_adj", a->r2_adj, b->r2_adj, k);
    same_doubles("alpha", a->alpha, b->alpha, k);
    same_doubles("rho_c", a->rho_c, b->rho_c, k);
    same_doubles("ave", a->ave, b->ave, k);
    ck_assert_int_eq(a->has_nps, b->has_nps);
    ck_assert_uint_eq(a->nps.n, b->nps.n);
    ck_assert_uint_eq(a->nps.promoters, b->nps.promoters);
    ck_assert_uint_eq(a->nps.detractors, b->nps.detractors);
    double nps_a[] = {a->nps.nps, a->nps.se, a->nps.low, a->nps.high};
    double nps_b[] = {b->nps.nps, b->nps.se, b->nps.low, b->nps.high};
    same_doubles("nps", nps_a, nps_b, 4);
    ck_assert_uint_eq(a->n_drivers, b->n_drivers);
    for (size_t d = 0; d < a->n_drivers; d++) {
        ck_assert_uint_eq(a->drivers[d].construct, b->drivers[d].construct);
        ck_assert(same_double(a->drivers[d].importance, b->drivers[d].importance));
        ck_assert(same_double(a->drivers[d].performance, b->drivers[d].performance));
        ck_assert_int_eq(a->drivers[d].high_importance, b->drivers[d].high_importance);
    }
}

/* Both ways, with @options; the same return code, message and result. */
static void assert_same_csi(custscore *db, const custscore_survey_model *model,
                            const custscore_csi_options *options, int expect_rc)
{
    custscore_csi_result *a = NULL, *b = NULL;
    int rc_a = custscore_csi_compute(db, model, options, &a);
    char msg_a[1024];
    snprintf(msg_a, sizeof msg_a, "%s", custscore_errmsg(db));
    cs_key_rank keys = {0};
    ck_assert_int_eq(cs_key_rank_load(db, &keys), 0);
    int rc_b = cs_report_csi_compute(db, &keys, model, options, &b);
    ck_assert_int_eq(rc_a, expect_rc);
    ck_assert_int_eq(rc_b, rc_a);
    ck_assert_str_eq(custscore_errmsg(db), msg_a);
    ck_assert_int_eq(a == NULL, b == NULL);
    if (a) {
        ck_assert_uint_eq(a->n_items, b->n_items);
        ck_assert_uint_eq(a->n_constructs, b->n_constructs);
        for (size_t i = 0; i < a->n_items; i++)
            ck_assert_str_eq(a->item_names[i], b->item_names[i]);
        ck_assert_str_eq(a->nps_item ? a->nps_item : "-", b->nps_item ? b->nps_item : "-");
        ck_assert_uint_eq(a->n_groups, b->n_groups);
        same_estimate(&a->overall, &b->overall, a->n_items, a->n_constructs);
    }
    custscore_csi_result_free(a);
    custscore_csi_result_free(b);
    cs_key_rank_free(&keys);
}

static custscore_survey_model *ecsi(void)
{
    custscore_survey_model *model = NULL;
    ck_assert_int_eq(custscore_survey_model_template("ecsi", &model), 0);
    ck_assert_int_eq(custscore_survey_model_set_nps_item(model, "RECOMMEND"), 0);
    return model;
}

/* The demo survey, plus answers that test the order and the matrix: keys
 * created in the reverse of their order (store ids against key order), a
 * respondent answering on two days (two rows) and twice on one day (the
 * later answer to an item kept), answers to an item outside the model,
 * and answers after the as-of day. */
static custscore *survey_store(void)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    const char *keys[] = {"zz-last", "mm-middle", "aa-first"};
    for (int k = 0; k < 3; k++) {
        custscore_order o = {
            .customer = keys[k], .order_key = "1", .ts = date("1997-01-02"), .revenue = 10};
        ck_assert_int_eq(custscore_add_order(db, &o, NULL), 0);
    }
    char *survey = tu_data_path("../../data/demo_survey.csv");
    custscore_import_options io = CUSTSCORE_IMPORT_OPTIONS_INIT;
    io.wide = 1;
    io.customer_column = "customer";
    io.date_column = "date";
    ck_assert_int_eq(custscore_import_csv(db, CUSTSCORE_KIND_RESPONSES, survey, &io, NULL), 0);
    free(survey);
    custscore_survey_model *model = ecsi();
    ck_assert_int_eq(custscore_begin(db), 0);
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < model->n_items; i++) {
            const char *item = model->items[i].name;
            double v = 1 + (double)((k * 7 + (int)i * 3) % 10);
            /* Day 1, twice (10:00 then 15:00: the later kept), and day 2. */
            ck_assert_int_eq(
                custscore_add_response(db, keys[k], date("1997-05-01") + 36000, item, v), 0);
            ck_assert_int_eq(
                custscore_add_response(db, keys[k], date("1997-05-01") + 54000, item, 11 - v), 0);
            if (i % 3 != 0)
                ck_assert_int_eq(custscore_add_response(db, keys[k], date("1997-05-02"), item, v),
                                 0);
            /* After the as-of day of the tests. */
            ck_assert_int_eq(custscore_add_response(db, keys[k], date("1998-01-01"), item, 10), 0);
        }
        ck_assert_int_eq(
            custscore_add_response(db, keys[k], date("1997-05-01"), "RECOMMEND", (double)(k * 4)),
            0);
        ck_assert_int_eq(custscore_add_response(db, keys[k], date("1997-05-01"), "OTHER", 3), 0);
    }
    ck_assert_int_eq(custscore_commit(db), 0);
    custscore_survey_model_free(model);
    return db;
}

START_TEST(test_same_as_csi_compute)
{
    custscore *db = survey_store();
    custscore_survey_model *model = ecsi();
    custscore_csi_options o = CUSTSCORE_CSI_OPTIONS_INIT;
    o.bootstrap = 30;
    o.seed = 7;
    o.to = date("1997-09-30");
    assert_same_csi(db, model, &o, 0);
    /* Every answer (no bound), and a period that starts later. */
    o.to = 0;
    assert_same_csi(db, model, &o, 0);
    o.from = date("1997-05-02");
    o.to = date("1997-12-31");
    o.bootstrap = 0;
    assert_same_csi(db, model, &o, 0);
    /* Another NPS item (one of the model's own). */
    o = (custscore_csi_options)CUSTSCORE_CSI_OPTIONS_INIT;
    o.nps_item = "CUSL1";
    assert_same_csi(db, model, &o, 0);
    custscore_survey_model_free(model);
    custscore_close(db);
}
END_TEST

START_TEST(test_same_errors)
{
    custscore *db = survey_store();
    custscore_survey_model *model = ecsi();
    custscore_csi_options o = CUSTSCORE_CSI_OPTIONS_INIT;
    /* No answers in the period. */
    o.to = date("1990-01-01");
    assert_same_csi(db, model, &o, CUSTSCORE_ENOTFOUND);
    o.to = 0;
    /* An item nobody answered. */
    ck_assert_int_eq(
        custscore_survey_model_add_item(model, model->constructs[0].name, "IMAG9", 1, 10, 0), 0);
    assert_same_csi(db, model, &o, CUSTSCORE_EINVAL);
    custscore_survey_model_free(model);
    custscore_close(db);
    /* No answers at all. */
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    model = ecsi();
    assert_same_csi(db, model, &o, CUSTSCORE_ENOTFOUND);
    custscore_survey_model_free(model);
    custscore_close(db);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("report_csi");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_same_as_csi_compute);
    tcase_add_test(tc, test_same_errors);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
