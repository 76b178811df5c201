"""The reproduce report: ``report.md`` and a self-contained ``report.html`` (figures inline) from a run's records.

Both are built from the same structured records (claims, files, runtimes), not one from the other: the HTML
embeds each PNG as a data URI so the file can be mailed or opened anywhere.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
from pathlib import Path

from numerics.io import atomic_write

__all__ = ["write_reports", "report_markdown", "report_html", "budget_rows", "budget_table_markdown",
           "markdown_table_html"]


def _verdict(passed: bool) -> str:
    return "pass" if passed else "FAIL"


def _status(record) -> str:
    if record.error:
        return "error"
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
            f"({n['experiments']} experiments, {n['cached']} from cache, {n['errors']} errors); "
            f"{n['sanity']} sanity checks, not counted: {n['sanity_passed']} ok, {n['sanity_failed']} failed"]


_SANITY_INTRO = ("Sanity checks hold by construction (a feasible baseline the optimiser could return, an identity "
                 "of the computation) or have no independent derived value (an arbitrary threshold, a paper's range). "
                 "They guard the code, not the papers' claims, so they are not counted above; a failure here is a bug.")


def _sanity_label(passed: bool) -> str:
    return "ok" if passed else "FAIL"


def report_markdown(run, quick: bool = True, device: str = "cpu") -> str:
    """The whole report as Markdown (figures linked relative to the output directory)."""
    lines = ["# LR Workbench — reproduction report", ""]
    lines += [line + "\n" for line in _header(run, quick, device)]
    lines += ["## Experiments and budgets", "", "| experiment | budget (quick) | runtime | status | claims passed | "
              "sanity checks ok |", "|---|---|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in budget_rows(run)]
    lines += ["", "## Verdicts", "", "| experiment | claim | derived | measured | tolerance | verdict | source |",
              "|---|---|---|---|---|---|---|"]
    for c in run.claims:
        lines.append(f"| {c.experiment} | {c.claim} | {c.derived:.4g} | {c.measured:.4g} | {c.tolerance} | "
                     f"{_verdict(c.passed)} | {c.source} |")
    lines += ["", "## Sanity checks (not counted)", "", _SANITY_INTRO, "",
              "| experiment | sanity check | reference | measured | rule | result | why not a claim |",
              "|---|---|---|---|---|---|---|"]
    for c in run.sanity:
        lines.append(f"| {c.experiment} | {c.claim} | {c.derived:.4g} | {c.measured:.4g} | {c.tolerance} | "
                     f"{_sanity_label(c.passed)} | {c.note} |")
    lines.append("")
    lines.append("Derived formulas: [formulas.tex](formulas.tex).")
    for r in run.records:
        lines += ["", f"## {r.name}: {r.title}", "", f"Source: {r.source or '—'} · status: {_status(r)} · "
                  f"runtime {r.runtime_s:.1f} s (budget {r.budget_s:.0f} s)", ""]
        if r.error:
            lines += [f"**Error:** `{r.error}`", ""]
            continue
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
        data = [f for f in r.files if not f.endswith((".png", ".pdf"))]
        if data:
            lines += ["", "Data: " + ", ".join(f"[{Path(f).name}]({f})" for f in data)]
    return "\n".join(lines) + "\n"


def markdown_table_html(text: str) -> str:
    """Render an experiment's Markdown summary: pipe tables become ``<table>``, other lines paragraphs."""
    out, table = [], []

    def flush():
        if not table:
            return
        rows = [[html.escape(cell.strip()) for cell in line.strip().strip("|").split("|")] for line in table]
        body = [r for i, r in enumerate(rows) if not (i == 1 and all(set(c) <= set("-: ") for c in r))]
        out.append("<table>")
        out.append("<tr>" + "".join(f"<th>{c}</th>" for c in body[0]) + "</tr>")
        out.extend("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in body[1:])
        out.append("</table>")
        table.clear()

    for line in text.splitlines():
        if line.strip().startswith("|"):
            table.append(line)
            continue
        flush()
        if line.strip():
            out.append(f"<p>{html.escape(line.strip())}</p>")
    flush()
    return "\n".join(out)


_STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:0.9em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f3f3f3}.pass,.ok{color:#17702a;font-weight:600}.FAIL,.error{color:#b00020;font-weight:700}
img{max-width:100%;border:1px solid #eee;margin:0.5em 0}code{background:#f6f6f6;padding:1px 4px}"""


def _png_data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def report_html(run, quick: bool = True, device: str = "cpu") -> str:
    """The whole report as one self-contained HTML page (PNG figures embedded)."""
    e = html.escape
    header = _header(run, quick, device)
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>LR Workbench — reproduction report</title>",
             f"<style>{_STYLE}</style></head><body>", "<h1>LR Workbench — reproduction report</h1>",
             f"<p>{e(header[0])}</p>", f"<p><strong>{e(header[1].replace('**', ''))}</strong></p>",
             "<h2>Experiments and budgets</h2><table><tr><th>experiment</th><th>budget (quick)</th><th>runtime</th>"
             "<th>status</th><th>claims passed</th><th>sanity checks ok</th></tr>"]
    for row in budget_rows(run):
        cells = "".join(f"<td>{e(c)}</td>" for c in row[:3])
        cells += f"<td class='{e(row[3].split()[0])}'>{e(row[3])}</td><td>{e(row[4])}</td><td>{e(row[5])}</td>"
        parts.append(f"<tr>{cells}</tr>")
    parts.append("</table><h2>Verdicts</h2><table><tr><th>experiment</th><th>claim</th><th>derived</th>"
                 "<th>measured</th><th>tolerance</th><th>verdict</th><th>source</th></tr>")
    for c in run.claims:
        v = _verdict(c.passed)
        parts.append(f"<tr><td>{e(c.experiment)}</td><td>{e(c.claim)}</td><td>{c.derived:.4g}</td>"
                     f"<td>{c.measured:.4g}</td><td>{e(c.tolerance)}</td><td class='{v}'>{v}</td>"
                     f"<td>{e(c.source)}</td></tr>")
    parts.append("</table><h2>Sanity checks (not counted)</h2>")
    parts.append(f"<p>{e(_SANITY_INTRO)}</p><table><tr><th>experiment</th><th>sanity check</th><th>reference</th>"
                 "<th>measured</th><th>rule</th><th>result</th><th>why not a claim</th></tr>")
    for c in run.sanity:
        v = _sanity_label(c.passed)
        parts.append(f"<tr><td>{e(c.experiment)}</td><td>{e(c.claim)}</td><td>{c.derived:.4g}</td>"
                     f"<td>{c.measured:.4g}</td><td>{e(c.tolerance)}</td><td class='{v}'>{v}</td>"
                     f"<td>{e(c.note)}</td></tr>")
    parts.append("</table><p>Derived formulas: <a href='formulas.tex'>formulas.tex</a></p>")
    for r in run.records:
        parts.append(f"<h2 id='{e(r.name)}'>{e(r.name)}: {e(r.title)}</h2>")
        parts.append(f"<p>Source: {e(r.source or '—')} · status: {e(_status(r))} · runtime {r.runtime_s:.1f} s "
                     f"(budget {r.budget_s:.0f} s)</p>")
        if r.error:
            parts.append(f"<p class='error'>Error: <code>{e(r.error)}</code></p>")
            continue
        parts.append("<ul>")
        for c in r.counted:
            note = f" — {e(c.note)}" if c.note else ""
            v = _verdict(c.passed)
            parts.append(f"<li><span class='{v}'>{v}</span>: {e(c.claim)}: derived {c.derived:.4g}, measured "
                         f"{c.measured:.4g} (tolerance {e(c.tolerance)}){note}</li>")
        for c in r.sanity:
            note = f" — {e(c.note)}" if c.note else ""
            v = _sanity_label(c.passed)
            parts.append(f"<li>sanity <span class='{v}'>{v}</span>: {e(c.claim)}: reference {c.derived:.4g}, "
                         f"measured {c.measured:.4g} (rule {e(c.tolerance)}){note}</li>")
        parts.append("</ul>")
        parts.append(markdown_table_html(r.markdown))
        for f in _figures(r):
            path = run.out_dir / f
            if path.is_file():
                parts.append(f"<figure><img alt='{e(path.name)}' src='{_png_data_uri(path)}'>"
                             f"<figcaption>{e(f)} (PDF beside it)</figcaption></figure>")
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
