"""Command line: ``closedform verify | latex | prove | simulate | list | report``.

Every verb iterates over the registry; bad input is one line naming the
parameter and its domain, with exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A user mistake: printed as one line, exit status 2."""


def _result(name: str):
    from closedform.registry import RESULTS, by_name

    try:
        return by_name(name)
    except KeyError:
        raise UsageError(f"unknown result {name!r}; known: {', '.join(r.name for r in RESULTS)}") from None


#: Options of the verbs themselves; no result parameter may take one of these names.
RUN_OPTIONS = frozenset(
    {"trials", "device", "seed", "streams", "cluster", "json", "latex", "help", "no_progress", "thorough", "out"}
)

#: Verbs that take a result name and, after it, that result's parameters as options.
_RESULT_VERBS = ("latex", "prove", "simulate")


def _parse_result_params(result, extra: Sequence[str]) -> dict[str, str]:
    """Turn ``--n 4 --theta pi`` into ``{"n": "4", "theta": "pi"}``, checking the names."""
    params: dict[str, str] = {}
    it = iter(extra)
    known = {p.name for p in result.params}
    for tok in it:
        if not tok.startswith("--"):
            raise UsageError(f"unexpected argument {tok!r}; parameters are given as --name value")
        key, eq, val = tok[2:].partition("=")
        key = key.replace("-", "_")
        if key not in known:
            raise UsageError(
                f"{result.name} has no parameter {key!r}; its parameters are "
                + ", ".join(f"--{p.name} ({p.domain_text()})" for p in result.params)
            )
        if not eq:
            try:
                val = next(it)
            except StopIteration:
                raise UsageError(f"--{key} needs a value in {result.param(key).domain_text()}") from None
        params[key] = val
    return params


def _typical_text(param) -> str:
    typical = param.typical
    if param.kind == "choice":
        return ""
    return f"; typical {typical[0]} to {typical[1]}" if len(typical) == 2 else f"; e.g. {typical[0]}"


def _add_result_options(subparser: argparse.ArgumentParser, result) -> None:
    """The result's parameters as real options, so ``--help`` lists them with their domains."""
    group = subparser.add_argument_group(f"parameters of {result.name}")
    for prm in result.params:
        what = f"{prm.description}: " if prm.description else ""
        group.add_argument(
            f"--{prm.name}",
            dest=f"param__{prm.name}",
            metavar="VALUE",
            default=None,
            help=f"{what}{prm.domain_text()}{_typical_text(prm)}".replace("%", "%%"),
        )


def _join_values(argv: list[str], names: set[str]) -> list[str]:
    # "--mu -1,2" would read as two options; "--mu=-1,2" is unambiguous.
    out, i = [], 0
    while i < len(argv):
        tok = argv[i]
        if tok.startswith("--") and "=" not in tok and tok[2:].replace("-", "_") in names and i + 1 < len(argv):
            out.append(f"--{tok[2:].replace('-', '_')}={argv[i + 1]}")
            i += 2
        else:
            out.append(tok)
            i += 1
    return out


def _emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    if args.json:
        print(json.dumps(payload, indent=2, default=str))
    else:
        print(text)


def cmd_list(args: argparse.Namespace, extra: Sequence[str]) -> int:
    from closedform.registry import by_topic

    try:
        selected = by_topic(*args.topics)
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None
    rows = [
        {
            "name": r.name,
            "topic": r.topic,
            "title": r.title,
            "params": [f"{p.name} in {p.domain_text()}" for p in r.params],
        }
        for r in selected
    ]
    text = "\n".join(f"{r['name']:<28} {r['topic']:<11} {r['title']}" for r in rows)
    _emit(args, rows, text)
    return EXIT_OK


def cmd_verify(args: argparse.Namespace, extra: Sequence[str]) -> int:
    from closedform import checks
    from closedform.registry import by_topic

    try:
        results = by_topic(*args.topics)
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None
    planned = checks.plan(results, thorough=args.thorough, device=args.device)
    rows = checks.run_plan(planned, progress=not args.json and not args.no_progress)
    _emit(args, [r.as_dict() for r in rows], checks.format_table(rows))
    return EXIT_FAILED if any(r.failed for r in rows) else EXIT_OK


def cmd_latex(args: argparse.Namespace, extra: Sequence[str]) -> int:
    result = _result(args.result)
    params = _parse_result_params(result, extra)
    if params and set(params) != {p.name for p in result.params}:
        missing = [p.name for p in result.params if p.name not in params]
        raise UsageError(f"give all parameters or none; missing --{' --'.join(missing)}")
    formula = result.formula(**params)
    text = formula.latex()
    _emit(args, {"result": result.name, "latex": text, "params": params}, text)
    return EXIT_OK


def cmd_prove(args: argparse.Namespace, extra: Sequence[str]) -> int:
    result = _result(args.result)
    if not result.proofs:
        raise UsageError(f"{result.name} has no registered proof")
    proofs = [mk().check() for mk in result.proofs]
    payload = [
        {
            "title": p.title,
            "statement": p.statement,
            "verdict": p.verdict.value,
            "steps": [{"why": c.step.why, "verdict": c.verdict.value, "reason": c.reason} for c in p.checked_steps],
            "latex": p.latex(),
        }
        for p in proofs
    ]
    text = "\n\n".join(p.latex() if args.latex else p.text() for p in proofs)
    _emit(args, payload, text)
    return EXIT_FAILED if any(p.verdict.value == "REFUTED" for p in proofs) else EXIT_OK


def cmd_simulate(args: argparse.Namespace, extra: Sequence[str]) -> int:
    """Simulate one result; Ctrl-C prints the partial estimate on one line and exits 130."""
    try:
        return _simulate(args, extra)
    except KeyboardInterrupt as exc:
        from closedform.estimate import Interrupted

        why = str(exc) if isinstance(exc, Interrupted) else "interrupted before the run started; no estimate"
        print(f"closedform: {why}", file=sys.stderr)
        return 130  # 128 + SIGINT, what a shell reports for a run stopped by Ctrl-C


def _simulate(args: argparse.Namespace, extra: Sequence[str]) -> int:
    from closedform.estimate import simulate_result
    from closedform.spec import ParameterError

    result = _result(args.result)
    params = _parse_result_params(result, extra)
    try:
        est = simulate_result(
            result,
            args.trials,
            device=args.device,
            seed=args.seed,
            streams=args.streams,
            cluster=args.cluster,
            **params,
        )
        claimed = result.claimed_values(**params)
    except ParameterError as exc:
        raise UsageError(str(exc)) from None
    formula = result.formula(**params)  # the SymPy expression: cheap to build, seconds to print when long
    # Print only what is shown: the exact text for --json, a short form (or the name) otherwise.
    exact = str(formula.expr) if args.json else None
    payload = est.as_dict() | {"closed_form": [float(c) for c in claimed], "closed_form_exact": exact}
    lines = [repr(est)]
    for i, (e, s, c) in enumerate(zip(est.estimate, est.stderr, claimed)):
        z = (e - c) / s if s > 0 else 0.0
        lines.append(f"  [{i}] estimate {e:.8g} ± {s:.2g}   closed form {c:.12g}   z = {z:+.2f}")
    if not args.json:
        lines.append(f"  closed form: {_short_formula(formula, result.name)}")
    compiling = f" (compiling first: {est.compile_seconds:.2g} s)" if est.compile_seconds > 0 else ""
    lines.append(f"  throughput: {est.throughput:.4g} trials/s on {est.device}{compiling}")
    _emit(args, payload, "\n".join(lines))
    return EXIT_OK


#: Longest formula printed in full by ``simulate``; longer ones (integrals over every class) are named.
_FORMULA_CHARS = 600


def _short_formula(formula: Any, name: str) -> str:
    import sympy as sp

    # Printing a long expression takes seconds (about one per 3,000 characters); counting its
    # symbols and numbers takes a millisecond, and each prints as one character at least.
    entries = formula.expr if isinstance(formula.expr, sp.MatrixBase) else [formula.expr]
    leaves = sum(1 for e in entries for node in sp.preorder_traversal(e) if not node.args)
    size = f"{leaves:,} symbols and numbers"
    if leaves <= _FORMULA_CHARS:
        text = repr(formula)
        if len(text) <= _FORMULA_CHARS:
            return text
        size = f"{len(text):,} characters"
    lhs = formula.lhs
    named = "(" + ", ".join(sp.sstr(e) for e in lhs) + ")" if isinstance(lhs, sp.MatrixBase) else sp.sstr(lhs)
    return f"{named} = an expression of {size}; `closedform latex {name} ...` prints it"


def cmd_report(args: argparse.Namespace, extra: Sequence[str]) -> int:
    # The report needs matplotlib and a MathJax package (extra "report"); a missing one is a
    # one-line error whether it shows at import or when write_report looks for MathJax.
    try:
        from closedform.report import write_report

        paths = write_report(args.topics, args.out)
    except ImportError as exc:
        raise UsageError(f"the report needs the 'report' extra (pip install 'closedform[report]'): {exc}") from None
    _emit(args, [str(p) for p in paths], "\n".join(str(p) for p in paths))
    return EXIT_OK


def _trials(text: str) -> int:
    """A whole number of trials (``1e8`` allowed); the upper bound is checked with the run (one place)."""
    import math

    domain = "a positive integer such as 1e8"
    try:
        value = int(text, 10)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"trials must be {domain}, got {text!r}") from None
        if not math.isfinite(number) or number != math.floor(number):
            raise argparse.ArgumentTypeError(f"trials must be {domain}, got {text!r}") from None
        value = int(number)
    if value < 1:
        raise argparse.ArgumentTypeError(f"trials must be {domain}, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be an integer in [0, 2**64), got {text!r}") from None
    if not 0 <= value < 2**64:
        raise argparse.ArgumentTypeError(f"seed must be an integer in [0, 2**64), got {text!r}")
    return value


# --- cache and warm (the on-disk kernel cache, closedform.cache) ---


def cmd_cache(args: argparse.Namespace, extra: Sequence[str]) -> int:
    from closedform.cache import cache_clear, cache_info

    if args.action == "clear":
        freed = cache_clear()
        _emit(args, {"freed_bytes": freed}, f"removed {freed / 2**20:.1f} MiB of compiled kernels")
        return EXIT_OK
    info = cache_info()
    payload = {"path": info.path, "bytes": info.bytes, "entries": info.entries, "generated": info.generated}
    _emit(args, payload, str(info))
    return EXIT_OK


def cmd_warm(args: argparse.Namespace, extra: Sequence[str]) -> int:
    from closedform.cache import warm

    try:
        runs = warm(args.topics, progress=not args.no_progress)
    except KeyError as exc:  # an unknown topic: by_topic names the known ones
        raise UsageError(exc.args[0]) from None
    _emit(args, {"runs": runs}, f"compiled or loaded the kernels of {runs} runs")
    return EXIT_OK


def _add_cache_commands(sub: Any, common: dict[str, Any]) -> None:
    p = sub.add_parser("cache", help="the on-disk cache of compiled kernels: info or clear", **common)
    p.add_argument("action", choices=["info", "clear"], help="where and how large (info), or remove it (clear)")
    p.set_defaults(func=cmd_cache)
    p = sub.add_parser(
        "warm", help="compile the kernels ahead of time (for a machine image or cluster workers)", **common
    )
    p.add_argument("topics", nargs="*", help="topics or groups; all when omitted")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_warm)


# --- --results: users' claims from a file or module, treated like the built-ins ---
_RESULTS_HELP = "also load the claims of PATH.py or pkg.module (a RESULTS tuple, or every Result in it)"


def _load_results_option(argv: list[str]) -> list[str]:
    """Load every ``--results X`` into the registry (before any lookup) and return argv without them."""
    from closedform.claims import load_results
    from closedform.registry import extend

    rest, i = [], 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--results" or tok.startswith("--results="):
            spec = tok.partition("=")[2] if "=" in tok else (argv[i + 1] if i + 1 < len(argv) else "")
            if not spec:
                raise UsageError("--results needs a path ending in .py or a module name")
            extend(load_results(spec))
            i += 1 if "=" in tok else 2
        else:
            rest.append(tok)
            i += 1
    return rest


def build_parser(result=None) -> argparse.ArgumentParser:
    """The argument parser; with ``result``, its verbs that take a result also take its parameters."""
    common = {"allow_abbrev": False, "formatter_class": argparse.ArgumentDefaultsHelpFormatter}
    parser = argparse.ArgumentParser(
        prog="closedform",
        description="Closed forms from eight 2022 'Scientific Spaces' posts: derived, proved, simulated.",
        **common,
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    sub = parser.add_subparsers(dest="command", required=True, metavar="VERB")

    p = sub.add_parser("list", help="list the results of the registry", **common)
    p.add_argument("topics", nargs="*", help="topics or groups (losses, diffusion); all when omitted")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("verify", help="run every proof and cross-check (exit 1 on any failure)", **common)
    p.add_argument("topics", nargs="*", help="topics or groups (losses, diffusion); all when omitted")
    p.add_argument("--thorough", action="store_true", help="ten times the Monte Carlo trials")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="where the Monte Carlo checks run")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("latex", help="print a result as LaTeX (optionally at given parameters)", **common)
    p.add_argument("result", help="a result name (closedform list)")
    p.set_defaults(func=cmd_latex)
    verbs = {"latex": p}

    p = sub.add_parser("prove", help="print the step-checked derivations of a result", **common)
    p.add_argument("result", help="a result name (closedform list)")
    p.add_argument("--latex", action="store_true", help="as align* LaTeX")
    p.set_defaults(func=cmd_prove)

    p = sub.add_parser("simulate", help="Monte Carlo estimate of a result: --PARAM VALUE ...", **common)
    p.add_argument("result", help="a result name (closedform list)")
    p.add_argument("--trials", type=_trials, default=10**6, help="Monte Carlo trials, e.g. 1e8")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="where the kernel runs")
    p.add_argument("--seed", type=_seed, default=0, help="the seed of every stream (same seed, same counts)")
    p.add_argument("--streams", type=int, default=None, help="independent RNG streams (default: the result's own)")
    p.add_argument("--cluster", default=None, help="Dask scheduler address, or 'local'")
    p.set_defaults(func=cmd_simulate)
    verbs["simulate"] = p

    p = sub.add_parser("report", help="write a LaTeX and HTML report with plots", **common)
    p.add_argument("topics", nargs="*", help="topics or groups (losses, diffusion); all when omitted")
    p.add_argument("--out", default="closedform-report", help="the folder to write into")
    p.set_defaults(func=cmd_report)
    _add_cache_commands(sub, common)
    for verb in sub.choices.values():  # read by _load_results_option; here for --help
        verb.add_argument("--results", action="append", metavar="PATH.py|MODULE", help=_RESULTS_HELP)
    if result is not None:
        for verb in verbs.values():
            _add_result_options(verb, result)
    return parser


def _named_result(argv: Sequence[str]):
    """The result named after a verb that takes one (``simulate sector ...``), or None."""
    for i, tok in enumerate(argv):
        if tok in _RESULT_VERBS:
            rest = [t for t in argv[i + 1 :] if not t.startswith("-")]
            if not rest:
                return None
            from closedform.registry import by_name

            try:
                return by_name(rest[0])
            except KeyError:
                return None
        if not tok.startswith("-"):
            return None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    # Global flags may come after the verb too (closedform latex sector --json).
    argv = list(sys.argv[1:] if argv is None else argv)
    json_flag = "--json" in argv
    argv = [a for a in argv if a != "--json"]
    if any(a == "--results" or a.startswith("--results=") for a in argv):
        try:
            argv = _load_results_option(argv)
        except (UsageError, ValueError) as exc:  # ValueError: ParameterError and ClaimError
            print(f"closedform: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    result = _named_result(argv)
    if result is not None:
        argv = _join_values(argv, {p.name for p in result.params})
    parser = build_parser(result)
    args, extra = parser.parse_known_args(argv)
    args.json = json_flag
    from closedform.derive.errors import ParameterError

    try:
        if extra and args.command in _RESULT_VERBS:
            # One line naming what is wrong: an unknown result, or a parameter it does not have.
            _parse_result_params(result if result is not None else _result(args.result), extra)
        if extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        extra = [
            f"--{name[len('param__') :]}={value}"
            for name, value in vars(args).items()
            if name.startswith("param__") and value is not None
        ]
        return args.func(args, extra)
    except (UsageError, ParameterError) as exc:
        print(f"closedform: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RuntimeError as exc:  # e.g. device="cuda" with no GPU and no simulator
        print(f"closedform: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `closedform latex ... | head`: the reader left, nothing is wrong
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
