"""ffmpeg encoders for the exported audio: MP3 (ACX), M4B with chapters and cover, Opus.

Audio is streamed as 32-bit float PCM through a pipe into one ffmpeg process per format;
the processes run side by side, each fed by its own thread. Files appear under their
final names only when complete.

M4B is written in two steps: AAC audio first, then a remux (no re-encoding) that adds
the chapters, tags and cover art, because chapter times are only known once every
chapter has been mastered. ffmpeg's MP4 muxer writes both a QuickTime chapter track and
a Nero ``chpl`` atom; :func:`read_nero_chapters` reads the latter back so the export can
verify it.
"""

from __future__ import annotations

import logging
import os
import shutil
import struct
import subprocess
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np

from talecast.errors import EncoderError

logger = logging.getLogger(__name__)

MP3_BITRATE = "192k"  # ACX: constant bit rate, at least 192 kbps
MP3_SAMPLE_RATE_HZ = 44100  # ACX: 44.1 kHz
AAC_BITRATE = "64k"
AAC_SAMPLE_RATE_HZ = 44100
OPUS_BITRATE = "48k"
NERO_MAX_CHAPTERS = 255  # the chpl atom stores the count in one byte
_CHPL_UNITS_PER_S = 10_000_000  # chpl start times are in 100 ns units
_FFMPEG_BASE = ["-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
_COPYABLE_COVERS = (".jpg", ".jpeg", ".png")


class AudioEncoders:
    """One ffmpeg process per target file, fed with the same float32 mono stream."""

    def __init__(
        self, targets: dict[str, Path], sample_rate_hz: int, tags: dict[str, str]
    ) -> None:
        self._targets = targets
        self._rate = sample_rate_hz
        self._tags = tags
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: dict[str, IO[bytes]] = {}

    def __enter__(self) -> AudioEncoders:
        for fmt, target in self._targets.items():
            command = [
                _ffmpeg(),
                *_FFMPEG_BASE,
                "-f",
                "f32le",
                "-ar",
                str(self._rate),
                "-ac",
                "1",
                "-i",
                "pipe:0",
                *_output_args(fmt, self._tags),
                str(_partial(fmt, target)),
            ]
            log = tempfile.TemporaryFile()
            self._logs[fmt] = log
            self._procs[fmt] = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log
            )
            logger.debug("encoder %s: %s", fmt, " ".join(command))
        return self

    def write(self, audio_f32: np.ndarray) -> None:
        """Send the next stretch of audio to every encoder."""
        if not self._procs:
            return
        data = np.ascontiguousarray(audio_f32, dtype="<f4").tobytes()
        failed: list[str] = []

        def feed(fmt: str, proc: subprocess.Popen[bytes]) -> None:
            try:
                assert proc.stdin is not None
                proc.stdin.write(data)
            except (BrokenPipeError, OSError):
                failed.append(fmt)

        threads = [
            threading.Thread(target=feed, args=item) for item in self._procs.items()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failed:
            message = self._failure(failed[0])
            self._abort()
            raise EncoderError(message)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self._abort()
            return
        for proc in self._procs.values():
            assert proc.stdin is not None
            proc.stdin.close()
        for fmt, proc in self._procs.items():
            if proc.wait() != 0:
                message = self._failure(fmt)
                self._abort()
                raise EncoderError(message)
        for fmt, target in self._targets.items():
            if fmt != "m4b":  # the M4B is finished by finish_m4b
                os.replace(_partial(fmt, target), target)
                logger.info("encoder %s: %s written", fmt, target.name)
        self._close_logs()

    def _failure(self, fmt: str) -> str:
        try:  # let ffmpeg finish writing its message
            self._procs[fmt].wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        log = self._logs[fmt]
        log.seek(0)
        tail = log.read().decode("utf-8", "replace").strip().splitlines()[-3:]
        return (
            f"ffmpeg failed while encoding {self._targets[fmt].name}: "
            f"{' / '.join(tail) or 'no message'}; check that the folder is writable "
            f"and that ffmpeg has the {_ENCODERS[fmt]} encoder (ffmpeg -encoders)"
        )

    def _abort(self) -> None:
        for fmt, proc in self._procs.items():
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            _partial(fmt, self._targets[fmt]).unlink(missing_ok=True)
        self._close_logs()

    def _close_logs(self) -> None:
        for log in self._logs.values():
            log.close()


_ENCODERS = {"mp3": "libmp3lame", "m4b": "aac", "opus": "libopus"}


def finish_m4b(
    target: Path,
    chapters: list[tuple[int, int, str]],
    tags: dict[str, str],
    cover: Path | None,
) -> None:
    """Remux the encoded AAC into ``target`` with chapters (ms), tags and cover art."""
    audio = _partial("m4b", target)
    with tempfile.TemporaryDirectory() as scratch:
        metadata = Path(scratch) / "chapters.txt"
        metadata.write_text(ffmetadata(chapters, tags), encoding="utf-8")
        command = [
            _ffmpeg(),
            *_FFMPEG_BASE,
            "-i",
            str(audio),
            "-f",
            "ffmetadata",
            "-i",
            str(metadata),
        ]
        if cover is not None:
            codec = "copy" if cover.suffix.lower() in _COPYABLE_COVERS else "mjpeg"
            command += [
                "-i",
                str(cover),
                "-map",
                "2:v",
                "-c:v",
                codec,
                "-disposition:v:0",
                "attached_pic",
            ]
        partial = target.with_name(f".{target.name}.part")
        command += [
            "-map",
            "0:a",
            "-map_metadata",
            "1",
            "-map_chapters",
            "1",
            "-c:a",
            "copy",
            "-movflags",
            "+faststart",
            "-f",
            "ipod",
            str(partial),
        ]
        _run(command, target.name)
    written = read_nero_chapters(partial)
    if len(written) != min(len(chapters), NERO_MAX_CHAPTERS):
        raise EncoderError(
            f"{target.name} holds {len(written)} Nero chapter marks, expected "
            f"{len(chapters)}; this ffmpeg does not write the chpl atom, install "
            "ffmpeg 4.0 or newer"
        )
    os.replace(partial, target)
    audio.unlink(missing_ok=True)
    logger.info("encoder m4b: %s written with %d chapters", target.name, len(chapters))


def book_tags(meta: dict[str, Any]) -> dict[str, str]:
    """Map meta.json to container tags; the narrator goes in ``composer``."""
    title, author = meta.get("title"), meta.get("author")
    tags = {
        "title": title,
        "album": title,
        "artist": author,
        "album_artist": author,
        "composer": meta.get("narrator"),
        "genre": "Audiobook",
    }
    return {key: str(value) for key, value in tags.items() if value}


def ffmetadata(chapters: list[tuple[int, int, str]], tags: dict[str, str]) -> str:
    """Return an FFMETADATA1 document with the tags and millisecond chapters."""
    lines = [";FFMETADATA1"]
    lines += [f"{key}={_escape(value)}" for key, value in tags.items()]
    for start_ms, end_ms, chapter_title in chapters:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={start_ms}",
            f"END={max(end_ms, start_ms)}",
            f"title={_escape(chapter_title)}",
        ]
    return "\n".join(lines) + "\n"


def read_nero_chapters(path: Path) -> list[tuple[float, str]]:
    """Read the Nero ``chpl`` atom of an MP4 file: (start s, title) per chapter."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        moov = _find_box(f, 0, size, b"moov")
        udta = moov and _find_box(f, moov[0], moov[1], b"udta")
        chpl = udta and _find_box(f, udta[0], udta[1], b"chpl")
        if not chpl:
            return []
        f.seek(chpl[0])
        payload = f.read(chpl[1] - chpl[0])
    version = payload[0]
    offset = 8 if version == 1 else 4  # version, flags, and in v1 four reserved bytes
    count = payload[offset]
    offset += 1
    chapters = []
    for _ in range(count):
        (start,) = struct.unpack_from(">Q", payload, offset)
        length = payload[offset + 8]
        title = payload[offset + 9 : offset + 9 + length].decode("utf-8", "replace")
        chapters.append((start / _CHPL_UNITS_PER_S, title))
        offset += 9 + length
    return chapters


# ---- helpers ------------------------------------------------------------------------


def _output_args(fmt: str, tags: dict[str, str]) -> list[str]:
    metadata = [
        arg for key, value in tags.items() for arg in ("-metadata", f"{key}={value}")
    ]
    if fmt == "mp3":
        return [
            "-c:a",
            "libmp3lame",
            "-b:a",
            MP3_BITRATE,
            "-ar",
            str(MP3_SAMPLE_RATE_HZ),
            "-ac",
            "1",
            *metadata,
            "-id3v2_version",
            "3",
            "-f",
            "mp3",
        ]
    if fmt == "opus":
        return ["-c:a", "libopus", "-b:a", OPUS_BITRATE, *metadata, "-f", "opus"]
    if fmt == "m4b":
        return [
            "-c:a",
            "aac",
            "-b:a",
            AAC_BITRATE,
            "-ar",
            str(AAC_SAMPLE_RATE_HZ),
            "-f",
            "mp4",
        ]
    raise ValueError(f"no encoder for {fmt!r}")


def _partial(fmt: str, target: Path) -> Path:
    suffix = ".audio.mp4" if fmt == "m4b" else ".part"
    return target.with_name(f".{target.name}{suffix}")


def _ffmpeg() -> str:
    found = shutil.which("ffmpeg")
    if found is None:
        raise EncoderError(
            "ffmpeg is not installed, so MP3, M4B and Opus cannot be written; install "
            "it (Debian/Ubuntu: apt-get install ffmpeg)"
        )
    return found


def _run(command: list[str], label: str) -> None:
    result = subprocess.run(command, capture_output=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        tail = result.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise EncoderError(f"ffmpeg failed while writing {label}: {' / '.join(tail)}")


def _escape(value: str) -> str:
    for char in ("\\", "=", ";", "#", "\n"):
        value = value.replace(char, "\\" + char)
    return value


def _find_box(
    f: IO[bytes], start: int, end: int, kind: bytes
) -> tuple[int, int] | None:
    """(payload start, payload end) of the first box of ``kind`` in [start, end)."""
    position = start
    while position + 8 <= end:
        f.seek(position)
        size, box = struct.unpack(">I4s", f.read(8))
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", f.read(8))
            header = 16
        elif size == 0:
            size = end - position
        if size < header:
            return None
        if box == kind:
            return position + header, position + size
        position += size
    return None
