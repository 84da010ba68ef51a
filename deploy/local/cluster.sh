#!/usr/bin/env bash
# Runs a Reflex cluster on this machine as separate processes on 127.0.0.1 (docs/DESIGN.md §4):
# one coordinator, M healers and N replicas, each with its own log and pid file.
#
# Usage: deploy/local/cluster.sh up|down|status [options]
#   --replicas N      replicas to start (default 3)
#   --healers M       healers to start (default 2)
#   --run-dir DIR     logs/, pids/, the model bundle and the registry (default ./run/cluster)
#   --bin DIR         where the reflex-* binaries are (default <repo>/build/bin)
#   --configs DIR     the three TOML files (default <repo>/configs)
#   --scenario NAME   reflex-bundle scenario for a new bundle (default recalibration)
#   --seed N          reflex-bundle seed for a new bundle (default 1)
#   --bundle DIR      serve this model bundle (reflex-bundle --model ... --out DIR: your own
#                     model) instead of writing a scenario bundle into the run dir
#   --base-port N     ports N .. N+399 instead of the configs' (several clusters on one machine);
#                     up records it in the run dir, so status and down need not repeat it
#   --timeout S       seconds to wait for each readiness stage (default 60)
#
# Every service starts with its folder's configs/*.toml and only the per-process keys overridden
# with --set (ids and ports), and with the run dir as working directory, so the relative `model`
# and `registry_dir` of the TOML files resolve inside the run dir.
# Ports: the base ports below are the defaults of configs/*.toml; process i adds (i - 1)
# (healers add 2(i - 1), since each healer uses a metrics port and a probe port next to each other).
# With --base-port N: coordinator actor N, control N+1, weights N+2 (publish) and N+3 (snapshot),
# metrics N+4, probes N+5; healer i metrics N+10+2(i-1), probes N+11+2(i-1); replica i scoring
# N+100+(i-1), metrics N+200+(i-1), probes N+300+(i-1).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "${SCRIPT_DIR}/../.." && pwd)"
readonly SCRIPT_DIR REPO_DIR

# Base ports: must equal configs/*.toml (tests/deploy/test_manifests.py checks this).
readonly COORDINATOR_ACTOR_PORT=7400     # coordinator.actor_port
readonly COORDINATOR_CONTROL_PORT=7401   # coordinator.control_endpoint
readonly WEIGHTS_PUBLISH_PORT=7402       # coordinator.weights_publish
readonly WEIGHTS_SNAPSHOT_PORT=7403      # coordinator.weights_snapshot
readonly COORDINATOR_METRICS_PORT=9400   # coordinator.metrics_address
readonly COORDINATOR_PROBE_PORT=9401     # coordinator.probe_port
readonly HEALER_METRICS_BASE=9410        # healer.metrics_address
readonly HEALER_PROBE_BASE=9411          # healer.probe_port
readonly REPLICA_SCORING_BASE=7500       # replica.scoring_endpoint
readonly REPLICA_METRICS_BASE=9500       # replica.metrics_address
readonly REPLICA_PROBE_BASE=9600         # replica.probe_port
readonly HOST=127.0.0.1

replicas=3
healers=2
run_dir="./run/cluster"
bin_dir="${REPO_DIR}/build/bin"
config_dir="${REPO_DIR}/configs"
scenario="recalibration"
seed=1
timeout_s=60
bundle_dir=""
base_port=""

# The ports in use (assign_ports): the configs' defaults, or the block from --base-port.
actor_port=0 control_port=0 publish_port=0 snapshot_port=0 coordinator_metrics=0 coordinator_probe=0
healer_metrics_base=0 healer_probe_base=0 replica_scoring_base=0 replica_metrics_base=0 replica_probe_base=0

die() { echo "cluster.sh: $*" >&2; exit 1; }
log() { echo "cluster.sh: $*" >&2; }

usage() {
  sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

assign_ports() {
  if [[ -z "${base_port}" ]]; then
    actor_port=${COORDINATOR_ACTOR_PORT} control_port=${COORDINATOR_CONTROL_PORT}
    publish_port=${WEIGHTS_PUBLISH_PORT} snapshot_port=${WEIGHTS_SNAPSHOT_PORT}
    coordinator_metrics=${COORDINATOR_METRICS_PORT} coordinator_probe=${COORDINATOR_PROBE_PORT}
    healer_metrics_base=${HEALER_METRICS_BASE} healer_probe_base=${HEALER_PROBE_BASE}
    replica_scoring_base=${REPLICA_SCORING_BASE} replica_metrics_base=${REPLICA_METRICS_BASE}
    replica_probe_base=${REPLICA_PROBE_BASE}
  else
    local n=${base_port}
    actor_port=$n control_port=$((n + 1)) publish_port=$((n + 2)) snapshot_port=$((n + 3))
    coordinator_metrics=$((n + 4)) coordinator_probe=$((n + 5))
    healer_metrics_base=$((n + 10)) healer_probe_base=$((n + 11))
    replica_scoring_base=$((n + 100)) replica_metrics_base=$((n + 200)) replica_probe_base=$((n + 300))
  fi
}

# need_count OPTION VALUE: dies unless VALUE is a non-negative integer.
need_count() { [[ "$2" =~ ^(0|[1-9][0-9]*)$ ]] || die "$1 needs a non-negative integer"; }

# --- processes -------------------------------------------------------------------------------

# Process names in start order: coordinator, healer-1..M, replica-1..N.
process_names() {
  local i
  echo coordinator
  for ((i = 1; i <= healers; i++)); do echo "healer-${i}"; done
  for ((i = 1; i <= replicas; i++)); do echo "replica-${i}"; done
}

# Names of every pid file in the run dir (whatever --replicas/--healers say now).
recorded_names() {
  local f
  [[ -d "${run_dir}/pids" ]] || return 0
  for f in "${run_dir}/pids"/*.pid; do
    [[ -e "$f" ]] || continue
    basename "$f" .pid
  done
}

pid_of() {
  local f="${run_dir}/pids/$1.pid" pid
  [[ -f "$f" ]] || return 1
  pid="$(tr -dc '0-9' <"$f")"
  [[ -n "$pid" ]] || return 1
  echo "$pid"
}

# True when pid is alive and is one of our binaries (guards against a recycled pid).
is_ours_alive() {
  local pid="$1"
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/${pid}/cmdline" ]]; then
    tr '\0' ' ' <"/proc/${pid}/cmdline" | grep -q 'reflex-' || return 1
  fi
  return 0
}

probe_port_of() {
  local name="$1" i
  case "$name" in
    coordinator) echo "${coordinator_probe}" ;;
    healer-*) i="${name#healer-}"; echo $((healer_probe_base + 2 * (i - 1))) ;;
    replica-*) i="${name#replica-}"; echo $((replica_probe_base + i - 1)) ;;
    *) return 1 ;;
  esac
}

# --- HTTP without curl -----------------------------------------------------------------------

# Prints the HTTP status code of GET http://127.0.0.1:PORT/PATH, or 000 when nothing answers.
# Uses bash's /dev/tcp under `timeout` so that a silent server cannot hang the script.
http_status() {
  local port="$1" path="$2" code
  # shellcheck disable=SC2016  # the inner script expands its own positional parameters
  code="$(timeout 3 bash -c '
      exec 3<>"/dev/tcp/$0/$1" || exit 1
      printf "GET %s HTTP/1.0\r\nHost: %s:%s\r\nConnection: close\r\n\r\n" "$2" "$0" "$1" >&3
      IFS=" " read -r _ code _ <&3 || exit 1
      cat <&3 >/dev/null || true
      printf "%s" "$code"' "${HOST}" "${port}" "${path}" 2>/dev/null)" || code=""
  code="${code//[!0-9]/}"
  [[ "$code" =~ ^[0-9]{3}$ ]] || code="000"
  echo "$code"
}

# Waits until GET PATH on the named process's probe port answers 200. Fails early when the
# process has exited. Bounded by --timeout.
wait_for_probe() {
  local name="$1" path="$2" port pid deadline
  port="$(probe_port_of "$name")"
  pid="$(pid_of "$name")" || die "no pid file for ${name}"
  deadline=$((SECONDS + timeout_s))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "${name} (pid ${pid}) exited during start-up; last lines of ${run_dir}/logs/${name}.log:"
      tail -n 20 "${run_dir}/logs/${name}.log" >&2 || true
      return 1
    fi
    if [[ "$(http_status "$port" "$path")" == "200" ]]; then
      return 0
    fi
    sleep 0.5
  done
  log "${name}: http://${HOST}:${port}${path} did not answer 200 within ${timeout_s} s;" \
      "last lines of ${run_dir}/logs/${name}.log:"
  tail -n 20 "${run_dir}/logs/${name}.log" >&2 || true
  return 1
}

# start NAME BINARY CONFIG [--set K=V ...]: starts one service in the background with the run
# dir as working directory, stdout+stderr into logs/NAME.log, its pid in pids/NAME.pid.
start() {
  local name="$1" binary="$2" config="$3"
  shift 3
  local logfile="${run_dir}/logs/${name}.log"
  echo "=== cluster.sh up $(date -u +%Y-%m-%dT%H:%M:%SZ): ${binary} --config ${config} $*" >>"${logfile}"
  (cd "${run_dir}" && exec nohup "${bin_dir}/${binary}" --config "${config}" "$@") \
    </dev/null >>"${logfile}" 2>&1 &
  local pid="$!"
  disown "$pid" 2>/dev/null || true
  echo "$pid" >"${run_dir}/pids/${name}.pid"
  log "started ${name} (pid ${pid}), log ${logfile}"
}

# --- commands --------------------------------------------------------------------------------

cmd_up() {
  local name pid i live=()
  mkdir -p "${run_dir}/logs" "${run_dir}/pids"
  run_dir="$(cd "${run_dir}" && pwd)"

  for name in $(recorded_names); do
    if pid="$(pid_of "$name")" && is_ours_alive "$pid"; then live+=("${name}:${pid}"); fi
  done
  if ((${#live[@]} > 0)); then
    die "a cluster is already running from ${run_dir} (${live[*]}); run 'cluster.sh down --run-dir ${run_dir}' first"
  fi
  rm -f "${run_dir}/pids"/*.pid

  local coordinator_toml="${config_dir}/coordinator.toml"
  local healer_toml="${config_dir}/healer.toml"
  local replica_toml="${config_dir}/replica.toml"
  for f in "$coordinator_toml" "$healer_toml" "$replica_toml"; do
    [[ -f "$f" ]] || die "missing configuration file $f"
  done
  coordinator_toml="$(cd "$(dirname "$coordinator_toml")" && pwd)/coordinator.toml"
  healer_toml="$(cd "$(dirname "$healer_toml")" && pwd)/healer.toml"
  replica_toml="$(cd "$(dirname "$replica_toml")" && pwd)/replica.toml"

  # --bundle: every service loads that folder (an absolute path: they run in the run dir).
  local coordinator_sets=() healer_sets=() replica_sets=()
  if [[ -n "${bundle_dir}" ]]; then
    [[ -f "${bundle_dir}/manifest.json" ]] || die "--bundle ${bundle_dir}: no manifest.json there (write one with reflex-bundle --model)"
    bundle_dir="$(cd "${bundle_dir}" && pwd)"
    log "serving the bundle ${bundle_dir}"
    coordinator_sets+=(--set "coordinator.model=${bundle_dir}")
    healer_sets+=(--set "healer.model=${bundle_dir}")
    replica_sets+=(--set "replica.model=${bundle_dir}")
  fi
  # --base-port: every port the services use, and where healers and replicas find the coordinator.
  if [[ -n "${base_port}" ]]; then
    echo "${base_port}" >"${run_dir}/base_port"
    coordinator_sets+=(--set "coordinator.actor_port=${actor_port}"
      --set "coordinator.control_endpoint=tcp://${HOST}:${control_port}"
      --set "coordinator.weights_publish=tcp://${HOST}:${publish_port}"
      --set "coordinator.weights_snapshot=tcp://${HOST}:${snapshot_port}"
      --set "coordinator.metrics_address=${HOST}:${coordinator_metrics}"
      --set "coordinator.probe_port=${coordinator_probe}")
    healer_sets+=(--set "healer.coordinator_port=${actor_port}")
    replica_sets+=(--set "replica.coordinator_port=${actor_port}"
      --set "replica.weights_publish=tcp://${HOST}:${publish_port}"
      --set "replica.weights_snapshot=tcp://${HOST}:${snapshot_port}")
  else
    rm -f "${run_dir}/base_port"
  fi

  if [[ -n "${bundle_dir}" ]]; then
    :  # the services load --bundle; no scenario bundle is needed
  elif [[ -f "${run_dir}/model/manifest.json" ]]; then
    log "using the existing bundle ${run_dir}/model"
  else
    [[ -x "${bin_dir}/reflex-bundle" ]] || die "${bin_dir}/reflex-bundle is missing (build first: make build)"
    log "writing bundle: reflex-bundle --scenario ${scenario} --seed ${seed} --out ${run_dir}"
    "${bin_dir}/reflex-bundle" --scenario "${scenario}" --seed "${seed}" --out "${run_dir}" \
      >>"${run_dir}/logs/bundle.log" 2>&1 \
      || { tail -n 20 "${run_dir}/logs/bundle.log" >&2; die "reflex-bundle failed"; }
  fi

  for binary in reflex-coordinator reflex-healer reflex-replica; do
    [[ -x "${bin_dir}/${binary}" ]] || die "${bin_dir}/${binary} is missing or not executable (build first: make build)"
  done

  # From here on, a failure stops whatever was started (the logs stay).
  start coordinator reflex-coordinator "${coordinator_toml}" "${coordinator_sets[@]+"${coordinator_sets[@]}"}"
  wait_for_probe coordinator /readyz || abort_up

  for ((i = 1; i <= healers; i++)); do
    start "healer-${i}" reflex-healer "${healer_toml}" \
      --set "healer.id=healer-${i}" \
      --set "healer.metrics_address=${HOST}:$((healer_metrics_base + 2 * (i - 1)))" \
      --set "healer.probe_port=$((healer_probe_base + 2 * (i - 1)))" \
      "${healer_sets[@]+"${healer_sets[@]}"}"
  done
  for ((i = 1; i <= replicas; i++)); do
    start "replica-${i}" reflex-replica "${replica_toml}" \
      --set "replica.id=replica-${i}" \
      --set "replica.scoring_endpoint=tcp://${HOST}:$((replica_scoring_base + i - 1))" \
      --set "replica.metrics_address=${HOST}:$((replica_metrics_base + i - 1))" \
      --set "replica.probe_port=$((replica_probe_base + i - 1))" \
      "${replica_sets[@]+"${replica_sets[@]}"}"
  done
  for ((i = 1; i <= healers; i++)); do wait_for_probe "healer-${i}" /healthz || abort_up; done
  for ((i = 1; i <= replicas; i++)); do wait_for_probe "replica-${i}" /readyz || abort_up; done

  print_endpoints
}

abort_up() {
  log "start-up failed; stopping what was started (logs stay in ${run_dir}/logs)"
  cmd_down || true
  exit 1
}

print_endpoints() {
  local i
  echo "Reflex cluster up (run dir ${run_dir})"
  echo "  coordinator  control tcp://${HOST}:${control_port}" \
       " metrics http://${HOST}:${coordinator_metrics}/metrics" \
       " probes http://${HOST}:${coordinator_probe}/readyz"
  for ((i = 1; i <= healers; i++)); do
    echo "  healer-${i}     metrics http://${HOST}:$((healer_metrics_base + 2 * (i - 1)))/metrics" \
         " probes http://${HOST}:$((healer_probe_base + 2 * (i - 1)))/readyz"
  done
  for ((i = 1; i <= replicas; i++)); do
    echo "  replica-${i}    scoring tcp://${HOST}:$((replica_scoring_base + i - 1))" \
         " metrics http://${HOST}:$((replica_metrics_base + i - 1))/metrics" \
         " probes http://${HOST}:$((replica_probe_base + i - 1))/readyz"
  done
  echo "  reflexctl:   ${bin_dir}/reflexctl --endpoint tcp://${HOST}:${control_port} status"
  if [[ -n "${bundle_dir}" ]]; then
    echo "  model:       ${bundle_dir} (score your rows with tools/python/reflex_client.py)"
  else
    echo "  streams:     ${run_dir}/clean.csv, ${run_dir}/drift.csv (score them with tools/python/reflex_client.py)"
  fi
}

cmd_down() {
  local name pid pids=() names=() deadline
  [[ -d "${run_dir}/pids" ]] || { log "nothing to stop in ${run_dir}"; return 0; }
  # SIGTERM replicas and healers before the coordinator (reverse name order), then wait for all.
  for name in $(recorded_names | sort -r); do
    if pid="$(pid_of "$name")" && is_ours_alive "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid"); names+=("$name")
    else
      log "${name} was not running"
    fi
  done
  deadline=$((SECONDS + 10))
  while ((SECONDS < deadline)); do
    local alive=0
    for pid in "${pids[@]+"${pids[@]}"}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive == 0)) && break
    sleep 0.2
  done
  local i
  for ((i = 0; i < ${#pids[@]}; i++)); do
    if kill -0 "${pids[$i]}" 2>/dev/null; then
      log "${names[$i]} (pid ${pids[$i]}) ignored SIGTERM for 10 s; sending SIGKILL"
      kill -KILL "${pids[$i]}" 2>/dev/null || true
    else
      log "stopped ${names[$i]} (pid ${pids[$i]})"
    fi
  done
  rm -f "${run_dir}/pids"/*.pid
}

cmd_status() {
  local name pid state port ready
  if [[ -z "$(recorded_names)" ]]; then
    echo "no cluster recorded in ${run_dir}"
  fi
  for name in $(recorded_names); do
    pid="$(pid_of "$name" || echo "?")"
    if [[ "$pid" != "?" ]] && is_ours_alive "$pid"; then state=alive; else state=dead; fi
    ready=""
    if [[ "$state" == alive ]] && port="$(probe_port_of "$name")"; then
      ready=" readyz=$(http_status "$port" /readyz)"
    fi
    printf '%-12s %-5s pid %s%s\n' "$name" "$state" "$pid" "$ready"
  done
  if [[ -x "${bin_dir}/reflexctl" ]]; then
    local rc=0
    "${bin_dir}/reflexctl" --endpoint "tcp://${HOST}:${control_port}" --timeout-ms 3000 status || rc=$?
    if ((rc == 3)); then echo "reflexctl: coordinator unreachable at tcp://${HOST}:${control_port}"; fi
    return 0
  else
    echo "reflexctl not found in ${bin_dir}"
  fi
}

main() {
  (($# > 0)) || { usage >&2; exit 2; }
  local command="$1"
  shift
  while (($# > 0)); do
    case "$1" in
      --replicas) need_count --replicas "${2-}"; replicas="$2"; shift 2 ;;
      --healers) need_count --healers "${2-}"; healers="$2"; shift 2 ;;
      --run-dir) (($# >= 2)) || die "--run-dir needs a folder"; run_dir="$2"; shift 2 ;;
      --bin) (($# >= 2)) || die "--bin needs a folder"; bin_dir="$2"; shift 2 ;;
      --configs) (($# >= 2)) || die "--configs needs a folder"; config_dir="$2"; shift 2 ;;
      --scenario) (($# >= 2)) || die "--scenario needs a name"; scenario="$2"; shift 2 ;;
      --seed) need_count --seed "${2-}"; seed="$2"; shift 2 ;;
      --bundle) (($# >= 2)) || die "--bundle needs a folder"; bundle_dir="$2"; shift 2 ;;
      --base-port) need_count --base-port "${2-}"; base_port="$2"; shift 2 ;;
      --timeout) need_count --timeout "${2-}"; timeout_s="$2"; shift 2 ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown option $1 (see --help)" ;;
    esac
  done
  ((replicas >= 1 && replicas <= 100)) || die "--replicas must be 1..100 (ports ${REPLICA_SCORING_BASE}+ and ${REPLICA_PROBE_BASE}+ must not overlap)"
  ((healers >= 0 && healers <= 40)) || die "--healers must be 0..40 (healer ports must stay below ${REPLICA_METRICS_BASE})"
  bin_dir="$(cd "${bin_dir}" 2>/dev/null && pwd || echo "${bin_dir}")"
  # status and down use the ports up recorded, unless --base-port is given again.
  if [[ -z "${base_port}" && "$command" != up && -f "${run_dir}/base_port" ]]; then
    base_port="$(tr -dc '0-9' <"${run_dir}/base_port")"
  fi
  if [[ -n "${base_port}" ]]; then
    ((base_port >= 1024 && base_port + 399 <= 65535)) || die "--base-port must be 1024..65136 (the cluster uses N..N+399)"
  fi
  assign_ports

  case "$command" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    -h|--help|help) usage ;;
    *) usage >&2; die "unknown command ${command}" ;;
  esac
}

main "$@"
