; The Windows setup program of SuperOffice Outbox, built by `scripts/windows.sh installer`
; with Debian's makensis. (The Tauri bundler's NSIS target downloads its NSIS plugin and the
; WebView2 bootstrapper at build time; this build runs offline, so it has a script of its own.)
;
; Per user, no administrator rights: it installs into %LOCALAPPDATA%\Programs\SuperOffice
; Outbox, adds a Start-menu shortcut and registers its uninstaller under HKCU. `/S` installs
; silently, `/D=<dir>` (last on the command line) chooses another directory.
;
; Exit codes: 0 installed; 3 installed, but the Microsoft Edge WebView2 Runtime was not found
; (the app's window cannot open until it is installed; see README, "Windows"); 1 and 2 are
; NSIS's own (cancelled, aborted).
;
; Defined by scripts/windows.sh (-D): VERSION (x.y.z, from Cargo.toml), APP_EXE (so-outbox.exe),
; CLI_EXE (so-outbox-cli.exe),
; LOADER (WebView2Loader.dll for x64), ICON (icons/icon.ico), NOTIFICATION_ICON (a PNG),
; SIZE_KB (installed size), OUTFILE.

Unicode true
Target amd64-unicode
ManifestDPIAware true
SetCompressor /SOLID lzma
RequestExecutionLevel user

!define PRODUCT "SuperOffice Outbox"
!define PUBLISHER "SuperOffice Outbox"
!define IDENTIFIER "com.sooutbox.desktop"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${IDENTIFIER}"
!define AUMID_KEY "Software\Classes\AppUserModelId\${IDENTIFIER}"
!define WEBVIEW2_CLIENT "{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"

Name "${PRODUCT}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${PRODUCT}"
InstallDirRegKey HKCU "${UNINSTALL_KEY}" "InstallLocation"
BrandingText "${PRODUCT} ${VERSION}"

VIProductVersion "${VERSION}.0"
VIAddVersionKey /LANG=0 "ProductName" "${PRODUCT}"
VIAddVersionKey /LANG=0 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "FileDescription" "${PRODUCT} setup"
VIAddVersionKey /LANG=0 "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=0 "LegalCopyright" "MIT license"

!include "MUI2.nsh"
!include "LogicLib.nsh"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\so-outbox.exe"

!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES

; The user's Windows language picks one of these (English otherwise), as in the app.
!insertmacro MUI_LANGUAGE "English"
!insertmacro MUI_LANGUAGE "German"

LangString NoWebView2 ${LANG_ENGLISH} "${PRODUCT} shows its window with the Microsoft Edge WebView2 Runtime, which this computer does not have. Windows 11 and current Windows 10 include it.$\r$\n$\r$\nThe app is installed, but its window cannot open until the WebView2 Runtime (Evergreen) is installed: ask your IT department, or install it from Microsoft's WebView2 page (developer.microsoft.com/microsoft-edge/webview2)."
LangString NoWebView2 ${LANG_GERMAN} "${PRODUCT} zeigt sein Fenster mit der Microsoft Edge WebView2 Runtime an, die auf diesem Computer fehlt. Windows 11 und aktuelle Versionen von Windows 10 enthalten sie.$\r$\n$\r$\nDie App ist installiert, ihr Fenster kann sich aber erst öffnen, wenn die WebView2 Runtime (Evergreen) installiert ist: Fragen Sie Ihre IT-Abteilung, oder installieren Sie sie von Microsofts WebView2-Seite (developer.microsoft.com/microsoft-edge/webview2)."
LangString StillRunning ${LANG_ENGLISH} "${PRODUCT} is running. Close its window, then choose Retry."
LangString StillRunning ${LANG_GERMAN} "${PRODUCT} läuft noch. Schließen Sie die App und wählen Sie dann „Wiederholen“."

Var WebView2Version

; Microsoft's documented check for the Evergreen runtime ("Detect if a WebView2 Runtime is
; already installed"): a non-empty `pv` other than 0.0.0.0 under the runtime's EdgeUpdate client
; key, per machine (on 64-bit Windows under WOW6432Node) or per user.
Function FindWebView2
  SetRegView 64
  ReadRegStr $WebView2Version HKLM "SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_CLIENT}" "pv"
  ${If} $WebView2Version == ""
  ${OrIf} $WebView2Version == "0.0.0.0"
    ReadRegStr $WebView2Version HKCU "Software\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_CLIENT}" "pv"
  ${EndIf}
  ${If} $WebView2Version == "0.0.0.0"
    StrCpy $WebView2Version ""
  ${EndIf}
FunctionEnd

; A running .exe cannot be replaced: ask the user to close the app first (a silent install
; cannot ask, and stops with exit code 2 instead of leaving a half-updated directory).
!macro ReplaceableOrAsk FILE
  ${If} ${FileExists} "${FILE}"
    ${Do}
      ClearErrors
      FileOpen $0 "${FILE}" a
      ${IfNot} ${Errors}
        FileClose $0
        ${Break}
      ${EndIf}
      ${IfCmd} MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION "$(StillRunning)" /SD IDCANCEL IDCANCEL ${||} Abort ${|}
    ${Loop}
  ${EndIf}
!macroend

Section "Install"
  SetShellVarContext current
  SetOutPath "$INSTDIR"
  !insertmacro ReplaceableOrAsk "$INSTDIR\so-outbox.exe"
  File "/oname=so-outbox.exe" "${APP_EXE}"
  ; configure and diagnose from a console (its output and exit code): see README, "Windows".
  File "/oname=so-outbox-cli.exe" "${CLI_EXE}"
  ; The GNU build of Tauri's WebView2 glue loads the loader DLL beside the .exe.
  File "/oname=WebView2Loader.dll" "${LOADER}"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateShortcut "$SMPROGRAMS\${PRODUCT}.lnk" "$INSTDIR\so-outbox.exe" "" "$INSTDIR\so-outbox.exe" 0

  ; The installed app's notifications carry the app id `${IDENTIFIER}` (tauri-plugin-notification);
  ; Windows shows an unpackaged app's notifications under an id registered for the user, with
  ; this name and icon.
  File "/oname=notification.png" "${NOTIFICATION_ICON}"
  WriteRegStr HKCU "${AUMID_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKCU "${AUMID_KEY}" "IconUri" "$INSTDIR\notification.png"

  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\so-outbox.exe,0"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "EstimatedSize" ${SIZE_KB}

  Call FindWebView2
  ${If} $WebView2Version == ""
    DetailPrint "Microsoft Edge WebView2 Runtime: not found"
    MessageBox MB_OK|MB_ICONEXCLAMATION "$(NoWebView2)" /SD IDOK
    SetErrorLevel 3
  ${Else}
    DetailPrint "Microsoft Edge WebView2 Runtime: $WebView2Version"
  ${EndIf}
SectionEnd

; Removes the program, its shortcut and its registration. The data directory
; (%LOCALAPPDATA%\com.sooutbox.desktop: the outbox with messages not sent yet, config.json and
; the logs) and the Credential Manager entries stay, as on Linux: see README, "Windows".
Section "Uninstall"
  SetShellVarContext current
  !insertmacro ReplaceableOrAsk "$INSTDIR\so-outbox.exe"
  Delete "$SMPROGRAMS\${PRODUCT}.lnk"
  Delete "$INSTDIR\so-outbox.exe"
  Delete "$INSTDIR\so-outbox-cli.exe"
  Delete "$INSTDIR\WebView2Loader.dll"
  Delete "$INSTDIR\notification.png"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
  DeleteRegKey HKCU "${AUMID_KEY}"
SectionEnd
