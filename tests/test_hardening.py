"""Property tests of the defences of issue 10 (the hostile corpus in tests/hostile runs the CLI):
the bounded template sandbox, the ``matches`` patterns against Python's ``re``, the config reader,
the number policy, and reading a file that fails."""

from __future__ import annotations

import errno
import math
import re
import time
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import TemplateError

from pmorules.analysis import load_rules
from pmorules.config import load_config
from pmorules.errors import InputError
from pmorules.inputs import read_input
from pmorules.numbers import MAX_MAGNITUDE, clean, number_problem
from pmorules.rules.regex import Pattern, PatternError
from pmorules.text import MESSAGE_ENV, MESSAGE_LIMITS, Budget, LimitError, Limits, render_under

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------- the sandbox

_LEAVES = ["1", "3", "9", "10**6", "10**9", "9**9", "'x'", "'ab'", "''", "[1, 2]", "range(100000)", "(range(1000)|list)"]
_BINARY = ["{} * {}", "{} ** {}", "{} + {}", "{} ~ {}", "'%0{}d' % {}", "{} // {}"]
_UNARY = [
    "{}|center(10**9)", "{}|string|center({})", "({}|string).ljust({})", "({}|string).replace('', ({}|string))",
    "{}|join('x' * 100000)", "{}|list|length", "({}|string).zfill({})", "'{{:>{}}}'.format({})", "{}|indent({})",
]


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> str:
    if depth >= 3 or draw(st.booleans()):
        return draw(st.sampled_from(_LEAVES))
    form = draw(st.sampled_from(_BINARY + _UNARY))
    parts = [draw(expressions(depth + 1)) for _ in range(form.count("{}"))]
    return "(" + form.format(*parts) + ")"


@st.composite
def templates(draw: st.DrawFn) -> str:
    body = "{{ " + draw(expressions()) + " }}"
    for _ in range(draw(st.integers(0, 2))):
        body = "{% for i in range(" + draw(st.sampled_from(["10", "1000", "100000"])) + ") %}" + body + "{% endfor %}"
    return body


@FUZZ
@given(templates())
def test_a_hostile_template_ends_quickly_within_its_limits(source: str) -> None:
    start = time.monotonic()
    try:
        out = MESSAGE_ENV.from_string(source).render({})
    except (TemplateError, TypeError, ValueError, ArithmeticError):
        out = ""
    assert time.monotonic() - start < MESSAGE_LIMITS.seconds + 5, source
    assert len(out) <= MESSAGE_LIMITS.output, source


@pytest.mark.parametrize(
    "source",
    ["{{ 9**(9**9) }}", "{{ 'x' * 10**10 }}", "{{ lipsum(10**8) }}", "{{ 'x'|center(10**9) }}",
     "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
     "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"],
)
def test_the_issue_s_templates_are_refused(source: str) -> None:
    with pytest.raises(TemplateError):
        MESSAGE_ENV.from_string(source).render({})


def test_a_budget_is_per_render_and_ordinary_templates_render() -> None:
    template = MESSAGE_ENV.from_string("{% for i in range(1000) %}{% for j in range(900) %}{% endfor %}{% endfor %}"
                                       "{{ n|num }} {{ p|pct }}")
    assert template.render({"n": 2.50, "p": 0.384}) == "2.5 38%"
    assert template.render({"n": 3, "p": 1}) == "3 100%"  # a fresh budget: 900,000 steps twice is fine
    with pytest.raises(LimitError):
        MESSAGE_ENV.from_string("{% for i in range(100000) %}{% for j in range(11) %}{% endfor %}{% endfor %}").render({})


def test_a_shared_budget_grows_per_render_but_one_render_cannot_multiply_it() -> None:
    floor, each = Limits(operations=10_000, output=100, built=10_000, seconds=10), Limits(1_000, 50, 1_000, 1.0)
    forty = MESSAGE_ENV.from_string("{{ 'x' * 40 }}")
    budget = Budget(floor, each)
    assert all(render_under(budget, forty, {}) == "x" * 40 for _ in range(1000))  # 40,000 characters in all
    sixty = MESSAGE_ENV.from_string("{{ 'x' * 60 }}")
    budget = Budget(floor, each)
    render_under(budget, sixty, {})  # within the floor
    with pytest.raises(LimitError, match="more than 100 characters"):
        render_under(budget, sixty, {})  # 120 written, 2 × 50 granted
    fixed = Budget(floor)  # without 'each' the caps stay where they are
    render_under(fixed, forty, {}), render_under(fixed, forty, {})
    with pytest.raises(LimitError, match="more than 100 characters"):
        render_under(fixed, forty, {})


# --------------------------------------------------------------------------- ``matches`` against re.fullmatch

_ATOMS = ["a", "b", ".", "[ab]", "[^a]", "[a-c]", "%", "\\.", "-", "(a|b)", "(ab)", "[%]", "[-a]", "\\\\", "[\\]a]", "ç",
          "\\^", "\\$", "()", "(|a)", "\n", "[^\n]", "\\-", "{", "]", "}", "^", "$", "\\d", "(?:a)", "[a-]", "[]a]", "x{,2}"]
_REPEATS = ["", "", "*", "+", "?", "{2}", "{1,3}", "{2,}", "{0,2}", "{0}", "*?", "++", "{3,1}"]
_TEXTS = st.text(alphabet="ab.%\n-ç^$]\\{}", max_size=8)


@st.composite
def patterns(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        atom = "(" + draw(patterns(depth + 1)) + ")" if depth < 3 and draw(st.integers(0, 3)) == 0 else draw(st.sampled_from(_ATOMS))
        parts.append(atom + draw(st.sampled_from(_REPEATS)))
    text = "".join(parts)
    return text + "|" + draw(patterns(depth + 1)) if depth < 3 and draw(st.integers(0, 4)) == 0 else text


@settings(max_examples=400, deadline=None)
@given(patterns(), st.lists(_TEXTS, max_size=12))
def test_a_pattern_matches_as_python_reads_it_or_is_refused(pattern: str, texts: list[str]) -> None:
    try:
        ours = Pattern(pattern)
    except PatternError:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        python = re.compile(pattern)  # what we accept, Python accepts
    for text in texts:
        assert ours.fullmatch(text) == (python.fullmatch(text) is not None), (pattern, text)


def test_matching_takes_linear_time_where_python_backtracks() -> None:
    start = time.monotonic()
    assert not Pattern("(a*)*b").fullmatch("a" * 5000)
    assert not Pattern("(x+x+)+y").fullmatch("x" * 5000)
    assert time.monotonic() - start < 5


@pytest.mark.parametrize(
    ("pattern", "message"),
    [("^S16$", "anchor"), ("\\w+", "'\\w' is not supported"), ("(?i)s", "'(?' groups"), ("a{2,100000}", "larger than"),
     ("((a|b){1000}){1000}", "too large"), ("(a)\\1", "back-reference"), ("a*?", "cannot be repeated"), ("[z-a]", "backwards")],
)
def test_what_the_engines_read_differently_is_refused_with_a_reason(pattern: str, message: str) -> None:
    with pytest.raises(PatternError, match=re.escape(message)):
        Pattern(pattern)


# --------------------------------------------------------------------------- config

_TOML_VALUES = st.one_of(
    st.integers(-(10**20), 10**20).map(str), st.floats(allow_nan=True, allow_infinity=True).map(
        lambda f: "nan" if math.isnan(f) else ("inf" if f == math.inf else "-inf" if f == -math.inf else repr(f))),
    st.sampled_from(["1e400", "-1e400", '"x"', "true", "[1, 2]", "[nan]", "{ a = inf }", "[" * 40 + "]" * 40]),
)
_TOML_KEYS = st.sampled_from(["capacity", "candidate_probability", "change_cost", "candidates.S01.effort", "include_catalogue", "x"])


@FUZZ
@given(st.lists(st.tuples(_TOML_KEYS, _TOML_VALUES), max_size=4, unique_by=lambda kv: kv[0].split(".")[0]),
       st.sampled_from(["[mix]", "[rules.BAL002.params]", ""]))
def test_the_config_reader_accepts_or_locates_every_problem(tmp_path_factory: pytest.TempPathFactory,
                                                          items: list[tuple[str, str]], table: str) -> None:
    workspace = tmp_path_factory.mktemp("ws")
    (workspace / "pmorules.toml").write_text(table + "\n" + "".join(f"{k} = {v}\n" for k, v in items), encoding="utf-8")
    try:
        config = load_config(workspace, "ws")
    except InputError as error:
        assert error.diagnostics and all(str(d).startswith("ws/pmorules.toml") for d in error.diagnostics)
        with pytest.raises(InputError) as checked:  # the rules checked against what is left of the file: no crash
            load_rules(workspace)
        said = [(d.location.file, d.location.line, d.message) for d in checked.value.diagnostics]
        assert {(str(workspace / "pmorules.toml"), d.location.line, d.message) for d in error.diagnostics} <= set(said)
        assert all(file == str(workspace / "pmorules.toml") for file, _, _ in said)
        return
    mix = config.config.mix
    for value in [mix.capacity, mix.change_cost, *(c.effort for c in mix.candidates.values())]:
        assert value is None or number_problem(value) is None


# --------------------------------------------------------------------------- numbers and reading


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_the_number_policy(value: float) -> None:
    problem = number_problem(value)
    assert (problem is None) == (math.isfinite(value) and abs(value) <= MAX_MAGNITUDE)
    if problem is None and value != 0:
        assert clean(value) != 0 and math.isclose(clean(value), value, rel_tol=1e-11)


def test_clean_removes_binary_noise_but_never_makes_a_small_number_zero() -> None:
    assert clean(0.1 + 0.2) == 0.3 and clean(1e-07) == 1e-07 and clean(2.5) == 2.5


def test_a_read_that_fails_is_located(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "services.yaml"
    path.write_text("services: []\n")

    def fail(*_args: object) -> bytes:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr("pmorules.inputs.os.read", fail)
    with pytest.raises(InputError) as info:
        read_input(path, "ws/services.yaml")
    assert str(info.value) == "ws/services.yaml: cannot read: Input/output error"


HIJACK = """\
- id: AAA001
  name: hijack
  title: Hijack
  category: balance
  level: info
  match:
    - fact: mix
  subjects: [mix]
  message: "hello{{ %s or '' }}"
  why: "x"
  recommendation: "y"
"""


@pytest.mark.parametrize("call", ["names.update({'reporting': 'HIJACKED'})", "services[0].update({'name': 'HIJACKED'})",
                                  "services.append(services[0])", "matches.clear()"])
def test_a_rule_text_cannot_change_what_other_findings_and_the_report_read(tmp_path: Path, call: str) -> None:
    """Rule texts share the names and the knowledge's lists: the sandbox is immutable, so changing them is an
    error at the rule, not a rewrite of other findings' texts."""
    import shutil

    from typer.testing import CliRunner

    from pmorules.cli import app
    from pmorules.paths import example_dir

    ws = tmp_path / "ws"
    shutil.copytree(example_dir(), ws)
    (ws / "rules" / "aaa.yaml").write_text(HIJACK % call)
    result = CliRunner().invoke(app, ["analyze", str(ws), "--as-of", "2026-03-20"])
    assert result.exit_code == 2 and "HIJACKED" not in result.output
    assert "aaa.yaml:9:3: rule AAA001: message:" in result.output, result.output
    assert "is unsafe" in result.output or "has no attribute" in result.output, result.output


def test_an_organisation_partial_of_the_html_report_is_escaped_whatever_its_name(tmp_path: Path) -> None:
    import shutil

    from typer.testing import CliRunner

    from pmorules.cli import app
    from pmorules.paths import example_dir

    ws = tmp_path / "ws"
    shutil.copytree(example_dir(), ws)
    organisation = ws / "organisation.yaml"
    organisation.write_text(organisation.read_text().replace("name: Northwind Logistics IT PMO",
                                                             "name: <script>alert(1)</script> NW", 1))
    (ws / "templates").mkdir()
    (ws / "templates" / "report.html.j2").write_text(
        '{% extends "base.html.j2" %}{% block heading %}Q {{ organisation.name }} {% include "org-note.j2" %}{% endblock %}')
    (ws / "templates" / "org-note.j2").write_text("[{{ organisation.name }}]")
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", str(ws), "--as-of", "2026-03-20", "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "[&lt;script&gt;alert(1)&lt;/script&gt; NW]" in html and "<script>alert(1)" not in html
