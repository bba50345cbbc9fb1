#!/usr/bin/env bash
# The C API's ABI check: compares libdiffevent_c against the baseline in capi/abi/ with abidiff
# (Debian's abigail-tools) and fails on any difference: a removed or changed function, a
# struct field removed, reordered or resized. Additions also fail until the baseline is
# updated on purpose (with a DIFFEVENT_API_VERSION bump): docs/c-api.md, "ABI policy".
# Usage: bash scripts/abi_check.sh LIB.so           check
#        bash scripts/abi_check.sh LIB.so --update  rewrite the baseline from LIB.so
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LIB=${1:?usage: abi_check.sh LIB.so [--update]}
BASELINE="$ROOT/capi/abi/diffevent_c.abi"
SUPP="$ROOT/capi/abi/diffevent_c.abignore"
for tool in abidw abidiff; do
  command -v "$tool" >/dev/null || { echo "abi_check: $tool not found: install Debian's abigail-tools" >&2; exit 2; }
done
DUMP_FLAGS=(--exported-interfaces-only --headers-dir "$ROOT/capi/include" --drop-private-types
            --suppressions "$SUPP" --no-corpus-path --no-show-locs)
if [ "${2:-}" = "--update" ]; then
  abidw "${DUMP_FLAGS[@]}" --out-file "$BASELINE" "$LIB"
  # Paths relative to the source tree: the baseline names no build machine's folders.
  sed -i -e "s|path='$ROOT/|path='|g" -e "s|comp-dir-path='[^']*'|comp-dir-path=''|g" -e "s|path='[^']*/build[^']*'|path='build'|g" "$BASELINE"
  echo "abi_check: baseline rewritten from $LIB"
  exit 0
fi
current=$(mktemp --suffix=.abi)
trap 'rm -f "$current"' EXIT
abidw "${DUMP_FLAGS[@]}" --out-file "$current" "$LIB"
sed -i -e "s|path='$ROOT/|path='|g" -e "s|comp-dir-path='[^']*'|comp-dir-path=''|g" -e "s|path='[^']*/build[^']*'|path='build'|g" "$current"
set +e
abidiff --suppressions "$SUPP" --no-show-locs "$BASELINE" "$current"
rc=$?
set -e
if [ $rc -eq 0 ]; then
  echo "abi_check: $(basename "$LIB") matches the baseline ($(grep -c '<elf-symbol' "$BASELINE") symbols)"
  exit 0
fi
# abidiff's exit status is a bit mask: 1 error, 2 usage, 4 ABI change, 8 incompatible change.
what="an ABI change"
[ $((rc & 8)) -ne 0 ] && what="an INCOMPATIBLE ABI change"
[ $((rc & 3)) -ne 0 ] && what="an abidiff error"
echo "abi_check: $what in $(basename "$LIB") against capi/abi/diffevent_c.abi (abidiff exit $rc)." >&2
echo "abi_check: if intended (additions only, API version bumped), run: bash scripts/abi_check.sh $LIB --update" >&2
exit 1
