/*
 * datetime.c: date parsing and formatting without locale or time zone state.
 *
 * Civil-date conversions follow Howard Hinnant's public-domain algorithms
 * ("chrono-Compatible Low-Level Date Algorithms"), exact for the proleptic
 * Gregorian calendar. Nothing here calls the C library's time functions,
 * which depend on TZ and locale (global state).
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

int64_t cs_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void cs_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool cs_is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned cs_days_in_month(int64_t y, unsigned m)
{
    static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && cs_is_leap(y) ? 29 : days[m - 1];
}

static bool cs_isdigit(char c)
{
    return c >= '0' && c <= '9';
}

/* Read exactly @n digits at *p (bounded by end). */
static bool cs_digits(const char **p, const char *end, int n, int64_t *out)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= end || !cs_isdigit(**p))
            return false;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return true;
}

/* Read 1..@max digits. */
static bool cs_digits_upto(const char **p, const char *end, int max, int64_t *out)
{
    int64_t v = 0;
    int n = 0;
    while (n < max && *p < end && cs_isdigit(**p)) {
        v = v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    *out = v;
    return n > 0;
}

typedef struct cs_tm {
    int64_t year, month, day, hour, minute, second;
    int64_t offset_seconds; /* east of UTC */
} cs_tm;

static int cs_tm_to_time(const cs_tm *tm, int64_t *out, const char **why)
{
    if (tm->year < 1 || tm->year > 9999) {
        *why = "year outside 0001..9999";
        return CUSTSCORE_EINVAL;
    }
    if (tm->month < 1 || tm->month > 12) {
        *why = "month outside 1..12";
        return CUSTSCORE_EINVAL;
    }
    if (tm->day < 1 || tm->day > (int64_t)cs_days_in_month(tm->year, (unsigned)tm->month)) {
        *why = "no such day in that month";
        return CUSTSCORE_EINVAL;
    }
    if (tm->hour > 23 || tm->minute > 59 || tm->second > 59) {
        *why = "time of day out of range";
        return CUSTSCORE_EINVAL;
    }
    int64_t days = cs_days_from_civil(tm->year, (unsigned)tm->month, (unsigned)tm->day);
    int64_t t = days * CS_SECONDS_PER_DAY + tm->hour * 3600 + tm->minute * 60 + tm->second -
                tm->offset_seconds;
    /* A zone offset can move the first or last day out of the range. */
    if (t < CUSTSCORE_TIME_MIN || t > CUSTSCORE_TIME_MAX) {
        *why = "time outside 0001-01-01..9999-12-31 UTC";
        return CUSTSCORE_EINVAL;
    }
    *out = t;
    return CUSTSCORE_OK;
}

/* ISO 8601: YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|(+|-)HH[:MM]] */
static int cs_parse_iso(const char *p, const char *end, int64_t *out, const char **why)
{
    cs_tm tm = {0};
    *why = "not a date (expected YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM], YYYYMMDD or Unix seconds)";
    if (!cs_digits(&p, end, 4, &tm.year) || p >= end || *p != '-')
        return CUSTSCORE_EINVAL;
    p++;
    if (!cs_digits(&p, end, 2, &tm.month) || p >= end || *p != '-')
        return CUSTSCORE_EINVAL;
    p++;
    if (!cs_digits(&p, end, 2, &tm.day))
        return CUSTSCORE_EINVAL;
    if (p < end && (*p == 'T' || *p == 't' || *p == ' ')) {
        p++;
        if (!cs_digits(&p, end, 2, &tm.hour) || p >= end || *p != ':')
            return CUSTSCORE_EINVAL;
        p++;
        if (!cs_digits(&p, end, 2, &tm.minute))
            return CUSTSCORE_EINVAL;
        if (p < end && *p == ':') {
            p++;
            if (!cs_digits(&p, end, 2, &tm.second))
                return CUSTSCORE_EINVAL;
            if (p < end && (*p == '.' || *p == ',')) {
                p++;
                int64_t frac;
                if (!cs_digits_upto(&p, end, 9, &frac))
                    return CUSTSCORE_EINVAL;
                while (p < end && cs_isdigit(*p))
                    p++;
            }
        }
        if (p < end && (*p == 'Z' || *p == 'z')) {
            p++;
        } else if (p < end && (*p == '+' || *p == '-')) {
            int sign = *p == '-' ? -1 : 1;
            p++;
            int64_t oh = 0, om = 0;
            if (!cs_digits(&p, end, 2, &oh))
                return CUSTSCORE_EINVAL;
            if (p < end && *p == ':')
                p++;
            if (p < end && !cs_digits(&p, end, 2, &om))
                return CUSTSCORE_EINVAL;
            if (oh > 23 || om > 59) {
                *why = "time zone offset out of range";
                return CUSTSCORE_EINVAL;
            }
            tm.offset_seconds = sign * (oh * 3600 + om * 60);
        }
    }
    if (p != end)
        return CUSTSCORE_EINVAL;
    return cs_tm_to_time(&tm, out, why);
}

static const char *const cs_month_names[12] = {"jan", "feb", "mar", "apr", "may", "jun",
                                               "jul", "aug", "sep", "oct", "nov", "dec"};

static char cs_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* strptime-like parser with a fixed, locale-free set of conversions. */
static int cs_parse_format(const char *p, const char *end, const char *fmt, int64_t *out,
                           const char **why)
{
    cs_tm tm = {.year = 1970, .month = 1, .day = 1};
    int64_t yday = -1;
    *why = "does not match the date format";
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            if (*fmt == ' ') {
                while (p < end && (*p == ' ' || *p == '\t'))
                    p++;
                continue;
            }
            if (p >= end || *p != *fmt)
                return CUSTSCORE_EINVAL;
            p++;
            continue;
        }
        fmt++;
        int64_t v = 0;
        switch (*fmt) {
        case 'Y':
            if (!cs_digits_upto(&p, end, 4, &tm.year))
                return CUSTSCORE_EINVAL;
            break;
        case 'y':
            if (!cs_digits(&p, end, 2, &v))
                return CUSTSCORE_EINVAL;
            tm.year = v < 69 ? 2000 + v : 1900 + v; /* POSIX strptime pivot */
            break;
        case 'm':
            if (!cs_digits_upto(&p, end, 2, &tm.month))
                return CUSTSCORE_EINVAL;
            break;
        case 'd':
        case 'e':
            while (*fmt == 'e' && p < end && *p == ' ')
                p++;
            if (!cs_digits_upto(&p, end, 2, &tm.day))
                return CUSTSCORE_EINVAL;
            break;
        case 'H':
            if (!cs_digits_upto(&p, end, 2, &tm.hour))
                return CUSTSCORE_EINVAL;
            break;
        case 'M':
            if (!cs_digits_upto(&p, end, 2, &tm.minute))
                return CUSTSCORE_EINVAL;
            break;
        case 'S':
            if (!cs_digits_upto(&p, end, 2, &tm.second))
                return CUSTSCORE_EINVAL;
            break;
        case 'j':
            if (!cs_digits_upto(&p, end, 3, &yday) || yday < 1)
                return CUSTSCORE_EINVAL;
            break;
        case 'b':
        case 'h':
        case 'B': {
            int found = -1;
            for (int i = 0; i < 12 && found < 0; i++) {
                if (end - p >= 3 && cs_lower(p[0]) == cs_month_names[i][0] &&
                    cs_lower(p[1]) == cs_month_names[i][1] &&
                    cs_lower(p[2]) == cs_month_names[i][2])
                    found = i;
            }
            if (found < 0)
                return CUSTSCORE_EINVAL;
            p += 3;
            while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
                p++;
            tm.month = found + 1;
            break;
        }
        case '%':
            if (p >= end || *p != '%')
                return CUSTSCORE_EINVAL;
            p++;
            break;
        default:
            *why = "unsupported conversion in the date format (use %Y %y %m %d %e %H %M %S %j "
                   "%b %%)";
            return CUSTSCORE_EINVAL;
        }
    }
    if (p != end)
        return CUSTSCORE_EINVAL;
    if (yday > 0) {
        if (yday > (cs_is_leap(tm.year) ? 366 : 365)) {
            *why = "day of year out of range";
            return CUSTSCORE_EINVAL;
        }
        int64_t days = cs_days_from_civil(tm.year, 1, 1) + yday - 1;
        int64_t y;
        unsigned mo, d;
        cs_civil_from_days(days, &y, &mo, &d);
        tm.month = mo;
        tm.day = d;
    }
    return cs_tm_to_time(&tm, out, why);
}

int cs_parse_time_n(const char *text, size_t len, const char *format, int64_t *out,
                    const char **why)
{
    const char *p = text, *end = text + len;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (p == end) {
        *why = "empty date";
        return CUSTSCORE_EINVAL;
    }
    if (format && *format)
        return cs_parse_format(p, end, format, out, why);
    /* Unix seconds: '@' followed by an integer, or a plain integer of 9 or
     * more digits (8 digits is YYYYMMDD). */
    bool at = *p == '@';
    const char *q = p + (at ? 1 : 0);
    bool negative = q < end && *q == '-';
    const char *digits = q + (negative ? 1 : 0);
    size_t ndigits = 0;
    while (digits + ndigits < end && cs_isdigit(digits[ndigits]))
        ndigits++;
    if (ndigits > 0 && digits + ndigits == end) {
        if (!at && !negative && ndigits == 8) {
            cs_tm tm = {0};
            const char *r = digits;
            cs_digits(&r, end, 4, &tm.year);
            cs_digits(&r, end, 2, &tm.month);
            cs_digits(&r, end, 2, &tm.day);
            return cs_tm_to_time(&tm, out, why);
        }
        if (at || ndigits >= 9) {
            if (ndigits > 12) {
                *why = "Unix time out of range";
                return CUSTSCORE_EINVAL;
            }
            int64_t v = 0;
            for (size_t i = 0; i < ndigits; i++)
                v = v * 10 + (digits[i] - '0');
            v = negative ? -v : v;
            if (v < CUSTSCORE_TIME_MIN || v > CUSTSCORE_TIME_MAX) {
                *why = "Unix time out of range (0001-01-01..9999-12-31 UTC)";
                return CUSTSCORE_EINVAL;
            }
            *out = v;
            return CUSTSCORE_OK;
        }
        *why = "a number that is neither YYYYMMDD nor Unix seconds (9+ digits or @N)";
        return CUSTSCORE_EINVAL;
    }
    return cs_parse_iso(p, end, out, why);
}

int custscore_parse_time(const char *text, const char *format, int64_t *out)
{
    if (!text || !out)
        return CUSTSCORE_EINVAL;
    const char *why = NULL;
    return cs_parse_time_n(text, strlen(text), format, out, &why);
}

int custscore_format_time(int64_t t, int date_only, char *buf, size_t size)
{
    if (!buf)
        return CUSTSCORE_EINVAL;
    if (t < CUSTSCORE_TIME_MIN || t > CUSTSCORE_TIME_MAX) {
        /* Outside what the parser reads back (and day * 86400 would
         * overflow near the ends of int64_t). */
        if (size)
            buf[0] = '\0';
        return CUSTSCORE_ERANGE;
    }
    int64_t day = cs_day_of(t);
    int64_t secs = t - day * CS_SECONDS_PER_DAY;
    int64_t y;
    unsigned m, d;
    cs_civil_from_days(day, &y, &m, &d);
    if (y < 1 || y > 9999) {
        if (size)
            buf[0] = '\0';
        return CUSTSCORE_ERANGE;
    }
    int n;
    if (date_only || secs == 0)
        n = snprintf(buf, size, "%04d-%02u-%02u", (int)y, m, d);
    else
        n = snprintf(buf, size, "%04d-%02u-%02uT%02d:%02d:%02dZ", (int)y, m, d, (int)(secs / 3600),
                     (int)(secs / 60 % 60), (int)(secs % 60));
    if (n < 0 || (size_t)n >= size)
        return CUSTSCORE_ERANGE;
    return CUSTSCORE_OK;
}

int cs_check_as_of(custscore *db, int64_t as_of, const char *what)
{
    if (as_of >= CUSTSCORE_TIME_MIN && as_of <= CUSTSCORE_TIME_MAX)
        return CUSTSCORE_OK;
    return cs_error(db, CUSTSCORE_ERANGE,
                    "%s %lld: outside the supported time range %lld .. %lld "
                    "(0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z)",
                    what, (long long)as_of, (long long)CUSTSCORE_TIME_MIN,
                    (long long)CUSTSCORE_TIME_MAX);
}
