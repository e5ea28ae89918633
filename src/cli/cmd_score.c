/*
 * cmd_score.c: `score`, `show` and `changes`.
 */
#include "cli.h"

#include <math.h>
#include <string.h>

static const char score_usage[] =
    "usage: custscore score --as-of DATE [--out FILE.csv|-] [--json FILE|-]\n"
    "         [--horizon 12m] [--discount 0.10] [--bins 5] [--ties value|rank]\n"
    "         [--current-split X] [--future-split X] [--satisfaction-split X]\n"
    "         [--loyalty-split X] [--band-medium P --band-high P] [--survey-model NAME]\n"
    "         [--no-store]\n"
    "  scores every customer (value, CLV, churn, satisfaction, value matrix, loyalty\n"
    "  quadrant) and saves the snapshot for the as-of date (re-running replaces it).\n";

static const char score_header[] =
    "customer,recency_days,frequency,monetary,r,f,m,rfm_score,segment,revenue,cost,profit,"
    "profit_share,tier,lifecycle,current_value,repeat_purchases,mean_interpurchase_days,p_alive,"
    "expected_purchases,expected_spend,clv,clv_low,clv_high,probability,band,reason1,reason2,"
    "reason3,value_at_risk,satisfaction,satisfaction_date,loyalty,value_matrix,loyalty_quadrant,"
    "notes\n";

typedef struct score_out {
    FILE *csv;
    FILE *json;
    cli_json j;
    int64_t rows;
} score_out;

static void notes_of(const custscore_score *s, char *buf, size_t size)
{
    buf[0] = '\0';
    const char *parts[3] = {s->clv_note, s->churn_note, s->satisfaction_note};
    for (int k = 0; k < 3; k++) {
        if (!parts[k] || !*parts[k])
            continue;
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%s", len ? "; " : "", parts[k]);
    }
}

static int score_row(const custscore_score *s, void *payload)
{
    score_out *o = payload;
    const custscore_value *v = &s->value;
    char notes[768];
    notes_of(s, notes, sizeof notes);
    o->rows++;
    if (o->csv) {
        FILE *f = o->csv;
        cli_csv_str(f, s->customer, false);
        if (v->recency_days >= 0)
            cli_csv_int(f, v->recency_days, false);
        else
            fputc(',', f);
        cli_csv_int(f, v->frequency, false);
        cli_csv_num(f, v->monetary, false);
        cli_csv_int(f, v->r, false);
        cli_csv_int(f, v->f, false);
        cli_csv_int(f, v->m, false);
        cli_csv_int(f, v->rfm_score, false);
        cli_csv_str(f, v->segment, false);
        cli_csv_num(f, v->revenue, false);
        cli_csv_num(f, v->cost, false);
        cli_csv_num(f, v->profit, false);
        cli_csv_num(f, v->profit_share, false);
        cli_csv_str(f, v->tier_name, false);
        cli_csv_str(f, custscore_lifecycle_name(v->lifecycle), false);
        cli_csv_num(f, s->current_value, false);
        cli_csv_int(f, s->repeat_purchases, false);
        cli_csv_num(f, s->mean_interpurchase_days, false);
        cli_csv_num(f, s->p_alive, false);
        cli_csv_num(f, s->expected_purchases, false);
        cli_csv_num(f, s->expected_spend, false);
        cli_csv_num(f, s->clv, false);
        cli_csv_num(f, s->clv_low, false);
        cli_csv_num(f, s->clv_high, false);
        cli_csv_num(f, s->churn_probability, false);
        cli_csv_str(f, s->band, false);
        for (int k = 0; k < CUSTSCORE_REASONS; k++)
            cli_csv_str(f, s->reason[k], false);
        cli_csv_num(f, s->value_at_risk, false);
        cli_csv_num(f, s->satisfaction, false);
        cli_csv_date(f, s->satisfaction_ts, false);
        cli_csv_num(f, s->loyalty, false);
        cli_csv_str(f, custscore_value_quadrant_name(s->value_quadrant), false);
        cli_csv_str(f, custscore_loyalty_quadrant_name(s->loyalty_quadrant), false);
        cli_csv_str(f, notes, true);
        if (ferror(f))
            return CUSTSCORE_EIO;
    }
    if (o->json) {
        cli_json *j = &o->j;
        cli_json_obj(j);
        cli_json_key(j, "customer");
        cli_json_str(j, s->customer);
        cli_json_key(j, "recency_days");
        if (v->recency_days >= 0)
            cli_json_int(j, v->recency_days);
        else
            cli_json_null(j);
        cli_json_key(j, "frequency");
        cli_json_int(j, v->frequency);
        cli_json_key(j, "monetary");
        cli_json_num(j, v->monetary);
        cli_json_key(j, "rfm_score");
        cli_json_int(j, v->rfm_score);
        cli_json_key(j, "segment");
        cli_json_str(j, v->segment);
        cli_json_key(j, "profit");
        cli_json_num(j, v->profit);
        cli_json_key(j, "profit_share");
        cli_json_num(j, v->profit_share);
        cli_json_key(j, "tier");
        cli_json_str(j, v->tier_name);
        cli_json_key(j, "lifecycle");
        cli_json_str(j, custscore_lifecycle_name(v->lifecycle));
        cli_json_key(j, "current_value");
        cli_json_num(j, s->current_value);
        cli_json_key(j, "repeat_purchases");
        cli_json_int(j, s->repeat_purchases);
        cli_json_key(j, "mean_interpurchase_days");
        cli_json_num(j, s->mean_interpurchase_days);
        cli_json_key(j, "p_alive");
        cli_json_num(j, s->p_alive);
        cli_json_key(j, "expected_purchases");
        cli_json_num(j, s->expected_purchases);
        cli_json_key(j, "expected_spend");
        cli_json_num(j, s->expected_spend);
        cli_json_key(j, "clv");
        cli_json_num(j, s->clv);
        cli_json_key(j, "clv_low");
        cli_json_num(j, s->clv_low);
        cli_json_key(j, "clv_high");
        cli_json_num(j, s->clv_high);
        cli_json_key(j, "probability");
        cli_json_num(j, s->churn_probability);
        cli_json_key(j, "band");
        cli_json_str(j, s->band);
        cli_json_key(j, "reasons");
        cli_json_arr(j);
        for (int k = 0; k < CUSTSCORE_REASONS; k++) {
            if (!s->reason[k] || !*s->reason[k])
                continue;
            cli_json_obj(j);
            cli_json_key(j, "reason");
            cli_json_str(j, s->reason[k]);
            cli_json_key(j, "contribution");
            cli_json_num(j, s->reason_contribution[k]);
            cli_json_end_obj(j);
        }
        cli_json_end_arr(j);
        cli_json_key(j, "value_at_risk");
        cli_json_num(j, s->value_at_risk);
        cli_json_key(j, "satisfaction");
        cli_json_num(j, s->satisfaction);
        cli_json_key(j, "satisfaction_date");
        cli_json_date(j, s->satisfaction_ts);
        cli_json_key(j, "loyalty");
        cli_json_num(j, s->loyalty);
        cli_json_key(j, "value_matrix");
        cli_json_str(j, custscore_value_quadrant_name(s->value_quadrant));
        cli_json_key(j, "loyalty_quadrant");
        cli_json_str(j, custscore_loyalty_quadrant_name(s->loyalty_quadrant));
        cli_json_key(j, "notes");
        cli_json_str(j, notes);
        cli_json_end_obj(j);
        if (ferror(o->json))
            return CUSTSCORE_EIO;
    }
    return 0;
}

static bool parse_split(const char *value, double *out)
{
    return value && cli_parse_double(value, out);
}

int cmd_score(cli *c, int argc, char **argv)
{
    cli_args a;
    cli_args_init(&a, argc, argv);
    custscore_score_options opt = CUSTSCORE_SCORE_OPTIONS_INIT;
    int64_t as_of = 0;
    bool have_as_of = false;
    const char *out_path = NULL, *json_path = NULL;
    int status = 0;
    while (a.i < argc && status == 0) {
        long v = 0;
        if (cli_flag(&a, "--help")) {
            fputs(score_usage, stdout);
            return CLI_EXIT_OK;
        } else if (cli_opt(&a, "--as-of", &status)) {
            if (a.value && !cli_parse_date(a.value, &as_of))
                return CLI_EXIT_USAGE;
            have_as_of = true;
        } else if (cli_opt(&a, "--out", &status)) {
            out_path = a.value;
        } else if (cli_opt(&a, "--json", &status)) {
            json_path = a.value;
        } else if (cli_opt(&a, "--horizon", &status)) {
            if (a.value && !cli_parse_duration(a.value, &opt.clv.horizon, &opt.clv.horizon_unit))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--discount", &status)) {
            if (a.value && !cli_parse_double(a.value, &opt.clv.discount_rate))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--bins", &status)) {
            if (a.value && (!cli_parse_int(a.value, &v) || v < 1 || v > CUSTSCORE_MAX_BINS))
                return cli_usage("--bins takes 1..%d", CUSTSCORE_MAX_BINS);
            opt.value.rfm.bins = (int)v;
        } else if (cli_opt(&a, "--ties", &status)) {
            custscore_ties t;
            if (a.value && strcmp(a.value, "value") == 0)
                t = CUSTSCORE_TIES_VALUE;
            else if (a.value && strcmp(a.value, "rank") == 0)
                t = CUSTSCORE_TIES_RANK;
            else
                return cli_usage("--ties is value or rank");
            opt.value.rfm.ties = t;
        } else if (cli_opt(&a, "--current-split", &status)) {
            if (!parse_split(a.value, &opt.current_value_split))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--future-split", &status)) {
            if (!parse_split(a.value, &opt.future_value_split))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--satisfaction-split", &status)) {
            if (!parse_split(a.value, &opt.satisfaction_split))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--loyalty-split", &status)) {
            if (!parse_split(a.value, &opt.loyalty_split))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--band-medium", &status)) {
            if (!parse_split(a.value, &opt.band_medium))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--band-high", &status)) {
            if (!parse_split(a.value, &opt.band_high))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--survey-model", &status)) {
            opt.survey_model = a.value;
        } else if (cli_flag(&a, "--no-store")) {
            opt.no_store = 1;
        } else {
            return cli_usage("score: unknown argument '%s'\n%s", argv[a.i], score_usage);
        }
    }
    if (status)
        return status;
    if (!have_as_of)
        return cli_usage("score: --as-of DATE is required\n%s", score_usage);
    if (!out_path && !json_path && !c->json)
        out_path = "-";
    if (c->json && !json_path && !out_path)
        json_path = "-";
    status = cli_open_store(c, false, opt.no_store != 0);
    if (status)
        return status;
    score_out o = {0};
    if (out_path) {
        o.csv = cli_open_out(out_path);
        if (!o.csv)
            return CLI_EXIT_IO;
        fputs(score_header, o.csv);
    }
    if (json_path) {
        o.json = cli_open_out(json_path);
        if (!o.json) {
            if (o.csv)
                cli_close_out(o.csv, out_path);
            return CLI_EXIT_IO;
        }
        cli_json_begin(&o.j, o.json);
        cli_json_obj(&o.j);
        cli_json_key(&o.j, "as_of");
        cli_json_date(&o.j, as_of);
        cli_json_key(&o.j, "customers");
        cli_json_arr(&o.j);
    }
    cli_progress(c, "scoring ...");
    custscore_score_info info;
    int rc = custscore_score_all(c->db, as_of, &opt, score_row, &o, &info);
    cli_progress_done(c);
    if (o.json) {
        cli_json_end_arr(&o.j);
        cli_json_key(&o.j, "summary");
        cli_json_obj(&o.j);
        cli_json_key(&o.j, "customers");
        cli_json_int(&o.j, info.customers);
        cli_json_key(&o.j, "has_clv");
        cli_json_bool(&o.j, info.has_clv);
        cli_json_key(&o.j, "has_churn");
        cli_json_bool(&o.j, info.has_churn);
        cli_json_key(&o.j, "has_satisfaction");
        cli_json_bool(&o.j, info.has_satisfaction);
        cli_json_key(&o.j, "total_profit");
        cli_json_num(&o.j, info.total_profit);
        cli_json_key(&o.j, "total_clv");
        cli_json_num(&o.j, info.total_clv);
        cli_json_key(&o.j, "total_value_at_risk");
        cli_json_num(&o.j, info.total_value_at_risk);
        cli_json_key(&o.j, "saved");
        cli_json_bool(&o.j, info.saved);
        cli_json_end_obj(&o.j);
        cli_json_end_obj(&o.j);
        cli_json_finish(&o.j);
    }
    int out_status = CLI_EXIT_OK;
    if (o.csv && cli_close_out(o.csv, out_path))
        out_status = CLI_EXIT_IO;
    if (o.json && cli_close_out(o.json, json_path))
        out_status = CLI_EXIT_IO;
    if (rc)
        return cli_fail(c, rc, "score");
    if (!c->quiet && (out_path == NULL || strcmp(out_path, "-") != 0) &&
        (json_path == NULL || strcmp(json_path, "-") != 0))
        fprintf(stderr,
                "scored %lld customers as of the given date%s; value matrix: %lld value, %lld "
                "potential, %lld maintain, %lld low value, %lld unclassified\n",
                (long long)info.customers, info.saved ? " (snapshot saved)" : "",
                (long long)info.value_quadrant_count[CUSTSCORE_VQ_VALUE],
                (long long)info.value_quadrant_count[CUSTSCORE_VQ_POTENTIAL],
                (long long)info.value_quadrant_count[CUSTSCORE_VQ_MAINTAIN],
                (long long)info.value_quadrant_count[CUSTSCORE_VQ_LOW],
                (long long)info.value_quadrant_count[CUSTSCORE_VQ_UNCLASSIFIED]);
    return out_status;
}

/* ---- show ---- */

/* Minimal reader of the flat JSON object the library stores: the value of
 * "key" as text (strings unescaped, numbers as written, null as ""). */
static void json_field(const char *json, const char *key, char *out, size_t size)
{
    out[0] = '\0';
    char pat[80];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    if (!p)
        return;
    p += strlen(pat);
    size_t o = 0;
    if (*p == '"') {
        for (p++; *p && *p != '"' && o + 1 < size; p++) {
            if (*p == '\\' && p[1]) {
                p++;
                if (*p == 'u') {
                    out[o++] = '?';
                    p += 4;
                    continue;
                }
            }
            out[o++] = *p;
        }
    } else if (strncmp(p, "null", 4) != 0) {
        for (; *p && *p != ',' && *p != '}' && o + 1 < size; p++)
            out[o++] = *p;
    }
    out[o] = '\0';
}

static double json_number(const char *json, const char *key)
{
    char buf[64];
    json_field(json, key, buf, sizeof buf);
    if (!buf[0])
        return NAN;
    double v;
    return cli_parse_double_quiet(buf, &v) ? v : NAN;
}

/* Format a number for a person: money and counts with 2 decimals at most. */
static const char *fmt(char *buf, size_t size, double v, int decimals)
{
    if (!isfinite(v))
        snprintf(buf, size, "–");
    else
        snprintf(buf, size, "%.*f", decimals, v);
    return buf;
}

static void show_line(const char *label, const char *value, const char *detail)
{
    printf("  %-22s %s%s%s\n", label, value && *value ? value : "–", detail && *detail ? "  " : "",
           detail ? detail : "");
}

int cmd_show(cli *c, int argc, char **argv)
{
    cli_args a;
    cli_args_init(&a, argc, argv);
    int64_t as_of = 0;
    const char *key = NULL;
    int status = 0;
    while (a.i < argc && status == 0) {
        if (cli_flag(&a, "--help")) {
            puts("usage: custscore show KEY [--as-of DATE] [--json]\n"
                 "  one customer's card from the latest score snapshot (or the one at DATE)");
            return CLI_EXIT_OK;
        } else if (cli_opt(&a, "--as-of", &status)) {
            if (a.value && !cli_parse_date(a.value, &as_of))
                return CLI_EXIT_USAGE;
        } else if (cli_flag(&a, "--json")) {
            c->json = true;
        } else {
            const char *p = cli_positional(&a);
            if (!p || key)
                return cli_usage("show: unexpected argument '%s'", argv[a.i - (p ? 1 : 0)]);
            key = p;
        }
    }
    if (status)
        return status;
    if (!key)
        return cli_usage("show: give the customer's key");
    status = cli_open_store(c, false, true);
    if (status)
        return status;
    custscore_snapshot_row row;
    int rc = custscore_snapshot_get(c->db, key, as_of, &row);
    if (rc)
        return cli_fail(c, rc, "show");
    if (c->json) {
        puts(row.json);
        return CLI_EXIT_OK;
    }
    const char *j = row.json;
    char date[32], t1[256], n1[64], n2[64], n3[64], n4[64], d[1024];
    custscore_format_time(row.as_of, 0, date, sizeof date);
    printf("customer %s, scores as of %s\n\n", row.customer, date);
    puts("Value");
    double recency = json_number(j, "recency_days");
    snprintf(d, sizeof d, "(R %s, F %s, M %s: %s days since the last purchase, %s purchases, %s)",
             fmt(n1, sizeof n1, json_number(j, "r"), 0), fmt(n2, sizeof n2, json_number(j, "f"), 0),
             fmt(n3, sizeof n3, json_number(j, "m"), 0), fmt(n4, sizeof n4, recency, 0),
             fmt(t1, 64, json_number(j, "frequency"), 0),
             fmt(t1 + 64, 64, json_number(j, "monetary"), 2));
    show_line("RFM score", fmt(n1, sizeof n1, json_number(j, "rfm_score"), 0), d);
    json_field(j, "segment", t1, sizeof t1);
    show_line("segment", t1, NULL);
    double share = json_number(j, "profit_share");
    snprintf(d, sizeof d, "(revenue %s - cost %s; %s%% of all profit)",
             fmt(n2, sizeof n2, json_number(j, "revenue"), 2),
             fmt(n3, sizeof n3, json_number(j, "cost"), 2), fmt(n4, sizeof n4, share * 100, 3));
    show_line("profit", fmt(n1, sizeof n1, json_number(j, "profit"), 2), d);
    json_field(j, "tier", t1, sizeof t1);
    show_line("tier", t1, "(customer pyramid by profit)");
    json_field(j, "lifecycle", t1, sizeof t1);
    snprintf(d, sizeof d, "(%s repeat purchases, every %s days on average)",
             fmt(n1, sizeof n1, json_number(j, "repeat_purchases"), 0),
             fmt(n2, sizeof n2, json_number(j, "mean_interpurchase_days"), 1));
    show_line("lifecycle", t1, d);
    puts("\nLifetime value");
    double clv = json_number(j, "clv");
    snprintf(d, sizeof d, "(interval %s .. %s)", fmt(n2, sizeof n2, json_number(j, "clv_low"), 2),
             fmt(n3, sizeof n3, json_number(j, "clv_high"), 2));
    show_line("CLV", fmt(n1, sizeof n1, clv, 2), isfinite(clv) ? d : NULL);
    show_line("P(alive)", fmt(n1, sizeof n1, json_number(j, "p_alive"), 3), NULL);
    snprintf(d, sizeof d, "(x expected spend %s per purchase)",
             fmt(n2, sizeof n2, json_number(j, "expected_spend"), 2));
    double ep = json_number(j, "expected_purchases");
    show_line("expected purchases", fmt(n1, sizeof n1, ep, 2), isfinite(ep) ? d : NULL);
    json_field(j, "clv_note", t1, sizeof t1);
    if (t1[0])
        show_line("note", t1, NULL);
    puts("\nChurn risk");
    double p = json_number(j, "churn_probability");
    json_field(j, "band", t1, sizeof t1);
    snprintf(d, sizeof d, "(band %s; higher = more likely to churn)", t1);
    show_line("probability", fmt(n1, sizeof n1, p, 3), isfinite(p) ? d : NULL);
    for (int k = 1; k <= CUSTSCORE_REASONS; k++) {
        char rk[32], ck[48];
        snprintf(rk, sizeof rk, "reason%d", k);
        snprintf(ck, sizeof ck, "reason%d_contribution", k);
        json_field(j, rk, t1, sizeof t1);
        if (!t1[0])
            continue;
        snprintf(d, sizeof d, "(%+.2f on the logit scale)", json_number(j, ck));
        show_line(k == 1 ? "reasons" : "", t1, d);
    }
    double var = json_number(j, "value_at_risk");
    show_line("value at risk", fmt(n1, sizeof n1, var, 2),
              isfinite(var) ? "(probability x CLV)" : NULL);
    json_field(j, "churn_note", t1, sizeof t1);
    if (t1[0])
        show_line("note", t1, NULL);
    puts("\nSatisfaction and loyalty");
    show_line("satisfaction (0-100)", fmt(n1, sizeof n1, json_number(j, "satisfaction"), 1), NULL);
    json_field(j, "satisfaction_note", t1, sizeof t1);
    if (t1[0])
        show_line("note", t1, NULL);
    show_line("loyalty (0-1)", fmt(n1, sizeof n1, json_number(j, "loyalty"), 3),
              "(mean of repeat rate x/(x+1) and P(alive))");
    json_field(j, "value_matrix", t1, sizeof t1);
    show_line("value matrix", t1, "(current profit x CLV)");
    json_field(j, "loyalty_quadrant", t1, sizeof t1);
    show_line("loyalty quadrant", t1, "(satisfaction x loyalty)");
    return CLI_EXIT_OK;
}

/* ---- changes ---- */

typedef struct changes_out {
    FILE *f;
    int64_t n;
} changes_out;

static int change_row(const custscore_change *ch, void *payload)
{
    changes_out *o = payload;
    FILE *f = o->f;
    o->n++;
    cli_csv_str(f, ch->customer, false);
    cli_csv_str(f, ch->before.tier, false);
    cli_csv_str(f, ch->after.tier, false);
    cli_csv_str(f, ch->before.segment, false);
    cli_csv_str(f, ch->after.segment, false);
    cli_csv_str(f, ch->before.band, false);
    cli_csv_str(f, ch->after.band, false);
    cli_csv_num(f, ch->after.clv, false);
    cli_csv_num(f, ch->after.value_at_risk, false);
    cli_csv_num(f, ch->value_at_stake, true);
    return ferror(f) ? CUSTSCORE_EIO : 0;
}

int cmd_changes(cli *c, int argc, char **argv)
{
    cli_args a;
    cli_args_init(&a, argc, argv);
    int64_t since = 0, until = 0;
    bool have_since = false;
    const char *out_path = NULL;
    int status = 0;
    while (a.i < argc && status == 0) {
        if (cli_flag(&a, "--help")) {
            puts("usage: custscore changes --since DATE [--until DATE] [--out FILE.csv|-]\n"
                 "  customers whose tier, segment or churn band moved between the snapshot at\n"
                 "  (or before) DATE and the latest one (or --until), by value at stake");
            return CLI_EXIT_OK;
        } else if (cli_opt(&a, "--since", &status)) {
            if (a.value && !cli_parse_date(a.value, &since))
                return CLI_EXIT_USAGE;
            have_since = true;
        } else if (cli_opt(&a, "--until", &status)) {
            if (a.value && !cli_parse_date(a.value, &until))
                return CLI_EXIT_USAGE;
        } else if (cli_opt(&a, "--out", &status)) {
            out_path = a.value;
        } else {
            return cli_usage("changes: unknown argument '%s'", argv[a.i]);
        }
    }
    if (status)
        return status;
    if (!have_since)
        return cli_usage("changes: --since DATE is required");
    status = cli_open_store(c, false, true);
    if (status)
        return status;
    FILE *f = cli_open_out(out_path);
    if (!f)
        return CLI_EXIT_IO;
    fputs("customer,tier_before,tier,segment_before,segment,band_before,band,clv,value_at_risk,"
          "value_at_stake\n",
          f);
    changes_out o = {f, 0};
    int rc = custscore_changes(c->db, since, until, change_row, &o);
    int out_status = cli_close_out(f, out_path);
    if (rc)
        return cli_fail(c, rc, "changes");
    return out_status;
}
