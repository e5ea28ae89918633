/*
 * load_run: one writer importing continuously and readers summarising and
 * scoring in parallel on one store file (threads with their own handles, and
 * separate processes), for a bounded time. Used by the benchmark
 * bench_load (figures) and the Check suite 'load' (a short run).
 *
 * Every batch the writer imports adds BATCH_CUSTOMERS new customers and
 * load_config::batch orders with a known revenue, so any consistent snapshot
 * has orders = batches x batch and revenue = batches x batch revenue, with
 * batches = customers / BATCH_CUSTOMERS. A reader that sees anything else
 * saw a part of a transaction.
 */
#ifndef CUSTSCORE_LOAD_RUN_H
#define CUSTSCORE_LOAD_RUN_H

#include <stdint.h>

#define LOAD_BATCH_CUSTOMERS 20

typedef struct load_config {
    const char *path;     /* store file (created) */
    double seconds;       /* how long the readers and the writer run */
    int reader_threads;   /* readers in this process, each with its own handle */
    int reader_processes; /* readers in child processes */
    int batch;            /* orders per import (a multiple of 10) */
    int score;            /* readers also score (custscore_score_all, not saved) */
} load_config;

typedef struct load_side {
    int64_t ops;          /* imports (writer) or passes (readers) */
    int64_t rows;         /* orders imported, or customer rows read */
    int64_t busy;         /* CUSTSCORE_EBUSY results (retried) */
    int64_t errors;       /* any other failure */
    int64_t inconsistent; /* snapshots that were not a whole number of batches */
    int64_t score_passes; /* reader passes that scored */
    double max_latency;   /* slowest single operation, seconds */
} load_side;

typedef struct load_result {
    load_side writer;
    load_side threads;   /* all reader threads together */
    load_side processes; /* all reader processes together */
    double elapsed;      /* seconds */
    int64_t final_orders, final_customers;
    double final_revenue;
    int final_ok; /* the store holds exactly what the writer says it wrote */
    char first_error[512];
} load_result;

/* Run; returns 0 when it could run (see the result for what it found). */
int load_run(const load_config *config, load_result *result);

#endif
