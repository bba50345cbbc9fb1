#!/usr/bin/env bash
# Peak memory of reading a 100-million-event file, against its in-memory size (13 bytes/event).
# Usage: bash scripts/measure_reader_memory.sh [BUILD_DIR] [N] [EXT...]
set -euo pipefail
BUILD=${1:-build}
N=${2:-100000000}
shift 2 || true
EXTS=("$@")
[ ${#EXTS[@]} -eq 0 ] && EXTS=(raw npy dat)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
printf "%-6s %12s %12s %14s %8s %18s\n" format events file_MB peak_RSS_MB ratio streaming_RSS_MB
for ext in "${EXTS[@]}"; do
  "$BUILD/bench/make_events_file" "$TMP/e.$ext" "$N"
  size=$(stat -c %s "$TMP/e.$ext")
  rss=$( { /usr/bin/time -f "%M" "$BUILD/bench/make_events_file" --read "$TMP/e.$ext" >/dev/null; } 2>&1 | tail -1)
  srss=$( { /usr/bin/time -f "%M" "$BUILD/diffevent" info "$TMP/e.$ext" >/dev/null; } 2>&1 | tail -1)
  python3 -c "import sys; n=$N; rss=$rss*1024; print('%-6s %12d %12.0f %14.0f %8.2f %18.0f' % ('$ext', n, $size/2**20, rss/2**20, rss/(13*n), $srss/1024))"
  rm -f "$TMP/e.$ext"
done
