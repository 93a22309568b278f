"""Property tests of the quantity parser and the schema reader (hypothesis).

Deterministic profile: ``derandomize=True`` (examples derived from the test, no example
database), 50 examples per test, no deadline (the first call may load numba caches).
"""

from __future__ import annotations

import copy
import math
import string

import pytest
from conftest import HH_CABLE_TOML
from hypothesis import given, settings
from hypothesis import strategies as st

from neurosim.channels import get_mechanism
from neurosim.modelfile import REQUIRED, load_toml, read_table
from neurosim.simulate.load import (
    MODEL_FIELDS,
    PROTOCOL_FIELDS,
    SECTION_FIELDS,
    STIMULUS_FIELDS,
)
from neurosim.units import DIMENSIONS, INTERNAL, UNITS, format_quantity, parse_quantity

DETERMINISTIC = settings(derandomize=True, max_examples=50, deadline=None, database=None)

# |x| <= 1e300 keeps x * factor finite for every unit (largest factor: 1 h = 3.6e6 ms);
# normal floats only (>= 1e-300) so that 12 significant digits identify the value
finite = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False, allow_infinity=False)
normal = finite.filter(lambda x: x == 0.0 or abs(x) >= 1e-300)
dimension = st.sampled_from(DIMENSIONS)
keys = st.from_regex(r"[a-z][a-z_]{0,8}(\.[a-z][a-zA-Z_]{0,8}){0,2}", fullmatch=True)
spaces = st.sampled_from(["", " ", "  ", "\t"])


@DETERMINISTIC
@given(x=normal, dim=dimension, key=keys)
def test_format_then_parse_round_trip(x, dim, key):
    text = format_quantity(x, dim)
    y = parse_quantity(text, dim, key)
    # format_quantity keeps 12 significant digits: a relative error of at most half a
    # unit in the 12th digit, 5e-12
    assert abs(y - x) <= 5e-12 * abs(x), (x, text, y)
    # ... and formatting is idempotent after one round trip (exactly)
    assert format_quantity(y, dim) == text


@DETERMINISTIC
@given(x=finite, data=st.data(), key=keys, sep=spaces, pad=spaces)
def test_any_finite_value_with_a_valid_unit_parses_to_value_times_factor(x, data, key, sep, pad):
    dim = data.draw(dimension)
    unit = data.draw(st.sampled_from(sorted(UNITS[dim])))
    if unit[:1].isdigit():
        sep = sep or " "  # "1.5" + "1" would read as the number 1.51
    text = f"{pad}{x!r}{sep if unit else ''}{unit}{pad}"
    # repr(x) reads back as x exactly, so the only rounding is the one multiplication
    assert parse_quantity(text, dim, key) == x * UNITS[dim][unit]


@DETERMINISTIC
@given(x=finite)
def test_bare_numbers_only_for_dimensionless(x):
    assert parse_quantity(x, "dimensionless", "k") == x
    with pytest.raises(ValueError, match="`k` = .* has no unit"):
        parse_quantity(x, "length", "k")


unit_text = st.text(
    alphabet=string.ascii_letters + string.digits + "/*^_%.", min_size=1, max_size=8
)


@DETERMINISTIC
@given(x=finite, data=st.data(), key=keys)
def test_an_unknown_unit_raises_naming_the_key(x, data, key):
    dim = data.draw(dimension)
    unit = data.draw(unit_text.filter(lambda u: u not in UNITS[dim]))
    with pytest.raises(ValueError) as info:
        parse_quantity(f"{x!r} {unit}", dim, key)
    assert f"`{key}`" in str(info.value)


@DETERMINISTIC
@given(dim=dimension, key=keys, bad=st.sampled_from(["nan", "inf", "-inf", "+inf", "NaN", "-INF"]))
def test_non_finite_numbers_raise_naming_the_key(dim, key, bad):
    text = f"{bad} {INTERNAL[dim]}".strip()
    with pytest.raises(ValueError, match=f"`{key}`.*not finite"):
        parse_quantity(text, dim, key)


def test_infinity_spelled_out_is_reported_as_not_finite():
    # ENGINE BUG (neurosim/units.py, _QUANTITY): the alternation "nan|inf|infinity|..."
    # matches "inf" first, so "infinity" is never taken as a number: "Infinity mV" is
    # refused, but as "unit 'inity mV' is not a voltage unit". Listing "infinity" before
    # "inf" makes the message "... is not finite" as for "inf mV".
    with pytest.raises(ValueError, match="`v` = 'Infinity mV' is not finite"):
        parse_quantity("Infinity mV", "voltage", "v")


# --------------------------------------------------------------------------- read_table


def _tables() -> list[tuple[str, dict, dict, bool]]:
    """(where, valid table, schema, partial) for every table of the shipped HH model."""
    cfg = load_toml(HH_CABLE_TOML)
    protocol = {k: v for k, v in cfg["protocol"].items() if k != "stimulus"}
    return [
        ("model", cfg["model"], MODEL_FIELDS, False),
        ("morphology", cfg["morphology"], SECTION_FIELDS, False),
        ("mechanisms.hh", cfg["mechanisms"]["hh"], get_mechanism("hh").schema(), True),
        ("protocol", protocol, PROTOCOL_FIELDS, False),
        ("protocol.stimulus[0]", cfg["protocol"]["stimulus"][0], STIMULUS_FIELDS, False),
    ]


TABLES = _tables()
junk = st.one_of(
    st.text(max_size=10),
    st.floats(allow_nan=True),
    st.integers(),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@DETERMINISTIC
@given(data=st.data(), extra=st.text(min_size=1, max_size=12), value=junk)
def test_read_table_never_returns_for_a_table_with_an_extra_key(data, extra, value):
    where, table, fields, partial = data.draw(st.sampled_from(TABLES))
    if extra in fields:
        extra = extra + "_x"
    # drop some optional keys: the table stays valid without the extra key ...
    drop = data.draw(st.sets(st.sampled_from(sorted(table))))
    base = {
        k: v
        for k, v in table.items()
        if k not in drop or (not partial and fields[k].default is REQUIRED)
    }
    read_table(copy.deepcopy(base), fields, where, partial=partial)
    # ... and is refused with it, whatever its value
    with pytest.raises(ValueError) as info:
        read_table({**base, extra: value}, fields, where, partial=partial)
    msg = str(info.value)
    assert repr(extra) in msg and f"[{where}]" in msg, msg


@DETERMINISTIC
@given(data=st.data())
def test_read_table_returns_every_schema_key_in_internal_units(data):
    where, table, fields, partial = data.draw(st.sampled_from([t for t in TABLES if not t[3]]))
    out = read_table(table, fields, where)
    assert set(out) == set(fields)
    for k, f in fields.items():
        if f.kind in UNITS and k in table:
            assert math.isfinite(out[k]) and f.lo <= out[k] <= f.hi
