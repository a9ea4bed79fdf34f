"""An import hook that makes the book's module names resolve to fastscratch.

`common.layers` -> `fastscratch.layers`, `dataset.mnist` -> `fastscratch.dataset.mnist`, and so
on; with `nets=True` also the chapter-local nets (`simple_convnet`, `deep_convnet`,
`two_layer_net`). It sits first on sys.meta_path, ahead of any `sys.path.append(os.pardir)` a
script makes, and is installed only for the duration of `book_modules()`.
"""
import contextlib
import importlib
import importlib.abc
import importlib.machinery
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


class _AliasLoader(importlib.abc.Loader):
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


class BookFinder(importlib.abc.MetaPathFinder):
    """Resolves the book's module names to fastscratch's modules."""

    def __init__(self, nets=False):
        self.mapping = dict(BOOK_MODULES)
        if nets:
            self.mapping.update(CHAPTER_NETS)

    def find_spec(self, name, path=None, target=None):
        if name in BOOK_PACKAGES:
            return importlib.machinery.ModuleSpec(name, _AliasLoader(None), is_package=True)
        if name in self.mapping:
            return importlib.machinery.ModuleSpec(name, _AliasLoader(self.mapping[name]))
        return None


@contextlib.contextmanager
def book_modules(nets=False):
    """Within the block, `import common.layers` and friends give fastscratch's modules."""
    names = set(BOOK_MODULES) | set(BOOK_PACKAGES) | (set(CHAPTER_NETS) if nets else set())
    saved = {name: sys.modules.pop(name) for name in list(sys.modules) if name in names}
    finder = BookFinder(nets)
    sys.meta_path.insert(0, finder)
    try:
        yield finder
    finally:
        sys.meta_path.remove(finder)
        for name in names:
            sys.modules.pop(name, None)
        sys.modules.update(saved)
