/*
 * fit.c: maximum-likelihood fitting of the purchase models and the
 * Gamma-Gamma spend model, and their persistence in the store's model table.
 *
 * The fit minimises -LL/n (+ an optional L2 penalty) over the
 * log-parameters with the bounded quasi-Newton method of optimize.c from
 * several starting points. Time is divided by the mean T (spend by the mean
 * spend) so that every parameter is of order one whatever the unit; the
 * log-likelihood is corrected back (each purchase's density scales with
 * the time unit: LL = LL_scaled - sum(x) ln(scale)). Standard errors come
 * from the numerical Hessian of the objective at the optimum (the observed
 * information), by the delta method: se(theta_k) = theta_k sd(log theta_k).
 * Fitting from the store and the model table: model_store.c.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CS_LOG_BOUND 15.0 /* parameters within e^-15 .. e^15 of the scaled problem */

static const char *const cs_btyd_names[2][4] = {{"r", "alpha", "a", "b"},
                                                {"r", "alpha", "s", "beta"}};
static const char *const cs_gg_names[3] = {"p", "q", "gamma"};

const char *custscore_model_name(custscore_model model)
{
    switch (model) {
    case CUSTSCORE_MODEL_BGNBD:
        return "bgnbd";
    case CUSTSCORE_MODEL_MBGNBD:
        return "mbgnbd";
    case CUSTSCORE_MODEL_PNBD:
        return "pnbd";
    case CUSTSCORE_MODEL_GG:
        return "gg";
    default:
        return NULL;
    }
}

const char *cs_model_title(custscore_model model)
{
    switch (model) {
    case CUSTSCORE_MODEL_BGNBD:
        return "BG/NBD";
    case CUSTSCORE_MODEL_MBGNBD:
        return "MBG/NBD";
    case CUSTSCORE_MODEL_PNBD:
        return "Pareto/NBD";
    case CUSTSCORE_MODEL_GG:
        return "Gamma-Gamma";
    default:
        return "?";
    }
}

int custscore_model_parse(const char *name, custscore_model *out)
{
    static const struct {
        const char *name;
        custscore_model model;
    } names[] = {
        {"bgnbd", CUSTSCORE_MODEL_BGNBD},    {"bg/nbd", CUSTSCORE_MODEL_BGNBD},
        {"mbgnbd", CUSTSCORE_MODEL_MBGNBD},  {"mbg/nbd", CUSTSCORE_MODEL_MBGNBD},
        {"pnbd", CUSTSCORE_MODEL_PNBD},      {"pareto/nbd", CUSTSCORE_MODEL_PNBD},
        {"paretonbd", CUSTSCORE_MODEL_PNBD}, {"gg", CUSTSCORE_MODEL_GG},
        {"gamma-gamma", CUSTSCORE_MODEL_GG}, {"gammagamma", CUSTSCORE_MODEL_GG},
    };
    if (!name || !out)
        return CUSTSCORE_EINVAL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i].name) == 0) {
            *out = names[i].model;
            return CUSTSCORE_OK;
        }
    return CUSTSCORE_EINVAL;
}

const char *cs_unit_text(custscore_unit unit)
{
    switch (unit) {
    case CUSTSCORE_UNIT_DAY:
        return "day";
    case CUSTSCORE_UNIT_WEEK:
        return "week";
    case CUSTSCORE_UNIT_MONTH:
        return "month";
    case CUSTSCORE_UNIT_YEAR:
        return "year";
    default:
        return NULL;
    }
}

int cs_unit_from_text(const char *text, custscore_unit *out)
{
    for (int u = CUSTSCORE_UNIT_DAY; u <= CUSTSCORE_UNIT_YEAR; u++)
        if (text && strcmp(text, cs_unit_text((custscore_unit)u)) == 0) {
            *out = (custscore_unit)u;
            return 0;
        }
    return -1;
}

static int cs_errf(char *buf, size_t size, int code, const char *fmt, ...) CS_PRINTF(4, 5);
static int cs_errf(char *buf, size_t size, int code, const char *fmt, ...)
{
    if (buf && size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, size, fmt, ap);
        va_end(ap);
    }
    return code;
}

void cs_fit_info_init(custscore_fit_info *info, custscore_model model, custscore_unit unit)
{
    memset(info, 0, sizeof *info);
    info->model = model;
    info->unit = unit;
    info->btyd.model = model;
    int np = model == CUSTSCORE_MODEL_GG ? 3 : 4;
    info->n_params = np;
    for (int k = 0; k < CUSTSCORE_MAX_PARAMS; k++) {
        info->param[k] = NAN;
        info->std_error[k] = NAN;
        for (int j = 0; j < CUSTSCORE_MAX_PARAMS; j++)
            info->cov_log[k][j] = NAN;
        if (k < np)
            info->param_name[k] = model == CUSTSCORE_MODEL_GG
                                      ? cs_gg_names[k]
                                      : cs_btyd_names[model == CUSTSCORE_MODEL_PNBD][k];
    }
    info->loglik = info->aic = info->bic = NAN;
    info->gradient_norm = NAN;
    info->spend_frequency_corr = NAN;
    info->mean_spend = NAN;
    info->time_scale = 1.0;
    info->status = CUSTSCORE_FIT_NOT_FINITE;
    info->btyd.r = info->btyd.alpha = info->btyd.a = info->btyd.b = NAN;
    info->btyd.s = info->btyd.beta = NAN;
    info->gg.p = info->gg.q = info->gg.gamma = NAN;
}

/* Copy param[] into the btyd / gg views. */
void cs_fit_info_views(custscore_fit_info *info)
{
    if (info->model == CUSTSCORE_MODEL_GG) {
        info->gg.p = info->param[0];
        info->gg.q = info->param[1];
        info->gg.gamma = info->param[2];
        return;
    }
    info->btyd.model = info->model;
    info->btyd.r = info->param[0];
    info->btyd.alpha = info->param[1];
    if (info->model == CUSTSCORE_MODEL_PNBD) {
        info->btyd.s = info->param[2];
        info->btyd.beta = info->param[3];
    } else {
        info->btyd.a = info->param[2];
        info->btyd.b = info->param[3];
    }
}

int cs_fit_options_check(const custscore_fit_options *o, custscore_fit_options *out, char *err,
                         size_t err_size)
{
    custscore_fit_options d = CUSTSCORE_FIT_OPTIONS_INIT;
    if (!o)
        o = &d;
    if (o->version != CUSTSCORE_FIT_OPTIONS_VERSION)
        return cs_errf(err, err_size, CUSTSCORE_EINVAL,
                       "fit options: version %u, this library knows version %u (initialise with "
                       "CUSTSCORE_FIT_OPTIONS_INIT)",
                       o->version, CUSTSCORE_FIT_OPTIONS_VERSION);
    *out = *o;
    if (!custscore_model_name(o->model))
        return cs_errf(err, err_size, CUSTSCORE_EINVAL, "fit options: model %d: unknown",
                       (int)o->model);
    if (custscore_unit_days(o->unit) <= 0)
        return cs_errf(err, err_size, CUSTSCORE_EINVAL, "fit options: unit %d: unknown",
                       (int)o->unit);
    if (!isfinite(o->penalty) || o->penalty < 0)
        return cs_errf(err, err_size, CUSTSCORE_EINVAL,
                       "fit options: penalty %g: must be finite and >= 0", o->penalty);
    if (o->starts < 0 || o->starts > CS_OPT_MAX_STARTS)
        return cs_errf(err, err_size, CUSTSCORE_EINVAL, "fit options: starts %d: must be 1..%d",
                       o->starts, CS_OPT_MAX_STARTS);
    if (o->max_iterations < 0)
        return cs_errf(err, err_size, CUSTSCORE_EINVAL,
                       "fit options: max_iterations %d: must be >= 1", o->max_iterations);
    if (!isfinite(o->tolerance) || o->tolerance < 0)
        return cs_errf(err, err_size, CUSTSCORE_EINVAL,
                       "fit options: tolerance %g: must be finite and > 0", o->tolerance);
    if (o->name && (strlen(o->name) == 0 || strlen(o->name) >= CUSTSCORE_MODEL_NAME_SIZE))
        return cs_errf(err, err_size, CUSTSCORE_EINVAL, "fit options: name: must be 1..%d bytes",
                       CUSTSCORE_MODEL_NAME_SIZE - 1);
    if (o->zero != CUSTSCORE_ZERO_REVENUE_ADJUSTMENT && o->zero != CUSTSCORE_ZERO_REVENUE_PURCHASE)
        return cs_errf(err, err_size, CUSTSCORE_EINVAL, "fit options: zero %d: unknown",
                       (int)o->zero);
    if (out->starts == 0)
        out->starts = 3;
    if (out->max_iterations == 0)
        out->max_iterations = 500;
    if (out->tolerance == 0)
        out->tolerance = 1e-7;
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */
/* The objective */

typedef struct cs_fit_ctx {
    custscore_model model;
    const cs_btyd_data *bd;
    const cs_gg_data *gd;
    double *ws;
    double penalty;
    double inv_n;
} cs_fit_ctx;

static void cs_theta_to_btyd(custscore_model model, const double *th, custscore_btyd_params *p)
{
    memset(p, 0, sizeof *p);
    p->model = model;
    p->r = exp(th[0]);
    p->alpha = exp(th[1]);
    if (model == CUSTSCORE_MODEL_PNBD) {
        p->s = exp(th[2]);
        p->beta = exp(th[3]);
    } else {
        p->a = exp(th[2]);
        p->b = exp(th[3]);
    }
}

static int cs_fit_objective(const double *th, double *f, double *grad, void *vctx)
{
    const cs_fit_ctx *c = vctx;
    double ll, g[4], nat[4];
    int np;
    if (c->model == CUSTSCORE_MODEL_GG) {
        np = 3;
        custscore_gg_params p = {exp(th[0]), exp(th[1]), exp(th[2])};
        nat[0] = p.p;
        nat[1] = p.q;
        nat[2] = p.gamma;
        if (cs_gg_loglik_data(&p, c->gd, &ll, grad ? g : NULL, c->ws) != 0)
            return -1;
    } else {
        np = 4;
        custscore_btyd_params p;
        cs_theta_to_btyd(c->model, th, &p);
        nat[0] = p.r;
        nat[1] = p.alpha;
        nat[2] = c->model == CUSTSCORE_MODEL_PNBD ? p.s : p.a;
        nat[3] = c->model == CUSTSCORE_MODEL_PNBD ? p.beta : p.b;
        if (cs_btyd_loglik_data(&p, c->bd, &ll, grad ? g : NULL, c->ws) != 0)
            return -1;
    }
    double pen = 0.0;
    for (int k = 0; k < np; k++)
        pen += th[k] * th[k];
    *f = -ll * c->inv_n + c->penalty * pen;
    if (grad)
        for (int k = 0; k < np; k++)
            grad[k] = -g[k] * nat[k] * c->inv_n + 2.0 * c->penalty * th[k];
    return isfinite(*f) ? 0 : -1;
}

/* ---------------------------------------------------------------------- */
/* The driver shared by both families */

/* Above this many patterns the starting points are explored on a sample of
 * them and only the best is refined on all the data. */
#define CS_FIT_SAMPLE_PATTERNS 20000

/* A stratified sample of about @target patterns: every pattern standing for
 * at least k customers (k = n / target) as it is, one in k of the others
 * with k times the weight. Same time scale as @d. */
static int cs_btyd_sample(const cs_btyd_data *d, size_t target, cs_btyd_data *out)
{
    size_t k = (d->n + target - 1) / target, m = 0;
    double *buf = cs_mallocarray(4 * (d->n / k + d->n / 4 + 2), sizeof *buf);
    if (!buf)
        return CUSTSCORE_ENOMEM;
    size_t cap = d->n / k + d->n / 4 + 2;
    double *x = buf, *tx = buf + cap, *T = buf + 2 * cap, *w = buf + 3 * cap;
    double s = d->time_scale;
    for (size_t i = 0; i < d->n && m < cap; i++) {
        double wi;
        if (d->w[i] >= (double)k)
            wi = d->w[i];
        else if (i % k == 0)
            wi = d->w[i] * (double)k;
        else
            continue;
        x[m] = d->x[i];
        tx[m] = d->t_x[i] * s;
        T[m] = d->T[i] * s;
        w[m] = wi;
        m++;
    }
    int rc = cs_btyd_data_build(m, x, tx, T, w, s, NULL, out, NULL, 0);
    cs_free(buf);
    return rc;
}

/* Multistart on a sample of the patterns, then the best point refined on
 * all of them from the sample's curvature (a few quasi-Newton steps). */
static int cs_fit_sampled(const cs_opt_problem *prob, cs_fit_ctx *ctx, int n_starts,
                          const double *starts, cs_opt_result *best, int *conv, int *agree)
{
    cs_btyd_data sub;
    int rc = cs_btyd_sample(ctx->bd, CS_FIT_SAMPLE_PATTERNS, &sub);
    if (rc)
        return rc;
    double *ws = cs_mallocarray(cs_btyd_ws_size(&sub) + 1, sizeof *ws);
    if (!ws) {
        cs_btyd_data_free(&sub);
        return CUSTSCORE_ENOMEM;
    }
    cs_fit_ctx sctx = *ctx;
    sctx.bd = &sub;
    sctx.ws = ws;
    sctx.inv_n = 1.0 / sub.total_w;
    cs_opt_problem sp = *prob;
    sp.ctx = &sctx;
    cs_opt_result sbest;
    rc = cs_minimize_multistart(&sp, n_starts, starts, &sbest, conv, agree) != 0
             ? CUSTSCORE_EINTERNAL
             : CUSTSCORE_OK;
    cs_free(ws);
    cs_btyd_data_free(&sub);
    if (rc)
        return rc;
    cs_opt_problem fp = *prob;
    fp.hinv0 = sbest.status == CS_OPT_CONVERGED ? sbest.hinv : NULL;
    if (cs_minimize(&fp, sbest.theta, best) != 0)
        return CUSTSCORE_EINTERNAL;
    best->evaluations += sbest.evaluations;
    best->iterations += sbest.iterations;
    return CUSTSCORE_OK;
}

static int cs_fit_run(cs_fit_ctx *ctx, const custscore_fit_options *o, int np, const double *starts,
                      double n_obs, custscore_fit_info *info, char *err, size_t err_size)
{
    cs_opt_problem prob;
    memset(&prob, 0, sizeof prob);
    prob.n = np;
    prob.fn = cs_fit_objective;
    prob.ctx = ctx;
    prob.analytic_gradient = ctx->model != CUSTSCORE_MODEL_PNBD;
    prob.max_iterations = o->max_iterations;
    prob.gtol = o->tolerance;
    for (int k = 0; k < np; k++) {
        prob.lower[k] = -CS_LOG_BOUND;
        prob.upper[k] = CS_LOG_BOUND;
    }
    cs_opt_result best;
    int conv = 0, agree = 0;
    const char *title = cs_model_title(ctx->model);
    if (ctx->bd && ctx->bd->n > CS_FIT_SAMPLE_PATTERNS) {
        int rc = cs_fit_sampled(&prob, ctx, o->starts, starts, &best, &conv, &agree);
        if (rc)
            return cs_errf(err, err_size, rc, "%s fit: %s", title,
                           rc == CUSTSCORE_ENOMEM ? "out of memory" : "optimiser failed");
    } else if (cs_minimize_multistart(&prob, o->starts, starts, &best, &conv, &agree) != 0) {
        return cs_errf(err, err_size, CUSTSCORE_EINTERNAL, "%s fit: optimiser failed", title);
    }
    info->iterations = best.iterations;
    info->evaluations = best.evaluations;
    info->gradient_norm = best.grad_norm;
    info->starts = o->starts;
    info->starts_converged = conv;
    info->starts_agreeing = agree;
    info->penalty = o->penalty;
    double scale[4] = {1, ctx->bd ? ctx->bd->time_scale : 1, 1,
                       ctx->bd && ctx->model == CUSTSCORE_MODEL_PNBD ? ctx->bd->time_scale : 1};
    if (ctx->model == CUSTSCORE_MODEL_GG) {
        scale[1] = 1.0;
        scale[2] = ctx->gd->scale;
    }
    for (int k = 0; k < np; k++)
        info->param[k] = exp(best.theta[k]) * scale[k];
    cs_fit_info_views(info);
    switch (best.status) {
    case CS_OPT_CONVERGED:
        info->status = CUSTSCORE_FIT_CONVERGED;
        break;
    case CS_OPT_MAX_ITER:
        info->status = CUSTSCORE_FIT_MAX_ITERATIONS;
        break;
    case CS_OPT_LINE_SEARCH:
        info->status = CUSTSCORE_FIT_LINE_SEARCH;
        break;
    default:
        info->status = CUSTSCORE_FIT_NOT_FINITE;
        break;
    }
    /* The log-likelihood without the penalty, on the original scale. */
    double f_plain;
    cs_fit_ctx plain = *ctx;
    plain.penalty = 0.0;
    if (cs_fit_objective(best.theta, &f_plain, NULL, &plain) == 0) {
        double ll = -f_plain / ctx->inv_n;
        if (ctx->model == CUSTSCORE_MODEL_GG)
            ll -= (double)ctx->gd->n * log(ctx->gd->scale);
        else
            ll -= ctx->bd->sum_wx * log(ctx->bd->time_scale);
        info->loglik = ll;
        info->aic = -2.0 * ll + 2.0 * np;
        info->bic = -2.0 * ll + np * log(n_obs);
    }
    if (best.status == CS_OPT_NOT_FINITE)
        return cs_errf(err, err_size, CUSTSCORE_ENOCONV,
                       "%s fit: the likelihood is not finite at any starting point; check that "
                       "x, t_x and T are in one time unit and plausible",
                       title);
    if (best.status != CS_OPT_CONVERGED)
        return cs_errf(err, err_size, CUSTSCORE_ENOCONV,
                       "%s fit did not converge (%s after %d iterations; %d of %d starting points "
                       "converged; largest gradient %.3g, tolerance %.3g). Try more iterations "
                       "(max_iterations), a small penalty (e.g. 0.001), a larger tolerance or "
                       "another model, and check that x, t_x and T share one time unit",
                       title, best.status == CS_OPT_MAX_ITER ? "stopped" : "line search failed",
                       best.iterations, conv, o->starts, best.grad_norm, o->tolerance);
    for (int k = 0; k < np; k++)
        if (fabs(fabs(best.theta[k]) - CS_LOG_BOUND) < 1e-6) {
            info->status = CUSTSCORE_FIT_AT_BOUND;
            return cs_errf(err, err_size, CUSTSCORE_ENOCONV,
                           "%s fit: parameter %s ran to its bound (%g): the data do not "
                           "identify it. Try a small penalty (e.g. 0.001), another model "
                           "(e.g. Pareto/NBD for BG/NBD) or more data",
                           title, info->param_name[k], info->param[k]);
        }
    /* Standard errors: cov(log theta) = (n H)^-1, H the Hessian of the mean
     * objective (with the penalty, if any: then a MAP-style curvature). */
    double hess[CS_OPT_MAX_DIM * CS_OPT_MAX_DIM], inv[CS_OPT_MAX_DIM * CS_OPT_MAX_DIM];
    if (cs_numeric_hessian(&prob, best.theta, hess) != 0 || cs_spd_inverse(np, hess, inv) != 0) {
        info->status = CUSTSCORE_FIT_SINGULAR;
        return cs_errf(err, err_size, CUSTSCORE_ENOCONV,
                       "%s fit: the Hessian at the optimum is not positive definite, so the "
                       "parameters are not identified by these data. Try a small penalty "
                       "(e.g. 0.001) or another model",
                       title);
    }
    for (int k = 0; k < np; k++) {
        for (int j = 0; j < np; j++)
            info->cov_log[k][j] = inv[k * np + j] * ctx->inv_n;
        info->std_error[k] = info->param[k] * sqrt(info->cov_log[k][k]);
    }
    return CUSTSCORE_OK;
}

/* Starting points in the scaled problem (mean T = 1, mean spend = 1). */
static int cs_btyd_starts(custscore_model model, double rate, double *st)
{
    static const double bg[3][4] = {
        {0.5, 0.5, 0.8, 2.5}, {1.5, 1.5, 2.0, 6.0}, {0.2, 0.2, 0.3, 0.8}};
    static const double pn[3][4] = {
        {0.5, 0.5, 0.5, 1.0}, {1.5, 1.5, 1.5, 3.0}, {0.2, 0.2, 0.2, 0.3}};
    const double(*base)[4] = model == CUSTSCORE_MODEL_PNBD ? pn : bg;
    for (int k = 0; k < CS_OPT_MAX_STARTS; k++) {
        /* Beyond the first three, spread the first ones by factors of 3. */
        const double *b = base[k % 3];
        double spread = k < 3 ? 1.0 : (k < 6 ? 1.0 / 3.0 : 3.0);
        double r = b[0] * spread;
        st[k * 4 + 0] = log(r);
        st[k * 4 + 1] = log(r / rate); /* E[lambda] = r / alpha ~ the observed rate */
        st[k * 4 + 2] = log(b[2] * spread);
        st[k * 4 + 3] = log(b[3]);
    }
    return 0;
}

int cs_btyd_fit_data(const cs_btyd_data *d, const custscore_fit_options *o,
                     custscore_fit_info *info, char *err, size_t err_size)
{
    if (d->sum_wx <= 0.0)
        return cs_errf(err, err_size, CUSTSCORE_EINVAL,
                       "%s fit: no customer has a repeat purchase (all x = 0): the purchase "
                       "models cannot be fitted; wait for more history",
                       cs_model_title(o->model));
    double sum_T = 0.0;
    for (size_t i = 0; i < d->n; i++)
        sum_T += d->w[i] * d->T[i];
    if (!(sum_T > 0.0))
        return cs_errf(err, err_size, CUSTSCORE_EINVAL,
                       "%s fit: every customer has T = 0 (first purchase on the as-of day)",
                       cs_model_title(o->model));
    double *ws = cs_mallocarray(cs_btyd_ws_size(d) + 1, sizeof *ws);
    if (!ws)
        return CUSTSCORE_ENOMEM;
    cs_fit_ctx ctx = {o->model, d, NULL, ws, o->penalty, 1.0 / d->total_w};
    double starts[CS_OPT_MAX_STARTS * 4];
    cs_btyd_starts(o->model, d->sum_wx / sum_T, starts);
    info->time_scale = d->time_scale;
    info->n_unique = (int64_t)d->n;
    info->n = (int64_t)llround(d->total_w);
    info->repeat_purchases = d->sum_wx;
    int rc = cs_fit_run(&ctx, o, 4, starts, d->total_w, info, err, err_size);
    cs_free(ws);
    return rc;
}

int custscore_btyd_fit(const custscore_fit_options *options, size_t n, const double *x,
                       const double *t_x, const double *T, const double *weights,
                       custscore_fit_info *info, char *errbuf, size_t errbuf_size)
{
    custscore_fit_options o;
    if (!info)
        return cs_errf(errbuf, errbuf_size, CUSTSCORE_EINVAL, "fit: info is NULL");
    int rc = cs_fit_options_check(options, &o, errbuf, errbuf_size);
    cs_fit_info_init(info, rc ? CUSTSCORE_MODEL_BGNBD : o.model, rc ? CUSTSCORE_UNIT_WEEK : o.unit);
    if (rc)
        return rc;
    if (o.model == CUSTSCORE_MODEL_GG)
        return cs_errf(errbuf, errbuf_size, CUSTSCORE_EINVAL,
                       "custscore_btyd_fit: the Gamma-Gamma model is fitted by custscore_gg_fit");
    if (n == 0)
        return cs_errf(errbuf, errbuf_size, CUSTSCORE_EINVAL, "%s fit: no customers",
                       cs_model_title(o.model));
    cs_btyd_data d;
    rc = cs_btyd_data_build(n, x, t_x, T, weights, 0.0, NULL, &d, errbuf, errbuf_size);
    if (rc)
        return rc;
    rc = cs_btyd_fit_data(&d, &o, info, errbuf, errbuf_size);
    cs_btyd_data_free(&d);
    if (rc == 0 && errbuf && errbuf_size)
        errbuf[0] = '\0';
    return rc;
}

int custscore_gg_fit(const custscore_fit_options *options, size_t n, const double *x,
                     const double *mean_spend, custscore_fit_info *info, char *errbuf,
                     size_t errbuf_size)
{
    custscore_fit_options o;
    if (!info)
        return cs_errf(errbuf, errbuf_size, CUSTSCORE_EINVAL, "fit: info is NULL");
    int rc = cs_fit_options_check(options, &o, errbuf, errbuf_size);
    cs_fit_info_init(info, CUSTSCORE_MODEL_GG, rc ? CUSTSCORE_UNIT_WEEK : o.unit);
    if (rc)
        return rc;
    o.model = CUSTSCORE_MODEL_GG;
    if (n > 0 && (!x || !mean_spend))
        return cs_errf(errbuf, errbuf_size, CUSTSCORE_EINVAL,
                       "Gamma-Gamma fit: x and mean_spend are required");
    cs_gg_data d;
    double corr;
    int64_t excluded;
    rc = cs_gg_data_build(n, x, mean_spend, &d, &excluded, &corr);
    if (rc)
        return cs_errf(errbuf, errbuf_size, rc,
                       rc == CUSTSCORE_EINVAL
                           ? "Gamma-Gamma fit: x and mean_spend must be finite and x >= 0"
                           : "Gamma-Gamma fit: out of memory");
    info->n_excluded = excluded;
    info->spend_frequency_corr = corr;
    info->n = (int64_t)d.n;
    info->n_unique = (int64_t)d.n;
    if (d.n < 2) {
        cs_gg_data_free(&d);
        return cs_errf(errbuf, errbuf_size, CUSTSCORE_EINVAL,
                       "Gamma-Gamma fit: %zu customer(s) with a repeat purchase of positive "
                       "value; the spend model needs at least 2 (returns never count as "
                       "purchases)",
                       d.n);
    }
    info->mean_spend = d.mean_spend;
    double *ws = cs_mallocarray(cs_gg_ws_size(&d) + 1, sizeof *ws);
    if (!ws) {
        cs_gg_data_free(&d);
        return CUSTSCORE_ENOMEM;
    }
    double sx = 0.0;
    for (size_t i = 0; i < d.n; i++)
        sx += d.x[i];
    info->repeat_purchases = sx;
    cs_fit_ctx ctx = {CUSTSCORE_MODEL_GG, NULL, &d, ws, o.penalty, 1.0 / (double)d.n};
    /* Starts with the population mean p gamma / (q - 1) at the mean spend (1). */
    static const double base[CS_OPT_MAX_STARTS][3] = {
        {2.0, 3.0, 1.0},  {6.0, 4.0, 0.5},  {1.0, 2.0, 1.0},   {0.5, 1.5, 1.0},
        {10.0, 6.0, 0.5}, {3.0, 10.0, 3.0}, {1.5, 1.2, 0.133}, {20.0, 2.0, 0.05}};
    double starts[CS_OPT_MAX_STARTS * 3];
    for (int k = 0; k < CS_OPT_MAX_STARTS; k++)
        for (int j = 0; j < 3; j++)
            starts[k * 3 + j] = log(base[k][j]);
    rc = cs_fit_run(&ctx, &o, 3, starts, (double)d.n, info, errbuf, errbuf_size);
    cs_free(ws);
    cs_gg_data_free(&d);
    if (rc == 0 && errbuf && errbuf_size)
        errbuf[0] = '\0';
    return rc;
}
