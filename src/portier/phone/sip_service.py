"""The device's SIP service: one user agent per local port, and the SIP lines on them.

Each line has its own "Local Port" (Fanvil's SIP1/SIP2 Signal Port); lines that share a port share
one agent, and the global "Local SIP Port" always has one (direct IP calls and OPTIONS arrive there).
A changed line setting restarts that line only (it unregisters and registers again), except the
settings calls read when they happen (DND, forwards, hotline, feature codes...: ``LIVE_LINE_SETTINGS``)
and the voice-message ones, which renew only the line's subscription (``mwi.py``); a changed global
SIP, STUN, QoS or certificate setting restarts the whole service. NOTIFYs of the message-summary
package go to ``mwi.VoiceMail.on_notify`` (through the calls' NOTIFY dispatch by package).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from portier import MODEL, __version__
from portier.events import AddressChanged, LineStatusChanged
from portier.media.audio import AudioSpec
from portier.media.codecs import available
from portier.media.ports import RtpPorts
from portier.phone.calls import CallManager, LineInfo
from portier.phone.feature_codes import FeatureCodes, toggle_events
from portier.phone.hotline import Hotline
from portier.phone.line import Line, LineState
from portier.phone.message import LineAddress, MessageReceiver, send_text
from portier.phone.mwi import VoiceMail
from portier.phone.registration import LineStatus
from portier.phone.registration_config import registration_config
from portier.settings.choices import TlsVersion
from portier.settings.declare import Leaf
from portier.settings.records import RestrictedIncoming, RestrictedOutgoing
from portier.settings.schema import Settings
from portier.settings.sip_line import SipLine
from portier.sip import message_summary
from portier.sip.agent import AgentConfig, RequestFailed, UserAgent
from portier.sip.message import SipResponse
from portier.sip.timers import TimerConfig
from portier.sip.tls import TlsSettings
from portier.sip.transport import TransportConfig
from portier.sip.uas import Capabilities
from portier.tls_material import device_certificate, trust_certificates

if TYPE_CHECKING:
    from portier.device import Device

log = logging.getLogger(__name__)

LINES = (1, 2)
_TLS_VERSIONS = {
    TlsVersion.TLS_1_0: "1.0",
    TlsVersion.TLS_1_1: "1.1",
    TlsVersion.TLS_1_2: "1.2",
    TlsVersion.TLS_1_3: "1.3",
}
LIVE_LINE_SETTINGS = frozenset(
    {
        "dnd", "forward_unconditional", "forward_unconditional_number", "forward_busy",
        "forward_busy_number", "forward_no_answer", "forward_no_answer_number", "forward_no_answer_delay",
        "block_anonymous", "send_anonymous", "auto_answer", "auto_answer_delay", "missed_call_log",
        "hotline", "hotline_delay", "hotline_number", "voice_message_number", "use_feature_code",
        "dnd_on_code", "dnd_off_code", "cfu_on_code", "cfu_off_code", "cfb_on_code", "cfb_off_code",
        "cfn_on_code", "cfn_off_code", "anc_on_code", "anc_off_code", "cw_on_code", "cw_off_code",
        "send_anonymous_on_code", "send_anonymous_off_code",
    }
)  # fmt: skip
"""Line settings read when a call comes or is placed (policy, hotline, feature codes, call log):
changing one neither re-registers the line nor drops its calls."""
VOICEMAIL_SETTINGS = frozenset({"subscribe_voice_message", "voice_message_period"})
"""Changing these renews the line's voice-message subscription only."""


def device_mac() -> str:
    """The MAC of this host as 12 hex digits (what Fanvil devices put in alarm messages and headers)."""
    return f"{uuid.getnode():012x}"


class SipService:
    name = "sip"
    watches: tuple[str, ...] = (
        "lines.",
        "network.advanced.qos.",
        "security.trust_certificates.",
        "security.device_certificates.",
    )

    def __init__(self, device: Device) -> None:
        self.device = device
        self.agents: dict[int, UserAgent] = {}
        self.lines: dict[int, Line] = {}
        self.calls: CallManager | None = None
        self._messages = MessageReceiver(device.bus.publish, self._line_addresses, f"{MODEL} {__version__}")
        self.voicemail = VoiceMail(device.bus.publish, self._line_addresses)
        """Voice-message subscriptions (RFC 3842) and the latest count of each line."""
        self.features = FeatureCodes(device)
        """DND, forward, anonymous and call waiting on/off, by setting or by feature code."""
        self.hotline = Hotline(lambda: device.settings.current, lambda: self.calls)
        self._unsubscribe: list[Callable[[], None]] = []
        self._renewal: asyncio.Task[None] | None = None

    def _line_addresses(self) -> list[LineAddress]:
        return [LineAddress(n, line.config.user, line.agent) for n, line in self.lines.items()]

    # --- what others read -------------------------------------------------------------------------

    def line_states(self) -> list[LineState]:
        states = []
        for number in LINES:
            line = self.lines.get(number)
            if line is not None:
                states.append(line.state)
            else:
                states.append(LineState(number, LineStatus.UNAPPLIED, "", "", "", 0))
        return states

    def device_port(self) -> int:
        override = self.device.options.sip_port
        return override or self.device.settings.current.lines.sip.local_sip_port

    def agent(self, port: int | None = None) -> UserAgent:
        return self.agents[port or self.device_port()]

    async def send_message(self, target: str, text: str, line: int = 1) -> SipResponse | RequestFailed:
        """RFC 3428 MESSAGE to ``target`` through ``line`` (registrar or outbound proxy, its credentials),
        or straight from the device port when that line is not in use (``phone/message.py``)."""
        agent = self.agent()
        return await send_text(target, text, self.lines.get(line), agent, user_agent=f"{MODEL} {__version__}")

    # --- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        settings = self.device.settings.current
        options = self.device.options
        available()  # probe the codecs now, not while the first caller waits for the 200
        rtp = settings.network.ports.rtp
        self.calls = CallManager(
            lambda: self.device.settings.current,
            self.device.bus.publish,
            RtpPorts(rtp.start, rtp.quantity, options.sip_host or "0.0.0.0"),
            user_agent=f"{MODEL} {__version__}",
            audio_in=AudioSpec.parse(options.audio_in or "null"),
            audio_out=AudioSpec.parse(options.audio_out or "null"),
            timers=self._timers(),
            restricted_incoming=lambda: [row for _, row in self.device.storage.rows(RestrictedIncoming)],
            restricted_outgoing=lambda: [row for _, row in self.device.storage.rows(RestrictedOutgoing)],
        )
        self.calls.notify_handlers[message_summary.EVENT] = self.voicemail.on_notify
        bus = self.device.bus
        self._unsubscribe = [
            bus.subscribe(LineStatusChanged, self.voicemail.on_line_status),
            bus.subscribe(AddressChanged, self._on_address_changed),
        ]
        await self._ensure_agent(self.device_port(), settings)
        for number in LINES:
            await self._start_line(number, settings)

    async def stop(self) -> None:
        await self.hotline.close()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        if self._renewal is not None:
            self._renewal.cancel()
            await asyncio.gather(self._renewal, return_exceptions=True)
            self._renewal = None
        if self.calls is not None:
            await self.calls.close()
            self.calls = None
        for number in list(self.lines):
            await self._stop_line(number)
        for port in list(self.agents):
            await self.agents.pop(port).stop()

    def _timers(self) -> TimerConfig:
        t1 = self.device.options.sip_t1
        return TimerConfig(t1=t1) if t1 else TimerConfig()

    async def apply(self, changed: list[Leaf]) -> None:
        paths = [leaf.dotted for leaf in changed]
        whole = ("lines.sip.", "lines.stun.", "network.", "security.")
        if any(path.startswith(whole) for path in paths):
            log.info("SIP: global settings changed; restarting the SIP service")
            await self.stop()
            await self.start()
            return
        settings = self.device.settings.current
        for event in toggle_events(paths, settings):
            self.device.bus.publish(event)
        for number in LINES:
            prefix = f"lines.sip{number}."
            names = {path.removeprefix(prefix) for path in paths if path.startswith(prefix)}
            if not names:
                continue
            if names <= LIVE_LINE_SETTINGS | VOICEMAIL_SETTINGS and number in self.lines:
                await self._update_line(number, settings, renew_voicemail=bool(names & VOICEMAIL_SETTINGS))
                continue
            await self._stop_line(number)
            await self._start_line(number, settings)
        await self._drop_unused_agents()

    async def _update_line(self, number: int, settings: Settings, *, renew_voicemail: bool) -> None:
        """Settings that calls read when they happen changed: the line keeps its registration."""
        line_settings = self._line_settings(number, settings)
        if self.calls is not None and number in self.calls.lines:
            self.calls.lines[number] = dataclasses.replace(self.calls.lines[number], settings=line_settings)
        if renew_voicemail:
            await self.voicemail.line_stopped(number)
            self.voicemail.line_started(self.lines[number], line_settings)

    # --- lines ------------------------------------------------------------------------------------

    def _on_address_changed(self, event: AddressChanged) -> None:
        """A new address (a DHCP lease, another network): the registrars still have the old Contact,
        so each line registers again, as a phone does. The agents listen on every address already."""
        if event.new is None or not self.lines:
            return
        if self._renewal is not None and not self._renewal.done():
            self._renewal.cancel()
        self._renewal = asyncio.get_running_loop().create_task(self._renew_lines(), name="sip-renew-lines")

    async def _renew_lines(self) -> None:
        settings = self.device.settings.current
        numbers = sorted(self.lines)
        log.info("SIP: the device's address changed; line(s) %s register again", ", ".join(map(str, numbers)))
        for number in numbers:
            await self._stop_line(number)
            await self._start_line(number, settings)

    def _line_settings(self, number: int, settings: Settings) -> SipLine:
        line: SipLine = getattr(settings.lines, f"sip{number}")
        return line

    def _line_port(self, line: SipLine, settings: Settings) -> int:
        """A line on the device's own port follows ``--sip-port``; others keep their Local Port."""
        if self.device.options.sip_port and line.local_port == settings.lines.sip.local_sip_port:
            return self.device.options.sip_port
        return line.local_port

    async def _start_line(self, number: int, settings: Settings) -> None:
        line_settings = self._line_settings(number, settings)
        if not line_settings.activate:
            return
        agent = await self._ensure_agent(self._line_port(line_settings, settings), settings)
        config = registration_config(number, line_settings, settings.lines, device_mac())
        line = Line(config, agent, self.device.bus.publish)
        self.lines[number] = line
        if self.calls is not None and config.servers:
            first = config.servers[0]
            domain = config.server_name or first.host
            if not config.server_name and config.request_with_port:  # "Request With Port", as REGISTER does
                domain = f"{domain}:{first.port}"
            self.calls.lines[number] = LineInfo(
                number, line_settings, agent, line.destination, domain,
                status=lambda: str(line.state.status.value),
            )
        await line.start()
        self.voicemail.line_started(line, line_settings)

    async def _stop_line(self, number: int) -> None:
        if self.calls is not None:
            self.calls.lines.pop(number, None)
        await self.voicemail.line_stopped(number)
        line = self.lines.pop(number, None)
        if line is not None:
            await line.stop()

    # --- agents -----------------------------------------------------------------------------------

    async def _ensure_agent(self, port: int, settings: Settings) -> UserAgent:
        agent = self.agents.get(port)
        if agent is None:
            agent = UserAgent(self._agent_config(port, settings))
            await agent.start()
            self.agents[port] = agent
            agent.on("MESSAGE", lambda incoming: self._messages.handle(agent, incoming))
            if self.calls is not None:
                self.calls.attach(agent)
            log.info("SIP listening on port %d (UDP, TCP; TLS on %d)", port, port + 1)
        return agent

    async def _drop_unused_agents(self) -> None:
        used = {self.device_port(), *(line.agent for line in self.lines.values())}
        for port, agent in list(self.agents.items()):
            if port not in used and agent not in used:
                await self.agents.pop(port).stop()

    def _agent_config(self, port: int, settings: Settings) -> AgentConfig:
        device = self.device
        qos = settings.network.advanced.qos
        lines = [self._line_settings(n, settings) for n in LINES]
        mine = [line for line in lines if line.activate and self._line_port(line, settings) == port]
        version = min((line.tls_version for line in mine), default=TlsVersion.TLS_1_2)
        trust = settings.security.trust_certificates
        cert, key = device_certificate(device.storage, settings.security)
        tls = TlsSettings(
            certificate_pem=cert,
            key_pem=key,
            trust_pems=trust_certificates(device.storage),
            verify_peer=trust.verify_server,
            check_hostname=trust.verify_server and trust.verify_common_name,
            min_version=_TLS_VERSIONS[version],
        )
        transport = TransportConfig(
            host=device.options.sip_host or "0.0.0.0",
            udp_port=port,
            tcp_port=port,
            tls_port=port + 1 if port < 65535 else None,
            tls=tls,
            dscp=qos.signal_dscp if qos.enable else None,
        )
        timers = self._timers()
        return AgentConfig(
            transport=transport,
            timers=timers,
            capabilities=Capabilities(supported=(), user_agent=f"{MODEL} {__version__}"),
            reply_to_source=all(line.strict_proxy for line in mine) if mine else True,
        )
