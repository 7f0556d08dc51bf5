"""One FLAC stream from FLAC frames encoded in several places.

A story rendered in parts is encoded where each part is synthesized, so the assembly
(which runs alone once the last part is in) only copies frames instead of encoding an
hour of audio. A FLAC stream with a fixed block size numbers its frames 0, 1, 2, ...
and every frame but the last holds exactly one block, so a part's frames can follow
another part's only when the earlier part is a whole number of blocks long (the parts
see to that, see :func:`talecast.pipeline.assembly.part_tracks`) and once each frame
header carries its place in the whole story.

Renumbering a frame changes its header, hence the header's CRC-8 and the frame's
CRC-16. The CRC-16 is not computed again over the frame: FLAC's CRC-16 starts from zero
and is linear, so ``crc(H' + R) = crc(H + R) ^ crc(H ^ H') * x^(8 len(R)) mod P`` and
only the headers (a few bytes each) are read. All of it is done with numpy over every
frame of a part at once.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile as sf

if TYPE_CHECKING:
    from talecast.storage.base import FileUpload

BLOCK_SAMPLES = 4096  # libFLAC's block size at the compression libsndfile uses
_SYNC = b"\xff\xf8"  # frame sync code, fixed block size
_WIDTH = 16  # bytes of a frame header, at most (7 number + 2 size + 2 rate + 5)
_CRC16_POLY = 0x8005
_CRC8_POLY = 0x07
# Header bytes after the frame number: block size codes 6 and 7 and sample rate codes
# 12 to 14 are followed by the value itself.
_SIZE_BYTES = {6: 1, 7: 2}
_RATE_BYTES = {12: 1, 13: 2, 14: 2}


class FlacStreamError(ValueError):
    """Encoded audio that cannot be joined as it is."""


@dataclass(frozen=True)
class EncodedTrack:
    """A FLAC file and where each of its frames starts."""

    data: bytes
    offsets: list[int]
    samples: int


def encode(samples: np.ndarray, sample_rate_hz: int) -> EncodedTrack:
    """Encode mono int16 ``samples`` to FLAC and find its frames."""
    if samples.size == 0:  # nothing to join (libsndfile writes no file for it)
        return EncodedTrack(b"", [], 0)
    buffer = io.BytesIO()
    with sf.SoundFile(
        buffer, "w", sample_rate_hz, 1, format="FLAC", subtype="PCM_16"
    ) as out:
        out.write(samples)
    data = buffer.getvalue()
    smallest, largest = struct.unpack(">HH", data[8:12])
    if largest != BLOCK_SAMPLES and samples.size > BLOCK_SAMPLES:
        raise FlacStreamError(  # another libsndfile's default compression level
            f"libsndfile encoded blocks of {smallest}-{largest} samples; joining "
            f"parts needs {BLOCK_SAMPLES}"
        )
    return EncodedTrack(data, frame_offsets(data, samples.size), int(samples.size))


def frame_offsets(data: bytes, samples: int) -> list[int]:
    """Where each frame of a fixed-block FLAC file of ``samples`` samples starts.

    Frame n's header is found by its sync code, its block and rate byte, its number n
    and its CRC-8, so a sync pattern inside compressed audio is not taken for one.
    """
    start = _audio_start(data)
    count = -(-samples // BLOCK_SAMPLES)
    if count == 0:
        return []
    first = data[start : start + 4]
    if first[:2] != _SYNC:
        raise FlacStreamError("no frame where the metadata ends")
    numbers = np.arange(count, dtype=np.int64)
    lengths = _utf8_lengths(numbers)
    coded = np.stack(_utf8_bytes(numbers, lengths), axis=1)
    offsets = [start]
    for number in range(1, count):
        last = number == count - 1  # the last frame's block size may differ
        number_bytes = coded[number, : lengths[number]].tobytes()
        pattern = _SYNC if last else first + number_bytes
        at = offsets[-1] + 1
        while True:
            at = data.find(pattern, at)
            if at < 0:
                raise FlacStreamError(f"frame {number} of {count} not found")
            if _header_ok(data, at, first[3], number_bytes):
                break
            at += 1
        offsets.append(at)
    return offsets


class StreamJoiner:
    """Writes one FLAC file from encoded tracks added in order.

    Every track but the last added must be a whole number of blocks. ``upload`` (see
    :meth:`talecast.storage.base.Storage.upload_growing`) is told after each track and
    when the file is closed; the stream header, written last, fills in the totals.
    """

    def __init__(
        self, path: Path, sample_rate_hz: int, upload: FileUpload | None = None
    ) -> None:
        self.path = path
        self.sample_rate_hz = sample_rate_hz
        self._upload = upload
        self._file = path.open("wb")
        self._file.write(_stream_header(sample_rate_hz, 0, 0, 0, 0))
        self._frames = 0
        self._samples = 0
        self._frame_sizes = (2**24 - 1, 0)
        self._ended = False  # a track that ends inside a block was added

    def add(self, track: EncodedTrack) -> None:
        """Append ``track``'s frames, numbered on from the frames already written."""
        if self._ended:
            raise FlacStreamError("only the last track may end inside a block")
        if not track.offsets:
            return
        _check_stream_info(track.data, self.sample_rate_hz)
        frames, sizes = _renumbered(track.data, track.offsets, self._frames)
        self._file.write(frames)
        self._frames += len(track.offsets)
        self._samples += track.samples
        self._frame_sizes = (
            min(self._frame_sizes[0], int(sizes.min())),
            max(self._frame_sizes[1], int(sizes.max())),
        )
        self._ended = track.samples % BLOCK_SAMPLES != 0
        if self._upload is not None:
            self._file.flush()
            self._upload.advance()

    def close(self, finished: bool = True) -> None:
        smallest, largest = self._frame_sizes if self._frames else (0, 0)
        block = BLOCK_SAMPLES if self._frames > 1 else self._samples
        self._file.seek(0)
        self._file.write(
            _stream_header(self.sample_rate_hz, block, smallest, largest, self._samples)
        )
        self._file.close()
        if self._upload is not None and finished:
            self._upload.finish()

    def __enter__(self) -> StreamJoiner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close(finished=exc_info[0] is None)


def _renumbered(
    data: bytes, offsets: Sequence[int], first_number: int
) -> tuple[bytes, np.ndarray]:
    """The frames of ``data`` with headers numbered from ``first_number``, and the new
    frame sizes."""
    raw = np.frombuffer(data, np.uint8)
    off = np.asarray(offsets, np.int64)
    count = off.size
    if off[0] < 8 or off[-1] + 8 > len(data) or np.any(np.diff(off) <= 0):
        raise FlacStreamError("the frame offsets do not fit the data (cut short?)")
    sizes = np.diff(np.append(off, len(data)))
    rows = np.arange(count)[:, None]

    old_number_len = _utf8_lengths(np.arange(count, dtype=np.int64))
    new_numbers = np.arange(count, dtype=np.int64) + first_number
    new_number_len = _utf8_lengths(new_numbers)
    if int(new_numbers[-1]) >= 2**31:
        raise FlacStreamError("more frames than a FLAC stream can number")
    code = raw[off + 2]
    extra = _extra_bytes(code >> 4, _SIZE_BYTES) + _extra_bytes(code & 15, _RATE_BYTES)
    old_len = 4 + old_number_len + extra + 1
    new_len = 4 + new_number_len + extra + 1
    if np.any(raw[off] != 0xFF) or np.any(raw[off + 1] != 0xF8):
        raise FlacStreamError("a frame offset does not point at a frame")
    if np.any(sizes < old_len + 2):
        raise FlacStreamError("a frame is shorter than its header")

    old = _right_aligned(raw, off, old_len)
    if np.any(_crc8(old[:, :-1]) != old[:, -1]):
        raise FlacStreamError("a frame header does not match its CRC-8")

    # The new header, left-aligned: the first four bytes, the number, the extra bytes.
    left = np.zeros((count, _WIDTH), np.uint8)
    left[:, :4] = raw[off[:, None] + np.arange(4)]
    for k, value in enumerate(_utf8_bytes(new_numbers, new_number_len)):
        used = k < new_number_len
        left[rows[used, 0], 4 + k] = value[used]
    for k in range(int(extra.max(initial=0))):
        used = k < extra
        source = off + 4 + old_number_len + k
        left[rows[used, 0], (4 + new_number_len + k)[used]] = raw[source[used]]
    # Right-aligned like the old ones, the CRC-8 in the last column.
    shift = np.arange(_WIDTH - 1)[None, :] - (_WIDTH - new_len)[:, None]
    new = np.zeros((count, _WIDTH), np.uint8)
    new[:, :-1] = np.where(shift >= 0, left[rows, np.clip(shift, 0, None)], 0)
    new[:, -1] = _crc8(new[:, :-1])

    stored = raw[off + sizes - 2].astype(np.uint32) << 8 | raw[off + sizes - 1]
    rest = (sizes - old_len - 2).astype(np.int64)
    crc = stored ^ _mulmod(_crc16(old) ^ _crc16(new), _x_power(rest))

    headers, footers = new.tobytes(), crc.astype(">u2").tobytes()
    view = memoryview(data)
    ends = (np.arange(1, count + 1) * _WIDTH).tolist()
    body_starts, body_ends = (off + old_len).tolist(), (off + sizes - 2).tolist()
    # Frame j is its new header, its old body, its new CRC-16; joined in one go (a
    # Python loop over the frames, or one write per piece, cost ten times as much).
    pieces: list[bytes | memoryview] = [b""] * (3 * count)
    pieces[0::3] = [
        headers[end - n : end] for end, n in zip(ends, new_len.tolist(), strict=True)
    ]
    pieces[1::3] = [
        view[begin:end] for begin, end in zip(body_starts, body_ends, strict=True)
    ]
    pieces[2::3] = [footers[k : k + 2] for k in range(0, 2 * count, 2)]
    return b"".join(pieces), sizes - old_len + new_len


def _right_aligned(raw: np.ndarray, off: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Rows of ``lengths[i]`` bytes from ``off[i]``, right-aligned in ``_WIDTH`` bytes
    with zeros before (leading zeros do not change a CRC that starts from zero)."""
    shift = np.arange(_WIDTH)[None, :] - (_WIDTH - lengths)[:, None]
    index = np.clip(off[:, None] + shift, 0, raw.size - 1)
    return np.where(shift >= 0, raw[index], 0).astype(np.uint8)


def _utf8_lengths(values: np.ndarray) -> np.ndarray:
    """Bytes of FLAC's UTF-8 coding of each value."""
    limits = np.array([0x80, 0x800, 0x10000, 0x200000, 0x4000000, 0x80000000])
    return 1 + np.searchsorted(limits, values, side="right")


def _utf8_bytes(values: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
    """Byte k of each value's UTF-8 coding (k up to the longest)."""
    lead_marks = (0xFF00 >> lengths) & 0xFF
    first = np.where(lengths == 1, values, lead_marks | (values >> (6 * (lengths - 1))))
    out = [first.astype(np.uint8)]
    for k in range(1, int(lengths.max())):
        shift = np.clip(6 * (lengths - 1 - k), 0, None)
        out.append((0x80 | ((values >> shift) & 0x3F)).astype(np.uint8))
    return out


def _extra_bytes(codes: np.ndarray, sizes: dict[int, int]) -> np.ndarray:
    extra = np.zeros(codes.shape, np.int64)
    for code, size in sizes.items():
        extra[codes == code] = size
    return extra


def _table(poly: int, bits: int) -> np.ndarray:
    top, mask = 1 << (bits - 1), (1 << bits) - 1
    table = []
    for byte in range(256):
        crc = byte << (bits - 8)
        for _ in range(8):
            crc = ((crc << 1) ^ poly if crc & top else crc << 1) & mask
        table.append(crc)
    return np.array(table, np.uint32)


_CRC8_TABLE = _table(_CRC8_POLY, 8)
_CRC16_TABLE = _table(_CRC16_POLY, 16)
_X_POWERS = np.ones(1, np.uint32)  # x^(8k) mod P for k < len, grown on demand


def _crc8(rows: np.ndarray) -> np.ndarray:
    crc = np.zeros(rows.shape[0], np.uint32)
    for column in rows.T:
        crc = _CRC8_TABLE[crc ^ column]
    return crc.astype(np.uint8)


def _crc16(rows: np.ndarray) -> np.ndarray:
    crc = np.zeros(rows.shape[0], np.uint32)
    for column in rows.T:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC16_TABLE[(crc >> 8) ^ column]
    return crc


def _x_power(byte_counts: np.ndarray) -> np.ndarray:
    """x^(8n) mod P for each n: what a CRC-16 is multiplied by when n bytes follow."""
    global _X_POWERS
    need = int(byte_counts.max(initial=0)) + 1
    if need > _X_POWERS.size:
        powers = [int(p) for p in _X_POWERS]
        size = max(need, 2 * len(powers), 16384)
        while len(powers) < size:
            c = powers[-1]
            powers.append(((c << 8) & 0xFFFF) ^ int(_CRC16_TABLE[c >> 8]))
        _X_POWERS = np.array(powers, np.uint32)
    return _X_POWERS[byte_counts]


def _mulmod(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a * b mod P for 16-bit polynomials, element by element."""
    out = np.zeros(a.shape, np.uint32)
    for bit in range(15, -1, -1):
        out = ((out << 1) & 0xFFFF) ^ np.where(out & 0x8000, _CRC16_POLY, 0)
        out ^= np.where((a >> bit) & 1, b, 0).astype(np.uint32)
    return out


def _header_ok(data: bytes, at: int, channels_byte: int, number: bytes) -> bool:
    """Whether the frame header at ``at`` has this channel/sample-size byte and frame
    number, and matches its CRC-8."""
    end = at + 4 + len(number)
    if data[at + 3] != channels_byte or data[at + 4 : end] != number:
        return False
    code = data[at + 2]
    length = end - at + _SIZE_BYTES.get(code >> 4, 0) + _RATE_BYTES.get(code & 15, 0)
    header = data[at : at + length + 1]
    if len(header) != length + 1:
        return False
    return int(_crc8(np.frombuffer(header, np.uint8)[None, :-1])[0]) == header[-1]


def _audio_start(data: bytes) -> int:
    if data[:4] != b"fLaC":
        raise FlacStreamError("not a FLAC file")
    at = 4
    while True:
        if at + 4 > len(data):
            raise FlacStreamError("the FLAC metadata is cut short")
        header = data[at]
        at += 4 + int.from_bytes(data[at + 1 : at + 4], "big")
        if header & 0x80:
            return at


def _check_stream_info(data: bytes, sample_rate_hz: int) -> None:
    info = data[8:42]
    rate = int.from_bytes(info[10:13], "big") >> 4
    channels = ((info[12] >> 1) & 7) + 1
    bits = (((info[12] & 1) << 4) | (info[13] >> 4)) + 1
    if data[4] & 0x7F != 0 or (rate, channels, bits) != (sample_rate_hz, 1, 16):
        raise FlacStreamError(
            f"a track is {rate} Hz, {channels} channel(s), {bits} bit; the stream is "
            f"{sample_rate_hz} Hz mono 16 bit"
        )
    blocks = struct.unpack(">HH", info[:4])
    if max(blocks) > BLOCK_SAMPLES:
        raise FlacStreamError(f"a track has blocks of {blocks} samples")


def _stream_header(
    sample_rate_hz: int, block: int, smallest: int, largest: int, samples: int
) -> bytes:
    """``fLaC`` and the STREAMINFO block (the last metadata block; MD5 left unset)."""
    packed = (sample_rate_hz << 44) | (0 << 41) | (15 << 36) | samples
    info = (
        struct.pack(">HH", block, block)
        + smallest.to_bytes(3, "big")
        + largest.to_bytes(3, "big")
        + packed.to_bytes(8, "big")
        + bytes(16)
    )
    return b"fLaC" + bytes([0x80, 0, 0, len(info)]) + info
