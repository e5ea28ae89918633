#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *tu_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

char *tu_shared_path(const char *relative)
{
    const char *root = getenv("CUSTSCORE_SHARED_DATA");
    if (!root)
        root = "../shared/data";
    char *p = tu_join(root, relative);
    if (access(p, R_OK) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

char *tu_data_path(const char *relative)
{
    const char *root = getenv("CUSTSCORE_TEST_DATA");
    if (!root)
        root = "tests/data";
    return tu_join(root, relative);
}

char *tu_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    if (!base)
        base = "/tmp";
    char *tmpl = tu_join(base, "custscore-test-XXXXXX");
    if (!mkdtemp(tmpl)) {
        free(tmpl);
        return NULL;
    }
    return tmpl;
}

int tu_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

char *tu_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    fclose(f);
    buf[len] = '\0';
    if (size)
        *size = len;
    return buf;
}

void tu_rmtree(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *child = tu_join(path, e->d_name);
        struct stat st;
        if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
            tu_rmtree(child);
        else
            unlink(child);
        free(child);
    }
    closedir(d);
    rmdir(path);
}

void tu_skip(const char *what)
{
    fprintf(stderr, "SKIP: %s\n", what);
}

int tu_under_valgrind(void)
{
    return getenv("CUSTSCORE_VALGRIND") != NULL;
}

int tu_run(Suite *suite)
{
    SRunner *sr = srunner_create(suite);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
