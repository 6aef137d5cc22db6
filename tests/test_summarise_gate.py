"""The C secret gate (capture/_summarise.c gate_clean) skips the Python scan only for a str that cannot hold a
secret: it never skips a text redact.py would redact, and the C and Python summarisers stay alike around it."""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

import orjson
import pytest
from native_runs import compiled_summariser

from skeleton_replay.capture import redact
from skeleton_replay.capture.summarise import STR_LIMIT, STR_WINDOW, Summariser

# Each value pattern's own examples (one per label of redact._VALUE_PATTERNS), and the triggers alone
EXAMPLES = {
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijkl",
    "bearer": "Authorization: Bearer abcdefghijklmnop",
    "basic": "Authorization: Basic dXNlcjpwYXNzd29yZA==",
    "aws": "key AKIAIOSFODNN7EXAMPLE here",
    "private_key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
    "url_password": "postgres://user:hunter2pass@db.example.com/app",
    "assignment": "password=hunter2 and more",
    "github": "ghp_" + "a1B2c3D4e5" * 4,
    "slack": "xoxb-1234567890-abcdefghij",
    "stripe": "sk_live_" + "a1B2c3D4" * 3,
    "google": "AIza" + "B" * 35,
}
FILLER = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore "


@pytest.fixture
def native(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return compiled_summariser(monkeypatch)


def _gate(native: ModuleType, **kw: Any) -> Any:
    return native.Summariser(Summariser(**kw))


def _variants(secret: str) -> list[str]:
    """The secret as is, in other cases, inside long text, and straddling the truncation point."""
    out = [secret, secret.upper(), secret.lower(), secret.swapcase(), FILLER + secret, secret + FILLER * 40]
    for cut in (STR_LIMIT - 3, STR_LIMIT, STR_WINDOW - len(secret), STR_WINDOW - len(secret) // 2, STR_WINDOW - 2):
        pad = (FILLER * 10)[: max(cut, 0)]
        out.append(pad + secret + FILLER * 40)
    return out


def test_every_pattern_example_is_redacted_and_never_skipped(native: ModuleType) -> None:
    assert set(EXAMPLES) == set(redact._LABELS)
    for label, example in EXAMPLES.items():
        py = Summariser()
        assert py.secret_value(example), label  # the example is one: redact.py redacts it
        for text in _variants(example):
            scan = Summariser().secret_value(text[:STR_WINDOW])
            gate = _gate(native).gate_clean(text)
            assert not (gate and scan), (label, text)


def test_every_trigger_closes_the_gate_in_any_case_and_position(native: ModuleType) -> None:
    c = _gate(native)
    for trigger in redact._BY_TRIGGER:
        for form in (trigger, trigger.upper(), trigger.title(), trigger.swapcase()):
            for pos in (0, 1, STR_LIMIT - 1, STR_WINDOW - len(form)):
                text = (FILLER * 5)[:pos] + form + FILLER * 40
                assert not c.gate_clean(text), (trigger, form, pos)
        # past the scan window: never written, never scanned, the gate may let it through
        assert c.gate_clean((FILLER * 5)[: STR_WINDOW - len(trigger) + 1] + trigger)


def test_plain_ascii_prose_passes(native: ModuleType) -> None:
    c = _gate(native)
    assert c.gate_clean(FILLER * 80)
    assert c.gate_clean("x" * 3)


def test_non_ascii_user_patterns_and_known_secrets_close_the_gate(native: ModuleType) -> None:
    assert not _gate(native).gate_clean("é" + FILLER * 40)
    assert not _gate(native).gate_clean(FILLER + "\u212a" + FILLER * 40)  # KELVIN SIGN lowers to "k"
    assert not _gate(native).gate_clean(FILLER + "\U0001f600" + FILLER)
    assert _gate(native).gate_clean(FILLER * 40 + "é")  # past the window: neither written nor scanned
    assert not _gate(native, extra_value_patterns=("lorem",)).gate_clean(FILLER * 40)
    py = Summariser()
    c = native.Summariser(py)
    assert c.gate_clean(FILLER * 40)
    py.learn("hunter2hunter2")  # a known secret: every text may hold it
    assert not c.gate_clean(FILLER * 40)


def _adversarial() -> list[str]:
    texts = [FILLER * 40, FILLER[:7], FILLER[:6], '\x00\x1f"\\' * 300, "A" * 5000, "é" * 300, FILLER * 2 + "é"]
    for example in EXAMPLES.values():
        texts += _variants(example)
    for trigger in redact._BY_TRIGGER:
        texts += [FILLER * 2 + trigger.upper() + FILLER * 40, (FILLER * 3)[: STR_WINDOW - 1] + trigger]
    return texts


def test_c_and_pure_summaries_alike_on_adversarial_strings(native: ModuleType) -> None:
    frames: list[Any] = []

    def f(text: Any, pair: Any) -> None:
        frames.append(sys._getframe())

    for extra in ((), ("ipsum",)):
        py, backing = Summariser(extra_value_patterns=extra), Summariser(extra_value_patterns=extra)
        c = native.Summariser(backing)
        for round_ in range(2):
            for text in _adversarial():
                want = py.value(text)
                assert c.value(text) == want, (round_, text)
                assert c.result_json(0, text) == orjson.dumps(want), (round_, text)
                frames.clear()
                f(text, [text, (text,)])
                loc = frames[0].f_locals
                assert c.args_json(frames[0], ("text", "pair")) == orjson.dumps(
                    {n: py.value(loc[n], n) for n in ("text", "pair")}
                ), (round_, text)
        assert len(py.known) == len(backing.known)
