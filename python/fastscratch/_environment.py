"""The error for a FASTSCRATCH_* environment variable that fastscratch cannot use.

Those variables are read when fastscratch is imported. Their error has its own type (still a
ValueError) so that `python -m fastscratch`, which imports the package before its command line
can catch anything, tells the user's mistake from a fault of its own and reports it in one line.
"""


class EnvironmentVariableError(ValueError):
    """A FASTSCRATCH_* environment variable holds a value fastscratch cannot use."""
