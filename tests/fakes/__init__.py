"""Fake upstream LLM servers for tests: `async with run_fake("anthropic") as fake: ...`.

See `server.py` for the harness, `openai_fake.py` (openai, gemini, azure flavours) and
`anthropic_fake.py` for what each validates, and `brain.py` for the deterministic answers.
"""

from tests.fakes.brain import Knobs
from tests.fakes.server import VALID_KEY, FakeState, FakeUpstream, Recorded, run_fake

__all__ = ["VALID_KEY", "FakeState", "FakeUpstream", "Knobs", "Recorded", "run_fake"]
