/*
 * fuzz_targets.c: the fuzz targets (see fuzz.h and docs/reliability.md).
 *
 * Besides "no crash, no sanitizer report", each target checks properties the
 * library promises and aborts when one fails:
 * - a failed call leaves the store exactly as it was (a fingerprint of every
 *   table before and after), and sets a message; a successful one clears it;
 * - an import that succeeded, run again, adds nothing and replaces what it
 *   wrote (idempotent re-import), and the summary sees every order;
 * - a parsed date formats and parses back to the same time;
 * - a parsed survey model written out and parsed again writes the same text.
 *
 * The targets reach the handle's SQLite connection through src/internal.h
 * (they link the internal static library) only to read the fingerprint.
 * Parts of the API that the model modules add are compiled in when the
 * header has them (tested through each section's options version macro),
 * so these targets grow with the library.
 */
#include "fuzz.h"

#include "custscore.h"
#include "internal.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Helpers */

static void fz_fail(const char *what, const char *file, int line, const char *detail)
{
    fprintf(stderr, "%s:%d: fuzz property failed: %s%s%s\n", file, line, what,
            detail && *detail ? ": " : "", detail ? detail : "");
    fflush(stderr);
    abort();
}

#define FZ_CHECK(cond, detail)                                                                     \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fz_fail(#cond, __FILE__, __LINE__, (detail));                                          \
    } while (0)

/* A byte reader that yields zeros once the input is used up. */
typedef struct fz_in {
    const uint8_t *p;
    size_t n;
} fz_in;

static uint8_t fz_u8(fz_in *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

static uint64_t fz_u64(fz_in *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | fz_u8(in);
    return v;
}

/* The next @want bytes (fewer at the end of the input). */
static const char *fz_bytes(fz_in *in, size_t want, size_t *got)
{
    if (want > in->n)
        want = in->n;
    const char *s = (const char *)in->p;
    in->p += want;
    in->n -= want;
    *got = want;
    return s;
}

static bool fz_valid_code(int rc)
{
    return rc <= 0 && rc >= CUSTSCORE_EINTERNAL;
}

/* Times that matter: epoch, ordinary dates, the ends of the range the
 * parser accepts, and the ends of int64_t. */
static int64_t fz_time(fz_in *in)
{
    static const int64_t palette[] = {0,
                                      1,
                                      86400,
                                      86399,
                                      -1,
                                      -86401,
                                      852076800,  /* 1997-01-01 */
                                      883612800,  /* 1998-01-01 */
                                      1291161600, /* 2010-12-01 */
                                      1700000000,
                                      INT64_C(253402300799),  /* 9999-12-31T23:59:59 */
                                      INT64_C(-62135596800),  /* 0001-01-01 */
                                      INT64_C(999999999999),  /* largest Unix seconds parsed */
                                      INT64_C(-999999999999), /* smallest */
                                      INT64_MAX,
                                      INT64_MIN,
                                      INT64_MAX - 1,
                                      INT64_MIN + 1};
    uint8_t b = fz_u8(in);
    size_t n = sizeof palette / sizeof palette[0];
    if (b >= 200)
        return (int64_t)fz_u64(in);
    int64_t t = palette[b % n];
    /* Ordinary dates move by whole weeks, so days repeat and differ. */
    if (t > 0 && t < INT64_C(1) << 40)
        t += (int64_t)(b / n) * 7 * 86400;
    return t;
}

/* as_of of the model functions (fit, churn): any time fz_time() gives, the
 * ends of int64_t too. Outside CUSTSCORE_TIME_MIN .. CUSTSCORE_TIME_MAX they
 * must fail with CUSTSCORE_ERANGE and change nothing (fz_check_as_of);
 * before they did, custscore_churn_train() near INT64_MIN overflowed
 * (tests/fuzz/regressions/api/churn-train-as-of-near-int64-min). */
static bool fz_time_in_range(int64_t t)
{
    return t >= CUSTSCORE_TIME_MIN && t <= CUSTSCORE_TIME_MAX;
}

static double fz_double(fz_in *in)
{
    static const double palette[] = {0.0,  1.0,   -1.0, 2.5,   11.77,  -29.33, 1e-300,
                                     -0.0, 100.0, 1e15, 1e308, -1e308, DBL_MAX};
    uint8_t b = fz_u8(in);
    size_t n = sizeof palette / sizeof palette[0];
    if (b < 230)
        return palette[b % n];
    if (b < 240)
        return NAN;
    if (b < 245)
        return b & 1 ? INFINITY : -INFINITY;
    uint64_t bits = fz_u64(in);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* Keys: a small set of valid ones (so rows collide and get replaced) and
 * the invalid kinds (empty, too long, bad UTF-8, NULL). */
static const char *fz_key(fz_in *in, char *buf, size_t size)
{
    static const char *const valid[] = {"c0",      "c1",  "c2",    "00004", "17850",
                                        "Ünïcødé", "a b", "\"q\"", "x,y"};
    uint8_t b = fz_u8(in);
    size_t nv = sizeof valid / sizeof valid[0];
    if (b < 200)
        return valid[b % nv];
    switch (b % 5) {
    case 0:
        return "";
    case 1:
        memset(buf, 'k', size - 1);
        buf[size - 1] = '\0'; /* longer than CUSTSCORE_MAX_KEY */
        return buf;
    case 2:
        return "\xff\xfe";
    case 3:
        return NULL;
    default: {
        size_t got;
        const char *s = fz_bytes(in, fz_u8(in) % 300, &got);
        memcpy(buf, s, got < size - 1 ? got : size - 1);
        buf[got < size - 1 ? got : size - 1] = '\0';
        return buf;
    }
    }
}

/* Everything the store holds, as numbers: equal before and after a call
 * that failed. */
#define FZ_PRINT_N 14
typedef struct fz_print {
    double v[FZ_PRINT_N];
} fz_print;

/* The fingerprint query, prepared once per handle (it runs around every
 * call); fz_close() drops it before the handle goes. */
static custscore *fz_print_db;
static sqlite3_stmt *fz_print_st;

static void fz_fingerprint(custscore *db, fz_print *fp)
{
    static const char sql[] =
        "SELECT (SELECT count(*) FROM customer), (SELECT total(created % 1000003) FROM customer),"
        " (SELECT total(length(key)) FROM customer),"
        " (SELECT count(*) FROM orders), (SELECT total(revenue) FROM orders),"
        " (SELECT total(cost) FROM orders), (SELECT total(ts % 1000003) FROM orders),"
        " (SELECT count(*) FROM response), (SELECT total(value) FROM response),"
        " (SELECT count(*) FROM complaint), (SELECT total(severity) FROM complaint),"
        " (SELECT count(*) FROM attribute), (SELECT count(*) FROM model),"
        " (SELECT count(*) FROM score)";
    memset(fp, 0, sizeof *fp);
    if (fz_print_db != db) {
        sqlite3_finalize(fz_print_st);
        fz_print_st = NULL;
        int rc = sqlite3_prepare_v2(db->sql, sql, -1, &fz_print_st, NULL);
        FZ_CHECK(rc == SQLITE_OK, sqlite3_errmsg(db->sql));
        fz_print_db = db;
    }
    int rc = sqlite3_step(fz_print_st);
    FZ_CHECK(rc == SQLITE_ROW, sqlite3_errmsg(db->sql));
    for (int i = 0; i < FZ_PRINT_N; i++)
        fp->v[i] = sqlite3_column_double(fz_print_st, i);
    sqlite3_reset(fz_print_st);
}

static void fz_close(custscore *db)
{
    if (fz_print_db == db) {
        sqlite3_finalize(fz_print_st);
        fz_print_st = NULL;
        fz_print_db = NULL;
    }
    custscore_close(db);
}

static bool fz_print_eq(const fz_print *a, const fz_print *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

/* After every call: a valid code; a message exactly when it failed; and a
 * failed call changed nothing. */
static void fz_after_call(custscore *db, int rc, const fz_print *before, const char *what)
{
    char detail[1200];
    snprintf(detail, sizeof detail, "%s returned %d: %s", what, rc, custscore_errmsg(db));
    FZ_CHECK(fz_valid_code(rc), detail);
    if (rc < 0) {
        FZ_CHECK(custscore_errmsg(db)[0] != '\0', detail);
        FZ_CHECK(custscore_errcode(db) == rc, detail);
        fz_print after;
        fz_fingerprint(db, &after);
        FZ_CHECK(fz_print_eq(before, &after), detail);
    } else {
        FZ_CHECK(custscore_errmsg(db)[0] == '\0', detail);
    }
}

/* A model function given @as_of outside the time range returned @rc: it
 * must be CUSTSCORE_ERANGE with a message saying the value; the other model
 * functions must refuse the same time too (they read no input bytes, so the
 * corpus keeps its meaning). */
static int fz_count_clv(const custscore_clv_row *row, void *payload)
{
    (void)row;
    (void)payload;
    return 0;
}

static int fz_count_churn(const custscore_churn_score *score, void *payload)
{
    (void)score;
    (void)payload;
    return 0;
}

static void fz_check_as_of(custscore *db, int64_t as_of, int rc, const char *what)
{
    char detail[1200], value[32];
    snprintf(detail, sizeof detail, "%s(as_of %lld) returned %d: %s", what, (long long)as_of, rc,
             custscore_errmsg(db));
    FZ_CHECK(rc == CUSTSCORE_ERANGE, detail);
    snprintf(value, sizeof value, " %lld: ", (long long)as_of);
    FZ_CHECK(strstr(custscore_errmsg(db), value) != NULL, detail);
    FZ_CHECK(custscore_clv_each(db, as_of, NULL, fz_count_clv, NULL, NULL) == CUSTSCORE_ERANGE,
             "clv_each took an out-of-range as-of time");
    custscore_clv_row row;
    FZ_CHECK(custscore_clv_one(db, "c", as_of, NULL, &row, NULL) == CUSTSCORE_ERANGE,
             "clv_one took an out-of-range as-of time");
    FZ_CHECK(custscore_churn_score_each(db, as_of, NULL, fz_count_churn, NULL) == CUSTSCORE_ERANGE,
             "churn_score_each took an out-of-range as-of time");
    custscore_holdout_report hr;
    FZ_CHECK(custscore_holdout(db, as_of, CUSTSCORE_TIME_MAX, NULL, 0, NULL, NULL, &hr) ==
                 CUSTSCORE_ERANGE,
             "holdout took an out-of-range calibration end");
    custscore_holdout_free(&hr);
    /* fz_after_call() checks the code and message of the last call. */
    rc = custscore_churn_train(db, as_of, NULL, NULL);
    FZ_CHECK(rc == CUSTSCORE_ERANGE, "churn_train took an out-of-range as-of time");
}

/* ---------------------------------------------------------------------- */
/* Import options from three bytes: shared by the CSV and API targets. */

typedef struct fz_import {
    custscore_kind kind;
    custscore_import_options o;
    int stop_after; /* reject callback: stop at this many rejects (0: never) */
    int rejects;
} fz_import;

static int fz_on_reject(int64_t line, int column, const char *message, void *payload)
{
    fz_import *fi = payload;
    FZ_CHECK(line >= 1, message);
    FZ_CHECK(column >= 0, message);
    FZ_CHECK(message && message[0], "empty reject message");
    fi->rejects++;
    return fi->stop_after && fi->rejects >= fi->stop_after;
}

static void fz_import_options(fz_import *fi, uint8_t a, uint8_t b, uint8_t c)
{
    static const char *const maps[] = {
        NULL,
        NULL,
        NULL,
        "customer=2,ts=3,revenue=5", /* CDNOW sample, no header */
        "customer=1,ts=2,revenue=4", /* CDNOW master */
        "customer=CustomerID,order=InvoiceNo,ts=InvoiceDate,quantity=Quantity,price=UnitPrice",
        "customer=customer_id,ts=order_date,revenue=revenue", /* rfm orders */
        "customer=customerID",                                /* Telco customers */
        "customer=1,item=2,value=3,ts=4",
        "customer=1,ts=2,severity=3,resolved=4",
        "customer=1,order=2,ts=3,revenue=4,cost=5",
        "customer=1,created=2",
        "bogus",
        "customer=99999",
        "customer=,ts=1",
        "revenue=1,revenue=2,customer=3,ts=4"};
    static const char *const formats[] = {NULL,
                                          NULL,
                                          NULL,
                                          NULL,
                                          "%d/%m/%Y %H:%M",
                                          "%m/%d/%Y %H:%M",
                                          "%Y%m%d",
                                          "%Y-%m-%d %H:%M:%S",
                                          "%d %b %Y",
                                          "%j/%y",
                                          "%e.%m.%Y",
                                          "%Y",
                                          "%%%Y-%m",
                                          "%Q",
                                          "%",
                                          ""};
    static const char delimiters[] = {',', ',', ';', '\t', '|', 0, '"', '\n'};
    memset(fi, 0, sizeof *fi);
    custscore_import_options defaults = CUSTSCORE_IMPORT_OPTIONS_INIT;
    fi->o = defaults;
    switch ((a & 7) % 6) {
    case 0:
        fi->kind = CUSTSCORE_KIND_ORDERS;
        break;
    case 1:
        fi->kind = CUSTSCORE_KIND_CUSTOMERS;
        break;
    case 2:
        fi->kind = CUSTSCORE_KIND_RESPONSES;
        break;
    case 3:
        fi->kind = CUSTSCORE_KIND_RESPONSES;
        fi->o.wide = 1;
        break;
    case 4:
        fi->kind = CUSTSCORE_KIND_COMPLAINTS;
        break;
    default:
        fi->kind = CUSTSCORE_KIND_ORDERS;
        fi->o.whitespace = 1;
        fi->o.no_header = 1;
        break;
    }
    if ((a >> 3) & 1)
        fi->o.skip_bad = 1;
    if ((a >> 4) & 1)
        fi->stop_after = 1 + ((a >> 5) & 3);
    fi->o.on_reject = fz_on_reject;
    fi->o.payload = fi;
    fi->o.delimiter = delimiters[b & 7];
    if ((b >> 3) & 1)
        fi->o.whitespace = 1;
    if ((b >> 4) & 1)
        fi->o.no_header = 1;
    if ((b >> 5) & 1)
        fi->o.cancel_prefix = (b >> 6) & 1 ? "C" : "";
    if (fi->o.wide) {
        static const char *const cust_cols[] = {NULL, "1", "id", "customer"};
        static const char *const date_cols[] = {NULL, "2", "date", "nosuch"};
        fi->o.customer_column = cust_cols[(b >> 6) & 3];
        fi->o.date_column = date_cols[(c >> 6) & 3];
    }
    fi->o.default_ts = 1000000000; /* deterministic: never the clock */
    fi->o.map = maps[c & 15];
    fi->o.date_format = formats[(c >> 4) & 15];
    if ((a >> 7) & 1)
        fi->o.version = 99; /* an unknown options version is refused */
}

/* ---------------------------------------------------------------------- */
/* Summary checks */

typedef struct fz_totals {
    int64_t customers, orders;
    int stop_at;
} fz_totals;

static int fz_summary_row(const custscore_summary *s, void *payload)
{
    fz_totals *t = payload;
    FZ_CHECK(s->customer && s->customer[0], "summary row without a key");
    FZ_CHECK(s->x >= 0 && s->orders >= 0, s->customer);
    FZ_CHECK(s->orders >= (s->first ? s->x + 1 : 0), s->customer);
    FZ_CHECK(s->first <= s->last, s->customer);
    FZ_CHECK(isfinite(s->t_x) && isfinite(s->T) && s->t_x >= 0, s->customer);
    FZ_CHECK(s->first == 0 || s->t_x <= s->T, s->customer);
    FZ_CHECK(!isnan(s->revenue) && !isnan(s->profit), s->customer);
    t->customers++;
    t->orders += s->orders;
    if (t->stop_at && t->customers >= t->stop_at)
        return 7;
    return 0;
}

#ifdef CUSTSCORE_VALUE_OPTIONS_VERSION
static int fz_value_row(const custscore_value *v, void *payload)
{
    fz_totals *t = payload;
    FZ_CHECK(v->customer && v->customer[0], "value row without a key");
    FZ_CHECK(v->r >= 0 && v->r <= CUSTSCORE_MAX_BINS && v->f >= 0 && v->m >= 0, v->customer);
    FZ_CHECK(v->segment != NULL && v->tier_name != NULL, v->customer);
    t->customers++;
    return 0;
}
#endif

#ifdef CUSTSCORE_SCORE_OPTIONS_VERSION
static int fz_score_row(const custscore_score *sc, void *payload)
{
    fz_totals *t = payload;
    FZ_CHECK(sc->customer && sc->customer[0], "score row without a key");
    FZ_CHECK(sc->band != NULL && sc->clv_note != NULL && sc->churn_note != NULL, sc->customer);
    t->customers++;
    if (t->stop_at && t->customers >= t->stop_at)
        return 7;
    return 0;
}
#endif

/* ---------------------------------------------------------------------- */
/* CSV import */

/* One in-memory store for the whole run, emptied before each input: opening
 * a store (creating the schema) would cost more than most inputs. Emptied
 * tables restart their row ids at 1, so each input sees the same store. */
static custscore *fz_empty_store_handle;

void cs_fuzz_cleanup(void)
{
    if (fz_empty_store_handle) {
        fz_close(fz_empty_store_handle);
        fz_empty_store_handle = NULL;
    }
}

static custscore *fz_empty_store(void)
{
    custscore *db = fz_empty_store_handle;
    if (!db) {
        int rc = custscore_open(NULL, 0, &db);
        FZ_CHECK(rc == 0, custscore_errmsg(db));
        fz_empty_store_handle = db;
    }
    custscore_rollback(db);
    custscore_busy_timeout(db, 5000);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql,
                                "SELECT name FROM sqlite_schema WHERE type = 'table' AND"
                                " (name NOT LIKE 'sqlite%' OR name = 'sqlite_sequence')",
                                -1, &st, NULL);
    FZ_CHECK(rc == SQLITE_OK, sqlite3_errmsg(db->sql));
    rc = sqlite3_exec(db->sql, "PRAGMA foreign_keys = OFF; BEGIN", NULL, NULL, NULL);
    FZ_CHECK(rc == SQLITE_OK, sqlite3_errmsg(db->sql));
    while (sqlite3_step(st) == SQLITE_ROW) {
        char sql[300];
        /* Table names come from the schema this library wrote, not input. */
        snprintf(sql, sizeof sql, "DELETE FROM \"%s\"", (const char *)sqlite3_column_text(st, 0));
        rc = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);
        FZ_CHECK(rc == SQLITE_OK, sqlite3_errmsg(db->sql));
    }
    sqlite3_finalize(st);
    rc = sqlite3_exec(db->sql, "COMMIT; PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    FZ_CHECK(rc == SQLITE_OK, sqlite3_errmsg(db->sql));
    return db;
}

int cs_fuzz_csv(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    fz_import fi;
    fz_import_options(&fi, data[0], data[1], data[2]);
    const char *text = (const char *)data + 3;
    size_t len = size - 3;

    custscore *db = fz_empty_store();
    int rc;
    fz_print empty, first, second;
    fz_fingerprint(db, &empty);

    custscore_import_report r1, r2;
    rc = custscore_import_csv_buffer(db, fi.kind, text, len, "fuzz.csv", &fi.o, &r1);
    fz_after_call(db, rc, &empty, "import");
    FZ_CHECK(r1.lines >= 0 && r1.records >= 0 && r1.rejected >= 0, "negative count");
    FZ_CHECK(r1.rejected <= r1.records, "more rejected than read");
    if (!fi.o.skip_bad)
        FZ_CHECK(r1.rejected == 0, "rejected without skip_bad");
    if (rc != 0) {
        FZ_CHECK(r1.added == 0 && r1.replaced == 0, "failed import reports rows written");
        return 0;
    }
    FZ_CHECK(r1.records <= r1.lines, "more records than lines");
    fz_fingerprint(db, &first);
    if (fi.kind == CUSTSCORE_KIND_ORDERS) {
        /* A fresh store: every order is new; lines of one order were summed. */
        FZ_CHECK(r1.replaced == 0, "replaced in a fresh store");
        FZ_CHECK(first.v[3] == (double)r1.added, "orders in the store != added");
        fz_totals t = {0};
        rc = custscore_summary_each(db, INT64_MAX, NULL, fz_summary_row, &t);
        FZ_CHECK(rc == 0, custscore_errmsg(db));
        FZ_CHECK(t.orders == r1.added, "summary does not see every order");
        FZ_CHECK((double)t.customers == first.v[0], "summary does not see every customer");
    }
    /* The same import again: idempotent. */
    fi.rejects = 0;
    rc = custscore_import_csv_buffer(db, fi.kind, text, len, "fuzz.csv", &fi.o, &r2);
    fz_after_call(db, rc, &first, "re-import");
    FZ_CHECK(rc == 0, "re-import of a good file failed");
    FZ_CHECK(r2.added == 0, "re-import added rows");
    FZ_CHECK(r2.replaced == r1.added + r1.replaced, "re-import replaced a different count");
    FZ_CHECK(r2.rejected == r1.rejected && r2.records == r1.records, "re-import read differently");
    fz_fingerprint(db, &second);
    FZ_CHECK(fz_print_eq(&first, &second), "re-import changed the store");
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Dates */

static void fz_time_roundtrip(int64_t t)
{
    char buf[32], detail[96];
    snprintf(detail, sizeof detail, "t=%lld", (long long)t);
    int rc = custscore_format_time(t, 0, buf, sizeof buf);
    FZ_CHECK(rc == 0 || rc == CUSTSCORE_ERANGE, detail);
    if (rc != 0)
        return;
    int64_t back = 0;
    rc = custscore_parse_time(buf, NULL, &back);
    FZ_CHECK(rc == 0 && back == t, buf);
    rc = custscore_format_time(t, 1, buf, sizeof buf);
    FZ_CHECK(rc == 0, detail);
    rc = custscore_parse_time(buf, NULL, &back);
    FZ_CHECK(rc == 0 && back == cs_day_of(t) * CS_SECONDS_PER_DAY, buf);
    /* Too small a buffer: ERANGE, never an overflow. */
    char small[8];
    rc = custscore_format_time(t, 0, small, sizeof small);
    FZ_CHECK(rc == CUSTSCORE_ERANGE && strlen(small) < sizeof small, detail);
}

int cs_fuzz_time(const uint8_t *data, size_t size)
{
    static const char *const formats[] = {
        "%d/%m/%Y %H:%M", "%m/%d/%Y", "%Y%m%d", "%Y-%m-%d %H:%M:%S", "%d %b %Y", "%j/%y",
        "%e.%m.%Y",       "%y-%m-%d", "%Y %j",  "%b %e %Y %H:%M",    "%%%Y",     "%H:%M"};
    if (size < 1)
        return 0;
    fz_in in = {data + 1, size - 1};
    uint8_t mode = data[0];
    if (mode % 4 == 3) {
        fz_time_roundtrip(fz_time(&in));
        fz_time_roundtrip((int64_t)fz_u64(&in));
        return 0;
    }
    /* The text and maybe a format, as NUL-terminated copies. */
    char *copy = malloc(in.n + 1);
    FZ_CHECK(copy != NULL, "malloc");
    memcpy(copy, in.p, in.n);
    copy[in.n] = '\0';
    const char *text = copy, *format = NULL;
    if (mode % 4 == 1) {
        format = formats[(mode >> 2) % (sizeof formats / sizeof formats[0])];
    } else if (mode % 4 == 2) {
        /* format '\0' text */
        format = copy;
        size_t flen = strlen(copy);
        text = flen < in.n ? copy + flen + 1 : "";
    }
    int64_t t = 0;
    int rc = custscore_parse_time(text, format, &t);
    FZ_CHECK(rc == 0 || rc == CUSTSCORE_EINVAL, text);
    /* The length-bounded parser agrees with the string one. */
    int64_t t2 = 0;
    const char *why = NULL;
    int rc2 = cs_parse_time_n(text, strlen(text), format, &t2, &why);
    FZ_CHECK(rc2 == rc && (rc || t2 == t), text);
    FZ_CHECK(rc == 0 || (why && why[0]), text);
    if (rc == 0) {
        /* Every date the parser accepts is in the documented range. */
        FZ_CHECK(t >= INT64_C(-999999999999) && t <= INT64_C(999999999999), text);
        fz_time_roundtrip(t);
    }
    free(copy);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Survey-model text format */

#ifdef CUSTSCORE_CSI_OPTIONS_VERSION
static char *fz_survey_text(const custscore_survey_model *m)
{
    size_t need = 0;
    int rc = custscore_survey_model_format(m, NULL, 0, &need);
    FZ_CHECK(rc == CUSTSCORE_ERANGE || rc == 0, "format size query");
    char *buf = malloc(need + 1);
    FZ_CHECK(buf != NULL, "malloc");
    rc = custscore_survey_model_format(m, buf, need + 1, NULL);
    FZ_CHECK(rc == 0, "format");
    FZ_CHECK(strlen(buf) == need, "format length");
    return buf;
}

int cs_fuzz_have_survey(void)
{
    return 1;
}

int cs_fuzz_survey(const uint8_t *data, size_t size)
{
    /* model text, optionally '\0' and an item mapping "C=COL+COL,..." */
    const char *text = (const char *)data;
    const uint8_t *nul = memchr(data, 0, size);
    size_t text_len = nul ? (size_t)(nul - data) : size;
    char errbuf[512];
    custscore_survey_model *m = NULL;
    int rc = custscore_survey_model_parse(text, text_len, "fuzz.model", &m, errbuf, sizeof errbuf);
    FZ_CHECK(fz_valid_code(rc), errbuf);
    if (rc != 0) {
        FZ_CHECK(m == NULL, "model returned on failure");
        FZ_CHECK(rc == CUSTSCORE_ENOMEM || errbuf[0] != '\0', "no message");
        return 0;
    }
    FZ_CHECK(m != NULL, "no model on success");
    char *t1 = fz_survey_text(m);
    if (nul) {
        size_t map_len = size - text_len - 1;
        char *mapping = malloc(map_len + 1);
        FZ_CHECK(mapping != NULL, "malloc");
        memcpy(mapping, nul + 1, map_len);
        mapping[map_len] = '\0';
        rc = custscore_survey_model_map_items(m, mapping, errbuf, sizeof errbuf);
        FZ_CHECK(fz_valid_code(rc), errbuf);
        char *t_after = fz_survey_text(m);
        if (rc != 0)
            FZ_CHECK(strcmp(t1, t_after) == 0, "a failed mapping changed the model");
        free(t1);
        t1 = t_after;
        free(mapping);
    }
    /* Written text parses back to a model that writes the same text. */
    custscore_survey_model *m2 = NULL;
    rc = custscore_survey_model_parse(t1, strlen(t1), "written.model", &m2, errbuf, sizeof errbuf);
    if (rc != 0)
        fprintf(stderr, "written model:\n%s\n", t1);
    FZ_CHECK(rc == 0, errbuf);
    char *t2 = fz_survey_text(m2);
    FZ_CHECK(strcmp(t1, t2) == 0, "written, parsed and written again differs");
    free(t1);
    free(t2);
    custscore_survey_model_free(m2);
    custscore_survey_model_free(m);
    return 0;
}
#else
int cs_fuzz_have_survey(void)
{
    return 0;
}

int cs_fuzz_survey(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    return 0;
}
#endif

/* ---------------------------------------------------------------------- */
/* The public API driven by a byte stream */

typedef struct fz_api {
    custscore *db;
    bool in_batch;
    fz_print at_begin;
} fz_api;

static void fz_api_open(fz_api *s)
{
    int rc = custscore_open(NULL, 0, &s->db);
    FZ_CHECK(rc == 0, custscore_errmsg(s->db));
    s->in_batch = false;
}

/* Close a handle the target opened (not the shared emptied store). */
static void fz_api_close(fz_api *s, custscore *shared)
{
    if (s->db == shared)
        custscore_rollback(shared);
    else
        fz_close(s->db);
    s->db = NULL;
}

static void fz_api_op(fz_api *s, fz_in *in)
{
    custscore *db = s->db;
    char kbuf[300], kbuf2[300], kbuf3[300];
    fz_print before, after;
    fz_fingerprint(db, &before);
    uint8_t op = fz_u8(in);
    int rc = 0;
    const char *what = "?";
    switch (op % 23) {
    case 0:
        what = "add_customer";
        rc = custscore_add_customer(db, fz_key(in, kbuf, sizeof kbuf), fz_time(in));
        if (rc == 0) {
            fz_fingerprint(db, &after);
            FZ_CHECK(after.v[0] - before.v[0] <= 1, what);
        }
        break;
    case 1:
    case 2: {
        what = "add_order";
        custscore_order o;
        o.customer = fz_key(in, kbuf, sizeof kbuf);
        o.order_key = op % 23 == 2 ? NULL : fz_key(in, kbuf2, sizeof kbuf2);
        o.ts = fz_time(in);
        o.revenue = fz_double(in);
        o.cost = fz_double(in);
        o.has_cost = fz_u8(in) & 1;
        int replaced = -1;
        bool want = fz_u8(in) & 1;
        rc = custscore_add_order(db, &o, want ? &replaced : NULL);
        FZ_CHECK(!want || replaced == 0 || replaced == 1, "replaced not set");
        if (rc == 0 && want) {
            fz_fingerprint(db, &after);
            if (replaced == 1)
                FZ_CHECK(after.v[3] == before.v[3], "replaced but the count changed");
            else
                FZ_CHECK(after.v[3] == before.v[3] + 1, "added but the count did not grow");
        } else {
            FZ_CHECK(replaced != 1, "failed add_order says replaced");
        }
        break;
    }
    case 3:
        what = "add_response";
        rc = custscore_add_response(db, fz_key(in, kbuf, sizeof kbuf), fz_time(in),
                                    fz_key(in, kbuf2, sizeof kbuf2), fz_double(in));
        break;
    case 4:
        what = "add_complaint";
        rc = custscore_add_complaint(db, fz_key(in, kbuf, sizeof kbuf), fz_time(in), fz_double(in),
                                     fz_u8(in) & 1 ? 0 : fz_time(in));
        break;
    case 5:
        what = "set_attribute";
        rc = custscore_set_attribute(db, fz_key(in, kbuf, sizeof kbuf),
                                     fz_key(in, kbuf2, sizeof kbuf2), fz_double(in));
        break;
    case 6:
        what = "set_attribute_text";
        rc = custscore_set_attribute_text(db, fz_key(in, kbuf, sizeof kbuf),
                                          fz_key(in, kbuf2, sizeof kbuf2),
                                          fz_key(in, kbuf3, sizeof kbuf3));
        break;
    case 7:
        what = "begin";
        rc = custscore_begin(db);
        FZ_CHECK((rc == 0) == !s->in_batch, "begin inside a batch");
        if (rc == 0) {
            s->in_batch = true;
            s->at_begin = before;
        }
        break;
    case 8:
        what = "commit";
        rc = custscore_commit(db);
        FZ_CHECK((rc == 0) == s->in_batch, "commit without a batch");
        s->in_batch = false;
        break;
    case 9:
        what = "rollback";
        rc = custscore_rollback(db);
        FZ_CHECK(rc == 0, what);
        if (s->in_batch) {
            fz_fingerprint(db, &after);
            FZ_CHECK(fz_print_eq(&after, &s->at_begin), "rollback did not restore the store");
        }
        s->in_batch = false;
        break;
    case 10: {
        what = "import";
        fz_import fi;
        uint8_t a = fz_u8(in), b = fz_u8(in), c = fz_u8(in);
        fz_import_options(&fi, a, b, c);
        size_t len;
        const char *text = fz_bytes(in, fz_u8(in), &len);
        custscore_import_report r;
        rc = custscore_import_csv_buffer(db, fi.kind, text, len, NULL, &fi.o, &r);
        break;
    }
    case 11: {
        what = "summary_each";
        custscore_summary_options so = CUSTSCORE_SUMMARY_OPTIONS_INIT;
        uint8_t b = fz_u8(in);
        so.unit = (custscore_unit)(b % 6);
        so.zero = (custscore_zero_revenue)((b >> 3) % 3);
        int64_t as_of = b & 0x80 ? INT64_MAX : fz_time(in);
        fz_totals t = {.stop_at = (b >> 5) & 3};
        rc = custscore_summary_each(db, as_of, b & 0x40 ? NULL : &so, fz_summary_row, &t);
        if (rc == 7) {
            FZ_CHECK(t.stop_at && t.customers == t.stop_at, "stopped without being asked");
            return;
        }
        if (rc == 0 && as_of == INT64_MAX && !t.stop_at) {
            FZ_CHECK((double)t.orders == before.v[3], "summary misses orders");
            FZ_CHECK((double)t.customers == before.v[0], "summary misses customers");
        }
        break;
    }
    case 12: {
        what = "summary_one";
        custscore_summary sum;
        rc = custscore_summary_one(db, fz_key(in, kbuf, sizeof kbuf), fz_time(in), NULL, &sum);
        if (rc == 0) {
            fz_totals t = {0};
            fz_summary_row(&sum, &t);
        }
        break;
    }
    case 13: {
        what = "customer_count";
        int64_t n = -1;
        rc = custscore_customer_count(db, &n);
        FZ_CHECK(rc == 0 && (double)n == before.v[0], what);
        break;
    }
    case 14:
        what = "busy_timeout";
        rc = custscore_busy_timeout(db, (int)(int8_t)fz_u8(in) * 10);
        break;
    case 15:
        what = "reopen";
        fz_api_close(s, fz_empty_store_handle);
        fz_api_open(s);
        return;
#ifdef CUSTSCORE_VALUE_OPTIONS_VERSION
    case 18: {
        what = "value_each";
        custscore_value_options vo = CUSTSCORE_VALUE_OPTIONS_INIT;
        uint8_t b = fz_u8(in);
        vo.rfm.bins = b % 11;
        vo.rfm.ties = (custscore_ties)(1 + (b >> 4) % 3);
        vo.profit_window = (double)(b >> 6) * 6;
        fz_totals t = {0};
        rc = custscore_value_each(db, fz_time(in), b & 8 ? NULL : &vo, fz_value_row, &t);
        if (rc == 0)
            FZ_CHECK((double)t.customers == before.v[0], "value misses customers");
        break;
    }
#endif
#ifdef CUSTSCORE_FIT_OPTIONS_VERSION
    case 19: {
        what = "fit";
        custscore_fit_options fo = CUSTSCORE_FIT_OPTIONS_INIT;
        uint8_t b = fz_u8(in);
        fo.model = (custscore_model)(b % 6);
        fo.unit = (custscore_unit)((b >> 3) % 5);
        fo.no_store = (b >> 6) & 1;
        fo.starts = 1;
        fo.max_iterations = 50;
        custscore_fit_info info;
        int64_t models_before = (int64_t)before.v[12];
        int64_t as_of = fz_time(in);
        rc = custscore_fit(db, as_of, &fo, &info);
        if (!fz_time_in_range(as_of))
            fz_check_as_of(db, as_of, rc, what);
        if (rc == CUSTSCORE_ENOCONV) {
            /* Not an error of the store: nothing saved. */
            fz_fingerprint(db, &after);
            FZ_CHECK((int64_t)after.v[12] == models_before, "unconverged fit saved");
            FZ_CHECK(custscore_errmsg(db)[0] != '\0', "no message");
            return;
        }
        break;
    }
#endif
#ifdef CUSTSCORE_SCORE_OPTIONS_VERSION
    case 20: {
        what = "score_all";
        custscore_score_options so = CUSTSCORE_SCORE_OPTIONS_INIT;
        uint8_t b = fz_u8(in);
        so.no_store = b & 1;
        so.clv.interval_draws = 10;
        fz_totals t = {.stop_at = (b >> 1) & 3};
        int64_t as_of = fz_time(in);
        rc = custscore_score_all(db, as_of, &so, fz_score_row, &t, NULL);
        if (!fz_time_in_range(as_of))
            fz_check_as_of(db, as_of, rc, what);
        if (rc == 7) {
            FZ_CHECK(t.stop_at && t.customers == t.stop_at, "stopped without being asked");
            fz_fingerprint(db, &after);
            FZ_CHECK(fz_print_eq(&before, &after), "a stopped scoring saved");
            return;
        }
        break;
    }
#endif
#ifdef CUSTSCORE_CHURN_OPTIONS_VERSION
    case 21: {
        what = "churn_train";
        custscore_churn_options co = CUSTSCORE_CHURN_OPTIONS_INIT;
        custscore_churn_card *card = NULL;
        /* The as-of time first, then the options byte (the order of
         * evaluation of arguments is unspecified: clang, which found the
         * regression input, reads left to right). */
        int64_t as_of = fz_time(in);
        bool defaults = fz_u8(in) & 1;
        rc = custscore_churn_train(db, as_of, defaults ? NULL : &co, &card);
        FZ_CHECK(rc == 0 || card == NULL, "a failed churn_train returned a card");
        custscore_churn_card_free(card);
        if (!fz_time_in_range(as_of))
            fz_check_as_of(db, as_of, rc, what);
        break;
    }
#endif
#ifdef CUSTSCORE_CSI_OPTIONS_VERSION
    case 22: {
        what = "survey_model_save";
        static const char *const names[] = {"ecsi", "acsi", "ccsi", "five", "nosuch"};
        custscore_survey_model *m = NULL;
        int r = custscore_survey_model_template(names[fz_u8(in) % 5], &m);
        FZ_CHECK(r == 0 || r == CUSTSCORE_ENOTFOUND || r == CUSTSCORE_EINVAL, "template");
        if (r != 0)
            return;
        rc = custscore_survey_model_save(db, m);
        custscore_survey_model_free(m);
        break;
    }
#endif
    case 16: {
        what = "format_time";
        char buf[32];
        int64_t t = fz_time(in);
        int r = custscore_format_time(t, fz_u8(in) & 1, buf, sizeof buf);
        FZ_CHECK(r == 0 || r == CUSTSCORE_ERANGE, what);
        return;
    }
    default:
        what = "errstr";
        FZ_CHECK(custscore_errstr((int)(int8_t)fz_u8(in)) != NULL, what);
        return;
    }
    fz_after_call(db, rc, &before, what);
}

int cs_fuzz_api(const uint8_t *data, size_t size)
{
    /* Start on the shared store, emptied (opening one per input would cost
     * more than most inputs); the "reopen" operation opens fresh handles. */
    fz_api s = {.db = fz_empty_store()};
    fz_in in = {data, size};
    for (int steps = 0; in.n > 0 && steps < 200; steps++)
        fz_api_op(&s, &in);
    /* Closing with a batch open rolls it back. */
    fz_api_close(&s, fz_empty_store_handle);
    return 0;
}
