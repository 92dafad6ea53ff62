"""What readers compute from a session's events, shared by every report.

* :mod:`.summary`        every number every report shows (one pass, one place)
* :mod:`.session_index`  cached summaries per session file, for ``list``
* :mod:`.session_view`   the dashboard's and share page's view of a session
* :mod:`.toolfacts`      what a tool call read, changed or ran
* :mod:`.phases`         the session cut into phases (``explain``, ``timeline``)
* :mod:`.causality`      the chain of events behind one event (``why``)
* :mod:`.compare`        two sessions side by side, with a verdict

Readers (CLI, dashboard, exporters, VS Code) format; they do not count.
"""
