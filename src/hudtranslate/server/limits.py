"""Who may connect, and how much one connection may send.

A server on loopback trusts the machine; one reachable from a network needs a bearer
token (``serve`` refuses to bind beyond loopback without one). Every wearer connection
is held to a frame size, an audio rate (a token bucket in seconds of audio, so a client
may catch up after a network stall but not stream faster than speech for long), a frame
rate, an idle timeout and a count of protocol errors; the server holds a maximum number
of sessions. Photos (``POST /look``) are held to a size, and are read one at a time with
at most ``max_waiting_photos`` waiting. Limits protect the two cores every session shares.
"""

from __future__ import annotations

import errno
import hmac
import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from hudtranslate.errors import ConfigError, one_line

MAX_PHOTO_MB_RANGE = (0.001, 500.0)
"""The photo size limits ``serve --max-photo-mb`` accepts, in MB (10**6 bytes)."""


@dataclass(frozen=True)
class SessionLimits:
    """Per-server and per-connection limits for wearer sessions and photos (units in the
    names)."""

    max_sessions: int = 2
    max_frame_bytes: int = 32_000
    max_audio_rate: float = 1.5
    burst_audio_s: float = 10.0
    max_frames_per_s: float = 100.0
    idle_timeout_s: float = 20.0
    max_backlog_s: float = 30.0
    max_errors: int = 16
    finish_timeout_s: float = 60.0
    max_photo_bytes: int = 20_000_000
    max_waiting_photos: int = 2
    drafts_per_minute: float = 6.0
    """Typed drafts a wearer may send per minute on average (three at once): each costs a
    model call of a second or two, and a person types far slower."""

    def __post_init__(self) -> None:
        checks = (("max_sessions", self.max_sessions, 1, 1000),
                  ("max_frame_bytes", self.max_frame_bytes, 320, 1_048_576),
                  ("max_audio_rate", self.max_audio_rate, 1.0, 1000.0),
                  ("burst_audio_s", self.burst_audio_s, 0.5, 3600.0),
                  ("max_frames_per_s", self.max_frames_per_s, 1.0, 10_000.0),
                  ("idle_timeout_s", self.idle_timeout_s, 0.1, 86_400.0),
                  ("max_backlog_s", self.max_backlog_s, 1.0, 3600.0),
                  ("max_errors", self.max_errors, 1, 10_000),
                  ("finish_timeout_s", self.finish_timeout_s, 0.1, 3600.0),
                  ("max_photo_bytes", self.max_photo_bytes, round(MAX_PHOTO_MB_RANGE[0] * 1e6),
                   round(MAX_PHOTO_MB_RANGE[1] * 1e6)),
                  ("max_waiting_photos", self.max_waiting_photos, 0, 100),
                  ("drafts_per_minute", self.drafts_per_minute, 0.1, 600.0))
        for name, value, low, high in checks:
            if not low <= value <= high:
                raise ConfigError(f"{name} must be between {low} and {high}, got {value!r}")
        if self.max_frame_bytes % 2:
            raise ConfigError("max_frame_bytes must be even (16-bit samples)")


class TokenBucket:
    """Allows ``rate`` units a second on average and ``burst`` at once."""

    def __init__(self, rate: float, burst: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst = rate, burst
        self._clock = clock
        self._level = burst
        self._last = clock()

    def take(self, amount: float) -> bool:
        """Spend ``amount`` if it is there; False (nothing spent) if it is not."""
        now = self._clock()
        self._level = min(self.burst, self._level + (now - self._last) * self.rate)
        self._last = now
        if amount > self._level:
            return False
        self._level -= amount
        return True


def is_loopback(host: str) -> bool:
    """Does binding ``host`` keep the server on this machine?"""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_token_sendable(token: str, named: str) -> None:
    """Raises ``ConfigError`` naming ``named`` when ``token`` holds a character an HTTP
    header cannot carry (a line end brought by a file read into the variable)."""
    if not token.isprintable():
        raise ConfigError(f"{named} holds a line break or another control character, which "
                          "cannot be sent in a header: give the token alone (a file read "
                          "into it may have brought its line end)")


def check_bind(host: str, token: str) -> None:
    """Refuse to listen beyond loopback without a token (captions and audio are private),
    and a token no client could send (a line break in an HTTP header)."""
    check_token_sendable(token, "the token (--token or HUDTRANSLATE_TOKEN)")
    if not token and not is_loopback(host):
        raise ConfigError(f"--host {host} is reachable from other machines: set a token "
                          "(HUDTRANSLATE_TOKEN or --token) so only your wearers can connect")


def check_can_listen(host: str, port: int) -> None:
    """Raises ``ConfigError`` when ``host`` is no address of this machine or ``port`` is
    taken there (another ``serve`` left running), checked before the models load rather
    than as a traceback after them. The probe binds as the server will (SO_REUSEADDR) and
    lets go at once."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                       flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"--host {host}: no such address ({exc.strerror})") from None
    for family, kind, protocol, _name, address in addresses:
        with socket.socket(family, kind, protocol) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                raise ConfigError(cannot_listen(host, port, exc)) from None


def cannot_listen(host: str, port: int, exc: OSError) -> str:
    """One line for a server that cannot listen on ``host:port``."""
    hint = (" (another hudtranslate serve? choose another --port)"
            if exc.errno == errno.EADDRINUSE else "")
    return f"cannot listen on {host}:{port}: {one_line(exc)}{hint}"


def token_matches(expected: str, authorization: str | None, query_token: str | None) -> bool:
    """``Authorization: Bearer TOKEN`` (or ``?token=TOKEN``, for browser pages), compared in
    constant time."""
    offered = ""
    if authorization and authorization[:7].lower() == "bearer ":
        offered = authorization[7:].strip()
    elif query_token:
        offered = query_token
    return bool(offered) and hmac.compare_digest(offered.encode(), expected.encode())
