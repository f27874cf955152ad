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


def by_name(name: str) -> Result:
    """The result called ``name``, or a KeyError listing the known names."""
    for r in RESULTS:
        if r.name == name:
            return r
    raise KeyError(f"no result named {name!r}; known results: {', '.join(r.name for r in RESULTS)}")


def by_topic(*topics: str) -> tuple[Result, ...]:
    """The results of the given topics (or groups); all results when none is given."""
    if not topics:
        return RESULTS
    wanted: set[str] = set()
    for t in topics:
        if t in TOPIC_GROUPS:
            wanted.update(TOPIC_GROUPS[t])
        elif t in TOPICS:
            wanted.add(t)
        else:
            known = ", ".join(list(TOPICS) + list(TOPIC_GROUPS))
            raise KeyError(f"unknown topic {t!r}; known topics: {known}")
    return tuple(r for r in RESULTS if r.topic in wanted)


def _check_unique() -> None:
    names = [r.name for r in RESULTS]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise RuntimeError(f"duplicate result names in the registry: {sorted(dupes)}")


_check_unique()
