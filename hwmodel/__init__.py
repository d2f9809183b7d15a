"""Hardware side of pns-hwcost: RTL simulation, 45 nm cells, per-op costs, SRAM, cost model."""

__all__: list[str] = []
