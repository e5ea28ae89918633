/*
 * load_run.c: see load_run.h. Public API only.
 */
#include "load_run.h"

#include "custscore.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LOAD_AS_OF INT64_C(946684800) /* 2000-01-01: after every order */
#define LOAD_BASE_TS 852076800        /* 1997-01-01 */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void pause_ms(int ms)
{
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

static double batch_revenue(int batch)
{
    return 55.0 * (batch / 10);
}

typedef struct shared {
    const load_config *cfg;
    double deadline;
    pthread_mutex_t lock; /* guards first_error */
    char *first_error;
} shared;

static void note_error(shared *sh, const char *who, int rc, const char *msg)
{
    pthread_mutex_lock(&sh->lock);
    if (!sh->first_error[0])
        snprintf(sh->first_error, 512, "%s: %d %s", who, rc, msg);
    pthread_mutex_unlock(&sh->lock);
}

/* ---------------------------------------------------------------------- */
/* Writer */

typedef struct writer_arg {
    shared *sh;
    load_side side;
} writer_arg;

static void *writer_main(void *p)
{
    writer_arg *w = p;
    const load_config *cfg = w->sh->cfg;
    custscore *db = NULL;
    int rc = custscore_open(cfg->path, 0, &db);
    if (rc != 0) {
        note_error(w->sh, "writer open", rc, custscore_errmsg(db));
        w->side.errors++;
        custscore_close(db);
        return NULL;
    }
    size_t cap = 64 + (size_t)cfg->batch * 64;
    char *csv = malloc(cap);
    for (int b = 0; now_s() < w->sh->deadline && csv; b++) {
        size_t len = (size_t)snprintf(csv, cap, "customer,order,ts,revenue\n");
        for (int k = 0; k < cfg->batch; k++)
            len += (size_t)snprintf(
                csv + len, cap - len, "b%d-c%d,o%d-%d,%d,%d\n", b, k % LOAD_BATCH_CUSTOMERS, b, k,
                LOAD_BASE_TS + ((b * cfg->batch + k) % 700) * 86400, k % 10 + 1);
        for (;;) {
            double t0 = now_s();
            rc = custscore_import_csv_buffer(db, CUSTSCORE_KIND_ORDERS, csv, len, "load.csv", NULL,
                                             NULL);
            double dt = now_s() - t0;
            if (dt > w->side.max_latency)
                w->side.max_latency = dt;
            if (rc != CUSTSCORE_EBUSY)
                break;
            w->side.busy++; /* retryable: the same batch again */
            pause_ms(1);
        }
        if (rc != 0) {
            note_error(w->sh, "writer import", rc, custscore_errmsg(db));
            w->side.errors++;
            break;
        }
        w->side.ops++;
        w->side.rows += cfg->batch;
    }
    free(csv);
    custscore_close(db);
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* Readers */

typedef struct snapshot {
    int64_t customers, orders;
    double revenue;
} snapshot;

static int sum_summary(const custscore_summary *s, void *payload)
{
    snapshot *t = payload;
    t->customers++;
    t->orders += s->orders;
    t->revenue += s->revenue;
    return 0;
}

static int sum_score(const custscore_score *s, void *payload)
{
    snapshot *t = payload;
    t->customers++;
    t->orders += s->value.orders;
    return 0;
}

/* A whole number of batches, each whole. */
static bool consistent(const load_config *cfg, const snapshot *s, bool with_revenue)
{
    if (s->customers % LOAD_BATCH_CUSTOMERS != 0)
        return false;
    int64_t batches = s->customers / LOAD_BATCH_CUSTOMERS;
    return s->orders == batches * cfg->batch &&
           (!with_revenue || s->revenue == (double)batches * batch_revenue(cfg->batch));
}

static void reader_loop(shared *sh, int flags, load_side *side)
{
    const load_config *cfg = sh->cfg;
    custscore *db = NULL;
    int rc = custscore_open(cfg->path, flags, &db);
    if (rc != 0) {
        note_error(sh, "reader open", rc, custscore_errmsg(db));
        side->errors++;
        custscore_close(db);
        return;
    }
    int64_t last_orders = 0;
    for (int pass = 0; now_s() < sh->deadline; pass++) {
        snapshot s = {0};
        bool scoring = cfg->score && pass % 4 == 3;
        double t0 = now_s();
        if (scoring) {
            custscore_score_options so = CUSTSCORE_SCORE_OPTIONS_INIT;
            so.no_store = 1;
            rc = custscore_score_all(db, LOAD_AS_OF, &so, sum_score, &s, NULL);
        } else {
            rc = custscore_summary_each(db, LOAD_AS_OF, NULL, sum_summary, &s);
        }
        double dt = now_s() - t0;
        if (dt > side->max_latency)
            side->max_latency = dt;
        if (rc == CUSTSCORE_EBUSY) {
            side->busy++;
            continue;
        }
        if (rc != 0) {
            note_error(sh, scoring ? "reader score" : "reader summary", rc, custscore_errmsg(db));
            side->errors++;
            break;
        }
        side->ops++;
        side->score_passes += scoring;
        side->rows += s.customers;
        /* A snapshot is whole batches, and never older than the last one. */
        if (!consistent(cfg, &s, !scoring) || s.orders < last_orders) {
            char msg[160];
            snprintf(msg, sizeof msg, "customers %lld orders %lld revenue %.1f (before: %lld)",
                     (long long)s.customers, (long long)s.orders, s.revenue,
                     (long long)last_orders);
            note_error(sh, "inconsistent snapshot", 0, msg);
            side->inconsistent++;
        }
        last_orders = s.orders;
    }
    custscore_close(db);
}

typedef struct reader_arg {
    shared *sh;
    load_side side;
} reader_arg;

static void *reader_main(void *p)
{
    reader_arg *r = p;
    reader_loop(r->sh, CUSTSCORE_OPEN_READONLY, &r->side);
    return NULL;
}

static void add_side(load_side *to, const load_side *from)
{
    to->ops += from->ops;
    to->rows += from->rows;
    to->busy += from->busy;
    to->errors += from->errors;
    to->inconsistent += from->inconsistent;
    to->score_passes += from->score_passes;
    if (from->max_latency > to->max_latency)
        to->max_latency = from->max_latency;
}

/* ---------------------------------------------------------------------- */

int load_run(const load_config *cfg, load_result *res)
{
    memset(res, 0, sizeof *res);
    if (cfg->batch <= 0 || cfg->batch % 10 != 0)
        return -1;
    custscore *db = NULL;
    int rc = custscore_open(cfg->path, CUSTSCORE_OPEN_CREATE, &db);
    custscore_close(db);
    if (rc != 0)
        return -1;
    shared sh = {.cfg = cfg, .first_error = res->first_error};
    pthread_mutex_init(&sh.lock, NULL);
    double start = now_s();
    sh.deadline = start + cfg->seconds;

    /* Reader processes first (no threads yet at fork time). */
    int n_proc = cfg->reader_processes;
    pid_t *pids = calloc((size_t)(n_proc > 0 ? n_proc : 1), sizeof *pids);
    int *fds = calloc((size_t)(n_proc > 0 ? n_proc : 1), sizeof *fds);
    for (int i = 0; i < n_proc; i++) {
        int fd[2];
        if (pipe(fd) != 0)
            return -1;
        pids[i] = fork();
        if (pids[i] == 0) {
            close(fd[0]);
            load_side side = {0};
            char err[512] = "";
            shared csh = {.cfg = cfg, .deadline = sh.deadline, .first_error = err};
            pthread_mutex_init(&csh.lock, NULL);
            reader_loop(&csh, 0, &side);
            ssize_t w1 = write(fd[1], &side, sizeof side);
            ssize_t w2 = write(fd[1], err, sizeof err);
            _exit(w1 == (ssize_t)sizeof side && w2 == (ssize_t)sizeof err ? 0 : 1);
        }
        close(fd[1]);
        fds[i] = fd[0];
    }
    writer_arg w = {.sh = &sh};
    pthread_t wt;
    pthread_create(&wt, NULL, writer_main, &w);
    int n_thr = cfg->reader_threads;
    reader_arg *ra = calloc((size_t)(n_thr > 0 ? n_thr : 1), sizeof *ra);
    pthread_t *rt = calloc((size_t)(n_thr > 0 ? n_thr : 1), sizeof *rt);
    for (int i = 0; i < n_thr; i++) {
        ra[i].sh = &sh;
        pthread_create(&rt[i], NULL, reader_main, &ra[i]);
    }
    pthread_join(wt, NULL);
    for (int i = 0; i < n_thr; i++) {
        pthread_join(rt[i], NULL);
        add_side(&res->threads, &ra[i].side);
    }
    for (int i = 0; i < n_proc; i++) {
        load_side side = {0};
        char err[512] = "";
        ssize_t got = read(fds[i], &side, sizeof side);
        ssize_t got2 = read(fds[i], err, sizeof err);
        close(fds[i]);
        int status = 0;
        waitpid(pids[i], &status, 0);
        if (got != (ssize_t)sizeof side || got2 != (ssize_t)sizeof err || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0) {
            side.errors++;
            snprintf(err, sizeof err, "reader process %d failed", i);
        }
        add_side(&res->processes, &side);
        if (!res->first_error[0] && err[0])
            snprintf(res->first_error, sizeof res->first_error, "%s", err);
    }
    res->elapsed = now_s() - start;
    res->writer = w.side;
    free(ra);
    free(rt);
    free(pids);
    free(fds);
    pthread_mutex_destroy(&sh.lock);

    /* What the store holds in the end: exactly what the writer wrote. */
    rc = custscore_open(cfg->path, CUSTSCORE_OPEN_READONLY, &db);
    snapshot s = {0};
    if (rc == 0)
        rc = custscore_summary_each(db, LOAD_AS_OF, NULL, sum_summary, &s);
    custscore_close(db);
    res->final_orders = s.orders;
    res->final_customers = s.customers;
    res->final_revenue = s.revenue;
    res->final_ok = rc == 0 && s.orders == res->writer.rows &&
                    s.customers == res->writer.ops * LOAD_BATCH_CUSTOMERS &&
                    s.revenue == (double)res->writer.ops * batch_revenue(cfg->batch);
    return 0;
}
