/**
 * Tiny container images for the real-consumer scenarios, built inside the guest at scenario time (no
 * registry, no stored asset): a root filesystem holding only `bin/busybox`, the host's static busybox
 * (Debian busybox-static). Each function returns bash source for a `runScenario` script.
 */

/** The static busybox the images carry (visible in the guest through the read-only host root). */
export const BUSYBOX = '/bin/busybox';

/** bash: `docker import` of TARBALL (see rootfsTarball) as NAME. */
export function dockerImport(tarball: string, name: string): string {
  return `/usr/bin/docker import ${tarball} ${name}`;
}

/** bash: a plain tarball holding only bin/busybox at TARBALL, for dockerImport(TARBALL, NAME). */
export function rootfsTarball(tarball: string): string {
  return `
rm -rf /tmp/img-rootfs && mkdir -p /tmp/img-rootfs/bin && cp ${BUSYBOX} /tmp/img-rootfs/bin/busybox
tar -C /tmp/img-rootfs -cf ${tarball} bin
`;
}

/**
 * bash: an OCI image-layout archive at ARCHIVE (oci-layout, index.json, blobs/sha256/…) with one gzip
 * layer holding only bin/busybox, named REF (`io.containerd.image.name`), for `ctr images import`.
 * Built with tar, gzip, sha256sum and stat only.
 */
export function ociArchive(archive: string, ref: string): string {
  const tag = ref.slice(ref.lastIndexOf(':') + 1);
  return `
rm -rf /tmp/oci && mkdir -p /tmp/oci/layout/blobs/sha256
${rootfsTarball('/tmp/oci/layer.tar')}
oci_diffid=$(sha256sum </tmp/oci/layer.tar | cut -d' ' -f1)
gzip -n </tmp/oci/layer.tar >/tmp/oci/layer.tar.gz
# Stores FILE as a blob; prints its descriptor's "digest" and "size" members.
oci_blob() {
  local h; h=$(sha256sum <"$1" | cut -d' ' -f1)
  cp "$1" "/tmp/oci/layout/blobs/sha256/$h"
  printf '"digest":"sha256:%s","size":%s' "$h" "$(stat -c %s "$1")"
}
oci_layer=$(oci_blob /tmp/oci/layer.tar.gz)
printf '%s' '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/busybox","sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:'"$oci_diffid"'"]}}' >/tmp/oci/config.json
oci_config=$(oci_blob /tmp/oci/config.json)
printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json",'"$oci_config"'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip",'"$oci_layer"'}]}' >/tmp/oci/manifest.json
oci_manifest=$(oci_blob /tmp/oci/manifest.json)
printf '%s' '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",'"$oci_manifest"',"annotations":{"io.containerd.image.name":"${ref}","org.opencontainers.image.ref.name":"${tag}"}}]}' >/tmp/oci/layout/index.json
printf '%s' '{"imageLayoutVersion":"1.0.0"}' >/tmp/oci/layout/oci-layout
tar -C /tmp/oci/layout -cf ${archive} oci-layout index.json blobs
`;
}
