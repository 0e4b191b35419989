"""portier: an open-source SIP door intercom (A12-class audio door station)."""

__version__ = "0.1.0"

MODEL = "portier-A12"
"""Model name reported in User-Agent, alarm messages and System >> Information."""
