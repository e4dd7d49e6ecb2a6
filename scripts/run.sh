#!/usr/bin/env bash
# Starts the action server, the Rasa server (REST + socketio) and the web page, prints where they
# are, and stops all three on Ctrl-C. `make run` calls this after setting everything up.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${ACTION_PORT:=5055}"
: "${RASA_PORT:=5005}"
: "${WEB_PORT:=8000}"
# Every server listens on loopback only; an operator who wants another interface says so.
: "${SECURE_BASE_BIND:=127.0.0.1}"
: "${SECURE_BASE_WEB_ORIGINS:=http://localhost:${WEB_PORT} http://127.0.0.1:${WEB_PORT}}"
# endpoints.yml reads ACTION_PORT.
export ACTION_PORT
export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2
[ -f .env ] && { set -a; . ./.env; set +a; }
# One database for the journal and Rasa's conversation log (endpoints.yml reads DATABASE_URL).
export DATABASE_URL="${DATABASE_URL:-sqlite:///$PWD/var/secure_base.db}"
VENV_BIN=.venv/bin
# Where the generated tokens are kept (tests point it at a temporary directory).
: "${SECURE_BASE_VAR_DIR:=var}"
mkdir -p var "$SECURE_BASE_VAR_DIR"

# The REST channel and the action server are locked with tokens. When one is not set, use a
# random one kept in var/ (0600, made once), like the pseudonym and session secrets.
token_from_file() {
  local file=$1
  if [ ! -s "$file" ]; then
    (umask 077 && "$VENV_BIN/python" -c 'import secrets; print(secrets.token_urlsafe(32))' >"$file")
  fi
  tr -d '[:space:]' <"$file"
}

MODEL=${SECURE_BASE_MODEL:-models/secure-base.tar.gz}
if [ ! -f "$MODEL" ]; then
  echo "No trained model at $MODEL: run 'make run' (it trains one) or 'make train'." >&2
  exit 1
fi

if [ -z "${SECURE_BASE_REST_TOKEN:-}" ]; then
  SECURE_BASE_REST_TOKEN=$(token_from_file "$SECURE_BASE_VAR_DIR/rest_token")
  rest_token_hint="\$(cat $SECURE_BASE_VAR_DIR/rest_token)"
else
  rest_token_hint='$SECURE_BASE_REST_TOKEN'
fi
if [ -z "${SECURE_BASE_ACTION_TOKEN:-}" ]; then
  SECURE_BASE_ACTION_TOKEN=$(token_from_file "$SECURE_BASE_VAR_DIR/action_token")
fi
export SECURE_BASE_REST_TOKEN SECURE_BASE_ACTION_TOKEN

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "Stopping Secure Base..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all INT TERM EXIT

# rasa-sdk binds SANIC_HOST (0.0.0.0 when unset).
SANIC_HOST=$SECURE_BASE_BIND "$VENV_BIN/rasa" run actions --actions actions --port "$ACTION_PORT" &
pids+=($!)
# shellcheck disable=SC2086
"$VENV_BIN/rasa" run --model "$MODEL" --interface "$SECURE_BASE_BIND" --port "$RASA_PORT" \
  --credentials credentials.yml --endpoints endpoints.yml --cors $SECURE_BASE_WEB_ORIGINS &
pids+=($!)
if [ -f bot/web/__main__.py ]; then
  "$VENV_BIN/python" -m bot.web --host "$SECURE_BASE_BIND" --port "$WEB_PORT" --socket-url "http://localhost:${RASA_PORT}" &
  pids+=($!)
fi

for _ in $(seq 1 120); do
  if curl -sf "http://localhost:${RASA_PORT}/" >/dev/null 2>&1; then break; fi
  sleep 1
done
cat <<MSG

Secure Base is running. Ctrl-C stops it.
  Web page:      http://localhost:${WEB_PORT}/
  REST channel:  POST http://localhost:${RASA_PORT}/webhooks/rest/webhook  (needs the token)
                 e.g. curl -s -XPOST localhost:${RASA_PORT}/webhooks/rest/webhook \\
                        -H "Authorization: Bearer ${rest_token_hint}" -d '{"sender":"me","message":"hi"}'
                 (set SECURE_BASE_REST_TOKEN in .env to choose the token yourself)
  Action server: http://localhost:${ACTION_PORT}/health

MSG
wait -n "${pids[@]}"
