#!/usr/bin/env bash
# First step of `npm run demo` and `npm test`: installs the npm packages when they are
# missing or older than package-lock.json, so both work from a fresh clone. Debian
# packages, FerretDB and the services themselves are `junction stack up`'s job.
set -euo pipefail
cd "$(dirname "$0")/.."

# 20.19: what vite, rolldown, the mongodb driver and faker ask for (npm only warns, and quietly).
if ! command -v node >/dev/null || ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "bootstrap: Node.js 20.19 or newer is required (this is $(node --version 2>/dev/null || echo 'no node'))" >&2
  exit 1
fi

stamp=node_modules/.junction-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  echo "bootstrap: installing npm packages…" >&2
  # `npm install`, not `npm ci`: npm 11 writes lock files without the other platforms'
  # optional packages (msgpackr-extract-darwin-*) and then `npm ci` calls them out of sync.
  # With the lock file present, `npm install` still installs the locked versions.
  npm install --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi

# The web UI (agent console, ops console, widget): built when missing or older than any of
# its sources, so a pulled change shows at the next start.
dist=gateway/web/dist
if [ ! -f "$dist/.built" ] || [ -n "$(find gateway/web package-lock.json -newer "$dist/.built" -type f -not -path "$dist/*" -print -quit)" ]; then
  echo "bootstrap: building the web UI…" >&2
  npm run -s web:build
  touch "$dist/.built"
fi
