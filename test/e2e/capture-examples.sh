#!/usr/bin/env bash
# Prints the real output used as examples in README.md and docs/: runs dmctl in a real-kernel guest
# (see guest/README.md) on two scratch disks. Run after `npm run build`; paste what it prints.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
script=$(mktemp)
trap 'rm -f "$script"' EXIT
cat >"$script" <<'SCENARIO'
export NO_COLOR=1
dmctl() { node "$PROJECT_ROOT/bin/dmctl.js" "$@"; }
echo '$ sudo dmctl init-direct /dev/ubda --dry-run'
dmctl init-direct /dev/ubda --dry-run 2>&1
echo '$ sudo dmctl init-direct /dev/ubda --yes'
dmctl init-direct /dev/ubda --yes 2>&1
echo '$ sudo dmctl status'
dmctl status 2>&1
echo '$ sudo dmctl init-direct /dev/ubda'
dmctl init-direct /dev/ubda 2>&1
mkfs.ext4 -q /dev/ubdb
echo '$ sudo dmctl init-direct /dev/ubdb --vg other'
dmctl init-direct /dev/ubdb --vg other 2>&1 || echo "(exit status $?)"
SCENARIO
"$here/guest/uml-run" --disk 1G --disk 256M "$script"
