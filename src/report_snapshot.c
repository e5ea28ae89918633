/*
 * report_snapshot.c: the HTML report, part 1c: the scores from the saved
 * snapshot of the as-of date.
 *
 * When a snapshot was saved for exactly the report's as-of date (the
 * nightly job runs `custscore score` before `custscore report`) and the
 * report uses the default scoring options, the customer scores come from
 * that snapshot instead of scoring every customer again: one pass over the
 * snapshot's columns; the previous snapshot's few columns for the changes
 * are read meanwhile (report_reads.c) and merged by customer afterwards
 * (cs_report_change_row() of report_changes.c counts the moves). The JSON column is read only for
 * what has no column, and only for a few rows: the reasons of the top rows and the notes of one row
 * (the behavioural loyalty of the survey respondents is derived from the
 * orders pass; see cs_snap_details() for when it is read instead). A
 * snapshot that no longer matches the store (other customers, other
 * orders in the profit window, other tiers or segments) is not used: the
 * report then scores afresh and says why.
 */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cs_key_rank_free(cs_key_rank *k)
{
    cs_free(k->ids);
    cs_free(k->dense);
    cs_free(k->pairs);
}

static int cs_id_pair_cmp(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    return (*x > *y) - (*x < *y);
}

/* Read the customers' ids in key order (from the key index alone) and map
 * ids to positions. */
int cs_key_rank_load(custscore *db, cs_key_rank *k)
{
    sqlite3_stmt *st = NULL;
    int rc = cs_prepare(db, "SELECT id FROM customer ORDER BY key", &st);
    if (rc)
        return rc;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (k->n == k->cap) {
            size_t cap = k->cap ? k->cap * 2 : 4096;
            int64_t *p = k->n < UINT32_MAX - 1 ? cs_reallocarray(k->ids, cap, sizeof *p) : NULL;
            if (!p) {
                rc = cs_error(db, CUSTSCORE_ENOMEM, "report: out of memory reading customers");
                break;
            }
            k->ids = p;
            k->cap = cap;
        }
        k->ids[k->n++] = sqlite3_column_int64(st, 0);
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = cs_sqlite_error(db, src, "report: reading customers");
    sqlite3_finalize(st);
    if (rc || k->n == 0)
        return rc;
    int64_t min_id = k->ids[0], max_id = k->ids[0];
    for (size_t i = 1; i < k->n; i++) {
        if (k->ids[i] < min_id)
            min_id = k->ids[i];
        if (k->ids[i] > max_id)
            max_id = k->ids[i];
    }
    k->min_id = min_id;
    /* Unsigned: ids are any int64, and max - min overflows int64. */
    uint64_t span = (uint64_t)max_id - (uint64_t)min_id + 1;
    if (span != 0 && span <= 4 * (uint64_t)k->n + 1024) {
        k->dense = cs_calloc((size_t)span, sizeof *k->dense);
        if (!k->dense)
            return cs_error(db, CUSTSCORE_ENOMEM, "report: out of memory reading customers");
        k->span = span;
        for (size_t i = 0; i < k->n; i++)
            k->dense[(uint64_t)k->ids[i] - (uint64_t)min_id] = (uint32_t)(i + 1);
        return CUSTSCORE_OK;
    }
    k->pairs = cs_mallocarray(k->n, 2 * sizeof *k->pairs);
    if (!k->pairs)
        return cs_error(db, CUSTSCORE_ENOMEM, "report: out of memory reading customers");
    for (size_t i = 0; i < k->n; i++) {
        k->pairs[2 * i] = k->ids[i];
        k->pairs[2 * i + 1] = (int64_t)i;
    }
    qsort(k->pairs, k->n, 2 * sizeof *k->pairs, cs_id_pair_cmp);
    return CUSTSCORE_OK;
}

/* Position of customer @id in key order, or -1. */
ptrdiff_t cs_key_rank_find(const cs_key_rank *k, int64_t id)
{
    if (k->dense) {
        uint64_t off = (uint64_t)id - (uint64_t)k->min_id;
        return id >= k->min_id && off < k->span ? (ptrdiff_t)k->dense[off] - 1 : -1;
    }
    size_t lo = 0, hi = k->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t v = k->pairs[2 * mid];
        if (v == id)
            return (ptrdiff_t)k->pairs[2 * mid + 1];
        if (v < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* A candidate of the value-at-risk table while reading: numbers and the
 * customer's position only; its strings are read for the rows kept. */
typedef struct cs_snap_top {
    int64_t id;
    size_t rank;
    double value_at_risk, probability, clv;
} cs_snap_top;

/* The order of custscore_score_all()'s rows in the table: value at risk
 * first (largest first), then churn probability, equal ones in key order. */
static bool cs_snap_top_before(const cs_snap_top *a, const cs_snap_top *b)
{
    bool fa = isfinite(a->value_at_risk), fb = isfinite(b->value_at_risk);
    if (fa != fb)
        return fa;
    if (fa && a->value_at_risk != b->value_at_risk)
        return a->value_at_risk > b->value_at_risk;
    if (a->probability != b->probability)
        return a->probability > b->probability;
    return a->rank < b->rank;
}

static void cs_snap_top_offer(cs_snap_top *top, size_t cap, size_t *n, const cs_snap_top *c)
{
    size_t pos = *n;
    while (pos > 0 && cs_snap_top_before(c, &top[pos - 1]))
        pos--;
    if (pos >= cap)
        return;
    if (*n == cap)
        (*n)--;
    memmove(&top[pos + 1], &top[pos], (*n - pos) * sizeof *top);
    top[pos] = *c;
    (*n)++;
}

/* A REAL column, NaN for NULL (saved non-finite values are NULL). */
static double cs_col_num(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? NAN : sqlite3_column_double(st, col);
}

static int cs_quadrant_of(sqlite3_stmt *st, int col, const char *const names[4])
{
    const char *name = (const char *)sqlite3_column_text(st, col);
    size_t len = (size_t)sqlite3_column_bytes(st, col);
    for (int q = 0; name && q < 4; q++)
        if (strlen(names[q]) == len && memcmp(name, names[q], len) == 0)
            return q + 1;
    return 0;
}

/* Index of a segment name among the rules of the options (first rule of
 * that name), n_rules for Others, -1 when the options have no such
 * segment. */
static ptrdiff_t cs_snap_segment(const cs_report *r, const char *name)
{
    if (!name)
        return -1;
    for (size_t k = 0; k < r->n_rules; k++)
        if (r->rules[k].name && strcmp(r->rules[k].name, name) == 0)
            return (ptrdiff_t)k;
    return strcmp(name, CUSTSCORE_SEGMENT_OTHERS) == 0 ? (ptrdiff_t)r->n_rules : -1;
}

/* Median of the finite values of v[0..n) where @mask (if not NULL) is
 * finite: custscore_score_all()'s split points. */
static int cs_snap_median(const double *v, const double *mask, size_t n, double *out)
{
    double *tmp = cs_mallocarray(n ? n : 1, sizeof *tmp);
    if (!tmp)
        return CUSTSCORE_ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]) && (!mask || isfinite(mask[i])))
            tmp[m++] = v[i];
    *out = NAN;
    if (m > 0) {
        /* The middle element(s) by selection (Wirth's algorithm), not a
         * sort: the same value in linear time. Afterwards tmp[k] is the
         * k-th smallest and nothing left of it is larger. */
        ptrdiff_t k = (ptrdiff_t)(m / 2), lo = 0, hi = (ptrdiff_t)m - 1;
        while (lo < hi) {
            double pivot = tmp[k];
            ptrdiff_t i = lo, j = hi;
            do {
                while (tmp[i] < pivot)
                    i++;
                while (pivot < tmp[j])
                    j--;
                if (i <= j) {
                    double t = tmp[i];
                    tmp[i] = tmp[j];
                    tmp[j] = t;
                    i++;
                    j--;
                }
            } while (i <= j);
            if (j < k)
                lo = i;
            if (k < i)
                hi = j;
        }
        double upper = tmp[k];
        if (m % 2) {
            *out = upper;
        } else {
            /* The largest value left of k is the lower middle. */
            double lower = tmp[0];
            for (ptrdiff_t i = 1; i < k; i++)
                if (tmp[i] > lower)
                    lower = tmp[i];
            *out = 0.5 * (lower + upper);
        }
    }
    cs_free(tmp);
    return CUSTSCORE_OK;
}

/* Forget the scores read so far (the snapshot cannot be used after all). */
static void cs_snap_forget(cs_report *r)
{
    r->n = 0;
    r->buyers = 0;
    memset(&r->info, 0, sizeof r->info);
    memset(r->tier_count, 0, sizeof r->tier_count);
    memset(r->tier_profit, 0, sizeof r->tier_profit);
    memset(r->segment_count, 0, (r->n_rules + 2) * sizeof *r->segment_count);
    memset(r->segment_profit, 0, (r->n_rules + 2) * sizeof *r->segment_profit);
    memset(r->band_value_at_risk, 0, sizeof r->band_value_at_risk);
    r->clv_note[0] = r->churn_note[0] = r->sat_note[0] = '\0';
    for (size_t i = 0; i < r->n_changes; i++)
        cs_report_change_clear(&r->changes[i]);
    r->n_changes = 0;
    r->n_moves = 0;
    r->changed = r->tier_moved = r->tier_up = r->tier_down = 0;
    r->band_moved = r->risk_up = r->risk_down = r->segment_moved = 0;
    r->has_changes = false;
    r->changes_from = r->changes_to = 0;
}

/* The per-customer arrays for @n customers (NaN until read; vq -1 marks a
 * customer not read yet). */
static int cs_snap_arrays(cs_report *r, size_t n)
{
    size_t cap = n ? n : 1;
    double **cols[5] = {&r->profit, &r->clv, &r->churn, &r->satisfaction, &r->loyalty};
    for (int k = 0; k < 5; k++) {
        double *p = cs_reallocarray(*cols[k], cap, sizeof *p);
        if (!p)
            return CUSTSCORE_ENOMEM;
        *cols[k] = p;
        for (size_t i = 0; i < n; i++)
            p[i] = NAN;
    }
    signed char *vq = cs_reallocarray(r->vq, cap, 1);
    if (!vq)
        return CUSTSCORE_ENOMEM;
    r->vq = vq;
    signed char *lq = cs_reallocarray(r->lq, cap, 1);
    if (!lq)
        return CUSTSCORE_ENOMEM;
    r->lq = lq;
    memset(r->vq, -1, cap);
    memset(r->lq, 0, cap);
    r->cap = cap;
    return CUSTSCORE_OK;
}

/* What went wrong with a snapshot that cannot be used, for the note: the
 * reason of the first row found wrong (checks of the orders run after the
 * pass, and still name the first row). */
typedef struct cs_snap_check {
    bool usable;
    size_t row; /* row of the snapshot the reason is about; SIZE_MAX after them */
    char why[CS_REPORT_NOTE];
} cs_snap_check;

/* The snapshot and the store disagree at row @row: set the reason. */
static void cs_snap_stale_at(cs_snap_check *c, size_t row, const char *why)
{
    if (c->usable || row < c->row) {
        c->usable = false;
        c->row = row;
        snprintf(c->why, sizeof c->why, "%s", why);
    }
}

static void cs_snap_stale(cs_snap_check *c, const char *why)
{
    cs_snap_stale_at(c, SIZE_MAX, why);
}

static const char *const cs_vq_names[4] = {"value", "potential", "maintain", "low value"};
static const char *const cs_lq_names[4] = {"apostle", "mercenary", "hostage", "defector"};

/* Columns of the as-of snapshot, in the order of the key on (as_of,
 * customer); of the previous snapshot only what the changes compare. The
 * ranges are open at the top, stopped where as_of changes (see
 * cs_report_merge_snapshots). */
enum {
    SC_CUSTOMER,
    SC_RFM,
    SC_SEGMENT,
    SC_TIER,
    SC_BAND,
    SC_PROFIT,
    SC_CLV,
    SC_P_ALIVE,
    SC_CHURN,
    SC_SAT,
    SC_VQ,
    SC_LQ,
    SC_AS_OF
};
static const char cs_snap_sql[] =
    "SELECT customer, rfm_score, segment, tier, band, profit, clv, p_alive, churn_probability,"
    " satisfaction, value_matrix, loyalty, as_of FROM score WHERE as_of >= ?1"
    " ORDER BY as_of, customer";
static const char cs_prev_sql[] = "SELECT customer, tier, band, segment, as_of FROM score"
                                  " WHERE as_of >= ?1 ORDER BY as_of, customer";

static int cs_snap_step(sqlite3_stmt *st, int as_of_col, int64_t as_of)
{
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW && sqlite3_column_int64(st, as_of_col) != as_of)
        return SQLITE_DONE;
    return src;
}

/* A text column as 0 (NULL) or 1 + its entry in @names; the last text
 * seen in this column is remembered in *last (most rows repeat it). */
static int cs_snap_intern(sqlite3_stmt *st, int col, cs_strmap *names, uint32_t *last,
                          uint32_t *out)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    if (!s) {
        *out = 0;
        return CUSTSCORE_OK;
    }
    size_t len = (size_t)sqlite3_column_bytes(st, col);
    if (*last && names->key_len[*last - 1] == len &&
        memcmp(cs_strmap_key(names, *last - 1), s, len) == 0) {
        *out = *last;
        return CUSTSCORE_OK;
    }
    /* The texts are few (tier, band and segment names): compare with each
     * before hashing. */
    for (size_t e = 0; e < names->count && e < 32; e++)
        if (names->key_len[e] == len && memcmp(cs_strmap_key(names, e), s, len) == 0) {
            *out = *last = (uint32_t)e + 1;
            return CUSTSCORE_OK;
        }
    bool inserted;
    ptrdiff_t e = cs_strmap_put(names, s, len, &inserted);
    if (e < 0)
        return CUSTSCORE_ENOMEM;
    *out = *last = (uint32_t)e + 1;
    return CUSTSCORE_OK;
}

static const char *cs_snap_name(const cs_strmap *names, uint32_t v)
{
    return v ? cs_strmap_key(names, v - 1) : NULL;
}

void cs_snap_prev_free(cs_snap_prev *p)
{
    cs_free(p->id);
    cs_free(p->tier);
    cs_free(p->band);
    cs_free(p->segment);
    cs_strmap_free(&p->names);
    memset(p, 0, sizeof *p);
}

static bool cs_snap_prev_grow(cs_snap_prev *p)
{
    size_t cap = p->cap ? p->cap * 2 : 65536;
    int64_t *id = p->n < UINT32_MAX / 2 ? cs_reallocarray(p->id, cap, sizeof *id) : NULL;
    if (!id)
        return false;
    p->id = id;
    uint32_t **cols[3] = {&p->tier, &p->band, &p->segment};
    for (int k = 0; k < 3; k++) {
        uint32_t *c = cs_reallocarray(*cols[k], cap, sizeof *c);
        if (!c)
            return false;
        *cols[k] = c;
    }
    p->cap = cap;
    return true;
}

int cs_snap_prev_read(custscore *db, int64_t prev_as_of, cs_snap_prev *p)
{
    memset(p, 0, sizeof *p);
    cs_strmap_init(&p->names);
    sqlite3_stmt *st = NULL;
    int rc = cs_prepare(db, cs_prev_sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, prev_as_of);
    uint32_t last[3] = {0, 0, 0};
    int src;
    while ((src = cs_snap_step(st, 4, prev_as_of)) == SQLITE_ROW) {
        if (p->n == p->cap && !cs_snap_prev_grow(p)) {
            rc = CUSTSCORE_ENOMEM;
            break;
        }
        size_t i = p->n++;
        p->id[i] = sqlite3_column_int64(st, 0);
        rc = cs_snap_intern(st, 1, &p->names, &last[0], &p->tier[i]);
        if (rc == 0)
            rc = cs_snap_intern(st, 2, &p->names, &last[1], &p->band[i]);
        if (rc == 0)
            rc = cs_snap_intern(st, 3, &p->names, &last[2], &p->segment[i]);
        if (rc)
            break;
    }
    if (rc == CUSTSCORE_ENOMEM)
        rc = cs_error(db, rc, "report: out of memory reading the previous snapshot");
    else if (rc == 0 && src != SQLITE_DONE)
        rc = cs_sqlite_error(db, src, "report: reading the previous snapshot");
    sqlite3_finalize(st);
    if (rc)
        cs_snap_prev_free(p);
    return rc;
}

/* What the pass keeps besides the report's arrays, for the checks and the
 * changes once the orders pass and the previous snapshot are there: the
 * rows' positions in row (customer id) order, and per position whether the
 * customer bought, its P(alive) and its texts. */
typedef struct cs_snap_rows {
    size_t n;
    uint32_t *pos;               /* [n rows] */
    unsigned char *buyer;        /* [customers] */
    double *p_alive;             /* [customers] */
    uint32_t *tier, *band, *seg; /* [customers] as cs_snap_prev's */
    cs_strmap names;
} cs_snap_rows;

static void cs_snap_rows_free(cs_snap_rows *w)
{
    cs_free(w->pos);
    cs_free(w->buyer);
    cs_free(w->p_alive);
    cs_free(w->tier);
    cs_free(w->band);
    cs_free(w->seg);
    cs_strmap_free(&w->names);
}

static int cs_snap_rows_alloc(cs_snap_rows *w, size_t n)
{
    size_t cap = n ? n : 1;
    cs_strmap_init(&w->names);
    w->pos = cs_mallocarray(cap, sizeof *w->pos);
    w->buyer = cs_calloc(cap, 1);
    w->p_alive = cs_mallocarray(cap, sizeof *w->p_alive);
    w->tier = cs_mallocarray(cap, sizeof *w->tier);
    w->band = cs_mallocarray(cap, sizeof *w->band);
    w->seg = cs_mallocarray(cap, sizeof *w->seg);
    return w->pos && w->buyer && w->p_alive && w->tier && w->band && w->seg ? CUSTSCORE_OK
                                                                            : CUSTSCORE_ENOMEM;
}

/* Read one customer's row of the as-of snapshot into the report. */
static int cs_snap_row(cs_report *r, sqlite3_stmt *a, size_t pos, size_t row, cs_snap_rows *w,
                       uint32_t last[3], cs_snap_top *top, size_t *n_top, cs_snap_check *check)
{
    custscore_score_info *in = &r->info;
    bool buyer = sqlite3_column_type(a, SC_RFM) != SQLITE_NULL;
    double profit = cs_col_num(a, SC_PROFIT), clv = cs_col_num(a, SC_CLV);
    double churn = cs_col_num(a, SC_CHURN);
    /* Value at risk as custscore_score_all() computes (and saves) it. */
    double var = isfinite(churn) && isfinite(clv) ? churn * clv : NAN;
    double sat = cs_col_num(a, SC_SAT);
    if (!isfinite(profit))
        profit = 0;
    int vq = cs_quadrant_of(a, SC_VQ, cs_vq_names);
    int lq = cs_quadrant_of(a, SC_LQ, cs_lq_names);
    r->profit[pos] = profit;
    r->clv[pos] = clv;
    r->churn[pos] = churn;
    r->satisfaction[pos] = sat;
    r->vq[pos] = (signed char)vq;
    r->lq[pos] = (signed char)lq;
    r->n++;
    in->customers++;
    if (buyer)
        r->buyers++;
    w->pos[row] = (uint32_t)pos;
    w->buyer[pos] = buyer;
    w->p_alive[pos] = cs_col_num(a, SC_P_ALIVE);
    if (cs_snap_intern(a, SC_TIER, &w->names, &last[0], &w->tier[pos]) ||
        cs_snap_intern(a, SC_BAND, &w->names, &last[1], &w->band[pos]) ||
        cs_snap_intern(a, SC_SEGMENT, &w->names, &last[2], &w->seg[pos]))
        return CUSTSCORE_ENOMEM;
    const char *tier = cs_snap_name(&w->names, w->tier[pos]);
    if (tier) {
        int t = cs_report_tier_index(r, tier);
        if (t < 0) {
            cs_snap_stale_at(check, row, "its tiers are not the tiers of this report's options");
        } else {
            r->tier_count[t]++;
            r->tier_profit[t] += profit;
        }
    }
    ptrdiff_t seg = (ptrdiff_t)r->n_rules + 1;
    if (buyer) {
        seg = cs_snap_segment(r, cs_snap_name(&w->names, w->seg[pos]));
        if (seg < 0) {
            cs_snap_stale_at(check, row,
                             "its RFM segments are not the segments of this report's options");
            seg = (ptrdiff_t)r->n_rules;
        }
    }
    r->segment_count[seg]++;
    r->segment_profit[seg] += profit;
    in->total_profit += profit;
    if (isfinite(clv)) {
        in->total_clv += clv;
        in->has_clv = 1;
    }
    if (isfinite(var))
        in->total_value_at_risk += var;
    if (isfinite(churn)) {
        const char *band = cs_snap_name(&w->names, w->band[pos]);
        int level = band && band[0] == 'h' ? 2 : band && band[0] == 'm' ? 1 : 0;
        in->band_count[level]++;
        if (isfinite(var))
            r->band_value_at_risk[level] += var;
        in->has_churn = 1;
        cs_snap_top c = {.id = sqlite3_column_int64(a, SC_CUSTOMER),
                         .rank = pos,
                         .value_at_risk = var,
                         .probability = churn,
                         .clv = clv};
        cs_snap_top_offer(top, (size_t)r->opt.top, n_top, &c);
    }
    if (isfinite(sat))
        in->has_satisfaction = 1;
    in->value_quadrant_count[vq]++;
    in->loyalty_quadrant_count[lq]++;
    return CUSTSCORE_OK;
}

/* The pass: every row of the as-of snapshot, by customer id. */
static int cs_snap_pass(cs_report *r, const cs_key_rank *kr, cs_snap_rows *w, cs_snap_top *top,
                        size_t *n_top, cs_snap_check *check)
{
    custscore *db = r->db;
    sqlite3_stmt *a = NULL;
    int rc = cs_prepare(db, cs_snap_sql, &a);
    if (rc)
        return rc;
    sqlite3_bind_int64(a, 1, r->as_of);
    uint32_t last[3] = {0, 0, 0};
    int sa = cs_snap_step(a, SC_AS_OF, r->as_of);
    while (rc == 0 && sa == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(a, SC_CUSTOMER);
        ptrdiff_t pos = cs_key_rank_find(kr, id);
        if (pos < 0 || r->vq[pos] != -1 || w->n == kr->n) {
            cs_snap_stale_at(check, w->n, "its customers are not the store's");
            break;
        }
        rc = cs_snap_row(r, a, (size_t)pos, w->n, w, last, top, n_top, check);
        if (rc == CUSTSCORE_ENOMEM)
            rc = cs_error(db, rc, "report: out of memory");
        w->n++;
        if (rc == 0)
            sa = cs_snap_step(a, SC_AS_OF, r->as_of);
    }
    if (rc == 0 && sa != SQLITE_ROW && sa != SQLITE_DONE)
        rc = cs_sqlite_error(db, sa, "report: reading the snapshot");
    sqlite3_finalize(a);
    return rc;
}

/* With the orders pass: the behavioural loyalty of the customers with a
 * satisfaction score, as custscore_score_all() (the repeat rate x / (x + 1)
 * of the customer's purchase occasions, averaged with P(alive) when there
 * is one), and the check that every buyer of the snapshot still has a
 * purchase. The buyers come by ascending id, as the rows. */
static void cs_snap_loyalty(cs_report *r, const cs_snap_rows *w, cs_snap_check *check)
{
    const cs_order_totals *tot = &r->totals;
    if (!tot->buyer_id)
        return; /* read from the JSON instead (cs_snap_details) */
    size_t next_buyer = 0;
    for (size_t row = 0; row < w->n; row++) {
        size_t pos = w->pos[row];
        int64_t id = r->keys.ids[pos];
        int64_t occasions = 0;
        while (next_buyer < (size_t)tot->buyers && tot->buyer_id[next_buyer] < id)
            next_buyer++;
        if (next_buyer < (size_t)tot->buyers && tot->buyer_id[next_buyer] == id)
            occasions = tot->buyer_occasions[next_buyer];
        bool buyer = w->buyer[pos];
        if (isfinite(r->satisfaction[pos]) && buyer && occasions > 0) {
            double x = (double)(occasions - 1), p_alive = w->p_alive[pos];
            double repeat_rate = x / (x + 1.0);
            r->loyalty[pos] = isfinite(p_alive) ? 0.5 * (repeat_rate + p_alive) : repeat_rate;
        }
        if (buyer && occasions == 0)
            cs_snap_stale_at(check, row, "the store's orders changed since it was saved");
    }
}

/* The changes: the rows merged by customer with the previous snapshot's. */
static int cs_snap_changes(cs_report *r, const cs_snap_rows *w, const cs_snap_prev *p)
{
    custscore *db = r->db;
    /* The previous snapshot's texts as this snapshot's entries (0: NULL,
     * UINT32_MAX: a text this snapshot does not have). */
    size_t n_names = p->names.count;
    uint32_t *same = cs_mallocarray(n_names + 1, sizeof *same);
    if (!same)
        return cs_error(db, CUSTSCORE_ENOMEM, "report: out of memory");
    same[0] = 0;
    for (size_t e = 0; e < n_names; e++) {
        ptrdiff_t f = cs_strmap_find(&w->names, cs_strmap_key(&p->names, e), p->names.key_len[e]);
        same[e + 1] = f >= 0 ? (uint32_t)f + 1 : UINT32_MAX;
    }
    sqlite3_stmt *key_st = NULL;
    int rc = cs_prepare(db, "SELECT key FROM customer WHERE id = ?1", &key_st);
    size_t j = 0;
    for (size_t row = 0; rc == 0 && row < w->n; row++) {
        size_t pos = w->pos[row];
        int64_t id = r->keys.ids[pos];
        while (j < p->n && p->id[j] < id)
            j++;
        if (j == p->n || p->id[j] != id)
            continue;
        if (same[p->tier[j]] == w->tier[pos] && same[p->band[j]] == w->band[pos] &&
            same[p->segment[j]] == w->seg[pos])
            continue;
        /* What is at stake: value at risk, else CLV, else current value
         * (= profit), as custscore_changes(). */
        double stake = r->churn[pos] * r->clv[pos];
        if (!isfinite(stake))
            stake = r->clv[pos];
        if (!isfinite(stake))
            stake = r->profit[pos];
        if (!isfinite(stake))
            stake = 0;
        const char *before[3] = {cs_snap_name(&p->names, p->tier[j]),
                                 cs_snap_name(&p->names, p->band[j]),
                                 cs_snap_name(&p->names, p->segment[j])};
        const char *after[3] = {cs_snap_name(&w->names, w->tier[pos]),
                                cs_snap_name(&w->names, w->band[pos]),
                                cs_snap_name(&w->names, w->seg[pos])};
        cs_moved ch = {.customer_id = id,
                       .tier_before = before[0] ? before[0] : "",
                       .tier_after = after[0] ? after[0] : "",
                       .band_before = before[1] ? before[1] : "",
                       .band_after = after[1] ? after[1] : "",
                       .segment_before = before[2] ? before[2] : "",
                       .segment_after = after[2] ? after[2] : "",
                       .value_at_stake = stake};
        rc = cs_report_change_row(r, &ch, key_st);
    }
    sqlite3_finalize(key_st);
    cs_free(same);
    return rc;
}

/* A JSON text field of a row (empty when NULL), copied. */
static char *cs_snap_json_text(sqlite3_stmt *st, int col)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    return cs_strdup(s ? s : "");
}

/* What has no column: the strings and reasons of the top rows, the first
 * customer's notes (as custscore_score_all()'s first row gives them) and,
 * when it cannot be derived from the orders pass (a purchase model that
 * counts zero-revenue orders as purchases), the behavioural loyalty of the
 * customers with a satisfaction score. One row each, by key. */
static int cs_snap_details(cs_report *r, const cs_key_rank *kr, const cs_snap_top *top,
                           size_t n_top)
{
    custscore *db = r->db;
    sqlite3_stmt *st = NULL;
    int rc = r->totals.buyer_id ? CUSTSCORE_OK
                                : cs_prepare(db,
                                             "SELECT json_extract(data, '$.loyalty') FROM score"
                                             " WHERE as_of = ?1 AND customer = ?2",
                                             &st);
    for (size_t i = 0; rc == 0 && st && i < r->n; i++) {
        if (!isfinite(r->satisfaction[i]))
            continue;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, r->as_of);
        sqlite3_bind_int64(st, 2, kr->ids[i]);
        int src = cs_step_c(st);
        if (src == SQLITE_ROW)
            r->loyalty[i] = cs_col_num(st, 0);
        else if (src != SQLITE_DONE)
            rc = cs_sqlite_error(db, src, "report: reading the snapshot");
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == 0)
        rc =
            cs_prepare(db,
                       "SELECT c.key, s.tier, s.segment, s.band, json_extract(s.data, '$.reason1'),"
                       " json_extract(s.data, '$.reason2'), json_extract(s.data, '$.reason3'),"
                       " json_extract(s.data, '$.clv_note'), json_extract(s.data, '$.churn_note'),"
                       " json_extract(s.data, '$.satisfaction_note')"
                       " FROM score s JOIN customer c ON c.id = s.customer"
                       " WHERE s.as_of = ?1 AND s.customer = ?2",
                       &st);
    for (size_t i = 0; rc == 0 && i <= n_top; i++) {
        /* The top rows, then the first customer's notes. */
        if (i == n_top && r->n == 0)
            break;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, r->as_of);
        sqlite3_bind_int64(st, 2, i < n_top ? top[i].id : kr->ids[0]);
        int src = cs_step_c(st);
        if (src != SQLITE_ROW) {
            rc = src == SQLITE_DONE ? cs_error(db, CUSTSCORE_ECORRUPT,
                                               "report: a snapshot row vanished while reading")
                                    : cs_sqlite_error(db, src, "report: reading the snapshot");
            break;
        }
        if (i == n_top) {
            const char *note[3] = {(const char *)sqlite3_column_text(st, 7),
                                   (const char *)sqlite3_column_text(st, 8),
                                   (const char *)sqlite3_column_text(st, 9)};
            snprintf(r->clv_note, sizeof r->clv_note, "%s", note[0] ? note[0] : "");
            snprintf(r->churn_note, sizeof r->churn_note, "%s", note[1] ? note[1] : "");
            snprintf(r->sat_note, sizeof r->sat_note, "%s", note[2] ? note[2] : "");
            break;
        }
        cs_report_top *t = &r->top[r->n_top++];
        memset(t, 0, sizeof *t);
        t->customer = cs_snap_json_text(st, 0);
        t->tier = cs_snap_json_text(st, 1);
        t->segment = cs_snap_json_text(st, 2);
        const char *band = (const char *)sqlite3_column_text(st, 3);
        snprintf(t->band, sizeof t->band, "%s", band ? band : "");
        bool ok = t->customer && t->tier && t->segment;
        for (int k = 0; k < CUSTSCORE_REASONS; k++) {
            t->reason[k] = cs_snap_json_text(st, 4 + k);
            ok = ok && t->reason[k];
        }
        t->probability = top[i].probability;
        t->clv = top[i].clv;
        t->value_at_risk = top[i].value_at_risk;
        if (!ok)
            rc = cs_error(db, CUSTSCORE_ENOMEM, "report: out of memory");
    }
    sqlite3_finalize(st);
    return rc;
}

int cs_report_find_snapshot(cs_report *r, bool *found, bool *has_prev, int64_t *prev_as_of)
{
    custscore *db = r->db;
    *found = *has_prev = false;
    *prev_as_of = 0;
    /* The snapshot of exactly the as-of date, when saved: its time of
     * scoring (one row's: a snapshot is saved by one run). Not its number
     * of rows: where the table is its key, counting them reads the whole
     * snapshot; the pass counts them. */
    sqlite3_stmt *st = NULL;
    int rc = cs_prepare(db, "SELECT scored_at FROM score WHERE as_of = ?1 LIMIT 1", &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, r->as_of);
    int src = sqlite3_step(st);
    r->snapshot_scored_at = src == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (src != SQLITE_ROW && src != SQLITE_DONE)
        rc = cs_sqlite_error(db, src, "report: finding the snapshot");
    sqlite3_finalize(st);
    if (rc || src != SQLITE_ROW)
        return rc;
    *found = true;
    return cs_snapshot_before(db, r->as_of, true, has_prev, prev_as_of);
}

int cs_report_from_snapshot(cs_report *r, cs_report_reads *reads, bool has_prev, int64_t prev_as_of,
                            bool *used)
{
    custscore *db = r->db;
    *used = false;
    char scored[32] = "?";
    custscore_format_time(r->snapshot_scored_at, 0, scored, sizeof scored);
    cs_snap_top *top = NULL;
    size_t n_top = 0;
    cs_snap_check check = {.usable = true, .row = SIZE_MAX};
    cs_snap_rows w = {0};
    const cs_snap_prev *prev = NULL;
    int rc = cs_report_keys(r);
    const cs_key_rank *kr = &r->keys;
    if (rc == 0) {
        top = cs_calloc((size_t)r->opt.top, sizeof *top);
        if (!top || cs_snap_arrays(r, kr->n) || cs_snap_rows_alloc(&w, kr->n))
            rc = cs_error(db, CUSTSCORE_ENOMEM, "report: out of memory");
    }
    if (rc == 0 && has_prev && !r->changes) {
        r->changes = cs_calloc((size_t)r->opt.top, sizeof *r->changes);
        if (!r->changes)
            rc = cs_error(db, CUSTSCORE_ENOMEM, "report: out of memory");
    }
    if (rc == 0)
        rc = cs_snap_pass(r, kr, &w, top, &n_top, &check);
    /* The satisfaction index while the other reads run: it needs the
     * scores (the number of respondents), read now; forgotten when the
     * snapshot is not used after all. */
    if (rc == 0 && check.usable)
        rc = cs_report_csi(r);
    /* The orders pass (and the previous snapshot) from here on. */
    int reads_rc = cs_report_reads_finish(r, reads, &prev);
    if (rc == 0)
        rc = reads_rc;
    if (rc == 0)
        cs_snap_loyalty(r, &w, &check);
    /* The store's orders must still give what the snapshot says: the same
     * customers with a purchase and the same profit in the window (within
     * rounding: the sums run in another order). Orders imported or changed
     * since the snapshot was saved show here. */
    if (rc == 0 && check.usable) {
        double store_profit = r->totals.revenue - r->totals.cost;
        double tol = 1e-8 * (fabs(r->totals.revenue) + fabs(r->totals.cost)) + 1e-6;
        if (r->n != kr->n)
            cs_snap_stale(&check, "it has another number of customers than the store now");
        else if (r->buyers != r->totals.buyers ||
                 !(fabs(r->info.total_profit - store_profit) <= tol))
            cs_snap_stale(&check, "the store's orders changed since it was saved");
    }
    if (rc == 0 && check.usable && has_prev && prev)
        rc = cs_snap_changes(r, &w, prev);
    if (rc == 0 && check.usable) {
        custscore_score_info *in = &r->info;
        in->as_of = r->as_of;
        rc = cs_snap_details(r, kr, top, n_top);
        /* The split points, as custscore_score_all() takes them (the
         * medians: a snapshot is used with the default options only). */
        if (rc == 0)
            rc = cs_snap_median(r->profit, r->clv, r->n, &in->current_value_split);
        if (rc == 0)
            rc = cs_snap_median(r->clv, NULL, r->n, &in->future_value_split);
        if (rc == 0)
            rc = cs_snap_median(r->satisfaction, NULL, r->n, &in->satisfaction_split);
        if (rc == 0)
            rc = cs_snap_median(r->loyalty, r->satisfaction, r->n, &in->loyalty_split);
        if (rc == CUSTSCORE_ENOMEM && custscore_errcode(db) == 0)
            rc = cs_error(db, CUSTSCORE_ENOMEM, "report: out of memory");
    }
    if (rc == 0 && check.usable) {
        *used = true;
        r->from_snapshot = true;
        if (has_prev) {
            r->changes_to = r->as_of;
            r->changes_from = prev_as_of;
            r->has_changes = true;
            cs_report_sort_moves(r);
        } else {
            cs_report_changes_missing(r, 1);
        }
        snprintf(r->source_note, sizeof r->source_note,
                 "Customer scores are those of the snapshot saved for %s (scored at %s by "
                 "`custscore score`); retention and the satisfaction index are computed from the "
                 "store now.",
                 r->as_of_text, scored);
    } else if (rc == 0) {
        cs_snap_forget(r);
        cs_report_csi_forget(r);
        snprintf(r->source_note, sizeof r->source_note,
                 "Customer scores were computed now: the snapshot saved for %s (scored at %s) "
                 "was not used, as %s. Run `custscore score --as-of %s` again to save a fresh "
                 "one.",
                 r->as_of_text, scored, check.why, r->as_of_text);
    }
    cs_free(top);
    cs_snap_rows_free(&w);
    return rc;
}
