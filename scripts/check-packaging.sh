#!/usr/bin/env bash
# Packaging paths of the optional compiled codec, each in a fresh venv:
#   1. python -m build makes an sdist (with the generated C) and a wheel (with the .so);
#   2. the wheel installs and runs compiled;
#   3. the sdist installs pure Python with no error where there is no compiler
#      (CC=/bin/false) or with AMIASYNC_NO_EXTENSIONS=1 (with a compiler it
#      builds the extension: python -m build made the wheel from it);
#   4. pip install -e . of a clean export with no compiler gives the pure package.
# Usage: bash scripts/check-packaging.sh [python]   (the python of a venv with `build`)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$python" -m build -q -o "$work/dist" . >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
sdist=$(ls "$work"/dist/*.tar.gz)
wheel=$(ls "$work"/dist/*.whl)
tar tzf "$sdist" >"$work/sdist.txt"
grep -q "/amiasync/_cmessage.c$" "$work/sdist.txt" || { echo "sdist lacks the generated C"; exit 1; }

# expect VENV_NAME WANT(True|False) INSTALL-ARGS...: install in a fresh venv, check __compiled__.
expect() {
    local name=$1 want=$2
    shift 2
    python3 -m venv "$work/$name"
    "$work/$name/bin/python" -m pip install -q "$@" >"$work/$name.log" 2>&1 \
        || { cat "$work/$name.log"; echo "FAIL $name: install failed"; exit 1; }
    # Run from elsewhere, so the checkout's own amiasync/ is not what gets imported.
    got=$(cd "$work" && "$work/$name/bin/python" -c "import amiasync; print(amiasync.__compiled__)")
    (cd "$work" && "$work/$name/bin/python" -m amiasync demo >/dev/null 2>&1)
    [ "$got" = "$want" ] || { echo "FAIL $name: __compiled__ is $got, expected $want"; exit 1; }
    echo "ok   $name: installs, demo runs, __compiled__ = $got"
}

expect wheel True "$wheel"
CC=/bin/false expect sdist-no-compiler False "$sdist"
AMIASYNC_NO_EXTENSIONS=1 expect sdist-no-extensions False "$sdist"
mkdir "$work/export"
git archive HEAD | tar -x -C "$work/export"
CC=/bin/false expect editable-no-compiler False -e "$work/export"
