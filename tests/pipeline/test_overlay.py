"""The read-along EPUB 3: every line a span, every span a clip of the narration MP3."""

import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from rundir_factory import ffprobe

from talecast.pipeline.export import export_run
from talecast.pipeline.overlay import clock
from talecast.pipeline.reading import read_story_file
from talecast.pipeline.render import RenderOptions, render_story

STORY = Path(__file__).resolve().parents[2] / "examples" / "lighthouse.md"
NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "smil": "http://www.w3.org/ns/SMIL",
    "x": "http://www.w3.org/1999/xhtml",
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
}


def _seconds(value: str) -> float:
    hours, minutes, seconds = value.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    out = tmp_path_factory.mktemp("epub")
    result = render_story(
        read_story_file(STORY),
        out / "run",
        RenderOptions(profile="fast"),
        cache_dir=out / "cache",
    )
    outputs = export_run(out / "run", ["epub"])
    return result, outputs


def test_clock_is_a_smil_clock_value():
    assert clock(0, 24000) == "0:00:00.000"
    assert clock(24000 * 3723 + 12000, 24000) == "1:02:03.500"


def test_epub_is_a_valid_container_with_overlays_for_every_chapter(book):
    result, outputs = book
    path = outputs["narration.epub"]
    assert "narration.mp3" in outputs  # the book carries the MP3 it points at
    with zipfile.ZipFile(path) as z:
        first = z.infolist()[0]
        assert (
            first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        )
        assert z.read("mimetype") == b"application/epub+zip"
        container = ET.fromstring(z.read("META-INF/container.xml"))
        opf_path = container.find(".//c:rootfile", NS).get("full-path")
        opf = ET.fromstring(z.read(opf_path))
        base = opf_path.rsplit("/", 1)[0] + "/"
        manifest = {i.get("id"): i for i in opf.findall(".//opf:item", NS)}
        for item in manifest.values():
            assert base + item.get("href") in z.namelist(), item.get("href")
        spine = [r.get("idref") for r in opf.findall(".//opf:itemref", NS)]
        assert len(spine) == len(result.chapters)
        assert (
            z.read(base + "audio/narration.mp3")
            == outputs["narration.mp3"].read_bytes()
        )

        clips = []
        for idref in spine:
            doc = manifest[idref]
            overlay = manifest[doc.get("media-overlay")]
            assert overlay.get("media-type") == "application/smil+xml"
            xhtml = ET.fromstring(z.read(base + doc.get("href")))
            ids = {e.get("id"): e for e in xhtml.iter() if e.get("id")}
            smil = ET.fromstring(z.read(base + overlay.get("href")))
            for par in smil.findall(".//smil:par", NS):
                target = par.find("smil:text", NS).get("src").split("#")[1]
                assert target in ids  # every clip highlights an element that exists
                audio = par.find("smil:audio", NS)
                clips.append(
                    (
                        _seconds(audio.get("clipBegin")),
                        _seconds(audio.get("clipEnd")),
                        "".join(ids[target].itertext()),
                        ids[target].get("title"),
                    )
                )
    # The clips are the transcript, line for line, on the same timeline.
    assert len(clips) == len(result.transcript)
    for (begin, end, text, speaker), item in zip(clips, result.transcript, strict=True):
        assert abs(begin - item["start"]) < 0.002 and abs(end - item["end"]) < 0.002
        assert item["text"] in text
        assert speaker in (None, item["speaker"])
    probe = ffprobe(outputs["narration.mp3"], "-show_entries", "format=duration")
    assert clips[-1][1] <= float(probe["format"]["duration"]) + 0.05


def test_each_speaker_has_a_class_and_dialogue_is_marked(book):
    result, outputs = book
    with zipfile.ZipFile(outputs["narration.epub"]) as z:
        chapter = ET.fromstring(z.read("EPUB/chapter-001.xhtml"))
        opf = z.read("EPUB/package.opf").decode()
    spans = list(chapter.iter(f"{{{NS['x']}}}span"))
    classes = {s.get("title"): s.get("class") for s in spans}
    assert classes["Narrator"] == "narrator narration"
    assert (
        classes["Martha"].endswith(" dialogue")
        and classes["Martha"] != classes["Thomas"]
    )
    assert "media:active-class" in opf and "synthetic Talecast voice" in opf
