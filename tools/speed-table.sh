#!/usr/bin/env bash
# The speed table (docs/speed.md): PyTorch's forward pass and `shiftbench bench` for the study's four networks,
# measured in one go on this machine at the same batch sizes (each network's default batch in ShiftBench's zoo)
# and the same number of threads, network by network (PyTorch, then ShiftBench), so that the machine's load and
# clock fall on both alike. PyTorch is Debian's (/usr/bin/python3 with python3-torch and python3-torchvision);
# its networks have random weights, ShiftBench's synthetic ones: speed does not depend on the weights' values.
#
# Usage: tools/speed-table.sh [--quick] [--models a,b] [--images N] [--rounds N] [--threads N] [--bf16|--no-bf16]
#                             [--dataset D] [--out FILE] [--dry-run]
#   --quick     one batch per figure, one reuse round, no bf16, written to out/speed-quick.md and marked as a
#               check (a few minutes on a quiet machine): not a measurement
#   default     128 images per figure, 3 alternating reuse rounds (median), fp32, and bf16 where the CPU reports
#               avx512_bf16 or amx_bf16 (--bf16 forces it, --no-bf16 skips it; with neither, bf16 ran at 0.04x fp32 on a
#               Zen 3 EPYC, so the bf16 rounds would take hours), written to docs/speed.md
#               (10.9 min with bf16 on a 2-core EPYC with avx512_bf16, 11.6 min fp32 only on a 2-core Zen 3 EPYC, both
#               quiet); the load average is recorded
#   --dry-run   print each network's batch, images and the two commands, measure nothing
# SHIFTBENCH_CLI overrides the command that runs the CLI (default: ./shiftbench, which builds it first).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python=/usr/bin/python3
cli="${SHIFTBENCH_CLI:-$root/shiftbench}"

models=alexnet,vgg16,resnet50,mobilenet_v2
images=128 rounds=3 threads=$(nproc) bf16="" quick=0 dataset=berry out="" dry_run=0
usage() { sed -n '8,18p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --models) models="$2"; shift ;;
    --images) images="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --bf16) bf16=1 ;;
    --no-bf16) bf16=0 ;;
    --dataset) dataset="$2"; shift ;;
    --out) out="$2"; shift ;;
    --dry-run) dry_run=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown option '$1' (tools/speed-table.sh --help lists them)" >&2; exit 2 ;;
  esac
  shift
done
for n in "$images" "$rounds" "$threads"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "error: --images, --rounds and --threads take a whole number of 1 or more, not '$n'" >&2; exit 2; }
done
if [ "$quick" = 1 ]; then rounds=1; bf16="${bf16:-0}"; out="${out:-$root/out/speed-quick.md}"; fi
# CPU flags with bf16 instructions; SPEED_TABLE_CPUINFO stands in for /proc/cpuinfo (tests).
flags="$(grep -m1 '^flags' "${SPEED_TABLE_CPUINFO:-/proc/cpuinfo}" | tr ' ' '\n' | grep -xE 'avx512_bf16|amx_bf16' | paste -sd, - || true)"
if [ -z "$bf16" ]; then bf16=0; [ -n "$flags" ] && bf16=1; fi
out="${out:-$root/docs/speed.md}"
[ "$dry_run" = 1 ] || $python -c "import torch, torchvision" 2>/dev/null \
  || { echo "error: $python lacks torch or torchvision: install Debian's python3-torch and python3-torchvision" >&2; exit 2; }

export CI=1 OMP_NUM_THREADS="$threads" # plain progress lines; the same thread count for libtorch in both
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
# Each network's default batch, from the zoo (the one `bench` and `run` use).
$cli models --json > "$work/zoo.json"
batch_of() { $python -c "import json,sys; print(*[a['default_batch_size'] for a in json.load(open(sys.argv[1]))['architectures'] if a['name']==sys.argv[2]])" "$work/zoo.json" "$1"; }
declare -A batches # every name checked before anything is measured
for model in ${models//,/ }; do
  batches[$model]=$(batch_of "$model")
  [ -n "${batches[$model]}" ] || { echo "error: --models: '$model' is not a zoo network (\`shiftbench models\` lists them)" >&2; exit 2; }
done
field() { grep -oP "$1" "$2" | head -1 || true; } # the first match of a Perl regex (\K marks the value), or empty
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2fx", a / b }'; }

cpu="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
commit="$(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- src || echo ' + local changes')"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
started=$(date +%s)

rows="" bf16rows="" verdicts=""
for model in ${models//,/ }; do
  batch=${batches[$model]}
  n=$images; [ "$quick" = 1 ] && n=$batch
  precision=fp32; [ "$bf16" = 1 ] && precision=fp32,bf16
  bench_args=(bench --model "$model" --batch-size "$batch" --images "$n" --rounds "$rounds" --dataset "$dataset" --precision "$precision")
  if [ "$dry_run" = 1 ]; then
    echo "$model: batch $batch, $n images, $threads threads: $python tools/speed-pytorch.py $model $batch $n $threads fp32; shiftbench ${bench_args[*]}"
    continue
  fi
  echo "== $model: batch $batch, $n images, $threads threads" >&2
  pt=$($python "$root/tools/speed-pytorch.py" "$model" "$batch" "$n" "$threads" fp32 | awk '{print $6}')
  # PyTorch's bf16 right after its fp32, as bench measures its precisions' forward passes back to back.
  pt16=""; if [ "$bf16" = 1 ]; then pt16=$($python "$root/tools/speed-pytorch.py" "$model" "$batch" "$n" "$threads" bf16 | awk '{print $6}'); fi
  log="$work/$model.txt"
  if ! $cli "${bench_args[@]}" > "$log" 2> "$work/$model.err"; then
    cat "$log" "$work/$model.err" >&2; echo "error: shiftbench bench --model $model failed (above)" >&2; exit 1
  fi
  cat "$log" >&2
  bench_threads=$(field ', \K[0-9]+(?= threads)' "$log")
  [ "$bench_threads" = "$threads" ] || { echo "error: bench ran $bench_threads threads, PyTorch $threads" >&2; exit 1; }
  fwd=$(field '^fp32 +\K[0-9.]+' "$log")
  e2e=$(field '^fp32 +[0-9.]+ img/s +\K[0-9.]+' "$log")
  brute=$(field 'brute force \K[0-9.]+' "$log")
  reuse=$(field ', reuse \K[0-9.]+' "$log")
  rows+="| $model | $batch | $n | $pt | $fwd | $(ratio "$fwd" "$pt") | ${brute:-$e2e} | ${reuse:--} | $(ratio "$reuse" "$brute") |"$'\n'
  if [ "$bf16" = 1 ]; then
    fwd16=$(field '^bf16 +\K[0-9.]+' "$log")
    reuse16=$(field '^reuse bf16 .*?, reuse \K[0-9.]+' "$log")
    over_reuse=$(field '^bf16 with reuse is \K[0-9.]+x' "$log")
    bf16rows+="| $model | $pt16 | $(ratio "$pt16" "$pt") | $fwd16 | $(field '^bf16 is \K[0-9.]+x' "$log") | ${reuse16:--} | ${over_reuse:--} |"$'\n'
    verdicts+="- $model: $(field '^bf16 is .*' "$log")"$'\n'
  fi
done
[ "$dry_run" = 1 ] && exit 0
versions="$($python -c 'import torch, torchvision; print(f"PyTorch {torch.__version__}, torchvision {torchvision.__version__}")')"
minutes=$(awk -v s=$(( $(date +%s) - started )) 'BEGIN { printf "%.1f", s / 60 }')

mkdir -p "$(dirname "$out")"
{
  if [ "$quick" = 1 ]; then
    echo "# Speed: quick check (not a measurement)"
    echo
    echo "Written by \`tools/speed-table.sh --quick\`: one batch per figure and one reuse round, to check the script."
    echo "These figures are not fit to quote; \`tools/speed-table.sh\` on a quiet machine writes docs/speed.md."
  else
    echo "# Speed: ShiftBench against PyTorch on one machine"
    echo
    echo "Written by \`tools/speed-table.sh\`; run it again to measure your machine."
  fi
  echo
  echo "- Measured $(date -u '+%Y-%m-%d %H:%M UTC') in one go ($minutes min), network by network: PyTorch's forward pass, then \`shiftbench bench\`."
  echo "- CPU: $cpu, $(nproc) cores; $threads threads for both (OMP_NUM_THREADS, \`torch.set_num_threads\`); bf16 flags: ${flags:-none}."
  blas="$(env | grep '^OPENBLAS_' | sort | tr '\n' ' ' || true)" # none set is fine
  echo "- OpenBLAS settings in the environment: ${blas:-none }(Debian's PyTorch runs fp32 convolutions through OpenBLAS, so a CORETYPE older than the CPU slows PyTorch's fp32 column; ShiftBench's libtorch does not use OpenBLAS)."
  echo "- Load average (1, 5, 15 min) before: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg). Figures from a loaded machine are not comparable."
  echo "- $versions (Debian, /usr/bin/python3); ShiftBench $commit (TorchSharp)."
  echo "- Both time whole batches of one random 224x224 batch after one warm-up pass, at each network's default batch in"
  echo "  ShiftBench's zoo. PyTorch uses torchvision's networks with random weights, ShiftBench synthetic ones: speed"
  echo "  does not depend on the weights' values."
  echo "- End to end is \`shiftbench run\` on the first positions of $dataset at stride 1 (dataset images, hooks on every named"
  echo "  layer, row files): brute force and with exact reuse, the median of $rounds alternating rounds of each (same results)."
  echo
  echo "| network | batch | images | PyTorch forward (images/s) | ShiftBench forward (images/s) | ShiftBench / PyTorch | ShiftBench end to end, brute force (images/s) | end to end with reuse (images/s) | reuse speed-up |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s' "$rows"
  if [ "$bf16" = 1 ]; then
    echo
    echo "## bf16"
    echo
    echo "bf16 pays only on CPUs with fast bf16 kernels, and the CPU's flags alone do not tell which (with \`avx512_bf16\`"
    echo "and no AMX it ran about 2x fp32 on one AMD EPYC and 0.78x on one Intel Xeon); it always costs accuracy"
    echo "(\`bench --precision fp32,bf16\` prints how far its grids are from fp32's). Exact reuse runs in bf16 too: the last"
    echo "two columns are \`run\` end to end with reuse in bf16, and its ratio to fp32 with reuse (the default path), from the"
    echo "same alternating rounds."
    echo
    echo "| network | PyTorch bf16 forward (images/s) | PyTorch bf16 / fp32 | ShiftBench bf16 forward (images/s) | ShiftBench bf16 / fp32 | bf16 end to end with reuse (images/s) | bf16 with reuse / fp32 with reuse |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s' "$bf16rows"
    echo
    echo "\`shiftbench bench --precision fp32,bf16\` on this CPU:"
    echo
    printf '%s' "$verdicts"
  elif [ "$quick" = 0 ]; then
    echo
    echo "## bf16"
    echo
    echo "Not measured: this CPU reports neither \`avx512_bf16\` nor \`amx_bf16\`, so bf16 runs without bf16 instructions"
    echo "(on a 2-core Zen 3 EPYC, \`bench --precision fp32,bf16\` measured AlexNet's bf16 forward at 0.04x fp32). Use fp32"
    echo "here; \`tools/speed-table.sh --bf16\` measures it anyway."
  fi
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out ($minutes min)" >&2
