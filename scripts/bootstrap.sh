#!/usr/bin/env bash
# Creates the two virtual environments from the lock files, idempotently:
#   $VENV_DIR/app   everything of ours: action server, index, CLI, tests (modern pins)
#   $VENV_DIR/rasa  Rasa 3.6.21 alone, with the pins it had for Python 3.10 (see README)
# Each is rebuilt only when its lock file (or this script) changed: a stamp file holds the hash.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV_DIR=${VENV_DIR:-.venv}
PYTHON=${PYTHON:-python3}

version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo none)
if [ "$version" != "3.11" ]; then
  echo "error: this project needs Python 3.11 (found: $version from '$PYTHON')." >&2
  echo "       Rasa 3.6 is installed on 3.11 with pinned dependencies; set PYTHON=/path/to/python3.11." >&2
  exit 1
fi

stamp_of() { cat "requirements/$1.lock" scripts/bootstrap.sh | sha256sum | cut -c1-16; }

make_env() {  # name, then the pip install arguments
  local name=$1; shift
  local dir="$VENV_DIR/$name" stamp
  stamp=$(stamp_of "$name")
  if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ]; then
    return 0
  fi
  echo ">> creating $dir (this takes a few minutes the first time)"
  rm -rf "$dir"
  "$PYTHON" -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check pip==24.3.1
  "$@"
  echo "$stamp" > "$dir/.stamp"
}

install_app() {
  local pip="$VENV_DIR/app/bin/pip"
  # torch first and exactly: an unpinned torch would pull a multi-GB CUDA build.
  $pip install --quiet "$(grep '^torch==' requirements/app.lock | sed 's/+cpu//')"
  $pip install --quiet --no-deps -r requirements/app.lock
  $pip install --quiet --no-deps --no-build-isolation -e .
}

install_rasa() {
  # Rasa 3.6 declares Python <3.11; its dependencies are pinned in the lock, so no resolver runs.
  "$VENV_DIR/rasa/bin/pip" install --quiet --no-deps --ignore-requires-python -r requirements/rasa.lock
}

make_env app install_app
make_env rasa install_rasa
