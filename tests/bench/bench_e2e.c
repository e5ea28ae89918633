/*
 * bench_e2e: the nightly job end to end on synthetic data (issue 7 target:
 * import + fit + score <= 30 s for 1,000,000 customers and 10,000,000
 * orders on the 2-core machine, peak memory <= 2 GB; report <= 2 s).
 *
 * usage: bench_e2e [N_CUSTOMERS [N_ORDERS]]      (default 1,000,000 and 10,000,000)
 *        bench_e2e --csv FILE [N_CUSTOMERS [N_ORDERS]]   only write the CSV
 *
 * The data are a BTYD population (Fader, Hardie & Lee 2005): each customer
 * is born at a uniform time in the first of three years, buys at a personal
 * Poisson rate lambda ~ Gamma(r, alpha) and drops out after each repeat
 * purchase with a personal probability p ~ Beta(a, b); spend per order is
 * Gamma(6, nu) with nu ~ Gamma(4, 15), the Gamma-Gamma spend model. alpha
 * is scaled so the expected number of orders is about N_ORDERS (the actual
 * count is printed). The orders are written in time order, one CSV line
 * each, as an ERP export would list them.
 *
 * Then times: import (custscore_import_csv), BG/NBD fit, Gamma-Gamma fit,
 * scoring every customer with the snapshot saved (custscore_score_all; CLV
 * without interval draws, as the nightly job in docs/erp-integration.md),
 * a second day's scoring (so the report has changes to show), and the HTML
 * report. Prints each step (wall and CPU), the total of import + fit +
 * score, and peak RSS.
 */
#include "custscore.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

/* splitmix64 */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform on (0, 1). */
static double unif(uint64_t *s)
{
    return ((double)(next_rand(s) >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(uint64_t *s)
{
    return sqrt(-2.0 * log(unif(s))) * cos(6.283185307179586 * unif(s));
}

/* Gamma(shape, 1) by Marsaglia & Tsang (2000); shape < 1 by boosting. */
static double gamma1(uint64_t *s, double shape)
{
    if (shape < 1.0)
        return gamma1(s, shape + 1.0) * pow(unif(s), 1.0 / shape);
    double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = normal(s), v = 1.0 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = unif(s);
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
}

typedef struct {
    int32_t customer;
    int32_t ts; /* seconds after the start */
    float amount;
} order;

static int by_time(const void *a, const void *b)
{
    const order *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return (x->customer > y->customer) - (x->customer < y->customer);
}

static const int64_t start = 1262304000; /* 2010-01-01 */
static const double week = 7.0 * 86400.0;
#define WEEKS 156.0

/* Write the CSV; returns the number of orders or -1. */
static long generate(const char *path, long n_customers, long n_orders)
{
    /* BG/NBD r 0.9, a 0.8, b 12 give about 10 orders per customer over
     * 104-156 weeks with alpha 8 (calibrated by simulation); alpha scales
     * the purchase rate to the wanted orders per customer. */
    const double r = 0.9, a = 0.8, b = 12.0;
    double alpha = 8.0 * 9.95 / ((double)n_orders / (double)n_customers);
    size_t cap = (size_t)n_orders + (size_t)n_orders / 4 + 1024, n = 0;
    order *o = malloc(cap * sizeof *o);
    if (!o)
        return -1;
    uint64_t seed = 20101;
    for (long c = 0; c < n_customers; c++) {
        double lambda = gamma1(&seed, r) / alpha;
        double ga = gamma1(&seed, a), gb = gamma1(&seed, b);
        double p = ga / (ga + gb);
        double nu = gamma1(&seed, 4.0) / 15.0;
        double t = unif(&seed) * 52.0; /* birth, weeks */
        for (int k = 0;; k++) {
            if (n == cap) {
                cap *= 2;
                order *g = realloc(o, cap * sizeof *g);
                if (!g) {
                    free(o);
                    return -1;
                }
                o = g;
            }
            double amount = gamma1(&seed, 6.0) / nu;
            o[n++] = (order){(int32_t)c, (int32_t)(t * week), (float)amount};
            if (k > 0 && unif(&seed) < p)
                break; /* dropped out after this repeat purchase */
            t += -log(unif(&seed)) / lambda;
            if (t >= WEEKS)
                break;
        }
    }
    qsort(o, n, sizeof *o, by_time);
    FILE *f = fopen(path, "w");
    if (!f) {
        free(o);
        return -1;
    }
    fputs("order,customer,date,revenue\n", f);
    for (size_t i = 0; i < n; i++) {
        char date[32];
        custscore_format_time(start + o[i].ts, 1, date, sizeof date);
        fprintf(f, "SO%zu,C%07d,%s,%.2f\n", i + 1, (int)o[i].customer, date,
                (double)o[i].amount + 0.01);
    }
    int bad = fclose(f) != 0;
    free(o);
    return bad ? -1 : (long)n;
}

static int fail(custscore *db, const char *what)
{
    fprintf(stderr, "bench_e2e: %s: %s\n", what, custscore_errmsg(db));
    return 1;
}

typedef struct {
    double wall, cpu;
} span;

static span begin(void)
{
    return (span){now(), cpu_now()};
}

static span finish(span s, const char *what)
{
    span d = {now() - s.wall, cpu_now() - s.cpu};
    printf("  %-22s %7.2f s wall %7.2f s CPU  (peak RSS %.0f MB)\n", what, d.wall, d.cpu,
           peak_rss_kb() / 1024.0);
    fflush(stdout);
    return d;
}

int main(int argc, char **argv)
{
    const char *csv_only = NULL;
    int arg = 1;
    if (argc > 2 && strcmp(argv[1], "--csv") == 0) {
        csv_only = argv[2];
        arg = 3;
    }
    long n_customers = argc > arg ? atol(argv[arg]) : 1000000;
    long n_orders = argc > arg + 1 ? atol(argv[arg + 1]) : 10000000;
    if (n_customers <= 0 || n_orders < n_customers) {
        fprintf(stderr, "usage: bench_e2e [--csv FILE] [N_CUSTOMERS [N_ORDERS >= N_CUSTOMERS]]\n");
        return 2;
    }
    if (csv_only) {
        long n = generate(csv_only, n_customers, n_orders);
        if (n < 0)
            return 1;
        printf("%s: %ld orders of %ld customers\n", csv_only, n, n_customers);
        return 0;
    }
    char dir[] = "/tmp/custscore-e2e-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char csv[256], store[256], report[256];
    snprintf(csv, sizeof csv, "%s/orders.csv", dir);
    snprintf(store, sizeof store, "%s/store.db", dir);
    snprintf(report, sizeof report, "%s/report.html", dir);
    double t0 = now();
    long n = generate(csv, n_customers, n_orders);
    if (n < 0) {
        fprintf(stderr, "bench_e2e: cannot write %s\n", csv);
        return 1;
    }
    printf("bench_e2e: %ld customers, %ld orders (generated in %.1f s)\n", n_customers, n,
           now() - t0);
    custscore *db = NULL;
    if (custscore_open(store, CUSTSCORE_OPEN_CREATE, &db))
        return fail(db, "open");
    custscore_import_report rep;
    span s = begin();
    if (custscore_import_csv(db, CUSTSCORE_KIND_ORDERS, csv, NULL, &rep))
        return fail(db, "import");
    span d_import = finish(s, "import");
    unlink(csv);
    int64_t as_of = start + (int64_t)(WEEKS * week) - 86400;
    custscore_fit_options fo = CUSTSCORE_FIT_OPTIONS_INIT;
    s = begin();
    if (custscore_fit(db, as_of, &fo, NULL))
        return fail(db, "fit bgnbd");
    span d_fit = finish(s, "fit BG/NBD");
    fo.model = CUSTSCORE_MODEL_GG;
    s = begin();
    if (custscore_fit(db, as_of, &fo, NULL))
        return fail(db, "fit gg");
    span d_gg = finish(s, "fit Gamma-Gamma");
    custscore_score_options so = CUSTSCORE_SCORE_OPTIONS_INIT;
    so.clv.interval_level = 0; /* the nightly job's default in docs: no draws */
    custscore_score_info info;
    s = begin();
    if (custscore_score_all(db, as_of - 7 * 86400, &so, NULL, NULL, &info))
        return fail(db, "score");
    finish(s, "score + save (day 1)");
    s = begin();
    if (custscore_score_all(db, as_of, &so, NULL, NULL, &info))
        return fail(db, "score");
    span d_score = finish(s, "score + save (day 2)");
    custscore_report_options ro = CUSTSCORE_REPORT_OPTIONS_INIT;
    s = begin();
    if (custscore_report_html(db, as_of, &ro, report))
        return fail(db, "report");
    span d_report = finish(s, "report");
    custscore_close(db);
    double total = d_import.wall + d_fit.wall + d_gg.wall + d_score.wall;
    printf("  import                 %7.0f lines/s\n", (double)n / d_import.wall);
    printf("  scored customers       %7lld\n", (long long)info.customers);
    printf("  import+fit+score       %7.2f s  (target <= 30 s: %s)\n", total,
           total <= 30 ? "met" : "NOT met");
    printf("  report                 %7.2f s  (target <= 2 s: %s)\n", d_report.wall,
           d_report.wall <= 2 ? "met" : "NOT met");
    double peak = peak_rss_kb() / 1024.0;
    printf("  peak RSS               %7.1f MB (target <= 2048 MB: %s)\n", peak,
           peak <= 2048 ? "met" : "NOT met");
    char path[300];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "%s%s", store, suffix[k]);
        unlink(path);
    }
    unlink(report);
    rmdir(dir);
    return 0;
}
