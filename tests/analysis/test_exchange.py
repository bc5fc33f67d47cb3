"""Energy-water exchange account on a toy with a hand answer.

res (100 mcm, no inflow, 50 m head, efficiency 0.9: 0.122625 GWh per mcm) -> j -> sea;
January energy target worth 50 mcm of release (priority 1); June irrigation asks 80
(priority 2). The compensated clause: a hard release of at least 60 mcm in June.
With it (foresight over Jan-Jun): January releases 40 (4.905 GWh), June 60.
Without it: January releases 50 (6.13125 GWh), June gets the 50 left.
Energy foregone in winter 10 mcm x 0.122625 = 1.22625 GWh; summer water gained 10 mcm;
at 40 000 USD per GWh the compensation is 49 050 USD.
"""
from __future__ import annotations

import pytest

import waterdesk as wd
from tests.test_energy import GWH_PER_MCM, basin
from waterdesk.testing import write_case

CLAUSE = """
[[clause]]
id = "june-release"
kind = "release"
node = "res"
period = "season"
months = [6]
min_mcm = 60.0
hard = true
"""
EXCHANGE = """
[exchange]
clause = "june-release"
reservoir = "res"
price_per_gwh = 40000.0
currency = "USD"
"""


def test_exchange_account_matches_the_hand_answer(tmp_path):
    path = write_case(tmp_path, basin(1), {"src": [0.0] * 6})
    path.write_text(path.read_text().replace('timestep = "month"\n',
                                             'timestep = "month"\nmode = "horizon"\nhorizon = 6\n')
                    + CLAUSE + EXCHANGE)
    ds = wd.run(path)
    assert float(ds["supplied"].sel(demand="summer").values[5]) == pytest.approx(60.0, abs=1e-6)
    assert float(ds["energy"].values[0, 0]) == pytest.approx(40 * GWH_PER_MCM, rel=1e-6)
    assert ds["water_year"].values.tolist() == [2001]
    assert float(ds["exchange_energy_foregone"].values[0]) == pytest.approx(10 * GWH_PER_MCM, rel=1e-6)
    assert float(ds["exchange_water_gained"].sel(country="AA").values[0]) == pytest.approx(10.0, abs=1e-6)
    assert float(ds["exchange_compensation"].values[0]) == pytest.approx(10 * GWH_PER_MCM * 40000, rel=1e-6)
    assert ds["exchange_compensation"].attrs["units"] == "USD"
    back = tmp_path / "r.nc"
    wd.write_result(ds, back)
    assert float(wd.open_result(back)["exchange_energy_foregone"].values[0]) == pytest.approx(10 * GWH_PER_MCM)


def test_exchange_names_a_clause_and_a_hydropower_reservoir(tmp_path):
    path = write_case(tmp_path, basin(1), {"src": [0.0] * 6})
    path.write_text(path.read_text() + CLAUSE + EXCHANGE.replace('"june-release"', '"july"')
                    .replace('reservoir = "res"', 'reservoir = "j"'))
    with pytest.raises(wd.InputError) as err:
        wd.load_scenario(path)
    text = str(err.value)
    assert "exchange.clause: no clause 'july' in this scenario" in text
    assert "exchange.reservoir: 'j' is not a reservoir with hydropower" in text


def test_compare_and_report_show_the_account(tmp_path):
    from click.testing import CliRunner

    from waterdesk.cli.main import cli

    path = write_case(tmp_path / "x", basin(1), {"src": [0.0] * 6})
    path.write_text(path.read_text().replace('timestep = "month"\n',
                                             'timestep = "month"\nmode = "horizon"\nhorizon = 6\n')
                    + CLAUSE + EXCHANGE)
    plain = write_case(tmp_path / "p", basin(1), {"src": [0.0] * 6})
    a, b = tmp_path / "a.nc", tmp_path / "b.nc"
    wd.run(plain, output=a)
    wd.run(path, output=b)
    res = CliRunner().invoke(cli, ["compare", str(a), str(b), "--by", "country"])
    assert res.exit_code == 0, res.output
    assert "Energy-water exchange account of b" in res.stdout
    assert "energy foregone (GWh)" in res.stdout and "compensation (USD)" in res.stdout
    assert f"{10 * GWH_PER_MCM * 40000:,.1f}" in res.stdout
    res = CliRunner().invoke(cli, ["report", str(a), str(b), "-o", str(tmp_path / "r.html")])
    assert res.exit_code == 0, res.output
    page = (tmp_path / "r.html").read_text()
    assert page.count('class="exchange"') == 1 and "compensation (USD)" in page
