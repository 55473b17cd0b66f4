#!/usr/bin/env bash
# `protomix watch --metrics ADDR:PORT` in the lab of tests/lib/lab.sh: the
# Prometheus text format on /metrics with exact counts for crafted traffic
# (tcp4 then esp4 to 10.20.0.80: a learned protocol_shift), checked by
# promtool; a real Prometheus server (Debian's package) scraping it inside
# the gateway namespace, queried with PromQL, with the README's alerting
# rules firing; the --metrics-top cap and its dst="other" sums; IPv6
# listening; 404 elsewhere; bad --metrics values (exit 2) and a port in use
# (exit 1), with nothing attached. Every server listens on the gateway
# namespace's loopback only; Prometheus and its data are removed on every
# way out (lab_bg, lab_cleanup).
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh

skip_unless_root metrics
need_cmds metrics ip tc jq bpftool python3
SENDFRAMES=$LAB_ROOT/tests/build/sendframes
if [ ! -x "$PROTOMIX" ]; then
	fail metrics "$PROTOMIX not built (run make)"
	exit 1
fi
if [ ! -x "$SENDFRAMES" ]; then
	fail metrics "$SENDFRAMES not built (run make tests)"
	exit 1
fi
HAVE_PROM=yes
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 ||
	HAVE_PROM=no

P=pmt-$$-mx
lab_up "$P" || { fail lab_up "cannot build the lab $P"; exit 1; }
GW=$(lab_ns gw)
MPORT=9464		# protomix, in the gateway namespace
PPORT=9090		# Prometheus, in the gateway namespace
URL=http://127.0.0.1:$MPORT/metrics
TCP4_BYTES=72 ESP4_BYTES=100	# IP bytes of one frame (sendframes --list)

# --- helpers ---------------------------------------------------------------

attached() { lab_attached gw gw-ws; }

# value FILE SERIES: the value of SERIES (name{labels}, exactly) in FILE
value() { awk -v s="$2" 'index($0, s " ") == 1 { print $2 }' "$1"; }

# scrape FILE: GET /metrics into FILE; 0 if it answered 200
scrape() { [ "$(lab_fetch "$URL" "$1")" = 200 ]; }

# scrape_until FILE SERIES WANT [SECONDS]: scrape until SERIES is WANT
# (the watch reads the maps every interval); 0 if it got there
scrape_until()
{
	local i

	for ((i = 0; i < ${4:-10} * 5; i++)); do
		scrape "$1" && [ "$(value "$1" "$2")" = "$3" ] && return 0
		sleep 0.2
	done
	return 1
}

pk() { echo "protomix_packets_total{dst=\"$1\",class=\"$2\"}"; }
by() { echo "protomix_bytes_total{dst=\"$1\",class=\"$2\"}"; }

# --- Prometheus ------------------------------------------------------------

PROM=$LAB_DIR/prometheus	# config, rules, data: removed with LAB_DIR

# The README's alerting rules, as printed there (no `for`: they fire at
# the first evaluation that sees the increase).
write_prom_config()
{
	mkdir -p "$PROM/data"
	cat >"$PROM/rules.yml" <<'EOF'
groups:
  - name: protomix
    rules:
      - alert: ProtomixUnexpectedProtocol
        expr: increase(protomix_alerts_total{kind=~"unexpected_protocol|protocol_shift"}[5m]) > 0
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.instance }}: a destination receives what it should not ({{ $labels.kind }})"
      - alert: ProtomixEspToTcpService
        expr: increase(protomix_packets_total{class=~"esp|ah|esp_udp", dst=~"10\\.20\\..+"}[5m]) > 0
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.dst }} receives {{ $labels.class }}, where TCP is expected"
EOF
	cat >"$PROM/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $PROM/rules.yml
scrape_configs:
  - job_name: protomix
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
EOF
}

# promql QUERY: the values of an instant query, sorted, one line each
promql()
{
	lab_exec gw "$LAB_PYTHON" - "$PPORT" "$1" <<'EOF' 2>/dev/null
import json, sys, urllib.parse, urllib.request
url = "http://127.0.0.1:%s/api/v1/query?query=%s" % (
    sys.argv[1], urllib.parse.quote(sys.argv[2]))
r = json.load(urllib.request.urlopen(url, timeout=5))
for v in sorted(s["value"][1] for s in r["data"]["result"]):
    print(v)
EOF
}

# promql_until QUERY WANT [SECONDS]: until the query's values are WANT
promql_until()
{
	local i

	for ((i = 0; i < ${3:-20} * 2; i++)); do
		[ "$(promql "$1")" = "$2" ] && return 0
		sleep 0.5
	done
	return 1
}

# --- 1: exact counts, promtool, Prometheus ---------------------------------

n=m1
SHIFT=protomix_alerts_total{kind=\"protocol_shift\"}
# every violation sampled (--sample-rate well over the traffic): alerts exact
if start "$n" watch --json -i 0.2 --sample-rate 1000 --metrics "127.0.0.1:$MPORT" gw-ws; then
	if grep -qxF "protomix: metrics on $URL" "$(pm_errfile "$n")"; then
		pass metrics_said_where
	else
		fail metrics_said_where "stderr: $(cat "$(pm_errfile "$n")")"
	fi
	prom_up=no
	if [ "$HAVE_PROM" = yes ]; then
		write_prom_config
		if lab_exec gw promtool check rules "$PROM/rules.yml" >"$PROM/check.out" 2>&1; then
			pass promtool_check_readme_rules
		else
			fail promtool_check_readme_rules "$(cat "$PROM/check.out")"
		fi
		lab_bg prom gw prometheus --config.file="$PROM/prometheus.yml" \
			--storage.tsdb.path="$PROM/data" \
			--web.listen-address="127.0.0.1:$PPORT" --log.level=warn
		# its first scrape of protomix, before any traffic: every
		# counter below starts at 0 in Prometheus, as in production
		if promql_until 'up{job="protomix"}' 1 30; then
			pass prometheus_scrapes
			prom_up=yes
		else
			fail prometheus_scrapes "no successful scrape in 30 s: $(tail -5 "$LAB_DIR/prom.err")"
		fi
	else
		skip prometheus "the prometheus package (prometheus, promtool) is not installed: make deps"
	fi

	send_ws tcp4 7
	# .80 exported with every class at 0 but tcp: its esp series exists
	# before the first ESP packet, so increase() sees ESP arrive
	scrape_until "$LAB_DIR/m1.tcp" "$(pk 10.20.0.80 tcp)" 7 ||
		fail scrape_tcp "no tcp 7 for 10.20.0.80: $(grep 10.20.0.80 "$LAB_DIR/m1.tcp" | head -3)"
	[ "$prom_up" = yes ] && { promql_until "$(pk 10.20.0.80 esp)" 0 ||
		fail prometheus_esp_zero "not 0 before ESP: '$(promql "$(pk 10.20.0.80 esp)")'"; }
	send_ws esp4 300

	m=$LAB_DIR/m1.prom
	if scrape_until "$m" "$(pk 10.20.0.80 esp)" 300; then
		pass scrape_esp_300
	else
		fail scrape_esp_300 "got '$(value "$m" "$(pk 10.20.0.80 esp)")'"
	fi
	# the alerts are counted as the ring buffer is read: wait for all
	scrape_until "$m" "$SHIFT" 300 3
	assert_eq scrape_dest_80 "esp=300 tcp=7 esp_bytes=$((300 * ESP4_BYTES)) tcp_bytes=$((7 * TCP4_BYTES)) udp=0 ah=0" \
		"esp=$(value "$m" "$(pk 10.20.0.80 esp)") tcp=$(value "$m" "$(pk 10.20.0.80 tcp)") esp_bytes=$(value "$m" "$(by 10.20.0.80 esp)") tcp_bytes=$(value "$m" "$(by 10.20.0.80 tcp)") udp=$(value "$m" "$(pk 10.20.0.80 udp)") ah=$(value "$m" "$(pk 10.20.0.80 ah)")"
	assert_eq scrape_alerts "shift=300 unexpected=0 one_way=0" \
		"shift=$(value "$m" "$SHIFT") unexpected=$(value "$m" 'protomix_alerts_total{kind="unexpected_protocol"}') one_way=$(value "$m" 'protomix_alerts_total{kind="one_way_ipsec"}')"
	assert_eq scrape_violations "shift=300 unexpected=0" \
		"shift=$(value "$m" 'protomix_violations_total{kind="protocol_shift"}') unexpected=$(value "$m" 'protomix_violations_total{kind="unexpected_protocol"}')"
	assert_eq scrape_sampling "sampled=300 suppressed=0 drops=0" \
		"sampled=$(value "$m" protomix_samples_total) suppressed=$(value "$m" protomix_samples_suppressed_total) drops=$(value "$m" protomix_ringbuf_drops_total)"
	# every frame at tc ingress of gw-ws: the 307 sent (nothing else
	# arrives there in the lab); none at XDP
	assert_eq scrape_frames "tc_ingress=307 xdp=0 non_ip=0 max_dests=262144" \
		"tc_ingress=$(value "$m" 'protomix_frames_total{hook="tc_ingress"}') xdp=$(value "$m" 'protomix_frames_total{hook="xdp"}') non_ip=$(value "$m" protomix_non_ip_total) max_dests=$(value "$m" protomix_max_dests)"
	# no tunnel in this traffic: nothing inside one, a series per reason
	# (22, the tun_* ones included) all at 0
	assert_eq scrape_inner "inner=0 reasons=22 sum=0" \
		"inner=$(value "$m" protomix_inner_packets_total) reasons=$(grep -c '^protomix_inner_reason_total{reason="' "$m") sum=$(awk '/^protomix_inner_reason_total\{/ { s += $2 } END { print s + 0 }' "$m")"
	# the alerts on stdout (JSON) are the ones counted
	assert_eq scrape_alerts_match_stdout 300 \
		"$(jq -c 'select(.type == "alert" and .kind == "protocol_shift")' "$(pm_out "$n")" 2>/dev/null | wc -l | tr -d ' ')"
	if [ "$HAVE_PROM" = yes ]; then
		if promtool check metrics <"$m" >"$LAB_DIR/promtool.out" 2>&1; then
			pass promtool_check_metrics
		else
			fail promtool_check_metrics "$(head -5 "$LAB_DIR/promtool.out")"
		fi
	fi
	# every family has HELP and TYPE, every sample a TYPE before it
	assert_eq exposition_help_type "" "$(awk '
		/^# HELP / { help[$3] = 1; next }
		/^# TYPE / { if (!help[$3]) print "no HELP: " $3; type[$3] = 1; next }
		/^#/ { next }
		{ name = $0; sub(/[{ ].*/, "", name); if (!type[name]) print "no TYPE: " name }' "$m" | sort -u | head -3)"
	assert_eq http_not_found "404 404" \
		"$(lab_fetch "http://127.0.0.1:$MPORT/" "$LAB_DIR/nf") $(lab_fetch "http://127.0.0.1:$MPORT/metrics/x" "$LAB_DIR/nf")"

	if [ "$prom_up" = yes ]; then
		if promql_until "$(pk 10.20.0.80 esp)" 300; then
			pass prometheus_query_esp_300
		else
			fail prometheus_query_esp_300 "got '$(promql "$(pk 10.20.0.80 esp)")'"
		fi
		assert_eq prometheus_query_tcp_7 7 "$(promql "$(pk 10.20.0.80 tcp)")"
		assert_eq prometheus_query_alerts 300 "$(promql "$SHIFT")"
		if promql_until 'ALERTS{alertname="ProtomixUnexpectedProtocol",alertstate="firing",kind="protocol_shift"}' 1; then
			pass prometheus_rule_alerts_fires
		else
			fail prometheus_rule_alerts_fires "ALERTS: $(promql 'ALERTS')"
		fi
		if promql_until 'ALERTS{alertname="ProtomixEspToTcpService",alertstate="firing",dst="10.20.0.80",class="esp"}' 1; then
			pass prometheus_rule_esp_fires
		else
			fail prometheus_rule_esp_fires "ALERTS: $(promql 'ALERTS')"
		fi
		lab_bg_stop prom TERM 10
		assert_eq prometheus_stopped 0 "$?"
	fi
	stop "$n"
fi

# --- 2: the --metrics-top cap, dst="other", a stable exported set ------------

# Destinations behind the load balancer's MAC: the gateway forwards to it,
# it drops them (not its addresses, no forwarding) and sends nothing back,
# so the gateway sees exactly what is sent here.
for i in 1 2 3 4 5; do
	ip -n "$GW" neigh replace "10.20.0.9$i" lladdr "$LAB_MAC_LB0" dev gw-lb nud permanent
done
n=top
m=$LAB_DIR/top.prom
if start "$n" watch -i 0.2 --metrics "127.0.0.1:$MPORT" --metrics-top 3 gw-ws; then
	# busiest first: every scrape, whatever it sees of this, exports .91-.93
	send_ws esp4 50 --dst 10.20.0.91
	send_ws esp4 40 --dst 10.20.0.92
	send_ws esp4 30 --dst 10.20.0.93
	send_ws esp4 20 --dst 10.20.0.94
	send_ws esp4 10 --dst 10.20.0.95
	scrape_until "$m" "$(pk other esp)" 30 ||
		fail top_other_esp "other esp '$(value "$m" "$(pk other esp)")', not 30"
	assert_eq top_dst_series "10.20.0.91 10.20.0.92 10.20.0.93 other" \
		"$(sed -n 's/^protomix_packets_total{dst="\([^"]*\)".*/\1/p' "$m" | sort -u | paste -sd' ')"
	# a series per class (17, with vxlan, geneve, gtp_u) for each of the 4 dst
	assert_eq top_series_count "$((4 * 17)) $((4 * 17))" \
		"$(grep -c '^protomix_packets_total{' "$m") $(grep -c '^protomix_bytes_total{' "$m")"
	assert_eq top_values "91=50 92=40 93=30 other=30 other_bytes=$((30 * ESP4_BYTES)) other_tcp=0" \
		"91=$(value "$m" "$(pk 10.20.0.91 esp)") 92=$(value "$m" "$(pk 10.20.0.92 esp)") 93=$(value "$m" "$(pk 10.20.0.93 esp)") other=$(value "$m" "$(pk other esp)") other_bytes=$(value "$m" "$(by other esp)") other_tcp=$(value "$m" "$(pk other tcp)")"
	assert_eq top_gauges "dests=5 exported=3 evicted=0" \
		"dests=$(value "$m" protomix_dests) exported=$(value "$m" protomix_exported_dests) evicted=$(value "$m" protomix_evicted_dests_total)"
	# .95 becomes the busiest: the exported set stays (its series do
	# not come and go), .95 counts in other
	send_ws esp4 1000 --dst 10.20.0.95
	if scrape_until "$m" "$(pk other esp)" 1030; then
		pass top_stable_other
	else
		fail top_stable_other "other esp '$(value "$m" "$(pk other esp)")', not 1030"
	fi
	assert_eq top_stable_set "10.20.0.91 10.20.0.92 10.20.0.93 other" \
		"$(sed -n 's/^protomix_packets_total{dst="\([^"]*\)".*/\1/p' "$m" | sort -u | paste -sd' ')"
	stop "$n"
fi

# --- 3: IPv6, dual stack -----------------------------------------------------

n=v6
if start "$n" watch -i 0.2 --metrics "[::]:$MPORT" gw-ws; then
	assert_eq listen_any_v6_v4 "200 200" \
		"$(lab_fetch "http://[::1]:$MPORT/metrics" "$LAB_DIR/v6a") $(lab_fetch "$URL" "$LAB_DIR/v6b")"
	stop "$n"
fi

# --- 4: refused: bad values (2), a port in use (1); nothing attached --------

# refused NAME RC WORD ARGS...: protomix ARGS exits RC with one line on
# stderr that contains WORD, and attaches nothing.
refused()
{
	local name=$1 want=$2 word=$3 named=no e=$LAB_DIR/$1.err rc

	shift 3
	timeout 20 ip netns exec "$GW" "$PROTOMIX" "$@" >/dev/null 2>"$e" </dev/null
	rc=$?
	grep -qF -- "$word" "$e" && named=yes
	assert_eq "$name" "rc=$want lines=1 names \"$word\"=yes attached=" \
		"rc=$rc lines=$(wc -l <"$e" | tr -d ' ') names \"$word\"=$named attached=$(attached)"
}

for v in 127.0.0.1 127.0.0.1:0 127.0.0.1:65536 127.0.0.1:http 10.0.0:9100 \
	 intranet.example:9100 '[::1]9100' '[127.0.0.1]:9100' ''; do
	refused "bad_metrics_${v//[^0-9a-z]/_}" 2 "invalid --metrics '$v'" \
		watch --metrics "$v" gw-ws
done
refused bad_metrics_top 2 "--metrics-top" watch --metrics ":$MPORT" --metrics-top 0 gw-ws
refused metrics_top_alone 2 "--metrics-top needs --metrics" watch --metrics-top 5 gw-ws

# someone listens on the port already (SO_REUSEADDR: the connections of
# the runs above may linger in TIME_WAIT)
lab_bg holder gw "$LAB_PYTHON" -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
print("listening", flush=True)
time.sleep(60)' "$MPORT"
for ((i = 0; i < 50; i++)); do
	grep -qs listening "$LAB_DIR/holder.out" && break
	sleep 0.1
done
grep -qs listening "$LAB_DIR/holder.out" ||
	fail port_holder "cannot listen on $MPORT: $(tail -1 "$LAB_DIR/holder.err")"
refused port_in_use 1 "cannot serve metrics on 127.0.0.1:$MPORT: Address already in use" \
	watch --metrics "127.0.0.1:$MPORT" gw-ws
lab_bg_stop holder KILL

# --- nothing left ------------------------------------------------------------

no_leftovers "$P"
assert_eq prometheus_data_removed "" "$(ls -d "$PROM" 2>/dev/null)"
