#!/usr/bin/env bash
# Mutation testing with mutmut 3 (not in CI): how many small deliberate breaks of the code
# (a flipped comparison, a dropped argument, a changed constant) make the fast tests fail.
#
#   bench/mutation.sh                   # the default slice: vault/, services/throttle.py, oauth/bearer.py (~25 min)
#   bench/mutation.sh 'infer0app/web/*' 'infer0app/services/accounts.py'   # any globs / files under infer0app/
#   MUTATION_TESTS="tests/unit" bench/mutation.sh ...                       # a different test selection
#   MUTATION_CHILDREN=2 (default)       # parallel mutants; the machine is shared, keep it small
#
# The whole of services/, oauth/, web/ and vault/ is ~12,000 lines (several hours on 2 cores):
# run it in slices. Work happens in a scratch copy of the tree (MUTATION_DIR, default
# /tmp/infer0-mutation), never in the checkout: mutmut writes a `mutants/` tree and its own
# state there, and re-running resumes where it stopped. At the end the script prints mutmut's
# counts, the score (killed / (killed + survived)) and the surviving mutants; `cd $MUTATION_DIR
# && mutmut show <name>` shows one as a diff.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY="$(command -v python3)"
WORK="${MUTATION_DIR:-/tmp/infer0-mutation}"
CHILDREN="${MUTATION_CHILDREN:-2}"
# The tests that exercise the default slice (mutmut runs the selection twice before the mutants,
# then for each mutant only the tests that reached the mutated function).
TESTS="${MUTATION_TESTS:-tests/unit/test_vault.py tests/unit/test_oauth_rules.py tests/integration/oauth/test_bearer.py
  tests/integration/oauth/test_client_auth_throttle.py tests/integration/oauth/test_caches_under_flood.py
  tests/integration/web/test_signin_throttle.py tests/integration/web/test_session_promises.py}"
if [ "$#" -gt 0 ]; then TARGETS=("$@"); else
  TARGETS=('infer0app/vault/*' 'infer0app/services/throttle.py' 'infer0app/oauth/bearer.py')
fi

"$PY" -c 'import mutmut' 2>/dev/null || "$PY" -m pip install -q 'mutmut>=3.8,<4'

# A fresh copy of the tracked and new files. mutmut's state in $WORK/mutants is kept while the
# slice is the same (re-running resumes) and thrown away when it changes.
mkdir -p "$WORK"
if [ -f "$WORK/slice" ] && [ "$(cat "$WORK/slice")" != "${TARGETS[*]} | $TESTS" ]; then rm -rf "$WORK/mutants"; fi
echo "${TARGETS[*]} | $TESTS" > "$WORK/slice"
(cd "$ROOT" && git ls-files -co --exclude-standard -z | grep -zv '^mutants/' \
  | xargs -0 -I{} cp --parents -p {} "$WORK"/)

{
  echo "[mutmut]"
  echo "source_paths = infer0app/"
  echo "only_mutate ="
  for t in "${TARGETS[@]}"; do echo "    $t"; done
  echo "also_copy ="
  for p in tests templates admin_tui build pyproject.toml README.md; do echo "    $p"; done
  echo "pytest_add_cli_args_test_selection ="
  for t in $TESTS; do echo "    $t"; done
  echo "pytest_add_cli_args ="
  # -x: a mutant is killed by its first failing test. The two ignored tests read the source
  # text (raise sites, module sizes), which mutmut's rewritten copies change on purpose.
  for a in -p no:cacheprovider -m "not e2e" -x -q --ignore=tests/unit/test_error_tables.py \
           --ignore=tests/unit/test_import_rules.py; do echo "    $a"; done
} > "$WORK/setup.cfg"
# mutmut reads [tool.mutmut] from pyproject.toml first; the copy has none, so setup.cfg rules.

cd "$WORK"
export INFER0_TEST_BINARY=0
start=$(date +%s)
"$PY" -m mutmut run --max-children "$CHILDREN" || true
echo "mutmut run took $(( $(date +%s) - start )) s"

"$PY" - <<'EOF'
import json, subprocess, sys
subprocess.run([sys.executable, "-m", "mutmut", "export-cicd-stats"], check=True, capture_output=True)
s = json.load(open("mutants/mutmut-cicd-stats.json"))
judged = s["killed"] + s["survived"]
print(json.dumps(s))
print(f"mutation score: {s['killed']}/{judged} = {s['killed'] / judged:.1%} killed"
      f" ({s['no_tests']} without tests, {s['timeout']} timed out, {s['suspicious']} suspicious)" if judged else "nothing judged")
EOF
echo "survivors:"
"$PY" -m mutmut results 2>/dev/null | grep -E ': (survived|no tests)' || true
