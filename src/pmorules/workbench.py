"""The what-if workbench behind ``pmorules serve``: today's analysis kept warm, a what-if applied to it.

A PMO lead tries options with the people in the room, so a what-if must answer in a blink. The workbench
keeps what costs time (the loaded workspace, its compiled rules, today's recommended mix) from one
rendering of the workspace to the next; a what-if then costs one re-analysis (``evaluate_scenario``,
the same code as ``pmorules mix --drop …``), and its report is the same render function ``report`` uses.
Requests come as JSON from a browser or a script: every field is checked here, every problem is located
as ``request:FIELD[INDEX]: message``, and a request never names a path (a saved scenario's file name is
its validated name, in the workspace's ``scenarios/`` folder).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .analysis import Analysis, analyze
from .diff import History, history_of
from .errors import Diagnostic, InputError, Location, did_you_mean
from .findings import names_of
from .mix import MixResult, recommend
from .mix.milp import solving_sets
from .mix.problem import additions, approached_probability, resized_probability
from .mix.scenarios import FOLDER, LISTS, MAPS, Scenario, ScenarioResult, ScenarioSpec, evaluate_scenario, load_scenarios
from .numbers import number_problem
from .output import Protected, write_output
from .yamlio import dump_yaml
from .report import render_report
from .report.warm import Warm
from .vocabulary import Approach

MOST_ITEMS = 500  # entries in one list or map of a request: more than any workspace a person clicks through
LONGEST_TEXT = 200  # characters of a service id or a scenario name
LONGEST_DESCRIPTION = 2000
SCENARIO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
OWNED = "# Written by pmorules serve (the what-if workbench); it replaces only files that start with this line.\n"


def _problem(where: str, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(Location(f"request:{where}"), message, hint)


def _text(value: Any, where: str, errors: list[Diagnostic], longest: int = LONGEST_TEXT) -> str | None:
    if not isinstance(value, str) or not value.strip():
        errors.append(_problem(where, "should be a non-empty text"))
        return None
    if len(value) > longest:
        errors.append(_problem(where, f"is longer than {longest} characters"))
        return None
    return value


SAVING = ("name", "description", "overwrite")  # what a saving request gives beside the what-if


def what_if_fields(request: Any, allowed: tuple[str, ...] = ()) -> tuple[dict[str, Any], list[Diagnostic]]:
    """The what-if a request describes, as a ScenarioSpec's fields, with the problems of its shape located."""
    if not isinstance(request, dict):
        return {}, [Diagnostic(Location("request"), "should be a JSON object")]
    errors: list[Diagnostic] = []
    fields: dict[str, Any] = {}
    for key in request:
        if key not in (*LISTS, *MAPS, *allowed):
            errors.append(_problem(str(key)[:LONGEST_TEXT], f"unknown field (use {', '.join((*LISTS, *MAPS, *allowed))})"))
    for name in LISTS:
        values = request.get(name, [])
        if not isinstance(values, list):
            errors.append(_problem(name, "should be a list of service ids"))
        elif len(values) > MOST_ITEMS:
            errors.append(_problem(name, f"has more than {MOST_ITEMS} entries"))
        else:
            fields[name] = [_text(v, f"{name}[{i}]", errors) for i, v in enumerate(values)]
    for name in MAPS:
        values = request.get(name, {})
        if not isinstance(values, dict):
            errors.append(_problem(name, "should be an object of service id to value"))
            continue
        if len(values) > MOST_ITEMS:
            errors.append(_problem(name, f"has more than {MOST_ITEMS} entries"))
            continue
        fields[name] = {}
        for key, value in values.items():
            where = f"{name}.{key[:LONGEST_TEXT]}"
            if _text(key, name, errors) is None:
                continue
            if name in ("effort", "probability"):
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    errors.append(_problem(where, "should be a number"))
                elif problem := number_problem(value):  # a whole number too large for a float, too
                    errors.append(_problem(where, problem))
                elif value < 0 or (name == "probability" and value > 1):
                    errors.append(_problem(where, "should be at least 0" if name == "effort" else "should be from 0 to 1"))
                else:
                    fields[name][key] = float(value)
            elif not isinstance(value, str) or value not in Approach.meanings():
                errors.append(_problem(where, f"should be one of {', '.join(Approach.meanings())}"))
            else:
                fields[name][key] = value
    return fields, errors


def recommend_and_judge(today: Analysis, judged: Callable[[History | None], None] | None = None
                        ) -> tuple[MixResult, History | None]:
    """The recommended mix and the history of the reviews, at once: the solver lets go of the interpreter while
    it works, so the reviews are judged meanwhile (a fifth off the page's re-rendering after an edit), and only
    then: judged beside the optimiser's own Python work, they slowed it by as much as they took.
    ``judged`` gets the history as soon as it is judged, in the judging thread (before this returns)."""
    solver_works = threading.Event()

    def judge() -> History | None:
        solver_works.wait()  # judging meanwhile would take the interpreter from the optimiser's own Python work
        history = history_of(today)
        if judged is not None:
            judged(history)
        return history

    with ThreadPoolExecutor(1) as pool:
        try:
            history = pool.submit(judge)
            with solving_sets(solver_works):
                result = recommend(today)
        finally:
            solver_works.set()  # a mix that needed no solver run, failed, or was interrupted: never a waiter left
        return result, history.result()


@dataclass
class Workbench:
    """Today's analysis and recommended mix of one workspace, kept to answer what-ifs on it."""

    today: Analysis
    result: MixResult  # today's recommendation, with the workspace's saved scenarios evaluated
    open_services: dict  # what the mix could add (proposed and catalogue services), as it assumes them
    history: History | None = None  # today's past reviews, judged: the page is the report `report` writes
    appendix: bool = False  # as `report --appendix`
    warm: Warm | None = None  # the server's compiled templates and drawn charts, kept from rendering to rendering

    @classmethod
    def load(cls, workspace: Path, as_of: dt.date | None, appendix: bool = False, warm: Warm | None = None) -> Workbench:
        """Analyse the workspace and recommend its mix, as ``pmorules mix WS`` does (InputError when it is bad),
        and judge its past reviews, as ``pmorules report`` does."""
        today = analyze(workspace, as_of)
        result, history = recommend_and_judge(today)
        return cls(today, result, additions(today), history, appendix, warm)

    def scenario(self, request: Any, name: str = "your variant", allowed: tuple[str, ...] = ()) -> Scenario:
        """The scenario a request describes (InputError, located in the request, when it is malformed or
        names a service the workspace and the catalogue do not have)."""
        fields, errors = what_if_fields(request, allowed)
        ids = [*self.today.kb.services, *self.open_services]
        known = {sid.lower() for sid in ids}
        for field in LISTS:
            errors += [_problem(f"{field}[{i}]", f"unknown service {sid!r}", did_you_mean(sid, ids))
                       for i, sid in enumerate(fields.get(field, [])) if sid is not None and sid.lower() not in known]
        for field in MAPS:
            errors += [_problem(f"{field}.{sid}", f"unknown service {sid!r}", did_you_mean(sid, ids))
                       for sid in fields.get(field, {}) if sid.lower() not in known]
        if errors:
            raise InputError(errors)
        try:
            spec = ScenarioSpec.model_validate({"name": name, **fields})
        except ValidationError as exc:  # what the fields' shape checks leave: the name's own rules
            raise InputError([_problem(".".join(map(str, e["loc"])) or "request", e["msg"].removeprefix("Value error, "))
                              for e in exc.errors()]) from None
        items = {(field, i): Location(f"request:{field}[{i}]") for field in LISTS for i in range(len(fields.get(field, [])))}
        items |= {(field, key): Location(f"request:{field}.{key}") for field in MAPS for key in fields.get(field, {})}
        return Scenario(spec, {field: Location(f"request:{field}") for field in ScenarioSpec.model_fields}, items)

    def apply(self, request: Any) -> ScenarioResult:
        """The what-if run through the full rulebook: one analysis of today's knowledge base, changed."""
        return evaluate_scenario(self.today, self.result.problem, self.result.unattainable, self.scenario(request),
                                 self.open_services)

    def mix_json(self, variant: ScenarioResult) -> dict[str, Any]:
        """What ``pmorules mix WS --drop … --format json`` prints for the same what-if."""
        return self.result.to_json() | {"variant": variant.to_json(self.today)}

    def report(self, variant: ScenarioResult | None) -> bytes:
        """The HTML report of the what-if (of today with None, with its review history, as ``report`` writes it),
        beside today's recommendation. A what-if's page leaves the history out: the reviews judged today's mix."""
        if variant:
            return render_report(variant.analysis, self.result, "html", appendix=self.appendix, warm=self.warm)
        return render_report(self.today, self.result, "html", history=self.history, workbench=self.panel(),
                             appendix=self.appendix, warm=self.warm)

    def changes(self, variant: ScenarioResult) -> dict[str, Any]:
        """What the what-if changes against today, for the page to highlight: each goal whose status or
        adherence moves, the findings it raises and those it resolves (by fingerprint), the mix's figures."""
        before = {g["id"]: g for g in self.today.goals()}
        goals = [{"id": g["id"], "name": g["name"], "before": before[g["id"]]["verdict"], "after": g["verdict"],
                  "status_before": before[g["id"]]["status"], "status_after": g["status"],
                  "adherence_before": before[g["id"]]["adherence"], "adherence_after": g["adherence"]}
                 for g in variant.analysis.goals()
                 if (g["verdict"], g["status"], g["adherence"]) != (before[g["id"]]["verdict"], before[g["id"]]["status"],
                                                                   before[g["id"]]["adherence"])]
        old = {f.fingerprint: f for f in self.today.findings}
        new = {f.fingerprint: f for f in variant.analysis.findings}

        def listed(findings: list) -> list[dict[str, Any]]:
            return [{"fingerprint": f.fingerprint, "level": f.level, "title": f.title, "message": f.message}
                    for f in findings]

        return {
            "goals": goals,
            "raised": listed([f for key, f in new.items() if key not in old]),
            "resolved": listed([f for key, f in old.items() if key not in new]),
            "feasible": variant.feasible, "problems": variant.problems,
            "summary": {"before": self.today.facts.summary, "after": variant.analysis.facts.summary,
                        "counts_before": self.today.counts(), "counts_after": variant.analysis.counts()},
        }

    def recommendation(self, request: Any) -> dict[str, Any]:
        """The optimiser's recommended mix starting from the what-if, as ``mix --format json`` gives it, and
        under ``what_if`` that mix as a what-if on today, for the panel to apply in one click. The capacity is
        today's (the one the panel's feasibility test holds every what-if to), not the what-if's own effort.

        The optimiser starts from the what-if put back within today's other hard conditions: a what-if may drop
        or cut a core service or one marked keep, or add one ``[mix] never`` rules out (the lead's decision to
        try), but a mix the optimiser recommends from there would break that condition, and the panel would call
        its own recommendation infeasible. ``held`` lists what was put back, each with why."""
        variant, held = self._within_hard_conditions(request)
        mix = recommend(variant, scenarios=[], like=self.result.problem, asked=Location("request"))
        return mix.to_json() | {"what_if": self.what_if_of(mix.after), "held": held}

    def _within_hard_conditions(self, request: Any) -> tuple[Analysis, list[dict[str, str]]]:
        """The what-if without the drops, cuts and additions that break today's protections and ``[mix] never``
        (as ``hard_problems`` tells them), and a sentence on each one left out."""
        analysis = self.apply(request).analysis  # a malformed request is reported here, located as always
        variant = analysis.kb
        problem, names = self.result.problem, names_of(self.today.kb)
        held: dict[str, dict[str, str]] = {}
        for cid, candidate in sorted(problem.candidates.items()):
            service = variant.services.get(cid)
            if cid not in problem.today or service is None:
                continue
            why = "it is marked keep" if candidate.locked else f"it is a core service: {candidate.core}"
            if not service.active and (candidate.locked or problem.forced(cid)):
                held[cid.lower()] = {"id": cid, "change": "drop", "text": f"Keeps “{names[cid]}”, which this what-if "
                                     f"stops: {why}. Giving it up is a decision for you and the goals' owners, not the optimiser."}
            elif service.active and problem.protected(cid) and service.effort < candidate.sizes[0].service.effort - 1e-9:
                held[cid.lower()] = {"id": cid, "change": "cut", "text": f"Keeps “{names[cid]}” at its effort today, "
                                     f"which this what-if cuts: {why}. Cutting it is a decision for you and the goals' owners, not the optimiser."}
        never = {k.lower() for k in problem.settings.never}
        for sid, service in sorted(variant.services.items()):
            if service.active and sid not in problem.today and sid.lower() in never:
                held[sid.lower()] = {"id": sid, "change": "add", "text": f"Leaves out “{names[sid]}”, which this what-if "
                                     "adds: the organisation rules it out ([mix] never in pmorules.toml)."}
        if not held:
            return analysis, []
        fixed = dict(request)
        fixed["drop"] = [sid for sid in request.get("drop", []) if held.get(sid.lower(), {}).get("change") != "drop"]
        for name in ("add", "keep"):  # an addition left out is no longer there to keep
            fixed[name] = [sid for sid in request.get(name, []) if held.get(sid.lower(), {}).get("change") != "add"]
        for name in MAPS:  # an addition left out takes its settings with it; a cut put back, its effort
            fixed[name] = {sid: value for sid, value in request.get(name, {}).items()
                           if held.get(sid.lower(), {}).get("change") not in ({"add", "cut"} if name == "effort" else {"add"})}
        return self.apply(fixed).analysis, list(held.values())

    def what_if_of(self, mix: Analysis) -> dict[str, Any]:
        """The what-if on today that gives ``mix``'s services: those it stops and adds, and the efforts,
        approaches and probabilities it sets (a probability only where it is not what the effort gives).
        Its other changes (a quick service extended to more clients) are not the panel's to set."""
        today = {sid: s for sid, s in self.today.kb.services.items() if s.active}
        running = {sid: s for sid, s in mix.kb.services.items() if s.active}
        what_if: dict[str, Any] = {"drop": [sid for sid in today if sid not in running],
                                   "add": [sid for sid in running if sid not in today],
                                   "effort": {}, "approach": {}, "probability": {}}
        settings = self.result.problem.settings
        for sid, service in running.items():
            # a retired service brought back is as the workspace records it (as `mix --add` takes it)
            was = today.get(sid) or (self.open_services[sid][0] if sid in self.open_services else self.today.kb.services[sid])
            probability = was.probability
            if service.approach != was.approach:  # as a what-if moves it: the approach first, then the effort
                what_if["approach"][sid] = service.approach
                if sid in today:
                    probability = approached_probability(probability, settings.approach_change_probability)
            if service.effort != was.effort:
                what_if["effort"][sid] = service.effort
                probability = resized_probability(probability, service.effort / was.effort - 1 if was.effort else 0.0,
                                                  settings.resize_elasticity)
            if abs(service.probability - probability) > 1e-9:
                what_if["probability"][sid] = service.probability
        return what_if

    def panel(self) -> dict[str, Any]:
        """What the what-if panel offers: today's services with their effort, approach and probability, the
        services the mix could add, the approaches and the effort step people are allocated in."""
        units = self.result.problem.units
        services = [{"id": s.id, "name": s.name, "effort": s.effort, "approach": s.approach, "probability": s.probability}
                    for s in self.today.kb.services.values() if s.active]
        addable = [{"id": sid, "name": service.name, "origin": "catalogue" if sid not in self.today.kb.services else "proposed",
                    "effort": service.effort}
                   for sid, (service, _) in sorted(self.open_services.items(), key=lambda item: (item[0] not in self.today.kb.services, item[1][0].name))]
        return {"services": services, "addable": addable, "approaches": list(Approach.meanings()),
                "step": round(units.step, 6), "step_text": units.step_text(),
                "capacity": self.result.problem.capacity,
                # what the panel's sentences name: goals by name, efforts in the report's units
                "words": {"goals": {g.id: g.name or g.id for g in self.today.kb.goals.values()},
                          "clients": {c.id: c.name or c.id for c in self.today.kb.clients.values()},
                          "capacity": units.capacity, "fte": units.fte}}

    def save(self, request: Any) -> Path:
        """Save the what-if as ``scenarios/NAME.yaml`` so ``mix --compare`` and the report show it.

        The name is checked (letters, digits, ``-`` and ``_``: never a path) and must not be another
        scenario's; an existing file is replaced only with ``"overwrite": true`` and only when pmorules
        wrote it. The file is written beside and renamed into place, so it is whole or absent.
        """
        if not isinstance(request, dict):
            raise InputError([Diagnostic(Location("request"), "should be a JSON object")])
        errors: list[Diagnostic] = []
        name = request.get("name")
        if not isinstance(name, str) or not SCENARIO_NAME.fullmatch(name):
            errors.append(_problem("name", "should be 1 to 64 letters, digits, '-' or '_', starting with a letter or digit"))
        description = request.get("description", "")
        if not isinstance(description, str) or len(description) > LONGEST_DESCRIPTION:
            errors.append(_problem("description", f"should be a text of at most {LONGEST_DESCRIPTION} characters"))
        overwrite = request.get("overwrite", False)
        if not isinstance(overwrite, bool):
            errors.append(_problem("overwrite", "should be true or false"))
        if errors:
            raise InputError(errors)
        what_if = {key: value for key, value in request.items() if key not in SAVING}
        evaluate_scenario(self.today, self.result.problem, self.result.unattainable,
                          self.scenario(what_if, name, SAVING), self.open_services)  # a what-if that does not apply is not saved
        workspace = Path(self.today.kb.workspace)
        folder = workspace / FOLDER
        target = folder / f"{name}.yaml"
        self._check_place(workspace, folder, target, name, overwrite)
        spec = {"name": name, **({"description": description} if description else {}),
                **{key: value for key, value in self.scenario(what_if, name, SAVING).spec.model_dump().items()
                   if key in (*LISTS, *MAPS) and value}}
        text = OWNED + dump_yaml({"scenarios": [spec]}, width=100)
        folder.mkdir(exist_ok=True)
        inputs = self.today.inputs()
        protected = Protected(inputs.files, tuple(f for f in inputs.folders if Path(f).name != FOLDER),
                              inputs.knowledge_folders)
        if not write_output(target, text.encode(), protected, new=not overwrite, inside=folder.resolve(),
                            hint="choose another name"):
            raise InputError([_problem("name", f"a scenario file {name}.yaml exists already (send \"overwrite\": true to replace it)")])
        return target

    def _check_place(self, workspace: Path, folder: Path, target: Path, name: str, overwrite: bool) -> None:
        """The scenarios folder is a real folder inside the workspace, the name is no other scenario's, and a
        file replaced is one pmorules wrote."""
        if os.path.lexists(folder) and (folder.is_symlink() or not folder.is_dir()):
            raise InputError([Diagnostic(Location(FOLDER), "is not a plain folder inside the workspace; no scenario is saved there")])
        others = [s for s in load_scenarios(workspace) if s.spec.name.lower() == name.lower()
                  and Path(s.where["name"].file).name != target.name]
        if others:
            raise InputError([_problem("name", f"scenario {name!r} is defined in {Path(others[0].where['name'].file).name} already")])
        try:
            info = os.lstat(target)
        except FileNotFoundError:
            return
        if not overwrite:
            raise InputError([_problem("name", f"a scenario file {name}.yaml exists already (send \"overwrite\": true to replace it)")])
        if not stat.S_ISREG(info.st_mode):
            raise InputError([_problem("name", f"{name}.yaml is not a regular file; it is left alone")])
        with open(target, encoding="utf-8", errors="replace") as existing:
            if existing.readline() != OWNED:
                raise InputError([_problem("name", f"{name}.yaml was not written by pmorules serve; it is left alone")])
