"""``python -m disco_pyserini.rewrite --llm NAME_OR_PATH --topics FILE --output rewrites.jsonl``

Rewrites every turn with a causal LM (greedy by default) into ``{"qid", "rewrite"}`` JSONL; re-running
skips turns already in the output. Attach the result with ``--rewrites NAME=FILE`` elsewhere.
"""
from __future__ import annotations

import argparse
from typing import Sequence

from disco_pyserini.cli import run
from disco_pyserini.errors import InputError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m disco_pyserini.rewrite", description=__doc__.splitlines()[0])
    parser.add_argument("--llm", required=True, help="causal LM: hub name or local directory")
    parser.add_argument("--topics", required=True)
    parser.add_argument("--topics-format", default=None)
    parser.add_argument("--output", required=True, help="JSONL {qid, rewrite}; appended to, existing qids skipped")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--sample", action="store_true", help="sample instead of greedy decoding")
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--max-answer-chars", type=int, default=500, help="clip history answers in the prompt")
    parser.add_argument("--device", default=None)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    from disco_pyserini.rewrite.generate import Rewriter, finished_qids, rewrite_turns
    from disco_pyserini.topics import load_topics

    if args.batch_size < 1 or args.max_new_tokens < 1:
        raise InputError("--batch-size and --max-new-tokens must be >= 1")
    turns = list(load_topics(args.topics, args.topics_format))
    done = finished_qids(args.output)  # checked before the LLM loads: a file that is not ours is refused at once
    written = 0
    if any(turn.query_id not in done for turn in turns):
        rewriter = Rewriter(args.llm, args.device, args.max_new_tokens, args.sample, args.temperature,
                            args.max_answer_chars)
        written = rewrite_turns(rewriter, turns, args.output, args.batch_size, progress=not args.no_progress,
                                done=done)
    print(f"{written} rewrites written, {len(turns) - written} already in {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
