#!/usr/bin/env python3
"""bench_python: scoring customers through the Python bindings with numpy
arrays against the same work in C (tests/bench/bench_scoring_ref.c).

usage: bench_python.py [--customers N] [--repeats R] [--c-bench PATH] [--limit 1.5]

Simulates N customers (default 1,000,000; BG/NBD-like purchase histories in
weeks at day resolution, Gamma spend), writes them to a temporary file, then
times - best of R process-CPU times - in Python with numpy arrays and in the
C program on the same file (run before and after the Python side, best of both):

  fits      BG/NBD (custscore_btyd_fit) and Gamma-Gamma (custscore_gg_fit);
  score     P(alive) + E[X(52) | x, t_x, T] + 12-month CLV at 10% a year
            (the "score" step of bench_clv).

It prints both figures and their ratio, checks that both sides got the same
parameters and sums to the last bit, and exits 1 when the Python scoring
takes more than --limit times the C time. Needs numpy (exit 77, "skipped",
without it) and the library through $CUSTSCORE_LIBRARY like the tests.
"""

import argparse
import os
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, os.pardir, "bindings", "python"))

try:
    import numpy as np
except ImportError:
    print("bench_python: numpy not installed: skipped")
    sys.exit(77)

import custscore  # noqa: E402
from custscore import models  # noqa: E402


def simulate(n, seed=2024):
    """Customers of a BG/NBD-like process (r 0.243, alpha 4.414, a 0.793,
    b 2.426, CDNOW's estimates) observed for 27-39 weeks; spend Gamma-Gamma
    like (p 6.25, q 3.74, gamma 15.44). Day resolution, in weeks."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(0.243, 1 / 4.414, n)
    p = rng.beta(0.793, 2.426, n)
    T = rng.integers(27 * 7, 39 * 7 + 1, n) / 7.0
    buys = rng.poisson(lam * T)                      # purchases if alive throughout
    life = rng.geometric(p)                          # repeat purchases before dropping out
    x = np.minimum(buys, life).astype(np.float64)
    # Given N(T) = buys arrivals, uniform on (0, T]: the last purchase is the
    # x-th of them, T * Beta(x, buys - x + 1) (the largest when still alive).
    shape_a = np.maximum(x, 1.0)
    shape_b = np.maximum(buys - x, 0.0) + 1.0
    t_x = np.where(x > 0, T * rng.beta(shape_a, shape_b), 0.0)
    t_x = np.minimum(np.floor(t_x * 7) / 7, T)
    nu = rng.gamma(3.74, 1 / 15.44, n)
    z = np.where(x > 0, rng.gamma(6.25 * np.maximum(x, 1), 1 / nu) / np.maximum(x, 1), 0.0)
    z = np.round(z, 2)
    return x, t_x, T, z


def write(path, x, t_x, T, z):
    with open(path, "wb") as f:
        f.write(b"CSBENCH1")
        f.write(struct.pack("<Q", len(x)))
        for arr in (x, t_x, T, z):
            f.write(np.ascontiguousarray(arr, dtype="<f8").tobytes())


def cpu_best(func, repeats):
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.process_time()
        out = func()
        best = min(best, time.process_time() - t0)
    return best, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--c-bench", default=os.environ.get("BENCH_SCORING_REF"))
    ap.add_argument("--limit", type=float, default=1.5)
    args = ap.parse_args()

    n = args.customers
    print("bench_python: libcustscore %s (%s), numpy %s, %s %s" % (
        custscore.library_version(), custscore.LIBRARY_PATH, np.__version__,
        sys.implementation.name, sys.version.split()[0]))
    t0 = time.perf_counter()
    x, t_x, T, z = simulate(n)
    print("simulate: %d customers in %.2f s (%d repeat buyers)" % (
        n, time.perf_counter() - t0, int((x > 0).sum())))

    have_c = bool(args.c_bench) and os.access(args.c_bench, os.X_OK)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "customers.bin")
        write(path, x, t_x, T, z)

        def run_c():
            out = subprocess.run([args.c_bench, path, str(args.repeats)], capture_output=True,
                                 text=True, check=True).stdout
            return dict(line.split(" ", 1) for line in out.splitlines())
        # C before and after Python, best of both: a load change on a shared
        # machine then does not favour either side.
        c_runs = [run_c()] if have_c else []
        t_fit, bg = cpu_best(lambda: models.fit(x, t_x, T), args.repeats)
        t_gg, gg = cpu_best(lambda: models.gg_fit(x, z), args.repeats)
        t_pa, pa = cpu_best(lambda: models.p_alive(bg, x, t_x, T), args.repeats)
        t_ce, ce = cpu_best(lambda: models.conditional_expected(bg, 52.0, x, t_x, T),
                            args.repeats)
        t_clv, cl = cpu_best(lambda: models.clv(bg, gg, x, t_x, T, z, interval_level=0,
                                                outputs=("clv",)), args.repeats)
        if have_c:
            c_runs.append(run_c())
    py_score = t_pa + t_ce + t_clv
    print("python: fit BG/NBD %.3f s, Gamma-Gamma %.3f s; r %.4f alpha %.4f a %.4f b %.4f"
          % (t_fit, t_gg, bg.params["r"], bg.params["alpha"], bg.params["a"], bg.params["b"]))
    print("python: score P(alive) %.3f s + E[X(52)|...] %.3f s + CLV (12 months, 10%%) %.3f s"
          " = %.3f s; total CLV %.0f" % (t_pa, t_ce, t_clv, py_score, cl.info.total_clv))
    if not have_c:
        print("c: reference program not given (--c-bench PATH): no comparison")
        return 0
    c = {key: min(c_runs, key=lambda run: float(run["score_total"]))[key] for key in c_runs[0]}
    for key in ("fit_bgnbd", "fit_gg"):
        c[key] = "%.6f" % min(float(run[key]) for run in c_runs)
    c_score = float(c["score_total"])
    print("c:      fit BG/NBD %.3f s, Gamma-Gamma %.3f s" % (float(c["fit_bgnbd"]),
                                                             float(c["fit_gg"])))
    print("c:      score P(alive) %.3f s + E[X(52)|...] %.3f s + CLV %.3f s = %.3f s"
          % (float(c["p_alive"]), float(c["conditional_expected"]), float(c["clv"]), c_score))
    same = (float.fromhex(c["r"]) == bg.params["r"]
            and float.fromhex(c["p_alive_sum"]) == sum(pa.tolist())
            and float.fromhex(c["expected_sum"]) == sum(ce.tolist())
            and float.fromhex(c["total_clv"]) == cl.info.total_clv)
    print("same results to the last bit: %s" % ("yes" if same else "NO"))
    ratio = py_score / c_score if c_score > 0 else float("inf")
    fit_ratio = (t_fit + t_gg) / (float(c["fit_bgnbd"]) + float(c["fit_gg"]))
    print("ratio python/c: score %.3f (limit %.2f), fits %.3f" % (ratio, args.limit, fit_ratio))
    ok = same and ratio <= args.limit
    print("bench_python: %s" % ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
