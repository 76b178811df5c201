"""``lrwb reproduce``: every registered experiment, its claims checked, one report (the README's main job)."""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "reproduce",
        help="run every experiment (figures, tables, verdicts) and write report.md / report.html",
        description="Run the registered experiments (PLRF and FSL figures and tables, real-curve fits), each "
        "writing its data, figures and a verdict per claim (derived vs measured, with the tolerance), then write "
        "DIR/report.md, DIR/report.html (figures inline) and DIR/formulas.tex. Finished experiments are cached "
        "by a hash of their parameters and code (each file's SHA-256 checked on reuse), so a second run only "
        "rebuilds the report; the report covers every experiment in DIR (those not rerun marked stale when their "
        "code changed). One run at a time per DIR: a second one exits with status 2 and says so.",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="quick", action="store_true", default=True,
                      help="CI-sized horizons: the whole run within 10 minutes on 2 CPU cores (default)")
    mode.add_argument("--full", dest="quick", action="store_false",
                      help="paper-scale horizons and sizes (long; use --device cuda where available)")
    p.add_argument("--only", metavar="NAME[,NAME]", help="run only these experiments (see --list)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                   help="device for the torch simulations (default cpu)")
    p.add_argument("--out", metavar="DIR", default="results", help="output directory (default results/)")
    p.add_argument("--force", action="store_true", help="recompute even experiments with a valid cached result")
    p.add_argument("--list", action="store_true", help="list the experiments with their budgets and exit")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bars (there are none when stderr is not a terminal: one line per experiment)")
    p.add_argument("--strict", action="store_true",
                   help="exit with status 1 when a claim or a sanity check fails (errors always do)")
    p.set_defaults(func=run)


def _print_record(record) -> None:
    if record.error:
        state = f"ERROR {record.error}"
    else:
        claims, sanity = record.counted, record.sanity
        state = f"{sum(c.passed for c in claims)}/{len(claims)} claims passed"
        if sanity:
            state += f", {sum(c.passed for c in sanity)}/{len(sanity)} sanity ok"
    origin = "cached" if record.cached else f"{record.runtime_s:.1f} s (budget {record.budget_s:.0f} s)"
    line = f"{record.name:<18} {state:<44} {origin}"
    if sys.stderr.isatty():
        from tqdm.auto import tqdm

        tqdm.write(line, file=sys.stderr)  # keeps the line clear of the progress bars
    else:  # a log: one plain line per experiment, no bars, no escape codes
        print(line, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from lrwb import experiments
    from lrwb.app.cli.common import check_output
    from lrwb.app.reproduce import reproduce, select_experiments

    if args.list:
        for name in experiments.names():
            entry = experiments.spec(name)
            print(f"{name:<18} {entry.budget_s:>4.0f} s  {entry.title} ({entry.source})")
        return 0
    select_experiments(args.only)  # unknown or empty --only fails here, before the output folder is made
    check_output(args.out, "--out", kind="dir")
    outcome = reproduce(args.out, quick=args.quick, only=args.only, device=args.device, force=args.force,
                        progress=args.progress, on_record=_print_record)
    failed = [c for c in outcome.claims if not c.passed]
    for c in failed:
        print(f"FAIL {c.experiment}: {c.claim}: derived {c.derived:.4g}, measured {c.measured:.4g} "
              f"(tolerance {c.tolerance})", file=sys.stderr)
    insane = [c for c in outcome.sanity if not c.passed]
    for c in insane:  # holds by construction, so a failure is a bug in the code, not a finding about a paper
        print(f"SANITY FAIL {c.experiment}: {c.claim}: reference {c.derived:.4g}, measured {c.measured:.4g} "
              f"(rule {c.tolerance})", file=sys.stderr)
    print(outcome.summary())
    print(f"report: {outcome.out_dir / 'report.html'}")
    errors = outcome.counts["errors"]
    return 1 if errors or (args.strict and (failed or insane)) else 0
