/*
 * cmd_churn.c: `custscore churn train|score|card` (churn risk, docs/models.md ("Churn risk")).
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: custscore churn train --as-of DATE [--window 90d | --label ATTR [--positive Yes]]\n"
    "         [--features NAME,NAME|*] [--behaviour|--no-behaviour] [--holdout 0.3]\n"
    "         [--seed N] [--l2 1] [--lookback 365d] [--bands 0.4,0.7] [--name churn]\n"
    "         [--btyd-model NAME] [--survey-model NAME] [--json]\n"
    "       custscore churn score --as-of DATE [--method model|btyd|btyd-alive] [--window 90d]\n"
    "         [--band low|medium|high] [--bands M,H] [--name churn] [--btyd-model NAME]\n"
    "         [--out FILE.csv|-] [--json]\n"
    "       custscore churn card [--name churn] [--json]\n"
    "  train: an early-warning model on the store's own history (label: no purchase in the\n"
    "  window after as-of minus the window) or, with --label, on a churn attribute; stores\n"
    "  its model card. score: columns customer,probability,band,reason1,reason2,reason3,\n"
    "  value_at_risk (higher = more likely to churn); --method btyd scores\n"
    "  P(no purchase in the window | history) from the fitted BTYD model instead.\n";

/* "90d", "13w", "3m": whole days (rounded). */
static bool parse_days(const char *text, double *days)
{
    double count;
    custscore_unit unit;
    if (!cli_parse_duration(text, &count, &unit))
        return false;
    *days = round(count * custscore_unit_days(unit));
    if (*days < 1) {
        cli_usage("'%s' is shorter than a day", text);
        return false;
    }
    return true;
}

static bool parse_bands(const char *text, double *medium, double *high)
{
    char *end = NULL;
    *medium = strtod(text, &end);
    if (end == text || *end != ',' || !cli_parse_double(end + 1, high) ||
        !(*medium > 0 && *medium <= *high && *high <= 1)) {
        cli_usage("--bands takes MEDIUM,HIGH probabilities with 0 < MEDIUM <= HIGH <= 1, e.g. "
                  "0.4,0.7");
        return false;
    }
    return true;
}

static const char *method_name(custscore_churn_method m)
{
    switch (m) {
    case CUSTSCORE_CHURN_WINDOW:
        return "window";
    case CUSTSCORE_CHURN_LABEL:
        return "label";
    case CUSTSCORE_CHURN_BTYD:
        return "btyd";
    case CUSTSCORE_CHURN_BTYD_ALIVE:
        return "btyd-alive";
    }
    return "?";
}

static void print_card_json(FILE *f, const custscore_churn_card *card)
{
    cli_json j;
    cli_json_begin(&j, f);
    cli_json_obj(&j);
    cli_json_key(&j, "model");
    cli_json_str(&j, card->model_name);
    cli_json_key(&j, "method");
    cli_json_str(&j, method_name(card->method));
    cli_json_key(&j, "direction");
    cli_json_str(&j, "higher = more likely to churn");
    cli_json_key(&j, "fitted_at");
    cli_json_int(&j, card->fitted_at);
    cli_json_key(&j, "as_of");
    cli_json_date(&j, card->as_of);
    cli_json_key(&j, "cutoff");
    cli_json_date(&j, card->cutoff);
    cli_json_key(&j, "window_days");
    cli_json_num(&j, card->window_days);
    cli_json_key(&j, "label");
    if (card->label)
        cli_json_str(&j, card->label);
    else
        cli_json_null(&j);
    cli_json_key(&j, "n_train");
    cli_json_int(&j, card->n_train);
    cli_json_key(&j, "n_holdout");
    cli_json_int(&j, card->n_holdout);
    cli_json_key(&j, "base_rate");
    cli_json_num(&j, card->base_rate);
    cli_json_key(&j, "auc");
    cli_json_num(&j, card->auc);
    cli_json_key(&j, "train_auc");
    cli_json_num(&j, card->train_auc);
    cli_json_key(&j, "brier");
    cli_json_num(&j, card->brier);
    cli_json_key(&j, "lift_top_decile");
    cli_json_num(&j, card->lift_top_decile);
    cli_json_key(&j, "bands");
    cli_json_obj(&j);
    cli_json_key(&j, "medium");
    cli_json_num(&j, card->band_medium);
    cli_json_key(&j, "high");
    cli_json_num(&j, card->band_high);
    cli_json_end_obj(&j);
    cli_json_key(&j, "intercept");
    cli_json_num(&j, card->intercept);
    cli_json_key(&j, "coefficients");
    cli_json_obj(&j);
    for (size_t k = 0; k < card->n_coefs; k++) {
        cli_json_key(&j, card->coefs[k].name);
        cli_json_num(&j, card->coefs[k].coefficient);
    }
    cli_json_end_obj(&j);
    cli_json_key(&j, "features");
    cli_json_arr(&j);
    for (size_t k = 0; k < card->n_coefs; k++) {
        const custscore_churn_coef *co = &card->coefs[k];
        cli_json_obj(&j);
        cli_json_key(&j, "name");
        cli_json_str(&j, co->name);
        cli_json_key(&j, "group");
        cli_json_str(&j, co->group);
        cli_json_key(&j, "coefficient");
        cli_json_num(&j, co->coefficient);
        cli_json_key(&j, "std_error");
        cli_json_num(&j, co->std_error);
        cli_json_key(&j, "per_sd");
        cli_json_num(&j, co->std_coefficient);
        cli_json_key(&j, "mean");
        cli_json_num(&j, co->mean);
        cli_json_key(&j, "sd");
        cli_json_num(&j, co->sd);
        cli_json_end_obj(&j);
    }
    cli_json_end_arr(&j);
    cli_json_key(&j, "calibration");
    cli_json_arr(&j);
    for (size_t b = 0; b < card->n_calibration; b++) {
        const custscore_calibration_bin *c = &card->calibration[b];
        cli_json_obj(&j);
        cli_json_key(&j, "n");
        cli_json_int(&j, c->n);
        cli_json_key(&j, "mean_predicted");
        cli_json_num(&j, c->mean_predicted);
        cli_json_key(&j, "observed_rate");
        cli_json_num(&j, c->observed_rate);
        cli_json_end_obj(&j);
    }
    cli_json_end_arr(&j);
    cli_json_end_obj(&j);
    cli_json_finish(&j);
}

static void print_card_text(FILE *f, const custscore_churn_card *card)
{
    char as_of[32], cutoff[32];
    custscore_format_time(card->as_of, 1, as_of, sizeof as_of);
    custscore_format_time(card->cutoff, 1, cutoff, sizeof cutoff);
    fprintf(f, "churn model card: %s (%s method; higher = more likely to churn)\n",
            card->model_name, method_name(card->method));
    if (card->method == CUSTSCORE_CHURN_WINDOW)
        fprintf(f,
                "trained as of %s: features up to %s, label = no purchase in the %g days "
                "after\n",
                as_of, cutoff, card->window_days);
    else
        fprintf(f, "trained as of %s on the label attribute %s\n", as_of,
                card->label ? card->label : "?");
    fprintf(f, "customers: %lld trained on, %lld held out; churn rate %.3f\n",
            (long long)card->n_train, (long long)card->n_holdout, card->base_rate);
    fprintf(f, "%s: AUC %.4f, Brier %.4f, top-decile lift %.2f (training AUC %.4f)\n",
            card->n_holdout > 0 ? "holdout" : "training", card->auc, card->brier,
            card->lift_top_decile, card->train_auc);
    fprintf(f, "bands: medium from %.2f, high from %.2f\n", card->band_medium, card->band_high);
    fprintf(f, "\n%-36s %11s %10s %10s %12s\n", "feature", "coefficient", "std.error", "per sd",
            "mean");
    fprintf(f, "%-36s %11.4f\n", "(intercept)", card->intercept);
    for (size_t k = 0; k < card->n_coefs; k++) {
        const custscore_churn_coef *co = &card->coefs[k];
        fprintf(f, "%-36s %11.4f %10.4f %10.4f %12.4g\n", co->name, co->coefficient, co->std_error,
                co->std_coefficient, co->mean);
    }
    if (card->n_calibration > 0) {
        fprintf(f, "\ncalibration by decile of predicted risk:\n%6s %8s %10s %10s\n", "decile", "n",
                "predicted", "observed");
        for (size_t b = 0; b < card->n_calibration; b++)
            fprintf(f, "%6zu %8lld %10.3f %10.3f\n", b + 1, (long long)card->calibration[b].n,
                    card->calibration[b].mean_predicted, card->calibration[b].observed_rate);
    }
}

static int churn_train(cli *c, int argc, char **argv)
{
    cli_args a;
    cli_args_init(&a, argc, argv);
    custscore_churn_options o = CUSTSCORE_CHURN_OPTIONS_INIT;
    int64_t as_of = 0;
    bool have_as_of = false;
    int status = 0;
    while (a.i < argc && status == 0) {
        long v = 0;
        if (cli_flag(&a, "--help")) {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        } else if (cli_opt(&a, "--as-of", &status)) {
            if (a.value && !cli_parse_date(a.value, &as_of))
                return CLI_EXIT_USAGE;
            have_as_of = true;
        } else if (cli_opt(&a, "--window", &status)) {
            if (a.value && !parse_days(a.value, &o.window_days))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--label", &status)) {
            o.label = a.value;
        } else if (cli_opt(&a, "--positive", &status)) {
            o.label_positive = a.value;
        } else if (cli_opt(&a, "--features", &status)) {
            o.features = a.value;
        } else if (cli_flag(&a, "--behaviour")) {
            o.behaviour = 1;
        } else if (cli_flag(&a, "--no-behaviour")) {
            o.behaviour = 0;
        } else if (cli_opt(&a, "--holdout", &status)) {
            if (a.value && !cli_parse_double(a.value, &o.holdout))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--seed", &status)) {
            if (a.value && (!cli_parse_int(a.value, &v) || v < 0))
                return cli_usage("--seed takes a whole number >= 0");
            o.seed = (uint64_t)v;
        } else if (cli_opt(&a, "--l2", &status)) {
            if (a.value && !cli_parse_double(a.value, &o.l2))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--lookback", &status)) {
            if (a.value && !parse_days(a.value, &o.lookback_days))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--bands", &status)) {
            if (a.value && !parse_bands(a.value, &o.band_medium, &o.band_high))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--name", &status)) {
            o.model_name = a.value;
        } else if (cli_opt(&a, "--btyd-model", &status)) {
            o.btyd_model = a.value;
        } else if (cli_opt(&a, "--survey-model", &status)) {
            o.survey_model = a.value;
        } else if (cli_flag(&a, "--json")) {
            c->json = true;
        } else {
            return cli_usage("churn train: unknown argument '%s'\n%s", argv[a.i], usage);
        }
    }
    if (status)
        return status;
    if (!have_as_of)
        return cli_usage("churn train: --as-of DATE is required\n%s", usage);
    status = cli_open_store(c, false, false);
    if (status)
        return status;
    cli_progress(c, "training the churn model...");
    custscore_churn_card *card = NULL;
    int rc = custscore_churn_train(c->db, as_of, &o, &card);
    cli_progress_done(c);
    if (rc)
        return cli_fail(c, rc, "churn train");
    if (c->json)
        print_card_json(stdout, card);
    else
        print_card_text(stdout, card);
    custscore_churn_card_free(card);
    return cli_close_out(stdout, NULL);
}

typedef struct score_out {
    FILE *f;
    int band_filter; /* -1 all, else the band level to keep */
    cli_json *json;
    int64_t rows;
} score_out;

static int write_score(const custscore_churn_score *s, void *payload)
{
    score_out *o = payload;
    if (o->band_filter >= 0 && s->band_level != o->band_filter)
        return 0;
    o->rows++;
    char cell[320];
    if (o->json) {
        cli_json *j = o->json;
        cli_json_obj(j);
        cli_json_key(j, "customer");
        cli_json_str(j, s->customer);
        cli_json_key(j, "probability");
        cli_json_num(j, s->probability);
        cli_json_key(j, "band");
        cli_json_str(j, s->band);
        cli_json_key(j, "reasons");
        cli_json_arr(j);
        for (size_t r = 0; r < s->n_reasons; r++) {
            cli_json_obj(j);
            cli_json_key(j, "feature");
            cli_json_str(j, s->reason[r].feature);
            cli_json_key(j, "text");
            cli_json_str(j, s->reason[r].text);
            cli_json_key(j, "contribution");
            cli_json_num(j, s->reason[r].contribution);
            cli_json_end_obj(j);
        }
        cli_json_end_arr(j);
        cli_json_key(j, "value_at_risk");
        cli_json_num(j, s->has_clv ? s->value_at_risk : NAN);
        cli_json_end_obj(j);
        return 0;
    }
    cli_csv_str(o->f, s->customer, false);
    cli_csv_num(o->f, s->probability, false);
    cli_csv_str(o->f, s->band, false);
    for (size_t r = 0; r < CUSTSCORE_CHURN_REASONS; r++) {
        cell[0] = '\0';
        if (r < s->n_reasons) {
            if (isfinite(s->reason[r].contribution))
                snprintf(cell, sizeof cell, "%s (%+.2f)", s->reason[r].text,
                         s->reason[r].contribution);
            else
                snprintf(cell, sizeof cell, "%s", s->reason[r].text);
        }
        cli_csv_str(o->f, cell, false);
    }
    cli_csv_num(o->f, s->has_clv ? s->value_at_risk : NAN, true);
    return 0;
}

static int churn_score(cli *c, int argc, char **argv)
{
    cli_args a;
    cli_args_init(&a, argc, argv);
    custscore_churn_options o = CUSTSCORE_CHURN_OPTIONS_INIT;
    int64_t as_of = 0;
    bool have_as_of = false;
    const char *out_path = NULL;
    int band_filter = -1;
    int status = 0;
    while (a.i < argc && status == 0) {
        if (cli_flag(&a, "--help")) {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        } else if (cli_opt(&a, "--as-of", &status)) {
            if (a.value && !cli_parse_date(a.value, &as_of))
                return CLI_EXIT_USAGE;
            have_as_of = true;
        } else if (cli_opt(&a, "--method", &status)) {
            if (!a.value)
                continue;
            if (strcmp(a.value, "model") == 0)
                o.method = 0;
            else if (strcmp(a.value, "btyd") == 0)
                o.method = CUSTSCORE_CHURN_BTYD;
            else if (strcmp(a.value, "btyd-alive") == 0)
                o.method = CUSTSCORE_CHURN_BTYD_ALIVE;
            else
                return cli_usage("--method takes model, btyd or btyd-alive");
        } else if (cli_opt(&a, "--window", &status)) {
            if (a.value && !parse_days(a.value, &o.window_days))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--band", &status)) {
            if (!a.value)
                continue;
            if (strcmp(a.value, "low") == 0)
                band_filter = 0;
            else if (strcmp(a.value, "medium") == 0)
                band_filter = 1;
            else if (strcmp(a.value, "high") == 0)
                band_filter = 2;
            else
                return cli_usage("--band takes low, medium or high");
        } else if (cli_opt(&a, "--bands", &status)) {
            if (a.value && !parse_bands(a.value, &o.band_medium, &o.band_high))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--name", &status)) {
            o.model_name = a.value;
        } else if (cli_opt(&a, "--btyd-model", &status)) {
            o.btyd_model = a.value;
        } else if (cli_opt(&a, "--out", &status)) {
            out_path = a.value;
        } else if (cli_flag(&a, "--json")) {
            c->json = true;
        } else {
            return cli_usage("churn score: unknown argument '%s'\n%s", argv[a.i], usage);
        }
    }
    if (status)
        return status;
    if (!have_as_of)
        return cli_usage("churn score: --as-of DATE is required\n%s", usage);
    status = cli_open_store(c, false, true);
    if (status)
        return status;
    FILE *f = cli_open_out(out_path);
    if (!f)
        return CLI_EXIT_IO;
    cli_json j;
    score_out so = {.f = f, .band_filter = band_filter};
    if (c->json) {
        cli_json_begin(&j, f);
        cli_json_obj(&j);
        cli_json_key(&j, "as_of");
        cli_json_date(&j, as_of);
        cli_json_key(&j, "customers");
        cli_json_arr(&j);
        so.json = &j;
    } else {
        fputs("customer,probability,band,reason1,reason2,reason3,value_at_risk\n", f);
    }
    cli_progress(c, "scoring churn risk...");
    int rc = custscore_churn_score_each(c->db, as_of, &o, write_score, &so);
    cli_progress_done(c);
    if (c->json) {
        cli_json_end_arr(&j);
        cli_json_end_obj(&j);
        cli_json_finish(&j);
    }
    if (rc) {
        cli_close_out(f, out_path);
        return cli_fail(c, rc, "churn score");
    }
    return cli_close_out(f, out_path);
}

static int churn_card(cli *c, int argc, char **argv)
{
    cli_args a;
    cli_args_init(&a, argc, argv);
    const char *name = NULL;
    int status = 0;
    while (a.i < argc && status == 0) {
        if (cli_flag(&a, "--help")) {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        } else if (cli_opt(&a, "--name", &status)) {
            name = a.value;
        } else if (cli_flag(&a, "--json")) {
            c->json = true;
        } else {
            return cli_usage("churn card: unknown argument '%s'\n%s", argv[a.i], usage);
        }
    }
    if (status)
        return status;
    status = cli_open_store(c, false, true);
    if (status)
        return status;
    custscore_churn_card *card = NULL;
    int rc = custscore_churn_card_get(c->db, name, &card);
    if (rc)
        return cli_fail(c, rc, "churn card");
    if (c->json)
        print_card_json(stdout, card);
    else
        print_card_text(stdout, card);
    custscore_churn_card_free(card);
    return cli_close_out(stdout, NULL);
}

int cmd_churn(cli *c, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "train") == 0)
        return churn_train(c, argc - 1, argv + 1);
    if (strcmp(argv[1], "score") == 0)
        return churn_score(c, argc - 1, argv + 1);
    if (strcmp(argv[1], "card") == 0)
        return churn_card(c, argc - 1, argv + 1);
    return cli_usage("churn: unknown subcommand '%s' (train, score, card)\n%s", argv[1], usage);
}
