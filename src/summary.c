/*
 * summary.c: per-customer statistics from the order history as of a date.
 *
 * The history of all customers is loaded in one pass (two sequential table
 * scans, no per-customer query) and grouped in memory by a counting sort on
 * the customer id; the models read it as plain arrays.
 *
 * Definitions (docs/guide.md, "Summary"): a purchase occasion is a UTC day
 * with at least one order of positive revenue; x = occasions - 1 (repeat
 * purchases, same-day orders merged, as in Fader, Hardie & Lee 2005);
 * t_x = time from the first to the last occasion; T = time from the first
 * occasion to the as-of day; mean repeat spend = mean revenue of the positive
 * orders of occasions 2..x+1.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Last second of the as-of day: orders up to it count. */
static int64_t cs_as_of_limit(int64_t as_of)
{
    /* Past the last storable time everything counts (and the day's end
     * would overflow near INT64_MAX). */
    if (as_of > CUSTSCORE_TIME_MAX)
        return INT64_MAX;
    return (cs_day_of(as_of) + 1) * CS_SECONDS_PER_DAY - 1;
}

/* Stored times were checked on the way in (CUSTSCORE_TIME_MIN..MAX); one
 * outside means a file this library did not write, and day arithmetic on
 * it would overflow. */
static bool cs_ts_valid(int64_t ts)
{
    return ts >= CUSTSCORE_TIME_MIN && ts <= CUSTSCORE_TIME_MAX;
}

/* Amounts likewise (CUSTSCORE_MAX_AMOUNT): sums of them stay finite. */
static bool cs_amount_valid(double v)
{
    return fabs(v) <= CUSTSCORE_MAX_AMOUNT;
}

/* The handle's cached history: the last one loaded, shared with the calls
 * that use it (refs: one for the handle while it keeps it, one per
 * borrower). Loading 10M orders takes seconds; a nightly job loads the
 * same history for each model fit and for scoring. */
struct cs_history_cache {
    cs_history h;          /* owns every array */
    int64_t limit;         /* cs_as_of_limit() of the load */
    int64_t first_cost_ts; /* earliest order with a known cost (INT64_MAX: none) */
    unsigned refs;
    uint64_t data_gen;    /* the handle's data_gen at the load */
    int64_t data_version; /* PRAGMA data_version before the load */
};

static void cs_history_free_arrays(cs_history *h, bool customers, bool orders)
{
    if (customers) {
        cs_free(h->customer_id);
        cs_free(h->key);
        cs_free(h->key_pool);
    }
    if (orders) {
        cs_free(h->offset);
        cs_free(h->ts);
        cs_free(h->revenue);
        cs_free(h->cost);
    }
}

static void cs_history_cache_release(struct cs_history_cache *c)
{
    if (c && --c->refs == 0) {
        cs_history_free_arrays(&c->h, true, true);
        cs_free(c);
    }
}

void cs_history_cache_drop(custscore *db)
{
    cs_history_cache_release(db->history);
    db->history = NULL;
}

void cs_history_free(cs_history *h)
{
    if (!h)
        return;
    if (h->cache) {
        cs_history_free_arrays(h, false, h->own_orders);
        cs_history_cache_release(h->cache);
    } else {
        cs_history_free_arrays(h, true, true);
    }
    memset(h, 0, sizeof *h);
}

typedef struct cs_raw_order {
    int64_t ts;
    double revenue, cost;
    int64_t row; /* insertion order: stable ties */
} cs_raw_order;

static int cs_raw_order_cmp(const void *a, const void *b)
{
    const cs_raw_order *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

static int cs_history_customers(custscore *db, cs_history *h)
{
    sqlite3_stmt *st = NULL;
    int64_t n = 0;
    int rc = custscore_customer_count(db, &n);
    if (rc)
        return rc;
    /* In-memory indexes of a pass are 32-bit (cs_id_index, cust_of). */
    if (n < 0 || (uint64_t)n >= UINT32_MAX)
        return cs_error(db, CUSTSCORE_ERANGE,
                        "%lld customers: more than one pass over the store handles (2^32 - 2)",
                        (long long)n);
    size_t cap = (size_t)n;
    size_t pool_cap = cap * 16 + 64, pool_len = 0;
    h->customer_id = cs_mallocarray(cap ? cap : 1, sizeof *h->customer_id);
    h->key = cs_mallocarray(cap ? cap : 1, sizeof *h->key);
    h->key_pool = cs_malloc(pool_cap);
    size_t *key_off = cs_mallocarray(cap ? cap : 1, sizeof *key_off);
    if (!h->customer_id || !h->key || !h->key_pool || !key_off) {
        cs_free(key_off);
        return cs_error(db, CUSTSCORE_ENOMEM, "out of memory loading customers");
    }
    /* Byte order of keys: the UNIQUE index on key uses BINARY collation. */
    rc = cs_prepare(db, "SELECT id, key FROM customer ORDER BY key", &st);
    if (rc) {
        cs_free(key_off);
        return rc;
    }
    size_t i = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW && i < cap) {
        const char *key = (const char *)sqlite3_column_text(st, 1);
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        if (pool_len + len + 1 > pool_cap) {
            size_t ncap = pool_cap * 2 + len + 1;
            char *p = cs_reallocarray(h->key_pool, ncap, 1);
            if (!p) {
                sqlite3_finalize(st);
                cs_free(key_off);
                return cs_error(db, CUSTSCORE_ENOMEM, "out of memory loading customers");
            }
            h->key_pool = p;
            pool_cap = ncap;
        }
        memcpy(h->key_pool + pool_len, key ? key : "", len);
        h->key_pool[pool_len + len] = '\0';
        key_off[i] = pool_len;
        pool_len += len + 1;
        h->customer_id[i] = sqlite3_column_int64(st, 0);
        i++;
    }
    if (src != SQLITE_DONE && src != SQLITE_ROW) {
        rc = cs_sqlite_error(db, src, "loading customers");
        sqlite3_finalize(st);
        cs_free(key_off);
        return rc;
    }
    sqlite3_finalize(st);
    h->n_customers = i;
    for (size_t k = 0; k < i; k++)
        h->key[k] = h->key_pool + key_off[k];
    cs_free(key_off);
    return CUSTSCORE_OK;
}

/* Map a store id to its index in h (ids may have gaps). */
typedef struct cs_id_index {
    int64_t min_id, max_id;
    uint32_t *dense; /* [max_id - min_id + 1] index + 1, or NULL when sparse */
    int64_t *sorted_ids;
    uint32_t *sorted_index;
    size_t n;
} cs_id_index;

static int cs_id_pair_cmp(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    return (*x > *y) - (*x < *y);
}

static bool cs_id_index_build(cs_id_index *ix, const cs_history *h)
{
    memset(ix, 0, sizeof *ix);
    ix->n = h->n_customers;
    if (ix->n == 0)
        return true;
    ix->min_id = ix->max_id = h->customer_id[0];
    for (size_t i = 1; i < ix->n; i++) {
        if (h->customer_id[i] < ix->min_id)
            ix->min_id = h->customer_id[i];
        if (h->customer_id[i] > ix->max_id)
            ix->max_id = h->customer_id[i];
    }
    /* Unsigned: ids are any int64 (a store may hold negative or huge ones),
     * and max - min overflows int64 across the whole range. */
    uint64_t span = (uint64_t)ix->max_id - (uint64_t)ix->min_id + 1;
    if (span != 0 && span <= 4 * (uint64_t)ix->n + 1024) {
        ix->dense = cs_calloc((size_t)span, sizeof *ix->dense);
        if (!ix->dense)
            return false;
        for (size_t i = 0; i < ix->n; i++)
            ix->dense[h->customer_id[i] - ix->min_id] = (uint32_t)(i + 1);
        return true;
    }
    /* Sparse ids: sorted (id, index) pairs and binary search. */
    int64_t *pairs = cs_mallocarray(ix->n, 2 * sizeof *pairs);
    if (!pairs)
        return false;
    for (size_t i = 0; i < ix->n; i++) {
        pairs[2 * i] = h->customer_id[i];
        pairs[2 * i + 1] = (int64_t)i;
    }
    qsort(pairs, ix->n, 2 * sizeof *pairs, cs_id_pair_cmp);
    ix->sorted_ids = pairs;
    return true;
}

static ptrdiff_t cs_id_index_find(const cs_id_index *ix, int64_t id)
{
    if (ix->n == 0 || id < ix->min_id || id > ix->max_id)
        return -1;
    if (ix->dense)
        return (ptrdiff_t)ix->dense[id - ix->min_id] - 1;
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t v = ix->sorted_ids[2 * mid];
        if (v == id)
            return (ptrdiff_t)ix->sorted_ids[2 * mid + 1];
        if (v < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static void cs_id_index_free(cs_id_index *ix)
{
    cs_free(ix->dense);
    cs_free(ix->sorted_ids);
}

/* Orders as read from the table (key order), one column per array. The
 * scan fills fixed blocks (growing one array by doubling copied it many
 * times over and faulted its pages twice: seconds for 10M orders), then
 * moves them into arrays of the exact size. */
#define CS_SCAN_BLOCK ((size_t)1 << 20)

typedef struct cs_scan_block {
    int64_t ts[CS_SCAN_BLOCK];
    double revenue[CS_SCAN_BLOCK], cost[CS_SCAN_BLOCK];
    uint32_t cust[CS_SCAN_BLOCK];
} cs_scan_block;

typedef struct cs_scan {
    size_t n;
    cs_scan_block **block;
    size_t n_blocks, block_cap;
    int64_t *ts; /* the consolidated arrays (cs_scan_finish) */
    double *revenue, *cost;
    uint32_t *cust; /* index of the customer in the history */
    bool grouped;   /* cust[] never decreases: already in history order */
} cs_scan;

static void cs_scan_free(cs_scan *sc)
{
    for (size_t b = 0; b < sc->n_blocks; b++)
        cs_free(sc->block[b]);
    cs_free(sc->block);
    cs_free(sc->ts);
    cs_free(sc->revenue);
    cs_free(sc->cost);
    cs_free(sc->cust);
}

/* The block for order sc->n, NULL when out of memory. */
static cs_scan_block *cs_scan_block_for_next(cs_scan *sc)
{
    size_t b = sc->n / CS_SCAN_BLOCK;
    if (b < sc->n_blocks)
        return sc->block[b];
    if (sc->n_blocks == sc->block_cap) {
        size_t cap = sc->block_cap ? sc->block_cap * 2 : 16;
        cs_scan_block **p = cs_reallocarray(sc->block, cap, sizeof(cs_scan_block *));
        if (!p)
            return NULL;
        sc->block = p;
        sc->block_cap = cap;
    }
    cs_scan_block *blk = cs_malloc(sizeof *blk);
    if (blk)
        sc->block[sc->n_blocks++] = blk;
    return blk;
}

/* Move the blocks into arrays of sc->n entries, freeing each when copied
 * (so the peak is one block over the orders). */
static bool cs_scan_finish(cs_scan *sc)
{
    size_t n = sc->n ? sc->n : 1;
    sc->ts = cs_mallocarray(n, sizeof *sc->ts);
    sc->revenue = cs_mallocarray(n, sizeof *sc->revenue);
    sc->cost = cs_mallocarray(n, sizeof *sc->cost);
    sc->cust = cs_mallocarray(n, sizeof *sc->cust);
    if (!sc->ts || !sc->revenue || !sc->cost || !sc->cust)
        return false;
    for (size_t b = 0; b < sc->n_blocks; b++) {
        size_t at = b * CS_SCAN_BLOCK;
        size_t m = sc->n - at < CS_SCAN_BLOCK ? sc->n - at : CS_SCAN_BLOCK;
        cs_scan_block *blk = sc->block[b];
        memcpy(sc->ts + at, blk->ts, m * sizeof *sc->ts);
        memcpy(sc->revenue + at, blk->revenue, m * sizeof *sc->revenue);
        memcpy(sc->cost + at, blk->cost, m * sizeof *sc->cost);
        memcpy(sc->cust + at, blk->cust, m * sizeof *sc->cust);
        cs_free(blk);
        sc->block[b] = NULL;
    }
    sc->n_blocks = 0;
    return true;
}

static int cs_history_scan(custscore *db, int64_t as_of, const cs_id_index *ix, cs_scan *sc,
                           int64_t *first_cost_ts)
{
    sc->grouped = true;
    sqlite3_stmt *st = NULL;
    int rc = cs_prepare(db, "SELECT customer, ts, revenue, cost FROM orders WHERE ts <= ?1", &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, cs_as_of_limit(as_of));
    int src;
    cs_scan_block *blk = NULL;
    uint32_t last_cust = 0;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (sc->n % CS_SCAN_BLOCK == 0) {
            if (sc->n >= UINT32_MAX - 1) {
                rc = cs_error(db, CUSTSCORE_ERANGE,
                              "loading orders: more than 2^32 - 2 orders in one pass");
                break;
            }
            blk = cs_scan_block_for_next(sc);
            if (!blk) {
                rc = cs_error(db, CUSTSCORE_ENOMEM, "out of memory loading orders");
                break;
            }
        }
        ptrdiff_t ci = cs_id_index_find(ix, sqlite3_column_int64(st, 0));
        if (ci < 0)
            continue; /* cannot happen with foreign keys on */
        size_t k = sc->n;
        int64_t ts = sqlite3_column_int64(st, 1);
        if (!cs_ts_valid(ts)) {
            rc = cs_error(db, CUSTSCORE_ECORRUPT,
                          "loading orders: an order has time %lld, outside "
                          "0001-01-01..9999-12-31 (damaged store?)",
                          (long long)ts);
            break;
        }
        double revenue = sqlite3_column_double(st, 2);
        bool has_cost = sqlite3_column_type(st, 3) != SQLITE_NULL;
        double cost = has_cost ? sqlite3_column_double(st, 3) : 0.0;
        if (!cs_amount_valid(revenue) || !cs_amount_valid(cost)) {
            rc = cs_error(db, CUSTSCORE_ECORRUPT,
                          "loading orders: an order has revenue %g and cost %g, beyond "
                          "+-1e15 (damaged store?)",
                          revenue, cost);
            break;
        }
        if (has_cost && ts < *first_cost_ts)
            *first_cost_ts = ts;
        size_t j = k % CS_SCAN_BLOCK;
        blk->ts[j] = ts;
        blk->revenue[j] = revenue;
        blk->cost[j] = cost;
        blk->cust[j] = (uint32_t)ci;
        if (k > 0 && (uint32_t)ci < last_cust)
            sc->grouped = false;
        last_cust = (uint32_t)ci;
        sc->n++;
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = cs_sqlite_error(db, src, "loading orders");
    sqlite3_finalize(st);
    if (rc == 0 && !cs_scan_finish(sc))
        rc = cs_error(db, CUSTSCORE_ENOMEM, "out of memory loading orders");
    return rc;
}

/* Sort the orders of one customer by time, ties in the order they were
 * read (row order). Called only for the rare customer whose orders are not
 * in time order already. */
static bool cs_history_sort_segment(cs_history *h, size_t a, size_t b, const uint32_t *row)
{
    cs_raw_order *tmp = cs_mallocarray(b - a, sizeof *tmp);
    if (!tmp)
        return false;
    for (size_t k = a; k < b; k++)
        tmp[k - a] =
            (cs_raw_order){h->ts[k], h->revenue[k], h->cost[k], row ? (int64_t)row[k] : (int64_t)k};
    qsort(tmp, b - a, sizeof *tmp, cs_raw_order_cmp);
    for (size_t k = a; k < b; k++) {
        h->ts[k] = tmp[k - a].ts;
        h->revenue[k] = tmp[k - a].revenue;
        h->cost[k] = tmp[k - a].cost;
    }
    cs_free(tmp);
    return true;
}

/* Group the scanned orders by customer (a stable counting sort; nothing
 * to move when the table already holds them grouped, as after one import),
 * then order each customer's orders by time. */
static int cs_history_group(custscore *db, cs_scan *sc, cs_history *out)
{
    size_t n = out->n_customers, n_raw = sc->n;
    out->offset = cs_calloc(n + 1, sizeof *out->offset);
    if (!out->offset)
        return cs_error(db, CUSTSCORE_ENOMEM, "out of memory grouping orders");
    for (size_t k = 0; k < n_raw; k++)
        out->offset[sc->cust[k] + 1]++;
    for (size_t i = 0; i < n; i++)
        out->offset[i + 1] += out->offset[i];
    uint32_t *perm = NULL;
    if (sc->grouped) {
        out->ts = sc->ts;
        out->revenue = sc->revenue;
        out->cost = sc->cost;
        sc->ts = NULL;
        sc->revenue = sc->cost = NULL;
    } else {
        size_t *next = cs_mallocarray(n + 1, sizeof *next);
        perm = cs_mallocarray(n_raw ? n_raw : 1, sizeof *perm);
        out->ts = cs_mallocarray(n_raw ? n_raw : 1, sizeof *out->ts);
        out->revenue = cs_mallocarray(n_raw ? n_raw : 1, sizeof *out->revenue);
        out->cost = cs_mallocarray(n_raw ? n_raw : 1, sizeof *out->cost);
        if (!next || !perm || !out->ts || !out->revenue || !out->cost) {
            cs_free(next);
            cs_free(perm);
            return cs_error(db, CUSTSCORE_ENOMEM, "out of memory grouping orders");
        }
        memcpy(next, out->offset, (n + 1) * sizeof *next);
        for (size_t k = 0; k < n_raw; k++)
            perm[next[sc->cust[k]]++] = (uint32_t)k;
        cs_free(next);
        for (size_t j = 0; j < n_raw; j++) {
            uint32_t k = perm[j];
            out->ts[j] = sc->ts[k];
            out->revenue[j] = sc->revenue[k];
            out->cost[j] = sc->cost[k];
        }
    }
    int rc = CUSTSCORE_OK;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t a = out->offset[i], b = out->offset[i + 1];
        for (size_t k = a + 1; k < b; k++) {
            if (out->ts[k] < out->ts[k - 1]) {
                if (!cs_history_sort_segment(out, a, b, perm))
                    rc = cs_error(db, CUSTSCORE_ENOMEM, "out of memory sorting orders");
                break;
            }
        }
    }
    cs_free(perm);
    out->n_orders = n_raw;
    return rc;
}

int64_t cs_data_version(custscore *db)
{
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db->sql, "PRAGMA data_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int cs_history_read(custscore *db, int64_t as_of, cs_history *out, int64_t *first_cost_ts)
{
    memset(out, 0, sizeof *out);
    *first_cost_ts = INT64_MAX;
    /* One read transaction so customers and orders are a consistent snapshot.
     * Outside a batch none is open between calls; one left by a failure (a
     * COMMIT that could not run, out of memory) would pin an old snapshot. */
    if (!db->in_batch && !sqlite3_get_autocommit(db->sql))
        sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
    bool own_tx = sqlite3_get_autocommit(db->sql) != 0;
    if (own_tx) {
        int src = sqlite3_exec(db->sql, "BEGIN", NULL, NULL, NULL);
        if (src != SQLITE_OK)
            return cs_sqlite_error(db, src, "starting a read transaction");
    }
    int rc = cs_history_customers(db, out);
    cs_id_index ix = {0};
    cs_scan sc = {0};
    if (rc == 0 && !cs_id_index_build(&ix, out))
        rc = cs_error(db, CUSTSCORE_ENOMEM, "out of memory indexing customers");
    if (rc == 0)
        rc = cs_history_scan(db, as_of, &ix, &sc, first_cost_ts);
    /* End the read transaction whatever happened: a COMMIT that fails (no
     * memory to run it) must not leave it open. */
    if (own_tx && sqlite3_exec(db->sql, "COMMIT", NULL, NULL, NULL) != SQLITE_OK &&
        !sqlite3_get_autocommit(db->sql))
        sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
    cs_id_index_free(&ix);
    if (rc == 0)
        rc = cs_history_group(db, &sc, out);
    cs_scan_free(&sc);
    out->any_cost = *first_cost_ts != INT64_MAX;
    if (rc)
        cs_history_free(out);
    return rc;
}

/* The cached history's orders up to @limit (earlier than the cache's):
 * each customer's orders are sorted by time, so a prefix of each. */
static int cs_history_filter(custscore *db, struct cs_history_cache *c, int64_t limit,
                             cs_history *out)
{
    const cs_history *src = &c->h;
    size_t n = src->n_customers;
    *out = *src;
    out->offset = cs_calloc(n + 1, sizeof *out->offset);
    size_t kept = 0;
    if (out->offset) {
        for (size_t i = 0; i < n; i++) {
            size_t a = src->offset[i], b = src->offset[i + 1], k = a;
            while (k < b && src->ts[k] <= limit)
                k++;
            kept += k - a;
            out->offset[i + 1] = kept;
        }
    }
    size_t m = kept ? kept : 1;
    out->ts = out->offset ? cs_mallocarray(m, sizeof *out->ts) : NULL;
    out->revenue = out->ts ? cs_mallocarray(m, sizeof *out->revenue) : NULL;
    out->cost = out->revenue ? cs_mallocarray(m, sizeof *out->cost) : NULL;
    if (!out->cost) {
        cs_free(out->offset);
        cs_free(out->ts);
        cs_free(out->revenue);
        memset(out, 0, sizeof *out);
        return cs_error(db, CUSTSCORE_ENOMEM, "out of memory filtering orders");
    }
    for (size_t i = 0; i < n; i++) {
        size_t from = src->offset[i], len = out->offset[i + 1] - out->offset[i];
        memcpy(out->ts + out->offset[i], src->ts + from, len * sizeof *out->ts);
        memcpy(out->revenue + out->offset[i], src->revenue + from, len * sizeof *out->revenue);
        memcpy(out->cost + out->offset[i], src->cost + from, len * sizeof *out->cost);
    }
    out->n_orders = kept;
    out->any_cost = c->first_cost_ts <= limit;
    out->cache = c;
    out->own_orders = true;
    c->refs++;
    return CUSTSCORE_OK;
}

void cs_history_cache_install(custscore *db, cs_history *h, int64_t first_cost_ts,
                              int64_t data_version)
{
    struct cs_history_cache *c = cs_calloc(1, sizeof *c);
    if (!c) {
        cs_history_free(h); /* no cache: the next call loads */
        cs_free(h);
        return;
    }
    c->h = *h;
    c->h.any_cost = first_cost_ts != INT64_MAX;
    c->h.cache = NULL;
    c->h.own_orders = false;
    cs_free(h);
    c->limit = INT64_MAX;
    c->first_cost_ts = first_cost_ts;
    c->refs = 1;
    c->data_gen = db->data_gen;
    c->data_version = data_version;
    cs_history_cache_drop(db);
    db->history = c;
}

bool cs_history_cached(custscore *db, int64_t as_of)
{
    const struct cs_history_cache *c = db->history;
    return c && c->data_gen == db->data_gen && cs_as_of_limit(as_of) <= c->limit &&
           c->data_version == cs_data_version(db) && c->data_version >= 0;
}

int cs_history_load(custscore *db, int64_t as_of, cs_history *out)
{
    memset(out, 0, sizeof *out);
    int64_t limit = cs_as_of_limit(as_of);
    int64_t version = cs_data_version(db);
    struct cs_history_cache *c = db->history;
    if (c && (c->data_gen != db->data_gen || version < 0 || c->data_version != version)) {
        cs_history_cache_drop(db); /* the customers or orders changed */
        c = NULL;
    }
    if (c && c->limit == limit) {
        *out = c->h;
        out->cache = c;
        out->own_orders = false;
        c->refs++;
        return CUSTSCORE_OK;
    }
    if (c && limit < c->limit)
        return cs_history_filter(db, c, limit, out);
    /* Load, and keep it (the arrays are the cache's; out borrows them). */
    c = cs_calloc(1, sizeof *c);
    if (!c)
        return cs_error(db, CUSTSCORE_ENOMEM, "out of memory loading orders");
    uint64_t gen = db->data_gen;
    int rc = cs_history_read(db, as_of, &c->h, &c->first_cost_ts);
    if (rc) {
        cs_free(c);
        return rc;
    }
    c->limit = limit;
    c->data_gen = gen;
    c->data_version = version;
    c->refs = 1;
    cs_history_cache_drop(db);
    db->history = c;
    *out = c->h;
    out->cache = c;
    out->own_orders = false;
    c->refs++;
    return CUSTSCORE_OK;
}

ptrdiff_t cs_history_find(const cs_history *h, const char *key)
{
    size_t lo = 0, hi = h->n_customers;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(h->key[mid], key);
        if (c == 0)
            return (ptrdiff_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

void cs_summary_of(const cs_history *h, size_t i, int64_t as_of, double unit_days,
                   custscore_summary *out)
{
    cs_summary_of_ex(h, i, as_of, unit_days, false, out);
}

void cs_summary_of_ex(const cs_history *h, size_t i, int64_t as_of, double unit_days,
                      bool zero_is_purchase, custscore_summary *out)
{
    memset(out, 0, sizeof *out);
    out->customer = h->key[i];
    int64_t limit = cs_as_of_limit(as_of);
    int64_t as_of_day = cs_day_of(as_of);
    int64_t first_day = 0, last_day = 0, occasions = 0, current_day = 0;
    double repeat_spend = 0;
    bool any = false;
    for (size_t k = h->offset[i]; k < h->offset[i + 1]; k++) {
        if (h->ts[k] > limit)
            break; /* sorted by time */
        double revenue = h->revenue[k];
        out->orders++;
        out->revenue += revenue;
        out->cost += h->cost[k];
        if (!cs_is_purchase(revenue, zero_is_purchase))
            continue; /* return or adjustment: not a purchase occasion */
        int64_t day = cs_day_of(h->ts[k]);
        if (!any) {
            any = true;
            first_day = current_day = last_day = day;
            occasions = 1;
        } else if (day != current_day) {
            current_day = last_day = day;
            occasions++;
        }
        if (occasions > 1)
            repeat_spend += revenue;
    }
    out->profit = out->revenue - out->cost;
    if (any) {
        out->first = first_day * CS_SECONDS_PER_DAY;
        out->last = last_day * CS_SECONDS_PER_DAY;
        out->x = occasions - 1;
        out->t_x = (double)(last_day - first_day) / unit_days;
        out->T = (double)(as_of_day - first_day) / unit_days;
        out->mean_repeat_spend = out->x > 0 ? repeat_spend / (double)out->x : 0.0;
    }
}

int cs_summary_compute(const cs_history *h, int64_t as_of, custscore_unit unit,
                       custscore_summary *out)
{
    double unit_days = custscore_unit_days(unit);
    if (unit_days <= 0)
        return CUSTSCORE_EINVAL;
    for (size_t i = 0; i < h->n_customers; i++)
        cs_summary_of(h, i, as_of, unit_days, &out[i]);
    return CUSTSCORE_OK;
}

static int cs_summary_options_check(custscore *db, const custscore_summary_options *options,
                                    custscore_summary_options *out)
{
    custscore_summary_options defaults = CUSTSCORE_SUMMARY_OPTIONS_INIT;
    if (!options)
        options = &defaults;
    if (options->version != CUSTSCORE_SUMMARY_OPTIONS_VERSION)
        return cs_error(db, CUSTSCORE_EINVAL,
                        "summary options: version %u, this library knows version %u (initialise "
                        "with CUSTSCORE_SUMMARY_OPTIONS_INIT)",
                        options->version, CUSTSCORE_SUMMARY_OPTIONS_VERSION);
    if (custscore_unit_days(options->unit) <= 0)
        return cs_error(db, CUSTSCORE_EINVAL, "unknown time unit %d (day, week, month, year)",
                        (int)options->unit);
    if (options->zero != CUSTSCORE_ZERO_REVENUE_ADJUSTMENT &&
        options->zero != CUSTSCORE_ZERO_REVENUE_PURCHASE)
        return cs_error(db, CUSTSCORE_EINVAL, "summary options: unknown zero-revenue rule %d",
                        (int)options->zero);
    *out = *options;
    return CUSTSCORE_OK;
}

int custscore_summary_each(custscore *db, int64_t as_of, const custscore_summary_options *options,
                           custscore_summary_fn fn, void *payload)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!fn)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_summary_each: NULL callback");
    custscore_summary_options opt;
    int rc = cs_summary_options_check(db, options, &opt);
    if (rc)
        return rc;
    cs_history h;
    rc = cs_history_load(db, as_of, &h);
    if (rc)
        return rc;
    double unit_days = custscore_unit_days(opt.unit);
    bool zero = opt.zero == CUSTSCORE_ZERO_REVENUE_PURCHASE;
    for (size_t i = 0; i < h.n_customers; i++) {
        custscore_summary s;
        cs_summary_of_ex(&h, i, as_of, unit_days, zero, &s);
        int stop = fn(&s, payload);
        if (stop) {
            rc = stop;
            break;
        }
    }
    cs_history_free(&h);
    return rc;
}

int custscore_summary_one(custscore *db, const char *customer, int64_t as_of,
                          const custscore_summary_options *options, custscore_summary *out)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!out)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_summary_one: NULL output");
    custscore_summary_options opt;
    int rc = cs_summary_options_check(db, options, &opt);
    if (rc)
        return rc;
    int64_t id;
    rc = cs_customer_id(db, customer, customer ? strlen(customer) : 0, false, &id);
    if (rc)
        return rc;
    /* A one-customer history from the customer's own rows (index on
     * orders(customer, order_key) makes this a range scan). */
    sqlite3_stmt *st = cs_stmt(db, CS_STMT_ORDERS_OF_ONE);
    if (!st)
        return db->errcode;
    sqlite3_bind_int64(st, 1, id);
    cs_history h = {0};
    size_t cap = 0;
    int src;
    char *key = cs_strdup(customer);
    size_t offset[2] = {0, 0};
    const char *keys[1] = {key};
    int64_t ids[1] = {id};
    if (!key)
        return cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (h.n_orders == cap) {
            cap = cap ? cap * 2 : 64;
            int64_t *ts = cs_reallocarray(h.ts, cap, sizeof *ts);
            if (ts)
                h.ts = ts;
            double *rev = ts ? cs_reallocarray(h.revenue, cap, sizeof *rev) : NULL;
            if (rev)
                h.revenue = rev;
            double *cost = rev ? cs_reallocarray(h.cost, cap, sizeof *cost) : NULL;
            if (cost)
                h.cost = cost;
            if (!cost) {
                rc = cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
                break;
            }
        }
        h.ts[h.n_orders] = sqlite3_column_int64(st, 0);
        if (!cs_ts_valid(h.ts[h.n_orders])) {
            rc = cs_error(db, CUSTSCORE_ECORRUPT,
                          "loading the customer's orders: an order has time %lld, outside "
                          "0001-01-01..9999-12-31 (damaged store?)",
                          (long long)h.ts[h.n_orders]);
            break;
        }
        h.revenue[h.n_orders] = sqlite3_column_double(st, 1);
        h.cost[h.n_orders] = sqlite3_column_double(st, 2); /* NULL reads as 0.0 */
        if (!cs_amount_valid(h.revenue[h.n_orders]) || !cs_amount_valid(h.cost[h.n_orders])) {
            rc = cs_error(db, CUSTSCORE_ECORRUPT,
                          "loading the customer's orders: revenue or cost beyond +-1e15 "
                          "(damaged store?)");
            break;
        }
        h.n_orders++;
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = cs_sqlite_error(db, src, "loading the customer's orders");
    sqlite3_reset(st);
    if (rc == 0) {
        offset[1] = h.n_orders;
        h.n_customers = 1;
        h.offset = offset;
        h.key = keys;
        h.customer_id = ids;
        cs_summary_of_ex(&h, 0, as_of, custscore_unit_days(opt.unit),
                         opt.zero == CUSTSCORE_ZERO_REVENUE_PURCHASE, out);
        cs_free(db->scratch_key);
        db->scratch_key = key;
        out->customer = key;
        key = NULL;
    }
    cs_free(key);
    cs_free(h.ts);
    cs_free(h.revenue);
    cs_free(h.cost);
    return rc;
}
