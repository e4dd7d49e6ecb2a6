#!/usr/bin/env bash
# Prints the path of a working Python 3.10 (Rasa Open Source 3.6 needs >=3.8,<3.11), or explains
# how to get one. PYTHON310=/path/to/python overrides the search.
set -u
candidates=("${PYTHON310:-}" python3.10)
for dir in "$HOME"/.pyenv/versions/3.10*/bin /usr/local/bin /usr/bin /opt/homebrew/bin; do
  candidates+=("$dir/python3.10")
done
for c in "${candidates[@]}"; do
  [ -n "$c" ] || continue
  # pyenv's shim exists even where 3.10 is not selected, so ask the interpreter itself.
  if "$c" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; then
    command -v "$c"
    exit 0
  fi
done
cat >&2 <<'MSG'
error: Secure Base needs Python 3.10: Rasa Open Source 3.6 does not run on Python 3.11 or newer.
Install any CPython 3.10, for example:
  - pyenv:        pyenv install 3.10
  - Debian/Ubuntu: apt install python3.10 python3.10-venv (or the deadsnakes PPA)
  - macOS:        brew install python@3.10
then run make again, or point to it with PYTHON310=/path/to/python3.10 make run
MSG
exit 1
