# shellcheck shell=bash
# live_pair_up NS: network namespace NS holding a veth pair gen0/rx0, both
# up, with no IPv6 on it (nothing but the frames a bench generates), as
# bench/profile.sh --live and bench/watch_load.sh use it (sourced; the
# caller removes NS: `ip netns del NS`). 0, or 1 with what failed said on
# stderr.
live_pair_up()
{
	ip netns add "$1" || return 1
	ip netns exec "$1" sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6;
				  echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6' &&
	ip -n "$1" link set lo up &&
	ip -n "$1" link add gen0 type veth peer name rx0 &&
	ip -n "$1" link set gen0 up && ip -n "$1" link set rx0 up ||
		{ echo "cannot set up the veth pair gen0/rx0 in $1" >&2; return 1; }
}
