#!/usr/bin/env bash
# Prints, from a `dotnet test` console log (verbosity normal), each distinct failure once: its message,
# how many tests failed with it and the first of them, then every project's totals. test.sh runs it
# last when tests fail, so the end of a CI log, which is often all that is kept, says why.
# A collection fixture that cannot start fails every test of its collection with one message; here it
# is one entry, not hundreds.
set -euo pipefail
log="$1"

echo
echo "==================== Failures (from $log) ===================="
awk '
  # A failed test: "  Failed <name> [<time>]", then "  Error Message:" and its lines, then "  Stack Trace:".
  /^  Failed [A-Za-z_]/ { flush(); name = $2; inmsg = 0; msg = ""; next }
  /^  Error Message:/ && name != "" { inmsg = 1; next }
  /^  Stack Trace:/ || /^  (Passed|Skipped|Standard Output Messages:)/ { flush(); next }
  inmsg && lines < 80 { msg = msg $0 "\n"; lines++ }
  function flush() {
    if (name != "") {
      if (!(msg in count)) { order[++n] = msg; first[msg] = name }
      count[msg]++
    }
    name = ""; inmsg = 0; msg = ""; lines = 0
  }
  END {
    flush()
    if (n == 0) { print "No failed test was found in the log: see the totals and any abort above." }
    for (i = 1; i <= n; i++) {
      m = order[i]
      printf "\n[%d test(s)] first: %s\n%s", count[m], first[m], m
    }
  }
' "$log"

echo
echo "==================== Totals ===================="
grep -E "^Test run for |^Total tests:|^ +(Passed|Failed|Skipped): |^Test Run (Failed|Successful|Aborted)|The active test run was aborted" "$log" || true
