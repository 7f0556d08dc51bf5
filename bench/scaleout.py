"""Render time of a multi-chapter story with one Celery worker divided by that with two.

Starts Redis and PostgreSQL through scripts/services.sh unless the ``TALECAST_TEST_*``
URLs are already set, and a fresh S3 server (moto) for every render (with
``--storage local``, one folder of files shared by the API and the workers). For 1 and 2
workers: starts the API and the workers (waiting until their engines are loaded),
submits the same story, and times submit -> SUCCESS. ``--repeat`` pairs of renders
alternate which goes first. Prints each pair's times, the seconds each kind of task took
(plan, part, assemble, summed over the workers, and where the assembly's time went), the
CPU seconds the S3 server used, a timeline of the gaps between tasks, the median
speed-up and efficiency t1 / (2 * t2) (target >= 0.85 on 2 cores), and the speed-up the
bare speech engines get from a second process on the same machine, as the ceiling. Each
worker renders with one thread. The story is the first ``--chapters`` chapters of a
dev-set novel read from ../shared (a generated story when it is absent).

    .venv/bin/python bench/scaleout.py [--chapters 6] [--profile fast] [--repeat 4]
                                       [--storage s3|local]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "scale"))
sys.path.insert(0, str(ROOT / "bench"))


def _services_env() -> dict[str, str]:
    if os.environ.get("TALECAST_TEST_REDIS_URL"):
        return {}
    out = subprocess.run(
        ["bash", "-c", "source scripts/services.sh start >/dev/null && env"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(
        line.split("=", 1)
        for line in out.splitlines()
        if line.startswith("TALECAST_TEST_")
    )


def bench_story(chapters: int, exchanges: int) -> tuple[str, str]:
    """The first ``chapters`` chapters of Alice in Wonderland from the dev set, or a
    generated story when the dev set is absent. Returns (name, text).

    Real prose matters here: a generated story repeats sentences, and one worker's line
    cache then serves repeats that two workers (each with its own cache) both speak.
    """
    from _common import novel_text

    novel = novel_text("AlicesAdventuresInWonderland")
    if novel is None:
        from cluster import chaptered_story

        return "generated", chaptered_story(chapters, exchanges)
    starts = [m.start() for m in re.finditer(r"^CHAPTER [IVXL]+\.", novel, re.M)]
    end = starts[chapters] if chapters < len(starts) else len(novel)
    return f"Alice in Wonderland, chapters 1-{min(chapters, len(starts))}", novel[:end]


TASK_LINE = re.compile(r"Task talecast\.(\w+)\[[^]]+\] succeeded in ([\d.]+)s")
STAMPED_TASK_LINE = re.compile(  # SERVICE_LOG_FORMAT's stamp, then Celery's line
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .*?"
    r"Task talecast\.(\w+)\[[^]]+\] succeeded in ([\d.]+)s",
    re.M,
)
ASSEMBLY_LINE = re.compile(r"\(tracks ([\d.]+) s, exports and storing ([\d.]+) s\)")
STORING_LINE = re.compile(
    r"\(exports ([\d.]+) s, storing ([\d.]+) s, then ([\d.]+) s until the tracks"
)


def task_seconds(logs: list[str]) -> dict[str, str]:
    """Per kind of task, "<seconds> s in <runs>" summed over the workers' logs."""
    totals: dict[str, tuple[int, float]] = {}
    for log in logs:
        for name, seconds in TASK_LINE.findall(log):
            runs, total = totals.get(name, (0, 0.0))
            totals[name] = (runs + 1, total + float(seconds))
    seconds = {
        name: f"{total:.2f} s in {runs}" for name, (runs, total) in totals.items()
    }
    # The assembly's own split: joining the tracks, exporting + storing.
    for log in logs:
        for tracks, storing in ASSEMBLY_LINE.findall(log):
            seconds["assemble_split"] = (
                f"tracks {tracks} s, exports and storing {storing} s"
            )
        for exports, others, waited in STORING_LINE.findall(log):
            seconds["storing_split"] = (
                f"exports {exports} s, other files {others} s, "
                f"then {waited} s until the tracks were stored"
            )
    return seconds


def timeline(logs: list[str], submitted: float, seen: float) -> dict[str, float]:
    """Where a render's wall time goes, from the workers' log stamps and the bench's
    clock (``submitted``: the upload was sent; ``seen``: SUCCESS was polled):
    ``to_plan_end_s`` submit to the plan's end, ``parts_end_spread_s`` how long the
    first worker to run out of parts waited for the last one, ``assembly_wait_s`` last
    part to the assembly's start, ``after_assembly_s`` its end to SUCCESS being seen."""
    from datetime import datetime

    spans: dict[str, list[tuple[float, float]]] = {}
    ends: dict[int, float] = {}  # worker -> end of its last part
    for worker, log in enumerate(logs):
        for stamp, name, seconds in STAMPED_TASK_LINE.findall(log):
            end = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()
            spans.setdefault(name, []).append((end - float(seconds), end))
            if name == "part":
                ends[worker] = max(ends.get(worker, 0.0), end)
    if not ends or "plan" not in spans or "assemble" not in spans:
        return {}
    assembly_start, assembly_end = spans["assemble"][0]
    figures = {
        "to_plan_end_s": spans["plan"][0][1] - submitted,
        "parts_end_spread_s": max(ends.values()) - min(ends.values()),
        "assembly_wait_s": assembly_start - max(ends.values()),
        "after_assembly_s": seen - assembly_end,
    }
    return {name: round(value, 2) for name, value in figures.items()}


def _render_once(
    workers: int,
    story: bytes,
    tmp: Path,
    profile: str,
    keep_logs: Path | None = None,
    storage: str = "s3",
) -> tuple[float, dict[str, object]]:
    from cluster import moto_server

    if storage == "local":
        return _render_on(workers, story, tmp, profile, keep_logs, None)
    # moto keeps every object in one process; each render gets a server of its own.
    with moto_server() as s3_url:
        elapsed, figures = _render_on(workers, story, tmp, profile, keep_logs, s3_url)
        figures["s3_server_cpu_s"] = _cpu_seconds(s3_url.rsplit(":", 1)[1])
        return elapsed, figures


def _cpu_seconds(port: str) -> float:
    """CPU seconds used so far by the S3 server listening on ``port`` (from /proc)."""
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            if b"moto.server" in cmdline and port.encode() in cmdline:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                ticks = os.sysconf("SC_CLK_TCK")
                return round((int(fields[11]) + int(fields[12])) / ticks, 2)
        except (OSError, ValueError, IndexError):
            continue
    return float("nan")


def _render_on(
    workers: int,
    story: bytes,
    tmp: Path,
    profile: str,
    keep_logs: Path | None,
    s3_url: str | None,
) -> tuple[float, dict[str, object]]:
    from cluster import Cluster, scale_env_or_none

    env = scale_env_or_none()
    assert env is not None
    if s3_url is None:  # one folder of files for the API and every worker
        env["TALECAST_STORAGE"] = "local"
        env["TALECAST_DATA_DIR"] = str(tmp / f"w{workers}" / "shared")
    else:
        env["TALECAST_S3_ENDPOINT_URL"] = s3_url
    env["TALECAST_VOICE_PROFILE"] = profile
    env["TALECAST_THREADS_PER_WORKER"] = "1"
    cluster = Cluster(tmp / f"w{workers}", env, workers=workers).start()
    try:
        key = cluster.server.create_key("bench")
        with cluster.client() as client:
            submitted, started = time.time(), time.perf_counter()
            task = client.post(
                "/apis/story",
                headers={"x-api-key": key},
                data={"source_language": "1"},
                files={"file": ("s.txt", story, "text/plain")},
            ).json()
            upload_s = time.perf_counter() - started
            while True:
                status = client.get(
                    f"/apis/story/{task['task_id']}", headers={"x-api-key": key}
                ).json()
                if status["status"] != "PENDING":
                    break
                time.sleep(0.1)
            elapsed, seen = time.perf_counter() - started, time.time()
        assert status["status"] == "SUCCESS", status
        # The assembly task logs its own end just after the story turns SUCCESS.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "assemble" not in task_seconds(
            [w.log() for w in cluster.workers]
        ):
            time.sleep(0.2)
        logs = [w.log() for w in cluster.workers]
        if keep_logs:
            keep_logs.mkdir(parents=True, exist_ok=True)
            for n, log in enumerate(logs):
                (keep_logs / f"{workers}-workers-{n}.log").write_text(log)
        figures = {**task_seconds(logs), **timeline(logs, submitted, seen)}
        return elapsed, {"upload_s": round(upload_s, 2), **figures}
    finally:
        cluster.stop()


ENGINE_PROBE = """
import sys, time
from talecast.pipeline.synthesis import get_synthesizer
from talecast.pipeline.voices import list_voices
profile = sys.argv[1]
synth = get_synthesizer()
voices = [v for v in list_voices() if profile in v.profiles]
for v in voices:
    synth.synthesize("Ready.", v)
started = time.perf_counter()
for n in range(int(sys.argv[2])):
    v = voices[n % len(voices)]
    synth.synthesize(f"Have you seen the letter, number {n}? Not since morning.", v)
print(time.perf_counter() - started)
"""


def _engine_ceiling(profile: str, lines: int = 24) -> float:
    """Speed-up of the bare engines from one process to two on the same work each."""

    def run(copies: int) -> float:
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", ENGINE_PROBE, profile, str(lines)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(copies)
        ]
        return max(float(p.communicate()[0].strip().splitlines()[-1]) for p in procs)

    one = run(1)
    two = run(2)  # twice the work in total
    return 2 * one / two


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapters", type=int, default=6)
    parser.add_argument(
        "--exchanges",
        type=int,
        default=24,
        help="lines per chapter of the generated story (no dev set)",
    )
    parser.add_argument("--profile", default="fast", choices=["fast", "neural"])
    parser.add_argument("--keep-logs", type=Path, help="copy the workers' logs here")
    parser.add_argument(
        "--repeat",
        type=int,
        default=4,
        help="pairs of renders, alternating which goes first (median reported)",
    )
    parser.add_argument(
        "--storage",
        default="s3",
        choices=["s3", "local"],
        help="s3: a moto server on the same cores; local: one folder shared by the "
        "API and the workers (the storage then takes no CPU of its own)",
    )
    args = parser.parse_args()
    started_services = _services_env()
    os.environ.update(started_services)
    from cluster import chaptered_story

    story_name, text = bench_story(args.chapters, args.exchanges)
    story = text.encode()
    pairs: list[dict[str, object]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            _render_once(
                1,
                chaptered_story(2, 2).encode(),
                tmp / "warm",
                args.profile,
                storage=args.storage,
            )  # warm caches
            for n in range(args.repeat):
                # Alternate which runs first, so that any cost of going second
                # (single runs differed by up to 3 %) falls on both alike.
                order = (1, 2) if n % 2 == 0 else (2, 1)
                times, tasks = {}, {}
                for workers in order:
                    logs = args.keep_logs / f"pair-{n}" if args.keep_logs else None
                    times[workers], tasks[workers] = _render_once(
                        workers,
                        story,
                        tmp / f"pair-{n}",
                        args.profile,
                        logs,
                        args.storage,
                    )
                pairs.append(
                    {
                        "order": " then ".join(f"{w} worker(s)" for w in order),
                        "one_worker_s": round(times[1], 2),
                        "two_workers_s": round(times[2], 2),
                        "efficiency": round(times[1] / (2 * times[2]), 3),
                        "task_s_one_worker": tasks[1],
                        "task_s_two_workers": tasks[2],
                    }
                )
        ceiling = _engine_ceiling(args.profile)
    finally:
        if started_services:
            subprocess.run(
                ["bash", "scripts/services.sh", "stop"], cwd=ROOT, check=False
            )
    one = statistics.median(float(p["one_worker_s"]) for p in pairs)  # type: ignore[arg-type]
    two = statistics.median(float(p["two_workers_s"]) for p in pairs)  # type: ignore[arg-type]
    efficiencies = [float(p["efficiency"]) for p in pairs]  # type: ignore[arg-type]
    print(
        json.dumps(
            {
                "profile": args.profile,
                "storage": args.storage,
                "story": story_name,
                "characters": len(text),
                "pairs": pairs,
                "one_worker_s": round(one, 2),
                "two_workers_s": round(two, 2),
                "speedup": round(one / two, 3),
                "efficiency": round(statistics.median(efficiencies), 3),
                "efficiency_range": [min(efficiencies), max(efficiencies)],
                "engines_alone_speedup": round(ceiling, 3),
                "speedup_vs_engines_alone": round(one / two / ceiling, 3),
                "target": ">= 0.85",
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
