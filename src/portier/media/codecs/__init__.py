"""Audio codecs: one interface, and only those that can both encode and decode here are offered.

G.711 is our own (numpy tables); G.722, G.723.1, opus and MPA come from PyAV's FFmpeg; G.726
from spandsp and G.729 from libbcg729 when Debian's packages are installed. ``unavailable()``
says, codec by codec, why one cannot be offered (for the Media page).
"""

from .base import (
    CodecError,
    CodecInfo,
    CodecUnavailable,
    Decoder,
    Encoder,
    Pcm,
    available,
    codec_info,
    decoder,
    encoder,
    rescan,
    unavailable,
)

__all__ = [
    "CodecError",
    "CodecInfo",
    "CodecUnavailable",
    "Decoder",
    "Encoder",
    "Pcm",
    "available",
    "codec_info",
    "decoder",
    "encoder",
    "rescan",
    "unavailable",
]
