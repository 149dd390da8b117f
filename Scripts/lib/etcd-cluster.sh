#!/usr/bin/env bash
# A 3-member etcd cluster whose peer traffic runs through Faultline, each member in its own
# network namespace. Used by Scripts/etcd-demo and by the integration tests.
#
#   etcd-cluster.sh up   DIR    create namespaces, start 3 etcd members and faultlined; write DIR/env
#   etcd-cluster.sh down DIR    stop what `up` started (by pid) and remove the namespaces
#
# Exit status of `up`: 0 ready; 3 etcd or faultlined missing; 4 network namespaces cannot be
# created here (no root, no CAP_NET_ADMIN); 5 the 10.NET.0.0/16 range is already in use or not
# routed to our veths; 1 anything else (the cluster did not become healthy). On any failure `up`
# has already undone what it did, and nothing was ever sent to 10.NET.x.x: no traffic is sent
# until every member address is checked to route through our own veth pairs, so a failed setup
# can never leak packets through the default route.
#
# Topology (TAG = short unique tag, NET = second octet, default 77, FL_NET overrides):
#   root namespace: faultlined listens on 10.NET.1.1 (the root side of member 1's veth, which
#                   every namespace reaches through its default route), one route per member
#                   peer port (12381..12383);
#   namespace <TAG>n<i>: veth 10.NET.<i>.2/24 (root side 10.NET.<i>.1), default route via root;
#                   etcd n<i> listens on 10.NET.<i>.2:2380 (peer) and :2379 (client), advertises
#                   its peer URL as http://10.NET.1.1:1238<i>, so every peer message crosses Faultline.
# Client traffic (etcdctl from the root namespace to 10.NET.<i>.2:2379) does not cross Faultline.
# Faultline learns which member is calling from the source address (the `nodes` map), so a
# partition between member names blocks exactly the links between them.
set -euo pipefail

cmd=${1:?usage: etcd-cluster.sh up|down DIR}
dir=${2:?usage: etcd-cluster.sh up|down DIR}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NET=${FL_NET:-77}

down() {
    [[ -f $dir/env ]] || return 0
    # shellcheck disable=SC1091
    source "$dir/env"
    local pidfile pid
    for pidfile in "$dir"/*.pid; do
        [[ -f $pidfile ]] || continue
        pid=$(cat "$pidfile")
        kill -TERM "$pid" 2>/dev/null || true
    done
    for _ in $(seq 1 20); do
        local alive=0
        for pidfile in "$dir"/*.pid; do
            [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null && alive=1
        done
        ((alive)) || break
        sleep 0.1
    done
    for pidfile in "$dir"/*.pid; do
        [[ -f $pidfile ]] || continue
        pid=$(cat "$pidfile")
        kill -KILL "$pid" 2>/dev/null || true
        rm -f "$pidfile"
    done
    for i in 1 2 3; do
        ip netns del "${TAG}n$i" 2>/dev/null || true
        ip link del "${TAG}h$i" 2>/dev/null || true
    done
}

fail() {  # fail STATUS MESSAGE: undo everything, explain, exit
    echo "etcd-cluster: $2" >&2
    down
    exit "$1"
}

up() {
    mkdir -p "$dir"
    command -v etcd >/dev/null && command -v etcdctl >/dev/null \
        || { echo "etcd-cluster: etcd not installed (apt-get install etcd-server etcd-client)" >&2; exit 3; }
    local faultlined=${FAULTLINED:-$root/.build/debug/faultlined}
    [[ -x $faultlined ]] || { echo "etcd-cluster: faultlined not built at $faultlined" >&2; exit 3; }
    [[ $NET =~ ^[0-9]+$ ]] && ((NET >= 0 && NET <= 255)) || { echo "etcd-cluster: FL_NET must be 0..255" >&2; exit 5; }
    # Nothing of 10.NET.0.0/16 may exist here yet: no address, no route but the default one.
    if [[ -n $(ip -4 addr show to "10.$NET.0.0/16" 2>/dev/null) ]]; then
        echo "etcd-cluster: addresses in 10.$NET.0.0/16 already exist here (another cluster up? run down, or set FL_NET)" >&2
        exit 5
    fi
    if ip -4 route show 2>/dev/null | grep -v '^default' | grep -q "^10\.$NET\."; then
        echo "etcd-cluster: 10.$NET.0.0/16 is already routed here; set FL_NET to another second octet" >&2
        exit 5
    fi
    local tag probe
    tag="fl$(printf '%04x' $((RANDOM % 65536)))"
    probe="${tag}probe"
    if ! ip netns add "$probe" 2>/dev/null; then
        echo "etcd-cluster: cannot create network namespaces here (needs root with CAP_SYS_ADMIN and CAP_NET_ADMIN)" >&2
        exit 4
    fi
    ip netns del "$probe"

    cat >"$dir/env" <<ENV
TAG=$tag
NET=$NET
HUB=10.$NET.1.1
CONTROL=$dir/control.sock
ENDPOINTS=http://10.$NET.1.2:2379,http://10.$NET.2.2:2379,http://10.$NET.3.2:2379
ENV
    trap 'fail 1 "setup failed at line $LINENO"' ERR
    for i in 1 2 3; do
        ip netns add "${tag}n$i"
        ip link add "${tag}h$i" type veth peer name "${tag}p$i"
        ip link set "${tag}p$i" netns "${tag}n$i"
        ip addr add "10.$NET.$i.1/24" dev "${tag}h$i"
        ip link set "${tag}h$i" up
        ip netns exec "${tag}n$i" ip addr add "10.$NET.$i.2/24" dev "${tag}p$i"
        ip netns exec "${tag}n$i" ip link set "${tag}p$i" up
        ip netns exec "${tag}n$i" ip link set lo up
        ip netns exec "${tag}n$i" ip route add default via "10.$NET.$i.1"
    done
    # The safety check: every member address must route through our veth, never elsewhere.
    for i in 1 2 3; do
        ip -4 route get "10.$NET.$i.2" | grep -q "dev ${tag}h$i " \
            || fail 5 "10.$NET.$i.2 does not route through ${tag}h$i: $(ip -4 route get "10.$NET.$i.2" | head -1)"
    done

    # Faultline: one route per member's peer port; callers named by their namespace address.
    cat >"$dir/faultline.json" <<JSON
{
  "version": 1,
  "seed": ${FL_SEED:-7},
  "workers": 2,
  "control": { "unix_socket": "$dir/control.sock" },
  "journal": "$dir/journal.jsonl",
  "limits": { "connect_timeout": "1s", "shutdown_grace": "1s" },
  "nodes": {
    "n1": { "addresses": ["10.$NET.1.2"] },
    "n2": { "addresses": ["10.$NET.2.2"] },
    "n3": { "addresses": ["10.$NET.3.2"] }
  },
  "routes": [
    { "name": "n1-peer", "listen": "10.$NET.1.1:12381", "upstream": "10.$NET.1.2:2380", "to": "n1" },
    { "name": "n2-peer", "listen": "10.$NET.1.1:12382", "upstream": "10.$NET.2.2:2380", "to": "n2" },
    { "name": "n3-peer", "listen": "10.$NET.1.1:12383", "upstream": "10.$NET.3.2:2380", "to": "n3" }
  ]
}
JSON
    "$faultlined" --config "$dir/faultline.json" --log-format json >"$dir/faultlined.log" 2>&1 &
    echo $! >"$dir/faultlined.pid"
    for _ in $(seq 1 100); do grep -q daemon.started "$dir/faultlined.log" && break; sleep 0.05; done
    grep -q daemon.started "$dir/faultlined.log" || { cat "$dir/faultlined.log" >&2; fail 1 "faultlined did not start"; }

    local cluster="n1=http://10.$NET.1.1:12381,n2=http://10.$NET.1.1:12382,n3=http://10.$NET.1.1:12383"
    for i in 1 2 3; do
        ip netns exec "${tag}n$i" etcd --name "n$i" --data-dir "$dir/n$i.etcd" \
            --listen-peer-urls "http://10.$NET.$i.2:2380" \
            --initial-advertise-peer-urls "http://10.$NET.1.1:1238$i" \
            --listen-client-urls "http://10.$NET.$i.2:2379" \
            --advertise-client-urls "http://10.$NET.$i.2:2379" \
            --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "$tag" \
            --heartbeat-interval 100 --election-timeout 1000 \
            >"$dir/n$i.log" 2>&1 &
        echo $! >"$dir/etcd-n$i.pid"
    done
    # Wait for a healthy cluster (bounded).
    for _ in $(seq 1 150); do
        if ETCDCTL_API=3 etcdctl --endpoints "http://10.$NET.1.2:2379,http://10.$NET.2.2:2379,http://10.$NET.3.2:2379" \
            --dial-timeout 1s --command-timeout 1s endpoint health >/dev/null 2>&1; then
            trap - ERR
            echo "cluster ready: $dir/env"
            return 0
        fi
        sleep 0.2
    done
    tail -5 "$dir"/n*.log >&2
    fail 1 "etcd cluster did not become healthy"
}

case $cmd in
    up) up ;;
    down) down ;;
    *) echo "usage: etcd-cluster.sh up|down DIR" >&2; exit 2 ;;
esac
