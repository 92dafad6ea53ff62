"""CI integration: the GitHub Action at the repository root (``action.yml``)
runs :mod:`.action`, which writes the report to the job summary, creates or
updates one PR comment (:mod:`.github`), prepares the sessions for upload
as an artifact, and decides whether the job fails."""
