"""JSON files with one entry per line, written by the C encoder."""

import json

import pytest

from talecast.pipeline import jsontext

CASES = [
    [{"start": 0.25, "end": 1.5, "text": "«Qui?» dit-elle.", "speaker": "Ann"}],
    {"method": "x", "segments": [{"words": [{"w": "a"}]}, {"words": []}]},
    [],
    {},
    "only text",
    [[1, [2, [3]]], {"deep": {"deeper": {"deepest": []}}}],
]


@pytest.mark.parametrize("payload", CASES)
def test_what_is_written_reads_back_the_same(payload):
    assert json.loads(jsontext.dumps(payload)) == payload


def test_each_entry_of_a_transcript_is_one_line():
    items = [{"start": n, "text": f"Line {n}."} for n in range(3)]
    lines = jsontext.dumps(items).splitlines()
    assert lines[0] == "[" and lines[-1] == "]"
    assert [json.loads(line.strip().rstrip(",")) for line in lines[1:-1]] == items
