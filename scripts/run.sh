#!/usr/bin/env bash
# The app's main job. With a display: open the desktop app. Without one: launch a real notebook
# session through the core and print how to open it.
set -euo pipefail
cd "$(dirname "$0")/.."
APP=.venv/bin/canfar-desktop

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec "$APP" "$@"
fi

echo "No display found: launching a notebook session from the command line instead."
id=$("$APP" create notebook --wait -n "${SESSION_NAME:-my-notebook}")
url=$("$APP" open --print "$id")
port=$(printf '%s' "$url" | sed -E 's#^http://[^:]+:([0-9]+)/.*#\1#')
cat <<EOT

Session $id is Running.
  Open it:      $url
  From another computer, first forward the port:  ssh -L $port:127.0.0.1:$port $(whoami)@$(hostname -f 2>/dev/null || hostname)
  List:         $APP ps
  Delete:       $APP delete -f $id   (files in /arc stay)
EOT
