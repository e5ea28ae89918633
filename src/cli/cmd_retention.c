/*
 * cmd_retention.c: `custscore retention --by month` prints the cohort table.
 */
#include "cli.h"

#include <math.h>
#include <string.h>

static const char usage[] =
    "usage: custscore retention [--as-of DATE] [--by day|week|month|year] [--periods N]\n"
    "         [--since DATE] [--periods-table] [--out FILE.csv|-] [--json]\n"
    "  cohort table: one row per cohort (period of first purchase) with its size,\n"
    "  repeat rate, mean inter-purchase days, repeat revenue share and the share of\n"
    "  the cohort buying in each later period (p0 = 1); --periods-table prints the\n"
    "  per-period indicators instead.\n";

static void write_date_cell(FILE *f, int64_t t, bool last)
{
    char buf[32];
    custscore_format_time(t, 1, buf, sizeof buf);
    cli_csv_str(f, buf, last);
}

int cmd_retention(cli *c, int argc, char **argv)
{
    cli_args a;
    cli_args_init(&a, argc, argv);
    custscore_retention_options opt = CUSTSCORE_RETENTION_OPTIONS_INIT;
    int64_t as_of = INT64_C(253402214400); /* 9999-12-31: all orders */
    const char *out_path = NULL;
    bool periods_table = false;
    int status = 0;
    while (a.i < argc && status == 0) {
        long v = 0;
        if (cli_flag(&a, "--help")) {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        } else if (cli_opt(&a, "--as-of", &status)) {
            if (a.value && !cli_parse_date(a.value, &as_of))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--since", &status)) {
            if (a.value && !cli_parse_date(a.value, &opt.since))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--by", &status)) {
            if (a.value && !cli_parse_unit(a.value, &opt.period))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--periods", &status)) {
            if (a.value && (!cli_parse_int(a.value, &v) || v < 1 || v > 1000))
                return cli_usage("--periods takes 1..1000");
            opt.max_periods = (int)v;
        } else if (cli_flag(&a, "--periods-table")) {
            periods_table = true;
        } else if (cli_opt(&a, "--out", &status)) {
            out_path = a.value;
        } else if (cli_flag(&a, "--json")) {
            c->json = true;
        } else {
            return cli_usage("retention: unknown argument '%s'\n%s", argv[a.i], usage);
        }
    }
    if (status)
        return status;
    status = cli_open_store(c, false, true);
    if (status)
        return status;
    custscore_retention *r = NULL;
    int rc = custscore_retention_compute(c->db, as_of, &opt, &r);
    if (rc)
        return cli_fail(c, rc, "retention");
    FILE *f = cli_open_out(out_path);
    if (!f) {
        custscore_retention_free(r);
        return CLI_EXIT_IO;
    }
    if (c->json) {
        cli_json j;
        cli_json_begin(&j, f);
        cli_json_obj(&j);
        cli_json_key(&j, "period");
        cli_json_str(&j, cli_unit_name(r->period));
        cli_json_key(&j, "repeat_rate");
        cli_json_num(&j, r->repeat_rate);
        cli_json_key(&j, "mean_interpurchase_days");
        cli_json_num(&j, r->mean_interpurchase_days);
        cli_json_key(&j, "cohorts");
        cli_json_arr(&j);
        for (size_t i = 0; i < r->n_cohorts; i++) {
            const custscore_cohort *co = &r->cohorts[i];
            cli_json_obj(&j);
            cli_json_key(&j, "cohort");
            cli_json_date(&j, co->start);
            cli_json_key(&j, "customers");
            cli_json_int(&j, co->customers);
            cli_json_key(&j, "repeat_rate");
            cli_json_num(&j, co->repeat_rate);
            cli_json_key(&j, "mean_interpurchase_days");
            cli_json_num(&j, co->mean_interpurchase_days);
            cli_json_key(&j, "repeat_revenue_share");
            cli_json_num(&j, co->repeat_revenue_share);
            cli_json_key(&j, "retention");
            cli_json_arr(&j);
            for (size_t k = 0; k < co->n_periods; k++)
                cli_json_num(&j, co->retention[k]);
            cli_json_end_arr(&j);
            cli_json_end_obj(&j);
        }
        cli_json_end_arr(&j);
        cli_json_key(&j, "periods");
        cli_json_arr(&j);
        for (size_t i = 0; i < r->n_periods; i++) {
            const custscore_period_stats *p = &r->periods[i];
            cli_json_obj(&j);
            cli_json_key(&j, "period");
            cli_json_date(&j, p->start);
            cli_json_key(&j, "active");
            cli_json_int(&j, p->active);
            cli_json_key(&j, "new");
            cli_json_int(&j, p->new_customers);
            cli_json_key(&j, "retention_rate");
            cli_json_num(&j, p->retention_rate);
            cli_json_key(&j, "repeat_purchase_rate");
            cli_json_num(&j, p->repeat_purchase_rate);
            cli_json_key(&j, "mean_interpurchase_days");
            cli_json_num(&j, p->mean_interpurchase_days);
            cli_json_key(&j, "revenue");
            cli_json_num(&j, p->revenue);
            cli_json_key(&j, "repeat_revenue_share");
            cli_json_num(&j, p->repeat_revenue_share);
            cli_json_end_obj(&j);
        }
        cli_json_end_arr(&j);
        cli_json_end_obj(&j);
        cli_json_finish(&j);
    } else if (periods_table) {
        fputs("period,active,new,retention_rate,repeat_purchase_rate,mean_interpurchase_days,"
              "revenue,repeat_revenue_share\n",
              f);
        for (size_t i = 0; i < r->n_periods; i++) {
            const custscore_period_stats *p = &r->periods[i];
            write_date_cell(f, p->start, false);
            cli_csv_int(f, p->active, false);
            cli_csv_int(f, p->new_customers, false);
            cli_csv_num(f, p->retention_rate, false);
            cli_csv_num(f, p->repeat_purchase_rate, false);
            cli_csv_num(f, p->mean_interpurchase_days, false);
            cli_csv_num(f, p->revenue, false);
            cli_csv_num(f, p->repeat_revenue_share, true);
        }
    } else {
        size_t width = 0;
        for (size_t i = 0; i < r->n_cohorts; i++)
            if (r->cohorts[i].n_periods > width)
                width = r->cohorts[i].n_periods;
        fputs("cohort,customers,repeat_rate,mean_interpurchase_days,repeat_revenue_share", f);
        for (size_t k = 0; k < width; k++)
            fprintf(f, ",p%zu", k);
        fputc('\n', f);
        for (size_t i = 0; i < r->n_cohorts; i++) {
            const custscore_cohort *co = &r->cohorts[i];
            write_date_cell(f, co->start, false);
            cli_csv_int(f, co->customers, false);
            cli_csv_num(f, co->repeat_rate, false);
            cli_csv_num(f, co->mean_interpurchase_days, false);
            cli_csv_num(f, co->repeat_revenue_share, width == 0);
            for (size_t k = 0; k < width; k++) {
                if (k < co->n_periods)
                    cli_csv_num(f, co->retention[k], k + 1 == width);
                else
                    fputc(k + 1 == width ? '\n' : ',', f);
            }
        }
    }
    custscore_retention_free(r);
    return cli_close_out(f, out_path);
}
