#!/usr/bin/env bash
# Install the system PostgreSQL 15 server with hypopg and pg_qualstats (Debian 12, as root).
# Idempotent and quiet: does nothing when everything is already installed.
set -euo pipefail

packages=(postgresql-15 postgresql-15-hypopg postgresql-15-pg-qualstats)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "setup-postgres.sh: must run as root to install ${missing[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Keep the packages from creating and starting a default cluster: tests run their own.
mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/queryreview.conf
# No init system in containers: make sure a service start attempted by the maintainer scripts is a no-op.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi

log="$(mktemp)"
run_quietly() {
    # Silent on success; on failure show what apt said.
    if ! "$@" >>"$log" 2>&1; then
        echo "setup-postgres.sh: failed: $*" >&2
        tail -n 40 "$log" >&2
        exit 1
    fi
}
run_quietly apt-get update -qq
run_quietly apt-get install -y -qq --no-install-recommends "${missing[@]}"
rm -f "$log"

for binary in initdb pg_ctl postgres; do
    if [ ! -x "/usr/lib/postgresql/15/bin/$binary" ]; then
        echo "setup-postgres.sh: /usr/lib/postgresql/15/bin/$binary missing after install" >&2
        exit 1
    fi
done
