/*
 * retention.c: cohort retention and per-period loyalty indicators.
 *
 * Cohort analysis as in customer-base reporting practice (e.g. Fader & Hardie,
 * "Customer-base valuation in a contractual setting"; Gupta et al. 2006,
 * "Modeling customer lifetime value"): customers are grouped by the calendar
 * period of their first purchase occasion, and each cohort's retention curve
 * is the share still making a purchase occasion k periods later.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Calendar period number of a day, and the first day of a period. */
static int64_t cs_period_of(int64_t day, custscore_unit unit)
{
    int64_t y;
    unsigned m, d;
    switch (unit) {
    case CUSTSCORE_UNIT_DAY:
        return day;
    case CUSTSCORE_UNIT_WEEK: {
        /* ISO weeks start on Monday; 1970-01-01 was a Thursday. */
        int64_t shifted = day + 3;
        int64_t w = shifted / 7;
        if (shifted % 7 < 0)
            w--;
        return w;
    }
    case CUSTSCORE_UNIT_MONTH:
        cs_civil_from_days(day, &y, &m, &d);
        return y * 12 + (int64_t)m - 1;
    case CUSTSCORE_UNIT_YEAR:
        cs_civil_from_days(day, &y, &m, &d);
        return y;
    }
    return day;
}

static int64_t cs_period_start_day(int64_t period, custscore_unit unit)
{
    switch (unit) {
    case CUSTSCORE_UNIT_DAY:
        return period;
    case CUSTSCORE_UNIT_WEEK:
        return period * 7 - 3;
    case CUSTSCORE_UNIT_MONTH: {
        int64_t y = period / 12, m = period % 12;
        if (m < 0) {
            m += 12;
            y--;
        }
        return cs_days_from_civil(y, (unsigned)m + 1, 1);
    }
    case CUSTSCORE_UNIT_YEAR:
        return cs_days_from_civil(period, 1, 1);
    }
    return period;
}

void custscore_retention_free(custscore_retention *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_cohorts; i++)
        cs_free(r->cohorts[i].retention);
    cs_free(r->cohorts);
    cs_free(r->periods);
    cs_free(r);
}

/* Per-period accumulators. */
typedef struct cs_period_acc {
    int64_t active, new_customers, returning, both;
    int64_t n_gaps;
    double gap_days, revenue, repeat_revenue;
} cs_period_acc;

typedef struct cs_cohort_acc {
    int64_t customers, repeaters, n_gaps;
    double gap_days, revenue, repeat_revenue;
    int64_t *active; /* [max_periods] */
} cs_cohort_acc;

#define CS_MAX_PERIOD_RANGE 200000

int custscore_retention_compute(custscore *db, int64_t as_of,
                                const custscore_retention_options *options,
                                custscore_retention **out)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!out)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_retention_compute: NULL output");
    *out = NULL;
    custscore_retention_options opt = CUSTSCORE_RETENTION_OPTIONS_INIT;
    if (options) {
        if (options->version != CUSTSCORE_RETENTION_OPTIONS_VERSION)
            return cs_error(db, CUSTSCORE_EINVAL,
                            "retention options: version %u, this library knows version %u",
                            options->version, CUSTSCORE_RETENTION_OPTIONS_VERSION);
        opt = *options;
    }
    if (custscore_unit_days(opt.period) <= 0)
        return cs_error(db, CUSTSCORE_EINVAL, "retention: unknown period %d", (int)opt.period);
    if (opt.max_periods < 1 || opt.max_periods > 1000)
        return cs_error(db, CUSTSCORE_EINVAL, "retention: max_periods %d outside 1..1000",
                        opt.max_periods);
    cs_history h;
    int rc = cs_history_load(db, as_of, &h);
    if (rc)
        return rc;
    const int64_t as_of_day = cs_day_of(as_of);
    const int64_t last_period = cs_period_of(as_of_day, opt.period);
    /* First period of any purchase occasion. */
    int64_t first_period = last_period;
    bool any = false;
    for (size_t i = 0; i < h.n_customers; i++) {
        for (size_t k = h.offset[i]; k < h.offset[i + 1]; k++) {
            if (h.revenue[k] > 0) {
                int64_t p = cs_period_of(cs_day_of(h.ts[k]), opt.period);
                if (!any || p < first_period)
                    first_period = p;
                any = true;
                break; /* orders are sorted: the first positive one is the earliest */
            }
        }
    }
    custscore_retention *r = cs_calloc(1, sizeof *r);
    if (!r) {
        cs_history_free(&h);
        return cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
    }
    r->period = opt.period;
    r->as_of = as_of;
    r->repeat_rate = NAN;
    r->mean_interpurchase_days = NAN;
    if (!any) {
        cs_history_free(&h);
        *out = r;
        return CUSTSCORE_OK;
    }
    int64_t range = last_period - first_period + 1;
    if (range > CS_MAX_PERIOD_RANGE) {
        cs_history_free(&h);
        custscore_retention_free(r);
        return cs_error(db, CUSTSCORE_ERANGE,
                        "retention: %lld periods between the first purchase and the as-of day; "
                        "use a longer period",
                        (long long)range);
    }
    size_t n = (size_t)range, maxp = (size_t)opt.max_periods;
    cs_period_acc *pa = cs_calloc(n, sizeof *pa);
    cs_cohort_acc *ca = cs_calloc(n, sizeof *ca);
    int64_t *cohort_active = cs_calloc(n * maxp, sizeof *cohort_active);
    if (!pa || !ca || !cohort_active) {
        rc = cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
        goto done;
    }
    int64_t buyers = 0, repeaters = 0, all_gaps = 0;
    double all_gap_days = 0;
    for (size_t i = 0; i < h.n_customers; i++) {
        int64_t prev_day = 0, prev_period = INT64_MIN, cohort = 0;
        bool first = true;
        int64_t occasions = 0;
        for (size_t k = h.offset[i]; k < h.offset[i + 1]; k++) {
            if (!(h.revenue[k] > 0))
                continue; /* returns and adjustments are no occasions */
            int64_t day = cs_day_of(h.ts[k]);
            int64_t p = cs_period_of(day, opt.period);
            size_t pi = (size_t)(p - first_period);
            bool new_occasion = first || day != prev_day;
            if (first) {
                cohort = p;
                ca[pi].customers++;
                pa[pi].new_customers++;
                buyers++;
            }
            size_t ci = (size_t)(cohort - first_period);
            /* An order on the first occasion's day is part of the first
             * purchase; orders on later days are repeat purchases. */
            bool repeat = occasions >= 2 || (occasions == 1 && new_occasion);
            if (new_occasion && !first) {
                double gap = (double)(day - prev_day);
                pa[pi].gap_days += gap;
                pa[pi].n_gaps++;
                ca[ci].gap_days += gap;
                ca[ci].n_gaps++;
                all_gap_days += gap;
                all_gaps++;
            }
            pa[pi].revenue += h.revenue[k];
            ca[ci].revenue += h.revenue[k];
            if (repeat) {
                pa[pi].repeat_revenue += h.revenue[k];
                ca[ci].repeat_revenue += h.revenue[k];
            }
            if (p != prev_period) {
                pa[pi].active++;
                if (p > cohort)
                    pa[pi].returning++;
                if (prev_period != INT64_MIN && p == prev_period + 1)
                    pa[pi].both++;
                int64_t kk = p - cohort;
                if (kk < (int64_t)maxp)
                    cohort_active[ci * maxp + (size_t)kk]++;
                prev_period = p;
            }
            if (new_occasion)
                occasions++;
            prev_day = day;
            first = false;
        }
        if (occasions >= 2) {
            repeaters++;
            ca[(size_t)(cohort - first_period)].repeaters++;
        }
    }
    r->repeat_rate = buyers ? (double)repeaters / (double)buyers : NAN;
    r->mean_interpurchase_days = all_gaps ? all_gap_days / (double)all_gaps : NAN;
    /* Periods. */
    r->periods = cs_calloc(n, sizeof *r->periods);
    if (!r->periods) {
        rc = cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
        goto done;
    }
    r->n_periods = n;
    for (size_t i = 0; i < n; i++) {
        custscore_period_stats *ps = &r->periods[i];
        const cs_period_acc *a = &pa[i];
        ps->start = cs_period_start_day(first_period + (int64_t)i, opt.period) * CS_SECONDS_PER_DAY;
        ps->active = a->active;
        ps->new_customers = a->new_customers;
        ps->retention_rate =
            i > 0 && pa[i - 1].active > 0 ? (double)a->both / (double)pa[i - 1].active : NAN;
        ps->repeat_purchase_rate = a->active ? (double)a->returning / (double)a->active : NAN;
        ps->mean_interpurchase_days = a->n_gaps ? a->gap_days / (double)a->n_gaps : NAN;
        ps->revenue = a->revenue;
        ps->repeat_revenue_share = a->revenue > 0 ? a->repeat_revenue / a->revenue : NAN;
    }
    /* Cohorts (those with customers, from `since`). */
    size_t n_cohorts = 0;
    for (size_t i = 0; i < n; i++)
        if (ca[i].customers > 0 &&
            cs_period_start_day(first_period + (int64_t)i, opt.period) * CS_SECONDS_PER_DAY >=
                opt.since)
            n_cohorts++;
    r->cohorts = cs_calloc(n_cohorts ? n_cohorts : 1, sizeof *r->cohorts);
    if (!r->cohorts) {
        rc = cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const cs_cohort_acc *a = &ca[i];
        int64_t start =
            cs_period_start_day(first_period + (int64_t)i, opt.period) * CS_SECONDS_PER_DAY;
        if (a->customers == 0 || start < opt.since)
            continue;
        custscore_cohort *c = &r->cohorts[r->n_cohorts];
        c->start = start;
        c->customers = a->customers;
        c->repeat_rate = (double)a->repeaters / (double)a->customers;
        c->mean_interpurchase_days = a->n_gaps ? a->gap_days / (double)a->n_gaps : NAN;
        c->repeat_revenue_share = a->revenue > 0 ? a->repeat_revenue / a->revenue : NAN;
        size_t len = (size_t)(last_period - (first_period + (int64_t)i) + 1);
        if (len > maxp)
            len = maxp;
        c->retention = cs_calloc(len, sizeof *c->retention);
        if (!c->retention) {
            rc = cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
            goto done;
        }
        c->n_periods = len;
        for (size_t k = 0; k < len; k++)
            c->retention[k] = (double)cohort_active[i * maxp + k] / (double)a->customers;
        r->n_cohorts++;
    }
done:
    cs_free(pa);
    cs_free(ca);
    cs_free(cohort_active);
    cs_history_free(&h);
    if (rc) {
        custscore_retention_free(r);
        return rc;
    }
    *out = r;
    return CUSTSCORE_OK;
}
