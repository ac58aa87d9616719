"""Rewrite sources: the released Parquet rewrites (columns id, text), column overrides and hub dataset ids."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from disco_pyserini.errors import InputError
from disco_pyserini.topics import attach_rewrites, load_topics
from disco_pyserini.topics.rewrites import read_rewrites

TOPIOCQA = Path(__file__).parent / "fixtures" / "topics" / "topiocqa_all_history.json"


def released_table(path: Path, ids=("1_1", "1_2"), texts=("who sings for RATM", "when was RATM formed")) -> Path:
    """A made-up file shaped like slupart/topiocqa-rewrite-mistral's data/test-00000-of-00001.parquet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"id": list(ids), "text": list(texts)}).to_parquet(path)
    return path


def test_released_parquet_attaches_as_rewrite_source(tmp_path):
    path = released_table(tmp_path / "test-00000-of-00001.parquet")
    turns = {turn.query_id: turn for turn in attach_rewrites(load_topics(TOPIOCQA), path, "mistral")}
    assert turns["1_1"].rewrite("mistral") == "who sings for RATM"
    assert turns["1_2"].rewrite("mistral") == "when was RATM formed"
    assert turns["2_1"].rewrite("mistral") is None


def test_parquet_column_override_and_numeric_ids(tmp_path):
    path = tmp_path / "rw.parquet"
    pd.DataFrame({"qid": [7, 8], "rewrite": [" a ", "b"], "other": [0, 0]}).to_parquet(path)
    assert read_rewrites(f"{path}#qid,rewrite") == {"7": "a", "8": "b"}
    assert read_rewrites(path, columns=("qid", "rewrite")) == {"7": "a", "8": "b"}
    with pytest.raises(InputError, match=r"no column 'id', 'text' \(columns: qid, rewrite, other\).*#QID_COLUMN"):
        read_rewrites(path)
    with pytest.raises(InputError, match="expected '#QID_COLUMN,TEXT_COLUMN'"):
        read_rewrites(f"{path}#qid")


@pytest.mark.parametrize("frame, message", [
    ({"id": ["1", "1"], "text": ["a", "b"]}, "row 1: query id '1' appears twice"),
    ({"id": ["1", "2"], "text": ["a", " "]}, "row 1: expected a query id and a non-empty rewrite"),
])
def test_bad_parquet_rows(tmp_path, frame, message):
    path = tmp_path / "rw.parquet"
    pd.DataFrame(frame).to_parquet(path)
    with pytest.raises(InputError, match=message):
        read_rewrites(path)


def test_not_parquet_and_missing_files(tmp_path):
    bad = tmp_path / "rw.parquet"
    bad.write_text("1\tnot parquet\n")
    with pytest.raises(InputError, match="not a readable Parquet file"):
        read_rewrites(bad)
    with pytest.raises(InputError, match="Parquet file not found"):
        read_rewrites(tmp_path / "missing.parquet")
    with pytest.raises(InputError, match="rewrite file not found"):
        read_rewrites("some/missing.tsv")
    with pytest.raises(InputError, match="apply to Parquet files"):
        read_rewrites(f"{Path(__file__).parent / 'fixtures' / 'topics' / 'rewrites.tsv'}#id,text")


def test_hub_dataset_splits(tmp_path, monkeypatch):
    """A hub id reads the dataset's Parquet shards (faked here: no network in tests); several splits need :SPLIT."""
    import huggingface_hub

    snapshot = tmp_path / "snapshot"
    released_table(snapshot / "data" / "test-00000-of-00001.parquet")
    released_table(snapshot / "data" / "train-00000-of-00001.parquet", ids=("9_1",), texts=("train rewrite",))
    calls = []
    monkeypatch.setattr(huggingface_hub, "snapshot_download",
                        lambda repo, **kwargs: calls.append((repo, kwargs)) or str(snapshot))
    assert read_rewrites("slupart/topiocqa-rewrite-mistral:train") == {"9_1": "train rewrite"}
    assert calls[0] == ("slupart/topiocqa-rewrite-mistral", {"repo_type": "dataset", "allow_patterns": ["*.parquet"]})
    assert read_rewrites("slupart/topiocqa-rewrite-mistral:test#id,text")["1_2"] == "when was RATM formed"
    with pytest.raises(InputError, match="has splits test, train; choose one as slupart/x:SPLIT"):
        read_rewrites("slupart/x")
    with pytest.raises(InputError, match="has no split 'dev'"):
        read_rewrites("slupart/x:dev")


def test_hub_dataset_offline_is_one_line_error(monkeypatch):
    import huggingface_hub
    from huggingface_hub.errors import LocalEntryNotFoundError

    def offline(repo, **kwargs):
        raise LocalEntryNotFoundError("Got: ConnectError: [Errno -2] Name or service not known\nmore")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    message = (r"^cannot get hub dataset slupart/qrecc-rewrite-mistral \(Got: ConnectError: \[Errno -2\] Name or "
               r"service not known\); download its Parquet file")
    with pytest.raises(InputError, match=message) as error:
        read_rewrites("slupart/qrecc-rewrite-mistral")
    assert "\n" not in str(error.value)


def test_load_turns_with_parquet_rewrites(tmp_path):
    """``load_turns`` (behind every ``--rewrites NAME=SOURCE`` flag) takes Parquet sources too."""
    from disco_pyserini.topics.load import load_turns

    path = released_table(tmp_path / "rw.parquet")
    turns = load_turns(TOPIOCQA, None, {"mistral": path})
    assert [turn.rewrite("mistral") for turn in turns][:2] == ["who sings for RATM", "when was RATM formed"]
