"""Early media on outgoing calls (RFC 3960, gateway model): a 180/183 with SDP is heard before the 200.

Why: a PBX or the PSTN plays ringback, "the number is busy" or an IVR prompt in a 183 with SDP; a door
station that waits for the 200 hears silence and then a call that never comes. The first provisional
response with a usable answer starts the RTP stream towards it, receive-only (nothing of the visitor
reaches the far end before it answers). The 2xx then settles the media: the same description (or
none) only turns sending on; another address or direction moves the stream; other codecs replace it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from portier.sip.message import SipResponse
from portier.sip.offer_answer import NegotiatedMedia, Rejected, accept_answer
from portier.sip.sdp import SdpError, SessionDescription
from portier.sip.sdp import parse as parse_sdp

log = logging.getLogger(__name__)


class Change(Enum):
    KEEP = "keep"
    """Same media: the early stream goes on (sending turned on)."""
    REDIRECT = "redirect"
    """Same codecs, another address, port or direction: the stream is pointed elsewhere."""
    RESTART = "restart"
    """Other codecs or keys: a new stream."""


def has_sdp(response: SipResponse) -> bool:
    kind = (response.get("Content-Type") or "application/sdp").split(";", 1)[0].strip().lower()
    return bool(response.body) and kind == "application/sdp"


def change(early: NegotiatedMedia, final: NegotiatedMedia) -> Change:
    """How the stream started for ``early`` must change for what the 2xx settled on."""
    same_codecs = (
        early.send_codec == final.send_codec
        and early.receive_codecs == final.receive_codecs
        and early.telephone_event_pt == final.telephone_event_pt
        and early.ptime == final.ptime
        and early.crypto == final.crypto
    )
    if not same_codecs:
        return Change.RESTART
    where = (final.remote_address, final.remote_port)
    if where != (early.remote_address, early.remote_port) or final.direction != "sendrecv":
        return Change.REDIRECT
    return Change.KEEP


@dataclass
class Settled:
    """What the 2xx means for the media: ``media`` to use, and how an early stream must change
    (None when no early stream runs)."""

    media: NegotiatedMedia | Rejected
    change: Change | None


class EarlyMedia:
    """One outgoing INVITE's early media: the first usable SDP in a provisional response starts it."""

    def __init__(
        self, offer: SessionDescription, start: Callable[[NegotiatedMedia], Coroutine[Any, Any, None]]
    ) -> None:
        self.offer = offer
        self._start = start
        self.media: NegotiatedMedia | None = None
        self.body = b""
        self._task: asyncio.Task[None] | None = None

    def on_provisional(self, response: SipResponse) -> None:
        """A 101-199: start receiving if it is the first to carry a usable answer (later ones are
        the same answer repeated, RFC 3261 §13.2.1, and are ignored)."""
        if self.media is not None or not has_sdp(response):
            return
        try:
            media = accept_answer(self.offer, parse_sdp(response.body))
        except SdpError as exc:
            media = Rejected(str(exc))
        if isinstance(media, Rejected):
            log.info("early media in %d %s is unusable: %s", response.status, response.reason, media.reason)
            return
        self.media, self.body = media, response.body  # the answer, even if it sends nothing before the 2xx
        if media.receives:
            self._task = asyncio.get_running_loop().create_task(
                self._start(replace(media, direction="recvonly"))
            )

    async def settle(self, final: SipResponse) -> Settled:
        """The media of the call once ``final`` (a 2xx) came; waits for the early stream to be up."""
        started = False
        if self._task is not None:
            try:
                await self._task
                started = True
            except Exception as exc:  # the call goes on without early media; the 2xx starts a stream
                log.warning("early media failed to start: %s", exc)
        if not has_sdp(final) or final.body == self.body:
            media: NegotiatedMedia | Rejected | None = self.media
        else:
            try:
                media = accept_answer(self.offer, parse_sdp(final.body))
            except SdpError as exc:
                media = Rejected(str(exc))
        if media is None:
            media = Rejected("neither the 2xx nor a provisional response carried an SDP answer")
        if not started or self.media is None or isinstance(media, Rejected):
            return Settled(media, None if not started else Change.RESTART)
        return Settled(media, change(self.media, media))

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
