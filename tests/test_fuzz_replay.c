/*
 * Replays the fuzz seed corpora (tests/fuzz/corpus/<target>/) and every
 * input a fuzzer once crashed on (tests/fuzz/regressions/<target>/) through
 * the same entry points libFuzzer drives (tests/fuzz/fuzz_targets.c), so a
 * fixed crash stays fixed in the ordinary suite, under valgrind too.
 */
#include "testutil.h"

#include "fuzz/fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*fuzz_entry)(const uint8_t *data, size_t size);

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run every file of @dir (sorted by name) through @entry; returns the count. */
static int replay_dir(const char *dir, fuzz_entry entry)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = realloc(names, cap * sizeof *names);
            ck_assert_ptr_nonnull(names);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; i < n; i++) {
        char *path = tu_join(dir, names[i]);
        size_t size = 0;
        char *data = tu_read_file(path, &size);
        ck_assert_msg(data != NULL, "cannot read %s", path);
        /* Shown only when the replay fails (meson prints the log then). */
        printf("replaying %s (%zu bytes)\n", path, size);
        fflush(stdout);
        entry((const uint8_t *)data, size);
        cs_fuzz_cleanup();
        free(data);
        free(path);
        free(names[i]);
    }
    free(names);
    return (int)n;
}

static int replay_target(const char *target, fuzz_entry entry)
{
    const char *root = getenv("CUSTSCORE_FUZZ_DIR");
    if (!root)
        root = "tests/fuzz";
    int total = 0;
    const char *kinds[] = {"corpus", "regressions"};
    for (int k = 0; k < 2; k++) {
        char sub[256];
        snprintf(sub, sizeof sub, "%s/%s", kinds[k], target);
        char *dir = tu_join(root, sub);
        total += replay_dir(dir, entry);
        free(dir);
    }
    return total;
}

START_TEST(test_replay_csv)
{
    ck_assert_int_gt(replay_target("csv", cs_fuzz_csv), 0);
}
END_TEST

START_TEST(test_replay_time)
{
    ck_assert_int_gt(replay_target("time", cs_fuzz_time), 0);
}
END_TEST

START_TEST(test_replay_api)
{
    ck_assert_int_gt(replay_target("api", cs_fuzz_api), 0);
}
END_TEST

START_TEST(test_replay_survey)
{
    if (!cs_fuzz_have_survey()) {
        tu_skip("the library has no survey-model parser yet");
        return;
    }
    ck_assert_int_gt(replay_target("survey", cs_fuzz_survey), 0);
}
END_TEST

/* Inputs of every shape reach the entry points without tripping them. */
START_TEST(test_trivial_inputs)
{
    const uint8_t zeros[64] = {0};
    for (size_t n = 0; n <= sizeof zeros; n++) {
        cs_fuzz_csv(zeros, n);
        cs_fuzz_time(zeros, n);
        cs_fuzz_api(zeros, n);
        cs_fuzz_survey(zeros, n);
    }
    cs_fuzz_cleanup();
}
END_TEST

static Suite *fuzz_replay_suite(void)
{
    Suite *s = suite_create("fuzz_replay");
    TCase *tc = tcase_create("replay");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_replay_csv);
    tcase_add_test(tc, test_replay_time);
    tcase_add_test(tc, test_replay_api);
    tcase_add_test(tc, test_replay_survey);
    tcase_add_test(tc, test_trivial_inputs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(fuzz_replay_suite());
}
