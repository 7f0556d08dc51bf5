"""Request and response models of the Stories API.

The bulk-results models reproduce the published Camb.ai schema field for field (titles,
descriptions, limits), so ``/openapi.json`` shows the same components.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator

RUN_IDS_DESCRIPTION = (
    "An array of unique positive integers, each representing the ID of a specific run. "
    "You must provide between 2 and 5 IDs, and all IDs must correspond to the same run "
    "type (e.g., all text-to-speech or all dubbing runs)."
)
BULK_DESCRIPTION = (
    "An object containing the results of one to five story runs. Each key in the "
    "object is a unique identifier for a run, and the corresponding value is stories "
    "run output."
)
DIALOGUE_DESCRIPTION = (
    "A JSON that represents a single piece of dialogue or speech within a given time "
    "range. It includes details about the timing (start and end), the content of the "
    "dialogue (text), and the speaker who delivers the dialogue"
)
_TRANSCRIPT_EXAMPLE = [
    (0.4, 14.97, "Olympus Mons is the largest volcano in the solar system."),
    (15.37, 27.27, "Its average slope is only about 5%."),
    (27.67, 38.24, "It may have once been an island surrounded by oceans."),
    (38.64, 49.59, "Future eruptions could still occur due to mantle activity."),
]
BULK_EXAMPLE: dict[str, Any] = {
    "1234": {
        "dialogue_url": "https://example.com/run/1234/dialogue.flac",
        "audio_url": "https://example.com/run/1234/audio.flac",
        "transcript": [
            {"start": s, "end": e, "text": t, "speaker": "SPEAKER_0"}
            for s, e, t in _TRANSCRIPT_EXAMPLE
        ],
    }
}

PositiveRunId = Annotated[int, Field(gt=0, strict=True)]


def _as_published_payload(schema: dict[str, Any]) -> None:
    schema.pop("description", None)
    schema["properties"]["run_ids"]["items"]["exclusiveMinimum"] = 0


class RunIDsRequestPayload(BaseModel):
    """Body of ``POST /stories-results``."""

    model_config = ConfigDict(
        title="RunIDsRequestPayload", json_schema_extra=_as_published_payload
    )

    run_ids: list[PositiveRunId] = Field(
        min_length=2,
        max_length=5,
        title="Run IDs",
        description=RUN_IDS_DESCRIPTION,
        json_schema_extra={"uniqueItems": True, "example": [12345, 6789]},
    )

    @field_validator("run_ids")
    @classmethod
    def _unique(cls, run_ids: list[int]) -> list[int]:
        seen: set[int] = set()
        for run_id in run_ids:
            if run_id in seen:
                raise ValueError(
                    f"run id {run_id} appears more than once; ids must be unique"
                )
            seen.add(run_id)
        return run_ids


def _drop_generated(schema: dict[str, Any]) -> None:
    # The published StoryRunInfoResponse has properties only: no type, title, required.
    for key in ("type", "title", "required", "description"):
        schema.pop(key, None)


class DialogueItem(BaseModel):
    """One timed line of the transcript."""

    model_config = ConfigDict(
        title="DialogueItem", json_schema_extra={"description": DIALOGUE_DESCRIPTION}
    )

    start: float = Field(
        title="Start Time",
        description="The start time (in seconds) of the dialogue.",
        json_schema_extra={"format": "float"},
    )
    end: float = Field(
        title="End Time",
        description="The end time (in seconds) of the dialogue.",
        json_schema_extra={"format": "float"},
    )
    text: str = Field(
        title="Dialogue Text",
        description="The actual text content of the dialogue spoken by the speaker.",
    )
    speaker: str = Field(
        title="Speaker Name",
        description="The name or identifier of the speaker delivering the dialogue.",
    )


class StoryRunInfoResponse(BaseModel):
    """Links to a finished story's audio, and its transcript when asked for."""

    model_config = ConfigDict(json_schema_extra=_drop_generated)

    audio_url: str = Field(
        title="Story Output Audio URL",
        description="The URL pointing to the generated audio file for the story.",
    )
    dialogue_url: str = Field(
        title="Story Dialogue Audio URL",
        description=(
            "The URL pointing to the audio file that contains the story's dialogue."
        ),
    )
    transcript: list[DialogueItem] = Field(
        title="Story Transcript",
        description=(
            "A collection of dialogue items representing the textual transcript of the "
            "story."
        ),
    )


class BulkStoriesRunsResults(RootModel[dict[str, StoryRunInfoResponse]]):
    """Results of two to five runs, keyed by run id."""

    model_config = ConfigDict(
        title="BulkStoriesRunsResults",
        json_schema_extra={"description": BULK_DESCRIPTION, "example": BULK_EXAMPLE},
    )

    root: dict[str, StoryRunInfoResponse] = Field(min_length=1, max_length=5)


class CreateStoryOut(BaseModel):
    """The id to poll with ``GET /story/{task_id}``."""

    task_id: str


class StoryStatusOut(BaseModel):
    """A task's state; ``run_id`` once it succeeded, reason and message on error."""

    status: str = Field(description="PENDING, SUCCESS, ERROR or TIMEOUT")
    run_id: int | None = None
    exception_reason: str | None = None
    message: str | None = None
    progress: float = Field(0.0, description="0-100")
    stage: str = Field("", description="what the render is doing now")


class VoiceOut(BaseModel):
    """A voice stories can be narrated with."""

    id: int
    voice_name: str
    gender: int = Field(description="0 unspecified, 1 male, 2 female")
    age: int | None
    language: int
    description: str | None
    is_published: bool


class LanguageOut(BaseModel):
    """A language Talecast can narrate."""

    id: int
    language: str
    short_name: str


class SpeakerCorrectionIn(BaseModel):
    """Who speaks the quote at ``start_char`` (``Narrator``: read it as narration)."""

    model_config = ConfigDict(extra="forbid")

    start_char: int = Field(
        ge=0,
        le=2**31 - 1,
        description="where the quote starts in the story text (script.json lists them)",
    )
    speaker: str = Field(min_length=1, max_length=100)


class SpeechCorrectionIn(BaseModel):
    """The narration from ``start_char`` to ``end_char`` is spoken by ``speaker``."""

    model_config = ConfigDict(extra="forbid")

    start_char: int = Field(
        ge=0,
        le=2**31 - 1,
        description="where the spoken stretch starts (a narration line's start_char)",
    )
    end_char: int = Field(
        ge=1,
        le=2**31 - 1,
        description="where it ends (a narration line's end_char), exclusive",
    )
    speaker: str = Field(min_length=1, max_length=100)


class CorrectionsIn(BaseModel):
    """Speaker and voice corrections to a finished run."""

    model_config = ConfigDict(extra="forbid")

    speakers: list[SpeakerCorrectionIn] = Field(
        default_factory=list, max_length=100_000
    )
    speech: list[SpeechCorrectionIn] = Field(
        default_factory=list,
        max_length=100_000,
        description="narration a character speaks (speech the quote finder missed)",
    )
    voices: dict[str, int] = Field(
        default_factory=dict, description="speaker name -> voice id (GET /list-voices)"
    )
    pronunciations: dict[str, str] = Field(
        default_factory=dict, description="word -> what to say instead (whole words)"
    )


class CorrectionsOut(BaseModel):
    """The corrections a run was rendered with, and the run it corrected."""

    run_id: int
    corrects_run_id: int | None = None
    speakers: list[dict[str, Any]] = Field(default_factory=list)
    speech: list[dict[str, Any]] = Field(default_factory=list)
    voices: dict[str, int] = Field(default_factory=dict)
    pronunciations: dict[str, str] = Field(default_factory=dict)


class StoryDetailsOut(BaseModel):
    """What a set-up story is, as the Camb SDK's ``StoryDetails`` reads it."""

    story_title: str
    story_description: str | None = None
    created_at: str = Field(description="ISO 8601, UTC")
    source_language: int
    target_languages: list[int] = Field(default_factory=list)
    folder_id: int | None = None
    studio_url: str = Field(description="where the run's editable files are listed")


class SetupStoryOut(BaseModel):
    """A story set up for editing: its run id, details, cast and number of lines."""

    run_id: int
    story_details: StoryDetailsOut
    cast: dict[str, int] = Field(
        default_factory=dict, description="speaker -> voice id"
    )
    lines: int = 0


class StoryRunOut(BaseModel):
    """One of the caller's runs, as ``GET /story-runs`` lists it."""

    run_id: int
    task_id: str
    title: str | None = None
    status: str = Field(description="PENDING, SUCCESS, ERROR, TIMEOUT or SETUP")
    stage: str = ""
    progress: float = 0.0
    created_at: float = Field(description="Unix seconds")
    corrects_run_id: int | None = None
