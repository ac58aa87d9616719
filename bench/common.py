"""Shared helpers for the benchmarks: synthetic corpora, locally built SPLADE-shaped models, timers.

Models are built from a config with random weights (no hub access): ``bert-base`` has the real
compute cost of a SPLADE/DiSCo checkpoint (BertForMaskedLM, hidden 768, 12 layers, 12 heads,
intermediate 3072, MLM head over 30,522 ids). The WordPiece vocabulary is trained on synthetic text
and padded with filler tokens to 30,522 entries so the MLM head has the real width.

Random MLM weights give dense SPLADE vectors (every term of 30k positive after max pooling), which
would make export and search unrealistically heavy. ``calibrate_sparsity`` shifts the decoder bias
(cost-free) so that documents get about ``--terms`` non-zero terms, as real SPLADE does (~100-200).

Everything is cached under ``bench/out/`` (git-ignored).
"""
from __future__ import annotations

import json
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OUT = Path(os.environ.get("DISCO_BENCH_OUT", BENCH / "out"))
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

VOCAB_SIZE = 30522
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
SIZES = {
    # name: (hidden, layers, heads, intermediate)
    "bert-base": (768, 12, 12, 3072),
    "tiny": (64, 2, 2, 128),
}

_SYLLABLES = ("ka ri to na mi su re lo pe an ex in un ter ing ed al or ic ous bal mon dra ven sel cor tri "
              "pha lu ge bo fi qua stra zen vel mar os ut ir am ep ob").split()


def lexicon(size: int = 20000, seed: int = 0) -> list[str]:
    """Pseudo-words (2-4 syllables), so WordPiece learns whole words and sub-words."""
    rng = random.Random(seed)
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 4))))
    return sorted(words)


def synthetic_texts(count: int, min_words: int = 20, max_words: int = 200, seed: int = 0) -> list[str]:
    """Passages with Zipf-distributed words and uniformly random lengths in ``[min_words, max_words]``."""
    rng = random.Random(seed)
    words = lexicon()
    weights = [1.0 / (rank + 1) ** 1.05 for rank in range(len(words))]
    out = []
    for _ in range(count):
        n = rng.randint(min_words, max_words)
        out.append(" ".join(rng.choices(words, weights, k=n)))
    return out


def write_corpus(path: Path, count: int, min_words: int = 20, max_words: int = 200, seed: int = 0) -> Path:
    """A JSONL corpus ``{"id", "contents"}`` (Pyserini's and ours), cached by its parameters."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        for i, text in enumerate(synthetic_texts(count, min_words, max_words, seed)):
            handle.write(json.dumps({"id": f"d{i}", "contents": text}) + "\n")
    os.replace(tmp, path)
    return path


def conversation_text(words: int = 260, seed: int = 1) -> str:
    """A DiSCo-style query input (utterance [SEP] history ...) long enough to fill 256 tokens."""
    texts = synthetic_texts(8, words // 8, words // 8, seed)
    return " [SEP] ".join(texts)


def build_model(size: str = "bert-base", terms: float = 150.0, root: Path | None = None, seed: int = 0) -> Path:
    """A random-weight SPLADE-shaped BertForMaskedLM with a padded 30,522-entry WordPiece vocab (cached)."""
    import torch
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast

    path = (root or OUT / "models") / f"{size}-t{int(terms)}"
    if (path / "config.json").exists():
        return path
    tmp = path.with_name(path.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    trainer = BertWordPieceTokenizer(lowercase=True)
    trainer.train_from_iterator(synthetic_texts(3000, seed=seed + 7), vocab_size=8000, special_tokens=SPECIALS,
                                show_progress=False)
    vocab = [t for t, _ in sorted(trainer.get_vocab().items(), key=lambda kv: kv[1])]
    vocab += [f"[filler{i}]" for i in range(VOCAB_SIZE - len(vocab))]
    (tmp / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(str(tmp / "vocab.txt"), model_max_length=512)
    tokenizer.save_pretrained(tmp)
    hidden, layers, heads, inter = SIZES[size]
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=VOCAB_SIZE, hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=heads, intermediate_size=inter, max_position_embeddings=512)
    model = BertForMaskedLM(config).eval()
    calibrate_sparsity(model, tokenizer, terms)
    model.save_pretrained(tmp)
    if path.exists():
        import shutil

        shutil.rmtree(path)
    os.replace(tmp, path)
    return path


def calibrate_sparsity(model, tokenizer, terms: float, sample: int = 16) -> None:
    """Set the MLM decoder bias so a sample of documents averages about ``terms`` non-zero weights."""
    import torch

    texts = synthetic_texts(sample, seed=12345)
    inputs = tokenizer(texts, max_length=256, truncation=True, padding="longest", return_tensors="pt",
                       return_token_type_ids=False)
    with torch.inference_mode():
        logits = model(**inputs).logits
        logits = logits.masked_fill(~inputs["attention_mask"].bool().unsqueeze(-1), -1e9)
        pooled = logits.amax(dim=1)  # [sample, vocab]: a term is non-zero iff pooled + bias > 0
        # Per-term threshold shift: the bias is one scalar per vocabulary id; a shared shift keeps
        # the random model's term preferences. Pick the quantile giving `terms` per document.
        # Small weights round to zero at factor 100, so aim a little above the target.
        q = 1.0 - (terms * 1.05) / pooled.shape[1]
        shift = torch.quantile(pooled.flatten().float()[:2_000_000], q).item()
        bias = model.get_output_embeddings().bias
        bias.data.fill_(-shift)
    model.config.bench_sparsity_shift = shift


# ----------------------------------------------------------------------------------------- timing

def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def table(rows: list[Sequence[object]], header: Sequence[str]) -> str:
    """A GitHub-markdown table (also readable in a terminal)."""
    cells = [[str(c) for c in header]] + [[c if isinstance(c, str) else _fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
                     + [line(r) for r in cells[1:]])


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def set_threads(threads: int | None) -> None:
    import torch

    if threads:
        torch.set_num_threads(threads)


def cached_builds(builders: dict[str, Callable[[Path], object]], root: Path, source: Path,
                  rebuild: bool = False) -> dict[str, dict]:
    """Build each ``name: builder(out)`` into ``root/name`` unless ``root/builds.json`` already records it (and the
    folder is there); the record keeps each build's documents, seconds and folder MB."""
    from disco_pyserini.index.layout import folder_bytes

    record = root / "builds.json"
    builds = json.loads(record.read_text()) if record.exists() and not rebuild else {}
    for name, build in builders.items():
        if name in builds and (root / name).exists():
            continue
        log(f"building {name} over {source}")
        stats = build(root / name)
        builds[name] = {"documents": stats.documents, "seconds": stats.seconds,
                        "mb": folder_bytes(root / name) / 2**20}
        record.write_text(json.dumps(builds, indent=2))
    return builds


def recall(expected, found, n: int) -> float:
    """Share of the exact top n that ``found``'s top n holds, ties at the n-th score counting as found."""
    if not expected:
        return 1.0
    cut = expected[min(n, len(expected)) - 1].score
    return min(1.0, sum(h.score >= cut for h in found[:n]) / min(n, len(expected)))


def log(*args: object) -> None:
    print(*args, file=sys.stderr, flush=True)
