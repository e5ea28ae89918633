/*
 * clv_store.c: the lifetime-value functions on the store: CLV of every
 * customer or of one with the saved models (the computation itself is in
 * clv.c), the margin from the store's costs, and the calibration/holdout
 * comparison.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Margin from the store's orders up to the as-of day: sum(revenue - cost) /
 * sum(revenue) when any order has a cost. */
static int cs_store_margin(custscore *db, int64_t as_of, double *margin, bool *from_costs)
{
    *margin = 1.0;
    *from_costs = false;
    sqlite3_stmt *st;
    int rc = cs_prepare(db,
                        "SELECT total(revenue), total(cost), count(cost) FROM orders"
                        " WHERE ts < ?1",
                        &st);
    if (rc)
        return rc;
    int64_t limit = as_of >= INT64_MAX - CS_SECONDS_PER_DAY
                        ? INT64_MAX
                        : (cs_day_of(as_of) + 1) * CS_SECONDS_PER_DAY;
    sqlite3_bind_int64(st, 1, limit);
    int src = sqlite3_step(st);
    if (src != SQLITE_ROW) {
        rc = cs_sqlite_error(db, src, "computing the margin");
        sqlite3_finalize(st);
        return rc;
    }
    double revenue = sqlite3_column_double(st, 0), cost = sqlite3_column_double(st, 1);
    int64_t with_cost = sqlite3_column_int64(st, 2);
    sqlite3_finalize(st);
    if (with_cost > 0 && revenue > 0.0) {
        *margin = (revenue - cost) / revenue;
        *from_costs = true;
    }
    return CUSTSCORE_OK;
}

/* Load the purchase and spend models named by the options. */
static int cs_clv_models(custscore *db, const custscore_clv_options *o, custscore_fit_info *pm,
                         custscore_fit_info *sm)
{
    custscore_clv_options d = CUSTSCORE_CLV_OPTIONS_INIT;
    if (!o)
        o = &d;
    int rc = custscore_model_load(db, o->purchase_model, pm);
    if (rc)
        return rc;
    if (pm->model == CUSTSCORE_MODEL_GG)
        return cs_error(db, CUSTSCORE_EINVAL,
                        "model '%s' is a spend model (Gamma-Gamma), not a purchase model",
                        pm->name);
    const char *spend_name = o->spend_model ? o->spend_model : "gg";
    rc = custscore_model_load(db, spend_name, sm);
    if (rc == CUSTSCORE_ENOMODEL)
        return cs_error(db, CUSTSCORE_ENOMODEL,
                        "no fitted spend model '%s' (fit one: custscore fit --model gg)",
                        spend_name);
    if (rc)
        return rc;
    if (sm->model != CUSTSCORE_MODEL_GG)
        return cs_error(db, CUSTSCORE_EINVAL, "model '%s' is not a spend (Gamma-Gamma) model",
                        sm->name);
    return CUSTSCORE_OK;
}

int custscore_clv_each(custscore *db, int64_t as_of, const custscore_clv_options *options,
                       custscore_clv_fn fn, void *payload, custscore_clv_info *info)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!fn)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_clv_each: no callback");
    int rc = cs_check_as_of(db, as_of, "custscore_clv_each: as-of time");
    if (rc)
        return rc;
    custscore_fit_info pm, sm;
    rc = cs_clv_models(db, options, &pm, &sm);
    if (rc)
        return rc;
    double margin;
    bool from_costs;
    rc = cs_store_margin(db, as_of, &margin, &from_costs);
    if (rc)
        return rc;
    custscore_clv_options o;
    cs_clv_plan plan;
    char err[CS_ERRMSG_SIZE] = "";
    rc = cs_clv_options_resolve(options, pm.unit, margin, &o, &plan, err, sizeof err);
    if (rc)
        return cs_error(db, rc, "%s", err[0] ? err : custscore_errstr(rc));
    if (options && options->margin != 0.0)
        from_costs = false;
    cs_history h;
    rc = cs_history_load(db, as_of, &h);
    if (rc) {
        cs_clv_plan_free(&plan);
        return rc;
    }
    size_t n = h.n_customers, m = 0;
    custscore_summary *su = cs_mallocarray(n ? n : 1, sizeof *su);
    size_t *idx = cs_mallocarray(n ? n : 1, sizeof *idx);
    double *buf = cs_mallocarray((n ? n : 1) * 10, sizeof *buf);
    if (!su || !idx || !buf) {
        rc = cs_error(db, CUSTSCORE_ENOMEM, "out of memory for %zu customers", n);
        goto done;
    }
    double unit_days = custscore_unit_days(pm.unit);
    for (size_t i = 0; i < n; i++)
        cs_summary_of_ex(&h, i, as_of, unit_days, pm.zero == CUSTSCORE_ZERO_REVENUE_PURCHASE,
                         &su[i]);
    double *x = buf, *t_x = buf + n, *T = buf + 2 * n, *z = buf + 3 * n;
    cs_clv_out out = {buf + 4 * n, buf + 5 * n, buf + 6 * n, buf + 7 * n, buf + 8 * n, buf + 9 * n};
    for (size_t i = 0; i < n; i++) {
        if (su[i].first == 0)
            continue; /* no purchase yet: not a customer of the models */
        x[m] = (double)su[i].x;
        t_x[m] = su[i].t_x;
        T[m] = su[i].T;
        z[m] = su[i].mean_repeat_spend > 0 ? su[i].mean_repeat_spend : 0.0;
        idx[m++] = i;
    }
    double total;
    rc = cs_clv_compute(&pm, &sm, &plan, m, x, t_x, T, z, &out, &total, err, sizeof err);
    if (rc) {
        rc = cs_error(db, rc, "%s", err[0] ? err : custscore_errstr(rc));
        goto done;
    }
    cs_clv_info_fill(info, &pm, &sm, &o, &plan, as_of, (int64_t)m, total, from_costs);
    for (size_t k = 0; k < m; k++) {
        const custscore_summary *s = &su[idx[k]];
        custscore_clv_row row = {s->customer,
                                 s->x,
                                 s->t_x,
                                 s->T,
                                 z[k],
                                 out.p_alive[k],
                                 out.expected_purchases[k],
                                 out.expected_spend[k],
                                 out.clv[k],
                                 out.clv_low[k],
                                 out.clv_high[k]};
        int stop = fn(&row, payload);
        if (stop) {
            rc = stop;
            break;
        }
    }
done:
    cs_free(su);
    cs_free(idx);
    cs_free(buf);
    cs_history_free(&h);
    cs_clv_plan_free(&plan);
    return rc;
}

int custscore_clv_one(custscore *db, const char *customer, int64_t as_of,
                      const custscore_clv_options *options, custscore_clv_row *row,
                      custscore_clv_info *info)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!customer || !row)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_clv_one: customer and row are required");
    int rc = cs_check_as_of(db, as_of, "custscore_clv_one: as-of time");
    if (rc)
        return rc;
    custscore_fit_info pm, sm;
    rc = cs_clv_models(db, options, &pm, &sm);
    if (rc)
        return rc;
    double margin;
    bool from_costs;
    rc = cs_store_margin(db, as_of, &margin, &from_costs);
    if (rc)
        return rc;
    custscore_clv_options o;
    cs_clv_plan plan;
    char err[CS_ERRMSG_SIZE] = "";
    rc = cs_clv_options_resolve(options, pm.unit, margin, &o, &plan, err, sizeof err);
    if (rc)
        return cs_error(db, rc, "%s", err[0] ? err : custscore_errstr(rc));
    if (options && options->margin != 0.0)
        from_costs = false;
    custscore_summary s;
    custscore_summary_options so = CUSTSCORE_SUMMARY_OPTIONS_INIT;
    so.unit = pm.unit;
    so.zero = pm.zero;
    rc = custscore_summary_one(db, customer, as_of, &so, &s);
    if (rc) {
        cs_clv_plan_free(&plan);
        return rc;
    }
    if (s.first == 0) {
        cs_clv_plan_free(&plan);
        return cs_error(db, CUSTSCORE_EINVAL, "customer '%s' has no purchase by the as-of day",
                        customer);
    }
    double x = (double)s.x, tx = s.t_x, T = s.T,
           z = s.mean_repeat_spend > 0 ? s.mean_repeat_spend : 0;
    memset(row, 0, sizeof *row);
    cs_clv_out out = {&row->p_alive,        &row->expected_purchases,
                      &row->expected_spend, &row->clv,
                      &row->clv_low,        &row->clv_high};
    double total;
    rc = cs_clv_compute(&pm, &sm, &plan, 1, &x, &tx, &T, &z, &out, &total, err, sizeof err);
    if (rc) {
        cs_clv_plan_free(&plan);
        return cs_error(db, rc, "%s", err[0] ? err : custscore_errstr(rc));
    }
    row->customer = s.customer;
    row->x = s.x;
    row->t_x = s.t_x;
    row->T = s.T;
    row->mean_spend = z;
    cs_clv_info_fill(info, &pm, &sm, &o, &plan, as_of, 1, total, from_costs);
    cs_clv_plan_free(&plan);
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */
/* Calibration / holdout */

void custscore_holdout_free(custscore_holdout_report *report)
{
    if (!report)
        return;
    cs_free(report->rows);
    report->rows = NULL;
    report->n_rows = 0;
}

int custscore_holdout(custscore *db, int64_t calibration_end, int64_t holdout_end,
                      const custscore_fit_options *options, int censor, custscore_holdout_fn fn,
                      void *payload, custscore_holdout_report *report)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!report)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_holdout: report is NULL");
    memset(report, 0, sizeof *report);
    int rc = cs_check_as_of(db, calibration_end, "custscore_holdout: calibration end");
    if (rc == 0)
        rc = cs_check_as_of(db, holdout_end, "custscore_holdout: holdout end");
    if (rc)
        return rc;
    custscore_fit_options o;
    char err[CS_ERRMSG_SIZE] = "";
    rc = cs_fit_options_check(options, &o, err, sizeof err);
    if (rc)
        return cs_error(db, rc, "%s", err[0] ? err : custscore_errstr(rc));
    if (o.model == CUSTSCORE_MODEL_GG)
        return cs_error(db, CUSTSCORE_EINVAL,
                        "compares purchase counts; choose a purchase model, not gg");
    if (censor == 0)
        censor = 7;
    if (censor < 1 || censor > 1000)
        return cs_error(db, CUSTSCORE_EINVAL, "censor %d: must be 1..1000", censor);
    int stop = 0;
    int64_t cal_day = cs_day_of(calibration_end), hold_day = cs_day_of(holdout_end);
    if (hold_day <= cal_day)
        return cs_error(db, CUSTSCORE_EINVAL,
                        "the holdout end must be at least a day after the calibration "
                        "end");
    double unit_days = custscore_unit_days(o.unit);
    double length = (double)(hold_day - cal_day) / unit_days;
    cs_history h;
    rc = cs_history_load(db, holdout_end, &h);
    if (rc)
        return rc;
    size_t n = h.n_customers, m = 0;
    double *buf = cs_mallocarray((n ? n : 1) * 5, sizeof *buf);
    size_t *idx = cs_mallocarray(n ? n : 1, sizeof *idx);
    report->rows = cs_calloc((size_t)censor + 1, sizeof *report->rows);
    if (!buf || !idx || !report->rows) {
        rc = cs_error(db, CUSTSCORE_ENOMEM, "out of memory for %zu customers", n);
        goto done;
    }
    double *x = buf, *t_x = buf + n, *T = buf + 2 * n, *actual = buf + 3 * n, *pred = buf + 4 * n;
    for (size_t i = 0; i < n; i++) {
        custscore_summary cal, end;
        bool zero = o.zero == CUSTSCORE_ZERO_REVENUE_PURCHASE;
        cs_summary_of_ex(&h, i, calibration_end, unit_days, zero, &cal);
        if (cal.first == 0)
            continue;
        cs_summary_of_ex(&h, i, holdout_end, unit_days, zero, &end);
        x[m] = (double)cal.x;
        t_x[m] = cal.t_x;
        T[m] = cal.T;
        actual[m] = (double)(end.x - cal.x);
        idx[m++] = i;
    }
    if (m == 0) {
        rc = cs_error(db, CUSTSCORE_EINVAL,
                      "no customer has a purchase by the "
                      "calibration end");
        goto done;
    }
    rc = custscore_btyd_fit(&o, m, x, t_x, T, NULL, &report->fit, err, sizeof err);
    if (rc) {
        rc = cs_error(db, rc, "%s", err[0] ? err : custscore_errstr(rc));
        goto done;
    }
    report->fit.as_of = calibration_end;
    snprintf(report->fit.name, sizeof report->fit.name, "%s",
             o.name ? o.name : custscore_model_name(o.model));
    rc = custscore_btyd_conditional_expected(&report->fit.btyd, length, m, x, t_x, T, pred);
    if (rc) {
        rc = cs_error(db, rc, "computing the predictions");
        goto done;
    }
    report->calibration_end = calibration_end;
    report->holdout_end = holdout_end;
    report->holdout_length = length;
    report->customers = (int64_t)m;
    report->n_rows = (size_t)censor + 1;
    for (int k = 0; k <= censor; k++)
        report->rows[k].x = k;
    double sa = 0, sp = 0, sae = 0, sse = 0, saa = 0, spp = 0, sap = 0;
    for (size_t k = 0; k < m; k++) {
        size_t r = x[k] >= censor ? (size_t)censor : (size_t)x[k];
        report->rows[r].customers++;
        report->rows[r].actual += actual[k];
        report->rows[r].predicted += pred[k];
        sa += actual[k];
        sp += pred[k];
        sae += fabs(actual[k] - pred[k]);
        sse += (actual[k] - pred[k]) * (actual[k] - pred[k]);
        saa += actual[k] * actual[k];
        spp += pred[k] * pred[k];
        sap += actual[k] * pred[k];
        if (fn && stop == 0) {
            custscore_holdout_customer c = {h.key[idx[k]], (int64_t)x[k],      t_x[k],
                                            T[k],          (int64_t)actual[k], pred[k]};
            stop = fn(&c, payload);
        }
    }
    for (int k = 0; k <= censor; k++)
        if (report->rows[k].customers > 0) {
            report->rows[k].actual /= (double)report->rows[k].customers;
            report->rows[k].predicted /= (double)report->rows[k].customers;
        }
    double dm = (double)m;
    report->actual_total = sa;
    report->predicted_total = sp;
    report->mae = sae / dm;
    report->rmse = sqrt(sse / dm);
    double va = saa / dm - (sa / dm) * (sa / dm), vp = spp / dm - (sp / dm) * (sp / dm);
    report->correlation =
        va > 0 && vp > 0 ? (sap / dm - (sa / dm) * (sp / dm)) / sqrt(va * vp) : NAN;
    rc = stop; /* the report is complete; a callback's stop value is returned */
done:
    if (rc && !stop)
        custscore_holdout_free(report);
    cs_free(buf);
    cs_free(idx);
    cs_history_free(&h);
    return rc;
}
