#!/bin/sh
# SPDX-License-Identifier: MIT
# systemd-analyze verify on the built unicorn-http.service + .socket, and
# the service's exposure score (goal <= 2.0). Skipped (77) where
# systemd-analyze cannot run.
set -u
unit="$1"
socket="$2"
binary=$(readlink -f "$3")
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# verify checks that ExecStart= exists: point it at the built binary.
sed "s|^ExecStart=.*|ExecStart=$binary|" "$unit" > "$tmp/unicorn-http.service"
cp "$socket" "$tmp/unicorn-http.socket"
out=$(cd "$tmp" && systemd-analyze verify --man=no "$tmp/unicorn-http.socket" "$tmp/unicorn-http.service" 2>&1)
rc=$?
echo "$out"
if [ $rc -ne 0 ]; then
        case "$out" in
        *"Failed to initialize manager"*|*"Failed to allocate manager"*|*"Operation not permitted"*)
                echo "SKIP: systemd-analyze cannot run here"; exit 77;;
        esac
        echo "FAIL: systemd-analyze verify"
        exit 1
fi
# Anything verify prints is a complaint about our units.
if echo "$out" | grep -q "unicorn-http"; then
        echo "FAIL: systemd-analyze verify complained"
        exit 1
fi
systemd-analyze security --offline=yes "$tmp/unicorn-http.service" > "$tmp/security.txt" 2>&1
grep -E '^✗' "$tmp/security.txt" || true
sec=$(tail -1 "$tmp/security.txt")
echo "$sec"
score=$(echo "$sec" | sed -n 's/.*exposure level for unicorn-http.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || { echo "could not read the exposure score"; cat "$tmp/security.txt"; exit 1; }
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || { echo "FAIL: exposure $score > 2.0"; exit 1; }
echo "PASS: verify ok, exposure $score"
