"""Mastering: measure a chapter's loudness and bring it to a delivery profile.

Three profiles (numbers from ACX, Apple Podcasts and EBU R 128 v4.0):

- ``acx``: RMS between -23 and -18 dB, peak at most -3 dB, noise floor at most -60 dB,
  0.5-1 s of room tone at the head and 1-5 s at the tail of every chapter.
- ``podcast``: integrated loudness -16 LUFS (+-1 LU), true peak at most -1 dBTP.
- ``r128``: integrated loudness -23 LUFS (+-1 LU), true peak at most -1 dBTP.

Integrated loudness and loudness range come from pyloudnorm (ITU-R BS.1770-4, EBU Tech
3342). True peak is the largest absolute value of the signal oversampled four times.
Levels of digital silence are reported as :data:`DB_FLOOR` instead of minus infinity.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pyloudnorm
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly

logger = logging.getLogger(__name__)

MASTER_PROFILES = ("acx", "podcast", "r128")
DB_FLOOR = -120.0  # reported for digital silence
TRUE_PEAK_OVERSAMPLING = 4
SILENCE_THRESHOLD_DB = -60.0  # a 10 ms frame quieter than this counts as room tone
NOISE_WINDOW_S = 0.5  # the noise floor is the RMS of the quietest window this long
LIMITER_MARGIN_DB = 1.5  # headroom under the ceiling for lossy codecs to overshoot
LIMITER_RAMP_S = 0.010  # attack/release of the limiter's gain
MAX_GAIN_DB = 40.0  # never boost more: a near-silent chapter stays a FAIL
GAIN_STEPS = 6

_FRAME_S = 0.010
_TONE_MARGIN_S = 0.05
_CEILING_SLACK = 10 ** (0.3 / 20)  # overshoot the limiter tolerates before a pass
_BLOCK_SAMPLES = 1 << 18  # oversampling works on blocks this long
_BLOCK_PAD = 64  # input samples of context on each side of a block


@dataclass(frozen=True)
class Profile:
    """A delivery profile: what is aimed at and what is checked."""

    name: str
    target_lufs: float | None = None  # integrated loudness aimed at
    lufs_tolerance_lu: float = 1.0
    target_rms_db: float | None = None  # unweighted RMS aimed at (ACX)
    rms_range_db: tuple[float, float] | None = None
    max_peak_db: float = -1.0  # true peak ceiling, dBTP
    max_noise_floor_db: float | None = None
    head_tone_s: tuple[float, float] | None = None  # room tone at a chapter's start
    tail_tone_s: tuple[float, float] | None = None  # room tone at a chapter's end
    max_chapter_s: float | None = None  # longest chapter file accepted


PROFILES: dict[str, Profile] = {
    "acx": Profile(
        "acx",
        target_rms_db=-20.0,
        rms_range_db=(-23.0, -18.0),
        max_peak_db=-3.0,
        max_noise_floor_db=-60.0,
        head_tone_s=(0.5, 1.0),
        tail_tone_s=(1.0, 5.0),
        max_chapter_s=120 * 60,
    ),
    "podcast": Profile("podcast", target_lufs=-16.0, max_peak_db=-1.0),
    "r128": Profile("r128", target_lufs=-23.0, max_peak_db=-1.0),
}


@dataclass(frozen=True)
class LoudnessReport:
    """What was measured on a stretch of audio; levels in dB relative to full scale."""

    duration_s: float
    integrated_lufs: float
    loudness_range_lu: float
    true_peak_dbtp: float
    sample_peak_dbfs: float
    rms_dbfs: float
    noise_floor_dbfs: float
    head_silence_s: float  # room tone before the first sound
    tail_silence_s: float  # room tone after the last sound

    def to_dict(self) -> dict[str, float]:
        """Return the fields rounded to 0.01 for a JSON report."""
        return {k: round(v, 2) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class MasteredChapter:
    """A chapter brought to a profile, and what was done to it."""

    audio_f32: np.ndarray
    gain_db: float
    limited: bool
    head_pad_samples: int  # room tone added (negative: removed) at the start
    tail_pad_samples: int  # room tone added (negative: removed) at the end


def measure(audio_f32: np.ndarray, sample_rate_hz: int) -> LoudnessReport:
    """Measure loudness, loudness range, peaks, RMS, noise floor and room tone."""
    x = np.asarray(audio_f32, dtype=np.float64).reshape(-1)
    duration_s = x.size / sample_rate_hz
    mean_square = float(np.mean(x * x)) if x.size else 0.0
    sample_peak = float(np.max(np.abs(x))) if x.size else 0.0
    true_peak = float(np.max(_peak_envelope(x))) if x.size else 0.0
    head_s, tail_s = _silent_ends(x, sample_rate_hz)

    return LoudnessReport(
        duration_s=duration_s,
        integrated_lufs=_integrated_lufs(x, sample_rate_hz),
        loudness_range_lu=_loudness_range(x, sample_rate_hz),
        true_peak_dbtp=_db(true_peak),
        sample_peak_dbfs=_db(sample_peak),
        rms_dbfs=_db(math.sqrt(mean_square)),
        noise_floor_dbfs=_noise_floor_db(x, sample_rate_hz),
        head_silence_s=head_s,
        tail_silence_s=tail_s,
    )


def check(
    report: LoudnessReport,
    profile: Profile,
    head_tone: bool = True,
    tail_tone: bool = True,
) -> list[str]:
    """Return what fails the profile, one sentence each; an empty list is a PASS.

    ``head_tone``/``tail_tone`` False skip the room-tone check at that end (the audio
    is a middle part of a longer chapter).
    """
    failures = []
    if profile.target_lufs is not None:
        off = report.integrated_lufs - profile.target_lufs
        if abs(off) > profile.lufs_tolerance_lu:
            failures.append(
                f"integrated loudness {report.integrated_lufs:.1f} LUFS is outside "
                f"{profile.target_lufs:.0f} +-{profile.lufs_tolerance_lu:.0f} LU"
            )
    if profile.rms_range_db is not None:
        low, high = profile.rms_range_db
        if not low <= report.rms_dbfs <= high:
            failures.append(
                f"RMS {report.rms_dbfs:.1f} dB is outside {low:.0f}..{high:.0f} dB"
            )
    if report.true_peak_dbtp > profile.max_peak_db:
        failures.append(
            f"true peak {report.true_peak_dbtp:.1f} dBTP is above "
            f"{profile.max_peak_db:.0f} dBTP"
        )
    if (
        profile.max_noise_floor_db is not None
        and report.noise_floor_dbfs > profile.max_noise_floor_db
    ):
        failures.append(
            f"noise floor {report.noise_floor_dbfs:.1f} dB is above "
            f"{profile.max_noise_floor_db:.0f} dB"
        )
    if head_tone:
        failures += _check_tone("head", report.head_silence_s, profile.head_tone_s)
    if tail_tone:
        failures += _check_tone("tail", report.tail_silence_s, profile.tail_tone_s)
    return failures


def master_chapter(
    audio_f32: np.ndarray,
    sample_rate_hz: int,
    profile: Profile,
    head_tone: bool = True,
    tail_tone: bool = True,
) -> MasteredChapter:
    """Apply gain, a true-peak limiter and room tone so the chapter meets ``profile``.

    Room tone is added or trimmed only at the ends flagged by ``head_tone`` and
    ``tail_tone``.
    """
    x = np.asarray(audio_f32, dtype=np.float64).reshape(-1)
    head_pad, tail_pad = _room_tone_pads(x, sample_rate_hz, profile)
    head_pad, tail_pad = head_pad * head_tone, tail_pad * tail_tone
    x = _pad(x, head_pad, tail_pad)

    target = profile.target_lufs
    if target is None:
        target = profile.target_rms_db
    gain_db, y, limited = 0.0, x, False
    if target is not None and x.any():
        gain_db, y, limited = _gain_to_target(x, sample_rate_hz, profile, target)

    logger.debug(
        "mastering %s: gain %.2f dB, limited %s, room tone %+d/%+d samples",
        profile.name,
        gain_db,
        limited,
        head_pad,
        tail_pad,
    )
    return MasteredChapter(y.astype(np.float32), gain_db, limited, head_pad, tail_pad)


def _gain_to_target(
    x: np.ndarray, sample_rate_hz: int, profile: Profile, target: float
) -> tuple[float, np.ndarray, bool]:
    """Find the gain that lands on ``target`` after limiting (secant steps).

    The search works on 1 ms blocks: the peak envelope and the (K-weighted) power are
    computed once at full rate and summarised per block, and scaling the input scales
    both. Only the chosen gain curve is applied at full rate, then checked there.
    """
    block = _block_samples(sample_rate_hz)
    peaks = _block_reduce(_peak_envelope(x), block, np.maximum)
    power = _k_weighted(x, sample_rate_hz) if profile.target_lufs is not None else x * x
    energy = _block_reduce(power, block, np.add)
    ceiling = 10 ** ((profile.max_peak_db - LIMITER_MARGIN_DB) / 20)
    ramp = max(1, round(LIMITER_RAMP_S * sample_rate_hz / block))

    def level_with(gains: np.ndarray) -> float:
        return _block_level(energy * gains * gains, x.size, profile)

    level = level_with(np.ones_like(energy))
    if level <= DB_FLOOR:
        return 0.0, x, False
    # The limiter takes back part of every added dB: divide the remaining error by the
    # slope seen between the last two tries.
    gain_db, slope = 0.0, 1.0
    gains = np.ones_like(energy)
    for _ in range(GAIN_STEPS):
        step = (target - level) / slope
        gain_db = min(gain_db + step, MAX_GAIN_DB)
        scale = 10 ** (gain_db / 20)
        gains = _block_gains(peaks * scale, ceiling, ramp) * scale
        new_level = level_with(gains)
        if abs(new_level - target) < 0.05 or gain_db >= MAX_GAIN_DB:
            break
        if abs(step) > 1e-6:
            slope = min(1.0, max(0.2, (new_level - level) / step))
        level = new_level

    limited = bool(gains.min() < 10 ** (gain_db / 20) * (1 - 1e-9))
    y, corrected = _limit(
        x * _gain_curve(gains, block, x.size), sample_rate_hz, ceiling
    )
    return gain_db, y, limited or corrected


# ---- measurement helpers ------------------------------------------------------------


def _db(amplitude: float) -> float:
    if amplitude <= 0 or not math.isfinite(amplitude):
        return DB_FLOOR
    return max(DB_FLOOR, 20 * math.log10(amplitude))


def _integrated_lufs(x: np.ndarray, sample_rate_hz: int) -> float:
    meter = pyloudnorm.Meter(sample_rate_hz)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = float(meter.integrated_loudness(x))
    except ValueError:  # shorter than one 400 ms gating block
        return DB_FLOOR
    return value if math.isfinite(value) else DB_FLOOR


def _loudness_range(x: np.ndarray, sample_rate_hz: int) -> float:
    meter = pyloudnorm.Meter(sample_rate_hz)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = float(meter.loudness_range(x))
    except ValueError:
        return 0.0
    return value if math.isfinite(value) else 0.0


def _peak_envelope(x: np.ndarray) -> np.ndarray:
    """Per input sample, the largest absolute value among its oversampled points."""
    up = TRUE_PEAK_OVERSAMPLING
    envelope: np.ndarray = np.abs(x).astype(np.float32)
    for start in range(0, x.size, _BLOCK_SAMPLES):
        end = min(start + _BLOCK_SAMPLES, x.size)
        lo, hi = max(0, start - _BLOCK_PAD), min(x.size, end + _BLOCK_PAD)
        chunk = np.asarray(x[lo:hi], dtype=np.float32)
        dense = np.abs(resample_poly(chunk, up, 1)[(start - lo) * up : (end - lo) * up])
        for phase in range(up):
            np.maximum(envelope[start:end], dense[phase::up], out=envelope[start:end])
    return envelope


def _frame_rms(x: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    frame = max(1, int(sample_rate_hz * _FRAME_S))
    count = x.size // frame
    if count == 0:
        return np.sqrt(np.array([np.mean(x * x)])) if x.size else np.zeros(0)
    frames = x[: count * frame].reshape(count, frame)
    return np.asarray(np.sqrt(np.mean(frames * frames, axis=1)))


def _silent_ends(x: np.ndarray, sample_rate_hz: int) -> tuple[float, float]:
    rms = _frame_rms(x, sample_rate_hz)
    loud = np.flatnonzero(rms >= 10 ** (SILENCE_THRESHOLD_DB / 20))
    if loud.size == 0:
        return x.size / sample_rate_hz, x.size / sample_rate_hz
    frame = max(1, int(sample_rate_hz * _FRAME_S))
    head = loud[0] * frame
    tail = x.size - (loud[-1] + 1) * frame
    return float(head) / sample_rate_hz, float(tail) / sample_rate_hz


def _noise_floor_db(x: np.ndarray, sample_rate_hz: int) -> float:
    rms = _frame_rms(x, sample_rate_hz)
    if rms.size == 0:
        return DB_FLOOR
    frames = max(1, min(rms.size, int(round(NOISE_WINDOW_S / _FRAME_S))))
    window_ms = uniform_filter1d(rms * rms, size=frames, mode="nearest")
    return _db(math.sqrt(max(0.0, float(np.min(window_ms)))))


def _check_tone(
    where: str, measured_s: float, wanted: tuple[float, float] | None
) -> list[str]:
    if wanted is None:
        return []
    low, high = wanted
    # Silence is measured in 10 ms frames: allow one frame either way.
    if low - _FRAME_S <= measured_s <= high + _FRAME_S:
        return []
    return [f"room tone at the {where} is {measured_s:.2f} s, expected {low}-{high} s"]


# ---- processing helpers -------------------------------------------------------------


def _room_tone_pads(
    x: np.ndarray, sample_rate_hz: int, profile: Profile
) -> tuple[int, int]:
    """Samples to add (or, if negative, remove) at each end to reach the room tone."""
    if profile.head_tone_s is None or profile.tail_tone_s is None:
        return 0, 0
    head_s, tail_s = _silent_ends(x, sample_rate_hz)
    if head_s * sample_rate_hz >= x.size:  # nothing but silence
        return 0, 0

    def pad(measured_s: float, wanted: tuple[float, float]) -> int:
        # Aim a little inside the range: silence is measured in whole frames.
        low, high = wanted[0] + _TONE_MARGIN_S, wanted[1] - _TONE_MARGIN_S
        if low <= measured_s <= high:
            return 0
        goal_s = min(max(measured_s, low), high)
        return int(round((goal_s - measured_s) * sample_rate_hz))

    return pad(head_s, profile.head_tone_s), pad(tail_s, profile.tail_tone_s)


def _pad(x: np.ndarray, head: int, tail: int) -> np.ndarray:
    x = x[-head:] if head < 0 else np.concatenate([np.zeros(head), x])
    x = x[: x.size + tail] if tail < 0 else np.concatenate([x, np.zeros(tail)])
    return x


def _block_samples(sample_rate_hz: int) -> int:
    return max(1, sample_rate_hz // 1000)


def _block_reduce(values: np.ndarray, block: int, op: np.ufunc) -> np.ndarray:
    """Reduce ``values`` over consecutive blocks (the last one zero-padded)."""
    padded = np.zeros(-(-values.size // block) * block)
    padded[: values.size] = values
    return np.asarray(op.reduce(padded.reshape(-1, block), axis=1))


def _block_gains(peaks: np.ndarray, ceiling: float, ramp: int) -> np.ndarray:
    """Per-block limiter gain that keeps every block's peak at or under ``ceiling``.

    A running minimum over +-(ramp + 1) blocks, then a moving average over ramp + 1:
    the gain of a block and of both neighbours is at most what the block needs, so the
    linear interpolation between block centres never lets a sample through too loud.
    """
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    if need.min() >= 1.0:
        return np.asarray(need)
    gains = minimum_filter1d(need, size=2 * (ramp + 1) + 1, mode="nearest")
    return np.asarray(uniform_filter1d(gains, size=ramp + 1, mode="nearest"))


def _gain_curve(gains: np.ndarray, block: int, size: int) -> np.ndarray:
    centres = (np.arange(gains.size) + 0.5) * block
    return np.asarray(np.interp(np.arange(size), centres, gains))


def _limit(
    x: np.ndarray, sample_rate_hz: int, ceiling: float
) -> tuple[np.ndarray, bool]:
    """Apply the limiter until no true peak exceeds ``ceiling``; True if it acted."""
    block = _block_samples(sample_rate_hz)
    ramp = max(1, round(LIMITER_RAMP_S * sample_rate_hz / block))
    limited = False
    for _ in range(3):
        envelope = _peak_envelope(x)
        if envelope.max() <= ceiling * _CEILING_SLACK:
            break
        gains = _block_gains(_block_reduce(envelope, block, np.maximum), ceiling, ramp)
        x = x * _gain_curve(gains, block, x.size)
        limited = True
    return x, limited


def _k_weighted(x: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    """Squared K-weighted signal, with pyloudnorm's BS.1770 filters."""
    meter = pyloudnorm.Meter(sample_rate_hz)
    weighted = x
    for stage in meter._filters.values():  # the library's K-weighting stages
        weighted = stage.apply_filter(weighted)
    return np.asarray(weighted * weighted, dtype=np.float64)


def _block_level(energy: np.ndarray, size: int, profile: Profile) -> float:
    """BS.1770 gated loudness (400 ms blocks, 100 ms hop) from 1 ms energies; or RMS."""
    if profile.target_lufs is None:
        mean = float(np.sum(energy)) / max(size, 1)
        return _db(math.sqrt(mean)) if mean > 0 else DB_FLOOR
    if energy.size < 400:
        return DB_FLOOR
    sums = np.concatenate([[0.0], np.cumsum(energy)])
    starts = np.arange(0, energy.size - 400 + 1, 100)
    mean_square = (sums[starts + 400] - sums[starts]) / (400 * size / energy.size)
    with np.errstate(divide="ignore"):
        loudness = -0.691 + 10 * np.log10(mean_square)
    above = loudness >= -70.0
    if not above.any():
        return DB_FLOOR
    relative = -0.691 + 10 * math.log10(float(np.mean(mean_square[above]))) - 10.0
    gated = mean_square[above & (loudness > relative)]
    return -0.691 + 10 * math.log10(float(np.mean(gated)))
