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
 *
 * ## Locale
 *
 * Numbers in text (CSV in and out, saved models, survey-model files, JSON)
 * always use '.' as the decimal point, whatever locale the program set with
 * setlocale(): the library converts them under the C locale for the calling
 * thread only (POSIX uselocale(), restored before it returns), so the
 * program's locale is neither read nor changed.
 */
#ifndef CUSTSCORE_H
#define CUSTSCORE_H

#include <math.h> /* NAN in CUSTSCORE_SCORE_OPTIONS_INIT */
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
    CUSTSCORE_OK = 0,          /**< success */
    CUSTSCORE_EINVAL = -1,     /**< invalid argument or bad input data */
    CUSTSCORE_ENOMEM = -2,     /**< out of memory */
    CUSTSCORE_EIO = -3,        /**< I/O error, disk full, cannot open a file */
    CUSTSCORE_EBUSY = -4,      /**< database busy or locked; retryable */
    CUSTSCORE_ECORRUPT = -5,   /**< database file corrupt or not a database */
    CUSTSCORE_ENOTFOUND = -6,  /**< customer, file or object not found */
    CUSTSCORE_ENOMODEL = -7,   /**< no fitted model of the requested kind */
    CUSTSCORE_ENOCONV = -8,    /**< model fit did not converge */
    CUSTSCORE_ESCHEMA = -9,    /**< store written by a newer custscore */
    CUSTSCORE_EREADONLY = -10, /**< write attempted on a read-only store */
    CUSTSCORE_ERANGE = -11,    /**< a value or size is outside the supported limits */
    CUSTSCORE_EINTERNAL = -12  /**< internal error (a bug: please report it) */
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

/**
 * Free the memory the handle keeps between calls: the order history it
 * loaded last (about 28 bytes per order plus the customer keys: some
 * 300 MB for 10 million orders) and SQLite's page cache.
 *
 * The model fits, scoring, value, churn and CLV calls load every
 * customer's orders from the store; the handle keeps the last history so
 * that the next call for the same (or an earlier) as-of day does not read
 * the orders again (a nightly job fits two models and scores with one
 * load). It is dropped by itself when the customers or orders change
 * (through this handle, a rolled-back batch, or another connection's
 * commit) and by custscore_close(). Call this when a long-lived handle
 * should give the memory back; the next call loads again.
 * @return 0, ::CUSTSCORE_EINVAL (@p db NULL).
 */
CUSTSCORE_API int custscore_release_memory(custscore *db);

/** Schema version of the store's file (`PRAGMA user_version`) this library writes. */
#define CUSTSCORE_SCHEMA_VERSION 2

/* ===================================================================== */
/** @name Ingest: customers, orders, survey responses, complaints
 *
 * Rows are added one by one or imported from CSV. Each single add is its own
 * transaction unless the caller opens a batch with custscore_begin(); a batch
 * is much faster for many rows. A customer key that does not exist yet is
 * created on first use. @{ */

/** Maximum length of a customer key, order key, item or attribute name (bytes). */
#define CUSTSCORE_MAX_KEY 255

/** Earliest time the store accepts, and the date functions parse and format:
 *  0001-01-01T00:00:00Z (Unix s). An add with a time outside
 *  ::CUSTSCORE_TIME_MIN .. ::CUSTSCORE_TIME_MAX fails with
 *  ::CUSTSCORE_ERANGE; in a CSV file such a date is a bad value. */
#define CUSTSCORE_TIME_MIN INT64_C(-62135596800)
/** Latest time the store accepts: 9999-12-31T23:59:59Z (Unix s).
 *
 *  The same range bounds the as-of times (and other times) given to the
 *  model functions: custscore_fit(), custscore_clv_each(),
 *  custscore_clv_one(), custscore_holdout(), custscore_csi_compute()
 *  (options from/to), custscore_csi_customers(), custscore_churn_train(),
 *  custscore_churn_score_each(), custscore_retention_compute(),
 *  custscore_score_all(), custscore_snapshot_get(), custscore_changes() and
 *  custscore_report_html() fail with ::CUSTSCORE_ERANGE, and a message
 *  naming the argument, its value and the range, for a time outside
 *  ::CUSTSCORE_TIME_MIN .. ::CUSTSCORE_TIME_MAX (where 0 means "none" or
 *  "the latest", 0 stays allowed: it is inside the range). The bounds
 *  themselves are accepted. The summaries and customer value
 *  (custscore_summary_each(), custscore_value_each(), ...) take any
 *  int64_t as-of time. */
#define CUSTSCORE_TIME_MAX INT64_C(253402300799)

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
 * @return 0, ::CUSTSCORE_EINVAL (bad key), ::CUSTSCORE_ERANGE (@p created
 *         outside the time range), store errors.
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

/** Largest magnitude of an order's revenue or cost, in the caller's
 *  currency: larger amounts are refused (::CUSTSCORE_ERANGE from
 *  custscore_add_order(), a bad value in a CSV file), so that sums over any
 *  number of orders stay finite. */
#define CUSTSCORE_MAX_AMOUNT 1e15

/** One order, the unit of a purchase (an invoice). */
typedef struct custscore_order {
    const char *customer;  /**< customer key (required) */
    const char *order_key; /**< ERP order key; NULL for none: the order is then added
                                with the key "@<ts>#<n>", n the first rank after the
                                customer's keys of that time (never replacing one) */
    int64_t ts;            /**< when (Unix s, UTC) */
    double revenue;        /**< net revenue; <= 0 is a return/adjustment, not a purchase */
    double cost;           /**< cost of goods, >= 0; ignored unless has_cost */
    int has_cost;          /**< nonzero when cost is known */
} custscore_order;

/**
 * Add an order. When an order with the same customer and order key exists it
 * is replaced (so re-importing an ERP export never double counts).
 * Revenue must be finite; cost finite and >= 0; both at most
 * ::CUSTSCORE_MAX_AMOUNT in magnitude (else ::CUSTSCORE_ERANGE); ts within
 * ::CUSTSCORE_TIME_MIN .. ::CUSTSCORE_TIME_MAX (else ::CUSTSCORE_ERANGE).
 * @param replaced  if not NULL, set to 1 when an existing order was replaced, else 0
 */
CUSTSCORE_API int custscore_add_order(custscore *db, const custscore_order *order, int *replaced);

/**
 * Add one survey answer: @p item (e.g. "CUSA1") answered @p value by the
 * customer at @p ts. An answer to the same item at the same time replaces
 * the earlier one. @p ts outside the time range is ::CUSTSCORE_ERANGE.
 */
CUSTSCORE_API int custscore_add_response(custscore *db, const char *customer, int64_t ts,
                                         const char *item, double value);

/**
 * Add a complaint. @p severity is a finite number (e.g. 1 minor .. 3 severe);
 * @p resolved_ts is when it was resolved, or 0 while unresolved. Times
 * outside the time range are ::CUSTSCORE_ERANGE.
 */
CUSTSCORE_API int custscore_add_complaint(custscore *db, const char *customer, int64_t ts,
                                          double severity, int64_t resolved_ts);

/** What a CSV file holds. */
typedef enum custscore_kind {
    CUSTSCORE_KIND_ORDERS = 1, /**< fields customer, order, ts, revenue | quantity+price, cost */
    CUSTSCORE_KIND_CUSTOMERS =
        2, /**< field customer (+ created); other columns become attributes */
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
    int no_header; /**< nonzero: the first line is data; map columns by position */
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

/** Limit on the items (questions) of one survey model: adding one more
 *  (custscore_survey_model_add_item(), custscore_survey_model_map_items(),
 *  a model file: custscore_survey_model_parse()) fails with
 *  ::CUSTSCORE_ERANGE, or ::CUSTSCORE_EINVAL and "source:line:column:"
 *  from the parser. As many items as a CSV file has columns. */
#define CUSTSCORE_MAX_SURVEY_ITEMS 4096
/** Limit on the constructs of one survey model (the same failures). */
#define CUSTSCORE_MAX_SURVEY_CONSTRUCTS 4096
/** Limit on the paths between constructs of one survey model (the same
 *  failures; custscore_survey_model_add_path() gives ::CUSTSCORE_ERANGE).
 *  Each path added is checked for a cycle in time linear in the model, so
 *  the limit bounds the time to read a model file. */
#define CUSTSCORE_MAX_SURVEY_PATHS 16384

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
 * count in revenue and profit but are not occasions (zero-revenue orders can
 * be counted as purchases with custscore_summary_options::zero). Orders on days after the
 * as-of day are ignored. @{ */

/** One customer's summary. */
typedef struct custscore_summary {
    const char *customer;     /**< the key; valid during the callback / until the next call */
    int64_t first;            /**< first purchase occasion (Unix s, start of the day); 0 if none */
    int64_t last;             /**< last purchase occasion (Unix s, start of the day); 0 if none */
    int64_t x;                /**< repeat purchase occasions (occasions - 1; 0 if none) */
    double t_x;               /**< time from first to last occasion, in the unit */
    double T;                 /**< time from first occasion to the as-of day, in the unit */
    int64_t orders;           /**< orders up to the as-of day (returns included) */
    double revenue;           /**< total net revenue */
    double cost;              /**< total cost (0 when unknown) */
    double profit;            /**< revenue - cost */
    double mean_repeat_spend; /**< mean revenue of the repeat occasions (0 when x = 0) */
} custscore_summary;

/** What counts as a purchase occasion, for custscore_summary_options. */
typedef enum custscore_zero_revenue {
    /** An order with revenue exactly 0 is an adjustment, not a purchase
     *  (the default: ERP exports use 0-value orders for corrections). */
    CUSTSCORE_ZERO_REVENUE_ADJUSTMENT = 0,
    /** An order with revenue 0 is a purchase occasion (free goods), as in
     *  the BTYD literature's CDNOW data and the `lifetimes` package, which
     *  count every transaction. Negative revenue is never a purchase. */
    CUSTSCORE_ZERO_REVENUE_PURCHASE = 1
} custscore_zero_revenue;

/** Options of the summary functions. Initialise with ::CUSTSCORE_SUMMARY_OPTIONS_INIT. */
typedef struct custscore_summary_options {
    unsigned version;            /**< ::CUSTSCORE_SUMMARY_OPTIONS_VERSION */
    custscore_unit unit;         /**< time unit of t_x and T (default week) */
    custscore_zero_revenue zero; /**< zero-revenue orders (default: adjustments) */
} custscore_summary_options;

#define CUSTSCORE_SUMMARY_OPTIONS_VERSION 1
/** Default summary options: weeks, zero-revenue orders are adjustments. */
#define CUSTSCORE_SUMMARY_OPTIONS_INIT                                                             \
    {                                                                                              \
        CUSTSCORE_SUMMARY_OPTIONS_VERSION, CUSTSCORE_UNIT_WEEK, CUSTSCORE_ZERO_REVENUE_ADJUSTMENT  \
    }

/** Called for each customer by custscore_summary_each(); return nonzero to stop. */
typedef int (*custscore_summary_fn)(const custscore_summary *summary, void *payload);

/**
 * Compute the summary of one customer as of @p as_of.
 * @return 0, ::CUSTSCORE_ENOTFOUND when the key is unknown.
 * out->customer points into the handle and is valid until the next call.
 */
CUSTSCORE_API int custscore_summary_one(custscore *db, const char *customer, int64_t as_of,
                                        const custscore_summary_options *options,
                                        custscore_summary *out);

/**
 * Compute the summary of every customer as of @p as_of in one pass and call
 * @p fn for each, ordered by key (byte order). Customers without any order up
 * to the as-of day are included with zero counts (first = 0). If @p fn
 * returns nonzero, iteration stops and that value is returned.
 */
CUSTSCORE_API int custscore_summary_each(custscore *db, int64_t as_of,
                                         const custscore_summary_options *options,
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
 *         (e.g. 2023-02-30) and times outside ::CUSTSCORE_TIME_MIN ..
 *         ::CUSTSCORE_TIME_MAX.
 */
CUSTSCORE_API int custscore_parse_time(const char *text, const char *format, int64_t *out);

/**
 * Format @p t as ISO 8601 into @p buf: "YYYY-MM-DD" when @p date_only is
 * nonzero or the time is midnight UTC, else "YYYY-MM-DDTHH:MM:SSZ".
 * @p size should be at least 21. Returns 0 or ::CUSTSCORE_ERANGE (buffer
 * too small, or @p t outside ::CUSTSCORE_TIME_MIN .. ::CUSTSCORE_TIME_MAX).
 */
CUSTSCORE_API int custscore_format_time(int64_t t, int date_only, char *buf, size_t size);

/** Length of @p unit in days (1, 7, 30.436875, 365.2425); 0 for an unknown unit. */
CUSTSCORE_API double custscore_unit_days(custscore_unit unit);
/** @} */

/* ===================================================================== */
/* Sections added by the model modules follow: customer value, lifetime
 * value, satisfaction index, churn risk, scoring. */

/* ===================================================================== */
/** @name Customer value: RFM, segments, profit contribution, whale curve, tiers, lifecycle
 *
 * Formulas, rules and citations: docs/models.md ("Customer value"). The pure functions
 * (over plain arrays, no store) are reentrant; NaN in an input array marks a
 * missing value (score 0, left out of every cut point), so they can be
 * called from Python with numpy arrays. The bulk functions compute every
 * customer in one pass over the order history. @{ */

/** Largest number of score bins (scores 1..9, so rfm_score = 100R + 10F + M is readable). */
#define CUSTSCORE_MAX_BINS 9

/** How cut points between score bins are found, and so how ties are scored. */
typedef enum custscore_ties {
    /** Value cut points, exactly as the R package `rfm`: with n bins, cut k
     *  (k = 1..n-1) is the sample quantile at k/n (R's default, type 7) plus
     *  custscore_bin_options::cut_offset (1 in `rfm`); a value v gets
     *  1 + #{cuts <= v}. Tied values always share a score; bins may be
     *  uneven or empty. */
    CUSTSCORE_TIES_VALUE = 1,
    /** Rank cut points: equal-size bins over the values sorted ascending,
     *  ties in input order (for the bulk functions: customer key byte order);
     *  the first N mod n bins hold one value more (as dplyr::ntile). Tied
     *  values may get different scores. */
    CUSTSCORE_TIES_RANK = 2
} custscore_ties;

/** Options of custscore_score_bins(). Initialise with ::CUSTSCORE_BIN_OPTIONS_INIT. */
typedef struct custscore_bin_options {
    unsigned version;    /**< ::CUSTSCORE_BIN_OPTIONS_VERSION */
    int bins;            /**< number of bins n, 1..::CUSTSCORE_MAX_BINS (default 5) */
    custscore_ties ties; /**< cut point rule (default ::CUSTSCORE_TIES_VALUE) */
    /** Nonzero: reverse the scores (score n + 1 - bin), so the lowest values
     *  score highest, as recency does. */
    int reverse;
    /** ::CUSTSCORE_TIES_VALUE only: added to each quantile (default 1.0,
     *  the `rfm` package's "+ 1"; 0 puts a value equal to a quantile in the
     *  upper bin). Must be finite. */
    double cut_offset;
    /** Explicit cut points instead of a bin count: ascending (equal values
     *  allowed: an empty bin), finite, used as given (no offset); n becomes
     *  n_thresholds + 1 and v gets 1 + #{thresholds <= v} (reversed when
     *  reverse is set). NULL for none. */
    const double *thresholds;
    size_t n_thresholds; /**< 1..::CUSTSCORE_MAX_BINS - 1 when thresholds is set */
} custscore_bin_options;

#define CUSTSCORE_BIN_OPTIONS_VERSION 1
/** Default bin options: 5 bins, value cut points with the `rfm` offset 1. */
#define CUSTSCORE_BIN_OPTIONS_INIT                                                                 \
    {                                                                                              \
        CUSTSCORE_BIN_OPTIONS_VERSION, 5, CUSTSCORE_TIES_VALUE, 0, 1.0, NULL, 0                    \
    }

/**
 * Sample quantile at probability @p p of @p values, R's default definition
 * (Hyndman & Fan 1996, type 7): with the n finite values sorted,
 * h = 1 + (n - 1) p, q = x[floor h] + (h - floor h)(x[ceil h] - x[floor h]).
 * NaN values are ignored.
 * @return 0; ::CUSTSCORE_EINVAL when @p values or @p out is NULL, @p p is
 *         not in [0, 1], a value is infinite, or there is no finite value;
 *         ::CUSTSCORE_ENOMEM.
 */
CUSTSCORE_API int custscore_quantile(const double *values, size_t n, double p, double *out);

/**
 * Score @p n values into bins 1..bins (see ::custscore_ties).
 *
 * @param options  NULL for ::CUSTSCORE_BIN_OPTIONS_INIT
 * @param scores   receives n scores; 0 for NaN values
 * @param cuts     if not NULL, receives the bins - 1 lower bounds of bins
 *                 2..n in value order (for ::CUSTSCORE_TIES_RANK the smallest
 *                 value in that bin, NaN when the bin is empty)
 * @return 0, ::CUSTSCORE_EINVAL (NULL arrays with n > 0, bad options, an
 *         infinite value), ::CUSTSCORE_ENOMEM.
 */
CUSTSCORE_API int custscore_score_bins(const double *values, size_t n,
                                       const custscore_bin_options *options, int *scores,
                                       double *cuts);

/** One segment rule: a customer whose scores lie in all three inclusive
 *  ranges belongs to the segment (the first matching rule of a table wins). */
typedef struct custscore_segment_rule {
    const char *name; /**< segment name, e.g. "Champions" */
    int r_min, r_max; /**< recency score range */
    int f_min, f_max; /**< frequency score range */
    int m_min, m_max; /**< monetary score range */
} custscore_segment_rule;

/** Name given to customers that match no rule. */
#define CUSTSCORE_SEGMENT_OTHERS "Others"

/**
 * The default segment table, the one of the R package `rfm`'s README and
 * vignette (Champions, Potential Loyalist, Loyal Customers, Promising, New
 * Customers, Can't Lose Them, At Risk, Need Attention, About To Sleep, Lost),
 * for scores 1..5. Returns a static array (do not free) and sets @p count
 * (if not NULL) to its length.
 */
CUSTSCORE_API const custscore_segment_rule *custscore_segments_default(size_t *count);

/**
 * Index of the first rule of @p rules[0..n) matching scores (@p r, @p f,
 * @p m), or -1 when none matches (the customer is ::CUSTSCORE_SEGMENT_OTHERS).
 * NULL @p rules is an empty table.
 */
CUSTSCORE_API int custscore_segment_match(const custscore_segment_rule *rules, size_t n, int r,
                                          int f, int m);

/** A segment table read from CSV; free with custscore_segments_free(). */
typedef struct custscore_segments {
    size_t count;                  /**< number of rules */
    custscore_segment_rule *rules; /**< [count], in file order; names owned by the table */
} custscore_segments;

/** Largest number of rules in a segment table. */
#define CUSTSCORE_MAX_SEGMENT_RULES 1000

/**
 * Parse a segment table from CSV text: columns
 * `segment,r_min,r_max,f_min,f_max,m_min,m_max` (RFC 4180 quoting). A first
 * row that has a field "segment" and no score is a header: the columns may
 * then come in any order (names case-insensitive); without a header they
 * are in the order above. Blank lines and lines starting with
 * '#' are skipped. Scores are integers 0..9 with min <= max (0 only matches
 * customers without a purchase, who have scores 0); names are 1..255 bytes of
 * UTF-8 without control characters.
 *
 * @param name     used in messages in place of a file name (NULL: "<memory>")
 * @param out      receives the table (NULL on failure)
 * @param errbuf   if not NULL, receives "name:line:column: field: value:
 *                 reason" on failure
 * @return 0, ::CUSTSCORE_EINVAL (bad CSV, no rules), ::CUSTSCORE_ERANGE (more
 *         than ::CUSTSCORE_MAX_SEGMENT_RULES rules), ::CUSTSCORE_ENOMEM.
 */
CUSTSCORE_API int custscore_segments_parse(const char *text, size_t size, const char *name,
                                           custscore_segments **out, char *errbuf,
                                           size_t errbuf_size);

/**
 * Read a segment table from the CSV file @p path, as custscore_segments_parse().
 * @return as custscore_segments_parse(), plus ::CUSTSCORE_ENOTFOUND (no such
 *         file) and ::CUSTSCORE_EIO.
 */
CUSTSCORE_API int custscore_segments_load(const char *path, custscore_segments **out, char *errbuf,
                                          size_t errbuf_size);

/** Free a segment table; NULL is a no-op. */
CUSTSCORE_API void custscore_segments_free(custscore_segments *segments);

/** What RFM frequency counts. */
typedef enum custscore_frequency_basis {
    /** Purchase occasions: days with an order of positive revenue (default). */
    CUSTSCORE_FREQUENCY_OCCASIONS = 1,
    /** Orders up to the as-of day, returns included: the `rfm` package's
     *  transaction_count (use it for parity with `rfm`). */
    CUSTSCORE_FREQUENCY_ORDERS = 2
} custscore_frequency_basis;

/** What RFM monetary value is. */
typedef enum custscore_monetary_basis {
    CUSTSCORE_MONETARY_TOTAL = 1, /**< total net revenue up to the as-of day (default, `rfm`) */
    CUSTSCORE_MONETARY_MEAN = 2   /**< total net revenue / frequency */
} custscore_monetary_basis;

/** RFM options. Initialise with ::CUSTSCORE_RFM_OPTIONS_INIT. */
typedef struct custscore_rfm_options {
    unsigned version;    /**< ::CUSTSCORE_RFM_OPTIONS_VERSION */
    int bins;            /**< bins of each score, 1..9 (default 5) */
    custscore_ties ties; /**< cut point rule (default ::CUSTSCORE_TIES_VALUE) */
    double cut_offset;   /**< see custscore_bin_options::cut_offset (default 1.0) */
    /** Explicit cut points per score (see custscore_bin_options::thresholds);
     *  NULL to use bins. Recency thresholds are in days. */
    const double *recency_thresholds;
    size_t n_recency_thresholds;         /**< length of recency_thresholds */
    const double *frequency_thresholds;  /**< NULL to use bins */
    size_t n_frequency_thresholds;       /**< length of frequency_thresholds */
    const double *monetary_thresholds;   /**< NULL to use bins */
    size_t n_monetary_thresholds;        /**< length of monetary_thresholds */
    custscore_frequency_basis frequency; /**< default ::CUSTSCORE_FREQUENCY_OCCASIONS */
    custscore_monetary_basis monetary;   /**< default ::CUSTSCORE_MONETARY_TOTAL */
    /** Segment table; NULL for custscore_segments_default(). The names must
     *  outlive the results that point to them. */
    const custscore_segment_rule *segments;
    size_t n_segments; /**< length of segments */
} custscore_rfm_options;

#define CUSTSCORE_RFM_OPTIONS_VERSION 1
/** Default RFM options: 5 bins, value cut points, occasions, total revenue,
 *  the default segment table. */
#define CUSTSCORE_RFM_OPTIONS_INIT                                                                 \
    {                                                                                              \
        CUSTSCORE_RFM_OPTIONS_VERSION, 5, CUSTSCORE_TIES_VALUE, 1.0, NULL, 0, NULL, 0, NULL, 0,    \
            CUSTSCORE_FREQUENCY_OCCASIONS, CUSTSCORE_MONETARY_TOTAL, NULL, 0                       \
    }

/**
 * Score RFM over arrays of @p n customers: recency (days since the last
 * purchase; reversed: the most recent score highest), frequency and monetary,
 * each binned as custscore_score_bins() with the options' bins, ties and
 * thresholds; then the segment of each customer. A customer with NaN in any
 * of the three is not scored: r = f = m = 0, and it is left out of all cut
 * points. (options->frequency and ->monetary are not used here: the caller
 * chose the values.)
 *
 * @param r, f, m  receive n scores each (required)
 * @param segment  if not NULL, receives n segment indexes into the table in
 *                 effect (options->segments or the default), -1 for Others
 * @return 0, ::CUSTSCORE_EINVAL, ::CUSTSCORE_ENOMEM.
 */
CUSTSCORE_API int custscore_rfm_score(const double *recency_days, const double *frequency,
                                      const double *monetary, size_t n,
                                      const custscore_rfm_options *options, int *r, int *f, int *m,
                                      int *segment);

/**
 * Profit rank and share of @p n customers: rank 1 is the most profitable,
 * equal profits ranked in input order; share = profit / total profit (NaN
 * for every customer when the total is <= 0). Either output may be NULL.
 * @return 0, ::CUSTSCORE_EINVAL (NULL profit with n > 0, a non-finite
 *         profit), ::CUSTSCORE_ENOMEM.
 */
CUSTSCORE_API int custscore_profit_rank(const double *profit, size_t n, int64_t *rank,
                                        double *share);

/** Summary of the whale curve (cumulative profit share against cumulative
 *  customer share, customers ranked by profit, most profitable first). */
typedef struct custscore_whale_summary {
    int64_t customers;   /**< customers on the curve */
    double total_profit; /**< sum of all profits (the curve ends at 1 = 100%) */
    double peak_profit;  /**< height of the hump: the sum of the positive profits */
    /** peak_profit / total_profit, e.g. 1.6 = "160% of profit"; NaN when the
     *  total is <= 0 (then the curve has no meaningful scale). */
    double peak_height;
    int64_t peak_customers;     /**< customers up to the peak (profit > 0) */
    double peak_customer_share; /**< peak_customers / customers (0 when none) */
    /** The loss tail: profit lost by the loss-making customers,
     *  -sum(profit < 0) >= 0; equals peak_profit - total_profit. */
    double loss_tail;
    int64_t loss_customers;     /**< customers with profit < 0 */
    double loss_customer_share; /**< loss_customers / customers */
    int64_t zero_customers;     /**< customers with profit exactly 0 (flat part) */
} custscore_whale_summary;

/**
 * The whale curve of @p n profits (Cooper & Kaplan 1991; Kaplan & Narayanan
 * 2001) and its summary. The curve runs from (0, 0) through
 * (k/n, cum_k / total) to (1, 1), cum_k being the profit of the k most
 * profitable customers.
 *
 * @param n_points        0 for the summary only, else >= 2: number of curve
 *                        points, at k = round(i n / (n_points - 1)) customers,
 *                        i = 0..n_points-1 (n_points = n + 1 gives every point)
 * @param customer_share  receives n_points customer shares (may be NULL when n_points is 0)
 * @param profit_share    receives n_points cumulative profit shares (NaN when the total is <= 0)
 * @param summary         if not NULL, receives the summary
 * @return 0, ::CUSTSCORE_EINVAL (NULL arrays, n_points 1, non-finite profit), ::CUSTSCORE_ENOMEM.
 */
CUSTSCORE_API int custscore_whale_curve(const double *profit, size_t n, size_t n_points,
                                        double *customer_share, double *profit_share,
                                        custscore_whale_summary *summary);

/** How tier cut points are given. */
typedef enum custscore_tier_mode {
    /** Cumulative shares of customers ranked by profit, e.g. {0.2, 0.5}: the
     *  top 20% are tier 0, the next 30% tier 1, the rest with profit >= 0
     *  tier n_cuts, profit < 0 tier n_cuts + 1. Only customers with positive
     *  profit enter the top tiers. n_cuts + 2 tiers. */
    CUSTSCORE_TIERS_PERCENTILE = 1,
    /** Ascending profit thresholds t_1 < .. < t_K, e.g. {0, 2000, 10000,
     *  30000}: profit >= t_K is tier 0, [t_K-1, t_K) tier 1, ..., below t_1
     *  tier K. K + 1 tiers. */
    CUSTSCORE_TIERS_ABSOLUTE = 2
} custscore_tier_mode;

/** Largest number of tiers. */
#define CUSTSCORE_MAX_TIERS 16

/** Tier options (the customer pyramid). Initialise with ::CUSTSCORE_TIER_OPTIONS_INIT. */
typedef struct custscore_tier_options {
    unsigned version;         /**< ::CUSTSCORE_TIER_OPTIONS_VERSION */
    custscore_tier_mode mode; /**< default ::CUSTSCORE_TIERS_PERCENTILE */
    /** Cut points (see ::custscore_tier_mode), finite and strictly
     *  ascending; percentiles in (0, 1]. NULL for {0.2, 0.5}
     *  (percentile mode only). */
    const double *cuts;
    size_t n_cuts; /**< length of cuts */
    /** Tier names, best tier first, as many as tiers; NULL for the defaults:
     *  "key", "ordinary", "small", "loss-making" for the default percentile
     *  shape, else "tier1", "tier2", ... The strings must outlive the results. */
    const char *const *names;
    size_t n_names; /**< length of names */
    /** Percentile mode: ::CUSTSCORE_TIES_RANK (default) fills the tiers to
     *  the exact share, equal profits in input order; ::CUSTSCORE_TIES_VALUE
     *  gives equal profits the better tier. */
    custscore_ties ties;
} custscore_tier_options;

#define CUSTSCORE_TIER_OPTIONS_VERSION 1
/** Default tiers: key 20%, ordinary 30%, small, loss-making. */
#define CUSTSCORE_TIER_OPTIONS_INIT                                                                \
    {                                                                                              \
        CUSTSCORE_TIER_OPTIONS_VERSION, CUSTSCORE_TIERS_PERCENTILE, NULL, 0, NULL, 0,              \
            CUSTSCORE_TIES_RANK                                                                    \
    }

/** Number of tiers @p options define (NULL: the defaults, 4), or ::CUSTSCORE_EINVAL. */
CUSTSCORE_API int custscore_tier_count(const custscore_tier_options *options);

/** Name of tier @p tier (0 = best) under @p options (NULL: defaults); NULL
 *  when out of range or the options are invalid. */
CUSTSCORE_API const char *custscore_tier_name(const custscore_tier_options *options, int tier);

/**
 * Assign each of @p n customers a tier (0 = best) by its @p profit.
 * Percentile mode: the customer at position j (0-based) of the profit
 * ranking (descending; equal profits in input order) is in tier k for the
 * first k with j < round(cuts[k] n), when its profit is > 0.
 * @return 0, ::CUSTSCORE_EINVAL (bad options, non-finite profit), ::CUSTSCORE_ENOMEM.
 */
CUSTSCORE_API int custscore_tiers_assign(const double *profit, size_t n,
                                         const custscore_tier_options *options, int *tier);

/** Lifecycle stage of a customer. */
typedef enum custscore_lifecycle {
    CUSTSCORE_LIFECYCLE_PROSPECT = 0,  /**< no purchase yet */
    CUSTSCORE_LIFECYCLE_NEW = 1,       /**< first purchase within the window, few repeats */
    CUSTSCORE_LIFECYCLE_GROWING = 2,   /**< buying more often lately */
    CUSTSCORE_LIFECYCLE_MATURE = 3,    /**< buying at a steady rate */
    CUSTSCORE_LIFECYCLE_DECLINING = 4, /**< buying less often, or overdue */
    CUSTSCORE_LIFECYCLE_LAPSED = 5     /**< no purchase for longer than lapse_after */
} custscore_lifecycle;

/** Lifecycle options. Initialise with ::CUSTSCORE_LIFECYCLE_OPTIONS_INIT. */
typedef struct custscore_lifecycle_options {
    unsigned version;    /**< ::CUSTSCORE_LIFECYCLE_OPTIONS_VERSION */
    custscore_unit unit; /**< unit of window and lapse_after (default month) */
    /** Observation window W (default 12 months), rounded to whole days:
     *  "new" means a first purchase within W; the purchase rates of its
     *  recent and earlier halves are compared. */
    double window;
    double lapse_after;  /**< lapsed when no purchase for longer (default 12 months) */
    int new_max_repeats; /**< "new" allows up to this many repeat purchases (default 1) */
    /** Declining when the days since the last purchase exceed this multiple of
     *  the customer's mean time between purchases (default 2). */
    double overdue_factor;
    /** Growing when the recent rate > earlier rate x (1 + tolerance),
     *  declining when < earlier x (1 - tolerance) (default 0.2). */
    double trend_tolerance;
} custscore_lifecycle_options;

#define CUSTSCORE_LIFECYCLE_OPTIONS_VERSION 1
/** Default lifecycle options: 12-month window, lapsed after 12 months. */
#define CUSTSCORE_LIFECYCLE_OPTIONS_INIT                                                           \
    {                                                                                              \
        CUSTSCORE_LIFECYCLE_OPTIONS_VERSION, CUSTSCORE_UNIT_MONTH, 12.0, 12.0, 1, 2.0, 0.2         \
    }

/** Static name of a stage ("prospect", "new", "growing", "mature",
 *  "declining", "lapsed"); "unknown" for other values. */
CUSTSCORE_API const char *custscore_lifecycle_name(custscore_lifecycle stage);

/**
 * Lifecycle stage of one customer from its purchase occasions (Unix s,
 * ascending; several on one UTC day count once; those after the as-of day
 * are ignored). The rules, first match wins (days counted on UTC days):
 * no occasion: prospect; days since the last > lapse_after: lapsed; first
 * occasion less than W ago and at most new_max_repeats repeats: new; days
 * since the last > overdue_factor x mean gap between occasions, or no
 * occasion in the window: declining; then the occasion rates of the recent
 * half (age < W/2) and the earlier half (W/2 <= age < W) of the window, each
 * over the days the customer was known in it, decide growing / declining /
 * mature (a customer first seen within the recent half is growing).
 * @return 0, ::CUSTSCORE_EINVAL (NULL arguments, unsorted occasions, bad options).
 */
CUSTSCORE_API int custscore_lifecycle_of(const int64_t *occasions, size_t n, int64_t as_of,
                                         const custscore_lifecycle_options *options,
                                         custscore_lifecycle *stage);

/** Options of the bulk value functions. Initialise with ::CUSTSCORE_VALUE_OPTIONS_INIT. */
typedef struct custscore_value_options {
    unsigned version;                      /**< ::CUSTSCORE_VALUE_OPTIONS_VERSION */
    custscore_rfm_options rfm;             /**< RFM scores and segments */
    custscore_tier_options tiers;          /**< tiers */
    custscore_lifecycle_options lifecycle; /**< lifecycle stages */
    /** Window of the profit contribution (revenue, cost, profit, share,
     *  rank, whale curve, tiers): the orders of the last round(window x unit)
     *  days up to and including the as-of day (default 12 months = 365
     *  days); 0 for the whole history. RFM monetary always uses the whole
     *  history. */
    double profit_window;
    custscore_unit profit_window_unit; /**< default month */
    /** Zero-revenue orders: adjustments (default) or purchase occasions, as
     *  custscore_summary_options::zero. */
    custscore_zero_revenue zero;
} custscore_value_options;

#define CUSTSCORE_VALUE_OPTIONS_VERSION 1
/** Default value options. */
#define CUSTSCORE_VALUE_OPTIONS_INIT                                                               \
    {                                                                                              \
        CUSTSCORE_VALUE_OPTIONS_VERSION, CUSTSCORE_RFM_OPTIONS_INIT, CUSTSCORE_TIER_OPTIONS_INIT,  \
            CUSTSCORE_LIFECYCLE_OPTIONS_INIT, 12.0, CUSTSCORE_UNIT_MONTH,                          \
            CUSTSCORE_ZERO_REVENUE_ADJUSTMENT                                                      \
    }

/** The customer value of one customer (one row of `custscore value`). */
typedef struct custscore_value {
    const char *customer; /**< the key (NULL when the input had no keys) */
    /** Days from the last purchase occasion to the as-of day; -1 without one. */
    int64_t recency_days;
    int64_t frequency;     /**< occasions or orders (custscore_rfm_options::frequency) */
    double monetary;       /**< total or mean net revenue of the whole history */
    int r, f, m;           /**< scores 1..bins; 0 for a customer without a purchase occasion */
    int rfm_score;         /**< 100 r + 10 f + m (0 when not scored) */
    const char *segment;   /**< segment name or "Others" (owned by the rule table) */
    int segment_index;     /**< index of the matching rule, -1 for Others */
    double revenue;        /**< net revenue in the profit window */
    double cost;           /**< cost in the profit window (unknown costs count 0) */
    double profit;         /**< revenue - cost */
    double profit_share;   /**< profit / total profit; NaN when the total is <= 0 */
    int64_t profit_rank;   /**< 1 = most profitable; equal profits in input order */
    int tier;              /**< tier index, 0 = best */
    const char *tier_name; /**< tier name (owned by the options or static) */
    custscore_lifecycle lifecycle; /**< lifecycle stage */
    int64_t first;  /**< first purchase occasion (Unix s, start of the day); 0 if none */
    int64_t last;   /**< last purchase occasion; 0 if none */
    int64_t orders; /**< orders up to the as-of day, returns included */
} custscore_value;

/** Orders of many customers as plain arrays, grouped by customer (the input
 *  of custscore_value_compute()). */
typedef struct custscore_order_arrays {
    size_t n_customers;          /**< number of customers */
    const char *const *customer; /**< [n_customers] keys, or NULL */
    /** [n_customers + 1]: the orders of customer i are offset[i] ..
     *  offset[i + 1] - 1, ascending by time; offset[0] = 0. */
    const size_t *offset;
    const int64_t *ts;     /**< [offset[n_customers]] order time (Unix s, UTC) */
    const double *revenue; /**< net revenue; <= 0 is a return, not a purchase */
    const double *cost;    /**< cost, or NULL when unknown (profit = revenue) */
} custscore_order_arrays;

/**
 * Compute the customer value of every customer of @p orders as of @p as_of
 * in one pass (no store needed). Orders on days after the as-of day are
 * ignored.
 *
 * @param options  NULL for ::CUSTSCORE_VALUE_OPTIONS_INIT
 * @param out      receives n_customers rows, in input order
 * @param whale    if not NULL, receives the whale curve summary of the profits
 * @param errbuf   if not NULL, receives a message on failure
 * @return 0, ::CUSTSCORE_EINVAL (bad options, unsorted or non-finite
 *         orders), ::CUSTSCORE_ENOMEM.
 */
CUSTSCORE_API int custscore_value_compute(const custscore_order_arrays *orders, int64_t as_of,
                                          const custscore_value_options *options,
                                          custscore_value *out, custscore_whale_summary *whale,
                                          char *errbuf, size_t errbuf_size);

/** Called for each customer by custscore_value_each(); the row and its
 *  strings are valid during the call. Return nonzero to stop. */
typedef int (*custscore_value_fn)(const custscore_value *value, void *payload);

/**
 * Compute the customer value of every customer in the store as of @p as_of
 * (one pass over the order history) and call @p fn for each, ordered by key
 * (byte order). Customers without orders are included (prospects, scores 0).
 * If @p fn returns nonzero, iteration stops and that value is returned.
 */
CUSTSCORE_API int custscore_value_each(custscore *db, int64_t as_of,
                                       const custscore_value_options *options,
                                       custscore_value_fn fn, void *payload);

/**
 * Write the customer value of every customer as CSV to @p path ("-":
 * standard output): header
 * `customer,recency_days,frequency,monetary,r,f,m,rfm_score,segment,revenue,cost,profit,profit_share,tier,lifecycle`,
 * one row per customer ordered by key; an empty recency_days or
 * profit_share means none/undefined. A file is written to a temporary name
 * and renamed, so readers never see half a file.
 * @return 0, ::CUSTSCORE_EINVAL, ::CUSTSCORE_EIO, ::CUSTSCORE_ENOMEM or a store error.
 */
CUSTSCORE_API int custscore_value_write_csv(custscore *db, int64_t as_of,
                                            const custscore_value_options *options,
                                            const char *path);

/**
 * The whale curve of the customers in the store as of @p as_of (profit in
 * options->profit_window), as custscore_whale_curve().
 */
CUSTSCORE_API int custscore_value_whale(custscore *db, int64_t as_of,
                                        const custscore_value_options *options, size_t n_points,
                                        double *customer_share, double *profit_share,
                                        custscore_whale_summary *summary);
/** @} */

/* @@CUSTSCORE_VALUE_API@@ */

/* ===================================================================== */
/** @name Lifetime value: BG/NBD, MBG/NBD, Pareto/NBD, Gamma-Gamma, CLV
 *
 * Buy-till-you-die purchase models and the Gamma-Gamma spend model, fitted by
 * maximum likelihood on each customer's summary (x repeat purchases, t_x the
 * time of the last one and T the time since the first one, all counted from
 * the first purchase, in one explicit ::custscore_unit), and the discounted
 * residual customer lifetime value built on them. Formulas, citations and
 * the numerical choices: docs/models.md, "Lifetime value".
 *
 * Two layers:
 * - pure functions over plain arrays (x, t_x, T as `double`, the parameters
 *   in the same time unit as the arrays), reentrant, usable without a store
 *   and from Python with numpy arrays; they return 0 or ::CUSTSCORE_EINVAL
 *   for NULL pointers, parameters that are not finite and positive, or data
 *   that are not finite, negative or have t_x > T. For x = 0, t_x is
 *   ignored (taken as 0);
 * - store functions: custscore_fit() fits from the store's orders as of a
 *   date and saves the model; custscore_clv_each() and custscore_clv_one()
 *   score customers with the saved models; custscore_holdout() validates a
 *   model on a holdout period. @{ */

/** The lifetime-value models. */
typedef enum custscore_model {
    /** BG/NBD (Fader, Hardie & Lee 2005): purchases Poisson(lambda),
     *  lambda ~ Gamma(r, alpha); after each repeat purchase the customer
     *  drops out with probability p ~ Beta(a, b). Parameters r, alpha, a, b. */
    CUSTSCORE_MODEL_BGNBD = 1,
    /** MBG/NBD (Batislam, Denizel & Filiztekin 2007; Hoppe & Wagner 2007): as
     *  BG/NBD, with a drop-out chance also at the first purchase.
     *  Parameters r, alpha, a, b. */
    CUSTSCORE_MODEL_MBGNBD = 2,
    /** Pareto/NBD (Schmittlein, Morrison & Colombo 1987): lifetimes
     *  Exponential(mu), mu ~ Gamma(s, beta). Parameters r, alpha, s, beta. */
    CUSTSCORE_MODEL_PNBD = 3,
    /** Gamma-Gamma spend per purchase (Fader, Hardie & Lee 2005 "RFM and
     *  CLV"; Fader & Hardie 2013). Parameters p, q, gamma. */
    CUSTSCORE_MODEL_GG = 4
} custscore_model;

/**
 * Short name of a model: "bgnbd", "mbgnbd", "pnbd", "gg" (the CLI's
 * `--model` values and the default names in the store's model table); NULL
 * for an unknown value. The string is static.
 */
CUSTSCORE_API const char *custscore_model_name(custscore_model model);

/**
 * Parse a short model name (case-insensitive; also "bg/nbd", "mbg/nbd",
 * "pareto/nbd", "gamma-gamma"). @return 0 or ::CUSTSCORE_EINVAL.
 */
CUSTSCORE_API int custscore_model_parse(const char *name, custscore_model *out);

/** Parameters of a purchase (BTYD) model, with the names of the literature.
 *  alpha and beta are in the time unit of the data they are used with. */
typedef struct custscore_btyd_params {
    custscore_model model; /**< ::CUSTSCORE_MODEL_BGNBD, _MBGNBD or _PNBD */
    double r;              /**< shape of the purchase-rate Gamma */
    double alpha;          /**< scale (time) of the purchase-rate Gamma */
    double a;              /**< BG/NBD, MBG/NBD: drop-out Beta a (unused by Pareto/NBD) */
    double b;              /**< BG/NBD, MBG/NBD: drop-out Beta b (unused by Pareto/NBD) */
    double s;              /**< Pareto/NBD: shape of the drop-out-rate Gamma */
    double beta;           /**< Pareto/NBD: scale (time) of the drop-out-rate Gamma */
} custscore_btyd_params;

/** Parameters of the Gamma-Gamma spend model: a purchase's value is
 *  Gamma(p, nu), nu ~ Gamma(q, gamma) across customers (money units). */
typedef struct custscore_gg_params {
    double p;     /**< shape of the spend per purchase */
    double q;     /**< shape of the customers' nu */
    double gamma; /**< scale of nu (money) */
} custscore_gg_params;

/**
 * Log-likelihood of a purchase model over @p n customers (or unique
 * (x, t_x, T) patterns with @p weights counting the customers of each).
 * Computed in log space throughout (no overflow for any x).
 * @param weights      NULL for 1 each; else finite and >= 0
 * @param loglik_each  if not NULL, receives the n individual log-likelihoods
 *                     (unweighted)
 * @param loglik       if not NULL, receives the weighted sum
 */
CUSTSCORE_API int custscore_btyd_loglik(const custscore_btyd_params *params, size_t n,
                                        const double *x, const double *t_x, const double *T,
                                        const double *weights, double *loglik_each, double *loglik);

/**
 * Gradient of the summed log-likelihood with respect to the natural
 * parameters, in the order (r, alpha, a, b) or, for Pareto/NBD,
 * (r, alpha, s, beta). Closed form (digamma) for BG/NBD and MBG/NBD;
 * central differences for Pareto/NBD, whose closed form needs derivatives of
 * 2F1 in its parameters.
 * @param gradient  receives 4 values
 */
CUSTSCORE_API int custscore_btyd_gradient(const custscore_btyd_params *params, size_t n,
                                          const double *x, const double *t_x, const double *T,
                                          const double *weights, double *gradient);

/** P(alive | x, t_x, T): the probability that each customer has not dropped
 *  out by T. @p out receives n values in [0, 1]. */
CUSTSCORE_API int custscore_btyd_p_alive(const custscore_btyd_params *params, size_t n,
                                         const double *x, const double *t_x, const double *T,
                                         double *out);

/** E[X(t)]: expected repeat purchases in (0, t] of a new customer, for each
 *  of the @p n times @p t (>= 0). */
CUSTSCORE_API int custscore_btyd_expected(const custscore_btyd_params *params, size_t n,
                                          const double *t, double *out);

/** E[X(T, T + t) | x, t_x, T]: expected purchases of each customer in the
 *  next @p t time units (t >= 0, the same for all). */
CUSTSCORE_API int custscore_btyd_conditional_expected(const custscore_btyd_params *params, double t,
                                                      size_t n, const double *x, const double *t_x,
                                                      const double *T, double *out);

/**
 * P(X(t) = k) for a new customer, k = 0 .. @p max_n: the distribution of the
 * number of repeat purchases in (0, t]. @p out receives max_n + 1 values.
 * @return 0, ::CUSTSCORE_EINVAL, ::CUSTSCORE_ERANGE (max_n above 10^6),
 *         ::CUSTSCORE_EINTERNAL when a Pareto/NBD quadrature did not converge.
 */
CUSTSCORE_API int custscore_btyd_pmf(const custscore_btyd_params *params, double t, size_t max_n,
                                     double *out);

/** P(X(T, T + t) = 0 | x, t_x, T): the probability that each customer makes
 *  no purchase in the next @p t time units (dropped out, or alive and not
 *  buying). Used by the churn model. */
CUSTSCORE_API int custscore_btyd_p_no_purchase(const custscore_btyd_params *params, double t,
                                               size_t n, const double *x, const double *t_x,
                                               const double *T, double *out);

/**
 * Gamma-Gamma log-likelihood of @p n customers with @p x >= 1 repeat
 * purchases of mean value @p mean_spend > 0 (the density of the mean, Fader
 * & Hardie 2013 eq. 3). @p loglik receives the sum.
 */
CUSTSCORE_API int custscore_gg_loglik(const custscore_gg_params *params, size_t n, const double *x,
                                      const double *mean_spend, double *loglik);

/** Gradient of custscore_gg_loglik() in (p, q, gamma) (closed form).
 *  @p gradient receives 3 values. */
CUSTSCORE_API int custscore_gg_gradient(const custscore_gg_params *params, size_t n,
                                        const double *x, const double *mean_spend,
                                        double *gradient);

/**
 * E[spend per purchase | x, mean_spend] of each customer (Fader, Hardie & Lee
 * 2005 "RFM and CLV", eq. 5): a weighted mean of the population mean
 * p gamma / (q - 1) and the customer's own mean. Customers with x = 0 get the
 * population mean (their @p mean_spend is ignored).
 * @return 0, ::CUSTSCORE_EINVAL (also when q <= 1 and some x is 0: the
 *         population mean is then infinite).
 */
CUSTSCORE_API int custscore_gg_expected_spend(const custscore_gg_params *params, size_t n,
                                              const double *x, const double *mean_spend,
                                              double *out);

/** Options of the fits. Initialise with ::CUSTSCORE_FIT_OPTIONS_INIT; 0 in a
 *  numeric field means its default. */
typedef struct custscore_fit_options {
    unsigned version;      /**< ::CUSTSCORE_FIT_OPTIONS_VERSION */
    custscore_model model; /**< model to fit (default ::CUSTSCORE_MODEL_BGNBD) */
    /** Time unit of the summary (store fits; default ::CUSTSCORE_UNIT_WEEK).
     *  Array fits: the unit the caller's arrays are in, echoed in the result. */
    custscore_unit unit;
    /** L2 penalty lambda >= 0 on the log-parameters: the fit minimises
     *  -LL/n + lambda * sum(log theta_k)^2, the time scales (alpha, beta) and
     *  gamma measured relative to the mean T and the mean spend, so the
     *  penalty does not depend on the unit or currency. Default 0 (plain
     *  maximum likelihood). */
    double penalty;
    int starts;         /**< starting points, 1..8 (default 3) */
    int max_iterations; /**< quasi-Newton iterations per start (default 500) */
    /** Convergence: largest |gradient| of -LL/n in the log-parameters
     *  (default 1e-7). */
    double tolerance;
    /** Store fits: name of the model row (1..63 bytes; default the model's
     *  short name, see custscore_model_name()). */
    const char *name;
    int no_store; /**< custscore_fit(): nonzero to fit without saving */
    /** Store fits: whether zero-revenue orders are purchase occasions (see
     *  custscore_summary_options::zero; default: adjustments). Saved with the
     *  model, and the CLV functions summarise customers the same way. */
    custscore_zero_revenue zero;
} custscore_fit_options;

#define CUSTSCORE_FIT_OPTIONS_VERSION 1
/** Default fit options: BG/NBD in weeks, no penalty, 3 starts, saved as "bgnbd". */
#define CUSTSCORE_FIT_OPTIONS_INIT                                                                 \
    {                                                                                              \
        CUSTSCORE_FIT_OPTIONS_VERSION, CUSTSCORE_MODEL_BGNBD, CUSTSCORE_UNIT_WEEK, 0.0, 0, 0, 0.0, \
            NULL, 0, CUSTSCORE_ZERO_REVENUE_ADJUSTMENT                                             \
    }

/** How a fit ended. */
typedef enum custscore_fit_status {
    CUSTSCORE_FIT_CONVERGED = 0,      /**< the gradient test was met */
    CUSTSCORE_FIT_MAX_ITERATIONS = 1, /**< stopped at max_iterations */
    CUSTSCORE_FIT_LINE_SEARCH = 2,    /**< no further decrease could be found */
    CUSTSCORE_FIT_NOT_FINITE = 3,     /**< the likelihood was not finite at the start */
    CUSTSCORE_FIT_AT_BOUND = 4,       /**< a parameter ran to its bound (not identified) */
    CUSTSCORE_FIT_SINGULAR = 5        /**< the Hessian is not positive definite */
} custscore_fit_status;

/** Largest number of parameters of a model. */
#define CUSTSCORE_MAX_PARAMS 4
/** Size of custscore_fit_info::name. */
#define CUSTSCORE_MODEL_NAME_SIZE 64

/** A fitted model: what the fit found, and how. Plain data. */
typedef struct custscore_fit_info {
    custscore_model model;
    custscore_unit unit;                  /**< time unit of alpha and beta */
    char name[CUSTSCORE_MODEL_NAME_SIZE]; /**< name in the store ("" for array fits) */
    int64_t model_id;  /**< row id in the store's model table; 0 when not saved */
    int64_t as_of;     /**< as-of time of the data (Unix s; 0 for array fits) */
    int64_t fitted_at; /**< when it was fitted (Unix s) */
    int n_params;      /**< 4 (3 for Gamma-Gamma) */
    /** Parameter names (static strings): "r","alpha","a","b" / "r","alpha","s","beta" /
     *  "p","q","gamma". */
    const char *param_name[CUSTSCORE_MAX_PARAMS];
    double param[CUSTSCORE_MAX_PARAMS];     /**< estimates, in the names' order */
    double std_error[CUSTSCORE_MAX_PARAMS]; /**< standard errors (delta method), NaN if unknown */
    /** Covariance of the log-parameters (inverse observed information),
     *  row-major n_params x n_params; used for the CLV intervals. */
    double cov_log[CUSTSCORE_MAX_PARAMS][CUSTSCORE_MAX_PARAMS];
    custscore_btyd_params btyd; /**< the estimates as BTYD parameters (purchase models) */
    custscore_gg_params gg;     /**< the estimates as Gamma-Gamma parameters */
    double loglik;              /**< maximised log-likelihood (without the penalty) */
    double aic;                 /**< -2 loglik + 2 n_params */
    double bic;                 /**< -2 loglik + n_params ln n */
    int64_t n;                  /**< customers in the fit */
    int64_t n_unique;           /**< unique (x, t_x, T) patterns (purchase models) */
    /** Customers left out: without any purchase (purchase models); with
     *  x = 0 or mean spend <= 0 (Gamma-Gamma). */
    int64_t n_excluded;
    double repeat_purchases; /**< sum of x over the fit's customers */
    int status;              /**< ::custscore_fit_status */
    int iterations;          /**< quasi-Newton iterations of the best start */
    int evaluations;         /**< likelihood evaluations, all starts */
    double gradient_norm;    /**< largest |gradient| of -LL/n in the log-parameters */
    int starts;              /**< starting points tried */
    int starts_converged;    /**< of which converged */
    int starts_agreeing;     /**< converged to the best optimum (a multimodality check) */
    double penalty;          /**< the penalty used */
    double time_scale;       /**< internal time rescaling (mean T), in the unit */
    /** Gamma-Gamma: Pearson correlation between x and the mean spend over the
     *  fit's customers. The model assumes spend independent of frequency;
     *  |corr| above ~0.3 says it does not hold. NaN for purchase models. */
    double spend_frequency_corr;
    double mean_spend;           /**< Gamma-Gamma: mean of the customers' mean spend */
    custscore_zero_revenue zero; /**< store fits: the purchase rule of the summary */
} custscore_fit_info;

/**
 * Fit a purchase model (options->model BG/NBD, MBG/NBD or Pareto/NBD) on
 * arrays, without a store. Customers are compressed to unique
 * (x, t_x, T) patterns first, so millions fit in well under a second
 * (above 20,000 patterns the starting points are explored on a stratified
 * sample of patterns and the best one is refined on all of them).
 *
 * @param weights  NULL, or customers per row (for data already compressed)
 * @param info     receives the result, also when the fit did not converge
 * @param errbuf   if not NULL, receives a message on failure (what went
 *                 wrong and what to try)
 * @return 0; ::CUSTSCORE_EINVAL (bad data, no customer with a repeat
 *         purchase); ::CUSTSCORE_ENOCONV (no convergence, a parameter at its
 *         bound, singular Hessian: @p info holds the last point and the
 *         message says what to try); ::CUSTSCORE_ENOMEM.
 */
CUSTSCORE_API int custscore_btyd_fit(const custscore_fit_options *options, size_t n,
                                     const double *x, const double *t_x, const double *T,
                                     const double *weights, custscore_fit_info *info, char *errbuf,
                                     size_t errbuf_size);

/**
 * Fit the Gamma-Gamma spend model on arrays. Only customers with x >= 1 and
 * mean_spend > 0 enter (the others are counted in info->n_excluded);
 * options->model is ignored. Returns as custscore_btyd_fit(); EINVAL when
 * fewer than 2 customers qualify.
 */
CUSTSCORE_API int custscore_gg_fit(const custscore_fit_options *options, size_t n, const double *x,
                                   const double *mean_spend, custscore_fit_info *info, char *errbuf,
                                   size_t errbuf_size);

/**
 * Fit a model on the store's orders as of @p as_of and save it in the model
 * table (name, fitted_at, as_of, unit, params and stderr as JSON, loglik, n,
 * info JSON) unless options->no_store. The summary is computed in
 * options->unit; customers without a purchase by the as-of day are left
 * out. For ::CUSTSCORE_MODEL_GG the spend data are each customer's mean
 * repeat spend (returns never count as purchases).
 *
 * @param options  NULL for ::CUSTSCORE_FIT_OPTIONS_INIT
 * @param info     if not NULL, receives the result (info->model_id the row)
 * @return 0, ::CUSTSCORE_EINVAL, ::CUSTSCORE_ERANGE (@p as_of outside
 *         ::CUSTSCORE_TIME_MIN .. ::CUSTSCORE_TIME_MAX), ::CUSTSCORE_ENOCONV
 *         (nothing saved), ::CUSTSCORE_EREADONLY, store errors.
 */
CUSTSCORE_API int custscore_fit(custscore *db, int64_t as_of, const custscore_fit_options *options,
                                custscore_fit_info *info);

/**
 * Load a saved model: the latest (by fitted_at, then row id) with the given
 * @p name, or with @p name NULL the latest purchase model (BG/NBD, MBG/NBD
 * or Pareto/NBD, whatever its name).
 * @return 0, ::CUSTSCORE_ENOMODEL when there is none, store errors.
 */
CUSTSCORE_API int custscore_model_load(custscore *db, const char *name, custscore_fit_info *info);

/** Options of the CLV functions. Initialise with ::CUSTSCORE_CLV_OPTIONS_INIT. */
typedef struct custscore_clv_options {
    unsigned version; /**< ::CUSTSCORE_CLV_OPTIONS_VERSION */
    double horizon;   /**< length of the horizon, in horizon_unit (> 0; 0 means 12) */
    /** Unit of the horizon and the discounting period (default
     *  ::CUSTSCORE_UNIT_MONTH: 12 monthly periods). */
    custscore_unit horizon_unit;
    /** Annual discount rate d >= 0: value at time t (years) is divided by
     *  (1 + d)^t (default 0.10). A negative value means 0. */
    double discount_rate;
    /** Margin m (profit / revenue) applied to the expected revenue, finite.
     *  0 (the default) means: the store functions use the store's
     *  sum(revenue - cost) / sum(revenue) over the orders up to the as-of
     *  day when any order has a cost, else 1; custscore_clv_arrays() uses 1. */
    double margin;
    /** Level of the CLV interval, in (0, 1) (default 0.90); 0 for none
     *  (clv_low and clv_high are then NaN). */
    double interval_level;
    int interval_draws; /**< parameter draws for the interval, 10..100000 (0 means 200) */
    uint64_t seed;      /**< seed of the draws (default 1); same seed, same interval */
    /** Store functions: name of the purchase model (NULL: the latest one). */
    const char *purchase_model;
    /** Store functions: name of the spend model (NULL: "gg"). */
    const char *spend_model;
} custscore_clv_options;

#define CUSTSCORE_CLV_OPTIONS_VERSION 1
/** Default CLV options: 12 months, 10% a year, margin from the store, 90%
 *  interval from 200 draws, seed 1, the latest models. */
#define CUSTSCORE_CLV_OPTIONS_INIT                                                                 \
    {                                                                                              \
        CUSTSCORE_CLV_OPTIONS_VERSION, 12.0, CUSTSCORE_UNIT_MONTH, 0.10, 0.0, 0.90, 200, 1, NULL,  \
            NULL                                                                                   \
    }

/** One customer's lifetime value. Money in the store's currency, counts in
 *  purchases, over the horizon of the options. */
typedef struct custscore_clv_row {
    const char *customer;      /**< key (store functions; NULL from arrays) */
    int64_t x;                 /**< repeat purchases */
    double t_x;                /**< time of the last purchase, in the model's unit */
    double T;                  /**< time since the first purchase, in the model's unit */
    double mean_spend;         /**< mean repeat spend (0 when x = 0) */
    double p_alive;            /**< P(alive | x, t_x, T) */
    double expected_purchases; /**< E[purchases in the horizon], not discounted */
    double expected_spend;     /**< E[spend per purchase] (Gamma-Gamma) */
    double clv;                /**< discounted expected margin over the horizon */
    double clv_low;            /**< lower end of the interval (NaN without one) */
    double clv_high;           /**< upper end of the interval (NaN without one) */
} custscore_clv_row;

/** What a CLV run used: every choice echoed, so a result file can say how
 *  it was computed. */
typedef struct custscore_clv_info {
    custscore_model purchase_model;                      /**< model kind */
    custscore_unit unit;                                 /**< the purchase model's time unit */
    char purchase_model_name[CUSTSCORE_MODEL_NAME_SIZE]; /**< its name */
    char spend_model_name[CUSTSCORE_MODEL_NAME_SIZE];    /**< spend model's name */
    int64_t purchase_model_id;                           /**< their rows (0 for array input) */
    int64_t spend_model_id;
    int64_t as_of;               /**< as-of time scored */
    double horizon;              /**< as in the options */
    custscore_unit horizon_unit; /**< as in the options */
    double horizon_in_unit;      /**< the horizon in the model's time unit */
    int periods;                 /**< discounting periods */
    double discount_rate;        /**< annual */
    double margin;               /**< margin used */
    int margin_from_costs;       /**< 1 when the margin came from the store's costs */
    double interval_level;       /**< 0 when no interval */
    int interval_draws;          /**< draws used */
    uint64_t seed;               /**< seed used */
    int64_t customers;           /**< customers scored */
    double total_clv;            /**< sum of clv */
} custscore_clv_info;

/**
 * Discounted residual lifetime value over arrays of @p n customers.
 *
 * The horizon is cut into periods of one horizon_unit (the last one
 * shorter when the horizon is not whole). For each customer
 *   CLV = m * E[spend] * sum_k (E[X(t_k)|..] - E[X(t_(k-1))|..]) / (1 + d)^(t_k / year),
 * t_k the end of period k, the year 365.2425 days: the purchases expected in
 * a period are discounted from that period's end. The interval comes from
 * @p interval_draws draws of the log-parameters of both models from their
 * asymptotic normal distributions (cov_log), independent between the
 * purchase and the spend model, with a private xoshiro256** generator
 * seeded from options->seed; the interval is the sample quantiles of each
 * customer's CLV over the draws (for each draw the discounted sums of one x
 * are interpolated over its T values, to about 1e-11 relative). It costs
 * tens of times the point estimate with the default 200 draws: set
 * interval_level to 0 when no interval is needed.
 *
 * @param purchase  a fitted purchase model (its btyd params, unit and cov_log are used)
 * @param spend     a fitted Gamma-Gamma model (gg params and cov_log)
 * @param x, t_x, T  in purchase->unit
 * @param mean_spend  mean repeat spend of each customer (ignored when x = 0)
 * @param p_alive, expected_purchases, expected_spend, clv, clv_low, clv_high
 *        n values each; any may be NULL
 * @param info  if not NULL, receives what was used
 * @return 0, ::CUSTSCORE_EINVAL (bad options, models or data; also a spend
 *         model with q <= 1 when a customer has x = 0), ::CUSTSCORE_ERANGE
 *         (more than 100000 periods), ::CUSTSCORE_ENOMEM.
 */
CUSTSCORE_API int
custscore_clv_arrays(const custscore_fit_info *purchase, const custscore_fit_info *spend,
                     const custscore_clv_options *options, size_t n, const double *x,
                     const double *t_x, const double *T, const double *mean_spend, double *p_alive,
                     double *expected_purchases, double *expected_spend, double *clv,
                     double *clv_low, double *clv_high, custscore_clv_info *info);

/** Called by custscore_clv_each() for each customer; return nonzero to stop. */
typedef int (*custscore_clv_fn)(const custscore_clv_row *row, void *payload);

/**
 * Lifetime value of every customer with a purchase by @p as_of, with the
 * saved models (see options->purchase_model, ->spend_model), ordered by key.
 * The summary is computed in the purchase model's unit.
 *
 * @param options  NULL for ::CUSTSCORE_CLV_OPTIONS_INIT
 * @param info     if not NULL, receives what was used
 * @return 0, ::CUSTSCORE_ENOMODEL (no purchase model, or no spend model:
 *         fit one with custscore_fit()), ::CUSTSCORE_EINVAL,
 *         ::CUSTSCORE_ERANGE (@p as_of outside ::CUSTSCORE_TIME_MIN ..
 *         ::CUSTSCORE_TIME_MAX), store errors, or the callback's nonzero value.
 */
CUSTSCORE_API int custscore_clv_each(custscore *db, int64_t as_of,
                                     const custscore_clv_options *options, custscore_clv_fn fn,
                                     void *payload, custscore_clv_info *info);

/**
 * Lifetime value of one customer, as custscore_clv_each(). row->customer
 * points into the handle (valid until the next call).
 * @return as custscore_clv_each(), ::CUSTSCORE_ENOTFOUND (unknown key),
 *         ::CUSTSCORE_EINVAL (no purchase by the as-of day).
 */
CUSTSCORE_API int custscore_clv_one(custscore *db, const char *customer, int64_t as_of,
                                    const custscore_clv_options *options, custscore_clv_row *row,
                                    custscore_clv_info *info);

/**
 * The Gupta & Lehmann (2003) margin multiple for a contractual setting with
 * constant margin @p margin per period, retention @p retention in [0, 1) and
 * discount rate @p discount per period (> -1, d + 1 > r):
 * CLV = m r / (1 + d - r), the value of the future margins of a customer
 * just retained (an infinite horizon).
 * @return 0 or ::CUSTSCORE_EINVAL.
 */
CUSTSCORE_API int custscore_clv_margin_multiple(double margin, double retention, double discount,
                                                double *out);

/** Calibration/holdout comparison for one calibration frequency x. */
typedef struct custscore_holdout_row {
    int64_t x;         /**< calibration repeat purchases (the last row: x >= censor) */
    int64_t customers; /**< customers with that x */
    double actual;     /**< mean repeat purchases in the holdout period */
    double predicted;  /**< mean E[X(holdout) | x, t_x, T] */
} custscore_holdout_row;

/** One customer's holdout comparison (custscore_holdout()'s callback). */
typedef struct custscore_holdout_customer {
    const char *customer; /**< key, valid during the call */
    int64_t x;            /**< calibration repeat purchases */
    double t_x, T;        /**< calibration recency and age, in the unit */
    int64_t actual;       /**< purchases in the holdout period */
    double predicted;     /**< expected purchases in the holdout period */
} custscore_holdout_customer;

/** Called for each customer by custscore_holdout(); return nonzero to stop. */
typedef int (*custscore_holdout_fn)(const custscore_holdout_customer *c, void *payload);

/** Result of custscore_holdout(); free with custscore_holdout_free(). */
typedef struct custscore_holdout_report {
    int64_t calibration_end;     /**< end of the calibration period (the fit's as-of) */
    int64_t holdout_end;         /**< end of the holdout period */
    double holdout_length;       /**< in the model's unit */
    custscore_fit_info fit;      /**< the model fitted on the calibration period (not saved) */
    int64_t customers;           /**< customers compared (first purchase by calibration_end) */
    double actual_total;         /**< all holdout purchases */
    double predicted_total;      /**< all expected holdout purchases */
    double mae;                  /**< mean absolute error per customer */
    double rmse;                 /**< root mean squared error per customer */
    double correlation;          /**< Pearson correlation of actual and predicted */
    size_t n_rows;               /**< rows by calibration x: 0 .. censor-1 and ">= censor" */
    custscore_holdout_row *rows; /**< [n_rows], owned by the report */
} custscore_holdout_report;

/**
 * Validate a purchase model on a holdout period: fit it (not saved) on the
 * orders up to @p calibration_end, then compare, for each customer whose
 * first purchase is by then, the repeat purchases in
 * (calibration_end, holdout_end] with the model's conditional expectation
 * over that length (the calibration/holdout plot of lifetimes and BTYD).
 *
 * @param options  the model and unit (NULL: BG/NBD in weeks)
 * @param censor   rows for x = 0 .. censor - 1 and one for x >= censor
 *                 (1..1000; 0 means 7)
 * @param fn       if not NULL, called for each customer
 * @param report   receives the comparison; free it with custscore_holdout_free()
 * @return 0, ::CUSTSCORE_EINVAL (holdout_end not after calibration_end),
 *         ::CUSTSCORE_ERANGE (either time outside ::CUSTSCORE_TIME_MIN ..
 *         ::CUSTSCORE_TIME_MAX), ::CUSTSCORE_ENOCONV, store errors.
 */
CUSTSCORE_API int custscore_holdout(custscore *db, int64_t calibration_end, int64_t holdout_end,
                                    const custscore_fit_options *options, int censor,
                                    custscore_holdout_fn fn, void *payload,
                                    custscore_holdout_report *report);

/** Free the rows of a holdout report (the struct itself is the caller's);
 *  NULL is a no-op. */
CUSTSCORE_API void custscore_holdout_free(custscore_holdout_report *report);
/** @} */

/* @@CUSTSCORE_CLV_API@@ */

/* ===================================================================== */
/** @name Satisfaction index: PLS path modelling engine
 *
 * Partial least squares path modelling (Wold 1982; Lohmöller 1989;
 * Tenenhaus, Esposito Vinzi, Chatelin & Lauro 2005) on a plain data matrix,
 * usable without a store (e.g. from Python with numpy). Formulas and
 * citations: docs/models.md ("Satisfaction index"). These functions are pure and reentrant:
 * the bootstrap has its own random-number state seeded from the options.
 * @{ */

/** Inner weighting scheme of the PLS algorithm. */
typedef enum custscore_pls_scheme {
    CUSTSCORE_PLS_PATH = 1,     /**< path weighting: regression coefficient for a predecessor,
                                     correlation for a follower (Lohmöller 1989) */
    CUSTSCORE_PLS_CENTROID = 2, /**< sign of the correlation (Wold 1982) */
    CUSTSCORE_PLS_FACTORIAL = 3 /**< the correlation (Lohmöller 1989) */
} custscore_pls_scheme;

/** Outer estimation mode of a construct. */
typedef enum custscore_pls_mode {
    CUSTSCORE_PLS_MODE_A = 0, /**< reflective: weights are covariances with the inner proxy */
    CUSTSCORE_PLS_MODE_B = 1  /**< formative: weights from a multiple regression of the proxy */
} custscore_pls_mode;

/** How the items enter the algorithm. */
typedef enum custscore_pls_scaling {
    CUSTSCORE_PLS_STANDARDIZE = 0, /**< standardised items (mean 0, variance 1) */
    CUSTSCORE_PLS_CENTER = 1       /**< centred only: raw-scale weights, the ACSI form
                                        (plspm's scaled = FALSE) */
} custscore_pls_scaling;

/** Treatment of missing answers (NaN in the data). */
typedef enum custscore_pls_missing {
    CUSTSCORE_PLS_MISSING_MEAN = 0, /**< replace by the item's mean over the rows used (default) */
    CUSTSCORE_PLS_MISSING_LISTWISE = 1 /**< drop every row with a missing answer */
} custscore_pls_missing;

/** A path model: which column measures which construct, and the paths. */
typedef struct custscore_pls_model {
    size_t n_constructs; /**< number of constructs (latent variables), >= 2 */
    /** [n_cols] construct (0 .. n_constructs-1) measured by each data column, or -1
     *  for a column outside the model. Every construct needs at least one item. */
    const int *item_construct;
    /** [n_constructs] ::custscore_pls_mode of each construct; NULL: all Mode A. */
    const int *mode;
    /** [n_constructs * n_constructs] row-major: paths[from * n_constructs + to]
     *  nonzero when construct `from` -> `to`. The paths must not form a cycle and
     *  every construct needs at least one path. */
    const int *paths;
} custscore_pls_model;

/** Options of custscore_pls_fit(). Initialise with ::CUSTSCORE_PLS_OPTIONS_INIT;
 *  a zero field means its default. */
typedef struct custscore_pls_options {
    unsigned version;              /**< ::CUSTSCORE_PLS_OPTIONS_VERSION */
    custscore_pls_scheme scheme;   /**< inner scheme; default ::CUSTSCORE_PLS_PATH */
    custscore_pls_scaling scaling; /**< default ::CUSTSCORE_PLS_STANDARDIZE */
    /** Nonzero: variances divide by n (plspm); 0: by n - 1 (seminr, default). Only
     *  the scale of the construct scores (and of centred-data weights) depends on it. */
    int variance_n;
    /** Stop when the sum of the absolute changes of the outer weights between two
     *  iterations is below this; default 1e-7. */
    double tolerance;
    int max_iterations;            /**< iteration cap; default 300 */
    custscore_pls_missing missing; /**< default ::CUSTSCORE_PLS_MISSING_MEAN */
    /** Nonzero: keep the signs the algorithm gives. By default each construct's
     *  sign is chosen so that it correlates positively with the majority of its
     *  items (ties: with the larger sum of loadings). */
    int no_sign_fix;
    int bootstrap; /**< number of bootstrap resamples (0: none) */
    uint64_t seed; /**< seed of the bootstrap's own random-number generator */
    double level;  /**< level of the percentile intervals; default 0.95 */
    int no_scores; /**< nonzero: do not return the construct scores */
} custscore_pls_options;

#define CUSTSCORE_PLS_OPTIONS_VERSION 1
/** Default PLS options: path scheme, standardised data (n - 1), tolerance 1e-7,
 *  300 iterations, mean replacement, sign fixing, no bootstrap. */
#define CUSTSCORE_PLS_OPTIONS_INIT                                                                 \
    {                                                                                              \
        CUSTSCORE_PLS_OPTIONS_VERSION, CUSTSCORE_PLS_PATH, CUSTSCORE_PLS_STANDARDIZE, 0, 1e-7,     \
            300, CUSTSCORE_PLS_MISSING_MEAN, 0, 0, 0, 0.95, 0                                      \
    }

/**
 * Results of custscore_pls_fit(). Items are the model's columns in column
 * order; k = n_constructs. Matrices are row-major. Everything belongs to the
 * result: free it with custscore_pls_result_free().
 */
typedef struct custscore_pls_result {
    size_t n_rows;       /**< rows (respondents) used */
    size_t n_dropped;    /**< rows dropped: no answer to any item, or (listwise) any missing */
    size_t n_items;      /**< items (model columns) */
    size_t n_constructs; /**< k */
    int converged;       /**< 1 when the weights converged within the iteration cap */
    int iterations;      /**< iterations done */
    double last_change;  /**< sum of absolute weight changes at the last iteration */
    size_t *item_column; /**< [n_items] data column of each item */
    int *item_construct; /**< [n_items] construct of each item */
    size_t *rows;        /**< [n_rows] data row of each row used */
    double *item_mean;   /**< [n_items] mean of each item (after missing-value treatment) */
    double *item_sd;     /**< [n_items] standard deviation (divisor as in the options) */
    /** [n_items] outer weights on the working scale (standardised or centred
     *  items): a construct score is the weighted sum of its items and has unit
     *  variance. */
    double *weights;
    /** [n_items] weights per unit of the raw item: score = sum raw_weight * (x - mean). */
    double *raw_weights;
    /** [n_items] raw weights divided by their sum within the construct (plspm's
     *  rescale(), the ACSI form); NaN for the whole construct when any of its
     *  raw weights is negative or their sum is not positive. */
    double *index_weights;
    double *loadings; /**< [n_items] correlation of each item with its construct */
    double
        *cross_loadings; /**< [n_items * k] correlation of item i with construct c at [i*k + c] */
    double *paths; /**< [k * k] path coefficient from -> to at [from*k + to] (OLS); 0 if none */
    double *total_effects; /**< [k * k] direct + indirect effects, same layout */
    double *r2;            /**< [k] R² of each endogenous construct; NaN for exogenous ones */
    double *r2_adj; /**< [k] adjusted R²: 1 - (1 - R²)(n - 1)/(n - p - 1); NaN if exogenous */
    double *alpha;  /**< [k] Cronbach's alpha (standardised); NaN for Mode B */
    double *rho_c;  /**< [k] composite reliability ρC from the loadings; NaN for Mode B */
    double *ave;    /**< [k] average variance extracted; NaN for Mode B */
    double gof;     /**< goodness of fit (Tenenhaus et al. 2005) */
    /** [k] mean of each construct on its items' own scale: sum index_weight *
     *  item_mean (plspm's rescaled score's mean); NaN where index_weights are. */
    double *construct_mean;
    double *scores; /**< [n_rows * k] construct scores (unit variance); NULL with no_scores */

    /* Bootstrap (NULL / 0 unless options->bootstrap > 0). Standard errors are
     * the standard deviations over the resamples (divisor B - 1); intervals
     * are percentile intervals at the options' level. */
    int boot_resamples;   /**< resamples used */
    int boot_failed;      /**< resamples left out: no convergence or an item without variance */
    double level;         /**< level of the intervals */
    double *weights_se;   /**< [n_items] */
    double *weights_low;  /**< [n_items] */
    double *weights_high; /**< [n_items] */
    double *paths_se;     /**< [k * k] (0 where no path) */
    double *paths_low;    /**< [k * k] */
    double *paths_high;   /**< [k * k] */
    double *construct_mean_se;   /**< [k] */
    double *construct_mean_low;  /**< [k] */
    double *construct_mean_high; /**< [k] */
} custscore_pls_result;

/**
 * Fit a PLS path model to a data matrix.
 *
 * @param data      [n_rows * n_cols] row-major; NaN marks a missing answer
 *                  (treated as options->missing says); ±Inf is an error
 * @param model     which column measures which construct, modes and paths
 * @param options   NULL for ::CUSTSCORE_PLS_OPTIONS_INIT
 * @param out       receives the result (NULL on errors other than
 *                  ::CUSTSCORE_ENOCONV); free with custscore_pls_result_free()
 * @param errbuf    if not NULL, receives a message saying what is wrong
 *                  (truncated to @p errbuf_size bytes, always NUL-terminated)
 * @return 0; ::CUSTSCORE_EINVAL for a bad model or data (fewer than 3 rows
 *         used, an item without variance, a cycle, a construct without items
 *         or paths, a singular Mode B block); ::CUSTSCORE_ENOMEM;
 *         ::CUSTSCORE_ENOCONV when the weights did not converge within the
 *         cap: *out then holds the estimates of the last iteration with
 *         converged = 0, for diagnosis (free it as well).
 */
CUSTSCORE_API int custscore_pls_fit(const double *data, size_t n_rows, size_t n_cols,
                                    const custscore_pls_model *model,
                                    const custscore_pls_options *options,
                                    custscore_pls_result **out, char *errbuf, size_t errbuf_size);

/** Free a result of custscore_pls_fit(). NULL is a no-op. */
CUSTSCORE_API void custscore_pls_result_free(custscore_pls_result *result);
/** @} */

/* ===================================================================== */
/** @name Satisfaction index: survey models
 *
 * A survey model says which items (questions) measure which construct, each
 * item's answer scale (min..max), which items are reverse-coded, each
 * construct's mode and the paths between constructs; one construct is the
 * target (satisfaction) whose index is reported. Built-in templates ("acsi",
 * "ecsi", "ccsi", "scsb", "five") and the text format are documented in
 * docs/models.md ("Satisfaction index") and docs/survey-model-format.md. Names of constructs and
 * items are case-sensitive, 1..255 bytes. @{ */

/** Opaque survey model. */
typedef struct custscore_survey_model custscore_survey_model;

/** Create an empty model named @p name (an identifier, see the text format). */
CUSTSCORE_API int custscore_survey_model_new(const char *name, custscore_survey_model **out);

/**
 * Create a built-in template: "acsi", "ecsi", "ccsi", "scsb" or "five"
 * (case-insensitive). Each comes with default item names (ECSI: IMAG1-5,
 * CUEX1-3, PERQ1-7, PERV1-2, CUSA1-3, CUSCO, CUSL1-3) and scale.
 * @return 0, ::CUSTSCORE_ENOTFOUND for another name, ::CUSTSCORE_ENOMEM.
 */
CUSTSCORE_API int custscore_survey_model_template(const char *name, custscore_survey_model **out);

/**
 * Parse a model in the text format (docs/survey-model-format.md).
 * @param text         the text (need not be NUL-terminated)
 * @param size         its length in bytes
 * @param source_name  used in messages (e.g. the file name); NULL gives "<model>"
 * @param errbuf       receives "source:line:column: reason" on ::CUSTSCORE_EINVAL
 * @return 0, ::CUSTSCORE_EINVAL (also for more than ::CUSTSCORE_MAX_SURVEY_ITEMS
 *         items, ::CUSTSCORE_MAX_SURVEY_CONSTRUCTS constructs or
 *         ::CUSTSCORE_MAX_SURVEY_PATHS paths: the message points at the first
 *         one too many), ::CUSTSCORE_ENOMEM.
 */
CUSTSCORE_API int custscore_survey_model_parse(const char *text, size_t size,
                                               const char *source_name,
                                               custscore_survey_model **out, char *errbuf,
                                               size_t errbuf_size);

/**
 * Write the model in the text format into @p buf (snprintf-style: at most
 * @p size bytes including the NUL; @p needed, if not NULL, receives the full
 * length without the NUL). custscore_survey_model_parse() reads it back to an
 * equal model.
 * @return 0, ::CUSTSCORE_ERANGE when @p buf is too small (pass NULL, 0 to ask).
 */
CUSTSCORE_API int custscore_survey_model_format(const custscore_survey_model *model, char *buf,
                                                size_t size, size_t *needed);

/** Name of the model (valid while the model lives). */
CUSTSCORE_API const char *custscore_survey_model_name(const custscore_survey_model *model);

/** Add a construct. @return 0, ::CUSTSCORE_EINVAL (bad or duplicate name, bad mode),
 *  ::CUSTSCORE_ERANGE (already ::CUSTSCORE_MAX_SURVEY_CONSTRUCTS constructs). */
CUSTSCORE_API int custscore_survey_model_add_construct(custscore_survey_model *model,
                                                       const char *name, custscore_pls_mode mode);

/**
 * Add an item to a construct: answers range over @p scale_min .. @p scale_max
 * (e.g. 1..10); a @p reversed item is recoded as max + min - answer so that
 * higher is better. An item belongs to one construct.
 * @return 0, ::CUSTSCORE_ENOTFOUND (no such construct), ::CUSTSCORE_EINVAL
 *         (bad or duplicate name, min >= max, not finite), ::CUSTSCORE_ERANGE
 *         (the model has ::CUSTSCORE_MAX_SURVEY_ITEMS items already),
 *         ::CUSTSCORE_ENOMEM.
 */
CUSTSCORE_API int custscore_survey_model_add_item(custscore_survey_model *model,
                                                  const char *construct, const char *item,
                                                  double scale_min, double scale_max, int reversed);

/** Add the path @p from -> @p to. @return 0, ::CUSTSCORE_ENOTFOUND, ::CUSTSCORE_EINVAL
 *  (a self-loop, a duplicate, or a path closing a cycle), ::CUSTSCORE_ERANGE
 *  (already ::CUSTSCORE_MAX_SURVEY_PATHS paths), ::CUSTSCORE_ENOMEM. */
CUSTSCORE_API int custscore_survey_model_add_path(custscore_survey_model *model, const char *from,
                                                  const char *to);

/** Make @p construct the target (satisfaction) construct. */
CUSTSCORE_API int custscore_survey_model_set_target(custscore_survey_model *model,
                                                    const char *construct);

/** Set the answer scale of @p item, or of every item when @p item is NULL. */
CUSTSCORE_API int custscore_survey_model_set_scale(custscore_survey_model *model, const char *item,
                                                   double scale_min, double scale_max);

/** Name the 0-10 "would you recommend" item used for the NPS (NULL: none). The
 *  item need not belong to a construct. */
CUSTSCORE_API int custscore_survey_model_set_nps_item(custscore_survey_model *model,
                                                      const char *item);

/**
 * Map the user's column names to constructs: @p mapping is
 * "CONSTRUCT=COL+COL,CONSTRUCT=COL" (the CLI's --items). Each construct named
 * gets exactly the listed items, replacing its default ones; a COL may carry
 * modifiers as in the text format, e.g. "Loyalty=q7+q8(reverse)+q9(0..10)".
 * Items take the model's default scale unless given. Constructs not named
 * keep their items.
 * @return 0, ::CUSTSCORE_EINVAL with "mapping:column: reason" in @p errbuf.
 */
CUSTSCORE_API int custscore_survey_model_map_items(custscore_survey_model *model,
                                                   const char *mapping, char *errbuf,
                                                   size_t errbuf_size);

/** Free a model. NULL is a no-op. */
CUSTSCORE_API void custscore_survey_model_free(custscore_survey_model *model);

/**
 * Store a model with the data (row "survey:NAME" of the model table, its text
 * as the parameters); a model equal to the latest stored one is not stored
 * again.
 */
CUSTSCORE_API int custscore_survey_model_save(custscore *db, const custscore_survey_model *model);

/**
 * Load the latest stored model named @p name, or, when none is stored, the
 * built-in template of that name.
 * @return 0, ::CUSTSCORE_ENOTFOUND, or a store error.
 */
CUSTSCORE_API int custscore_survey_model_load(custscore *db, const char *name,
                                              custscore_survey_model **out);
/** @} */

/* ===================================================================== */
/** @name Satisfaction index: index, per-customer satisfaction, NPS
 *
 * The index is the ACSI form (Fornell et al. 1996): every item is rescaled
 * to 0-100 from its own scale (reverse-coded items turned round), a PLS path
 * model is fitted, the unstandardised outer weights of a construct are
 * normalised to sum to one and applied to the item means. A negative weight
 * makes the index of that construct NaN with an explanation; below the
 * minimum number of respondents fixed weights (default equal) are used and
 * the result says so. @{ */

/** Grouping of the respondents for tracking the index. */
typedef enum custscore_csi_group_by {
    CUSTSCORE_CSI_BY_NONE = 0,     /**< one estimate over all respondents */
    CUSTSCORE_CSI_BY_MONTH = 1,    /**< calendar month of the response ("2024-03") */
    CUSTSCORE_CSI_BY_QUARTER = 2,  /**< calendar quarter ("2024-Q1") */
    CUSTSCORE_CSI_BY_YEAR = 3,     /**< calendar year ("2024") */
    CUSTSCORE_CSI_BY_ATTRIBUTE = 4 /**< a customer attribute's value (e.g. "tier") */
} custscore_csi_group_by;

/** What an estimate's index is based on. */
typedef enum custscore_csi_status {
    CUSTSCORE_CSI_OK = 0,              /**< PLS weights */
    CUSTSCORE_CSI_FIXED_WEIGHTS = 1,   /**< too few respondents for PLS: fixed weights */
    CUSTSCORE_CSI_NEGATIVE_WEIGHT = 2, /**< a target item has a negative weight: index NaN */
    CUSTSCORE_CSI_NO_CONVERGENCE = 3,  /**< PLS did not converge: index NaN */
    CUSTSCORE_CSI_NO_DATA = 4          /**< no respondents: everything NaN */
} custscore_csi_status;

/** Options of custscore_csi_fit() and custscore_csi_compute(). Initialise with
 *  ::CUSTSCORE_CSI_OPTIONS_INIT; a zero field means its default. */
typedef struct custscore_csi_options {
    unsigned version;              /**< ::CUSTSCORE_CSI_OPTIONS_VERSION */
    custscore_pls_scheme scheme;   /**< default ::CUSTSCORE_PLS_CENTROID */
    custscore_pls_scaling scaling; /**< default ::CUSTSCORE_PLS_CENTER (raw-scale weights) */
    double tolerance;              /**< PLS tolerance; default 1e-7 */
    int max_iterations;            /**< default 300 */
    custscore_pls_missing missing; /**< default mean replacement */
    /** Fewer respondents than this: fixed weights instead of PLS. 0: automatic,
     *  max(30, 10 x the most paths into one construct or items in one Mode B
     *  construct) (the "ten times" rule of Barclay, Higgins & Thompson 1995). */
    size_t min_respondents;
    int bootstrap; /**< bootstrap resamples for intervals (0: none) */
    uint64_t seed; /**< bootstrap seed */
    double level;  /**< interval level; default 0.95 */
    /** Store only: responses on the UTC days from the day of @c from through the
     *  day of @c to, inclusive (0: unbounded); each within ::CUSTSCORE_TIME_MIN
     *  .. ::CUSTSCORE_TIME_MAX (else ::CUSTSCORE_ERANGE). */
    int64_t from, to;
    custscore_csi_group_by by; /**< store only: grouping */
    const char *by_attribute;  /**< attribute name with ::CUSTSCORE_CSI_BY_ATTRIBUTE */
    const char *nps_item;      /**< NPS item; NULL: the model's */
    /** Store only: nonzero saves the model and the fitted index weights with the
     *  data (rows "survey:NAME" and "csi:NAME" of the model table). */
    int save;
} custscore_csi_options;

#define CUSTSCORE_CSI_OPTIONS_VERSION 1
/** Default index options: centroid scheme on centred 0-100 items (plspm's CSI
 *  recipe), mean replacement, automatic minimum, no bootstrap. */
#define CUSTSCORE_CSI_OPTIONS_INIT                                                                 \
    {                                                                                              \
        CUSTSCORE_CSI_OPTIONS_VERSION, CUSTSCORE_PLS_CENTROID, CUSTSCORE_PLS_CENTER, 1e-7, 300,    \
            CUSTSCORE_PLS_MISSING_MEAN, 0, 0, 0, 0.95, 0, 0, CUSTSCORE_CSI_BY_NONE, NULL, NULL, 0  \
    }

/** Net Promoter Score (Reichheld 2003) of 0-10 answers: promoters answer 9 or
 *  more, detractors 6 or less. */
typedef struct custscore_nps_result {
    size_t n;          /**< answers */
    size_t promoters;  /**< answers >= 9 */
    size_t passives;   /**< answers > 6 and < 9 */
    size_t detractors; /**< answers <= 6 */
    double nps;        /**< 100 (promoters - detractors) / n, in -100 .. 100; NaN when n = 0 */
    double se;         /**< its standard error: 100 sqrt((p + d - (p - d)²) / n) */
    double low, high;  /**< 95% interval nps ± 1.96 se, clipped to -100 .. 100 */
} custscore_nps_result;

/** One row of the importance–performance table. */
typedef struct custscore_csi_driver {
    size_t construct;    /**< index into custscore_csi_result::construct_names */
    double importance;   /**< total effect of the construct on the target */
    double performance;  /**< the construct's index 0-100 */
    int high_importance; /**< 1 when importance >= the mean importance of the drivers */
} custscore_csi_driver;

/** One estimate: over all respondents, or one group. k = number of constructs;
 *  p = number of items. Arrays are NaN where not available. */
typedef struct custscore_csi_estimate {
    const char *group;    /**< group label ("2024-Q1", an attribute value); "" overall */
    int64_t period_start; /**< start of the period (Unix s) when grouped by period, else 0 */
    int64_t period_end;   /**< end of the period (exclusive), else 0 */
    size_t n;             /**< respondents used */
    size_t n_dropped;     /**< respondents left out (no answers, or listwise deletion) */
    custscore_csi_status status;
    const char *message; /**< what happened, in words ("" when nothing to say) */
    int converged;       /**< PLS converged (0 with fixed weights) */
    int iterations;      /**< PLS iterations */
    double index;        /**< the target construct's index 0-100 */
    double index_se;     /**< bootstrap standard error (NaN without bootstrap) */
    double index_low;    /**< bootstrap percentile interval (NaN without bootstrap) */
    double index_high;
    double index_equal;           /**< index with equal weights, for comparison */
    double *construct_index;      /**< [k] index 0-100 of every construct */
    double *construct_index_low;  /**< [k] bootstrap interval, NULL without bootstrap */
    double *construct_index_high; /**< [k] */
    double *weights;              /**< [p] index weights, summing to 1 within each construct */
    double *outer_weights;        /**< [p] PLS outer weights on the working scale */
    double *outer_weights_se;     /**< [p] NULL without bootstrap */
    double *outer_weights_low;    /**< [p] */
    double *outer_weights_high;   /**< [p] */
    double *loadings;             /**< [p] */
    double *paths;                /**< [k * k] path from -> to at [from*k + to] */
    double *paths_se;             /**< [k * k] NULL without bootstrap */
    double *paths_low;            /**< [k * k] */
    double *paths_high;           /**< [k * k] */
    double *total_effects;        /**< [k * k] */
    double *r2;                   /**< [k] NaN for exogenous constructs */
    double *r2_adj;               /**< [k] */
    double *alpha;                /**< [k] Cronbach's alpha */
    double *rho_c;                /**< [k] composite reliability */
    double *ave;                  /**< [k] average variance extracted */
    double gof;                   /**< goodness of fit */
    int has_nps;                  /**< nps is filled (an NPS item was named and answered) */
    custscore_nps_result nps;
    /** Importance–performance, weakest high-importance driver first: drivers
     *  (constructs with a total effect on the target) of high importance by
     *  performance ascending, then the others by performance ascending. */
    size_t n_drivers;
    custscore_csi_driver *drivers;
} custscore_csi_estimate;

/** Result of custscore_csi_fit() / custscore_csi_compute(); free with
 *  custscore_csi_result_free(). */
typedef struct custscore_csi_result {
    const char *model;                  /**< model name */
    size_t n_items;                     /**< p */
    size_t n_constructs;                /**< k */
    const char *const *item_names;      /**< [p] */
    const int *item_construct;          /**< [p] construct of each item */
    const char *const *construct_names; /**< [k] */
    const int *paths;                   /**< [k * k] 1 where the model has the path from -> to */
    size_t target;                      /**< index of the target construct */
    const char *nps_item;               /**< NPS item or NULL */
    custscore_pls_scheme scheme;        /**< scheme used */
    custscore_csi_estimate overall;     /**< all respondents */
    size_t n_groups;                    /**< groups (0 without grouping) */
    custscore_csi_estimate *groups;     /**< [n_groups] in label order */
} custscore_csi_result;

/**
 * Compute the index from a data matrix, without a store.
 *
 * @param data     [n_rows * n_cols] row-major answers on the items' own
 *                 scales; NaN marks a missing answer
 * @param columns  [n_cols] column names; model items are found by name (other
 *                 columns are ignored)
 * @param groups   [n_rows] group label of each row, or NULL for no grouping
 *                 (rows with a NULL label only count overall)
 * @param options  NULL for ::CUSTSCORE_CSI_OPTIONS_INIT (store-only fields ignored)
 * @return 0; ::CUSTSCORE_EINVAL (an item not among the columns, an answer
 *         outside its scale, a bad model) with a message in @p errbuf;
 *         ::CUSTSCORE_ENOCONV when the overall PLS fit did not converge (the
 *         result is still returned, status ::CUSTSCORE_CSI_NO_CONVERGENCE);
 *         ::CUSTSCORE_ENOMEM.
 */
CUSTSCORE_API int custscore_csi_fit(const custscore_survey_model *model, const double *data,
                                    size_t n_rows, size_t n_cols, const char *const *columns,
                                    const char *const *groups, const custscore_csi_options *options,
                                    custscore_csi_result **out, char *errbuf, size_t errbuf_size);

/**
 * Compute the index from the survey responses in the store. A respondent is
 * one customer's answers on one UTC day (a later answer to the same item that
 * day wins); blank answers are absent rows. Returns as custscore_csi_fit(),
 * with the message in custscore_errmsg(); ::CUSTSCORE_ENOTFOUND when no
 * response matches.
 */
CUSTSCORE_API int custscore_csi_compute(custscore *db, const custscore_survey_model *model,
                                        const custscore_csi_options *options,
                                        custscore_csi_result **out);

/** Free a result of custscore_csi_fit() or custscore_csi_compute(). NULL is a no-op. */
CUSTSCORE_API void custscore_csi_result_free(custscore_csi_result *result);

/** Called by custscore_csi_customers() for each customer with a satisfaction score. */
typedef int (*custscore_csi_customer_fn)(const char *customer, int64_t ts, double satisfaction,
                                         void *payload);

/**
 * Per-customer satisfaction 0-100 from each customer's latest answers to the
 * target construct's items (the latest UTC day with any, on or before
 * @p as_of; 0 for no bound): the index weights applied to the answers
 * rescaled to 0-100, renormalised over the items answered. Weights come from
 * @p fit (its overall estimate); when @p fit is NULL, from the latest index
 * saved with the model (custscore_csi_options::save), else equal weights.
 * Customers are visited in key order; @p fn returning nonzero stops and that
 * value is returned. ::CUSTSCORE_ERANGE when @p as_of is outside
 * ::CUSTSCORE_TIME_MIN .. ::CUSTSCORE_TIME_MAX.
 */
CUSTSCORE_API int custscore_csi_customers(custscore *db, const custscore_survey_model *model,
                                          const custscore_csi_result *fit, int64_t as_of,
                                          custscore_csi_customer_fn fn, void *payload);

/**
 * NPS of @p n answers on the 0-10 scale; NaN answers are skipped.
 * @return 0, ::CUSTSCORE_EINVAL when an answer is outside 0..10.
 */
CUSTSCORE_API int custscore_nps(const double *answers, size_t n, custscore_nps_result *out);
/** @} */

/* ===================================================================== */
/** @name Satisfaction index: SERVQUAL and Kano
 * @{ */

/** The five SERVQUAL dimensions (Parasuraman, Zeithaml & Berry 1988). */
typedef enum custscore_servqual_dimension {
    CUSTSCORE_SERVQUAL_TANGIBLES = 0,
    CUSTSCORE_SERVQUAL_RELIABILITY = 1,
    CUSTSCORE_SERVQUAL_RESPONSIVENESS = 2,
    CUSTSCORE_SERVQUAL_ASSURANCE = 3,
    CUSTSCORE_SERVQUAL_EMPATHY = 4
} custscore_servqual_dimension;
#define CUSTSCORE_SERVQUAL_DIMENSIONS 5

/** Lower-case name of a dimension ("tangibles" ...), or NULL. */
CUSTSCORE_API const char *custscore_servqual_dimension_name(int dimension);

/** SERVQUAL gaps: perception - expectation (negative: below expectations). */
typedef struct custscore_servqual_result {
    size_t n_items;
    char **item_names;   /**< [n_items] "EXPECTATION/PERCEPTION" item names (or "item N") */
    int *item_dimension; /**< [n_items] */
    size_t *item_n;      /**< [n_items] respondents who answered both */
    double *expectation; /**< [n_items] mean expectation */
    double *perception;  /**< [n_items] mean perception */
    double *gap;         /**< [n_items] mean of perception - expectation */
    size_t dimension_items[CUSTSCORE_SERVQUAL_DIMENSIONS];
    double dimension_expectation[CUSTSCORE_SERVQUAL_DIMENSIONS]; /**< mean of item means */
    double dimension_perception[CUSTSCORE_SERVQUAL_DIMENSIONS];
    double dimension_gap[CUSTSCORE_SERVQUAL_DIMENSIONS]; /**< mean of the item gaps; NaN if none */
    double overall_gap;  /**< unweighted mean of the dimension gaps (dimensions with items) */
    double weighted_gap; /**< gaps weighted by the importance points; NaN without them */
    int weakest;         /**< dimension with the most negative gap (-1 when none) */
} custscore_servqual_result;

/**
 * SERVQUAL gaps from paired answers: @p expectation and @p perception are
 * [n_rows * n_items] row-major (NaN: missing; a pair counts when both are
 * present); @p dimension [n_items] gives each item's dimension;
 * @p importance [5], if not NULL, the dimensions' importance points (e.g.
 * out of 100) for the weighted score.
 */
CUSTSCORE_API int custscore_servqual(const double *expectation, const double *perception,
                                     size_t n_rows, size_t n_items, const int *dimension,
                                     const double *importance, custscore_servqual_result **out,
                                     char *errbuf, size_t errbuf_size);

/**
 * SERVQUAL from the store's responses (a respondent is one customer on one UTC
 * day). @p mapping is "DIMENSION=EXP/PERC+EXP/PERC,..." with dimension names
 * as custscore_servqual_dimension_name(); NULL means the 22-item instrument
 * with items SQE1..SQE22 (expectations) and SQP1..SQP22 (perceptions),
 * allocated as Parasuraman et al. (1988): tangibles 1-4, reliability 5-9,
 * responsiveness 10-13, assurance 14-17, empathy 18-22.
 */
CUSTSCORE_API int custscore_servqual_compute(custscore *db, const char *mapping,
                                             const double *importance,
                                             custscore_servqual_result **out);

/** Free a SERVQUAL result. NULL is a no-op. */
CUSTSCORE_API void custscore_servqual_result_free(custscore_servqual_result *result);

/** Kano categories (Kano et al. 1984). */
typedef enum custscore_kano_category {
    CUSTSCORE_KANO_ATTRACTIVE = 0,      /**< A: delights when present, not missed when absent */
    CUSTSCORE_KANO_ONE_DIMENSIONAL = 1, /**< O: the more the better */
    CUSTSCORE_KANO_MUST_BE = 2,         /**< M: expected; absence dissatisfies */
    CUSTSCORE_KANO_INDIFFERENT = 3,     /**< I: does not matter */
    CUSTSCORE_KANO_REVERSE = 4,         /**< R: the customer wants the opposite */
    CUSTSCORE_KANO_QUESTIONABLE = 5     /**< Q: contradictory answers */
} custscore_kano_category;
#define CUSTSCORE_KANO_CATEGORIES 6

/** Lower-case name of a category ("attractive", "one-dimensional", "must-be",
 *  "indifferent", "reverse", "questionable"), or NULL. */
CUSTSCORE_API const char *custscore_kano_category_name(int category);

/**
 * Classify one answer pair with the Kano evaluation table. Answers are coded
 * 1 = I like it, 2 = I expect it, 3 = I am neutral, 4 = I can live with it,
 * 5 = I dislike it; @p functional answers "if the product has the feature",
 * @p dysfunctional "if it does not". Returns the category, or -1 when an
 * answer is not 1..5.
 */
CUSTSCORE_API int custscore_kano_classify(int functional, int dysfunctional);

/** One feature's Kano result. */
typedef struct custscore_kano_feature {
    char *name;
    size_t n;                                /**< valid answer pairs */
    size_t count[CUSTSCORE_KANO_CATEGORIES]; /**< by category */
    int category;  /**< most frequent; ties broken M > O > A > I > R > Q; -1 when n = 0 */
    double better; /**< (A + O) / (A + O + M + I) (Berger et al. 1993); NaN if 0/0 */
    double worse;  /**< -(O + M) / (A + O + M + I); NaN if 0/0 */
} custscore_kano_feature;

/** Kano results for several features. */
typedef struct custscore_kano_result {
    size_t n_features;
    custscore_kano_feature *features;
} custscore_kano_result;

/**
 * Kano analysis of answer pairs: @p functional and @p dysfunctional are
 * [n_rows * n_features] row-major answers coded 1..5 (NaN: missing; a pair
 * counts when both are present). @p names [n_features] may be NULL.
 * @return 0, ::CUSTSCORE_EINVAL when an answer is not an integer 1..5.
 */
CUSTSCORE_API int custscore_kano(const double *functional, const double *dysfunctional,
                                 size_t n_rows, size_t n_features, const char *const *names,
                                 custscore_kano_result **out, char *errbuf, size_t errbuf_size);

/**
 * Kano analysis from the store's responses: @p mapping is
 * "FEATURE=FUNCTIONAL_ITEM/DYSFUNCTIONAL_ITEM,...". A respondent is one
 * customer on one UTC day.
 */
CUSTSCORE_API int custscore_kano_compute(custscore *db, const char *mapping,
                                         custscore_kano_result **out);

/** Free a Kano result. NULL is a no-op. */
CUSTSCORE_API void custscore_kano_result_free(custscore_kano_result *result);
/** @} */

/* @@CUSTSCORE_CSI_API@@ */

/* ===================================================================== */
/** @name Churn risk: logistic regression and classifier metrics (pure)
 *
 * Functions on plain arrays, usable without a store (e.g. from Python with
 * numpy through ctypes: pass contiguous float64 arrays). Matrices are
 * row-major: element (i, j) of an n x p matrix is x[i * p + j]. Labels are
 * doubles equal to 0 or 1; 1 is the event (churned). Higher scores and
 * probabilities mean more likely to churn, everywhere. All are reentrant.
 * @{ */

/** Options of custscore_logistic_fit(). Initialise with ::CUSTSCORE_LOGISTIC_OPTIONS_INIT. */
typedef struct custscore_logistic_options {
    unsigned version; /**< ::CUSTSCORE_LOGISTIC_OPTIONS_VERSION */
    /** L2 penalty on the standardised slopes, >= 0 (default 1: the MAP
     *  estimate under independent N(0, 1) priors on the slopes per standard
     *  deviation of their feature; keeps separable data finite). The
     *  intercept is not penalised. 0 is plain maximum likelihood. */
    double l2;
    int max_iterations; /**< Newton iterations, >= 1 (default 100) */
    /** Convergence when half the Newton decrement is below tolerance *
     *  (1 + |f|) and no coefficient moves by more than sqrt(tolerance)
     *  (default 1e-10). */
    double tolerance;
} custscore_logistic_options;

#define CUSTSCORE_LOGISTIC_OPTIONS_VERSION 1
/** Default logistic options: l2 = 1, 100 iterations, tolerance 1e-10. */
#define CUSTSCORE_LOGISTIC_OPTIONS_INIT                                                            \
    {                                                                                              \
        CUSTSCORE_LOGISTIC_OPTIONS_VERSION, 1.0, 100, 1e-10                                        \
    }

/** What a logistic fit did. */
typedef struct custscore_logistic_info {
    int iterations;    /**< Newton iterations used */
    int converged;     /**< nonzero when the convergence test was met */
    double loglik;     /**< log-likelihood at the estimate (without the penalty) */
    double penalty;    /**< the penalty term (l2 / 2) sum b_j^2 at the estimate */
    int64_t n;         /**< rows used (positive weight) */
    double base_rate;  /**< weighted share of rows with label 1 */
    size_t n_constant; /**< features constant over the rows used (coefficient 0) */
} custscore_logistic_info;

/**
 * Fit an L2-penalised logistic regression P(y = 1 | x) = 1 / (1 + exp(-(c_0 +
 * sum_j c_j x_j))) by Newton's method (IRLS) on standardised features. See
 * docs/models.md ("Churn risk") for the objective.
 *
 * @param x          n x p row-major matrix of finite features
 * @param n, p       rows (> 0) and features (>= 0)
 * @param y          [n] labels, 0 or 1 (1 = churned)
 * @param weight     [n] row weights >= 0, or NULL for all 1; rows of weight 0
 *                   are ignored (a holdout can be left out this way)
 * @param options    NULL for ::CUSTSCORE_LOGISTIC_OPTIONS_INIT
 * @param coef       [p + 1] receives the coefficients on the features' own
 *                   scale: coef[0] the intercept, coef[1 + j] feature j.
 *                   A feature constant over the rows used gets 0.
 * @param std_error  [p + 1] receives approximate standard errors (from the
 *                   inverse penalised Hessian), or NULL
 * @param info       receives iterations, log-likelihood etc., or NULL
 * @param errbuf     receives a message on failure, or NULL
 * @param errbuf_size size of @p errbuf
 * @return 0; ::CUSTSCORE_EINVAL for bad arguments, labels other than 0/1,
 *         non-finite values, or labels all 0 or all 1 (the message says
 *         "all churned" / "none churned"); ::CUSTSCORE_ENOCONV when the
 *         iterations ran out (coef then holds the last iterate);
 *         ::CUSTSCORE_ENOMEM.
 */
CUSTSCORE_API int custscore_logistic_fit(const double *x, size_t n, size_t p, const double *y,
                                         const double *weight,
                                         const custscore_logistic_options *options, double *coef,
                                         double *std_error, custscore_logistic_info *info,
                                         char *errbuf, size_t errbuf_size);

/**
 * Probabilities of an n x p row-major matrix under coefficients @p coef
 * ([p + 1], intercept first, as custscore_logistic_fit() returns them) into
 * @p prob [n]. Returns 0 or ::CUSTSCORE_EINVAL (NULL array, NaN logit).
 */
CUSTSCORE_API int custscore_logistic_predict(const double *x, size_t n, size_t p,
                                             const double *coef, double *prob);

/**
 * Area under the ROC curve of @p score for @p label (1 = event): the
 * probability that a random event scores above a random non-event, ties
 * counting one half (Mann-Whitney with mid-ranks); O(n log n).
 * @return 0; ::CUSTSCORE_EINVAL for NULL arrays, n = 0, NaN scores, labels
 *         other than 0/1, or only one class; ::CUSTSCORE_ENOMEM.
 */
CUSTSCORE_API int custscore_auc(const double *score, const double *label, size_t n, double *auc);

/**
 * Brier score: the mean of (prob_i - label_i)^2 (0 is perfect; a constant
 * forecast of the base rate b scores b (1 - b)). Probabilities must be in
 * [0, 1]. Returns 0 or ::CUSTSCORE_EINVAL.
 */
CUSTSCORE_API int custscore_brier(const double *prob, const double *label, size_t n, double *brier);

/**
 * Lift of the top @p fraction (0 < fraction <= 1; 0.1 for the top decile)
 * of customers by score: their event rate divided by the overall event rate.
 * Customers tied at the cut share it in proportion. Returns 0 or
 * ::CUSTSCORE_EINVAL (also when there is no event), ::CUSTSCORE_ENOMEM.
 */
CUSTSCORE_API int custscore_lift(const double *score, const double *label, size_t n,
                                 double fraction, double *lift);

/** One bin of a calibration table. */
typedef struct custscore_calibration_bin {
    int64_t n;             /**< customers in the bin */
    double p_min, p_max;   /**< range of predicted probabilities in the bin */
    double mean_predicted; /**< mean predicted probability */
    double observed_rate;  /**< share of events (label 1) */
} custscore_calibration_bin;

/**
 * Calibration table: customers sorted by predicted probability and cut into
 * @p bins groups of (nearly) equal size (10 for deciles), lowest first;
 * @p out [bins] receives each bin's mean prediction and observed rate.
 * Returns 0 or ::CUSTSCORE_EINVAL (bins = 0 or > n, probabilities outside
 * [0, 1], labels not 0/1), ::CUSTSCORE_ENOMEM.
 */
CUSTSCORE_API int custscore_calibration(const double *prob, const double *label, size_t n,
                                        size_t bins, custscore_calibration_bin *out);
/** @} */

/* ===================================================================== */
/** @name Churn risk: models on the store
 *
 * The probability that a customer has lapsed or will not buy in the next
 * window, its band, the reasons behind it and the value at risk. Higher =
 * more likely to churn, everywhere. Methods (docs/models.md ("Churn risk")):
 *
 * - ::CUSTSCORE_CHURN_WINDOW, the early-warning model (default): a logistic
 *   regression trained on the store's own history. At the cut-off c = as_of
 *   - W (W = window_days) the features are computed from the data up to c;
 *   the label is "no purchase occasion in (c, c + W]". The model is then
 *   applied to the features at the scoring date: P(no purchase in the next
 *   W days).
 * - ::CUSTSCORE_CHURN_LABEL: the same model trained on a churn label the user
 *   keeps as a customer attribute (e.g. "Churn" = "Yes"/"No", contractual
 *   churn), with a seeded random holdout.
 * - ::CUSTSCORE_CHURN_BTYD: P(X(W) = 0 | x, t_x, T), the probability of no
 *   purchase in the next W days under the fitted BTYD model; no training.
 * - ::CUSTSCORE_CHURN_BTYD_ALIVE: 1 - P(alive). Beware: under BG/NBD every
 *   one-time buyer has P(alive) = 1, so this ranks the customers most likely
 *   to be gone as the safest; P(X(W) = 0 | history) is the BTYD default.
 *
 * Features of the logistic models (each left out when constant in the
 * training data): recency against the customer's own rhythm, recency,
 * frequency, spend, frequency and spend trends, tenure, P(alive) when a BTYD
 * model is fitted, latest satisfaction with a missing indicator, recent and
 * unresolved complaints, and the customer attributes named in
 * custscore_churn_options::features (numbers as they are, words one-hot with
 * rare levels pooled). @{ */

/** How churn risk is computed (see the section comment). */
typedef enum custscore_churn_method {
    CUSTSCORE_CHURN_WINDOW = 1,    /**< early-warning logistic model on a past window (default) */
    CUSTSCORE_CHURN_LABEL = 2,     /**< logistic model on a churn label attribute */
    CUSTSCORE_CHURN_BTYD = 3,      /**< P(no purchase in the window | history), BTYD model */
    CUSTSCORE_CHURN_BTYD_ALIVE = 4 /**< 1 - P(alive), BTYD model (see the caveat) */
} custscore_churn_method;

/** Default probability from which a customer is in the "medium" band. */
#define CUSTSCORE_CHURN_BAND_MEDIUM 0.4
/** Default probability from which a customer is in the "high" band. */
#define CUSTSCORE_CHURN_BAND_HIGH 0.7

/** Options of the churn functions. Initialise with ::CUSTSCORE_CHURN_OPTIONS_INIT. */
typedef struct custscore_churn_options {
    unsigned version; /**< ::CUSTSCORE_CHURN_OPTIONS_VERSION */
    /** 0: ::CUSTSCORE_CHURN_LABEL when @ref label is set, else
     *  ::CUSTSCORE_CHURN_WINDOW (training), or the stored model's method
     *  (scoring). */
    int method;
    /** The window W in days (whole days, >= 1; 0 = the default 90):
     *  training labels no purchase in (as_of - W, as_of]; the BTYD methods
     *  use it as the horizon. A stored logistic model keeps its own window. */
    double window_days;
    /** Attribute holding the churn label (::CUSTSCORE_CHURN_LABEL), or NULL. */
    const char *label;
    /** Label text that means churned, compared case-insensitively (NULL:
     *  "Yes"; "true" and "1" also count). Numeric labels: nonzero = churned.
     *  Customers without the label are scored but not trained on. */
    const char *label_positive;
    /** Customer attributes used as features: names separated by commas,
     *  "*" for every attribute in the store except the label, NULL or "" for
     *  none. */
    const char *features;
    /** Purchase-behaviour features: 1 on, 0 off, -1 (default) on for the
     *  window method and off for the label method. */
    int behaviour;
    /** Share of the training customers held out at random for the card's
     *  AUC, Brier score, lift and calibration (0 <= holdout < 1; default
     *  0.3; 0 = none, metrics on the training data). */
    double holdout;
    uint64_t seed;         /**< seed of the holdout draw (default 1); same seed, same split */
    double l2;             /**< L2 penalty (see ::custscore_logistic_options; default 1) */
    double lookback_days;  /**< span of the trend features (default 365) */
    double complaint_days; /**< "recent complaints" span (default 90) */
    /** Categorical levels held by fewer than this share of the training
     *  customers are pooled into "(other)" (default 0.01). */
    double rare_level;
    /** Band thresholds on the probability: medium from band_medium, high
     *  from band_high (0 < medium <= high <= 1). 0 = the stored model's
     *  thresholds (scoring) or ::CUSTSCORE_CHURN_BAND_MEDIUM /
     *  ::CUSTSCORE_CHURN_BAND_HIGH (training). */
    double band_medium;
    double band_high; /**< see @ref band_medium */
    /** Name of the model in the store (NULL: "churn"). */
    const char *model_name;
    /** Name of the stored BTYD purchase model (custscore_fit()) behind the
     *  BTYD methods and the p_alive feature; NULL: the latest one. For the
     *  feature, a model of the same kind and unit is refitted on the data up
     *  to each reference day, so training never sees the future. */
    const char *btyd_model;
    /** Survey model (custscore_survey_model_save()) behind the satisfaction
     *  feature: each customer's latest satisfaction 0-100 by the reference
     *  day (custscore_csi_customers()). NULL: the latest stored survey model;
     *  none stored: no satisfaction feature. */
    const char *survey_model;
    /** Training only: nonzero = do not store the model (only return the card). */
    int no_store;
    /** Scoring only: nonzero = do not look up the CLV (value at risk not
     *  given), for callers that compute CLV themselves. */
    int no_clv;
} custscore_churn_options;

#define CUSTSCORE_CHURN_OPTIONS_VERSION 1
/** Default churn options (see each field). */
#define CUSTSCORE_CHURN_OPTIONS_INIT                                                               \
    {                                                                                              \
        CUSTSCORE_CHURN_OPTIONS_VERSION, 0, 0, NULL, NULL, NULL, -1, 0.3, 1, 1.0, 365, 90, 0.01,   \
            0, 0, NULL, NULL, NULL, 0, 0                                                           \
    }

/** One coefficient of a churn model card. */
typedef struct custscore_churn_coef {
    const char *name;       /**< feature, e.g. "recency_ratio", "Contract=Two year" */
    const char *group;      /**< the reason it counts toward, e.g. "recency", "Contract" */
    double coefficient;     /**< logit change per unit of the feature (> 0 raises the risk) */
    double std_error;       /**< approximate standard error (penalised Hessian) */
    double std_coefficient; /**< coefficient * sd: logit change per standard deviation */
    double mean;            /**< training mean (also imputed for missing values) */
    double sd;              /**< training standard deviation */
} custscore_churn_coef;

/** Number of calibration bins on a card (deciles). */
#define CUSTSCORE_CHURN_CALIBRATION_BINS 10

/**
 * A churn model card: what the model is, what it was trained on and how well
 * it did. Allocated by the library; free with custscore_churn_card_free().
 * Metrics are on the holdout (n_holdout > 0), else on the training data.
 */
typedef struct custscore_churn_card {
    char *model_name;              /**< e.g. "churn" */
    custscore_churn_method method; /**< window or label */
    int64_t fitted_at;             /**< when it was trained (Unix s) */
    int64_t as_of;                 /**< training as-of date (Unix s) */
    int64_t cutoff;                /**< window method: features up to this day; else = as_of */
    double window_days;            /**< W (window method) */
    char *label;                   /**< label attribute (label method) or NULL */
    char *btyd_model;              /**< BTYD model behind the p_alive feature, or NULL */
    char *survey_model;            /**< survey model behind the satisfaction feature, or NULL */
    double prior_gap_days;         /**< population median gap used for one-time buyers */
    double intercept;              /**< on the features' own scale */
    size_t n_coefs;                /**< features kept in the model */
    custscore_churn_coef *coefs;   /**< [n_coefs] */
    double l2;                     /**< penalty used */
    int iterations;                /**< Newton iterations */
    int converged;                 /**< nonzero when the fit converged */
    int64_t n_train;               /**< customers trained on */
    int64_t n_holdout;             /**< customers held out */
    double base_rate;              /**< churn rate among the training customers */
    double holdout_base_rate;      /**< churn rate among the holdout (NaN without one) */
    double train_auc;              /**< AUC on the training customers */
    double auc;                    /**< AUC (holdout) */
    double brier;                  /**< Brier score (holdout) */
    double lift_top_decile;        /**< churn rate in the top 10% by risk / base rate (holdout) */
    size_t n_calibration;          /**< calibration bins filled (10, or 0 when too few customers) */
    custscore_calibration_bin *calibration; /**< [n_calibration], lowest risk first */
    double band_medium;                     /**< band thresholds stored with the model */
    double band_high;                       /**< see band_medium */
    char *params_json;                      /**< the card's params as stored (JSON) */
    char *info_json;                        /**< the card's info as stored (JSON) */
} custscore_churn_card;

/**
 * Train a churn model on the store as of @p as_of and store its card in the
 * store's `model` table under options->model_name ("churn"), replacing
 * nothing (the newest card of a name is the one used).
 *
 * Window method: needs orders; customers with a purchase occasion on or
 * before the cut-off as_of - W are trained on. Label method: needs the label
 * attribute on customers of both classes.
 *
 * @param card  if not NULL, receives the card (free it with
 *              custscore_churn_card_free()); NULL on failure
 * @return 0; ::CUSTSCORE_EINVAL (bad options, a BTYD method (those need no
 *         training), no customer to train on, all customers churned or none
 *         did, e.g. a window longer than the history); ::CUSTSCORE_ENOMODEL or
 *         ::CUSTSCORE_ENOTFOUND (a named btyd_model or survey_model that does
 *         not exist); ::CUSTSCORE_ERANGE (@p as_of outside
 *         ::CUSTSCORE_TIME_MIN .. ::CUSTSCORE_TIME_MAX); ::CUSTSCORE_ENOCONV,
 *         ::CUSTSCORE_EREADONLY, store errors, ::CUSTSCORE_ENOMEM. The
 *         message says which.
 */
CUSTSCORE_API int custscore_churn_train(custscore *db, int64_t as_of,
                                        const custscore_churn_options *options,
                                        custscore_churn_card **card);

/**
 * Read the newest stored churn model card named @p name (NULL: "churn").
 * @return 0, ::CUSTSCORE_ENOMODEL when there is none, ::CUSTSCORE_ECORRUPT
 *         when the stored card cannot be read, ::CUSTSCORE_ENOMEM.
 */
CUSTSCORE_API int custscore_churn_card_get(custscore *db, const char *name,
                                           custscore_churn_card **card);

/** Free a card returned by the library. NULL is a no-op. */
CUSTSCORE_API void custscore_churn_card_free(custscore_churn_card *card);

/** One reason of a churn score: a feature group and its contribution. */
typedef struct custscore_churn_reason {
    const char *feature; /**< the group, e.g. "recency", "Contract" */
    const char *text; /**< in words, e.g. "last purchase 120 days ago, 4.2 times the usual gap" */
    double contribution; /**< on the logit scale; > 0 raises the risk */
} custscore_churn_reason;

/** Maximum number of reasons per customer. */
#define CUSTSCORE_CHURN_REASONS 3
/** Smallest contribution (logit scale; 0.01 = odds up by 1%) given as a
 *  reason: smaller ones are noise to the reader. */
#define CUSTSCORE_CHURN_REASON_MIN 0.01

/**
 * One customer's churn score, as passed to a ::custscore_churn_fn. Strings
 * and arrays are valid only during the callback.
 *
 * For the logistic methods, with c_j the coefficients and m_j the training
 * means, the contribution of feature j is c_j (x_j - m_j), and a group's is
 * the sum over its features, so that
 * logit = logit_at_mean + sum of all contributions exactly. For the BTYD
 * methods there are no groups: logit_at_mean is NaN and the one reason is
 * the model's figure in words, with a NaN contribution.
 */
typedef struct custscore_churn_score {
    const char *customer; /**< the key */
    double probability;   /**< of churn, 0..1 (higher = more likely to churn) */
    const char *band;     /**< "low", "medium" or "high" */
    int band_level;       /**< 0 low, 1 medium, 2 high */
    double logit;         /**< log(p / (1 - p)) */
    double logit_at_mean; /**< intercept + sum c_j m_j: the logit of the average customer */
    /** Reasons that raise the risk most, largest first: the groups with a
     *  contribution of at least ::CUSTSCORE_CHURN_REASON_MIN. */
    size_t n_reasons;
    custscore_churn_reason reason[CUSTSCORE_CHURN_REASONS];
    size_t n_groups;            /**< feature groups (0 for the BTYD methods) */
    const char *const *groups;  /**< [n_groups] group names, in card order */
    const double *contribution; /**< [n_groups] each group's contribution */
    int has_clv;                /**< nonzero when a CLV model gave this customer's CLV */
    double clv;                 /**< customer lifetime value (when has_clv) */
    double value_at_risk;       /**< probability * CLV (0 when !has_clv) */
} custscore_churn_score;

/** Called for each scored customer; return nonzero to stop. */
typedef int (*custscore_churn_fn)(const custscore_churn_score *score, void *payload);

/**
 * Score every customer as of @p as_of with the stored model
 * options->model_name (logistic methods) or the fitted BTYD model (BTYD
 * methods), calling @p fn for each, ordered by key. Window and BTYD methods
 * score the customers with at least one purchase occasion by as_of (there
 * is nothing to lapse from before); the label method scores every customer.
 * Value at risk uses the stored CLV models (custscore_clv_each(), its
 * default 12-month horizon) when there are, unless options->no_clv.
 * @return 0, the callback's nonzero value when it stopped,
 *         ::CUSTSCORE_ENOMODEL (no stored model), ::CUSTSCORE_EINVAL,
 *         ::CUSTSCORE_ERANGE (@p as_of outside ::CUSTSCORE_TIME_MIN ..
 *         ::CUSTSCORE_TIME_MAX), store errors, ::CUSTSCORE_ENOMEM.
 */
CUSTSCORE_API int custscore_churn_score_each(custscore *db, int64_t as_of,
                                             const custscore_churn_options *options,
                                             custscore_churn_fn fn, void *payload);

/** Band name for a probability under thresholds (medium, high): "low", "medium" or "high". */
CUSTSCORE_API const char *custscore_churn_band(double probability, double band_medium,
                                               double band_high);
/** @} */

/* @@CUSTSCORE_CHURN_API@@ */

/* ===================================================================== */
/** @name Loyalty and retention indicators
 *
 * Cohorts by period of first purchase (calendar month by default) and, per
 * calendar period, the retention rate, repeat purchase rate, mean
 * inter-purchase time and the share of revenue from repeat customers.
 * Purchase occasions as in the summary (a UTC day with an order of positive
 * revenue). Definitions: docs/models.md, "Loyalty and retention". @{ */

/** Options of custscore_retention(). Initialise with ::CUSTSCORE_RETENTION_OPTIONS_INIT. */
typedef struct custscore_retention_options {
    unsigned version; /**< ::CUSTSCORE_RETENTION_OPTIONS_VERSION */
    /** Calendar period: ::CUSTSCORE_UNIT_MONTH (default; calendar months),
     *  ::CUSTSCORE_UNIT_WEEK (ISO weeks, Monday to Sunday), ::CUSTSCORE_UNIT_DAY
     *  or ::CUSTSCORE_UNIT_YEAR (calendar years). */
    custscore_unit period;
    int max_periods; /**< longest retention curve kept per cohort (default 24) */
    int64_t since;   /**< ignore cohorts starting before this time (0: all) */
} custscore_retention_options;

#define CUSTSCORE_RETENTION_OPTIONS_VERSION 1
#define CUSTSCORE_RETENTION_OPTIONS_INIT                                                           \
    {                                                                                              \
        CUSTSCORE_RETENTION_OPTIONS_VERSION, CUSTSCORE_UNIT_MONTH, 24, 0                           \
    }

/** One cohort: the customers whose first purchase fell in one period. */
typedef struct custscore_cohort {
    int64_t start;     /**< first second of the cohort's period (UTC) */
    int64_t customers; /**< cohort size */
    /** Share of the cohort with a repeat purchase occasion by the as-of day. */
    double repeat_rate;
    /** Mean days between successive purchase occasions of the cohort's
     *  repeat buyers (NaN when none). */
    double mean_interpurchase_days;
    /** Revenue of repeat occasions / all revenue of the cohort (NaN when 0). */
    double repeat_revenue_share;
    size_t n_periods; /**< length of @ref retention (periods up to the as-of day) */
    /** [n_periods] retention[k]: share of the cohort with a purchase occasion
     *  in the k-th period after the cohort's (retention[0] = 1). */
    double *retention;
} custscore_cohort;

/** One calendar period's indicators over all customers. */
typedef struct custscore_period_stats {
    int64_t start;         /**< first second of the period (UTC) */
    int64_t active;        /**< customers with a purchase occasion in the period */
    int64_t new_customers; /**< of them, first purchases */
    /** Share of the previous period's active customers also active in this
     *  one (NaN for the first period or an empty previous period). */
    double retention_rate;
    /** Share of the period's active customers who had bought before. */
    double repeat_purchase_rate;
    /** Mean days since the customer's previous occasion, over the period's
     *  repeat occasions (NaN when none). */
    double mean_interpurchase_days;
    double revenue; /**< net revenue of the period's orders */
    /** Share of the period's revenue from repeat customers' orders (NaN when
     *  the revenue is 0). */
    double repeat_revenue_share;
} custscore_period_stats;

/** Result of custscore_retention_compute(); free with custscore_retention_free(). */
typedef struct custscore_retention {
    custscore_unit period; /**< the period used */
    int64_t as_of;         /**< the as-of time */
    size_t n_cohorts;
    custscore_cohort *cohorts; /**< [n_cohorts], oldest first */
    size_t n_periods;
    custscore_period_stats *periods; /**< [n_periods], oldest first */
    /** Over all customers: share of buyers with a repeat occasion. */
    double repeat_rate;
    /** Over all repeat buyers: mean days between successive occasions. */
    double mean_interpurchase_days;
} custscore_retention;

/**
 * Compute cohort retention and per-period loyalty indicators from the
 * store's orders up to the as-of day (one pass over the order history).
 * @param out  receives a result to free with custscore_retention_free()
 * @return 0, ::CUSTSCORE_EINVAL (bad options), ::CUSTSCORE_ERANGE (@p as_of
 *         outside ::CUSTSCORE_TIME_MIN .. ::CUSTSCORE_TIME_MAX),
 *         ::CUSTSCORE_ENOMEM, store errors.
 */
CUSTSCORE_API int custscore_retention_compute(custscore *db, int64_t as_of,
                                              const custscore_retention_options *options,
                                              custscore_retention **out);

/** Free a result of custscore_retention_compute(); NULL is a no-op. */
CUSTSCORE_API void custscore_retention_free(custscore_retention *retention);
/** @} */

/* ===================================================================== */
/** @name Scoring everything: snapshots, matrices, changes, report
 *
 * custscore_score_all() computes every customer's value (RFM, segment,
 * profit, tier, lifecycle), lifetime value with its interval, P(alive),
 * churn probability with band, reasons and value at risk, and satisfaction,
 * in one pass over the store, classifies each customer in the value matrix
 * and the loyalty quadrant, and saves the result as a snapshot keyed by the
 * as-of date (re-running a date replaces its snapshot). It works with
 * whatever exists: without a fitted lifetime-value model the CLV fields are
 * NaN, without a churn model the churn fields are NaN, without survey
 * answers the satisfaction is NaN; each `*_note` says why. @{ */

/** Value matrix: current value (trailing profit) x future value (CLV). */
typedef enum custscore_value_quadrant {
    CUSTSCORE_VQ_UNCLASSIFIED = 0, /**< no CLV (no fitted model, or no purchase) */
    CUSTSCORE_VQ_VALUE = 1,        /**< high now, high future: value customers */
    CUSTSCORE_VQ_POTENTIAL = 2,    /**< low now, high future: potential customers */
    CUSTSCORE_VQ_MAINTAIN = 3,     /**< high now, low future: maintain */
    CUSTSCORE_VQ_LOW = 4           /**< low now, low future: low value */
} custscore_value_quadrant;

/** Loyalty quadrant: satisfaction x behavioural loyalty (Jones & Sasser 1995). */
typedef enum custscore_loyalty_quadrant {
    CUSTSCORE_LQ_UNCLASSIFIED = 0, /**< no satisfaction score (no survey answer) */
    CUSTSCORE_LQ_APOSTLE = 1,      /**< satisfied and loyal */
    CUSTSCORE_LQ_MERCENARY = 2,    /**< satisfied, not loyal */
    CUSTSCORE_LQ_HOSTAGE = 3,      /**< loyal, not satisfied */
    CUSTSCORE_LQ_DEFECTOR = 4      /**< neither */
} custscore_loyalty_quadrant;

/** Name of a value-matrix quadrant ("value", "potential", "maintain", "low
 *  value", "unclassified"); static. */
CUSTSCORE_API const char *custscore_value_quadrant_name(custscore_value_quadrant q);
/** Name of a loyalty quadrant ("apostle", "mercenary", "hostage",
 *  "defector", "unclassified"); static. */
CUSTSCORE_API const char *custscore_loyalty_quadrant_name(custscore_loyalty_quadrant q);

/** Options of custscore_score_all(). Initialise with ::CUSTSCORE_SCORE_OPTIONS_INIT. */
typedef struct custscore_score_options {
    unsigned version;              /**< ::CUSTSCORE_SCORE_OPTIONS_VERSION */
    custscore_value_options value; /**< RFM, segments, tiers, lifecycle */
    custscore_clv_options clv;     /**< horizon, discount, margin, interval, models */
    /** Value matrix split points: current value (trailing profit in the
     *  value options' profit window) and CLV. NaN (the default) splits at
     *  the medians of the classified customers. */
    double current_value_split;
    double future_value_split;
    /** Loyalty quadrant split points: satisfaction (0-100) and loyalty
     *  (0..1, see custscore_score::loyalty). NaN (the default) splits at
     *  the medians of the customers with a satisfaction score. */
    double satisfaction_split;
    double loyalty_split;
    /** Churn bands: probability >= band_high is "high", >= band_medium
     *  "medium", else "low"; 0 (the default) uses the thresholds stored
     *  with the churn model (by default ::CUSTSCORE_CHURN_BAND_MEDIUM and
     *  ::CUSTSCORE_CHURN_BAND_HIGH). */
    double band_medium;
    double band_high;
    /** Survey model for the per-customer satisfaction: a stored model's name
     *  (see custscore_survey_model_save()); NULL (the default) takes the
     *  latest stored survey model. */
    const char *survey_model;
    int no_store; /**< nonzero: do not save the snapshot */
} custscore_score_options;

#define CUSTSCORE_SCORE_OPTIONS_VERSION 1
#define CUSTSCORE_SCORE_OPTIONS_INIT                                                               \
    {                                                                                              \
        CUSTSCORE_SCORE_OPTIONS_VERSION, CUSTSCORE_VALUE_OPTIONS_INIT, CUSTSCORE_CLV_OPTIONS_INIT, \
            NAN, NAN, NAN, NAN, 0.0, 0.0, NULL, 0                                                  \
    }

/** Number of churn reasons reported per customer. */
#define CUSTSCORE_REASONS 3

/** Every score of one customer (one row of `custscore score`). NaN marks a
 *  value that could not be computed; the notes say why. Strings are valid
 *  during the callback. */
typedef struct custscore_score {
    const char *customer;  /**< the key */
    custscore_value value; /**< RFM, segment, profit, tier, lifecycle */
    /** Trailing profit in the value options' profit window (current value). */
    double current_value;
    int64_t repeat_purchases;       /**< repeat purchase occasions (x) */
    double mean_interpurchase_days; /**< (last - first) / x in days; NaN when x = 0 */
    /* Lifetime value (NaN without fitted models; see clv_note) */
    double p_alive;            /**< P(alive) under the purchase model */
    double expected_purchases; /**< purchases expected over the CLV horizon */
    double expected_spend;     /**< Gamma-Gamma expected spend per purchase */
    double clv;                /**< discounted residual CLV over the horizon */
    double clv_low, clv_high;  /**< CLV interval */
    const char *clv_note;      /**< "" or why the CLV fields are empty */
    /* Churn (NaN without a trained churn model; see churn_note) */
    double churn_probability; /**< P(no purchase in the model's window); higher = riskier */
    const char *band;         /**< "low", "medium", "high", or "" */
    const char *reason[CUSTSCORE_REASONS];         /**< top reasons in words ("" when fewer) */
    double reason_contribution[CUSTSCORE_REASONS]; /**< their logit contributions */
    double value_at_risk;   /**< churn_probability x CLV (NaN when either is) */
    const char *churn_note; /**< "" or why the churn fields are empty */
    /* Satisfaction (NaN without survey answers; see satisfaction_note) */
    double satisfaction;           /**< 0-100 from the latest answers */
    int64_t satisfaction_ts;       /**< when those answers were given; 0 if none */
    const char *satisfaction_note; /**< "" or why satisfaction is empty */
    /** Behavioural loyalty 0..1: the mean of P(alive) (when a model exists)
     *  and the customer's repeat rate x / (x + 1). */
    double loyalty;
    custscore_value_quadrant value_quadrant;
    custscore_loyalty_quadrant loyalty_quadrant;
} custscore_score;

/** Called by custscore_score_all() for each customer; return nonzero to stop. */
typedef int (*custscore_score_fn)(const custscore_score *score, void *payload);

/** What a scoring run used and found. */
typedef struct custscore_score_info {
    int64_t as_of;
    int64_t customers;
    int has_clv, has_churn, has_satisfaction;       /**< which parts were available */
    double current_value_split, future_value_split; /**< split points used */
    double satisfaction_split, loyalty_split;
    int64_t value_quadrant_count[5];   /**< customers per ::custscore_value_quadrant */
    int64_t loyalty_quadrant_count[5]; /**< customers per ::custscore_loyalty_quadrant */
    int64_t band_count[3];             /**< low, medium, high */
    double total_profit, total_clv, total_value_at_risk;
    int saved; /**< 1 when the snapshot was stored */
} custscore_score_info;

/**
 * Score every customer as of @p as_of in one pass and (unless
 * options->no_store) save the snapshot, replacing an earlier snapshot of the
 * same as-of time. @p fn may be NULL (only save). Customers are ordered by key.
 * @param info  if not NULL, receives counts and split points
 * @return 0, ::CUSTSCORE_EINVAL, ::CUSTSCORE_ERANGE (@p as_of outside
 *         ::CUSTSCORE_TIME_MIN .. ::CUSTSCORE_TIME_MAX),
 *         ::CUSTSCORE_EREADONLY (saving on a read-only store; use no_store),
 *         store errors, or the callback's nonzero value (nothing saved then).
 */
CUSTSCORE_API int custscore_score_all(custscore *db, int64_t as_of,
                                      const custscore_score_options *options, custscore_score_fn fn,
                                      void *payload, custscore_score_info *info);

/** One customer's saved scores (from a snapshot). Strings are valid during
 *  the callback / until the next call on the handle. */
typedef struct custscore_snapshot_row {
    const char *customer;
    int64_t as_of;
    int64_t scored_at;
    int rfm_score;
    const char *segment, *tier, *lifecycle;
    double profit, current_value, clv, p_alive, churn_probability;
    const char *band;
    double value_at_risk, satisfaction;
    const char *value_quadrant, *loyalty_quadrant;
    /** The whole row as a JSON object (all fields of custscore_score). */
    const char *json;
} custscore_snapshot_row;

/**
 * List the as-of times of the saved snapshots, newest first, into
 * @p as_of[0..capacity) and set *count to how many exist (which may exceed
 * capacity).
 */
CUSTSCORE_API int custscore_snapshots(custscore *db, int64_t *as_of, size_t capacity,
                                      size_t *count);

/**
 * Read one customer's saved scores: the snapshot at @p as_of, or with
 * @p as_of 0 the latest snapshot holding the customer.
 * @return 0, ::CUSTSCORE_ENOTFOUND (no such customer or snapshot),
 *         ::CUSTSCORE_ERANGE (@p as_of outside ::CUSTSCORE_TIME_MIN ..
 *         ::CUSTSCORE_TIME_MAX).
 */
CUSTSCORE_API int custscore_snapshot_get(custscore *db, const char *customer, int64_t as_of,
                                         custscore_snapshot_row *out);

/** A customer whose tier, segment or churn band moved between two snapshots. */
typedef struct custscore_change {
    const char *customer;
    custscore_snapshot_row before, after;
    int tier_changed, segment_changed, band_changed;
    /** What is at stake: value at risk in the later snapshot, else its CLV,
     *  else its current value. Changes are sorted by it, largest first. */
    double value_at_stake;
} custscore_change;

typedef int (*custscore_change_fn)(const custscore_change *change, void *payload);

/**
 * Compare the snapshot at @p since (the latest one at or before it) with
 * the snapshot at @p until (the latest at or before it; 0 = the latest) and
 * call @p fn for each customer whose tier, segment or band changed, largest
 * value at stake first.
 * @return 0, ::CUSTSCORE_ENOTFOUND (no snapshot at or before a date),
 *         ::CUSTSCORE_ERANGE (@p since or @p until outside
 *         ::CUSTSCORE_TIME_MIN .. ::CUSTSCORE_TIME_MAX), store errors.
 */
CUSTSCORE_API int custscore_changes(custscore *db, int64_t since, int64_t until,
                                    custscore_change_fn fn, void *payload);
/** @} */

/* ===================================================================== */
/** @name Report: one self-contained HTML file for managers
 *
 * custscore_report_html() computes every part of the customer picture in
 * one run over the store (every customer's scores, read from the snapshot
 * saved for the as-of date when there is one, else custscore_score_all()
 * without saving; the whale curve, cohort retention, the satisfaction index
 * with its bootstrap interval, NPS and drivers, the changes between the two
 * latest saved snapshots, the churn model card) and writes one HTML file
 * with inline CSS and inline SVG charts: no scripts, nothing fetched from
 * anywhere (a Content-Security-Policy in the file forbids it), so it can be
 * mailed or archived as it is. What each section shows and how to read it:
 * docs/report.md.
 *
 * Parts that cannot be computed (no lifetime-value model, no churn model,
 * no survey answers or survey model, fewer than two saved snapshots, no
 * orders) are not errors: their section holds a short note saying what to
 * run. Every chart is an HTML `<figure data-chart="NAME">` with a stable
 * NAME: whale, pyramid, segments, clv, churn, churn-top, ipm,
 * value-matrix, loyalty, changes, retention. @{ */

/** Options of custscore_report_html(). Initialise with ::CUSTSCORE_REPORT_OPTIONS_INIT. */
typedef struct custscore_report_options {
    unsigned version; /**< ::CUSTSCORE_REPORT_OPTIONS_VERSION */
    /** Scoring options (value, CLV, matrices' split points, churn bands).
     *  score.no_store and score.clv.interval_level are ignored: the report
     *  never saves a snapshot and shows no per-customer CLV interval, so it
     *  does not compute one. Any other value than the defaults makes the
     *  report score every customer itself instead of reading the snapshot
     *  saved for the as-of date (see custscore_report_html()). */
    custscore_score_options score;
    /** Title shown at the top (UTF-8, escaped); NULL: "Customer report". */
    const char *title;
    /** Rows of the top tables (value at risk, changes), 1..10000; 0 means
     *  the default 20. */
    int top;
    /** Stored survey model of the satisfaction section (and of the
     *  per-customer satisfaction when score.survey_model is NULL); NULL:
     *  score.survey_model, else the latest stored survey model. */
    const char *survey_model;
    /** Bootstrap resamples for the satisfaction index interval and the
     *  drivers: 1..10000; 0 for no interval; -1 (the default) for a number
     *  in proportion to the work: 200 up to 10,000 respondents (customers
     *  with a satisfaction score), 2,000,000 / respondents above that, at
     *  least 50. The page says how many were drawn. */
    int csi_bootstrap;
    uint64_t seed; /**< seed of that bootstrap (default 1): same seed, same interval */
    /** Largest number of points drawn in each scatter chart (evenly
     *  thinned, so the file stays small); 0 means the default 1500. */
    size_t max_points;
} custscore_report_options;

#define CUSTSCORE_REPORT_OPTIONS_VERSION 1
/** Default report options: default scoring, top 20, the latest survey
 *  model, bootstrap resamples in proportion to the respondents (-1) with
 *  seed 1, 1500 points per scatter. */
#define CUSTSCORE_REPORT_OPTIONS_INIT                                                              \
    {                                                                                              \
        CUSTSCORE_REPORT_OPTIONS_VERSION, CUSTSCORE_SCORE_OPTIONS_INIT, NULL, 20, NULL, -1, 1,     \
            1500                                                                                   \
    }

/**
 * Write the HTML report of the store as of @p as_of to @p path.
 *
 * The customer scores come from the snapshot saved for exactly @p as_of
 * (custscore_score_all() with saving, as the nightly `custscore score`
 * before `custscore report`) instead of scoring every customer again, when
 * options->score are the default scoring options and the survey model is
 * the latest stored one (a snapshot does not record the options it was
 * scored with), and the snapshot still matches the store: the same
 * customers, the same number of customers with a purchase and the same
 * profit in the profit window as the orders now give, and the options'
 * tiers and RFM segments. Otherwise the report scores every customer with
 * custscore_score_all() (not saved). A line under the headline figures
 * says which: the snapshot and the time it was scored, or why it was not
 * used. The report is the same for the same data either way. Retention,
 * the satisfaction index and the churn model card are always computed
 * from the store.
 *
 * Reads the store only (nothing is saved, so a read-only handle works).
 * The file is written to a temporary name in the same directory and
 * renamed, so a reader never sees half a report; "-" writes to standard
 * output.
 *
 * @param options  NULL for ::CUSTSCORE_REPORT_OPTIONS_INIT
 * @return 0; ::CUSTSCORE_EINVAL (NULL or empty @p path, bad options);
 *         ::CUSTSCORE_ERANGE (@p as_of outside ::CUSTSCORE_TIME_MIN ..
 *         ::CUSTSCORE_TIME_MAX);
 *         ::CUSTSCORE_EIO (the file cannot be written); ::CUSTSCORE_ENOMEM;
 *         store errors. A missing model or data is not an error (see the
 *         section comment).
 */
CUSTSCORE_API int custscore_report_html(custscore *db, int64_t as_of,
                                        const custscore_report_options *options, const char *path);
/** @} */

/* @@CUSTSCORE_SCORE_API@@ */

#ifdef __cplusplus
}
#endif

#endif /* CUSTSCORE_H */
