/*
 * bench_report: time of custscore_report_html() on a synthetic store with
 * every part present (CLV models, churn model, survey model and answers,
 * two snapshots). Target (issue 7): <= 2 s for the report step of the
 * nightly job.
 *
 * usage: bench_report [N_CUSTOMERS]   (default 100,000; $CUSTSCORE_BENCH_REPORT_CUSTOMERS)
 *
 * Customers buy at their own Poisson rate until they drop out (a BG/NBD-like
 * process, 2022-01-01 .. 2024-06-30, costs 55-75% of revenue); 3% of them
 * answered the ECSI survey with a 0-10 recommendation. As the nightly job
 * (docs/erp-integration.md) does, the store holds the snapshot that
 * `custscore score` saved for the report's date (2024-06-30), and one of an
 * earlier date (2024-03-31). Two cases are timed, wall and CPU:
 *
 *   1. the report as of 2024-06-30: the snapshot of that date is there, so
 *      the report reads the scores from it (the nightly job; the target);
 *   2. the report as of 2024-07-01: no snapshot of that date, so the report
 *      scores every customer itself (same data, same two snapshots for the
 *      changes section).
 *
 * The store is a file in a temporary directory (kept when
 * $CUSTSCORE_BENCH_KEEP is set). $CUSTSCORE_BENCH_REPORT_STORE=PATH uses
 * that store when it exists (built by an earlier run with the same number
 * of customers) and builds it there otherwise, to time report changes
 * without building the store again. Prints the preparation steps, both
 * report times, the file size and the peak memory.
 */
#include "custscore.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
    return ((double)(next_rand(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double normal(uint64_t *s)
{
    return sqrt(-2 * log(uniform(s))) * cos(6.283185307179586 * uniform(s));
}

/* Gamma(shape, 1) by Marsaglia & Tsang (shape < 1 boosted). */
static double gamma_draw(uint64_t *s, double shape)
{
    if (shape < 1)
        return gamma_draw(s, shape + 1) * pow(uniform(s), 1 / shape);
    double d = shape - 1.0 / 3, c = 1 / sqrt(9 * d);
    for (;;) {
        double x = normal(s), v = 1 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = uniform(s);
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
}

static int check(custscore *db, int rc, const char *what)
{
    if (rc) {
        fprintf(stderr, "bench_report: %s: %s\n", what, custscore_errmsg(db));
        exit(1);
    }
    return rc;
}

static const char *const ecsi_items[] = {"IMAG1", "IMAG2", "IMAG3", "IMAG4", "IMAG5", "CUEX1",
                                         "CUEX2", "CUEX3", "PERQ1", "PERQ2", "PERQ3", "PERQ4",
                                         "PERQ5", "PERQ6", "PERQ7", "PERV1", "PERV2", "CUSA1",
                                         "CUSA2", "CUSA3", "CUSCO", "CUSL1", "CUSL2", "CUSL3"};

/* Orders, and survey answers of 3% of the customers. */
static void build(custscore *db, size_t n, int64_t start, int64_t end, int64_t *orders,
                  int64_t *respondents)
{
    uint64_t seed = 42;
    check(db, custscore_begin(db), "begin");
    for (size_t i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "C%07zu", i + 1);
        /* Purchase rate per day ~ Gamma(0.6, 1/60); drop-out after each
         * purchase with p ~ Beta(1, 4). */
        double rate = gamma_draw(&seed, 0.6) / 60.0;
        double ga = gamma_draw(&seed, 1.0), gb = gamma_draw(&seed, 4.0);
        double p_drop = ga / (ga + gb);
        double spend = exp(3.6 + 0.6 * normal(&seed));
        double margin = 0.25 + 0.2 * uniform(&seed);
        int64_t t = start + (int64_t)(uniform(&seed) * (double)(end - start - 30 * DAY));
        for (int k = 0; k < 200 && t <= end; k++) {
            char order_key[32];
            snprintf(order_key, sizeof order_key, "%d", k);
            double revenue = spend * exp(0.3 * normal(&seed));
            custscore_order o = {.customer = key,
                                 .order_key = order_key,
                                 .ts = t,
                                 .revenue = revenue,
                                 .cost = revenue * (1 - margin),
                                 .has_cost = 1};
            check(db, custscore_add_order(db, &o, NULL), "add order");
            (*orders)++;
            if (uniform(&seed) < p_drop)
                break;
            t += (int64_t)(-log(uniform(&seed)) / (rate > 1e-6 ? rate : 1e-6) * DAY) + DAY;
        }
        if (uniform(&seed) < 0.03) {
            /* One latent satisfaction drives all items (1..10) and the
             * recommendation (0..10). */
            double sat = 6.5 + 1.5 * normal(&seed);
            int64_t when = end - (int64_t)(uniform(&seed) * 180) * DAY;
            for (size_t j = 0; j < sizeof ecsi_items / sizeof ecsi_items[0]; j++) {
                double v = round(sat + normal(&seed));
                v = v < 1 ? 1 : v > 10 ? 10 : v;
                check(db, custscore_add_response(db, key, when, ecsi_items[j], v), "answer");
            }
            double rec = round(sat + 0.5 + 1.2 * normal(&seed));
            rec = rec < 0 ? 0 : rec > 10 ? 10 : rec;
            check(db, custscore_add_response(db, key, when, "RECOMMEND", rec), "answer");
            (*respondents)++;
        }
    }
    check(db, custscore_commit(db), "commit");
}

static double file_kb(const char *path)
{
    FILE *f = fopen(path, "rb");
    long size = -1;
    if (f) {
        fseek(f, 0, SEEK_END);
        size = ftell(f);
        fclose(f);
    }
    return (double)size / 1024;
}

/* The report, @runs times: the best wall time and its CPU time. */
static void time_report(custscore *db, int64_t as_of, const char *out, int runs, const char *label,
                        double *best_wall, double *best_cpu)
{
    *best_wall = *best_cpu = INFINITY;
    for (int run = 0; run < runs; run++) {
        double w = now(), c = cpu_now();
        check(db, custscore_report_html(db, as_of, NULL, out), "report");
        w = now() - w;
        c = cpu_now() - c;
        printf("  %s, run %d: %6.2f s wall, %.2f s CPU\n", label, run + 1, w, c);
        if (w < *best_wall) {
            *best_wall = w;
            *best_cpu = c;
        }
    }
}

int main(int argc, char **argv)
{
    size_t n = 100000;
    const char *env = getenv("CUSTSCORE_BENCH_REPORT_CUSTOMERS");
    if (argc > 1)
        n = (size_t)strtoull(argv[1], NULL, 10);
    else if (env && *env)
        n = (size_t)strtoull(env, NULL, 10);
    if (n == 0) {
        fprintf(stderr, "usage: bench_report [N_CUSTOMERS]\n");
        return 1;
    }
    const char *reuse = getenv("CUSTSCORE_BENCH_REPORT_STORE");
    char dir[] = "/tmp/custscore-bench-report-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char db_path[4096], out[128];
    snprintf(db_path, sizeof db_path, "%s", reuse && *reuse ? reuse : "");
    if (!db_path[0])
        snprintf(db_path, sizeof db_path, "%s/store.db", dir);
    snprintf(out, sizeof out, "%s/report.html", dir);
    bool built = access(db_path, F_OK) != 0;
    int64_t start, end, earlier, next_day;
    custscore_parse_time("2022-01-01", NULL, &start);
    custscore_parse_time("2024-06-30", NULL, &end);
    custscore_parse_time("2024-03-31", NULL, &earlier);
    custscore_parse_time("2024-07-01", NULL, &next_day);

    custscore *db = NULL;
    check(db, custscore_open(db_path, CUSTSCORE_OPEN_CREATE, &db), "open");
    printf("bench_report: %zu customers (custscore %s)\n", n, custscore_version());
    if (built) {
        double t0 = now();
        int64_t orders = 0, respondents = 0;
        build(db, n, start, end, &orders, &respondents);
        printf("  store built:           %8.2f s  (%lld orders, %lld survey respondents)\n",
               now() - t0, (long long)orders, (long long)respondents);

        t0 = now();
        custscore_fit_options fo = CUSTSCORE_FIT_OPTIONS_INIT;
        check(db, custscore_fit(db, end, &fo, NULL), "fit bgnbd");
        fo.model = CUSTSCORE_MODEL_GG;
        check(db, custscore_fit(db, end, &fo, NULL), "fit gg");
        custscore_survey_model *model = NULL;
        check(db, custscore_survey_model_template("ecsi", &model), "ecsi");
        check(db, custscore_survey_model_set_nps_item(model, "RECOMMEND"), "nps item");
        check(db, custscore_survey_model_save(db, model), "save survey model");
        custscore_survey_model_free(model);
        custscore_churn_options co = CUSTSCORE_CHURN_OPTIONS_INIT;
        co.window_days = 90;
        check(db, custscore_churn_train(db, end, &co, NULL), "churn train");
        printf("  models (BG/NBD, GG, churn): %5.2f s\n", now() - t0);
        /* The nightly job: score (saving the snapshot of the day), then
         * report. An earlier snapshot gives the changes section its pair. */
        t0 = now();
        check(db, custscore_score_all(db, earlier, NULL, NULL, NULL, NULL), "score earlier");
        double t_score = now();
        check(db, custscore_score_all(db, end, NULL, NULL, NULL, NULL), "score");
        t_score = now() - t_score;
        printf("  two snapshots saved:   %8.2f s  (one score_all with saving: %.2f s)\n",
               now() - t0, t_score);
    } else {
        int64_t customers = 0;
        check(db, custscore_customer_count(db, &customers), "count");
        printf("  store reused: %s (%lld customers)\n", db_path, (long long)customers);
    }
    custscore_report_options defaults = CUSTSCORE_REPORT_OPTIONS_INIT;
    if (defaults.csi_bootstrap < 0)
        printf("  report options: the defaults (CSI bootstrap resamples: automatic)\n");
    else
        printf("  report options: the defaults (CSI bootstrap resamples: %d)\n",
               defaults.csi_bootstrap);

    /* 1. The nightly job: the snapshot of the date is there. Twice: the
     * first run warms the page cache. */
    double snap_wall, snap_cpu;
    time_report(db, end, out, 2, "as of 2024-06-30, its snapshot saved", &snap_wall, &snap_cpu);
    double snap_kb = file_kb(out);
    /* 2. No snapshot of the date: the report scores every customer. */
    double fresh_wall, fresh_cpu;
    time_report(db, next_day, out, 1, "as of 2024-07-01, no snapshot of that date", &fresh_wall,
                &fresh_cpu);
    /* For comparison: the scoring alone, as the report runs it (not saved,
     * no per-customer CLV interval). */
    custscore_score_options so = CUSTSCORE_SCORE_OPTIONS_INIT;
    so.no_store = 1;
    so.clv.interval_level = 0;
    double w = now();
    check(db, custscore_score_all(db, next_day, &so, NULL, NULL, NULL), "score no_store");
    printf("  of which score_all:    %8.2f s  (not saved, no CLV interval)\n", now() - w);
    printf("report: %zu customers: with the snapshot of the date %.2f s (CPU %.2f s), "
           "%.0f kB HTML; target <= 2 s: %s\n",
           n, snap_wall, snap_cpu, snap_kb, snap_wall <= 2.0 ? "met" : "NOT met");
    printf("report: %zu customers: without a snapshot of the date (scoring all) %.2f s "
           "(CPU %.2f s); peak RSS %.0f MB\n",
           n, fresh_wall, fresh_cpu, (double)peak_rss_kb() / 1024);
    custscore_close(db);
    unlink(out);
    if (getenv("CUSTSCORE_BENCH_KEEP") || !built || (reuse && *reuse)) {
        if (built)
            printf("kept: %s\n", db_path);
        rmdir(dir);
        return 0;
    }
    char side[4200];
    unlink(db_path);
    snprintf(side, sizeof side, "%s-wal", db_path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", db_path);
    unlink(side);
    rmdir(dir);
    return 0;
}
