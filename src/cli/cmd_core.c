/*
 * cmd_core.c: init, import, summary and demo.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_init(cli *c, int argc, char **argv)
{
    cli_args a;
    cli_args_init(&a, argc, argv);
    if (a.i < argc)
        return cli_usage("init takes no arguments (the store is --db PATH)");
    int status = cli_open_store(c, true, false);
    if (status)
        return status;
    if (c->json)
        printf("{\"store\":\"%s\",\"schema_version\":%d}\n", c->db_path, CUSTSCORE_SCHEMA_VERSION);
    else
        printf("store %s ready (schema version %d)\n", c->db_path, CUSTSCORE_SCHEMA_VERSION);
    return CLI_EXIT_OK;
}

static int print_reject(int64_t line, int column, const char *message, void *payload)
{
    (void)line;
    (void)column;
    (void)payload;
    fprintf(stderr, "custscore: rejected: %s\n", message);
    return 0;
}

static const char import_usage[] =
    "usage: custscore import orders|customers|responses|complaints FILE\n"
    "         [--map FIELD=COLUMN,...] [--delimiter C|tab|whitespace] [--no-header]\n"
    "         [--date-format FMT] [--skip-bad [--rejects FILE]] [--cancel-prefix P]\n"
    "         [--wide --customer COL [--date COL]] [--json]\n"
    "  order fields: customer, order, ts, revenue, quantity, price, cost\n"
    "  COLUMN is a header name or a 1-based position; FILE - reads stdin\n";

int cmd_import(cli *c, int argc, char **argv)
{
    cli_args a;
    cli_args_init(&a, argc, argv);
    custscore_import_options opt = CUSTSCORE_IMPORT_OPTIONS_INIT;
    const char *kind_name = NULL, *file = NULL;
    int status = 0;
    while (a.i < argc && status == 0) {
        if (cli_flag(&a, "--help")) {
            fputs(import_usage, stdout);
            return CLI_EXIT_OK;
        } else if (cli_opt(&a, "--map", &status)) {
            opt.map = a.value;
        } else if (cli_opt(&a, "--delimiter", &status)) {
            if (!a.value)
                break;
            if (strcmp(a.value, "tab") == 0 || strcmp(a.value, "\\t") == 0)
                opt.delimiter = '\t';
            else if (strcmp(a.value, "whitespace") == 0 || strcmp(a.value, "space") == 0)
                opt.whitespace = 1;
            else if (strlen(a.value) == 1)
                opt.delimiter = a.value[0];
            else
                status = cli_usage("--delimiter takes one character, tab or whitespace");
        } else if (cli_flag(&a, "--no-header")) {
            opt.no_header = 1;
        } else if (cli_opt(&a, "--date-format", &status)) {
            opt.date_format = a.value;
        } else if (cli_flag(&a, "--skip-bad")) {
            opt.skip_bad = 1;
        } else if (cli_opt(&a, "--rejects", &status)) {
            opt.rejects_path = a.value;
        } else if (cli_opt(&a, "--cancel-prefix", &status)) {
            opt.cancel_prefix = a.value;
        } else if (cli_flag(&a, "--wide")) {
            opt.wide = 1;
        } else if (cli_opt(&a, "--customer", &status)) {
            opt.customer_column = a.value;
        } else if (cli_opt(&a, "--date", &status)) {
            opt.date_column = a.value;
        } else if (cli_flag(&a, "--json")) {
            c->json = true;
        } else {
            const char *p = cli_positional(&a);
            if (!p)
                return cli_usage("import: unknown option '%s'\n%s", argv[a.i], import_usage);
            if (!kind_name)
                kind_name = p;
            else if (!file)
                file = p;
            else
                return cli_usage("import: unexpected argument '%s'", p);
        }
    }
    if (status)
        return status;
    if (!kind_name || !file)
        return cli_usage("import: give what and the file\n%s", import_usage);
    custscore_kind kind;
    if (strcmp(kind_name, "orders") == 0)
        kind = CUSTSCORE_KIND_ORDERS;
    else if (strcmp(kind_name, "customers") == 0)
        kind = CUSTSCORE_KIND_CUSTOMERS;
    else if (strcmp(kind_name, "responses") == 0)
        kind = CUSTSCORE_KIND_RESPONSES;
    else if (strcmp(kind_name, "complaints") == 0)
        kind = CUSTSCORE_KIND_COMPLAINTS;
    else
        return cli_usage("import: '%s' is not orders, customers, responses or complaints",
                         kind_name);
    if (opt.rejects_path && !opt.skip_bad)
        return cli_usage("import: --rejects needs --skip-bad");
    if (opt.skip_bad && !opt.rejects_path)
        opt.on_reject = print_reject;
    if ((opt.customer_column || opt.date_column) && !opt.wide)
        return cli_usage("import: --customer and --date are for --wide responses; "
                         "use --map for the long form");
    status = cli_open_store(c, true, false);
    if (status)
        return status;
    custscore_import_report report;
    cli_progress(c, "importing %s ...", file);
    int rc = custscore_import_csv(c->db, kind, file, &opt, &report);
    cli_progress_done(c);
    if (rc)
        return cli_fail(c, rc, "import");
    if (c->json) {
        cli_json j;
        cli_json_begin(&j, stdout);
        cli_json_obj(&j);
        cli_json_key(&j, "kind");
        cli_json_str(&j, kind_name);
        cli_json_key(&j, "file");
        cli_json_str(&j, file);
        cli_json_key(&j, "lines");
        cli_json_int(&j, report.lines);
        cli_json_key(&j, "records");
        cli_json_int(&j, report.records);
        cli_json_key(&j, "added");
        cli_json_int(&j, report.added);
        cli_json_key(&j, "replaced");
        cli_json_int(&j, report.replaced);
        cli_json_key(&j, "rejected");
        cli_json_int(&j, report.rejected);
        if (opt.rejects_path) {
            cli_json_key(&j, "rejects");
            cli_json_str(&j, opt.rejects_path);
        }
        cli_json_end_obj(&j);
        cli_json_finish(&j);
    } else {
        printf("%s: %lld records: %lld added, %lld replaced, %lld rejected\n", file,
               (long long)report.records, (long long)report.added, (long long)report.replaced,
               (long long)report.rejected);
    }
    return CLI_EXIT_OK;
}

typedef struct summary_out {
    FILE *f;
    cli_json *json;
} summary_out;

static int summary_row(const custscore_summary *s, void *payload)
{
    summary_out *o = payload;
    if (o->json) {
        cli_json *j = o->json;
        cli_json_obj(j);
        cli_json_key(j, "customer");
        cli_json_str(j, s->customer);
        cli_json_key(j, "first");
        cli_json_date(j, s->first);
        cli_json_key(j, "last");
        cli_json_date(j, s->last);
        cli_json_key(j, "x");
        cli_json_int(j, s->x);
        cli_json_key(j, "t_x");
        cli_json_num(j, s->t_x);
        cli_json_key(j, "T");
        cli_json_num(j, s->T);
        cli_json_key(j, "orders");
        cli_json_int(j, s->orders);
        cli_json_key(j, "revenue");
        cli_json_num(j, s->revenue);
        cli_json_key(j, "cost");
        cli_json_num(j, s->cost);
        cli_json_key(j, "profit");
        cli_json_num(j, s->profit);
        cli_json_key(j, "mean_repeat_spend");
        cli_json_num(j, s->mean_repeat_spend);
        cli_json_end_obj(j);
        return 0;
    }
    FILE *f = o->f;
    cli_csv_str(f, s->customer, false);
    cli_csv_date(f, s->first, false);
    cli_csv_date(f, s->last, false);
    cli_csv_int(f, s->x, false);
    cli_csv_num(f, s->t_x, false);
    cli_csv_num(f, s->T, false);
    cli_csv_int(f, s->orders, false);
    cli_csv_num(f, s->revenue, false);
    cli_csv_num(f, s->cost, false);
    cli_csv_num(f, s->profit, false);
    cli_csv_num(f, s->mean_repeat_spend, true);
    return ferror(f) ? CUSTSCORE_EIO : 0;
}

int cmd_summary(cli *c, int argc, char **argv)
{
    cli_args a;
    cli_args_init(&a, argc, argv);
    int status = 0;
    const char *out_path = NULL, *customer = NULL;
    int64_t as_of = 0;
    bool have_as_of = false;
    custscore_summary_options sopt = CUSTSCORE_SUMMARY_OPTIONS_INIT;
    while (a.i < argc && status == 0) {
        if (cli_flag(&a, "--help")) {
            puts("usage: custscore summary --as-of DATE [--unit day|week|month|year] "
                 "[--zero-revenue adjustment|purchase] [--customer KEY] [--out FILE.csv|-] "
                 "[--json]");
            return CLI_EXIT_OK;
        } else if (cli_opt(&a, "--as-of", &status)) {
            if (a.value && !cli_parse_date(a.value, &as_of))
                return CLI_EXIT_USAGE;
            have_as_of = true;
        } else if (cli_opt(&a, "--unit", &status)) {
            if (a.value && !cli_parse_unit(a.value, &sopt.unit))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--zero-revenue", &status)) {
            if (a.value && strcmp(a.value, "purchase") == 0)
                sopt.zero = CUSTSCORE_ZERO_REVENUE_PURCHASE;
            else if (a.value && strcmp(a.value, "adjustment") == 0)
                sopt.zero = CUSTSCORE_ZERO_REVENUE_ADJUSTMENT;
            else if (a.value)
                return cli_usage("--zero-revenue is adjustment or purchase");
        } else if (cli_opt(&a, "--out", &status)) {
            out_path = a.value;
        } else if (cli_opt(&a, "--customer", &status)) {
            customer = a.value;
        } else if (cli_flag(&a, "--json")) {
            c->json = true;
        } else {
            return cli_usage("summary: unknown argument '%s'", argv[a.i]);
        }
    }
    if (status)
        return status;
    if (!have_as_of)
        return cli_usage("summary: --as-of DATE is required");
    status = cli_open_store(c, false, true);
    if (status)
        return status;
    FILE *f = cli_open_out(out_path);
    if (!f)
        return CLI_EXIT_IO;
    cli_json j;
    summary_out o = {.f = f, .json = c->json ? &j : NULL};
    int rc;
    if (c->json) {
        cli_json_begin(&j, f);
        cli_json_obj(&j);
        cli_json_key(&j, "as_of");
        cli_json_date(&j, as_of);
        cli_json_key(&j, "unit");
        cli_json_str(&j, cli_unit_name(sopt.unit));
        cli_json_key(&j, "customers");
        cli_json_arr(&j);
    } else {
        fputs("customer,first,last,x,t_x,T,orders,revenue,cost,profit,mean_repeat_spend\n", f);
    }
    if (customer) {
        custscore_summary s;
        rc = custscore_summary_one(c->db, customer, as_of, &sopt, &s);
        if (rc == 0)
            rc = summary_row(&s, &o);
    } else {
        rc = custscore_summary_each(c->db, as_of, &sopt, summary_row, &o);
    }
    if (c->json) {
        cli_json_end_arr(&j);
        cli_json_end_obj(&j);
        cli_json_finish(&j);
    }
    int out_status = cli_close_out(f, out_path);
    if (rc)
        return cli_fail(c, rc, "summary");
    return out_status;
}

/* ---- demo ---- */

#ifndef CUSTSCORE_SOURCE_DATADIR
#define CUSTSCORE_SOURCE_DATADIR "data"
#endif
#ifndef CUSTSCORE_INSTALL_DATADIR
#define CUSTSCORE_INSTALL_DATADIR "/usr/local/share/custscore"
#endif

/* Find a bundled data file: $CUSTSCORE_DATA_DIR, the source tree, the
 * installed data directory. Returns a malloc'ed path or NULL. */
static char *demo_find(const char *name)
{
    const char *dirs[3] = {getenv("CUSTSCORE_DATA_DIR"), CUSTSCORE_SOURCE_DATADIR,
                           CUSTSCORE_INSTALL_DATADIR};
    for (int i = 0; i < 3; i++) {
        if (!dirs[i] || !*dirs[i])
            continue;
        size_t n = strlen(dirs[i]) + strlen(name) + 2;
        char *p = malloc(n);
        if (!p)
            return NULL;
        snprintf(p, n, "%s/%s", dirs[i], name);
        if (access(p, R_OK) == 0)
            return p;
        free(p);
    }
    return NULL;
}

typedef struct demo_stats {
    int64_t customers, buyers, repeaters, orders;
    double revenue, repeat_spend_sum;
    const char *top_key[5];
    double top_revenue[5];
    char top_store[5][256];
} demo_stats;

static int demo_row(const custscore_summary *s, void *payload)
{
    demo_stats *d = payload;
    d->customers++;
    d->orders += s->orders;
    d->revenue += s->revenue;
    if (s->first)
        d->buyers++;
    if (s->x > 0)
        d->repeaters++;
    for (int k = 0; k < 5; k++) {
        if (!d->top_key[k] || s->revenue > d->top_revenue[k]) {
            for (int m = 4; m > k; m--) {
                d->top_revenue[m] = d->top_revenue[m - 1];
                memcpy(d->top_store[m], d->top_store[m - 1], sizeof d->top_store[m]);
                d->top_key[m] = d->top_key[m - 1] ? d->top_store[m] : NULL;
            }
            snprintf(d->top_store[k], sizeof d->top_store[k], "%s", s->customer);
            d->top_key[k] = d->top_store[k];
            d->top_revenue[k] = s->revenue;
            break;
        }
    }
    return 0;
}

int cmd_demo(cli *c, int argc, char **argv)
{
    cli_args a;
    cli_args_init(&a, argc, argv);
    if (a.i < argc)
        return cli_usage("demo takes no arguments (the store is --db PATH)");
    char *orders = demo_find("cdnow_sample.txt");
    if (!orders) {
        fprintf(stderr, "custscore: demo: bundled data cdnow_sample.txt not found "
                        "(set CUSTSCORE_DATA_DIR)\n");
        return CLI_EXIT_IO;
    }
    int status = cli_open_store(c, true, false);
    if (status) {
        free(orders);
        return status;
    }
    printf("custscore %s demo: store %s\n\n", custscore_version(), c->db_path);
    custscore_import_options opt = CUSTSCORE_IMPORT_OPTIONS_INIT;
    opt.whitespace = 1;
    opt.no_header = 1;
    opt.map = "customer=2,ts=3,revenue=5";
    custscore_import_report report;
    int rc = custscore_import_csv(c->db, CUSTSCORE_KIND_ORDERS, orders, &opt, &report);
    if (rc) {
        free(orders);
        return cli_fail(c, rc, "demo import");
    }
    printf("1. Import: CDNOW sample (%s)\n   %lld lines -> %lld orders added, %lld replaced, "
           "%lld rejected\n   (re-running the demo replaces the same orders: imports are "
           "idempotent)\n",
           orders, (long long)report.records, (long long)report.added, (long long)report.replaced,
           (long long)report.rejected);
    free(orders);
    char *survey = demo_find("demo_survey.csv");
    char *complaints = demo_find("demo_complaints.csv");
    if (survey && complaints) {
        custscore_import_options sopt_import = CUSTSCORE_IMPORT_OPTIONS_INIT;
        sopt_import.wide = 1;
        sopt_import.customer_column = "customer";
        sopt_import.date_column = "date";
        custscore_import_report srep, crep;
        rc = custscore_import_csv(c->db, CUSTSCORE_KIND_RESPONSES, survey, &sopt_import, &srep);
        if (rc == 0)
            rc = custscore_import_csv(c->db, CUSTSCORE_KIND_COMPLAINTS, complaints, NULL, &crep);
        if (rc) {
            free(survey);
            free(complaints);
            return cli_fail(c, rc, "demo import");
        }
        printf("   survey (%s): %lld respondents, %lld answers stored (blank cells are missing "
               "answers)\n   complaints (%s): %lld\n\n",
               survey, (long long)srep.records, (long long)(srep.added + srep.replaced), complaints,
               (long long)(crep.added + crep.replaced));
    }
    free(survey);
    free(complaints);
    int64_t as_of;
    custscore_parse_time("1997-09-30", NULL, &as_of);
    demo_stats d = {0};
    /* CDNOW's few $0.00 rows are free CDs: purchases, as in the literature. */
    custscore_summary_options sopt = CUSTSCORE_SUMMARY_OPTIONS_INIT;
    sopt.zero = CUSTSCORE_ZERO_REVENUE_PURCHASE;
    rc = custscore_summary_each(c->db, as_of, &sopt, demo_row, &d);
    if (rc)
        return cli_fail(c, rc, "demo summary");
    printf("2. Summary as of 1997-09-30 (calibration period, weeks)\n"
           "   customers %lld, buyers %lld, repeat buyers %lld (%.1f%%)\n"
           "   orders %lld, revenue %.2f, revenue per customer %.2f\n"
           "   top customers by revenue:\n",
           (long long)d.customers, (long long)d.buyers, (long long)d.repeaters,
           d.buyers ? 100.0 * (double)d.repeaters / (double)d.buyers : 0.0, (long long)d.orders,
           d.revenue, d.customers ? d.revenue / (double)d.customers : 0.0);
    for (int k = 0; k < 5 && d.top_key[k]; k++)
        printf("     %-8s %10.2f\n", d.top_key[k], d.top_revenue[k]);
    /* Models, the satisfaction index, two snapshots and the report. */
    status = demo_pipeline(c, as_of);
    if (status)
        return status;
    /* @@DEMO_STEPS@@ */
    printf("\nNext: custscore --db %s summary --as-of 1997-09-30 --unit week --out summary.csv\n",
           c->db_path);
    return CLI_EXIT_OK;
}
