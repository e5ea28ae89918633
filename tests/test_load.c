/*
 * Concurrency under load, short: one writer importing continuously, four
 * reader threads (own handles) and one reader process summarising and
 * scoring the same store (tests/bench/load_run.c; bench_load runs the long
 * version and prints throughput). Only retryable busy errors, no lost or
 * duplicated orders, and every snapshot a reader sees is whole.
 */
#include "bench/load_run.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

START_TEST(test_writer_and_readers)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "load.db");
    load_config cfg = {.path = path,
                       .seconds = tu_under_valgrind() ? 3.0 : 1.5,
                       .reader_threads = 4,
                       .reader_processes = tu_under_valgrind() ? 0 : 1,
                       .batch = 200,
                       .score = 1};
    load_result r;
    ck_assert_int_eq(load_run(&cfg, &r), 0);
    printf("load: %lld imports (%lld orders), reader threads %lld passes (%lld scoring), "
           "processes %lld passes, busy %lld/%lld/%lld in %.1f s\n",
           (long long)r.writer.ops, (long long)r.writer.rows, (long long)r.threads.ops,
           (long long)r.threads.score_passes, (long long)r.processes.ops, (long long)r.writer.busy,
           (long long)r.threads.busy, (long long)r.processes.busy, r.elapsed);
    ck_assert_msg(r.writer.errors + r.threads.errors + r.processes.errors == 0, "%s",
                  r.first_error);
    ck_assert_msg(r.threads.inconsistent + r.processes.inconsistent == 0, "%s", r.first_error);
    ck_assert_msg(r.final_ok, "final store: %lld orders, %lld customers, writer wrote %lld",
                  (long long)r.final_orders, (long long)r.final_customers,
                  (long long)r.writer.rows);
    ck_assert_int_gt(r.writer.ops, 1);
    ck_assert_int_gt(r.threads.ops, 4);
    if (cfg.reader_processes)
        ck_assert_int_gt(r.processes.ops, 0);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *load_suite(void)
{
    Suite *s = suite_create("load");
    TCase *tc = tcase_create("load");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_writer_and_readers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(load_suite());
}
