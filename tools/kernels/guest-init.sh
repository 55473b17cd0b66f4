#!/bin/sh
# /init of the initramfs (tools/kernels/initramfs.sh), under busybox: load
# the modules, mount the host's root read-only over 9p with a tmpfs
# overlay on top, put the guest kernel's modules in /lib/modules, and
# switch to that root to run tools/kernels/guest-run.sh. The host's job
# (job.env) and the results are on the writable 9p share "pmout".
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

die() {
	echo "guest-init: $*"
	[ -d /mnt/out ] && echo "$*" >/mnt/out/init-failed && sync
	echo o >/proc/sysrq-trigger
	sleep 10
	echo b >/proc/sysrq-trigger
}

while read -r m; do
	insmod "/modules/$m" || die "insmod $m failed"
done </modules/order

mkdir -p /mnt/out /mnt/host /mnt/rw
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 pmout /mnt/out ||
	die "cannot mount the pmout share"
[ -r /mnt/out/job.env ] || die "no job.env on the pmout share"
. /mnt/out/job.env
# The host's root, read-only: it does not change while the suite runs, so
# the guest may cache it.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 pmroot /mnt/host ||
	die "cannot mount the host's root over 9p"
mount -t tmpfs -o mode=0755 tmpfs /mnt/rw || die "cannot mount tmpfs"
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay -o lowerdir=/mnt/host,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work \
	overlay /newroot || die "cannot mount the overlay"
mkdir -p "/newroot/lib/modules/$PM_KVER" /newroot/mnt/pmout
mount --bind "/newroot$PM_KDIR/lib/modules/$PM_KVER" "/newroot/lib/modules/$PM_KVER" ||
	die "cannot bind $PM_KDIR/lib/modules/$PM_KVER"
mount --move /mnt/out /newroot/mnt/pmout || die "cannot move the pmout share"
mount --move /dev /newroot/dev || die "cannot move /dev"
umount /sys /proc
exec switch_root /newroot /bin/bash "$PM_TREE/tools/kernels/guest-run.sh"
