"""Corpus layouts: TopiOCQA's titled TSV (``id<TAB>text<TAB>title`` with a header) read as the DiSCo reference does."""
from __future__ import annotations

import gzip

import pytest

from disco_pyserini.encode.corpus import count_lines, read_corpus
from disco_pyserini.errors import InputError

# The shape of TopiOCQA's full_wiki_segments.tsv: a header, then id, text, and "Article [SEP] Section" titles.
WIKI_SEGMENTS = (
    "id\ttext\ttitle\n"
    "1\tAaron is a prophet in the Abrahamic religions.\tAaron [SEP] Introduction\n"
    "2\tHe was the elder brother of Moses.\tAaron [SEP] Life\n"
    "14979882\tDunkirk is a 2017 war film written by Christopher Nolan.\tDunkirk (2017 film) [SEP] Introduction\n"
)


def test_titled_tsv_skips_header_and_joins_title_then_text(tmp_path):
    path = tmp_path / "full_wiki_segments.tsv"
    path.write_text(WIKI_SEGMENTS)
    docs = list(read_corpus(path))
    assert [doc.doc_id for doc in docs] == ["1", "2", "14979882"]  # the tsv ids; no document called "id"
    # the reference's contents: title + ". " + text
    assert docs[0].text == "Aaron [SEP] Introduction. Aaron is a prophet in the Abrahamic religions."
    assert docs[2].text == ("Dunkirk (2017 film) [SEP] Introduction. "
                            "Dunkirk is a 2017 war film written by Christopher Nolan.")


def test_titled_tsv_shards_and_gzip(tmp_path):
    path = tmp_path / "full_wiki_segments.tsv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(WIKI_SEGMENTS)
    assert count_lines(path) == 4  # line ranges count the header; it is skipped inside whichever shard holds it
    assert [doc.doc_id for doc in read_corpus(path, 0, 2)] == ["1"]
    assert [doc.doc_id for doc in read_corpus(path, 2, 4)] == ["2", "14979882"]
    assert read_corpus(path, 2, 4).__next__().text.startswith("Aaron [SEP] Life. He was")  # layout known in shard 2


@pytest.mark.parametrize("first_line", ["id\ttext", "id\ttext\ttitle\textra", "ID\tTEXT\tTITLE", "doc1\ttext\ttitle"])
def test_other_first_lines_are_documents(tmp_path, first_line):
    path = tmp_path / "corpus.tsv"
    path.write_text(f"{first_line}\nd2\tsecond text\n")
    docs = list(read_corpus(path))
    assert len(docs) == 2 and docs[0].doc_id == first_line.split("\t")[0]  # plain id<TAB>text, as before
    assert docs[0].text == first_line.partition("\t")[2]


def test_titled_tsv_line_without_three_fields_is_named(tmp_path):
    path = tmp_path / "full_wiki_segments.tsv"
    path.write_text("id\ttext\ttitle\n1\tsome text\tTitle\n2\ttext without a title\n")
    docs = read_corpus(path)
    assert next(docs).doc_id == "1"
    with pytest.raises(InputError, match=r"full_wiki_segments.tsv:3: expected 'id<TAB>text<TAB>title' .* got 2 fields"):
        next(docs)


def test_titled_tsv_edge_cases_as_the_reference_reads_them(tmp_path):
    path = tmp_path / "full_wiki_segments.tsv"
    path.write_text("id\ttext\ttitle\n\n1\tsome text\tTitle\n\n2\ttext without a title\t\n")
    docs = list(read_corpus(path))
    # empty lines are skipped (the reference's len(line) > 1), an empty title still gets ". " before the text
    assert [(doc.doc_id, doc.text) for doc in docs] == [("1", "Title. some text"), ("2", ". text without a title")]
    plain = tmp_path / "corpus.tsv"
    plain.write_text("d1\tone\n\nd2\ttwo\n")
    with pytest.raises(InputError, match=r"corpus.tsv:2: empty line"):
        list(read_corpus(plain))  # other layouts keep refusing them
