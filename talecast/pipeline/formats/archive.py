"""Reading DOCX and EPUB archives safely: bounded expansion and guarded XML.

Every member is read in chunks while counting the bytes it really expands to, so a
zip bomb stops at ``ReadLimits.max_expanded_bytes`` whatever its headers declare.
XML that declares entities is refused before it reaches the parser.
"""

from __future__ import annotations

import io
import logging
import zipfile
import zlib
from xml.etree import ElementTree

from talecast.errors import CorruptArchiveError, StoryTooLargeError
from talecast.pipeline.formats.common import ReadLimits

logger = logging.getLogger(__name__)

_CHUNK_BYTES = 64 * 1024
_MAX_MEMBERS = 20_000
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError)


def open_zip(data: bytes, kind: str) -> zipfile.ZipFile:
    """Open ``data`` as a ZIP archive or raise CorruptArchiveError naming ``kind``."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise CorruptArchiveError(
            f"the {kind} file is not a readable ZIP archive ({exc}); it may be "
            f"truncated or damaged: export the {kind} again and upload the new file"
        ) from exc
    if len(archive.infolist()) > _MAX_MEMBERS:
        raise CorruptArchiveError(
            f"the {kind} archive lists {len(archive.infolist()):,} files, more than "
            f"{_MAX_MEMBERS:,}; this is not a story document"
        )
    return archive


class SafeZip:
    """A ZIP archive whose members are read against one expansion budget."""

    def __init__(self, data: bytes, kind: str, limits: ReadLimits) -> None:
        self.kind = kind
        self.archive = open_zip(data, kind)
        self._budget = limits.max_expanded_bytes
        self._used = 0
        self._names = {info.filename for info in self.archive.infolist()}
        declared = sum(info.file_size for info in self.archive.infolist())
        if declared > self._budget:
            raise self._too_large(declared, "declares")

    def has(self, name: str) -> bool:
        """Tell whether the archive holds a member called ``name``."""
        return name in self._names

    def read(self, name: str) -> bytes:
        """Read one member, counting its real expanded size against the budget."""
        if name not in self._names:
            raise CorruptArchiveError(
                f"the {self.kind} file lacks its part {name!r}; it is incomplete or "
                f"not a {self.kind}: export it again from the program that made it"
            )
        chunks = []
        try:
            with self.archive.open(name) as member:
                while chunk := member.read(_CHUNK_BYTES):
                    self._used += len(chunk)
                    if self._used > self._budget:
                        raise self._too_large(self._used, "expands to more than")
                    chunks.append(chunk)
        except NotImplementedError as exc:
            raise CorruptArchiveError(
                f"the {self.kind} part {name!r} uses a compression Talecast cannot "
                f"read ({exc}); save the file again with standard compression"
            ) from exc
        except _READ_ERRORS as exc:
            raise CorruptArchiveError(
                f"the {self.kind} part {name!r} is damaged ({exc}); export the file "
                "again and upload the new copy"
            ) from exc
        return b"".join(chunks)

    def read_xml(self, name: str) -> ElementTree.Element:
        """Read and parse one XML member."""
        return parse_xml(self.read(name), f"{self.kind} part {name!r}")

    def _too_large(self, size: int, verb: str) -> StoryTooLargeError:
        return StoryTooLargeError(
            f"the {self.kind} archive {verb} {size:,} bytes when unpacked, over the "
            f"limit of {self._budget:,} bytes; remove large images or split the story"
        )


def parse_xml(data: bytes, what: str) -> ElementTree.Element:
    """Parse XML, refusing entity declarations; CorruptArchiveError if malformed."""
    if b"<!ENTITY" in data:
        raise CorruptArchiveError(
            f"the {what} declares XML entities, which Talecast refuses to expand; "
            "save the document again without a custom DTD"
        )
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise CorruptArchiveError(
            f"the {what} is not well-formed XML ({exc}); the file is damaged: export "
            "it again and upload the new copy"
        ) from exc
