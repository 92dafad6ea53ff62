"""Redaction against hostile and ordinary input: every secret class, no
false positives that destroy data, no second copy, and a linear work bound."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_trace import event as ev
from agent_trace.event import secret_scan
from agent_trace.event.encode import encode_event, to_bytes
from agent_trace.event.redact import PLACEHOLDER, find_secrets, redact_value, sub_secrets
from tests.support.adversarial import FAST

OPENAI = "sk-proj-" + "Ab3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9" * 2
ANTHROPIC = "sk-ant-api03-Xk3vP9qLm2Rt7wZa8bYc4dNe6fGh1jKs0uVx5yQo-_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefAA"
AWS_ID, AWS_SECRET = "AKIAIOSFODNN7EXAMPL3", "wJalrXUtnFEMI/K7MDENG/bPxRfiCY3XAMPLEKEY"
NPM = "npm_" + "a1B2c3D4e5" * 3 + "F6g7H8"


def stored(data) -> dict:
    return json.loads(encode_event(ev.make_event(ev.ANNOTATION, "s", "test", data=data)))


def redacted(text: str) -> str:
    return sub_secrets(text)[0]


# -- each class: the secret goes, its surroundings stay ----------------------------------

@pytest.mark.parametrize("text, secret, kept", [
    (f"key {OPENAI} end", OPENAI, ["key ", " end"]),
    (f"ANTHROPIC_API_KEY={ANTHROPIC}", ANTHROPIC, ["ANTHROPIC_API_KEY="]),
    ("postgres://app:Hunter2pw@db.internal:5432/main", "Hunter2pw", ["postgres://app:", "@db.internal:5432/main"]),
    ("redis://:s3cretpw@cache:6379/0", "s3cretpw", ["redis://:", "@cache:6379"]),
    ("https://x/api?password=hunter2&page=2", "hunter2", ["?password=", "&page=2"]),
    ("GET /v1?api_key=abc123def456&q=1", "abc123def456", ["?api_key=", "&q=1"]),
    ("https://maps.example/api?key=Zq81kdPq0wXe&z=3", "Zq81kdPq0wXe", ["?key=", "&z=3"]),
    ("curl -H 'Authorization: Basic dXNlcjpwYXNzd29yZA=='", "dXNlcjpwYXNzd29yZA==", ["Authorization: Basic "]),
    ("auth header basic YWRtaW46c2VjcmV0 sent", "YWRtaW46c2VjcmV0", ["basic ", " sent"]),
    (f"aws {AWS_ID} {AWS_SECRET}", AWS_SECRET, ["aws "]),
    (f"aws_secret_access_key = {AWS_SECRET}\n", AWS_SECRET, ["aws_secret_access_key = "]),
    (f'"SecretAccessKey": "{AWS_SECRET}"', AWS_SECRET, ['"SecretAccessKey": "']),
    (f"//registry.npmjs.org/:_authToken={NPM}", NPM, ["//registry.npmjs.org/:_authToken="]),
    (f"token {NPM} x", NPM, ["token ", " x"]),
    ('{"client_secret": "abc", "other": 1}', '"abc"', ['"client_secret": ', '"other": 1']),
    ("DB_PASSWORD=hunter2 ./run", "hunter2", ["DB_PASSWORD=", " ./run"]),
    ("run --api-key=xyz98765432 --verbose", "xyz98765432", ["--api-key=", " --verbose"]),
    ("run --password hunter2 --verbose", "hunter2", ["--password ", " --verbose"]),
    ("Authorization: token ghx_notaformat123\nnext line", "ghx_notaformat123", ["Authorization: token ", "next"]),
    ("Cookie: sid=abc123; theme=dark\nnext", "sid=abc123", ["Cookie: ", "next"]),
    ("Bearer abcdefghijklmnopqrstuvwxyz012345", "abcdefghijklmnopqrstuvwxyz012345", ["Bearer "]),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1b2c3d4e5f6\nAbCdEf0123==\n", "MIIEowIBAAKCAQEA",
     ["-----BEGIN RSA PRIVATE KEY-----"]),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAA\\n-----END OPENSSH PRIVATE KEY-----",
     "b3BlbnNzaC1rZXkt", ["-----BEGIN OPENSSH PRIVATE KEY-----", "-----END OPENSSH PRIVATE KEY-----"]),
    ("-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES\n\nMHcCAQEEIAbc123XYZ\n", "MHcCAQEEIAbc",
     ["-----BEGIN EC PRIVATE KEY-----"]),
])
def test_each_secret_class_is_redacted_and_only_the_secret(text, secret, kept):
    out = redacted(text)
    assert secret not in out, out
    assert PLACEHOLDER in out
    for k in kept:
        assert k in out, (k, out)


@pytest.mark.parametrize("text", [
    "src/components/task-management-dashboard.tsx",
    "import { desk-sk-management-components-v2 } from './x'",
    "sk-management-dashboard-component-extra-long-name",  # a word-shaped run has no digits
    "commit 3f786850e387550fdab836ed7e6dc881de23001b blob sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4",
    "uuid 123e4567-e89b-12d3-a456-426614174000 task-list",
    "the basic configuration needs knowledge of the token budget",
    "max_tokens=1024 input_tokens: 12 tokens=5 tokenizer=bpe",
    'def connect(password: str, api_key=None):\n    token = os.environ["TOKEN"]\n',
    "    password = get_password()\n    if password == expected:\n",
    "PWD=/home/dev/project OLDPWD=/tmp",
    "see https://example.com/docs?page=2 and ssh://git@github.com/org/repo",
    "password: ${DB_PASSWORD}  token: <your-token>  api_key: ********",
    '{"eos_token": "</s>", "pad_token": "[PAD]"}',
    "AKIA is a prefix; ASIAN markets; AIza is too",
])
def test_ordinary_text_is_untouched(text):
    assert redacted(text) == text
    assert find_secrets(text) == []


def test_one_marker_inside_a_big_base64_blob_does_not_wipe_it():
    raw = base64.b64encode(bytes(range(256)) * 400).decode()
    for blob in (raw[:50_000] + "sk-" + raw[50_000:],
                 base64.urlsafe_b64encode(bytes(range(256)) * 400).decode().replace("A", "sk-", 1)):
        out = stored({"blob": blob})
        assert out["data"]["blob"] == blob and "redacted" not in out


def test_base64_copies_inside_text_are_decoded_and_replaced():
    """A secret cannot hide in a base64 copy inside a command line, code or
    a tool's output, whatever the alphabet or the letters glued before it."""
    def enc(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    cases = [
        f"echo {enc(OPENAI)} | base64 -d > ~/.key",
        f"echo {base64.urlsafe_b64encode(f'DB_PASSWORD=Hunter2!xyz {NPM}'.encode()).decode()} | base64 --decode",
        f"printf KEY{enc(' ' + AWS_ID + ' ' + AWS_SECRET)} | cut -c4- | base64 -d",  # glued: read at other alignments
        f"base64.b64decode('{enc('x' * 5000 + ' token: ' + OPENAI)}')",  # a long run, read from its start
    ]
    for text in cases:
        out = stored({"command": text})
        line = json.dumps(out)
        assert PLACEHOLDER in out["data"]["command"] and out["redacted"] >= 1, text[:60]
        for secret in (OPENAI, NPM, AWS_SECRET, "Hunter2"):
            assert enc(secret)[:16] not in line
    assert "| base64 -d > ~/.key" in stored({"command": cases[0]})["data"]["command"]  # only the run goes


def test_base64_runs_without_a_secret_and_ordinary_long_words_stay():
    image = "data:image/png;base64," + base64.b64encode(bytes(range(256)) * 300).decode()
    keep = [image, "TestTheEncodersShortcutGivesWhatTheFullWalkGives base64 notes",
            "sha256 " + "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" + " base64",
            "/usr/lib/python3/dist-packages/SomeLongModuleName/AnotherLongPackageName base64",
            "echo " + base64.b64encode(b"hello world, nothing to hide in here at all").decode() + " | base64 -d"]
    for text in keep:
        out = stored({"text": text})
        assert out["data"]["text"] == text and "redacted" not in out, text[:60]


def test_a_secret_used_as_a_json_key_is_redacted():
    out = stored({"tokens": {OPENAI: 1, "ok": 2}, ANTHROPIC: {"a": 1}})
    line = json.dumps(out)
    assert OPENAI not in line and ANTHROPIC not in line
    assert out["data"]["tokens"]["ok"] == 2


def test_credential_members_anywhere_and_in_header_lists():
    data = {
        "deep": {"a": [{"b": {"client_secret": "s1", "private_key": "s2", "session_token": "s3"}}]},
        "headers": [["Authorization", "Bearer abc"], ["X-Api-Key", "s4"], ["Accept", "json"]],
        "har": [{"name": "Cookie", "value": "sid=s5"}, {"name": "Accept", "value": "json"}],
        "attrs": [{"key": "api_key", "value": {"stringValue": "s6"}},
                  {"key": "gen_ai.tool.name", "value": {"stringValue": "Write"}}, {"key": "key", "value": "k"}],
        "env": {"GITHUB_TOKEN": "s7", "HOME": "/root"},
        "argv": ["server", "--api-key", "s8", "--port", "80"],
        "logprobs": [{"token": " Hello", "logprob": -0.1}],
        "usage": {"input_tokens": 12, "max_tokens": 100},
    }
    out = stored(data)["data"]
    line = json.dumps(out)
    for s in ("s1", "s2", "s3", "Bearer abc", "s4", "sid=s5", "s6", "s7", '"s8"'):
        assert s not in line, s
    assert out["headers"][2] == ["Accept", "json"] and out["har"][1]["value"] == "json"
    assert out["env"]["HOME"] == "/root" and out["argv"][:2] == ["server", "--api-key"] and out["argv"][3:] == [
        "--port", "80"]
    assert out["logprobs"][0]["token"] == " Hello" and out["usage"] == data["usage"]
    assert out["attrs"][1:] == data["attrs"][1:]  # "key" names a member, it is not a credential


def test_base64_copies_are_redacted_before_they_reach_disk():
    raw = f"startup log: key={OPENAI}\n\x00\xff binary".encode("latin-1")
    b64 = base64.b64encode(raw).decode()
    out = stored({"raw_b64": b64, "body_b64": b64, "nested": {"b64": b64, "bytes_base64": b64}})
    for v in (out["data"]["raw_b64"], out["data"]["body_b64"], out["data"]["nested"]["b64"],
              out["data"]["nested"]["bytes_base64"]):
        decoded = base64.b64decode(v)
        assert OPENAI.encode() not in decoded and b"startup log: key=" in decoded and b"\x00\xff binary" in decoded


def test_every_field_is_redacted_not_only_data():
    e = ev.make_event(ev.TOOL_CALL, "s", "sdk", tool=f"t {OPENAI}", name=f"n {ANTHROPIC}", model=NPM,
                      error={"message": f"failed with {AWS_ID}"})
    line = encode_event(e).decode()
    for s in (OPENAI, ANTHROPIC, NPM, AWS_ID):
        assert s not in line


def strict_json(line: bytes):
    """Parse as browsers do: NaN/Infinity are not JSON."""
    def refuse(name):
        raise ValueError(f"non-JSON constant {name}")
    return json.loads(line, parse_constant=refuse)


def test_export_bytes_go_through_the_same_encoder_guarantees():
    assert strict_json(to_bytes({"x": float("nan"), "y": [float("inf")]})) == {"x": "NaN", "y": ["Infinity"]}


# -- the work bound: algorithmic, not a timing ------------------------------------------

ADVERSARIAL = {
    "sk- repeated": "sk-",
    "bearer spaces": "Bearer " + " " * 30,
    "private key without END": "-----BEGIN RSA PRIVATE KEY-----\nMIIE",
    "url userinfo": "a://u:",
    "password=$": "password=$",
    "token: ": "token: ",
    "key": "key",
    "basic": "basic ",
    "AKIA runs": "AKIA" + "B" * 16 + " " + "aB1/" * 9 + "x ",
    "jwt dots": "eyJabcdefgh.",
    "quoted unclosed": 'password="',
    "flags": "--token ",
    "long ident": "a_" * 200 + "token=",
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_scan_work_is_linear_with_a_hard_bound(name):
    unit = ADVERSARIAL[name]

    def work(n):
        text = (unit * (n // len(unit) + 1))[:n]
        w = secret_scan.Work(len(text))
        secret_scan.scan(text, w)
        assert not w.exhausted, name
        return w.units

    small, big = work(20_000), work(80_000)
    assert big <= 4.2 * small + secret_scan.WORK_BASE, (name, small, big)  # linear, not quadratic
    assert big <= secret_scan.WORK_FACTOR * 80_000, (name, big)


def test_when_the_budget_runs_out_the_rest_is_treated_as_secret(monkeypatch):
    monkeypatch.setattr(secret_scan, "WORK_FACTOR", 0)
    monkeypatch.setattr(secret_scan, "WORK_BASE", 200)
    text = "ok prefix " + "token: abcdefgh12 " * 50
    out = redacted(text)
    assert out.startswith("ok prefix") and out.endswith(PLACEHOLDER)
    assert "abcdefgh12" not in out


# -- properties -------------------------------------------------------------------------

SECRETS = [OPENAI, ANTHROPIC, AWS_ID, NPM, "ghp_" + "aB3" * 12, "glpat-" + "x1y2z3" * 4,
           "xoxb-123456789012-abcdefghij", "AIza" + "B1c" * 11 + "dE", "hf_" + "aBcDeFgHiJ" * 4]
safe_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200)
separators = st.sampled_from([" ", "\n", "\t", '"', "'", "(", "=", ": ", ", ", "\\n", "<", ">"])


@FAST
@given(safe_text, separators, st.sampled_from(SECRETS), separators, safe_text)
def test_a_token_between_separators_never_survives(before, s1, secret, s2, after):
    out = redacted(before + s1 + secret + s2 + after)
    assert secret not in out


@FAST
@given(st.text(max_size=400))
def test_redaction_is_idempotent_and_never_grows_unboundedly(text):
    once, n = sub_secrets(text)
    twice, m = sub_secrets(once)
    assert twice == once and m == 0
    assert len(once) <= len(text) + n * len(PLACEHOLDER)


@FAST
@given(st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=40),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                max_size=4),
                    max_leaves=30))
def test_any_json_value_encodes_to_a_valid_line(value):
    line = encode_event(ev.make_event(ev.ANNOTATION, "s", "t", data={"v": value}))
    assert line.endswith(b"\n")
    assert isinstance(strict_json(line), dict)


def test_redact_value_counts_replacements():
    counter = [0]
    out = redact_value({"password": "x1", "t": f"a {OPENAI} b {NPM}"}, counter)
    assert counter[0] == 3 and out["password"] == PLACEHOLDER


def test_sdk_tracing_never_writes_nan_and_marks_it(trace_dir):
    from agent_trace.sdk import session, trace_tool
    from agent_trace.store import Store

    @trace_tool
    def measure(x):
        return {"score": float("nan"), "limit": float("-inf")}

    with session("nan", session_id="nan"):
        measure(float("inf"))
    raw = open(Store(str(trace_dir)).path_for("nan"), "rb").read()
    events = [strict_json(x) for x in raw.splitlines()]
    call = next(e for e in events if e["type"] == ev.TOOL_CALL)
    result = next(e for e in events if e["type"] == ev.TOOL_RESULT)
    assert call["data"]["tool_input"] == {"x": {"__float__": "inf"}}
    assert result["data"]["tool_response"] == {"score": {"__float__": "nan"}, "limit": {"__float__": "-inf"}}


def test_cassettes_scrub_inside_base64_bodies_and_header_lists():
    from agent_trace.cassette.secrets import scrub

    body = {"b64": base64.b64encode(f"\x00\x01 token={OPENAI}".encode("latin-1")).decode()}
    out = scrub({"body": body, "headers": [["Authorization", "Bearer abcdefghijklmnopqrstuv"]]})
    assert OPENAI.encode() not in base64.b64decode(out["body"]["b64"]) and "<secret:" in base64.b64decode(
        out["body"]["b64"]).decode("latin-1")
    assert out["headers"][0][1].startswith("<secret:")
    assert scrub(out) == out  # placeholders are stable: a live request scrubbed again still matches


def test_exports_redact_again(trace_dir):
    from agent_trace.store import Store

    store = Store(str(trace_dir))
    store.ensure()
    e = ev.make_event(ev.USER_PROMPT, "old", "claude-code", data={"prompt": f"use {OPENAI}"})
    with open(store.path_for("old"), "w") as f:  # a store written without redaction (an older version)
        f.write(json.dumps(e) + "\n")
    from conftest import run_cli

    for fmt in (["--format", "jsonl"], ["--format", "json"], ["--format", "otlp"]):
        r = run_cli("export", "old", *fmt)
        assert r.returncode == 0 and OPENAI.encode() not in r.stdout and r.stdout, (fmt, r.stderr)


def test_a_strong_key_glued_to_a_word_by_a_dash_is_still_caught():
    from agent_trace.event.redact import redact_text

    key = "sk-ant-api03-" + "K" * 40
    assert redact_text(f"<!channel>-{key}.env") == ("<!channel>-[REDACTED].env", 1)
    assert redact_text("task-management-dashboard.tsx") == ("task-management-dashboard.tsx", 0)
    assert redact_text("ask-ant-api03-" + "K" * 40)[1] == 0  # a letter before: part of a word


def test_a_private_key_header_redacts_even_a_short_body():
    from agent_trace.event.redact import redact_text

    text, n = redact_text("-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----")
    assert n == 1 and "MIIB" not in text


def test_a_url_authority_stops_at_characters_urls_cannot_hold():
    from agent_trace.event.redact import find_secrets

    assert find_secrets("&lt;https://evil.example|click&gt;%0A::error::x&lt;@U123&gt;") == []
    assert find_secrets("postgres://app:Pw9sEcret@db/x")  # a real one still is


# -- the encoder's shortcut (only markers its JSON text holds) = the full walk -----------

_PIECES = ["token", "TOKEN", "api_key", "--api-key", "password", "pass", "sig", "Key", "İ", "SİG", "\u212aey",
           "auth", "Authorization", "Bearer ", "basic ", "_b64", "b64", "base64", "://", "u:pw@h", "sk-", "=",
           ": ", '"', "\\", "\n", "\x01", "\x08", " ", "-", "_", "x", "7", OPENAI, NPM, AWS_ID, AWS_SECRET,
           "ghp_" + "a1B2c3D4e5" * 4, "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1b2c3d4e5f6\n",
           "\xa0", "\t", "\x0b", ".", "'", "--", "tokens", "Secret", "pwd", "cookie", "Signature", "credentials"]
_text = st.lists(st.sampled_from(_PIECES), max_size=8).map("".join)


def _full_walk(event: dict) -> bytes:
    from agent_trace.event import redact
    from agent_trace.event.fastjson import dumps

    redact.redact_event(event)  # every marker, every string
    return (dumps(event) + "\n").encode("utf-8", "backslashreplace")


_KEYS = st.sampled_from(["password", "api_key", "--token", "name", "value", "key", "Authorization", "x_b64",
                         "base64", "note", "SİG"]) | _text


@FAST
@given(st.recursive(st.none() | st.integers() | _text,
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
                    max_leaves=20))
def test_the_encoders_shortcut_gives_what_the_full_walk_gives(value):
    import copy

    event = ev.make_event(ev.ANNOTATION, "s", "t", data={"v": value})
    assert encode_event(copy.deepcopy(event), max_field=0) == _full_walk(copy.deepcopy(event))


def test_the_shortcut_keeps_plain_events_and_still_redacts_by_structure():
    plain = ev.make_event(ev.ANNOTATION, "s", "t", data={"text": "nothing here at all", "n": [1, 2]})
    assert encode_event(dict(plain), max_field=0) == _full_walk(dict(plain))
    for data in ({"password": "x1"}, {"payload_b64": "!!not base64"}, {"argv": ["run", "--api-key", "VALUE"]},
                 {"name": "X-Api-Key", "value": "v4lue"}, {"headers": [["Cookie", "sid=1"]]}):
        line = encode_event(ev.make_event(ev.ANNOTATION, "s", "t", data=data), max_field=0)
        assert json.loads(line)["redacted"] == 1, data
    hidden = {"outer": [{"x": 1}, {"deep": ["ok", f"export TOKEN={NPM}"]}], "b64": base64.b64encode(
        f"key {OPENAI}".encode()).decode()}
    line = encode_event(ev.make_event(ev.ANNOTATION, "s", "t", data=hidden), max_field=0)
    assert NPM.encode() not in line and OPENAI.encode() not in line
    assert OPENAI not in base64.b64decode(json.loads(line)["data"]["b64"]).decode()


# -- the name prefilter (event/name_prefilter.py) rules out only what the walk leaves alone ---

def test_every_credential_name_ends_with_a_prefilter_ending():
    import re

    from agent_trace.event.name_prefilter import ENDINGS

    names = (set(secret_scan._PW_SUFFIXES) | set(secret_scan._TOKEN_SUFFIXES) | secret_scan._LINE_EXACT
             | secret_scan._PW_EXACT | secret_scan._QUERY_EXACT)
    for name in names:
        for spelled in (name, name.upper(), name.replace("_", "-"), "x_" + name, "--" + name):
            if not secret_scan.classify_name(spelled):
                continue  # exact names ("cookie", "key") with a prefix are no credentials
            assert any(m in spelled.lower() and re.search(f"(?:{e})$", spelled.lower())
                       for m, e in ENDINGS.items()), spelled
    assert set(ENDINGS) == set(secret_scan.NAME_MARKERS)


_NAMEY = ["token", "TOKEN", "api_key", "--api-key", "-p", "password", "pass", "sig", "Key", "SİG", "\u212aey",
          "auth", "Authorization", "cookie", "credentials", "_pwd", "x", "7", "_", "-", ".", " ", "\t", "\n",
          "\xa0", "\x0b", "\x1c", "'", '"', "\\", ":", "=", "==", ":=", "=>", "&", "?", "(", "value1234"]


_SHAPED = st.tuples(st.sampled_from(["", "x ", "--", "-", "?", "&", "a.", "DB_", "x-"]),
                    st.sampled_from(["password", "Token", "api-key", "sig", "Authorization", "cookie", "pass",
                                     "x_pwd", "secret", "credentials", "tokens", "keys"]),
                    st.sampled_from(["", " ", "\t", ".", "=", ":", " = ", '"', '": ', "'=", "\\=", "\xa0",
                                     "\n", "==", " :", "\x0b"]),
                    st.sampled_from(["", "value1234", "$X", "a", "os.environ", "Bearer abcdefgh12345678"])
                    ).map("".join)


@FAST
@given(st.recursive(_SHAPED | st.lists(st.sampled_from(_NAMEY), max_size=10).map("".join),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                        st.lists(st.sampled_from(_NAMEY), max_size=4).map("".join), inner, max_size=4),
                    max_leaves=12))
def test_the_name_prefilter_only_skips_events_the_walk_leaves_alone(value):
    import copy

    from agent_trace.event import redact
    from agent_trace.event.fastjson import dumps

    event = ev.make_event(ev.ANNOTATION, "s", "t", data={"v": value})
    text = dumps(event)
    if redact.walk_markers(text, prefilter=True) is None:
        walked = redact.redact_event(copy.deepcopy(event))  # every marker, every string
        assert "redacted" not in walked and walked == event, text


def test_the_name_prefilter_lets_every_credential_shape_through():
    from agent_trace.event.name_prefilter import possible_name_hit

    for text in ('{"password":"x"}', '{"a":"api_key = \\"v\\""}', '{"a":["--token","v"]}',
                 '{"a":"run --api-key\\tv"}', '{"name":"x-api-key ","value":"v"}', '{"a":"pwd\\u000b"}',
                 '{"a":"DB_PASSWORD\'=v"}', '{"a":"cookie:\\"v"}'):
        low = text.lower()
        assert possible_name_hit(low, [m for m in secret_scan.NAME_MARKERS if m in low]), text
    assert not possible_name_hit('{"a":"input_tokens","b":"a token here","c":"keys"}',
                                 ["token", "key"])


@FAST
@given(st.lists(st.sampled_from(["ghp_", "gho_", "ghs_", "github_pat_", "gh", "g", "k_live_", "k_test_", "k_", "AKIA",
                                 "ASIA", "AIza", "A", "sk-", "x", "token", "://", "eyJ", "xox"]),
                max_size=8).map("".join))
def test_grouped_marker_lookup_finds_the_same_markers(text):
    assert secret_scan.present_markers(text, grouped=True) == secret_scan.present_markers(text, grouped=False)


def test_brackets_in_strings_keep_the_line_as_serialised():
    from agent_trace.event.fastjson import dumps

    code = "def f(x): return {'a': [x[0], {'b': [1, 2]}]}\n" * 40  # 320 brackets, all inside one string
    event = ev.make_event(ev.TOOL_RESULT, "s", "t", data={"tool_response": code})
    assert encode_event(dict(event), max_field=0) == (dumps(event) + "\n").encode()
    deep: dict = {}
    node = deep
    for _ in range(80):  # real nesting past the cap is still cut and recorded
        node["x"] = {}
        node = node["x"]
    line = json.loads(encode_event(ev.make_event(ev.ANNOTATION, "s", "t", data=deep), max_field=0))
    assert line["truncated"][0]["nested"] == 64
