/*
 * rfm.c: RFM scores (Hughes 1994). A stable linear-time ordering of doubles,
 * R's type 7 sample quantile, scoring values into bins by value cut points,
 * rank cut points or explicit thresholds, and the RFM scores and segments of
 * many customers.
 *
 * Value cut points reproduce the R package `rfm` (Hebbali; R/utils.R bins(),
 * bins_lower(), bins_upper(), R/rfm-table-transaction.R): cut k of n is
 * quantile(x, k/n) + 1 with R's default quantile (type 7), the bins are
 * [min, cut1), [cut1, cut2), ..., [cut(n-1), max + 1), so a value v gets
 * 1 + #{cuts <= v}. The probabilities are formed as R's seq(0, 1, length.out
 * = n + 1) forms them (k * (1/n)) so that scores match bit for bit.
 * Rank cut points split the sorted values into bins whose sizes differ by at
 * most one, the larger bins first (dplyr::ntile).
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int cs_value_errf(char *buf, size_t size, int code, const char *fmt, ...)
{
    if (buf && size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, size, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ---------------------------------------------------------------------- */
/* Sorting */

#define CS_SIGN_BIT UINT64_C(0x8000000000000000)
#define CS_RADIX_BITS 16
#define CS_RADIX_SIZE ((size_t)1 << CS_RADIX_BITS)
#define CS_RADIX_PASSES 4
/* Below this size insertion sort beats the radix sort's histograms. */
#define CS_SMALL_SORT 48

/* An unsigned key with the order of the double: negatives have all bits
 * flipped, positives the sign bit set. -0.0 maps as 0.0. */
static inline uint64_t cs_double_key(double v)
{
    uint64_t u;
    if (v == 0.0)
        v = 0.0;
    memcpy(&u, &v, sizeof u);
    return (u & CS_SIGN_BIT) ? ~u : (u | CS_SIGN_BIT);
}

static inline double cs_key_double(uint64_t k)
{
    uint64_t u = (k & CS_SIGN_BIT) ? (k & ~CS_SIGN_BIT) : ~k;
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static inline size_t cs_digit(uint64_t key, int pass)
{
    return (size_t)(key >> (pass * CS_RADIX_BITS)) & (CS_RADIX_SIZE - 1);
}

typedef struct cs_keyed {
    uint64_t key;
    size_t index;
} cs_keyed;

/* LSD radix sort of @a by key, stable; @tmp has room for n items. Passes
 * whose digit is the same for all keys are skipped. */
static int cs_radix_keyed(cs_keyed *a, cs_keyed *tmp, size_t n)
{
    size_t *count = cs_calloc((size_t)CS_RADIX_PASSES * CS_RADIX_SIZE, sizeof *count);
    if (!count)
        return CUSTSCORE_ENOMEM;
    for (size_t i = 0; i < n; i++)
        for (int p = 0; p < CS_RADIX_PASSES; p++)
            count[(size_t)p * CS_RADIX_SIZE + cs_digit(a[i].key, p)]++;
    cs_keyed *src = a, *dst = tmp;
    for (int p = 0; p < CS_RADIX_PASSES; p++) {
        size_t *c = count + (size_t)p * CS_RADIX_SIZE;
        if (c[cs_digit(src[0].key, p)] == n)
            continue;
        size_t sum = 0;
        for (size_t b = 0; b < CS_RADIX_SIZE; b++) {
            size_t t = c[b];
            c[b] = sum;
            sum += t;
        }
        for (size_t i = 0; i < n; i++)
            dst[c[cs_digit(src[i].key, p)]++] = src[i];
        cs_keyed *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
    cs_free(count);
    return CUSTSCORE_OK;
}

static int cs_radix_u64(uint64_t *a, uint64_t *tmp, size_t n)
{
    size_t *count = cs_calloc((size_t)CS_RADIX_PASSES * CS_RADIX_SIZE, sizeof *count);
    if (!count)
        return CUSTSCORE_ENOMEM;
    for (size_t i = 0; i < n; i++)
        for (int p = 0; p < CS_RADIX_PASSES; p++)
            count[(size_t)p * CS_RADIX_SIZE + cs_digit(a[i], p)]++;
    uint64_t *src = a, *dst = tmp;
    for (int p = 0; p < CS_RADIX_PASSES; p++) {
        size_t *c = count + (size_t)p * CS_RADIX_SIZE;
        if (c[cs_digit(src[0], p)] == n)
            continue;
        size_t sum = 0;
        for (size_t b = 0; b < CS_RADIX_SIZE; b++) {
            size_t t = c[b];
            c[b] = sum;
            sum += t;
        }
        for (size_t i = 0; i < n; i++)
            dst[c[cs_digit(src[i], p)]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
    cs_free(count);
    return CUSTSCORE_OK;
}

int cs_order_by_double(const double *key, size_t n, bool descending, size_t *idx)
{
    if (n == 0)
        return CUSTSCORE_OK;
    cs_keyed *a = cs_mallocarray(n, sizeof *a);
    if (!a)
        return CUSTSCORE_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        uint64_t k = cs_double_key(key[i]);
        a[i].key = descending ? ~k : k;
        a[i].index = i;
    }
    int rc = CUSTSCORE_OK;
    if (n <= CS_SMALL_SORT) {
        for (size_t i = 1; i < n; i++) {
            cs_keyed x = a[i];
            size_t j = i;
            for (; j > 0 && a[j - 1].key > x.key; j--)
                a[j] = a[j - 1];
            a[j] = x;
        }
    } else {
        cs_keyed *tmp = cs_mallocarray(n, sizeof *tmp);
        rc = tmp ? cs_radix_keyed(a, tmp, n) : CUSTSCORE_ENOMEM;
        cs_free(tmp);
    }
    if (rc == CUSTSCORE_OK)
        for (size_t i = 0; i < n; i++)
            idx[i] = a[i].index;
    cs_free(a);
    return rc;
}

int cs_sort_doubles(double *v, size_t n)
{
    if (n <= CS_SMALL_SORT) {
        for (size_t i = 1; i < n; i++) {
            double x = v[i];
            size_t j = i;
            for (; j > 0 && v[j - 1] > x; j--)
                v[j] = v[j - 1];
            v[j] = x;
        }
        return CUSTSCORE_OK;
    }
    uint64_t *a = cs_mallocarray(n, sizeof *a);
    uint64_t *tmp = cs_mallocarray(n, sizeof *tmp);
    int rc = (a && tmp) ? CUSTSCORE_OK : CUSTSCORE_ENOMEM;
    if (rc == CUSTSCORE_OK) {
        for (size_t i = 0; i < n; i++)
            a[i] = cs_double_key(v[i]);
        rc = cs_radix_u64(a, tmp, n);
    }
    if (rc == CUSTSCORE_OK)
        for (size_t i = 0; i < n; i++)
            v[i] = cs_key_double(a[i]);
    cs_free(a);
    cs_free(tmp);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Quantiles */

/* Hyndman & Fan (1996) type 7, written as R's quantile.default writes it
 * (index = 1 + (n - 1) p; interpolate only when x[hi] differs from x[lo]), so
 * that the floating-point result is the same as R's. */
/* Positions (0-based) of the two order statistics of the type 7 quantile at
 * @p of @n values, and the weight of the upper one. */
static void cs_type7_positions(size_t n, double p, size_t *lo, size_t *hi, double *h)
{
    double index = 1.0 + (double)(n - 1) * p;
    double floor_index = floor(index);
    *lo = (size_t)floor_index - 1;
    *hi = (size_t)ceil(index) - 1;
    *h = index - floor_index;
}

/* R interpolates only when index > lo and x[hi] != x[lo]. */
static double cs_type7_combine(double x_lo, double x_hi, double h)
{
    if (h > 0.0 && x_hi != x_lo)
        return (1.0 - h) * x_lo + h * x_hi;
    return x_lo;
}

double cs_quantile_sorted(const double *sorted, size_t n, double p)
{
    size_t lo, hi;
    double h;
    cs_type7_positions(n, p, &lo, &hi, &h);
    return cs_type7_combine(sorted[lo], sorted[hi], h);
}

int custscore_quantile(const double *values, size_t n, double p, double *out)
{
    if (!values || !out || !(p >= 0.0 && p <= 1.0))
        return CUSTSCORE_EINVAL;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(values[i]))
            continue;
        if (!isfinite(values[i]))
            return CUSTSCORE_EINVAL;
        m++;
    }
    if (m == 0)
        return CUSTSCORE_EINVAL;
    double *x = cs_mallocarray(m, sizeof *x);
    if (!x)
        return CUSTSCORE_ENOMEM;
    m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(values[i]))
            x[m++] = values[i];
    int rc = cs_sort_doubles(x, m);
    if (rc == CUSTSCORE_OK)
        *out = cs_quantile_sorted(x, m, p);
    cs_free(x);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Bins */

static int cs_bin_check(const custscore_bin_options *o, char *err, size_t err_size)
{
    if (o->version != CUSTSCORE_BIN_OPTIONS_VERSION)
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "bin options: unsupported version %u (expected %u)", o->version,
                             CUSTSCORE_BIN_OPTIONS_VERSION);
    if (o->thresholds) {
        if (o->n_thresholds < 1 || o->n_thresholds > CUSTSCORE_MAX_BINS - 1)
            return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                                 "thresholds: %zu given: need 1..%d", o->n_thresholds,
                                 CUSTSCORE_MAX_BINS - 1);
        for (size_t k = 0; k < o->n_thresholds; k++) {
            if (!isfinite(o->thresholds[k]))
                return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                                     "thresholds: value %zu is not finite", k + 1);
            if (k > 0 && o->thresholds[k] < o->thresholds[k - 1])
                return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                                     "thresholds: %g after %g: not ascending", o->thresholds[k],
                                     o->thresholds[k - 1]);
        }
        return CUSTSCORE_OK;
    }
    if (o->bins < 1 || o->bins > CUSTSCORE_MAX_BINS)
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL, "bins: %d: need 1..%d", o->bins,
                             CUSTSCORE_MAX_BINS);
    if (o->ties != CUSTSCORE_TIES_VALUE && o->ties != CUSTSCORE_TIES_RANK)
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "ties: %d: not a custscore_ties value", (int)o->ties);
    if (!isfinite(o->cut_offset))
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL, "cut_offset: not finite");
    return CUSTSCORE_OK;
}

/* 1 + #{cuts <= v}: the rfm package's half-open bins [lower, upper). */
static inline int cs_bin_of(double v, const double *cut, int n_cuts)
{
    int bin = 1;
    for (int k = 0; k < n_cuts; k++)
        bin += cut[k] <= v;
    return bin;
}

/* Bin (1-based) of position @j of @m sorted values in @bins equal-size bins,
 * larger bins first (dplyr::ntile). */
static inline int cs_ntile(size_t j, size_t m, size_t bins)
{
    size_t smaller = m / bins, n_larger = m % bins;
    size_t larger = smaller + (n_larger > 0);
    size_t larger_end = larger * n_larger;
    if (j < larger_end)
        return (int)(j / larger) + 1;
    return (int)((j - larger_end) / smaller + n_larger) + 1;
}

static int cs_score_rank(const double *values, size_t n, size_t m, int bins, int *scores,
                         double *cuts)
{
    double *finite = cs_mallocarray(m, sizeof *finite);
    size_t *origin = cs_mallocarray(m, sizeof *origin);
    size_t *order = cs_mallocarray(m, sizeof *order);
    int rc = (finite && origin && order) ? CUSTSCORE_OK : CUSTSCORE_ENOMEM;
    if (rc == CUSTSCORE_OK) {
        size_t j = 0;
        for (size_t i = 0; i < n; i++) {
            if (isnan(values[i]))
                continue;
            finite[j] = values[i];
            origin[j++] = i;
        }
        rc = cs_order_by_double(finite, m, false, order);
    }
    if (rc == CUSTSCORE_OK) {
        if (cuts)
            for (int k = 0; k < bins - 1; k++)
                cuts[k] = NAN;
        int previous = 0;
        for (size_t j = 0; j < m; j++) {
            int bin = cs_ntile(j, m, (size_t)bins);
            scores[origin[order[j]]] = bin;
            if (cuts && bin != previous && bin > 1)
                cuts[bin - 2] = finite[order[j]];
            previous = bin;
        }
    }
    cs_free(finite);
    cs_free(origin);
    cs_free(order);
    return rc;
}

/* Value cut points: the quantiles at k/bins plus the offset, into cut[]. */
static int cs_value_cuts(const double *values, size_t n, size_t m, int bins, double offset,
                         double *cut)
{
    if (m == 0) {
        for (int k = 0; k < bins - 1; k++)
            cut[k] = NAN;
        return CUSTSCORE_OK;
    }
    double *sorted = cs_mallocarray(m, sizeof *sorted);
    if (!sorted)
        return CUSTSCORE_ENOMEM;
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(values[i]))
            sorted[j++] = values[i];
    int rc = cs_sort_doubles(sorted, m);
    if (rc == CUSTSCORE_OK) {
        double step = 1.0 / (double)bins; /* as R's seq(0, 1, length.out = bins + 1) */
        for (int k = 1; k < bins; k++)
            cut[k - 1] = cs_quantile_sorted(sorted, m, (double)k * step) + offset;
    }
    cs_free(sorted);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Integer values in a small range (days, counts): a counting pass replaces
 * the sort, with the same results (value order, ties in input order). */

#define CS_COUNT_MAX_RANGE ((size_t)1 << 18)

typedef struct cs_int_range {
    bool usable;
    double min;
    size_t range; /* max - min + 1 */
} cs_int_range;

static void cs_int_range_of(const double *values, size_t n, size_t m, cs_int_range *r)
{
    r->usable = false;
    if (m == 0)
        return;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double v = values[i];
        if (isnan(v))
            continue;
        if (v != floor(v) || fabs(v) > 9007199254740992.0)
            return;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    double range = hi - lo + 1.0;
    size_t limit = 4 * m + 1024 < CS_COUNT_MAX_RANGE ? 4 * m + 1024 : CS_COUNT_MAX_RANGE;
    if (range > (double)limit)
        return;
    r->usable = true;
    r->min = lo;
    r->range = (size_t)range;
}

/* cum[b] = number of values <= min + b. */
static size_t *cs_int_cumulative(const double *values, size_t n, const cs_int_range *r)
{
    size_t *cum = cs_calloc(r->range, sizeof *cum);
    if (!cum)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!isnan(values[i]))
            cum[(size_t)(values[i] - r->min)]++;
    for (size_t b = 1; b < r->range; b++)
        cum[b] += cum[b - 1];
    return cum;
}

/* The value at 0-based position @pos of the sorted values. */
static double cs_int_order_stat(const size_t *cum, const cs_int_range *r, size_t pos)
{
    size_t lo = 0, hi = r->range - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cum[mid] > pos)
            hi = mid;
        else
            lo = mid + 1;
    }
    return r->min + (double)lo;
}

static int cs_int_value_cuts(const double *values, size_t n, size_t m, const cs_int_range *r,
                             int bins, double offset, double *cut)
{
    size_t *cum = cs_int_cumulative(values, n, r);
    if (!cum)
        return CUSTSCORE_ENOMEM;
    double step = 1.0 / (double)bins; /* as R's seq(0, 1, length.out = bins + 1) */
    for (int k = 1; k < bins; k++) {
        size_t lo, hi;
        double h;
        cs_type7_positions(m, (double)k * step, &lo, &hi, &h);
        cut[k - 1] =
            cs_type7_combine(cs_int_order_stat(cum, r, lo), cs_int_order_stat(cum, r, hi), h) +
            offset;
    }
    cs_free(cum);
    return CUSTSCORE_OK;
}

static int cs_int_score_rank(const double *values, size_t n, size_t m, const cs_int_range *r,
                             int bins, int *scores, double *cuts)
{
    size_t *cum = cs_int_cumulative(values, n, r);
    if (!cum)
        return CUSTSCORE_ENOMEM;
    size_t smaller = m / (size_t)bins, n_larger = m % (size_t)bins;
    size_t larger = smaller + (n_larger > 0);
    if (cuts) {
        for (int k = 1; k < bins; k++) {
            size_t q = (size_t)k; /* first position of bin k + 1 */
            size_t start =
                q <= n_larger ? q * larger : n_larger * larger + (q - n_larger) * smaller;
            cuts[k - 1] = start < m ? cs_int_order_stat(cum, r, start) : NAN;
        }
    }
    /* inclusive to exclusive counts: the next free position of each value */
    for (size_t b = r->range - 1; b > 0; b--)
        cum[b] = cum[b - 1];
    cum[0] = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(values[i]))
            scores[i] = cs_ntile(cum[(size_t)(values[i] - r->min)]++, m, (size_t)bins);
    cs_free(cum);
    return CUSTSCORE_OK;
}

int cs_score_bins(const double *values, size_t n, const custscore_bin_options *o, int *scores,
                  double *cuts, char *err, size_t err_size)
{
    custscore_bin_options defaults = CUSTSCORE_BIN_OPTIONS_INIT;
    if (!o)
        o = &defaults;
    int rc = cs_bin_check(o, err, err_size);
    if (rc != CUSTSCORE_OK)
        return rc;
    if (n > 0 && (!values || !scores))
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL, "score bins: NULL array");
    int bins = o->thresholds ? (int)o->n_thresholds + 1 : o->bins;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(values[i])) {
            scores[i] = 0;
            continue;
        }
        if (!isfinite(values[i]))
            return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                                 "score bins: value %zu is infinite", i + 1);
        m++;
    }
    cs_int_range ints = {false, 0, 0};
    if (!o->thresholds)
        cs_int_range_of(values, n, m, &ints);
    if (!o->thresholds && o->ties == CUSTSCORE_TIES_RANK) {
        if (m > 0 && ints.usable) {
            rc = cs_int_score_rank(values, n, m, &ints, bins, scores, cuts);
        } else if (m > 0) {
            rc = cs_score_rank(values, n, m, bins, scores, cuts);
        } else if (cuts) {
            for (int k = 0; k < bins - 1; k++)
                cuts[k] = NAN;
        }
    } else {
        double cut[CUSTSCORE_MAX_BINS];
        if (o->thresholds)
            memcpy(cut, o->thresholds, o->n_thresholds * sizeof *cut);
        else if (ints.usable)
            rc = cs_int_value_cuts(values, n, m, &ints, bins, o->cut_offset, cut);
        else
            rc = cs_value_cuts(values, n, m, bins, o->cut_offset, cut);
        if (rc == CUSTSCORE_OK) {
            for (size_t i = 0; i < n; i++)
                if (!isnan(values[i]))
                    scores[i] = cs_bin_of(values[i], cut, bins - 1);
            if (cuts)
                memcpy(cuts, cut, (size_t)(bins - 1) * sizeof *cuts);
        }
    }
    if (rc != CUSTSCORE_OK)
        return cs_value_errf(err, err_size, rc, "score bins: out of memory");
    if (o->reverse)
        for (size_t i = 0; i < n; i++)
            if (scores[i] > 0)
                scores[i] = bins + 1 - scores[i];
    return CUSTSCORE_OK;
}

int custscore_score_bins(const double *values, size_t n, const custscore_bin_options *options,
                         int *scores, double *cuts)
{
    return cs_score_bins(values, n, options, scores, cuts, NULL, 0);
}

/* ---------------------------------------------------------------------- */
/* RFM */

static void cs_rfm_bin_options(const custscore_rfm_options *o, const double *thresholds,
                               size_t n_thresholds, int reverse, custscore_bin_options *b)
{
    custscore_bin_options defaults = CUSTSCORE_BIN_OPTIONS_INIT;
    *b = defaults;
    b->bins = o->bins;
    b->ties = o->ties;
    b->cut_offset = o->cut_offset;
    b->reverse = reverse;
    b->thresholds = thresholds;
    b->n_thresholds = n_thresholds;
}

int cs_rfm_check(const custscore_rfm_options *o, char *err, size_t err_size)
{
    if (o->version != CUSTSCORE_RFM_OPTIONS_VERSION)
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "rfm options: unsupported version %u (expected %u)", o->version,
                             CUSTSCORE_RFM_OPTIONS_VERSION);
    if (o->frequency != CUSTSCORE_FREQUENCY_OCCASIONS && o->frequency != CUSTSCORE_FREQUENCY_ORDERS)
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "rfm options: frequency: %d: not a custscore_frequency_basis",
                             (int)o->frequency);
    if (o->monetary != CUSTSCORE_MONETARY_TOTAL && o->monetary != CUSTSCORE_MONETARY_MEAN)
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "rfm options: monetary: %d: not a custscore_monetary_basis",
                             (int)o->monetary);
    const double *thresholds[3] = {o->recency_thresholds, o->frequency_thresholds,
                                   o->monetary_thresholds};
    size_t n_thresholds[3] = {o->n_recency_thresholds, o->n_frequency_thresholds,
                              o->n_monetary_thresholds};
    static const char *const what[3] = {"recency", "frequency", "monetary"};
    for (int d = 0; d < 3; d++) {
        custscore_bin_options b;
        cs_rfm_bin_options(o, thresholds[d], n_thresholds[d], d == 0, &b);
        char why[200];
        int rc = cs_bin_check(&b, why, sizeof why);
        if (rc != CUSTSCORE_OK)
            return cs_value_errf(err, err_size, rc, "rfm options: %s: %s", what[d], why);
    }
    if (o->segments) {
        for (size_t i = 0; i < o->n_segments; i++)
            if (!o->segments[i].name)
                return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                                     "rfm options: segment rule %zu has no name", i + 1);
    } else if (o->n_segments != 0) {
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "rfm options: n_segments %zu without segments", o->n_segments);
    }
    return CUSTSCORE_OK;
}

/* Score one dimension; NaN in @values are missing (score 0). */
static int cs_rfm_dimension(const char *what, const double *values, size_t n,
                            const custscore_bin_options *b, int *scores, char *err, size_t err_size)
{
    char why[256];
    int rc = cs_score_bins(values, n, b, scores, NULL, why, sizeof why);
    if (rc != CUSTSCORE_OK)
        return cs_value_errf(err, err_size, rc, "%s: %s", what, why);
    return CUSTSCORE_OK;
}

int cs_rfm_score_masked(const double *recency, const double *frequency, const double *monetary,
                        size_t n, const custscore_rfm_options *o, int *r, int *f, int *m,
                        int *segment, char *err, size_t err_size)
{
    custscore_bin_options b;
    cs_rfm_bin_options(o, o->recency_thresholds, o->n_recency_thresholds, 1, &b);
    int rc = cs_rfm_dimension("recency", recency, n, &b, r, err, err_size);
    if (rc == CUSTSCORE_OK) {
        cs_rfm_bin_options(o, o->frequency_thresholds, o->n_frequency_thresholds, 0, &b);
        rc = cs_rfm_dimension("frequency", frequency, n, &b, f, err, err_size);
    }
    if (rc == CUSTSCORE_OK) {
        cs_rfm_bin_options(o, o->monetary_thresholds, o->n_monetary_thresholds, 0, &b);
        rc = cs_rfm_dimension("monetary", monetary, n, &b, m, err, err_size);
    }
    if (rc != CUSTSCORE_OK || !segment)
        return rc;
    size_t n_rules = o->n_segments;
    const custscore_segment_rule *rules =
        o->segments ? o->segments : custscore_segments_default(&n_rules);
    for (size_t i = 0; i < n; i++)
        segment[i] = custscore_segment_match(rules, n_rules, r[i], f[i], m[i]);
    return CUSTSCORE_OK;
}

int cs_rfm_score(const double *recency_days, const double *frequency, const double *monetary,
                 size_t n, const custscore_rfm_options *options, int *r, int *f, int *m,
                 int *segment, char *err, size_t err_size)
{
    custscore_rfm_options defaults = CUSTSCORE_RFM_OPTIONS_INIT;
    const custscore_rfm_options *o = options ? options : &defaults;
    int rc = cs_rfm_check(o, err, err_size);
    if (rc != CUSTSCORE_OK)
        return rc;
    if (n > 0 && (!recency_days || !frequency || !monetary || !r || !f || !m))
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL, "rfm score: NULL array");
    if (n == 0)
        return CUSTSCORE_OK;
    /* A customer missing any of the three is left out of all three samples,
     * so that the cut points describe the same customers. */
    double *values = cs_mallocarray(n, 3 * sizeof *values);
    if (!values)
        return cs_value_errf(err, err_size, CUSTSCORE_ENOMEM, "rfm score: out of memory");
    double *rv = values, *fv = values + n, *mv = values + 2 * n;
    for (size_t i = 0; i < n; i++) {
        bool missing = isnan(recency_days[i]) || isnan(frequency[i]) || isnan(monetary[i]);
        rv[i] = missing ? NAN : recency_days[i];
        fv[i] = missing ? NAN : frequency[i];
        mv[i] = missing ? NAN : monetary[i];
    }
    rc = cs_rfm_score_masked(rv, fv, mv, n, o, r, f, m, segment, err, err_size);
    cs_free(values);
    return rc;
}

int custscore_rfm_score(const double *recency_days, const double *frequency, const double *monetary,
                        size_t n, const custscore_rfm_options *options, int *r, int *f, int *m,
                        int *segment)
{
    return cs_rfm_score(recency_days, frequency, monetary, n, options, r, f, m, segment, NULL, 0);
}
