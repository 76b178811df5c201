"""``lrwb formulas``: list every derived result; export LaTeX / Markdown / JSON (with ``--eval``)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter

from lrwb.app.cli.common import check_output
from lrwb.numerics.io import atomic_write


def parse_eval(text: str) -> dict[str, float]:
    """``a=2.7,b=1.6,batch=5`` -> {"a": 2.7, "b": 1.6, "batch": 5.0} (values validated later by theory)."""
    import math

    point: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--eval item {item!r} is not of the form NAME=VALUE (e.g. a=3.5,b=2,batch=5)")
        key = key.strip()
        if key in point:
            raise ValueError(f"--eval gives {key!r} twice ({key}={point[key]:g} and {key}={value.strip()}); "
                             "give each name once")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"--eval value {value!r} for {key!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"--eval value {value.strip()!r} for {key!r} must be a finite number")
        point[key] = number
    if not point:
        raise ValueError(f"--eval {text!r} gives no NAME=VALUE pair (e.g. a=3.5,b=2,batch=5)")
    return point


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "formulas",
        help="list the derived results; export them to LaTeX, Markdown or JSON",
        description="Every result derived by theory/ (SymPy): name, regime and formula. "
        "Exports a compilable LaTeX file, a Markdown table and JSON (optionally evaluated at a point).",
    )
    p.add_argument("--latex", metavar="FILE", help="write a compilable LaTeX document (one labelled equation per result)")
    p.add_argument("--markdown", metavar="FILE", help="write a Markdown table")
    p.add_argument("--json", metavar="FILE", help="write JSON records (name, regime, source, LaTeX, …)")
    p.add_argument("--eval", metavar="a=…,b=…", help="evaluate every applicable result at these parameters "
                   "(a, b, s, beta, sigma, batch, steps, features; PLRF or FSL exponents) for --json and the listing")
    p.add_argument("--only", metavar="NAME[,NAME]", help="restrict to these result names")
    p.add_argument("--quiet", action="store_true", help="do not print the listing")
    p.set_defaults(func=run)


def select_results(only: str | None):
    from lrwb.theory.results import registry

    reg = registry()
    if only is None:
        return list(reg)
    names = [name.strip() for name in only.split(",") if name.strip()]
    if not names:
        raise ValueError(f"--only {only!r} names no result; expected NAME[,NAME] (see lrwb formulas for the names)")
    return [reg.get(name) for name in dict.fromkeys(names)]


def coverage_warning(records: list[dict], point: dict[str, float]) -> str | None:
    """One line when --eval evaluated only some results: how many, and which values the others need."""
    skipped = [r for r in records if not r["applicable"]]
    if not skipped:
        return None
    missing: Counter = Counter()
    outside = 0
    for r in skipped:
        match = re.search(r"needs values for (.+)$", r.get("reason", ""))
        if match:
            missing.update(name.strip() for name in match.group(1).split(","))
        else:
            outside += 1
    given = ",".join(f"{k}={v:g}" for k, v in point.items())
    parts = []
    if missing:
        parts.append("missing values: " + ", ".join(f"{name} (needed by {n})" for name, n in missing.most_common()))
    if outside:
        parts.append(f"{outside} outside their regime or not finite here")
    return (f"evaluated {len(records) - len(skipped)} of {len(records)} results at {given}; "
            f"{len(skipped)} not evaluated: " + "; ".join(parts))


def run(args: argparse.Namespace) -> int:
    from lrwb.theory import export

    for flag, target in (("--latex", args.latex), ("--markdown", args.markdown), ("--json", args.json)):
        if target is not None:
            check_output(target, flag)
    results = select_results(args.only)
    point = parse_eval(args.eval) if args.eval is not None else None
    records = export.json_records(results, point) if point is not None else None
    if records is not None:
        warning = coverage_warning(records, point)
        if warning:
            print(f"lrwb formulas: warning: {warning}", file=sys.stderr)

    if not args.quiet:
        if point is not None:
            derived = export.evaluation_parameters(point)
            print("point: " + ", ".join(f"{name}={value:g}" for name, value in derived.items()))
        for i, result in enumerate(results):
            line = f"{result.name:<40} [{result.regime.label}]  {result.lhs} {result.relation} {result.expr}"
            if records is not None:
                rec = records[i]
                line += f"   = {rec['value']:.6g}" if rec["applicable"] else "   (not applicable here)"
                laws = [_power_law_text(law) for law in rec["power_laws"] if law["exponent_value"] is not None]
                if laws:
                    line += "   [" + "; ".join(laws) + "]"
            print(line)
        print(f"{len(results)} results")

    if args.latex:
        with atomic_write(args.latex) as fh:
            fh.write(export.latex_document(results))
    if args.markdown:
        with atomic_write(args.markdown) as fh:
            fh.write(export.markdown_table(results))
    if args.json:
        payload = {"point": point, "results": records if records is not None else export.json_records(results)}
        if point is not None:
            payload["parameters"] = export.evaluation_parameters(point)  # a, b and the FSL s, beta, …
        with atomic_write(args.json) as fh:
            json.dump(payload, fh, indent=2)
            fh.write("\n")
    return 0


def _power_law_text(law: dict) -> str:
    """``T^-0.5556`` or ``C^-0.2667 (log C)^1``: one evaluated power law for the listing."""
    variable = law["variable"]
    base = f"({variable})" if " " in variable else variable
    text = f"{base}^{law['exponent_value']:.4g}"
    if law["log_power_value"]:
        text += f" (log {base})^{law['log_power_value']:.4g}"
    return text
