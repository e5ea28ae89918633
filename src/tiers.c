/*
 * tiers.c: profit contribution, the whale curve and value tiers.
 *
 * Profit contribution of a customer = revenue - cost (cost 0 where unknown,
 * so profit = revenue without costs); its share of the total profit and its
 * rank. The whale curve (Cooper & Kaplan 1991; Kaplan & Narayanan 2001)
 * plots the cumulative profit of the customers ranked from the most to the
 * least profitable, as a share of the total, against the cumulative share of
 * customers: it rises above 100% while profitable customers are added, is
 * flat over the break-even ones and sinks back to 100% over the loss-making
 * tail. Tiers are the customer pyramid (Zeithaml, Rust & Lemon 2001):
 * ranked shares of customers (top 20% "key", next 30% "ordinary", the rest
 * "small", loss-making apart) or absolute profit thresholds (membership
 * levels).
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Profit rank and share */

static int cs_check_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return CUSTSCORE_EINVAL;
    return CUSTSCORE_OK;
}

int custscore_profit_rank(const double *profit, size_t n, int64_t *rank, double *share)
{
    if (n > 0 && !profit)
        return CUSTSCORE_EINVAL;
    if (cs_check_finite(profit, n) != CUSTSCORE_OK)
        return CUSTSCORE_EINVAL;
    if (share) {
        double total = 0.0;
        for (size_t i = 0; i < n; i++)
            total += profit[i];
        for (size_t i = 0; i < n; i++)
            share[i] = total > 0.0 ? profit[i] / total : NAN;
    }
    if (!rank || n == 0)
        return CUSTSCORE_OK;
    size_t *order = cs_mallocarray(n, sizeof *order);
    if (!order)
        return CUSTSCORE_ENOMEM;
    int rc = cs_order_by_double(profit, n, true, order);
    if (rc == CUSTSCORE_OK)
        for (size_t j = 0; j < n; j++)
            rank[order[j]] = (int64_t)j + 1;
    cs_free(order);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Whale curve */

void cs_whale_summary_sorted(const double *sorted_desc, size_t n, custscore_whale_summary *s)
{
    memset(s, 0, sizeof *s);
    s->customers = (int64_t)n;
    double total = 0.0, positive = 0.0, negative = 0.0;
    for (size_t j = 0; j < n; j++) {
        double p = sorted_desc[j];
        total += p;
        if (p > 0.0) {
            positive += p;
            s->peak_customers++;
        } else if (p < 0.0) {
            negative += p;
            s->loss_customers++;
        } else {
            s->zero_customers++;
        }
    }
    s->total_profit = total;
    s->peak_profit = positive;
    s->peak_height = total > 0.0 ? positive / total : NAN;
    s->loss_tail = negative < 0.0 ? -negative : 0.0; /* never -0 */
    s->peak_customer_share = n > 0 ? (double)s->peak_customers / (double)n : 0.0;
    s->loss_customer_share = n > 0 ? (double)s->loss_customers / (double)n : 0.0;
}

int custscore_whale_curve(const double *profit, size_t n, size_t n_points, double *customer_share,
                          double *profit_share, custscore_whale_summary *summary)
{
    if ((n > 0 && !profit) || n_points == 1 || (n_points > 1 && (!customer_share || !profit_share)))
        return CUSTSCORE_EINVAL;
    if (cs_check_finite(profit, n) != CUSTSCORE_OK)
        return CUSTSCORE_EINVAL;
    double *sorted = cs_mallocarray(n, sizeof *sorted);
    if (!sorted)
        return CUSTSCORE_ENOMEM;
    if (n > 0)
        memcpy(sorted, profit, n * sizeof *sorted);
    int rc = cs_sort_doubles(sorted, n);
    if (rc != CUSTSCORE_OK) {
        cs_free(sorted);
        return rc;
    }
    for (size_t j = 0; j < n / 2; j++) { /* descending */
        double t = sorted[j];
        sorted[j] = sorted[n - 1 - j];
        sorted[n - 1 - j] = t;
    }
    custscore_whale_summary s;
    cs_whale_summary_sorted(sorted, n, &s);
    if (summary)
        *summary = s;
    /* Points at k = round(i n / (n_points - 1)) customers: walk the ranking
     * once, accumulating up to each k. */
    double cumulative = 0.0;
    size_t k_done = 0;
    for (size_t i = 0; i < n_points; i++) {
        size_t k = (size_t)llround((double)i * (double)n / (double)(n_points - 1));
        if (k > n)
            k = n;
        for (; k_done < k; k_done++)
            cumulative += sorted[k_done];
        customer_share[i] = n > 0 ? (double)k / (double)n : 0.0;
        profit_share[i] = s.total_profit > 0.0 ? cumulative / s.total_profit : NAN;
    }
    cs_free(sorted);
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */
/* Tiers */

static const double cs_default_tier_cuts[] = {0.2, 0.5};
static const char *const cs_default_tier_names[] = {"key", "ordinary", "small", "loss-making"};
static const char *const cs_generic_tier_names[CUSTSCORE_MAX_TIERS] = {
    "tier1", "tier2",  "tier3",  "tier4",  "tier5",  "tier6",  "tier7",  "tier8",
    "tier9", "tier10", "tier11", "tier12", "tier13", "tier14", "tier15", "tier16"};

/* The cut points in effect. */
static const double *cs_tier_cuts(const custscore_tier_options *o, size_t *n)
{
    if (o->cuts) {
        *n = o->n_cuts;
        return o->cuts;
    }
    *n = sizeof cs_default_tier_cuts / sizeof cs_default_tier_cuts[0];
    return cs_default_tier_cuts;
}

static int cs_tier_total(const custscore_tier_options *o)
{
    size_t n_cuts;
    cs_tier_cuts(o, &n_cuts);
    return (int)n_cuts + (o->mode == CUSTSCORE_TIERS_PERCENTILE ? 2 : 1);
}

int cs_tier_check(const custscore_tier_options *o, char *err, size_t err_size)
{
    if (o->version != CUSTSCORE_TIER_OPTIONS_VERSION)
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "tier options: unsupported version %u (expected %u)", o->version,
                             CUSTSCORE_TIER_OPTIONS_VERSION);
    bool percentile = o->mode == CUSTSCORE_TIERS_PERCENTILE;
    if (!percentile && o->mode != CUSTSCORE_TIERS_ABSOLUTE)
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "tier options: mode %d: not a custscore_tier_mode", (int)o->mode);
    if (!o->cuts && !percentile)
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "tier options: absolute tiers need cut points");
    if (!o->cuts && o->n_cuts != 0)
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "tier options: n_cuts %zu without cuts", o->n_cuts);
    size_t n_cuts;
    const double *cuts = cs_tier_cuts(o, &n_cuts);
    size_t max_cuts = (size_t)CUSTSCORE_MAX_TIERS - (percentile ? 2 : 1);
    if (n_cuts < 1 || n_cuts > max_cuts)
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "tier options: %zu cut points: need 1..%zu", n_cuts, max_cuts);
    for (size_t k = 0; k < n_cuts; k++) {
        if (!isfinite(cuts[k]))
            return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                                 "tier options: cut point %zu is not finite", k + 1);
        if (percentile && !(cuts[k] > 0.0 && cuts[k] <= 1.0))
            return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                                 "tier options: percentile cut %g: need a share in (0, 1]",
                                 cuts[k]);
        if (k > 0 && !(cuts[k] > cuts[k - 1]))
            return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                                 "tier options: cut point %g after %g: not strictly ascending",
                                 cuts[k], cuts[k - 1]);
    }
    if (o->names) {
        int total = cs_tier_total(o);
        if (o->n_names != (size_t)total)
            return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                                 "tier options: %zu names for %d tiers", o->n_names, total);
        for (size_t k = 0; k < o->n_names; k++)
            if (!o->names[k] || !o->names[k][0])
                return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                                     "tier options: tier name %zu is empty", k + 1);
    } else if (o->n_names != 0) {
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "tier options: n_names %zu without names", o->n_names);
    }
    if (o->ties != CUSTSCORE_TIES_RANK && o->ties != CUSTSCORE_TIES_VALUE)
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "tier options: ties %d: not a custscore_ties value", (int)o->ties);
    return CUSTSCORE_OK;
}

int custscore_tier_count(const custscore_tier_options *options)
{
    custscore_tier_options defaults = CUSTSCORE_TIER_OPTIONS_INIT;
    const custscore_tier_options *o = options ? options : &defaults;
    if (cs_tier_check(o, NULL, 0) != CUSTSCORE_OK)
        return CUSTSCORE_EINVAL;
    return cs_tier_total(o);
}

const char *custscore_tier_name(const custscore_tier_options *options, int tier)
{
    custscore_tier_options defaults = CUSTSCORE_TIER_OPTIONS_INIT;
    const custscore_tier_options *o = options ? options : &defaults;
    if (cs_tier_check(o, NULL, 0) != CUSTSCORE_OK)
        return NULL;
    int total = cs_tier_total(o);
    if (tier < 0 || tier >= total)
        return NULL;
    if (o->names)
        return o->names[tier];
    if (o->mode == CUSTSCORE_TIERS_PERCENTILE && total == 4)
        return cs_default_tier_names[tier];
    return cs_generic_tier_names[tier];
}

/* Tier of the customer at position @j of the descending profit ranking of
 * @n customers (percentile mode). */
static int cs_percentile_tier(size_t j, size_t n, double profit, const double *cuts, size_t n_cuts)
{
    if (profit < 0.0)
        return (int)n_cuts + 1;
    if (profit == 0.0)
        return (int)n_cuts;
    for (size_t k = 0; k < n_cuts; k++) {
        /* round(cuts[k] n) customers fall within the top cuts[k] */
        size_t end = (size_t)llround(cuts[k] * (double)n);
        if (j < end)
            return (int)k;
    }
    return (int)n_cuts;
}

int cs_tiers_from_order(const double *profit, const size_t *order, size_t n,
                        const custscore_tier_options *o, int *tier)
{
    size_t n_cuts;
    const double *cuts = cs_tier_cuts(o, &n_cuts);
    if (o->mode == CUSTSCORE_TIERS_ABSOLUTE) {
        for (size_t i = 0; i < n; i++) {
            size_t above = 0; /* thresholds <= profit */
            while (above < n_cuts && cuts[above] <= profit[i])
                above++;
            tier[i] = (int)(n_cuts - above);
        }
        return CUSTSCORE_OK;
    }
    int group_tier = 0;
    for (size_t j = 0; j < n; j++) {
        size_t i = order[j];
        int t = cs_percentile_tier(j, n, profit[i], cuts, n_cuts);
        /* Value ties: an equal profit keeps the tier of the first of its group. */
        if (o->ties == CUSTSCORE_TIES_VALUE && j > 0 && profit[order[j - 1]] == profit[i])
            t = group_tier;
        group_tier = t;
        tier[i] = t;
    }
    return CUSTSCORE_OK;
}

int custscore_tiers_assign(const double *profit, size_t n, const custscore_tier_options *options,
                           int *tier)
{
    custscore_tier_options defaults = CUSTSCORE_TIER_OPTIONS_INIT;
    const custscore_tier_options *o = options ? options : &defaults;
    if (cs_tier_check(o, NULL, 0) != CUSTSCORE_OK)
        return CUSTSCORE_EINVAL;
    if (n > 0 && (!profit || !tier))
        return CUSTSCORE_EINVAL;
    if (n == 0)
        return CUSTSCORE_OK;
    if (cs_check_finite(profit, n) != CUSTSCORE_OK)
        return CUSTSCORE_EINVAL;
    size_t *order = NULL;
    if (o->mode == CUSTSCORE_TIERS_PERCENTILE) {
        order = cs_mallocarray(n, sizeof *order);
        if (!order)
            return CUSTSCORE_ENOMEM;
        int rc = cs_order_by_double(profit, n, true, order);
        if (rc != CUSTSCORE_OK) {
            cs_free(order);
            return rc;
        }
    }
    int rc = cs_tiers_from_order(profit, order, n, o, tier);
    cs_free(order);
    return rc;
}
