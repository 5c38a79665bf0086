#!/usr/bin/env bash
# The whole test suite, as CI runs it (`.ci/run` = the README's second command): the Swift tests,
# the Python package's tests (pytest), every notebook (nbclient) and the Slurm smoke test. Run after
# scripts/setup-debian.sh. The Python environment (.venv/, see scripts/setup-python.sh) is set up in
# the background while Swift builds. Prints the time of each part; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
unset PYTEST_ADDOPTS        # nothing from the caller's environment may deselect or skip tests
declare -a times=()
t=$SECONDS
lap() { times+=("$(printf '%-34s %4d s' "$1" $((SECONDS - t)))"); t=$SECONDS; }

# The Python environment: network-bound, so in parallel with the CPU-bound Swift build.
pylog=$(mktemp)
bash scripts/setup-python.sh >"$pylog" 2>&1 &
pysetup=$!

# `swift test` builds everything, the sftrl executable included (.build/release/sftrl). A separate
# `swift build` with the same flags before or after it would compile every module again.
swift test -c release -Xswiftc -enable-testing
lap "swift test (build + run)"
[ -x .build/release/sftrl ] || { swift build -c release -Xswiftc -enable-testing; lap "swift build (release)"; }

if ! wait "$pysetup"; then
  echo "test.sh: setting up the Python environment failed:" >&2; cat "$pylog" >&2; exit 1
fi
rm -f "$pylog"
lap "python venv (wait after swift)"

export SFTRL_BIN=$root/.build/release/sftrl SFTRL_REQUIRE_BINARY=1
# pytest exits 5 when it collects no test: here that means the tests went missing, which must fail
# CI (never pass silently); any other non-zero status is a failure too.
set +e
.venv/bin/python -m pytest -q -p no:cacheprovider -rs python/tests
rc=$?
set -e
case $rc in
  0) ;;
  5) echo "test.sh: pytest collected no tests from python/tests (they are missing or not found)" >&2; exit 1 ;;
  *) echo "test.sh: pytest failed (exit $rc)" >&2; exit "$rc" ;;
esac
lap "pytest python/tests"

# A plain install works from any folder with no SFTRL_BIN: `pip install ./python` ships the
# release binary inside the package (python/setup.py), and `import sftrl` finds it there.
plain=$(mktemp -d)
SFTRL_NO_SWIFT_BUILD=1 .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --target "$plain/site" ./python
(cd "$plain" && env -u SFTRL_BIN PYTHONPATH="$plain/site" "$root/.venv/bin/python" -c \
  "import sftrl, sys; b = sftrl.find_binary(); assert b.startswith(sys.argv[1]), b; assert len(sftrl.claims()) > 0" "$plain/site")
rm -rf "$plain"
lap "plain pip install ./python"

.venv/bin/python scripts/run_notebooks.py
lap "notebooks (nbclient)"

# The Slurm recipe's argument passing and --resubmit, with a fake sbatch (no root needed).
bash scripts/slurm/args_test.sh
lap "slurm recipe arguments (fake sbatch)"

# The smoke test installs and starts slurm and munge: it needs root or passwordless sudo.
if [ "$(id -u)" = 0 ]; then bash scripts/slurm/smoke.sh; lap "slurm smoke test"
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo env SFTRL_BIN="$SFTRL_BIN" bash scripts/slurm/smoke.sh; lap "slurm smoke test"
else
  echo "test.sh: SKIPPED the Slurm smoke test: it needs root or passwordless sudo to install and start slurm and munge (run scripts/slurm/smoke.sh as root to include it)" >&2
  lap "slurm smoke test (skipped: no root or sudo)"
fi

echo "test.sh: all parts passed"
printf '  %s\n' "${times[@]}"
