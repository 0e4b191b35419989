"""The device notices its address change (service "network") and requests the "IP Changed" Action URL.

A real ``portier run`` inside a network namespace made here, with SIP on every address (as deployed,
so its address is the default route's source address), a veth pair with TEST-NET addresses and a
default route on it, and an HTTP server on the namespace's 127.0.0.1 recording the Action URLs. The
test moves the address with ``ip addr add/del`` inside the namespace, as a DHCP client or an
installer would, and reads what the device requested: ``$ip`` is the new address (not 127.0.0.1, the
address toward the URL's host). IPv6 is off on the pair, so its packet counters show that the device
sends nothing out while it watches.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from .device_process import PYTHON, DeviceProcess, free_tcp_port
from .netns import LoopbackNamespace
from .request_log import READY

SCRIPT = Path(__file__).with_name("request_log.py")
LINK = "veth0"
FIRST, SECOND, THIRD = "192.0.2.10", "198.51.100.20", "192.0.2.30"


class UnboundDevice(DeviceProcess):
    """``portier run`` with SIP on 0.0.0.0: the device's address is then the default route's."""

    @property
    def argv(self) -> list[str]:
        argv = super().argv
        argv[argv.index("--sip-host") + 1] = "0.0.0.0"
        return argv


Request = tuple[str, dict[str, str]]


def requests(log: Path) -> list[Request]:
    """(path, query) of every request recorded so far, in order."""
    lines = log.read_text().splitlines() if log.exists() else []
    found = []
    for line in lines:
        if line == READY:
            continue
        parts = urlsplit(line)
        query = {name: values[0] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
        found.append((parts.path.strip("/"), query))
    return found


def wait_until(test: Callable[[], bool], what: str, explain: Callable[[], str], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not test():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout} s\n{explain()}")
        time.sleep(0.05)


def link_macs(ns: LoopbackNamespace) -> set[str]:
    """The MACs of the namespace's links as ``$mac`` writes them (the device's MAC is one of them)."""
    shown = json.loads(ns.ip("-j", "link", "show"))
    return {str(link["address"]).replace(":", "") for link in shown if link["ifname"] != "lo"}


def tx_packets(ns: LoopbackNamespace, link: str) -> int:
    (shown,) = json.loads(ns.ip("-s", "-j", "link", "show", link))
    return int(shown["stats64"]["tx"]["packets"])


def test_ip_changed_reports_each_new_address_and_not_its_loss(tmp_path: Path) -> None:
    timeout = shutil.which("timeout")
    assert timeout is not None, "coreutils `timeout` bounds the HTTP recorder's lifetime"
    log = tmp_path / "requests.log"
    with LoopbackNamespace("portier-addr") as ns:
        ns.ip("link", "add", LINK, "type", "veth", "peer", "name", "veth1")
        for link in (LINK, "veth1"):
            ns.run(["sysctl", "-qw", f"net.ipv6.conf.{link}.disable_ipv6=1"], check=True)
            ns.ip("link", "set", link, "up")
        ns.ip("addr", "add", f"{FIRST}/24", "dev", LINK)
        ns.ip("route", "add", "default", "dev", LINK)

        port = free_tcp_port()
        ns.popen([timeout, "150", PYTHON, "-I", str(SCRIPT), str(port), str(log)])
        wait_until(lambda: log.exists() and READY in log.read_text(), "HTTP recorder", lambda: "")
        url = f"http://127.0.0.1:{port}"
        dut = UnboundDevice(tmp_path / "dut", prefix=ns.argv([]), limit=120)
        dut.configure({
            "intercom.action_url.boot_completed": f"{url}/boot?ip=$ip",
            "intercom.action_url.ip_change": f"{url}/ip_change?ip=$ip&mac=$mac",
        })  # fmt: skip

        def changes() -> list[dict[str, str]]:
            return [query for path, query in requests(log) if path == "ip_change"]

        def explain() -> str:
            return f"requests: {requests(log)}\ndevice log:\n{dut.tail()}"

        with dut:
            wait_until(lambda: any(path == "boot" for path, _ in requests(log)), "boot URL", explain)
            assert requests(log) == [("boot", {"ip": FIRST})], "$ip is the default route's address"
            assert f"network: the device's address is {FIRST} (netlink)" in dut.log
            sent = tx_packets(ns, LINK)

            # a second address, then the first one goes: the default route's source is the second
            ns.ip("addr", "add", f"{SECOND}/24", "dev", LINK)
            ns.ip("addr", "del", f"{FIRST}/24", "dev", LINK)
            wait_until(lambda: len(changes()) == 1, "ip_change for the second address", explain)
            (mac,) = [query["mac"] for query in changes()]
            assert mac in link_macs(ns)
            assert changes() == [{"ip": SECOND, "mac": mac}]

            # the last address goes (and the default route with it): no address, nothing to report
            ns.ip("addr", "del", f"{SECOND}/24", "dev", LINK)
            lost = f"network: the device's address changed from {SECOND} to none"
            wait_until(lambda: lost in dut.log, "log line about losing the address", explain)

            # an address and a route again, as a new DHCP lease would bring
            ns.ip("addr", "add", f"{THIRD}/24", "dev", LINK)
            ns.ip("route", "add", "default", "dev", LINK)
            wait_until(lambda: len(changes()) == 2, "ip_change for the third address", explain)
            time.sleep(1.0)  # anything more would come within the debounce; nothing should
            assert changes() == [{"ip": SECOND, "mac": mac}, {"ip": THIRD, "mac": mac}]
            assert [path for path, _ in requests(log)] == ["boot", "ip_change", "ip_change"]
            assert tx_packets(ns, LINK) == sent, "the device sent packets out while watching its address"
            assert dut.alive
        assert dut.tracebacks() == []
