"""How the estimates were made: each assessed service's experts, rounds, consensus and remaining disagreement.

The figures are those of knowledge/consensus.py, which the loader used for the
service's term and probability and the service facts hand to the rules; a
service needs another round when a finding reads its experts' disagreement (a
rule over the ``assessment_*`` fields of the service fact), never by a
threshold of this module. ``pmorules assess --collect`` and the report's "How
the estimates were made" show these rows.
"""

from __future__ import annotations

from typing import Any

from .analysis import Analysis


def second_round(analysis: Analysis) -> dict[str, list[str]]:
    """Services whose experts' disagreement a finding reads (a rule over the ``assessment_*`` fields): their messages."""
    found: dict[str, list[str]] = {}
    for finding in analysis.findings:
        if any((e.field or "").startswith("assessment_") for e in finding.evidence):
            for subject in finding.subjects:
                if subject in analysis.kb.services:
                    found.setdefault(subject, []).append(finding.message)
    return found


def consensus_rows(analysis: Analysis) -> list[dict[str, Any]]:
    """Per assessed service: experts, rounds, consensus and spread of term and probability, who is farthest from
    the consensus, and whether a finding reads their disagreement. The report shows the same rows."""
    again = second_round(analysis)
    rows = []
    for service in analysis.kb.services.values():
        agreed = service.consensus
        if agreed is None:
            continue
        rows.append({
            "service": service.id, "name": service.name, "experts": list(agreed.assessors), "rounds": agreed.rounds,
            "method": agreed.method,
            "term": agreed.term, "months": agreed.months, "months_range": agreed.months_range, "terms": agreed.terms,
            "probability": agreed.probability, "probability_range": agreed.probability_range,
            "p_spread": agreed.p_spread,
            "used_term": service.term, "used_months": service.months_to_value, "used_probability": service.probability,
            "farthest_probability": list(agreed.farthest_probability), "farthest_months": list(agreed.farthest_months),
            # whether the service's figure is the consensus (else the workspace states it, or the catalogue gives it)
            "experts_term": service.sources.get("term") == service.sources.get("assessments"),
            "experts_probability": service.sources.get("probability") == service.sources.get("assessments"),
            "second_round": again.get(service.id, []),
        })
    return rows
