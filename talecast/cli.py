"""The ``talecast`` command: a thin layer over the pipeline and the service.

Every failure prints one line, ``Error: ...``, and exits non-zero; ``--debug`` shows the
traceback instead.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from talecast.config import SERVICE_LOG_FORMAT
from talecast.errors import TalecastError
from talecast.progress import ProgressBar

logger = logging.getLogger("talecast")


def default_data_dir() -> Path:
    """``TALECAST_DATA_DIR``, or the user's data directory (as the service uses)."""
    from talecast.config import default_data_dir as user_data_dir

    configured = os.environ.get("TALECAST_DATA_DIR")
    return Path(configured).expanduser() if configured else user_data_dir()


def _cmd_convert(args: argparse.Namespace) -> int:
    from talecast.pipeline.reading import read_story_file
    from talecast.pipeline.render import RenderOptions, render_story

    if args.export or args.master:  # refuse a bad request before the long render
        from talecast.pipeline.export import check_formats, check_master

        check_formats(_split_list(args.export))
        check_master(args.master)
    corrections = _load_corrections(args.corrections)
    document = read_story_file(args.story)
    replacements = _load_dictionaries(args.dictionary)
    out_dir = Path(args.output)
    options = RenderOptions(
        narrator_voice_id=args.narrator,
        profile=args.profile,
        replacements=replacements,
        threads=args.threads,
        corrections=corrections,
        keep_voices=_kept_voices(args, out_dir, corrections is not None),
        drop_tags=args.drop_tags,
    )
    cache_dir = Path(args.cache_dir) if args.cache_dir else default_data_dir() / "cache"
    with ProgressBar("rendering", enabled=not args.quiet) as bar:
        result = render_story(
            document, out_dir, options, cache_dir=cache_dir, progress=bar.update
        )
    if args.export or args.master:
        _export(out_dir, args.export, args.master, args.quiet)
    speakers = len(result.cast) - 1
    print(
        f"{out_dir}: {result.duration_s:.1f} s of audio, {len(result.transcript)} "
        f"transcript items, {speakers} character voice(s) plus the narrator"
    )
    return 0


def _export(
    out_dir: Path, formats: str | None, master: str | None, quiet: bool
) -> None:
    from talecast.pipeline.export import export_run

    with ProgressBar("exporting", enabled=not quiet) as bar:
        written = export_run(
            out_dir, _split_list(formats), master=master, progress=bar.update
        )
    for name, path in written.items():
        logger.info("export: %s written to %s", name, path)


def _load_corrections(path: str | None) -> dict[str, object] | None:
    """The corrections file's JSON, checked (offsets are checked against the story)."""
    if not path:
        return None
    from talecast.errors import CorrectionError
    from talecast.pipeline.corrections import parse_corrections

    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CorrectionError(f"cannot read corrections file {path}: {exc}") from exc
    return parse_corrections(raw).to_dict()


def _kept_voices(
    args: argparse.Namespace, out_dir: Path, correcting: bool
) -> dict[str, int] | None:
    """Voices to keep: those of ``--cast FILE`` (an earlier book of a series), or when
    correcting, those of the render already in ``out_dir`` so nobody else is recast.
    The narrator's only when ``--narrator`` does not choose one."""
    if args.cast:
        voices = _cast_voices(Path(args.cast), required=True)
    elif correcting:
        voices = _cast_voices(out_dir / "cast.json", required=False)
    else:
        return None
    if voices and args.narrator is not None:
        voices.pop("Narrator", None)
    return voices


def _cast_voices(path: Path, required: bool) -> dict[str, int] | None:
    """speaker -> voice id from a ``cast.json``; VoiceError for an unusable one."""
    from talecast.errors import VoiceError
    from talecast.pipeline.voices import get_voice

    try:
        cast = json.loads(path.read_text(encoding="utf-8"))
        voices = {str(name): int(entry["voice_id"]) for name, entry in cast.items()}
    except (
        OSError,
        UnicodeDecodeError,
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
    ) as exc:
        if not required:
            return None
        raise VoiceError(
            f"cannot read cast file {path}: {exc}; give the cast.json of a render"
        ) from exc
    for voice_id in voices.values():
        get_voice(voice_id)
    return voices


def _split_list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _load_dictionaries(paths: Sequence[str] | None) -> dict[str, str] | None:
    if not paths:
        return None
    from talecast.pipeline.lexicon import load_dictionary

    merged: dict[str, str] = {}
    for path in paths:
        merged.update(load_dictionary(Path(path).read_bytes(), path).replacements())
    return merged


def _cmd_qa(args: argparse.Namespace) -> int:
    from talecast.pipeline.qa import check_run

    with ProgressBar("listening", enabled=not args.quiet) as bar:
        report = check_run(
            Path(args.run_dir),
            only_dialogue=args.dialogue_only,
            every=args.every,
            progress=bar.update,
        )
    print(
        f"{args.run_dir}: {report['lines_checked']} lines heard, word error rate "
        f"{100 * report['word_error_rate']:.1f} %, {report['flagged_count']} flagged "
        f"(see {Path(args.run_dir) / 'qa.json'})"
    )
    for item in report["flagged"][:5]:
        print(
            f"  {item['start']:8.2f} s  {item['speaker']}: {item['text']!r} "
            f"heard {item['heard']!r}"
        )
    return 0


def _cmd_names(args: argparse.Namespace) -> int:
    from talecast.pipeline.pronunciation import pronunciation_sheet, sheet_json
    from talecast.pipeline.reading import read_story_file

    document = read_story_file(args.story)
    entries = pronunciation_sheet(document.text)
    if args.output:
        Path(args.output).write_text(
            json.dumps(sheet_json(entries), ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
    if args.preview:
        _preview_words(entries, Path(args.preview), args.narrator, args.quiet)
    for entry in entries:
        print(f"{entry.count:6d}  {entry.kind:<9} {entry.word}")
    return 0


def _preview_words(
    entries: list, folder: Path, voice_id: int | None, quiet: bool
) -> None:
    """One short FLAC per word, spoken the way a render would say it."""
    from talecast.pipeline.cache import LineCache
    from talecast.pipeline.preview import flac_bytes, spoken
    from talecast.pipeline.stems import safe_file_name
    from talecast.pipeline.synthesis import OUTPUT_RATE_HZ
    from talecast.pipeline.voices import default_narrator, get_voice

    voice = get_voice(voice_id) if voice_id else default_narrator("neural")
    cache = LineCache(default_data_dir() / "cache", OUTPUT_RATE_HZ)
    folder.mkdir(parents=True, exist_ok=True)
    with ProgressBar("previews", enabled=not quiet) as bar:
        for n, entry in enumerate(entries, start=1):
            samples = spoken(voice, entry.word, cache)
            if samples.size:  # a word the engine says nothing for gets no file
                name = f"{n:03d} {safe_file_name(entry.word)}.flac"
                (folder / name).write_bytes(flac_bytes(samples))
            bar.update(n / len(entries), entry.word)


def _preview_voices(voices: list, folder: Path, text: str | None, quiet: bool) -> None:
    """One FLAC per voice, ``<id> <name>.flac``, saying ``text`` or a sample."""
    from talecast.pipeline.cache import LineCache
    from talecast.pipeline.preview import flac_bytes, voice_preview
    from talecast.pipeline.stems import safe_file_name
    from talecast.pipeline.synthesis import OUTPUT_RATE_HZ

    cache = LineCache(default_data_dir() / "cache", OUTPUT_RATE_HZ)
    folder.mkdir(parents=True, exist_ok=True)
    with ProgressBar("previews", enabled=not quiet) as bar:
        for n, voice in enumerate(voices, start=1):
            samples = voice_preview(voice.id, cache, text)
            name = f"{voice.id:03d} {safe_file_name(voice.name)}.flac"
            (folder / name).write_bytes(flac_bytes(samples))
            bar.update(n / len(voices), voice.name)


def _cmd_voices(args: argparse.Namespace) -> int:
    from talecast.pipeline.voices import list_voices

    voices = list_voices(available_only=not args.all)
    if args.preview:
        _preview_voices(
            [v for v in voices if not args.profile or args.profile in v.profiles],
            Path(args.preview),
            args.text,
            args.quiet,
        )
    if args.json:
        for v in voices:
            print(
                json.dumps(
                    {
                        "id": v.id,
                        "name": v.name,
                        "gender": v.gender,
                        "age": v.age,
                        "language": v.language,
                        "engine": v.engine,
                        "licence": v.licence,
                        "profiles": sorted(v.profiles),
                    }
                )
            )
        return 0
    print(
        f"{'id':>5}  {'name':<22} {'gender':<7} {'age':>4}  {'lang':<6} "
        f"{'engine':<8} {'profiles':<13} licence"
    )
    for v in voices:
        print(
            f"{v.id:>5}  {v.name:<22} {v.gender:<7} {v.age or '':>4}  {v.language:<6} "
            f"{v.engine:<8} {','.join(sorted(v.profiles)):<13} {v.licence}"
        )
    return 0


def _cmd_attribute(args: argparse.Namespace) -> int:
    from talecast.pipeline.attribution import attribute
    from talecast.pipeline.reading import read_story_file

    document = read_story_file(args.story)
    result = attribute(document.text)
    if args.jsonl:
        for utt in result.utterances:
            print(
                json.dumps(
                    {
                        "start_char": utt.quote.start_char,
                        "end_char": utt.quote.end_char,
                        "text": utt.quote.text,
                        "speaker": utt.speaker,
                        "confidence": round(utt.confidence, 3),
                    },
                    ensure_ascii=False,
                )
            )
        return 0
    for utt in result.utterances:
        print(f"{utt.confidence:4.2f}  {utt.speaker:<20} {utt.quote.text[:70]!r}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from talecast.api.server import serve

    serve(host=args.host, port=args.port)
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    from talecast.jobs.celery_app import run_worker

    run_worker(concurrency=args.concurrency)
    return 0


def _cmd_keys(args: argparse.Namespace) -> int:
    from talecast.api import keys

    if args.keys_command == "create":
        key = keys.create_key(args.name)
        print(f"API key for {args.name!r} (shown once, store it now):")
        print(key)
    elif args.keys_command == "list":
        print(
            f"{'id':>4}  {'prefix':<12} {'account':>7}  {'created (UTC)':<19}  "
            "status   name"
        )
        for row in keys.list_keys():
            created = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(row.created_at))
            status = "revoked" if row.revoked_at else "active"
            print(
                f"{row.id:>4}  {row.prefix:<12} {row.account_id:>7}  {created:<19}  "
                f"{status:<8} {row.name}"
            )
    else:
        keys.revoke_key(args.key)
        print(f"revoked {args.key}")
    return 0


def _cmd_dictionaries(args: argparse.Namespace) -> int:
    from talecast import dictionaries
    from talecast.config import get_settings
    from talecast.db import make_engine, migrate

    engine = make_engine(get_settings().db_url)
    migrate(engine)
    try:
        account = dictionaries.account_for_api_key(engine, args.api_key)
        if args.dictionaries_command == "create":
            path = Path(args.file)
            record = dictionaries.create_dictionary(
                engine,
                account,
                path.read_bytes(),
                path.name,
                args.name,
                args.description,
            )
            print(
                f"dictionary {record.name!r} created with {len(record.terms)} "
                "term(s); its id:"
            )
            print(record.id)
        else:
            for record in dictionaries.list_dictionaries(engine, account):
                print(f"{record.id:>6}  {len(record.terms):>6} terms  {record.name}")
    finally:
        engine.dispose()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="talecast", description="Talecast: story files to multi-voice audio."
    )
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks and debug logs"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    conv = sub.add_parser("convert", help="render a story file to audio")
    conv.add_argument("story")
    conv.add_argument("-o", "--output", required=True, help="output directory")
    conv.add_argument(
        "--narrator", type=int, help="narrator voice id (see `talecast voices`)"
    )
    conv.add_argument("--profile", choices=["neural", "fast"], default="neural")
    conv.add_argument(
        "--threads",
        type=int,
        default=max(1, min(2, os.cpu_count() or 1)),
        help="lines spoken at once, one engine thread each (default: cores, at most 2)",
    )
    conv.add_argument("--cache-dir", help="line cache (default: DATA_DIR/cache)")
    conv.add_argument(
        "--export", help="comma list: mp3,m4b,opus,vtt,srt,words,stems,qa,epub"
    )
    conv.add_argument("--master", choices=["acx", "podcast", "r128"])
    conv.add_argument(
        "--dictionary",
        action="append",
        help="pronunciation dictionary (JSON term list or PLS); repeatable",
    )
    conv.add_argument(
        "--corrections",
        help="speaker and voice corrections (JSON: speakers by the start_char of "
        "script.json, voices by name); the voices of a render already in the output "
        "directory are kept",
    )
    conv.add_argument(
        "--cast",
        help="cast.json of an earlier render (a series' earlier book): characters of "
        "the same name keep their voices",
    )
    conv.add_argument(
        "--drop-tags",
        action="store_true",
        help="full-cast mode: leave out narration that only says who speaks "
        "('said Tom.'); dropped_tags.json lists what was left out",
    )
    conv.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    conv.set_defaults(func=_cmd_convert)

    names = sub.add_parser(
        "names",
        help="the words a story's speech must guess (names, invented words) and its "
        "heteronyms, most frequent first",
    )
    names.add_argument("story")
    names.add_argument(
        "-o",
        "--output",
        help="write pronunciations.json: the sheet and a dictionary "
        "template to edit and pass to --dictionary",
    )
    names.add_argument("--preview", help="folder for one spoken FLAC per word")
    names.add_argument("--narrator", type=int, help="voice id of the previews")
    names.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    names.set_defaults(func=_cmd_names)

    qa = sub.add_parser(
        "qa", help="listen to a rendered run with offline speech recognition"
    )
    qa.add_argument("run_dir", help="a folder `talecast convert` wrote")
    qa.add_argument("--dialogue-only", action="store_true", help="only the characters")
    qa.add_argument("--every", type=int, default=1, help="every N-th line only")
    qa.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    qa.set_defaults(func=_cmd_qa)

    voices = sub.add_parser("voices", help="list the voice catalogue")
    voices.add_argument("--json", action="store_true")
    voices.add_argument("--all", action="store_true", help="include unavailable voices")
    voices.add_argument("--preview", help="folder for one spoken FLAC per voice")
    voices.add_argument("--text", help="what the previews say (default: a sample)")
    voices.add_argument(
        "--profile", choices=["neural", "fast"], help="only this profile's voices"
    )
    voices.add_argument("--quiet", action="store_true", help="no progress bar")
    voices.set_defaults(func=_cmd_voices)

    attr = sub.add_parser("attribute", help="print each quote with its speaker")
    attr.add_argument("story")
    attr.add_argument("--jsonl", action="store_true")
    attr.set_defaults(func=_cmd_attribute)

    serve = sub.add_parser("serve", help="run the Stories API and its workers")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=_cmd_serve)

    worker = sub.add_parser(
        "worker", help="run a Celery worker (TALECAST_QUEUE=celery)"
    )
    worker.add_argument("--concurrency", type=int, default=1)
    worker.set_defaults(func=_cmd_worker)

    keys = sub.add_parser("keys", help="manage API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create")
    create.add_argument("--name", required=True)
    keys_sub.add_parser("list")
    revoke = keys_sub.add_parser("revoke")
    revoke.add_argument("key", help="key id or prefix, as `keys list` shows")
    keys.set_defaults(func=_cmd_keys)

    dicts = sub.add_parser("dictionaries", help="manage pronunciation dictionaries")
    dicts_sub = dicts.add_subparsers(dest="dictionaries_command", required=True)
    dict_create = dicts_sub.add_parser(
        "create", help="store a JSON term list or PLS file; prints the new id last"
    )
    dict_create.add_argument("file")
    dict_create.add_argument("--api-key", required=True, help="the account's API key")
    dict_create.add_argument("--name", help="default: the file's own name or stem")
    dict_create.add_argument("--description")
    dict_list = dicts_sub.add_parser("list", help="the account's dictionaries")
    dict_list.add_argument("--api-key", required=True, help="the account's API key")
    dicts.set_defaults(func=_cmd_dictionaries)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``talecast`` command."""
    args = build_parser().parse_args(argv)
    service = args.command in ("serve", "worker")
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format=SERVICE_LOG_FORMAT if service else "%(levelname)s %(name)s: %(message)s",
    )
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        return 130
    except (TalecastError, OSError, ValueError) as exc:
        if args.debug:
            raise
        print(f"Error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - the CLI promises one line, never a traceback
        if args.debug:
            raise
        print(
            f"Error: unexpected {type(exc).__name__}: {_one_line(exc)} "
            "(run with --debug for details)",
            file=sys.stderr,
        )
        return 2


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename:
        text = f"{exc.strerror or text}: {exc.filename}"
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(main())
