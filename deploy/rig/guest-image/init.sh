#!/bin/sh
# The /init of the Nimbus guest image: busybox sh, run by the kernel as process 1 from the initramfs.
# It proves guest networking: a DHCP lease on the first ethernet NIC, then the metadata service,
# each fact on one stable console line that deploy/rig/guest-image.ts parses (parseGuestConsole).
# Lines starting `nimbus-guest: ` are a contract with that parser: change both together.
# It must never exit (process 1 exiting panics the kernel) and never wait without a bound.

/bin/busybox --install -s /bin
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /run /tmp /etc

# Every line goes to /dev/console (the last console= on the command line: ttyS0, which libvirt logs),
# and to the screen as well when there is one, for whoever opens the VNC console.
say() {
  echo "$*"
  [ -c /dev/tty0 ] && echo "$*" >/dev/tty0 2>/dev/null
}

# The virtio modules, listed by the image builder in dependency order.
while read -r module; do
  [ -n "$module" ] || continue
  insmod "/lib/modules/$module.ko" || say "nimbus-guest: cannot load module $module"
done </etc/nimbus-modules
ip link set lo up

say "Nimbus guest booted"

# udhcpc's event script: applies a lease (address, routes, DNS) to $interface. Option 121
# (staticroutes), when given, replaces the router option, as RFC 3442 says.
cat >/etc/udhcpc.sh <<'SCRIPT'
#!/bin/sh
case "$1" in
deconfig)
  ip -4 addr flush dev "$interface"
  ip link set "$interface" up
  ;;
bound | renew)
  current=$(ip -4 -o addr show dev "$interface" scope global | sed -n 's/.* inet \([0-9.]*\/[0-9]*\) .*/\1/p')
  [ "$current" = "$ip/$mask" ] || ip -4 addr flush dev "$interface"
  ip addr replace "$ip/$mask" ${broadcast:+broadcast "$broadcast"} dev "$interface"
  if [ -n "$staticroutes" ]; then
    set -- $staticroutes
    while [ $# -ge 2 ]; do
      if [ "$2" = 0.0.0.0 ]; then
        ip route replace "$1" dev "$interface"
      else
        ip route replace "$1" via "$2" dev "$interface"
      fi
      shift 2
    done
  elif [ -n "$router" ]; then
    set -- $router
    ip route replace default via "$1" dev "$interface"
  fi
  {
    [ -n "$domain" ] && echo "search $domain"
    for server in $dns; do echo "nameserver $server"; done
  } >/etc/resolv.conf.new
  mv /etc/resolv.conf.new /etc/resolv.conf
  ;;
esac
exit 0
SCRIPT
chmod 0755 /etc/udhcpc.sh

# The first ethernet device (ARP hardware type 1) backed by real hardware, after up to 5 s for the
# driver to register it.
first_ethernet() {
  for dev in /sys/class/net/*; do
    [ -e "$dev/device" ] && [ "$(cat "$dev/type" 2>/dev/null)" = 1 ] && echo "${dev##*/}" && return 0
  done
  return 1
}

nic=
tries=0
while [ $tries -lt 50 ]; do
  nic=$(first_ethernet) && break
  tries=$((tries + 1))
  usleep 100000
done

# udhcpc tries 5 discovers 2 s apart, then gives up (-n); with a lease it goes to the background and
# keeps renewing it.
if [ -z "$nic" ]; then
  say "nimbus-guest: no ethernet NIC"
else
  ip link set "$nic" up
  if udhcpc -i "$nic" -s /etc/udhcpc.sh -O staticroutes -t 5 -T 2 -n -p /run/udhcpc.pid; then
    address=$(ip -4 -o addr show dev "$nic" scope global | sed -n 's/.* inet \([0-9.]*\/[0-9]*\) .*/\1/p' | head -n 1)
    gateway=$(ip -4 route show | sed -n 's/^default via \([0-9.]*\) .*/\1/p' | head -n 1)
    say "nimbus-guest: $nic address ${address:-none} gateway ${gateway:-none}"
  else
    say "nimbus-guest: $nic no DHCP lease"
  fi
fi

# Fetches $1 into $2 with up to $3 tries, 4 s each, 1 s apart. Debian 12's busybox is built
# without wget's own -T timeout (the option crashes it), so the timeout applet bounds each try.
fetch() {
  attempt=0
  while [ $attempt -lt "$3" ]; do
    rm -f "$2"
    timeout 4 wget -q -O "$2" "$1" 2>/dev/null && return 0
    attempt=$((attempt + 1))
    [ $attempt -lt "$3" ] && sleep 1
  done
  rm -f "$2"
  return 1
}

metadata=http://169.254.169.254/openstack/latest
if fetch "$metadata/meta_data.json" /run/meta_data.json 3; then
  name=$(tr -d '\n' </run/meta_data.json | sed -n 's/.*"hostname" *: *"\([^"]*\)".*/\1/p')
  if [ -n "$name" ]; then
    hostname "$name"
    say "nimbus-guest: metadata hostname $name"
  else
    say "nimbus-guest: metadata without hostname"
  fi
  # "public_keys": {"name": "ssh-ed25519 ...", ...}: the key names, one line each.
  tr -d '\n' </run/meta_data.json | sed -n 's/.*"public_keys" *: *{\([^}]*\)}.*/\1/p' |
    grep -o '"[^"]*" *: *"[^"]*"' | sed 's/^"\([^"]*\)".*/\1/' |
    while read -r key; do say "nimbus-guest: metadata public key $key"; done
  if fetch "$metadata/user_data" /run/user_data 1 && [ -s /run/user_data ]; then
    # Printable ASCII only (this busybox tr knows no [:print:]), so no byte can upset the console.
    say "nimbus-guest: user data $(head -n 1 /run/user_data | tr -cd ' -~' | cut -c 1-200)"
  fi
else
  say "nimbus-guest: metadata unavailable"
fi

say "nimbus-guest: ready"

# Process 1 stays; the kernel answers ping and udhcpc renews the lease without it.
while :; do
  sleep 3600
done
