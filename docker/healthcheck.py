"""Docker HEALTHCHECK: exit 0 when the bot's /health answers 200 (503 or no answer: 1)."""

import os
import sys
import urllib.error
import urllib.request

port = os.environ.get("HELPDESK_METRICS_PORT", "0")
if port == "0":
    sys.exit("HELPDESK_METRICS_PORT is 0: the health endpoint is off")
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=4) as answer:
        sys.exit(0 if answer.status == 200 else 1)
except (urllib.error.URLError, OSError) as exc:
    sys.exit(f"health: {exc}")
