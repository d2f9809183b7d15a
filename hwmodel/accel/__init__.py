"""Training-accelerator back-end: an architecture (PE array, buffers, DRAM) as data, every
training phase of a trace lowered to GEMMs, mapped (dataflow, tiling, loop order) and simulated
cycle by cycle or in closed form; energy per level from the characterized units and memories."""
