"""Signed file links: absolute, expiring, tamper-proof, with byte ranges."""

from __future__ import annotations

import io
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import soundfile as sf
from world import World

from talecast.api.signing import LinkSigner
from talecast.errors import LinkError


def _result(world: World) -> dict[str, str]:
    response = world.client.get(
        f"/apis/story-result/{world.runs_a[0]}", headers={"x-api-key": world.key_a}
    )
    assert response.status_code == 200
    return dict(response.json())


def _secret(world: World) -> str:
    return (world.server.data_dir / "secret_key").read_text().strip()


def test_links_are_absolute_and_valid_for_24_hours(world: World) -> None:
    before = time.time()
    links = _result(world)
    for name in ("audio_url", "dialogue_url"):
        parts = urlsplit(links[name])
        assert f"{parts.scheme}://{parts.netloc}" == world.server.url
        expires = int(parse_qs(parts.query)["expires"][0])
        assert before + 86400 - 2 <= expires <= time.time() + 86400


def test_expired_link_is_refused_with_403(world: World) -> None:
    signer = LinkSigner(_secret(world), ttl_s=86400)
    stale = signer.link(
        world.server.url, world.runs_a[0], "narration.flac", 1, now=time.time() - 86401
    )
    fresh = signer.link(world.server.url, world.runs_a[0], "narration.flac", 1)
    assert world.client.get(fresh).status_code == 200
    response = world.client.get(stale)
    assert response.status_code == 403
    assert "expired" in response.json()["detail"]


@pytest.mark.parametrize("field", ["signature", "expires", "account"])
def test_altered_link_is_refused_with_403(world: World, field: str) -> None:
    parts = urlsplit(_result(world)["audio_url"])
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    if field == "signature":
        query[field] = query[field][:-1] + ("A" if query[field][-1] != "A" else "B")
    else:
        query[field] = str(int(query[field]) + 1)
    response = world.client.get(f"{parts.path}?{urlencode(query)}")
    assert response.status_code == 403


def test_link_to_the_other_file_name_is_refused(world: World) -> None:
    audio = _result(world)["audio_url"]
    swapped = audio.replace("narration.flac", "dialogue.flac")
    assert world.client.get(swapped).status_code == 403


def test_audio_link_serves_flac_with_length_and_ranges(world: World) -> None:
    url = _result(world)["audio_url"]
    whole = world.client.get(url)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "audio/flac"
    assert whole.headers["accept-ranges"] == "bytes"
    assert int(whole.headers["content-length"]) == len(whole.content)
    assert sf.info(io.BytesIO(whole.content)).format == "FLAC"

    part = world.client.get(url, headers={"range": "bytes=100-1099"})
    assert part.status_code == 206
    assert part.content == whole.content[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{len(whole.content)}"
    tail = world.client.get(url, headers={"range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == whole.content[-10:]
    head = world.client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(whole.content)


def test_each_result_request_issues_fresh_links(world: World) -> None:
    first = _result(world)["audio_url"]
    time.sleep(1.05)
    assert _result(world)["audio_url"] != first


def test_signer_rejects_unknown_file_names() -> None:
    signer = LinkSigner("x" * 32, ttl_s=60)
    url = signer.link("http://h", 5, "narration.flac", 2, now=1000.0)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    signer.verify(
        5, "narration.flac", 2, int(query["expires"]), query["signature"], now=1000.0
    )
    with pytest.raises(LinkError):
        signer.verify(
            5, "secret.txt", 2, int(query["expires"]), query["signature"], now=1000.0
        )


@pytest.mark.parametrize(
    "mangle",
    [
        lambda q: {k: v for k, v in q.items() if k != "signature"},
        lambda q: {**q, "expires": "soon"},
        lambda q: {**q, "account": "²"},
        lambda q: {**q, "expires": "9" * 5000},
    ],
)
def test_truncated_or_garbled_link_is_403_not_422(world: World, mangle) -> None:  # type: ignore[no-untyped-def]
    parts = urlsplit(_result(world)["audio_url"])
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    response = world.client.get(f"{parts.path}?{urlencode(mangle(query))}")
    assert response.status_code == 403
