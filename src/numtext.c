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

/* ---------------------------------------------------------------------- */
/* Shortest text of a double that reads back exactly.
 *
 * Schubfach (Raffaello Giulietti, "The Schubfach way to render doubles",
 * 2020, revised 2021; the algorithm of Java 19's Double.toString): of the
 * decimals in the rounding interval of v (the reals that read back as v),
 * the one with the fewest digits, and of those the closest to v. With the
 * power of ten 10^k just below the interval's width, at most one multiple
 * of 10^(k+1) lies in the interval, and the candidates are found from v,
 * its lower and its upper boundary times 10^-k, each computed from a 128-bit
 * approximation of 10^-k (numtext_pow10.h) and rounded to odd, which keeps
 * the comparisons exact (paper, section 9). */

#include "numtext_pow10.h"

#include <string.h>

/* floor(a / 2^s) for a possibly negative a (no implementation-defined
 * right shift of negative numbers). */
static int32_t cs_floor_shift(int64_t a, int s)
{
    return (int32_t)(a >= 0 ? a >> s : -((-a + ((int64_t)1 << s) - 1) >> s));
}

/* floor(log10(2^q)), floor(log10(3/4 2^q)) for |q| <= 1100 and
 * floor(log2(10^e)) for |e| <= 400 (checked exhaustively by
 * tools/gen_pow10_table.py over the ranges used here). */
static int32_t cs_floor_log10_pow2(int32_t q)
{
    return cs_floor_shift((int64_t)q * 315653, 20);
}

static int32_t cs_floor_log10_three_quarters_pow2(int32_t q)
{
    return cs_floor_shift((int64_t)q * 315653 - 131237, 20);
}

static int32_t cs_floor_log2_pow10(int32_t e)
{
    return cs_floor_shift((int64_t)e * 1741647, 19);
}

/* High 64 bits of the product of x and y, and the low ones in *lo. */
static uint64_t cs_mul_64x64(uint64_t x, uint64_t y, uint64_t *lo)
{
#if defined(__SIZEOF_INT128__)
    __extension__ typedef unsigned __int128 cs_u128;
    cs_u128 p = (cs_u128)x * y;
    *lo = (uint64_t)p;
    return (uint64_t)(p >> 64);
#else
    uint64_t x0 = x & 0xffffffffu, x1 = x >> 32, y0 = y & 0xffffffffu, y1 = y >> 32;
    uint64_t p00 = x0 * y0, p01 = x0 * y1, p10 = x1 * y0, p11 = x1 * y1;
    uint64_t mid = (p00 >> 32) + (p10 & 0xffffffffu) + (p01 & 0xffffffffu);
    *lo = (mid << 32) | (p00 & 0xffffffffu);
    return p11 + (p10 >> 32) + (p01 >> 32) + (mid >> 32);
#endif
}

/* floor(g cp / 2^128), its last bit set when the dropped part is not 0
 * (rounding to odd), for g = g[0] 2^64 + g[1] (paper, section 9). */
static uint64_t cs_round_to_odd(const uint64_t g[2], uint64_t cp)
{
    uint64_t lo_lo, lo_hi = cs_mul_64x64(g[1], cp, &lo_lo);
    uint64_t hi_lo, hi_hi = cs_mul_64x64(g[0], cp, &hi_lo);
    (void)lo_lo;
    uint64_t y0 = hi_lo + lo_hi;
    uint64_t y1 = hi_hi + (y0 < hi_lo);
    return y1 | (y0 > 1);
}

/* v = c 2^q (finite, > 0) as the shortest decimal *digits 10^*exp10. */
static void cs_shortest_decimal(uint64_t c, int32_t q, bool lower_closer, uint64_t *digits,
                                int32_t *exp10)
{
    bool even = (c & 1) == 0;
    uint64_t cbl = 4 * c - 2 + (lower_closer ? 1 : 0), cb = 4 * c, cbr = 4 * c + 2;
    int32_t k = lower_closer ? cs_floor_log10_three_quarters_pow2(q) : cs_floor_log10_pow2(q);
    int32_t h = q + cs_floor_log2_pow10(-k) + 1; /* 1..4 */
    const uint64_t *g = cs_pow10_g[-k - CS_POW10_E_MIN];
    uint64_t vbl = cs_round_to_odd(g, cbl << h);
    uint64_t vb = cs_round_to_odd(g, cb << h);
    uint64_t vbr = cs_round_to_odd(g, cbr << h);
    /* The interval's ends belong to it when c is even (round half to even). */
    uint64_t lower = vbl + (even ? 0 : 1), upper = vbr - (even ? 0 : 1);
    uint64_t s = vb / 4;
    if (s >= 10) {
        /* One digit fewer: the multiple of 10^(k+1) in the interval, if any. */
        uint64_t sp = s / 10;
        bool up_inside = lower <= 40 * sp, wp_inside = 40 * sp + 40 <= upper;
        if (up_inside != wp_inside) {
            *digits = sp + wp_inside;
            *exp10 = k + 1;
            return;
        }
    }
    bool u_inside = lower <= 4 * s, w_inside = 4 * s + 4 <= upper;
    if (u_inside != w_inside) {
        *digits = s + w_inside;
        *exp10 = k;
        return;
    }
    /* Both in the interval: the closer one, the even one on a tie. */
    uint64_t mid = 4 * s + 2;
    bool up = vb > mid || (vb == mid && (s & 1) != 0);
    *digits = s + up;
    *exp10 = k;
}

int cs_fmt_shortest(char *buf, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    char *p = buf;
    if (bits >> 63)
        *p++ = '-';
    uint64_t fraction = bits & (((uint64_t)1 << 52) - 1);
    uint32_t biased = (uint32_t)(bits >> 52) & 0x7ff;
    if (biased == 0x7ff) {
        buf[0] = '\0';
        return -1;
    }
    uint64_t digits;
    int32_t exp10;
    if (biased == 0) {
        if (fraction == 0) {
            *p++ = '0';
            *p = '\0';
            return (int)(p - buf);
        }
        cs_shortest_decimal(fraction, -1074, false, &digits, &exp10);
    } else {
        uint64_t c = fraction | ((uint64_t)1 << 52);
        int32_t q = (int32_t)biased - 1075;
        if (q <= 0 && q > -53 && (c & (((uint64_t)1 << -q) - 1)) == 0) {
            /* An integer below 2^53: its digits as they are. */
            digits = c >> -q;
            exp10 = 0;
        } else {
            cs_shortest_decimal(c, q, fraction == 0 && biased > 1, &digits, &exp10);
        }
    }
    /* Trailing zeros off (integers keep them as an exponent). */
    while (digits >= 10 && digits % 10 == 0) {
        digits /= 10;
        exp10++;
    }
    /* The digits (at most 17), written from the end two at a time. */
    static const char pairs[] =
        "00010203040506070809101112131415161718192021222324252627282930313233"
        "34353637383940414243444546474849505152535455565758596061626364656667"
        "6869707172737475767778798081828384858687888990919293949596979899";
    char dbuf[24], *d = dbuf + sizeof dbuf;
    uint64_t x = digits;
    while (x >= 100) {
        d -= 2;
        memcpy(d, pairs + 2 * (x % 100), 2);
        x /= 100;
    }
    if (x >= 10) {
        d -= 2;
        memcpy(d, pairs + 2 * x, 2);
    } else {
        *--d = (char)('0' + x);
    }
    int n = (int)(dbuf + sizeof dbuf - d);
    /* Where the point goes: v = 0.d[0..n) 10^point. Notation as JavaScript's
     * Number.prototype.toString (ECMA-262, Number::toString): plain decimals
     * for 1e-7 < |v| < 1e21, else d.ddde+x. */
    int point = n + exp10;
    if (exp10 >= 0 && point <= 21) {
        memcpy(p, d, (size_t)n);
        p += n;
        memset(p, '0', (size_t)exp10);
        p += exp10;
    } else if (point > 0 && point <= 21) {
        memcpy(p, d, (size_t)point);
        p += point;
        *p++ = '.';
        memcpy(p, d + point, (size_t)(n - point));
        p += n - point;
    } else if (point > -6 && point <= 0) {
        *p++ = '0';
        *p++ = '.';
        memset(p, '0', (size_t)-point);
        p += -point;
        memcpy(p, d, (size_t)n);
        p += n;
    } else {
        *p++ = d[0];
        if (n > 1) {
            *p++ = '.';
            memcpy(p, d + 1, (size_t)(n - 1));
            p += n - 1;
        }
        int e = point - 1;
        *p++ = 'e';
        *p++ = e < 0 ? '-' : '+';
        if (e < 0)
            e = -e;
        if (e >= 100)
            *p++ = (char)('0' + e / 100);
        if (e >= 10)
            *p++ = (char)('0' + e / 10 % 10);
        *p++ = (char)('0' + e % 10);
    }
    *p = '\0';
    return (int)(p - buf);
}
