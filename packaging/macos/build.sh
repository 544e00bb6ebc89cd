#!/usr/bin/env bash
# Builds "CANFAR Desktop.app" and a .dmg on macOS (run on a Mac, from the repository root or anywhere):
#   packaging/macos/build.sh
# Needs: python3.11+, Xcode command line tools (iconutil, hdiutil, codesign). Outputs in dist/.
# Signing and notarisation happen only when CODESIGN_IDENTITY (a "Developer ID Application: …" identity in the
# keychain) and, for notarisation, NOTARY_PROFILE (from `xcrun notarytool store-credentials`) are set.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' canfar_desktop/__init__.py)
APP_NAME="CANFAR Desktop"
DMG="dist/canfar-desktop-$VERSION-macos-$(uname -m).dmg"

if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/pip install -q -e . "pyinstaller>=6.10"

# The .icns from app.svg: an iconset of 16…1024 px (1x and 2x) rendered with QtSvg, then iconutil.
ICONSET=build/icons/canfar-desktop.iconset
rm -rf "$ICONSET" && mkdir -p "$ICONSET"
QT_QPA_PLATFORM=offscreen .venv/bin/python - "$ICONSET" <<'PY'
import sys
from pathlib import Path

sys.path.insert(0, "packaging")
import icons  # noqa: E402

icons._app()
data = (icons.ICON_DIR / "app.svg").read_bytes()
out = Path(sys.argv[1])
for size in (16, 32, 128, 256, 512):
    icons.render(data, size).save(str(out / f"icon_{size}x{size}.png"))
    icons.render(data, size * 2).save(str(out / f"icon_{size}x{size}@2x.png"))
PY
iconutil -c icns "$ICONSET" -o build/icons/canfar-desktop.icns

# The spec makes dist/pyinstaller/CANFAR Desktop.app with Info.plist (bundle id net.canfar.Desktop).
.venv/bin/python -m PyInstaller --noconfirm --clean --distpath dist/pyinstaller --workpath build/pyinstaller \
  packaging/canfar-desktop.spec
APP="dist/pyinstaller/$APP_NAME.app"
"$APP/Contents/MacOS/canfar-desktop" --version

if [ -n "${CODESIGN_IDENTITY:-}" ]; then
  # Hardened runtime; QtWebEngine's helper needs JIT and unsigned executable memory (entitlements.plist).
  codesign --force --deep --options runtime --timestamp --entitlements packaging/macos/entitlements.plist \
    --sign "$CODESIGN_IDENTITY" "$APP"
  codesign --verify --deep --strict --verbose=2 "$APP"
fi

# The disk image: the app and a link to /Applications to drag it onto.
STAGE=build/dmg && rm -rf "$STAGE" && mkdir -p "$STAGE"
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
rm -f "$DMG"
hdiutil create -volname "$APP_NAME $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO -ov "$DMG"

if [ -n "${CODESIGN_IDENTITY:-}" ]; then
  codesign --force --timestamp --sign "$CODESIGN_IDENTITY" "$DMG"
  if [ -n "${NOTARY_PROFILE:-}" ]; then
    xcrun notarytool submit "$DMG" --keychain-profile "$NOTARY_PROFILE" --wait
    xcrun stapler staple "$DMG"
  fi
fi
echo "$ROOT/$DMG"
