"""Call waiting holds and resumes (its verdicts are policy's: test_policy.py), how a 2xx settles
early media, and when auto handdown makes the device idle."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from portier.events import Event
from portier.media.ports import RtpPorts
from portier.phone.call import Call, CallState
from portier.phone.call_waiting import live, to_hold, to_resume
from portier.phone.early_media import Change, change, has_sdp
from portier.phone.handdown import HandsFree, HandsFreeChanged
from portier.settings.intercom_features import FeatureBasic
from portier.sip.agent import AgentConfig, UserAgent
from portier.sip.message import Header, SipResponse
from portier.sip.offer_answer import CodecSpec, NegotiatedMedia
from portier.sip.transport import Endpoint, TransportConfig

AGENT = UserAgent(AgentConfig(transport=TransportConfig(host="127.0.0.1", udp_port=0, tcp_port=None)))


def call(call_id: str, state: CallState) -> Call:
    return Call(
        call_id=call_id,
        line=1,
        direction="incoming",
        remote="sip:caller@127.0.0.1",
        agent=AGENT,
        publish=lambda event: None,
        ports=RtpPorts(40000, 100),
        user_agent="test",
        contact="<sip:127.0.0.1>",
        destination=Endpoint("UDP", "127.0.0.1", 5060),
        state=state,
    )


# --- call waiting ---------------------------------------------------------------------------------


def test_answering_holds_the_talking_call_and_its_end_resumes_it() -> None:
    one, two = call("one", CallState.TALKING), call("two", CallState.RINGING)
    ended = call("old", CallState.ENDED)
    assert live([one, two, ended]) == [one, two]
    assert to_hold(two, [one, two, ended]) == [one]
    one.state, one.held_for = CallState.HELD, "two"
    assert to_resume(two, [one], auto_resume=True) is one
    assert to_resume(two, [one], auto_resume=False) is None
    assert to_resume(call("other", CallState.ENDED), [one], auto_resume=True) is None


# --- early media ----------------------------------------------------------------------------------

PCMU = CodecSpec(name="PCMU", clock_rate=8000, payload_type=0)
PCMA = CodecSpec(name="PCMA", clock_rate=8000, payload_type=8)
EARLY = NegotiatedMedia(
    stream=0,
    remote_address="192.0.2.1",
    remote_port=4000,
    remote_rtcp_address="192.0.2.1",
    remote_rtcp_port=4001,
    send_codec=PCMU,
    receive_codecs=(PCMU,),
    remote_payload_types={0: PCMU},
    telephone_event_pt=None,
    ptime=20,
    direction="sendrecv",
)


def test_the_2xx_keeps_moves_or_replaces_the_early_stream() -> None:
    assert change(EARLY, EARLY) is Change.KEEP
    assert change(EARLY, replace(EARLY, remote_port=5000)) is Change.REDIRECT
    assert change(EARLY, replace(EARLY, direction="sendonly")) is Change.REDIRECT
    assert change(EARLY, replace(EARLY, send_codec=PCMA, receive_codecs=(PCMA,))) is Change.RESTART
    assert change(EARLY, replace(EARLY, ptime=30)) is Change.RESTART


def test_only_an_sdp_body_is_early_media() -> None:
    response = SipResponse(status=183, reason="Session Progress", headers=[], body=b"v=0\r\n")
    assert has_sdp(response)
    response.headers.append(Header("Content-Type", "application/isup"))
    assert not has_sdp(response)
    assert not has_sdp(SipResponse(status=180, reason="Ringing", headers=[]))


# --- auto handdown --------------------------------------------------------------------------------


def hands_free(basic: FeatureBasic) -> tuple[HandsFree, list[Event]]:
    published: list[Event] = []
    return HandsFree(published.append, lambda: basic), published


async def test_a_call_the_device_ends_leaves_it_idle_at_once() -> None:
    device, published = hands_free(FeatureBasic())
    device.call_started()
    device.call_started()  # a second call does not leave idle twice
    device.call_ended(far_end=False, calls_left=True, reason="local hangup")
    assert device.active
    device.call_ended(far_end=False, calls_left=False, reason="local hangup")
    assert published == [HandsFreeChanged(True, "call"), HandsFreeChanged(False, "local hangup")]


async def test_far_end_hang_up_waits_for_auto_handdown() -> None:
    device, published = hands_free(FeatureBasic(auto_handdown=True, auto_handdown_time=30))
    device.call_started()
    device.call_ended(far_end=True, calls_left=False, reason="remote hangup")
    await asyncio.sleep(0)
    assert device.active and published == [HandsFreeChanged(True, "call")]
    device.call_started()  # a new call before the handdown: the device never went idle
    device.call_ended(far_end=False, calls_left=False, reason="local hangup")
    assert published[-1] == HandsFreeChanged(False, "local hangup") and len(published) == 2
    device.close()


async def test_without_auto_handdown_only_the_end_button_makes_it_idle() -> None:
    device, published = hands_free(FeatureBasic(auto_handdown=False))
    assert not device.hang_up()
    device.call_started()
    device.call_ended(far_end=True, calls_left=False, reason="remote hangup")
    assert device.active
    assert device.hang_up()
    assert published == [HandsFreeChanged(True, "call"), HandsFreeChanged(False, "local hangup")]
