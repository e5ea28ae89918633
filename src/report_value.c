/*
 * report_value.c: the HTML report, part 3: the sections about money:
 * customer value (whale curve, pyramid, RFM segments), lifetime value
 * (distribution, value matrix) and churn risk (bands, the customers with
 * the most value at risk).
 */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
/* ---------------------------------------------------------------------- */
/* Customer value: whale curve, pyramid, segments */

void cs_rp_whale(const cs_report *r, cs_buf *b)
{
    const char *title = "Whale curve: cumulative profit by customers ranked by profit";
    if (!r->has_whale) {
        char note[CS_REPORT_NOTE], p[32];
        cs_rp_money(p, sizeof p, r->whale.total_profit);
        if (r->n == 0)
            snprintf(note, sizeof note,
                     "No customers yet. Import orders with `custscore import orders FILE`.");
        else
            snprintf(note, sizeof note,
                     "Total profit over the %s is %s: the whale curve needs a positive total "
                     "(import costs or widen the profit window).",
                     r->profit_window_text, p);
        cs_rp_missing(b, "whale", title, note, false);
        return;
    }
    const custscore_whale_summary *w = &r->whale;
    /* "Top 20% of customers earn Y% of profit": the curve at 20%. */
    size_t i20 = (CS_REPORT_WHALE_POINTS - 1) / 5;
    char top[32], peak_c[32], peak_h[32], loss_c[32], loss_s[32], tail[32];
    cs_rp_pct(top, sizeof top, r->whale_y[i20]);
    cs_rp_pct(peak_c, sizeof peak_c, w->peak_customer_share);
    cs_rp_pct(peak_h, sizeof peak_h, w->peak_height);
    cs_rp_pct(loss_c, sizeof loss_c, w->loss_customer_share);
    cs_rp_pct(loss_s, sizeof loss_s, w->peak_height - 1);
    cs_rp_money(tail, sizeof tail, w->loss_tail);
    char note[CS_REPORT_NOTE];
    if (w->loss_customers > 0)
        snprintf(note, sizeof note,
                 "Top 20%% of customers earn %s of profit. The most profitable %s earn %s of it; "
                 "the loss-making %s of customers give back %s (loss tail %s).",
                 top, peak_c, peak_h, loss_c, loss_s, tail);
    else
        snprintf(note, sizeof note,
                 "Top 20%% of customers earn %s of profit. No customer loses money over the "
                 "period, so there is no loss tail (the curve ends at its peak, 100%%).",
                 top);
    size_t mark = (size_t)llround(w->peak_customer_share * (CS_REPORT_WHALE_POINTS - 1));
    char mark_label[128];
    snprintf(mark_label, sizeof mark_label, "peak: %s of customers earn %s of profit", peak_c,
             peak_h);
    cs_chart_line c = {.id = "whale",
                       .title = title,
                       .x_label = "customers, most profitable first",
                       .y_label = "cumulative share of profit",
                       .x = r->whale_x,
                       .y = r->whale_y,
                       .n = CS_REPORT_WHALE_POINTS,
                       .x_percent = true,
                       .y_percent = true,
                       .mark = (ptrdiff_t)mark,
                       .mark_label = mark_label,
                       .note = note};
    cs_svg_line(b, &c);
}

void cs_rp_pyramid(const cs_report *r, cs_buf *b)
{
    const char *title = "Customer pyramid: tiers by profit";
    if (r->n == 0 || r->n_tiers <= 0) {
        cs_rp_missing(b, "pyramid", title,
                      "No customers yet. Import orders with `custscore import orders FILE`.",
                      false);
        return;
    }
    char note[CS_REPORT_NOTE], key[32], share[32];
    double share_top = r->info.total_profit > 0 ? r->tier_profit[0] / r->info.total_profit : NAN;
    cs_rp_int(key, sizeof key, r->tier_count[0]);
    cs_rp_pct(share, sizeof share, share_top);
    snprintf(note, sizeof note,
             "Customers ranked by profit over the %s. The top tier (%s customers) earns %s of "
             "the profit.",
             r->profit_window_text, key, share);
    cs_chart_pyramid c = {.id = "pyramid",
                          .title = title,
                          .note = note,
                          .name = r->tier_name,
                          .count = r->tier_count,
                          .profit = r->tier_profit,
                          .n = (size_t)r->n_tiers};
    cs_svg_pyramid(b, &c);
}

void cs_rp_segments(const cs_report *r, cs_buf *b)
{
    const char *title = "RFM segments: customers per segment";
    size_t slots = r->n_rules + 2, n = 0;
    size_t *order = cs_mallocarray(slots, sizeof *order);
    const char **label = cs_mallocarray(slots, sizeof *label);
    double *value = cs_mallocarray(slots, sizeof *value);
    char **annotation = cs_calloc(slots, sizeof *annotation);
    if (!order || !label || !value || !annotation) {
        b->failed = true;
        goto done;
    }
    for (size_t k = 0; k < slots; k++)
        if (r->segment_count[k] > 0)
            order[n++] = k;
    if (n == 0) {
        cs_rp_missing(b, "segments", title,
                      "No customers yet. Import orders with `custscore import orders FILE`.",
                      false);
        goto done;
    }
    /* Largest segment first (stable: table order among equals). */
    for (size_t i = 1; i < n; i++) {
        size_t k = order[i], j = i;
        while (j > 0 && r->segment_count[order[j - 1]] < r->segment_count[k]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = k;
    }
    for (size_t i = 0; i < n; i++) {
        size_t k = order[i];
        label[i] = k < r->n_rules    ? r->rules[k].name
                   : k == r->n_rules ? CUSTSCORE_SEGMENT_OTHERS
                                     : "No purchase yet";
        value[i] = (double)r->segment_count[k];
        char pct[32], profit[32], text[96];
        cs_rp_pct(pct, sizeof pct, r->info.customers ? value[i] / (double)r->info.customers : 0);
        cs_rp_money(profit, sizeof profit, r->segment_profit[k]);
        snprintf(text, sizeof text, "(%s) · profit %s", pct, profit);
        annotation[i] = cs_strdup(text);
        if (!annotation[i]) {
            b->failed = true;
            goto done;
        }
    }
    cs_chart_bars c = {.id = "segments",
                       .title = title,
                       .note = "Recency, frequency and monetary scores 1–5 (quintiles); the "
                               "segment is the first rule of the segment table the scores match.",
                       .label = label,
                       .value = value,
                       .annotation = (const char *const *)annotation,
                       .n = n};
    cs_svg_bars(b, &c);
done:
    if (annotation)
        for (size_t i = 0; i < slots; i++)
            cs_free(annotation[i]);
    cs_free(annotation);
    cs_free(order);
    cs_free(label);
    cs_free(value);
}

/* ---------------------------------------------------------------------- */
/* Lifetime value: distribution and the value matrix */

static double cs_rp_nice(double raw)
{
    if (!(raw > 0))
        return 1;
    double mag = pow(10, floor(log10(raw)));
    double norm = raw / mag;
    return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

static void cs_rp_clv_missing_note(const cs_report *r, char *note, size_t size)
{
    const char *why = r->clv_note;
    bool model_missing = strncmp(why, "no ", 3) == 0;
    snprintf(note, size,
             "%s%s%sFit the lifetime-value models: `custscore fit --model bgnbd --as-of %s "
             "--unit week` and `custscore fit --model gg --as-of %s --unit week`, then run this "
             "report again.",
             model_missing ? "No lifetime-value model is fitted. " : "", model_missing ? "" : why,
             model_missing ? "" : ". ", r->as_of_text, r->as_of_text);
}

void cs_rp_clv(const cs_report *r, cs_buf *b)
{
    const char *title = "Customer lifetime value: distribution";
    char note[CS_REPORT_NOTE * 2];
    if (!r->info.has_clv) {
        cs_rp_clv_missing_note(r, note, sizeof note);
        cs_rp_missing(b, "clv", title, note, false);
        return;
    }
    size_t m;
    double *s = cs_rp_sorted_finite(r->clv, r->n, &m);
    if (!s) {
        b->failed = true;
        return;
    }
    if (m == 0) {
        cs_rp_missing(b, "clv", title, "No customer has a purchase yet, so none has a CLV.", false);
        cs_free(s);
        return;
    }
    /* Bins of a round width up to the 99th percentile; the rest in an open
     * last bin, so one whale does not squash the picture. */
    double lo = s[0] < 0 ? s[0] : 0, p99 = cs_quantile_sorted(s, m, 0.99);
    double step = cs_rp_nice((p99 - lo) / 20);
    lo = floor(lo / step) * step;
    size_t bins = (size_t)ceil((p99 - lo) / step);
    if (bins < 1)
        bins = 1;
    if (bins > 40)
        bins = 40;
    bool open = s[m - 1] >= lo + step * (double)bins;
    size_t n = bins + (open ? 1 : 0);
    double edge[42], count[41];
    for (size_t k = 0; k <= n; k++)
        edge[k] = lo + step * (double)k;
    memset(count, 0, sizeof count);
    double total = 0, top_decile = 0;
    for (size_t i = 0; i < m; i++) {
        size_t k = (size_t)floor((s[i] - lo) / step);
        if (k >= n)
            k = n - 1;
        count[k]++;
        total += s[i];
        if (i >= m - m / 10)
            top_decile += s[i];
    }
    char med[32], mean[32], share[32], model[96] = "";
    cs_rp_money(med, sizeof med, cs_quantile_sorted(s, m, 0.5));
    cs_rp_money(mean, sizeof mean, total / (double)m);
    cs_rp_pct(share, sizeof share, total > 0 ? top_decile / total : NAN);
    if (r->has_purchase_model)
        snprintf(model, sizeof model, " (%s and Gamma-Gamma spend)",
                 custscore_model_name(r->purchase.model) ? custscore_model_name(r->purchase.model)
                                                         : "purchase model");
    snprintf(note, sizeof note,
             "Discounted expected margin over the next %s%s. Median %s, mean %s; the top 10%% "
             "of customers hold %s of the total.",
             r->horizon_text, model, med, mean, share);
    cs_chart_histogram c = {.id = "clv",
                            .title = title,
                            .x_label = "CLV",
                            .y_label = "customers",
                            .note = note,
                            .edge = edge,
                            .count = count,
                            .n = n,
                            .last_open = open};
    cs_svg_histogram(b, &c);
    cs_free(s);
}

/* Quadrant classes of the chart (see cs_chart_quadrant): [0] high-high,
 * [1] low x high y, [2] high x low y, [3] low-low. */
static const int cs_vq_class[5] = {-1, 0, 1, 2, 3};

void cs_rp_value_matrix(const cs_report *r, cs_buf *b)
{
    const char *title = "Value matrix: current value × future value";
    char note[CS_REPORT_NOTE * 2];
    if (!r->info.has_clv) {
        cs_rp_clv_missing_note(r, note, sizeof note);
        cs_rp_missing(b, "value-matrix", title, note, false);
        return;
    }
    /* Only the classified customers are drawn (NaN hides a point). */
    size_t n = r->n;
    double *x = cs_mallocarray(n ? n : 1, sizeof *x), *y = cs_mallocarray(n ? n : 1, sizeof *y);
    int *group = cs_mallocarray(n ? n : 1, sizeof *group);
    if (!x || !y || !group) {
        b->failed = true;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        int q = r->vq[i] >= 0 && r->vq[i] < 5 ? cs_vq_class[r->vq[i]] : -1;
        x[i] = q >= 0 ? r->profit[i] : NAN;
        y[i] = q >= 0 ? r->clv[i] : NAN;
        group[i] = q < 0 ? 0 : q;
    }
    char xs[32], ys[32];
    cs_rp_money(xs, sizeof xs, r->info.current_value_split);
    cs_rp_money(ys, sizeof ys, r->info.future_value_split);
    snprintf(note, sizeof note,
             "Split at %s current value (profit over the %s) and %s CLV%s; both axes on a log "
             "scale. Potential customers (top left) buy little now but are expected to be worth "
             "much: the group most easily neglected.",
             xs, r->profit_window_text, ys,
             isfinite(r->opt.score.current_value_split) ? "" : " (the medians)");
    const int64_t *cnt = r->info.value_quadrant_count;
    cs_chart_quadrant c = {.id = "value-matrix",
                           .title = title,
                           .x_label = "current value (profit)",
                           .y_label = "future value (CLV)",
                           .note = note,
                           .x = x,
                           .y = y,
                           .group = group,
                           .n = n,
                           .max_points = r->opt.max_points,
                           .x_split = r->info.current_value_split,
                           .y_split = r->info.future_value_split,
                           .quadrant_name = {"value", "potential", "maintain", "low value"},
                           .quadrant_count = {cnt[CUSTSCORE_VQ_VALUE], cnt[CUSTSCORE_VQ_POTENTIAL],
                                              cnt[CUSTSCORE_VQ_MAINTAIN], cnt[CUSTSCORE_VQ_LOW]},
                           .log_scale = true};
    cs_svg_quadrant(b, &c);
done:
    cs_free(group);
    cs_free(x);
    cs_free(y);
}

/* ---------------------------------------------------------------------- */
/* Churn risk: bands and the value-at-risk table */

static void cs_rp_churn_missing_note(const cs_report *r, char *note, size_t size)
{
    bool other = strncmp(r->churn_note, "churn not scored", 16) == 0;
    snprintf(note, size,
             "%s%sTrain the early-warning model on the store's own history: `custscore churn "
             "train --as-of %s --window 90d`, then run this report again.",
             other ? r->churn_note : "No churn model is trained.", other ? ". " : " ",
             r->as_of_text);
}

void cs_rp_churn(const cs_report *r, cs_buf *b)
{
    const char *title = "Churn risk: customers per band";
    char note[CS_REPORT_NOTE * 2];
    if (!r->info.has_churn) {
        cs_rp_churn_missing_note(r, note, sizeof note);
        cs_rp_missing(b, "churn", title, note, false);
        return;
    }
    char labels[3][64], ann[3][96];
    const char *label[3], *annotation[3];
    double value[3];
    const int level[3] = {2, 1, 0};
    int64_t scored = r->info.band_count[0] + r->info.band_count[1] + r->info.band_count[2];
    for (int i = 0; i < 3; i++) {
        int l = level[i];
        if (l == 2)
            cs_snprintf_c(labels[i], sizeof labels[i], "high (≥ %.0f%%)", r->band_high * 100);
        else if (l == 1)
            cs_snprintf_c(labels[i], sizeof labels[i], "medium (%.0f–%.0f%%)", r->band_medium * 100,
                          r->band_high * 100);
        else
            cs_snprintf_c(labels[i], sizeof labels[i], "low (< %.0f%%)", r->band_medium * 100);
        value[i] = (double)r->info.band_count[l];
        char pct[32], var[32];
        cs_rp_pct(pct, sizeof pct, scored ? value[i] / (double)scored : 0);
        if (r->info.has_clv) {
            cs_rp_money(var, sizeof var, r->band_value_at_risk[l]);
            snprintf(ann[i], sizeof ann[i], "(%s) · value at risk %s", pct, var);
        } else {
            snprintf(ann[i], sizeof ann[i], "(%s)", pct);
        }
        label[i] = labels[i];
        annotation[i] = ann[i];
    }
    char scored_text[32];
    cs_rp_int(scored_text, sizeof scored_text, scored);
    snprintf(note, sizeof note,
             "Probability of no purchase in the model's window, for the %s customers with a "
             "purchase. Value at risk = probability × CLV.",
             scored_text);
    cs_chart_bars c = {.id = "churn",
                       .title = title,
                       .note = note,
                       .label = label,
                       .value = value,
                       .annotation = annotation,
                       .n = 3};
    cs_svg_bars(b, &c);
}

void cs_rp_churn_top(const cs_report *r, cs_buf *b)
{
    char title[128], note[CS_REPORT_NOTE * 2];
    snprintf(title, sizeof title, "Top %d customers by %s", r->opt.top,
             r->top_by_probability ? "churn probability" : "value at risk");
    if (!r->info.has_churn || r->n_top == 0) {
        if (!r->info.has_churn)
            cs_rp_churn_missing_note(r, note, sizeof note);
        else
            snprintf(note, sizeof note, "No customer was scored by the churn model.");
        cs_rp_missing(b, "churn-top", title, note, true);
        return;
    }
    cs_buf_puts(b, "<figure class=\"chart table wide\" data-chart=\"churn-top\"><figcaption>");
    cs_buf_html(b, title);
    cs_buf_puts(b, "</figcaption>");
    if (r->top_by_probability) {
        char why[CS_REPORT_NOTE * 2];
        cs_rp_clv_missing_note(r, why, sizeof why);
        cs_buf_puts(b, "<p class=\"say\">Value at risk needs a lifetime value: ");
        cs_rp_text(b, why);
        cs_buf_puts(b, "</p>");
    }
    cs_buf_puts(b, "<table><thead><tr><th class=\"n\">#</th><th>Customer</th><th>Tier</th>"
                   "<th>Band</th><th class=\"n\">Churn probability</th><th class=\"n\">CLV</th>"
                   "<th class=\"n\">Value at risk</th><th>Top reasons</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < r->n_top; i++) {
        const cs_report_top *t = &r->top[i];
        char p[32], clv[32], var[32];
        cs_rp_pct(p, sizeof p, t->probability);
        cs_rp_money(clv, sizeof clv, t->clv);
        cs_rp_money(var, sizeof var, t->value_at_risk);
        cs_buf_printf(b, "<tr><td class=\"n\">%zu</td><td class=\"key\">", i + 1);
        cs_buf_html(b, t->customer);
        cs_buf_puts(b, "</td><td>");
        cs_buf_html(b, t->tier);
        cs_buf_puts(b, "</td><td>");
        cs_rp_band(b, t->band);
        cs_buf_printf(b,
                      "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                      "<td><ul class=\"reasons\">",
                      p, clv, var);
        for (int k = 0; k < CUSTSCORE_REASONS; k++) {
            if (!t->reason[k] || !*t->reason[k])
                continue;
            cs_buf_puts(b, "<li>");
            cs_buf_html(b, t->reason[k]);
            cs_buf_puts(b, "</li>");
        }
        cs_buf_puts(b, "</ul></td></tr>\n");
    }
    cs_buf_puts(b, "</tbody></table>");
    snprintf(note, sizeof note,
             "Reasons are the feature groups that raise this customer's risk most, against the "
             "average customer. See one customer in full with `custscore show KEY`.");
    cs_buf_puts(b, "<p class=\"note\">");
    cs_rp_text(b, note);
    cs_buf_puts(b, "</p></figure>\n");
}
