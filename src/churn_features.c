/*
 * churn_features.c: the raw material of the churn model, per customer at a
 * reference day: purchase behaviour from the order history (recency against
 * the customer's own rhythm, frequency, spend, trends, tenure), complaints,
 * and customer attributes from the store. churn.c turns these into the
 * model's feature columns.
 *
 * Definitions (docs/models.md ("Churn risk"), "Features"): a purchase occasion is a
 * UTC day with an order of positive revenue (as in summary.c). At reference
 * day t, with k occasions on days d_1 < ... < d_k <= t:
 *   recency   = t - d_k (days)
 *   tenure    = t - d_1 (days)
 *   usual gap = ((d_k - d_1) + g0) / k: the customer's mean gap between
 *               occasions shrunk towards the population's median gap g0 with
 *               the weight of one gap, so a one-time buyer's usual gap is g0
 *   trends    over the lookback L_i = min(L, tenure + 1) days ending at t:
 *               (recent - earlier) / (recent + earlier), the halves being
 *               the last L_i/2 days and the L_i/2 days before; 0 when both
 *               halves are empty. -1 = all activity in the earlier half.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Behaviour from the order history */

void cs_churn_behaviour_of(const cs_history *h, size_t i, int64_t ref_day, double lookback_days,
                           double prior_gap_days, cs_churn_behaviour *out)
{
    memset(out, 0, sizeof *out);
    size_t a = h->offset[i], b = h->offset[i + 1];
    int64_t limit = (ref_day + 1) * CS_SECONDS_PER_DAY; /* orders before the next day */
    int64_t first = 0, last = 0;
    double occasions = 0, revenue = 0;
    size_t end = a;
    for (size_t k = a; k < b && h->ts[k] < limit; k++, end++) {
        revenue += h->revenue[k];
        if (h->revenue[k] <= 0)
            continue;
        int64_t day = cs_day_of(h->ts[k]);
        if (occasions == 0) {
            first = last = day;
            occasions = 1;
        } else if (day != last) {
            last = day;
            occasions++;
        }
    }
    out->occasions = occasions;
    if (occasions == 0)
        return;
    out->recency_days = (double)(ref_day - last);
    out->tenure_days = (double)(ref_day - first);
    out->usual_gap_days = ((double)(last - first) + prior_gap_days) / occasions;
    out->mean_spend = fmax(revenue, 0) / occasions;

    /* Trends: a second pass over the orders inside the lookback, newest
     * first (the history is sorted by time). */
    double span = fmin(lookback_days, out->tenure_days + 1);
    double half = span / 2;
    int64_t prev_day = INT64_MIN;
    for (size_t k = end; k-- > a;) {
        double age = (double)(ref_day - cs_day_of(h->ts[k])); /* 0 = the reference day */
        if (age >= span)
            break;
        bool recent = age < half;
        double rev = h->revenue[k];
        if (recent)
            out->spend_recent += rev;
        else
            out->spend_earlier += rev;
        int64_t day = cs_day_of(h->ts[k]);
        if (rev > 0 && day != prev_day) {
            prev_day = day;
            if (recent)
                out->freq_recent++;
            else
                out->freq_earlier++;
        }
    }
    out->spend_recent = fmax(out->spend_recent, 0);
    out->spend_earlier = fmax(out->spend_earlier, 0);
}

bool cs_churn_purchased_between(const cs_history *h, size_t i, int64_t after_day,
                                int64_t through_day)
{
    int64_t from = after_day <= INT64_MIN / CS_SECONDS_PER_DAY + 1
                       ? INT64_MIN
                       : (after_day + 1) * CS_SECONDS_PER_DAY;
    int64_t to = (through_day + 1) * CS_SECONDS_PER_DAY;
    for (size_t k = h->offset[i]; k < h->offset[i + 1]; k++) {
        if (h->ts[k] >= to)
            break;
        if (h->ts[k] >= from && h->revenue[k] > 0)
            return true;
    }
    return false;
}

/* The k-th smallest of v[0..n-1] (0-based), reordering v: Hoare's
 * selection with the median of three as pivot, O(n) on average. */
static double cs_select(double *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        double a = v[lo], b = v[mid], c = v[hi];
        double pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                double t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return v[k];
    }
    return v[k];
}

int cs_churn_median_gap(const cs_history *h, int64_t ref_day, double *out)
{
    *out = 0;
    double *gap = cs_mallocarray(h->n_customers ? h->n_customers : 1, sizeof *gap);
    if (!gap)
        return CUSTSCORE_ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < h->n_customers; i++) {
        cs_churn_behaviour bh;
        cs_churn_behaviour_of(h, i, ref_day, 1, 0, &bh);
        if (bh.occasions >= 2) {
            /* usual gap with prior 0 is span / k; the mean gap is span / (k - 1) */
            gap[m++] = bh.usual_gap_days * bh.occasions / (bh.occasions - 1);
        }
    }
    if (m > 0) {
        double upper = cs_select(gap, m, m / 2);
        if (m % 2) {
            *out = upper;
        } else {
            /* The lower middle is the largest value below the upper one,
             * all of which sit in gap[0 .. m/2 - 1] after the selection. */
            double lower = gap[0];
            for (size_t k = 1; k < m / 2; k++)
                lower = fmax(lower, gap[k]);
            *out = (lower + upper) / 2;
        }
    }
    cs_free(gap);
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */
/* Store ids -> history positions */

static int cs_churn_id_pos_cmp(const void *pa, const void *pb)
{
    const cs_churn_id_pos *a = pa, *b = pb;
    return (a->id > b->id) - (a->id < b->id);
}

int cs_churn_index_build(const cs_history *h, cs_churn_index *ix)
{
    ix->n = h->n_customers;
    ix->entry = cs_mallocarray(ix->n ? ix->n : 1, sizeof *ix->entry);
    if (!ix->entry)
        return CUSTSCORE_ENOMEM;
    cs_churn_id_pos *e = ix->entry;
    bool sorted = true;
    for (size_t i = 0; i < ix->n; i++) {
        e[i].id = h->customer_id[i];
        e[i].pos = i;
        sorted = sorted && (i == 0 || e[i - 1].id < e[i].id);
    }
    if (!sorted)
        qsort(e, ix->n, sizeof *e, cs_churn_id_pos_cmp);
    return CUSTSCORE_OK;
}

ptrdiff_t cs_churn_index_find(const cs_churn_index *ix, int64_t id)
{
    const cs_churn_id_pos *e = ix->entry;
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ix->n && e[lo].id == id ? (ptrdiff_t)e[lo].pos : -1;
}

void cs_churn_index_free(cs_churn_index *ix)
{
    cs_free(ix->entry);
    memset(ix, 0, sizeof *ix);
}

/* ---------------------------------------------------------------------- */
/* Complaints */

int cs_churn_complaints_load(custscore *db, const cs_history *h, const cs_churn_index *ix,
                             cs_churn_complaints *out)
{
    memset(out, 0, sizeof *out);
    size_t n = h->n_customers;
    out->offset = cs_calloc(n + 1, sizeof *out->offset);
    if (!out->offset)
        return cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory loading complaints");
    sqlite3_stmt *st = NULL;
    int rc = cs_prepare(db,
                        "SELECT customer, ts, coalesce(resolved_ts, 0) FROM complaint"
                        " ORDER BY customer, ts",
                        &st);
    if (rc)
        return rc;
    size_t cap = 0, count = 0;
    size_t *pos = NULL;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        ptrdiff_t p = cs_churn_index_find(ix, sqlite3_column_int64(st, 0));
        if (p < 0)
            continue;
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            int64_t *ts = cs_reallocarray(out->ts, ncap, sizeof *ts);
            if (ts)
                out->ts = ts;
            int64_t *res = ts ? cs_reallocarray(out->resolved, ncap, sizeof *res) : NULL;
            if (res)
                out->resolved = res;
            size_t *np = res ? cs_reallocarray(pos, ncap, sizeof *np) : NULL;
            if (np)
                pos = np;
            if (!np) {
                rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory loading complaints");
                break;
            }
            cap = ncap;
        }
        out->ts[count] = sqlite3_column_int64(st, 1);
        out->resolved[count] = sqlite3_column_int64(st, 2);
        pos[count] = (size_t)p;
        out->offset[p + 1]++;
        count++;
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = cs_sqlite_error(db, src, "churn: loading complaints");
    sqlite3_finalize(st);
    if (rc == 0 && count > 0) {
        /* Group by history position (the query orders by store id). */
        for (size_t i = 0; i < n; i++)
            out->offset[i + 1] += out->offset[i];
        int64_t *ts = cs_mallocarray(count, sizeof *ts);
        int64_t *res = cs_mallocarray(count, sizeof *res);
        size_t *next = cs_mallocarray(n + 1, sizeof *next);
        if (!ts || !res || !next) {
            rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory loading complaints");
        } else {
            memcpy(next, out->offset, (n + 1) * sizeof *next);
            for (size_t k = 0; k < count; k++) {
                size_t slot = next[pos[k]]++;
                ts[slot] = out->ts[k];
                res[slot] = out->resolved[k];
            }
            cs_free(out->ts);
            cs_free(out->resolved);
            out->ts = ts;
            out->resolved = res;
            ts = res = NULL;
        }
        cs_free(ts);
        cs_free(res);
        cs_free(next);
    }
    cs_free(pos);
    out->count = count;
    if (rc)
        cs_churn_complaints_free(out);
    return rc;
}

void cs_churn_complaint_counts(const cs_churn_complaints *c, size_t i, int64_t ref_day,
                               double recent_days, double *recent, double *unresolved)
{
    *recent = 0;
    *unresolved = 0;
    if (!c->offset)
        return;
    int64_t limit = (ref_day + 1) * CS_SECONDS_PER_DAY;
    double from = (double)limit - recent_days * CS_SECONDS_PER_DAY;
    for (size_t k = c->offset[i]; k < c->offset[i + 1]; k++) {
        if (c->ts[k] >= limit)
            break;
        if ((double)c->ts[k] >= from)
            (*recent)++;
        if (c->resolved[k] == 0 || c->resolved[k] >= limit)
            (*unresolved)++;
    }
}

void cs_churn_complaints_free(cs_churn_complaints *c)
{
    cs_free(c->offset);
    cs_free(c->ts);
    cs_free(c->resolved);
    memset(c, 0, sizeof *c);
}

/* ---------------------------------------------------------------------- */
/* Attributes */

/* Blank text (spaces, tabs) counts as missing: ERP exports write " " or ""
 * for unknown values. */
static bool cs_blank(const char *s, size_t len)
{
    for (size_t k = 0; k < len; k++)
        if (s[k] != ' ' && s[k] != '\t' && s[k] != '\r' && s[k] != '\n')
            return false;
    return true;
}

int cs_churn_attribute_load(custscore *db, const cs_history *h, const cs_churn_index *ix,
                            const char *name, cs_churn_attribute *out)
{
    memset(out, 0, sizeof *out);
    cs_strmap_init(&out->levels);
    size_t n = h->n_customers;
    out->number = cs_mallocarray(n ? n : 1, sizeof *out->number);
    out->level = cs_mallocarray(n ? n : 1, sizeof *out->level);
    if (!out->number || !out->level) {
        cs_churn_attribute_free(out);
        return cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory loading attribute %s", name);
    }
    for (size_t i = 0; i < n; i++) {
        out->number[i] = NAN;
        out->level[i] = -1;
    }
    sqlite3_stmt *st = NULL;
    int rc = cs_prepare(db, "SELECT customer, value FROM attribute WHERE name = ?1", &st);
    if (rc) {
        cs_churn_attribute_free(out);
        return rc;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int src;
    char buf[64];
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        ptrdiff_t p = cs_churn_index_find(ix, sqlite3_column_int64(st, 0));
        if (p < 0)
            continue;
        int type = sqlite3_column_type(st, 1);
        if (type == SQLITE_NULL)
            continue;
        if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
            out->number[p] = sqlite3_column_double(st, 1);
            out->n_numbers++;
            continue;
        }
        const char *text = (const char *)sqlite3_column_text(st, 1);
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        if (!text || cs_blank(text, len))
            continue;
        double v;
        const char *why;
        if (cs_parse_double(text, len, &v, &why) == 0) {
            out->number[p] = v;
            out->n_numbers++;
            continue;
        }
        bool inserted;
        ptrdiff_t lv = cs_strmap_put(&out->levels, text, len, &inserted);
        if (lv < 0 || lv > INT32_MAX) {
            rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory loading attribute %s", name);
            break;
        }
        out->level[p] = (int32_t)lv;
        out->n_texts++;
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = cs_sqlite_error(db, src, "churn: loading an attribute");
    sqlite3_finalize(st);
    /* Mixed numbers and words: the attribute is categorical, and its numbers
     * become levels written as %.15g ('.' whatever the host's locale: the
     * levels are saved with the model and matched when scoring). */
    if (rc == 0 && out->n_texts > 0 && out->n_numbers > 0) {
        for (size_t i = 0; i < n && rc == 0; i++) {
            if (isnan(out->number[i]))
                continue;
            int len = cs_snprintf_c(buf, sizeof buf, "%.15g", out->number[i]);
            bool inserted;
            ptrdiff_t lv = len < 0 ? -1 : cs_strmap_put(&out->levels, buf, (size_t)len, &inserted);
            if (lv < 0 || lv > INT32_MAX)
                rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory loading attribute %s",
                              name);
            else
                out->level[i] = (int32_t)lv;
            out->number[i] = NAN;
        }
        out->n_texts += out->n_numbers;
        out->n_numbers = 0;
    }
    out->categorical = out->n_texts > 0;
    if (rc)
        cs_churn_attribute_free(out);
    return rc;
}

void cs_churn_attribute_free(cs_churn_attribute *a)
{
    cs_free(a->number);
    cs_free(a->level);
    cs_strmap_free(&a->levels);
    memset(a, 0, sizeof *a);
}

/* ---------------------------------------------------------------------- */
/* Feature context: everything needed to fill a customer's feature row at a
 * reference day. */

int cs_churn_ctx_open(custscore *db, const cs_history *h, int64_t ref_day, cs_churn_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->db = db;
    ctx->h = h;
    ctx->ref_day = ref_day;
    /* Complaints are looked up by store id, so the id index is built only
     * when there are any (it may cost a sort at millions of customers). */
    sqlite3_stmt *st = NULL;
    int rc = cs_prepare(db, "SELECT EXISTS (SELECT 1 FROM complaint)", &st);
    if (rc)
        return rc;
    int src = sqlite3_step(st);
    bool any = src == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
    if (src != SQLITE_ROW)
        rc = cs_sqlite_error(db, src, "churn: looking for complaints");
    sqlite3_finalize(st);
    if (rc || !any)
        return rc;
    rc = cs_churn_ctx_index(ctx);
    if (rc == 0)
        rc = cs_churn_complaints_load(db, h, &ctx->ix, &ctx->complaints);
    return rc;
}

int cs_churn_ctx_index(cs_churn_ctx *ctx)
{
    if (ctx->ix.entry)
        return CUSTSCORE_OK;
    if (cs_churn_index_build(ctx->h, &ctx->ix))
        return cs_error(ctx->db, CUSTSCORE_ENOMEM, "churn: out of memory indexing customers");
    return CUSTSCORE_OK;
}

void cs_churn_ctx_close(cs_churn_ctx *ctx)
{
    for (size_t a = 0; a < ctx->n_attrs; a++) {
        cs_free(ctx->attr[a].name);
        cs_free(ctx->attr[a].level_col);
        cs_churn_attribute_free(&ctx->attr[a].values);
    }
    cs_free(ctx->attr);
    cs_free(ctx->p_alive);
    cs_free(ctx->satisfaction);
    cs_churn_complaints_free(&ctx->complaints);
    cs_churn_index_free(&ctx->ix);
    memset(ctx, 0, sizeof *ctx);
}

ptrdiff_t cs_churn_ctx_find_attribute(const cs_churn_ctx *ctx, const char *name)
{
    for (size_t a = 0; a < ctx->n_attrs; a++)
        if (strcmp(ctx->attr[a].name, name) == 0)
            return (ptrdiff_t)a;
    return -1;
}

int cs_churn_ctx_add_attribute(cs_churn_ctx *ctx, const char *name)
{
    if (cs_churn_ctx_find_attribute(ctx, name) >= 0)
        return CUSTSCORE_OK;
    cs_churn_attr_cols *grown = cs_reallocarray(ctx->attr, ctx->n_attrs + 1, sizeof *grown);
    if (!grown)
        return cs_error(ctx->db, CUSTSCORE_ENOMEM, "churn: out of memory");
    ctx->attr = grown;
    cs_churn_attr_cols *a = &ctx->attr[ctx->n_attrs];
    memset(a, 0, sizeof *a);
    a->name = cs_strdup(name);
    if (!a->name)
        return cs_error(ctx->db, CUSTSCORE_ENOMEM, "churn: out of memory");
    int rc = cs_churn_ctx_index(ctx);
    if (rc == 0)
        rc = cs_churn_attribute_load(ctx->db, ctx->h, &ctx->ix, name, &a->values);
    if (rc) {
        cs_free(a->name);
        return rc;
    }
    a->numeric_col = a->missing_col = a->other_col = -1;
    ctx->n_attrs++;
    return CUSTSCORE_OK;
}

int cs_churn_ctx_bind(cs_churn_ctx *ctx, const cs_churn_model *m)
{
    for (size_t j = 0; j < m->n_cols; j++) {
        const cs_churn_col *c = &m->col[j];
        if (c->kind == CS_CHURN_COL_BUILTIN)
            continue;
        int rc = cs_churn_ctx_add_attribute(ctx, c->attribute);
        if (rc)
            return rc;
    }
    for (size_t a = 0; a < ctx->n_attrs; a++) {
        cs_churn_attr_cols *ac = &ctx->attr[a];
        size_t n_levels = ac->values.levels.count;
        cs_free(ac->level_col);
        ac->level_col = cs_mallocarray(n_levels + 1, sizeof *ac->level_col);
        if (!ac->level_col)
            return cs_error(ctx->db, CUSTSCORE_ENOMEM, "churn: out of memory");
        ac->numeric_col = ac->missing_col = ac->other_col = ac->missing_level_col = -1;
        for (size_t j = 0; j < m->n_cols; j++) {
            const cs_churn_col *c = &m->col[j];
            if (c->kind == CS_CHURN_COL_BUILTIN || strcmp(c->attribute, ac->name) != 0)
                continue;
            if (c->kind == CS_CHURN_COL_NUMERIC)
                ac->numeric_col = (ptrdiff_t)j;
            else if (c->kind == CS_CHURN_COL_MISSING)
                ac->missing_col = (ptrdiff_t)j;
            else if (c->kind == CS_CHURN_COL_OTHER)
                ac->other_col = (ptrdiff_t)j;
        }
        /* Levels without a column of their own (rare at training, or
         * unseen) go to "(other)" when the model has it, else to no column
         * at all (all indicators 0). */
        for (size_t l = 0; l <= n_levels; l++)
            ac->level_col[l] = ac->other_col;
        for (size_t j = 0; j < m->n_cols; j++) {
            const cs_churn_col *c = &m->col[j];
            if (c->kind != CS_CHURN_COL_LEVEL || strcmp(c->attribute, ac->name) != 0)
                continue;
            if (strcmp(c->level, CS_CHURN_MISSING_LEVEL) == 0) {
                ac->missing_level_col = (ptrdiff_t)j;
                continue;
            }
            ptrdiff_t l = cs_strmap_find(&ac->values.levels, c->level, strlen(c->level));
            if (l >= 0)
                ac->level_col[l] = (ptrdiff_t)j;
        }
        if (ac->missing_level_col < 0)
            ac->missing_level_col = ac->other_col;
    }
    return CUSTSCORE_OK;
}

void cs_churn_row(const cs_churn_model *m, const cs_churn_ctx *ctx, size_t i, double *row,
                  cs_churn_behaviour *bh)
{
    bool need_behaviour = m->behaviour;
    if (need_behaviour)
        cs_churn_behaviour_of(ctx->h, i, ctx->ref_day, m->lookback_days, m->prior_gap_days, bh);
    else
        memset(bh, 0, sizeof *bh);
    double recent = 0, unresolved = 0;
    cs_churn_complaint_counts(&ctx->complaints, i, ctx->ref_day, m->complaint_days, &recent,
                              &unresolved);
    bool bought = bh->occasions > 0;
    for (size_t j = 0; j < m->n_cols; j++) {
        const cs_churn_col *c = &m->col[j];
        double v = 0;
        if (c->kind == CS_CHURN_COL_BUILTIN) {
            switch (c->builtin) {
            case CS_CHURN_RECENCY_RATIO:
                v = bought ? log1p(bh->recency_days / fmax(bh->usual_gap_days, 1.0)) : NAN;
                break;
            case CS_CHURN_RECENCY_DAYS:
                v = bought ? log1p(bh->recency_days) : NAN;
                break;
            case CS_CHURN_FREQUENCY:
                v = bought ? log(bh->occasions) : NAN;
                break;
            case CS_CHURN_MONETARY:
                v = bought ? log1p(bh->mean_spend) : NAN;
                break;
            case CS_CHURN_FREQUENCY_TREND: {
                double s = bh->freq_recent + bh->freq_earlier;
                v = !bought ? NAN : s > 0 ? (bh->freq_recent - bh->freq_earlier) / s : 0;
                break;
            }
            case CS_CHURN_SPEND_TREND: {
                double s = bh->spend_recent + bh->spend_earlier;
                v = !bought ? NAN : s > 0 ? (bh->spend_recent - bh->spend_earlier) / s : 0;
                break;
            }
            case CS_CHURN_TENURE:
                v = bought ? log1p(bh->tenure_days) : NAN;
                break;
            case CS_CHURN_P_ALIVE:
                v = ctx->p_alive ? ctx->p_alive[i] : NAN;
                break;
            case CS_CHURN_SATISFACTION:
                v = ctx->satisfaction ? ctx->satisfaction[i] : NAN;
                break;
            case CS_CHURN_SATISFACTION_MISSING:
                v = !ctx->satisfaction || isnan(ctx->satisfaction[i]);
                break;
            case CS_CHURN_COMPLAINTS_RECENT:
                v = recent;
                break;
            case CS_CHURN_COMPLAINTS_UNRESOLVED:
                v = unresolved;
                break;
            default:
                v = NAN;
            }
        }
        row[j] = v;
    }
    /* Attribute columns: zero the indicators, then set each attribute's. */
    for (size_t a = 0; a < ctx->n_attrs; a++) {
        const cs_churn_attr_cols *ac = &ctx->attr[a];
        if (ac->numeric_col >= 0 || ac->missing_col >= 0) {
            double v = ac->values.number[i];
            if (ac->numeric_col >= 0)
                row[ac->numeric_col] = v; /* NaN when missing: imputed by the caller */
            if (ac->missing_col >= 0)
                row[ac->missing_col] = isnan(v);
            continue;
        }
        if (!ac->level_col)
            continue;
        int32_t level = ac->values.level[i];
        ptrdiff_t col = level >= 0 ? ac->level_col[level] : ac->missing_level_col;
        if (col >= 0)
            row[col] = 1;
    }
}

int cs_churn_ctx_p_alive(cs_churn_ctx *ctx, const char *btyd_model, char **used)
{
    custscore *db = ctx->db;
    *used = NULL;
    cs_free(ctx->p_alive);
    ctx->p_alive = NULL;
    custscore_fit_info stored;
    int rc = custscore_model_load(db, btyd_model, &stored);
    if (rc == CUSTSCORE_ENOMODEL && !btyd_model) {
        cs_clear_error(db); /* no BTYD model: the feature is simply left out */
        return CUSTSCORE_OK;
    }
    if (rc)
        return rc;
    if (stored.model == CUSTSCORE_MODEL_GG)
        return cs_error(db, CUSTSCORE_EINVAL,
                        "churn: btyd_model %s is a spend model (Gamma-Gamma), not a purchase model",
                        stored.name);
    size_t n = ctx->h->n_customers;
    double unit_days = custscore_unit_days(stored.unit);
    double *x = cs_mallocarray(n ? n : 1, sizeof *x);
    double *t_x = cs_mallocarray(n ? n : 1, sizeof *t_x);
    double *T = cs_mallocarray(n ? n : 1, sizeof *T);
    double *p = cs_mallocarray(n ? n : 1, sizeof *p);
    size_t *pos = cs_mallocarray(n ? n : 1, sizeof *pos);
    ctx->p_alive = cs_mallocarray(n ? n : 1, sizeof *ctx->p_alive);
    *used = cs_strdup(stored.name);
    if (!x || !t_x || !T || !p || !pos || !ctx->p_alive || !*used) {
        rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory computing P(alive)");
        goto done;
    }
    size_t m = 0;
    int64_t ref = ctx->ref_day * CS_SECONDS_PER_DAY;
    for (size_t i = 0; i < n; i++) {
        custscore_summary su;
        cs_summary_of(ctx->h, i, ref, unit_days, &su);
        ctx->p_alive[i] = NAN;
        if (su.first == 0)
            continue;
        x[m] = (double)su.x;
        t_x[m] = su.t_x;
        T[m] = su.T;
        pos[m++] = i;
    }
    /* Refit on the data up to the reference day (the stored model may have
     * seen later data), with the stored model's kind and unit. */
    custscore_fit_options fo = CUSTSCORE_FIT_OPTIONS_INIT;
    fo.model = stored.model;
    fo.unit = stored.unit;
    custscore_fit_info fit;
    char err[256];
    if (m == 0 || custscore_btyd_fit(&fo, m, x, t_x, T, NULL, &fit, err, sizeof err) != 0 ||
        custscore_btyd_p_alive(&fit.btyd, m, x, t_x, T, p) != 0) {
        /* Not enough data at this reference day for a BTYD fit: no feature. */
        cs_free(ctx->p_alive);
        ctx->p_alive = NULL;
        goto done;
    }
    for (size_t k = 0; k < m; k++)
        ctx->p_alive[pos[k]] = p[k];
done:
    if (rc) {
        cs_free(ctx->p_alive);
        ctx->p_alive = NULL;
        cs_free(*used);
        *used = NULL;
    }
    cs_free(x);
    cs_free(t_x);
    cs_free(T);
    cs_free(p);
    cs_free(pos);
    return rc;
}

int cs_churn_ctx_satisfaction(cs_churn_ctx *ctx, const char *survey_model, char **used)
{
    custscore *db = ctx->db;
    *used = NULL;
    cs_free(ctx->satisfaction);
    ctx->satisfaction = NULL;
    char *name = NULL;
    int rc = CUSTSCORE_OK;
    if (survey_model) {
        name = cs_strdup(survey_model);
        if (!name)
            return cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory");
    } else {
        /* The latest stored survey model ("survey:NAME" rows of the model
         * table); none stored: no satisfaction feature. */
        sqlite3_stmt *st = NULL;
        rc = cs_prepare(db,
                        "SELECT substr(name, 8) FROM model WHERE substr(name, 1, 7) = 'survey:'"
                        " ORDER BY fitted_at DESC, id DESC LIMIT 1",
                        &st);
        if (rc)
            return rc;
        int src = sqlite3_step(st);
        if (src == SQLITE_ROW) {
            name = cs_strdup((const char *)sqlite3_column_text(st, 0));
            if (!name)
                rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory");
        } else if (src != SQLITE_DONE) {
            rc = cs_sqlite_error(db, src, "churn: looking for a survey model");
        }
        sqlite3_finalize(st);
        if (rc || !name)
            return rc;
    }
    custscore_survey_model *model = NULL;
    cs_csi_score *scores = NULL;
    size_t n_scores = 0;
    rc = custscore_survey_model_load(db, name, &model);
    if (rc == 0)
        rc = cs_csi_customer_scores(db, model, NULL, ctx->ref_day * CS_SECONDS_PER_DAY, &scores,
                                    &n_scores);
    if (rc == 0)
        rc = cs_churn_ctx_index(ctx);
    size_t n = ctx->h->n_customers;
    if (rc == 0) {
        ctx->satisfaction = cs_mallocarray(n ? n : 1, sizeof *ctx->satisfaction);
        if (!ctx->satisfaction)
            rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory");
    }
    if (rc == 0) {
        for (size_t i = 0; i < n; i++)
            ctx->satisfaction[i] = NAN;
        for (size_t k = 0; k < n_scores; k++) {
            ptrdiff_t i = cs_churn_index_find(&ctx->ix, scores[k].customer_id);
            if (i >= 0)
                ctx->satisfaction[i] = scores[k].satisfaction;
        }
        *used = name;
        name = NULL;
    }
    cs_free(scores);
    custscore_survey_model_free(model);
    cs_free(name);
    return rc;
}
