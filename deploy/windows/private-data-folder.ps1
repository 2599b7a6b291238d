# Make the data directory (tradehook.toml, tradehook.secrets, tradehook.db, logs) private to the
# account that runs tradehook: inherited permissions (which on C:\ let every user read) are
# removed, and only that account, SYSTEM and the Administrators group keep access. Run it in an
# elevated PowerShell, before the first start:
#   powershell -ExecutionPolicy Bypass -File C:\tradehook\deploy\windows\private-data-folder.ps1 `
#     -Account "$env:COMPUTERNAME\trader"
# tradehook also makes tradehook.secrets private to its own account when it writes the file.
#Requires -RunAsAdministrator
param(
    [string]$DataDirectory = 'C:\tradehook\data',
    [Parameter(Mandatory = $true)][string]$Account
)
$ErrorActionPreference = 'Stop'

New-Item -ItemType Directory -Force -Path $DataDirectory | Out-Null
New-Item -ItemType Directory -Force -Path (Join-Path $DataDirectory 'logs') | Out-Null

# (OI)(CI): files and folders made later inherit the same three entries.
# *S-1-5-18 is SYSTEM, *S-1-5-32-544 the Administrators group, in any language of Windows.
& icacls.exe $DataDirectory /inheritance:r /grant:r "${Account}:(OI)(CI)F" `
    '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F'
if ($LASTEXITCODE -ne 0) { throw "icacls could not set the permissions of $DataDirectory" }
# Apply the same to what is already inside.
& icacls.exe "$DataDirectory\*" /reset /T /C /Q
if ($LASTEXITCODE -ne 0) { throw "icacls could not reset the permissions inside $DataDirectory" }

& icacls.exe $DataDirectory
