/*
 * import.c: importing customers, orders, survey answers and complaints from
 * CSV files, in one transaction.
 *
 * Rules (docs/input-formats.md):
 * - An import is all-or-nothing: the first bad record aborts it with
 *   "file:line:column: field: value: reason" and the store unchanged, unless
 *   skip_bad is set; then every bad record is reported and skipped.
 * - Order lines with the same customer and order key are summed into one
 *   order; an order key already in the store is replaced (idempotent
 *   re-import). Without an order column, an order's key is "@<ts>#<n>": its
 *   timestamp and its rank among the customer's lines with that timestamp in
 *   the file, so re-importing the same file still changes nothing.
 * - An order with net revenue <= 0 is a return or adjustment.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>
#include <time.h>

/* ---------------------------------------------------------------------- */
/* CSV import */

enum cs_field {
    F_CUSTOMER,
    F_ORDER,
    F_TS,
    F_REVENUE,
    F_QUANTITY,
    F_PRICE,
    F_COST,
    F_CREATED,
    F_ITEM,
    F_VALUE,
    F_SEVERITY,
    F_RESOLVED,
    F__COUNT
};

static const char *const cs_field_name[F__COUNT] = {"customer", "order", "ts",       "revenue",
                                                    "quantity", "price", "cost",     "created",
                                                    "item",     "value", "severity", "resolved"};

/* Header names recognised for each field when it is not mapped
 * (compared case-insensitively, ignoring '_' and ' '). */
static const char *const cs_field_alias[F__COUNT][8] = {
    [F_CUSTOMER] = {"customer", "customerid", "customerkey", "custid", "client", NULL},
    [F_ORDER] = {"order", "orderkey", "orderid", "orderno", "invoice", "invoiceno", "invoiceid",
                 NULL},
    [F_TS] = {"ts", "date", "timestamp", "orderdate", "invoicedate", "time", NULL},
    [F_REVENUE] = {"revenue", "amount", "total", "netrevenue", "sales", NULL},
    [F_QUANTITY] = {"quantity", "qty", NULL},
    [F_PRICE] = {"price", "unitprice", NULL},
    [F_COST] = {"cost", "costs", "cogs", NULL},
    [F_CREATED] = {"created", "createdat", "since", NULL},
    [F_ITEM] = {"item", "question", NULL},
    [F_VALUE] = {"value", "answer", "score", NULL},
    [F_SEVERITY] = {"severity", NULL},
    [F_RESOLVED] = {"resolved", "resolvedts", "resolvedat", NULL},
};

/* Fields each kind takes, and which are required (alternatives handled in
 * cs_import_resolve). */
static bool cs_field_allowed(custscore_kind kind, bool wide, enum cs_field f)
{
    switch (kind) {
    case CUSTSCORE_KIND_ORDERS:
        return f == F_CUSTOMER || f == F_ORDER || f == F_TS || f == F_REVENUE || f == F_QUANTITY ||
               f == F_PRICE || f == F_COST;
    case CUSTSCORE_KIND_CUSTOMERS:
        return f == F_CUSTOMER || f == F_CREATED;
    case CUSTSCORE_KIND_RESPONSES:
        return f == F_CUSTOMER || f == F_TS || (!wide && (f == F_ITEM || f == F_VALUE));
    case CUSTSCORE_KIND_COMPLAINTS:
        return f == F_CUSTOMER || f == F_TS || f == F_SEVERITY || f == F_RESOLVED;
    }
    return false;
}

static const char *cs_kind_name(custscore_kind kind)
{
    switch (kind) {
    case CUSTSCORE_KIND_ORDERS:
        return "orders";
    case CUSTSCORE_KIND_CUSTOMERS:
        return "customers";
    case CUSTSCORE_KIND_RESPONSES:
        return "responses";
    case CUSTSCORE_KIND_COMPLAINTS:
        return "complaints";
    }
    return "?";
}

/* One line of an orders file. Lines are summed into orders once the whole
 * file is read (cs_import_write_orders): grouped by customer, then by order
 * key within the customer. */
typedef struct cs_line {
    int64_t ts;
    double revenue, cost;
    uint64_t key_off;  /* the order key in im->keys (files with an order column) */
    uint32_t customer; /* index in the customers map (maps hold < 2^32 entries) */
    uint8_t key_len;   /* order keys are 1..255 bytes (CUSTSCORE_MAX_KEY) */
    bool has_cost;
} cs_line;

/* A line whose customer is still to be looked up (cs_import_staged). */
typedef struct cs_staged {
    uint64_t hash;
    uint32_t line;
    uint8_t len;
    char key[CUSTSCORE_MAX_KEY];
} cs_staged;

typedef struct cs_import {
    custscore *db;
    custscore_kind kind;
    const custscore_import_options *opt;
    const char *name;
    cs_csv *csv;
    FILE *rejects;
    custscore_import_report *report;
    int col[F__COUNT];   /* 0-based column of each field, -1 when absent */
    size_t ncols;        /* columns of the header (0 when none) */
    char **header;       /* [ncols] copies of the header names */
    bool *is_attr;       /* customers: columns that are attributes; wide: item columns */
    cs_strmap customers; /* key -> store id (value), resolved when writing */
    /* Per customers entry: 0 unresolved, 1 in the store before this import,
     * 2 added by it. (Not packed into the id: store ids are any int64.) */
    unsigned char *cust_state;
    size_t cust_state_cap;
    cs_line *line; /* orders: the file's lines */
    size_t nline, line_cap;
    char *keys; /* orders: the lines' order keys, back to back */
    size_t keys_len, keys_cap;
    char *synth; /* orders without an order column: one customer's made-up keys */
    size_t synth_cap;
    /* Into a store without customers or orders: the history the store now
     * holds, built on the way and handed to the handle's cache after the
     * commit (the next fit or scoring then reads no order). */
    cs_history *seed;
    int64_t seed_first_cost; /* earliest order with a cost, INT64_MAX: none */
    cs_staged *staged;       /* orders: lines whose customer is looked up next */
    size_t n_staged;
    int64_t input_size;         /* bytes of the input when known, else 0 */
    uint64_t raw_bytes;         /* bytes of the records read so far */
    bool orders_table_empty;    /* at the start: no order can be replaced */
    bool customers_table_empty; /* at the start: every customer of the file is new */
} cs_import;

/* Render a field value for a message: at most 60 bytes, control bytes
 * escaped, so a message is one readable line. */
static void cs_show_value(const char *s, size_t len, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i >= 60) {
            o += (size_t)snprintf(out + o, size - o, "...");
            break;
        }
        if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    out[o < size ? o : size - 1] = '\0';
}

static void cs_csv_quote(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            fputc('"', f);
        fputc(s[i], f);
    }
    fputc('"', f);
}

/* Count a written row in the report. */
static void cs_count_row(cs_import *im, bool replaced)
{
    if (replaced)
        im->report->replaced++;
    else
        im->report->added++;
}

/* A bad record: abort (returns CUSTSCORE_EINVAL with the message) or, with
 * skip_bad, report it and return 0 so reading goes on. */
static int cs_reject(cs_import *im, const cs_csv_record *rec, int column, const char *field,
                     const char *value, size_t value_len, const char *why)
{
    char shown[128] = "";
    if (value)
        cs_show_value(value, value_len, shown, sizeof shown);
    char msg[768];
    if (field && value)
        snprintf(msg, sizeof msg, "%s:%lld:%d: %s: '%s': %s", im->name, (long long)rec->line,
                 column, field, shown, why);
    else if (field)
        snprintf(msg, sizeof msg, "%s:%lld:%d: %s: %s", im->name, (long long)rec->line, column,
                 field, why);
    else
        snprintf(msg, sizeof msg, "%s:%lld:%d: %s", im->name, (long long)rec->line, column, why);
    if (!im->opt->skip_bad)
        return cs_error(im->db, CUSTSCORE_EINVAL, "%s", msg);
    im->report->rejected++;
    if (im->rejects) {
        fprintf(im->rejects, "%lld,%d,", (long long)rec->line, column);
        cs_csv_quote(im->rejects, msg, strlen(msg));
        fputc(',', im->rejects);
        cs_csv_quote(im->rejects, rec->raw ? rec->raw : "", rec->raw ? rec->raw_len : 0);
        fputc('\n', im->rejects);
        if (ferror(im->rejects))
            return cs_error(im->db, CUSTSCORE_EIO, "%s: cannot write the rejects file",
                            im->opt->rejects_path);
    }
    if (im->opt->on_reject && im->opt->on_reject(rec->line, column, msg, im->opt->payload) != 0)
        return cs_error(im->db, CUSTSCORE_EINVAL, "%s (import stopped by the reject callback)",
                        msg);
    return CUSTSCORE_OK;
}

/* Normalised comparison for header names: case-insensitive, '_', '-' and
 * ' ' ignored. */
static bool cs_name_matches(const char *header, const char *alias)
{
    const char *h = header;
    const char *a = alias;
    for (;;) {
        while (*h == '_' || *h == ' ' || *h == '-')
            h++;
        while (*a == '_' || *a == ' ' || *a == '-')
            a++;
        char hc = *h >= 'A' && *h <= 'Z' ? (char)(*h - 'A' + 'a') : *h;
        char ac = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        if (hc != ac)
            return false;
        if (hc == '\0')
            return true;
        h++;
        a++;
    }
}

/* Column for a map value: a 1-based position or a header name. */
static int cs_find_column(cs_import *im, const char *spec, size_t len, int *col)
{
    bool digits = len > 0;
    for (size_t i = 0; i < len; i++)
        if (spec[i] < '0' || spec[i] > '9')
            digits = false;
    if (digits && len < 6) {
        int pos = atoi(spec);
        if (pos < 1 || (im->ncols && (size_t)pos > im->ncols))
            return cs_error(im->db, CUSTSCORE_EINVAL, "%s: column position %d is outside 1..%zu",
                            im->name, pos, im->ncols);
        *col = pos - 1;
        return CUSTSCORE_OK;
    }
    if (!im->header)
        return cs_error(im->db, CUSTSCORE_EINVAL,
                        "%s: column '%.*s' given by name, but the file has no header "
                        "(use 1-based positions)",
                        im->name, (int)len, spec);
    for (size_t c = 0; c < im->ncols; c++) {
        if (strlen(im->header[c]) == len && memcmp(im->header[c], spec, len) == 0) {
            *col = (int)c;
            return CUSTSCORE_OK;
        }
    }
    char want[CUSTSCORE_MAX_KEY + 1];
    snprintf(want, sizeof want, "%.*s", (int)len, spec);
    for (size_t c = 0; c < im->ncols; c++) {
        if (strcasecmp(im->header[c], want) == 0) {
            *col = (int)c;
            return CUSTSCORE_OK;
        }
    }
    return cs_error(im->db, CUSTSCORE_EINVAL, "%s: no column named '%s' in the header", im->name,
                    want);
}

static int cs_import_resolve(cs_import *im)
{
    const custscore_import_options *opt = im->opt;
    bool wide = im->kind == CUSTSCORE_KIND_RESPONSES && opt->wide;
    for (int f = 0; f < F__COUNT; f++)
        im->col[f] = -1;
    /* 1. The explicit map. */
    const char *m = opt->map;
    while (m && *m) {
        const char *end = strchr(m, ',');
        size_t len = end ? (size_t)(end - m) : strlen(m);
        const char *eq = memchr(m, '=', len);
        if (!eq)
            return cs_error(im->db, CUSTSCORE_EINVAL, "map: '%.*s' is not FIELD=COLUMN", (int)len,
                            m);
        size_t flen = (size_t)(eq - m);
        int field = -1;
        for (int f = 0; f < F__COUNT; f++)
            if (strlen(cs_field_name[f]) == flen && strncmp(cs_field_name[f], m, flen) == 0)
                field = f;
        if (field < 0 || !cs_field_allowed(im->kind, wide, (enum cs_field)field)) {
            char buf[256] = "";
            for (int f = 0; f < F__COUNT; f++) {
                if (cs_field_allowed(im->kind, wide, (enum cs_field)f)) {
                    strcat(buf, buf[0] ? ", " : "");
                    strcat(buf, cs_field_name[f]);
                }
            }
            return cs_error(im->db, CUSTSCORE_EINVAL,
                            "map: unknown field '%.*s' for a %s import (fields: %s)", (int)flen, m,
                            cs_kind_name(im->kind), buf);
        }
        int rc = cs_find_column(im, eq + 1, len - flen - 1, &im->col[field]);
        if (rc)
            return rc;
        m = end ? end + 1 : NULL;
    }
    /* 2. Wide responses: the customer and date column options. */
    if (wide && opt->customer_column) {
        int rc = cs_find_column(im, opt->customer_column, strlen(opt->customer_column),
                                &im->col[F_CUSTOMER]);
        if (rc)
            return rc;
    }
    if (wide && opt->date_column) {
        int rc = cs_find_column(im, opt->date_column, strlen(opt->date_column), &im->col[F_TS]);
        if (rc)
            return rc;
    }
    /* 3. Unmapped fields by header name. */
    if (im->header) {
        for (int f = 0; f < F__COUNT; f++) {
            if (im->col[f] >= 0 || !cs_field_allowed(im->kind, wide, (enum cs_field)f))
                continue;
            for (size_t c = 0; c < im->ncols && im->col[f] < 0; c++)
                for (int a = 0; cs_field_alias[f][a] && im->col[f] < 0; a++)
                    if (cs_name_matches(im->header[c], cs_field_alias[f][a]))
                        im->col[f] = (int)c;
        }
    }
    /* 4. Required fields. */
    const char *missing = NULL;
    if (im->col[F_CUSTOMER] < 0)
        missing = "customer";
    switch (im->kind) {
    case CUSTSCORE_KIND_ORDERS:
        if (!missing && im->col[F_TS] < 0)
            missing = "ts";
        if (!missing && im->col[F_REVENUE] < 0 && (im->col[F_QUANTITY] < 0 || im->col[F_PRICE] < 0))
            missing = "revenue (or quantity and price)";
        if (im->col[F_REVENUE] >= 0) {
            im->col[F_QUANTITY] = -1;
            im->col[F_PRICE] = -1;
        }
        break;
    case CUSTSCORE_KIND_RESPONSES:
        if (!wide && !missing && im->col[F_TS] < 0)
            missing = "ts";
        if (!wide && !missing && im->col[F_ITEM] < 0)
            missing = "item";
        if (!wide && !missing && im->col[F_VALUE] < 0)
            missing = "value";
        if (wide && !im->header)
            return cs_error(im->db, CUSTSCORE_EINVAL,
                            "%s: wide responses need a header row naming the items", im->name);
        break;
    case CUSTSCORE_KIND_COMPLAINTS:
        if (!missing && im->col[F_TS] < 0)
            missing = "ts";
        break;
    case CUSTSCORE_KIND_CUSTOMERS:
        break;
    }
    if (missing)
        return cs_error(im->db, CUSTSCORE_EINVAL,
                        "%s: no column for field '%s' (name it in the header or map it: --map "
                        "%s=COLUMN)",
                        im->name, missing,
                        strncmp(missing, "revenue (", 9) == 0 ? "revenue" : missing);
    /* Attribute / item columns: every column that is no field. */
    if (im->kind == CUSTSCORE_KIND_CUSTOMERS || wide) {
        size_t n = im->ncols;
        im->is_attr = cs_calloc(n ? n : 1, sizeof *im->is_attr);
        if (!im->is_attr)
            return cs_error(im->db, CUSTSCORE_ENOMEM, "out of memory");
        for (size_t c = 0; c < n; c++) {
            bool used = false;
            for (int f = 0; f < F__COUNT; f++)
                if (im->col[f] == (int)c)
                    used = true;
            im->is_attr[c] = !used;
        }
    }
    return CUSTSCORE_OK;
}

static int cs_read_header(cs_import *im, cs_csv_record *rec)
{
    int bad_col = 0;
    const char *why = NULL;
    int rc = cs_csv_next(im->csv, rec, &bad_col, &why);
    if (rc == 0)
        return cs_error(im->db, CUSTSCORE_EINVAL, "%s: empty file (no header row)", im->name);
    if (rc == CS_CSV_BAD_RECORD)
        return cs_error(im->db, CUSTSCORE_EINVAL, "%s:%lld:%d: header: %s", im->name,
                        (long long)rec->line, bad_col, why);
    if (rc < 0)
        return cs_error(im->db, rc, "%s: %s", im->name, cs_csv_error(im->csv));
    im->ncols = rec->nfields;
    im->header = cs_calloc(rec->nfields, sizeof *im->header);
    if (!im->header)
        return cs_error(im->db, CUSTSCORE_ENOMEM, "out of memory");
    for (size_t c = 0; c < rec->nfields; c++) {
        const char *name = rec->field[c];
        size_t len = rec->len[c];
        /* Trim blanks around header names. */
        while (len && (*name == ' ' || *name == '\t')) {
            name++;
            len--;
        }
        while (len && (name[len - 1] == ' ' || name[len - 1] == '\t'))
            len--;
        if (len > CUSTSCORE_MAX_KEY || !cs_utf8_valid(name, len))
            return cs_error(im->db, CUSTSCORE_EINVAL,
                            "%s:%lld:%zu: header: column name is not 1..255 bytes of UTF-8",
                            im->name, (long long)rec->line, c + 1);
        im->header[c] = cs_strndup(name, len);
        if (!im->header[c])
            return cs_error(im->db, CUSTSCORE_ENOMEM, "out of memory");
    }
    return CUSTSCORE_OK;
}

/* Get the field @f of a record; NULL when the column is absent. A record
 * with fewer columns than needed is rejected by the caller first. */
static const char *cs_get(const cs_import *im, const cs_csv_record *rec, enum cs_field f,
                          size_t *len)
{
    int c = im->col[f];
    if (c < 0) {
        *len = 0;
        return NULL;
    }
    *len = rec->len[c];
    return rec->field[c];
}

static bool cs_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return false;
    return true;
}

/* Validate a key field; reject on failure. *ok false when rejected. */
static int cs_key_field(cs_import *im, const cs_csv_record *rec, enum cs_field f, const char **s,
                        size_t *len, bool *ok)
{
    *s = cs_get(im, rec, f, len);
    /* Trim surrounding blanks (CSV exports often pad keys). */
    while (*len && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
    const char *why = cs_check_key(*s, *len);
    if (why) {
        *ok = false;
        char reason[64];
        snprintf(reason, sizeof reason, "%s", why);
        if (strcmp(why, "empty key") == 0)
            snprintf(reason, sizeof reason, "empty %s key", cs_field_name[f]);
        return cs_reject(im, rec, im->col[f] + 1, cs_field_name[f], *s, *len, reason);
    }
    *ok = true;
    return CUSTSCORE_OK;
}

static int cs_time_field(cs_import *im, const cs_csv_record *rec, enum cs_field f, int64_t *out,
                         bool *ok)
{
    size_t len;
    const char *s = cs_get(im, rec, f, &len);
    const char *why = NULL;
    if (cs_parse_time_n(s, len, im->opt->date_format, out, &why) != 0) {
        *ok = false;
        return cs_reject(im, rec, im->col[f] + 1, cs_field_name[f], s, len, why);
    }
    *ok = true;
    return CUSTSCORE_OK;
}

static int cs_number_field(cs_import *im, const cs_csv_record *rec, enum cs_field f, double *out,
                           bool *ok)
{
    size_t len;
    const char *s = cs_get(im, rec, f, &len);
    const char *why = NULL;
    if (cs_parse_double(s, len, out, &why) != 0) {
        *ok = false;
        return cs_reject(im, rec, im->col[f] + 1, cs_field_name[f], s, len, why);
    }
    *ok = true;
    return CUSTSCORE_OK;
}

/* Find or add a customer key of the file; returns its index. */
static int cs_import_customer_h(cs_import *im, const char *key, size_t len, uint64_t hash,
                                size_t *index)
{
    bool inserted;
    ptrdiff_t e = cs_strmap_put_h(&im->customers, key, len, hash, &inserted);
    if (e < 0)
        return cs_error(im->db, CUSTSCORE_ENOMEM, "out of memory");
    if ((size_t)e >= im->cust_state_cap) {
        size_t cap = im->cust_state_cap ? im->cust_state_cap * 2 : 1024;
        unsigned char *st = cs_reallocarray(im->cust_state, cap, 1);
        if (!st)
            return cs_error(im->db, CUSTSCORE_ENOMEM, "out of memory");
        im->cust_state = st;
        im->cust_state_cap = cap;
    }
    if (inserted)
        im->cust_state[e] = 0;
    *index = (size_t)e;
    return CUSTSCORE_OK;
}

static int cs_import_customer(cs_import *im, const char *key, size_t len, size_t *index)
{
    return cs_import_customer_h(im, key, len, cs_strmap_hash(key, len), index);
}

/* Resolve a customer index to its store id, creating the customer; the map
 * value is then the id, cust_state says whether this import added it. */
static int cs_import_customer_id(cs_import *im, size_t index, int64_t *id, bool *is_new)
{
    if (im->cust_state[index] != 0) {
        *id = im->customers.value[index];
        *is_new = im->cust_state[index] == 2;
        return CUSTSCORE_OK;
    }
    custscore *db = im->db;
    const char *key = cs_strmap_key(&im->customers, index);
    size_t len = im->customers.key_len[index];
    /* The map holds each key of the file once, so in a store that had no
     * customer every key is new: no lookup first. */
    int rc =
        im->customers_table_empty ? CUSTSCORE_ENOTFOUND : cs_customer_id(db, key, len, false, id);
    if (rc == CUSTSCORE_ENOTFOUND) {
        cs_clear_error(db);
        rc = cs_customer_id(db, key, len, true, id);
        *is_new = true;
    } else {
        *is_new = false;
    }
    if (rc)
        return rc;
    im->customers.value[index] = *id;
    im->cust_state[index] = *is_new ? 2 : 1;
    return CUSTSCORE_OK;
}

/* Lines whose customer lookup waits: a lookup in a map of a million
 * customers misses the cache, so the slots of a few lines are fetched
 * while the next lines are parsed. The map's entries stay in file order. */
#define CS_STAGED 32

static int cs_import_staged(cs_import *im)
{
    for (size_t k = 0; k < im->n_staged; k++) {
        const cs_staged *st = &im->staged[k];
        size_t cindex = 0;
        int rc = cs_import_customer_h(im, st->key, st->len, st->hash, &cindex);
        if (rc)
            return rc;
        im->line[st->line].customer = (uint32_t)cindex;
    }
    im->n_staged = 0;
    return CUSTSCORE_OK;
}

static int cs_import_order_record(cs_import *im, const cs_csv_record *rec)
{
    bool ok;
    const char *cust, *okey = NULL;
    size_t cust_len, okey_len = 0;
    int rc = cs_key_field(im, rec, F_CUSTOMER, &cust, &cust_len, &ok);
    if (rc || !ok)
        return rc;
    if (im->col[F_ORDER] >= 0) {
        rc = cs_key_field(im, rec, F_ORDER, &okey, &okey_len, &ok);
        if (rc || !ok)
            return rc;
    }
    int64_t ts;
    rc = cs_time_field(im, rec, F_TS, &ts, &ok);
    if (rc || !ok)
        return rc;
    double revenue;
    if (im->col[F_REVENUE] >= 0) {
        rc = cs_number_field(im, rec, F_REVENUE, &revenue, &ok);
        if (rc || !ok)
            return rc;
    } else {
        double qty, price;
        rc = cs_number_field(im, rec, F_QUANTITY, &qty, &ok);
        if (rc || !ok)
            return rc;
        rc = cs_number_field(im, rec, F_PRICE, &price, &ok);
        if (rc || !ok)
            return rc;
        revenue = qty * price;
        if (!(fabs(revenue) <= CUSTSCORE_MAX_AMOUNT))
            return cs_reject(im, rec, im->col[F_PRICE] + 1, "revenue", NULL, 0,
                             "quantity x price beyond +-1e15 (CUSTSCORE_MAX_AMOUNT)");
    }
    if (fabs(revenue) > CUSTSCORE_MAX_AMOUNT) {
        size_t len;
        const char *s = cs_get(im, rec, F_REVENUE, &len);
        return cs_reject(im, rec, im->col[F_REVENUE] + 1, "revenue", s, len,
                         "beyond +-1e15 (CUSTSCORE_MAX_AMOUNT)");
    }
    double cost = 0;
    bool has_cost = false;
    if (im->col[F_COST] >= 0) {
        size_t len;
        const char *s = cs_get(im, rec, F_COST, &len);
        if (!cs_blank(s, len)) {
            rc = cs_number_field(im, rec, F_COST, &cost, &ok);
            if (rc || !ok)
                return rc;
            if (cost < 0)
                return cs_reject(im, rec, im->col[F_COST] + 1, "cost", s, len,
                                 "negative cost (a return is negative revenue, not cost)");
            if (cost > CUSTSCORE_MAX_AMOUNT)
                return cs_reject(im, rec, im->col[F_COST] + 1, "cost", s, len,
                                 "beyond 1e15 (CUSTSCORE_MAX_AMOUNT)");
            has_cost = true;
        }
    }
    const char *prefix = im->opt->cancel_prefix;
    if (okey && prefix && *prefix && okey_len >= strlen(prefix) &&
        memcmp(okey, prefix, strlen(prefix)) == 0 && revenue > 0)
        revenue = -revenue;

    /* Keep the line; lines are summed into orders after the whole file is
     * read (a file's lines of one order may be anywhere in it). Its
     * customer is looked up a few lines later (cs_import_staged). */
    if (!im->staged) {
        im->staged = cs_mallocarray(CS_STAGED, sizeof *im->staged);
        if (!im->staged)
            return cs_error(im->db, CUSTSCORE_ENOMEM, "out of memory");
    }
    if (im->n_staged == CS_STAGED) {
        rc = cs_import_staged(im);
        if (rc)
            return rc;
    }
    if (im->nline == im->line_cap) {
        if (im->line_cap >= UINT32_MAX - 1)
            return cs_error(im->db, CUSTSCORE_ERANGE,
                            "%s:%lld: more than 2^32 - 2 order lines in one import: split the file",
                            im->name, (long long)rec->line);
        size_t cap = im->line_cap ? im->line_cap * 2 : 1024;
        cs_line *l = cs_reallocarray(im->line, cap, sizeof *l);
        if (!l)
            return cs_error(im->db, CUSTSCORE_ENOMEM, "out of memory");
        im->line = l;
        im->line_cap = cap;
    }
    uint64_t key_off = im->keys_len;
    if (okey) {
        if (im->keys_len + okey_len > im->keys_cap) {
            size_t cap = im->keys_cap ? im->keys_cap * 2 : 4096;
            while (cap < im->keys_len + okey_len)
                cap *= 2;
            char *k = cs_reallocarray(im->keys, cap, 1);
            if (!k)
                return cs_error(im->db, CUSTSCORE_ENOMEM, "out of memory");
            im->keys = k;
            im->keys_cap = cap;
        }
        memcpy(im->keys + im->keys_len, okey, okey_len);
        im->keys_len += okey_len;
    }
    cs_staged *st = &im->staged[im->n_staged++];
    st->hash = cs_strmap_hash(cust, cust_len);
    st->line = (uint32_t)im->nline;
    st->len = (uint8_t)cust_len;
    memcpy(st->key, cust, cust_len);
    cs_strmap_prefetch(&im->customers, st->hash);
    im->line[im->nline++] = (cs_line){.ts = ts,
                                      .revenue = revenue,
                                      .cost = cost,
                                      .key_off = key_off,
                                      .customer = UINT32_MAX,
                                      .key_len = (uint8_t)okey_len,
                                      .has_cost = has_cost};
    return CUSTSCORE_OK;
}

#if defined(__GNUC__) || defined(__clang__)
#define CS_PREFETCH(p) __builtin_prefetch(p)
#else
#define CS_PREFETCH(p) ((void)(p))
#endif

/* A customer of the file, for ordering. */
typedef struct cs_cust_ref {
    const char *key;
    uint32_t len, index;
    int64_t id;
} cs_cust_ref;

/* Byte order, shorter first on a common prefix: SQLite's BINARY collation
 * (the order of the customer and order key indexes). */
static int cs_key_cmp(const char *a, size_t a_len, const char *b, size_t b_len)
{
    int c = memcmp(a, b, a_len < b_len ? a_len : b_len);
    if (c)
        return c;
    return (a_len > b_len) - (a_len < b_len);
}

static int cs_cust_by_key(const void *a, const void *b)
{
    const cs_cust_ref *x = a, *y = b;
    return cs_key_cmp(x->key, x->len, y->key, y->len);
}

static int cs_cust_by_id(const void *a, const void *b)
{
    const cs_cust_ref *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* Rows per INSERT statement when adding customers and orders: one
 * statement of many rows costs SQLite far less per row than a statement per
 * row. */
#define CS_ROWS_PER_INSERT 64

/* Add the customers of the file that are not in the store (sorted by key;
 * their keys were checked when read) and set their ids: ids following the
 * largest one, given explicitly, CS_ROWS_PER_INSERT rows per INSERT (one
 * statement per customer, with a lookup first, costs seconds for a
 * million). */
static int cs_add_new_customers(cs_import *im, cs_cust_ref *fresh, size_t n)
{
    custscore *db = im->db;
    if (n == 0)
        return CUSTSCORE_OK;
    sqlite3_stmt *st = NULL;
    int rc = cs_prepare(db, "SELECT max(id) FROM customer", &st);
    if (rc)
        return rc;
    int src = sqlite3_step(st);
    int64_t max_id = src == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (src != SQLITE_ROW)
        return cs_sqlite_error(db, src, "reading the customers");
    if (max_id < 0)
        max_id = 0;
    if ((uint64_t)(INT64_MAX - max_id) < (uint64_t)n) {
        /* Ids near the end of the range (set by hand): let SQLite pick. */
        for (size_t k = 0; k < n; k++) {
            rc = cs_customer_id(db, fresh[k].key, fresh[k].len, true, &fresh[k].id);
            if (rc)
                return rc;
        }
        return CUSTSCORE_OK;
    }
    sqlite3_stmt *many = NULL;
    rc = cs_prepare_rows(db, "INSERT INTO customer(id, key, created) VALUES ", "(?,?,0)",
                         CS_ROWS_PER_INSERT, &many);
    if (rc)
        return rc;
    db->data_gen++; /* the customers change: the cached history goes */
    for (size_t k = 0; k < n; k++)
        fresh[k].id = max_id + 1 + (int64_t)k;
    size_t k = 0;
    for (; rc == CUSTSCORE_OK && k + CS_ROWS_PER_INSERT <= n; k += CS_ROWS_PER_INSERT) {
        for (int r = 0; r < CS_ROWS_PER_INSERT; r++) {
            sqlite3_bind_int64(many, 2 * r + 1, fresh[k + (size_t)r].id);
            sqlite3_bind_text(many, 2 * r + 2, fresh[k + (size_t)r].key,
                              (int)fresh[k + (size_t)r].len, SQLITE_STATIC);
        }
        src = sqlite3_step(many);
        sqlite3_reset(many);
        if (src != SQLITE_DONE)
            rc = cs_sqlite_error(db, src, "adding customers");
    }
    sqlite3_finalize(many);
    if (rc == CUSTSCORE_OK && k < n) {
        rc = cs_prepare(db, "INSERT INTO customer(id, key, created) VALUES (?1, ?2, 0)", &st);
        for (; rc == CUSTSCORE_OK && k < n; k++) {
            sqlite3_bind_int64(st, 1, fresh[k].id);
            sqlite3_bind_text(st, 2, fresh[k].key, (int)fresh[k].len, SQLITE_STATIC);
            src = sqlite3_step(st);
            sqlite3_reset(st);
            if (src != SQLITE_DONE)
                rc = cs_sqlite_error(db, src, "adding a customer");
        }
        sqlite3_finalize(st);
    }
    return rc;
}

/* Give every customer of the file its store id: existing customers are
 * looked up, new ones are added in key order so the customer table and its
 * key index grow at their ends (adding a million customers in file order
 * splits pages all over the index). Returns the customers in id order in
 * *by_id (the order the orders are written in), NULL on error. */
static int cs_import_resolve_customers(cs_import *im, cs_cust_ref **by_id)
{
    custscore *db = im->db;
    size_t nc = im->customers.count, n_new = 0;
    *by_id = NULL;
    cs_cust_ref *ref = cs_mallocarray(nc ? nc : 1, sizeof *ref);
    if (!ref)
        return cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
    for (size_t c = 0; c < nc; c++) {
        ref[c] = (cs_cust_ref){cs_strmap_key(&im->customers, c), im->customers.key_len[c],
                               (uint32_t)c, 0};
        if (im->cust_state[c] != 0) {
            ref[c].id = im->customers.value[c];
            continue;
        }
        int rc = CUSTSCORE_ENOTFOUND;
        if (!im->customers_table_empty)
            rc = cs_customer_id(db, ref[c].key, ref[c].len, false, &ref[c].id);
        if (rc == 0) {
            im->customers.value[c] = ref[c].id;
            im->cust_state[c] = 1;
        } else if (rc == CUSTSCORE_ENOTFOUND) {
            cs_clear_error(db);
            n_new++;
        } else {
            cs_free(ref);
            return rc;
        }
    }
    /* The new ones: sort by key, add, and they get increasing ids. */
    cs_cust_ref *fresh = cs_mallocarray(n_new ? n_new : 1, sizeof *fresh);
    if (!fresh) {
        cs_free(ref);
        return cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
    }
    size_t f = 0;
    for (size_t c = 0; c < nc; c++)
        if (im->cust_state[c] == 0)
            fresh[f++] = ref[c];
    qsort(fresh, n_new, sizeof *fresh, cs_cust_by_key);
    int rc = cs_add_new_customers(im, fresh, n_new);
    for (size_t k = 0; k < n_new && rc == CUSTSCORE_OK; k++) {
        uint32_t c = fresh[k].index;
        ref[c].id = im->customers.value[c] = fresh[k].id;
        im->cust_state[c] = 2;
    }
    cs_free(fresh);
    if (rc) {
        cs_free(ref);
        return rc;
    }
    qsort(ref, nc, sizeof *ref, cs_cust_by_id);
    *by_id = ref;
    return CUSTSCORE_OK;
}

/* The lines grouped by customer in id order, each customer's lines in file
 * order: a stable counting sort of the line indexes (linear; files hold
 * millions of lines). *start_out receives the customers' first positions
 * ([nc + 1], by rank in by_id). */
static uint32_t *cs_lines_by_customer(cs_import *im, const cs_cust_ref *by_id, size_t **start_out)
{
    size_t nc = im->customers.count;
    size_t *start = cs_calloc(nc + 1, sizeof *start);
    size_t *next = cs_mallocarray(nc + 1, sizeof *next);
    uint32_t *rank = cs_mallocarray(nc ? nc : 1, sizeof *rank);
    uint32_t *perm = cs_mallocarray(im->nline ? im->nline : 1, sizeof *perm);
    if (!start || !next || !rank || !perm) {
        cs_free(start);
        cs_free(next);
        cs_free(rank);
        cs_free(perm);
        return NULL;
    }
    for (size_t r = 0; r < nc; r++)
        rank[by_id[r].index] = (uint32_t)r;
    for (size_t i = 0; i < im->nline; i++)
        start[rank[im->line[i].customer] + 1]++;
    for (size_t r = 0; r < nc; r++)
        start[r + 1] += start[r];
    memcpy(next, start, (nc + 1) * sizeof *next);
    for (size_t i = 0; i < im->nline; i++)
        perm[next[rank[im->line[i].customer]]++] = (uint32_t)i;
    cs_free(next);
    cs_free(rank);
    *start_out = start;
    return perm;
}

/* One order of a customer, as summed from the file's lines. */
typedef struct cs_order_out {
    const char *key;
    size_t key_len;
    uint32_t first; /* the earliest line in the file (sort ties, messages) */
    int64_t ts;
    double revenue, cost;
    bool has_cost;
} cs_order_out;

/* Key order of SQLite's BINARY collation (the orders table's key), ties
 * in file order. */
static int cs_order_out_cmp(const void *a, const void *b)
{
    const cs_order_out *x = a, *y = b;
    int c = cs_key_cmp(x->key, x->key_len, y->key, y->key_len);
    if (c)
        return c;
    return (x->first > y->first) - (x->first < y->first);
}

/* Time order, ties in file order. */
static int cs_order_out_by_time(const void *a, const void *b)
{
    const cs_order_out *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return (x->first > y->first) - (x->first < y->first);
}

/* The few lines of a customer: insertion sort; many: qsort (the orders
 * compare unequal, so the result does not depend on the sort's stability). */
static void cs_order_out_sort(cs_order_out *o, size_t n, int (*cmp)(const void *, const void *))
{
    if (n > 24) {
        qsort(o, n, sizeof *o, cmp);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        cs_order_out t = o[i];
        size_t j = i;
        for (; j > 0 && cmp(&o[j - 1], &t) > 0; j--)
            o[j] = o[j - 1];
        o[j] = t;
    }
}

#define CS_SYNTH_KEY 48 /* "@<ts>#<rank>" */

/* Orders waiting to be added by one multi-row INSERT. */
typedef struct cs_order_batch {
    sqlite3_stmt *many; /* INSERT of CS_ROWS_PER_INSERT rows */
    size_t n;
    int64_t id[CS_ROWS_PER_INSERT];
    cs_order_out row[CS_ROWS_PER_INSERT];
    char synth[CS_ROWS_PER_INSERT][CS_SYNTH_KEY]; /* keys made up for lines without one */
} cs_order_batch;

static void cs_bind_order(sqlite3_stmt *st, int base, int64_t id, const cs_order_out *o)
{
    cs_bind_order_row(st, base, id, o->key, o->key_len, o->ts, o->revenue, o->cost, o->has_cost);
}

static int cs_order_batch_flush(cs_import *im, cs_order_batch *b)
{
    custscore *db = im->db;
    if (b->n == CS_ROWS_PER_INSERT) {
        if (!b->many) {
            int rc = cs_prepare_rows(db,
                                     "INSERT INTO orders(customer, order_key, ts, revenue, cost)"
                                     " VALUES ",
                                     "(?,?,?,?,?)", CS_ROWS_PER_INSERT, &b->many);
            if (rc)
                return rc;
        }
        db->data_gen++; /* the orders change: the cached history goes */
        for (size_t r = 0; r < b->n; r++)
            cs_bind_order(b->many, (int)r * 5, b->id[r], &b->row[r]);
        int src = sqlite3_step(b->many);
        sqlite3_reset(b->many);
        if (src != SQLITE_DONE)
            return cs_sqlite_error(db, src, "adding orders");
    } else {
        for (size_t r = 0; r < b->n; r++) {
            sqlite3_stmt *st = cs_stmt(db, CS_STMT_ORDER_INSERT);
            if (!st)
                return db->errcode;
            cs_bind_order(st, 0, b->id[r], &b->row[r]);
            int src = sqlite3_step(st);
            if (src != SQLITE_DONE)
                return cs_sqlite_error(db, src, "adding an order");
        }
    }
    for (size_t r = 0; r < b->n; r++)
        cs_count_row(im, false);
    b->n = 0;
    return CUSTSCORE_OK;
}

/* Write one customer's orders (sorted by key): added in batches when none
 * of them can exist yet, else each replaces or adds. */
static int cs_write_customer_orders(cs_import *im, cs_order_batch *b, int64_t id, bool fresh,
                                    const cs_order_out *o, size_t n)
{
    custscore *db = im->db;
    for (size_t k = 0; k < n; k++) {
        if (!(fabs(o[k].revenue) <= CUSTSCORE_MAX_AMOUNT) || !(o[k].cost <= CUSTSCORE_MAX_AMOUNT))
            return cs_error(db, CUSTSCORE_EINVAL,
                            "%s: order '%.*s' of customer '%s': sum of its "
                            "lines beyond +-1e15 (CUSTSCORE_MAX_AMOUNT)",
                            im->name, (int)o[k].key_len, o[k].key,
                            cs_strmap_key(&im->customers, im->line[o[k].first].customer));
        if (fresh) {
            if (b->n == CS_ROWS_PER_INSERT) {
                int rc = cs_order_batch_flush(im, b);
                if (rc)
                    return rc;
            }
            b->id[b->n] = id;
            b->row[b->n] = o[k];
            if (im->col[F_ORDER] < 0) {
                /* A made-up key lives in the customer's scratch: copy it. */
                memcpy(b->synth[b->n], o[k].key, o[k].key_len);
                b->row[b->n].key = b->synth[b->n];
            }
            b->n++;
        } else {
            bool replaced = false;
            int rc = cs_order_put(db, id, o[k].key, o[k].key_len, o[k].ts, o[k].revenue, o[k].cost,
                                  o[k].has_cost, &replaced);
            if (rc)
                return rc;
            cs_count_row(im, replaced);
        }
    }
    return CUSTSCORE_OK;
}

/* Sum one customer's lines (perm[a..b), file order) into orders sorted by
 * key; *n_out receives their number. Lines without an order key are keyed
 * '@<unix time>#<rank among the customer's lines of that time>'. */
static int cs_customer_orders(cs_import *im, const uint32_t *perm, size_t a, size_t b,
                              cs_order_out **buf, size_t *cap, size_t *n_out)
{
    size_t n = b - a;
    if (n > *cap) {
        size_t c = *cap ? *cap : 64;
        while (c < n)
            c *= 2;
        cs_order_out *p = cs_reallocarray(*buf, c, sizeof *p);
        if (!p)
            return cs_error(im->db, CUSTSCORE_ENOMEM, "out of memory");
        *buf = p;
        *cap = c;
    }
    cs_order_out *o = *buf;
    bool keyed = im->col[F_ORDER] >= 0;
    for (size_t k = 0; k < n; k++) {
        const cs_line *l = &im->line[perm[a + k]];
        o[k] = (cs_order_out){.key = keyed ? im->keys + l->key_off : NULL,
                              .key_len = l->key_len,
                              .first = perm[a + k],
                              .ts = l->ts,
                              .revenue = l->revenue,
                              .cost = l->cost,
                              .has_cost = l->has_cost};
    }
    if (!keyed) {
        /* Rank among the customer's lines of the same time, in file
         * order: sort by (time, line), count, and write the keys to the
         * scratch. */
        if (n > im->synth_cap / CS_SYNTH_KEY) {
            size_t c = im->synth_cap ? im->synth_cap / CS_SYNTH_KEY : 64;
            while (c < n)
                c *= 2;
            char *p = cs_reallocarray(im->synth, c, CS_SYNTH_KEY);
            if (!p)
                return cs_error(im->db, CUSTSCORE_ENOMEM, "out of memory");
            im->synth = p;
            im->synth_cap = c * CS_SYNTH_KEY;
        }
        cs_order_out_sort(o, n, cs_order_out_by_time);
        long long rank = 0;
        for (size_t k = 0; k < n; k++) {
            rank = k > 0 && o[k].ts == o[k - 1].ts ? rank + 1 : 1;
            char *key = im->synth + k * CS_SYNTH_KEY;
            o[k].key_len =
                (size_t)snprintf(key, CS_SYNTH_KEY, "@%lld#%lld", (long long)o[k].ts, rank);
            o[k].key = key;
        }
    }
    cs_order_out_sort(o, n, cs_order_out_cmp);
    /* Lines of one order are adjacent now, in file order: sum them. */
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        if (m > 0 && o[m - 1].key_len == o[k].key_len &&
            memcmp(o[m - 1].key, o[k].key, o[k].key_len) == 0) {
            cs_order_out *t = &o[m - 1];
            t->revenue += o[k].revenue;
            t->cost += o[k].cost;
            t->has_cost = t->has_cost || o[k].has_cost;
            if (o[k].ts < t->ts)
                t->ts = o[k].ts;
        } else {
            o[m++] = o[k];
        }
    }
    *n_out = m;
    return CUSTSCORE_OK;
}

/* Time order, ties in key order (as a scan of the orders table sorted by
 * time finds them). */
static int cs_order_out_by_time_key(const void *a, const void *b)
{
    const cs_order_out *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return cs_order_out_cmp(a, b);
}

/* The history of an import into an empty store: its customers (new ones
 * got ids in key order, so id order is key order) and room for its orders.
 * NULL when out of memory: the import goes on without it. */
static cs_history *cs_seed_begin(cs_import *im, const cs_cust_ref *by_id)
{
    size_t nc = im->customers.count, n = im->nline ? im->nline : 1;
    cs_history *h = cs_calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->customer_id = cs_mallocarray(nc ? nc : 1, sizeof *h->customer_id);
    h->key = cs_mallocarray(nc ? nc : 1, sizeof *h->key);
    h->key_pool = cs_malloc(im->customers.arena_len ? im->customers.arena_len : 1);
    h->offset = cs_calloc(nc + 1, sizeof *h->offset);
    h->ts = cs_mallocarray(n, sizeof *h->ts);
    h->revenue = cs_mallocarray(n, sizeof *h->revenue);
    h->cost = cs_mallocarray(n, sizeof *h->cost);
    if (!h->customer_id || !h->key || !h->key_pool || !h->offset || !h->ts || !h->revenue ||
        !h->cost) {
        cs_history_free(h);
        cs_free(h);
        return NULL;
    }
    size_t pool = 0;
    for (size_t r = 0; r < nc; r++) {
        h->customer_id[r] = by_id[r].id;
        memcpy(h->key_pool + pool, by_id[r].key, by_id[r].len);
        h->key_pool[pool + by_id[r].len] = '\0';
        h->key[r] = h->key_pool + pool;
        pool += by_id[r].len + 1;
    }
    h->n_customers = nc;
    im->seed_first_cost = INT64_MAX;
    return h;
}

/* Add customer r's orders (sorted by key) to the seed, by time. */
static bool cs_seed_add(cs_import *im, size_t r, const cs_order_out *o, size_t n,
                        cs_order_out **tmp, size_t *tmp_cap)
{
    cs_history *h = im->seed;
    if (n > *tmp_cap) {
        cs_order_out *p = cs_reallocarray(*tmp, n, sizeof *p);
        if (!p)
            return false;
        *tmp = p;
        *tmp_cap = n;
    }
    memcpy(*tmp, o, n * sizeof *o);
    cs_order_out_sort(*tmp, n, cs_order_out_by_time_key);
    size_t at = h->n_orders;
    for (size_t k = 0; k < n; k++) {
        const cs_order_out *t = &(*tmp)[k];
        h->ts[at + k] = t->ts;
        h->revenue[at + k] = t->revenue;
        h->cost[at + k] = t->cost; /* 0 when no line had one, as a load reads NULL */
        if (t->has_cost && t->ts < im->seed_first_cost)
            im->seed_first_cost = t->ts;
    }
    h->n_orders = at + n;
    h->offset[r + 1] = h->n_orders;
    return true;
}

static void cs_seed_drop(cs_import *im)
{
    if (im->seed) {
        cs_history_free(im->seed);
        cs_free(im->seed);
        im->seed = NULL;
    }
}

static int cs_import_write_orders(cs_import *im)
{
    custscore *db = im->db;
    /* Customers first (new ones in key order), then the orders grouped by
     * customer in id order and by key within a customer: the customer
     * table, its key index and the orders table (keyed by customer and
     * order key) all grow at their ends instead of at random places. */
    cs_cust_ref *by_id;
    int rc = cs_import_resolve_customers(im, &by_id);
    if (rc)
        return rc;
    size_t *start = NULL;
    uint32_t *perm = cs_lines_by_customer(im, by_id, &start);
    cs_order_batch *batch = cs_calloc(1, sizeof *batch);
    if (!perm || !batch) {
        cs_free(by_id);
        cs_free(perm);
        cs_free(start);
        cs_free(batch);
        return cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
    }
    cs_order_out *buf = NULL, *tmp = NULL;
    size_t buf_cap = 0, tmp_cap = 0;
    size_t nc = im->customers.count;
    if (im->orders_table_empty && im->customers_table_empty)
        im->seed = cs_seed_begin(im, by_id);
    for (size_t r = 0; r < nc && rc == CUSTSCORE_OK; r++) {
        size_t a = start[r], b = start[r + 1];
        /* The lines are visited in customer order, scattered over the
         * file-order arrays (hundreds of MB for millions of lines): fetch
         * the next customer's, or every read waits for a cache miss. */
        if (r + 1 < nc) {
            size_t na = start[r + 1], nb = start[r + 2];
            for (size_t k = na; k < nb && k < na + 16; k++) {
                CS_PREFETCH(&im->line[perm[k]]);
                CS_PREFETCH(im->keys + im->line[perm[k]].key_off);
            }
        }
        if (a == b) {
            if (im->seed)
                im->seed->offset[r + 1] = im->seed->n_orders;
            continue;
        }
        size_t n = 0;
        rc = cs_customer_orders(im, perm, a, b, &buf, &buf_cap, &n);
        if (rc)
            break;
        if (im->seed && !cs_seed_add(im, r, buf, n, &tmp, &tmp_cap))
            cs_seed_drop(im); /* out of memory: the next call loads instead */
        uint32_t c = by_id[r].index;
        bool fresh = im->orders_table_empty || im->cust_state[c] == 2;
        rc = cs_write_customer_orders(im, batch, by_id[r].id, fresh, buf, n);
    }
    if (rc == CUSTSCORE_OK)
        rc = cs_order_batch_flush(im, batch);
    sqlite3_finalize(batch->many);
    cs_free(batch);
    cs_free(buf);
    cs_free(tmp);
    cs_free(by_id);
    cs_free(perm);
    cs_free(start);
    return rc;
}

static int cs_import_customer_record(cs_import *im, const cs_csv_record *rec)
{
    bool ok;
    const char *cust;
    size_t cust_len;
    int rc = cs_key_field(im, rec, F_CUSTOMER, &cust, &cust_len, &ok);
    if (rc || !ok)
        return rc;
    int64_t created = 0;
    if (im->col[F_CREATED] >= 0) {
        size_t len;
        const char *s = cs_get(im, rec, F_CREATED, &len);
        if (!cs_blank(s, len)) {
            rc = cs_time_field(im, rec, F_CREATED, &created, &ok);
            if (rc || !ok)
                return rc;
        }
    }
    /* Validate every attribute cell before writing anything of the row. */
    for (size_t c = 0; c < rec->nfields && c < im->ncols; c++) {
        if (!im->is_attr[c])
            continue;
        if (rec->len[c] > CUSTSCORE_MAX_KEY || !cs_utf8_valid(rec->field[c], rec->len[c]))
            return cs_reject(im, rec, (int)c + 1, im->header ? im->header[c] : "attribute",
                             rec->field[c], rec->len[c],
                             "attribute value must be 0..255 bytes of UTF-8");
    }
    custscore *db = im->db;
    int64_t id;
    bool is_new = false;
    rc = cs_customer_id(db, cust, cust_len, false, &id);
    if (rc == CUSTSCORE_ENOTFOUND) {
        cs_clear_error(db);
        rc = cs_customer_id(db, cust, cust_len, true, &id);
        is_new = true;
    }
    if (rc)
        return rc;
    if (created != 0) {
        rc = cs_customer_set_created(db, id, created);
        if (rc)
            return rc;
    }
    for (size_t c = 0; c < rec->nfields && c < im->ncols; c++) {
        if (!im->is_attr[c] || cs_blank(rec->field[c], rec->len[c]))
            continue;
        double number;
        const char *why;
        const char *name = im->header[c];
        bool is_number = cs_parse_double(rec->field[c], rec->len[c], &number, &why) == 0;
        rc = cs_attribute_put(db, id, name, strlen(name), rec->field[c], rec->len[c], number,
                              !is_number);
        if (rc)
            return rc;
    }
    cs_count_row(im, !is_new);
    return CUSTSCORE_OK;
}

static int cs_put_response(cs_import *im, int64_t id, int64_t ts, const char *item, size_t item_len,
                           double value)
{
    bool replaced;
    int rc = cs_response_put(im->db, id, ts, item, item_len, value, &replaced);
    if (rc)
        return rc;
    cs_count_row(im, replaced);
    return CUSTSCORE_OK;
}

static int cs_import_response_record(cs_import *im, const cs_csv_record *rec)
{
    bool ok;
    const char *cust;
    size_t cust_len;
    int rc = cs_key_field(im, rec, F_CUSTOMER, &cust, &cust_len, &ok);
    if (rc || !ok)
        return rc;
    int64_t ts = im->opt->default_ts;
    if (im->col[F_TS] >= 0) {
        rc = cs_time_field(im, rec, F_TS, &ts, &ok);
        if (rc || !ok)
            return rc;
    } else if (ts == 0) {
        ts = (int64_t)time(NULL);
    }
    int64_t id;
    if (!im->opt->wide) {
        const char *item;
        size_t item_len;
        rc = cs_key_field(im, rec, F_ITEM, &item, &item_len, &ok);
        if (rc || !ok)
            return rc;
        size_t vlen;
        const char *v = cs_get(im, rec, F_VALUE, &vlen);
        if (cs_blank(v, vlen))
            return CUSTSCORE_OK; /* a missing answer: nothing to store */
        double value;
        rc = cs_number_field(im, rec, F_VALUE, &value, &ok);
        if (rc || !ok)
            return rc;
        size_t cindex = 0;
        bool is_new;
        rc = cs_import_customer(im, cust, cust_len, &cindex);
        if (rc == 0)
            rc = cs_import_customer_id(im, cindex, &id, &is_new);
        if (rc == 0)
            rc = cs_put_response(im, id, ts, item, item_len, value);
        return rc;
    }
    /* Wide: validate every answer first, then write. */
    for (size_t c = 0; c < im->ncols; c++) {
        if (!im->is_attr[c] || cs_blank(rec->field[c], rec->len[c]))
            continue;
        double value;
        const char *why;
        if (cs_parse_double(rec->field[c], rec->len[c], &value, &why) != 0)
            return cs_reject(im, rec, (int)c + 1, im->header[c], rec->field[c], rec->len[c], why);
    }
    size_t cindex = 0;
    bool is_new;
    rc = cs_import_customer(im, cust, cust_len, &cindex);
    if (rc == 0)
        rc = cs_import_customer_id(im, cindex, &id, &is_new);
    for (size_t c = 0; rc == 0 && c < im->ncols; c++) {
        if (!im->is_attr[c] || cs_blank(rec->field[c], rec->len[c]))
            continue;
        double value;
        const char *why;
        cs_parse_double(rec->field[c], rec->len[c], &value, &why);
        rc = cs_put_response(im, id, ts, im->header[c], strlen(im->header[c]), value);
    }
    return rc;
}

static int cs_import_complaint_record(cs_import *im, const cs_csv_record *rec)
{
    bool ok;
    const char *cust;
    size_t cust_len;
    int rc = cs_key_field(im, rec, F_CUSTOMER, &cust, &cust_len, &ok);
    if (rc || !ok)
        return rc;
    int64_t ts, resolved = 0;
    rc = cs_time_field(im, rec, F_TS, &ts, &ok);
    if (rc || !ok)
        return rc;
    double severity = 1.0;
    size_t len;
    const char *s;
    if (im->col[F_SEVERITY] >= 0 && (s = cs_get(im, rec, F_SEVERITY, &len), !cs_blank(s, len))) {
        rc = cs_number_field(im, rec, F_SEVERITY, &severity, &ok);
        if (rc || !ok)
            return rc;
    }
    if (im->col[F_RESOLVED] >= 0 && (s = cs_get(im, rec, F_RESOLVED, &len), !cs_blank(s, len))) {
        rc = cs_time_field(im, rec, F_RESOLVED, &resolved, &ok);
        if (rc || !ok)
            return rc;
        if (resolved < ts)
            return cs_reject(im, rec, im->col[F_RESOLVED] + 1, "resolved", s, len,
                             "resolved before the complaint was made");
    }
    size_t cindex = 0;
    int64_t id;
    bool is_new, replaced;
    rc = cs_import_customer(im, cust, cust_len, &cindex);
    if (rc == 0)
        rc = cs_import_customer_id(im, cindex, &id, &is_new);
    if (rc == 0)
        rc = cs_complaint_put(im->db, id, ts, severity, resolved, &replaced);
    if (rc == 0)
        cs_count_row(im, replaced);
    return rc;
}

/* Whether the orders (or customers) table holds no row yet. */
static int cs_table_empty(custscore *db, bool customers, bool *empty)
{
    sqlite3_stmt *st;
    int rc = cs_prepare(db,
                        customers ? "SELECT NOT EXISTS (SELECT 1 FROM customer)"
                                  : "SELECT NOT EXISTS (SELECT 1 FROM orders)",
                        &st);
    if (rc)
        return rc;
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *empty = sqlite3_column_int(st, 0) != 0;
    else
        rc = cs_sqlite_error(db, src, "reading the store");
    sqlite3_finalize(st);
    return rc;
}

/* After this many records of a large input, size the order map and the
 * order array for the whole input (growing them by doubling copies and
 * rehashes them many times over a file of millions of lines). */
#define CS_RESERVE_AFTER 8192

static int cs_import_reserve(cs_import *im)
{
    if (im->input_size <= 0 || im->raw_bytes == 0 || im->nline == 0)
        return CUSTSCORE_OK;
    double scale = (double)im->input_size / (double)im->raw_bytes * 1.05;
    double lines = (double)im->nline * scale + 1024;
    if (lines <= (double)im->line_cap || lines > (double)(UINT32_MAX - 1))
        return CUSTSCORE_OK;
    size_t n = (size_t)lines;
    cs_line *l = cs_reallocarray(im->line, n, sizeof *l);
    if (!l)
        return cs_error(im->db, CUSTSCORE_ENOMEM, "%s: out of memory for an estimated %zu lines",
                        im->name, n);
    im->line = l;
    im->line_cap = n;
    size_t key_bytes = (size_t)((double)im->keys_len * scale) + 4096;
    if (key_bytes > im->keys_cap) {
        char *k = cs_reallocarray(im->keys, key_bytes, 1);
        if (!k)
            return cs_error(im->db, CUSTSCORE_ENOMEM,
                            "%s: out of memory for an estimated %zu bytes of order keys", im->name,
                            key_bytes);
        im->keys = k;
        im->keys_cap = key_bytes;
    }
    return CUSTSCORE_OK;
}

static int cs_import_run(cs_import *im)
{
    custscore *db = im->db;
    cs_csv_record rec;
    int rc;
    if (!im->opt->no_header) {
        rc = cs_read_header(im, &rec);
        if (rc)
            return rc;
    }
    rc = cs_import_resolve(im);
    if (rc)
        return rc;
    int max_col = -1;
    for (int f = 0; f < F__COUNT; f++)
        if (im->col[f] > max_col)
            max_col = im->col[f];
    if (im->opt->skip_bad && im->opt->rejects_path) {
        im->rejects = fopen(im->opt->rejects_path, "w");
        if (!im->rejects)
            return cs_error(db, CUSTSCORE_EIO, "%s: cannot create the rejects file",
                            im->opt->rejects_path);
        fputs("line,column,reason,record\n", im->rejects);
    }
    rc = cs_tx_begin(db);
    if (rc)
        return rc;
    if (im->kind == CUSTSCORE_KIND_ORDERS) {
        rc = cs_table_empty(db, false, &im->orders_table_empty);
        if (rc == 0)
            rc = cs_table_empty(db, true, &im->customers_table_empty);
    }
    while (rc == 0) {
        int bad_col = 0;
        const char *why = NULL;
        int got = cs_csv_next(im->csv, &rec, &bad_col, &why);
        if (got == 0)
            break;
        if (got < 0) {
            rc = cs_error(db, got, "%s: %s", im->name, cs_csv_error(im->csv));
            break;
        }
        im->report->records++;
        if (got == CS_CSV_BAD_RECORD) {
            rc = cs_reject(im, &rec, bad_col, NULL, NULL, 0, why);
            continue;
        }
        /* Column count: the header's when there is one, else enough for the map. */
        size_t want = im->header ? im->ncols : (size_t)(max_col + 1);
        if (rec.nfields != want && (im->header || rec.nfields < want)) {
            char why_cols[96];
            snprintf(why_cols, sizeof why_cols, "wrong number of columns: %zu, expected %zu",
                     rec.nfields, want);
            rc = cs_reject(im, &rec, (int)(rec.nfields < want ? rec.nfields : want) + 1, NULL, NULL,
                           0, why_cols);
            continue;
        }
        /* Invalid UTF-8 anywhere in the record. */
        bool utf8_bad = false;
        for (size_t c = 0; c < rec.nfields && !utf8_bad; c++) {
            if (!cs_utf8_valid(rec.field[c], rec.len[c])) {
                utf8_bad = true;
                rc = cs_reject(im, &rec, (int)c + 1,
                               im->header && c < im->ncols ? im->header[c] : NULL, rec.field[c],
                               rec.len[c], "invalid UTF-8");
            }
        }
        if (utf8_bad)
            continue;
        switch (im->kind) {
        case CUSTSCORE_KIND_ORDERS:
            rc = cs_import_order_record(im, &rec);
            im->raw_bytes += rec.raw_len + 1;
            if (rc == 0 && im->report->records == CS_RESERVE_AFTER)
                rc = cs_import_reserve(im);
            break;
        case CUSTSCORE_KIND_CUSTOMERS:
            rc = cs_import_customer_record(im, &rec);
            break;
        case CUSTSCORE_KIND_RESPONSES:
            rc = cs_import_response_record(im, &rec);
            break;
        case CUSTSCORE_KIND_COMPLAINTS:
            rc = cs_import_complaint_record(im, &rec);
            break;
        }
    }
    if (rc == 0 && im->kind == CUSTSCORE_KIND_ORDERS)
        rc = cs_import_staged(im);
    if (rc == 0 && im->kind == CUSTSCORE_KIND_ORDERS)
        rc = cs_import_write_orders(im);
    if (rc == 0 && im->rejects && fflush(im->rejects) != 0)
        rc =
            cs_error(db, CUSTSCORE_EIO, "%s: cannot write the rejects file", im->opt->rejects_path);
    /* Other connections cannot commit while this one holds the write lock:
     * the version read now is the one the store has after this commit. */
    int64_t version = im->seed && rc == 0 ? cs_data_version(db) : -1;
    rc = cs_tx_end(db, rc);
    if (rc == 0 && im->seed && version >= 0) {
        cs_history_cache_install(db, im->seed, im->seed_first_cost, version);
        im->seed = NULL;
    }
    return rc;
}

static int cs_import_any(custscore *db, custscore_kind kind, const char *path, const char *data,
                         size_t size, const char *name, const custscore_import_options *options,
                         custscore_import_report *report)
{
    custscore_import_report local_report;
    if (!report)
        report = &local_report;
    memset(report, 0, sizeof *report);
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    custscore_import_options defaults = CUSTSCORE_IMPORT_OPTIONS_INIT;
    if (!options)
        options = &defaults;
    if (options->version != CUSTSCORE_IMPORT_OPTIONS_VERSION)
        return cs_error(db, CUSTSCORE_EINVAL,
                        "import options: version %u, this library knows version %u (initialise "
                        "with CUSTSCORE_IMPORT_OPTIONS_INIT)",
                        options->version, CUSTSCORE_IMPORT_OPTIONS_VERSION);
    if (kind < CUSTSCORE_KIND_ORDERS || kind > CUSTSCORE_KIND_COMPLAINTS)
        return cs_error(db, CUSTSCORE_EINVAL, "import: unknown kind %d", (int)kind);
    if (options->wide && kind != CUSTSCORE_KIND_RESPONSES)
        return cs_error(db, CUSTSCORE_EINVAL, "import: the wide form is for responses only");
    int rc = cs_check_writable(db);
    if (rc)
        return rc;
    cs_import im = {.db = db, .kind = kind, .opt = options, .report = report};
    im.name = path ? (strcmp(path, "-") == 0 ? "<stdin>" : path) : (name ? name : "<memory>");
    cs_strmap_init(&im.customers);
    char err[512] = "";
    struct stat sb;
    if (path && strcmp(path, "-") != 0 && stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
        im.input_size = (int64_t)sb.st_size;
    else if (!path)
        im.input_size = (int64_t)size;
    rc = cs_csv_open(&im.csv, path, data, size, options->delimiter, options->whitespace != 0, err,
                     sizeof err);
    if (rc) {
        cs_error(db, rc, "%s", err);
    } else {
        rc = cs_import_run(&im);
        report->lines = cs_csv_lines(im.csv);
        /* Store errors (full disk, lock, I/O) say what was being done; name
         * the import they stopped. */
        size_t name_len = strlen(im.name);
        if (rc && db->errmsg[0] && strncmp(db->errmsg, im.name, name_len) != 0) {
            char tmp[CS_ERRMSG_SIZE];
            snprintf(tmp, sizeof tmp, "%s", db->errmsg);
            cs_error(db, rc, "%s: import rolled back: %s", im.name, tmp);
        }
    }
    if (rc) {
        /* Rolled back: nothing was added or replaced. */
        report->added = 0;
        report->replaced = 0;
    }
    if (im.rejects && fclose(im.rejects) != 0 && rc == 0)
        rc =
            cs_error(db, CUSTSCORE_EIO, "%s: cannot write the rejects file", options->rejects_path);
    cs_csv_close(im.csv);
    if (im.header)
        for (size_t c = 0; c < im.ncols; c++)
            cs_free(im.header[c]);
    cs_free(im.header);
    cs_free(im.is_attr);
    cs_seed_drop(&im);
    cs_free(im.staged);
    cs_free(im.line);
    cs_free(im.keys);
    cs_free(im.synth);
    cs_strmap_free(&im.customers);
    cs_free(im.cust_state);
    return rc;
}

int custscore_import_csv(custscore *db, custscore_kind kind, const char *path,
                         const custscore_import_options *options, custscore_import_report *report)
{
    if (!path) {
        if (report)
            memset(report, 0, sizeof *report);
        if (db)
            return cs_error(db, CUSTSCORE_EINVAL, "import: NULL path");
        return CUSTSCORE_EINVAL;
    }
    return cs_import_any(db, kind, path, NULL, 0, NULL, options, report);
}

int custscore_import_csv_buffer(custscore *db, custscore_kind kind, const char *data, size_t size,
                                const char *name, const custscore_import_options *options,
                                custscore_import_report *report)
{
    if (!data && size > 0) {
        if (report)
            memset(report, 0, sizeof *report);
        if (db)
            return cs_error(db, CUSTSCORE_EINVAL, "import: NULL data");
        return CUSTSCORE_EINVAL;
    }
    return cs_import_any(db, kind, NULL, data, size, name, options, report);
}
