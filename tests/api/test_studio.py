"""The Studio page in a real browser (Debian's chromium driven by Playwright)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import httpx
import pytest
from liveserver import STORY, LiveServer

playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        pytest.fail("chromium is not installed (scripts/setup.sh installs it)")
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        yield launched
        launched.close()


def test_studio_sets_up_corrects_and_renders_a_story(browser, tmp_path):
    server = LiveServer(tmp_path).start()
    try:
        key = server.create_key("studio")
        page = browser.new_page()  # type: ignore[attr-defined]
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.url + "/studio")

        page.fill("#key", "not-a-key")
        page.click("#use-key")
        expect(page.locator("#key-status")).to_contain_text("401")

        page.fill("#key", key)
        page.click("#use-key")
        expect(page.locator("#key-status")).to_have_text("0 run(s)")

        page.set_input_files(
            "#file",
            files=[
                {
                    "name": "story.txt",
                    "mimeType": "text/plain",
                    "buffer": (
                        "CHAPTER I. The Lamp\n\n"
                        + STORY
                        + "Far away, Quenthra slept.\n"
                    ).encode(),
                }
            ],
        )
        page.fill("#title", "The lamp")
        page.click("#setup-button")
        page.wait_for_selector("#script tbody tr.dialogue")
        assert "set up, not rendered" in page.inner_text("#run-status")
        speakers = page.locator("#script input.speaker")
        assert speakers.count() >= 3
        # A chapter heading is the narrator's: its speaker cannot be retyped.
        heading = page.locator('input[aria-label="speaker of: CHAPTER I. The Lamp"]')
        assert heading.input_value() == "Narrator" and heading.is_disabled()
        who = page.locator('input[aria-label="speaker of: Who is there?"]')
        assert who.input_value() == "Mary"
        who.fill("The Stranger")
        who.dispatch_event("change")
        assert page.inner_text("#pending") == "1 change(s)"
        # A voice for Tom from the catalogue, by name in the cast table.
        voices = httpx.get(
            f"{server.url}/apis/list-voices", headers={"x-api-key": key}
        ).json()
        tom = page.locator('select[aria-label="voice of Tom"]')
        current_voice = int(tom.input_value())
        chosen = next(v["id"] for v in voices if v["id"] != current_voice)
        tom.select_option(str(chosen))
        assert page.inner_text("#pending") == "2 change(s)"
        # The chosen voice can be heard before rendering.
        page.click('button[aria-label="hear the voice of Tom"]')
        for _ in range(100):
            if page.eval_on_selector("#preview", "p => p.currentTime") > 0:
                break
            page.wait_for_timeout(300)
        assert page.eval_on_selector("#preview", "p => p.currentTime") > 0
        # The words the engines guess are listed; "Quenthra" said another way.
        say = page.locator('input[aria-label="say Quenthra as"]')
        say.fill("Ken thra")
        say.dispatch_event("change")
        assert page.inner_text("#pending") == "3 change(s)"
        # A line of narration given to a character is spoken by them.
        far = page.locator('input[aria-label="speaker of: Far away, Quenthra slept."]')
        assert far.input_value() == "Narrator"
        far.fill("Tom")
        far.dispatch_event("change")
        assert page.inner_text("#pending") == "4 change(s)"

        page.click("#apply")
        expect(page.locator("#run-status")).to_have_text(
            re.compile(r"^rendered as run \d+$"), timeout=90_000
        )
        run_id = int(page.inner_text("#run-status").rsplit(" ", 1)[1])
        # The page shows the rendered script with times and the narration to listen to.
        assert page.locator("#script td.time").first.inner_text() != ""
        src = page.get_attribute("#player", "src") or ""
        assert "/narration.flac" in src and httpx.get(src).status_code == 200
        assert (
            page.locator('input[aria-label="speaker of: Who is there?"]').input_value()
            == "The Stranger"
        )
        # Listening to a line plays the narration from that line's start.
        page.locator("#script td.time").nth(1).click()
        page.wait_for_timeout(1500)
        assert page.eval_on_selector("#player", "p => p.currentTime") > 0

        result = httpx.get(
            f"{server.url}/apis/story-result/{run_id}",
            params={"include_transcript": "true"},
            headers={"x-api-key": key},
        ).json()
        speaker = {i["text"]: i["speaker"] for i in result["transcript"]}
        assert speaker["Who is there?"] == "The Stranger"
        assert speaker["Far away, Quenthra slept."] == "Tom"
        files = httpx.get(
            f"{server.url}/apis/story-result/{run_id}/files", headers={"x-api-key": key}
        ).json()["files"]
        cast_url = next(f["url"] for f in files if f["name"] == "cast.json")
        assert httpx.get(cast_url).json()["Tom"]["voice_id"] == chosen
        shown_fixes = httpx.get(
            f"{server.url}/apis/story-result/{run_id}/corrections",
            headers={"x-api-key": key},
        ).json()
        assert shown_fixes["pronunciations"] == {"Quenthra": "Ken thra"}
        shown = page.locator('select[aria-label="voice of Tom"]').input_value()
        assert int(shown) == chosen
        assert page.locator("#runs-table tbody tr").count() == 1
        assert "The lamp" in page.inner_text("#runs-table")
        assert errors == []
    finally:
        server.stop()
