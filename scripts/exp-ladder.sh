#!/bin/sh
# `npm run exp:ladder`: issue 21's experiment on the ladder world (docs/results.md, "Does RL learn to
# look? The ladder world"), every step resumable — re-run the same command after an interruption and it goes on
# where it stopped (finished steps are skipped, runs resume from their checkpoints).
#  1. the base: a medium policy warm-started on rungs 1-2 (configs/ladder.yaml), 3,000 SFT steps,
#     shipped as models/ladder-base;
#  2. the base on the test rung and on every rung (the ladder's shape, prior answers), whether it
#     reads (scripts/reading-probe.ts), and on the
#     first problems SFT trained on against held-out problems of the same rungs (nothing memorised);
#  3. its best sampling temperature, chosen on a validation stream (test split, another seed,
#     no problem shared with the test rows);
#  4. base vs DAPO vs PGPO on rung 3, logit scale frozen, SEEDS runs of BUDGET RL steps each,
#     every run evaluated under 3 sampling seeds, with base@T* beside the base, the policy-gradient
#     variance measured every 20 steps, and the width of the PGPO - DAPO interval printed;
#  5. the same with the logit scale trained;
#  6. every trained run, and the base at T*, on all five rungs (1,000 rows, 200 per rung, one sampling
#     seed each): does what RL learns on rung 3 carry down and up the ladder?
# SEEDS, BUDGET and ALGOS can be set in the environment (defaults below). LADDER_BASE and LADDER_CONFIG
# pick another base: LADDER_BASE=ladder-reader LADDER_CONFIG=configs/ladder-reader.yaml trains (or
# resumes) runs/ladder-reader, ships models/ladder-reader and writes runs/ladder-reader-eval and
# runs/ladder-reader-compare-*.
set -e
SEEDS=${SEEDS:-3}
BUDGET=${BUDGET:-60}
ALGOS=${ALGOS:-base,dapo,pgpo}
name=${LADDER_BASE:-ladder-base}
base=runs/$name
model=models/$name
# the recorded base keeps its recorded folders
pre=$name
[ "$name" = ladder-base ] && pre=ladder
cfg="--preset medium --config ${LADDER_CONFIG:-configs/ladder.yaml}"
pgpo="node bin/pgpo.js"

if [ -f "$base/config.yaml" ]; then
  $pgpo sft --resume "$base"
elif [ -d "$model" ]; then
  # a fresh clone: the committed base is the same weights, so the SFT run need not be repeated
  base=$model
else
  $pgpo sft $cfg --out "$base"
fi
# the shipped copy (weights and trainer state, no optimizer moments): what RL starts from elsewhere
[ -d "$model" ] || node --import tsx scripts/ship-base.ts "$base" "$model"

mkdir -p runs/$pre-eval
[ -f runs/$pre-eval/base-test.json ] || $pgpo eval $cfg --ckpt "$base" --out runs/$pre-eval/base-test.json
# the ladder's shape: 1,000 test rows, 200 per rung
[ -f runs/$pre-eval/base-rungs.json ] || $pgpo eval $cfg --ckpt "$base" --n 1000 data.suite.n_test=1000 'data.suite.test_rungs=[1,2,3,4,5]' --out runs/$pre-eval/base-rungs.json

# does it read? drills and rungs 1-3 with the real figure and a blank one (docs/results.md, "Does the base read?")
if [ ! -f runs/$pre-eval/base-probe.md ]; then
  node --import tsx scripts/reading-probe.ts --ckpt "$base" > runs/$pre-eval/base-probe.md.tmp
  mv runs/$pre-eval/base-probe.md.tmp runs/$pre-eval/base-probe.md
fi
cat runs/$pre-eval/base-probe.md

# nothing to memorise: the base on the first 400 problems SFT trained on (rungs 1-2) against held-out test problems of the same rungs
[ -f runs/$pre-eval/base-train-sft.json ] || $pgpo eval $cfg --ckpt "$base" --split train --use sft --n 400 --out runs/$pre-eval/base-train-sft.json
[ -f runs/$pre-eval/base-test-r12.json ] || $pgpo eval $cfg --ckpt "$base" --n 400 data.suite.n_test=400 'data.suite.test_rungs=[1,2]' --out runs/$pre-eval/base-test-r12.json
node --import tsx scripts/memorisation-gap.ts --train runs/$pre-eval/base-train-sft.json --heldout runs/$pre-eval/base-test-r12.json

# validation: test-split problems of another stream (seed 777), checked to share no problem with the test rows
evals=""
for t in 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1.0; do
  f=runs/$pre-eval/val-t$t.json
  [ -f "$f" ] || $pgpo eval $cfg --ckpt "$base" --temperature "$t" data.suite.seed=777 --out "$f"
  evals="$evals${evals:+,}$f"
done
best=$(node --import tsx scripts/best-temperature.ts --evals "$evals" --exclude runs/$pre-eval/base-test.json)
echo "best sampling temperature of the base on the validation stream: $best"
sharp=""
[ "$best" = "1" ] || sharp="--base-temperature $best"

# the policy-gradient variance is measured on the same runs (issue 21 item 6): it reads, it does not change the update
for table in frozen scale; do
  scale=""
  [ "$table" = frozen ] && scale="worker.actor.optim.logit_scale_lr=0"
  out=runs/$pre-compare-$table
  # the base's evaluations do not involve the logit scale: table 2 reuses table 1's (compare checks
  # that a reused evaluation is the same ask of the same checkpoint)
  if [ "$table" = scale ]; then
    for d in runs/$pre-compare-frozen/runs/base-seed* runs/$pre-compare-frozen/runs/base@*-seed*; do
      if [ -d "$d" ] && [ ! -e "$out/runs/${d##*/}" ]; then
        mkdir -p "$out/runs"
        cp -a "$d" "$out/runs/"
      fi
    done
  fi
  $pgpo compare $cfg --algos "$ALGOS" --seeds "$SEEDS" --budget "$BUDGET" --base "$base" $sharp \
    --out "$out" eval.seeds=3 experiment.pg_var_freq=20 $scale
  # the power the issue asks for: PGPO - DAPO known to +-1.5 points
  node -e '
    const t = JSON.parse(require("fs").readFileSync(process.argv[1] + "/compare.json", "utf8"));
    const d = (t.differences || []).find((x) => x.a === "pgpo" && x.b === "dapo");
    if (!d) process.exit(0);
    const half = d.lo === null ? Infinity : (100 * (d.hi - d.lo)) / 2;
    console.log(`${process.argv[1]}: PGPO - DAPO ${(100 * d.diff).toFixed(1)} points, 95% interval +-${half.toFixed(1)}` + (half > 1.5 ? ": wider than +-1.5, add seeds (SEEDS=N, the same command reuses the runs)" : ""));
  ' "$out"
done

# 6. transfer along the ladder: each run's final policy on rungs 1-5 (the base at T=1 is base-rungs.json)
rungs() { $pgpo eval $cfg --n 1000 data.suite.n_test=1000 'data.suite.test_rungs=[1,2,3,4,5]' "$@"; }
f=runs/$pre-eval/base-rungs-t$best.json
[ "$best" = "1" ] || [ -f "$f" ] || rungs --ckpt "$base" --temperature "$best" --out "$f"
for table in frozen scale; do
  for algo in $(echo "$ALGOS" | tr , ' '); do
    [ "$algo" = base ] && continue
    s=0
    while [ "$s" -lt "$SEEDS" ]; do
      f=runs/$pre-eval/rungs-$table-$algo-seed$s.json
      [ -f "$f" ] || rungs --ckpt "runs/$pre-compare-$table/runs/$algo-seed$s" --out "$f"
      s=$((s + 1))
    done
  done
done
sharp_rungs=""
[ "$best" = "1" ] || sharp_rungs=runs/$pre-eval/base-rungs-t$best.json
node --import tsx scripts/rung-table.ts runs/$pre-eval/base-rungs.json $sharp_rungs runs/$pre-eval/rungs-frozen-*.json runs/$pre-eval/rungs-scale-*.json
