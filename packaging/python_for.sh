#!/usr/bin/env bash
# Prints the path of a working CPython X.Y interpreter (python3.12, or pyenv's 3.12.*), or fails
# with how to get one. Used by `make wheel` and the wheel tests (tests/package/).
set -euo pipefail
v=${1:?usage: python_for.sh X.Y}
for cand in "python$v" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/python"$v" /usr/bin/python"$v" /usr/local/bin/python"$v"; do
  if p=$(command -v "$cand" 2>/dev/null) && "$p" -c "import sys, venv; assert sys.version_info[:2] == tuple(map(int, '$v'.split('.')))" 2>/dev/null; then
    echo "$p"
    exit 0
  fi
done
echo "no CPython $v interpreter found: install one (e.g. \`pyenv install $v\`, or apt-get install python$v python$v-venv) and put it on PATH" >&2
exit 1
