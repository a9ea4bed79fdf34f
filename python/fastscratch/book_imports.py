"""An import hook that makes the book's module names resolve to fastscratch.

`common.layers` -> `fastscratch.layers`, `dataset.mnist` -> `fastscratch.dataset.mnist`, and so
on; with `nets=True` also the chapter-local nets (`simple_convnet`, `deep_convnet`,
`two_layer_net`). It sits first on sys.meta_path, ahead of any `sys.path.append(os.pardir)` a
script makes, and is installed only for the duration of `book_modules()`.
"""

import contextlib
import importlib
import importlib.machinery
import os
import sys
import types

BOOK_MODULES = {
    "common.functions": "fastscratch.functions",
    "common.layers": "fastscratch.layers",
    "common.optimizer": "fastscratch.optimizer",
    "common.util": "fastscratch.util",
    "common.gradient": "fastscratch.gradient",
    "common.multi_layer_net": "fastscratch.multi_layer_net",
    "common.multi_layer_net_extend": "fastscratch.multi_layer_net_extend",
    "common.trainer": "fastscratch.trainer",
    "dataset.mnist": "fastscratch.dataset.mnist",
}
BOOK_PACKAGES = ("common", "dataset")
CHAPTER_NETS = {
    "simple_convnet": "fastscratch.simple_convnet",
    "deep_convnet": "fastscratch.deep_convnet",
    "two_layer_net": "fastscratch.two_layer_net",
}
# Chapter folders whose own module of that name is another net, left to the chapter: ch04's
# two_layer_net is the sigmoid net trained by numerical gradients, fastscratch's (like ch05's)
# the Affine/ReLU one trained by backprop.
CHAPTER_NETS_LEFT_ALONE = {"two_layer_net": ("ch04",)}


def chapter_nets_for(script_dir):
    """The chapter nets that --nets maps for a script in `script_dir`."""
    chapter = os.path.basename(os.path.normpath(script_dir)) if script_dir else ""
    return {
        name: target
        for name, target in CHAPTER_NETS.items()
        if chapter not in CHAPTER_NETS_LEFT_ALONE.get(name, ())
    }


# Plain classes with the import protocol's methods: importlib.abc's base classes would add no
# behaviour, and importing it (with importlib.resources and inspect) costs every script ~6 ms.
class _AliasLoader:
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        if self.target is None:  # a book package: an empty namespace the finder fills
            module = types.ModuleType(spec.name)
            module.__path__ = []
            return module
        module = importlib.import_module(self.target)
        # importlib stamps the alias's spec onto the module it gets; keep fastscratch's own.
        self._saved = {k: getattr(module, k) for k in ("__spec__", "__loader__", "__package__")}
        return module

    def exec_module(self, module):
        for key, value in getattr(self, "_saved", {}).items():
            setattr(module, key, value)


class BookFinder:
    """Resolves the book's module names to fastscratch's modules."""

    def __init__(self, nets=False, script_dir=None):
        self.mapping = dict(BOOK_MODULES)
        if nets:
            self.mapping.update(chapter_nets_for(script_dir))

    def find_spec(self, name, path=None, target=None):
        if name in BOOK_PACKAGES:
            return importlib.machinery.ModuleSpec(name, _AliasLoader(None), is_package=True)
        if name in self.mapping:
            return importlib.machinery.ModuleSpec(name, _AliasLoader(self.mapping[name]))
        return None


@contextlib.contextmanager
def book_modules(nets=False, script_dir=None):
    """Within the block, `import common.layers` and friends give fastscratch's modules (and with
    `nets`, the chapter nets that fit the chapter of `script_dir`)."""
    finder = BookFinder(nets, script_dir)
    names = set(finder.mapping) | set(BOOK_PACKAGES)
    saved = {name: sys.modules.pop(name) for name in list(sys.modules) if name in names}
    sys.meta_path.insert(0, finder)
    try:
        yield finder
    finally:
        sys.meta_path.remove(finder)
        for name in names:
            sys.modules.pop(name, None)
        sys.modules.update(saved)
