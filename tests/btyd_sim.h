/*
 * btyd_sim.h: seeded simulators of the lifetime-value models for the
 * parameter-recovery tests and the benchmark. Independent of the library
 * (own generator), so that a bug in the library cannot hide in both.
 */
#ifndef CUSTSCORE_BTYD_SIM_H
#define CUSTSCORE_BTYD_SIM_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_rng {
    uint64_t s[4];
} sim_rng;

void sim_seed(sim_rng *g, uint64_t seed);
double sim_uniform(sim_rng *g); /* (0, 1) */
double sim_exponential(sim_rng *g, double rate);
double sim_gamma(sim_rng *g, double shape, double rate);
double sim_beta(sim_rng *g, double a, double b);

enum sim_model { SIM_BGNBD = 1, SIM_MBGNBD = 2, SIM_PNBD = 3 };

/*
 * Simulate @n customers of a purchase model: each customer's first purchase
 * at time 0 and observation until T[i] (set by the caller, or when
 * @T_min < @T_max drawn uniformly from [T_min, T_max]); purchases in
 * continuous time, or rounded down to whole days when @day_unit > 0 (the
 * model time unit in days, as the store does: a purchase at day d of the
 * customer's life is at d / day_unit). Fills x, t_x, T.
 *   BG/NBD, MBG/NBD: p1 = r, p2 = alpha, p3 = a, p4 = b
 *   Pareto/NBD:      p1 = r, p2 = alpha, p3 = s, p4 = beta
 */
void sim_btyd(sim_rng *g, enum sim_model model, double p1, double p2, double p3, double p4,
              size_t n, double T_min, double T_max, double day_unit, double *x, double *t_x,
              double *T);

/* Gamma-Gamma: for customers with x[i] >= 1 draw nu ~ Gamma(q, gamma) and
 * x[i] spends ~ Gamma(p, nu); mean_spend[i] their mean (0 when x = 0). */
void sim_gg(sim_rng *g, double p, double q, double gamma, size_t n, const double *x,
            double *mean_spend);

#endif
