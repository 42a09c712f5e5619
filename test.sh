#!/usr/bin/env bash
# Runs every test against real PostgreSQL and Redis: each test project boots the AppHost in local
# mode once. Installs PostgreSQL 15 and redis-server first when they are missing (Debian/Ubuntu), and the npm tools the
# contract tests run (tools/openapi, from its lock file).
#
#   ./test.sh --fast [dotnet test arguments]   only the tests that need no stack ([NoStack] classes, trait
#                                              Stack=none): no PostgreSQL, Redis or AppHost, nothing installed.
set -euo pipefail
cd "$(dirname "$0")"

if [ "${1:-}" = "--fast" ]; then
  shift
  dotnet build NexusCore.sln -c Release -warnaserror --nologo -v quiet
  # The test projects run side by side: none boots anything.
  exec dotnet test NexusCore.sln -c Release --no-build --nologo --filter "Stack=none" "$@"
fi

scripts/prerequisites.sh tests

dotnet build NexusCore.sln -c Release -warnaserror
# -m:1: one test project at a time. Each boots its own stack; five stacks at once on 2 cores make
# timings (slow-query alerts, pgbench connection set-up) depend on what else is running.
# The whole log is kept; when tests fail, each distinct failure is printed once more at the end, where
# a CI log that keeps only its tail still shows it.
log="$(mktemp -t nexuscore-tests.XXXXXX.log)"
status=0
dotnet test NexusCore.sln -c Release --no-build -m:1 \
  --blame-hang-timeout 10m \
  --logger "console;verbosity=normal" \
  "$@" 2>&1 | tee "$log" || status=$?
if [ "$status" -ne 0 ]; then
  scripts/failure-summary.sh "$log"
fi
exit "$status"
