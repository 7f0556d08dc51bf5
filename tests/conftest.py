"""Fixtures every test folder can use."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def flac_test() -> Callable[[Path], None]:
    """Checks a FLAC file with the reference decoder (``flac --test``): every frame
    header's CRC-8 and every frame's CRC-16, the frame numbers and the sample count
    the stream header announces."""
    flac = shutil.which("flac")
    if flac is None:
        pytest.skip("the flac command (Debian package flac) is not installed")

    def check(path: Path) -> None:
        done = subprocess.run(
            [flac, "--test", "--silent", str(path)], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        # An unset MD5 is expected (joined streams do not compute one); anything
        # else the decoder says is a fault.
        said = [ln for ln in done.stderr.splitlines() if "MD5 signature" not in ln]
        assert said == [], done.stderr

    return check
