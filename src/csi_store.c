/*
 * csi_store.c: the satisfaction index over the store's survey responses:
 * responses -> respondent x item matrix (one customer on one UTC day), the
 * index per period or attribute group, saving the fitted index weights with
 * the data (model row "csi:NAME"), and per-customer satisfaction from each
 * customer's latest answers.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------------- */
/* Responses as a matrix. */

void cs_response_matrix_free(cs_response_matrix *m)
{
    if (!m)
        return;
    cs_free(m->data);
    cs_free(m->customer_id);
    cs_free(m->ts);
    cs_free(m->key);
    cs_free(m->key_pool);
    memset(m, 0, sizeof *m);
}

typedef struct csi_item_ref {
    const char *name;
    size_t col;
} csi_item_ref;

static int csi_cmp_item_ref(const void *a, const void *b)
{
    return strcmp(((const csi_item_ref *)a)->name, ((const csi_item_ref *)b)->name);
}

static int csi_matrix_add_row(cs_response_matrix *m, size_t *cap)
{
    if (m->n_rows == *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        double *d = cs_reallocarray(m->data, ncap, m->n_cols * sizeof(double));
        if (!d)
            return CUSTSCORE_ENOMEM;
        m->data = d;
        int64_t *id = cs_reallocarray(m->customer_id, ncap, sizeof(int64_t));
        if (!id)
            return CUSTSCORE_ENOMEM;
        m->customer_id = id;
        int64_t *ts = cs_reallocarray(m->ts, ncap, sizeof(int64_t));
        if (!ts)
            return CUSTSCORE_ENOMEM;
        m->ts = ts;
        char **key = cs_reallocarray(m->key, ncap, sizeof(char *));
        if (!key)
            return CUSTSCORE_ENOMEM;
        m->key = key;
        *cap = ncap;
    }
    for (size_t j = 0; j < m->n_cols; j++)
        m->data[m->n_rows * m->n_cols + j] = NAN;
    m->n_rows++;
    return CUSTSCORE_OK;
}

int cs_response_matrix_load(custscore *db, const char *const *items, size_t n_items, int64_t from,
                            int64_t to, cs_response_matrix *out)
{
    memset(out, 0, sizeof *out);
    out->n_cols = n_items;
    csi_item_ref *refs = cs_mallocarray(n_items ? n_items : 1, sizeof *refs);
    if (!refs)
        return cs_error(db, CUSTSCORE_ENOMEM, "loading survey responses: out of memory");
    for (size_t i = 0; i < n_items; i++) {
        refs[i].name = items[i];
        refs[i].col = i;
    }
    qsort(refs, n_items, sizeof *refs, csi_cmp_item_ref);
    sqlite3_stmt *st = NULL;
    int rc = cs_prepare(db,
                        "SELECT r.customer, c.key, r.ts, r.item, r.value"
                        " FROM response r JOIN customer c ON c.id = r.customer"
                        " WHERE r.ts >= ?1 AND r.ts <= ?2 ORDER BY c.key, r.ts, r.id",
                        &st);
    if (rc) {
        cs_free(refs);
        return rc;
    }
    sqlite3_bind_int64(st, 1, from ? from : INT64_MIN);
    sqlite3_bind_int64(st, 2, to ? to : INT64_MAX);
    size_t cap = 0, pool_len = 0, pool_cap = 0;
    int64_t cur_customer = 0, cur_day = 0;
    bool have_row = false;
    size_t *key_off = NULL; /* offsets into the pool until it stops moving */
    size_t key_off_cap = 0;
    size_t cur_key = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *item = (const char *)sqlite3_column_text(st, 3);
        if (!item)
            continue;
        csi_item_ref probe = {item, 0};
        const csi_item_ref *ref = bsearch(&probe, refs, n_items, sizeof *refs, csi_cmp_item_ref);
        if (!ref)
            continue;
        int64_t customer = sqlite3_column_int64(st, 0);
        int64_t ts = sqlite3_column_int64(st, 2);
        int64_t day = cs_day_of(ts);
        if (!have_row || customer != cur_customer) {
            const char *key = (const char *)sqlite3_column_text(st, 1);
            size_t len = key ? strlen(key) : 0;
            if (pool_len + len + 1 > pool_cap) {
                size_t ncap = pool_cap ? pool_cap * 2 : 4096;
                while (ncap < pool_len + len + 1)
                    ncap *= 2;
                char *pool = cs_reallocarray(out->key_pool, ncap, 1);
                if (!pool) {
                    rc = CUSTSCORE_ENOMEM;
                    break;
                }
                out->key_pool = pool;
                pool_cap = ncap;
            }
            memcpy(out->key_pool + pool_len, key ? key : "", len + 1);
            cur_key = pool_len;
            pool_len += len + 1;
        }
        if (!have_row || customer != cur_customer || day != cur_day) {
            rc = csi_matrix_add_row(out, &cap);
            if (rc)
                break;
            if (out->n_rows > key_off_cap) {
                size_t ncap = key_off_cap ? key_off_cap * 2 : 256;
                size_t *ko = cs_reallocarray(key_off, ncap, sizeof(size_t));
                if (!ko) {
                    rc = CUSTSCORE_ENOMEM;
                    break;
                }
                key_off = ko;
                key_off_cap = ncap;
            }
            key_off[out->n_rows - 1] = cur_key;
            out->customer_id[out->n_rows - 1] = customer;
            cur_customer = customer;
            cur_day = day;
            have_row = true;
        }
        size_t r = out->n_rows - 1;
        out->ts[r] = ts;
        out->data[r * n_items + ref->col] = sqlite3_column_double(st, 4);
    }
    if (rc == 0 && s != SQLITE_DONE)
        rc = cs_sqlite_error(db, s, "reading survey responses");
    sqlite3_finalize(st);
    cs_free(refs);
    if (rc == 0)
        for (size_t r = 0; r < out->n_rows; r++)
            out->key[r] = out->key_pool + key_off[r];
    cs_free(key_off);
    if (rc) {
        if (rc == CUSTSCORE_ENOMEM)
            cs_error(db, rc, "loading survey responses: out of memory");
        cs_response_matrix_free(out);
    }
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Groups */

/* Label and bounds of the period of day @day. */
static void csi_period(custscore_csi_group_by by, int64_t day, char *label, size_t size,
                       int64_t *start, int64_t *end)
{
    int64_t y;
    unsigned m, d;
    cs_civil_from_days(day, &y, &m, &d);
    unsigned m0 = 1, months = 12;
    if (by == CUSTSCORE_CSI_BY_MONTH) {
        snprintf(label, size, "%04lld-%02u", (long long)y, m);
        m0 = m;
        months = 1;
    } else if (by == CUSTSCORE_CSI_BY_QUARTER) {
        unsigned q = (m - 1) / 3 + 1;
        snprintf(label, size, "%04lld-Q%u", (long long)y, q);
        m0 = 3 * (q - 1) + 1;
        months = 3;
    } else {
        snprintf(label, size, "%04lld", (long long)y);
    }
    unsigned m1 = m0 + months;
    int64_t y1 = y + (m1 > 12);
    if (m1 > 12)
        m1 -= 12;
    *start = cs_days_from_civil(y, m0, 1) * CS_SECONDS_PER_DAY;
    *end = cs_days_from_civil(y1, m1, 1) * CS_SECONDS_PER_DAY;
}

typedef struct csi_attr {
    int64_t customer;
    char *value;
} csi_attr;

static int csi_cmp_attr(const void *a, const void *b)
{
    int64_t x = ((const csi_attr *)a)->customer, y = ((const csi_attr *)b)->customer;
    return (x > y) - (x < y);
}

static int csi_load_attribute(custscore *db, const char *name, csi_attr **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    int rc = cs_prepare(db, "SELECT customer, value FROM attribute WHERE name = ?1", &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    size_t cap = 0;
    csi_attr *a = NULL;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            csi_attr *q = cs_reallocarray(a, ncap, sizeof *a);
            if (!q) {
                rc = CUSTSCORE_ENOMEM;
                break;
            }
            a = q;
            cap = ncap;
        }
        char buf[64];
        const char *text = buf;
        int type = sqlite3_column_type(st, 1);
        if (type == SQLITE_INTEGER)
            snprintf(buf, sizeof buf, "%lld", (long long)sqlite3_column_int64(st, 1));
        else if (type == SQLITE_FLOAT)
            cs_snprintf_c(buf, sizeof buf, "%.15g", sqlite3_column_double(st, 1));
        else if (type == SQLITE_NULL)
            continue;
        else
            text = (const char *)sqlite3_column_text(st, 1);
        a[*n].customer = sqlite3_column_int64(st, 0);
        a[*n].value = cs_strdup(text ? text : "");
        if (!a[*n].value) {
            rc = CUSTSCORE_ENOMEM;
            break;
        }
        (*n)++;
    }
    if (rc == 0 && s != SQLITE_DONE)
        rc = cs_sqlite_error(db, s, "reading customer attributes");
    sqlite3_finalize(st);
    if (rc) {
        for (size_t i = 0; i < *n; i++)
            cs_free(a[i].value);
        cs_free(a);
        *n = 0;
        return rc == CUSTSCORE_ENOMEM ? cs_error(db, rc, "reading attributes: out of memory") : rc;
    }
    qsort(a, *n, sizeof *a, csi_cmp_attr);
    *out = a;
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */
/* Saving the fitted index weights: {"index":..,"n":..,"scheme":..,"weights":{..}} */

static void csi_json_string(cs_buf *b, const char *s)
{
    cs_buf_add(b, "\"", 1);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            cs_buf_printf(b, "\\%c", ch);
        else if (ch < 0x20)
            cs_buf_printf(b, "\\u%04x", ch);
        else
            cs_buf_add(b, s, 1);
    }
    cs_buf_add(b, "\"", 1);
}

static void csi_json_number(cs_buf *b, double v)
{
    if (isfinite(v))
        cs_buf_printf(b, "%.17g", v);
    else
        cs_buf_puts(b, "null");
}

static int csi_save_fit(custscore *db, const custscore_survey_model *model,
                        const custscore_csi_result *r, int64_t as_of)
{
    static const char *const schemes[] = {"", "path", "centroid", "factorial"};
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_puts(&b, "{\"index\":");
    csi_json_number(&b, r->overall.index);
    cs_buf_printf(&b, ",\"n\":%zu,\"scheme\":\"%s\",\"status\":%d,\"weights\":{", r->overall.n,
                  schemes[r->scheme], (int)r->overall.status);
    for (size_t i = 0; i < r->n_items; i++) {
        if (i)
            cs_buf_puts(&b, ",");
        csi_json_string(&b, r->item_names[i]);
        cs_buf_puts(&b, ":");
        csi_json_number(&b, r->overall.weights[i]);
    }
    cs_buf_puts(&b, "}}");
    /* The info column is JSON for every model row (other modules query it
     * with json_extract). */
    cs_buf info;
    cs_buf_init(&info);
    cs_buf_puts(&info, "{\"family\":\"csi\",\"message\":");
    csi_json_string(&info, r->overall.message ? r->overall.message : "");
    cs_buf_puts(&info, "}");
    char *name = NULL;
    size_t n = strlen("csi:") + strlen(model->name) + 1;
    if (!b.failed && !info.failed)
        name = cs_malloc(n);
    int rc = CUSTSCORE_OK;
    if (!name) {
        rc = cs_error(db, CUSTSCORE_ENOMEM, "saving the index: out of memory");
    } else {
        snprintf(name, n, "csi:%s", model->name);
        sqlite3_stmt *st = NULL;
        rc = cs_prepare(db,
                        "INSERT INTO model(name, fitted_at, as_of, unit, params, n, info)"
                        " VALUES (?1, ?2, ?3, 'none', ?4, ?5, ?6)",
                        &st);
        if (rc == 0) {
            sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
            sqlite3_bind_int64(st, 3, as_of);
            sqlite3_bind_text(st, 4, b.data, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 5, (int64_t)r->overall.n);
            sqlite3_bind_text(st, 6, info.data, -1, SQLITE_STATIC);
            int s = sqlite3_step(st);
            if (s != SQLITE_DONE)
                rc = cs_sqlite_error(db, s, "saving the index");
            sqlite3_finalize(st);
        }
    }
    cs_free(name);
    cs_buf_free(&b);
    cs_buf_free(&info);
    return rc;
}

/* Parse a JSON string at *p (after the opening quote) into buf. */
static bool csi_json_read_string(const char **p, char *buf, size_t size)
{
    const char *s = *p;
    size_t n = 0;
    while (*s && *s != '"') {
        char ch = *s++;
        if (ch == '\\') {
            if (*s == 'u') {
                unsigned v = 0;
                for (int i = 1; i <= 4; i++) {
                    char h = s[i];
                    v = v * 16 + (unsigned)(h >= '0' && h <= '9'   ? h - '0'
                                            : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                            : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                                                   : 0);
                }
                s += 5;
                ch = (char)(v & 0x7f);
            } else {
                ch = *s ? *s++ : '\0';
            }
        }
        if (n + 1 >= size)
            return false;
        buf[n++] = ch;
    }
    if (*s != '"')
        return false;
    buf[n] = '\0';
    *p = s + 1;
    return true;
}

/* Weights of the target items saved with the latest index of @model into
 * w[i] (per model item; NaN when not saved). Returns 0 with *found. */
static int csi_saved_weights(custscore *db, const custscore_survey_model *model, double *w,
                             bool *found)
{
    *found = false;
    size_t n = strlen("csi:") + strlen(model->name) + 1;
    char *name = cs_malloc(n);
    if (!name)
        return cs_error(db, CUSTSCORE_ENOMEM, "reading the saved index: out of memory");
    snprintf(name, n, "csi:%s", model->name);
    sqlite3_stmt *st = NULL;
    int rc = cs_prepare(db,
                        "SELECT params FROM model WHERE name = ?1"
                        " ORDER BY fitted_at DESC, id DESC LIMIT 1",
                        &st);
    if (rc) {
        cs_free(name);
        return rc;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(st, 0);
        const char *p = text ? strstr(text, "\"weights\":{") : NULL;
        if (p) {
            p += strlen("\"weights\":{");
            char item[CUSTSCORE_MAX_KEY + 1];
            while (*p == '"') {
                p++;
                if (!csi_json_read_string(&p, item, sizeof item) || *p != ':')
                    break;
                p++;
                char *end = NULL;
                double v = cs_strtod_c(p, &end); /* '.' whatever the host's locale */
                if (end == p) {
                    v = NAN;
                    end = (char *)p + (strncmp(p, "null", 4) == 0 ? 4 : 0);
                }
                p = end;
                int i = cs_survey_find_item(model, item);
                if (i >= 0) {
                    w[i] = v;
                    *found = true;
                }
                if (*p == ',')
                    p++;
            }
        }
    } else if (s != SQLITE_DONE) {
        rc = cs_sqlite_error(db, s, "reading the saved index");
    }
    sqlite3_finalize(st);
    cs_free(name);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* The index from the store. */

static const char **csi_item_names(const custscore_survey_model *m, const char *nps_item, size_t *n)
{
    const char **names = cs_mallocarray(m->n_items + 1, sizeof(char *));
    if (!names)
        return NULL;
    for (size_t i = 0; i < m->n_items; i++)
        names[i] = m->items[i].name;
    *n = m->n_items;
    if (nps_item && cs_survey_find_item(m, nps_item) < 0)
        names[(*n)++] = nps_item;
    return names;
}

int custscore_csi_compute(custscore *db, const custscore_survey_model *model,
                          const custscore_csi_options *options, custscore_csi_result **out)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!out || !model)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_csi_compute: NULL argument");
    *out = NULL;
    custscore_csi_options o = CUSTSCORE_CSI_OPTIONS_INIT;
    if (options)
        o = *options;
    if (o.version != CUSTSCORE_CSI_OPTIONS_VERSION)
        return cs_error(db, CUSTSCORE_EINVAL, "csi options: version %u, expected %u", o.version,
                        CUSTSCORE_CSI_OPTIONS_VERSION);
    if (o.by < CUSTSCORE_CSI_BY_NONE || o.by > CUSTSCORE_CSI_BY_ATTRIBUTE)
        return cs_error(db, CUSTSCORE_EINVAL, "csi options: unknown grouping %d", (int)o.by);
    if (o.by == CUSTSCORE_CSI_BY_ATTRIBUTE && (!o.by_attribute || !*o.by_attribute))
        return cs_error(db, CUSTSCORE_EINVAL, "csi options: grouping by attribute needs its name");
    /* 0 means unbounded (and is inside the range). */
    int rc = cs_check_as_of(db, o.from, "csi options: from");
    if (rc == 0)
        rc = cs_check_as_of(db, o.to, "csi options: to");
    if (rc)
        return rc;
    if (o.to && o.from > o.to)
        return cs_error(db, CUSTSCORE_EINVAL, "csi options: from is after to");
    char err[1024];
    rc = cs_survey_check(model, err, sizeof err);
    if (rc)
        return cs_error(db, rc, "%s", err);
    const char *nps_item = o.nps_item ? o.nps_item : model->nps_item;
    size_t n_cols = 0;
    const char **names = csi_item_names(model, nps_item, &n_cols);
    if (!names)
        return cs_error(db, CUSTSCORE_ENOMEM, "csi: out of memory");
    /* Whole UTC days: from the start of from's day to the end of to's. */
    int64_t from_ts = o.from ? cs_day_of(o.from) * CS_SECONDS_PER_DAY : 0;
    int64_t to_ts = o.to ? (cs_day_of(o.to) + 1) * CS_SECONDS_PER_DAY - 1 : 0;
    cs_response_matrix rm;
    rc = cs_response_matrix_load(db, names, n_cols, from_ts, to_ts, &rm);
    if (rc) {
        cs_free(names);
        return rc;
    }
    const char **labels = NULL;
    char *label_pool = NULL;
    csi_attr *attrs = NULL;
    size_t n_attrs = 0;
    int64_t *bounds = NULL;
    if (rm.n_rows == 0) {
        rc =
            cs_error(db, CUSTSCORE_ENOTFOUND, "csi: no survey responses to the items of model %s%s",
                     model->name, o.from || o.to ? " in the period asked" : "");
        goto done;
    }
    /* An item nobody answered is a mapping mistake, not a missing answer. */
    for (size_t j = 0; j < model->n_items; j++) {
        size_t answers = 0;
        for (size_t r = 0; r < rm.n_rows && answers == 0; r++)
            answers += !isnan(rm.data[r * rm.n_cols + j]);
        if (answers == 0) {
            const cs_survey_item *it = &model->items[j];
            rc = cs_error(db, CUSTSCORE_EINVAL,
                          "csi: item %s (construct %s) is not among the survey responses%s; map "
                          "the items with --items %s=ITEM+ITEM",
                          it->name, model->constructs[it->construct].name,
                          o.from || o.to ? " of the period asked" : "",
                          model->constructs[it->construct].name);
            goto done;
        }
    }
    if (o.by != CUSTSCORE_CSI_BY_NONE) {
        labels = cs_calloc(rm.n_rows, sizeof(char *));
        if (!labels) {
            rc = cs_error(db, CUSTSCORE_ENOMEM, "csi: out of memory");
            goto done;
        }
        if (o.by == CUSTSCORE_CSI_BY_ATTRIBUTE) {
            rc = csi_load_attribute(db, o.by_attribute, &attrs, &n_attrs);
            if (rc)
                goto done;
            for (size_t r = 0; r < rm.n_rows; r++) {
                csi_attr probe = {rm.customer_id[r], NULL};
                const csi_attr *a = bsearch(&probe, attrs, n_attrs, sizeof *attrs, csi_cmp_attr);
                labels[r] = a ? a->value : NULL;
            }
        } else {
            label_pool = cs_mallocarray(rm.n_rows, 32);
            bounds = cs_mallocarray(rm.n_rows, 2 * sizeof(int64_t));
            if (!label_pool || !bounds) {
                rc = cs_error(db, CUSTSCORE_ENOMEM, "csi: out of memory");
                goto done;
            }
            for (size_t r = 0; r < rm.n_rows; r++) {
                csi_period(o.by, cs_day_of(rm.ts[r]), label_pool + r * 32, 32, &bounds[2 * r],
                           &bounds[2 * r + 1]);
                labels[r] = label_pool + r * 32;
            }
        }
    }
    rc = custscore_csi_fit(model, rm.data, rm.n_rows, rm.n_cols, names, labels, &o, out, err,
                           sizeof err);
    if (rc && rc != CUSTSCORE_ENOCONV) {
        cs_error(db, rc, "csi: %s", err);
        goto done;
    }
    if (bounds)
        for (size_t g = 0; g < (*out)->n_groups; g++)
            for (size_t r = 0; r < rm.n_rows; r++)
                if (strcmp(labels[r], (*out)->groups[g].group) == 0) {
                    (*out)->groups[g].period_start = bounds[2 * r];
                    (*out)->groups[g].period_end = bounds[2 * r + 1];
                    break;
                }
    if (rc == CUSTSCORE_ENOCONV) {
        cs_error(db, rc, "csi: %s", err);
        goto done;
    }
    if (o.save) {
        int64_t as_of = to_ts;
        if (!as_of)
            for (size_t r = 0; r < rm.n_rows; r++)
                as_of = rm.ts[r] > as_of ? rm.ts[r] : as_of;
        rc = cs_tx_begin(db);
        if (rc == 0) {
            rc = custscore_survey_model_save(db, model);
            if (rc == 0)
                rc = csi_save_fit(db, model, *out, as_of);
            rc = cs_tx_end(db, rc);
        }
        if (rc) {
            custscore_csi_result_free(*out);
            *out = NULL;
        }
    }
done:
    if (attrs)
        for (size_t i = 0; i < n_attrs; i++)
            cs_free(attrs[i].value);
    cs_free(attrs);
    cs_free(labels);
    cs_free(label_pool);
    cs_free(bounds);
    cs_free(names);
    cs_response_matrix_free(&rm);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Per-customer satisfaction. */

/* Index weights of the target items, per model item (NaN elsewhere). */
static int csi_customer_weights(custscore *db, const custscore_survey_model *m,
                                const custscore_csi_result *fit, double *w)
{
    size_t t = (size_t)m->target;
    for (size_t i = 0; i < m->n_items; i++)
        w[i] = NAN;
    bool found = false;
    if (fit) {
        for (size_t j = 0; j < fit->n_items; j++) {
            int i = cs_survey_find_item(m, fit->item_names[j]);
            if (i >= 0 && m->items[i].construct == (int)t) {
                w[i] = fit->overall.weights[j];
                found = true;
            }
        }
    } else {
        int rc = csi_saved_weights(db, m, w, &found);
        if (rc)
            return rc;
    }
    /* Usable only when every target item has a non-negative weight. */
    for (size_t i = 0; i < m->n_items && found; i++)
        if (m->items[i].construct == (int)t && !(w[i] >= 0))
            found = false;
    if (!found) {
        /* Fixed weights: equal unless the model gives weights. */
        for (size_t i = 0; i < m->n_items; i++)
            w[i] = m->items[i].construct == (int)t ? m->items[i].weight : NAN;
    }
    return CUSTSCORE_OK;
}

int cs_csi_customer_scores(custscore *db, const custscore_survey_model *m,
                           const custscore_csi_result *fit, int64_t as_of, cs_csi_score **out,
                           size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    char err[512];
    int rc = cs_survey_check(m, err, sizeof err);
    if (rc)
        return cs_error(db, rc, "%s", err);
    size_t t = (size_t)m->target, nt = 0;
    double *w = cs_mallocarray(m->n_items, sizeof(double));
    const char **names = cs_mallocarray(m->n_items, sizeof(char *));
    size_t *item_of = cs_mallocarray(m->n_items, sizeof(size_t));
    if (!w || !names || !item_of) {
        rc = cs_error(db, CUSTSCORE_ENOMEM, "satisfaction scores: out of memory");
        goto done;
    }
    rc = csi_customer_weights(db, m, fit, w);
    if (rc)
        goto done;
    for (size_t i = 0; i < m->n_items; i++)
        if (m->items[i].construct == (int)t) {
            names[nt] = m->items[i].name;
            item_of[nt++] = i;
        }
    cs_response_matrix rm;
    int64_t to_ts = as_of ? (cs_day_of(as_of) + 1) * CS_SECONDS_PER_DAY - 1 : 0;
    rc = cs_response_matrix_load(db, names, nt, 0, to_ts, &rm);
    if (rc)
        goto done;
    cs_csi_score *scores = cs_mallocarray(rm.n_rows ? rm.n_rows : 1, sizeof *scores);
    if (!scores) {
        cs_response_matrix_free(&rm);
        rc = cs_error(db, CUSTSCORE_ENOMEM, "satisfaction scores: out of memory");
        goto done;
    }
    size_t n = 0;
    for (size_t r = 0; r < rm.n_rows; r++) {
        /* Rows are by customer key, then time: the last row of a customer is
         * its latest day with answers. */
        if (r + 1 < rm.n_rows && rm.customer_id[r + 1] == rm.customer_id[r])
            continue;
        double sum = 0, wsum = 0;
        for (size_t j = 0; j < nt; j++) {
            double v = rm.data[r * nt + j];
            if (isnan(v))
                continue;
            const cs_survey_item *it = &m->items[item_of[j]];
            double span = it->max - it->min, eps = 1e-9 * span;
            if (!(v >= it->min - eps && v <= it->max + eps)) {
                rc = cs_error(db, CUSTSCORE_EINVAL,
                              "customer %s: item %s: answer %g is outside the item's scale %g..%g",
                              rm.key[r], it->name, v, it->min, it->max);
                break;
            }
            double s = it->reversed ? (it->max - v) / span : (v - it->min) / span;
            double wi = w[item_of[j]];
            sum += wi * 100.0 * fmin(1.0, fmax(0.0, s));
            wsum += wi;
        }
        if (rc)
            break;
        if (!(wsum > 0))
            continue;
        scores[n].customer_id = rm.customer_id[r];
        scores[n].ts = rm.ts[r];
        scores[n].satisfaction = sum / wsum;
        n++;
    }
    cs_response_matrix_free(&rm);
    if (rc) {
        cs_free(scores);
        goto done;
    }
    *out = scores;
    *n_out = n;
done:
    cs_free(w);
    cs_free(names);
    cs_free(item_of);
    return rc;
}

int custscore_csi_customers(custscore *db, const custscore_survey_model *model,
                            const custscore_csi_result *fit, int64_t as_of,
                            custscore_csi_customer_fn fn, void *payload)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!model || !fn)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_csi_customers: NULL argument");
    /* 0 (no bound) is inside the range. */
    int rc = cs_check_as_of(db, as_of, "custscore_csi_customers: as-of time");
    if (rc)
        return rc;
    cs_csi_score *scores = NULL;
    size_t n = 0;
    rc = cs_csi_customer_scores(db, model, fit, as_of, &scores, &n);
    if (rc)
        return rc;
    /* Keys: the scores follow key order; fetch each key by id. */
    sqlite3_stmt *st = NULL;
    rc = cs_prepare(db, "SELECT key FROM customer WHERE id = ?1", &st);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, scores[i].customer_id);
        int s = sqlite3_step(st);
        if (s != SQLITE_ROW) {
            rc = cs_sqlite_error(db, s == SQLITE_DONE ? SQLITE_CORRUPT : s,
                                 "reading a customer key");
            break;
        }
        char key[CUSTSCORE_MAX_KEY + 1];
        const char *k = (const char *)sqlite3_column_text(st, 0);
        snprintf(key, sizeof key, "%s", k ? k : "");
        sqlite3_reset(st);
        rc = fn(key, scores[i].ts, scores[i].satisfaction, payload);
    }
    sqlite3_finalize(st);
    cs_free(scores);
    return rc;
}
