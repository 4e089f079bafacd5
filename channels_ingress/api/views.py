"""The custom channel API (thin): signature check → input serializer → service → output serializer."""

from __future__ import annotations

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_ingress import selectors
from channels_ingress.api.serializers import ChannelMessageInSerializer, ChannelMessageOutSerializer
from channels_ingress.services import custom
from contactcenter.api.errors import error_response

MAX_BODY_BYTES = 256 * 1024
IDEMPOTENCY_KEY_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")


class ChannelMessageCreate(APIView):
    """``POST /api/v1/channels/<key>/messages``: an external system relays a customer's message.

    Authenticated by the channel's signing secret, not a user: ``X-Timestamp``
    (Unix seconds) and ``X-Signature: sha256=HMAC-SHA256(secret, timestamp + "." + raw body)``.
    """

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []

    @extend_schema(
        request=ChannelMessageInSerializer,
        responses={201: ChannelMessageOutSerializer, 200: ChannelMessageOutSerializer},
        parameters=[
            OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True),
            OpenApiParameter("X-Timestamp", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True),
            OpenApiParameter("X-Signature", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True),
        ],
        auth=[],
        tags=["channels"],
    )
    def post(self, request, key: str):
        channel = selectors.custom_channel_get(key=key)
        if channel is None:
            return error_response(code="unknown_channel", message="No such channel.", status_code=404)
        if int(request.headers.get("Content-Length") or 0) > MAX_BODY_BYTES:
            return error_response(code="too_large", message="The request body is too large.", status_code=413)
        if request.content_type.split(";")[0].strip() != "application/json":
            return error_response(code="unsupported_media_type", message="Send application/json.", status_code=415)
        raw = request.body
        if not custom.custom_signature_valid(
            channel=channel, timestamp=request.headers.get("X-Timestamp", ""),
            signature=request.headers.get("X-Signature", ""), body=raw,
        ):
            return error_response(
                code="authentication_failed", status_code=401,
                message="X-Signature is missing or wrong, or X-Timestamp is not within 5 minutes.",
                headers={"WWW-Authenticate": 'Signature realm="channels"'},
            )
        idempotency_key = request.headers.get("Idempotency-Key", "")
        if not IDEMPOTENCY_KEY_RE.match(idempotency_key):
            return error_response(
                code="invalid", message="An Idempotency-Key header (1–200 characters) is required.",
                status_code=400, fields={"Idempotency-Key": ["This header is required."]},
            )
        serializer = ChannelMessageInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = custom.custom_message_receive(
            channel=channel, idempotency_key=idempotency_key, **serializer.validated_data
        )
        out = ChannelMessageOutSerializer(
            {"message_id": result.message.pk, "conversation_id": result.conversation.pk, "created": result.created}
        )
        return Response(out.data, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)
