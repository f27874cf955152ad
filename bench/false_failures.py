"""Measure the false-failure rate of ``closedform verify``'s Monte Carlo checks.

Every simulation check of the verify plan (one z-test per component of each
simulated result's case, Bonferroni-split from the suite's budget
``closedform.checks.SUITE_ALPHA``) is run again with ``K`` fresh seeds
(``K = 20`` by default).  The closed forms being true, every failure is a
false failure.  Prints the failures observed against the budget:

* the expected count ``N * a`` (``N`` = checks x K runs, ``a`` = each
  check's alpha): an upper bound, since Bonferroni and two-sided z-tests of
  several components are conservative;
* the count a binomial at rate ``a`` exceeds with probability below 1%:
  observing more refutes the stated rate;
* the one-sided 95% Clopper-Pearson upper bound on the per-check rate from
  what was observed (``closedform.numeric.stats.binomial_upper_bound``);
* the share of component z-tests beyond 1.96 (about 5% when the z are near
  normal): at alpha ~ 1e-8 no failure is expected, so this share is the
  figure that shows whether the z-statistics are calibrated at all.

The extra checks of a topic (``Result.extra_checks``) draw their own fixed
seeds and are not rerun here.

Usage: ``python bench/false_failures.py [--k 20] [--topics sector ...] [--thorough] [--seed S]``.
Seeds are ``S + i`` mixed by SplitMix64 (``S`` printed; random unless given), so a
run can be repeated.
"""

from __future__ import annotations

import argparse
import math
import secrets
import time

from closedform import checks
from closedform.estimate import simulate_result
from closedform.numeric import stats
from closedform.registry import by_topic

MASK = 2**64 - 1


def fresh_seed(base: int, i: int) -> int:
    """SplitMix64 of ``base + i``: seeds far apart for consecutive ``i`` (never the verify seed by design)."""
    z = (base + (i + 1) * 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def binomial_quantile(n: int, p: float, q: float) -> int:
    """The smallest c with P(Bin(n, p) <= c) >= q (by summing the pmf; n * p is small here)."""
    total, c = 0.0, 0
    while True:
        total += math.comb(n, c) * p**c * (1 - p) ** (n - c)
        if total >= q or c == n:
            return c
        c += 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, default=20, help="fresh seeds per check (default 20)")
    ap.add_argument("--topics", nargs="*", default=[], help="topics or groups; all when omitted")
    ap.add_argument("--thorough", action="store_true", help="the --thorough trial counts")
    ap.add_argument("--seed", type=int, default=None, help="base of the fresh seeds (random when omitted)")
    args = ap.parse_args()
    base = secrets.randbits(64) if args.seed is None else args.seed
    results = by_topic(*args.topics)
    planned = [p for p in checks.plan(results, thorough=args.thorough) if p.check == "simulation"]
    # The alpha of each check as verify computes it: the suite's budget over all simulated cases.
    n_sim = sum(len(r.cases) for r in results if r.simulation is not None)
    a = stats.bonferroni(checks.SUITE_ALPHA, max(n_sim, 1))
    print(f"{len(planned)} Monte Carlo checks x K = {args.k} fresh seeds (base seed {base}); alpha per check {a:.3g}")
    failures, runs, t0 = [], 0, time.perf_counter()
    beyond, components = 0, 0
    for pc in planned:
        case = next(c for c in pc.result.cases if checks.case_label(c) == pc.case)
        claimed = pc.result.claimed_values(**case)
        trials = pc.result.sim_trials * (10 if args.thorough else 1)
        worst = 0.0
        for _ in range(args.k):
            seed = fresh_seed(base, runs)
            est = simulate_result(pc.result, trials, seed=seed, progress=False, **case)
            tests = est.z_tests(claimed, a)
            worst = max(worst, max(abs(t.z) for t in tests))
            beyond += sum(abs(t.z) > 1.96 for t in tests)
            components += len(tests)
            runs += 1
            if not all(t.passed for t in tests):
                failures.append((pc.result.name, pc.case, seed, max(tests, key=lambda t: abs(t.z))))
        print(f"  {pc.result.name:<32} {pc.case[:40]:<40} max |z| over {args.k} seeds {worst:.2f}", flush=True)
    expected = runs * a
    refuting = binomial_quantile(runs, a, 0.99)
    bound = stats.binomial_upper_bound(len(failures), runs)
    print(f"\n{runs} check runs in {time.perf_counter() - t0:.0f} s")
    print(f"failures observed: {len(failures)}")
    print(f"expected under the budget: at most {expected:.3g} (N x alpha = {runs} x {a:.3g})")
    print(f"a binomial at the budget's rate exceeds {refuting} failures with probability < 1%")
    print(f"95% upper bound on the per-check false-failure rate: {bound:.3g} (budget {a:.3g})")
    print(
        f"component z-tests with |z| > 1.96: {beyond} of {components} ({beyond / max(components, 1):.1%}; ~5% if calibrated)"
    )
    for name, case, seed, t in failures:
        print(f"  FAIL {name} ({case}) seed {seed}: z = {t.z:+.2f}, threshold {t.threshold:.2f}")


if __name__ == "__main__":
    main()
