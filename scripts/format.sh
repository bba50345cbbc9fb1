#!/usr/bin/env bash
# clang-format over every C, C++ and CUDA source of the repository (.clang-format at the root).
# Usage: bash scripts/format.sh          rewrite the files in place
#        bash scripts/format.sh --check  list the files that differ and fail (run by scripts/test.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
command -v clang-format >/dev/null || { echo "format: clang-format not found: install Debian's clang-format (scripts/setup.sh)" >&2; exit 2; }
mapfile -t files < <(find include lib capi tools lab tests bench examples -type f \
  \( -name '*.c' -o -name '*.h' -o -name '*.cpp' -o -name '*.hpp' -o -name '*.cu' -o -name '*.cuh' \) | sort)
if [ "${1:-}" = "--check" ]; then
  bad=()
  for f in "${files[@]}"; do
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
  done
  if [ ${#bad[@]} -gt 0 ]; then
    printf 'format: not clang-formatted (run bash scripts/format.sh): %s\n' "${bad[@]}" >&2
    exit 1
  fi
  echo "format: ${#files[@]} files clang-formatted"
else
  clang-format -i "${files[@]}"
fi
