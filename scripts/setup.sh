#!/usr/bin/env bash
# Prepares a machine for canfar-desktop: system packages, a running Docker engine, the Python
# environment in .venv, and the session images built from resources/images (cached by recipe hash).
# Safe to run again: each step checks what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

PACKAGES=(
  docker.io debootstrap python3-venv python3-dev openssl openssh-server openssh-client iproute2 procps
  xvfb xauth libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-randr0
  libxcb-render-util0 libxcb-image0 libxcb-xinerama0 libnss3 libxcomposite1 libxdamage1 libxrandr2 libxtst6
  libxkbfile1 libasound2 libegl1 libgl1 libfontconfig1 libdbus-1-3 fonts-dejavu-core dpkg-dev fakeroot
  desktop-file-utils appstream
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "Installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  say "Starting the Docker engine"
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl start docker
  else
    mkdir -p .cache
    $SUDO sh -c 'nohup setsid dockerd >/var/log/dockerd.log 2>&1 &'
  fi
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "The Docker engine did not start; see /var/log/dockerd.log" >&2; exit 1; }
fi

if [ ! -x .venv/bin/python ]; then
  say "Creating the Python environment in .venv"
  python3 -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  say "Installing canfar-desktop and its development tools"
  .venv/bin/pip install -q --upgrade pip >/dev/null 2>&1 || true
  # (the filter hides pip's notes about unused local index folders that some machines configure)
  .venv/bin/pip install -q -e '.[dev]' 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
  rm -f .venv/.installed-*
  touch "$stamp"
fi
# Compiled bytecode, as an installed wheel has it: every command starts faster, even where the
# environment asks Python not to write any (PYTHONDONTWRITEBYTECODE).
.venv/bin/python -m compileall -q canfar_desktop >/dev/null || true

# The official canfar client, in an environment of its own as a person installs it: the API tests
# (tests/api) run it against `canfar-desktop api`. typer 0.29 breaks its `create`, hence the pin.
CANFAR_CLIENT=(canfar==1.5.2 typer==0.28.0)
client_stamp=.venv-canfar/.installed-$(echo "${CANFAR_CLIENT[*]}" | sha256sum | cut -c1-12)
if [ ! -f "$client_stamp" ] || [ ! -x .venv-canfar/bin/canfar ]; then
  say "Installing the official canfar client (${CANFAR_CLIENT[*]}) in .venv-canfar"
  [ -x .venv-canfar/bin/python ] || python3 -m venv .venv-canfar
  .venv-canfar/bin/pip install -q "${CANFAR_CLIENT[@]}" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
  rm -f .venv-canfar/.installed-*
  touch "$client_stamp"
fi

if [ "${CANFAR_SKIP_IMAGES:-0}" != 1 ]; then
  say "Building session images (skipped when their recipe is unchanged)"
  $SUDO .venv/bin/python scripts/build_images.py
fi
