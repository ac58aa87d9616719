"""A real-text benchmark collection from Debian packages: WordNet 3.0 glosses and GCIDE dictionary entries.

The packages are fetched with ``apt-get download`` (any user, no root install) and unpacked with ``dpkg-deb -x``
under ``bench/out/real/`` (git-ignored):

* ``wordnet-base`` (Princeton WordNet 3.0): one passage per synset of the four ``data.*`` files (117,659), its
  words then its gloss with the usage examples (``"dog, domestic dog: a member of the genus Canis ..."``);
* ``dict-gcide`` (GNU Collaborative International Dictionary of English, from Webster's 1913): one passage per
  distinct entry of the dictd index (126,239), markup and source tags removed, cut to ``MAX_WORDS`` words.

``build_corpus`` keeps every WordNet synset and a seeded sample of GCIDE entries up to ``docs`` passages, shuffled
with a fixed seed (so a prefix of 50k or 100k passages is a sample of the same mix), written as ``id<TAB>text``.

    python bench/real_corpus.py --docs 200000   # prints the corpus path
"""
from __future__ import annotations

import argparse
import gzip
import random
import re
import subprocess
import sys
from pathlib import Path

from common import OUT, log

PACKAGES = ("wordnet-base", "dict-gcide")
WORDNET_FILES = ("data.noun", "data.verb", "data.adj", "data.adv")
MAX_WORDS = 64
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"  # dictd's offset alphabet
_GCIDE_TAGS = re.compile(r"\[(?:1913 Webster|WordNet 1\.5|PJC|Webster 1913 Suppl\.|[A-Z][a-z]?\.?|Century Dict\.|"
                         r"Obs\.|R\.|Colloq\.|Archaic)[^\]]*\]")
_GCIDE_PRON = re.compile(r"\\[^\\]*\\|\([^()]*\[[^()]*\)")
_GCIDE_ACCENT = re.compile(r"\[([a-zA-Z])[^\]a-zA-Z]{0,2}\]")


def fetch(root: Path) -> Path:
    """Download and unpack the packages into ``root/x`` (once); returns that folder."""
    unpacked = root / "x"
    if (unpacked / "done").exists():
        return unpacked
    debs = root / "deb"
    debs.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", *PACKAGES], cwd=debs, check=True, stdout=subprocess.DEVNULL)
    for deb in sorted(debs.glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True)
    (unpacked / "done").write_text("\n".join(p.name for p in sorted(debs.glob("*.deb"))) + "\n")
    return unpacked


def wordnet_passages(unpacked: Path) -> list[tuple[str, str]]:
    """``(id, "word1, word2: gloss; examples")`` for every synset of WordNet 3.0."""
    out = []
    for name in WORDNET_FILES:
        for line in (unpacked / "usr/share/wordnet" / name).read_text(encoding="utf-8").splitlines():
            if line.startswith("  ") or " | " not in line:
                continue  # licence header
            head, gloss = line.split(" | ", 1)
            fields = head.split()
            words = [fields[4 + 2 * i].replace("_", " ") for i in range(int(fields[3], 16))]
            # offset + WordNet's synset type (n, v, a, s, r) names a synset: offsets are per data file, and
            # "adj"/"adv" share an initial (21 adverbs collided with adjectives when the file name gave the letter)
            out.append((f"wn-{fields[2]}-{fields[0]}", f"{', '.join(words)}: {gloss.strip()}"))
    return out


def _number(text: str) -> int:
    value = 0
    for char in text:
        value = value * 64 + _B64.index(char)
    return value


def gcide_passages(unpacked: Path) -> list[tuple[str, str]]:
    """``(id, text)`` for every distinct entry of GCIDE, cleaned and cut to ``MAX_WORDS`` words."""
    folder = unpacked / "usr/share/dictd"
    data = gzip.open(folder / "gcide.dict.dz").read()  # dictzip is gzip-compatible
    spans = set()
    for line in (folder / "gcide.index").read_text(encoding="utf-8").splitlines():
        head, offset, size = line.split("\t")
        if not head.startswith("00-database"):
            spans.add((_number(offset), _number(size)))
    out = []
    for offset, size in sorted(spans):
        text = data[offset:offset + size].decode("utf-8", "replace")
        text = _GCIDE_ACCENT.sub(r"\1", _GCIDE_PRON.sub(" ", _GCIDE_TAGS.sub(" ", text)))
        words = text.replace("{", "").replace("}", "").split()
        if len(words) >= 3:
            out.append((f"gcide-{offset}", " ".join(words[:MAX_WORDS])))
    return out


def build_corpus(docs: int, root: Path = OUT / "real", seed: int = 0) -> Path:
    """``root/corpus-<docs>.tsv``: every WordNet synset plus sampled GCIDE entries, shuffled (built once)."""
    path = root / f"corpus-{docs}.tsv"
    if path.exists():
        return path
    unpacked = fetch(root)
    wordnet, gcide = wordnet_passages(unpacked), gcide_passages(unpacked)
    if docs > len(wordnet) + len(gcide):
        sys.exit(f"error: --docs {docs} is more than the {len(wordnet) + len(gcide)} passages available")
    rng = random.Random(seed)
    rng.shuffle(gcide)
    passages = (wordnet + gcide)[:docs]
    rng.shuffle(passages)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for pid, text in passages:
            out.write(f"{pid}\t{' '.join(text.split())}\n")
    tmp.rename(path)
    words = sum(len(t.split()) for _, t in passages) / len(passages)
    log(f"corpus: {len(passages):,} passages ({sum(p.startswith('wn-') for p, _ in passages):,} WordNet, "
        f"{sum(p.startswith('gcide-') for p, _ in passages):,} GCIDE), {words:.1f} words each -> {path}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=200000)
    print(build_corpus(parser.parse_args().docs))


if __name__ == "__main__":
    main()
