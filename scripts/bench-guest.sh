# Runs inside the real-kernel guest (see scripts/bench.mjs). Prints "RESULT key value" lines.
set -euo pipefail
dmctl() { node "$PROJECT_ROOT/bin/dmctl.js" "$@"; }
now() { date +%s%N; }
# Median of N runs of a command, in milliseconds.
median_ms() {
  local n=$1; shift
  local times=()
  for _ in $(seq "$n"); do
    local t0; t0=$(now); "$@" >/dev/null 2>&1; times+=($(( ($(now) - t0) / 1000000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (n + 1) / 2 ))p"
}

# --- status against its raw probes, on an LVM pool -------------------------------------------------
dmctl init-direct /dev/ubda --consumer none --thinp-percent 60 --yes >/dev/null 2>&1
raw() { lvs --reportformat json --units b --nosuffix -o vg_name,lv_name,lv_attr,lv_size,segtype,pool_lv,data_percent,metadata_percent,lv_metadata_size,chunk_size,transaction_id,seg_monitor,lv_profile,lv_when_full,lv_health_status,lv_dm_path,vg_free,vg_extent_size >/dev/null; dmsetup status --target thin-pool >/dev/null; }
echo "RESULT status_ms $(median_ms 9 dmctl --json status)"
echo "RESULT raw_probes_ms $(median_ms 9 raw)"
echo "RESULT node_ms $(median_ms 9 node -e 0)"

# --- init-direct --yes on a fresh disk against the same commands run from a bash script ---------------
# The "guide" is dmctl's own runbook for that disk (`--format shell`: the guide's commands, in order),
# run by bash; dmctl plans (probes the disk, LVM, the consumer) and then runs the same commands.
# Round-robin, 3 rounds each, on the same disk, wiped between runs.
reset_disk() {
  vgremove -ff -y bench >/dev/null 2>&1 || true
  pvremove -ff -y /dev/ubdc >/dev/null 2>&1 || true
  wipefs -a -q /dev/ubdc; rm -f /etc/lvm/profile/bench-thinpool.profile
}
dmctl init-direct /dev/ubdc --vg bench --consumer none --format shell >/run/guide.sh
guide=(); apply=(); plan=()
for run in 1 2 3; do
  t0=$(now); bash /run/guide.sh >/run/b.log 2>&1 || { cat /run/b.log >&2; exit 1; }; guide+=($(( ($(now) - t0) / 1000000 ))); reset_disk
  t0=$(now); dmctl init-direct /dev/ubdc --vg bench --consumer none --dry-run >/dev/null 2>&1; plan+=($(( ($(now) - t0) / 1000000 )))
  t0=$(now); dmctl init-direct /dev/ubdc --vg bench --consumer none --yes >/run/b.log 2>&1 || { cat /run/b.log >&2; exit 1; }; apply+=($(( ($(now) - t0) / 1000000 ))); reset_disk
done
med() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
echo "RESULT guide_ms $(med "${guide[@]}")"
echo "RESULT apply_ms $(med "${apply[@]}")"
echo "RESULT plan_ms $(med "${plan[@]}")"
echo "RESULT guide_all $(IFS=,; echo "${guide[*]}")"
echo "RESULT apply_all $(IFS=,; echo "${apply[*]}")"

# --- status with 1 and with 1000 thin devices in a loop pool ---------------------------------------
# The loop files on a real (ext4) disk: guest RAM is too small to hold them in the tmpfs overlay.
mkfs.ext4 -q /dev/ubdb && mkdir -p /mnt/loop && mount /dev/ubdb /mnt/loop
dmctl init-loop --dir /mnt/loop/pool --data-size 4G --metadata-size 256M --consumer none --yes >/dev/null 2>&1
dmsetup message dmctl-pool 0 create_thin 0
echo "RESULT status_1_thin_ms $(median_ms 9 dmctl --json status)"
for i in $(seq 1 999); do dmsetup message dmctl-pool 0 "create_thin $i"; done
echo "RESULT status_1000_thin_ms $(median_ms 9 dmctl --json status)"

# --- resize-loop's I/O freeze: the worst write stall a running writer sees --------------------------
dmsetup create thin0 --table "0 131072 thin /dev/mapper/dmctl-pool 0"
writer() { # O_DIRECT 64 KiB writes for $1 seconds; prints the worst latency in ms
  python3 - "$1" <<'PY'
import mmap, os, sys, time
fd = os.open('/dev/mapper/thin0', os.O_WRONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 65536); buf.write(os.urandom(65536))
end = time.monotonic() + float(sys.argv[1]); worst = 0.0; off = 0
while time.monotonic() < end:
    t = time.monotonic(); os.pwrite(fd, buf, off); worst = max(worst, time.monotonic() - t)
    off = (off + 65536) % (64 * 1048576)
print(f"{worst * 1000:.1f}")
PY
}
table() { dmsetup table dmctl-pool; }
grow() { # $1 = order; grows the data file by 256 MiB, then swaps the table in that order
  local file=/mnt/loop/pool/data size new t
  size=$(stat -c %s "$file"); new=$((size + 268435456))
  truncate -s "$new" "$file"; losetup -c "$(losetup -j "$file" | cut -d: -f1)"
  t=$(table | awk -v n=$((new / 512)) '{ $2 = n; print }')
  case $1 in
    dmctl) dmctl resize-loop "${new}b" --yes >/dev/null ;;
    reload-suspend-resume) dmsetup reload dmctl-pool --table "$t"; dmsetup suspend dmctl-pool; dmsetup resume dmctl-pool ;;
    guide) dmsetup suspend dmctl-pool; dmsetup reload dmctl-pool --table "$t"; dmsetup resume dmctl-pool ;;
  esac
}
for order in none dmctl reload-suspend-resume guide; do
  worst=0
  for run in 1 2 3; do
    out=$(mktemp); writer 3 >"$out" & w=$!
    sleep 1
    if [ "$order" != none ]; then grow "$order"; fi
    wait "$w"; ms=$(cat "$out"); rm -f "$out"
    worst=$(python3 -c "print(max($worst, $ms))")
  done
  echo "RESULT stall_${order}_ms $worst"
done
