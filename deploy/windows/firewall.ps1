# Windows Firewall for tradehook behind Caddy: HTTPS (443) and the certificate challenge (80)
# reach caddy.exe from anywhere, as TradingView calls only ports 80 and 443; tradehook itself
# listens on 127.0.0.1:8000 and is refused from outside as well. Run it in an elevated PowerShell:
#   powershell -ExecutionPolicy Bypass -File C:\tradehook\deploy\windows\firewall.ps1
# Running it again replaces the rules it made (they share the group "tradehook").
#Requires -RunAsAdministrator
param(
    [string]$Caddy = 'C:\caddy\caddy.exe',
    [int]$TradehookPort = 8000
)
$ErrorActionPreference = 'Stop'
$Group = 'tradehook'

Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule

New-NetFirewallRule -Group $Group -DisplayName 'Caddy HTTPS for tradehook' -Direction Inbound `
    -Action Allow -Protocol TCP -LocalPort 443 -Program $Caddy -Profile Any | Out-Null
New-NetFirewallRule -Group $Group -DisplayName 'Caddy HTTP (certificates, redirect)' `
    -Direction Inbound -Action Allow -Protocol TCP -LocalPort 80 -Program $Caddy -Profile Any |
    Out-Null
New-NetFirewallRule -Group $Group -DisplayName 'tradehook port, never from outside' `
    -Direction Inbound -Action Block -Protocol TCP -LocalPort $TradehookPort -Profile Any |
    Out-Null

Get-NetFirewallRule -Group $Group | Format-Table DisplayName, Direction, Action, Enabled
