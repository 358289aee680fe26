# test_import.sh - `yardstick import goals` on the seed plan
# (tests/data/goals-2025.md): the goals file it writes passes
# `yardstick validate` and holds a goal for every target row (34), the 9
# milestones and the 33 actions; stdout without -o is the same text; a
# document without a goals table fails with exit 2 and the line.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ys_tmpdir T
SEED="$YS_SOURCE_DIR/tests/data/goals-2025.md"

run_capture rc "$T/i.out" "$T/i.err" "$YARDSTICK" import goals "$SEED" -o "$T/goals.yaml"
assert_eq "$rc" 0 "import exit code ($(cat "$T/i.err"))"
assert_eq "$(wc -c <"$T/i.out")" 0 "import -o prints nothing on stdout"

run_capture rc "$T/v.out" "$T/v.err" "$YARDSTICK" validate -c "$T/goals.yaml"
assert_eq "$rc" 0 "validate exit code on the imported file ($(cat "$T/v.err"))"
assert_contains "$(cat "$T/v.out")" "ok" "validate output"

count() { grep -c -E "$1" "$T/goals.yaml" || true; }
assert_eq "$(count '^  - id: ')" 34 "goals"
assert_eq "$(count '^  - title: ')" 9 "milestones"
assert_eq "$(count '^  - area: ')" 33 "actions"
assert_eq "$(count '^    area: "Kubernetes Cluster Reliability"$')" 4 "Kubernetes goals"
assert_eq "$(count '^    area: "Knative Lambda Operator"$')" 12 "Knative goals"
assert_eq "$(count '^    measure: "manual"$')" 34 "manual measures"
assert_eq "$(count '^    due: "2025-06-30"$')" 7 "due at the end of Q2: 5 goals, the Q2 and Multi-arch milestones"
grep -q -F 'target: ">= 99.5%"' "$T/goals.yaml" || fail "node availability target missing"
# The mis-encoded heading bytes of the seed do not reach the file.
if grep -q -F $'\xc4\x9f' "$T/goals.yaml"; then fail "mojibake survived in the goals file"; fi

# Without -o the same text goes to stdout.
run_capture rc "$T/s.out" "$T/s.err" "$YARDSTICK" import goals "$SEED"
assert_eq "$rc" 0 "import to stdout exit code"
cmp -s "$T/s.out" "$T/goals.yaml" || fail "stdout differs from the -o file"

# A layout the importer cannot read names the line.
printf '# Plan\n\ntext\n\n| Service | Owner |\n|---|---|\n| web | ops |\n' >"$T/bad.md"
run_capture rc "$T/b.out" "$T/b.err" "$YARDSTICK" import goals "$T/bad.md" -o "$T/bad.yaml"
assert_eq "$rc" 2 "import exit code on a document without a goals table"
assert_contains "$(cat "$T/b.err")" "$T/bad.md:5: no goals table found" "import error"
[ ! -e "$T/bad.yaml" ] || fail "a failed import wrote its output file"

run_capture rc "$T/h.out" "$T/h.err" "$YARDSTICK" import --help
assert_eq "$rc" 0 "import --help exit code"
assert_contains "$(cat "$T/h.out")" "import goals FILE.md" "import --help"
run_capture rc "$T/u.out" "$T/u.err" "$YARDSTICK" import goals
assert_eq "$rc" 2 "import without a file"
run_capture rc "$T/m.out" "$T/m.err" "$YARDSTICK" import goals "$T/missing.md"
assert_eq "$rc" 2 "import of a missing file"
assert_contains "$(cat "$T/m.err")" "missing.md" "missing file error"

log "all import assertions passed"
