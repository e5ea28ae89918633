/*
 * internal.h: declarations shared inside src/ only. Nothing here is exported;
 * everything the library exports is in include/custscore.h and
 * src/libcustscore.map.
 */
#ifndef CUSTSCORE_INTERNAL_H
#define CUSTSCORE_INTERNAL_H

#include "custscore.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CS_SECONDS_PER_DAY 86400
#define CS_ERRMSG_SIZE 1024

#if defined(__GNUC__) || defined(__clang__)
#define CS_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define CS_PRINTF(fmt, args)
#endif

/* ---------------------------------------------------------------------- */
/* Memory. All allocation goes through these so that a fault-injection
 * build (-DCUSTSCORE_FAULT_INJECTION) can fail the Nth allocation. Sizes are
 * checked for overflow: cs_mallocarray(n, size) fails cleanly when n*size
 * overflows. */
void *cs_malloc(size_t size);
void *cs_calloc(size_t n, size_t size);
void *cs_mallocarray(size_t n, size_t size);
void *cs_reallocarray(void *p, size_t n, size_t size);
char *cs_strdup(const char *s);
char *cs_strndup(const char *s, size_t n);
void cs_free(void *p);

/* ---------------------------------------------------------------------- */
/* Prepared statements kept for the handle's life (store.c). */
enum cs_stmt_id {
    CS_STMT_CUSTOMER_FIND,    /* SELECT id FROM customer WHERE key=?1 */
    CS_STMT_CUSTOMER_INSERT,  /* INSERT INTO customer(key, created) */
    CS_STMT_CUSTOMER_CREATED, /* UPDATE customer SET created=?2 WHERE id=?1 */
    CS_STMT_ORDER_UPDATE,     /* UPDATE orders ... WHERE customer=? AND order_key=? */
    CS_STMT_ORDER_INSERT,     /* INSERT INTO orders */
    CS_STMT_ATTRIBUTE_UPSERT, /* INSERT OR REPLACE INTO attribute */
    CS_STMT_RESPONSE_UPDATE,  /* UPDATE response SET value WHERE customer, ts, item */
    CS_STMT_RESPONSE_INSERT,  /* INSERT INTO response */
    CS_STMT_COMPLAINT_UPDATE, /* UPDATE complaint WHERE customer, ts */
    CS_STMT_COMPLAINT_INSERT, /* INSERT INTO complaint */
    CS_STMT_COUNT_CUSTOMERS,  /* SELECT count(*) FROM customer */
    CS_STMT_ORDERS_OF_ONE,    /* orders of one customer, by ts */
    CS_STMT_ORDER_KEYS_IN,    /* count of a customer's order keys in [?2, ?3) */
    CS_STMT_ORDER_ADD_NEW,    /* INSERT INTO orders unless the key exists */
    CS_STMT__COUNT
};

/* The handle. */
struct custscore {
    sqlite3 *sql;
    int flags;
    int errcode;
    bool in_batch; /* custscore_begin() open */
    bool in_memory;
    sqlite3_stmt *stmt[CS_STMT__COUNT];
    char errmsg[CS_ERRMSG_SIZE];
    char *scratch_key;           /* owned copy behind custscore_summary_one()'s out->customer */
    sqlite3_stmt *snapshot_stmt; /* behind custscore_snapshot_get()'s strings */
    char *snapshot_json;         /* custscore_snapshot_get()'s JSON row */
    /* The last order history loaded (summary.c), kept until the customers
     * or orders change: data_gen counts this handle's writes to them and
     * its rollbacks, PRAGMA data_version tells other connections' commits. */
    struct cs_history_cache *history;
    uint64_t data_gen;
};

/* ---------------------------------------------------------------------- */
/* Errors (custscore.c). Each sets the handle's code and message and returns
 * the code, so callers write `return cs_error(db, CUSTSCORE_EINVAL, ...)`. */
int cs_error(custscore *db, int code, const char *fmt, ...) CS_PRINTF(3, 4);
int cs_verror(custscore *db, int code, const char *fmt, va_list ap);
/* Map an SQLite result code to a custscore code and copy SQLite's message at
 * once (it is overwritten by the next call). @what says what was being done. */
int cs_sqlite_error(custscore *db, int rc, const char *what);
int cs_map_sqlite_code(int rc);
/* Clear the error state at the start of an API call. */
void cs_clear_error(custscore *db);

/* ---------------------------------------------------------------------- */
/* Store (store.c). */
int cs_store_open(custscore *db, const char *path, int flags);
void cs_store_close(custscore *db);
/* Prepared statement for @id, reset and with bindings cleared. */
sqlite3_stmt *cs_stmt(custscore *db, enum cs_stmt_id id);
/* Prepare an ad-hoc statement (constant SQL only; never built from input). */
int cs_prepare(custscore *db, const char *sql, sqlite3_stmt **out);
/* Prepare "@head @row,@row,..." with @rows rows (a multi-row INSERT costs
 * SQLite far less per row than a statement per row): constant fragments
 * repeated, not SQL built from input. */
int cs_prepare_rows(custscore *db, const char *head, const char *row, size_t rows,
                    sqlite3_stmt **out);
/* Execute constant SQL. */
int cs_exec(custscore *db, const char *sql);
/* Write transactions: a nested call inside a user batch is a no-op so that
 * single adds join the caller's batch. cs_tx_end(db, rc) commits when rc == 0
 * and rolls back otherwise; returns rc or the commit's error. */
int cs_tx_begin(custscore *db);
int cs_tx_end(custscore *db, int rc);
/* Fail with CUSTSCORE_EREADONLY when the store is read-only. */
int cs_check_writable(custscore *db);

/* Customer id for @key, creating the customer when @create (else
 * CUSTSCORE_ENOTFOUND). The key is validated (1..255 bytes, UTF-8). */
int cs_customer_id(custscore *db, const char *key, size_t key_len, bool create, int64_t *id);
/* Set a customer's creation time. */
int cs_customer_set_created(custscore *db, int64_t customer_id, int64_t created);
/* Bind (customer, order_key, ts, revenue, cost) as parameters base+1 ..
 * base+5 of an orders INSERT/UPDATE; cost NULL when unknown. The key must
 * outlive the step. */
void cs_bind_order_row(sqlite3_stmt *st, int base, int64_t customer_id, const char *key, size_t len,
                       int64_t ts, double revenue, double cost, bool has_cost);
/* Insert or replace one order of customer @customer_id; *replaced set. */
int cs_order_put(custscore *db, int64_t customer_id, const char *order_key, size_t order_key_len,
                 int64_t ts, double revenue, double cost, bool has_cost, bool *replaced);
int cs_response_put(custscore *db, int64_t customer_id, int64_t ts, const char *item,
                    size_t item_len, double value, bool *replaced);
int cs_complaint_put(custscore *db, int64_t customer_id, int64_t ts, double severity,
                     int64_t resolved_ts, bool *replaced);
int cs_attribute_put(custscore *db, int64_t customer_id, const char *name, size_t name_len,
                     const char *text, size_t text_len, double number, bool is_text);

/* ---------------------------------------------------------------------- */
/* String map (strmap.c): byte-string keys -> entry index in insertion order,
 * each entry with an int64_t value. Keys are copied into the map's arena. */
/* A slot: the entry, a tag (hash high 24 bits, key length low 8 bits) and
 * the key's first 8 bytes, so a lookup of a key of up to 8 bytes (most
 * ERP customer keys) is decided in the slot without reading the entry. */
typedef struct cs_strmap_slot {
    uint64_t head;  /* the key's first 8 bytes, zero padded */
    uint32_t tag;   /* (hash >> 40) << 8 | min(length, 255) */
    uint32_t entry; /* entry index + 1; 0 = empty */
} cs_strmap_slot;

typedef struct cs_strmap {
    cs_strmap_slot *slot; /* [cap] */
    size_t cap;           /* power of two */
    size_t count;         /* entries */
    size_t entry_cap;
    uint64_t *hash;    /* [count] */
    size_t *key_off;   /* [count] offset into arena */
    uint32_t *key_len; /* [count] */
    int64_t *value;    /* [count] caller's values */
    char *arena;
    size_t arena_len, arena_cap;
} cs_strmap;

void cs_strmap_init(cs_strmap *m);
void cs_strmap_free(cs_strmap *m);
/* Find @key; returns its entry index or -1. */
ptrdiff_t cs_strmap_find(const cs_strmap *m, const char *key, size_t len);
/* Find or insert @key (value 0 when inserted). Returns the entry index, or -1
 * when out of memory; *inserted tells which. */
ptrdiff_t cs_strmap_put(cs_strmap *m, const char *key, size_t len, bool *inserted);
/* The same in steps, for a caller with other work to do while the slot is
 * fetched from memory: h = cs_strmap_hash(key, len); cs_strmap_prefetch(m,
 * h); ...; cs_strmap_put_h(m, key, len, h, &inserted). */
uint64_t cs_strmap_hash(const char *key, size_t len);
void cs_strmap_prefetch(const cs_strmap *m, uint64_t h);
ptrdiff_t cs_strmap_put_h(cs_strmap *m, const char *key, size_t len, uint64_t h, bool *inserted);
/* Make room for @n entries and @key_bytes of keys in all (false when out of
 * memory; the map is unchanged then and still usable). */
bool cs_strmap_reserve(cs_strmap *m, size_t n, size_t key_bytes);
/* The key of entry @i (NUL-terminated in the arena; valid until the next put). */
static inline const char *cs_strmap_key(const cs_strmap *m, size_t i)
{
    return m->arena + m->key_off[i];
}

/* ---------------------------------------------------------------------- */
/* Validation helpers (ingest.c). Each returns NULL when valid, or a static
 * reason text. */
const char *cs_check_key(const char *s, size_t len);
bool cs_utf8_valid(const char *s, size_t len);

/* ---------------------------------------------------------------------- */
/* Dates (datetime.c). */
/* Days since 1970-01-01 for a proleptic Gregorian date; no validation. */
int64_t cs_days_from_civil(int64_t y, unsigned m, unsigned d);
void cs_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);
/* Parse @len bytes (not NUL-terminated). Returns 0 or CUSTSCORE_EINVAL and
 * sets *why to a static reason. */
int cs_parse_time_n(const char *text, size_t len, const char *format, int64_t *out,
                    const char **why);
/* Refuse an as-of time outside CUSTSCORE_TIME_MIN .. CUSTSCORE_TIME_MAX:
 * returns 0, or CUSTSCORE_ERANGE with the message "@what VALUE: outside the
 * supported time range ..." (@what names the function and the argument,
 * e.g. "custscore_fit: as-of time"). Model functions call it first so
 * that their day arithmetic (day * 86400, as_of + horizon) cannot overflow. */
int cs_check_as_of(custscore *db, int64_t as_of, const char *what);
/* Floor division of a timestamp to a day number. */
static inline int64_t cs_day_of(int64_t ts)
{
    int64_t d = ts / CS_SECONDS_PER_DAY;
    if (ts % CS_SECONDS_PER_DAY < 0)
        d--;
    return d;
}

/* ---------------------------------------------------------------------- */
/* Streaming RFC 4180 reader (csv.c). A record is read whole into the reader's
 * buffer (at most CUSTSCORE_MAX_LINE bytes), so memory stays bounded whatever
 * the file size. Fields are NUL-terminated copies with quotes removed. */
typedef struct cs_csv cs_csv;

typedef struct cs_csv_record {
    size_t nfields;
    char **field;    /* [nfields] NUL-terminated */
    size_t *len;     /* [nfields] lengths */
    int64_t line;    /* 1-based physical line where the record starts */
    const char *raw; /* the record's bytes as in the file (no line end) */
    size_t raw_len;
} cs_csv_record;

/* Open @path ("-" = standard input), or the memory @data/@size when path is
 * NULL. @delimiter 0 means ','; @whitespace splits on runs of blanks and
 * makes quotes ordinary characters. On failure returns a code and writes a
 * message into @err. */
int cs_csv_open(cs_csv **out, const char *path, const char *data, size_t size, char delimiter,
                bool whitespace, char *err, size_t err_size);
/* Read the next record. Returns 1 when a record was read, 0 at end of input,
 * CS_CSV_BAD_RECORD when the record is malformed (then rec->line,
 * *bad_column and *why say where and why, and the reader has skipped past
 * it, so reading can go on), or a negative custscore code on I/O or memory
 * failure (message in the reader: cs_csv_error()). Blank lines are skipped. */
#define CS_CSV_BAD_RECORD 2
int cs_csv_next(cs_csv *r, cs_csv_record *rec, int *bad_column, const char **why);
const char *cs_csv_error(const cs_csv *r);
/* Physical lines consumed so far. */
int64_t cs_csv_lines(const cs_csv *r);
void cs_csv_close(cs_csv *r);

/* ---------------------------------------------------------------------- */
/* Numbers (csv.c). Parse a decimal number of @len bytes: optional sign,
 * digits, '.', exponent; surrounding blanks allowed; NaN/Inf and anything
 * else rejected with a static reason. */
int cs_parse_double(const char *s, size_t len, double *out, const char **why);

/* Locale-independent number text (numtext.c): the C library's strtod() and
 * printf under the C locale for the calling thread (newlocale + uselocale
 * per call, no global state), whatever LC_NUMERIC the host set: '.' is the
 * decimal point, in and out. Use them for every number read from or
 * written to text that is stored or read back (model JSON and text, CSV
 * output, SVG). On the (out-of-memory) failure to make the C locale,
 * cs_strtod_c converts nothing (*end = s) and the printf ones return -1. */
double cs_strtod_c(const char *s, char **end);
int cs_vsnprintf_c(char *buf, size_t size, const char *fmt, va_list ap);
int cs_snprintf_c(char *buf, size_t size, const char *fmt, ...) CS_PRINTF(3, 4);
/* The shortest of "%.15g" / "%.17g" that reads back exactly; returns the
 * length, or -1 when @size is too small (40 bytes always suffice). */
int cs_fmt_double(char *buf, size_t size, double v);
/* Shortest exact text of finite v (a JSON number; buf >= 32 bytes): length, -1 for NaN/Inf. */
int cs_fmt_shortest(char *buf, double v);
/* The k-th smallest of v[0..n) (no NaN; v reordered around position k; clv.c). */
double cs_kth_smallest(double *v, size_t n, size_t k);
/* Median of the finite values of v[0..n), NaN when none; *oom set on no memory (score.c). */
double cs_median_finite(const double *v, size_t n, bool *oom);
/* sqlite3_step() under the C locale: for statements that read numbers out
 * of JSON (json_extract, json_each), which some SQLite builds convert with
 * the C library's strtod(). SQLITE_NOMEM when the locale cannot be made. */
int cs_step_c(sqlite3_stmt *st);

/* ---------------------------------------------------------------------- */
/* Order history (summary.c): every customer's orders, grouped by customer
 * (customers ordered by key, byte order) and sorted by time within each
 * customer. Models and scores read this instead of querying per customer. */
typedef struct cs_history {
    size_t n_customers;
    int64_t *customer_id; /* [n_customers] store ids */
    const char **key;     /* [n_customers] keys (NUL-terminated, in key_pool) */
    char *key_pool;
    size_t *offset; /* [n_customers + 1]: orders of i are offset[i] .. offset[i+1]-1 */
    size_t n_orders;
    int64_t *ts;     /* [n_orders] */
    double *revenue; /* [n_orders] */
    double *cost;    /* [n_orders], 0 where unknown */
    bool any_cost;   /* some order has a known cost */
    /* Borrowed from the handle's cache (read-only; cs_history_free gives it
     * back): the customer arrays always, the order arrays unless
     * own_orders (a copy filtered to an earlier as-of day). */
    struct cs_history_cache *cache;
    bool own_orders;
} cs_history;

/* Load all orders with ts on or before the day of @as_of (INT64_MAX: all).
 * The result may share arrays with the handle's cached history: treat it as
 * read-only and give it back with cs_history_free(). */
int cs_history_load(custscore *db, int64_t as_of, cs_history *out);
void cs_history_free(cs_history *h);
/* Drop the handle's cached history (borrowers keep theirs until freed). */
void cs_history_cache_drop(custscore *db);
/* Make @h (every order of the store, customers by key, each customer's
 * orders by time: what cs_history_load(db, INT64_MAX) would read) the
 * handle's cached history; takes the arrays and frees @h. @first_cost_ts:
 * the earliest order with a known cost (INT64_MAX: none); @data_version:
 * PRAGMA data_version that the store has with these contents. */
void cs_history_cache_install(custscore *db, cs_history *h, int64_t first_cost_ts,
                              int64_t data_version);
/* Whether cs_history_load(db, as_of) would use the handle's cached history
 * (no read of the store). */
bool cs_history_cached(custscore *db, int64_t as_of);
/* PRAGMA data_version of the handle's connection, -1 when it cannot be read. */
int64_t cs_data_version(custscore *db);
/* Index of @key in h->key (binary search), or -1. */
ptrdiff_t cs_history_find(const cs_history *h, const char *key);

/* Summaries of all customers of @h as of @as_of (orders after the as-of day
 * skipped) into @out[h->n_customers]; out[i].customer = h->key[i]. */
int cs_summary_compute(const cs_history *h, int64_t as_of, custscore_unit unit,
                       custscore_summary *out);
/* Summary of customer @i of @h (zero-revenue orders are adjustments). */
void cs_summary_of(const cs_history *h, size_t i, int64_t as_of, double unit_days,
                   custscore_summary *out);
/* The same with the purchase rule given: @zero_is_purchase counts orders of
 * revenue exactly 0 as purchase occasions. */
void cs_summary_of_ex(const cs_history *h, size_t i, int64_t as_of, double unit_days,
                      bool zero_is_purchase, custscore_summary *out);
/* True when an order of this revenue is a purchase (not a return/adjustment). */
static inline bool cs_is_purchase(double revenue, bool zero_is_purchase)
{
    return revenue > 0 || (zero_is_purchase && revenue == 0);
}

/* ---------------------------------------------------------------------- */
/* Customer value (rfm.c, segments.c, tiers.c, lifecycle.c, value.c). */

/* Format a message into @buf (NULL or size 0: nothing) and return @code. */
int cs_value_errf(char *buf, size_t size, int code, const char *fmt, ...) CS_PRINTF(4, 5);
/* Stable order: idx[0..n) receives 0..n-1 sorted by key ascending (descending
 * when @descending), equal keys in index order; -0.0 equals 0.0. Keys must not
 * be NaN. LSD radix sort, linear time. Returns 0 or CUSTSCORE_ENOMEM. */
int cs_order_by_double(const double *key, size_t n, bool descending, size_t *idx);
/* Sort @v[0..n) ascending in place (no NaN). Returns 0 or CUSTSCORE_ENOMEM. */
int cs_sort_doubles(double *v, size_t n);
/* R type 7 quantile of sorted[0..n), n >= 1, 0 <= p <= 1. */
double cs_quantile_sorted(const double *sorted, size_t n, double p);
/* custscore_score_bins() with a message in @err. */
int cs_score_bins(const double *values, size_t n, const custscore_bin_options *o, int *scores,
                  double *cuts, char *err, size_t err_size);
/* custscore_rfm_score() with a message in @err. */
int cs_rfm_score(const double *recency_days, const double *frequency, const double *monetary,
                 size_t n, const custscore_rfm_options *options, int *r, int *f, int *m,
                 int *segment, char *err, size_t err_size);
/* The same over arrays already masked alike (NaN in all three or none) and
 * options already checked: no copy. */
int cs_rfm_score_masked(const double *recency, const double *frequency, const double *monetary,
                        size_t n, const custscore_rfm_options *o, int *r, int *f, int *m,
                        int *segment, char *err, size_t err_size);
/* Check options; a reason goes to @err. */
int cs_rfm_check(const custscore_rfm_options *o, char *err, size_t err_size);
int cs_tier_check(const custscore_tier_options *o, char *err, size_t err_size);
/* Tiers of @n customers given the descending profit order (percentile mode;
 * @order unused and may be NULL in absolute mode). Options already checked. */
int cs_tiers_from_order(const double *profit, const size_t *order, size_t n,
                        const custscore_tier_options *o, int *tier);
/* Whale summary from profits sorted descending. */
void cs_whale_summary_sorted(const double *sorted_desc, size_t n, custscore_whale_summary *s);

/* Lifecycle: a customer's purchase rhythm, accumulated occasion by occasion
 * (distinct days, ascending) in the one pass over its orders. */
typedef struct cs_lifecycle_params {
    int64_t as_of_day;
    double window_days; /* W, whole days */
    double half_days;   /* W / 2 */
    int64_t lapse_days;
    int64_t new_max_repeats;
    double overdue_factor;
    double trend_tolerance;
} cs_lifecycle_params;

typedef struct cs_rhythm {
    int64_t occasions;
    int64_t first_day, last_day;
    int64_t recent;  /* occasions with age < W/2 */
    int64_t earlier; /* occasions with W/2 <= age < W */
} cs_rhythm;

int cs_lifecycle_params_init(const custscore_lifecycle_options *o, int64_t as_of,
                             cs_lifecycle_params *p, char *err, size_t err_size);
void cs_rhythm_add(cs_rhythm *r, const cs_lifecycle_params *p, int64_t day);
custscore_lifecycle cs_lifecycle_classify(const cs_rhythm *r, const cs_lifecycle_params *p);

/* Customer value of every customer of @h (value.c); out[i].customer = h->key[i]. */
int cs_value_compute(const cs_history *h, int64_t as_of, const custscore_value_options *o,
                     custscore_value *out, char *err, size_t err_size);

/* ---------------------------------------------------------------------- */
/* Lifetime value (specfun.c, optimize.c, btyd.c, pnbd.c, spend.c, fit.c,
 * model_store.c, clv.c, clv_store.c). Formulas and citations:
 * docs/models.md ("Lifetime value"). */

/* Special functions (specfun.c), all reentrant. cs_lgamma is log|Gamma(x)|
 * through lgamma_r (lgamma would write the global signgam). */
double cs_lgamma(double x);
double cs_lgamma_sign(double x, int *sign);
double cs_lbeta(double a, double b);
double cs_digamma(double x); /* x > 0 */
double cs_logaddexp(double a, double b);
double cs_log1pexp(double x); /* log(1 + e^x) */
double cs_log1mexp(double x); /* log(1 - e^x), x < 0 */
double cs_logsumexp(const double *v, size_t n);
/* Gauss 2F1(a, b; c; z) for real a, b, c (c not 0, -1, ...) and z < 1, as
 * log|F| and its sign. Returns 0, or -1 when it cannot be computed to about
 * 8 significant digits (the caller then uses another route). */
int cs_hyp2f1(double a, double b, double c, double z, double *log_abs, int *sign);
/* Adaptive Gauss-Legendre: log of the integral over [lo, hi] of exp(f(u)),
 * f evaluated relative to @ref (about the maximum of f, so that nothing
 * overflows). Returns 0 or -1 (not converged or not finite). */
typedef double (*cs_log_integrand_fn)(double u, void *ctx);
int cs_integrate_log(cs_log_integrand_fn f, void *ctx, double lo, double hi, double ref,
                     double rel_tol, double *log_result);

/* Bounded quasi-Newton minimisation (optimize.c). */
#define CS_OPT_MAX_DIM 8
#define CS_OPT_MAX_STARTS 8
/* Objective: f at theta, and its gradient when @grad is not NULL (only
 * asked for when analytic_gradient). Nonzero return: infeasible point. */
typedef int (*cs_objective_fn)(const double *theta, double *f, double *grad, void *ctx);
enum cs_opt_status {
    CS_OPT_CONVERGED = 0,
    CS_OPT_MAX_ITER = 1,
    CS_OPT_LINE_SEARCH = 2,
    CS_OPT_NOT_FINITE = 3
};
typedef struct cs_opt_problem {
    int n;
    cs_objective_fn fn;
    void *ctx;
    bool analytic_gradient; /* else central differences */
    double lower[CS_OPT_MAX_DIM], upper[CS_OPT_MAX_DIM];
    int max_iterations;
    double gtol; /* on the largest projected gradient component */
    /* Initial inverse Hessian (n x n), e.g. from a fit on a subsample;
     * NULL: the identity, scaled after the first step. */
    const double *hinv0;
} cs_opt_problem;
typedef struct cs_opt_result {
    double theta[CS_OPT_MAX_DIM];
    double grad[CS_OPT_MAX_DIM];
    double f;
    double grad_norm;
    int iterations, evaluations;
    int status;                                   /* enum cs_opt_status */
    double hinv[CS_OPT_MAX_DIM * CS_OPT_MAX_DIM]; /* final inverse Hessian approximation */
} cs_opt_result;
int cs_minimize(const cs_opt_problem *p, const double *start, cs_opt_result *res);
/* Minimise from @n_starts rows of @starts; *best is the best converged run
 * (else the best run). Returns 0 or -1. */
int cs_minimize_multistart(const cs_opt_problem *p, int n_starts, const double *starts,
                           cs_opt_result *best, int *converged, int *agreeing);
int cs_numeric_gradient(const cs_opt_problem *p, const double *theta, double f0, double *grad,
                        int *evals);
/* Hessian of p->fn at theta (n x n row-major) by central differences. */
int cs_numeric_hessian(const cs_opt_problem *p, const double *theta, double *hess);
int cs_cholesky(int n, double *a); /* in place, lower triangle; -1 if not PD */
int cs_spd_inverse(int n, const double *a, double *inv);

/* Grouping of rows with equal values (btyd.c): @k (1..3) columns of @n rows;
 * group[i] receives row i's group, groups numbered by first appearance;
 * *first (allocated with cs_malloc, the caller frees) the first row of each
 * group. Returns 0, CUSTSCORE_ENOMEM or CUSTSCORE_ERANGE (n >= 2^32). */
int cs_group_rows(size_t n, int k, const double *const *cols, uint32_t *group, size_t *n_groups,
                  size_t **first);

/* Purchase-model data compressed to unique (x, t_x, T) with counts, times
 * divided by time_scale, plus the distinct values of x, T and t_x so that
 * terms depending on one of them are computed once per value. */
typedef struct cs_btyd_data {
    size_t n; /* unique patterns */
    double *x, *t_x, *T, *w;
    double total_w, sum_wx, time_scale;
    size_t n_xv, n_Tv, n_tv;
    double *xv, *Tv, *tv;
    uint32_t *xi, *Ti, *ti;
} cs_btyd_data;
/* Validate and compress; @group (optional, [n]) receives each row's
 * pattern. time_scale <= 0: the weighted mean T. A message goes to @err. */
int cs_btyd_data_build(size_t n, const double *x, const double *t_x, const double *T,
                       const double *w, double time_scale, uint32_t *group, cs_btyd_data *d,
                       char *err, size_t err_size);
void cs_btyd_data_free(cs_btyd_data *d);
/* Check a parameter set for its model. */
bool cs_btyd_params_valid(const custscore_btyd_params *p);
/* Weighted log-likelihood of compressed data (in the data's scaled time);
 * @grad (NULL or 4 values) receives d LL / d(natural parameters); @ws holds
 * cs_btyd_ws_size(d) doubles. Returns 0 or -1 (not finite). */
size_t cs_btyd_ws_size(const cs_btyd_data *d);
int cs_btyd_loglik_data(const custscore_btyd_params *p, const cs_btyd_data *d, double *ll,
                        double *grad, double *ws);
/* One customer: log-likelihood; log P(alive) and log(1 - P(alive)). */
int cs_btyd_loglik_one(const custscore_btyd_params *p, double x, double t_x, double T, double *ll);
int cs_btyd_log_p_alive(const custscore_btyd_params *p, double x, double t_x, double T,
                        double *log_alive, double *log_dead);
/* Expected purchases in (T, T + t] of a customer alive at T with x repeat
 * purchases (E[X(t) | ...] = P(alive) * this). */
int cs_btyd_alive_expected(const custscore_btyd_params *p, double x, double T, double t,
                           double *out);
/* log P(no purchase in (T, T + t] | alive at T, x). */
int cs_btyd_log_none_alive(const custscore_btyd_params *p, double x, double T, double t,
                           double *out);
/* Pareto/NBD (pnbd.c). */
int cs_pnbd_loglik_one(const custscore_btyd_params *p, double x, double t_x, double T, double *ll);
int cs_pnbd_log_p_alive(const custscore_btyd_params *p, double x, double t_x, double T,
                        double *log_alive, double *log_dead);
int cs_pnbd_log_none_alive(const custscore_btyd_params *p, double x, double T, double t,
                           double *out);
int cs_pnbd_pmf(const custscore_btyd_params *p, double t, size_t max_n, double *out);
/* log of the integral of (alpha+u)^-(r+x) (beta+u)^-(s+1) over [t0, t1]. */
int cs_pnbd_log_integral(double rx, double s, double alpha, double beta, double t0, double t1,
                         double *out);

/* Gamma-Gamma (spend.c). */
bool cs_gg_params_valid(const custscore_gg_params *p);
/* E[spend | x, mean_spend]; NaN when undefined (x = 0 and q <= 1). */
double cs_gg_expected_spend_one(const custscore_gg_params *p, double x, double mean_spend);
/* Fitting data: customers with x >= 1 and mean spend > 0, spend divided by
 * their mean spend, with the distinct x values. */
typedef struct cs_gg_data {
    size_t n;
    double *x, *z, *lz; /* z = mean spend / scale, lz = log z */
    double scale, mean_spend;
    size_t n_xv;
    double *xv;
    uint32_t *xi;
} cs_gg_data;
int cs_gg_data_build(size_t n, const double *x, const double *mean_spend, cs_gg_data *d,
                     int64_t *excluded, double *corr);
void cs_gg_data_free(cs_gg_data *d);
size_t cs_gg_ws_size(const cs_gg_data *d);
int cs_gg_loglik_data(const custscore_gg_params *p, const cs_gg_data *d, double *ll, double *grad,
                      double *ws);

/* Fits (fit.c). @info is filled as far as the fit got; a message goes to
 * @err. */
const char *cs_model_title(custscore_model model); /* "BG/NBD", ... */
const char *cs_unit_text(custscore_unit unit);     /* "week", ...; NULL if unknown */
int cs_unit_from_text(const char *text, custscore_unit *out);
/* Copy info->param into info->btyd or info->gg. */
void cs_fit_info_views(custscore_fit_info *info);
void cs_fit_info_init(custscore_fit_info *info, custscore_model model, custscore_unit unit);
int cs_btyd_fit_data(const cs_btyd_data *d, const custscore_fit_options *o,
                     custscore_fit_info *info, char *err, size_t err_size);
int cs_fit_options_check(const custscore_fit_options *o, custscore_fit_options *out, char *err,
                         size_t err_size);

/* CLV (clv.c; the store functions in clv_store.c). */
typedef struct cs_clv_plan {
    double horizon; /* in model units */
    int periods;
    double *t;    /* [periods + 1], t[0] = 0: period ends in model units */
    double *disc; /* [periods], (1 + d)^-(t_k / year) */
    double margin;
    double level;
    int draws;
    uint64_t seed;
} cs_clv_plan;
typedef struct cs_clv_out {
    double *p_alive, *expected_purchases, *expected_spend, *clv, *clv_low, *clv_high;
} cs_clv_out;
/* Check @o (NULL: defaults), fill in defaults (margin 0 -> @default_margin)
 * into @out and build the discounting plan for a model in @model_unit. */
int cs_clv_options_resolve(const custscore_clv_options *o, custscore_unit model_unit,
                           double default_margin, custscore_clv_options *out, cs_clv_plan *plan,
                           char *err, size_t err_size);
void cs_clv_plan_free(cs_clv_plan *plan);
/* CLV of @n customers (outputs may be NULL); *total the sum of clv. */
int cs_clv_compute(const custscore_fit_info *pm, const custscore_fit_info *sm,
                   const cs_clv_plan *plan, size_t n, const double *x, const double *t_x,
                   const double *T, const double *zbar, cs_clv_out *out, double *total, char *err,
                   size_t err_size);
void cs_clv_info_fill(custscore_clv_info *info, const custscore_fit_info *pm,
                      const custscore_fit_info *sm, const custscore_clv_options *o,
                      const cs_clv_plan *plan, int64_t as_of, int64_t customers, double total,
                      bool from_costs);

/* Local random numbers (clv.c): xoshiro256** seeded by splitmix64. */
typedef struct cs_rng {
    uint64_t s[4];
} cs_rng;
void cs_rng_seed(cs_rng *g, uint64_t seed);
uint64_t cs_rng_next(cs_rng *g);
double cs_rng_uniform(cs_rng *g); /* (0, 1) */
double cs_rng_normal(cs_rng *g);

/* ---------------------------------------------------------------------- */
/* Churn risk (logistic.c, churn_features.c, churn_model.c, churn.c,
 * churn_score.c; docs/models.md ("Churn risk")). */

/* logistic.c */
double cs_sigmoid(double eta);
/* custscore_logistic_fit() that also returns the weighted means and standard
 * deviations of the features ([p] each, may be NULL; sd 0 = constant). */
int cs_logistic_fit(const double *x, size_t n, size_t p, const double *y, const double *weight,
                    const custscore_logistic_options *options, double *coef, double *se,
                    double *mean_out, double *sd_out, custscore_logistic_info *info, char *errbuf,
                    size_t errbuf_size);
/* AUC, Brier score, top-decile lift, base rate and (when @calibration is
 * not NULL and 0 < bins <= n) a calibration table, with one sort. Values
 * that do not exist (AUC with one class) are NaN. Returns 0,
 * CUSTSCORE_EINVAL (bad input) or CUSTSCORE_ENOMEM. */
int cs_classifier_metrics(const double *prob, const double *label, size_t n, double *auc,
                          double *brier, double *lift_top_decile, size_t bins,
                          custscore_calibration_bin *calibration, double *base_rate);

/* churn_features.c: one customer's purchase behaviour at a reference day
 * (orders on days <= ref_day). occasions 0 = no purchase yet (rest 0). */
typedef struct cs_churn_behaviour {
    double occasions;                   /* purchase occasions (days with an order of revenue > 0) */
    double recency_days;                /* ref_day - last occasion */
    double tenure_days;                 /* ref_day - first occasion */
    double usual_gap_days;              /* ((last - first) + prior gap) / occasions */
    double mean_spend;                  /* net revenue per occasion, >= 0 */
    double freq_recent, freq_earlier;   /* occasions in the recent / earlier half of the lookback */
    double spend_recent, spend_earlier; /* net revenue (>= 0) in each half */
} cs_churn_behaviour;

void cs_churn_behaviour_of(const cs_history *h, size_t i, int64_t ref_day, double lookback_days,
                           double prior_gap_days, cs_churn_behaviour *out);
/* Has customer i a purchase occasion on a day in (after_day, through_day]? */
bool cs_churn_purchased_between(const cs_history *h, size_t i, int64_t after_day,
                                int64_t through_day);
/* Median over repeat buyers (>= 2 occasions by ref_day) of their mean gap
 * between occasions, in days; 0 when there is none. */
int cs_churn_median_gap(const cs_history *h, int64_t ref_day, double *out);

/* Store customer id -> position in a cs_history. */
typedef struct cs_churn_id_pos {
    int64_t id;
    size_t pos;
} cs_churn_id_pos;
typedef struct cs_churn_index {
    size_t n;
    cs_churn_id_pos *entry; /* sorted by id */
} cs_churn_index;
int cs_churn_index_build(const cs_history *h, cs_churn_index *ix);
ptrdiff_t cs_churn_index_find(const cs_churn_index *ix, int64_t id);
void cs_churn_index_free(cs_churn_index *ix);

/* All complaints grouped by history position, sorted by time. */
typedef struct cs_churn_complaints {
    size_t count;
    size_t *offset;    /* [n_customers + 1], NULL when not loaded */
    int64_t *ts;       /* [count] */
    int64_t *resolved; /* [count], 0 = unresolved */
} cs_churn_complaints;
int cs_churn_complaints_load(custscore *db, const cs_history *h, const cs_churn_index *ix,
                             cs_churn_complaints *out);
/* Complaints of customer i in the @recent_days days up to ref_day, and those
 * made by ref_day and not resolved by then. */
void cs_churn_complaint_counts(const cs_churn_complaints *c, size_t i, int64_t ref_day,
                               double recent_days, double *recent, double *unresolved);
void cs_churn_complaints_free(cs_churn_complaints *c);

/* One customer attribute for every customer of a history: numbers (NaN when
 * missing) or, when any value is a word, categorical levels (index into
 * @levels, -1 when missing). Blank text is missing; numeric text a number. */
typedef struct cs_churn_attribute {
    bool categorical;
    double *number; /* [n_customers] */
    int32_t *level; /* [n_customers] */
    cs_strmap levels;
    size_t n_numbers, n_texts;
} cs_churn_attribute;
int cs_churn_attribute_load(custscore *db, const cs_history *h, const cs_churn_index *ix,
                            const char *name, cs_churn_attribute *out);
void cs_churn_attribute_free(cs_churn_attribute *a);

/* churn_model.c: the model in memory and its card in the store. */
enum cs_churn_builtin {
    CS_CHURN_RECENCY_RATIO,         /* log(1 + recency / usual gap) */
    CS_CHURN_RECENCY_DAYS,          /* log(1 + recency in days) */
    CS_CHURN_FREQUENCY,             /* log(occasions) */
    CS_CHURN_MONETARY,              /* log(1 + net revenue per occasion) */
    CS_CHURN_FREQUENCY_TREND,       /* (recent - earlier) / (recent + earlier) occasions */
    CS_CHURN_SPEND_TREND,           /* the same for net revenue */
    CS_CHURN_TENURE,                /* log(1 + days since the first occasion) */
    CS_CHURN_P_ALIVE,               /* P(alive) under the fitted BTYD model */
    CS_CHURN_SATISFACTION,          /* latest satisfaction (mean-imputed when missing) */
    CS_CHURN_SATISFACTION_MISSING,  /* 1 when there is none */
    CS_CHURN_COMPLAINTS_RECENT,     /* complaints in the last complaint_days */
    CS_CHURN_COMPLAINTS_UNRESOLVED, /* complaints not resolved by the reference day */
    CS_CHURN_BUILTIN_COUNT
};
extern const char *const cs_churn_builtin_name[CS_CHURN_BUILTIN_COUNT];
extern const char *const cs_churn_builtin_group[CS_CHURN_BUILTIN_COUNT];

enum cs_churn_col_kind {
    CS_CHURN_COL_BUILTIN = 1, /* one of cs_churn_builtin */
    CS_CHURN_COL_NUMERIC,     /* a numeric attribute (mean-imputed) */
    CS_CHURN_COL_MISSING,     /* 1 when the numeric attribute is missing */
    CS_CHURN_COL_LEVEL,       /* 1 when the categorical attribute has this level */
    CS_CHURN_COL_OTHER        /* 1 for a pooled rare or unseen level */
};

typedef struct cs_churn_col {
    char *name, *group;
    int kind, builtin;
    char *attribute, *level; /* attribute columns */
    double coef, se, mean, sd;
} cs_churn_col;

#define CS_CHURN_BINS CUSTSCORE_CHURN_CALIBRATION_BINS

typedef struct cs_churn_model {
    char *name;
    int method;
    int64_t fitted_at, as_of, cutoff;
    double window_days, lookback_days, complaint_days, prior_gap_days;
    double l2, holdout, rare_level, band_medium, band_high;
    uint64_t seed;
    char *label, *label_positive, *btyd_model, *survey_model;
    bool behaviour;
    double intercept, intercept_se;
    size_t n_cols;
    cs_churn_col *col;
    size_t n_dropped;
    char **dropped; /* features left out as constant in the training data */
    size_t n_groups;
    const char **group; /* [n_groups] distinct col[].group in order (not owned) */
    size_t *col_group;  /* [n_cols] */
    /* info */
    int64_t n_train, n_holdout;
    double base_rate, holdout_base_rate, train_auc, auc, brier, lift, loglik;
    int iterations;
    bool converged;
    size_t n_calibration;
    custscore_calibration_bin calibration[CS_CHURN_BINS];
    char *params_json, *info_json; /* as read from the store (NULL when trained) */
} cs_churn_model;

const char *cs_churn_method_name(int method);
void cs_churn_model_free(cs_churn_model *m);
/* Fill m->group / m->col_group from the columns. */
int cs_churn_model_groups(cs_churn_model *m);
/* Insert the card into the model table. */
int cs_churn_model_store(custscore *db, const cs_churn_model *m);
/* Newest card named @name; CUSTSCORE_ENOMODEL when none. */
int cs_churn_model_load(custscore *db, const char *name, cs_churn_model *m);
int cs_churn_card_from_model(const cs_churn_model *m, custscore_churn_card **out);

/* churn_features.c: a customer's feature row at a reference day. */
#define CS_CHURN_MISSING_LEVEL "(missing)"
#define CS_CHURN_OTHER_LEVEL "(other)"

typedef struct cs_churn_attr_cols {
    char *name;
    cs_churn_attribute values;
    ptrdiff_t numeric_col, missing_col, other_col, missing_level_col; /* -1 = none */
    ptrdiff_t *level_col; /* [levels.count + 1]: column of each level, or -1 */
} cs_churn_attr_cols;

typedef struct cs_churn_ctx {
    custscore *db;
    const cs_history *h;
    int64_t ref_day;
    cs_churn_index ix;
    cs_churn_complaints complaints;
    double *p_alive;      /* [n_customers] at ref_day, or NULL when there is no BTYD model */
    double *satisfaction; /* [n_customers], NaN when missing; NULL when unavailable */
    size_t n_attrs;
    cs_churn_attr_cols *attr;
} cs_churn_ctx;

int cs_churn_ctx_open(custscore *db, const cs_history *h, int64_t ref_day, cs_churn_ctx *ctx);
/* Build ctx->ix when not built yet (it is built only when needed). */
int cs_churn_ctx_index(cs_churn_ctx *ctx);
void cs_churn_ctx_close(cs_churn_ctx *ctx);
ptrdiff_t cs_churn_ctx_find_attribute(const cs_churn_ctx *ctx, const char *name);
/* Load attribute @name for every customer (a no-op when loaded). */
int cs_churn_ctx_add_attribute(cs_churn_ctx *ctx, const char *name);
/* Map the model's attribute columns onto the loaded attributes (loading
 * those not loaded yet). */
int cs_churn_ctx_bind(cs_churn_ctx *ctx, const cs_churn_model *m);
/* Fill row[m->n_cols] for customer i; NaN marks a missing value, which the
 * caller imputes with the column mean. @bh receives the behaviour. */
void cs_churn_row(const cs_churn_model *m, const cs_churn_ctx *ctx, size_t i, double *row,
                  cs_churn_behaviour *bh);

/* churn.c */
typedef struct cs_churn_settings {
    int method;          /* 0 = the stored model's (scoring) */
    int64_t window_days; /* 0 = the stored model's (scoring) */
    const char *label, *label_positive, *features, *model_name, *btyd_model, *survey_model;
    bool behaviour, store, clv;
    double holdout, l2, lookback_days, complaint_days, rare_level;
    double band_medium, band_high; /* 0 = the stored model's (scoring) */
    uint64_t seed;
} cs_churn_settings;
int cs_churn_settings_get(custscore *db, const custscore_churn_options *o, bool training,
                          cs_churn_settings *s);

/* churn_features.c: P(alive) of every customer at ctx->ref_day under a BTYD
 * model of the kind and unit of the stored one named @btyd_model (NULL: the
 * latest), refitted on the data up to ref_day. Sets ctx->p_alive (NULL when
 * no BTYD model is stored, or the refit fails: the feature is then left
 * out) and *used (owned) to the stored model's name. */
int cs_churn_ctx_p_alive(cs_churn_ctx *ctx, const char *btyd_model, char **used);
/* Latest satisfaction (0-100, satisfaction module) of every customer at
 * ctx->ref_day under the survey model @survey_model (NULL: the latest
 * stored one; none stored: ctx->satisfaction stays NULL and the feature is
 * left out); NaN for customers without answers. *used (owned) receives the
 * survey model's name. */
int cs_churn_ctx_satisfaction(cs_churn_ctx *ctx, const char *survey_model, char **used);

/* churn.c, churn_score.c: training and scoring on a loaded history (the
 * public functions load it from the store first). */
int cs_churn_train_history(custscore *db, const cs_history *h, int64_t as_of,
                           const cs_churn_settings *s, cs_churn_model *out);
int cs_churn_score_history(custscore *db, const cs_history *h, const cs_churn_model *m,
                           int64_t as_of, double band_medium, double band_high, bool with_clv,
                           const char *clv_purchase_model, custscore_churn_fn fn, void *payload);

/* ---------------------------------------------------------------------- */
/* Text buffer and SVG charts for the HTML report (svg.c). A buffer that
 * failed to grow sets `failed` and ignores further appends. */
typedef struct cs_buf {
    char *data;
    size_t len, cap;
    bool failed;
} cs_buf;

void cs_buf_init(cs_buf *b);
void cs_buf_free(cs_buf *b);
void cs_buf_add(cs_buf *b, const char *s, size_t len);
void cs_buf_puts(cs_buf *b, const char *s);
void cs_buf_printf(cs_buf *b, const char *fmt, ...) CS_PRINTF(2, 3);
/* Append @s with HTML special characters escaped. */
void cs_buf_html(cs_buf *b, const char *s);
/* Short number for labels: 1.23M, 45.6k, 0.123. */
void cs_fmt_num(char *out, size_t size, double v);

typedef struct cs_chart_line {
    const char *id, *title, *x_label, *y_label, *note;
    const double *x, *y;
    size_t n;
    bool x_percent, y_percent;
    ptrdiff_t mark; /* index of a highlighted point, or -1 */
    const char *mark_label;
} cs_chart_line;

typedef struct cs_chart_bars {
    const char *id, *title, *note;
    const char *const *label;
    const double *value;
    const char *const *annotation; /* optional text after each value */
    size_t n;
} cs_chart_bars;

typedef struct cs_chart_heatmap {
    const char *id, *title, *note, *col_prefix;
    const char *const *row_label;
    const double *value; /* [rows * cols] shares 0..1, NaN = empty */
    size_t rows, cols;
} cs_chart_heatmap;

typedef struct cs_chart_quadrant {
    const char *id, *title, *x_label, *y_label, *note;
    const double *x, *y;
    const int *group; /* quadrant class per point (0..3), or NULL */
    size_t n, max_points;
    double x_split, y_split;
    bool y_percent;
    const char *quadrant_name[4]; /* high-high, low-x high-y, high-x low-y, low-low */
    int64_t quadrant_count[4];
    const char *const *point_label; /* optional label per point (few points: all drawn) */
    bool log_scale;                 /* both axes sign(v) log10(1 + |v|), for skewed money values */
} cs_chart_quadrant;

typedef struct cs_chart_histogram {
    const char *id, *title, *x_label, *y_label, *note;
    const double *edge;  /* [n + 1] ascending bin edges */
    const double *count; /* [n] */
    size_t n;
    bool last_open; /* the last bin holds everything from edge[n - 1] up */
} cs_chart_histogram;

typedef struct cs_chart_pyramid {
    const char *id, *title, *note;
    const char *const *name; /* top level first */
    const int64_t *count;
    const double *profit;
    size_t n;
} cs_chart_pyramid;

void cs_svg_line(cs_buf *b, const cs_chart_line *c);
void cs_svg_bars(cs_buf *b, const cs_chart_bars *c);
void cs_svg_heatmap(cs_buf *b, const cs_chart_heatmap *c);
void cs_svg_quadrant(cs_buf *b, const cs_chart_quadrant *c);
void cs_svg_pyramid(cs_buf *b, const cs_chart_pyramid *c);
void cs_svg_histogram(cs_buf *b, const cs_chart_histogram *c);

/* ---------------------------------------------------------------------- */
/* Satisfaction index (pls.c, csi_model.c, csi.c, csi_extra.c). */

/* Write a formatted message into @errbuf (if not NULL and @size > 0);
 * returns @code, for `return cs_errbuf(errbuf, size, CUSTSCORE_EINVAL, ...)`. */
int cs_errbuf(char *errbuf, size_t size, int code, const char *fmt, ...) CS_PRINTF(4, 5);

/* A survey model (csi_model.c). Items belong to one construct each; the
 * NPS item may be outside every construct. */
typedef struct cs_survey_item {
    char *name;
    int construct;   /* index into constructs */
    double min, max; /* answer scale */
    bool reversed;   /* recoded as max + min - answer */
    double weight;   /* fixed weight for the few-respondents fallback (default 1) */
} cs_survey_item;

typedef struct cs_survey_construct {
    char *name;
    int mode; /* custscore_pls_mode */
} cs_survey_construct;

struct custscore_survey_model {
    char *name;
    double default_min, default_max; /* scale of items added without one */
    size_t n_constructs, cap_constructs;
    cs_survey_construct *constructs;
    cs_strmap construct_index; /* construct name -> index into constructs */
    size_t n_items, cap_items;
    cs_survey_item *items;
    cs_strmap item_index; /* item name -> index into items (entry i is items[i]) */
    size_t n_paths, cap_paths;
    int *path_from, *path_to; /* [n_paths] */
    int target;               /* target construct, -1 when not set */
    char *nps_item;           /* NULL when none */
};

/* Index of the construct / item named @name, or -1, through
 * m->construct_index / m->item_index (hashes: parsing N names is O(N)). */
int cs_survey_find_construct(const custscore_survey_model *m, const char *name);
int cs_survey_find_item(const custscore_survey_model *m, const char *name);
/* Rebuild m->item_index after items were removed from m->items.
 * Returns 0 or CUSTSCORE_ENOMEM (the index is then empty: call again). */
int cs_survey_reindex_items(custscore_survey_model *m);
/* Check the model is complete for fitting: >= 2 constructs, each with items
 * and a path, a target. Returns 0 or CUSTSCORE_EINVAL with a message
 * (CUSTSCORE_ENOMEM when out of memory). Linear in the model's size. */
int cs_survey_check(const custscore_survey_model *m, char *errbuf, size_t size);
/* The model in the text format, cs_malloc'ed (NUL-terminated). */
int cs_survey_text(const custscore_survey_model *m, char **out);
/* Deep copy. */
int cs_survey_copy(const custscore_survey_model *m, custscore_survey_model **out);

/* Survey answers from the store as a respondent x item matrix (csi.c): a
 * respondent is one customer on one UTC day; the latest answer to an item
 * that day wins. Only respondents with an answer to one of @items count. */
typedef struct cs_response_matrix {
    size_t n_rows, n_cols;
    double *data;         /* [n_rows * n_cols], NaN where not answered */
    int64_t *customer_id; /* [n_rows] store id */
    int64_t *ts;          /* [n_rows] latest answer time of the respondent */
    char **key;           /* [n_rows] customer key (shared between rows of a customer) */
    char *key_pool;       /* owns the keys */
} cs_response_matrix;

/* Load answers to @items (n_items names) with from <= ts <= to (0: no
 * bound), ordered by customer key then time. */
int cs_response_matrix_load(custscore *db, const char *const *items, size_t n_items, int64_t from,
                            int64_t to, cs_response_matrix *out);
void cs_response_matrix_free(cs_response_matrix *m);

/* Latest satisfaction 0-100 of every customer with answers to the target
 * items on or before @as_of (0: all), for the churn model: weights from @fit,
 * else the latest saved index of @model, else equal. Sorted by customer id. */
typedef struct cs_csi_score {
    int64_t customer_id;
    int64_t ts;          /* when the customer answered */
    double satisfaction; /* 0-100 */
} cs_csi_score;
int cs_csi_customer_scores(custscore *db, const custscore_survey_model *model,
                           const custscore_csi_result *fit, int64_t as_of, cs_csi_score **out,
                           size_t *n);

/* Model building blocks shared by csi_model.c and csi_text.c. */
/* 0 when @name is a valid construct/item name (1..255 bytes of UTF-8, no
 * control characters), else CUSTSCORE_EINVAL. */
int cs_survey_check_name(const char *name);
/* Add an item to construct index @construct; CUSTSCORE_EINVAL for a bad or
 * duplicate name or scale, CUSTSCORE_ERANGE when the model has
 * CUSTSCORE_MAX_SURVEY_ITEMS items already. */
int cs_survey_add_item(custscore_survey_model *m, int construct, const char *item, double lo,
                       double hi, bool reversed, double weight);
/* NULL when the path @from -> @to may be added, else a static reason and
 * *code (CUSTSCORE_EINVAL: self-loop, duplicate, cycle; CUSTSCORE_ENOMEM). */
const char *cs_survey_path_problem(custscore_survey_model *m, int from, int to, int *code);
int cs_survey_add_path(custscore_survey_model *m, int from, int to);

/* ---------------------------------------------------------------------- */
/* Scoring (score.c, report.c). */
/* Append the JSON object of one score row. */
void cs_score_json(cs_buf *b, const custscore_score *s);
/* Churn scores of every customer of @h as of @as_of with the store's trained
 * churn model (custscore_churn_score_each()), merged by key: churn[i] (NaN
 * when not scored), band_level[i] (0 low, 1 medium, 2 high, -1 none; the
 * model's thresholds, or @band_medium/@band_high when these are > 0), and
 * *reasons (n * CUSTSCORE_REASONS owned strings, NULL for none) with
 * *contributions. Without a trained model leaves churn NaN, writes why into
 * @note and returns 0. */
int cs_score_churn(custscore *db, int64_t as_of, const cs_history *h, double band_medium,
                   double band_high, double *churn, int *band_level, char ***reasons,
                   double **contributions, char *note, size_t note_size);

#endif /* CUSTSCORE_INTERNAL_H */
