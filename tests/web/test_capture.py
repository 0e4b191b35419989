"""Network Packets Capture (manual 10.4) in real Chromium: Start on System >> Tools, SIPp sends OPTIONS to
the device over UDP and over TCP, Stop, Save; tshark reads the pcap and decodes every request and answer
as SIP (the TCP ones from the segments portier's transport synthesizes). A call to a SIPp UAS that
echoes RTP is captured too: tshark follows the SDP to the RTP streams both ways, and finds RTCP."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from portier.media.audio import AudioSpec
from portier.phone.call import CallState
from portier.services.capture import CaptureService, PcapWriter
from portier.sip.transport import Endpoint
from portier.web.api_calls import dial

from ..interop.peers import require
from ..interop.sipp import SippServer, free_port, run_sipp, scenario
from .conftest import login, screenshot
from .web_device import WebDevice

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.web, pytest.mark.interop]

PAGE = "/system/tools"


def tshark_sip(pcap: Path) -> list[list[str]]:
    """(transport, method or status, CSeq) of every SIP message tshark finds in ``pcap``."""
    tshark = require("tshark")
    fields = ["-e", "udp.srcport", "-e", "tcp.srcport", "-e", "sip.Method", "-e", "sip.Status-Code",
              "-e", "sip.CSeq"]  # fmt: skip
    done = subprocess.run(
        [tshark, "-r", str(pcap), "-Y", "sip", "-T", "fields", "-E", "separator=|", *fields],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, f"tshark could not read {pcap}: {done.stderr}"
    rows = []
    for line in done.stdout.splitlines():
        udp, tcp, method, status, cseq = line.split("|")
        rows.append(["udp" if udp else "tcp" if tcp else "?", method or status, cseq])
    return rows


async def test_a_capture_of_sipp_options_reads_back_in_tshark(
    page: Page, web_device: WebDevice, tmp_path: Path
) -> None:
    require("tshark")
    await login(page)
    await page.goto(PAGE)
    await page.click("#capture-start")
    await expect(page.locator(".message")).to_have_text("The packet capture started.")
    remote = f"127.0.0.1:{web_device.sip_port}"
    for transport in ("u1", "t1"):
        result = await asyncio.to_thread(
            run_sipp, scenario("options_uac"), remote=remote, transport=transport, timeout=10,
            workdir=tmp_path / f"sipp-{transport}",
        )  # fmt: skip
        assert result.ok, result.explain()
    await page.goto(PAGE)
    await expect(page.locator("#capture-status")).to_contain_text("Capturing since")
    await page.click("#capture-stop")
    await expect(page.locator(".message")).to_have_text("The packet capture stopped: save it below.")
    await screenshot(page, "system-tools-capture")
    async with page.expect_download() as waiting:
        await page.click("#capture-download")
    download = await waiting.value
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    assert saved.suffix == ".pcap"
    rows = await asyncio.to_thread(tshark_sip, saved)
    assert ["udp", "OPTIONS", "1 OPTIONS"] in rows, rows
    assert ["tcp", "OPTIONS", "1 OPTIONS"] in rows, rows
    assert [row[0] for row in rows if row[1] == "200"] == ["udp", "tcp"], rows


async def test_the_pcap_writer_frames_ipv6_and_tcp_and_stops_at_its_limit(tmp_path: Path) -> None:
    """IPv6 and IPv4-mapped addresses, TCP sequence numbers per direction, and a full file that
    refuses the next packet instead of growing: tshark reads what was written."""
    common = "Via: SIP/2.0/TCP [::1]:5099;branch=z9hG4bK1\r\nFrom: <sip:a@[::1]>;tag=1\r\nCall-ID: c1\r\n"
    options = (
        f"OPTIONS sip:[::1]:5060 SIP/2.0\r\n{common}To: <sip:[::1]>\r\nCSeq: 7 OPTIONS\r\n"
        "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    ).encode()
    answer = (
        f"SIP/2.0 200 OK\r\n{common}To: <sip:[::1]>;tag=2\r\nCSeq: 7 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    ).encode()
    client, device = Endpoint("TCP", "::1", 5099), Endpoint("TCP", "::1", 5060)
    mapped = Endpoint("UDP", "::ffff:127.0.0.1", 5098), Endpoint("UDP", "127.0.0.1", 5060)
    path = tmp_path / "six.pcap"
    with path.open("wb") as out:
        writer = PcapWriter(out, limit=700)
        assert writer.write(options, client, device, 1.0)
        assert writer.write(answer, device, client, 1.5)
        assert not writer.write(options.replace(b"TCP", b"UDP"), *mapped, 2.0), "past the limit"
        assert writer.full and writer.packets == 2 and path.stat().st_size <= 700
    both = [["tcp", "OPTIONS", "7 OPTIONS"], ["tcp", "200", "7 OPTIONS"]]
    assert await asyncio.to_thread(tshark_sip, path) == both
    with path.open("wb") as out:
        PcapWriter(out).write(options.replace(b"TCP", b"UDP"), *mapped, 2.0)
    assert await asyncio.to_thread(tshark_sip, path) == [["udp", "OPTIONS", "7 OPTIONS"]]


def tshark_rows(pcap: Path, display: str, *fields: str) -> list[list[str]]:
    """The ``fields`` of every packet tshark shows for ``display`` (a display filter)."""
    tshark = require("tshark")
    args = [arg for field in fields for arg in ("-e", field)]
    done = subprocess.run(
        [tshark, "-r", str(pcap), "-Y", display, "-T", "fields", "-E", "separator=|", *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, f"tshark could not read {pcap}: {done.stderr}"
    return [line.split("|") for line in done.stdout.splitlines()]


async def test_a_captured_call_shows_its_rtp_both_ways_and_rtcp(
    web_device: WebDevice, tmp_path: Path
) -> None:
    """The device calls a SIPp UAS that echoes RTP for 6 s (long enough for an RTCP report each way
    at 5 s intervals, the first at 2.5 s); tshark, told nothing but the pcap, finds the call's SDP,
    follows it to the RTP stream in both directions as PCMU, and decodes our RTCP."""
    require("tshark")
    capture = web_device.device.service("capture")
    assert isinstance(capture, CaptureService)
    media_port = free_port("udp")
    uas = SippServer(
        scenario("call_uas"), extra=["-rtp_echo", "-mp", str(media_port), "-d", "6000"],
        timeout=20, workdir=tmp_path / "sipp",
    )  # fmt: skip
    manager = web_device.device.service("sip").calls
    before = manager.audio_in
    web_device.call(lambda: setattr(manager, "audio_in", AudioSpec.parse("tone:440")))
    try:
        web_device.call(capture.begin)
        with uas:
            call = web_device.run(dial(web_device.device, f"sip:service@127.0.0.1:{uas.port}", None))
            result = await asyncio.to_thread(uas.wait, 20)
        assert result.ok, result.explain()
        await asyncio.to_thread(_wait_ended, web_device, call)
    finally:
        web_device.call(capture.end)
        web_device.call(lambda: setattr(manager, "audio_in", before))
    pcap = capture.path
    rtp = await asyncio.to_thread(tshark_rows, pcap, "rtp", "udp.srcport", "udp.dstport", "rtp.p_type")
    ports = {(int(src), int(dst)) for src, dst, _ in rtp}
    assert {pt for _, _, pt in rtp} == {"0"}, f"PCMU only: {rtp[:5]}"
    assert any(src == media_port for src, _ in ports) and any(dst == media_port for _, dst in ports), ports
    sent = sum(1 for src, _, _ in rtp if int(src) != media_port)
    assert 200 <= sent <= 400, f"about 6 s of 20 ms packets sent, captured {sent}"
    rtcp = await asyncio.to_thread(tshark_rows, pcap, "rtcp.pt == 200", "rtcp.senderssrc")
    assert rtcp, "no RTCP sender report in the capture"


def _wait_ended(web_device: WebDevice, call: object, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while getattr(call, "state", None) is not CallState.ENDED:
        assert time.monotonic() < deadline, "the call did not end after SIPp's BYE"
        time.sleep(0.05)
