"""`pmorules validate`, `pmorules schema`, `pmorules --version`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from pmorules import __version__
from pmorules.cli import app
from pmorules.knowledge.spec import KnowledgeFile
from pmorules.paths import example_dir
from pmorules.schema import knowledge_schema_text

ROOT = Path(__file__).resolve().parents[1]
COMMITTED_SCHEMA = ROOT / "schema" / "knowledge.schema.json"

SMALL = {
    "organisation.yaml": "organisation: {name: Small PMO, capacity_fte: 2}\n",
    "knowledge/services.yaml": """
        clients: [{id: exec, weight: 0.8}]
        services:
          - {id: reporting, catalogue: S16, clients: [exec], probability: 0.8}
          - {id: coaching, term: long, depends_on: ['reporting:soft'], status: proposed}
        goals:
          - {id: G1, outcomes: [O26], due_months: 3, client: exec}
        """,
}


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_validate_ok(make_ws, monkeypatch) -> None:
    ws = make_ws(SMALL, name="ws")
    monkeypatch.chdir(ws.parent)
    result = invoke("validate", "ws")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("ws: OK - 2 services (1 active), 1 client, 1 goal in 2 files")
    assert "Traceback" not in result.stderr


def test_validate_example() -> None:
    if not any(example_dir().glob("*.yaml")):
        return
    result = invoke("validate", str(example_dir()))
    assert result.exit_code == 0, result.stderr
    assert ": OK - " in result.stdout


def test_validate_bad_input_goes_to_stderr_only(make_ws, monkeypatch) -> None:
    ws = make_ws({"s.yaml": "services:\n  - {id: a, term: soon, probability: 2}\n"}, name="ws")
    monkeypatch.chdir(ws.parent)
    result = invoke("validate", "ws")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "ws/s.yaml:2:13: services.term: should be 'short', 'medium' or 'long' (got 'soon')",
        "ws/s.yaml:2:25: services.probability: should be less than or equal to 1 (got 2)",
        "2 errors found",
    ]


def test_real_entry_point_exit_code_and_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "s.yaml").write_text("services:\n  - id: a\n\tterm: short\n")
    result = subprocess.run(
        [sys.executable, "-m", "pmorules", "validate", "ws"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == "ws/s.yaml:3:1: YAML syntax error: found a tab character that violates indentation"
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"pmorules {__version__}"


def test_schema_command_prints_the_schema() -> None:
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["properties"]) == set(KnowledgeFile.model_fields)
    assert schema["additionalProperties"] is False
    service = schema["$defs"]["ServiceSpec"]
    assert service["additionalProperties"] is False
    assert service["properties"]["probability"]["anyOf"][0]["maximum"] == 1.0


def test_committed_schema_is_current() -> None:
    assert COMMITTED_SCHEMA.is_file(), "schema/knowledge.schema.json is missing"
    assert COMMITTED_SCHEMA.read_text(encoding="utf-8") == knowledge_schema_text(), (
        "schema/knowledge.schema.json is stale: run `pmorules schema > schema/knowledge.schema.json`"
    )


def test_validate_says_every_problem_in_one_pass(make_ws, monkeypatch) -> None:
    """A faulty service keeps its other problems visible (a misspelt dependency, its id defined twice), and a
    file that cannot be parsed makes the references into it say so instead of "unknown service"."""
    ws = make_ws({
        "services.yaml": "services:\n  - {id: reporting, term: soon, depends_on: [tols]}\n  - {id: REPORTING, term: short}\n"
                         "  - {id: tools, term: short}\n",
        "goals.yaml": "goals:\n  - {id: G1, services: [coaching], due_months: 3}\n",
        "more.yaml": "services:\n  - {id: coaching, term: long\n",
    }, name="ws")
    monkeypatch.chdir(ws.parent)
    result = invoke("validate", "ws")
    assert result.exit_code == 2 and "Traceback" not in result.output and result.stdout == ""
    assert result.stderr.splitlines() == [
        "ws/goals.yaml:2:25: service 'coaching' is defined in ws/more.yaml, a file that could not be read "
        "(hint: fix the error in that file first)",
        "ws/more.yaml:3:1: YAML syntax error: did not find expected ',' or '}' (while parsing a flow mapping "
        "started at line 2)",
        "ws/services.yaml:2:21: services.term: should be 'short', 'medium' or 'long' (got 'soon')",
        "ws/services.yaml:2:46: unknown service 'tols' (hint: did you mean 'tools'?)",
        "ws/services.yaml:3:5: service id 'REPORTING' is defined twice (first at ws/services.yaml:2:5)",
        "5 errors found",
    ]


def test_validate_checks_what_the_config_names_all_at_once(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    shutil.copytree(example_dir(), workspace)
    config = workspace / "pmorules.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('path = "reviews/2025-12"', 'path = "reviews/nope"'),
                      encoding="utf-8")
    (workspace / "scenarios").mkdir()
    (workspace / "scenarios" / "a.yaml").write_text("scenarios:\n  - {name: x, drop: [nonexist]}\n", encoding="utf-8")
    (workspace / "templates").mkdir()
    (workspace / "templates" / "report.md.j2").write_text("{% if %}\n", encoding="utf-8")
    run = CliRunner().invoke(app, ["validate", str(workspace), "--as-of", "2026-03-20"])
    assert run.exit_code == 2 and "Traceback" not in run.output
    for problem in ("pmorules.toml:19:1: ", "reviews/nope is not a folder", "scenarios/a.yaml:2:22: drop: unknown service "
                    "'nonexist'", "templates/report.md.j2:1: template syntax error", "3 errors found"):
        assert problem in run.output
    clean = tmp_path / "clean"
    shutil.copytree(example_dir(), clean)
    assert CliRunner().invoke(app, ["validate", str(clean), "--as-of", "2026-03-20"]).exit_code == 0


def test_validate_checks_renames_against_the_reviews_the_mix_settings_and_reviews_not_past_yet(tmp_path: Path) -> None:
    """What report, diff and mix refuse, validate refuses: two services that both say they were the same one of
    a past review, [mix] settings naming what could not be added, a review dated after the day judged whose
    folder is missing (and such a review, when fine, gets a note: it is in no report yet)."""
    workspace = tmp_path / "ws"
    shutil.copytree(example_dir(), workspace)
    services = workspace / "services.yaml"
    services.write_text(services.read_text().replace("  - id: scorecard\n", "  - id: scorecard\n    was: pm-support\n", 1))
    config = workspace / "pmorules.toml"
    config.write_text(config.read_text() + '\n[mix]\nnever = ["nosuch"]\n\n[history.later]\ndate = 2026-05-19\npath = "reviews/none"\n')
    run = CliRunner().invoke(app, ["validate", str(workspace), "--as-of", "2026-03-20"])
    assert run.exit_code == 2 and "Traceback" not in run.output
    for problem in ("both say they were 'pm-support'", "mix.never: 'nosuch'", "reviews/none is not a folder", "3 errors found"):
        assert problem in run.output, run.output
    clean = tmp_path / "clean"
    shutil.copytree(example_dir(), clean)
    (clean / "pmorules.toml").write_text((clean / "pmorules.toml").read_text()
                                         + '\n[history.later]\ndate = 2026-05-19\npath = "reviews/2025-12"\n')
    run = CliRunner().invoke(app, ["validate", str(clean), "--as-of", "2026-03-20"])
    assert run.exit_code == 0 and "the review later is dated 19 May 2026, after the day judged (20 March 2026)" in run.output, run.output


def test_validate_renders_the_report_with_the_organisations_templates(tmp_path: Path) -> None:
    """A template that compiles can still fail on the data: validate said OK and report failed."""
    workspace = tmp_path / "ws"
    shutil.copytree(example_dir(), workspace)
    (workspace / "templates" / "partials").mkdir(parents=True)
    (workspace / "templates" / "partials" / "goals.md.j2").write_text("a\nb\n   {{ 1/0 }}\n", encoding="utf-8")
    (workspace / "templates" / "partials" / "goals.html.j2").write_text("{{ nosuch.attr }}\n", encoding="utf-8")
    run = CliRunner().invoke(app, ["validate", str(workspace), "--as-of", "2026-03-20"])
    assert run.exit_code == 2 and "Traceback" not in run.output
    assert "templates/partials/goals.md.j2:3: template error: division by zero" in run.stderr
    assert "templates/partials/goals.html.j2:1: template error: 'nosuch' is undefined" in run.stderr
