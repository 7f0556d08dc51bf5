"""Extra deliverables through the API: export formats, file listings, chapters."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from liveserver import STORY, LiveServer, upload, wait_for_status

LONG_STORY = STORY * 6  # renders for seconds, so it is still PENDING when asked


@dataclass
class Exports:
    """A server with a run that asked for MP3 and WebVTT, and one mastered for ACX."""

    server: LiveServer
    client: httpx.Client
    key: str
    other_key: str
    run_id: int
    acx_run_id: int


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exports]:
    """Render two stories with extra deliverables (several seconds)."""
    server = LiveServer(tmp_path_factory.mktemp("exports")).start()
    key, other_key = server.create_key("exporter"), server.create_key("other")
    client = httpx.Client(base_url=server.url, timeout=30.0)
    try:
        requests = [
            {"export_formats": "mp3, VTT, qa"},
            {"export_formats": "mp3,stems,epub", "master": "ACX"},
        ]
        run_ids = []
        for fields in requests:
            created = upload(client, key, STORY, **fields)
            assert created.status_code == 200, created.text
            final = wait_for_status(client, created.json()["task_id"], key)
            assert final["status"] == "SUCCESS", final
            run_ids.append(int(str(final["run_id"])))
        yield Exports(server, client, key, other_key, *run_ids)
    finally:
        client.close()
        server.stop()


def _files(
    exports: Exports, key: str | None = None, run_id: int | None = None
) -> httpx.Response:
    return exports.client.get(
        f"/apis/story-result/{run_id or exports.run_id}/files",
        headers={"x-api-key": key or exports.key},
    )


def _listing(
    exports: Exports, run_id: int | None = None
) -> dict[str, dict[str, object]]:
    response = _files(exports, run_id=run_id)
    assert response.status_code == 200, response.text
    return {item["name"]: item for item in response.json()["files"]}


def _ffprobe(path: Path) -> dict[str, object]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    stream: dict[str, object] = json.loads(out)["streams"][0]
    return stream


def test_files_listing_has_requested_and_always_made_files(exports: Exports) -> None:
    files = _listing(exports)
    expected = {
        "narration.flac",
        "dialogue.flac",
        "narration.mp3",
        "transcript.vtt",
        "transcript.srt",
        "words.json",
        "transcript.json",
        "chapters.json",
        "cast.json",
        "report.json",
        "qa.json",  # the listening check asked for
    }
    assert expected <= set(files)
    assert "narration.m4b" not in files and "segments.json" not in files
    assert files["narration.mp3"]["content_type"] == "audio/mpeg"
    assert files["transcript.vtt"]["content_type"] == "text/vtt"


def test_mp3_link_downloads_mp3_at_44_1_khz_with_ranges(
    exports: Exports, tmp_path: Path
) -> None:
    item = _listing(exports)["narration.mp3"]
    whole = exports.client.get(str(item["url"]))
    assert whole.status_code == 200
    assert len(whole.content) == item["size"]
    path = tmp_path / "narration.mp3"
    path.write_bytes(whole.content)
    stream = _ffprobe(path)
    assert (stream["codec_name"], stream["sample_rate"]) == ("mp3", "44100")

    part = exports.client.get(str(item["url"]), headers={"range": "bytes=10-109"})
    assert part.status_code == 206
    assert part.content == whole.content[10:110]


def test_vtt_link_serves_voice_spans_naming_the_transcript_speakers(
    exports: Exports,
) -> None:
    vtt = exports.client.get(str(_listing(exports)["transcript.vtt"]["url"]))
    assert vtt.status_code == 200
    assert vtt.text.startswith("WEBVTT")
    transcript = exports.client.get(
        f"/apis/story-result/{exports.run_id}",
        params={"include_transcript": "true"},
        headers={"x-api-key": exports.key},
    ).json()["transcript"]
    for speaker in {item["speaker"] for item in transcript}:
        assert f"<v {speaker}>" in vtt.text


def test_mastered_run_links_stems_and_per_chapter_acx_files(exports: Exports) -> None:
    files = _listing(exports, exports.acx_run_id)
    stems = [name for name in files if name.startswith("stems/")]
    acx = [name for name in files if name.startswith("acx/")]
    assert {"stems/Mary.flac", "stems/Tom.flac"} <= set(stems)
    assert files["narration.epub"]["content_type"] == "application/epub+zip"
    epub = exports.client.get(str(files["narration.epub"]["url"]))
    assert epub.status_code == 200 and epub.content[:2] == b"PK"
    assert sorted(acx) == [
        "acx/00 Opening Credits.mp3",
        "acx/1 Chapter 1.mp3",
        "acx/99 Closing Credits.mp3",
        "acx/Retail Sample.mp3",
    ]
    report = exports.client.get(str(files["report.json"]["url"])).json()
    assert "acx" in json.dumps(report).lower()
    for name in [*stems, *acx]:
        response = exports.client.get(str(files[name]["url"]))
        assert response.status_code == 200, name
        assert len(response.content) == files[name]["size"]


def test_camb_result_keeps_exactly_its_two_links(exports: Exports) -> None:
    body = exports.client.get(
        f"/apis/story-result/{exports.run_id}", headers={"x-api-key": exports.key}
    ).json()
    assert set(body) == {"audio_url", "dialogue_url"}


@pytest.mark.parametrize("change", ["name", "signature", "traversal"])
def test_altered_file_link_is_refused_with_403(exports: Exports, change: str) -> None:
    parts = urlsplit(str(_listing(exports)["narration.mp3"]["url"]))
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    path = parts.path
    if change == "name":
        path = path.replace("narration.mp3", "narration.opus")
    elif change == "traversal":
        path = path.replace("narration.mp3", "..%2F..%2Fsecret_key")
    else:
        query["signature"] = query["signature"][::-1]
    response = exports.client.get(f"{path}?{urlencode(query)}")
    assert response.status_code == 403


def test_files_listing_of_other_account_or_unknown_run_is_404(
    exports: Exports,
) -> None:
    assert _files(exports, exports.other_key).status_code == 404
    unknown = exports.client.get(
        "/apis/story-result/999999/files", headers={"x-api-key": exports.key}
    )
    assert unknown.status_code == 404


def test_files_listing_of_unfinished_run_is_400(exports: Exports) -> None:
    task_id = upload(exports.client, exports.key, LONG_STORY).json()["task_id"]
    status = exports.client.get(
        f"/apis/story/{task_id}", headers={"x-api-key": exports.key}
    ).json()
    assert status["status"] == "PENDING"
    run_id = _run_id_of(exports.server.data_dir, task_id)
    response = exports.client.get(
        f"/apis/story-result/{run_id}/files", headers={"x-api-key": exports.key}
    )
    assert response.status_code == 400
    assert "PENDING" in response.json()["detail"]


def test_chapters_endpoint_matches_the_stored_chapters(exports: Exports) -> None:
    chapters = exports.client.get(
        f"/apis/story-result/{exports.run_id}/chapters",
        headers={"x-api-key": exports.key},
    ).json()
    stored = json.loads(
        exports.client.get(str(_listing(exports)["chapters.json"]["url"])).text
    )
    assert [(c["title"], c["start"], c["end"]) for c in chapters] == [
        (c["title"], c["start"], c["end"]) for c in stored
    ]
    assert chapters[0]["start"] == 0.0 and chapters[-1]["end"] > 1.0


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"export_formats": "mp3,wav"}, "export_formats", "'wav'"),
        ({"master": "loud"}, "master", "'loud'"),
    ],
)
def test_bad_deliverable_field_is_422_naming_it(
    exports: Exports, fields: dict[str, str], field: str, words: str
) -> None:
    response = upload(exports.client, exports.other_key, STORY, **fields)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"] == ["body", field]
    assert words in detail[0]["msg"]


def _run_id_of(data_dir: Path, task_id: str) -> int:
    import sqlite3

    with sqlite3.connect(data_dir / "talecast.db") as conn:
        (run_id,) = conn.execute(
            "SELECT run_id FROM stories WHERE task_id = ?", (task_id,)
        ).fetchone()
    return int(run_id)
