/*
 * svg.c: a growable text buffer and the inline SVG charts of the HTML report.
 *
 * Charts are plain SVG with <title> tooltips and CSS classes; no scripts, no
 * external files, so the report is one self-contained file. Each chart is a
 * <figure> with a data-chart attribute naming it (tests look for them).
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Buffer */

void cs_buf_init(cs_buf *b)
{
    memset(b, 0, sizeof *b);
}

void cs_buf_free(cs_buf *b)
{
    cs_free(b->data);
    memset(b, 0, sizeof *b);
}

static bool cs_buf_reserve(cs_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2) {
            b->failed = true;
            return false;
        }
        cap *= 2;
    }
    char *p = cs_reallocarray(b->data, cap, 1);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void cs_buf_add(cs_buf *b, const char *s, size_t len)
{
    if (!cs_buf_reserve(b, len))
        return;
    memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void cs_buf_puts(cs_buf *b, const char *s)
{
    cs_buf_add(b, s, strlen(s));
}

/* Numbers with '.' whatever the host's locale (cs_vsnprintf_c): the buffers
 * hold JSON, SVG coordinates and HTML. */
void cs_buf_printf(cs_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[512];
    int n = cs_vsnprintf_c(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        cs_buf_add(b, small, (size_t)n);
        return;
    }
    if (!cs_buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    int again = cs_vsnprintf_c(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (again != n) {
        b->data[b->len] = '\0';
        b->failed = true;
        return;
    }
    b->len += (size_t)n;
}

void cs_buf_html(cs_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            cs_buf_puts(b, "&lt;");
            break;
        case '>':
            cs_buf_puts(b, "&gt;");
            break;
        case '&':
            cs_buf_puts(b, "&amp;");
            break;
        case '"':
            cs_buf_puts(b, "&quot;");
            break;
        case '\'':
            cs_buf_puts(b, "&#39;");
            break;
        default:
            cs_buf_add(b, s, 1);
        }
    }
}

/* ---------------------------------------------------------------------- */
/* Number formatting for labels: 1234567 -> "1.23M", 0.1234 -> "0.123"
 * ('.' whatever the host's locale). */

void cs_fmt_num(char *out, size_t size, double v)
{
    double a = fabs(v);
    if (!isfinite(v))
        snprintf(out, size, "–");
    else if (a >= 1e9)
        cs_snprintf_c(out, size, "%.2fG", v / 1e9);
    else if (a >= 1e6)
        cs_snprintf_c(out, size, "%.2fM", v / 1e6);
    else if (a >= 1e4)
        cs_snprintf_c(out, size, "%.1fk", v / 1e3);
    else if (a >= 100 || v == floor(v))
        cs_snprintf_c(out, size, "%.0f", v);
    else if (a >= 1)
        cs_snprintf_c(out, size, "%.2f", v);
    else
        cs_snprintf_c(out, size, "%.3g", v);
}

/* Nice axis ticks covering [lo, hi]. */
static double cs_nice_step(double range, int target)
{
    if (!(range > 0))
        return 1;
    double raw = range / target;
    double mag = pow(10, floor(log10(raw)));
    double norm = raw / mag;
    double step = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
    return step * mag;
}

#define CS_W 640.0
#define CS_H 300.0
#define CS_ML 64.0
#define CS_MR 16.0
#define CS_MT 16.0
#define CS_MB 44.0

static void cs_figure_open(cs_buf *b, const char *id, const char *title, double w, double h)
{
    cs_buf_printf(b, "<figure class=\"chart\" data-chart=\"%s\"><figcaption>", id);
    cs_buf_html(b, title);
    cs_buf_printf(
        b,
        "</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
        "width=\"%.0f\" height=\"%.0f\" role=\"img\" aria-label=\"",
        w, h, w, h);
    cs_buf_html(b, title);
    cs_buf_puts(b, "\">");
}

static void cs_figure_close(cs_buf *b, const char *note)
{
    cs_buf_puts(b, "</svg>");
    if (note && *note) {
        cs_buf_puts(b, "<p class=\"note\">");
        cs_buf_html(b, note);
        cs_buf_puts(b, "</p>");
    }
    cs_buf_puts(b, "</figure>\n");
}

typedef struct cs_axes {
    double x0, x1, y0, y1; /* data ranges */
    double w, h;
} cs_axes;

static double cs_px(const cs_axes *a, double x)
{
    double span = a->x1 - a->x0;
    return CS_ML + (span > 0 ? (x - a->x0) / span : 0.5) * (a->w - CS_ML - CS_MR);
}

static double cs_py(const cs_axes *a, double y)
{
    double span = a->y1 - a->y0;
    return a->h - CS_MB - (span > 0 ? (y - a->y0) / span : 0.5) * (a->h - CS_MT - CS_MB);
}

static void cs_draw_axes(cs_buf *b, const cs_axes *a, const char *x_label, const char *y_label,
                         bool x_percent, bool y_percent)
{
    char t[32];
    double ys = cs_nice_step(a->y1 - a->y0, 5);
    for (double y = ceil(a->y0 / ys) * ys; y <= a->y1 + ys * 1e-9; y += ys) {
        double py = cs_py(a, y);
        cs_buf_printf(b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                      CS_ML, py, a->w - CS_MR, py);
        if (y_percent)
            snprintf(t, sizeof t, "%.0f%%", y * 100);
        else
            cs_fmt_num(t, sizeof t, fabs(y) < ys * 1e-9 ? 0 : y);
        cs_buf_printf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                      CS_ML - 6, py + 4, t);
    }
    double xs = cs_nice_step(a->x1 - a->x0, 6);
    for (double x = ceil(a->x0 / xs) * xs; x <= a->x1 + xs * 1e-9; x += xs) {
        double px = cs_px(a, x);
        if (x_percent)
            snprintf(t, sizeof t, "%.0f%%", x * 100);
        else
            cs_fmt_num(t, sizeof t, fabs(x) < xs * 1e-9 ? 0 : x);
        cs_buf_printf(b,
                      "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
                      px, a->h - CS_MB + 16, t);
    }
    cs_buf_printf(b, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                  CS_ML, a->h - CS_MB, a->w - CS_MR, a->h - CS_MB);
    cs_buf_printf(b, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                  CS_ML, CS_MT, CS_ML, a->h - CS_MB);
    if (x_label) {
        cs_buf_printf(b, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                      (CS_ML + a->w - CS_MR) / 2, a->h - 6);
        cs_buf_html(b, x_label);
        cs_buf_puts(b, "</text>");
    }
    if (y_label) {
        cs_buf_printf(b,
                      "<text class=\"label\" transform=\"translate(14 %.1f) rotate(-90)\" "
                      "text-anchor=\"middle\">",
                      (CS_MT + a->h - CS_MB) / 2);
        cs_buf_html(b, y_label);
        cs_buf_puts(b, "</text>");
    }
}

void cs_svg_line(cs_buf *b, const cs_chart_line *c)
{
    cs_axes a = {.w = CS_W, .h = CS_H};
    bool first = true;
    for (size_t i = 0; i < c->n; i++) {
        if (!isfinite(c->x[i]) || !isfinite(c->y[i]))
            continue;
        if (first || c->x[i] < a.x0)
            a.x0 = c->x[i];
        if (first || c->x[i] > a.x1)
            a.x1 = c->x[i];
        if (first || c->y[i] < a.y0)
            a.y0 = c->y[i];
        if (first || c->y[i] > a.y1)
            a.y1 = c->y[i];
        first = false;
    }
    if (a.y0 > 0)
        a.y0 = 0;
    if (a.y1 <= a.y0)
        a.y1 = a.y0 + 1;
    if (a.x1 <= a.x0)
        a.x1 = a.x0 + 1;
    cs_figure_open(b, c->id, c->title, CS_W, CS_H);
    cs_draw_axes(b, &a, c->x_label, c->y_label, c->x_percent, c->y_percent);
    if (a.y0 < 0)
        cs_buf_printf(b, "<line class=\"zero\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                      CS_ML, cs_py(&a, 0), CS_W - CS_MR, cs_py(&a, 0));
    cs_buf_puts(b, "<polyline class=\"series\" points=\"");
    for (size_t i = 0; i < c->n; i++)
        if (isfinite(c->x[i]) && isfinite(c->y[i]))
            cs_buf_printf(b, "%.1f,%.1f ", cs_px(&a, c->x[i]), cs_py(&a, c->y[i]));
    cs_buf_puts(b, "\"/>");
    if (c->mark >= 0 && (size_t)c->mark < c->n) {
        size_t m = (size_t)c->mark;
        cs_buf_printf(b, "<circle class=\"mark\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\"><title>",
                      cs_px(&a, c->x[m]), cs_py(&a, c->y[m]));
        cs_buf_html(b, c->mark_label ? c->mark_label : "");
        cs_buf_puts(b, "</title></circle>");
    }
    cs_figure_close(b, c->note);
}

void cs_svg_bars(cs_buf *b, const cs_chart_bars *c)
{
    /* Room on the right for the value text, more when it is annotated. */
    double row = 24, w = CS_W, label_w = 170, right = c->annotation ? 250 : 90;
    double h = CS_MT + row * (double)c->n + 24;
    double max = 0, min = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (isfinite(c->value[i]) && c->value[i] > max)
            max = c->value[i];
        if (isfinite(c->value[i]) && c->value[i] < min)
            min = c->value[i];
    }
    if (max <= min)
        max = min + 1;
    cs_figure_open(b, c->id, c->title, w, h);
    double x_zero = label_w + (0 - min) / (max - min) * (w - label_w - right);
    for (size_t i = 0; i < c->n; i++) {
        double y = CS_MT + row * (double)i;
        double v = isfinite(c->value[i]) ? c->value[i] : 0;
        double x_v = label_w + (v - min) / (max - min) * (w - label_w - right);
        double x = v >= 0 ? x_zero : x_v, bw = fabs(x_v - x_zero);
        cs_buf_printf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
                      label_w - 8, y + row * 0.65);
        cs_buf_html(b, c->label[i]);
        cs_buf_printf(b,
                      "</text><rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                      "height=\"%.1f\"><title>",
                      v < 0 ? "bar neg" : "bar", x, y + 3, bw < 0.5 && v != 0 ? 0.5 : bw, row - 6);
        cs_buf_html(b, c->label[i]);
        char t[32];
        cs_fmt_num(t, sizeof t, v);
        cs_buf_printf(b, ": %s</title></rect>", t);
        const char *extra = c->annotation ? c->annotation[i] : NULL;
        cs_buf_printf(b, "<text class=\"value\" x=\"%.1f\" y=\"%.1f\">%s", x + bw + 6,
                      y + row * 0.65, t);
        if (extra) {
            cs_buf_puts(b, " ");
            cs_buf_html(b, extra);
        }
        cs_buf_puts(b, "</text>");
    }
    cs_figure_close(b, c->note);
}

void cs_svg_heatmap(cs_buf *b, const cs_chart_heatmap *c)
{
    double cell_w = 34, cell_h = 20, left = 96, top = 34;
    double w = left + cell_w * (double)c->cols + 16, h = top + cell_h * (double)c->rows + 16;
    if (w < 320)
        w = 320;
    cs_figure_open(b, c->id, c->title, w, h);
    for (size_t k = 0; k < c->cols; k++) {
        cs_buf_printf(
            b, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s%zu</text>",
            left + cell_w * ((double)k + 0.5), top - 8, c->col_prefix ? c->col_prefix : "", k);
    }
    for (size_t r = 0; r < c->rows; r++) {
        double y = top + cell_h * (double)r;
        cs_buf_printf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
                      left - 6, y + cell_h * 0.7);
        cs_buf_html(b, c->row_label[r]);
        cs_buf_puts(b, "</text>");
        for (size_t k = 0; k < c->cols; k++) {
            double v = c->value[r * c->cols + k];
            if (!isfinite(v))
                continue;
            double t = v < 0 ? 0 : v > 1 ? 1 : v;
            /* White to deep blue. */
            int red = (int)(247 - t * (247 - 8)), green = (int)(251 - t * (251 - 69)),
                blue = (int)(255 - t * (255 - 148));
            cs_buf_printf(b,
                          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                          "fill=\"rgb(%d,%d,%d)\"><title>",
                          left + cell_w * (double)k, y, cell_w - 1, cell_h - 1, red, green, blue);
            cs_buf_html(b, c->row_label[r]);
            cs_buf_printf(b, ", %s%zu: %.1f%%</title></rect>", c->col_prefix ? c->col_prefix : "",
                          k, v * 100);
            cs_buf_printf(b,
                          "<text class=\"cell%s\" x=\"%.1f\" y=\"%.1f\" "
                          "text-anchor=\"middle\">%.0f</text>",
                          t > 0.5 ? " dark" : "", left + cell_w * ((double)k + 0.5),
                          y + cell_h * 0.7, v * 100);
        }
    }
    cs_figure_close(b, c->note);
}

/* Symmetric log scale for money: sign(v) log10(1 + |v|), defined for every
 * value (0 stays 0, losses go left or down). */
static double cs_symlog(double v)
{
    return v < 0 ? -log10(1 - v) : log10(1 + v);
}

/* Axes for cs_symlog-transformed data: grid lines and ticks at 0, ±1,
 * ±10, ±100, ... on both axes. */
static void cs_draw_axes_log(cs_buf *b, const cs_axes *a, const char *x_label, const char *y_label)
{
    char t[32];
    for (int axis = 0; axis < 2; axis++) {
        double lo = axis == 0 ? a->x0 : a->y0, hi = axis == 0 ? a->x1 : a->y1;
        for (int k = -1; k < 16; k++) {
            for (int sign = -1; sign <= 1; sign += 2) {
                if (k < 0 && sign < 0)
                    continue; /* 0 once */
                double v = k < 0 ? 0 : sign * pow(10, k), tv = cs_symlog(v);
                if (tv < lo || tv > hi)
                    continue;
                cs_fmt_num(t, sizeof t, v);
                if (axis == 0) {
                    double px = cs_px(a, tv);
                    cs_buf_printf(b,
                                  "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                                  "y2=\"%.1f\"/><text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
                                  "text-anchor=\"middle\">%s</text>",
                                  px, CS_MT, px, a->h - CS_MB, px, a->h - CS_MB + 16, t);
                } else {
                    double py = cs_py(a, tv);
                    cs_buf_printf(b,
                                  "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                                  "y2=\"%.1f\"/><text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
                                  "text-anchor=\"end\">%s</text>",
                                  CS_ML, py, a->w - CS_MR, py, CS_ML - 6, py + 4, t);
                }
            }
        }
    }
    cs_buf_printf(b, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                  CS_ML, a->h - CS_MB, a->w - CS_MR, a->h - CS_MB);
    cs_buf_printf(b, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                  CS_ML, CS_MT, CS_ML, a->h - CS_MB);
    if (x_label) {
        cs_buf_printf(b, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                      (CS_ML + a->w - CS_MR) / 2, a->h - 6);
        cs_buf_html(b, x_label);
        cs_buf_puts(b, "</text>");
    }
    if (y_label) {
        cs_buf_printf(b,
                      "<text class=\"label\" transform=\"translate(14 %.1f) rotate(-90)\" "
                      "text-anchor=\"middle\">",
                      (CS_MT + a->h - CS_MB) / 2);
        cs_buf_html(b, y_label);
        cs_buf_puts(b, "</text>");
    }
}

/* A chart value on its axis (transformed on a log axis). */
static double cs_qv(const cs_chart_quadrant *c, double v)
{
    return c->log_scale ? cs_symlog(v) : v;
}

void cs_svg_quadrant(cs_buf *b, const cs_chart_quadrant *c)
{
    cs_axes a = {.w = CS_W, .h = 360};
    bool first = true;
    for (size_t i = 0; i < c->n; i++) {
        if (!isfinite(c->x[i]) || !isfinite(c->y[i]))
            continue;
        double x = cs_qv(c, c->x[i]), y = cs_qv(c, c->y[i]);
        if (first || x < a.x0)
            a.x0 = x;
        if (first || x > a.x1)
            a.x1 = x;
        if (first || y < a.y0)
            a.y0 = y;
        if (first || y > a.y1)
            a.y1 = y;
        first = false;
    }
    double x_split = cs_qv(c, c->x_split), y_split = cs_qv(c, c->y_split);
    if (isfinite(x_split)) {
        if (first || x_split < a.x0)
            a.x0 = x_split;
        if (first || x_split > a.x1)
            a.x1 = x_split;
    }
    if (isfinite(y_split)) {
        if (first || y_split < a.y0)
            a.y0 = y_split;
        if (first || y_split > a.y1)
            a.y1 = y_split;
    }
    if (a.x1 <= a.x0)
        a.x1 = a.x0 + 1;
    if (a.y1 <= a.y0)
        a.y1 = a.y0 + 1;
    /* Labelled points get more room, so that they stay clear of the
     * quadrant names in the corners. */
    double pad = c->point_label ? 0.15 : 0.04;
    double padx = (a.x1 - a.x0) * pad, pady = (a.y1 - a.y0) * pad;
    a.x0 -= padx;
    a.x1 += padx;
    a.y0 -= pady;
    a.y1 += pady;
    cs_figure_open(b, c->id, c->title, a.w, a.h);
    if (c->log_scale)
        cs_draw_axes_log(b, &a, c->x_label, c->y_label);
    else
        cs_draw_axes(b, &a, c->x_label, c->y_label, false, c->y_percent);
    double sx = cs_px(&a, x_split), sy = cs_py(&a, y_split);
    cs_buf_printf(b, "<line class=\"split\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", sx,
                  CS_MT, sx, a.h - CS_MB);
    cs_buf_printf(b, "<line class=\"split\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                  CS_ML, sy, a.w - CS_MR, sy);
    /* Points (at most c->max_points, evenly thinned, so the file stays small;
     * thinned among the points that can be drawn, so that a chart of a few
     * of many customers, as the loyalty quadrant's respondents, keeps its
     * share of points). */
    size_t drawable = 0;
    for (size_t i = 0; i < c->n; i++)
        if (isfinite(c->x[i]) && isfinite(c->y[i]))
            drawable++;
    size_t step = c->max_points > 0 && drawable > c->max_points ? drawable / c->max_points + 1 : 1;
    if (c->point_label)
        step = 1;
    for (size_t i = 0, seen = 0; i < c->n; i++) {
        if (!isfinite(c->x[i]) || !isfinite(c->y[i]) || seen++ % step != 0)
            continue;
        double px = cs_px(&a, cs_qv(c, c->x[i])), py = cs_py(&a, cs_qv(c, c->y[i]));
        if (!c->point_label) {
            cs_buf_printf(b, "<circle class=\"pt q%d\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"/>",
                          c->group ? c->group[i] : 0, px, py);
            continue;
        }
        /* Labelled points (a few, e.g. the drivers of an importance-performance
         * map): a larger dot with its name beside it, on the side with room. */
        const char *label = c->point_label[i] ? c->point_label[i] : "";
        bool left = px > (CS_ML + a.w - CS_MR) / 2;
        cs_buf_printf(b, "<circle class=\"pt big q%d\" cx=\"%.1f\" cy=\"%.1f\" r=\"6\"><title>",
                      c->group ? c->group[i] : 0, px, py);
        cs_buf_html(b, label);
        char tx[32], ty[32];
        cs_fmt_num(tx, sizeof tx, c->x[i]);
        cs_fmt_num(ty, sizeof ty, c->y[i]);
        cs_buf_printf(b, ": %s, %s</title></circle>", tx, ty);
        cs_buf_printf(b, "<text class=\"plabel\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">",
                      left ? px - 10 : px + 10, py + 4, left ? "end" : "start");
        cs_buf_html(b, label);
        cs_buf_puts(b, "</text>");
    }
    /* Quadrant names with counts: [0] high-high (top right), [1] low x high y
     * (top left), [2] high x low y (bottom right), [3] low-low. */
    const double qx[4] = {a.w - CS_MR - 8, CS_ML + 8, a.w - CS_MR - 8, CS_ML + 8};
    const double qy[4] = {CS_MT + 16, CS_MT + 16, a.h - CS_MB - 8, a.h - CS_MB - 8};
    const char *anchor[4] = {"end", "start", "end", "start"};
    for (int q = 0; q < 4; q++) {
        if (!c->quadrant_name[q])
            continue;
        cs_buf_printf(b, "<text class=\"qname\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", qx[q],
                      qy[q], anchor[q]);
        cs_buf_html(b, c->quadrant_name[q]);
        cs_buf_printf(b, " (%lld)</text>", (long long)c->quadrant_count[q]);
    }
    cs_figure_close(b, c->note);
}

void cs_svg_pyramid(cs_buf *b, const cs_chart_pyramid *c)
{
    double w = CS_W, row = 46, h = 20 + row * (double)c->n;
    cs_figure_open(b, c->id, c->title, w, h);
    for (size_t i = 0; i < c->n; i++) {
        /* Level i (0 = top) is narrower the higher it is. */
        double frac = c->n > 1 ? 0.35 + 0.65 * (double)i / (double)(c->n - 1) : 1.0;
        double bw = (w - 260) * frac, x = (w - 260 - bw) / 2 + 10, y = 10 + row * (double)i;
        cs_buf_printf(b,
                      "<polygon class=\"tier t%zu%s\" points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f "
                      "%.1f,%.1f\"><title>",
                      i, c->count[i] == 0 ? " empty" : "", x + 8, y, x + bw - 8, y, x + bw,
                      y + row - 4, x, y + row - 4);
        cs_buf_html(b, c->name[i]);
        cs_buf_puts(b, "</title></polygon>");
        cs_buf_printf(b, "<text class=\"tiername%s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                      c->count[i] == 0 ? " empty" : "", x + bw / 2, y + row * 0.58);
        cs_buf_html(b, c->name[i]);
        cs_buf_puts(b, "</text>");
        char p[32];
        cs_fmt_num(p, sizeof p, c->profit[i]);
        cs_buf_printf(b,
                      "<text class=\"value\" x=\"%.1f\" y=\"%.1f\">%lld customers · profit "
                      "%s</text>",
                      w - 240, y + row * 0.58, (long long)c->count[i], p);
    }
    cs_figure_close(b, c->note);
}

void cs_svg_histogram(cs_buf *b, const cs_chart_histogram *c)
{
    cs_axes a = {.w = CS_W, .h = CS_H};
    double max = 0;
    for (size_t i = 0; i < c->n; i++)
        if (isfinite(c->count[i]) && c->count[i] > max)
            max = c->count[i];
    a.x0 = c->n ? c->edge[0] : 0;
    a.x1 = c->n ? c->edge[c->n] : 1;
    if (!(a.x1 > a.x0))
        a.x1 = a.x0 + 1;
    /* Whole counts on the y axis: at least 5 so the ticks are integers. */
    a.y1 = max < 5 ? 5 : max * 1.05;
    cs_figure_open(b, c->id, c->title, a.w, a.h);
    cs_draw_axes(b, &a, c->x_label, c->y_label, false, false);
    for (size_t i = 0; i < c->n; i++) {
        double v = isfinite(c->count[i]) ? c->count[i] : 0;
        double x0 = cs_px(&a, c->edge[i]), x1 = cs_px(&a, c->edge[i + 1]);
        double y = cs_py(&a, v), base = cs_py(&a, 0);
        double bw = x1 - x0 > 2 ? x1 - x0 - 1 : x1 - x0;
        char lo[32], hi[32], n[32];
        cs_fmt_num(lo, sizeof lo, c->edge[i]);
        cs_fmt_num(hi, sizeof hi, c->edge[i + 1]);
        cs_fmt_num(n, sizeof n, v);
        cs_buf_printf(b,
                      "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                      "height=\"%.1f\"><title>",
                      x0, y, bw, base - y);
        if (c->last_open && i + 1 == c->n)
            cs_buf_printf(b, "%s and more: %s</title></rect>", lo, n);
        else
            cs_buf_printf(b, "%s to %s: %s</title></rect>", lo, hi, n);
    }
    if (c->last_open && c->n > 0 && c->count[c->n - 1] > 0) {
        double x1 = cs_px(&a, c->edge[c->n]);
        char lo[32];
        cs_fmt_num(lo, sizeof lo, c->edge[c->n - 1]);
        cs_buf_printf(b,
                      "<text class=\"value\" x=\"%.1f\" y=\"%.1f\" "
                      "text-anchor=\"end\">&#8805; %s</text>",
                      x1, cs_py(&a, c->count[c->n - 1]) - 5, lo);
    }
    cs_figure_close(b, c->note);
}
