/*
 * csi.c: the customer satisfaction index in the ACSI form (Fornell et al.
 * 1996) from a respondent x column matrix: items rescaled to 0-100 from
 * their own scales (reverse-coded ones turned round), PLS path modelling
 * (pls.c), unstandardised outer weights normalised to sum to one applied to
 * the item means; fixed weights below the minimum number of respondents;
 * bootstrap intervals; NPS (Reichheld 2003); importance-performance.
 * Formulas: docs/models.md ("Satisfaction index"). The store side is in csi_store.c.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* NPS */

int custscore_nps(const double *answers, size_t n, custscore_nps_result *out)
{
    if (!out || (!answers && n > 0))
        return CUSTSCORE_EINVAL;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        double v = answers[i];
        if (isnan(v))
            continue;
        if (!(v >= 0 && v <= 10))
            return CUSTSCORE_EINVAL;
        out->n++;
        if (v >= 9)
            out->promoters++;
        else if (v <= 6)
            out->detractors++;
        else
            out->passives++;
    }
    if (out->n == 0) {
        out->nps = out->se = out->low = out->high = NAN;
        return CUSTSCORE_OK;
    }
    /* NPS = 100 (p - d); each answer scores +1, 0 or -1, whose variance is
     * p + d - (p - d)²; the standard error of the mean is sqrt(var / n). */
    double nn = (double)out->n;
    double p = (double)out->promoters / nn, d = (double)out->detractors / nn;
    out->nps = 100.0 * (p - d);
    out->se = 100.0 * sqrt((p + d - (p - d) * (p - d)) / nn);
    out->low = fmax(-100.0, out->nps - 1.959963984540054 * out->se);
    out->high = fmin(100.0, out->nps + 1.959963984540054 * out->se);
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */
/* Results */

static void csi_estimate_free(custscore_csi_estimate *e)
{
    cs_free((char *)e->group);
    cs_free((char *)e->message);
    cs_free(e->construct_index);
    cs_free(e->construct_index_low);
    cs_free(e->construct_index_high);
    cs_free(e->weights);
    cs_free(e->outer_weights);
    cs_free(e->outer_weights_se);
    cs_free(e->outer_weights_low);
    cs_free(e->outer_weights_high);
    cs_free(e->loadings);
    cs_free(e->paths);
    cs_free(e->paths_se);
    cs_free(e->paths_low);
    cs_free(e->paths_high);
    cs_free(e->total_effects);
    cs_free(e->r2);
    cs_free(e->r2_adj);
    cs_free(e->alpha);
    cs_free(e->rho_c);
    cs_free(e->ave);
    cs_free(e->drivers);
}

void custscore_csi_result_free(custscore_csi_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->item_names && i < r->n_items; i++)
        cs_free((char *)r->item_names[i]);
    for (size_t i = 0; r->construct_names && i < r->n_constructs; i++)
        cs_free((char *)r->construct_names[i]);
    cs_free((void *)r->item_names);
    cs_free((void *)r->construct_names);
    cs_free((void *)r->item_construct);
    cs_free((void *)r->paths);
    cs_free((char *)r->model);
    cs_free((char *)r->nps_item);
    csi_estimate_free(&r->overall);
    for (size_t g = 0; r->groups && g < r->n_groups; g++)
        csi_estimate_free(&r->groups[g]);
    cs_free(r->groups);
    cs_free(r);
}

static double *csi_nans(size_t n)
{
    double *v = cs_mallocarray(n, sizeof(double));
    if (v)
        for (size_t i = 0; i < n; i++)
            v[i] = NAN;
    return v;
}

static int csi_estimate_alloc(custscore_csi_estimate *e, size_t p, size_t k)
{
    e->index = e->index_se = e->index_low = e->index_high = e->index_equal = e->gof = NAN;
    e->construct_index = csi_nans(k);
    e->weights = csi_nans(p);
    e->outer_weights = csi_nans(p);
    e->loadings = csi_nans(p);
    e->paths = csi_nans(k * k);
    e->total_effects = csi_nans(k * k);
    e->r2 = csi_nans(k);
    e->r2_adj = csi_nans(k);
    e->alpha = csi_nans(k);
    e->rho_c = csi_nans(k);
    e->ave = csi_nans(k);
    e->nps.nps = e->nps.se = e->nps.low = e->nps.high = NAN;
    if (!e->construct_index || !e->weights || !e->outer_weights || !e->loadings || !e->paths ||
        !e->total_effects || !e->r2 || !e->r2_adj || !e->alpha || !e->rho_c || !e->ave)
        return CUSTSCORE_ENOMEM;
    return CUSTSCORE_OK;
}

static int csi_set_message(custscore_csi_estimate *e, const char *text)
{
    char *copy = cs_strdup(text);
    if (!copy)
        return CUSTSCORE_ENOMEM;
    cs_free((char *)e->message);
    e->message = copy;
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */
/* One estimate over a subset of the rows. */

/* What the caller prepared: answers rescaled to 0-100 (NaN missing). */
typedef struct csi_data {
    const custscore_survey_model *model;
    const custscore_csi_options *o;
    size_t p, k;
    const double *y;     /* [n_rows * p] */
    const double *nps;   /* [n_rows] raw NPS answers, or NULL */
    size_t n_rows;       /* rows of y */
    size_t min_n;        /* minimum respondents for PLS */
    int *paths;          /* [k * k] */
    int *modes;          /* [k] */
    int *item_construct; /* [p] */
} csi_data;

static int csi_cmp_driver(const void *a, const void *b)
{
    const custscore_csi_driver *x = a, *y = b;
    if (x->high_importance != y->high_importance)
        return y->high_importance - x->high_importance;
    if (x->performance != y->performance)
        return x->performance < y->performance ? -1 : 1;
    return (x->construct > y->construct) - (x->construct < y->construct);
}

/* Importance-performance: drivers of the target (total effect != 0). */
static int csi_drivers(const csi_data *d, custscore_csi_estimate *e)
{
    size_t k = d->k, t = (size_t)d->model->target, n = 0;
    double sum = 0;
    for (size_t c = 0; c < k; c++) {
        double te = e->total_effects[c * k + t];
        if (c != t && isfinite(te) && te != 0) {
            n++;
            sum += te;
        }
    }
    if (n == 0)
        return CUSTSCORE_OK;
    e->drivers = cs_mallocarray(n, sizeof *e->drivers);
    if (!e->drivers)
        return CUSTSCORE_ENOMEM;
    double mean = sum / (double)n;
    for (size_t c = 0; c < k; c++) {
        double te = e->total_effects[c * k + t];
        if (c != t && isfinite(te) && te != 0) {
            custscore_csi_driver *dr = &e->drivers[e->n_drivers++];
            dr->construct = c;
            dr->importance = te;
            dr->performance = e->construct_index[c];
            dr->high_importance = te >= mean;
        }
    }
    /* NaN performance (negative weights) sorts last within its group. */
    for (size_t i = 0; i < e->n_drivers; i++)
        if (isnan(e->drivers[i].performance))
            e->drivers[i].performance = INFINITY;
    qsort(e->drivers, e->n_drivers, sizeof *e->drivers, csi_cmp_driver);
    for (size_t i = 0; i < e->n_drivers; i++)
        if (isinf(e->drivers[i].performance))
            e->drivers[i].performance = NAN;
    return CUSTSCORE_OK;
}

/* Means of each item over the rows used; fixed-weight construct indices. */
static void csi_fixed(const csi_data *d, const double *mean, bool equal, double *weights,
                      double *construct_index)
{
    const custscore_survey_model *m = d->model;
    for (size_t c = 0; c < d->k; c++) {
        double sum = 0;
        for (size_t i = 0; i < d->p; i++)
            if (m->items[i].construct == (int)c)
                sum += equal ? 1.0 : m->items[i].weight;
        double idx = 0;
        for (size_t i = 0; i < d->p; i++)
            if (m->items[i].construct == (int)c) {
                double w = sum > 0 ? (equal ? 1.0 : m->items[i].weight) / sum : NAN;
                if (weights)
                    weights[i] = w;
                idx += w * mean[i];
            }
        construct_index[c] = idx;
    }
}

static int csi_estimate(const csi_data *d, const size_t *rows, size_t n_rows,
                        custscore_csi_estimate *e, char *errbuf, size_t errsize)
{
    const custscore_survey_model *m = d->model;
    size_t p = d->p, k = d->k, t = (size_t)m->target;
    int rc = csi_estimate_alloc(e, p, k);
    if (rc)
        return rc;
    double *y = NULL; /* the rows used, when they are not d->y itself */
    double *mean = cs_calloc(p, sizeof(double));
    size_t *cnt = cs_calloc(p, sizeof(size_t));
    double *scratch = csi_nans(k);
    char msg[1024];
    msg[0] = '\0';
    if (!mean || !cnt || !scratch) {
        rc = CUSTSCORE_ENOMEM;
        goto done;
    }
    /* Respondents used, as pls.c counts them; copied only when they are not
     * all the rows in order. */
    size_t n = 0;
    bool identity = n_rows == d->n_rows;
    for (size_t r = 0; r < n_rows; r++) {
        const double *src = d->y + rows[r] * p;
        size_t answered = 0;
        for (size_t i = 0; i < p; i++)
            answered += !isnan(src[i]);
        if (answered == 0 || (d->o->missing == CUSTSCORE_PLS_MISSING_LISTWISE && answered < p)) {
            identity = false;
            continue;
        }
        identity = identity && rows[r] == r;
        for (size_t i = 0; i < p; i++)
            if (!isnan(src[i])) {
                mean[i] += src[i];
                cnt[i]++;
            }
        n++;
    }
    const double *fit_rows = d->y;
    if (!identity) {
        y = cs_mallocarray(n ? n : 1, p * sizeof(double));
        if (!y) {
            rc = CUSTSCORE_ENOMEM;
            goto done;
        }
        size_t copied = 0;
        for (size_t r = 0; r < n_rows; r++) {
            const double *src = d->y + rows[r] * p;
            size_t answered = 0;
            for (size_t i = 0; i < p; i++)
                answered += !isnan(src[i]);
            if (answered == 0 || (d->o->missing == CUSTSCORE_PLS_MISSING_LISTWISE && answered < p))
                continue;
            memcpy(y + copied++ * p, src, p * sizeof(double));
        }
        fit_rows = y;
    }
    e->n = n;
    e->n_dropped = n_rows - n;
    if (d->nps) {
        double *answers = cs_mallocarray(n_rows ? n_rows : 1, sizeof(double));
        if (!answers) {
            rc = CUSTSCORE_ENOMEM;
            goto done;
        }
        for (size_t r = 0; r < n_rows; r++)
            answers[r] = d->nps[rows[r]];
        rc = custscore_nps(answers, n_rows, &e->nps);
        cs_free(answers);
        if (rc) {
            rc = cs_errbuf(errbuf, errsize, CUSTSCORE_EINVAL,
                           "NPS item %s: answers must be on the 0..10 scale", m->nps_item);
            goto done;
        }
        e->has_nps = e->nps.n > 0;
    }
    if (n == 0) {
        e->status = CUSTSCORE_CSI_NO_DATA;
        snprintf(msg, sizeof msg, "no respondents answered any item of the model");
        goto done;
    }
    bool item_unanswered = false;
    for (size_t i = 0; i < p; i++) {
        if (cnt[i] == 0) {
            mean[i] = NAN;
            item_unanswered = true;
        } else {
            mean[i] /= (double)cnt[i];
        }
    }
    csi_fixed(d, mean, true, NULL, scratch);
    e->index_equal = scratch[t];

    char plserr[512] = "";
    custscore_pls_result *pr = NULL;
    int prc = CUSTSCORE_EINVAL;
    if (n >= d->min_n && !item_unanswered) {
        custscore_pls_model pm = {k, d->item_construct, d->modes, d->paths};
        custscore_pls_options po = CUSTSCORE_PLS_OPTIONS_INIT;
        po.scheme = d->o->scheme;
        po.scaling = d->o->scaling;
        po.variance_n = 1;
        po.tolerance = d->o->tolerance;
        po.max_iterations = d->o->max_iterations;
        po.missing = d->o->missing;
        po.bootstrap = d->o->bootstrap;
        po.seed = d->o->seed;
        po.level = d->o->level;
        po.no_scores = 1;
        prc = custscore_pls_fit(fit_rows, n, p, &pm, &po, &pr, plserr, sizeof plserr);
        if (prc == CUSTSCORE_ENOMEM) {
            rc = prc;
            goto done;
        }
    }
    if (prc == CUSTSCORE_OK || prc == CUSTSCORE_ENOCONV) {
        e->converged = pr->converged;
        e->iterations = pr->iterations;
        memcpy(e->outer_weights, pr->weights, p * sizeof(double));
        memcpy(e->loadings, pr->loadings, p * sizeof(double));
        memcpy(e->paths, pr->paths, k * k * sizeof(double));
        memcpy(e->total_effects, pr->total_effects, k * k * sizeof(double));
        memcpy(e->r2, pr->r2, k * sizeof(double));
        memcpy(e->r2_adj, pr->r2_adj, k * sizeof(double));
        memcpy(e->alpha, pr->alpha, k * sizeof(double));
        memcpy(e->rho_c, pr->rho_c, k * sizeof(double));
        memcpy(e->ave, pr->ave, k * sizeof(double));
        e->gof = pr->gof;
    }
    if (prc == CUSTSCORE_ENOCONV) {
        e->status = CUSTSCORE_CSI_NO_CONVERGENCE;
        snprintf(msg, sizeof msg,
                 "%s; no index is given (raise max_iterations or the tolerance, or check the "
                 "model)",
                 plserr);
    } else if (prc == CUSTSCORE_OK) {
        memcpy(e->weights, pr->index_weights, p * sizeof(double));
        memcpy(e->construct_index, pr->construct_mean, k * sizeof(double));
        e->index = pr->construct_mean[t];
        if (pr->weights_se) {
            e->outer_weights_se = cs_mallocarray(p, sizeof(double));
            e->outer_weights_low = cs_mallocarray(p, sizeof(double));
            e->outer_weights_high = cs_mallocarray(p, sizeof(double));
            e->paths_se = cs_mallocarray(k * k, sizeof(double));
            e->paths_low = cs_mallocarray(k * k, sizeof(double));
            e->paths_high = cs_mallocarray(k * k, sizeof(double));
            e->construct_index_low = cs_mallocarray(k, sizeof(double));
            e->construct_index_high = cs_mallocarray(k, sizeof(double));
            if (!e->outer_weights_se || !e->outer_weights_low || !e->outer_weights_high ||
                !e->paths_se || !e->paths_low || !e->paths_high || !e->construct_index_low ||
                !e->construct_index_high) {
                custscore_pls_result_free(pr);
                rc = CUSTSCORE_ENOMEM;
                goto done;
            }
            memcpy(e->outer_weights_se, pr->weights_se, p * sizeof(double));
            memcpy(e->outer_weights_low, pr->weights_low, p * sizeof(double));
            memcpy(e->outer_weights_high, pr->weights_high, p * sizeof(double));
            memcpy(e->paths_se, pr->paths_se, k * k * sizeof(double));
            memcpy(e->paths_low, pr->paths_low, k * k * sizeof(double));
            memcpy(e->paths_high, pr->paths_high, k * k * sizeof(double));
            memcpy(e->construct_index_low, pr->construct_mean_low, k * sizeof(double));
            memcpy(e->construct_index_high, pr->construct_mean_high, k * sizeof(double));
            e->index_se = pr->construct_mean_se[t];
            e->index_low = pr->construct_mean_low[t];
            e->index_high = pr->construct_mean_high[t];
        }
        /* A negative raw weight: the item moves against the rest of its
         * construct, and a weighted mean with a negative weight is not an
         * index on 0-100 any more (plspm's rescale() refuses it too). */
        size_t used = 0;
        for (size_t c = 0; c < k; c++) {
            if (!isnan(e->construct_index[c]))
                continue;
            for (size_t i = 0; i < p; i++) {
                if (m->items[i].construct != (int)c || !(pr->raw_weights[i] < 0))
                    continue;
                int w = snprintf(msg + used, sizeof msg - used,
                                 "%sitem %s has a negative weight (%.3g) in construct %s",
                                 used ? "; " : "", m->items[i].name, pr->raw_weights[i],
                                 m->constructs[c].name);
                if (w > 0 && (size_t)w < sizeof msg - used)
                    used += (size_t)w;
            }
        }
        if (used > 0) {
            snprintf(msg + used, sizeof msg - used,
                     ": such an item moves against the other items of its construct (a "
                     "reverse-coded item not marked 'reverse', or an item that measures "
                     "something else); that construct's index is not computed: mark the item "
                     "reversed or remove it");
            if (isnan(e->index))
                e->status = CUSTSCORE_CSI_NEGATIVE_WEIGHT;
        }
    } else {
        /* Fixed weights: too few respondents, or PLS impossible on these data. */
        e->status = CUSTSCORE_CSI_FIXED_WEIGHTS;
        csi_fixed(d, mean, false, e->weights, e->construct_index);
        e->index = e->construct_index[t];
        if (item_unanswered)
            snprintf(msg, sizeof msg,
                     "an item has no answers among these %zu respondents: fixed weights used "
                     "(PLS needs every item)",
                     n);
        else if (n < d->min_n)
            snprintf(msg, sizeof msg,
                     "only %zu respondents, fewer than the %zu needed for PLS: fixed weights "
                     "used (equal unless the model gives weights)",
                     n, d->min_n);
        else
            snprintf(msg, sizeof msg, "PLS not possible (%s): fixed weights used", plserr);
    }
    custscore_pls_result_free(pr);
    rc = csi_drivers(d, e);
done:
    if (rc == 0)
        rc = csi_set_message(e, msg);
    cs_free(y);
    cs_free(mean);
    cs_free(cnt);
    cs_free(scratch);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* The fit from a matrix. */

/* A row with its group label, for sorting rows into groups. */
typedef struct csi_labeled {
    const char *label;
    size_t row;
} csi_labeled;

static int csi_cmp_labeled(const void *a, const void *b)
{
    const csi_labeled *x = a, *y = b;
    int c = strcmp(x->label, y->label);
    if (c)
        return c;
    return (x->row > y->row) - (x->row < y->row);
}

/* Automatic minimum: max(30, 10 x the most arrows into one construct or
 * items of one Mode B block) (Barclay, Higgins & Thompson 1995). */
static size_t csi_min_respondents(const custscore_survey_model *m)
{
    size_t most = 0;
    for (size_t c = 0; c < m->n_constructs; c++) {
        size_t in = 0, items = 0;
        for (size_t i = 0; i < m->n_paths; i++)
            in += m->path_to[i] == (int)c;
        if (m->constructs[c].mode == CUSTSCORE_PLS_MODE_B)
            for (size_t i = 0; i < m->n_items; i++)
                items += m->items[i].construct == (int)c;
        if (in > most)
            most = in;
        if (items > most)
            most = items;
    }
    return most * 10 > 30 ? most * 10 : 30;
}

int cs_csi_fit_labeled(const custscore_survey_model *model, const double *data, size_t n_rows,
                       size_t n_cols, const char *const *columns, const char *const *groups,
                       const custscore_csi_options *options, custscore_csi_result **out,
                       char *errbuf, size_t errbuf_size);

int custscore_csi_fit(const custscore_survey_model *model, const double *data, size_t n_rows,
                      size_t n_cols, const char *const *columns, const char *const *groups,
                      const custscore_csi_options *options, custscore_csi_result **out,
                      char *errbuf, size_t errbuf_size)
{
    if (errbuf && errbuf_size)
        errbuf[0] = '\0';
    if (!out)
        return cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL, "custscore_csi_fit: out is NULL");
    *out = NULL;
    if (!model || !columns || (!data && n_rows > 0))
        return cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL,
                         "custscore_csi_fit: model, data or columns is NULL");
    custscore_csi_options o = CUSTSCORE_CSI_OPTIONS_INIT;
    if (options) {
        if (options->version != CUSTSCORE_CSI_OPTIONS_VERSION)
            return cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL,
                             "csi options: version %u, expected %u", options->version,
                             CUSTSCORE_CSI_OPTIONS_VERSION);
        o = *options;
    }
    if (o.scheme == 0)
        o.scheme = CUSTSCORE_PLS_CENTROID;
    if (o.tolerance == 0)
        o.tolerance = 1e-7;
    if (o.max_iterations == 0)
        o.max_iterations = 300;
    if (o.level == 0)
        o.level = 0.95;
    if (o.scheme < CUSTSCORE_PLS_PATH || o.scheme > CUSTSCORE_PLS_FACTORIAL ||
        (o.scaling != CUSTSCORE_PLS_STANDARDIZE && o.scaling != CUSTSCORE_PLS_CENTER) ||
        (o.missing != CUSTSCORE_PLS_MISSING_MEAN && o.missing != CUSTSCORE_PLS_MISSING_LISTWISE) ||
        !(o.tolerance > 0) || o.max_iterations < 0 || o.bootstrap < 0 || !(o.level > 0) ||
        !(o.level < 1))
        return cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL,
                         "csi options: unknown scheme, scaling or missing-value treatment, or "
                         "tolerance, iterations, bootstrap or level out of range");
    int rc = cs_survey_check(model, errbuf, errbuf_size);
    if (rc)
        return rc;
    const custscore_survey_model *m = model;
    size_t p = m->n_items, k = m->n_constructs;
    const char *nps_item = o.nps_item ? o.nps_item : m->nps_item;

    csi_data d;
    memset(&d, 0, sizeof d);
    d.model = m;
    d.o = &o;
    d.p = p;
    d.k = k;
    d.min_n = o.min_respondents ? o.min_respondents : csi_min_respondents(m);
    size_t *col = cs_mallocarray(p, sizeof(size_t));
    double *y = cs_mallocarray(n_rows ? n_rows : 1, p * sizeof(double));
    double *nps = nps_item ? cs_mallocarray(n_rows ? n_rows : 1, sizeof(double)) : NULL;
    d.paths = cs_calloc(k * k, sizeof(int));
    d.modes = cs_mallocarray(k, sizeof(int));
    d.item_construct = cs_mallocarray(p, sizeof(int));
    csi_labeled *lab = NULL;
    custscore_csi_result *r = cs_calloc(1, sizeof *r);
    if (!col || !y || (nps_item && !nps) || !d.paths || !d.modes || !d.item_construct || !r) {
        rc = CUSTSCORE_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < m->n_paths; i++)
        d.paths[(size_t)m->path_from[i] * k + (size_t)m->path_to[i]] = 1;
    for (size_t c = 0; c < k; c++)
        d.modes[c] = m->constructs[c].mode;
    for (size_t i = 0; i < p; i++)
        d.item_construct[i] = m->items[i].construct;
    /* Find the items among the columns (exact names). */
    size_t nps_col = SIZE_MAX;
    for (size_t i = 0; i < p; i++) {
        col[i] = SIZE_MAX;
        for (size_t j = 0; j < n_cols; j++)
            if (columns[j] && strcmp(columns[j], m->items[i].name) == 0) {
                col[i] = j;
                break;
            }
        if (col[i] == SIZE_MAX) {
            rc = cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL,
                           "item %s (construct %s) is not among the %zu columns; map the "
                           "columns with --items %s=COL+COL",
                           m->items[i].name, m->constructs[m->items[i].construct].name, n_cols,
                           m->constructs[m->items[i].construct].name);
            goto done;
        }
    }
    if (nps_item) {
        for (size_t j = 0; j < n_cols && nps_col == SIZE_MAX; j++)
            if (columns[j] && strcmp(columns[j], nps_item) == 0)
                nps_col = j;
        if (nps_col == SIZE_MAX) {
            rc = cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL,
                           "NPS item %s is not among the columns", nps_item);
            goto done;
        }
    }
    /* Rescale to 0-100 from each item's own scale; reverse-coded items turn. */
    for (size_t r0 = 0; r0 < n_rows; r0++) {
        const double *src = data + r0 * n_cols;
        for (size_t i = 0; i < p; i++) {
            const cs_survey_item *it = &m->items[i];
            double v = src[col[i]];
            if (isnan(v)) {
                y[r0 * p + i] = NAN;
                continue;
            }
            double span = it->max - it->min, eps = 1e-9 * span;
            if (!(v >= it->min - eps && v <= it->max + eps)) {
                rc = cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL,
                               "row %zu, column %s: answer %g is outside the item's scale %g..%g",
                               r0 + 1, it->name, v, it->min, it->max);
                goto done;
            }
            double s = it->reversed ? (it->max - v) / span : (v - it->min) / span;
            y[r0 * p + i] = 100.0 * fmin(1.0, fmax(0.0, s));
        }
        if (nps)
            nps[r0] = src[nps_col];
    }
    d.y = y;
    d.nps = nps;
    d.n_rows = n_rows;

    /* Result header. */
    r->n_items = p;
    r->n_constructs = k;
    r->target = (size_t)m->target;
    r->scheme = o.scheme;
    r->model = cs_strdup(m->name);
    char **inames = cs_calloc(p, sizeof(char *));
    char **cnames = cs_calloc(k, sizeof(char *));
    int *ic = cs_mallocarray(p, sizeof(int));
    r->item_names = (const char *const *)inames;
    r->construct_names = (const char *const *)cnames;
    r->item_construct = ic;
    int *rpaths = cs_mallocarray(k * k, sizeof(int));
    r->paths = rpaths;
    if (!r->model || !inames || !cnames || !ic || !rpaths) {
        rc = CUSTSCORE_ENOMEM;
        goto done;
    }
    if (nps_item && !(r->nps_item = cs_strdup(nps_item))) {
        rc = CUSTSCORE_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < p; i++) {
        ic[i] = m->items[i].construct;
        if (!(inames[i] = cs_strdup(m->items[i].name))) {
            rc = CUSTSCORE_ENOMEM;
            goto done;
        }
    }
    memcpy(rpaths, d.paths, k * k * sizeof(int));
    for (size_t c = 0; c < k; c++)
        if (!(cnames[c] = cs_strdup(m->constructs[c].name))) {
            rc = CUSTSCORE_ENOMEM;
            goto done;
        }

    /* Overall. */
    size_t *all = cs_mallocarray(n_rows ? n_rows : 1, sizeof(size_t));
    if (!all) {
        rc = CUSTSCORE_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n_rows; i++)
        all[i] = i;
    rc = csi_estimate(&d, all, n_rows, &r->overall, errbuf, errbuf_size);
    if (rc == 0 && !(r->overall.group = cs_strdup("")))
        rc = CUSTSCORE_ENOMEM;
    if (rc == 0 && groups) {
        /* Groups in label order. */
        size_t nl = 0;
        lab = cs_mallocarray(n_rows ? n_rows : 1, sizeof *lab);
        if (!lab)
            rc = CUSTSCORE_ENOMEM;
        for (size_t i = 0; rc == 0 && i < n_rows; i++)
            if (groups[i]) {
                lab[nl].label = groups[i];
                lab[nl].row = i;
                nl++;
            }
        if (rc == 0) {
            qsort(lab, nl, sizeof *lab, csi_cmp_labeled);
            size_t ng = 0;
            for (size_t i = 0; i < nl; i++)
                ng += i == 0 || strcmp(lab[i].label, lab[i - 1].label) != 0;
            r->groups = cs_calloc(ng ? ng : 1, sizeof *r->groups);
            if (!r->groups)
                rc = CUSTSCORE_ENOMEM;
            for (size_t i = 0; rc == 0 && i < nl;) {
                size_t j = i;
                while (j < nl && strcmp(lab[j].label, lab[i].label) == 0) {
                    all[j - i] = lab[j].row;
                    j++;
                }
                custscore_csi_estimate *e = &r->groups[r->n_groups++];
                rc = csi_estimate(&d, all, j - i, e, errbuf, errbuf_size);
                if (rc == 0 && !(e->group = cs_strdup(lab[i].label)))
                    rc = CUSTSCORE_ENOMEM;
                i = j;
            }
        }
    }
    cs_free(all);
    if (rc == 0 && r->overall.status == CUSTSCORE_CSI_NO_CONVERGENCE) {
        cs_errbuf(errbuf, errbuf_size, CUSTSCORE_ENOCONV, "%s", r->overall.message);
        rc = CUSTSCORE_ENOCONV;
    }
done:
    cs_free(col);
    cs_free(y);
    cs_free(nps);
    cs_free(d.paths);
    cs_free(d.modes);
    cs_free(d.item_construct);
    cs_free(lab);
    if (rc && rc != CUSTSCORE_ENOCONV) {
        if (rc == CUSTSCORE_ENOMEM)
            cs_errbuf(errbuf, errbuf_size, rc, "out of memory");
        custscore_csi_result_free(r);
        r = NULL;
    }
    *out = r;
    return rc;
}
