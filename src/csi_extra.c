/*
 * csi_extra.c: SERVQUAL gap scores (Parasuraman, Zeithaml & Berry 1988) and
 * the Kano classification with Berger et al.'s (1993) better/worse
 * coefficients, from matrices or from the store's responses. Formulas:
 * docs/models.md ("Satisfaction index").
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------------- */
/* SERVQUAL */

static const char *const cs_servqual_names[CUSTSCORE_SERVQUAL_DIMENSIONS] = {
    "tangibles", "reliability", "responsiveness", "assurance", "empathy"};

const char *custscore_servqual_dimension_name(int dimension)
{
    if (dimension < 0 || dimension >= CUSTSCORE_SERVQUAL_DIMENSIONS)
        return NULL;
    return cs_servqual_names[dimension];
}

void custscore_servqual_result_free(custscore_servqual_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->item_names && i < r->n_items; i++)
        cs_free(r->item_names[i]);
    cs_free(r->item_names);
    cs_free(r->item_dimension);
    cs_free(r->item_n);
    cs_free(r->expectation);
    cs_free(r->perception);
    cs_free(r->gap);
    cs_free(r);
}

/* SERVQUAL with item names (NULL: "item N"). */
static int cs_servqual_named(const double *expectation, const double *perception, size_t n_rows,
                             size_t n_items, const int *dimension, const double *importance,
                             const char *const *names, custscore_servqual_result **out,
                             char *errbuf, size_t errsize)
{
    if (errbuf && errsize)
        errbuf[0] = '\0';
    if (!out)
        return cs_errbuf(errbuf, errsize, CUSTSCORE_EINVAL, "servqual: out is NULL");
    *out = NULL;
    if (!dimension || ((!expectation || !perception) && n_rows > 0) || n_items == 0)
        return cs_errbuf(errbuf, errsize, CUSTSCORE_EINVAL,
                         "servqual: no items, or data or dimensions missing");
    for (size_t i = 0; i < n_items; i++)
        if (dimension[i] < 0 || dimension[i] >= CUSTSCORE_SERVQUAL_DIMENSIONS)
            return cs_errbuf(errbuf, errsize, CUSTSCORE_EINVAL,
                             "servqual: item %zu: dimension %d is not 0..4", i + 1, dimension[i]);
    if (importance)
        for (int d = 0; d < CUSTSCORE_SERVQUAL_DIMENSIONS; d++)
            if (!(importance[d] >= 0) || !isfinite(importance[d]))
                return cs_errbuf(errbuf, errsize, CUSTSCORE_EINVAL,
                                 "servqual: importance of %s must be a number >= 0",
                                 cs_servqual_names[d]);
    custscore_servqual_result *r = cs_calloc(1, sizeof *r);
    if (!r)
        return CUSTSCORE_ENOMEM;
    r->n_items = n_items;
    r->item_names = cs_calloc(n_items, sizeof(char *));
    r->item_dimension = cs_mallocarray(n_items, sizeof(int));
    r->item_n = cs_calloc(n_items, sizeof(size_t));
    r->expectation = cs_calloc(n_items, sizeof(double));
    r->perception = cs_calloc(n_items, sizeof(double));
    r->gap = cs_calloc(n_items, sizeof(double));
    if (!r->item_names || !r->item_dimension || !r->item_n || !r->expectation || !r->perception ||
        !r->gap) {
        custscore_servqual_result_free(r);
        return CUSTSCORE_ENOMEM;
    }
    for (size_t i = 0; i < n_items; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "item %zu", i + 1);
        r->item_names[i] = cs_strdup(names && names[i] ? names[i] : buf);
        if (!r->item_names[i]) {
            custscore_servqual_result_free(r);
            return CUSTSCORE_ENOMEM;
        }
        r->item_dimension[i] = dimension[i];
    }
    for (size_t row = 0; row < n_rows; row++)
        for (size_t i = 0; i < n_items; i++) {
            double e = expectation[row * n_items + i], p = perception[row * n_items + i];
            if (isnan(e) || isnan(p))
                continue;
            if (!isfinite(e) || !isfinite(p)) {
                custscore_servqual_result_free(r);
                return cs_errbuf(errbuf, errsize, CUSTSCORE_EINVAL,
                                 "servqual: row %zu, item %s: infinite answer", row + 1,
                                 r->item_names[i]);
            }
            r->item_n[i]++;
            r->expectation[i] += e;
            r->perception[i] += p;
        }
    double dsum_e[CUSTSCORE_SERVQUAL_DIMENSIONS] = {0}, dsum_p[CUSTSCORE_SERVQUAL_DIMENSIONS] = {0};
    for (size_t i = 0; i < n_items; i++) {
        if (r->item_n[i] == 0) {
            r->expectation[i] = r->perception[i] = r->gap[i] = NAN;
            continue;
        }
        r->expectation[i] /= (double)r->item_n[i];
        r->perception[i] /= (double)r->item_n[i];
        /* The mean of P - E over the pairs equals mean P - mean E. */
        r->gap[i] = r->perception[i] - r->expectation[i];
        int d = dimension[i];
        r->dimension_items[d]++;
        dsum_e[d] += r->expectation[i];
        dsum_p[d] += r->perception[i];
    }
    /* Dimension scores: the unweighted mean over its items (Parasuraman et
     * al. 1988); overall: the mean of the dimension scores; weighted: by the
     * importance points, normalised over the dimensions with items. */
    double overall = 0, weighted = 0, wsum = 0;
    int dims = 0;
    r->weakest = -1;
    for (int d = 0; d < CUSTSCORE_SERVQUAL_DIMENSIONS; d++) {
        if (r->dimension_items[d] == 0) {
            r->dimension_expectation[d] = r->dimension_perception[d] = r->dimension_gap[d] = NAN;
            continue;
        }
        double m = (double)r->dimension_items[d];
        r->dimension_expectation[d] = dsum_e[d] / m;
        r->dimension_perception[d] = dsum_p[d] / m;
        r->dimension_gap[d] = r->dimension_perception[d] - r->dimension_expectation[d];
        overall += r->dimension_gap[d];
        dims++;
        if (importance) {
            weighted += importance[d] * r->dimension_gap[d];
            wsum += importance[d];
        }
        if (r->weakest < 0 || r->dimension_gap[d] < r->dimension_gap[r->weakest])
            r->weakest = d;
    }
    r->overall_gap = dims ? overall / dims : NAN;
    r->weighted_gap = importance && wsum > 0 ? weighted / wsum : NAN;
    *out = r;
    return CUSTSCORE_OK;
}

int custscore_servqual(const double *expectation, const double *perception, size_t n_rows,
                       size_t n_items, const int *dimension, const double *importance,
                       custscore_servqual_result **out, char *errbuf, size_t errbuf_size)
{
    return cs_servqual_named(expectation, perception, n_rows, n_items, dimension, importance, NULL,
                             out, errbuf, errbuf_size);
}

/* A parsed pair mapping "GROUP=A/B+A/B,GROUP=A/B". */
typedef struct cs_pair_map {
    size_t n;
    char **group; /* [n] group of each pair (a dimension or feature name) */
    char **first; /* [n] */
    char **second;
} cs_pair_map;

static void cs_pair_map_free(cs_pair_map *m)
{
    for (size_t i = 0; i < m->n; i++) {
        cs_free(m->group[i]);
        cs_free(m->first[i]);
        cs_free(m->second[i]);
    }
    cs_free(m->group);
    cs_free(m->first);
    cs_free(m->second);
    memset(m, 0, sizeof *m);
}

/* Copy s[a..b) trimmed of blanks. */
static char *cs_trimmed(const char *s, size_t a, size_t b)
{
    while (a < b && (s[a] == ' ' || s[a] == '\t'))
        a++;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
        b--;
    return cs_strndup(s + a, b - a);
}

static int cs_pair_map_parse(const char *text, bool one_per_group, cs_pair_map *m, char *errbuf,
                             size_t errsize)
{
    memset(m, 0, sizeof *m);
    size_t len = strlen(text), cap = 0, pos = 0;
    char *group = NULL;
    int rc = CUSTSCORE_OK;
    while (pos < len && rc == 0) {
        size_t eq = pos;
        while (eq < len && text[eq] != '=' && text[eq] != ',')
            eq++;
        if (eq >= len || text[eq] != '=') {
            rc = cs_errbuf(errbuf, errsize, CUSTSCORE_EINVAL,
                           "mapping:%zu: expected NAME=FIRST/SECOND", pos + 1);
            break;
        }
        cs_free(group);
        group = cs_trimmed(text, pos, eq);
        if (!group) {
            rc = CUSTSCORE_ENOMEM;
            break;
        }
        if (!*group) {
            rc = cs_errbuf(errbuf, errsize, CUSTSCORE_EINVAL, "mapping:%zu: empty name", pos + 1);
            break;
        }
        pos = eq + 1;
        for (;;) {
            size_t end = pos, slash = SIZE_MAX;
            while (end < len && text[end] != '+' && text[end] != ',') {
                if (text[end] == '/' && slash == SIZE_MAX)
                    slash = end;
                end++;
            }
            if (slash == SIZE_MAX) {
                rc = cs_errbuf(errbuf, errsize, CUSTSCORE_EINVAL,
                               "mapping:%zu: expected FIRST/SECOND (two item names and a '/')",
                               pos + 1);
                break;
            }
            if (m->n == cap) {
                size_t ncap = cap ? cap * 2 : 16;
                char **g = cs_reallocarray(m->group, ncap, sizeof(char *));
                if (g)
                    m->group = g;
                char **f = g ? cs_reallocarray(m->first, ncap, sizeof(char *)) : NULL;
                if (f)
                    m->first = f;
                char **s = f ? cs_reallocarray(m->second, ncap, sizeof(char *)) : NULL;
                if (!s) {
                    rc = CUSTSCORE_ENOMEM;
                    break;
                }
                m->second = s;
                cap = ncap;
            }
            m->group[m->n] = cs_strdup(group);
            m->first[m->n] = cs_trimmed(text, pos, slash);
            m->second[m->n] = cs_trimmed(text, slash + 1, end);
            m->n++;
            if (!m->group[m->n - 1] || !m->first[m->n - 1] || !m->second[m->n - 1]) {
                rc = CUSTSCORE_ENOMEM;
                break;
            }
            if (!*m->first[m->n - 1] || !*m->second[m->n - 1]) {
                rc = cs_errbuf(errbuf, errsize, CUSTSCORE_EINVAL, "mapping:%zu: empty item name",
                               pos + 1);
                break;
            }
            pos = end;
            if (pos < len && text[pos] == '+') {
                if (one_per_group) {
                    rc = cs_errbuf(errbuf, errsize, CUSTSCORE_EINVAL,
                                   "mapping:%zu: one FUNCTIONAL/DYSFUNCTIONAL pair per feature",
                                   pos + 1);
                    break;
                }
                pos++;
                continue;
            }
            if (pos < len)
                pos++; /* ',' */
            break;
        }
    }
    cs_free(group);
    if (rc == 0 && m->n == 0)
        rc = cs_errbuf(errbuf, errsize, CUSTSCORE_EINVAL, "mapping: empty");
    if (rc) {
        if (rc == CUSTSCORE_ENOMEM)
            cs_errbuf(errbuf, errsize, rc, "out of memory");
        cs_pair_map_free(m);
    }
    return rc;
}

/* Load the answers to the pairs' items: first[row, pair], second[row, pair].
 * An item may appear in several pairs; it is loaded once. */
static int cs_pair_matrix(custscore *db, const cs_pair_map *pm, double **first, double **second,
                          size_t *n_rows)
{
    *first = *second = NULL;
    *n_rows = 0;
    const char **names = cs_mallocarray(2 * pm->n, sizeof(char *));
    size_t *col = cs_mallocarray(2 * pm->n, sizeof(size_t));
    if (!names || !col) {
        cs_free(names);
        cs_free(col);
        return cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
    }
    size_t n_names = 0;
    for (size_t j = 0; j < 2 * pm->n; j++) {
        const char *nm = j % 2 ? pm->second[j / 2] : pm->first[j / 2];
        size_t c = 0;
        while (c < n_names && strcmp(names[c], nm) != 0)
            c++;
        if (c == n_names)
            names[n_names++] = nm;
        col[j] = c;
    }
    cs_response_matrix rm;
    int rc = cs_response_matrix_load(db, names, n_names, 0, 0, &rm);
    cs_free(names);
    if (rc) {
        cs_free(col);
        return rc;
    }
    double *a = NULL, *b = NULL;
    if (rm.n_rows == 0) {
        rc = cs_error(db, CUSTSCORE_ENOTFOUND, "no survey responses to the items mapped");
        goto done;
    }
    a = cs_mallocarray(rm.n_rows, pm->n * sizeof(double));
    b = cs_mallocarray(rm.n_rows, pm->n * sizeof(double));
    if (!a || !b) {
        rc = cs_error(db, CUSTSCORE_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t r = 0; r < rm.n_rows; r++)
        for (size_t i = 0; i < pm->n; i++) {
            a[r * pm->n + i] = rm.data[r * rm.n_cols + col[2 * i]];
            b[r * pm->n + i] = rm.data[r * rm.n_cols + col[2 * i + 1]];
        }
    *first = a;
    *second = b;
    *n_rows = rm.n_rows;
    a = b = NULL;
done:
    cs_free(a);
    cs_free(b);
    cs_free(col);
    cs_response_matrix_free(&rm);
    return rc;
}

int custscore_servqual_compute(custscore *db, const char *mapping, const double *importance,
                               custscore_servqual_result **out)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!out)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_servqual_compute: out is NULL");
    *out = NULL;
    char err[512];
    cs_pair_map pm;
    int rc;
    if (mapping) {
        rc = cs_pair_map_parse(mapping, false, &pm, err, sizeof err);
        if (rc)
            return cs_error(db, rc, "servqual: %s", err);
    } else {
        /* The 22-item instrument: tangibles 1-4, reliability 5-9,
         * responsiveness 10-13, assurance 14-17, empathy 18-22. */
        static const int first_item[] = {1, 5, 10, 14, 18, 23};
        memset(&pm, 0, sizeof pm);
        pm.group = cs_calloc(22, sizeof(char *));
        pm.first = cs_calloc(22, sizeof(char *));
        pm.second = cs_calloc(22, sizeof(char *));
        rc = pm.group && pm.first && pm.second ? 0 : CUSTSCORE_ENOMEM;
        for (int d = 0; d < 5 && rc == 0; d++)
            for (int i = first_item[d]; i < first_item[d + 1] && rc == 0; i++) {
                char e[16], p[16];
                snprintf(e, sizeof e, "SQE%d", i);
                snprintf(p, sizeof p, "SQP%d", i);
                pm.group[pm.n] = cs_strdup(cs_servqual_names[d]);
                pm.first[pm.n] = cs_strdup(e);
                pm.second[pm.n] = cs_strdup(p);
                pm.n++;
                if (!pm.group[pm.n - 1] || !pm.first[pm.n - 1] || !pm.second[pm.n - 1])
                    rc = CUSTSCORE_ENOMEM;
            }
        if (rc) {
            cs_pair_map_free(&pm);
            return cs_error(db, rc, "servqual: out of memory");
        }
    }
    int *dim = cs_mallocarray(pm.n, sizeof(int));
    char **names = cs_calloc(pm.n, sizeof(char *));
    double *e = NULL, *p = NULL;
    size_t n_rows = 0;
    if (!dim || !names) {
        rc = cs_error(db, CUSTSCORE_ENOMEM, "servqual: out of memory");
        goto done;
    }
    for (size_t i = 0; i < pm.n; i++) {
        dim[i] = -1;
        for (int d = 0; d < CUSTSCORE_SERVQUAL_DIMENSIONS; d++)
            if (strcasecmp(pm.group[i], cs_servqual_names[d]) == 0)
                dim[i] = d;
        if (dim[i] < 0) {
            rc = cs_error(db, CUSTSCORE_EINVAL,
                          "servqual: mapping: unknown dimension '%s' (tangibles, reliability, "
                          "responsiveness, assurance, empathy)",
                          pm.group[i]);
            goto done;
        }
        size_t len = strlen(pm.first[i]) + strlen(pm.second[i]) + 2;
        names[i] = cs_malloc(len);
        if (!names[i]) {
            rc = cs_error(db, CUSTSCORE_ENOMEM, "servqual: out of memory");
            goto done;
        }
        snprintf(names[i], len, "%s/%s", pm.first[i], pm.second[i]);
    }
    rc = cs_pair_matrix(db, &pm, &e, &p, &n_rows);
    if (rc)
        goto done;
    rc = cs_servqual_named(e, p, n_rows, pm.n, dim, importance, (const char *const *)names, out,
                           err, sizeof err);
    if (rc)
        cs_error(db, rc, "servqual: %s", err);
done:
    for (size_t i = 0; names && i < pm.n; i++)
        cs_free(names[i]);
    cs_free(names);
    cs_free(dim);
    cs_free(e);
    cs_free(p);
    cs_pair_map_free(&pm);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Kano */

static const char *const cs_kano_names[CUSTSCORE_KANO_CATEGORIES] = {
    "attractive", "one-dimensional", "must-be", "indifferent", "reverse", "questionable"};

const char *custscore_kano_category_name(int category)
{
    if (category < 0 || category >= CUSTSCORE_KANO_CATEGORIES)
        return NULL;
    return cs_kano_names[category];
}

int custscore_kano_classify(int functional, int dysfunctional)
{
    /* The Kano evaluation table (Kano et al. 1984; Berger et al. 1993):
     * rows the functional answer, columns the dysfunctional answer, both
     * like, must-be (expect), neutral, live-with, dislike. */
    enum {
        A = CUSTSCORE_KANO_ATTRACTIVE,
        O = CUSTSCORE_KANO_ONE_DIMENSIONAL,
        M = CUSTSCORE_KANO_MUST_BE,
        I = CUSTSCORE_KANO_INDIFFERENT,
        R = CUSTSCORE_KANO_REVERSE,
        Q = CUSTSCORE_KANO_QUESTIONABLE
    };
    static const unsigned char table[5][5] = {
        {Q, A, A, A, O}, {R, I, I, I, M}, {R, I, I, I, M}, {R, I, I, I, M}, {R, R, R, R, Q}};
    if (functional < 1 || functional > 5 || dysfunctional < 1 || dysfunctional > 5)
        return -1;
    return table[functional - 1][dysfunctional - 1];
}

void custscore_kano_result_free(custscore_kano_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->features && i < r->n_features; i++)
        cs_free(r->features[i].name);
    cs_free(r->features);
    cs_free(r);
}

int custscore_kano(const double *functional, const double *dysfunctional, size_t n_rows,
                   size_t n_features, const char *const *names, custscore_kano_result **out,
                   char *errbuf, size_t errbuf_size)
{
    if (errbuf && errbuf_size)
        errbuf[0] = '\0';
    if (!out)
        return cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL, "kano: out is NULL");
    *out = NULL;
    if ((!functional || !dysfunctional) && n_rows > 0 && n_features > 0)
        return cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL, "kano: data is NULL");
    custscore_kano_result *r = cs_calloc(1, sizeof *r);
    if (!r)
        return CUSTSCORE_ENOMEM;
    r->features = cs_calloc(n_features ? n_features : 1, sizeof *r->features);
    if (!r->features) {
        cs_free(r);
        return CUSTSCORE_ENOMEM;
    }
    r->n_features = n_features;
    for (size_t f = 0; f < n_features; f++) {
        char buf[32];
        snprintf(buf, sizeof buf, "feature %zu", f + 1);
        r->features[f].name = cs_strdup(names && names[f] ? names[f] : buf);
        if (!r->features[f].name) {
            custscore_kano_result_free(r);
            return CUSTSCORE_ENOMEM;
        }
    }
    for (size_t row = 0; row < n_rows; row++)
        for (size_t f = 0; f < n_features; f++) {
            double a = functional[row * n_features + f], b = dysfunctional[row * n_features + f];
            if (isnan(a) || isnan(b))
                continue;
            int cat = a == floor(a) && b == floor(b) && fabs(a) < 10 && fabs(b) < 10
                          ? custscore_kano_classify((int)a, (int)b)
                          : -1;
            if (cat < 0) {
                int rc = cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL,
                                   "kano: row %zu, feature %s: answers %g/%g are not integers "
                                   "1..5 (1 like, 2 expect, 3 neutral, 4 live with, 5 dislike)",
                                   row + 1, r->features[f].name, a, b);
                custscore_kano_result_free(r);
                return rc;
            }
            r->features[f].count[cat]++;
            r->features[f].n++;
        }
    /* Ties between the most frequent categories: M > O > A > I (Berger et
     * al. 1993: the category with the strongest effect on satisfaction
     * decides), then R, Q. */
    static const int priority[CUSTSCORE_KANO_CATEGORIES] = {
        CUSTSCORE_KANO_MUST_BE,     CUSTSCORE_KANO_ONE_DIMENSIONAL, CUSTSCORE_KANO_ATTRACTIVE,
        CUSTSCORE_KANO_INDIFFERENT, CUSTSCORE_KANO_REVERSE,         CUSTSCORE_KANO_QUESTIONABLE};
    for (size_t f = 0; f < n_features; f++) {
        custscore_kano_feature *ft = &r->features[f];
        ft->category = -1;
        size_t best = 0;
        for (int i = 0; i < CUSTSCORE_KANO_CATEGORIES; i++) {
            int c = priority[i];
            if (ft->count[c] > best) {
                best = ft->count[c];
                ft->category = c;
            }
        }
        double a = (double)ft->count[CUSTSCORE_KANO_ATTRACTIVE];
        double o = (double)ft->count[CUSTSCORE_KANO_ONE_DIMENSIONAL];
        double m = (double)ft->count[CUSTSCORE_KANO_MUST_BE];
        double i = (double)ft->count[CUSTSCORE_KANO_INDIFFERENT];
        double den = a + o + m + i;
        ft->better = den > 0 ? (a + o) / den : NAN;
        ft->worse = den > 0 ? -(o + m) / den : NAN;
    }
    *out = r;
    return CUSTSCORE_OK;
}

int custscore_kano_compute(custscore *db, const char *mapping, custscore_kano_result **out)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!out || !mapping)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_kano_compute: NULL argument");
    *out = NULL;
    char err[512];
    cs_pair_map pm;
    int rc = cs_pair_map_parse(mapping, true, &pm, err, sizeof err);
    if (rc)
        return cs_error(db, rc, "kano: %s", err);
    double *fa = NULL, *da = NULL;
    size_t n_rows = 0;
    rc = cs_pair_matrix(db, &pm, &fa, &da, &n_rows);
    if (rc == 0) {
        rc = custscore_kano(fa, da, n_rows, pm.n, (const char *const *)pm.group, out, err,
                            sizeof err);
        if (rc)
            cs_error(db, rc, "kano: %s", err);
    }
    cs_free(fa);
    cs_free(da);
    cs_pair_map_free(&pm);
    return rc;
}
