/*
 * segments.c: RFM segment rule tables. A rule names a segment and gives an
 * inclusive range for each of the R, F and M scores; the first rule of the
 * table that matches a customer wins, and a customer matching none is
 * "Others" (as rfm_segment() of the R package `rfm`).
 *
 * The default table is the one of the `rfm` package's README, vignette and
 * rfm_segment() examples. Tables can be read from CSV
 * `segment,r_min,r_max,f_min,f_max,m_min,m_max`.
 */
#include "internal.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Rule set of the `rfm` README/vignette (docs/models.md ("Customer value"), table A). */
static const custscore_segment_rule cs_default_segments[] = {
    {"Champions", 5, 5, 5, 5, 5, 5},       {"Potential Loyalist", 3, 5, 3, 5, 2, 5},
    {"Loyal Customers", 2, 4, 2, 4, 2, 4}, {"Promising", 3, 4, 1, 3, 3, 5},
    {"New Customers", 4, 5, 1, 3, 1, 5},   {"Can't Lose Them", 1, 2, 3, 4, 4, 5},
    {"At Risk", 1, 2, 2, 5, 4, 5},         {"Need Attention", 1, 3, 3, 5, 3, 5},
    {"About To Sleep", 2, 3, 1, 3, 1, 4},  {"Lost", 1, 1, 1, 5, 1, 5},
};

const custscore_segment_rule *custscore_segments_default(size_t *count)
{
    if (count)
        *count = sizeof cs_default_segments / sizeof cs_default_segments[0];
    return cs_default_segments;
}

int custscore_segment_match(const custscore_segment_rule *rules, size_t n, int r, int f, int m)
{
    if (!rules)
        return -1;
    for (size_t i = 0; i < n && i < INT_MAX; i++) {
        const custscore_segment_rule *x = &rules[i];
        if (r >= x->r_min && r <= x->r_max && f >= x->f_min && f <= x->f_max && m >= x->m_min &&
            m <= x->m_max)
            return (int)i;
    }
    return -1;
}

void custscore_segments_free(custscore_segments *segments)
{
    cs_free(segments);
}

/* ---------------------------------------------------------------------- */
/* CSV parser */

enum {
    CS_SEG_NAME,
    CS_SEG_R_MIN,
    CS_SEG_R_MAX,
    CS_SEG_F_MIN,
    CS_SEG_F_MAX,
    CS_SEG_M_MIN,
    CS_SEG_M_MAX,
    CS_SEG__COLUMNS
};

static const char *const cs_seg_column[CS_SEG__COLUMNS] = {"segment", "r_min", "r_max", "f_min",
                                                           "f_max",   "m_min", "m_max"};

/* A rule while parsing: the name is an offset into the pool. */
typedef struct cs_seg_parsed {
    size_t name_off;
    int score[CS_SEG__COLUMNS]; /* [1..6] used */
} cs_seg_parsed;

typedef struct cs_seg_parser {
    const char *name; /* file name for messages */
    char *err;
    size_t err_size;
    cs_seg_parsed *rule;
    size_t count, cap;
    char *pool;
    size_t pool_len, pool_cap;
    int column_of[CS_SEG__COLUMNS]; /* field index of each column */
    size_t nfields;                 /* fields per record */
} cs_seg_parser;

static bool cs_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Trim blanks around @s[0..*len). */
static const char *cs_trim(const char *s, size_t *len)
{
    size_t n = *len;
    while (n > 0 && cs_is_blank(*s)) {
        s++;
        n--;
    }
    while (n > 0 && cs_is_blank(s[n - 1]))
        n--;
    *len = n;
    return s;
}

/* Message "name:line:column: field: "value": reason" (value cut at 40 bytes). */
static int cs_seg_fail(cs_seg_parser *p, int code, int64_t line, size_t column, const char *field,
                       const char *value, size_t value_len, const char *reason)
{
    int shown = value_len > 40 ? 40 : (int)value_len;
    if (field)
        return cs_value_errf(p->err, p->err_size, code, "%s:%lld:%zu: %s: \"%.*s%s\": %s", p->name,
                             (long long)line, column, field, shown, value,
                             value_len > 40 ? "..." : "", reason);
    return cs_value_errf(p->err, p->err_size, code, "%s:%lld: %s", p->name, (long long)line,
                         reason);
}

static bool cs_bytes_ieq(const char *a, size_t len, const char *b)
{
    return strlen(b) == len && strncasecmp(a, b, len) == 0;
}

/* The header row: map each of its fields to a column. */
static int cs_seg_header(cs_seg_parser *p, const cs_csv_record *rec)
{
    for (int c = 0; c < CS_SEG__COLUMNS; c++)
        p->column_of[c] = -1;
    for (size_t j = 0; j < rec->nfields; j++) {
        size_t len = rec->len[j];
        const char *s = cs_trim(rec->field[j], &len);
        int found = -1;
        for (int c = 0; c < CS_SEG__COLUMNS; c++)
            if (cs_bytes_ieq(s, len, cs_seg_column[c]))
                found = c;
        if (found < 0)
            return cs_seg_fail(p, CUSTSCORE_EINVAL, rec->line, j + 1, "header", s, len,
                               "unknown column (expected segment, r_min, r_max, f_min, "
                               "f_max, m_min, m_max)");
        if (p->column_of[found] >= 0)
            return cs_seg_fail(p, CUSTSCORE_EINVAL, rec->line, j + 1, "header", s, len,
                               "duplicate column");
        p->column_of[found] = (int)j;
    }
    for (int c = 0; c < CS_SEG__COLUMNS; c++) {
        if (p->column_of[c] < 0) {
            char reason[64];
            snprintf(reason, sizeof reason, "missing column %s", cs_seg_column[c]);
            return cs_seg_fail(p, CUSTSCORE_EINVAL, rec->line, 0, NULL, NULL, 0, reason);
        }
    }
    p->nfields = rec->nfields;
    return CUSTSCORE_OK;
}

static bool cs_name_ok(const char *s, size_t len, const char **why)
{
    if (len == 0 || len > CUSTSCORE_MAX_KEY) {
        *why = len == 0 ? "empty segment name" : "segment name longer than 255 bytes";
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            *why = "control character in segment name";
            return false;
        }
    }
    if (!cs_utf8_valid(s, len)) {
        *why = "segment name is not valid UTF-8";
        return false;
    }
    return true;
}

static int cs_seg_row(cs_seg_parser *p, const cs_csv_record *rec)
{
    if (rec->nfields != p->nfields) {
        char reason[96];
        snprintf(reason, sizeof reason, "expected %zu fields, found %zu", p->nfields, rec->nfields);
        return cs_seg_fail(p, CUSTSCORE_EINVAL, rec->line, 0, NULL, NULL, 0, reason);
    }
    if (p->count >= CUSTSCORE_MAX_SEGMENT_RULES)
        return cs_seg_fail(p, CUSTSCORE_ERANGE, rec->line, 0, NULL, NULL, 0,
                           "more than 1000 segment rules");
    cs_seg_parsed rule;
    for (int c = CS_SEG_R_MIN; c < CS_SEG__COLUMNS; c++) {
        size_t j = (size_t)p->column_of[c];
        size_t len = rec->len[j];
        const char *s = cs_trim(rec->field[j], &len);
        if (len != 1 || s[0] < '0' || s[0] > '9')
            return cs_seg_fail(p, CUSTSCORE_EINVAL, rec->line, j + 1, cs_seg_column[c], s, len,
                               "not a score 0..9");
        rule.score[c] = s[0] - '0';
    }
    for (int c = CS_SEG_R_MIN; c < CS_SEG__COLUMNS; c += 2) {
        if (rule.score[c] > rule.score[c + 1]) {
            size_t j = (size_t)p->column_of[c + 1];
            char reason[64];
            snprintf(reason, sizeof reason, "less than %s %d", cs_seg_column[c], rule.score[c]);
            return cs_seg_fail(p, CUSTSCORE_EINVAL, rec->line, j + 1, cs_seg_column[c + 1],
                               rec->field[j], rec->len[j], reason);
        }
    }
    size_t j = (size_t)p->column_of[CS_SEG_NAME];
    size_t len = rec->len[j];
    const char *name = cs_trim(rec->field[j], &len);
    const char *why = NULL;
    if (!cs_name_ok(name, len, &why))
        return cs_seg_fail(p, CUSTSCORE_EINVAL, rec->line, j + 1, "segment", name, len, why);
    if (p->count == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 16;
        cs_seg_parsed *grown = cs_reallocarray(p->rule, cap, sizeof *grown);
        if (!grown)
            return cs_value_errf(p->err, p->err_size, CUSTSCORE_ENOMEM, "%s: out of memory",
                                 p->name);
        p->rule = grown;
        p->cap = cap;
    }
    if (p->pool_len + len + 1 > p->pool_cap) {
        size_t cap = p->pool_cap ? 2 * p->pool_cap : 1024;
        while (cap < p->pool_len + len + 1)
            cap *= 2;
        char *grown = cs_reallocarray(p->pool, cap, 1);
        if (!grown)
            return cs_value_errf(p->err, p->err_size, CUSTSCORE_ENOMEM, "%s: out of memory",
                                 p->name);
        p->pool = grown;
        p->pool_cap = cap;
    }
    rule.name_off = p->pool_len;
    memcpy(p->pool + p->pool_len, name, len);
    p->pool[p->pool_len + len] = '\0';
    p->pool_len += len + 1;
    p->rule[p->count++] = rule;
    return CUSTSCORE_OK;
}

/* One allocation: the table, its rules, then the names. */
static int cs_seg_build(cs_seg_parser *p, custscore_segments **out)
{
    size_t head = sizeof(custscore_segments);
    size_t rules = p->count * sizeof(custscore_segment_rule);
    custscore_segments *s = cs_malloc(head + rules + p->pool_len);
    if (!s)
        return cs_value_errf(p->err, p->err_size, CUSTSCORE_ENOMEM, "%s: out of memory", p->name);
    s->count = p->count;
    s->rules = (custscore_segment_rule *)(void *)((char *)s + head);
    char *names = (char *)s + head + rules;
    memcpy(names, p->pool, p->pool_len);
    for (size_t i = 0; i < p->count; i++) {
        const int *sc = p->rule[i].score;
        custscore_segment_rule r = {names + p->rule[i].name_off,
                                    sc[CS_SEG_R_MIN],
                                    sc[CS_SEG_R_MAX],
                                    sc[CS_SEG_F_MIN],
                                    sc[CS_SEG_F_MAX],
                                    sc[CS_SEG_M_MIN],
                                    sc[CS_SEG_M_MAX]};
        s->rules[i] = r;
    }
    *out = s;
    return CUSTSCORE_OK;
}

/* The first row is a header when it names the column "segment" and holds
 * no score (a data row always has digits). */
static bool cs_seg_is_header(const cs_csv_record *rec)
{
    bool named = false;
    for (size_t j = 0; j < rec->nfields; j++) {
        size_t len = rec->len[j];
        const char *s = cs_trim(rec->field[j], &len);
        if (len == 1 && s[0] >= '0' && s[0] <= '9')
            return false;
        named |= cs_bytes_ieq(s, len, "segment");
    }
    return named;
}

static int cs_seg_read(cs_csv *csv, cs_seg_parser *p)
{
    bool first = true;
    for (;;) {
        cs_csv_record rec;
        int bad_column = 0;
        const char *why = NULL;
        int rc = cs_csv_next(csv, &rec, &bad_column, &why);
        if (rc == 0)
            break;
        if (rc < 0)
            return cs_value_errf(p->err, p->err_size, rc, "%s: %s", p->name, cs_csv_error(csv));
        if (rec.raw_len > 0 && rec.raw[0] == '#')
            continue;
        if (rc == CS_CSV_BAD_RECORD)
            return cs_value_errf(p->err, p->err_size, CUSTSCORE_EINVAL, "%s:%lld:%d: %s", p->name,
                                 (long long)rec.line, bad_column,
                                 why ? why : "malformed CSV record");
        if (first) {
            first = false;
            if (cs_seg_is_header(&rec)) {
                rc = cs_seg_header(p, &rec);
                if (rc != CUSTSCORE_OK)
                    return rc;
                continue;
            }
        }
        rc = cs_seg_row(p, &rec);
        if (rc != CUSTSCORE_OK)
            return rc;
    }
    if (p->count == 0)
        return cs_value_errf(p->err, p->err_size, CUSTSCORE_EINVAL, "%s: no segment rules",
                             p->name);
    return CUSTSCORE_OK;
}

static int cs_segments_read(const char *path, const char *text, size_t size, const char *name,
                            custscore_segments **out, char *errbuf, size_t errbuf_size)
{
    if (errbuf && errbuf_size)
        errbuf[0] = '\0';
    if (!out)
        return cs_value_errf(errbuf, errbuf_size, CUSTSCORE_EINVAL, "segments: NULL output");
    *out = NULL;
    cs_seg_parser p;
    memset(&p, 0, sizeof p);
    p.name = name;
    p.err = errbuf;
    p.err_size = errbuf_size;
    for (int c = 0; c < CS_SEG__COLUMNS; c++)
        p.column_of[c] = c;
    p.nfields = CS_SEG__COLUMNS;
    cs_csv *csv = NULL;
    char why[256];
    int rc = cs_csv_open(&csv, path, text, size, ',', false, why, sizeof why);
    if (rc != CUSTSCORE_OK)
        return cs_value_errf(errbuf, errbuf_size, rc, "%s", why);
    rc = cs_seg_read(csv, &p);
    if (rc == CUSTSCORE_OK)
        rc = cs_seg_build(&p, out);
    cs_csv_close(csv);
    cs_free(p.rule);
    cs_free(p.pool);
    return rc;
}

int custscore_segments_parse(const char *text, size_t size, const char *name,
                             custscore_segments **out, char *errbuf, size_t errbuf_size)
{
    if (!text && size > 0) {
        if (out)
            *out = NULL;
        return cs_value_errf(errbuf, errbuf_size, CUSTSCORE_EINVAL, "segments: NULL text");
    }
    return cs_segments_read(NULL, text ? text : "", size, name ? name : "<memory>", out, errbuf,
                            errbuf_size);
}

int custscore_segments_load(const char *path, custscore_segments **out, char *errbuf,
                            size_t errbuf_size)
{
    if (!path) {
        if (out)
            *out = NULL;
        return cs_value_errf(errbuf, errbuf_size, CUSTSCORE_EINVAL, "segments: NULL path");
    }
    return cs_segments_read(path, NULL, 0, path, out, errbuf, errbuf_size);
}
