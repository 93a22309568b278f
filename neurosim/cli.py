"""Command line: ``neurosim <command> ...``.

Commands
--------
simulate   run a model file's default protocol; print spikes, AP peaks and the CV
run        run an experiment file and print its findings
sweep      run (or resume) a parameter sweep file into a Zarr store
figure     regenerate teaching figures (``--list``, a name, or ``all``)
check      rerun the scenarios of a baseline file; exit 1 if a metric drifted
"""

from __future__ import annotations

import argparse
import sys


def _parse_sets(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE, e.g. morphology.diam='12 um'")
        out[key.strip()] = _toml_value(value.strip())
    return out


def _toml_value(text: str):
    """A --set value: TOML syntax if it parses (numbers, booleans, quoted strings, lists),
    else the bare text (so ``--set morphology.diam=12um`` needs no quotes)."""
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _format_summary(s: dict, meta: dict) -> str:
    lines = [
        f"model {s['model']}: dt {meta['dt_ms']:g} ms, tstop {meta['tstop_ms']:g} ms, "
        f"{meta['method']}, {meta['celsius'][0] if isinstance(meta['celsius'], list) else ''} degC",
        f"{'site':<22}{'position (um)':>14}{'spikes':>8}  {'AP peak (mV)':>12}  spike times (ms)",
    ]
    for site in s["sites"]:
        times = ", ".join(f"{t:.4f}" for t in site["spike_times_ms"][:8])
        if len(site["spike_times_ms"]) > 8:
            times += ", ..."
        peak = "-" if site["ap_peak_mV"] is None else f"{site['ap_peak_mV']:.2f}"
        lines.append(
            f"{site['site']:<22}{site['position_um']:>14.1f}{len(site['spike_times_ms']):>8}"
            f"  {peak:>12}  {times}"
        )
    if s["cv_sites"]:
        cv = (
            "no spike conducted from one site to the other"
            if s["cv_m_per_s"] is None
            else f"{s['cv_m_per_s']:.4f} m/s"
        )
        lines.append(f"conduction velocity {s['cv_sites'][0]} -> {s['cv_sites'][1]}: {cv}")
    return "\n".join(lines)


def _cmd_simulate(args: argparse.Namespace) -> int:
    import json

    from neurosim.simulate import simulate_cable
    from neurosim.simulate.load import load_model

    overrides = _parse_sets(args.set)
    if args.fiber_diameter is not None:
        overrides["fiber.diameter"] = f"{args.fiber_diameter} um"
    if args.celsius is not None:
        overrides["model.celsius"] = f"{args.celsius} degC"
    mf = load_model(args.model, overrides)
    res = simulate_cable(mf.model, mf.protocol, threads=args.threads)
    summary = res.summary(0)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(_format_summary(summary, res.meta))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from neurosim.experiments import run_experiment

    report = run_experiment(args.experiment, out_root=args.out, overrides=_parse_sets(args.set))
    if args.json:
        print(report.to_json())
    else:
        for line in report.lines:
            print(line)
        for f in report.files:
            print(f"wrote {f}")
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from neurosim.sweep import run_sweep

    run = run_sweep(
        args.sweep,
        args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        threads=args.threads,
        quiet=args.quiet,
        to_netcdf=args.to_netcdf,
        scheduler_timeout=args.scheduler_timeout,
    )
    print(f"sweep {args.sweep}: {run.line()}")
    if run.netcdf is not None:
        print(f"wrote {run.netcdf}")
    return 0


def _cmd_figure(args: argparse.Namespace) -> int:
    from neurosim.figures import gallery

    if args.list:
        for name, desc in gallery.list_figures().items():
            print(f"{name:<24}{desc}")
        return 0
    if not args.name:
        raise ValueError("give a figure name, `all`, or --list")
    names = list(gallery.list_figures()) if args.name == "all" else [args.name]
    for name in names:
        for path in gallery.make_figure(name, args.out):
            print(f"wrote {path}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from neurosim.check import run_check

    report = run_check(args.baseline, update=args.update, work_dir=args.work_dir)
    print(report.table())
    if args.update:
        print(f"updated {args.baseline}")
        return 0
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neurosim",
        description="Simulate how a compressed nerve root makes leg muscles cramp.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "simulate",
        help="run a model file's default protocol (models/**/*.toml)",
        description="Run a model file's default protocol and print, per recording site, "
        "the spike times and AP peak, and the conduction velocity.",
    )
    p.add_argument("model", help="path to a model TOML file")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a key of the model file, e.g. --set morphology.diam='12 um'",
    )
    p.add_argument("--fiber-diameter", type=float, help="fibre diameter in um (myelinated axons)")
    p.add_argument("--celsius", type=float, help="temperature in degC")
    p.add_argument("--threads", type=int, default=None, help="kernel threads (default: all)")
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser("run", help="run an experiment file (experiments/*.toml)")
    p.add_argument("experiment", help="path to an experiment TOML file")
    p.add_argument("--out", default="results", help="output root folder (default: results)")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a key of the experiment file, e.g. --set 'run.duration=5 min' "
        "--set 'axons[1].n=4' --set experiment.name=short (the results folder)",
    )
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser(
        "sweep",
        help="run (or resume) a parameter sweep (experiments/sweeps/*.toml)",
        description="Run every point of a sweep file (grid, random or Latin hypercube over "
        "dotted keys of a model or experiment file) in batched chunks on all local cores or "
        "a Dask cluster, storing results in a Zarr store. Rerunning resumes: only points not "
        "yet stored run.",
    )
    p.add_argument("sweep", help="path to a sweep TOML file")
    p.add_argument("--out", help="Zarr store (default: results/sweeps/<name>.zarr)")
    p.add_argument("--workers", type=int, help="local processes (default: all cores; 1: serial)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786")
    p.add_argument(
        "--scheduler-timeout", type=float, default=10.0, help="seconds to wait for the scheduler"
    )
    p.add_argument("--threads", type=int, help="kernel threads per chunk")
    p.add_argument("--to-netcdf", metavar="PATH", help="also export the store to NetCDF")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser(
        "figure",
        help="regenerate teaching figures (figures/*.png): NAME, all, or --list",
    )
    p.add_argument("name", nargs="?", help="figure name (see --list) or `all`")
    p.add_argument("--list", action="store_true", help="list the figures and what they show")
    p.add_argument("--out", default="figures", help="output folder (default: figures)")
    p.set_defaults(func=_cmd_figure)

    p = sub.add_parser(
        "check",
        help="rerun a baseline's scenarios and compare metrics (exit 1 on drift)",
        description="Rerun every scenario of a baseline JSON file and compare its metrics "
        "with the stored values and tolerance bands. Exit status: 0 all within bands, 1 drift, "
        "2 bad input.",
    )
    p.add_argument("baseline", help="path to a baseline JSON file")
    p.add_argument("--update", action="store_true", help="store the new values as the baseline")
    p.add_argument("--work-dir", help="where scenario outputs go (default: a temporary folder)")
    p.set_defaults(func=_cmd_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"neurosim {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
