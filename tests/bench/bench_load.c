/*
 * bench_load: concurrency under load (docs/reliability.md). One writer
 * imports batches continuously while four readers summarise and score the
 * same store in parallel: first as threads (each with its own handle), then
 * as separate processes. Prints throughput and checks that nothing but
 * retryable busy errors occurred, no order was lost or duplicated, and every
 * snapshot a reader saw was whole.
 *
 * usage: bench_load [SECONDS_PER_PHASE [READERS [BATCH]]]   (default 10, 4, 1000)
 * Exit status 1 when a check failed.
 */
#include "load_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void print_side(const char *name, const load_side *s, double elapsed, const char *unit)
{
    printf("  %-17s %8lld %-8s %10.1f/s  rows %10.0f/s  busy %5lld  errors %lld  inconsistent "
           "%lld  max latency %.1f ms\n",
           name, (long long)s->ops, unit, (double)s->ops / elapsed, (double)s->rows / elapsed,
           (long long)s->busy, (long long)s->errors, (long long)s->inconsistent,
           s->max_latency * 1e3);
}

static int phase(const char *title, double seconds, int threads, int processes, int batch)
{
    char dir[] = "/tmp/custscore-load-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char path[256];
    snprintf(path, sizeof path, "%s/load.db", dir);
    load_config cfg = {.path = path,
                       .seconds = seconds,
                       .reader_threads = threads,
                       .reader_processes = processes,
                       .batch = batch,
                       .score = 1};
    load_result r;
    if (load_run(&cfg, &r) != 0) {
        fprintf(stderr, "cannot run the load test in %s\n", dir);
        return 1;
    }
    printf("%s: %.1f s, batches of %d orders\n", title, r.elapsed, batch);
    print_side("writer (imports)", &r.writer, r.elapsed, "imports");
    if (threads)
        print_side("reader threads", &r.threads, r.elapsed, "passes");
    if (processes)
        print_side("reader processes", &r.processes, r.elapsed, "passes");
    printf("  orders imported %.0f/s; final store: %lld orders, %lld customers, revenue %.0f: "
           "%s\n",
           (double)r.writer.rows / r.elapsed, (long long)r.final_orders,
           (long long)r.final_customers, r.final_revenue,
           r.final_ok ? "exactly what was written" : "MISMATCH");
    int64_t errors = r.writer.errors + r.threads.errors + r.processes.errors;
    int64_t bad = r.threads.inconsistent + r.processes.inconsistent;
    if (errors || bad || !r.final_ok)
        printf("  FAILED: %s\n", r.first_error[0] ? r.first_error : "final check");
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return errors || bad || !r.final_ok;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 10.0;
    int readers = argc > 2 ? atoi(argv[2]) : 4;
    int batch = argc > 3 ? atoi(argv[3]) : 1000;
    int failed = 0;
    failed |= phase("1 writer + reader threads", seconds, readers, 0, batch);
    failed |= phase("1 writer + reader processes", seconds, 0, readers, batch);
    printf("%s\n", failed ? "load: FAILED"
                          : "load: held (no errors but retryable busy, no lost or "
                            "duplicated orders, whole snapshots only)");
    return failed;
}
