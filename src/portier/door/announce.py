"""Saying the device's address out loud (manual 5.2.1, Table 1): speech from espeak-ng, else digit tones.

A door station has no screen: the installer holds the call button and hears the IP address. The text
is spoken by ``espeak-ng`` (a child process bounded by ``SPEECH_TIMEOUT``, writing a WAV that is
read back at the speaker's rate). Where espeak-ng is not installed, or fails, the address is played as
DTMF digit tones with a pause for each dot, and the log says why, so the installer still hears it and
the person reading the log knows what to install.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np

from portier.media.audio import AudioError, Samples, read_wav
from portier.media.tones import dtmf_tone

log = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
SPEECH_TIMEOUT = 10.0
DIGIT_S = 0.25
GAP_S = 0.15
DOT_S = 0.5
def digit_tones(address: str, rate: int) -> Samples:
    """``address`` as DTMF tones, one per digit (``*`` for a letter of an IPv6 address), a pause per dot."""
    parts: list[Samples] = []
    gap = np.zeros(round(GAP_S * rate), dtype=np.int16)
    for char in address:
        if char in ".:":
            parts.append(np.zeros(round(DOT_S * rate), dtype=np.int16))
            continue
        parts += [dtmf_tone(char if char.isdigit() else "*", DIGIT_S, rate), gap]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)


async def speech(text: str, rate: int) -> Samples | None:
    """``text`` spoken by espeak-ng as mono int16 at ``rate``; None (and a log line saying why) when
    espeak-ng is not installed or does not deliver within ``SPEECH_TIMEOUT``."""
    binary = shutil.which(ESPEAK)
    if binary is None:
        log.warning("%s is not installed: the announcement is played as digit tones "
                    "(install it with `apt-get install espeak-ng` for speech)", ESPEAK)
        return None
    with tempfile.TemporaryDirectory(prefix="portier-speech-") as folder:
        path = Path(folder) / "speech.wav"
        pipe, nothing = asyncio.subprocess.PIPE, asyncio.subprocess.DEVNULL
        process = await asyncio.create_subprocess_exec(
            binary, "-w", str(path), text, stdin=nothing, stdout=nothing, stderr=pipe
        )
        try:
            _, errors = await asyncio.wait_for(process.communicate(), SPEECH_TIMEOUT)
        except asyncio.CancelledError:
            await _kill(process)
            raise
        except TimeoutError:
            await _kill(process)
            log.warning("%s did not finish within %.0f s: the announcement is played as digit tones",
                        ESPEAK, SPEECH_TIMEOUT)
            return None
        if process.returncode != 0:
            why = errors.decode(errors="replace").strip() or f"exit status {process.returncode}"
            log.warning("%s failed (%s): the announcement is played as digit tones", ESPEAK, why)
            return None
        try:
            return await asyncio.to_thread(read_wav, path, rate)
        except AudioError as exc:
            log.warning("%s wrote no usable WAV (%s): the announcement is played as digit tones", ESPEAK, exc)
            return None


async def _kill(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    await process.wait()
