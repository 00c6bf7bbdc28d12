#!/usr/bin/python3 -I
"""The rig's privileged network helper.

What a host's compute agent may do as root to wire its guests into the rig's network namespace, run
through `sudo -n` by the host users only (the rig's sudoers rule names this file and nothing else).
Installed root-owned beside its state:
  <dir>/netns          the name of the rig's network namespace (one line)
  <dir>/taps/<tap>     "<owner uid> <instance uuid>" for a guest's tap, "dhcp <network uuid>" for a DHCP
                       port's, "router <router uuid> <network uuid>" for a router's port on a network

  host-net prepare <instance> <port>   a tap for the port in the machine's namespace, owned by the
                                       caller, for the guest's QEMU to open (again)
  host-net plug <port> <network>       the tap moved into the rig's namespace, on the network's bridge
  host-net unplug <instance> [<port>]  the instance's taps (or the one of that port) gone; a network
                                       left with no guest loses its DHCP server, its routers'
                                       interfaces and its bridge
  host-net dhcp <network> [--if-wired] the network's DHCP server (dnsmasq, in a namespace of its own
                                       on the network's bridge) and, when the rig has a metadata
                                       service (<dir>/metadata-socket), its proxy at 169.254.169.254
                                       (haproxy, naming the network and the guest's address to the
                                       service), set to the JSON read from stdin:
                                       {"revision", "port": {"id", "mac"}, "subnets": [{"cidr",
                                       "address", "gateway", "dns", "routes"}], "hosts": [{"mac",
                                       "ip", "hostname"}], "filters": [{"port", "mac", "ips",
                                       "ingress", "egress"}]}; an older revision than the one in place changes
                                       nothing; with --if-wired, a network with no guest's tap on
                                       its bridge is left as it is. The filters are the network's security groups: an
                                       nftables table in the rig's namespace where each guest port's
                                       traffic passes its own rules (stateful; DHCP always passes),
                                       after a bridge table that drops what a guest sends from a MAC
                                       or an address not its own
  host-net l3 <network> [--if-wired]   the routers with an interface on the network, set to the JSON
                                       read from stdin: {"routers": [{"id", "versions", "interfaces":
                                       [{"port", "mac", "cidr", "address"}], "gateway": null or
                                       {"port", "mac", "network", "cidr", "address", "nexthop",
                                       "snat"}, "floating": [{"address", "fixed"}], "routes":
                                       [{"destination", "nexthop"}]}]}. Each router is
                                       a namespace of its own: a veth on each network's bridge holding
                                       its interface's address, one on the external network's bridge
                                       holding the gateway's address and the floating IPs, SNAT to the
                                       gateway's address, DNAT of each floating IP to its fixed one,
                                       and its extra routes.
                                       The rig's namespace takes the external subnet's gateway address
                                       (the outside world, as devstack's host is for its `public`).
                                       A router's part for a network whose streams ("versions") are
                                       older than the part in place changes nothing; a router no longer
                                       listed loses its interface on the network, and its namespace
                                       when it has no interface left
  host-net outside <network>           the external network's bridge, with the rig's namespace at its
                                       subnet's gateway address, set to the JSON read from stdin:
                                       {"cidr", "gateway"}; what `up` makes for its `public` network

Every verb is idempotent and serialised with the others on the machine. Every value is checked
against its exact form before use and reaches commands as one argument each; the DHCP server's
configuration is written from checked values only. A caller acts only on the taps it made. Must never
run anything a caller names, never take a path from a caller, and never give the machine's own
namespace an address.
"""

import fcntl
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.realpath(__file__))
TAPS = os.path.join(HERE, "taps")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}\Z")
HOSTNAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\Z")
NETNS = re.compile(r"nimbus-[a-z0-9][a-z0-9-]{0,40}\Z")
LEASE_SECONDS = 86400
MAX_HOSTS = 4096
METADATA = ipaddress.IPv4Address("169.254.169.254")


class Refused(Exception):
    """A request this helper does not carry out; nothing was changed."""


def uuid(value, what):
    if not isinstance(value, str) or not UUID.match(value):
        raise Refused(f"{what} must be a lowercase UUID")
    return value


def tap_of(port):
    return "tap" + port[:11]


def bridge_of(network):
    return "brq" + network[:11]


def run(*argv):
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()}")
    return done.stdout


def ip(*args, ns=None):
    return run("ip", *(["-n", ns] if ns else []), *args)


def link_exists(name, ns=None):
    argv = ["ip", *(["-n", ns] if ns else []), "link", "show", "dev", name]
    return subprocess.run(argv, capture_output=True).returncode == 0


def delete_link(name, ns=None):
    """The link gone. One that goes by itself meanwhile is no error: a veth goes with its peer, and the
    kernel removes the peer of a deleted namespace a moment after `ip netns del` returns."""
    if not link_exists(name, ns):
        return
    done = subprocess.run(["ip", *(["-n", ns] if ns else []), "link", "del", "dev", name], capture_output=True, text=True)
    deadline = time.monotonic() + 5
    while done.returncode != 0 and link_exists(name, ns):
        if time.monotonic() > deadline:
            raise RuntimeError(f"ip link del dev {name}: {done.stderr.strip()}")
        time.sleep(0.05)


def netns_exists(name):
    return os.path.exists(os.path.join("/run/netns", name))


def record(tap):
    try:
        with open(os.path.join(TAPS, tap), encoding="utf-8") as file:
            return file.read().strip()
    except FileNotFoundError:
        return ""


def write_record(tap, content):
    os.makedirs(TAPS, mode=0o700, exist_ok=True)
    with open(os.path.join(TAPS, tap), "w", encoding="utf-8") as file:
        file.write(content + "\n")


def is_guest(held):
    """Whether a tap's record is a guest's (its owner's uid first) rather than a DHCP or router port's."""
    return held.split(" ")[0].isdigit()


def guest_of(held):
    """A guest tap's record as (owner uid, instance, network once plugged), else None."""
    fields = held.split(" ")
    if not is_guest(held) or len(fields) not in (2, 3):
        return None
    return fields[0], fields[1], fields[2] if len(fields) == 3 else None


def forget(tap):
    try:
        os.unlink(os.path.join(TAPS, tap))
    except FileNotFoundError:
        pass


def remove_tap(tap, netns):
    delete_link(tap, netns)
    delete_link(tap)
    forget(tap)


def addresses_of(device, ns):
    """The IPv4 addresses of a link, as `address/prefix`."""
    return {
        f"{entry['local']}/{entry['prefixlen']}"
        for link in json.loads(ip("-j", "-4", "addr", "show", "dev", device, ns=ns))
        for entry in link.get("addr_info", [])
    }


def set_addresses(device, ns, wanted):
    """Gives a link exactly the `wanted` IPv4 addresses."""
    present = addresses_of(device, ns)
    for stale in sorted(present - wanted):
        ip("addr", "del", stale, "dev", device, ns=ns)
    for missing in sorted(wanted - present):
        ip("addr", "add", missing, "dev", device, ns=ns)


def ensure_bridge(network, netns):
    bridge = bridge_of(network)
    if not link_exists(bridge, netns):
        ip("link", "add", "name", bridge, "type", "bridge", ns=netns)
    ip("link", "set", "dev", bridge, "up", ns=netns)
    return bridge


# --- guests' taps -------------------------------------------------------------------------------------


def prepare(caller, netns, instance, port):
    uuid(instance, "instance")
    tap = tap_of(uuid(port, "port"))
    held = record(tap)
    if held and (guest_of(held) or ())[:2] != (caller, instance):
        raise Refused(f"{tap} belongs to another instance")
    if not held:
        remove_tap(tap, netns)  # not known to be the caller's: made anew
        write_record(tap, f"{caller} {instance}")
    # QEMU opens the tap by name in its own (the machine's) namespace.
    delete_link(tap, netns)
    if not link_exists(tap):
        ip("tuntap", "add", "dev", tap, "mode", "tap", "user", caller)


def plug(caller, netns, port, network):
    tap = tap_of(uuid(port, "port"))
    uuid(network, "network")
    held = guest_of(record(tap))
    if held is None or held[0] != caller:
        raise Refused(f"{tap} was not prepared by this host")
    # The record names the network, so an unplug cut short knows which bridge it was emptying.
    write_record(tap, f"{caller} {held[1]} {network}")
    bridge = ensure_bridge(network, netns)
    if link_exists(tap):
        ip("link", "set", "dev", tap, "netns", netns)
    if not link_exists(tap, netns):
        raise Refused(f"{tap} does not exist; prepare it and start the guest first")
    ip("link", "set", "dev", tap, "master", bridge, "up", ns=netns)


def master_of(tap, netns):
    """The bridge a tap in the rig's namespace is on, or None."""
    if not link_exists(tap, netns):
        return None
    [link] = json.loads(ip("-j", "link", "show", "dev", tap, ns=netns))
    return link.get("master")


def unplug(caller, netns, instance, port=None):
    uuid(instance, "instance")
    only = None if port is None else tap_of(uuid(port, "port"))
    taken, emptied = [], set()
    for tap in sorted(os.listdir(TAPS)) if os.path.isdir(TAPS) else []:
        held = guest_of(record(tap))
        if held is not None and held[:2] == (caller, instance) and only in (None, tap):
            taken.append(tap)
            emptied.add(master_of(tap, netns) or (held[2] and bridge_of(held[2])))
            delete_link(tap, netns)
            delete_link(tap)
    # Only the bridges this unplug took a guest from: a network another host is still wiring (its DHCP
    # served, its guest not yet plugged) is not this unplug's to tear down. The taps' records go last,
    # so an unplug that fails on the way is repeated whole, bridges and all.
    for bridge in sorted(name for name in emptied if name in bridges(netns)):
        members = members_of(bridge, netns)
        if any(is_guest(record(tap)) for tap in members):
            continue
        routers = set()
        for tap in members:
            held = record(tap).split(" ")
            if held[0] == "dhcp":
                stop_dhcp(netns, held[1])
            elif held[0] == "router" and len(held) == 3:
                drop_router_part(netns, held[1], held[2])
                routers.add(held[1])
        for router in sorted(routers):
            rebuild_router(netns, router)
        delete_link(bridge, netns)
    for tap in taken:
        forget(tap)


def members_of(bridge, netns):
    """The names of the links on a bridge of the rig's namespace."""
    return [link["ifname"] for link in json.loads(ip("-j", "link", "show", "master", bridge, ns=netns))]


def bridges(netns):
    links = json.loads(ip("-j", "link", "show", "type", "bridge", ns=netns))
    return [link["ifname"] for link in links if re.match(r"brq[0-9a-f-]{11}\Z", link["ifname"])]


# --- DHCP ---------------------------------------------------------------------------------------------


def dhcp_paths(netns, network):
    run_dir = os.path.join("/run", netns, "dhcp", network)
    return {
        "dir": run_dir,
        "ns": f"{netns}-dhcp-{network[:11]}",
        "pid": os.path.join(run_dir, "pid"),
        "hosts": os.path.join(run_dir, "hosts"),
        "opts": os.path.join(run_dir, "opts"),
        "revision": os.path.join(run_dir, "revision"),
        "ranges": os.path.join(run_dir, "ranges"),
        "proxy": os.path.join(run_dir, "haproxy.cfg"),
        "proxy_pid": os.path.join(run_dir, "haproxy.pid"),
    }


def checked_config(raw):
    """The configuration read from stdin, every value in its exact form, or Refused."""
    try:
        config = json.loads(raw)
    except ValueError as error:
        raise Refused(f"the configuration is not JSON: {error}") from None
    if not isinstance(config, dict) or set(config) != {"revision", "port", "subnets", "hosts", "filters"}:
        raise Refused("the configuration must have exactly revision, port, subnets, hosts and filters")
    revision = config["revision"]
    if not isinstance(revision, int) or isinstance(revision, bool) or revision < 0:
        raise Refused("revision must be a non-negative integer")
    port = config["port"]
    if not isinstance(port, dict) or set(port) != {"id", "mac"}:
        raise Refused("port must have exactly id and mac")
    uuid(port["id"], "port id")
    mac(port["mac"])
    subnets = config["subnets"]
    if not isinstance(subnets, list) or not 1 <= len(subnets) <= 16:
        raise Refused("subnets must be a list of 1 to 16")
    checked_subnets = [checked_subnet(subnet) for subnet in subnets]
    hosts = config["hosts"]
    if not isinstance(hosts, list) or len(hosts) > MAX_HOSTS:
        raise Refused(f"hosts must be a list of at most {MAX_HOSTS}")
    networks = [subnet["network"] for subnet in checked_subnets]
    checked_hosts = [checked_host(host, networks) for host in hosts]
    filters = config["filters"]
    if not isinstance(filters, list) or len(filters) > MAX_HOSTS:
        raise Refused(f"filters must be a list of at most {MAX_HOSTS}")
    checked_filters = [checked_filter(entry) for entry in filters]
    return revision, port, checked_subnets, checked_hosts, checked_filters


def mac(value):
    if not isinstance(value, str) or not MAC.match(value):
        raise Refused("a MAC address must be six lowercase colon-separated octets")
    return value


def ipv4(value, what):
    try:
        return ipaddress.IPv4Address(value)
    except (ipaddress.AddressValueError, TypeError, ValueError):
        raise Refused(f"{what} must be an IPv4 address") from None


def checked_subnet(subnet):
    keys = {"cidr", "address", "gateway", "dns", "routes"}
    if not isinstance(subnet, dict) or set(subnet) != keys:
        raise Refused("a subnet must have exactly " + ", ".join(sorted(keys)))
    try:
        network = ipaddress.IPv4Network(subnet["cidr"])
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, TypeError, ValueError):
        raise Refused("a subnet's cidr must be an IPv4 network") from None
    address = ipv4(subnet["address"], "a subnet's DHCP address")
    gateway = None if subnet["gateway"] is None else ipv4(subnet["gateway"], "a gateway")
    for inside in [address] + ([gateway] if gateway else []):
        if inside not in network:
            raise Refused(f"{inside} is not in {network}")
    if not isinstance(subnet["dns"], list) or len(subnet["dns"]) > 5:
        raise Refused("dns must be a list of at most 5")
    dns = [ipv4(server, "a DNS server") for server in subnet["dns"]]
    if not isinstance(subnet["routes"], list) or len(subnet["routes"]) > 20:
        raise Refused("routes must be a list of at most 20")
    routes = []
    for route in subnet["routes"]:
        if not isinstance(route, dict) or set(route) != {"destination", "nexthop"}:
            raise Refused("a route must have exactly destination and nexthop")
        try:
            destination = ipaddress.IPv4Network(route["destination"])
        except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, TypeError, ValueError):
            raise Refused("a route's destination must be an IPv4 network") from None
        routes.append((destination, ipv4(route["nexthop"], "a route's next hop")))
    return {"network": network, "address": address, "gateway": gateway, "dns": dns, "routes": routes}


def checked_host(host, networks):
    if not isinstance(host, dict) or set(host) != {"mac", "ip", "hostname"}:
        raise Refused("a host must have exactly mac, ip and hostname")
    address = ipv4(host["ip"], "a host's ip")
    if not any(address in network for network in networks):
        raise Refused(f"{address} is in none of the subnets served")
    name = host["hostname"]
    if not isinstance(name, str) or not HOSTNAME.match(name):
        raise Refused("a hostname must be one lowercase DNS label")
    return {"mac": mac(host["mac"]), "ip": address, "hostname": name}


def metadata_socket():
    """The socket the metadata service listens on, as the rig configured it, or None for no service."""
    try:
        with open(os.path.join(HERE, "metadata-socket"), encoding="utf-8") as file:
            path = file.readline().strip()
    except FileNotFoundError:
        return None
    if not re.match(r"/[A-Za-z0-9._/-]+\Z", path):
        raise Refused("the configured metadata socket is not a plain absolute path")
    return path


PORTED = {"tcp", "udp", "sctp"}
PROTOCOLS = PORTED | {"icmp"}


def checked_filter(entry):
    """One guest port's filter: its MAC and addresses, and the security-group rules that let traffic through."""
    if not isinstance(entry, dict) or set(entry) != {"port", "mac", "ips", "ingress", "egress"}:
        raise Refused("a filter must have exactly port, mac, ips, ingress and egress")
    uuid(entry["port"], "a filter's port")
    mac(entry["mac"])
    if not isinstance(entry["ips"], list) or not 1 <= len(entry["ips"]) <= 16:
        raise Refused("a filter's ips must be a list of 1 to 16")
    rules = {}
    for direction in ("ingress", "egress"):
        if not isinstance(entry[direction], list) or len(entry[direction]) > 1000:
            raise Refused(f"a filter's {direction} must be a list of at most 1000 rules")
        rules[direction] = [checked_rule(rule) for rule in entry[direction]]
    ips = [ipv4(ip, "a filter's ip") for ip in entry["ips"]]
    return {"port": entry["port"], "mac": entry["mac"], "ips": ips, **rules}


def checked_rule(rule):
    if not isinstance(rule, dict) or set(rule) != {"protocol", "min", "max", "remote"}:
        raise Refused("a rule must have exactly protocol, min, max and remote")
    protocol = rule["protocol"]
    if protocol is not None and protocol not in PROTOCOLS and not (
        isinstance(protocol, int) and not isinstance(protocol, bool) and 0 <= protocol <= 255
    ):
        raise Refused("a rule's protocol must be tcp, udp, sctp, icmp, a number from 0 to 255, or null")
    bounds = []
    for key in ("min", "max"):
        value = rule[key]
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 65535):
            raise Refused(f"a rule's {key} must be null or a number from 0 to 65535")
        bounds.append(value)
    if not isinstance(rule["remote"], list) or len(rule["remote"]) > 4096:
        raise Refused("a rule's remote must be a list of at most 4096 networks")
    remote = []
    for prefix in rule["remote"]:
        try:
            remote.append(ipaddress.IPv4Network(prefix))
        except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, TypeError, ValueError):
            raise Refused("a rule's remote must hold IPv4 networks") from None
    return {"protocol": protocol, "min": bounds[0], "max": bounds[1], "remote": remote}


def nft_set(values):
    return "{ " + ", ".join(str(value) for value in values) + " }"


def rule_line(rule, peer):
    """One rule as an nft statement; `peer` is `saddr` for ingress, `daddr` for egress."""
    if not rule["remote"]:
        return None  # a remote group with no member: nothing to let in
    parts = []
    if rule["remote"] != [ipaddress.IPv4Network("0.0.0.0/0")]:
        parts.append(f"ip {peer} {nft_set(rule['remote'])}")
    protocol, low, high = rule["protocol"], rule["min"], rule["max"]
    if protocol in PORTED:
        parts.append(f"meta l4proto {protocol}")
        if low is not None:
            top = high if high is not None else low
            parts.append(f"th dport {low}" if top == low else f"th dport {low}-{top}")
    elif protocol == "icmp":
        parts.append("meta l4proto icmp")
        if low is not None:
            parts.append(f"icmp type {low}")
            if high is not None:
                parts.append(f"icmp code {high}")
    elif protocol is not None:
        parts.append(f"meta l4proto {protocol}")
    return "    " + " ".join(parts + ["accept"])


def filter_table(network, filters):
    """The network's tables: what each guest port may send at all, then its traffic out and in by its rules."""
    name = "nimbus-" + network[:11]
    # Anti-spoofing, on the bridge itself (iifname is the port's tap): a guest sends from its own MAC
    # and its own addresses only (0.0.0.0 only to ask for a lease), and no IPv6, which no network
    # serves here and no rule would filter.
    lines = [f"table bridge {name} {{}}", f"delete table bridge {name}", f"table bridge {name} {{"]
    for entry in filters:
        short = entry["port"][:11]
        lines += [f"  chain port-{short} {{", f"    ether saddr != {entry['mac']} drop"]
        lines += [f"    arp saddr ether != {entry['mac']} drop"]
        lines += [f"    arp saddr ip != {nft_set(entry['ips'] + ['0.0.0.0'])} drop"]
        lines += ["    ip saddr 0.0.0.0 udp sport 68 udp dport 67 return"]
        lines += [f"    ether type ip ip saddr != {nft_set(entry['ips'])} drop"]
        lines += ["    ether type ip6 drop", "  }"]
    lines += ["  chain spoofing {", "    type filter hook prerouting priority -200; policy accept;"]
    lines += [f'    iifname "tap{f["port"][:11]}" jump port-{f["port"][:11]}' for f in filters]
    lines += ["  }", "}"]
    lines += [f"table inet {name} {{}}", f"delete table inet {name}", f"table inet {name} {{"]
    for entry in filters:
        short = entry["port"][:11]
        for direction, chain, peer, dhcp in (
            ("egress", "out", "daddr", "udp sport 68 udp dport 67 accept"),  # DHCP renewals
            ("ingress", "in", "saddr", "udp sport 67 udp dport 68 accept"),  # the DHCP server's answers
        ):
            lines += [f"  chain {chain}-{short} {{", "    ct state established,related accept"]
            lines += ["    ct state invalid drop", f"    {dhcp}"]
            lines += [line for line in (rule_line(rule, peer) for rule in entry[direction]) if line]
            lines += ["    drop", "  }"]
    # Two base chains on the forward hook (bridged traffic reaches it through br_netfilter): an
    # accept in the sender's egress chain still leaves the receiver's ingress chain to pass it.
    lines += ["  chain egress {", "    type filter hook forward priority 0; policy accept;"]
    lines += [f"    ip saddr {nft_set(f['ips'])} jump out-{f['port'][:11]}" for f in filters]
    lines += ["  }", "  chain ingress {", "    type filter hook forward priority 10; policy accept;"]
    lines += [f"    ip daddr {nft_set(f['ips'])} jump in-{f['port'][:11]}" for f in filters]
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def apply_filters(netns, network, filters):
    """Replaces the network's filter table in one nft transaction, so no packet sees half of it."""
    # Without br_netfilter on in the namespace, bridged traffic never meets the table: refuse rather
    # than leave every port open while it looks filtered.
    netfilter = run("ip", "netns", "exec", netns, "sysctl", "-n", "net.bridge.bridge-nf-call-iptables")
    if netfilter.strip() != "1":
        raise RuntimeError(f"bridged traffic in {netns} bypasses netfilter; security groups cannot be enforced")
    nft_apply(netns, filter_table(network, filters))


def nft_apply(ns, ruleset):
    """Loads a ruleset into a namespace's nftables in one transaction."""
    done = subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=ruleset, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"nft: {done.stderr.strip()}")


def remove_filters(netns, network):
    name = "nimbus-" + network[:11]
    for family in ("inet", "bridge"):
        subprocess.run(["ip", "netns", "exec", netns, "nft", "delete", "table", family, name], capture_output=True)


def wired(netns, network):
    """Whether a guest's tap is on the network's bridge now."""
    bridge = bridge_of(network)
    if not link_exists(bridge, netns):
        return False
    return any(is_guest(record(tap)) for tap in members_of(bridge, netns))


def dhcp(netns, network, raw, if_wired=False):
    uuid(network, "network")
    revision, port, subnets, hosts, filters = checked_config(raw)
    if if_wired and not wired(netns, network):
        # A refresh finds no guest here any more (an unplug tore the network down): nothing to serve.
        return
    paths = dhcp_paths(netns, network)
    socket = metadata_socket()
    try:
        with open(paths["revision"], encoding="utf-8") as file:
            if int(file.read().strip() or "-1") > revision:
                print(f"host-net: DHCP of {network} is at a newer revision already", file=sys.stderr)
                return
    except FileNotFoundError:
        pass

    bridge = ensure_bridge(network, netns)
    outer, inner = tap_of(port["id"]), "ns-" + port["id"][:11]
    if not netns_exists(paths["ns"]):
        ip("netns", "add", paths["ns"])
    ip("link", "set", "dev", "lo", "up", ns=paths["ns"])
    held = record(outer)
    if held and held != f"dhcp {network}":
        raise Refused(f"{outer} is not this network's DHCP port")
    if not link_exists(inner, paths["ns"]):
        remove_tap(outer, netns)
        ip("link", "add", outer, "type", "veth", "peer", "name", inner, "netns", paths["ns"], ns=netns)
    write_record(outer, f"dhcp {network}")
    ip("link", "set", "dev", outer, "master", bridge, "up", ns=netns)
    ip("link", "set", "dev", inner, "address", port["mac"], "up", ns=paths["ns"])
    wanted = {f"{subnet['address']}/{subnet['network'].prefixlen}" for subnet in subnets}
    if socket:
        wanted.add(f"{METADATA}/32")
    set_addresses(inner, paths["ns"], wanted)

    # dnsmasq reads its files as the unprivileged user it runs as.
    os.makedirs(paths["dir"], exist_ok=True)
    for folder in (os.path.join("/run", netns), os.path.join("/run", netns, "dhcp"), paths["dir"]):
        os.chmod(folder, 0o755)
    changed = write_if_changed(paths["hosts"], "".join(f"{h['mac']},{h['ip']},{h['hostname']}\n" for h in hosts))
    options = "".join(options_of(index, subnet, socket is not None) for index, subnet in enumerate(subnets))
    changed = write_if_changed(paths["opts"], options) or changed
    ranges = "".join(f"{subnet['network']}\n" for subnet in subnets)
    changed = write_if_changed(paths["ranges"], ranges) or changed
    if changed or running_pid(paths) is None:
        restart_dnsmasq(paths, inner, subnets)
    if socket:
        ensure_metadata_proxy(paths, network, socket)
    apply_filters(netns, network, filters)
    write_file(paths["revision"], f"{revision}\n")


def options_of(index, subnet, metadata):
    tag = f"tag:s{index}"
    lines = []
    if subnet["gateway"]:
        lines.append(f"{tag},option:router,{subnet['gateway']}")
    if subnet["dns"]:
        lines.append(f"{tag},option:dns-server," + ",".join(str(server) for server in subnet["dns"]))
    # The metadata address is this server's own, as Neutron serves it on a network without a router.
    routes = [(ipaddress.IPv4Network(f"{METADATA}/32"), subnet["address"])] if metadata else []
    routes += subnet["routes"]
    if routes:
        # A client that takes classless routes ignores the router option, so the default route goes too.
        routes = [f"{destination},{nexthop}" for destination, nexthop in routes]
        if subnet["gateway"]:
            routes.append(f"0.0.0.0/0,{subnet['gateway']}")
        lines.append(f"{tag},option:classless-static-route," + ",".join(routes))
    return "".join(line + "\n" for line in lines)


def write_if_changed(path, content):
    """Writes the file unless it holds this already; whether it wrote."""
    try:
        with open(path, encoding="utf-8") as file:
            if file.read() == content:
                return False
    except FileNotFoundError:
        pass
    write_file(path, content)
    return True


def write_file(path, content):
    partial = f"{path}.{os.getpid()}.tmp"
    with open(partial, "w", encoding="utf-8") as file:
        file.write(content)
    os.chmod(partial, 0o644)
    os.replace(partial, path)


def running_pid(paths, key="pid", program=b"dnsmasq"):
    """The pid in the pid file when that process is still the program started with this folder's files."""
    try:
        with open(paths[key], encoding="utf-8") as file:
            pid = int(file.read().strip())
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            argv = file.read().split(b"\0")
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    mine = paths["dir"].encode() in b" ".join(argv)
    return pid if argv and argv[0].endswith(program) and mine else None


def alive(pid):
    """Whether the process still runs: a zombie holds no socket or file any more, so it counts as gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as file:
            return file.read().rpartition(")")[2].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def wait_gone(pid, seconds):
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def stop_pid(pid):
    """Stops the process and returns once it is gone, so a successor can bind what it held."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if wait_gone(pid, 2):
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    if not wait_gone(pid, 5):
        raise RuntimeError(f"process {pid} did not stop")


def restart_dnsmasq(paths, interface, subnets):
    """Started anew on every change: leases of ports gone are forgotten, so an address moves at once."""
    pid = running_pid(paths)
    if pid is not None:
        stop_pid(pid)
    ranges = [
        f"--dhcp-range=set:s{index},{subnet['network'].network_address},static,"
        f"{subnet['network'].netmask},{LEASE_SECONDS}s"
        for index, subnet in enumerate(subnets)
    ]
    run(
        "ip", "netns", "exec", paths["ns"], "dnsmasq",
        "--conf-file=/dev/null", "--no-hosts", "--no-resolv", "--port=0",
        f"--interface={interface}", "--bind-interfaces", "--except-interface=lo",
        "--dhcp-authoritative", "--leasefile-ro",
        f"--pid-file={paths['pid']}", f"--dhcp-hostsfile={paths['hosts']}",
        f"--dhcp-optsfile={paths['opts']}", *ranges,
    )


def ensure_metadata_proxy(paths, network, socket):
    """haproxy in the DHCP namespace at 169.254.169.254:80, naming the network and the guest's address."""
    config = "\n".join(
        [
            "global",
            "    daemon",
            "    maxconn 256",
            f"    pidfile {paths['proxy_pid']}",
            "defaults",
            "    mode http",
            "    timeout connect 5s",
            "    timeout client 30s",
            "    timeout server 30s",
            "frontend metadata",
            f"    bind {METADATA}:80",
            "    http-request del-header X-Nimbus-Network-ID",
            "    http-request del-header X-Forwarded-For",
            f"    http-request set-header X-Nimbus-Network-ID {network}",
            "    option forwardfor",
            "    default_backend nimbus",
            "backend nimbus",
            f"    server metadata {socket}",
            "",
        ]
    )
    pid = running_pid(paths, "proxy_pid", b"haproxy")
    try:
        with open(paths["proxy"], encoding="utf-8") as file:
            unchanged = file.read() == config
    except FileNotFoundError:
        unchanged = False
    if pid is not None and unchanged:
        return
    if pid is not None:
        stop_pid(pid)
    write_file(paths["proxy"], config)
    run("ip", "netns", "exec", paths["ns"], "haproxy", "-q", "-f", paths["proxy"])


def stop_dhcp(netns, network):
    if not UUID.match(network or ""):
        return
    paths = dhcp_paths(netns, network)
    for pid in (running_pid(paths), running_pid(paths, "proxy_pid", b"haproxy")):
        if pid is not None:
            stop_pid(pid)
    if netns_exists(paths["ns"]):
        ip("netns", "del", paths["ns"])
    for tap in os.listdir(TAPS) if os.path.isdir(TAPS) else []:
        if record(tap) == f"dhcp {network}":
            remove_tap(tap, netns)
    remove_filters(netns, network)
    for name in ("hosts", "opts", "ranges", "pid", "revision", "proxy", "proxy_pid"):
        try:
            os.unlink(paths[name])
        except FileNotFoundError:
            pass
    try:
        os.rmdir(paths["dir"])
    except OSError:
        pass


# --- routers ------------------------------------------------------------------------------------------


STREAM = re.compile(r"[a-z]{1,20}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
MAX_ROUTERS = 64
MAX_ROUTES = 30  # Neutron's max_routes
NAT_TABLE = "nimbus-router"


def router_paths(netns, router):
    run_dir = os.path.join("/run", netns, "l3", router)
    return {"dir": run_dir, "parts": os.path.join(run_dir, "parts"), "ns": f"{netns}-router-{router[:11]}"}


def ipv4_network(value, what):
    try:
        return ipaddress.IPv4Network(value)
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, TypeError, ValueError):
        raise Refused(f"{what} must be an IPv4 network") from None


def exact(value, keys, what):
    if not isinstance(value, dict) or set(value) != set(keys):
        raise Refused(f"{what} must have exactly " + ", ".join(sorted(keys)))
    return value


def address_in(value, network, what):
    address = ipv4(value, what)
    if address not in network:
        raise Refused(f"{what} {address} is not in {network}")
    return address


def checked_routing(raw):
    """The routers read from stdin, every value in its exact form, or Refused."""
    try:
        config = json.loads(raw)
    except ValueError as error:
        raise Refused(f"the configuration is not JSON: {error}") from None
    routers = exact(config, {"routers"}, "the configuration")["routers"]
    if not isinstance(routers, list) or len(routers) > MAX_ROUTERS:
        raise Refused(f"routers must be a list of at most {MAX_ROUTERS}")
    checked = [checked_router(router) for router in routers]
    if len({router["id"] for router in checked}) != len(checked):
        raise Refused("a router is listed twice")
    return checked


def checked_router(router):
    exact(router, {"id", "versions", "interfaces", "gateway", "floating", "routes"}, "a router")
    uuid(router["id"], "a router's id")
    versions = router["versions"]
    if not isinstance(versions, dict) or not 1 <= len(versions) <= MAX_HOSTS:
        raise Refused(f"a router's versions must map 1 to {MAX_HOSTS} streams to revisions")
    for stream, revision in versions.items():
        if not STREAM.match(stream) or not isinstance(revision, int) or isinstance(revision, bool) or revision < 0:
            raise Refused("a router's versions must map stream names to non-negative revisions")
    interfaces = router["interfaces"]
    if not isinstance(interfaces, list) or not 1 <= len(interfaces) <= 16:
        raise Refused("a router's interfaces on the network must be a list of 1 to 16")
    checked_interfaces = []
    for interface in interfaces:
        exact(interface, {"port", "mac", "cidr", "address"}, "an interface")
        network = ipv4_network(interface["cidr"], "an interface's cidr")
        checked_interfaces.append(
            {
                "port": uuid(interface["port"], "an interface's port"),
                "mac": mac(interface["mac"]),
                "cidr": str(network),
                "address": str(address_in(interface["address"], network, "an interface's address")),
            }
        )
    gateway = router["gateway"]
    if gateway is not None:
        exact(gateway, {"port", "mac", "network", "cidr", "address", "nexthop", "snat"}, "a gateway")
        outside = ipv4_network(gateway["cidr"], "a gateway's cidr")
        if not isinstance(gateway["snat"], bool):
            raise Refused("a gateway's snat must be true or false")
        gateway = {
            "port": uuid(gateway["port"], "a gateway's port"),
            "mac": mac(gateway["mac"]),
            "network": uuid(gateway["network"], "a gateway's network"),
            "cidr": str(outside),
            "address": str(address_in(gateway["address"], outside, "a gateway's address")),
            "nexthop": None
            if gateway["nexthop"] is None
            else str(address_in(gateway["nexthop"], outside, "a gateway's next hop")),
            "snat": gateway["snat"],
        }
    floating = router["floating"]
    if not isinstance(floating, list) or len(floating) > MAX_HOSTS:
        raise Refused(f"a router's floating IPs must be a list of at most {MAX_HOSTS}")
    if floating and gateway is None:
        raise Refused("a router without a gateway holds no floating IP")
    inside = [ipaddress.IPv4Network(interface["cidr"]) for interface in checked_interfaces]
    checked_floating = []
    for entry in floating:
        exact(entry, {"address", "fixed"}, "a floating IP")
        address = address_in(entry["address"], ipaddress.IPv4Network(gateway["cidr"]), "a floating IP")
        fixed = ipv4(entry["fixed"], "a floating IP's fixed address")
        if not any(fixed in network for network in inside):
            raise Refused(f"the fixed address {fixed} is on none of the router's interfaces here")
        checked_floating.append({"address": str(address), "fixed": str(fixed)})
    routes = router["routes"]
    if not isinstance(routes, list) or len(routes) > MAX_ROUTES:
        raise Refused(f"a router's routes must be a list of at most {MAX_ROUTES}")
    checked_routes = []
    for route in routes:
        exact(route, {"destination", "nexthop"}, "a route")
        destination = ipv4_network(route["destination"], "a route's destination")
        checked_routes.append({"destination": str(destination), "nexthop": str(ipv4(route["nexthop"], "a next hop"))})
    return {
        "id": router["id"],
        "versions": versions,
        "interfaces": checked_interfaces,
        "gateway": gateway,
        "floating": checked_floating,
        "routes": checked_routes,
    }


def read_part(path):
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except FileNotFoundError:
        return None


def router_parts(netns, router):
    """The router's part for each network it has an interface on: network id to the part."""
    folder = router_paths(netns, router)["parts"]
    names = os.listdir(folder) if os.path.isdir(folder) else []
    return {name: read_part(os.path.join(folder, name)) for name in sorted(names) if UUID.match(name)}


def routers_in_place(netns):
    folder = os.path.join("/run", netns, "l3")
    return sorted(name for name in os.listdir(folder) if UUID.match(name)) if os.path.isdir(folder) else []


def older(held, offered):
    """Whether the offered part was read from an older revision of a stream than the part in place."""
    return any(stream in held and revision < held[stream] for stream, revision in offered.items())


def drop_router_part(netns, router, network):
    try:
        os.unlink(os.path.join(router_paths(netns, router)["parts"], network))
    except FileNotFoundError:
        pass


def l3(netns, network, raw, if_wired=False):
    uuid(network, "network")
    routers = checked_routing(raw)
    if if_wired and not wired(netns, network):
        return
    # Every port must be free or already this router's before anything is written.
    for router in routers:
        ports = [entry["port"] for entry in router["interfaces"]]
        ports += [router["gateway"]["port"]] if router["gateway"] else []
        for port in ports:
            assert_router_port(router["id"], port)
    touched = set()
    for router in routers:
        paths = router_paths(netns, router["id"])
        part = os.path.join(paths["parts"], network)
        held = read_part(part)
        if held is not None and older(held["versions"], router["versions"]):
            print(f"host-net: router {router['id']} on {network} is at a newer revision already", file=sys.stderr)
            continue
        os.makedirs(paths["parts"], mode=0o700, exist_ok=True)
        write_file(part, json.dumps(router, sort_keys=True))
        touched.add(router["id"])
    listed = {router["id"] for router in routers}
    for router in routers_in_place(netns):
        if router not in listed and network in router_parts(netns, router):
            drop_router_part(netns, router, network)
            touched.add(router)
    for router in sorted(touched):
        rebuild_router(netns, router)


def rebuild_router(netns, router):
    """The router's namespace made to match its parts: its ports, addresses, default route and NAT."""
    paths = router_paths(netns, router)
    parts = router_parts(netns, router)
    if not parts:
        remove_router(netns, router)
        return
    ns = paths["ns"]
    if not netns_exists(ns):
        ip("netns", "add", ns)
    ip("link", "set", "dev", "lo", "up", ns=ns)
    run("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
    # The gateway as the part read from the newest revision of the router says (the last written of equals).
    folder = paths["parts"]
    newest = parts[
        max(
            parts,
            key=lambda network: (
                parts[network]["versions"].get(f"router-{router}", 0),
                os.stat(os.path.join(folder, network)).st_mtime_ns,
            ),
        )
    ]
    gateway = newest["gateway"]
    ports = {}
    for network, part in parts.items():
        for interface in part["interfaces"]:
            prefix = ipaddress.IPv4Network(interface["cidr"]).prefixlen
            ports["qr-" + interface["port"][:11]] = (
                interface["port"], network, interface["mac"], {f"{interface['address']}/{prefix}"}
            )
    floating = [entry for part in parts.values() for entry in part["floating"]] if gateway else []
    if gateway:
        outside = ipaddress.IPv4Network(gateway["cidr"])
        addresses = {f"{gateway['address']}/{outside.prefixlen}"} | {f"{entry['address']}/32" for entry in floating}
        ports["qg-" + gateway["port"][:11]] = (gateway["port"], gateway["network"], gateway["mac"], addresses)
        ensure_outside(netns, gateway)
    for name, (port, network, address, addresses) in sorted(ports.items()):
        wire_router_port(netns, ns, router, name, port, network, address, addresses)
    for link in json.loads(ip("-j", "link", "show", ns=ns)):
        name = link["ifname"]
        if re.match(r"q[rg]-[0-9a-f-]{11}\Z", name) and name not in ports:
            delete_link(name, ns)  # its peer on the bridge goes with it
            forget("tap" + name[3:])
    if gateway and gateway["nexthop"]:
        ip("route", "replace", "default", "via", gateway["nexthop"], "dev", "qg-" + gateway["port"][:11], ns=ns)
    else:
        subprocess.run(["ip", "-n", ns, "route", "del", "default"], capture_output=True)
    set_extra_routes(ns, newest["routes"])
    nft_apply(ns, nat_table(gateway, floating))


def set_extra_routes(ns, routes):
    """The router's extra routes, kept apart from the kernel's and the default one as `proto static`."""
    wanted = {(route["destination"], route["nexthop"]) for route in routes}
    present = {
        (str(ipaddress.IPv4Network("0.0.0.0/0" if entry["dst"] == "default" else entry["dst"])), entry.get("gateway"))
        for entry in json.loads(ip("-j", "-4", "route", "show", "proto", "static", ns=ns))
    }
    for destination, nexthop in sorted(present - wanted):
        subprocess.run(["ip", "-n", ns, "route", "del", destination, "proto", "static"], capture_output=True)
    for destination, nexthop in sorted(wanted - present):
        # A next hop on a network whose part is not here yet cannot be reached: the route waits for it.
        added = subprocess.run(
            ["ip", "-n", ns, "route", "replace", destination, "via", nexthop, "proto", "static"],
            capture_output=True,
            text=True,
        )
        if added.returncode != 0:
            print(f"host-net: route to {destination} via {nexthop} waits: {added.stderr.strip()}", file=sys.stderr)


def assert_router_port(router, port):
    """Refused unless the port's tap is free or already the router's (never a guest's or DHCP's)."""
    held = record(tap_of(port))
    if held and not held.startswith(f"router {router} "):
        raise Refused(f"{tap_of(port)} is not a port of router {router}")


def wire_router_port(netns, ns, router, name, port, network, address, addresses):
    """A veth with `name` and `address` in the router's namespace, its peer on the network's bridge."""
    assert_router_port(router, port)
    outer = tap_of(port)
    if not link_exists(name, ns):
        remove_tap(outer, netns)
        ip("link", "add", outer, "type", "veth", "peer", "name", name, "netns", ns, ns=netns)
    write_record(outer, f"router {router} {network}")
    ip("link", "set", "dev", outer, "master", ensure_bridge(network, netns), "up", ns=netns)
    ip("link", "set", "dev", name, "address", address, "up", ns=ns)
    set_addresses(name, ns, addresses)


def ensure_outside(netns, gateway):
    """The external network's bridge, with the rig's namespace at its gateway address: the outside."""
    bridge = ensure_bridge(gateway["network"], netns)
    if gateway["nexthop"] is None:
        return
    wanted = f"{gateway['nexthop']}/{ipaddress.IPv4Network(gateway['cidr']).prefixlen}"
    if wanted not in addresses_of(bridge, netns):
        ip("addr", "add", wanted, "dev", bridge, ns=netns)


def outside(netns, network, raw):
    uuid(network, "network")
    try:
        config = json.loads(raw)
    except ValueError as error:
        raise Refused(f"the configuration is not JSON: {error}") from None
    exact(config, {"cidr", "gateway"}, "the configuration")
    subnet = ipv4_network(config["cidr"], "cidr")
    gateway = address_in(config["gateway"], subnet, "the gateway")
    ensure_outside(netns, {"network": network, "cidr": str(subnet), "nexthop": str(gateway)})


def nat_table(gateway, floating):
    """The router's NAT, replaced in one transaction: each floating IP both ways, then SNAT for the rest."""
    lines = [f"table ip {NAT_TABLE} {{}}", f"delete table ip {NAT_TABLE}", f"table ip {NAT_TABLE} {{"]
    lines += ["  chain prerouting {", "    type nat hook prerouting priority dstnat; policy accept;"]
    lines += [f"    ip daddr {entry['address']} dnat to {entry['fixed']}" for entry in floating]
    lines += ["  }", "  chain postrouting {", "    type nat hook postrouting priority srcnat; policy accept;"]
    if gateway:
        out = f'oifname "qg-{gateway["port"][:11]}"'
        lines += [f"    {out} ip saddr {entry['fixed']} snat to {entry['address']}" for entry in floating]
        if gateway["snat"]:
            lines.append(f"    {out} snat to {gateway['address']}")
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def remove_router(netns, router):
    paths = router_paths(netns, router)
    if netns_exists(paths["ns"]):
        ip("netns", "del", paths["ns"])  # its veths, and their peers on the bridges, go with it
    for tap in os.listdir(TAPS) if os.path.isdir(TAPS) else []:
        if record(tap).startswith(f"router {router} "):
            remove_tap(tap, netns)
    shutil.rmtree(paths["dir"], ignore_errors=True)


# --- entry --------------------------------------------------------------------------------------------


USAGE = {
    "prepare": "prepare <instance uuid> <port uuid>",
    "plug": "plug <port uuid> <network uuid>",
    "unplug": "unplug <instance uuid> [<port uuid>]",
    "dhcp": "dhcp <network uuid> [--if-wired] (configuration as JSON on stdin)",
    "l3": "l3 <network uuid> [--if-wired] (routers as JSON on stdin)",
    "outside": "outside <network uuid> (its cidr and gateway as JSON on stdin)",
}


def main(argv):
    os.environ["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
    with open(os.path.join(HERE, "netns"), encoding="utf-8") as file:
        netns = file.readline().strip()
    if not NETNS.match(netns):
        raise Refused("no valid rig network namespace is configured")
    caller = os.environ.get("SUDO_UID", "")
    if not caller.isdigit():
        raise Refused("run through sudo by a host user")
    if not argv or argv[0] not in USAGE:
        raise Refused("unknown verb; use " + ", ".join(USAGE))
    verb, args = argv[0], argv[1:]
    arity = {"prepare": (2,), "plug": (2,), "unplug": (1, 2), "dhcp": (1, 2), "l3": (1, 2), "outside": (1,)}[verb]
    if len(args) not in arity or (len(args) == 2 and verb in ("dhcp", "l3") and args[1] != "--if-wired"):
        raise Refused("usage: host-net " + USAGE[verb])
    # One verb at a time on the machine: an unplug that finds a bridge empty must not delete it under
    # a plug that has just made it.
    with open(os.path.join(HERE, "lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if verb == "prepare":
            prepare(caller, netns, *args)
        elif verb == "plug":
            plug(caller, netns, *args)
        elif verb == "unplug":
            unplug(caller, netns, *args)
        elif verb == "dhcp":
            dhcp(netns, args[0], sys.stdin.read(1 << 20), if_wired=args[1:] == ["--if-wired"])
        elif verb == "l3":
            l3(netns, args[0], sys.stdin.read(1 << 20), if_wired=args[1:] == ["--if-wired"])
        else:
            outside(netns, args[0], sys.stdin.read(1 << 16))


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Refused as refusal:
        print(f"host-net: {refusal}", file=sys.stderr)
        sys.exit(2)
