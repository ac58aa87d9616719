"""The REST and MCP server: the search command's hits, batching, errors that name the field, load bounds, API key."""
from __future__ import annotations

import asyncio
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import search_sample
from tests.serving import as_request, call, response_hits, run_hits, running_server

KEY = "test-key-0123"
MAX_BATCH = 16
MAX_IN_FLIGHT = 48


@pytest.fixture(scope="module")
def server(sample_index, lexical_splade):
    with running_server(sample_index / "index", lexical_splade, api_key=KEY, max_batch=MAX_BATCH,
                        max_in_flight=MAX_IN_FLIGHT) as running:
        yield running


@pytest.fixture(scope="module")
def sample_turns():
    from disco_pyserini.sample import CONVERSATIONS
    from disco_pyserini.topics.load import load_turns

    return list(load_turns(CONVERSATIONS))


@pytest.fixture(scope="module")
def cli_run(sample_index, lexical_splade, tmp_path_factory) -> dict:
    """``python -m disco_pyserini.search`` over the sample conversations, top 10."""
    return run_hits(search_sample(sample_index, lexical_splade, tmp_path_factory.mktemp("run") / "run.trec"))


def post(server, path, body, key=KEY):
    return call(server.url, path, body, key=key)


def test_concurrent_clients_get_the_search_commands_hits_and_scores(server, sample_turns, cli_run):
    def search(turn):
        status, body, _ = post(server, "/search", as_request(turn, hits=10))
        assert status == 200, body
        return turn.query_id, body

    with ThreadPoolExecutor(8) as pool:  # 8 clients at once: batched together, nothing mixed up between them
        answers = dict(pool.map(search, sample_turns))
    assert set(answers) == set(cli_run) and len(cli_run) == len(sample_turns)
    for qid, body in answers.items():
        assert response_hits(body) == cli_run[qid], qid
        assert all(hit["text"] for hit in body["hits"])  # the sample index stores the passages


def test_search_shows_the_formulated_query_and_its_top_terms(server, sample_turns):
    turn = next(t for t in sample_turns if t.history)
    status, body, _ = post(server, "/search", as_request(turn, hits=3, terms=4))
    assert status == 200
    assert body["query"]["text"].startswith(turn.utterance + " [SEP] ")  # DiSCo's input: newest turn first
    terms = body["query"]["terms"]
    assert 0 < len(terms) <= 4 and [t["weight"] for t in terms] == sorted((t["weight"] for t in terms), reverse=True)
    typed = " ".join([e.utterance for e in turn.history] + [turn.utterance]).lower()
    assert all(t["expansion"] == (t["term"].lstrip("#") not in typed) for t in terms)
    assert [hit["rank"] for hit in body["hits"]] == [1, 2, 3]


def test_a_batch_request_is_one_encoder_batch_with_the_single_answers(server, sample_turns):
    turns = sample_turns[:5]
    batcher = server.service.batcher
    before = batcher.batches
    status, body, _ = post(server, "/search/batch", {"requests": [as_request(t, hits=5) for t in turns]})
    assert status == 200 and batcher.batches == before + 1
    for turn, result in zip(turns, body["results"]):
        single = post(server, "/search", as_request(turn, hits=5))[1]
        assert response_hits(result) == response_hits(single)


def test_policies_and_query_pruning(server, sample_turns):
    turn = next(t for t in sample_turns if t.history and t.manual_rewrite)
    raw = post(server, "/search", as_request(turn, policy="raw"))[1]
    assert raw["query"]["text"] == turn.utterance
    manual = post(server, "/search", as_request(turn, policy="manual", rewrites={"manual": turn.manual_rewrite}))[1]
    assert manual["query"]["text"] == turn.manual_rewrite
    pruned = post(server, "/search", as_request(turn, query_topk=2, terms=50))[1]
    assert len(pruned["query"]["terms"]) == 2


@pytest.mark.parametrize("body, status, field", [
    ({"conversation": []}, 422, "conversation"),
    ({"conversation": [{"utterance": "  "}]}, 422, "conversation.0.utterance"),
    ({"conversation": [{"utterance": "a", "response": "b"}]}, 422, "conversation.0.response"),
    ({"conversation": [{"utterance": "a"}], "hits": 0}, 422, "hits"),
    ({"conversation": [{"utterance": "a"}], "hits": "ten"}, 422, "hits"),
    ({"conversation": [{"utterance": "a"}], "query_topk": -1}, 422, "query_topk"),
    ({"conversation": [{"utterance": "a"}], "policy": "llm"}, 422, "policy"),
    ({"conversation": [{"utterance": "a"}], "policy": "manual"}, 422, "rewrites.manual"),
    ({"conversation": [{"utterance": "a"}], "policy": "rewrite:gpt"}, 422, "rewrites.gpt"),
    ({"conversation": [{"utterance": "a", "answer": "b"}]}, 422, "conversation.0.answer"),
    ({"turns": [{"utterance": "a"}]}, 422, "conversation"),
])
def test_bad_requests_are_4xx_json_naming_the_field(server, body, status, field):
    got, answer, _ = post(server, "/search", body)
    assert (got, answer["error"]["field"]) == (status, field), answer
    assert answer["error"]["message"]


def test_malformed_json_and_bad_batch_items_name_where(server):
    status, body, _ = call(server.url, "/search", raw=b'{"conversation": [', key=KEY)
    assert status == 400 and body["error"]["field"] == "body" and "malformed JSON" in body["error"]["message"]
    status, body, _ = post(server, "/search/batch", {"requests": [{"conversation": [{"utterance": "a"}]},
                                                                  {"conversation": [{"utterance": ""}]}]})
    assert status == 422 and body["error"]["field"] == "requests.1.conversation.0.utterance"
    assert post(server, "/health", None)[0] == 200  # nothing took the server down


def test_past_the_in_flight_bound_the_answer_is_503_with_retry_after(server):
    requests = [{"conversation": [{"utterance": f"tenolo {i}"}]} for i in range(MAX_IN_FLIGHT + 1)]
    status, body, headers = post(server, "/search/batch", {"requests": requests})
    assert status == 503 and int(headers["Retry-After"]) >= 1 and "in flight" in body["error"]["message"]
    assert post(server, "/search/batch", {"requests": requests[:MAX_IN_FLIGHT]})[0] == 200


def test_micro_batcher_bounds_in_flight_and_batches_what_waits():
    from disco_pyserini.serve.batcher import MicroBatcher, Overloaded

    sizes = []

    def work(batch):
        sizes.append(len(batch))
        time.sleep(0.05)
        return [item * 2 for item in batch]

    async def scenario():
        batcher = MicroBatcher(work, max_batch=4, max_wait=0.01, max_in_flight=6)
        async with batcher.running():
            first = asyncio.ensure_future(batcher.submit([1]))
            await asyncio.sleep(0.02)  # the first batch is running: the next five wait together
            rest = [asyncio.ensure_future(batcher.submit([i])) for i in range(2, 7)]
            await asyncio.sleep(0)
            with pytest.raises(Overloaded) as refused:
                await batcher.submit([7])
            results = await asyncio.gather(first, *rest)
        return results, refused.value

    results, refused = asyncio.run(scenario())
    assert results == [[2], [4], [6], [8], [10], [12]] and refused.retry_after >= 1
    assert sizes == [1, 4, 1]


def test_a_failing_batch_fails_its_requests_and_the_batcher_goes_on():
    from disco_pyserini.serve.batcher import MicroBatcher

    def work(batch):
        if "boom" in batch:
            raise RuntimeError("engine failure")
        return [item.upper() for item in batch]

    async def scenario():
        async with MicroBatcher(work, max_batch=4, max_wait=0).running() as batcher:
            with pytest.raises(RuntimeError, match="engine failure"):
                await batcher.submit(["a", "boom"])
            return await batcher.submit(["b"]), batcher.in_flight

    assert asyncio.run(scenario()) == (["B"], 0)


def test_api_key_is_required_except_for_the_page_health_and_docs(server):
    body = {"conversation": [{"utterance": "tenolo"}]}
    status, answer, headers = post(server, "/search", body, key=None)
    assert status == 401 and answer["error"]["field"] == "Authorization" and headers["WWW-Authenticate"] == "Bearer"
    assert post(server, "/search", body, key="wrong")[0] == 403
    assert call(server.url, "/info")[0] == 401
    for path in ("/health", "/", "/docs", "/openapi.json"):
        assert call(server.url, path)[0] == 200, path


def test_info_and_openapi(server, sample_index):
    status, info, _ = call(server.url, "/info", key=KEY)
    assert status == 200 and info["backend"] == "lucene" and info["index"] == str(sample_index / "index")
    assert info["documents"] == server.service.retriever.searcher.num_docs > 0
    assert info["quantization_factor"] == 100 and info["max_batch"] == MAX_BATCH
    paths = call(server.url, "/openapi.json")[1]["paths"]
    assert {"/search", "/search/batch", "/health", "/info"} <= set(paths)


def mcp_search(client_source, arguments):
    from mcp import Client

    async def go():
        async with Client(client_source) as client:
            tools = await client.list_tools()
            result = await client.call_tool("search_conversation", arguments)
            bad = await client.call_tool("search_conversation", {"conversation": [{"utterance": "a"}],
                                                                 "policy": "manual"})
            return [tool.name for tool in tools.tools], result, bad

    return asyncio.run(go())


def test_mcp_over_http_gives_the_rest_answer(server, sample_turns):
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    turn = next(t for t in sample_turns if t.history)
    transport = streamable_http_client(server.url + "/mcp",
                                       http_client=httpx2.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}))
    names, result, bad = mcp_search(transport, as_request(turn, hits=5))
    assert names == ["search_conversation"] and not result.is_error
    assert result.structured_content == post(server, "/search", as_request(turn, hits=5))[1]
    assert bad.is_error and "rewrites.manual" in bad.content[0].text


def test_mcp_over_stdio_from_the_command_line(server, sample_index, lexical_splade, sample_turns):
    from mcp import StdioServerParameters

    turn = next(t for t in sample_turns if t.history)
    command = StdioServerParameters(command=sys.executable, args=[
        "-m", "disco_pyserini.serve", "--stdio", "--index", str(sample_index / "index"), "--encoder",
        str(lexical_splade), "--device", "cpu"], env={"PYTHONPATH": ":".join(sys.path)})
    names, result, bad = mcp_search(command, as_request(turn, hits=5))
    assert names == ["search_conversation"] and not result.is_error
    assert result.structured_content == post(server, "/search", as_request(turn, hits=5))[1]
    assert bad.is_error and "rewrites.manual" in bad.content[0].text


def test_command_line_errors_are_one_line(sample_index, lexical_splade, tmp_path, capsys):
    from disco_pyserini import cli
    from disco_pyserini.serve.__main__ import main

    assert cli.run(main, ["--index", str(tmp_path), "--encoder", str(lexical_splade), "--port", "0"]) == 2
    assert "not an index" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:  # refused as the flag is parsed
        cli.run(main, ["--index", "x", "--encoder", "y", "--max-batch", "0"])
    assert refused.value.code == 2 and "argument --max-batch: must be >= 1" in capsys.readouterr().err


@pytest.mark.parametrize("backend", ["bmp", "seismic"])
def test_fast_backends_serve_the_search_commands_hits(backend, sample_index, lexical_splade, sample_turns, tmp_path):
    pytest.importorskip({"bmp": "bmp", "seismic": "seismic"}[backend])
    from disco_pyserini import cli
    from disco_pyserini.index.__main__ import main as index_main
    from disco_pyserini.search.__main__ import main as search_main
    from disco_pyserini.serve.retriever import Query, Retriever
    from disco_pyserini.serve.conversation import make_turn, query_text
    from disco_pyserini.sample import CONVERSATIONS

    index = tmp_path / backend
    assert cli.run(index_main, ["--backend", backend, "--input", str(sample_index / "vectors"), "--index", str(index),
                                "--store-raw", "--threads", "2"]) == 0
    assert search_main(["--index", str(index), "--topics", str(CONVERSATIONS), "--encoder", str(lexical_splade),
                        "--output", str(tmp_path / "run.trec"), "--hits", "10", "--device", "cpu"]) == 0
    expected = run_hits((tmp_path / "run.trec").read_text())
    retriever = Retriever(index, str(lexical_splade), device="cpu")
    try:
        assert retriever.info()["backend"] == backend
        turns = [make_turn(as_request(turn)["conversation"]) for turn in sample_turns]
        results = retriever.search([Query(query_text(turn, "disco"), 10) for turn in turns])
    finally:
        retriever.close()
    for turn, result in zip(sample_turns, results):
        assert [(h.docid, rank, f"{h.score:.6f}") for rank, h in enumerate(result.hits, 1)] == expected[turn.query_id]
        assert all(result.texts)
