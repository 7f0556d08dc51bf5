"""Score Talecast's speaker attribution on the dev novels.

Runs :func:`talecast.pipeline.attribution.attribute` on every ``pdnc/*/novel.txt`` under
the evaluation folder, writes the predictions as JSONL to a temporary folder, and prints
the scorer's report (detection F1, attribution accuracy per quote type and per novel)
followed by the attribution time of each novel.

    .venv/bin/python bench/attribution.py [--eval-dir ../shared/eval] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from talecast.pipeline.attribution import attribute  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--eval-dir", type=Path, default=REPO.parent / "shared" / "eval"
    )
    parser.add_argument("--keep", type=Path, help="write predictions here, keep them")
    parser.add_argument("--novel", action="append", help="only this novel (repeatable)")
    args = parser.parse_args(argv)

    pdnc = args.eval_dir / "pdnc"
    scorer = args.eval_dir / "score_attribution.py"
    novels = sorted(p.parent for p in pdnc.glob("*/novel.txt"))
    if args.novel:
        novels = [n for n in novels if n.name in args.novel]
    if not novels or not scorer.is_file():
        print(
            f"No dev set found under {args.eval_dir} (need pdnc/*/novel.txt and "
            "score_attribution.py); nothing to score."
        )
        return 0

    out_dir = args.keep or Path(tempfile.mkdtemp(prefix="talecast-attr-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    timings = []
    for novel in novels:
        text = (novel / "novel.txt").read_text(encoding="utf-8")
        started = time.perf_counter()
        result = attribute(text)
        elapsed = time.perf_counter() - started
        timings.append((novel.name, len(text.split()), elapsed))
        with open(out_dir / f"{novel.name}.jsonl", "w", encoding="utf-8") as f:
            for u in result.utterances:
                f.write(
                    json.dumps(
                        {
                            "novel": novel.name,
                            "start_char": u.quote.start_char,
                            "end_char": u.quote.end_char,
                            "speaker": u.speaker,
                            "confidence": u.confidence,
                            "method": u.method,
                        }
                    )
                    + "\n"
                )

    command = [
        sys.executable,
        str(scorer),
        "--gold",
        *[str(n / "quotes.jsonl") for n in novels],
        "--pred",
        *[str(out_dir / f"{n.name}.jsonl") for n in novels],
        "--characters",
        *[str(n / "characters.jsonl") for n in novels],
        "--by-novel",
    ]
    if len(novels) == 1:
        command.remove("--by-novel")
    scored = subprocess.run(command, capture_output=True, text=True, check=False)
    print(scored.stdout, end="")
    if scored.returncode != 0:
        print(scored.stderr, end="", file=sys.stderr)
        return scored.returncode

    print("attribution time:             words   seconds   words/s")
    for name, words, seconds in timings:
        print(f"  {name[:28]:<28} {words:7d} {seconds:9.2f} {words / seconds:9.0f}")
    print(f"predictions: {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
