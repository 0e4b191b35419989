"""Intercom settings menu (manual 7.4, 7.5, 8.1, 8.2, 9.15-9.22; Tables 6, 7, 17-21).

The sections live in ``intercom_*.py``; this module assembles the menu. Time plans (Table 22)
are a storage table, not settings.
"""

from __future__ import annotations

from .declare import Page, group
from .intercom_events import ActionUrl, Mcast
from .intercom_features import Features
from .intercom_media import Camera, Media
from .intercom_time import TimeDate
from .intercom_tone import ToneSettings


class IntercomSettings(Page):
    """Intercom settings menu (manual 9.15-9.22)."""

    features: Features = group(Features, help="Features")
    media: Media = group(Media, help="Media Settings")
    camera: Camera = group(Camera, help="Camera Settings")
    mcast: Mcast = group(Mcast, help="MCAST")
    action_url: ActionUrl = group(ActionUrl, help="Action URL")
    time: TimeDate = group(TimeDate, help="Time/Date")
    tone: ToneSettings = group(ToneSettings, help="Tone")
