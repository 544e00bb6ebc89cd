#!/usr/bin/env bash
# Builds the Linux packages of CANFAR Desktop into dist/ (this is what `make package` runs):
#   dist/pyinstaller/canfar-desktop/                  the PyInstaller one-folder bundle (with QtWebEngine)
#   dist/canfar-desktop-VERSION-linux-ARCH.tar.gz     that bundle plus share/ (desktop entry, icons, metainfo)
#   dist/canfar-desktop_VERSION_DEBARCH.deb           /opt/canfar-desktop, /usr/bin/canfar-desktop and the
#                                                     desktop integration files under /usr/share
# The PyInstaller step is skipped when nothing that goes into the bundle changed since the last build (the hash
# of the sources, assets, spec and installed packages is kept in dist/pyinstaller/.inputs); FORCE=1 rebuilds.
# Needs: .venv with the app installed (make setup), dpkg-deb, and desktop-file-validate/appstreamcli to check
# the integration files when they are installed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY="$ROOT/.venv/bin/python"
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'packaging/build.sh: %s\n' "$*" >&2; exit 1; }
started=$SECONDS

[ -x "$PY" ] || die "no .venv: run 'make setup' (or ./scripts/setup.sh) first"
command -v dpkg-deb >/dev/null || die "dpkg-deb is missing: apt-get install dpkg-dev"

APP=canfar-desktop
APP_ID=net.canfar.Desktop
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' canfar_desktop/__init__.py)
[ -n "$VERSION" ] || die "cannot read __version__ from canfar_desktop/__init__.py"
DEB_ARCH=$(dpkg --print-architecture)
ARCH=$(uname -m)
DIST=$ROOT/dist
BUILD=$ROOT/build/package
BUNDLE=$DIST/pyinstaller/$APP
export QT_QPA_PLATFORM=offscreen

# One packaging run at a time in this checkout (the smoke test takes the same lock).
mkdir -p "$ROOT/build"
exec 9>"$ROOT/build/.package.lock"
flock 9

# --- PyInstaller, a build dependency only --------------------------------------------------------------
if ! "$PY" -c 'import PyInstaller' 2>/dev/null; then
  say "Installing PyInstaller into .venv (build dependency)"
  "$PY" -m pip install -q "pyinstaller>=6.10"
fi

say "Checking the icons"
"$PY" packaging/icons.py check

say "Checking the desktop entry and the AppStream metainfo"
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate resources/linux/$APP_ID.desktop
else
  echo "desktop-file-validate not installed (apt-get install desktop-file-utils): not checked"
fi
if command -v appstreamcli >/dev/null; then
  appstreamcli validate --no-net --explain resources/linux/$APP_ID.metainfo.xml >/dev/null \
    || { appstreamcli validate --no-net resources/linux/$APP_ID.metainfo.xml; die "the metainfo does not validate"; }
else
  echo "appstreamcli not installed (apt-get install appstream): not checked"
fi
grep -q "<release version=\"$VERSION\"" resources/linux/$APP_ID.metainfo.xml \
  || die "resources/linux/$APP_ID.metainfo.xml has no <release version=\"$VERSION\">: add one for this version"

# --- the bundle -------------------------------------------------------------------------------------------
inputs_hash() {
  {
    find canfar_desktop packaging/canfar-desktop.spec packaging/launcher.py packaging/hooks -type f \
      ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum
    "$PY" -m pip freeze --all 2>/dev/null | grep -vi '^-e\|^canfar-desktop'
    "$PY" -c 'import sys; print(sys.version)'
  } | sha256sum | cut -c1-32
}
hash=$(inputs_hash)
if [ "${FORCE:-0}" != 1 ] && [ -x "$BUNDLE/$APP" ] && [ "$(cat "$DIST/pyinstaller/.inputs" 2>/dev/null)" = "$hash" ]; then
  say "PyInstaller bundle is up to date ($BUNDLE)"
else
  say "Building the PyInstaller bundle"
  t=$SECONDS
  rm -f "$DIST/pyinstaller/.inputs"
  "$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$DIST/pyinstaller" --workpath "$ROOT/build/pyinstaller" packaging/canfar-desktop.spec
  echo "$hash" >"$DIST/pyinstaller/.inputs"
  echo "bundle built in $((SECONDS - t)) s"
fi
got=$("$BUNDLE/$APP" --version) || die "the bundle does not run: $BUNDLE/$APP --version failed"
[ "$got" = "$APP $VERSION" ] || die "the bundle reports '$got', expected '$APP $VERSION'"

# --- shared desktop integration files (share/ layout) ---------------------------------------------------
say "Rendering the icons and laying out share/"
rm -rf "$BUILD"
SHARE=$BUILD/share
mkdir -p "$SHARE/applications" "$SHARE/metainfo" "$SHARE/icons"
install -m 0644 resources/linux/$APP_ID.desktop "$SHARE/applications/"
install -m 0644 resources/linux/$APP_ID.metainfo.xml "$SHARE/metainfo/"
"$PY" packaging/icons.py hicolor "$SHARE/icons" >/dev/null

# --- .tar.gz ----------------------------------------------------------------------------------------------
TARNAME=$APP-$VERSION-linux-$ARCH
say "Making dist/$TARNAME.tar.gz"
t=$SECONDS
mkdir -p "$BUILD/tar/$TARNAME"
cp -a "$BUNDLE/." "$BUILD/tar/$TARNAME/"
rm -f "$BUILD/tar/$TARNAME/.inputs"
cp -a "$SHARE" "$BUILD/tar/$TARNAME/share"
cat >"$BUILD/tar/$TARNAME/README.txt" <<EOF
CANFAR Desktop $VERSION for Linux ($ARCH)

Run ./$APP from this folder (the folder can live anywhere). The command line is the same program:
./$APP --help.

To add it to your desktop's application menu for your user only:
  mkdir -p ~/.local/bin && ln -sf "\$PWD/$APP" ~/.local/bin/$APP
  cp -r share/applications share/icons share/metainfo ~/.local/share/
(~/.local/bin must be on your PATH). Debian and Ubuntu users can install the .deb instead.
EOF
mkdir -p "$DIST"
tar -C "$BUILD/tar" --owner=0 --group=0 --numeric-owner -cf - "$TARNAME" | gzip -6 >"$DIST/$TARNAME.tar.gz.part"
mv "$DIST/$TARNAME.tar.gz.part" "$DIST/$TARNAME.tar.gz"
echo "tar.gz made in $((SECONDS - t)) s"

# --- .deb -------------------------------------------------------------------------------------------------
DEBNAME=${APP}_${VERSION}_${DEB_ARCH}
say "Making dist/$DEBNAME.deb"
t=$SECONDS
R=$BUILD/deb/$DEBNAME
mkdir -p "$R/DEBIAN" "$R/opt" "$R/usr/bin" "$R/usr/share/doc/$APP"
cp -a "$BUNDLE" "$R/opt/$APP"
rm -f "$R/opt/$APP/.inputs"
ln -s "/opt/$APP/$APP" "$R/usr/bin/$APP"
cp -a "$SHARE/applications" "$SHARE/icons" "$SHARE/metainfo" "$R/usr/share/"
cat >"$R/usr/share/doc/$APP/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: canfar-desktop

Files: *
Copyright: The canfar-desktop authors
License: AGPL-3.0-or-later

Files: opt/canfar-desktop/_internal/*
Comment: Python, Qt 6 (LGPL-3.0), Qt WebEngine/Chromium, PySide6 (LGPL-3.0) and the Python packages listed in
 the bundle, each under its own licence, shipped unmodified.
EOF
# Files are world-readable, directories and programs executable; nothing is writable by others.
find "$R" -path "$R/DEBIAN" -prune -o -type d -exec chmod 0755 {} +
find "$R" -path "$R/DEBIAN" -prune -o -type f ! -perm -u+x -exec chmod 0644 {} +
find "$R" -path "$R/DEBIAN" -prune -o -type f -perm -u+x -exec chmod 0755 {} +

# The oldest glibc the bundle can run with: the newest GLIBC_x.y symbol version any of its programs needs.
glibc=""
if command -v objdump >/dev/null; then
  glibc=$(find "$R/opt/$APP" -type f \( -name '*.so*' -o -perm -u+x \) -print0 \
    | xargs -0 objdump -T 2>/dev/null | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1 || true)
fi
[ -n "$glibc" ] || glibc=$(dpkg-query -W -f='${Version}' libc6 | sed 's/-.*//')
installed_kb=$(du -sk --exclude=DEBIAN "$R" | cut -f1)

# What QtWebEngine and the xcb platform plugin load from the system (the bundle carries most other libraries).
DEPENDS="libc6 (>= $glibc), libnss3, libnspr4, libxkbcommon0, libxkbcommon-x11-0, libxcb-cursor0, libxcb-icccm4,
 libxcb-image0, libxcb-keysyms1, libxcb-randr0, libxcb-render-util0, libxcb-shape0, libxcb-xinerama0, libxcb-xkb1,
 libx11-xcb1, libegl1, libgl1, libgbm1, libfontconfig1, libfreetype6, libdbus-1-3, libasound2, libxcomposite1,
 libxdamage1, libxrandr2, libxtst6, libxkbfile1, libxshmfence1"
cat >"$R/DEBIAN/control" <<EOF
Package: $APP
Version: $VERSION
Architecture: $DEB_ARCH
Maintainer: The canfar-desktop authors <canfar-desktop@users.noreply.github.com>
Installed-Size: $installed_kb
Depends: $(echo "$DEPENDS" | tr -s ' \n' ' ' | sed 's/ $//')
Recommends: docker.io | docker-ce, openssh-client
Suggests: xdg-utils
Section: science
Priority: optional
Homepage: https://www.canfar.net/
Description: CANFAR-style astronomy sessions as containers on your Docker host
 CANFAR Desktop runs the interactive sessions of the CANFAR science platform
 (JupyterLab notebooks, a noVNC Linux desktop, CARTA, Firefly and contributed
 web apps) as Docker containers on a host you choose, local or over SSH, and
 shows each one in a tab with its logs, events and expiry.
 .
 The package also provides the canfar-desktop command line.
EOF
for script in postinst postrm; do
  cat >"$R/DEBIAN/$script" <<'EOF'
#!/bin/bash
# Refresh the desktop's application menu and icon caches (dpkg triggers do this too where they exist).
set -euo pipefail
case "$1" in
  configure | remove | purge | abort-install | abort-upgrade)
    if command -v update-desktop-database >/dev/null 2>&1; then
      update-desktop-database -q /usr/share/applications || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f /usr/share/icons/hicolor/index.theme ]; then
      gtk-update-icon-cache -q -t -f /usr/share/icons/hicolor || true
    fi
    ;;
esac
exit 0
EOF
  chmod 0755 "$R/DEBIAN/$script"
done
# zstd: every dpkg that can satisfy the glibc dependency above reads it (Debian 12, Ubuntu 22.10 and later), it
# is 12% smaller than gzip and takes about 30 s here; DEB_COMPRESSION=xz gives a 17% smaller .deb but takes 7 min.
case "${DEB_COMPRESSION:-zstd}" in
  zstd) compress=(-Zzstd -z10) ;;
  xz) compress=(-Zxz -z6) ;;
  gzip) compress=(-Zgzip -z6) ;;
  *) die "DEB_COMPRESSION must be zstd, xz or gzip" ;;
esac
dpkg-deb --root-owner-group "${compress[@]}" --threads-max="$(nproc)" --build "$R" "$DIST/$DEBNAME.deb" >/dev/null
echo ".deb made in $((SECONDS - t)) s"

say "Done in $((SECONDS - started)) s"
ls -l "$DIST/$TARNAME.tar.gz" "$DIST/$DEBNAME.deb"
