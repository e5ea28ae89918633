/* Helpers shared by the Check suites. */
#ifndef CUSTSCORE_TESTUTIL_H
#define CUSTSCORE_TESTUTIL_H

#include <check.h>
#include <stddef.h>

/* Path of a file in ../shared/data (CUSTSCORE_SHARED_DATA), or NULL when the
 * data set is absent: the caller then skips with tu_skip(). The string is
 * malloc'ed; free it. */
char *tu_shared_path(const char *relative);
/* Path of a file in tests/data (CUSTSCORE_TEST_DATA); malloc'ed. */
char *tu_data_path(const char *relative);
/* A fresh empty directory under TMPDIR for this test; malloc'ed. */
char *tu_tmpdir(void);
/* Join two path parts; malloc'ed. */
char *tu_join(const char *dir, const char *name);
/* Write @text to @path; returns 0 or -1. */
int tu_write_file(const char *path, const char *text);
/* Read a whole file (NUL-terminated); malloc'ed or NULL. */
char *tu_read_file(const char *path, size_t *size);
/* Remove a directory tree (best effort). */
void tu_rmtree(const char *path);
/* Print a skip message for the current test (Check has no skip status). */
void tu_skip(const char *what);
/* Nonzero when running under valgrind (CUSTSCORE_VALGRIND set): heavy
 * parity tests on large data sets may shrink. */
int tu_under_valgrind(void);
/* Run one suite; returns the process exit status. */
int tu_run(Suite *suite);

#endif
