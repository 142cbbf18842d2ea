"""Harms and dependencies told plainly: the harm ledger of the report's body, and the few nodes behind each
harm or dependency finding (drawn small inside the finding, partials/finding-diagram.html.j2).

The full network stays in the appendix; here a committee sees, per harm, who harms what, how badly, what is
meant to hold it in check and whether that runs. Everything comes from the harm facts and the graph the
rules read; nothing here judges.
"""

from __future__ import annotations

from typing import Any

from ..analysis import Analysis
from ..findings import Finding


def harm_ledger(analysis: Analysis, names: dict[str, str]) -> list[dict[str, Any]]:
    """Every harm that applies now, most severe first: the harming service, what it harms, the severity and
    its mitigators with whether each runs. A service's harms of one severity held in check by the same
    services are one row (a status pack harming three outcomes the same way is one line to decide on)."""
    harms = []
    for fact in analysis.facts.facts:
        if fact.type != "harm" or not fact.fields["active"]:
            continue
        f = fact.fields
        harms.append({
            "src": f["src"], "src_name": names[f["src"]], "severity": f["severity"], "severity_rank": f["severity_rank"],
            "targets": [{"id": f["target"], "name": names[f["target"]], "kind": f["target_kind"], "goals": f["goals"]}],
            "mitigators": _mitigators(analysis, names, f),
        })
    harms.sort(key=lambda r: (-r["severity_rank"], r["src_name"], r["targets"][0]["name"]))
    rows: list[dict[str, Any]] = []
    for harm in harms:
        last = rows[-1] if rows else None
        if last and (last["src"], last["severity"], last["mitigators"]) == (harm["src"], harm["severity"], harm["mitigators"]):
            last["targets"] += harm["targets"]
        else:
            rows.append(harm)
    return rows


def _mitigators(analysis: Analysis, names: dict[str, str], harm: dict[str, Any]) -> list[dict[str, Any]]:
    """The workspace's services that mitigate a harm (retired and proposed ones too), each with whether it runs:
    ``delivering`` (running, results already visible), ``starting`` (running, results not yet visible) or its
    status (retired, proposed…); mitigators the workspace does not offer at all are named as not offered."""
    graph = analysis.facts.graph
    target = next((key for key in graph.nodes if key.split(":", 1)[1] == harm["target"]), None)
    delivering = set(harm["delivering_mitigator_ids"].split())
    active = set(harm["active_mitigator_ids"].split())
    found: dict[str, dict[str, Any]] = {}
    if target is not None:
        for key, _, data in graph.in_edges(target, data=True):
            if data.get("kind") != "mitigates" or data.get("source") != harm["src"]:
                continue
            item = key.split(":", 1)[1]
            status = graph.nodes[key].get("status", "active")
            state = "delivering" if item in delivering else "starting" if item in active else status
            found[item] = {"id": item, "name": names[item], "state": state}
    for item in active - set(found):
        found[item] = {"id": item, "name": names[item], "state": "delivering" if item in delivering else "starting"}
    if not found:
        for item in harm["mitigator_ids"].split():
            tag = item.removeprefix("tag:")
            found[item] = {"id": item, "name": f"a service tagged {tag}" if tag != item else names[item],
                           "state": "not offered"}
    return sorted(found.values(), key=lambda m: (m["state"] not in ("delivering", "starting"), m["name"]))


def finding_diagrams(findings: list[Finding], analysis: Analysis, names: dict[str, str],
                     ledger: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """Per finding, the nodes of its path if it holds a harm or dependency, the kind of each link, and the
    mitigators of a harm on it; None for a finding whose path holds neither. The graph's nodes and the ledger
    are indexed once: looked up per finding, they made the report grow with findings times services."""
    graph = analysis.facts.graph
    keys = {key.split(":", 1)[1]: key for key in graph.nodes}
    rows_of: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for index, row in enumerate(ledger):
        rows_of.setdefault(row["src"], []).append((index, row))
    return [_diagram(finding, graph, keys, rows_of, names) for finding in findings]


def _diagram(finding: Finding, graph: Any, keys: dict[str, str], rows_of: dict[str, list[tuple[int, dict[str, Any]]]],
             names: dict[str, str]) -> dict[str, Any] | None:
    path = [p for p in finding.path if p in keys]
    links = []
    for a, b in zip(path, path[1:]):
        kinds = {data["dep"] if data["kind"] == "depends_on" else data["kind"]
                 for data in graph.get_edge_data(keys[a], keys[b], default={}).values()}
        kind = next((k for k in ("harms", "hard", "soft") if k in kinds), None)
        if kind is None:
            return None
        links.append(kind)
    if not links:
        return None
    nodes = [{"id": p, "name": names[p], "kind": graph.nodes[keys[p]].get("kind", "service"),
              "status": graph.nodes[keys[p]].get("status")} for p in path]
    harmed = [(a, b) for a, b, k in zip(path, path[1:], links) if k == "harms"]
    rows = sorted({index: row for a in dict.fromkeys(a for a, _ in harmed) for index, row in rows_of.get(a, ())}.items())
    mitigators = [m for _, row in rows for m in row["mitigators"]  # in the ledger's order
                  if any(row["src"] == a and any(t["id"] == b for t in row["targets"]) for a, b in harmed)]
    return {"nodes": nodes, "links": links, "mitigators": mitigators}
