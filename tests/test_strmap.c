/*
 * The string map (src/strmap.c) that imports use for customer keys and the
 * models for names: every key inserted is found at its entry, every key
 * not inserted is not, whatever the keys share. Slots keep the first 8
 * bytes and the length (below 255) of a key, so the keys here share heads,
 * differ only in length or in a trailing zero byte, and run past 255 bytes.
 */
#include "internal.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Key number i: a few families that collide in the slot's head or tag. */
static size_t make_key(size_t i, char *buf)
{
    switch (i % 6) {
    case 0: /* short, distinct */
        return (size_t)snprintf(buf, 64, "C%zu", i);
    case 1: /* 8-byte head shared by all, difference after it */
        return (size_t)snprintf(buf, 64, "CUSTOMER%zu", i);
    case 2: { /* bytes including zeros: head zero padding must not confuse */
        size_t len = 1 + i % 8;
        memset(buf, 0, len);
        buf[0] = (char)('a' + i % 7);
        if (len > 3)
            buf[2] = (char)(i / 6 % 200 + 1);
        return len;
    }
    case 3: { /* long keys, lengths around the 255 the tag can hold */
        size_t len = 250 + i % 20;
        memset(buf, 'x', len);
        snprintf(buf, 32, "%zu", i);
        buf[strlen(buf)] = 'x';
        return len;
    }
    case 4: /* exactly 8 bytes */
        return (size_t)snprintf(buf, 64, "%08zu", i % 100000000);
    default: /* the empty key once, else 9 bytes */
        if (i == 5)
            return 0;
        return (size_t)snprintf(buf, 64, "%09zu", i);
    }
}

START_TEST(test_keys_found_at_their_entries)
{
    enum { N = 60000 };
    cs_strmap m;
    cs_strmap_init(&m);
    char buf[300];
    /* The family with zeros repeats keys: the first insert wins. */
    ptrdiff_t *first = malloc(N * sizeof *first);
    size_t distinct = 0;
    for (size_t i = 0; i < N; i++) {
        size_t len = make_key(i, buf);
        bool inserted;
        ptrdiff_t e = cs_strmap_put(&m, buf, len, &inserted);
        ck_assert_int_ge(e, 0);
        if (inserted) {
            ck_assert_uint_eq((size_t)e, distinct);
            distinct++;
        }
        first[i] = e;
        ck_assert_uint_eq(m.key_len[e], len);
        ck_assert_int_eq(memcmp(cs_strmap_key(&m, (size_t)e), buf, len), 0);
    }
    ck_assert_uint_eq(m.count, distinct);
    for (size_t i = 0; i < N; i++) {
        size_t len = make_key(i, buf);
        ck_assert_int_eq(cs_strmap_find(&m, buf, len), first[i]);
        /* One byte more or less is another key, not in the map unless it
         * is itself one of the keys (checked by brute force). */
        buf[len] = 0;
        ptrdiff_t longer = cs_strmap_find(&m, buf, len + 1);
        if (longer >= 0) {
            ck_assert_uint_eq(m.key_len[longer], len + 1);
            ck_assert_int_eq(memcmp(cs_strmap_key(&m, (size_t)longer), buf, len + 1), 0);
        }
        if (len > 0) {
            ptrdiff_t shorter = cs_strmap_find(&m, buf, len - 1);
            if (shorter >= 0) {
                ck_assert_uint_eq(m.key_len[shorter], len - 1);
                ck_assert_int_eq(memcmp(cs_strmap_key(&m, (size_t)shorter), buf, len - 1), 0);
            }
        }
    }
    /* Keys never inserted. */
    ck_assert_int_eq(cs_strmap_find(&m, "CUSTOMER", 8), -1);
    ck_assert_int_eq(cs_strmap_find(&m, "CUSTOMERX", 9), -1);
    ck_assert_int_eq(cs_strmap_find(&m, "\0\0\0\0\0\0\0\0\0", 9), -1);
    free(first);
    cs_strmap_free(&m);
}
END_TEST

START_TEST(test_reserve_then_put)
{
    cs_strmap m;
    cs_strmap_init(&m);
    bool inserted;
    ck_assert_int_eq(cs_strmap_put(&m, "A", 1, &inserted), 0);
    ck_assert(cs_strmap_reserve(&m, 5000, 5000 * 12));
    ck_assert_uint_ge(m.cap * 3, 5000 * 4);
    char buf[64];
    for (size_t i = 0; i < 5000; i++) {
        size_t len = (size_t)snprintf(buf, sizeof buf, "K%zu", i);
        ck_assert_int_eq(cs_strmap_put(&m, buf, len, &inserted), (ptrdiff_t)(i + 1));
        ck_assert(inserted);
    }
    ck_assert_int_eq(cs_strmap_find(&m, "A", 1), 0);
    ck_assert_int_eq(cs_strmap_find(&m, "K4999", 5), 5000);
    ck_assert_int_eq(cs_strmap_find(&m, "K5000", 5), -1);
    cs_strmap_free(&m);
    /* An empty map finds nothing. */
    cs_strmap_init(&m);
    ck_assert_int_eq(cs_strmap_find(&m, "A", 1), -1);
    cs_strmap_free(&m);
}
END_TEST

static Suite *strmap_suite(void)
{
    Suite *s = suite_create("strmap");
    TCase *tc = tcase_create("strmap");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_keys_found_at_their_entries);
    tcase_add_test(tc, test_reserve_then_put);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(strmap_suite());
}
