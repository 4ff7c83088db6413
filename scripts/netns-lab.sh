#!/bin/bash
# netns-lab.sh: several "hosts" on one machine in Linux network namespaces joined by a bridge, for multi-host tests.
#
#   sudo scripts/netns-lab.sh up              # namespaces PREFIX-a, -b, -c, -d at 10.77.0.1 … 10.77.0.4, bridged
#   sudo scripts/netns-lab.sh exec a CMD…     # run CMD on host a (e.g. ablate coordinator --bind tcp://10.77.0.1:5555 …)
#   sudo scripts/netns-lab.sh link b down     # cut host b's cable (and `up` to plug it back)
#   sudo scripts/netns-lab.sh down            # remove everything
#
# Settings (environment): ABLATE_NETNS_PREFIX (default ablate), ABLATE_NETNS_HOSTS (default "a b c d"),
# ABLATE_NETNS_SUBNET (first three octets, default 10.77.0). Each host namespace has lo and eth0 (a veth whose peer
# sits on bridge br0 in the namespace PREFIX-br); traffic never leaves these namespaces. Needs root and iproute2.
set -euo pipefail

prefix=${ABLATE_NETNS_PREFIX:-ablate}
hosts=${ABLATE_NETNS_HOSTS:-"a b c d"}
subnet=${ABLATE_NETNS_SUBNET:-10.77.0}
bridge="$prefix-br"

usage() { sed -n '4,7p' "$0" | sed 's/^#  *//' >&2; exit 2; }

down() {
    for host in $hosts; do ip netns del "$prefix-$host" 2>/dev/null || true; done
    ip netns del "$bridge" 2>/dev/null || true
}

up() {
    trap 'echo "netns-lab: setup failed; removing what was made" >&2; down' ERR
    ip netns add "$bridge"
    ip -n "$bridge" link set lo up
    ip -n "$bridge" link add br0 type bridge
    ip -n "$bridge" link set br0 up
    local index=1
    for host in $hosts; do
        local ns="$prefix-$host"
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        ip -n "$bridge" link add "v-$host" type veth peer name eth0 netns "$ns"
        ip -n "$bridge" link set "v-$host" master br0
        ip -n "$bridge" link set "v-$host" up
        ip -n "$ns" addr add "$subnet.$index/24" dev eth0
        ip -n "$ns" link set eth0 up
        echo "$host $ns $subnet.$index"
        index=$((index + 1))
    done
    trap - ERR
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    link)
        [ $# -eq 3 ] || usage
        case "$3" in up|down) ;; *) usage ;; esac
        ip -n "$bridge" link set "v-$2" "$3"
        ;;
    exec)
        [ $# -ge 3 ] || usage
        host=$2
        shift 2
        exec ip netns exec "$prefix-$host" "$@"
        ;;
    *) usage ;;
esac
