/* btyd_sim.c: see btyd_sim.h. */
#include "btyd_sim.h"

#include <math.h>

static uint64_t sim_splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void sim_seed(sim_rng *g, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        g->s[i] = sim_splitmix(&seed);
}

static uint64_t sim_next(sim_rng *g)
{
    /* xoshiro256+ */
    uint64_t *s = g->s, result = s[0] + s[3], t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

double sim_uniform(sim_rng *g)
{
    return ((double)(sim_next(g) >> 11) + 0.5) / 9007199254740992.0;
}

double sim_exponential(sim_rng *g, double rate)
{
    return -log(sim_uniform(g)) / rate;
}

static double sim_normal(sim_rng *g)
{
    double u = sim_uniform(g), v = sim_uniform(g);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Marsaglia & Tsang (2000); shape < 1 by G(a) = G(a + 1) U^(1/a). */
double sim_gamma(sim_rng *g, double shape, double rate)
{
    double boost = 1.0;
    if (shape < 1.0) {
        boost = pow(sim_uniform(g), 1.0 / shape);
        shape += 1.0;
    }
    double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double z = sim_normal(g), v = 1.0 + c * z;
        if (v <= 0.0)
            continue;
        v = v * v * v;
        double u = sim_uniform(g);
        if (log(u) < 0.5 * z * z + d - d * v + d * log(v))
            return boost * d * v / rate;
    }
}

double sim_beta(sim_rng *g, double a, double b)
{
    double x = sim_gamma(g, a, 1.0), y = sim_gamma(g, b, 1.0);
    return x / (x + y);
}

static double sim_round(double t, double day_unit)
{
    return day_unit > 0 ? floor(t * day_unit) / day_unit : t;
}

void sim_btyd(sim_rng *g, enum sim_model model, double p1, double p2, double p3, double p4,
              size_t n, double T_min, double T_max, double day_unit, double *x, double *t_x,
              double *T)
{
    for (size_t i = 0; i < n; i++) {
        if (T_min < T_max)
            T[i] = sim_round(T_min + (T_max - T_min) * sim_uniform(g), day_unit);
        double lambda = sim_gamma(g, p1, p2);
        /* Observation ends with the as-of day: in whole days, a purchase
         * during day T counts. */
        double end = day_unit > 0 ? (floor(T[i] * day_unit + 0.5) + 1.0) / day_unit : T[i];
        double p = 0.0;
        int dead = 0;
        if (model == SIM_PNBD) {
            double mu = sim_gamma(g, p3, p4);
            double life = sim_exponential(g, mu);
            if (life < end)
                end = life;
        } else {
            p = sim_beta(g, p3, p4);
            if (model == SIM_MBGNBD && sim_uniform(g) < p)
                dead = 1; /* drops out at the first purchase */
        }
        double t = 0.0, last = 0.0, prev_day = 0.0;
        long count = 0;
        while (!dead) {
            t += sim_exponential(g, lambda);
            if (t >= end)
                break;
            if (day_unit > 0) {
                /* Whole days, as the store counts: purchases on one day are
                 * one occasion (the first day's are the first purchase). */
                double day = floor(t * day_unit);
                if (day > prev_day) {
                    count++;
                    prev_day = day;
                    last = day / day_unit;
                }
            } else {
                count++;
                last = t;
            }
            if (model != SIM_PNBD && sim_uniform(g) < p)
                dead = 1;
        }
        x[i] = (double)count;
        t_x[i] = last;
    }
}

void sim_gg(sim_rng *g, double p, double q, double gamma, size_t n, const double *x,
            double *mean_spend)
{
    for (size_t i = 0; i < n; i++) {
        mean_spend[i] = 0.0;
        if (x[i] < 1.0)
            continue;
        double nu = sim_gamma(g, q, gamma);
        double sum = 0.0;
        long k = (long)x[i];
        for (long j = 0; j < k; j++)
            sum += sim_gamma(g, p, nu);
        mean_spend[i] = sum / (double)k;
    }
}
