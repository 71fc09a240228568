"""Two Verilog designs with the same ports, driven by the same random stimulus in Icarus: do their
outputs agree on every clock?

Used to show that a rewrite of the Verilog (merged module bodies, hierarchical leaf modules)
keeps the behaviour of the original.
"""

import re
import subprocess

__all__ = ["equivalence_bench", "compare_designs"]


def _ports(text, module, direction):
    header = re.search(rf"^module {module}\(.*?^endmodule", text, re.M | re.S).group(0)
    return [(int(width or 0) + 1, name) for width, name
            in re.findall(rf"^\s*{direction} (?:\[(\d+):0\] )?(\S+);", header, re.M)]


def equivalence_bench(first, cycles, *, top="top", other="top_d"):
    """A Verilog bench: modules ``top`` (from ``first``) and ``other`` (same ports) get the same
    random inputs on every clock after reset; the bench prints ``mismatches=N defined=M``
    (clocks x outputs that differ, and output samples of ``top`` without an x bit)."""
    inputs = _ports(first, top, "input")
    outputs = _ports(first, top, "output")
    lines = ["module bench;", "reg clk = 0; reg rst = 1; integer i, bad = 0, defined = 0;"]
    lines += [f"reg [{w - 1}:0] {n};" for w, n in inputs if n not in ("clk", "rst")]
    lines += [f"wire [{w - 1}:0] {n}_1, {n}_2;" for w, n in outputs]
    for suffix, module in (("_1", top), ("_2", other)):
        ports = [f".{n}({n})" for _, n in inputs] + [f".{n}({n}{suffix})" for _, n in outputs]
        lines.append(f"{module} u{suffix}({', '.join(ports)});")
    lines += ["always #5 clk = ~clk;", "initial begin", "#22 rst = 0;",
              f"for (i = 0; i < {cycles}; i = i + 1) begin", "@(negedge clk);"]
    lines += [f"if ({n}_1 !== {n}_2) bad = bad + 1;" for _, n in outputs]
    lines += [f"if (^{n}_1 !== 1'bx) defined = defined + 1;" for _, n in outputs]
    for width, name in inputs:
        if name in ("clk", "rst"):
            continue
        words = -(-width // 32)
        lines.append(f"{name} = " + ("$random;" if words == 1
                                     else "{" + ", ".join(["$random"] * words) + "};"))
    lines += ["end", '$display("mismatches=%0d defined=%0d", bad, defined);', "$finish;", "end",
              "endmodule"]
    return "\n".join(lines)


def compare_designs(first, second, *, workdir, cycles=2000, top="top", other="top_d"):
    """Build ``first`` (top module ``top``) and ``second`` (top module ``other``) with an
    :func:`equivalence_bench` in Icarus and run it; return ``(mismatches, defined)``."""
    files = {"first.v": first, "second.v": second,
             "bench.v": equivalence_bench(first, cycles, top=top, other=other)}
    for name, text in files.items():
        (workdir / name).write_text(text)
    subprocess.run(["iverilog", "-o", "bench.vvp", *files], cwd=workdir, check=True)
    out = subprocess.run(["vvp", "bench.vvp"], cwd=workdir, check=True, capture_output=True,
                         text=True).stdout
    mismatches, defined = map(int, re.search(r"mismatches=(\d+) defined=(\d+)", out).groups())
    return mismatches, defined
