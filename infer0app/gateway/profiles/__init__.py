"""Provider profiles: each provider kind's input rules as data, applied in one place,
and reply normalisers that give every app the shapes OpenAI sends (issue 14 §1).

* `table.py`   the rules, one `Profile` per provider kind, refined per model family
* `apply.py`   `apply_request_rules(kind, model, body)` -> (body, Changes)
* `reasoning.py` `reasoning_effort` -> Anthropic extended thinking / Gemini levels
* `replies.py` `StreamNormaliser` and `normalise_body` for OpenAI-wire replies
"""
