"""Throughput of ``POST /apis/stories-results`` against a bare Starlette baseline.

Starts a Talecast server (no render workers) on a scratch data folder holding five
finished runs, and a bare Starlette app that answers the same request with the same JSON
(parse, check, ``JSONResponse``). Both run as one uvicorn process (uvloop, httptools).
Each is loaded with ``wrk`` (or, without it, an httpx/asyncio client) at 1, 16 and 64
concurrent connections, alternating between the two; the table shows the median
requests/s, p50 and p99 of the repeats and Talecast's throughput ratio.

    .venv/bin/python bench/api.py [--duration 6] [--clients 1,16,64] [--repeats 3]
"""

# ruff: noqa: T201  (a benchmark reports on stdout)

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

RUN_IDS = [1, 2, 3, 4, 5]
TRANSCRIPT = [
    {
        "start": 0.4,
        "end": 14.97,
        "text": "The rain fell on the old house.",
        "speaker": "Narrator",
    },
    {"start": 15.37, "end": 27.27, "text": "Who is there?", "speaker": "Mary"},
    {"start": 27.67, "end": 38.24, "text": "Only me, open the door.", "speaker": "Tom"},
    {
        "start": 38.64,
        "end": 49.59,
        "text": "Mary opened it and smiled.",
        "speaker": "Narrator",
    },
]
WRK_SCRIPT = """wrk.method = "POST"
wrk.body = '{"run_ids":[1,2,3,4,5]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-api-key"] = "%s"
"""


# --- the bare baseline ------------------------------------------------------------


def bare_app(payload_path: str):  # type: ignore[no-untyped-def]
    """A Starlette app answering the bulk request with fixed JSON after checking it."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    payload = json.loads(Path(payload_path).read_text())

    async def results(request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        ids = body.get("run_ids") if isinstance(body, dict) else None
        if (
            not isinstance(ids, list)
            or not 2 <= len(ids) <= 5
            or len(set(ids)) != len(ids)
            or not all(type(i) is int and i > 0 for i in ids)
            or not request.headers.get("x-api-key")
        ):
            return JSONResponse(
                {"detail": [{"loc": ["body"], "msg": "bad", "type": "value_error"}]},
                status_code=422,
            )
        return JSONResponse(payload)

    return Starlette(routes=[Route("/apis/stories-results", results, methods=["POST"])])


# --- servers ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"server for {url} exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"server for {url} did not start")


def _seed(data_dir: Path) -> str:
    """Five finished runs for one new account; returns its API key."""
    from sqlalchemy import insert

    from talecast.accounts import create_key
    from talecast.config import get_settings
    from talecast.db import Story, make_engine

    settings = get_settings(data_dir=data_dir)
    key = create_key("bench", settings=settings)
    engine = make_engine(settings.db_url)
    with engine.begin() as conn:
        for run_id in RUN_IDS:
            conn.execute(
                insert(Story).values(
                    run_id=run_id,
                    task_id=f"bench{run_id}",
                    account_id=1,
                    status="success",
                    progress=100.0,
                    stage="done",
                    source_language=1,
                    upload_key=f"uploads/bench{run_id}",
                    upload_bytes=1,
                    created_at=0.0,
                    attempts=1,
                    narration_key=f"runs/{run_id}/narration.flac",
                    dialogue_key=f"runs/{run_id}/dialogue.flac",
                    duration_s=49.6,
                    transcript_json=json.dumps(TRANSCRIPT, separators=(",", ":")),
                )
            )
    engine.dispose()
    return key


# --- load ------------------------------------------------------------------------


def _wrk(
    url: str, key: str, clients: int, duration_s: int, script: Path
) -> tuple[float, float, float]:
    script.write_text(WRK_SCRIPT % key)
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{clients}",
            f"-d{duration_s}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"{non2xx.group(1)} failed responses from {url}:\n{out}")
    return rps, _wrk_ms(out, "50%"), _wrk_ms(out, "99%")


def _wrk_ms(out: str, label: str) -> float:
    value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _httpx_load(
    url: str, key: str, clients: int, duration_s: int
) -> tuple[float, float, float]:
    async def run() -> list[float]:
        latencies: list[float] = []
        stop = time.perf_counter() + duration_s
        limits = httpx.Limits(max_connections=clients)
        async with httpx.AsyncClient(limits=limits) as client:

            async def one() -> None:
                while time.perf_counter() < stop:
                    start = time.perf_counter()
                    response = await client.post(
                        url, json={"run_ids": RUN_IDS}, headers={"x-api-key": key}
                    )
                    response.raise_for_status()
                    latencies.append(time.perf_counter() - start)

            await asyncio.gather(*(one() for _ in range(clients)))
        return latencies

    latencies = asyncio.run(run())
    quantiles = statistics.quantiles(latencies, n=100)
    return len(latencies) / duration_s, quantiles[49] * 1000, quantiles[98] * 1000


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=6, help="seconds per point")
    parser.add_argument("--clients", default="1,16,64")
    parser.add_argument("--repeats", type=int, default=3, help="medians of this many")
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]

    scratch = Path(tempfile.mkdtemp(prefix="talecast-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        key = _seed(scratch / "data")
        env = {
            **os.environ,
            "TALECAST_DATA_DIR": str(scratch / "data"),
            "TALECAST_WORKERS": "0",
            "TALECAST_LOG_LEVEL": "WARNING",
        }
        ours_port, bare_port = _free_port(), _free_port()
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "talecast.api.server", "--port", str(ours_port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        ours = f"http://127.0.0.1:{ours_port}/apis/stories-results"
        _wait_up(f"http://127.0.0.1:{ours_port}/health", procs[-1])

        sample = httpx.post(ours, json={"run_ids": RUN_IDS}, headers={"x-api-key": key})
        sample.raise_for_status()
        payload_path = scratch / "payload.json"
        payload_path.write_bytes(sample.content)
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "import sys, uvicorn; sys.path.insert(0, sys.argv[1]); import api; "
                    "uvicorn.run(api.bare_app(sys.argv[2]), host='127.0.0.1', "
                    "port=int(sys.argv[3]), log_level='warning', access_log=False, "
                    "loop='uvloop', http='httptools')",
                    str(Path(__file__).parent),
                    str(payload_path),
                    str(bare_port),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        bare = f"http://127.0.0.1:{bare_port}/apis/stories-results"
        _wait_up(f"http://127.0.0.1:{bare_port}/", procs[-1])
        bare_sample = httpx.post(
            bare, json={"run_ids": RUN_IDS}, headers={"x-api-key": key}
        )
        assert json.loads(bare_sample.content) == json.loads(sample.content)

        use_wrk = shutil.which("wrk") is not None
        print(
            f"payload {len(sample.content)} bytes; load generator: "
            f"{'wrk' if use_wrk else 'httpx/asyncio'}; median of {args.repeats} "
            f"runs of {args.duration} s per point"
        )
        print(
            f"{'clients':>7} | {'server':<9} | {'req/s':>8} | {'p50 ms':>7} | "
            f"{'p99 ms':>7} | ratio"
        )
        for count in clients:
            samples: dict[str, list[tuple[float, float, float]]] = {
                "starlette": [],
                "talecast": [],
            }
            for _ in range(args.repeats):  # alternate, so both see the same noise
                for name, url in (("starlette", bare), ("talecast", ours)):
                    if use_wrk:
                        _wrk(url, key, count, 1, scratch / "post.lua")  # warm-up
                        point = _wrk(
                            url, key, count, args.duration, scratch / "post.lua"
                        )
                    else:
                        point = _httpx_load(url, key, count, args.duration)
                    samples[name].append(point)
            rows = {
                name: tuple(
                    statistics.median(column) for column in zip(*points, strict=True)
                )
                for name, points in samples.items()
            }
            ratio = rows["talecast"][0] / rows["starlette"][0]
            for name, (rps, p50, p99) in rows.items():
                shown = f"{ratio:.2f}" if name == "talecast" else ""
                print(
                    f"{count:>7} | {name:<9} | {rps:>8.0f} | {p50:>7.2f} | "
                    f"{p99:>7.2f} | {shown}"
                )
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
