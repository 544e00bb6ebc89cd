# Builds the Windows installer of CANFAR Desktop (run on Windows from any folder, in PowerShell):
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1
# Needs: Python 3.11+ (py launcher) and Inno Setup 6 (iscc.exe on PATH or in its default folder).
# Optional signing: set SIGN_CERT_THUMBPRINT to a code-signing certificate in the user's store (signtool on PATH).
# Output: dist\canfar-desktop-<version>-windows-x64-setup.exe
$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest
$Root = Resolve-Path (Join-Path $PSScriptRoot "..\..")
Set-Location $Root

$Version = (Select-String -Path canfar_desktop\__init__.py -Pattern '__version__ = "(.+)"').Matches[0].Groups[1].Value
if (-not (Test-Path .venv\Scripts\python.exe)) { py -3.11 -m venv .venv }
$Py = ".venv\Scripts\python.exe"
& $Py -m pip install -q -e . "pyinstaller>=6.10"
if ($LASTEXITCODE) { throw "pip install failed" }

# The .ico from app.svg (16-256 px), used by the .exe and by the installer.
$env:QT_QPA_PLATFORM = "offscreen"
& $Py packaging\icons.py ico build\icons\canfar-desktop.ico
if ($LASTEXITCODE) { throw "icon rendering failed" }
Remove-Item Env:\QT_QPA_PLATFORM

& $Py -m PyInstaller --noconfirm --clean --distpath dist\pyinstaller --workpath build\pyinstaller packaging\canfar-desktop.spec
if ($LASTEXITCODE) { throw "PyInstaller failed" }

function Sign($Path) {
  if ($env:SIGN_CERT_THUMBPRINT) {
    signtool sign /sha1 $env:SIGN_CERT_THUMBPRINT /fd SHA256 /tr http://timestamp.digicert.com /td SHA256 $Path
    if ($LASTEXITCODE) { throw "signtool failed on $Path" }
  }
}
Sign "dist\pyinstaller\canfar-desktop\canfar-desktop.exe"

$Iscc = (Get-Command iscc.exe -ErrorAction SilentlyContinue).Source
if (-not $Iscc) { $Iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
& $Iscc "/DAppVersion=$Version" packaging\windows\canfar-desktop.iss
if ($LASTEXITCODE) { throw "Inno Setup failed" }
Sign "dist\canfar-desktop-$Version-windows-x64-setup.exe"
Write-Host "dist\canfar-desktop-$Version-windows-x64-setup.exe"
