"""Peak memory of rendering a long novel divided by that of a short story.

Each render runs in its own process (so each peak is its own) with the same settings;
prints the peaks (MiB) and the ratio (target <= 1.2). The long text is the first
``--chars`` characters of a dev-set novel read from ../shared (the demo story repeated
when the dev set is absent); the short story is the first ``--short-chars`` of the same
text, so both have sentences of the same lengths. The demo story is measured too: its
short sentences keep the speech engine's buffers smaller, which that row shows.

    .venv/bin/python bench/memory.py [--chars 150000] [--short-chars 6000] \
        [--profile fast]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, novel_text, peak_rss_mb  # noqa: E402

CHILD = """
import json, sys, time
sys.path.insert(0, {bench!r})
from pathlib import Path
from _common import peak_rss_mb
from talecast.pipeline.reading import read_story_file
from talecast.pipeline.render import RenderOptions, render_story
t = time.perf_counter()
r = render_story(read_story_file({story!r}), Path({out!r}),
                 RenderOptions(profile={profile!r}), cache_dir=Path({cache!r}))
print(json.dumps({{"peak_rss_mb": peak_rss_mb(), "audio_s": r.duration_s,
                  "wall_s": time.perf_counter() - t, "lines": len(r.transcript)}}))
"""


def measure(story: Path, tmp: Path, profile: str, tag: str) -> dict:
    code = CHILD.format(
        bench=str(Path(__file__).resolve().parent),
        story=str(story),
        out=str(tmp / f"out-{tag}"),
        cache=str(tmp / f"cache-{tag}"),
        profile=profile,
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=150_000)
    parser.add_argument("--short-chars", type=int, default=6_000)
    parser.add_argument("--profile", default="fast", choices=["neural", "fast"])
    args = parser.parse_args()

    short_story = ROOT / "examples" / "lighthouse.md"  # the demo story
    long_text = novel_text("PrideAndPrejudice")
    source = "PrideAndPrejudice"
    if long_text is None:
        long_text, source = short_story.read_text() * 200, "demo story x200"
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        long_story = tmp / "long.txt"
        long_story.write_text(long_text[: args.chars], encoding="utf-8")
        opening = tmp / "short.txt"
        opening.write_text(long_text[: args.short_chars], encoding="utf-8")
        short = measure(opening, tmp, args.profile, "short")
        demo = measure(short_story, tmp, args.profile, "demo")
        long = measure(long_story, tmp, args.profile, "long")
    figures = {
        "profile": args.profile,
        "source": source,
        "short_chars": args.short_chars,
        "long_chars": args.chars,
        "short": short,
        "long": long,
        "demo_story": demo,
        "ratio": round(long["peak_rss_mb"] / short["peak_rss_mb"], 3),
        "ratio_to_demo_story": round(long["peak_rss_mb"] / demo["peak_rss_mb"], 3),
        "target": "<= 1.2",
        "bench_process_mb": round(peak_rss_mb(), 1),
    }
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
