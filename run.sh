#!/usr/bin/env bash
# Runs the whole NexusCore stack (Postgres, Redis, migrator, ClientsApi, PerfApi) under Aspire and
# prints the dashboard URL and PerfApi's console URL. Uses containers when Docker answers, else installs and uses the local
# PostgreSQL 15 / redis-server binaries. Extra arguments go to the AppHost, e.g. ./run.sh --infra local
set -euo pipefail
cd "$(dirname "$0")"

mode=auto
for arg in "$@"; do
  case "$arg" in local|--infra=local) mode=local ;; esac
done
scripts/prerequisites.sh "$mode"

# PerfApi's console is at its launch profile's port (NexusCore.PerfApi/Properties/launchSettings.json); the AppHost prints
# the dashboard's URL below. --NexusCore:Dashboard:AlertsAsHealth shows PerfApi's active alerts as clients-api's health.
echo "NexusCore console: http://localhost:5190/console (sign in with an API key: the dashboard's parameters api-key-reader / api-key-admin)"
exec dotnet run --project NexusCore.AppHost --launch-profile http -- --NexusCore:Dashboard:AlertsAsHealth true "$@"
