#!/usr/bin/env bash
# Builds (or finds in the cache) the Debian 12 test VM of the system suite: a minbase
# bookworm root file system made by mmdebstrap from the configured apt sources, turned into an
# ext4 disk image by mkfs.ext4 -d (nothing is mounted), plus its kernel and initrd.
# The cache key is a hash of this script, the package list and the guest/ files, so a second
# run finds the image in seconds. Prints the cache folder holding rootfs.img, vmlinuz,
# initrd.img.
#
#   tests/system/image.sh [amd64|arm64]   cache in $DEPOT_VM_CACHE or /var/cache/depot-agent-vm
#
# arm64 on an amd64 host: mmdebstrap runs the guest's maintainer scripts through qemu-user,
# which needs binfmt_misc (qemu-user-static, binfmt-support). When it is not mounted (a
# container), this script mounts it and enables qemu-aarch64; exit 77 when that is not
# possible, saying why.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache_root=${DEPOT_VM_CACHE:-/var/cache/depot-agent-vm}
arch=${1:-amd64}
case "$arch" in
  amd64|arm64) ;;
  *) echo "image.sh: unknown architecture '$arch' (amd64 or arm64)" >&2; exit 2 ;;
esac

# What the guest needs: systemd and a kernel with virtio and uinput; the .deb's dependencies
# (the guest has no network, so dpkg -i must find them installed); sqlite3 for the checks.
packages=systemd-sysv,linux-image-$arch,initramfs-tools,udev,kmod,procps,util-linux,\
libsqlite3-0,libpaho-mqttpp3-1,libpaho-mqtt1.3,libssl3,libmodbus5,libsodium23,adduser,sqlite3,\
mosquitto,openssl,ca-certificates

key=$( { cat "$0"; echo "$packages"; cat "$here"/guest/*; } | sha256sum | cut -c1-16)
dir=$cache_root/bookworm-$arch-$key
if [ -f "$dir/done" ]; then echo "$dir"; exit 0; fi

if [ "$arch" != "$(dpkg --print-architecture)" ] && ! arch-test "$arch" >/dev/null 2>&1; then
  [ -e /proc/sys/fs/binfmt_misc/register ] ||
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true
  update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
  arch-test "$arch" >/dev/null 2>&1 || {
    echo "image.sh: cannot run $arch programs here (arch-test $arch: $(arch-test "$arch" 2>&1));" \
         "needs binfmt_misc mounted and qemu-user-static registered" >&2
    exit 77
  }
fi

for tool in mmdebstrap mkfs.ext4; do
  command -v "$tool" >/dev/null || { echo "image.sh: $tool is missing (scripts/bootstrap)" >&2; exit 1; }
done
# arm64: the initrd holds only what mounts the root (virtio, ext4). Under qemu-user, the
# default MODULES=most makes mkinitramfs run some thousand emulated processes (over 15
# minutes here); MODULES=list with these few takes well under one.
arch_hooks=()
if [ "$arch" = arm64 ]; then
  arch_hooks=(
    --essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d"'
    --essential-hook='echo MODULES=list >"$1/etc/initramfs-tools/conf.d/depot-vm"'
    --essential-hook='printf "%s\n" virtio_pci virtio_mmio virtio_blk ext4 crc32c_generic >"$1/usr/share/initramfs-tools/modules.d/depot-vm"'
  )
fi
mkdir -p "$cache_root"
work=$(mktemp -d "$cache_root/build.XXXXXX")
mkdir "$work/boot"
trap 'rm -rf "$work"' EXIT
echo "image.sh: building $dir (mmdebstrap, a few minutes)" >&2
mmdebstrap --variant=minbase --architectures="$arch" --include="$packages" "${arch_hooks[@]}" \
  --customize-hook='echo depot-vm >"$1/etc/hostname"' \
  --customize-hook='printf "/dev/vda / ext4 rw,errors=remount-ro 0 1\n" >"$1/etc/fstab"' \
  --customize-hook='chroot "$1" passwd -d root' \
  --customize-hook='mkdir -p "$1/var/log/journal"' \
  --customize-hook="copy-in $here/guest/depot-vmtest-driver /usr/local/sbin" \
  --customize-hook="copy-in $here/guest/depot-vmtest-driver.service /etc/systemd/system" \
  --customize-hook='chmod 0755 "$1/usr/local/sbin/depot-vmtest-driver"' \
  --customize-hook='chroot "$1" systemctl enable depot-vmtest-driver.service' \
  --customize-hook='chroot "$1" systemctl disable mosquitto.service || true' \
  --customize-hook='chroot "$1" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer getty@tty1.service systemd-timesyncd.service || true' \
  --customize-hook="sync-out /boot $work/boot" \
  bookworm "$work/root" >"$work/mmdebstrap.log" 2>&1 ||
  { tail -n 30 "$work/mmdebstrap.log" >&2; echo "image.sh: mmdebstrap failed" >&2; exit 1; }
cp "$work"/boot/vmlinuz-* "$work/vmlinuz"
cp "$work"/boot/initrd.img-* "$work/initrd.img"
rm -rf "$work/root/boot"/*
truncate -s 2G "$work/rootfs.img"
mkfs.ext4 -q -F -L depot-root -d "$work/root" "$work/rootfs.img"
rm -rf "$work/root" "$work/boot"
mkdir -p "$dir"
mv "$work/rootfs.img" "$work/vmlinuz" "$work/initrd.img" "$dir/"
touch "$dir/done"
echo "$dir"
