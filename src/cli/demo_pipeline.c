/*
 * demo_pipeline.c: the second half of `custscore demo`: the whole pipeline
 * on the bundled data after the import and the summary (cmd_core.c):
 * lifetime-value models, the satisfaction index, the churn early-warning
 * model, two score snapshots, the headline figures and the HTML report.
 */
#include "cli.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Errors that mean "this model could not be built from these data": the
 * demo says so and goes on (the report then shows what is missing). */
static bool demo_model_problem(int rc)
{
    return rc == CUSTSCORE_EINVAL || rc == CUSTSCORE_ENOCONV || rc == CUSTSCORE_ENOMODEL ||
           rc == CUSTSCORE_ENOTFOUND;
}

static int demo_warn(cli *c, int rc, const char *what)
{
    if (!demo_model_problem(rc))
        return cli_fail(c, rc, what);
    fprintf(stderr, "custscore: demo: %s: %s (going on without it)\n", what,
            custscore_errmsg(c->db));
    return CLI_EXIT_OK;
}

/* `<directory of the store>/custscore-report.html` (the working directory
 * for an in-memory store); malloc'ed. */
static char *demo_report_path(const char *db_path)
{
    const char *name = "custscore-report.html";
    const char *slash = db_path ? strrchr(db_path, '/') : NULL;
    bool memory = !db_path || strcmp(db_path, ":memory:") == 0;
    size_t dir_len = memory || !slash ? 0 : (size_t)(slash - db_path) + 1;
    char *p = malloc(dir_len + strlen(name) + 1);
    if (!p)
        return NULL;
    memcpy(p, db_path, dir_len);
    strcpy(p + dir_len, name);
    return p;
}

static void demo_money(char *out, size_t size, double v)
{
    if (!isfinite(v))
        snprintf(out, size, "-");
    else
        snprintf(out, size, "%.2f", v);
}

int demo_pipeline(cli *c, int64_t as_of)
{
    custscore *db = c->db;
    int status;

    /* 3. Lifetime value: BG/NBD and Gamma-Gamma as in Fader, Hardie & Lee
     * (2005), weeks, CDNOW's $0.00 free CDs counted as purchases. */
    custscore_fit_options fo = CUSTSCORE_FIT_OPTIONS_INIT;
    fo.unit = CUSTSCORE_UNIT_WEEK;
    fo.zero = CUSTSCORE_ZERO_REVENUE_PURCHASE;
    custscore_fit_info bg, gg;
    printf("\n3. Lifetime value models, fitted as of 1997-09-30 (weeks)\n");
    int rc = custscore_fit(db, as_of, &fo, &bg);
    if (rc == 0)
        printf("   BG/NBD: r %.3f, alpha %.3f, a %.3f, b %.3f (log-likelihood %.1f, %lld "
               "customers)\n          published (Fader, Hardie & Lee 2005): 0.243, 4.414, "
               "0.793, 2.426\n",
               bg.param[0], bg.param[1], bg.param[2], bg.param[3], bg.loglik, (long long)bg.n);
    else if ((status = demo_warn(c, rc, "BG/NBD fit")))
        return status;
    fo.model = CUSTSCORE_MODEL_GG;
    rc = custscore_fit(db, as_of, &fo, &gg);
    if (rc == 0)
        printf("   Gamma-Gamma: p %.2f, q %.2f, gamma %.2f (%lld repeat buyers; spend/frequency "
               "correlation %.2f)\n",
               gg.param[0], gg.param[1], gg.param[2], (long long)gg.n, gg.spend_frequency_corr);
    else if ((status = demo_warn(c, rc, "Gamma-Gamma fit")))
        return status;

    /* 4. Satisfaction: the ECSI template on the bundled survey, with the
     * 0-10 RECOMMEND item for the NPS; saving stores the model and its
     * index weights with the data, so that scoring (per-customer
     * satisfaction) and the report use them. */
    printf("\n4. Satisfaction index: ECSI model on the bundled survey (model saved)\n");
    custscore_survey_model *model = NULL;
    rc = custscore_survey_model_template("ecsi", &model);
    if (rc == 0)
        rc = custscore_survey_model_set_nps_item(model, "RECOMMEND");
    if (rc) {
        custscore_survey_model_free(model);
        return cli_fail(c, rc, "demo survey model");
    }
    custscore_csi_options so = CUSTSCORE_CSI_OPTIONS_INIT;
    so.bootstrap = 200;
    so.seed = 1;
    so.to = as_of;
    so.save = 1;
    custscore_csi_result *csi = NULL;
    rc = custscore_csi_compute(db, model, &so, &csi);
    custscore_survey_model_free(model);
    double csi_index = NAN, csi_low = NAN, csi_high = NAN, nps = NAN, nps_low = NAN, nps_high = NAN;
    if (rc == 0 || rc == CUSTSCORE_ENOCONV) {
        const custscore_csi_estimate *e = &csi->overall;
        csi_index = e->index;
        csi_low = e->index_low;
        csi_high = e->index_high;
        printf("   index %.1f (95%% bootstrap interval %.1f-%.1f), %zu respondents\n", e->index,
               e->index_low, e->index_high, e->n);
        if (e->has_nps) {
            nps = e->nps.nps;
            nps_low = e->nps.low;
            nps_high = e->nps.high;
            printf("   NPS %+.0f (95%% interval %+.0f to %+.0f), %zu answers: %zu promoters, %zu "
                   "detractors\n",
                   nps, nps_low, nps_high, e->nps.n, e->nps.promoters, e->nps.detractors);
        }
        for (size_t i = 0; i < e->n_drivers && i < 2; i++)
            printf("   %s driver: %s (importance %.2f, performance %.1f)\n",
                   i == 0 ? "weakest important" : "next",
                   csi->construct_names[e->drivers[i].construct], e->drivers[i].importance,
                   e->drivers[i].performance);
        custscore_csi_result_free(csi);
    } else if ((status = demo_warn(c, rc, "satisfaction index"))) {
        return status;
    }

    /* 5. Churn: the early-warning logistic model on a 90-day window. */
    printf("\n5. Churn early-warning model, 90-day window, trained as of 1997-09-30\n");
    custscore_churn_options co = CUSTSCORE_CHURN_OPTIONS_INIT;
    co.window_days = 90;
    custscore_churn_card *card = NULL;
    rc = custscore_churn_train(db, as_of, &co, &card);
    double auc = NAN;
    if (rc == 0) {
        auc = card->auc;
        printf("   AUC %.3f on %lld held-out customers (trained on %lld; churn rate %.0f%%); "
               "top-decile lift %.2f\n",
               card->auc, (long long)card->n_holdout, (long long)card->n_train,
               card->base_rate * 100, card->lift_top_decile);
        custscore_churn_card_free(card);
    } else if ((status = demo_warn(c, rc, "churn training"))) {
        return status;
    }

    /* 6. Two snapshots, so the report can show who moved. */
    int64_t earlier;
    custscore_parse_time("1997-06-30", NULL, &earlier);
    custscore_score_info info;
    rc = custscore_score_all(db, earlier, NULL, NULL, NULL, NULL);
    if (rc == 0)
        rc = custscore_score_all(db, as_of, NULL, NULL, NULL, &info);
    if (rc)
        return cli_fail(c, rc, "demo scoring");
    printf("\n6. Scores saved as of 1997-06-30 and 1997-09-30 (custscore changes --since "
           "1997-06-30 lists who moved)\n");

    /* 7. Headline figures. */
    char profit[32], clv[32], var[32];
    demo_money(profit, sizeof profit, info.total_profit);
    demo_money(clv, sizeof clv, info.has_clv ? info.total_clv : NAN);
    demo_money(var, sizeof var, info.has_clv && info.has_churn ? info.total_value_at_risk : NAN);
    printf("\n7. Headline figures as of 1997-09-30\n"
           "   customers %lld; profit (12 months) %s; total CLV (next 12 months, 10%%/year) %s\n"
           "   value at risk %s; churn risk high %lld, medium %lld, low %lld\n",
           (long long)info.customers, profit, clv, var, (long long)info.band_count[2],
           (long long)info.band_count[1], (long long)info.band_count[0]);
    if (isfinite(csi_index))
        printf("   satisfaction index %.1f (%.1f-%.1f)", csi_index, csi_low, csi_high);
    if (isfinite(nps))
        printf("; NPS %+.0f (%+.0f to %+.0f)", nps, nps_low, nps_high);
    if (isfinite(auc))
        printf("%schurn model AUC %.3f", isfinite(csi_index) || isfinite(nps) ? "; " : "   ", auc);
    printf("\n   value matrix: %lld value, %lld potential, %lld maintain, %lld low value\n",
           (long long)info.value_quadrant_count[CUSTSCORE_VQ_VALUE],
           (long long)info.value_quadrant_count[CUSTSCORE_VQ_POTENTIAL],
           (long long)info.value_quadrant_count[CUSTSCORE_VQ_MAINTAIN],
           (long long)info.value_quadrant_count[CUSTSCORE_VQ_LOW]);

    /* 8. The report, next to the store. */
    char *path = demo_report_path(c->db_path);
    if (!path) {
        fprintf(stderr, "custscore: demo: out of memory\n");
        return CLI_EXIT_INTERNAL;
    }
    rc = custscore_report_html(db, as_of, NULL, path);
    if (rc) {
        free(path);
        return cli_fail(c, rc, "demo report");
    }
    char *full = realpath(path, NULL);
    printf("\n8. Report: %s\n   (one self-contained HTML file: open it in any browser)\n",
           full ? full : path);
    free(full);
    free(path);
    return CLI_EXIT_OK;
}
