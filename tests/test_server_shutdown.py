"""Server shutdown (SIGTERM, Ctrl-C) with wearers connected: each gets the captions of the
sentence it was in before its socket closes, not only the transcript on disk."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from tests.test_server_sessions import (
    SCRIPT,
    four_sentences,
    make_client,
    started_socket,
)

from hudtranslate.audio import float32_to_pcm16le
from hudtranslate.events import SAMPLE_RATE_HZ
from hudtranslate.transcripts.sessions import SessionStore

pytestmark = pytest.mark.timeout(60)


async def test_shutdown_sends_the_last_final_caption_before_closing(tmp_path: Path) -> None:
    client, _ = await make_client(tmp_path)
    try:
        socket, hello = await started_socket(client)
        speech = four_sentences()[: int(2.0 * SAMPLE_RATE_HZ)]  # mid-sentence, no pause yet
        for start in range(0, len(speech), 3200):
            await socket.send_bytes(float32_to_pcm16le(speech[start : start + 3200]))
        # the wearer sees the sentence begin (a first pipeline loads its text repairs: slow)
        partial = json.loads((await socket.receive(timeout=30)).data)
        assert (partial["type"], partial["final"]) == ("transcript", False)
        stopping = asyncio.create_task(client.server.close())  # what serve() does on SIGTERM
        finals: list[dict[str, Any]] = []
        for _ in range(500):
            message = await socket.receive(timeout=15)
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            if data["type"] == "caption" and data["final"]:
                finals.append(data)
        await stopping
        assert socket.close_code == 1001  # going away: the server is stopping
        records = SessionStore(tmp_path / "sessions").records(hello["session_id"])
        assert [r.zh for r in records] == [SCRIPT[0][:7]]
        assert [(f["source"], f["committed"]) for f in finals] == [(r.zh, r.en) for r in records]
        outcomes = {i.session_id: i.outcome for i in SessionStore(tmp_path / "sessions").sessions()}
        assert outcomes[hello["session_id"]] == "server_stopped"
    finally:
        await client.close()
