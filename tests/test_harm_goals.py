"""The goals a harm hits (facts/harms.py), summed up per shared list of goals and client for speed, against
their definition worked out goal by goal: the goals aiming at the harm's target (naming it, or, for a harmed
service, delivered by it), only those of the served clients or of no client when the harm falls on the served
party; how many, the latest due month, the lowest adherence."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmorules.facts.derivation import Derivation
from pmorules.facts.harms import harm_basis_facts, harm_facts
from pmorules.knowledge import load_workspace
from pmorules.measures import Conventions

CLIENTS = ["c0", "c1", "c2"]
OUTCOMES = ["O01", "O02", "O03", "O04"]

goal = st.fixed_dictionaries({
    "outcomes": st.lists(st.sampled_from(OUTCOMES), min_size=1, max_size=2, unique=True),
    "client": st.none() | st.sampled_from(CLIENTS),
    "due": st.sampled_from([2, 6, 12, 30]),
})
harm = st.fixed_dictionaries({
    "target": st.sampled_from(OUTCOMES + ["s0"] + CLIENTS),  # s0: the one service every workspace has
    "party": st.sampled_from(["any", "served"]),
})
service = st.fixed_dictionaries({
    "outcomes": st.lists(st.sampled_from(OUTCOMES), min_size=1, max_size=2, unique=True),
    "clients": st.lists(st.sampled_from(CLIENTS), max_size=3),
    "months": st.sampled_from([1, 4, 10]),
    "harms": st.lists(harm, max_size=2, unique_by=lambda h: h["target"]),
})


def workspace(goals: list[dict], services: list[dict]) -> str:
    lines = ["organisation: {name: Test PMO, age_months: 12}",
             "clients: [" + ", ".join(f"{{id: {c}}}" for c in CLIENTS) + "]", "services:"]
    for number, s in enumerate(services):
        harms = ", ".join(f"{{target: {h['target']}, severity: medium, party: {h['party']}}}" for h in s["harms"])
        lines.append(f"  - {{id: s{number}, name: Service {number}, months_to_value: {s['months']}, probability: 0.7, "
                     f"outcomes: [{', '.join(s['outcomes'])}], clients: [{', '.join(s['clients'])}], harms: [{harms}]}}")
    lines.append("goals:")
    for number, g in enumerate(goals):
        client = f", client: {g['client']}" if g["client"] else ""
        lines.append(f"  - {{id: g{number}, outcomes: [{', '.join(g['outcomes'])}], due_months: {g['due']}{client}}}")
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(goals=st.lists(goal, min_size=1, max_size=6), services=st.lists(service, min_size=1, max_size=4))
def test_the_goals_a_harm_hits_are_those_of_its_definition(tmp_path: Path, goals: list[dict],
                                                             services: list[dict]) -> None:
    (tmp_path / "k.yaml").write_text(textwrap.dedent(workspace(goals, services)), encoding="utf-8")
    kb = load_workspace(tmp_path)
    d = Derivation(kb, dt.date(2026, 3, 20), Conventions())
    facts = {f.key: f.fields for f in harm_facts(d)}
    basis = {f.key: f.fields for f in harm_basis_facts(d)}
    for s in kb.services.values():
        for index, h in enumerate(s.harms):
            key = f"{s.id}>{h.target}#{index}"
            aimed = {g.id for g in kb.goals.values() if h.target in (*g.outcomes, *g.services, g.client)}
            if h.target_kind == "service":
                aimed |= set(d.goals_of_service.get(h.target, ()))
            hit = [kb.goals[g] for g in aimed
                   if h.party != "served" or kb.goals[g].client is None or kb.goals[g].client in s.clients]
            measured = [d.adherence[g.id] for g in hit if g.id in d.adherence]
            assert facts[key]["goals_all"] == len(aimed)
            assert facts[key]["goals"] == len(hit)
            assert facts[key].get("goal_due_max") == (max(g.due_months for g in hit) if hit else None)
            assert basis[key].get("goal_adherence_min") == (min(measured) if measured else None)
