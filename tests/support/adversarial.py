"""Shared settings for the property-based (hypothesis) tests: deterministic
(derandomized, no example database), no per-example deadline (the machine is
shared), and a small example budget so the whole adversarial suite stays
within a couple of minutes of CI."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

FAST = settings(derandomize=True, database=None, deadline=None, max_examples=150,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
SLOW = settings(FAST, max_examples=40)  # each example starts a process or a round trip
