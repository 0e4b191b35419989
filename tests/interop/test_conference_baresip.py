"""The local 3-way conference (Conference Type LOCAL) with two baresip peers, judged by FFT.

alice (plays 1 kHz) calls the device, the device calls bob (plays 700 Hz), then joins both calls.
The device's microphone is a 440 Hz tone; its speaker records each call to a WAV file.
While conferenced each party must hear the other one and the device, never itself; the device's
speaker (the first call's recording) must hear both. Then alice hangs up and bob goes on talking to
the device alone: he hears the device and no longer alice.

alice is not put on hold before bob is called, as a resident would: baresip 1.0.0 starts its (never
pulling) ``aubridge`` player on a re-INVITE and from then on records nothing it receives, so a held
and resumed baresip cannot testify. Resuming held parties is proven against SIPp
(``test_conference_sipp.py``).

Afterwards the persistent call log holds both calls, direct IP calls (no line): alice's as an
answered incoming call, bob's as the device's outgoing one, newest (bob's, ended last) first.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np

from portier.settings.records import Direction

from .audio_check import make_tone_wav, read_wav
from .baresip import Baresip
from .device import running_device
from .test_calls_baresip import blocking
from .test_policy_incoming import call_log
from .test_transfer_sipp import state_of

ALICE_HZ, BOB_HZ, PORTIER_HZ = 1000.0, 700.0, 440.0
CONFERENCE_S = 3.0
AFTER_S = 2.5
MARGIN_S = 0.5


def peer(tmp_path: Path, user: str, hz: float) -> Baresip:
    return Baresip(
        tmp_path / user,
        user=user,
        audio_source_wav=make_tone_wav(tmp_path / f"{user}.wav", hz, 30.0),
        record_dir=tmp_path / user / "rec",
        lifetime=40,
    )


def levels(path: Path, start: float, end: float, *tones: float) -> dict[float, float]:
    """Each tone's power in the ``start``-``end`` s stretch of ``path``, in dB below the whole stretch's
    power (0: all of it; a tone that is not there is far below -30)."""
    rate, _, frames = read_wav(path)
    part = frames.mean(axis=1)[round(start * rate) : round(end * rate)]
    assert part.size > rate // 2, f"{path.name}: only {part.size / rate:.2f} s in {start:.2f}-{end:.2f} s"
    spectrum = np.abs(np.fft.rfft(part * np.hanning(part.size))) ** 2
    freqs = np.fft.rfftfreq(part.size, 1 / rate)
    total = float(spectrum.sum()) or 1e-30
    return {
        tone: 10 * np.log10(float(spectrum[np.abs(freqs - tone) < 20].sum()) / total + 1e-30)
        for tone in tones
    }


def assert_hears(path: Path, start: float, end: float, present: list[float], absent: list[float]) -> None:
    found = levels(path, start, end, *present, *absent)
    summary = ", ".join(f"{tone:g} Hz {level:.1f} dB" for tone, level in found.items())
    for tone in present:
        assert found[tone] > -10, f"{path.name} {start:.1f}-{end:.1f} s should hold {tone:g} Hz: {summary}"
    for tone in absent:
        assert found[tone] < -30, (
            f"{path.name} {start:.1f}-{end:.1f} s should not hold {tone:g} Hz: {summary}"
        )
    print(f"{path.name} {start:.1f}-{end:.1f} s: {summary}")


async def test_local_conference_mixes_both_parties_and_the_device(tmp_path: Path) -> None:
    portier_rec = tmp_path / "portier-rec"
    with peer(tmp_path, "alice", ALICE_HZ) as alice, peer(tmp_path, "bob", BOB_HZ) as bob:
        device = running_device(
            tmp_path / "dut", {}, audio_in=f"tone:{PORTIER_HZ}", audio_out=f"wav:{portier_rec}"
        )
        async with device as dut:
            await blocking(alice.dial, f"sip:door@127.0.0.1:{dut.sip_port}")
            a = (await dut.call_state("Talking", timeout=15)).call_id
            b = await dut.calls.dial(bob.direct_uri, agent=dut.sip.agent())
            bob_up = await blocking(bob.wait_event, "CALL_ESTABLISHED", 10.0)
            await state_of(dut, b.call_id, "Talking")
            conference = await dut.calls.conference(a, b.call_id)
            joined = time.monotonic()
            await asyncio.sleep(CONFERENCE_S)
            await blocking(alice.hangup)
            left = time.monotonic()
            await state_of(dut, a, "Ended")
            assert dut.calls.calls[b.call_id].state == "Talking", "bob's call goes on without alice"
            assert not getattr(conference, "members", None), "the conference is over with one party left"
            await asyncio.sleep(AFTER_S)
            await dut.calls.hangup(b.call_id)
            await blocking(bob.wait_event, "CALL_CLOSED", 10.0)
            await state_of(dut, b.call_id, "Ended")
            await asyncio.sleep(0.2)
            alice_heard = (await blocking(alice.recordings, "received"))[-1]
            bob_heard = (await blocking(bob.recordings, "received"))[-1]
            assert await call_log(dut) == [
                (Direction.OUTGOING, "P2P", bob.direct_uri),
                (Direction.INCOMING, "P2P", alice.direct_uri),
            ]
    a_file = next(portier_rec.glob(f"incoming-{a.split('@')[0]}*.wav"))
    # alice's recording ends with the conference (she hung up): bob and the device, not herself
    alice_end = read_wav(alice_heard)[2].shape[0] / read_wav(alice_heard)[0]
    assert_hears(
        alice_heard, alice_end - CONFERENCE_S + MARGIN_S, alice_end - 0.2, [BOB_HZ, PORTIER_HZ], [ALICE_HZ]
    )
    # bob's: the conference from `joined`, then the device alone after `left`
    start = joined - bob_up["received_at"]
    assert_hears(bob_heard, start + MARGIN_S, start + CONFERENCE_S - 0.2, [ALICE_HZ, PORTIER_HZ], [BOB_HZ])
    after = left - bob_up["received_at"]
    assert_hears(bob_heard, after + MARGIN_S, after + AFTER_S - 0.3, [PORTIER_HZ], [ALICE_HZ, BOB_HZ])
    # the device's speaker (the first call's sink) hears both remote parties, not its own microphone
    speaker_end = read_wav(a_file)[2].shape[0] / read_wav(a_file)[0]
    assert_hears(
        a_file, speaker_end - CONFERENCE_S + MARGIN_S, speaker_end - 0.2, [ALICE_HZ, BOB_HZ], [PORTIER_HZ]
    )
