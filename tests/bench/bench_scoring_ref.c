/*
 * bench_scoring_ref: the C side of bench_python.py.
 *
 * usage: bench_scoring_ref FILE [REPEATS]
 *
 * FILE holds customers as written by bench_python.py: the 8 bytes
 * "CSBENCH1", a little-endian uint64 n, then n doubles each of x, t_x, T and
 * mean spend. The program does the work bench_clv calls "score" on them -
 * BG/NBD and Gamma-Gamma fits, then P(alive), E[X(52) | x, t_x, T] and the
 * 12-month CLV at 10% a year without interval - and prints the best of
 * REPEATS (default 3) process-CPU times of each step, "key value" per line,
 * and the total CLV as a hexadecimal float so the Python side can check it
 * did the same work to the last bit.
 */
#include "custscore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double *read_doubles(FILE *f, size_t n)
{
    double *v = malloc(n ? n * sizeof *v : 1);
    if (v && fread(v, sizeof *v, n, f) != n) {
        free(v);
        return NULL;
    }
    return v;
}

static double best(double a, double b)
{
    return a < b ? a : b;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_scoring_ref FILE [REPEATS]\n");
        return 2;
    }
    int repeats = argc > 2 ? atoi(argv[2]) : 3;
    if (repeats < 1)
        repeats = 1;
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    char magic[8];
    uint64_t n64 = 0;
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "CSBENCH1", 8) != 0 ||
        fread(&n64, sizeof n64, 1, f) != 1) {
        fprintf(stderr, "%s: not a bench_python data file\n", argv[1]);
        fclose(f);
        return 2;
    }
    size_t n = (size_t)n64;
    double *x = read_doubles(f, n), *tx = read_doubles(f, n), *T = read_doubles(f, n);
    double *z = read_doubles(f, n);
    fclose(f);
    double *pa = malloc(n * sizeof *pa), *ce = malloc(n * sizeof *ce);
    double *clv = malloc(n * sizeof *clv);
    if (!x || !tx || !T || !z || !pa || !ce || !clv) {
        fprintf(stderr, "short file or out of memory\n");
        return 2;
    }

    char err[512];
    custscore_fit_options fo = CUSTSCORE_FIT_OPTIONS_INIT;
    custscore_fit_info bg, gg;
    custscore_clv_options co = CUSTSCORE_CLV_OPTIONS_INIT;
    co.interval_level = 0;
    custscore_clv_info info;
    double t_fit = 1e300, t_gg = 1e300, t_pa = 1e300, t_ce = 1e300, t_clv = 1e300;
    for (int r = 0; r < repeats; r++) {
        double t0 = cpu_now();
        if (custscore_btyd_fit(&fo, n, x, tx, T, NULL, &bg, err, sizeof err) != 0) {
            fprintf(stderr, "fit: %s\n", err);
            return 1;
        }
        t_fit = best(t_fit, cpu_now() - t0);
        t0 = cpu_now();
        if (custscore_gg_fit(&fo, n, x, z, &gg, err, sizeof err) != 0) {
            fprintf(stderr, "gg fit: %s\n", err);
            return 1;
        }
        t_gg = best(t_gg, cpu_now() - t0);
        t0 = cpu_now();
        custscore_btyd_p_alive(&bg.btyd, n, x, tx, T, pa);
        t_pa = best(t_pa, cpu_now() - t0);
        t0 = cpu_now();
        custscore_btyd_conditional_expected(&bg.btyd, 52.0, n, x, tx, T, ce);
        t_ce = best(t_ce, cpu_now() - t0);
        t0 = cpu_now();
        if (custscore_clv_arrays(&bg, &gg, &co, n, x, tx, T, z, NULL, NULL, NULL, clv, NULL, NULL,
                                 &info) != 0) {
            fprintf(stderr, "clv failed\n");
            return 1;
        }
        t_clv = best(t_clv, cpu_now() - t0);
    }
    double pa_sum = 0, ce_sum = 0;
    for (size_t i = 0; i < n; i++) {
        pa_sum += pa[i];
        ce_sum += ce[i];
    }
    printf("customers %zu\n", n);
    printf("fit_bgnbd %.6f\n", t_fit);
    printf("fit_gg %.6f\n", t_gg);
    printf("p_alive %.6f\n", t_pa);
    printf("conditional_expected %.6f\n", t_ce);
    printf("clv %.6f\n", t_clv);
    printf("score_total %.6f\n", t_pa + t_ce + t_clv);
    printf("r %a\n", bg.param[0]);
    printf("p_alive_sum %a\n", pa_sum);
    printf("expected_sum %a\n", ce_sum);
    printf("total_clv %a\n", info.total_clv);
    free(x);
    free(tx);
    free(T);
    free(z);
    free(pa);
    free(ce);
    free(clv);
    return 0;
}
