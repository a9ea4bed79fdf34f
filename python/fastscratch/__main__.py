"""`python -m fastscratch SUBCOMMAND`: the command line. Each subcommand lives in fastscratch.cli.

A user's mistake (a missing file, a bad option) ends in one clear line and exit status 2, not a
traceback.
"""

import argparse
import sys

from .cli import SUBCOMMANDS, UsageError, subcommand


def build_parser(argv=None):
    """The parser. When `argv` names a subcommand, only that one's module is imported (the
    others are listed by name); otherwise, for `--help` and mistakes, all of them."""
    parser = argparse.ArgumentParser(
        prog="python -m fastscratch",
        description="fastscratch: the layers of 'Deep Learning from Scratch', fast.",
    )
    # Required: without one, usage and exit status 2, as argparse does for any missing argument.
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND", required=True)
    first = next((a for a in (argv or []) if not a.startswith("-")), None)
    for name in SUBCOMMANDS:
        if first in SUBCOMMANDS and name != first:
            sub.add_parser(name)
            continue
        module = subcommand(name)
        doc = module.__doc__.strip().splitlines()[0]
        sub_parser = sub.add_parser(name, help=doc, description=module.__doc__.strip())
        module.add_arguments(sub_parser)
        sub_parser.set_defaults(run=module.run)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
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
