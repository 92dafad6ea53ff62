"""``setup`` for Codex CLI, Gemini CLI and OpenCode: what each needs beyond
its hooks file, so that a plain run records after ``setup`` and what it
prints.

* Codex: ``[features] hooks = true``; the hooks run only once reviewed and
  ``.codex/`` loads only in a trusted project: ``--trust`` records both the
  way Codex's ``/hooks`` review does, otherwise one line says what is
  missing.
* Gemini CLI: project settings load only in a trusted folder: ``--trust``
  adds it to ``trustedFolders.json``, otherwise one line says so.
* OpenCode: the plugin file.
"""

from __future__ import annotations

import os
import sys

from . import EXIT_ERROR, EXIT_OK


def after_install(args, m, path: str, project: str) -> int:
    if args.cli == "codex":
        return _codex(args, m, path, project)
    return _gemini(args, m, project)


def _codex(args, m, path: str, project: str) -> int:
    import tomllib

    from agent_trace.setup import codex_trust, settings_file

    changed, advice = m.enable_hooks(m.config_path(args.scope, project))
    if advice:
        print(f"note: {advice}")
    elif changed:
        print(f"enabled hooks ([features] hooks = true) in {m.config_path(args.scope, project)}")
    entries = m.entries(path, settings_file.load(path))
    user_cfg = codex_trust.user_config()
    in_project = project if args.scope == "project" else None
    if args.trust:
        done, advice = m.trust(user_cfg, entries, in_project)
        for line in done:
            print(line)
        if advice:
            sys.stderr.write(f"agent-strace setup: {advice}\n")
            return EXIT_ERROR
        return EXIT_OK
    try:
        with open(user_cfg, "rb") as f:
            cfg = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        cfg = {}
    untrusted = [k for k, v in codex_trust.trust_status(cfg, entries).items() if v != "trusted"]
    needs_project = in_project and not codex_trust.project_trusted(cfg, in_project)
    if untrusted or needs_project:
        what = f"{len(untrusted)} hooks" + (" and this project" if needs_project else "")
        print(f"note: Codex runs hooks only once you trust them ({what} not yet): review them with /hooks "
              f"in codex{' and trust the project' if needs_project else ''}, or re-run setup with --trust")
    return EXIT_OK


def _gemini(args, m, project: str) -> int:
    from agent_trace.setup import settings_file

    if args.scope != "project":
        return EXIT_OK
    tf = m.trusted_folders_path()
    try:
        folders = settings_file.load(tf)
    except settings_file.SettingsError as e:
        sys.stderr.write(f"agent-strace setup: {e}\n")
        return EXIT_ERROR
    if m.folder_trusted(folders, project):
        return EXIT_OK
    if not args.trust:
        print(f"note: Gemini CLI reads .gemini/settings.json (these hooks) only in a trusted folder and "
              f"headless runs in an untrusted one exit 55: trust {project} in gemini, set "
              f"GEMINI_CLI_TRUST_WORKSPACE=true, or re-run setup with --trust")
        return EXIT_OK
    settings_file.save(tf, {**folders, os.path.abspath(project): "TRUST_FOLDER"})
    print(f"trusted the folder {project} in {tf}")
    return EXIT_OK


def after_uninstall(args, m, ours, project: str, hooks_left: bool) -> None:
    if args.cli == "codex":
        from agent_trace.setup import codex_trust

        keys = [k for k, _h, _c in ours]
        user_cfg = codex_trust.user_config()
        scope_cfg = m.config_path(args.scope, project)
        in_project = project if args.scope == "project" else None
        if m.untrust(user_cfg, keys, in_project, flag=(scope_cfg == user_cfg and not hooks_left)):
            print(f"removed what setup had added to {user_cfg}")
        if scope_cfg != user_cfg and not hooks_left and m.untrust(scope_cfg, [], None, flag=True):
            print(f"removed the hooks flag setup had added to {scope_cfg}")
    elif args.cli == "gemini" and args.scope == "project":
        _gemini_untrust(m, project)


def _gemini_untrust(m, project: str) -> None:
    from agent_trace.setup import settings_file

    tf = m.trusted_folders_path()
    before = settings_file.load_backup(tf)
    key = os.path.abspath(project)
    try:
        current = settings_file.load(tf)
    except settings_file.SettingsError:
        return
    if key not in current or (before is not None and key in before):
        return  # not ours to take back
    new = {k: v for k, v in current.items() if k != key}
    if before is not None and new == before:
        settings_file.restore(tf)
    elif before is None and not new:
        settings_file.delete(tf)
    else:
        settings_file.save(tf, new, backup=False)
    print(f"removed the trust setup had given {project} in {tf}")


def setup_opencode(args) -> int:
    from agent_trace.setup import opencode

    project = os.path.abspath(args.project)
    path = opencode.plugin_path(args.scope, project)
    try:
        with open(path, encoding="utf-8") as f:
            current = f.read()
    except FileNotFoundError:
        current = None
    if args.uninstall:
        if current is None:
            print(f"{path}: no such file, nothing to remove")
        elif not opencode.is_ours(current):
            sys.stderr.write(f"agent-strace setup: {path} is not agent-strace's plugin; left alone\n")
            return EXIT_ERROR
        elif not args.dry:
            os.unlink(path)
            for d in (os.path.dirname(path), os.path.dirname(os.path.dirname(path))):
                try:
                    os.rmdir(d)  # only when setup left it empty
                except OSError:
                    break
            print(f"removed the agent-strace plugin {path}")
        return EXIT_OK
    if current is not None and not opencode.is_ours(current):
        sys.stderr.write(f"agent-strace setup: {path} exists and is not agent-strace's plugin; left alone\n")
        return EXIT_ERROR
    portable = args.scope == "project" and not args.python
    new = opencode.plugin_source(args.python, portable)
    if args.dry:
        sys.stdout.write(f"{path}: no change\n" if new == current else f"would write {path}:\n{new}")
        return EXIT_OK
    if new == current:
        print(f"{path}: already up to date")
        return EXIT_OK
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(new)
    os.replace(tmp, path)
    print(f"installed the agent-strace plugin in {path}")
    if portable:
        print("note: the plugin runs `agent-strace` from PATH, so the file works on every teammate's machine "
              "that has agent-strace installed")
    return EXIT_OK
