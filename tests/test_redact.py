import json

from agent_trace import event as ev
from agent_trace.event.encode import encode_event
from agent_trace.event.redact import PLACEHOLDER, find_secrets

SECRETS = [
    "sk-ant-api03-" + "A1b2C3d4E5f6G7h8I9j0" * 3,
    "sk-proj-" + "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2" * 2,
    "ghp_" + "a" * 36,
    "github_pat_" + "11ABCDEFG0" * 5,
    "glpat-" + "x1y2z3" * 4,
    "xoxb-123456789012-abcdefghij",
    "AKIA" + "ABCDEFGHIJKLMNOP",
    "AIza" + "B" * 35,
    "hf_" + "abcdefghij" * 4,
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk",
]


def stored(data) -> dict:
    return json.loads(encode_event(ev.make_event(ev.ANNOTATION, "s", "test", data=data)))


def test_every_token_format_is_redacted_before_disk():
    for secret in SECRETS:
        out = stored({"text": f"here is my key {secret} ok"})
        assert secret not in json.dumps(out), secret
        assert PLACEHOLDER in out["data"]["text"] and out["redacted"] >= 1


def test_credential_keys_are_redacted_but_token_counts_are_not():
    out = stored({
        "headers": {"Authorization": "Basic dXNlcjpwYXNz", "x-api-key": "plain-key", "Cookie": "a=b"},
        "usage": {"input_tokens": 12, "max_tokens": 100, "output_tokens": 7},
        "password": "hunter2",
    })
    h = out["data"]["headers"]
    assert h == {"Authorization": PLACEHOLDER, "x-api-key": PLACEHOLDER, "Cookie": PLACEHOLDER}
    assert out["data"]["password"] == PLACEHOLDER
    assert out["data"]["usage"] == {"input_tokens": 12, "max_tokens": 100, "output_tokens": 7}
    assert out["redacted"] == 4


def test_bearer_tokens_keep_the_scheme():
    out = stored({"cmd": "curl -H 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345' x"})
    assert "Bearer " + PLACEHOLDER in out["data"]["cmd"]


def test_no_false_positives_on_hashes_and_shas():
    sha1 = "3f786850e387550fdab836ed7e6dc881de23001b"
    sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    text = f"commit {sha1} blob sha256:{sha256} uuid 123e4567-e89b-12d3-a456-426614174000 task-list"
    out = stored({"text": text})
    assert out["data"]["text"] == text and "redacted" not in out
    assert find_secrets(text) == []


def test_private_key_blocks_are_redacted():
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----"
    out = stored({"content": f"x\n{key}\ny"})
    assert "b3BlbnNz" not in out["data"]["content"]


def test_large_fields_are_capped_and_the_cut_is_recorded(monkeypatch):
    monkeypatch.setenv("AGENT_TRACE_MAX_FIELD", "1000")
    out = stored({"tool_input": {"content": "x" * 5000, "small": "y"}})
    assert len(out["data"]["tool_input"]["content"]) == 1000
    assert out["truncated"] == [{"path": "data.tool_input.content", "chars": 5000, "kept": 1000}]
    monkeypatch.setenv("AGENT_TRACE_MAX_FIELD", "0")
    assert len(stored({"c": "x" * 5000})["data"]["c"]) == 5000
