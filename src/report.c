/*
 * report.c: the HTML report, part 1: gather every figure in one run over
 * the store, then write the document (report_html.c) to a temporary file
 * and rename it.
 *
 * One run: every customer's value, CLV, churn and satisfaction come from
 * the snapshot saved for the as-of date when there is one
 * (report_snapshot.c), else from custscore_score_all() (not saved); the
 * report keeps only what its charts need (a few numbers per customer,
 * aggregates, and the top rows by value at risk). The whale curve comes
 * from the collected profits; the retention cohorts and the revenue and
 * cost totals from one pass over the orders (retention.c); the
 * satisfaction index, the snapshot changes and the churn model card each
 * from their module in one call.
 */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------------- */
/* Per-customer collection (the custscore_score_all() callback). */

static int cs_report_grow(cs_report *r)
{
    size_t cap = r->cap ? r->cap * 2 : 1024;
    double **cols[5] = {&r->profit, &r->clv, &r->churn, &r->satisfaction, &r->loyalty};
    for (int k = 0; k < 5; k++) {
        double *p = cs_reallocarray(*cols[k], cap, sizeof(double));
        if (!p)
            return CUSTSCORE_ENOMEM;
        *cols[k] = p;
    }
    signed char *vq = cs_reallocarray(r->vq, cap, 1);
    if (!vq)
        return CUSTSCORE_ENOMEM;
    r->vq = vq;
    signed char *lq = cs_reallocarray(r->lq, cap, 1);
    if (!lq)
        return CUSTSCORE_ENOMEM;
    r->lq = lq;
    r->cap = cap;
    return CUSTSCORE_OK;
}

void cs_report_top_clear(cs_report_top *t)
{
    cs_free(t->customer);
    for (int k = 0; k < CUSTSCORE_REASONS; k++)
        cs_free(t->reason[k]);
    cs_free(t->segment);
    cs_free(t->tier);
    memset(t, 0, sizeof *t);
}

/* Ranking of the value-at-risk table: customers with a value at risk first
 * (largest first), then by churn probability (the order used when no CLV
 * model exists); equal keys keep key order. */
static bool cs_top_before(double var_a, double p_a, double var_b, double p_b)
{
    bool fa = isfinite(var_a), fb = isfinite(var_b);
    if (fa != fb)
        return fa;
    if (fa && var_a != var_b)
        return var_a > var_b;
    return p_a > p_b;
}

static int cs_report_top_offer(cs_report *r, const custscore_score *s)
{
    if (!isfinite(s->churn_probability))
        return CUSTSCORE_OK;
    size_t pos = r->n_top;
    while (pos > 0 && cs_top_before(s->value_at_risk, s->churn_probability,
                                    r->top[pos - 1].value_at_risk, r->top[pos - 1].probability))
        pos--;
    if (pos >= r->top_cap)
        return CUSTSCORE_OK;
    if (r->n_top == r->top_cap)
        cs_report_top_clear(&r->top[--r->n_top]);
    memmove(&r->top[pos + 1], &r->top[pos], (r->n_top - pos) * sizeof *r->top);
    cs_report_top *t = &r->top[pos];
    memset(t, 0, sizeof *t);
    r->n_top++;
    t->customer = cs_strdup(s->customer);
    t->segment = cs_strdup(s->value.segment ? s->value.segment : "");
    t->tier = cs_strdup(s->value.tier_name ? s->value.tier_name : "");
    bool ok = t->customer && t->segment && t->tier;
    for (int k = 0; k < CUSTSCORE_REASONS; k++) {
        t->reason[k] = cs_strdup(s->reason[k] ? s->reason[k] : "");
        ok = ok && t->reason[k];
    }
    snprintf(t->band, sizeof t->band, "%s", s->band ? s->band : "");
    t->probability = s->churn_probability;
    t->clv = s->clv;
    t->value_at_risk = s->value_at_risk;
    return ok ? CUSTSCORE_OK : CUSTSCORE_ENOMEM;
}

static int cs_report_row(const custscore_score *s, void *payload)
{
    cs_report *r = payload;
    if (r->n == r->cap && cs_report_grow(r))
        return CUSTSCORE_ENOMEM;
    size_t i = r->n++;
    const custscore_value *v = &s->value;
    r->profit[i] = v->profit;
    r->clv[i] = s->clv;
    r->churn[i] = s->churn_probability;
    r->satisfaction[i] = s->satisfaction;
    r->loyalty[i] = s->loyalty;
    r->vq[i] = (signed char)s->value_quadrant;
    r->lq[i] = (signed char)s->loyalty_quadrant;
    if (i == 0) {
        /* A missing part gives every row the same note: keep the first. */
        snprintf(r->clv_note, sizeof r->clv_note, "%s", s->clv_note ? s->clv_note : "");
        snprintf(r->churn_note, sizeof r->churn_note, "%s", s->churn_note ? s->churn_note : "");
        snprintf(r->sat_note, sizeof r->sat_note, "%s",
                 s->satisfaction_note ? s->satisfaction_note : "");
    }
    if (v->first != 0)
        r->buyers++;
    if (v->tier >= 0 && v->tier < r->n_tiers) {
        r->tier_count[v->tier]++;
        r->tier_profit[v->tier] += v->profit;
    }
    size_t seg = v->first == 0 ? r->n_rules + 1
                 : v->segment_index >= 0 && (size_t)v->segment_index < r->n_rules
                     ? (size_t)v->segment_index
                     : r->n_rules;
    r->segment_count[seg]++;
    r->segment_profit[seg] += v->profit;
    if (isfinite(s->churn_probability) && isfinite(s->value_at_risk)) {
        int level = s->band[0] == 'h' ? 2 : s->band[0] == 'm' ? 1 : 0;
        r->band_value_at_risk[level] += s->value_at_risk;
    }
    return cs_report_top_offer(r, s) ? CUSTSCORE_ENOMEM : 0;
}

/* ---------------------------------------------------------------------- */
/* The parts from other modules. */

/* The latest stored survey model's name ("survey:NAME" rows of the model
 * table), as score.c finds it; false when none is stored. */
static bool cs_report_latest_survey(custscore *db, char *name, size_t size)
{
    sqlite3_stmt *st;
    if (cs_prepare(db,
                   "SELECT substr(name, 8) FROM model WHERE name LIKE 'survey:%'"
                   " ORDER BY fitted_at DESC, id DESC LIMIT 1",
                   &st)) {
        cs_clear_error(db);
        return false;
    }
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

/* Bootstrap resamples of the satisfaction index: the options' number, or
 * with CS_REPORT_DRAWS_AUTO a number in proportion to the work: the
 * bootstrap refits the model on every resample of all respondents, so its
 * cost is draws x respondents. 200 draws up to 10,000 respondents (the
 * customers with a satisfaction score), then fewer (at least 50): with so
 * many respondents the interval is narrow, and the resampling error of its
 * ends (about 0.4 standard errors of the index with 50 draws) stays below
 * the 0.1 points it is shown with. The page says how many were drawn. */
#define CS_REPORT_DRAWS_AUTO (-1)
#define CS_REPORT_DRAW_BUDGET 2000000.0
static int cs_report_draws(const cs_report *r)
{
    if (r->opt.csi_bootstrap != CS_REPORT_DRAWS_AUTO)
        return r->opt.csi_bootstrap;
    size_t respondents = 0;
    for (size_t i = 0; i < r->n; i++)
        if (isfinite(r->satisfaction[i]))
            respondents++;
    double draws = respondents > 0 ? CS_REPORT_DRAW_BUDGET / (double)respondents : 200;
    return draws >= 200 ? 200 : draws <= 50 ? 50 : (int)lround(draws);
}

/* Satisfaction index with its bootstrap interval, NPS and drivers. Problems
 * with the survey data become a note; only memory and store failures fail. */
int cs_report_csi(cs_report *r)
{
    r->csi_done = true;
    custscore *db = r->db;
    if (!r->survey_model[0]) {
        snprintf(r->csi_note, sizeof r->csi_note,
                 "No survey model is stored. Import survey answers with `custscore import "
                 "responses FILE --wide --customer COL --date COL` and compute the index once "
                 "with `custscore csi --model ecsi|acsi|FILE`, which saves the model; then run "
                 "this report again.");
        return CUSTSCORE_OK;
    }
    custscore_survey_model *model = NULL;
    int rc = custscore_survey_model_load(db, r->survey_model, &model);
    if (rc == CUSTSCORE_ENOMEM)
        return rc;
    if (rc) {
        snprintf(r->csi_note, sizeof r->csi_note,
                 "Survey model '%s' is not available (%s). Save one with `custscore csi --model "
                 "ecsi|acsi|FILE`.",
                 r->survey_model, custscore_errmsg(db));
        cs_clear_error(db);
        return CUSTSCORE_OK;
    }
    custscore_csi_options o = CUSTSCORE_CSI_OPTIONS_INIT;
    o.bootstrap = r->csi_draws = cs_report_draws(r);
    o.seed = r->opt.seed;
    o.to = r->as_of;
    /* The answers in key order: the customers' keys in order (read for
     * the snapshot, else now). */
    rc = cs_report_keys(r);
    if (rc == 0)
        rc = cs_report_csi_compute(db, &r->keys, model, &o, &r->csi);
    custscore_survey_model_free(model);
    if (rc == CUSTSCORE_ENOMEM)
        return rc;
    if (rc == CUSTSCORE_ENOTFOUND) {
        snprintf(r->csi_note, sizeof r->csi_note,
                 "No survey answers to the items of model '%s' on or before %s. Import them "
                 "with `custscore import responses FILE --wide --customer COL --date COL`.",
                 r->survey_model, r->as_of_text);
        cs_clear_error(db);
        custscore_csi_result_free(r->csi);
        r->csi = NULL;
        return CUSTSCORE_OK;
    }
    if (rc && rc != CUSTSCORE_ENOCONV) {
        snprintf(r->csi_note, sizeof r->csi_note,
                 "The satisfaction index could not be computed: %s", custscore_errmsg(db));
        cs_clear_error(db);
        custscore_csi_result_free(r->csi);
        r->csi = NULL;
        return CUSTSCORE_OK;
    }
    cs_clear_error(db);
    const custscore_csi_estimate *e = r->csi ? &r->csi->overall : NULL;
    if (e && e->message && *e->message)
        snprintf(r->csi_note, sizeof r->csi_note, "%s", e->message);
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */

static void cs_report_free(cs_report *r)
{
    cs_free(r->profit);
    cs_free(r->clv);
    cs_free(r->churn);
    cs_free(r->satisfaction);
    cs_free(r->loyalty);
    cs_free(r->vq);
    cs_free(r->lq);
    cs_free(r->segment_count);
    cs_free(r->segment_profit);
    for (size_t i = 0; i < r->n_top; i++)
        cs_report_top_clear(&r->top[i]);
    cs_free(r->top);
    for (size_t i = 0; i < r->n_changes; i++)
        cs_report_change_clear(&r->changes[i]);
    cs_free(r->changes);
    cs_free(r->moves);
    custscore_csi_result_free(r->csi);
    custscore_churn_card_free(r->card);
    custscore_retention_free(r->retention);
    cs_free(r->totals.buyer_id);
    cs_free(r->totals.buyer_occasions);
    cs_key_rank_free(&r->keys);
}

void cs_report_csi_forget(cs_report *r)
{
    custscore_csi_result_free(r->csi);
    r->csi = NULL;
    r->csi_draws = 0;
    r->csi_note[0] = '\0';
    r->csi_done = false;
}

int cs_report_keys(cs_report *r)
{
    if (r->keys_loaded)
        return CUSTSCORE_OK;
    int rc = cs_key_rank_load(r->db, &r->keys);
    if (rc) {
        cs_key_rank_free(&r->keys);
        memset(&r->keys, 0, sizeof r->keys);
    }
    r->keys_loaded = rc == 0;
    return rc;
}

static const char *cs_unit_words(custscore_unit unit, double n)
{
    bool one = n == 1;
    switch (unit) {
    case CUSTSCORE_UNIT_DAY:
        return one ? "day" : "days";
    case CUSTSCORE_UNIT_WEEK:
        return one ? "week" : "weeks";
    case CUSTSCORE_UNIT_MONTH:
        return one ? "month" : "months";
    case CUSTSCORE_UNIT_YEAR:
        return one ? "year" : "years";
    }
    return "units";
}

/* True when @o scores as CUSTSCORE_SCORE_OPTIONS_INIT does (the fields a
 * saved snapshot depends on; no_store and the per-customer CLV interval,
 * which the report does not show, aside). A snapshot does not record the
 * options it was scored with, so only a report with the default scoring
 * options, as the nightly job's, takes its scores from one. Every field of
 * the scoring options must be listed here: a field left out would let a
 * report with that option set show a snapshot scored without it. */
static bool cs_report_default_scoring(const custscore_score_options *o)
{
    const custscore_value_options *v = &o->value;
    const custscore_rfm_options *rfm = &v->rfm;
    const custscore_tier_options *t = &v->tiers;
    const custscore_lifecycle_options *l = &v->lifecycle;
    const custscore_clv_options *c = &o->clv;
    bool value = v->version == CUSTSCORE_VALUE_OPTIONS_VERSION && v->profit_window == 12.0 &&
                 v->profit_window_unit == CUSTSCORE_UNIT_MONTH &&
                 v->zero == CUSTSCORE_ZERO_REVENUE_ADJUSTMENT;
    bool rfm_default = rfm->version == CUSTSCORE_RFM_OPTIONS_VERSION && rfm->bins == 5 &&
                       rfm->ties == CUSTSCORE_TIES_VALUE && rfm->cut_offset == 1.0 &&
                       !rfm->recency_thresholds && !rfm->frequency_thresholds &&
                       !rfm->monetary_thresholds &&
                       rfm->frequency == CUSTSCORE_FREQUENCY_OCCASIONS &&
                       rfm->monetary == CUSTSCORE_MONETARY_TOTAL && !rfm->segments;
    bool tiers = t->version == CUSTSCORE_TIER_OPTIONS_VERSION &&
                 t->mode == CUSTSCORE_TIERS_PERCENTILE && !t->cuts && !t->names &&
                 t->ties == CUSTSCORE_TIES_RANK;
    bool lifecycle = l->version == CUSTSCORE_LIFECYCLE_OPTIONS_VERSION &&
                     l->unit == CUSTSCORE_UNIT_MONTH && l->window == 12.0 &&
                     l->lapse_after == 12.0 && l->new_max_repeats == 1 &&
                     l->overdue_factor == 2.0 && l->trend_tolerance == 0.2;
    bool clv = c->version == CUSTSCORE_CLV_OPTIONS_VERSION &&
               (c->horizon == 12.0 || c->horizon == 0) && c->horizon_unit == CUSTSCORE_UNIT_MONTH &&
               c->discount_rate == 0.10 && c->margin == 0 && !c->purchase_model &&
               (!c->spend_model || strcmp(c->spend_model, "gg") == 0);
    bool score = o->version == CUSTSCORE_SCORE_OPTIONS_VERSION && isnan(o->current_value_split) &&
                 isnan(o->future_value_split) && isnan(o->satisfaction_split) &&
                 isnan(o->loyalty_split) && o->band_medium == 0 && o->band_high == 0 &&
                 !o->survey_model;
    return value && rfm_default && tiers && lifecycle && clv && score;
}

/* Check the options and fill the defaults. */
static int cs_report_options(custscore *db, const custscore_report_options *options,
                             custscore_report_options *o)
{
    custscore_report_options defaults = CUSTSCORE_REPORT_OPTIONS_INIT;
    *o = options ? *options : defaults;
    if (o->version != CUSTSCORE_REPORT_OPTIONS_VERSION)
        return cs_error(db, CUSTSCORE_EINVAL,
                        "report options: version %u, this library knows version %u (initialise "
                        "with CUSTSCORE_REPORT_OPTIONS_INIT)",
                        o->version, CUSTSCORE_REPORT_OPTIONS_VERSION);
    if (o->top == 0)
        o->top = 20;
    if (o->top < 1 || o->top > 10000)
        return cs_error(db, CUSTSCORE_EINVAL, "report options: top: %d: must be 1..10000", o->top);
    if ((o->csi_bootstrap < 0 && o->csi_bootstrap != CS_REPORT_DRAWS_AUTO) ||
        o->csi_bootstrap > 10000)
        return cs_error(db, CUSTSCORE_EINVAL,
                        "report options: csi_bootstrap: %d: must be 0..10000, or -1 for automatic",
                        o->csi_bootstrap);
    if (o->max_points == 0)
        o->max_points = 1500;
    if (o->title && !cs_utf8_valid(o->title, strlen(o->title)))
        return cs_error(db, CUSTSCORE_EINVAL, "report options: title: not valid UTF-8");
    o->score.no_store = 1;
    /* The report shows no per-customer CLV interval: do not draw it (the
     * parameter draws are most of the scoring time). */
    o->score.clv.interval_level = 0;
    return CUSTSCORE_OK;
}

/* Gather everything. */
static int cs_report_collect(cs_report *r)
{
    custscore *db = r->db;
    custscore_report_options *o = &r->opt;
    custscore_format_time(r->as_of, 1, r->as_of_text, sizeof r->as_of_text);
    const custscore_value_options *vo = &o->score.value;
    if (vo->profit_window > 0)
        cs_snprintf_c(r->profit_window_text, sizeof r->profit_window_text, "%g %s to %s",
                      vo->profit_window, cs_unit_words(vo->profit_window_unit, vo->profit_window),
                      r->as_of_text);
    else
        snprintf(r->profit_window_text, sizeof r->profit_window_text, "all time to %s",
                 r->as_of_text);
    double horizon = o->score.clv.horizon > 0 ? o->score.clv.horizon : 12;
    cs_snprintf_c(r->horizon_text, sizeof r->horizon_text, "%g %s", horizon,
                  cs_unit_words(o->score.clv.horizon_unit, horizon));

    /* Tiers and segment rules of the options in effect. */
    int n_tiers = custscore_tier_count(&vo->tiers);
    if (n_tiers < 0)
        return cs_error(db, CUSTSCORE_EINVAL, "report options: invalid tier options");
    r->n_tiers = n_tiers;
    for (int k = 0; k < n_tiers; k++)
        r->tier_name[k] = custscore_tier_name(&vo->tiers, k);
    if (vo->rfm.segments) {
        r->rules = vo->rfm.segments;
        r->n_rules = vo->rfm.n_segments;
    } else {
        r->rules = custscore_segments_default(&r->n_rules);
    }
    r->segment_count = cs_calloc(r->n_rules + 2, sizeof *r->segment_count);
    r->segment_profit = cs_calloc(r->n_rules + 2, sizeof *r->segment_profit);
    r->top_cap = (size_t)o->top;
    r->top = cs_calloc(r->top_cap, sizeof *r->top);
    if (!r->segment_count || !r->segment_profit || !r->top)
        return cs_error(db, CUSTSCORE_ENOMEM, "report: out of memory");

    /* The survey model: the options', the scoring options', or the latest. */
    const char *survey = o->survey_model ? o->survey_model : o->score.survey_model;
    if (survey)
        snprintf(r->survey_model, sizeof r->survey_model, "%s", survey);
    else
        cs_report_latest_survey(db, r->survey_model, sizeof r->survey_model);
    custscore_score_options so = o->score;
    so.survey_model = r->survey_model[0] ? r->survey_model : NULL;

    /* Whether the scores may come from a saved snapshot: when the report
     * scores as `custscore score` does by default (and with the survey
     * model it used, the latest). The loyalty of the loyalty quadrant is
     * then derived from the orders pass, unless the purchase model counts
     * zero-revenue orders as purchases (the pass counts positive ones). */
    char latest[sizeof r->survey_model] = "";
    cs_report_latest_survey(db, latest, sizeof latest);
    bool default_scoring = cs_report_default_scoring(&o->score);
    bool snapshot_candidate = default_scoring && strcmp(r->survey_model, latest) == 0;
    if (snapshot_candidate) {
        custscore_fit_info pm;
        int mrc = custscore_model_load(db, NULL, &pm);
        if (mrc == CUSTSCORE_ENOMEM)
            return mrc;
        cs_clear_error(db);
        r->totals.list_buyers = mrc != 0 || pm.zero != CUSTSCORE_ZERO_REVENUE_PURCHASE;
    }

    /* One pass over the orders: the cohorts, and the revenue and cost of
     * the profit window (also the check that a snapshot still matches);
     * with the previous snapshot's columns when the scores come from the
     * snapshot of the date, both read meanwhile (report_reads.c). */
    double window_days = vo->profit_window * custscore_unit_days(vo->profit_window_unit);
    r->totals.window_days = vo->profit_window > 0 && window_days >= 0.5 && window_days <= 1e6
                                ? (int64_t)llround(window_days)
                                : 0;
    bool snapshot = false, has_prev = false;
    int64_t prev_as_of = 0;
    int rc = CUSTSCORE_OK;
    if (snapshot_candidate)
        rc = cs_report_find_snapshot(r, &snapshot, &has_prev, &prev_as_of);
    cs_report_reads *reads = NULL;
    if (rc == 0)
        rc = cs_report_reads_start(r, snapshot && has_prev, prev_as_of, &reads);

    /* The scores: from the snapshot saved for the as-of date when the
     * report scores as `custscore score` does by default (and with the
     * survey model it used, the latest), else computed now (while the
     * orders pass runs, when it runs alongside). */
    bool used = false;
    if (rc == 0 && snapshot)
        rc = cs_report_from_snapshot(r, reads, has_prev, prev_as_of, &used);
    if (rc == 0 && !snapshot_candidate && !default_scoring)
        snprintf(r->source_note, sizeof r->source_note,
                 "Customer scores were computed now with this report's scoring options (a saved "
                 "snapshot is used only with the default options).");
    else if (rc == 0 && !snapshot_candidate)
        snprintf(r->source_note, sizeof r->source_note,
                 "Customer scores were computed now with survey model '%s' (a saved snapshot "
                 "uses the latest one).",
                 r->survey_model);
    if (rc == 0 && !used) {
        rc = custscore_score_all(db, r->as_of, &so, cs_report_row, r, &r->info);
        if (rc == CUSTSCORE_ENOMEM && custscore_errcode(db) == 0)
            rc = cs_error(db, CUSTSCORE_ENOMEM, "report: out of memory");
        if (rc == 0)
            rc = cs_report_changes(r);
        if (rc == 0 && !r->source_note[0])
            snprintf(r->source_note, sizeof r->source_note,
                     "Customer scores were computed now: no snapshot is saved for %s. The "
                     "nightly `custscore score --as-of %s` before the report saves one, and the "
                     "report then reads it instead of scoring every customer again.",
                     r->as_of_text, r->as_of_text);
    }
    if (rc == 0)
        rc = cs_report_reads_finish(r, reads, NULL);
    cs_report_reads_free(r, reads);
    if (rc)
        return rc;
    if (r->retention->n_cohorts == 0)
        snprintf(r->retention_note, sizeof r->retention_note,
                 "No purchases on or before %s, so there are no cohorts yet. Import orders with "
                 "`custscore import orders FILE`.",
                 r->as_of_text);
    r->revenue = r->totals.revenue;
    r->cost = r->totals.cost;
    r->top_by_probability = !r->info.has_clv;

    /* Band thresholds in effect, for the labels. */
    r->band_medium = o->score.band_medium;
    r->band_high = o->score.band_high;
    rc = custscore_churn_card_get(db, NULL, &r->card);
    if (rc == CUSTSCORE_ENOMEM)
        return rc;
    if (rc) {
        r->card = NULL;
        cs_clear_error(db);
    }
    if (!(r->band_medium > 0 && r->band_high > 0)) {
        r->band_medium = r->card ? r->card->band_medium : CUSTSCORE_CHURN_BAND_MEDIUM;
        r->band_high = r->card ? r->card->band_high : CUSTSCORE_CHURN_BAND_HIGH;
    }

    /* The whale curve of the collected profits. */
    if (r->n > 0) {
        rc = custscore_whale_curve(r->profit, r->n, CS_REPORT_WHALE_POINTS, r->whale_x, r->whale_y,
                                   &r->whale);
        if (rc)
            return cs_error(db, rc, "report: whale curve: %s", custscore_errstr(rc));
        r->has_whale = r->whale.total_profit > 0;
    }

    /* The purchase model behind the CLV (named in the notes). */
    if (r->info.has_clv) {
        rc = custscore_model_load(db, o->score.clv.purchase_model, &r->purchase);
        r->has_purchase_model = rc == 0;
        if (rc == CUSTSCORE_ENOMEM)
            return rc;
        cs_clear_error(db);
    }

    /* (Done already when the scores come from the snapshot.) */
    return r->csi_done ? CUSTSCORE_OK : cs_report_csi(r);
}

/* Write @b to @path through a temporary file renamed into place. */
static int cs_report_write(custscore *db, const cs_buf *b, const char *path)
{
    if (strcmp(path, "-") == 0) {
        if (fwrite(b->data, 1, b->len, stdout) != b->len || fflush(stdout) != 0)
            return cs_error(db, CUSTSCORE_EIO, "report: writing to standard output: %s",
                            strerror(errno));
        return CUSTSCORE_OK;
    }
    size_t size = strlen(path) + 32;
    char *tmp = cs_malloc(size);
    if (!tmp)
        return cs_error(db, CUSTSCORE_ENOMEM, "report: out of memory");
    /* Next to the target (same file system, so the rename is atomic); open()
     * rather than mkstemp() so the file gets the usual 0666 & ~umask mode;
     * O_EXCL with a counter, so that two reports written at once (threads
     * of one process, each with its handle) never share a temporary file. */
    int rc = CUSTSCORE_OK, fd = -1, err = 0;
    for (int k = 0; k < 100 && fd < 0; k++) {
        snprintf(tmp, size, "%s.%ld.%d.tmp", path, (long)getpid(), k);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        err = errno;
        if (fd < 0 && err != EEXIST)
            break;
    }
    if (fd < 0) {
        rc = cs_error(db, CUSTSCORE_EIO, "report: %s: cannot create %s: %s", path, tmp,
                      strerror(err));
        cs_free(tmp);
        return rc;
    }
    size_t done = 0;
    while (done < b->len) {
        ssize_t w = write(fd, b->data + done, b->len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = cs_error(db, CUSTSCORE_EIO, "report: %s: write failed: %s", path,
                          w < 0 ? strerror(errno) : "no progress");
            break;
        }
        done += (size_t)w;
    }
    if (close(fd) != 0 && rc == 0)
        rc = cs_error(db, CUSTSCORE_EIO, "report: %s: write failed: %s", path, strerror(errno));
    if (rc == 0 && rename(tmp, path) != 0)
        rc = cs_error(db, CUSTSCORE_EIO, "report: %s: cannot rename %s into place: %s", path, tmp,
                      strerror(errno));
    if (rc)
        unlink(tmp);
    cs_free(tmp);
    return rc;
}

int custscore_report_html(custscore *db, int64_t as_of, const custscore_report_options *options,
                          const char *path)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!path || !*path)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_report_html: no output path");
    int rc = cs_check_as_of(db, as_of, "custscore_report_html: as-of time");
    if (rc)
        return rc;
    cs_report *r = cs_calloc(1, sizeof *r);
    if (!r)
        return cs_error(db, CUSTSCORE_ENOMEM, "report: out of memory");
    r->db = db;
    r->as_of = as_of;
    r->generated_at = (int64_t)time(NULL);
    rc = cs_report_options(db, options, &r->opt);
    if (rc == 0) {
        r->title = r->opt.title && *r->opt.title ? r->opt.title : "Customer report";
        rc = cs_report_collect(r);
    }
    if (rc == 0) {
        cs_buf b;
        cs_buf_init(&b);
        cs_report_render(r, &b);
        if (b.failed)
            rc = cs_error(db, CUSTSCORE_ENOMEM, "report: out of memory");
        else
            rc = cs_report_write(db, &b, path);
        cs_buf_free(&b);
    }
    cs_report_free(r);
    cs_free(r);
    return rc;
}
