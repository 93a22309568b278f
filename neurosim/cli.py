"""Command line: ``neurosim <command> ...``.

Commands
--------
run        run an experiment file and print its findings
"""

from __future__ import annotations

import argparse
import sys


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
