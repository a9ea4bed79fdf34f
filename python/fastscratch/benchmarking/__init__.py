"""The benchmark behind `python -m fastscratch bench`: cases, timing, memory, report.

One module per job: `cases` says what is measured (shapes, FLOPs, how each contender runs it),
`torch_models` holds the PyTorch twins of the book's nets, `timing` measures interleaved
medians, `memory` measures peak RSS in a fresh process, `busy` runs the CPU-spinning processes of
`--busy`, `report` writes the Markdown.
"""
