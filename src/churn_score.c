/*
 * churn_score.c: scoring customers for churn risk. Logistic methods: the
 * stored model's features at the scoring date, probability, band, the
 * reasons (each feature group's contribution c_j (x_j - m_j) on the logit
 * scale) and value at risk. BTYD methods: P(X(W) = 0 | x, t_x, T) or
 * 1 - P(alive) from the stored purchase model (helper functions of btyd.c).
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CS_REASON_TEXT 192

typedef struct cs_scorer {
    custscore *db;
    cs_churn_settings s;
    const cs_churn_model *m;
    const cs_history *h;
    cs_churn_ctx ctx;
    double band_medium, band_high;
    double *clv;       /* [n_customers] NaN when unknown; NULL without a CLV model */
    double *row;       /* [n_cols] */
    double *contrib;   /* [n_groups] */
    size_t *group_col; /* [n_groups] first column of each group */
    char text[CUSTSCORE_CHURN_REASONS][CS_REASON_TEXT];
} cs_scorer;

static void cs_scorer_free(cs_scorer *sc)
{
    cs_free(sc->clv);
    cs_free(sc->row);
    cs_free(sc->contrib);
    cs_free(sc->group_col);
    cs_churn_ctx_close(&sc->ctx);
}

/* CLV of every customer of the history from the stored CLV models; leaves
 * sc->clv NULL when there is no model (value at risk is then not given). */
typedef struct cs_clv_collect {
    const cs_history *h;
    double *clv;
} cs_clv_collect;

static int cs_clv_collect_fn(const custscore_clv_row *row, void *payload)
{
    cs_clv_collect *c = payload;
    ptrdiff_t i = cs_history_find(c->h, row->customer);
    if (i >= 0)
        c->clv[i] = row->clv;
    return 0;
}

static int cs_scorer_clv(cs_scorer *sc, int64_t as_of)
{
    if (!sc->s.clv)
        return CUSTSCORE_OK;
    size_t n = sc->h->n_customers;
    sc->clv = cs_mallocarray(n ? n : 1, sizeof *sc->clv);
    if (!sc->clv)
        return cs_error(sc->db, CUSTSCORE_ENOMEM, "churn: out of memory");
    for (size_t i = 0; i < n; i++)
        sc->clv[i] = NAN;
    cs_clv_collect c = {sc->h, sc->clv};
    custscore_clv_options co = CUSTSCORE_CLV_OPTIONS_INIT;
    co.interval_level = 0; /* the point value is all value at risk needs */
    co.purchase_model = sc->s.btyd_model;
    int rc = custscore_clv_each(sc->db, as_of, &co, cs_clv_collect_fn, &c, NULL);
    if (rc == CUSTSCORE_ENOMODEL) {
        cs_free(sc->clv);
        sc->clv = NULL;
        cs_clear_error(sc->db);
        return CUSTSCORE_OK;
    }
    return rc;
}

static void cs_fill_clv(const cs_scorer *sc, size_t i, custscore_churn_score *out)
{
    out->has_clv = sc->clv && isfinite(sc->clv[i]);
    out->clv = out->has_clv ? sc->clv[i] : 0;
    out->value_at_risk = out->has_clv ? out->probability * out->clv : 0;
}

/* Reason texts are written for every scored customer, so numbers are
 * formatted here rather than with printf's %f (several times slower). */
typedef struct cs_text {
    char *p, *end; /* end leaves room for the terminating NUL */
} cs_text;

static void cs_text_str(cs_text *t, const char *s)
{
    while (*s && t->p < t->end)
        *t->p++ = *s++;
    *t->p = '\0';
}

/* v with @decimals (0..3) digits after the point, as printf("%.*f"). */
static void cs_text_num(cs_text *t, double v, int decimals)
{
    static const double scale[] = {1, 10, 100, 1000};
    if (!(fabs(v) * scale[decimals] < 9e15)) {
        char tmp[64];
        if (cs_snprintf_c(tmp, sizeof tmp, "%.*f", decimals, v) < 0)
            tmp[0] = '\0';
        cs_text_str(t, tmp);
        return;
    }
    double r = nearbyint(fabs(v) * scale[decimals]); /* ties to even, as printf */
    uint64_t u = (uint64_t)r;
    char digits[32];
    int n = 0;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0 || n <= decimals);
    if (v < 0 && r > 0 && t->p < t->end)
        *t->p++ = '-';
    while (n > 0 && t->p < t->end) {
        if (n == decimals && t->p < t->end)
            *t->p++ = '.';
        if (t->p < t->end)
            *t->p++ = digits[--n];
    }
    *t->p = '\0';
}

static void cs_text_count(cs_text *t, double v, const char *noun)
{
    cs_text_num(t, v, 0);
    cs_text_str(t, " ");
    cs_text_str(t, noun);
    if (v != 1)
        cs_text_str(t, "s");
}

/* A reason in words: the facts behind feature group g for customer i. */
static void cs_reason_text(const cs_scorer *sc, size_t i, const cs_churn_behaviour *bh, size_t g,
                           char *buf, size_t size)
{
    const cs_churn_model *m = sc->m;
    const cs_churn_col *c = &m->col[sc->group_col[g]];
    cs_text t = {buf, buf + size - 1};
    buf[0] = '\0';
    if (c->kind != CS_CHURN_COL_BUILTIN) {
        ptrdiff_t a = cs_churn_ctx_find_attribute(&sc->ctx, c->attribute);
        const cs_churn_attribute *v = a >= 0 ? &sc->ctx.attr[a].values : NULL;
        if (!v) {
            snprintf(buf, size, "%s", c->attribute);
        } else if (v->categorical) {
            int32_t l = v->level[i];
            if (l < 0)
                snprintf(buf, size, "%s unknown", c->attribute);
            else
                snprintf(buf, size, "%s is %s", c->attribute, cs_strmap_key(&v->levels, (size_t)l));
        } else if (isnan(v->number[i])) {
            snprintf(buf, size, "%s unknown", c->attribute);
        } else {
            cs_snprintf_c(buf, size, "%s = %g", c->attribute, v->number[i]);
        }
        return;
    }
    double half = fmin(m->lookback_days, bh->tenure_days + 1) / 2;
    double recent = 0, unresolved = 0;
    switch (c->builtin) {
    case CS_CHURN_RECENCY_RATIO:
    case CS_CHURN_RECENCY_DAYS:
        cs_text_str(&t, "last purchase ");
        cs_text_count(&t, bh->recency_days, "day");
        cs_text_str(&t, " ago, ");
        cs_text_num(&t, bh->recency_days / fmax(bh->usual_gap_days, 1.0), 1);
        cs_text_str(&t, " times the usual gap of ");
        cs_text_num(&t, bh->usual_gap_days, 0);
        cs_text_str(&t, " days");
        break;
    case CS_CHURN_FREQUENCY:
        cs_text_count(&t, bh->occasions, "purchase occasion");
        break;
    case CS_CHURN_MONETARY:
        cs_text_str(&t, "spend ");
        cs_text_num(&t, bh->mean_spend, 2);
        cs_text_str(&t, " per purchase occasion");
        break;
    case CS_CHURN_FREQUENCY_TREND:
        cs_text_count(&t, bh->freq_recent, "purchase occasion");
        cs_text_str(&t, " in the last ");
        cs_text_num(&t, half, 0);
        cs_text_str(&t, " days, ");
        cs_text_num(&t, bh->freq_earlier, 0);
        cs_text_str(&t, " in the ");
        cs_text_num(&t, half, 0);
        cs_text_str(&t, " before");
        break;
    case CS_CHURN_SPEND_TREND:
        cs_text_str(&t, "spend ");
        cs_text_num(&t, bh->spend_recent, 2);
        cs_text_str(&t, " in the last ");
        cs_text_num(&t, half, 0);
        cs_text_str(&t, " days, ");
        cs_text_num(&t, bh->spend_earlier, 2);
        cs_text_str(&t, " in the ");
        cs_text_num(&t, half, 0);
        cs_text_str(&t, " before");
        break;
    case CS_CHURN_TENURE:
        cs_text_str(&t, "customer for ");
        cs_text_count(&t, bh->tenure_days, "day");
        break;
    case CS_CHURN_P_ALIVE:
        if (sc->ctx.p_alive && !isnan(sc->ctx.p_alive[i])) {
            cs_text_str(&t, "P(alive) ");
            cs_text_num(&t, sc->ctx.p_alive[i], 2);
        } else {
            cs_text_str(&t, "P(alive) unknown");
        }
        break;
    case CS_CHURN_SATISFACTION:
    case CS_CHURN_SATISFACTION_MISSING:
        if (sc->ctx.satisfaction && !isnan(sc->ctx.satisfaction[i])) {
            cs_text_str(&t, "satisfaction ");
            cs_text_num(&t, sc->ctx.satisfaction[i], 1);
        } else {
            cs_text_str(&t, "no satisfaction score");
        }
        break;
    case CS_CHURN_COMPLAINTS_RECENT:
        cs_churn_complaint_counts(&sc->ctx.complaints, i, sc->ctx.ref_day, m->complaint_days,
                                  &recent, &unresolved);
        cs_text_count(&t, recent, "complaint");
        cs_text_str(&t, " in the last ");
        cs_text_num(&t, m->complaint_days, 0);
        cs_text_str(&t, " days");
        break;
    case CS_CHURN_COMPLAINTS_UNRESOLVED:
        cs_churn_complaint_counts(&sc->ctx.complaints, i, sc->ctx.ref_day, m->complaint_days,
                                  &recent, &unresolved);
        cs_text_count(&t, unresolved, "unresolved complaint");
        break;
    default:
        cs_text_str(&t, c->name);
    }
}

/* Score customer i with the logistic model into @out. */
static void cs_score_logistic(cs_scorer *sc, size_t i, const cs_churn_behaviour *bh,
                              custscore_churn_score *out)
{
    const cs_churn_model *m = sc->m;
    double *row = sc->row;
    double logit = m->intercept, at_mean = m->intercept;
    for (size_t g = 0; g < m->n_groups; g++)
        sc->contrib[g] = 0;
    for (size_t j = 0; j < m->n_cols; j++) {
        const cs_churn_col *c = &m->col[j];
        double v = isnan(row[j]) ? c->mean : row[j];
        logit += c->coef * v;
        at_mean += c->coef * c->mean;
        sc->contrib[m->col_group[j]] += c->coef * (v - c->mean);
    }
    out->logit = logit;
    out->logit_at_mean = at_mean;
    out->probability = cs_sigmoid(logit);
    out->n_groups = m->n_groups;
    out->groups = m->group;
    out->contribution = sc->contrib;
    /* The three largest contributions of at least CUSTSCORE_CHURN_REASON_MIN. */
    size_t top[CUSTSCORE_CHURN_REASONS];
    size_t n_top = 0;
    for (size_t g = 0; g < m->n_groups; g++) {
        double v = sc->contrib[g];
        if (!(v >= CUSTSCORE_CHURN_REASON_MIN))
            continue;
        size_t k = n_top < CUSTSCORE_CHURN_REASONS ? n_top++ : CUSTSCORE_CHURN_REASONS;
        if (k == CUSTSCORE_CHURN_REASONS) {
            if (v <= sc->contrib[top[k - 1]])
                continue;
            k--;
        }
        while (k > 0 && sc->contrib[top[k - 1]] < v) {
            top[k] = top[k - 1];
            k--;
        }
        top[k] = g;
    }
    out->n_reasons = n_top;
    for (size_t r = 0; r < n_top; r++) {
        cs_reason_text(sc, i, bh, top[r], sc->text[r], sizeof sc->text[r]);
        out->reason[r].feature = m->group[top[r]];
        out->reason[r].text = sc->text[r];
        out->reason[r].contribution = sc->contrib[top[r]];
    }
}

static void cs_set_band(const cs_scorer *sc, custscore_churn_score *out)
{
    out->band = custscore_churn_band(out->probability, sc->band_medium, sc->band_high);
    out->band_level = out->probability >= sc->band_high     ? 2
                      : out->probability >= sc->band_medium ? 1
                                                            : 0;
}

/* BTYD methods: P(X(W) = 0 | x, t_x, T) or 1 - P(alive) under the stored
 * purchase model, as of as_of. */
static int cs_score_btyd(cs_scorer *sc, int64_t as_of, custscore_churn_fn fn, void *payload)
{
    custscore *db = sc->db;
    custscore_fit_info model;
    int rc = custscore_model_load(db, sc->s.btyd_model, &model);
    if (rc)
        return rc == CUSTSCORE_ENOMODEL
                   ? cs_error(db, CUSTSCORE_ENOMODEL,
                              "churn: method %s needs a fitted BTYD purchase model: fit one "
                              "first (custscore_fit, `custscore fit --model bgnbd`)",
                              cs_churn_method_name(sc->s.method))
                   : rc;
    if (model.model == CUSTSCORE_MODEL_GG)
        return cs_error(db, CUSTSCORE_EINVAL,
                        "churn: btyd_model %s is a spend model (Gamma-Gamma), not a purchase model",
                        model.name);
    double window = sc->s.window_days > 0 ? (double)sc->s.window_days : 90;
    double unit_days = custscore_unit_days(model.unit);
    cs_history h;
    rc = cs_history_load(db, as_of, &h);
    if (rc)
        return rc;
    sc->h = &h;
    rc = cs_scorer_clv(sc, as_of);
    size_t n = h.n_customers;
    double *x = cs_mallocarray(n ? n : 1, sizeof *x);
    double *t_x = cs_mallocarray(n ? n : 1, sizeof *t_x);
    double *T = cs_mallocarray(n ? n : 1, sizeof *T);
    double *p = cs_mallocarray(n ? n : 1, sizeof *p);
    size_t *pos = cs_mallocarray(n ? n : 1, sizeof *pos);
    if (rc == 0 && (!x || !t_x || !T || !p || !pos))
        rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory");
    if (rc)
        goto done;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        custscore_summary su;
        cs_summary_of(&h, i, as_of, unit_days, &su);
        if (su.first == 0)
            continue;
        x[m] = (double)su.x;
        t_x[m] = su.t_x;
        T[m] = su.T;
        pos[m++] = i;
    }
    if (sc->s.method == CUSTSCORE_CHURN_BTYD) {
        rc = custscore_btyd_p_no_purchase(&model.btyd, window / unit_days, m, x, t_x, T, p);
    } else {
        rc = custscore_btyd_p_alive(&model.btyd, m, x, t_x, T, p);
        for (size_t k = 0; rc == 0 && k < m; k++)
            p[k] = 1 - p[k];
    }
    if (rc) {
        rc = cs_error(db, rc, "churn: BTYD model %s: cannot compute the scores", model.name);
        goto done;
    }
    char text[CS_REASON_TEXT];
    for (size_t k = 0; k < m && rc == 0; k++) {
        size_t i = pos[k];
        custscore_churn_score out;
        memset(&out, 0, sizeof out);
        out.customer = h.key[i];
        out.probability = fmin(fmax(p[k], 0), 1);
        out.logit = log(out.probability) - log1p(-out.probability);
        out.logit_at_mean = NAN;
        cs_set_band(sc, &out);
        if (sc->s.method == CUSTSCORE_CHURN_BTYD)
            cs_snprintf_c(text, sizeof text, "%s: P(no purchase in the next %.0f days) %.2f",
                          model.name, window, out.probability);
        else
            cs_snprintf_c(text, sizeof text, "%s: P(alive) %.2f", model.name, 1 - out.probability);
        out.n_reasons = 1;
        out.reason[0].feature = cs_churn_method_name(sc->s.method);
        out.reason[0].text = text;
        out.reason[0].contribution = NAN;
        cs_fill_clv(sc, i, &out);
        rc = fn(&out, payload);
    }
done:
    cs_free(x);
    cs_free(t_x);
    cs_free(T);
    cs_free(p);
    cs_free(pos);
    cs_scorer_free(sc);
    cs_history_free(&h);
    return rc;
}

int cs_churn_score_history(custscore *db, const cs_history *h, const cs_churn_model *m,
                           int64_t as_of, double band_medium, double band_high, bool with_clv,
                           const char *clv_purchase_model, custscore_churn_fn fn, void *payload)
{
    cs_scorer scorer, *sc = &scorer;
    memset(sc, 0, sizeof *sc);
    sc->db = db;
    sc->m = m;
    sc->h = h;
    sc->s.btyd_model = clv_purchase_model;
    sc->s.clv = with_clv;
    sc->band_medium = band_medium;
    sc->band_high = band_high;
    int rc = cs_churn_ctx_open(db, h, cs_day_of(as_of), &sc->ctx);
    bool p_alive = false, satisfaction = false;
    for (size_t j = 0; j < m->n_cols; j++) {
        if (m->col[j].kind != CS_CHURN_COL_BUILTIN)
            continue;
        p_alive = p_alive || m->col[j].builtin == CS_CHURN_P_ALIVE;
        satisfaction = satisfaction || m->col[j].builtin == CS_CHURN_SATISFACTION ||
                       m->col[j].builtin == CS_CHURN_SATISFACTION_MISSING;
    }
    if (rc == 0 && p_alive) {
        char *used = NULL;
        rc = cs_churn_ctx_p_alive(&sc->ctx, m->btyd_model, &used);
        cs_free(used);
        if (rc == CUSTSCORE_ENOMODEL) {
            cs_clear_error(db); /* the feature is imputed with its mean */
            rc = 0;
        }
    }
    if (rc == 0 && satisfaction) {
        char *used = NULL;
        rc = cs_churn_ctx_satisfaction(&sc->ctx, m->survey_model, &used);
        cs_free(used);
    }
    if (rc == 0)
        rc = cs_churn_ctx_bind(&sc->ctx, m);
    if (rc == 0)
        rc = cs_scorer_clv(sc, as_of);
    if (rc == 0) {
        sc->row = cs_calloc(m->n_cols + 1, sizeof *sc->row);
        sc->contrib = cs_calloc(m->n_groups + 1, sizeof *sc->contrib);
        sc->group_col = cs_calloc(m->n_groups + 1, sizeof *sc->group_col);
        if (!sc->row || !sc->contrib || !sc->group_col)
            rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory");
    }
    if (rc) {
        cs_scorer_free(sc);
        return rc;
    }
    for (size_t j = m->n_cols; j-- > 0;)
        sc->group_col[m->col_group[j]] = j;
    bool need_purchase = m->method == CUSTSCORE_CHURN_WINDOW;
    for (size_t i = 0; i < h->n_customers; i++) {
        cs_churn_behaviour bh;
        cs_churn_row(m, &sc->ctx, i, sc->row, &bh);
        if (need_purchase && bh.occasions == 0)
            continue;
        custscore_churn_score out;
        memset(&out, 0, sizeof out);
        out.customer = h->key[i];
        cs_score_logistic(sc, i, &bh, &out);
        cs_set_band(sc, &out);
        cs_fill_clv(sc, i, &out);
        rc = fn(&out, payload);
        if (rc)
            break;
    }
    cs_scorer_free(sc);
    return rc;
}

int custscore_churn_score_each(custscore *db, int64_t as_of, const custscore_churn_options *options,
                               custscore_churn_fn fn, void *payload)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!fn)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_churn_score_each: NULL callback");
    int rc = cs_check_as_of(db, as_of, "custscore_churn_score_each: as-of time");
    if (rc)
        return rc;
    cs_scorer sc;
    memset(&sc, 0, sizeof sc);
    sc.db = db;
    rc = cs_churn_settings_get(db, options, false, &sc.s);
    if (rc)
        return rc;
    if (sc.s.method == CUSTSCORE_CHURN_BTYD || sc.s.method == CUSTSCORE_CHURN_BTYD_ALIVE) {
        sc.band_medium = sc.s.band_medium > 0 ? sc.s.band_medium : CUSTSCORE_CHURN_BAND_MEDIUM;
        sc.band_high = sc.s.band_high > 0 ? sc.s.band_high : CUSTSCORE_CHURN_BAND_HIGH;
        return cs_score_btyd(&sc, as_of, fn, payload);
    }
    cs_churn_model m;
    rc = cs_churn_model_load(db, sc.s.model_name, &m);
    if (rc)
        return rc;
    if (sc.s.method != 0 && sc.s.method != m.method) {
        rc = cs_error(
            db, CUSTSCORE_EINVAL, "churn score: the stored model %s uses the %s method, not %s",
            sc.s.model_name, cs_churn_method_name(m.method), cs_churn_method_name(sc.s.method));
        cs_churn_model_free(&m);
        return rc;
    }
    double medium = sc.s.band_medium > 0 ? sc.s.band_medium : m.band_medium;
    double high = sc.s.band_high > 0 ? sc.s.band_high : m.band_high;
    if (!(medium > 0 && medium <= high)) {
        medium = CUSTSCORE_CHURN_BAND_MEDIUM;
        high = CUSTSCORE_CHURN_BAND_HIGH;
    }
    cs_history h;
    rc = cs_history_load(db, as_of, &h);
    if (rc == 0)
        rc = cs_churn_score_history(db, &h, &m, as_of, medium, high, sc.s.clv, sc.s.btyd_model, fn,
                                    payload);
    cs_history_free(&h);
    cs_churn_model_free(&m);
    return rc;
}
