/*
 * Crash consistency (docs/reliability.md): a child process is killed with
 * SIGKILL at a random moment while it imports, fits models and scores,
 * CUSTSCORE_CRASH_KILLS times in all (default 200). After every kill the
 * store must open, pass PRAGMA integrity_check, and hold exactly the state
 * before or after the transaction the child was in: never a part of one.
 *
 * The child tells the parent over a pipe when each operation began and
 * ended; the parent replays the same deterministic sequence of operations in
 * memory and compares. Suite 'slow' (a few tens of seconds): `make check`
 * runs it once, not under valgrind or the sanitizers.
 */
#include "custscore.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCH 400         /* orders per imported batch (a multiple of 10) */
#define MAX_OPS 100000    /* operations in one run of the test, at most */
#define BASE_TS 852076800 /* 1997-01-01 */

typedef struct totals {
    int kills;         /* children killed */
    int inside;        /* ... while an operation had begun and not ended */
    int ops_done;      /* operations the children finished */
    int before, after; /* interrupted operations found undone / done */
} totals;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Child -> parent messages: 'B' + int32 op (began), 'E' + int32 op (ended). */
static void tell(int fd, char what, int op)
{
    char msg[5];
    msg[0] = what;
    memcpy(msg + 1, &op, 4);
    if (write(fd, msg, 5) != 5)
        _exit(90);
}

/* Read all messages until EOF; *last_end = last ended op (-1 none), *began
 * = an op began after it. */
static void drain(int fd, int *last_end, int *last_begin)
{
    char msg[5];
    size_t have = 0;
    for (;;) {
        ssize_t got = read(fd, msg + have, sizeof msg - have);
        if (got <= 0)
            break;
        have += (size_t)got;
        if (have == sizeof msg) {
            int op;
            memcpy(&op, msg + 1, 4);
            if (msg[0] == 'E')
                *last_end = op;
            else
                *last_begin = op;
            have = 0;
        }
    }
}

typedef void (*child_fn)(const char *path, int fd, int first_op);

/* Fork a child running @fn, kill it after @delay seconds; returns the last
 * op it reported ended (or first_op - 1) and whether one had begun after. */
static void run_and_kill(const char *path, child_fn fn, int first_op, double delay, int *ended,
                         bool *inside)
{
    int fd[2];
    ck_assert_int_eq(pipe(fd), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fd[0]);
        fn(path, fd[1], first_op);
        _exit(0);
    }
    close(fd[1]);
    struct timespec ts = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    int last_end = first_op - 1, last_begin = first_op - 1;
    drain(fd[0], &last_end, &last_begin);
    close(fd[0]);
    /* A child that ended by itself (too short a delay never happens the
     * other way) must have exited cleanly. */
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    *ended = last_end;
    *inside = last_begin > last_end;
}

/* The store after a kill, checked with PRAGMA integrity_check. A child
 * killed while it was creating the store may leave no file, or one without
 * the schema yet: both are "before the first operation". */
static sqlite3 *open_checked(const char *path)
{
    sqlite3 *c = NULL;
    ck_assert_int_eq(sqlite3_open_v2(path, &c, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                     SQLITE_OK);
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(c, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    return c;
}

/* The library opens the store after the crash too. */
static void assert_library_opens(const char *path)
{
    custscore *db = NULL;
    int rc = custscore_open(path, CUSTSCORE_OPEN_CREATE, &db);
    ck_assert_msg(rc == 0, "open after kill: %d %s", rc, custscore_errmsg(db));
    int64_t n = 0;
    ck_assert_int_eq(custscore_customer_count(db, &n), 0);
    custscore_close(db);
}

/* ---------------------------------------------------------------------- */
/* Import: op s imports a new batch, or (s % 3 == 2) re-imports an earlier
 * batch with new revenues: every order of it is replaced. */

typedef struct import_model {
    int tags;             /* batches imported */
    int version[MAX_OPS]; /* per batch: the op that last wrote it */
} import_model;

static void import_apply(import_model *m, int s)
{
    if (s % 3 == 2) {
        int tag = (s / 3) % m->tags;
        m->version[tag] = s;
    } else {
        m->version[m->tags++] = s;
    }
}

static char *batch_csv(int tag, int version)
{
    size_t cap = 64 + BATCH * 64, len = 0;
    char *s = malloc(cap);
    if (!s)
        abort();
    len += (size_t)snprintf(s, cap, "customer,order,ts,revenue\n");
    for (int k = 0; k < BATCH; k++)
        len += (size_t)snprintf(s + len, cap - len, "c%03d,t%d-%d,%d,%d\n", k % 97, tag, k,
                                BASE_TS + ((tag * BATCH + k) % 700) * 86400,
                                k % 10 + 1 + version * 1000);
    return s;
}

static void import_child(const char *path, int fd, int first_op)
{
    import_model *m = calloc(1, sizeof *m);
    if (!m)
        _exit(95);
    for (int s = 0; s < first_op; s++)
        import_apply(m, s);
    custscore *db = NULL;
    if (custscore_open(path, CUSTSCORE_OPEN_CREATE, &db) != 0)
        _exit(91);
    char file[4096];
    snprintf(file, sizeof file, "%s.batch%d.csv", path, (int)getpid());
    for (int s = first_op; s < MAX_OPS; s++) {
        int tag = s % 3 == 2 ? (s / 3) % m->tags : m->tags;
        char *csv = batch_csv(tag, s);
        tell(fd, 'B', s);
        int rc;
        if (s % 2) {
            /* From a file, as the CLI does. */
            FILE *f = fopen(file, "w");
            fputs(csv, f);
            fclose(f);
            rc = custscore_import_csv(db, CUSTSCORE_KIND_ORDERS, file, NULL, NULL);
        } else {
            rc = custscore_import_csv_buffer(db, CUSTSCORE_KIND_ORDERS, csv, strlen(csv), NULL,
                                             NULL, NULL);
        }
        free(csv);
        if (rc != 0)
            _exit(92);
        import_apply(m, s);
        tell(fd, 'E', s);
    }
    custscore_close(db);
}

/* Does the store hold exactly the state after @s ops? */
static bool import_matches(sqlite3 *c, int s)
{
    import_model *m = calloc(1, sizeof *m);
    ck_assert_ptr_nonnull(m);
    for (int i = 0; i < s; i++)
        import_apply(m, i);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c,
                           "SELECT CAST(substr(order_key, 2, instr(order_key, '-') - 2) AS"
                           " INTEGER) AS tag, count(*), total(revenue) FROM orders GROUP BY tag"
                           " ORDER BY tag",
                           -1, &st, NULL) != SQLITE_OK) {
        /* No schema yet: killed while creating the store. */
        ck_assert_ptr_nonnull(strstr(sqlite3_errmsg(c), "no such table"));
        bool empty = m->tags == 0;
        free(m);
        return empty;
    }
    bool ok = true;
    int tags = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int tag = sqlite3_column_int(st, 0);
        int64_t count = sqlite3_column_int64(st, 1);
        double revenue = sqlite3_column_double(st, 2);
        if (tag != tags || tag >= m->tags || count != BATCH)
            ok = false;
        else if (revenue != 55.0 * (BATCH / 10) + 1000.0 * m->version[tag] * BATCH)
            ok = false;
        tags++;
    }
    sqlite3_finalize(st);
    ok = ok && tags == m->tags;
    free(m);
    return ok;
}

static void crash_imports(const char *path, int kills, totals *t)
{
    /* How long one import takes here, so kills land inside them. */
    double t0 = now_s();
    custscore *db = NULL;
    char probe_path[4096];
    snprintf(probe_path, sizeof probe_path, "%s.probe", path);
    ck_assert_int_eq(custscore_open(probe_path, CUSTSCORE_OPEN_CREATE, &db), 0);
    double opened = now_s();
    for (int i = 0; i < 3; i++) {
        char *csv = batch_csv(i, i);
        ck_assert_int_eq(custscore_import_csv_buffer(db, CUSTSCORE_KIND_ORDERS, csv, strlen(csv),
                                                     NULL, NULL, NULL),
                         0);
        free(csv);
    }
    double per_op = (now_s() - opened) / 3;
    double open_time = opened - t0;
    custscore_close(db);

    int done = 0; /* ops the store holds */
    for (int k = 0; k < kills; k++) {
        double delay = open_time + (double)(rng() % 1000) / 1000.0 * 4 * per_op;
        if (k < 3)
            delay = (double)(rng() % 1000) / 1000.0 * open_time * 2; /* during create/migrate */
        int ended;
        bool inside;
        run_and_kill(path, import_child, done, delay, &ended, &inside);
        t->kills++;
        t->inside += inside;
        t->ops_done += ended + 1 - done;
        sqlite3 *c = open_checked(path);
        int before = ended + 1;
        bool is_before = import_matches(c, before);
        bool is_after = inside && import_matches(c, before + 1);
        sqlite3_close(c);
        ck_assert_msg(is_before || is_after,
                      "import kill %d: the store holds neither %d nor %d operations", k, before,
                      before + 1);
        if (inside) {
            t->before += is_before;
            t->after += is_after;
        }
        done = is_after ? before + 1 : before;
        assert_library_opens(path);
    }
}

/* ---------------------------------------------------------------------- */
/* Fit and score on CDNOW: op s fits a model (alternately BG/NBD and
 * Gamma-Gamma, saved as a new model row) or scores every customer as of a
 * new date (a new snapshot, one row per customer). */

static void model_child(const char *path, int fd, int first_op)
{
    custscore *db = NULL;
    if (custscore_open(path, 0, &db) != 0)
        _exit(93);
    for (int s = first_op; s < MAX_OPS; s++) {
        tell(fd, 'B', s);
        int rc;
        if (s % 3 == 2) {
            custscore_score_options so = CUSTSCORE_SCORE_OPTIONS_INIT;
            rc = custscore_score_all(db, 883612800 + (int64_t)s * 86400, &so, NULL, NULL, NULL);
        } else {
            custscore_fit_options fo = CUSTSCORE_FIT_OPTIONS_INIT;
            fo.model = s % 3 == 0 ? CUSTSCORE_MODEL_BGNBD : CUSTSCORE_MODEL_GG;
            rc = custscore_fit(db, 875577600 /* 1997-09-30 */, &fo, NULL);
        }
        if (rc != 0)
            _exit(94);
        tell(fd, 'E', s);
    }
    custscore_close(db);
}

/* After @s ops: models = ops with s % 3 != 2, snapshots = the others, each
 * complete (one row per customer) and each model row complete. */
static bool model_matches(sqlite3 *c, int s, int64_t customers)
{
    int models = 0, snapshots = 0;
    for (int i = 0; i < s; i++) {
        if (i % 3 == 2)
            snapshots++;
        else
            models++;
    }
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(c,
                                        "SELECT (SELECT count(*) FROM model WHERE length(params) >"
                                        " 2 AND n > 0), (SELECT count(*) FROM model), (SELECT"
                                        " count(DISTINCT as_of) FROM score), (SELECT count(*) FROM"
                                        " score)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    bool ok = sqlite3_column_int(st, 0) == models && sqlite3_column_int(st, 1) == models &&
              sqlite3_column_int(st, 2) == snapshots &&
              sqlite3_column_int64(st, 3) == snapshots * customers;
    sqlite3_finalize(st);
    return ok;
}

static void crash_models(const char *path, int kills, totals *t)
{
    char *data = tu_data_path("../../data/cdnow_sample.txt");
    custscore *db = NULL;
    ck_assert_int_eq(custscore_open(path, CUSTSCORE_OPEN_CREATE, &db), 0);
    custscore_import_options o = CUSTSCORE_IMPORT_OPTIONS_INIT;
    o.whitespace = 1;
    o.no_header = 1;
    o.map = "customer=2,ts=3,revenue=5";
    ck_assert_int_eq(custscore_import_csv(db, CUSTSCORE_KIND_ORDERS, data, &o, NULL), 0);
    free(data);
    int64_t customers = 0;
    ck_assert_int_eq(custscore_customer_count(db, &customers), 0);
    /* Time one op of each kind. */
    double t0 = now_s();
    custscore_fit_options fo = CUSTSCORE_FIT_OPTIONS_INIT;
    fo.no_store = 1;
    ck_assert_int_eq(custscore_fit(db, 875577600, &fo, NULL), 0);
    fo.model = CUSTSCORE_MODEL_GG;
    ck_assert_int_eq(custscore_fit(db, 875577600, &fo, NULL), 0);
    custscore_score_options so = CUSTSCORE_SCORE_OPTIONS_INIT;
    so.no_store = 1;
    ck_assert_int_eq(custscore_score_all(db, 883612800, &so, NULL, NULL, NULL), 0);
    double per_op = (now_s() - t0) / 3;
    custscore_close(db);

    int done = 0;
    for (int k = 0; k < kills; k++) {
        double delay = 0.002 + (double)(rng() % 1000) / 1000.0 * 4 * per_op;
        int ended;
        bool inside;
        run_and_kill(path, model_child, done, delay, &ended, &inside);
        t->kills++;
        t->inside += inside;
        t->ops_done += ended + 1 - done;
        sqlite3 *c = open_checked(path);
        int before = ended + 1;
        bool is_before = model_matches(c, before, customers);
        bool is_after = inside && model_matches(c, before + 1, customers);
        sqlite3_close(c);
        ck_assert_msg(is_before || is_after,
                      "model kill %d: the store holds neither %d nor %d operations", k, before,
                      before + 1);
        if (inside) {
            t->before += is_before;
            t->after += is_after;
        }
        done = is_after ? before + 1 : before;
        assert_library_opens(path);
    }
}

START_TEST(test_kill_during_writes)
{
    const char *env = getenv("CUSTSCORE_CRASH_KILLS");
    int kills = env ? atoi(env) : 200;
    if (kills < 2)
        kills = 2;
    char *dir = tu_tmpdir();
    char *imports = tu_join(dir, "imports.db");
    char *models = tu_join(dir, "models.db");
    totals t = {0};
    double t0 = now_s();
    int import_kills = kills * 11 / 20;
    crash_imports(imports, import_kills, &t);
    totals ti = t;
    crash_models(models, kills - import_kills, &t);
    printf("crash consistency: %d kills survived (%d during imports, %d during fits and "
           "scoring); %d inside an open transaction: %d found as before it, %d as after; "
           "%d operations completed; %.1f s\n",
           t.kills, ti.kills, t.kills - ti.kills, t.inside, t.before, t.after, t.ops_done,
           now_s() - t0);
    ck_assert_int_eq(t.kills, kills);
    /* The kills must mostly land inside transactions to test anything. */
    ck_assert_int_ge(t.inside, kills / 4);
    free(imports);
    free(models);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static Suite *crash_suite(void)
{
    Suite *s = suite_create("crash");
    TCase *tc = tcase_create("crash");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, test_kill_during_writes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(crash_suite());
}
