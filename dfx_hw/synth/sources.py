"""Which source files a design depends on: the module that builds it and every ``dfx_hw``
module it imports, transitively. A cache of generated Verilog or of a built simulation model keys
on :func:`source_hash`, so editing a unit invalidates exactly the designs that use it."""

import ast
import hashlib
import importlib.util
from pathlib import Path

__all__ = ["source_files", "source_hash"]

_PACKAGE = "dfx_hw"


def _module_file(name):
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):        # `from module import name`: not a module
        return None
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _imported_modules(name, path):
    """Names of the ``dfx_hw`` modules imported by module ``name`` (stored at ``path``)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            # `from pkg import mod` may name a submodule.
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {n for n in found if n == _PACKAGE or n.startswith(_PACKAGE + ".")}


def source_files(module_name, module_path=None):
    """The source files of ``module_name`` and of every ``dfx_hw`` module it imports,
    transitively (a package's ``__init__`` counts: it runs on import of any of its submodules).

    ``module_path`` is the module's file when it cannot be found by name (e.g. a test module).

    Returns
    -------
    dict of str to Path
        Module name to source file.
    """
    seen, todo = {}, [module_name]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(name)
        if path is None and name == module_name and module_path is not None:
            path = Path(module_path)
        seen[name] = path
        if path is None:
            continue
        parent = name.rpartition(".")[0]
        if parent:
            todo.append(parent)
        todo.extend(_imported_modules(name, path))
    return {name: path for name, path in seen.items() if path is not None}


def source_hash(module_name, module_path=None):
    """SHA-256 over the files of :func:`source_files` (names and contents)."""
    digest = hashlib.sha256()
    for name, path in sorted(source_files(module_name, module_path).items()):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


