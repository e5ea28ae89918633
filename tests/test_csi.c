/*
 * test_csi.c: survey models (templates, text format, item mapping), the
 * satisfaction index against plspm's rescaled index on the ECSI data
 * (../shared/data/ecsi, read in place), hand-made cases (reverse-coded
 * items, missing answers, few respondents, negative weights, Mode B,
 * non-convergence), the store (responses, quarters, attributes, saving,
 * per-customer satisfaction), NPS, SERVQUAL and Kano.
 */
#include "custscore.h"
#include "csi_testdata.h"
#include "testutil.h"

#include <math.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ck_near(got, want, tol)                                                                    \
    ck_assert_msg(fabs((got) - (want)) <= (tol), "%s = %.10g, expected %.10g (tolerance %g)",      \
                  #got, (double)(got), (double)(want), (double)(tol))

static td_table load_shared(const char *relative, bool *ok)
{
    td_table t;
    memset(&t, 0, sizeof t);
    char rel[512];
    snprintf(rel, sizeof rel, "ecsi/%s", relative);
    char *path = tu_shared_path(rel);
    *ok = path != NULL;
    if (!path) {
        tu_skip(rel);
        return t;
    }
    ck_assert_int_eq(td_read(path, &t), 0);
    free(path);
    return t;
}

static custscore_survey_model *template_model(const char *name)
{
    custscore_survey_model *m = NULL;
    ck_assert_int_eq(custscore_survey_model_template(name, &m), 0);
    return m;
}

static custscore_csi_result *csi_fit(const custscore_survey_model *m, const td_table *t,
                                     const double *x, const custscore_csi_options *o)
{
    custscore_csi_result *r = NULL;
    char err[512];
    int rc = custscore_csi_fit(m, x, t->rows, t->cols, (const char *const *)t->head, NULL, o, &r,
                               err, sizeof err);
    ck_assert_msg(rc == 0, "custscore_csi_fit: %d: %s", rc, err);
    return r;
}

static size_t construct_index(const custscore_csi_result *r, const char *name)
{
    for (size_t c = 0; c < r->n_constructs; c++)
        if (strcmp(r->construct_names[c], name) == 0)
            return c;
    ck_abort_msg("no construct %s", name);
    return 0;
}

static size_t item_index(const custscore_csi_result *r, const char *name)
{
    for (size_t i = 0; i < r->n_items; i++)
        if (strcmp(r->item_names[i], name) == 0)
            return i;
    ck_abort_msg("no item %s", name);
    return 0;
}

/* ------------------------------------------------------------------ */
/* The index on the ECSI data */

static const char *const ecsi_names[7] = {"Image",        "Expectation", "Quality", "Value",
                                          "Satisfaction", "Complaints",  "Loyalty"};
static const char *const plspm_names[7] = {"IMAG", "EXPE", "QUAL", "VAL", "SAT", "COMP", "LOY"};

/* plspm's rescaled index (centroid scheme, centred-only data) on mobi. */
START_TEST(mobi_index_matches_plspm)
{
    bool ok1, ok2, ok3;
    td_table data = load_shared("seminr_mobi.csv", &ok1);
    td_table variants = load_shared("reference/csi_index_variants_mobi_satisfaction.csv", &ok2);
    td_table idx =
        load_shared("reference/plspm_mobi_ecsi7_centroid_modeA_unscaled/index_0_100.csv", &ok3);
    if (!ok1 || !ok2 || !ok3)
        goto out;
    double *x = td_matrix(&data);
    custscore_survey_model *m = template_model("ecsi");
    custscore_csi_result *r = csi_fit(m, &data, x, NULL);
    const custscore_csi_estimate *e = &r->overall;
    /* The last variant row is plspm's rescale() with scaled = FALSE. */
    double want = td_num(&variants, variants.rows - 1, (size_t)td_col(&variants, "index_0_100"));
    ck_assert_msg(strstr(variants.cell[(variants.rows - 1) * variants.cols + 2], "scaled=FALSE"),
                  "unexpected variants file layout");
    ck_near(e->index, want, 0.01);
    ck_near(e->index, 71.248, 0.01);
    ck_assert_int_eq(e->status, CUSTSCORE_CSI_OK);
    ck_assert_str_eq(e->message, "");
    ck_assert_uint_eq(e->n, 250);
    ck_assert_int_eq(e->converged, 1);
    ck_assert_str_eq(r->construct_names[r->target], "Satisfaction");
    for (int c = 0; c < 7; c++)
        ck_near(e->construct_index[construct_index(r, ecsi_names[c])],
                td_get(&idx, plspm_names[c], "index_0_100"), 0.01);
    /* The weights are the normalised raw weights of the variants file. */
    size_t last = variants.rows - 1;
    ck_near(e->weights[item_index(r, "CUSA1")], td_num(&variants, last, 4), 1e-4);
    ck_near(e->weights[item_index(r, "CUSA2")], td_num(&variants, last, 5), 1e-4);
    ck_near(e->weights[item_index(r, "CUSA3")], td_num(&variants, last, 6), 1e-4);
    /* Equal weights: the plain mean of the item means (the first variant). */
    ck_assert_int_eq(td_col(&variants, "w1"), 4);
    ck_assert_msg(strstr(variants.cell[2], "equal weights"), "unexpected variants file layout");
    ck_near(e->index_equal, td_num(&variants, 0, 7), 1e-6);
    double sum = 0;
    for (size_t i = 0; i < r->n_items; i++)
        if (r->item_construct[i] == (int)r->target)
            sum += e->weights[i];
    ck_near(sum, 1.0, 1e-12);
    /* Importance-performance: drivers of satisfaction, high importance first,
     * each group by performance ascending; importance = total effect. */
    ck_assert_uint_eq(e->n_drivers, 4);
    for (size_t i = 0; i < e->n_drivers; i++) {
        const custscore_csi_driver *d = &e->drivers[i];
        ck_near(d->importance, e->total_effects[d->construct * r->n_constructs + r->target], 1e-12);
        ck_near(d->performance, e->construct_index[d->construct], 1e-12);
        if (i > 0) {
            const custscore_csi_driver *p = &e->drivers[i - 1];
            ck_assert(p->high_importance >= d->high_importance);
            if (p->high_importance == d->high_importance)
                ck_assert(p->performance <= d->performance);
        }
    }
    ck_assert_int_eq(e->drivers[0].high_importance, 1);
    custscore_csi_result_free(r);
    custscore_survey_model_free(m);
    free(x);
out:
    td_free(&data);
    td_free(&variants);
    td_free(&idx);
}
END_TEST

/* The 0-100 copy of the same data, mapped with --items: the same index. */
START_TEST(mobile_0_100_copy_same_index)
{
    bool ok1, ok2;
    td_table data = load_shared("plspm_mobile.csv", &ok1);
    td_table variants = load_shared("reference/csi_index_variants_mobi_satisfaction.csv", &ok2);
    if (!ok1 || !ok2)
        goto out;
    double *x = td_matrix(&data);
    custscore_survey_model *m = template_model("ecsi");
    char err[256];
    ck_assert_int_eq(custscore_survey_model_map_items(
                         m,
                         "Image=ima1+ima2+ima3+ima4+ima5, Expectation=exp1+exp2+exp3,"
                         "Quality=qua1+qua2+qua3+qua4+qua5+qua6+qua7,Value=val1+val2,"
                         "Satisfaction=sat1+sat2+sat3,Complaints=comp,Loyalty=loy1+loy2+loy3",
                         err, sizeof err),
                     0);
    ck_assert_int_eq(custscore_survey_model_set_scale(m, NULL, 0, 100), 0);
    custscore_csi_result *r = csi_fit(m, &data, x, NULL);
    double want = td_num(&variants, variants.rows - 1, (size_t)td_col(&variants, "index_0_100"));
    ck_near(r->overall.index, want, 0.01);
    custscore_csi_result_free(r);
    custscore_survey_model_free(m);
    free(x);
out:
    td_free(&data);
    td_free(&variants);
}
END_TEST

/* The bank survey with the CCSI template (same structure as plspm's bank
 * model), items mapped, scale 0..10: plspm's construct indices. */
START_TEST(bank_ccsi_template)
{
    bool ok1, ok2;
    td_table data = load_shared("plspm_satisfaction.csv", &ok1);
    td_table idx =
        load_shared("reference/plspm_satisfaction_centroid_modeA_unscaled/index_0_100.csv", &ok2);
    if (!ok1 || !ok2)
        goto out;
    double *x = td_matrix(&data);
    for (size_t r = 0; r < data.rows; r++) /* gender: text, not a model item */
        x[r * data.cols + data.cols - 1] = NAN;
    custscore_survey_model *m = template_model("ccsi");
    char err[256];
    int rc = custscore_survey_model_map_items(
        m,
        "BrandImage=imag1+imag2+imag3+imag4+imag5,ExpectedQuality=expe1+expe2+expe3+expe4+expe5,"
        "Quality=qual1+qual2+qual3+qual4+qual5,Value=val1+val2+val3+val4,"
        "Satisfaction=sat1+sat2+sat3+sat4,Loyalty=loy1+loy2+loy3+loy4",
        err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_int_eq(custscore_survey_model_set_scale(m, NULL, 0, 10), 0);
    custscore_csi_result *r = csi_fit(m, &data, x, NULL);
    static const char *const ours[6] = {"BrandImage", "ExpectedQuality", "Quality",
                                        "Value",      "Satisfaction",    "Loyalty"};
    static const char *const theirs[6] = {"IMAG", "EXPE", "QUAL", "VAL", "SAT", "LOY"};
    for (int c = 0; c < 6; c++)
        ck_near(r->overall.construct_index[construct_index(r, ours[c])],
                td_get(&idx, theirs[c], "index_0_100"), 0.01);
    custscore_csi_result_free(r);
    custscore_survey_model_free(m);
    free(x);
out:
    td_free(&data);
    td_free(&idx);
}
END_TEST

START_TEST(bootstrap_interval)
{
    bool ok;
    td_table data = load_shared("seminr_mobi.csv", &ok);
    if (!ok)
        return;
    double *x = td_matrix(&data);
    custscore_survey_model *m = template_model("ecsi");
    custscore_csi_options o = CUSTSCORE_CSI_OPTIONS_INIT;
    o.bootstrap = tu_under_valgrind() ? 30 : 300;
    o.seed = 7;
    custscore_csi_result *a = csi_fit(m, &data, x, &o);
    custscore_csi_result *b = csi_fit(m, &data, x, &o);
    const custscore_csi_estimate *e = &a->overall;
    ck_assert(e->index_low < e->index && e->index < e->index_high);
    ck_assert(e->index_se > 0.3 && e->index_se < 3);
    ck_assert(e->index_low == b->overall.index_low && e->index_high == b->overall.index_high);
    ck_assert_ptr_nonnull(e->paths_se);
    ck_assert_ptr_nonnull(e->outer_weights_se);
    ck_near(e->construct_index_low[a->target], e->index_low, 0);
    custscore_csi_result_free(a);
    custscore_csi_result_free(b);
    custscore_survey_model_free(m);
    free(x);
    td_free(&data);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Hand-made data */

typedef struct trng {
    uint64_t s;
} trng;

static double trng_uniform(trng *g)
{
    g->s = g->s * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((double)(g->s >> 11) + 0.5) / 9007199254740992.0;
}

static double trng_normal(trng *g)
{
    double u = trng_uniform(g), v = trng_uniform(g);
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* A small survey on 1..7: Quality (q1..q3) -> Satisfaction (s1..s3), plus a
 * 0..10 recommend item. Columns: q1 q2 q3 s1 s2 s3 rec. */
static const char *const small_cols[7] = {"q1", "q2", "q3", "s1", "s2", "s3", "rec"};

static double likert(double v, double lo, double hi)
{
    v = round(v);
    return v < lo ? lo : v > hi ? hi : v;
}

static double *small_survey(size_t n, uint64_t seed)
{
    trng g = {seed};
    double *x = malloc(n * 7 * sizeof(double));
    for (size_t r = 0; r < n; r++) {
        double q = trng_normal(&g), s = 0.7 * q + 0.6 * trng_normal(&g);
        for (int j = 0; j < 3; j++)
            x[r * 7 + j] = likert(4.5 + 1.2 * q + 0.7 * trng_normal(&g), 1, 7);
        for (int j = 3; j < 6; j++)
            x[r * 7 + j] = likert(5 + 1.1 * s + 0.6 * trng_normal(&g), 1, 7);
        x[r * 7 + 6] = likert(7 + 2 * s + trng_normal(&g), 0, 10);
    }
    return x;
}

static custscore_survey_model *small_model(const char *extra)
{
    char text[1024];
    snprintf(text, sizeof text,
             "model small\n"
             "scale 1..7\n"
             "construct Quality: q1 q2 q3\n"
             "construct Satisfaction: s1 s2 s3\n"
             "path Quality -> Satisfaction\n"
             "nps rec\n"
             "%s",
             extra ? extra : "");
    custscore_survey_model *m = NULL;
    char err[256];
    int rc = custscore_survey_model_parse(text, strlen(text), "small", &m, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    return m;
}

static custscore_csi_result *small_fit(const custscore_survey_model *m, const double *x, size_t n,
                                       const custscore_csi_options *o, int want_rc)
{
    custscore_csi_result *r = NULL;
    char err[512];
    int rc = custscore_csi_fit(m, x, n, 7, small_cols, NULL, o, &r, err, sizeof err);
    ck_assert_msg(rc == want_rc, "custscore_csi_fit: %d: %s", rc, err);
    return r;
}

/* A reverse-coded item gives the same index once marked 'reverse'; not
 * marked, it gets a negative weight and the index is refused. */
START_TEST(reverse_coded_item)
{
    size_t n = 200;
    double *x = small_survey(n, 1);
    custscore_survey_model *m = small_model(NULL);
    custscore_csi_result *plain = small_fit(m, x, n, NULL, 0);
    ck_assert_int_eq(plain->overall.status, CUSTSCORE_CSI_OK);
    for (size_t r = 0; r < n; r++)
        x[r * 7 + 4] = 8 - x[r * 7 + 4]; /* s2 asked the other way round */
    custscore_csi_result *neg = small_fit(m, x, n, NULL, 0);
    ck_assert_int_eq(neg->overall.status, CUSTSCORE_CSI_NEGATIVE_WEIGHT);
    ck_assert(isnan(neg->overall.index));
    ck_assert(isnan(neg->overall.weights[4]));
    ck_assert_msg(strstr(neg->overall.message, "item s2 has a negative weight") &&
                      strstr(neg->overall.message, "reverse"),
                  "%s", neg->overall.message);
    ck_assert(!isnan(neg->overall.index_equal));
    custscore_survey_model_free(m);
    m = small_model(NULL);
    char err[256];
    ck_assert_int_eq(
        custscore_survey_model_map_items(m, "Satisfaction=s1+s2(reverse)+s3", err, sizeof err), 0);
    custscore_csi_result *rev = small_fit(m, x, n, NULL, 0);
    ck_assert_int_eq(rev->overall.status, CUSTSCORE_CSI_OK);
    ck_near(rev->overall.index, plain->overall.index, 1e-9);
    for (size_t i = 0; i < 6; i++)
        ck_near(rev->overall.weights[i], plain->overall.weights[i], 1e-9);
    custscore_csi_result_free(plain);
    custscore_csi_result_free(neg);
    custscore_csi_result_free(rev);
    custscore_survey_model_free(m);
    free(x);
}
END_TEST

/* Missing answers: mean replacement keeps every respondent; listwise
 * deletion keeps the complete ones and equals a fit on those rows. */
START_TEST(missing_answers)
{
    size_t n = 200;
    double *x = small_survey(n, 2);
    for (size_t r = 0; r < n; r += 5)
        x[r * 7 + (r / 5) % 6] = NAN;
    for (int j = 0; j < 6; j++) /* row 3 answered nothing but the NPS item */
        x[3 * 7 + j] = NAN;
    custscore_survey_model *m = small_model(NULL);
    custscore_csi_result *mean = small_fit(m, x, n, NULL, 0);
    ck_assert_uint_eq(mean->overall.n, n - 1);
    ck_assert_uint_eq(mean->overall.n_dropped, 1);
    ck_assert_uint_eq(mean->overall.nps.n, n);
    custscore_csi_options o = CUSTSCORE_CSI_OPTIONS_INIT;
    o.missing = CUSTSCORE_PLS_MISSING_LISTWISE;
    custscore_csi_result *list = small_fit(m, x, n, &o, 0);
    double *complete = malloc(n * 7 * sizeof(double));
    size_t nc = 0;
    for (size_t r = 0; r < n; r++) {
        bool ok = true;
        for (int j = 0; j < 6; j++)
            ok = ok && !isnan(x[r * 7 + j]);
        if (ok)
            memcpy(complete + 7 * nc++, x + r * 7, 7 * sizeof(double));
    }
    ck_assert_uint_eq(list->overall.n, nc);
    ck_assert_uint_eq(list->overall.n_dropped, n - nc);
    custscore_csi_result *sub = small_fit(m, complete, nc, NULL, 0);
    ck_near(list->overall.index, sub->overall.index, 1e-9);
    ck_assert(fabs(list->overall.index - mean->overall.index) > 1e-6);
    custscore_csi_result_free(mean);
    custscore_csi_result_free(list);
    custscore_csi_result_free(sub);
    custscore_survey_model_free(m);
    free(x);
    free(complete);
}
END_TEST

/* Below the minimum number of respondents: fixed weights, said so. */
START_TEST(few_respondents_fixed_weights)
{
    size_t n = 20;
    double *x = small_survey(n, 3);
    custscore_survey_model *m = small_model(NULL);
    custscore_csi_result *r = small_fit(m, x, n, NULL, 0);
    const custscore_csi_estimate *e = &r->overall;
    ck_assert_int_eq(e->status, CUSTSCORE_CSI_FIXED_WEIGHTS);
    ck_assert_msg(strstr(e->message, "only 20 respondents") && strstr(e->message, "30"), "%s",
                  e->message);
    double want = 0;
    for (size_t row = 0; row < n; row++)
        for (int j = 3; j < 6; j++)
            want += (x[row * 7 + j] - 1) / 6 * 100 / (3.0 * (double)n);
    ck_near(e->index, want, 1e-9);
    ck_near(e->index_equal, want, 1e-9);
    ck_near(e->weights[3], 1.0 / 3, 1e-12);
    ck_assert(isnan(e->paths[1]));
    ck_assert_uint_eq(e->n_drivers, 0);
    custscore_csi_result_free(r);
    /* Given fixed weights are used, normalised. */
    custscore_survey_model_free(m);
    m = NULL;
    const char *text = "model w\nscale 1..7\nconstruct Quality: q1 q2 q3\n"
                       "construct Satisfaction: s1(weight=2) s2 s3(weight=1)\n"
                       "path Quality -> Satisfaction\ntarget Satisfaction\n";
    char err[256];
    ck_assert_int_eq(custscore_survey_model_parse(text, strlen(text), NULL, &m, err, sizeof err),
                     0);
    r = small_fit(m, x, n, NULL, 0);
    ck_near(r->overall.weights[3], 0.5, 1e-12);
    ck_near(r->overall.weights[4], 0.25, 1e-12);
    custscore_csi_result_free(r);
    /* A smaller minimum lets PLS run. */
    custscore_csi_options o = CUSTSCORE_CSI_OPTIONS_INIT;
    o.min_respondents = 10;
    r = small_fit(m, x, n, &o, 0);
    ck_assert_int_eq(r->overall.status, CUSTSCORE_CSI_OK);
    custscore_csi_result_free(r);
    custscore_survey_model_free(m);
    free(x);
}
END_TEST

START_TEST(non_convergence_reported)
{
    size_t n = 200;
    double *x = small_survey(n, 4);
    custscore_survey_model *m = small_model(NULL);
    custscore_csi_options o = CUSTSCORE_CSI_OPTIONS_INIT;
    o.max_iterations = 1;
    o.tolerance = 1e-15;
    custscore_csi_result *r = small_fit(m, x, n, &o, CUSTSCORE_ENOCONV);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->overall.status, CUSTSCORE_CSI_NO_CONVERGENCE);
    ck_assert(isnan(r->overall.index));
    ck_assert_msg(strstr(r->overall.message, "did not converge"), "%s", r->overall.message);
    custscore_csi_result_free(r);
    custscore_survey_model_free(m);
    free(x);
}
END_TEST

/* Mode B construct and a single-item construct in a survey model. */
START_TEST(mode_b_and_single_item)
{
    size_t n = 200;
    double *x = small_survey(n, 5);
    const char *text = "model mb\nscale 1..7\n"
                       "construct Quality formative: q1 q2 q3\n"
                       "construct Satisfaction mode A: s1 s2 s3\n"
                       "construct Recommend: rec(0..10)\n"
                       "path Quality -> Satisfaction\npath Satisfaction -> Recommend\n";
    custscore_survey_model *m = NULL;
    char err[256];
    ck_assert_int_eq(custscore_survey_model_parse(text, strlen(text), NULL, &m, err, sizeof err),
                     0);
    custscore_csi_result *r = small_fit(m, x, n, NULL, 0);
    const custscore_csi_estimate *e = &r->overall;
    ck_assert_int_eq(e->status, CUSTSCORE_CSI_OK);
    ck_assert(isnan(e->alpha[0]));
    ck_near(e->weights[6], 1.0, 1e-12);
    ck_near(e->loadings[6], 1.0, 1e-9);
    double mean = 0;
    for (size_t row = 0; row < n; row++)
        mean += x[row * 7 + 6] * 10 / (double)n;
    ck_near(e->construct_index[2], mean, 1e-9);
    custscore_csi_result_free(r);
    custscore_survey_model_free(m);
    free(x);
}
END_TEST

START_TEST(bad_input_to_fit)
{
    size_t n = 50;
    double *x = small_survey(n, 6);
    custscore_survey_model *m = small_model(NULL);
    custscore_csi_result *r = NULL;
    char err[512];
    x[7 * 7 + 2] = 9; /* q3 on 1..7 */
    ck_assert_int_eq(custscore_csi_fit(m, x, n, 7, small_cols, NULL, NULL, &r, err, sizeof err),
                     CUSTSCORE_EINVAL);
    ck_assert_ptr_null(r);
    ck_assert_msg(strstr(err, "row 8, column q3: answer 9 is outside the item's scale 1..7"), "%s",
                  err);
    x[7 * 7 + 2] = 3;
    const char *cols[7] = {"q1", "q2", "Q3", "s1", "s2", "s3", "rec"};
    ck_assert_int_eq(custscore_csi_fit(m, x, n, 7, cols, NULL, NULL, &r, err, sizeof err),
                     CUSTSCORE_EINVAL);
    ck_assert_msg(strstr(err, "item q3 (construct Quality) is not among the 7 columns"), "%s", err);
    x[9 * 7 + 6] = 11;
    ck_assert_int_eq(custscore_csi_fit(m, x, n, 7, small_cols, NULL, NULL, &r, err, sizeof err),
                     CUSTSCORE_EINVAL);
    ck_assert_msg(strstr(err, "NPS item rec"), "%s", err);
    custscore_survey_model *empty = NULL;
    ck_assert_int_eq(custscore_survey_model_new("empty", &empty), 0);
    ck_assert_int_eq(custscore_csi_fit(empty, x, n, 7, small_cols, NULL, NULL, &r, err, sizeof err),
                     CUSTSCORE_EINVAL);
    ck_assert_msg(strstr(err, "at least 2"), "%s", err);
    custscore_survey_model_free(empty);
    custscore_survey_model_free(m);
    custscore_csi_result_free(NULL);
    free(x);
}
END_TEST

/* Groups from row labels: each group its own estimate, in label order. */
START_TEST(groups_from_labels)
{
    size_t n = 300;
    double *x = small_survey(n, 8);
    const char **labels = malloc(n * sizeof(char *));
    for (size_t r = 0; r < n; r++)
        labels[r] = r % 3 == 0 ? "b" : r % 3 == 1 ? "a" : NULL;
    custscore_survey_model *m = small_model(NULL);
    custscore_csi_result *r = NULL;
    char err[256];
    ck_assert_int_eq(custscore_csi_fit(m, x, n, 7, small_cols, labels, NULL, &r, err, sizeof err),
                     0);
    ck_assert_uint_eq(r->n_groups, 2);
    ck_assert_str_eq(r->groups[0].group, "a");
    ck_assert_str_eq(r->groups[1].group, "b");
    ck_assert_uint_eq(r->groups[0].n, 100);
    ck_assert_uint_eq(r->overall.n, 300);
    /* Group a equals a fit on its rows alone. */
    double *sub = malloc(100 * 7 * sizeof(double));
    for (size_t i = 0; i < 100; i++)
        memcpy(sub + i * 7, x + (3 * i + 1) * 7, 7 * sizeof(double));
    custscore_csi_result *a = small_fit(m, sub, 100, NULL, 0);
    ck_near(r->groups[0].index, a->overall.index, 1e-9);
    ck_near(r->groups[0].nps.nps, a->overall.nps.nps, 1e-12);
    custscore_csi_result_free(a);
    custscore_csi_result_free(r);
    custscore_survey_model_free(m);
    free(sub);
    free(labels);
    free(x);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Survey models: templates, text format, mapping */

START_TEST(templates)
{
    static const struct {
        const char *name;
        size_t constructs, items, paths;
    } t[] = {{"acsi", 6, 14, 9},
             {"ECSI", 7, 24, 12},
             {"ccsi", 6, 16, 10},
             {"scsb", 5, 10, 6},
             {"five", 6, 18, 5}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        custscore_survey_model *m = template_model(t[i].name);
        size_t need = 0;
        ck_assert_int_eq(custscore_survey_model_format(m, NULL, 0, &need), CUSTSCORE_ERANGE);
        char *text = malloc(need + 1);
        ck_assert_int_eq(custscore_survey_model_format(m, text, need + 1, NULL), 0);
        /* Count the parts in the text. */
        size_t constructs = 0, items = 0, paths = 0;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
            if (strncmp(line, "construct ", 10) == 0) {
                constructs++;
                for (char *p = strchr(line, ':') + 1; *p; p++)
                    items += *p == ' ';
            } else if (strncmp(line, "path ", 5) == 0) {
                for (char *p = strstr(line, "->") + 2; *p; p++)
                    paths += *p == ' ';
            }
        }
        ck_assert_uint_eq(constructs, t[i].constructs);
        ck_assert_uint_eq(items, t[i].items);
        ck_assert_uint_eq(paths, t[i].paths);
        free(text);
        custscore_survey_model_free(m);
    }
    custscore_survey_model *m = (custscore_survey_model *)1;
    ck_assert_int_eq(custscore_survey_model_template("nope", &m), CUSTSCORE_ENOTFOUND);
    ck_assert_ptr_null(m);
    m = template_model("ecsi");
    ck_assert_str_eq(custscore_survey_model_name(m), "ecsi");
    custscore_survey_model_free(m);
}
END_TEST

START_TEST(text_round_trip)
{
    const char *text = "# a model\n"
                       "model \"my model\"   # quoted name\n"
                       "scale 1..5\n"
                       "construct Quality mode A: q1 q2(1..10) \"q 3\"(reverse, weight=2)\n"
                       "construct Price formative: p1, p2\n"
                       "construct Quality: q4\r\n"
                       "construct Sat: s1 s2 s3(0..10, reversed)\n"
                       "path Quality -> Sat\n"
                       "path Price -> Sat\n"
                       "target Sat\n"
                       "nps rec\n";
    custscore_survey_model *m = NULL;
    char err[256];
    int rc = custscore_survey_model_parse(text, strlen(text), "t", &m, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_str_eq(custscore_survey_model_name(m), "my model");
    char a[2048], b[2048];
    ck_assert_int_eq(custscore_survey_model_format(m, a, sizeof a, NULL), 0);
    ck_assert_msg(strstr(a, "construct Quality mode A: q1 q2(1..10) \"q 3\"(reverse, weight=2) q4"),
                  "%s", a);
    ck_assert_msg(strstr(a, "construct Price mode B: p1 p2\n"), "%s", a);
    ck_assert_msg(strstr(a, "s3(0..10, reverse)"), "%s", a);
    custscore_survey_model *m2 = NULL;
    ck_assert_int_eq(custscore_survey_model_parse(a, strlen(a), "a", &m2, err, sizeof err), 0);
    ck_assert_int_eq(custscore_survey_model_format(m2, b, sizeof b, NULL), 0);
    ck_assert_str_eq(a, b);
    custscore_survey_model_free(m);
    custscore_survey_model_free(m2);
}
END_TEST

static void parse_fails(const char *text, const char *want)
{
    custscore_survey_model *m = (custscore_survey_model *)1;
    char err[512];
    int rc = custscore_survey_model_parse(text, strlen(text), "m.txt", &m, err, sizeof err);
    ck_assert_int_eq(rc, CUSTSCORE_EINVAL);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(err, want) != NULL, "error '%s' lacks '%s'", err, want);
}

START_TEST(text_errors_with_line_and_column)
{
    const char *head = "model m\nconstruct A: a1 a2\nconstruct B: b1\n";
    char text[512];
    parse_fails("model m\nconstruct A: a1\nconstrut B: b1\n", "m.txt:3:1: unknown statement");
    snprintf(text, sizeof text, "%spath A -> C\n", head);
    parse_fails(text, "m.txt:4:11: unknown construct C");
    snprintf(text, sizeof text, "%spath A B\n", head);
    parse_fails(text, "m.txt:4:8: expected '->'");
    snprintf(text, sizeof text, "%spath A -> B\npath B -> A\n", head);
    parse_fails(text, "m.txt:5:11: B -> A: the path closes a cycle");
    snprintf(text, sizeof text, "%spath A -> A\n", head);
    parse_fails(text, "m.txt:4:11: A -> A: a path from a construct to itself");
    parse_fails("model m\nscale 5..1\n", "m.txt:2:7: scale 5..1: the minimum must be below");
    parse_fails("model m\nscale 1-5\n", "m.txt:2:8: expected '..'");
    parse_fails("model m\nconstruct A: a1 \"a 2\n",
                "m.txt:2:17: unterminated quote (in an item name)");
    parse_fails("model m\nconstruct A: a1\nconstruct B: a1\n",
                "m.txt:3:14: item a1 already belongs to construct A");
    parse_fails("model m\nconstruct A: a1(1..5, sideways)\n", "m.txt:2:23: unknown item modifier");
    parse_fails("model m\nconstruct A: a1(weight=-1)\n",
                "m.txt:2:17: weight -1: weights must not be negative");
    parse_fails("model m\nconstruct A mode C: a1\n", "m.txt:2:18: expected mode A or B");
    parse_fails("model m\nconstruct A mode A: a1\nconstruct A mode B: a2\n",
                "m.txt:3:11: construct A was declared with mode A before");
    parse_fails("model m\nmodel n\n", "m.txt:2:1: a second 'model' line");
    parse_fails("model m\ntarget X\n", "m.txt:2:8: unknown construct X");
    parse_fails("model m\nconstruct A: a1\nconstruct B: b1\npath A -> B, !\n",
                "m.txt:4:14: expected a construct name, found '!'");
    parse_fails("model m\nconstruct A: a1\nconstruct B: b1\npath A -> B extra\n",
                "m.txt:4:13: unknown construct extra");
    parse_fails("model m\nconstruct A: a1\nconstruct B: b1\n",
                "incomplete model: model m: construct A has no path");
    parse_fails("model m\nconstruct A: a1\nconstruct B: b1\npath A -> B\n", "no target construct");
    parse_fails("model m\nconstruct A: a1\nconstruct B\npath A -> B\ntarget B\n",
                "construct B has no items");
    parse_fails("model m\nconstruct Ä: ä1 \"b\n", "m.txt:2:17: unterminated");
    parse_fails("model m\x01\n", "m.txt:1:8: control character");
    /* A satisfaction-like name is the target when no target line is given. */
    const char *t2 = "model m\nconstruct Q: q1\nconstruct SAT: s1\npath Q -> SAT\n";
    custscore_survey_model *m = NULL;
    char err[256];
    ck_assert_int_eq(custscore_survey_model_parse(t2, strlen(t2), NULL, &m, err, sizeof err), 0);
    custscore_survey_model_free(m);
}
END_TEST

START_TEST(item_mapping)
{
    custscore_survey_model *m = template_model("ecsi");
    char err[256];
    ck_assert_int_eq(custscore_survey_model_map_items(m, "Satisfaction=", err, sizeof err),
                     CUSTSCORE_EINVAL);
    ck_assert_msg(strstr(err, "mapping:1:14: expected an item name"), "%s", err);
    ck_assert_int_eq(custscore_survey_model_map_items(m, "Satisfy=a", err, sizeof err),
                     CUSTSCORE_EINVAL);
    ck_assert_msg(strstr(err, "mapping:1:1: unknown construct Satisfy"), "%s", err);
    ck_assert_int_eq(custscore_survey_model_map_items(m, "Value=CUSA1", err, sizeof err),
                     CUSTSCORE_EINVAL);
    ck_assert_msg(strstr(err, "item CUSA1 already belongs to construct Satisfaction"), "%s", err);
    ck_assert_int_eq(custscore_survey_model_map_items(m, "Value=a;b", err, sizeof err),
                     CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_survey_model_map_items(m, "Value=a,Value=b", err, sizeof err),
                     CUSTSCORE_EINVAL);
    ck_assert_msg(strstr(err, "mapped twice"), "%s", err);
    /* A failed mapping left the model as it was; a good one replaces items. */
    char text[4096];
    ck_assert_int_eq(custscore_survey_model_format(m, text, sizeof text, NULL), 0);
    ck_assert_msg(strstr(text, "construct Value mode A: PERV1 PERV2\n"), "%s", text);
    ck_assert_int_eq(
        custscore_survey_model_map_items(
            m, "Value = price_ok + \"value for money\"(0..10, reverse)", err, sizeof err),
        0);
    ck_assert_int_eq(custscore_survey_model_format(m, text, sizeof text, NULL), 0);
    ck_assert_msg(strstr(text, "construct Value mode A: price_ok \"value for money\"(0..10, "
                               "reverse)\n"),
                  "%s", text);
    custscore_survey_model_free(m);
}
END_TEST

START_TEST(building_through_the_api)
{
    custscore_survey_model *m = NULL;
    ck_assert_int_eq(custscore_survey_model_new("", &m), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_survey_model_new("api", &m), 0);
    ck_assert_int_eq(custscore_survey_model_add_construct(m, "Q", CUSTSCORE_PLS_MODE_A), 0);
    ck_assert_int_eq(custscore_survey_model_add_construct(m, "Q", CUSTSCORE_PLS_MODE_A),
                     CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_survey_model_add_construct(m, "S", CUSTSCORE_PLS_MODE_A), 0);
    ck_assert_int_eq(custscore_survey_model_add_item(m, "X", "q1", 1, 5, 0), CUSTSCORE_ENOTFOUND);
    ck_assert_int_eq(custscore_survey_model_add_item(m, "Q", "q1", 5, 1, 0), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_survey_model_add_item(m, "Q", "q1", 1, 5, 0), 0);
    ck_assert_int_eq(custscore_survey_model_add_item(m, "S", "q1", 1, 5, 0), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_survey_model_add_item(m, "S", "s1", 1, 5, 1), 0);
    ck_assert_int_eq(custscore_survey_model_add_path(m, "Q", "S"), 0);
    ck_assert_int_eq(custscore_survey_model_add_path(m, "Q", "S"), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_survey_model_add_path(m, "S", "Q"), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_survey_model_add_path(m, "S", "Z"), CUSTSCORE_ENOTFOUND);
    ck_assert_int_eq(custscore_survey_model_set_target(m, "Z"), CUSTSCORE_ENOTFOUND);
    ck_assert_int_eq(custscore_survey_model_set_target(m, "S"), 0);
    ck_assert_int_eq(custscore_survey_model_set_scale(m, "nope", 0, 1), CUSTSCORE_ENOTFOUND);
    ck_assert_int_eq(custscore_survey_model_set_scale(m, "q1", 0, 10), 0);
    ck_assert_int_eq(custscore_survey_model_set_nps_item(m, "rec"), 0);
    char text[1024];
    ck_assert_int_eq(custscore_survey_model_format(m, text, sizeof text, NULL), 0);
    ck_assert_str_eq(text, "# custscore survey model (docs/survey-model-format.md)\n"
                           "model api\nscale 1..10\n"
                           "construct Q mode A: q1(0..10)\n"
                           "construct S mode A: s1(1..5, reverse)\n"
                           "path Q -> S\ntarget S\nnps rec\n");
    char small[8];
    size_t need = 0;
    ck_assert_int_eq(custscore_survey_model_format(m, small, sizeof small, &need),
                     CUSTSCORE_ERANGE);
    ck_assert_uint_eq(need, strlen(text));
    ck_assert_str_eq(small, "# custs");
    custscore_survey_model_free(m);
    custscore_survey_model_free(NULL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* NPS, SERVQUAL, Kano */

START_TEST(nps)
{
    const double a[] = {10, 9, 8, 7, 6, 0, NAN, 9, 3, 10};
    custscore_nps_result r;
    ck_assert_int_eq(custscore_nps(a, 10, &r), 0);
    ck_assert_uint_eq(r.n, 9);
    ck_assert_uint_eq(r.promoters, 4);
    ck_assert_uint_eq(r.passives, 2);
    ck_assert_uint_eq(r.detractors, 3);
    double p = 4.0 / 9, d = 3.0 / 9;
    ck_near(r.nps, 100 * (p - d), 1e-12);
    /* Variance of the +1/0/-1 scores, divisor n. */
    double scores[9] = {1, 1, 0, 0, -1, -1, 1, -1, 1}, m = 0, v = 0;
    for (int i = 0; i < 9; i++)
        m += scores[i] / 9;
    for (int i = 0; i < 9; i++)
        v += (scores[i] - m) * (scores[i] - m) / 9;
    ck_near(r.se, 100 * sqrt(v / 9), 1e-12);
    ck_near(r.low, r.nps - 1.959963984540054 * r.se, 1e-9);
    ck_near(r.high, r.nps + 1.959963984540054 * r.se, 1e-9);
    const double all[] = {10, 10, 9};
    ck_assert_int_eq(custscore_nps(all, 3, &r), 0);
    ck_near(r.nps, 100, 0);
    ck_near(r.high, 100, 0);
    const double bad[] = {5, 11};
    ck_assert_int_eq(custscore_nps(bad, 2, &r), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_nps(NULL, 0, &r), 0);
    ck_assert(isnan(r.nps));
}
END_TEST

START_TEST(servqual)
{
    /* 3 respondents x 5 items, one per dimension; item 5 missing once. */
    const double e[] = {6, 7, 5, 6, 7, 6, 7, 5, 6, NAN, 6, 7, 5, 6, 7};
    const double p[] = {5, 7, 6, 4, 6, 6, 5, 6, 4, 5, 4, 6, 6, 4, 5};
    int dim[5] = {0, 1, 2, 3, 4};
    double importance[5] = {10, 30, 20, 20, 20};
    custscore_servqual_result *r = NULL;
    char err[256];
    ck_assert_int_eq(custscore_servqual(e, p, 3, 5, dim, importance, &r, err, sizeof err), 0);
    ck_near(r->gap[0], (5 + 6 + 4 - 18) / 3.0, 1e-12);
    ck_near(r->gap[2], (6 + 6 + 6 - 15) / 3.0, 1e-12);
    ck_assert_uint_eq(r->item_n[4], 2);
    ck_near(r->gap[4], (6 + 5) / 2.0 - 7, 1e-12);
    ck_assert_int_eq(r->weakest, CUSTSCORE_SERVQUAL_ASSURANCE);
    double overall = 0, weighted = 0;
    for (int d = 0; d < 5; d++) {
        ck_near(r->dimension_gap[d], r->gap[d], 1e-12);
        overall += r->gap[d] / 5;
        weighted += r->gap[d] * importance[d] / 100;
    }
    ck_near(r->overall_gap, overall, 1e-12);
    ck_near(r->weighted_gap, weighted, 1e-12);
    ck_assert_str_eq(r->item_names[1], "item 2");
    ck_assert_str_eq(custscore_servqual_dimension_name(r->weakest), "assurance");
    ck_assert_ptr_null(custscore_servqual_dimension_name(5));
    custscore_servqual_result_free(r);
    int bad_dim[5] = {0, 1, 2, 3, 9};
    ck_assert_int_eq(custscore_servqual(e, p, 3, 5, bad_dim, NULL, &r, err, sizeof err),
                     CUSTSCORE_EINVAL);
    ck_assert_msg(strstr(err, "item 5: dimension 9"), "%s", err);
    ck_assert_int_eq(custscore_servqual(e, p, 3, 5, dim, NULL, &r, err, sizeof err), 0);
    ck_assert(isnan(r->weighted_gap));
    custscore_servqual_result_free(r);
}
END_TEST

START_TEST(kano)
{
    /* The evaluation table, row = functional answer. */
    static const char table[5][6] = {"QAAAO", "RIIIM", "RIIIM", "RIIIM", "RRRRQ"};
    static const char letters[] = "AOMIRQ";
    for (int f = 1; f <= 5; f++)
        for (int d = 1; d <= 5; d++) {
            int c = custscore_kano_classify(f, d);
            ck_assert_int_ge(c, 0);
            ck_assert_int_eq(letters[c], table[f - 1][d - 1]);
        }
    ck_assert_int_eq(custscore_kano_classify(0, 3), -1);
    ck_assert_int_eq(custscore_kano_classify(3, 6), -1);
    ck_assert_str_eq(custscore_kano_category_name(CUSTSCORE_KANO_MUST_BE), "must-be");
    /* Feature 1: A A O M I (tie A/.. none); feature 2: M, O tie -> M. */
    const double fn[] = {1, 1, 1, 4, 1, 2, 3, 2, 2, NAN};
    const double dy[] = {3, 5, 4, 5, 5, 3, 5, 5, 3, 1};
    const char *names[2] = {"wifi", "parking"};
    custscore_kano_result *r = NULL;
    char err[256];
    ck_assert_int_eq(custscore_kano(fn, dy, 5, 2, names, &r, err, sizeof err), 0);
    /* rows: (1,3)A (1,5)O | (1,4)A (4,5)M | (1,5)O (2,3)I | (3,5)M (2,5)M | (2,3)I (NaN) */
    ck_assert_uint_eq(r->features[0].n, 5);
    ck_assert_uint_eq(r->features[0].count[CUSTSCORE_KANO_ATTRACTIVE], 2);
    ck_assert_uint_eq(r->features[0].count[CUSTSCORE_KANO_ONE_DIMENSIONAL], 1);
    ck_assert_uint_eq(r->features[0].count[CUSTSCORE_KANO_MUST_BE], 1);
    ck_assert_uint_eq(r->features[0].count[CUSTSCORE_KANO_INDIFFERENT], 1);
    ck_assert_int_eq(r->features[0].category, CUSTSCORE_KANO_ATTRACTIVE);
    ck_near(r->features[0].better, 3.0 / 5, 1e-12);
    ck_near(r->features[0].worse, -2.0 / 5, 1e-12);
    ck_assert_uint_eq(r->features[1].n, 4);
    ck_assert_uint_eq(r->features[1].count[CUSTSCORE_KANO_MUST_BE], 2);
    ck_assert_int_eq(r->features[1].category, CUSTSCORE_KANO_MUST_BE);
    ck_assert_str_eq(r->features[1].name, "parking");
    custscore_kano_result_free(r);
    /* Ties between one-dimensional and attractive: one-dimensional wins. */
    const double f2[] = {1, 1}, d2[] = {5, 3};
    ck_assert_int_eq(custscore_kano(f2, d2, 2, 1, NULL, &r, err, sizeof err), 0);
    ck_assert_int_eq(r->features[0].category, CUSTSCORE_KANO_ONE_DIMENSIONAL);
    ck_assert_str_eq(r->features[0].name, "feature 1");
    custscore_kano_result_free(r);
    const double f3[] = {1.5}, d3[] = {3};
    ck_assert_int_eq(custscore_kano(f3, d3, 1, 1, NULL, &r, err, sizeof err), CUSTSCORE_EINVAL);
    ck_assert_msg(strstr(err, "row 1, feature feature 1"), "%s", err);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The store */

static const int64_t day = 86400;
static const int64_t q1_2024 = 1704067200; /* 2024-01-01 */
static const int64_t q2_2024 = 1711929600; /* 2024-04-01 */

/* Put the mobi survey in a store: respondent i is customer "c<i>", answering
 * in 2024-Q1 (even i) or 2024-Q2 (odd i). */
static custscore *mobi_store(const td_table *data, const double *x)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    ck_assert_int_eq(custscore_begin(db), 0);
    for (size_t r = 0; r < data->rows; r++) {
        char key[32];
        snprintf(key, sizeof key, "c%03zu", r);
        int64_t ts = (r % 2 ? q2_2024 : q1_2024) + (int64_t)(r % 50) * day + 3600;
        for (size_t j = 0; j < data->cols; j++)
            ck_assert_int_eq(
                custscore_add_response(db, key, ts, data->head[j], x[r * data->cols + j]), 0);
        ck_assert_int_eq(custscore_set_attribute_text(db, key, "tier", r % 3 ? "small" : "key"), 0);
    }
    ck_assert_int_eq(custscore_commit(db), 0);
    return db;
}

typedef struct collected {
    size_t n;
    char key[300][16];
    int64_t ts[300];
    double sat[300];
} collected;

static int collect(const char *customer, int64_t ts, double satisfaction, void *payload)
{
    collected *c = payload;
    snprintf(c->key[c->n], sizeof c->key[0], "%s", customer);
    c->ts[c->n] = ts;
    c->sat[c->n] = satisfaction;
    c->n++;
    return 0;
}

START_TEST(store_index_by_quarter)
{
    bool ok;
    td_table data = load_shared("seminr_mobi.csv", &ok);
    if (!ok)
        return;
    double *x = td_matrix(&data);
    custscore *db = mobi_store(&data, x);
    custscore_survey_model *m = template_model("ecsi");
    custscore_csi_result *pure = csi_fit(m, &data, x, NULL);
    custscore_csi_options o = CUSTSCORE_CSI_OPTIONS_INIT;
    o.by = CUSTSCORE_CSI_BY_QUARTER;
    o.save = 1;
    custscore_csi_result *r = NULL;
    int rc = custscore_csi_compute(db, m, &o, &r);
    ck_assert_msg(rc == 0, "%d: %s", rc, custscore_errmsg(db));
    ck_near(r->overall.index, pure->overall.index, 1e-9);
    ck_assert_uint_eq(r->overall.n, 250);
    ck_assert_uint_eq(r->n_groups, 2);
    ck_assert_str_eq(r->groups[0].group, "2024-Q1");
    ck_assert_str_eq(r->groups[1].group, "2024-Q2");
    ck_assert_int_eq(r->groups[0].period_start, q1_2024);
    ck_assert_int_eq(r->groups[0].period_end, q2_2024);
    ck_assert_uint_eq(r->groups[0].n, 125);
    ck_assert_uint_eq(r->groups[1].n, 125);
    /* Period bounds: only Q2. */
    custscore_csi_options o2 = CUSTSCORE_CSI_OPTIONS_INIT;
    o2.from = q2_2024 + 12 * 3600; /* the day counts from its start */
    custscore_csi_result *q2 = NULL;
    ck_assert_int_eq(custscore_csi_compute(db, m, &o2, &q2), 0);
    ck_near(q2->overall.index, r->groups[1].index, 1e-9);
    custscore_csi_result_free(q2);
    /* Grouping by a customer attribute. */
    o2 = (custscore_csi_options)CUSTSCORE_CSI_OPTIONS_INIT;
    o2.by = CUSTSCORE_CSI_BY_ATTRIBUTE;
    o2.by_attribute = "tier";
    custscore_csi_result *tiers = NULL;
    ck_assert_int_eq(custscore_csi_compute(db, m, &o2, &tiers), 0);
    ck_assert_uint_eq(tiers->n_groups, 2);
    ck_assert_str_eq(tiers->groups[0].group, "key");
    ck_assert_uint_eq(tiers->groups[0].n, 84);
    ck_assert_uint_eq(tiers->groups[1].n, 166);
    custscore_csi_result_free(tiers);

    /* The model was stored with the data and loads back. */
    custscore_survey_model *loaded = NULL;
    ck_assert_int_eq(custscore_survey_model_load(db, "ecsi", &loaded), 0);
    char a[4096], b[4096];
    ck_assert_int_eq(custscore_survey_model_format(m, a, sizeof a, NULL), 0);
    ck_assert_int_eq(custscore_survey_model_format(loaded, b, sizeof b, NULL), 0);
    ck_assert_str_eq(a, b);
    custscore_survey_model_free(loaded);
    ck_assert_int_eq(custscore_survey_model_load(db, "nosuch", &loaded), CUSTSCORE_ENOTFOUND);

    /* Per-customer satisfaction: the fit's weights on each customer's answers. */
    collected *c = calloc(1, sizeof *c);
    ck_assert_int_eq(custscore_csi_customers(db, m, r, 0, collect, c), 0);
    ck_assert_uint_eq(c->n, 250);
    ck_assert_str_eq(c->key[0], "c000");
    size_t s1 = item_index(r, "CUSA1"), s2 = item_index(r, "CUSA2"), s3 = item_index(r, "CUSA3");
    int j1 = td_col(&data, "CUSA1"), j2 = td_col(&data, "CUSA2"), j3 = td_col(&data, "CUSA3");
    for (size_t i = 0; i < 250; i += 37) {
        double want = (r->overall.weights[s1] * (x[i * 24 + (size_t)j1] - 1) +
                       r->overall.weights[s2] * (x[i * 24 + (size_t)j2] - 1) +
                       r->overall.weights[s3] * (x[i * 24 + (size_t)j3] - 1)) /
                      9 * 100;
        ck_near(c->sat[i], want, 1e-9);
    }
    /* Without a fit: the weights saved with the index are used. */
    collected *c2 = calloc(1, sizeof *c2);
    ck_assert_int_eq(custscore_csi_customers(db, m, NULL, 0, collect, c2), 0);
    ck_assert_uint_eq(c2->n, 250);
    for (size_t i = 0; i < 250; i++)
        ck_near(c2->sat[i], c->sat[i], 1e-9);
    /* A later, partial answer of customer c000 is the one used: only CUSA1. */
    ck_assert_int_eq(custscore_add_response(db, "c000", q2_2024 + 80 * day, "CUSA1", 10), 0);
    memset(c2, 0, sizeof *c2);
    ck_assert_int_eq(custscore_csi_customers(db, m, r, 0, collect, c2), 0);
    ck_near(c2->sat[0], 100, 1e-9);
    ck_assert_int_eq(c2->ts[0], q2_2024 + 80 * day);
    /* ... unless the as-of date is before it. */
    memset(c2, 0, sizeof *c2);
    ck_assert_int_eq(custscore_csi_customers(db, m, r, q2_2024 + 79 * day, collect, c2), 0);
    ck_near(c2->sat[0], c->sat[0], 1e-9);
    free(c);
    free(c2);
    custscore_csi_result_free(r);
    custscore_csi_result_free(pure);
    custscore_survey_model_free(m);
    custscore_close(db);
    free(x);
    td_free(&data);
}
END_TEST

START_TEST(store_blank_answers_and_errors)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    custscore_survey_model *m = small_model(NULL);
    custscore_csi_result *r = NULL;
    ck_assert_int_eq(custscore_csi_compute(db, m, NULL, &r), CUSTSCORE_ENOTFOUND);
    ck_assert_msg(strstr(custscore_errmsg(db), "no survey responses"), "%s", custscore_errmsg(db));
    size_t n = 120;
    double *x = small_survey(n, 12);
    ck_assert_int_eq(custscore_begin(db), 0);
    for (size_t i = 0; i < n; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%zu", i);
        for (int j = 0; j < 7; j++)
            if (!(i % 10 == 0 && j == 1)) /* q2 left blank by every tenth */
                ck_assert_int_eq(
                    custscore_add_response(db, key, q1_2024 + 60, small_cols[j], x[i * 7 + j]), 0);
    }
    ck_assert_int_eq(custscore_commit(db), 0);
    ck_assert_int_eq(custscore_csi_compute(db, m, NULL, &r), 0);
    ck_assert_uint_eq(r->overall.n, n);
    ck_assert_int_eq(r->overall.has_nps, 1);
    ck_assert_uint_eq(r->overall.nps.n, n);
    custscore_csi_result_free(r);
    custscore_csi_options o = CUSTSCORE_CSI_OPTIONS_INIT;
    o.missing = CUSTSCORE_PLS_MISSING_LISTWISE;
    ck_assert_int_eq(custscore_csi_compute(db, m, &o, &r), 0);
    ck_assert_uint_eq(r->overall.n, n - 12);
    custscore_csi_result_free(r);
    /* An answer outside the scale is refused with the item named. */
    ck_assert_int_eq(custscore_add_response(db, "k5", q1_2024 + 60, "s1", 9), 0);
    ck_assert_int_eq(custscore_csi_compute(db, m, NULL, &r), CUSTSCORE_EINVAL);
    ck_assert_msg(strstr(custscore_errmsg(db), "column s1: answer 9 is outside"), "%s",
                  custscore_errmsg(db));
    o = (custscore_csi_options)CUSTSCORE_CSI_OPTIONS_INIT;
    o.by = CUSTSCORE_CSI_BY_ATTRIBUTE;
    ck_assert_int_eq(custscore_csi_compute(db, m, &o, &r), CUSTSCORE_EINVAL);
    custscore_survey_model_free(m);
    custscore_close(db);
    free(x);
}
END_TEST

START_TEST(store_servqual_and_kano)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    ck_assert_int_eq(custscore_begin(db), 0);
    /* Two respondents answering the 22-item instrument: E = 6, P = 5 except
     * reliability (items 5-9) with P = 3. */
    for (int k = 0; k < 2; k++) {
        const char *key = k ? "b" : "a";
        for (int i = 1; i <= 22; i++) {
            char e[8], p[8];
            snprintf(e, sizeof e, "SQE%d", i);
            snprintf(p, sizeof p, "SQP%d", i);
            ck_assert_int_eq(custscore_add_response(db, key, q1_2024, e, 6), 0);
            ck_assert_int_eq(custscore_add_response(db, key, q1_2024, p, i >= 5 && i <= 9 ? 3 : 5),
                             0);
        }
        ck_assert_int_eq(custscore_add_response(db, key, q1_2024, "wifi_f", 1), 0);
        ck_assert_int_eq(custscore_add_response(db, key, q1_2024, "wifi_d", k ? 3 : 5), 0);
    }
    ck_assert_int_eq(custscore_commit(db), 0);
    custscore_servqual_result *s = NULL;
    ck_assert_int_eq(custscore_servqual_compute(db, NULL, NULL, &s), 0);
    ck_assert_uint_eq(s->n_items, 22);
    ck_assert_str_eq(s->item_names[4], "SQE5/SQP5");
    ck_assert_uint_eq(s->dimension_items[CUSTSCORE_SERVQUAL_RELIABILITY], 5);
    ck_assert_uint_eq(s->dimension_items[CUSTSCORE_SERVQUAL_EMPATHY], 5);
    ck_near(s->dimension_gap[CUSTSCORE_SERVQUAL_RELIABILITY], -3, 1e-12);
    ck_near(s->dimension_gap[CUSTSCORE_SERVQUAL_TANGIBLES], -1, 1e-12);
    ck_assert_int_eq(s->weakest, CUSTSCORE_SERVQUAL_RELIABILITY);
    custscore_servqual_result_free(s);
    ck_assert_int_eq(custscore_servqual_compute(db, "tangibles=SQE1/SQP1+SQE2/SQP2", NULL, &s), 0);
    ck_assert_uint_eq(s->n_items, 2);
    custscore_servqual_result_free(s);
    ck_assert_int_eq(custscore_servqual_compute(db, "looks=SQE1/SQP1", NULL, &s), CUSTSCORE_EINVAL);
    ck_assert_msg(strstr(custscore_errmsg(db), "unknown dimension 'looks'"), "%s",
                  custscore_errmsg(db));
    ck_assert_int_eq(custscore_servqual_compute(db, "tangibles=SQE1", NULL, &s), CUSTSCORE_EINVAL);
    custscore_kano_result *k = NULL;
    ck_assert_int_eq(custscore_kano_compute(db, "Wifi=wifi_f/wifi_d", &k), 0);
    ck_assert_uint_eq(k->n_features, 1);
    ck_assert_str_eq(k->features[0].name, "Wifi");
    ck_assert_uint_eq(k->features[0].count[CUSTSCORE_KANO_ONE_DIMENSIONAL], 1);
    ck_assert_uint_eq(k->features[0].count[CUSTSCORE_KANO_ATTRACTIVE], 1);
    ck_assert_int_eq(k->features[0].category, CUSTSCORE_KANO_ONE_DIMENSIONAL);
    custscore_kano_result_free(k);
    ck_assert_int_eq(custscore_kano_compute(db, "X=nope/none", &k), CUSTSCORE_ENOTFOUND);
    custscore_close(db);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The command-line program */

/* Run the CLI with @args (NULL-terminated); stdout to @out, stderr to @err
 * (NULL: /dev/null). Returns the exit status. */
static int run_cli(const char *cli, const char *const *args, const char *out, const char *err)
{
    const char *argv[40];
    int n = 0;
    argv[n++] = cli;
    for (; args[n - 1] && n < 39; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        FILE *o = freopen(out ? out : "/dev/null", "w", stdout);
        FILE *e = freopen(err ? err : "/dev/null", "w", stderr);
        (void)o;
        (void)e;
        execv(cli, (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(cli_csi_servqual_kano)
{
    const char *cli = getenv("CUSTSCORE_CLI");
    if (!cli || access(cli, X_OK) != 0) {
        tu_skip("the custscore CLI is not built");
        return;
    }
    bool ok;
    td_table data = load_shared("seminr_mobi.csv", &ok);
    if (!ok)
        return;
    char *dir = tu_tmpdir();
    char *db = tu_join(dir, "s.db"), *wide = tu_join(dir, "wide.csv");
    char *json = tu_join(dir, "csi.json"), *csv = tu_join(dir, "csi.csv");
    char *cust = tu_join(dir, "cust.csv"), *model = tu_join(dir, "model.txt");
    char *bad = tu_join(dir, "bad.txt"), *err = tu_join(dir, "err.txt");
    char *text = tu_join(dir, "out.txt");
    /* The survey in the wide form survey tools export; respondent i answered
     * in 2024-Q1 or Q2. */
    FILE *f = fopen(wide, "w");
    ck_assert_ptr_nonnull(f);
    fputs("customer,date", f);
    for (size_t j = 0; j < data.cols; j++)
        fprintf(f, ",%s", data.head[j]);
    fputc('\n', f);
    for (size_t r = 0; r < data.rows; r++) {
        fprintf(f, "c%03zu,%s", r, r % 2 ? "2024-05-02" : "2024-02-01");
        for (size_t j = 0; j < data.cols; j++)
            fprintf(f, ",%s", data.cell[r * data.cols + j]);
        fputc('\n', f);
    }
    fclose(f);
    const char *import[] = {"--db",       db,         "import", "responses", wide, "--wide",
                            "--customer", "customer", "--date", "date",      NULL};
    ck_assert_int_eq(run_cli(cli, import, NULL, err), 0);
    const char *js[] = {"--db", db, "csi", "--model", "ecsi", "--json", "--out", json, NULL};
    ck_assert_int_eq(run_cli(cli, js, NULL, err), 0);
    char *out = tu_read_file(json, NULL);
    ck_assert_ptr_nonnull(out);
    const char *idx = strstr(out, "\"index\":");
    ck_assert_ptr_nonnull(idx);
    ck_near(strtod(idx + 8, NULL), 71.248, 0.01);
    ck_assert_msg(strstr(out, "\"interval\":null") && strstr(out, "\"n\":250") &&
                      strstr(out, "\"Satisfaction->Loyalty\":") &&
                      strstr(out, "\"r2\":{\"Expectation\":") && strstr(out, "\"CUSA1\":0.24"),
                  "%.300s", out);
    free(out);
    /* A model file, quarters, bootstrap, the CSV outputs. */
    ck_assert_int_eq(tu_write_file(model, "model short\nscale 1..10\n"
                                          "construct Quality: PERQ1 PERQ2 PERQ3\n"
                                          "construct Satisfaction: CUSA1 CUSA2 CUSA3\n"
                                          "path Quality -> Satisfaction\n"),
                     0);
    const char *by[] = {"--db",  db,        "csi",         "--model", model,
                        "--by",  "quarter", "--bootstrap", "50",      "--save",
                        "--out", csv,       "--customers", cust,      NULL};
    ck_assert_int_eq(run_cli(cli, by, text, err), 0);
    out = tu_read_file(text, NULL);
    ck_assert_msg(strstr(out, "2024-Q1") && strstr(out, "2024-Q2") && strstr(out, "interval"),
                  "%.300s", out);
    free(out);
    out = tu_read_file(csv, NULL);
    const char *head = "group,quantity,name,value,se,low,high\nall,index,Satisfaction,";
    ck_assert_msg(strncmp(out, head, strlen(head)) == 0, "%.300s", out);
    ck_assert_msg(strstr(out, "\n2024-Q2,index,Satisfaction,"), "%.300s", out);
    free(out);
    out = tu_read_file(cust, NULL);
    const char *chead = "customer,date,satisfaction\nc000,2024-02-01,";
    ck_assert_msg(strncmp(out, chead, strlen(chead)) == 0, "%.300s", out);
    free(out);
    /* --save stored the model and the index weights, with JSON info (other
     * modules query the model table with json_extract). */
    sqlite3 *sdb = NULL;
    ck_assert_int_eq(sqlite3_open_v2(db, &sdb, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(sdb,
                                        "SELECT (SELECT count(*) FROM model WHERE name IN"
                                        " ('survey:short', 'csi:short')),"
                                        " (SELECT count(*) FROM model WHERE info IS NULL OR"
                                        " NOT json_valid(info)),"
                                        " (SELECT json_extract(params, '$.weights.CUSA1') FROM"
                                        " model WHERE name = 'csi:short')",
                                        -1, &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int(st, 0), 2);
    ck_assert_int_eq(sqlite3_column_int(st, 1), 0);
    double w = sqlite3_column_double(st, 2);
    ck_assert(w > 0 && w < 1);
    sqlite3_finalize(st);
    sqlite3_close(sdb);
    /* Usage and input errors. */
    const char *scheme[] = {"--db", db, "csi", "--scheme", "radial", NULL};
    ck_assert_int_eq(run_cli(cli, scheme, NULL, err), 1);
    const char *nosuch[] = {"--db", db, "csi", "--model", "nosuch", NULL};
    ck_assert_int_eq(run_cli(cli, nosuch, NULL, err), 2);
    ck_assert_int_eq(tu_write_file(bad, "model b\nconstruct Q: q1\npath Q => S\n"), 0);
    const char *badm[] = {"--db", db, "csi", "--model", bad, NULL};
    ck_assert_int_eq(run_cli(cli, badm, NULL, err), 2);
    out = tu_read_file(err, NULL);
    ck_assert_msg(strstr(out, "bad.txt:3:8: expected '->'"), "%.300s", out);
    free(out);
    const char *items[] = {"--db", db, "csi", "--items", "Value=nope", NULL};
    ck_assert_int_eq(run_cli(cli, items, NULL, err), 2);
    out = tu_read_file(err, NULL);
    ck_assert_msg(strstr(out, "item nope (construct Value) is not among the survey responses"),
                  "%.300s", out);
    free(out);
    /* SERVQUAL and Kano on pairs of the same data (any items work). */
    const char *sq[] = {"--db",
                        db,
                        "servqual",
                        "--map",
                        "tangibles=CUEX1/PERQ1+CUEX2/PERQ2,reliability=CUSA1/CUSL1",
                        "--json",
                        NULL};
    ck_assert_int_eq(run_cli(cli, sq, text, err), 0);
    out = tu_read_file(text, NULL);
    ck_assert_msg(strstr(out, "\"weakest\":") && strstr(out, "\"tangibles\":{\"items\":2"),
                  "%.300s", out);
    free(out);
    const char *kano_bad[] = {"--db", db, "kano", "--features", "F=CUEX1/CUEX2", NULL};
    ck_assert_int_eq(run_cli(cli, kano_bad, NULL, err), 2); /* answers 1..10, not 1..5 */
    const char *kano_none[] = {"--db", db, "kano", NULL};
    ck_assert_int_eq(run_cli(cli, kano_none, NULL, err), 1);
    tu_rmtree(dir);
    free(dir);
    free(db);
    free(wide);
    free(json);
    free(csv);
    free(cust);
    free(model);
    free(bad);
    free(err);
    free(text);
    td_free(&data);
}
END_TEST

static Suite *csi_suite(void)
{
    Suite *s = suite_create("csi");
    TCase *ref = tcase_create("reference");
    tcase_set_timeout(ref, 120);
    tcase_add_test(ref, mobi_index_matches_plspm);
    tcase_add_test(ref, mobile_0_100_copy_same_index);
    tcase_add_test(ref, bank_ccsi_template);
    tcase_add_test(ref, bootstrap_interval);
    suite_add_tcase(s, ref);
    TCase *hand = tcase_create("hand-made");
    tcase_add_test(hand, reverse_coded_item);
    tcase_add_test(hand, missing_answers);
    tcase_add_test(hand, few_respondents_fixed_weights);
    tcase_add_test(hand, non_convergence_reported);
    tcase_add_test(hand, mode_b_and_single_item);
    tcase_add_test(hand, bad_input_to_fit);
    tcase_add_test(hand, groups_from_labels);
    suite_add_tcase(s, hand);
    TCase *model = tcase_create("model");
    tcase_add_test(model, templates);
    tcase_add_test(model, text_round_trip);
    tcase_add_test(model, text_errors_with_line_and_column);
    tcase_add_test(model, item_mapping);
    tcase_add_test(model, building_through_the_api);
    suite_add_tcase(s, model);
    TCase *extra = tcase_create("nps-servqual-kano");
    tcase_add_test(extra, nps);
    tcase_add_test(extra, servqual);
    tcase_add_test(extra, kano);
    suite_add_tcase(s, extra);
    TCase *store = tcase_create("store");
    tcase_set_timeout(store, 120);
    tcase_add_test(store, store_index_by_quarter);
    tcase_add_test(store, store_blank_answers_and_errors);
    tcase_add_test(store, store_servqual_and_kano);
    suite_add_tcase(s, store);
    TCase *cli = tcase_create("cli");
    tcase_set_timeout(cli, 120);
    tcase_add_test(cli, cli_csi_servqual_kano);
    suite_add_tcase(s, cli);
    return s;
}

int main(void)
{
    return tu_run(csi_suite());
}
