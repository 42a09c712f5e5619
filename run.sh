#!/usr/bin/env bash
# Runs the whole NexusCore stack (Postgres, Redis, migrator, ClientsApi, PerfApi) under Aspire and
# prints the dashboard URL. Uses containers when Docker answers, else installs and uses the local
# PostgreSQL 15 / redis-server binaries. Extra arguments go to the AppHost, e.g. ./run.sh --infra local
set -euo pipefail
cd "$(dirname "$0")"

mode=auto
for arg in "$@"; do
  case "$arg" in local|--infra=local) mode=local ;; esac
done
scripts/prerequisites.sh "$mode"

exec dotnet run --project NexusCore.AppHost --launch-profile http -- "$@"
