"""Cuts a stream of audio chunks into utterances of speech, sent on as they are spoken.

The VAD judges fixed 512-sample frames while chunks arrive in any size, so partial frames
are carried over. Audio is released the moment the state machine commits it, so ASR can
start on an utterance long before the speaker pauses; frames not yet judged (the pre-roll
before confirmed speech, the start of a pause) wait in a small buffer.

Speech without pauses is cut by the state machine at its quietest point, which can lie in
audio already sent: the final chunk then says where the utterance really ends (``cut_s``)
and the audio after it is sent again as the start of the next one, so no word is lost or
repeated. The last ``cut_search_s`` of audio is kept for that.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from hudtranslate.config import VadOptions
from hudtranslate.events import SAMPLE_RATE_HZ, AudioArray, AudioChunk, SpeechChunk
from hudtranslate.vad.gain import VadInputGain
from hudtranslate.vad.silero import FRAME_SAMPLES, VadModel
from hudtranslate.vad.state import SpeechStateMachine, UtteranceEnd, UtteranceStart

_EMPTY = np.zeros(0, dtype=np.float32)


class SpeechSegmenter:
    """Feed AudioChunks, get SpeechChunks: pieces of each utterance, then a final one.

    Per utterance (ids 0, 1, 2, ...) it emits zero or more non-final chunks followed by
    exactly one ``final=True`` chunk (its samples may be empty). Chunks of one utterance are
    contiguous; silence, noise and too-short blips produce nothing at all.
    """

    def __init__(
        self, vad: VadModel, options: VadOptions, frame_samples: int = FRAME_SAMPLES
    ) -> None:
        self._vad = vad
        self._frame_samples = frame_samples
        frame_ms = frame_samples * 1000 / SAMPLE_RATE_HZ
        self._machine = SpeechStateMachine(options, frame_ms)
        self._gain = VadInputGain(frame_ms, options.max_input_gain_db)
        self._threshold = options.threshold
        self._next_id = 0
        self.reset()

    def reset(self) -> None:
        """Start a new stream: forget buffered audio, VAD state and the stream clock.

        Utterance ids keep counting, so ids stay unique across streams of one session.
        """
        self._vad.reset()
        self._machine.reset()
        self._gain.reset()
        self._partial = _EMPTY
        self._frames: deque[AudioArray] = deque()
        self._voiced: deque[bool] = deque()  # per frame of _frames: did Silero say speech?
        self._utterance_frames = 0
        self._utterance_voiced = 0
        self._first_frame = 0  # frame index of self._frames[0]
        self._origin_s: float | None = None  # stream time of frame 0
        self._utterance: int | None = None
        self._sent = 0  # next frame of the open utterance not yet sent
        self._run: list[AudioArray] = []
        self._run_start = 0
        self._out: list[SpeechChunk] = []

    def feed(self, chunk: AudioChunk) -> list[SpeechChunk]:
        """Take the next chunk of the stream; return the speech it completes."""
        if self._origin_s is None:
            self._origin_s = chunk.start_s - len(self._partial) / SAMPLE_RATE_HZ
        samples = np.concatenate([self._partial, chunk.samples.astype(np.float32, copy=False)])
        whole = len(samples) // self._frame_samples * self._frame_samples
        for begin in range(0, whole, self._frame_samples):
            frame = np.ascontiguousarray(samples[begin : begin + self._frame_samples])
            self._frames.append(frame)
            level = level_db(frame)
            gain = self._gain.gain(level)
            heard = frame if gain == 1.0 else np.clip(frame * gain, -1.0, 1.0).astype(np.float32)
            probability = self._vad.probability(heard)
            self._voiced.append(probability >= self._threshold)
            self._apply(self._machine.push(probability, level))
            self._forget_old_frames()
        self._partial = samples[whole:].copy()
        return self._take_output()

    def finish(self) -> list[SpeechChunk]:
        """End of stream: close an open utterance (with any unjudged tail of it)."""
        judged = self.frames_judged
        if self._utterance is not None and self._machine.committed_frame == judged:
            self._run_frames_until(judged)
            self._run.append(self._partial)  # speech ran to the very end
        self._apply(self._machine.finish())
        self._partial = _EMPTY
        return self._take_output()

    @property
    def pause_kept_s(self) -> float:
        """How much of the pause that ends an utterance is kept as its end (s): its
        trailing pad, at most the silence that ends it, in whole frames."""
        machine = self._machine
        return (min(machine.pad_frames, machine.min_silence_frames)
                * self._frame_samples / SAMPLE_RATE_HZ)

    @property
    def frames_judged(self) -> int:
        """Frames of this stream the VAD has judged so far."""
        return self._machine.frames_seen

    def _apply(self, events: list[UtteranceStart | UtteranceEnd]) -> None:
        for event in events:
            if isinstance(event, UtteranceStart):
                self._utterance = self._next_id
                self._next_id += 1
                self._sent = event.frame
                self._run_start = event.frame
                self._utterance_frames = self._utterance_voiced = 0
                for frame in range(event.frame, event.frame + event.onset_frames):
                    self._voiced[frame - self._first_frame] = True  # heard by its level
            else:
                cut = event.frame if event.frame < self._sent else None
                self._run_frames_until(event.frame)
                self._close_run(final=True, cut=cut, continues=event.speech_continues,
                                unsure=event.unsure_speaker, pause=event.pause_frame)
                self._utterance = None
        committed = self._machine.committed_frame
        if committed is not None:
            self._run_frames_until(committed)

    def _run_frames_until(self, frame: int) -> None:
        """Move the open utterance's frames up to ``frame`` into the outgoing run."""
        if not self._run:
            self._run_start = self._sent
        for index in range(self._sent, frame):
            self._run.append(self._frames[index - self._first_frame])
            self._utterance_frames += 1
            self._utterance_voiced += self._voiced[index - self._first_frame]
        self._sent = max(self._sent, frame)

    def _close_run(self, *, final: bool, cut: int | None = None,
                   continues: bool = False, unsure: bool = False,
                   pause: int | None = None) -> None:
        if self._utterance is None or (not final and not self._run):
            return
        if not final:  # in a pause, what the end would say: a final may be decoded ahead
            pause = self._machine.pause_frame
            unsure = pause is not None and self._machine.unsure_of_speaker
        samples = np.concatenate(self._run) if self._run else _EMPTY.copy()
        start = self._run_start if self._run else self._sent
        self._out.append(
            SpeechChunk(
                utterance_id=self._utterance,
                samples=np.ascontiguousarray(samples, dtype=np.float32),
                start_s=self._time_of(start),
                final=final,
                cut_s=None if cut is None else self._time_of(cut),
                speech_continues=continues,
                speech_share=self._utterance_voiced / max(1, self._utterance_frames),
                unsure_speaker=unsure,
                pause_start_s=None if pause is None else self._time_of(pause),
            )
        )
        self._run = []

    def _take_output(self) -> list[SpeechChunk]:
        self._close_run(final=False)
        out, self._out = self._out, []
        return out

    def _forget_old_frames(self) -> None:
        keep = self._machine.keep_from
        if self._utterance is not None:
            keep = min(keep, self._sent)
        while self._frames and self._first_frame < keep:
            self._frames.popleft()
            self._voiced.popleft()
            self._first_frame += 1

    def _time_of(self, frame: int) -> float:
        origin = 0.0 if self._origin_s is None else self._origin_s
        return origin + frame * self._frame_samples / SAMPLE_RATE_HZ


def level_db(frame: AudioArray) -> float:
    """RMS level of a frame in dBFS without its DC offset (−120 for digital silence): a
    constant offset is not sound, and must not hide the pauses."""
    centred = frame.astype(np.float64) - float(np.mean(frame, dtype=np.float64))
    power = float(np.mean(np.square(centred)))
    return 10.0 * math.log10(max(power, 1e-12))
