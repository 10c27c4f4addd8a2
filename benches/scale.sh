#!/usr/bin/env bash
# Scale benchmark: generates the 100,000-pod cluster in `meshdeck sim`, then times
# `meshdeck inventory -o json` and `kubectl get pods -A -o json` against it, with peak RSS.
# A benchmark, not a test: it prints figures and never fails on speed. Wall time on a shared
# 2-core machine is noisy; the CPU-seconds of both processes and the load are printed too.
#
#   benches/scale.sh [namespaces=1000,workloads=10000,pods-per-workload=10]
#   RUNS=5 benches/scale.sh       # inventory 5 times against one sim, then the medians
set -euo pipefail
cd "$(dirname "$0")/.."
spec=${1:-namespaces=1000,workloads=10000,pods-per-workload=10}
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/meshdeck
work=$(mktemp -d)
trap 'kill "$sim_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

start=$(date +%s.%N)
"$bin" sim --scale "$spec" --kubeconfig-out "$work/kubeconfig" >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
while ! [ -s "$work/sim.out" ]; do
  kill -0 "$sim_pid" 2>/dev/null || { cat "$work/sim.err"; exit 1; }
  sleep 0.05
done
ready=$(date +%s.%N)
echo "sim: ready to serve $spec after $(python3 -c "print(round($ready - $start, 2))") s"
echo "sim: VmHWM after generation: $(grep VmHWM /proc/$sim_pid/status | awk '{print $2, $3}')"

export KUBECONFIG=$work/kubeconfig
measure() {
  local name=$1; shift
  local sim_cpu0 sim_cpu1
  sim_cpu0=$(awk '{print $14 + $15}' "/proc/$sim_pid/stat")
  /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$@" >"$work/out.json" 2>"$work/err" || { echo "$name failed:"; cat "$work/err"; return; }
  sim_cpu1=$(awk '{print $14 + $15}' "/proc/$sim_pid/stat")
  read -r secs kib user sys <"$work/time"
  echo "$name: ${secs} s, peak RSS $((kib / 1024)) MiB, output $(($(stat -c %s "$work/out.json") / 1048576)) MiB," \
    "CPU ${user} s user + ${sys} s sys; the sim meanwhile $(python3 -c "print(round(($sim_cpu1 - $sim_cpu0) / $(getconf CLK_TCK), 2))") CPU-s (load: $(cut -d' ' -f1-3 /proc/loadavg))"
}
if "$bin" inventory --help >/dev/null 2>&1; then
  for _ in $(seq "${RUNS:-1}"); do
    measure "meshdeck inventory -o json" "$bin" inventory -o json
    cat "$work/time" >>"$work/times"
    pods=$(python3 -c "import json,sys; d=json.load(open('$work/out.json')); print(sum(n['pods'] for n in d['namespaces']))" 2>/dev/null || echo "?")
    echo "meshdeck inventory: pods counted: $pods"
  done
  python3 - "$work/times" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
wall = [float(r[0]) for r in rows]
rss = [int(r[1]) / 1024 for r in rows]
print(f"meshdeck inventory over {len(rows)} run(s): wall median {statistics.median(wall):.2f} s "
      f"(min {min(wall):.2f}, max {max(wall):.2f}), peak RSS median {statistics.median(rss):.0f} MiB (max {max(rss):.0f})")
PY
fi
if [ "${WITH_KUBECTL:-0}" = 1 ] && command -v kubectl >/dev/null; then
  measure "kubectl get pods -A -o json" kubectl get pods -A -o json
fi
echo "sim: VmHWM at the end: $(grep VmHWM /proc/$sim_pid/status | awk '{print $2, $3}')"
