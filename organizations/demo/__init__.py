"""The demo city: a realistic Shanghai union federation for `manage.py seed_demo` and benchmarks.

data    reference data: the 16 districts with GB/T 2260 codes, real streets and roads, name pools
city    the city as it should be (specs), built deterministically for a scale
writer  DemoBuilder: reconciles the database with the specs

Idempotent: each row is looked up by a stable key before it is created — organisations by
(parent, region code | credit code | name), enterprises by credit code, officers by
(organisation, name, position), stations by (organisation, name), users by username — so a
re-run adds only what is missing, and takes well under a second at the default scale.
Deterministic: the same scale always yields the same city, and a larger scale is a
superset of a smaller one. Work is done one district per transaction, so memory stays
bounded by the size of one district whatever the scale.
"""

from .city import credit_code, org_code
from .data import DEMO_LOGINS, DEMO_PASSWORD, DISTRICTS
from .writer import MAX_SCALE, DemoBuilder

__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "DISTRICTS", "MAX_SCALE", "DemoBuilder", "credit_code", "org_code"]
