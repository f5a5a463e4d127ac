#!/usr/bin/env bash
# record-fixtures.sh — re-record dmctl's parser fixtures from a real kernel (UML guest, see guest/README.md).
#
#   test/e2e/record-fixtures.sh            # needs root, test/e2e/setup done; takes ~1 min
#   test/e2e/record-fixtures.sh --profile rhel-8      # a distribution-matrix profile (test/compat/profiles.json):
#                                                     # its tools first on PATH, into its own folder
#   test/e2e/record-fixtures.sh --path DIR[:DIR] [--devicesfile] --out test/fixtures/NAME
#
# --path puts those directories first on the guest's PATH (lvm, dmsetup, losetup, lsblk, wipefs of another
# release, built by test/compat/build.sh); --devicesfile sets devices/use_devicesfile=1 in the guest's
# lvm.conf for the whole run (RHEL 9's default); --out picks the fixture folder (default below).
#
# Boots one guest with four 1 GiB scratch disks, builds real LVM / dm states in it and saves the
# plain stdout of each command (byte-exact) as test/fixtures/lvm-2.03.16-uml-6.1/<name>.txt.
# When a command writes to stderr it is kept as <name>.stderr.txt; a non-zero exit status goes to
# <name>.rc. README.md in that directory lists every file with its state and argv. Older copies of the
# files named in this run are replaced; other files in the directory are left alone.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
root=$(cd "$here/../.." && pwd -P)
out=$root/test/fixtures/lvm-2.03.16-uml-6.1
tools=
COMPAT_NAME=
COMPAT_TARBALLS=
devfile=0
profile=
while (($#)); do
  case $1 in
    --profile) profile=$2; shift 2 ;;
    --path) tools=$2; shift 2 ;;
    --devicesfile) devfile=1; shift ;;
    --out) out=$2; [[ $out == /* ]] || out=$root/$out; shift 2 ;;
    *) echo "record-fixtures: unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [[ -n $profile ]]; then
  vars=$(node "$root/test/compat/profile.mjs" "$profile") || exit 2
  eval "$vars"
  tools=$COMPAT_PATH
  devfile=$COMPAT_DEVICESFILE
  out=$root/test/fixtures/$COMPAT_FIXTURES
fi
stage=$(mktemp -d "${TMPDIR:-/tmp}/dmctl-fixtures.XXXXXX")
scenario=$stage.sh
trap 'rm -rf "$stage" "$scenario"' EXIT

printf 'stage=%q\ntools=%q\ndevfile=%q\n' "$stage" "$tools" "$devfile" >"$scenario"
cat >>"$scenario" <<'GUEST'
set -uo pipefail
export LVM_SUPPRESS_FD_WARNINGS=1
[[ -z $tools ]] || export PATH="$tools:$PATH"
# A profile's devices file setting, for the whole run (written without spaces: the devicesfile state
# below adds and removes its own "\tuse_devicesfile = 1" line).
((devfile == 0)) || sed -i -e 's/^devices {/&\n\tuse_devicesfile=1/' /etc/lvm/lvm.conf
# The devices file exists from lvm2 2.03.12 on.
has_devfile=0
lvm lvmdevices --help >/dev/null 2>&1 && has_devfile=1
{ echo "PATH=$PATH"; for t in lvm dmsetup losetup lsblk wipefs blkid; do echo "$t=$(command -v $t)"; done; } >"$stage/TOOLS"
state=
step() { echo "+ $*" >&2; "$@" >&2 || { echo "record: setup step failed (rc=$?): $*" >&2; exit 1; }; }
argv() {   # shell-quote only the words that need it
  local a out=()
  for a; do if [[ $a =~ ^[A-Za-z0-9_./:,%=+@-]+$ ]]; then out+=("$a"); else out+=("$(printf %q "$a")"); fi; done
  echo "${out[*]}"
}
# cap NAME ARGV... — stdout → NAME.txt; stderr → NAME.stderr.txt if any; rc → NAME.rc if non-zero
cap() {
  local name=$1 rc=0; shift
  "$@" >"$stage/$name.txt" 2>"$stage/$name.stderr.txt" || rc=$?
  [[ -s $stage/$name.stderr.txt ]] || rm -f "$stage/$name.stderr.txt"
  ((rc == 0)) || echo "$rc" >"$stage/$name.rc"
  printf '%s\t%s\t%s\t%s\n' "$name" "$state" "$(argv "$@")" "$rc" >>"$stage/MANIFEST"
  ((rc == 0)) || { echo "record: $name: rc=$rc: $*" >&2; sed 's/^/    /' "$stage/$name.stderr.txt" >&2 2>/dev/null; }
}
report() {   # report STATE-SUFFIX — the LVM and dm-thin captures of one state
  local s=$1
  cap "pvs-$s" pvs --reportformat json --units b --nosuffix -o pv_name,vg_name,pv_size,pv_free,pv_attr
  cap "vgs-$s" vgs --reportformat json --units b --nosuffix \
    -o vg_name,vg_attr,vg_size,vg_free,vg_extent_size,vg_extent_count,vg_free_count,pv_count,lv_count
  cap "lvs-$s" lvs --reportformat json --units b --nosuffix \
    -o vg_name,lv_name,lv_attr,lv_size,segtype,pool_lv,data_percent,metadata_percent,lv_metadata_size,chunk_size,transaction_id,seg_monitor,lv_profile,lv_when_full,lv_health_status,lv_dm_path,vg_free,vg_extent_size
  dmcaps "$s"
}
dmcaps() {
  cap "dmsetup-table-$1" dmsetup table --target thin-pool
  cap "dmsetup-status-$1" dmsetup status --target thin-pool
}
LOSETUP=(losetup --json --list -O NAME,BACK-FILE,MAJ:MIN,SIZELIMIT,OFFSET,RO)
looppool_up() {   # bare dm thin pool on two loop devices (no LVM), as Docker's loop-lvm does
  mkdir -p /var/lib/dmctl-loop
  step truncate -s 1G /var/lib/dmctl-loop/data
  step truncate -s 64M /var/lib/dmctl-loop/metadata
  step dd if=/dev/zero of=/var/lib/dmctl-loop/metadata bs=4096 count=1 conv=notrunc status=none
  datadev=$(losetup --find --show /var/lib/dmctl-loop/data)
  metadev=$(losetup --find --show /var/lib/dmctl-loop/metadata)
  sectors=$(blockdev --getsz "$datadev")
  step dmsetup create dmctl-pool --table "0 $sectors thin-pool $metadev $datadev 128 32768 1 skip_block_zeroing"
}
looppool_down() {
  step dmsetup remove dmctl-pool
  step losetup -d "$datadev" "$metadev"
  rm -rf /var/lib/dmctl-loop
}

state=any
cap lvm-version lvm version
cap dmsetup-version dmsetup version
cap losetup-version losetup --version
cap lsblk-version lsblk --version
cap wipefs-version wipefs --version
cap lvmconfig-profile-dir lvmconfig --typeconfig full config/profile_dir
cap thin-check-version thin_check -V
LAYOUT=(devices/data_alignment devices/default_data_alignment devices/data_alignment_detection
  devices/data_alignment_offset_detection devices/md_chunk_alignment metadata/pvmetadatacopies metadata/pvmetadatasize)
cap lvmconfig-layout lvmconfig --typeconfig full "${LAYOUT[@]}"
PVS_ALL=(pvs --devicesfile "" --reportformat json --units b --nosuffix -o pv_name,vg_name,pv_size,pv_free,pv_attr)
command -v dockerd >/dev/null && cap dockerd-version dockerd --version
command -v containerd >/dev/null && cap containerd-version containerd --version

state="empty: no PVs, fresh /dev/ubda"
report empty
cap losetup-empty "${LOSETUP[@]}"
echo "$(cat "$stage/losetup-empty.rc" 2>/dev/null || echo 0)" >"$stage/losetup-empty.rc"
cap lsblk-fresh lsblk --json --bytes --paths -o NAME,TYPE,SIZE,MOUNTPOINT /dev/ubda
cap wipefs-fresh wipefs --no-act --json /dev/ubda

state="looppool: bare dm thin pool dmctl-pool on loop devices (data 1G, metadata 64M), no LVM"
looppool_up
dmcaps looppool
looppool_down

state="vg: pvcreate -y /dev/ubda; vgcreate docker /dev/ubda"
step pvcreate -y /dev/ubda
step vgcreate docker /dev/ubda
report vg
cap wipefs-pv wipefs --no-act --json /dev/ubda

state="pool: guide's direct-lvm thin pool docker/thinpool (95%VG, meta 1%VG, 512K chunks, profile, monitored)"
step lvcreate --wipesignatures y -n thinpool docker -l 95%VG
step lvcreate --wipesignatures y -n thinpoolmeta docker -l 1%VG
step lvconvert -y --zero n -c 512K --thinpool docker/thinpool --poolmetadata docker/thinpoolmeta
mkdir -p /etc/lvm/profile
printf 'activation {\n  thin_pool_autoextend_threshold=80\n  thin_pool_autoextend_percent=20\n}\n' \
  >/etc/lvm/profile/docker-thinpool.profile
step lvchange --metadataprofile docker-thinpool docker/thinpool
step lvchange --monitor y docker/thinpool
report pool
cap lsblk-pv-with-lvs lsblk --json --bytes --paths -o NAME,TYPE,SIZE,MOUNTPOINT /dev/ubda

state="both: state pool plus the bare loop pool dmctl-pool"
looppool_up
dmcaps both
cap losetup-looppool "${LOSETUP[@]}"
looppool_down

state="pool-used: pool plus thin LV docker/thin1 (1G virtual) with 64 MiB written"
step lvcreate -V 1G -T docker/thinpool -n thin1
step dd if=/dev/urandom of=/dev/docker/thin1 bs=1M count=64 oflag=direct status=none
report pool-used

# Quirk: with thin1 active, `lvchange -an docker/thinpool` exits 0 yet only the pool LV's own node goes;
# thin1 and docker-thinpool-tpool stay active (lvs: pool twi---t--- but Data% still shown).
state="pool-used after only lvchange -an docker/thinpool (exits 0; thin1 and -tpool stay active)"
step lvchange -an docker/thinpool
cap lvs-pool-inactive-thin-active lvs --reportformat json --units b --nosuffix \
  -o vg_name,lv_name,lv_attr,lv_size,segtype,pool_lv,data_percent,metadata_percent,lv_metadata_size,chunk_size,transaction_id,seg_monitor,lv_profile,lv_when_full,lv_health_status,lv_dm_path,vg_free,vg_extent_size
state="pool-inactive: pool-used, then lvchange -an docker/thin1; lvchange -an docker/thinpool (nothing active)"
step lvchange -an docker/thin1
step lvchange -an docker/thinpool
report pool-inactive

state="ext4: mkfs.ext4 -q /dev/ubdb"
step mkfs.ext4 -q /dev/ubdb
cap lsblk-ext4 lsblk --json --bytes --paths -o NAME,TYPE,SIZE,MOUNTPOINT /dev/ubdb
cap wipefs-ext4 wipefs --no-act --json /dev/ubdb

if command -v sfdisk >/dev/null; then
  state="partitioned: echo ',,L' | sfdisk -q /dev/ubdb (one Linux partition)"
  echo ',,L' | step sfdisk -q /dev/ubdb
else   # Debian puts sfdisk in package fdisk; busybox fdisk makes the same one-partition MBR table
  state="partitioned: busybox fdisk /dev/ubdb (n p 1, whole disk, w): one Linux partition, MBR"
  printf 'o\nn\np\n1\n\n\nw\n' | busybox fdisk /dev/ubdb >/dev/null 2>&1 || true
fi
[[ -b /dev/ubdb1 ]] || state="$state [/dev/ubdb1 node missing]"
cap lsblk-partitioned lsblk --json --bytes --paths -o NAME,TYPE,SIZE,MOUNTPOINT /dev/ubdb
((has_devfile == 0)) || cap pvs-all-devices-pool "${PVS_ALL[@]}"

# The devices file (lvm2 ≥ 2.03.12; RHEL 9's default): PVs it does not list are hidden from pvs.
if ((has_devfile)); then
state="devicesfile: inactive pool on /dev/ubda; devices/use_devicesfile = 1 in lvm.conf; lvm lvmdevices --adddev /dev/ubda (creates the file); pvcreate -y /dev/ubdc; vgcreate other /dev/ubdc; lvm lvmdevices --deldev /dev/ubdc (the file lists /dev/ubda only)"
((devfile)) || sed -i -e 's/^devices {/&\n\tuse_devicesfile = 1/' /etc/lvm/lvm.conf
lvm lvmdevices --adddev /dev/ubda >&2 || ((devfile)) || { echo "record: lvmdevices --adddev failed" >&2; exit 1; }
step pvcreate -y /dev/ubdc
step vgcreate other /dev/ubdc
step lvm lvmdevices --deldev /dev/ubdc
cap lvmconfig-devicesfile lvmconfig --typeconfig full devices/use_devicesfile
cap pvs-devicesfile-hidden pvs --reportformat json --units b --nosuffix -o pv_name,vg_name,pv_size,pv_free,pv_attr
cap pvs-devicesfile-all "${PVS_ALL[@]}"
cap wipefs-hidden-pv wipefs --no-act --json /dev/ubdc
sed -i -e '/^\tuse_devicesfile = 1$/d' /etc/lvm/lvm.conf
fi

# Data alignment from lvm.conf: where pvcreate puts the first extent.
state="alignment: fresh /dev/ubdd; devices/data_alignment = 8192 (KiB) in lvm.conf; then pvcreate -y /dev/ubdd (an orphan PV)"
cap lsblk-io-fresh lsblk --json --bytes --paths --nodeps -o NAME,MIN-IO,OPT-IO,ALIGNMENT /dev/ubdd
sed -i -e 's/^devices {/&\n\tdata_alignment = 8192/' /etc/lvm/lvm.conf
cap lvmconfig-layout-8m lvmconfig --typeconfig full "${LAYOUT[@]}"
step pvcreate -y /dev/ubdd
cap pvs-pe-start-8m pvs --reportformat json --units b --nosuffix -o pv_name,pe_start /dev/ubdd
cap pvs-orphan-8m pvs --reportformat json --units b --nosuffix -o pv_name,vg_name,pv_size,pv_free,pv_attr /dev/ubdd
sed -i -e '/^\tdata_alignment = 8192$/d' /etc/lvm/lvm.conf
uname -r >"$stage/KERNEL"
GUEST

echo "record-fixtures: booting guest…" >&2
rc=0
"$here/guest/uml-run" --disk 1G --disk 1G --disk 1G --disk 1G --timeout 600 --share "$stage" "$scenario" || rc=$?
if ((rc != 0)) || [[ ! -s $stage/MANIFEST ]]; then
  echo "record-fixtures: guest scenario failed (rc=$rc); $out left untouched" >&2
  exit 1
fi

mkdir -p "$out"
while IFS=$'\t' read -r name _; do rm -f "$out/$name.txt" "$out/$name.stderr.txt" "$out/$name.rc"; done <"$stage/MANIFEST"
cp "$stage"/*.txt "$out/"
cp "$stage"/*.rc "$out/" 2>/dev/null || true

{
  echo "# Parser fixtures recorded on a real kernel device-mapper"
  echo
  echo "Recorded $(date -u +%Y-%m-%d) by \`test/e2e/record-fixtures.sh\` in a User-Mode Linux guest (kernel"
  if [[ -n $tools ]]; then
    echo "$(cat "$stage/KERNEL"), no udev; see \`test/e2e/guest/README.md\`), ${profile:+profile \`$profile\` ($COMPAT_NAME) of}"
    echo "\`test/compat/profiles.json\`: these tools first on PATH (built by \`test/compat/build.sh\` from upstream"
    echo "tarballs${COMPAT_TARBALLS:+ $COMPAT_TARBALLS}), the rest Debian 12's$( ((devfile)) && echo '; devices/use_devicesfile=1 in lvm.conf for the whole run'):"
    echo
    sed -e 's/^/    /' "$stage/TOOLS"
    echo
    echo "Command: \`test/e2e/record-fixtures.sh ${profile:+--profile $profile}\`. Versions: see lvm-version.txt, dmsetup-version.txt, losetup-version.txt. Env"
  else
    echo "$(cat "$stage/KERNEL"), no udev; see \`test/e2e/guest/README.md\`), Debian 12 packages, env"
  fi
  echo "\`LVM_SUPPRESS_FD_WARNINGS=1\`. Four sparse 1 GiB scratch disks: /dev/ubda (LVM), /dev/ubdb (ext4/partitions),"
  echo "/dev/ubdc (a PV of VG other hidden by the devices file), /dev/ubdd (a PV made with an 8 MiB data alignment)."
  echo "Each \`<name>.txt\` is the command's stdout, byte-exact. \`<name>.stderr.txt\` is its stderr when it wrote"
  echo "any; \`<name>.rc\` its exit status when non-zero (and always for losetup-empty). Do not edit by hand: re-record."
  echo
  echo "States are built in this order in one guest: any → empty → looppool → vg → pool → both → pool-used →"
  echo "(pool LV alone deactivated: lvs-pool-inactive-thin-active) →"
  echo "pool-inactive → ext4 → partitioned → devicesfile → alignment."
  echo
  echo "| file | state | argv | rc |"
  echo "|---|---|---|---|"
  while IFS=$'\t' read -r name state argv rc; do
    extra=
    [[ -f $stage/$name.stderr.txt ]] && extra+=", $name.stderr.txt"
    [[ -f $stage/$name.rc ]] && extra+=", $name.rc"
    printf '| %s.txt%s | %s | `%s` | %s |\n' "$name" "$extra" "${state//|/\\|}" "${argv% }" "$rc"
  done <"$stage/MANIFEST"
} >"$out/README.md"
echo "record-fixtures: wrote $(wc -l <"$stage/MANIFEST") captures to ${out#"$root"/}" >&2
grep -P '\t[1-9][0-9]*$' "$stage/MANIFEST" | cut -f1,4 | sed 's/^/record-fixtures: FAILED (rc): /' >&2 || true
