"""The LP declared in Pyomo and the matrix driven in HiGHS are the same LP."""
from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

import waterdesk as wd
from waterdesk.allocate.formulation import declare, extract
from waterdesk.model.network import compile_network


def test_coefficient_updates_land_where_pyomo_puts_them(chu_talas, rng):
    """Set random routing coefficients a[r] and requests R[d] in the Pyomo model and
    compile it; then apply the same values at the positions the fast path updates,
    on the matrix extracted once with placeholders: both matrices are equal."""
    net = compile_network(wd.load_scenario(chu_talas).basin)
    lp = extract(net)
    a = rng.uniform(0.1, 1.0, net.n_reach)
    req = rng.uniform(1.0, 50.0, len(net.dem_ids))
    model = declare(net)
    for r in range(net.n_reach):
        model.a[r] = a[r]
    for d in range(len(net.dem_ids)):
        model.request[d] = req[d]
    truth = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    ours = lp.a_matrix.tolil(copy=True)
    for r in range(net.n_reach):
        ours[lp.row_balance[net.reach_to[r]], lp.col_q[r]] = a[r]
    for d in range(len(net.dem_ids)):
        ours[lp.row_share[d], lp.col_m[lp.dem_level[d]]] = req[d]
    assert truth.A.shape == ours.shape
    np.testing.assert_allclose(truth.A.toarray(), ours.toarray(), rtol=0, atol=0)
    # constraint senses: balances are equalities, equal-fraction rows are >=
    assert set(lp.row_sense[lp.row_balance]) == {0}
    assert set(lp.row_sense[lp.row_share]) == {-1}


def test_each_constraint_family_is_named_for_what_it_means(chu_talas):
    model = declare(compile_network(wd.load_scenario(chu_talas).basin))
    names = {c.local_name for c in model.component_objects(pyo.Constraint)}
    assert names == {"mass_balance", "outlet", "equal_fraction", "clause", "clause_equal_fraction",
                     "energy", "energy_equal_fraction", "target", "target_equal_fraction", "curve",
                     "curve_equal_fraction"}
