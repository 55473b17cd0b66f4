#!/usr/bin/env bash
# docs_test: docs/ against the code, for what can be checked mechanically.
#
# Without a lab (any user):
#   - no reference to DESIGN[.]md (the starting contract, outside the
#     repository) is left in a tracked file;
#   - every docs/*.md is in docs/README.md's index; every docs/NAME.md a
#     tracked file names exists, and a section it names ('docs/X.md,
#     "Section"') is a heading there; every link between the docs
#     (X.md#anchor) lands on a heading; every source path the docs name
#     (user/..., bpf/..., tests/..., bench/..., packaging/...) exists;
#   - every class and every stats reason `protomix classes` lists has its
#     row in docs/classes.md; its tunnel and IPsec lists are the mask
#     table's; each class's IPFIX protocol (proto_of,
#     user/ipfix_records.c) is the one in its row;
#   - every IPFIX element user/ipfix_records.c exports, and every key of
#     packaging/protomix.conf, is in docs/control.md;
#   - every build/bench.json key bench/run.sh writes is in docs/bench.md.
# With a lab (root): a real watch on the gateway (a rule, --metrics,
# --ipfix, ESP that breaks the rule, a ping): every member of its snapshot
# (top level, interfaces, destinations, stats, hooks), every stats reason
# and class in it, every alert kind and member, and every metric name its
# /metrics serves, is in the doc that describes it.
# A name the code has and the docs lack fails, naming it: a class, reason,
# metric or key added without its documentation is caught here.
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh

D=docs
need_cmds docs jq git || exit 0
[ -x "$PROTOMIX" ] || { fail docs "$PROTOMIX not built (run make)"; exit 1; }
[ -d .git ] || [ -f .git ] || { skip docs "not a git checkout (the checks walk tracked files)"; exit 0; }

# row_has DOC NAME: DOC has a table row whose first or second cell is `NAME`
row_has() { grep -qE "^\| ([0-9]+ \| )?\`$2\` \|" "$1"; }
# mentioned DOC NAME: `NAME` appears in DOC
mentioned() { grep -qF "\`$2\`" "$1"; }
# in_path DOC NAME: NAME is `NAME` or a member of a `dotted.path` in DOC
in_path() { grep -qE "\`([^\` ]*[.\"])?$2([.\"][^\` ]*)?\`" "$1"; }
# check_all NAME DOC HOW WORDS...: PASS NAME if HOW DOC WORD holds for each
check_all()
{
	local name=$1 doc=$2 how=$3 w missing=()

	shift 3
	for w in "$@"; do
		$how "$doc" "$w" || missing+=("$w")
	done
	if [ $# -eq 0 ]; then
		fail "$name" "nothing to check (the code's list came out empty)"
	elif [ ${#missing[@]} -eq 0 ]; then
		pass "$name"
	else
		fail "$name" "not in $doc: ${missing[*]}"
	fi
}

# --- references --------------------------------------------------------------

left=$(git grep -n 'DESIGN[.]md' -- . ':!vmlinux' 2>/dev/null | head -5)
assert_eq docs_no_design_md "" "$left"

"$LAB_PYTHON" - "$D" <<'EOF'
import re, subprocess, sys, os
d = sys.argv[1]

def slug(h):
    h = h.strip().lower()
    h = re.sub(r'[^\w\- ]', '', h)
    return h.replace(' ', '-')

def headings(path):
    out = []
    for line in open(path, encoding='utf-8'):
        m = re.match(r'#+ (.*)', line)
        if m:
            out.append(m.group(1).strip())
    return out

def result(name, bad):
    if bad:
        print(f"FAIL {name}: " + "; ".join(bad[:8]))
    else:
        print(f"PASS {name}")

docs = sorted(f for f in os.listdir(d) if f.endswith('.md'))
index = open(os.path.join(d, 'README.md'), encoding='utf-8').read()
result('docs_index', [f"{f} is not in docs/README.md" for f in docs
                      if f != 'README.md' and f"]({f})" not in index])

bad = []
for f in docs:
    text = open(os.path.join(d, f), encoding='utf-8').read()
    for target, anchor in re.findall(r'\]\(([\w.-]+\.md)(?:#([\w-]+))?\)', text):
        p = os.path.join(d, target)
        if not os.path.exists(p):
            bad.append(f"{f}: {target} does not exist")
        elif anchor and anchor not in [slug(h) for h in headings(p)]:
            bad.append(f"{f}: no heading #{anchor} in {target}")
result('docs_links', bad)

# the source files the docs name, so that a move shows here
bad = []
for f in docs:
    text = open(os.path.join(d, f), encoding='utf-8').read()
    for path in sorted(set(re.findall(
            r'(?<![\w/.])((?:user|bpf|headers|tests|bench|packaging|tools)/[\w./-]*\w)', text))):
        if not os.path.exists(path) and not path.startswith('tests/build/'):
            bad.append(f"{f}: {path} does not exist")
result('docs_source_paths', bad)

files = subprocess.run(['git', 'ls-files', '-z'], capture_output=True, check=True,
                       text=True).stdout.split('\0')
bad = []
for path in files:
    if not path or path.startswith(('vmlinux/', 'docs/')) or not os.path.isfile(path):
        continue
    try:
        text = open(path, encoding='utf-8').read()
    except UnicodeDecodeError:
        continue
    # a section named after the file: 'docs/X.md, "Section"', maybe across
    # a comment's line break
    for m in re.finditer(r'docs/(README\.md|[a-z][\w-]*\.md)(?:,\s*(?:\*\s*)?(?:its )?"([^"\n]+)")?', text):
        target = os.path.join(d, m.group(1))
        if not os.path.exists(target):
            bad.append(f"{path}: {m.group(0)}: no such file")
        elif m.group(2) and not any(m.group(2).lower() in h.lower()
                                    for h in headings(target)):
            bad.append(f"{path}: {m.group(0)}: no such section")
result('docs_references', bad)
EOF

# --- classes and reasons: what the binary knows --------------------------------

listing=$("$PROTOMIX" classes)
classes=$(awk '/^Protocol classes/ { on = 1; next } /^$/ { on = 0 } on { print $1 }' <<<"$listing")
reasons=$(awk '/^Not counted per destination/ { on = 1; next } /^$/ { on = 0 } on { print $1 }' <<<"$listing")
# shellcheck disable=SC2086
check_all docs_classes "$D/classes.md" row_has $classes
# shellcheck disable=SC2086
check_all docs_reasons "$D/classes.md" row_has $reasons

# mask_row NAME: the classes of the mask table's row NAME, one line
mask_row() { awk -F'|' -v m="$1" '$2 ~ "^ " m " $" { gsub(/[` ]+/, " ", $3); print $3 }' "$D/classes.md" | xargs; }
assert_eq docs_mask_tunnel "$(sed -n 's/^Tunnel classes: *//p' <<<"$listing" | xargs)" "$(mask_row tunnel)"
assert_eq docs_mask_ipsec "$(sed -n 's/^IPsec classes: *//p' <<<"$listing" | xargs)" "$(mask_row IPsec)"

"$LAB_PYTHON" - "$D" <<'EOF'
import re, sys
d = sys.argv[1]
src = open('user/ipfix_records.c', encoding='utf-8').read()
m = re.search(r'proto_of\[PM_NCLASS\]\s*=\s*\{(.*?)\};', src, re.S)
pairs = re.findall(r'\[PM_C_(\w+)\]\s*=\s*(\d+)', m.group(1) if m else '')
rows = {}
for line in open(f'{d}/classes.md', encoding='utf-8'):
    cells = [c.strip() for c in line.strip().strip('|').split('|')]
    if len(cells) >= 4 and cells[1].startswith('`'):
        rows[cells[1].strip('`')] = cells[-1]
bad = []
for name, proto in pairs:
    name = name.lower()
    if name not in rows:
        bad.append(f"{name}: no row")
    elif not re.match(rf'{proto}\b', rows[name]):
        bad.append(f"{name}: proto_of {proto}, docs '{rows[name]}'")
if not pairs:
    bad.append("no proto_of table found in user/ipfix_records.c")
print("FAIL docs_ipfix_protocols: " + "; ".join(bad) if bad else "PASS docs_ipfix_protocols")
EOF

# --- IPFIX elements, configuration keys, bench keys ----------------------------

mapfile -t ies < <(grep -oE '(FB_IE_INIT_FULL\(|\{ )"[A-Za-z][A-Za-z0-9]+"' user/ipfix_records.c |
	grep -oE '"[A-Za-z0-9]+"' | tr -d '"' | grep -vx paddingOctets | sort -u)
present() { grep -qw -- "$2" "$1"; }
check_all docs_ipfix_elements "$D/control.md" present "${ies[@]}"
mapfile -t conf < <(sed -n 's/^\([A-Z_][A-Z0-9_]*\)=.*/\1/p' packaging/protomix.conf)
check_all docs_conf_keys "$D/control.md" mentioned "${conf[@]}"

mapfile -t bench < <("$LAB_PYTHON" - <<'EOF'
import re
src = open('bench/run.sh', encoding='utf-8').read().replace("'\"'\"'", "'")
keys = set()
def jq_keys(prog):
    keys.update(re.findall(r'"(\d+)"\s*:', prog))
    prog = re.sub(r'"(?:[^"\\]|\\.)*"', '""', prog)
    prog = re.sub(r'#[^\n]*', '', prog)
    keys.update(re.findall(r'(?<![\w$.])([a-z_][a-z0-9_]*)\s*:', prog))
# the document: the jq program that writes $OUT
m = re.search(r"\njq -n \\\n.*?'(.*?)' >\"\$OUT\.tmp\"", src, re.S)
jq_keys(m.group(1) if m else '')
# the ratios: their names, and the members ratio_rounds and machine_json write
for fn in ('ratio_rounds', 'machine_json'):
    m = re.search(rf'\n{fn}\(\)\n\{{(.*?)\n\}}', src, re.S)
    body = m.group(1) if m else ''
    keys.update(re.findall(r'\\"(\w+)\\":', body))
    jq = re.search(r"jq -R -s -c .*?'(.*?)'", body, re.S)
    if jq:
        jq_keys(jq.group(1))
for name in re.findall(r'\n\s*ratio_rounds "?([\w${}]+)', src):
    if '${cond}' in name:
        conds = re.search(r'for cond in ([\w ]+); do\n(?:.*\n)*?\s*ratio_rounds "iperf_', src)
        for c in (conds.group(1).split() if conds else []):
            keys.add(name.replace('${cond}', c))
    else:
        keys.add(name)
keys -= {'name'}	# ratio_rounds's ($name): the ratio names above
print('\n'.join(sorted(keys)))
EOF
)
check_all docs_bench_keys "$D/bench.md" in_path "${bench[@]}"

# --- a real watch ----------------------------------------------------------------

if [ "$(id -u)" -ne 0 ]; then
	skip docs_live "needs root (network namespaces, BPF)"
	exit 0
fi
if [ ! -x "$SENDFRAMES" ]; then
	fail docs_live "$SENDFRAMES not built (run make tests)"
	exit 1
fi
P=pmt-$$-dc
lab_up "$P" || { fail lab_up "cannot build the lab $P"; exit 1; }
MPORT=9464
S=$LAB_DIR/w.json
M=$LAB_DIR/metrics.txt
start w1 watch -i 0.2 -o "$S" -e 10.20.0.0/16=tcp --metrics 127.0.0.1:$MPORT \
	--ipfix 127.0.0.1:4739 gw-ws || { no_leftovers "$P"; exit 1; }
send_ws esp4 3
lab_exec ws ping -c 1 -W 1 "$LAB_LB4" >/dev/null 2>&1
# scrape until the read after the frames: protomix_violations_total moved
code=$(lab_scrape_until "http://127.0.0.1:$MPORT/metrics" "$M" \
	'^protomix_violations_total\{kind="unexpected_protocol"\} [1-9]' 10)
assert_eq docs_live_scrape 200 "$code"
stop w1

mapfile -t metrics < <(awk '/^# TYPE / { print $3 }' "$M" | sort -u)
check_all docs_metrics "$D/control.md" row_has "${metrics[@]}"

if ! jq -e '.schema and (.alerts | length > 0)' "$S" >/dev/null 2>&1; then
	fail docs_live_snapshot "no snapshot with an alert in $S: $(head -c 300 "$S")"
else
	pass docs_live_snapshot
	keys() { jq -r "$1" "$S" | sort -u; }
	mapfile -t w < <(keys 'keys[]')
	check_all docs_snapshot_top "$D/snapshot.md" row_has "${w[@]}"
	mapfile -t w < <(keys '.interfaces[] | keys[]')
	check_all docs_snapshot_interfaces "$D/snapshot.md" row_has "${w[@]}"
	mapfile -t w < <(keys '.destinations[] | keys[]')
	check_all docs_snapshot_destinations "$D/snapshot.md" row_has "${w[@]}"
	mapfile -t w < <(keys '.stats | keys[]')
	check_all docs_snapshot_stats "$D/snapshot.md" row_has "${w[@]}"
	mapfile -t w < <(keys '.stats.hooks | (keys[], (.[] | keys[]))')
	check_all docs_snapshot_hooks "$D/snapshot.md" mentioned "${w[@]}"
	mapfile -t w < <(keys '.stats | ((.malformed | keys[]), "non_ip")')
	check_all docs_snapshot_reasons "$D/classes.md" row_has "${w[@]}"
	check_all docs_snapshot_reasons_listed "$D/snapshot.md" mentioned "${w[@]}"
	mapfile -t w < <(keys '.stats | ((.packets, .bytes) | keys[])')
	check_all docs_snapshot_classes "$D/classes.md" row_has "${w[@]}"
	mapfile -t w < <(keys '.stats | ((.alerts, .violations) | keys[])')
	check_all docs_alert_kinds "$D/alerts.md" row_has "${w[@]}"
	mapfile -t w < <(keys '.alerts[] | keys[]')
	check_all docs_alert_members "$D/alerts.md" row_has "${w[@]}"
fi
no_leftovers "$P"
