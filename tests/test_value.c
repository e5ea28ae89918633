/* Customer value: RFM scores and segments, segment tables, profit
 * contribution, whale curve, tiers, lifecycle; rules on small hand-built
 * inputs (expected values derived by hand from the documented rules), parity
 * with the R package `rfm` on its sample orders, and consistency checks on
 * the Online Retail data. */
#include "custscore.h"
#include "internal.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define DAY 86400
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static custscore *mem_store(void)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    return db;
}

static void add(custscore *db, const char *cust, const char *key, int64_t day, double revenue,
                double cost, int has_cost)
{
    custscore_order o = {.customer = cust,
                         .order_key = key,
                         .ts = day * DAY + 3600,
                         .revenue = revenue,
                         .cost = cost,
                         .has_cost = has_cost};
    ck_assert_int_eq(custscore_add_order(db, &o, NULL), 0);
}

/* Value rows copied out of custscore_value_each(). */
typedef struct rows {
    size_t n, cap;
    custscore_value *v;
} rows;

static char *dup_or_null(const char *s)
{
    if (!s)
        return NULL;
    char *d = malloc(strlen(s) + 1);
    ck_assert_ptr_nonnull(d);
    strcpy(d, s);
    return d;
}

static int collect_rows(const custscore_value *v, void *payload)
{
    rows *r = payload;
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->v = realloc(r->v, r->cap * sizeof *r->v);
        ck_assert_ptr_nonnull(r->v);
    }
    custscore_value *c = &r->v[r->n++];
    *c = *v;
    c->customer = dup_or_null(v->customer);
    c->segment = dup_or_null(v->segment);
    c->tier_name = dup_or_null(v->tier_name);
    return 0;
}

static void rows_free(rows *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free((char *)r->v[i].customer);
        free((char *)r->v[i].segment);
        free((char *)r->v[i].tier_name);
    }
    free(r->v);
    memset(r, 0, sizeof *r);
}

static const custscore_value *find_row(const custscore_value *v, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].customer && strcmp(v[i].customer, key) == 0)
            return &v[i];
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* Quantiles and bins */

START_TEST(test_quantile_type7)
{
    double x[] = {3, 1, 4, 2};
    double q;
    ck_assert_int_eq(custscore_quantile(x, 4, 0.5, &q), 0);
    ck_assert_double_eq_tol(q, 2.5, 1e-12);
    ck_assert_int_eq(custscore_quantile(x, 4, 0.25, &q), 0); /* h = 1.75 */
    ck_assert_double_eq_tol(q, 1.75, 1e-12);
    ck_assert_int_eq(custscore_quantile(x, 4, 0.0, &q), 0);
    ck_assert_double_eq(q, 1);
    ck_assert_int_eq(custscore_quantile(x, 4, 1.0, &q), 0);
    ck_assert_double_eq(q, 4);
    double with_nan[] = {3, NAN, 1};
    ck_assert_int_eq(custscore_quantile(with_nan, 3, 0.5, &q), 0);
    ck_assert_double_eq_tol(q, 2, 1e-12);
    ck_assert_int_eq(custscore_quantile(x, 4, 1.5, &q), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_quantile(x, 4, NAN, &q), CUSTSCORE_EINVAL);
    double all_nan[] = {NAN, NAN};
    ck_assert_int_eq(custscore_quantile(all_nan, 2, 0.5, &q), CUSTSCORE_EINVAL);
    double inf[] = {1, INFINITY};
    ck_assert_int_eq(custscore_quantile(inf, 2, 0.5, &q), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_quantile(NULL, 2, 0.5, &q), CUSTSCORE_EINVAL);
}
END_TEST

START_TEST(test_bins_value_rule)
{
    /* 1..10 in 5 bins: cut k = 1 + 9k/5 (type 7) + 1 = 3.8, 5.6, 7.4, 9.2. */
    double v[10];
    for (int i = 0; i < 10; i++)
        v[i] = i + 1;
    int s[10];
    double cuts[4];
    ck_assert_int_eq(custscore_score_bins(v, 10, NULL, s, cuts), 0);
    int expect[10] = {1, 1, 1, 2, 2, 3, 3, 4, 4, 5};
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(s[i], expect[i]);
    double expect_cuts[4] = {3.8, 5.6, 7.4, 9.2};
    for (int k = 0; k < 4; k++)
        ck_assert_double_eq_tol(cuts[k], expect_cuts[k], 1e-12);
    /* offset 0: a value equal to a quantile goes up */
    custscore_bin_options o = CUSTSCORE_BIN_OPTIONS_INIT;
    o.cut_offset = 0;
    ck_assert_int_eq(custscore_score_bins(v, 10, &o, s, NULL), 0);
    int expect0[10] = {1, 1, 2, 2, 3, 3, 4, 4, 5, 5};
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(s[i], expect0[i]);
    /* reversed */
    o.reverse = 1;
    ck_assert_int_eq(custscore_score_bins(v, 10, &o, s, NULL), 0);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(s[i], 6 - expect0[i]);
    /* the same through the general (sorting) path: values / 4 are not
     * integers, and scaling by a power of two is exact */
    double quarter[10];
    for (int i = 0; i < 10; i++)
        quarter[i] = v[i] / 4;
    o.reverse = 0;
    double qcuts[4];
    ck_assert_int_eq(custscore_score_bins(quarter, 10, &o, s, qcuts), 0);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(s[i], expect0[i]);
    ck_assert_int_eq(custscore_score_bins(v, 10, &o, s, cuts), 0);
    for (int k = 0; k < 4; k++)
        ck_assert(qcuts[k] * 4 == cuts[k]);
    /* and against custscore_quantile() on 1000 integers with ties */
    double many[1000];
    for (int i = 0; i < 1000; i++)
        many[i] = (double)((i * 7919) % 61);
    ck_assert_int_eq(custscore_score_bins(many, 1000, NULL, NULL, NULL), CUSTSCORE_EINVAL);
    int *ms = malloc(1000 * sizeof *ms);
    ck_assert_int_eq(custscore_score_bins(many, 1000, NULL, ms, cuts), 0);
    for (int k = 1; k < 5; k++) {
        double q;
        ck_assert_int_eq(custscore_quantile(many, 1000, k * (1.0 / 5), &q), 0);
        ck_assert(cuts[k - 1] == q + 1);
    }
    free(ms);
    /* 5 distinct values, 5 bins, the rfm "+1": the top bin stays empty */
    ck_assert_int_eq(custscore_score_bins(v, 5, NULL, s, NULL), 0);
    int expect5[5] = {1, 1, 2, 3, 4};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(s[i], expect5[i]);
}
END_TEST

START_TEST(test_bins_value_ties)
{
    /* {1,2,2,2,3}, 3 bins, offset 0: both quantiles are 2, so the 2s and
     * the 3 share score 3 and bin 2 is empty. */
    double v[] = {2, 1, 2, 3, 2};
    int s[5];
    custscore_bin_options o = CUSTSCORE_BIN_OPTIONS_INIT;
    o.bins = 3;
    o.cut_offset = 0;
    ck_assert_int_eq(custscore_score_bins(v, 5, &o, s, NULL), 0);
    int expect[5] = {3, 1, 3, 3, 3};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(s[i], expect[i]);
    /* all equal: one bin; reversed: the top score */
    double same[] = {7, 7, 7};
    ck_assert_int_eq(custscore_score_bins(same, 3, NULL, s, NULL), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(s[i], 1);
    custscore_bin_options r = CUSTSCORE_BIN_OPTIONS_INIT;
    r.reverse = 1;
    ck_assert_int_eq(custscore_score_bins(same, 3, &r, s, NULL), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(s[i], 5);
    /* one value */
    ck_assert_int_eq(custscore_score_bins(same, 1, NULL, s, NULL), 0);
    ck_assert_int_eq(s[0], 1);
    /* none */
    ck_assert_int_eq(custscore_score_bins(NULL, 0, NULL, NULL, NULL), 0);
    /* NaN: score 0, left out of the cut points (2 bins of {1, 10}: q = 5.5) */
    double gaps[] = {1, NAN, 10};
    custscore_bin_options two = CUSTSCORE_BIN_OPTIONS_INIT;
    two.bins = 2;
    two.cut_offset = 0;
    double cut;
    ck_assert_int_eq(custscore_score_bins(gaps, 3, &two, s, &cut), 0);
    ck_assert_int_eq(s[0], 1);
    ck_assert_int_eq(s[1], 0);
    ck_assert_int_eq(s[2], 2);
    ck_assert_double_eq_tol(cut, 5.5, 1e-12);
    /* bad input */
    double inf[] = {1, INFINITY};
    ck_assert_int_eq(custscore_score_bins(inf, 2, NULL, s, NULL), CUSTSCORE_EINVAL);
    custscore_bin_options bad = CUSTSCORE_BIN_OPTIONS_INIT;
    bad.bins = 0;
    ck_assert_int_eq(custscore_score_bins(v, 5, &bad, s, NULL), CUSTSCORE_EINVAL);
    bad.bins = 10;
    ck_assert_int_eq(custscore_score_bins(v, 5, &bad, s, NULL), CUSTSCORE_EINVAL);
    bad.bins = 5;
    bad.ties = (custscore_ties)7;
    ck_assert_int_eq(custscore_score_bins(v, 5, &bad, s, NULL), CUSTSCORE_EINVAL);
    bad.ties = CUSTSCORE_TIES_VALUE;
    bad.version = 99;
    ck_assert_int_eq(custscore_score_bins(v, 5, &bad, s, NULL), CUSTSCORE_EINVAL);
    bad.version = CUSTSCORE_BIN_OPTIONS_VERSION;
    bad.cut_offset = NAN;
    ck_assert_int_eq(custscore_score_bins(v, 5, &bad, s, NULL), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_score_bins(v, 5, NULL, NULL, NULL), CUSTSCORE_EINVAL);
}
END_TEST

START_TEST(test_bins_rank)
{
    custscore_bin_options o = CUSTSCORE_BIN_OPTIONS_INIT;
    o.ties = CUSTSCORE_TIES_RANK;
    o.bins = 3;
    /* sorted: 1(i1) 2(i2) 2(i3) 2(i4) 3(i0) 5(i5); two per bin; the three 2s
     * are split in input order */
    double v[] = {3, 1, 2, 2, 2, 5};
    int s[7];
    double cuts[4];
    ck_assert_int_eq(custscore_score_bins(v, 6, &o, s, cuts), 0);
    int expect[6] = {3, 1, 1, 2, 2, 3};
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(s[i], expect[i]);
    ck_assert_double_eq(cuts[0], 2);
    ck_assert_double_eq(cuts[1], 3);
    o.reverse = 1;
    ck_assert_int_eq(custscore_score_bins(v, 6, &o, s, NULL), 0);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(s[i], 4 - expect[i]);
    /* the general (sorting) path gives the same: values + 0.5 */
    double half[6];
    for (int i = 0; i < 6; i++)
        half[i] = v[i] + 0.5;
    ck_assert_int_eq(custscore_score_bins(half, 6, &o, s, cuts), 0);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(s[i], 4 - expect[i]);
    ck_assert_double_eq(cuts[0], 2.5);
    ck_assert_double_eq(cuts[1], 3.5);
    /* 7 values in 3 bins: sizes 3, 2, 2 (larger bins first) */
    o.reverse = 0;
    double seven[] = {1, 2, 3, 4, 5, 6, 7};
    ck_assert_int_eq(custscore_score_bins(seven, 7, &o, s, NULL), 0);
    int expect7[7] = {1, 1, 1, 2, 2, 3, 3};
    for (int i = 0; i < 7; i++)
        ck_assert_int_eq(s[i], expect7[i]);
    /* fewer values than bins: the upper bins stay empty */
    o.bins = 5;
    double two[] = {9, 4};
    ck_assert_int_eq(custscore_score_bins(two, 2, &o, s, cuts), 0);
    ck_assert_int_eq(s[0], 2);
    ck_assert_int_eq(s[1], 1);
    ck_assert_double_eq(cuts[0], 9);
    ck_assert(isnan(cuts[1]) && isnan(cuts[3]));
    /* NaN stays 0 and out of the ranking */
    double gaps[] = {NAN, 5, 1};
    o.bins = 2;
    ck_assert_int_eq(custscore_score_bins(gaps, 3, &o, s, NULL), 0);
    ck_assert_int_eq(s[0], 0);
    ck_assert_int_eq(s[1], 2);
    ck_assert_int_eq(s[2], 1);
}
END_TEST

static const double *large_values;

static int cmp_value_then_index(const void *a, const void *b)
{
    int i = *(const int *)a, j = *(const int *)b;
    if (large_values[i] != large_values[j])
        return large_values[i] < large_values[j] ? -1 : 1;
    return (i > j) - (i < j);
}

START_TEST(test_bins_rank_large)
{
    /* 1000 values with heavy ties (i % 7): rank bins are exactly 200 each
     * and scores never decrease along (value, input order); value bins give
     * tied values one score. */
    enum { N = 1000 };
    double *v = malloc(N * sizeof *v);
    int *s = malloc(N * sizeof *s);
    int *t = malloc(N * sizeof *t);
    for (int i = 0; i < N; i++)
        v[i] = (double)(i * 37 % 7) - 3.0;
    custscore_bin_options o = CUSTSCORE_BIN_OPTIONS_INIT;
    o.ties = CUSTSCORE_TIES_RANK;
    ck_assert_int_eq(custscore_score_bins(v, N, &o, s, NULL), 0);
    int count[6] = {0};
    for (int i = 0; i < N; i++)
        count[s[i]]++;
    for (int b = 1; b <= 5; b++)
        ck_assert_int_eq(count[b], N / 5);
    /* along (value, input order) rank scores never decrease and value
     * scores change only where the value does */
    int *by = malloc(N * sizeof *by);
    for (int i = 0; i < N; i++)
        by[i] = i;
    large_values = v;
    qsort(by, N, sizeof *by, cmp_value_then_index);
    ck_assert_int_eq(custscore_score_bins(v, N, NULL, t, NULL), 0);
    for (int j = 1; j < N; j++) {
        int a = by[j - 1], b = by[j];
        ck_assert_int_le(s[a], s[b]);
        ck_assert_int_le(t[a], t[b]);
        if (v[a] == v[b])
            ck_assert_int_eq(t[a], t[b]);
    }
    free(by);
    free(v);
    free(s);
    free(t);
}
END_TEST

START_TEST(test_bins_thresholds)
{
    /* The rfm package example thresholds for recency: bins [min,115),
     * [115,181), [181,297), [297,482), [482,max]; recency reversed. */
    double th[] = {115, 181, 297, 482};
    custscore_bin_options o = CUSTSCORE_BIN_OPTIONS_INIT;
    o.thresholds = th;
    o.n_thresholds = 4;
    o.reverse = 1;
    o.bins = 0; /* ignored with thresholds */
    double v[] = {114, 115, 180, 181, 500};
    int s[5];
    double cuts[4];
    ck_assert_int_eq(custscore_score_bins(v, 5, &o, s, cuts), 0);
    int expect[5] = {5, 4, 4, 3, 1};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(s[i], expect[i]);
    for (int k = 0; k < 4; k++)
        ck_assert_double_eq(cuts[k], th[k]);
    /* equal thresholds: an empty bin */
    double eq[] = {2, 2};
    custscore_bin_options e = CUSTSCORE_BIN_OPTIONS_INIT;
    e.thresholds = eq;
    e.n_thresholds = 2;
    double w[] = {1, 2, 3};
    ck_assert_int_eq(custscore_score_bins(w, 3, &e, s, NULL), 0);
    ck_assert_int_eq(s[0], 1);
    ck_assert_int_eq(s[1], 3);
    ck_assert_int_eq(s[2], 3);
    double down[] = {5, 4};
    e.thresholds = down;
    ck_assert_int_eq(custscore_score_bins(w, 3, &e, s, NULL), CUSTSCORE_EINVAL);
    double nan_th[] = {1, NAN};
    e.thresholds = nan_th;
    ck_assert_int_eq(custscore_score_bins(w, 3, &e, s, NULL), CUSTSCORE_EINVAL);
    double nine[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    e.thresholds = nine;
    e.n_thresholds = 9;
    ck_assert_int_eq(custscore_score_bins(w, 3, &e, s, NULL), CUSTSCORE_EINVAL);
    e.n_thresholds = 0;
    ck_assert_int_eq(custscore_score_bins(w, 3, &e, s, NULL), CUSTSCORE_EINVAL);
}
END_TEST

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

START_TEST(test_internal_sort)
{
    /* The radix sort against qsort, with negatives, zeros of both signs and
     * ties; the order is stable. */
    enum { N = 5000 };
    double *v = malloc(N * sizeof *v), *w = malloc(N * sizeof *w);
    size_t *idx = malloc(N * sizeof *idx);
    unsigned seed = 12345;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        int r = (int)((seed >> 8) % 2001) - 1000;
        v[i] = r == 0 ? ((i & 1) ? -0.0 : 0.0) : r * 0.37;
        w[i] = v[i];
    }
    qsort(w, N, sizeof *w, cmp_double);
    ck_assert_int_eq(cs_order_by_double(v, N, false, idx), 0);
    for (int j = 0; j < N; j++) {
        ck_assert(v[idx[j]] == w[j]);
        if (j > 0 && v[idx[j]] == v[idx[j - 1]])
            ck_assert_uint_lt(idx[j - 1], idx[j]);
    }
    ck_assert_int_eq(cs_order_by_double(v, N, true, idx), 0);
    for (int j = 0; j < N; j++) {
        ck_assert(v[idx[j]] == w[N - 1 - j]);
        if (j > 0 && v[idx[j]] == v[idx[j - 1]])
            ck_assert_uint_lt(idx[j - 1], idx[j]);
    }
    ck_assert_int_eq(cs_sort_doubles(v, N), 0);
    for (int j = 0; j < N; j++)
        ck_assert(v[j] == w[j]);
    double small[] = {2, -1, 2, 0};
    size_t si[4];
    ck_assert_int_eq(cs_order_by_double(small, 4, true, si), 0);
    ck_assert_uint_eq(si[0], 0);
    ck_assert_uint_eq(si[1], 2);
    ck_assert_uint_eq(si[2], 3);
    ck_assert_uint_eq(si[3], 1);
    free(v);
    free(w);
    free(idx);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Segments */

START_TEST(test_segments_default_and_match)
{
    size_t n = 0;
    const custscore_segment_rule *rules = custscore_segments_default(&n);
    ck_assert_uint_eq(n, 10);
    const char *names[] = {"Champions", "Potential Loyalist", "Loyal Customers",
                           "Promising", "New Customers",      "Can't Lose Them",
                           "At Risk",   "Need Attention",     "About To Sleep",
                           "Lost"};
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(rules[i].name, names[i]);
    ck_assert_int_eq(custscore_segment_match(rules, n, 5, 5, 5), 0);
    /* (3,4,3) matches Potential Loyalist (rule 2) and Loyal Customers (3): first wins */
    ck_assert_int_eq(custscore_segment_match(rules, n, 3, 4, 3), 1);
    ck_assert_int_eq(custscore_segment_match(rules, n, 1, 1, 1), 9);
    ck_assert_int_eq(custscore_segment_match(rules, n, 3, 1, 1), 8);
    ck_assert_int_eq(custscore_segment_match(rules, n, 2, 5, 1), -1); /* Others */
    ck_assert_int_eq(custscore_segment_match(rules, n, 0, 0, 0), -1);
    ck_assert_int_eq(custscore_segment_match(NULL, 3, 5, 5, 5), -1);
    ck_assert_ptr_nonnull(custscore_segments_default(NULL));
}
END_TEST

START_TEST(test_segments_parse)
{
    char err[256];
    custscore_segments *s = NULL;
    const char *text = "# my rules\r\n"
                       "m_min,M_MAX,segment,r_min,r_max,f_min,f_max\r\n"
                       "1,5,\"Best, really\",5,5,4,5\r\n"
                       "\r\n"
                       "0,9, Rest ,0,9,0,9\r\n";
    ck_assert_msg(custscore_segments_parse(text, strlen(text), "t.csv", &s, err, sizeof err) == 0,
                  "%s", err);
    ck_assert_uint_eq(s->count, 2);
    ck_assert_str_eq(s->rules[0].name, "Best, really");
    ck_assert_int_eq(s->rules[0].r_min, 5);
    ck_assert_int_eq(s->rules[0].r_max, 5);
    ck_assert_int_eq(s->rules[0].f_min, 4);
    ck_assert_int_eq(s->rules[0].f_max, 5);
    ck_assert_int_eq(s->rules[0].m_min, 1);
    ck_assert_int_eq(s->rules[0].m_max, 5);
    ck_assert_str_eq(s->rules[1].name, "Rest");
    ck_assert_int_eq(s->rules[1].r_min, 0);
    ck_assert_int_eq(s->rules[1].m_max, 9);
    ck_assert_int_eq(custscore_segment_match(s->rules, s->count, 5, 4, 1), 0);
    ck_assert_int_eq(custscore_segment_match(s->rules, s->count, 4, 4, 1), 1);
    custscore_segments_free(s);

    /* no header: positional */
    const char *plain = "A,1,2,3,4,5,5\n";
    ck_assert_int_eq(custscore_segments_parse(plain, strlen(plain), NULL, &s, NULL, 0), 0);
    ck_assert_uint_eq(s->count, 1);
    ck_assert_int_eq(s->rules[0].f_max, 4);
    custscore_segments_free(s);
    custscore_segments_free(NULL);

    struct {
        const char *text;
        int code;
        const char *message;
    } bad[] = {
        {"segment,r_min,r_max,f_min,f_max,m_min,m_max\nA,1,2,3,4,5,5\nB,x,2,3,4,5,5\n",
         CUSTSCORE_EINVAL, "t.csv:3:2: r_min: \"x\": not a score 0..9"},
        {"A,3,2,1,1,1,1\n", CUSTSCORE_EINVAL, "t.csv:1:3: r_max: \"2\": less than r_min 3"},
        {"A,1,2\n", CUSTSCORE_EINVAL, "t.csv:1: expected 7 fields, found 3"},
        {"A,1,10,1,1,1,1\n", CUSTSCORE_EINVAL, "t.csv:1:3: r_max: \"10\""},
        {",1,1,1,1,1,1\n", CUSTSCORE_EINVAL, "empty segment name"},
        {"segment,r_min,r_max,f_min,f_max,m_min,mmax\n", CUSTSCORE_EINVAL,
         "t.csv:1:7: header: \"mmax\": unknown column"},
        {"segment,r_min,r_max,f_min,f_max,m_min\n", CUSTSCORE_EINVAL,
         "t.csv:1: missing column m_max"},
        {"segment,r_min,r_min,f_min,f_max,m_min,m_max\n", CUSTSCORE_EINVAL, "duplicate column"},
        {"", CUSTSCORE_EINVAL, "t.csv: no segment rules"},
        {"# nothing\n\n", CUSTSCORE_EINVAL, "no segment rules"},
        {"A,1,1,1,1,1,1\n\"B,1,1,1,1,1,1\n", CUSTSCORE_EINVAL, "t.csv:2:"},
    };
    for (size_t i = 0; i < N_OF(bad); i++) {
        s = (custscore_segments *)1;
        int rc = custscore_segments_parse(bad[i].text, strlen(bad[i].text), "t.csv", &s, err,
                                          sizeof err);
        ck_assert_msg(rc == bad[i].code, "case %zu: rc %d", i, rc);
        ck_assert_ptr_null(s);
        ck_assert_msg(strstr(err, bad[i].message) != NULL, "case %zu: message '%s'", i, err);
    }
    /* too many rules */
    size_t size = 1001 * 16 + 1;
    char *many = malloc(size);
    many[0] = '\0';
    for (int i = 0; i < 1001; i++)
        strcat(many, "S,1,5,1,5,1,5\n");
    ck_assert_int_eq(custscore_segments_parse(many, strlen(many), "m", &s, err, sizeof err),
                     CUSTSCORE_ERANGE);
    free(many);
    ck_assert_int_eq(custscore_segments_parse(NULL, 3, NULL, &s, NULL, 0), CUSTSCORE_EINVAL);

    /* from a file */
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "segments.csv");
    ck_assert_int_eq(tu_write_file(path, "segment,r_min,r_max,f_min,f_max,m_min,m_max\n"
                                         "Top,4,5,4,5,4,5\n"),
                     0);
    ck_assert_int_eq(custscore_segments_load(path, &s, err, sizeof err), 0);
    ck_assert_uint_eq(s->count, 1);
    ck_assert_str_eq(s->rules[0].name, "Top");
    custscore_segments_free(s);
    char *missing = tu_join(dir, "missing.csv");
    ck_assert_int_eq(custscore_segments_load(missing, &s, err, sizeof err), CUSTSCORE_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err, "missing.csv"));
    free(missing);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_rfm_score_arrays)
{
    /* Customer i: recency i+1, frequency = monetary = 5-i, plus one without
     * purchases. 5 distinct values in 5 bins (offset 1): scores 1,1,2,3,4. */
    double rec[6] = {1, 2, 3, 4, 5, NAN}, fr[6] = {5, 4, 3, 2, 1, 0}, mo[6] = {5, 4, 3, 2, 1, 0};
    int r[6], f[6], m[6], seg[6];
    ck_assert_int_eq(custscore_rfm_score(rec, fr, mo, 6, NULL, r, f, m, seg), 0);
    int er[6] = {5, 5, 4, 3, 2, 0}, ef[6] = {4, 3, 2, 1, 1, 0};
    /* (5,4,4) (5,3,3) -> Potential Loyalist; (4,2,2) -> Loyal Customers;
     * (3,1,1) (2,1,1) -> About To Sleep; not scored -> Others */
    int es[6] = {1, 1, 2, 8, 8, -1};
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(r[i], er[i]);
        ck_assert_int_eq(f[i], ef[i]);
        ck_assert_int_eq(m[i], ef[i]);
        ck_assert_int_eq(seg[i], es[i]);
    }
    /* rank cut points: one customer per bin */
    custscore_rfm_options o = CUSTSCORE_RFM_OPTIONS_INIT;
    o.ties = CUSTSCORE_TIES_RANK;
    ck_assert_int_eq(custscore_rfm_score(rec, fr, mo, 6, &o, r, f, m, NULL), 0);
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(r[i], 5 - i);
        ck_assert_int_eq(f[i], 5 - i);
    }
    ck_assert_int_eq(r[5], 0);
    /* own rules */
    custscore_segment_rule mine[] = {{"Fresh", 5, 5, 1, 9, 1, 9}, {"None", 0, 0, 0, 0, 0, 0}};
    o.segments = mine;
    o.n_segments = 2;
    ck_assert_int_eq(custscore_rfm_score(rec, fr, mo, 6, &o, r, f, m, seg), 0);
    ck_assert_int_eq(seg[0], 0); /* rank ties still on: r = 5 4 3 2 1 */
    ck_assert_int_eq(seg[1], -1);
    ck_assert_int_eq(seg[5], 1);
    /* thresholds per score */
    custscore_rfm_options t = CUSTSCORE_RFM_OPTIONS_INIT;
    double rth[] = {3};
    t.recency_thresholds = rth;
    t.n_recency_thresholds = 1;
    ck_assert_int_eq(custscore_rfm_score(rec, fr, mo, 6, &t, r, f, m, NULL), 0);
    ck_assert_int_eq(r[0], 2);
    ck_assert_int_eq(r[2], 1);
    /* bad options */
    o.segments = NULL;
    ck_assert_int_eq(custscore_rfm_score(rec, fr, mo, 6, &o, r, f, m, NULL), CUSTSCORE_EINVAL);
    o.n_segments = 0;
    o.bins = 12;
    ck_assert_int_eq(custscore_rfm_score(rec, fr, mo, 6, &o, r, f, m, NULL), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_rfm_score(rec, fr, mo, 6, NULL, NULL, f, m, NULL), CUSTSCORE_EINVAL);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Profit, whale curve, tiers */

START_TEST(test_profit_rank_share)
{
    double p[] = {10, 30, 10, -5};
    int64_t rank[4];
    double share[4];
    ck_assert_int_eq(custscore_profit_rank(p, 4, rank, share), 0);
    ck_assert_int_eq(rank[0], 2);
    ck_assert_int_eq(rank[1], 1);
    ck_assert_int_eq(rank[2], 3); /* equal profit: input order */
    ck_assert_int_eq(rank[3], 4);
    ck_assert_double_eq_tol(share[1], 30.0 / 45.0, 1e-15);
    ck_assert_double_eq_tol(share[3], -5.0 / 45.0, 1e-15);
    double z[] = {-1, 1};
    ck_assert_int_eq(custscore_profit_rank(z, 2, NULL, share), 0);
    ck_assert(isnan(share[0]) && isnan(share[1]));
    double bad[] = {1, NAN};
    ck_assert_int_eq(custscore_profit_rank(bad, 2, rank, NULL), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_profit_rank(NULL, 0, NULL, NULL), 0);
}
END_TEST

START_TEST(test_whale_curve)
{
    /* ranked: 50 40 30 0 -20, total 100, peak 120 after 3 of 5 customers */
    double p[] = {50, -20, 30, 0, 40};
    custscore_whale_summary s;
    double x[6], y[6];
    ck_assert_int_eq(custscore_whale_curve(p, 5, 6, x, y, &s), 0);
    ck_assert_int_eq(s.customers, 5);
    ck_assert_double_eq_tol(s.total_profit, 100, 1e-12);
    ck_assert_double_eq_tol(s.peak_profit, 120, 1e-12);
    ck_assert_double_eq_tol(s.peak_height, 1.2, 1e-12);
    ck_assert_int_eq(s.peak_customers, 3);
    ck_assert_double_eq_tol(s.peak_customer_share, 0.6, 1e-12);
    ck_assert_double_eq_tol(s.loss_tail, 20, 1e-12);
    ck_assert_int_eq(s.loss_customers, 1);
    ck_assert_double_eq_tol(s.loss_customer_share, 0.2, 1e-12);
    ck_assert_int_eq(s.zero_customers, 1);
    double ex[6] = {0, 0.2, 0.4, 0.6, 0.8, 1}, ey[6] = {0, 0.5, 0.9, 1.2, 1.2, 1.0};
    for (int i = 0; i < 6; i++) {
        ck_assert_double_eq_tol(x[i], ex[i], 1e-12);
        ck_assert_double_eq_tol(y[i], ey[i], 1e-12);
    }
    /* 3 points: k = 0, round(2.5) = 3, 5 */
    ck_assert_int_eq(custscore_whale_curve(p, 5, 3, x, y, NULL), 0);
    ck_assert_double_eq_tol(x[1], 0.6, 1e-12);
    ck_assert_double_eq_tol(y[1], 1.2, 1e-12);
    ck_assert_double_eq_tol(y[2], 1.0, 1e-12);
    /* a loss overall: no scale, absolute figures still there */
    double loss[] = {-5, 2};
    ck_assert_int_eq(custscore_whale_curve(loss, 2, 2, x, y, &s), 0);
    ck_assert(isnan(s.peak_height));
    ck_assert(isnan(y[1]));
    ck_assert_double_eq(s.peak_profit, 2);
    ck_assert_double_eq(s.loss_tail, 5);
    ck_assert_double_eq(s.peak_customer_share, 0.5);
    /* no customers */
    ck_assert_int_eq(custscore_whale_curve(NULL, 0, 0, NULL, NULL, &s), 0);
    ck_assert_int_eq(s.customers, 0);
    ck_assert(isnan(s.peak_height));
    /* bad input */
    ck_assert_int_eq(custscore_whale_curve(p, 5, 1, x, y, &s), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_whale_curve(p, 5, 4, NULL, y, &s), CUSTSCORE_EINVAL);
    double nan_p[] = {1, NAN};
    ck_assert_int_eq(custscore_whale_curve(nan_p, 2, 0, NULL, NULL, &s), CUSTSCORE_EINVAL);
}
END_TEST

START_TEST(test_tiers_percentile)
{
    /* profits 10..100 in shuffled order: key = top round(0.2*10) = 2,
     * ordinary = next up to round(0.5*10) = 5, small = the rest */
    double p[10];
    int t[10];
    for (int i = 0; i < 10; i++)
        p[i] = (double)((i * 3 % 10) + 1) * 10;
    ck_assert_int_eq(custscore_tiers_assign(p, 10, NULL, t), 0);
    for (int i = 0; i < 10; i++) {
        int expect = p[i] >= 90 ? 0 : p[i] >= 60 ? 1 : 2;
        ck_assert_int_eq(t[i], expect);
    }
    /* zeros are small, negatives loss-making */
    double q[] = {50, 0, -10, 40, 30, 20, 10, 0, -5, 60};
    int eq[] = {0, 2, 3, 1, 1, 1, 2, 2, 3, 0};
    ck_assert_int_eq(custscore_tiers_assign(q, 10, NULL, t), 0);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(t[i], eq[i]);
    /* few profitable customers: only they can be key */
    double few[] = {-1, 5, -2, -3, -4, -5, -6, -7, -8, -9};
    ck_assert_int_eq(custscore_tiers_assign(few, 10, NULL, t), 0);
    ck_assert_int_eq(t[1], 0);
    for (int i = 0; i < 10; i++)
        if (i != 1)
            ck_assert_int_eq(t[i], 3);
    double zeros[] = {0, 0, 0, -1};
    ck_assert_int_eq(custscore_tiers_assign(zeros, 4, NULL, t), 0);
    ck_assert_int_eq(t[0], 2);
    ck_assert_int_eq(t[3], 3);
    /* ties: rank fills exactly (1 key, up to round(2.5) = 3), value shares */
    double same[] = {10, 10, 10, 10, 10};
    ck_assert_int_eq(custscore_tiers_assign(same, 5, NULL, t), 0);
    int er[] = {0, 1, 1, 2, 2};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(t[i], er[i]);
    custscore_tier_options v = CUSTSCORE_TIER_OPTIONS_INIT;
    v.ties = CUSTSCORE_TIES_VALUE;
    ck_assert_int_eq(custscore_tiers_assign(same, 5, &v, t), 0);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(t[i], 0);
    /* one customer */
    ck_assert_int_eq(custscore_tiers_assign(same, 1, NULL, t), 0);
    ck_assert_int_eq(t[0], 1); /* round(0.2) = 0 key places, round(0.5) = 1 ordinary */
    ck_assert_int_eq(custscore_tiers_assign(NULL, 0, NULL, NULL), 0);
    /* names */
    ck_assert_int_eq(custscore_tier_count(NULL), 4);
    ck_assert_str_eq(custscore_tier_name(NULL, 0), "key");
    ck_assert_str_eq(custscore_tier_name(NULL, 1), "ordinary");
    ck_assert_str_eq(custscore_tier_name(NULL, 2), "small");
    ck_assert_str_eq(custscore_tier_name(NULL, 3), "loss-making");
    ck_assert_ptr_null(custscore_tier_name(NULL, 4));
    ck_assert_ptr_null(custscore_tier_name(NULL, -1));
    custscore_tier_options g = CUSTSCORE_TIER_OPTIONS_INIT;
    double three[] = {0.1, 0.3, 0.6};
    g.cuts = three;
    g.n_cuts = 3;
    ck_assert_int_eq(custscore_tier_count(&g), 5);
    ck_assert_str_eq(custscore_tier_name(&g, 4), "tier5");
    /* bad options */
    double down[] = {0.5, 0.2};
    g.cuts = down;
    g.n_cuts = 2;
    ck_assert_int_eq(custscore_tiers_assign(p, 10, &g, t), CUSTSCORE_EINVAL);
    double over[] = {0.2, 1.5};
    g.cuts = over;
    ck_assert_int_eq(custscore_tier_count(&g), CUSTSCORE_EINVAL);
    g.cuts = NULL;
    g.n_cuts = 0;
    const char *two_names[] = {"a", "b"};
    g.names = two_names;
    g.n_names = 2;
    ck_assert_int_eq(custscore_tiers_assign(p, 10, &g, t), CUSTSCORE_EINVAL);
    double nan_p[] = {1, NAN};
    ck_assert_int_eq(custscore_tiers_assign(nan_p, 2, NULL, t), CUSTSCORE_EINVAL);
}
END_TEST

START_TEST(test_tiers_absolute)
{
    double levels[] = {0, 2000, 10000, 30000};
    const char *names[] = {"platinum", "gold", "silver", "bronze", "loss"};
    custscore_tier_options o = CUSTSCORE_TIER_OPTIONS_INIT;
    o.mode = CUSTSCORE_TIERS_ABSOLUTE;
    o.cuts = levels;
    o.n_cuts = 4;
    o.names = names;
    o.n_names = 5;
    double p[] = {35000, 30000, 29999.99, 10000, 2000, 1999, 0, -0.01};
    int expect[] = {0, 0, 1, 1, 2, 3, 3, 4};
    int t[8];
    ck_assert_int_eq(custscore_tiers_assign(p, 8, &o, t), 0);
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(t[i], expect[i]);
    ck_assert_int_eq(custscore_tier_count(&o), 5);
    ck_assert_str_eq(custscore_tier_name(&o, 2), "silver");
    o.cuts = NULL;
    o.n_cuts = 0;
    ck_assert_int_eq(custscore_tiers_assign(p, 8, &o, t), CUSTSCORE_EINVAL);
    double equal[] = {1, 1};
    o.cuts = equal;
    o.n_cuts = 2;
    o.names = NULL;
    o.n_names = 0;
    ck_assert_int_eq(custscore_tiers_assign(p, 8, &o, t), CUSTSCORE_EINVAL);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Lifecycle */

#define AS_OF_DAY 1000

static custscore_lifecycle stage_with(const int64_t *days, size_t n,
                                      const custscore_lifecycle_options *o)
{
    int64_t ts[64];
    ck_assert_uint_le(n, 64);
    for (size_t i = 0; i < n; i++)
        ts[i] = days[i] * DAY + 3600;
    custscore_lifecycle stage = (custscore_lifecycle)-1;
    ck_assert_int_eq(custscore_lifecycle_of(ts, n, AS_OF_DAY * DAY + 43200, o, &stage), 0);
    return stage;
}

static custscore_lifecycle stage_of(const int64_t *days, size_t n)
{
    return stage_with(days, n, NULL);
}

/* Occasions every @step days from @from to @to (days, inclusive). */
static size_t every(int64_t *out, int64_t from, int64_t to, int64_t step)
{
    size_t n = 0;
    for (int64_t d = from; d <= to; d += step)
        out[n++] = d;
    return n;
}

START_TEST(test_lifecycle_rules)
{
    /* Defaults: W = 12 months = 365 days (halves: ages 0..182, 183..364),
     * lapsed after 365 days. */
    int64_t d[64];
    ck_assert_int_eq(stage_of(NULL, 0), CUSTSCORE_LIFECYCLE_PROSPECT);
    d[0] = AS_OF_DAY - 400;
    ck_assert_int_eq(stage_of(d, 1), CUSTSCORE_LIFECYCLE_LAPSED);
    d[0] = AS_OF_DAY - 365; /* not lapsed (365 is not > 365), not new (age 365 >= W) */
    ck_assert_int_eq(stage_of(d, 1), CUSTSCORE_LIFECYCLE_DECLINING);
    d[0] = AS_OF_DAY - 364;
    ck_assert_int_eq(stage_of(d, 1), CUSTSCORE_LIFECYCLE_NEW);
    /* new: first within W, one repeat */
    d[0] = 900;
    d[1] = 950;
    ck_assert_int_eq(stage_of(d, 2), CUSTSCORE_LIFECYCLE_NEW);
    /* two repeats, first seen within the recent half: growing */
    d[2] = 960;
    ck_assert_int_eq(stage_of(d, 3), CUSTSCORE_LIFECYCLE_GROWING);
    /* same-day occasions count once */
    int64_t ts[3] = {900 * DAY + 10, 900 * DAY + 5000, 950 * DAY};
    custscore_lifecycle st;
    ck_assert_int_eq(custscore_lifecycle_of(ts, 3, AS_OF_DAY * DAY, NULL, &st), 0);
    ck_assert_int_eq(st, CUSTSCORE_LIFECYCLE_NEW);
    /* overdue: monthly buyer silent for 120 days (> 2 x 30) */
    size_t n = every(d, 280, 900, 30);
    ck_assert_int_eq(stage_of(d, n), CUSTSCORE_LIFECYCLE_DECLINING);
    /* mature: monthly up to today (recent 7/183 vs earlier 6/182 per day) */
    n = every(d, 280, 1000, 30);
    ck_assert_int_eq(stage_of(d, n), CUSTSCORE_LIFECYCLE_MATURE);
    /* growing: 1 occasion in the earlier half, 6 in the recent */
    int64_t g[] = {300, 700, 850, 880, 910, 940, 970, 1000};
    ck_assert_int_eq(stage_of(g, N_OF(g)), CUSTSCORE_LIFECYCLE_GROWING);
    /* declining trend: 12 in the earlier half, 2 in the recent, not overdue */
    n = 0;
    d[n++] = AS_OF_DAY - 700;
    for (int64_t age = 360; age >= 195; age -= 15)
        d[n++] = AS_OF_DAY - age;
    d[n++] = AS_OF_DAY - 100;
    d[n++] = AS_OF_DAY - 10;
    ck_assert_int_eq(stage_of(d, n), CUSTSCORE_LIFECYCLE_DECLINING);
    /* no occasion in the window, lapse limit longer: declining */
    int64_t old[] = {AS_OF_DAY - 500, AS_OF_DAY - 400};
    custscore_lifecycle_options o = CUSTSCORE_LIFECYCLE_OPTIONS_INIT;
    o.lapse_after = 24;
    ck_assert_int_eq(stage_with(old, 2, &o), CUSTSCORE_LIFECYCLE_DECLINING);
    ck_assert_int_eq(stage_of(old, 2), CUSTSCORE_LIFECYCLE_LAPSED);
    /* a wider tolerance turns the growing customer mature? no: 6 vs 1 stays
     * growing; the mature one stays mature with tolerance 0.5 */
    o = (custscore_lifecycle_options)CUSTSCORE_LIFECYCLE_OPTIONS_INIT;
    o.trend_tolerance = 0.1; /* 7/183 vs 6/182: ratio 1.16 > 1.1 */
    n = every(d, 280, 1000, 30);
    ck_assert_int_eq(stage_with(d, n, &o), CUSTSCORE_LIFECYCLE_GROWING);
    /* new_max_repeats */
    o = (custscore_lifecycle_options)CUSTSCORE_LIFECYCLE_OPTIONS_INIT;
    o.new_max_repeats = 2;
    int64_t three[] = {900, 950, 960};
    ck_assert_int_eq(stage_with(three, 3, &o), CUSTSCORE_LIFECYCLE_NEW);
    /* occasions after the as-of day are ignored */
    int64_t later[] = {900, 1001, 1002};
    ck_assert_int_eq(stage_of(later, 3), CUSTSCORE_LIFECYCLE_NEW);
    /* errors */
    int64_t unsorted[] = {950 * DAY, 900 * DAY};
    ck_assert_int_eq(custscore_lifecycle_of(unsorted, 2, AS_OF_DAY * DAY, NULL, &st),
                     CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_lifecycle_of(ts, 3, AS_OF_DAY * DAY, NULL, NULL), CUSTSCORE_EINVAL);
    o = (custscore_lifecycle_options)CUSTSCORE_LIFECYCLE_OPTIONS_INIT;
    o.window = 0;
    ck_assert_int_eq(custscore_lifecycle_of(ts, 3, AS_OF_DAY * DAY, &o, &st), CUSTSCORE_EINVAL);
    o.window = 12;
    o.unit = (custscore_unit)99;
    ck_assert_int_eq(custscore_lifecycle_of(ts, 3, AS_OF_DAY * DAY, &o, &st), CUSTSCORE_EINVAL);
    o.unit = CUSTSCORE_UNIT_MONTH;
    o.trend_tolerance = 1;
    ck_assert_int_eq(custscore_lifecycle_of(ts, 3, AS_OF_DAY * DAY, &o, &st), CUSTSCORE_EINVAL);
    /* names */
    const char *names[] = {"prospect", "new", "growing", "mature", "declining", "lapsed"};
    for (int i = 0; i <= 5; i++)
        ck_assert_str_eq(custscore_lifecycle_name((custscore_lifecycle)i), names[i]);
    ck_assert_str_eq(custscore_lifecycle_name((custscore_lifecycle)99), "unknown");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Bulk over arrays and over the store */

/* A: 10: 100 (cost 60) + 50 same day; 17: 30 (cost 10); 20: return -20;
 *    24: 70; 40: 999 after the as-of day (31).
 * B: only a return on day 30.  C: no orders.  D: 10 on day 5. */
static const char *const small_keys[] = {"A", "B", "C", "D"};
static const size_t small_offset[] = {0, 6, 7, 7, 8};
static const int64_t small_day[] = {10, 10, 17, 20, 24, 40, 30, 5};
static const double small_revenue[] = {100, 50, 30, -20, 70, 999, -5, 10};
static const double small_cost[] = {60, 0, 10, 0, 0, 0, 0, 0};

static void small_arrays(custscore_order_arrays *in, int64_t *ts)
{
    for (size_t j = 0; j < N_OF(small_day); j++)
        ts[j] = small_day[j] * DAY + 3600;
    in->n_customers = 4;
    in->customer = small_keys;
    in->offset = small_offset;
    in->ts = ts;
    in->revenue = small_revenue;
    in->cost = small_cost;
}

/* The hand-derived expectations for the small data set with whole-history
 * profit. Scored: A (recency 7, 3 occasions, 230) and D (26, 1, 10).
 * Cuts of {7, 26}: 11.8 15.6 19.4 23.2 -> A r 5, D r 1; of {1, 3}: 2.4 2.8
 * 3.2 3.6 -> A f 3, D f 1; of {10, 230}: 55 99 143 187 -> A m 5, D m 1.
 * A (5,3,5) is a Potential Loyalist, D (1,1,1) Lost. Profit: A 160, D 10,
 * C 0, B -5: A key (round(0.8) = 1 place), D ordinary, C small, B
 * loss-making. Lifecycle: A has 2 repeats, first seen 21 days ago: growing;
 * D new; B and C prospects. */
static void check_small(const custscore_value *v, bool keys)
{
    const custscore_value *a = &v[0], *b = &v[1], *c = &v[2], *d = &v[3];
    if (keys) {
        ck_assert_str_eq(a->customer, "A");
        ck_assert_str_eq(d->customer, "D");
    }
    ck_assert_int_eq(a->recency_days, 7);
    ck_assert_int_eq(a->frequency, 3);
    ck_assert_double_eq(a->monetary, 230);
    ck_assert_int_eq(a->orders, 5);
    ck_assert_int_eq(a->first, 10 * DAY);
    ck_assert_int_eq(a->last, 24 * DAY);
    ck_assert_int_eq(a->r, 5);
    ck_assert_int_eq(a->f, 3);
    ck_assert_int_eq(a->m, 5);
    ck_assert_int_eq(a->rfm_score, 535);
    ck_assert_str_eq(a->segment, "Potential Loyalist");
    ck_assert_int_eq(a->segment_index, 1);
    ck_assert_double_eq(a->revenue, 230);
    ck_assert_double_eq(a->cost, 70);
    ck_assert_double_eq(a->profit, 160);
    ck_assert_double_eq_tol(a->profit_share, 160.0 / 165.0, 1e-15);
    ck_assert_int_eq(a->profit_rank, 1);
    ck_assert_int_eq(a->tier, 0);
    ck_assert_str_eq(a->tier_name, "key");
    ck_assert_int_eq(a->lifecycle, CUSTSCORE_LIFECYCLE_GROWING);

    ck_assert_int_eq(b->recency_days, -1);
    ck_assert_int_eq(b->frequency, 0);
    ck_assert_double_eq(b->monetary, -5);
    ck_assert_int_eq(b->r + b->f + b->m + b->rfm_score, 0);
    ck_assert_str_eq(b->segment, "Others");
    ck_assert_int_eq(b->segment_index, -1);
    ck_assert_double_eq(b->profit, -5);
    ck_assert_int_eq(b->profit_rank, 4);
    ck_assert_str_eq(b->tier_name, "loss-making");
    ck_assert_int_eq(b->lifecycle, CUSTSCORE_LIFECYCLE_PROSPECT);
    ck_assert_int_eq(b->first, 0);

    ck_assert_int_eq(c->orders, 0);
    ck_assert_int_eq(c->recency_days, -1);
    ck_assert_double_eq(c->profit, 0);
    ck_assert_int_eq(c->profit_rank, 3);
    ck_assert_str_eq(c->tier_name, "small");
    ck_assert_int_eq(c->lifecycle, CUSTSCORE_LIFECYCLE_PROSPECT);

    ck_assert_int_eq(d->recency_days, 26);
    ck_assert_int_eq(d->frequency, 1);
    ck_assert_int_eq(d->rfm_score, 111);
    ck_assert_str_eq(d->segment, "Lost");
    ck_assert_int_eq(d->profit_rank, 2);
    ck_assert_str_eq(d->tier_name, "ordinary");
    ck_assert_int_eq(d->lifecycle, CUSTSCORE_LIFECYCLE_NEW);
}

START_TEST(test_value_compute_arrays)
{
    int64_t ts[8];
    custscore_order_arrays in;
    small_arrays(&in, ts);
    custscore_value_options o = CUSTSCORE_VALUE_OPTIONS_INIT;
    o.profit_window = 0; /* whole history */
    custscore_value v[4];
    custscore_whale_summary w;
    char err[256];
    ck_assert_int_eq(custscore_value_compute(&in, 31 * DAY + 7200, &o, v, &w, err, sizeof err), 0);
    check_small(v, true);
    ck_assert_int_eq(w.customers, 4);
    ck_assert_double_eq(w.total_profit, 165);
    ck_assert_double_eq(w.peak_profit, 170);
    ck_assert_double_eq(w.loss_tail, 5);
    ck_assert_int_eq(w.zero_customers, 1);

    /* frequency = orders (the rfm package), monetary = mean */
    o.rfm.frequency = CUSTSCORE_FREQUENCY_ORDERS;
    o.rfm.monetary = CUSTSCORE_MONETARY_MEAN;
    ck_assert_int_eq(custscore_value_compute(&in, 31 * DAY, &o, v, NULL, err, sizeof err), 0);
    ck_assert_int_eq(v[0].frequency, 5);
    ck_assert_double_eq_tol(v[0].monetary, 46, 1e-12);
    ck_assert_int_eq(v[1].frequency, 1); /* the return counts as an order... */
    ck_assert_int_eq(v[1].r, 0);         /* ...but B has no purchase to score */
    ck_assert_int_eq(v[2].frequency, 0);
    ck_assert_double_eq(v[2].monetary, 0);

    /* default 12-month window; then a 10-day window: days 22..31 */
    o = (custscore_value_options)CUSTSCORE_VALUE_OPTIONS_INIT;
    ck_assert_int_eq(custscore_value_compute(&in, 31 * DAY, &o, v, NULL, err, sizeof err), 0);
    ck_assert_double_eq(v[0].profit, 160);
    o.profit_window = 10;
    o.profit_window_unit = CUSTSCORE_UNIT_DAY;
    ck_assert_int_eq(custscore_value_compute(&in, 31 * DAY, &o, v, NULL, err, sizeof err), 0);
    ck_assert_double_eq(v[0].revenue, 70);
    ck_assert_double_eq(v[0].profit, 70);
    ck_assert_double_eq(v[0].monetary, 230); /* RFM monetary: whole history */
    ck_assert_double_eq(v[1].profit, -5);
    ck_assert_double_eq(v[3].profit, 0);

    /* without costs profit = revenue; without keys customer = NULL */
    in.cost = NULL;
    in.customer = NULL;
    o = (custscore_value_options)CUSTSCORE_VALUE_OPTIONS_INIT;
    ck_assert_int_eq(custscore_value_compute(&in, 31 * DAY, &o, v, &w, err, sizeof err), 0);
    ck_assert_ptr_null(v[0].customer);
    ck_assert_double_eq(v[0].cost, 0);
    ck_assert_double_eq(v[0].profit, 230);
    ck_assert_double_eq(w.total_profit, 235);

    /* a zero-revenue order is an occasion only on request */
    static const size_t zo[] = {0, 2};
    int64_t zts[] = {3 * DAY, 8 * DAY};
    double zrev[] = {0, 10};
    custscore_order_arrays z = {1, NULL, zo, zts, zrev, NULL};
    ck_assert_int_eq(custscore_value_compute(&z, 10 * DAY, NULL, v, NULL, err, sizeof err), 0);
    ck_assert_int_eq(v[0].frequency, 1);
    o.zero = CUSTSCORE_ZERO_REVENUE_PURCHASE;
    ck_assert_int_eq(custscore_value_compute(&z, 10 * DAY, &o, v, NULL, err, sizeof err), 0);
    ck_assert_int_eq(v[0].frequency, 2);
    ck_assert_int_eq(v[0].first, 3 * DAY);

    /* errors */
    in.customer = small_keys;
    int64_t bad_ts[8];
    memcpy(bad_ts, ts, sizeof bad_ts);
    bad_ts[2] = 1 * DAY;
    in.ts = bad_ts;
    ck_assert_int_eq(custscore_value_compute(&in, 31 * DAY, NULL, v, NULL, err, sizeof err),
                     CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "ascending"));
    ck_assert_ptr_nonnull(strstr(err, "(A)"));
    in.ts = ts;
    double nan_rev[8];
    memcpy(nan_rev, small_revenue, sizeof nan_rev);
    nan_rev[7] = NAN;
    in.revenue = nan_rev;
    ck_assert_int_eq(custscore_value_compute(&in, 31 * DAY, NULL, v, NULL, err, sizeof err),
                     CUSTSCORE_EINVAL);
    in.revenue = small_revenue;
    size_t bad_off[] = {0, 6, 5, 7, 8};
    in.offset = bad_off;
    ck_assert_int_eq(custscore_value_compute(&in, 31 * DAY, NULL, v, NULL, err, sizeof err),
                     CUSTSCORE_EINVAL);
    in.offset = small_offset;
    o = (custscore_value_options)CUSTSCORE_VALUE_OPTIONS_INIT;
    o.version = 42;
    ck_assert_int_eq(custscore_value_compute(&in, 31 * DAY, &o, v, NULL, err, sizeof err),
                     CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "version"));
    o = (custscore_value_options)CUSTSCORE_VALUE_OPTIONS_INIT;
    o.profit_window = -1;
    ck_assert_int_eq(custscore_value_compute(&in, 31 * DAY, &o, v, NULL, err, sizeof err),
                     CUSTSCORE_EINVAL);
    o.profit_window = 12;
    o.tiers.mode = CUSTSCORE_TIERS_ABSOLUTE;
    ck_assert_int_eq(custscore_value_compute(&in, 31 * DAY, &o, v, NULL, err, sizeof err),
                     CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "tier"));
    ck_assert_int_eq(custscore_value_compute(NULL, 31 * DAY, NULL, v, NULL, NULL, 0),
                     CUSTSCORE_EINVAL);
    custscore_order_arrays none = {0, NULL, NULL, NULL, NULL, NULL};
    ck_assert_int_eq(custscore_value_compute(&none, 31 * DAY, NULL, NULL, &w, NULL, 0), 0);
    ck_assert_int_eq(w.customers, 0);
}
END_TEST

static custscore *small_store(void)
{
    custscore *db = mem_store();
    char key[32];
    for (size_t i = 0; i < 4; i++) {
        if (small_offset[i] == small_offset[i + 1])
            ck_assert_int_eq(custscore_add_customer(db, small_keys[i], 0), 0);
        for (size_t j = small_offset[i]; j < small_offset[i + 1]; j++) {
            snprintf(key, sizeof key, "%zu", j);
            add(db, small_keys[i], key, small_day[j], small_revenue[j], small_cost[j],
                small_cost[j] > 0);
        }
    }
    return db;
}

static int stop_at_second(const custscore_value *v, void *payload)
{
    int *seen = payload;
    (void)v;
    return ++*seen == 2 ? 7 : 0;
}

/* Split one CSV line (no quotes expected) into fields; returns the count. */
static int split(char *line, char **field, int max)
{
    int n = 0;
    field[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == ',') {
            *p = '\0';
            field[n++] = p + 1;
        }
    return n;
}

START_TEST(test_value_store)
{
    custscore *db = small_store();
    custscore_value_options o = CUSTSCORE_VALUE_OPTIONS_INIT;
    o.profit_window = 0;
    rows r = {0};
    ck_assert_int_eq(custscore_value_each(db, 31 * DAY, &o, collect_rows, &r), 0);
    ck_assert_uint_eq(r.n, 4);
    check_small(r.v, true);
    rows_free(&r);
    int seen = 0;
    ck_assert_int_eq(custscore_value_each(db, 31 * DAY, &o, stop_at_second, &seen), 7);
    ck_assert_int_eq(seen, 2);

    custscore_whale_summary w;
    double x[5], y[5];
    ck_assert_int_eq(custscore_value_whale(db, 31 * DAY, &o, 5, x, y, &w), 0);
    ck_assert_double_eq(w.total_profit, 165);
    ck_assert_double_eq_tol(y[1], 160.0 / 165.0, 1e-12);
    ck_assert_double_eq_tol(y[4], 1.0, 1e-12);
    ck_assert_int_eq(custscore_value_whale(db, 31 * DAY, &o, 1, x, y, &w), CUSTSCORE_EINVAL);

    /* CSV */
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "value.csv");
    ck_assert_int_eq(custscore_value_write_csv(db, 31 * DAY, &o, path), 0);
    char *text = tu_read_file(path, NULL);
    ck_assert_ptr_nonnull(text);
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    ck_assert_str_eq(line, "customer,recency_days,frequency,monetary,r,f,m,rfm_score,segment,"
                           "revenue,cost,profit,profit_share,tier,lifecycle");
    int n_lines = 0;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        char *f[20];
        ck_assert_int_eq(split(line, f, 20), 15);
        n_lines++;
        if (strcmp(f[0], "A") == 0) {
            ck_assert_str_eq(f[1], "7");
            ck_assert_str_eq(f[2], "3");
            ck_assert_str_eq(f[3], "230");
            ck_assert_str_eq(f[7], "535");
            ck_assert_str_eq(f[8], "Potential Loyalist");
            ck_assert_double_eq_tol(strtod(f[12], NULL), 160.0 / 165.0, 1e-13);
            ck_assert_str_eq(f[13], "key");
            ck_assert_str_eq(f[14], "growing");
        } else if (strcmp(f[0], "B") == 0) {
            ck_assert_str_eq(f[1], ""); /* no purchase: no recency */
            ck_assert_str_eq(f[4], "0");
            ck_assert_str_eq(f[8], "Others");
            ck_assert_str_eq(f[11], "-5");
            ck_assert_str_eq(f[13], "loss-making");
            ck_assert_str_eq(f[14], "prospect");
        }
    }
    ck_assert_int_eq(n_lines, 4);
    free(text);
    /* errors: the message names the path; nothing is left behind */
    char *bad = tu_join(dir, "no/such/dir/value.csv");
    ck_assert_int_eq(custscore_value_write_csv(db, 31 * DAY, &o, bad), CUSTSCORE_EIO);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "no/such/dir"));
    free(bad);
    o.rfm.bins = 0;
    ck_assert_int_eq(custscore_value_write_csv(db, 31 * DAY, &o, path), CUSTSCORE_EINVAL);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "bins"));
    ck_assert_int_eq(custscore_value_each(db, 31 * DAY, &o, collect_rows, &r), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_value_each(db, 31 * DAY, NULL, NULL, NULL), CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_value_each(NULL, 31 * DAY, NULL, collect_rows, &r),
                     CUSTSCORE_EINVAL);
    ck_assert_int_eq(custscore_value_write_csv(db, 31 * DAY, NULL, NULL), CUSTSCORE_EINVAL);
    free(path);
    tu_rmtree(dir);
    free(dir);
    custscore_close(db);
}
END_TEST

START_TEST(test_value_empty_store)
{
    custscore *db = mem_store();
    rows r = {0};
    ck_assert_int_eq(custscore_value_each(db, 31 * DAY, NULL, collect_rows, &r), 0);
    ck_assert_uint_eq(r.n, 0);
    custscore_whale_summary w;
    ck_assert_int_eq(custscore_value_whale(db, 31 * DAY, NULL, 0, NULL, NULL, &w), 0);
    ck_assert_int_eq(w.customers, 0);
    /* one customer with one order */
    add(db, "solo", "1", 20, 42, 0, 0);
    ck_assert_int_eq(custscore_value_each(db, 31 * DAY, NULL, collect_rows, &r), 0);
    ck_assert_uint_eq(r.n, 1);
    ck_assert_int_eq(r.v[0].r, 5); /* one value: bin 1, recency reversed */
    ck_assert_int_eq(r.v[0].f, 1);
    ck_assert_int_eq(r.v[0].m, 1);
    ck_assert_str_eq(r.v[0].segment, "New Customers");
    ck_assert_str_eq(r.v[0].tier_name, "ordinary"); /* round(0.2) = 0 key places */
    ck_assert_int_eq(r.v[0].lifecycle, CUSTSCORE_LIFECYCLE_NEW);
    rows_free(&r);
    custscore_close(db);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Parity with the R package rfm (sample orders, analysis date 2006-12-31) */

typedef struct listed {
    const char *customer;
    int64_t recency_days, transaction_count;
    double amount;
    int r, f, m;
    const char *segment;
} listed;

/* From the package README (../shared/data/rfm/README.md). */
static const listed rfm_listed[] = {
    {"Abbey O'Reilly", 205, 6, 472, 3, 4, 3, "Potential Loyalist"},
    {"Add Senger", 140, 3, 340, 4, 1, 2, "New Customers"},
    {"Aden Lesch", 194, 4, 405, 3, 2, 3, "Loyal Customers"},
    {"Aden Murphy", 98, 7, 596, 5, 4, 4, "Potential Loyalist"},
    {"Admiral Senger", 132, 5, 448, 4, 3, 3, "Potential Loyalist"},
};

/* Rule set B of the package test tests/testthat/test-rfm-segment.R. */
static const custscore_segment_rule rule_set_b[] = {
    {"Champions", 4, 5, 4, 5, 4, 5},          {"Loyal Customers", 2, 5, 3, 5, 3, 5},
    {"Potential Loyalist", 3, 5, 1, 3, 1, 3}, {"New Customers", 4, 5, 1, 1, 1, 1},
    {"Promising", 3, 4, 1, 1, 1, 1},          {"Need Attention", 2, 3, 2, 3, 2, 3},
    {"About To Sleep", 2, 3, 1, 2, 1, 2},     {"At Risk", 1, 2, 2, 5, 2, 5},
    {"Can't Lose Them", 1, 1, 4, 5, 4, 5},    {"Lost", 1, 2, 1, 2, 1, 2},
};

static int64_t rfm_as_of(void)
{
    int64_t t;
    ck_assert_int_eq(custscore_parse_time("2006-12-31", NULL, &t), 0);
    return t;
}

static void check_rfm_parity(const custscore_value *v, size_t n)
{
    ck_assert_uint_eq(n, 995);
    int64_t orders = 0;
    for (size_t i = 0; i < n; i++)
        orders += v[i].frequency;
    ck_assert_int_eq(orders, 4906); /* package test: sum of transaction_count */
    for (size_t k = 0; k < N_OF(rfm_listed); k++) {
        const listed *e = &rfm_listed[k];
        const custscore_value *row = find_row(v, n, e->customer);
        ck_assert_msg(row != NULL, "%s missing", e->customer);
        ck_assert_int_eq(row->recency_days, e->recency_days);
        ck_assert_int_eq(row->frequency, e->transaction_count);
        ck_assert_double_eq(row->monetary, e->amount);
        ck_assert_int_eq(row->r, e->r);
        ck_assert_int_eq(row->f, e->f);
        ck_assert_int_eq(row->m, e->m);
        ck_assert_int_eq(row->rfm_score, 100 * e->r + 10 * e->f + e->m);
        ck_assert_str_eq(row->segment, e->segment);
    }
}

static void check_rule_set_b(const custscore_value *v, size_t n)
{
    int64_t customers = 0, orders = 0;
    double revenue = 0;
    for (size_t i = 0; i < n; i++) {
        int s = custscore_segment_match(rule_set_b, N_OF(rule_set_b), v[i].r, v[i].f, v[i].m);
        if (s == 0) {
            customers++;
            orders += v[i].frequency;
            revenue += v[i].monetary;
        }
    }
    ck_assert_int_eq(customers, 158);
    ck_assert_int_eq(orders, 1234);
    ck_assert_double_eq(revenue, 120178);
}

/* The sample orders read with the library's CSV reader into arrays grouped
 * by customer (key byte order, then time). */
typedef struct rfm_orders {
    size_t n;
    char **customer;
    int64_t *ts;
    double *revenue;
    size_t *order;
} rfm_orders;

static const rfm_orders *sort_ctx;

static int cmp_rfm(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(sort_ctx->customer[i], sort_ctx->customer[j]);
    if (c)
        return c;
    if (sort_ctx->ts[i] != sort_ctx->ts[j])
        return sort_ctx->ts[i] < sort_ctx->ts[j] ? -1 : 1;
    return (i > j) - (i < j);
}

static void read_rfm_orders(const char *path, rfm_orders *o)
{
    cs_csv *csv = NULL;
    char err[256];
    ck_assert_int_eq(cs_csv_open(&csv, path, NULL, 0, ',', false, err, sizeof err), 0);
    cs_csv_record rec;
    int bad = 0;
    const char *why = NULL;
    ck_assert_int_eq(cs_csv_next(csv, &rec, &bad, &why), 1);
    ck_assert_str_eq(rec.field[0], "customer_id");
    ck_assert_str_eq(rec.field[1], "order_date");
    ck_assert_str_eq(rec.field[2], "revenue");
    size_t cap = 8192;
    memset(o, 0, sizeof *o);
    o->customer = malloc(cap * sizeof *o->customer);
    o->ts = malloc(cap * sizeof *o->ts);
    o->revenue = malloc(cap * sizeof *o->revenue);
    int rc;
    while ((rc = cs_csv_next(csv, &rec, &bad, &why)) == 1) {
        ck_assert_uint_lt(o->n, cap);
        o->customer[o->n] = dup_or_null(rec.field[0]);
        ck_assert_int_eq(custscore_parse_time(rec.field[1], NULL, &o->ts[o->n]), 0);
        o->revenue[o->n] = strtod(rec.field[2], NULL);
        o->n++;
    }
    ck_assert_int_eq(rc, 0);
    cs_csv_close(csv);
    o->order = malloc(o->n * sizeof *o->order);
    for (size_t i = 0; i < o->n; i++)
        o->order[i] = i;
    sort_ctx = o;
    qsort(o->order, o->n, sizeof *o->order, cmp_rfm);
}

static void free_rfm_orders(rfm_orders *o)
{
    for (size_t i = 0; i < o->n; i++)
        free(o->customer[i]);
    free(o->customer);
    free(o->ts);
    free(o->revenue);
    free(o->order);
}

START_TEST(test_rfm_parity_arrays)
{
    char *path = tu_shared_path("rfm/rfm_data_orders.csv");
    if (!path) {
        tu_skip("../shared/data/rfm/rfm_data_orders.csv absent");
        return;
    }
    rfm_orders o;
    read_rfm_orders(path, &o);
    free(path);
    ck_assert_uint_eq(o.n, 4906);
    /* group */
    const char **keys = malloc(o.n * sizeof *keys);
    size_t *offset = malloc((o.n + 1) * sizeof *offset);
    int64_t *ts = malloc(o.n * sizeof *ts);
    double *revenue = malloc(o.n * sizeof *revenue);
    size_t n_customers = 0;
    offset[0] = 0;
    for (size_t j = 0; j < o.n; j++) {
        size_t i = o.order[j];
        if (j == 0 || strcmp(o.customer[i], keys[n_customers - 1]) != 0) {
            if (j > 0)
                offset[n_customers] = j;
            keys[n_customers++] = o.customer[i];
        }
        ts[j] = o.ts[i];
        revenue[j] = o.revenue[i];
    }
    offset[n_customers] = o.n;
    custscore_order_arrays in = {n_customers, keys, offset, ts, revenue, NULL};
    custscore_value *v = malloc(n_customers * sizeof *v);
    custscore_value_options opt = CUSTSCORE_VALUE_OPTIONS_INIT;
    opt.rfm.frequency = CUSTSCORE_FREQUENCY_ORDERS; /* the package counts orders */
    char err[256];
    ck_assert_int_eq(custscore_value_compute(&in, rfm_as_of(), &opt, v, NULL, err, sizeof err), 0);
    check_rfm_parity(v, n_customers);
    check_rule_set_b(v, n_customers);
    /* the same with rule set B given as the table */
    opt.rfm.segments = rule_set_b;
    opt.rfm.n_segments = N_OF(rule_set_b);
    ck_assert_int_eq(custscore_value_compute(&in, rfm_as_of(), &opt, v, NULL, err, sizeof err), 0);
    int64_t champions = 0;
    for (size_t i = 0; i < n_customers; i++)
        champions += strcmp(v[i].segment, "Champions") == 0;
    ck_assert_int_eq(champions, 158);
    /* occasions merge same-day orders: never more than orders */
    custscore_value *w = malloc(n_customers * sizeof *w);
    opt.rfm.frequency = CUSTSCORE_FREQUENCY_OCCASIONS;
    ck_assert_int_eq(custscore_value_compute(&in, rfm_as_of(), &opt, w, NULL, err, sizeof err), 0);
    for (size_t i = 0; i < n_customers; i++)
        ck_assert_int_le(w[i].frequency, v[i].frequency);
    free(w);
    free(v);
    free(keys);
    free(offset);
    free(ts);
    free(revenue);
    free_rfm_orders(&o);
}
END_TEST

START_TEST(test_rfm_parity_store)
{
    char *path = tu_shared_path("rfm/rfm_data_orders.csv");
    if (!path) {
        tu_skip("../shared/data/rfm/rfm_data_orders.csv absent");
        return;
    }
    custscore *db = mem_store();
    custscore_import_options io = CUSTSCORE_IMPORT_OPTIONS_INIT;
    io.map = "customer=customer_id,ts=order_date,revenue=revenue";
    custscore_import_report rep;
    ck_assert_msg(custscore_import_csv(db, CUSTSCORE_KIND_ORDERS, path, &io, &rep) == 0, "%s",
                  custscore_errmsg(db));
    ck_assert_int_eq(rep.added, 4906);
    free(path);
    custscore_value_options opt = CUSTSCORE_VALUE_OPTIONS_INIT;
    opt.rfm.frequency = CUSTSCORE_FREQUENCY_ORDERS;
    rows r = {0};
    ck_assert_int_eq(custscore_value_each(db, rfm_as_of(), &opt, collect_rows, &r), 0);
    check_rfm_parity(r.v, r.n);
    check_rule_set_b(r.v, r.n);
    rows_free(&r);
    /* rule set B from a segments file */
    char *dir = tu_tmpdir();
    char *seg_path = tu_join(dir, "b.csv");
    FILE *f = fopen(seg_path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("segment,r_min,r_max,f_min,f_max,m_min,m_max\n", f);
    for (size_t i = 0; i < N_OF(rule_set_b); i++) {
        const custscore_segment_rule *b = &rule_set_b[i];
        fprintf(f, "%s,%d,%d,%d,%d,%d,%d\n", b->name, b->r_min, b->r_max, b->f_min, b->f_max,
                b->m_min, b->m_max);
    }
    fclose(f);
    custscore_segments *seg = NULL;
    char err[256];
    ck_assert_int_eq(custscore_segments_load(seg_path, &seg, err, sizeof err), 0);
    opt.rfm.segments = seg->rules;
    opt.rfm.n_segments = seg->count;
    ck_assert_int_eq(custscore_value_each(db, rfm_as_of(), &opt, collect_rows, &r), 0);
    int64_t champions = 0, orders = 0;
    double revenue = 0;
    for (size_t i = 0; i < r.n; i++)
        if (strcmp(r.v[i].segment, "Champions") == 0) {
            champions++;
            orders += r.v[i].frequency;
            revenue += r.v[i].monetary;
        }
    ck_assert_int_eq(champions, 158);
    ck_assert_int_eq(orders, 1234);
    ck_assert_double_eq(revenue, 120178);
    rows_free(&r);
    custscore_segments_free(seg);
    free(seg_path);
    tu_rmtree(dir);
    free(dir);
    custscore_close(db);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Online Retail: the whale curve and the tiers agree with the profit column,
 * and the value pass agrees with the summary. */

typedef struct summaries {
    size_t n, cap;
    int64_t *occasions, *orders, *last;
    double *revenue;
} summaries;

static int collect_summary(const custscore_summary *s, void *payload)
{
    summaries *c = payload;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 1024;
        c->occasions = realloc(c->occasions, c->cap * sizeof *c->occasions);
        c->orders = realloc(c->orders, c->cap * sizeof *c->orders);
        c->last = realloc(c->last, c->cap * sizeof *c->last);
        c->revenue = realloc(c->revenue, c->cap * sizeof *c->revenue);
    }
    c->occasions[c->n] = s->first ? s->x + 1 : 0;
    c->orders[c->n] = s->orders;
    c->last[c->n] = s->last;
    c->revenue[c->n] = s->revenue;
    c->n++;
    return 0;
}

static int count_ignored(int64_t line, int column, const char *message, void *payload)
{
    (void)line;
    (void)column;
    (void)message;
    ++*(int64_t *)payload;
    return 0;
}

START_TEST(test_online_retail_consistency)
{
    char *path = tu_shared_path("online-retail/online-retail-2010-12-01_2011-12-09.csv");
    if (!path) {
        tu_skip("../shared/data/online-retail absent");
        return;
    }
    custscore *db = mem_store();
    custscore_import_options io = CUSTSCORE_IMPORT_OPTIONS_INIT;
    io.map = "customer=CustomerID,order=InvoiceNo,ts=InvoiceDate,quantity=Quantity,"
             "price=UnitPrice";
    io.cancel_prefix = "C";
    io.skip_bad = 1; /* lines without a customer id */
    int64_t rejected = 0;
    io.on_reject = count_ignored;
    io.payload = &rejected;
    custscore_import_report rep;
    int rc;
    if (tu_under_valgrind()) {
        /* the header and the last 20,000 lines (the file is in date order,
         * so they fall in the 12-month profit window) */
        size_t size = 0;
        char *text = tu_read_file(path, &size);
        ck_assert_ptr_nonnull(text);
        size_t header_end = (size_t)(strchr(text, '\n') - text) + 1;
        size_t start = size;
        for (int lines = 0; start > header_end && lines <= 20000; start--)
            lines += text[start - 1] == '\n';
        start++; /* just after a newline */
        memmove(text + header_end, text + start, size - start);
        rc = custscore_import_csv_buffer(db, CUSTSCORE_KIND_ORDERS, text, header_end + size - start,
                                         "retail", &io, &rep);
        free(text);
    } else {
        rc = custscore_import_csv(db, CUSTSCORE_KIND_ORDERS, path, &io, &rep);
    }
    free(path);
    ck_assert_msg(rc == 0, "%s", custscore_errmsg(db));
    ck_assert_int_gt(rep.added, 0);
    int64_t as_of;
    ck_assert_int_eq(custscore_parse_time("2011-12-10", NULL, &as_of), 0);

    rows r = {0};
    ck_assert_int_eq(custscore_value_each(db, as_of, NULL, collect_rows, &r), 0);
    size_t n = r.n;
    ck_assert_uint_gt(n, 10);

    /* the value pass agrees with the summary (occasions, orders, revenue) */
    summaries s = {0};
    ck_assert_int_eq(custscore_summary_each(db, as_of, NULL, collect_summary, &s), 0);
    ck_assert_uint_eq(s.n, n);
    int64_t as_of_day = as_of / DAY;
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(r.v[i].frequency, s.occasions[i]);
        ck_assert_int_eq(r.v[i].orders, s.orders[i]);
        ck_assert_double_eq_tol(r.v[i].monetary, s.revenue[i], 1e-6);
        if (s.occasions[i] > 0)
            ck_assert_int_eq(r.v[i].recency_days, as_of_day - s.last[i] / DAY);
    }
    free(s.occasions);
    free(s.orders);
    free(s.last);
    free(s.revenue);

    /* whale curve against the profit column */
    double total = 0, positive = 0, negative = 0, share_sum = 0;
    int64_t n_pos = 0, n_neg = 0, n_zero = 0, count[4] = {0};
    for (size_t i = 0; i < n; i++) {
        double p = r.v[i].profit;
        total += p;
        if (p > 0) {
            positive += p;
            n_pos++;
        } else if (p < 0) {
            negative += p;
            n_neg++;
        } else {
            n_zero++;
        }
        share_sum += r.v[i].profit_share;
        ck_assert_int_ge(r.v[i].tier, 0);
        ck_assert_int_le(r.v[i].tier, 3);
        count[r.v[i].tier]++;
    }
    ck_assert(total > 0);
    ck_assert_double_eq_tol(share_sum, 1.0, 1e-9);
    enum { POINTS = 101 };
    double x[POINTS], y[POINTS];
    custscore_whale_summary w;
    ck_assert_int_eq(custscore_value_whale(db, as_of, NULL, POINTS, x, y, &w), 0);
    double tol = 1e-9 * (positive - negative);
    ck_assert_int_eq(w.customers, (int64_t)n);
    ck_assert_double_eq_tol(w.total_profit, total, tol);
    ck_assert_double_eq_tol(w.peak_profit, positive, tol);
    ck_assert_double_eq_tol(w.loss_tail, -negative, tol);
    ck_assert_double_eq_tol(w.peak_height, positive / total, 1e-9);
    ck_assert_int_eq(w.peak_customers, n_pos);
    ck_assert_int_eq(w.loss_customers, n_neg);
    ck_assert_int_eq(w.zero_customers, n_zero);
    ck_assert_double_eq_tol(w.peak_customer_share, (double)n_pos / (double)n, 1e-12);
    ck_assert_double_eq(x[0], 0);
    ck_assert_double_eq(y[0], 0);
    ck_assert_double_eq(x[POINTS - 1], 1);
    ck_assert_double_eq_tol(y[POINTS - 1], 1, 1e-9);
    for (int i = 1; i < POINTS; i++) {
        ck_assert(y[i] <= w.peak_height + 1e-9);
        if (x[i] <= w.peak_customer_share) /* rising up to the peak */
            ck_assert(y[i] >= y[i - 1] - 1e-12);
        else if (x[i - 1] >= w.peak_customer_share) /* then flat or falling */
            ck_assert(y[i] <= y[i - 1] + 1e-12);
    }

    /* tier sizes match the cut points (20% / 50%, positives only) */
    int64_t key = llround(0.2 * (double)n), ordinary_end = llround(0.5 * (double)n);
    if (key > n_pos)
        key = n_pos;
    if (ordinary_end > n_pos)
        ordinary_end = n_pos;
    ck_assert_int_eq(count[0], key);
    ck_assert_int_eq(count[1], ordinary_end - key);
    ck_assert_int_eq(count[2], (int64_t)n - ordinary_end - n_neg);
    ck_assert_int_eq(count[3], n_neg);
    double min_tier[4] = {INFINITY, INFINITY, INFINITY, INFINITY};
    double max_tier[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < n; i++) {
        int t = r.v[i].tier;
        min_tier[t] = fmin(min_tier[t], r.v[i].profit);
        max_tier[t] = fmax(max_tier[t], r.v[i].profit);
    }
    ck_assert(min_tier[0] >= max_tier[1]);
    ck_assert(min_tier[1] >= max_tier[2]);
    ck_assert(min_tier[2] >= 0 && max_tier[3] < 0);
    fprintf(stderr,
            "online retail: %zu customers, profit %.2f; whale: top %.1f%% earn %.1f%%, "
            "loss tail %.2f from %.1f%%; tiers %lld/%lld/%lld/%lld\n",
            n, total, 100 * w.peak_customer_share, 100 * w.peak_height, w.loss_tail,
            100 * w.loss_customer_share, (long long)count[0], (long long)count[1],
            (long long)count[2], (long long)count[3]);

    /* the CSV's profit column sums to the same total */
    char *dir = tu_tmpdir();
    char *out = tu_join(dir, "value.csv");
    ck_assert_int_eq(custscore_value_write_csv(db, as_of, NULL, out), 0);
    char *text = tu_read_file(out, NULL);
    ck_assert_ptr_nonnull(text);
    size_t lines = 0;
    double csv_total = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (lines++ == 0)
            continue;
        char *f[20];
        ck_assert_int_eq(split(line, f, 20), 15);
        csv_total += strtod(f[11], NULL);
    }
    ck_assert_uint_eq(lines, n + 1);
    ck_assert_double_eq_tol(csv_total, total, 1e-6 * (positive - negative));
    free(text);
    free(out);
    tu_rmtree(dir);
    free(dir);
    rows_free(&r);
    custscore_close(db);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* CLI: custscore value */

/* Run the CLI with @args (NULL-terminated, after the program name) and
 * return its exit status; its output goes to /dev/null. */
static int run_cli(const char *cli, const char *const *args)
{
    const char *argv[32];
    int n = 0;
    argv[n++] = cli;
    for (; args[n - 1] && n < 31; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        FILE *null = freopen("/dev/null", "w", stdout);
        FILE *null2 = freopen("/dev/null", "w", stderr);
        (void)null;
        (void)null2;
        execv(cli, (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int count_lines(const char *path, char *first, size_t first_size)
{
    char *text = tu_read_file(path, NULL);
    ck_assert_ptr_nonnull(text);
    int lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    char *nl = strchr(text, '\n');
    size_t len = nl ? (size_t)(nl - text) : strlen(text);
    snprintf(first, first_size, "%.*s", (int)len, text);
    free(text);
    return lines;
}

START_TEST(test_cli_value)
{
    const char *cli = getenv("CUSTSCORE_CLI");
    if (!cli || access(cli, X_OK) != 0) {
        tu_skip("the custscore CLI is not built");
        return;
    }
    char *dir = tu_tmpdir();
    char *db = tu_join(dir, "v.db"), *orders = tu_join(dir, "orders.csv");
    char *out = tu_join(dir, "value.csv"), *whale = tu_join(dir, "whale.csv");
    char *json = tu_join(dir, "value.json"), *bad = tu_join(dir, "bad.csv");
    ck_assert_int_eq(tu_write_file(orders, "customer,ts,revenue\n"
                                           "A,2024-01-05,10\n"
                                           "A,2024-02-01,20\n"
                                           "B,2024-01-20,5\n"),
                     0);
    ck_assert_int_eq(tu_write_file(bad, "segment,r_min\nX,1\n"), 0);
    const char *import[] = {"--db", db, "import", "orders", orders, NULL};
    ck_assert_int_eq(run_cli(cli, import), 0);
    const char *value[] = {"--db", db, "value", "--as-of", "2024-03-01", "--out", out, NULL};
    ck_assert_int_eq(run_cli(cli, value), 0);
    char first[256];
    ck_assert_int_eq(count_lines(out, first, sizeof first), 3);
    ck_assert_str_eq(first, "customer,recency_days,frequency,monetary,r,f,m,rfm_score,segment,"
                            "revenue,cost,profit,profit_share,tier,lifecycle");
    const char *whale_args[] = {"--db",     db,  "value", "--whale", "--as-of", "2024-03-01",
                                "--points", "3", "--out", whale,     NULL};
    ck_assert_int_eq(run_cli(cli, whale_args), 0);
    ck_assert_int_eq(count_lines(whale, first, sizeof first), 4);
    ck_assert_str_eq(first, "customer_share,profit_share");
    const char *json_args[] = {"--db",  db,   "value",  "--as-of", "2024-03-01", "--json",
                               "--out", json, "--ties", "rank",    NULL};
    ck_assert_int_eq(run_cli(cli, json_args), 0);
    count_lines(json, first, sizeof first);
    ck_assert_int_eq(first[0], '{');
    /* usage errors exit 1, bad input 2 */
    const char *no_date[] = {"--db", db, "value", NULL};
    ck_assert_int_eq(run_cli(cli, no_date), 1);
    const char *bins[] = {"--db", db, "value", "--as-of", "2024-03-01", "--bins", "12", NULL};
    ck_assert_int_eq(run_cli(cli, bins), 1);
    const char *seg[] = {"--db", db, "value", "--as-of", "2024-03-01", "--segments", bad, NULL};
    ck_assert_int_eq(run_cli(cli, seg), 2);
    const char *names[] = {"--db",         db,    "value", "--as-of", "2024-03-01",
                           "--tier-names", "a,b", "--out", out,       NULL};
    ck_assert_int_eq(run_cli(cli, names), 2);
    free(db);
    free(orders);
    free(out);
    free(whale);
    free(json);
    free(bad);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *value_suite(void)
{
    Suite *s = suite_create("value");
    TCase *tc = tcase_create("value");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_quantile_type7);
    tcase_add_test(tc, test_bins_value_rule);
    tcase_add_test(tc, test_bins_value_ties);
    tcase_add_test(tc, test_bins_rank);
    tcase_add_test(tc, test_bins_rank_large);
    tcase_add_test(tc, test_bins_thresholds);
    tcase_add_test(tc, test_internal_sort);
    tcase_add_test(tc, test_segments_default_and_match);
    tcase_add_test(tc, test_segments_parse);
    tcase_add_test(tc, test_rfm_score_arrays);
    tcase_add_test(tc, test_profit_rank_share);
    tcase_add_test(tc, test_whale_curve);
    tcase_add_test(tc, test_tiers_percentile);
    tcase_add_test(tc, test_tiers_absolute);
    tcase_add_test(tc, test_lifecycle_rules);
    tcase_add_test(tc, test_value_compute_arrays);
    tcase_add_test(tc, test_value_store);
    tcase_add_test(tc, test_value_empty_store);
    tcase_add_test(tc, test_rfm_parity_arrays);
    tcase_add_test(tc, test_rfm_parity_store);
    tcase_add_test(tc, test_online_retail_consistency);
    tcase_add_test(tc, test_cli_value);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(value_suite());
}
