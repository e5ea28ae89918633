/*
 * bench_import: import speed against a plain SQLite baseline.
 *
 * usage: bench_import [N_LINES [N_CUSTOMERS]]   (default 1,000,000 and 100,000)
 *
 * Generates N synthetic order lines as CSV (order key, customer, ISO time,
 * quantity, price), imports them into a fresh file store with
 * custscore_import_csv (quantity x price, lines summed per order), and in the
 * same run inserts the same rows into the same schema with one plain
 * prepared statement in one transaction (the baseline). Prints lines/s for
 * both, the ratio, peak RSS, the time to summarise all customers, and the
 * Online Retail import when ../shared/data is present.
 */
#include "custscore.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
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

/* Deterministic generator (splitmix64). */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static int count_row(const custscore_summary *s, void *payload)
{
    (void)s;
    (*(long *)payload)++;
    return 0;
}

int main(int argc, char **argv)
{
    long n_lines = argc > 1 ? atol(argv[1]) : 1000000;
    long n_customers = argc > 2 ? atol(argv[2]) : 100000;
    char dir[] = "/tmp/custscore-bench-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char csv[256], store[256], base[256];
    snprintf(csv, sizeof csv, "%s/orders.csv", dir);
    snprintf(store, sizeof store, "%s/store.db", dir);
    snprintf(base, sizeof base, "%s/baseline.db", dir);

    /* Generate: 1 to 3 lines per order. */
    FILE *f = fopen(csv, "w");
    fputs("order,customer,ts,quantity,price\n", f);
    uint64_t seed = 42;
    long order = 0;
    for (long i = 0; i < n_lines;) {
        order++;
        long cust = (long)(next_rand(&seed) % (uint64_t)n_customers);
        int lines = 1 + (int)(next_rand(&seed) % 3);
        int64_t ts = 1262304000 + (int64_t)(next_rand(&seed) % (3 * 365 * 86400));
        char date[32];
        custscore_format_time(ts, 0, date, sizeof date);
        for (int k = 0; k < lines && i < n_lines; k++, i++)
            fprintf(f, "O%ld,C%06ld,%s,%d,%d.%02d\n", order, cust, date,
                    1 + (int)(next_rand(&seed) % 5), 1 + (int)(next_rand(&seed) % 50),
                    (int)(next_rand(&seed) % 100));
    }
    fclose(f);

    /* custscore import */
    custscore *db = NULL;
    if (custscore_open(store, CUSTSCORE_OPEN_CREATE, &db) != 0) {
        fprintf(stderr, "open: %s\n", custscore_errmsg(db));
        return 1;
    }
    custscore_import_report rep;
    double t0 = now();
    int rc = custscore_import_csv(db, CUSTSCORE_KIND_ORDERS, csv, NULL, &rep);
    double t_import = now() - t0;
    if (rc) {
        fprintf(stderr, "import: %s\n", custscore_errmsg(db));
        return 1;
    }
    long rows = 0;
    int64_t as_of = 1262304000 + 3 * 365 * 86400;
    t0 = now();
    custscore_summary_each(db, as_of, NULL, count_row, &rows);
    double t_summary = now() - t0;
    custscore_close(db);

    /* Baseline: the same rows (one per order line, already parsed) inserted
     * with one prepared statement into the same schema. */
    sqlite3 *s;
    sqlite3_open(base, &s);
    sqlite3_exec(s,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"
                 "CREATE TABLE customer(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, created "
                 "INTEGER NOT NULL DEFAULT 0) STRICT;"
                 "CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER NOT NULL, "
                 "order_key TEXT, ts INTEGER NOT NULL, revenue REAL NOT NULL, cost REAL, "
                 "UNIQUE(customer, order_key)) STRICT;",
                 NULL, NULL, NULL);
    sqlite3_stmt *ins;
    sqlite3_prepare_v2(s,
                       "INSERT INTO orders(customer, order_key, ts, revenue) VALUES (?1, ?2, ?3, "
                       "?4)",
                       -1, &ins, NULL);
    seed = 42;
    order = 0;
    t0 = now();
    sqlite3_exec(s, "BEGIN", NULL, NULL, NULL);
    char key[32];
    for (long i = 0; i < n_lines;) {
        order++;
        long cust = (long)(next_rand(&seed) % (uint64_t)n_customers);
        int lines = 1 + (int)(next_rand(&seed) % 3);
        int64_t ts = 1262304000 + (int64_t)(next_rand(&seed) % (3 * 365 * 86400));
        for (int k = 0; k < lines && i < n_lines; k++, i++) {
            int q = 1 + (int)(next_rand(&seed) % 5);
            int p1 = 1 + (int)(next_rand(&seed) % 50), p2 = (int)(next_rand(&seed) % 100);
            snprintf(key, sizeof key, "O%ld-%d", order, k);
            sqlite3_bind_int64(ins, 1, cust + 1);
            sqlite3_bind_text(ins, 2, key, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(ins, 3, ts);
            sqlite3_bind_double(ins, 4, q * (p1 + p2 / 100.0));
            sqlite3_step(ins);
            sqlite3_reset(ins);
        }
    }
    sqlite3_exec(s, "COMMIT", NULL, NULL, NULL);
    double t_base = now() - t0;
    sqlite3_finalize(ins);
    sqlite3_close(s);

    printf("bench_import: %ld lines, %ld customers (%lld orders after summing lines)\n", n_lines,
           n_customers, (long long)rep.added);
    printf("  custscore import   %8.3f s  %10.0f lines/s\n", t_import, n_lines / t_import);
    printf("  sqlite baseline    %8.3f s  %10.0f lines/s  (plain prepared INSERT, parsed rows)\n",
           t_base, n_lines / t_base);
    printf("  ratio              %8.1f %% of baseline\n", 100.0 * t_base / t_import);
    printf("  summary of all     %8.3f s  (%ld customers)\n", t_summary, rows);

    /* Online Retail: 541,909 invoice lines, with --skip-bad for the rows
     * without a customer id. */
    const char *retail = "../shared/data/online-retail/online-retail-2010-12-01_2011-12-09.csv";
    const char *root = getenv("CUSTSCORE_SHARED_DATA");
    char retail_path[512];
    if (root) {
        snprintf(retail_path, sizeof retail_path,
                 "%s/online-retail/online-retail-2010-12-01_2011-12-09.csv", root);
        retail = retail_path;
    }
    if (access(retail, R_OK) == 0) {
        char rstore[256];
        snprintf(rstore, sizeof rstore, "%s/retail.db", dir);
        custscore_open(rstore, CUSTSCORE_OPEN_CREATE, &db);
        custscore_import_options opt = CUSTSCORE_IMPORT_OPTIONS_INIT;
        opt.skip_bad = 1;
        opt.cancel_prefix = "C";
        char rejects[256];
        snprintf(rejects, sizeof rejects, "%s/rejects.csv", dir);
        opt.rejects_path = rejects;
        t0 = now();
        rc = custscore_import_csv(db, CUSTSCORE_KIND_ORDERS, retail, &opt, &rep);
        double t_retail = now() - t0;
        if (rc)
            fprintf(stderr, "retail import: %s\n", custscore_errmsg(db));
        else
            printf("  online retail      %8.3f s  %lld lines -> %lld orders, %lld rejected "
                   "(no customer id)\n",
                   t_retail, (long long)rep.records, (long long)rep.added, (long long)rep.rejected);
        custscore_close(db);
        unlink(rstore);
        unlink(rejects);
    } else {
        printf("  online retail      skipped (../shared/data not found)\n");
    }
    printf("  peak RSS           %8.1f MB\n", peak_rss_kb() / 1024.0);
    unlink(csv);
    unlink(store);
    unlink(base);
    char wal[300];
    snprintf(wal, sizeof wal, "%s-wal", store);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", store);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-wal", base);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", base);
    unlink(wal);
    rmdir(dir);
    return 0;
}
