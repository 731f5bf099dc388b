#!/bin/sh
# `npm run exp:base`: the base model the repository ships, from scratch on this machine — the
# default warm start (pgpo sft, resumed if cut short), its evaluation, then models/small-base.
# docs/results.md gives the time it took and what the base scores.
set -e
dir=runs/base
if [ -f "$dir/config.yaml" ]; then node bin/pgpo.js sft --resume "$dir"; else node bin/pgpo.js sft --out "$dir"; fi
node bin/pgpo.js eval --ckpt "$dir"
node --import tsx scripts/ship-base.ts "$dir" models/small-base
