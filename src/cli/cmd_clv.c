/*
 * cmd_clv.c: `custscore fit` (fit and save a purchase or spend model, or
 * validate one on a holdout period) and `custscore clv` (discounted customer
 * lifetime value of every customer, or of one).
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char fit_usage[] =
    "usage: custscore fit --model bgnbd|mbgnbd|pnbd|gg --as-of DATE [--unit week]\n"
    "         [--name NAME] [--penalty 0] [--starts 3] [--max-iterations 500]\n"
    "         [--tolerance 1e-7] [--zero-revenue adjustment|purchase] [--no-save] [--json]\n"
    "       custscore fit --model bgnbd|mbgnbd|pnbd --as-of DATE --holdout-end DATE\n"
    "         [--censor 7] [--out FILE.csv|-] [--json]\n"
    "Fits by maximum likelihood on each customer's summary as of DATE (the\n"
    "calibration end) and saves the model (not with --holdout-end, which compares\n"
    "the model's expected purchases after DATE with the actual ones, by calibration\n"
    "frequency; --out writes customer,x,t_x,T,actual,predicted).\n";

static const char clv_usage[] =
    "usage: custscore clv --as-of DATE [--horizon 12m] [--discount 0.10] [--margin M]\n"
    "         [--interval 0.90] [--draws 200] [--seed 1] [--model NAME]\n"
    "         [--spend-model gg] [--customer KEY] [--out FILE.csv|-] [--json]\n"
    "Discounted residual lifetime value over the horizon (periods of its unit;\n"
    "a month is 30.436875 days), annual discount rate (0.10 or 10%), margin\n"
    "(default: from the store's costs, else 1), with an interval from parameter\n"
    "draws (--interval 0 for none). Needs a fitted purchase model and a gg model.\n"
    "columns: customer,p_alive,expected_purchases,expected_spend,clv,clv_low,clv_high\n";

static void json_fit(cli_json *j, const custscore_fit_info *f)
{
    cli_json_key(j, "model");
    cli_json_str(j, custscore_model_name(f->model));
    if (f->name[0]) {
        cli_json_key(j, "name");
        cli_json_str(j, f->name);
    }
    cli_json_key(j, "unit");
    cli_json_str(j, cli_unit_name(f->unit));
    cli_json_key(j, "as_of");
    cli_json_date(j, f->as_of);
    cli_json_key(j, "n");
    cli_json_int(j, f->n);
    cli_json_key(j, "params");
    cli_json_obj(j);
    for (int k = 0; k < f->n_params; k++) {
        cli_json_key(j, f->param_name[k]);
        cli_json_num(j, f->param[k]);
    }
    cli_json_end_obj(j);
    cli_json_key(j, "stderr");
    cli_json_obj(j);
    for (int k = 0; k < f->n_params; k++) {
        cli_json_key(j, f->param_name[k]);
        cli_json_num(j, f->std_error[k]);
    }
    cli_json_end_obj(j);
    cli_json_key(j, "loglik");
    cli_json_num(j, f->loglik);
    cli_json_key(j, "aic");
    cli_json_num(j, f->aic);
    cli_json_key(j, "bic");
    cli_json_num(j, f->bic);
    cli_json_key(j, "converged");
    cli_json_bool(j, f->status == CUSTSCORE_FIT_CONVERGED);
    cli_json_key(j, "iterations");
    cli_json_int(j, f->iterations);
    cli_json_key(j, "evaluations");
    cli_json_int(j, f->evaluations);
    cli_json_key(j, "gradient_norm");
    cli_json_num(j, f->gradient_norm);
    cli_json_key(j, "starts");
    cli_json_int(j, f->starts);
    cli_json_key(j, "starts_converged");
    cli_json_int(j, f->starts_converged);
    cli_json_key(j, "starts_agreeing");
    cli_json_int(j, f->starts_agreeing);
    cli_json_key(j, "penalty");
    cli_json_num(j, f->penalty);
    cli_json_key(j, "n_unique");
    cli_json_int(j, f->n_unique);
    cli_json_key(j, "n_excluded");
    cli_json_int(j, f->n_excluded);
    if (f->model == CUSTSCORE_MODEL_GG) {
        cli_json_key(j, "spend_frequency_corr");
        cli_json_num(j, f->spend_frequency_corr);
        cli_json_key(j, "mean_spend");
        cli_json_num(j, f->mean_spend);
    }
    if (f->model_id) {
        cli_json_key(j, "model_id");
        cli_json_int(j, f->model_id);
    }
}

static void print_fit(FILE *out, const custscore_fit_info *f)
{
    char date[32];
    custscore_format_time(f->as_of, 1, date, sizeof date);
    fprintf(out, "%s as of %s, time unit %s, %lld customers (%lld patterns)%s\n",
            custscore_model_name(f->model), date, cli_unit_name(f->unit), (long long)f->n,
            (long long)f->n_unique, f->model_id ? "" : " (not saved)");
    for (int k = 0; k < f->n_params; k++)
        fprintf(out, "  %-6s %12.6g  (se %.3g)\n", f->param_name[k], f->param[k], f->std_error[k]);
    fprintf(out, "  loglik %.4f, AIC %.2f, BIC %.2f\n", f->loglik, f->aic, f->bic);
    fprintf(out,
            "  converged in %d iterations (%d evaluations), |gradient| %.2g; %d of %d starts "
            "converged, %d agree\n",
            f->iterations, f->evaluations, f->gradient_norm, f->starts_converged, f->starts,
            f->starts_agreeing);
    if (f->model == CUSTSCORE_MODEL_GG) {
        fprintf(out, "  %lld customers without repeat purchases of positive value left out\n",
                (long long)f->n_excluded);
        fprintf(out, "  correlation of frequency and spend: %.3f%s\n", f->spend_frequency_corr,
                fabs(f->spend_frequency_corr) > 0.3 ? " (high: the model assumes independence)"
                                                    : "");
    }
    if (f->model_id)
        fprintf(out, "  saved as '%s' (model id %lld)\n", f->name, (long long)f->model_id);
}

typedef struct holdout_out {
    FILE *f;
} holdout_out;

static int holdout_row(const custscore_holdout_customer *c, void *payload)
{
    FILE *f = ((holdout_out *)payload)->f;
    cli_csv_str(f, c->customer, false);
    cli_csv_int(f, c->x, false);
    cli_csv_num(f, c->t_x, false);
    cli_csv_num(f, c->T, false);
    cli_csv_int(f, c->actual, false);
    cli_csv_num(f, c->predicted, true);
    return 0;
}

static int run_holdout(cli *c, int64_t as_of, int64_t holdout_end, const custscore_fit_options *o,
                       long censor, const char *out_path)
{
    holdout_out ho = {NULL};
    if (out_path) {
        ho.f = cli_open_out(out_path);
        if (!ho.f)
            return CLI_EXIT_IO;
        fputs("customer,x,t_x,T,actual,predicted\n", ho.f);
    }
    custscore_holdout_report r;
    int rc = custscore_holdout(c->db, as_of, holdout_end, o, (int)censor, ho.f ? holdout_row : NULL,
                               &ho, &r);
    if (ho.f) {
        int st = cli_close_out(ho.f, out_path);
        if (rc == 0 && st != 0) {
            custscore_holdout_free(&r);
            return st;
        }
    }
    if (rc)
        return cli_fail(c, rc, "fit --holdout-end");
    FILE *out = out_path && strcmp(out_path, "-") == 0 ? stderr : stdout;
    if (c->json) {
        cli_json j;
        cli_json_begin(&j, out);
        cli_json_obj(&j);
        json_fit(&j, &r.fit);
        cli_json_key(&j, "holdout");
        cli_json_obj(&j);
        cli_json_key(&j, "calibration_end");
        cli_json_date(&j, r.calibration_end);
        cli_json_key(&j, "holdout_end");
        cli_json_date(&j, r.holdout_end);
        cli_json_key(&j, "length");
        cli_json_num(&j, r.holdout_length);
        cli_json_key(&j, "customers");
        cli_json_int(&j, r.customers);
        cli_json_key(&j, "actual_total");
        cli_json_num(&j, r.actual_total);
        cli_json_key(&j, "predicted_total");
        cli_json_num(&j, r.predicted_total);
        cli_json_key(&j, "mae");
        cli_json_num(&j, r.mae);
        cli_json_key(&j, "rmse");
        cli_json_num(&j, r.rmse);
        cli_json_key(&j, "correlation");
        cli_json_num(&j, r.correlation);
        cli_json_key(&j, "by_x");
        cli_json_arr(&j);
        for (size_t k = 0; k < r.n_rows; k++) {
            cli_json_obj(&j);
            cli_json_key(&j, "x");
            cli_json_int(&j, r.rows[k].x);
            cli_json_key(&j, "x_or_more");
            cli_json_bool(&j, k + 1 == r.n_rows);
            cli_json_key(&j, "customers");
            cli_json_int(&j, r.rows[k].customers);
            cli_json_key(&j, "actual");
            cli_json_num(&j, r.rows[k].actual);
            cli_json_key(&j, "predicted");
            cli_json_num(&j, r.rows[k].predicted);
            cli_json_end_obj(&j);
        }
        cli_json_end_arr(&j);
        cli_json_end_obj(&j);
        cli_json_end_obj(&j);
        cli_json_finish(&j);
    } else {
        print_fit(out, &r.fit);
        char d1[32], d2[32];
        custscore_format_time(r.calibration_end, 1, d1, sizeof d1);
        custscore_format_time(r.holdout_end, 1, d2, sizeof d2);
        fprintf(out, "holdout %s .. %s (%.2f %ss), %lld customers\n", d1, d2, r.holdout_length,
                cli_unit_name(r.fit.unit), (long long)r.customers);
        fprintf(out,
                "  purchases: actual %.0f, predicted %.1f (%+.1f%%); per customer MAE %.3f, "
                "RMSE %.3f, correlation %.3f\n",
                r.actual_total, r.predicted_total,
                r.actual_total > 0 ? 100 * (r.predicted_total / r.actual_total - 1) : 0.0, r.mae,
                r.rmse, r.correlation);
        fprintf(out, "  %-6s %9s %9s %9s   (mean holdout purchases by calibration x)\n", "x",
                "customers", "actual", "predicted");
        for (size_t k = 0; k < r.n_rows; k++) {
            char label[32];
            snprintf(label, sizeof label, "%lld%s", (long long)r.rows[k].x,
                     k + 1 == r.n_rows ? "+" : "");
            fprintf(out, "  %-6s %9lld %9.3f %9.3f\n", label, (long long)r.rows[k].customers,
                    r.rows[k].actual, r.rows[k].predicted);
        }
    }
    custscore_holdout_free(&r);
    return CLI_EXIT_OK;
}

int cmd_fit(cli *c, int argc, char **argv)
{
    cli_args a;
    cli_args_init(&a, argc, argv);
    int status = 0;
    custscore_fit_options o = CUSTSCORE_FIT_OPTIONS_INIT;
    int64_t as_of = 0, holdout_end = 0;
    bool have_as_of = false, have_model = false, have_holdout = false;
    long censor = 7, starts = 0, iterations = 0;
    const char *out_path = NULL;
    while (a.i < argc && status == 0) {
        if (cli_flag(&a, "--help")) {
            fputs(fit_usage, stdout);
            return CLI_EXIT_OK;
        } else if (cli_opt(&a, "--model", &status)) {
            if (a.value && custscore_model_parse(a.value, &o.model) != 0)
                return cli_usage("fit: --model is bgnbd, mbgnbd, pnbd or gg");
            have_model = true;
        } else if (cli_opt(&a, "--as-of", &status)) {
            if (a.value && !cli_parse_date(a.value, &as_of))
                return CLI_EXIT_USAGE;
            have_as_of = true;
        } else if (cli_opt(&a, "--holdout-end", &status)) {
            if (a.value && !cli_parse_date(a.value, &holdout_end))
                return CLI_EXIT_USAGE;
            have_holdout = true;
        } else if (cli_opt(&a, "--unit", &status)) {
            if (a.value && !cli_parse_unit(a.value, &o.unit))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--name", &status)) {
            o.name = a.value;
        } else if (cli_opt(&a, "--penalty", &status)) {
            if (a.value && (!cli_parse_double(a.value, &o.penalty) || o.penalty < 0))
                return cli_usage("fit: --penalty is a number >= 0");
        } else if (cli_opt(&a, "--starts", &status)) {
            if (a.value && (!cli_parse_int(a.value, &starts) || starts < 1 || starts > 8))
                return cli_usage("fit: --starts is 1..8");
            o.starts = (int)starts;
        } else if (cli_opt(&a, "--max-iterations", &status)) {
            if (a.value &&
                (!cli_parse_int(a.value, &iterations) || iterations < 1 || iterations > 1000000))
                return cli_usage("fit: --max-iterations is 1..1000000");
            o.max_iterations = (int)iterations;
        } else if (cli_opt(&a, "--tolerance", &status)) {
            if (a.value && (!cli_parse_double(a.value, &o.tolerance) || o.tolerance <= 0))
                return cli_usage("fit: --tolerance is a number > 0");
        } else if (cli_opt(&a, "--zero-revenue", &status)) {
            if (a.value && strcmp(a.value, "purchase") == 0)
                o.zero = CUSTSCORE_ZERO_REVENUE_PURCHASE;
            else if (a.value && strcmp(a.value, "adjustment") == 0)
                o.zero = CUSTSCORE_ZERO_REVENUE_ADJUSTMENT;
            else if (a.value)
                return cli_usage("fit: --zero-revenue is adjustment or purchase");
        } else if (cli_opt(&a, "--censor", &status)) {
            if (a.value && (!cli_parse_int(a.value, &censor) || censor < 1 || censor > 1000))
                return cli_usage("fit: --censor is 1..1000");
        } else if (cli_opt(&a, "--out", &status)) {
            out_path = a.value;
        } else if (cli_flag(&a, "--no-save")) {
            o.no_store = 1;
        } else if (cli_flag(&a, "--json")) {
            c->json = true;
        } else {
            return cli_usage("fit: unknown argument '%s' (see custscore fit --help)", argv[a.i]);
        }
    }
    if (status)
        return status;
    if (!have_model)
        return cli_usage("fit: --model bgnbd|mbgnbd|pnbd|gg is required");
    if (!have_as_of)
        return cli_usage("fit: --as-of DATE is required");
    if (out_path && !have_holdout)
        return cli_usage("fit: --out goes with --holdout-end");
    if (have_holdout && o.model == CUSTSCORE_MODEL_GG)
        return cli_usage("fit: --holdout-end compares purchases: use a purchase model");
    status = cli_open_store(c, false, have_holdout || o.no_store);
    if (status)
        return status;
    if (have_holdout)
        return run_holdout(c, as_of, holdout_end, &o, censor, out_path);
    cli_progress(c, "fitting %s ...", custscore_model_name(o.model));
    custscore_fit_info f;
    int rc = custscore_fit(c->db, as_of, &o, &f);
    cli_progress_done(c);
    if (rc)
        return cli_fail(c, rc, "fit");
    if (c->json) {
        cli_json j;
        cli_json_begin(&j, stdout);
        cli_json_obj(&j);
        json_fit(&j, &f);
        cli_json_end_obj(&j);
        cli_json_finish(&j);
    } else {
        print_fit(stdout, &f);
    }
    return CLI_EXIT_OK;
}

/* ---------------------------------------------------------------------- */

typedef struct clv_out {
    FILE *f;
    cli_json *j;
    cli *c;
    int64_t done;
    bool started; /* header or JSON opening written */
} clv_out;

/* The CSV header or the JSON object's opening, written with the first row
 * (or after success), so that a failure prints nothing but the error. */
static void clv_start(clv_out *o)
{
    if (o->started)
        return;
    o->started = true;
    if (o->j) {
        cli_json_begin(o->j, o->f);
        cli_json_obj(o->j);
        cli_json_key(o->j, "rows");
        cli_json_arr(o->j);
    } else {
        fputs("customer,p_alive,expected_purchases,expected_spend,clv,clv_low,clv_high\n", o->f);
    }
}

static void clv_json_row(cli_json *j, const custscore_clv_row *r)
{
    cli_json_obj(j);
    cli_json_key(j, "customer");
    cli_json_str(j, r->customer);
    cli_json_key(j, "x");
    cli_json_int(j, r->x);
    cli_json_key(j, "t_x");
    cli_json_num(j, r->t_x);
    cli_json_key(j, "T");
    cli_json_num(j, r->T);
    cli_json_key(j, "p_alive");
    cli_json_num(j, r->p_alive);
    cli_json_key(j, "expected_purchases");
    cli_json_num(j, r->expected_purchases);
    cli_json_key(j, "expected_spend");
    cli_json_num(j, r->expected_spend);
    cli_json_key(j, "clv");
    cli_json_num(j, r->clv);
    cli_json_key(j, "clv_low");
    cli_json_num(j, r->clv_low);
    cli_json_key(j, "clv_high");
    cli_json_num(j, r->clv_high);
    cli_json_end_obj(j);
}

static int clv_row(const custscore_clv_row *r, void *payload)
{
    clv_out *o = payload;
    clv_start(o);
    if (o->j) {
        clv_json_row(o->j, r);
    } else {
        cli_csv_str(o->f, r->customer, false);
        cli_csv_num(o->f, r->p_alive, false);
        cli_csv_num(o->f, r->expected_purchases, false);
        cli_csv_num(o->f, r->expected_spend, false);
        cli_csv_num(o->f, r->clv, false);
        cli_csv_num(o->f, r->clv_low, false);
        cli_csv_num(o->f, r->clv_high, true);
    }
    if (++o->done % 100000 == 0)
        cli_progress(o->c, "clv: %lld customers", (long long)o->done);
    return ferror(o->f) ? CUSTSCORE_EIO : 0;
}

static void clv_json_info(cli_json *j, const custscore_clv_info *in)
{
    cli_json_key(j, "as_of");
    cli_json_date(j, in->as_of);
    cli_json_key(j, "model");
    cli_json_str(j, custscore_model_name(in->purchase_model));
    cli_json_key(j, "model_name");
    cli_json_str(j, in->purchase_model_name);
    cli_json_key(j, "spend_model_name");
    cli_json_str(j, in->spend_model_name);
    cli_json_key(j, "unit");
    cli_json_str(j, cli_unit_name(in->unit));
    cli_json_key(j, "horizon");
    cli_json_num(j, in->horizon);
    cli_json_key(j, "horizon_unit");
    cli_json_str(j, cli_unit_name(in->horizon_unit));
    cli_json_key(j, "horizon_in_unit");
    cli_json_num(j, in->horizon_in_unit);
    cli_json_key(j, "periods");
    cli_json_int(j, in->periods);
    cli_json_key(j, "discount_rate");
    cli_json_num(j, in->discount_rate);
    cli_json_key(j, "margin");
    cli_json_num(j, in->margin);
    cli_json_key(j, "margin_from_costs");
    cli_json_bool(j, in->margin_from_costs != 0);
    cli_json_key(j, "interval_level");
    cli_json_num(j, in->interval_level);
    cli_json_key(j, "interval_draws");
    cli_json_int(j, in->interval_draws);
    cli_json_key(j, "seed");
    cli_json_int(j, (int64_t)in->seed);
    cli_json_key(j, "customers");
    cli_json_int(j, in->customers);
    cli_json_key(j, "total_clv");
    cli_json_num(j, in->total_clv);
}

static void clv_note(const custscore_clv_info *in)
{
    fprintf(stderr,
            "clv: %s model '%s' (%ss), spend model '%s'; horizon %g %s(s) = %.4g %ss in %d "
            "periods, discount %.4g%%/year, margin %.4g%s",
            custscore_model_name(in->purchase_model), in->purchase_model_name,
            cli_unit_name(in->unit), in->spend_model_name, in->horizon,
            cli_unit_name(in->horizon_unit), in->horizon_in_unit, cli_unit_name(in->unit),
            in->periods, 100 * in->discount_rate, in->margin,
            in->margin_from_costs ? " (from the store's costs)" : "");
    if (in->interval_draws > 0)
        fprintf(stderr, ", %g%% interval from %d draws (seed %llu)", 100 * in->interval_level,
                in->interval_draws, (unsigned long long)in->seed);
    fprintf(stderr, "; %lld customers, total %.2f\n", (long long)in->customers, in->total_clv);
}

int cmd_clv(cli *c, int argc, char **argv)
{
    cli_args a;
    cli_args_init(&a, argc, argv);
    int status = 0;
    custscore_clv_options o = CUSTSCORE_CLV_OPTIONS_INIT;
    int64_t as_of = 0;
    bool have_as_of = false;
    const char *out_path = NULL, *customer = NULL;
    long draws = 0;
    while (a.i < argc && status == 0) {
        if (cli_flag(&a, "--help")) {
            fputs(clv_usage, stdout);
            return CLI_EXIT_OK;
        } else if (cli_opt(&a, "--as-of", &status)) {
            if (a.value && !cli_parse_date(a.value, &as_of))
                return CLI_EXIT_USAGE;
            have_as_of = true;
        } else if (cli_opt(&a, "--horizon", &status)) {
            if (a.value && !cli_parse_duration(a.value, &o.horizon, &o.horizon_unit))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--discount", &status)) {
            if (a.value) {
                char buf[64];
                size_t len = strlen(a.value);
                bool percent = len > 0 && a.value[len - 1] == '%';
                if (len >= sizeof buf)
                    return cli_usage("clv: --discount is a rate such as 0.10 or 10%%");
                memcpy(buf, a.value, len + 1);
                if (percent)
                    buf[len - 1] = '\0';
                if (!cli_parse_double(buf, &o.discount_rate) || o.discount_rate < 0)
                    return cli_usage("clv: --discount is a rate >= 0 such as 0.10 or 10%%");
                if (percent)
                    o.discount_rate /= 100.0;
            }
        } else if (cli_opt(&a, "--margin", &status)) {
            if (a.value && (!cli_parse_double(a.value, &o.margin) || o.margin == 0))
                return cli_usage("clv: --margin is a nonzero number (profit / revenue)");
        } else if (cli_opt(&a, "--interval", &status)) {
            if (a.value && (!cli_parse_double(a.value, &o.interval_level) || o.interval_level < 0 ||
                            o.interval_level >= 1))
                return cli_usage("clv: --interval is a level in [0, 1), 0 for none");
        } else if (cli_opt(&a, "--draws", &status)) {
            if (a.value && (!cli_parse_int(a.value, &draws) || draws < 10 || draws > 100000))
                return cli_usage("clv: --draws is 10..100000");
            o.interval_draws = (int)draws;
        } else if (cli_opt(&a, "--seed", &status)) {
            long seed = 0;
            if (a.value && (!cli_parse_int(a.value, &seed) || seed < 0))
                return cli_usage("clv: --seed is an integer >= 0");
            o.seed = (uint64_t)seed;
        } else if (cli_opt(&a, "--model", &status)) {
            o.purchase_model = a.value;
        } else if (cli_opt(&a, "--spend-model", &status)) {
            o.spend_model = a.value;
        } else if (cli_opt(&a, "--customer", &status)) {
            customer = a.value;
        } else if (cli_opt(&a, "--out", &status)) {
            out_path = a.value;
        } else if (cli_flag(&a, "--json")) {
            c->json = true;
        } else {
            return cli_usage("clv: unknown argument '%s' (see custscore clv --help)", argv[a.i]);
        }
    }
    if (status)
        return status;
    if (!have_as_of)
        return cli_usage("clv: --as-of DATE is required");
    status = cli_open_store(c, false, true);
    if (status)
        return status;
    FILE *f = cli_open_out(out_path);
    if (!f)
        return CLI_EXIT_IO;
    custscore_clv_info info;
    cli_json j;
    clv_out co = {f, c->json ? &j : NULL, c, 0, false};
    int rc;
    if (customer) {
        custscore_clv_row row;
        rc = custscore_clv_one(c->db, customer, as_of, &o, &row, &info);
        if (rc == 0)
            clv_row(&row, &co);
    } else {
        cli_progress(c, "clv: scoring ...");
        rc = custscore_clv_each(c->db, as_of, &o, clv_row, &co, &info);
        cli_progress_done(c);
    }
    if (rc) {
        cli_close_out(f, out_path);
        return cli_fail(c, rc, "clv");
    }
    clv_start(&co);
    if (c->json) {
        cli_json_end_arr(&j);
        clv_json_info(&j, &info);
        cli_json_end_obj(&j);
        cli_json_finish(&j);
    } else if (!c->quiet) {
        clv_note(&info);
    }
    return cli_close_out(f, out_path);
}
