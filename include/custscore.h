/**
 * @file custscore.h
 * @brief custscore: customer value, lifetime value, satisfaction index and
 *        churn risk from ERP customer records.
 *
 * This is the one public header of libcustscore. It is the documentation:
 * every function says what it does, what it returns, who owns what and what
 * happens on NULL.
 *
 * ## Conventions
 *
 * - Every exported name starts with `custscore_`, every macro with
 *   `CUSTSCORE_`.
 * - Functions that can fail return `int`: 0 (::CUSTSCORE_OK) on success or a
 *   negative ::custscore_error code. Outputs are out-parameters. After a
 *   failure, custscore_errmsg() on the same handle says what went wrong and
 *   where (file, line, column, field, value).
 * - Options structs start with `unsigned version` and have an `*_INIT`
 *   initializer macro; pass NULL for the defaults. Result structs are plain
 *   data, frozen within a major version.
 * - Ownership: the caller owns what it allocates. Anything the library
 *   returns to be freed has its own `custscore_*_free` function. Strings
 *   handed to a callback are valid only during that call.
 * - Time is `int64_t` Unix seconds, UTC. Models work in an explicit time unit
 *   (::custscore_unit); a month is always the mean Gregorian month of
 *   365.2425/12 = 30.436875 days, never a hidden 30-day month. Money is
 *   `double` in the caller's currency.
 * - Customer keys are the ERP's keys: UTF-8 strings of 1..255 bytes.
 *
 * ## Thread safety
 *
 * libcustscore has no global mutable state. A ::custscore handle may be used
 * by one thread at a time (it may move between threads); separate handles,
 * also on the same database file, may be used in parallel by separate
 * threads or processes (SQLite is opened with SQLITE_OPEN_NOMUTEX and WAL
 * journaling: readers do not block the writer). Functions that take no handle
 * (the pure model functions) are reentrant and thread-safe.
 */
#ifndef CUSTSCORE_H
#define CUSTSCORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @name Version
 *  Read by meson to set the library version; bump together. @{ */
#define CUSTSCORE_VERSION_MAJOR 0
#define CUSTSCORE_VERSION_MINOR 1
#define CUSTSCORE_VERSION_PATCH 0
/** The version as a string, "MAJOR.MINOR.PATCH". */
#define CUSTSCORE_VERSION_STRING "0.1.0"
/** The version as one number: MAJOR*10000 + MINOR*100 + PATCH. */
#define CUSTSCORE_VERSION_NUMBER                                                                   \
    (CUSTSCORE_VERSION_MAJOR * 10000 + CUSTSCORE_VERSION_MINOR * 100 + CUSTSCORE_VERSION_PATCH)
/** @} */

#if defined(_WIN32) && defined(CUSTSCORE_BUILDING)
#define CUSTSCORE_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define CUSTSCORE_API __attribute__((visibility("default")))
#else
#define CUSTSCORE_API
#endif

/**
 * Error codes. Every failing function returns one of these (negative);
 * custscore_errstr() gives a generic text, custscore_errmsg() the detail.
 */
typedef enum custscore_error {
    CUSTSCORE_OK = 0,           /**< success */
    CUSTSCORE_EINVAL = -1,      /**< invalid argument or bad input data */
    CUSTSCORE_ENOMEM = -2,      /**< out of memory */
    CUSTSCORE_EIO = -3,         /**< I/O error, disk full, cannot open a file */
    CUSTSCORE_EBUSY = -4,       /**< database busy or locked; retryable */
    CUSTSCORE_ECORRUPT = -5,    /**< database file corrupt or not a database */
    CUSTSCORE_ENOTFOUND = -6,   /**< customer, file or object not found */
    CUSTSCORE_ENOMODEL = -7,    /**< no fitted model of the requested kind */
    CUSTSCORE_ENOCONV = -8,     /**< model fit did not converge */
    CUSTSCORE_ESCHEMA = -9,     /**< store written by a newer custscore */
    CUSTSCORE_EREADONLY = -10,  /**< write attempted on a read-only store */
    CUSTSCORE_ERANGE = -11,     /**< a value or size is outside the supported limits */
    CUSTSCORE_EINTERNAL = -12   /**< internal error (a bug: please report it) */
} custscore_error;

/** Time units used by the models (explicit everywhere, see the file comment). */
typedef enum custscore_unit {
    CUSTSCORE_UNIT_DAY = 1,   /**< 1 day = 86,400 s */
    CUSTSCORE_UNIT_WEEK = 2,  /**< 7 days */
    CUSTSCORE_UNIT_MONTH = 3, /**< 30.436875 days (365.2425 / 12) */
    CUSTSCORE_UNIT_YEAR = 4   /**< 365.2425 days */
} custscore_unit;

/** Opaque handle to a customer store (an SQLite database). */
typedef struct custscore custscore;

/**
 * Return the run-time library version as "MAJOR.MINOR.PATCH". The string is
 * static; do not free it.
 */
CUSTSCORE_API const char *custscore_version(void);

/** Return the run-time library version as MAJOR*10000 + MINOR*100 + PATCH. */
CUSTSCORE_API int custscore_version_number(void);

/**
 * Return a static generic description of an error code (never NULL; unknown
 * codes give "unknown error").
 */
CUSTSCORE_API const char *custscore_errstr(int code);

/**
 * Return the detailed message of the last failing call on @p db: what and
 * where (file:line:column: field: value: reason). The string belongs to the
 * handle and is valid until the next call on it. Returns "" when the last
 * call succeeded and "out of memory" or similar when @p db is NULL.
 */
CUSTSCORE_API const char *custscore_errmsg(const custscore *db);

/** Return the error code of the last call on @p db (0 when it succeeded). */
CUSTSCORE_API int custscore_errcode(const custscore *db);

/** @name Flags for custscore_open() @{ */
#define CUSTSCORE_OPEN_READWRITE 0x0 /**< open for reading and writing (default) */
#define CUSTSCORE_OPEN_READONLY 0x1  /**< open read-only; writes fail with ::CUSTSCORE_EREADONLY */
#define CUSTSCORE_OPEN_CREATE 0x2    /**< create the file when it does not exist */
/** @} */

/**
 * Open (and if needed create or migrate) a customer store.
 *
 * @param path   database file; NULL or ":memory:" for a private in-memory store
 * @param flags  CUSTSCORE_OPEN_* flags. Without ::CUSTSCORE_OPEN_CREATE a
 *               missing file is ::CUSTSCORE_ENOTFOUND.
 * @param out    receives the handle, also on most failures (so the message
 *               can be read with custscore_errmsg()); close it with
 *               custscore_close() in every case. Set to NULL only when memory
 *               for the handle could not be allocated.
 * @return 0, ::CUSTSCORE_ENOTFOUND, ::CUSTSCORE_EIO (cannot open),
 *         ::CUSTSCORE_ECORRUPT (not a custscore/SQLite database),
 *         ::CUSTSCORE_ESCHEMA (written by a newer version), ::CUSTSCORE_EBUSY,
 *         ::CUSTSCORE_ENOMEM.
 *
 * A store of an older schema version is migrated in one transaction. The
 * database uses WAL journaling, foreign keys and a 5000 ms busy timeout
 * (see custscore_busy_timeout()).
 */
CUSTSCORE_API int custscore_open(const char *path, int flags, custscore **out);

/**
 * Close a store and free the handle. NULL is a harmless no-op. An open batch
 * (custscore_begin()) is rolled back. Returns 0, or a negative code when the
 * database could not be closed cleanly (the handle is freed regardless).
 */
CUSTSCORE_API int custscore_close(custscore *db);

/**
 * Set how long a call waits for a lock held by another connection before it
 * fails with ::CUSTSCORE_EBUSY (milliseconds; 0 fails at once).
 */
CUSTSCORE_API int custscore_busy_timeout(custscore *db, int milliseconds);

/** Schema version of the store's file (`PRAGMA user_version`) this library writes. */
#define CUSTSCORE_SCHEMA_VERSION 1

/* ===================================================================== */
/** @name Ingest: customers, orders, survey responses, complaints
 *
 * Rows are added one by one or imported from CSV. Each single add is its own
 * transaction unless the caller opens a batch with custscore_begin(); a batch
 * is much faster for many rows. A customer key that does not exist yet is
 * created on first use. @{ */

/** Maximum length of a customer key, order key, item or attribute name (bytes). */
#define CUSTSCORE_MAX_KEY 255

/** Start a batch: the following adds form one transaction (BEGIN IMMEDIATE). */
CUSTSCORE_API int custscore_begin(custscore *db);
/** Commit the open batch. */
CUSTSCORE_API int custscore_commit(custscore *db);
/** Roll back the open batch; a no-op returning 0 when none is open. */
CUSTSCORE_API int custscore_rollback(custscore *db);

/**
 * Add a customer, or update its creation time when it exists.
 * @param key      the ERP key, 1..255 bytes of valid UTF-8
 * @param created  when the customer was created (Unix s), or 0 when unknown
 */
CUSTSCORE_API int custscore_add_customer(custscore *db, const char *key, int64_t created);

/**
 * Set a numeric attribute of a customer (creating the customer when needed),
 * replacing an earlier value. @p value must be finite.
 */
CUSTSCORE_API int custscore_set_attribute(custscore *db, const char *key, const char *name,
                                          double value);

/**
 * Set a categorical (text) attribute of a customer, e.g. "Contract" =
 * "Month-to-month"; replaces an earlier value.
 */
CUSTSCORE_API int custscore_set_attribute_text(custscore *db, const char *key, const char *name,
                                               const char *value);

/** One order, the unit of a purchase (an invoice). */
typedef struct custscore_order {
    const char *customer;  /**< customer key (required) */
    const char *order_key; /**< ERP order key; NULL for none (then never replaced) */
    int64_t ts;            /**< when (Unix s, UTC) */
    double revenue;        /**< net revenue; <= 0 is a return/adjustment, not a purchase */
    double cost;           /**< cost of goods, >= 0; ignored unless has_cost */
    int has_cost;          /**< nonzero when cost is known */
} custscore_order;

/**
 * Add an order. When an order with the same customer and order key exists it
 * is replaced (so re-importing an ERP export never double counts).
 * Revenue must be finite; cost finite and >= 0.
 * @param replaced  if not NULL, set to 1 when an existing order was replaced, else 0
 */
CUSTSCORE_API int custscore_add_order(custscore *db, const custscore_order *order, int *replaced);

/**
 * Add one survey answer: @p item (e.g. "CUSA1") answered @p value by the
 * customer at @p ts. An answer to the same item at the same time replaces
 * the earlier one.
 */
CUSTSCORE_API int custscore_add_response(custscore *db, const char *customer, int64_t ts,
                                         const char *item, double value);

/**
 * Add a complaint. @p severity is a finite number (e.g. 1 minor .. 3 severe);
 * @p resolved_ts is when it was resolved, or 0 while unresolved.
 */
CUSTSCORE_API int custscore_add_complaint(custscore *db, const char *customer, int64_t ts,
                                          double severity, int64_t resolved_ts);

/** What a CSV file holds. */
typedef enum custscore_kind {
    CUSTSCORE_KIND_ORDERS = 1,    /**< fields customer, order, ts, revenue | quantity+price, cost */
    CUSTSCORE_KIND_CUSTOMERS = 2, /**< field customer (+ created); other columns become attributes */
    CUSTSCORE_KIND_RESPONSES = 3, /**< long form customer, ts, item, value; or wide form */
    CUSTSCORE_KIND_COMPLAINTS = 4 /**< fields customer, ts, severity, resolved */
} custscore_kind;

/**
 * Called once for every rejected row when custscore_import_options::skip_bad
 * is set. @p line is the 1-based physical line where the record starts,
 * @p column the 1-based column (0 when not about a column), @p message the
 * full reason. Return 0 to go on, nonzero to abort the import (the store is
 * then unchanged).
 */
typedef int (*custscore_reject_fn)(int64_t line, int column, const char *message, void *payload);

/** Options of custscore_import_csv(). Initialise with ::CUSTSCORE_IMPORT_OPTIONS_INIT. */
typedef struct custscore_import_options {
    unsigned version; /**< ::CUSTSCORE_IMPORT_OPTIONS_VERSION */
    /** Field separator: ',' (default; also when 0), '\t', ';' or any other
     *  single byte except '"', CR and LF. */
    char delimiter;
    /** Nonzero: columns are separated by runs of spaces and tabs, leading
     *  blanks ignored (the CDNOW files); quotes are not special. */
    int whitespace;
    int no_header;  /**< nonzero: the first line is data; map columns by position */
    /** Column map "field=COLUMN,field=COLUMN": COLUMN is a header name or a
     *  1-based position. Unmapped fields are looked up by their own name
     *  (case-insensitive) in the header. NULL for none. */
    const char *map;
    /** strptime-style date format ("%d/%m/%Y %H:%M"); NULL to detect ISO 8601,
     *  YYYYMMDD and Unix seconds. */
    const char *date_format;
    int skip_bad; /**< nonzero: skip bad rows (reporting each) instead of aborting */
    /** Path of a CSV file receiving every rejected row (line,column,reason,record);
     *  only with skip_bad; NULL for none. */
    const char *rejects_path;
    custscore_reject_fn on_reject; /**< called for each rejected row (may be NULL) */
    void *payload;                 /**< passed to on_reject */
    /** Orders whose key starts with this prefix are cancellations: their
     *  revenue is made negative (if it is not already). NULL or "" for none. */
    const char *cancel_prefix;
    int wide; /**< responses: one row per respondent, one column per item */
    /** Wide responses: column of the customer key (name or position). */
    const char *customer_column;
    /** Wide responses: column of the response date; NULL uses @ref default_ts. */
    const char *date_column;
    int64_t default_ts; /**< timestamp for rows without a date column (wide form) */
} custscore_import_options;

#define CUSTSCORE_IMPORT_OPTIONS_VERSION 1
/** Default import options: comma-separated, header row, all-or-nothing. */
#define CUSTSCORE_IMPORT_OPTIONS_INIT                                                              \
    {                                                                                              \
        CUSTSCORE_IMPORT_OPTIONS_VERSION, ',', 0, 0, NULL, NULL, 0, NULL, NULL, NULL, NULL, 0,     \
            NULL, NULL, 0                                                                          \
    }

/** What an import did. */
typedef struct custscore_import_report {
    int64_t lines;    /**< physical lines read, header included */
    int64_t records;  /**< data records read */
    int64_t added;    /**< rows (orders, customers, answers, complaints) added */
    int64_t replaced; /**< rows that replaced an existing one with the same key */
    int64_t rejected; /**< bad records skipped (only with skip_bad) */
} custscore_import_report;

/** Limit on one CSV record (a logical line, with embedded newlines): 1 MiB. */
#define CUSTSCORE_MAX_LINE (1024 * 1024)
/** Limit on the number of columns of a CSV file. */
#define CUSTSCORE_MAX_COLUMNS 4096

/**
 * Import a CSV file into the store in one transaction.
 *
 * Without skip_bad, the first bad record aborts the import with
 * ::CUSTSCORE_EINVAL, a message "file:line:column: field: value: reason" and
 * the store unchanged. With skip_bad every bad record is skipped and reported
 * (on_reject, rejects_path and the report's count) and the good ones go in.
 * Order lines with the same order key are summed into one order; an order
 * key already in the store is replaced. See docs/input-formats.md.
 *
 * @param path    file to read; "-" reads standard input
 * @param report  if not NULL, receives the counts (also on failure)
 */
CUSTSCORE_API int custscore_import_csv(custscore *db, custscore_kind kind, const char *path,
                                       const custscore_import_options *options,
                                       custscore_import_report *report);

/**
 * Import CSV text held in memory; as custscore_import_csv(). @p name is used
 * in messages in place of a file name (NULL gives "<memory>").
 */
CUSTSCORE_API int custscore_import_csv_buffer(custscore *db, custscore_kind kind, const char *data,
                                              size_t size, const char *name,
                                              const custscore_import_options *options,
                                              custscore_import_report *report);
/** @} */

/* ===================================================================== */
/** @name Per-customer summary
 *
 * Statistics of each customer's orders as of a date, in a chosen time unit.
 * A purchase occasion is a UTC calendar day with at least one order of
 * positive net revenue (same-day orders are merged, as in the BTYD
 * literature); orders with revenue <= 0 are returns or adjustments, which
 * count in revenue and profit but are not occasions. Orders on days after the
 * as-of day are ignored. @{ */

/** One customer's summary. */
typedef struct custscore_summary {
    const char *customer; /**< the key; valid during the callback / until the next call */
    int64_t first;        /**< first purchase occasion (Unix s, start of the day); 0 if none */
    int64_t last;         /**< last purchase occasion (Unix s, start of the day); 0 if none */
    int64_t x;            /**< repeat purchase occasions (occasions - 1; 0 if none) */
    double t_x;           /**< time from first to last occasion, in the unit */
    double T;             /**< time from first occasion to the as-of day, in the unit */
    int64_t orders;       /**< orders up to the as-of day (returns included) */
    double revenue;       /**< total net revenue */
    double cost;          /**< total cost (0 when unknown) */
    double profit;        /**< revenue - cost */
    double mean_repeat_spend; /**< mean revenue of the repeat occasions (0 when x = 0) */
} custscore_summary;

/** Called for each customer by custscore_summary_each(); return nonzero to stop. */
typedef int (*custscore_summary_fn)(const custscore_summary *summary, void *payload);

/**
 * Compute the summary of one customer as of @p as_of.
 * @return 0, ::CUSTSCORE_ENOTFOUND when the key is unknown.
 * out->customer points into the handle and is valid until the next call.
 */
CUSTSCORE_API int custscore_summary_one(custscore *db, const char *customer, int64_t as_of,
                                        custscore_unit unit, custscore_summary *out);

/**
 * Compute the summary of every customer as of @p as_of in one pass and call
 * @p fn for each, ordered by key (byte order). Customers without any order up
 * to the as-of day are included with zero counts (first = 0). If @p fn
 * returns nonzero, iteration stops and that value is returned.
 */
CUSTSCORE_API int custscore_summary_each(custscore *db, int64_t as_of, custscore_unit unit,
                                         custscore_summary_fn fn, void *payload);

/** Number of customers in the store. */
CUSTSCORE_API int custscore_customer_count(custscore *db, int64_t *count);
/** @} */

/* ===================================================================== */
/** @name Dates @{ */

/**
 * Parse a date or date-time: ISO 8601 (YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS[.fff]]
 * with optional Z or +HH:MM; a space for T), YYYYMMDD, or Unix seconds (an
 * integer of 9 or more digits, or prefixed by '@'). With @p format, a
 * strptime-style format (%Y %m %d %H %M %S %y %b %j %% and literal text).
 * Local times without a zone are taken as UTC.
 * @return 0 or ::CUSTSCORE_EINVAL for unparseable or impossible dates
 *         (e.g. 2023-02-30).
 */
CUSTSCORE_API int custscore_parse_time(const char *text, const char *format, int64_t *out);

/**
 * Format @p t as ISO 8601 into @p buf: "YYYY-MM-DD" when @p date_only is
 * nonzero or the time is midnight UTC, else "YYYY-MM-DDTHH:MM:SSZ".
 * @p size should be at least 21. Returns 0 or ::CUSTSCORE_ERANGE.
 */
CUSTSCORE_API int custscore_format_time(int64_t t, int date_only, char *buf, size_t size);

/** Length of @p unit in days (1, 7, 30.436875, 365.2425); 0 for an unknown unit. */
CUSTSCORE_API double custscore_unit_days(custscore_unit unit);
/** @} */

/* ===================================================================== */
/* Sections added by the model modules follow: customer value, lifetime
 * value, satisfaction index, churn risk, scoring. */

/* @@CUSTSCORE_VALUE_API@@ */

/* @@CUSTSCORE_CLV_API@@ */

/* @@CUSTSCORE_CSI_API@@ */

/* @@CUSTSCORE_CHURN_API@@ */

/* @@CUSTSCORE_SCORE_API@@ */

#ifdef __cplusplus
}
#endif

#endif /* CUSTSCORE_H */
