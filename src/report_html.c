/*
 * report_html.c: the HTML report, part 2: the document. Inline CSS and the
 * inline SVG charts of svg.c; no scripts and nothing fetched (the
 * Content-Security-Policy below forbids both, so a browser would flag any
 * slip). Every string from the data is HTML-escaped. A part that could not
 * be computed is a figure with a note saying what to run.
 */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char cs_report_css[] =
    ":root{--ink:#1f2933;--muted:#52606d;--line:#d9e2ec;--accent:#0b5cad;--bg:#f4f6f8}"
    "*{box-sizing:border-box}"
    "body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica "
    "Neue',Arial,sans-serif;color:var(--ink);background:var(--bg)}"
    "header.top{background:#102a43;color:#fff;padding:18px 32px}"
    "header.top h1{margin:0;font-size:26px;font-weight:650}"
    "header.top p{margin:4px 0 0;color:#bcccdc;font-size:14px}"
    "nav{background:#fff;border-bottom:1px solid var(--line);padding:8px 32px;font-size:14px}"
    "nav a{color:var(--accent);text-decoration:none;margin-right:18px}"
    "main{max-width:1400px;margin:0 auto;padding:8px 32px 32px}"
    ".kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:12px;"
    "margin-top:18px}"
    ".kpi{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 14px}"
    ".kpi .l{color:var(--muted);font-size:13px}"
    ".kpi .v{font-size:26px;font-weight:650;line-height:1.2;margin:2px 0}"
    ".kpi .s{color:var(--muted);font-size:12px}"
    ".kpi.off .v{color:#9aa5b1}"
    "section{margin-top:30px}"
    "h2{font-size:20px;margin:0 0 4px;padding-bottom:4px;border-bottom:2px solid var(--line)}"
    "p.lede{margin:6px 0 12px;max-width:1000px}"
    ".cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px;"
    "align-items:start}"
    "figure{margin:0;background:#fff;border:1px solid var(--line);border-radius:8px;"
    "padding:12px 14px;min-width:0}"
    "figure.wide{grid-column:1/-1}"
    "figure.missing{border-style:dashed;background:#fbfcfd}"
    "figcaption{font-weight:650;margin-bottom:6px}"
    "figure svg{display:block;max-width:100%;height:auto}"
    "svg text{font-family:inherit}"
    ".tick{font-size:11px;fill:#52606d}.label{font-size:12px;fill:#334e68}"
    "line.grid{stroke:#e9edf1}.axis{stroke:#9aa5b1}.zero{stroke:#c92a2a;stroke-dasharray:4 3}"
    ".series{fill:none;stroke:var(--accent);stroke-width:2.5}.mark{fill:#e03131}"
    ".bar{fill:#3b82c4}.bar.neg{fill:#e03131}.value{font-size:12px;fill:#1f2933}"
    ".cell{font-size:10px;fill:#1f2933}.cell.dark{fill:#fff}"
    ".split{stroke:#7b8794;stroke-dasharray:5 4}"
    ".pt{fill-opacity:.55}.pt.big{fill-opacity:.9;stroke:#fff;stroke-width:1.5}"
    ".q0{fill:#2b8a3e}.q1{fill:#1971c2}.q2{fill:#e8590c}.q3{fill:#c92a2a}"
    ".qname{font-size:13px;font-weight:650;fill:#334e68}.plabel{font-size:12px;fill:#1f2933}"
    ".tier{stroke:#fff;stroke-width:2}.t0{fill:#0b4f8a}.t1{fill:#1c6fc0}.t2{fill:#4f95d6}"
    ".t3{fill:#c92a2a}.t4{fill:#e8590c}.t5{fill:#868e96}.t6,.t7,.t8,.t9{fill:#adb5bd}"
    ".tiername{fill:#fff;font-weight:650;font-size:13px}"
    "p.note{color:var(--muted);font-size:13px;margin:8px 0 0}"
    "figure.missing p.note{color:var(--ink);font-size:14px}"
    "p.say{margin:0 0 8px}"
    "code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#eef2f6;"
    "padding:1px 4px;border-radius:3px}"
    "table{border-collapse:collapse;width:100%;font-size:13px}"
    "th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}"
    "th{color:var(--muted);font-weight:600;background:#f8fafc}"
    ".n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "td.key{font-weight:600;word-break:break-all}"
    "ul.reasons{margin:0;padding-left:16px}"
    ".band{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;font-weight:600}"
    ".band.high{background:#ffe3e3;color:#a61e1e}.band.medium{background:#fff3bf;color:#8a5a00}"
    ".band.low{background:#d3f9d8;color:#1e6b30}"
    ".same{color:#9aa5b1}.up{color:#2b8a3e}.down{color:#c92a2a}"
    "footer{max-width:1400px;margin:0 auto;padding:0 32px 32px;color:var(--muted);font-size:12px}"
    "@media print{body{background:#fff}nav{display:none}figure,.kpi{break-inside:avoid}"
    "header.top{background:#fff;color:#000;border-bottom:2px solid #000}"
    "header.top p{color:#333}}";

/* ---------------------------------------------------------------------- */
/* Number formatting */

/* 1234567 -> "1,234,567". */
static void cs_rp_int(char *out, size_t size, int64_t v)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%lld", (long long)(v < 0 ? -v : v));
    size_t len = strlen(digits), o = 0;
    if (v < 0 && o + 1 < size)
        out[o++] = '-';
    for (size_t i = 0; i < len && o + 1 < size; i++) {
        out[o++] = digits[i];
        size_t left = len - i - 1;
        if (left > 0 && left % 3 == 0 && o + 1 < size)
            out[o++] = ',';
    }
    out[o] = '\0';
}

/* Money: "12.3M" from ten million, "1.23M" from a million, "123,456"
 * from a thousand, "12.34" below. */
static void cs_rp_money(char *out, size_t size, double v)
{
    double a = fabs(v);
    if (!isfinite(v))
        snprintf(out, size, "–");
    else if (a >= 1e9)
        snprintf(out, size, "%.2fG", v / 1e9);
    else if (a >= 1e7)
        snprintf(out, size, "%.1fM", v / 1e6);
    else if (a >= 1e6)
        snprintf(out, size, "%.2fM", v / 1e6);
    else if (a >= 1000)
        cs_rp_int(out, size, (int64_t)llround(v));
    else
        snprintf(out, size, "%.2f", v);
}

/* A share 0..1 as a percentage: "38%", "4.2%", "0.3%". */
static void cs_rp_pct(char *out, size_t size, double share)
{
    double p = share * 100;
    if (!isfinite(p))
        snprintf(out, size, "–");
    else if (fabs(p) >= 10 || p == 0)
        snprintf(out, size, "%.0f%%", p);
    else
        snprintf(out, size, "%.1f%%", p);
}

static void cs_rp_date(char *out, size_t size, int64_t t)
{
    if (custscore_format_time(t, 1, out, size))
        snprintf(out, size, "?");
}

/* ---------------------------------------------------------------------- */
/* Building blocks */

/* Escaped text in which `...` spans become <code>. */
static void cs_rp_text(cs_buf *b, const char *s)
{
    bool code = false;
    while (s && *s) {
        const char *tick = strchr(s, '`');
        size_t len = tick ? (size_t)(tick - s) : strlen(s);
        char *part = cs_strndup(s, len);
        if (!part) {
            b->failed = true;
            return;
        }
        cs_buf_html(b, part);
        cs_free(part);
        if (!tick)
            break;
        cs_buf_puts(b, code ? "</code>" : "<code>");
        code = !code;
        s = tick + 1;
    }
    if (code)
        cs_buf_puts(b, "</code>");
}

/* A part that could not be computed: its figure with a note. */
static void cs_rp_missing(cs_buf *b, const char *id, const char *title, const char *note,
                          bool wide)
{
    cs_buf_printf(b, "<figure class=\"chart missing%s\" data-chart=\"%s\"><figcaption>",
                  wide ? " wide" : "", id);
    cs_buf_html(b, title);
    cs_buf_puts(b, "</figcaption><p class=\"note\">");
    cs_rp_text(b, note);
    cs_buf_puts(b, "</p></figure>\n");
}

static void cs_rp_kpi(cs_buf *b, const char *label, const char *value, const char *sub, bool off)
{
    cs_buf_printf(b, "<div class=\"kpi%s\"><div class=\"l\">", off ? " off" : "");
    cs_buf_html(b, label);
    cs_buf_puts(b, "</div><div class=\"v\">");
    cs_buf_html(b, value);
    cs_buf_puts(b, "</div><div class=\"s\">");
    cs_rp_text(b, sub);
    cs_buf_puts(b, "</div></div>\n");
}

static void cs_rp_section(cs_buf *b, const char *id, const char *title, const char *lede)
{
    cs_buf_printf(b, "<section id=\"%s\"><h2>", id);
    cs_buf_html(b, title);
    cs_buf_puts(b, "</h2><p class=\"lede\">");
    cs_rp_text(b, lede);
    cs_buf_puts(b, "</p><div class=\"cols\">\n");
}

static void cs_rp_section_end(cs_buf *b)
{
    cs_buf_puts(b, "</div></section>\n");
}

static void cs_rp_band(cs_buf *b, const char *band)
{
    if (!band || !*band) {
        cs_buf_puts(b, "<span class=\"same\">–</span>");
        return;
    }
    cs_buf_puts(b, "<span class=\"band ");
    cs_buf_html(b, band);
    cs_buf_puts(b, "\">");
    cs_buf_html(b, band);
    cs_buf_puts(b, "</span>");
}

/* Sorted copy of the finite values of v[0..n); *m receives their number. */
static double *cs_rp_sorted_finite(const double *v, size_t n, size_t *m)
{
    double *s = cs_mallocarray(n ? n : 1, sizeof *s);
    *m = 0;
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            s[(*m)++] = v[i];
    if (cs_sort_doubles(s, *m)) {
        cs_free(s);
        return NULL;
    }
    return s;
}

/* ---------------------------------------------------------------------- */
/* Header and headline figures */

static void cs_rp_head(const cs_report *r, cs_buf *b)
{
    cs_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                   "style-src 'unsafe-inline'; img-src data:\">\n"
                   "<meta name=\"generator\" content=\"custscore ");
    cs_buf_html(b, custscore_version());
    cs_buf_puts(b, "\">\n<title>");
    cs_buf_html(b, r->title);
    cs_buf_printf(b, " – %s</title>\n<style>%s</style>\n</head>\n<body>\n", r->as_of_text,
                  cs_report_css);
    char when[32] = "?", customers[32];
    custscore_format_time(r->generated_at, 0, when, sizeof when);
    cs_rp_int(customers, sizeof customers, r->info.customers);
    cs_buf_puts(b, "<header class=\"top\"><h1>");
    cs_buf_html(b, r->title);
    cs_buf_printf(b,
                  "</h1><p>As of %s · %s customers · profit and revenue over the %s · "
                  "generated %s by custscore %s</p></header>\n",
                  r->as_of_text, customers, r->profit_window_text, when, custscore_version());
    cs_buf_puts(b, "<nav><a href=\"#value\">Customer value</a><a href=\"#clv\">Lifetime value</a>"
                   "<a href=\"#churn\">Churn risk</a><a href=\"#satisfaction\">Satisfaction</a>"
                   "<a href=\"#changes\">Changes</a><a href=\"#retention\">Retention</a></nav>\n"
                   "<main>\n");
}

static void cs_rp_kpis(const cs_report *r, cs_buf *b)
{
    const custscore_score_info *in = &r->info;
    char v[64], s[640], a[32], c[32];
    cs_buf_puts(b, "<div class=\"kpis\" id=\"headline\">\n");
    cs_rp_int(v, sizeof v, in->customers);
    cs_rp_int(a, sizeof a, r->buyers);
    snprintf(s, sizeof s, "%s with a purchase by %s", a, r->as_of_text);
    cs_rp_kpi(b, "Customers", v, s, false);
    cs_rp_money(v, sizeof v, r->revenue);
    cs_rp_kpi(b, "Revenue", v, r->profit_window_text, false);
    cs_rp_money(v, sizeof v, in->total_profit);
    snprintf(s, sizeof s, "%s%s", r->cost == 0 ? "no costs recorded: profit = revenue; " : "",
             r->profit_window_text);
    cs_rp_kpi(b, "Profit", v, s, false);
    if (in->has_clv) {
        cs_rp_money(v, sizeof v, in->total_clv);
        snprintf(s, sizeof s, "expected margin, next %s, discounted %g%%/year", r->horizon_text,
                 (r->opt.score.clv.discount_rate > 0 ? r->opt.score.clv.discount_rate : 0) * 100);
        cs_rp_kpi(b, "Total lifetime value", v, s, false);
    } else {
        cs_rp_kpi(b, "Total lifetime value", "–", "no model: `custscore fit`", true);
    }
    if (in->has_clv && in->has_churn) {
        cs_rp_money(v, sizeof v, in->total_value_at_risk);
        cs_rp_int(a, sizeof a, in->band_count[2]);
        snprintf(s, sizeof s, "churn probability × CLV; %s customers at high risk", a);
        cs_rp_kpi(b, "Value at risk", v, s, false);
    } else {
        cs_rp_kpi(b, "Value at risk", "–",
                  in->has_churn ? "needs a lifetime-value model" : "no churn model: `custscore churn train`",
                  true);
    }
    const custscore_csi_estimate *e = r->csi ? &r->csi->overall : NULL;
    if (e && isfinite(e->index)) {
        snprintf(v, sizeof v, "%.1f", e->index);
        cs_rp_int(a, sizeof a, (int64_t)e->n);
        if (isfinite(e->index_low) && isfinite(e->index_high))
            snprintf(s, sizeof s, "0–100; 95%% interval %.1f–%.1f; %s respondents, model %s",
                     e->index_low, e->index_high, a, r->survey_model);
        else
            snprintf(s, sizeof s, "0–100; %s respondents, model %s", a, r->survey_model);
        cs_rp_kpi(b, "Satisfaction index", v, s, false);
    } else {
        cs_rp_kpi(b, "Satisfaction index", "–", "no survey model or answers", true);
    }
    if (e && e->has_nps && isfinite(e->nps.nps)) {
        snprintf(v, sizeof v, "%+.0f", e->nps.nps);
        cs_rp_int(a, sizeof a, (int64_t)e->nps.n);
        snprintf(s, sizeof s, "95%% interval %+.0f to %+.0f; %s answers", e->nps.low,
                 e->nps.high, a);
        cs_rp_kpi(b, "Net Promoter Score", v, s, false);
    } else {
        cs_rp_kpi(b, "Net Promoter Score", "–",
                  e ? "no NPS item in the survey model" : "no survey data", true);
    }
    if (r->card && isfinite(r->card->auc)) {
        snprintf(v, sizeof v, "%.2f", r->card->auc);
        cs_rp_date(c, sizeof c, r->card->as_of);
        snprintf(s, sizeof s, "%s, %s; trained as of %s",
                 r->card->n_holdout > 0 ? "holdout" : "training data",
                 r->card->method == CUSTSCORE_CHURN_LABEL ? "churn label" : "purchase window", c);
        cs_rp_kpi(b, "Churn model AUC", v, s, false);
    } else {
        cs_rp_kpi(b, "Churn model AUC", "–", "no churn model: `custscore churn train`", true);
    }
    cs_buf_puts(b, "</div>\n");
}

/* ---------------------------------------------------------------------- */
/* Customer value: whale curve, pyramid, segments */

static void cs_rp_whale(const cs_report *r, cs_buf *b)
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

static void cs_rp_pyramid(const cs_report *r, cs_buf *b)
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

static void cs_rp_segments(const cs_report *r, cs_buf *b)
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
        label[i] = k < r->n_rules ? r->rules[k].name
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
             model_missing ? "No lifetime-value model is fitted. " : "",
             model_missing ? "" : why, model_missing ? "" : ". ", r->as_of_text, r->as_of_text);
}

static void cs_rp_clv(const cs_report *r, cs_buf *b)
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
        cs_rp_missing(b, "clv", title, "No customer has a purchase yet, so none has a CLV.",
                      false);
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

/* Copy of v clipped to its [1%, 99%] quantiles over the points drawn. */
static double *cs_rp_clipped(const double *v, const signed char *keep, size_t n, bool *clipped)
{
    double *out = cs_mallocarray(n ? n : 1, sizeof *out);
    double *tmp = cs_mallocarray(n ? n : 1, sizeof *tmp);
    if (!out || !tmp) {
        cs_free(out);
        cs_free(tmp);
        return NULL;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = keep[i] && isfinite(v[i]) ? v[i] : NAN;
        if (isfinite(out[i]))
            tmp[m++] = out[i];
    }
    if (m > 0 && cs_sort_doubles(tmp, m) == 0) {
        double lo = cs_quantile_sorted(tmp, m, 0.01), hi = cs_quantile_sorted(tmp, m, 0.99);
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(out[i]))
                continue;
            if (out[i] < lo || out[i] > hi)
                *clipped = true;
            out[i] = out[i] < lo ? lo : out[i] > hi ? hi : out[i];
        }
    }
    cs_free(tmp);
    return out;
}

/* Quadrant classes of the charts: [0] high-high, [1] low x high y,
 * [2] high x low y, [3] low-low. */
static const int cs_vq_class[5] = {-1, 0, 1, 2, 3};
static const int cs_lq_class[5] = {-1, 0, 2, 1, 3};

static void cs_rp_value_matrix(const cs_report *r, cs_buf *b)
{
    const char *title = "Value matrix: current value × future value";
    char note[CS_REPORT_NOTE * 2];
    if (!r->info.has_clv) {
        cs_rp_clv_missing_note(r, note, sizeof note);
        cs_rp_missing(b, "value-matrix", title, note, false);
        return;
    }
    size_t n = r->n;
    signed char *keep = cs_mallocarray(n ? n : 1, 1);
    int *group = cs_mallocarray(n ? n : 1, sizeof *group);
    bool clipped = false;
    double *x = NULL, *y = NULL;
    if (keep && group) {
        for (size_t i = 0; i < n; i++) {
            int q = r->vq[i] >= 0 && r->vq[i] < 5 ? cs_vq_class[r->vq[i]] : -1;
            keep[i] = q >= 0;
            group[i] = q < 0 ? 0 : q;
        }
        x = cs_rp_clipped(r->profit, keep, n, &clipped);
        y = cs_rp_clipped(r->clv, keep, n, &clipped);
    }
    if (!keep || !group || !x || !y) {
        b->failed = true;
        goto done;
    }
    char xs[32], ys[32];
    cs_rp_money(xs, sizeof xs, r->info.current_value_split);
    cs_rp_money(ys, sizeof ys, r->info.future_value_split);
    snprintf(note, sizeof note,
             "Split at %s current value (profit over the %s) and %s CLV%s. Potential customers "
             "(top left) buy little now but are expected to be worth much: the group most "
             "easily neglected.%s",
             xs, r->profit_window_text, ys,
             isfinite(r->opt.score.current_value_split) ? "" : " (the medians)",
             clipped ? " Axes end at the 1st and 99th percentiles; customers beyond are drawn "
                       "at the edge."
                     : "");
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
                                              cnt[CUSTSCORE_VQ_MAINTAIN], cnt[CUSTSCORE_VQ_LOW]}};
    cs_svg_quadrant(b, &c);
done:
    cs_free(keep);
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

static void cs_rp_churn(const cs_report *r, cs_buf *b)
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
            snprintf(labels[i], sizeof labels[i], "high (≥ %.0f%%)", r->band_high * 100);
        else if (l == 1)
            snprintf(labels[i], sizeof labels[i], "medium (%.0f–%.0f%%)", r->band_medium * 100,
                     r->band_high * 100);
        else
            snprintf(labels[i], sizeof labels[i], "low (< %.0f%%)", r->band_medium * 100);
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

static void cs_rp_churn_top(const cs_report *r, cs_buf *b)
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
        cs_buf_printf(b, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
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

/* ---------------------------------------------------------------------- */
/* Satisfaction: importance-performance map and the loyalty quadrant */

static void cs_rp_ipm(const cs_report *r, cs_buf *b)
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
        snprintf(ix, sizeof ix, " (95%% interval %.1f–%.1f)", e->index_low, e->index_high);
    snprintf(note, sizeof note,
             "Index %.1f%s from model '%s'. Importance is each driver's total effect on "
             "satisfaction, performance its own 0–100 index; lines at the means. Improve first "
             "what is important and performs below average (bottom right).%s%s",
             e->index, ix, r->survey_model, r->csi_note[0] ? " " : "", r->csi_note);
    cs_chart_quadrant c = {.id = "ipm",
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
                           .quadrant_name = {"keep up", "possible overkill", "concentrate here",
                                             "low priority"},
                           .quadrant_count = {qc[0], qc[1], qc[2], qc[3]},
                           .point_label = label};
    cs_svg_quadrant(b, &c);
done:
    cs_free(x);
    cs_free(y);
    cs_free(group);
    cs_free(label);
}

static void cs_rp_loyalty(const cs_report *r, cs_buf *b)
{
    const char *title = "Loyalty quadrant: satisfaction × loyalty";
    char note[CS_REPORT_NOTE * 2];
    if (!r->info.has_satisfaction) {
        snprintf(note, sizeof note,
                 "No per-customer satisfaction (%s). Import survey answers with `custscore "
                 "import responses FILE --wide --customer COL --date COL` and save a survey "
                 "model with `custscore csi --model ecsi|FILE`.",
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
    snprintf(note, sizeof note,
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

static void cs_rp_changes(const cs_report *r, cs_buf *b)
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
        cs_buf_puts(b, "<table><thead><tr><th>Tier move</th><th class=\"n\">Customers</th></tr>"
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
        cs_buf_puts(b, "</tbody></table><p></p>");
    }
    if (r->n_changes > 0) {
        cs_buf_printf(b,
                      "<table><thead><tr><th class=\"n\">#</th><th>Customer</th><th>Tier</th>"
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

static void cs_rp_retention(const cs_report *r, cs_buf *b)
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
    snprintf(gap, sizeof gap, "%.0f", ret->mean_interpurchase_days);
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

/* ---------------------------------------------------------------------- */

static void cs_rp_footer(const cs_report *r, cs_buf *b)
{
    cs_buf_puts(b, "</main>\n<footer><p>Models used: ");
    if (r->has_purchase_model) {
        char d[32];
        cs_rp_date(d, sizeof d, r->purchase.as_of);
        cs_buf_html(b, r->purchase.name);
        cs_buf_printf(b, " (fitted on data to %s) with Gamma-Gamma spend; ", d);
    } else {
        cs_buf_puts(b, "no lifetime-value model; ");
    }
    if (r->card) {
        char d[32];
        cs_rp_date(d, sizeof d, r->card->as_of);
        cs_buf_puts(b, "churn model ");
        cs_buf_html(b, r->card->model_name ? r->card->model_name : "churn");
        cs_buf_printf(b, " (trained as of %s); ", d);
    } else {
        cs_buf_puts(b, "no churn model; ");
    }
    if (r->csi) {
        cs_buf_puts(b, "survey model ");
        cs_buf_html(b, r->survey_model);
        cs_buf_puts(b, ".");
    } else {
        cs_buf_puts(b, "no survey model.");
    }
    cs_buf_puts(b, " How to read each section: docs/report.md in the custscore sources. This file "
                   "is self-contained: no scripts, nothing loaded from the network.</p></footer>\n"
                   "</body></html>\n");
}

void cs_report_render(const cs_report *r, cs_buf *b)
{
    char window[96];
    snprintf(window, sizeof window, "%s", r->profit_window_text);
    cs_rp_head(r, b);
    cs_rp_kpis(r, b);

    char lede[CS_REPORT_NOTE * 2];
    snprintf(lede, sizeof lede,
             "Who makes the money: customers ranked by profit over the %s, the tiers of the "
             "customer pyramid, and the RFM segments.",
             window);
    cs_rp_section(b, "value", "Customer value", lede);
    cs_rp_whale(r, b);
    cs_rp_pyramid(r, b);
    cs_rp_segments(r, b);
    cs_rp_section_end(b);

    snprintf(lede, sizeof lede,
             "What customers are expected to be worth: the discounted margin of their purchases "
             "over the next %s, and how that future value sits against today's value.",
             r->horizon_text);
    cs_rp_section(b, "clv", "Lifetime value", lede);
    cs_rp_clv(r, b);
    cs_rp_value_matrix(r, b);
    cs_rp_section_end(b);

    cs_rp_section(b, "churn", "Churn risk",
                  "Who is about to leave: the probability that a customer makes no purchase in "
                  "the model's window, its band, and the customers with the most value at risk, "
                  "with the reasons behind their risk.");
    cs_rp_churn(r, b);
    cs_rp_churn_top(r, b);
    cs_rp_section_end(b);

    cs_rp_section(b, "satisfaction", "Satisfaction and loyalty",
                  "How satisfied customers are, what drives it, and whether satisfaction and "
                  "buying behaviour agree.");
    cs_rp_ipm(r, b);
    cs_rp_loyalty(r, b);
    cs_rp_section_end(b);

    cs_rp_section(b, "changes", "Changes",
                  "Customers whose tier, segment or churn-risk band moved between the two "
                  "latest saved score snapshots, largest value at stake first.");
    cs_rp_changes(r, b);
    cs_rp_section_end(b);

    cs_rp_section(b, "retention", "Retention",
                  "Do customers come back: each monthly cohort of first-time buyers, and the "
                  "share of it buying again in each later month.");
    cs_rp_retention(r, b);
    cs_rp_section_end(b);
    cs_rp_footer(r, b);
}
