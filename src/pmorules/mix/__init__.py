"""The recommended mix of services, by an exact optimiser (a MILP solved by HiGHS); docs/mix.md in a PMO
lead's words.

Candidates are today's active services (at their sizes: ``[mix] resize_steps``), the workspace's proposed
services and (unless ``[mix] include_catalogue = false``) the catalogue services the PMO does not offer yet,
with what the mix assumes of each (``[mix.candidates.<id>]``) and the clients it would serve; one that would
serve none of the workspace's clients is not proposed. A service whose approach decides one of its harms or
whether it controls may also move to one of ``[mix] approaches``.

Objective: maximise the overall adherence (measures.py: per target (1 − λ)·max v + λ·noisy-OR over the chosen
sizes delivering in time, modelled exactly: a staircase for the max, tangent cuts of the concave 1 − e^L for
the noisy-OR added until exact at the optimum) minus the costs of the changes from today and of the findings
the warning- and info-level rules would raise. Error-level rules are hard conditions. Each condition comes
from a rule's ``implies`` block and is decided on the engine for this organisation (problem.py, probe.py):
Python names no rule and no threshold. Core services (the only in-time cover of a goal target, or serving
a goal of top priority) and services marked keep are never dropped unless an error-level rule forces it.

The full rulebook then runs on the optimum (recommend.py); a new finding the model did not count cuts that
mix off and the next is solved. Reasons come from that one before/after pair, so explaining costs a bounded
number of analyses. What-if scenarios (scenarios.py) are evaluated beside it.
"""

from .recommend import MixResult, recommend

__all__ = ["MixResult", "recommend"]
