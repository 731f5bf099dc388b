#!/bin/sh
# `npm run exp:ladder`: issue 21's experiment on the ladder world (docs/results.md, "Does RL learn
# to look?"), every step resumable — re-run the same command after an interruption and it goes on
# where it stopped (finished steps are skipped, runs resume from their checkpoints).
#  1. the base: a medium policy warm-started on rungs 1-2 (configs/ladder.yaml), 3,000 SFT steps;
#  2. the base on the test rung and on every rung (the ladder's shape, prior answers);
#  3. its best sampling temperature, chosen on a validation stream (test split, another seed);
#  4. base vs DAPO vs PGPO on rung 3, logit scale frozen, SEEDS runs of BUDGET RL steps each,
#     every run evaluated under 3 sampling seeds, with base@T* beside the base;
#  5. the same with the logit scale trained.
# SEEDS, BUDGET and ALGOS can be set in the environment (defaults below).
set -e
SEEDS=${SEEDS:-3}
BUDGET=${BUDGET:-60}
ALGOS=${ALGOS:-base,dapo,pgpo}
base=runs/ladder-base
cfg="--preset medium --config configs/ladder.yaml"
pgpo="node bin/pgpo.js"

if [ -f "$base/config.yaml" ]; then $pgpo sft --resume "$base"; else $pgpo sft $cfg --out "$base"; fi

mkdir -p runs/ladder-eval
[ -f runs/ladder-eval/base-test.json ] || $pgpo eval $cfg --ckpt "$base" --out runs/ladder-eval/base-test.json
[ -f runs/ladder-eval/base-rungs.json ] || $pgpo eval $cfg --ckpt "$base" --n 500 'data.suite.test_rungs=[1,2,3,4,5]' --out runs/ladder-eval/base-rungs.json

# validation: test-split problems of another stream (seed 777), never the test rows
evals=""
for t in 0.5 0.6 0.7 0.8 0.9 1.0; do
  f=runs/ladder-eval/val-t$t.json
  [ -f "$f" ] || $pgpo eval $cfg --ckpt "$base" --temperature "$t" data.suite.seed=777 --out "$f"
  evals="$evals${evals:+,}$f"
done
best=$(node --import tsx scripts/best-temperature.ts --evals "$evals")
echo "best sampling temperature of the base on the validation stream: $best"

$pgpo compare $cfg --algos "$ALGOS" --seeds "$SEEDS" --budget "$BUDGET" --base "$base" --base-temperature "$best" \
  --out runs/ladder-compare-frozen eval.seeds=3 worker.actor.optim.logit_scale_lr=0
$pgpo compare $cfg --algos "$ALGOS" --seeds "$SEEDS" --budget "$BUDGET" --base "$base" --base-temperature "$best" \
  --out runs/ladder-compare-scale eval.seeds=3
