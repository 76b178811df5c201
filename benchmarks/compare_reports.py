"""Compare two `lrwb reproduce` output folders: every check (derived, measured, verdict, tolerance) and every
CSV beyond its wall-time columns. Usage: python benchmarks/compare_reports.py BEFORE AFTER (used for #13)."""
import json, sys, pathlib, hashlib
a, b = map(pathlib.Path, sys.argv[1:3])
same = diff = 0
timing_only = []
TIMING = {'seconds', 'runtime_s', 'fit_time_s'}
import csv
def _rows(path):
    rows = [r for r in csv.reader(l for l in open(path) if not l.startswith('#'))]
    keep = [i for i, h in enumerate(rows[0]) if h not in TIMING]
    return [[r[i] for i in keep if i < len(r)] for r in rows]
lines = []
for ma in sorted(a.glob('*/manifest.json')):
    name = ma.parent.name
    mb = b / name / 'manifest.json'
    if not mb.is_file():
        lines.append(f'{name}: missing in {b}'); diff += 1; continue
    ca = json.load(open(ma))['claims']; cb = json.load(open(mb))['claims']
    if len(ca) != len(cb):
        lines.append(f'{name}: {len(ca)} vs {len(cb)} checks'); diff += 1
    for x, y in zip(ca, cb):
        kx = (x['claim'], x['derived'], x['measured'], x['passed'], x['tol'], x.get('category'))
        ky = (y['claim'], y['derived'], y['measured'], y['passed'], y['tol'], y.get('category'))
        if kx == ky:
            same += 1
        else:
            diff += 1; lines.append(f'{name}: {kx} != {ky}')
    fa = json.load(open(ma))['files']; fb = json.load(open(mb))['files']
    for f in sorted(set(fa) | set(fb)):
        if f.endswith('.csv') and fa.get(f) != fb.get(f):
            if _rows(a / f) != _rows(b / f):
                lines.append(f'{name}: {f} differs (beyond the timing columns)')
            else:
                timing_only.append(f)
csv_diff = sum('differs' in l for l in lines)
print(f'checks identical: {same}, different: {diff}; CSV files that differ: {csv_diff}; '
      f'differ only in timing columns {sorted(TIMING)}: {len(timing_only)}')
print('\n'.join(lines[:60]))
