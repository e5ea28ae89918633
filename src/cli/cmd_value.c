/*
 * cmd_value.c: `custscore value`: RFM scores and segments, profit
 * contribution, tiers and lifecycle stage of every customer as CSV (or JSON),
 * and `custscore value --whale`: the whale curve summary (and points).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VALUE_MAX_LIST 16

static const char value_usage[] =
    "usage: custscore value --as-of DATE [--bins 5] [--ties value|rank] [--segments FILE]\n"
    "         [--frequency occasions|orders] [--monetary total|mean] [--cut-offset 1]\n"
    "         [--recency-thresholds D,D,..] [--frequency-thresholds N,..]\n"
    "         [--monetary-thresholds X,..] [--window 12m|all] [--tiers 0.2,0.5]\n"
    "         [--tier-levels 0,2000,10000,30000] [--tier-names NAME,NAME,..]\n"
    "         [--tier-ties rank|value] [--lifecycle-window 12m] [--lapse-after 12m]\n"
    "         [--zero-revenue adjustment|purchase] [--out FILE.csv|-] [--json]\n"
    "       custscore value --whale [--as-of DATE (default today)] [--window 12m|all]\n"
    "         [--points N] [--out FILE.csv|-] [--json]\n"
    "columns: customer,recency_days,frequency,monetary,r,f,m,rfm_score,segment,revenue,cost,\n"
    "         profit,profit_share,tier,lifecycle\n";

/* A comma-separated list of numbers into @out (at most @max). */
static bool parse_numbers(const char *what, const char *text, double *out, size_t max, size_t *n)
{
    *n = 0;
    const char *p = text;
    for (;;) {
        if (*n == max) {
            cli_usage("%s: more than %zu values", what, max);
            return false;
        }
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char buf[64];
        if (len == 0 || len >= sizeof buf) {
            cli_usage("%s: '%s' is not a list of numbers", what, text);
            return false;
        }
        memcpy(buf, p, len);
        buf[len] = '\0';
        if (!cli_parse_double(buf, &out[(*n)++]))
            return false;
        if (!comma)
            return true;
        p = comma + 1;
    }
}

/* Split a copy of @text at commas into @names (at most @max). */
static char *parse_names(const char *text, const char **names, size_t max, size_t *n)
{
    char *copy = strdup(text);
    if (!copy)
        return NULL;
    *n = 0;
    for (char *p = copy; *n < max;) {
        names[(*n)++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    return copy;
}

static bool parse_window(const char *text, double *count, custscore_unit *unit)
{
    if (strcmp(text, "all") == 0) {
        *count = 0;
        return true;
    }
    return cli_parse_duration(text, count, unit);
}

typedef struct value_json {
    cli_json *j;
} value_json;

static int value_json_row(const custscore_value *v, void *payload)
{
    cli_json *j = ((value_json *)payload)->j;
    cli_json_obj(j);
    cli_json_key(j, "customer");
    cli_json_str(j, v->customer);
    cli_json_key(j, "recency_days");
    if (v->recency_days >= 0)
        cli_json_int(j, v->recency_days);
    else
        cli_json_null(j);
    cli_json_key(j, "frequency");
    cli_json_int(j, v->frequency);
    cli_json_key(j, "monetary");
    cli_json_num(j, v->monetary);
    cli_json_key(j, "r");
    cli_json_int(j, v->r);
    cli_json_key(j, "f");
    cli_json_int(j, v->f);
    cli_json_key(j, "m");
    cli_json_int(j, v->m);
    cli_json_key(j, "rfm_score");
    cli_json_int(j, v->rfm_score);
    cli_json_key(j, "segment");
    cli_json_str(j, v->segment);
    cli_json_key(j, "revenue");
    cli_json_num(j, v->revenue);
    cli_json_key(j, "cost");
    cli_json_num(j, v->cost);
    cli_json_key(j, "profit");
    cli_json_num(j, v->profit);
    cli_json_key(j, "profit_share");
    cli_json_num(j, v->profit_share);
    cli_json_key(j, "tier");
    cli_json_str(j, v->tier_name);
    cli_json_key(j, "lifecycle");
    cli_json_str(j, custscore_lifecycle_name(v->lifecycle));
    cli_json_end_obj(j);
    return 0;
}

static int run_whale(cli *c, int64_t as_of, const custscore_value_options *o, long points,
                     const char *out_path)
{
    size_t n_points = points > 0 ? (size_t)points : 0;
    double *x = NULL, *y = NULL;
    if (n_points > 0) {
        x = malloc(n_points * sizeof *x);
        y = malloc(n_points * sizeof *y);
        if (!x || !y) {
            free(x);
            free(y);
            fprintf(stderr, "custscore: value: out of memory\n");
            return CLI_EXIT_INTERNAL;
        }
    }
    custscore_whale_summary w;
    int rc = custscore_value_whale(c->db, as_of, o, n_points, x, y, &w);
    if (rc) {
        free(x);
        free(y);
        return cli_fail(c, rc, "value --whale");
    }
    FILE *f = cli_open_out(out_path);
    if (!f) {
        free(x);
        free(y);
        return CLI_EXIT_IO;
    }
    if (c->json) {
        cli_json j;
        cli_json_begin(&j, f);
        cli_json_obj(&j);
        cli_json_key(&j, "as_of");
        cli_json_date(&j, as_of);
        cli_json_key(&j, "customers");
        cli_json_int(&j, w.customers);
        cli_json_key(&j, "total_profit");
        cli_json_num(&j, w.total_profit);
        cli_json_key(&j, "peak_profit");
        cli_json_num(&j, w.peak_profit);
        cli_json_key(&j, "peak_height");
        cli_json_num(&j, w.peak_height);
        cli_json_key(&j, "peak_customers");
        cli_json_int(&j, w.peak_customers);
        cli_json_key(&j, "peak_customer_share");
        cli_json_num(&j, w.peak_customer_share);
        cli_json_key(&j, "loss_tail");
        cli_json_num(&j, w.loss_tail);
        cli_json_key(&j, "loss_customers");
        cli_json_int(&j, w.loss_customers);
        cli_json_key(&j, "loss_customer_share");
        cli_json_num(&j, w.loss_customer_share);
        cli_json_key(&j, "zero_customers");
        cli_json_int(&j, w.zero_customers);
        if (n_points > 0) {
            cli_json_key(&j, "points");
            cli_json_arr(&j);
            for (size_t i = 0; i < n_points; i++) {
                cli_json_arr(&j);
                cli_json_num(&j, x[i]);
                cli_json_num(&j, y[i]);
                cli_json_end_arr(&j);
            }
            cli_json_end_arr(&j);
        }
        cli_json_end_obj(&j);
        cli_json_finish(&j);
    } else if (n_points > 0) {
        fputs("customer_share,profit_share\n", f);
        for (size_t i = 0; i < n_points; i++) {
            cli_csv_num(f, x[i], false);
            cli_csv_num(f, y[i], true);
        }
    } else {
        fprintf(f, "customers %lld, total profit %.2f\n", (long long)w.customers, w.total_profit);
        if (w.total_profit > 0)
            fprintf(f, "peak: the top %.1f%% of customers (%lld) earn %.1f%% of profit (%.2f)\n",
                    100 * w.peak_customer_share, (long long)w.peak_customers, 100 * w.peak_height,
                    w.peak_profit);
        else
            fprintf(f,
                    "peak: the top %.1f%% of customers (%lld) earn %.2f; total profit is "
                    "not positive, so no share is given\n",
                    100 * w.peak_customer_share, (long long)w.peak_customers, w.peak_profit);
        fprintf(f, "loss tail: %.2f lost by %.1f%% of customers (%lld)\n", w.loss_tail,
                100 * w.loss_customer_share, (long long)w.loss_customers);
        fprintf(f, "break-even customers: %lld\n", (long long)w.zero_customers);
    }
    free(x);
    free(y);
    return cli_close_out(f, out_path);
}

int cmd_value(cli *c, int argc, char **argv)
{
    cli_args a;
    cli_args_init(&a, argc, argv);
    int status = 0;
    const char *out_path = NULL, *segments_path = NULL, *tier_names = NULL;
    int64_t as_of = 0;
    bool have_as_of = false, whale = false;
    long points = 0;
    custscore_value_options o = CUSTSCORE_VALUE_OPTIONS_INIT;
    double thresholds[3][CUSTSCORE_MAX_BINS], tier_cuts[CUSTSCORE_MAX_TIERS];
    size_t n_tier_cuts = 0;
    double lapse_count = 0;
    custscore_unit lapse_unit = CUSTSCORE_UNIT_DAY;
    while (a.i < argc && status == 0) {
        double *dim_th = NULL;
        size_t *dim_n = NULL;
        const double **dim_ptr = NULL;
        const char *dim_name = NULL;
        if (cli_flag(&a, "--help")) {
            fputs(value_usage, stdout);
            return CLI_EXIT_OK;
        } else if (cli_opt(&a, "--as-of", &status)) {
            if (a.value && !cli_parse_date(a.value, &as_of))
                return CLI_EXIT_USAGE;
            have_as_of = true;
        } else if (cli_flag(&a, "--whale")) {
            whale = true;
        } else if (cli_opt(&a, "--points", &status)) {
            if (a.value && (!cli_parse_int(a.value, &points) || points < 2 || points > 1000000))
                return cli_usage("value: --points is a count 2..1000000");
        } else if (cli_opt(&a, "--bins", &status)) {
            long bins = 0;
            if (a.value && (!cli_parse_int(a.value, &bins) || bins < 1 || bins > 9))
                return cli_usage("value: --bins is 1..9");
            o.rfm.bins = (int)bins;
        } else if (cli_opt(&a, "--ties", &status)) {
            if (a.value && strcmp(a.value, "value") == 0)
                o.rfm.ties = CUSTSCORE_TIES_VALUE;
            else if (a.value && strcmp(a.value, "rank") == 0)
                o.rfm.ties = CUSTSCORE_TIES_RANK;
            else if (a.value)
                return cli_usage("value: --ties is value or rank");
        } else if (cli_opt(&a, "--cut-offset", &status)) {
            if (a.value && !cli_parse_double(a.value, &o.rfm.cut_offset))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--segments", &status)) {
            segments_path = a.value;
        } else if (cli_opt(&a, "--frequency", &status)) {
            if (a.value && strcmp(a.value, "occasions") == 0)
                o.rfm.frequency = CUSTSCORE_FREQUENCY_OCCASIONS;
            else if (a.value && strcmp(a.value, "orders") == 0)
                o.rfm.frequency = CUSTSCORE_FREQUENCY_ORDERS;
            else if (a.value)
                return cli_usage("value: --frequency is occasions or orders");
        } else if (cli_opt(&a, "--monetary", &status)) {
            if (a.value && strcmp(a.value, "total") == 0)
                o.rfm.monetary = CUSTSCORE_MONETARY_TOTAL;
            else if (a.value && strcmp(a.value, "mean") == 0)
                o.rfm.monetary = CUSTSCORE_MONETARY_MEAN;
            else if (a.value)
                return cli_usage("value: --monetary is total or mean");
        } else if (cli_opt(&a, "--recency-thresholds", &status)) {
            dim_th = thresholds[0];
            dim_n = &o.rfm.n_recency_thresholds;
            dim_ptr = &o.rfm.recency_thresholds;
            dim_name = "--recency-thresholds";
        } else if (cli_opt(&a, "--frequency-thresholds", &status)) {
            dim_th = thresholds[1];
            dim_n = &o.rfm.n_frequency_thresholds;
            dim_ptr = &o.rfm.frequency_thresholds;
            dim_name = "--frequency-thresholds";
        } else if (cli_opt(&a, "--monetary-thresholds", &status)) {
            dim_th = thresholds[2];
            dim_n = &o.rfm.n_monetary_thresholds;
            dim_ptr = &o.rfm.monetary_thresholds;
            dim_name = "--monetary-thresholds";
        } else if (cli_opt(&a, "--window", &status)) {
            if (a.value && !parse_window(a.value, &o.profit_window, &o.profit_window_unit))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--tiers", &status)) {
            if (a.value && !parse_numbers("--tiers", a.value, tier_cuts, CUSTSCORE_MAX_TIERS - 2,
                                          &n_tier_cuts))
                return CLI_EXIT_USAGE;
            o.tiers.mode = CUSTSCORE_TIERS_PERCENTILE;
        } else if (cli_opt(&a, "--tier-levels", &status)) {
            if (a.value && !parse_numbers("--tier-levels", a.value, tier_cuts,
                                          CUSTSCORE_MAX_TIERS - 1, &n_tier_cuts))
                return CLI_EXIT_USAGE;
            o.tiers.mode = CUSTSCORE_TIERS_ABSOLUTE;
        } else if (cli_opt(&a, "--tier-names", &status)) {
            tier_names = a.value;
        } else if (cli_opt(&a, "--tier-ties", &status)) {
            if (a.value && strcmp(a.value, "rank") == 0)
                o.tiers.ties = CUSTSCORE_TIES_RANK;
            else if (a.value && strcmp(a.value, "value") == 0)
                o.tiers.ties = CUSTSCORE_TIES_VALUE;
            else if (a.value)
                return cli_usage("value: --tier-ties is rank or value");
        } else if (cli_opt(&a, "--lifecycle-window", &status)) {
            if (a.value && !cli_parse_duration(a.value, &o.lifecycle.window, &o.lifecycle.unit))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--lapse-after", &status)) {
            if (a.value && !cli_parse_duration(a.value, &lapse_count, &lapse_unit))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--zero-revenue", &status)) {
            if (a.value && strcmp(a.value, "purchase") == 0)
                o.zero = CUSTSCORE_ZERO_REVENUE_PURCHASE;
            else if (a.value && strcmp(a.value, "adjustment") == 0)
                o.zero = CUSTSCORE_ZERO_REVENUE_ADJUSTMENT;
            else if (a.value)
                return cli_usage("value: --zero-revenue is adjustment or purchase");
        } else if (cli_opt(&a, "--out", &status)) {
            out_path = a.value;
        } else if (cli_flag(&a, "--json")) {
            c->json = true;
        } else {
            return cli_usage("value: unknown argument '%s' (see custscore value --help)",
                             argv[a.i]);
        }
        if (dim_th && a.value && status == 0) {
            if (!parse_numbers(dim_name, a.value, dim_th, CUSTSCORE_MAX_BINS - 1, dim_n))
                return CLI_EXIT_USAGE;
            *dim_ptr = dim_th;
        }
    }
    if (status)
        return status;
    if (lapse_count > 0) /* in the lifecycle unit */
        o.lifecycle.lapse_after =
            lapse_count * custscore_unit_days(lapse_unit) / custscore_unit_days(o.lifecycle.unit);
    if (n_tier_cuts > 0) {
        o.tiers.cuts = tier_cuts;
        o.tiers.n_cuts = n_tier_cuts;
    }
    if (!have_as_of) {
        if (!whale)
            return cli_usage("value: --as-of DATE is required");
        as_of = (int64_t)time(NULL);
    }
    if (points > 0 && !whale)
        return cli_usage("value: --points goes with --whale");
    const char *names[CUSTSCORE_MAX_TIERS];
    char *names_buf = NULL;
    if (tier_names) {
        names_buf = parse_names(tier_names, names, CUSTSCORE_MAX_TIERS, &o.tiers.n_names);
        if (!names_buf) {
            fprintf(stderr, "custscore: value: out of memory\n");
            return CLI_EXIT_INTERNAL;
        }
        o.tiers.names = names;
    }
    custscore_segments *segments = NULL;
    if (segments_path) {
        char err[512];
        int rc = custscore_segments_load(segments_path, &segments, err, sizeof err);
        if (rc) {
            free(names_buf);
            fprintf(stderr, "custscore: value: --segments: %s\n", err);
            return cli_exit_for(rc);
        }
        o.rfm.segments = segments->rules;
        o.rfm.n_segments = segments->count;
    }
    status = cli_open_store(c, false, true);
    if (status == 0) {
        if (whale) {
            status = run_whale(c, as_of, &o, points, out_path);
        } else if (c->json) {
            FILE *f = cli_open_out(out_path);
            if (!f) {
                status = CLI_EXIT_IO;
            } else {
                cli_json j;
                value_json vj = {&j};
                cli_json_begin(&j, f);
                cli_json_obj(&j);
                cli_json_key(&j, "as_of");
                cli_json_date(&j, as_of);
                cli_json_key(&j, "customers");
                cli_json_arr(&j);
                int rc = custscore_value_each(c->db, as_of, &o, value_json_row, &vj);
                cli_json_end_arr(&j);
                cli_json_end_obj(&j);
                cli_json_finish(&j);
                status = cli_close_out(f, out_path);
                if (rc)
                    status = cli_fail(c, rc, "value");
            }
        } else {
            int rc = custscore_value_write_csv(c->db, as_of, &o, out_path ? out_path : "-");
            if (rc)
                status = cli_fail(c, rc, "value");
        }
    }
    custscore_segments_free(segments);
    free(names_buf);
    return status;
}
