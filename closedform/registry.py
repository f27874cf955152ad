"""The registry: every result closedform knows, one explicit line each.

Every generic test, the CLI (``verify``, ``latex``, ``prove``, ``simulate``)
and the report iterate over :data:`RESULTS`.  A result not listed here does
not exist.  Topic blocks are kept apart so that each topic's lines change alone.
"""

from __future__ import annotations

from closedform import accuracy, cosent, guidance, multiclass, reparam, sector, udm
from closedform.spec import Result

RESULTS: tuple[Result, ...] = (
    # --- sector (post 9324) ---
    sector.SECTOR,
    sector.SECTOR_FAITHFUL,
    sector.SECTOR_SMALL,
    sector.SPACING_EXCEEDANCE,
    sector.LARGEST_SPACING_MEAN,
    sector.ALTERNATING_IDENTITY,
    # --- reparam (post 9085) ---
    reparam.ARGMAX_GUMBEL,
    reparam.ARGMAX_PAIR,
    reparam.ARGMAX_EXPONENTIAL,
    reparam.ARGMAX_UNIFORM,
    reparam.ARGMAX_NORMAL3,
    reparam.ARGMAX,
    # --- accuracy, multiclass, cosent (posts 9098, 9158, 9341) ---
    accuracy.EXACT_BINARY,
    accuracy.EXACT_THREE,
    accuracy.EXACT_ACCURACY,
    accuracy.EXACT_GRADIENT,
    accuracy.TOY_PROBABILITIES,
    accuracy.TOY_EXACT_OPTIMUM,
    accuracy.TOY_EXACT_FAILURE,
    accuracy.TOY_CE_OPTIMUM,
    accuracy.TOY_CE_THRESHOLD,
    accuracy.CE_SERIES,
    # multiclass (post 9158, background 7359 and 9064)
    multiclass.ZLPR_HARD,
    multiclass.ZLPR_SOFT,
    multiclass.ZLPR_SOFT_GRADIENT,
    multiclass.ZLPR_SOFT_ARGMIN,
    multiclass.NM_LOSS1,
    multiclass.NM_LOSS1_GRADIENT,
    multiclass.NM_LOSS3,
    multiclass.NM_LOSS3_GRADIENT,
    multiclass.NM_LOSS3_ARGMIN,
    # cosent (post 9341)
    cosent.COSENT,
    cosent.COSENT_GRADIENT,
    cosent.COSENT_BINARY,
    cosent.COSENT_LARGE_LAMBDA,
    cosent.SOFTMAX2_SIGMOID,
    # --- guidance, udm (posts 9257, 9262, 9271) ---
    guidance.GUIDED_MEAN,
    guidance.QUADRATIC_TILT,
    guidance.TILT_ERROR,
    guidance.LOG_Z_GRADIENT,
    guidance.EPS_SPACE,
    guidance.CFG,
    guidance.GUIDED_DDPM_1D,
    guidance.GUIDED_DDPM_2D,
    # udm (posts 9262, 9271): conventions, hot, cold and discrete diffusion
    udm.CONVENTIONS,
    udm.HOT_POSTERIOR,
    udm.UNIFORM_MIXING,
    udm.HOT_EXACT,
    udm.HOT_PLUGIN,
    udm.COLD,
    udm.EDIT_V1,
    udm.EDIT_V2,
    udm.MASK,
    udm.DELETION,
    udm.ABSORBING,
    udm.D3PM_UNIFORM,
)

#: Topic names and the posts they cover, in the order the CLI lists them.
TOPICS: dict[str, str] = {
    "sector": "n points of a disk in one sector (9324)",
    "reparam": "the law of argmax(mu + noise) (9085)",
    "accuracy": "expected accuracy, EXACT (9098)",
    "multiclass": "multi-label and n m-class cross-entropy (9158)",
    "cosent": "CoSENT (9341)",
    "guidance": "classifier and classifier-free guidance (9257)",
    "udm": "the unified diffusion model (9262, 9271)",
}

#: Aliases accepted by ``closedform verify`` for groups of topics.
TOPIC_GROUPS: dict[str, tuple[str, ...]] = {
    "losses": ("accuracy", "multiclass", "cosent"),
    "diffusion": ("guidance", "udm"),
}


#: The entry-point group through which an installed package adds its results.
ENTRY_POINT_GROUP = "closedform.results"
# Results added at run time (``closedform ... --results FILE``, :func:`extend`), in the order added.
_LOADED: list[Result] = []
# The entry points' results, read once per process (None: not read yet).
_FROM_ENTRY_POINTS: tuple[Result, ...] | None = None


def entry_point_results() -> tuple[Result, ...]:
    """The results installed packages declare in the entry-point group ``closedform.results``.

    An entry point may name a module (its ``RESULTS``, else its module-level
    Results), a Result, a sequence of them, or a function returning either.
    Read once per process; a broken entry point is one ``ClaimError`` naming it.

    Returns
    -------
    tuple of Result

    Examples
    --------
    >>> isinstance(entry_point_results(), tuple)
    True
    """
    global _FROM_ENTRY_POINTS
    if _FROM_ENTRY_POINTS is None:
        from importlib.metadata import entry_points
        from types import ModuleType

        from closedform.claims import ClaimError, results_of

        found: list[Result] = []
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            where = f"entry point {ep.name} = {ep.value} (group {ENTRY_POINT_GROUP})"
            try:
                obj = ep.load()
            except Exception as exc:  # noqa: BLE001 - another package's code: one line naming it
                raise ClaimError(f"{where}: loading it raised {type(exc).__name__}: {exc}") from None
            if callable(obj) and not isinstance(obj, (Result, ModuleType)):
                obj = obj()
            if isinstance(obj, ModuleType):
                found += results_of(obj, where)
            elif isinstance(obj, Result):
                found.append(obj)
            elif isinstance(obj, (list, tuple)) and all(isinstance(r, Result) for r in obj):
                found += obj
            else:
                raise ClaimError(f"{where}: gives {type(obj).__name__}, not Results")
        _check_no_clash(found, RESULTS)
        _FROM_ENTRY_POINTS = tuple(found)
    return _FROM_ENTRY_POINTS


def _check_no_clash(new, known) -> None:
    from closedform.claims import ClaimError

    names = {r.name: r for r in known}
    for r in new:
        other = names.get(r.name)
        if other is not None and other is not r:
            raise ClaimError(f"claim {r.name!r}: the name is taken by another result ({other.title}); choose another")
        names[r.name] = r


def extend(results) -> None:
    """Add results (users' claims) to what :func:`all_results`, :func:`by_name` and :func:`by_topic` see.

    Parameters
    ----------
    results : iterable of Result

    Raises
    ------
    ClaimError
        When a name is taken by another result.
    """
    results = list(results)
    _check_no_clash(results, all_results())
    for r in results:
        if not any(r is known for known in _LOADED):
            _LOADED.append(r)


def all_results() -> tuple[Result, ...]:
    """The built-in results, then those of installed entry points, then those added by :func:`extend`.

    Examples
    --------
    >>> all_results()[: len(RESULTS)] == RESULTS
    True
    """
    return RESULTS + entry_point_results() + tuple(_LOADED)


def by_name(name: str) -> Result:
    """The result called ``name``, or a KeyError listing the known names."""
    known = all_results()
    for r in known:
        if r.name == name:
            return r
    raise KeyError(f"no result named {name!r}; known results: {', '.join(r.name for r in known)}")


def by_topic(*topics: str) -> tuple[Result, ...]:
    """The results of the given topics (or groups); all results when none is given."""
    known = all_results()
    if not topics:
        return known
    extra_topics = [r.topic for r in known if r.topic not in TOPICS]
    wanted: set[str] = set()
    for t in topics:
        if t in TOPIC_GROUPS:
            wanted.update(TOPIC_GROUPS[t])
        elif t in TOPICS or t in extra_topics:
            wanted.add(t)
        else:
            known_topics = ", ".join(dict.fromkeys(list(TOPICS) + list(TOPIC_GROUPS) + extra_topics))
            raise KeyError(f"unknown topic {t!r}; known topics: {known_topics}")
    return tuple(r for r in known if r.topic in wanted)


def _check_unique() -> None:
    names = [r.name for r in RESULTS]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise RuntimeError(f"duplicate result names in the registry: {sorted(dupes)}")


_check_unique()
