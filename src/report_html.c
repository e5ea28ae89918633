/*
 * report_html.c: the HTML report, part 2: the document (the sections are in
 * report_value.c and report_loyalty.c) and its building blocks. Inline CSS and the
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
    ".qname,.plabel,.value{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}"
    ".tier{stroke:#fff;stroke-width:2}.t0{fill:#0b4f8a}.t1{fill:#1c6fc0}.t2{fill:#4f95d6}"
    ".t3{fill:#c92a2a}.t4{fill:#e8590c}.t5{fill:#868e96}.t6,.t7,.t8,.t9{fill:#adb5bd}"
    ".tiername{fill:#fff;font-weight:650;font-size:13px}"
    ".tier.empty{fill:#e9ecef}.tiername.empty{fill:#868e96}"
    "p.note{color:var(--muted);font-size:13px;margin:8px 0 0}"
    "figure.missing p.note{color:var(--ink);font-size:14px}"
    "p.say{margin:0 0 8px}"
    "code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#eef2f6;"
    "padding:1px 4px;border-radius:3px;white-space:nowrap}"
    "table{border-collapse:collapse;width:100%;font-size:13px}"
    "th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}"
    "th{color:var(--muted);font-weight:600;background:#f8fafc}"
    ".n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "td.key{font-weight:600;word-break:break-all}"
    "table.compact{width:auto;min-width:300px;margin-bottom:14px}"
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
void cs_rp_int(char *out, size_t size, int64_t v)
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
void cs_rp_money(char *out, size_t size, double v)
{
    double a = fabs(v);
    if (!isfinite(v))
        snprintf(out, size, "–");
    else if (a >= 1e9)
        cs_snprintf_c(out, size, "%.2fG", v / 1e9);
    else if (a >= 1e7)
        cs_snprintf_c(out, size, "%.1fM", v / 1e6);
    else if (a >= 1e6)
        cs_snprintf_c(out, size, "%.2fM", v / 1e6);
    else if (a >= 1000)
        cs_rp_int(out, size, (int64_t)llround(v));
    else
        cs_snprintf_c(out, size, "%.2f", v);
}

/* A share 0..1 as a percentage: "38%", "4.2%", "0.3%". */
void cs_rp_pct(char *out, size_t size, double share)
{
    double p = share * 100;
    if (!isfinite(p))
        snprintf(out, size, "–");
    else if (fabs(p) >= 10 || p == 0)
        cs_snprintf_c(out, size, "%.0f%%", p);
    else
        cs_snprintf_c(out, size, "%.1f%%", p);
}

void cs_rp_date(char *out, size_t size, int64_t t)
{
    if (custscore_format_time(t, 1, out, size))
        snprintf(out, size, "?");
}

/* ---------------------------------------------------------------------- */
/* Building blocks */

/* Escaped text in which `...` spans become <code>. */
void cs_rp_text(cs_buf *b, const char *s)
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
void cs_rp_missing(cs_buf *b, const char *id, const char *title, const char *note, bool wide)
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

void cs_rp_band(cs_buf *b, const char *band)
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
double *cs_rp_sorted_finite(const double *v, size_t n, size_t *m)
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
        cs_snprintf_c(
            s, sizeof s, "expected margin, next %s, discounted %g%%/year", r->horizon_text,
            (r->opt.score.clv.discount_rate > 0 ? r->opt.score.clv.discount_rate : 0) * 100);
        cs_rp_kpi(b, "Total lifetime value", v, s, false);
    } else {
        cs_rp_kpi(b, "Total lifetime value", "—", "no model: `custscore fit`", true);
    }
    if (in->has_clv && in->has_churn) {
        cs_rp_money(v, sizeof v, in->total_value_at_risk);
        cs_rp_int(a, sizeof a, in->band_count[2]);
        snprintf(s, sizeof s, "churn probability × CLV; %s customers at high risk", a);
        cs_rp_kpi(b, "Value at risk", v, s, false);
    } else {
        cs_rp_kpi(b, "Value at risk", "—",
                  in->has_churn ? "needs a lifetime-value model"
                                : "no churn model: `custscore churn train`",
                  true);
    }
    const custscore_csi_estimate *e = r->csi ? &r->csi->overall : NULL;
    if (e && isfinite(e->index)) {
        cs_snprintf_c(v, sizeof v, "%.1f", e->index);
        cs_rp_int(a, sizeof a, (int64_t)e->n);
        if (isfinite(e->index_low) && isfinite(e->index_high))
            cs_snprintf_c(
                s, sizeof s,
                "0–100; 95%% interval %.1f–%.1f (%d bootstrap resamples); %s respondents, "
                "model %s",
                e->index_low, e->index_high, r->csi_draws, a, r->survey_model);
        else
            snprintf(s, sizeof s, "0–100; %s respondents, model %s", a, r->survey_model);
        cs_rp_kpi(b, "Satisfaction index", v, s, false);
    } else {
        cs_rp_kpi(b, "Satisfaction index", "—", "no survey model or answers", true);
    }
    if (e && e->has_nps && isfinite(e->nps.nps)) {
        cs_snprintf_c(v, sizeof v, "%+.0f", e->nps.nps);
        cs_rp_int(a, sizeof a, (int64_t)e->nps.n);
        cs_snprintf_c(s, sizeof s, "95%% interval %+.0f to %+.0f; %s answers", e->nps.low,
                      e->nps.high, a);
        cs_rp_kpi(b, "Net Promoter Score", v, s, false);
    } else {
        cs_rp_kpi(b, "Net Promoter Score", "—",
                  e ? "no NPS item in the survey model" : "no survey data", true);
    }
    if (r->card && isfinite(r->card->auc)) {
        cs_snprintf_c(v, sizeof v, "%.2f", r->card->auc);
        cs_rp_date(c, sizeof c, r->card->as_of);
        snprintf(s, sizeof s, "%s, %s; trained as of %s",
                 r->card->n_holdout > 0 ? "holdout" : "training data",
                 r->card->method == CUSTSCORE_CHURN_LABEL ? "churn label" : "purchase window", c);
        cs_rp_kpi(b, "Churn model AUC", v, s, false);
    } else {
        cs_rp_kpi(b, "Churn model AUC", "—", "no churn model: `custscore churn train`", true);
    }
    cs_buf_puts(b, "</div>\n");
    /* Where the customer scores come from: the saved snapshot of the date,
     * or computed now (and why). */
    if (r->source_note[0]) {
        cs_buf_printf(b, "<p class=\"note\" id=\"source\" data-source=\"%s\">",
                      r->from_snapshot ? "snapshot" : "computed");
        cs_rp_text(b, r->source_note);
        cs_buf_puts(b, "</p>\n");
    }
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
