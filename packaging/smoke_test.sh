#!/usr/bin/env bash
# Smoke test of the built Linux packages:
#   packaging/smoke_test.sh [DEB]      (default: dist/canfar-desktop_VERSION_ARCH.deb from packaging/build.sh)
# 1. the .deb's control data and file list are what a desktop expects;
# 2. unpacked with `dpkg -x` into a temporary root: the installed program prints its version, and its
#    --self-test opens the window with an embedded QtWebEngine page offscreen and exits 0; the desktop entry
#    validates and every hicolor icon is a PNG of its size;
# 3. when run as root on a system where canfar-desktop is not installed yet (SMOKE_INSTALL=0 skips this), the
#    .deb is really installed with apt-get (or dpkg -i), /usr/bin/canfar-desktop is run, and the package is
#    removed again whatever happens.
# It also checks the .tar.gz next to the .deb when there is one. Exits non-zero with the reason on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT_DIR=$PWD
APP=canfar-desktop
APP_ID=net.canfar.Desktop
SIZES=(16 22 24 32 48 64 128 256 512)
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' canfar_desktop/__init__.py)
DEB=${1:-dist/${APP}_${VERSION}_$(dpkg --print-architecture).deb}
TARNAME=$APP-$VERSION-linux-$(uname -m)
TGZ=dist/$TARNAME.tar.gz
SELF_TEST_TIMEOUT=${SELF_TEST_TIMEOUT:-180}
started=$SECONDS

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
fail() { printf '\033[31mSMOKE TEST FAILED: %s\033[0m\n' "$*" >&2; exit 1; }
[ -f "$DEB" ] || fail "$DEB does not exist: build it first with 'make package' (packaging/build.sh)"

# One packaging run at a time in this checkout (packaging/build.sh takes the same lock).
mkdir -p build
exec 9>build/.package.lock
flock 9

WORK=$(mktemp -d /tmp/canfar-smoke.XXXXXX)
installed_here=0
cleanup() {
  if [ "$installed_here" = 1 ]; then
    say "Removing the test installation"
    dpkg --purge "$APP" >/dev/null 2>&1 || echo "could not remove $APP: remove it with 'dpkg --purge $APP'" >&2
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Runs the app as a user would, but with its settings, state and caches in a scratch home, offscreen, and
# without QTWEBENGINE_DISABLE_SANDBOX from the caller: the app must decide that itself (only as root).
run_app() {
  local home=$WORK/home
  mkdir -p "$home/run" && chmod 0700 "$home/run"
  env -u QTWEBENGINE_DISABLE_SANDBOX -u PYTHONPATH -u VIRTUAL_ENV CANFAR_DESKTOP_HOME="$home/app" \
    HOME="$home" XDG_CONFIG_HOME="$home/.config" \
    XDG_DATA_HOME="$home/.local/share" XDG_STATE_HOME="$home/.local/state" XDG_CACHE_HOME="$home/.cache" \
    XDG_RUNTIME_DIR="$home/run" QT_QPA_PLATFORM=offscreen PATH=/usr/bin:/bin "$@"
}

check_version() {  # $1: program
  local out
  out=$(run_app "$1" --version 2>&1) || fail "'$1 --version' exited with $?: $out"
  [ "$out" = "$APP $VERSION" ] || fail "'$1 --version' printed '$out', expected '$APP $VERSION'"
  echo "ok: $1 --version -> $out"
}

check_self_test() {  # $1: program
  local out rc=0 t=$SECONDS
  out=$(run_app timeout --kill-after=10 "$SELF_TEST_TIMEOUT" "$1" --self-test 2>&1) || rc=$?
  if [ "$rc" -ne 0 ] || ! grep -q "self-test ok" <<<"$out"; then
    printf '%s\n' "$out" | tail -40 >&2
    [ "$rc" -eq 124 ] && fail "'$1 --self-test' did not finish within ${SELF_TEST_TIMEOUT}s"
    fail "'$1 --self-test' exited with $rc (output above)"
  fi
  echo "ok: $1 --self-test -> self-test ok ($((SECONDS - t)) s)"
  if grep -q "^Traceback" <<<"$out"; then
    echo "WARNING: the self-test passed but the app logged a Python traceback:" >&2
    grep -A12 "^Traceback" <<<"$out" | head -30 >&2
  fi
}

check_share() {  # $1: the prefix holding share/ (e.g. ROOT/usr)
  local share=$1/share desktop=$1/share/applications/$APP_ID.desktop
  [ -f "$desktop" ] || fail "$desktop is missing"
  if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$desktop" | grep -v ': hint: ' || true
    desktop-file-validate "$desktop" >/dev/null 2>&1 || fail "$desktop does not validate"
  fi
  grep -qx "Exec=$APP" "$desktop" || fail "$desktop does not start $APP"
  grep -qx "Icon=$APP_ID" "$desktop" || fail "$desktop does not name the icon $APP_ID"
  local size png
  for size in "${SIZES[@]}"; do
    png=$share/icons/hicolor/${size}x${size}/apps/$APP_ID.png
    [ -f "$png" ] || fail "$png is missing"
    # PNG signature, then the IHDR chunk: width and height as 32-bit big-endian numbers at bytes 16 and 20.
    [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$png is not a PNG"
    [ "$(od -An -j16 -N8 -tu1 "$png" | awk '{print $3*256+$4 "x" $7*256+$8}')" = "${size}x${size}" ] \
      || fail "$png is not ${size}x${size}"
  done
  [ -f "$share/icons/hicolor/scalable/apps/$APP_ID.svg" ] || fail "the scalable icon is missing"
  [ -f "$share/metainfo/$APP_ID.metainfo.xml" ] || fail "the AppStream metainfo is missing"
  if command -v appstreamcli >/dev/null; then
    appstreamcli validate --no-net "$share/metainfo/$APP_ID.metainfo.xml" >/dev/null \
      || fail "$share/metainfo/$APP_ID.metainfo.xml does not validate"
  fi
  echo "ok: desktop entry, ${#SIZES[@]} hicolor icons + scalable SVG, metainfo under $share"
}

# --- 1. the package itself -------------------------------------------------------------------------------
say "Inspecting $DEB ($(du -h "$DEB" | cut -f1))"
field() { dpkg-deb --field "$DEB" "$1"; }
[ "$(field Package)" = "$APP" ] || fail "Package is '$(field Package)'"
[ "$(field Version)" = "$VERSION" ] || fail "Version is '$(field Version)', expected $VERSION"
for lib in libnss3 libxkbcommon-x11-0 libxcb-cursor0 libegl1 libgl1 libfontconfig1 libasound2; do
  field Depends | grep -qw "$lib" || fail "Depends lacks $lib"
done
contents=$(dpkg-deb --contents "$DEB")
for path in ./opt/$APP/$APP ./usr/bin/$APP ./usr/share/applications/$APP_ID.desktop \
  ./usr/share/metainfo/$APP_ID.metainfo.xml ./usr/share/icons/hicolor/scalable/apps/$APP_ID.svg; do
  grep -q " $path\( \|$\)" <<<"$contents" || fail "$DEB does not contain $path"
done
if grep -v '^[dl-]r[w-][x-]r[w-][x-]r' <<<"$contents" | grep -q .; then
  fail "some files in $DEB are not world-readable"
fi
awk '{print $2}' <<<"$contents" | grep -qv '^root/root$' && fail "files in $DEB are not owned by root"
echo "ok: control data and file list"

# --- 2. unpacked into a scratch root ---------------------------------------------------------------------
say "Unpacking with dpkg -x into $WORK/root"
dpkg -x "$DEB" "$WORK/root"
target=$(readlink "$WORK/root/usr/bin/$APP") || fail "/usr/bin/$APP is not a symlink"
[ "$target" = "/opt/$APP/$APP" ] || fail "/usr/bin/$APP points to $target"
check_version "$WORK/root/opt/$APP/$APP"
check_self_test "$WORK/root/opt/$APP/$APP"
check_share "$WORK/root/usr"

# --- the .tar.gz -------------------------------------------------------------------------------------------
if [ -f "$TGZ" ]; then
  say "Unpacking $TGZ ($(du -h "$TGZ" | cut -f1))"
  mkdir -p "$WORK/tar"
  tar -C "$WORK/tar" -xzf "$TGZ"
  check_version "$WORK/tar/$TARNAME/$APP"
  check_share "$WORK/tar/$TARNAME"
fi

# --- 3. a real installation ------------------------------------------------------------------------------
if [ "${SMOKE_INSTALL:-1}" = 0 ]; then
  echo "SMOKE_INSTALL=0: not installing the .deb on this system"
elif [ "$(id -u)" -ne 0 ]; then
  echo "not root: not installing the .deb on this system (the dpkg -x checks above passed)"
elif dpkg-query -W -f='${Status}' "$APP" 2>/dev/null | grep -q "installed"; then
  echo "$APP is already installed here: not replacing it (the dpkg -x checks above passed)"
else
  say "Installing $DEB on this system"
  installed_here=1
  deb_abs=$(readlink -f "$DEB")
  if command -v apt-get >/dev/null; then
    # Like a user's `apt install ./file.deb`: missing dependencies come from the configured mirror.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb_abs" >"$WORK/install.log" 2>&1 \
      || { tail -20 "$WORK/install.log" >&2; fail "apt-get install $DEB failed"; }
  else
    dpkg -i "$deb_abs" >"$WORK/install.log" 2>&1 || { tail -20 "$WORK/install.log" >&2; fail "dpkg -i $DEB failed"; }
  fi
  dpkg-query -W -f='${Status}' "$APP" | grep -q "install ok installed" || fail "$APP is not installed after dpkg"
  # Checked on the system PATH alone: a development environment's own canfar-desktop may come first in $PATH.
  [ "$(PATH=/usr/local/bin:/usr/bin:/bin command -v "$APP")" = "/usr/bin/$APP" ] \
    || fail "$APP is not on PATH as /usr/bin/$APP"
  check_version "/usr/bin/$APP"
  check_share /usr
  if command -v update-desktop-database >/dev/null; then
    grep -q "$APP_ID.desktop" /usr/share/applications/mimeinfo.cache 2>/dev/null \
      || [ -f /usr/share/applications/$APP_ID.desktop ] || fail "the desktop entry is not installed"
  fi
  if [ "${SMOKE_INSTALLED_SELF_TEST:-0}" = 1 ]; then check_self_test "/usr/bin/$APP"; fi
  echo "ok: installed with dpkg and runs as /usr/bin/$APP"
fi

say "Smoke test passed in $((SECONDS - started)) s"
