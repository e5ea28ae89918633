/*
 * pnbd.c: the Pareto/NBD model (Schmittlein, Morrison & Colombo 1987,
 * Management Science 33(1) 1-24), in the form of Fader & Hardie (2005),
 * "A Note on Deriving the Pareto/NBD Model and Related Expressions".
 *
 * Every quantity reduces to one integral,
 *   I(t0, t1) = int_{t0}^{t1} (alpha+u)^-(r+x) (beta+u)^-(s+1) du,
 * the chance of dying at u (density s beta^s (beta+u)^-(s+1) after the
 * Gamma mixing) having bought x times by then:
 *   L = G(r+x)/G(r) alpha^r beta^s [(alpha+T)^-(r+x) (beta+T)^-s + s I(t_x, T)]
 * (Fader & Hardie's eq. 13-15, whose A_0 term is s I(t_x, T)). With
 * A = r+s+x, the upper tail has the closed form
 *   int_t^inf (..) du = (alpha+t)^-A / A 2F1(A, s+1; A+1; (alpha-beta)/(alpha+t)),
 * so I = tail(t0) - tail(t1). The argument of 2F1 is in (-inf, 1): below 0
 * when alpha < beta (cs_hyp2f1 uses Pfaff's transformation there, which is
 * Fader & Hardie's alpha < beta branch), close to 1 when beta << alpha.
 * When tail(t1) is more than 99% of tail(t0) the difference would cancel
 * (t_x close to T with many purchases: the x = 221, t_x = 103.4, T = 103.6
 * case where other implementations return NaN), and I is integrated
 * directly by adaptive Gauss-Legendre quadrature in log(min(alpha,beta)+u),
 * where the integrand is smooth; the quadrature is also the fallback when
 * 2F1 cannot be evaluated accurately.
 */
#include "internal.h"

#include <math.h>
#include <string.h>

/* log of the upper tail int_t^inf (alpha+u)^-rx (beta+u)^-(s+1) du. */
static int cs_pnbd_log_tail(double rx, double s, double al, double be, double t, double *out)
{
    double A = rx + s;
    double z = (al - be) / (al + t);
    double lf;
    int sf;
    if (cs_hyp2f1(A, s + 1.0, A + 1.0, z, &lf, &sf) != 0 || sf <= 0)
        return -1;
    *out = -A * log(al + t) - log(A) + lf;
    return isfinite(*out) ? 0 : -1;
}

typedef struct cs_pnbd_integrand {
    double rx, s1, al, be, m, lm, k; /* k: power of u (the pmf's u^k) */
} cs_pnbd_integrand;

/* In v = log(m + u), m = min(alpha, beta): the integrand times du/dv. */
static double cs_pnbd_f(double v, void *ctx)
{
    const cs_pnbd_integrand *c = ctx;
    double u = c->m * expm1(v - c->lm);
    if (u < 0.0)
        u = 0.0;
    double lal = c->al == c->m ? v : log(c->al + u);
    double lbe = c->be == c->m ? v : log(c->be + u);
    double f = v - c->rx * lal - c->s1 * lbe;
    if (c->k > 0.0)
        f += c->k * log(u);
    return f;
}

static int cs_pnbd_quad(const cs_pnbd_integrand *c, double t0, double t1, double *out)
{
    double v0 = log(c->m + t0), v1 = log(c->m + t1);
    /* The integrand's peak, for scaling: sampled (it is unimodal in v). */
    double ref = -INFINITY;
    for (int i = 0; i <= 32; i++) {
        double v = v0 + (v1 - v0) * (i + 0.5 * (i == 0) - 0.5 * (i == 32)) / 32.0;
        double f = cs_pnbd_f(v, (void *)c);
        if (f > ref)
            ref = f;
    }
    if (!isfinite(ref))
        return -1;
    return cs_integrate_log(cs_pnbd_f, (void *)c, v0, v1, ref, 1e-13, out);
}

/* tail(t0) - tail(t1) loses log10(1 / (1 - ratio)) digits: up to 2 of the
 * 15 of the 2F1 series, and beyond that the quadrature takes over (which is
 * cheap and exact on such short intervals). */
#define CS_PNBD_MAX_RATIO (-0.01005033585350145) /* ln 0.99 */

int cs_pnbd_log_integral(double rx, double s, double al, double be, double t0, double t1,
                         double *out)
{
    if (!(t1 > t0)) {
        *out = -INFINITY;
        return 0;
    }
    double g0, g1;
    if (cs_pnbd_log_tail(rx, s, al, be, t0, &g0) == 0 &&
        cs_pnbd_log_tail(rx, s, al, be, t1, &g1) == 0 && g1 - g0 < CS_PNBD_MAX_RATIO) {
        *out = g0 + cs_log1mexp(g1 - g0);
        return isfinite(*out) ? 0 : -1;
    }
    cs_pnbd_integrand c = {rx, s + 1.0, al, be, fmin(al, be), log(fmin(al, be)), 0.0};
    return cs_pnbd_quad(&c, t0, t1, out);
}

/* The two terms of the likelihood without the common factor
 * G(r+x)/G(r) alpha^r beta^s: alive through T, and died in (t_x, T]. */
static int cs_pnbd_terms(const custscore_btyd_params *p, double x, double t_x, double T,
                         double *l_alive, double *l_died)
{
    double rx = p->r + x;
    double tx = x > 0.0 ? fmin(t_x, T) : 0.0;
    *l_alive = -rx * log(p->alpha + T) - p->s * log(p->beta + T);
    double li;
    if (cs_pnbd_log_integral(rx, p->s, p->alpha, p->beta, tx, T, &li) != 0)
        return -1;
    *l_died = log(p->s) + li;
    return 0;
}

int cs_pnbd_loglik_one(const custscore_btyd_params *p, double x, double t_x, double T, double *ll)
{
    double la, ld;
    if (cs_pnbd_terms(p, x, t_x, T, &la, &ld) != 0)
        return -1;
    double v = (x == 0.0 ? 0.0 : cs_lgamma(p->r + x) - cs_lgamma(p->r)) + p->r * log(p->alpha) +
               p->s * log(p->beta) + cs_logaddexp(la, ld);
    if (!isfinite(v))
        return -1;
    *ll = v;
    return 0;
}

int cs_pnbd_log_p_alive(const custscore_btyd_params *p, double x, double t_x, double T,
                        double *log_alive, double *log_dead)
{
    double la, ld;
    if (cs_pnbd_terms(p, x, t_x, T, &la, &ld) != 0)
        return -1;
    /* Fader & Hardie (2005) eq. (18): the share of the first term. */
    double tot = cs_logaddexp(la, ld);
    *log_alive = la - tot;
    *log_dead = ld - tot;
    return isfinite(*log_alive) ? 0 : -1;
}

int cs_pnbd_log_none_alive(const custscore_btyd_params *p, double x, double T, double t,
                           double *out)
{
    /* Alive at T: lambda ~ Gamma(r+x, alpha+T), mu ~ Gamma(s, beta+T). No
     * purchase in (T, T+t]: alive and silent throughout, or dead at some
     * T+u before the first purchase. */
    double rx = p->r + x;
    double l_silent = -rx * log1p(t / (p->alpha + T)) - p->s * log1p(t / (p->beta + T));
    double li;
    if (cs_pnbd_log_integral(rx, p->s, p->alpha, p->beta, T, T + t, &li) != 0)
        return -1;
    double l_died = log(p->s) + rx * log(p->alpha + T) + p->s * log(p->beta + T) + li;
    *out = fmin(0.0, cs_logaddexp(l_silent, l_died));
    return isfinite(*out) ? 0 : -1;
}

/* P(X(t) = k) = NB(k) (beta/(beta+t))^s
 *             + G(r+k)/(G(r) k!) alpha^r beta^s s int_0^t u^k (alpha+u)^-(r+k) (beta+u)^-(s+1) du
 * (Fader & Hardie 2005 note, section 5, before their 2F1 expansion: alive
 * through t, or died at u having bought k times by then). */
int cs_pnbd_pmf(const custscore_btyd_params *p, double t, size_t max_n, double *out)
{
    double r = p->r, al = p->alpha, s = p->s, be = p->beta;
    if (t == 0.0) {
        out[0] = 1.0;
        for (size_t k = 1; k <= max_n; k++)
            out[k] = 0.0;
        return CUSTSCORE_OK;
    }
    double l_surv = -s * log1p(t / be);
    double lq = log(t / (al + t));
    double lnb = -r * log1p(t / al); /* NB(0) */
    double lcommon = r * log(al) + s * log(be) + log(s);
    double lcoef = 0.0; /* log G(r+k)/(G(r) k!) */
    double m = fmin(al, be);
    for (size_t k = 0; k <= max_n; k++) {
        double kk = (double)k;
        if (k > 0) {
            lnb += log((r + kk - 1.0) / kk) + lq;
            lcoef += log((r + kk - 1.0) / kk);
        }
        double li;
        if (k == 0) {
            if (cs_pnbd_log_integral(r, s, al, be, 0.0, t, &li) != 0)
                return CUSTSCORE_EINTERNAL;
        } else {
            cs_pnbd_integrand c = {r + kk, s + 1.0, al, be, m, log(m), kk};
            if (cs_pnbd_quad(&c, 0.0, t, &li) != 0)
                return CUSTSCORE_EINTERNAL;
        }
        out[k] = fmin(1.0, exp(cs_logaddexp(lnb + l_surv, lcoef + lcommon + li)));
    }
    return CUSTSCORE_OK;
}
