/*
 * report_changes.c: the HTML report, part 1b: the changes section, the
 * customers who moved tier, segment or churn-risk band between the two
 * latest saved snapshots at or before the as-of date, as
 * custscore_changes() lists them (counts, tier moves and the top rows by
 * value at stake). The two snapshots are merged by customer in one pass,
 * both read in customer order through the score table's key on (as_of,
 * customer). When the scores come from the snapshot of the as-of date,
 * report_snapshot.c merges the previous snapshot in its own pass and
 * counts the moves with cs_report_change_row().
 */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cs_band_level(const char *band)
{
    return !band || !*band ? -1 : band[0] == 'h' ? 2 : band[0] == 'm' ? 1 : 0;
}

int cs_report_tier_index(const cs_report *r, const char *name)
{
    for (int k = 0; k < r->n_tiers; k++)
        if (r->tier_name[k] && name && strcmp(r->tier_name[k], name) == 0)
            return k;
    return -1;
}

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

void cs_report_change_clear(cs_report_change *c)
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
int cs_report_change_row(cs_report *r, const cs_moved *ch, sqlite3_stmt *key_st)
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

const char *cs_col_str(sqlite3_stmt *st, int col)
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
 * changes), as in the store's first schema drafts, where a closed range
 * compared whole rows; with the current schema both are one range scan of
 * the UNIQUE(as_of, customer) index.
 *
 * What it costs is the rows: each is read from the table, JSON column and
 * all on the same pages (about 1.3 kB a customer), so a snapshot of a
 * million customers is 1.3 GB to page through even for four columns. An
 * index on (as_of, customer) holding the columns read here would make it
 * a read of the index alone (about 120 MB); see docs/report.md. */

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

/* The note of the changes section when fewer than two snapshots exist. */
void cs_report_changes_missing(cs_report *r, int n_snapshots)
{
    snprintf(r->changes_note, sizeof r->changes_note,
             "%s saved score snapshot%s at or before %s: changes need two. Save one per run "
             "with `custscore score --as-of DATE` (e.g. each night or month); the next "
             "report then shows who moved tier, segment or risk band.",
             n_snapshots ? "Only one" : "No", n_snapshots ? "" : "s", r->as_of_text);
}

/* Moves by size, largest first (few: insertion sort). */
void cs_report_sort_moves(cs_report *r)
{
    for (size_t i = 1; i < r->n_moves; i++) {
        cs_report_move m = r->moves[i];
        size_t j = i;
        while (j > 0 && r->moves[j - 1].count < m.count) {
            r->moves[j] = r->moves[j - 1];
            j--;
        }
        r->moves[j] = m;
    }
}

/* The as-of time of the latest snapshot at or before @t (strictly before
 * when @strict); *found false when there is none. */
int cs_snapshot_before(custscore *db, int64_t t, bool strict, bool *found, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = cs_prepare(db,
                        strict ? "SELECT max(as_of) FROM score WHERE as_of < ?1"
                               : "SELECT max(as_of) FROM score WHERE as_of <= ?1",
                        &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, t);
    int src = sqlite3_step(st);
    *found = src == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
    *out = *found ? sqlite3_column_int64(st, 0) : 0;
    if (src != SQLITE_ROW)
        rc = cs_sqlite_error(db, src, "report: finding the snapshots");
    sqlite3_finalize(st);
    return rc;
}

/* Changes between the two latest snapshots at or before the as-of date. */
int cs_report_changes(cs_report *r)
{
    custscore *db = r->db;
    bool found[2] = {false, false};
    int64_t pick[2] = {0, 0};
    int rc = cs_snapshot_before(db, r->as_of, false, &found[0], &pick[0]);
    if (rc == 0 && found[0])
        rc = cs_snapshot_before(db, pick[0], true, &found[1], &pick[1]);
    if (rc)
        return rc;
    if (!found[1]) {
        cs_report_changes_missing(r, found[0] ? 1 : 0);
        return CUSTSCORE_OK;
    }
    r->changes_to = pick[0];
    r->changes_from = pick[1];
    if (!r->changes)
        r->changes = cs_calloc((size_t)r->opt.top, sizeof *r->changes);
    if (!r->changes)
        return cs_error(db, CUSTSCORE_ENOMEM, "report: out of memory");
    rc = cs_report_merge_snapshots(r);
    if (rc)
        return rc;
    r->has_changes = true;
    cs_report_sort_moves(r);
    return CUSTSCORE_OK;
}
