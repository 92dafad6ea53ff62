"""Tokens and money across sessions, projects and time.

* :mod:`.pricing`  the bundled, dated price table; cost of one request
* :mod:`.litellm`  price tables in LiteLLM's format (``prices update``)
* :mod:`.index`    token usage per session, model and quarter hour, per store
* :mod:`.reports`  daily, weekly, monthly, session, project and 5-hour block reports
"""
