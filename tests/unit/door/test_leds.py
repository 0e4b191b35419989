"""LED patterns (Table 2) and the network probe of the SIP/NET LED."""

from __future__ import annotations

from pathlib import Path

import pytest

from portier.door.leds import LedFacts, led_patterns, network_up

ZERO = "0" * 32
ROUTE_HEADER = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (LedFacts(), {"net": "on", "sip": "off", "output": "off"}),
        (LedFacts(network_up=False), {"net": "fast", "sip": "off", "output": "off"}),
        (LedFacts(network_up=False, lines={1: "Registered"}), {"net": "on", "sip": "off", "output": "off"}),
        (LedFacts(lines={1: "Registered", 2: "Failed"}), {"net": "on", "sip": "fast", "output": "off"}),
        (LedFacts(lines={1: "Timeout"}), {"net": "on", "sip": "fast", "output": "off"}),
        (LedFacts(lines={1: "Trying"}), {"net": "on", "sip": "off", "output": "off"}),
        (LedFacts(lines={1: "Failed"}, in_call=True), {"net": "on", "sip": "slow", "output": "off"}),
        (LedFacts(output_active=True), {"net": "on", "sip": "off", "output": "on"}),
    ],
)
def test_patterns(facts: LedFacts, expected: dict[str, str]) -> None:
    assert led_patterns(facts) == expected


def test_network_is_up_with_a_default_route_on_a_real_interface(tmp_path: Path) -> None:
    route = "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
    (tmp_path / "route").write_text(ROUTE_HEADER + route)
    assert network_up(tmp_path)


def test_network_is_down_with_only_local_routes(tmp_path: Path) -> None:
    local = "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
    (tmp_path / "route").write_text(ROUTE_HEADER + local)
    lo_default = f"{ZERO} 00 {ZERO} 00 {ZERO} ffffffff 00000001 00000000 00200200 lo\n"
    (tmp_path / "ipv6_route").write_text(lo_default)
    assert not network_up(tmp_path)


def test_network_is_up_with_an_ipv6_default_route(tmp_path: Path) -> None:
    (tmp_path / "route").write_text(ROUTE_HEADER)
    gateway = "fd000000000000000000000000000001"
    default = f"{ZERO} 00 {ZERO} 00 {gateway} 00000400 00000003 00000000 00000003 eth0\n"
    (tmp_path / "ipv6_route").write_text(default)
    assert network_up(tmp_path)


def test_no_routing_table_to_read_is_not_abnormal(tmp_path: Path) -> None:
    assert network_up(tmp_path / "missing")
