#!/usr/bin/env bash
# TLS on the failover link between two tandemd (tandemd.conf(5), FAILOVER,
# TLS): with certificates from a test CA both servers reach normal over TLS
# 1.3, and the capture of the link shows TLS records from the first byte and
# no failover message in the clear; a secondary whose certificate another CA
# signed is refused with the reason logged, and a primary that speaks plain
# TCP is refused by a TLS secondary (its CONNECT, the same checker then does
# see in the clear). `-t` checks the files. TAP. Run alone as root:
#   TLS_SERVER=build/tandemd bash failover_tls.sh     (default: SERVER)
#
#   bridge "lan" 192.0.2.0/24: pri 192.0.2.1 (port 647), sec 192.0.2.2 (port 847)
# ISC dhcpd has no TLS: with a SERVER that is not tandemd every case is skipped.
. "$(dirname "$0")/lib.sh"

TLS_SERVER=${TLS_SERVER:-$SERVER}
case $TLS_SERVER in */*) ;; *) TLS_SERVER=$(command -v "$TLS_SERVER" || echo "$TLS_SERVER") ;; esac
SERVER=$TLS_SERVER # what td_require checks
NAME=td-tls-pair   # the relationship name: CONNECT carries it, so plaintext would show it
MRD=5
WAIT=40            # seconds to reach normal, or to see a refusal

td_plan 12
td_require ip timeout python3 tcpdump openssl
if [ "$(SERVER_KIND=${TLS_SERVER_KIND:-} td_server_kind)" != tandem ]; then
    while [ "$TD_N" -lt "$TD_PLANNED" ]; do td_skip "failover TLS" "needs tandemd (ISC dhcpd has no TLS): TLS_SERVER=$TLS_SERVER"; done
    exit 0
fi

# ---- certificates: CA "ca" signs the pair, "otherca" a stranger ------------

pki=$TD_WORK/tls
mkdir -p "$pki"
ossl() { openssl "$@" >>"$pki/openssl.log" 2>&1 </dev/null; }
make_ca() {
    ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=Tandem test $1" \
        -keyout "$pki/$1.key" -out "$pki/$1.crt" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}
make_peer() { # NAME DNS CA
    printf '%s\n' basicConstraints=CA:FALSE keyUsage=critical,digitalSignature \
        extendedKeyUsage=serverAuth,clientAuth "subjectAltName=DNS:$2" >"$pki/$1.ext"
    ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
        -keyout "$pki/$1.key" -out "$pki/$1.csr" &&
        ossl x509 -req -days 2 -set_serial "$RANDOM$RANDOM" -in "$pki/$1.csr" -CA "$pki/$3.crt" \
            -CAkey "$pki/$3.key" -extfile "$pki/$1.ext" -out "$pki/$1.crt"
}
if make_ca ca && make_peer primary primary.test ca && make_peer secondary secondary.test ca &&
    make_ca otherca && make_peer stranger secondary.test otherca; then
    td_ok "test certificates: a CA for the pair, and a stranger signed by another CA"
else
    td_fail "test certificates" "$(tail -5 "$pki/openssl.log")"
    exit 1
fi

# ---- configurations ----------------------------------------------------------

master=$TD_WORK/dhcpd.master
cat >"$master" <<EOF
# failover_tls.sh: what both servers share (no TLS here: an ISC server could read it).
authoritative;
ddns-update-style none;
ping-check false;
default-lease-time 600;
max-lease-time 600;
subnet 192.0.2.0 netmask 255.255.255.0 {
  pool {
    failover peer "$NAME";
    range 192.0.2.100 192.0.2.199;
  }
}
EOF
# conf FILE ROLE CERT-NAME CA-NAME PEER-DNS: one host's file; CERT-NAME "" for plain TCP.
conf() {
    local file=$1 role=$2 cert=$3 ca=$4 pdns=$5
    {
        echo "failover peer \"$NAME\" {"
        echo "  $role;"
        if [ "$role" = primary ]; then
            echo "  address 192.0.2.1; port 647; peer address 192.0.2.2; peer port 847;"
            echo "  mclt 60; split 128;"
        else
            echo "  address 192.0.2.2; port 847; peer address 192.0.2.1; peer port 647;"
        fi
        echo "  max-response-delay $MRD; max-unacked-updates 10; load balance max seconds 3;"
        if [ -n "$cert" ]; then
            echo "  tls-certificate \"$pki/$cert.crt\";"
            echo "  tls-key \"$pki/$cert.key\";"
            echo "  tls-ca \"$pki/$ca.crt\";"
            echo "  tls-peer-name \"$pdns\";"
        fi
        echo "}"
        echo "include \"$master\";"
    } >"$file"
}
conf "$TD_WORK/pri.conf" primary primary ca secondary.test
conf "$TD_WORK/sec.conf" secondary secondary ca primary.test
conf "$TD_WORK/stranger.conf" secondary stranger ca primary.test
conf "$TD_WORK/plain.conf" primary "" "" ""
sed "s#$pki/primary.key#$pki/missing.key#" "$TD_WORK/pri.conf" >"$TD_WORK/broken.conf"

out=$TD_WORK/t.out
if "$TLS_SERVER" -t -v -cf "$TD_WORK/pri.conf" >"$out" 2>&1 && "$TLS_SERVER" -t -cf "$TD_WORK/sec.conf" >>"$out" 2>&1 &&
    grep -q "tls-certificate \"$pki/primary.crt\"" "$out" && grep -q "tls-peer-name secondary.test" "$out"; then
    td_ok "-t accepts both TLS configurations and -t -v shows the TLS settings"
else
    td_fail "-t accepts both TLS configurations and -t -v shows the TLS settings" "$(tail -5 "$out")"
fi
if ! "$TLS_SERVER" -t -cf "$TD_WORK/broken.conf" >"$out" 2>&1 &&
    grep -E -q "broken.conf:[0-9]+:[0-9]+: error: failover peer $NAME: tls-key $pki/missing.key: cannot open: No such file" "$out"; then
    td_ok "-t refuses a missing key file at its file:line:col"
else
    td_fail "-t refuses a missing key file at its file:line:col" "$(tail -5 "$out")"
fi

# ---- the pair over TLS -------------------------------------------------------

td_bridge lan
td_netns pri
td_netns sec
td_link pri eth0 lan && td_addr pri eth0 192.0.2.1/24
td_link sec eth0 lan && td_addr sec eth0 192.0.2.2/24

# capture NAME FILE: tcpdump of the failover ports on pri's eth0.
capture() {
    td_spawn "$1" pri tcpdump -i eth0 -n -U -s 0 -w "$2" 'tcp port 647 or tcp port 847'
    td_wait_log "$(td_log "$1")" 'listening on eth0' 10 "$(td_pid "$1")"
}
# start NAME NS CONF: tandemd with a control socket of its own.
start() {
    local SERVER_ARGS="${SERVER_ARGS:-} --control $TD_WORK/$1.ctl"
    td_server_start "$1" "$2" eth0 "$3" "$TD_WORK/$1.leases" "$TLS_SERVER"
}
moved_to() { # NAME STATE: the log says it moved to STATE
    grep -E -q "failover peer $NAME: I move from [a-z-]+ to $2( |\$)" "$(td_log "$1")"
}
moves() { grep -E -o "failover peer $NAME: I move from [a-z-]+ to [a-z-]+" "$(td_log "$1")" | sed 's/.* to //' | tr '\n' ' '; }
wait_normal() { # NAME SECONDS
    local end=$(($(date +%s) + $2))
    while ! moved_to "$1" normal; do
        td_running "$(td_pid "$1")" || return 1
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 0.2
    done
}

wire1=$TD_WORK/tls.pcap
capture tcpdump1 "$wire1" || td_diag "tcpdump did not start: the wire check will fail"
if start pri pri "$TD_WORK/pri.conf" && start sec sec "$TD_WORK/sec.conf"; then
    td_ok "both servers start with TLS on the failover link"
else
    td_fail "both servers start with TLS on the failover link" "$TD_START_ERROR"
    td_diag_file "$(td_log pri)" 20
    td_diag_file "$(td_log sec)" 20
    exit 1
fi
for s in pri sec; do
    if wait_normal "$s" "$WAIT"; then
        td_ok "$s reaches normal over TLS (states: $(moves "$s"))"
    else
        td_fail "$s reaches normal over TLS within $WAIT s" "states: $(moves "$s")"
        td_diag_file "$(td_log "$s")" 25
    fi
done
if grep -q "failover peer $NAME: TLS with 192.0.2.2 established (TLSv1.3 .*peer CN=secondary.test" "$(td_log pri)" &&
    grep -q "failover peer $NAME: TLS with 192.0.2.1 established (TLSv1.3 .*peer CN=primary.test" "$(td_log sec)"; then
    td_ok "both logs show TLS 1.3 with the partner's certificate ($(grep -o 'TLSv1.3 [A-Z0-9_]*' "$(td_log pri)" | head -1))"
else
    td_fail "both logs show TLS 1.3 with the partner's certificate" \
        "pri: $(grep 'TLS' "$(td_log pri)" | head -2 | tr '\n' '|')" "sec: $(grep 'TLS' "$(td_log sec)" | head -2 | tr '\n' '|')"
fi
sleep $((MRD)) # some CONTACTs too
td_stop tcpdump1
td_check "the failover link carries TLS records from the first byte, and no failover message in the clear" \
    python3 "$TD_LIB_DIR/tls_wire.py" tls "$wire1" 647,847 "$NAME"

# ---- a stranger's certificate ------------------------------------------------

td_server_stop sec
mark=$(wc -l <"$(td_log pri)")
start stranger sec "$TD_WORK/stranger.conf" || td_diag "the stranger did not start: $TD_START_ERROR"
refused="failover peer $NAME: TLS handshake with 192.0.2.2 failed: certificate verify failed"
if td_wait_log "$(td_log pri)" "$refused" "$WAIT" "$(td_pid pri)"; then
    td_ok "the primary refuses a certificate another CA signed: $(grep -o "$refused.*" "$(td_log pri)" | head -1 | sed 's/.*failed: //')"
else
    td_fail "the primary refuses a certificate another CA signed, with the reason logged" \
        "$(tail -n +"$((mark + 1))" "$(td_log pri)" | grep -i tls | head -3 | tr '\n' '|')"
fi
sleep $((2 * MRD)) # two more connection attempts each way
if ! moved_to stranger normal && ! tail -n +"$((mark + 1))" "$(td_log pri)" | grep -q "TLS with 192.0.2.2 established"; then
    td_ok "the stranger never gets a session with the primary (states: $(moves stranger))"
else
    td_fail "the stranger never gets a session with the primary" "states: $(moves stranger)"
fi
td_server_stop stranger

# ---- a plain-TCP primary -----------------------------------------------------
# Only the primary sends CONNECT (ISC's rule), so the plain peer is a primary
# here: its CONNECT is what a TLS secondary must refuse, and what the capture
# must then show in the clear.

td_server_stop pri
wire2=$TD_WORK/plain.pcap
capture tcpdump2 "$wire2" || td_diag "tcpdump did not start: the plaintext control will fail"
start tlssec sec "$TD_WORK/sec.conf" || td_diag "the TLS secondary did not start: $TD_START_ERROR"
start plain pri "$TD_WORK/plain.conf" || td_diag "the plain primary did not start: $TD_START_ERROR"
refused="failover peer $NAME: TLS handshake with 192.0.2.1 failed: "
# The plain primary's CONNECT arrives where a TLS record should; a reason other
# than the plain side hanging up on our ClientHello (the other direction).
plain_refused() { grep "$refused" "$(td_log tlssec)" | grep -v -q "connection closed by the peer during the handshake"; }
end=$(($(date +%s) + WAIT))
while ! plain_refused && td_running "$(td_pid tlssec)" && [ "$(date +%s)" -lt "$end" ]; do sleep 0.2; done
if plain_refused; then
    td_ok "a TLS secondary refuses a primary speaking plain TCP: $(grep "$refused" "$(td_log tlssec)" | sed 's/.*failed: //' | sort -u | tr '\n' '|')"
else
    td_fail "a TLS secondary refuses a primary speaking plain TCP, with the reason logged" \
        "$(grep -i -E 'tls|protocol' "$(td_log tlssec)" | tail -5 | tr '\n' '|')"
fi
sleep $((2 * MRD))
td_stop tcpdump2
plainout=$TD_WORK/plain.wire
if python3 "$TD_LIB_DIR/tls_wire.py" plain "$wire2" 647,847 "$NAME" >"$plainout" 2>&1 && ! moved_to plain normal &&
    ! moved_to tlssec normal; then
    td_ok "neither reaches normal; the plain CONNECT shows in the clear on the wire (the checker sees plaintext)"
else
    mapfile -t lines <"$plainout"
    td_fail "neither reaches normal; the plain CONNECT shows in the clear" "plain: $(moves plain)" \
        "tls secondary: $(moves tlssec)" "${lines[@]}"
fi
