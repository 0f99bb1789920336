# SPDX-License-Identifier: MIT
#
# Sourced by tools/get-glslc and tools/get-lavapipe: fetches .debs of newer
# Debian suites and unpacks them into a build-local prefix, nothing
# installed system-wide. apt runs with its own state in a temporary
# directory, so the machine's sources and package database stay as they are.
#
# debs_fetch PREFIX "SUITE..." PKG[=VERSION]...
#   downloads the packages from the suites (e.g. "trixie trixie-backports")
#   into PREFIX/debs and unpacks every one of them into PREFIX/root.
# debs_loader PREFIX
#   prints the unpacked suite's dynamic loader, with which programs start on
#   its glibc (the newer libraries need it; programs built on Debian 12 run
#   on it too).
# debs_libdirs PREFIX
#   prints the unpacked library directories, colon-separated.

debs_fetch() {
        local prefix=$1 suites=$2 state s
        shift 2
        state=$(mktemp -d)
        mkdir -p "$prefix/debs" "$prefix/root" "$state/lists/partial" "$state/cache/archives/partial"
        for s in $suites; do
                echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $s main"
        done > "$state/sources.list"
        local o="-oDir::Etc::SourceList=$state/sources.list -oDir::Etc::SourceParts=/dev/null
                 -oDir::State::Lists=$state/lists -oDir::State::status=/dev/null -oDir::Cache=$state/cache
                 -oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oAPT::Sandbox::User=root"
        # shellcheck disable=SC2086
        if ! apt-get $o update >/dev/null 2>&1 ||
           ! (cd "$prefix/debs" && apt-get $o download "$@" >/dev/null 2>&1); then
                rm -rf "$state"
                return 1
        fi
        rm -rf "$state"
        for f in "$prefix"/debs/*.deb; do
                dpkg -x "$f" "$prefix/root" || return 1
        done
}

debs_loader() {
        ls "$1"/root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$1"/root/lib64/ld-linux-x86-64.so.2 2>/dev/null | head -1
}

debs_libdirs() {
        echo "$1/root/usr/lib/x86_64-linux-gnu:$1/root/lib/x86_64-linux-gnu"
}
