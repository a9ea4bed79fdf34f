"""`python -m fastscratch SUBCOMMAND`: the command line. Each subcommand lives in fastscratch.cli.

A user's mistake (a missing file, a bad option) ends in one clear line and exit status 2, not a
traceback.
"""

import sys

from .cli import SUBCOMMANDS, UsageError, subcommand


def build_parser(argv=None):
    """The parser. When `argv` names a subcommand, only that one's module is imported (the
    others are listed by name); otherwise, for `--help` and mistakes, all of them."""
    import argparse

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


def parse_run_quickly(argv):
    """The arguments of `run [--nets] SCRIPT [ARGS...]` without argparse, or None when `argv`
    is anything else (help, a mistake, another subcommand: argparse then parses it).

    `run` is how the book's scripts start, and a script that only prints is done in ~0.1 s:
    building argparse's parser (its formatters, gettext's catalogue lookups, the shutil import)
    took ~6 ms of that. The result holds what argparse's namespace holds for the same argv."""
    if not argv or argv[0] != "run":
        return None
    rest = argv[1:]
    nets = bool(rest) and rest[0] == "--nets"
    if nets:
        rest = rest[1:]
    if not rest or rest[0].startswith("-"):
        return None
    from types import SimpleNamespace

    from .cli import run

    return SimpleNamespace(
        command="run", nets=nets, script=rest[0], script_args=rest[1:], run=run.run
    )


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_run_quickly(argv)
    if args is None:
        args = build_parser(argv).parse_args(argv)
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
