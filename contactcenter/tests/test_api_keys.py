"""API keys: issuing, authenticating, scopes, revocation and expiry.

Through the service, the management command, the admin and HTTP.
"""

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from contactcenter.api.throttling import FailedAuthenticationThrottle
from contactcenter.choices import Role
from contactcenter.models import ApiKey, User
from contactcenter.services import api_key_create, api_key_revoke
from crm.choices import ConversationStatus
from crm.tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db

CONVERSATIONS = "/api/v1/conversations/"


@pytest.fixture(autouse=True)
def _fresh_failure_budget():
    key = FailedAuthenticationThrottle.cache_format % {"scope": "auth_failure", "ident": "127.0.0.1"}
    cache.delete(key)
    yield
    cache.delete(key)


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def error_of(response) -> dict:
    assert response["Content-Type"] == "application/json", response.content
    return response.json()["error"]


class TestApiKeyCreate:
    def test_returns_the_key_once_and_stores_only_a_digest(self, agent):
        api_key, plaintext = api_key_create(name="billing sync", owner=agent, scopes=["read", "write"])

        prefix, key_id, secret = plaintext.split("_", 2)
        assert (prefix, key_id) == ("cck", api_key.key_id)
        assert api_key.secret_hash == ApiKey.hash_secret(secret)
        stored = ApiKey.objects.get()
        assert secret not in {stored.secret_hash, stored.key_id, stored.name}
        assert stored.scopes == ["read", "write"] and stored.is_active

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"scopes": ["admin"]}, "scopes"),
            ({"scopes": []}, "scopes"),
            ({"name": "  "}, "name"),
            ({"expires_at": timezone.now() - timedelta(minutes=1)}, "expires_at"),
        ],
    )
    def test_refuses_bad_input(self, agent, fields, field):
        with pytest.raises(ValidationError) as raised:
            api_key_create(**{"name": "sync", "owner": agent, "scopes": ["read"], **fields})

        assert field in raised.value.message_dict
        assert not ApiKey.objects.exists()

    def test_revoke_is_idempotent(self, agent):
        api_key, _plaintext = api_key_create(name="sync", owner=agent, scopes=["read"])

        first = api_key_revoke(api_key=api_key).revoked_at
        second = api_key_revoke(api_key=api_key).revoked_at

        assert first is not None and first == second
        assert not ApiKey.objects.active().exists()


class TestAuthentication:
    @pytest.fixture
    def conversation(self, agent):
        return ConversationFactory(assigned_agent=agent, status=ConversationStatus.ACTIVE)

    def test_valid_key_acts_as_its_owner_and_is_stamped_used(self, agent, conversation, other_agent):
        hidden = ConversationFactory(assigned_agent=other_agent)
        api_key, plaintext = api_key_create(name="crm sync", owner=agent, scopes=["read"])
        client = bearer(plaintext)

        listed = client.get(CONVERSATIONS)
        other = client.get(f"{CONVERSATIONS}{hidden.pk}/")

        assert listed.status_code == 200
        assert [row["id"] for row in listed.json()["results"]] == [conversation.pk]
        assert other.status_code == 404
        api_key.refresh_from_db()
        assert api_key.last_used_at is not None

    def test_last_used_is_written_at_most_once_a_minute(self, agent):
        _api_key, plaintext = api_key_create(name="sync", owner=agent, scopes=["read"])
        client = bearer(plaintext)

        with CaptureQueriesContext(connection) as first:
            client.get(CONVERSATIONS)
        with CaptureQueriesContext(connection) as second:
            client.get(CONVERSATIONS)

        def updates(queries):
            return [query["sql"] for query in queries if query["sql"].startswith("UPDATE")]

        assert len(updates(first)) == 1 and updates(second) == []

    @pytest.mark.parametrize(
        "token",
        ["cck_nosuchkey_secret", "garbage", "cck__", ""],
    )
    def test_unknown_or_malformed_key_is_401(self, token):
        response = bearer(token).get(CONVERSATIONS)

        assert response.status_code == 401
        assert error_of(response)["code"] == "authentication_failed"
        assert response["WWW-Authenticate"] == "Bearer"

    def test_wrong_secret_is_401(self, agent):
        api_key, _plaintext = api_key_create(name="sync", owner=agent, scopes=["read"])

        response = bearer(ApiKey.format_key(api_key.key_id, "not-the-secret")).get(CONVERSATIONS)

        assert response.status_code == 401
        assert error_of(response)["code"] == "authentication_failed"

    def test_revoked_key_is_401(self, agent):
        api_key, plaintext = api_key_create(name="sync", owner=agent, scopes=["read"])
        client = bearer(plaintext)
        assert client.get(CONVERSATIONS).status_code == 200

        api_key_revoke(api_key=api_key)

        response = client.get(CONVERSATIONS)
        assert response.status_code == 401
        assert "revoked" in error_of(response)["message"]

    def test_expired_key_is_401(self, agent):
        api_key, plaintext = api_key_create(
            name="sync", owner=agent, scopes=["read"], expires_at=timezone.now() + timedelta(hours=1)
        )
        ApiKey.objects.filter(pk=api_key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

        assert bearer(plaintext).get(CONVERSATIONS).status_code == 401

    def test_inactive_owner_is_401(self, agent):
        _api_key, plaintext = api_key_create(name="sync", owner=agent, scopes=["read"])
        User.objects.filter(pk=agent.pk).update(is_active=False)

        assert bearer(plaintext).get(CONVERSATIONS).status_code == 401

    def test_read_scope_cannot_write(self, agent, conversation):
        _api_key, plaintext = api_key_create(name="reader", owner=agent, scopes=["read"])

        response = bearer(plaintext).post(
            f"{CONVERSATIONS}{conversation.pk}/messages/", {"body": "hi"}, format="json"
        )

        assert response.status_code == 403
        assert error_of(response)["code"] == "permission_denied"
        assert not conversation.messages.exists()

    def test_write_scope_cannot_read(self, agent):
        _api_key, plaintext = api_key_create(name="writer", owner=agent, scopes=["write"])

        assert bearer(plaintext).get(CONVERSATIONS).status_code == 403

    def test_read_write_key_sends_a_message_without_csrf(self, agent, conversation):
        _api_key, plaintext = api_key_create(name="bot", owner=agent, scopes=["read", "write"])

        response = bearer(plaintext).post(
            f"{CONVERSATIONS}{conversation.pk}/messages/", {"body": "Your parcel is on its way."}, format="json"
        )

        assert response.status_code == 201
        assert response.json()["sender_name"] == "Alice Agent"

    def test_key_of_a_user_without_a_role_is_403(self, outsider):
        _api_key, plaintext = api_key_create(name="sync", owner=outsider, scopes=["read"])

        assert bearer(plaintext).get(CONVERSATIONS).status_code == 403

    def test_repeated_failures_from_one_address_are_429(self, monkeypatch):
        monkeypatch.setattr(FailedAuthenticationThrottle, "rate", "3/min", raising=False)
        client = bearer("cck_guess_guess")

        statuses = [client.get(CONVERSATIONS).status_code for _ in range(5)]

        assert statuses == [401, 401, 401, 429, 429]
        response = client.get(CONVERSATIONS)
        assert error_of(response)["code"] == "throttled"
        assert int(response["Retry-After"]) > 0


class TestCreateApiKeyCommand:
    def run(self, *args) -> tuple[str, str]:
        out, err = io.StringIO(), io.StringIO()
        call_command("create_api_key", *args, stdout=out, stderr=err)
        return out.getvalue().strip(), err.getvalue()

    def test_prints_a_working_key_for_an_integration_user(self):
        key, message = self.run("--name", "Billing Sync", "--scopes", "read,write")

        api_key = ApiKey.objects.get()
        assert key.startswith(f"cck_{api_key.key_id}_") and "\n" not in key
        assert "shown only once" in message
        assert api_key.owner.username == "api-billing-sync"
        assert api_key.owner.groups.filter(name=Role.SUPERVISOR).exists()
        assert not api_key.owner.has_usable_password()
        assert sorted(api_key.scopes) == ["read", "write"]
        assert bearer(key).get(CONVERSATIONS).status_code == 200

    def test_owner_option_and_expiry(self, agent):
        self.run("--name", "ops", "--owner", agent.username, "--expires", "2999-01-01T00:00")

        api_key = ApiKey.objects.get()
        assert api_key.owner == agent and api_key.scopes == ["read"]
        assert api_key.expires_at.year == 2999

    @pytest.mark.parametrize(
        "args",
        [
            ("--name", "x", "--owner", "nobody"),
            ("--name", "x", "--scopes", "read,root"),
            ("--name", "x", "--expires", "tomorrow"),
        ],
    )
    def test_refuses_bad_arguments(self, args, agent):
        with pytest.raises(CommandError):
            self.run(*args)

        assert not ApiKey.objects.exists()


class TestAdmin:
    def test_add_shows_the_key_once(self, admin_client, agent):
        response = admin_client.post(
            "/admin/contactcenter/apikey/add/",
            {"name": "warehouse", "owner": agent.pk, "scopes": ["read"], "expires_at_0": "", "expires_at_1": ""},
            follow=True,
        )

        api_key = ApiKey.objects.get()
        shown = [str(message) for message in response.context["messages"]]
        assert any(f"cck_{api_key.key_id}_" in text for text in shown)
        plaintext = next(text for text in shown if "cck_" in text).rsplit(" ", 1)[-1]
        assert bearer(plaintext).get(CONVERSATIONS).status_code == 200

    def test_revoke_action(self, admin_client, agent):
        keep, _ = api_key_create(name="keep", owner=agent, scopes=["read"])
        drop, plaintext = api_key_create(name="drop", owner=agent, scopes=["read"])

        response = admin_client.post(
            "/admin/contactcenter/apikey/", {"action": "revoke", "_selected_action": [drop.pk]}, follow=True
        )

        assert response.status_code == 200
        drop.refresh_from_db()
        keep.refresh_from_db()
        assert drop.revoked_at is not None and keep.revoked_at is None
        assert bearer(plaintext).get(CONVERSATIONS).status_code == 401

    def test_list_and_change_pages_render(self, admin_client, agent):
        api_key, _ = api_key_create(name="sync", owner=agent, scopes=["read"])

        assert admin_client.get("/admin/contactcenter/apikey/").status_code == 200
        page = admin_client.get(f"/admin/contactcenter/apikey/{api_key.pk}/change/")
        assert page.status_code == 200
        assert api_key.key_id in page.content.decode()

    def test_user_admin_shows_contact_center_fields(self, admin_client, agent):
        page = admin_client.get(f"/admin/contactcenter/user/{agent.pk}/change/")

        assert page.status_code == 200
        assert "time_zone" in page.content.decode()
        assert Group.objects.filter(name=Role.AGENT).exists()
