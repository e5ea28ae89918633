/*
 * csi_model.c: survey models for the satisfaction index: building one
 * through the API, the built-in templates (ACSI, ECSI, CCSI, SCSB, five
 * dimensions), and storing a model with the data (model table, name
 * "survey:NAME", the text as params). The text format and the item mapping
 * are in csi_text.c.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CS_SURVEY_MAX_NAME 255
#define CS_STR_(x) #x
#define CS_STR(x) CS_STR_(x)

/* ---------------------------------------------------------------------- */
/* Names */

int cs_survey_check_name(const char *name)
{
    if (!name)
        return CUSTSCORE_EINVAL;
    size_t len = strlen(name);
    if (len == 0 || len > CS_SURVEY_MAX_NAME || !cs_utf8_valid(name, len))
        return CUSTSCORE_EINVAL;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] < 0x20)
            return CUSTSCORE_EINVAL;
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */
/* Building */

int custscore_survey_model_new(const char *name, custscore_survey_model **out)
{
    if (!out)
        return CUSTSCORE_EINVAL;
    *out = NULL;
    if (cs_survey_check_name(name))
        return CUSTSCORE_EINVAL;
    custscore_survey_model *m = cs_calloc(1, sizeof *m);
    if (!m)
        return CUSTSCORE_ENOMEM;
    m->name = cs_strdup(name);
    if (!m->name) {
        cs_free(m);
        return CUSTSCORE_ENOMEM;
    }
    m->default_min = 1;
    m->default_max = 10;
    m->target = -1;
    *out = m;
    return CUSTSCORE_OK;
}

void custscore_survey_model_free(custscore_survey_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_constructs; i++)
        cs_free(m->constructs[i].name);
    for (size_t i = 0; i < m->n_items; i++)
        cs_free(m->items[i].name);
    cs_free(m->constructs);
    cs_free(m->items);
    cs_strmap_free(&m->construct_index);
    cs_strmap_free(&m->item_index);
    cs_free(m->path_from);
    cs_free(m->path_to);
    cs_free(m->nps_item);
    cs_free(m->name);
    cs_free(m);
}

const char *custscore_survey_model_name(const custscore_survey_model *m)
{
    return m ? m->name : NULL;
}

int cs_survey_find_construct(const custscore_survey_model *m, const char *name)
{
    ptrdiff_t c = cs_strmap_find(&m->construct_index, name, strlen(name));
    return c >= 0 && (size_t)c < m->n_constructs && strcmp(m->constructs[c].name, name) == 0
               ? (int)c
               : -1;
}

int cs_survey_find_item(const custscore_survey_model *m, const char *name)
{
    /* A linear search made parsing N items O(N^2): 40,000 items took 4.2 s
     * (docs/reliability.md, open finding 4). */
    ptrdiff_t i = cs_strmap_find(&m->item_index, name, strlen(name));
    return i >= 0 && (size_t)i < m->n_items && strcmp(m->items[i].name, name) == 0 ? (int)i : -1;
}

int cs_survey_reindex_items(custscore_survey_model *m)
{
    cs_strmap_free(&m->item_index);
    for (size_t i = 0; i < m->n_items; i++) {
        bool inserted;
        if (cs_strmap_put(&m->item_index, m->items[i].name, strlen(m->items[i].name), &inserted) <
            0) {
            cs_strmap_free(&m->item_index);
            return CUSTSCORE_ENOMEM;
        }
    }
    return CUSTSCORE_OK;
}

/* Grow an array to hold one more element. */
static int cs_grow(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return CUSTSCORE_OK;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *q = cs_reallocarray(*p, ncap, size);
    if (!q)
        return CUSTSCORE_ENOMEM;
    *p = q;
    *cap = ncap;
    return CUSTSCORE_OK;
}

int custscore_survey_model_add_construct(custscore_survey_model *m, const char *name,
                                         custscore_pls_mode mode)
{
    if (!m || cs_survey_check_name(name))
        return CUSTSCORE_EINVAL;
    if (mode != CUSTSCORE_PLS_MODE_A && mode != CUSTSCORE_PLS_MODE_B)
        return CUSTSCORE_EINVAL;
    if (cs_survey_find_construct(m, name) >= 0)
        return CUSTSCORE_EINVAL;
    if (m->n_constructs >= CUSTSCORE_MAX_SURVEY_CONSTRUCTS)
        return CUSTSCORE_ERANGE;
    if (cs_grow((void **)&m->constructs, &m->cap_constructs, m->n_constructs,
                sizeof *m->constructs))
        return CUSTSCORE_ENOMEM;
    char *copy = cs_strdup(name);
    if (!copy)
        return CUSTSCORE_ENOMEM;
    /* Entry n_constructs of the index is the new construct (constructs are
     * never removed). */
    bool inserted;
    if (cs_strmap_put(&m->construct_index, copy, strlen(copy), &inserted) < 0) {
        cs_free(copy);
        return CUSTSCORE_ENOMEM;
    }
    m->constructs[m->n_constructs].name = copy;
    m->constructs[m->n_constructs].mode = mode;
    m->n_constructs++;
    return CUSTSCORE_OK;
}

int cs_survey_add_item(custscore_survey_model *m, int construct, const char *item, double lo,
                       double hi, bool reversed, double weight)
{
    if (cs_survey_check_name(item))
        return CUSTSCORE_EINVAL;
    if (!isfinite(lo) || !isfinite(hi) || !(lo < hi) || !isfinite(weight) || weight < 0)
        return CUSTSCORE_EINVAL;
    if (cs_survey_find_item(m, item) >= 0)
        return CUSTSCORE_EINVAL;
    if (m->n_items >= CUSTSCORE_MAX_SURVEY_ITEMS)
        return CUSTSCORE_ERANGE;
    if (m->item_index.count != m->n_items && cs_survey_reindex_items(m))
        return CUSTSCORE_ENOMEM; /* an earlier rebuild ran out of memory */
    if (cs_grow((void **)&m->items, &m->cap_items, m->n_items, sizeof *m->items))
        return CUSTSCORE_ENOMEM;
    char *copy = cs_strdup(item);
    if (!copy)
        return CUSTSCORE_ENOMEM;
    /* Entry n_items of the index is the new item. */
    bool inserted;
    if (cs_strmap_put(&m->item_index, copy, strlen(copy), &inserted) < 0) {
        cs_free(copy);
        return CUSTSCORE_ENOMEM;
    }
    cs_survey_item *it = &m->items[m->n_items++];
    it->name = copy;
    it->construct = construct;
    it->min = lo;
    it->max = hi;
    it->reversed = reversed;
    it->weight = weight;
    return CUSTSCORE_OK;
}

int custscore_survey_model_add_item(custscore_survey_model *m, const char *construct,
                                    const char *item, double scale_min, double scale_max,
                                    int reversed)
{
    if (!m || !construct)
        return CUSTSCORE_EINVAL;
    int c = cs_survey_find_construct(m, construct);
    if (c < 0)
        return CUSTSCORE_ENOTFOUND;
    return cs_survey_add_item(m, c, item, scale_min, scale_max, reversed != 0, 1.0);
}

static bool cs_path_exists(const custscore_survey_model *m, int from, int to)
{
    for (size_t i = 0; i < m->n_paths; i++)
        if (m->path_from[i] == from && m->path_to[i] == to)
            return true;
    return false;
}

/* 1 when @goal can be reached from @start through the existing paths, 0
 * when not, -1 when out of memory. Depth-first over adjacency lists built
 * for the check: O(constructs + paths). (A recursive scan of every path at
 * every construct took 7.5 s for a model of 4,096 constructs whose chain of
 * paths was written from its end.) */
static int cs_reaches(const custscore_survey_model *m, int start, int goal)
{
    if (start == goal)
        return 1;
    size_t k = m->n_constructs, p = m->n_paths;
    size_t *off = cs_calloc(k + 1, sizeof *off); /* paths of c: adj[off[c] .. off[c + 1]) */
    int *adj = cs_mallocarray(p ? p : 1, sizeof *adj);
    int *stack = cs_mallocarray(k ? k : 1, sizeof *stack);
    unsigned char *seen = cs_calloc(k ? k : 1, 1);
    int found = -1;
    if (off && adj && stack && seen) {
        for (size_t i = 0; i < p; i++)
            off[m->path_from[i]]++;
        size_t sum = 0;
        for (size_t c = 0; c < k; c++) {
            sum += off[c];
            off[c] = sum; /* end of c's block; counted down to its start below */
        }
        off[k] = p;
        for (size_t i = 0; i < p; i++)
            adj[--off[m->path_from[i]]] = m->path_to[i];
        size_t depth = 0;
        stack[depth++] = start;
        seen[start] = 1;
        found = 0;
        while (depth > 0 && !found) {
            int c = stack[--depth];
            for (size_t j = off[c]; j < off[c + 1]; j++) {
                int to = adj[j];
                if (to == goal) {
                    found = 1;
                    break;
                }
                if (!seen[to]) {
                    seen[to] = 1;
                    stack[depth++] = to;
                }
            }
        }
    }
    cs_free(off);
    cs_free(adj);
    cs_free(stack);
    cs_free(seen);
    return found;
}

/* 0, or a static reason why from -> to cannot be added. */
const char *cs_survey_path_problem(custscore_survey_model *m, int from, int to, int *code)
{
    *code = CUSTSCORE_EINVAL;
    if (from == to)
        return "a path from a construct to itself";
    if (m->n_paths >= CUSTSCORE_MAX_SURVEY_PATHS) {
        *code = CUSTSCORE_ERANGE;
        return "too many paths (a survey model has at most " CS_STR(
            CUSTSCORE_MAX_SURVEY_PATHS) ", CUSTSCORE_MAX_SURVEY_PATHS)";
    }
    if (cs_path_exists(m, from, to))
        return "duplicate path";
    int cycle = cs_reaches(m, to, from);
    if (cycle < 0) {
        *code = CUSTSCORE_ENOMEM;
        return "out of memory";
    }
    if (cycle)
        return "the path closes a cycle (PLS path models are recursive)";
    *code = CUSTSCORE_OK;
    return NULL;
}

int cs_survey_add_path(custscore_survey_model *m, int from, int to)
{
    if (m->n_paths == m->cap_paths) {
        size_t cap = m->cap_paths ? m->cap_paths * 2 : 16;
        int *f = cs_reallocarray(m->path_from, cap, sizeof(int));
        if (!f)
            return CUSTSCORE_ENOMEM;
        m->path_from = f;
        int *t = cs_reallocarray(m->path_to, cap, sizeof(int));
        if (!t)
            return CUSTSCORE_ENOMEM;
        m->path_to = t;
        m->cap_paths = cap;
    }
    m->path_from[m->n_paths] = from;
    m->path_to[m->n_paths] = to;
    m->n_paths++;
    return CUSTSCORE_OK;
}

int custscore_survey_model_add_path(custscore_survey_model *m, const char *from, const char *to)
{
    if (!m || !from || !to)
        return CUSTSCORE_EINVAL;
    int a = cs_survey_find_construct(m, from), b = cs_survey_find_construct(m, to);
    if (a < 0 || b < 0)
        return CUSTSCORE_ENOTFOUND;
    int code;
    if (cs_survey_path_problem(m, a, b, &code))
        return code;
    return cs_survey_add_path(m, a, b);
}

int custscore_survey_model_set_target(custscore_survey_model *m, const char *construct)
{
    if (!m || !construct)
        return CUSTSCORE_EINVAL;
    int c = cs_survey_find_construct(m, construct);
    if (c < 0)
        return CUSTSCORE_ENOTFOUND;
    m->target = c;
    return CUSTSCORE_OK;
}

int custscore_survey_model_set_scale(custscore_survey_model *m, const char *item, double lo,
                                     double hi)
{
    if (!m || !isfinite(lo) || !isfinite(hi) || !(lo < hi))
        return CUSTSCORE_EINVAL;
    if (!item) {
        m->default_min = lo;
        m->default_max = hi;
        for (size_t i = 0; i < m->n_items; i++) {
            m->items[i].min = lo;
            m->items[i].max = hi;
        }
        return CUSTSCORE_OK;
    }
    int i = cs_survey_find_item(m, item);
    if (i < 0)
        return CUSTSCORE_ENOTFOUND;
    m->items[i].min = lo;
    m->items[i].max = hi;
    return CUSTSCORE_OK;
}

int custscore_survey_model_set_nps_item(custscore_survey_model *m, const char *item)
{
    if (!m)
        return CUSTSCORE_EINVAL;
    char *copy = NULL;
    if (item) {
        if (cs_survey_check_name(item))
            return CUSTSCORE_EINVAL;
        copy = cs_strdup(item);
        if (!copy)
            return CUSTSCORE_ENOMEM;
    }
    cs_free(m->nps_item);
    m->nps_item = copy;
    return CUSTSCORE_OK;
}

int cs_survey_check(const custscore_survey_model *m, char *errbuf, size_t size)
{
    if (m->n_constructs < 2)
        return cs_errbuf(errbuf, size, CUSTSCORE_EINVAL,
                         "model %s: %zu construct(s); a path model needs at least 2", m->name,
                         m->n_constructs);
    /* One pass over the items and one over the paths (not one per construct). */
    unsigned char *has = cs_calloc(m->n_constructs, 1); /* bit 1: an item, bit 2: a path */
    if (!has)
        return cs_errbuf(errbuf, size, CUSTSCORE_ENOMEM, "model %s: out of memory", m->name);
    for (size_t i = 0; i < m->n_items; i++)
        has[m->items[i].construct] |= 1;
    for (size_t i = 0; i < m->n_paths; i++) {
        has[m->path_from[i]] |= 2;
        has[m->path_to[i]] |= 2;
    }
    size_t c = 0;
    while (c < m->n_constructs && has[c] == 3)
        c++;
    int what = c < m->n_constructs ? has[c] : 3;
    cs_free(has);
    if (!(what & 1))
        return cs_errbuf(errbuf, size, CUSTSCORE_EINVAL,
                         "model %s: construct %s has no items (map some with --items %s=COL)",
                         m->name, m->constructs[c].name, m->constructs[c].name);
    if (!(what & 2))
        return cs_errbuf(errbuf, size, CUSTSCORE_EINVAL,
                         "model %s: construct %s has no path to or from another construct", m->name,
                         m->constructs[c].name);
    if (m->target < 0)
        return cs_errbuf(errbuf, size, CUSTSCORE_EINVAL,
                         "model %s: no target construct (add a 'target NAME' line)", m->name);
    return CUSTSCORE_OK;
}

int cs_survey_copy(const custscore_survey_model *m, custscore_survey_model **out)
{
    custscore_survey_model *c = NULL;
    int rc = custscore_survey_model_new(m->name, &c);
    for (size_t i = 0; i < m->n_constructs && rc == 0; i++)
        rc = custscore_survey_model_add_construct(c, m->constructs[i].name,
                                                  (custscore_pls_mode)m->constructs[i].mode);
    for (size_t i = 0; i < m->n_items && rc == 0; i++) {
        const cs_survey_item *it = &m->items[i];
        rc = cs_survey_add_item(c, it->construct, it->name, it->min, it->max, it->reversed,
                                it->weight);
    }
    for (size_t i = 0; i < m->n_paths && rc == 0; i++)
        rc = cs_survey_add_path(c, m->path_from[i], m->path_to[i]);
    if (rc == 0 && m->nps_item)
        rc = custscore_survey_model_set_nps_item(c, m->nps_item);
    if (rc) {
        custscore_survey_model_free(c);
        return rc;
    }
    c->target = m->target;
    c->default_min = m->default_min;
    c->default_max = m->default_max;
    *out = c;
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */
/* Templates. Sources and item wording: docs/models.md ("Satisfaction index"). */

typedef struct cs_template_construct {
    const char *name;
    const char *prefix; /* item names prefix + 1..n (n == 1: the prefix alone) */
    int n_items;
} cs_template_construct;

typedef struct cs_template {
    const char *key;
    const char *name;
    double scale_min, scale_max;
    const char *target;
    size_t n_constructs;
    cs_template_construct constructs[8];
    size_t n_paths;
    const char *paths[16][2];
} cs_template;

static const cs_template cs_templates[] = {
    /* ACSI: Fornell, Johnson, Anderson, Cha & Bryant (1996), J. Marketing 60(4). */
    {"acsi",
     "acsi",
     1,
     10,
     "Satisfaction",
     6,
     {{"Expectation", "CUEX", 3},
      {"Quality", "PERQ", 3},
      {"Value", "PERV", 2},
      {"Satisfaction", "CUSA", 3},
      {"Complaints", "CUSCO", 1},
      {"Loyalty", "CUSL", 2}},
     9,
     {{"Expectation", "Quality"},
      {"Expectation", "Value"},
      {"Expectation", "Satisfaction"},
      {"Quality", "Value"},
      {"Quality", "Satisfaction"},
      {"Value", "Satisfaction"},
      {"Satisfaction", "Complaints"},
      {"Satisfaction", "Loyalty"},
      {"Complaints", "Loyalty"}}},
    /* ECSI: ECSI Technical Committee (1998); Tenenhaus et al. (2005), the mobi data. */
    {"ecsi",
     "ecsi",
     1,
     10,
     "Satisfaction",
     7,
     {{"Image", "IMAG", 5},
      {"Expectation", "CUEX", 3},
      {"Quality", "PERQ", 7},
      {"Value", "PERV", 2},
      {"Satisfaction", "CUSA", 3},
      {"Complaints", "CUSCO", 1},
      {"Loyalty", "CUSL", 3}},
     12,
     {{"Image", "Expectation"},
      {"Image", "Satisfaction"},
      {"Image", "Loyalty"},
      {"Expectation", "Quality"},
      {"Expectation", "Value"},
      {"Expectation", "Satisfaction"},
      {"Quality", "Value"},
      {"Quality", "Satisfaction"},
      {"Value", "Satisfaction"},
      {"Satisfaction", "Complaints"},
      {"Satisfaction", "Loyalty"},
      {"Complaints", "Loyalty"}}},
    /* CCSI: the China customer satisfaction index structure (brand image,
     * expected and perceived quality, value, satisfaction, loyalty; no
     * complaints construct), paths as ECSI without complaints. */
    {"ccsi",
     "ccsi",
     1,
     10,
     "Satisfaction",
     6,
     {{"BrandImage", "BRIM", 3},
      {"ExpectedQuality", "EXPQ", 3},
      {"Quality", "PERQ", 3},
      {"Value", "PERV", 2},
      {"Satisfaction", "CUSA", 3},
      {"Loyalty", "CUSL", 2}},
     10,
     {{"BrandImage", "ExpectedQuality"},
      {"BrandImage", "Satisfaction"},
      {"BrandImage", "Loyalty"},
      {"ExpectedQuality", "Quality"},
      {"ExpectedQuality", "Value"},
      {"ExpectedQuality", "Satisfaction"},
      {"Quality", "Value"},
      {"Quality", "Satisfaction"},
      {"Value", "Satisfaction"},
      {"Satisfaction", "Loyalty"}}},
    /* SCSB: Fornell (1992), J. Marketing 56(1): value (perceived performance)
     * and expectations -> satisfaction -> voice (complaints), loyalty. */
    {"scsb",
     "scsb",
     1,
     10,
     "Satisfaction",
     5,
     {{"Expectation", "CUEX", 2},
      {"Value", "PERV", 2},
      {"Satisfaction", "CUSA", 3},
      {"Complaints", "CUSCO", 1},
      {"Loyalty", "CUSL", 2}},
     6,
     {{"Expectation", "Value"},
      {"Expectation", "Satisfaction"},
      {"Value", "Satisfaction"},
      {"Satisfaction", "Complaints"},
      {"Satisfaction", "Loyalty"},
      {"Complaints", "Loyalty"}}},
    /* Five dimensions of the customer-management practice -> overall satisfaction. */
    {"five",
     "five",
     1,
     5,
     "Satisfaction",
     6,
     {{"ProductQuality", "PROD", 3},
      {"ServiceQuality", "SERV", 3},
      {"Price", "PRICE", 3},
      {"Communication", "COMM", 3},
      {"Experience", "EXPR", 3},
      {"Satisfaction", "SAT", 3}},
     5,
     {{"ProductQuality", "Satisfaction"},
      {"ServiceQuality", "Satisfaction"},
      {"Price", "Satisfaction"},
      {"Communication", "Satisfaction"},
      {"Experience", "Satisfaction"}}},
};

int custscore_survey_model_template(const char *name, custscore_survey_model **out)
{
    if (!out)
        return CUSTSCORE_EINVAL;
    *out = NULL;
    if (!name)
        return CUSTSCORE_EINVAL;
    const cs_template *t = NULL;
    for (size_t i = 0; i < sizeof cs_templates / sizeof cs_templates[0]; i++)
        if (strcasecmp(name, cs_templates[i].key) == 0)
            t = &cs_templates[i];
    if (!t)
        return CUSTSCORE_ENOTFOUND;
    custscore_survey_model *m = NULL;
    int rc = custscore_survey_model_new(t->name, &m);
    if (rc)
        return rc;
    m->default_min = t->scale_min;
    m->default_max = t->scale_max;
    char item[64];
    for (size_t c = 0; c < t->n_constructs && rc == 0; c++) {
        const cs_template_construct *tc = &t->constructs[c];
        rc = custscore_survey_model_add_construct(m, tc->name, CUSTSCORE_PLS_MODE_A);
        for (int i = 1; i <= tc->n_items && rc == 0; i++) {
            if (tc->n_items == 1)
                snprintf(item, sizeof item, "%s", tc->prefix);
            else
                snprintf(item, sizeof item, "%s%d", tc->prefix, i);
            rc = cs_survey_add_item(m, (int)c, item, t->scale_min, t->scale_max, false, 1.0);
        }
    }
    for (size_t i = 0; i < t->n_paths && rc == 0; i++)
        rc = custscore_survey_model_add_path(m, t->paths[i][0], t->paths[i][1]);
    if (rc == 0)
        rc = custscore_survey_model_set_target(m, t->target);
    if (rc) {
        custscore_survey_model_free(m);
        return rc == CUSTSCORE_ENOMEM ? rc : CUSTSCORE_EINTERNAL;
    }
    *out = m;
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */
/* Store. */

static int cs_model_row_name(const char *prefix, const char *name, char **out)
{
    size_t n = strlen(prefix) + strlen(name) + 1;
    char *s = cs_malloc(n);
    if (!s)
        return CUSTSCORE_ENOMEM;
    snprintf(s, n, "%s%s", prefix, name);
    *out = s;
    return CUSTSCORE_OK;
}

/* Latest params text of model row @row_name into *out (NULL when none). */
static int cs_latest_params(custscore *db, const char *row_name, char **out)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    int rc = cs_prepare(db,
                        "SELECT params FROM model WHERE name = ?1"
                        " ORDER BY fitted_at DESC, id DESC LIMIT 1",
                        &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, row_name, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        *out = cs_strdup(t ? (const char *)t : "");
        if (!*out)
            rc = CUSTSCORE_ENOMEM;
    } else if (s != SQLITE_DONE) {
        rc = cs_sqlite_error(db, s, "reading a stored survey model");
    }
    sqlite3_finalize(st);
    return rc;
}

int custscore_survey_model_save(custscore *db, const custscore_survey_model *m)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!m)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_survey_model_save: model is NULL");
    int rc = cs_check_writable(db);
    if (rc)
        return rc;
    char *text = NULL, *row = NULL, *old = NULL;
    rc = cs_survey_text(m, &text);
    if (rc == 0)
        rc = cs_model_row_name("survey:", m->name, &row);
    if (rc == 0)
        rc = cs_latest_params(db, row, &old);
    if (rc == 0 && (!old || strcmp(old, text) != 0)) {
        sqlite3_stmt *st = NULL;
        rc = cs_prepare(db,
                        "INSERT INTO model(name, fitted_at, as_of, unit, params, n, info)"
                        " VALUES (?1, ?2, 0, 'none', ?3, 0, '{\"family\":\"survey\"}')",
                        &st);
        if (rc == 0) {
            sqlite3_bind_text(st, 1, row, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
            sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
            int s = sqlite3_step(st);
            if (s != SQLITE_DONE)
                rc = cs_sqlite_error(db, s, "storing the survey model");
            sqlite3_finalize(st);
        }
    }
    if (rc == CUSTSCORE_ENOMEM)
        cs_error(db, rc, "storing the survey model: out of memory");
    cs_free(text);
    cs_free(row);
    cs_free(old);
    return rc;
}

int custscore_survey_model_load(custscore *db, const char *name, custscore_survey_model **out)
{
    if (!db)
        return CUSTSCORE_EINVAL;
    cs_clear_error(db);
    if (!out || !name)
        return cs_error(db, CUSTSCORE_EINVAL, "custscore_survey_model_load: NULL argument");
    *out = NULL;
    char *row = NULL, *text = NULL;
    int rc = cs_model_row_name("survey:", name, &row);
    if (rc == 0)
        rc = cs_latest_params(db, row, &text);
    if (rc == 0 && text) {
        char err[512];
        rc = custscore_survey_model_parse(text, strlen(text), row, out, err, sizeof err);
        if (rc)
            cs_error(db, rc == CUSTSCORE_EINVAL ? CUSTSCORE_ECORRUPT : rc,
                     "stored survey model %s: %s", name, err);
        if (rc == CUSTSCORE_EINVAL)
            rc = CUSTSCORE_ECORRUPT;
    } else if (rc == 0) {
        rc = custscore_survey_model_template(name, out);
        if (rc == CUSTSCORE_ENOTFOUND)
            cs_error(db, rc,
                     "survey model %s: not stored and not a template (acsi, ecsi, ccsi, scsb, "
                     "five)",
                     name);
    }
    if (rc == CUSTSCORE_ENOMEM)
        cs_error(db, rc, "loading the survey model: out of memory");
    cs_free(row);
    cs_free(text);
    return rc;
}
