#!/bin/bash
# In the guest, on the overlay of the host's root (guest-init.sh): the
# mounts a Debian machine has, then the test suite (tests/run.sh
# PM_PATTERN) with its output on the pmout share, then power off.
set -u
out=/mnt/pmout
. "$out/job.env"
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
# what udev makes on a Debian machine: bash's <(...) needs /dev/fd
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# A fresh /run and /tmp, as at boot; a tree (or kernel) that lives under
# one of them stays where it is, bound back on top.
fresh() {	# fresh DIR MODE
	local keep=() p i=0
	for p in "$PM_TREE" "$PM_KDIR"; do
		case "$p" in "$1"/*)
			mkdir -p "/mnt/keep$i"
			mount --bind "$p" "/mnt/keep$i"
			keep+=("$i:$p") ;;
		esac
		i=$((i + 1))
	done
	mount -t tmpfs -o mode="$2" tmpfs "$1"
	for p in "${keep[@]}"; do
		mkdir -p "${p#*:}"
		mount --move "/mnt/keep${p%%:*}" "${p#*:}"
	done
}
fresh /run 0755
fresh /tmp 1777
mount -t bpf -o mode=0700 bpf /sys/fs/bpf
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
mkdir -p /run/lock /run/user
ip link set lo up
hostname "pm-guest"
export HOME=/root TERM=dumb LANG=C.UTF-8 LC_ALL=C.UTF-8
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# for the tests that cannot work on emulated CPUs (they SKIP, naming why)
export PROTOMIX_TEST_EMULATED="QEMU TCG"

poweroff_now() {
	sync
	umount "$out" 2>/dev/null
	echo o >/proc/sysrq-trigger
	sleep 10
	echo b >/proc/sysrq-trigger	# qemu runs with -no-reboot: it exits
}

cd "$PM_TREE" || { echo "guest-run: no $PM_TREE" >"$out/init-failed"; poweroff_now; }
echo "guest-run: $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo)"
start=$(date +%s)
# PM_PATTERN is one word (or empty: every test)
timeout -k 30 "$PM_TIMEOUT" tests/run.sh ${PM_PATTERN:+"$PM_PATTERN"} 2>&1 |
	tee "$out/run.log" | grep --line-buffered -E '^(FAIL|== |-- )'
rc=${PIPESTATUS[0]}
echo "$(( $(date +%s) - start ))" >"$out/seconds"
echo "$rc" >"$out/rc"
poweroff_now
