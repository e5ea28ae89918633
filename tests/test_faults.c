/*
 * Fault injection (docs/reliability.md, "Faults"): disk full, allocation
 * failure, a read-only file, a missing directory, a file that is not a
 * database, truncated and corrupted databases, and a store locked by another
 * process. After each fault the call fails with the documented code and a
 * message, and the store holds exactly what it held before.
 *
 * This suite links the internal static library: it reaches the handle's
 * SQLite connection (src/internal.h) to set PRAGMA max_page_count, a limit
 * that belongs to one connection, so the library needs no test-only API.
 * Built with -Dfault_injection=true (`make check` does so in build-faults),
 * it also fails the Nth allocation of the library (cs_fault_reset) for every
 * N over open, import, summary, value, fit and close.
 */
#include "custscore.h"
#include "internal.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------------- */
/* Helpers */

/* End a process this test forked. Under valgrind the child would report the
 * parent's memory it inherited as leaked and exit with valgrind's error
 * status instead: it execs a shell that exits with @status (valgrind does
 * not follow exec). */
static void child_exit(int status)
{
    if (tu_under_valgrind()) {
        char cmd[32];
        snprintf(cmd, sizeof cmd, "exit %d", status);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    }
    _exit(status);
}

/* CSV of @n orders "customer,order,ts,revenue", order keys @tag-<i>, lines
 * of one order repeated so the import aggregates them. malloc'ed. */
static char *orders_csv(const char *tag, int n, int customers, int lines_per_order)
{
    size_t cap = 64 + (size_t)n * (size_t)lines_per_order * 64, len = 0;
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    len += (size_t)snprintf(s, cap, "customer,order,ts,revenue\n");
    for (int i = 0; i < n; i++)
        for (int l = 0; l < lines_per_order; l++)
            len += (size_t)snprintf(s + len, cap - len, "cust%04d,%s-%d,%d,%d.25\n", i % customers,
                                    tag, i, 852076800 + (i % 500) * 86400, 1 + i % 9);
    return s;
}

static int import_text(custscore *db, custscore_kind kind, const char *text,
                       const custscore_import_options *o)
{
    custscore_import_report r;
    return custscore_import_csv_buffer(db, kind, text, strlen(text), "faults.csv", o, &r);
}

/* What a store holds, read through a plain SQLite connection (not the
 * library under test), with PRAGMA integrity_check. */
typedef struct state {
    int64_t customers, orders, responses, complaints, attributes, models;
    int64_t models_complete; /* model rows with parameters */
    double revenue;
    int ok; /* integrity_check said "ok" */
    int rc; /* SQLite result of reading it */
} state;

static void read_state(const char *path, state *s)
{
    memset(s, 0, sizeof *s);
    sqlite3 *c = NULL;
    s->rc = sqlite3_open_v2(path, &c, SQLITE_OPEN_READONLY, NULL);
    sqlite3_stmt *st = NULL;
    if (s->rc == SQLITE_OK)
        s->rc = sqlite3_prepare_v2(c,
                                   "SELECT (SELECT count(*) FROM customer), (SELECT count(*) FROM"
                                   " orders), (SELECT total(revenue) FROM orders), (SELECT count(*)"
                                   " FROM response), (SELECT count(*) FROM complaint), (SELECT"
                                   " count(*) FROM attribute), (SELECT count(*) FROM model),"
                                   " (SELECT count(*) FROM model WHERE length(params) > 2)",
                                   -1, &st, NULL);
    if (s->rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        s->customers = sqlite3_column_int64(st, 0);
        s->orders = sqlite3_column_int64(st, 1);
        s->revenue = sqlite3_column_double(st, 2);
        s->responses = sqlite3_column_int64(st, 3);
        s->complaints = sqlite3_column_int64(st, 4);
        s->attributes = sqlite3_column_int64(st, 5);
        s->models = sqlite3_column_int64(st, 6);
        s->models_complete = sqlite3_column_int64(st, 7);
    } else if (s->rc == SQLITE_OK) {
        s->rc = sqlite3_errcode(c);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (s->rc == SQLITE_OK &&
        sqlite3_prepare_v2(c, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        s->ok = strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    sqlite3_finalize(st);
    sqlite3_close(c);
}

static void assert_same_state(const state *a, const state *b)
{
    ck_assert_int_eq(a->rc, SQLITE_OK);
    ck_assert_int_eq(b->rc, SQLITE_OK);
    ck_assert(a->ok && b->ok);
    ck_assert_int_eq(a->customers, b->customers);
    ck_assert_int_eq(a->orders, b->orders);
    ck_assert_double_eq(a->revenue, b->revenue);
    ck_assert_int_eq(a->responses, b->responses);
    ck_assert_int_eq(a->complaints, b->complaints);
    ck_assert_int_eq(a->attributes, b->attributes);
    ck_assert_int_eq(a->models, b->models);
}

/* A store at @path holding @n orders (closed again). */
static void make_store(const char *path, int n)
{
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_CREATE, &db), 0);
    char *csv = orders_csv("base", n, n / 4 + 1, 1);
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_ORDERS, csv, NULL), 0);
    free(csv);
    ck_assert_int_eq(custscore_close(db), 0);
}

static int64_t sqlite_int(sqlite3 *c, const char *sql)
{
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(c, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int count_rows(const custscore_summary *s, void *payload)
{
    *(int64_t *)payload += s->orders;
    return 0;
}

static double elapsed_ms(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

/* ---------------------------------------------------------------------- */
/* Disk full */

/* The store's size limit is hit midway through an import (PRAGMA
 * max_page_count on the handle's connection): EIO, a message saying so,
 * and exactly the earlier data; with the limit lifted the same import goes in. */
START_TEST(test_disk_full_page_limit)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "full.db");
    make_store(path, 200);
    state before, after;
    read_state(path, &before);
    ck_assert_int_eq(before.orders, 200);

    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, 0, &db), 0);
    int64_t pages = sqlite_int(db->sql, "PRAGMA page_count");
    char sql[96];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld", (long long)pages + 4);
    ck_assert_int_eq(sqlite3_exec(db->sql, sql, NULL, NULL, NULL), SQLITE_OK);
    char *big = orders_csv("big", 20000, 5000, 2);
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_ORDERS, big, NULL), CUSTSCORE_EIO);
    ck_assert_int_eq(custscore_errcode(db), CUSTSCORE_EIO);
    ck_assert_msg(strstr(custscore_errmsg(db), "full") != NULL, "message: %s",
                  custscore_errmsg(db));
    printf("disk full (page limit): %s\n", custscore_errmsg(db));
    read_state(path, &after);
    assert_same_state(&before, &after);
    /* The handle goes on working: reads see the old data, small writes fit. */
    int64_t orders = 0;
    ck_assert_int_eq(custscore_summary_each(db, INT64_MAX, NULL, count_rows, &orders), 0);
    ck_assert_int_eq(orders, 200);

    /* Inside a batch the failed import takes nothing with it but itself; or,
     * when SQLite had to roll back the whole transaction (it may, on a full
     * disk), the message says the batch is gone and the batch is over:
     * either way the store is consistent and the handle usable. */
    ck_assert_int_eq(custscore_begin(db), 0);
    custscore_order o = {.customer = "batch", .order_key = "b1", .ts = 852076800, .revenue = 5};
    ck_assert_int_eq(custscore_add_order(db, &o, NULL), 0);
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_ORDERS, big, NULL), CUSTSCORE_EIO);
    bool batch_lost = strstr(custscore_errmsg(db), "whole batch was rolled back") != NULL;
    printf("disk full in a batch: %s\n", custscore_errmsg(db));
    int rc = custscore_commit(db);
    read_state(path, &after);
    ck_assert(after.ok);
    if (batch_lost) {
        ck_assert_int_eq(rc, CUSTSCORE_EINVAL); /* no batch is open */
        ck_assert_int_eq(after.orders, 200);
    } else {
        ck_assert_msg(rc == 0, "commit: %d %s", rc, custscore_errmsg(db));
        ck_assert_int_eq(after.orders, 201);
    }
    ck_assert_int_eq(custscore_rollback(db), 0);
    int64_t before_orders = after.orders;

    ck_assert_int_eq(sqlite3_exec(db->sql, "PRAGMA max_page_count = 1073741823", NULL, NULL, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_ORDERS, big, NULL), 0);
    ck_assert_int_eq(custscore_close(db), 0);
    read_state(path, &after);
    ck_assert(after.ok);
    ck_assert_int_eq(after.orders, before_orders + 20000);
    free(big);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* A real write error from the operating system: a child process whose file
 * size limit (RLIMIT_FSIZE) is reached while the import writes the WAL.
 * EIO, a message, the store unchanged and intact. */
START_TEST(test_disk_full_file_size_limit)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "fsize.db");
    make_store(path, 200);
    state before, after;
    read_state(path, &before);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    char *big = orders_csv("big", 30000, 7000, 1);
    int fd[2];
    ck_assert_int_eq(pipe(fd), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fd[0]);
        signal(SIGXFSZ, SIG_IGN); /* a failing write() instead of a signal */
        struct rlimit rl = {.rlim_cur = (rlim_t)sb.st_size + 256 * 1024,
                            .rlim_max = (rlim_t)sb.st_size + 256 * 1024};
        setrlimit(RLIMIT_FSIZE, &rl);
        custscore *db = NULL;
        int rc = custscore_open(path, 0, &db);
        if (rc == 0)
            rc = import_text(db, CUSTSCORE_KIND_ORDERS, big, NULL);
        char msg[CS_ERRMSG_SIZE + 16];
        int n = snprintf(msg, sizeof msg, "%d %s", rc, custscore_errmsg(db));
        custscore_close(db);
        if (write(fd[1], msg, (size_t)n) < 0)
            child_exit(3);
        child_exit(0);
    }
    close(fd[1]);
    char msg[CS_ERRMSG_SIZE + 16] = "";
    ssize_t got = read(fd[0], msg, sizeof msg - 1);
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_int_gt(got, 0);
    msg[got] = '\0';
    ck_assert_msg(atoi(msg) == CUSTSCORE_EIO, "child: %s", msg);
    printf("disk full (file size limit): %s\n", msg);
    ck_assert_msg(strchr(msg, ' ')[1] != '\0', "no message");
    read_state(path, &after);
    assert_same_state(&before, &after);
    /* Without the limit the same import goes in. */
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, 0, &db), 0);
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_ORDERS, big, NULL), 0);
    custscore_close(db);
    read_state(path, &after);
    ck_assert(after.ok);
    ck_assert_int_eq(after.orders, 200 + 30000);
    free(big);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Files that cannot be used */

START_TEST(test_missing_directory)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "no/such/dir/s.db");
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_CREATE, &db), CUSTSCORE_EIO);
    ck_assert_msg(strstr(custscore_errmsg(db), path) != NULL, "%s", custscore_errmsg(db));
    custscore_close(db);
    ck_assert_int_eq(custscore_open(path, 0, &db), CUSTSCORE_ENOTFOUND);
    custscore_close(db);
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_READONLY, &db), CUSTSCORE_ENOTFOUND);
    custscore_close(db);
    /* An import from a missing file changes nothing either. */
    ck_assert_int_eq(custscore_open(NULL, 0, &db), 0);
    custscore_import_report r;
    ck_assert_int_eq(custscore_import_csv(db, CUSTSCORE_KIND_ORDERS, path, NULL, &r),
                     CUSTSCORE_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "s.db"));
    custscore_close(db);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_not_a_database)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "text.db");
    char *text = malloc(8192);
    ck_assert_ptr_nonnull(text);
    for (int i = 0; i < 8191; i++)
        text[i] = (char)('a' + i % 26);
    text[8191] = '\0';
    ck_assert_int_eq(tu_write_file(path, text), 0);
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, 0, &db), CUSTSCORE_ECORRUPT);
    ck_assert_msg(strstr(custscore_errmsg(db), "text.db") != NULL, "%s", custscore_errmsg(db));
    custscore_close(db);
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_READONLY, &db), CUSTSCORE_ECORRUPT);
    custscore_close(db);
    /* The file is left as it was. */
    size_t size = 0;
    char *back = tu_read_file(path, &size);
    ck_assert_uint_eq(size, 8191);
    ck_assert_int_eq(memcmp(back, text, size), 0);
    free(back);
    free(text);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static void truncate_to(const char *path, off_t size)
{
    ck_assert_int_eq(truncate(path, size), 0);
}

static void copy_file(const char *from, const char *to)
{
    size_t size = 0;
    char *data = tu_read_file(from, &size);
    ck_assert_ptr_nonnull(data);
    FILE *f = fopen(to, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, size, f), size);
    fclose(f);
    free(data);
}

/* Open, read everything, write: every call returns 0 or ECORRUPT (never
 * crashes, never another code). Returns how many said ECORRUPT. */
static int exercise_damaged(const char *path)
{
    int corrupt = 0;
    custscore *db = NULL;
    int rc = custscore_open(path, 0, &db);
    ck_assert_msg(rc == 0 || rc == CUSTSCORE_ECORRUPT, "open: %d %s", rc, custscore_errmsg(db));
    if (rc) {
        ck_assert_ptr_nonnull(strstr(custscore_errmsg(db), "malformed") ? ""
                              : strstr(custscore_errmsg(db), "not a database")
                                  ? ""
                                  : strstr(custscore_errmsg(db), "corrupt"));
        custscore_close(db);
        return 1;
    }
    int64_t orders = 0;
    rc = custscore_summary_each(db, INT64_MAX, NULL, count_rows, &orders);
    ck_assert_msg(rc == 0 || rc == CUSTSCORE_ECORRUPT, "summary: %d %s", rc, custscore_errmsg(db));
    corrupt += rc != 0;
    int64_t n = 0;
    rc = custscore_customer_count(db, &n);
    ck_assert_msg(rc == 0 || rc == CUSTSCORE_ECORRUPT, "count: %d %s", rc, custscore_errmsg(db));
    corrupt += rc != 0;
    custscore_summary one;
    rc = custscore_summary_one(db, "cust0001", INT64_MAX, NULL, &one);
    ck_assert_msg(rc == 0 || rc == CUSTSCORE_ECORRUPT || rc == CUSTSCORE_ENOTFOUND,
                  "summary_one: %d %s", rc, custscore_errmsg(db));
    corrupt += rc == CUSTSCORE_ECORRUPT;
    char *csv = orders_csv("more", 300, 100, 1);
    rc = import_text(db, CUSTSCORE_KIND_ORDERS, csv, NULL);
    free(csv);
    ck_assert_msg(rc == 0 || rc == CUSTSCORE_ECORRUPT, "import: %d %s", rc, custscore_errmsg(db));
    corrupt += rc != 0;
    custscore_close(db);
    return corrupt;
}

/* A store cut short (a copy interrupted, a full disk on the copy): a clear
 * ECORRUPT from the first call that reaches the missing pages. */
START_TEST(test_truncated_database)
{
    char *dir = tu_tmpdir();
    char *pristine = tu_join(dir, "pristine.db");
    char *path = tu_join(dir, "cut.db");
    make_store(pristine, 5000);
    struct stat sb;
    ck_assert_int_eq(stat(pristine, &sb), 0);
    ck_assert_int_gt(sb.st_size, 16 * 4096);
    const off_t cuts[] = {sb.st_size / 2, sb.st_size - 4096, 4096 + 100, 60};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        copy_file(pristine, path);
        truncate_to(path, cuts[i]);
        ck_assert_msg(exercise_damaged(path) > 0, "cut at %lld not reported as corrupt",
                      (long long)cuts[i]);
    }
    free(pristine);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* Pages overwritten with garbage, one page at a time over the whole file:
 * never a crash or a code other than ECORRUPT; most damage is reported. */
START_TEST(test_corrupted_pages)
{
    char *dir = tu_tmpdir();
    char *pristine = tu_join(dir, "pristine.db");
    char *path = tu_join(dir, "bad.db");
    make_store(pristine, 3000);
    struct stat sb;
    ck_assert_int_eq(stat(pristine, &sb), 0);
    int64_t pages = sb.st_size / 4096;
    int step = tu_under_valgrind() ? 7 : 1;
    int reported = 0, damaged = 0;
    uint64_t seed = 12345;
    for (int64_t p = 0; p < pages; p += step) {
        copy_file(pristine, path);
        int fd = open(path, O_WRONLY);
        ck_assert_int_ge(fd, 0);
        unsigned char garbage[4096];
        for (size_t i = 0; i < sizeof garbage; i++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            garbage[i] = (unsigned char)(seed >> 56);
        }
        /* Keep the 100-byte file header of page 1 half the time: damage
         * behind a valid header is the harder case. */
        off_t at = (off_t)p * 4096 + (p == 0 && (seed & 1) ? 100 : 0);
        ck_assert_int_eq(pwrite(fd, garbage, 4096 - (size_t)(at % 4096), at),
                         (ssize_t)(4096 - (size_t)(at % 4096)));
        close(fd);
        state s;
        read_state(path, &s);
        damaged += !s.ok;
        reported += exercise_damaged(path) > 0;
    }
    ck_assert_int_gt(damaged, 0);
    ck_assert_int_gt(reported, 0);
    printf("corrupted pages: %d of %lld copies damaged (integrity_check), %d reported ECORRUPT\n",
           damaged, (long long)((pages + step - 1) / step), reported);
    free(pristine);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* A store file the process may not write (permissions; as root, a child
 * process that gave up root): reads work, writes fail cleanly, nothing
 * changes. */
START_TEST(test_readonly_file)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "ro.db");
    make_store(path, 100);
    state before, after;
    read_state(path, &before);
    ck_assert_int_eq(chmod(path, 0444), 0);
    ck_assert_int_eq(chmod(dir, 0555), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            child_exit(10);
        if (access(path, W_OK) == 0)
            child_exit(11); /* still writable: cannot test */
        custscore *db = NULL;
        int rc = custscore_open(path, 0, &db);
        /* Opening for writing: refused at once, or read-only and every write
         * refused. */
        if (rc == 0) {
            if (custscore_add_customer(db, "new", 0) != CUSTSCORE_EREADONLY)
                child_exit(20);
            if (import_text(db, CUSTSCORE_KIND_ORDERS, "customer,ts,revenue\nx,2020-01-01,1\n",
                            NULL) != CUSTSCORE_EREADONLY)
                child_exit(21);
        } else if (rc != CUSTSCORE_EREADONLY && rc != CUSTSCORE_EIO) {
            fprintf(stderr, "open rw: %d %s\n", rc, custscore_errmsg(db));
            child_exit(22);
        } else if (!strstr(custscore_errmsg(db), "ro.db")) {
            fprintf(stderr, "open rw message: %s\n", custscore_errmsg(db));
            child_exit(23);
        }
        custscore_close(db);
        /* Opening read-only: reads work. */
        rc = custscore_open(path, CUSTSCORE_OPEN_READONLY, &db);
        if (rc != 0) {
            fprintf(stderr, "open ro: %d %s\n", rc, custscore_errmsg(db));
            child_exit(24);
        }
        int64_t orders = 0;
        rc = custscore_summary_each(db, INT64_MAX, NULL, count_rows, &orders);
        if (rc != 0 || orders != 100) {
            fprintf(stderr, "summary ro: %d %s\n", rc, custscore_errmsg(db));
            child_exit(25);
        }
        if (custscore_add_customer(db, "new", 0) != CUSTSCORE_EREADONLY)
            child_exit(26);
        custscore_close(db);
        child_exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    chmod(dir, 0700);
    chmod(path, 0644);
    ck_assert(WIFEXITED(status));
    if (WEXITSTATUS(status) == 10 || WEXITSTATUS(status) == 11) {
        tu_skip("cannot make a file read-only for this process");
    } else {
        ck_assert_msg(WEXITSTATUS(status) == 0, "child failed at step %d", WEXITSTATUS(status));
        read_state(path, &after);
        assert_same_state(&before, &after);
    }
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Locked by another process */

/* A child process holds a write transaction (or, with @exclusive, an
 * exclusive lock that keeps readers out too) on @path until told to let go. */
typedef struct locker {
    pid_t pid;
    int go; /* write end: a byte tells the child to release */
} locker;

static void lock_store(const char *path, bool exclusive, locker *l)
{
    int ready[2], go[2];
    ck_assert_int_eq(pipe(ready), 0);
    ck_assert_int_eq(pipe(go), 0);
    l->pid = fork();
    ck_assert_int_ge(l->pid, 0);
    if (l->pid == 0) {
        close(ready[0]);
        close(go[1]);
        sqlite3 *c = NULL;
        if (sqlite3_open(path, &c) != SQLITE_OK) {
            fprintf(stderr, "locker: open: %s\n", sqlite3_errmsg(c));
            child_exit(2);
        }
        const char *sql = exclusive ? "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;"
                                      " INSERT INTO customer(key) VALUES ('locker');"
                                    : "BEGIN IMMEDIATE; INSERT INTO customer(key) VALUES"
                                      " ('locker');";
        if (sqlite3_exec(c, sql, NULL, NULL, NULL) != SQLITE_OK) {
            fprintf(stderr, "locker: %s\n", sqlite3_errmsg(c));
            child_exit(3);
        }
        char b = 1;
        if (write(ready[1], &b, 1) != 1)
            child_exit(4);
        if (read(go[0], &b, 1) != 1)
            child_exit(5);
        sqlite3_exec(c, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(c);
        child_exit(0);
    }
    close(ready[1]);
    close(go[0]);
    char b = 0;
    ck_assert_int_eq(read(ready[0], &b, 1), 1);
    close(ready[0]);
    l->go = go[1];
}

static void unlock_store(locker *l)
{
    char b = 1;
    ck_assert_int_eq(write(l->go, &b, 1), 1);
    close(l->go);
    int status = 0;
    waitpid(l->pid, &status, 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

START_TEST(test_locked_by_other_process)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "locked.db");
    make_store(path, 100);
    state before, after;
    read_state(path, &before);
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, 0, &db), 0);
    ck_assert_int_eq(custscore_busy_timeout(db, 200), 0);
    locker l;
    lock_store(path, false, &l);

    char *csv = orders_csv("late", 500, 50, 2);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_ORDERS, csv, NULL), CUSTSCORE_EBUSY);
    double waited = elapsed_ms(&t0);
    ck_assert_msg(waited >= 150, "gave up after %.0f ms, before the 200 ms busy timeout", waited);
    ck_assert_msg(strstr(custscore_errmsg(db), "retry") != NULL, "%s", custscore_errmsg(db));
    custscore_order o = {.customer = "c", .order_key = "k", .ts = 852076800, .revenue = 1};
    ck_assert_int_eq(custscore_add_order(db, &o, NULL), CUSTSCORE_EBUSY);
    ck_assert_int_eq(custscore_begin(db), CUSTSCORE_EBUSY);
    /* WAL: readers are not blocked by a writer and see the committed state. */
    int64_t orders = 0;
    ck_assert_int_eq(custscore_summary_each(db, INT64_MAX, NULL, count_rows, &orders), 0);
    ck_assert_int_eq(orders, 100);
    int64_t n = 0;
    ck_assert_int_eq(custscore_customer_count(db, &n), 0);
    ck_assert_int_eq(n, before.customers);
    unlock_store(&l);
    read_state(path, &after);
    assert_same_state(&before, &after);

    /* An exclusive lock (PRAGMA locking_mode = EXCLUSIVE in another
     * process, taken while no one else had the store open) keeps readers out
     * too: opening fails with EBUSY after the busy timeout, retryable. */
    custscore_close(db);
    lock_store(path, true, &l);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(custscore_open(path, 0, &db), CUSTSCORE_EBUSY);
    ck_assert_msg(strstr(custscore_errmsg(db), "retry") != NULL, "%s", custscore_errmsg(db));
    ck_assert_msg(strstr(custscore_errmsg(db), "locked.db") != NULL, "%s", custscore_errmsg(db));
    custscore_close(db);
    unlock_store(&l);
    read_state(path, &after);
    assert_same_state(&before, &after);
    ck_assert_int_eq(custscore_open(path, 0, &db), 0);

    /* Retried once the lock is gone: it all goes in. */
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_ORDERS, csv, NULL), 0);
    ck_assert_int_eq(custscore_add_order(db, &o, NULL), 0);
    orders = 0;
    ck_assert_int_eq(custscore_summary_each(db, INT64_MAX, NULL, count_rows, &orders), 0);
    ck_assert_int_eq(orders, 100 + 500 + 1);
    custscore_close(db);
    free(csv);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Allocation failure */

/* SQLite's own allocations, failed one at a time through
 * sqlite3_config(SQLITE_CONFIG_MALLOC) (after sqlite3_shutdown(), so it
 * works however the tests are run). */
static sqlite3_mem_methods sq_orig;
static long sq_count, sq_fail_at = -1;

static bool sq_should_fail(void)
{
    return sq_fail_at >= 0 && ++sq_count == sq_fail_at;
}

static void *sq_malloc(int n)
{
    return sq_should_fail() ? NULL : sq_orig.xMalloc(n);
}

static void *sq_realloc(void *p, int n)
{
    return sq_should_fail() ? NULL : sq_orig.xRealloc(p, n);
}

static void sq_install(void)
{
    ck_assert_int_eq(sqlite3_shutdown(), SQLITE_OK);
    ck_assert_int_eq(sqlite3_config(SQLITE_CONFIG_GETMALLOC, &sq_orig), SQLITE_OK);
    sqlite3_mem_methods m = sq_orig;
    m.xMalloc = sq_malloc;
    m.xRealloc = sq_realloc;
    ck_assert_int_eq(sqlite3_config(SQLITE_CONFIG_MALLOC, &m), SQLITE_OK);
    ck_assert_int_eq(sqlite3_initialize(), SQLITE_OK);
}

static void sq_remove(void)
{
    sq_fail_at = -1;
    ck_assert_int_eq(sqlite3_shutdown(), SQLITE_OK);
    ck_assert_int_eq(sqlite3_config(SQLITE_CONFIG_MALLOC, &sq_orig), SQLITE_OK);
    ck_assert_int_eq(sqlite3_initialize(), SQLITE_OK);
}

/* The fault-injection hook of the library (src/custscore.c), only in a
 * -Dfault_injection=true build. */
#ifdef CUSTSCORE_FAULT_INJECTION
void cs_fault_reset(long fail_at);
#endif

typedef enum fault_kind { FAULT_LIBRARY, FAULT_SQLITE } fault_kind;

static void fault_arm(fault_kind kind, long n)
{
#ifdef CUSTSCORE_FAULT_INJECTION
    if (kind == FAULT_LIBRARY) {
        cs_fault_reset(n);
        return;
    }
#endif
    sq_count = 0;
    sq_fail_at = n;
}

/* Disarm; true when the armed allocation was reached (it failed). */
static bool fault_disarm(fault_kind kind, long n)
{
    bool hit;
#ifdef CUSTSCORE_FAULT_INJECTION
    if (kind == FAULT_LIBRARY) {
        /* Count on from where the scenario stopped: when the failing
         * allocation is still ahead, the scenario never reached it. */
        long more = 0;
        void *p;
        while (more <= n && (p = cs_malloc(1)) != NULL) {
            cs_free(p);
            more++;
        }
        hit = more > n;
        cs_fault_reset(-1);
        return hit;
    }
#endif
    hit = sq_count >= sq_fail_at;
    sq_fail_at = -1;
    return hit;
}

/* The steps of the scenario; on the first failure it stops there. */
static const char retail_lines[] =
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,UK\n"
    "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,UK\n"
    "536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,17850.0,UK\n"
    "536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,2010-12-01 08:34:00,1.69,13047.0,UK\n"
    "C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527.0,UK\n"
    "536380,22961,JAM MAKING SET PRINTED,24,2010-12-05 09:41:00,1.45,14527.0,UK\n"
    "536381,22139,RETROSPOT TEA SET,4,2010-12-09 09:41:00,4.95,14527.0,UK\n"
    "536414,22139,,56,2010-12-01 11:52:00,0.0,,UK\n";
static const char customers_csv[] = "customer,created,tenure,Contract\n"
                                    "17850.0,2010-01-01,12,Month-to-month\n"
                                    "13047.0,,30,Two year\n";
static const char responses_csv[] = "id,date,Q1,Q2,NPS\nr1,2011-01-01,7,8,9\nr2,2011-01-02,3,,10\n";
static const char complaints_csv[] = "customer,ts,severity,resolved\n"
                                     "17850.0,2011-01-05,2,2011-01-07\n13047.0,2011-01-06,1,\n";

static int value_row(const custscore_value *v, void *payload)
{
    (void)v;
    (*(int *)payload)++;
    return 0;
}

typedef struct scenario_result {
    int failed_step; /* 0 when every step succeeded */
    int rc;
    char msg[CS_ERRMSG_SIZE];
} scenario_result;

static void scenario(const char *path, scenario_result *res)
{
    memset(res, 0, sizeof *res);
    custscore *db = NULL;
    int step = 0, rc = 0;
    custscore_import_options skip = CUSTSCORE_IMPORT_OPTIONS_INIT;
    skip.skip_bad = 1;
    skip.cancel_prefix = "C";
    custscore_import_options wide = CUSTSCORE_IMPORT_OPTIONS_INIT;
    wide.wide = 1;
    wide.customer_column = "id";
    wide.date_column = "date";
    for (step = 1; rc == 0; step++) {
        switch (step) {
        case 1:
            rc = custscore_open(path, CUSTSCORE_OPEN_CREATE, &db);
            break;
        case 2:
            rc = import_text(db, CUSTSCORE_KIND_ORDERS, retail_lines, &skip);
            break;
        case 3:
            rc = import_text(db, CUSTSCORE_KIND_CUSTOMERS, customers_csv, NULL);
            break;
        case 4:
            rc = import_text(db, CUSTSCORE_KIND_RESPONSES, responses_csv, &wide);
            break;
        case 5:
            rc = import_text(db, CUSTSCORE_KIND_COMPLAINTS, complaints_csv, NULL);
            break;
        case 6: {
            custscore_order o = {.customer = "new",
                                 .order_key = "n1",
                                 .ts = 1291161600,
                                 .revenue = 10,
                                 .cost = 4,
                                 .has_cost = 1};
            rc = custscore_add_order(db, &o, NULL);
            break;
        }
        case 7: {
            int64_t orders = 0;
            rc = custscore_summary_each(db, 1293753600, NULL, count_rows, &orders);
            break;
        }
        case 8: {
            custscore_summary s;
            rc = custscore_summary_one(db, "14527.0", 1293753600, NULL, &s);
            break;
        }
        case 9: {
            int rows = 0;
            rc = custscore_value_each(db, 1293753600, NULL, value_row, &rows);
            break;
        }
        default:
            step = 0;
            break;
        }
        if (step == 0)
            break;
    }
    if (rc) {
        res->failed_step = step - 1;
        res->rc = rc;
        snprintf(res->msg, sizeof res->msg, "%s", custscore_errmsg(db));
    }
    custscore_close(db);
}

/* Models and scores on a store of orders (a copy of a prepared one). */
#define MODEL_AS_OF 904608000 /* 1998-09-01 */

static void model_scenario(const char *path, scenario_result *res)
{
    memset(res, 0, sizeof *res);
    custscore *db = NULL;
    int step = 0, rc = 0;
    for (step = 1; rc == 0; step++) {
        switch (step) {
        case 1:
            rc = custscore_open(path, 0, &db);
            break;
        case 2: {
            custscore_fit_options fo = CUSTSCORE_FIT_OPTIONS_INIT;
            fo.starts = 1;
            rc = custscore_fit(db, MODEL_AS_OF, &fo, NULL);
            break;
        }
        case 3: {
            custscore_fit_options fo = CUSTSCORE_FIT_OPTIONS_INIT;
            fo.model = CUSTSCORE_MODEL_GG;
            fo.starts = 1;
            rc = custscore_fit(db, MODEL_AS_OF, &fo, NULL);
            break;
        }
        case 4: {
            custscore_score_options so = CUSTSCORE_SCORE_OPTIONS_INIT;
            so.clv.interval_draws = 20;
            rc = custscore_score_all(db, MODEL_AS_OF, &so, NULL, NULL, NULL);
            break;
        }
        case 5: {
            custscore_churn_card *card = NULL;
            rc = custscore_churn_train(db, MODEL_AS_OF, NULL, &card);
            custscore_churn_card_free(card);
            break;
        }
        default:
            step = 0;
            break;
        }
        if (step == 0)
            break;
    }
    if (rc) {
        res->failed_step = step - 1;
        res->rc = rc;
        snprintf(res->msg, sizeof res->msg, "%s", custscore_errmsg(db));
    }
    custscore_close(db);
}

static void remove_store(const char *path)
{
    char aux[1024];
    unlink(path);
    snprintf(aux, sizeof aux, "%s-wal", path);
    unlink(aux);
    snprintf(aux, sizeof aux, "%s-shm", path);
    unlink(aux);
}

typedef void (*scenario_fn)(const char *path, scenario_result *res);

static void prepare(const char *path, const char *pristine)
{
    remove_store(path);
    if (pristine)
        copy_file(pristine, path);
}

/* Fail allocation n for every n (every @stride-th) until the scenario runs
 * past the last one. Each failure is a clean ENOMEM at the step it hit; the
 * store then holds the steps before it, intact: imports all or nothing,
 * model rows complete, the orders of a prepared store (@pristine) untouched.
 * Returns the faults injected. */
static long sweep(fault_kind kind, scenario_fn run, const char *path, const char *pristine,
                  long stride)
{
    scenario_result clean;
    prepare(path, pristine);
    run(path, &clean);
    ck_assert_msg(clean.failed_step == 0, "scenario fails without faults at %d: %s",
                  clean.failed_step, clean.msg);
    state full;
    read_state(path, &full);
    long injected = 0;
    for (long n = 1;; n += stride) {
        prepare(path, pristine);
        scenario_result res;
        fault_arm(kind, n);
        run(path, &res);
        bool hit = fault_disarm(kind, n);
        if (!hit) {
            ck_assert_int_eq(res.failed_step, 0);
            break;
        }
        injected++;
        /* A failure the library absorbed (a retry, an optional cache) is
         * fine; one that surfaces must be ENOMEM with a message. */
        if (res.failed_step) {
            ck_assert_msg(res.rc == CUSTSCORE_ENOMEM,
                          "allocation %ld: step %d returned %d (%s), not ENOMEM", n,
                          res.failed_step, res.rc, res.msg);
            ck_assert_msg(res.msg[0] != '\0', "allocation %ld: step %d: no message", n,
                          res.failed_step);
        }
        state s;
        read_state(path, &s);
        if (s.rc == SQLITE_OK) {
            ck_assert_msg(s.ok, "allocation %ld: store damaged", n);
            ck_assert_msg(s.models == s.models_complete, "allocation %ld: a partial model row", n);
            if (pristine)
                ck_assert_msg(s.orders == full.orders, "allocation %ld: orders changed", n);
            else /* orders: none yet (failed at or before the first import), or all */
                ck_assert_msg(s.orders == 0 || s.orders >= full.orders - 1,
                              "allocation %ld: step %d left %lld orders", n, res.failed_step,
                              (long long)s.orders);
        }
    }
    remove_store(path);
    return injected;
}

/* A store of orders for the model scenario: 120 customers with repeat
 * purchases over 1997-1998. */
static char *model_store(const char *dir)
{
    char *pristine = tu_join(dir, "models.db");
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(pristine, CUSTSCORE_OPEN_CREATE, &db), 0);
    char *csv = malloc(64 * 1200 + 64);
    ck_assert_ptr_nonnull(csv);
    size_t len = (size_t)sprintf(csv, "customer,order,ts,revenue\n");
    uint64_t seed = 7;
    for (int i = 0; i < 1200; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        int cust = (int)((seed >> 33) % 120);
        int day = (int)((seed >> 13) % 600) / (1 + cust % 4);
        len += (size_t)sprintf(csv + len, "c%03d,o%d,%d,%d.5\n", cust, i, 852076800 + day * 86400,
                               5 + (int)((seed >> 40) % 50));
    }
    ck_assert_int_eq(import_text(db, CUSTSCORE_KIND_ORDERS, csv, NULL), 0);
    free(csv);
    ck_assert_int_eq(custscore_close(db), 0);
    return pristine;
}

/* Allocations SQLite makes in one clean run of a scenario. */
static long sqlite_allocations(scenario_fn run, const char *path, const char *pristine)
{
    prepare(path, pristine);
    scenario_result res;
    sq_count = 0;
    sq_fail_at = LONG_MAX;
    run(path, &res);
    sq_fail_at = -1;
    ck_assert_int_eq(res.failed_step, 0);
    return sq_count;
}

START_TEST(test_enomem_sqlite)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "oom.db");
    char *pristine = model_store(dir);
    sq_install();
    /* Every allocation in the fault-injection build; about 150 (ingest)
     * and 100 (models) spread over the run elsewhere, 15 under valgrind. */
    long total = sqlite_allocations(scenario, path, NULL);
#ifdef CUSTSCORE_FAULT_INJECTION
    long stride = 1;
#else
    long stride = total / (tu_under_valgrind() ? 15 : 150) + 1;
#endif
    long injected = sweep(FAULT_SQLITE, scenario, path, NULL, stride);
    printf("SQLite allocation failures injected (open, imports, summary, value): %ld of %ld "
           "allocations\n",
           injected, total);
    ck_assert_int_ge(injected, 5);
    long model_total = sqlite_allocations(model_scenario, path, pristine);
#ifdef CUSTSCORE_FAULT_INJECTION
    long model_stride = model_total / 3000 + 1;
#else
    long model_stride = model_total / (tu_under_valgrind() ? 10 : 100) + 1;
#endif
    long model_injected = sweep(FAULT_SQLITE, model_scenario, path, pristine, model_stride);
    printf("SQLite allocation failures injected (fit, score, churn): %ld of %ld allocations\n",
           model_injected, model_total);
    ck_assert_int_ge(model_injected, 5);
    sq_remove();
    free(pristine);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

#ifdef CUSTSCORE_FAULT_INJECTION
START_TEST(test_enomem_library)
{
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "oom.db");
    char *pristine = model_store(dir);
    long injected = sweep(FAULT_LIBRARY, scenario, path, NULL, 1);
    printf("library allocation failures injected (open, imports, summary, value): %ld\n", injected);
    ck_assert_int_gt(injected, 10);
    long memory = sweep(FAULT_LIBRARY, scenario, ":memory:", NULL, 1);
    printf("library allocation failures injected (the same, in memory): %ld\n", memory);
    long models = sweep(FAULT_LIBRARY, model_scenario, path, pristine, 1);
    printf("library allocation failures injected (fit, score, churn): %ld\n", models);
    ck_assert_int_gt(models, 10);
    free(pristine);
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST
#endif

static Suite *faults_suite(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("faults");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, test_disk_full_page_limit);
    tcase_add_test(tc, test_disk_full_file_size_limit);
    tcase_add_test(tc, test_missing_directory);
    tcase_add_test(tc, test_not_a_database);
    tcase_add_test(tc, test_truncated_database);
    tcase_add_test(tc, test_corrupted_pages);
    tcase_add_test(tc, test_readonly_file);
    tcase_add_test(tc, test_locked_by_other_process);
    tcase_add_test(tc, test_enomem_sqlite);
#ifdef CUSTSCORE_FAULT_INJECTION
    tcase_add_test(tc, test_enomem_library);
#endif
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(faults_suite());
}
