"""The settings document: every page of the manual's web UI, declared once.

Paths mirror the menus: ``lines.sip1.server1.address`` is Line >> SIP >> SIP1 >>
SIP Server 1 >> Server Address. See :mod:`portier.settings.declare` for how one
declaration serves the web forms, the config file, the CLI and the API.
"""

from __future__ import annotations

from pydantic import model_validator

from .buttons import ButtonSettings
from .declare import Page, group
from .door import DoorSettings
from .intercom import IntercomSettings
from .lines import LineSettings
from .network import NetworkSettings
from .security import SecuritySettings
from .system import SystemSettings


class Settings(Page):
    """All settings of one device."""

    system: SystemSettings = group(SystemSettings, help="System")
    network: NetworkSettings = group(NetworkSettings, help="Network")
    lines: LineSettings = group(LineSettings, help="Line")
    intercom: IntercomSettings = group(IntercomSettings, help="Intercom settings")
    buttons: ButtonSettings = group(ButtonSettings, help="Call Button")
    security: SecuritySettings = group(SecuritySettings, help="Security")
    door: DoorSettings = group(DoorSettings, help="Security Settings (inputs, outputs, tamper)")

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        """Cross-field rules: conflicts no single setting can see (ports that collide)."""
        problems = []
        ports = self.network.ports
        if ports.http_port == ports.https_port:
            problems.append(f"`Web Port` and `Https Web Port` are both {ports.http_port}; they must differ")
        rtp_end = ports.rtp.start + ports.rtp.quantity - 1
        if rtp_end > 65535:
            problems.append(
                f"`RTP Initial Port` {ports.rtp.start} + `RTP Port Quantity` {ports.rtp.quantity} "
                "goes past port 65535"
            )
        sip_ports = {
            "SIP  Port": self.lines.sip.local_sip_port,
            "SIP1 Signal Port": self.lines.sip1.local_port,
            "SIP2 Signal Port": self.lines.sip2.local_port,
        }
        for key, port in sip_ports.items():
            if ports.rtp.start <= port <= rtp_end:
                problems.append(
                    f"`{key}` {port} lies inside the RTP port range {ports.rtp.start}-{rtp_end}; "
                    "move one of them"
                )
        used: dict[int, str] = {}
        for name, pin in self.door.hardware.pins().items():
            if pin in used:
                problems.append(f"GPIO {pin} is used twice (`{used[pin]}` and `{name}`); give each one pin")
            used.setdefault(pin, name)
        if problems:
            raise ValueError("; ".join(problems))
        return self
