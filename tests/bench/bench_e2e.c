/*
 * bench_e2e: the nightly job end to end on synthetic data.
 *
 * usage: bench_e2e [N_CUSTOMERS [N_ORDERS]]   (default 1,000,000 and 10,000,000)
 *
 * Generates N_ORDERS orders (one CSV line each) of N_CUSTOMERS customers over
 * three years, then times: import (custscore_import_csv), BG/NBD fit,
 * Gamma-Gamma fit, scoring every customer with the snapshot saved
 * (custscore_score_all; CLV without interval draws), and the HTML report.
 * Prints each step, the total of import + fit + score, and peak RSS.
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

static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static int fail(custscore *db, const char *what)
{
    fprintf(stderr, "bench_e2e: %s: %s\n", what, custscore_errmsg(db));
    return 1;
}

int main(int argc, char **argv)
{
    long n_customers = argc > 1 ? atol(argv[1]) : 1000000;
    long n_orders = argc > 2 ? atol(argv[2]) : 10000000;
    char dir[] = "/tmp/custscore-e2e-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char csv[256], store[256], report[256];
    snprintf(csv, sizeof csv, "%s/orders.csv", dir);
    snprintf(store, sizeof store, "%s/store.db", dir);
    snprintf(report, sizeof report, "%s/report.html", dir);
    /* Each customer gets a first purchase in the first year and a personal
     * purchase rate, so the data look like a BTYD population. */
    double t0 = now();
    FILE *f = fopen(csv, "w");
    fputs("order,customer,ts,revenue\n", f);
    uint64_t seed = 7;
    const int64_t start = 1262304000; /* 2010-01-01 */
    const int64_t span = 3 * 365 * 86400;
    for (long i = 0; i < n_orders; i++) {
        long c = (long)(next_rand(&seed) % (uint64_t)n_customers);
        uint64_t h = (uint64_t)c * UINT64_C(0x9E3779B97F4A7C15);
        int64_t first = start + (int64_t)(h % (365 * 86400));
        double u = (double)(next_rand(&seed) >> 11) / 9007199254740992.0;
        int64_t ts = first + (int64_t)(u * u * (double)(start + span - first));
        char date[32];
        custscore_format_time(ts, 1, date, sizeof date);
        /* Spend: a customer-specific mean times noise (Gamma-Gamma needs
         * heterogeneity between customers to be identified). */
        double mean = 10.0 + (double)((h >> 24) % 90);
        double v = (double)(next_rand(&seed) >> 11) / 9007199254740992.0;
        fprintf(f, "O%ld,C%07ld,%s,%.2f\n", i, c, date, mean * (0.5 + v));
    }
    fclose(f);
    double t_gen = now() - t0;
    custscore *db = NULL;
    if (custscore_open(store, CUSTSCORE_OPEN_CREATE, &db))
        return fail(db, "open");
    custscore_import_report rep;
    t0 = now();
    if (custscore_import_csv(db, CUSTSCORE_KIND_ORDERS, csv, NULL, &rep))
        return fail(db, "import");
    double t_import = now() - t0;
    unlink(csv);
    printf("  import          %7.2f s\n", t_import);
    fflush(stdout);
    int64_t as_of = start + span;
    custscore_fit_options fo = CUSTSCORE_FIT_OPTIONS_INIT;
    t0 = now();
    if (custscore_fit(db, as_of, &fo, NULL))
        return fail(db, "fit bgnbd");
    double t_fit = now() - t0;
    fo.model = CUSTSCORE_MODEL_GG;
    t0 = now();
    if (custscore_fit(db, as_of, &fo, NULL))
        return fail(db, "fit gg");
    double t_gg = now() - t0;
    custscore_score_options so = CUSTSCORE_SCORE_OPTIONS_INIT;
    so.clv.interval_level = 0; /* the nightly job's default in docs: no draws */
    custscore_score_info info;
    t0 = now();
    if (custscore_score_all(db, as_of, &so, NULL, NULL, &info))
        return fail(db, "score");
    double t_score = now() - t0;
    custscore_report_options ro = CUSTSCORE_REPORT_OPTIONS_INIT;
    t0 = now();
    if (custscore_report_html(db, as_of, &ro, report))
        return fail(db, "report");
    double t_report = now() - t0;
    custscore_close(db);
    printf("bench_e2e: %ld customers, %ld orders (generated in %.1f s)\n", n_customers, n_orders,
           t_gen);
    printf("  import          %7.2f s  (%.0f lines/s)\n", t_import, n_orders / t_import);
    printf("  fit BG/NBD      %7.2f s\n", t_fit);
    printf("  fit Gamma-Gamma %7.2f s\n", t_gg);
    printf("  score + save    %7.2f s  (%lld customers)\n", t_score, (long long)info.customers);
    printf("  import+fit+score%7.2f s  (target <= 30 s)\n", t_import + t_fit + t_gg + t_score);
    printf("  report          %7.2f s  (target <= 2 s)\n", t_report);
    printf("  peak RSS        %7.1f MB (target <= 2048 MB)\n", peak_rss_kb() / 1024.0);
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
