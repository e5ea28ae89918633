/*
 * numtext.c: numbers as text whatever the host's locale.
 *
 * strtod() and the printf family follow LC_NUMERIC of the calling thread:
 * a host that called setlocale(LC_ALL, "") under a decimal-comma locale
 * (de_DE, fr_FR, ...) would make strtod("1.5") stop at the '.', and "%.17g"
 * write "1,5", so models saved as JSON or text, CSV output and SVG
 * coordinates would change with the host's settings. These helpers run the
 * C library's conversions under the C locale for the calling thread only
 * (POSIX 2008 newlocale() and uselocale()), made per call: no global
 * state, and the host's own locale is untouched. glibc and musl return
 * their static C locale object for newlocale(..., "C", 0), so a call
 * allocates nothing; the conversions are those of the C library (strtod
 * rounds correctly, "%.17g" round-trips).
 *
 * SQLite needs it too: json_extract() and json_each() of a JSON number
 * convert it with the C library's strtod() in builds not made from the
 * amalgamation (Debian's 3.40: under de_DE.UTF-8, json_extract('{"r":0.243}',
 * '$.r') is 0), so statements reading numbers out of saved JSON are
 * stepped with cs_step_c().
 */
#include "internal.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

/* Switch the calling thread to the C numeric locale: returns the locale to
 * restore (cs_c_locale_leave), or (locale_t)0 when that failed (out of
 * memory); *c receives the locale to free. */
static locale_t cs_c_locale_enter(locale_t *c)
{
    *c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (*c == (locale_t)0)
        return (locale_t)0;
    locale_t old = uselocale(*c);
    if (old == (locale_t)0) {
        freelocale(*c);
        *c = (locale_t)0;
    }
    return old;
}

static void cs_c_locale_leave(locale_t old, locale_t c)
{
    uselocale(old);
    freelocale(c);
}

double cs_strtod_c(const char *s, char **end)
{
    locale_t c;
    locale_t old = cs_c_locale_enter(&c);
    if (old == (locale_t)0) {
        if (end)
            *end = (char *)s; /* nothing converted */
        errno = ENOMEM;
        return 0.0;
    }
    errno = 0;
    double v = strtod(s, end);
    int saved = errno; /* ERANGE, for callers that look */
    cs_c_locale_leave(old, c);
    errno = saved;
    return v;
}

int cs_vsnprintf_c(char *buf, size_t size, const char *fmt, va_list ap)
{
    locale_t c;
    locale_t old = cs_c_locale_enter(&c);
    if (old == (locale_t)0) {
        if (size)
            buf[0] = '\0';
        errno = ENOMEM;
        return -1;
    }
    int n = vsnprintf(buf, size, fmt, ap);
    cs_c_locale_leave(old, c);
    return n;
}

int cs_snprintf_c(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = cs_vsnprintf_c(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int cs_step_c(sqlite3_stmt *st)
{
    locale_t c;
    locale_t old = cs_c_locale_enter(&c);
    if (old == (locale_t)0)
        return SQLITE_NOMEM;
    int rc = sqlite3_step(st);
    cs_c_locale_leave(old, c);
    return rc;
}

int cs_fmt_double(char *buf, size_t size, double v)
{
    int n = cs_snprintf_c(buf, size, "%.15g", v);
    if (n < 0 || (size_t)n >= size)
        return -1;
    /* The shorter form when it reads back exactly, else 17 digits (always
     * exact for a double). */
    char *end = NULL;
    if (cs_strtod_c(buf, &end) != v || end == buf) {
        n = cs_snprintf_c(buf, size, "%.17g", v);
        if (n < 0 || (size_t)n >= size)
            return -1;
    }
    return n;
}
