"""Print the build and runtime configuration (the same as fastscratch.show_config())."""


def add_arguments(parser):
    pass


def run(args):
    import fastscratch

    fastscratch.show_config()
