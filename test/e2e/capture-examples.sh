#!/usr/bin/env bash
# Prints the real output quoted as examples in README.md and docs/: runs dmctl in a real-kernel guest
# (see guest/README.md) on scratch disks. Run after `npm run build`; paste what it prints.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
script=$(mktemp)
trap 'rm -f "$script"' EXIT
cat >"$script" <<'SCENARIO'
export NO_COLOR=1
dmctl() { node "$PROJECT_ROOT/bin/dmctl.js" "$@"; }
show() { echo "\$ sudo dmctl $*"; dmctl "$@" 2>&1 || echo "(exit status $?)"; echo; }
show init-direct /dev/ubda --dry-run
show init-direct /dev/ubda --yes
show status
show init-direct /dev/ubda
mkfs.ext4 -q /dev/ubdb
show init-direct /dev/ubdb --vg other
show extend /dev/ubdc --dry-run
show extend /dev/ubdc --yes
lvchange -an docker/thinpool
show reactivate --yes
show init-loop --data-size 10G --metadata-size 128M --consumer containerd --dry-run
show init-loop --data-size 10G --metadata-size 128M --consumer containerd --yes
show resize-loop +10G --dry-run
show resize-loop +10G --yes
show resize-loop 5G
dmsetup remove dmctl-pool; losetup -D
show reactivate --dry-run
show reactivate --yes
show status
SCENARIO
"$here/guest/uml-run" --disk 1G --disk 256M --disk 1G "$script"
