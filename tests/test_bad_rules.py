"""Bad rule files are reported at file:line:col, exactly, without a traceback.

Each file in tests/bad_rules/ holds one mistake; its trailing ``# expect:`` lines are
what ``pmorules rules check FILE`` must print on stderr (``{file}`` is the path given).
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmorules.cli import app

REPO = Path(__file__).resolve().parent.parent
CORPUS = sorted((Path(__file__).resolve().parent / "bad_rules").glob("*.yaml"))


def expected_lines(path: Path, shown: str) -> list[str]:
    return [line.removeprefix("# expect: ").replace("{file}", shown)
            for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("# expect: ")]


def test_the_corpus_covers_the_mistakes() -> None:
    names = {path.stem for path in CORPUS}
    assert {"unknown_key", "unknown_operator", "unknown_fact_type", "unknown_field", "ref_to_later_pattern",
            "ref_to_unknown_pattern", "unknown_param", "template_syntax_error", "text_compared_with_gt",
            "missing_message", "too_many_patterns"} <= names
    for path in CORPUS:
        assert expected_lines(path, "x"), f"{path.name} has no '# expect:' line"


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_rules_check_reports_the_mistake_exactly(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    shown = path.relative_to(REPO).as_posix()
    result = CliRunner().invoke(app, ["rules", "check", shown])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    expected = expected_lines(path, shown)
    assert lines[:-1] == expected
    assert re.fullmatch(rf"{len(expected)} errors? found", lines[-1])
    assert result.stdout == ""


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_rules_test_refuses_the_file_the_same_way(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    shown = path.relative_to(REPO).as_posix()
    result = CliRunner().invoke(app, ["rules", "test", shown])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.splitlines()[:-1] == expected_lines(path, shown)


def test_the_base_rule_of_the_corpus_is_fine(tmp_path: Path) -> None:
    """Every corpus file is one mistake away from a valid rule: undoing it passes check and test."""
    source = (Path(__file__).resolve().parent / "bad_rules" / "unknown_field.yaml").read_text(encoding="utf-8")
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(source.replace("probabilty", "probability"), encoding="utf-8")
    for command in ("check", "test"):
        result = CliRunner().invoke(app, ["rules", command, str(fixed)])
        assert result.exit_code == 0, result.output


def test_a_format_error_in_one_file_does_not_hide_the_compile_errors_of_another(tmp_path: Path) -> None:
    """The unknown key in d.yaml hid the misspelt field in c.yaml until it was fixed."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "c.yaml").write_text(
        "- id: ORG010\n  name: low-odds\n  title: Low odds\n  category: probability\n  level: warning\n"
        "  match:\n    - fact: service\n      as: s\n      where:\n        - {field: probabilty, op: lt, value: 0.5}\n"
        "  subjects: [s]\n  message: unlikely\n  why: odds\n  recommendation: fix it\n", encoding="utf-8")
    (tmp_path / "rules" / "d.yaml").write_text("- id: ORG020\n  name: z\n  titel: Z\n", encoding="utf-8")
    for args in (["rules", "check", str(tmp_path / "rules")], ["validate", str(tmp_path)]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2
        assert "c.yaml:10:12: rule ORG010: fact 'service' has no field 'probabilty'" in result.stderr, result.stderr
        assert "d.yaml:3:3: unknown key 'titel'" in result.stderr


def test_a_config_error_and_a_second_rule_path_do_not_hide_compile_errors(tmp_path: Path) -> None:
    """With pmorules.toml wrong too, or the files given as two paths, the compile errors were lost again."""
    test_a_format_error_in_one_file_does_not_hide_the_compile_errors_of_another(tmp_path)
    (tmp_path / "pmorules.toml").write_text("bogus2 = 1\n", encoding="utf-8")
    for args in (["validate", str(tmp_path)],
                 ["rules", "check", str(tmp_path / "rules" / "d.yaml"), str(tmp_path / "rules" / "c.yaml")]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2
        assert "c.yaml:10:12: rule ORG010: fact 'service' has no field 'probabilty'" in result.stderr, (args, result.stderr)
        assert "d.yaml:3:3: unknown key 'titel'" in result.stderr


def test_rules_check_lints_the_files_that_read_beside_the_errors_of_those_that_do_not(tmp_path: Path) -> None:
    """A broken rule file does not hide the lint of another: every problem at once, sorted, counted."""
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "a_broken.yaml").write_text("rules: [\n", encoding="utf-8")
    (folder / "b_unreferenced.yaml").write_text(textwrap.dedent("""\
        rules:
          - id: ACM001
            name: acme-low
            title: Low probability
            category: probability
            level: info
            match:
              - fact: service
                as: s
                where:
                  - {field: probability, op: lt, value: 0.2}
            subjects: [s]
            message: "{{ s.name }} is unlikely"
            why: Unlikely services rarely deliver.
            recommendation: Find out why.
    """), encoding="utf-8")
    result = CliRunner().invoke(app, ["rules", "check", str(folder)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{folder}/a_broken.yaml:"), lines
    assert any(line.startswith(f"{folder}/b_unreferenced.yaml:") and "no references" in line for line in lines), lines
    assert re.fullmatch(rf"{len(lines) - 1} errors? found", lines[-1]) and lines[:-1] == sorted(lines[:-1])
