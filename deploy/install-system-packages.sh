#!/usr/bin/env bash
# Installs the Debian packages that the tests and the benchmark use, when we are root on Debian
# and they are missing. Anywhere else it only says what is missing.
set -euo pipefail
needed=()
command -v wrk >/dev/null 2>&1 || needed+=(wrk)
command -v mcs >/dev/null 2>&1 || needed+=(mono-mcs)
command -v mono >/dev/null 2>&1 || needed+=(mono-runtime)
[ -d /usr/lib/mono/4.5 ] || needed+=(mono-devel)
ls /usr/lib/libmonosgen-2.0.so* /usr/lib/*/libmonosgen-2.0.so* >/dev/null 2>&1 || needed+=(libmonosgen-2.0-1)
# The deployment tests: nginx and caddy check deploy/'s proxy configs, openssl makes their test
# certificates, chromium drives the dashboard. The tests start their own instances on free
# loopback ports.
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || needed+=(nginx)
command -v caddy >/dev/null 2>&1 || needed+=(caddy)
command -v openssl >/dev/null 2>&1 || needed+=(openssl)
command -v curl >/dev/null 2>&1 || needed+=(curl)  # the README's curl recipe is tested
command -v chromium >/dev/null 2>&1 || needed+=(chromium)
[ ${#needed[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages: ${needed[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
else
    echo "not root on Debian; missing packages (tests that need them will skip): ${needed[*]}"
fi
