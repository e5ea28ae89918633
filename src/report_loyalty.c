/*
 * report_loyalty.c: the HTML report, part 4: satisfaction (importance-
 * performance map, loyalty quadrant), changes between snapshots and cohort
 * retention.
 */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Loyalty quadrant -> chart class (see cs_chart_quadrant): apostle top
 * right, hostage top left, mercenary bottom right, defector bottom left. */
static const int cs_lq_class[5] = {-1, 0, 2, 1, 3};

/* ---------------------------------------------------------------------- */
/* Satisfaction: importance-performance map and the loyalty quadrant */

void cs_rp_ipm(const cs_report *r, cs_buf *b)
{
    const char *title = "Satisfaction drivers: importance × performance";
    const custscore_csi_estimate *e = r->csi ? &r->csi->overall : NULL;
    if (!e || e->n_drivers == 0 || !isfinite(e->index)) {
        char note[CS_REPORT_NOTE * 2];
        if (!e)
            snprintf(note, sizeof note, "%s", r->csi_note);
        else
            snprintf(note, sizeof note,
                     "The satisfaction index of model '%s' has no drivers to map%s%s.",
                     r->survey_model, r->csi_note[0] ? ": " : "", r->csi_note);
        cs_rp_missing(b, "ipm", title, note, false);
        return;
    }
    size_t n = e->n_drivers;
    double *x = cs_mallocarray(n, sizeof *x), *y = cs_mallocarray(n, sizeof *y);
    int *group = cs_mallocarray(n, sizeof *group);
    const char **label = cs_mallocarray(n, sizeof *label);
    if (!x || !y || !group || !label) {
        b->failed = true;
        goto done;
    }
    double mean_i = 0, mean_p = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const custscore_csi_driver *d = &e->drivers[i];
        x[i] = d->importance;
        y[i] = d->performance;
        label[i] = r->csi->construct_names[d->construct];
        if (isfinite(x[i]) && isfinite(y[i])) {
            mean_i += x[i];
            mean_p += y[i];
            m++;
        }
    }
    mean_i = m ? mean_i / (double)m : NAN;
    mean_p = m ? mean_p / (double)m : NAN;
    int64_t qc[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        bool hi_i = x[i] >= mean_i, hi_p = y[i] >= mean_p;
        group[i] = hi_i ? (hi_p ? 0 : 2) : (hi_p ? 1 : 3);
        if (isfinite(x[i]) && isfinite(y[i]))
            qc[group[i]]++;
    }
    char note[CS_REPORT_NOTE * 2], ix[96] = "";
    if (isfinite(e->index_low))
        cs_snprintf_c(ix, sizeof ix, " (95%% interval %.1f–%.1f from %d bootstrap resamples)",
                      e->index_low, e->index_high, r->csi_draws);
    cs_snprintf_c(
        note, sizeof note,
        "Index %.1f%s from model '%s'. Importance is each driver's total effect on "
        "satisfaction, performance its own 0–100 index; lines at the means. Improve first "
        "what is important and performs below average (bottom right).%s%s",
        e->index, ix, r->survey_model, r->csi_note[0] ? " " : "", r->csi_note);
    cs_chart_quadrant c = {
        .id = "ipm",
        .title = title,
        .x_label = "importance (total effect on satisfaction)",
        .y_label = "performance (0–100)",
        .note = note,
        .x = x,
        .y = y,
        .group = group,
        .n = n,
        .x_split = mean_i,
        .y_split = mean_p,
        .quadrant_name = {"keep up", "possible overkill", "concentrate here", "low priority"},
        .quadrant_count = {qc[0], qc[1], qc[2], qc[3]},
        .point_label = label};
    cs_svg_quadrant(b, &c);
done:
    cs_free(x);
    cs_free(y);
    cs_free(group);
    cs_free(label);
}

void cs_rp_loyalty(const cs_report *r, cs_buf *b)
{
    const char *title = "Loyalty quadrant: satisfaction × loyalty";
    char note[CS_REPORT_NOTE * 2];
    if (!r->info.has_satisfaction) {
        /* Without a survey model the satisfaction section's note says it all. */
        if (!r->survey_model[0] || strncmp(r->sat_note, "no survey model", 15) == 0)
            snprintf(note, sizeof note, "%s", r->csi_note);
        else
            snprintf(note, sizeof note,
                     "No per-customer satisfaction: %s. Import survey answers with `custscore "
                     "import responses FILE --wide --customer COL --date COL`.",
                     r->sat_note[0] ? r->sat_note : "no survey answers");
        cs_rp_missing(b, "loyalty", title, note, false);
        return;
    }
    size_t n = r->n;
    double *x = cs_mallocarray(n ? n : 1, sizeof *x), *y = cs_mallocarray(n ? n : 1, sizeof *y);
    int *group = cs_mallocarray(n ? n : 1, sizeof *group);
    if (!x || !y || !group) {
        b->failed = true;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        int q = r->lq[i] >= 0 && r->lq[i] < 5 ? cs_lq_class[r->lq[i]] : -1;
        x[i] = q >= 0 ? r->satisfaction[i] : NAN;
        y[i] = q >= 0 ? r->loyalty[i] : NAN;
        group[i] = q < 0 ? 0 : q;
    }
    const int64_t *cnt = r->info.loyalty_quadrant_count;
    char unclassified[32];
    cs_rp_int(unclassified, sizeof unclassified, cnt[CUSTSCORE_LQ_UNCLASSIFIED]);
    cs_snprintf_c(
        note, sizeof note,
        "Customers with a survey answer: satisfaction (0–100) against behavioural loyalty "
        "(repeat rate and P(alive)), split at %.1f and %.0f%%. Hostages stay though "
        "dissatisfied; mercenaries are satisfied yet leave. %s customers without survey "
        "answers are not classified.",
        r->info.satisfaction_split, r->info.loyalty_split * 100, unclassified);
    cs_chart_quadrant c = {.id = "loyalty",
                           .title = title,
                           .x_label = "satisfaction (0–100)",
                           .y_label = "loyalty",
                           .note = note,
                           .x = x,
                           .y = y,
                           .group = group,
                           .n = n,
                           .max_points = r->opt.max_points,
                           .x_split = r->info.satisfaction_split,
                           .y_split = r->info.loyalty_split,
                           .y_percent = true,
                           .quadrant_name = {"apostles", "hostages", "mercenaries", "defectors"},
                           .quadrant_count = {cnt[CUSTSCORE_LQ_APOSTLE], cnt[CUSTSCORE_LQ_HOSTAGE],
                                              cnt[CUSTSCORE_LQ_MERCENARY],
                                              cnt[CUSTSCORE_LQ_DEFECTOR]}};
    cs_svg_quadrant(b, &c);
done:
    cs_free(x);
    cs_free(y);
    cs_free(group);
}

/* ---------------------------------------------------------------------- */
/* Changes and retention */

static void cs_rp_move(cs_buf *b, const char *before, const char *after)
{
    if (strcmp(before, after) == 0) {
        cs_buf_puts(b, "<span class=\"same\">");
        cs_buf_html(b, *after ? after : "–");
        cs_buf_puts(b, "</span>");
        return;
    }
    cs_buf_html(b, *before ? before : "–");
    cs_buf_puts(b, " → <b>");
    cs_buf_html(b, *after ? after : "–");
    cs_buf_puts(b, "</b>");
}

void cs_rp_changes(const cs_report *r, cs_buf *b)
{
    const char *title = "Tier and risk-band changes since the previous snapshot";
    if (!r->has_changes) {
        cs_rp_missing(b, "changes", title, r->changes_note, true);
        return;
    }
    char from[32], to[32], a[32], bb[32], c[32], d[32], e[32], f[32], g[32];
    cs_rp_date(from, sizeof from, r->changes_from);
    cs_rp_date(to, sizeof to, r->changes_to);
    cs_rp_int(a, sizeof a, r->changed);
    cs_rp_int(bb, sizeof bb, r->tier_moved);
    cs_rp_int(c, sizeof c, r->tier_up);
    cs_rp_int(d, sizeof d, r->tier_down);
    cs_rp_int(e, sizeof e, r->band_moved);
    cs_rp_int(f, sizeof f, r->risk_up);
    cs_rp_int(g, sizeof g, r->risk_down);
    cs_buf_puts(b, "<figure class=\"chart table wide\" data-chart=\"changes\"><figcaption>");
    cs_buf_html(b, title);
    cs_buf_printf(b,
                  "</figcaption><p class=\"say\">Between the snapshots of <b>%s</b> and "
                  "<b>%s</b>, %s customers moved tier, segment or risk band: <b>%s</b> moved "
                  "tier (<span class=\"up\">%s up</span>, <span class=\"down\">%s down</span>), "
                  "<b>%s</b> moved risk band (<span class=\"down\">risk up for %s</span>, "
                  "<span class=\"up\">down for %s</span>).</p>",
                  from, to, a, bb, c, d, e, f, g);
    if (r->n_moves > 0) {
        cs_buf_puts(b, "<table class=\"compact\"><thead><tr><th>Tier move</th>"
                       "<th class=\"n\">Customers</th></tr>"
                       "</thead><tbody>");
        for (size_t i = 0; i < r->n_moves && i < 12; i++) {
            const cs_report_move *m = &r->moves[i];
            const char *fn = m->from >= 0 ? r->tier_name[m->from] : "(other)";
            const char *tn = m->to >= 0 ? r->tier_name[m->to] : "(other)";
            char cnt[32];
            cs_rp_int(cnt, sizeof cnt, m->count);
            cs_buf_printf(b, "<tr><td class=\"%s\">",
                          m->from >= 0 && m->to >= 0 ? (m->to < m->from ? "up" : "down") : "");
            cs_buf_html(b, fn ? fn : "?");
            cs_buf_puts(b, " → ");
            cs_buf_html(b, tn ? tn : "?");
            cs_buf_printf(b, "</td><td class=\"n\">%s</td></tr>", cnt);
        }
        cs_buf_puts(b, "</tbody></table>");
    }
    if (r->n_changes > 0) {
        cs_buf_printf(b, "<table><thead><tr><th class=\"n\">#</th><th>Customer</th><th>Tier</th>"
                         "<th>Risk band</th><th>Segment</th><th class=\"n\">Value at stake</th>"
                         "</tr></thead><tbody>\n");
        for (size_t i = 0; i < r->n_changes; i++) {
            const cs_report_change *ch = &r->changes[i];
            char stake[32];
            cs_rp_money(stake, sizeof stake, ch->value_at_stake);
            cs_buf_printf(b, "<tr><td class=\"n\">%zu</td><td class=\"key\">", i + 1);
            cs_buf_html(b, ch->customer);
            cs_buf_puts(b, "</td><td>");
            cs_rp_move(b, ch->tier_before, ch->tier_after);
            cs_buf_puts(b, "</td><td>");
            cs_rp_move(b, ch->band_before, ch->band_after);
            cs_buf_puts(b, "</td><td>");
            cs_rp_move(b, ch->segment_before, ch->segment_after);
            cs_buf_printf(b, "</td><td class=\"n\">%s</td></tr>\n", stake);
        }
        cs_buf_puts(b, "</tbody></table>");
    }
    cs_buf_puts(b, "<p class=\"note\">");
    cs_rp_text(b, "Value at stake is the later snapshot's value at risk, else its CLV, else its "
                  "current value. The full list: `custscore changes --since DATE`.");
    cs_buf_puts(b, "</p></figure>\n");
}

void cs_rp_retention(const cs_report *r, cs_buf *b)
{
    const char *title = "Cohort retention: share of each monthly cohort buying again";
    const custscore_retention *ret = r->retention;
    if (!ret || ret->n_cohorts == 0) {
        cs_rp_missing(b, "retention", title, r->retention_note, true);
        return;
    }
    /* The latest 24 cohorts at most, each up to 24 months. */
    size_t first = ret->n_cohorts > 24 ? ret->n_cohorts - 24 : 0, rows = ret->n_cohorts - first;
    size_t cols = 1;
    for (size_t i = first; i < ret->n_cohorts; i++)
        if (ret->cohorts[i].n_periods > cols)
            cols = ret->cohorts[i].n_periods;
    if (cols > 24)
        cols = 24;
    double *value = cs_mallocarray(rows * cols, sizeof *value);
    char **label = cs_calloc(rows, sizeof *label);
    if (!value || !label) {
        b->failed = true;
        goto done;
    }
    for (size_t i = 0; i < rows; i++) {
        const custscore_cohort *co = &ret->cohorts[first + i];
        char day[32], n[32], text[96];
        cs_rp_date(day, sizeof day, co->start);
        day[7] = '\0'; /* YYYY-MM */
        cs_rp_int(n, sizeof n, co->customers);
        snprintf(text, sizeof text, "%s (%s)", day, n);
        label[i] = cs_strdup(text);
        if (!label[i]) {
            b->failed = true;
            goto done;
        }
        for (size_t k = 0; k < cols; k++)
            value[i * cols + k] = k < co->n_periods ? co->retention[k] : NAN;
    }
    char note[CS_REPORT_NOTE], repeat[32], gap[32];
    cs_rp_pct(repeat, sizeof repeat, ret->repeat_rate);
    cs_snprintf_c(gap, sizeof gap, "%.0f", ret->mean_interpurchase_days);
    snprintf(note, sizeof note,
             "Rows: customers by month of first purchase (cohort size in brackets); column M+k: "
             "share of the cohort buying in the k-th month after. Overall %s of buyers came back; "
             "%s days between purchases on average.",
             repeat, isfinite(ret->mean_interpurchase_days) ? gap : "–");
    cs_chart_heatmap c = {.id = "retention",
                          .title = title,
                          .note = note,
                          .col_prefix = "M+",
                          .row_label = (const char *const *)label,
                          .value = value,
                          .rows = rows,
                          .cols = cols};
    cs_svg_heatmap(b, &c);
done:
    if (label)
        for (size_t i = 0; i < rows; i++)
            cs_free(label[i]);
    cs_free(label);
    cs_free(value);
}
