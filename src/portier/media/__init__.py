"""Media: sans-IO cores for RTP/RTCP, the jitter buffer, DTMF (RFC 4733, SIP INFO, in-band) and tones.

Import the modules themselves (``portier.media.rtp``...); this package imports nothing, so using RTP
packets does not load numpy.
"""
