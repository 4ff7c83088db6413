#!/bin/sh
# install.sh: installs the ablate binary, its systemd units, the ablate user and example settings on one host.
# Usage (as root):  deploy/install.sh [--binary PATH] [--prefix /usr/local] [--no-reload]
# Existing files under /etc/ablate are never overwritten. Nothing is started: see deploy/README.md.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
binary=""
prefix=/usr/local
reload=yes
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binary=$2; shift 2 ;;
        --prefix) prefix=$2; shift 2 ;;
        --no-reload) reload=no; shift ;;
        -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
if [ -z "$binary" ]; then
    for candidate in "$here/../.build/release/ablate" "$here/../.build/debug/ablate" "$(command -v ablate || true)"; do
        if [ -n "$candidate" ] && [ -x "$candidate" ]; then binary=$candidate; break; fi
    done
fi
[ -n "$binary" ] && [ -x "$binary" ] || { echo "install.sh: no ablate binary found; build with 'swift build -c release' or pass --binary PATH" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root (it creates a user and writes under /etc and $prefix)" >&2; exit 1; }

echo "binary: $binary -> $prefix/bin/ablate"
install -D -m 0755 "$binary" "$prefix/bin/ablate"

echo "completions: bash, zsh and fish under $prefix/share"
for shell in bash zsh fish; do
    case "$shell" in
        bash) target="$prefix/share/bash-completion/completions/ablate" ;;
        zsh) target="$prefix/share/zsh/site-functions/_ablate" ;;
        fish) target="$prefix/share/fish/vendor_completions.d/ablate.fish" ;;
    esac
    install -d -m 0755 "$(dirname "$target")"
    "$prefix/bin/ablate" --generate-completion-script "$shell" > "$target.tmp"
    chmod 0644 "$target.tmp"
    mv "$target.tmp" "$target"
done

if ! getent passwd ablate >/dev/null; then
    echo "user: creating the system user 'ablate'"
    useradd --system --home-dir /var/lib/ablate --no-create-home --shell /usr/sbin/nologin --user-group ablate
fi

echo "units: /etc/systemd/system/ablate-coordinator.service, ablate-worker@.service"
for unit in ablate-coordinator.service ablate-worker@.service; do
    sed "s#/usr/local/bin/ablate#$prefix/bin/ablate#g" "$here/$unit" > "/etc/systemd/system/$unit.tmp"
    chmod 0644 "/etc/systemd/system/$unit.tmp"
    mv "/etc/systemd/system/$unit.tmp" "/etc/systemd/system/$unit"
done

echo "config: /etc/ablate (examples; existing files kept)"
install -d -m 0755 /etc/ablate /etc/ablate/authorized-keys /etc/ablate/authorized-keys/workers /etc/ablate/authorized-keys/clients
install -d -m 0750 -o root -g ablate /etc/ablate/keys
for file in coordinator.env worker.env; do
    [ -e "/etc/ablate/$file" ] || install -m 0644 "$here/etc/$file" "/etc/ablate/$file"
done
install -d -m 0755 /srv/ablate /srv/ablate/sweeps /srv/ablate/data /srv/ablate/code

if [ "$reload" = yes ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
fi
cat <<'NEXT'
next steps (deploy/README.md):
  coordinator host: ablate keygen --out /etc/ablate/keys --name coordinator; chown ablate /etc/ablate/keys/coordinator.key
                    edit /etc/ablate/coordinator.env; systemctl enable --now ablate-coordinator   (serves a lab)
  GPU host:         ablate keygen --out /etc/ablate/keys --name worker; chown ablate /etc/ablate/keys/worker.key
                    copy coordinator.pub to /etc/ablate/keys/, worker.pub to the coordinator's /etc/ablate/authorized-keys/workers/HOST.pub
                    edit /etc/ablate/worker.env; systemctl enable --now ablate-worker@0 ablate-worker@1 ...
  researchers:      ablate keygen --out ~/.config/ablate --name NAME on their own machine; NAME.pub to the coordinator's
                    /etc/ablate/authorized-keys/clients/NAME.pub, then systemctl reload ablate-coordinator; ablate submit
  upgrading a single-sweep coordinator: ABLATE_COORDINATOR_ARGS="--sweep FILE" in coordinator.env for one start
NEXT
