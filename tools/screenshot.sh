#!/usr/bin/env bash
# docs/incident.png: the lab incident of tools/demo.sh as its HTML report
# (protomix snapshot -f html) shows it, rendered by headless chromium.
# Needs root (the demo) and chromium (tools/install-deps.sh installs it).
# Leaves build/incident.html, build/demo-incident.json and the demo's
# output in build/screenshot-demo.log.
set -u
cd "$(dirname "$0")/.." || exit 1
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { echo "screenshot: chromium is missing (tools/install-deps.sh)" >&2; exit 2; }
./tools/demo.sh >build/screenshot-demo.log 2>&1 ||
	{ echo "screenshot: the demo failed (build/screenshot-demo.log)" >&2; exit 1; }
build/protomix snapshot --input build/demo-incident.json -f html -o build/incident.html || exit
mkdir -p docs
ud=$(mktemp -d)
trap 'rm -rf "$ud"' EXIT
timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
	--disable-component-update --disable-sync --no-first-run --user-data-dir="$ud" \
	--hide-scrollbars --screenshot="$PWD/docs/incident.png" --window-size=1100,1250 \
	"file://$PWD/build/incident.html" >build/screenshot-chromium.log 2>&1
[ -s docs/incident.png ] || { echo "screenshot: chromium wrote nothing (build/screenshot-chromium.log)" >&2; exit 1; }
echo "screenshot: docs/incident.png (from build/incident.html)"
