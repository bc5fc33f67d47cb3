"""`waterdesk report`: the HTML page, checked in a real headless Chromium.

The browser test needs Debian's `chromium` (`apt-get install -y chromium chromium-driver`);
without it, it is skipped and says why. The rest runs anywhere.
"""
from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import waterdesk as wd
from waterdesk.analysis.report import report
from waterdesk.cli.report import report as report_command

ROOT = Path(__file__).resolve().parents[2]
END = "2002-09-30"   # two water years: fast, and enough for every figure
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


@pytest.fixture(scope="module")
def results() -> list[xr.Dataset]:
    """The Chu-Talas 2000 agreement and the baseline over the same two water years."""
    out = []
    for name in ("agreement-2000", "baseline"):
        scenario = wd.load_scenario(ROOT / "scenarios" / "chu-talas" / f"{name}.toml").replace(end=END)
        out.append(wd.run(scenario))
    return out


@pytest.fixture(scope="module")
def page(results, tmp_path_factory) -> Path:
    return report(results, tmp_path_factory.mktemp("report") / "report.html")


class _Page(HTMLParser):
    """Collects img/link/script attributes, all text, and the cell texts of each table by
    class (also used by tests/analysis/test_ensemble.py)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[dict[str, str]] = []
        self.refs: list[str] = []
        self.scripts = 0
        self.text: list[str] = []
        self.tables: list[tuple[dict[str, str], list[list[str]]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.refs += [v for k, v in a.items() if k in ("src", "href", "srcset", "data", "action")]
        if tag == "img":
            self.images.append(a)
        elif tag == "script":
            self.scripts += 1
        elif tag == "table":
            self.tables.append((a, []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.tables:
            self.tables[-1][1][-1].append("".join(self._cell).strip())
            self._cell = None

    def table(self, cls: str, result: int | None = None) -> list[list[str]]:
        for attrs, rows in self.tables:
            wanted = result is None or attrs.get("data-result") == str(result)
            if cls in attrs.get("class", "").split() and wanted:
                return rows
        raise AssertionError(f"no table {cls!r} (result {result})")


def _parse(text: str) -> _Page:
    parser = _Page()
    parser.feed(text)
    parser.close()
    return parser


def _expected_figures(ds: xr.Dataset) -> int:
    """storage (if reservoirs) + deliveries + calendar (if clauses) + gauges (if any)."""
    return (1 + int(ds.sizes.get("reservoir", 0) > 0) + int(ds.sizes.get("clause", 0) > 0)
            + int(bool((ds["node_kind"] == "gauge").any())))


def test_the_page_loads_in_headless_chromium_with_its_figures_and_true_numbers(results, page, tmp_path):
    chromium = _chromium()
    if chromium is None:
        pytest.skip("Chromium not installed (Debian: apt-get install -y chromium chromium-driver); "
                    "the report is not checked in a browser")
    profile = tmp_path / "profile"
    profile.mkdir()
    proc = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr",
                           "--v=0", "--dump-dom",
                           page.resolve().as_uri()], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert ":CONSOLE" not in proc.stderr, proc.stderr     # no console message: no page error
    assert "<h1>waterdesk report" in dom and dom.rstrip().endswith("</html>"), dom[:500]
    parsed = _parse(dom)

    # figures: the schematic first (issue 15), the comparison panel, then one set per result
    # (agreement: storage, deliveries, calendar, gauges; baseline: no clauses, so no calendar)
    assert [_expected_figures(ds) for ds in results] == [4, 3]
    assert len(parsed.images) == 1 + 1 + 4 + 3
    kinds = [img.get("data-figure") for img in parsed.images]
    assert kinds == ["schematic", "comparison", "storage", "deliveries", "calendar", "gauges",
                     "storage", "deliveries", "gauges"]
    assert parsed.images[0]["src"].startswith("data:image/svg+xml;base64,")
    for img in parsed.images[1:]:
        src = img["src"]
        assert src.startswith("data:image/png;base64,")
        data = base64.b64decode(src.removeprefix("data:image/png;base64,"), validate=True)
        assert data.startswith(PNG_MAGIC) and data.rstrip().endswith(b"IEND\xaeB`\x82")
        assert len(data) > 10_000
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width == 900 and height >= 250       # 9 in at 100 dpi
        assert img.get("alt")

    # nothing fetched from anywhere: no URL in any src/href, no script
    assert parsed.scripts == 0
    assert not [r for r in parsed.refs if not r.startswith(("data:image/png;base64,", "data:image/svg+xml;base64,",
                                                           "#"))]
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", dom, re.IGNORECASE)

    # the per-country table equals independent sums of the result variables
    for r, ds in enumerate(results):
        rows = parsed.table("countries", r)
        assert rows[0][:4] == ["country", "requested (mcm)", "supplied (mcm)", "met (%)"]
        by_country = {row[0]: row[1:] for row in rows[1:]}
        assert set(by_country) == {str(c) for c in ds.country.values} | {"total"}
        for country in ds.country.values:
            mine = ds["demand_country"] == country
            req = float(ds["requested"].where(mine).sum())
            sup = float(ds["withdrawal_by_country"].sel(country=country).sum())
            short = int(((ds["requested"] - ds["supplied"]).where(mine) > 1e-6).any("demand").sum())
            assert by_country[str(country)] == [f"{req:,.1f}", f"{sup:,.1f}", f"{100 * sup / req:.1f}",
                                                str(short)]
        total_req, total_sup = float(ds["requested"].sum()), float(ds["supplied"].sum())
        assert by_country["total"][:2] == [f"{total_req:,.1f}", f"{total_sup:,.1f}"]

    # the agreement cuts KG's supply: the baseline minus the agreement is positive for KG
    comp = {row[0]: row[1:] for row in parsed.table("comparison")[1:]}
    kg = [float(ds["withdrawal_by_country"].sel(country="KG").sum()) for ds in results]
    assert comp["KG"] == [f"{kg[0]:,.1f}", f"{kg[1]:,.1f}", f"{kg[1] - kg[0]:+,.1f}"]
    assert kg[1] > kg[0]

    # clause table: every clause, with windows met/total from clause_violation
    clauses = parsed.table("clauses", None)
    agreement = results[0]
    assert [row[0] for row in clauses[1:]] == [str(c) for c in agreement.clause.values]
    for row, c in zip(clauses[1:], agreement.clause.values):
        v = agreement["clause_violation"].sel(clause=c).values
        v = v[~np.isnan(v)]
        assert row[3] == f"{int((v <= 1e-6).sum())}/{v.size}"

    # provenance in the header
    for key in ("scenario_sha256", "waterdesk_version", "solver"):
        assert str(agreement.attrs[key]) in dom


def test_report_writes_atomically_and_deterministically(results, tmp_path):
    target = tmp_path / "r.html"
    assert report(results[:1], target) == target
    assert not list(tmp_path.glob("*.part"))
    first = target.read_bytes()
    report(results[:1], target)
    assert target.read_bytes() == first                   # same inputs, same bytes
    assert first.count(b"data:image/png;base64,") == _expected_figures(results[0])
    assert first.count(b"data:image/svg+xml;base64,") == 1   # the schematic
    assert b'id="comparison"' not in first                # one result: no comparison panel


def test_a_failed_report_leaves_neither_page_nor_part(results, tmp_path):
    target = tmp_path / "r.html"
    broken = results[0].drop_vars("supplied")
    with pytest.raises(KeyError):
        report([broken], target)
    assert list(tmp_path.iterdir()) == []


def test_cli_writes_the_page_from_result_files(results, tmp_path):
    a, b = wd.write_result(results[0], tmp_path / "a.nc"), wd.write_result(results[1], tmp_path / "b.nc")
    out = tmp_path / "page.html"
    res = CliRunner().invoke(report_command, [str(a), str(b), "-o", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    assert text.count('<img class="figure"') == 9
    assert 'id="comparison"' in text and ">A. a: " in text and ">B. b: " in text   # A, B: named by file


def test_cli_exits_2_with_one_line_per_bad_file(results, tmp_path):
    good = wd.write_result(results[0], tmp_path / "good.nc")
    garbage = tmp_path / "garbage.nc"
    garbage.write_text("not netcdf\n")
    foreign = tmp_path / "foreign.nc"
    xr.Dataset({"x": ("t", np.arange(3.0))}).to_netcdf(foreign)
    out = tmp_path / "page.html"
    res = CliRunner().invoke(report_command, [str(good), str(garbage), str(foreign),
                                              str(tmp_path / "missing.nc"), "-o", str(out)])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 3, res.output
    assert any("garbage.nc" in ln and "not a readable NetCDF" in ln for ln in lines)
    assert any("foreign.nc" in ln and "not a waterdesk result" in ln for ln in lines)
    assert any("missing.nc" in ln and "file not found" in ln for ln in lines)
    assert "Traceback" not in res.output
    assert not out.exists() and not list(tmp_path.glob("*.part"))


def test_the_page_in_km3(tmp_path):
    """--units km3: the same page with every volume divided by 1000 and said in km3,
    figures included (no 'mcm' left outside the images)."""
    import base64
    import re

    import waterdesk as wd
    from waterdesk.analysis.report import report

    scenario = wd.load_scenario("scenarios/chu-talas/agreement-2000.toml").replace(end="2002-09-30")
    ds = wd.run(scenario)
    page = report([ds], tmp_path / "k.html", units="km3").read_text()
    images = re.findall(r'data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert images and all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)
    text = re.sub(r"data:image/(png|svg\+xml);base64,[A-Za-z0-9+/=]+", "", page)
    assert "mcm" not in text and "km3" in text
    kg = float(ds["requested"].where(ds["demand_country"] == "KG").sum()) / 1000.0
    assert f"<td>KG</td><td class=\"num\">{kg:,.3f}</td>" in text


# ----------------------------------------------------------------------------- issue 15

EN_NUMBER = re.compile(r"^[+-]?\d{1,3}(,\d{3})*(\.\d+)?$")
RU_NUMBER = re.compile(r"^[+-]?\d{1,3}(\u00a0\d{3})*(,\d+)?$")


def _numbers_of(parsed: _Page, pattern: re.Pattern[str], lang: str) -> tuple[list[float], list[int]]:
    """Every number in every table cell, in page order, and each table's shape."""
    from waterdesk.i18n import catalogue

    cat = catalogue(lang)
    values: list[float] = []
    shapes = []
    for _, rows in parsed.tables:
        shapes.append(sum(len(r) for r in rows))
        for row in rows:
            values += [cat.parse(cell) for cell in row if pattern.match(cell)]
    return values, shapes


def test_the_russian_page_carries_the_numbers_of_the_english_one(results, page, tmp_path):
    ru_page = report(results, tmp_path / "ru.html", lang="ru").read_text("utf-8")
    en = _parse(page.read_text("utf-8"))
    ru = _parse(ru_page)
    en_values, en_shapes = _numbers_of(en, EN_NUMBER, "en")
    ru_values, ru_shapes = _numbers_of(ru, RU_NUMBER, "ru")
    assert en_shapes == ru_shapes                          # the same tables, cell for cell
    assert len(en_values) > 100 and ru_values == en_values
    assert '<html lang="ru">' in ru_page and "Баланс сторон" in ru_page and "лимит водозабора" not in page.read_text()
    # the Russian page says its numbers the Russian way, and nowhere the English way
    assert re.search(r">\d{1,3}\u00a0\d{3},\d<", ru_page)
    assert not re.search(r">-?\d{1,3},\d{3}\.\d<", ru_page)


def test_no_negative_zero_and_no_pointer_to_docs(results, page):
    text = re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+", "", page.read_text("utf-8"))
    assert not re.search(r"(?<![\w-])[-\u2212]0([.,]0+)?(?![\d.,\w])", re.sub(r"\d{4}-\d{2}-\d{2}", "", text))
    assert "docs/" not in text and ".md" not in text


def test_ledger_and_report_state_one_entitlement_rule(results, page):
    from waterdesk.i18n import catalogue

    rule = catalogue("en")("note.entitlement")
    assert "share clause" in rule and "max_withdrawal" in rule
    assert html_escape(rule) in page.read_text("utf-8")
    text = wd.to_text(list(wd.ledger(results[0]).values()))
    assert rule in " ".join(text.split())
    # the ledger is country x year: one row per water year, a column group per country
    lines = text.splitlines()
    assert any("KG (mcm)" in ln and "KZ (mcm)" in ln for ln in lines)
    assert max(len(ln) for ln in lines) <= 132


def html_escape(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def test_a_seasonal_limit_is_drawn_only_inside_its_windows():
    """A June-August minimum flow: the dashed line has points only inside the clause's
    windows (and breaks between them), never in winter."""
    import dataclasses

    from waterdesk.analysis.report import Page, fig_gauges, limit_segments
    from waterdesk.i18n import catalogue

    scenario = wd.load_scenario(ROOT / "scenarios" / "chu-talas" / "agreement-2000.toml").replace(end=END)
    clauses = tuple(dataclasses.replace(c, period="season", months=(6, 7, 8)) if c.id == "talas-border-min-flow"
                    else c for c in scenario.clauses)
    ds = wd.run(scenario.replace(clauses=clauses))
    c = [str(x) for x in ds.clause.values].index("talas-border-min-flow")
    windows = [(a, b) for a, b in zip(ds["window_start"].values[:, c], ds["window_end"].values[:, c])
               if not np.isnat(a)]
    assert len(windows) == 2                                # two summers in two water years
    g = [str(n) for n in ds.node.values].index("talas_border")
    fig = fig_gauges(ds, Page(catalogue("en")), [g], {"talas-border-min-flow": "talas_border"})
    lines = [ln for ax in fig.axes for ln in ax.get_lines() if ln.get_gid() == "limit:talas-border-min-flow"]
    assert len(lines) == 1
    x = np.asarray(lines[0].get_xdata(), dtype="datetime64[ns]")
    y = np.asarray(lines[0].get_ydata(), dtype=float)
    drawn = x[np.isfinite(y)]
    assert len(drawn) == 2 * len(windows) and np.isnan(y).sum() == len(windows) - 1
    for t in drawn:
        assert any(a <= t <= b for a, b in windows), t
    months = drawn.astype("datetime64[M]").astype(int) % 12 + 1
    assert set(months.tolist()) <= {6, 9}                 # 1 June to 1 September (exclusive end)
    # the level is the clause's requirement over its window, as a flow
    for a, b, q in limit_segments(ds, c):
        req = float(ds["clause_required"].values[[w for w, (s, _) in enumerate(windows) if s == a][0], c])
        assert q == pytest.approx(req / (float((b - a) / np.timedelta64(1, "D")) * 0.0864))


def test_the_long_run_deliveries_show_a_seasonal_cycle_and_annual_totals():
    """More than 36 months: twelve months of the mean water year (with the range over
    the years) beside one bar per water year whose stacks are the annual deliveries."""
    from waterdesk.analysis.report import Page, fig_deliveries
    from waterdesk.i18n import catalogue

    scenario = wd.load_scenario(ROOT / "scenarios" / "chu-talas" / "baseline.toml").replace(end="2004-09-30")
    ds = wd.run(scenario)
    fig = fig_deliveries(ds, Page(catalogue("en")))
    cycle, annual = fig.axes[:2]
    kg = cycle.get_lines()[0]
    assert len(kg.get_xdata()) == 12
    supplied = ds["withdrawal_by_country"].sel(country="KG")
    october = supplied.values[ds["time"].dt.month.values == 10]
    assert kg.get_ydata()[0] == pytest.approx(october.mean())
    bars = [p for p in annual.patches]
    assert len(bars) == 4 * ds.sizes["country"]          # 4 water years x countries, stacked
    kg_years = [p.get_height() for p in bars[:4]]
    wy = np.where(ds["time"].dt.month.values >= 10, ds["time"].dt.year.values + 1, ds["time"].dt.year.values)
    assert kg_years == pytest.approx([float(supplied.values[wy == y].sum()) for y in range(2001, 2005)])


def test_both_languages_open_in_chromium_and_print_to_a4_pdf(results, tmp_path):
    """The page in each language loads in headless Chromium and prints to A4 PDF pages
    whose right and bottom margins stay blank (nothing cut off); the PDF has the language's
    own headings."""
    chromium = _chromium()
    tools = [shutil.which(t) for t in ("pdftoppm", "pdfinfo", "pdftotext")]
    if chromium is None or None in tools:
        pytest.skip("needs Debian's chromium and poppler-utils (apt-get install -y chromium poppler-utils)")
    from PIL import Image

    for lang, heading, words in (("en", "waterdesk report", "Ledger per party"),
                                 ("ru", "Отчёт waterdesk", "Баланс сторон")):
        page = report(results, tmp_path / f"{lang}.html", lang=lang)
        profile = tmp_path / f"profile-{lang}"
        profile.mkdir()
        pdf = tmp_path / f"{lang}.pdf"
        proc = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
                               f"--print-to-pdf={pdf}", page.resolve().as_uri()],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0 and pdf.exists(), proc.stderr[-2000:]
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())
        assert (round(width), round(height)) in ((595, 842), (594, 842))        # A4
        pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
        assert 3 <= pages <= 30
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
        assert heading in text and words in text
        subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / f"p-{lang}")], check=True)
        images = sorted(tmp_path.glob(f"p-{lang}*.png"))
        assert len(images) == pages
        inked = 0
        for image in images:
            grey = np.asarray(Image.open(image).convert("L"), dtype=float)
            h, w = grey.shape
            # the page margins (11-12 mm of 210 x 297 mm) are blank: nothing runs off the sheet
            assert grey[:, int(w * 0.965):].min() > 200, f"{image.name}: ink in the right margin"
            assert grey[int(h * 0.975):, :].min() > 200, f"{image.name}: ink in the bottom margin"
            inked += int((grey < 220).sum() > 1000)
        assert inked == pages                                                    # no blank page
