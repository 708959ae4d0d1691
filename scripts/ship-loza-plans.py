#!/usr/bin/env python3
"""Ships plan JSON files written by `loza calibrate` (usage: scripts/ship-loza-plans.py PLAN.json...):
each plan (model, model_sha256, plan, B/S/L, ratio) goes to
Sources/Engine/LoZA/ShippedPlans/<model>.loza.json, a resource that `loza` reads at run time to pick the
plan for that model file (by its SHA-256) with no sidecar; the whole calibration record, with the
figures that chose the plan, goes to Docs/calibration/<model>.json."""
import json, sys
for path in sys.argv[1:]:
    with open(path) as f:
        plan = json.load(f)
    alias = plan["model"].removesuffix(".gguf")
    with open(f"Docs/calibration/{alias}.json", "w") as f:
        f.write(json.dumps(plan, indent=2, sort_keys=True) + "\n")
    shipped = {k: v for k, v in plan.items() if k != "calibration"}
    with open(f"Sources/Engine/LoZA/ShippedPlans/{alias}.loza.json", "w") as f:
        f.write(json.dumps(shipped, indent=2, sort_keys=True) + "\n")
    print("shipped", alias, plan["plan"])
