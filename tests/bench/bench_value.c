/*
 * bench_value: customer value (RFM + segments + profit + tiers + lifecycle +
 * whale summary) for many customers.
 *
 * usage: bench_value [N_CUSTOMERS [N_STORE_CUSTOMERS]]   (default 1,000,000 and 100,000)
 *
 * Generates a deterministic order history of N customers (1..25 orders over
 * three years, some returns, costs) as the arrays the store's history loader
 * produces, and times custscore_value_compute() on it: the one pass over the
 * history and all population-wide scores (target: <= 1 s for 1,000,000
 * customers). Also times the parts alone through the pure functions
 * (custscore_rfm_score, custscore_tiers_assign) and, for N_STORE customers
 * put in an in-memory store, custscore_value_each() including the history
 * load from SQLite.
 */
#include "custscore.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY 86400

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long peak_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

/* Deterministic generator (splitmix64). */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s)
{
    return (double)(next_rand(s) >> 11) * (1.0 / 9007199254740992.0);
}

typedef struct history {
    size_t n_customers, n_orders;
    char **key;
    size_t *offset;
    int64_t *ts;
    double *revenue, *cost;
} history;

/* Customers active from a random day over three years, buying at their own
 * rate; 5% of orders are returns. */
static int generate(history *h, size_t n, int64_t as_of_day, uint64_t seed)
{
    memset(h, 0, sizeof *h);
    h->n_customers = n;
    h->key = malloc(n * sizeof *h->key);
    h->offset = malloc((n + 1) * sizeof *h->offset);
    size_t cap = n * 6 + 16;
    h->ts = malloc(cap * sizeof *h->ts);
    h->revenue = malloc(cap * sizeof *h->revenue);
    h->cost = malloc(cap * sizeof *h->cost);
    if (!h->key || !h->offset || !h->ts || !h->revenue || !h->cost)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char buf[24];
        snprintf(buf, sizeof buf, "C%09zu", i);
        h->key[i] = strdup(buf);
        if (!h->key[i])
            return -1;
        h->offset[i] = k;
        int orders = 1 + (int)(next_rand(&seed) % 25 * uniform(&seed) * uniform(&seed) * 2);
        double mean_gap = 5 + 200 * uniform(&seed);
        int64_t day = as_of_day - 3 * 365 + (int64_t)(uniform(&seed) * 3 * 365);
        for (int j = 0; j < orders && day <= as_of_day; j++) {
            if (k == cap) {
                cap *= 2;
                h->ts = realloc(h->ts, cap * sizeof *h->ts);
                h->revenue = realloc(h->revenue, cap * sizeof *h->revenue);
                h->cost = realloc(h->cost, cap * sizeof *h->cost);
                if (!h->ts || !h->revenue || !h->cost)
                    return -1;
            }
            h->ts[k] = day * DAY + (int64_t)(next_rand(&seed) % DAY);
            double amount = 10 + 190 * uniform(&seed);
            bool is_return = uniform(&seed) < 0.05;
            h->revenue[k] = is_return ? -amount / 2 : amount;
            h->cost[k] = is_return ? 0 : amount * (0.5 + 0.6 * uniform(&seed));
            k++;
            day += 1 + (int64_t)(-mean_gap * log(1.0 - uniform(&seed)));
        }
    }
    h->offset[n] = k;
    h->n_orders = k;
    return 0;
}

static void history_free(history *h)
{
    for (size_t i = 0; i < h->n_customers; i++)
        free(h->key[i]);
    free(h->key);
    free(h->offset);
    free(h->ts);
    free(h->revenue);
    free(h->cost);
}

static int count_rows(const custscore_value *v, void *payload)
{
    (void)v;
    (*(size_t *)payload)++;
    return 0;
}

static int bench_store(const history *h, size_t n, int64_t as_of)
{
    custscore *db = NULL;
    if (custscore_open(NULL, 0, &db) != 0 || custscore_begin(db) != 0) {
        fprintf(stderr, "bench_value: store: %s\n", custscore_errmsg(db));
        custscore_close(db);
        return 1;
    }
    double t0 = now();
    size_t orders = 0;
    for (size_t i = 0; i < n && i < h->n_customers; i++)
        for (size_t j = h->offset[i]; j < h->offset[i + 1]; j++) {
            custscore_order o = {h->key[i], NULL, h->ts[j], h->revenue[j], h->cost[j], 1};
            if (custscore_add_order(db, &o, NULL) != 0) {
                fprintf(stderr, "bench_value: add: %s\n", custscore_errmsg(db));
                custscore_close(db);
                return 1;
            }
            orders++;
        }
    custscore_commit(db);
    double t1 = now();
    size_t rows = 0;
    int rc = custscore_value_each(db, as_of, NULL, count_rows, &rows);
    double t2 = now();
    if (rc != 0) {
        fprintf(stderr, "bench_value: value_each: %s\n", custscore_errmsg(db));
        custscore_close(db);
        return 1;
    }
    printf("store path: %zu customers, %zu orders (added in %.2f s); custscore_value_each "
           "(history load + value) %.3f s\n",
           rows, orders, t1 - t0, t2 - t1);
    custscore_close(db);
    return 0;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    size_t n_store = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 100000;
    int64_t as_of_day = 15000; /* 2011-01-25 */
    int64_t as_of = as_of_day * DAY;
    history h;
    double t0 = now();
    if (generate(&h, n, as_of_day, 42) != 0) {
        fprintf(stderr, "bench_value: out of memory generating the history\n");
        return 1;
    }
    double t1 = now();
    printf("history: %zu customers, %zu orders (generated in %.2f s)\n", h.n_customers, h.n_orders,
           t1 - t0);

    custscore_order_arrays in = {
        h.n_customers, (const char *const *)h.key, h.offset, h.ts, h.revenue, h.cost};
    custscore_value *rows = malloc(n * sizeof *rows);
    if (!rows) {
        fprintf(stderr, "bench_value: out of memory\n");
        return 1;
    }
    char err[256];
    custscore_whale_summary w;
    const char *label[2] = {"value cut points", "rank cut points"};
    double best = 0, best_cpu = 0;
    for (int variant = 0; variant < 2; variant++) {
        custscore_value_options o = CUSTSCORE_VALUE_OPTIONS_INIT;
        if (variant == 1)
            o.rfm.ties = CUSTSCORE_TIES_RANK;
        double run_best = INFINITY, cpu_best = INFINITY;
        for (int rep = 0; rep < 3; rep++) {
            double a = now(), ca = cpu_now();
            int rc = custscore_value_compute(&in, as_of, &o, rows, &w, err, sizeof err);
            double b = now(), cb = cpu_now();
            if (rc != 0) {
                fprintf(stderr, "bench_value: %s\n", err);
                return 1;
            }
            if (b - a < run_best)
                run_best = b - a;
            if (cb - ca < cpu_best)
                cpu_best = cb - ca;
        }
        if (variant == 0) {
            best = run_best;
            best_cpu = cpu_best;
        }
        printf("custscore_value_compute (RFM + segments + profit + tiers + lifecycle + whale), "
               "%s: %.3f s wall (%.3f s CPU) = %.0f customers/s (best of 3)\n",
               label[variant], run_best, cpu_best, (double)n / run_best);
    }
    printf("whale: top %.1f%% of customers earn %.1f%% of profit; loss tail %.0f from %.1f%%\n",
           100 * w.peak_customer_share, 100 * w.peak_height, w.loss_tail,
           100 * w.loss_customer_share);

    /* the parts through the pure functions */
    double *rec = malloc(n * sizeof *rec), *fr = malloc(n * sizeof *fr);
    double *mo = malloc(n * sizeof *mo), *profit = malloc(n * sizeof *profit);
    int *r = malloc(n * sizeof *r), *f = malloc(n * sizeof *f), *m = malloc(n * sizeof *m);
    int *seg = malloc(n * sizeof *seg), *tier = malloc(n * sizeof *tier);
    if (!rec || !fr || !mo || !profit || !r || !f || !m || !seg || !tier) {
        fprintf(stderr, "bench_value: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        bool scored = rows[i].recency_days >= 0;
        rec[i] = scored ? (double)rows[i].recency_days : NAN;
        fr[i] = scored ? (double)rows[i].frequency : NAN;
        mo[i] = scored ? rows[i].monetary : NAN;
        profit[i] = rows[i].profit;
    }
    double a = now();
    int rc = custscore_rfm_score(rec, fr, mo, n, NULL, r, f, m, seg);
    double b = now();
    int rc2 = custscore_tiers_assign(profit, n, NULL, tier);
    double c = now();
    if (rc != 0 || rc2 != 0) {
        fprintf(stderr, "bench_value: pure functions failed\n");
        return 1;
    }
    printf("parts: custscore_rfm_score %.3f s, custscore_tiers_assign %.3f s\n", b - a, c - b);
    printf("peak RSS %.0f MiB; load average now: see uptime (wall times on a busy machine "
           "exceed the CPU times)\n",
           (double)peak_rss_kb() / 1024.0);
    printf("target: <= 1 s for 1,000,000 customers: %s (%.3f s wall, %.3f s CPU for %zu)\n",
           n < 1000000 ? "n/a"
                       : (best <= 1.0 ? "met"
                                      : (best_cpu <= 1.0 ? "met in CPU time, wall "
                                                           "time over (busy machine?)"
                                                         : "MISSED")),
           best, best_cpu, n);
    int status = n_store > 0 ? bench_store(&h, n_store, as_of) : 0;
    free(rec);
    free(fr);
    free(mo);
    free(profit);
    free(r);
    free(f);
    free(m);
    free(seg);
    free(tier);
    free(rows);
    history_free(&h);
    return status;
}
