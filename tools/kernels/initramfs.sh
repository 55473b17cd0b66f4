#!/bin/sh
# tools/kernels/initramfs.sh KDIR OUT: a small initramfs for the kernel
# unpacked in KDIR (fetch.sh): the static busybox, guest-init.sh as /init,
# and the modules that mount the host's root (virtio_pci, 9p, overlay),
# with their dependencies from modules.dep, decompressed (Debian's .ko.xz:
# busybox insmod loads plain .ko files only) and listed in load order.
set -eu
kdir=${1:?usage: initramfs.sh KDIR OUT}
out=${2:?usage: initramfs.sh KDIR OUT}
here=$(cd "$(dirname "$0")" && pwd)
kver=$(ls "$kdir/lib/modules" | head -n 1)
mods=$kdir/lib/modules/$kver
busybox=/bin/busybox	# busybox-static: runs with no library
[ -x "$busybox" ] || { echo "initramfs.sh: no busybox (apt-get install busybox-static)" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/dev" "$stage/proc" "$stage/sys" "$stage/mnt" \
	"$stage/newroot" "$stage/modules"
cp "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
cp "$here/guest-init.sh" "$stage/init"
chmod 0755 "$stage/init"

# Each wanted module after its dependencies (modules.dep lists a module's
# dependencies deepest last), each once. A module built into this kernel
# (modules.builtin) needs nothing.
want="virtio_pci 9pnet_virtio 9p overlay"
order=""
add() {	# add PATH-relative-to-mods
	case " $order " in *" $1 "*) return ;; esac
	order="$order $1"
}
for m in $want; do
	line=$(grep -E "(^|/)$m\.ko(\.xz|\.zst|\.gz)?:" "$mods/modules.dep" || true)
	if [ -z "$line" ]; then
		grep -qE "(^|/)$m\.ko$" "$mods/modules.builtin" ||
			{ echo "initramfs.sh: $kver has no module $m" >&2; exit 1; }
		continue
	fi
	self=${line%%:*}
	deps=${line#*:}
	rev=""
	for d in $deps; do rev="$d $rev"; done
	for d in $rev; do add "$d"; done
	add "$self"
done
: >"$stage/modules/order"
for rel in $order; do
	name=$(basename "$rel"); name=${name%.xz}; name=${name%.zst}; name=${name%.gz}
	case "$rel" in
	*.xz) xz -dc "$mods/$rel" >"$stage/modules/$name" ;;
	*.zst) zstd -qdc "$mods/$rel" >"$stage/modules/$name" ;;
	*.gz) gzip -dc "$mods/$rel" >"$stage/modules/$name" ;;
	*) cp "$mods/$rel" "$stage/modules/$name" ;;
	esac
	echo "$name" >>"$stage/modules/order"
done
(cd "$stage" && find . | "$busybox" cpio -o -H newc 2>/dev/null) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
