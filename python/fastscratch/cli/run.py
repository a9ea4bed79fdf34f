"""Run a script written for the book's repository on fastscratch, unchanged.

Its imports of common.* and dataset.mnist resolve to fastscratch (--nets also maps the
chapter-local simple_convnet, deep_convnet and two_layer_net to ours); sys.argv, __file__ and
sys.path[0] are as if it were run with `python SCRIPT.py`.
"""

import os
import runpy
import sys

from . import UsageError


def add_arguments(parser):
    import argparse  # here, not at the top: `run` skips argparse (__main__.parse_run_quickly)

    parser.add_argument(
        "--nets",
        action="store_true",
        help="also map the chapter-local nets (simple_convnet, deep_convnet, "
        "two_layer_net) to fastscratch's; ch04's two_layer_net, another "
        "net, stays the chapter's",
    )
    parser.add_argument("script", help="the book-style script to run")
    remainder = parser.add_argument(
        "script_args", nargs=argparse.REMAINDER, help="arguments passed on to the script"
    )
    # argparse counts a REMAINDER positional as required and, without a script, reported
    # "script, script_args are required"; the script's arguments are optional.
    remainder.required = False


def run(args):
    from ..book_imports import book_modules

    script = os.path.abspath(args.script)
    if not os.path.isfile(script):
        raise UsageError(f"no such script: {args.script}")
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    sys.argv = [args.script] + list(args.script_args)
    sys.path.insert(0, os.path.dirname(script))
    try:
        with book_modules(nets=args.nets, script_dir=os.path.dirname(script)):
            runpy.run_path(script, run_name="__main__")
    except SystemExit:
        raise
    except BaseException as exc:  # the script's own failure: its traceback, not ours
        import traceback  # here: ~0.5 ms of every run's start otherwise (the book's are 0.1 s)

        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != script:
            tb = tb.tb_next
        if tb is None and isinstance(exc, SyntaxError):
            # The script did not compile: none of its frames ran. Python shows only the
            # offending line, not the frames of runpy and fastscratch that compiled it.
            traceback.print_exception(type(exc), exc, None)
        else:
            traceback.print_exception(type(exc), exc, tb or exc.__traceback__)
        # As `python SCRIPT.py` ends: 130 (128 + SIGINT) after Ctrl-C, else 1.
        return 130 if isinstance(exc, KeyboardInterrupt) else 1
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
    return 0
