/*
 * test_pls.c: the PLS path modelling engine (custscore_pls_fit) against
 * seminr's own test fixtures and the plspm / seminr reference runs in
 * ../shared/data/ecsi (GPL-3 data, read in place, never copied), plus
 * hand-made data for Mode B, missing answers, single items, sign fixing,
 * non-convergence, errors and the bootstrap.
 */
#include "custscore.h"
#include "csi_testdata.h"
#include "testutil.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* The ECSI data and models */

enum { IMAG, CUEX, PERQ, PERV, CUSA, CUSCO, CUSL, K7 };
static const char *const seminr7[K7] = {"Image",        "Expectation", "Quality", "Value",
                                        "Satisfaction", "Complaints",  "Loyalty"};
static const char *const plspm7[K7] = {"IMAG", "EXPE", "QUAL", "VAL", "SAT", "COMP", "LOY"};
static const int ecsi_paths[12][2] = {{IMAG, CUEX}, {IMAG, CUSA},  {IMAG, CUSL}, {CUEX, PERQ},
                                      {CUEX, PERV}, {CUEX, CUSA},  {PERQ, PERV}, {PERQ, CUSA},
                                      {PERV, CUSA}, {CUSA, CUSCO}, {CUSA, CUSL}, {CUSCO, CUSL}};

/* Construct of a mobi column by its item-name prefix. */
static int ecsi_construct_of(const char *item)
{
    if (strcmp(item, "CUSCO") == 0)
        return CUSCO;
    static const char *const prefix[K7] = {"IMAG", "CUEX", "PERQ", "PERV", "CUSA", "", "CUSL"};
    for (int c = 0; c < K7; c++)
        if (*prefix[c] && strncmp(item, prefix[c], 4) == 0)
            return c;
    return -1;
}

typedef struct mobi {
    td_table t;
    double *x; /* [rows * cols] */
    int ic7[64];
    int ic4[64];
    int paths7[K7 * K7];
    int paths4[16];
} mobi;

/* Load seminr_mobi.csv; returns 0, or -1 (test skipped) when absent. */
static int mobi_load(mobi *m)
{
    memset(m, 0, sizeof *m);
    char *path = tu_shared_path("ecsi/seminr_mobi.csv");
    if (!path) {
        tu_skip("../shared/data/ecsi/seminr_mobi.csv not found");
        return -1;
    }
    ck_assert_int_eq(td_read(path, &m->t), 0);
    free(path);
    ck_assert_uint_eq(m->t.rows, 250);
    ck_assert_uint_eq(m->t.cols, 24);
    m->x = td_matrix(&m->t);
    /* 4-construct model of seminr's tests: Image, Expectation, Value -> Satisfaction. */
    for (size_t j = 0; j < m->t.cols; j++) {
        int c = ecsi_construct_of(m->t.head[j]);
        m->ic7[j] = c;
        m->ic4[j] = c == IMAG ? 0 : c == CUEX ? 1 : c == PERV ? 2 : c == CUSA ? 3 : -1;
    }
    for (int i = 0; i < 12; i++)
        m->paths7[ecsi_paths[i][0] * K7 + ecsi_paths[i][1]] = 1;
    m->paths4[0 * 4 + 3] = m->paths4[1 * 4 + 3] = m->paths4[2 * 4 + 3] = 1;
    return 0;
}

static void mobi_free(mobi *m)
{
    td_free(&m->t);
    free(m->x);
}

/* Open a reference file; NULL (skip) when absent. */
static int ref_open(const char *relative, td_table *t)
{
    char rel[512];
    snprintf(rel, sizeof rel, "ecsi/%s", relative);
    char *path = tu_shared_path(rel);
    if (!path) {
        tu_skip(rel);
        return -1;
    }
    ck_assert_int_eq(td_read(path, t), 0);
    free(path);
    return 0;
}

#define ck_near(got, want, tol)                                                                    \
    ck_assert_msg(fabs((got) - (want)) <= (tol), "%s = %.10g, expected %.10g (tolerance %g)",      \
                  #got, (double)(got), (double)(want), (double)(tol))

static custscore_pls_result *fit(const double *x, size_t n, size_t cols, size_t k, const int *ic,
                                 const int *paths, const custscore_pls_options *o)
{
    custscore_pls_model model = {k, ic, NULL, paths};
    custscore_pls_result *r = NULL;
    char err[256];
    int rc = custscore_pls_fit(x, n, cols, &model, o, &r, err, sizeof err);
    ck_assert_msg(rc == 0, "custscore_pls_fit: %d: %s", rc, err);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->converged, 1);
    return r;
}

/* ------------------------------------------------------------------ */
/* seminr fixtures: 4-construct model, Mode A, n-1 standardisation */

static const char *const seminr4[4] = {"Image", "Expectation", "Value", "Satisfaction"};

static void check_seminr4(custscore_pls_scheme scheme, const char *coef_file,
                          const char *weight_file, const char *score_file)
{
    mobi m;
    if (mobi_load(&m))
        return;
    td_table coef, weights, scores, rsq;
    if (ref_open(coef_file, &coef) || ref_open(weight_file, &weights) ||
        ref_open(score_file, &scores) ||
        ref_open("expected/seminr_fixtures_V_3_6_0/rsquared1.csv", &rsq)) {
        mobi_free(&m);
        return;
    }
    custscore_pls_options o = CUSTSCORE_PLS_OPTIONS_INIT;
    o.scheme = scheme;
    custscore_pls_result *r = fit(m.x, m.t.rows, m.t.cols, 4, m.ic4, m.paths4, &o);
    ck_assert_uint_eq(r->n_items, 13);
    ck_assert_uint_eq(r->n_rows, 250);
    for (int from = 0; from < 3; from++)
        ck_near(r->paths[from * 4 + 3], td_get(&coef, seminr4[from], "Satisfaction"), 1e-5);
    for (size_t i = 0; i < r->n_items; i++) {
        const char *item = m.t.head[r->item_column[i]];
        ck_near(r->weights[i], td_get(&weights, item, seminr4[r->item_construct[i]]), 1e-5);
    }
    if (scheme == CUSTSCORE_PLS_PATH) {
        ck_near(r->r2[3], td_get(&rsq, "Rsq", "Satisfaction"), 1e-5);
        ck_near(r->r2_adj[3], td_get(&rsq, "AdjRsq", "Satisfaction"), 1e-5);
    }
    for (int c = 0; c < 4; c++)
        ck_near(r->scores[c], td_get(&scores, "1", seminr4[c]), 1e-5);
    ck_assert(isnan(r->r2[0]));
    custscore_pls_result_free(r);
    td_free(&coef);
    td_free(&weights);
    td_free(&scores);
    td_free(&rsq);
    mobi_free(&m);
}

START_TEST(seminr_fixture_path_weighting)
{
    check_seminr4(CUSTSCORE_PLS_PATH,
                  "expected/seminr_fixtures_V_3_6_0/inner_weights_coefficients.csv",
                  "expected/seminr_fixtures_V_3_6_0/inner_weights_weights.csv",
                  "expected/seminr_fixtures_V_3_6_0/inner_weights_constructscores.csv");
}
END_TEST

START_TEST(seminr_fixture_factorial)
{
    check_seminr4(CUSTSCORE_PLS_FACTORIAL,
                  "expected/seminr_fixtures_V_3_6_0/factorial_coefficients.csv",
                  "expected/seminr_fixtures_V_3_6_0/factorial_weights.csv",
                  "expected/seminr_fixtures_V_3_6_0/factorial_scores.csv");
}
END_TEST

/* ------------------------------------------------------------------ */
/* 7-construct ECSI against seminr's reference runs */

static void check_seminr7(custscore_pls_scheme scheme, const char *dir)
{
    mobi m;
    if (mobi_load(&m))
        return;
    char p[256];
    td_table paths, weights, loadings, rsq, rel, total;
    snprintf(p, sizeof p, "reference/%s/path_coef.csv", dir);
    int missing = ref_open(p, &paths);
    snprintf(p, sizeof p, "reference/%s/outer_weights.csv", dir);
    missing = missing || ref_open(p, &weights);
    snprintf(p, sizeof p, "reference/%s/outer_loadings.csv", dir);
    missing = missing || ref_open(p, &loadings);
    snprintf(p, sizeof p, "reference/%s/rsquared.csv", dir);
    missing = missing || ref_open(p, &rsq);
    snprintf(p, sizeof p, "reference/%s/reliability.csv", dir);
    missing = missing || ref_open(p, &rel);
    snprintf(p, sizeof p, "reference/%s/total_effects.csv", dir);
    missing = missing || ref_open(p, &total);
    if (missing) {
        mobi_free(&m);
        return;
    }
    custscore_pls_options o = CUSTSCORE_PLS_OPTIONS_INIT;
    o.scheme = scheme;
    custscore_pls_result *r = fit(m.x, m.t.rows, m.t.cols, K7, m.ic7, m.paths7, &o);
    for (int a = 0; a < K7; a++)
        for (int b = 0; b < K7; b++) {
            ck_near(r->paths[a * K7 + b], td_get(&paths, seminr7[a], seminr7[b]), 1e-4);
            ck_near(r->total_effects[a * K7 + b], td_get(&total, seminr7[a], seminr7[b]), 1e-4);
        }
    for (size_t i = 0; i < r->n_items; i++) {
        const char *item = m.t.head[r->item_column[i]];
        const char *c = seminr7[r->item_construct[i]];
        ck_near(r->weights[i], td_get(&weights, item, c), 1e-4);
        ck_near(r->loadings[i], td_get(&loadings, item, c), 1e-4);
    }
    for (int c = 0; c < K7; c++) {
        if (c != IMAG) {
            ck_near(r->r2[c], td_get(&rsq, "Rsq", seminr7[c]), 1e-4);
            ck_near(r->r2_adj[c], td_get(&rsq, "AdjRsq", seminr7[c]), 1e-4);
        }
        ck_near(r->alpha[c], td_get(&rel, seminr7[c], "alpha"), 1e-4);
        ck_near(r->rho_c[c], td_get(&rel, seminr7[c], "rhoC"), 1e-4);
        ck_near(r->ave[c], td_get(&rel, seminr7[c], "AVE"), 1e-4);
    }
    custscore_pls_result_free(r);
    td_free(&paths);
    td_free(&weights);
    td_free(&loadings);
    td_free(&rsq);
    td_free(&rel);
    td_free(&total);
    mobi_free(&m);
}

START_TEST(ecsi7_path_seminr)
{
    check_seminr7(CUSTSCORE_PLS_PATH, "seminr_mobi_ecsi7_path_weighting_modeA");
}
END_TEST

START_TEST(ecsi7_factorial_seminr)
{
    check_seminr7(CUSTSCORE_PLS_FACTORIAL, "seminr_mobi_ecsi7_path_factorial_modeA");
}
END_TEST

/* ------------------------------------------------------------------ */
/* 7-construct ECSI against plspm (population sd; scaled or centred only) */

static int td_find(const td_table *t, const char *col, const char *value)
{
    int c = td_col(t, col);
    for (size_t r = 0; c >= 0 && r < t->rows; r++)
        if (strcmp(t->cell[r * t->cols + (size_t)c], value) == 0)
            return (int)r;
    return -1;
}

static void check_plspm7(const char *data_file, custscore_pls_scheme scheme, bool scaled,
                         const char *dir)
{
    char p[256];
    snprintf(p, sizeof p, "ecsi/%s", data_file);
    char *path = tu_shared_path(p);
    if (!path) {
        tu_skip(p);
        return;
    }
    td_table data;
    ck_assert_int_eq(td_read(path, &data), 0);
    free(path);
    double *x = td_matrix(&data);
    td_table outer, pc, inner, meta, scores;
    snprintf(p, sizeof p, "reference/%s/outer_model.csv", dir);
    int missing = ref_open(p, &outer);
    snprintf(p, sizeof p, "reference/%s/path_coefs.csv", dir);
    missing = missing || ref_open(p, &pc);
    snprintf(p, sizeof p, "reference/%s/inner_summary.csv", dir);
    missing = missing || ref_open(p, &inner);
    snprintf(p, sizeof p, "reference/%s/meta.csv", dir);
    missing = missing || ref_open(p, &meta);
    snprintf(p, sizeof p, "reference/%s/scores.csv", dir);
    missing = missing || ref_open(p, &scores);
    if (missing) {
        td_free(&data);
        free(x);
        return;
    }
    /* Items in the order of the reference's outer model: its block column
     * gives the construct of each data column (by position in the block
     * order IMAG .. LOY). */
    int ic[64], paths[K7 * K7] = {0};
    for (size_t j = 0; j < data.cols; j++) {
        ic[j] = -1;
        int row = td_find(&outer, "name", data.head[j]);
        ck_assert_msg(row >= 0, "item %s not in the reference", data.head[j]);
        const char *block = outer.cell[(size_t)row * outer.cols + (size_t)td_col(&outer, "block")];
        for (int c = 0; c < K7; c++)
            if (strcmp(block, plspm7[c]) == 0)
                ic[j] = c;
    }
    for (int i = 0; i < 12; i++)
        paths[ecsi_paths[i][0] * K7 + ecsi_paths[i][1]] = 1;
    custscore_pls_options o = CUSTSCORE_PLS_OPTIONS_INIT;
    o.scheme = scheme;
    o.scaling = scaled ? CUSTSCORE_PLS_STANDARDIZE : CUSTSCORE_PLS_CENTER;
    o.variance_n = 1;
    custscore_pls_result *r = fit(x, data.rows, data.cols, K7, ic, paths, &o);
    for (size_t i = 0; i < r->n_items; i++) {
        const char *item = data.head[r->item_column[i]];
        int row = td_find(&outer, "name", item);
        ck_near(r->weights[i], td_num(&outer, (size_t)row, (size_t)td_col(&outer, "weight")), 1e-4);
        ck_near(r->loadings[i], td_num(&outer, (size_t)row, (size_t)td_col(&outer, "loading")),
                1e-4);
    }
    for (int a = 0; a < K7; a++)
        for (int b = 0; b < K7; b++) /* plspm: row = to, column = from */
            ck_near(r->paths[a * K7 + b], td_get(&pc, plspm7[b], plspm7[a]), 1e-4);
    for (int c = 1; c < K7; c++)
        ck_near(r->r2[c], td_get(&inner, plspm7[c], "R2"), 1e-4);
    ck_near(r->gof, td_get(&meta, "1", "gof"), 1e-4);
    for (int c = 0; c < K7; c++) /* population-sd scores */
        ck_near(r->scores[c], td_get(&scores, "1", plspm7[c]), 1e-4);
    custscore_pls_result_free(r);
    td_free(&outer);
    td_free(&pc);
    td_free(&inner);
    td_free(&meta);
    td_free(&scores);
    td_free(&data);
    free(x);
}

START_TEST(ecsi7_path_plspm)
{
    check_plspm7("seminr_mobi.csv", CUSTSCORE_PLS_PATH, true, "plspm_mobi_ecsi7_path_modeA_scaled");
}
END_TEST

START_TEST(ecsi7_centroid_plspm)
{
    check_plspm7("seminr_mobi.csv", CUSTSCORE_PLS_CENTROID, true,
                 "plspm_mobi_ecsi7_centroid_modeA_scaled");
}
END_TEST

START_TEST(ecsi7_centroid_unscaled_plspm)
{
    check_plspm7("seminr_mobi.csv", CUSTSCORE_PLS_CENTROID, false,
                 "plspm_mobi_ecsi7_centroid_modeA_unscaled");
    check_plspm7("plspm_mobile.csv", CUSTSCORE_PLS_CENTROID, false,
                 "plspm_mobile_ecsi7_centroid_modeA_unscaled");
}
END_TEST

START_TEST(ecsi7_factorial_plspm)
{
    check_plspm7("seminr_mobi.csv", CUSTSCORE_PLS_FACTORIAL, true,
                 "plspm_mobi_ecsi7_factorial_modeA_scaled");
}
END_TEST

/* The bank survey (plspm_satisfaction.csv): 6 constructs, 10 paths; the
 * centred-only centroid fit and the rescaled construct means (plspm's
 * rescale()) that give its index. */
START_TEST(bank_centroid_unscaled_plspm)
{
    char *path = tu_shared_path("ecsi/plspm_satisfaction.csv");
    if (!path) {
        tu_skip("ecsi/plspm_satisfaction.csv");
        return;
    }
    td_table data, outer, idx;
    ck_assert_int_eq(td_read(path, &data), 0);
    free(path);
    if (ref_open("reference/plspm_satisfaction_centroid_modeA_unscaled/outer_model.csv", &outer) ||
        ref_open("reference/plspm_satisfaction_centroid_modeA_unscaled/index_0_100.csv", &idx)) {
        td_free(&data);
        return;
    }
    static const char *const blocks[6] = {"IMAG", "EXPE", "QUAL", "VAL", "SAT", "LOY"};
    static const char *const prefix[6] = {"imag", "expe", "qual", "val", "sat", "loy"};
    int ic[64];
    double *x = td_matrix(&data); /* the gender column becomes NaN and is outside the model */
    for (size_t j = 0; j < data.cols; j++) {
        ic[j] = -1;
        for (int c = 0; c < 6; c++)
            if (strncmp(data.head[j], prefix[c], strlen(prefix[c])) == 0 &&
                data.head[j][strlen(prefix[c])] >= '1' && data.head[j][strlen(prefix[c])] <= '9')
                ic[j] = c;
    }
    int paths[36] = {0};
    static const int p10[10][2] = {{0, 1}, {0, 4}, {0, 5}, {1, 2}, {1, 3},
                                   {1, 4}, {2, 3}, {2, 4}, {3, 4}, {4, 5}};
    for (int i = 0; i < 10; i++)
        paths[p10[i][0] * 6 + p10[i][1]] = 1;
    custscore_pls_options o = CUSTSCORE_PLS_OPTIONS_INIT;
    o.scheme = CUSTSCORE_PLS_CENTROID;
    o.scaling = CUSTSCORE_PLS_CENTER;
    o.variance_n = 1;
    custscore_pls_result *r = fit(x, data.rows, data.cols, 6, ic, paths, &o);
    ck_assert_uint_eq(r->n_items, 27);
    for (size_t i = 0; i < r->n_items; i++) {
        int row = td_find(&outer, "name", data.head[r->item_column[i]]);
        ck_assert_int_ge(row, 0);
        ck_near(r->weights[i], td_num(&outer, (size_t)row, (size_t)td_col(&outer, "weight")), 1e-4);
    }
    for (int c = 0; c < 6; c++)
        ck_near(r->construct_mean[c], td_get(&idx, blocks[c], "mean_rescaled"), 1e-3);
    custscore_pls_result_free(r);
    td_free(&data);
    td_free(&outer);
    td_free(&idx);
    free(x);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Hand-made data */

/* Deterministic pseudo-random normals (tests only). */
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

/* Two-construct data: X (x1..x3) -> Y (y1, y2); n rows, 5 columns. */
static double *two_construct_data(size_t n, uint64_t seed)
{
    trng g = {seed};
    double *x = malloc(n * 5 * sizeof(double));
    for (size_t r = 0; r < n; r++) {
        double a = trng_normal(&g), b = trng_normal(&g), c = trng_normal(&g);
        double eta = 0.6 * a + 0.3 * b + 0.2 * c + 0.5 * trng_normal(&g);
        x[r * 5 + 0] = 3 + a;
        x[r * 5 + 1] = 2 * b;
        x[r * 5 + 2] = c - 1;
        x[r * 5 + 3] = eta + 0.4 * trng_normal(&g);
        x[r * 5 + 4] = 10 + 2 * eta + 0.9 * trng_normal(&g);
    }
    return x;
}

/* Mean and sd (n - 1) of column j. */
static void col_stats(const double *x, size_t n, size_t cols, size_t j, double *mean, double *sd)
{
    double s = 0, ss = 0;
    for (size_t r = 0; r < n; r++)
        s += x[r * cols + j];
    *mean = s / (double)n;
    for (size_t r = 0; r < n; r++)
        ss += (x[r * cols + j] - *mean) * (x[r * cols + j] - *mean);
    *sd = sqrt(ss / (double)(n - 1));
}

/* Mode B: the weights of X are proportional to the coefficients of the
 * regression of its inner proxy (the Y score) on the standardised x items;
 * Mode A: the weights of Y are proportional to cov(y_i, X score). */
START_TEST(mode_b_and_mode_a_properties)
{
    size_t n = 200;
    double *x = two_construct_data(n, 7);
    int ic[5] = {0, 0, 0, 1, 1}, mode[2] = {CUSTSCORE_PLS_MODE_B, CUSTSCORE_PLS_MODE_A};
    int paths[4] = {0, 1, 0, 0};
    custscore_pls_model model = {2, ic, mode, paths};
    custscore_pls_result *r = NULL;
    char err[256];
    ck_assert_int_eq(custscore_pls_fit(x, n, 5, &model, NULL, &r, err, sizeof err), 0);
    ck_assert_int_eq(r->converged, 1);
    ck_assert(isnan(r->alpha[0]) && isnan(r->rho_c[0]) && isnan(r->ave[0]));
    ck_assert(!isnan(r->alpha[1]));
    /* Standardised items and the construct scores. */
    double z[200][5], mean[5], sd[5];
    for (size_t j = 0; j < 5; j++) {
        col_stats(x, n, 5, j, &mean[j], &sd[j]);
        for (size_t i = 0; i < n; i++)
            z[i][j] = (x[i * 5 + j] - mean[j]) / sd[j];
    }
    /* Normal equations of y_score on z1..z3. */
    double a[3][4] = {{0}};
    for (size_t i = 0; i < n; i++) {
        double yscore = r->scores[i * 2 + 1];
        for (int p = 0; p < 3; p++) {
            for (int q = 0; q < 3; q++)
                a[p][q] += z[i][p] * z[i][q];
            a[p][3] += z[i][p] * yscore;
        }
    }
    for (int c = 0; c < 3; c++) /* Gauss-Jordan, well conditioned here */
        for (int rr = 0; rr < 3; rr++)
            if (rr != c) {
                double f = a[rr][c] / a[c][c];
                for (int q = 0; q < 4; q++)
                    a[rr][q] -= f * a[c][q];
            }
    double beta[3] = {a[0][3] / a[0][0], a[1][3] / a[1][1], a[2][3] / a[2][2]};
    double ratio = r->weights[0] / beta[0];
    for (int p = 1; p < 3; p++)
        ck_near(r->weights[p] / beta[p], ratio, 1e-6);
    /* Mode A for Y. */
    double cov[2] = {0, 0};
    for (size_t i = 0; i < n; i++)
        for (int p = 0; p < 2; p++)
            cov[p] += z[i][3 + p] * r->scores[i * 2];
    ck_near(r->weights[3] / cov[0], r->weights[4] / cov[1], 1e-6);
    /* Scores have unit variance (n - 1) and the path is their correlation. */
    double s0 = 0, s1 = 0, s01 = 0;
    for (size_t i = 0; i < n; i++) {
        s0 += r->scores[i * 2] * r->scores[i * 2];
        s1 += r->scores[i * 2 + 1] * r->scores[i * 2 + 1];
        s01 += r->scores[i * 2] * r->scores[i * 2 + 1];
    }
    ck_near(s0 / (double)(n - 1), 1.0, 1e-9);
    ck_near(s1 / (double)(n - 1), 1.0, 1e-9);
    ck_near(r->paths[1], s01 / (double)(n - 1), 1e-9);
    ck_near(r->r2[1], r->paths[1] * r->paths[1], 1e-9);
    custscore_pls_result_free(r);
    free(x);
}
END_TEST

/* A single-item construct: weight 1 (standardised), loading 1, reliability 1. */
START_TEST(single_item_construct)
{
    size_t n = 120;
    double *x = two_construct_data(n, 11);
    int ic[5] = {-1, -1, 0, 1, 1}, paths[4] = {0, 1, 0, 0};
    custscore_pls_result *r = fit(x, n, 5, 2, ic, paths, NULL);
    ck_assert_uint_eq(r->n_items, 3);
    ck_assert_uint_eq(r->item_column[0], 2);
    ck_near(r->weights[0], 1.0, 1e-12);
    ck_near(r->loadings[0], 1.0, 1e-12);
    ck_near(r->alpha[0], 1.0, 1e-12);
    ck_near(r->rho_c[0], 1.0, 1e-12);
    ck_near(r->ave[0], 1.0, 1e-12);
    double mean, sd;
    col_stats(x, n, 5, 2, &mean, &sd);
    ck_near(r->raw_weights[0], 1.0 / sd, 1e-12);
    ck_near(r->index_weights[0], 1.0, 1e-12);
    ck_near(r->construct_mean[0], mean, 1e-12);
    custscore_pls_result_free(r);
    free(x);
}
END_TEST

/* Missing answers: mean replacement equals fitting the data with the
 * holes filled by the column means; listwise deletion equals fitting the
 * complete rows only. */
START_TEST(missing_answers_both_ways)
{
    size_t n = 150;
    double *x = two_construct_data(n, 3);
    double *holes = malloc(n * 5 * sizeof(double));
    memcpy(holes, x, n * 5 * sizeof(double));
    for (size_t r = 0; r < n; r += 7)
        holes[r * 5 + (r / 7) % 5] = NAN;
    for (size_t j = 0; j < 5; j++) /* one row with no answer at all */
        holes[4 * 5 + j] = NAN;
    int ic[5] = {0, 0, 0, 1, 1}, paths[4] = {0, 1, 0, 0};

    custscore_pls_result *mean_r = fit(holes, n, 5, 2, ic, paths, NULL);
    ck_assert_uint_eq(mean_r->n_rows, n - 1);
    ck_assert_uint_eq(mean_r->n_dropped, 1);
    double *filled = malloc(n * 5 * sizeof(double));
    size_t nf = 0;
    for (size_t r = 0; r < n; r++) {
        if (r == 4)
            continue;
        memcpy(filled + nf * 5, holes + r * 5, 5 * sizeof(double));
        nf++;
    }
    for (size_t j = 0; j < 5; j++) {
        double s = 0;
        size_t c = 0;
        for (size_t r = 0; r < nf; r++)
            if (!isnan(filled[r * 5 + j])) {
                s += filled[r * 5 + j];
                c++;
            }
        for (size_t r = 0; r < nf; r++)
            if (isnan(filled[r * 5 + j]))
                filled[r * 5 + j] = s / (double)c;
    }
    custscore_pls_result *filled_r = fit(filled, nf, 5, 2, ic, paths, NULL);
    for (size_t i = 0; i < 5; i++)
        ck_near(mean_r->weights[i], filled_r->weights[i], 1e-12);
    ck_near(mean_r->paths[1], filled_r->paths[1], 1e-12);

    custscore_pls_options o = CUSTSCORE_PLS_OPTIONS_INIT;
    o.missing = CUSTSCORE_PLS_MISSING_LISTWISE;
    custscore_pls_result *list_r = fit(holes, n, 5, 2, ic, paths, &o);
    double *complete = malloc(n * 5 * sizeof(double));
    size_t nc = 0;
    for (size_t r = 0; r < n; r++) {
        bool ok = true;
        for (size_t j = 0; j < 5; j++)
            ok = ok && !isnan(holes[r * 5 + j]);
        if (ok)
            memcpy(complete + 5 * nc++, holes + r * 5, 5 * sizeof(double));
    }
    ck_assert_uint_eq(list_r->n_rows, nc);
    ck_assert_uint_eq(list_r->n_dropped, n - nc);
    custscore_pls_result *complete_r = fit(complete, nc, 5, 2, ic, paths, NULL);
    for (size_t i = 0; i < 5; i++)
        ck_near(list_r->weights[i], complete_r->weights[i], 1e-12);
    ck_near(list_r->paths[1], complete_r->paths[1], 1e-12);
    ck_assert(fabs(list_r->paths[1] - mean_r->paths[1]) > 1e-6);
    custscore_pls_result_free(mean_r);
    custscore_pls_result_free(filled_r);
    custscore_pls_result_free(list_r);
    custscore_pls_result_free(complete_r);
    free(x);
    free(holes);
    free(filled);
    free(complete);
}
END_TEST

/* Sign fixing: negating every item of a construct turns its score round,
 * its loadings stay positive and the signs of its paths flip. */
START_TEST(sign_fixing)
{
    size_t n = 150;
    double *x = two_construct_data(n, 5);
    int ic[5] = {0, 0, 0, 1, 1}, paths[4] = {0, 1, 0, 0};
    custscore_pls_result *a = fit(x, n, 5, 2, ic, paths, NULL);
    for (size_t r = 0; r < n; r++)
        for (size_t j = 3; j < 5; j++)
            x[r * 5 + j] = -x[r * 5 + j];
    custscore_pls_result *b = fit(x, n, 5, 2, ic, paths, NULL);
    for (size_t i = 0; i < 5; i++)
        ck_assert_msg(b->loadings[i] > 0, "loading %zu = %g", i, b->loadings[i]);
    ck_near(b->paths[1], -a->paths[1], 1e-10);
    ck_assert(a->paths[1] > 0);
    ck_near(b->r2[1], a->r2[1], 1e-10);
    custscore_pls_result_free(a);
    custscore_pls_result_free(b);
    free(x);
}
END_TEST

/* Non-convergence is reported: ENOCONV, with the last iteration's estimates. */
START_TEST(non_convergence)
{
    mobi m;
    if (mobi_load(&m))
        return;
    custscore_pls_model model = {K7, m.ic7, NULL, m.paths7};
    custscore_pls_options o = CUSTSCORE_PLS_OPTIONS_INIT;
    o.max_iterations = 2;
    o.tolerance = 1e-15;
    custscore_pls_result *r = NULL;
    char err[256];
    ck_assert_int_eq(custscore_pls_fit(m.x, m.t.rows, m.t.cols, &model, &o, &r, err, sizeof err),
                     CUSTSCORE_ENOCONV);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->converged, 0);
    ck_assert_int_eq(r->iterations, 2);
    ck_assert(r->last_change > o.tolerance);
    ck_assert_msg(strstr(err, "did not converge") != NULL, "%s", err);
    ck_assert(isfinite(r->paths[CUSA * K7 + CUSL]));
    custscore_pls_result_free(r);
    /* The same problem converges with the default cap. */
    o.max_iterations = 0;
    o.tolerance = 0;
    ck_assert_int_eq(custscore_pls_fit(m.x, m.t.rows, m.t.cols, &model, &o, &r, err, sizeof err),
                     0);
    ck_assert_int_gt(r->iterations, 2);
    custscore_pls_result_free(r);
    mobi_free(&m);
}
END_TEST

/* A negative weight: an item that runs against its construct. */
START_TEST(negative_weight)
{
    size_t n = 200;
    double *x = two_construct_data(n, 9);
    /* x3 := x1 + 2 x2 - 3 c: with x1, x2 it forms X, but enters negatively. */
    trng g = {99};
    for (size_t r = 0; r < n; r++)
        x[r * 5 + 2] = 0.2 * x[r * 5 + 0] - 1.5 * (x[r * 5 + 3]) + 0.3 * trng_normal(&g);
    int ic[5] = {0, 0, 0, 1, 1}, paths[4] = {0, 1, 0, 0};
    custscore_pls_options o = CUSTSCORE_PLS_OPTIONS_INIT;
    o.scaling = CUSTSCORE_PLS_CENTER;
    custscore_pls_result *r = fit(x, n, 5, 2, ic, paths, &o);
    ck_assert_msg(r->raw_weights[2] < 0, "weight %g", r->raw_weights[2]);
    ck_assert(isnan(r->index_weights[0]) && isnan(r->index_weights[2]));
    ck_assert(isnan(r->construct_mean[0]));
    ck_assert(!isnan(r->construct_mean[1]));
    custscore_pls_result_free(r);
    free(x);
}
END_TEST

static int fit_error(const double *x, size_t n, size_t cols, size_t k, const int *ic,
                     const int *mode, const int *paths, char *err, size_t size)
{
    custscore_pls_model model = {k, ic, mode, paths};
    custscore_pls_result *r = (custscore_pls_result *)1;
    int rc = custscore_pls_fit(x, n, cols, &model, NULL, &r, err, size);
    ck_assert_ptr_null(r);
    return rc;
}

START_TEST(bad_models_and_data)
{
    size_t n = 50;
    double *x = two_construct_data(n, 1);
    char err[256];
    int ic[5] = {0, 0, 0, 1, 1}, paths[4] = {0, 1, 0, 0};
    int cycle[4] = {0, 1, 1, 0}, none[4] = {0, 0, 0, 0}, self[4] = {1, 1, 0, 0};
    ck_assert_int_eq(fit_error(x, n, 5, 2, ic, NULL, cycle, err, sizeof err), CUSTSCORE_EINVAL);
    ck_assert_msg(strstr(err, "cycle"), "%s", err);
    ck_assert_int_eq(fit_error(x, n, 5, 2, ic, NULL, none, err, sizeof err), CUSTSCORE_EINVAL);
    ck_assert_msg(strstr(err, "no path"), "%s", err);
    ck_assert_int_eq(fit_error(x, n, 5, 2, ic, NULL, self, err, sizeof err), CUSTSCORE_EINVAL);
    ck_assert_msg(strstr(err, "itself"), "%s", err);
    int no_items[5] = {0, 0, 0, 0, 0};
    ck_assert_int_eq(fit_error(x, n, 5, 2, no_items, NULL, paths, err, sizeof err),
                     CUSTSCORE_EINVAL);
    ck_assert_msg(strstr(err, "construct 1 has no items"), "%s", err);
    int bad_ic[5] = {0, 0, 7, 1, 1};
    ck_assert_int_eq(fit_error(x, n, 5, 2, bad_ic, NULL, paths, err, sizeof err), CUSTSCORE_EINVAL);
    ck_assert_msg(strstr(err, "column 3"), "%s", err);
    int bad_mode[2] = {0, 5};
    ck_assert_int_eq(fit_error(x, n, 5, 2, ic, bad_mode, paths, err, sizeof err), CUSTSCORE_EINVAL);
    ck_assert_int_eq(fit_error(x, 2, 5, 2, ic, NULL, paths, err, sizeof err), CUSTSCORE_EINVAL);
    ck_assert_msg(strstr(err, "at least 3"), "%s", err);
    x[3 * 5 + 1] = INFINITY;
    ck_assert_int_eq(fit_error(x, n, 5, 2, ic, NULL, paths, err, sizeof err), CUSTSCORE_EINVAL);
    ck_assert_msg(strstr(err, "row 4, column 2: infinite"), "%s", err);
    for (size_t r = 0; r < n; r++)
        x[r * 5 + 1] = 4;
    ck_assert_int_eq(fit_error(x, n, 5, 2, ic, NULL, paths, err, sizeof err), CUSTSCORE_EINVAL);
    ck_assert_msg(strstr(err, "column 2: no variance"), "%s", err);
    /* Collinear Mode B block. */
    double *y = two_construct_data(n, 2);
    for (size_t r = 0; r < n; r++)
        y[r * 5 + 2] = y[r * 5 + 0] + 2 * y[r * 5 + 1];
    int mode_b[2] = {CUSTSCORE_PLS_MODE_B, CUSTSCORE_PLS_MODE_A};
    ck_assert_int_eq(fit_error(y, n, 5, 2, ic, mode_b, paths, err, sizeof err), CUSTSCORE_EINVAL);
    ck_assert_msg(strstr(err, "collinear"), "%s", err);
    custscore_pls_model model = {2, ic, NULL, paths};
    custscore_pls_options o = CUSTSCORE_PLS_OPTIONS_INIT;
    o.version = 99;
    custscore_pls_result *r = NULL;
    ck_assert_int_eq(custscore_pls_fit(y, n, 5, &model, &o, &r, err, sizeof err), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_pls_fit(y, n, 5, &model, NULL, NULL, NULL, 0), CUSTSCORE_EINVAL);
    custscore_pls_result_free(NULL);
    free(x);
    free(y);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Bootstrap */

START_TEST(bootstrap_seeded)
{
    mobi m;
    if (mobi_load(&m))
        return;
    custscore_pls_options o = CUSTSCORE_PLS_OPTIONS_INIT;
    o.bootstrap = tu_under_valgrind() ? 40 : 200;
    o.seed = 2024;
    custscore_pls_result *a = fit(m.x, m.t.rows, m.t.cols, K7, m.ic7, m.paths7, &o);
    custscore_pls_result *b = fit(m.x, m.t.rows, m.t.cols, K7, m.ic7, m.paths7, &o);
    o.seed = 2025;
    custscore_pls_result *c = fit(m.x, m.t.rows, m.t.cols, K7, m.ic7, m.paths7, &o);
    ck_assert_int_eq(a->boot_resamples + a->boot_failed, o.bootstrap);
    ck_assert_int_gt(a->boot_resamples, o.bootstrap * 9 / 10);
    bool differs = false;
    for (size_t i = 0; i < a->n_items; i++) {
        ck_assert(a->weights_se[i] == b->weights_se[i]);
        ck_assert(a->weights_se[i] > 0);
        ck_assert(a->weights_low[i] < a->weights_high[i]);
        differs |= a->weights_se[i] != c->weights_se[i];
    }
    ck_assert(differs);
    for (int f = 0; f < K7; f++)
        for (int t = 0; t < K7; t++) {
            size_t j = (size_t)f * K7 + (size_t)t;
            if (!m.paths7[j]) {
                ck_assert(a->paths_se[j] == 0);
                continue;
            }
            ck_assert(a->paths_se[j] > 0 && a->paths_se[j] < 0.2);
            ck_assert(a->paths_low[j] <= a->paths[j] + 3 * a->paths_se[j]);
            ck_assert(a->paths_high[j] >= a->paths[j] - 3 * a->paths_se[j]);
        }
    /* Construct means (1-10 scale): the interval holds the estimate. */
    for (int k = 0; k < K7; k++) {
        ck_assert(a->construct_mean_low[k] < a->construct_mean[k]);
        ck_assert(a->construct_mean_high[k] > a->construct_mean[k]);
    }
    /* The satisfaction -> loyalty path's standard error is of the size other
     * bootstraps find (the R runs' own resamples cannot be reproduced). */
    ck_assert(a->paths_se[CUSA * K7 + CUSL] > 0.03 && a->paths_se[CUSA * K7 + CUSL] < 0.12);
    custscore_pls_result_free(a);
    custscore_pls_result_free(b);
    custscore_pls_result_free(c);
    mobi_free(&m);
}
END_TEST

/* Standard errors near those of plspm's 200-resample run on the bank data. */
START_TEST(bootstrap_bank_standard_errors)
{
    char *path = tu_shared_path("ecsi/plspm_satisfaction.csv");
    if (!path) {
        tu_skip("ecsi/plspm_satisfaction.csv");
        return;
    }
    td_table data, ref;
    ck_assert_int_eq(td_read(path, &data), 0);
    free(path);
    if (ref_open("reference/plspm_satisfaction_centroid_modeA_unscaled_boot200_seed123/paths.csv",
                 &ref)) {
        td_free(&data);
        return;
    }
    static const char *const prefix[6] = {"imag", "expe", "qual", "val", "sat", "loy"};
    static const char *const names[6] = {"IMAG", "EXPE", "QUAL", "VAL", "SAT", "LOY"};
    int ic[64], paths[36] = {0};
    for (size_t j = 0; j < data.cols; j++) {
        ic[j] = -1;
        for (int c = 0; c < 6; c++)
            if (strncmp(data.head[j], prefix[c], strlen(prefix[c])) == 0 &&
                data.head[j][strlen(prefix[c])] >= '1' && data.head[j][strlen(prefix[c])] <= '9')
                ic[j] = c;
    }
    static const int p10[10][2] = {{0, 1}, {0, 4}, {0, 5}, {1, 2}, {1, 3},
                                   {1, 4}, {2, 3}, {2, 4}, {3, 4}, {4, 5}};
    for (int i = 0; i < 10; i++)
        paths[p10[i][0] * 6 + p10[i][1]] = 1;
    double *x = td_matrix(&data);
    custscore_pls_options o = CUSTSCORE_PLS_OPTIONS_INIT;
    o.scheme = CUSTSCORE_PLS_CENTROID;
    o.scaling = CUSTSCORE_PLS_CENTER;
    o.variance_n = 1;
    o.bootstrap = tu_under_valgrind() ? 60 : 400;
    o.seed = 123;
    custscore_pls_result *r = fit(x, data.rows, data.cols, 6, ic, paths, &o);
    double tol = tu_under_valgrind() ? 0.6 : 0.3;
    for (int i = 0; i < 10; i++) {
        char label[32];
        snprintf(label, sizeof label, "%s -> %s", names[p10[i][0]], names[p10[i][1]]);
        double want = td_get(&ref, label, "Std.Error");
        ck_assert(!isnan(want));
        double got = r->paths_se[p10[i][0] * 6 + p10[i][1]];
        ck_assert_msg(fabs(got / want - 1) < tol, "%s: se %g, plspm %g", label, got, want);
        ck_near(r->paths[p10[i][0] * 6 + p10[i][1]], td_get(&ref, label, "Original"), 1e-4);
    }
    custscore_pls_result_free(r);
    td_free(&data);
    td_free(&ref);
    free(x);
}
END_TEST

static Suite *pls_suite(void)
{
    Suite *s = suite_create("pls");
    TCase *ref = tcase_create("reference");
    tcase_add_test(ref, seminr_fixture_path_weighting);
    tcase_add_test(ref, seminr_fixture_factorial);
    tcase_add_test(ref, ecsi7_path_seminr);
    tcase_add_test(ref, ecsi7_factorial_seminr);
    tcase_add_test(ref, ecsi7_path_plspm);
    tcase_add_test(ref, ecsi7_centroid_plspm);
    tcase_add_test(ref, ecsi7_centroid_unscaled_plspm);
    tcase_add_test(ref, ecsi7_factorial_plspm);
    tcase_add_test(ref, bank_centroid_unscaled_plspm);
    suite_add_tcase(s, ref);
    TCase *hand = tcase_create("hand-made");
    tcase_add_test(hand, mode_b_and_mode_a_properties);
    tcase_add_test(hand, single_item_construct);
    tcase_add_test(hand, missing_answers_both_ways);
    tcase_add_test(hand, sign_fixing);
    tcase_add_test(hand, non_convergence);
    tcase_add_test(hand, negative_weight);
    tcase_add_test(hand, bad_models_and_data);
    suite_add_tcase(s, hand);
    TCase *boot = tcase_create("bootstrap");
    tcase_set_timeout(boot, 120);
    tcase_add_test(boot, bootstrap_seeded);
    tcase_add_test(boot, bootstrap_bank_standard_errors);
    suite_add_tcase(s, boot);
    return s;
}

int main(void)
{
    return tu_run(pls_suite());
}
