/*
 * csi_text.c: the text format of survey models (docs/survey-model-format.md):
 * parser with line:column errors and writer; and the user's item mapping
 * "CONSTRUCT=COL+COL,..." (the CLI's --items), which uses the same item
 * syntax.
 */
#include "internal.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CS_SURVEY_MAX_NAME 255

/* A bare word of the text format: letters, digits, '_', '.', and any byte of
 * a multi-byte UTF-8 character. Other names are written quoted. */
static bool cs_word_char(int ch)
{
    return isalnum(ch) || ch == '_' || ch == '.' || (unsigned char)ch >= 0x80;
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
/* Text format: a small lexer over one line at a time. */

typedef struct cs_lex {
    const char *src; /* whole text */
    size_t len;
    size_t pos;        /* current byte */
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
                return cs_lex_error(lx, at, "unterminated quote (in %s)", what);
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
    if (n == 0 || cs_survey_check_name(lx->word))
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
    /* Room for two more bytes (an exponent and its sign) and the NUL. */
    while (i < lx->line_end && n + 2 < sizeof buf) {
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
    double v = digits ? cs_strtod_c(buf, &end) : NAN; /* '.' whatever the host's locale */
    if (!digits || !end || *end != '\0' || !isfinite(v))
        return cs_lex_error(lx, at, "expected %s (a number)", what);
    lx->pos = i;
    *out = v;
    return CUSTSCORE_OK;
}

/* MIN..MAX */
static int cs_lex_scale(cs_lex *lx, double *lo, double *hi)
{
    cs_lex_skip_blank(lx);
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
                    return cs_lex_error(lx, mat, "weight %g: weights must not be negative", weight);
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
    if (m->n_items >= CUSTSCORE_MAX_SURVEY_ITEMS)
        return cs_lex_error(lx, at,
                            "item %s: too many items (a survey model has at most %d, "
                            "CUSTSCORE_MAX_SURVEY_ITEMS)",
                            name, CUSTSCORE_MAX_SURVEY_ITEMS);
    rc = cs_survey_add_item(m, c, name, lo, hi, reversed, weight);
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
    if (c < 0 && m->n_constructs >= CUSTSCORE_MAX_SURVEY_CONSTRUCTS)
        return cs_lex_error(lx, at,
                            "construct %s: too many constructs (a survey model has at most %d, "
                            "CUSTSCORE_MAX_SURVEY_CONSTRUCTS)",
                            name, CUSTSCORE_MAX_SURVEY_CONSTRUCTS);
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
        const char *why = cs_survey_path_problem(m, from, to, &code);
        if (why)
            return code == CUSTSCORE_ENOMEM
                       ? code
                       : cs_lex_error(lx, at, "%s -> %s: %s", m->constructs[from].name,
                                      m->constructs[to].name, why);
        rc = cs_survey_add_path(m, from, to);
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
                    if (strcasecmp(m->constructs[c].name, guesses[g]) == 0)
                        m->target = (int)c;
        }
        char why[512];
        int check = cs_survey_check(m, why, sizeof why);
        if (check == CUSTSCORE_ENOMEM) {
            rc = check;
        } else if (check != 0) {
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

static void cs_text_name(cs_buf *b, const char *s)
{
    if (cs_bare_word(s)) {
        cs_buf_puts(b, s);
        return;
    }
    cs_buf_add(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            cs_buf_add(b, "\\", 1);
        cs_buf_add(b, s, 1);
    }
    cs_buf_add(b, "\"", 1);
}

/* Shortest of %.15g / %.17g that reads back exactly, with '.' whatever the
 * host's locale. */
static void cs_text_num(cs_buf *b, double v)
{
    char buf[40];
    if (cs_fmt_double(buf, sizeof buf, v) < 0)
        b->failed = true; /* no C locale: out of memory */
    else
        cs_buf_puts(b, buf);
}

static void cs_text_scale(cs_buf *b, double lo, double hi)
{
    cs_text_num(b, lo);
    cs_buf_puts(b, "..");
    cs_text_num(b, hi);
}

int cs_survey_text(const custscore_survey_model *m, char **out)
{
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_puts(&b, "# custscore survey model (docs/survey-model-format.md)\nmodel ");
    cs_text_name(&b, m->name);
    cs_buf_puts(&b, "\nscale ");
    cs_text_scale(&b, m->default_min, m->default_max);
    cs_buf_puts(&b, "\n");
    for (size_t c = 0; c < m->n_constructs; c++) {
        cs_buf_puts(&b, "construct ");
        cs_text_name(&b, m->constructs[c].name);
        cs_buf_puts(&b, m->constructs[c].mode == CUSTSCORE_PLS_MODE_B ? " mode B:" : " mode A:");
        for (size_t i = 0; i < m->n_items; i++) {
            const cs_survey_item *it = &m->items[i];
            if (it->construct != (int)c)
                continue;
            cs_buf_puts(&b, " ");
            cs_text_name(&b, it->name);
            bool scale = it->min != m->default_min || it->max != m->default_max;
            if (scale || it->reversed || it->weight != 1.0) {
                const char *sep = "(";
                if (scale) {
                    cs_buf_puts(&b, sep);
                    cs_text_scale(&b, it->min, it->max);
                    sep = ", ";
                }
                if (it->reversed) {
                    cs_buf_puts(&b, sep);
                    cs_buf_puts(&b, "reverse");
                    sep = ", ";
                }
                if (it->weight != 1.0) {
                    cs_buf_puts(&b, sep);
                    cs_buf_puts(&b, "weight=");
                    cs_text_num(&b, it->weight);
                }
                cs_buf_puts(&b, ")");
            }
        }
        cs_buf_puts(&b, "\n");
    }
    for (size_t c = 0; c < m->n_constructs; c++) {
        bool first = true;
        for (size_t i = 0; i < m->n_paths; i++) {
            if (m->path_from[i] != (int)c)
                continue;
            if (first) {
                cs_buf_puts(&b, "path ");
                cs_text_name(&b, m->constructs[c].name);
                cs_buf_puts(&b, " ->");
                first = false;
            }
            cs_buf_puts(&b, " ");
            cs_text_name(&b, m->constructs[m->path_to[i]].name);
        }
        if (!first)
            cs_buf_puts(&b, "\n");
    }
    if (m->target >= 0) {
        cs_buf_puts(&b, "target ");
        cs_text_name(&b, m->constructs[m->target].name);
        cs_buf_puts(&b, "\n");
    }
    if (m->nps_item) {
        cs_buf_puts(&b, "nps ");
        cs_text_name(&b, m->nps_item);
        cs_buf_puts(&b, "\n");
    }
    if (b.failed) {
        cs_buf_free(&b);
        return CUSTSCORE_ENOMEM;
    }
    *out = b.data;
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

int custscore_survey_model_map_items(custscore_survey_model *m, const char *mapping, char *errbuf,
                                     size_t errbuf_size)
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
        rc = cs_survey_reindex_items(w);
        if (rc)
            break;
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
