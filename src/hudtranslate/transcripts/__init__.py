"""Session transcripts: a crash-safe JSONL store, the server's session archive, and
SRT/WebVTT/JSONL exports."""

from hudtranslate.transcripts.export import (
    Cue,
    Sentence,
    TranscriptRecord,
    as_records,
    build_cues,
    format_timestamp,
    to_jsonl,
    to_srt,
    to_vtt,
)
from hudtranslate.transcripts.sessions import (
    SessionInfo,
    SessionRecorder,
    SessionStore,
    default_data_dir,
)
from hudtranslate.transcripts.store import (
    TranscriptWriter,
    read_transcript,
    write_exports,
    write_text_atomic,
)

__all__ = [
    "Cue",
    "Sentence",
    "SessionInfo",
    "SessionRecorder",
    "SessionStore",
    "TranscriptRecord",
    "TranscriptWriter",
    "as_records",
    "build_cues",
    "default_data_dir",
    "format_timestamp",
    "read_transcript",
    "to_jsonl",
    "to_srt",
    "to_vtt",
    "write_exports",
    "write_text_atomic",
]
