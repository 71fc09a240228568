"""The whole-core model's build cache (``dfx_hw/rtlsim/build.py``) refuses to store a model
elaborated from modules that may predate their source files."""

import os
import time

import pytest

import dfx_hw
from dfx_hw.rtlsim.build import BuildError, check_sources_unchanged
from dfx_hw.synth.sources import source_files


def test_sources_changed_after_import_are_refused(tmp_path, monkeypatch):
    """A file modified after this process imported dfx_hw is named in the error (the cache key
    would be the new sources' while the core in memory is the old); the core's own sources, not
    modified since, pass."""
    files = list(source_files("dfx_hw.core.core").values())
    assert files and all(path.stat().st_mtime <= dfx_hw.IMPORTED_AT for path in files)
    check_sources_unchanged(files)
    edited = tmp_path / "matrix_path.py"
    edited.write_text("# edited while a simulation was starting\n")
    later = dfx_hw.IMPORTED_AT + 60
    os.utime(edited, (later, later))
    with pytest.raises(BuildError, match=r"1 dfx_hw source file\(s\) changed after this process "
                                         r"started \(.*matrix_path.py\).*run again"):
        check_sources_unchanged(files + [edited])
    monkeypatch.setattr(dfx_hw, "IMPORTED_AT", time.time() + 3600)
    check_sources_unchanged(files + [edited])
