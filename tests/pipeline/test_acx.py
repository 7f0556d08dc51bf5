"""The ACX package beyond the chapters: credits in the narrator's voice, a sample."""

import json

from rundir_factory import SAMPLE_RATE_HZ, Line, ffprobe, make_run

from talecast.pipeline.acx import credit_texts, sample_span
from talecast.pipeline.export import export_run
from talecast.pipeline.rundir import Run, RunChapter
from talecast.pipeline.timedtext import TimedItem


def _duration_s(path) -> float:
    return float(
        ffprobe(path, "-show_entries", "format=duration")["format"]["duration"]
    )


def _run(chapter_lines: list[int], line_s: float = 3.0) -> Run:
    """A run of chapters with a heading then ``n`` lines of ``line_s`` seconds each."""
    rate, items, chapters, position = SAMPLE_RATE_HZ, [], [], 0
    for index, count in enumerate(chapter_lines):
        start = position
        title = f"Chapter {index + 1}"
        for n in range(count + 1):
            end = position + int(line_s * rate)
            items.append(
                TimedItem(
                    position, end, title if n == 0 else f"line {n}", "Narrator", index
                )
            )
            position = end + rate // 2
        chapters.append(RunChapter(title, start, position))
    return Run(None, rate, position, items, chapters)  # type: ignore[arg-type]


def test_sample_skips_a_short_chapter_and_the_heading_and_ends_near_three_minutes():
    run = _run([5, 200])
    start, end = sample_span(run)
    heading = next(i for i in run.items if i.text == "Chapter 2")
    after_heading = run.items[run.items.index(heading) + 1]
    assert start == after_heading.start_sample
    length_s = (end - start) / SAMPLE_RATE_HZ
    assert 170 <= length_s <= 190
    assert end in {i.end_sample for i in run.items}  # cut at a line's end


def test_sample_of_a_book_shorter_than_a_minute_is_the_whole_book():
    run = _run([3, 2])
    assert sample_span(run) == (0, run.total_samples)


def test_credits_name_title_author_and_the_synthetic_narrator():
    opening, closing = credit_texts(
        {"title": "The Gate", "author": "A. Writer", "narrator": "Kal"}
    )
    for text in (opening, closing):
        assert "The Gate" in text and "A. Writer" in text and "Kal" in text
        assert "synthetic" in text
    assert closing.endswith("The end.")
    assert "written by" not in credit_texts({"title": "Anon"})[0]


def test_acx_export_writes_credits_spoken_and_a_sample(tmp_path):
    chapters = [
        ("The Gate", [Line("Narrator", f"Sentence {n}.", 3.0) for n in range(30)]),
        ("The Road", [Line("Alice", "We should have left at dawn.", 1.8)]),
    ]
    run = make_run(tmp_path / "run", chapters=chapters, level=0.05)
    outputs = export_run(run, ["mp3"], master="acx")
    sample = outputs["acx/Retail Sample.mp3"]
    assert 60 <= _duration_s(sample) <= 300
    for name in ("acx/00 Opening Credits.mp3", "acx/99 Closing Credits.mp3"):
        assert _duration_s(outputs[name]) > 2.0, name  # speech, not silence
    report = json.loads(outputs["report.json"].read_text())
    assert all(c["profiles"]["acx"]["result"] == "PASS" for c in report["chapters"])
