"""Render results as a compilable LaTeX document, a Markdown table or JSON-ready records.

Pure string/record builders (no file I/O here: the CLI writes them atomically).
"""

from __future__ import annotations

import math
from typing import Iterable

import sympy as sp

from lrwb.theory.result import NotApplicable, Result

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}

# Unicode that appears in descriptions and sources, mapped to plain LaTeX so pdflatex (no unicode
# packages in texlive-latex-base) compiles the document.
_UNICODE_TO_LATEX = {
    "α": r"$\alpha$", "β": r"$\beta$", "γ": r"$\gamma$", "δ": r"$\delta$", "ζ": r"$\zeta$", "η": r"$\eta$",
    "θ": r"$\theta$", "λ": r"$\lambda$", "μ": r"$\mu$", "ν": r"$\nu$", "ξ": r"$\xi$", "σ": r"$\sigma$",
    "τ": r"$\tau$", "χ": r"$\chi$", "Γ": r"$\Gamma$", "Σ": r"$\Sigma$", "∫": r"$\int$", "−": "-", "–": "--",
    "—": "---", "≤": r"$\le$", "≥": r"$\ge$", "≍": r"$\asymp$", "∝": r"$\propto$", "≈": r"$\approx$",
    "→": r"$\to$", "⇒": r"$\Rightarrow$", "⇔": r"$\Leftrightarrow$", "∞": r"$\infty$", "·": r"$\cdot$",
    "×": r"$\times$", "²": r"$^2$", "³": r"$^3$", "₁": r"$_1$", "‖": r"$\|$", "√": r"$\surd$", "…": r"\dots{}",
    "’": "'", "‘": "`", "“": "``", "”": "''", "±": r"$\pm$", "∈": r"$\in$", "≠": r"$\ne$", "≪": r"$\ll$",
    "≫": r"$\gg$", "∼": r"$\sim$", "ε": r"$\epsilon$", "ψ": r"$\psi$", "φ": r"$\phi$", "ρ": r"$\rho$",
    "κ": r"$\kappa$", "Δ": r"$\Delta$", "∂": r"$\partial$", "½": r"$\frac12$", "⁻": r"$^-$", "¹": r"$^1$",
}


def latex_text(text: str) -> str:
    """Escape plain text (names, descriptions, sources) for LaTeX's text mode."""
    out = []
    for ch in text:
        if ch in _LATEX_SPECIALS:
            out.append(_LATEX_SPECIALS[ch])
        elif ch in _UNICODE_TO_LATEX:
            out.append(_UNICODE_TO_LATEX[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append("?")  # never emit a character pdflatex cannot typeset
    return "".join(out)


def label_of(result: Result) -> str:
    """The equation label used in the LaTeX export: ``eq:<name>``."""
    return f"eq:{result.name}"


def latex_document(results: Iterable[Result], title: str = "LR Workbench: derived results") -> str:
    """A standalone LaTeX document (article, amsmath) with one labelled equation per result."""
    lines = [
        r"\documentclass[10pt]{article}",
        r"\usepackage{amsmath,amssymb}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\allowdisplaybreaks",
        rf"\title{{{latex_text(title)}}}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
        latex_text(
            "Every formula below was derived by the workbench's SymPy code (theory/). Losses are excess losses "
            "in PLRF units (no 1/2). Rates are up to constants where the relation is asymptotic."
        ),
        "",
    ]
    for result in results:
        lines += [
            rf"\paragraph{{{latex_text(result.name)}}} {latex_text(result.description)}",
            r"\begin{equation}",
            rf"{result.latex()}",
            rf"\label{{{label_of(result)}}}",
            r"\end{equation}",
            latex_text(f"Regime: {result.regime.label}. Source: {result.source}. Verdict: {result.verdict}."),
            "",
        ]
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"


def _markdown_cell(text: str) -> str:
    return text.replace("|", r"\|").replace("\n", " ")


def markdown_table(results: Iterable[Result]) -> str:
    """A Markdown table: name | regime | formula (inline math) | source | verdict."""
    rows = ["| name | regime | formula | source | verdict |", "|---|---|---|---|---|"]
    for r in results:
        rows.append(
            "| " + " | ".join(_markdown_cell(c) for c in (f"`{r.name}`", r.regime.label, f"${r.latex()}$", r.source, r.verdict)) + " |"
        )
    return "\n".join(rows) + "\n"


def evaluation_parameters(point: dict) -> dict[str, float]:
    """Every parameter the ``--eval`` point determines (a, b and the FSL s, β from either pair, sizes …)."""
    from lrwb.theory import params as P

    return {str(sym): value for sym, value in P.evaluation_point(**point).items()}


def json_records(results: Iterable[Result], point: dict | None = None) -> list[dict]:
    """One JSON-ready dict per result; with ``point`` (``--eval`` vocabulary) also its value there.

    ``power_laws`` lists the result's power laws (:attr:`Result.power_laws`): variable, exponent and log power
    as text, and with ``point`` also ``exponent_value``/``log_power_value`` — the exponent as a number even when
    the value itself needs the free variable (e.g. the signal e(t) ≍ t^{−(a−1)/b}).

    A result whose regime does not hold at ``point`` (or that needs a value not given) is marked
    ``"applicable": false`` with the reason instead of being evaluated.
    """
    records = []
    for r in results:
        record = {
            "name": r.name,
            "description": r.description,
            "regime": r.regime.label,
            "regime_condition": sp.sstr(r.regime.condition),
            "relation": r.relation,
            "latex": r.latex(),
            "expression": sp.sstr(r.expr),
            "parameters": [str(p) for p in r.parameters],
            "source": r.source,
            "assumptions": list(r.assumptions),
            "verdict": r.verdict,
            "derivation": r.derivation,
            # every power law X^e (log X)^l in the result (X = T, C, D, N, t, u, …; 1 - x for a decay shape)
            "power_laws": [{"variable": sp.sstr(law.variable), "exponent": sp.sstr(law.exponent),
                            "log_power": sp.sstr(law.log_power)} for law in r.power_laws],
        }
        if point is not None:
            record["power_laws"] = r.power_law_values(**point)
            try:
                value = r.evaluate(**point)
            except NotApplicable as err:
                record.update(applicable=False, value=None, reason=str(err))
            else:
                if math.isfinite(value):
                    record.update(applicable=True, value=value)
                else:
                    record.update(applicable=False, value=None, reason=f"not finite at this point ({value})")
        records.append(record)
    return records
