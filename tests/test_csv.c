/* The RFC 4180 reader and the number parser. */
#include "internal.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parsed {
    int n;   /* records */
    int bad; /* bad records */
    char cells[16][8][64];
    int nf[16];
    int64_t line[16];
    int bad_col[16];
    const char *why[16];
} parsed;

static void parse_all(const char *data, size_t size, char delim, bool ws, parsed *p)
{
    memset(p, 0, sizeof *p);
    cs_csv *r;
    char err[128];
    ck_assert_int_eq(cs_csv_open(&r, NULL, data, size, delim, ws, err, sizeof err), 0);
    cs_csv_record rec;
    int bad_col;
    const char *why;
    int rc;
    while ((rc = cs_csv_next(r, &rec, &bad_col, &why)) != 0) {
        ck_assert_int_ge(rc, 0);
        int k = p->n++;
        ck_assert_int_lt(k, 16);
        p->line[k] = rec.line;
        if (rc == CS_CSV_BAD_RECORD) {
            p->bad++;
            p->nf[k] = -1;
            p->bad_col[k] = bad_col;
            p->why[k] = why;
            continue;
        }
        p->nf[k] = (int)rec.nfields;
        for (size_t f = 0; f < rec.nfields && f < 8; f++) {
            ck_assert_uint_eq(strlen(rec.field[f]), rec.len[f]);
            snprintf(p->cells[k][f], 64, "%s", rec.field[f]);
        }
    }
    cs_csv_close(r);
}

#define PARSE(str, p) parse_all(str, sizeof(str) - 1, ',', false, p)

START_TEST(test_basic)
{
    parsed p;
    PARSE("a,b,c\n1,2,3\n", &p);
    ck_assert_int_eq(p.n, 2);
    ck_assert_int_eq(p.nf[0], 3);
    ck_assert_str_eq(p.cells[1][2], "3");
    ck_assert_int_eq(p.line[1], 2);
    /* No final newline, CRLF, empty fields. */
    PARSE("a,,c\r\n,x,\r\nlast,1,", &p);
    ck_assert_int_eq(p.n, 3);
    ck_assert_str_eq(p.cells[0][1], "");
    ck_assert_str_eq(p.cells[1][0], "");
    ck_assert_int_eq(p.nf[1], 3);
    ck_assert_str_eq(p.cells[1][2], "");
    ck_assert_str_eq(p.cells[2][0], "last");
    ck_assert_int_eq(p.nf[2], 3);
}
END_TEST

START_TEST(test_quotes)
{
    parsed p;
    PARSE("\"a,b\",\"say \"\"hi\"\"\",\"multi\nline\"\nnext,2,3\n", &p);
    ck_assert_int_eq(p.n, 2);
    ck_assert_str_eq(p.cells[0][0], "a,b");
    ck_assert_str_eq(p.cells[0][1], "say \"hi\"");
    ck_assert_str_eq(p.cells[0][2], "multi\nline");
    ck_assert_int_eq(p.line[0], 1);
    ck_assert_int_eq(p.line[1], 3); /* the embedded newline counts */
    /* Quote inside an unquoted field is literal. */
    PARSE("12\" vinyl,x\n", &p);
    ck_assert_str_eq(p.cells[0][0], "12\" vinyl");
    /* Empty quoted field. */
    PARSE("\"\",b\n", &p);
    ck_assert_int_eq(p.nf[0], 2);
    ck_assert_str_eq(p.cells[0][0], "");
}
END_TEST

START_TEST(test_bad_records)
{
    parsed p;
    PARSE("a,b\n\"open,x\n", &p);
    ck_assert_int_eq(p.n, 2);
    ck_assert_int_eq(p.bad, 1);
    ck_assert_int_eq(p.line[1], 2);
    ck_assert_ptr_nonnull(strstr(p.why[1], "unterminated"));
    PARSE("\"ab\"c,d\nok,1\n", &p);
    ck_assert_int_eq(p.n, 2);
    ck_assert_int_eq(p.nf[0], -1);
    ck_assert_int_eq(p.bad_col[0], 1);
    ck_assert_ptr_nonnull(strstr(p.why[0], "closing quote"));
    ck_assert_str_eq(p.cells[1][0], "ok"); /* resynchronised */
}
END_TEST

START_TEST(test_bom_blank_lines_delims)
{
    parsed p;
    PARSE("\xEF\xBB\xBFid,v\n\n1,2\n\r\n", &p);
    ck_assert_int_eq(p.n, 2);
    ck_assert_str_eq(p.cells[0][0], "id");
    ck_assert_int_eq(p.line[1], 3);
    parse_all("a;b;\"c;d\"\n", 10, ';', false, &p);
    ck_assert_int_eq(p.nf[0], 3);
    ck_assert_str_eq(p.cells[0][2], "c;d");
    parse_all("a\tb\n", 4, '\t', false, &p);
    ck_assert_int_eq(p.nf[0], 2);
    const char ws[] = " 00004 0001 19970101  2   29.33\r\n\t x  y \n\n   \n";
    parse_all(ws, sizeof ws - 1, 0, true, &p);
    ck_assert_int_eq(p.n, 2);
    ck_assert_int_eq(p.nf[0], 5);
    ck_assert_str_eq(p.cells[0][4], "29.33");
    ck_assert_int_eq(p.nf[1], 2);
    ck_assert_str_eq(p.cells[1][1], "y");
}
END_TEST

START_TEST(test_long_record)
{
    size_t n = CUSTSCORE_MAX_LINE + 100;
    char *data = malloc(n + 32);
    memset(data, 'x', n);
    memcpy(data + n, "\nok,1\n", 7);
    parsed p;
    parse_all(data, n + 6, ',', false, &p);
    ck_assert_int_eq(p.n, 2);
    ck_assert_int_eq(p.bad, 1);
    ck_assert_ptr_nonnull(strstr(p.why[0], "longer than"));
    ck_assert_str_eq(p.cells[1][0], "ok");
    ck_assert_int_eq(p.line[1], 2);
    free(data);
}
END_TEST

START_TEST(test_file_streaming)
{
    /* A file larger than the reader's buffer, with records across refills. */
    char *dir = tu_tmpdir();
    char *path = tu_join(dir, "big.csv");
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    int rows = tu_under_valgrind() ? 20000 : 200000;
    fputs("id,text,amount\n", f);
    for (int i = 0; i < rows; i++)
        fprintf(f, "%d,\"line %d, with \"\"quotes\"\"\nand a newline\",%d.5\r\n", i, i, i);
    fclose(f);
    cs_csv *r;
    char err[128];
    ck_assert_int_eq(cs_csv_open(&r, path, NULL, 0, ',', false, err, sizeof err), 0);
    cs_csv_record rec;
    int bad_col;
    const char *why;
    ck_assert_int_eq(cs_csv_next(r, &rec, &bad_col, &why), 1);
    for (int i = 0; i < rows; i++) {
        ck_assert_int_eq(cs_csv_next(r, &rec, &bad_col, &why), 1);
        ck_assert_int_eq(rec.nfields, 3);
        ck_assert_int_eq(atoi(rec.field[0]), i);
        ck_assert_int_eq(rec.line, 2 + 2 * (int64_t)i);
        char expect[64];
        snprintf(expect, sizeof expect, "line %d, with \"quotes\"\nand a newline", i);
        ck_assert_str_eq(rec.field[1], expect);
    }
    ck_assert_int_eq(cs_csv_next(r, &rec, &bad_col, &why), 0);
    ck_assert_int_eq(cs_csv_lines(r), 1 + 2 * (int64_t)rows);
    cs_csv_close(r);
    ck_assert_int_eq(cs_csv_open(&r, "/nonexistent/x.csv", NULL, 0, ',', false, err, sizeof err),
                     CUSTSCORE_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x.csv"));
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static double num_ok(const char *s)
{
    double v = 0;
    const char *why = NULL;
    ck_assert_msg(cs_parse_double(s, strlen(s), &v, &why) == 0, "'%s' should parse", s);
    return v;
}

static void num_bad(const char *s)
{
    double v = 0;
    const char *why = NULL;
    ck_assert_msg(cs_parse_double(s, strlen(s), &v, &why) == CUSTSCORE_EINVAL,
                  "'%s' should be rejected", s);
    ck_assert_ptr_nonnull(why);
}

START_TEST(test_numbers)
{
    ck_assert_double_eq(num_ok("29.33"), 29.33);
    ck_assert_double_eq(num_ok("-2.55"), -2.55);
    ck_assert_double_eq(num_ok("+7"), 7.0);
    ck_assert_double_eq(num_ok(" 1e3 "), 1000.0);
    ck_assert_double_eq(num_ok(".5"), 0.5);
    ck_assert_double_eq(num_ok("5."), 5.0);
    ck_assert_double_eq(num_ok("0.1"), 0.1);
    ck_assert_double_eq(num_ok("17850.0"), 17850.0);
    ck_assert_double_eq(num_ok("1.7976931348623157e308"), 1.7976931348623157e308);
    ck_assert_double_eq(num_ok("123456789012345678901234"), 123456789012345678901234.0);
    ck_assert_double_eq(num_ok("4.9e-324"), 4.9e-324);
    /* Exactly the value strtod gives for a spread of decimals. */
    char buf[64];
    for (int i = 0; i < 20000; i++) {
        snprintf(buf, sizeof buf, "%d.%02d", i * 7 - 5000, i % 100);
        ck_assert_double_eq(num_ok(buf), strtod(buf, NULL));
    }
    num_bad("");
    num_bad("NaN");
    num_bad("nan");
    num_bad("Inf");
    num_bad("-inf");
    num_bad("infinity");
    num_bad("1e999");
    num_bad("1,000");
    num_bad("12abc");
    num_bad("0x1A");
    num_bad(".");
    num_bad("-");
    num_bad("1e");
    num_bad("1.2.3");
}
END_TEST

static Suite *csv_suite(void)
{
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("csv");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_basic);
    tcase_add_test(tc, test_quotes);
    tcase_add_test(tc, test_bad_records);
    tcase_add_test(tc, test_bom_blank_lines_delims);
    tcase_add_test(tc, test_long_record);
    tcase_add_test(tc, test_file_streaming);
    tcase_add_test(tc, test_numbers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(csv_suite());
}
