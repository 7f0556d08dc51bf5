"""What a correction costs: re-rendering a story after one speaker correction and one
pronunciation, against rendering it from nothing, in the same run.

Renders the demo story (or ``--story``) into a fresh line cache, then renders it again
with the first dialogue line given to another speaker and one word said differently,
and prints both wall times, the lines synthesized anew and the ratio.

    .venv/bin/python bench/corrections.py [--profile neural|fast] [--story FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from talecast.pipeline.reading import read_story_file  # noqa: E402
from talecast.pipeline.render import RenderOptions, render_story  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--story", type=Path, default=REPO / "examples" / "lighthouse.md"
    )
    parser.add_argument("--profile", choices=["neural", "fast"], default="neural")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    document = read_story_file(args.story)

    with tempfile.TemporaryDirectory(prefix="talecast-bench-") as tmp:
        cache = Path(tmp) / "cache"
        options = RenderOptions(profile=args.profile, threads=args.threads)
        started = time.perf_counter()
        first = render_story(document, Path(tmp) / "a", options, cache_dir=cache)
        full_s = time.perf_counter() - started
        lines_full = len(list(cache.rglob("*.flac")))

        script = [i for i in first.transcript if i["speaker"] != "Narrator"]
        line = next(i for i in script)
        other = next(i["speaker"] for i in script if i["speaker"] != line["speaker"])
        start_char = _start_char(Path(tmp) / "a", line["text"])
        word = max(
            (w.strip(".,;!?\"'") for i in first.transcript for w in i["text"].split()),
            key=len,
        )
        corrected = RenderOptions(
            profile=args.profile,
            threads=args.threads,
            corrections={
                "speakers": [{"start_char": start_char, "speaker": other}],
                "pronunciations": {word: " ".join(word)},
            },
            keep_voices={n: e.voice_id for n, e in first.cast.items()},
        )
        started = time.perf_counter()
        render_story(document, Path(tmp) / "b", corrected, cache_dir=cache)
        fix_s = time.perf_counter() - started
        fresh = len(list(cache.rglob("*.flac"))) - lines_full

    print(f"story: {args.story.name}, profile {args.profile}, {args.threads} thread(s)")
    print(f"full render:      {full_s:7.2f} s  ({lines_full} lines synthesized)")
    print(
        f"after correction: {fix_s:7.2f} s  ({fresh} lines synthesized: one speaker, "
        f"the word {word!r})"
    )
    print(f"ratio corrected / full: {fix_s / full_s:.3f}")
    return 0


def _start_char(run_dir: Path, text: str) -> int:
    script = json.loads((run_dir / "script.json").read_text(encoding="utf-8"))
    return next(i["start_char"] for i in script if i["text"] == text)


if __name__ == "__main__":
    raise SystemExit(main())
