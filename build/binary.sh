#!/usr/bin/env bash
# Builds the single executable dist/infer0 (server, operator CLI and admin TUI) from infer0.spec.
#
#   build/binary.sh              build dist/infer0 (one file)
#   build/binary.sh --if-stale   do nothing when dist/infer0 is fresh: newer than every source
#                                file and stamped with the current git commit (build/test.sh uses this)
#   build/binary.sh --check      exit 0 when dist/infer0 is fresh, 1 when it is missing or stale
#   build/binary.sh --onedir     build dist/infer0-onedir/ instead (only to compare start-up times)
#
# PyInstaller comes from PyPI into .venv (the `build` extra of pyproject.toml); its work files go
# to build/work (ignored). The git commit is written into infer0app/_build_info.py (ignored) for
# the duration of the build, so `dist/infer0 --version` prints it; the file is removed afterwards
# so a source checkout never claims a stale commit.
set -euo pipefail
cd "$(dirname "$0")/.."

if_stale=0
check=0
onedir=0
for arg in "$@"; do
  case "$arg" in
    --if-stale) if_stale=1 ;;
    --check) check=1 ;;
    --onedir) onedir=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "binary.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

# Sources whose change means a rebuild. __pycache__ and the generated _build_info.py don't count.
SOURCES=(infer0app admin_tui templates infer0.spec pyproject.toml build/binary.sh build/pyinstaller_entry.py)

build_commit() {
  local commit
  commit="$(git rev-parse --short=12 HEAD 2>/dev/null || true)"
  [ -n "$commit" ] || { echo unknown; return; }
  # Uncommitted changes (or new files) in what goes into the binary: it is not that commit.
  if [ -n "$(git status --porcelain -- "${SOURCES[@]}" 2>/dev/null)" ]; then
    commit="$commit-dirty"
  fi
  echo "$commit"
}

is_fresh() {
  local bin=dist/infer0
  [ -x "$bin" ] || return 1
  local existing=()
  for s in "${SOURCES[@]}"; do [ -e "$s" ] && existing+=("$s"); done
  if [ -n "$(find "${existing[@]}" -newer "$bin" -type f ! -path '*/__pycache__/*' \
               ! -name '_build_info.py' -print -quit)" ]; then
    return 1
  fi
  # Same sources but another commit (e.g. a fresh clone): rebuild so --version tells the truth.
  "$bin" --version 2>/dev/null | grep -qF "(commit $(build_commit))"
}

if [ "$check" = 1 ]; then
  is_fresh
  exit
fi
if [ "$if_stale" = 1 ] && [ "$onedir" = 0 ] && is_fresh; then
  echo "dist/infer0 is up to date ($(dist/infer0 --version))"
  exit 0
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.infer0-build-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[build]"
  touch "$stamp"
fi

commit="$(build_commit)"
info=infer0app/_build_info.py
trap 'rm -f "$info"' EXIT
printf '"""Written by build/binary.sh at build time; not in git."""\n\nCOMMIT = "%s"\n' "$commit" > "$info"

started=$SECONDS
if [ "$onedir" = 1 ]; then
  export INFER0_ONEDIR=1
  rm -rf dist/infer0-onedir
fi
.venv/bin/python -m PyInstaller --noconfirm --log-level WARN \
  --workpath build/work --distpath dist infer0.spec

if [ "$onedir" = 1 ]; then
  built=dist/infer0-onedir/infer0
else
  built=dist/infer0
fi
version="$("$built" --version)"
case "$version" in
  *"(commit $commit)"*) ;;
  *) echo "binary.sh: $built --version printed '$version', expected commit $commit" >&2; exit 1 ;;
esac
echo "built $built in $((SECONDS - started))s: $version ($(du -h "$built" | cut -f1))"
