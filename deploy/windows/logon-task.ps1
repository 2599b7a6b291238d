# tradehook in the trader's own desktop session, started when the trader logs on: for the mt5
# plugin with transport = 'native', whose MetaTrader5 package talks to a terminal running in
# the same session (a service runs in session 0, apart from the desktop). The window it opens
# shows the log; closing it stops tradehook (the journal survives that, and queued signals run
# after the next start). Run it as the trader, in PowerShell (no elevation needed):
#   powershell -ExecutionPolicy Bypass -File C:\tradehook\deploy\windows\logon-task.ps1
# Use this or the WinSW service (tradehook-service.xml), not both: one port, one tradehook.
param(
    [string]$Tradehook = 'C:\tradehook\venv\Scripts\tradehook.exe',
    [string]$DataDirectory = 'C:\tradehook\data',
    [int]$DelaySeconds = 60
)
$ErrorActionPreference = 'Stop'
$Account = "$env:USERDOMAIN\$env:USERNAME"

# The working directory is the data directory: tradehook.toml, tradehook.secrets and the
# journal are found there, as with TRADEHOOK_HOME.
$action = New-ScheduledTaskAction -Execute $Tradehook -Argument 'serve' `
    -WorkingDirectory $DataDirectory
# A delay after logon gives the terminals time to start; /ready answers 503 until they are up.
$trigger = New-ScheduledTaskTrigger -AtLogOn -User $Account
$trigger.Delay = "PT${DelaySeconds}S"
$settings = New-ScheduledTaskSettingsSet -ExecutionTimeLimit ([TimeSpan]::Zero) `
    -RestartCount 5 -RestartInterval (New-TimeSpan -Minutes 1) -StartWhenAvailable
$principal = New-ScheduledTaskPrincipal -UserId $Account -LogonType Interactive -RunLevel Limited

Register-ScheduledTask -TaskName 'tradehook' -Action $action -Trigger $trigger `
    -Settings $settings -Principal $principal -Force | Out-Null
Get-ScheduledTask -TaskName 'tradehook' | Format-List TaskName, State, Principal
