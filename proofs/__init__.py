"""Step-checked derivations with three-valued (plus numeric) verdicts.

May import :mod:`closedform.derive`; never :mod:`closedform.numeric`.
"""

from closedform.proofs.core import Proof, Step, Verdict, check_equal

__all__ = ["Proof", "Step", "Verdict", "check_equal"]
