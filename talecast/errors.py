"""Talecast's exception tree.

Every error Talecast raises on purpose derives from :class:`TalecastError`::

    TalecastError
    ├── StoryInputError            the uploaded story cannot be used (HTTP 422)
    │   ├── EmptyStoryError        nothing but whitespace
    │   ├── UnsupportedFormatError not text, DOCX, EPUB, PDF, HTML or Markdown
    │   ├── StoryDecodeError       text whose encoding cannot be determined
    │   ├── CorruptArchiveError    a DOCX or EPUB that is not a valid archive
    │   ├── CorruptPdfError        a PDF that cannot be parsed or is password-protected
    │   ├── NoTextLayerError       a PDF without extractable text
    │   └── StoryTooLargeError     over a size limit, or an archive too big unpacked
    │                              (HTTP 413)
    ├── VoiceError                 an unknown voice id or an unusable voice (HTTP 422)
    ├── EngineError                a speech engine failed or is not installed
    ├── NotFoundError              an id that does not exist for the caller (HTTP 404)
    ├── ConfigError                a setting is missing, malformed or insecure
    ├── AuthError                  a missing, unknown or revoked API key (HTTP 401)
    ├── LinkError                  a file link that expired or was altered (HTTP 403)
    ├── RunNotReadyError           a run that exists but has no result yet (HTTP 400)
    ├── StorageError               a stored file is missing or storage cannot be written
    │                              (HTTP 503)
    ├── QuotaError                 an account over its limit of active stories (400)
    ├── ExportError                an unknown export format or mastering profile, or a
    │                              run directory without a rendered file (HTTP 422)
    ├── EncoderError               ffmpeg is missing or failed while encoding an export
    ├── RenderTimeoutError         a render past its time limit, or one that stalled
    ├── DictionaryError            an unreadable pronunciation dictionary (HTTP 422)
    └── CorrectionError            a speaker or voice correction that does not fit
                                   (HTTP 422)

``reason`` is the machine-readable ``exception_reason`` a failed story task reports.
"""

from __future__ import annotations


class TalecastError(Exception):
    """Root of every error Talecast raises on purpose."""

    reason = "PROCESSING_ERROR"


class StoryInputError(TalecastError):
    """The story file cannot be turned into text."""

    reason = "INVALID_SOURCE_DATA"


class EmptyStoryError(StoryInputError):
    """The story holds no readable text."""


class UnsupportedFormatError(StoryInputError):
    """The bytes are of a kind Talecast does not read."""

    reason = "SOURCE_TYPE_NOT_SUPPORTED"


class StoryDecodeError(StoryInputError):
    """Text whose character encoding cannot be determined."""


class CorruptArchiveError(StoryInputError):
    """A DOCX or EPUB that is not a readable archive."""


class CorruptPdfError(StoryInputError):
    """A PDF that cannot be parsed, or is locked with a password."""


class NoTextLayerError(StoryInputError):
    """A PDF that has pages but no extractable text."""


class StoryTooLargeError(StoryInputError):
    """Input over a size limit, or an archive that expands past one."""

    reason = "SOURCE_TOO_LARGE"


class VoiceError(TalecastError):
    """An unknown voice id, or a voice whose engine cannot run here."""


class EngineError(TalecastError):
    """A speech engine failed or is not installed."""

    reason = "VOICE_CONVERSION_ERROR"


class NotFoundError(TalecastError):
    """An id unknown to the caller (another account's ids included)."""


class ConfigError(TalecastError):
    """A setting is missing, malformed or refused as insecure."""


class AuthError(TalecastError):
    """A request without a valid API key."""


class LinkError(TalecastError):
    """A signed file link that expired or does not match its signature."""


class RunNotReadyError(TalecastError):
    """A run that exists for the caller but has no finished result."""


class StorageError(TalecastError):
    """A storage key that is malformed or missing, or a back end that failed."""


class QuotaError(TalecastError):
    """An account already has as many stories in progress as it may."""


class ExportError(TalecastError, ValueError):
    """An unknown export format or mastering profile, or an incomplete run directory."""


class RenderTimeoutError(TalecastError):
    """A render that ran past ``TALECAST_RENDER_TIMEOUT_S`` or made no progress for
    ``TALECAST_STALL_TIMEOUT_S``; its story ends with status TIMEOUT."""

    reason = "RENDER_TIME_LIMIT"

    def __init__(self, message: str, reason: str = "RENDER_TIME_LIMIT") -> None:
        super().__init__(message)
        self.reason = reason


def render_time_limit_message(limit_s: float) -> str:
    """Why a story ended as TIMEOUT because it rendered for too long."""
    return (
        f"rendering took longer than the limit of {limit_s:g} s "
        "(TALECAST_RENDER_TIMEOUT_S); the story was not finished"
    )


def stall_message(limit_s: float, stage: str) -> str:
    """Why a story ended as TIMEOUT because its render stopped making progress."""
    return (
        f"rendering made no progress for {limit_s:g} s during {stage!r} "
        "(TALECAST_STALL_TIMEOUT_S); a speech engine may have hung"
    )


class EncoderError(TalecastError):
    """ffmpeg is not installed or failed while encoding an export."""


class DictionaryError(TalecastError, ValueError):
    """A pronunciation dictionary (JSON term list or W3C PLS) that cannot be used."""


class CorrectionError(TalecastError, ValueError):
    """A speaker or voice correction that is malformed or fits no line of the story."""

    reason = "INVALID_CORRECTIONS"

    def __init__(self, message: str, loc: tuple[str | int, ...] = ("body",)) -> None:
        super().__init__(message)
        self.loc = loc  # where in a request body the problem is, for a 422
