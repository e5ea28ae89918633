/* Date parsing and formatting. */
#include "internal.h"
#include "testutil.h"

#include <string.h>

static int64_t parse_ok(const char *text, const char *format)
{
    int64_t t = 0;
    int rc = custscore_parse_time(text, format, &t);
    ck_assert_msg(rc == 0, "'%s' should parse (rc %d)", text, rc);
    return t;
}

static void parse_bad(const char *text, const char *format)
{
    int64_t t = 0;
    ck_assert_msg(custscore_parse_time(text, format, &t) == CUSTSCORE_EINVAL,
                  "'%s' should be rejected", text);
}

START_TEST(test_iso)
{
    ck_assert_int_eq(parse_ok("1970-01-01", NULL), 0);
    ck_assert_int_eq(parse_ok("1997-09-30", NULL), 875577600);
    ck_assert_int_eq(parse_ok("1997-09-30T00:00:00Z", NULL), 875577600);
    ck_assert_int_eq(parse_ok("2010-12-01 08:26:00", NULL), 1291191960);
    ck_assert_int_eq(parse_ok("2010-12-01T08:26", NULL), 1291191960);
    ck_assert_int_eq(parse_ok("2010-12-01T09:26:00+01:00", NULL), 1291191960);
    ck_assert_int_eq(parse_ok("2010-12-01T03:26:00-0500", NULL), 1291191960);
    ck_assert_int_eq(parse_ok("2010-12-01T08:26:00.123Z", NULL), 1291191960);
    ck_assert_int_eq(parse_ok("  2000-02-29  ", NULL), 951782400);
    ck_assert_int_eq(parse_ok("1969-12-31T23:59:59Z", NULL), -1);
}
END_TEST

START_TEST(test_compact_and_epoch)
{
    ck_assert_int_eq(parse_ok("19970930", NULL), 875577600);
    ck_assert_int_eq(parse_ok("875577600", NULL), 875577600);
    ck_assert_int_eq(parse_ok("@0", NULL), 0);
    ck_assert_int_eq(parse_ok("@-86400", NULL), -86400);
    ck_assert_int_eq(parse_ok("1700000000", NULL), 1700000000);
}
END_TEST

START_TEST(test_bad_dates)
{
    parse_bad("", NULL);
    parse_bad("   ", NULL);
    parse_bad("2023-02-30", NULL);
    parse_bad("2023-02-29", NULL);
    parse_bad("1900-02-29", NULL);
    parse_bad("2023-13-01", NULL);
    parse_bad("2023-00-10", NULL);
    parse_bad("2023-01-32", NULL);
    parse_bad("2023-01-01T24:00", NULL);
    parse_bad("2023-01-01T12:60", NULL);
    parse_bad("2023-01-01T12:00:61", NULL);
    parse_bad("2023-01-01X", NULL);
    parse_bad("2023/01/01", NULL);
    parse_bad("20231301", NULL);
    parse_bad("1234567", NULL);
    parse_bad("yesterday", NULL);
    parse_bad("NaN", NULL);
    parse_bad("0000-01-01", NULL);
    parse_bad("99999999999999", NULL);
    parse_bad("2023-01-01T10:00+25:00", NULL);
}
END_TEST

START_TEST(test_format_strings)
{
    ck_assert_int_eq(parse_ok("30/09/1997", "%d/%m/%Y"), 875577600);
    ck_assert_int_eq(parse_ok("09/30/97 13:05", "%m/%d/%y %H:%M"), 875577600 + 13 * 3600 + 300);
    ck_assert_int_eq(parse_ok("30 Sep 1997", "%d %b %Y"), 875577600);
    ck_assert_int_eq(parse_ok("30 September 1997", "%d %b %Y"), 875577600);
    ck_assert_int_eq(parse_ok("1997-273", "%Y-%j"), 875577600);
    ck_assert_int_eq(parse_ok("100%1997", "100%%%Y"), parse_ok("1997-01-01", NULL));
    parse_bad("31/02/1997", "%d/%m/%Y");
    parse_bad("1997-09-30", "%d/%m/%Y");
    parse_bad("30/09/1997", "%d/%m/%Y %q");
    parse_bad("1997-367", "%Y-%j");
}
END_TEST

START_TEST(test_format_time)
{
    char buf[32];
    ck_assert_int_eq(custscore_format_time(875577600, 0, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "1997-09-30");
    ck_assert_int_eq(custscore_format_time(1291191960, 0, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "2010-12-01T08:26:00Z");
    ck_assert_int_eq(custscore_format_time(1291191960, 1, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "2010-12-01");
    ck_assert_int_eq(custscore_format_time(-1, 0, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "1969-12-31T23:59:59Z");
    ck_assert_int_eq(custscore_format_time(0, 0, buf, 5), CUSTSCORE_ERANGE);
    ck_assert_int_eq(custscore_format_time(INT64_C(400000000000), 0, buf, sizeof buf),
                     CUSTSCORE_ERANGE);
}
END_TEST

START_TEST(test_civil_roundtrip)
{
    /* Every day from 1600 to 2400 round-trips (1900-2100 under valgrind). */
    bool slow = tu_under_valgrind();
    int64_t start = cs_days_from_civil(slow ? 1900 : 1600, 1, 1),
            end = cs_days_from_civil(slow ? 2100 : 2400, 12, 31);
    for (int64_t z = start; z <= end; z++) {
        int64_t y;
        unsigned m, d;
        cs_civil_from_days(z, &y, &m, &d);
        ck_assert_int_eq(cs_days_from_civil(y, m, d), z);
    }
    ck_assert_int_eq(cs_day_of(-1), -1);
    ck_assert_int_eq(cs_day_of(0), 0);
    ck_assert_int_eq(cs_day_of(86399), 0);
    ck_assert_int_eq(cs_day_of(-86400), -1);
    ck_assert_int_eq(cs_day_of(-86401), -2);
}
END_TEST

static Suite *datetime_suite(void)
{
    Suite *s = suite_create("datetime");
    TCase *tc = tcase_create("datetime");
    tcase_add_test(tc, test_iso);
    tcase_add_test(tc, test_compact_and_epoch);
    tcase_add_test(tc, test_bad_dates);
    tcase_add_test(tc, test_format_strings);
    tcase_add_test(tc, test_format_time);
    tcase_add_test(tc, test_civil_roundtrip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(datetime_suite());
}
