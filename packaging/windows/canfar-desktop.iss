; Inno Setup script for CANFAR Desktop on Windows (see packaging/README.md):
;   iscc /DAppVersion=0.1.0 packaging\windows\canfar-desktop.iss
; It packs the PyInstaller one-folder bundle from dist\pyinstaller\canfar-desktop into
; dist\canfar-desktop-<version>-windows-x64-setup.exe: a per-user install by default (no administrator needed),
; per-machine when the user chooses it; Start-menu entry, optional desktop icon, and an uninstaller.
; canfar-desktop.exe is the windowed app; canfar-desktop-cli.exe is the same program as a console program for
; the command line (add the install folder to PATH to use it as `canfar-desktop-cli ps`).

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#define AppName "CANFAR Desktop"
#define AppExe "canfar-desktop.exe"
#define Root "..\.."

[Setup]
; A fixed AppId keeps upgrades and the uninstaller tied to the same installation.
AppId={{6B0E7C1A-5C0B-4A4E-9F1D-3C2B7A8E4D11}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=The canfar-desktop authors
AppPublisherURL=https://www.canfar.net/
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#Root}\dist
OutputBaseFilename=canfar-desktop-{#AppVersion}-windows-x64-setup
SetupIconFile={#Root}\build\icons\canfar-desktop.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesEnvironment=no
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#Root}\dist\pyinstaller\canfar-desktop\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"; AppUserModelID: "net.canfar.Desktop"
Name: "{group}\{cm:UninstallProgram,{#AppName}}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon; AppUserModelID: "net.canfar.Desktop"

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Registry]
; Start-at-login is a Run value the app writes itself; it goes with the app (settings and sessions stay).
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: none; ValueName: "CANFAR Desktop"; Flags: uninsdeletevalue dontcreatekey
