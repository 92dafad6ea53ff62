"""Reports for pull requests and CI: what the agent did, lint findings, rule
decisions, cost and tokens, files changed against the git diff, and a compare
verdict against a baseline.

* :mod:`.gather`    one pass over a session: the report's data (shared summary, phases, lint, compare)
* :mod:`.markdown`  that data as a size-capped PR comment or a GitHub job summary
"""
