# shellcheck shell=bash
# A loopback HTTP mirror (python3 -m http.server on 127.0.0.1) serving <dir>/v<ver>/<asset>, with its
# request log kept so a script can assert what was (and was not) downloaded. Source common.sh first.

MIRROR_PID=
MIRROR_PORT=
MIRROR_LOG=

# mirror_start DIR LOG: serves DIR on a free loopback port; sets MIRROR_PORT, MIRROR_PID, MIRROR_URL.
mirror_start() {
    local dir=$1 attempt
    MIRROR_LOG=$2
    need_commands python3:python3 curl:curl
    : >"$MIRROR_LOG"
    for attempt in 1 2 3 4 5; do
        # Ask the kernel for a free port; another process could take it before the server binds,
        # which the loop below notices (the server exits) and retries.
        MIRROR_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        python3 -u -m http.server --bind 127.0.0.1 "$MIRROR_PORT" --directory "$dir" </dev/null >>"$MIRROR_LOG" 2>&1 &
        MIRROR_PID=$!
        on_exit mirror_stop
        if mirror_wait_ready; then
            MIRROR_URL="http://127.0.0.1:$MIRROR_PORT"
            say "mirror: $MIRROR_URL serving $dir (pid $MIRROR_PID, log $MIRROR_LOG)"
            return 0
        fi
        mirror_stop
        say "mirror did not come up on port $MIRROR_PORT (attempt $attempt)"
    done
    die "could not start the loopback mirror; log: $(cat "$MIRROR_LOG")"
}

# Up to 10 s for the server to answer; false if it died or stayed silent.
mirror_wait_ready() {
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$MIRROR_PID" 2>/dev/null || return 1
        curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$MIRROR_PORT/" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# Stops the server this script started (by its pid only); safe to call twice.
mirror_stop() {
    [[ -n $MIRROR_PID ]] || return 0
    kill "$MIRROR_PID" 2>/dev/null || true
    wait "$MIRROR_PID" 2>/dev/null || true
    MIRROR_PID=
}

# The request paths in the log after the readiness probes ("GET /v1.22.0/x.tgz 200"), one per line.
mirror_requests() {
    sed -n 's/.*"\(GET\|HEAD\) \([^ ]*\) HTTP[^"]*" \([0-9]*\).*/\1 \2 \3/p' "$MIRROR_LOG" | grep -v '^GET / ' || true
}
