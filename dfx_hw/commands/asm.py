"""``dfx asm``: assemble, disassemble, and write the ISA document.

``dfx asm as FILE``   text instructions (one per line) -> hex words on stdout
``dfx asm dis FILE``  hex words (one per line) -> text instructions on stdout
``dfx asm doc --out docs/isa.md``
"""

from pathlib import Path

from ..isa.doc import isa_markdown
from ..isa.encoding import assemble, decode, disassemble, encode
from ..isa.layouts import WORD_BITS


def _lines(path):
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.split("#", 1)[0].strip():
            yield number, line


def _as(args):
    for number, line in _lines(args.file):
        try:
            print(f"{encode(assemble(line)):0{WORD_BITS // 4}x}")
        except ValueError as error:
            raise ValueError(f"{args.file}:{number}: {error}") from None
    return 0


def _dis(args):
    for number, line in _lines(args.file):
        try:
            print(disassemble(decode(int(line.split("#", 1)[0].strip(), 16))))
        except ValueError as error:
            raise ValueError(f"{args.file}:{number}: {error}") from None
    return 0


def _doc(args):
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(isa_markdown(), encoding="utf-8")
    print(f"wrote {out}")
    return 0


def register(subparsers):
    parser = subparsers.add_parser("asm", help="assemble/disassemble DFX instructions; ISA doc")
    sub = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    p = sub.add_parser("as", help="text instructions -> hex words")
    p.add_argument("file")
    p.set_defaults(func=_as)
    p = sub.add_parser("dis", help="hex words -> text instructions")
    p.add_argument("file")
    p.set_defaults(func=_dis)
    p = sub.add_parser("doc", help="write the ISA reference (Markdown)")
    p.add_argument("--out", default="docs/isa.md")
    p.set_defaults(func=_doc)
