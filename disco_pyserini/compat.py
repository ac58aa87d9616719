"""Which Pyserini line is installed, and what differs between them, in one place.

Two lines are supported:

=============  ==========  ===============  ==========  ======
Pyserini       Python      Anserini jar     Lucene      Java
=============  ==========  ===============  ==========  ======
1.6            >= 3.11     1.7.x            9.9         >= 21
2.0-2.3        >= 3.12     2.x              10.x        >= 21
=============  ==========  ===============  ==========  ======

The Anserini classes and flags we call (``IndexCollection -impact -pretokenized``, ``SimpleImpactSearcher``,
``SimpleSearcher``, ``doc_raw``, ``batch_search``, ``pyserini.encode.QueryEncoder``) are the same on both;
what differs is the JVM options and the index format. Lucene 10 reads indexes that Lucene 9 wrote (its
backward codecs), but Lucene 9 cannot open a Lucene 10 index, and Java would report that with a stack
trace: :func:`check_index_readable` reads the version from the index's ``segments_N`` file first and says
which Pyserini to install. Lucene does not read indexes of a newer minor version either (10.4 fails on
10.5's doc values), so the full version is compared.
"""
from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import NamedTuple

from disco_pyserini.errors import InputError

_LUCENE_OF_ANSERINI = {1: 9, 2: 10}  # Anserini major -> Lucene major
_PYSERINI_FOR_LUCENE = {
    9: "pip install 'pyserini>=1.6,<2' (Python >= 3.11)",
    10: "pip install 'pyserini>=2,<2.4' (Python >= 3.12)",
}
# 2.4.0 downloads its prebuilt-index catalogue when pyserini.encode or pyserini.search is imported.
OFFLINE_HINT = "without network access install pyserini 2.3 (pip install 'pyserini>=2,<2.4')"
_SEGMENTS_MAGIC = 0x3FD76C17  # Lucene's CodecUtil.CODEC_MAGIC


@functools.lru_cache(maxsize=None)
def anserini_version(jar: str) -> tuple[int, ...]:
    """The Anserini version of a fat jar, from its file name (``anserini-2.3.0-fatjar.jar`` -> ``(2, 3, 0)``)."""
    match = re.match(r"anserini-(\d+(?:\.\d+)*)", os.path.basename(jar))
    if not match:
        raise InputError("cannot tell the Anserini version from the jar's name (expected anserini-X.Y.Z-fatjar.jar)",
                         jar)
    return tuple(int(part) for part in match.group(1).split("."))


def lucene_major(jar: str) -> int:
    """The Lucene major version bundled in an Anserini fat jar (Anserini 1.x: 9, 2.x: 10)."""
    major = anserini_version(jar)[0]
    return _LUCENE_OF_ANSERINI.get(major, 10 if major > 2 else 9)


def jvm_options(jar: str) -> list[str]:
    """JVM options the bundled Lucene needs beyond the defaults.

    Lucene 10 maps index files through ``java.lang.foreign`` (a restricted API): without native access
    granted, Java prints a warning on every start.
    """
    return ["--enable-native-access=ALL-UNNAMED"] if lucene_major(jar) >= 10 else []


class IndexVersion(NamedTuple):
    """What a Lucene commit (``segments_N``) records: the Lucene that wrote it and the major that created
    the index."""

    written: tuple[int, int, int]
    created_major: int


def _vint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7


def index_version(index_dir: str | os.PathLike) -> IndexVersion | None:
    """The Lucene version of an index's newest commit, read from the ``segments_N`` header (Lucene >= 7
    layout); ``None`` when there is no commit or its header is not one Lucene 7+ writes."""
    commits = [p for p in Path(index_dir).glob("segments_*") if p.name[9:].isalnum()]  # segments_<base-36 gen>
    if not commits:
        return None
    latest = max(commits, key=lambda p: int(p.name[9:], 36))
    try:
        with open(latest, "rb") as handle:
            data = handle.read(128)
        if int.from_bytes(data[:4], "big") != _SEGMENTS_MAGIC:
            return None
        name_length, at = _vint(data, 4)
        if data[at:at + name_length] != b"segments":
            return None
        at += name_length + 4 + 16  # codec version (int), index id (16 bytes)
        at += 1 + data[at]  # generation suffix (length byte + bytes)
        major, at = _vint(data, at)
        minor, at = _vint(data, at)
        bugfix, at = _vint(data, at)
        created, _ = _vint(data, at)
    except (OSError, IndexError):
        return None
    return IndexVersion((major, minor, bugfix), created)


def check_index_readable(index_dir: str | os.PathLike, jar: str, running: tuple[int, ...]) -> None:
    """Refuse, naming the Pyserini to install, an index that Lucene ``running`` (the version in ``jar``) cannot
    open: written by a newer Lucene (even a newer minor: Lucene 10.4 cannot read 10.5's doc values), or created by
    one more than a major version older."""
    found = index_version(index_dir)
    if found is None:
        return  # not ours to judge: Lucene's own error follows
    running = tuple(running[:3])
    # Lucene reads indexes written by its own version or older, created by its own major or the one before.
    if found.written <= running and found.created_major >= running[0] - 1:
        return
    ours = (f"the installed Pyserini (Anserini {'.'.join(map(str, anserini_version(jar)))}, Lucene "
            f"{'.'.join(map(str, running))})")
    written = ".".join(map(str, found.written))
    if found.written[0] > running[0]:
        hint = _PYSERINI_FOR_LUCENE.get(found.written[0], "install a Pyserini with a newer Lucene")
    elif found.written > running:
        hint = "install the newer Pyserini that built it"
    else:  # created by a Lucene too old: the oldest Lucene that reads it is one major newer
        hint = _PYSERINI_FOR_LUCENE.get(found.created_major + 1, "no supported Pyserini reads it")
        written = f"{written} (created by Lucene {found.created_major})"
    raise InputError(f"this index was written by Lucene {written}, which {ours} cannot read; {hint}, or rebuild the "
                     "index with 'python -m disco_pyserini.index'", index_dir)


def versions_info(index_dir: str | os.PathLike, jar: str) -> dict:
    """What ``backend.json`` records about the software that built an index."""
    found = index_version(index_dir)
    info = {"anserini": ".".join(map(str, anserini_version(jar)))}
    if found is not None:
        info["lucene"] = ".".join(map(str, found.written))
    return info
