"""``python -m hwmodel.report``: the main job (see :mod:`hwmodel.report.__main__`)."""
