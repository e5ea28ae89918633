/*
 * bench_clv.c: lifetime-value performance figures.
 *
 *   1. BG/NBD fit on the CDNOW summary (2,357 customers; target <= 5 ms);
 *   2. 1,000,000 simulated customers (day resolution, weeks): compression
 *      + BG/NBD fit (target <= 1 s);
 *   3. P(alive) + conditional expectation + CLV of all of them
 *      (target <= 2 s), and the CLV interval (200 draws) separately;
 *   4. peak resident memory (VmHWM; target <= 200 MB).
 *
 * Times are process CPU seconds (BENCH_WALL=1: wall clock).
 * Usage: bench_clv [customers]   (default 1000000)
 */
#include "../btyd_sim.h"
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Process CPU time: the figures stay meaningful on a shared, loaded
 * machine (the library is single-threaded, so CPU time is its run time on
 * an idle core). Set BENCH_WALL=1 for wall-clock time instead. */
static double now(void)
{
    static int wall = -1;
    if (wall < 0)
        wall = getenv("BENCH_WALL") != NULL;
    struct timespec t;
    clock_gettime(wall ? CLOCK_MONOTONIC : CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void bench_cdnow(void)
{
    const char *root = getenv("CUSTSCORE_SHARED_DATA");
    char path[1024];
    snprintf(path, sizeof path,
             "%s/lifetimes-datasets/cdnow_customers_summary_with_transactions.csv",
             root ? root : "../shared/data");
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("cdnow: SKIP (%s not found)\n", path);
        return;
    }
    static double x[4000], tx[4000], T[4000];
    size_t n = 0;
    char line[256];
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return;
    }
    while (n < 4000 && fgets(line, sizeof line, f)) {
        int id;
        double z;
        if (sscanf(line, "%d,%lf,%lf,%lf,%lf", &id, &x[n], &tx[n], &T[n], &z) == 5)
            n++;
    }
    fclose(f);
    enum { RUNS = 41 };
    double ms[RUNS];
    custscore_fit_info info;
    char err[512];
    custscore_fit_options o = CUSTSCORE_FIT_OPTIONS_INIT;
    for (int k = 0; k < RUNS; k++) {
        double t0 = now();
        if (custscore_btyd_fit(&o, n, x, tx, T, NULL, &info, err, sizeof err) != 0) {
            printf("cdnow: fit failed: %s\n", err);
            return;
        }
        ms[k] = (now() - t0) * 1e3;
    }
    qsort(ms, RUNS, sizeof ms[0], cmp_double);
    printf("cdnow: BG/NBD fit, %zu customers (%lld patterns), %d starts, %d evaluations: "
           "median %.2f ms, min %.2f ms (target <= 5 ms)\n",
           n, (long long)info.n_unique, info.starts, info.evaluations, ms[RUNS / 2], ms[0]);
    printf("       r %.4f alpha %.4f a %.4f b %.4f LL %.2f\n", info.param[0], info.param[1],
           info.param[2], info.param[3], info.loglik);
    o.model = CUSTSCORE_MODEL_PNBD;
    double t0 = now();
    if (custscore_btyd_fit(&o, n, x, tx, T, NULL, &info, err, sizeof err) == 0)
        printf("cdnow: Pareto/NBD fit (numerical gradient, 3 starts): %.1f ms\n",
               (now() - t0) * 1e3);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    printf("times: %s\n", getenv("BENCH_WALL") ? "wall clock" : "process CPU time");
    bench_cdnow();

    double *x = malloc(n * sizeof *x), *tx = malloc(n * sizeof *tx), *T = malloc(n * sizeof *T);
    double *z = malloc(n * sizeof *z), *pa = malloc(n * sizeof *pa), *ce = malloc(n * sizeof *ce);
    double *clv = malloc(n * sizeof *clv), *lo = malloc(n * sizeof *lo),
           *hi = malloc(n * sizeof *hi);
    uint32_t *grp = malloc(n * sizeof *grp);
    if (!x || !tx || !T || !z || !pa || !ce || !clv || !lo || !hi || !grp) {
        printf("out of memory\n");
        return 1;
    }
    /* Customers acquired over a year, observed until 78 weeks after the
     * start, whole days (as the store's summary), time unit weeks. */
    sim_rng g;
    sim_seed(&g, 2024);
    double t0 = now();
    sim_btyd(&g, SIM_BGNBD, 0.243, 4.414, 0.793, 2.426, n, 26.0, 78.0, 7.0, x, tx, T);
    sim_gg(&g, 6.25, 3.74, 15.44, n, x, z);
    printf("simulate: %zu customers in %.2f s\n", n, now() - t0);

    /* Compression alone, then the whole fit (which compresses again). */
    cs_btyd_data d;
    char err[512];
    t0 = now();
    if (cs_btyd_data_build(n, x, tx, T, NULL, 0.0, grp, &d, err, sizeof err) != 0) {
        printf("compress: %s\n", err);
        return 1;
    }
    double t_comp = now() - t0;
    printf("compress: %zu customers -> %zu patterns (%zu x, %zu T, %zu t_x values) in %.3f s\n", n,
           d.n, d.n_xv, d.n_Tv, d.n_tv, t_comp);
    cs_btyd_data_free(&d);

    custscore_fit_options o = CUSTSCORE_FIT_OPTIONS_INIT;
    custscore_fit_info bg, gg;
    t0 = now();
    if (custscore_btyd_fit(&o, n, x, tx, T, NULL, &bg, err, sizeof err) != 0) {
        printf("fit: %s\n", err);
        return 1;
    }
    double t_fit = now() - t0;
    printf("fit: compression + BG/NBD fit of %zu customers: %.3f s (target <= 1 s); %d "
           "evaluations, %d/%d starts agree\n",
           n, t_fit, bg.evaluations, bg.starts_agreeing, bg.starts);
    printf("     r %.4f (se %.4f) alpha %.4f (%.4f) a %.4f (%.4f) b %.4f (%.4f); true 0.243 "
           "4.414 0.793 2.426\n",
           bg.param[0], bg.std_error[0], bg.param[1], bg.std_error[1], bg.param[2], bg.std_error[2],
           bg.param[3], bg.std_error[3]);
    t0 = now();
    if (custscore_gg_fit(&o, n, x, z, &gg, err, sizeof err) != 0) {
        printf("gg fit: %s\n", err);
        return 1;
    }
    printf("fit: Gamma-Gamma on %lld repeat buyers: %.3f s; p %.3f q %.3f gamma %.3f (true 6.25 "
           "3.74 15.44)\n",
           (long long)gg.n, now() - t0, gg.param[0], gg.param[1], gg.param[2]);

    /* Scoring everyone. */
    t0 = now();
    custscore_btyd_p_alive(&bg.btyd, n, x, tx, T, pa);
    double t_pa = now() - t0;
    t0 = now();
    custscore_btyd_conditional_expected(&bg.btyd, 52.0, n, x, tx, T, ce);
    double t_ce = now() - t0;
    custscore_clv_options co = CUSTSCORE_CLV_OPTIONS_INIT;
    co.interval_level = 0;
    custscore_clv_info info;
    t0 = now();
    int rc = custscore_clv_arrays(&bg, &gg, &co, n, x, tx, T, z, NULL, NULL, NULL, clv, NULL, NULL,
                                  &info);
    double t_clv = now() - t0;
    if (rc) {
        printf("clv failed: %d\n", rc);
        return 1;
    }
    printf("score: P(alive) %.3f s + E[X(52)|...] %.3f s + CLV (12 months, 10%%) %.3f s = %.3f s "
           "(target <= 2 s); total CLV %.0f\n",
           t_pa, t_ce, t_clv, t_pa + t_ce + t_clv, info.total_clv);
    co.interval_level = 0.9;
    t0 = now();
    rc = custscore_clv_arrays(&bg, &gg, &co, n, x, tx, T, z, NULL, NULL, NULL, clv, lo, hi, &info);
    if (rc == 0)
        printf("score: CLV with its 90%% interval (%d draws): %.2f s\n", info.interval_draws,
               now() - t0);
    long kb = peak_rss_kb();
    printf("memory: peak RSS %.1f MB (target <= 200 MB)\n", kb / 1024.0);
    free(x);
    free(tx);
    free(T);
    free(z);
    free(pa);
    free(ce);
    free(clv);
    free(lo);
    free(hi);
    free(grp);
    return 0;
}
