"""Pico worker process: reads requests on stdin, writes 16 kHz PCM on stdout.

Run as a script (not imported). SVOX Pico reads part of its work buffer before
writing it, so its output depends on whatever that memory held. Here the malloc mmap
threshold is fixed before anything else runs, so the buffer is always a fresh zeroed
mapping and the audio depends on the request alone, whatever the main process loaded.

Request: one JSON line {"text", "voice", "pitch", "speed"}. Reply: one status byte
(0 ok, 1 error), a 4-byte little-endian length, then PCM bytes or a UTF-8 message.
"""

import ctypes
import ctypes.util
import json
import struct
import sys

_M_MMAP_THRESHOLD = -3
_THRESHOLD_BYTES = 256 * 1024


def main() -> int:
    """Serve requests until stdin closes."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    libc.mallopt(_M_MMAP_THRESHOLD, _THRESHOLD_BYTES)
    from py_nanotts import NanoTTS

    tts = NanoTTS()
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
            payload = tts.speak(
                request["text"],
                voice=request["voice"],
                pitch=request["pitch"],
                speed=request["speed"],
            )
            status = 0
        except Exception as exc:  # reported to the parent, which raises EngineError
            payload, status = f"{type(exc).__name__}: {exc}".encode(), 1
        out.write(struct.pack("<BI", status, len(payload)))
        out.write(payload)
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
