"""Which model a grant may hold: always one its connection can serve (issue 14 §2).

A grant stores a connection and a model ('' = the connection's default model, resolved at call
time). The rules, applied wherever a grant, a connection or a connection's models change
(consent approval, the Connected apps switch, a connection edit or test, a connection delete):

- '' always fits (it follows the connection's default);
- a model the connection is known to serve (its default model, or a model its last successful
  test listed) fits;
- a kind with a closed catalogue (the sandbox) serves nothing else;
- a model of another kind's catalogue (another kind's default or closed catalogue, e.g.
  `sandbox-echo-1` on OpenAI) does not fit unless this connection listed it;
- a connection whose test listed its models serves only those, unless it is a custom endpoint
  (`OPEN_ENDED_KINDS`: Azure deployments, custom OpenAI-compatible servers, Ollama), where any
  typed name ("other") may be right;
- otherwise (never tested) a typed name is taken on trust.

`choose_model` applies them to a form's answer: a pick from the list that does not fit the chosen
connection (the list shows every connection's models) and a model left over from the previous
connection fall back to the connection's default; a typed "other" name that does not fit is
refused with a ValidationError naming the connection.
"""

from __future__ import annotations

from ..gateway.providers.kinds import KINDS
from ..store.models import Grant, ProviderConnection
from .errors import ValidationError

OPEN_ENDED_KINDS = frozenset({"azure-openai", "openai-compatible", "ollama"})
MAX_MODEL = 200


def clean_model(model: str | None, field: str = "model") -> str:
    """A model name as typed: stripped, one line, at most MAX_MODEL characters (else ValidationError)."""
    model = (model or "").strip()
    if len(model) > MAX_MODEL or any(ord(c) < 32 for c in model):
        raise ValidationError(f"The model name must be at most {MAX_MODEL} characters, on one line.", field=field)
    return model


def known_models(kind: str, default_model: str, tested: list[str] | tuple[str, ...]) -> list[str]:
    """What a connection is known to serve: its default model first, then what its test listed."""
    k = KINDS.get(kind)
    fixed = list(k.fixed_models) if k else []
    return list(dict.fromkeys(m for m in [default_model or (k.default_model if k else ""), *tested, *fixed] if m))


def _other_catalogues(kind: str) -> set[str]:
    names: set[str] = set()
    for slug, k in KINDS.items():
        if slug != kind:
            names.update(m for m in (k.default_model, k.embedding_model, *k.fixed_models) if m)
    return names


def model_fits(kind: str, default_model: str, tested: list[str] | tuple[str, ...], model: str) -> bool:
    """Whether a connection (kind, default model, models its last test listed) can serve `model`."""
    if not model or model in known_models(kind, default_model, tested):
        return True
    k = KINDS.get(kind)
    if k is None or k.fixed_models or model in _other_catalogues(kind):
        return False
    return kind in OPEN_ENDED_KINDS or not tested


def choose_model(conn_kind: str, conn_name: str, default_model: str, tested, *, picked: str, other: str = "",
                 changed_connection: bool, previous_model: str = "") -> str:
    """The model to store for a grant from a form: `picked` from the list ('' = the connection's
    default), or `other`, a name typed for a custom endpoint (wins when given).

    `changed_connection`: the grant is new or moves to this connection; `previous_model` is the
    model it held before. Returns '' (the connection's default) or a fitting model name; raises
    ValidationError(field="model") for a typed name the connection cannot serve."""
    typed = clean_model(other, "model_other")
    if typed:
        if not model_fits(conn_kind, default_model, tested, typed):
            raise ValidationError(f"{conn_name} cannot serve the model {typed!r}. Choose one of its models, "
                                  "or leave the model empty to use its default.", field="model")
        return typed
    model = clean_model(picked)
    if not model or model in known_models(conn_kind, default_model, tested):
        return model
    if changed_connection and model == previous_model:
        return ""  # left over from the previous connection: the new one's default, not a foreign name
    if not model_fits(conn_kind, default_model, tested, model):
        if changed_connection:
            return ""
        raise ValidationError(f"{conn_name} cannot serve the model {model!r}. Choose one of its models.",
                              field="model")
    return model


def embedding_fits(kind: str, model: str) -> bool:
    """Whether a grant's embedding model suits its connection's kind ('' always does)."""
    if not model:
        return True
    k = KINDS.get(kind)
    if k is None or (k.fixed_models and model not in k.fixed_models):
        return False
    return model not in _other_catalogues(kind) or model == k.embedding_model


def choose_embedding_model(kind: str, conn_name: str, typed: str, *, changed_connection: bool,
                           previous: str = "") -> str:
    """The embedding model to store ('' = the kind's default embedding model, kinds.py)."""
    model = clean_model(typed, "embedding_model")
    if changed_connection and model == previous:
        model = ""
    if not embedding_fits(kind, model):
        if changed_connection:
            return ""
        raise ValidationError(f"{conn_name} cannot serve the embedding model {model!r}.", field="embedding_model")
    return model


def model_lists(connections) -> dict[int, list[str]]:
    """For the model list on consent and Connected apps: connection id -> its known models
    (`connections` are providers.ConnectionView)."""
    return {c.id: known_models(c.kind, c.default_model, c.models) for c in connections}


def models_for(grant: Grant | None, conn: ProviderConnection, known: list[str], *, model: str, model_other: str,
               embedding_model: str | None) -> dict:
    """The grant's {"model", "embedding_model"} on `conn` (whose known models are `known`) by the
    rules above; ValidationError for a typed model the connection cannot serve. Call inside a
    store transaction (it reads the grant's previous connection)."""
    changed = grant is None or grant.provider_id != conn.id
    previous, previous_embedding = "", ""
    if grant is not None:
        previous, previous_embedding = grant.model or "", grant.embedding_model or ""
        if not previous and grant.provider_id is not None:
            before = ProviderConnection.get_or_none(ProviderConnection.id == grant.provider_id)
            if before is not None:  # '' meant "the old connection's default": that name is left over too
                previous = before.default_model or (KINDS[before.kind].default_model if before.kind in KINDS else "")
    out = {"model": choose_model(conn.kind, conn.name, conn.default_model, known, picked=model,
                                 other=model_other, changed_connection=changed, previous_model=previous)}
    typed_embedding = previous_embedding if embedding_model is None else embedding_model
    out["embedding_model"] = choose_embedding_model(conn.kind, conn.name, typed_embedding,
                                                    changed_connection=changed, previous=previous_embedding)
    return out
