"""``geomcheck scan MODEL --directions SPEC [--bases SPEC] --out DIR …``: a resumable scan on Dask.

Rows (layer × base × direction × path kind) get the batch float estimate;
rows chosen by ``--exact`` get the exact analysis through the verdict gate.
Results go to a Parquet dataset in ``--out`` (hive-partitioned by layer),
written partition by partition; rerunning the command resumes. Logic in
:mod:`geomcheck.studies.scan`.
"""

from __future__ import annotations

import sys

from geomcheck.cli.common import add_json_flag, emit
from geomcheck.errors import InvalidInput

SPEC_HELP = "@FILE.npy (one vector a row), neurons, random:K[@SEED], tokens:FILE (real models), sae:PATH"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "scan", help="scan layers × bases × directions × path kinds on Dask into a resumable Parquet dataset")
    p.add_argument("model", metavar="MODEL",
                   help="minilm (all layers), FILE.safetensors, a spec with {layer} "
                        "(toy:random?d=8&n=32&seed={layer}), or one block (toy:circle3, minilm:3, a .json)")
    p.add_argument("--directions", required=True, metavar="SPEC", help=f"direction vectors: {SPEC_HELP}")
    p.add_argument("--bases", metavar="SPEC", help=f"base vectors x of x + λ·d and of arcs: {SPEC_HELP}")
    p.add_argument("--tokens", metavar="FILE", help="shorthand for --bases tokens:FILE")
    p.add_argument("--layers", metavar="L", help="0-5, 0,2,4 or all (default: all layers the model has)")
    p.add_argument("--paths", metavar="KINDS", default=None,
                   help="comma-separated: rays, superposition, arcs (default: superposition with bases, else rays)")
    p.add_argument("--out", required=True, metavar="DIR", help="the Parquet dataset's folder (resumed if it exists)")
    p.add_argument("--exact", default="none", metavar="RULE",
                   help="rows that get the exact, checker-backed analysis: none (default), all, sample:K "
                        "(per layer and kind), top:K (per partition, most estimated flips), where:EXPR "
                        "(e.g. 'flips_estimate > 3')")
    p.add_argument("--chunk", type=int, default=1024, metavar="ROWS", help="rows per partition and Dask task (1024)")
    p.add_argument("--seed", type=int, default=0, help="seed of --exact sample:K (0)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="worker processes of the LocalCluster started for the run (default: one per core; "
                        "0: no Dask, in this process)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on an existing Dask cluster (tcp://host:8786)")
    resume = p.add_mutually_exclusive_group()
    resume.add_argument("--resume", dest="resume", action="store_true", default=True,
                        help="skip partitions already written for the same inputs (default)")
    resume.add_argument("--no-resume", dest="resume", action="store_false", help="recompute every partition")
    p.add_argument("--overwrite", action="store_true", help="replace a scan of other inputs in --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_json_flag(p)
    p.set_defaults(run=run)


def _fmt(x, spec=".3g") -> str:
    return "-" if x is None else format(x, spec)


def _human(p: dict) -> str:
    parts = p["partitions"]
    lines = [f"geomcheck scan: {p['model']} → {p['out']}  ({p['rows']} rows; partitions: {parts['computed']} computed, "
             f"{parts['skipped']} resumed, {parts['total']} in all)",
             f"exact rule {p['exact_rule']}; workers {p['workers']}; {p['elapsed_s']:.1f} s", "",
             f"{'layer':>5} {'kind':<14}{'rows':>8}{'flips min':>10}{'median':>8}{'max':>6}{'no flip':>9}"
             f"{'first λ med':>12}{'crit. norm max':>15}{'exact':>7}{'= est.':>7}  status"]
    for s in p["summary"]:
        f = s["flips_estimate"]
        status = ", ".join(f"{k} {v}" for k, v in sorted(s["status"].items()))
        lines.append(f"{s['layer']:>5} {s['kind']:<14}{s['rows']:>8}{_fmt(f.get('min'), '.0f'):>10}"
                     f"{_fmt(f.get('median'), '.0f'):>8}{_fmt(f.get('max'), '.0f'):>6}{s['rows_without_flip']:>9}"
                     f"{_fmt(s['first_flip_estimate'].get('median')):>12}{_fmt(s['critical_norm_estimate'].get('max')):>15}"
                     f"{s['exact_rows']:>7}{s['exact_agrees_with_estimate']:>7}  {status}")
    lines += ["", "flips are neuron zeros along the path (float estimate); exact rows went through the trusted checker, "
              "and their status is the gate's. Read the rows with geomcheck.studies.store.read_scan(DIR) or any "
              "Parquet reader (hive partitioning: layer=L)."]
    return "\n".join(lines)


def run(args) -> int:
    from geomcheck.studies.scan import ScanConfig, run_scan, summarise

    if args.tokens and args.bases:
        raise InvalidInput("--tokens FILE is --bases tokens:FILE; give one of them")
    bases = f"tokens:{args.tokens}" if args.tokens else args.bases
    if args.paths is None:
        paths = ("superposition",) if bases else ("rays",)
    else:
        paths = tuple(p.strip() for p in args.paths.split(",") if p.strip())
    if args.workers is not None and args.workers < 0:
        raise InvalidInput(f"--workers: must be ≥ 0, got {args.workers}")
    if args.workers is not None and args.scheduler:
        raise InvalidInput("--workers sizes the LocalCluster; with --scheduler the cluster is already sized")
    interactive = not args.json and not args.no_progress and sys.stdout.isatty()
    config = ScanConfig(model=args.model, directions=args.directions, bases=bases, layers=args.layers, paths=paths,
                        out=args.out, exact=args.exact, chunk=args.chunk, seed=args.seed, workers=args.workers,
                        scheduler=args.scheduler, resume=args.resume, overwrite=args.overwrite, progress=interactive)
    report = run_scan(config, log=lambda line: print(line, file=sys.stderr, flush=True))
    summary = summarise(args.out)
    payload = {
        "command": "scan",
        "model": args.model,
        "out": args.out,
        "layers": report.layers,
        "paths": list(report.manifest["inputs"]["paths"]),
        "exact_rule": report.manifest["inputs"]["exact"],
        "rows": sum(s["rows"] for s in summary),
        "exact_rows": sum(s["exact_rows"] for s in summary),
        "partitions": report.partitions,
        "workers": report.workers,
        "dashboard": report.dashboard,
        "elapsed_s": round(report.elapsed_s, 3),
        "inputs_sha256": report.manifest["inputs_sha256"],
        "inputs": report.manifest["inputs"],
        "summary": summary,
    }
    emit(args, payload, _human)
    return 0
