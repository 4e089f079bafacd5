"""Every API failure answers ``{"error": {"code", "message", "fields"}}`` with the right status."""

import io

import pytest
from django.core.cache import cache
from django.db import IntegrityError
from django.test import override_settings
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from contactcenter.api.errors import exception_handler
from contactcenter.api.parsers import LimitedJSONParser, RequestTooLarge
from contactcenter.api.throttling import AnonymousRateThrottle, ApiKeyRateThrottle, SessionUserRateThrottle
from contactcenter.services import api_key_create
from crm.tests.factories import ContactFactory, ConversationFactory

pytestmark = pytest.mark.django_db

CONTACTS = "/api/v1/contacts/"


def error_of(response) -> dict:
    assert response["Content-Type"] == "application/json", response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


@pytest.fixture
def api(agent):
    client = APIClient()
    client.force_login(agent)
    return client


class TestNotFound:
    @pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/v2/contacts/", "/api/", "/api/v1/contacts/x/y/z"])
    def test_unknown_api_path_is_json_404_even_anonymous(self, path):
        response = APIClient().get(path)

        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"

    def test_unknown_object_is_json_404(self, api):
        response = api.get(f"{CONTACTS}999999/")

        assert response.status_code == 404
        assert error_of(response) == {"code": "not_found", "message": "Not found.", "fields": {}}

    def test_non_numeric_id_is_404(self, api):
        assert api.get(f"{CONTACTS}abc/").status_code == 404


class TestRequestShape:
    def test_method_not_allowed_is_405(self, api):
        response = api.delete(f"{CONTACTS}{ContactFactory().pk}/")

        assert response.status_code == 405
        assert error_of(response)["code"] == "method_not_allowed"

    def test_form_encoded_body_is_415(self, api):
        response = api.post(CONTACTS, {"first_name": "Ann"}, format="multipart")

        assert response.status_code == 415
        assert error_of(response)["code"] == "unsupported_media_type"

    def test_malformed_json_is_400(self, api):
        response = api.post(CONTACTS, b'{"first_name": ', content_type="application/json")

        assert response.status_code == 400
        assert error_of(response)["code"] == "parse_error"

    def test_validation_error_is_400_with_fields(self, api):
        response = api.post(CONTACTS, {"email": "not-an-email", "first_name": "x" * 101}, format="json")

        assert response.status_code == 400
        error = error_of(response)
        assert error["code"] == "invalid"
        assert error["fields"] == {
            "first_name": ["Ensure this field has no more than 100 characters."],
            "email": ["Enter a valid email address."],
        }

    @override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1_000)
    def test_body_over_the_limit_is_413(self, api):
        response = api.post(CONTACTS, {"first_name": "Ann", "attributes": {"note": "x" * 2_000}}, format="json")

        assert response.status_code == 413
        assert error_of(response)["code"] == "request_too_large"

    @override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1_000)
    def test_body_within_the_limit_is_parsed(self, api):
        response = api.post(CONTACTS, {"first_name": "Ann", "attributes": {"note": "x" * 500}}, format="json")

        assert response.status_code == 201

    @override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
    def test_parser_counts_bytes_when_content_length_lies(self):
        request = APIRequestFactory().post("/", b"", content_type="application/json")
        request.META["CONTENT_LENGTH"] = "10"
        stream = io.BytesIO(b'{"a": "' + b"x" * 200 + b'"}')

        with pytest.raises(RequestTooLarge):
            LimitedJSONParser().parse(stream, parser_context={"request": request})


class TestConflict:
    def test_domain_error_is_409_with_its_code(self, api, agent):
        conversation = ConversationFactory(assigned_agent=agent)
        api.post(f"/api/v1/conversations/{conversation.pk}/close/", {}, format="json")

        response = api.post(f"/api/v1/conversations/{conversation.pk}/close/", {}, format="json")

        assert response.status_code == 409
        assert error_of(response)["code"] == "conversation_closed"


def test_a_lost_constraint_race_is_409_not_500():
    response = exception_handler(IntegrityError("duplicate key value violates unique constraint"), {})

    assert response.status_code == 409
    assert response.data["error"]["code"] == "conflict"


class TestThrottling:
    def test_api_key_over_its_rate_is_429(self, agent, monkeypatch):
        monkeypatch.setattr(ApiKeyRateThrottle, "rate", "3/min", raising=False)
        _api_key, plaintext = api_key_create(name="chatty", owner=agent, scopes=["read"])
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
        other_key = api_key_create(name="quiet", owner=agent, scopes=["read"])[1]

        statuses = [client.get(CONTACTS).status_code for _ in range(4)]
        quiet = APIClient()
        quiet.credentials(HTTP_AUTHORIZATION=f"Bearer {other_key}")

        assert statuses == [200, 200, 200, 429]
        throttled = client.get(CONTACTS)
        assert error_of(throttled)["code"] == "throttled"
        assert int(throttled["Retry-After"]) > 0
        assert quiet.get(CONTACTS).status_code == 200  # the limit is per key

    def test_session_user_over_its_rate_is_429(self, api, agent, monkeypatch):
        monkeypatch.setattr(SessionUserRateThrottle, "rate", "2/min", raising=False)
        cache.delete(SessionUserRateThrottle.cache_format % {"scope": "user", "ident": agent.pk})

        statuses = [api.get(CONTACTS).status_code for _ in range(3)]

        cache.delete(SessionUserRateThrottle.cache_format % {"scope": "user", "ident": agent.pk})
        assert statuses == [200, 200, 429]

    def test_anonymous_over_its_rate_is_429_on_public_endpoints(self, monkeypatch):
        monkeypatch.setattr(AnonymousRateThrottle, "rate", "2/min", raising=False)

        class Public(APIView):
            permission_classes = [AllowAny]

            def get(self, request):
                return Response({"ok": True})

        view = Public.as_view()
        factory = APIRequestFactory()
        address = "203.0.113.7"
        cache.delete(AnonymousRateThrottle.cache_format % {"scope": "anon", "ident": address})

        statuses = [view(factory.get("/", REMOTE_ADDR=address)).status_code for _ in range(3)]

        cache.delete(AnonymousRateThrottle.cache_format % {"scope": "anon", "ident": address})
        assert statuses == [200, 200, 429]
