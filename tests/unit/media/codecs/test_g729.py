"""G.729 through libbcg729: 10-byte frames, SID frames last, the codec's own concealment."""

from __future__ import annotations

import numpy as np
import pytest

from portier.media.codecs import CodecError, available, decoder, encoder, unavailable

from ._signal import rms, sine


@pytest.fixture(autouse=True)
def _libbcg729() -> None:
    # Optional for the device ("when installed"), not for the tests: scripts/test installs
    # libbcg729-0, so a missing library fails here with the reason instead of skipping.
    reason = unavailable().get("G729")
    assert "G729" in available(), f"G.729 is unavailable: {reason} (apt-get install libbcg729-0)"


def test_a_20_ms_packet_is_two_frames_and_decodes_to_160_samples() -> None:
    payload = encoder("G729").encode(sine(440, 8000, 160))
    assert len(payload) == 20
    assert decoder("G729").decode(payload).shape == (160,)


def test_a_trailing_sid_frame_is_accepted_and_other_lengths_are_refused() -> None:
    back = decoder("G729")
    assert back.decode(bytes(10) + bytes(2)).shape == (160,)
    assert back.decode(bytes(2)).shape == (80,)
    for size in (1, 9, 11, 13, 25):
        with pytest.raises(CodecError, match="10-byte frames"):
            back.decode(bytes(size))


def test_with_vad_silence_is_sent_as_sid_frames_or_not_at_all() -> None:
    coder = encoder("G729", vad=True)
    talk = [coder.encode(sine(440, 8000, 160, level=8000)) for _ in range(10)]
    quiet = [coder.encode(np.zeros(160, np.int16)) for _ in range(20)]
    assert {len(p) for p in talk} == {20}
    assert {len(p) for p in quiet} <= {0, 2, 10, 12, 20}  # speech frames during the VAD's hangover
    assert any(len(p) % 10 == 2 for p in quiet) and quiet[-1] == b""
    back = decoder("G729")
    for payload in talk + [p for p in quiet if p]:
        assert back.decode(payload).size in (80, 160)


def test_loss_is_concealed_by_the_codec_in_whole_and_part_frames() -> None:
    coder, back = encoder("G729"), decoder("G729")
    tone = sine(440, 8000, 1600)
    for start in range(0, 1600, 160):
        back.decode(coder.encode(tone[start : start + 160]))
    hole = np.concatenate([back.conceal(50), back.conceal(110)])
    assert hole.size == 160
    assert rms(hole) > 1000
