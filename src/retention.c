/*
 * retention.c: cohort retention and per-period loyalty indicators.
 *
 * Cohort analysis as in customer-base reporting practice (e.g. Fader & Hardie,
 * "Customer-base valuation in a contractual setting"; Gupta et al. 2006,
 * "Modeling customer lifetime value"): customers are grouped by the calendar
 * period of their first purchase occasion, and each cohort's retention curve
 * is the share still making a purchase occasion k periods later.
 */
#include "report.h"

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

/* ---------------------------------------------------------------------- */
/* The orders of one pass: only what retention needs (customer, day and
 * revenue of each purchase order), taken from the order history
 * (cs_history_load) and grouped by customer id. */

typedef struct cs_ret_orders {
    size_t n, cap;
    int64_t *customer; /* [n] store ids */
    int32_t *day;      /* [n] days since 1970 (stored times are 0001..9999: int32 holds them) */
    double *revenue;   /* [n] > 0 */
    uint32_t *order;   /* [n] grouped by customer, by day within (ties in table order) */
} cs_ret_orders;

static void cs_ret_orders_free(cs_ret_orders *o)
{
    cs_free(o->customer);
    cs_free(o->day);
    cs_free(o->revenue);
    cs_free(o->order);
}

/* The purchase orders up to the as-of day, from the order history (which
 * the handle may hold already: a report after scoring reads no order), and
 * the profit window's totals. */
static int cs_ret_scan(custscore *db, int64_t as_of, cs_ret_orders *o, cs_order_totals *totals)
{
    const int64_t as_of_day = cs_day_of(as_of);
    cs_history h;
    int rc = cs_history_load(db, as_of, &h);
    if (rc)
        return rc;
    size_t n = 0;
    for (size_t k = 0; k < h.n_orders; k++)
        n += h.revenue[k] > 0;
    o->customer = cs_mallocarray(n ? n : 1, sizeof *o->customer);
    o->day = cs_mallocarray(n ? n : 1, sizeof *o->day);
    o->revenue = cs_mallocarray(n ? n : 1, sizeof *o->revenue);
    if (!o->customer || !o->day || !o->revenue) {
        cs_history_free(&h);
        return cs_error(db, CUSTSCORE_ENOMEM, "retention: out of memory loading orders");
    }
    o->cap = n;
    for (size_t i = 0; i < h.n_customers; i++) {
        for (size_t k = h.offset[i]; k < h.offset[i + 1]; k++) {
            double revenue = h.revenue[k];
            int64_t day = cs_day_of(h.ts[k]);
            /* The value module's profit window: the window_days days to the
             * as-of day, returns included, unknown cost 0. */
            if (totals && (totals->window_days == 0 || as_of_day - day < totals->window_days)) {
                totals->revenue += revenue;
                totals->cost += h.cost[k];
            }
            if (!(revenue > 0))
                continue; /* returns and adjustments are no purchase occasions */
            o->customer[o->n] = h.customer_id[i];
            o->day[o->n] = (int32_t)day; /* stored times are 0001..9999: int32 days */
            o->revenue[o->n] = revenue;
            o->n++;
        }
    }
    if (totals)
        totals->any_cost = h.any_cost;
    cs_history_free(&h);
    return CUSTSCORE_OK;
}

typedef struct cs_ret_pair {
    int64_t a, b;
    uint32_t k;
} cs_ret_pair;

static int cs_ret_pair_cmp(const void *x, const void *y)
{
    const cs_ret_pair *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return (p->b > q->b) - (p->b < q->b);
}

/* Sort order[from..to) by (a, table order) with a[k] given by @day or @id. */
static bool cs_ret_sort(uint32_t *order, size_t from, size_t to, const int32_t *day,
                        const int64_t *id)
{
    size_t m = to - from;
    cs_ret_pair *p = cs_mallocarray(m ? m : 1, sizeof *p);
    if (!p)
        return false;
    for (size_t j = 0; j < m; j++) {
        uint32_t k = order[from + j];
        p[j] = (cs_ret_pair){.a = day ? day[k] : id[k], .b = k, .k = k};
    }
    qsort(p, m, sizeof *p, cs_ret_pair_cmp);
    for (size_t j = 0; j < m; j++)
        order[from + j] = p[j].k;
    cs_free(p);
    return true;
}

/* Group the orders by customer (a stable counting sort over the ids when
 * they are dense, as usual; a sort otherwise), then order each customer's
 * by day. Nothing to sort when the table holds them grouped in time order
 * already (as after importing a file sorted by customer and date). Every
 * way, the customers come by ascending id. */
static int cs_ret_group(custscore *db, cs_ret_orders *o)
{
    size_t n = o->n;
    o->order = cs_mallocarray(n ? n : 1, sizeof *o->order);
    if (!o->order)
        return cs_error(db, CUSTSCORE_ENOMEM, "retention: out of memory grouping orders");
    bool sorted = true;
    int64_t min_id = n ? o->customer[0] : 0, max_id = min_id;
    for (size_t k = 0; k < n; k++) {
        o->order[k] = (uint32_t)k;
        int64_t id = o->customer[k];
        if (k > 0 &&
            (id < o->customer[k - 1] || (id == o->customer[k - 1] && o->day[k] < o->day[k - 1])))
            sorted = false;
        if (id < min_id)
            min_id = id;
        if (id > max_id)
            max_id = id;
    }
    if (sorted)
        return CUSTSCORE_OK;
    /* Unsigned: ids may be any int64, and max - min overflows int64. */
    uint64_t span = (uint64_t)max_id - (uint64_t)min_id + 1;
    if (span != 0 && span <= 4 * (uint64_t)n + 1024) {
        uint32_t *next = cs_calloc((size_t)span + 1, sizeof *next);
        if (!next)
            return cs_error(db, CUSTSCORE_ENOMEM, "retention: out of memory grouping orders");
        for (size_t k = 0; k < n; k++)
            next[(uint64_t)o->customer[k] - (uint64_t)min_id + 1]++;
        for (size_t i = 0; i < span; i++)
            next[i + 1] += next[i];
        for (size_t k = 0; k < n; k++)
            o->order[next[(uint64_t)o->customer[k] - (uint64_t)min_id]++] = (uint32_t)k;
        cs_free(next);
    } else if (!cs_ret_sort(o->order, 0, n, NULL, o->customer)) {
        return cs_error(db, CUSTSCORE_ENOMEM, "retention: out of memory grouping orders");
    }
    for (size_t a = 0, b; a < n; a = b) {
        bool in_order = true;
        for (b = a + 1; b < n && o->customer[o->order[b]] == o->customer[o->order[a]]; b++)
            if (o->day[o->order[b]] < o->day[o->order[b - 1]])
                in_order = false;
        if (!in_order && !cs_ret_sort(o->order, a, b, o->day, NULL))
            return cs_error(db, CUSTSCORE_ENOMEM, "retention: out of memory sorting orders");
    }
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */

/* Per-period accumulators. */
typedef struct cs_period_acc {
    int64_t active, new_customers, returning, both;
    int64_t n_gaps;
    double gap_days, revenue, repeat_revenue;
} cs_period_acc;

typedef struct cs_cohort_acc {
    int64_t customers, repeaters, n_gaps;
    double gap_days, revenue, repeat_revenue;
} cs_cohort_acc;

#define CS_MAX_PERIOD_RANGE 200000

/* The indicators from the grouped purchase orders @o into @r. */
static int cs_ret_indicators(custscore *db, const cs_ret_orders *o, int64_t as_of,
                             const custscore_retention_options *opt, custscore_retention *r,
                             cs_order_totals *totals)
{
    const size_t n_orders = o->n;
    const uint32_t *ord = o->order;
    if (n_orders == 0)
        return CUSTSCORE_OK;
    if (totals && totals->list_buyers) {
        /* The groups come by ascending id (see cs_ret_group). */
        size_t groups = 1;
        for (size_t j = 1; j < n_orders; j++)
            groups += o->customer[ord[j]] != o->customer[ord[j - 1]];
        totals->buyer_id = cs_mallocarray(groups, sizeof *totals->buyer_id);
        totals->buyer_occasions = cs_mallocarray(groups, sizeof *totals->buyer_occasions);
        if (!totals->buyer_id || !totals->buyer_occasions)
            return cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
    }
    const int64_t last_period = cs_period_of(cs_day_of(as_of), opt->period);
    /* First period of any purchase occasion (periods grow with days). */
    int64_t first_day = o->day[0];
    for (size_t k = 1; k < n_orders; k++)
        if (o->day[k] < first_day)
            first_day = o->day[k];
    const int64_t first_period = cs_period_of(first_day, opt->period);
    int64_t range = last_period - first_period + 1;
    if (range > CS_MAX_PERIOD_RANGE)
        return cs_error(db, CUSTSCORE_ERANGE,
                        "retention: %lld periods between the first purchase and the as-of day; "
                        "use a longer period",
                        (long long)range);
    int rc = CUSTSCORE_OK;
    size_t n = (size_t)range, maxp = (size_t)opt->max_periods;
    cs_period_acc *pa = cs_calloc(n, sizeof *pa);
    cs_cohort_acc *ca = cs_calloc(n, sizeof *ca);
    int64_t *cohort_active = cs_calloc(n * maxp, sizeof *cohort_active);
    if (!pa || !ca || !cohort_active) {
        rc = cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
        goto done;
    }
    int64_t buyers = 0, repeaters = 0, all_gaps = 0;
    double all_gap_days = 0;
    for (size_t a = 0, b; a < n_orders; a = b) {
        const int64_t customer = o->customer[ord[a]];
        for (b = a + 1; b < n_orders && o->customer[ord[b]] == customer; b++)
            ;
        int64_t prev_day = 0, prev_period = INT64_MIN, cohort = 0, p = 0;
        int64_t occasions = 0;
        for (size_t j = a; j < b; j++) {
            const uint32_t k = ord[j];
            const bool first = j == a;
            int64_t day = o->day[k];
            if (first || day != prev_day)
                p = cs_period_of(day, opt->period);
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
            pa[pi].revenue += o->revenue[k];
            ca[ci].revenue += o->revenue[k];
            if (repeat) {
                pa[pi].repeat_revenue += o->revenue[k];
                ca[ci].repeat_revenue += o->revenue[k];
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
        }
        if (occasions >= 2) {
            repeaters++;
            ca[(size_t)(cohort - first_period)].repeaters++;
        }
        if (totals && totals->list_buyers) {
            totals->buyer_id[buyers - 1] = customer;
            totals->buyer_occasions[buyers - 1] =
                occasions < UINT32_MAX ? (uint32_t)occasions : UINT32_MAX;
        }
    }
    if (totals)
        totals->buyers = buyers;
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
        const cs_period_acc *acc = &pa[i];
        ps->start =
            cs_period_start_day(first_period + (int64_t)i, opt->period) * CS_SECONDS_PER_DAY;
        ps->active = acc->active;
        ps->new_customers = acc->new_customers;
        ps->retention_rate =
            i > 0 && pa[i - 1].active > 0 ? (double)acc->both / (double)pa[i - 1].active : NAN;
        ps->repeat_purchase_rate = acc->active ? (double)acc->returning / (double)acc->active : NAN;
        ps->mean_interpurchase_days = acc->n_gaps ? acc->gap_days / (double)acc->n_gaps : NAN;
        ps->revenue = acc->revenue;
        ps->repeat_revenue_share = acc->revenue > 0 ? acc->repeat_revenue / acc->revenue : NAN;
    }
    /* Cohorts (those with customers, from `since`). */
    size_t n_cohorts = 0;
    for (size_t i = 0; i < n; i++)
        if (ca[i].customers > 0 &&
            cs_period_start_day(first_period + (int64_t)i, opt->period) * CS_SECONDS_PER_DAY >=
                opt->since)
            n_cohorts++;
    r->cohorts = cs_calloc(n_cohorts ? n_cohorts : 1, sizeof *r->cohorts);
    if (!r->cohorts) {
        rc = cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const cs_cohort_acc *acc = &ca[i];
        int64_t start =
            cs_period_start_day(first_period + (int64_t)i, opt->period) * CS_SECONDS_PER_DAY;
        if (acc->customers == 0 || start < opt->since)
            continue;
        custscore_cohort *c = &r->cohorts[r->n_cohorts];
        c->start = start;
        c->customers = acc->customers;
        c->repeat_rate = (double)acc->repeaters / (double)acc->customers;
        c->mean_interpurchase_days = acc->n_gaps ? acc->gap_days / (double)acc->n_gaps : NAN;
        c->repeat_revenue_share = acc->revenue > 0 ? acc->repeat_revenue / acc->revenue : NAN;
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
            c->retention[k] = (double)cohort_active[i * maxp + k] / (double)acc->customers;
        r->n_cohorts++;
    }
done:
    cs_free(pa);
    cs_free(ca);
    cs_free(cohort_active);
    return rc;
}

int cs_retention_scan(custscore *db, int64_t as_of, const custscore_retention_options *options,
                      cs_order_totals *totals, custscore_retention **out)
{
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
    if (totals) {
        totals->revenue = totals->cost = 0;
        totals->any_cost = false;
        totals->buyers = 0;
        totals->buyer_id = NULL;
        totals->buyer_occasions = NULL;
    }
    cs_ret_orders o = {0};
    int rc = cs_ret_scan(db, as_of, &o, totals);
    if (rc == 0)
        rc = cs_ret_group(db, &o);
    custscore_retention *r = NULL;
    if (rc == 0) {
        r = cs_calloc(1, sizeof *r);
        if (!r)
            rc = cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
    }
    if (rc == 0) {
        r->period = opt.period;
        r->as_of = as_of;
        r->repeat_rate = NAN;
        r->mean_interpurchase_days = NAN;
        rc = cs_ret_indicators(db, &o, as_of, &opt, r, totals);
    }
    cs_ret_orders_free(&o);
    if (rc) {
        custscore_retention_free(r);
        if (totals) {
            cs_free(totals->buyer_id);
            cs_free(totals->buyer_occasions);
            totals->buyer_id = NULL;
            totals->buyer_occasions = NULL;
        }
        return rc;
    }
    *out = r;
    return CUSTSCORE_OK;
}

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
    int rc = cs_check_as_of(db, as_of, "custscore_retention_compute: as-of time");
    if (rc)
        return rc;
    return cs_retention_scan(db, as_of, options, NULL, out);
}
