/*
 * store.c: the SQLite store. Schema and migrations (PRAGMA user_version),
 * WAL, busy timeout, BEGIN IMMEDIATE write transactions and the prepared
 * statements kept for the handle's life. No SQL is ever built from input:
 * every statement here is a constant with bound parameters.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* 'CSSR': marks a database file as a custscore store (PRAGMA application_id). */
#define CS_APPLICATION_ID 0x43535352

/* Schema v1 (docs/schema.md describes each table). */
static const char cs_schema_v1[] =
    "CREATE TABLE customer("
    "  id INTEGER PRIMARY KEY,"
    "  key TEXT NOT NULL UNIQUE,"
    "  created INTEGER NOT NULL DEFAULT 0"
    ") STRICT;"
    "CREATE TABLE orders("
    "  id INTEGER PRIMARY KEY,"
    "  customer INTEGER NOT NULL REFERENCES customer(id) ON DELETE CASCADE,"
    "  order_key TEXT,"
    "  ts INTEGER NOT NULL,"
    "  revenue REAL NOT NULL,"
    "  cost REAL,"
    "  UNIQUE(customer, order_key)"
    ") STRICT;"
    "CREATE TABLE response("
    "  id INTEGER PRIMARY KEY,"
    "  customer INTEGER NOT NULL REFERENCES customer(id) ON DELETE CASCADE,"
    "  ts INTEGER NOT NULL,"
    "  item TEXT NOT NULL,"
    "  value REAL NOT NULL,"
    "  UNIQUE(customer, ts, item)"
    ") STRICT;"
    "CREATE TABLE complaint("
    "  id INTEGER PRIMARY KEY,"
    "  customer INTEGER NOT NULL REFERENCES customer(id) ON DELETE CASCADE,"
    "  ts INTEGER NOT NULL,"
    "  severity REAL NOT NULL,"
    "  resolved_ts INTEGER,"
    "  UNIQUE(customer, ts)"
    ") STRICT;"
    "CREATE TABLE attribute("
    "  customer INTEGER NOT NULL REFERENCES customer(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  value ANY,"
    "  PRIMARY KEY(customer, name)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TABLE model("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  fitted_at INTEGER NOT NULL,"
    "  as_of INTEGER NOT NULL,"
    "  unit TEXT NOT NULL,"
    "  params TEXT NOT NULL,"
    "  stderr TEXT,"
    "  loglik REAL,"
    "  n INTEGER NOT NULL,"
    "  info TEXT"
    ") STRICT;"
    "CREATE INDEX model_by_name ON model(name, fitted_at);"
    "CREATE TABLE score("
    "  as_of INTEGER NOT NULL,"
    "  customer INTEGER NOT NULL REFERENCES customer(id) ON DELETE CASCADE,"
    "  scored_at INTEGER NOT NULL,"
    "  rfm_score INTEGER,"
    "  segment TEXT,"
    "  tier TEXT,"
    "  lifecycle TEXT,"
    "  profit REAL,"
    "  current_value REAL,"
    "  clv REAL,"
    "  p_alive REAL,"
    "  churn_probability REAL,"
    "  band TEXT,"
    "  value_at_risk REAL,"
    "  satisfaction REAL,"
    "  value_matrix TEXT,"
    "  loyalty TEXT,"
    "  data TEXT NOT NULL,"
    "  UNIQUE(as_of, customer)"
    ") STRICT;"
    "CREATE INDEX score_by_customer ON score(customer, as_of);";

/* Schema v2: orders becomes a WITHOUT ROWID table clustered by (customer,
 * order_key). Each customer's orders sit together in the table (one B-tree
 * instead of a table plus a unique index: a bulk import writes half as
 * much, and a scan finds the orders grouped by customer). An order without an ERP key (v1 kept
 * NULL) gets the key an import gives a line without an order column,
 * '@<unix time>#<n>', n counting on after the customer's existing keys of
 * that time (docs/input-formats.md). */
static const char cs_schema_v2[] =
    "CREATE TABLE orders_v2("
    "  customer INTEGER NOT NULL REFERENCES customer(id) ON DELETE CASCADE,"
    "  order_key TEXT NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  revenue REAL NOT NULL,"
    "  cost REAL,"
    "  PRIMARY KEY(customer, order_key)"
    ") STRICT, WITHOUT ROWID;"
    "INSERT INTO orders_v2(customer, order_key, ts, revenue, cost)"
    "  SELECT customer, order_key, ts, revenue, cost FROM orders"
    "  WHERE order_key IS NOT NULL ORDER BY customer, order_key;"
    "INSERT INTO orders_v2(customer, order_key, ts, revenue, cost)"
    "  SELECT o.customer, '@' || o.ts || '#' || (row_number() OVER"
    "    (PARTITION BY o.customer, o.ts ORDER BY o.id) + (SELECT count(*) FROM orders k"
    "    WHERE k.customer = o.customer AND k.order_key >= '@' || o.ts || '#'"
    "    AND k.order_key < '@' || o.ts || '$')), o.ts, o.revenue, o.cost"
    "  FROM orders o WHERE o.order_key IS NULL;"
    "DROP TABLE orders;"
    "ALTER TABLE orders_v2 RENAME TO orders;";

/* Migrations: cs_migrations[v] brings a store from version v to v + 1. */
static const char *const cs_migrations[] = {cs_schema_v1, cs_schema_v2};
#define CS_N_MIGRATIONS (sizeof cs_migrations / sizeof cs_migrations[0])

static const char *const cs_stmt_sql[CS_STMT__COUNT] = {
    [CS_STMT_CUSTOMER_FIND] = "SELECT id FROM customer WHERE key = ?1",
    [CS_STMT_CUSTOMER_INSERT] = "INSERT INTO customer(key, created) VALUES (?1, ?2)",
    [CS_STMT_CUSTOMER_CREATED] = "UPDATE customer SET created = ?2 WHERE id = ?1",
    [CS_STMT_ORDER_UPDATE] = "UPDATE orders SET ts = ?3, revenue = ?4, cost = ?5"
                             " WHERE customer = ?1 AND order_key = ?2",
    [CS_STMT_ORDER_INSERT] = "INSERT INTO orders(customer, order_key, ts, revenue, cost)"
                             " VALUES (?1, ?2, ?3, ?4, ?5)",
    [CS_STMT_ATTRIBUTE_UPSERT] = "INSERT OR REPLACE INTO attribute(customer, name, value)"
                                 " VALUES (?1, ?2, ?3)",
    [CS_STMT_RESPONSE_UPDATE] = "UPDATE response SET value = ?4"
                                " WHERE customer = ?1 AND ts = ?2 AND item = ?3",
    [CS_STMT_RESPONSE_INSERT] = "INSERT INTO response(customer, ts, item, value)"
                                " VALUES (?1, ?2, ?3, ?4)",
    [CS_STMT_COMPLAINT_UPDATE] = "UPDATE complaint SET severity = ?3, resolved_ts = ?4"
                                 " WHERE customer = ?1 AND ts = ?2",
    [CS_STMT_COMPLAINT_INSERT] = "INSERT INTO complaint(customer, ts, severity, resolved_ts)"
                                 " VALUES (?1, ?2, ?3, ?4)",
    [CS_STMT_COUNT_CUSTOMERS] = "SELECT count(*) FROM customer",
    [CS_STMT_ORDERS_OF_ONE] = "SELECT ts, revenue, cost FROM orders WHERE customer = ?1"
                              " ORDER BY ts, order_key",
    [CS_STMT_ORDER_KEYS_IN] = "SELECT count(*) FROM orders WHERE customer = ?1"
                              " AND order_key >= ?2 AND order_key < ?3",
    [CS_STMT_ORDER_ADD_NEW] = "INSERT INTO orders(customer, order_key, ts, revenue, cost)"
                              " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
};

int cs_prepare(custscore *db, const char *sql, sqlite3_stmt **out)
{
    int rc = sqlite3_prepare_v3(db->sql, sql, -1, 0, out, NULL);
    if (rc != SQLITE_OK)
        return cs_sqlite_error(db, rc, "preparing a statement");
    return CUSTSCORE_OK;
}

int cs_prepare_rows(custscore *db, const char *head, const char *row, size_t rows,
                    sqlite3_stmt **out)
{
    cs_buf sql;
    cs_buf_init(&sql);
    cs_buf_puts(&sql, head);
    for (size_t i = 0; i < rows; i++) {
        if (i)
            cs_buf_puts(&sql, ",");
        cs_buf_puts(&sql, row);
    }
    if (sql.failed) {
        cs_buf_free(&sql);
        return cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
    }
    int rc = cs_prepare(db, sql.data, out);
    cs_buf_free(&sql);
    return rc;
}

int cs_exec(custscore *db, const char *sql)
{
    int rc = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return cs_sqlite_error(db, rc, "executing SQL");
    return CUSTSCORE_OK;
}

sqlite3_stmt *cs_stmt(custscore *db, enum cs_stmt_id id)
{
    sqlite3_stmt *st = db->stmt[id];
    if (!st) {
        if (sqlite3_prepare_v3(db->sql, cs_stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st,
                               NULL) != SQLITE_OK) {
            cs_sqlite_error(db, sqlite3_errcode(db->sql), "preparing a statement");
            return NULL;
        }
        db->stmt[id] = st;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    switch (id) {
    case CS_STMT_CUSTOMER_INSERT:
    case CS_STMT_ORDER_UPDATE:
    case CS_STMT_ORDER_INSERT:
    case CS_STMT_ORDER_ADD_NEW:
        db->data_gen++; /* the customers or orders change: the cached history goes */
        break;
    default:
        break;
    }
    return st;
}

static int cs_user_version(custscore *db, int *version)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->sql, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *version = sqlite3_column_int(st, 0);
            rc = SQLITE_OK;
        }
    }
    if (rc != SQLITE_OK) {
        int code = cs_sqlite_error(db, rc, "reading the store's schema version");
        sqlite3_finalize(st);
        return code;
    }
    sqlite3_finalize(st);
    return CUSTSCORE_OK;
}

/* A file that is an SQLite database but not a custscore store must not be
 * written to: it has another application id, or tables without our version. */
static int cs_check_foreign(custscore *db, const char *path, bool *is_empty)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        db->sql,
        "SELECT (SELECT count(*) FROM sqlite_schema), (SELECT application_id FROM "
        "pragma_application_id)",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return cs_sqlite_error(db, rc, "reading the store's schema");
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        int code = cs_sqlite_error(db, rc, "reading the store's schema");
        sqlite3_finalize(st);
        return code;
    }
    int64_t tables = sqlite3_column_int64(st, 0);
    int64_t app = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    *is_empty = tables == 0;
    if ((app != 0 && app != CS_APPLICATION_ID) || (tables > 0 && app == 0))
        return cs_error(db, CUSTSCORE_ECORRUPT,
                        "%s: is an SQLite database of another application, not a custscore store",
                        path);
    return CUSTSCORE_OK;
}

static int cs_migrate(custscore *db, const char *path)
{
    int version = 0;
    int rc = cs_user_version(db, &version);
    if (rc)
        return rc;
    if (version > CUSTSCORE_SCHEMA_VERSION)
        return cs_error(db, CUSTSCORE_ESCHEMA,
                        "%s: store has schema version %d, this custscore %s reads up to %d; "
                        "upgrade custscore",
                        path, version, CUSTSCORE_VERSION_STRING, CUSTSCORE_SCHEMA_VERSION);
    if (version == CUSTSCORE_SCHEMA_VERSION)
        return CUSTSCORE_OK;
    bool empty = false;
    if (version == 0) {
        rc = cs_check_foreign(db, path, &empty);
        if (rc)
            return rc;
    }
    if (db->flags & CUSTSCORE_OPEN_READONLY)
        return cs_error(db, CUSTSCORE_EREADONLY,
                        "%s: store has schema version %d and needs migrating to %d, "
                        "but it is opened read-only",
                        path, version, CUSTSCORE_SCHEMA_VERSION);
    /* One transaction for all steps; re-read the version inside it, since
     * another process may have migrated the file meanwhile. */
    int src = sqlite3_exec(db->sql, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (src != SQLITE_OK)
        return cs_sqlite_error(db, src, "starting the schema migration");
    rc = cs_user_version(db, &version);
    for (; rc == 0 && version < CUSTSCORE_SCHEMA_VERSION; version++) {
        if ((size_t)version >= CS_N_MIGRATIONS) {
            rc = cs_error(db, CUSTSCORE_EINTERNAL, "no migration from schema version %d", version);
            break;
        }
        src = sqlite3_exec(db->sql, cs_migrations[version], NULL, NULL, NULL);
        if (src != SQLITE_OK)
            rc = cs_sqlite_error(db, src, "migrating the store's schema");
    }
    if (rc == 0) {
        /* PRAGMA takes no bound parameters; both values are compile-time
         * constants, so this is not SQL built from input. */
        char sql[96];
        snprintf(sql, sizeof sql, "PRAGMA application_id = %d; PRAGMA user_version = %d",
                 CS_APPLICATION_ID, CUSTSCORE_SCHEMA_VERSION);
        src = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);
        if (src != SQLITE_OK)
            rc = cs_sqlite_error(db, src, "recording the schema version");
    }
    if (rc == 0) {
        src = sqlite3_exec(db->sql, "COMMIT", NULL, NULL, NULL);
        if (src != SQLITE_OK)
            rc = cs_sqlite_error(db, src, "committing the schema migration");
    }
    if (rc != 0)
        sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int cs_store_open(custscore *db, const char *path, int flags)
{
    db->flags = flags;
    bool memory = path == NULL || strcmp(path, ":memory:") == 0 || path[0] == '\0';
    db->in_memory = memory;
    const char *name = memory ? ":memory:" : path;
    if (!memory && !(flags & CUSTSCORE_OPEN_CREATE) && access(path, F_OK) != 0)
        return cs_error(db, CUSTSCORE_ENOTFOUND,
                        "%s: no such store (open with the create flag, or run `custscore "
                        "init`)",
                        path);
    int oflags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    if (flags & CUSTSCORE_OPEN_READONLY)
        oflags |= SQLITE_OPEN_READONLY;
    else
        oflags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (memory && (flags & CUSTSCORE_OPEN_READONLY))
        return cs_error(db, CUSTSCORE_EINVAL, "an in-memory store cannot be opened read-only");
    int rc = sqlite3_open_v2(name, &db->sql, oflags, NULL);
    if (rc != SQLITE_OK) {
        int code = cs_map_sqlite_code(rc);
        if (code == CUSTSCORE_OK || code == CUSTSCORE_EINTERNAL)
            code = CUSTSCORE_EIO;
        int err = errno;
        cs_error(db, code, "%s: cannot open the store: %s%s%s", name,
                 db->sql ? sqlite3_errmsg(db->sql) : sqlite3_errstr(rc), err ? ": " : "",
                 err ? strerror(err) : "");
        return code;
    }
    sqlite3_busy_timeout(db->sql, 5000);
    int code = CUSTSCORE_OK;
    if (!memory && !(flags & CUSTSCORE_OPEN_READONLY)) {
        rc = sqlite3_exec(db->sql, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            code = cs_sqlite_error(db, rc, name);
            return code;
        }
    }
    /* synchronous=NORMAL is durable in WAL mode except for the last commits
     * before a power loss, never corrupting; a 64 MiB page cache keeps large
     * imports from spilling to the WAL mid-transaction. */
    rc = sqlite3_exec(db->sql,
                      "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"
                      " PRAGMA cache_size = -65536",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return cs_sqlite_error(db, rc, name);
    code = cs_migrate(db, name);
    if (code && code != CUSTSCORE_ESCHEMA && db->errmsg[0] &&
        strncmp(db->errmsg, name, strlen(name)) != 0) {
        /* Put the file name in front of SQLite's message. */
        char tmp[CS_ERRMSG_SIZE];
        snprintf(tmp, sizeof tmp, "%s", db->errmsg);
        cs_error(db, code, "%s: %s", name, tmp);
    }
    return code;
}

void cs_store_close(custscore *db)
{
    cs_history_cache_drop(db);
    sqlite3_finalize(db->snapshot_stmt);
    db->snapshot_stmt = NULL;
    cs_free(db->snapshot_json);
    db->snapshot_json = NULL;
    for (int i = 0; i < CS_STMT__COUNT; i++) {
        sqlite3_finalize(db->stmt[i]);
        db->stmt[i] = NULL;
    }
    if (db->sql) {
        sqlite3_close_v2(db->sql);
        db->sql = NULL;
    }
}

int cs_check_writable(custscore *db)
{
    if (!db->sql)
        return cs_error(db, CUSTSCORE_EINVAL, "store is not open");
    if (db->flags & CUSTSCORE_OPEN_READONLY)
        return cs_error(db, CUSTSCORE_EREADONLY, "store is opened read-only");
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */
/* Transactions */

int cs_tx_begin(custscore *db)
{
    int rc = cs_check_writable(db);
    if (rc)
        return rc;
    /* Outside a batch no transaction is open between calls; one left by a
     * failure (a COMMIT or ROLLBACK that could not run, out of memory) holds
     * nothing that should stay: end it, or BEGIN would fail. */
    if (!db->in_batch && !sqlite3_get_autocommit(db->sql))
        sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
    /* Inside a user batch, a savepoint makes this operation all-or-nothing
     * without ending the caller's transaction. */
    const char *sql = db->in_batch ? "SAVEPOINT cs_op" : "BEGIN IMMEDIATE";
    int src = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);
    if (src != SQLITE_OK)
        return cs_sqlite_error(db, src, "starting a write transaction");
    return CUSTSCORE_OK;
}

int cs_tx_end(custscore *db, int rc)
{
    if (rc == CUSTSCORE_OK) {
        const char *sql = db->in_batch ? "RELEASE cs_op" : "COMMIT";
        int src = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);
        if (src == SQLITE_OK)
            return CUSTSCORE_OK;
        rc = cs_sqlite_error(db, src, "committing");
    }
    /* Keep the first error's message: the rollback's status is secondary.
     * Rolled back writes may have been seen by a history loaded since. */
    db->data_gen++;
    if (db->in_batch && sqlite3_get_autocommit(db->sql)) {
        /* After a full disk, an I/O error or no memory SQLite may have had
         * to roll back the whole transaction, not just this operation: the
         * batch is over, and the caller must know its earlier adds are gone. */
        db->in_batch = false;
        size_t n = strlen(db->errmsg);
        if (n + 1 < sizeof db->errmsg)
            snprintf(db->errmsg + n, sizeof db->errmsg - n,
                     "; the whole batch was rolled back (custscore_begin() to start again)");
    } else if (db->in_batch)
        sqlite3_exec(db->sql, "ROLLBACK TO cs_op; RELEASE cs_op", NULL, NULL, NULL);
    else if (!sqlite3_get_autocommit(db->sql))
        sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int custscore_begin(custscore *db)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    int rc = cs_check_writable(db);
    if (rc)
        return rc;
    if (db->in_batch)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_begin: a batch is already open");
    int src = sqlite3_exec(db->sql, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (src != SQLITE_OK)
        return cs_sqlite_error(db, src, "custscore_begin");
    db->in_batch = true;
    return CUSTSCORE_OK;
}

int custscore_commit(custscore *db)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!db->in_batch)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_commit: no batch is open");
    int src = sqlite3_exec(db->sql, "COMMIT", NULL, NULL, NULL);
    if (src != SQLITE_OK) {
        db->data_gen++; /* the batch may be rolled back */
        int code = cs_sqlite_error(db, src, "custscore_commit");
        /* A busy commit can be retried; anything else ends the batch. */
        if (code != CUSTSCORE_EBUSY) {
            if (!sqlite3_get_autocommit(db->sql))
                sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
            db->in_batch = false;
        }
        return code;
    }
    db->in_batch = false;
    return CUSTSCORE_OK;
}

int custscore_rollback(custscore *db)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!db->in_batch)
        return CUSTSCORE_OK;
    db->in_batch = false;
    db->data_gen++; /* writes of the batch may have been seen by a cached history */
    if (sqlite3_get_autocommit(db->sql))
        return CUSTSCORE_OK;
    int src = sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
    if (src != SQLITE_OK)
        return cs_sqlite_error(db, src, "custscore_rollback");
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */
/* Row writers. The caller holds a write transaction. */

static int cs_step_done(custscore *db, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return cs_sqlite_error(db, rc, what);
    return CUSTSCORE_OK;
}

int cs_customer_id(custscore *db, const char *key, size_t key_len, bool create, int64_t *id)
{
    const char *why = cs_check_key(key, key_len);
    if (why)
        return cs_error(db, CUSTSCORE_EINVAL, "customer key: %s", why);
    sqlite3_stmt *st = cs_stmt(db, CS_STMT_CUSTOMER_FIND);
    if (!st)
        return db->errcode;
    sqlite3_bind_text(st, 1, key, (int)key_len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        return CUSTSCORE_OK;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return cs_sqlite_error(db, rc, "looking up a customer");
    if (!create)
        return cs_error(db, CUSTSCORE_ENOTFOUND, "customer '%.*s' not found", (int)key_len, key);
    st = cs_stmt(db, CS_STMT_CUSTOMER_INSERT);
    if (!st)
        return db->errcode;
    sqlite3_bind_text(st, 1, key, (int)key_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, 0);
    rc = cs_step_done(db, st, "adding a customer");
    if (rc)
        return rc;
    *id = sqlite3_last_insert_rowid(db->sql);
    return CUSTSCORE_OK;
}

int cs_customer_set_created(custscore *db, int64_t customer_id, int64_t created)
{
    sqlite3_stmt *st = cs_stmt(db, CS_STMT_CUSTOMER_CREATED);
    if (!st)
        return db->errcode;
    sqlite3_bind_int64(st, 1, customer_id);
    sqlite3_bind_int64(st, 2, created);
    return cs_step_done(db, st, "setting the customer's creation time");
}

void cs_bind_order_row(sqlite3_stmt *st, int base, int64_t customer_id, const char *key, size_t len,
                       int64_t ts, double revenue, double cost, bool has_cost)
{
    sqlite3_bind_int64(st, base + 1, customer_id);
    sqlite3_bind_text(st, base + 2, key, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, base + 3, ts);
    sqlite3_bind_double(st, base + 4, revenue);
    if (has_cost)
        sqlite3_bind_double(st, base + 5, cost);
    else
        sqlite3_bind_null(st, base + 5);
}

/* An order without an ERP key gets '@<ts>#<n>' (what an import gives a line
 * without an order column), n the first rank after the customer's keys of
 * that time, so it never replaces an order. */
static int cs_order_add_unkeyed(custscore *db, int64_t customer_id, int64_t ts, double revenue,
                                double cost, bool has_cost)
{
    char lo[48], hi[48], key[48];
    int lo_len = snprintf(lo, sizeof lo, "@%lld#", (long long)ts);
    int hi_len = snprintf(hi, sizeof hi, "@%lld$", (long long)ts); /* '$' follows '#' */
    sqlite3_stmt *st = cs_stmt(db, CS_STMT_ORDER_KEYS_IN);
    if (!st)
        return db->errcode;
    sqlite3_bind_int64(st, 1, customer_id);
    sqlite3_bind_text(st, 2, lo, lo_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, hi, hi_len, SQLITE_STATIC);
    int src = sqlite3_step(st);
    int64_t n = src == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (src != SQLITE_ROW)
        return cs_sqlite_error(db, src, "adding an order");
    /* At most n keys of the range exist: one of ranks n+1 .. 2n+1 is free. */
    for (int64_t rank = n + 1;; rank++) {
        int len = snprintf(key, sizeof key, "@%lld#%lld", (long long)ts, (long long)rank);
        st = cs_stmt(db, CS_STMT_ORDER_ADD_NEW);
        if (!st)
            return db->errcode;
        cs_bind_order_row(st, 0, customer_id, key, (size_t)len, ts, revenue, cost, has_cost);
        int rc = cs_step_done(db, st, "adding an order");
        if (rc)
            return rc;
        if (sqlite3_changes(db->sql) > 0)
            return CUSTSCORE_OK;
    }
}

int cs_order_put(custscore *db, int64_t customer_id, const char *order_key, size_t order_key_len,
                 int64_t ts, double revenue, double cost, bool has_cost, bool *replaced)
{
    *replaced = false;
    if (!order_key)
        return cs_order_add_unkeyed(db, customer_id, ts, revenue, cost, has_cost);
    sqlite3_stmt *st = cs_stmt(db, CS_STMT_ORDER_UPDATE);
    if (!st)
        return db->errcode;
    cs_bind_order_row(st, 0, customer_id, order_key, order_key_len, ts, revenue, cost, has_cost);
    int rc = cs_step_done(db, st, "replacing an order");
    if (rc)
        return rc;
    if (sqlite3_changes(db->sql) > 0) {
        *replaced = true;
        return CUSTSCORE_OK;
    }
    st = cs_stmt(db, CS_STMT_ORDER_INSERT);
    if (!st)
        return db->errcode;
    cs_bind_order_row(st, 0, customer_id, order_key, order_key_len, ts, revenue, cost, has_cost);
    return cs_step_done(db, st, "adding an order");
}

int cs_response_put(custscore *db, int64_t customer_id, int64_t ts, const char *item,
                    size_t item_len, double value, bool *replaced)
{
    *replaced = false;
    sqlite3_stmt *st = cs_stmt(db, CS_STMT_RESPONSE_UPDATE);
    if (!st)
        return db->errcode;
    sqlite3_bind_int64(st, 1, customer_id);
    sqlite3_bind_int64(st, 2, ts);
    sqlite3_bind_text(st, 3, item, (int)item_len, SQLITE_STATIC);
    sqlite3_bind_double(st, 4, value);
    int rc = cs_step_done(db, st, "replacing a survey answer");
    if (rc)
        return rc;
    if (sqlite3_changes(db->sql) > 0) {
        *replaced = true;
        return CUSTSCORE_OK;
    }
    st = cs_stmt(db, CS_STMT_RESPONSE_INSERT);
    if (!st)
        return db->errcode;
    sqlite3_bind_int64(st, 1, customer_id);
    sqlite3_bind_int64(st, 2, ts);
    sqlite3_bind_text(st, 3, item, (int)item_len, SQLITE_STATIC);
    sqlite3_bind_double(st, 4, value);
    return cs_step_done(db, st, "adding a survey answer");
}

int cs_complaint_put(custscore *db, int64_t customer_id, int64_t ts, double severity,
                     int64_t resolved_ts, bool *replaced)
{
    *replaced = false;
    sqlite3_stmt *st = cs_stmt(db, CS_STMT_COMPLAINT_UPDATE);
    if (!st)
        return db->errcode;
    sqlite3_bind_int64(st, 1, customer_id);
    sqlite3_bind_int64(st, 2, ts);
    sqlite3_bind_double(st, 3, severity);
    if (resolved_ts != 0)
        sqlite3_bind_int64(st, 4, resolved_ts);
    int rc = cs_step_done(db, st, "replacing a complaint");
    if (rc)
        return rc;
    if (sqlite3_changes(db->sql) > 0) {
        *replaced = true;
        return CUSTSCORE_OK;
    }
    st = cs_stmt(db, CS_STMT_COMPLAINT_INSERT);
    if (!st)
        return db->errcode;
    sqlite3_bind_int64(st, 1, customer_id);
    sqlite3_bind_int64(st, 2, ts);
    sqlite3_bind_double(st, 3, severity);
    if (resolved_ts != 0)
        sqlite3_bind_int64(st, 4, resolved_ts);
    return cs_step_done(db, st, "adding a complaint");
}

int cs_attribute_put(custscore *db, int64_t customer_id, const char *name, size_t name_len,
                     const char *text, size_t text_len, double number, bool is_text)
{
    sqlite3_stmt *st = cs_stmt(db, CS_STMT_ATTRIBUTE_UPSERT);
    if (!st)
        return db->errcode;
    sqlite3_bind_int64(st, 1, customer_id);
    sqlite3_bind_text(st, 2, name, (int)name_len, SQLITE_STATIC);
    if (is_text)
        sqlite3_bind_text(st, 3, text, (int)text_len, SQLITE_STATIC);
    else
        sqlite3_bind_double(st, 3, number);
    return cs_step_done(db, st, "setting an attribute");
}

int custscore_customer_count(custscore *db, int64_t *count)
{
    if (!db || !count)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    sqlite3_stmt *st = cs_stmt(db, CS_STMT_COUNT_CUSTOMERS);
    if (!st)
        return db->errcode;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        int code = cs_sqlite_error(db, rc, "counting customers");
        sqlite3_reset(st);
        return code;
    }
    *count = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return CUSTSCORE_OK;
}
