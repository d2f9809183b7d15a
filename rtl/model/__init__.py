"""Bit-exact Python reference models of the RTL units (numpy, vectorised)."""
