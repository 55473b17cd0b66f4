# shellcheck shell=bash
# A hostile local user for the security tests: an unprivileged account the
# test creates and removes, commands run as it, and a guard that proves
# nothing outside protomix's own files changed.
#
# Use (after tests/lib/lab.sh, whose pass/fail/skip this uses):
#   hostile_up                 # creates user pmh<PID>; sets HOSTILE_UID/GID
#   as_hostile CMD...          # runs CMD as that user, no capabilities
#   guard_take NAME PATH...    # records type, mode, owner, size, content
#   guard_check NAME           # PASS NAME_unchanged, or FAIL with the diff
#   hostile_down               # kills its processes, removes it and its files
# hostile_up adds hostile_down to the EXIT/INT/TERM traps (lab_up's too, if
# the lab is up: call lab_up first).

HOSTILE_USER=""
HOSTILE_UID=""
HOSTILE_GID=""
HOSTILE_DIR=""		# a scratch folder the user owns (0700)
GUARD_DIR=""

_hostile_trap()
{
	local prev

	prev=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
	# shellcheck disable=SC2064
	trap "hostile_down; ${prev:-:}" EXIT
	trap 'hostile_down; lab_cleanup 2>/dev/null; trap - EXIT; exit 130' INT
	trap 'hostile_down; lab_cleanup 2>/dev/null; trap - EXIT; exit 143' TERM
}

hostile_up()
{
	HOSTILE_USER=pmh$$
	if ! useradd --system --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin --user-group "$HOSTILE_USER" 2>/dev/null; then
		echo "hostile_up: cannot create user $HOSTILE_USER" >&2
		HOSTILE_USER=""
		return 1
	fi
	HOSTILE_UID=$(id -u "$HOSTILE_USER")
	HOSTILE_GID=$(id -g "$HOSTILE_USER")
	HOSTILE_DIR=$(mktemp -d "/tmp/pmh$$.XXXXXX")
	chown "$HOSTILE_UID:$HOSTILE_GID" "$HOSTILE_DIR"
	chmod 0700 "$HOSTILE_DIR"
	GUARD_DIR=$(mktemp -d "/tmp/pmguard$$.XXXXXX")
	_hostile_trap
}

# as_hostile CMD...: CMD as the hostile user (real and effective ids, no
# supplementary groups, no capabilities: an ordinary login).
as_hostile()
{
	setpriv --reuid="$HOSTILE_UID" --regid="$HOSTILE_GID" --clear-groups \
		--inh-caps=-all --bounding-set=-all -- "$@"
}

hostile_down()
{
	[ -n "$HOSTILE_USER" ] || return 0
	pkill -KILL -u "$HOSTILE_UID" 2>/dev/null
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		pgrep -u "$HOSTILE_UID" >/dev/null || break
		sleep 0.1
	done
	# what it left anywhere we look: /tmp, the bpffs, /dev/shm
	find /tmp /dev/shm /sys/fs/bpf -xdev -user "$HOSTILE_UID" -depth \
		-exec rm -rf {} + 2>/dev/null
	userdel "$HOSTILE_USER" 2>/dev/null
	getent group "$HOSTILE_USER" >/dev/null && groupdel "$HOSTILE_USER" 2>/dev/null
	[ -n "$HOSTILE_DIR" ] && rm -rf "$HOSTILE_DIR"
	[ -n "$GUARD_DIR" ] && rm -rf "$GUARD_DIR"
	HOSTILE_USER="" HOSTILE_DIR="" GUARD_DIR=""
}

# _guard_list PATH...: one line per file under each PATH, never following a
# symlink: type, mode, owner, size, rdev, target or content checksum.
_guard_list()
{
	local p

	for p in "$@"; do
		find "$p" -xdev \( -type f -o -type d -o -type l -o -type c \
			-o -type b -o -type p -o -type s \) \
			-printf '%p %y %m %U:%G %s %l\n' 2>/dev/null
	done | sort | while read -r path type rest; do
		if [ "$type" = f ]; then
			echo "$path $type $rest $(sha256sum <"$path" | cut -c1-16)"
		elif [ "$type" = c ] || [ "$type" = b ]; then
			echo "$path $type $rest $(stat -c '%t:%T' "$path")"
		else
			echo "$path $type $rest"
		fi
	done
}

guard_take()
{
	local name=$1

	shift
	printf '%s\n' "$@" >"$GUARD_DIR/$name.paths"
	_guard_list "$@" >"$GUARD_DIR/$name.before"
}

guard_check()
{
	local name=$1 paths=() d

	mapfile -t paths <"$GUARD_DIR/$name.paths"
	_guard_list "${paths[@]}" >"$GUARD_DIR/$name.after"
	d=$(diff "$GUARD_DIR/$name.before" "$GUARD_DIR/$name.after" | grep '^[<>]' | head -5)
	if [ -z "$d" ]; then
		pass "${name}_unchanged"
	else
		fail "${name}_unchanged" "$d"
	fi
}

# decoy_dir: a root-owned folder of root-only files an attack aims at;
# prints its path (under $GUARD_DIR, removed by hostile_down).
decoy_dir()
{
	local d=$GUARD_DIR/decoy.$RANDOM

	mkdir -m 0700 "$d"
	echo "secret one" >"$d/a.conf"
	echo "secret two" >"$d/b.key"
	chmod 0600 "$d/a.conf" "$d/b.key"
	chmod 0755 "$GUARD_DIR" "$d"	# reachable by the user's symlinks
	echo "$d"
}
