"""The recommended mix of services, by an exact optimiser (a MILP solved by HiGHS).

Candidates are today's active services, the workspace's proposed services and (unless
``[mix] include_catalogue = false``) the catalogue services the PMO does not offer yet, with the
catalogue's term, outcomes, dependencies and harms, ``[mix] candidate_probability`` and
``candidate_effort`` (or ``[mix.efforts]``). Retired services are never candidates. A service
whose harm applies only in its current approach may also move to one of ``[mix] approaches``.

Objective: maximise the overall adherence (docs/domain.md#adherence), Σ_g w_g·a_g / Σ_g w_g, where a_g is
the mean over the goal's targets of 1 − Π(1 − p_s) over the chosen linked services, minus
``change_cost`` per service added or dropped and ``approach_change_cost`` (half as much by default:
docs/domain.md#recommendations puts a change of approach before a removal) per approach switched. The
product is modelled exactly, not approximated: per target, the chain u_k = u_{k−1}·(1 − p_k·x_k)
with one continuous variable per linked candidate (binary times bounded, see
``model._coverage``). On every candidate set the objective is the adherence the facts compute.

Constraints: the effort fits the capacity (``--capacity``, else ``[mix] capacity``, else today's
total effort); the mix is not empty; and every enabled rule with an ``implies`` block adds the
constraint under which it does not fire, with its effective params (rules/spec.py documents the
kinds). Python names no rule and no threshold, so an organisation's overrides and its own rules
move the optimum. Each kind is exact for its rule: coverage in time (GOL001-style rules test one
linked service with months ≤ due and p ≥ bound) is a selection constraint, not a combined
probability. A goal target that no candidate can cover in time is reported as unattainable
instead of making every mix infeasible. When no mix is feasible, the answer names the relaxations
(the capacity, or one rule's constraint, else two at once) that make it feasible.

Shares are effort-weighted as in the facts (which count services instead only when the whole mix
has zero effort; the model does not special-case that).
"""

from .recommend import MixResult, recommend

__all__ = ["MixResult", "recommend"]
