#!/bin/sh
# A task kind written in POSIX shell, to show the contract in something other than this
# codebase. It counts the words of its message. It knows nothing of the database:
#   in:  MESSAGE (the task's text) and CONTAINER_NAME, plus the kind's own env (STEP_SECONDS);
#   out: "progress <0..1>" lines while it works, then one {"output": ...} line, and exit 0.
# Any other exit code fails the task with the end of this output as the reason.
set -eu
: "${MESSAGE:?MESSAGE is not set}"
step="${STEP_SECONDS:-0}"

echo "counting the words of a $(printf '%s' "$MESSAGE" | wc -c | tr -d ' ')-byte message in $CONTAINER_NAME"
echo "progress 0"
sleep "$step"
words=$(printf '%s' "$MESSAGE" | wc -w | tr -d ' ')
echo "progress 0.5"
sleep "$step"
lines=$(printf '%s\n' "$MESSAGE" | wc -l | tr -d ' ')
echo "progress 1"
printf '{"output": "%s words on %s lines"}\n' "$words" "$lines"
