"""A grant's model is always one its connection can serve (issue 14 §2), at every point where a
grant, a connection or a connection's models change."""

from __future__ import annotations

import pytest

from infer0app.services import grant_models, grant_views, grants, providers
from infer0app.services.datadir import open_data_dir
from infer0app.services.errors import ValidationError
from infer0app.store.models import Grant, GrantFallback
from tests.support.seed import seed_grant


@pytest.fixture
def world(tmp_path):
    store, vault = open_data_dir(tmp_path / "d")
    yield store, vault
    store.close()


def _approve(store, s, provider_id, **kw):
    kw.setdefault("model", "")
    return grants.approve(store, user_id=s.user_id, app_id=s.app_id, provider_id=provider_id, scope="inference",
                          redirect_uri="http://127.0.0.1:9/cb", code_challenge=None, code_challenge_method=None, **kw)


def _grant(store, s):
    return grant_views.get_user_grant(store, s.user_id, s.grant_id)


# -- the rules ----------------------------------------------------------------------------------
def test_rules_of_fit():
    fits = grant_models.model_fits
    assert fits("openai", "gpt-4o-mini", [], "")  # '' follows the default
    assert fits("openai", "gpt-4o-mini", [], "gpt-4.1")  # never tested: a typed name is trusted
    assert not fits("openai", "gpt-4o-mini", [], "sandbox-echo-1")  # another kind's catalogue
    assert not fits("openai", "gpt-4o-mini", ["gpt-4o-mini", "gpt-4o"], "gpt-9")  # its test listed its models
    assert fits("openai-compatible", "llama", ["llama"], "my-finetune")  # custom endpoint: "other" allowed
    assert not fits("sandbox", "sandbox-echo-1", [], "gpt-4o")  # closed catalogue
    assert fits("sandbox", "sandbox-echo-1", [], "sandbox-echo-1")


def test_a_pick_left_over_from_another_connection_becomes_the_default():
    choose = grant_models.choose_model
    assert choose("openai", "Work", "gpt-4o-mini", ["gpt-4o"], picked="sandbox-echo-1",
                  changed_connection=True, previous_model="sandbox-echo-1") == ""
    assert choose("openai", "Work", "gpt-4o-mini", ["gpt-4o"], picked="gpt-4o", changed_connection=True) == "gpt-4o"
    with pytest.raises(ValidationError) as err:
        choose("openai", "Work", "gpt-4o-mini", ["gpt-4o"], picked="", other="sandbox-echo-1",
               changed_connection=False)
    assert "Work cannot serve the model 'sandbox-echo-1'" in err.value.message


# -- consent approval ---------------------------------------------------------------------------
def test_reconsent_with_another_connection_and_nothing_touched_uses_its_default(world):
    store, vault = world
    s = seed_grant(store, vault, kind="sandbox")  # the grant holds sandbox-echo-1
    assert _grant(store, s).model == "sandbox-echo-1"
    work = providers.add_connection(store, vault, s.user_id, kind="openai", name="Work", api_key="sk-test-123456789")
    _approve(store, s, work.id, model="sandbox-echo-1")  # the old page's value, untouched
    g = _grant(store, s)
    assert (g.provider_kind, g.model, g.chosen_model) == ("openai", "gpt-4o-mini", "")


def test_consent_refuses_a_typed_model_the_connection_cannot_serve(world):
    store, vault = world
    s = seed_grant(store, vault, kind="sandbox")
    with pytest.raises(ValidationError):
        _approve(store, s, s.provider_id, model="", model_other="gpt-4o")
    assert _grant(store, s).model == "sandbox-echo-1"


def test_consent_keeps_a_typed_model_on_a_custom_endpoint_and_an_embedding_model(world):
    store, vault = world
    s = seed_grant(store, vault, kind="sandbox")
    custom = providers.add_connection(store, vault, s.user_id, kind="openai-compatible", name="Lab",
                                      base_url="https://llm.example/v1", model="llama")
    _approve(store, s, custom.id, model="", model_other="my-finetune", embedding_model="bge-m3")
    g = _grant(store, s)
    assert (g.model, g.embedding_model) == ("my-finetune", "bge-m3")


# -- the Connected apps switch --------------------------------------------------------------------
def test_switching_connection_resets_a_foreign_model_and_embedding_model(world):
    store, vault = world
    s = seed_grant(store, vault, kind="sandbox")
    grants.update_grant_choice(store, s.user_id, s.grant_id, provider_id=s.provider_id, model="sandbox-echo-1",
                               embedding_model="sandbox-embed-1")
    mistral = providers.add_connection(store, vault, s.user_id, kind="mistral", name="M", api_key="sk-test-123456789")
    g = grants.update_grant_choice(store, s.user_id, s.grant_id, provider_id=mistral.id, model="sandbox-echo-1",
                                   embedding_model="sandbox-embed-1")
    assert (g.model, g.chosen_model, g.embedding_model) == ("mistral-small-latest", "", "mistral-embed")


def test_switching_keeps_a_model_the_new_connection_listed(world):
    store, vault = world
    s = seed_grant(store, vault, kind="sandbox")
    work = providers.add_connection(store, vault, s.user_id, kind="openai", name="Work", api_key="sk-test-123456789")
    providers.record_test(store, work.id, True, ["gpt-4o-mini", "gpt-4o"])
    g = grants.update_grant_choice(store, s.user_id, s.grant_id, provider_id=work.id, model="gpt-4o")
    assert g.model == "gpt-4o"


# -- connection edits, tests and deletes -----------------------------------------------------------
def test_a_connection_test_that_no_longer_lists_the_model_resets_the_grant(world):
    store, vault = world
    s = seed_grant(store, vault, kind="openai", api_key="sk-test-123456789", base_url="https://api.example/v1")
    grants.update_grant_choice(store, s.user_id, s.grant_id, provider_id=s.provider_id, model="gpt-4.1")
    assert _grant(store, s).model == "gpt-4.1"
    providers.record_test(store, s.provider_id, True, ["gpt-4o-mini", "gpt-4o"])
    assert _grant(store, s).chosen_model == ""


def test_editing_a_connection_reconciles_its_grants(world):
    store, vault = world
    s = seed_grant(store, vault, kind="openai", api_key="sk-test-123456789")
    providers.record_test(store, s.provider_id, True, ["gpt-4o-mini", "gpt-4o", "gpt-4.1"])
    grants.update_grant_choice(store, s.user_id, s.grant_id, provider_id=s.provider_id, model="gpt-4.1")
    with store.write():  # a grant left inconsistent by an older infer0
        Grant.update(embedding_model="sandbox-embed-1").where(Grant.id == s.grant_id).execute()
    providers.update_connection(store, vault, s.user_id, s.provider_id, name="Work", base_url="", model="gpt-4o")
    g = _grant(store, s)
    assert (g.model, g.embedding_model) == ("gpt-4.1", "text-embedding-3-small")


def test_deleting_a_connection_hands_its_grants_to_the_first_fallback_without_its_model(world):
    store, vault = world
    s = seed_grant(store, vault, kind="sandbox")
    work = providers.add_connection(store, vault, s.user_id, kind="openai", name="Work", api_key="sk-test-123456789")
    with store.write():
        GrantFallback.create(grant=s.grant_id, provider=work.id, position=0)
    providers.delete_connection(store, s.user_id, s.provider_id)
    g = _grant(store, s)
    assert (g.provider_id, g.model) == (work.id, "gpt-4o-mini")
    assert GrantFallback.select().count() == 0  # promoted, not listed twice
    providers.delete_connection(store, s.user_id, work.id)
    g = _grant(store, s)
    assert g.provider_id is None and g.chosen_model == ""
