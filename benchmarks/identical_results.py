"""Are the results of two source trees bit-identical? Not a benchmark and not a test: the
check behind a refactoring commit that claims "results unchanged".

Run every shipped scenario (and the scale sweep) with the waterdesk of one source tree,
then compare two such output folders variable by variable, byte for byte:

    git archive BASE | tar -x -C /tmp/base ; git archive HEAD | tar -x -C /tmp/head
    python benchmarks/identical_results.py run /tmp/base /tmp/out-base
    python benchmarks/identical_results.py run /tmp/head /tmp/out-head
    python benchmarks/identical_results.py compare /tmp/out-base /tmp/out-head /tmp/base /tmp/head

Exit 1 when anything differs beyond the run times and the expected attributes.
"""
import os
import subprocess
import sys
from pathlib import Path

#: attributes that differ between any two runs (wall-clock times, creation stamp)
IGNORED_ATTRS = {"history", "allocation_seconds", "horizon_build_seconds", "horizon_solve_seconds"}
#: attributes expected to differ between the trees: the hash of the input files, whose first
#: comment line changed (SPEC -> docs/REFERENCE.md)
EXPECTED_ATTRS = {"scenario_sha256"}
ROOTS: list[str] = []     # the two trees: their paths in attributes are compared as <tree>


def norm(attrs):
    out = {}
    for k, v in attrs.items():
        if k in IGNORED_ATTRS:
            continue
        if isinstance(v, str):
            for r in ROOTS:
                v = v.replace(r, "<tree>")
        out[k] = v
    return out


def run(tree, out):
    tree, out = Path(tree).resolve(), Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    for toml in sorted((tree / "scenarios").glob("*/*.toml")):
        name = f"{toml.parent.name}__{toml.stem}"
        if "[sweep]" in toml.read_text():
            if toml.stem != "sweep-scale":
                continue
            cmd = [sys.executable, "-m", "waterdesk", "-q", "batch", str(toml), "-o", str(out / name)]
        else:
            cmd = [sys.executable, "-m", "waterdesk", "-q", "run", str(toml), "-o", str(out / f"{name}.nc")]
        r = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
        print(name, "exit", r.returncode, r.stderr.strip()[-300:], flush=True)


def same(a, b):
    import numpy as np
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":   # bit for bit: the same bytes, NaN included
        return a.tobytes() == b.tobytes()
    if a.dtype.kind in "mM":
        return bool(np.array_equal(a.view("i8"), b.view("i8")))
    return bool(np.array_equal(a, b))


def compare(da, db):
    import xarray as xr
    files_a = sorted(p.relative_to(da) for p in Path(da).rglob("*.nc"))
    files_b = sorted(p.relative_to(db) for p in Path(db).rglob("*.nc"))
    bad = 0
    if files_a != files_b:
        print("file lists differ:", set(files_a) ^ set(files_b)); bad += 1
    n_vars = 0
    expected = set()
    for rel in files_a:
        if rel not in files_b:
            continue
        with xr.open_dataset(Path(da) / rel, decode_times=False) as a, \
             xr.open_dataset(Path(db) / rel, decode_times=False) as b:
            names = set(a.variables) | set(b.variables)
            for v in sorted(names):
                n_vars += 1
                if v not in a.variables or v not in b.variables:
                    print(rel, v, "missing on one side"); bad += 1; continue
                if not same(a[v].values, b[v].values) or a[v].dims != b[v].dims:
                    print(rel, v, "values differ"); bad += 1
                if norm(a[v].attrs) != norm(b[v].attrs):
                    print(rel, v, "attrs differ"); bad += 1
            ka, kb = norm(a.attrs), norm(b.attrs)
            diff = {k for k in set(ka) | set(kb) if str(ka.get(k)) != str(kb.get(k))}
            expected.update(diff & EXPECTED_ATTRS)
            if diff - EXPECTED_ATTRS:
                print(rel, "global attrs differ:", diff - EXPECTED_ATTRS); bad += 1
    print(f"{len(files_a)} files, {n_vars} variables (data, coordinates) compared exactly, {bad} differences; "
          f"expected attribute differences: {sorted(expected)}")
    return bad


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3])
    else:
        ROOTS.extend(str(Path(p).resolve()) for p in sys.argv[4:6])
        sys.exit(1 if compare(sys.argv[2], sys.argv[3]) else 0)
