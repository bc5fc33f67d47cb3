"""Domain objects of a basin: nodes, reservoirs, demands, reaches. Never opens a file."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Node:
    """A point of the network. `kind` is the word used in the basin file."""

    id: str
    kind: str
    country: str
    name: str = ""


@dataclass(frozen=True)
class Inflow(Node):
    """Where external (natural) inflow enters, from the inflow data."""

    salinity_mg_l: tuple[float, ...] | None = None    # 12 monthly values [mg L-1]


@dataclass(frozen=True)
class Junction(Node):
    """A confluence or offtake point."""


@dataclass(frozen=True)
class Gauge(Node):
    """A measuring point, e.g. a border gauge; passes water unchanged."""


@dataclass(frozen=True)
class Sink(Node):
    """Where water leaves the network (sea, lake, terminal basin)."""


@dataclass(frozen=True)
class Reservoir(Node):
    """A storage with optional hydropower."""

    capacity_mcm: float = 0.0
    dead_storage_mcm: float = 0.0
    initial_storage_mcm: float = 0.0
    area_curve: tuple[tuple[float, float], ...] = ()
    evaporation_mm: tuple[float, ...] = (0.0,) * 12
    installed_mw: float | None = None
    turbine_max_m3s: float | None = None
    efficiency: float | None = None
    head_curve: tuple[tuple[float, float], ...] | None = None
    outlet_max_m3s: float | None = None
    energy_target_gwh: tuple[float, ...] | None = None
    energy_priority: int | None = None
    #: operating rules (docs/DESIGN.md "Reservoir operation"): end-of-month target storage,
    #: Jan..Dec, served at target_priority; buffer level (12 monthly values) below which the
    #: release of stored water is limited to buffer_coefficient of the storage above dead
    #: storage per step; release wanted as a function of storage, [[storage_mcm, release_m3s]]
    target_storage_mcm: tuple[float, ...] | None = None
    target_priority: int | None = None
    buffer_mcm: tuple[float, ...] | None = None
    buffer_coefficient: float | None = None
    release_curve: tuple[tuple[float, float], ...] | None = None
    initial_salinity_mg_l: float | None = None

    @property
    def has_hydropower(self) -> bool:
        return self.installed_mw is not None


@dataclass(frozen=True)
class Demand(Node):
    """A water user: delivered water leaves, except the non-consumed part."""

    sector: str = "irrigation"
    priority: int = 1
    monthly_mcm: tuple[float, ...] = (0.0,) * 12
    consumptive_fraction: float = 1.0
    return_to: str | None = None
    return_salinity_mg_l: float | None = None


NODE_CLASSES: dict[str, type[Node]] = {
    "inflow": Inflow,
    "junction": Junction,
    "gauge": Gauge,
    "sink": Sink,
    "reservoir": Reservoir,
    "demand": Demand,
}


@dataclass(frozen=True)
class Reach:
    """A river or canal from one node to another, with routing and losses."""

    id: str
    from_node: str
    to_node: str
    kind: str = "river"
    routing: str = "none"
    k_days: float = 0.0
    x: float = 0.2
    loss_fraction: float = 0.0
    max_flow_m3s: float | None = None


@dataclass(frozen=True)
class Basin:
    """A river basin: its countries, nodes and reaches."""

    name: str
    countries: tuple[str, ...]
    nodes: tuple[Node, ...]
    reaches: tuple[Reach, ...]
    title: str = ""
    description: str = ""
    path: Path | None = None
    inflows_path: Path | None = None
    node_index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.node_index.update({n.id: i for i, n in enumerate(self.nodes)})

    def node(self, node_id: str) -> Node:
        return self.nodes[self.node_index[node_id]]

    @property
    def reservoirs(self) -> list[Reservoir]:
        return [n for n in self.nodes if isinstance(n, Reservoir)]

    @property
    def demands(self) -> list[Demand]:
        return [n for n in self.nodes if isinstance(n, Demand)]
