"""The import graph of ``dfx_hw`` only points down: no module imports from a package above it.

The layers, lowest first, are :data:`LAYERS`. A module may import from its own package and from
packages in lower layers. Packages that share a layer are independent of one another (the unit
packages talk through the contracts in ``spec`` and ``bus``, never to each other's modules), so
an import between them fails too. :data:`FORBIDDEN` adds the imports the order alone would allow
but the design does not: the software side (model, compiler, ISA simulator, ISA document) never
imports gateware, only the contracts both sides share. A package under ``dfx_hw`` that is not in the table fails the
test: place it in :data:`LAYERS` when you add it.

The check reads every ``import`` statement of every module with :mod:`ast` (including imports
inside functions), so it sees what a module could import, not only what one run happened to.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "dfx_hw"

#: Layers, lowest first; each is a tuple of package (or module) names relative to ``dfx_hw``.
#: A name is matched as a dotted prefix, the longest match wins (``model.bittrue`` before
#: ``model``; ``isa.doc`` before ``isa``).
LAYERS = (
    ("geometry",),                     # sizes shared by everything
    ("model.bittrue",),                # the bit-true numerics every unit and simulator follows
    ("isa",),                          # the instruction words (layouts, encoding)
    ("spec",),                         # contracts: errors, issue port, tile walk, costs, ...
    ("hdl",),                          # HDL utilities: delay lines, leaf-module emission
    ("bus",),                          # bus signatures (AXI4, AXI4-Lite, Aurora)
    ("arith",),                        # FP16 units
    ("mpu", "vpu", "control", "dma", "router"),    # the units, independent of one another
    ("model",),                        # float reference model, checkpoints, tokenizer, sampling
    ("compiler", "synth"),             # programs and memory images; Verilog and Yosys flow
    ("isasim",),                       # the ISA simulator (runs the compiler's programs)
    ("core",),                         # the units joined into one DFX core
    ("top", "rtlsim"),                 # the U280 top level; the whole-core simulation
    ("host",),                         # the host side of the register map (driver)
    ("backends", "bench", "isa.doc"),  # text generation back ends; benchmarks; the ISA
                                       # document (it quotes the compiler's memory maps)
    ("commands",),                     # the CLI's commands
    ("cli",),
)

#: The unit packages and the packages the contracts layer must never import from.
UNIT_PACKAGES = ("arith", "mpu", "vpu", "control", "dma", "router")

#: The gateware: what the software side (model, compiler, ISA simulator, ISA document) never
#: imports, although some of it sits in lower layers. What both sides need is a contract
#: (``spec``, ``isa``, ``geometry``, ``model.bittrue``).
HARDWARE = ("hdl", "bus") + UNIT_PACKAGES + ("core", "synth")

#: Imports the layer order alone would allow but the design forbids: package -> packages.
FORBIDDEN = {
    "model": HARDWARE,
    "compiler": HARDWARE + ("isasim",),
    "isasim": HARDWARE,
    "isa.doc": HARDWARE + ("isasim",),
}


def layer_of(name):
    """``(layer index, package)`` of module ``name`` (relative to ``dfx_hw``), or ``None`` for
    the root package ``dfx_hw`` itself (its ``__init__`` holds only the version)."""
    if not name:
        return None
    best = None
    for index, layer in enumerate(LAYERS):
        for package in layer:
            if name == package or name.startswith(package + "."):
                if best is None or len(package) > len(best[1]):
                    best = (index, package)
    if best is None:
        raise AssertionError(f"dfx_hw.{name} is in no layer: add its package to LAYERS in "
                             f"{Path(__file__).name}")
    return best


def _module_name(path, root=ROOT):
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts), path.name == "__init__.py"


def _is_submodule(module, name, root):
    folder = root.joinpath(*module.split(".")[1:], name)
    return folder.is_dir() or folder.with_suffix(".py").exists()


def _imports(path, root=ROOT):
    """``(line, target)`` for every ``dfx_hw`` import of the module at ``path`` (in the tree
    ``root``); targets are relative to ``dfx_hw`` (``""`` is the root package)."""
    name, is_package = _module_name(path, root)
    package = name if is_package else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ["dfx_hw"] + (package.split(".") if package else [])
                base = base[:len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from pkg import name` may name a submodule: judge it by that submodule.
            modules = [f"{module}.{alias.name}" if _is_submodule(module, alias.name, root)
                       else module for alias in node.names]
        else:
            continue
        for module in modules:
            if module == "dfx_hw" or module.startswith("dfx_hw."):
                found.append((node.lineno, module[len("dfx_hw."):] if "." in module else ""))
    return found


def violations(root=ROOT):
    """Every import that points up or sideways, as readable lines."""
    bad = []
    for path in sorted(root.rglob("*.py")):
        name, _ = _module_name(path, root)
        here = layer_of(name)
        if here is None:
            continue
        for line, target in _imports(path, root):
            there = layer_of(target)
            if there is None or there[1] == here[1]:
                continue
            if any(there[1] == f or there[1].startswith(f + ".")
                   for f in FORBIDDEN.get(here[1], ())):
                bad.append(f"dfx_hw/{path.relative_to(root)}:{line}: {here[1]} imports "
                           f"dfx_hw.{target} from {there[1]}, which it must never import from "
                           f"(FORBIDDEN)")
            elif there[0] > here[0]:
                bad.append(f"dfx_hw/{path.relative_to(root)}:{line}: {here[1]} (layer {here[0]}) "
                           f"imports dfx_hw.{target} from {there[1]}, a layer above "
                           f"(layer {there[0]})")
            elif there[0] == here[0]:
                bad.append(f"dfx_hw/{path.relative_to(root)}:{line}: {here[1]} imports "
                           f"dfx_hw.{target} from {there[1]}, a package of the same layer")
    return bad


def test_every_package_has_a_layer():
    for path in ROOT.rglob("*.py"):
        layer_of(_module_name(path)[0])


def test_imports_point_down():
    bad = violations()
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


@pytest.mark.parametrize("package", ["spec", "geometry", "isa.layouts", "isa.encoding"])
def test_contracts_import_no_unit_compiler_or_simulator(package):
    """The contracts (and what they stand on) import nothing from the unit packages, the
    compiler, the simulators or anything above (the layering implies it; this names it)."""
    forbidden = UNIT_PACKAGES + ("hdl", "compiler", "isasim", "core", "host", "synth")
    paths = sorted((ROOT / package.replace(".", "/")).rglob("*.py")) \
        if (ROOT / package.replace(".", "/")).is_dir() \
        else [ROOT / (package.replace(".", "/") + ".py")]
    for path in paths:
        for line, target in _imports(path):
            assert not any(target == f or target.startswith(f + ".") for f in forbidden), \
                f"{path.relative_to(ROOT.parent)}:{line} imports dfx_hw.{target}"


def test_the_check_sees_an_upward_import(tmp_path):
    """The checker itself: a contract importing a unit and two units importing each other are
    reported (a test that could not fail would prove nothing)."""
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "bad.py").write_text("from ..mpu import mfu\n")
    (tmp_path / "dma").mkdir()
    (tmp_path / "dma" / "engine.py").write_text(
        "def f():\n    from dfx_hw.router.link import x\n")
    (tmp_path / "compiler").mkdir()
    (tmp_path / "compiler" / "tiling.py").write_text("from ..mpu.walk import tile_order\n")
    bad = violations(tmp_path)
    assert len(bad) == 3, bad
    assert "compiler imports dfx_hw.mpu.walk from mpu, which it must never import" in bad[0]
    bad = bad[1:]
    assert "spec (layer 3) imports dfx_hw.mpu from mpu, a layer above (layer 7)" in bad[1], bad
    assert "dma imports dfx_hw.router.link from router, a package of the same layer" in bad[0]
