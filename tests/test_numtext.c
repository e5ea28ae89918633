/*
 * cs_fmt_shortest (numtext.c): the shortest text of a double that reads
 * back exactly, as the snapshot's JSON writes its numbers. Checked against
 * the C library: strtod() must give back the very same double (bit for bit,
 * -0 included) for every class of finite double, the text must be a JSON
 * number, and no text with fewer significant digits may read back to the
 * same double (the C library's "%.*e" at each precision, correctly rounded,
 * is the reference). Plus a fixed list of edge cases with their exact text.
 */
#include "custscore.h"
#include "internal.h"
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* xorshift64: reproducible bit patterns. */
static uint64_t next_bits(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

static double from_bits(uint64_t bits)
{
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* A JSON number (RFC 8259, section 6): -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool is_json_number(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9')
            s++;
    else
        return false;
    if (*s == '.') {
        s++;
        if (!(*s >= '0' && *s <= '9'))
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!(*s >= '0' && *s <= '9'))
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

/* Significant digits of a decimal text (leading and trailing zeros of the
 * digit string left out). */
static int significant_digits(const char *s)
{
    char digits[64];
    int n = 0;
    for (; *s && *s != 'e' && *s != 'E'; s++)
        if (*s >= '0' && *s <= '9' && (n > 0 || *s != '0') && n < 63)
            digits[n++] = *s;
    while (n > 0 && digits[n - 1] == '0')
        n--;
    return n ? n : 1;
}

/* The fewest significant digits that read back as @v: for each precision p
 * the correctly rounded p-digit decimal and its two p-digit neighbours (the
 * rounding interval of a power of two is lopsided: the nearest p-digit
 * decimal may fall outside it while the next one up is inside). */
static int fewest_digits(double v)
{
    if (v == 0.0)
        return 1;
    char buf[64];
    for (int p = 1; p < 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, fabs(v));
        /* d.ddde[+-]x -> the digits as an integer and the exponent */
        long long digits = 0;
        const char *s = buf;
        for (; *s != 'e'; s++)
            if (*s != '.')
                digits = digits * 10 + (*s - '0');
        int exp10 = atoi(s + 1) - (p - 1);
        for (int delta = -1; delta <= 1; delta++) {
            char text[64];
            snprintf(text, sizeof text, "%llde%d", digits + delta, exp10);
            if (digits + delta > 0 && strtod(text, NULL) == fabs(v))
                return p;
        }
    }
    return 17;
}

/* Format @v, read it back, check it; @shortest: check minimality too. */
static void check_one(double v, bool shortest)
{
    char buf[40];
    memset(buf, 'x', sizeof buf);
    int n = cs_fmt_shortest(buf, v);
    ck_assert_msg(n > 0 && (size_t)n == strlen(buf) && n < 32, "%a: length %d", v, n);
    ck_assert_msg(is_json_number(buf), "%a: '%s' is not a JSON number", v, buf);
    char *end = NULL;
    double back = strtod(buf, &end);
    ck_assert_msg(*end == '\0' && memcmp(&back, &v, sizeof v) == 0,
                  "%a (%.17g): '%s' reads back as %a", v, v, buf, back);
    if (shortest)
        ck_assert_msg(significant_digits(buf) == fewest_digits(v),
                      "%.17g: '%s' has %d digits, %d suffice", v, buf, significant_digits(buf),
                      fewest_digits(v));
}

START_TEST(test_edge_cases)
{
    static const struct {
        double v;
        const char *text;
    } cases[] = {
        {0.0, "0"},
        {-0.0, "-0"},
        {1.0, "1"},
        {-1.5, "-1.5"},
        {0.1, "0.1"},
        {0.3, "0.3"},
        {1.0 / 3, "0.3333333333333333"},
        {2.0 / 3, "0.6666666666666666"},
        {45.36, "45.36"},
        {37.2, "37.2"},
        {100.0, "100"},
        {1e15, "1000000000000000"},
        {9007199254740992.0, "9007199254740992"},   /* 2^53 */
        {9007199254740994.0, "9007199254740994"},   /* 2^53 + 2 */
        {18014398509481984.0, "18014398509481984"}, /* 2^54 */
        {123456789012345678901.0, "123456789012345680000"},
        {1e21, "1e+21"},
        {1e22, "1e+22"},
        {1e23, "1e+23"},
        {0.000001, "0.000001"},
        {0.0000015, "0.0000015"},
        {1e-7, "1e-7"},
        {-1.25e-7, "-1.25e-7"},
        {5e-324, "5e-324"}, /* the least subnormal */
        {-5e-324, "-5e-324"},
        {2.2250738585072009e-308, "2.225073858507201e-308"},  /* the greatest subnormal */
        {2.2250738585072014e-308, "2.2250738585072014e-308"}, /* DBL_MIN */
        {1.7976931348623157e308, "1.7976931348623157e+308"},  /* DBL_MAX */
        {4.35, "4.35"},
        {0.1 + 0.2, "0.30000000000000004"},
        {5e-310, "5e-310"},
        {1.5e300, "1.5e+300"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[40];
        int n = cs_fmt_shortest(buf, cases[i].v);
        ck_assert_msg(n == (int)strlen(cases[i].text) && strcmp(buf, cases[i].text) == 0,
                      "case %zu: %a as '%s', expected '%s'", i, cases[i].v, buf, cases[i].text);
        check_one(cases[i].v, true);
    }
    char buf[40];
    ck_assert_int_eq(cs_fmt_shortest(buf, NAN), -1);
    ck_assert_int_eq(cs_fmt_shortest(buf, INFINITY), -1);
    ck_assert_int_eq(cs_fmt_shortest(buf, -INFINITY), -1);
}
END_TEST

/* Powers of ten and of two over the whole range, with their neighbours:
 * where the rounding interval is lopsided and the tables' ends are. */
START_TEST(test_powers_and_neighbours)
{
    for (int e = -325; e <= 308; e++) {
        char text[32];
        snprintf(text, sizeof text, "1e%d", e);
        double p = strtod(text, NULL);
        if (p == 0.0)
            continue;
        check_one(p, true);
        check_one(nextafter(p, 0.0), true);
        check_one(nextafter(p, INFINITY), true);
        check_one(-p, true);
    }
    for (int e = -1074; e <= 1023; e++) {
        double p = ldexp(1.0, e);
        check_one(p, true);
        check_one(nextafter(p, 0.0), true);
        if (e < 1023)
            check_one(nextafter(p, INFINITY), true);
    }
    check_one(DBL_MAX, true);
    check_one(DBL_MIN, true);
    check_one(DBL_TRUE_MIN, true);
}
END_TEST

/* Random bit patterns of every class: all finite doubles, subnormals,
 * integers, numbers of money (two decimals), values in 0..1. */
START_TEST(test_random_round_trip)
{
    size_t n = tu_under_valgrind() ? 20000 : 2000000;
    uint64_t state = UINT64_C(0x9e3779b97f4a7c15);
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t bits = next_bits(&state);
        double v;
        switch (i % 5) {
        case 0: /* any bit pattern */
            v = from_bits(bits);
            break;
        case 1: /* subnormal (or zero) */
            v = from_bits(bits & ~(UINT64_C(0x7ff) << 52));
            break;
        case 2: /* an integer of up to 64 bits */
            v = (double)(int64_t)(bits >> (next_bits(&state) % 64));
            break;
        case 3: /* money: cents */
            v = (double)(int64_t)(bits % UINT64_C(100000000000)) / 100.0;
            break;
        default: /* a probability */
            v = (double)(bits >> 11) / 9007199254740992.0;
            break;
        }
        if (!isfinite(v))
            continue;
        /* Minimality costs up to 17 printf calls: every 8th value. */
        check_one(v, i % 8 == 0);
        checked++;
    }
    ck_assert_uint_gt(checked, n * 9 / 10);
}
END_TEST

static Suite *numtext_suite(void)
{
    Suite *s = suite_create("numtext");
    TCase *tc = tcase_create("shortest");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_edge_cases);
    tcase_add_test(tc, test_powers_and_neighbours);
    tcase_add_test(tc, test_random_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(numtext_suite());
}
