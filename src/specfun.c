/*
 * specfun.c: special functions for the lifetime-value models, all in log
 * space so that the likelihoods of customers with hundreds of purchases
 * neither overflow nor lose their precision.
 *
 * - log-gamma through lgamma_r (never lgamma: it writes the global signgam,
 *   which is not thread-safe), digamma, log-beta;
 * - log-sum-exp helpers;
 * - the Gauss hypergeometric function 2F1(a, b; c; z) for real parameters
 *   and z < 1, as a logarithm and a sign: the power series summed with
 *   running rescaling, Pfaff's transformation for z < 0 and the linear
 *   transformation z -> 1 - z (Abramowitz & Stegun 15.3.6) near z = 1;
 * - adaptive Gauss-Legendre quadrature of a function given by its logarithm,
 *   the fallback when a closed form would cancel catastrophically.
 *
 * References: M. Abramowitz & I. A. Stegun, Handbook of Mathematical
 * Functions (1964), ch. 6 and 15; J. Pearson, S. Olver & M. Porter,
 * "Numerical methods for the computation of the confluent and Gauss
 * hypergeometric functions", Numer. Algorithms 74 (2017) 821-866.
 */
#include "internal.h"

#include <float.h>
#include <math.h>

/* ---------------------------------------------------------------------- */
/* Gamma family */

double cs_lgamma_sign(double x, int *sign)
{
    int s = 1;
    double v = lgamma_r(x, &s);
    if (sign)
        *sign = s;
    return v;
}

double cs_lgamma(double x)
{
    int s;
    return lgamma_r(x, &s);
}

double cs_lbeta(double a, double b)
{
    return cs_lgamma(a) + cs_lgamma(b) - cs_lgamma(a + b);
}

/* Digamma for x > 0: the recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10,
 * then the asymptotic series (A&S 6.3.18) to the 1/x^14 term. */
double cs_digamma(double x)
{
    if (!(x > 0.0))
        return NAN;
    double acc = 0.0;
    while (x < 10.0) {
        acc -= 1.0 / x;
        x += 1.0;
    }
    double f = 1.0 / (x * x);
    double series =
        f *
        (1.0 / 12 - f * (1.0 / 120 -
                         f * (1.0 / 252 -
                              f * (1.0 / 240 - f * (1.0 / 132 - f * (691.0 / 32760 - f / 12.0))))));
    return acc + log(x) - 0.5 / x - series;
}

/* ---------------------------------------------------------------------- */
/* Log-space arithmetic */

double cs_logaddexp(double a, double b)
{
    if (a == -INFINITY)
        return b;
    if (b == -INFINITY)
        return a;
    if (a > b)
        return a + log1p(exp(b - a));
    return b + log1p(exp(a - b));
}

double cs_log1pexp(double x)
{
    if (x > 36.0)
        return x + exp(-x);
    if (x < -36.0)
        return exp(x);
    return log1p(exp(x));
}

double cs_log1mexp(double x)
{
    /* Maechler (2012), "Accurately computing log(1 - exp(-|a|))". */
    if (x >= 0.0)
        return x == 0.0 ? -INFINITY : NAN;
    if (x > -M_LN2)
        return log(-expm1(x));
    return log1p(-exp(x));
}

double cs_logsumexp(const double *v, size_t n)
{
    double m = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (v[i] > m)
            m = v[i];
    if (!isfinite(m))
        return m;
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += exp(v[i] - m);
    return m + log(s);
}

/* log|s1 e^l1 + s2 e^l2| and its sign. */
static double cs_signed_logadd(double l1, int s1, double l2, int s2, int *sign)
{
    if (l1 == -INFINITY || s1 == 0) {
        *sign = s2;
        return l2;
    }
    if (l2 == -INFINITY || s2 == 0) {
        *sign = s1;
        return l1;
    }
    if (l1 < l2) {
        double tl = l1;
        l1 = l2;
        l2 = tl;
        int ts = s1;
        s1 = s2;
        s2 = ts;
    }
    if (s1 == s2) {
        *sign = s1;
        return l1 + log1p(exp(l2 - l1));
    }
    *sign = s1;
    if (l2 == l1) {
        *sign = 0;
        return -INFINITY;
    }
    return l1 + cs_log1mexp(l2 - l1);
}

/* ---------------------------------------------------------------------- */
/* Gauss hypergeometric function */

#define CS_H2F1_MAX_TERMS 400000
#define CS_H2F1_RESCALE 1e200
#define CS_H2F1_LOG_RESCALE 460.51701859880913680 /* ln 1e200 */

/* Is @v a non-positive integer (a pole of Gamma, a terminating series)? */
static bool cs_nonpositive_integer(double v)
{
    return v <= 0.0 && v == floor(v);
}

/* The power series sum_k (a)_k (b)_k / ((c)_k k!) z^k for |z| < 1, summed
 * with running rescaling so that it cannot overflow. Returns 0 on
 * convergence; *loss receives log10 of the cancellation (sum of |terms| over
 * |sum|), a measure of digits lost to alternating terms. */
static int cs_h2f1_series(double a, double b, double c, double z, int max_terms, double *log_abs,
                          int *sign, double *loss)
{
    double term = 1.0, sum = 1.0, abs_sum = 1.0, log_scale = 0.0;
    double qz = fabs(z);
    bool converged = false;
    if (c == 0.0)
        return -1; /* c a non-positive integer: the function has a pole */
    double ratio = a * b / c * z;
    for (int k = 0; k < max_terms; k++) {
        term *= ratio;
        sum += term;
        abs_sum += fabs(term);
        if (term == 0.0) {
            converged = true; /* a terminating (polynomial) series */
            break;
        }
        if (abs_sum > CS_H2F1_RESCALE) {
            term /= CS_H2F1_RESCALE;
            sum /= CS_H2F1_RESCALE;
            abs_sum /= CS_H2F1_RESCALE;
            log_scale += CS_H2F1_LOG_RESCALE;
        }
        double kn = k + 1.0;
        double den = (c + kn) * (kn + 1.0);
        if (den == 0.0)
            return -1;
        ratio = (a + kn) * (b + kn) / den * z;
        /* Tail bound: once the ratios of later terms stay below q < 1, the
         * tail is at most |term| q / (1 - q). The ratios tend to z
         * monotonically for large k, so q = max(next ratio, |z|) bounds
         * them from here on when the next ratio is already below 1. */
        double next = fabs(ratio);
        double q = next > qz ? next : qz;
        if (q < 1.0 && fabs(term) * q <= 1e-17 * (1.0 - q) * fabs(sum)) {
            converged = true;
            break;
        }
        if (!isfinite(sum))
            return -1;
    }
    if (!converged)
        return -1;
    if (sum == 0.0) {
        *sign = 0;
        *log_abs = -INFINITY;
        *loss = INFINITY;
        return 0;
    }
    *sign = sum > 0 ? 1 : -1;
    *log_abs = log(fabs(sum)) + log_scale;
    *loss = log10(abs_sum / fabs(sum));
    return 0;
}

/* 1/Gamma(v) as (log|.|, sign); sign 0 at the poles (1/Gamma = 0). */
static double cs_lrgamma(double v, int *sign)
{
    if (cs_nonpositive_integer(v)) {
        *sign = 0;
        return -INFINITY;
    }
    int s;
    double l = cs_lgamma_sign(v, &s);
    *sign = s;
    return -l;
}

/* A&S 15.3.6: for 0 < z < 1 and d = c - a - b not an integer,
 *   F(a,b;c;z) = G(c)G(d)/(G(c-a)G(c-b)) F(a,b;1-d;1-z)
 *              + (1-z)^d G(c)G(-d)/(G(a)G(b)) F(c-a,c-b;1+d;1-z). */
static int cs_h2f1_one_minus_z(double a, double b, double c, double z, double *log_abs, int *sign,
                               double *loss)
{
    double d = c - a - b;
    if (d == floor(d))
        return -1;
    double y = 1.0 - z;
    int sc, sd, smd, s_ca, s_cb, s_a, s_b;
    double lc = cs_lgamma_sign(c, &sc);
    double ld = cs_lgamma_sign(d, &sd);
    double lmd = cs_lgamma_sign(-d, &smd);
    double lr_ca = cs_lrgamma(c - a, &s_ca);
    double lr_cb = cs_lrgamma(c - b, &s_cb);
    double lr_a = cs_lrgamma(a, &s_a);
    double lr_b = cs_lrgamma(b, &s_b);

    double l1 = -INFINITY, l2 = -INFINITY, loss1 = 0.0, loss2 = 0.0;
    int s1 = 0, s2 = 0;
    if (s_ca != 0 && s_cb != 0) {
        double lf;
        int sf;
        if (cs_h2f1_series(a, b, 1.0 - d, y, CS_H2F1_MAX_TERMS, &lf, &sf, &loss1) != 0)
            return -1;
        l1 = lc + ld + lr_ca + lr_cb + lf;
        s1 = sc * sd * s_ca * s_cb * sf;
    }
    if (s_a != 0 && s_b != 0) {
        double lf;
        int sf;
        if (cs_h2f1_series(c - a, c - b, 1.0 + d, y, CS_H2F1_MAX_TERMS, &lf, &sf, &loss2) != 0)
            return -1;
        l2 = d * log(y) + lc + lmd + lr_a + lr_b + lf;
        s2 = sc * smd * s_a * s_b * sf;
    }
    int s;
    double l = cs_signed_logadd(l1, s1, l2, s2, &s);
    if (s == 0)
        return -1;
    double biggest = l1 > l2 ? l1 : l2;
    double lost = (biggest - l) / M_LN10;
    *loss = fmax(lost, 0.0) + fmax(loss1, loss2);
    *log_abs = l;
    *sign = s;
    return 0;
}

/* 0 <= z < 1. */
static int cs_h2f1_unit(double a, double b, double c, double z, double *log_abs, int *sign)
{
    double loss;
    if (z == 0.0) {
        *log_abs = 0.0;
        *sign = 1;
        return 0;
    }
    /* Close to 1 the series converges like z^k; the 1 - z transformation
     * converges fast but its two terms may cancel. Use it when it loses few
     * digits, else the series, else whichever is the lesser evil. */
    if (z > 0.9) {
        double lt, lossT;
        int st;
        int rt = cs_h2f1_one_minus_z(a, b, c, z, &lt, &st, &lossT);
        if (rt == 0 && lossT < 4.0) {
            *log_abs = lt;
            *sign = st;
            return 0;
        }
        if (cs_h2f1_series(a, b, c, z, CS_H2F1_MAX_TERMS, log_abs, sign, &loss) == 0 && loss < 8.0)
            return 0;
        if (rt == 0 && lossT < 8.0) {
            *log_abs = lt;
            *sign = st;
            return 0;
        }
        return -1;
    }
    if (cs_h2f1_series(a, b, c, z, CS_H2F1_MAX_TERMS, log_abs, sign, &loss) != 0 || loss > 8.0)
        return -1;
    return 0;
}

int cs_hyp2f1(double a, double b, double c, double z, double *log_abs, int *sign)
{
    if (!isfinite(a) || !isfinite(b) || !isfinite(c) || !isfinite(z) || !(z < 1.0))
        return -1;
    if (cs_nonpositive_integer(c))
        return -1;
    if (a == 0.0 || b == 0.0 || z == 0.0) {
        *log_abs = 0.0;
        *sign = 1;
        return 0;
    }
    if (z >= 0.0)
        return cs_h2f1_unit(a, b, c, z, log_abs, sign);
    /* Pfaff (A&S 15.3.4-5): with w = z / (z - 1) in (0, 1),
     *   F(a,b;c;z) = (1-z)^-a F(a, c-b; c; w) = (1-z)^-b F(c-a, b; c; w).
     * Prefer a terminating series, else the smaller leading ratio. */
    double w = z / (z - 1.0);
    double l1mz = log1p(-z);
    bool use_a;
    if (cs_nonpositive_integer(c - b))
        use_a = true;
    else if (cs_nonpositive_integer(c - a))
        use_a = false;
    else
        use_a = fabs(a * (c - b)) <= fabs((c - a) * b);
    double lf;
    int sf;
    int rc =
        use_a ? cs_h2f1_unit(a, c - b, c, w, &lf, &sf) : cs_h2f1_unit(c - a, b, c, w, &lf, &sf);
    if (rc != 0) {
        /* Try the other form before giving up. */
        use_a = !use_a;
        rc =
            use_a ? cs_h2f1_unit(a, c - b, c, w, &lf, &sf) : cs_h2f1_unit(c - a, b, c, w, &lf, &sf);
        if (rc != 0)
            return -1;
    }
    *log_abs = lf - (use_a ? a : b) * l1mz;
    *sign = sf;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Quadrature */

/* 20-point Gauss-Legendre rule on [-1, 1]: positive nodes and weights. */
static const double cs_gl20[10][2] = {
    {0.99312859918509492479, 0.017614007139152118312},
    {0.96397192727791379127, 0.040601429800386941331},
    {0.91223442825132590587, 0.06267204833410906357},
    {0.83911697182221882339, 0.083276741576704748725},
    {0.74633190646015079261, 0.10193011981724043504},
    {0.63605368072651502545, 0.11819453196151841731},
    {0.510867001950827098, 0.1316886384491766269},
    {0.37370608871541956067, 0.14209610931838205133},
    {0.22778585114164507808, 0.14917298647260374679},
    {0.076526521133497333755, 0.1527533871307258507},
};

/* Integral of exp(f(u) - ref) over [lo, hi] with the 20-point rule. */
static double cs_gl20_scaled(cs_log_integrand_fn f, void *ctx, double lo, double hi, double ref)
{
    double mid = 0.5 * (lo + hi), half = 0.5 * (hi - lo);
    double s = 0.0;
    for (int i = 0; i < 10; i++) {
        double dx = half * cs_gl20[i][0];
        s += cs_gl20[i][1] * (exp(f(mid - dx, ctx) - ref) + exp(f(mid + dx, ctx) - ref));
    }
    return s * half;
}

#define CS_QUAD_MAX_INTERVALS 256

int cs_integrate_log(cs_log_integrand_fn f, void *ctx, double lo, double hi, double ref,
                     double rel_tol, double *log_result)
{
    if (!(hi > lo)) {
        *log_result = -INFINITY;
        return hi == lo ? 0 : -1;
    }
    /* Adaptive bisection: accept an interval when the rule on it agrees with
     * the rule on its two halves. An explicit stack, no recursion. */
    struct seg {
        double lo, hi, whole;
    } stack[64];
    int top = 0;
    double total = 0.0;
    int intervals = 0;
    stack[top].lo = lo;
    stack[top].hi = hi;
    stack[top].whole = cs_gl20_scaled(f, ctx, lo, hi, ref);
    double first = fabs(stack[top].whole);
    top++;
    while (top > 0) {
        struct seg s = stack[--top];
        double mid = 0.5 * (s.lo + s.hi);
        double left = cs_gl20_scaled(f, ctx, s.lo, mid, ref);
        double right = cs_gl20_scaled(f, ctx, mid, s.hi, ref);
        double both = left + right;
        intervals++;
        double scale = fmax(fabs(total + both), first);
        if (fabs(both - s.whole) <= rel_tol * scale || intervals >= CS_QUAD_MAX_INTERVALS ||
            top + 2 > 64 || s.hi - s.lo <= 1e-14 * (fabs(s.lo) + fabs(s.hi))) {
            total += both;
            if (intervals >= CS_QUAD_MAX_INTERVALS && fabs(both - s.whole) > 1e-6 * scale)
                return -1;
            continue;
        }
        stack[top].lo = s.lo;
        stack[top].hi = mid;
        stack[top].whole = left;
        top++;
        stack[top].lo = mid;
        stack[top].hi = s.hi;
        stack[top].whole = right;
        top++;
    }
    if (total == 0.0) {
        *log_result = -INFINITY;
        return 0;
    }
    if (!(total > 0.0) || !isfinite(total))
        return -1;
    *log_result = ref + log(total);
    return 0;
}
