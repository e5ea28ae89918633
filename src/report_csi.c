/*
 * report_csi.c: the HTML report, part 1d: the satisfaction index.
 *
 * custscore_csi_compute() without grouping and without saving, as the
 * report asks for it, with the answers read differently: one scan of the
 * response table (no join with the customers, no sort in SQL: that join
 * and sort were most of the index's time on a large store), the answers
 * then put in the order of custscore_csi_compute()'s query (customer key,
 * time, response id) in memory with the customers' key order the report
 * has read anyway. The matrix handed to custscore_csi_fit() is the same, row
 * for row, so the index, its bootstrap interval (the resamples draw rows
 * by position) and everything else come out the same (test_report_csi.c
 * compares the two).
 */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One answer to an item of the model. */
typedef struct cs_rc_answer {
    int64_t id; /* response id: the last tie-break of the order */
    int64_t ts;
    double value;
    uint32_t customer; /* index into the respondents */
    uint32_t col;      /* matrix column */
} cs_rc_answer;

/* A respondent: store id, position among all customers in key order, and
 * rank among the respondents. */
typedef struct cs_rc_customer {
    int64_t id;
    size_t key_pos;
    uint32_t rank;
} cs_rc_customer;

typedef struct cs_rc_item {
    const char *name;
    uint32_t col;
} cs_rc_item;

static int cs_rc_item_cmp(const void *a, const void *b)
{
    return strcmp(((const cs_rc_item *)a)->name, ((const cs_rc_item *)b)->name);
}

static int cs_rc_id_cmp(const void *a, const void *b)
{
    int64_t x = ((const cs_rc_customer *)a)->id, y = ((const cs_rc_customer *)b)->id;
    return (x > y) - (x < y);
}

static int cs_rc_key_cmp(const void *a, const void *b)
{
    const cs_rc_customer *const *x = a, *const *y = b;
    return ((*x)->key_pos > (*y)->key_pos) - ((*x)->key_pos < (*y)->key_pos);
}

/* (time, id) within one customer. */
static bool cs_rc_before(const cs_rc_answer *a, const cs_rc_answer *b)
{
    return a->ts < b->ts || (a->ts == b->ts && a->id < b->id);
}

static int cs_rc_answer_cmp(const void *a, const void *b)
{
    const cs_rc_answer *x = a, *y = b;
    return cs_rc_before(x, y) ? -1 : cs_rc_before(y, x) ? 1 : 0;
}

typedef struct cs_rc_load {
    size_t n, cap;
    cs_rc_answer *answers;
    size_t n_customers, customers_cap;
    cs_rc_customer *customers;
    size_t n_ranked; /* respondents found in the store: ranks 0..n_ranked-1 */
} cs_rc_load;

/* No respondent: an answer whose customer is not in the store (only in a
 * store edited with foreign keys off); the join of
 * custscore_csi_compute() drops it, so it is dropped here too. */
#define CS_RC_NO_RANK UINT32_MAX

static void cs_rc_load_free(cs_rc_load *l)
{
    cs_free(l->customers);
    cs_free(l->answers);
}

/* The answers to the @n_cols items @names from @from_ts to @to_ts (0: no
 * bound), in table order. */
static int cs_rc_scan(custscore *db, const char *const *names, size_t n_cols, int64_t from_ts,
                      int64_t to_ts, cs_rc_load *l)
{
    cs_rc_item *items = cs_mallocarray(n_cols ? n_cols : 1, sizeof *items);
    if (!items)
        return cs_error(db, CUSTSCORE_ENOMEM, "loading survey responses: out of memory");
    for (size_t j = 0; j < n_cols; j++)
        items[j] = (cs_rc_item){.name = names[j], .col = (uint32_t)j};
    qsort(items, n_cols, sizeof *items, cs_rc_item_cmp);
    sqlite3_stmt *st = NULL;
    int rc = cs_prepare(db,
                        "SELECT id, customer, ts, item, value FROM response"
                        " WHERE ts >= ?1 AND ts <= ?2",
                        &st);
    if (rc) {
        cs_free(items);
        return rc;
    }
    sqlite3_bind_int64(st, 1, from_ts ? from_ts : INT64_MIN);
    sqlite3_bind_int64(st, 2, to_ts ? to_ts : INT64_MAX);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *item = (const char *)sqlite3_column_text(st, 3);
        if (!item)
            continue;
        cs_rc_item probe = {.name = item};
        const cs_rc_item *it = bsearch(&probe, items, n_cols, sizeof *items, cs_rc_item_cmp);
        if (!it)
            continue;
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 4096;
            cs_rc_answer *p =
                l->n < UINT32_MAX / 2 ? cs_reallocarray(l->answers, cap, sizeof *p) : NULL;
            if (!p) {
                rc = cs_error(db, CUSTSCORE_ENOMEM, "loading survey responses: out of memory");
                break;
            }
            l->answers = p;
            l->cap = cap;
        }
        cs_rc_answer *a = &l->answers[l->n++];
        a->id = sqlite3_column_int64(st, 0);
        a->ts = sqlite3_column_int64(st, 2);
        a->value = sqlite3_column_double(st, 4);
        a->col = it->col;
        /* The customer of each run of answers (the table holds a
         * customer's answers together, mostly): merged by cs_rc_rank(). */
        int64_t customer = sqlite3_column_int64(st, 1);
        if (l->n_customers == 0 || l->customers[l->n_customers - 1].id != customer) {
            if (l->n_customers == l->customers_cap) {
                size_t cap = l->customers_cap ? l->customers_cap * 2 : 256;
                cs_rc_customer *p = l->n_customers < UINT32_MAX / 2
                                        ? cs_reallocarray(l->customers, cap, sizeof *p)
                                        : NULL;
                if (!p) {
                    rc = cs_error(db, CUSTSCORE_ENOMEM, "loading survey responses: out of memory");
                    break;
                }
                l->customers = p;
                l->customers_cap = cap;
            }
            l->customers[l->n_customers++] = (cs_rc_customer){.id = customer};
        }
        a->customer = (uint32_t)(l->n_customers - 1);
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = cs_sqlite_error(db, src, "reading survey responses");
    sqlite3_finalize(st);
    cs_free(items);
    return rc;
}

/* Respondents: one entry per store id, ranked in key order; each answer's
 * customer becomes its respondent's rank. */
static int cs_rc_rank(custscore *db, const cs_key_rank *keys, cs_rc_load *l)
{
    /* The scan noted a customer at each change of customer: sort and merge
     * the runs, remembering where each run went. */
    size_t runs = l->n_customers;
    uint32_t *run_of = cs_mallocarray(runs ? runs : 1, sizeof *run_of);
    if (!run_of)
        return cs_error(db, CUSTSCORE_ENOMEM, "loading survey responses: out of memory");
    /* rank holds the run number until the ranks are known. */
    for (size_t i = 0; i < runs; i++)
        l->customers[i].rank = (uint32_t)i;
    if (runs > 1)
        qsort(l->customers, runs, sizeof *l->customers, cs_rc_id_cmp);
    size_t m = 0;
    for (size_t i = 0; i < runs; i++) {
        if (m == 0 || l->customers[m - 1].id != l->customers[i].id)
            l->customers[m++] = l->customers[i];
        run_of[l->customers[i].rank] = (uint32_t)(m - 1);
    }
    l->n_customers = m;
    for (size_t k = 0; k < l->n; k++)
        l->answers[k].customer = run_of[l->answers[k].customer];
    cs_free(run_of);
    /* Key order: each respondent's position among all customers, made
     * dense; store ids are in ascending order here. */
    size_t n_found = 0;
    for (size_t i = 0; i < m; i++) {
        ptrdiff_t pos = cs_key_rank_find(keys, l->customers[i].id);
        l->customers[i].key_pos = pos >= 0 ? (size_t)pos : SIZE_MAX;
        n_found += pos >= 0;
    }
    cs_rc_customer **by_key = cs_mallocarray(m ? m : 1, sizeof(cs_rc_customer *));
    if (!by_key)
        return cs_error(db, CUSTSCORE_ENOMEM, "loading survey responses: out of memory");
    size_t f = 0;
    for (size_t i = 0; i < m; i++) {
        l->customers[i].rank = CS_RC_NO_RANK;
        if (l->customers[i].key_pos != SIZE_MAX)
            by_key[f++] = &l->customers[i];
    }
    qsort(by_key, n_found, sizeof(cs_rc_customer *), cs_rc_key_cmp);
    for (size_t i = 0; i < n_found; i++)
        by_key[i]->rank = (uint32_t)i;
    l->n_ranked = n_found;
    for (size_t k = 0; k < l->n; k++)
        l->answers[k].customer = l->customers[l->answers[k].customer].rank;
    cs_free(by_key);
    return CUSTSCORE_OK;
}

/* The answers by (key, time, id): a counting sort by the respondent's rank
 * (stable), then each respondent's few answers by (time, id). */
static int cs_rc_order(custscore *db, const cs_rc_load *l, cs_rc_answer **out, size_t *n_out)
{
    size_t m = l->n_ranked;
    size_t *start = cs_calloc(m + 1, sizeof *start);
    cs_rc_answer *sorted = cs_mallocarray(l->n ? l->n : 1, sizeof *sorted);
    if (!start || !sorted) {
        cs_free(start);
        cs_free(sorted);
        return cs_error(db, CUSTSCORE_ENOMEM, "loading survey responses: out of memory");
    }
    for (size_t k = 0; k < l->n; k++)
        if (l->answers[k].customer != CS_RC_NO_RANK)
            start[l->answers[k].customer + 1]++;
    for (size_t i = 0; i < m; i++)
        start[i + 1] += start[i];
    size_t n = start[m];
    for (size_t k = 0; k < l->n; k++)
        if (l->answers[k].customer != CS_RC_NO_RANK)
            sorted[start[l->answers[k].customer]++] = l->answers[k];
    /* start[i] is now the end of respondent i's answers. */
    for (size_t i = 0, from = 0; i < m; from = start[i++]) {
        size_t to = start[i];
        bool in_order = true;
        for (size_t k = from + 1; k < to && in_order; k++)
            in_order = cs_rc_before(&sorted[k - 1], &sorted[k]);
        if (!in_order)
            qsort(sorted + from, to - from, sizeof *sorted, cs_rc_answer_cmp);
    }
    cs_free(start);
    *out = sorted;
    *n_out = n;
    return CUSTSCORE_OK;
}

/* The respondent x item matrix of cs_response_matrix_load(): one row per
 * respondent and UTC day, the later answer to an item of that day kept. */
static int cs_rc_matrix(custscore *db, const cs_rc_answer *a, size_t n, size_t n_cols,
                        double **data, size_t *n_rows)
{
    size_t rows = 0;
    for (size_t k = 0; k < n; k++)
        if (k == 0 || a[k].customer != a[k - 1].customer ||
            cs_day_of(a[k].ts) != cs_day_of(a[k - 1].ts))
            rows++;
    double *d = cs_mallocarray(rows ? rows : 1, (n_cols ? n_cols : 1) * sizeof *d);
    if (!d)
        return cs_error(db, CUSTSCORE_ENOMEM, "loading survey responses: out of memory");
    for (size_t i = 0; i < rows * n_cols; i++)
        d[i] = NAN;
    size_t r = 0;
    for (size_t k = 0; k < n; k++) {
        if (k > 0 &&
            (a[k].customer != a[k - 1].customer || cs_day_of(a[k].ts) != cs_day_of(a[k - 1].ts)))
            r++;
        d[r * n_cols + a[k].col] = a[k].value;
    }
    *data = d;
    *n_rows = rows;
    return CUSTSCORE_OK;
}

int cs_report_csi_compute(custscore *db, const cs_key_rank *keys,
                          const custscore_survey_model *model, const custscore_csi_options *options,
                          custscore_csi_result **out)
{
    cs_clear_error(db);
    *out = NULL;
    char err[1024];
    int rc = cs_survey_check(model, err, sizeof err);
    if (rc)
        return cs_error(db, rc, "%s", err);
    /* The columns: the model's items, then the NPS item when not one. */
    const char *nps_item = options->nps_item ? options->nps_item : model->nps_item;
    const char **names = cs_mallocarray(model->n_items + 1, sizeof *names);
    if (!names)
        return cs_error(db, CUSTSCORE_ENOMEM, "csi: out of memory");
    size_t n_cols = model->n_items;
    for (size_t i = 0; i < model->n_items; i++)
        names[i] = model->items[i].name;
    if (nps_item && cs_survey_find_item(model, nps_item) < 0)
        names[n_cols++] = nps_item;
    /* Whole UTC days: from the start of from's day to the end of to's. */
    const int64_t from = options->from, to = options->to;
    int64_t from_ts = from ? cs_day_of(from) * CS_SECONDS_PER_DAY : 0;
    int64_t to_ts = to ? (cs_day_of(to) + 1) * CS_SECONDS_PER_DAY - 1 : 0;
    cs_rc_load l = {0};
    cs_rc_answer *sorted = NULL;
    double *data = NULL;
    size_t n_answers = 0, n_rows = 0;
    rc = cs_rc_scan(db, names, n_cols, from_ts, to_ts, &l);
    if (rc == 0)
        rc = cs_rc_rank(db, keys, &l);
    if (rc == 0)
        rc = cs_rc_order(db, &l, &sorted, &n_answers);
    if (rc == 0)
        rc = cs_rc_matrix(db, sorted, n_answers, n_cols, &data, &n_rows);
    if (rc == 0 && n_rows == 0)
        rc =
            cs_error(db, CUSTSCORE_ENOTFOUND, "csi: no survey responses to the items of model %s%s",
                     model->name, from || to ? " in the period asked" : "");
    /* An item nobody answered is a mapping mistake, not a missing answer. */
    for (size_t j = 0; rc == 0 && j < model->n_items; j++) {
        size_t answers = 0;
        for (size_t r = 0; r < n_rows && answers == 0; r++)
            answers += !isnan(data[r * n_cols + j]);
        if (answers == 0) {
            const cs_survey_item *it = &model->items[j];
            rc = cs_error(db, CUSTSCORE_EINVAL,
                          "csi: item %s (construct %s) is not among the survey responses%s; map "
                          "the items with --items %s=ITEM+ITEM",
                          it->name, model->constructs[it->construct].name,
                          from || to ? " of the period asked" : "",
                          model->constructs[it->construct].name);
        }
    }
    if (rc == 0) {
        rc = custscore_csi_fit(model, data, n_rows, n_cols, names, NULL, options, out, err,
                               sizeof err);
        if (rc)
            cs_error(db, rc, "csi: %s", err);
    }
    cs_free(data);
    cs_free(sorted);
    cs_rc_load_free(&l);
    cs_free(names);
    return rc;
}
