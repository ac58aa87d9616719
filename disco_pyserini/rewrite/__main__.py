"""``python -m disco_pyserini.rewrite --llm NAME_OR_PATH --topics FILE --output rewrites.jsonl``

Rewrites every turn with a causal LM (greedy by default) into ``{"qid", "rewrite"}`` JSONL; re-running
skips turns already in the output. Attach the result with ``--rewrites NAME=FILE`` elsewhere.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from disco_pyserini import cli
from disco_pyserini.cli import run


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m disco_pyserini.rewrite", description=__doc__.splitlines()[0])
    parser.add_argument("--llm", required=True, help="causal LM: hub name or local directory")
    parser.add_argument("--topics", required=True)
    parser.add_argument("--topics-format", default=None)
    parser.add_argument("--output", required=True, help="JSONL {qid, rewrite}; appended to, existing qids skipped")
    cli.add_overwrite(parser, "rewrite file (start over instead of resuming it)")
    parser.add_argument("--batch-size", type=cli.COUNT, default=8)
    parser.add_argument("--max-new-tokens", type=cli.COUNT, default=64)
    parser.add_argument("--sample", action="store_true", help="sample instead of greedy decoding")
    parser.add_argument("--temperature", type=cli.POSITIVE, default=0.7)
    parser.add_argument("--max-answer-chars", type=cli.CUTOFF, default=500, help="clip history answers in the prompt")
    parser.add_argument("--device", default=None, type=cli.device)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    from disco_pyserini.rewrite.generate import Rewriter, finished_qids, rewrite_turns
    from disco_pyserini.topics import load_topics

    # an existing rewrite file of ours is resumed (finished_qids refuses any other file), or replaced (--overwrite)
    cli.claim_outputs([cli.Output("--output", args.output, "rewrites.jsonl", resumable=True)],
                      {"--llm": args.llm, "--topics": args.topics}, args.overwrite)
    turns = list(load_topics(args.topics, args.topics_format))
    done = finished_qids(args.output)  # checked before the LLM loads: a file that is not ours is refused at once
    if args.overwrite:
        done = set()
    written = 0
    if any(turn.query_id not in done for turn in turns):
        rewriter = Rewriter(args.llm, args.device, args.max_new_tokens, args.sample, args.temperature,
                            args.max_answer_chars)
        if args.overwrite:  # only now that the LLM loaded: a failed load keeps the old rewrites
            Path(args.output).unlink(missing_ok=True)
        written = rewrite_turns(rewriter, turns, args.output, args.batch_size, progress=not args.no_progress,
                                done=done)
    print(f"{written} rewrites written, {len(turns) - written} already in {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
