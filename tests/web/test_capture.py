"""Network Packets Capture (manual 10.4) in real Chromium: Start on System >> Tools, SIPp sends OPTIONS to
the device over UDP and over TCP, Stop, Save; tshark reads the pcap and decodes every request and answer
as SIP (the TCP ones from the segments portier's transport synthesizes)."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from portier.services.capture import PcapWriter
from portier.sip.transport import Endpoint

from ..interop.peers import require
from ..interop.sipp import run_sipp, scenario
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
