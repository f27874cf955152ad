"""Numba's on-disk cache for the package's kernels, and real modules for the bodies built at run time.

Numba caches a compiled function next to its source file and checks only
that one file for changes: a kernel that inlines a body from another module
would be loaded stale after that module changed.  So every function compiled
through :func:`closedform.numeric.target.jit` is cached under one *source
stamp*, a hash of all the package's numeric and derivation sources
(:func:`fingerprint`) with its own file's: any edit anywhere recompiles
everything, and a stale cache cannot give a wrong result.  (Numba checks its
own version and the CPU itself.)

Numba cannot cache a function built at run time (a closure over a trial
body, a lambdified closed form, source given to ``exec``): its index key
pickles the closure's values, which differ per process, and such functions
have no source file.  :func:`materialize` writes each such function as a
real module into the generated folder (its name holds a hash of its full
source: imports, constants and body), imports it from there, and compiles
that module-level function with the cache on.  The same source gives the
same module, so a fresh process finds the compiled code; a changed body is
another module, compiled anew.

Where the cache lives follows numba's rules: ``$NUMBA_CACHE_DIR/closedform``
when ``NUMBA_CACHE_DIR`` is set, else a ``__pycache__`` folder beside the
installed package, else (a read-only install) the user cache folder
(``~/.cache/numba/closedform`` on Linux).  The first writable one wins.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import importlib.util
import inspect
import linecache
import math
import os
import re
import sys
import tempfile
import textwrap
import types
from pathlib import Path
from typing import Any

import numba
from numba.core.caching import CompileResultCacheImpl, FunctionCache, _CacheLocator
from numba.misc.appdirs import AppDirs

#: The package's ``numeric`` folder; its sibling folders are scanned by :func:`fingerprint`.
PACKAGE_DIR = Path(__file__).resolve().parent
#: Source folders whose content is part of every kernel's stamp: the kernels
#: (numeric) and the closed forms lambdified into them (derive).
_STAMPED = ("closedform.numeric", "closedform.derive")


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError:
        return False
    return True


def root_candidates() -> list[Path]:
    """Where the cache may live, in numba's order of preference (see the module docstring)."""
    out = []
    if numba.config.CACHE_DIR:
        out.append(Path(numba.config.CACHE_DIR) / "closedform")
    out.append(PACKAGE_DIR / "__pycache__" / "closedform-numba")
    out.append(Path(AppDirs(appname="numba", appauthor=False).user_cache_dir) / "closedform")
    return out


@functools.cache
def cache_root() -> Path | None:
    """The cache folder of this process: the first writable candidate, or None (caching off)."""
    return next((p for p in root_candidates() if _writable(p)), None)


def kernel_dir() -> Path | None:
    """Where numba's index (``.nbi``) and data (``.nbc``) files go."""
    root = cache_root()
    return None if root is None else root / "kernels"


def generated_dir() -> Path | None:
    """Where the generated modules are written."""
    root = cache_root()
    return None if root is None else root / "generated"


@functools.cache
def _stamped_dirs() -> tuple[Path, ...]:
    return tuple(Path(importlib.util.find_spec(p).origin).resolve().parent for p in _STAMPED)


@functools.cache
def fingerprint() -> str:
    """A hash of every source file that compiled code depends on (numba's version is checked by numba)."""
    import mpmath
    import numpy

    # The tables frozen into kernels are computed at import with mpmath and NumPy.
    digest = hashlib.sha256(f"mpmath {mpmath.__version__} numpy {numpy.__version__}".encode())
    for folder in _stamped_dirs():
        for path in sorted(folder.glob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.cache
def _file_hash(path: str, mtime: float, size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _owned(py_file: str) -> bool:
    path = Path(py_file).resolve()
    gen = generated_dir()
    return path.parent == PACKAGE_DIR or (gen is not None and path.parent == gen.resolve())


class PackageLocator(_CacheLocator):
    """Numba cache locator of every function compiled through ``jit``: one folder, the package-wide stamp.

    A function from outside the package (a benchmark, a user's body calling
    the package's RNG) gets the stamp too: it inlines the package's code, so
    it must not outlive a change there either.  Its file names carry a hash
    of its path, since two such files may share a name.
    """

    def __init__(self, py_func: Any, py_file: str) -> None:
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno

    def get_cache_path(self) -> str:
        return str(kernel_dir())

    def get_source_stamp(self) -> tuple[str, str]:
        st = os.stat(self._py_file)
        return fingerprint(), _file_hash(self._py_file, st.st_mtime, st.st_size)

    def get_disambiguator(self) -> str:
        if _owned(self._py_file):
            return str(self._lineno)
        return f"{self._lineno}-{hashlib.sha256(str(Path(self._py_file).resolve()).encode()).hexdigest()[:12]}"

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> PackageLocator | None:
        if kernel_dir() is None or not os.path.exists(py_file):
            return None
        self = cls(py_func, py_file)
        try:
            self.ensure_cache_path()
        except OSError:
            return None
        return self


class _PackageCacheImpl(CompileResultCacheImpl):
    _locator_classes = [PackageLocator]


class _PackageCache(FunctionCache):
    _impl_class = _PackageCacheImpl


def enable_cache(dispatcher: Any) -> Any:
    """Turn numba's on-disk cache on for ``dispatcher``, under :class:`PackageLocator`.

    Where no folder is writable the dispatcher stays uncached (it still runs,
    compiling once per process).
    """
    try:
        dispatcher._cache = _PackageCache(dispatcher.py_func)
    except RuntimeError:  # numba: "no locator available" (no writable cache folder)
        pass
    return dispatcher


def is_module_level(func: Any) -> bool:
    """Whether numba can cache ``func`` as it is: defined at module level in a real source file."""
    return (
        func.__closure__ is None
        and "<locals>" not in func.__qualname__
        and "." not in func.__qualname__
        and os.path.exists(inspect.getfile(func))
    )


# ----------------------------------------------------------------------------
# Generated modules
# ----------------------------------------------------------------------------

#: This module is also the package of the generated modules:
#: ``closedform.numeric.jitcache.<name>_<hash>`` imports ``<generated_dir()>/<name>_<hash>.py``
#: in any process (a Dask worker unpickling a kernel included).
__path__ = [str(generated_dir())] if generated_dir() is not None else []


class NotMaterializable(Exception):
    """A run-time function that cannot be written as a module (the message says which value)."""


def define(source: str, filename: str, env: dict) -> dict:
    """``exec`` generated ``source`` into ``env``, registering it with :mod:`linecache`.

    Registered, the source is what :func:`inspect.getsource` returns for the
    functions it defines, so :func:`materialize` can write them out.
    """
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), env)  # noqa: S102  (our own generated source, never user text)
    return env


def _function_source(func: Any) -> str:
    """The ``def`` of ``func`` without its decorators, dedented."""
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError) as exc:
        raise NotMaterializable(f"no source for {func.__qualname__}: {exc}") from None
    tree = ast.parse(source)
    node = tree.body[0]
    if not isinstance(node, ast.FunctionDef):
        raise NotMaterializable(f"{func.__qualname__} is not a def")
    body = "\n".join(source.splitlines()[node.lineno - 1 :]) + "\n"
    if node.name != func.__name__ or _signature(_compiled(body), ()) != _signature(
        func.__code__, func.__code__.co_freevars
    ):
        # The file changed on disk since the function was defined: the source is not its code.
        raise NotMaterializable(f"the source of {func.__qualname__} no longer matches its code")
    return body


def _compiled(body: str) -> types.CodeType:
    module = compile(body, "<check>", "exec")
    return next(c for c in module.co_consts if isinstance(c, types.CodeType))


def _signature(code: types.CodeType, free: tuple[str, ...]) -> tuple:
    """What a function's source fixes in its code, free names counted as globals."""
    consts = tuple(c if not isinstance(c, types.CodeType) else _signature(c, c.co_freevars) for c in code.co_consts)
    return code.co_argcount, code.co_varnames, sorted({*code.co_names, *free}), consts


def _referenced_names(func: Any, source: str) -> list[str]:
    """Global and free names the body reads, in the order they first appear."""
    code_names: set[str] = set()
    stack = [func.__code__]
    while stack:
        code = stack.pop()
        code_names.update(code.co_names, code.co_freevars)
        stack.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    seen: dict[str, None] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and node.id in code_names:
            seen.setdefault(node.id, None)
    return list(seen)


def _literal(value: Any) -> str | None:
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"float({str(value)!r})"
    if isinstance(value, tuple):
        items = [_literal(v) for v in value]
        return None if None in items else "(" + "".join(i + ", " for i in items) + ")"
    return None


def _importable(value: Any) -> tuple[str, str] | None:
    """``(module, attribute)`` such that ``module.attribute is value``, if the value says where it lives."""
    target = getattr(value, "py_func", value)  # a numba dispatcher lives where its Python function does
    module, name = getattr(target, "__module__", None), getattr(target, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(name, str) or "." in name or "<" in name:
        return None
    if getattr(sys.modules.get(module), name, None) is value:
        return module, name
    return None


def _binding(name: str, value: Any, home: str) -> str:
    """One line of the generated module's header that binds ``name`` to ``value``."""
    if isinstance(value, types.ModuleType):
        return f"import {value.__name__} as {name}"
    literal = _literal(value)
    if literal is not None:
        return f"{name} = {literal}"
    where = _importable(value)
    if where is None and getattr(sys.modules.get(home), name, None) is value:
        where = home, name  # a global of the function's own module (a numba type, a table)
    if where is None:
        raise NotMaterializable(f"{name} = {type(value).__name__} has no import path and is not a literal")
    module, attr = where
    return f"from {module} import {attr}" + ("" if attr == name else f" as {name}") + _outside_stamp(module)


def _outside_stamp(module: str) -> str:
    """A comment with the hash of an imported module's file when the package stamp does not cover it.

    A body imported from a user's file is inlined into the generated one: an
    edit there must change the generated source, hence its name and cache.
    """
    file = getattr(sys.modules.get(module), "__file__", None)
    if file is None or not file.endswith(".py"):
        return ""
    folder = Path(file).resolve().parent
    gen = generated_dir()
    if folder in _stamped_dirs() or (gen is not None and folder == gen.resolve()):
        return ""
    st = os.stat(file)
    return f"  # source sha256 {_file_hash(file, st.st_mtime, st.st_size)[:24]}"


def _options_source(options: dict) -> str:
    parts = []
    for key in sorted(options):
        value = options[key]
        if isinstance(value, (set, frozenset)):
            # Sorted: a set's repr follows string hashing, which differs per process.
            value_src = "{" + ", ".join(repr(v) for v in sorted(value)) + "}"
        else:
            value_src = repr(value)
        parts.append(f"{key}={value_src}")
    return ", ".join(parts)


def module_source(func: Any, options: dict) -> str:
    """The full source of the module that :func:`materialize` writes for ``func``.

    Free and global names become imports (functions, dispatchers, modules) or
    literals (numbers, strings, tuples); anything else is refused with
    :class:`NotMaterializable`, since its value would not be part of the hash.
    """
    if func.__defaults__ or func.__kwdefaults__:
        raise NotMaterializable(f"{func.__qualname__} has default arguments")
    body = _function_source(func)
    cells = dict(zip(func.__code__.co_freevars, (c.cell_contents for c in func.__closure__ or ())))
    header = [
        f"# Generated by closedform.numeric.jitcache from {func.__module__ or func.__code__.co_filename}"
        f".{func.__qualname__}; do not edit.",
        "from closedform.numeric.target import jit as _jit",
    ]
    for name in _referenced_names(func, body):
        if name in cells:
            header.append(_binding(name, cells[name], func.__module__))
        elif name in func.__globals__:
            header.append(_binding(name, func.__globals__[name], func.__module__))
        # else: a builtin (range, min, int, ...)
    fname = func.__name__
    return "\n".join(header) + "\n\n\n" + body + f"\n\n{fname} = _jit({_options_source(options)})({fname})\n"


def materialize(func: Any, options: dict) -> Any:
    """Write ``func`` as a generated module, import it, and return its cached dispatcher.

    ``options`` are the keyword arguments of :func:`closedform.numeric.target.jit`.

    Examples
    --------
    >>> def scaled(k):
    ...     def body(x):
    ...         return k * x
    ...     return body
    >>> [line for line in module_source(scaled(3), {"inline": False}).splitlines() if line.startswith("k")]
    ['k = 3']
    >>> f = materialize(scaled(3), {"inline": False})
    >>> f.py_func.__module__.startswith("closedform.numeric.jitcache.body_"), f(2.0)
    (True, 6.0)
    """
    source = module_source(func, options)
    stem = f"{func.__name__.strip('_') or 'f'}_{hashlib.sha256(source.encode()).hexdigest()[:24]}"
    _install(stem, source)
    return getattr(importlib.import_module(f"{__name__}.{stem}"), func.__name__)


def _install(stem: str, source: str) -> None:
    folder = generated_dir()
    if folder is None:
        raise NotMaterializable("no writable cache folder")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.py"
    if not path.exists() or path.read_text() != source:
        tmp = folder / f".{stem}.{os.getpid()}.tmp"
        tmp.write_text(source)
        os.replace(tmp, path)  # atomic: a concurrent process sees the old file or the whole new one


_GENERATED_IMPORT = re.compile(rf"^from {re.escape(__name__)}\.(\w+) import ", re.MULTILINE)


def reference(obj: Any) -> tuple[str, str, dict[str, str]] | None:
    """How another process finds ``obj``: ``(module, name, generated sources)``, or None.

    The sources are those of the generated modules the object's module needs
    (itself and what it imports, transitively), so that :func:`resolve` works
    on a machine that has not generated them (a remote Dask worker).
    """
    where = _importable(obj)
    if where is None:
        return None
    module, name = where
    sources: dict[str, str] = {}
    todo = [module]
    while todo:
        mod = todo.pop()
        if not mod.startswith(__name__ + "."):
            continue
        stem = mod.rsplit(".", 1)[1]
        if stem in sources:
            continue
        sources[stem] = Path(sys.modules[mod].__file__).read_text()
        todo += [f"{__name__}.{dep}" for dep in _GENERATED_IMPORT.findall(sources[stem])]
    return module, name, sources


def resolve(module: str, name: str, sources: dict[str, str]) -> Any:
    """The object :func:`reference` described, writing the generated modules it needs first."""
    for stem, source in sources.items():
        _install(stem, source)
    return getattr(importlib.import_module(module), name)


#: Functions compiled without the cache in this process: ``module.qualname`` -> why (see :func:`materialize`).
UNCACHED: dict[str, str] = {}
