"""The reproduce report: ``report.md`` and a self-contained ``report.html`` (figures inline) from a run's records.

Both are built from the same structured records (claims, files, runtimes), not one from the other: the HTML
embeds each PNG as a data URI so the file can be mailed or opened anywhere, and renders the mathematics offline
(no script, no network): the derived formulas as MathML (SymPy's presentation printer for the expressions,
:func:`tex_to_mathml` for the left-hand sides), and the TeX-style exponents and indices of claim texts, notes and
tables (``T^{b/a-1}``, ``N^{−ν}``, ``x_{i}``) as superscripts and subscripts (:func:`tex_text_html`).
Records not rerun by this run (``stale``) are shown and marked.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import re
from pathlib import Path

from lrwb.numerics.io import atomic_write

__all__ = ["write_reports", "report_markdown", "report_html", "budget_rows", "budget_table_markdown",
           "markdown_table_html", "tex_text_html", "tex_to_mathml", "formula_entries"]


def _verdict(passed: bool) -> str:
    return "pass" if passed else "FAIL"


def _status(record) -> str:
    if record.error:
        return "error"
    if getattr(record, "stale", ""):
        return "stale"
    if record.cached:
        return "cached"
    return "over budget" if record.over_budget else "ok"


def _tally(checks) -> str:
    return f"{sum(c.passed for c in checks)}/{len(checks)}"


def budget_rows(run) -> list[tuple[str, str, str, str, str, str]]:
    """(experiment, budget, runtime, status, claims passed/total, sanity checks ok/total) per record; runtime is
    that of the computing run."""
    return [(r.name, f"{r.budget_s:.0f} s", f"{r.runtime_s:.1f} s", _status(r), _tally(r.counted), _tally(r.sanity))
            for r in run.records]


def budget_table_markdown(run) -> str:
    """The docs' budget table (docs/reproduce.md): experiment, title, source, quick budget, measured runtime,
    claims passed, sanity checks ok — one row per record of a fresh (uncached) quick run."""
    lines = ["| experiment | what | source | quick budget | measured | claims passed | sanity checks ok |",
             "|---|---|---|---|---|---|---|"]
    for r in run.records:
        lines.append(f"| `{r.name}` | {r.title} | {r.source} | {r.budget_s:.0f} s | {r.runtime_s:.1f} s | "
                     f"{_tally(r.counted)} | {_tally(r.sanity)} |")
    total = sum(r.budget_s for r in run.records)
    measured = sum(r.runtime_s for r in run.records)
    lines.append(f"| **total** | | | {total:.0f} s | {measured:.1f} s | {_tally(run.claims)} | {_tally(run.sanity)} |")
    return "\n".join(lines)


def _figures(record, suffix: str = ".png") -> list[str]:
    return [f for f in record.files if f.endswith(suffix)]


def _header(run, quick: bool, device: str) -> list[str]:
    n = run.counts
    stamp = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return [f"mode: {'quick' if quick else 'full'} · device: {device} · generated {stamp} · "
            f"wall time {run.wall_s:.1f} s",
            f"**{n['claims']} claims checked: {n['passed']} passed, {n['failed']} failed** "
            f"({n['experiments']} experiments, {n['cached']} from cache, {n.get('stale', 0)} stale, "
            f"{n['errors']} errors); "
            f"{n['sanity']} sanity checks, not counted: {n['sanity_passed']} ok, {n['sanity_failed']} failed"]


_SANITY_INTRO = ("Sanity checks hold by construction (a feasible baseline the optimiser could return, an identity "
                 "of the computation) or have no independent derived value (an arbitrary threshold, a paper's range). "
                 "They guard the code, not the papers' claims, so they are not counted above; a failure here is a bug.")


def _sanity_label(passed: bool) -> str:
    return "ok" if passed else "FAIL"


def _claim_rows(run):
    """(record, claim) of the counted claims in report order (a stale record's are marked in the verdict)."""
    return [(r, c) for r in run.records for c in r.counted]


def _sanity_rows(run):
    return [(r, c) for r in run.records for c in r.sanity]


def _stale_mark(record) -> str:
    return " (stale)" if getattr(record, "stale", "") else ""


def _verdict_of(record, claim) -> str:
    return _verdict(claim.passed) + _stale_mark(record)


def _data_files(record) -> list[str]:
    return [f for f in record.files if not f.endswith((".png", ".pdf"))]


def report_markdown(run, quick: bool = True, device: str = "cpu") -> str:
    """The whole report as Markdown (figures linked relative to the output directory)."""
    lines = ["# LR Workbench — reproduction report", ""]
    lines += [line + "\n" for line in _header(run, quick, device)]
    lines += ["## Experiments and budgets", "", "| experiment | budget (quick) | runtime | status | claims passed | "
              "sanity checks ok |", "|---|---|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in budget_rows(run)]
    lines += ["", "## Verdicts", "", "| experiment | claim | derived | measured | tolerance | verdict | source |",
              "|---|---|---|---|---|---|---|"]
    for r, c in _claim_rows(run):
        lines.append(f"| {c.experiment} | {c.claim} | {c.derived:.4g} | {c.measured:.4g} | {c.tolerance} | "
                     f"{_verdict_of(r, c)} | {c.source} |")
    lines += ["", "## Sanity checks (not counted)", "", _SANITY_INTRO, "",
              "| experiment | sanity check | reference | measured | rule | result | why not a claim |",
              "|---|---|---|---|---|---|---|"]
    for r, c in _sanity_rows(run):
        lines.append(f"| {c.experiment} | {c.claim} | {c.derived:.4g} | {c.measured:.4g} | {c.tolerance} | "
                     f"{_sanity_label(c.passed)}{_stale_mark(r)} | {c.note} |")
    lines.append("")
    lines.append("Derived formulas: [formulas.tex](formulas.tex).")
    for r in run.records:
        lines += ["", f"## {r.name}: {r.title}", "", f"Source: {r.source or '—'} · status: {_status(r)} · "
                  f"runtime {r.runtime_s:.1f} s (budget {r.budget_s:.0f} s)", ""]
        if r.error:
            lines += [f"**Error:** `{r.error}`", ""]
            continue
        if getattr(r, "stale", ""):
            lines += [f"**Stale** (not rerun by this run): {r.stale}.", ""]
        for c in r.counted:
            note = f" — {c.note}" if c.note else ""
            lines.append(f"- {_verdict(c.passed)}: {c.claim}: derived {c.derived:.4g}, measured {c.measured:.4g} "
                         f"(tolerance {c.tolerance}){note}")
        for c in r.sanity:
            note = f" — {c.note}" if c.note else ""
            lines.append(f"- sanity {_sanity_label(c.passed)}: {c.claim}: reference {c.derived:.4g}, measured "
                         f"{c.measured:.4g} (rule {c.tolerance}){note}")
        lines += ["", r.markdown, ""]
        lines += [f"![{Path(f).name}]({f})" for f in _figures(r)]
        data = _data_files(r)
        if data:
            lines += ["", "Data: " + ", ".join(f"[{Path(f).name}]({f})" for f in data)]
    return "\n".join(lines) + "\n"


def markdown_table_html(text: str) -> str:
    """Render an experiment's Markdown summary: pipe tables become ``<table>``, other lines paragraphs (TeX-style
    scripts rendered by :func:`tex_text_html`)."""
    out, table = [], []

    def flush():
        if not table:
            return
        rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in table]
        body = [r for i, r in enumerate(rows) if not (i == 1 and all(set(c) <= set("-: ") for c in r))]
        out.append("<table>")
        out.append("<tr>" + "".join(f"<th>{tex_text_html(c)}</th>" for c in body[0]) + "</tr>")
        out.extend("<tr>" + "".join(f"<td>{tex_text_html(c)}</td>" for c in r) + "</tr>" for r in body[1:])
        out.append("</table>")
        table.clear()

    for line in text.splitlines():
        if line.strip().startswith("|"):
            table.append(line)
            continue
        flush()
        if line.strip():
            out.append(f"<p>{tex_text_html(line.strip())}</p>")
    flush()
    return "\n".join(out)


# ------------------------------------------------------------------------------------------------------------
# mathematics, offline: TeX-style scripts in text -> <sup>/<sub>; a TeX subset -> MathML

_SCRIPT_TAGS = {"^": "sup", "_": "sub"}
_BARE_SUPERSCRIPT = re.compile(r"[-−+]?(?:[0-9]+(?:\.[0-9]+)?|[A-Za-zα-ωΑ-Ω*′]+)")
_FENCES = frozenset("()[]|‖{}")


def _closing_brace(text: str, open_at: int) -> int:
    """Index of the brace closing ``text[open_at]`` (``{``), or -1 when unbalanced."""
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def tex_text_html(text: str) -> str:
    """Escape ``text`` for HTML, rendering its TeX: ``$…$`` spans as MathML (:func:`tex_to_mathml`), ``^{…}`` and
    ``_{…}`` (nested) as ``<sup>``/``<sub>``, and a bare ``^x`` (``T^2``, ``C^-1``) as ``<sup>``. A bare ``_``
    is left alone (``real_curves``, ``plrf_fig2`` are names, not indices)."""
    out, i, n = [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "$":
            end = text.find("$", i + 1)
            if end > i + 1:
                out.append(tex_to_mathml(text[i + 1:end]))
                i = end + 1
                continue
        if ch in _SCRIPT_TAGS and i + 1 < n and i > 0:
            tag = _SCRIPT_TAGS[ch]
            if text[i + 1] == "{":
                end = _closing_brace(text, i + 1)
                if end > 0:
                    out.append(f"<{tag}>{tex_text_html(text[i + 2:end])}</{tag}>")
                    i = end + 1
                    continue
            elif ch == "^":
                m = _BARE_SUPERSCRIPT.match(text, i + 1)
                if m:
                    out.append(f"<sup>{html.escape(m.group())}</sup>")
                    i = m.end()
                    continue
        out.append(html.escape(ch))
        i += 1
    return "".join(out)


_GREEK = {name: chr(code) for name, code in (
    ("alpha", 0x3B1), ("beta", 0x3B2), ("gamma", 0x3B3), ("delta", 0x3B4), ("epsilon", 0x3F5),
    ("varepsilon", 0x3B5), ("zeta", 0x3B6), ("eta", 0x3B7), ("theta", 0x3B8), ("iota", 0x3B9), ("kappa", 0x3BA),
    ("lambda", 0x3BB), ("mu", 0x3BC), ("nu", 0x3BD), ("xi", 0x3BE), ("pi", 0x3C0), ("rho", 0x3C1),
    ("sigma", 0x3C3), ("tau", 0x3C4), ("upsilon", 0x3C5), ("phi", 0x3D5), ("varphi", 0x3C6), ("chi", 0x3C7),
    ("psi", 0x3C8), ("omega", 0x3C9), ("Gamma", 0x393), ("Delta", 0x394), ("Theta", 0x398), ("Lambda", 0x39B),
    ("Xi", 0x39E), ("Pi", 0x3A0), ("Sigma", 0x3A3), ("Phi", 0x3A6), ("Psi", 0x3A8), ("Omega", 0x3A9))}
_OPERATORS = {"asymp": "≍", "propto": "∝", "sim": "∼", "approx": "≈", "le": "≤", "leq": "≤", "ge": "≥",
              "geq": "≥", "ne": "≠", "neq": "≠", "cdot": "⋅", "times": "×", "to": "→", "infty": "∞",
              "partial": "∂", "|": "‖", "Vert": "‖", "mid": "|", "pm": "±", "int": "∫", "sum": "∑",
              "prod": "∏", "ll": "≪", "gg": "≫", "equiv": "≡", "{": "{", "}": "}"}
_FUNCTIONS = ("log", "ln", "exp", "min", "max", "sin", "cos", "tan", "lim", "sup", "inf", "det", "arg")
_SIZERS = ("big", "Big", "bigg", "Bigg", "left", "right", "bigl", "bigr", "Bigl", "Bigr")
_SPACES = {",": "0.17em", ";": "0.28em", ":": "0.22em", "quad": "1em", "qquad": "2em", "!": "0em", " ": "0.28em"}
_TOKEN = re.compile(r"\\([A-Za-z]+|.)|([0-9]+(?:\.[0-9]+)?)|(\s+)|(.)", re.S)


def tex_to_mathml(tex: str, display: bool = False) -> str:
    """A TeX subset as a ``<math>`` element (MathML Core, rendered natively by browsers, offline): letters,
    numbers, ``^``/``_`` scripts, groups, ``\\frac``/``\\tfrac``, ``\\sqrt``, ``\\mathrm``/``\\text``/
    ``\\mathcal``/``\\mathbf``, Greek letters, relations and operators, ``\\log``-style functions, spacing.
    An unknown command is kept as text (``\\name``), never dropped."""
    tokens = [(m.group(1), m.group(2), m.group(3), m.group(4)) for m in _TOKEN.finditer(tex)]
    tokens = [t for t in tokens if t[2] is None]  # TeX ignores spaces in math
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take():
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def group_text() -> str:
        """The raw text of a ``{…}`` argument (for \\mathrm and \\text)."""
        if peek() is None or peek()[3] != "{":
            tok = take() if peek() is not None else (None, None, None, "")
            return tok[0] or tok[1] or tok[3] or ""
        take()
        depth, parts = 1, []
        while peek() is not None:
            cmd, num, _, ch = take()
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    break
            if cmd:
                parts.append(" " if cmd in _SPACES else "\\" + cmd)
            else:
                parts.append(num or ch)
        return "".join(parts)

    def argument() -> str:
        if peek() is not None and peek()[3] == "{":
            take()
            return f"<mrow>{sequence('}')}</mrow>"
        return atom() or "<mrow></mrow>"

    def atom() -> str | None:
        tok = peek()
        if tok is None:
            return None
        cmd, num, _, ch = take()
        e = html.escape
        if num is not None:
            return f"<mn>{num}</mn>"
        if ch is not None:
            if ch == "{":
                return f"<mrow>{sequence('}')}</mrow>"
            if ch.isalpha():
                return f"<mi>{e(ch)}</mi>"
            if ch == "'":
                return "<mo>′</mo>"
            return _mo({"-": "−", "*": "∗"}.get(ch, ch))
        if cmd in _GREEK:
            return f"<mi>{_GREEK[cmd]}</mi>"
        if cmd in _OPERATORS:
            return _mo(_OPERATORS[cmd])
        if cmd in _FUNCTIONS:
            return f"<mi mathvariant='normal'>{cmd}</mi>"
        if cmd in _SPACES:
            return f"<mspace width='{_SPACES[cmd]}'></mspace>"
        if cmd in _SIZERS:
            nxt = take() if peek() is not None else (None, None, None, "")
            sym = _OPERATORS.get(nxt[0], nxt[0]) if nxt[0] else nxt[3]
            return _mo(sym) if sym not in ("", ".") else ""
        if cmd in ("frac", "tfrac", "dfrac"):
            return f"<mfrac>{argument()}{argument()}</mfrac>"
        if cmd == "sqrt":
            return f"<msqrt>{argument()}</msqrt>"
        if cmd in ("mathrm", "text", "operatorname", "textrm"):
            return f"<mi mathvariant='normal'>{e(group_text())}</mi>"
        if cmd in ("mathcal", "mathscr"):  # MathML Core renders script letters from their Unicode code points
            return f"<mi>{e(''.join(_script_letter(c) for c in group_text()))}</mi>"
        if cmd in ("mathbf", "boldsymbol"):
            return f"<mi mathvariant='bold'>{e(group_text())}</mi>"
        if cmd in ("mathbb",):
            return f"<mi mathvariant='double-struck'>{e(group_text())}</mi>"
        return f"<mtext>\\{e(cmd)}</mtext>"

    def sequence(stop: str | None) -> str:
        parts = []
        while peek() is not None:
            if stop is not None and peek()[3] == stop:
                take()
                break
            if peek()[3] in ("^", "_"):  # a script with no base
                base = "<mrow></mrow>"
            else:
                base = atom()
                if base is None:
                    break
            sub = sup = None
            while peek() is not None and peek()[3] in ("^", "_"):
                which = take()[3]
                if which == "^":
                    sup = argument()
                else:
                    sub = argument()
            if sub is not None and sup is not None:
                base = f"<msubsup>{base}{sub}{sup}</msubsup>"
            elif sup is not None:
                base = f"<msup>{base}{sup}</msup>"
            elif sub is not None:
                base = f"<msub>{base}{sub}</msub>"
            parts.append(base)
        return "".join(parts)

    body = sequence(None)
    mode = " display='block'" if display else ""
    return f"<math{mode}><mrow>{body}</mrow></math>"


_SCRIPT_EXCEPTIONS = {"B": "ℬ", "E": "ℰ", "F": "ℱ", "H": "ℋ", "I": "ℐ", "L": "ℒ", "M": "ℳ", "R": "ℛ"}


def _script_letter(c: str) -> str:
    """𝒜 for A: Unicode's mathematical script capitals (the few that live elsewhere from the letterlike block)."""
    if "A" <= c <= "Z":
        return _SCRIPT_EXCEPTIONS.get(c, chr(0x1D49C + ord(c) - ord("A")))
    return c


def _mo(symbol: str) -> str:
    # fences keep their text size: TeX's ( ) | ‖ do not grow (only \\left/\\right would, which we do not model)
    fixed = " stretchy='false'" if symbol in _FENCES else ""
    return f"<mo{fixed}>{html.escape(symbol)}</mo>"


def formula_entries(results) -> list[dict]:
    """Each derived result (``lrwb.theory.results``) as name, description, regime, source and a MathML formula:
    left-hand side and relation by :func:`tex_to_mathml`, the expression by SymPy's presentation MathML printer."""
    from sympy.printing.mathml import mathml

    out = []
    for r in results:
        lhs = tex_to_mathml(f"{r.lhs} {r.relation}")
        rhs = mathml(r.expr, printer="presentation")
        inner = lhs.removeprefix("<math><mrow>").removesuffix("</mrow></math>")
        out.append({"name": r.name, "description": r.description, "regime": r.regime.label, "source": r.source,
                    "mathml": f"<math display='block'><mrow>{inner}{rhs}</mrow></math>"})
    return out


_STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:0.9em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f3f3f3}.pass,.ok{color:#17702a;font-weight:600}.FAIL,.error{color:#b00020;font-weight:700}
.stale{color:#8a5a00;font-weight:600}math{font-size:1.05em}dd{margin:0.2em 0 1em 1.5em}
img{max-width:100%;border:1px solid #eee;margin:0.5em 0}code{background:#f6f6f6;padding:1px 4px}"""


def _png_data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _formulas_html(out_dir: Path) -> list[str]:
    """The "Derived formulas" section from ``formulas_mathml.json`` (written with formulas.tex), if present."""
    path = Path(out_dir) / "formulas_mathml.json"
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return ["<p>Derived formulas: <a href='formulas.tex'>formulas.tex</a></p>"]
    e = html.escape
    parts = [f"<h2 id='formulas'>Derived formulas ({len(entries)})</h2>",
             "<p>As LaTeX: <a href='formulas.tex'>formulas.tex</a>.</p><dl>"]
    for entry in entries:
        if not (isinstance(entry, dict) and all(isinstance(entry.get(k), str) for k in
                                                 ("name", "description", "regime", "source", "mathml"))):
            continue
        mathml = entry["mathml"]
        if not mathml.startswith("<math") or re.search(r"<\s*/?\s*(script|style|iframe|a|img|object)\b|\son\w+\s*=",
                                                      mathml, re.I):
            continue  # only MathML goes in raw
        parts.append(f"<dt id='formula-{e(entry['name'])}'><code>{e(entry['name'])}</code> — "
                     f"{tex_text_html(entry['description'])}</dt><dd>{mathml}<br><small>regime: {e(entry['regime'])}"
                     f" · source: {tex_text_html(entry['source'])}</small></dd>")
    parts.append("</dl>")
    return parts


def report_html(run, quick: bool = True, device: str = "cpu") -> str:
    """The whole report as one self-contained HTML page (PNG figures embedded, mathematics as MathML and
    ``<sup>``/``<sub>``, links to every data file and to formulas.tex)."""
    e, t = html.escape, tex_text_html
    header = _header(run, quick, device)
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>LR Workbench — reproduction report</title>",
             f"<style>{_STYLE}</style></head><body>", "<h1>LR Workbench — reproduction report</h1>",
             f"<p>{e(header[0])}</p>", f"<p><strong>{e(header[1].replace('**', ''))}</strong></p>",
             "<h2>Experiments and budgets</h2><table><tr><th>experiment</th><th>budget (quick)</th><th>runtime</th>"
             "<th>status</th><th>claims passed</th><th>sanity checks ok</th></tr>"]
    for row in budget_rows(run):
        cells = f"<td><a href='#{e(row[0])}'>{e(row[0])}</a></td>" + "".join(f"<td>{e(c)}</td>" for c in row[1:3])
        cells += f"<td class='{e(row[3].split()[0])}'>{e(row[3])}</td><td>{e(row[4])}</td><td>{e(row[5])}</td>"
        parts.append(f"<tr>{cells}</tr>")
    parts.append("</table><h2>Verdicts</h2><table><tr><th>experiment</th><th>claim</th><th>derived</th>"
                 "<th>measured</th><th>tolerance</th><th>verdict</th><th>source</th></tr>")
    for r, c in _claim_rows(run):
        v = _verdict(c.passed)
        css = "stale" if getattr(r, "stale", "") else v
        parts.append(f"<tr><td>{e(c.experiment)}</td><td>{t(c.claim)}</td><td>{c.derived:.4g}</td>"
                     f"<td>{c.measured:.4g}</td><td>{e(c.tolerance)}</td><td class='{css}'>{e(_verdict_of(r, c))}</td>"
                     f"<td>{t(c.source)}</td></tr>")
    parts.append("</table><h2>Sanity checks (not counted)</h2>")
    parts.append(f"<p>{e(_SANITY_INTRO)}</p><table><tr><th>experiment</th><th>sanity check</th><th>reference</th>"
                 "<th>measured</th><th>rule</th><th>result</th><th>why not a claim</th></tr>")
    for r, c in _sanity_rows(run):
        v = _sanity_label(c.passed)
        css = "stale" if getattr(r, "stale", "") else v
        parts.append(f"<tr><td>{e(c.experiment)}</td><td>{t(c.claim)}</td><td>{c.derived:.4g}</td>"
                     f"<td>{c.measured:.4g}</td><td>{e(c.tolerance)}</td><td class='{css}'>{v}{_stale_mark(r)}</td>"
                     f"<td>{t(c.note)}</td></tr>")
    parts.append("</table>")
    parts += _formulas_html(run.out_dir)
    for r in run.records:
        parts.append(f"<h2 id='{e(r.name)}'>{e(r.name)}: {t(r.title)}</h2>")
        parts.append(f"<p>Source: {t(r.source or '—')} · status: {e(_status(r))} · runtime {r.runtime_s:.1f} s "
                     f"(budget {r.budget_s:.0f} s)</p>")
        if r.error:
            parts.append(f"<p class='error'>Error: <code>{e(r.error)}</code></p>")
            continue
        if getattr(r, "stale", ""):
            parts.append(f"<p class='stale'>Stale (not rerun by this run): {e(r.stale)}.</p>")
        parts.append("<ul>")
        for c in r.counted:
            note = f" — {t(c.note)}" if c.note else ""
            v = _verdict(c.passed)
            parts.append(f"<li><span class='{v}'>{v}</span>: {t(c.claim)}: derived {c.derived:.4g}, measured "
                         f"{c.measured:.4g} (tolerance {e(c.tolerance)}){note}</li>")
        for c in r.sanity:
            note = f" — {t(c.note)}" if c.note else ""
            v = _sanity_label(c.passed)
            parts.append(f"<li>sanity <span class='{v}'>{v}</span>: {t(c.claim)}: reference {c.derived:.4g}, "
                         f"measured {c.measured:.4g} (rule {e(c.tolerance)}){note}</li>")
        parts.append("</ul>")
        parts.append(markdown_table_html(r.markdown))
        for f in _figures(r):
            path = run.out_dir / f
            if path.is_file():
                parts.append(f"<figure><img alt='{e(path.name)}' src='{_png_data_uri(path)}'>"
                             f"<figcaption>{e(f)} (<a href='{e(f[:-4])}.pdf'>PDF</a> beside it)</figcaption></figure>")
        data = _data_files(r)
        if data:
            parts.append("<p>Data: " + ", ".join(f"<a href='{e(f)}'>{e(Path(f).name)}</a>" for f in data) + "</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_reports(run, quick: bool = True, device: str = "cpu") -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` into ``run.out_dir`` (atomically); return their paths."""
    md, page = run.out_dir / "report.md", run.out_dir / "report.html"
    with atomic_write(md) as handle:
        handle.write(report_markdown(run, quick, device))
    with atomic_write(page) as handle:
        handle.write(report_html(run, quick, device))
    return md, page
