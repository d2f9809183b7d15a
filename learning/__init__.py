"""Learning side of pns-hwcost: partial-network-sharing incremental training and training traces."""

__all__: list[str] = []
