"""SVOX Pico through py-nanotts: two female English voices with pitch and speed.

Pico runs in one long-lived worker process per Talecast process (see
``_pico_worker``): in-process, its output would depend on earlier allocations.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
import os
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import numpy as np

from talecast.errors import EngineError
from talecast.pipeline.voices import Voice

logger = logging.getLogger(__name__)

SAMPLE_RATE_HZ = 16_000
_WORKER = Path(__file__).with_name("_pico_worker.py")


class PicoEngine:
    """Pico voices, spoken by a worker process started on first use."""

    name = "pico"

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._owner_pid = os.getpid()
        self._lock = threading.Lock()

    def synthesize(self, text: str, voice: Voice) -> tuple[np.ndarray, int]:
        """Audio at 16 kHz for one piece of text."""
        request = {
            "text": text.replace("<", " ").replace(">", " "),  # Pico reads <tags>
            "voice": str(voice.param("voice", "en-US")),
            "pitch": float(str(voice.param("pitch", 1.0))),
            "speed": float(str(voice.param("speed", 1.0))),
        }
        with self._lock:
            status, payload = self._ask(request, voice)
        if status != 0:
            raise EngineError(
                f"pico failed to speak voice {voice.id} ({voice.name}): "
                f"{payload.decode(errors='replace')}"
            )
        audio = np.frombuffer(payload, dtype="<i2").astype(np.float32) / 32768.0
        return audio, SAMPLE_RATE_HZ

    def _ask(self, request: dict[str, object], voice: Voice) -> tuple[int, bytes]:
        """Send one request to the worker (starting it if needed) and read the reply."""
        try:
            process = self._worker()
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(json.dumps(request).encode() + b"\n")
            process.stdin.flush()
            status, length = struct.unpack("<BI", _read_exactly(process.stdout, 5))
            return status, _read_exactly(process.stdout, length)
        except (OSError, EOFError, struct.error) as exc:
            self._stop()
            raise EngineError(
                f"pico worker failed while speaking voice {voice.id} ({voice.name}): "
                f"{exc}; it restarts on the next request"
            ) from exc

    # TODO(#2): speak in-process once py-nanotts zeroes its work buffer (calloc).
    def _worker(self) -> subprocess.Popen[bytes]:
        if self._owner_pid != os.getpid():  # forked: the pipes belong to the parent
            self._process, self._owner_pid = None, os.getpid()
        if self._process is not None and self._process.poll() is None:
            return self._process
        if importlib.util.find_spec("py_nanotts") is None:
            raise EngineError(
                "SVOX Pico is not installed; run: pip install py-nanotts==0.1.1"
            )
        self._process = subprocess.Popen(
            [sys.executable, str(_WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        logger.info("pico worker started (pid %d)", self._process.pid)
        return self._process

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def close(self) -> None:
        """Stop the worker process (it also exits by itself when this process does)."""
        with self._lock:
            if self._process is not None and self._process.stdin is not None:
                self._process.stdin.close()
                self._process.wait(timeout=5)
                self._process = None

    def version(self, voice: Voice) -> str:
        """py-nanotts version plus the voice's parameters."""
        return f"pico-{importlib.metadata.version('py-nanotts')}:{voice.params}"


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError(f"worker closed its output after {len(data)} of {size} bytes")
    return data
