"""The checks behind ``closedform verify``: proofs, oracle agreement, Monte Carlo z-tests.

Each check is planned first (so that a progress bar knows its length) and run
lazily.  The statistics are those of :mod:`closedform.numeric.stats`: every
simulation check is a z-test whose threshold comes from the suite's
false-failure budget, split by Bonferroni over all simulated components, and
whose row states the smallest discrepancy it detects with power 0.99.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from closedform.estimate import simulate_result
from closedform.numeric import stats
from closedform.spec import Result

#: Family-wise false-failure rate of one ``closedform verify`` run.
SUITE_ALPHA = 1e-6
#: Digits of the closed form and of the oracle in the deterministic check.
ORACLE_DPS = 40
#: Power at which the detectable discrepancy of each z-test is reported.
POWER = 0.99


@dataclass
class CheckRow:
    """One line of the verify table."""

    result: str
    topic: str
    check: str  # "proof", "oracle", "simulation", or a topic-specific extra
    case: str
    status: str  # PROVED, CHECKED_NUMERICALLY, UNDECIDED, REFUTED, pass, FAIL, skip
    detail: str
    seconds: float = 0.0
    #: The measured numbers behind ``detail`` (relative error, z, threshold,
    #: alpha, trials, throughput, ...), for tables that format them themselves.
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status in ("REFUTED", "FAIL")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PlannedCheck:
    result: Result
    check: str
    case: str
    run: Callable[[], CheckRow]


def case_label(case: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in case.items())


def seed_for(result: Result, case: dict[str, Any]) -> int:
    """A fixed seed per (result, case), derived from their names: never tuned."""
    return zlib.crc32(f"{result.name}|{case_label(case)}".encode())


def _to_mpf_list(value: Any) -> list[mpmath.mpf]:
    if isinstance(value, sp.MatrixBase):
        return [mpmath.mpf(sp.N(e, ORACLE_DPS)) for e in value]
    if isinstance(value, (list, tuple, np.ndarray)):
        return [mpmath.mpf(v) if not isinstance(v, sp.Basic) else mpmath.mpf(sp.N(v, ORACLE_DPS)) for v in value]
    if isinstance(value, sp.Basic):
        return [mpmath.mpf(sp.N(value, ORACLE_DPS))]
    return [mpmath.mpf(value)]


def oracle_check(result: Result, case: dict[str, Any]) -> CheckRow:
    """Closed form at 40 digits against the independent mpmath oracle, relative tolerance ``rtol``."""
    t0 = time.perf_counter()
    with mpmath.workdps(ORACLE_DPS):
        # Floats as their exact binary values: both sides see one number, at any precision.
        values = result.exact_values(**case)
        claimed = _to_mpf_list(result.closed_form(**values))
        truth = _to_mpf_list(result.oracle(**values))
    if len(claimed) != len(truth):
        return CheckRow(
            result.name,
            result.topic,
            "oracle",
            case_label(case),
            "FAIL",
            f"closed form has {len(claimed)} components, oracle {len(truth)}",
            time.perf_counter() - t0,
        )
    worst = mpmath.mpf(0)
    ok = True
    for c, o in zip(claimed, truth):
        err = abs(c - o) if o == 0 else abs(c - o) / abs(o)
        worst = max(worst, err)
        ok = ok and abs(c - o) <= result.rtol * abs(o) + result.atol
    floor = f" + atol {result.atol:g}" if result.atol else ""
    # Where the oracle's value is exactly 0 the error is absolute: say so rather than call it relative.
    kind = "error" if any(o == 0 for o in truth) else "relative error"
    detail = (
        f"max {kind} {mpmath.nstr(worst, 3)} <= rtol {result.rtol:g}{floor}"
        if ok
        else (f"max {kind} {mpmath.nstr(worst, 3)} > rtol {result.rtol:g}{floor} ({result.rtol_reason})")
    )
    data = {"relative_error": float(worst), "rtol": result.rtol}
    via = getattr(result.oracle, "label", "")  # claims say which oracle ran (derived from lhs, or their own)
    if via:
        detail += f"; oracle: {via}"
        data["oracle"] = via
    return CheckRow(
        result.name,
        result.topic,
        "oracle",
        case_label(case),
        "pass" if ok else "FAIL",
        detail,
        time.perf_counter() - t0,
        data,
    )


def simulation_check(
    result: Result, case: dict[str, Any], alpha: float, trials: int, device: str = "cpu", power: float = POWER
) -> CheckRow:
    """Simulate and z-test every component against the closed form at level ``alpha`` (Bonferroni inside)."""
    t0 = time.perf_counter()
    claimed = result.claimed_values(**case)
    seed = seed_for(result, case)
    est = simulate_result(result, trials, device=device, seed=seed, progress=False, **case)
    tests = est.z_tests(claimed, alpha)
    # The component shown is the one furthest past its threshold (every component
    # has the same Bonferroni threshold, so this is also the largest |z|).
    worst = max(tests, key=lambda t: abs(t.z) - t.threshold)
    ok = all(t.passed for t in tests)
    if est.kind == "proportion":
        delta = max(stats.min_detectable_discrepancy(float(c), est.trials, worst.alpha, power) for c in claimed)
        power_note = f"detects |delta| >= {delta:.2g} w.p. {power}"
    else:
        delta = stats.min_detectable_mean_discrepancy(worst.stderr, worst.alpha, power)
        power_note = f"detects |delta| >= {delta:.2g} w.p. {power}"
    detail = (
        f"max |z| = {abs(worst.z):.2f} {'<=' if ok else '>'} {worst.threshold:.2f} (alpha {alpha:.1e} over {len(tests)} "
        f"component(s)); N = {est.trials:.3g}; {power_note}; {est.throughput:.3g} trials/s"
    )
    data = {
        "z": float(worst.z),
        "threshold": float(worst.threshold),
        "alpha": float(alpha),
        "components": len(tests),
        "trials": int(est.trials),
        "detectable": float(delta),
        "power": power,
        "trials_per_second": float(est.throughput),
        "seed": seed,
        "device": device,
    }
    return CheckRow(
        result.name,
        result.topic,
        "simulation",
        case_label(case),
        "pass" if ok else "FAIL",
        detail,
        time.perf_counter() - t0,
        data,
    )


def proof_check(result: Result, make_proof: Callable[[], Any]) -> CheckRow:
    t0 = time.perf_counter()
    proof = make_proof().check()
    weak = [c for c in proof.checked_steps if c.verdict.value != "PROVED"]
    detail = f"{len(proof.checked_steps)} steps"
    data = {"steps": len(proof.checked_steps), "weak_steps": len(weak)}
    if weak:
        detail += "; " + "; ".join(
            f"step {proof.checked_steps.index(c) + 1}: {c.verdict.value} ({c.reason[:90]})" for c in weak[:2]
        )
    return CheckRow(
        result.name, result.topic, "proof", proof.title, proof.verdict.value, detail, time.perf_counter() - t0, data
    )


def plan(
    results: Iterable[Result],
    thorough: bool = False,
    alpha: float = SUITE_ALPHA,
    device: str = "cpu",
    trials: int | None = None,
    power: float = POWER,
) -> list[PlannedCheck]:
    """Every check of ``results`` as a lazily run plan (proofs once per proof function).

    ``trials``, when given, replaces every result's ``sim_trials`` (a quick
    report, or the report's small fixed golden configuration).
    """
    results = list(results)
    seen: set[Any] = set()
    planned: list[PlannedCheck] = []
    n_sim = sum(len(r.cases) for r in results if r.simulation is not None)
    sim_alpha = stats.bonferroni(alpha, max(n_sim, 1))
    for r in results:
        for mk in r.proofs:
            if mk in seen:
                continue
            seen.add(mk)
            planned.append(PlannedCheck(r, "proof", mk.__name__, lambda r=r, mk=mk: proof_check(r, mk)))
        for case in r.cases:
            if r.oracle is not None:
                planned.append(PlannedCheck(r, "oracle", case_label(case), lambda r=r, c=case: oracle_check(r, c)))
            if r.simulation is not None:
                n_trials = trials if trials is not None else r.sim_trials * (10 if thorough else 1)
                planned.append(
                    PlannedCheck(
                        r,
                        "simulation",
                        case_label(case),
                        lambda r=r, c=case, t=n_trials: simulation_check(r, c, sim_alpha, t, device, power),
                    )
                )
        for extra in r.extra_checks:
            planned.append(PlannedCheck(r, extra.__name__, "", lambda r=r, e=extra: e(r, thorough)))
    return planned


def run_plan(planned: list[PlannedCheck], progress: bool = True) -> list[CheckRow]:
    """Run the planned checks with a progress bar; an exception becomes a FAIL row, not a crash."""
    from tqdm.auto import tqdm

    rows = []
    bar = tqdm(planned, disable=not progress, unit="check", dynamic_ncols=True, leave=False)
    for pc in bar:
        bar.set_description(f"{pc.result.name}: {pc.check}")
        t0 = time.perf_counter()
        try:
            rows.append(pc.run())
        except Exception as exc:  # a crash is a failed check with its reason, and the run goes on
            rows.append(
                CheckRow(
                    pc.result.name,
                    pc.result.topic,
                    pc.check,
                    pc.case,
                    "FAIL",
                    f"{type(exc).__name__}: {exc}",
                    time.perf_counter() - t0,
                )
            )
    bar.close()
    return rows


def format_table(rows: list[CheckRow]) -> str:
    """A fixed-width table of the rows, then one summary line."""
    headers = ("result", "check", "case", "status", "s", "detail")
    body = [(r.result, r.check, r.case[:36], r.status, f"{r.seconds:.2f}", r.detail) for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(headers[:-1])]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers[:-1], widths)) + "  detail"]
    lines.append("  ".join("-" * w for w in widths) + "  ------")
    for b in body:
        lines.append("  ".join(v.ljust(w) for v, w in zip(b[:-1], widths)) + "  " + b[-1])
    failed = sum(r.failed for r in rows)
    undecided = sum(r.status == "UNDECIDED" for r in rows)
    lines.append(f"{len(rows) - failed} passed, {failed} failed" + (f" ({undecided} undecided)" if undecided else ""))
    return "\n".join(lines)
