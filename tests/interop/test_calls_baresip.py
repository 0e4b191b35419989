"""portier and baresip call each other and both must hear the other (issue 4, "Proven by").

baresip plays a 1 kHz WAV and records what it hears; portier plays a 440 Hz WAV and records each
call. Every recording is judged by ``assert_tone``: the far end's tone within 1 %, as long as the
call talked within 5 %, no silent hole over 40 ms. Each side's recording is measured against that
side's own talk time (portier's Talking -> Ended, baresip's CALL_ESTABLISHED -> CALL_CLOSED).

The device runs in the test's event loop while baresip is driven over a socket by blocking calls;
those run in a thread so that portier keeps sending and receiving meanwhile.

Direct IP calls have no SRTP setting, so SRTP is proven on a line: both register at Kamailio, which
challenges every INVITE with 407 and relays it, so the line's calls also prove the 407 answered.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from portier.events import CallStateChanged
from portier.phone.call import Call

from .audio_check import assert_tone, make_tone_wav
from .baresip import Baresip, BaresipError, Srtp
from .conftest import KamailioFactory
from .device import RunningDevice, line_values, running_device

pytestmark = pytest.mark.interop

BARESIP_HZ = 1000.0
PORTIER_HZ = 440.0
TALK_S = 3.0
SOURCE_S = 20.0  # baresip's aufile plays its file once: longer than any call here
CODEC_RATES = {"pcmu": 8000, "pcma": 8000, "g722": 16000, "g726": 8000, "opus": 48000}
# harness codec -> (portier's name in "Audio Codec Sets"/"SIP1 VoiceCodecMap", baresip's name in its log)
CODEC_NAMES = {
    "pcmu": ("PCMU", "PCMU"),
    "pcma": ("PCMA", "PCMA"),
    "g722": ("G722", "G722"),
    "g726": ("G726-32", "G726-32"),
    "opus": ("opus", "opus"),
}
# G.726-32: portier packs code words as RFC 3551 4.5.4 says (first in the low bits) by default; baresip
# 1.0.0's g726 module (spandsp G726_PACKING_LEFT) packs them AAL2-style under the plain name, as linphone
# does, so these tests set portier's "G726 Packing" to AAL2 (with RFC 3551 each side hears the other's
# tone only 9-11 dB above garbage).
CODECS = list(CODEC_NAMES)
IDS = ["pcmu", "pcma", "g722", "g726-32", "opus"]

T = TypeVar("T")


async def blocking(function: Callable[..., T], *args: Any) -> T:
    """Run a blocking baresip call in a thread: the device shares this event loop."""
    return await asyncio.to_thread(function, *args)


@dataclass
class CallClock:
    """When portier's calls changed state, by time.monotonic() (the clock baresip's events use)."""

    events: list[tuple[CallStateChanged, float]] = field(default_factory=list)

    def __call__(self, event: CallStateChanged) -> None:
        self.events.append((event, time.monotonic()))

    def ended(self) -> bool:
        return any(event.state == "Ended" for event, _ in self.events)

    def history(self) -> str:
        return " -> ".join(e.state + (f" ({e.reason})" if e.reason else "") for e, _ in self.events)

    def at(self, state: str) -> float:
        found = [when for event, when in self.events if event.state == state]
        assert found, f"portier's call never reached {state}: {self.history()}"
        return found[0]

    @property
    def talk(self) -> float:
        return self.at("Ended") - self.at("Talking")


@dataclass
class Outcome:
    """What one call left behind, read while the peers still ran."""

    portier_talk: float
    baresip_talk: float
    portier_heard: Path
    baresip_heard: Path
    portier_codec: str
    portier_srtp: bool
    baresip_codecs: list[tuple[str, str]]
    baresip_srtp: bool


def tone_sources(tmp_path: Path, codec: str) -> tuple[Path, Path]:
    """baresip's 1 kHz file (at the codec's rate, played once) and portier's 440 Hz file (looped:
    one second holds whole cycles, so the loop has no seam)."""
    baresip_wav = make_tone_wav(tmp_path / "baresip-1k.wav", BARESIP_HZ, SOURCE_S, CODEC_RATES[codec])
    portier_wav = make_tone_wav(tmp_path / "portier-440.wav", PORTIER_HZ, 1.0, 8000)
    return baresip_wav, portier_wav


def only(files: list[Path], who: str) -> Path:
    assert len(files) == 1, f"{who} should have recorded exactly one call, found {files}"
    return files[0]


def current_call(dut: RunningDevice) -> Call:
    calls = list(dut.calls.calls.values())
    assert len(calls) == 1, f"portier should have one call, has {calls}"
    return calls[0]


async def baresip_established(baresip: Baresip, clock: CallClock, timeout: float = 15.0) -> dict[str, Any]:
    """baresip's CALL_ESTABLISHED; fails as soon as portier's call has ended instead."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await blocking(baresip.wait_event, "CALL_ESTABLISHED", 0.5)
        except BaresipError as exc:
            if clock.ended() or time.monotonic() > deadline:
                history = clock.history()
                raise AssertionError(f"portier's call went {history}; baresip never talked:\n{exc}") from None


async def talk(
    dut: RunningDevice,
    baresip: Baresip,
    portier_rec: Path,
    *,
    start: Callable[[], Awaitable[Any]],
    portier_hangs_up: bool,
) -> Outcome:
    """``start`` the call (either side dials), talk TALK_S, hang up, collect both recordings."""
    clock = CallClock()
    dut.device.bus.subscribe(CallStateChanged, clock)
    await start()
    established = await baresip_established(baresip, clock)
    await dut.call_state("Talking", timeout=15)
    call = current_call(dut)
    assert call.stream is not None, "portier talks without an RTP stream"
    config = call.stream.config
    await asyncio.sleep(TALK_S)
    if portier_hangs_up:
        assert await dut.calls.hangup(), "portier found no call to hang up"
    else:
        await blocking(baresip.hangup)
    closed = await blocking(baresip.wait_event, "CALL_CLOSED", 10.0)
    await dut.call_state("Ended", timeout=10)
    await asyncio.sleep(0.2)  # the sink closes its WAV once the stream has stopped
    baresip_heard = only(await blocking(baresip.recordings, "received"), "baresip")
    return Outcome(
        portier_talk=clock.talk,
        baresip_talk=closed["received_at"] - established["received_at"],
        portier_heard=only(sorted(portier_rec.glob("*.wav")), "portier"),
        baresip_heard=baresip_heard,
        portier_codec=config.send_codec,
        portier_srtp=config.srtp is not None,
        baresip_codecs=baresip.audio_codecs(),
        baresip_srtp=baresip.srtp_enabled(),
    )


def check_audio(outcome: Outcome, codec_name: str, *, srtp: bool = False) -> None:
    """Same codec and protection on both sides, then each side heard the other for the whole call."""
    assert outcome.portier_codec == codec_name, f"portier sends {outcome.portier_codec}, not {codec_name}"
    used = outcome.baresip_codecs
    assert used and all(name == codec_name for _, name in used), f"baresip set up {used}"
    assert outcome.portier_srtp == srtp and outcome.baresip_srtp == srtp, outcome
    print(f"portier talked {outcome.portier_talk:.3f} s, baresip {outcome.baresip_talk:.3f} s")
    print("portier heard", assert_tone(outcome.portier_heard, BARESIP_HZ, duration=outcome.portier_talk))
    print("baresip heard", assert_tone(outcome.baresip_heard, PORTIER_HZ, duration=outcome.baresip_talk))


def make_baresip(
    tmp_path: Path,
    source: Path,
    codec: str,
    *,
    srtp: Srtp | None = None,
    registrar: str | None = None,
    password: str | None = None,
) -> Baresip:
    return Baresip(
        tmp_path / "baresip",
        user="bob",
        audio_source_wav=source,
        record_dir=tmp_path / "baresip" / "rec",
        codecs=[codec],
        srtp=srtp,
        registrar=registrar,
        password=password,
        lifetime=45,
    )


# -- direct IP calls, one codec each ----------------------------------------------------------------


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
async def test_baresip_calls_portier_and_both_hear_the_other(tmp_path: Path, codec: str) -> None:
    portier_name, baresip_name = CODEC_NAMES[codec]
    baresip_wav, portier_wav = tone_sources(tmp_path, codec)
    portier_rec = tmp_path / "portier-rec"
    with make_baresip(tmp_path, baresip_wav, codec) as baresip:
        device = running_device(
            tmp_path / "portier",
            {"Audio Codec Sets": portier_name, "G726 Packing": "AAL2"},
            audio_in=f"wav:{portier_wav}",
            audio_out=f"wav:{portier_rec}",
        )
        async with device as dut:
            outcome = await talk(
                dut,
                baresip,
                portier_rec,
                start=lambda: blocking(baresip.dial, f"sip:door@127.0.0.1:{dut.sip_port}"),
                portier_hangs_up=False,
            )
    check_audio(outcome, baresip_name)


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
async def test_portier_calls_baresip_and_both_hear_the_other(tmp_path: Path, codec: str) -> None:
    portier_name, baresip_name = CODEC_NAMES[codec]
    baresip_wav, portier_wav = tone_sources(tmp_path, codec)
    portier_rec = tmp_path / "portier-rec"
    with make_baresip(tmp_path, baresip_wav, codec) as baresip:
        device = running_device(
            tmp_path / "portier",
            {"Audio Codec Sets": portier_name, "G726 Packing": "AAL2"},
            audio_in=f"wav:{portier_wav}",
            audio_out=f"wav:{portier_rec}",
        )
        async with device as dut:
            outcome = await talk(
                dut,
                baresip,
                portier_rec,
                start=lambda: dut.calls.dial(baresip.direct_uri, agent=dut.sip.agent()),
                portier_hangs_up=True,
            )
    check_audio(outcome, baresip_name)


# -- a registered line through Kamailio, with SRTP ------------------------------------------------------


def kamailio_story(kamailio_log: str, lines: int = 25) -> str:
    """The last requests and replies Kamailio's script logged: where a call through it went."""
    return "\n".join([line for line in kamailio_log.splitlines() if "portier-kam:" in line][-lines:])


def invites_from(kamailio_log: str, port: int, user: str) -> list[str]:
    """Kamailio's log lines for INVITEs to ``user`` that came from 127.0.0.1:``port``."""
    pattern = re.compile(rf"portier-kam: request INVITE sip:{re.escape(user)}@\S+ from 127\.0\.0\.1:{port} ")
    return [line for line in kamailio_log.splitlines() if pattern.search(line)]


@pytest.mark.parametrize(
    "dialled",
    [None, "bob", "sip:bob@KAMAILIO"],
    ids=["baresip-calls-portier", "portier-dials-number", "portier-dials-uri-on-line"],
)
async def test_srtp_call_through_kamailio_on_a_registered_line(
    tmp_path: Path, kamailio_factory: KamailioFactory, dialled: str | None
) -> None:
    """portier's SIP1 (alice, RTP Encryption compulsory) and baresip (bob, ``srtp-mand``) register
    at Kamailio; the call goes through it (407 for the caller first), keys go in a=crypto.

    ``dialled`` is what portier dials on its line (None: baresip calls portier's alice): the
    number, as a door station's key does, or the full URI of bob at Kamailio."""
    kamailio = kamailio_factory()
    baresip_wav, portier_wav = tone_sources(tmp_path, "pcmu")
    portier_rec = tmp_path / "portier-rec"
    values = line_values(
        1,
        "alice",
        "alice-secret",
        kamailio.udp_port,
        **{"SIP1 Media Crypto": "COMPULSORY", "SIP1 VoiceCodecMap": "PCMU"},
    )
    baresip = make_baresip(
        tmp_path, baresip_wav, "pcmu", srtp="srtp-mand", registrar=kamailio.uri(), password="bob-secret"
    )
    with baresip:
        await blocking(baresip.wait_registered)
        device = running_device(
            tmp_path / "portier", values, audio_in=f"wav:{portier_wav}", audio_out=f"wav:{portier_rec}"
        )
        async with device as dut:
            await dut.events.line_status(1, "Registered")
            assert kamailio.registered("alice") and kamailio.registered("bob"), kamailio.tail()

            async def start() -> object:
                if dialled is None:
                    return await blocking(baresip.dial, f"sip:alice@{kamailio.address()}")
                return await dut.calls.dial(dialled.replace("KAMAILIO", kamailio.address()), line=1)

            portier_calls = dialled is not None
            try:
                outcome = await talk(dut, baresip, portier_rec, start=start, portier_hangs_up=portier_calls)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n-- Kamailio --\n{kamailio_story(kamailio.log)}") from None
            sip_port = dut.sip_port
        trace = baresip.log
    log = kamailio.log
    if portier_calls:
        # Kamailio challenges every INVITE: the first from portier got 407, the second carried
        # alice's credentials and was relayed to bob.
        sent = invites_from(log, sip_port, "bob")
        assert len(sent) == 2, f"portier should have sent two INVITEs (407 first):\n{kamailio_story(log)}"
        from_alice = re.search(r"^From: <sip:alice@127\.0\.0\.1[:>]", trace, re.MULTILINE)
        assert from_alice, "baresip got no call from alice"
    else:
        assert "SIP/2.0 407 " in trace, "Kamailio should have challenged baresip's INVITE"
        assert invites_from(log, baresip.sip_port, "alice"), kamailio_story(log)
    assert re.search(rf"Record-Route: <sip:127\.0\.0\.1:{kamailio.udp_port};lr", trace), (
        "the call should have passed through Kamailio (Record-Route)"
    )
    check_audio(outcome, "PCMU", srtp=True)
