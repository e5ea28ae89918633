/*
 * report.h: private to report.c (gathering the figures),
 * report_snapshot.c and report_changes.c (the figures from saved
 * snapshots), report_csi.c (the satisfaction index), report_html.c, report_value.c and
 * report_loyalty.c (writing them as HTML) and retention.c (the report's pass over the orders).
 * Nothing here leaves src/.
 */
#ifndef CUSTSCORE_REPORT_H
#define CUSTSCORE_REPORT_H

#include "internal.h"

#define CS_REPORT_NOTE 512
#define CS_REPORT_WHALE_POINTS 101

/* retention.c: the report's one pass over the orders. Totals of the orders
 * up to the as-of day, for the headline figures and to check that a saved
 * snapshot still matches the store. */
typedef struct cs_order_totals {
    int64_t window_days;  /* in: the profit window in days; 0: the whole history */
    double revenue, cost; /* orders in the window (returns included; unknown cost 0) */
    bool any_cost;        /* some order up to the as-of day has a known cost */
    int64_t buyers;       /* customers with an order of positive revenue */
    /* With list_buyers: those customers by ascending store id with their
     * purchase occasions (days with an order of positive revenue); the
     * caller frees both arrays (cs_free). */
    bool list_buyers;
    int64_t *buyer_id;
    uint32_t *buyer_occasions;
} cs_order_totals;

/* custscore_retention_compute() without the as-of check, filling @totals
 * (when not NULL) from the same pass. */
int cs_retention_scan(custscore *db, int64_t as_of, const custscore_retention_options *options,
                      cs_order_totals *totals, custscore_retention **out);

/* Customers in key (byte) order, as custscore_score_all() gives them, so
 * that the per-customer arrays, the thinned scatter points and the ties of
 * the top table come out as when scoring afresh (report_snapshot.c). */
typedef struct cs_key_rank {
    size_t n, cap;
    int64_t *ids; /* [n] store ids in key order */
    int64_t min_id;
    uint64_t span;   /* max_id - min_id + 1 when dense */
    uint32_t *dense; /* [span]: rank + 1, 0 for no customer (dense ids) */
    int64_t *pairs;  /* [2 n]: (id, rank) sorted by id (sparse ids) */
} cs_key_rank;
/* Read the customers' ids in key order (from the key index alone) and map
 * ids to positions. */
int cs_key_rank_load(custscore *db, cs_key_rank *k);
/* Position of customer @id in key order, or -1. */
ptrdiff_t cs_key_rank_find(const cs_key_rank *k, int64_t id);
void cs_key_rank_free(cs_key_rank *k);

/* The columns of the previous snapshot that the changes compare, read
 * apart from the snapshot of the date (report_snapshot.c): by ascending
 * customer id, each text as 0 for NULL or 1 + its entry in @names. */
typedef struct cs_snap_prev {
    size_t n, cap;
    int64_t *id;
    uint32_t *tier, *band, *segment;
    cs_strmap names;
} cs_snap_prev;
int cs_snap_prev_read(custscore *db, int64_t prev_as_of, cs_snap_prev *p);
void cs_snap_prev_free(cs_snap_prev *p);

/* One customer of the value-at-risk table. */
typedef struct cs_report_top {
    char *customer;
    char *reason[CUSTSCORE_REASONS];
    char *segment, *tier;
    char band[8];
    double probability, clv, value_at_risk;
} cs_report_top;

/* One customer of the changes table (the strings are owned copies). */
typedef struct cs_report_change {
    char *customer;
    char *tier_before, *tier_after, *band_before, *band_after, *segment_before, *segment_after;
    double value_at_stake;
} cs_report_change;

/* How many customers moved from one tier to another. */
typedef struct cs_report_move {
    int from, to; /* tier indexes; -1 when the name is not a tier of the options */
    int64_t count;
} cs_report_move;

/* Everything the report shows, gathered in one run. */
typedef struct cs_report {
    custscore *db;
    int64_t as_of, generated_at;
    custscore_report_options opt;
    const char *title;
    char as_of_text[32];
    char profit_window_text[64]; /* "12 months to 1997-09-30" or "all time" */
    char horizon_text[64];       /* "12 months" */

    /* Where the customer scores come from: the saved snapshot of the as-of
     * date (report_snapshot.c) or custscore_score_all(); a sentence for
     * the page. */
    bool from_snapshot;
    int64_t snapshot_scored_at;
    char source_note[CS_REPORT_NOTE * 2];
    /* The pass over the orders (retention.c). */
    cs_order_totals totals;
    /* The customers in key order (loaded once, when needed). */
    bool keys_loaded;
    cs_key_rank keys;

    /* custscore_score_all(), or the same figures from the snapshot */
    custscore_score_info info;
    int64_t buyers;
    double revenue, cost;
    /* Per customer, in key order (n of them). */
    size_t n, cap;
    double *profit, *clv, *churn, *satisfaction, *loyalty;
    signed char *vq, *lq;
    char clv_note[CS_REPORT_NOTE], churn_note[CS_REPORT_NOTE], sat_note[CS_REPORT_NOTE];
    /* Tiers and segments. */
    int n_tiers;
    const char *tier_name[CUSTSCORE_MAX_TIERS];
    int64_t tier_count[CUSTSCORE_MAX_TIERS];
    double tier_profit[CUSTSCORE_MAX_TIERS];
    size_t n_rules; /* segment rules; [n_rules] Others, [n_rules + 1] no purchase */
    const custscore_segment_rule *rules;
    int64_t *segment_count; /* [n_rules + 2] */
    double *segment_profit; /* [n_rules + 2] */
    /* Churn bands: low, medium, high. */
    double band_value_at_risk[3];
    double band_medium, band_high;
    /* Value-at-risk table, largest first. */
    size_t top_cap, n_top;
    cs_report_top *top;
    bool top_by_probability; /* no CLV: ranked by churn probability */

    /* Whale curve. */
    bool has_whale;
    custscore_whale_summary whale;
    double whale_x[CS_REPORT_WHALE_POINTS], whale_y[CS_REPORT_WHALE_POINTS];

    /* Lifetime-value model (for the footer and notes). */
    bool has_purchase_model;
    custscore_fit_info purchase;

    /* Satisfaction index. */
    char survey_model[CUSTSCORE_MAX_KEY + 1];
    bool csi_done; /* cs_report_csi() ran (with the scores it depends on) */
    custscore_csi_result *csi;
    int csi_draws; /* bootstrap resamples used (0: no interval) */
    char csi_note[CS_REPORT_NOTE];

    /* Churn model card. */
    custscore_churn_card *card;

    /* Changes between the two latest snapshots at or before as_of. */
    bool has_changes;
    int64_t changes_from, changes_to;
    char changes_note[CS_REPORT_NOTE];
    int64_t changed, tier_moved, tier_up, tier_down, band_moved, risk_up, risk_down, segment_moved;
    size_t n_moves, moves_cap;
    cs_report_move *moves;
    size_t n_changes;
    cs_report_change *changes;

    /* Cohort retention. */
    custscore_retention *retention;
    char retention_note[CS_REPORT_NOTE];
} cs_report;

/* report_reads.c: the reads that do not depend on the customer scores,
 * the pass over the orders (retention.c) and, when the scores come from
 * the snapshot of the date and there is an earlier one, that earlier
 * snapshot's columns: in a thread of their own, on a connection of their
 * own, while the report reads the snapshot of the date (a store in a file,
 * outside a batch); else one after the other, at once, on the report's
 * handle. Either way the same results. */
typedef struct cs_report_reads cs_report_reads;
/* Start them; *out NULL only when out of memory (the error is set). */
int cs_report_reads_start(cs_report *r, bool read_prev, int64_t prev_as_of, cs_report_reads **out);
/* Wait for them and hand over the results: r->totals, r->retention and
 * *prev (NULL when not read; owned by @reads). Once, then only returns
 * the first result again. */
int cs_report_reads_finish(cs_report *r, cs_report_reads *reads, const cs_snap_prev **prev);
/* Finish (when not yet) and free. */
void cs_report_reads_free(cs_report *r, cs_report_reads *reads);

/* report_snapshot.c: whether a snapshot is saved for the as-of date
 * (r->snapshot_scored_at set), and the as-of time of the one before it
 * (*has_prev, *prev_as_of) for the changes. */
int cs_report_find_snapshot(cs_report *r, bool *found, bool *has_prev, int64_t *prev_as_of);
/* The scores from the snapshot saved for the as-of date (found by
 * cs_report_find_snapshot()) when it still matches the store (*used then
 * true, and the changes against the previous snapshot, as @reads gives it,
 * are counted); otherwise nothing is kept and r->source_note says why.
 * Finishes @reads (whose orders pass the checks need). */
int cs_report_from_snapshot(cs_report *r, cs_report_reads *reads, bool has_prev, int64_t prev_as_of,
                            bool *used);
/* report_changes.c: the changes between the two latest snapshots at or
 * before the as-of date (when the scores did not come from a snapshot). */
int cs_report_changes(cs_report *r);
/* The note of the changes section with fewer than two snapshots. */
void cs_report_changes_missing(cs_report *r, int n_snapshots);
/* Tier moves by size, largest first. */
void cs_report_sort_moves(cs_report *r);
void cs_report_change_clear(cs_report_change *c);
/* One customer who moved, as the snapshot columns give it. */
typedef struct cs_moved {
    int64_t customer_id;
    const char *tier_before, *tier_after, *band_before, *band_after;
    const char *segment_before, *segment_after;
    double value_at_stake;
} cs_moved;
/* Count one customer who moved and keep it when among the top rows; the
 * key is looked up with @key_st ("SELECT key FROM customer WHERE id = ?1")
 * only for rows that may enter. */
int cs_report_change_row(cs_report *r, const cs_moved *ch, sqlite3_stmt *key_st);
/* The as-of time of the latest snapshot at or before @t (strictly before
 * when @strict); *found false when there is none. */
int cs_snapshot_before(custscore *db, int64_t t, bool strict, bool *found, int64_t *out);
/* Index of tier @name among the options' tiers, or -1. */
int cs_report_tier_index(const cs_report *r, const char *name);
/* A text column, "" for NULL. */
const char *cs_col_str(sqlite3_stmt *st, int col);
/* report.c */
void cs_report_top_clear(cs_report_top *t);

/* report_csi.c: custscore_csi_compute() without grouping or saving (the
 * fields by, by_attribute and save of @options are not used), the same
 * result and errors, the answers read in one scan of the response table
 * and put in key order with @keys (all the store's customers). */
int cs_report_csi_compute(custscore *db, const cs_key_rank *keys,
                          const custscore_survey_model *model, const custscore_csi_options *options,
                          custscore_csi_result **out);
/* report.c: the satisfaction index (its bootstrap size depends on the
 * scores: call it once they are there), and forgetting it. */
int cs_report_csi(cs_report *r);
void cs_report_csi_forget(cs_report *r);
/* report.c: load r->keys when not yet. */
int cs_report_keys(cs_report *r);

/* report_html.c: the whole document into @b. */
void cs_report_render(const cs_report *r, cs_buf *b);

/* report_html.c: formatting and building blocks of the sections. */
void cs_rp_int(char *out, size_t size, int64_t v);    /* 1,234,567 */
void cs_rp_money(char *out, size_t size, double v);   /* 12.3M, 123,456, 12.34 */
void cs_rp_pct(char *out, size_t size, double share); /* 38%, 4.2% */
void cs_rp_date(char *out, size_t size, int64_t t);   /* YYYY-MM-DD */
/* Escaped text in which `...` spans become <code>. */
void cs_rp_text(cs_buf *b, const char *s);
/* A part that could not be computed: its figure (data-chart @id) with a note. */
void cs_rp_missing(cs_buf *b, const char *id, const char *title, const char *note, bool wide);
void cs_rp_band(cs_buf *b, const char *band);
/* Sorted copy of the finite values of v[0..n) (*m of them); NULL when out of memory. */
double *cs_rp_sorted_finite(const double *v, size_t n, size_t *m);

/* report_value.c, report_loyalty.c: one section's figures each. */
void cs_rp_whale(const cs_report *r, cs_buf *b);
void cs_rp_pyramid(const cs_report *r, cs_buf *b);
void cs_rp_segments(const cs_report *r, cs_buf *b);
void cs_rp_clv(const cs_report *r, cs_buf *b);
void cs_rp_value_matrix(const cs_report *r, cs_buf *b);
void cs_rp_churn(const cs_report *r, cs_buf *b);
void cs_rp_churn_top(const cs_report *r, cs_buf *b);
void cs_rp_ipm(const cs_report *r, cs_buf *b);
void cs_rp_loyalty(const cs_report *r, cs_buf *b);
void cs_rp_changes(const cs_report *r, cs_buf *b);
void cs_rp_retention(const cs_report *r, cs_buf *b);

#endif
