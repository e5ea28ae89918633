/*
 * value.c: the customer value of every customer in one pass over the order
 * history: RFM scores and segment (rfm.c, segments.c), profit contribution,
 * whale curve and tier (tiers.c), lifecycle stage (lifecycle.c); bulk API
 * over plain arrays, over the store, and the CSV writer of `custscore value`.
 *
 * One walk over each customer's orders (ascending by time) gathers
 * everything per customer: orders, purchase occasions (UTC days with an
 * order of positive revenue, same-day orders merged: the summary's
 * definition, cs_is_purchase()), first/last occasion, total revenue, revenue and cost in the
 * profit window, and the rhythm counts of the lifecycle rules. Scores and
 * ranks that need the whole population follow: three binnings (RFM), one
 * descending sort of profit (rank, share, tiers, whale curve).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------------- */
/* Options */

static int cs_value_check(const custscore_value_options *o, int64_t as_of,
                          cs_lifecycle_params *lifecycle, int64_t *window_days, char *err,
                          size_t err_size)
{
    if (o->version != CUSTSCORE_VALUE_OPTIONS_VERSION)
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "value options: unsupported version %u (expected %u)", o->version,
                             CUSTSCORE_VALUE_OPTIONS_VERSION);
    int rc = cs_rfm_check(&o->rfm, err, err_size);
    if (rc == CUSTSCORE_OK)
        rc = cs_tier_check(&o->tiers, err, err_size);
    if (rc == CUSTSCORE_OK)
        rc = cs_lifecycle_params_init(&o->lifecycle, as_of, lifecycle, err, err_size);
    if (rc != CUSTSCORE_OK)
        return rc;
    if (!(o->profit_window >= 0.0 && isfinite(o->profit_window)))
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "value options: profit_window %g: need >= 0 (0: whole history)",
                             o->profit_window);
    if (o->zero != CUSTSCORE_ZERO_REVENUE_ADJUSTMENT && o->zero != CUSTSCORE_ZERO_REVENUE_PURCHASE)
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                             "value options: zero %d: not a custscore_zero_revenue", (int)o->zero);
    *window_days = 0;
    if (o->profit_window > 0.0) {
        double unit_days = custscore_unit_days(o->profit_window_unit);
        if (unit_days <= 0.0)
            return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                                 "value options: profit_window_unit %d: not a custscore_unit",
                                 (int)o->profit_window_unit);
        double days = o->profit_window * unit_days;
        if (days < 0.5 || days > 1e6)
            return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                                 "value options: profit window of %g days: need 1..1e6", days);
        *window_days = llround(days);
    }
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */
/* The one pass */

typedef struct cs_value_pass {
    int64_t as_of_day;
    int64_t window_days; /* 0: whole history */
    const cs_lifecycle_params *lifecycle;
    const custscore_rfm_options *rfm;
    bool zero_is_purchase;
} cs_value_pass;

/* Walk customer @i's orders; fill the per-customer fields of @out and the
 * RFM inputs (NaN when the customer has no purchase occasion). */
static int cs_value_customer(const custscore_order_arrays *in, size_t i, const cs_value_pass *v,
                             custscore_value *out, double *recency, double *frequency,
                             double *monetary, char *err, size_t err_size)
{
    size_t begin = in->offset[i], end = in->offset[i + 1];
    int64_t orders = 0;
    double revenue_all = 0.0, revenue = 0.0, cost = 0.0;
    cs_rhythm rhythm = {0, 0, 0, 0, 0};
    for (size_t j = begin; j < end; j++) {
        if (j > begin && in->ts[j] < in->ts[j - 1])
            return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                                 "orders of customer %zu (%s): order %zu is earlier than the one "
                                 "before: orders must be ascending by time",
                                 i + 1, in->customer ? in->customer[i] : "", j + 1);
        double order_cost = in->cost ? in->cost[j] : 0.0;
        if (!isfinite(in->revenue[j]) || !isfinite(order_cost))
            return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                                 "orders of customer %zu (%s): order %zu: revenue or cost is "
                                 "not finite",
                                 i + 1, in->customer ? in->customer[i] : "", j + 1);
        int64_t day = cs_day_of(in->ts[j]);
        if (day > v->as_of_day)
            break; /* ascending: the rest is later too */
        orders++;
        revenue_all += in->revenue[j];
        if (v->window_days == 0 || v->as_of_day - day < v->window_days) {
            revenue += in->revenue[j];
            cost += order_cost;
        }
        if (cs_is_purchase(in->revenue[j], v->zero_is_purchase) &&
            (rhythm.occasions == 0 || day != rhythm.last_day))
            cs_rhythm_add(&rhythm, v->lifecycle, day);
    }
    memset(out, 0, sizeof *out);
    out->customer = in->customer ? in->customer[i] : NULL;
    out->orders = orders;
    out->revenue = revenue;
    out->cost = cost;
    out->profit = revenue - cost;
    out->frequency = v->rfm->frequency == CUSTSCORE_FREQUENCY_ORDERS ? orders : rhythm.occasions;
    out->monetary = revenue_all;
    if (v->rfm->monetary == CUSTSCORE_MONETARY_MEAN)
        out->monetary = out->frequency > 0 ? revenue_all / (double)out->frequency : 0.0;
    out->lifecycle = cs_lifecycle_classify(&rhythm, v->lifecycle);
    out->segment_index = -1;
    if (rhythm.occasions > 0) {
        out->recency_days = v->as_of_day - rhythm.last_day;
        out->first = rhythm.first_day * CS_SECONDS_PER_DAY;
        out->last = rhythm.last_day * CS_SECONDS_PER_DAY;
        recency[i] = (double)out->recency_days;
        frequency[i] = (double)out->frequency;
        monetary[i] = out->monetary;
    } else {
        out->recency_days = -1;
        recency[i] = frequency[i] = monetary[i] = NAN;
    }
    return CUSTSCORE_OK;
}

static int cs_value_inputs_check(const custscore_order_arrays *in, custscore_value *out, char *err,
                                 size_t err_size)
{
    size_t n = in->n_customers;
    if (n == 0)
        return CUSTSCORE_OK;
    if (!in->offset || !out)
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL, "value: NULL offset or output");
    if (in->offset[0] != 0)
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL, "value: offset[0] is not 0");
    for (size_t i = 0; i < n; i++)
        if (in->offset[i + 1] < in->offset[i])
            return cs_value_errf(err, err_size, CUSTSCORE_EINVAL,
                                 "value: offset[%zu] < offset[%zu]: offsets must not decrease",
                                 i + 1, i);
    if (in->offset[n] > 0 && (!in->ts || !in->revenue))
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL, "value: NULL ts or revenue");
    return CUSTSCORE_OK;
}

/* Rank, share, tier and whale summary from one descending sort of profit. */
static int cs_value_profit(custscore_value *out, size_t n, const custscore_tier_options *tiers,
                           double *profit, size_t *order, int *tier, custscore_whale_summary *whale)
{
    double total = 0.0;
    for (size_t i = 0; i < n; i++) {
        profit[i] = out[i].profit;
        total += profit[i];
    }
    int rc = cs_order_by_double(profit, n, true, order);
    if (rc != CUSTSCORE_OK)
        return rc;
    cs_tiers_from_order(profit, order, n, tiers, tier);
    for (size_t j = 0; j < n; j++) {
        custscore_value *row = &out[order[j]];
        row->profit_rank = (int64_t)j + 1;
        row->profit_share = total > 0.0 ? row->profit / total : NAN;
    }
    for (size_t i = 0; i < n; i++) {
        out[i].tier = tier[i];
        out[i].tier_name = custscore_tier_name(tiers, tier[i]);
    }
    if (whale) {
        /* profit[] is free now: reuse it for the sorted profits */
        for (size_t j = 0; j < n; j++)
            profit[j] = out[order[j]].profit;
        cs_whale_summary_sorted(profit, n, whale);
    }
    return CUSTSCORE_OK;
}

static int cs_value_core(const custscore_order_arrays *in, int64_t as_of,
                         const custscore_value_options *options, custscore_value *out,
                         custscore_whale_summary *whale, char *err, size_t err_size)
{
    custscore_value_options defaults = CUSTSCORE_VALUE_OPTIONS_INIT;
    const custscore_value_options *o = options ? options : &defaults;
    if (err && err_size)
        err[0] = '\0';
    if (!in)
        return cs_value_errf(err, err_size, CUSTSCORE_EINVAL, "value: NULL orders");
    cs_lifecycle_params lifecycle;
    cs_value_pass pass;
    int rc = cs_value_check(o, as_of, &lifecycle, &pass.window_days, err, err_size);
    if (rc == CUSTSCORE_OK)
        rc = cs_value_inputs_check(in, out, err, err_size);
    if (rc != CUSTSCORE_OK)
        return rc;
    pass.as_of_day = cs_day_of(as_of);
    pass.lifecycle = &lifecycle;
    pass.rfm = &o->rfm;
    pass.zero_is_purchase = o->zero == CUSTSCORE_ZERO_REVENUE_PURCHASE;
    size_t n = in->n_customers;
    double *values = cs_mallocarray(n, 3 * sizeof *values);
    int *scores = cs_mallocarray(n, 4 * sizeof *scores);
    size_t *order = cs_mallocarray(n, sizeof *order);
    if (!values || !scores || !order) {
        rc = cs_value_errf(err, err_size, CUSTSCORE_ENOMEM, "value: out of memory");
        goto done;
    }
    double *recency = values, *frequency = values + n, *monetary = values + 2 * n;
    for (size_t i = 0; i < n && rc == CUSTSCORE_OK; i++)
        rc = cs_value_customer(in, i, &pass, &out[i], recency, frequency, monetary, err, err_size);
    if (rc != CUSTSCORE_OK)
        goto done;
    int *r = scores, *f = scores + n, *m = scores + 2 * n, *segment = scores + 3 * n;
    rc = cs_rfm_score_masked(recency, frequency, monetary, n, &o->rfm, r, f, m, segment, err,
                             err_size);
    if (rc != CUSTSCORE_OK)
        goto done;
    size_t n_rules = o->rfm.n_segments;
    const custscore_segment_rule *rules =
        o->rfm.segments ? o->rfm.segments : custscore_segments_default(&n_rules);
    for (size_t i = 0; i < n; i++) {
        custscore_value *row = &out[i];
        row->r = r[i];
        row->f = f[i];
        row->m = m[i];
        row->rfm_score = 100 * r[i] + 10 * f[i] + m[i];
        row->segment_index = segment[i];
        row->segment = segment[i] >= 0 ? rules[segment[i]].name : CUSTSCORE_SEGMENT_OTHERS;
    }
    rc = cs_value_profit(out, n, &o->tiers, values, order, scores, whale);
    if (rc != CUSTSCORE_OK)
        rc = cs_value_errf(err, err_size, rc, "value: out of memory");
done:
    cs_free(values);
    cs_free(scores);
    cs_free(order);
    return rc;
}

int custscore_value_compute(const custscore_order_arrays *orders, int64_t as_of,
                            const custscore_value_options *options, custscore_value *out,
                            custscore_whale_summary *whale, char *errbuf, size_t errbuf_size)
{
    return cs_value_core(orders, as_of, options, out, whale, errbuf, errbuf_size);
}

int cs_value_compute(const cs_history *h, int64_t as_of, const custscore_value_options *o,
                     custscore_value *out, char *err, size_t err_size)
{
    custscore_order_arrays in;
    in.n_customers = h->n_customers;
    in.customer = h->key;
    in.offset = h->offset;
    in.ts = h->ts;
    in.revenue = h->revenue;
    in.cost = h->any_cost ? h->cost : NULL;
    return cs_value_core(&in, as_of, o, out, NULL, err, err_size);
}

/* ---------------------------------------------------------------------- */
/* Over the store */

/* Load the history and compute every customer's row. On success the caller
 * frees *rows and the history. */
static int cs_value_rows(custscore *db, const char *what, int64_t as_of,
                         const custscore_value_options *options, cs_history *h,
                         custscore_value **rows)
{
    custscore_value_options defaults = CUSTSCORE_VALUE_OPTIONS_INIT;
    const custscore_value_options *o = options ? options : &defaults;
    char err[CS_ERRMSG_SIZE - 64];
    cs_lifecycle_params lifecycle;
    int64_t window_days;
    int rc = cs_value_check(o, as_of, &lifecycle, &window_days, err, sizeof err);
    if (rc != CUSTSCORE_OK)
        return cs_error(db, rc, "%s: %s", what, err);
    memset(h, 0, sizeof *h);
    rc = cs_history_load(db, as_of, h);
    if (rc != CUSTSCORE_OK)
        return rc;
    *rows = cs_mallocarray(h->n_customers, sizeof **rows);
    if (!*rows) {
        cs_history_free(h);
        return cs_error(db, CUSTSCORE_ENOMEM, "%s: out of memory for %zu customers", what,
                        h->n_customers);
    }
    rc = cs_value_compute(h, as_of, o, *rows, err, sizeof err);
    if (rc != CUSTSCORE_OK) {
        cs_free(*rows);
        *rows = NULL;
        cs_history_free(h);
        return cs_error(db, rc, "%s: %s", what, err);
    }
    return CUSTSCORE_OK;
}

int custscore_value_each(custscore *db, int64_t as_of, const custscore_value_options *options,
                         custscore_value_fn fn, void *payload)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!fn)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_value_each: NULL callback");
    cs_history h;
    custscore_value *rows = NULL;
    int rc = cs_value_rows(db, "custscore_value_each", as_of, options, &h, &rows);
    if (rc != CUSTSCORE_OK)
        return rc;
    for (size_t i = 0; i < h.n_customers && rc == 0; i++)
        rc = fn(&rows[i], payload);
    cs_free(rows);
    cs_history_free(&h);
    return rc;
}

int custscore_value_whale(custscore *db, int64_t as_of, const custscore_value_options *options,
                          size_t n_points, double *customer_share, double *profit_share,
                          custscore_whale_summary *summary)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (n_points == 1 || (n_points > 1 && (!customer_share || !profit_share)))
        return cs_error(db, CUSTSCORE_EINVAL,
                        "custscore_value_whale: n_points %zu: need 0, or >= 2 with both arrays",
                        n_points);
    cs_history h;
    custscore_value *rows = NULL;
    int rc = cs_value_rows(db, "custscore_value_whale", as_of, options, &h, &rows);
    if (rc != CUSTSCORE_OK)
        return rc;
    double *profit = cs_mallocarray(h.n_customers, sizeof *profit);
    if (profit) {
        for (size_t i = 0; i < h.n_customers; i++)
            profit[i] = rows[i].profit;
        rc = custscore_whale_curve(profit, h.n_customers, n_points, customer_share, profit_share,
                                   summary);
        if (rc != CUSTSCORE_OK)
            rc = cs_error(db, rc, "custscore_value_whale: %s", custscore_errstr(rc));
    } else {
        rc = cs_error(db, CUSTSCORE_ENOMEM, "custscore_value_whale: out of memory");
    }
    cs_free(profit);
    cs_free(rows);
    cs_history_free(&h);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* CSV */

static void cs_put_text(FILE *f, const char *s)
{
    if (!s)
        return;
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* A number with up to 15 significant digits and '.' whatever the host's
 * locale (a decimal comma would split the field); NaN is an empty field. */
static void cs_put_number(FILE *f, double v)
{
    fputc(',', f);
    if (isnan(v))
        return;
    if (v == 0.0)
        v = 0.0; /* no "-0" */
    char buf[40];
    if (cs_snprintf_c(buf, sizeof buf, "%.15g", v) > 0)
        fputs(buf, f);
    else /* no C locale (out of memory): the host's rather than nothing */
        fprintf(f, "%.15g", v);
}

static void cs_put_row(FILE *f, const custscore_value *v)
{
    cs_put_text(f, v->customer);
    fputc(',', f);
    if (v->recency_days >= 0)
        fprintf(f, "%lld", (long long)v->recency_days);
    fprintf(f, ",%lld", (long long)v->frequency);
    cs_put_number(f, v->monetary);
    fprintf(f, ",%d,%d,%d,%d,", v->r, v->f, v->m, v->rfm_score);
    cs_put_text(f, v->segment);
    cs_put_number(f, v->revenue);
    cs_put_number(f, v->cost);
    cs_put_number(f, v->profit);
    cs_put_number(f, v->profit_share);
    fputc(',', f);
    cs_put_text(f, v->tier_name);
    fputc(',', f);
    fputs(custscore_lifecycle_name(v->lifecycle), f);
    fputc('\n', f);
}

#define CS_VALUE_CSV_HEADER                                                                        \
    "customer,recency_days,frequency,monetary,r,f,m,rfm_score,segment,revenue,cost,profit,"        \
    "profit_share,tier,lifecycle\n"

int custscore_value_write_csv(custscore *db, int64_t as_of, const custscore_value_options *options,
                              const char *path)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!path || !path[0])
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_value_write_csv: no output path");
    cs_history h;
    custscore_value *rows = NULL;
    int rc = cs_value_rows(db, "custscore_value_write_csv", as_of, options, &h, &rows);
    if (rc != CUSTSCORE_OK)
        return rc;
    bool to_stdout = strcmp(path, "-") == 0;
    char *tmp = NULL;
    FILE *f = NULL;
    if (to_stdout) {
        f = stdout;
    } else {
        /* A temporary name next to the target (same file system, so the
         * rename is atomic); open() rather than mkstemp() so the file gets
         * the usual 0666 & ~umask permissions. */
        size_t size = strlen(path) + 32;
        tmp = cs_malloc(size);
        if (!tmp) {
            rc = cs_error(db, CUSTSCORE_ENOMEM, "custscore_value_write_csv: out of memory");
            goto done;
        }
        snprintf(tmp, size, "%s.%ld.tmp", path, (long)getpid());
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd < 0 || !(f = fdopen(fd, "w"))) {
            int e = errno;
            if (fd >= 0) {
                close(fd);
                unlink(tmp);
            }
            rc = cs_error(db, CUSTSCORE_EIO, "%s: cannot create %s: %s", path, tmp, strerror(e));
            goto done;
        }
    }
    fputs(CS_VALUE_CSV_HEADER, f);
    for (size_t i = 0; i < h.n_customers; i++)
        cs_put_row(f, &rows[i]);
    int failed = fflush(f) != 0 || ferror(f);
    int e = errno;
    if (!to_stdout) {
        failed |= fclose(f) != 0;
        if (!failed && rename(tmp, path) != 0) {
            failed = 1;
            e = errno;
        }
        if (failed)
            unlink(tmp);
    }
    if (failed)
        rc = cs_error(db, CUSTSCORE_EIO, "%s: write failed: %s", path, strerror(e));
done:
    cs_free(tmp);
    cs_free(rows);
    cs_history_free(&h);
    return rc;
}
