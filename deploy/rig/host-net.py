#!/usr/bin/python3 -I
"""The rig's privileged network helper.

What a host's compute agent may do as root to wire its guests into the rig's network namespace, run
through `sudo -n` by the host users only (the rig's sudoers rule names this file and nothing else).
Installed root-owned beside its state:
  <dir>/netns          the name of the rig's network namespace (one line)
  <dir>/taps/<tap>     "<owner uid> <instance uuid>" for a guest's tap, "dhcp <network uuid>" for a DHCP port's

  host-net prepare <instance> <port>   a tap for the port in the machine's namespace, owned by the
                                       caller, for the guest's QEMU to open (again)
  host-net plug <port> <network>       the tap moved into the rig's namespace, on the network's bridge
  host-net unplug <instance>           the instance's taps gone; a network left with no guest loses
                                       its DHCP server and its bridge
  host-net dhcp <network> [--if-wired] the network's DHCP server (dnsmasq, in a namespace of its own
                                       on the network's bridge) and, when the rig has a metadata
                                       service (<dir>/metadata-socket), its proxy at 169.254.169.254
                                       (haproxy, naming the network and the guest's address to the
                                       service), set to the JSON read from stdin:
                                       {"revision", "port": {"id", "mac"}, "subnets": [{"cidr",
                                       "address", "gateway", "dns", "routes"}], "hosts": [{"mac",
                                       "ip", "hostname"}], "filters": [{"port", "ips", "ingress",
                                       "egress"}]}; an older revision than the one in place changes
                                       nothing; with --if-wired, a network with no guest's tap on
                                       its bridge is left as it is. The filters are the network's security groups: an
                                       nftables table in the rig's namespace where each guest port's
                                       traffic passes its own rules (stateful; DHCP always passes)

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


def remove_tap(tap, netns):
    if link_exists(tap, netns):
        ip("link", "del", "dev", tap, ns=netns)
    if link_exists(tap):
        ip("link", "del", "dev", tap)
    try:
        os.unlink(os.path.join(TAPS, tap))
    except FileNotFoundError:
        pass


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
    if held and held != f"{caller} {instance}":
        raise Refused(f"{tap} belongs to another instance")
    if not held:
        remove_tap(tap, netns)  # not known to be the caller's: made anew
    write_record(tap, f"{caller} {instance}")
    # QEMU opens the tap by name in its own (the machine's) namespace.
    if link_exists(tap, netns):
        ip("link", "del", "dev", tap, ns=netns)
    if not link_exists(tap):
        ip("tuntap", "add", "dev", tap, "mode", "tap", "user", caller)


def plug(caller, netns, port, network):
    tap = tap_of(uuid(port, "port"))
    uuid(network, "network")
    held = record(tap)
    if not held or held.split(" ")[0] != caller:
        raise Refused(f"{tap} was not prepared by this host")
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


def unplug(caller, netns, instance):
    uuid(instance, "instance")
    emptied = set()
    if os.path.isdir(TAPS):
        for tap in sorted(os.listdir(TAPS)):
            if record(tap) == f"{caller} {instance}":
                emptied.add(master_of(tap, netns))
                remove_tap(tap, netns)
    # Only the bridges this unplug took a guest from: a network another host is still wiring (its DHCP
    # served, its guest not yet plugged) is not this unplug's to tear down.
    for bridge in sorted(name for name in emptied if name in bridges(netns)):
        members = members_of(bridge, netns)
        guests = [tap for tap in members if not record(tap).startswith("dhcp ")]
        if guests:
            continue
        for tap in members:
            stop_dhcp(netns, record(tap).split(" ")[1])
        if link_exists(bridge, netns):
            ip("link", "del", "dev", bridge, ns=netns)


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
    """One guest port's security-group filter: its addresses and the rules that let traffic through."""
    if not isinstance(entry, dict) or set(entry) != {"port", "ips", "ingress", "egress"}:
        raise Refused("a filter must have exactly port, ips, ingress and egress")
    uuid(entry["port"], "a filter's port")
    if not isinstance(entry["ips"], list) or not 1 <= len(entry["ips"]) <= 16:
        raise Refused("a filter's ips must be a list of 1 to 16")
    rules = {}
    for direction in ("ingress", "egress"):
        if not isinstance(entry[direction], list) or len(entry[direction]) > 1000:
            raise Refused(f"a filter's {direction} must be a list of at most 1000 rules")
        rules[direction] = [checked_rule(rule) for rule in entry[direction]]
    return {"port": entry["port"], "ips": [ipv4(ip, "a filter's ip") for ip in entry["ips"]], **rules}


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
    """The network's table: each guest port's traffic out and in, through its own chain, by its address."""
    name = "nimbus-" + network[:11]
    lines = [f"table inet {name} {{}}", f"delete table inet {name}", f"table inet {name} {{"]
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
    done = subprocess.run(
        ["ip", "netns", "exec", netns, "nft", "-f", "-"],
        input=filter_table(network, filters),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"nft: {done.stderr.strip()}")


def remove_filters(netns, network):
    name = "nimbus-" + network[:11]
    subprocess.run(["ip", "netns", "exec", netns, "nft", "delete", "table", "inet", name], capture_output=True)


def wired(netns, network):
    """Whether a guest's tap is on the network's bridge now."""
    bridge = bridge_of(network)
    if not link_exists(bridge, netns):
        return False
    return any(not record(tap).startswith("dhcp ") for tap in members_of(bridge, netns))


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
    present = {
        f"{entry['local']}/{entry['prefixlen']}"
        for link in json.loads(ip("-j", "-4", "addr", "show", "dev", inner, ns=paths["ns"]))
        for entry in link.get("addr_info", [])
    }
    for address in sorted(present - wanted):
        ip("addr", "del", address, "dev", inner, ns=paths["ns"])
    for address in sorted(wanted - present):
        ip("addr", "add", address, "dev", inner, ns=paths["ns"])

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


def stop_pid(pid):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)


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


# --- entry --------------------------------------------------------------------------------------------


USAGE = {
    "prepare": "prepare <instance uuid> <port uuid>",
    "plug": "plug <port uuid> <network uuid>",
    "unplug": "unplug <instance uuid>",
    "dhcp": "dhcp <network uuid> [--if-wired] (configuration as JSON on stdin)",
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
    arity = {"prepare": (2,), "plug": (2,), "unplug": (1,), "dhcp": (1, 2)}[verb]
    if len(args) not in arity or (verb == "dhcp" and len(args) == 2 and args[1] != "--if-wired"):
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
        else:
            dhcp(netns, args[0], sys.stdin.read(1 << 20), if_wired=args[1:] == ["--if-wired"])


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Refused as refusal:
        print(f"host-net: {refusal}", file=sys.stderr)
        sys.exit(2)
