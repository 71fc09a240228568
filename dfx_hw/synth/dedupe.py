"""Merging of identical module bodies in Amaranth's Verilog output."""

import re

__all__ = ["dedupe_modules"]

_MODULE = re.compile(r"((?:^\(\*[^\n]*\*\)\n)*)^module\s+(\\\S+|[A-Za-z_][\w$]*)\s*\(([^)]*)\);\n"
                     r"(.*?)^endmodule\n", re.M | re.S)
_LOCAL_COUNTER = re.compile(r"dump_module\$\d+")


def dedupe_modules(text):
    """Merge the identical module bodies of Amaranth's Verilog output.

    Amaranth writes one module per component *instance* (``top.lane0.mul``, ``top.lane1.mul``,
    ...), even when the instances are identical. Modules whose port sets and bodies are equal
    (after their own submodules were merged, and ignoring the number of the module-local
    ``dump_module$N`` register Yosys adds) are replaced by the first of them and the
    instantiations renamed; this repeats up the hierarchy. Instantiations use named port
    connections, so the order of a module's header ports does not matter.
    """
    while True:
        modules = list(_MODULE.finditer(text))
        first = {}
        rename = {}
        for match in modules:
            _, name, ports, body = match.groups()
            # Yosys numbers one module-local helper register per module; it is not a difference.
            body = _LOCAL_COUNTER.sub("dump_module$", body)
            key = (tuple(sorted(p.strip() for p in ports.split(","))), body)
            if key in first:
                rename[name] = first[key]
            else:
                first[key] = name
        if not rename:
            return text
        # Drop the duplicates (with their attribute lines), then rename their instantiations.
        text = _MODULE.sub(lambda m: "" if m.group(2) in rename else m.group(0), text)
        # Escaped identifiers (Amaranth's submodule names) in one pass; plain ones one by one.
        text = re.sub(r"\\\S+(?=\s)", lambda m: rename.get(m.group(0), m.group(0)), text)
        for old, new in rename.items():
            if not old.startswith("\\"):
                text = re.sub(r"\b" + re.escape(old) + r"\b", lambda _: new, text)
