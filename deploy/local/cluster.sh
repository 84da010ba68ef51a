#!/usr/bin/env bash
# Runs a Reflex cluster on this machine as separate processes on 127.0.0.1 (DESIGN.md §4):
# one coordinator, M healers and N replicas, each with its own log and pid file.
#
# Usage: deploy/local/cluster.sh up|down|status [options]
#   --replicas N      replicas to start (default 3)
#   --healers M       healers to start (default 2)
#   --run-dir DIR     logs/, pids/, keys/, the model bundle and the registry (default ./run/cluster)
#   --bin DIR         where the reflex-* binaries are (default <repo>/build/bin)
#   --configs DIR     the three TOML files (default <repo>/configs)
#   --scenario NAME   reflex-bundle scenario for a new bundle (default recalibration)
#   --seed N          reflex-bundle seed for a new bundle (default 1)
#   --bundle DIR      serve this model bundle (reflex-bundle --model ... --out DIR: your own
#                     model) instead of writing a scenario bundle into the run dir
#   --timeout S       seconds to wait for each readiness stage (default 60)
#   --base-port N     first port of the cluster's range N..N+399 (default: a free range of
#                     20000-31999 chosen at `up`, so two clusters on one machine never collide)
#
# Secure by default: `up` makes CURVE keys (reflexctl keygen) and TLS certificates
# (deploy/gen-tls.sh) in <run-dir>/keys when they are missing, and every service runs with
# curve and tls on (configs/*.toml). Every service starts with its folder's configs/*.toml and
# only the per-process keys overridden with --set (ids and ports), and with the run dir as
# working directory, so the relative `model`, `registry_dir` and key paths resolve inside it.
# Ports (offsets from the base): coordinator actor +0, control +1, weights pub +2, snapshot +3,
# metrics +4, probes +5; healer i metrics +10+2(i-1), probes +11+2(i-1); replica i scoring
# +100+(i-1), metrics +200+(i-1), probes +300+(i-1). `up` records the base and a cluster id in
# <run-dir>/cluster.env; status reads them. The ready check talks to the coordinator over CURVE
# with this run dir's operator key and checks that it publishes on this cluster's port and
# lists this cluster's replicas and healers, so it never passes against another cluster.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "${SCRIPT_DIR}/../.." && pwd)"
readonly SCRIPT_DIR REPO_DIR

readonly HOST=127.0.0.1
readonly PORT_SPAN=400           # ports per cluster: base..base+399
readonly AUTO_PORT_LOW=20000     # automatic bases: below the kernel's ephemeral range (32768+)
readonly AUTO_PORT_HIGH=32000

replicas=3
healers=2
run_dir="./run/cluster"
bin_dir="${REPO_DIR}/build/bin"
config_dir="${REPO_DIR}/configs"
scenario="recalibration"
seed=1
bundle_dir=""
timeout_s=60
base_port=""                     # set by --base-port, cluster.env or choose_base_port
cluster_id=""                    # made at `up`, kept in cluster.env
replicas_given=""
healers_given=""

die() { echo "cluster.sh: $*" >&2; exit 1; }
log() { echo "cluster.sh: $*" >&2; }

usage() {
  sed -n '2,31p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
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
    coordinator) port_of coordinator probe ;;
    healer-*) i="${name#healer-}"; port_of healer probe "$i" ;;
    replica-*) i="${name#replica-}"; port_of replica probe "$i" ;;
    *) return 1 ;;
  esac
}

# port_of SERVICE ROLE [I]: the port of ROLE of SERVICE number I (offsets in the header).
port_of() {
  local i="${3:-1}"
  case "$1/$2" in
    coordinator/actor) echo $((base_port)) ;;
    coordinator/control) echo $((base_port + 1)) ;;
    coordinator/publish) echo $((base_port + 2)) ;;
    coordinator/snapshot) echo $((base_port + 3)) ;;
    coordinator/metrics) echo $((base_port + 4)) ;;
    coordinator/probe) echo $((base_port + 5)) ;;
    healer/metrics) echo $((base_port + 10 + 2 * (i - 1))) ;;
    healer/probe) echo $((base_port + 11 + 2 * (i - 1))) ;;
    replica/scoring) echo $((base_port + 100 + i - 1)) ;;
    replica/metrics) echo $((base_port + 200 + i - 1)) ;;
    replica/probe) echo $((base_port + 300 + i - 1)) ;;
    *) return 1 ;;
  esac
}

# Every port this cluster uses, one per line.
cluster_ports() {
  local i
  for role in actor control publish snapshot metrics probe; do port_of coordinator "$role"; done
  for ((i = 1; i <= healers; i++)); do port_of healer metrics "$i"; port_of healer probe "$i"; done
  for ((i = 1; i <= replicas; i++)); do
    port_of replica scoring "$i"; port_of replica metrics "$i"; port_of replica probe "$i"
  done
}

# True when something on 127.0.0.1 accepts connections on PORT.
port_in_use() {
  # shellcheck disable=SC2016
  timeout 1 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "${HOST}" "$1" 2>/dev/null
}

# True when no port of the range at base_port is in use.
range_is_free() {
  local port
  for port in $(cluster_ports); do
    if port_in_use "$port"; then return 1; fi
  done
  return 0
}

# Sets base_port to a free range (--base-port wins; it must be free too). Bounded: 40 tries.
choose_base_port() {
  if [[ -n "${base_port}" ]]; then
    range_is_free || die "--base-port ${base_port}: a port of ${base_port}..$((base_port + PORT_SPAN - 1)) is in use (another cluster?)"
    return 0
  fi
  local try slots=$(((AUTO_PORT_HIGH - AUTO_PORT_LOW) / PORT_SPAN))
  for ((try = 0; try < 40; try++)); do
    base_port=$((AUTO_PORT_LOW + PORT_SPAN * (RANDOM % slots)))
    if range_is_free; then return 0; fi
  done
  die "no free port range of ${PORT_SPAN} found in ${AUTO_PORT_LOW}-${AUTO_PORT_HIGH} after 40 tries; pass --base-port"
}

# Reads base_port (unless given), cluster_id, replicas and healers back from cluster.env.
load_cluster_env() {
  local f="${run_dir}/cluster.env" key value
  [[ -f "$f" ]] || return 0
  while IFS='=' read -r key value; do
    case "$key" in
      base_port) [[ -n "${base_port}" ]] || base_port="$value" ;;
      cluster_id) cluster_id="$value" ;;
      replicas) [[ -n "${replicas_given}" ]] || replicas="$value" ;;
      healers) [[ -n "${healers_given}" ]] || healers="$value" ;;
    esac
  done <"$f"
}

# --- keys --------------------------------------------------------------------------------------

# Makes the CURVE keys and TLS certificates of the cluster in <run-dir>/keys when missing:
# coordinator, replica (shared), operator (reflexctl) and client pairs, the allow-list folders
# replicas/, operators/, clients/, and tls/ (one CA; coordinator, replica, healer certificates).
make_keys() {
  local keys="${run_dir}/keys" name
  mkdir -p "${keys}"
  for name in coordinator replica operator client; do
    [[ -f "${keys}/${name}.key" ]] && continue
    "${bin_dir}/reflexctl" keygen --out "${keys}" "${name}" >/dev/null \
      || die "reflexctl keygen ${name} failed"
  done
  mkdir -p "${keys}/replicas" "${keys}/operators" "${keys}/clients"
  cp -f "${keys}/replica.pub" "${keys}/replicas/replica.pub"
  cp -f "${keys}/operator.pub" "${keys}/operators/operator.pub"
  cp -f "${keys}/client.pub" "${keys}/clients/client.pub"
  command -v openssl >/dev/null || die "openssl is missing (deploy/install-deps.sh installs it): needed for TLS certificates"
  "${REPO_DIR}/deploy/gen-tls.sh" "${keys}/tls" coordinator replica healer \
    || die "deploy/gen-tls.sh failed"
}

# reflexctl of this cluster: its control port, CURVE with this run dir's operator key.
ctl() {
  "${bin_dir}/reflexctl" --endpoint "tcp://${HOST}:$(port_of coordinator control)" \
    --curve-keys "${run_dir}/keys" "$@"
}

# True when the coordinator that answers is this cluster's: it answers our CURVE key, publishes
# on our weight-bus port, and every replica-i and healer-i of ours is alive (replicas ready).
own_cluster_ready() {
  local body
  body="$(ctl --timeout-ms 2000 --json status 2>/dev/null)" || return 1
  /usr/bin/env python3 - "$body" "tcp://${HOST}:$(port_of coordinator publish)" "$replicas" "$healers" <<'PY' 2>/dev/null
import json, sys
s = json.loads(sys.argv[1]); publish, n, m = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
reps = {r["id"]: r for r in s.get("replicas", []) if r.get("alive")}
heal = {h["id"] for h in s.get("healers", []) if h.get("alive")}
ok = s.get("weights_publish") == publish
ok = ok and all(reps.get("replica-%d" % i, {}).get("ready") for i in range(1, n + 1))
ok = ok and all("healer-%d" % i in heal for i in range(1, m + 1))
sys.exit(0 if ok else 1)
PY
}

# Waits (bounded by --timeout) until own_cluster_ready.
wait_for_own_cluster() {
  local deadline=$((SECONDS + timeout_s))
  while ((SECONDS < deadline)); do
    if own_cluster_ready; then return 0; fi
    sleep 0.5
  done
  log "the coordinator at tcp://${HOST}:$(port_of coordinator control) did not report this cluster" \
      "(weights on port $(port_of coordinator publish), ${replicas} replicas ready, ${healers} healers) within ${timeout_s} s"
  return 1
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
  if [[ -n "${bundle_dir}" ]]; then
    [[ -f "${bundle_dir}/manifest.json" ]] || die "--bundle ${bundle_dir}: no manifest.json there (write one with reflex-bundle --model)"
    bundle_dir="$(cd "${bundle_dir}" && pwd)"
    log "serving the bundle ${bundle_dir}"
  elif [[ -f "${run_dir}/model/manifest.json" ]]; then
    log "using the existing bundle ${run_dir}/model"
  else
    [[ -x "${bin_dir}/reflex-bundle" ]] || die "${bin_dir}/reflex-bundle is missing (build first: make build)"
    log "writing bundle: reflex-bundle --scenario ${scenario} --seed ${seed} --out ${run_dir}"
    "${bin_dir}/reflex-bundle" --scenario "${scenario}" --seed "${seed}" --out "${run_dir}" \
      >>"${run_dir}/logs/bundle.log" 2>&1 \
      || { tail -n 20 "${run_dir}/logs/bundle.log" >&2; die "reflex-bundle failed"; }
  fi

  for binary in reflex-coordinator reflex-healer reflex-replica reflexctl; do
    [[ -x "${bin_dir}/${binary}" ]] || die "${bin_dir}/${binary} is missing or not executable (build first: make build)"
  done

  make_keys
  choose_base_port
  cluster_id="$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  printf 'base_port=%s\ncluster_id=%s\nreplicas=%s\nhealers=%s\n' \
    "${base_port}" "${cluster_id}" "${replicas}" "${healers}" >"${run_dir}/cluster.env"
  log "cluster ${cluster_id}: ports ${base_port}..$((base_port + PORT_SPAN - 1)), keys in ${run_dir}/keys"

  local publish snapshot
  publish="tcp://${HOST}:$(port_of coordinator publish)"
  snapshot="tcp://${HOST}:$(port_of coordinator snapshot)"
  # From here on, a failure stops whatever was started (the logs stay).
  start coordinator reflex-coordinator "${coordinator_toml}" \
    --set "coordinator.actor_port=$(port_of coordinator actor)" \
    --set "coordinator.control_endpoint=tcp://${HOST}:$(port_of coordinator control)" \
    --set "coordinator.weights_publish=${publish}" \
    --set "coordinator.weights_snapshot=${snapshot}" \
    --set "coordinator.metrics_address=${HOST}:$(port_of coordinator metrics)" \
    --set "coordinator.probe_port=$(port_of coordinator probe)" \
    ${bundle_dir:+--set "coordinator.model=${bundle_dir}"}
  wait_for_probe coordinator /readyz || abort_up

  for ((i = 1; i <= healers; i++)); do
    start "healer-${i}" reflex-healer "${healer_toml}" \
      --set "healer.id=healer-${i}" \
      --set "healer.coordinator_port=$(port_of coordinator actor)" \
      --set "healer.metrics_address=${HOST}:$(port_of healer metrics "$i")" \
      --set "healer.probe_port=$(port_of healer probe "$i")" \
      ${bundle_dir:+--set "healer.model=${bundle_dir}"}
  done
  for ((i = 1; i <= replicas; i++)); do
    start "replica-${i}" reflex-replica "${replica_toml}" \
      --set "replica.id=replica-${i}" \
      --set "replica.coordinator_port=$(port_of coordinator actor)" \
      --set "replica.weights_publish=${publish}" \
      --set "replica.weights_snapshot=${snapshot}" \
      --set "replica.scoring_endpoint=tcp://${HOST}:$(port_of replica scoring "$i")" \
      --set "replica.metrics_address=${HOST}:$(port_of replica metrics "$i")" \
      --set "replica.probe_port=$(port_of replica probe "$i")" \
      ${bundle_dir:+--set "replica.model=${bundle_dir}"}
  done
  for ((i = 1; i <= healers; i++)); do wait_for_probe "healer-${i}" /healthz || abort_up; done
  for ((i = 1; i <= replicas; i++)); do wait_for_probe "replica-${i}" /readyz || abort_up; done
  wait_for_own_cluster || abort_up

  print_endpoints
}

abort_up() {
  log "start-up failed; stopping what was started (logs stay in ${run_dir}/logs)"
  cmd_down || true
  exit 1
}

print_endpoints() {
  local i
  echo "Reflex cluster ${cluster_id} up (run dir ${run_dir}, ports ${base_port}..$((base_port + PORT_SPAN - 1)), CURVE and TLS on)"
  echo "  coordinator  control tcp://${HOST}:$(port_of coordinator control)" \
       " metrics http://${HOST}:$(port_of coordinator metrics)/metrics" \
       " probes http://${HOST}:$(port_of coordinator probe)/readyz"
  for ((i = 1; i <= healers; i++)); do
    echo "  healer-${i}     metrics http://${HOST}:$(port_of healer metrics "$i")/metrics" \
         " probes http://${HOST}:$(port_of healer probe "$i")/readyz"
  done
  for ((i = 1; i <= replicas; i++)); do
    echo "  replica-${i}    scoring tcp://${HOST}:$(port_of replica scoring "$i")" \
         " metrics http://${HOST}:$(port_of replica metrics "$i")/metrics" \
         " probes http://${HOST}:$(port_of replica probe "$i")/readyz"
  done
  echo "  reflexctl:   ${bin_dir}/reflexctl --endpoint tcp://${HOST}:$(port_of coordinator control) --curve-keys ${run_dir}/keys status"
  local curve="--curve-server-public ${run_dir}/keys/replica.pub --curve-client ${run_dir}/keys/client"
  if [[ -n "${bundle_dir}" ]]; then
    echo "  model:       ${bundle_dir} (score your rows with tools/python/reflex_client.py ${curve})"
  else
    echo "  streams:     ${run_dir}/clean.csv, ${run_dir}/drift.csv (score them with tools/python/reflex_client.py ${curve})"
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
    if [[ "$state" == alive && -n "${base_port}" ]] && port="$(probe_port_of "$name")"; then
      ready=" readyz=$(http_status "$port" /readyz)"
    fi
    printf '%-12s %-5s pid %s%s\n' "$name" "$state" "$pid" "$ready"
  done
  if [[ -z "${base_port}" ]]; then
    echo "no cluster.env in ${run_dir}: pass --base-port to probe the services"
    return 0
  fi
  if [[ -x "${bin_dir}/reflexctl" ]]; then
    local rc=0
    ctl --timeout-ms 3000 status || rc=$?
    if ((rc == 3)); then echo "reflexctl: coordinator unreachable at tcp://${HOST}:$(port_of coordinator control)"; fi
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
      --replicas) need_count --replicas "${2-}"; replicas="$2"; replicas_given=1; shift 2 ;;
      --healers) need_count --healers "${2-}"; healers="$2"; healers_given=1; shift 2 ;;
      --base-port) need_count --base-port "${2-}"; base_port="$2"; shift 2 ;;
      --run-dir) (($# >= 2)) || die "--run-dir needs a folder"; run_dir="$2"; shift 2 ;;
      --bin) (($# >= 2)) || die "--bin needs a folder"; bin_dir="$2"; shift 2 ;;
      --configs) (($# >= 2)) || die "--configs needs a folder"; config_dir="$2"; shift 2 ;;
      --scenario) (($# >= 2)) || die "--scenario needs a name"; scenario="$2"; shift 2 ;;
      --seed) need_count --seed "${2-}"; seed="$2"; shift 2 ;;
      --bundle) (($# >= 2)) || die "--bundle needs a folder"; bundle_dir="$2"; shift 2 ;;
      --timeout) need_count --timeout "${2-}"; timeout_s="$2"; shift 2 ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown option $1 (see --help)" ;;
    esac
  done
  ((replicas >= 1 && replicas <= 100)) || die "--replicas must be 1..100 (each replica role has 100 ports of the range)"
  ((healers >= 0 && healers <= 40)) || die "--healers must be 0..40 (healer ports are base+10..base+89)"
  if [[ -n "${base_port}" ]]; then
    ((base_port >= 1024 && base_port + PORT_SPAN - 1 <= 65535)) \
      || die "--base-port must be 1024..$((65535 - PORT_SPAN + 1)) (the cluster uses base..base+$((PORT_SPAN - 1)))"
  fi
  bin_dir="$(cd "${bin_dir}" 2>/dev/null && pwd || echo "${bin_dir}")"

  [[ "$command" == up ]] || load_cluster_env
  case "$command" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    -h|--help|help) usage ;;
    *) usage >&2; die "unknown command ${command}" ;;
  esac
}

main "$@"
