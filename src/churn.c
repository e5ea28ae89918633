/*
 * churn.c: training the churn models on the store and the model card API.
 *
 * Early-warning (window) model: at the cut-off c = as_of - W the features of
 * every customer with a purchase occasion on or before c are computed from
 * the data up to c, and the label is 1 when the customer has no purchase
 * occasion in (c, c + W]. Label model: features as of as_of, label from a
 * customer attribute. Both: an L2-penalised logistic regression
 * (logistic.c) on the feature columns (churn_features.c), a seeded random
 * holdout for the card's metrics, the card stored in the `model` table
 * (churn_model.c). Scoring is in churn_score.c. docs/models.md ("Churn risk") has the
 * formulas and the reasons behind the defaults.
 */
#include "internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---------------------------------------------------------------------- */
/* Options */

int cs_churn_settings_get(custscore *db, const custscore_churn_options *o, bool training,
                          cs_churn_settings *s)
{
    custscore_churn_options defaults = CUSTSCORE_CHURN_OPTIONS_INIT;
    if (!o)
        o = &defaults;
    memset(s, 0, sizeof *s);
    if (o->version != CUSTSCORE_CHURN_OPTIONS_VERSION)
        return cs_error(db, CUSTSCORE_EINVAL, "churn options: version %u, this library has %u",
                        o->version, CUSTSCORE_CHURN_OPTIONS_VERSION);
    s->method = o->method;
    if (s->method == 0 && training)
        s->method = o->label && o->label[0] ? CUSTSCORE_CHURN_LABEL : CUSTSCORE_CHURN_WINDOW;
    if (s->method < 0 || s->method > CUSTSCORE_CHURN_BTYD_ALIVE)
        return cs_error(db, CUSTSCORE_EINVAL,
                        "churn options: method: %d: unknown (1 window, 2 label, 3 btyd, "
                        "4 btyd_alive)",
                        o->method);
    if (training && s->method == CUSTSCORE_CHURN_LABEL && !(o->label && o->label[0]))
        return cs_error(db, CUSTSCORE_EINVAL,
                        "churn options: label: the label method needs the name of the label "
                        "attribute (e.g. \"Churn\")");
    double w = o->window_days;
    if (w == 0 && training)
        w = 90;
    if (w != 0 && (!(w >= 1) || w > 36500 || w != floor(w)))
        return cs_error(db, CUSTSCORE_EINVAL,
                        "churn options: window_days: %g: must be a whole number of days, 1..36500",
                        w);
    s->window_days = (int64_t)w;
    s->label = o->label && o->label[0] ? o->label : NULL;
    s->label_positive = o->label_positive && o->label_positive[0] ? o->label_positive : "Yes";
    s->features = o->features && o->features[0] ? o->features : NULL;
    s->model_name = o->model_name && o->model_name[0] ? o->model_name : "churn";
    s->btyd_model = o->btyd_model && o->btyd_model[0] ? o->btyd_model : NULL;
    s->survey_model = o->survey_model && o->survey_model[0] ? o->survey_model : NULL;
    if (strlen(s->model_name) > CUSTSCORE_MAX_KEY)
        return cs_error(db, CUSTSCORE_EINVAL, "churn options: model_name: longer than %d bytes",
                        CUSTSCORE_MAX_KEY);
    s->behaviour = o->behaviour < 0 ? s->method != CUSTSCORE_CHURN_LABEL : o->behaviour != 0;
    if (s->method == CUSTSCORE_CHURN_WINDOW && !s->behaviour && training)
        return cs_error(db, CUSTSCORE_EINVAL,
                        "churn options: behaviour: the window method needs the purchase "
                        "behaviour features (behaviour = 0 is for the label method)");
    s->holdout = o->holdout;
    if (!(s->holdout >= 0 && s->holdout < 1))
        return cs_error(db, CUSTSCORE_EINVAL, "churn options: holdout: %g: must be in [0, 1)",
                        o->holdout);
    s->seed = o->seed;
    s->l2 = o->l2;
    if (!(s->l2 >= 0) || !isfinite(s->l2))
        return cs_error(db, CUSTSCORE_EINVAL, "churn options: l2: %g: must be finite and >= 0",
                        o->l2);
    s->lookback_days = o->lookback_days;
    if (!(s->lookback_days >= 2) || !isfinite(s->lookback_days))
        return cs_error(db, CUSTSCORE_EINVAL, "churn options: lookback_days: %g: must be >= 2",
                        o->lookback_days);
    s->complaint_days = o->complaint_days;
    if (!(s->complaint_days > 0) || !isfinite(s->complaint_days))
        return cs_error(db, CUSTSCORE_EINVAL, "churn options: complaint_days: %g: must be > 0",
                        o->complaint_days);
    s->rare_level = o->rare_level;
    if (!(s->rare_level >= 0 && s->rare_level < 1))
        return cs_error(db, CUSTSCORE_EINVAL, "churn options: rare_level: %g: must be in [0, 1)",
                        o->rare_level);
    s->band_medium = o->band_medium;
    s->band_high = o->band_high;
    if (s->band_medium != 0 || s->band_high != 0) {
        if (s->band_medium == 0)
            s->band_medium = CUSTSCORE_CHURN_BAND_MEDIUM;
        if (s->band_high == 0)
            s->band_high = CUSTSCORE_CHURN_BAND_HIGH;
        if (!(s->band_medium > 0 && s->band_medium <= s->band_high && s->band_high <= 1))
            return cs_error(db, CUSTSCORE_EINVAL,
                            "churn options: bands: medium %g, high %g: need 0 < medium <= high "
                            "<= 1",
                            s->band_medium, s->band_high);
    } else if (training) {
        s->band_medium = CUSTSCORE_CHURN_BAND_MEDIUM;
        s->band_high = CUSTSCORE_CHURN_BAND_HIGH;
    }
    s->store = !o->no_store;
    s->clv = !o->no_clv;
    return CUSTSCORE_OK;
}

const char *custscore_churn_band(double probability, double band_medium, double band_high)
{
    if (probability >= band_high)
        return "high";
    if (probability >= band_medium)
        return "medium";
    return "low";
}

/* ---------------------------------------------------------------------- */
/* Seeded random holdout: SplitMix64 (Steele, Lea & Flood 2014), state local
 * to the call. */

static uint64_t cs_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in [0, bound) without modulo bias. */
static uint64_t cs_uniform_below(uint64_t *state, uint64_t bound)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t r;
    do
        r = cs_splitmix64(state);
    while (r >= limit);
    return r % bound;
}

/* ---------------------------------------------------------------------- */
/* Attribute names */

/* An attribute named like a built-in feature in the model (e.g. "tenure"
 * next to the behaviour feature group "tenure") is shown as "attribute:NAME". */
static bool cs_name_taken(const cs_churn_model *m, const char *name)
{
    for (size_t j = 0; j < m->n_cols; j++)
        if (m->col[j].kind == CS_CHURN_COL_BUILTIN &&
            (strcmp(name, m->col[j].name) == 0 || strcmp(name, m->col[j].group) == 0))
            return true;
    return false;
}

/* Split "a, b,c" into names; "*" = every attribute in the store but the label. */
static int cs_churn_feature_names(custscore *db, const cs_churn_settings *s, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!s->features)
        return CUSTSCORE_OK;
    size_t cap = 0;
    int rc = CUSTSCORE_OK;
    const char *p = s->features;
    bool all = false;
    while (*p && rc == 0) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == 1 && p[0] == '*') {
            all = true;
        } else if (len > CUSTSCORE_MAX_KEY) {
            rc = cs_error(db, CUSTSCORE_EINVAL,
                          "churn options: features: a name is longer than %d"
                          " bytes",
                          CUSTSCORE_MAX_KEY);
        } else {
            if (*n == cap) {
                cap = cap ? cap * 2 : 8;
                char **g = cs_reallocarray(*out, cap, sizeof *g);
                if (!g) {
                    rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory");
                    break;
                }
                *out = g;
            }
            (*out)[*n] = cs_strndup(p, len);
            if (!(*out)[*n]) {
                rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory");
                break;
            }
            (*n)++;
        }
        p += len;
        while (*p && *p != ',')
            p++;
    }
    if (rc == 0 && all) {
        sqlite3_stmt *st = NULL;
        rc = cs_prepare(db, "SELECT DISTINCT name FROM attribute ORDER BY name", &st);
        int src = SQLITE_DONE;
        while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(st, 0);
            if (!name || (s->label && strcmp(name, s->label) == 0))
                continue;
            bool dup = false;
            for (size_t k = 0; k < *n; k++)
                dup = dup || strcmp((*out)[k], name) == 0;
            if (dup)
                continue;
            if (*n == cap) {
                cap = cap ? cap * 2 : 8;
                char **g = cs_reallocarray(*out, cap, sizeof *g);
                if (!g) {
                    rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory");
                    break;
                }
                *out = g;
            }
            (*out)[*n] = cs_strdup(name);
            if (!(*out)[*n])
                rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory");
            else
                (*n)++;
        }
        if (rc == 0 && src != SQLITE_DONE)
            rc = cs_sqlite_error(db, src, "churn: listing attributes");
        sqlite3_finalize(st);
    }
    for (size_t k = 0; rc == 0 && k < *n; k++)
        if (s->label && strcmp((*out)[k], s->label) == 0)
            rc = cs_error(db, CUSTSCORE_EINVAL,
                          "churn options: features: %s is the label; it cannot be a feature",
                          s->label);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Model columns */

static int cs_col_add(cs_churn_model *m, size_t *cap, int kind, int builtin, const char *name,
                      const char *group, const char *attribute, const char *level)
{
    if (m->n_cols == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        cs_churn_col *c = cs_reallocarray(m->col, ncap, sizeof *c);
        if (!c)
            return CUSTSCORE_ENOMEM;
        m->col = c;
        *cap = ncap;
    }
    cs_churn_col *c = &m->col[m->n_cols];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->builtin = builtin;
    c->name = cs_strdup(name);
    c->group = cs_strdup(group);
    c->attribute = attribute ? cs_strdup(attribute) : NULL;
    c->level = level ? cs_strdup(level) : NULL;
    m->n_cols++;
    if (!c->name || !c->group || (attribute && !c->attribute) || (level && !c->level))
        return CUSTSCORE_ENOMEM;
    return CUSTSCORE_OK;
}

typedef struct cs_level_count {
    int64_t count;
    const char *text;
} cs_level_count;

static int cs_level_count_cmp(const void *pa, const void *pb)
{
    const cs_level_count *a = pa, *b = pb;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return strcmp(a->text, b->text);
}

/* Columns of one attribute over the training customers: a number (plus a
 * missing indicator when some are missing), or one indicator per level held
 * by at least rare_level of them, "(missing)" being a level, and "(other)"
 * for the pooled rest. Every kept level gets its indicator (no reference
 * level): the L2 penalty makes the fit unique, and contributions are then
 * symmetric between levels. */
static int cs_design_attribute(cs_churn_model *m, size_t *cap, const cs_churn_attr_cols *ac,
                               const size_t *rows, size_t n_rows)
{
    char name[2 * CUSTSCORE_MAX_KEY + 64];
    char group[CUSTSCORE_MAX_KEY + 16];
    if (cs_name_taken(m, ac->name))
        snprintf(group, sizeof group, "attribute:%s", ac->name);
    else
        snprintf(group, sizeof group, "%s", ac->name);
    const cs_churn_attribute *v = &ac->values;
    if (!v->categorical) {
        size_t missing = 0;
        for (size_t r = 0; r < n_rows; r++)
            missing += isnan(v->number[rows[r]]);
        int rc = cs_col_add(m, cap, CS_CHURN_COL_NUMERIC, 0, group, group, ac->name, NULL);
        if (rc == 0 && missing > 0) {
            snprintf(name, sizeof name, "%s:missing", group);
            rc = cs_col_add(m, cap, CS_CHURN_COL_MISSING, 0, name, group, ac->name, NULL);
        }
        return rc;
    }
    size_t n_levels = v->levels.count;
    cs_level_count *count = cs_calloc(n_levels + 1, sizeof *count);
    if (!count)
        return CUSTSCORE_ENOMEM;
    for (size_t l = 0; l < n_levels; l++)
        count[l].text = cs_strmap_key(&v->levels, l);
    count[n_levels].text = CS_CHURN_MISSING_LEVEL;
    for (size_t r = 0; r < n_rows; r++) {
        int32_t l = v->level[rows[r]];
        count[l >= 0 ? (size_t)l : n_levels].count++;
    }
    qsort(count, n_levels + 1, sizeof *count, cs_level_count_cmp);
    double min_count = fmax(1.0, m->rare_level * (double)n_rows);
    int64_t pooled = 0;
    int rc = CUSTSCORE_OK;
    for (size_t l = 0; l <= n_levels && rc == 0; l++) {
        if (count[l].count == 0)
            continue;
        if ((double)count[l].count < min_count) {
            pooled += count[l].count;
            continue;
        }
        snprintf(name, sizeof name, "%s=%s", group, count[l].text);
        rc = cs_col_add(m, cap, CS_CHURN_COL_LEVEL, 0, name, group, ac->name, count[l].text);
    }
    if (rc == 0 && pooled > 0) {
        snprintf(name, sizeof name, "%s=%s", group, CS_CHURN_OTHER_LEVEL);
        rc = cs_col_add(m, cap, CS_CHURN_COL_OTHER, 0, name, group, ac->name, NULL);
    }
    cs_free(count);
    return rc;
}

static int cs_design(cs_churn_model *m, const cs_churn_ctx *ctx, const size_t *rows, size_t n_rows)
{
    size_t cap = 0;
    int rc = CUSTSCORE_OK;
    for (int b = 0; b < CS_CHURN_BUILTIN_COUNT && rc == 0; b++) {
        bool use;
        switch (b) {
        case CS_CHURN_P_ALIVE:
            use = ctx->p_alive != NULL;
            break;
        case CS_CHURN_SATISFACTION:
        case CS_CHURN_SATISFACTION_MISSING:
            use = ctx->satisfaction != NULL;
            break;
        case CS_CHURN_COMPLAINTS_RECENT:
        case CS_CHURN_COMPLAINTS_UNRESOLVED:
            use = ctx->complaints.count > 0;
            break;
        default:
            use = m->behaviour;
        }
        if (use)
            rc = cs_col_add(m, &cap, CS_CHURN_COL_BUILTIN, b, cs_churn_builtin_name[b],
                            cs_churn_builtin_group[b], NULL, NULL);
    }
    for (size_t a = 0; a < ctx->n_attrs && rc == 0; a++)
        rc = cs_design_attribute(m, &cap, &ctx->attr[a], rows, n_rows);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Labels */

static bool cs_label_positive(const char *text, const char *positive)
{
    return strcasecmp(text, positive) == 0 || strcasecmp(text, "true") == 0 ||
           strcmp(text, "1") == 0;
}

/* ---------------------------------------------------------------------- */
/* Training */

typedef struct cs_train {
    custscore *db;
    cs_churn_settings s;
    const cs_history *h;
    cs_churn_ctx ctx;
    cs_churn_model m;
    char **names;
    size_t n_names;
    size_t *rows; /* history positions of the customers trained on */
    size_t n_rows;
    double *y, *w, *x, *prob;
    double *coef, *se, *mean, *sd;
} cs_train;

static void cs_train_free(cs_train *t)
{
    for (size_t k = 0; k < t->n_names; k++)
        cs_free(t->names[k]);
    cs_free(t->names);
    cs_free(t->rows);
    cs_free(t->y);
    cs_free(t->w);
    cs_free(t->x);
    cs_free(t->prob);
    cs_free(t->coef);
    cs_free(t->se);
    cs_free(t->mean);
    cs_free(t->sd);
    cs_churn_model_free(&t->m);
    cs_churn_ctx_close(&t->ctx);
}

/* Customers to train on and their labels. */
static int cs_train_rows(cs_train *t, int64_t as_of_day)
{
    size_t n = t->h->n_customers;
    t->rows = cs_mallocarray(n ? n : 1, sizeof *t->rows);
    t->y = cs_mallocarray(n ? n : 1, sizeof *t->y);
    if (!t->rows || !t->y)
        return cs_error(t->db, CUSTSCORE_ENOMEM, "churn: out of memory");
    if (t->s.method == CUSTSCORE_CHURN_WINDOW) {
        int64_t cut = t->ctx.ref_day;
        for (size_t i = 0; i < n; i++) {
            if (!cs_churn_purchased_between(t->h, i, INT64_MIN / CS_SECONDS_PER_DAY, cut))
                continue;
            t->rows[t->n_rows] = i;
            t->y[t->n_rows] = !cs_churn_purchased_between(t->h, i, cut, as_of_day);
            t->n_rows++;
        }
        if (t->n_rows == 0) {
            char date[32];
            /* The cut-off may lie before 0001-01-01 (as-of near the start of
             * the time range minus the window): then its Unix time. */
            if (custscore_format_time(cut * CS_SECONDS_PER_DAY, 1, date, sizeof date) != 0)
                snprintf(date, sizeof date, "%lld", (long long)(cut * CS_SECONDS_PER_DAY));
            return cs_error(t->db, CUSTSCORE_EINVAL,
                            "churn train: no customer has a purchase on or before the cut-off "
                            "%s (as-of minus the %lld-day window): the window is longer than "
                            "the order history",
                            date, (long long)t->s.window_days);
        }
        return CUSTSCORE_OK;
    }
    /* Label method. */
    int rc = cs_churn_ctx_add_attribute(&t->ctx, t->s.label);
    if (rc)
        return rc;
    ptrdiff_t a = cs_churn_ctx_find_attribute(&t->ctx, t->s.label);
    const cs_churn_attribute *lab = &t->ctx.attr[a].values;
    for (size_t i = 0; i < n; i++) {
        double y;
        if (lab->categorical) {
            if (lab->level[i] < 0)
                continue;
            y = cs_label_positive(cs_strmap_key(&lab->levels, (size_t)lab->level[i]),
                                  t->s.label_positive);
        } else {
            if (isnan(lab->number[i]))
                continue;
            y = lab->number[i] != 0;
        }
        t->rows[t->n_rows] = i;
        t->y[t->n_rows] = y;
        t->n_rows++;
    }
    if (t->n_rows == 0)
        return cs_error(t->db, CUSTSCORE_EINVAL,
                        "churn train: label %s: no customer has this attribute", t->s.label);
    /* The label is not a feature: forget it so the design does not see it. */
    cs_churn_attr_cols *ac = &t->ctx.attr[a];
    cs_free(ac->name);
    cs_free(ac->level_col);
    cs_churn_attribute_free(&ac->values);
    t->ctx.attr[a] = t->ctx.attr[t->ctx.n_attrs - 1];
    t->ctx.n_attrs--;
    return CUSTSCORE_OK;
}

/* Metrics of predictions @prob against @y over rows with (w == 0) == holdout. */
static int cs_train_metrics(cs_train *t, bool holdout, double *auc, double *brier, double *lift,
                            double *base, custscore_calibration_bin *cal, size_t *n_cal)
{
    *auc = *brier = *lift = *base = NAN;
    if (n_cal)
        *n_cal = 0;
    size_t n = 0;
    double *p = cs_mallocarray(t->n_rows, sizeof *p);
    double *y = cs_mallocarray(t->n_rows, sizeof *y);
    int rc = p && y ? CUSTSCORE_OK : CUSTSCORE_ENOMEM;
    for (size_t r = 0; rc == 0 && r < t->n_rows; r++) {
        if ((t->w[r] == 0) != holdout)
            continue;
        p[n] = t->prob[r];
        y[n] = t->y[r];
        n++;
    }
    if (rc == 0 && n > 0) {
        rc = cs_classifier_metrics(p, y, n, auc, brier, lift, cal ? CS_CHURN_BINS : 0, cal, base);
        if (rc == 0 && cal && n >= CS_CHURN_BINS)
            *n_cal = CS_CHURN_BINS;
    }
    cs_free(p);
    cs_free(y);
    return rc == CUSTSCORE_ENOMEM ? cs_error(t->db, rc, "churn: out of memory computing metrics")
                                  : rc;
}

static int cs_train_fit(cs_train *t)
{
    cs_churn_model *m = &t->m;
    size_t n = t->n_rows, p = m->n_cols;
    custscore *db = t->db;

    /* Seeded random holdout: a Fisher-Yates shuffle of the rows (in key
     * order), the first round(holdout * n) held out. */
    t->w = cs_mallocarray(n, sizeof *t->w);
    size_t *perm = cs_mallocarray(n, sizeof *perm);
    if (!t->w || !perm) {
        cs_free(perm);
        return cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory");
    }
    for (size_t r = 0; r < n; r++) {
        perm[r] = r;
        t->w[r] = 1;
    }
    uint64_t state = t->s.seed;
    for (size_t r = n; r > 1; r--) {
        size_t k = (size_t)cs_uniform_below(&state, (uint64_t)r);
        size_t tmp = perm[r - 1];
        perm[r - 1] = perm[k];
        perm[k] = tmp;
    }
    size_t n_hold = (size_t)llround(t->s.holdout * (double)n);
    if (n_hold >= n)
        n_hold = n - 1;
    for (size_t r = 0; r < n_hold; r++)
        t->w[perm[r]] = 0;
    cs_free(perm);
    m->n_holdout = (int64_t)n_hold;
    m->n_train = (int64_t)(n - n_hold);

    /* Feature matrix; missing values imputed with the training mean. */
    if (p > 0 && n > SIZE_MAX / sizeof(double) / p)
        return cs_error(db, CUSTSCORE_ERANGE, "churn: too many customers x features");
    t->x = cs_mallocarray(n * (p ? p : 1), sizeof *t->x);
    t->coef = cs_calloc(p + 1, sizeof *t->coef);
    t->se = cs_calloc(p + 1, sizeof *t->se);
    t->mean = cs_calloc(p + 1, sizeof *t->mean);
    t->sd = cs_calloc(p + 1, sizeof *t->sd);
    t->prob = cs_mallocarray(n, sizeof *t->prob);
    double *sum = cs_calloc(p + 1, sizeof *sum);
    double *cnt = cs_calloc(p + 1, sizeof *cnt);
    if (!t->x || !t->coef || !t->se || !t->mean || !t->sd || !t->prob || !sum || !cnt) {
        cs_free(sum);
        cs_free(cnt);
        return cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory building %zu x %zu features", n,
                        p);
    }
    for (size_t r = 0; r < n; r++) {
        cs_churn_behaviour bh;
        double *row = t->x + r * p;
        cs_churn_row(m, &t->ctx, t->rows[r], row, &bh);
        if (t->w[r] == 0)
            continue;
        for (size_t j = 0; j < p; j++)
            if (!isnan(row[j])) {
                sum[j] += row[j];
                cnt[j]++;
            }
    }
    for (size_t j = 0; j < p; j++)
        sum[j] = cnt[j] > 0 ? sum[j] / cnt[j] : 0;
    for (size_t r = 0; r < n; r++)
        for (size_t j = 0; j < p; j++)
            if (isnan(t->x[r * p + j]))
                t->x[r * p + j] = sum[j];
    cs_free(sum);
    cs_free(cnt);

    custscore_logistic_options lopt = CUSTSCORE_LOGISTIC_OPTIONS_INIT;
    lopt.l2 = t->s.l2;
    custscore_logistic_info info;
    char err[256] = "";
    int rc = cs_logistic_fit(t->x, n, p, t->y, t->w, &lopt, t->coef, t->se, t->mean, t->sd, &info,
                             err, sizeof err);
    if (rc == CUSTSCORE_EINVAL && strstr(err, "churned")) {
        bool all = strstr(err, "all churned") != NULL;
        if (t->s.method == CUSTSCORE_CHURN_WINDOW)
            return cs_error(db, CUSTSCORE_EINVAL,
                            "churn train: %s of the %lld training customers %s in the %lld days "
                            "after the cut-off: the model needs customers who bought again and "
                            "customers who did not (try another window or as-of date)",
                            all ? "all" : "none", (long long)m->n_train,
                            all ? "lapsed (no purchase)" : "lapsed: all bought again",
                            (long long)t->s.window_days);
        return cs_error(db, CUSTSCORE_EINVAL,
                        "churn train: label %s: %s of the %lld training customers churned: the "
                        "model needs both outcomes",
                        t->s.label, all ? "all" : "none", (long long)m->n_train);
    }
    if (rc)
        return cs_error(db, rc, "churn train: %s", err);
    m->iterations = info.iterations;
    m->converged = info.converged;
    m->loglik = info.loglik;
    m->intercept = t->coef[0];
    m->intercept_se = t->se[0];
    for (size_t j = 0; j < p; j++) {
        m->col[j].coef = t->coef[j + 1];
        m->col[j].se = t->se[j + 1];
        m->col[j].mean = t->mean[j];
        m->col[j].sd = t->sd[j];
    }
    rc = custscore_logistic_predict(t->x, n, p, t->coef, t->prob);
    if (rc)
        return cs_error(db, CUSTSCORE_EINTERNAL, "churn train: prediction failed");
    double dummy_lift, dummy_brier;
    rc = cs_train_metrics(t, false, &m->train_auc, &dummy_brier, &dummy_lift, &m->base_rate, NULL,
                          NULL);
    if (rc == 0 && n_hold > 0)
        rc = cs_train_metrics(t, true, &m->auc, &m->brier, &m->lift, &m->holdout_base_rate,
                              m->calibration, &m->n_calibration);
    else if (rc == 0) {
        m->holdout_base_rate = NAN;
        rc = cs_train_metrics(t, false, &m->auc, &m->brier, &m->lift, &m->base_rate, m->calibration,
                              &m->n_calibration);
    }
    if (rc)
        return rc == CUSTSCORE_ENOMEM
                   ? rc
                   : cs_error(db, CUSTSCORE_EINTERNAL, "churn train: metrics failed (code %d)", rc);
    return CUSTSCORE_OK;
}

/* Leave out the columns that were constant over the training customers. */
static int cs_train_drop_constant(cs_churn_model *m)
{
    m->dropped = cs_mallocarray(m->n_cols ? m->n_cols : 1, sizeof *m->dropped);
    if (!m->dropped)
        return CUSTSCORE_ENOMEM;
    size_t keep = 0;
    for (size_t j = 0; j < m->n_cols; j++) {
        cs_churn_col *c = &m->col[j];
        if (c->sd > 0) {
            m->col[keep++] = *c;
            continue;
        }
        m->dropped[m->n_dropped++] = c->name;
        cs_free(c->group);
        cs_free(c->attribute);
        cs_free(c->level);
    }
    m->n_cols = keep;
    return cs_churn_model_groups(m);
}

int cs_churn_train_history(custscore *db, const cs_history *h, int64_t as_of,
                           const cs_churn_settings *s, cs_churn_model *out)
{
    cs_train t;
    memset(&t, 0, sizeof t);
    memset(out, 0, sizeof *out);
    t.db = db;
    t.s = *s;
    t.h = h;
    int64_t as_of_day = cs_day_of(as_of);
    int64_t ref_day =
        t.s.method == CUSTSCORE_CHURN_WINDOW ? as_of_day - t.s.window_days : as_of_day;
    cs_churn_model *m = &t.m;
    m->method = t.s.method;
    m->as_of = as_of;
    m->cutoff = ref_day * CS_SECONDS_PER_DAY;
    m->fitted_at = (int64_t)time(NULL);
    m->window_days = t.s.method == CUSTSCORE_CHURN_WINDOW ? (double)t.s.window_days : 0;
    m->lookback_days = t.s.lookback_days;
    m->complaint_days = t.s.complaint_days;
    m->l2 = t.s.l2;
    m->holdout = t.s.holdout;
    m->seed = t.s.seed;
    m->rare_level = t.s.rare_level;
    m->band_medium = t.s.band_medium;
    m->band_high = t.s.band_high;
    m->behaviour = t.s.behaviour;
    m->name = cs_strdup(t.s.model_name);
    if (t.s.label) {
        m->label = cs_strdup(t.s.label);
        m->label_positive = cs_strdup(t.s.label_positive);
    }
    int rc = CUSTSCORE_OK;
    if (!m->name || (t.s.label && (!m->label || !m->label_positive)))
        rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory");
    if (rc == 0)
        rc = cs_churn_feature_names(db, &t.s, &t.names, &t.n_names);
    if (rc == 0)
        rc = cs_churn_ctx_open(db, h, ref_day, &t.ctx);
    if (rc == 0 && m->behaviour)
        rc = cs_churn_ctx_p_alive(&t.ctx, t.s.btyd_model, &m->btyd_model);
    if (rc == 0)
        rc = cs_churn_ctx_satisfaction(&t.ctx, t.s.survey_model, &m->survey_model);
    if (rc == 0)
        rc = cs_train_rows(&t, as_of_day);
    for (size_t k = 0; rc == 0 && k < t.n_names; k++) {
        rc = cs_churn_ctx_add_attribute(&t.ctx, t.names[k]);
        ptrdiff_t a = rc ? -1 : cs_churn_ctx_find_attribute(&t.ctx, t.names[k]);
        if (a >= 0 && t.ctx.attr[a].values.n_numbers + t.ctx.attr[a].values.n_texts == 0)
            rc = cs_error(db, CUSTSCORE_EINVAL,
                          "churn options: features: no customer has the attribute \"%s\"",
                          t.names[k]);
    }
    if (rc == 0 && m->behaviour) {
        rc = cs_churn_median_gap(h, ref_day, &m->prior_gap_days);
        if (rc)
            rc = cs_error(db, rc, "churn: out of memory");
        else if (m->prior_gap_days <= 0)
            m->prior_gap_days = t.s.window_days > 0 ? (double)t.s.window_days : 90;
    }
    if (rc == 0 && cs_design(m, &t.ctx, t.rows, t.n_rows))
        rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory");
    if (rc == 0)
        rc = cs_churn_ctx_bind(&t.ctx, m);
    if (rc == 0)
        rc = cs_train_fit(&t);
    if (rc == 0 && cs_train_drop_constant(m))
        rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory");
    if (rc == 0) {
        *out = t.m; /* the model moves to the caller */
        memset(&t.m, 0, sizeof t.m);
    }
    cs_train_free(&t);
    return rc;
}

int custscore_churn_train(custscore *db, int64_t as_of, const custscore_churn_options *options,
                          custscore_churn_card **card)
{
    if (card)
        *card = NULL;
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    int rc = cs_check_as_of(db, as_of, "custscore_churn_train: as-of time");
    if (rc)
        return rc;
    cs_churn_settings s;
    rc = cs_churn_settings_get(db, options, true, &s);
    if (rc)
        return rc;
    if (s.method == CUSTSCORE_CHURN_BTYD || s.method == CUSTSCORE_CHURN_BTYD_ALIVE)
        return cs_error(db, CUSTSCORE_EINVAL,
                        "churn train: the BTYD methods need no training: fit a BTYD model "
                        "(custscore_fit) and score with method btyd");
    cs_history h;
    rc = cs_history_load(db, as_of, &h);
    if (rc)
        return rc;
    cs_churn_model m;
    rc = cs_churn_train_history(db, &h, as_of, &s, &m);
    cs_history_free(&h);
    if (rc)
        return rc;
    if (s.store)
        rc = cs_churn_model_store(db, &m);
    if (rc == 0 && card && cs_churn_card_from_model(&m, card))
        rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory");
    cs_churn_model_free(&m);
    return rc;
}

int custscore_churn_card_get(custscore *db, const char *name, custscore_churn_card **card)
{
    if (card)
        *card = NULL;
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!card)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_churn_card_get: NULL card");
    cs_churn_model m;
    int rc = cs_churn_model_load(db, name && name[0] ? name : "churn", &m);
    if (rc)
        return rc;
    if (cs_churn_card_from_model(&m, card))
        rc = cs_error(db, CUSTSCORE_ENOMEM, "churn: out of memory");
    cs_churn_model_free(&m);
    return rc;
}
