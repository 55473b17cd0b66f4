#!/bin/sh
# tools/kernels/fetch.sh KERNEL [CACHE]: a Debian kernel package unpacked
# (never installed) under CACHE (default build/kernels), with modules.dep
# made by depmod; prints the unpacked folder.
#
# KERNEL: 6.1 (Debian 12's own, linux-image-amd64), 6.12 (Debian 12's
# 6.12, linux-image-6.12-amd64), or a package name such as
# linux-image-6.1.0-57-amd64. The meta-packages name the newest build of
# each; the generic -amd64 flavour, since the cloud one has no 9p.
set -eu
kernel=${1:?usage: fetch.sh KERNEL [CACHE]}
cache=${2:-build/kernels}

case "$kernel" in
6.1) meta=linux-image-amd64 ;;
6.12) meta=linux-image-6.12-amd64 ;;
linux-image-*) meta= ; pkg=$kernel ;;
*) echo "fetch.sh: unknown kernel '$kernel': 6.1, 6.12 or linux-image-VERSION-amd64" >&2
   exit 2 ;;
esac
if [ -n "$meta" ]; then
	# The meta-package depends on exactly one versioned image package.
	pkg=$(apt-cache show --no-all-versions "$meta" 2>/dev/null |
		sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*-amd64\).*/\1/p' | head -n 1)
	if [ -z "$pkg" ]; then
		# apt's lists may not be there yet on a fresh machine
		apt-get update -qq >/dev/null 2>&1 || true
		pkg=$(apt-cache show --no-all-versions "$meta" 2>/dev/null |
			sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*-amd64\).*/\1/p' | head -n 1)
	fi
	[ -n "$pkg" ] || { echo "fetch.sh: apt-cache knows no $meta" >&2; exit 1; }
fi

dir=$cache/$pkg
if [ ! -e "$dir/.ready" ]; then
	mkdir -p "$cache/debs"
	deb=$(ls "$cache/debs/${pkg}"_*.deb 2>/dev/null | head -n 1 || true)
	if [ -z "$deb" ]; then
		(cd "$cache/debs" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
			{ echo "fetch.sh: apt-get download $pkg failed" >&2; exit 1; }
		deb=$(ls "$cache/debs/${pkg}"_*.deb | head -n 1)
	fi
	rm -rf "$dir"
	dpkg -x "$deb" "$dir"
	kver=$(ls "$dir/lib/modules" | head -n 1)
	[ -e "$dir/boot/vmlinuz-$kver" ] ||
		{ echo "fetch.sh: $deb has no /boot/vmlinuz-$kver" >&2; exit 1; }
	depmod -b "$dir" "$kver"
	touch "$dir/.ready"
fi
echo "$dir"
