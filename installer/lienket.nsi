; lienket.nsi — the office laptop's installer (NSIS 3, Debian's makensis; built by
; `make win`, win.mk, which passes VERSION, AGENT, SYNC, SHORTCUT_ARGS and OUTFILE
; with -D).
;
; Per user, without administrator rights (the office's join code, asked on a page or
; given as /JOIN=CODE, sets the laptop up): the program goes to
; %LOCALAPPDATA%\Programs\LienKet, the office's data to %LOCALAPPDATA%\LienKet (the
; database lienket.db, its backups and exports; the profile's ACL keeps other users
; out). It adds
;   - "Liên Kết" shortcuts in the Start menu and on the desktop, opening the office app
;     (lienket-agent.exe app, the working folder the data folder);
;   - the background sync at logon: a value under HKCU\...\Run starting
;     lienket-sync.exe daemon (the same agent built for the windows subsystem, so no
;     console window appears; see docs/windows.md for why not a scheduled task);
;   - LIENKET_DB in the user's environment, so lienket-agent typed in a console finds
;     the same database;
;   - an entry in Settings → Apps, whose uninstaller removes the program, shortcuts,
;     the logon entry and the variable, and keeps the data folder.
; Windows 10 or later: older Windows is refused with a message (docs/windows.md says
; why: TLS 1.2 and the system's SHA-256 the agent uses).

Unicode true
Target amd64-unicode
RequestExecutionLevel user
SetCompressor /SOLID lzma

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "nsDialogs.nsh"
!include "FileFunc.nsh"
!include "WinVer.nsh"
!include "WinMessages.nsh"

!ifndef VERSION
  !error "VERSION missing: build with make win"
!endif

!define NAME "Liên Kết"
!define KEY "LienKet"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${KEY}"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define DATA "$LOCALAPPDATA\${KEY}"

Name "${NAME}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${KEY}"
InstallDirRegKey HKCU "${UNINST_KEY}" "InstallLocation"
BrandingText "${NAME} ${VERSION}"
VIProductVersion "${VERSION}.0"
VIAddVersionKey /LANG=0 "ProductName" "${NAME}"
VIAddVersionKey /LANG=0 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "LegalCopyright" "${NAME}"
VIAddVersionKey /LANG=0 "FileDescription" "${NAME} — cài đặt cho văn phòng"

!if "${SHORTCUT_ARGS}" == "app"
  !define MUI_FINISHPAGE_RUN "$INSTDIR\lienket-agent.exe"
  !define MUI_FINISHPAGE_RUN_PARAMETERS "app"
!endif
!insertmacro MUI_PAGE_DIRECTORY
Page custom JoinPage JoinPageLeave
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "Vietnamese"

; SHORTCUT FILE — the shortcut that opens the office app. An agent built without the
; `app` command (win.mk passes SHORTCUT_ARGS=status then) gets a console that stays open
; on `status` instead.
!macro SHORTCUT FILE
  !if "${SHORTCUT_ARGS}" == "app"
    CreateShortcut "${FILE}" "$INSTDIR\lienket-agent.exe" "app" \
      "$INSTDIR\lienket-agent.exe" 0 SW_SHOWMINIMIZED "" "${NAME}"
  !else
    CreateShortcut "${FILE}" "$SYSDIR\cmd.exe" '/k ""$INSTDIR\lienket-agent.exe" ${SHORTCUT_ARGS}"' \
      "$INSTDIR\lienket-agent.exe" 0 SW_SHOWNORMAL "" "${NAME}"
  !endif
!macroend

; The join code on the office's sheet (PROTOCOL.md §12): typed on the installer's page,
; or given as /JOIN=CODE on a silent install (/S). The installer then runs
; `lienket-agent init --join` on the data folder's database, so the shortcut opens an
; office that is set up. Left empty (or the office already joined), nothing is asked.
Var JoinCode
Var JoinBox

Function JoinPage
  ${If} ${FileExists} "${DATA}\lienket.db"
    Abort ; joined before: nothing to ask
  ${EndIf}
  !insertmacro MUI_HEADER_TEXT "Mã tham gia" "Mã in dưới mục $\"Mã tham gia$\" trên Phiếu kết nối Liên Kết tỉnh gửi cho văn phòng"
  nsDialogs::Create 1018
  Pop $0
  ${NSD_CreateLabel} 0 0 100% 30u "Gõ hoặc dán mã tham gia (bắt đầu bằng LK1.). Có thể để trống: lần đầu mở Liên Kết, ứng dụng sẽ hỏi mã này."
  Pop $0
  ${NSD_CreateText} 0 34u 100% 14u "$JoinCode"
  Pop $JoinBox
  nsDialogs::Show
FunctionEnd

Function JoinPageLeave
  ${NSD_GetText} $JoinBox $JoinCode
FunctionEnd

Function .onInit
  ${GetParameters} $R0
  ${GetOptions} $R0 "/JOIN=" $JoinCode
  ${IfNot} ${AtLeastBuild} 10240
    MessageBox MB_ICONSTOP "${NAME} cần Windows 10 hoặc 11. Windows này quá cũ: nó không kết nối an toàn (TLS 1.2) được với máy chủ tỉnh." /SD IDOK
    Abort
  ${EndIf}
FunctionEnd

Section "Install"
  SetOutPath "$INSTDIR"
  ; A running background sync holds its .exe open: stop it so the files can be replaced
  ; (an interrupted sync loses nothing; the next one resumes).
  nsExec::Exec '"$SYSDIR\taskkill.exe" /F /IM lienket-sync.exe'
  Pop $0
  File "/oname=lienket-agent.exe" "${AGENT}"
  File "/oname=lienket-sync.exe" "${SYNC}"
  CreateDirectory "${DATA}"

  ; Shortcuts start in the working folder of SetOutPath: make it the data folder, so the
  ; default database name (lienket.db) is the office's one.
  SetOutPath "${DATA}"
  !insertmacro SHORTCUT "$SMPROGRAMS\${NAME}.lnk"
  !insertmacro SHORTCUT "$DESKTOP\${NAME}.lnk"

  ${If} $JoinCode != ""
  ${AndIfNot} ${FileExists} "${DATA}\lienket.db"
    nsExec::ExecToLog '"$INSTDIR\lienket-agent.exe" init --db "${DATA}\lienket.db" --join "$JoinCode"'
    Pop $0
    ${If} $0 != 0
      MessageBox MB_ICONEXCLAMATION "Mã tham gia không dùng được (mã lỗi $0). Hãy kiểm tra lại mã trên phiếu, rồi chạy: lienket-agent init --join MÃ" /SD IDOK
    ${EndIf}
  ${EndIf}

  WriteRegStr HKCU "${RUN_KEY}" "${KEY}" '"$INSTDIR\lienket-sync.exe" daemon --db "${DATA}\lienket.db"'
  WriteRegExpandStr HKCU "Environment" "LIENKET_DB" "${DATA}\lienket.db"
  SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=500

  WriteUninstaller "$INSTDIR\uninstall.exe"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayName" "${NAME}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINST_KEY}" "Publisher" "${NAME}"
  WriteRegStr HKCU "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\lienket-agent.exe"
  WriteRegStr HKCU "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoRepair" 1

  ; The background sync now, not only from the next logon (before the office has joined
  ; there is no database yet: it ends at once, and starts again at the next logon).
  Exec '"$INSTDIR\lienket-sync.exe" daemon --db "${DATA}\lienket.db"'
SectionEnd

Section "Uninstall"
  nsExec::Exec '"$SYSDIR\taskkill.exe" /F /IM lienket-sync.exe'
  Pop $0
  Delete "$SMPROGRAMS\${NAME}.lnk"
  Delete "$DESKTOP\${NAME}.lnk"
  DeleteRegValue HKCU "${RUN_KEY}" "${KEY}"
  DeleteRegValue HKCU "Environment" "LIENKET_DB"
  SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=500
  DeleteRegKey HKCU "${UNINST_KEY}"
  Delete "$INSTDIR\lienket-agent.exe"
  Delete "$INSTDIR\lienket-sync.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  ; ${DATA} stays: the office's records, backups and exports are not the program's.
SectionEnd
