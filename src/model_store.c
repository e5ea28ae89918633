/*
 * model_store.c: fitting the lifetime-value models from the store's orders
 * (custscore_fit) and the model table: saving a fit (parameters, standard
 * errors and the fit's details as JSON, doubles at round-trip precision)
 * and loading the latest or a named one.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* A growing text buffer for the JSON columns. */
typedef struct cs_text {
    char *p;
    size_t len, cap;
    bool oom;
} cs_text;

static void cs_text_add(cs_text *t, const char *fmt, ...) CS_PRINTF(2, 3);
static void cs_text_add(cs_text *t, const char *fmt, ...)
{
    if (t->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = t->cap - t->len;
        /* '.' as decimal point whatever the host's locale (the JSON is read
         * back by SQLite's json_extract()). */
        int k = t->p ? cs_vsnprintf_c(t->p + t->len, room, fmt, ap) : -1;
        va_end(ap);
        if (k >= 0 && (size_t)k < room) {
            t->len += (size_t)k;
            return;
        }
        if (t->p && k < 0) {
            t->oom = true; /* no C locale: out of memory */
            return;
        }
        size_t need = t->cap ? t->cap * 2 : 256;
        if (k >= 0 && need < t->len + (size_t)k + 1)
            need = t->len + (size_t)k + 1;
        char *np = cs_reallocarray(t->p, need, 1);
        if (!np) {
            t->oom = true;
            return;
        }
        t->p = np;
        t->cap = need;
    }
}

/* A JSON number (null for NaN/Inf), round-trip precision. */
static void cs_text_num(cs_text *t, double v)
{
    if (isfinite(v))
        cs_text_add(t, "%.17g", v);
    else
        cs_text_add(t, "null");
}

static const char *cs_status_text(int status)
{
    switch (status) {
    case CUSTSCORE_FIT_CONVERGED:
        return "converged";
    case CUSTSCORE_FIT_MAX_ITERATIONS:
        return "max_iterations";
    case CUSTSCORE_FIT_LINE_SEARCH:
        return "line_search";
    case CUSTSCORE_FIT_AT_BOUND:
        return "at_bound";
    case CUSTSCORE_FIT_SINGULAR:
        return "singular";
    default:
        return "not_finite";
    }
}

static int cs_model_save(custscore *db, custscore_fit_info *info)
{
    cs_text params = {0}, se = {0}, meta = {0};
    cs_text_add(&params, "{");
    cs_text_add(&se, "{");
    for (int k = 0; k < info->n_params; k++) {
        cs_text_add(&params, "%s\"%s\":", k ? "," : "", info->param_name[k]);
        cs_text_num(&params, info->param[k]);
        cs_text_add(&se, "%s\"%s\":", k ? "," : "", info->param_name[k]);
        cs_text_num(&se, info->std_error[k]);
    }
    cs_text_add(&params, "}");
    cs_text_add(&se, "}");
    cs_text_add(&meta,
                "{\"model\":\"%s\",\"family\":\"%s\",\"status\":\"%s\",\"unit\":\"%s\","
                "\"zero_revenue\":\"%s\",",
                custscore_model_name(info->model),
                info->model == CUSTSCORE_MODEL_GG ? "spend" : "btyd", cs_status_text(info->status),
                cs_unit_text(info->unit),
                info->zero == CUSTSCORE_ZERO_REVENUE_PURCHASE ? "purchase" : "adjustment");
    cs_text_add(&meta,
                "\"iterations\":%d,\"evaluations\":%d,\"starts\":%d,\"starts_converged\":%d,"
                "\"starts_agreeing\":%d,\"n_unique\":%lld,\"n_excluded\":%lld,",
                info->iterations, info->evaluations, info->starts, info->starts_converged,
                info->starts_agreeing, (long long)info->n_unique, (long long)info->n_excluded);
    static const char *const keys[] = {"gradient_norm",        "penalty",   "time_scale",
                                       "repeat_purchases",     "aic",       "bic",
                                       "spend_frequency_corr", "mean_spend"};
    double vals[] = {info->gradient_norm,        info->penalty,   info->time_scale,
                     info->repeat_purchases,     info->aic,       info->bic,
                     info->spend_frequency_corr, info->mean_spend};
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
        cs_text_add(&meta, "\"%s\":", keys[k]);
        cs_text_num(&meta, vals[k]);
        cs_text_add(&meta, ",");
    }
    cs_text_add(&meta, "\"cov_log\":[");
    for (int k = 0; k < info->n_params; k++) {
        cs_text_add(&meta, "%s[", k ? "," : "");
        for (int j = 0; j < info->n_params; j++) {
            if (j)
                cs_text_add(&meta, ",");
            cs_text_num(&meta, info->cov_log[k][j]);
        }
        cs_text_add(&meta, "]");
    }
    cs_text_add(&meta, "]}");
    int rc = CUSTSCORE_OK;
    if (params.oom || se.oom || meta.oom) {
        rc = cs_error(db, CUSTSCORE_ENOMEM, "saving the model: out of memory");
        goto done;
    }
    rc = cs_tx_begin(db);
    if (rc)
        goto done;
    sqlite3_stmt *st = NULL;
    rc = cs_prepare(db,
                    "INSERT INTO model(name, fitted_at, as_of, unit, params, stderr, loglik, n, "
                    "info) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    &st);
    if (rc == 0) {
        /* The binds copy nothing (SQLITE_STATIC), but their results are
         * checked all the same: a failed bind would save a NULL column. */
        int src = sqlite3_bind_text(st, 1, info->name, -1, SQLITE_STATIC);
        if (src == SQLITE_OK)
            src = sqlite3_bind_int64(st, 2, info->fitted_at);
        if (src == SQLITE_OK)
            src = sqlite3_bind_int64(st, 3, info->as_of);
        if (src == SQLITE_OK)
            src = sqlite3_bind_text(st, 4, cs_unit_text(info->unit), -1, SQLITE_STATIC);
        if (src == SQLITE_OK)
            src = sqlite3_bind_text(st, 5, params.p, (int)params.len, SQLITE_STATIC);
        if (src == SQLITE_OK)
            src = sqlite3_bind_text(st, 6, se.p, (int)se.len, SQLITE_STATIC);
        if (src == SQLITE_OK && isfinite(info->loglik))
            src = sqlite3_bind_double(st, 7, info->loglik);
        if (src == SQLITE_OK)
            src = sqlite3_bind_int64(st, 8, info->n);
        if (src == SQLITE_OK)
            src = sqlite3_bind_text(st, 9, meta.p, (int)meta.len, SQLITE_STATIC);
        if (src == SQLITE_OK)
            src = sqlite3_step(st);
        if (src != SQLITE_DONE)
            rc = cs_sqlite_error(db, src, "saving the model");
        else
            info->model_id = sqlite3_last_insert_rowid(db->sql);
        sqlite3_finalize(st);
    }
    rc = cs_tx_end(db, rc);
done:
    cs_free(params.p);
    cs_free(se.p);
    cs_free(meta.p);
    return rc;
}

int custscore_fit(custscore *db, int64_t as_of, const custscore_fit_options *options,
                  custscore_fit_info *info)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    int rc = cs_check_as_of(db, as_of, "custscore_fit: as-of time");
    if (rc)
        return rc;
    custscore_fit_options o;
    char err[CS_ERRMSG_SIZE] = "";
    rc = cs_fit_options_check(options, &o, err, sizeof err);
    if (rc)
        return cs_error(db, rc, "%s", err[0] ? err : custscore_errstr(rc));
    if (!o.no_store) {
        rc = cs_check_writable(db);
        if (rc)
            return rc;
    }
    custscore_fit_info local;
    if (!info)
        info = &local;
    cs_history h;
    rc = cs_history_load(db, as_of, &h);
    if (rc)
        return rc;
    size_t n = h.n_customers;
    custscore_summary *sum = cs_mallocarray(n ? n : 1, sizeof *sum);
    double *x = cs_mallocarray(n ? n : 1, sizeof *x);
    double *t_x = cs_mallocarray(n ? n : 1, sizeof *t_x);
    double *T = cs_mallocarray(n ? n : 1, sizeof *T);
    double *spend = cs_mallocarray(n ? n : 1, sizeof *spend);
    if (!sum || !x || !t_x || !T || !spend) {
        rc = cs_error(db, CUSTSCORE_ENOMEM, "fit: out of memory for %zu customers", n);
        goto done;
    }
    double unit_days = custscore_unit_days(o.unit);
    for (size_t i = 0; i < n; i++)
        cs_summary_of_ex(&h, i, as_of, unit_days, o.zero == CUSTSCORE_ZERO_REVENUE_PURCHASE,
                         &sum[i]);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (sum[i].first == 0)
            continue;
        x[m] = (double)sum[i].x;
        t_x[m] = sum[i].t_x;
        T[m] = sum[i].T;
        spend[m] = sum[i].mean_repeat_spend;
        m++;
    }
    char date[32];
    if (custscore_format_time(as_of, 1, date, sizeof date) != 0)
        snprintf(date, sizeof date, "%lld", (long long)as_of);
    if (m == 0) {
        cs_fit_info_init(info, o.model, o.unit);
        rc = cs_error(db, CUSTSCORE_EINVAL, "%s as of %s: no customer has a purchase by then",
                      custscore_model_name(o.model), date);
        goto done;
    }
    if (o.model == CUSTSCORE_MODEL_GG)
        rc = custscore_gg_fit(&o, m, x, spend, info, err, sizeof err);
    else
        rc = custscore_btyd_fit(&o, m, x, t_x, T, NULL, info, err, sizeof err);
    info->as_of = as_of;
    info->fitted_at = (int64_t)time(NULL);
    info->zero = o.zero;
    const char *default_name = custscore_model_name(o.model);
    snprintf(info->name, sizeof info->name, "%s",
             o.name ? o.name : (default_name ? default_name : "model"));
    if (o.model != CUSTSCORE_MODEL_GG)
        info->n_excluded = (int64_t)(n - m);
    else
        info->n_excluded += (int64_t)(n - m);
    if (rc) {
        rc = cs_error(db, rc, "%s as of %s: %s", info->name, date,
                      err[0] ? err : custscore_errstr(rc));
        goto done;
    }
    if (!o.no_store)
        rc = cs_model_save(db, info);
done:
    cs_free(sum);
    cs_free(x);
    cs_free(t_x);
    cs_free(T);
    cs_free(spend);
    cs_history_free(&h);
    return rc;
}

/* json_extract(@json, @path) as a double (NaN when null or absent). The
 * path is copied (SQLITE_TRANSIENT: the caller reuses its buffer): that copy
 * can run out of memory, and an unbound path would read as a missing value
 * (the model then looked corrupt), so the binds are checked. */
static int cs_json_number(custscore *db, sqlite3_stmt *q, const char *json, const char *path,
                          double *out)
{
    sqlite3_reset(q);
    int rc = sqlite3_bind_text(q, 1, json, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(q, 2, path, -1, SQLITE_TRANSIENT);
    if (rc != SQLITE_OK)
        return cs_sqlite_error(db, rc, "reading a saved model");
    rc = cs_step_c(q); /* json_extract() of a number: '.' whatever the locale */
    if (rc != SQLITE_ROW)
        return cs_sqlite_error(db, rc, "reading a saved model");
    *out = sqlite3_column_type(q, 0) == SQLITE_NULL ? NAN : sqlite3_column_double(q, 0);
    return CUSTSCORE_OK;
}

int custscore_model_load(custscore *db, const char *name, custscore_fit_info *info)
{
    if (!db || !info)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!db->sql)
        return cs_error(db, CUSTSCORE_EINVAL, "model load: store is not open");
    sqlite3_stmt *st = NULL, *q = NULL;
    const char *sql =
        name ? "SELECT id, name, fitted_at, as_of, unit, params, stderr, loglik, n, info,"
               " json_extract(info, '$.model'), json_extract(info, '$.zero_revenue')"
               " FROM model WHERE name = ?1"
               " ORDER BY fitted_at DESC, id DESC LIMIT 1"
             : "SELECT id, name, fitted_at, as_of, unit, params, stderr, loglik, n, info,"
               " json_extract(info, '$.model'), json_extract(info, '$.zero_revenue')"
               " FROM model WHERE json_extract(info, '$.family') = 'btyd'"
               " ORDER BY fitted_at DESC, id DESC LIMIT 1";
    int rc = cs_prepare(db, sql, &st);
    if (rc)
        return rc;
    int src = name ? sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) : SQLITE_OK;
    if (src == SQLITE_OK)
        src = sqlite3_step(st);
    if (src == SQLITE_DONE) {
        sqlite3_finalize(st);
        if (name)
            return cs_error(db, CUSTSCORE_ENOMODEL,
                            "no fitted model named '%s' (fit one with custscore fit --model ...)",
                            name);
        return cs_error(
            db, CUSTSCORE_ENOMODEL,
            "no fitted purchase model (fit one: custscore fit --model bgnbd|mbgnbd|pnbd)");
    }
    if (src != SQLITE_ROW) {
        rc = cs_sqlite_error(db, src, "loading a model");
        sqlite3_finalize(st);
        return rc;
    }
    custscore_model model;
    custscore_unit unit;
    const char *kind = (const char *)sqlite3_column_text(st, 10);
    const char *unit_text = (const char *)sqlite3_column_text(st, 4);
    if ((!kind || !unit_text) && sqlite3_errcode(db->sql) == SQLITE_NOMEM) {
        /* sqlite3_column_text() returns NULL when converting the value
         * runs out of memory: that is no corruption. */
        sqlite3_finalize(st);
        return cs_error(db, CUSTSCORE_ENOMEM, "out of memory loading a model");
    }
    if (custscore_model_parse(kind, &model) != 0 || cs_unit_from_text(unit_text, &unit) != 0) {
        sqlite3_finalize(st);
        return cs_error(db, CUSTSCORE_ECORRUPT, "model '%s': unknown model kind or unit",
                        name ? name : "(latest)");
    }
    cs_fit_info_init(info, model, unit);
    info->model_id = sqlite3_column_int64(st, 0);
    snprintf(info->name, sizeof info->name, "%s", (const char *)sqlite3_column_text(st, 1));
    info->fitted_at = sqlite3_column_int64(st, 2);
    info->as_of = sqlite3_column_int64(st, 3);
    info->loglik = sqlite3_column_type(st, 7) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 7);
    info->n = sqlite3_column_int64(st, 8);
    info->status = CUSTSCORE_FIT_CONVERGED;
    const char *zero = (const char *)sqlite3_column_text(st, 11);
    info->zero = zero && strcmp(zero, "purchase") == 0 ? CUSTSCORE_ZERO_REVENUE_PURCHASE
                                                       : CUSTSCORE_ZERO_REVENUE_ADJUSTMENT;
    const char *params = (const char *)sqlite3_column_text(st, 5);
    const char *se = (const char *)sqlite3_column_text(st, 6);
    const char *meta = (const char *)sqlite3_column_text(st, 9);
    if ((!zero || !params || !se || !meta) && sqlite3_errcode(db->sql) == SQLITE_NOMEM) {
        sqlite3_finalize(st);
        return cs_error(db, CUSTSCORE_ENOMEM, "out of memory loading a model");
    }
    rc = cs_prepare(db, "SELECT json_extract(?1, ?2)", &q);
    char path[64];
    for (int k = 0; rc == 0 && k < info->n_params; k++) {
        snprintf(path, sizeof path, "$.%s", info->param_name[k]);
        rc = cs_json_number(db, q, params, path, &info->param[k]);
        if (rc == 0 && se)
            rc = cs_json_number(db, q, se, path, &info->std_error[k]);
        for (int j = 0; rc == 0 && meta && j < info->n_params; j++) {
            snprintf(path, sizeof path, "$.cov_log[%d][%d]", k, j);
            rc = cs_json_number(db, q, meta, path, &info->cov_log[k][j]);
        }
    }
    static const char *const keys[] = {
        "$.gradient_norm",        "$.penalty",    "$.time_scale",
        "$.repeat_purchases",     "$.aic",        "$.bic",
        "$.spend_frequency_corr", "$.mean_spend", "$.iterations",
        "$.evaluations",          "$.starts",     "$.starts_converged",
        "$.starts_agreeing",      "$.n_unique",   "$.n_excluded"};
    double v[sizeof keys / sizeof keys[0]];
    for (size_t k = 0; rc == 0 && meta && k < sizeof keys / sizeof keys[0]; k++)
        rc = cs_json_number(db, q, meta, keys[k], &v[k]);
    if (rc == 0 && meta) {
        info->gradient_norm = v[0];
        info->penalty = v[1];
        info->time_scale = v[2];
        info->repeat_purchases = v[3];
        info->aic = v[4];
        info->bic = v[5];
        info->spend_frequency_corr = v[6];
        info->mean_spend = v[7];
        info->iterations = isfinite(v[8]) ? (int)v[8] : 0;
        info->evaluations = isfinite(v[9]) ? (int)v[9] : 0;
        info->starts = isfinite(v[10]) ? (int)v[10] : 0;
        info->starts_converged = isfinite(v[11]) ? (int)v[11] : 0;
        info->starts_agreeing = isfinite(v[12]) ? (int)v[12] : 0;
        info->n_unique = isfinite(v[13]) ? (int64_t)v[13] : 0;
        info->n_excluded = isfinite(v[14]) ? (int64_t)v[14] : 0;
    }
    sqlite3_finalize(q);
    sqlite3_finalize(st);
    if (rc)
        return rc;
    cs_fit_info_views(info);
    bool ok = model == CUSTSCORE_MODEL_GG ? cs_gg_params_valid(&info->gg)
                                          : cs_btyd_params_valid(&info->btyd);
    if (!ok)
        return cs_error(db, CUSTSCORE_ECORRUPT, "model '%s' (id %lld): invalid parameters",
                        info->name, (long long)info->model_id);
    return CUSTSCORE_OK;
}
