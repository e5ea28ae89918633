/*
 * report_reads.c: the HTML report, part 1e: the reads that do not depend
 * on the customer scores, alongside the one that gives them.
 *
 * The report of a large store is mostly reading: the pass over the orders
 * (cohorts, revenue and cost, the buyers' purchase occasions), the
 * snapshot of the date and, for the changes, the snapshot before it. The
 * first and the last do not depend on the scores, so when the store is a
 * file they are read by a thread of their own on a connection of their
 * own (a second handle, read-only) while the report's handle reads the
 * snapshot of the date: on two cores the report takes about as long as
 * the longer of the two instead of their sum. Each result is computed
 * exactly as it would be on the report's handle, and used only after both
 * are done, so the report is the same document either way.
 *
 * They are read one after the other on the report's handle instead (at
 * once, in cs_report_reads_start()) when there is no second connection to
 * be had: an in-memory store, a batch open on the handle (its changes are
 * not committed, so another connection would not see them), or a second
 * handle or thread that cannot be created. The orders pass also runs on the
 * report's handle when that handle holds the order history already (right
 * after scoring, src/summary.c): it then reads no order at all.
 */
#include "report.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct cs_report_reads {
    custscore *worker; /* the second handle; NULL: read on the report's handle */
    pthread_t thread;
    bool running, finished;
    bool quiet;       /* freed after another error: keep the handle's message */
    bool orders_done; /* the orders pass ran on the report's handle already */
    int64_t as_of;
    bool read_prev;
    int64_t prev_as_of;
    /* Results. */
    int rc;
    cs_order_totals totals;
    custscore_retention *retention;
    bool has_prev;
    cs_snap_prev prev;
};

/* Both reads on handle @db (the orders pass unless done already). */
static int cs_reads_run(custscore *db, cs_report_reads *x)
{
    int rc = x->orders_done ? CUSTSCORE_OK
                            : cs_retention_scan(db, x->as_of, NULL, &x->totals, &x->retention);
    if (rc == 0 && x->read_prev) {
        rc = cs_snap_prev_read(db, x->prev_as_of, &x->prev);
        x->has_prev = rc == 0;
    }
    return rc;
}

static void *cs_reads_thread(void *arg)
{
    cs_report_reads *x = arg;
    x->rc = cs_reads_run(x->worker, x);
    return NULL;
}

/* A second, read-only handle on the report's store file, or NULL. */
static custscore *cs_reads_handle(custscore *db)
{
    if (db->in_memory || !sqlite3_get_autocommit(db->sql))
        return NULL;
    const char *path = sqlite3_db_filename(db->sql, "main");
    if (!path || !*path)
        return NULL;
    custscore *w = NULL;
    if (custscore_open(path, CUSTSCORE_OPEN_READONLY, &w) != CUSTSCORE_OK) {
        custscore_close(w);
        return NULL;
    }
    /* Scans only: the handle's large page cache would only cost the memory
     * (and the page faults) of filling it once. */
    if (sqlite3_exec(w->sql, "PRAGMA cache_size = -2048", NULL, NULL, NULL) != SQLITE_OK) {
        custscore_close(w);
        return NULL;
    }
    return w;
}

int cs_report_reads_start(cs_report *r, bool read_prev, int64_t prev_as_of, cs_report_reads **out)
{
    custscore *db = r->db;
    *out = NULL;
    cs_report_reads *x = cs_calloc(1, sizeof *x);
    if (!x)
        return cs_error(db, CUSTSCORE_ENOMEM, "report: out of memory");
    x->as_of = r->as_of;
    x->read_prev = read_prev;
    x->prev_as_of = prev_as_of;
    x->totals.window_days = r->totals.window_days;
    x->totals.list_buyers = r->totals.list_buyers;
    *out = x;
    /* The report's handle holds the order history already (a report right
     * after scoring): the orders pass costs next to nothing there, and a
     * second handle would read every order again. */
    if (cs_history_cached(db, r->as_of)) {
        x->rc = cs_retention_scan(db, x->as_of, NULL, &x->totals, &x->retention);
        x->orders_done = true;
        if (x->rc || !read_prev)
            return CUSTSCORE_OK;
    }
    x->worker = cs_reads_handle(db);
    if (x->worker) {
        if (pthread_create(&x->thread, NULL, cs_reads_thread, x) == 0) {
            x->running = true;
            return CUSTSCORE_OK;
        }
        custscore_close(x->worker);
        x->worker = NULL;
    }
    /* One after the other, now; cs_report_reads_finish() hands them over. */
    x->rc = cs_reads_run(db, x);
    return CUSTSCORE_OK;
}

/* Wait for the thread and take its results over. */
static int cs_reads_join(cs_report *r, cs_report_reads *x)
{
    if (x->running) {
        pthread_join(x->thread, NULL);
        x->running = false;
    }
    if (x->worker) {
        /* The second handle's message, on the report's handle. */
        if (x->rc && !x->quiet)
            cs_error(r->db, x->rc, "%s", custscore_errmsg(x->worker));
        custscore_close(x->worker);
        x->worker = NULL;
    }
    if (x->rc) {
        custscore_retention_free(x->retention);
        x->retention = NULL;
        cs_free(x->totals.buyer_id);
        cs_free(x->totals.buyer_occasions);
        x->totals.buyer_id = NULL;
        x->totals.buyer_occasions = NULL;
        return x->rc;
    }
    r->totals = x->totals;
    r->retention = x->retention;
    x->retention = NULL;
    return CUSTSCORE_OK;
}

int cs_report_reads_finish(cs_report *r, cs_report_reads *x, const cs_snap_prev **prev)
{
    if (prev)
        *prev = NULL;
    if (!x->finished) {
        x->finished = true;
        x->rc = cs_reads_join(r, x);
    }
    if (prev && x->rc == 0 && x->has_prev)
        *prev = &x->prev;
    return x->rc;
}

void cs_report_reads_free(cs_report *r, cs_report_reads *x)
{
    if (!x)
        return;
    x->quiet = true;
    cs_report_reads_finish(r, x, NULL);
    cs_snap_prev_free(&x->prev);
    cs_free(x);
}
