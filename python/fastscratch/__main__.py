"""`python -m fastscratch SUBCOMMAND`: the command line. Each subcommand lives in fastscratch.cli.

A user's mistake (a missing file, a bad option) ends in one clear line and exit status 2, not a
traceback.
"""

import argparse
import sys

from .cli import SUBCOMMANDS, UsageError


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m fastscratch",
        description="fastscratch: the layers of 'Deep Learning from Scratch', fast.",
    )
    # Required: without one, usage and exit status 2, as argparse does for any missing argument.
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND", required=True)
    for name, module in SUBCOMMANDS.items():
        doc = module.__doc__.strip().splitlines()[0]
        sub_parser = sub.add_parser(name, help=doc, description=module.__doc__.strip())
        module.add_arguments(sub_parser)
        sub_parser.set_defaults(run=module.run)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args) or 0
    except UsageError as exc:
        print(f"fastscratch {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"fastscratch {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
