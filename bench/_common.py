"""Helpers shared by the benchmarks: where the dev set is, how to read peak memory."""

from __future__ import annotations

import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_EVAL_DIR = ROOT.parent / "shared" / "eval"


def peak_rss_mb() -> float:
    """Peak resident set size of this process, in MiB."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / 2**20


def novel_text(name: str, eval_dir: Path = DEFAULT_EVAL_DIR) -> str | None:
    """A dev-set novel's text, read from the shared folder (never copied here)."""
    path = eval_dir / "pdnc" / name / "novel.txt"
    return path.read_text(encoding="utf-8") if path.exists() else None
