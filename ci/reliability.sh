#!/usr/bin/env bash
# The long reliability runs, bounded: the kill -9 loop at 20 kills per phase (tests/processes.rs), then
# every fuzz target for FUZZ_SECONDS (default 45). Ends with a summary: matrix rows covered, processes
# started, kills per phase, fuzz executions. CI runs it from ci/test.sh; alone:
#   bash ci/reliability.sh
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
start=$SECONDS
kills=${KILLS_PER_PHASE:-20}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

echo "=== reliability: 8 processes at once, a dying lock holder, kill -9 x $kills per phase"
cargo test --locked --all-features --test processes -- --kills-per-phase "$kills" | tee "$logs/processes.log"
crash_seconds=$((SECONDS - start))

echo "=== reliability: fuzzing"
bash ci/fuzz.sh | tee "$logs/fuzz.log"

# Rows of the matrix map in tests/README.md, and those with an automated test in either column.
map=$(sed -n '/<!-- matrix-map:begin -->/,/<!-- matrix-map:end -->/p' tests/README.md | grep -E '^\| [A-Z][0-9]+ ')
rows=$(grep -c . <<<"$map")
covered=$(awk -F'|' '{ e=$4; u=$5; gsub(/[ —-]/, "", e); gsub(/[ —-]/, "", u); if (e != "" || u != "") n++ } END { print n+0 }' <<<"$map")
# shared/ sits beside the repository (CI's clone) or two levels up (a worktree).
matrix_rows=
for matrix in "$repo/../shared/TEST-MATRIX.md" "$repo/../../shared/TEST-MATRIX.md"; do
    if [[ -f "$matrix" ]]; then
        matrix_rows=$(grep -E '^\| ' "$matrix" | grep -cvE '^\| (case|---)')
        break
    fi
done

echo
echo "=== reliability summary ($((SECONDS - start)) s)"
echo "matrix rows with automated tests: $covered of $rows mapped in tests/README.md${matrix_rows:+ (TEST-MATRIX.md has $matrix_rows case rows)}"
grep '^SUMMARY processes' "$logs/processes.log" | sed 's/^SUMMARY /  /'
sed -n '/kill -9 loop/,/runs ended/p' "$logs/processes.log" | sed 's/^/  /'
echo "  crash part took ${crash_seconds} s"
grep '^FUZZ ' "$logs/fuzz.log" | sed 's/^FUZZ /  fuzz /'
((covered == rows)) || { echo "reliability: $((rows - covered)) matrix rows have no test" >&2; exit 1; }
