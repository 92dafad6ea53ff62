"""Control: rules that stop the agent.

* :mod:`.policy`   the rules file (TOML) -> a validated policy, cached as JSON
* :mod:`.globs`    path and command patterns, without ``re`` (hook path)
* :mod:`.engine`   incremental session state and the decision for one call
* :mod:`.answer`   the decision in each agent's hook output format
* :mod:`.pause`    pause/resume flags honoured at the next tool call
* :mod:`.watch`    the live view and the process kill switch

Enforcement fails closed: a rules file that cannot be read or evaluated
denies the call and says why.
"""
