"""The knowledge graph: services, clients, outcomes and goals with typed edges.

Node keys are ``kind:id`` (``service:reporting``, ``outcome:O26``); edges carry
``kind``: depends_on (with ``dep`` hard|soft), harms, serves, contributes,
mitigates, targets (goal → outcome or service) and ``for`` (goal → client).
"""

from __future__ import annotations

import networkx as nx

from .knowledge import KnowledgeBase


def node(kind: str, item_id: str) -> str:
    return f"{kind}:{item_id}"


def node_id(key: str) -> str:
    """The plain id of a node key, as shown to users."""
    return key.split(":", 1)[1]


def build_graph(kb: KnowledgeBase) -> nx.MultiDiGraph:
    """One graph of the whole knowledge base; services not offered appear with status ``absent``."""
    graph = nx.MultiDiGraph()
    for client in kb.clients.values():
        graph.add_node(node("client", client.id), kind="client", weight=client.weight)
    for outcome in kb.outcomes.values():
        graph.add_node(node("outcome", outcome.id), kind="outcome", term=outcome.term)
    for cat_id, name in kb.absent_catalogue.items():
        graph.add_node(node("service", cat_id), kind="service", status="absent", name=name)
    for service in kb.services.values():
        graph.add_node(
            node("service", service.id), kind="service", status=service.status, term=service.term,
            months=service.months, probability=service.probability,
        )
    for service in kb.services.values():
        src = node("service", service.id)
        for client in service.clients:
            graph.add_edge(src, node("client", client), kind="serves")
        for outcome in service.outcomes:
            graph.add_edge(src, node("outcome", outcome), kind="contributes")
        for dep in service.depends_on:
            graph.add_edge(src, node("service", dep.target), kind="depends_on", dep=dep.kind)
        for index, harm in enumerate(service.harms):
            target = node(harm.target_kind, harm.target)
            graph.add_edge(src, target, kind="harms", severity=harm.severity, harm=index)
            for mitigator in harm.mitigated_by:
                graph.add_edge(node("service", mitigator), target, kind="mitigates", source=service.id)
    for goal in kb.goals.values():
        key = node("goal", goal.id)
        graph.add_node(key, kind="goal", due_months=goal.due_months)
        for outcome in goal.outcomes:
            graph.add_edge(key, node("outcome", outcome), kind="targets")
        for service in goal.services:
            graph.add_edge(key, node("service", service), kind="targets")
        if goal.client:
            graph.add_edge(key, node("client", goal.client), kind="for")
    return graph


def dependency_graph(graph: nx.MultiDiGraph, kinds: tuple[str, ...] = ("hard", "soft"), active_only: bool = True) -> nx.DiGraph:
    """Services and their depends_on edges of the given kinds (A → B: A needs B)."""
    # networkx's own node and adjacency dicts: its views cost more than the walk at 10,000 services
    nodes = [
        key for key, data in graph._node.items()
        if data.get("kind") == "service" and (not active_only or data.get("status") == "active")
    ]
    members = set(nodes)
    deps = nx.DiGraph()
    deps.add_nodes_from(nodes)
    adjacency = graph._adj
    deps.add_edges_from(  # only services have depends_on edges: the same edges, in the order graph.edges() gives
        (src, dst)
        for src in nodes
        for dst, edges in adjacency[src].items()
        if dst in members
        for data in edges.values()
        if data["kind"] == "depends_on" and data["dep"] in kinds
    )
    return deps


def transitive_dependants(deps: nx.DiGraph, key: str) -> set[str]:
    """Every service that needs ``key``, directly or through others."""
    return nx.ancestors(deps, key)


def hard_cycles(graph: nx.MultiDiGraph) -> list[list[str]]:
    """Cycles of hard dependencies among active services, each rotated to start at its smallest key."""
    cycles = []
    for cycle in nx.simple_cycles(dependency_graph(graph, ("hard",))):
        start = cycle.index(min(cycle))
        cycles.append(cycle[start:] + cycle[:start])
    return sorted(cycles)


def shortest_path(graph: nx.MultiDiGraph, src: str, dst: str) -> list[str]:
    """A shortest directed path for evidence, or [] when there is none."""
    try:
        return nx.shortest_path(graph, src, dst)
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        return []
