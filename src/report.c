/*
 * report.c: the HTML report, part 1: gather every figure in one run over
 * the store, then write the document (report_html.c) to a temporary file
 * and rename it.
 *
 * One run: custscore_score_all() (not saved) gives every customer's value,
 * CLV, churn and satisfaction; the report keeps only what its charts need
 * (a few numbers per customer, aggregates, and the top rows by value at
 * risk). The whale curve comes from the collected profits, so the order
 * history is not read a second time for it; the retention cohorts, the
 * satisfaction index, the snapshot changes and the churn model card each
 * come from their module in one call.
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

static void cs_report_top_clear(cs_report_top *t)
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
    r->revenue += v->revenue;
    r->cost += v->cost;
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

/* Satisfaction index with its bootstrap interval, NPS and drivers. Problems
 * with the survey data become a note; only memory and store failures fail. */
static int cs_report_csi(cs_report *r)
{
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
    o.bootstrap = r->opt.csi_bootstrap;
    o.seed = r->opt.seed;
    o.to = r->as_of;
    rc = custscore_csi_compute(db, model, &o, &r->csi);
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

static int cs_band_level(const char *band)
{
    return !band || !*band ? -1 : band[0] == 'h' ? 2 : band[0] == 'm' ? 1 : 0;
}

static int cs_report_tier_index(const cs_report *r, const char *name)
{
    for (int k = 0; k < r->n_tiers; k++)
        if (r->tier_name[k] && name && strcmp(r->tier_name[k], name) == 0)
            return k;
    return -1;
}

/* One customer who moved, as the snapshot columns give it. */
typedef struct cs_moved {
    int64_t customer_id;
    const char *tier_before, *tier_after, *band_before, *band_after;
    const char *segment_before, *segment_after;
    double value_at_stake;
} cs_moved;

static int cs_report_count_move(cs_report *r, int from, int to)
{
    size_t m = 0;
    while (m < r->n_moves && !(r->moves[m].from == from && r->moves[m].to == to))
        m++;
    if (m == r->n_moves) {
        if (r->n_moves == r->moves_cap) {
            size_t cap = r->moves_cap ? r->moves_cap * 2 : 16;
            cs_report_move *p = cs_reallocarray(r->moves, cap, sizeof *p);
            if (!p)
                return CUSTSCORE_ENOMEM;
            r->moves = p;
            r->moves_cap = cap;
        }
        r->moves[m] = (cs_report_move){.from = from, .to = to, .count = 0};
        r->n_moves++;
    }
    r->moves[m].count++;
    return CUSTSCORE_OK;
}

static void cs_report_change_clear(cs_report_change *c)
{
    cs_free(c->customer);
    cs_free(c->tier_before);
    cs_free(c->tier_after);
    cs_free(c->band_before);
    cs_free(c->band_after);
    cs_free(c->segment_before);
    cs_free(c->segment_after);
    memset(c, 0, sizeof *c);
}

/* The key of customer @id (valid until the statement is reset). */
static int cs_report_key(custscore *db, sqlite3_stmt *st, int64_t id, const char **key)
{
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, id);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        *key = k ? k : "";
        return CUSTSCORE_OK;
    }
    if (src == SQLITE_DONE)
        return cs_error(db, CUSTSCORE_ECORRUPT, "report: snapshot of unknown customer %lld",
                        (long long)id);
    return cs_sqlite_error(db, src, "report: reading a customer key");
}

/* Count one customer who moved and keep it when it is among the top rows
 * (largest value at stake first, then by key, as custscore_changes()); the
 * key is looked up only for rows that may enter. */
static int cs_report_change_row(cs_report *r, const cs_moved *ch, sqlite3_stmt *key_st)
{
    r->changed++;
    if (strcmp(ch->segment_before, ch->segment_after) != 0)
        r->segment_moved++;
    if (strcmp(ch->band_before, ch->band_after) != 0) {
        r->band_moved++;
        int before = cs_band_level(ch->band_before), after = cs_band_level(ch->band_after);
        if (before >= 0 && after > before)
            r->risk_up++;
        else if (after >= 0 && after < before)
            r->risk_down++;
    }
    if (strcmp(ch->tier_before, ch->tier_after) != 0) {
        r->tier_moved++;
        int from = cs_report_tier_index(r, ch->tier_before);
        int to = cs_report_tier_index(r, ch->tier_after);
        if (from >= 0 && to >= 0 && to < from)
            r->tier_up++;
        else if (from >= 0 && to > from)
            r->tier_down++;
        if (cs_report_count_move(r, from, to))
            return cs_error(r->db, CUSTSCORE_ENOMEM, "report: out of memory");
    }
    size_t top = (size_t)r->opt.top, pos = r->n_changes;
    if (pos == top && ch->value_at_stake < r->changes[pos - 1].value_at_stake)
        return CUSTSCORE_OK;
    const char *key = "";
    int rc = cs_report_key(r->db, key_st, ch->customer_id, &key);
    if (rc)
        return rc;
    while (pos > 0 && (ch->value_at_stake > r->changes[pos - 1].value_at_stake ||
                       (ch->value_at_stake == r->changes[pos - 1].value_at_stake &&
                        strcmp(key, r->changes[pos - 1].customer) < 0)))
        pos--;
    if (pos >= top)
        return CUSTSCORE_OK;
    if (r->n_changes == top)
        cs_report_change_clear(&r->changes[--r->n_changes]);
    memmove(&r->changes[pos + 1], &r->changes[pos], (r->n_changes - pos) * sizeof *r->changes);
    cs_report_change *c = &r->changes[pos];
    memset(c, 0, sizeof *c);
    r->n_changes++;
    c->customer = cs_strdup(key);
    c->tier_before = cs_strdup(ch->tier_before);
    c->tier_after = cs_strdup(ch->tier_after);
    c->band_before = cs_strdup(ch->band_before);
    c->band_after = cs_strdup(ch->band_after);
    c->segment_before = cs_strdup(ch->segment_before);
    c->segment_after = cs_strdup(ch->segment_after);
    c->value_at_stake = ch->value_at_stake;
    if (!c->customer || !c->tier_before || !c->tier_after || !c->band_before || !c->band_after ||
        !c->segment_before || !c->segment_after)
        return cs_error(r->db, CUSTSCORE_ENOMEM, "report: out of memory");
    return CUSTSCORE_OK;
}

static const char *cs_col_str(sqlite3_stmt *st, int col)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    return s ? s : "";
}

/* Equal as SQL's IS: NULL equals only NULL. */
static bool cs_col_same(sqlite3_stmt *a, sqlite3_stmt *b, int col)
{
    const char *x = (const char *)sqlite3_column_text(a, col);
    const char *y = (const char *)sqlite3_column_text(b, col);
    return x && y ? strcmp(x, y) == 0 : x == y;
}

/* Merge the two snapshots, both read in customer order (the score table's
 * key is (as_of, customer), so each is one sequential range): the rows
 * custscore_changes() reports (tier, segment or band moved; value at stake
 * = value at risk, else CLV, else current value), without reading the
 * snapshots' JSON column and without sorting them all, since the report
 * needs the counts and the top rows only.
 *
 * The range is open at the top ("as_of >= ?", stopped here when as_of
 * changes): a closed range makes SQLite compare every row's whole key,
 * and in this WITHOUT ROWID table the key is the whole row, JSON included,
 * which costs a read of the row's overflow page per customer. */
/* The next row of the snapshot at @as_of: SQLITE_ROW, or SQLITE_DONE past
 * its end, or an error code. */
static int cs_report_snapshot_step(sqlite3_stmt *st, int64_t as_of)
{
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW && sqlite3_column_int64(st, 5) != as_of)
        return SQLITE_DONE;
    return src;
}

static int cs_report_merge_snapshots(cs_report *r)
{
    custscore *db = r->db;
    static const char sql[] =
        "SELECT customer, tier, band, segment, coalesce(value_at_risk, clv, current_value, 0),"
        " as_of FROM score WHERE as_of >= ?1 ORDER BY as_of, customer";
    sqlite3_stmt *before = NULL, *after = NULL, *key_st = NULL;
    int rc = cs_prepare(db, sql, &before);
    if (rc == 0)
        rc = cs_prepare(db, sql, &after);
    if (rc == 0)
        rc = cs_prepare(db, "SELECT key FROM customer WHERE id = ?1", &key_st);
    if (rc)
        goto done;
    sqlite3_bind_int64(before, 1, r->changes_from);
    sqlite3_bind_int64(after, 1, r->changes_to);
    int sb = cs_report_snapshot_step(before, r->changes_from);
    int sa = cs_report_snapshot_step(after, r->changes_to);
    while (rc == 0 && sb == SQLITE_ROW && sa == SQLITE_ROW) {
        int64_t ib = sqlite3_column_int64(before, 0), ia = sqlite3_column_int64(after, 0);
        if (ib != ia) {
            if (ib < ia)
                sb = cs_report_snapshot_step(before, r->changes_from);
            else
                sa = cs_report_snapshot_step(after, r->changes_to);
            continue;
        }
        if (!cs_col_same(before, after, 1) || !cs_col_same(before, after, 2) ||
            !cs_col_same(before, after, 3)) {
            cs_moved ch = {.customer_id = ia,
                           .tier_before = cs_col_str(before, 1),
                           .tier_after = cs_col_str(after, 1),
                           .band_before = cs_col_str(before, 2),
                           .band_after = cs_col_str(after, 2),
                           .segment_before = cs_col_str(before, 3),
                           .segment_after = cs_col_str(after, 3),
                           .value_at_stake = sqlite3_column_double(after, 4)};
            rc = cs_report_change_row(r, &ch, key_st);
        }
        sb = cs_report_snapshot_step(before, r->changes_from);
        sa = cs_report_snapshot_step(after, r->changes_to);
    }
    if (rc == 0 && sb != SQLITE_ROW && sb != SQLITE_DONE)
        rc = cs_sqlite_error(db, sb, "report: reading a snapshot");
    if (rc == 0 && sa != SQLITE_ROW && sa != SQLITE_DONE)
        rc = cs_sqlite_error(db, sa, "report: reading a snapshot");
done:
    sqlite3_finalize(before);
    sqlite3_finalize(after);
    sqlite3_finalize(key_st);
    return rc;
}

/* Changes between the two latest snapshots at or before the as-of date. */
static int cs_report_changes(cs_report *r)
{
    custscore *db = r->db;
    size_t count = 0;
    int rc = custscore_snapshots(db, NULL, 0, &count);
    if (rc)
        return rc;
    int64_t *times = cs_mallocarray(count ? count : 1, sizeof *times);
    if (!times)
        return cs_error(db, CUSTSCORE_ENOMEM, "report: out of memory");
    size_t got = 0;
    rc = custscore_snapshots(db, times, count, &got);
    int64_t pick[2] = {0, 0};
    size_t n_pick = 0;
    for (size_t i = 0; rc == 0 && i < got && i < count && n_pick < 2; i++)
        if (times[i] <= r->as_of)
            pick[n_pick++] = times[i];
    cs_free(times);
    if (rc)
        return rc;
    if (n_pick < 2) {
        snprintf(r->changes_note, sizeof r->changes_note,
                 "%s saved score snapshot%s at or before %s: changes need two. Save one per run "
                 "with `custscore score --as-of DATE` (e.g. each night or month); the next "
                 "report then shows who moved tier, segment or risk band.",
                 n_pick ? "Only one" : "No", n_pick ? "" : "s", r->as_of_text);
        return CUSTSCORE_OK;
    }
    r->changes_to = pick[0];
    r->changes_from = pick[1];
    r->changes = cs_calloc((size_t)r->opt.top, sizeof *r->changes);
    if (!r->changes)
        return cs_error(db, CUSTSCORE_ENOMEM, "report: out of memory");
    rc = cs_report_merge_snapshots(r);
    if (rc)
        return rc;
    r->has_changes = true;
    /* Moves by size, largest first (few: insertion sort). */
    for (size_t i = 1; i < r->n_moves; i++) {
        cs_report_move m = r->moves[i];
        size_t j = i;
        while (j > 0 && r->moves[j - 1].count < m.count) {
            r->moves[j] = r->moves[j - 1];
            j--;
        }
        r->moves[j] = m;
    }
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
    if (o->csi_bootstrap < 0 || o->csi_bootstrap > 10000)
        return cs_error(db, CUSTSCORE_EINVAL, "report options: csi_bootstrap: %d: must be 0..10000",
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
        snprintf(r->profit_window_text, sizeof r->profit_window_text, "%g %s to %s",
                 vo->profit_window, cs_unit_words(vo->profit_window_unit, vo->profit_window),
                 r->as_of_text);
    else
        snprintf(r->profit_window_text, sizeof r->profit_window_text, "all time to %s",
                 r->as_of_text);
    double horizon = o->score.clv.horizon > 0 ? o->score.clv.horizon : 12;
    snprintf(r->horizon_text, sizeof r->horizon_text, "%g %s", horizon,
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

    int rc = custscore_score_all(db, r->as_of, &so, cs_report_row, r, &r->info);
    if (rc == CUSTSCORE_ENOMEM && custscore_errcode(db) == 0)
        rc = cs_error(db, CUSTSCORE_ENOMEM, "report: out of memory");
    if (rc)
        return rc;
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

    rc = custscore_retention_compute(db, r->as_of, NULL, &r->retention);
    if (rc)
        return rc;
    if (r->retention->n_cohorts == 0)
        snprintf(r->retention_note, sizeof r->retention_note,
                 "No purchases on or before %s, so there are no cohorts yet. Import orders with "
                 "`custscore import orders FILE`.",
                 r->as_of_text);

    rc = cs_report_csi(r);
    if (rc == 0)
        rc = cs_report_changes(r);
    return rc;
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
    if (as_of < CUSTSCORE_TIME_MIN || as_of > CUSTSCORE_TIME_MAX)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_report_html: as-of time %lld out of range",
                        (long long)as_of);
    cs_report *r = cs_calloc(1, sizeof *r);
    if (!r)
        return cs_error(db, CUSTSCORE_ENOMEM, "report: out of memory");
    r->db = db;
    r->as_of = as_of;
    r->generated_at = (int64_t)time(NULL);
    int rc = cs_report_options(db, options, &r->opt);
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
