/*
 * cli.h: the custscore command-line program. It uses only the public API.
 *
 * Each command is a function `int cmd_NAME(cli *c, int argc, char **argv)`
 * returning an exit status (CLI_EXIT_*); argv[0] is the command name.
 * Commands parse their options with cli_opt_*() helpers, print results on
 * stdout (CSV via cli_csv_*, JSON via cli_json_*), and messages on stderr.
 */
#ifndef CUSTSCORE_CLI_H
#define CUSTSCORE_CLI_H

#include "custscore.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses: the contract of ARCHITECTURE.md section 5. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_USAGE = 1,
    CLI_EXIT_BAD_INPUT = 2,
    CLI_EXIT_BUSY = 3,
    CLI_EXIT_IO = 4,
    CLI_EXIT_CORRUPT = 5,
    CLI_EXIT_NO_MODEL = 6,
    CLI_EXIT_NO_CONVERGENCE = 7,
    CLI_EXIT_INTERNAL = 9
};

typedef struct cli {
    const char *db_path; /* --db, $CUSTSCORE_DB, or custscore.db */
    bool json;           /* --json given (global or per command) */
    bool quiet;          /* --quiet: no progress */
    bool progress;       /* stderr is a terminal and not quiet */
    custscore *db;       /* opened by cli_open_store() */
} cli;

/* Open the store (creating it when @create). Prints the error and returns an
 * exit status on failure. */
int cli_open_store(cli *c, bool create, bool readonly);
/* Map a library error code to an exit status. */
int cli_exit_for(int code);
/* Print "custscore: <what>: <errmsg>" for a failed library call and return
 * the exit status for @code. */
int cli_fail(cli *c, int code, const char *what);
/* Print a usage error and return CLI_EXIT_USAGE. */
int cli_usage(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* ---- option parsing: `--name value` or `--name=value` ----------------- */
typedef struct cli_args {
    int argc;
    char **argv;
    int i;             /* next argument */
    const char *value; /* value of the matched option */
    char *inline_value;
} cli_args;

void cli_args_init(cli_args *a, int argc, char **argv);
/* True when the current argument is the flag @name (no value). */
bool cli_flag(cli_args *a, const char *name);
/* True when the current argument is option @name with a value; a->value. */
bool cli_opt(cli_args *a, const char *name, int *status);
/* Positional argument (not starting with "--"); NULL if none. */
const char *cli_positional(cli_args *a);

/* ---- values ------------------------------------------------------------ */
/* Parse a date for --as-of etc.; prints a usage error on failure. */
bool cli_parse_date(const char *text, int64_t *out);
/* Parse a duration "90d", "12w", "12m", "1y" into a count and a unit. */
bool cli_parse_duration(const char *text, double *count, custscore_unit *unit);
bool cli_parse_unit(const char *text, custscore_unit *unit);
const char *cli_unit_name(custscore_unit unit);
bool cli_parse_double(const char *text, double *out);
/* The same without printing a usage error. */
bool cli_parse_double_quiet(const char *text, double *out);
bool cli_parse_int(const char *text, long *out);

/* ---- output --------------------------------------------------------------- */
/* Open --out FILE ("-" or NULL: stdout). */
FILE *cli_open_out(const char *path);
int cli_close_out(FILE *f, const char *path);
/* CSV field writers: quote when needed. */
void cli_csv_str(FILE *f, const char *s, bool last);
void cli_csv_num(FILE *f, double v, bool last);
void cli_csv_int(FILE *f, int64_t v, bool last);
void cli_csv_date(FILE *f, int64_t t, bool last);

/* A minimal streaming JSON writer (commas handled by a depth stack). */
typedef struct cli_json {
    FILE *f;
    int depth;
    bool first[32];
    bool pending_key;
} cli_json;
void cli_json_begin(cli_json *j, FILE *f);
void cli_json_obj(cli_json *j);
void cli_json_end_obj(cli_json *j);
void cli_json_arr(cli_json *j);
void cli_json_end_arr(cli_json *j);
void cli_json_key(cli_json *j, const char *key);
void cli_json_str(cli_json *j, const char *s);
void cli_json_num(cli_json *j, double v);
void cli_json_int(cli_json *j, int64_t v);
void cli_json_bool(cli_json *j, bool v);
void cli_json_null(cli_json *j);
void cli_json_date(cli_json *j, int64_t t);
void cli_json_finish(cli_json *j);

/* Progress line on a terminal: "\r<text>", cleared by cli_progress_done. */
void cli_progress(cli *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void cli_progress_done(cli *c);

/* ---- commands --------------------------------------------------------------- */
int cmd_init(cli *c, int argc, char **argv);
int cmd_import(cli *c, int argc, char **argv);
int cmd_summary(cli *c, int argc, char **argv);
int cmd_demo(cli *c, int argc, char **argv);
int cmd_retention(cli *c, int argc, char **argv);
int cmd_value(cli *c, int argc, char **argv);
int cmd_score(cli *c, int argc, char **argv);
int cmd_show(cli *c, int argc, char **argv);
int cmd_changes(cli *c, int argc, char **argv);
int cmd_churn(cli *c, int argc, char **argv);
int cmd_fit(cli *c, int argc, char **argv);
int cmd_clv(cli *c, int argc, char **argv);
int cmd_report(cli *c, int argc, char **argv);
/* The demo's pipeline after the import (demo_pipeline.c): models, scores, report. */
int demo_pipeline(cli *c, int64_t as_of);
int cmd_csi(cli *c, int argc, char **argv);
int cmd_servqual(cli *c, int argc, char **argv);
int cmd_kano(cli *c, int argc, char **argv);
/* @@CLI_COMMAND_DECLS@@ */

#endif
