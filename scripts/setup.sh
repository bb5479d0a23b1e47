#!/usr/bin/env bash
# Installs everything nuage needs to build, test and run its demo, and nothing outside the
# project except system packages: uv (into .tools/uv when it is not on PATH), the Python
# environment (.venv, from uv.lock), anvil (into .tools/anvil, from npm) and, as root,
# bubblewrap, make and Chromium (from apt; the browser tests drive /usr/bin/chromium, since
# Playwright's own browser download needs hosts CI cannot reach). Safe to run again: each step
# is skipped when already done.
#
# Needs: Python 3.11 with pip, Node 20 with npm; network access to PyPI, npm and (as root) apt.
# Environment: PYTHON (default python3) is the interpreter the virtual environment uses.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

UV_VERSION="0.13.9"
ANVIL_VERSION="1.7.1"
TOOLS="$ROOT/.tools"

log() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# --- Python 3.11 ---------------------------------------------------------------------------
PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null || die "$PYTHON not found; install Python 3.11"
# resolve shims (pyenv, asdf) to the real interpreter so uv never looks for (or downloads) another
PYTHON_EXE="$("$PYTHON" -c 'import sys; print(sys.executable)')"
"$PYTHON_EXE" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
    || die "nuage needs Python 3.11; $PYTHON_EXE is $("$PYTHON_EXE" --version 2>&1)"

# --- uv --------------------------------------------------------------------------------------
if command -v uv >/dev/null; then
    UV="$(command -v uv)"
else
    UV="$TOOLS/uv/bin/uv"
    if [[ ! -x "$UV" ]]; then
        log "installing uv $UV_VERSION into .tools/uv"
        # --target keeps uv inside the project and is allowed on externally managed
        # (PEP 668) system Pythons, where a plain `pip install` is refused
        "$PYTHON_EXE" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
            --target "$TOOLS/uv" "uv==$UV_VERSION"
    fi
fi

# --- Python environment ----------------------------------------------------------------------
log "syncing .venv from uv.lock"
# no interpreter downloads: only package registries are reachable on CI machines
UV_PYTHON_DOWNLOADS=never "$UV" sync --frozen --quiet --python "$PYTHON_EXE"

# --- anvil -----------------------------------------------------------------------------------
case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ANVIL_PLATFORM="linux-amd64" ;;
    Linux-aarch64 | Linux-arm64) ANVIL_PLATFORM="linux-arm64" ;;
    Darwin-x86_64) ANVIL_PLATFORM="darwin-amd64" ;;
    Darwin-arm64) ANVIL_PLATFORM="darwin-arm64" ;;
    *) die "no anvil build for $(uname -s) $(uname -m)" ;;
esac
# the binary comes with the platform package (an optional dependency of @foundry-rs/anvil);
# we use it directly, so it does not matter whether npm ran the wrapper's postinstall script
ANVIL_BIN="$TOOLS/anvil/node_modules/@foundry-rs/anvil-$ANVIL_PLATFORM/bin/anvil"
installed_anvil="$("$ANVIL_BIN" --version 2>/dev/null | head -n 1 || true)"
if [[ "$installed_anvil" != *"Version: $ANVIL_VERSION"* ]]; then
    command -v npm >/dev/null || die "npm not found; install Node 20 and npm"
    log "installing anvil $ANVIL_VERSION into .tools/anvil"
    mkdir -p "$TOOLS/anvil"
    npm install --no-audit --no-fund --loglevel=error --prefix "$TOOLS/anvil" \
        "@foundry-rs/anvil@$ANVIL_VERSION"
fi
[[ -x "$ANVIL_BIN" ]] || die "npm did not install $ANVIL_BIN"
"$ANVIL_BIN" --version >/dev/null || die "$ANVIL_BIN does not run"
# one stable path for the Makefile, tests and the demo (the Makefile puts .tools/bin on PATH)
mkdir -p "$TOOLS/bin"
ln -sfn "../anvil/node_modules/@foundry-rs/anvil-$ANVIL_PLATFORM/bin/anvil" "$TOOLS/bin/anvil"

# --- system packages: bubblewrap (the default sandbox), make, Chromium (the browser tests) -----
CHROMIUM="/usr/bin/chromium"
missing=()
command -v bwrap >/dev/null || missing+=(bubblewrap)
command -v make >/dev/null || missing+=(make)
[[ -x "$CHROMIUM" ]] || missing+=(chromium)
if ((${#missing[@]})); then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        log "installing ${missing[*]} with apt"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        [[ -x "$CHROMIUM" ]] || die "apt installed chromium but $CHROMIUM is missing"
    else
        log "warning: missing ${missing[*]}; install with: sudo apt-get install ${missing[*]}"
    fi
fi

# --- summary ---------------------------------------------------------------------------------
touch "$ROOT/.venv/.setup-done"
bwrap_version="missing"
if command -v bwrap >/dev/null; then
    bwrap_version="$(bwrap --version 2>&1 | head -n 1)"
    # containers without user namespaces have bwrap installed but unusable
    if ! bwrap --ro-bind / / --dev /dev --unshare-all true 2>/dev/null; then
        bwrap_version="$bwrap_version (cannot create a sandbox here)"
    fi
fi
log "ready:"
printf '  %-8s %s\n' \
    python "$("$ROOT/.venv/bin/python" --version 2>&1)" \
    vyper "$("$ROOT/.venv/bin/vyper" --version 2>&1)" \
    anvil "$("$ANVIL_BIN" --version 2>&1 | head -n 1)" \
    bwrap "$bwrap_version" \
    chromium "$("$CHROMIUM" --version 2>/dev/null || echo missing)" \
    uv "$("$UV" --version 2>&1)"
