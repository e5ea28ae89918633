/*
 * csv.c: a streaming RFC 4180 reader and a strict number parser.
 *
 * The reader keeps one buffer of at most CS_CSV_BUFFER bytes whatever the file
 * size; a record (a logical line, which may span physical lines inside
 * quotes) must fit in CUSTSCORE_MAX_LINE bytes. Malformed records are
 * reported with their line and column and skipped, so the caller decides
 * between aborting and skipping.
 */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CS_CSV_CHUNK (1024 * 1024)
#define CS_CSV_BUFFER (2 * CUSTSCORE_MAX_LINE + 2 * CS_CSV_CHUNK)

struct cs_csv {
    FILE *file;       /* NULL when reading memory */
    bool own_file;    /* close it at the end */
    const char *data; /* current bytes: buffer or caller's memory */
    char *buffer;     /* owned buffer (file mode) */
    size_t pos, len;  /* unread bytes are data[pos..len) */
    bool eof;         /* no more bytes will come after data[len) */
    bool started;     /* BOM check done */
    char delimiter;
    bool whitespace;
    int64_t line; /* physical lines consumed */
    /* Record output */
    char *out; /* unescaped field bytes, NUL-separated */
    size_t out_cap;
    char **field;
    size_t *flen;
    size_t field_cap;
    char err[256];
};

int cs_csv_open(cs_csv **out, const char *path, const char *data, size_t size, char delimiter,
                bool whitespace, char *err, size_t err_size)
{
    *out = NULL;
    if (delimiter == 0)
        delimiter = ',';
    if (!whitespace && (delimiter == '"' || delimiter == '\n' || delimiter == '\r')) {
        snprintf(err, err_size, "invalid delimiter (a quote or line end)");
        return CUSTSCORE_EINVAL;
    }
    cs_csv *r = cs_calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, err_size, "out of memory");
        return CUSTSCORE_ENOMEM;
    }
    r->delimiter = delimiter;
    r->whitespace = whitespace;
    /* The unescaped record never outgrows the raw one: at most
     * CUSTSCORE_MAX_LINE bytes, and in memory at most @size, so a small
     * buffer import does not allocate (and map) a whole MiB. */
    size_t max_record = !path && size < CUSTSCORE_MAX_LINE ? size : CUSTSCORE_MAX_LINE;
    r->out_cap = max_record + CUSTSCORE_MAX_COLUMNS + 16;
    r->out = cs_malloc(r->out_cap);
    r->field_cap = 64;
    r->field = cs_mallocarray(r->field_cap, sizeof *r->field);
    r->flen = cs_mallocarray(r->field_cap, sizeof *r->flen);
    if (!r->out || !r->field || !r->flen) {
        cs_csv_close(r);
        snprintf(err, err_size, "out of memory");
        return CUSTSCORE_ENOMEM;
    }
    if (path) {
        if (strcmp(path, "-") == 0) {
            r->file = stdin;
        } else {
            r->file = fopen(path, "rb");
            if (!r->file) {
                int e = errno;
                snprintf(err, err_size, "%s: cannot open: %s", path, strerror(e));
                cs_csv_close(r);
                return e == ENOENT ? CUSTSCORE_ENOTFOUND : CUSTSCORE_EIO;
            }
            r->own_file = true;
        }
        r->buffer = cs_malloc(CS_CSV_BUFFER);
        if (!r->buffer) {
            cs_csv_close(r);
            snprintf(err, err_size, "out of memory");
            return CUSTSCORE_ENOMEM;
        }
        r->data = r->buffer;
    } else {
        r->data = data ? data : "";
        r->len = data ? size : 0;
        r->eof = true;
    }
    *out = r;
    return CUSTSCORE_OK;
}

void cs_csv_close(cs_csv *r)
{
    if (!r)
        return;
    if (r->file && r->own_file)
        fclose(r->file);
    cs_free(r->buffer);
    cs_free(r->out);
    cs_free(r->field);
    cs_free(r->flen);
    cs_free(r);
}

const char *cs_csv_error(const cs_csv *r)
{
    return r->err;
}

int64_t cs_csv_lines(const cs_csv *r)
{
    return r->line;
}

/* Move unread bytes to the front and read more. Returns 0, or an error. */
static int cs_csv_refill(cs_csv *r)
{
    if (r->eof)
        return CUSTSCORE_OK;
    if (r->pos > 0) {
        memmove(r->buffer, r->buffer + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    while (r->len < CS_CSV_BUFFER && !r->eof) {
        size_t want = CS_CSV_BUFFER - r->len;
        if (want > CS_CSV_CHUNK)
            want = CS_CSV_CHUNK;
        size_t got = fread(r->buffer + r->len, 1, want, r->file);
        r->len += got;
        if (got < want) {
            if (ferror(r->file)) {
                snprintf(r->err, sizeof r->err, "read error: %s", strerror(errno));
                return CUSTSCORE_EIO;
            }
            r->eof = true;
        }
        if (got > 0)
            break;
    }
    return CUSTSCORE_OK;
}

static bool cs_csv_add_field(cs_csv *r, size_t *nfields, size_t start, size_t end)
{
    if (*nfields >= r->field_cap) {
        if (r->field_cap > CUSTSCORE_MAX_COLUMNS)
            return false;
        size_t cap = r->field_cap * 2;
        char **f = cs_reallocarray(r->field, cap, sizeof *f);
        if (!f)
            return false;
        r->field = f;
        size_t *l = cs_reallocarray(r->flen, cap, sizeof *l);
        if (!l)
            return false;
        r->flen = l;
        r->field_cap = cap;
    }
    r->out[end] = '\0';
    r->field[*nfields] = r->out + start;
    r->flen[*nfields] = end - start;
    (*nfields)++;
    return true;
}

enum cs_csv_state { CS_FIELD_START, CS_UNQUOTED, CS_QUOTED, CS_QUOTE_IN_QUOTED, CS_BLANK };

/* Result of one parse attempt over the bytes in the buffer. */
enum cs_parse_result { CS_PARSED, CS_NEED_MORE, CS_BAD, CS_TOO_LONG, CS_NOMEM };

/* Parse one record starting at r->pos. On CS_PARSED/CS_BAD, *consumed is the
 * number of bytes of the record including its line end and *lines the
 * physical lines it spans. */
static enum cs_parse_result cs_csv_parse(cs_csv *r, cs_csv_record *rec, size_t *consumed,
                                         int64_t *lines, size_t *raw_len, int *bad_column,
                                         const char **why)
{
    const char *s = r->data + r->pos;
    size_t n = r->len - r->pos;
    size_t o = 0, fstart = 0, nfields = 0;
    int64_t nl = 0;
    enum cs_csv_state st = r->whitespace ? CS_BLANK : CS_FIELD_START;
    const char delim = r->delimiter;
    bool bad = false;
    size_t i = 0;
    for (; i < n; i++) {
        char c = s[i];
        if (i >= CUSTSCORE_MAX_LINE) {
            *why = st == CS_QUOTED ? "record longer than the limit of 1 MiB (CUSTSCORE_MAX_LINE); "
                                     "an unterminated quote?"
                                   : "record longer than the limit of 1 MiB (CUSTSCORE_MAX_LINE)";
            *bad_column = (int)nfields + 1;
            *consumed = i;
            *lines = nl;
            *raw_len = 200;
            return CS_TOO_LONG;
        }
        if (c == '\n' || c == '\r') {
            if (st == CS_QUOTED) {
                if (c == '\n')
                    nl++;
                r->out[o++] = c;
                continue;
            }
            /* End of record. A CR must be followed by LF or be a lone CR. */
            size_t end = i;
            if (c == '\r') {
                if (i + 1 >= n && !r->eof)
                    return CS_NEED_MORE;
                if (i + 1 < n && s[i + 1] == '\n')
                    i++;
            }
            if (r->whitespace) {
                if (st == CS_UNQUOTED && !cs_csv_add_field(r, &nfields, fstart, o))
                    return CS_NOMEM;
            } else if (!bad && !cs_csv_add_field(r, &nfields, fstart, o)) {
                return CS_NOMEM;
            }
            /* The last field counts too (a record of MAX + 1 columns). */
            if (nfields > CUSTSCORE_MAX_COLUMNS && !bad) {
                *why = "more columns than the limit of 4096 (CUSTSCORE_MAX_COLUMNS)";
                *bad_column = (int)nfields;
                bad = true;
            }
            *consumed = i + 1;
            *lines = nl + 1;
            *raw_len = end;
            rec->nfields = nfields;
            return bad ? CS_BAD : CS_PARSED;
        }
        if (bad)
            continue; /* skip to the end of the line */
        switch (st) {
        case CS_BLANK:
            if (c == ' ' || c == '\t')
                break;
            fstart = o;
            r->out[o++] = c;
            st = CS_UNQUOTED;
            break;
        case CS_FIELD_START:
            if (c == '"') {
                st = CS_QUOTED;
            } else if (c == delim) {
                if (!cs_csv_add_field(r, &nfields, fstart, o))
                    return CS_NOMEM;
                o++;
                fstart = o;
            } else {
                r->out[o++] = c;
                st = CS_UNQUOTED;
            }
            break;
        case CS_UNQUOTED:
            if (r->whitespace && (c == ' ' || c == '\t')) {
                if (!cs_csv_add_field(r, &nfields, fstart, o))
                    return CS_NOMEM;
                o++;
                st = CS_BLANK;
            } else if (!r->whitespace && c == delim) {
                if (!cs_csv_add_field(r, &nfields, fstart, o))
                    return CS_NOMEM;
                o++;
                fstart = o;
                st = CS_FIELD_START;
            } else {
                /* A quote inside an unquoted field is kept as it is (common in
                 * ERP exports, e.g. 12" vinyl). */
                r->out[o++] = c;
            }
            break;
        case CS_QUOTED:
            if (c == '"')
                st = CS_QUOTE_IN_QUOTED;
            else
                r->out[o++] = c;
            break;
        case CS_QUOTE_IN_QUOTED:
            if (c == '"') {
                r->out[o++] = '"';
                st = CS_QUOTED;
            } else if (c == delim) {
                if (!cs_csv_add_field(r, &nfields, fstart, o))
                    return CS_NOMEM;
                o++;
                fstart = o;
                st = CS_FIELD_START;
            } else {
                *why = "unexpected character after a closing quote";
                *bad_column = (int)nfields + 1;
                bad = true;
            }
            break;
        }
        if (nfields > CUSTSCORE_MAX_COLUMNS && !bad) {
            *why = "more columns than the limit of 4096 (CUSTSCORE_MAX_COLUMNS)";
            *bad_column = (int)nfields;
            bad = true;
        }
    }
    if (!r->eof)
        return CS_NEED_MORE;
    /* End of input without a final line end. */
    if (i == 0) {
        *consumed = 0;
        *lines = 0;
        rec->nfields = 0;
        return CS_PARSED;
    }
    if (!bad && st == CS_QUOTED) {
        *why = "unterminated quoted field (a quote opened and never closed)";
        *bad_column = (int)nfields + 1;
        bad = true;
    }
    if (!bad) {
        if (!r->whitespace || st == CS_UNQUOTED) {
            if (!cs_csv_add_field(r, &nfields, fstart, o))
                return CS_NOMEM;
        }
        if (nfields > CUSTSCORE_MAX_COLUMNS) {
            *why = "more columns than the limit of 4096 (CUSTSCORE_MAX_COLUMNS)";
            *bad_column = (int)nfields;
            bad = true;
        }
    }
    *consumed = i;
    *lines = nl + 1;
    *raw_len = i;
    rec->nfields = nfields;
    return bad ? CS_BAD : CS_PARSED;
}

int cs_csv_next(cs_csv *r, cs_csv_record *rec, int *bad_column, const char **why)
{
    for (;;) {
        if (r->pos >= r->len) {
            int rc = cs_csv_refill(r);
            if (rc)
                return rc;
            if (r->pos >= r->len && r->eof)
                return 0;
        }
        if (!r->started) {
            /* Wait until three bytes are there (or the input ends). */
            if (r->len - r->pos < 3 && !r->eof) {
                int rc = cs_csv_refill(r);
                if (rc)
                    return rc;
                if (r->len - r->pos < 3 && !r->eof)
                    continue;
            }
            r->started = true;
            if (r->len - r->pos >= 3 && memcmp(r->data + r->pos, "\xEF\xBB\xBF", 3) == 0)
                r->pos += 3;
            continue;
        }
        size_t consumed = 0, raw_len = 0;
        int64_t lines = 0;
        *bad_column = 0;
        *why = NULL;
        enum cs_parse_result res =
            cs_csv_parse(r, rec, &consumed, &lines, &raw_len, bad_column, why);
        if (res == CS_NOMEM) {
            snprintf(r->err, sizeof r->err, "out of memory reading a record");
            return CUSTSCORE_ENOMEM;
        }
        if (res == CS_NEED_MORE) {
            if (r->file == NULL || (r->pos == 0 && r->len >= CS_CSV_BUFFER)) {
                /* Cannot happen with the limits above; be safe. */
                snprintf(r->err, sizeof r->err, "internal: record does not fit the buffer");
                return CUSTSCORE_EINTERNAL;
            }
            size_t before = r->len - r->pos;
            int rc = cs_csv_refill(r);
            if (rc)
                return rc;
            if (r->len - r->pos == before && !r->eof) {
                snprintf(r->err, sizeof r->err, "internal: no progress reading");
                return CUSTSCORE_EINTERNAL;
            }
            continue;
        }
        if (res == CS_TOO_LONG) {
            rec->line = r->line + 1;
            rec->raw = r->data + r->pos;
            rec->raw_len = raw_len;
            rec->nfields = 0;
            rec->field = r->field;
            rec->len = r->flen;
            r->line += lines;
            r->pos += consumed;
            /* Resynchronise at the next physical line end, however far. The
             * raw text is no longer valid after this; keep none of it. */
            rec->raw_len = 0;
            for (;;) {
                const char *nl = memchr(r->data + r->pos, '\n', r->len - r->pos);
                if (nl) {
                    r->pos = (size_t)(nl - r->data) + 1;
                    r->line++;
                    break;
                }
                r->pos = r->len;
                if (r->eof)
                    break;
                int rc = cs_csv_refill(r);
                if (rc)
                    return rc;
            }
            return CS_CSV_BAD_RECORD;
        }
        if (consumed == 0 && rec->nfields == 0)
            return 0; /* end of input */
        rec->line = r->line + 1;
        rec->raw = r->data + r->pos;
        rec->raw_len = raw_len;
        rec->field = r->field;
        rec->len = r->flen;
        r->line += lines;
        r->pos += consumed;
        if (res == CS_BAD)
            return CS_CSV_BAD_RECORD;
        /* Skip blank lines: no fields, or one empty field. */
        if (rec->nfields == 0 || (rec->nfields == 1 && rec->len[0] == 0 && raw_len == 0))
            continue;
        if (r->whitespace && rec->nfields == 0)
            continue;
        return 1;
    }
}

/* ---------------------------------------------------------------------- */
/* Numbers */

static const double cs_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                  1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                  1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int cs_parse_double(const char *s, size_t len, double *out, const char **why)
{
    const char *p = s, *end = s + len;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (p == end) {
        *why = "empty number";
        return CUSTSCORE_EINVAL;
    }
    const char *start = p;
    bool negative = false;
    if (*p == '+' || *p == '-') {
        negative = *p == '-';
        p++;
    }
    uint64_t mantissa = 0;
    int sig = 0, exp10 = 0, digits = 0;
    bool truncated = false;
    while (p < end && *p >= '0' && *p <= '9') {
        if (sig < 19) {
            mantissa = mantissa * 10 + (uint64_t)(*p - '0');
            if (mantissa)
                sig++;
        } else {
            exp10++;
            truncated = true;
        }
        p++;
        digits++;
    }
    if (p < end && *p == '.') {
        p++;
        while (p < end && *p >= '0' && *p <= '9') {
            if (sig < 19) {
                mantissa = mantissa * 10 + (uint64_t)(*p - '0');
                if (mantissa)
                    sig++;
                exp10--;
            } else {
                truncated = true;
            }
            p++;
            digits++;
        }
    }
    if (digits == 0) {
        *why = "not a number (NaN, Inf and text are rejected)";
        return CUSTSCORE_EINVAL;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = false;
        if (p < end && (*p == '+' || *p == '-')) {
            eneg = *p == '-';
            p++;
        }
        int e = 0, edigits = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            if (e < 10000)
                e = e * 10 + (*p - '0');
            p++;
            edigits++;
        }
        if (edigits == 0) {
            *why = "malformed exponent";
            return CUSTSCORE_EINVAL;
        }
        exp10 += eneg ? -e : e;
    }
    if (p != end) {
        *why = "not a number (only digits, one '.', an exponent; no thousands separators)";
        return CUSTSCORE_EINVAL;
    }
    double v;
    if (!truncated && mantissa < (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
        /* Clinger's fast path: both operands exact, one rounding. */
        v = (double)mantissa;
        v = exp10 < 0 ? v / cs_pow10[-exp10] : v * cs_pow10[exp10];
    } else {
        /* Rare: long or extreme numbers. strtod on a bounded copy; the
         * syntax was checked above and has '.' as decimal point, so it is
         * read under the C locale whatever the host set. */
        char tmp[128];
        size_t n = (size_t)(end - start);
        if (n >= sizeof tmp) {
            *why = "number too long";
            return CUSTSCORE_EINVAL;
        }
        memcpy(tmp, start, n);
        tmp[n] = '\0';
        char *stop = NULL;
        v = cs_strtod_c(tmp, &stop);
        if (stop == tmp) {
            *why = "cannot convert the number (out of memory)";
            return CUSTSCORE_EINVAL;
        }
        negative = false;
    }
    if (negative)
        v = -v;
    if (!isfinite(v)) {
        *why = "number out of range (overflows to infinity)";
        return CUSTSCORE_EINVAL;
    }
    *out = v;
    return CUSTSCORE_OK;
}
