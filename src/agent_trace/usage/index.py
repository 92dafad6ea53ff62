"""Token usage per session, model and quarter hour: what ``usage`` reports add up.

Per session file the index keeps rows keyed ``"<quarter>|<model>|<long>"``:
``quarter`` is the UTC quarter hour (epoch seconds // 900) of the responses,
``long`` is 1 for requests over the long-context threshold (priced apart),
and each row holds ``[input, output, cache_read, cache_write, responses,
first epoch, last epoch]``.  Every real timezone is a whole number of quarter
hours from UTC and Claude's 5-hour blocks start on the hour, so days, weeks,
months and blocks in any timezone come out exact from these rows.  An eighth
number counts the cache writes kept for an hour (priced apart; included in
``cache_write``).  A token value that is not an int in ``0..2**53`` (a store
edited by hand or written by an older version) counts as nothing, as in the
session summary: sums stay exact and every sum fits a float when priced.

Each API response counts once across the whole store: by its message id
(resumed sessions copy earlier messages into the new session's log; Claude
repeats a message per content block), else by its event id.  The keys seen
are kept in ``index/usage-keys.bin`` (8 bytes each).  Cost is not stored:
reports price the tokens with the current table, so ``prices update`` takes
effect at once.
"""

from __future__ import annotations

import os
from array import array

from .. import event as ev
from ..store import registry
from ..store.file_index import FileIndex
from .pricing import cache_write_1h, long_context

QUARTER = 900
AGENT_BY_SOURCE = {"claude-code": "claude-code", "codex": "codex", "gemini": "gemini-cli"}


def response_key(e: dict) -> int:
    """64 bits naming the API response an ``llm.response`` event stands for."""
    from _blake2 import blake2b

    data = e.get("data")
    mid = data.get("message_id") if isinstance(data, dict) else None
    raw = f"m\0{mid}" if isinstance(mid, str) and mid else f"e\0{e.get('session')}\0{e.get('id')}"
    return int.from_bytes(blake2b(raw.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


class UsageIndex(FileIndex):
    FILE = "usage.json"
    VERSION = 3  # 3: token counts that are not ints in 0..2**53 are left out (an older index may hold them)

    def __init__(self, store):
        super().__init__(store)
        self.keys_path = os.path.join(self.dir, "usage-keys.bin")
        self._keys: set[int] | None = None
        self._gen = 0
        self._default_project = registry.project_of(store.root)

    def load_extra(self, data: dict) -> None:
        self._gen = data.get("gen", 0)

    def extra(self) -> dict:
        return {"gen": self._gen}

    def reset(self) -> None:
        self._keys = set()
        self._gen = int.from_bytes(os.urandom(6), "little")

    def load(self) -> "UsageIndex":
        super().load()
        if self.files and self._stored_gen() != self._gen:
            self._rebuild()  # keys and rows from different runs: count again from the logs
        return self

    def _stored_gen(self) -> int | None:
        try:
            with open(self.keys_path, "rb") as f:
                return int.from_bytes(f.read(8), "little")
        except OSError:
            return None

    def keys(self) -> set[int]:
        if self._keys is None:
            arr = array("Q")
            try:
                with open(self.keys_path, "rb") as f:
                    f.read(8)
                    arr.frombytes(f.read())
            except (OSError, ValueError):
                pass
            self._keys = set(arr)
        return self._keys

    def save(self) -> None:
        if not self.dirty:
            return
        keys = self._keys
        super().save()
        if keys is not None and not self.dirty:
            try:
                tmp = f"{self.keys_path}.{os.getpid()}.tmp"
                with open(tmp, "wb") as f:
                    f.write(self._gen.to_bytes(8, "little"))
                    f.write(array("Q", keys).tobytes())
                os.replace(tmp, self.keys_path)
            except OSError:
                pass

    def new_entry(self, name: str) -> dict:
        return {"session": None, "project": self._default_project, "agent": None, "rows": {}}

    def feed(self, name: str, entry: dict, items) -> None:
        keys = None
        rows = entry["rows"]
        for _start, _end, e in items:
            if entry["session"] is None:
                entry["session"] = e.get("session")
            if entry["agent"] is None:
                src = e.get("source")
                if src in AGENT_BY_SOURCE:
                    entry["agent"] = AGENT_BY_SOURCE[src]
            if entry.get("cwd") is None:
                data = e.get("data")
                cwd = data.get("cwd") if isinstance(data, dict) else None
                if isinstance(cwd, str) and cwd:
                    entry["cwd"] = cwd
                    entry["project"] = cwd
            if e.get("type") != ev.LLM_RESPONSE:
                continue
            u = e.get("usage")
            ts = e.get("ts")
            if not isinstance(u, dict) or not isinstance(ts, str):
                continue
            if keys is None:
                keys = self.keys()
            k = response_key(e)
            if k in keys:
                continue
            keys.add(k)
            try:
                t = ev.iso_to_epoch(ts)
            except ValueError:
                continue
            i, o = u.get("input") or 0, u.get("output") or 0
            cr, cw = u.get("cache_read") or 0, u.get("cache_write") or 0
            count = ev.is_token_count
            if not (count(i) and count(o) and count(cr) and count(cw)):
                # a value that is not a count (a store edited by hand or by an older version)
                # counts as nothing, as in the session summary
                i, o, cr, cw = (n if count(n) else 0 for n in (i, o, cr, cw))
            long = 1 if long_context(u) else 0
            model = e.get("model") or "unknown"
            rk = f"{int(t // QUARTER)}|{model}|{long}"
            w1h = cache_write_1h(e)
            row = rows.get(rk)
            if row is None:
                rows[rk] = [i, o, cr, cw, 1, t, t, w1h]
            else:
                row[0] += i
                row[1] += o
                row[2] += cr
                row[3] += cw
                row[4] += 1
                if t < row[5]:
                    row[5] = t
                if t > row[6]:
                    row[6] = t
                row[7] += w1h
        if entry["agent"] is None and entry["session"] is not None:
            entry["agent"] = "other"


def iter_rows(index: UsageIndex):
    """(file entry, quarter, model, long, row) for every row of the index."""
    files = index.files
    for name in sorted(files):  # one order whatever order the files were indexed in: the same sums to the last digit
        entry = files[name]
        for key, row in entry["rows"].items():
            bar = key.index("|")
            yield entry, int(key[:bar]), key[bar + 1:-2], key[-1] == "1", row
