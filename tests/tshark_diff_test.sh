#!/usr/bin/env bash
# tshark_diff_test: protomix's classifier against Wireshark's dissectors.
#
# tests/build/gen_corpus writes a capture of several thousand frames, every
# case of tests/frames.c (also behind one and two VLAN tags) and random
# variations, each frame to a destination of its own. `protomix replay
# --json` classifies it; tshark dissects it, and docs/classes.md's class rules
# are applied to tshark's fields (addresses, IP protocol, the IPv6
# extension chain, fragment offsets, UDP ports and first payload bytes).
# For every frame tshark decodes without error (not _ws.malformed, not
# _ws.short, not shorter than its IPv6 payload length says, no expert info
# of severity error), protomix's per-destination class counts
# must equal exactly what the rules make of tshark's fields.
#
# Where protomix decides on purpose unlike Wireshark, the rules follow
# docs/classes.md and the check says so (the list is in README.md):
#   - more than two VLAN tags: vlan_depth (Wireshark decodes any number)
#   - more than 8 IPv6 extension headers: ip6_ext_depth
#   - AH with Payload Len 0 (8 bytes): l4_bad_hdr; Wireshark decodes it
#   - more than 8 MPLS labels: mpls_depth (Wireshark decodes any number)
#   - a PPPoE session header with a version, type or code other than
#     1, 1, 0, or a length under 2: pppoe_bad_hdr; Wireshark decodes it
#   - WireGuard transport data whose length is not 16 + a multiple of 16
#     (WireGuard pads to 16 bytes): udp; Wireshark's heuristic says wg
#   - MACsec (0x88e5) counts as macsec; Wireshark shows data
#   - the counts are per outer destination; Wireshark also shows inner ones
#
# Usage: tests/tshark_diff_test.sh [FRAMES [SEED]]   (default 5000 1)
# Needs root (BPF_PROG_TEST_RUN), tshark and python3.
set -u
cd "$(dirname "$0")/.."
frames=${1:-5000}
seed=${2:-1}
name=tshark_diff

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP $name: needs root for BPF_PROG_TEST_RUN"; exit 0
fi
for tool in tshark python3; do
	if ! command -v $tool >/dev/null; then
		echo "SKIP $name: $tool is not installed (make deps)"; exit 0
	fi
done
for f in build/protomix tests/build/gen_corpus; do
	if [ ! -x $f ]; then
		echo "FAIL $name: $f is missing (make tests)"; exit 1
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Fragments are not reassembled: each frame is dissected alone, as the
# classifier sees it.
fields=(frame.number frame.protocols eth.type sll.etype vlan.etype ip.dst
	ip.proto ip.frag_offset ipv6.dst ipv6.nxt ipv6.hopopts.nxt
	ipv6.routing.nxt ipv6.fraghdr.nxt ipv6.fraghdr.offset ipv6.dstopts.nxt
	udp.srcport udp.dstport udp.length udp.payload ieee8021ad.svid
	ieee8021ad.cvid ah.length mpls.label pppoe.version pppoe.type pppoe.code
	pppoe.payload_length gre.flags_and_version gre.proto
	_ws.malformed _ws.short ipv6.plen_exceeds_framing _ws.expert.severity)
args=()
for f in "${fields[@]}"; do args+=(-e "$f"); done
rc=0

# The same corpus as Ethernet and as Linux cooked v2 (replay rewrites the
# cooked header into an Ethernet one; tshark reads it as it is).
for lt in en10mb sll2; do
tests/build/gen_corpus --frames "$frames" --seed "$seed" --linktype $lt \
	"$tmp/corpus.pcap" 2>/dev/null
if ! build/protomix replay --json --max-dests 1048576 "$tmp/corpus.pcap" \
		>"$tmp/pm.json" 2>"$tmp/pm.err"; then
	echo "FAIL $name/$lt/replay: $(head -1 "$tmp/pm.err")"; rc=1; continue
fi
if ! tshark -r "$tmp/corpus.pcap" -n -o ip.defragment:FALSE -o ipv6.defragment:FALSE \
		-T fields -E separator=/t -E occurrence=a -E aggregator=, "${args[@]}" \
		>"$tmp/ts.tsv" 2>"$tmp/ts.err"; then
	echo "FAIL $name/$lt/tshark: $(grep -v 'Running as user' "$tmp/ts.err" | head -1)"
	rc=1; continue
fi

python3 - "$tmp/ts.tsv" "$tmp/pm.json" "${fields[*]}" "$lt" <<'EOF' || rc=1
import ipaddress, json, sys
from collections import Counter

tsv, pmjson, names, lt = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4]
PI_ERROR = 0x800000
EXT = {0: 'ipv6.hopopts.nxt', 43: 'ipv6.routing.nxt', 44: 'ipv6.fraghdr.nxt',
       60: 'ipv6.dstopts.nxt'}
PROTO = {6: 'tcp', 17: 'udp', 1: 'icmp', 58: 'icmp6', 132: 'sctp', 50: 'esp',
         51: 'ah', 47: 'gre', 4: 'ipip', 41: 'ipv6_encap'}
TAGS = ('vlan', 'ieee8021ad')

def vals(row, f):
    v = row.get(f, '')
    return v.split(',') if v else []

def num(s):
    return int(s, 0)

# WireGuard by its header and length (README.md, Protocol classes).
WG_LEN = {1: lambda n: n == 148, 2: lambda n: n == 92, 3: lambda n: n == 64,
          4: lambda n: n >= 32 and n % 16 == 0}

def is_wireguard(p, plen):
    return len(p) >= 4 and p[0] in WG_LEN and p[1:4] == bytes(3) and WG_LEN[p[0]](plen)

def dst_of(row):
    return str(ipaddress.ip_address((vals(row, 'ip.dst') + vals(row, 'ipv6.dst'))[0]))

TUNNELS = ('gre', 'ipip', 'ipv6_encap', 'vxlan', 'geneve', 'gtp_u')

def owner(field, protos):
    """The layer of frame.protocols a field belongs to: its longest dotted
    prefix found there (ipv6.hopopts.nxt: ipv6.hopopts), else its first
    part; None for the frame's own fields."""
    parts = field.split('.')
    if parts[0] in ('frame', '_ws'):
        return None
    for n in range(len(parts) - 1, 0, -1):
        if '.'.join(parts[:n]) in protos:
            return '.'.join(parts[:n])
    return {'pppoe': 'pppoes'}.get(parts[0], parts[0])

def sub_row(row, start):
    """The row as the layers from frame.protocols[start] on would give it:
    each field's occurrences in the layers before start dropped."""
    protos = row['frame.protocols'].split(':')
    before = Counter(protos[:start])
    new = {}
    for f, v in row.items():
        if f == 'frame.protocols' or f.startswith('-'):
            continue
        layer = owner(f, protos)
        k = before.get(layer, 0) if layer else 0
        new[f] = ','.join(v.split(',')[k:]) if v else ''
    new['frame.protocols'] = ':'.join(protos[start:])
    return new

def tunnel_inner(row, cls):
    """docs/classes.md's Tunnels rules: where in frame.protocols the packet
    inside a tunnel of class cls starts, or ('reason', name), or ('none',
    why). UDP tunnels by their header's bytes (the outer UDP payload)."""
    protos = row['frame.protocols'].split(':')
    ip = int(row['-ip'])
    if cls in ('ipip', 'ipv6_encap'):
        for j in range(ip + 1, len(protos)):
            if protos[j] in ('ip', 'ipv6'):
                return j
        return ('none', 'no inner IP layer')
    if cls == 'gre':
        if 'gre' not in protos[ip:] or not vals(row, 'gre.flags_and_version'):
            return ('none', 'no gre layer')
        fv = num(vals(row, 'gre.flags_and_version')[0])
        if fv & 7 == 1:
            return ('reason', 'tun_other')
        if fv & 7 or fv & 0x4000:
            return ('reason', 'tun_bad_hdr')
        if num(vals(row, 'gre.proto')[0]) not in (0x0800, 0x86dd, 0x6558):
            return ('reason', 'tun_other')
        return protos.index('gre', ip) + 1
    payload = vals(row, 'udp.payload')
    p = bytes.fromhex(payload[0].replace(':', '')) if payload else b''
    layer = {'vxlan': 'vxlan', 'geneve': 'geneve', 'gtp_u': 'gtp'}[cls]
    if len(p) < 8:
        return ('reason', 'tun_trunc')
    if cls == 'vxlan' and not p[0] & 0x08:
        return ('reason', 'tun_bad_hdr')
    if cls == 'geneve':
        if p[0] >> 6:
            return ('reason', 'tun_bad_hdr')
        if len(p) < 8 + (p[0] & 0x3f) * 4:
            return ('reason', 'tun_trunc')
        if int.from_bytes(p[2:4], 'big') not in (0x6558, 0x0800, 0x86dd):
            return ('reason', 'tun_other')
    if cls == 'gtp_u':
        if p[1] != 0xff:
            return ('reason', 'tun_other')
        off, nxt = 8, 0
        if p[0] & 0x07:
            if len(p) < 12:
                return ('reason', 'tun_trunc')
            nxt = p[11] if p[0] & 0x04 else 0
            off = 12
        for _ in range(4):
            if not nxt:
                break
            if off >= len(p):
                return ('reason', 'tun_trunc')
            n = p[off] * 4
            if not n:
                return ('reason', 'tun_bad_hdr')
            if off + n > len(p):
                return ('reason', 'tun_trunc')
            nxt, off = p[off + n - 1], off + n
        if nxt:
            return ('reason', 'tun_other')
        if off >= len(p):
            return ('reason', 'tun_trunc')
        if p[off] >> 4 not in (4, 6):
            return ('reason', 'tun_other')
    if layer not in protos[ip:]:
        return ('none', f'no {layer} layer')
    return protos.index(layer, ip) + 1

def classify(row, inner=False):
    """docs/classes.md's rules over tshark's fields: ('class', dst, name),
    ('reason', None, name), or ('none', None, why). inner: the packet
    inside a tunnel (no carrier peeled there). Keeps in row['-ip'] where
    the IP layer is in frame.protocols."""
    protos = row['frame.protocols'].split(':')
    i = 0
    while i < len(protos) and protos[i] in ('eth', 'sll', 'ethertype') + TAGS:
        i += 1
    # An 802.1ad layer holds the S-tag, and the C-tag too when that is
    # 0x88a8 again: count the IDs.
    # 802.1ad IDs cannot be told apart per layer: with 802.1ad tags in a
    # tunnel's inner frame too, the frame is left out (see below).
    if not inner and 'ieee8021ad' in protos[i:]:
        return ('none', None, 'inner 802.1ad')
    tags = protos[:i].count('vlan') + len(vals(row, 'ieee8021ad.svid')) + \
        len(vals(row, 'ieee8021ad.cvid'))
    if tags > 2:
        return ('reason', None, 'vlan_depth')
    # Carriers: MPLS and PPPoE sessions are peeled, the IP inside counts;
    # inside a tunnel they are not: non_ip.
    if inner and i < len(protos) and protos[i] in ('mpls', 'pppoes'):
        return ('reason', None, 'non_ip')
    if i < len(protos) and protos[i] == 'mpls':
        if len(vals(row, 'mpls.label')) > 8:
            return ('reason', None, 'mpls_depth')
        i += 1
        if i == len(protos):
            return ('none', None, 'nothing after the MPLS stack')
        if protos[i] not in ('ip', 'ipv6'):
            return ('reason', None, 'mpls_other')
    elif i < len(protos) and protos[i] == 'pppoes':
        if (num(vals(row, 'pppoe.version')[0]), num(vals(row, 'pppoe.type')[0]),
                num(vals(row, 'pppoe.code')[0])) != (1, 1, 0) or \
                num(vals(row, 'pppoe.payload_length')[0]) < 2:
            return ('reason', None, 'pppoe_bad_hdr')
        i += 1
        if i < len(protos) and protos[i] == 'ppp':
            i += 1
        if i == len(protos):
            return ('none', None, 'no PPP protocol')
        if protos[i] not in ('ip', 'ipv6'):
            return ('reason', None, 'pppoe_other')
    if i == len(protos) or protos[i] not in ('ip', 'ipv6'):
        et = vals(row, 'vlan.etype') if 'vlan' in protos[:i] else \
            vals(row, 'eth.type') or vals(row, 'sll.etype')
        if et and num(et[0]) == 0x88e5:
            return ('reason', None, 'macsec')
        if et and num(et[0]) not in (0x0800, 0x86dd, 0x8100, 0x88a8, 0x8847,
                                     0x8848, 0x8864):
            return ('reason', None, 'non_ip')
        return ('none', None, 'no IP layer')
    nonfirst = False
    row['-ip'] = str(i)
    if protos[i] == 'ip':
        dst = vals(row, 'ip.dst')[0]
        proto = num(vals(row, 'ip.proto')[0])
        nonfirst = num(vals(row, 'ip.frag_offset')[0]) != 0
    else:
        dst = vals(row, 'ipv6.dst')[0]
        proto = num(vals(row, 'ipv6.nxt')[0])
        queues = {t: vals(row, f) for t, f in EXT.items()}
        frag_offs = vals(row, 'ipv6.fraghdr.offset')
        walked = 0
        while proto in EXT:
            walked += 1
            if walked > 8:
                return ('reason', None, 'ip6_ext_depth')
            q = queues[proto]
            if not q:
                return ('none', None, 'extension header not dissected')
            kind, proto = proto, num(q.pop(0))
            if kind == 44 and num(frag_offs.pop(0)) != 0:
                nonfirst = True
                break
    cls = PROTO.get(proto, 'other')
    # The headers the classifier reads must be there: tshark stops without
    # an error at an IPv6 chain cut short ("payload length exceeds framing
    # length" is a warning), and then shows no such layer.
    need = {'tcp': 'tcp', 'udp': 'udp', 'esp': 'esp', 'ah': 'ah'}.get(cls)
    if need and not nonfirst and need not in protos[i + 1:]:
        return ('none', None, f'no {need} layer')
    # AH's Payload Len 0 (8 bytes, no room for the sequence number):
    # Wireshark decodes it, protomix says l4_bad_hdr.
    if cls == 'ah' and not nonfirst and num(vals(row, 'ah.length')[0]) < 1:
        return ('reason', None, 'l4_bad_hdr')
    if cls == 'udp' and not nonfirst:
        sp, dp = num(vals(row, 'udp.srcport')[0]), num(vals(row, 'udp.dstport')[0])
        payload = vals(row, 'udp.payload')
        payload = payload[0].replace(':', '') if payload else ''
        ulen = num(vals(row, 'udp.length')[0])
        if 500 in (sp, dp):
            cls = 'ike'
        elif 4500 in (sp, dp):
            if ulen - 8 < 4 or payload[:8] == '00000000':
                cls = 'ike'
            else:
                cls = 'esp_udp'
        elif dp == 4789:
            cls = 'vxlan'
        elif dp == 6081:
            cls = 'geneve'
        elif 2152 in (sp, dp) and ulen > 8 and not payload:
            return ('none', None, 'no GTP byte')
        elif 2152 in (sp, dp) and ulen > 8 and int(payload[:2], 16) >> 4 == 3:
            cls = 'gtp_u'
        elif is_wireguard(bytes.fromhex(payload), ulen - 8):
            cls = 'wireguard'
        elif 'wg' in protos[i + 1:]:
            return ('reason', None, 'wg_unaligned')
    return ('class', str(ipaddress.ip_address(dst)), cls)

rows = []
with open(tsv) as f:
    for line in f:
        rows.append(dict(zip(names, line.rstrip('\n').split('\t'))))
pm = json.load(open(pmjson))
got = {d['addr']: Counter(d['packets']) for d in pm['destinations']}

want, clean, errors, nonip, unsure = {}, 0, 0, 0, 0
inner_seen = Counter()	# --decap: inner packets the rules count, per destination
error_dsts, reasons = set(), Counter()
for row in rows:
    sev = [num(s) for s in vals(row, '_ws.expert.severity')]
    # A frame cut short of its IPv6 payload length is only a warning to
    # Wireshark (the same for IPv4 is an error), and in a first fragment it
    # hides a transport header cut short: an error here too.
    bad = bool(row.get('_ws.malformed')) or bool(row.get('_ws.short')) or \
        bool(row.get('ipv6.plen_exceeds_framing')) or \
        any(s >= PI_ERROR for s in sev)
    try:
        kind, dst, what = classify(row)
    except (IndexError, ValueError):
        kind, dst, what = 'none', None, 'fields missing'
    if bad:
        errors += 1
        v4 = vals(row, 'ip.dst'); v6 = vals(row, 'ipv6.dst')
        # every IP layer's: a tunnel's inner destination too
        for a in v4 + v6:
            try:
                error_dsts.add(str(ipaddress.ip_address(a)))
            except ValueError:
                pass
        if kind == 'reason' and what == 'non_ip':
            nonip += 1
        continue
    clean += 1
    if kind == 'class':
        want.setdefault(dst, Counter())[what] += 1
        # --decap: the packet inside a tunnel under its own destination
        if what in TUNNELS:
            try:
                start = tunnel_inner(row, what)
                if isinstance(start, int):
                    ik, idst, iwhat = classify(sub_row(row, start), inner=True)
                    if ik == 'class':
                        want.setdefault(idst, Counter())[iwhat] += 1
                        inner_seen[idst] += 1
                    elif ik == 'reason' and iwhat == 'wg_unaligned':
                        want.setdefault(dst_of(sub_row(row, start)), Counter())['udp'] += 1
            except (IndexError, ValueError):
                pass
    elif kind == 'reason':
        reasons[what] += 1
        if what == 'non_ip':
            nonip += 1
        if what == 'wg_unaligned':	# counted as udp by protomix
            want.setdefault(dst_of(row), Counter())['udp'] += 1
    else:
        unsure += 1
        if what == 'inner 802.1ad':	# its destinations are not compared
            for a in vals(row, 'ip.dst') + vals(row, 'ipv6.dst'):
                error_dsts.add(str(ipaddress.ip_address(a)))

failed = 0
def check(name, ok, why):
    global failed
    if ok:
        print(f"PASS tshark_diff/{lt}/{name}")
    else:
        failed += 1
        print(f"FAIL tshark_diff/{lt}/{name}: {why}")

frames = pm['stats']['frames']
check('frames', frames == len(rows), f"protomix saw {frames} frames, tshark {len(rows)}")

# Every destination of a frame tshark decodes without error: exactly the
# classes the rules give. Destinations of frames tshark flags are left out.
bad = []
for dst, c in sorted(want.items()):
    if dst in error_dsts:
        continue
    if got.get(dst, Counter()) != c:
        bad.append(f"{dst}: protomix {dict(got.get(dst, {}))}, tshark {dict(c)}")
extra = [d for d in got if d not in want and d not in error_dsts]
compared = sum(sum(c.values()) for d, c in want.items() if d not in error_dsts)
check('classes', not bad and not extra,
      f"{len(bad)} destinations differ, e.g. {bad[:3]}; {len(extra)} only in protomix, e.g. {extra[:3]}")
inner_compared = sum(n for d, n in inner_seen.items() if d not in error_dsts)
check('inner', inner_compared > 0,
      "no packet inside a tunnel compared (every inner destination left out)")
print(f"# {lt}: {inner_compared} packets inside tunnels compared under "
      f"{len([d for d in inner_seen if d not in error_dsts])} inner destinations")
print(f"# {lt}: {len(rows)} frames: {clean} decoded by tshark without error, {errors} with "
      f"errors (left out); {compared} compared per destination over "
      f"{len([d for d in want if d not in error_dsts])} destinations; by reason: {dict(reasons)}; "
      f"{unsure} without the headers the rules need")

# Deliberate differences: frames Wireshark decodes cleanly that protomix
# counts under no destination, by docs/classes.md's bounds.
mal = pm['stats']['malformed']
for r, seen in (('vlan_depth', True), ('ip6_ext_depth', True), ('l4_bad_hdr', False),
                ('mpls_depth', True), ('pppoe_bad_hdr', True)):
    check(f'{r}', mal.get(r, 0) >= reasons[r] and (reasons[r] > 0 or not seen),
          f"protomix {mal.get(r, 0)}, frames tshark decodes cleanly beyond the bound {reasons[r]}")
check('non_ip', pm['stats']['non_ip'] == nonip,
      f"protomix non_ip {pm['stats']['non_ip']}, tshark frames with a non-IP ethertype {nonip}")
# Well-formed frames with no IP to count: the same number as the rules
# find in frames tshark decodes cleanly (malformed ones are left out, and
# for these reasons tshark finds none malformed in the corpus's cases).
for r in ('mpls_other', 'pppoe_other', 'macsec'):
    check(r, pm['stats'].get(r, 0) >= reasons[r] and reasons[r] > 0,
          f"protomix {pm['stats'].get(r, 0)}, tshark {reasons[r]}")
sys.exit(1 if failed else 0)
EOF
done
exit $rc
