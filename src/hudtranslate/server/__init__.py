"""The server: wearers stream audio in and get captions back; a live web HUD.

``protocol`` documents the protocol (versioned; input checks in ``validation``);
``sessions`` runs one pipeline per wearer over shared engines, within ``limits``;
``broadcast`` turns pipeline events into per-view displays; ``app`` serves the page and
sockets; ``metrics`` feeds ``/metrics``; ``client`` is a simulated wearer
(``hudtranslate stream``); ``serve`` runs it all.
"""

from hudtranslate.server.app import HudServer, create_app
from hudtranslate.server.broadcast import CaptionBroadcaster, View, Viewer
from hudtranslate.server.limits import SessionLimits
from hudtranslate.server.manager import SessionManager
from hudtranslate.server.protocol import PROTOCOL_VERSION, ProtocolError, ViewRequest
from hudtranslate.server.serve import add_serve_command, serve

__all__ = [
    "PROTOCOL_VERSION",
    "CaptionBroadcaster",
    "HudServer",
    "ProtocolError",
    "SessionLimits",
    "SessionManager",
    "View",
    "ViewRequest",
    "Viewer",
    "add_serve_command",
    "create_app",
    "serve",
]
