#!/bin/sh
# Install, with apt-get, the Debian 12 packages protomix needs to build,
# test and benchmark (qemu-system-x86, busybox-static, kmod and xz-utils:
# make test-kernels), skipping those already there. Needs root.
set -e
PKGS="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config
libjson-c-dev libpcap-dev libncurses-dev libmicrohttpd-dev
iproute2 iputils-ping jq python3 tcpdump tshark iperf3 tmux procps util-linux linux-perf
prometheus libfixbuf-dev libfixbuf-tools nfdump
qemu-system-x86 busybox-static kmod xz-utils libxml2-utils chromium"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: need root to install:$missing" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the answer does not matter here.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
# Packages here must not start services (prometheus and nfdump ship one;
# the metrics and ipfix tests run their own in a namespace): a policy-rc.d that says no, unless the
# machine has one already, and only while apt-get runs.
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	policy=/usr/sbin/policy-rc.d
	printf '#!/bin/sh\n# install-deps.sh: no service starts\nexit 101\n' >"$policy"
	chmod 0755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# The packages also enable their service for the next boot: not ours to
# leave (nfdump's nfcapd collector would listen on 9995 at boot).
for svc in prometheus nfdump; do
	case " $missing " in
	*" $svc "*)
		if [ -d /run/systemd/system ]; then
			systemctl disable --now "$svc.service" >/dev/null 2>&1 || true
		else
			update-rc.d "$svc" disable >/dev/null 2>&1 || true
		fi ;;
	esac
done
