/*
 * cmd_report.c: `report`, the self-contained HTML report.
 */
#include "cli.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const char report_usage[] =
    "usage: custscore report --as-of DATE [--out FILE.html] [--title T] [--top N]\n"
    "         [--survey-model NAME] [--bootstrap N] [--seed N] [--horizon 12m]\n"
    "         [--discount 0.10] [--band-medium P --band-high P] [--json]\n"
    "  writes one HTML file (inline CSS and SVG, no scripts, nothing fetched) with the\n"
    "  headline figures, whale curve, tier pyramid, RFM segments, CLV distribution,\n"
    "  churn risk and the top customers by value at risk, satisfaction index, NPS and\n"
    "  drivers, value matrix, loyalty quadrant, changes since the previous snapshot and\n"
    "  cohort retention. Parts without a model or data say what to run.\n"
    "  --out defaults to report.html; - writes to standard output. The store is only\n"
    "  read.\n";

int cmd_report(cli *c, int argc, char **argv)
{
    cli_args a;
    cli_args_init(&a, argc, argv);
    custscore_report_options opt = CUSTSCORE_REPORT_OPTIONS_INIT;
    int64_t as_of = 0;
    bool have_as_of = false;
    const char *out_path = "report.html";
    int status = 0;
    while (a.i < argc && status == 0) {
        long v = 0;
        double p = 0;
        if (cli_flag(&a, "--help")) {
            fputs(report_usage, stdout);
            return CLI_EXIT_OK;
        } else if (cli_opt(&a, "--as-of", &status)) {
            if (a.value && !cli_parse_date(a.value, &as_of))
                return CLI_EXIT_USAGE;
            have_as_of = true;
        } else if (cli_opt(&a, "--out", &status)) {
            out_path = a.value;
        } else if (cli_opt(&a, "--title", &status)) {
            opt.title = a.value;
        } else if (cli_opt(&a, "--top", &status)) {
            if (!a.value)
                break;
            if (!cli_parse_int(a.value, &v) || v < 1 || v > 10000)
                return cli_usage("--top takes 1..10000");
            opt.top = (int)v;
        } else if (cli_opt(&a, "--survey-model", &status)) {
            opt.survey_model = a.value;
        } else if (cli_opt(&a, "--bootstrap", &status)) {
            if (!a.value)
                break;
            if (!cli_parse_int(a.value, &v) || v < 0 || v > 10000)
                return cli_usage("--bootstrap takes 0..10000 resamples");
            opt.csi_bootstrap = (int)v;
        } else if (cli_opt(&a, "--seed", &status)) {
            if (!a.value)
                break;
            if (!cli_parse_int(a.value, &v) || v < 0)
                return cli_usage("--seed takes a number >= 0");
            opt.seed = (uint64_t)v;
        } else if (cli_opt(&a, "--horizon", &status)) {
            if (a.value &&
                !cli_parse_duration(a.value, &opt.score.clv.horizon, &opt.score.clv.horizon_unit))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--discount", &status)) {
            if (a.value && !cli_parse_double(a.value, &opt.score.clv.discount_rate))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--band-medium", &status)) {
            if (!a.value)
                break;
            if (!cli_parse_double(a.value, &p) || p <= 0 || p > 1)
                return cli_usage("--band-medium takes a probability in (0, 1]");
            opt.score.band_medium = p;
        } else if (cli_opt(&a, "--band-high", &status)) {
            if (!a.value)
                break;
            if (!cli_parse_double(a.value, &p) || p <= 0 || p > 1)
                return cli_usage("--band-high takes a probability in (0, 1]");
            opt.score.band_high = p;
        } else if (cli_flag(&a, "--json")) {
            c->json = true;
        } else {
            return cli_usage("report: unknown argument '%s'\n%s", argv[a.i], report_usage);
        }
    }
    if (status)
        return status;
    if (!have_as_of)
        return cli_usage("report: --as-of DATE is required\n%s", report_usage);
    if (!out_path || !*out_path)
        return cli_usage("report: --out needs a file name");
    if ((opt.score.band_medium > 0) != (opt.score.band_high > 0))
        return cli_usage("report: give --band-medium and --band-high together");
    status = cli_open_store(c, false, true);
    if (status)
        return status;
    cli_progress(c, "writing the report ...");
    int rc = custscore_report_html(c->db, as_of, &opt, out_path);
    cli_progress_done(c);
    if (rc)
        return cli_fail(c, rc, "report");
    if (strcmp(out_path, "-") == 0)
        return CLI_EXIT_OK;
    char *full = realpath(out_path, NULL);
    const char *where = full ? full : out_path;
    if (c->json) {
        cli_json j;
        cli_json_begin(&j, stdout);
        cli_json_obj(&j);
        cli_json_key(&j, "report");
        cli_json_str(&j, where);
        cli_json_key(&j, "as_of");
        cli_json_date(&j, as_of);
        cli_json_end_obj(&j);
        cli_json_finish(&j);
    } else {
        printf("report written to %s\n", where);
    }
    free(full);
    return CLI_EXIT_OK;
}
