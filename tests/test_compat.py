"""Both Pyserini lines: versions read from the jar and from index headers, and the clear error between them."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from disco_pyserini import compat
from disco_pyserini.errors import InputError
from disco_pyserini.jvm import anserini_jar

PYSERINI_1 = "/x/anserini-1.7.1-fatjar.jar"
PYSERINI_2 = "/x/anserini-2.2.0-fatjar.jar"
LUCENE_9, LUCENE_10 = (9, 9, 1), (10, 4, 0)


def _vint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes(out + bytes([value]))


def fake_commit(folder: Path, written: tuple[int, int, int], created: int, generation: int = 1) -> Path:
    """A ``segments_N`` whose header says what Lucene ``written`` wrote it (the rest is not needed to read that)."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = str(generation).encode()
    header = (0x3FD76C17.to_bytes(4, "big") + _vint(8) + b"segments" + (10).to_bytes(4, "big") + bytes(16)
              + bytes([len(suffix)]) + suffix + b"".join(_vint(v) for v in written) + _vint(created))
    (folder / f"segments_{generation}").write_bytes(header + bytes(32))
    return folder


def test_versions_come_from_the_jar_name():
    assert compat.anserini_version(PYSERINI_2) == (2, 2, 0)
    assert compat.lucene_major(PYSERINI_1) == 9 and compat.lucene_major(PYSERINI_2) == 10
    assert compat.jvm_options(PYSERINI_1) == []
    assert compat.jvm_options(PYSERINI_2) == ["--enable-native-access=ALL-UNNAMED"]
    with pytest.raises(InputError, match="Anserini version"):
        compat.anserini_version("/x/lucene.jar")


def test_index_version_reads_the_newest_commit(tmp_path):
    fake_commit(tmp_path, (9, 9, 1), 9, generation=2)
    fake_commit(tmp_path, (10, 5, 0), 10, generation=36)  # segments_36 sorts before segments_2 as text
    assert compat.index_version(tmp_path) == compat.IndexVersion((10, 5, 0), 10)
    assert compat.index_version(tmp_path / "missing") is None
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "segments_1").write_bytes(b"not lucene")
    assert compat.index_version(tmp_path / "other") is None


def test_lucene_10_index_on_pyserini_1_names_the_pyserini_to_install(tmp_path):
    index = fake_commit(tmp_path / "idx", (10, 5, 0), 10)
    with pytest.raises(InputError) as error:
        compat.check_index_readable(index, PYSERINI_1, LUCENE_9)
    message = str(error.value)
    assert "Lucene 10.5.0" in message and "pyserini>=2" in message and "Python >= 3.12" in message
    assert "\n" not in message
    compat.check_index_readable(index, PYSERINI_2, (10, 5, 0))  # fine where Lucene is as new


def test_a_newer_minor_lucene_is_refused_too(tmp_path):
    """Lucene 10.4 fails on 10.5's doc values (seen with Pyserini 2.3 on an index built by 2.4)."""
    index = fake_commit(tmp_path / "idx", (10, 5, 0), 10)
    with pytest.raises(InputError,
                       match="Lucene 10.5.0, which the installed Pyserini .*Lucene 10.4.0.* newer Pyserini"):
        compat.check_index_readable(index, PYSERINI_2, LUCENE_10)


def test_lucene_9_index_opens_on_both_lines_and_older_ones_are_refused(tmp_path):
    lucene9 = fake_commit(tmp_path / "nine", (9, 9, 1), 9)
    compat.check_index_readable(lucene9, PYSERINI_1, LUCENE_9)
    compat.check_index_readable(lucene9, PYSERINI_2, LUCENE_10)  # Lucene 10 reads Lucene 9 indexes (backward codecs)
    lucene8 = fake_commit(tmp_path / "eight", (9, 9, 1), 8)  # created by Lucene 8, last written by 9
    compat.check_index_readable(lucene8, PYSERINI_1, LUCENE_9)
    with pytest.raises(InputError, match="created by Lucene 8.*pyserini>=1.6,<2"):
        compat.check_index_readable(lucene8, PYSERINI_2, LUCENE_10)


def test_search_on_an_index_of_the_other_line_is_one_error_line(tmp_path):
    """The installed line's search refuses an index only the other line can read: exit 2, no Java trace."""
    running = compat.lucene_major(anserini_jar())
    other = (10, 5, 0) if running == 9 else (8, 11, 2)
    index = fake_commit(tmp_path / "idx", other, other[0])
    (index / "backend.json").write_text(json.dumps({"backend": "lucene", "kind": "bm25"}))
    topics = tmp_path / "topics.jsonl"
    topics.write_text(json.dumps({"conversation_id": "c1", "turns": [{"turn_id": "1", "utterance": "panda"}]}) + "\n")
    result = subprocess.run([sys.executable, "-m", "disco_pyserini.search", "--bm25", "--index", str(index),
                             "--topics", str(topics), "--output", str(tmp_path / "run.txt")],
                            capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert f"Lucene {'.'.join(map(str, other))}" in result.stderr and "pip install 'pyserini" in result.stderr
    assert not (tmp_path / "run.txt").exists()


def test_a_pyserini_import_that_needs_the_network_is_one_clear_error():
    """Pyserini 2.4.0 downloads its prebuilt-index catalogue when pyserini.encode is imported; offline that is
    a URLError deep inside the import, reported as one line that names the Pyserini working offline."""
    import urllib.error

    from disco_pyserini.jvm import pyserini_imports

    with pytest.raises(InputError, match=r"prebuilt-index catalogue .*Name or service not known.*pyserini>=2,<2.4"):
        with pyserini_imports():
            raise urllib.error.URLError("[Errno -2] Name or service not known")
