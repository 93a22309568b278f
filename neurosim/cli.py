"""Command line: ``neurosim <command> ...``.

Commands
--------
simulate   run a model file's default protocol; print spikes, AP peaks and the CV
run        run an experiment file and print its findings
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
        cv = "no propagated spike" if s["cv_m_per_s"] is None else f"{s['cv_m_per_s']:.4f} m/s"
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

    report = run_experiment(args.experiment, out_root=args.out)
    if args.json:
        print(report.to_json())
    else:
        for line in report.lines:
            print(line)
        for f in report.files:
            print(f"wrote {f}")
    return 0


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
    p.set_defaults(func=_cmd_run)
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
