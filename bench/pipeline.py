"""Whole-pipeline wall time against the raw engines' time for the same lines and voices.

Renders a story with a fresh line cache, then times the speech engines alone
(``Synthesizer.raw_synthesize``) on exactly the lines and voices the render used, in
the same process with the models already loaded and as many lines in flight as the
render had (``--threads``). Prints both and their ratio (target <= 1.10).

    .venv/bin/python bench/pipeline.py [--story FILE] [--profile neural|fast] \
        [--threads N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT  # noqa: E402

from talecast.pipeline.reading import read_story_file  # noqa: E402
from talecast.pipeline.render import RenderOptions, plan_story, render_story  # noqa: E402
from talecast.pipeline.synthesis import get_synthesizer  # noqa: E402
from talecast.pipeline.voices import get_voice  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--story", default=str(ROOT / "examples" / "lighthouse.md"))
    parser.add_argument("--profile", default="neural", choices=["neural", "fast"])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    document = read_story_file(args.story)
    options = RenderOptions(profile=args.profile, threads=args.threads)
    synth = get_synthesizer()
    plan = plan_story(document, options)
    for voice_id in {line.voice_id for line in plan.lines}:  # load every model first
        synth.raw_synthesize("Warm up.", get_voice(voice_id))

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result = render_story(
            document,
            Path(tmp) / "out",
            options,
            cache_dir=Path(tmp) / "cache",
            synthesizer=synth,
        )
        pipeline_s = time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(max(1, args.threads)) as pool:
        list(
            pool.map(
                lambda line: synth.raw_synthesize(line.text, get_voice(line.voice_id)),
                plan.lines,
            )
        )
    raw_s = time.perf_counter() - started

    figures = {
        "story": Path(args.story).name,
        "profile": args.profile,
        "threads": args.threads,
        "lines": len(plan.lines),
        "audio_s": round(result.duration_s, 1),
        "pipeline_wall_s": round(pipeline_s, 2),
        "raw_engines_s": round(raw_s, 2),
        "ratio": round(pipeline_s / raw_s, 3),
        "target": "<= 1.10",
    }
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
