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
    CS_STMT_CUSTOMER_FIND,     /* SELECT id FROM customer WHERE key=?1 */
    CS_STMT_CUSTOMER_INSERT,   /* INSERT INTO customer(key, created) */
    CS_STMT_CUSTOMER_CREATED,  /* UPDATE customer SET created=?2 WHERE id=?1 */
    CS_STMT_ORDER_UPDATE,      /* UPDATE orders ... WHERE customer=? AND order_key=? */
    CS_STMT_ORDER_INSERT,      /* INSERT INTO orders */
    CS_STMT_ATTRIBUTE_UPSERT,  /* INSERT OR REPLACE INTO attribute */
    CS_STMT_RESPONSE_UPDATE,   /* UPDATE response SET value WHERE customer, ts, item */
    CS_STMT_RESPONSE_INSERT,   /* INSERT INTO response */
    CS_STMT_COMPLAINT_UPDATE,  /* UPDATE complaint WHERE customer, ts */
    CS_STMT_COMPLAINT_INSERT,  /* INSERT INTO complaint */
    CS_STMT_COUNT_CUSTOMERS,   /* SELECT count(*) FROM customer */
    CS_STMT_ORDERS_OF_ONE,     /* orders of one customer, by ts */
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
    char *scratch_key; /* owned copy behind custscore_summary_one()'s out->customer */
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
/* Floor division of a timestamp to a day number. */
static inline int64_t cs_day_of(int64_t ts)
{
    int64_t d = ts / CS_SECONDS_PER_DAY;
    if (ts % CS_SECONDS_PER_DAY < 0)
        d--;
    return d;
}

/* ---------------------------------------------------------------------- */
/* Numbers (csv.c). Parse a decimal number of @len bytes: optional sign,
 * digits, '.', exponent; surrounding blanks allowed; NaN/Inf and anything
 * else rejected with a static reason. */
int cs_parse_double(const char *s, size_t len, double *out, const char **why);

/* ---------------------------------------------------------------------- */
/* Order history (summary.c): every customer's orders, grouped by customer
 * (customers ordered by key, byte order) and sorted by time within each
 * customer. Models and scores read this instead of querying per customer. */
typedef struct cs_history {
    size_t n_customers;
    int64_t *customer_id; /* [n_customers] store ids */
    const char **key;     /* [n_customers] keys (NUL-terminated, in key_pool) */
    char *key_pool;
    size_t *offset;       /* [n_customers + 1]: orders of i are offset[i] .. offset[i+1]-1 */
    size_t n_orders;
    int64_t *ts;          /* [n_orders] */
    double *revenue;      /* [n_orders] */
    double *cost;         /* [n_orders], 0 where unknown */
    bool any_cost;        /* some order has a known cost */
} cs_history;

/* Load all orders with ts on or before the day of @as_of (INT64_MAX: all). */
int cs_history_load(custscore *db, int64_t as_of, cs_history *out);
void cs_history_free(cs_history *h);
/* Index of @key in h->key (binary search), or -1. */
ptrdiff_t cs_history_find(const cs_history *h, const char *key);

/* Summaries of all customers of @h as of @as_of (orders after the as-of day
 * skipped) into @out[h->n_customers]; out[i].customer = h->key[i]. */
int cs_summary_compute(const cs_history *h, int64_t as_of, custscore_unit unit,
                       custscore_summary *out);
/* Summary of customer @i of @h. */
void cs_summary_of(const cs_history *h, size_t i, int64_t as_of, double unit_days,
                   custscore_summary *out);

#endif /* CUSTSCORE_INTERNAL_H */
