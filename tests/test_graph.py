"""The knowledge graph: typed edges and the queries rules' facts are built from."""

from __future__ import annotations

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmorules.graph import (
    dependant_counts,
    nearest_dependants,
    needs_of,
    build_graph,
    dependency_graph,
    hard_cycles,
    node,
    node_id,
)

WORKSPACE = {"k.yaml": """
    clients:
      - {id: exec, weight: 0.6}
      - {id: teams}
    services:
      - id: reporting
        term: short
        clients: [exec]
        outcomes: [O26]
        depends_on: [tools:soft, data]
        harms:
          - {target: coaching, severity: high, mitigated_by: [tools]}
          - {target: O22, severity: low}
      - {id: tools, term: short, clients: [teams], depends_on: ['reporting:soft']}
      - {id: data, term: medium, depends_on: [S19]}
      - {id: coaching, term: long, depends_on: [mentoring]}
      - {id: mentoring, term: long, depends_on: [coaching]}
      - {id: audits, term: short, depends_on: [reporting]}
      - {id: old, term: short, status: retired, depends_on: [audits]}
      - {id: idea, term: long, status: proposed, depends_on: [idea2]}
      - {id: idea2, term: long, status: proposed, depends_on: [idea]}
    goals:
      - {id: G1, outcomes: [O26], services: [reporting], due_months: 3, client: exec}
    """}


@pytest.fixture
def kb(load):
    return load(WORKSPACE)


@pytest.fixture
def graph(kb):
    return build_graph(kb)


def edges(graph, kind: str) -> set[tuple]:
    found = set()
    for src, dst, data in graph.edges(data=True):
        if data["kind"] == kind:
            extra = tuple(sorted((k, v) for k, v in data.items() if k != "kind"))
            found.add((src, dst, *extra))
    return found


def test_node_keys() -> None:
    assert node("service", "reporting") == "service:reporting"
    assert node_id("outcome:O26") == "O26"


def test_nodes_carry_their_kind_and_attributes(graph) -> None:
    assert graph.nodes["service:reporting"]["kind"] == "service"
    assert graph.nodes["service:reporting"]["term"] == "short"
    assert graph.nodes["service:reporting"]["status"] == "active"
    assert graph.nodes["client:exec"] == {"kind": "client", "weight": 0.6}
    assert graph.nodes["goal:G1"] == {"kind": "goal", "due_months": 3}
    assert graph.nodes["outcome:O26"]["kind"] == "outcome"
    # a catalogue service referenced but not offered
    assert graph.nodes["service:S19"]["status"] == "absent"


def test_typed_edges(graph) -> None:
    assert edges(graph, "serves") == {("service:reporting", "client:exec"), ("service:tools", "client:teams")}
    assert edges(graph, "contributes") == {("service:reporting", "outcome:O26")}
    assert {
        ("service:reporting", "service:tools", ("dep", "soft")),
        ("service:reporting", "service:data", ("dep", "hard")),
        ("service:data", "service:S19", ("dep", "hard")),
    } <= edges(graph, "depends_on")
    assert edges(graph, "harms") == {
        ("service:reporting", "service:coaching", ("harm", 0), ("severity", "high")),
        ("service:reporting", "outcome:O22", ("harm", 1), ("severity", "low")),
    }
    assert edges(graph, "mitigates") == {("service:tools", "service:coaching", ("source", "reporting"))}
    assert edges(graph, "targets") == {("goal:G1", "outcome:O26"), ("goal:G1", "service:reporting")}
    assert edges(graph, "for") == {("goal:G1", "client:exec")}


def test_dependency_graph_kinds_and_activity(kb, graph) -> None:
    hard = dependency_graph(kb, ("hard",))
    assert ("service:reporting", "service:data") in hard.edges
    assert ("service:reporting", "service:tools") not in hard.edges
    assert "service:old" not in hard and "service:S19" not in hard  # retired and absent services are not in the mix
    both = dependency_graph(kb)
    assert list(both.successors("service:reporting")) == ["service:tools", "service:data"]  # as written
    active = {key for key, data in graph.nodes(data=True) if data.get("status") == "active"}
    assert set(both.edges) == {(src, dst) for src, dst, data in graph.edges(data=True)  # the graph's, among the active
                               if data["kind"] == "depends_on" and src in active and dst in active}


def test_hard_cycles_ignore_soft_and_inactive(kb) -> None:
    # reporting <-> tools is soft one way: no hard cycle; idea <-> idea2 are proposed, not active
    assert hard_cycles(dependency_graph(kb, ("hard",))) == [["service:coaching", "service:mentoring"]]


def test_hard_cycle_rotated_to_smallest_key(load) -> None:
    kb = load({"k.yaml": """
        services:
          - {id: c, term: short, depends_on: [a]}
          - {id: a, term: short, depends_on: [b]}
          - {id: b, term: short, depends_on: [c, 'd:soft']}
          - {id: d, term: short, depends_on: ['b:soft']}
        """})
    assert hard_cycles(dependency_graph(kb, ("hard",))) == [["service:a", "service:b", "service:c"]]


@st.composite
def _random_deps(draw):
    n = draw(st.integers(min_value=1, max_value=12))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=30))
    graph = nx.DiGraph()
    graph.add_nodes_from(f"s{i}" for i in range(n))
    graph.add_edges_from((f"s{a}", f"s{b}") for a, b in edges if a != b)
    return graph


@settings(max_examples=150, deadline=None)
@given(_random_deps(), st.integers(min_value=0, max_value=14))
def test_dependant_counts_equal_the_ancestor_sets_up_to_the_cap(graph, cap):
    assert dependant_counts(graph, cap) == {key: min(len(nx.ancestors(graph, key)), cap) for key in graph}


def test_a_tangle_of_many_cycles_gives_one_cycle() -> None:
    """A complete graph of 12 services holds millions of simple cycles; the answer is one cycle per tangle."""
    from pmorules.graph import tangles

    deps = nx.DiGraph()
    names = [f"service:s{i:02d}" for i in range(12)]
    deps.add_edges_from((a, b) for a in names for b in names if a != b)
    assert hard_cycles(deps) == [["service:s00", "service:s01"]]
    assert tangles(deps) == {"service:s00": 12}


@settings(max_examples=150, deadline=None)
@given(_random_deps(), st.data())
def test_nearest_dependants_are_the_closest_sources_that_need_the_service(graph, data):
    sources = data.draw(st.lists(st.sampled_from(sorted(graph)), unique=True))
    chains = nearest_dependants(needs_of(graph), sources)
    for key in graph:
        needing = [s for s in sources if s != key and nx.has_path(graph, s, key)]
        if not needing:
            assert key not in chains
            continue
        chain = chains[key]
        assert chain[0] == key and chain[-1] in needing
        assert all(graph.has_edge(chain[i + 1], chain[i]) for i in range(len(chain) - 1))
        assert len(chain) - 1 == min(nx.shortest_path_length(graph, s, key) for s in needing)


def test_mitigators_are_the_services_they_name(load) -> None:
    """A mitigator named by a catalogue entry or a tag is drawn from the services that offer or carry it, not as
    a node of its own; a catalogue entry nobody offers is its own (absent) node; a tag nobody carries is no node."""
    graph = build_graph(load({"k.yaml": """
        services:
          - id: reporting
            term: short
            harms: [{target: culture, severity: high, mitigated_by: [S22, S05, "tag:capability", "tag:nobody"]}]
          - {id: culture, term: long}
          - {id: support, catalogue: S22, term: short}
          - {id: train, term: long, tags: [capability], status: proposed}
        """}))
    assert {edge[0] for edge in edges(graph, "mitigates")} == {"service:support", "service:train", "service:S05"}
    assert graph.nodes["service:S05"]["status"] == "absent"
    assert "service:S22" not in graph and not [key for key in graph if "tag:" in key]
