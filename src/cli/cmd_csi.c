/*
 * cmd_csi.c: `custscore csi` (satisfaction index, NPS, importance-performance,
 * per period or group), `custscore servqual` and `custscore kano`.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char csi_usage[] =
    "usage: custscore csi [--model ecsi|acsi|ccsi|scsb|five|NAME|FILE]\n"
    "         [--items CONSTRUCT=COL+COL,...] [--scale MIN..MAX] [--nps ITEM]\n"
    "         [--scheme path|centroid|factorial] [--standardize] [--missing mean|listwise]\n"
    "         [--bootstrap N] [--seed N] [--level 0.95] [--min-respondents N]\n"
    "         [--by quarter|month|year|tier|ATTRIBUTE] [--from DATE] [--to DATE]\n"
    "         [--save] [--out FILE.csv|-] [--customers FILE.csv|- [--as-of DATE]] [--json]\n"
    "  the customer satisfaction index 0-100 (ACSI form: PLS weights on items\n"
    "  rescaled to 0-100), its bootstrap interval, NPS, and the importance-\n"
    "  performance table, from the survey responses in the store. --model takes a\n"
    "  template, a model stored with --save, or a model file\n"
    "  (docs/survey-model-format.md). --out writes every estimate as CSV rows\n"
    "  group,quantity,name,value,se,low,high; --customers writes each customer's\n"
    "  latest satisfaction (customer,date,satisfaction).\n";

/* A model from a file, the store or the templates. */
static int csi_model(cli *c, const char *arg, custscore_survey_model **out)
{
    if (access(arg, R_OK) == 0) {
        FILE *f = fopen(arg, "rb");
        if (!f) {
            fprintf(stderr, "custscore: %s: %s\n", arg, strerror(errno));
            return CLI_EXIT_IO;
        }
        size_t cap = 4096, len = 0;
        char *text = malloc(cap);
        size_t got;
        while (text && (got = fread(text + len, 1, cap - len, f)) > 0) {
            len += got;
            if (len == cap) {
                char *t = cap < (size_t)16 << 20 ? realloc(text, cap *= 2) : NULL;
                if (!t) {
                    free(text);
                    text = NULL;
                }
                text = t;
            }
        }
        int read_error = ferror(f);
        fclose(f);
        if (!text || read_error) {
            free(text);
            fprintf(stderr, "custscore: %s: cannot read the model (too large or I/O error)\n", arg);
            return CLI_EXIT_IO;
        }
        char err[512];
        int rc = custscore_survey_model_parse(text, len, arg, out, err, sizeof err);
        free(text);
        if (rc) {
            fprintf(stderr, "custscore: %s\n", err);
            return cli_exit_for(rc);
        }
        return CLI_EXIT_OK;
    }
    int rc = custscore_survey_model_load(c->db, arg, out);
    if (rc)
        return cli_fail(c, rc, "csi --model");
    return CLI_EXIT_OK;
}

static bool parse_scale(const char *text, double *lo, double *hi)
{
    char *end;
    *lo = strtod(text, &end);
    if (end == text || strncmp(end, "..", 2) != 0)
        return false;
    const char *h = end + 2;
    *hi = strtod(h, &end);
    return end != h && *end == '\0' && isfinite(*lo) && isfinite(*hi) && *lo < *hi;
}

static const char *const scheme_names[] = {"", "path", "centroid", "factorial"};
static const char *const status_names[] = {"ok", "fixed_weights", "negative_weight",
                                           "no_convergence", "no_data"};

static void json_interval(cli_json *j, double low, double high)
{
    if (isnan(low) || isnan(high)) {
        cli_json_null(j);
        return;
    }
    cli_json_arr(j);
    cli_json_num(j, low);
    cli_json_num(j, high);
    cli_json_end_arr(j);
}

static void json_nps(cli_json *j, const custscore_csi_estimate *e)
{
    if (!e->has_nps) {
        cli_json_null(j);
        return;
    }
    cli_json_obj(j);
    cli_json_key(j, "nps");
    cli_json_num(j, e->nps.nps);
    cli_json_key(j, "se");
    cli_json_num(j, e->nps.se);
    cli_json_key(j, "interval");
    json_interval(j, e->nps.low, e->nps.high);
    cli_json_key(j, "n");
    cli_json_int(j, (int64_t)e->nps.n);
    cli_json_key(j, "promoters");
    cli_json_int(j, (int64_t)e->nps.promoters);
    cli_json_key(j, "passives");
    cli_json_int(j, (int64_t)e->nps.passives);
    cli_json_key(j, "detractors");
    cli_json_int(j, (int64_t)e->nps.detractors);
    cli_json_end_obj(j);
}

/* The keys of one estimate (inside an open object). */
static void json_estimate(cli_json *j, const custscore_csi_result *r,
                          const custscore_csi_estimate *e)
{
    size_t k = r->n_constructs;
    cli_json_key(j, "index");
    cli_json_num(j, e->index);
    cli_json_key(j, "interval");
    json_interval(j, e->index_low, e->index_high);
    cli_json_key(j, "se");
    cli_json_num(j, e->index_se);
    cli_json_key(j, "index_equal_weights");
    cli_json_num(j, e->index_equal);
    cli_json_key(j, "n");
    cli_json_int(j, (int64_t)e->n);
    cli_json_key(j, "dropped");
    cli_json_int(j, (int64_t)e->n_dropped);
    cli_json_key(j, "status");
    cli_json_str(j, status_names[e->status]);
    cli_json_key(j, "message");
    cli_json_str(j, e->message);
    cli_json_key(j, "converged");
    cli_json_bool(j, e->converged != 0);
    cli_json_key(j, "weights");
    cli_json_obj(j);
    for (size_t i = 0; i < r->n_items; i++) {
        cli_json_key(j, r->item_names[i]);
        cli_json_num(j, e->weights[i]);
    }
    cli_json_end_obj(j);
    cli_json_key(j, "paths");
    cli_json_obj(j);
    for (size_t a = 0; a < k; a++)
        for (size_t b = 0; b < k; b++) {
            if (!r->paths[a * k + b])
                continue;
            char key[600];
            snprintf(key, sizeof key, "%s->%s", r->construct_names[a], r->construct_names[b]);
            cli_json_key(j, key);
            cli_json_num(j, e->paths[a * k + b]);
        }
    cli_json_end_obj(j);
    cli_json_key(j, "r2");
    cli_json_obj(j);
    for (size_t c = 0; c < k; c++)
        if (!isnan(e->r2[c])) {
            cli_json_key(j, r->construct_names[c]);
            cli_json_num(j, e->r2[c]);
        }
    cli_json_end_obj(j);
    cli_json_key(j, "constructs");
    cli_json_obj(j);
    for (size_t c = 0; c < k; c++) {
        cli_json_key(j, r->construct_names[c]);
        cli_json_obj(j);
        cli_json_key(j, "index");
        cli_json_num(j, e->construct_index[c]);
        if (e->construct_index_low) {
            cli_json_key(j, "interval");
            json_interval(j, e->construct_index_low[c], e->construct_index_high[c]);
        }
        cli_json_key(j, "r2_adj");
        cli_json_num(j, e->r2_adj[c]);
        cli_json_key(j, "alpha");
        cli_json_num(j, e->alpha[c]);
        cli_json_key(j, "rho_c");
        cli_json_num(j, e->rho_c[c]);
        cli_json_key(j, "ave");
        cli_json_num(j, e->ave[c]);
        cli_json_end_obj(j);
    }
    cli_json_end_obj(j);
    cli_json_key(j, "gof");
    cli_json_num(j, e->gof);
    cli_json_key(j, "nps");
    json_nps(j, e);
    cli_json_key(j, "drivers");
    cli_json_arr(j);
    for (size_t i = 0; i < e->n_drivers; i++) {
        const custscore_csi_driver *d = &e->drivers[i];
        cli_json_obj(j);
        cli_json_key(j, "construct");
        cli_json_str(j, r->construct_names[d->construct]);
        cli_json_key(j, "importance");
        cli_json_num(j, d->importance);
        cli_json_key(j, "performance");
        cli_json_num(j, d->performance);
        cli_json_key(j, "high_importance");
        cli_json_bool(j, d->high_importance != 0);
        cli_json_end_obj(j);
    }
    cli_json_end_arr(j);
}

static void print_estimate_text(FILE *f, const custscore_csi_result *r,
                                const custscore_csi_estimate *e)
{
    const char *target = r->construct_names[r->target];
    fprintf(f, "  %s index %.2f", target, e->index);
    if (!isnan(e->index_low))
        fprintf(f, "  (bootstrap interval %.2f .. %.2f, se %.2f)", e->index_low, e->index_high,
                e->index_se);
    fprintf(f, "\n  respondents %zu", e->n);
    if (e->n_dropped)
        fprintf(f, " (%zu left out)", e->n_dropped);
    fprintf(f, "; equal-weight index %.2f\n", e->index_equal);
    if (e->message && *e->message)
        fprintf(f, "  note: %s\n", e->message);
    if (e->has_nps)
        fprintf(f,
                "  NPS %.1f (se %.1f, 95%% %.1f .. %.1f; %zu answers: %zu promoters, %zu "
                "passives, %zu detractors)\n",
                e->nps.nps, e->nps.se, e->nps.low, e->nps.high, e->nps.n, e->nps.promoters,
                e->nps.passives, e->nps.detractors);
}

static void print_text(FILE *f, const custscore_csi_result *r, int bootstrap)
{
    const custscore_csi_estimate *e = &r->overall;
    size_t k = r->n_constructs;
    fprintf(f, "Satisfaction index: model %s, %s scheme%s\n", r->model, scheme_names[r->scheme],
            bootstrap ? "" : " (no bootstrap: --bootstrap 500 for an interval)");
    print_estimate_text(f, r, e);
    fprintf(f, "  weights of the %s items:", r->construct_names[r->target]);
    for (size_t i = 0; i < r->n_items; i++)
        if (r->item_construct[i] == (int)r->target)
            fprintf(f, " %s %.3f", r->item_names[i], e->weights[i]);
    fprintf(f, "\n\n  %-20s %8s %8s %8s %8s %8s\n", "construct", "index", "R2", "alpha", "rhoC",
            "AVE");
    for (size_t c = 0; c < k; c++) {
        char r2[16] = "       -";
        if (!isnan(e->r2[c]))
            snprintf(r2, sizeof r2, "%8.3f", e->r2[c]);
        fprintf(f, "  %-20s %8.2f %s %8.3f %8.3f %8.3f\n", r->construct_names[c],
                e->construct_index[c], r2, e->alpha[c], e->rho_c[c], e->ave[c]);
    }
    if (e->n_drivers) {
        fprintf(f, "\n  importance-performance (weakest high-importance driver first)\n");
        fprintf(f, "  %-20s %10s %11s\n", "driver", "importance", "performance");
        for (size_t i = 0; i < e->n_drivers; i++) {
            const custscore_csi_driver *d = &e->drivers[i];
            fprintf(f, "  %-20s %10.3f %11.2f%s\n", r->construct_names[d->construct], d->importance,
                    d->performance, d->high_importance ? "  high" : "");
        }
    }
    for (size_t g = 0; g < r->n_groups; g++) {
        if (g == 0)
            fprintf(f, "\n  %-16s %6s %8s %17s %8s\n", "group", "n", "index", "interval", "NPS");
        const custscore_csi_estimate *ge = &r->groups[g];
        char interval[40] = "";
        if (!isnan(ge->index_low))
            snprintf(interval, sizeof interval, "%.2f .. %.2f", ge->index_low, ge->index_high);
        fprintf(f, "  %-16s %6zu %8.2f %17s %8.1f%s%s\n", ge->group, ge->n, ge->index, interval,
                ge->has_nps ? ge->nps.nps : NAN, ge->status ? "  " : "",
                ge->status ? status_names[ge->status] : "");
    }
}

static void csv_row(FILE *f, const char *group, const char *quantity, const char *name,
                    double value, const double *se, const double *low, const double *high, size_t i)
{
    cli_csv_str(f, *group ? group : "all", false);
    cli_csv_str(f, quantity, false);
    cli_csv_str(f, name, false);
    cli_csv_num(f, value, false);
    if (se) {
        cli_csv_num(f, se[i], false);
        cli_csv_num(f, low[i], false);
        cli_csv_num(f, high[i], true);
    } else {
        fputs(",,\n", f);
    }
}

static void write_csv_estimate(FILE *f, const custscore_csi_result *r,
                               const custscore_csi_estimate *e)
{
    size_t k = r->n_constructs;
    const char *g = e->group;
    const char *target = r->construct_names[r->target];
    double se = e->index_se, lo = e->index_low, hi = e->index_high;
    csv_row(f, g, "index", target, e->index, isnan(se) ? NULL : &se, &lo, &hi, 0);
    csv_row(f, g, "index_equal_weights", target, e->index_equal, NULL, NULL, NULL, 0);
    csv_row(f, g, "respondents", "", (double)e->n, NULL, NULL, NULL, 0);
    csv_row(f, g, "gof", "", e->gof, NULL, NULL, NULL, 0);
    for (size_t c = 0; c < k; c++) {
        const char *name = r->construct_names[c];
        csv_row(f, g, "construct_index", name, e->construct_index[c], NULL, NULL, NULL, c);
        csv_row(f, g, "r2", name, e->r2[c], NULL, NULL, NULL, c);
        csv_row(f, g, "r2_adj", name, e->r2_adj[c], NULL, NULL, NULL, c);
        csv_row(f, g, "alpha", name, e->alpha[c], NULL, NULL, NULL, c);
        csv_row(f, g, "rho_c", name, e->rho_c[c], NULL, NULL, NULL, c);
        csv_row(f, g, "ave", name, e->ave[c], NULL, NULL, NULL, c);
    }
    for (size_t i = 0; i < r->n_items; i++) {
        const char *name = r->item_names[i];
        csv_row(f, g, "weight", name, e->weights[i], NULL, NULL, NULL, i);
        csv_row(f, g, "outer_weight", name, e->outer_weights[i], e->outer_weights_se,
                e->outer_weights_low, e->outer_weights_high, i);
        csv_row(f, g, "loading", name, e->loadings[i], NULL, NULL, NULL, i);
    }
    for (size_t a = 0; a < k; a++)
        for (size_t b = 0; b < k; b++) {
            double v = e->paths[a * k + b];
            double t = e->total_effects[a * k + b];
            char name[600];
            snprintf(name, sizeof name, "%s->%s", r->construct_names[a], r->construct_names[b]);
            if (r->paths[a * k + b])
                csv_row(f, g, "path", name, v, e->paths_se, e->paths_low, e->paths_high, a * k + b);
            if (t != 0 && !isnan(t))
                csv_row(f, g, "total_effect", name, t, NULL, NULL, NULL, 0);
        }
    if (e->has_nps) {
        double nse = e->nps.se, nlo = e->nps.low, nhi = e->nps.high;
        csv_row(f, g, "nps", r->nps_item, e->nps.nps, &nse, &nlo, &nhi, 0);
    }
    for (size_t i = 0; i < e->n_drivers; i++) {
        const char *name = r->construct_names[e->drivers[i].construct];
        csv_row(f, g, "importance", name, e->drivers[i].importance, NULL, NULL, NULL, 0);
        csv_row(f, g, "performance", name, e->drivers[i].performance, NULL, NULL, NULL, 0);
    }
}

typedef struct customer_out {
    FILE *f;
    size_t n;
} customer_out;

static int write_customer(const char *customer, int64_t ts, double satisfaction, void *payload)
{
    customer_out *o = payload;
    cli_csv_str(o->f, customer, false);
    cli_csv_date(o->f, ts, false);
    cli_csv_num(o->f, satisfaction, true);
    o->n++;
    return 0;
}

int cmd_csi(cli *c, int argc, char **argv)
{
    cli_args a;
    cli_args_init(&a, argc, argv);
    custscore_csi_options opt = CUSTSCORE_CSI_OPTIONS_INIT;
    const char *model_arg = "ecsi", *items = NULL, *out_path = NULL, *customers_path = NULL;
    double scale_lo = 0, scale_hi = 0;
    int64_t as_of = 0;
    bool save = false;
    int status = 0;
    while (a.i < argc && status == 0) {
        long v = 0;
        double d = 0;
        if (cli_flag(&a, "--help")) {
            fputs(csi_usage, stdout);
            return CLI_EXIT_OK;
        } else if (cli_opt(&a, "--model", &status)) {
            model_arg = a.value;
        } else if (cli_opt(&a, "--items", &status)) {
            items = a.value;
        } else if (cli_opt(&a, "--scale", &status)) {
            if (a.value && !parse_scale(a.value, &scale_lo, &scale_hi))
                return cli_usage("csi: --scale takes MIN..MAX, e.g. 1..10");
        } else if (cli_opt(&a, "--nps", &status)) {
            opt.nps_item = a.value;
        } else if (cli_opt(&a, "--scheme", &status)) {
            if (!a.value)
                break;
            if (strcmp(a.value, "path") == 0)
                opt.scheme = CUSTSCORE_PLS_PATH;
            else if (strcmp(a.value, "centroid") == 0)
                opt.scheme = CUSTSCORE_PLS_CENTROID;
            else if (strcmp(a.value, "factorial") == 0)
                opt.scheme = CUSTSCORE_PLS_FACTORIAL;
            else
                return cli_usage("csi: --scheme is path, centroid or factorial");
        } else if (cli_flag(&a, "--standardize")) {
            opt.scaling = CUSTSCORE_PLS_STANDARDIZE;
        } else if (cli_opt(&a, "--missing", &status)) {
            if (!a.value)
                break;
            if (strcmp(a.value, "mean") == 0)
                opt.missing = CUSTSCORE_PLS_MISSING_MEAN;
            else if (strcmp(a.value, "listwise") == 0)
                opt.missing = CUSTSCORE_PLS_MISSING_LISTWISE;
            else
                return cli_usage("csi: --missing is mean or listwise");
        } else if (cli_opt(&a, "--bootstrap", &status)) {
            if (a.value && (!cli_parse_int(a.value, &v) || v < 0 || v > 100000))
                return cli_usage("csi: --bootstrap takes 0..100000 resamples");
            opt.bootstrap = (int)v;
        } else if (cli_opt(&a, "--seed", &status)) {
            if (a.value && (!cli_parse_int(a.value, &v) || v < 0))
                return cli_usage("csi: --seed takes a number >= 0");
            opt.seed = (uint64_t)v;
        } else if (cli_opt(&a, "--level", &status)) {
            if (a.value && (!cli_parse_double(a.value, &d) || !(d > 0 && d < 1)))
                return cli_usage("csi: --level takes a number between 0 and 1, e.g. 0.95");
            opt.level = d;
        } else if (cli_opt(&a, "--min-respondents", &status)) {
            if (a.value && (!cli_parse_int(a.value, &v) || v < 1))
                return cli_usage("csi: --min-respondents takes a number >= 1");
            opt.min_respondents = (size_t)v;
        } else if (cli_opt(&a, "--by", &status)) {
            if (!a.value)
                break;
            if (strcmp(a.value, "quarter") == 0) {
                opt.by = CUSTSCORE_CSI_BY_QUARTER;
            } else if (strcmp(a.value, "month") == 0) {
                opt.by = CUSTSCORE_CSI_BY_MONTH;
            } else if (strcmp(a.value, "year") == 0) {
                opt.by = CUSTSCORE_CSI_BY_YEAR;
            } else {
                opt.by = CUSTSCORE_CSI_BY_ATTRIBUTE;
                opt.by_attribute = a.value;
            }
        } else if (cli_opt(&a, "--from", &status)) {
            if (a.value && !cli_parse_date(a.value, &opt.from))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--to", &status)) {
            if (a.value && !cli_parse_date(a.value, &opt.to))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--as-of", &status)) {
            if (a.value && !cli_parse_date(a.value, &as_of))
                return CLI_EXIT_USAGE;
        } else if (cli_flag(&a, "--save")) {
            save = true;
        } else if (cli_opt(&a, "--out", &status)) {
            out_path = a.value;
        } else if (cli_opt(&a, "--customers", &status)) {
            customers_path = a.value;
        } else if (cli_flag(&a, "--json")) {
            c->json = true;
        } else {
            return cli_usage("csi: unknown argument '%s'\n%s", argv[a.i], csi_usage);
        }
    }
    if (status)
        return status;
    opt.save = save;
    status = cli_open_store(c, false, !save);
    if (status)
        return status;
    custscore_survey_model *m = NULL;
    status = csi_model(c, model_arg, &m);
    if (status)
        return status;
    char err[512];
    if (items && (status = custscore_survey_model_map_items(m, items, err, sizeof err)) != 0) {
        fprintf(stderr, "custscore: csi --items: %s\n", err);
        custscore_survey_model_free(m);
        return cli_exit_for(status);
    }
    if (scale_lo < scale_hi)
        custscore_survey_model_set_scale(m, NULL, scale_lo, scale_hi);
    custscore_csi_result *r = NULL;
    int rc = custscore_csi_compute(c->db, m, &opt, &r);
    if (rc && !r) {
        custscore_survey_model_free(m);
        return cli_fail(c, rc, "csi");
    }
    /* Results are printed also when PLS did not converge (exit 7). JSON goes to
     * --out when given; otherwise the text goes to stdout and --out gets CSV. */
    int exit_status = rc ? cli_fail(c, rc, "csi") : CLI_EXIT_OK;
    const char *main_path = c->json ? out_path : NULL;
    FILE *f = cli_open_out(main_path);
    if (!f) {
        custscore_csi_result_free(r);
        custscore_survey_model_free(m);
        return CLI_EXIT_IO;
    }
    if (c->json) {
        cli_json j;
        cli_json_begin(&j, f);
        cli_json_obj(&j);
        cli_json_key(&j, "model");
        cli_json_str(&j, r->model);
        cli_json_key(&j, "target");
        cli_json_str(&j, r->construct_names[r->target]);
        cli_json_key(&j, "scheme");
        cli_json_str(&j, scheme_names[r->scheme]);
        json_estimate(&j, r, &r->overall);
        cli_json_key(&j, "groups");
        cli_json_arr(&j);
        for (size_t g = 0; g < r->n_groups; g++) {
            const custscore_csi_estimate *ge = &r->groups[g];
            cli_json_obj(&j);
            cli_json_key(&j, "group");
            cli_json_str(&j, ge->group);
            if (ge->period_end) {
                cli_json_key(&j, "from");
                cli_json_date(&j, ge->period_start);
                cli_json_key(&j, "to");
                cli_json_date(&j, ge->period_end);
            }
            json_estimate(&j, r, ge);
            cli_json_end_obj(&j);
        }
        cli_json_end_arr(&j);
        cli_json_end_obj(&j);
        cli_json_finish(&j);
    } else {
        print_text(f, r, opt.bootstrap);
    }
    int out_status = cli_close_out(f, main_path);
    if (out_status == 0 && out_path && !c->json) {
        f = cli_open_out(out_path);
        if (!f) {
            out_status = CLI_EXIT_IO;
        } else {
            fputs("group,quantity,name,value,se,low,high\n", f);
            write_csv_estimate(f, r, &r->overall);
            for (size_t g = 0; g < r->n_groups; g++)
                write_csv_estimate(f, r, &r->groups[g]);
            out_status = cli_close_out(f, out_path);
        }
    }
    if (out_status == 0 && customers_path) {
        f = cli_open_out(customers_path);
        if (!f) {
            out_status = CLI_EXIT_IO;
        } else {
            fputs("customer,date,satisfaction\n", f);
            customer_out co = {f, 0};
            rc = custscore_csi_customers(c->db, m, rc == 0 ? r : NULL, as_of, write_customer, &co);
            out_status = cli_close_out(f, customers_path);
            if (rc)
                out_status = cli_fail(c, rc, "csi --customers");
        }
    }
    custscore_csi_result_free(r);
    custscore_survey_model_free(m);
    return exit_status ? exit_status : out_status;
}

/* ---------------------------------------------------------------------- */

static const char servqual_usage[] =
    "usage: custscore servqual [--map DIMENSION=EXP/PERC+EXP/PERC,...]\n"
    "         [--importance T,R,R,A,E] [--out FILE.csv|-] [--json]\n"
    "  SERVQUAL gaps (perception - expectation) per item, per dimension (tangibles,\n"
    "  reliability, responsiveness, assurance, empathy) and overall, the weakest\n"
    "  dimension named. Without --map: items SQE1..22 / SQP1..22 of the 22-item\n"
    "  instrument. --importance: the five dimensions' importance points.\n";

int cmd_servqual(cli *c, int argc, char **argv)
{
    cli_args a;
    cli_args_init(&a, argc, argv);
    const char *map = NULL, *out_path = NULL;
    double importance[5];
    bool have_importance = false;
    int status = 0;
    while (a.i < argc && status == 0) {
        if (cli_flag(&a, "--help")) {
            fputs(servqual_usage, stdout);
            return CLI_EXIT_OK;
        } else if (cli_opt(&a, "--map", &status)) {
            map = a.value;
        } else if (cli_opt(&a, "--importance", &status)) {
            if (!a.value)
                break;
            const char *p = a.value;
            for (int d = 0; d < 5; d++) {
                char *end;
                importance[d] = strtod(p, &end);
                if (end == p || (d < 4 && *end != ',') || (d == 4 && *end) || !(importance[d] >= 0))
                    return cli_usage("servqual: --importance takes five numbers >= 0, e.g. "
                                     "10,30,25,20,15");
                p = end + 1;
            }
            have_importance = true;
        } else if (cli_opt(&a, "--out", &status)) {
            out_path = a.value;
        } else if (cli_flag(&a, "--json")) {
            c->json = true;
        } else {
            return cli_usage("servqual: unknown argument '%s'\n%s", argv[a.i], servqual_usage);
        }
    }
    if (status)
        return status;
    status = cli_open_store(c, false, true);
    if (status)
        return status;
    custscore_servqual_result *r = NULL;
    int rc = custscore_servqual_compute(c->db, map, have_importance ? importance : NULL, &r);
    if (rc)
        return cli_fail(c, rc, "servqual");
    FILE *f = cli_open_out(out_path);
    if (!f) {
        custscore_servqual_result_free(r);
        return CLI_EXIT_IO;
    }
    if (c->json) {
        cli_json j;
        cli_json_begin(&j, f);
        cli_json_obj(&j);
        cli_json_key(&j, "overall_gap");
        cli_json_num(&j, r->overall_gap);
        cli_json_key(&j, "weighted_gap");
        cli_json_num(&j, r->weighted_gap);
        cli_json_key(&j, "weakest");
        if (r->weakest >= 0)
            cli_json_str(&j, custscore_servqual_dimension_name(r->weakest));
        else
            cli_json_null(&j);
        cli_json_key(&j, "dimensions");
        cli_json_obj(&j);
        for (int d = 0; d < CUSTSCORE_SERVQUAL_DIMENSIONS; d++) {
            cli_json_key(&j, custscore_servqual_dimension_name(d));
            cli_json_obj(&j);
            cli_json_key(&j, "items");
            cli_json_int(&j, (int64_t)r->dimension_items[d]);
            cli_json_key(&j, "expectation");
            cli_json_num(&j, r->dimension_expectation[d]);
            cli_json_key(&j, "perception");
            cli_json_num(&j, r->dimension_perception[d]);
            cli_json_key(&j, "gap");
            cli_json_num(&j, r->dimension_gap[d]);
            cli_json_end_obj(&j);
        }
        cli_json_end_obj(&j);
        cli_json_key(&j, "items");
        cli_json_arr(&j);
        for (size_t i = 0; i < r->n_items; i++) {
            cli_json_obj(&j);
            cli_json_key(&j, "item");
            cli_json_str(&j, r->item_names[i]);
            cli_json_key(&j, "dimension");
            cli_json_str(&j, custscore_servqual_dimension_name(r->item_dimension[i]));
            cli_json_key(&j, "n");
            cli_json_int(&j, (int64_t)r->item_n[i]);
            cli_json_key(&j, "expectation");
            cli_json_num(&j, r->expectation[i]);
            cli_json_key(&j, "perception");
            cli_json_num(&j, r->perception[i]);
            cli_json_key(&j, "gap");
            cli_json_num(&j, r->gap[i]);
            cli_json_end_obj(&j);
        }
        cli_json_end_arr(&j);
        cli_json_end_obj(&j);
        cli_json_finish(&j);
    } else if (out_path) {
        fputs("item,dimension,n,expectation,perception,gap\n", f);
        for (size_t i = 0; i < r->n_items; i++) {
            cli_csv_str(f, r->item_names[i], false);
            cli_csv_str(f, custscore_servqual_dimension_name(r->item_dimension[i]), false);
            cli_csv_int(f, (int64_t)r->item_n[i], false);
            cli_csv_num(f, r->expectation[i], false);
            cli_csv_num(f, r->perception[i], false);
            cli_csv_num(f, r->gap[i], true);
        }
    } else {
        fprintf(f, "SERVQUAL gaps (perception - expectation)\n  %-16s %5s %11s %10s %7s\n",
                "dimension", "items", "expectation", "perception", "gap");
        for (int d = 0; d < CUSTSCORE_SERVQUAL_DIMENSIONS; d++)
            fprintf(f, "  %-16s %5zu %11.2f %10.2f %7.2f\n", custscore_servqual_dimension_name(d),
                    r->dimension_items[d], r->dimension_expectation[d], r->dimension_perception[d],
                    r->dimension_gap[d]);
        fprintf(f, "  overall gap %.2f", r->overall_gap);
        if (!isnan(r->weighted_gap))
            fprintf(f, ", weighted by importance %.2f", r->weighted_gap);
        if (r->weakest >= 0)
            fprintf(f, "; weakest dimension: %s", custscore_servqual_dimension_name(r->weakest));
        fputc('\n', f);
    }
    custscore_servqual_result_free(r);
    return cli_close_out(f, out_path);
}

/* ---------------------------------------------------------------------- */

static const char kano_usage[] =
    "usage: custscore kano --features FEATURE=FUNCTIONAL/DYSFUNCTIONAL,... [--out FILE.csv|-]\n"
    "         [--json]\n"
    "  Kano classification of each feature from its functional / dysfunctional\n"
    "  question pair (answers 1 like, 2 expect, 3 neutral, 4 live with, 5 dislike):\n"
    "  counts per category, the winning category and Berger et al.'s better/worse.\n";

int cmd_kano(cli *c, int argc, char **argv)
{
    cli_args a;
    cli_args_init(&a, argc, argv);
    const char *features = NULL, *out_path = NULL;
    int status = 0;
    while (a.i < argc && status == 0) {
        if (cli_flag(&a, "--help")) {
            fputs(kano_usage, stdout);
            return CLI_EXIT_OK;
        } else if (cli_opt(&a, "--features", &status)) {
            features = a.value;
        } else if (cli_opt(&a, "--out", &status)) {
            out_path = a.value;
        } else if (cli_flag(&a, "--json")) {
            c->json = true;
        } else {
            return cli_usage("kano: unknown argument '%s'\n%s", argv[a.i], kano_usage);
        }
    }
    if (status)
        return status;
    if (!features)
        return cli_usage("kano: --features is required\n%s", kano_usage);
    status = cli_open_store(c, false, true);
    if (status)
        return status;
    custscore_kano_result *r = NULL;
    int rc = custscore_kano_compute(c->db, features, &r);
    if (rc)
        return cli_fail(c, rc, "kano");
    FILE *f = cli_open_out(out_path);
    if (!f) {
        custscore_kano_result_free(r);
        return CLI_EXIT_IO;
    }
    if (c->json) {
        cli_json j;
        cli_json_begin(&j, f);
        cli_json_obj(&j);
        cli_json_key(&j, "features");
        cli_json_arr(&j);
        for (size_t i = 0; i < r->n_features; i++) {
            const custscore_kano_feature *ft = &r->features[i];
            cli_json_obj(&j);
            cli_json_key(&j, "feature");
            cli_json_str(&j, ft->name);
            cli_json_key(&j, "n");
            cli_json_int(&j, (int64_t)ft->n);
            cli_json_key(&j, "counts");
            cli_json_obj(&j);
            for (int k = 0; k < CUSTSCORE_KANO_CATEGORIES; k++) {
                cli_json_key(&j, custscore_kano_category_name(k));
                cli_json_int(&j, (int64_t)ft->count[k]);
            }
            cli_json_end_obj(&j);
            cli_json_key(&j, "category");
            if (ft->category >= 0)
                cli_json_str(&j, custscore_kano_category_name(ft->category));
            else
                cli_json_null(&j);
            cli_json_key(&j, "better");
            cli_json_num(&j, ft->better);
            cli_json_key(&j, "worse");
            cli_json_num(&j, ft->worse);
            cli_json_end_obj(&j);
        }
        cli_json_end_arr(&j);
        cli_json_end_obj(&j);
        cli_json_finish(&j);
    } else {
        fputs("feature,n,A,O,M,I,R,Q,category,better,worse\n", f);
        for (size_t i = 0; i < r->n_features; i++) {
            const custscore_kano_feature *ft = &r->features[i];
            cli_csv_str(f, ft->name, false);
            cli_csv_int(f, (int64_t)ft->n, false);
            for (int k = 0; k < CUSTSCORE_KANO_CATEGORIES; k++)
                cli_csv_int(f, (int64_t)ft->count[k], false);
            cli_csv_str(f, ft->category >= 0 ? custscore_kano_category_name(ft->category) : "",
                        false);
            cli_csv_num(f, ft->better, false);
            cli_csv_num(f, ft->worse, true);
        }
    }
    custscore_kano_result_free(r);
    return cli_close_out(f, out_path);
}
