"""Every shipped step-mode scenario on the compiled engine against the HiGHS path.

    python benchmarks/check_engine_shipped.py

Prints, per scenario, the number of steps, the largest difference of deliveries, storage
and node flows [mcm] between simulate(engine="compiled") and simulate(engine="highs"), the
member-steps the engine handed to HiGHS and the largest mass-balance error [mcm].
"""
import glob, numpy as np, waterdesk as wd
from waterdesk.simulate import simulate
for p in sorted(glob.glob("scenarios/*/*.toml")):
    try:
        sc = wd.load_scenario(p)
    except Exception as e:
        print(p, "skip", type(e).__name__); continue
    if sc.mode != "step" or sc.inflows is None:
        print(p, "skip", sc.mode); continue
    try:
        a = simulate(sc, engine="compiled"); b = simulate(sc, engine="highs")
    except Exception as e:
        print(p, "error", type(e).__name__, str(e)[:80]); continue
    dl = a.steps.days * 0.0864
    gap = max(float(np.abs(a.supplied - b.supplied).max(initial=0)), float(np.abs(a.storage - b.storage).max(initial=0)),
              float((np.abs(a.node_flow - b.node_flow) * dl[:, None]).max(initial=0)))
    print(p, len(sc.steps), "gap %.1e mcm" % gap, "fallbacks", a.engine_fallbacks, "mb %.1e" % np.abs(a.mass_balance_error).max(), flush=True)
