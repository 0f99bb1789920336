#!/bin/sh
# SPDX-License-Identifier: MIT
# systemd-analyze verify on the built unicornd.service, and its exposure
# score (goal <= 2.0). Skipped (77) where systemd-analyze cannot run.
set -u
unit="$1"
unicornd=$(readlink -f "$2")
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# verify checks that ExecStart= exists: point it at the built binary.
sed "s|^ExecStart=.*|ExecStart=$unicornd|" "$unit" > "$tmp/unicornd.service"
out=$(systemd-analyze verify --man=no "$tmp/unicornd.service" 2>&1)
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
sec=$(systemd-analyze security --offline=yes "$tmp/unicornd.service" 2>&1 | tail -1)
echo "$sec"
score=$(echo "$sec" | sed -n 's/.*exposure level for unicornd.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || { echo "could not read the exposure score"; exit 1; }
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || { echo "FAIL: exposure $score > 2.0"; exit 1; }
echo "PASS: verify ok, exposure $score"
