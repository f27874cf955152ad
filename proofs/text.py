r"""Rendering proofs: LaTeX for documents, Unicode for terminals.

Statements and justifications are text with inline maths in ``\(...\)``.  In
LaTeX and HTML the maths stays LaTeX (MathJax or pdflatex typesets it); in a
terminal :func:`to_unicode` turns it into one line of Unicode (``\frac{a}{b}``
becomes ``a/b``, ``x^{2}`` becomes ``x²``, a ``cases`` environment becomes
``{a for c; b otherwise}``), and :func:`proof_text` wraps every line at the
terminal's width.

Examples
--------
>>> to_unicode(r"\frac{3 \theta^{2}}{4 \pi^{2}} \le \binom{n}{k}")
'3θ²/(4π²) ≤ C(n, k)'
>>> mixed_unicode(r"the \(E_i\) are disjoint for \(x \le \frac{1}{2}\)")
'the Eᵢ are disjoint for x ≤ 1/2'
>>> tex_escape("P(x_1 > c) ≤ 1 & 50%")
'P(x\\_1 > c) $\\le$ 1 \\& 50\\%'
"""

from __future__ import annotations

import re
import shutil
import textwrap
from typing import Any

import sympy as sp

from closedform.derive.expr_parser import as_expr

# ----------------------------------------------------------------------------
# LaTeX -> Unicode
# ----------------------------------------------------------------------------

_SYMBOLS = {
    **dict(
        zip(
            "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi rho "
            "sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Phi Psi Omega".split(),
            "αβγδεεζηθϑικλμνξπρστυφφχψωΓΔΘΛΞΠΣΦΨΩ",
        )
    ),
    "le": " ≤ ",
    "leq": " ≤ ",
    "ge": " ≥ ",
    "geq": " ≥ ",
    "ne": " ≠ ",
    "neq": " ≠ ",
    "lt": " < ",
    "gt": " > ",
    "approx": " ≈ ",
    "sim": " ∼ ",
    "equiv": " ≡ ",
    "propto": " ∝ ",
    "to": " → ",
    "rightarrow": " → ",
    "mapsto": " ↦ ",
    "Rightarrow": " ⇒ ",
    "implies": " ⇒ ",
    "iff": " ⇔ ",
    "Leftrightarrow": " ⇔ ",
    "in": " ∈ ",
    "notin": " ∉ ",
    "subset": " ⊂ ",
    "subseteq": " ⊆ ",
    "cup": " ∪ ",
    "cap": " ∩ ",
    "setminus": " ∖ ",
    "times": " × ",
    "cdot": "·",
    "pm": " ± ",
    "mp": " ∓ ",
    "circ": "∘",
    "ast": "*",
    "star": "⋆",
    "mid": " | ",
    "infty": "∞",
    "partial": "∂",
    "nabla": "∇",
    "sum": "Σ",
    "prod": "Π",
    "int": "∫",
    "bigcup": "⋃",
    "bigcap": "⋂",
    "forall": "∀",
    "exists": "∃",
    "neg": "¬",
    "land": " ∧ ",
    "wedge": " ∧ ",
    "lor": " ∨ ",
    "vee": " ∨ ",
    "emptyset": "∅",
    "varnothing": "∅",
    "ldots": "…",
    "dots": "…",
    "cdots": "⋯",
    "lfloor": "⌊",
    "rfloor": "⌋",
    "lceil": "⌈",
    "rceil": "⌉",
    "langle": "⟨",
    "rangle": "⟩",
    "ell": "ℓ",
    "quad": "  ",
    "qquad": "   ",
    "lim": "lim",
}
#: Commands that print nothing (sizes, styles) or whose argument is printed as is.
_SILENT = frozenset(
    "left right bigl bigr Bigl Bigr big Big bigg Bigg biggl biggr Biggl Biggr middle displaystyle textstyle "
    "scriptstyle limits nolimits nonumber notag".split()
)
_TEXT = frozenset(
    "text textrm textit textbf textsc mathrm mathit mathbf mathsf mathtt texttt boldsymbol bm emph mbox "
    "operatorname mathcal mathscr hbox substack".split()
)
_ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "tilde": "\u0303", "widetilde": "\u0303", "bar": "\u0304"}
_ACCENTS |= {"overline": "\u0304", "vec": "\u20d7", "dot": "\u0307", "ddot": "\u0308"}
_BLACKBOARD = {"E": "𝔼", "R": "ℝ", "N": "ℕ", "Z": "ℤ", "P": "ℙ", "Q": "ℚ", "C": "ℂ", "1": "𝟙", "V": "𝕍"}
_SUP = dict(zip("0123456789+-−=()niaekx", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ⁿⁱᵃᵉᵏˣ"))
_SUB = dict(zip("0123456789+-−=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))
_ESCAPED = {"\\": "; ", "{": "{", "}": "}", ",": " ", ";": " ", ":": " ", "!": "", " ": " ", "_": "_", "%": "%"}
_ESCAPED |= {"&": "&", "#": "#", "$": "$", "|": "‖"}
_ENVIRONMENTS = {"pmatrix": "()", "bmatrix": "[]", "Bmatrix": "{}", "vmatrix": "||", "cases": "{}"}


def _group(s: str, i: int) -> tuple[str, int]:
    """The next argument at ``s[i]``: a braced group, a command or one character."""
    while i < len(s) and s[i] == " ":
        i += 1
    if i >= len(s):
        return "", i
    if s[i] == "{":
        depth, j = 0, i
        while j < len(s):
            if s[j] == "\\":
                j += 2
                continue
            depth += {"{": 1, "}": -1}.get(s[j], 0)
            if depth == 0:
                return s[i + 1 : j], j + 1
            j += 1
        return s[i + 1 :], len(s)
    if s[i] == "\\":
        m = re.match(r"\\([A-Za-z]+|.)", s[i:])
        return m.group(0), i + len(m.group(0))
    return s[i], i + 1


def _tight(t: str) -> str:
    """A number times a symbol written without the space: ``2 π`` -> ``2π``."""
    return re.sub(r"(?<=\d) +(?=[A-Za-zα-ωΑ-Ωℓ](?![A-Za-zα-ωΑ-Ω]))", "", re.sub(r"\s+", " ", t).strip())


def _wrap(t: str, denominator: bool = False) -> str:
    """``t`` in parentheses unless it reads as one unit (a denominator: one number or one symbol)."""
    t = t.strip()
    scripts = "\u0300-\u036f⁰-⁹²³¹ⁿⁱᵃᵉᵏˣₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ₀-₉′"
    if denominator and not re.fullmatch(rf"(\d+(\.\d+)?|[^\W\d_][{scripts}]*|\w+\([^()]*\))[{scripts}!]*", t):
        return f"({t})"
    if re.fullmatch(r"[\w.′ʹ!^\u0300-\u036f⁰-⁹₀-₉ⁿⁱᵃᵉᵏˣₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ∞]+", t):
        return t
    if re.fullmatch(r"[\w√]*\([^()]*\)", t) or re.fullmatch(r"\[[^\[\]]*\]", t):
        return t
    return f"({t})"


def _script(t: str, table: dict[str, str], mark: str) -> str:
    t = t.strip()
    if t and all(ch in table for ch in t):
        return "".join(table[ch] for ch in t)
    return mark + (t if len(t) == 1 else f"({t})")


def _environment(name: str, body: str) -> str:
    if name == "array":
        _, start = _group(body, 0)  # the column specification
        body = body[start:]
    rows = [r for r in re.split(r"\\\\", body) if r.strip() and r.strip() != r"\hline"]
    cells = [[_convert(c).strip() for c in re.split(r"(?<!\\)&", r.replace(r"\hline", ""))] for r in rows]
    if name == "cases":
        inner = "; ".join(" ".join(c for c in row if c) for row in cells)
    elif name in ("aligned", "align", "align*", "gathered", "split"):
        inner = "; ".join("".join(row) for row in cells)
    else:
        inner = "; ".join(", ".join(row) for row in cells)
    left, right = _ENVIRONMENTS.get(name, "[]" if name != "matrix" else "  ")
    return (left + inner + right).strip()


def _convert(s: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(s):
        ch = s[i]
        if ch == "\\":
            m = re.match(r"\\([A-Za-z]+)\*?", s[i:])
            if not m:
                nxt = s[i + 1 : i + 2]
                out.append(_ESCAPED.get(nxt, nxt))
                i += 2
                continue
            name, i = m.group(1), i + len(m.group(0))
            if name in ("frac", "dfrac", "tfrac"):
                a, i = _group(s, i)
                b, i = _group(s, i)
                top, bottom = _tight(_convert(a)), _tight(_convert(b))
                if top in ("d", "∂") and bottom.startswith(top + " "):  # d/dθ, not d/(d θ)
                    bottom = bottom.replace(" ", "")
                    out.append(f"{top}/{bottom} ")
                else:
                    out.append(f"{_wrap(top)}/{_wrap(bottom, True)}")
            elif name in ("binom", "dbinom", "tbinom"):
                a, i = _group(s, i)
                b, i = _group(s, i)
                out.append(f"C({_convert(a).strip()}, {_convert(b).strip()})")
            elif name == "sqrt":
                root = ""
                if s[i : i + 1] == "[":
                    j = s.index("]", i)
                    root, i = _script(_convert(s[i + 1 : j]), _SUP, "^"), j + 1
                a, i = _group(s, i)
                out.append(root + "√" + _wrap(_convert(a)))
            elif name in _TEXT:
                a, i = _group(s, i)
                out.append(_convert(a))
            elif name == "mathbb":
                a, i = _group(s, i)
                out.append("".join(_BLACKBOARD.get(c, c) for c in a.strip()))
            elif name in _ACCENTS:
                a, i = _group(s, i)
                body = _convert(a).strip()
                out.append(body + _ACCENTS[name] if len(body) == 1 else f"{name}({body})")
            elif name == "begin":
                env, i = _group(s, i)
                end = s.find(rf"\end{{{env}}}", i)
                end = len(s) if end < 0 else end
                out.append(_environment(env, s[i:end]))
                i = end + len(rf"\end{{{env}}}")
            elif name in _SILENT:
                if s[i : i + 1] == ".":
                    i += 1
            elif name in ("hline", "tag"):
                if name == "tag":
                    _, i = _group(s, i)
            else:
                out.append(_SYMBOLS.get(name, name + (" " if s[i : i + 1].isalpha() else "")))
        elif ch in "^_":
            a, i = _group(s, i + 1)
            out.append(_script(_convert(a), _SUP if ch == "^" else _SUB, ch))
        elif ch == "{":
            a, i = _group(s, i)
            out.append(_convert(a))
        elif ch in "&~":
            out.append(" ")
            i += 1
        elif ch in "=<>+":
            out.append(f" {ch} ")
            i += 1
        elif ch == "-":
            out.append(" − ")
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def to_unicode(tex: str) -> str:
    """LaTeX maths as one line of Unicode."""
    text = _convert(str(tex))
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"([(\[{⌊⌈√]) ", r"\1", text)
    text = re.sub(r" ([)\]},;⌋⌉!′])", r"\1", text)
    # A leading or bracketed minus is a sign, not a binary operator.
    text = re.sub(r"(^|[(\[{=]) ?− ", r"\1−", text)
    text = re.sub(r"([,;]) ?− ", r"\1 −", text)
    text = _tight(text)
    text = re.sub(r"(?<=\w) (?=[²³⁴⁵⁶⁷⁸⁹⁰¹ⁿ])", "", text)
    return text.strip()


_MATH = re.compile(r"\\\((.*?)\\\)", re.DOTALL)


def split_math(text: str) -> list[tuple[bool, str]]:
    r"""``text`` as (is_maths, piece) pairs, the maths taken from ``\(...\)``."""
    parts, pos = [], 0
    for m in _MATH.finditer(str(text)):
        if m.start() > pos:
            parts.append((False, text[pos : m.start()]))
        parts.append((True, m.group(1)))
        pos = m.end()
    if pos < len(str(text)):
        parts.append((False, str(text)[pos:]))
    return parts


def mixed_unicode(text: str) -> str:
    r"""Text with inline ``\(...\)`` maths, the maths as Unicode."""
    return "".join(to_unicode(p) if math else p for math, p in split_math(text))


# ----------------------------------------------------------------------------
# LaTeX for documents
# ----------------------------------------------------------------------------

_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
#: Unicode in text -> pdflatex (maths commands in ``$...$``, or text equivalents).
TEX_UNICODE = {
    "≤": r"$\le$",
    "≥": r"$\ge$",
    "±": r"$\pm$",
    "×": r"$\times$",
    "−": "-",
    "—": "---",
    "–": "--",
    "→": r"$\to$",
    "⇒": r"$\Rightarrow$",
    "⇔": r"$\Leftrightarrow$",
    "∈": r"$\in$",
    "≈": r"$\approx$",
    "≠": r"$\ne$",
    "∞": r"$\infty$",
    "·": r"$\cdot$",
    "…": r"\dots{}",
    "’": "'",
    "“": "``",
    "”": "''",
    "√": r"$\surd$",
    "∑": r"$\sum$",
    "∫": r"$\int$",
    "²": r"$^2$",
    "³": r"$^3$",
    "½": r"$\frac12$",
    "∝": r"$\propto$",
    "∇": r"$\nabla$",
    "∂": r"$\partial$",
    **{ch: f"$\\{name}$" for name, ch in _SYMBOLS.items() if len(ch) == 1 and name.isalpha() and ch.isalpha()},
}
TEX_UNICODE["ε"] = r"$\varepsilon$"
TEX_UNICODE["φ"] = r"$\varphi$"
_MATH_UNICODE = {k: v.strip("$") + " " for k, v in TEX_UNICODE.items() if v.startswith("$")}


def tex_escape(text: str) -> str:
    """Plain text (Unicode allowed) as LaTeX text for pdflatex."""
    out = []
    for ch in str(text):
        if ch in _TEX_SPECIAL:
            out.append(_TEX_SPECIAL[ch])
        elif ch in TEX_UNICODE:
            out.append(TEX_UNICODE[ch])
        elif ord(ch) > 127:  # pdflatex knows no other code point: name it instead of failing
            out.append(f"[U+{ord(ch):04X}]")
        else:
            out.append(ch)
    return "".join(out)


def math_tex(tex: str) -> str:
    """LaTeX maths with any Unicode in it as commands (pdflatex reads no Unicode maths)."""
    return "".join(_MATH_UNICODE.get(ch, ch) for ch in str(tex))


def mixed_tex(text: str) -> str:
    r"""Text with inline ``\(...\)`` maths as LaTeX: the text escaped, the maths kept."""
    return "".join(rf"\({math_tex(p)}\)" if math else tex_escape(p) for math, p in split_math(text))


def side_latex(side: Any) -> str:
    """The LaTeX of what one side of a step shows."""
    from closedform.proofs.core import display_of

    shown = display_of(side)
    if isinstance(shown, str):
        return math_tex(shown)
    return sp.latex(shown)


def verdict_word(v: Any) -> str:
    return v.value.lower().replace("_", " ")


#: Longest LaTeX source of a table entry; longer entries leave the table to the case list.
_ENTRY_CHARS = 70


def _entries(c: Any) -> list[str] | None:
    out = []
    for r in c.cases:
        if r.shown is None:
            return None
        t = side_latex(r.shown)
        if len(t) > _ENTRY_CHARS:
            return None
        out.append(t)
    return out


def cases_latex(c: Any) -> str:
    """The table of a family step's cases as an ``array`` (one column per case when short)."""
    cases = c.step.cases
    entries = _entries(c)
    label = cases.label
    if entries is None:
        return ""
    values = [sp.latex(as_expr(r.value)) if not isinstance(r.value, str) else r.value for r in c.cases]
    if max(len(e) for e in entries) <= 16:
        head = " & ".join(values)
        return (
            rf"\begin{{array}}{{r|{'c' * len(values)}}} {label} & {head} \\ \hline "
            rf"\text{{value}} & {' & '.join(entries)} \end{{array}}"
        )
    rows = r" \\ ".join(f"{v} & {e}" for v, e in zip(values, entries))
    return rf"\begin{{array}}{{r|l}} {label} & \text{{value}} \\ \hline {rows} \end{{array}}"


def step_math(c: Any) -> str:
    """The claim of a checked step as LaTeX maths: ``lhs rel rhs [= value] (cases)``, no tag."""
    s = c.step
    lhs, rhs = side_latex(s.lhs), side_latex(s.rhs)
    if s.value is not None:
        rhs += " = " + side_latex(s.value)
    span = rf"\quad ({s.cases.span()})" if s.cases is not None else ""
    return f"{lhs} {s.relation} {rhs}{span}"


def step_latex(c: Any, number: int) -> str:
    """One ``align*`` line (or two, when wide or with a table) of a checked step."""
    s = c.step
    lhs, rhs = side_latex(s.lhs), side_latex(s.rhs)
    if s.value is not None:
        rhs += " = " + side_latex(s.value)
    span = rf"\quad ({s.cases.span()})" if s.cases is not None else ""
    tag = rf"\tag*{{({number}) {verdict_word(c.verdict)}}}"
    if len(lhs) + len(rhs) > 110:  # too wide for one line: the right side goes below
        line = rf"& {lhs} \\ &\quad {s.relation} {rhs}{span} {tag}"
    else:
        line = rf"{lhs} &{s.relation} {rhs}{span} {tag}"
    table = cases_latex(c) if s.cases is not None else ""
    return line + (rf" \\ &\qquad {table} \notag" if table else "")


def case_rows(c: Any) -> list[tuple[str, str | None, Any]]:
    """The cases of a checked family step as (case LaTeX, entry LaTeX or None, verdict)."""
    rows = []
    for r in c.cases:
        value = sp.latex(as_expr(r.value)) if not isinstance(r.value, str) else r.value
        rows.append((value, None if r.shown is None else side_latex(r.shown), r.verdict))
    return rows


# ----------------------------------------------------------------------------
# Unicode for terminals
# ----------------------------------------------------------------------------

_RELATIONS = {"=": "=", r"\le": "≤", r"\ge": "≥", r"\iff": "⇔", r"\to": "→", r"\Rightarrow": "⇒", "<": "<"}


def side_unicode(side: Any) -> str:
    """One side of a step as one line of Unicode."""
    return to_unicode(side_latex(side))


def _wrapped(text: str, width: int, first: str, rest: str) -> list[str]:
    return textwrap.wrap(text, width=width, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False) or [
        first.rstrip()
    ]


def step_text(c: Any, number: int, width: int) -> list[str]:
    """The lines of one checked step: the claim, its cases, its justification and verdict."""
    s = c.step
    rel = _RELATIONS.get(s.relation, to_unicode(s.relation))
    claim = f"{side_unicode(s.lhs)} {rel} {side_unicode(s.rhs)}"
    if s.value is not None:
        claim += f" = {side_unicode(s.value)}"
    if s.cases is not None:
        claim += f"   ({to_unicode(s.cases.span())})"
    lead = f"  ({number}) "
    pad = " " * len(lead)
    lines = _wrapped(claim, width, lead, pad + "  ")
    if c.cases:
        label = to_unicode(s.cases.label)
        for r in c.cases:
            if r.shown is None and r.verdict.value == "PROVED":
                continue  # nothing to show beyond the span of the cases
            shown = "" if r.shown is None else side_unicode(r.shown)
            value = to_unicode(sp.latex(as_expr(r.value))) if not isinstance(r.value, str) else r.value
            text = f"{label} = {value}: {shown}" if shown else f"{label} = {value}"
            tail = "" if r.verdict.value == "PROVED" else f"  [{verdict_word(r.verdict)}]"
            lines += _wrapped(text + tail, width, pad + "  ", pad + "      ")
    lines += _wrapped(f"{mixed_unicode(s.why)}  [{verdict_word(c.verdict)}: {c.reason}]", width, pad, pad)
    return lines


def terminal_width(default: int = 100) -> int:
    return max(shutil.get_terminal_size((default, 24)).columns, 40)


def proof_text(proof: Any, width: int | None = None) -> str:
    """A proof for a terminal: title, verdict, the statement, then each step; no line over ``width``."""
    width = width or terminal_width()
    lines = _wrapped(f"{proof.title}  [{proof.verdict.value}]", width, "", "  ")
    lines += _wrapped(mixed_unicode(proof.statement), width, "  ", "  ")
    for i, c in enumerate(proof.checked_steps, 1):
        lines += step_text(c, i, width)
    return "\n".join(lines)
