"""The live web HUD: an HTTP + WebSocket app around a running session.

``protocol`` documents the caption protocol (versioned); ``broadcast`` turns pipeline
events into per-view displays; ``app`` serves the page and sockets; ``serve`` runs it all.
"""

from hudtranslate.server.app import HudServer, create_app
from hudtranslate.server.broadcast import CaptionBroadcaster, View, Viewer
from hudtranslate.server.protocol import PROTOCOL_VERSION, ProtocolError, ViewRequest
from hudtranslate.server.serve import add_serve_command, serve

__all__ = [
    "PROTOCOL_VERSION",
    "CaptionBroadcaster",
    "HudServer",
    "ProtocolError",
    "View",
    "ViewRequest",
    "Viewer",
    "add_serve_command",
    "create_app",
    "serve",
]
