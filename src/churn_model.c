/*
 * churn_model.c: the churn model in memory (cs_churn_model), its model card
 * as JSON in the store's `model` table (params: features, coefficients,
 * means, standard deviations, settings; info: training n, base rate,
 * holdout metrics, calibration), reading it back (with SQLite's JSON
 * functions, so no hand-written parser), and the public card structure.
 */
#include "internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const cs_churn_builtin_name[CS_CHURN_BUILTIN_COUNT] = {
    [CS_CHURN_RECENCY_RATIO] = "recency_ratio",
    [CS_CHURN_RECENCY_DAYS] = "recency_days",
    [CS_CHURN_FREQUENCY] = "frequency",
    [CS_CHURN_MONETARY] = "monetary",
    [CS_CHURN_FREQUENCY_TREND] = "frequency_trend",
    [CS_CHURN_SPEND_TREND] = "spend_trend",
    [CS_CHURN_TENURE] = "tenure_days",
    [CS_CHURN_P_ALIVE] = "p_alive",
    [CS_CHURN_SATISFACTION] = "satisfaction",
    [CS_CHURN_SATISFACTION_MISSING] = "satisfaction_missing",
    [CS_CHURN_COMPLAINTS_RECENT] = "complaints_recent",
    [CS_CHURN_COMPLAINTS_UNRESOLVED] = "complaints_unresolved",
};

/* The reason (group) each built-in feature belongs to: reasons add up the
 * contributions of a group, so two views of recency never contradict each
 * other in the top three. */
const char *const cs_churn_builtin_group[CS_CHURN_BUILTIN_COUNT] = {
    [CS_CHURN_RECENCY_RATIO] = "recency",
    [CS_CHURN_RECENCY_DAYS] = "recency",
    [CS_CHURN_FREQUENCY] = "frequency",
    [CS_CHURN_MONETARY] = "monetary",
    [CS_CHURN_FREQUENCY_TREND] = "frequency_trend",
    [CS_CHURN_SPEND_TREND] = "spend_trend",
    [CS_CHURN_TENURE] = "tenure",
    [CS_CHURN_P_ALIVE] = "p_alive",
    [CS_CHURN_SATISFACTION] = "satisfaction",
    [CS_CHURN_SATISFACTION_MISSING] = "satisfaction",
    [CS_CHURN_COMPLAINTS_RECENT] = "complaints_recent",
    [CS_CHURN_COMPLAINTS_UNRESOLVED] = "complaints_unresolved",
};

static const char *const cs_kind_name[] = {
    [CS_CHURN_COL_BUILTIN] = "builtin", [CS_CHURN_COL_NUMERIC] = "numeric",
    [CS_CHURN_COL_MISSING] = "missing", [CS_CHURN_COL_LEVEL] = "level",
    [CS_CHURN_COL_OTHER] = "other",
};

const char *cs_churn_method_name(int method)
{
    switch (method) {
    case CUSTSCORE_CHURN_WINDOW:
        return "window";
    case CUSTSCORE_CHURN_LABEL:
        return "label";
    case CUSTSCORE_CHURN_BTYD:
        return "btyd";
    case CUSTSCORE_CHURN_BTYD_ALIVE:
        return "btyd_alive";
    default:
        return "unknown";
    }
}

static int cs_churn_method_parse(const char *s)
{
    for (int m = CUSTSCORE_CHURN_WINDOW; m <= CUSTSCORE_CHURN_BTYD_ALIVE; m++)
        if (s && strcmp(s, cs_churn_method_name(m)) == 0)
            return m;
    return 0;
}

void cs_churn_model_free(cs_churn_model *m)
{
    if (!m)
        return;
    for (size_t j = 0; j < m->n_cols; j++) {
        cs_free(m->col[j].name);
        cs_free(m->col[j].group);
        cs_free(m->col[j].attribute);
        cs_free(m->col[j].level);
    }
    cs_free(m->col);
    for (size_t j = 0; j < m->n_dropped; j++)
        cs_free(m->dropped[j]);
    cs_free(m->dropped);
    cs_free(m->group);
    cs_free(m->col_group);
    cs_free(m->name);
    cs_free(m->label);
    cs_free(m->label_positive);
    cs_free(m->btyd_model);
    cs_free(m->survey_model);
    cs_free(m->params_json);
    cs_free(m->info_json);
    memset(m, 0, sizeof *m);
}

int cs_churn_model_groups(cs_churn_model *m)
{
    cs_free(m->group);
    cs_free(m->col_group);
    m->n_groups = 0;
    m->group = cs_mallocarray(m->n_cols ? m->n_cols : 1, sizeof *m->group);
    m->col_group = cs_mallocarray(m->n_cols ? m->n_cols : 1, sizeof *m->col_group);
    if (!m->group || !m->col_group)
        return CUSTSCORE_ENOMEM;
    for (size_t j = 0; j < m->n_cols; j++) {
        size_t g = 0;
        while (g < m->n_groups && strcmp(m->group[g], m->col[j].group) != 0)
            g++;
        if (g == m->n_groups)
            m->group[m->n_groups++] = m->col[j].group;
        m->col_group[j] = g;
    }
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */
/* JSON writing */

typedef struct cs_sb {
    char *buf;
    size_t len, cap;
    bool oom;
} cs_sb;

static void cs_sb_put(cs_sb *sb, const char *s, size_t n)
{
    if (sb->oom)
        return;
    if (sb->len + n + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 1024;
        while (cap < sb->len + n + 1)
            cap *= 2;
        char *b = cs_reallocarray(sb->buf, cap, 1);
        if (!b) {
            sb->oom = true;
            return;
        }
        sb->buf = b;
        sb->cap = cap;
    }
    memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

static void cs_sb_lit(cs_sb *sb, const char *s)
{
    cs_sb_put(sb, s, strlen(s));
}

static void cs_sb_printf(cs_sb *sb, const char *fmt, ...) CS_PRINTF(2, 3);

static void cs_sb_printf(cs_sb *sb, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = cs_vsnprintf_c(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        sb->oom = true; /* never with the formats used here (or no C locale) */
        return;
    }
    cs_sb_put(sb, tmp, (size_t)n);
}

/* A JSON string (RFC 8259 escapes), or null for NULL. */
static void cs_sb_str(cs_sb *sb, const char *s)
{
    if (!s) {
        cs_sb_lit(sb, "null");
        return;
    }
    cs_sb_lit(sb, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            cs_sb_put(sb, e, 2);
        } else if (*p < 0x20) {
            cs_sb_printf(sb, "\\u%04x", *p);
        } else {
            cs_sb_put(sb, (const char *)p, 1);
        }
    }
    cs_sb_lit(sb, "\"");
}

/* The shortest of %.15g / %.17g that reads back exactly, with '.' whatever
 * the host's locale; null for NaN/Inf. */
static void cs_sb_num(cs_sb *sb, double v)
{
    if (!isfinite(v)) {
        cs_sb_lit(sb, "null");
        return;
    }
    char tmp[40];
    if (cs_fmt_double(tmp, sizeof tmp, v) < 0) {
        sb->oom = true; /* no C locale: out of memory */
        return;
    }
    cs_sb_lit(sb, tmp);
}

static void cs_sb_key(cs_sb *sb, const char *key, bool first)
{
    if (!first)
        cs_sb_lit(sb, ",");
    cs_sb_str(sb, key);
    cs_sb_lit(sb, ":");
}

/* ,"key":value pairs (never the first member of an object). */
static void cs_sb_knum(cs_sb *sb, const char *key, double v)
{
    cs_sb_key(sb, key, false);
    cs_sb_num(sb, v);
}

static void cs_sb_kstr(cs_sb *sb, const char *key, const char *v)
{
    cs_sb_key(sb, key, false);
    cs_sb_str(sb, v);
}

static void cs_sb_kint(cs_sb *sb, const char *key, long long v)
{
    cs_sb_key(sb, key, false);
    cs_sb_printf(sb, "%lld", v);
}

static void cs_sb_kbool(cs_sb *sb, const char *key, bool v)
{
    cs_sb_key(sb, key, false);
    cs_sb_lit(sb, v ? "true" : "false");
}

/* The text, or NULL (and nothing to free) after an allocation failure. */
static char *cs_sb_done(cs_sb *sb)
{
    if (sb->oom) {
        cs_free(sb->buf);
        return NULL;
    }
    return sb->buf;
}

static char *cs_churn_params_json(const cs_churn_model *m)
{
    cs_sb sb = {0};
    char date[32];
    cs_sb_lit(&sb, "{");
    cs_sb_key(&sb, "method", true);
    cs_sb_str(&sb, cs_churn_method_name(m->method));
    cs_sb_kstr(&sb, "direction", "higher = more likely to churn");
    cs_sb_kint(&sb, "as_of", (long long)m->as_of);
    if (custscore_format_time(m->as_of, 1, date, sizeof date) == 0)
        cs_sb_kstr(&sb, "as_of_date", date);
    cs_sb_kint(&sb, "cutoff", (long long)m->cutoff);
    if (custscore_format_time(m->cutoff, 1, date, sizeof date) == 0)
        cs_sb_kstr(&sb, "cutoff_date", date);
    cs_sb_knum(&sb, "window_days", m->window_days);
    cs_sb_kstr(&sb, "label", m->label);
    cs_sb_kstr(&sb, "label_positive", m->label_positive);
    cs_sb_kbool(&sb, "behaviour", m->behaviour);
    cs_sb_knum(&sb, "lookback_days", m->lookback_days);
    cs_sb_knum(&sb, "complaint_days", m->complaint_days);
    cs_sb_knum(&sb, "prior_gap_days", m->prior_gap_days);
    cs_sb_kstr(&sb, "btyd_model", m->btyd_model);
    cs_sb_kstr(&sb, "survey_model", m->survey_model);
    cs_sb_knum(&sb, "l2", m->l2);
    cs_sb_knum(&sb, "holdout", m->holdout);
    cs_sb_key(&sb, "seed", false);
    cs_sb_printf(&sb, "%llu", (unsigned long long)m->seed);
    cs_sb_knum(&sb, "rare_level", m->rare_level);
    cs_sb_knum(&sb, "band_medium", m->band_medium);
    cs_sb_knum(&sb, "band_high", m->band_high);
    cs_sb_knum(&sb, "intercept", m->intercept);
    cs_sb_knum(&sb, "intercept_se", m->intercept_se);
    cs_sb_key(&sb, "features", false);
    cs_sb_lit(&sb, "[");
    for (size_t j = 0; j < m->n_cols; j++) {
        const cs_churn_col *c = &m->col[j];
        cs_sb_lit(&sb, j ? ",{" : "{");
        cs_sb_key(&sb, "name", true);
        cs_sb_str(&sb, c->name);
        cs_sb_kstr(&sb, "group", c->group);
        cs_sb_kstr(&sb, "kind", cs_kind_name[c->kind]);
        if (c->kind == CS_CHURN_COL_BUILTIN)
            cs_sb_kstr(&sb, "builtin", cs_churn_builtin_name[c->builtin]);
        else
            cs_sb_kstr(&sb, "attribute", c->attribute);
        if (c->kind == CS_CHURN_COL_LEVEL)
            cs_sb_kstr(&sb, "level", c->level);
        cs_sb_knum(&sb, "coef", c->coef);
        cs_sb_knum(&sb, "se", c->se);
        cs_sb_knum(&sb, "mean", c->mean);
        cs_sb_knum(&sb, "sd", c->sd);
        cs_sb_lit(&sb, "}");
    }
    cs_sb_lit(&sb, "]");
    cs_sb_key(&sb, "dropped", false);
    cs_sb_lit(&sb, "[");
    for (size_t j = 0; j < m->n_dropped; j++) {
        if (j)
            cs_sb_lit(&sb, ",");
        cs_sb_str(&sb, m->dropped[j]);
    }
    cs_sb_lit(&sb, "]}");
    return cs_sb_done(&sb);
}

static char *cs_churn_info_json(const cs_churn_model *m)
{
    cs_sb sb = {0};
    cs_sb_lit(&sb, "{");
    cs_sb_key(&sb, "n_train", true);
    cs_sb_printf(&sb, "%lld", (long long)m->n_train);
    cs_sb_kint(&sb, "n_holdout", (long long)m->n_holdout);
    cs_sb_knum(&sb, "base_rate", m->base_rate);
    cs_sb_knum(&sb, "holdout_base_rate", m->holdout_base_rate);
    cs_sb_knum(&sb, "train_auc", m->train_auc);
    cs_sb_knum(&sb, "auc", m->auc);
    cs_sb_knum(&sb, "brier", m->brier);
    cs_sb_knum(&sb, "lift_top_decile", m->lift);
    cs_sb_knum(&sb, "loglik", m->loglik);
    cs_sb_kint(&sb, "iterations", m->iterations);
    cs_sb_kbool(&sb, "converged", m->converged);
    cs_sb_kstr(&sb, "metrics_on", m->n_holdout > 0 ? "holdout" : "training");
    cs_sb_key(&sb, "calibration", false);
    cs_sb_lit(&sb, "[");
    for (size_t b = 0; b < m->n_calibration; b++) {
        const custscore_calibration_bin *c = &m->calibration[b];
        cs_sb_lit(&sb, b ? ",{" : "{");
        cs_sb_key(&sb, "n", true);
        cs_sb_printf(&sb, "%lld", (long long)c->n);
        cs_sb_knum(&sb, "p_min", c->p_min);
        cs_sb_knum(&sb, "p_max", c->p_max);
        cs_sb_knum(&sb, "mean_predicted", c->mean_predicted);
        cs_sb_knum(&sb, "observed_rate", c->observed_rate);
        cs_sb_lit(&sb, "}");
    }
    cs_sb_lit(&sb, "]}");
    return cs_sb_done(&sb);
}

static char *cs_churn_stderr_json(const cs_churn_model *m)
{
    cs_sb sb = {0};
    cs_sb_lit(&sb, "{");
    cs_sb_key(&sb, "intercept", true);
    cs_sb_num(&sb, m->intercept_se);
    for (size_t j = 0; j < m->n_cols; j++) {
        cs_sb_key(&sb, m->col[j].name, false);
        cs_sb_num(&sb, m->col[j].se);
    }
    cs_sb_lit(&sb, "}");
    return cs_sb_done(&sb);
}

int cs_churn_model_store(custscore *db, const cs_churn_model *m)
{
    int rc = cs_check_writable(db);
    if (rc)
        return rc;
    char *params = cs_churn_params_json(m);
    char *info = cs_churn_info_json(m);
    char *se = cs_churn_stderr_json(m);
    sqlite3_stmt *st = NULL;
    if (!params || !info || !se) {
        rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory writing the model card");
        goto done;
    }
    rc = cs_tx_begin(db);
    if (rc)
        goto done;
    rc = cs_prepare(db,
                    "INSERT INTO model(name, fitted_at, as_of, unit, params, stderr, loglik, n, "
                    "info) VALUES (?1, ?2, ?3, 'day', ?4, ?5, ?6, ?7, ?8)",
                    &st);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, m->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, m->fitted_at);
        sqlite3_bind_int64(st, 3, m->as_of);
        sqlite3_bind_text(st, 4, params, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, se, -1, SQLITE_STATIC);
        if (isfinite(m->loglik))
            sqlite3_bind_double(st, 6, m->loglik);
        sqlite3_bind_int64(st, 7, m->n_train + m->n_holdout);
        sqlite3_bind_text(st, 8, info, -1, SQLITE_STATIC);
        int src = sqlite3_step(st);
        if (src != SQLITE_DONE)
            rc = cs_sqlite_error(db, src, "churn: storing the model card");
    }
    sqlite3_finalize(st);
    rc = cs_tx_end(db, rc);
done:
    cs_free(params);
    cs_free(info);
    cs_free(se);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* JSON reading, through SQLite's json_extract / json_each */

typedef struct cs_json {
    custscore *db;
    sqlite3_stmt *st; /* SELECT json_extract(?1, ?2) */
    int rc;
} cs_json;

static int cs_json_open(custscore *db, cs_json *j, const char *json)
{
    j->db = db;
    j->rc = 0;
    int rc = cs_prepare(db, "SELECT json_extract(?1, ?2), json_type(?1, ?2)", &j->st);
    if (rc)
        return rc;
    sqlite3_bind_text(j->st, 1, json, -1, SQLITE_STATIC);
    return CUSTSCORE_OK;
}

/* Step for @path; returns the SQLite column type of the value (SQLITE_NULL
 * when absent), or -1 after an error (j->rc set). */
static int cs_json_step(cs_json *j, const char *path)
{
    if (j->rc)
        return -1;
    sqlite3_reset(j->st);
    sqlite3_bind_text(j->st, 2, path, -1, SQLITE_STATIC);
    int src = cs_step_c(j->st); /* numbers out of JSON: '.' whatever the locale */
    if (src != SQLITE_ROW) {
        j->rc = cs_sqlite_error(j->db, src, "churn: reading the model card (malformed JSON?)");
        if (j->rc == CUSTSCORE_EINVAL)
            j->rc = CUSTSCORE_ECORRUPT;
        return -1;
    }
    return sqlite3_column_type(j->st, 0);
}

static double cs_json_num(cs_json *j, const char *path)
{
    int type = cs_json_step(j, path);
    if (type == SQLITE_INTEGER || type == SQLITE_FLOAT)
        return sqlite3_column_double(j->st, 0);
    return NAN;
}

static int64_t cs_json_int(cs_json *j, const char *path)
{
    int type = cs_json_step(j, path);
    if (type == SQLITE_INTEGER || type == SQLITE_FLOAT)
        return sqlite3_column_int64(j->st, 0);
    return 0;
}

static bool cs_json_bool(cs_json *j, const char *path)
{
    int type = cs_json_step(j, path);
    return type == SQLITE_INTEGER && sqlite3_column_int64(j->st, 0) != 0;
}

/* A copy of the string at @path, or NULL when absent or null (j->rc set on
 * out of memory). */
static char *cs_json_str(cs_json *j, const char *path)
{
    int type = cs_json_step(j, path);
    if (type != SQLITE_TEXT)
        return NULL;
    char *s = cs_strdup((const char *)sqlite3_column_text(j->st, 0));
    if (!s)
        j->rc = cs_error(j->db, CUSTSCORE_ENOMEM, "churn: out of memory reading the model card");
    return s;
}

static int cs_builtin_parse(const char *s)
{
    for (int b = 0; b < CS_CHURN_BUILTIN_COUNT; b++)
        if (s && strcmp(s, cs_churn_builtin_name[b]) == 0)
            return b;
    return -1;
}

static int cs_kind_parse(const char *s)
{
    for (int k = CS_CHURN_COL_BUILTIN; k <= CS_CHURN_COL_OTHER; k++)
        if (s && strcmp(s, cs_kind_name[k]) == 0)
            return k;
    return 0;
}

static int cs_churn_read_features(custscore *db, const char *params, cs_churn_model *m)
{
    sqlite3_stmt *st = NULL;
    int rc = cs_prepare(db,
                        "SELECT json_extract(value, '$.name'), json_extract(value, '$.group'),"
                        " json_extract(value, '$.kind'), json_extract(value, '$.builtin'),"
                        " json_extract(value, '$.attribute'), json_extract(value, '$.level'),"
                        " json_extract(value, '$.coef'), json_extract(value, '$.se'),"
                        " json_extract(value, '$.mean'), json_extract(value, '$.sd')"
                        " FROM json_each(?1, '$.features') ORDER BY key",
                        &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, params, -1, SQLITE_STATIC);
    size_t cap = 0;
    int src;
    while ((src = cs_step_c(st)) == SQLITE_ROW) { /* numbers out of JSON */
        if (m->n_cols == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            cs_churn_col *c = cs_reallocarray(m->col, ncap, sizeof *c);
            if (!c) {
                rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory reading the card");
                break;
            }
            m->col = c;
            cap = ncap;
        }
        cs_churn_col *c = &m->col[m->n_cols];
        memset(c, 0, sizeof *c);
        m->n_cols++;
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const char *group = (const char *)sqlite3_column_text(st, 1);
        c->kind = cs_kind_parse((const char *)sqlite3_column_text(st, 2));
        c->builtin = cs_builtin_parse((const char *)sqlite3_column_text(st, 3));
        const char *attribute = (const char *)sqlite3_column_text(st, 4);
        const char *level = (const char *)sqlite3_column_text(st, 5);
        c->coef = sqlite3_column_double(st, 6);
        c->se = sqlite3_column_type(st, 7) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 7);
        c->mean = sqlite3_column_double(st, 8);
        c->sd = sqlite3_column_double(st, 9);
        if (!name || !group || c->kind == 0 ||
            (c->kind == CS_CHURN_COL_BUILTIN ? c->builtin < 0 : !attribute) ||
            (c->kind == CS_CHURN_COL_LEVEL && !level) || !isfinite(c->coef) || !isfinite(c->mean)) {
            rc = cs_error(db, CUSTSCORE_ECORRUPT,
                          "churn model card %s: feature %zu is incomplete or of an unknown kind",
                          m->name ? m->name : "", m->n_cols - 1);
            break;
        }
        c->name = cs_strdup(name);
        c->group = cs_strdup(group);
        c->attribute = attribute ? cs_strdup(attribute) : NULL;
        c->level = level ? cs_strdup(level) : NULL;
        if (!c->name || !c->group || (attribute && !c->attribute) || (level && !c->level)) {
            rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory reading the card");
            break;
        }
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = cs_sqlite_error(db, src, "churn: reading the model card's features");
    sqlite3_finalize(st);
    return rc;
}

static int cs_churn_read_strings(custscore *db, const char *json, const char *path, char ***out,
                                 size_t *n)
{
    sqlite3_stmt *st = NULL;
    int rc = cs_prepare(db, "SELECT value FROM json_each(?1, ?2) ORDER BY key", &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    size_t cap = 0;
    int src;
    while ((src = cs_step_c(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            char **s = cs_reallocarray(*out, ncap, sizeof *s);
            if (!s) {
                rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory reading the card");
                break;
            }
            *out = s;
            cap = ncap;
        }
        const char *v = (const char *)sqlite3_column_text(st, 0);
        (*out)[*n] = cs_strdup(v ? v : "");
        if (!(*out)[*n]) {
            rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory reading the card");
            break;
        }
        (*n)++;
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = cs_sqlite_error(db, src, "churn: reading the model card");
    sqlite3_finalize(st);
    return rc;
}

static int cs_churn_read_calibration(custscore *db, const char *info, cs_churn_model *m)
{
    sqlite3_stmt *st = NULL;
    int rc = cs_prepare(db,
                        "SELECT json_extract(value, '$.n'), json_extract(value, '$.p_min'),"
                        " json_extract(value, '$.p_max'), json_extract(value, '$.mean_predicted'),"
                        " json_extract(value, '$.observed_rate')"
                        " FROM json_each(?1, '$.calibration') ORDER BY key",
                        &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, info, -1, SQLITE_STATIC);
    int src;
    while ((src = cs_step_c(st)) == SQLITE_ROW && m->n_calibration < CS_CHURN_BINS) {
        custscore_calibration_bin *c = &m->calibration[m->n_calibration++];
        c->n = sqlite3_column_int64(st, 0);
        c->p_min = sqlite3_column_double(st, 1);
        c->p_max = sqlite3_column_double(st, 2);
        c->mean_predicted = sqlite3_column_double(st, 3);
        c->observed_rate = sqlite3_column_double(st, 4);
    }
    if (src != SQLITE_DONE && src != SQLITE_ROW)
        rc = cs_sqlite_error(db, src, "churn: reading the model card's calibration");
    sqlite3_finalize(st);
    return rc;
}

int cs_churn_model_load(custscore *db, const char *name, cs_churn_model *m)
{
    memset(m, 0, sizeof *m);
    sqlite3_stmt *st = NULL;
    int rc = cs_prepare(db,
                        "SELECT fitted_at, as_of, params, info FROM model WHERE name = ?1"
                        " ORDER BY fitted_at DESC, id DESC LIMIT 1",
                        &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    if (src == SQLITE_DONE) {
        sqlite3_finalize(st);
        return cs_error(db, CUSTSCORE_ENOMODEL,
                        "churn: no model named \"%s\" in the store: train one first "
                        "(custscore_churn_train, `custscore churn train`)",
                        name);
    }
    if (src != SQLITE_ROW) {
        rc = cs_sqlite_error(db, src, "churn: reading the model card");
        sqlite3_finalize(st);
        return rc;
    }
    m->fitted_at = sqlite3_column_int64(st, 0);
    m->as_of = sqlite3_column_int64(st, 1);
    const char *p = (const char *)sqlite3_column_text(st, 2);
    const char *i = (const char *)sqlite3_column_text(st, 3);
    char *params = cs_strdup(p ? p : "{}");
    char *info = cs_strdup(i ? i : "{}");
    m->name = cs_strdup(name);
    sqlite3_finalize(st);
    if (!params || !info || !m->name) {
        rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory reading the model card");
        goto done;
    }
    cs_json j;
    rc = cs_json_open(db, &j, params);
    if (rc)
        goto done;
    char *method = cs_json_str(&j, "$.method");
    m->method = cs_churn_method_parse(method);
    cs_free(method);
    m->cutoff = cs_json_int(&j, "$.cutoff");
    m->window_days = cs_json_num(&j, "$.window_days");
    m->label = cs_json_str(&j, "$.label");
    m->label_positive = cs_json_str(&j, "$.label_positive");
    m->behaviour = cs_json_bool(&j, "$.behaviour");
    m->lookback_days = cs_json_num(&j, "$.lookback_days");
    m->complaint_days = cs_json_num(&j, "$.complaint_days");
    m->prior_gap_days = cs_json_num(&j, "$.prior_gap_days");
    m->btyd_model = cs_json_str(&j, "$.btyd_model");
    m->survey_model = cs_json_str(&j, "$.survey_model");
    m->l2 = cs_json_num(&j, "$.l2");
    m->holdout = cs_json_num(&j, "$.holdout");
    m->seed = (uint64_t)cs_json_int(&j, "$.seed");
    m->rare_level = cs_json_num(&j, "$.rare_level");
    m->band_medium = cs_json_num(&j, "$.band_medium");
    m->band_high = cs_json_num(&j, "$.band_high");
    m->intercept = cs_json_num(&j, "$.intercept");
    m->intercept_se = cs_json_num(&j, "$.intercept_se");
    rc = j.rc;
    sqlite3_finalize(j.st);
    if (rc)
        goto done;
    if (m->method == 0 || (m->method <= CUSTSCORE_CHURN_LABEL && !isfinite(m->intercept))) {
        rc = cs_error(db, CUSTSCORE_ECORRUPT,
                      "churn model card %s: unknown method or no intercept in its params", name);
        goto done;
    }
    rc = cs_churn_read_features(db, params, m);
    if (rc == 0)
        rc = cs_churn_read_strings(db, params, "$.dropped", &m->dropped, &m->n_dropped);
    if (rc)
        goto done;

    rc = cs_json_open(db, &j, info);
    if (rc)
        goto done;
    m->n_train = cs_json_int(&j, "$.n_train");
    m->n_holdout = cs_json_int(&j, "$.n_holdout");
    m->base_rate = cs_json_num(&j, "$.base_rate");
    m->holdout_base_rate = cs_json_num(&j, "$.holdout_base_rate");
    m->train_auc = cs_json_num(&j, "$.train_auc");
    m->auc = cs_json_num(&j, "$.auc");
    m->brier = cs_json_num(&j, "$.brier");
    m->lift = cs_json_num(&j, "$.lift_top_decile");
    m->loglik = cs_json_num(&j, "$.loglik");
    m->iterations = (int)cs_json_int(&j, "$.iterations");
    m->converged = cs_json_bool(&j, "$.converged");
    rc = j.rc;
    sqlite3_finalize(j.st);
    if (rc == 0)
        rc = cs_churn_read_calibration(db, info, m);
    if (rc == 0 && cs_churn_model_groups(m))
        rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory reading the model card");
    if (rc == 0) {
        m->params_json = params;
        m->info_json = info;
        params = info = NULL;
    }
done:
    cs_free(params);
    cs_free(info);
    if (rc)
        cs_churn_model_free(m);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* The public card */

void custscore_churn_card_free(custscore_churn_card *card)
{
    if (!card)
        return;
    for (size_t j = 0; j < card->n_coefs; j++) {
        cs_free((char *)card->coefs[j].name);
        cs_free((char *)card->coefs[j].group);
    }
    cs_free(card->coefs);
    cs_free(card->calibration);
    cs_free(card->model_name);
    cs_free(card->label);
    cs_free(card->btyd_model);
    cs_free(card->survey_model);
    cs_free(card->params_json);
    cs_free(card->info_json);
    cs_free(card);
}

int cs_churn_card_from_model(const cs_churn_model *m, custscore_churn_card **out)
{
    *out = NULL;
    custscore_churn_card *c = cs_calloc(1, sizeof *c);
    if (!c)
        return CUSTSCORE_ENOMEM;
    c->method = (custscore_churn_method)m->method;
    c->fitted_at = m->fitted_at;
    c->as_of = m->as_of;
    c->cutoff = m->cutoff;
    c->window_days = m->window_days;
    c->intercept = m->intercept;
    c->l2 = m->l2;
    c->iterations = m->iterations;
    c->converged = m->converged;
    c->n_train = m->n_train;
    c->n_holdout = m->n_holdout;
    c->base_rate = m->base_rate;
    c->holdout_base_rate = m->holdout_base_rate;
    c->train_auc = m->train_auc;
    c->auc = m->auc;
    c->brier = m->brier;
    c->lift_top_decile = m->lift;
    c->band_medium = m->band_medium;
    c->band_high = m->band_high;
    c->prior_gap_days = m->prior_gap_days;
    c->model_name = cs_strdup(m->name ? m->name : "");
    c->label = m->label ? cs_strdup(m->label) : NULL;
    c->btyd_model = m->btyd_model ? cs_strdup(m->btyd_model) : NULL;
    c->survey_model = m->survey_model ? cs_strdup(m->survey_model) : NULL;
    c->params_json = m->params_json ? cs_strdup(m->params_json) : cs_churn_params_json(m);
    c->info_json = m->info_json ? cs_strdup(m->info_json) : cs_churn_info_json(m);
    c->coefs = cs_calloc(m->n_cols ? m->n_cols : 1, sizeof *c->coefs);
    c->calibration = cs_calloc(CS_CHURN_BINS, sizeof *c->calibration);
    bool ok = c->model_name && (!m->label || c->label) && (!m->btyd_model || c->btyd_model) &&
              (!m->survey_model || c->survey_model) && c->params_json && c->info_json && c->coefs &&
              c->calibration;
    for (size_t j = 0; ok && j < m->n_cols; j++) {
        custscore_churn_coef *k = &c->coefs[j];
        const cs_churn_col *col = &m->col[j];
        k->name = cs_strdup(col->name);
        k->group = cs_strdup(col->group);
        c->n_coefs = j + 1;
        k->coefficient = col->coef;
        k->std_error = col->se;
        k->mean = col->mean;
        k->sd = col->sd;
        k->std_coefficient = col->coef * col->sd;
        ok = k->name && k->group;
    }
    if (!ok) {
        custscore_churn_card_free(c);
        return CUSTSCORE_ENOMEM;
    }
    c->n_calibration = m->n_calibration;
    memcpy(c->calibration, m->calibration, m->n_calibration * sizeof *c->calibration);
    *out = c;
    return CUSTSCORE_OK;
}
