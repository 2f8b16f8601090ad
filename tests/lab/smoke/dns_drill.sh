#!/bin/bash
# DNS smoke test with drill, a second client beside dnspython: the AD bit on the flags line
# for secure and insecure answers, SERVFAIL for bogus data and NOERROR for it with CD=1.
set -euo pipefail
RUN=${DANESCAN_LAB_DIR:-/tmp/danescan-lab}
[[ -f $RUN/lab.json ]] || { echo "FAIL: no lab at $RUN; run tests/lab/up first"; exit 1; }
RESOLVER=127.53.1.1
failed=0

# expect NAME TYPE RCODE AD(yes|no) [drill options...]
expect() {
  local out rcode flags ad
  out=$(drill -D "${@:5}" @"$RESOLVER" "$1" "$2" 2>&1) || true
  rcode=$(sed -n 's/.*rcode: \([A-Z]*\),.*/\1/p' <<<"$out")
  flags=$(sed -n 's/^;; flags: \([^;]*\);.*/\1/p' <<<"$out")
  ad=no; [[ " $flags " == *" ad "* ]] && ad=yes
  if [[ $rcode == "$3" && $ad == "$4" ]]; then
    echo "ok   $1 $2 ${*:5}: $rcode, AD $ad"
  else
    echo "FAIL $1 $2 ${*:5}: got rcode '${rcode}' AD $ad (flags: $flags), want $3 AD $4"
    failed=1
  fi
}

expect mx.labdns-signed.test A NOERROR yes
expect _25._tcp.mx.labdns-signed.test TLSA NOERROR yes
expect _25._tcp.missing.labdns-signed.test TLSA NXDOMAIN yes
expect mx.labdns-unsigned.test A NOERROR no
expect mx.labdns-bogus.test A SERVFAIL no
expect mx.labdns-bogus.test A NOERROR no -o CD
expect mx.labdns-expired.test A SERVFAIL no
expect mx.labdns-dsmismatch.test A SERVFAIL no
expect mx.labdns-outlook.test CNAME SERVFAIL no
exit $failed
