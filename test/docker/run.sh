#!/usr/bin/env bash
# Docker end-to-end test (`pnpm test:docker`; not part of `pnpm test`).
#
# Builds the production images and runs the real compose stack with 3 workers under its own
# project name, against a feed server container, then disturbs it and checks the exactly-once
# invariants through the windows ledger and the digests in Postgres:
#
#   1. compose files valid (production; the dev stack = + docker-compose.override.yml as project
#      aharadar-dev; with this test's overlay)
#   2. both images build, run as non-root, and the stack comes up healthy (`docker compose ps`)
#   3. topics + feed sources added with `docker compose exec worker radar ...`; a `complete`
#      digest appears; every window scheduled once, one digest per finished window, no gaps
#   4. `docker compose restart worker` (graceful SIGTERM): scheduling resumes, nothing duplicated
#   5. SIGKILL of the one worker container that is in the middle of a run: the run is retried
#      elsewhere and its window gets exactly one digest; scheduling resumes
#   6. Redis loses its data (FLUSHALL + restart): the scheduler re-registers the tick job scheduler,
#      ticks resume, in-flight windows are enqueued again and finish once
#   7. everything torn down with its volumes
#
# Needs: a Docker engine with compose v2 and buildx (on the project's sandbox machines run
# ../shared/docker-sandbox/setup.sh first). Takes ~8-12 minutes (windows are 1 minute long).
#
# Environment:
#   RADAR_E2E_PROJECT   compose project name (default radar-e2e)
#   RADAR_IMAGE_TAG     tag of the images built and tested (default e2e: never replaces :latest)
#   RADAR_E2E_KEEP=1    leave the stack running at the end (inspect it, then `down -v` yourself)
#   RADAR_E2E_NO_BUILD=1  reuse already built images
#
# Every check prints one PASS/FAIL line; the run ends with "N passed, N failed" and exits 1 if
# any check failed (2 if the Docker engine is missing). On failure the stack's logs are saved
# to ${TMPDIR:-/tmp}/radar-e2e-logs.txt.
set -uo pipefail
cd "$(dirname "$0")/../.."

PROJECT=${RADAR_E2E_PROJECT:-radar-e2e}
export RADAR_IMAGE_TAG=${RADAR_IMAGE_TAG:-e2e}
WORKERS=3
# The `dashboard` profile is on, so the optional dashboard service is built, started, checked
# and torn down with the rest; its host port is a random one (3000 may be taken on this host).
DC=(docker compose -p "$PROJECT" -f docker-compose.yml -f test/docker/compose.test.yml --profile dashboard)
export DASHBOARD_PORT=$((30000 + RANDOM % 20000))
# A database password that breaks any URL it is pasted into: Compose passes it on its own
# (DATABASE_PASSWORD), so migrate, scheduler, workers and dashboard must all connect with it.
export POSTGRES_PASSWORD='e2e p@ss/w#rd?%'
DEV=(docker compose -p aharadar-dev -f docker-compose.yml -f docker-compose.override.yml)
LOG_FILE="${TMPDIR:-/tmp}/radar-e2e-logs.txt"
FEED=http://feed:8000
# Three topics, one window a minute each. The feed answers after a delay so that runs last a
# few seconds: there is a run in progress to kill, and runs overlap across workers.
TOPICS=(e2e-alpha e2e-beta e2e-gamma)
FEED_DELAY_MS=6000

passed=0
failed=0
results=()

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
pass() { passed=$((passed + 1)); results+=("PASS  $1"); printf 'PASS  %s\n' "$1"; }
fail() { failed=$((failed + 1)); results+=("FAIL  $1${2:+ -- $2}"); printf 'FAIL  %s%s\n' "$1" "${2:+ -- $2}"; }
now_utc() { date -u +%Y-%m-%dT%H:%M:%SZ; }

# check NAME COMMAND...: PASS when the command succeeds; its output is shown on failure.
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$(printf '%s' "$out" | tail -n 5 | tr '\n' ' ')"; fi
}

# wait_for SECONDS COMMAND...: polls every 2 s until the command succeeds.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS >= deadline)) && return 1
    sleep 2
  done
}

dc() { "${DC[@]}" "$@"; }

# wait_for_healthy SECONDS: wait_for all_healthy; on timeout, says why each unhealthy container is.
wait_for_healthy() { wait_for "$1" all_healthy && return 0; unhealthy_reasons >&2; return 1; }

# sql 'SELECT ...': runs psql in the postgres container; unaligned, tuples only.
sql() {
  dc exec -T postgres sh -c 'psql -X -A -t -q -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"' <<<"$1"
}

radar() { dc exec -T worker radar "$@"; }

containers() { dc ps -q "$1" 2>/dev/null; }
health_of() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$1" 2>/dev/null; }

# unhealthy_reasons: for each app container not healthy, its name and what its /readyz answers
# now (the healthcheck itself only exits 0/1, so docker keeps no reason), e.g.
# `radar-e2e-worker-2 (unhealthy): 503 {"status":"not ready","checks":{"consuming":"consumers not running: poll",...}}`.
unhealthy_reasons() {
  local service port id
  for service in scheduler worker; do
    port=8080
    [[ $service == scheduler ]] && port=8081
    for id in $(containers "$service"); do
      [[ "$(health_of "$id")" == healthy ]] && continue
      printf '%s (%s): %s\n' "$(docker inspect -f '{{.Name}}' "$id" | tr -d /)" "$(health_of "$id")" \
        "$(timeout 10 docker exec "$id" node -e "fetch('http://127.0.0.1:$port/readyz',{signal:AbortSignal.timeout(6000)}).then(async r=>console.log(r.status,(await r.text()).trim()),e=>console.log('no answer:',String(e.cause??e)))" 2>&1 | tr '\n' ' ')"
    done
  done
}

# all_healthy: scheduler and $WORKERS workers running and healthy.
all_healthy() {
  local ids id n=0
  [[ "$(health_of "$(containers scheduler)")" == healthy ]] || return 1
  ids=$(containers worker)
  for id in $ids; do
    [[ "$(health_of "$id")" == healthy ]] || return 1
    n=$((n + 1))
  done
  ((n == WORKERS))
}

# ps_shows_healthy: what `docker compose ps` itself reports for the app services.
ps_shows_healthy() {
  local out
  out=$(dc ps --format '{{.Service}} {{.Status}}' scheduler worker) || return 1
  printf '%s\n' "$out" >&2
  [[ $(grep -c '(healthy)' <<<"$out") -eq $((WORKERS + 1)) ]] && return 0
  unhealthy_reasons >&2
  return 1
}

digest_count_since() { sql "SELECT count(*) FROM digests WHERE created_at > '$1'::timestamptz"; }
has_digest_since() { (($(digest_count_since "$1") > 0)); }
has_complete_digest() { (($(sql "SELECT count(*) FROM digests WHERE status = 'complete'") > 0)); }

# A window created after $1 that has its digest: scheduling went on after a disturbance.
new_window_built_since() {
  (($(sql "SELECT count(*) FROM windows w JOIN digests d ON d.window_id = w.id WHERE w.created_at > '$1'::timestamptz AND w.trigger = 'scheduled'") > 0))
}

window_has_digest() { (($(sql "SELECT count(*) FROM digests WHERE window_id = $1") > 0)); }

logs_since() { dc logs --no-color --no-log-prefix --since "$2" "$1" 2>/dev/null; }
log_has_since() { logs_since "$1" "$2" | grep -q -- "$3"; }

# ledger_ok: the exactly-once invariants, read from Postgres. Prints what is wrong.
ledger_ok() {
  local bad=0 row
  row=$(sql "SELECT count(*) FROM (SELECT 1 FROM windows WHERE trigger <> 'manual' GROUP BY topic_id, window_start, window_end HAVING count(*) > 1) d")
  ((row == 0)) || { echo "windows scheduled more than once: $row"; bad=1; }
  row=$(sql "SELECT count(*) FROM (SELECT 1 FROM digests GROUP BY window_id HAVING count(*) > 1) d")
  ((row == 0)) || { echo "windows with more than one digest: $row"; bad=1; }
  row=$(sql "SELECT count(*) FROM windows w WHERE w.status IN ('succeeded', 'failed') AND (SELECT count(*) FROM digests d WHERE d.window_id = w.id) <> 1")
  ((row == 0)) || { echo "finished windows without exactly one digest: $row"; bad=1; }
  row=$(sql "SELECT count(*) FROM digests d JOIN windows w ON w.id = d.window_id WHERE w.status NOT IN ('succeeded', 'failed')")
  ((row == 0)) || { echo "digests of unfinished windows: $row"; bad=1; }
  row=$(sql "SELECT (SELECT count(*) FROM windows WHERE status IN ('succeeded', 'failed')) - (SELECT count(*) FROM digests)")
  ((row == 0)) || { echo "finished windows minus digests: $row"; bad=1; }
  row=$(sql "SELECT count(*) FROM windows w JOIN digests d ON d.window_id = w.id WHERE w.digest_id IS DISTINCT FROM d.id")
  ((row == 0)) || { echo "ledger rows whose digest_id does not point at their digest: $row"; bad=1; }
  # No window lost: a topic's scheduled windows tile time without gaps or overlaps.
  row=$(sql "SELECT count(*) FROM (SELECT window_start, lag(window_end) OVER (PARTITION BY topic_id ORDER BY window_start) AS prev FROM windows WHERE trigger = 'scheduled') s WHERE prev IS NOT NULL AND prev <> window_start")
  ((row == 0)) || { echo "gaps or overlaps between consecutive windows: $row"; bad=1; }
  return $bad
}

# nothing_stuck: every window that ended over 3 minutes ago is finished (none lost in a queue).
nothing_stuck() {
  local row
  row=$(sql "SELECT count(*) FROM windows WHERE status IN ('queued', 'running') AND window_end < now() - interval '3 minutes'")
  ((row == 0)) || { echo "windows ended >3 min ago still unfinished: $row"; return 1; }
}

# A window running right now whose "run started" log line names the worker container running it.
# Prints "WINDOW_ID CONTAINER_ID".
find_running_window_and_worker() {
  local w id
  for w in $(sql "SELECT id FROM windows WHERE status = 'running' ORDER BY id"); do
    for id in $(containers worker); do
      if docker logs --since 5m "$id" 2>&1 | grep '"run started"' | grep -q "\"windowId\":$w[,}]" &&
        ! docker logs --since 5m "$id" 2>&1 | grep '"run finished"' | grep -q "\"windowId\":$w[,}]"; then
        echo "$w $id"
        return 0
      fi
    done
  done
  return 1
}

ledger_summary() {
  sql "SELECT 'windows: ' || coalesce(string_agg(status || '=' || n, ', ' ORDER BY status), 'none') FROM (SELECT status, count(*) AS n FROM windows GROUP BY status) s"
  sql "SELECT 'digests: ' || coalesce(string_agg(status || '=' || n, ', ' ORDER BY status), 'none') FROM (SELECT status, count(*) AS n FROM digests GROUP BY status) s"
}

teardown() {
  if ((failed > 0)) || [[ ${1:-} == save ]]; then
    dc logs --no-color --timestamps >"$LOG_FILE" 2>&1 && say "stack logs saved to $LOG_FILE"
  fi
  if [[ ${RADAR_E2E_KEEP:-} == 1 ]]; then
    say "RADAR_E2E_KEEP=1: stack left running; remove it with: ${DC[*]} down -v"
    return
  fi
  say "tearing down (with volumes)"
  dc down -v --remove-orphans -t 10 >/dev/null 2>&1
}

finish() {
  echo
  echo "== summary"
  printf '%s\n' "${results[@]}"
  echo "$passed passed, $failed failed"
  ((failed == 0))
}

on_exit() {
  local rc=$?
  if [[ -z ${FINISHED:-} ]]; then
    fail "test run completed" "aborted (exit $rc)"
    teardown
    finish
    exit 1
  fi
}

# ---------------------------------------------------------------------------------------------
if ! docker info >/dev/null 2>&1 || ! docker compose version >/dev/null 2>&1; then
  echo "test:docker needs a Docker engine with compose v2 (sandbox machines: ../shared/docker-sandbox/setup.sh)" >&2
  exit 2
fi
trap on_exit EXIT

say "compose project $PROJECT, images tagged :$RADAR_IMAGE_TAG"

# 1. Compose files
check "compose config valid: docker-compose.yml alone (production)" docker compose -f docker-compose.yml config -q
check "compose config valid: the development stack (pnpm dev:*: + docker-compose.override.yml)" "${DEV[@]}" config -q
dev_is_own_project() {
  local prod_name dev_name
  prod_name=$(docker compose -f docker-compose.yml config --format json | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0,"utf8")).name)') || return 1
  dev_name=$("${DEV[@]}" config --format json | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0,"utf8")).name)') || return 1
  echo "production: $prod_name, development: $dev_name"
  [[ $prod_name == aharadar && $dev_name == aharadar-dev ]]
}
check "development stack is its own Compose project (aharadar-dev), production is aharadar" dev_is_own_project
password_not_in_urls() {
  local out
  out=$(docker compose -f docker-compose.yml config --format json) || return 1
  ! grep -q 'p@ss' <<<"$(grep DATABASE_URL <<<"$out")" && grep -q '"DATABASE_PASSWORD": "e2e p@ss/w#rd?%"' <<<"$out"
}
check "POSTGRES_PASSWORD reaches the apps as DATABASE_PASSWORD, never inside DATABASE_URL" password_not_in_urls
check "compose config valid: with test/docker/compose.test.yml" dc config -q
prod_has_no_host_ports() {
  local out
  out=$(docker compose -f docker-compose.yml config --format json) || return 1
  ! grep -q '"published"' <<<"$out" && ! grep -q '"container_name"' <<<"$out"
}
check "production file publishes no host ports and names no containers (worker scales)" prod_has_no_host_ports
dev_ports() {
  local out
  out=$(POSTGRES_HOST_PORT= REDIS_HOST_PORT= "${DEV[@]}" config --format json) || return 1
  grep -q '"published": "55432"' <<<"$out" && grep -q '"published": "56379"' <<<"$out"
}
check "development stack publishes Postgres on 55432 and Redis on 56379 by default" dev_ports

say "removing leftovers of an earlier run"
dc down -v --remove-orphans -t 5 >/dev/null 2>&1

# 2. Images
if [[ ${RADAR_E2E_NO_BUILD:-} != 1 ]]; then
  say "building images (docker compose build)"
  build_start=$SECONDS
  if dc build >"${TMPDIR:-/tmp}/radar-e2e-build.txt" 2>&1; then
    pass "images build (scheduler, worker) in $((SECONDS - build_start)) s"
  else
    tail -n 40 "${TMPDIR:-/tmp}/radar-e2e-build.txt"
    fail "images build" "see ${TMPDIR:-/tmp}/radar-e2e-build.txt"
    FINISHED=1
    teardown
    finish
    exit 1
  fi
fi
for app in scheduler worker; do
  image="aharadar/$app:$RADAR_IMAGE_TAG"
  size=$(docker image inspect -f '{{.Size}}' "$image" 2>/dev/null || echo 0)
  say "$image: $((size / 1000 / 1000)) MB"
  user=$(docker image inspect -f '{{.Config.User}}' "$image" 2>/dev/null)
  uid=$(docker run --rm --entrypoint id "$image" -u 2>/dev/null)
  if [[ $user == node && $uid != 0 && -n $uid ]]; then pass "$image runs as non-root (USER $user, uid $uid)"; else fail "$image runs as non-root" "USER '$user', uid '$uid'"; fi
done
check "worker image has the radar CLI on PATH" docker run --rm "aharadar/worker:$RADAR_IMAGE_TAG" radar --help

# 3. Stack up, 3 workers
say "starting the stack with --scale worker=$WORKERS"
if ! dc up -d --scale worker=$WORKERS >/dev/null 2>"${TMPDIR:-/tmp}/radar-e2e-up.txt"; then
  cat "${TMPDIR:-/tmp}/radar-e2e-up.txt" >&2
fi
migrate_ok() { [[ $(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$(dc ps -a -q migrate)") == "exited 0" ]]; }
check "migrate service ran 'radar migrate' and exited 0" wait_for 120 migrate_ok
check "scheduler and $WORKERS workers report healthy (/readyz)" wait_for_healthy 150
check "docker compose ps shows the app services healthy" ps_shows_healthy
dc ps --format 'table {{.Name}}\t{{.Image}}\t{{.Status}}' >&2
apps_non_root() {
  local w s
  w=$(dc exec -T worker id -u) && s=$(dc exec -T scheduler id -u) || return 1
  echo "worker uid $w, scheduler uid $s"
  [[ -n $w && -n $s && $w != 0 && $s != 0 ]]
}
check "app processes run as non-root inside the containers" apps_non_root
redis_config() {
  [[ $(dc exec -T redis redis-cli config get appendonly | tail -n 1) == yes ]] &&
    [[ $(dc exec -T redis redis-cli config get maxmemory-policy | tail -n 1) == noeviction ]]
}
check "redis runs with appendonly yes and maxmemory-policy noeviction" redis_config
feed_reachable() { dc exec -T worker node -e "fetch('$FEED/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; }
check "feed server reachable from a worker" wait_for 60 feed_reachable

# 4. Topics and sources through the CLI in a worker container
add_topics() {
  local t
  for t in "${TOPICS[@]}"; do
    radar topic add "$t" --every 1m || return 1
    radar source add --topic "$t" --type feed --url "$FEED/$t.xml?delay=$FEED_DELAY_MS" --name "$t feed" || return 1
  done
}
check "radar topic add --every 1m / radar source add (x${#TOPICS[@]}) via docker compose exec worker" add_topics
check "radar status runs in the worker container" radar status

# 4b. The operator tools: the scheduler's alert monitor, `radar alerts`, the dashboard.
alert_metrics() {
  dc exec -T scheduler node -e "fetch('http://127.0.0.1:8081/metrics').then(r=>r.text()).then(t=>process.exit(/radar_alert_checks_total\\{outcome=\"checked\"\\}/.test(t)&&/radar_alert_firing\\{alert=\"ticks_stopped\"\\} 0/.test(t)?0:1),()=>process.exit(1))"
}
check "scheduler /metrics: the alert monitor checks and ticks_stopped is not firing" wait_for 90 alert_metrics
check "radar alerts runs in the worker container" radar alerts
dashboard_healthy() { [[ "$(health_of "$(containers dashboard)")" == healthy ]]; }
check "dashboard container healthy (/healthz)" wait_for 120 dashboard_healthy
# From the host, through the published 127.0.0.1 port: 401 without credentials, both queues with them.
dashboard_api() {
  node -e "
    const u = 'http://127.0.0.1:$DASHBOARD_PORT/api/queues';
    const auth = { authorization: 'Basic ' + Buffer.from('admin:e2e-secret').toString('base64') };
    (async () => {
      const anonymous = await fetch(u);
      const res = await fetch(u, { headers: auth });
      const names = res.ok ? (await res.json()).queues.map((q) => q.name).sort().join(',') : '';
      console.log(anonymous.status, res.status, names);
      process.exit(anonymous.status === 401 && res.status === 200 && names === 'pipeline,scheduler' ? 0 : 1);
    })().catch((e) => { console.error(e.message); process.exit(1); });"
}
check "dashboard on 127.0.0.1:$DASHBOARD_PORT: 401 without credentials, both queues with them" wait_for 30 dashboard_api

say "waiting for the first complete digest (windows are 1 minute)"
check "a complete digest is built" wait_for 200 has_complete_digest
check "every window scheduled once, one digest per finished window, no gaps" ledger_ok
say "$(ledger_summary | tr '\n' ' ')"
workers_that_ran=0
for id in $(containers worker); do
  docker logs "$id" 2>&1 | grep -q '"run finished"' && workers_that_ran=$((workers_that_ran + 1))
done
say "workers that finished at least one run so far: $workers_that_ran of $WORKERS"

# 5. Graceful restart of every worker
t_restart=$(now_utc)
sleep 1
say "docker compose restart worker"
check "docker compose restart worker" dc restart worker
graceful_stops() {
  local n
  n=$(logs_since worker "$t_restart" | grep -c '"msg":"stopped"')
  echo "workers that logged a graceful stop: $n"
  ((n == WORKERS))
}
check "every worker stopped gracefully on SIGTERM (logged 'stopped')" graceful_stops
check "workers healthy again after restart" wait_for_healthy 150
check "scheduling resumes after the restart (a new window gets its digest)" wait_for 150 new_window_built_since "$t_restart"
check "after restart: no duplicates, no gaps, digests = finished windows" ledger_ok

# 6. SIGKILL the worker that is running a window, mid-run.
# (`docker compose kill -s SIGKILL worker` would kill every replica; docker kill picks one.)
say "waiting for a run in progress to kill its worker"
target=""
deadline=$((SECONDS + 150))
while ((SECONDS < deadline)); do
  if target=$(find_running_window_and_worker); then break; fi
  target=""
  sleep 0.5
done
if [[ -z $target ]]; then
  fail "found a worker in the middle of a run to SIGKILL" "no running window seen for 150 s"
else
  read -r killed_window killed_container <<<"$target"
  t_kill=$(now_utc)
  if docker kill -s SIGKILL "$killed_container" >/dev/null; then
    pass "SIGKILL worker $(docker inspect -f '{{.Name}}' "$killed_container") while it runs window $killed_window"
  else
    fail "SIGKILL a worker mid-run"
  fi
  sleep 5
  # Docker does not apply the restart policy to a container killed through its API: start the
  # killed replica again by hand (as an operator would) unless it came back by itself.
  if [[ $(docker inspect -f '{{.State.Running}}' "$killed_container") != true ]]; then
    say "starting the killed worker container again"
    docker start "$killed_container" >/dev/null
  else
    say "the killed worker container was restarted by its restart policy"
  fi
  check "the killed run is retried: window $killed_window gets its digest" wait_for 240 window_has_digest "$killed_window"
  n=$(sql "SELECT count(*) FROM digests WHERE window_id = $killed_window")
  if [[ $n == 1 ]]; then pass "killed window $killed_window: exactly one digest (attempts $(sql "SELECT attempts FROM windows WHERE id = $killed_window"))"; else fail "killed window $killed_window: exactly one digest" "found $n"; fi
  check "workers healthy again after the SIGKILL" wait_for_healthy 150
  check "scheduling resumes after the SIGKILL (a new window gets its digest)" wait_for 150 new_window_built_since "$t_kill"
  check "after SIGKILL: no duplicates, no gaps, digests = finished windows" ledger_ok
fi

# 7. Redis loses its data while windows are in flight.
say "waiting for a window in flight, then FLUSHALL + restart redis"
in_flight() { (($(sql "SELECT count(*) FROM windows WHERE status IN ('queued', 'running')") > 0)); }
wait_for 120 in_flight
inflight_ids=$(sql "SELECT id FROM windows WHERE status IN ('queued', 'running') ORDER BY id" | tr '\n' ' ')
t_flush=$(now_utc)
sleep 1
check "redis-cli FLUSHALL" dc exec -T redis redis-cli flushall
check "docker compose restart redis" dc restart redis
say "windows in flight at the flush: ${inflight_ids:-none}"
check "scheduler re-registers the tick job scheduler ('tick job scheduler registered')" wait_for 90 log_has_since scheduler "$t_flush" 'tick job scheduler registered'
check "ticks resume after the data loss (a new 'Scheduler tick' log line)" wait_for 90 log_has_since worker "$t_flush" '"Scheduler tick"'
all_inflight_built() {
  local w
  for w in $inflight_ids; do window_has_digest "$w" || return 1; done
}
check "windows in flight at the flush are re-enqueued and built" wait_for 240 all_inflight_built
check "scheduling resumes after the data loss (a new window gets its digest)" wait_for 180 new_window_built_since "$t_flush"
check "scheduler and workers healthy after the redis restart" wait_for_healthy 120

# 8. Final state
check "final: no duplicates, no gaps, digests = finished windows" ledger_ok
check "final: no window that ended over 3 minutes ago is left unfinished" nothing_stuck
check "final: docker compose ps shows the app services healthy" ps_shows_healthy
say "$(ledger_summary | tr '\n' ' ')"
workers_that_ran=$(dc logs --no-color worker 2>/dev/null | grep '"run finished"' | sed -E 's/^([^ |]+).*/\1/' | sort -u | wc -l)
say "worker containers that logged finished runs: $workers_that_ran"

FINISHED=1
teardown
left=$(docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT" | wc -l)
if [[ ${RADAR_E2E_KEEP:-} != 1 ]]; then
  if ((left == 0)); then pass "stack torn down with its volumes"; else fail "stack torn down with its volumes" "$left volumes left"; fi
fi
finish
