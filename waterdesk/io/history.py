"""Where a basin's historical inflows are: the file the stochastic generator
(`waterdesk.generate`) fits its statistics to."""
from __future__ import annotations

from pathlib import Path

from waterdesk.errors import InputError, Problem

__all__ = ["find_basin_inflows"]


def find_basin_inflows(basin: str | Path) -> Path:
    """The historical inflow file of a basin given as a directory, a ``basin.toml``, an
    inflow NetCDF, or a shipped basin's name (``basins/<name>`` here, else in the
    waterdesk checkout)."""
    import tomllib

    path = Path(basin)
    if not path.exists() and len(path.parts) == 1:
        for root in (Path.cwd(), Path(__file__).resolve().parents[2]):
            if (root / "basins" / path).is_dir():
                path = root / "basins" / path
                break
    if path.is_dir():
        path = path / "basin.toml" if (path / "basin.toml").exists() else path / "inflows.nc"
    if path.suffix == ".toml" and path.exists():
        try:
            info = tomllib.loads(path.read_text("utf-8")).get("basin", {})
        except tomllib.TOMLDecodeError as err:
            raise InputError([Problem(path, None, "basin", f"cannot read: {err}")]) from None
        return path.parent / str(info.get("inflows", "inflows.nc"))
    if not path.exists():
        raise InputError([Problem(Path(str(basin)), None, "basin",
                                  "not a basin directory, basin.toml, inflow file or shipped basin name")])
    return path
