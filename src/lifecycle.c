/*
 * lifecycle.c: lifecycle stage of a customer from its own purchase rhythm.
 *
 * The stages follow the customer life cycle of the CRM literature
 * (acquisition, growth, maturity, decline; e.g. Dwyer, Schurr & Oh 1987;
 * Reinartz & Kumar 2003 for lifetime duration in non-contractual settings),
 * made operational with rules on the customer's purchase occasions (UTC
 * days with an order of positive revenue), as of a day, with a window W:
 *
 *   prospect   no purchase occasion yet
 *   lapsed     days since the last occasion > lapse_after
 *   new        first occasion less than W days ago, <= new_max_repeats repeats
 *   declining  no occasion within W, or days since the last occasion >
 *              overdue_factor x its mean time between occasions
 *   growing    occasion rate of the recent half of W above the earlier
 *              half's by more than trend_tolerance (or first seen in the
 *              recent half)
 *   declining  recent rate below the earlier by more than trend_tolerance
 *   mature     otherwise
 *
 * The first matching rule wins. A rate is occasions / days the customer was
 * known within that half (from its first occasion on), so a customer
 * acquired inside the earlier half is not penalised for the days before.
 */
#include "internal.h"

#include <math.h>

int cs_lifecycle_params_init(const custscore_lifecycle_options *o, int64_t as_of,
                             cs_lifecycle_params *p, char *err, size_t err_size)
{
    if (o->version != CUSTSCORE_LIFECYCLE_OPTIONS_VERSION)
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "lifecycle options: unsupported version %u (expected %u)", o->version,
                             CUSTSCORE_LIFECYCLE_OPTIONS_VERSION);
    double unit_days = custscore_unit_days(o->unit);
    if (unit_days <= 0.0)
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "lifecycle options: unit %d: not a custscore_unit", (int)o->unit);
    if (!(o->window > 0.0 && o->window * unit_days <= 1e6))
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "lifecycle options: window %g: need > 0 and at most 1e6 days",
                             o->window);
    if (!(o->lapse_after > 0.0 && o->lapse_after * unit_days <= 1e6))
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "lifecycle options: lapse_after %g: need > 0 and at most 1e6 days",
                             o->lapse_after);
    if (o->new_max_repeats < 0)
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "lifecycle options: new_max_repeats %d: need >= 0",
                             o->new_max_repeats);
    if (!(o->overdue_factor > 0.0 && isfinite(o->overdue_factor)))
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "lifecycle options: overdue_factor %g: need > 0", o->overdue_factor);
    if (!(o->trend_tolerance >= 0.0 && o->trend_tolerance < 1.0))
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "lifecycle options: trend_tolerance %g: need 0 <= t < 1",
                             o->trend_tolerance);
    int64_t window_days = llround(o->window * unit_days);
    if (window_days < 2)
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "lifecycle options: window of %lld days: need at least 2",
                             (long long)window_days);
    p->as_of_day = cs_day_of(as_of);
    p->window_days = (double)window_days;
    p->half_days = (double)window_days / 2.0;
    p->lapse_days = llround(o->lapse_after * unit_days);
    p->new_max_repeats = o->new_max_repeats;
    p->overdue_factor = o->overdue_factor;
    p->trend_tolerance = o->trend_tolerance;
    return CUSTSCORE_OK;
}

void cs_rhythm_add(cs_rhythm *r, const cs_lifecycle_params *p, int64_t day)
{
    if (r->occasions == 0)
        r->first_day = day;
    r->last_day = day;
    r->occasions++;
    double age = (double)(p->as_of_day - day);
    if (age < p->half_days)
        r->recent++;
    else if (age < p->window_days)
        r->earlier++;
}

custscore_lifecycle cs_lifecycle_classify(const cs_rhythm *r, const cs_lifecycle_params *p)
{
    if (r->occasions == 0)
        return CUSTSCORE_LIFECYCLE_PROSPECT;
    int64_t recency = p->as_of_day - r->last_day;
    if (recency > p->lapse_days)
        return CUSTSCORE_LIFECYCLE_LAPSED;
    int64_t first_age = p->as_of_day - r->first_day;
    if ((double)first_age < p->window_days && r->occasions - 1 <= p->new_max_repeats)
        return CUSTSCORE_LIFECYCLE_NEW;
    if (r->recent + r->earlier == 0)
        return CUSTSCORE_LIFECYCLE_DECLINING;
    if (r->occasions >= 2) {
        double mean_gap = (double)(r->last_day - r->first_day) / (double)(r->occasions - 1);
        if ((double)recency > p->overdue_factor * mean_gap)
            return CUSTSCORE_LIFECYCLE_DECLINING;
    }
    /* Whole days in each half: ages 0 .. ceil(W/2)-1 and ceil(W/2) .. W-1. */
    double recent_days = ceil(p->half_days);
    double earlier_days = p->window_days - recent_days;
    double known = (double)first_age + 1.0; /* days since the first occasion, inclusive */
    double exposure_recent = fmin(recent_days, known);
    double exposure_earlier = fmin(earlier_days, fmax(0.0, known - recent_days));
    if (exposure_earlier <= 0.0)
        return CUSTSCORE_LIFECYCLE_GROWING;
    double rate_recent = (double)r->recent / exposure_recent;
    double rate_earlier = (double)r->earlier / exposure_earlier;
    if (rate_recent > rate_earlier * (1.0 + p->trend_tolerance))
        return CUSTSCORE_LIFECYCLE_GROWING;
    if (rate_recent < rate_earlier * (1.0 - p->trend_tolerance))
        return CUSTSCORE_LIFECYCLE_DECLINING;
    return CUSTSCORE_LIFECYCLE_MATURE;
}

const char *custscore_lifecycle_name(custscore_lifecycle stage)
{
    switch (stage) {
    case CUSTSCORE_LIFECYCLE_PROSPECT:
        return "prospect";
    case CUSTSCORE_LIFECYCLE_NEW:
        return "new";
    case CUSTSCORE_LIFECYCLE_GROWING:
        return "growing";
    case CUSTSCORE_LIFECYCLE_MATURE:
        return "mature";
    case CUSTSCORE_LIFECYCLE_DECLINING:
        return "declining";
    case CUSTSCORE_LIFECYCLE_LAPSED:
        return "lapsed";
    default:
        return "unknown";
    }
}

int custscore_lifecycle_of(const int64_t *occasions, size_t n, int64_t as_of,
                           const custscore_lifecycle_options *options, custscore_lifecycle *stage)
{
    custscore_lifecycle_options defaults = CUSTSCORE_LIFECYCLE_OPTIONS_INIT;
    const custscore_lifecycle_options *o = options ? options : &defaults;
    if (!stage || (n > 0 && !occasions))
        return CUSTSCORE_EINVAL;
    cs_lifecycle_params p;
    int rc = cs_lifecycle_params_init(o, as_of, &p, NULL, 0);
    if (rc != CUSTSCORE_OK)
        return rc;
    cs_rhythm r = {0, 0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && occasions[i] < occasions[i - 1])
            return CUSTSCORE_EINVAL;
        int64_t day = cs_day_of(occasions[i]);
        if (day > p.as_of_day)
            break;
        if (r.occasions > 0 && day == r.last_day)
            continue;
        cs_rhythm_add(&r, &p, day);
    }
    *stage = cs_lifecycle_classify(&r, &p);
    return CUSTSCORE_OK;
}
