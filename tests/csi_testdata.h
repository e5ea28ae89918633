/*
 * csi_testdata.h: reading the ECSI data and reference CSV files of
 * ../shared/data/ecsi (R write.csv output: quoted header, optional row-name
 * first column, numbers, NA) for test_pls.c and test_csi.c. Header-only.
 */
#ifndef CUSTSCORE_CSI_TESTDATA_H
#define CUSTSCORE_CSI_TESTDATA_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct td_table {
    size_t rows, cols; /* data rows; columns including a row-name column */
    char **head;       /* [cols] */
    char **cell;       /* [rows * cols] */
} td_table;

/* Next field of a CSV line at *p (quotes with "" escapes); NUL-terminated in place. */
static inline char *td_field(char **p, int *end_of_line)
{
    char *s = *p, *out = s, *d = s;
    *end_of_line = 0;
    if (*s == '"') {
        s++;
        for (;;) {
            if (*s == '\0')
                break;
            if (*s == '"') {
                if (s[1] == '"') {
                    *d++ = '"';
                    s += 2;
                    continue;
                }
                s++;
                break;
            }
            *d++ = *s++;
        }
    } else {
        while (*s && *s != ',' && *s != '\n' && *s != '\r')
            *d++ = *s++;
    }
    if (*s == ',') {
        s++;
    } else {
        *end_of_line = 1;
        while (*s == '\r' || *s == '\n')
            s++;
    }
    *d = '\0';
    *p = s;
    return out;
}

static inline void td_free(td_table *t)
{
    for (size_t i = 0; i < t->cols; i++)
        free(t->head[i]);
    for (size_t i = 0; i < t->rows * t->cols; i++)
        free(t->cell[i]);
    free(t->head);
    free(t->cell);
    memset(t, 0, sizeof *t);
}

/* Read @path; returns 0, or -1 when it cannot be read. */
static inline int td_read(const char *path, td_table *t)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    char *p = buf;
    int eol = 0;
    size_t cap = 8;
    t->head = malloc(cap * sizeof(char *));
    while (!eol && *p) {
        if (t->cols == cap)
            t->head = realloc(t->head, (cap *= 2) * sizeof(char *));
        t->head[t->cols++] = strdup(td_field(&p, &eol));
    }
    size_t ccap = 1024, nc = 0;
    t->cell = malloc(ccap * sizeof(char *));
    while (*p) {
        for (size_t j = 0; j < t->cols; j++) {
            if (nc == ccap)
                t->cell = realloc(t->cell, (ccap *= 2) * sizeof(char *));
            t->cell[nc++] = strdup(td_field(&p, &eol));
        }
        t->rows++;
    }
    free(buf);
    return 0;
}

static inline int td_col(const td_table *t, const char *name)
{
    for (size_t j = 0; j < t->cols; j++)
        if (strcmp(t->head[j], name) == 0)
            return (int)j;
    return -1;
}

/* Row whose first cell is @name, or -1. */
static inline int td_row(const td_table *t, const char *name)
{
    for (size_t r = 0; r < t->rows; r++)
        if (strcmp(t->cell[r * t->cols], name) == 0)
            return (int)r;
    return -1;
}

static inline double td_num(const td_table *t, size_t r, size_t c)
{
    const char *s = t->cell[r * t->cols + c];
    if (!*s || strcmp(s, "NA") == 0)
        return NAN;
    if (strcmp(s, "TRUE") == 0)
        return 1;
    if (strcmp(s, "FALSE") == 0)
        return 0;
    return strtod(s, NULL);
}

/* Value at row name @row, column name @col; NaN when either is missing. */
static inline double td_get(const td_table *t, const char *row, const char *col)
{
    int r = td_row(t, row), c = td_col(t, col);
    return r < 0 || c < 0 ? NAN : td_num(t, (size_t)r, (size_t)c);
}

/* The whole table as a numeric matrix (all columns; row-major, malloc'ed). */
static inline double *td_matrix(const td_table *t)
{
    double *m = malloc(t->rows * t->cols * sizeof(double));
    for (size_t r = 0; r < t->rows; r++)
        for (size_t c = 0; c < t->cols; c++)
            m[r * t->cols + c] = td_num(t, r, c);
    return m;
}

#endif
