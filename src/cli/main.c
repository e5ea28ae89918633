/*
 * main.c: `custscore [--db PATH] [--json] [--quiet] COMMAND ...`
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct cli_command {
    const char *name;
    int (*run)(cli *c, int argc, char **argv);
    const char *summary;
} cli_command;

static const cli_command commands[] = {
    {"init", cmd_init, "create (or migrate) the store"},
    {"import", cmd_import, "import orders|customers|responses|complaints from CSV"},
    {"summary", cmd_summary, "per-customer summary (x, t_x, T, revenue, ...) as of a date"},
    {"demo", cmd_demo, "build a store from bundled sample data and show what custscore does"},
    {"retention", cmd_retention, "cohort retention and loyalty indicators (--by month)"},
    {"value", cmd_value, "RFM scores, segments, profit, tiers, lifecycle; --whale curve"},
    {"score", cmd_score, "score every customer and save the snapshot for the as-of date"},
    {"show", cmd_show, "one customer's full card from the latest snapshot"},
    {"changes", cmd_changes, "customers who moved tier, segment or risk band since a date"},
    {"churn", cmd_churn, "churn risk: train (window or --label), score, card"},
    {"fit", cmd_fit, "fit a lifetime-value model (bgnbd|mbgnbd|pnbd|gg); --holdout-end"},
    {"clv", cmd_clv, "discounted customer lifetime value with an interval"},
    {"report", cmd_report, "self-contained HTML report for managers (charts, top customers)"},
    {"csi", cmd_csi, "satisfaction index 0-100, NPS, importance-performance (--by quarter)"},
    {"servqual", cmd_servqual, "SERVQUAL gaps per item, dimension and overall"},
    {"kano", cmd_kano, "Kano categories and better/worse coefficients per feature"},
    /* @@CLI_COMMANDS@@ */
};

static void usage(FILE *f)
{
    fprintf(f, "usage: custscore [--db PATH] [--json] [--quiet] COMMAND [ARGS]\n\n"
               "The store is PATH, else $CUSTSCORE_DB, else ./custscore.db.\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n`custscore COMMAND --help` for a command's options; `man custscore`.\n"
               "exit status: 0 ok, 1 usage, 2 bad input, 3 busy, 4 I/O, 5 corrupt store,\n"
               "6 no fitted model, 7 no convergence, 9 internal error\n");
}

int main(int argc, char **argv)
{
    cli c = {0};
    c.db_path = getenv("CUSTSCORE_DB");
    if (!c.db_path || !*c.db_path)
        c.db_path = "custscore.db";
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--db") == 0) {
            if (i + 1 >= argc)
                return cli_usage("--db needs a path");
            c.db_path = argv[++i];
        } else if (strncmp(a, "--db=", 5) == 0) {
            c.db_path = a + 5;
        } else if (strcmp(a, "--json") == 0) {
            c.json = true;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            c.quiet = true;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(a, "--version") == 0) {
            printf("custscore %s\n", custscore_version());
            return CLI_EXIT_OK;
        } else if (a[0] == '-') {
            return cli_usage("unknown option '%s' (see custscore --help)", a);
        } else {
            break;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    c.progress = !c.quiet && isatty(STDERR_FILENO);
    int status = CLI_EXIT_USAGE;
    bool found = false;
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++) {
        if (strcmp(argv[i], commands[k].name) == 0) {
            found = true;
            status = commands[k].run(&c, argc - i, argv + i);
            break;
        }
    }
    if (!found)
        status = cli_usage("unknown command '%s' (see custscore --help)", argv[i]);
    int rc = custscore_close(c.db);
    if (rc && status == CLI_EXIT_OK)
        status = cli_exit_for(rc);
    return status;
}
