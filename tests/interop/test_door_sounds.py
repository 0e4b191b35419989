"""Triggered ringtones and an input's call button (Table 27), on a running device with virtual pins.

An input that triggers plays its Triggered Ringtone for Ringtone Duration, the tamper alarm plays
the Tamper Alarm Ringtone, an output opened over HTTP plays its URI ringtone; each recording is
checked by FFT against the ring type's frequency. An input's Call Button places the button's call
to a SIPp UAS.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from .conftest import SippServerFactory
from .device import running_device
from .sipp import free_port, scenario
from .test_calls_sipp import assert_sipp_ok
from .test_tones_sipp import mono, near, peaks, tone_files, tones_idle


async def test_inputs_tamper_and_a_uri_trigger_play_their_ringtones(tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    values = {
        "Alarm Ring Duration": 1,
        "Input1 Detect": 1,
        "Input1 Ring Type": "Type 5",  # 1400 Hz triple beep
        "Enable Tamper": 1,
        "Tamper Ring Type": "Type 2",  # 800 Hz double ring
        "Output2 URI Ring Type": "Type 4",  # 660/880/1320 Hz chime
    }
    async with running_device(tmp_path / "dut", values, audio_out=f"wav:{recordings}") as dut:
        door = dut.device.service("door")
        door.set_input(1, False)  # LOW_LEVEL: the contact closes
        await dut.device.bus.drain()  # the ring starts from the event
        await tones_idle(dut)
        door.set_input(0, True)  # pulled off the wall
        await dut.device.bus.drain()  # the ring starts from the event
        await tones_idle(dut)
        await door.switch(2, "trigger", "http")
        await dut.device.bus.drain()  # the ring starts from the event
        await tones_idle(dut)
    alarms = tone_files(recordings, "alarm")
    assert len(alarms) == 3, alarms
    expected = {"Type 5": [1400.0], "Type 2": [800.0], "Type 4": [660.0, 880.0, 1320.0]}
    for path in alarms:
        ring = next((name for name in expected if name.replace(" ", "_") in path.name), None)
        assert ring is not None, f"{path.name} is none of {sorted(expected)}"
        rate, samples = mono(path)
        length = samples.size / rate
        assert abs(length - 1.0) <= 0.05, f"{path.name} played {length:.2f} s, not 1 s"
        wanted = expected.pop(ring)
        near(peaks(samples, rate, len(wanted)), wanted, f"{path.name} ({ring})")
    assert not expected, f"no recording of {sorted(expected)}"


async def test_an_input_runs_its_call_button(tmp_path: Path, sipp_server_factory: SippServerFactory) -> None:
    server = sipp_server_factory(scenario("call_uas"), extra=["-mp", str(free_port("udp")), "-d", "300"])
    values = {
        "Input2 Detect": 1,
        "Input2 Call Button": 3,
        "Fkey3 Type": 1,  # MEMORY
        "Fkey3 Subtype": 1,  # speed dial
        "Fkey3 Value": f"sip:door@127.0.0.1:{server.port}",
    }
    async with running_device(tmp_path / "dut", values) as dut:
        dut.device.service("door").set_input(2, False)
        await dut.call_state("Talking", timeout=10)
        await dut.call_state("Ended")  # SIPp hangs up after 300 ms
        assert_sipp_ok(await asyncio.to_thread(server.wait, 10))
