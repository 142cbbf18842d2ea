"""The hostile-input corpus of issue 10: one table of cases, built programmatically, grouped by class.

Every case starts from a small valid workspace (``ws/``: one knowledge file)
unless it says otherwise, changes it, runs one command, and states the exit
code and, for exit 2, where the message must point. ``harness.check_run`` adds
what every case must satisfy (no hang, no traceback, inputs unchanged, no stray
file); a case's own ``check`` verifies its result (outputs, injection).
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import stat
import subprocess
import zipfile
from pathlib import Path
from typing import Any, Callable

import yaml

from harness import ROOT, Case, Run

KINDS = ("data_loss", "lost_rules", "engine", "numbers", "rendering", "outside", "injection", "unlocated", "serve")
CASES: dict[str, Case] = {}


def case(name: str, kind: str, **fields: Any) -> None:
    assert kind in KINDS, kind
    item = Case(name=name, kind=kind, **fields)
    assert item.id not in CASES, item.id
    CASES[item.id] = item


# --------------------------------------------------------------------------- building blocks


def knowledge(org: str = "Base PMO", service: str = "Reporting", goal: str = "Visibility",
              client: str = "Executive board", **service_fields: Any) -> str:
    """The small valid workspace, with names (and one service's fields) to attack."""
    data = {
        "organisation": {"name": org, "age_months": 24, "context": "growing", "capacity_fte": 4, "reviews_months": [3, 6]},
        "clients": [{"id": "exec", "name": client, "weight": 0.8}],
        "services": [
            {"id": "reporting", "name": service, "catalogue": "S16", "probability": 0.8, "effort": 40,
             "approach": "supportive", "clients": ["exec"], **service_fields},
            {"id": "methodology", "catalogue": "S09", "probability": 0.6, "effort": 35, "clients": ["exec"]},
            {"id": "training", "catalogue": "S12", "probability": 0.6, "effort": 25, "clients": ["exec"]},
        ],
        "goals": [{"id": "G1", "name": goal, "outcomes": ["O26"], "due_months": 3, "client": "exec"}],
    }
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


BASE = {"knowledge.yaml": knowledge()}


def rule(where: list[Any] | None = None, id: str = "ORG001", message: str = "{{ s.name }} is flagged.",
         params: dict[str, Any] | None = None, match: list[Any] | None = None, **extra: Any) -> dict[str, Any]:
    """An organisation rule on active services (it fires on each unless ``where`` says otherwise)."""
    spec = {
        "id": id, "name": "hostile-rule", "title": "A hostile rule", "category": "goals", "level": "info",
        "params": params or {},
        "match": match or [{"fact": "service", "as": "s", "where": where or [{"field": "status", "op": "eq", "value": "active"}]}],
        "subjects": ["s"], "message": message, "why": "Because.", "recommendation": "Look at {{ s.name }}.",
    }
    return spec | extra


def complete(spec: dict[str, Any]) -> dict[str, Any]:
    """A rule that also passes ``rules check``: references and a fire and a no-fire case."""
    return spec | {"references": ["the hostile corpus"], "tests": [
        {"name": "fires", "expect": "fire", "facts": [{"fact": "service", "key": "x", "status": "active"}]},
        {"name": "quiet", "expect": "no-fire", "facts": [{"fact": "service", "key": "y", "status": "retired"}]}]}


def rules(*specs: dict[str, Any]) -> str:
    return yaml.safe_dump(list(specs), allow_unicode=True, sort_keys=False, width=1000)


def overlay(*specs: dict[str, Any]) -> dict[str, str]:
    return {"rules/org.yaml": rules(*specs)}


def cond(field: str, op: str, value: Any = None, **more: Any) -> dict[str, Any]:
    return {"field": field, "op": op, **({"value": value} if value is not None else {}), **more}


def build(item: Case, directory: Path) -> None:
    """Write the case's workspace under ``directory/ws``."""
    workspace = directory / "ws"
    workspace.mkdir(parents=True)
    files = {**(BASE if item.base else {}), **item.files}
    for name, content in files.items():
        if content is None:
            continue
        if callable(content):  # large contents are made when the case runs, not when the table is read
            content = content()
        path = workspace / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))


# --------------------------------------------------------------------------- checks


def json_of(text: str) -> Any:
    """Strict JSON: NaN and Infinity are not JSON."""
    def refuse(constant: str) -> Any:
        raise AssertionError(f"invalid JSON constant {constant}")
    return json.loads(text, parse_constant=refuse)


def findings(run: Run) -> list[dict[str, Any]]:
    return json_of(run.stdout)["findings"]


def fires(rule_id: str, subjects: set[str] | None = None, count: int | None = None) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        found = [f for f in findings(run) if f["rule"] == rule_id]
        assert found, f"{rule_id} did not fire"
        if subjects is not None:
            assert {s for f in found for s in f["subjects"]} == subjects, found
        if count is not None:
            assert len(found) == count, found
    return check


def silent(rule_id: str) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        assert not [f for f in findings(run) if f["rule"] == rule_id], f"{rule_id} fired"
    return check


def holds(predicate: Callable[[Run], Any], what: str) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        assert predicate(run), f"{what}\nstdout:\n{run.stdout[-3000:]}"
    return check


def all_of(*checks: Callable[[Run], None]) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        for each in checks:
            each(run)
    return check


def wrote(name: str, starts: bytes) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        data = run.output(name)
        assert data.startswith(starts), data[:80]
    return check


def no_temp_files(run: Run) -> None:
    leftovers = [p for p in run.directory.rglob(".*") if p.name.startswith((".report", ".out", ".real"))]
    assert not leftovers, leftovers


def kind_of(name: str, test: Callable[[int], bool]) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        assert test(os.lstat(run.directory / name).st_mode)
    return check


def package_file(rel: str) -> Callable[[Run], None]:
    """The package's copy of a data file is unchanged (the harness runs a private copy of the checkout)."""
    def check(run: Run) -> None:
        copy = run.directory.parents[1] / "package" / rel
        assert copy.read_bytes() == (ROOT / rel).read_bytes(), f"{rel} was changed"
    return check


# --------------------------------------------------------------------------- setups


def fifo(name: str) -> Callable[[Path], None]:
    def setup(directory: Path) -> None:
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(path)
    return setup


def symlink(name: str, target: str) -> Callable[[Path], None]:
    def setup(directory: Path) -> None:
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target)
    return setup


def mode(name: str, bits: int) -> Callable[[Path], None]:
    def setup(directory: Path) -> None:
        os.chmod(directory / name, bits)
    return setup


def write(name: str, content: str | bytes) -> Callable[[Path], None]:
    def setup(directory: Path) -> None:
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return setup


def steps(*setups: Callable[[Path], None]) -> Callable[[Path], None]:
    def setup(directory: Path) -> None:
        for each in setups:
            each(directory)
    return setup


def unix_socket(name: str) -> Callable[[Path], None]:
    def setup(directory: Path) -> None:
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(directory / name))
        server.close()
    return setup


def hardlink(name: str, target: str) -> Callable[[Path], None]:
    def setup(directory: Path) -> None:
        os.link(directory / target, directory / name)
    return setup


def is_fifo(mode_bits: int) -> bool:
    return stat.S_ISFIFO(mode_bits)


# =========================================================================== data loss: the one writer

REPORT = ("report", "ws")

case("o_fifo", "data_loss", args=(*REPORT, "-o", "out.html"), setup=fifo("out.html"), expect=2,
     where="out.html:", says="is a FIFO", check=kind_of("out.html", is_fifo))
case("o_symlink_to_fifo", "data_loss", args=(*REPORT, "-o", "link.html"), setup=steps(fifo("pipe"), symlink("link.html", "pipe")),
     expect=2, where="link.html:", says="a FIFO")
case("o_dev_null", "data_loss", args=(*REPORT, "-o", "/dev/null"), expect=2, where="/dev/null:", says="character device",
     check=holds(lambda run: stat.S_ISCHR(os.stat("/dev/null").st_mode), "/dev/null is still a device"))
case("o_symlink_to_dev_null", "data_loss", args=(*REPORT, "-o", "null.md"), setup=symlink("null.md", "/dev/null"),
     expect=2, where="null.md:", says="character device")
case("o_dev_zero", "data_loss", args=(*REPORT, "-o", "/dev/zero", "-f", "md"), expect=2, where="/dev/zero:")
case("o_directory", "data_loss", args=(*REPORT, "-o", "outdir"), setup=lambda d: (d / "outdir").mkdir(), expect=2,
     where="outdir:", says="directory")
case("o_socket", "data_loss", args=(*REPORT, "-o", "sock"), setup=unix_socket("sock"), expect=2, where="sock:", says="socket")
case("o_knowledge_file", "data_loss", args=(*REPORT, "-o", "ws/knowledge.yaml", "-f", "md"), expect=2,
     where="ws/knowledge.yaml:", says="input file")
case("o_symlink_to_knowledge", "data_loss", args=(*REPORT, "-o", "k.md"), setup=symlink("k.md", "ws/knowledge.yaml"),
     expect=2, where="k.md:", says="input file")
case("o_hardlink_to_knowledge", "data_loss", args=(*REPORT, "-o", "k.md"), setup=hardlink("k.md", "ws/knowledge.yaml"),
     expect=2, where="k.md:", says="input file")
case("o_config", "data_loss", args=(*REPORT, "-o", "ws/pmorules.toml", "-f", "md"), files={"pmorules.toml": 'name = "x"\n'},
     expect=2, where="ws/pmorules.toml:", says="input file")
case("o_new_config", "data_loss", args=(*REPORT, "-o", "ws/pmorules.toml", "-f", "md"), expect=2,
     where="ws/pmorules.toml:", says="input file")
case("o_template", "data_loss", args=(*REPORT, "-o", "ws/templates/report.md.j2", "-f", "md"),
     files={"templates/report.md.j2": "# {{ organisation.name }}\n"}, expect=2, where="ws/templates/report.md.j2:")
case("o_new_file_in_templates", "data_loss", args=(*REPORT, "-o", "ws/templates/new.md"),
     files={"templates/x.txt": "x"}, expect=2, where="ws/templates/new.md:", says="input folder")
case("o_rule_file", "data_loss", args=(*REPORT, "-o", "ws/rules/org.yaml", "-f", "md"), files=overlay(rule()), expect=2,
     where="ws/rules/org.yaml:")
case("o_new_file_in_rules", "data_loss", args=(*REPORT, "-o", "ws/rules/report.md"), files=overlay(rule()), expect=2,
     where="ws/rules/report.md:", says="input folder")
case("o_rule_path_folder", "data_loss", args=(*REPORT, "-o", "ws/more/report.md"),
     files={"pmorules.toml": 'rule_paths = ["more"]\n', "more/x.yaml": rules(rule())}, expect=2, where="ws/more/report.md:")
case("o_new_knowledge_file", "data_loss", args=(*REPORT, "-o", "ws/report.yaml", "-f", "json"), expect=2,
     where="ws/report.yaml:", says="read as knowledge")
case("o_new_knowledge_csv", "data_loss", args=(*REPORT, "-o", "ws/knowledge/services.csv", "-f", "md"),
     files={"knowledge/notes.txt": "x"}, expect=2, where="ws/knowledge/services.csv:")
for rel in ("knowledge/catalogue/services.yaml", "rules/balance.yaml", "templates/report.html.j2", "knowledge/example/services.yaml"):
    case(f"o_package_{rel.split('/')[-2]}_{rel.split('/')[-1].split('.')[0]}", "data_loss",
         args=(*REPORT, "-o", f"../../package/{rel}", "-f", "md"), expect=2, where=f"../../package/{rel}:", says="refusing",
         check=package_file(rel))
case("o_new_file_in_package", "data_loss", args=(*REPORT, "-o", "../../package/templates/new.md"), expect=2,
     where="../../package/templates/new.md:", says="default templates")
case("o_missing_directory", "data_loss", args=(*REPORT, "-o", "nodir/out.md"), expect=2, where="nodir/out.md:", says="does not exist")
case("o_parent_is_a_file", "data_loss", args=(*REPORT, "-o", "ws/knowledge.yaml/out.md"), expect=2, where="ws/knowledge.yaml/out.md:")
case("o_read_only_directory", "data_loss", args=(*REPORT, "-o", "ro/out.md"), dac=True,
     setup=steps(lambda d: (d / "ro").mkdir(), mode("ro", 0o555)), expect=2, where="ro/out.md:", says="Permission denied")
case("o_read_only_file", "data_loss", args=(*REPORT, "-o", "old.md"), dac=True, setup=steps(write("old.md", "keep me\n"), mode("old.md", 0o444)),
     expect=2, where="old.md:", says="read-only")
case("o_proc", "data_loss", args=(*REPORT, "-o", "/proc/pmorules-report.md"), expect=2, where="/proc/pmorules-report.md:")
case("o_full_disk", "data_loss", args=(*REPORT, "-o", "out.md"), fsize=4096, expect=2, where="out.md:", says="too large",
     check=no_temp_files)
READ = {"pmorules.toml": 'rule_paths = ["more"]\n[history.q1]\ndate = 2026-01-01\npath = "reviews/q1"\n',
        "rules/org.yaml": rules(rule()), "more/x.yaml": rules(rule(id="ORG002")), "templates/report.md.j2": "# x\n",
        "scenarios/lean.yaml": "scenarios:\n  - {name: lean, drop: [training]}\n", "reviews/q1/knowledge.yaml": knowledge()}
for rel in ("rules/org.yaml", "rules/new.xlsx", "more/x.yaml", "templates/report.md.j2", "templates/new.xlsx",
            "scenarios/lean.yaml", "scenarios/new.yaml", "reviews/q1/knowledge.yaml", "reviews/q1/new.xlsx"):
    name = rel.replace("/", "_").replace(".", "_")
    case(f"export_onto_{name}", "data_loss", args=("export", "ws", "--xlsx", f"ws/{rel}"), files=READ, expect=2,
         where=f"ws/{rel}:", says="refusing to", check=no_temp_files)
for rel in ("scenarios/lean.yaml", "scenarios/new.yaml", "reviews/q1/knowledge.yaml", "reviews/q1/report.md"):
    case(f"o_onto_{rel.replace('/', '_').replace('.', '_')}", "data_loss", args=(*REPORT, "-o", f"ws/{rel}", "-f", "md"),
         files=READ, expect=2, where=f"ws/{rel}:", says="refusing to")
case("init_full_disk_leaves_no_empty_workbook", "data_loss", args=("init", "new", "--xlsx"), fsize=4096, expect=2,
     where="new/pmo.xlsx:", says="too large", outputs=("new", "new/pmorules.toml", "new/rules"),
     check=holds(lambda run: not any(p.name != "pmorules.toml" for p in (run.directory / "new").glob("*.*")), "no pmo.xlsx, no temp"))
case("init_through_rules_symlink", "data_loss", args=("init", "new"), expect=2, where="new/rules/organisation.yaml:",
     says="leads outside", setup=steps(lambda d: (d / "elsewhere").mkdir(), lambda d: (d / "new").mkdir(),
                                       symlink("new/rules", "../elsewhere")))
def _aged_files(*names: str) -> Callable[[Path], None]:
    def setup(directory: Path) -> None:
        for name in names:
            os.utime(directory / name, (1_000_000_000, 1_000_000_000))
    return setup


case("cache_dir_pointed_at_a_workspace", "data_loss", script=(
    "import os, sys\nos.environ['PMORULES_CACHE_DIR'] = os.path.abspath('ws')\n"
    "sys.argv = ['pmorules', 'report', 'ws', '-f', 'md']\nfrom pmorules.cli import main\nmain()\n"),
    files={"templates/notes.txt": "mine\n", "templates/0123456789abcdef-00000000000000000000000000000000": "not an entry\n"},
    setup=_aged_files("ws/templates/notes.txt", "ws/templates/0123456789abcdef-00000000000000000000000000000000"))
case("o_replaces_old_report", "data_loss", args=(*REPORT, "-o", "out.html"), setup=write("out.html", "old\n"),
     outputs=("out.html",), check=all_of(wrote("out.html", b"<!DOCTYPE html>"), no_temp_files))
case("o_through_symlink_to_report", "data_loss", args=(*REPORT, "-o", "link.md"),
     setup=steps(write("real.md", "old\n"), symlink("link.md", "real.md")), outputs=("real.md",),
     check=all_of(wrote("real.md", b"# "), kind_of("link.md", stat.S_ISLNK)))
case("o_dangling_symlink", "data_loss", args=(*REPORT, "-o", "link.md"), setup=symlink("link.md", "elsewhere/missing.md"),
     expect=2, where="link.md:", says="broken symlink")
case("o_symlink_loop", "data_loss", args=(*REPORT, "-o", "loop.md"), setup=symlink("loop.md", "loop.md"), expect=2, where="loop.md:")
case("o_pdf_to_stdout", "data_loss", args=(*REPORT, "-f", "pdf"), expect=2)
case("stdout_full", "data_loss", script=(
    "import os, sys\n"
    "os.chdir(sys.argv[1]); sys.argv = ['pmorules', 'analyze', 'ws', '-f', 'json']\n"
    "full = os.open('/dev/full', os.O_WRONLY); os.dup2(full, 1)\n"
    "from pmorules.cli import main\nmain()\n"
), expect=2, where="<stdout>:", says="No space left")

_SIGNAL_SCRIPT = """
import os, signal, sys
os.chdir(sys.argv[1])
sys.argv = ['pmorules', 'report', 'ws', '-o', 'out.md']
real_fsync = os.fsync
def fsync(fd):  # the signal arrives while the report is being written
    real_fsync(fd)
    os.kill(os.getpid(), signal.{name})
os.fsync = fsync
from pmorules.cli import main
main()
"""
for _signal in ("SIGTERM", "SIGINT", "SIGHUP"):
    case(f"{_signal.lower()}_during_write", "data_loss", script=_SIGNAL_SCRIPT.replace("{name}", _signal),
         signal=int(getattr(signal, _signal)), check=no_temp_files)
    case(f"{_signal.lower()}_during_overwrite", "data_loss", script=_SIGNAL_SCRIPT.replace("{name}", _signal),
         setup=write("out.md", "old report\n"), signal=int(getattr(signal, _signal)),
         check=all_of(no_temp_files, wrote("out.md", b"old report")))


# =========================================================================== silently lost rules

case("ids_differ_in_case", "lost_rules", files=overlay(rule(id="ORG001"), rule(id="org001")), expect=2,
     where="ws/rules/org.yaml:", says="differ only in case")
case("id_collides_with_default_in_lower_case", "lost_rules", files=overlay(rule(id="gol004")), expect=2,
     where="ws/rules/org.yaml:", says="GOL004")
case("ids_differ_in_case_across_files", "lost_rules",
     files={"rules/a.yaml": rules(rule(id="ORG001")), "rules/b.yaml": rules(rule(id="Org001"))}, expect=2,
     where="ws/rules/b.yaml:", says="differ only in case")
case("rules_list_with_case_collision", "lost_rules", args=("rules", "list", "-w", "ws"),
     files=overlay(rule(id="gol004")), expect=2, where="ws/rules/org.yaml:")
case("rules_check_with_case_collision", "lost_rules", args=("rules", "check", "ws/rules"),
     files=overlay(rule(id="ORG001"), rule(id="org001")), expect=2, where="ws/rules/org.yaml:")
case("extends_in_wrong_case", "lost_rules", files=overlay({"id": "gol004", "extends": "gol004", "level": "warning"}), expect=2,
     where="ws/rules/org.yaml:", says="unknown rule")
case("config_rule_in_wrong_case", "lost_rules", files={"pmorules.toml": "[rules.gol004]\nenabled = false\n"}, expect=2,
     where="ws/pmorules.toml:", says="GOL004")
case("upper_case_rule_suffix_is_read", "lost_rules", args=("analyze", "ws", "-f", "json"),
     files={"rules/org.YAML": rules(rule())}, check=fires("ORG001", {"reporting", "methodology", "training"}))
case("rule_file_fifo", "lost_rules", setup=fifo("ws/rules/pipe.yaml"), expect=2, where="ws/rules/pipe.yaml:", says="FIFO")
case("rule_file_dangling_symlink", "lost_rules", setup=symlink("ws/rules/gone.yaml", "gone-for-good.yaml"), expect=2,
     where="ws/rules/gone.yaml:", says="broken symlink")
case("rule_file_unreadable", "lost_rules", files=overlay(rule()), dac=True, setup=mode("ws/rules/org.yaml", 0), expect=2,
     where="ws/rules/org.yaml:", says="Permission denied")
case("rules_folder_unreadable", "lost_rules", files=overlay(rule()), dac=True, setup=mode("ws/rules", 0), expect=2,
     where="ws/rules:", says="Permission denied")
case("rule_in_subfolder_is_read", "lost_rules", args=("analyze", "ws", "-f", "json"),
     files={"rules/deep/er/org.yaml": rules(rule())}, check=fires("ORG001"))
case("two_overlay_rules_both_fire", "lost_rules", args=("analyze", "ws", "-f", "json"),
     files=overlay(rule(id="ORG001"), rule(id="ORG002", where=[cond("key", "eq", "training")])),
     check=all_of(fires("ORG001", count=3), fires("ORG002", {"training"})))


# =========================================================================== engine: hangs, crashes, exit 3

ANALYZE = ("analyze", "ws", "-f", "json")


def engine_case(name: str, spec: dict[str, Any], **fields: Any) -> None:
    fields.setdefault("expect", 2)
    if fields["expect"] == 2:
        fields.setdefault("where", "ws/rules/org.yaml:")
    case(name, "engine", args=fields.pop("args", ANALYZE), files={**overlay(spec), **fields.pop("files", {})}, **fields)


engine_case("in_with_600_values", rule([cond("catalogue", "in", [f"S{i:03d}" for i in range(600)])]), says="tests once compiled")
engine_case("in_with_2000_values", rule([cond("catalogue", "in", [f"X{i}" for i in range(2000)])]), says="tests once compiled")
engine_case("not_in_with_2000_values", rule([cond("catalogue", "not_in", [f"X{i}" for i in range(2000)])]), says="tests once compiled")
engine_case("in_with_40_values_fires", rule([cond("catalogue", "in", ["S16"] + [f"X{i}" for i in range(39)])]), expect=0,
            check=fires("ORG001", {"reporting"}))
engine_case("identical_values_in", rule([cond("catalogue", "in", ["S16"] * 70)]), says="listed twice")
engine_case("identical_values_not_in", rule([cond("catalogue", "not_in", ["S16", "S16"])]), says="listed twice")
engine_case("identical_branches_in_any", rule([{"any": [cond("catalogue", "eq", "S16"), cond("catalogue", "eq", "S16")]}]),
            says="twice in one 'any'")
engine_case("absent_with_large_any", rule(match=[
    {"fact": "service", "as": "s", "where": [cond("status", "eq", "active")]},
    {"fact": "service", "as": "o", "absent": True, "where": [{"any": [cond("catalogue", "eq", f"X{i}") for i in range(100)]}]},
]), says="tests once compiled")
engine_case("absent_with_in_of_2000", rule(match=[
    {"fact": "service", "as": "s", "where": [cond("status", "eq", "active")]},
    {"fact": "service", "as": "o", "absent": True, "where": [cond("catalogue", "in", [f"X{i}" for i in range(2000)])]},
]), says="tests once compiled")
engine_case("nested_any_9x10", rule([{"any": [cond("effort", "gt", i) for i in range(10)]} for _ in range(9)]),
            says="more than 16 alternatives")
engine_case("nested_any_inside_all", rule([{"any": [{"all": [{"any": [cond("effort", "gt", i + j) for i in range(6)]}
                                                          for j in range(6)]} for _ in range(3)]}]), says="more than 16 alternatives")
engine_case("any_across_patterns", rule(match=[
    {"fact": "service", "as": "a", "where": [{"any": [cond("effort", "gt", i) for i in range(5)]}]},
    {"fact": "service", "as": "s", "where": [{"any": [cond("effort", "lt", i) for i in range(5)]}]},
]), says="more than 16 alternatives")
engine_case("deep_nesting_of_groups", rule([json.loads('{"any": [' * 1 + "{\"all\": [" * 40 + json.dumps(cond("effort", "gt", 1))
                                                       + "]}" * 40 + "]}")]))
engine_case("regex_counted_1000", rule([cond("catalogue", "matches", "S{2,1000}")]), expect=0, check=silent("ORG001"))
engine_case("regex_counted_beyond_limit", rule([cond("catalogue", "matches", "S{2,100000}")]), says="larger than")
engine_case("regex_anchors", rule([cond("catalogue", "matches", "^S16$")]), says="anchor")
engine_case("regex_word_class", rule([cond("catalogue", "matches", "\\w+")]), says="\\w")
engine_case("regex_inline_flag", rule([cond("catalogue", "matches", "(?i)s16")]), says="(?")
engine_case("regex_non_capturing_group", rule([cond("catalogue", "matches", "(?:S1)6")]), says="(?")
engine_case("regex_lookahead", rule([cond("catalogue", "matches", "S(?=1)16")]), says="(?")
engine_case("regex_backreference", rule([cond("catalogue", "matches", "(S)\\1")]), says="back-reference")
engine_case("regex_lazy_repeat", rule([cond("catalogue", "matches", "S.*?6")]), says="repetition cannot be repeated")
engine_case("regex_possessive_repeat", rule([cond("catalogue", "matches", "S.*+")]), says="repetition cannot be repeated")
engine_case("regex_unbalanced", rule([cond("catalogue", "matches", "S(16")]), says="not closed")
engine_case("regex_on_a_number", rule([cond("effort", "matches", "4.*")]), says="not text")
engine_case("regex_state_explosion", rule([cond("catalogue", "matches", "((a|b|c){100}){100}")]), says="too large")
engine_case("regex_that_crashed_the_engine", rule([cond("catalogue", "matches", "(.*[a-zA-Z0-9]){20}")]), expect=0,
            check=silent("ORG001"))
engine_case("regex_catastrophic_backtracking", rule([cond("key", "matches", "(a*)*b")]), expect=0, check=silent("ORG001"),
            files={"more.yaml": yaml.safe_dump({"services": [{"id": "a" * 79, "term": "short", "probability": 0.5,
                                                             "effort": 1, "clients": ["exec"]}]})})
engine_case("regex_fires_as_python_reads_it", rule([cond("catalogue", "matches", "S(09|1[0-9])")]), expect=0,
            check=fires("ORG001", {"reporting", "methodology", "training"}))
engine_case("regex_escaped_dot_and_percent", rule([cond("key", "matches", "report.ng%?")]), expect=0,
            check=fires("ORG001", {"reporting"}))
engine_case("regex_negated_class", rule([cond("catalogue", "matches", "S[^1].*")]), expect=0, check=fires("ORG001", {"methodology"}))
engine_case("regex_from_a_param", rule([cond("catalogue", "matches", param="pattern")], params={"pattern": "^S16"}),
            says="anchor")
engine_case("list_param_compared_with_scalar", rule([cond("effort", "gt", param="x")], params={"x": [1, 2]}), says="is a list")
engine_case("list_param_from_config", rule([cond("catalogue", "eq", param="x")], params={"x": "S16"}),
            files={"pmorules.toml": '[rules.ORG001]\nparams = { x = ["S16", "S09"] }\n'}, where="ws/pmorules.toml:2",
            says="param ORG001.x must be text")
engine_case("text_param_compared_with_number", rule([cond("effort", "gt", param="x")], params={"x": "ten"}), says="is a number")
engine_case("number_compared_with_text_field", rule([cond("status", "eq", 5)]), says="is text")
engine_case("times_with_text_operand", rule([cond("effort", "gt", 1, times={"value": "two"})]), says="computes with numbers")
engine_case("plus_with_a_list_param", rule([cond("effort", "gt", 1, plus={"param": "x"})], params={"x": [1, 2]}),
            says="computes with numbers")
engine_case("empty_in_list", rule([cond("catalogue", "in", [])]), says="at least one value")
engine_case("nine_patterns", rule(match=[{"fact": "service", "as": f"p{i}"} for i in range(9)]), says="patterns")
engine_case("300_rules_on_one_condition", rule(), expect=0,
            files={"rules/many.yaml": rules(*[rule(id=f"MNY{i:03d}") for i in range(300)])},
            check=fires("MNY299", count=3))
engine_case("chained_joins", rule(match=[
    {"fact": "service", "as": "a"}, {"fact": "service", "as": "b", "where": [cond("effort", "gt", ref="a.effort")]},
    {"fact": "service", "as": "s", "where": [cond("effort", "gt", ref="b.effort")]}]), expect=0, check=fires("ORG001", {"reporting"}))
engine_case("long_text_value", rule([cond("catalogue", "eq", "S" * 70000)]), expect=0, check=silent("ORG001"))
engine_case("rule_test_with_list_fact", rule(tests=[{"name": "x", "expect": "fire", "facts": [
    {"fact": "service", "key": "x", "status": ["active"]}]}]), args=("rules", "test", "ws/rules"), says="must be text")


# =========================================================================== non-finite numbers

def toml_case(name: str, toml: str, says: str, **fields: Any) -> None:
    case(name, "numbers", files={"pmorules.toml": toml}, expect=2, where="ws/pmorules.toml:", says=says, **fields)


toml_case("toml_param_nan", "[rules.BAL002]\nparams = { min_quick_share = nan }\n", "nan is not a finite number")
toml_case("toml_param_inf", "[rules.BAL002]\nparams = { min_quick_share = inf }\n", "inf is not a finite number")
toml_case("toml_param_minus_inf", "[rules.BAL002.params]\nmin_quick_share = -inf\n", "-inf is not a finite number")
toml_case("toml_param_1e400", "[rules.BAL002]\nparams = { min_quick_share = 1e400 }\n", "1e400 is out of range")
toml_case("toml_param_list_with_nan", "[rules.BAL002]\nparams = { min_quick_share = [0.1, nan] }\n", "nan")
toml_case("toml_param_huge_int", "[rules.BAL002]\nparams = { min_quick_share = 99999999999999999999 }\n", "out of range")
toml_case("mix_capacity_nan", "[mix]\ncapacity = nan\n", "nan is not a finite number")
toml_case("mix_capacity_inf", "[mix]\ncapacity = inf\n", "inf")
toml_case("mix_capacity_negative", "[mix]\ncapacity = -5\n", "greater than or equal to 0")
toml_case("mix_probability_above_one", "[mix]\ncandidate_probability = 1.5\n", "less than or equal to 1")
toml_case("mix_change_cost_1e400", "[mix]\nchange_cost = 1e400\n", "out of range")
toml_case("mix_candidate_effort_inf", "[mix.candidates.S01]\neffort = inf\n", "inf")
toml_case("mix_candidate_effort_negative", "[mix.candidates.S01]\neffort = -1\n", "greater than or equal to 0")
case("mix_cli_capacity_nan", "numbers", args=("mix", "ws", "--capacity", "nan"), expect=2, where="--capacity:", says="nan")
case("mix_cli_capacity_inf", "numbers", args=("mix", "ws", "--capacity", "inf", "-f", "json"), expect=2, where="--capacity:")
case("mix_cli_capacity_1e400_json", "numbers", args=("mix", "ws", "--capacity", "1e400", "-f", "json"), expect=2,
     where="--capacity:", check=holds(lambda run: "Infinity" not in run.stdout, "no Infinity"))
case("mix_cli_capacity_negative", "numbers", args=("mix", "ws", "--capacity", "-1"), expect=2, where="--capacity:", says="negative")
case("mix_cli_capacity_zero_json", "numbers", args=("mix", "ws", "--capacity", "0", "-f", "json"), check=lambda run: json_of(run.stdout))
case("mix_json_is_strict_json", "numbers", args=("mix", "ws", "-f", "json"), check=lambda run: json_of(run.stdout))


def yaml_number_case(name: str, field: str, text: str, says: str) -> None:
    body = knowledge().replace("effort: 40", f"{field}: {text}" if field != "effort" else f"effort: {text}")
    case(name, "numbers", files={"knowledge.yaml": body}, expect=2, where="ws/knowledge.yaml:", says=says)


yaml_number_case("knowledge_effort_nan", "effort", ".nan", "not a finite number")
yaml_number_case("knowledge_effort_inf", "effort", ".inf", "not a finite number")
yaml_number_case("knowledge_effort_1e400", "effort", "1e400", "out of range")
yaml_number_case("knowledge_effort_huge_int", "effort", "1" + "0" * 5000, "out of range")
yaml_number_case("knowledge_effort_1e308", "effort", "1.0e308", "out of range")
case("knowledge_efforts_sum_overflow", "numbers", files={"knowledge.yaml": knowledge().replace("effort: 40", "effort: 1.7e308")
     .replace("effort: 35", "effort: 1.7e308")}, expect=2, where="ws/knowledge.yaml:", says="out of range")
case("knowledge_probability_nan", "numbers", files={"knowledge.yaml": knowledge().replace("probability: 0.8", "probability: .NaN")},
     expect=2, where="ws/knowledge.yaml:", says="not a finite number")
case("knowledge_review_month_inf", "numbers", files={"knowledge.yaml": knowledge().replace("- 6", "- .inf")},
     expect=2, where="ws/knowledge.yaml:", says="not a finite number")
case("csv_effort_1e400", "numbers", base=False, files={"services.csv": "id,term,effort\na,short,1e400\n"}, expect=2,
     where="ws/services.csv:2", says="out of range")
case("csv_effort_nan_word", "numbers", base=False, files={"services.csv": "id,term,effort\na,short,nan\n"}, expect=2,
     where="ws/services.csv:2", says="effort")
case("csv_probability_infinity_word", "numbers", base=False, files={"services.csv": "id,term,probability\na,short,Infinity\n"},
     expect=2, where="ws/services.csv:2", says="probability")
case("rule_literal_nan", "numbers", files=overlay(rule([cond("effort", "gt", float("nan"))])), expect=2,
     where="ws/rules/org.yaml:", says="not a finite number")
case("rule_literal_inf", "numbers", files=overlay(rule([cond("effort", "gt", float("inf"))])), expect=2,
     where="ws/rules/org.yaml:", says="not a finite number")
case("rule_literal_1e400", "numbers", files={"rules/org.yaml": rules(rule([cond("effort", "gt", 1.5)])).replace("1.5", "1e400")},
     expect=2, where="ws/rules/org.yaml:", says="out of range")
case("rule_param_default_nan", "numbers", files=overlay(rule([cond("effort", "gt", param="x")], params={"x": float("nan")})),
     expect=2, where="ws/rules/org.yaml:", says="not a finite number")
case("rule_times_huge", "numbers", files=overlay(rule([cond("effort", "gt", 1, times={"value": 1e300})])), expect=2,
     where="ws/rules/org.yaml:", says="out of range")
case("rule_test_fact_inf", "numbers", args=("rules", "test", "ws/rules"), files=overlay(rule(tests=[
    {"name": "x", "expect": "fire", "facts": [{"fact": "service", "key": "x", "status": "active", "effort": float("inf")}]}])),
    expect=2, where="ws/rules/org.yaml:", says="not a finite number")
case("tiny_probability_is_not_zero", "numbers", args=("rules", "test", "ws/rules"), files=overlay(rule(
    [cond("probability", "gt", 0)], tests=[
        {"name": "tiny", "expect": "fire", "facts": [{"fact": "service", "key": "x", "probability": 1e-07}]},
        {"name": "zero", "expect": "no-fire", "facts": [{"fact": "service", "key": "y", "probability": 0}]}])),
    check=holds(lambda run: "2 passed, 0 failed" in run.stdout, "both cases pass"))
case("tiny_threshold_compares_exactly", "numbers", args=("rules", "test", "ws/rules"), files=overlay(rule(
    [cond("probability", "lt", 1e-07)], tests=[
        {"name": "below", "expect": "fire", "facts": [{"fact": "service", "key": "x", "probability": 9.99e-08}]},
        {"name": "equal", "expect": "no-fire", "facts": [{"fact": "service", "key": "y", "probability": 1e-07}]}])),
    check=holds(lambda run: "2 passed, 0 failed" in run.stdout, "both cases pass"))
case("analyze_json_is_strict_json", "numbers", args=ANALYZE, check=lambda run: json_of(run.stdout))
case("report_json_is_strict_json", "numbers", args=("report", "ws", "-f", "json"), check=lambda run: json_of(run.stdout))
case("as_of_far_future", "numbers", args=("analyze", "ws", "-f", "json", "--as-of", "9999-12-31"), check=lambda run: json_of(run.stdout))


# =========================================================================== unbounded rendering

def message_case(name: str, message: str, **fields: Any) -> None:
    fields.setdefault("expect", 2)
    if fields["expect"] == 2:
        fields.setdefault("where", "ws/rules/org.yaml:")
    case(name, "rendering", args=fields.pop("args", ANALYZE), files=overlay(rule(message=message)), **fields)


message_case("msg_power_tower", "{{ 9**(9**9) }}", says="digits")
message_case("msg_float_power", "{{ 9.0**(9**9) }}", says="cannot render")
message_case("msg_string_repeat", "{{ 'x' * 10**10 }}", says="repeating")
message_case("msg_list_repeat", "{{ [1] * 10**9 }}", says="repeating")
message_case("msg_nested_ranges", "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", says="loop steps")
message_case("msg_triple_ranges", "{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}x"
             "{% endfor %}{% endfor %}{% endfor %}")
message_case("msg_lipsum", "{{ lipsum(10**8) }}", says="lipsum")
message_case("msg_center_filter", "{{ 'x'|center(10**9) }}", says="center")
message_case("msg_indent_filter", "{{ 'x'|indent(10**9) }}", says="indent")
message_case("msg_ljust_method", "{{ 'x'.ljust(10**9) }}", says="ljust")
message_case("msg_zfill_method", "{{ 'x'.zfill(10**9) }}", says="zfill")
message_case("msg_expandtabs", "{{ '\\t'.expandtabs(10**9) }}", says="expandtabs")
message_case("msg_format_width", "{{ '{:>1000000000}'.format(1) }}", says="format")
message_case("msg_nested_format_width", "{{ '{:{}}'.format(1, 10**9) }}", says="format")
message_case("msg_printf_width", "{{ '%01000000000d' % 1 }}", says="format width")
message_case("msg_printf_star_width", "{{ '%*d' % (10**9, 1) }}", says="'*' width")
message_case("msg_format_filter_width", "{{ '%01000000000d'|format(1) }}", says="format width")
message_case("msg_namespace_doubling", "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}"
             "{% endfor %}{{ ns.s|length }}")
message_case("msg_set_doubling", "{% set a = 'x' * 1000000 %}{% set b = a ~ a %}{% set c = b ~ b %}{{ c|length }}")
message_case("msg_plus_doubling", "{% set ns = namespace(s=[1]) %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}"
             "{% endfor %}{{ ns.s|length }}")
message_case("msg_extend_doubling", "{% set l = [1] %}{% for i in range(64) %}{{ l.extend(l) }}{% endfor %}{{ l|length }}")
message_case("msg_macro_recursion", "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", says="too deeply")
message_case("msg_macro_doubling", "{% macro f(s) %}{{ f(s ~ s) }}{% endmacro %}{{ f('x') }}")
message_case("msg_recursive_loop", "{% for x in [1, 2] recursive %}{{ loop([1, 2]) }}{% endfor %}", says="too deeply")
message_case("msg_replace_empty", "{{ ('x' * 100000).replace('', 'y' * 100000) }}", says="replacement")
message_case("msg_join_huge", "{{ range(100000)|map('string')|join('x' * 100000) }}", says="joining")
message_case("msg_map_center_join", "{{ range(100000)|map('string')|map('center', 1000000)|join }}")
message_case("msg_slice_huge", "{{ range(10)|slice(10**8)|list }}", says="slice")
message_case("msg_big_output", "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", says="writes more than")
message_case("msg_integer_squaring", "{% set ns = namespace(n=3) %}{% for i in range(40) %}{% set ns.n = ns.n * ns.n %}"
             "{% endfor %}{{ ns.n }}", says="digits")
message_case("msg_include_a_file", "{% include '/etc/passwd' %}", says="loader")
message_case("msg_import_a_file", "{% import '/etc/passwd' as x %}{{ x }}", says="loader")
message_case("msg_filter_on_wrong_kind", "{{ [1, 2]|indent(1) }}", says="AttributeError")
message_case("msg_python_internals", "{{ ''.__class__.__mro__[1].__subclasses__() }}")
message_case("msg_ok_with_filters", "{{ s.name }} at {{ s.probability|pct }} over {{ s.months|months }}.", expect=0,
             check=fires("ORG001", count=3))


def template_case(name: str, template: str, fmt: str = "md", **fields: Any) -> None:
    fields.setdefault("expect", 2)
    if fields["expect"] == 2:
        fields.setdefault("where", f"ws/templates/report.{fmt}.j2")
    case(name, "rendering", args=("report", "ws", "-f", fmt), files={f"templates/report.{fmt}.j2": template, **fields.pop("files", {})},
         **fields)


template_case("tpl_power_tower", "{{ 9**(9**9) }}\n", says="digits")
template_case("tpl_nested_ranges", "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n")
template_case("tpl_lipsum", "{{ lipsum(10**8) }}\n", says="lipsum")
template_case("tpl_string_repeat", "{{ 'x' * 10**10 }}\n", says="repeating")
template_case("tpl_include_itself", "{% include 'report.md.j2' %}\n", says="too deeply")
template_case("tpl_extends_loop", "{% extends 'b.j2' %}\n", files={"templates/b.j2": "{% extends 'report.md.j2' %}\n"},
              where="ws/templates/")
template_case("tpl_macro_recursion", "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}\n", says="too deeply")
template_case("tpl_html_nested_ranges", "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n", fmt="html")
template_case("tpl_html_big_set_block", "{% set big %}{% for i in range(100000) %}{{ 'x' * 100000 }}{% endfor %}{% endset %}"
              "{{ big|length }}\n", fmt="html")
template_case("tpl_ok", "# {{ organisation.name }}\n", expect=0, check=holds(lambda run: run.stdout.startswith("# Base PMO"), "rendered"))


# =========================================================================== reading outside the workspace

OUTSIDE = "name: from outside\n"
OUTSIDE_KNOWLEDGE = yaml.safe_dump({"services": [{"id": "outsider", "term": "short", "effort": 1}]})


def outside(name: str, **fields: Any) -> None:
    case(name, "outside", **fields)


outside("templates_etc", args=("report", "ws", "-f", "md"),
        files={"pmorules.toml": 'templates = ["/etc"]\n', "templates/report.md.j2": "{% include 'os-release' %}\n"},
        expect=2, where="ws/pmorules.toml:", says="outside the workspace")
outside("templates_dotdot", args=("report", "ws", "-f", "md"), files={"pmorules.toml": 'templates = ["../elsewhere"]\n'},
        setup=write("elsewhere/report.md.j2", "secret\n"), expect=2, where="ws/pmorules.toml:", says="outside the workspace")
outside("templates_absolute_missing", args=("report", "ws", "-f", "md"), files={"pmorules.toml": 'templates = ["/nonexistent"]\n'},
        expect=2, where="ws/pmorules.toml:")
outside("templates_folder_symlink", args=("report", "ws", "-f", "md"),
        setup=steps(write("elsewhere/report.md.j2", "secret\n"), symlink("ws/templates", "../elsewhere")),
        expect=2, where="ws/templates:", says="outside the workspace")
outside("template_file_symlink_to_etc", args=("report", "ws", "-f", "md"), setup=symlink("ws/templates/report.md.j2", "/etc/hostname"),
        expect=2, where="ws/templates/report.md.j2:", says="outside the workspace")
outside("template_include_symlink", args=("report", "ws", "-f", "md"),
        files={"templates/report.md.j2": "{% include 'x.txt' %}\n"}, setup=symlink("ws/templates/x.txt", "/etc/os-release"),
        expect=2, where="ws/templates/x.txt:", says="outside the workspace")
outside("template_include_absolute", args=("report", "ws", "-f", "md"), files={"templates/report.md.j2": "{% include '/etc/passwd' %}\n"},
        expect=2, where="ws/templates/report.md.j2:1", says="no template")
outside("template_include_dotdot", args=("report", "ws", "-f", "md"),
        files={"templates/report.md.j2": "{% include '../knowledge.yaml' %}\n"}, expect=2, where="ws/templates/report.md.j2:1")
outside("template_include_fifo", args=("report", "ws", "-f", "md"), files={"templates/report.md.j2": "{% include 'pipe.j2' %}\n"},
        setup=fifo("ws/templates/pipe.j2"), expect=2, where="ws/templates/pipe.j2:", says="FIFO")
outside("template_include_dev_zero", args=("report", "ws", "-f", "md"), files={"templates/report.md.j2": "{% include 'zero.j2' %}\n"},
        setup=symlink("ws/templates/zero.j2", "/dev/zero"), expect=2, where="ws/templates/zero.j2:")
outside("template_symlink_inside_workspace", args=("report", "ws", "-f", "md"),
        files={"shared/report.md.j2": "# shared {{ organisation.name }}\n"}, setup=symlink("ws/templates/report.md.j2", "../shared/report.md.j2"),
        check=holds(lambda run: run.stdout.startswith("# shared Base PMO"), "the shared template is used"))
outside("knowledge_symlink_outside", setup=steps(write("elsewhere/more.yaml", OUTSIDE_KNOWLEDGE), symlink("ws/more.yaml", "../elsewhere/more.yaml")),
        expect=2, where="ws/more.yaml:", says="outside the workspace")
outside("knowledge_symlink_to_etc", setup=symlink("ws/passwd.yaml", "/etc/passwd"), expect=2, where="ws/passwd.yaml:",
        says="outside the workspace")
outside("knowledge_symlink_to_proc", setup=symlink("ws/mem.yaml", "/proc/self/mem"), expect=2, where="ws/mem.yaml:")
outside("knowledge_folder_symlink_outside", setup=steps(write("elsewhere/more.yaml", OUTSIDE_KNOWLEDGE),
                                                        symlink("ws/knowledge", "../elsewhere")),
        expect=2, where="ws/knowledge:", says="outside the workspace")
outside("knowledge_symlink_inside", args=("validate", "ws"), files={"data/more.yaml": OUTSIDE_KNOWLEDGE},
        setup=symlink("ws/more.yaml", "data/more.yaml"), check=holds(lambda run: "4 services" in run.stdout, "4 services"))
outside("config_symlink_outside", setup=steps(write("elsewhere/pmorules.toml", 'name = "x"\n'),
                                              symlink("ws/pmorules.toml", "../elsewhere/pmorules.toml")),
        expect=2, where="ws/pmorules.toml:", says="outside the workspace")
outside("rule_paths_outside", files={"pmorules.toml": 'rule_paths = ["../shared"]\n'}, setup=write("shared/org.yaml", rules(rule())),
        expect=2, where="ws/pmorules.toml:", says="outside the workspace")
outside("history_path_dotdot", args=("report", "ws", "-f", "md"),
        files={"pmorules.toml": "[history.q1]\ndate = 2026-01-01\npath = '../old'\n"}, setup=write("old/knowledge.yaml", knowledge()),
        expect=2, where="ws/pmorules.toml:3", says="outside the workspace")
outside("history_folder_symlink_outside", args=("report", "ws", "-f", "md"),
        files={"pmorules.toml": "[history.q1]\ndate = 2026-01-01\npath = 'reviews/q1'\n"},
        setup=steps(write("old/knowledge.yaml", knowledge()), symlink("ws/reviews/q1", "../../old")),
        expect=2, where="ws/pmorules.toml:3", says="outside the workspace")
outside("scenario_symlink_outside", args=("mix", "ws", "--compare"),
        setup=steps(write("elsewhere/s.yaml", "scenarios:\n  - {name: x, drop: [training]}\n"),
                    symlink("ws/scenarios/s.yaml", "../../elsewhere/s.yaml")),
        expect=2, where="ws/scenarios/s.yaml:", says="outside the workspace")
outside("rule_paths_absolute", files={"pmorules.toml": 'rule_paths = ["/etc"]\n'}, expect=2, where="ws/pmorules.toml:",
        says="outside the workspace")
outside("rules_folder_symlink_outside", setup=steps(write("shared/org.yaml", rules(rule())), symlink("ws/rules", "../shared")),
        expect=2, where="ws/rules:", says="outside the workspace")
outside("rule_file_symlink_outside", setup=steps(write("shared/org.yaml", rules(rule())), symlink("ws/rules/org.yaml", "../../shared/org.yaml")),
        expect=2, where="ws/rules/org.yaml:", says="outside the workspace")
outside("rule_subfolder_symlink_loop", files=overlay(rule()), setup=symlink("ws/rules/loop", "."), args=ANALYZE,
        check=fires("ORG001", count=3))
outside("rule_paths_fifo", files={"pmorules.toml": 'rule_paths = ["more/pipe.yaml"]\n'}, setup=fifo("ws/more/pipe.yaml"),
        expect=2, where="ws/pmorules.toml:", says="FIFO")
outside("rule_paths_device", files={"pmorules.toml": 'rule_paths = ["null.yaml"]\n'}, setup=symlink("ws/null.yaml", "/dev/null"),
        expect=2)
outside("rule_paths_wrong_kind", files={"pmorules.toml": 'rule_paths = ["notes.txt"]\n', "notes.txt": "not rules\n"},
        expect=2, where="ws/pmorules.toml:", says="not a rule file")
outside("rules_check_path_outside_is_allowed", args=("rules", "check", "shared"), setup=write("shared/org.yaml", rules(complete(rule()))),
        check=holds(lambda run: "1 rules OK" in run.stdout, "the rules are checked"))


# =========================================================================== output injection

SCRIPT = "<script>alert(1)</script>"
LINK = "[x](javascript:alert(1))"
ANSI = "PMO\x1b[31mRED\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\\x07\x9b2J\u202eevil"


def clean_terminal(run: Run) -> None:
    for stream in (run.stdout, run.stderr):
        bad = [c for c in stream if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F or c in "\u202e\u2066"]
        assert not bad, f"control characters reach the terminal: {bad!r}"


def no_raw(*payloads: str) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        for payload in payloads:
            assert payload not in run.stdout, f"{payload!r} printed raw"
    return check


def no_link(run: Run) -> None:
    """No unescaped ``](javascript:`` outside code blocks (an escaped ``\\]`` closes no link; a Mermaid label is text)."""
    prose = re.sub(r"^```.*?^```", "", run.stdout, flags=re.S | re.M)
    assert re.search(r"(?<!\\)\]\(javascript:", prose) is None, "a javascript: link is printed raw"


def md_table_intact(run: Run) -> None:
    rows = [line for line in run.stdout.splitlines() if line.startswith("| ")]
    for line in rows:
        cells = [c for c in line.replace("\\|", "").split("|")][1:-1]
        assert len(cells) == 5, line


def injection(name: str, args: tuple[str, ...], check: Callable[[Run], None], **names: Any) -> None:
    files = {"knowledge.yaml": knowledge(**names)}
    case(name, "injection", args=args, files={**files, **overlay(rule())}, check=check)


MD = ("analyze", "ws", "-f", "md")
injection("md_script_in_org_name", MD, all_of(no_raw("<script>"), clean_terminal), org=SCRIPT)
injection("md_script_in_service_name", MD, no_raw("<script>"), service=SCRIPT)
injection("md_javascript_link", MD, no_link, service=LINK)
injection("md_image", MD, no_raw("![x](http"), service="![x](http://evil.example/x.png)")
injection("md_html_comment", MD, no_raw("<!--"), service="<!-- hidden")
injection("md_autolink", MD, no_raw("<javascript:"), service="<javascript:alert(1)>")
injection("md_table_pipes", MD, md_table_intact, service="a | b | c | d")
injection("md_heading_in_name", MD, holds(lambda run: not any(line.startswith("# Injected") for line in run.stdout.splitlines()),
                                         "no injected heading"), org="PMO\n# Injected")
injection("md_emphasis_and_code", MD, no_raw("**bold**", "`code`"), service="**bold** `code`")
injection("md_control_characters", MD, clean_terminal, org=ANSI, service=ANSI)
injection("md_report_script", ("report", "ws", "-f", "md"), all_of(no_raw("<script>"), no_link), org=SCRIPT, service=LINK)
injection("html_report_script", ("report", "ws", "-f", "html"), no_raw(SCRIPT, "<img src=x"), org=SCRIPT,
          service="<img src=x onerror=alert(1)>")
injection("html_report_math_text", ("report", "ws", "-f", "html"),
          holds(lambda run: run.stdout.count("$\\notacommand{x}$") >= 2, "the name is drawn and written literally"),
          service="$\\notacommand{x}$")
injection("html_report_dollar_signs", ("report", "ws", "-f", "html"),
          holds(lambda run: run.stdout.count("$5 to $10") >= 2, "the dollar signs stay"), service="$5 to $10", goal="$5 to $10")
injection("html_report_control_characters", ("report", "ws", "-f", "html"), clean_terminal, org=ANSI, service=ANSI)
injection("md_report_control_characters", ("report", "ws", "-f", "md"), clean_terminal, org=ANSI, service=ANSI)
TEXT = ("analyze", "ws")
injection("text_ansi_in_org_name", TEXT, clean_terminal, org=ANSI)
injection("text_ansi_in_service_name", TEXT, clean_terminal, service=ANSI)
injection("text_rich_markup_in_name", TEXT, holds(lambda run: "[bold red]pwned[/bold red]" in run.stdout, "markup shown as written"),
          org="[bold red]pwned[/bold red]")
injection("text_rich_link_markup", TEXT, holds(lambda run: "[link=javascript:x]y[/link]" in run.stdout, "markup shown as written"),
          org="[link=javascript:x]y[/link]")
injection("text_newline_in_name", TEXT, holds(lambda run: "\nERROR forged" not in run.stdout, "no forged line"), org="PMO\nERROR forged")
injection("why_ansi", ("why", "reporting", "ws"), clean_terminal, org=ANSI, service=ANSI)
injection("why_not_ansi", ("why", "reporting", "ws", "--not", "PRB001"), clean_terminal, org=ANSI, service=ANSI)
injection("mix_ansi", ("mix", "ws"), clean_terminal, org=ANSI, service=ANSI)
injection("json_control_characters", ANALYZE, all_of(lambda run: json_of(run.stdout), clean_terminal), org=ANSI, service=ANSI)
case("rules_list_ansi_title", "injection", args=("rules", "list", "-w", "ws"), files=overlay(rule(category=ANSI)),
     check=clean_terminal)
case("rules_show_ansi", "injection", args=("rules", "show", "ORG001", "-w", "ws"),
     files=overlay(rule(title=ANSI, why=ANSI, category="[red]x[/red]")),
     check=all_of(clean_terminal, holds(lambda run: "[red]x[/red]" in run.stdout, "markup shown as written")))
case("rule_message_ansi", "injection", args=TEXT, files=overlay(rule(message="{{ s.name }} \x1b[2J\x1b]0;title\x07")),
     check=clean_terminal)
case("rule_message_markdown", "injection", args=MD, files=overlay(rule(message="<img src=x onerror=alert(1)> [a](javascript:b)")),
     check=all_of(no_raw("<img"), no_link))
case("error_message_ansi_file_name", "injection", args=("validate", "ws"), files={"bad\x1b[31m.yaml": "services: [1\n"},
     expect=2, where="ws/bad\\x1b[31m.yaml:", check=clean_terminal)


# =========================================================================== unlocated or silent input problems

def unlocated(name: str, **fields: Any) -> None:
    case(name, "unlocated", **fields)


unlocated("knowledge_unreadable", dac=True, setup=mode("ws/knowledge.yaml", 0), expect=2, where="ws/knowledge.yaml:",
          says="Permission denied")
unlocated("knowledge_dangling_symlink", setup=symlink("ws/more.yaml", "missing.yaml"), expect=2, where="ws/more.yaml:",
          says="broken symlink")
unlocated("knowledge_symlink_loop", setup=symlink("ws/loop.yaml", "loop.yaml"), expect=2, where="ws/loop.yaml:", says="loop")
unlocated("knowledge_fifo", setup=fifo("ws/pipe.yaml"), expect=2, where="ws/pipe.yaml:", says="FIFO")
unlocated("knowledge_directory_named_yaml", setup=lambda d: (d / "ws" / "dir.yaml").mkdir(), expect=2, where="ws/dir.yaml:",
          says="directory")
unlocated("knowledge_folder_unreadable", dac=True, files={"knowledge/more.yaml": OUTSIDE_KNOWLEDGE}, setup=mode("ws/knowledge", 0),
          expect=2, where="ws/knowledge:", says="Permission denied")
unlocated("workspace_unreadable", dac=True, setup=mode("ws", 0), expect=2, where="ws:")
unlocated("upper_case_knowledge_suffix_is_read", files={"MORE.YAML": OUTSIDE_KNOWLEDGE},
          check=holds(lambda run: "4 services" in run.stdout, "4 services"))
unlocated("knowledge_not_utf8", files={"more.yaml": b"services:\n  - {id: caf\xe9, term: short}\n"}, expect=2,
          where="ws/more.yaml:2:", says="not UTF-8")
unlocated("knowledge_billion_laughs", files={"more.yaml": "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(9))},
    expect=2, where="ws/more.yaml:", says="aliases")
unlocated("knowledge_alias_chain_depth", files={"more.yaml": "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 300))},
          expect=2, where="ws/more.yaml:", says="levels deep")
unlocated("knowledge_deep_nesting", files={"more.yaml": "services: " + "[" * 500 + "]" * 500 + "\n"}, expect=2,
          where="ws/more.yaml:1:", says="deep")
unlocated("knowledge_huge_integer_key", files={"more.yaml": "1" + "0" * 10000 + ": x\n"}, expect=2, where="ws/more.yaml:1:")
unlocated("toml_not_utf8", files={"pmorules.toml": b'name = "caf\xe9"\n'}, expect=2, where="ws/pmorules.toml:1:", says="not UTF-8")
unlocated("toml_deep_array", files={"pmorules.toml": "name = " + "[" * 5000 + "]" * 5000 + "\n"}, expect=2, where="ws/pmorules.toml:1:", says="nested too deeply")
unlocated("toml_deep_inline_tables", files={"pmorules.toml": "x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n"}, expect=2,
          where="ws/pmorules.toml:1:", says="nested too deeply")
unlocated("toml_deep_table_headers", files={"pmorules.toml": "[" + ".".join(["a"] * 2000) + "]\nb = 1\n"}, expect=2,
          where="ws/pmorules.toml:")
unlocated("toml_unreadable", dac=True, files={"pmorules.toml": 'name = "x"\n'}, setup=mode("ws/pmorules.toml", 0), expect=2,
          where="ws/pmorules.toml:", says="Permission denied")
unlocated("toml_is_a_directory", setup=lambda d: (d / "ws" / "pmorules.toml").mkdir(), expect=2, where="ws/pmorules.toml:",
          says="directory")
unlocated("toml_is_a_fifo", setup=fifo("ws/pmorules.toml"), expect=2, where="ws/pmorules.toml:", says="FIFO")
unlocated("toml_dangling_symlink", setup=symlink("ws/pmorules.toml", "nowhere.toml"), expect=2, where="ws/pmorules.toml:")
unlocated("init_onto_a_file", args=("init", "afile"), setup=write("afile", "keep\n"), expect=2, where="afile:", says="not a directory")
unlocated("init_in_read_only_folder", args=("init", "ro/new"), dac=True, setup=steps(lambda d: (d / "ro").mkdir(), mode("ro", 0o555)),
          expect=2, where="ro/new:", says="Permission denied")
unlocated("init_rules_is_a_file", args=("init", "fresh"), setup=write("fresh/rules", "x"), expect=2, where="fresh/rules:",
          outputs=("fresh/pmorules.toml", "fresh/knowledge.yaml"))
unlocated("init_existing_workspace_keeps_files", args=("init", "ws"),
          outputs=("ws/pmorules.toml", "ws/rules", "ws/rules/organisation.yaml"))
unlocated("csv_not_utf8", base=False, files={"services.csv": b"id,name,term\na,caf\xe9,short\n"}, expect=2,
          where="ws/services.csv:2:", says="not UTF-8")
unlocated("csv_duplicate_header", base=False, files={"services.csv": "id,term,id\na,short,b\n"}, expect=2,
          where="ws/services.csv:1", says="named twice")
unlocated("csv_cell_beyond_header", base=False, files={"services.csv": "id,term\na,short,stray\n"}, expect=2,
          where="ws/services.csv:2", says="no header")
unlocated("csv_blank_header_row", base=False, files={"services.csv": ",,\na,short,x\n"}, expect=2, where="ws/services.csv:1",
          says="header row is blank")
unlocated("csv_empty_first_line", base=False, files={"services.csv": "\nid,term\na,short\n"}, expect=2, where="ws/services.csv:1",
          says="header row is blank")
unlocated("csv_nul_byte", base=False, files={"services.csv": "id,term\na\x00,short\n"}, expect=2, where="ws/services.csv:")
unlocated("csv_huge_field", base=False, files={"services.csv": "id,name,term\na,\"" + "x" * 200000 + "\",short\n"}, expect=2,
          where="ws/services.csv:")
unlocated("csv_too_many_rows", base=False, files={"services.csv": lambda: "id,term\n" + "".join(f"s{i},short\n" for i in range(100_001))},
          expect=2, where="ws/services.csv:", says="rows")
unlocated("csv_too_many_columns", base=False, files={"services.csv": ",".join(f"c{i}" for i in range(150)) + "\n"}, expect=2,
          where="ws/services.csv:1", says="columns")
unlocated("csv_unreadable", base=False, dac=True, files={"services.csv": "id,term\na,short\n"}, setup=mode("ws/services.csv", 0),
          expect=2, where="ws/services.csv:", says="Permission denied")


def _xlsx_bytes(sheets: dict[str, str], dimension: str | None = None) -> bytes:
    """A minimal workbook written by hand, so a sheet can be made as large or odd as a case needs."""
    buffer = io.BytesIO()
    names = list(sheets)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml",
                      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                      '<Default Extension="xml" ContentType="application/xml"/>'
                      '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                      + "".join(f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="application/vnd.openxmlformats-'
                                f'officedocument.spreadsheetml.worksheet+xml"/>' for i in range(len(names))) + "</Types>")
        book.writestr("_rels/.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                      'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
                      '2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        book.writestr("xl/workbook.xml", '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
                      'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
                      + "".join(f'<sheet name="{n}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, n in enumerate(names))
                      + "</sheets></workbook>")
        book.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                      'openxmlformats.org/package/2006/relationships">' + "".join(
                          f'<Relationship Id="rId{i + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                          f'worksheet" Target="worksheets/sheet{i + 1}.xml"/>' for i in range(len(names))) + "</Relationships>")
        for i, rows in enumerate(sheets.values()):
            dim = f'<dimension ref="{dimension}"/>' if dimension else ""
            book.writestr(f"xl/worksheets/sheet{i + 1}.xml", '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                          f'openxmlformats.org/spreadsheetml/2006/main">{dim}<sheetData>{rows}</sheetData></worksheet>')
    return buffer.getvalue()


def _row(number: int, cells: dict[str, str]) -> str:
    return f'<row r="{number}">' + "".join(f'<c r="{col}{number}" t="inlineStr"><is><t>{text}</t></is></c>'
                                           for col, text in cells.items()) + "</row>"


_HEADER = _row(1, {"A": "id", "B": "term"})
unlocated("xlsx_many_rows", base=False, files={"k.xlsx": lambda: _xlsx_bytes({"services": _HEADER + "".join(
    f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>s</t></is></c></row>' for n in range(2, 120_002))})},
    expect=2, where="ws/k.xlsx!services!A1", says="rows")
unlocated("xlsx_declared_million_rows", base=False, files={"k.xlsx": _xlsx_bytes({"services": _HEADER}, "A1:B1048576")},
          expect=2, where="ws/k.xlsx!services!A1", says="rows")
unlocated("xlsx_wide_dimension", base=False, files={"k.xlsx": _xlsx_bytes({"services": _HEADER + _row(2, {"A": "a", "B": "short",
                                                                                                      "XFD": "far"})}, "A1:XFD2")},
          expect=2, where="ws/k.xlsx!services!", says="columns")
unlocated("xlsx_cell_far_right", base=False, files={"k.xlsx": lambda: _xlsx_bytes({"services": _HEADER + "".join(
    _row(n, {"A": f"s{n}", "B": "short", "XFD": "far"}) for n in range(2, 2000))})}, expect=2, where="ws/k.xlsx!services!", says="columns")
def _bomb() -> bytes:
    """A few hundred kilobytes that expand to 300 MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/worksheets/sheet1.xml", "<a>" + " " * 300_000_000 + "</a>")
    return buffer.getvalue()


unlocated("xlsx_bomb", base=False, files={"k.xlsx": _bomb}, expect=2, where="ws/k.xlsx:", says="expands to")
unlocated("xlsx_duplicate_header", base=False, files={"k.xlsx": _xlsx_bytes({"services": _row(1, {"A": "id", "B": "id"})
                                                                                      + _row(2, {"A": "a", "B": "b"})})},
          expect=2, where="ws/k.xlsx!services!B1", says="named twice")
unlocated("xlsx_value_beyond_header", base=False, files={"k.xlsx": _xlsx_bytes({"services": _HEADER + _row(2, {"A": "a", "B": "short",
                                                                                                          "C": "stray"})})},
          expect=2, where="ws/k.xlsx!services!C2", says="no header")
unlocated("xlsx_not_a_zip", base=False, files={"k.xlsx": b"PK\x03\x04 this is not a workbook"}, expect=2, where="ws/k.xlsx:")
unlocated("xlsx_rows_all_claim_row_2", base=False, files={"k.xlsx": lambda: _xlsx_bytes({"services": _HEADER + "".join(
    _row(2, {"A": f"s{n}", "B": "short"}) for n in range(150_000))})}, expect=2, where="ws/k.xlsx!services!A2", says="comes again")
unlocated("xlsx_cells_all_at_one_place", base=False, files={"k.xlsx": _xlsx_bytes({"services": _HEADER + '<row r="2">' + "".join(
    f'<c r="A2" t="inlineStr"><is><t>s{n}</t></is></c>' for n in range(3000)) + "</row>"})},
    expect=2, where="ws/k.xlsx!services!A2", says="comes again")
unlocated("xlsx_sheets_differ_only_in_case", base=False, files={"k.xlsx": _xlsx_bytes({
    "services": _HEADER + _row(2, {"A": "a", "B": "short"}), "Services": _HEADER + _row(2, {"A": "b", "B": "long"})})},
    expect=2, where="ws/k.xlsx!Services!A1", says="both hold the services")
unlocated("xlsx_error_value_in_id", base=False, files={"k.xlsx": _xlsx_bytes({"services": _HEADER + _row(2, {"A": "a", "B": "short"})
                                                                                   + '<row r="3"><c r="A3" t="e"><v>#N/A</v></c></row>'})},
          expect=2, where="ws/k.xlsx!services!A3", says="Excel error #N/A")
unlocated("yaml_330k_services", base=False, files={"big.yaml": lambda: "services:\n" + "".join(
    f"  - {{id: s{n}, term: short}}\n" for n in range(330_000))}, expect=2, where="ws/big.yaml:120002:5",
    says="more than 120,000 services", timeout=60)
unlocated("services_beyond_the_bound_over_two_files", base=False, files={
    name: "services:\n" + "".join(f"  - {{id: {name[0]}{n}, term: short}}\n" for n in range(61_000)) for name in ("a.yaml", "b.yaml")},
    expect=2, where="ws/b.yaml:59002:5", says="more than 120,000 services", timeout=60)
unlocated("export_round_trips_tricky_names", files={"knowledge.yaml": knowledge(org="#1 PMO", client="1.0e+16", service="=1+1",
                                                                                goal="#REF!")},
          setup=lambda d: (d / "back").mkdir(), outputs=("back/pmo.xlsx",), script=(
    "import sys\nfrom pathlib import Path\nfrom pmorules.knowledge import load_workspace\n"
    "from pmorules.workbook import export_workspace\nexport_workspace(Path('ws'), 'ws', Path('back/pmo.xlsx'))\n"
    "kb = load_workspace('back')\nnames = (kb.organisation.name, kb.clients['exec'].name, kb.services['reporting'].name, "
    "kb.goals['G1'].name)\nassert names == ('#1 PMO', '1.0e+16', '=1+1', '#REF!'), names\n"))
unlocated("missing_workspace", args=("validate", "nowhere"), expect=2, where="nowhere:", says="no such workspace")
unlocated("workspace_is_a_file", args=("validate", "ws/knowledge.yaml"), expect=2, where="ws/knowledge.yaml:")
unlocated("bad_as_of", args=("analyze", "ws", "--as-of", "2026-13-01"), expect=2, where="--as-of:")
unlocated("big_knowledge_file_is_fine", files={"more.yaml": yaml.safe_dump({"services": [
    {"id": f"s{i}", "term": "short", "probability": 0.5, "effort": 1, "clients": ["exec"]} for i in range(2000)]})},
    check=holds(lambda run: "2003 services" in run.stdout, "2003 services"))


# --------------------------------------------------------------------------- issue 20: exit 3 on the newer inputs

BASELINE = ("analyze", "ws", "--baseline", "ws/old.json")
unlocated("baseline_deep_nesting", args=BASELINE, files={"old.json": lambda: "[" * 100_000 + "]" * 100_000}, expect=2,
          where="ws/old.json:1:", says="nesting")
unlocated("baseline_deep_objects", args=BASELINE, files={"old.json": lambda: '{"a": ' * 50_000 + "1" + "}" * 50_000}, expect=2,
          where="ws/old.json:1:")
unlocated("baseline_5000_digit_integer", args=BASELINE, files={"old.json": lambda: '{"findings": [], "n": ' + "9" * 5000 + "}"},
          expect=2, where="ws/old.json:1:", says="out of range")
unlocated("baseline_5000_digit_fingerprint", args=BASELINE,
          files={"old.json": lambda: '{"findings": [{"fingerprint": 1' + "0" * 5000 + "}]}"}, expect=2, where="ws/old.json:1:")
unlocated("history_path_with_nul", args=("report", "ws", "-f", "md"),
          files={"pmorules.toml": '[history.q1]\ndate = 2026-01-01\npath = "reviews/a\\u0000b"\n'}, expect=2,
          where="ws/pmorules.toml:", says="NUL")
for _value in ("1e16", "1e308", "1" + "0" * 400, "-1e16"):
    unlocated(f"effort_option_{_value[:6]}", args=("mix", "ws", "--effort", f"reporting={_value}"), expect=2, where="--effort:",
              says="out of range")
for _port in ("-1", "65536", "99999999999999999999"):
    unlocated(f"port_{_port}", args=("serve", "ws", "--port", _port), expect=2, where="--port:", says="not a port")
for _name, _toml in (("string_with_rules_list", 'rule_paths = "more"\nrules = ["x"]\n'),
                     ("number_with_rules_paths", 'rule_paths = 5\n[rules]\npaths = ["x"]\n'),
                     ("rules_paths_number", "[rules]\npaths = 5\n"),
                     ("rules_paths_string", 'rules = { paths = "more" }\n'),
                     ("table", "rule_paths = { a = 1 }\n")):
    unlocated(f"rule_paths_{_name}", files={"pmorules.toml": _toml}, expect=2, where="ws/pmorules.toml:", says="list")
unlocated("toml_deep_array_after_strings_and_comments", files={"pmorules.toml": lambda: '# [[[[\nname = "[[{{"\nx = '
          + "[" * 5000 + "]" * 5000 + "\n"}, expect=2, where="ws/pmorules.toml:3:37", says="nested too deeply")


# --------------------------------------------------------------------------- issue 20: whose repository a revision reads

def _repository(rel: str, files: dict[str, str], tag: str = "v1") -> Callable[[Path], None]:
    """A git repository at ``rel`` with ``files`` committed and tagged."""
    def make(directory: Path) -> None:
        root = directory / rel
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
        for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "committed"], ["tag", tag]):
            subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false",
                            "-c", "tag.gpgsign=false", *args], cwd=root, check=True, capture_output=True, timeout=60)
    return make


def _lose(rel: str, what: str) -> Callable[[Path], None]:
    """Delete the object ``what`` (a revision expression) from the repository at ``rel``: a damaged repository."""
    def damage(directory: Path) -> None:
        oid = subprocess.run(["git", "rev-parse", what], cwd=directory / rel, check=True, capture_output=True, text=True,
                             timeout=60).stdout.strip()
        (directory / rel / ".git" / "objects" / oid[:2] / oid[2:]).unlink()
    return damage


SECRET = knowledge(org="SECRET-ORG", service="SECRET-SERVICE")
_GITFILE = steps(_repository("other", {"secret.yaml": SECRET}), write("ws/.git", "gitdir: ../other/.git\n"))
outside("gitfile_to_another_repository_diff", args=("diff", "ws", "--since", "v1", "-f", "json"), setup=_GITFILE, expect=2,
        where="--since:", says="a .git file names another repository", check=no_raw("SECRET"))
outside("gitfile_to_another_repository_report", args=("report", "ws", "-f", "md"),
        files={"pmorules.toml": "[history.q1]\ndate = 2026-01-01\nrev = 'v1'\n"}, setup=_GITFILE, expect=2,
        where="ws/pmorules.toml:", says="a .git file names another repository", check=no_raw("SECRET"))
outside("gitfile_to_another_repository_absolute", args=("diff", "ws", "--since", "v1"),
        setup=steps(_repository("other", {"secret.yaml": SECRET}),
                    lambda d: (d / "ws" / ".git").write_text(f"gitdir: {d / 'other' / '.git'}\n")),
        expect=2, where="--since:", says="a .git file names another repository", check=no_raw("SECRET"))
unlocated("history_blob_missing", args=("diff", "ws", "--since", "v1"),
          setup=steps(_repository("ws", {}), _lose("ws", "v1:knowledge.yaml")), expect=2, where="--since:",
          says="is damaged: git cannot read knowledge.yaml")
unlocated("history_commit_missing", args=("diff", "ws", "--since", "v1"),
          setup=steps(_repository("ws", {}), _lose("ws", "v1")), expect=2, where="--since:", says="is damaged")
unlocated("history_blob_corrupt", args=("diff", "ws", "--since", "v1"),
          setup=steps(_repository("ws", {}), lambda d: _corrupt(d / "ws")), expect=2, where="--since:", says="is damaged")


def _corrupt(root: Path) -> None:
    oid = subprocess.run(["git", "rev-parse", "v1:knowledge.yaml"], cwd=root, check=True, capture_output=True, text=True,
                         timeout=60).stdout.strip()
    path = root / ".git" / "objects" / oid[:2] / oid[2:]
    path.chmod(0o644)
    path.write_bytes(b"not a zlib stream")


# =========================================================================== the live report's server

_SERVE = """
import os, signal, socket, struct, subprocess, sys, time
os.chdir(sys.argv[1])
server = subprocess.Popen([sys.executable, "-m", "pmorules", "serve", "ws", "--port", "0"], stderr=subprocess.PIPE, text=True)


def ask(request, linger=False):
    with socket.create_connection(("127.0.0.1", port), timeout=20) as client:
        client.sendall(request.encode())
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    return answer


def version():
    return ask(f"GET /version HTTP/1.1\\r\\nHost: 127.0.0.1:{port}\\r\\nConnection: close\\r\\n\\r\\n").split(b"\\r\\n\\r\\n")[-1]


def rendered():
    for _ in range(900):  # at most 90 s until the first rendering
        if version() != b"0":
            return ask(f"GET / HTTP/1.1\\r\\nHost: localhost:{port}\\r\\n\\r\\n")
        time.sleep(0.1)
    raise AssertionError("never rendered")


try:
    port = int(server.stderr.readline().split("http://127.0.0.1:")[1].split("/")[0])
    page = ask(f"GET / HTTP/1.1\\r\\nHost: localhost:{port}\\r\\n\\r\\n")  # the page while rendering has the token too
    token = page.split(b'<meta name="pmorules-token" content="')[1].split(b'"')[0].decode()
{attack}
finally:
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    sys.stderr.write(server.stderr.read())
assert server.returncode == 0, server.returncode
"""


def serve_case(name: str, attack: str, **fields: Any) -> None:
    body = "\n".join("    " + line for line in attack.strip().splitlines())
    case(name, "serve", script=_SERVE.replace("{attack}", body), **{"timeout": 120, **fields})


serve_case("host_rebinding", """
answer = ask(f"GET / HTTP/1.1\\r\\nHost: evil.example:{port}\\r\\n\\r\\n")
assert answer.startswith(b"HTTP/1.0 421 ") and b"Recommendations report" not in answer and token.encode() not in answer, answer[:300]
""")
serve_case("host_rebinding_version", """
assert ask(f"GET /version HTTP/1.1\\r\\nHost: rebind.example\\r\\n\\r\\n").startswith(b"HTTP/1.0 421 ")
assert ask(f"HEAD / HTTP/1.1\\r\\nHost: 127.0.0.1.evil.example:{port}\\r\\n\\r\\n").startswith(b"HTTP/1.0 421 ")
""")
serve_case("host_missing", """
assert ask("GET / HTTP/1.0\\r\\n\\r\\n").startswith(b"HTTP/1.0 421 ")
""")
serve_case("host_twice", """
answer = ask(f"GET / HTTP/1.1\\r\\nHost: 127.0.0.1:{port}\\r\\nHost: evil.example\\r\\n\\r\\n")
assert answer.startswith(b"HTTP/1.0 400 ") and token.encode() not in answer
""")
serve_case("post_from_another_origin", """
answer = ask(f"POST / HTTP/1.1\\r\\nHost: 127.0.0.1:{port}\\r\\nOrigin: http://evil.example\\r\\nX-Pmorules-Token: {token}\\r\\nContent-Length: 0\\r\\n\\r\\n")
assert answer.startswith(b"HTTP/1.0 403 "), answer[:200]
answer = ask(f"DELETE / HTTP/1.1\\r\\nHost: 127.0.0.1:{port}\\r\\nOrigin: null\\r\\n\\r\\n")
assert answer.startswith((b"HTTP/1.0 403 ", b"HTTP/1.0 501 ")) and token.encode() not in answer, answer[:200]  # no other method is served
""")
serve_case("post_without_token", """
for extra in ("", "X-Pmorules-Token: guess\\r\\n", f"X-Pmorules-Token: {token[:-1]}\\r\\n"):
    answer = ask(f"POST / HTTP/1.1\\r\\nHost: 127.0.0.1:{port}\\r\\nOrigin: http://127.0.0.1:{port}\\r\\n{extra}Content-Length: 0\\r\\n\\r\\n")
    assert answer.startswith(b"HTTP/1.0 403 "), (extra, answer[:200])
""")
serve_case("idle_flood", """
flood = []
for _ in range(200):  # half-sent requests, never finished
    client = socket.create_connection(("127.0.0.1", port), timeout=20)
    client.sendall(b"GET / HTTP/1.1\\r\\nHost: 127.0")
    flood.append(client)
assert version().isdigit()  # answered, with 200 connections hanging
threads = int(open(f"/proc/{server.pid}/status").read().split("Threads:")[1].split()[0])
assert threads < 60, threads  # not one thread per idle connection
for client in flood:
    client.close()
""")
serve_case("slow_request", """
with socket.create_connection(("127.0.0.1", port), timeout=20) as client:
    client.sendall(b"GET / HTTP/1.1\\r\\nX-Slow: ")
    start = time.monotonic()
    while time.monotonic() - start < 45:  # a byte a second: cut after 30 s (the test's own bound: 45 s)
        try:
            client.sendall(b"x")
        except OSError:
            break
        client.settimeout(1)
        try:
            if client.recv(100) == b"":
                break
        except TimeoutError:
            pass
    else:
        raise AssertionError("a request sent a byte a second is never cut")
""", timeout=90)
serve_case("clients_hang_up_early", """
rendered()  # a long page, to be cut off
for _ in range(20):
    client = socket.create_connection(("127.0.0.1", port), timeout=20)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
    client.sendall(f"GET / HTTP/1.1\\r\\nHost: 127.0.0.1:{port}\\r\\n\\r\\n".encode())
    client.close()
time.sleep(1)
assert version() == b"1"
""", files={"more.yaml": lambda: yaml.safe_dump({"services": [
    {"id": f"s{i}", "name": "x" * 200, "term": "short", "probability": 0.5, "effort": 0.01, "clients": ["exec"]}
    for i in range(300)]})})
serve_case("errors_page_names_no_outside_path", """
page = rendered()
assert b'<main id="errors">' in page
assert os.getcwd().encode() not in page and b"/elsewhere" not in page and b"/etc" not in page, page
assert b"more.yaml: leads outside the workspace" in page
""", setup=steps(write("elsewhere/more.yaml", OUTSIDE_KNOWLEDGE), symlink("ws/more.yaml", "../elsewhere/more.yaml")))
