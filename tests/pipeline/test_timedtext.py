"""Timed text: WebVTT and SRT read back by independent parsers; word time estimates."""

from __future__ import annotations

import io
import json

import srt
import webvtt
from rundir_factory import SAMPLE_RATE_HZ, make_run

from talecast.pipeline.export import export_run
from talecast.pipeline.timedtext import (
    MAX_CUE_CHARS,
    WORD_TIMING_METHOD,
    TimedItem,
    estimate_word_timings,
    format_srt,
    format_webvtt,
    word_timings_document,
)

RATE = SAMPLE_RATE_HZ


def seconds(clock: str) -> float:
    hours, minutes, rest = clock.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


def test_vtt_parses_and_voice_spans_name_the_transcripts_speakers(tmp_path):
    run = make_run(tmp_path / "run")
    outputs = export_run(run, ["vtt"])
    transcript = json.loads((run / "transcript.json").read_text())
    captions = webvtt.from_string(outputs["transcript.vtt"].read_text())

    assert [c.voice for c in captions] == [t["speaker"] for t in transcript]
    assert [c.text for c in captions] == [t["text"] for t in transcript]
    for caption, item in zip(captions, transcript, strict=True):
        assert abs(seconds(caption.start) - item["start"]) < 0.011
        assert abs(seconds(caption.end) - item["end"]) < 0.011


def test_vtt_escapes_markup_in_text_and_speaker_names():
    items = [TimedItem(0, RATE, "a < b & c > d --> e", 'Dr. "Who"/Eve')]
    text = format_webvtt(items, RATE, ["Chapter --> One"])
    caption = webvtt.from_string(text)[0]

    assert '<v Dr. "Who"/Eve>a &lt; b &amp; c &gt; d --&gt; e' in text
    assert "NOTE Chapter 1: Chapter -> One" in text
    assert caption.voice == 'Dr. "Who"/Eve'
    assert caption.start == "00:00:00.000" and caption.end == "00:00:01.000"


def test_srt_parses_with_speaker_prefix_and_comma_milliseconds(tmp_path):
    run = make_run(tmp_path / "run")
    outputs = export_run(run, ["srt"])
    transcript = json.loads((run / "transcript.json").read_text())
    text = outputs["transcript.srt"].read_text()
    subtitles = list(srt.parse(text))

    assert [s.index for s in subtitles] == list(range(1, len(transcript) + 1))
    assert [s.content for s in subtitles] == [
        f"{t['speaker']}: {t['text']}" for t in transcript
    ]
    assert "00:00:00,250 --> 00:00:03,250" in text
    assert abs(subtitles[-1].end.total_seconds() - transcript[-1]["end"]) < 0.011


def test_words_json_states_its_method_and_words_stay_inside_their_segment(tmp_path):
    run = make_run(tmp_path / "run")
    outputs = export_run(run, ["words"])
    document = json.loads(outputs["words.json"].read_text())
    transcript = json.loads((run / "transcript.json").read_text())

    assert document["method"] == WORD_TIMING_METHOD == "estimated-from-segment-length"
    assert len(document["segments"]) == len(transcript)
    for segment, item in zip(document["segments"], transcript, strict=True):
        words = segment["words"]
        assert [w["word"] for w in words] == item["text"].split()
        assert segment["speaker"] == item["speaker"]
        assert words[0]["start"] == segment["start"]
        assert words[-1]["end"] == segment["end"]
        times = [t for w in words for t in (w["start"], w["end"])]
        assert times == sorted(times)


def test_word_estimates_give_longer_words_more_time_and_pause_at_commas():
    item = TimedItem(0, 3 * RATE, "I, unquestionably, ran.", "Narrator")
    short, long_word, last = estimate_word_timings(item)

    assert long_word.end_sample - long_word.start_sample > 3 * (
        short.end_sample - short.start_sample
    )
    assert long_word.start_sample > short.end_sample  # a pause after "I,"
    assert last.end_sample == 3 * RATE


def test_long_segment_is_split_into_short_cues_inside_its_time_span():
    sentence = "The river ran on under the bridge, past the mill and the church. "
    item = TimedItem(RATE, 31 * RATE, (sentence * 6).strip(), "Narrator")
    captions = webvtt.from_buffer(io.StringIO(format_webvtt([item], RATE)))

    assert len(captions) > 1
    assert all(len(c.text) <= MAX_CUE_CHARS for c in captions)
    assert " ".join(c.text for c in captions) == item.text
    assert seconds(captions[0].start) == 1.0 and seconds(captions[-1].end) == 31.0
    for before, after in zip(captions, captions[1:], strict=False):
        assert before.end == after.start
    # Cues break after punctuation, not in the middle of a clause.
    assert all(c.text.endswith((",", ".")) for c in captions[:-1])


def test_srt_and_vtt_times_come_from_samples_without_drift():
    # 10 hours in: rounding seconds would have drifted; samples give exact milliseconds.
    start = 10 * 3600 * RATE + 12
    items = [TimedItem(start, start + RATE // 2, "Late.", "Bob")]

    assert "10:00:00.001 --> 10:00:00.501" in format_webvtt(items, RATE)
    assert "10:00:00,001 --> 10:00:00,501" in format_srt(items, RATE)


def test_word_document_handles_empty_text_and_non_latin_words():
    items = [
        TimedItem(0, RATE, "", "Narrator"),
        TimedItem(RATE, 2 * RATE, "東京 に", "Al"),
    ]
    document = word_timings_document(items, RATE)

    assert document["segments"][0]["words"] == []
    assert [w["word"] for w in document["segments"][1]["words"]] == ["東京", "に"]
