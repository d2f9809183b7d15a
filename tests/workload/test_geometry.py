"""Loop-nest geometry of conv/linear rows: recorded from the module ('same'/'valid' and any
padding_mode resolved), consistent with the MAC columns, surviving CSV/Parquet/JSON, and parsed
by workload.geometry.geometry with one-line errors for rows without one."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from workload import GEOMETRY_COLUMNS, TraceResult, WorkloadError, trace_training, validate
from workload.geometry import ConvGeometry, geometry, has_geometry
from workload.io import write_table
from workload.recorder import module_geometry
from workload.schema import GEOMETRY_KINDS, REQUIRED_COLUMNS, column

torch.set_num_threads(1)

B, INPUT = 2, (4, 13, 17)


class _Geo(nn.Module):
    """Strided/padded/grouped/dilated conv, 'same' conv with an even kernel and replicate
    padding, conv1d, a linear on tokens (B x T x C) and a plain linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 6, (3, 5), stride=(2, 3), padding=(1, 2), dilation=(2, 1),
                              groups=2)
        self.same = nn.Conv2d(6, 6, (4, 3), padding="same", dilation=(1, 2), groups=3,
                              padding_mode="replicate")
        self.act = nn.ReLU()
        self.c1 = nn.Conv1d(6, 4, 3, stride=2, padding=1, dilation=2)
        self.tok = nn.Linear(4, 5)
        self.fc = nn.Linear(5, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.same(self.conv(x)))  # 2x6x6x6
        x = self.c1(x.flatten(2))  # 2x6x36 -> 2x4x17
        x = self.tok(x.transpose(1, 2))  # 2x17x4 -> 2x17x5
        return self.fc(x.mean(1))


EXPECTED = {  # layer -> (kh, kw, sh, sw, ph, pw, dh, dw, groups)
    "conv": (3, 5, 2, 3, 1, 2, 2, 1, 2),
    "same": (4, 3, 1, 1, 1, 2, 1, 2, 3),  # 'same': dilation x (kernel - 1) // 2 top/left
    "c1": (1, 3, 1, 2, 0, 1, 1, 2, 1),
    "tok": (1, 1, 1, 1, 0, 0, 1, 1, 1),
    "fc": (1, 1, 1, 1, 0, 0, 1, 1, 1),
}


@pytest.fixture(scope="module")
def traced() -> TraceResult:
    torch.manual_seed(0)
    return trace_training(_Geo(), INPUT, B)


def test_geometry_columns_are_recorded_from_the_module(traced) -> None:
    df = traced.df.set_index("layer")
    assert list(traced.df.columns[-len(GEOMETRY_COLUMNS):]) == list(GEOMETRY_COLUMNS)
    for c in GEOMETRY_COLUMNS:
        assert traced.df[c].dtype == "int64" and not column(c).required, c
    for layer, want in EXPECTED.items():
        assert tuple(int(v) for v in df.loc[layer, list(GEOMETRY_COLUMNS)]) == want, layer
    others = traced.df[~traced.df["layer"].isin(EXPECTED)]
    assert {"act", "loss"} <= set(others["layer"])
    assert (others[list(GEOMETRY_COLUMNS)] == 0).all().all()
    assert list(has_geometry(traced.df)) == list(traced.df["layer"].isin(EXPECTED))
    validate(traced.df)
    assert not set(GEOMETRY_COLUMNS) & set(traced.by("kind").columns)  # sizes are not summed


def test_strided_padded_grouped_dilated_conv_macs_follow_the_geometry(traced) -> None:
    df = traced.df.set_index("layer")
    r = df.loc["conv"]
    b, cin, _, _ = (int(s) for s in r["input_shape"].split("x"))
    _, cout, ho, wo = (int(s) for s in r["output_shape"].split("x"))
    assert (b, cin, cout, ho, wo) == (B, 4, 6, 6, 6)
    macs = b * ho * wo * cout * (cin // r["groups"]) * r["kernel_h"] * r["kernel_w"]
    assert macs == 2 * 6 * 6 * 6 * 2 * 3 * 5
    assert r["fwd_macs"] == r["bwd_weight_macs"] == macs
    assert r["bwd_input_macs"] == 0  # first layer
    for layer in EXPECTED:
        g, row = geometry(df.loc[layer]), df.loc[layer]
        assert row["fwd_macs"] == row["bwd_weight_macs"] == g.macs, layer
        if layer != "conv":
            assert row["bwd_input_macs"] == g.macs, layer
    assert geometry(df.loc["conv"]).as_tuple() == (2, 4, 13, 17, 6, 6, 6, *EXPECTED["conv"])
    assert geometry(df.loc["c1"]).as_tuple() == (2, 6, 1, 36, 4, 1, 17, *EXPECTED["c1"])


def test_linear_rows_are_1x1_convolutions_over_tokens(traced) -> None:
    df = traced.df.set_index("layer")
    tok, fc = geometry(df.loc["tok"]), geometry(df.loc["fc"])
    assert df.loc["tok", "input_shape"] == "2x17x4"
    assert tok.as_tuple() == (B * 17, 4, 1, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1)
    assert fc.as_tuple() == (B, 5, 1, 1, 3, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1)
    assert df.loc["tok", "fwd_macs"] == B * 17 * 4 * 5 == tok.macs
    assert df.loc["fc", "fwd_macs"] == B * 5 * 3 == fc.macs


def test_explicit_padding_of_the_geometry_reproduces_the_module() -> None:
    """Pad top/left by (ph, pw) and bottom/right by pad_bottom/pad_right, then convolve
    without padding: the module's output exactly, 'same' and replicate padding included."""
    torch.manual_seed(0)
    net = _Geo()
    x = torch.randn(B, *INPUT)
    df = trace_training(_Geo(), INPUT, B).df.set_index("layer")
    h = net.conv(x)
    for mod, inp, layer, mode in ((net.conv, x, "conv", "constant"),
                                  (net.same, h, "same", "replicate")):
        g = geometry(df.loc[layer])
        assert min(g.pad_bottom, g.pad_right) >= 0
        padded = F.pad(inp, (g.pw, g.pad_right, g.ph, g.pad_bottom), mode=mode)
        ref = F.conv2d(padded, mod.weight, mod.bias, (g.sh, g.sw), 0, (g.dh, g.dw), g.groups)
        assert torch.allclose(ref, mod(inp), atol=1e-6), layer
    assert (geometry(df.loc["same"]).pad_bottom, geometry(df.loc["same"]).pad_right) == (2, 2)
    assert (geometry(df.loc["conv"]).pad_bottom, geometry(df.loc["conv"]).pad_right) == (1, 1)


@pytest.mark.parametrize("ext", ["csv", "parquet", "json"])
def test_geometry_round_trips_through_the_table_files(traced, tmp_path, ext: str) -> None:
    path = tmp_path / f"trace.{ext}"
    write_table(traced, str(path))
    back = {"csv": pd.read_csv, "parquet": pd.read_parquet,
            "json": lambda p: pd.read_json(p, orient="records")}[ext](path)
    assert list(back.columns) == list(traced.df.columns)
    for c in GEOMETRY_COLUMNS:
        assert back[c].dtype.kind == "i" and (back[c] == traced.df[c]).all(), c
    mask = has_geometry(back)
    assert list(mask) == list(has_geometry(traced.df))
    assert ([geometry(r) for _, r in back[mask].iterrows()]
            == [geometry(r) for _, r in traced.df[mask].iterrows()])


def _message(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and "fix:" in msg
    return msg


def test_rows_without_geometry_are_refused_in_one_line(traced) -> None:
    df = traced.df.set_index("layer", drop=False)
    with pytest.raises(WorkloadError, match="trace row 'act' \\(kind relu\\) has no loop-nest "
                                            "geometry") as e:
        geometry(df.loc["act"])
    assert "has_geometry(df)" in _message(e)
    old = traced.df.drop(columns=list(GEOMETRY_COLUMNS))  # a trace made before the columns
    validate(old, REQUIRED_COLUMNS)  # still costs: the geometry is not required
    assert not has_geometry(old).any()
    with pytest.raises(WorkloadError, match="trace row 'conv' has no column 'kernel_h'") as e:
        geometry(old.iloc[0])
    _message(e)
    hand = {"layer": "x", "kind": "conv2d", "input_shape": "4x8x8", "output_shape": "6x8x8",
            **dict(zip(GEOMETRY_COLUMNS, (3, 3, 1, 1, 1, 1, 1, 1, 4), strict=True))}
    with pytest.raises(WorkloadError, match="groups 4 does not divide input channels 4 and "
                                            "output channels 6") as e:
        geometry(hand)
    _message(e)
    with pytest.raises(WorkloadError, match="has stride_w 0") as e:
        geometry({**hand, "groups": 2, "stride_w": 0})
    _message(e)
    with pytest.raises(WorkloadError, match="input_shape 'abc' is not a shape") as e:
        geometry({**hand, "groups": 2, "input_shape": "abc"})
    _message(e)


def test_hand_made_rows_unbatched_conv_and_vector_linear() -> None:
    conv = {"layer": "x", "kind": "conv2d", "input_shape": "4x8x8", "output_shape": "6x8x8",
            **dict(zip(GEOMETRY_COLUMNS, (3, 3, 1, 1, 1, 1, 1, 1, 2), strict=True))}
    assert geometry(conv) == ConvGeometry(1, 4, 8, 8, 6, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 2)
    assert geometry(conv).cin_per_group == 2 and geometry(conv).cout_per_group == 3
    lin = {"layer": "y", "kind": "linear", "input_shape": "7", "output_shape": "3",
           **dict(zip(GEOMETRY_COLUMNS, (1, 1, 1, 1, 0, 0, 1, 1, 1), strict=True))}
    assert geometry(lin).as_tuple()[:7] == (1, 7, 1, 1, 3, 1, 1) and geometry(lin).macs == 21
    with pytest.raises(WorkloadError, match="differ in their leading dims"):
        geometry({**lin, "input_shape": "2x7", "output_shape": "3x3"})


class _MyConv(nn.Conv2d):
    """A subclass: its forward may compute anything, so no geometry is recorded."""


@pytest.mark.parametrize(("mod", "want"), [
    (nn.Conv2d(2, 4, 3, padding="valid"), (3, 3, 1, 1, 0, 0, 1, 1, 1)),
    (nn.Conv2d(2, 4, (2, 5), padding="same", dilation=(3, 1)), (2, 5, 1, 1, 1, 2, 3, 1, 1)),
    (nn.Conv2d(2, 4, 3, stride=2, padding=1, padding_mode="reflect"),
     (3, 3, 2, 2, 1, 1, 1, 1, 1)),
    (nn.Conv2d(2, 4, 3, padding=1, padding_mode="circular", groups=2),
     (3, 3, 1, 1, 1, 1, 1, 1, 2)),
    (nn.Conv1d(2, 4, 4, padding="same", dilation=3), (1, 4, 1, 1, 0, 4, 1, 3, 1)),
    (nn.Linear(3, 2, bias=False), (1, 1, 1, 1, 0, 0, 1, 1, 1)),
    (nn.ConvTranspose2d(2, 4, 3, stride=2), (0,) * 9),
    (nn.Conv3d(2, 4, 3), (0,) * 9),
    (_MyConv(2, 4, 3), (0,) * 9),
    (nn.BatchNorm2d(2), (0,) * 9),
])
def test_module_geometry(mod: nn.Module, want: tuple[int, ...]) -> None:
    assert module_geometry(mod) == want


def test_transposed_convolution_rows_carry_no_geometry() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.ConvTranspose2d(1, 2, 3, stride=2), nn.Flatten(),
                        nn.Linear(2 * 9 * 9, 3))
    df = trace_training(net, (1, 4, 4), 2).df.set_index("layer", drop=False)
    assert (df.loc["0", list(GEOMETRY_COLUMNS)] == 0).all() and df.loc["0", "fwd_macs"] > 0
    assert df.loc["0", "kind"] not in GEOMETRY_KINDS
    with pytest.raises(WorkloadError, match="kind convtranspose2d"):
        geometry(df.loc["0"])
    assert geometry(df.loc["2"]).macs == df.loc["2", "fwd_macs"]

