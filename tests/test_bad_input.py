"""Bad input fails loudly and early, naming the key and the value (DESIGN.md contract).

Every case checks the exception type and that the message names the offending key and
value; nothing here runs a simulation to completion.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import HH_CABLE_TOML

from neurosim import cli
from neurosim.channels import get_mechanism
from neurosim.modelfile import load_toml
from neurosim.morphology import Morphology, Section
from neurosim.simulate import CableModel, CableSimulation, Stimulus, compile_batch
from neurosim.simulate.load import load_config

HH = get_mechanism("hh")


@pytest.fixture(scope="module")
def cfg() -> dict:
    """models/cable/hh_cable.toml as parsed TOML (each test edits a deep copy)."""
    return load_toml(HH_CABLE_TOML)


def _edit(cfg: dict, dotted: str, value) -> dict:
    out = copy.deepcopy(cfg)
    *path, last = dotted.split(".")
    node = out
    for part in path:
        node = node[part]
    node[last] = value
    return out


def _esc(text: str) -> str:
    return re.escape(text)


# --------------------------------------------------------------------------- geometry

BAD_NUMBERS = [(-1.0, "-1"), (0.0, "0"), (math.nan, "nan"), (math.inf, "inf")]
GEOMETRY_KEYS = {"L": "um", "diam": "um", "Ra": "ohm*cm", "cm": "uF/cm2"}


@pytest.mark.parametrize(("value", "shown"), BAD_NUMBERS)
@pytest.mark.parametrize("key", GEOMETRY_KEYS)
def test_section_refuses_bad_geometry(key, value, shown):
    kw = {"L": 100.0, "diam": 2.0, "Ra": 100.0, "cm": 1.0, key: value}
    # the value may carry a prefix (see test_non_finite_values_are_shown_as_numbers)
    with pytest.raises(ValueError, match=_esc(f"`section 'axon'.{key}` = ") + r"\S*" + shown):
        Section("axon", nseg=3, **kw)


def test_section_refuses_a_bad_diameter_element():
    with pytest.raises(ValueError, match=r"`section 'axon'\.diam` = \S*nan\S* um at index \(1,\)"):
        Section("axon", L=100.0, diam=np.array([2.0, np.nan, 2.0]), nseg=3)


def test_non_finite_values_are_shown_as_numbers():
    # ENGINE BUG (neurosim/validate.py, check_finite): the message formats a numpy scalar
    # with !r, which NumPy >= 2 prints as "np.float64(nan)"; the user should read "nan"
    # as every other message shows values (`{float(first)!r}` or `{first:g}` fixes it)
    with pytest.raises(ValueError) as info:
        Section("axon", L=math.nan, diam=2.0)
    assert "`section 'axon'.L` = nan um is not finite" in str(info.value)


# model files: the value is given with a unit and reported converted to the internal unit
MODELFILE_GEOMETRY = {
    "L": [("-1 mm", "-1000 um is out of range"), ("0 um", "0 um is out of range")],
    "diam": [("-10 um", "-10 um is out of range"), ("0 mm", "0 um is out of range")],
    "Ra": [("-100 ohm*cm", "-100 ohm*cm is out of range"), ("0 ohm*cm", "0 ohm*cm is out")],
    "cm": [("-1 uF/cm2", "-1 uF/cm2 is out of range"), ("0 uF/cm2", "0 uF/cm2 is out")],
}
MODELFILE_CASES = [
    (key, text, msg)
    for key, cases in MODELFILE_GEOMETRY.items()
    for text, msg in [
        *cases,
        (f"nan {GEOMETRY_KEYS[key]}", f"'nan {GEOMETRY_KEYS[key]}' is not finite"),
        (f"inf {GEOMETRY_KEYS[key]}", f"'inf {GEOMETRY_KEYS[key]}' is not finite"),
    ]
]


@pytest.mark.parametrize(("key", "text", "msg"), MODELFILE_CASES)
def test_model_file_refuses_bad_geometry(cfg, key, text, msg):
    with pytest.raises(ValueError, match=_esc(f"`morphology.{key}` = {msg}")):
        load_config(_edit(cfg, f"morphology.{key}", text))


# --------------------------------------------------------------------------- time grid


@pytest.mark.parametrize(
    ("dt", "msg"),
    [
        ("0 ms", "`protocol.dt` = 0 ms is out of range; allowed (0, 1] ms"),
        ("-25 us", "`protocol.dt` = -0.025 ms is out of range"),
        ("2 ms", "`protocol.dt` = 2 ms is out of range; allowed (0, 1] ms"),
        ("nan ms", "`protocol.dt` = 'nan ms' is not finite"),
    ],
)
def test_model_file_refuses_bad_dt(cfg, dt, msg):
    with pytest.raises(ValueError, match=_esc(msg)):
        load_config(_edit(cfg, "protocol.dt", dt))


@pytest.mark.parametrize(
    ("dt", "msg"),
    [
        (0.0, "`protocol.dt` = 0 ms is out of range"),
        (-0.025, "`protocol.dt` = -0.025 ms is out of range"),
        (1.25, "`protocol.dt` = 1.25 ms is out of range; allowed (0, 1] ms"),
    ],
)
def test_protocol_refuses_bad_dt(hh_cable, dt, msg):
    p = dataclasses.replace(hh_cable.protocol, dt=dt)
    with pytest.raises(ValueError, match=_esc(msg)):
        CableSimulation(hh_cable.model, p)


def test_dt_longer_than_a_pulse(cfg):
    bad = _edit(cfg, "protocol.dt", "0.5 ms")  # the pulse lasts 0.5 ms ...
    bad["protocol"]["stimulus"][0]["dur"] = "0.2 ms"  # ... now 0.2 ms
    with pytest.raises(
        ValueError,
        match=_esc("`protocol.stimulus[0].dur` = 0.2 ms is shorter than `protocol.dt` = 0.5 ms"),
    ):
        load_config(bad)


def test_tstop_not_a_multiple_of_dt(cfg):
    with pytest.raises(
        ValueError,
        match=_esc("`protocol.tstop` = 50.01 ms is not a whole number of steps of `protocol.dt`"),
    ):
        load_config(_edit(cfg, "protocol.tstop", "50.01 ms"))


# --------------------------------------------------------------------------- sites


@pytest.mark.parametrize(
    ("site", "msg"),
    [
        ("cable(1.5)", "site 'cable(1.5)': x = 1.5 is outside the section; allowed [0, 1]"),
        ("cable(-0.1)", "site 'cable(-0.1)': x = -0.1 is outside the section"),
        ("axon(0.5)", "no section named 'axon'; sections: cable"),
        ("cable[0.5]", "site 'cable[0.5]' is not of the form"),
    ],
)
@pytest.mark.parametrize("where", ["stimulus", "record", "cv"])
def test_sites_outside_the_cable(cfg, where, site, msg):
    if where == "stimulus":
        bad = copy.deepcopy(cfg)
        bad["protocol"]["stimulus"][0]["site"] = site
    elif where == "record":
        bad = _edit(cfg, "protocol.record", ["cable(0.5)", site])
    else:
        bad = _edit(cfg, "protocol.cv", ["cable(0.5)", site])
    with pytest.raises(ValueError, match=_esc(msg)):
        load_config(bad)


def test_api_stimulus_site_outside_the_cable(hh_cable):
    p = dataclasses.replace(hh_cable.protocol, stimuli=(Stimulus("cable(2)", 1.0, 0.5, 1.0),))
    with pytest.raises(ValueError, match=_esc("site 'cable(2)': x = 2.0 is outside")):
        CableSimulation(hh_cable.model, p)


# --------------------------------------------------------------------------- model-file keys

UNKNOWN_KEY_TABLES = {
    "model": "[model]",
    "morphology": "[morphology]",
    "mechanisms.hh": "[mechanisms.hh]",
    "protocol": "[protocol]",
    "protocol.stimulus[0]": "[protocol.stimulus[0]]",
}


@pytest.mark.parametrize("table", UNKNOWN_KEY_TABLES)
def test_unknown_key_in_every_table(cfg, table):
    bad = copy.deepcopy(cfg)
    if table == "protocol.stimulus[0]":
        bad["protocol"]["stimulus"][0]["amplitude"] = "20 nA"
    else:
        node = bad
        for part in table.split("."):
            node = node[part]
        node["amplitude"] = "20 nA"
    with pytest.raises(
        ValueError, match=_esc(f"unknown key(s) 'amplitude' in {UNKNOWN_KEY_TABLES[table]}")
    ):
        load_config(bad)


def test_unknown_top_level_table(cfg):
    bad = _edit(cfg, "stimuli", {"amp": "1 nA"})
    with pytest.raises(ValueError, match=_esc("unknown table(s) 'stimuli'")):
        load_config(bad)


@pytest.mark.parametrize(
    ("key", "value", "msg"),
    [
        ("morphology.L", 10000, "`morphology.L` = 10000 has no unit"),
        ("morphology.L", "10000", "`morphology.L` = '10000' has no unit"),
        ("mechanisms.hh.gnabar", 0.12, "`mechanisms.hh.gnabar` = 0.12 has no unit"),
        ("model.celsius", "6.3", "`model.celsius` = '6.3' has no unit"),
        ("protocol.tstop", 50, "`protocol.tstop` = 50 has no unit"),
    ],
)
def test_missing_units(cfg, key, value, msg):
    with pytest.raises(ValueError, match=_esc(msg)):
        load_config(_edit(cfg, key, value))


@pytest.mark.parametrize(
    ("key", "value", "msg"),
    [
        ("morphology.L", "10 mV", "`morphology.L` = '10 mV': unit 'mV' is not a length unit"),
        ("morphology.diam", "10 furlong", "`morphology.diam` = '10 furlong': unit 'furlong'"),
        ("mechanisms.hh.gnabar", "0.12 S", "`mechanisms.hh.gnabar` = '0.12 S': unit 'S'"),
        ("mechanisms.hh.ena", "50 nA", "`mechanisms.hh.ena` = '50 nA': unit 'nA' is not a voltage"),
        ("model.celsius", "300 K", "`model.celsius` = '300 K': unit 'K'"),
        ("protocol.dt", "25 um", "`protocol.dt` = '25 um': unit 'um' is not a time unit"),
    ],
)
def test_wrong_units(cfg, key, value, msg):
    with pytest.raises(ValueError, match=_esc(msg)):
        load_config(_edit(cfg, key, value))


def test_stimulus_amplitude_without_unit(cfg):
    bad = copy.deepcopy(cfg)
    bad["protocol"]["stimulus"][0]["amp"] = 20
    with pytest.raises(ValueError, match=_esc("`protocol.stimulus[0].amp` = 20 has no unit")):
        load_config(bad)


@pytest.mark.parametrize(
    ("table", "msg"),
    [
        ({"kv": {"gkbar": "0.1 S/cm2"}}, "unknown mechanism 'kv'; valid: "),
        ({"fast": {"mechanism": "hhh"}}, "unknown mechanism 'hhh'; valid: "),
    ],
)
def test_unknown_mechanism(cfg, table, msg):
    with pytest.raises(ValueError, match=_esc(msg)):
        load_config(_edit(cfg, "mechanisms", table))


def test_unknown_mechanism_parameter(cfg):
    with pytest.raises(ValueError, match=_esc("unknown key(s) 'gnabr' in [mechanisms.hh]")):
        load_config(_edit(cfg, "mechanisms.hh.gnabr", "0.1 S/cm2"))


def test_mechanism_parameter_out_of_range(cfg):
    with pytest.raises(ValueError, match=_esc("`mechanisms.hh.gnabar` = -0.12 S/cm2 is out of")):
        load_config(_edit(cfg, "mechanisms.hh.gnabar", "-0.12 S/cm2"))


# --------------------------------------------------------------------------- temperature


@pytest.mark.parametrize("celsius", ["-1 degC", "45.5 degC", "100 degC"])
def test_model_file_temperature_range(cfg, celsius):
    shown = celsius.split()[0]
    with pytest.raises(
        ValueError, match=_esc(f"`model.celsius` = {shown} degC is out of range; allowed [0, 45]")
    ):
        load_config(_edit(cfg, "model.celsius", celsius))


@pytest.mark.parametrize("celsius", [-0.5, 46.0, math.nan])
def test_model_temperature_range(hh_cable, celsius):
    shown = r"\S*nan\S* degC is not finite" if math.isnan(celsius) else f"{celsius:g} degC is out"
    with pytest.raises(ValueError, match="`celsius` = " + shown):
        CableModel("m", hh_cable.model.morphology, celsius=celsius)


def test_batch_temperature_range(hh_cable):
    with pytest.raises(ValueError, match=_esc("`celsius` = 50 degC at index (1,) is out of range")):
        compile_batch(hh_cable.model, {"celsius": [6.3, 50.0, 20.0]})


# --------------------------------------------------------------------------- batches


def test_unknown_batch_key(hh_cable):
    with pytest.raises(
        ValueError, match=_esc("unknown batch key 'hh.gnabr' for model 'hh_cable'; valid: ")
    ):
        compile_batch(hh_cable.model, {"hh.gnabr": [0.1, 0.2]})


def test_batch_value_out_of_range(hh_cable):
    with pytest.raises(ValueError, match=_esc("`hh.gnabar` = -0.1 at index (1, 0) is out of")):
        compile_batch(hh_cable.model, {"hh.gnabar": [0.1, -0.1]})


def test_batch_arrays_of_mismatched_lengths_name_the_keys(hh_cable):
    # ENGINE BUG (neurosim/simulate/model.py, compile_batch): DESIGN.md says an error
    # names the key and the value, but this one reads "batch values must all be arrays
    # of one length B; got lengths [2, 3]": which key has which length is not said
    with pytest.raises(ValueError, match=r"hh\.gnabar.*celsius|celsius.*hh\.gnabar"):
        compile_batch(hh_cable.model, {"hh.gnabar": [0.1, 0.12], "celsius": [6.3, 10.0, 20.0]})


def test_batch_length_differs_from_model_list(hh_cable):
    with pytest.raises(
        ValueError, match=_esc("batch key 'hh.gnabar' has shape (2,); expected (3,)")
    ):
        compile_batch([hh_cable.model] * 3, {"hh.gnabar": [0.1, 0.12]})


def test_stimulus_amplitudes_of_wrong_length(hh_cable):
    stim = dataclasses.replace(hh_cable.protocol.stimuli[0], amp=np.array([1.0, 2.0]))
    p = dataclasses.replace(hh_cable.protocol, stimuli=(stim,))
    with pytest.raises(
        ValueError,
        match=_esc("`protocol.stimulus[0].amp` has shape (2,); expected a scalar or (3,)"),
    ):
        CableSimulation(hh_cable.model, p, batch={"hh.gnabar": [0.1, 0.12, 0.14]})


def test_protocol_must_be_a_protocol(hh_cable):
    with pytest.raises(TypeError, match=_esc("`protocol` must be a Protocol, got dict")):
        CableSimulation(hh_cable.model, {"tstop": 10.0})


def test_mechanism_value_array_of_wrong_shape():
    model = CableModel("m", Morphology([Section("axon", L=100.0, diam=2.0, nseg=4)]))
    with pytest.raises(ValueError, match=_esc("`hh.gnabar` has shape (3,); expected a scalar")):
        model.insert(HH, gnabar=np.array([0.1, 0.1, 0.1]))


# --------------------------------------------------------------------------- CLI

CLI_BAD = [
    ("morphology.L=-1mm", "`morphology.L` = -1000 um is out of range"),
    ("morphology.diam='10 mV'", "unit 'mV' is not a length unit"),
    ("protocol.dt='2 ms'", "`protocol.dt` = 2 ms is out of range"),
    ("model.celsius='50 degC'", "`model.celsius` = 50 degC is out of range"),
    ("mechanisms.hh.bogus='1 mV'", "unknown key(s) 'bogus' in [mechanisms.hh]"),
]


@pytest.mark.parametrize(("setting", "msg"), CLI_BAD)
def test_cli_reports_bad_input_with_exit_code_2(capsys, setting, msg):
    code = cli.main(["simulate", str(HH_CABLE_TOML), "--set", setting])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.startswith("neurosim simulate: error: ")
    assert msg in err


def test_cli_exit_code_in_a_real_process():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "neurosim.cli",
            "simulate",
            str(HH_CABLE_TOML),
            "--set",
            "morphology.L=0um",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "`morphology.L` = 0 um is out of range" in proc.stderr
    assert proc.stdout == ""


def test_cli_missing_model_file(capsys, tmp_path):
    missing = tmp_path / "nope.toml"
    assert cli.main(["simulate", str(missing)]) == 2
    assert f"model file {str(missing)!r} does not exist" in capsys.readouterr().err
