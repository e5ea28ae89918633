/*
 * util.c: option parsing, value parsing and output helpers of the CLI.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_exit_for(int code)
{
    switch (code) {
    case CUSTSCORE_OK:
        return CLI_EXIT_OK;
    case CUSTSCORE_EINVAL:
    case CUSTSCORE_ERANGE:
    case CUSTSCORE_ENOTFOUND:
        return CLI_EXIT_BAD_INPUT;
    case CUSTSCORE_EBUSY:
        return CLI_EXIT_BUSY;
    case CUSTSCORE_EIO:
    case CUSTSCORE_EREADONLY:
        return CLI_EXIT_IO;
    case CUSTSCORE_ECORRUPT:
    case CUSTSCORE_ESCHEMA:
        return CLI_EXIT_CORRUPT;
    case CUSTSCORE_ENOMODEL:
        return CLI_EXIT_NO_MODEL;
    case CUSTSCORE_ENOCONV:
        return CLI_EXIT_NO_CONVERGENCE;
    default:
        return CLI_EXIT_INTERNAL;
    }
}

int cli_fail(cli *c, int code, const char *what)
{
    const char *msg = c && c->db ? custscore_errmsg(c->db) : "";
    if (!msg || !*msg)
        msg = custscore_errstr(code);
    fprintf(stderr, "custscore: %s: %s\n", what, msg);
    return cli_exit_for(code);
}

int cli_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("custscore: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

int cli_open_store(cli *c, bool create, bool readonly)
{
    if (c->db)
        return CLI_EXIT_OK;
    int flags = readonly ? CUSTSCORE_OPEN_READONLY : (create ? CUSTSCORE_OPEN_CREATE : 0);
    int rc = custscore_open(c->db_path, flags, &c->db);
    if (rc) {
        int status = cli_fail(c, rc, "opening the store");
        custscore_close(c->db);
        c->db = NULL;
        return status;
    }
    return CLI_EXIT_OK;
}

void cli_args_init(cli_args *a, int argc, char **argv)
{
    a->argc = argc;
    a->argv = argv;
    a->i = 1;
    a->value = NULL;
}

bool cli_flag(cli_args *a, const char *name)
{
    if (a->i < a->argc && strcmp(a->argv[a->i], name) == 0) {
        a->i++;
        return true;
    }
    return false;
}

bool cli_opt(cli_args *a, const char *name, int *status)
{
    if (a->i >= a->argc)
        return false;
    const char *arg = a->argv[a->i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0)
        return false;
    if (arg[n] == '=') {
        a->value = arg + n + 1;
        a->i++;
        return true;
    }
    if (arg[n] != '\0')
        return false;
    if (a->i + 1 >= a->argc) {
        *status = cli_usage("option %s needs a value", name);
        a->i = a->argc;
        a->value = NULL;
        return true;
    }
    a->value = a->argv[a->i + 1];
    a->i += 2;
    return true;
}

const char *cli_positional(cli_args *a)
{
    if (a->i < a->argc && (a->argv[a->i][0] != '-' || strcmp(a->argv[a->i], "-") == 0))
        return a->argv[a->i++];
    return NULL;
}

bool cli_parse_date(const char *text, int64_t *out)
{
    if (!text || custscore_parse_time(text, NULL, out) != 0) {
        cli_usage("'%s' is not a date (YYYY-MM-DD, ISO 8601 date-time, YYYYMMDD or @unix)",
                  text ? text : "");
        return false;
    }
    return true;
}

bool cli_parse_unit(const char *text, custscore_unit *unit)
{
    if (strcmp(text, "day") == 0 || strcmp(text, "days") == 0 || strcmp(text, "d") == 0)
        *unit = CUSTSCORE_UNIT_DAY;
    else if (strcmp(text, "week") == 0 || strcmp(text, "weeks") == 0 || strcmp(text, "w") == 0)
        *unit = CUSTSCORE_UNIT_WEEK;
    else if (strcmp(text, "month") == 0 || strcmp(text, "months") == 0 || strcmp(text, "m") == 0)
        *unit = CUSTSCORE_UNIT_MONTH;
    else if (strcmp(text, "year") == 0 || strcmp(text, "years") == 0 || strcmp(text, "y") == 0)
        *unit = CUSTSCORE_UNIT_YEAR;
    else {
        cli_usage("unknown time unit '%s' (day, week, month, year)", text);
        return false;
    }
    return true;
}

const char *cli_unit_name(custscore_unit unit)
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
    }
    return "?";
}

bool cli_parse_duration(const char *text, double *count, custscore_unit *unit)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || errno || !isfinite(v) || v <= 0) {
        cli_usage("'%s' is not a duration (e.g. 90d, 12w, 12m, 1y)", text);
        return false;
    }
    if (*end == '\0') {
        cli_usage("'%s': give the unit (d, w, m or y), e.g. %gd", text, v);
        return false;
    }
    if (!cli_parse_unit(end, unit))
        return false;
    *count = v;
    return true;
}

bool cli_parse_double(const char *text, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || errno || !isfinite(v)) {
        cli_usage("'%s' is not a number", text);
        return false;
    }
    *out = v;
    return true;
}

bool cli_parse_double_quiet(const char *text, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || errno || !isfinite(v))
        return false;
    *out = v;
    return true;
}

bool cli_parse_int(const char *text, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end || errno) {
        cli_usage("'%s' is not an integer", text);
        return false;
    }
    *out = v;
    return true;
}

FILE *cli_open_out(const char *path)
{
    if (!path || strcmp(path, "-") == 0)
        return stdout;
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "custscore: %s: cannot create: %s\n", path, strerror(errno));
    return f;
}

int cli_close_out(FILE *f, const char *path)
{
    if (!f)
        return CLI_EXIT_IO;
    int err = ferror(f);
    int rc = f == stdout ? fflush(f) : fclose(f);
    if (err || rc != 0) {
        fprintf(stderr, "custscore: %s: write error\n", path ? path : "<stdout>");
        return CLI_EXIT_IO;
    }
    return CLI_EXIT_OK;
}

void cli_csv_str(FILE *f, const char *s, bool last)
{
    if (!s)
        s = "";
    if (strpbrk(s, ",\"\r\n")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
    fputc(last ? '\n' : ',', f);
}

void cli_csv_num(FILE *f, double v, bool last)
{
    if (isfinite(v))
        fprintf(f, "%.10g", v);
    fputc(last ? '\n' : ',', f);
}

void cli_csv_int(FILE *f, int64_t v, bool last)
{
    fprintf(f, "%lld", (long long)v);
    fputc(last ? '\n' : ',', f);
}

void cli_csv_date(FILE *f, int64_t t, bool last)
{
    char buf[32];
    if (t != 0 && custscore_format_time(t, 0, buf, sizeof buf) == 0)
        fputs(buf, f);
    fputc(last ? '\n' : ',', f);
}

/* ---- JSON ---- */

static void cli_json_sep(cli_json *j)
{
    if (j->pending_key) {
        j->pending_key = false;
        return;
    }
    if (j->depth > 0) {
        if (!j->first[j->depth])
            fputc(',', j->f);
        j->first[j->depth] = false;
    }
}

void cli_json_begin(cli_json *j, FILE *f)
{
    memset(j, 0, sizeof *j);
    j->f = f;
}

void cli_json_obj(cli_json *j)
{
    cli_json_sep(j);
    fputc('{', j->f);
    if (j->depth < 31)
        j->depth++;
    j->first[j->depth] = true;
}

void cli_json_end_obj(cli_json *j)
{
    fputc('}', j->f);
    if (j->depth > 0)
        j->depth--;
}

void cli_json_arr(cli_json *j)
{
    cli_json_sep(j);
    fputc('[', j->f);
    if (j->depth < 31)
        j->depth++;
    j->first[j->depth] = true;
}

void cli_json_end_arr(cli_json *j)
{
    fputc(']', j->f);
    if (j->depth > 0)
        j->depth--;
}

static void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

void cli_json_key(cli_json *j, const char *key)
{
    cli_json_sep(j);
    cli_json_string(j->f, key);
    fputc(':', j->f);
    j->pending_key = true;
}

void cli_json_str(cli_json *j, const char *s)
{
    cli_json_sep(j);
    if (s)
        cli_json_string(j->f, s);
    else
        fputs("null", j->f);
}

void cli_json_num(cli_json *j, double v)
{
    cli_json_sep(j);
    if (isfinite(v))
        fprintf(j->f, "%.17g", v);
    else
        fputs("null", j->f);
}

void cli_json_int(cli_json *j, int64_t v)
{
    cli_json_sep(j);
    fprintf(j->f, "%lld", (long long)v);
}

void cli_json_bool(cli_json *j, bool v)
{
    cli_json_sep(j);
    fputs(v ? "true" : "false", j->f);
}

void cli_json_null(cli_json *j)
{
    cli_json_sep(j);
    fputs("null", j->f);
}

void cli_json_date(cli_json *j, int64_t t)
{
    char buf[32];
    if (t != 0 && custscore_format_time(t, 0, buf, sizeof buf) == 0)
        cli_json_str(j, buf);
    else
        cli_json_null(j);
}

void cli_json_finish(cli_json *j)
{
    fputc('\n', j->f);
}

void cli_progress(cli *c, const char *fmt, ...)
{
    if (!c->progress)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("\r\033[K", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
}

void cli_progress_done(cli *c)
{
    if (c->progress)
        fputs("\r\033[K", stderr);
}
