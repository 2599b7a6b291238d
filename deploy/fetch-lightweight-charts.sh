#!/usr/bin/env bash
# Re-fetch TradingView's lightweight-charts from npm into the dashboard's static files, so the
# package ships it and no browser fetches anything at run time. Usage:
#   bash deploy/fetch-lightweight-charts.sh [VERSION]   (default: the version in VERSION there)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
vendor="$here/webhook/http/dashboard/static/vendor"
version="${1:-$(cat "$vendor/lightweight-charts.VERSION")}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "lightweight-charts@$version" >/dev/null && tar xzf ./*.tgz)
cp "$work/package/dist/lightweight-charts.standalone.production.js" "$vendor/"
cp "$work/package/LICENSE" "$vendor/lightweight-charts.LICENSE"
# The attribution notice the license asks for (the project's NOTICE file, which npm does not
# ship), from the bundle's own banner.
copyright="$(sed -n 's/^ \* \(Copyright .*\)$/\1/p' "$vendor/lightweight-charts.standalone.production.js" | head -1)"
printf 'TradingView Lightweight Charts™\n%s https://www.tradingview.com/\n' "$copyright" \
  > "$vendor/lightweight-charts.NOTICE"
node -e 'process.stdout.write(require(process.argv[1]).version + "\n")' \
  "$work/package/package.json" > "$vendor/lightweight-charts.VERSION"
echo "lightweight-charts $(cat "$vendor/lightweight-charts.VERSION") in $vendor"
