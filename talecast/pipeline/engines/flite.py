"""CMU flite (Debian package ``flite``), run as a subprocess writing a temporary WAV."""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from talecast.errors import EngineError
from talecast.pipeline.voices import Voice, installed_flite_voices

logger = logging.getLogger(__name__)

TIMEOUT_S = 120
_FEATURES = {  # voice parameter -> flite feature
    "f0_mean_hz": "int_f0_target_mean",
    "duration_stretch": "duration_stretch",
}


class FliteEngine:
    """flite voices kal16, awb, rms and slt (16 kHz), with optional pitch and pace."""

    name = "flite"

    def synthesize(self, text: str, voice: Voice) -> tuple[np.ndarray, int]:
        """Audio at flite's native rate for one piece of text."""
        binary = shutil.which("flite")
        if binary is None:
            raise EngineError(
                f"flite is not installed, so voice {voice.id} ({voice.name}) cannot "
                "speak; run: apt-get install flite"
            )
        name = str(voice.param("voice"))
        if name not in installed_flite_voices():
            raise EngineError(
                f"flite has no voice {name!r} for voice {voice.id} ({voice.name}); "
                f"installed flite voices: {sorted(installed_flite_voices())}"
            )
        with tempfile.TemporaryDirectory(prefix="talecast-flite-") as tmp:
            text_path, wav_path = Path(tmp) / "in.txt", Path(tmp) / "out.wav"
            text_path.write_text(text + "\n", encoding="utf-8")
            command = [binary, "-voice", name, *_features(voice)]
            command += ["-f", str(text_path), "-o", str(wav_path)]
            try:
                subprocess.run(
                    command, capture_output=True, timeout=TIMEOUT_S, check=True
                )
                audio, rate = sf.read(wav_path, dtype="float32", always_2d=False)
            except subprocess.CalledProcessError as exc:
                detail = exc.stderr.decode(errors="replace").strip()[:200]
                raise EngineError(
                    f"flite failed to speak voice {voice.id} ({voice.name}): {detail}"
                ) from exc
            except (OSError, subprocess.SubprocessError, sf.LibsndfileError) as exc:
                raise EngineError(
                    f"flite failed to speak voice {voice.id} ({voice.name}): {exc}"
                ) from exc
        return np.asarray(audio, np.float32), int(rate)

    def version(self, voice: Voice) -> str:
        """The flite binary's version plus the voice's parameters."""
        return f"flite-{_flite_version()}:{voice.params}"


def _features(voice: Voice) -> list[str]:
    """flite ``--setf`` options for the voice's pitch and pace parameters."""
    options: list[str] = []
    for param, feature in _FEATURES.items():
        value = voice.param(param)
        if value is not None:
            options += ["--setf", f"{feature}={float(str(value))}"]
    return options


@functools.cache
def _flite_version() -> str:
    binary = shutil.which("flite")
    if binary is None:
        return "missing"
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    for line in out.splitlines():
        if "version:" in line:
            return line.split("version:", 1)[1].split()[0]
    return "unknown"
