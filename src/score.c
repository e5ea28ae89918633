/*
 * score.c: score every customer in one pass, classify them in the value
 * matrix and the loyalty quadrant, and keep snapshots.
 *
 * One pass: the order history is loaded once (cs_history_load) and every
 * module works on arrays built from it; satisfaction and churn come from
 * their modules' bulk functions (one query each), merged by key.
 *
 * Value matrix: current value (trailing profit) x future value (CLV), split at
 * the medians or at given thresholds (the "customer value matrix" of CRM
 * practice, e.g. Marcus 1998, "A practical yet meaningful approach to
 * customer segmentation", J. Consumer Marketing 15(5)). Loyalty quadrant:
 * satisfaction x behavioural loyalty (Jones & Sasser 1995, "Why satisfied
 * customers defect", HBR 73(6): apostles, mercenaries, hostages, defectors).
 */
#include "internal.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *custscore_value_quadrant_name(custscore_value_quadrant q)
{
    switch (q) {
    case CUSTSCORE_VQ_VALUE:
        return "value";
    case CUSTSCORE_VQ_POTENTIAL:
        return "potential";
    case CUSTSCORE_VQ_MAINTAIN:
        return "maintain";
    case CUSTSCORE_VQ_LOW:
        return "low value";
    default:
        return "unclassified";
    }
}

const char *custscore_loyalty_quadrant_name(custscore_loyalty_quadrant q)
{
    switch (q) {
    case CUSTSCORE_LQ_APOSTLE:
        return "apostle";
    case CUSTSCORE_LQ_MERCENARY:
        return "mercenary";
    case CUSTSCORE_LQ_HOSTAGE:
        return "hostage";
    case CUSTSCORE_LQ_DEFECTOR:
        return "defector";
    default:
        return "unclassified";
    }
}

/* Median of the finite values among v[0..n) (NaN when none), by selection
 * (the same value as sorting, in linear time). */
double cs_median_finite(const double *v, size_t n, bool *oom)
{
    double *tmp = cs_mallocarray(n ? n : 1, sizeof *tmp);
    if (!tmp) {
        *oom = true;
        return NAN;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            tmp[m++] = v[i];
    double med = NAN;
    if (m > 0) {
        med = cs_kth_smallest(tmp, m, m / 2);
        if (m % 2 == 0) {
            /* The other middle one: the greatest of those before m / 2. */
            double lower = tmp[0];
            for (size_t i = 1; i < m / 2; i++)
                if (tmp[i] > lower)
                    lower = tmp[i];
            med = 0.5 * (lower + med);
        }
    }
    cs_free(tmp);
    return med;
}

/* Per-customer satisfaction collected from the CSI module, in key order. */
typedef struct cs_sat_list {
    char **key;
    double *value;
    int64_t *ts;
    size_t n, cap;
    bool oom;
} cs_sat_list;

static int cs_sat_collect(const char *customer, int64_t ts, double satisfaction, void *payload)
{
    cs_sat_list *l = payload;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        char **k = cs_reallocarray(l->key, cap, sizeof *k);
        if (k)
            l->key = k;
        double *v = k ? cs_reallocarray(l->value, cap, sizeof *v) : NULL;
        if (v)
            l->value = v;
        int64_t *t = v ? cs_reallocarray(l->ts, cap, sizeof *t) : NULL;
        if (t)
            l->ts = t;
        if (!t) {
            l->oom = true;
            return 1;
        }
        l->cap = cap;
    }
    l->key[l->n] = cs_strdup(customer);
    if (!l->key[l->n]) {
        l->oom = true;
        return 1;
    }
    l->value[l->n] = satisfaction;
    l->ts[l->n] = ts;
    l->n++;
    return 0;
}

static void cs_sat_free(cs_sat_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        cs_free(l->key[i]);
    cs_free(l->key);
    cs_free(l->value);
    cs_free(l->ts);
}

/* Name of the latest stored survey model ("survey:NAME" rows of the model
 * table), into @name; false when none. */
static bool cs_latest_survey_model(custscore *db, char *name, size_t size)
{
    sqlite3_stmt *st;
    if (cs_prepare(db,
                   "SELECT substr(name, 8) FROM model WHERE name LIKE 'survey:%'"
                   " ORDER BY fitted_at DESC, id DESC LIMIT 1",
                   &st))
        return false;
    bool found = false;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        if (s && *s) {
            snprintf(name, size, "%s", s);
            found = true;
        }
    }
    sqlite3_finalize(st);
    return found;
}

/* Everything computed for one run, column-wise. */
typedef struct cs_score_run {
    custscore *db;
    int64_t as_of;
    custscore_score_options opt;
    cs_history h;
    size_t n;
    custscore_value *value;
    custscore_whale_summary whale;
    custscore_summary *summary; /* in the purchase model's unit when there is one */
    double *p_alive, *expected_purchases, *expected_spend, *clv, *clv_low, *clv_high;
    double *satisfaction;
    int64_t *satisfaction_ts;
    double *churn, *reason_contribution;
    int *band_level;
    char **reason; /* [n * CUSTSCORE_REASONS], owned */
    double *loyalty;
    int *vq, *lq;
    const char *clv_note, *churn_note, *sat_note;
    char clv_note_buf[256], churn_note_buf[256], sat_note_buf[256];
    custscore_score_info info;
} cs_score_run;

static void cs_score_run_free(cs_score_run *r)
{
    cs_history_free(&r->h);
    cs_free(r->value);
    cs_free(r->summary);
    cs_free(r->p_alive);
    cs_free(r->expected_purchases);
    cs_free(r->expected_spend);
    cs_free(r->clv);
    cs_free(r->clv_low);
    cs_free(r->clv_high);
    cs_free(r->satisfaction);
    cs_free(r->satisfaction_ts);
    cs_free(r->churn);
    cs_free(r->band_level);
    cs_free(r->reason_contribution);
    if (r->reason)
        for (size_t i = 0; i < r->n * CUSTSCORE_REASONS; i++)
            cs_free(r->reason[i]);
    cs_free(r->reason);
    cs_free(r->loyalty);
    cs_free(r->vq);
    cs_free(r->lq);
}

static double *cs_nan_array(size_t n)
{
    double *a = cs_mallocarray(n ? n : 1, sizeof *a);
    if (a)
        for (size_t i = 0; i < n; i++)
            a[i] = NAN;
    return a;
}

/* Customer value of every customer, from the loaded history. */
static int cs_score_value(cs_score_run *r)
{
    custscore_order_arrays arr = {
        .n_customers = r->n,
        .customer = r->h.key,
        .offset = r->h.offset,
        .ts = r->h.ts,
        .revenue = r->h.revenue,
        .cost = r->h.any_cost ? r->h.cost : NULL,
    };
    char err[256] = "";
    int rc = custscore_value_compute(&arr, r->as_of, &r->opt.value, r->value, &r->whale, err,
                                     sizeof err);
    if (rc)
        return cs_error(r->db, rc, "score: customer value: %s", err);
    return CUSTSCORE_OK;
}

/* Lifetime value with the saved models; without them the fields stay NaN. */
static int cs_score_clv(cs_score_run *r)
{
    custscore *db = r->db;
    custscore_fit_info purchase, spend;
    int rc = custscore_model_load(db, r->opt.clv.purchase_model, &purchase);
    if (rc == CUSTSCORE_ENOMODEL) {
        cs_clear_error(db);
        r->clv_note = "no purchase model fitted (custscore fit --model bgnbd)";
        return CUSTSCORE_OK;
    }
    if (rc)
        return rc;
    rc = custscore_model_load(db, r->opt.clv.spend_model ? r->opt.clv.spend_model : "gg", &spend);
    if (rc == CUSTSCORE_ENOMODEL) {
        cs_clear_error(db);
        r->clv_note = "no spend model fitted (custscore fit --model gg)";
        return CUSTSCORE_OK;
    }
    if (rc)
        return rc;
    double unit_days = custscore_unit_days(purchase.unit);
    /* Summarise as the model was fitted: its unit and its purchase rule. */
    bool zero_is_purchase = purchase.zero == CUSTSCORE_ZERO_REVENUE_PURCHASE;
    size_t m = 0;
    for (size_t i = 0; i < r->n; i++) {
        cs_summary_of_ex(&r->h, i, r->as_of, unit_days, zero_is_purchase, &r->summary[i]);
        if (r->summary[i].first != 0)
            m++;
    }
    double *x = cs_mallocarray(m ? m : 1, sizeof *x), *tx = cs_mallocarray(m ? m : 1, sizeof *tx),
           *T = cs_mallocarray(m ? m : 1, sizeof *T), *ms = cs_mallocarray(m ? m : 1, sizeof *ms),
           *out = cs_mallocarray(6 * (m ? m : 1), sizeof *out);
    if (!x || !tx || !T || !ms || !out) {
        rc = cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
        goto done;
    }
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++) {
        const custscore_summary *s = &r->summary[i];
        if (s->first == 0)
            continue;
        x[k] = (double)s->x;
        tx[k] = s->t_x;
        T[k] = s->T;
        ms[k] = s->mean_repeat_spend;
        k++;
    }
    custscore_clv_options copt = r->opt.clv;
    if (copt.margin == 0) {
        /* As the store functions: the store's margin when costs are known. */
        double revenue = 0, cost = 0;
        for (size_t j = 0; j < r->h.n_orders; j++) {
            if (r->h.ts[j] <= (cs_day_of(r->as_of) + 1) * CS_SECONDS_PER_DAY - 1) {
                revenue += r->h.revenue[j];
                cost += r->h.cost[j];
            }
        }
        copt.margin = r->h.any_cost && revenue > 0 ? (revenue - cost) / revenue : 1.0;
    }
    custscore_clv_info cinfo;
    rc = custscore_clv_arrays(&purchase, &spend, &copt, m, x, tx, T, ms, out, out + m, out + 2 * m,
                              out + 3 * m, out + 4 * m, out + 5 * m, &cinfo);
    if (rc) {
        /* A model that cannot score these data (e.g. q <= 1): say so, do not fail the run. */
        snprintf(r->clv_note_buf, sizeof r->clv_note_buf, "lifetime value not computed: %s",
                 custscore_errmsg(db)[0] ? custscore_errmsg(db) : custscore_errstr(rc));
        r->clv_note = r->clv_note_buf;
        cs_clear_error(db);
        rc = CUSTSCORE_OK;
        goto done;
    }
    k = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (r->summary[i].first == 0)
            continue;
        r->p_alive[i] = out[k];
        r->expected_purchases[i] = out[m + k];
        r->expected_spend[i] = out[2 * m + k];
        r->clv[i] = out[3 * m + k];
        r->clv_low[i] = out[4 * m + k];
        r->clv_high[i] = out[5 * m + k];
        k++;
    }
    r->info.has_clv = 1;
done:
    cs_free(x);
    cs_free(tx);
    cs_free(T);
    cs_free(ms);
    cs_free(out);
    return rc;
}

/* Per-customer satisfaction with the stored survey model. */
static int cs_score_satisfaction(cs_score_run *r)
{
    custscore *db = r->db;
    char name[128];
    const char *model_name = r->opt.survey_model;
    if (!model_name) {
        if (!cs_latest_survey_model(db, name, sizeof name)) {
            r->sat_note = "no survey model stored (run custscore csi --model ecsi|FILE once)";
            return CUSTSCORE_OK;
        }
        model_name = name;
    }
    custscore_survey_model *model = NULL;
    int rc = custscore_survey_model_load(db, model_name, &model);
    if (rc) {
        snprintf(r->sat_note_buf, sizeof r->sat_note_buf, "survey model '%s' not available: %s",
                 model_name, custscore_errmsg(db));
        r->sat_note = r->sat_note_buf;
        cs_clear_error(db);
        return CUSTSCORE_OK;
    }
    cs_sat_list l = {0};
    rc = custscore_csi_customers(db, model, NULL, r->as_of, cs_sat_collect, &l);
    custscore_survey_model_free(model);
    if (l.oom) {
        cs_sat_free(&l);
        return cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
    }
    if (rc) {
        snprintf(r->sat_note_buf, sizeof r->sat_note_buf, "satisfaction not computed: %s",
                 custscore_errmsg(db));
        r->sat_note = r->sat_note_buf;
        cs_clear_error(db);
        cs_sat_free(&l);
        return CUSTSCORE_OK;
    }
    /* Both lists are in key (byte) order: merge. */
    size_t j = 0;
    for (size_t i = 0; i < r->n && j < l.n; i++) {
        int c;
        while (j < l.n && (c = strcmp(l.key[j], r->h.key[i])) < 0)
            j++;
        if (j < l.n && strcmp(l.key[j], r->h.key[i]) == 0) {
            r->satisfaction[i] = l.value[j];
            r->satisfaction_ts[i] = l.ts[j];
            j++;
        }
    }
    r->info.has_satisfaction = l.n > 0;
    if (l.n == 0)
        r->sat_note = "no survey answers on or before the as-of day";
    cs_sat_free(&l);
    return CUSTSCORE_OK;
}

static int cs_score_classify(cs_score_run *r)
{
    bool oom = false;
    custscore_score_options *o = &r->opt;
    double *cur = cs_mallocarray(r->n ? r->n : 1, sizeof *cur);
    if (!cur)
        return cs_error(r->db, CUSTSCORE_ENOMEM, "out of memory");
    /* Value matrix over customers with a CLV. */
    for (size_t i = 0; i < r->n; i++)
        cur[i] = isfinite(r->clv[i]) ? r->value[i].profit : NAN;
    double cur_split = isfinite(o->current_value_split) ? o->current_value_split
                                                        : cs_median_finite(cur, r->n, &oom);
    double fut_split = isfinite(o->future_value_split) ? o->future_value_split
                                                       : cs_median_finite(r->clv, r->n, &oom);
    for (size_t i = 0; i < r->n; i++) {
        r->loyalty[i] = NAN;
        r->vq[i] = CUSTSCORE_VQ_UNCLASSIFIED;
        if (isfinite(r->clv[i]) && isfinite(cur_split) && isfinite(fut_split)) {
            bool high_now = r->value[i].profit > cur_split;
            bool high_future = r->clv[i] > fut_split;
            r->vq[i] = high_now ? (high_future ? CUSTSCORE_VQ_VALUE : CUSTSCORE_VQ_MAINTAIN)
                                : (high_future ? CUSTSCORE_VQ_POTENTIAL : CUSTSCORE_VQ_LOW);
        }
        /* Behavioural loyalty: repeat rate x/(x+1), averaged with P(alive). */
        if (r->value[i].first != 0) {
            double x = (double)r->value[i].frequency;
            const custscore_summary *s = &r->summary[i];
            if (s->first != 0)
                x = (double)s->x;
            double repeat_rate = x / (x + 1.0);
            r->loyalty[i] =
                isfinite(r->p_alive[i]) ? 0.5 * (repeat_rate + r->p_alive[i]) : repeat_rate;
        }
    }
    /* Loyalty quadrant over customers with a satisfaction score. */
    for (size_t i = 0; i < r->n; i++)
        cur[i] = isfinite(r->satisfaction[i]) ? r->loyalty[i] : NAN;
    double sat_split = isfinite(o->satisfaction_split)
                           ? o->satisfaction_split
                           : cs_median_finite(r->satisfaction, r->n, &oom);
    double loy_split =
        isfinite(o->loyalty_split) ? o->loyalty_split : cs_median_finite(cur, r->n, &oom);
    for (size_t i = 0; i < r->n; i++) {
        r->lq[i] = CUSTSCORE_LQ_UNCLASSIFIED;
        if (isfinite(r->satisfaction[i]) && isfinite(r->loyalty[i]) && isfinite(sat_split) &&
            isfinite(loy_split)) {
            bool satisfied = r->satisfaction[i] > sat_split;
            bool loyal = r->loyalty[i] > loy_split;
            r->lq[i] = satisfied ? (loyal ? CUSTSCORE_LQ_APOSTLE : CUSTSCORE_LQ_MERCENARY)
                                 : (loyal ? CUSTSCORE_LQ_HOSTAGE : CUSTSCORE_LQ_DEFECTOR);
        }
        r->info.value_quadrant_count[r->vq[i]]++;
        r->info.loyalty_quadrant_count[r->lq[i]]++;
    }
    cs_free(cur);
    if (oom)
        return cs_error(r->db, CUSTSCORE_ENOMEM, "out of memory");
    r->info.current_value_split = cur_split;
    r->info.future_value_split = fut_split;
    r->info.satisfaction_split = sat_split;
    r->info.loyalty_split = loy_split;
    return CUSTSCORE_OK;
}

static const char *cs_band_name(int level)
{
    return level == 2 ? "high" : level == 1 ? "medium" : level == 0 ? "low" : "";
}

/* Fill the public row for customer i. */
static void cs_score_row(const cs_score_run *r, size_t i, custscore_score *s)
{
    memset(s, 0, sizeof *s);
    s->customer = r->h.key[i];
    s->value = r->value[i];
    s->value.customer = r->h.key[i];
    s->current_value = r->value[i].profit;
    const custscore_summary *sm = &r->summary[i];
    s->repeat_purchases = sm->x;
    s->mean_interpurchase_days =
        sm->x > 0 ? (double)(sm->last - sm->first) / CS_SECONDS_PER_DAY / (double)sm->x : NAN;
    s->p_alive = r->p_alive[i];
    s->expected_purchases = r->expected_purchases[i];
    s->expected_spend = r->expected_spend[i];
    s->clv = r->clv[i];
    s->clv_low = r->clv_low[i];
    s->clv_high = r->clv_high[i];
    s->clv_note = r->clv_note ? r->clv_note : sm->first == 0 ? "no purchase by the as-of day" : "";
    s->churn_probability = r->churn[i];
    s->band = cs_band_name(r->band_level[i]);
    for (int k = 0; k < CUSTSCORE_REASONS; k++) {
        const char *reason = r->reason ? r->reason[i * CUSTSCORE_REASONS + (size_t)k] : NULL;
        s->reason[k] = reason ? reason : "";
        s->reason_contribution[k] = r->reason_contribution
                                        ? r->reason_contribution[i * CUSTSCORE_REASONS + (size_t)k]
                                        : NAN;
    }
    s->value_at_risk = isfinite(r->churn[i]) && isfinite(r->clv[i]) ? r->churn[i] * r->clv[i] : NAN;
    s->churn_note = r->churn_note ? r->churn_note : "";
    s->satisfaction = r->satisfaction[i];
    s->satisfaction_ts = r->satisfaction_ts[i];
    s->satisfaction_note = r->sat_note                    ? r->sat_note
                           : isfinite(r->satisfaction[i]) ? ""
                                                          : "no survey answers from this customer";
    s->loyalty = r->loyalty[i];
    s->value_quadrant = (custscore_value_quadrant)r->vq[i];
    s->loyalty_quadrant = (custscore_loyalty_quadrant)r->lq[i];
}

/* ---------------------------------------------------------------------- */
/* The fields of a scored row, in the order of its JSON object. One table
 * drives the full row (cs_score_json), the snapshot's data column
 * (cs_score_data_json) and the row put together again from a snapshot
 * (cs_snapshot_json), so the three cannot drift apart. */

typedef enum cs_field_kind {
    CS_FIELD_STR,       /* const char * */
    CS_FIELD_NUM,       /* double; null when not finite */
    CS_FIELD_I64,       /* int64_t */
    CS_FIELD_INT,       /* int */
    CS_FIELD_LIFECYCLE, /* custscore_lifecycle, written as its name */
    CS_FIELD_VQ,        /* custscore_value_quadrant, written as its name */
    CS_FIELD_LQ         /* custscore_loyalty_quadrant, written as its name */
} cs_field_kind;

typedef struct cs_score_field {
    const char *key; /* "\"name\":" */
    unsigned char key_len;
    unsigned char kind;
    /* In the data column (else a column of its own). Data leaves out null
     * numbers, empty texts and, with omit_zero, zero integers; @absent is
     * what a data column without the member means. */
    bool in_data, omit_zero;
    const char *absent;
    size_t offset;     /* in custscore_score */
    size_t row_offset; /* in custscore_snapshot_row (columns only) */
} cs_score_field;

/* The longest key's text, checked at compile time (a negative array size). */
#define CS_MAX_KEY_LEN 40
#define CS_KEY(name)                                                                               \
    "\"" name "\":",                                                                               \
        (unsigned char)(sizeof("\"" name "\":") - 1 +                                              \
                        0 * sizeof(char[sizeof(name) + 3 <= CS_MAX_KEY_LEN ? 1 : -1]))
#define CS_SCORE_AT(member) offsetof(custscore_score, member)
#define CS_ROW_AT(member) offsetof(custscore_snapshot_row, member)
#define CS_COLUMN(name, kind, member, row_member)                                                  \
    {                                                                                              \
        CS_KEY(name), kind, false, false, NULL, CS_SCORE_AT(member), CS_ROW_AT(row_member)         \
    }
#define CS_DATA(name, kind, member, omit_zero, absent)                                             \
    {                                                                                              \
        CS_KEY(name), kind, true, omit_zero, absent, CS_SCORE_AT(member), 0                        \
    }

_Static_assert(CUSTSCORE_REASONS == 3, "the field table lists three reasons");

static const cs_score_field cs_score_fields[] = {
    CS_COLUMN("customer", CS_FIELD_STR, customer, customer),
    CS_DATA("recency_days", CS_FIELD_I64, value.recency_days, false, "0"),
    CS_DATA("frequency", CS_FIELD_I64, value.frequency, false, "0"),
    CS_DATA("monetary", CS_FIELD_NUM, value.monetary, false, "null"),
    CS_DATA("r", CS_FIELD_INT, value.r, false, "0"),
    CS_DATA("f", CS_FIELD_INT, value.f, false, "0"),
    CS_DATA("m", CS_FIELD_INT, value.m, false, "0"),
    CS_COLUMN("rfm_score", CS_FIELD_INT, value.rfm_score, rfm_score),
    CS_COLUMN("segment", CS_FIELD_STR, value.segment, segment),
    CS_DATA("revenue", CS_FIELD_NUM, value.revenue, false, "null"),
    CS_DATA("cost", CS_FIELD_NUM, value.cost, false, "null"),
    CS_COLUMN("profit", CS_FIELD_NUM, value.profit, profit),
    CS_DATA("profit_share", CS_FIELD_NUM, value.profit_share, false, "null"),
    CS_COLUMN("tier", CS_FIELD_STR, value.tier_name, tier),
    CS_COLUMN("lifecycle", CS_FIELD_LIFECYCLE, value.lifecycle, lifecycle),
    CS_COLUMN("current_value", CS_FIELD_NUM, current_value, current_value),
    CS_DATA("repeat_purchases", CS_FIELD_I64, repeat_purchases, false, "0"),
    CS_DATA("mean_interpurchase_days", CS_FIELD_NUM, mean_interpurchase_days, false, "null"),
    CS_COLUMN("p_alive", CS_FIELD_NUM, p_alive, p_alive),
    CS_DATA("expected_purchases", CS_FIELD_NUM, expected_purchases, false, "null"),
    CS_DATA("expected_spend", CS_FIELD_NUM, expected_spend, false, "null"),
    CS_COLUMN("clv", CS_FIELD_NUM, clv, clv),
    CS_DATA("clv_low", CS_FIELD_NUM, clv_low, false, "null"),
    CS_DATA("clv_high", CS_FIELD_NUM, clv_high, false, "null"),
    CS_DATA("clv_note", CS_FIELD_STR, clv_note, false, "\"\""),
    CS_COLUMN("churn_probability", CS_FIELD_NUM, churn_probability, churn_probability),
    CS_COLUMN("band", CS_FIELD_STR, band, band),
    CS_DATA("reason1", CS_FIELD_STR, reason[0], false, "\"\""),
    CS_DATA("reason1_contribution", CS_FIELD_NUM, reason_contribution[0], false, "null"),
    CS_DATA("reason2", CS_FIELD_STR, reason[1], false, "\"\""),
    CS_DATA("reason2_contribution", CS_FIELD_NUM, reason_contribution[1], false, "null"),
    CS_DATA("reason3", CS_FIELD_STR, reason[2], false, "\"\""),
    CS_DATA("reason3_contribution", CS_FIELD_NUM, reason_contribution[2], false, "null"),
    CS_COLUMN("value_at_risk", CS_FIELD_NUM, value_at_risk, value_at_risk),
    CS_DATA("churn_note", CS_FIELD_STR, churn_note, false, "\"\""),
    CS_COLUMN("satisfaction", CS_FIELD_NUM, satisfaction, satisfaction),
    CS_DATA("satisfaction_ts", CS_FIELD_I64, satisfaction_ts, true, "0"),
    CS_DATA("satisfaction_note", CS_FIELD_STR, satisfaction_note, false, "\"\""),
    CS_DATA("loyalty", CS_FIELD_NUM, loyalty, false, "null"),
    CS_COLUMN("value_matrix", CS_FIELD_VQ, value_quadrant, value_quadrant),
    CS_COLUMN("loyalty_quadrant", CS_FIELD_LQ, loyalty_quadrant, loyalty_quadrant),
};

#define CS_N_SCORE_FIELDS (sizeof cs_score_fields / sizeof cs_score_fields[0])

/* "key": followed by a JSON string of @v (NULL as ""), and a comma. */
static void cs_json_str(cs_buf *b, const cs_score_field *f, const char *v)
{
    cs_buf_add(b, f->key, f->key_len);
    cs_buf_add(b, "\"", 1);
    const char *run = v ? v : "", *p = run;
    for (;; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        cs_buf_add(b, run, (size_t)(p - run));
        if (ch == '\0')
            break;
        /* \" \\ or \u00XX, as "\\u%04x" wrote them */
        static const char hex[] = "0123456789abcdef";
        char esc[6] = {'\\', (char)ch, '0', '0', hex[ch >> 4], hex[ch & 15]};
        size_t len = 2;
        if (ch < 0x20) {
            esc[1] = 'u';
            len = 6;
        }
        cs_buf_add(b, esc, len);
        run = p + 1;
    }
    cs_buf_add(b, "\",", 2);
}

/* "key": followed by @v as the shortest text that reads back exactly
 * (null when not finite), and a comma. */
static void cs_json_num(cs_buf *b, const cs_score_field *f, double v)
{
    char text[CS_MAX_KEY_LEN + 48];
    memcpy(text, f->key, f->key_len);
    int n = isfinite(v) ? cs_fmt_shortest(text + f->key_len, v) : -1;
    if (n < 0) {
        cs_buf_add(b, text, f->key_len);
        cs_buf_add(b, "null,", 5);
        return;
    }
    text[f->key_len + (size_t)n] = ',';
    cs_buf_add(b, text, f->key_len + (size_t)n + 1);
}

static void cs_json_int(cs_buf *b, const cs_score_field *f, int64_t v)
{
    char text[CS_MAX_KEY_LEN + 32];
    memcpy(text, f->key, f->key_len);
    char digits[24], *d = digits + sizeof digits;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--d = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--d = '-';
    size_t n = (size_t)(digits + sizeof digits - d);
    memcpy(text + f->key_len, d, n);
    text[f->key_len + n] = ',';
    cs_buf_add(b, text, f->key_len + n + 1);
}

/* Close the object: the trailing comma becomes the brace. */
static void cs_json_close(cs_buf *b)
{
    if (!b->failed && b->len && b->data[b->len - 1] == ',')
        b->data[b->len - 1] = '}';
    else
        cs_buf_puts(b, "}");
}

/* Field @f of @s: a text (NULL when the field is a number) or a number in
 * *num (integers in *i64, *is_int set). */
static const char *cs_field_value(const cs_score_field *f, const custscore_score *s, double *num,
                                  int64_t *i64, bool *is_int)
{
    const char *at = (const char *)s + f->offset;
    *is_int = false;
    switch ((cs_field_kind)f->kind) {
    case CS_FIELD_STR: {
        const char *v;
        memcpy(&v, at, sizeof v);
        return v ? v : "";
    }
    case CS_FIELD_NUM:
        memcpy(num, at, sizeof *num);
        return NULL;
    case CS_FIELD_I64:
        memcpy(i64, at, sizeof *i64);
        *is_int = true;
        return NULL;
    case CS_FIELD_INT: {
        int v;
        memcpy(&v, at, sizeof v);
        *i64 = v;
        *is_int = true;
        return NULL;
    }
    case CS_FIELD_LIFECYCLE: {
        custscore_lifecycle v;
        memcpy(&v, at, sizeof v);
        return custscore_lifecycle_name(v);
    }
    case CS_FIELD_VQ: {
        custscore_value_quadrant v;
        memcpy(&v, at, sizeof v);
        return custscore_value_quadrant_name(v);
    }
    default: {
        custscore_loyalty_quadrant v;
        memcpy(&v, at, sizeof v);
        return custscore_loyalty_quadrant_name(v);
    }
    }
}

void cs_score_json(cs_buf *b, const custscore_score *s)
{
    cs_buf_add(b, "{", 1);
    for (size_t i = 0; i < CS_N_SCORE_FIELDS; i++) {
        const cs_score_field *f = &cs_score_fields[i];
        double num = NAN;
        int64_t i64 = 0;
        bool is_int;
        const char *text = cs_field_value(f, s, &num, &i64, &is_int);
        if (text)
            cs_json_str(b, f, text);
        else if (is_int)
            cs_json_int(b, f, i64);
        else
            cs_json_num(b, f, num);
    }
    cs_json_close(b);
}

/* The snapshot's data column holds the fields that have no column of their
 * own, leaving out null numbers and empty texts: 40-60% of the full row, and
 * saving a million rows is mostly writing their bytes. The full row is put
 * together again when a snapshot is read (cs_snapshot_json). */
static void cs_score_data_json(cs_buf *b, const custscore_score *s)
{
    cs_buf_add(b, "{", 1);
    for (size_t i = 0; i < CS_N_SCORE_FIELDS; i++) {
        const cs_score_field *f = &cs_score_fields[i];
        if (!f->in_data)
            continue;
        double num = NAN;
        int64_t i64 = 0;
        bool is_int;
        const char *text = cs_field_value(f, s, &num, &i64, &is_int);
        if (text) {
            if (*text)
                cs_json_str(b, f, text);
        } else if (is_int) {
            if (i64 != 0 || !f->omit_zero)
                cs_json_int(b, f, i64);
        } else if (isfinite(num)) {
            cs_json_num(b, f, num);
        }
    }
    cs_json_close(b);
}

static void cs_bind_num(sqlite3_stmt *st, int col, double v)
{
    if (isfinite(v))
        sqlite3_bind_double(st, col, v);
    else
        sqlite3_bind_null(st, col);
}

static void cs_bind_str(sqlite3_stmt *st, int col, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, col, s, -1, SQLITE_STATIC); /* valid until the rows are stepped */
    else
        sqlite3_bind_null(st, col);
}

/* Rows are saved CS_INSERT_ROWS to a statement (a multi-row INSERT costs
 * SQLite far less per row than one statement per row), the rest one by one. */
#define CS_INSERT_COLUMNS 18
#define CS_INSERT_ROWS 64

/* INSERT of @rows rows; columns named, so it fits every schema version. */
static int cs_prepare_insert(custscore *db, size_t rows, sqlite3_stmt **out)
{
    return cs_prepare_rows(
        db,
        "INSERT INTO score(as_of, customer, scored_at, rfm_score, segment, tier, "
        "lifecycle, profit, current_value, clv, p_alive, churn_probability, "
        "band, value_at_risk, satisfaction, value_matrix, loyalty, data) VALUES ",
        "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows, out);
}

/* Bind row @s (customer store id @id) as row @k of @st; @data is its data column. */
static void cs_bind_row(sqlite3_stmt *st, int k, const cs_score_run *r, int64_t id, int64_t now,
                        const custscore_score *s, const char *data, size_t data_len)
{
    int c = k * CS_INSERT_COLUMNS;
    sqlite3_bind_int64(st, c + 1, r->as_of);
    sqlite3_bind_int64(st, c + 2, id);
    sqlite3_bind_int64(st, c + 3, now);
    if (s->value.rfm_score > 0)
        sqlite3_bind_int(st, c + 4, s->value.rfm_score);
    else
        sqlite3_bind_null(st, c + 4);
    cs_bind_str(st, c + 5, s->value.segment);
    cs_bind_str(st, c + 6, s->value.tier_name);
    cs_bind_str(st, c + 7, custscore_lifecycle_name(s->value.lifecycle));
    cs_bind_num(st, c + 8, s->value.profit);
    cs_bind_num(st, c + 9, s->current_value);
    cs_bind_num(st, c + 10, s->clv);
    cs_bind_num(st, c + 11, s->p_alive);
    cs_bind_num(st, c + 12, s->churn_probability);
    cs_bind_str(st, c + 13, s->band);
    cs_bind_num(st, c + 14, s->value_at_risk);
    cs_bind_num(st, c + 15, s->satisfaction);
    cs_bind_str(st, c + 16, custscore_value_quadrant_name(s->value_quadrant));
    cs_bind_str(st, c + 17, custscore_loyalty_quadrant_name(s->loyalty_quadrant));
    sqlite3_bind_text(st, c + 18, data, (int)data_len, SQLITE_STATIC);
}

typedef struct cs_id_pos {
    int64_t id;
    size_t pos;
} cs_id_pos;

static int cs_id_pos_cmp(const void *a, const void *b)
{
    const cs_id_pos *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* The positions of the customers in store id order, the order of the score
 * table's key (as_of, customer): appending in key order is what a B-tree
 * does fastest. NULL in *out when key order is id order already (as after
 * an import sorted by key). */
static int cs_id_order(const cs_score_run *r, size_t **out)
{
    *out = NULL;
    bool sorted = true;
    for (size_t i = 1; i < r->n && sorted; i++)
        sorted = r->h.customer_id[i - 1] < r->h.customer_id[i];
    if (sorted)
        return CUSTSCORE_OK;
    cs_id_pos *ip = cs_mallocarray(r->n, sizeof *ip);
    size_t *order = cs_mallocarray(r->n, sizeof *order);
    if (!ip || !order) {
        cs_free(ip);
        cs_free(order);
        return cs_error(r->db, CUSTSCORE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < r->n; i++) {
        ip[i].id = r->h.customer_id[i];
        ip[i].pos = i;
    }
    qsort(ip, r->n, sizeof *ip, cs_id_pos_cmp);
    for (size_t i = 0; i < r->n; i++)
        order[i] = ip[i].pos;
    cs_free(ip);
    *out = order;
    return CUSTSCORE_OK;
}

/* Save every row, CS_INSERT_ROWS to a statement. */
static int cs_score_save(cs_score_run *r)
{
    custscore *db = r->db;
    sqlite3_stmt *many = NULL, *one = NULL;
    size_t *order = NULL;
    /* A host may have lowered the number of parameters a statement takes. */
    int max_vars = sqlite3_limit(db->sql, SQLITE_LIMIT_VARIABLE_NUMBER, -1);
    size_t batch = CS_INSERT_ROWS;
    if (max_vars > 0 && (size_t)max_vars / CS_INSERT_COLUMNS < batch)
        batch = (size_t)max_vars / CS_INSERT_COLUMNS;
    if (batch < 1)
        batch = 1;
    int rc = cs_id_order(r, &order);
    if (rc == 0 && r->n >= batch && batch > 1)
        rc = cs_prepare_insert(db, batch, &many);
    if (rc == 0)
        rc = cs_prepare_insert(db, 1, &one);
    size_t *data_end = cs_mallocarray(batch, sizeof *data_end);
    custscore_score *row = cs_mallocarray(batch, sizeof *row);
    if (rc == 0 && (!data_end || !row))
        rc = cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
    int64_t now = (int64_t)time(NULL);
    cs_buf json;
    cs_buf_init(&json);
    for (size_t i0 = 0; rc == 0 && i0 < r->n;) {
        size_t rows = r->n - i0 >= batch ? batch : 1;
        sqlite3_stmt *st = rows == batch ? (many ? many : one) : one;
        /* The data columns of the rows first (the buffer moves as it grows),
         * then the bindings into it. */
        json.len = 0;
        for (size_t k = 0; k < rows; k++) {
            size_t i = order ? order[i0 + k] : i0 + k;
            cs_score_row(r, i, &row[k]);
            cs_score_data_json(&json, &row[k]);
            data_end[k] = json.len;
        }
        if (json.failed) {
            rc = cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
            break;
        }
        sqlite3_reset(st);
        for (size_t k = 0; k < rows; k++) {
            size_t i = order ? order[i0 + k] : i0 + k;
            size_t start = k ? data_end[k - 1] : 0;
            cs_bind_row(st, (int)k, r, r->h.customer_id[i], now, &row[k], json.data + start,
                        data_end[k] - start);
        }
        int src = sqlite3_step(st);
        if (src != SQLITE_DONE)
            rc = cs_sqlite_error(db, src, "saving the snapshot");
        i0 += rows;
    }
    cs_buf_free(&json);
    cs_free(data_end);
    cs_free(row);
    cs_free(order);
    sqlite3_finalize(many);
    sqlite3_finalize(one);
    return rc;
}

/* A multi-row INSERT inside a transaction keeps a statement journal (to undo
 * that statement alone on an error), which SQLite writes to a temporary file
 * unless temp_store is MEMORY: a million rows made as many writes again as
 * the snapshot itself. So temp_store is MEMORY for the save (some 100 kB of
 * journal per statement) and set back after it. SQLite refuses the change
 * inside a transaction (a custscore_begin() batch): the journal then stays
 * a file, which is slower, not different. Returns the setting to restore,
 * or -1 when nothing was changed. */
static int cs_temp_store_memory(custscore *db)
{
    if (!sqlite3_get_autocommit(db->sql))
        return -1;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->sql, "PRAGMA temp_store", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int old = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    if (old < 0 || old >= 2 ||
        sqlite3_exec(db->sql, "PRAGMA temp_store = MEMORY", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    return old;
}

static void cs_temp_store_restore(custscore *db, int old)
{
    static const char *const sql[] = {"PRAGMA temp_store = DEFAULT", "PRAGMA temp_store = FILE"};
    if (old == 0 || old == 1)
        sqlite3_exec(db->sql, sql[old], NULL, NULL, NULL);
}

static int cs_score_emit(cs_score_run *r, custscore_score_fn fn, void *payload)
{
    custscore *db = r->db;
    bool save = !r->opt.no_store;
    int rc = CUSTSCORE_OK;
    int temp_store = save ? cs_temp_store_memory(db) : -1;
    if (save) {
        rc = cs_tx_begin(db);
        if (rc) {
            cs_temp_store_restore(db, temp_store);
            return rc;
        }
        sqlite3_stmt *del;
        rc = cs_prepare(db, "DELETE FROM score WHERE as_of = ?1", &del);
        if (rc == 0) {
            sqlite3_bind_int64(del, 1, r->as_of);
            int src = sqlite3_step(del);
            if (src != SQLITE_DONE)
                rc = cs_sqlite_error(db, src, "replacing the snapshot");
            sqlite3_finalize(del);
        }
    }
    /* The rows to the caller in key order; the totals. */
    for (size_t i = 0; rc == 0 && i < r->n; i++) {
        custscore_score s;
        cs_score_row(r, i, &s);
        r->info.total_profit += s.value.profit;
        if (isfinite(s.clv))
            r->info.total_clv += s.clv;
        if (isfinite(s.value_at_risk))
            r->info.total_value_at_risk += s.value_at_risk;
        if (isfinite(s.churn_probability))
            r->info.band_count[s.band[0] == 'h' ? 2 : s.band[0] == 'm' ? 1 : 0]++;
        if (fn) {
            int stop = fn(&s, payload);
            if (stop)
                rc = stop;
        }
    }
    r->info.customers = (int64_t)r->n;
    if (save) {
        if (rc == 0)
            rc = cs_score_save(r);
        rc = cs_tx_end(db, rc);
        r->info.saved = rc == 0;
        cs_temp_store_restore(db, temp_store);
    }
    return rc;
}

int custscore_score_all(custscore *db, int64_t as_of, const custscore_score_options *options,
                        custscore_score_fn fn, void *payload, custscore_score_info *info)
{
    if (info)
        memset(info, 0, sizeof *info);
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (cs_check_as_of(db, as_of, "custscore_score_all: as-of time"))
        return CUSTSCORE_ERANGE;
    cs_score_run r;
    memset(&r, 0, sizeof r);
    custscore_score_options defaults = CUSTSCORE_SCORE_OPTIONS_INIT;
    r.opt = options ? *options : defaults;
    if (r.opt.version != CUSTSCORE_SCORE_OPTIONS_VERSION)
        return cs_error(db, CUSTSCORE_EINVAL,
                        "score options: version %u, this library knows version %u (initialise "
                        "with CUSTSCORE_SCORE_OPTIONS_INIT)",
                        r.opt.version, CUSTSCORE_SCORE_OPTIONS_VERSION);
    if (!(r.opt.band_medium >= 0 && r.opt.band_high >= 0 && r.opt.band_high <= 1 &&
          (r.opt.band_medium == 0 || r.opt.band_medium <= r.opt.band_high)))
        return cs_error(db, CUSTSCORE_EINVAL,
                        "score options: churn bands need 0 <= medium (%g) <= high (%g) <= 1",
                        r.opt.band_medium, r.opt.band_high);
    if (!r.opt.no_store) {
        int rc = cs_check_writable(db);
        if (rc)
            return rc;
    }
    r.db = db;
    r.as_of = as_of;
    r.info.as_of = as_of;
    int rc = cs_history_load(db, as_of, &r.h);
    if (rc)
        return rc;
    size_t n = r.n = r.h.n_customers;
    r.value = cs_calloc(n ? n : 1, sizeof *r.value);
    r.summary = cs_calloc(n ? n : 1, sizeof *r.summary);
    r.p_alive = cs_nan_array(n);
    r.expected_purchases = cs_nan_array(n);
    r.expected_spend = cs_nan_array(n);
    r.clv = cs_nan_array(n);
    r.clv_low = cs_nan_array(n);
    r.clv_high = cs_nan_array(n);
    r.satisfaction = cs_nan_array(n);
    r.satisfaction_ts = cs_calloc(n ? n : 1, sizeof *r.satisfaction_ts);
    r.churn = cs_nan_array(n);
    r.band_level = cs_calloc(n ? n : 1, sizeof *r.band_level);
    r.loyalty = cs_nan_array(n);
    r.vq = cs_calloc(n ? n : 1, sizeof *r.vq);
    r.lq = cs_calloc(n ? n : 1, sizeof *r.lq);
    if (!r.value || !r.summary || !r.p_alive || !r.expected_purchases || !r.expected_spend ||
        !r.clv || !r.clv_low || !r.clv_high || !r.satisfaction || !r.satisfaction_ts || !r.churn ||
        !r.band_level || !r.loyalty || !r.vq || !r.lq) {
        cs_score_run_free(&r);
        return cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
    }
    /* The summary in weeks when no purchase model sets another unit. */
    for (size_t i = 0; i < n; i++)
        cs_summary_of(&r.h, i, as_of, 7.0, &r.summary[i]);
    rc = cs_score_value(&r);
    if (rc == 0)
        rc = cs_score_clv(&r);
    if (rc == 0)
        rc = cs_score_satisfaction(&r);
    if (rc == 0)
        rc = cs_score_churn(db, as_of, &r.h, r.opt.band_medium, r.opt.band_high, r.churn,
                            r.band_level, &r.reason, &r.reason_contribution, r.churn_note_buf,
                            sizeof r.churn_note_buf);
    if (rc == 0) {
        if (r.churn_note_buf[0])
            r.churn_note = r.churn_note_buf;
        else
            r.info.has_churn = 1;
        rc = cs_score_classify(&r);
    }
    if (rc == 0)
        rc = cs_score_emit(&r, fn, payload);
    if (info)
        *info = r.info;
    cs_score_run_free(&r);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Snapshots */

int custscore_snapshots(custscore *db, int64_t *as_of, size_t capacity, size_t *count)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!count || (capacity && !as_of))
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_snapshots: NULL output");
    sqlite3_stmt *st;
    int rc = cs_prepare(db, "SELECT DISTINCT as_of FROM score ORDER BY as_of DESC", &st);
    if (rc)
        return rc;
    size_t n = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (n < capacity)
            as_of[n] = sqlite3_column_int64(st, 0);
        n++;
    }
    if (src != SQLITE_DONE)
        rc = cs_sqlite_error(db, src, "listing snapshots");
    sqlite3_finalize(st);
    *count = n;
    return rc;
}

#define CS_SNAPSHOT_COLUMNS                                                                        \
    "c.key, s.as_of, s.scored_at, s.rfm_score, s.segment, s.tier, s.lifecycle, s.profit, "         \
    "s.current_value, s.clv, s.p_alive, s.churn_probability, s.band, s.value_at_risk, "            \
    "s.satisfaction, s.value_matrix, s.loyalty, s.data"

static double cs_col_num(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? NAN : sqlite3_column_double(st, col);
}

static const char *cs_col_text(sqlite3_stmt *st, int col)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    return s ? s : "";
}

/* Read a row of CS_SNAPSHOT_COLUMNS starting at column @c0; strings point
 * into the statement. */
static void cs_snapshot_read(sqlite3_stmt *st, int c0, custscore_snapshot_row *out)
{
    out->customer = cs_col_text(st, c0 + 0);
    out->as_of = sqlite3_column_int64(st, c0 + 1);
    out->scored_at = sqlite3_column_int64(st, c0 + 2);
    out->rfm_score = sqlite3_column_int(st, c0 + 3);
    out->segment = cs_col_text(st, c0 + 4);
    out->tier = cs_col_text(st, c0 + 5);
    out->lifecycle = cs_col_text(st, c0 + 6);
    out->profit = cs_col_num(st, c0 + 7);
    out->current_value = cs_col_num(st, c0 + 8);
    out->clv = cs_col_num(st, c0 + 9);
    out->p_alive = cs_col_num(st, c0 + 10);
    out->churn_probability = cs_col_num(st, c0 + 11);
    out->band = cs_col_text(st, c0 + 12);
    out->value_at_risk = cs_col_num(st, c0 + 13);
    out->satisfaction = cs_col_num(st, c0 + 14);
    out->value_quadrant = cs_col_text(st, c0 + 15);
    out->loyalty_quadrant = cs_col_text(st, c0 + 16);
    out->json = cs_col_text(st, c0 + 17);
}

/* The members of a flat JSON object as raw text (strings keep their quotes
 * and escapes), as the data column holds them. */
#define CS_DATA_MAX_MEMBERS 64
typedef struct cs_data_members {
    size_t n;
    struct {
        const char *key, *value;
        size_t key_len, value_len;
    } m[CS_DATA_MAX_MEMBERS];
} cs_data_members;

static const char *cs_skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* The end of the string starting at the quote @p (past its closing quote),
 * or NULL when it does not end. */
static const char *cs_string_end(const char *p)
{
    for (p++; *p; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* Split @s; false (and no members) when it is not a flat object, e.g. a
 * damaged row: the row is then rebuilt from its columns alone. */
static bool cs_data_split(const char *s, cs_data_members *out)
{
    out->n = 0;
    const char *p = cs_skip_ws(s);
    if (*p++ != '{')
        return false;
    p = cs_skip_ws(p);
    if (*p == '}')
        return true;
    for (;;) {
        if (*p != '"' || out->n == CS_DATA_MAX_MEMBERS)
            break;
        const char *key_end = cs_string_end(p);
        if (!key_end)
            break;
        size_t k = out->n;
        out->m[k].key = p + 1;
        out->m[k].key_len = (size_t)(key_end - p - 2);
        p = cs_skip_ws(key_end);
        if (*p++ != ':')
            break;
        p = cs_skip_ws(p);
        const char *v = p, *v_end;
        if (*p == '"') {
            v_end = cs_string_end(p);
            if (!v_end)
                break;
        } else {
            v_end = p;
            while (*v_end && *v_end != ',' && *v_end != '}' && *v_end != ' ' && *v_end != '"' &&
                   *v_end != '{' && *v_end != '[')
                v_end++;
            if (v_end == p)
                break;
        }
        out->m[k].value = v;
        out->m[k].value_len = (size_t)(v_end - v);
        out->n++;
        p = cs_skip_ws(v_end);
        if (*p == '}')
            return true;
        if (*p++ != ',')
            break;
        p = cs_skip_ws(p);
    }
    out->n = 0;
    return false;
}

/* Member @f of @d as it is stored, or @f's absent text. */
static void cs_json_member(cs_buf *b, const cs_score_field *f, const cs_data_members *d)
{
    const char *name = f->key + 1; /* without the quotes and the colon */
    size_t len = (size_t)f->key_len - 3;
    cs_buf_add(b, f->key, f->key_len);
    for (size_t i = 0; i < d->n; i++) {
        if (d->m[i].key_len == len && memcmp(d->m[i].key, name, len) == 0) {
            cs_buf_add(b, d->m[i].value, d->m[i].value_len);
            cs_buf_add(b, ",", 1);
            return;
        }
    }
    cs_buf_puts(b, f->absent);
    cs_buf_add(b, ",", 1);
}

/* The whole row as one JSON object (the fields of custscore_score, in the
 * order of cs_score_json): the columns of @row plus the stored @data. Rows
 * saved by earlier versions hold every field in data; the columns win. */
static void cs_snapshot_json(cs_buf *b, const custscore_snapshot_row *row, const char *data)
{
    cs_data_members d;
    cs_data_split(data, &d);
    cs_buf_add(b, "{", 1);
    for (size_t i = 0; i < CS_N_SCORE_FIELDS; i++) {
        const cs_score_field *f = &cs_score_fields[i];
        if (f->in_data) {
            cs_json_member(b, f, &d);
            continue;
        }
        const char *at = (const char *)row + f->row_offset;
        if (f->kind == CS_FIELD_NUM) {
            double v;
            memcpy(&v, at, sizeof v);
            cs_json_num(b, f, v);
        } else if (f->kind == CS_FIELD_INT) {
            int v;
            memcpy(&v, at, sizeof v);
            cs_json_int(b, f, v);
        } else {
            const char *v;
            memcpy(&v, at, sizeof v);
            cs_json_str(b, f, v);
        }
    }
    cs_json_close(b);
}

int custscore_snapshot_get(custscore *db, const char *customer, int64_t as_of,
                           custscore_snapshot_row *out)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!out || !customer)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_snapshot_get: NULL argument");
    if (cs_check_as_of(db, as_of, "custscore_snapshot_get: as-of time"))
        return CUSTSCORE_ERANGE;
    sqlite3_finalize(db->snapshot_stmt);
    db->snapshot_stmt = NULL;
    int rc = cs_prepare(db,
                        "SELECT " CS_SNAPSHOT_COLUMNS " FROM score s JOIN customer c ON c.id = "
                        "s.customer WHERE c.key = ?1 AND (?2 = 0 OR s.as_of = ?2)"
                        " ORDER BY s.as_of DESC LIMIT 1",
                        &db->snapshot_stmt);
    if (rc)
        return rc;
    /* The caller's key is only read by the step below (no copy to fail). */
    sqlite3_bind_text(db->snapshot_stmt, 1, customer, -1, SQLITE_STATIC);
    sqlite3_bind_int64(db->snapshot_stmt, 2, as_of);
    int src = sqlite3_step(db->snapshot_stmt);
    if (src == SQLITE_ROW) {
        cs_snapshot_read(db->snapshot_stmt, 0, out);
        cs_buf json;
        cs_buf_init(&json);
        cs_snapshot_json(&json, out, out->json);
        if (json.failed) {
            cs_buf_free(&json);
            return cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
        }
        cs_free(db->snapshot_json);
        db->snapshot_json = json.data;
        out->json = db->snapshot_json;
        return CUSTSCORE_OK;
    }
    if (src != SQLITE_DONE)
        return cs_sqlite_error(db, src, "reading a snapshot");
    if (as_of)
        return cs_error(db, CUSTSCORE_ENOTFOUND, "no scores of customer '%s' at that as-of date",
                        customer);
    return cs_error(db, CUSTSCORE_ENOTFOUND,
                    "no scores of customer '%s' (run custscore score first)", customer);
}

/* The as-of time of the latest snapshot at or before @t (0: the latest). */
static int cs_snapshot_at(custscore *db, int64_t t, int64_t *out)
{
    sqlite3_stmt *st;
    int rc = cs_prepare(db, "SELECT max(as_of) FROM score WHERE ?1 = 0 OR as_of <= ?1", &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, t);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *out = sqlite3_column_int64(st, 0);
        rc = CUSTSCORE_OK;
    } else if (src == SQLITE_ROW) {
        char when[32] = "the latest";
        if (t)
            custscore_format_time(t, 0, when, sizeof when);
        rc = cs_error(db, CUSTSCORE_ENOTFOUND, "no score snapshot at or before %s", when);
    } else {
        rc = cs_sqlite_error(db, src, "finding a snapshot");
    }
    sqlite3_finalize(st);
    return rc;
}

int custscore_changes(custscore *db, int64_t since, int64_t until, custscore_change_fn fn,
                      void *payload)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!fn)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_changes: NULL callback");
    if (cs_check_as_of(db, since, "custscore_changes: since") ||
        cs_check_as_of(db, until, "custscore_changes: until"))
        return CUSTSCORE_ERANGE;
    int64_t before_t, after_t;
    int rc = cs_snapshot_at(db, until, &after_t);
    if (rc == 0)
        rc = cs_snapshot_at(db, since, &before_t);
    if (rc)
        return rc;
    sqlite3_stmt *st;
    /* Both snapshots joined by customer; moved = tier, segment or band
     * differs; sorted by value at stake. */
    rc = cs_prepare(db,
                    "SELECT " CS_SNAPSHOT_COLUMNS ", b.as_of, b.scored_at, b.rfm_score, b.segment, "
                    "b.tier, b.lifecycle, b.profit, b.current_value, b.clv, b.p_alive, "
                    "b.churn_probability, b.band, b.value_at_risk, b.satisfaction, "
                    "b.value_matrix, b.loyalty, b.data,"
                    " coalesce(s.value_at_risk, s.clv, s.current_value, 0) AS stake"
                    " FROM score s JOIN score b ON b.customer = s.customer AND b.as_of = ?2"
                    " JOIN customer c ON c.id = s.customer WHERE s.as_of = ?1"
                    " AND (s.tier IS NOT b.tier OR s.segment IS NOT b.segment OR s.band IS NOT "
                    "b.band) ORDER BY stake DESC, c.key",
                    &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, after_t);
    sqlite3_bind_int64(st, 2, before_t);
    cs_buf before_json, after_json;
    cs_buf_init(&before_json);
    cs_buf_init(&after_json);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        custscore_change ch;
        memset(&ch, 0, sizeof ch);
        cs_snapshot_read(st, 0, &ch.after);
        /* The before row: same layout without the key column. */
        ch.before.customer = ch.after.customer;
        ch.before.as_of = sqlite3_column_int64(st, 18);
        ch.before.scored_at = sqlite3_column_int64(st, 19);
        ch.before.rfm_score = sqlite3_column_int(st, 20);
        ch.before.segment = cs_col_text(st, 21);
        ch.before.tier = cs_col_text(st, 22);
        ch.before.lifecycle = cs_col_text(st, 23);
        ch.before.profit = cs_col_num(st, 24);
        ch.before.current_value = cs_col_num(st, 25);
        ch.before.clv = cs_col_num(st, 26);
        ch.before.p_alive = cs_col_num(st, 27);
        ch.before.churn_probability = cs_col_num(st, 28);
        ch.before.band = cs_col_text(st, 29);
        ch.before.value_at_risk = cs_col_num(st, 30);
        ch.before.satisfaction = cs_col_num(st, 31);
        ch.before.value_quadrant = cs_col_text(st, 32);
        ch.before.loyalty_quadrant = cs_col_text(st, 33);
        ch.before.json = cs_col_text(st, 34);
        ch.value_at_stake = sqlite3_column_double(st, 35);
        ch.customer = ch.after.customer;
        ch.tier_changed = strcmp(ch.before.tier, ch.after.tier) != 0;
        ch.segment_changed = strcmp(ch.before.segment, ch.after.segment) != 0;
        ch.band_changed = strcmp(ch.before.band, ch.after.band) != 0;
        before_json.len = after_json.len = 0;
        cs_snapshot_json(&before_json, &ch.before, ch.before.json);
        cs_snapshot_json(&after_json, &ch.after, ch.after.json);
        if (before_json.failed || after_json.failed) {
            rc = cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
            break;
        }
        ch.before.json = before_json.data;
        ch.after.json = after_json.data;
        int stop = fn(&ch, payload);
        if (stop) {
            rc = stop;
            break;
        }
    }
    if (rc == 0 && src != SQLITE_DONE && src != SQLITE_ROW)
        rc = cs_sqlite_error(db, src, "comparing snapshots");
    sqlite3_finalize(st);
    cs_buf_free(&before_json);
    cs_buf_free(&after_json);
    return rc;
}
