#!/bin/sh
# Container entry point. `run [--webhook]` applies the migrations first (as its own step, so a
# failing migration is reported before the bot starts), then becomes the bot process, so that
# `docker stop` signals it directly. Anything else is a helpdesk command: `db current`,
# `config`, `triage models`, ...
set -eu
if [ "${1:-run}" = "run" ]; then
    helpdesk db upgrade
fi
exec helpdesk "$@"
