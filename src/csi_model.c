/*
 * csi_model.c: survey models for the satisfaction index: building one
 * through the API, the built-in templates (ACSI, ECSI, CCSI, SCSB, five
 * dimensions), the text format (docs/survey-model-format.md) with
 * line:column errors, the user's item mapping (--items), and storing a model
 * with the data (model table, name "survey:NAME", the text as params).
 */
#include "internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CS_SURVEY_MAX_NAME 255

/* ---------------------------------------------------------------------- */
/* Names */

/* A bare word of the text format: letters, digits, '_', '.', and any byte of
 * a multi-byte UTF-8 character. Other names are written quoted. */
static bool cs_word_char(int ch)
{
    return isalnum(ch) || ch == '_' || ch == '.' || (unsigned char)ch >= 0x80;
}

static int cs_check_name(const char *name)
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

static bool cs_bare_word(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!cs_word_char((unsigned char)*s))
            return false;
    return true;
}

/* ---------------------------------------------------------------------- */
/* Building */

int custscore_survey_model_new(const char *name, custscore_survey_model **out)
{
    if (!out)
        return CUSTSCORE_EINVAL;
    *out = NULL;
    if (cs_check_name(name))
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
    for (size_t i = 0; i < m->n_constructs; i++)
        if (strcmp(m->constructs[i].name, name) == 0)
            return (int)i;
    return -1;
}

int cs_survey_find_item(const custscore_survey_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_items; i++)
        if (strcmp(m->items[i].name, name) == 0)
            return (int)i;
    return -1;
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
    if (!m || cs_check_name(name))
        return CUSTSCORE_EINVAL;
    if (mode != CUSTSCORE_PLS_MODE_A && mode != CUSTSCORE_PLS_MODE_B)
        return CUSTSCORE_EINVAL;
    if (cs_survey_find_construct(m, name) >= 0)
        return CUSTSCORE_EINVAL;
    if (m->n_constructs >= 4096)
        return CUSTSCORE_ERANGE;
    if (cs_grow((void **)&m->constructs, &m->cap_constructs, m->n_constructs,
                sizeof *m->constructs))
        return CUSTSCORE_ENOMEM;
    char *copy = cs_strdup(name);
    if (!copy)
        return CUSTSCORE_ENOMEM;
    m->constructs[m->n_constructs].name = copy;
    m->constructs[m->n_constructs].mode = mode;
    m->n_constructs++;
    return CUSTSCORE_OK;
}

static int cs_add_item(custscore_survey_model *m, int construct, const char *item, double lo,
                       double hi, bool reversed, double weight)
{
    if (cs_check_name(item))
        return CUSTSCORE_EINVAL;
    if (!isfinite(lo) || !isfinite(hi) || !(lo < hi) || !isfinite(weight) || weight < 0)
        return CUSTSCORE_EINVAL;
    if (cs_survey_find_item(m, item) >= 0)
        return CUSTSCORE_EINVAL;
    if (cs_grow((void **)&m->items, &m->cap_items, m->n_items, sizeof *m->items))
        return CUSTSCORE_ENOMEM;
    char *copy = cs_strdup(item);
    if (!copy)
        return CUSTSCORE_ENOMEM;
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
    return cs_add_item(m, c, item, scale_min, scale_max, reversed != 0, 1.0);
}

static bool cs_path_exists(const custscore_survey_model *m, int from, int to)
{
    for (size_t i = 0; i < m->n_paths; i++)
        if (m->path_from[i] == from && m->path_to[i] == to)
            return true;
    return false;
}

/* True when @goal can be reached from @start through the existing paths. */
static bool cs_reaches(const custscore_survey_model *m, int start, int goal, unsigned char *seen)
{
    if (start == goal)
        return true;
    seen[start] = 1;
    for (size_t i = 0; i < m->n_paths; i++)
        if (m->path_from[i] == start && !seen[m->path_to[i]] &&
            cs_reaches(m, m->path_to[i], goal, seen))
            return true;
    return false;
}

/* 0, or a static reason why from -> to cannot be added. */
static const char *cs_path_problem(custscore_survey_model *m, int from, int to, int *code)
{
    *code = CUSTSCORE_EINVAL;
    if (from == to)
        return "a path from a construct to itself";
    if (cs_path_exists(m, from, to))
        return "duplicate path";
    unsigned char *seen = cs_calloc(m->n_constructs, 1);
    if (!seen) {
        *code = CUSTSCORE_ENOMEM;
        return "out of memory";
    }
    bool cycle = cs_reaches(m, to, from, seen);
    cs_free(seen);
    if (cycle)
        return "the path closes a cycle (PLS path models are recursive)";
    *code = CUSTSCORE_OK;
    return NULL;
}

static int cs_add_path_index(custscore_survey_model *m, int from, int to)
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
    if (cs_path_problem(m, a, b, &code))
        return code;
    return cs_add_path_index(m, a, b);
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
        if (cs_check_name(item))
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
    for (size_t c = 0; c < m->n_constructs; c++) {
        bool has_item = false, has_path = false;
        for (size_t i = 0; i < m->n_items; i++)
            has_item |= m->items[i].construct == (int)c;
        for (size_t i = 0; i < m->n_paths; i++)
            has_path |= m->path_from[i] == (int)c || m->path_to[i] == (int)c;
        if (!has_item)
            return cs_errbuf(errbuf, size, CUSTSCORE_EINVAL,
                             "model %s: construct %s has no items (map some with --items %s=COL)",
                             m->name, m->constructs[c].name, m->constructs[c].name);
        if (!has_path)
            return cs_errbuf(errbuf, size, CUSTSCORE_EINVAL,
                             "model %s: construct %s has no path to or from another construct",
                             m->name, m->constructs[c].name);
    }
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
        rc = cs_add_item(c, it->construct, it->name, it->min, it->max, it->reversed, it->weight);
    }
    for (size_t i = 0; i < m->n_paths && rc == 0; i++)
        rc = cs_add_path_index(c, m->path_from[i], m->path_to[i]);
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
/* Templates. Sources and item wording: docs/models-csi.md. */

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

static bool cs_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return false;
    return *a == *b;
}

int custscore_survey_model_template(const char *name, custscore_survey_model **out)
{
    if (!out)
        return CUSTSCORE_EINVAL;
    *out = NULL;
    if (!name)
        return CUSTSCORE_EINVAL;
    const cs_template *t = NULL;
    for (size_t i = 0; i < sizeof cs_templates / sizeof cs_templates[0]; i++)
        if (cs_ieq(name, cs_templates[i].key))
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
            rc = cs_add_item(m, (int)c, item, t->scale_min, t->scale_max, false, 1.0);
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
/* Text format: a small lexer over one line at a time. */

typedef struct cs_lex {
    const char *src; /* whole text */
    size_t len;
    size_t pos;       /* current byte */
    size_t line_start; /* byte offset of the current line */
    size_t line_end;
    int line;
    const char *source;
    char *errbuf;
    size_t errsize;
    char word[CS_SURVEY_MAX_NAME + 1];
} cs_lex;

static int cs_lex_col(const cs_lex *lx, size_t at)
{
    /* Columns count characters, not bytes: skip UTF-8 continuation bytes. */
    int col = 1;
    for (size_t i = lx->line_start; i < at && i < lx->len; i++)
        col += ((unsigned char)lx->src[i] & 0xC0) != 0x80;
    return col;
}

static int cs_lex_error(cs_lex *lx, size_t at, const char *fmt, ...) CS_PRINTF(3, 4);
static int cs_lex_error(cs_lex *lx, size_t at, const char *fmt, ...)
{
    if (lx->errbuf && lx->errsize) {
        int n = snprintf(lx->errbuf, lx->errsize, "%s:%d:%d: ", lx->source, lx->line,
                         cs_lex_col(lx, at));
        if (n >= 0 && (size_t)n < lx->errsize) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(lx->errbuf + n, lx->errsize - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return CUSTSCORE_EINVAL;
}

static void cs_lex_skip_blank(cs_lex *lx)
{
    while (lx->pos < lx->line_end && (lx->src[lx->pos] == ' ' || lx->src[lx->pos] == '\t'))
        lx->pos++;
    if (lx->pos < lx->line_end && lx->src[lx->pos] == '#')
        lx->pos = lx->line_end;
}

static bool cs_lex_at_end(cs_lex *lx)
{
    cs_lex_skip_blank(lx);
    return lx->pos >= lx->line_end;
}

static bool cs_lex_accept(cs_lex *lx, const char *tok)
{
    cs_lex_skip_blank(lx);
    size_t n = strlen(tok);
    if (lx->pos + n <= lx->line_end && memcmp(lx->src + lx->pos, tok, n) == 0) {
        lx->pos += n;
        return true;
    }
    return false;
}

/* A name: a bare word or a "quoted string" (\" and \\ escapes). Into lx->word. */
static int cs_lex_name(cs_lex *lx, const char *what)
{
    cs_lex_skip_blank(lx);
    size_t at = lx->pos, n = 0;
    if (at >= lx->line_end)
        return cs_lex_error(lx, at, "expected %s, found the end of the line", what);
    if (lx->src[at] == '"') {
        size_t i = at + 1;
        for (;;) {
            if (i >= lx->line_end)
                return cs_lex_error(lx, at, "unterminated quoted %s", what);
            char ch = lx->src[i];
            if (ch == '"')
                break;
            if (ch == '\\' && i + 1 < lx->line_end &&
                (lx->src[i + 1] == '"' || lx->src[i + 1] == '\\'))
                ch = lx->src[++i];
            if (n >= CS_SURVEY_MAX_NAME)
                return cs_lex_error(lx, at, "%s longer than %d bytes", what, CS_SURVEY_MAX_NAME);
            lx->word[n++] = ch;
            i++;
        }
        lx->pos = i + 1;
    } else {
        size_t i = at;
        while (i < lx->line_end && cs_word_char((unsigned char)lx->src[i])) {
            if (n >= CS_SURVEY_MAX_NAME)
                return cs_lex_error(lx, at, "%s longer than %d bytes", what, CS_SURVEY_MAX_NAME);
            lx->word[n++] = lx->src[i++];
        }
        if (n == 0)
            return cs_lex_error(lx, at, "expected %s, found '%c'", what, lx->src[at]);
        lx->pos = i;
    }
    lx->word[n] = '\0';
    if (n == 0 || cs_check_name(lx->word))
        return cs_lex_error(lx, at, "%s is empty, not UTF-8 or has control characters", what);
    return CUSTSCORE_OK;
}

/* A decimal number. */
static int cs_lex_number(cs_lex *lx, double *out, const char *what)
{
    cs_lex_skip_blank(lx);
    size_t at = lx->pos, i = at;
    char buf[64];
    size_t n = 0;
    if (i < lx->line_end && (lx->src[i] == '-' || lx->src[i] == '+'))
        buf[n++] = lx->src[i++];
    bool digits = false;
    while (i < lx->line_end && n < sizeof buf - 1) {
        char ch = lx->src[i];
        if (isdigit((unsigned char)ch)) {
            digits = true;
        } else if (ch == '.') {
            /* ".." ends the number (a range). */
            if (i + 1 < lx->line_end && lx->src[i + 1] == '.')
                break;
        } else if ((ch == 'e' || ch == 'E') && digits) {
            buf[n++] = ch;
            i++;
            if (i < lx->line_end && (lx->src[i] == '-' || lx->src[i] == '+'))
                buf[n++] = lx->src[i++];
            continue;
        } else {
            break;
        }
        buf[n++] = ch;
        i++;
    }
    buf[n] = '\0';
    char *end = NULL;
    double v = digits ? strtod(buf, &end) : NAN;
    if (!digits || !end || *end != '\0' || !isfinite(v))
        return cs_lex_error(lx, at, "expected %s (a number)", what);
    lx->pos = i;
    *out = v;
    return CUSTSCORE_OK;
}

/* MIN..MAX */
static int cs_lex_scale(cs_lex *lx, double *lo, double *hi)
{
    size_t at = lx->pos;
    int rc = cs_lex_number(lx, lo, "the scale minimum");
    if (rc)
        return rc;
    if (!cs_lex_accept(lx, ".."))
        return cs_lex_error(lx, lx->pos, "expected '..' between the scale's minimum and maximum");
    rc = cs_lex_number(lx, hi, "the scale maximum");
    if (rc)
        return rc;
    if (!(*lo < *hi))
        return cs_lex_error(lx, at, "scale %g..%g: the minimum must be below the maximum", *lo,
                            *hi);
    return CUSTSCORE_OK;
}

/* A keyword (case-insensitive bare word) without consuming on mismatch. */
static bool cs_lex_keyword(cs_lex *lx, const char *kw)
{
    cs_lex_skip_blank(lx);
    size_t n = strlen(kw);
    if (lx->pos + n > lx->line_end)
        return false;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)lx->src[lx->pos + i]) != kw[i])
            return false;
    if (lx->pos + n < lx->line_end && cs_word_char((unsigned char)lx->src[lx->pos + n]))
        return false;
    lx->pos += n;
    return true;
}

/* ITEM [ "(" MODIFIER {"," MODIFIER} ")" ], added to construct @c. */
static int cs_parse_item(cs_lex *lx, custscore_survey_model *m, int c)
{
    cs_lex_skip_blank(lx);
    size_t at = lx->pos;
    int rc = cs_lex_name(lx, "an item name");
    if (rc)
        return rc;
    char name[CS_SURVEY_MAX_NAME + 1];
    memcpy(name, lx->word, sizeof name);
    double lo = m->default_min, hi = m->default_max, weight = 1.0;
    bool reversed = false;
    if (cs_lex_accept(lx, "(")) {
        for (;;) {
            cs_lex_skip_blank(lx);
            size_t mat = lx->pos;
            if (cs_lex_keyword(lx, "reversed") || cs_lex_keyword(lx, "reverse")) {
                reversed = true;
            } else if (cs_lex_keyword(lx, "weight")) {
                if (!cs_lex_accept(lx, "="))
                    return cs_lex_error(lx, lx->pos, "expected '=' after 'weight'");
                rc = cs_lex_number(lx, &weight, "the weight");
                if (rc)
                    return rc;
                if (weight < 0)
                    return cs_lex_error(lx, mat, "weight %g: weights must not be negative",
                                        weight);
            } else if (mat < lx->line_end &&
                       (isdigit((unsigned char)lx->src[mat]) || lx->src[mat] == '-' ||
                        lx->src[mat] == '+' || lx->src[mat] == '.')) {
                rc = cs_lex_scale(lx, &lo, &hi);
                if (rc)
                    return rc;
            } else {
                return cs_lex_error(lx, mat,
                                    "unknown item modifier: expected MIN..MAX, 'reverse' or "
                                    "'weight=W'");
            }
            if (cs_lex_accept(lx, ")"))
                break;
            if (!cs_lex_accept(lx, ","))
                return cs_lex_error(lx, lx->pos, "expected ',' or ')' in the item modifiers");
        }
    }
    int other = cs_survey_find_item(m, name);
    if (other >= 0)
        return cs_lex_error(lx, at, "item %s already belongs to construct %s", name,
                            m->constructs[m->items[other].construct].name);
    rc = cs_add_item(m, c, name, lo, hi, reversed, weight);
    if (rc == CUSTSCORE_ENOMEM)
        return rc;
    if (rc)
        return cs_lex_error(lx, at, "item %s: invalid", name);
    return CUSTSCORE_OK;
}

static int cs_parse_construct(cs_lex *lx, custscore_survey_model *m)
{
    cs_lex_skip_blank(lx);
    size_t at = lx->pos;
    int rc = cs_lex_name(lx, "a construct name");
    if (rc)
        return rc;
    char name[CS_SURVEY_MAX_NAME + 1];
    memcpy(name, lx->word, sizeof name);
    int mode = -1;
    for (;;) {
        cs_lex_skip_blank(lx);
        size_t mat = lx->pos;
        if (cs_lex_keyword(lx, "mode")) {
            cs_lex_skip_blank(lx);
            size_t vat = lx->pos;
            if (cs_lex_keyword(lx, "a"))
                mode = CUSTSCORE_PLS_MODE_A;
            else if (cs_lex_keyword(lx, "b"))
                mode = CUSTSCORE_PLS_MODE_B;
            else
                return cs_lex_error(lx, vat, "expected mode A or B");
        } else if (cs_lex_keyword(lx, "reflective")) {
            mode = CUSTSCORE_PLS_MODE_A;
        } else if (cs_lex_keyword(lx, "formative")) {
            mode = CUSTSCORE_PLS_MODE_B;
        } else if (cs_lex_accept(lx, ":") || cs_lex_at_end(lx)) {
            break;
        } else {
            return cs_lex_error(lx, mat, "expected 'mode A', 'mode B' or ':' and the items");
        }
    }
    int c = cs_survey_find_construct(m, name);
    if (c < 0) {
        rc = custscore_survey_model_add_construct(
            m, name, mode < 0 ? CUSTSCORE_PLS_MODE_A : (custscore_pls_mode)mode);
        if (rc == CUSTSCORE_ENOMEM)
            return rc;
        if (rc)
            return cs_lex_error(lx, at, "construct %s: invalid or too many constructs", name);
        c = (int)m->n_constructs - 1;
    } else if (mode >= 0 && mode != m->constructs[c].mode) {
        return cs_lex_error(lx, at, "construct %s was declared with mode %c before", name,
                            m->constructs[c].mode == CUSTSCORE_PLS_MODE_B ? 'B' : 'A');
    }
    while (!cs_lex_at_end(lx)) {
        rc = cs_parse_item(lx, m, c);
        if (rc)
            return rc;
        cs_lex_accept(lx, ",");
    }
    return CUSTSCORE_OK;
}

static int cs_lex_construct_ref(cs_lex *lx, const custscore_survey_model *m, int *c)
{
    cs_lex_skip_blank(lx);
    size_t at = lx->pos;
    int rc = cs_lex_name(lx, "a construct name");
    if (rc)
        return rc;
    *c = cs_survey_find_construct(m, lx->word);
    if (*c < 0)
        return cs_lex_error(lx, at, "unknown construct %s (declare it with 'construct' first)",
                            lx->word);
    return CUSTSCORE_OK;
}

static int cs_parse_path(cs_lex *lx, custscore_survey_model *m)
{
    int from;
    int rc = cs_lex_construct_ref(lx, m, &from);
    if (rc)
        return rc;
    if (!cs_lex_accept(lx, "->"))
        return cs_lex_error(lx, lx->pos, "expected '->' after the construct");
    bool any = false;
    while (!cs_lex_at_end(lx)) {
        cs_lex_skip_blank(lx);
        size_t at = lx->pos;
        int to;
        rc = cs_lex_construct_ref(lx, m, &to);
        if (rc)
            return rc;
        int code;
        const char *why = cs_path_problem(m, from, to, &code);
        if (why)
            return code == CUSTSCORE_ENOMEM ? code
                                            : cs_lex_error(lx, at, "%s -> %s: %s",
                                                           m->constructs[from].name,
                                                           m->constructs[to].name, why);
        rc = cs_add_path_index(m, from, to);
        if (rc)
            return rc;
        any = true;
        cs_lex_accept(lx, ",");
    }
    if (!any)
        return cs_lex_error(lx, lx->pos, "expected at least one construct after '->'");
    return CUSTSCORE_OK;
}

static int cs_parse_line(cs_lex *lx, custscore_survey_model *m, bool *named)
{
    cs_lex_skip_blank(lx);
    if (lx->pos >= lx->line_end)
        return CUSTSCORE_OK;
    size_t at = lx->pos;
    int rc;
    if (cs_lex_keyword(lx, "model")) {
        if (*named)
            return cs_lex_error(lx, at, "a second 'model' line");
        rc = cs_lex_name(lx, "the model name");
        if (rc)
            return rc;
        char *copy = cs_strdup(lx->word);
        if (!copy)
            return CUSTSCORE_ENOMEM;
        cs_free(m->name);
        m->name = copy;
        *named = true;
    } else if (cs_lex_keyword(lx, "scale")) {
        rc = cs_lex_scale(lx, &m->default_min, &m->default_max);
        if (rc)
            return rc;
    } else if (cs_lex_keyword(lx, "construct")) {
        return cs_parse_construct(lx, m);
    } else if (cs_lex_keyword(lx, "path")) {
        return cs_parse_path(lx, m);
    } else if (cs_lex_keyword(lx, "target")) {
        int c;
        rc = cs_lex_construct_ref(lx, m, &c);
        if (rc)
            return rc;
        m->target = c;
    } else if (cs_lex_keyword(lx, "nps")) {
        rc = cs_lex_name(lx, "the NPS item");
        if (rc)
            return rc;
        rc = custscore_survey_model_set_nps_item(m, lx->word);
        if (rc)
            return rc;
    } else {
        return cs_lex_error(lx, at,
                            "unknown statement: expected model, scale, construct, path, target "
                            "or nps");
    }
    if (!cs_lex_at_end(lx))
        return cs_lex_error(lx, lx->pos, "unexpected text at the end of the line");
    return CUSTSCORE_OK;
}

int custscore_survey_model_parse(const char *text, size_t size, const char *source_name,
                                 custscore_survey_model **out, char *errbuf, size_t errbuf_size)
{
    if (errbuf && errbuf_size)
        errbuf[0] = '\0';
    if (!out)
        return CUSTSCORE_EINVAL;
    *out = NULL;
    if (!text && size > 0)
        return cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL, "model text is NULL");
    cs_lex lx;
    memset(&lx, 0, sizeof lx);
    lx.src = text ? text : "";
    lx.len = size;
    lx.source = source_name ? source_name : "<model>";
    lx.errbuf = errbuf;
    lx.errsize = errbuf_size;
    if (!cs_utf8_valid(lx.src, size))
        return cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL, "%s: the text is not UTF-8",
                         lx.source);
    custscore_survey_model *m = NULL;
    int rc = custscore_survey_model_new("model", &m);
    if (rc)
        return rc;
    bool named = false;
    size_t pos = 0;
    /* Skip a UTF-8 byte-order mark. */
    if (size >= 3 && memcmp(lx.src, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    while (pos < size && rc == 0) {
        size_t end = pos;
        while (end < size && lx.src[end] != '\n')
            end++;
        lx.line++;
        lx.line_start = pos;
        lx.line_end = end > pos && lx.src[end - 1] == '\r' ? end - 1 : end;
        lx.pos = pos;
        for (size_t i = pos; i < lx.line_end && rc == 0; i++)
            if (lx.src[i] == '\0' || ((unsigned char)lx.src[i] < 0x20 && lx.src[i] != '\t'))
                rc = cs_lex_error(&lx, i, "control character in the text");
        if (rc == 0)
            rc = cs_parse_line(&lx, m, &named);
        pos = end + 1;
    }
    if (rc == 0) {
        /* A model without a target line takes a construct named like
         * satisfaction, when there is exactly one such name. */
        if (m->target < 0) {
            static const char *const guesses[] = {"Satisfaction", "SAT", "CUSA", "CSI"};
            for (size_t g = 0; g < 4 && m->target < 0; g++)
                for (size_t c = 0; c < m->n_constructs; c++)
                    if (cs_ieq(m->constructs[c].name, guesses[g]))
                        m->target = (int)c;
        }
        char why[512];
        if (cs_survey_check(m, why, sizeof why) != 0) {
            lx.line = lx.line ? lx.line : 1;
            rc = cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL, "%s:%d:1: incomplete model: %s",
                           lx.source, lx.line, why);
        }
    }
    if (rc) {
        if (rc == CUSTSCORE_ENOMEM)
            cs_errbuf(errbuf, errbuf_size, rc, "out of memory");
        custscore_survey_model_free(m);
        return rc;
    }
    *out = m;
    return CUSTSCORE_OK;
}

/* ---------------------------------------------------------------------- */
/* Writing the text format. */

typedef struct cs_strbuf {
    char *p;
    size_t len, cap;
    bool failed;
} cs_strbuf;

static void cs_sb_add(cs_strbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *q = cs_reallocarray(b->p, cap, 1);
        if (!q) {
            b->failed = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void cs_sb_str(cs_strbuf *b, const char *s)
{
    cs_sb_add(b, s, strlen(s));
}

static void cs_sb_name(cs_strbuf *b, const char *s)
{
    if (cs_bare_word(s)) {
        cs_sb_str(b, s);
        return;
    }
    cs_sb_add(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            cs_sb_add(b, "\\", 1);
        cs_sb_add(b, s, 1);
    }
    cs_sb_add(b, "\"", 1);
}

/* Shortest of %.15g / %.17g that reads back exactly. */
static void cs_sb_num(cs_strbuf *b, double v)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, sizeof buf, "%.17g", v);
    cs_sb_str(b, buf);
}

static void cs_sb_scale(cs_strbuf *b, double lo, double hi)
{
    cs_sb_num(b, lo);
    cs_sb_str(b, "..");
    cs_sb_num(b, hi);
}

int cs_survey_text(const custscore_survey_model *m, char **out)
{
    cs_strbuf b = {0};
    cs_sb_str(&b, "# custscore survey model (docs/survey-model-format.md)\nmodel ");
    cs_sb_name(&b, m->name);
    cs_sb_str(&b, "\nscale ");
    cs_sb_scale(&b, m->default_min, m->default_max);
    cs_sb_str(&b, "\n");
    for (size_t c = 0; c < m->n_constructs; c++) {
        cs_sb_str(&b, "construct ");
        cs_sb_name(&b, m->constructs[c].name);
        cs_sb_str(&b, m->constructs[c].mode == CUSTSCORE_PLS_MODE_B ? " mode B:" : " mode A:");
        for (size_t i = 0; i < m->n_items; i++) {
            const cs_survey_item *it = &m->items[i];
            if (it->construct != (int)c)
                continue;
            cs_sb_str(&b, " ");
            cs_sb_name(&b, it->name);
            bool scale = it->min != m->default_min || it->max != m->default_max;
            if (scale || it->reversed || it->weight != 1.0) {
                const char *sep = "(";
                if (scale) {
                    cs_sb_str(&b, sep);
                    cs_sb_scale(&b, it->min, it->max);
                    sep = ", ";
                }
                if (it->reversed) {
                    cs_sb_str(&b, sep);
                    cs_sb_str(&b, "reverse");
                    sep = ", ";
                }
                if (it->weight != 1.0) {
                    cs_sb_str(&b, sep);
                    cs_sb_str(&b, "weight=");
                    cs_sb_num(&b, it->weight);
                }
                cs_sb_str(&b, ")");
            }
        }
        cs_sb_str(&b, "\n");
    }
    for (size_t c = 0; c < m->n_constructs; c++) {
        bool first = true;
        for (size_t i = 0; i < m->n_paths; i++) {
            if (m->path_from[i] != (int)c)
                continue;
            if (first) {
                cs_sb_str(&b, "path ");
                cs_sb_name(&b, m->constructs[c].name);
                cs_sb_str(&b, " ->");
                first = false;
            }
            cs_sb_str(&b, " ");
            cs_sb_name(&b, m->constructs[m->path_to[i]].name);
        }
        if (!first)
            cs_sb_str(&b, "\n");
    }
    if (m->target >= 0) {
        cs_sb_str(&b, "target ");
        cs_sb_name(&b, m->constructs[m->target].name);
        cs_sb_str(&b, "\n");
    }
    if (m->nps_item) {
        cs_sb_str(&b, "nps ");
        cs_sb_name(&b, m->nps_item);
        cs_sb_str(&b, "\n");
    }
    if (b.failed) {
        cs_free(b.p);
        return CUSTSCORE_ENOMEM;
    }
    *out = b.p;
    return CUSTSCORE_OK;
}

int custscore_survey_model_format(const custscore_survey_model *m, char *buf, size_t size,
                                  size_t *needed)
{
    if (!m || (!buf && size > 0))
        return CUSTSCORE_EINVAL;
    char *text = NULL;
    int rc = cs_survey_text(m, &text);
    if (rc)
        return rc;
    size_t len = strlen(text);
    if (needed)
        *needed = len;
    if (size > 0) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(buf, text, n);
        buf[n] = '\0';
    }
    cs_free(text);
    return len < size ? CUSTSCORE_OK : CUSTSCORE_ERANGE;
}

/* ---------------------------------------------------------------------- */
/* The user's mapping "CONSTRUCT=COL+COL,CONSTRUCT=COL". */

int custscore_survey_model_map_items(custscore_survey_model *m, const char *mapping,
                                     char *errbuf, size_t errbuf_size)
{
    if (errbuf && errbuf_size)
        errbuf[0] = '\0';
    if (!m || !mapping)
        return cs_errbuf(errbuf, errbuf_size, CUSTSCORE_EINVAL, "mapping: model or text is NULL");
    /* Work on a copy so that a bad mapping leaves the model unchanged. */
    custscore_survey_model *w = NULL;
    int rc = cs_survey_copy(m, &w);
    if (rc)
        return rc;
    size_t len = strlen(mapping);
    cs_lex lx;
    memset(&lx, 0, sizeof lx);
    lx.src = mapping;
    lx.len = len;
    lx.line = 1;
    lx.line_end = len;
    lx.source = "mapping";
    lx.errbuf = errbuf;
    lx.errsize = errbuf_size;
    unsigned char *mapped = cs_calloc(w->n_constructs + 1, 1);
    if (!mapped)
        rc = CUSTSCORE_ENOMEM;
    while (rc == 0 && !cs_lex_at_end(&lx)) {
        int c;
        rc = cs_lex_construct_ref(&lx, w, &c);
        if (rc)
            break;
        size_t at = lx.pos;
        if (!cs_lex_accept(&lx, "=")) {
            rc = cs_lex_error(&lx, at, "expected '=' and the columns after construct %s",
                              w->constructs[c].name);
            break;
        }
        if (mapped[c]) {
            rc = cs_lex_error(&lx, at, "construct %s is mapped twice", w->constructs[c].name);
            break;
        }
        mapped[c] = 1;
        /* Drop the construct's current items. */
        size_t keep = 0;
        for (size_t i = 0; i < w->n_items; i++) {
            if (w->items[i].construct == c)
                cs_free(w->items[i].name);
            else
                w->items[keep++] = w->items[i];
        }
        w->n_items = keep;
        for (;;) {
            rc = cs_parse_item(&lx, w, c);
            if (rc || !cs_lex_accept(&lx, "+"))
                break;
        }
        if (rc)
            break;
        if (!cs_lex_at_end(&lx) && !cs_lex_accept(&lx, ",")) {
            rc = cs_lex_error(&lx, lx.pos, "expected '+' or ',' between columns");
            break;
        }
    }
    cs_free(mapped);
    if (rc) {
        custscore_survey_model_free(w);
        return rc;
    }
    /* Swap the contents: the caller's pointer stays valid. */
    custscore_survey_model tmp = *m;
    *m = *w;
    *w = tmp;
    custscore_survey_model_free(w);
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
                        "INSERT INTO model(name, fitted_at, as_of, unit, params, n)"
                        " VALUES (?1, ?2, 0, 'none', ?3, 0)",
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
