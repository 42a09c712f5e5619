#!/usr/bin/env bash
# Makes sure this machine can run NexusCore's infrastructure.
#   scripts/prerequisites.sh local   PostgreSQL 15 (+ extensions) and redis-server, for local mode and the tests
#   scripts/prerequisites.sh auto    nothing when a container runtime answers, else as 'local'
#   scripts/prerequisites.sh bench   as 'local', plus wrk and the PostgreSQL client tools (pgbench, psql) for bench/run
#   scripts/prerequisites.sh tests   as 'local', plus the npm tools the contract tests run (tools/openapi, from its lock file)
#                                    and Debian's chromium, the browser the console's Playwright tests drive (nothing is downloaded)
# Installs what is missing with apt-get (Debian/Ubuntu, as root or with passwordless sudo);
# otherwise prints exactly what to install and exits 1.
set -euo pipefail

mode="${1:-auto}"
root="$(cd "$(dirname "$0")/.." && pwd)"

say() { printf '[prerequisites] %s\n' "$*"; }

# The contract tests' npm tools (Redocly's linter, openapi-typescript, openapi-fetch, TypeScript), exactly as
# tools/openapi/package-lock.json pins them. npm ci runs again only when the lock file changed since the last install.
install_openapi_tools() {
  local dir="$root/tools/openapi" stamp
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    say "node (20.19 or later) and npm are missing: install Node.js to run the contract tests (tools/openapi)."
    return 1
  fi
  stamp="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ -f "$dir/node_modules/.nexuscore-lock" ] && [ "$(cat "$dir/node_modules/.nexuscore-lock")" = "$stamp" ]; then
    say "The OpenAPI tools are installed (tools/openapi)."
    return 0
  fi
  say "Installing the OpenAPI tools (npm ci in tools/openapi) ..."
  # No install scripts: none of these packages needs one, and none runs on this machine unasked.
  if ! (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >/tmp/nexuscore-npm.log 2>&1; then
    tail -n 20 /tmp/nexuscore-npm.log
    say "npm ci failed in tools/openapi (log: /tmp/nexuscore-npm.log)."
    return 1
  fi
  printf '%s' "$stamp" >"$dir/node_modules/.nexuscore-lock"
  say "Installed the OpenAPI tools."
}

tests=false
if [ "$mode" = "tests" ]; then
  install_openapi_tools
  tests=true
  mode=local
fi

if ! command -v dotnet >/dev/null 2>&1; then
  say "The .NET 10 SDK is missing: install it from https://dot.net (dotnet-sdk-10.0)."
  exit 1
fi

if [ "$mode" = "auto" ] && docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; then
  say "A container runtime answers: the AppHost will use containers."
  exit 0
fi

# The Debian packages local mode needs, and the file that proves each is installed.
declare -A wanted=(
  [postgresql-15]="/usr/lib/postgresql/15/bin/postgres"
  [postgresql-15-hypopg]="/usr/share/postgresql/15/extension/hypopg.control"
  [redis-server]="/usr/bin/redis-server"
)
if [ "$mode" = "bench" ]; then
  wanted[postgresql-client-15]="/usr/lib/postgresql/15/bin/pgbench"
  wanted[wrk]="/usr/bin/wrk"
fi
if [ "$tests" = true ]; then
  # tests/NexusCore.Console.Tests launch this executable (Playwright's ExecutablePath): Playwright downloads no browser.
  wanted[chromium]="/usr/bin/chromium"
fi

missing=()
for package in "${!wanted[@]}"; do
  [ -e "${wanted[$package]}" ] || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
  say "PostgreSQL 15 and redis-server are installed$([ "$tests" = true ] && echo ', and chromium')."
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  say "Missing: ${missing[*]}. Install them with:"
  say "  sudo apt-get install -y ${missing[*]}"
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  say "Missing: ${missing[*]}, and this is not a Debian/Ubuntu machine: install PostgreSQL 15 (with hypopg) and Redis with your package manager,"
  say "or set NexusCore:Local:PostgresBinDir and NexusCore:Local:RedisServer to existing binaries."
  exit 1
fi

say "Installing ${missing[*]} ..."
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/nexuscore-apt.log 2>&1; then
  # A fresh machine has no package lists yet.
  "${sudo[@]}" apt-get update -q >>/tmp/nexuscore-apt.log 2>&1
  if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/nexuscore-apt.log 2>&1; then
    tail -n 20 /tmp/nexuscore-apt.log
    say "apt-get could not install ${missing[*]} (log: /tmp/nexuscore-apt.log)."
    exit 1
  fi
fi

for package in "${missing[@]}"; do
  if [ ! -e "${wanted[$package]}" ]; then
    say "$package was installed but ${wanted[$package]} is still missing."
    exit 1
  fi
done
say "Installed ${missing[*]}."
