"""CRM REST endpoints: reads come from selectors (so visibility is the selectors'),
writes go input serializer → service → output serializer."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from contactcenter.permissions import is_supervisor
from crm import selectors, services
from crm.api import filtersets, serializers
from crm.choices import SenderKind
from crm.models import Conversation, TimelineEvent


def _valid(serializer_class, request: Request, *, partial: bool = False) -> dict:
    serializer = serializer_class(data=request.data, partial=partial, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ReadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """List and detail over a selector's queryset; subclasses add writes as explicit methods."""

    def _out(self, instance, *, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(instance).data, status=status_code)


class AccountViewSet(ReadViewSet):
    """Organisations in the customer directory."""

    serializer_class = serializers.AccountSerializer
    filterset_class = filtersets.AccountFilterSet
    search_fields = ["name", "domain"]
    ordering_fields = ["name", "tier", "created_at", "updated_at"]
    ordering = ["name"]

    def get_queryset(self):
        return selectors.accounts_visible_to(self.request.user)

    @extend_schema(request=serializers.AccountInputSerializer, responses={201: serializers.AccountSerializer})
    def create(self, request):
        data = _valid(serializers.AccountInputSerializer, request)
        account = services.account_create(actor=request.user, **data)
        return self._out(account, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.AccountInputSerializer, responses=serializers.AccountSerializer)
    def partial_update(self, request, pk=None):
        account = self.get_object()
        data = _valid(serializers.AccountInputSerializer, request, partial=True)
        return self._out(services.account_update(account=account, actor=request.user, **data))


class ContactViewSet(ReadViewSet):
    """Customers, with the channel identities that resolve to them."""

    serializer_class = serializers.ContactSerializer
    filterset_class = filtersets.ContactFilterSet
    search_fields = ["first_name", "last_name", "email", "phone", "identities__address"]
    ordering_fields = ["last_name", "first_name", "created_at", "updated_at"]
    ordering = ["last_name", "first_name", "id"]

    def get_queryset(self):
        return selectors.contacts_visible_to(self.request.user).prefetch_related("identities")

    @extend_schema(request=serializers.ContactInputSerializer, responses={201: serializers.ContactSerializer})
    def create(self, request):
        data = _valid(serializers.ContactInputSerializer, request)
        contact = services.contact_create(actor=request.user, **data)
        return self._out(self.get_queryset().get(pk=contact.pk), status_code=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.ContactInputSerializer, responses=serializers.ContactSerializer)
    def partial_update(self, request, pk=None):
        contact = self.get_object()
        data = _valid(serializers.ContactInputSerializer, request, partial=True)
        services.contact_update(contact=contact, actor=request.user, **data)
        return self._out(self.get_queryset().get(pk=contact.pk))

    @extend_schema(
        request=serializers.ContactIdentityInputSerializer,
        responses={201: serializers.ContactIdentitySerializer},
        summary="Add a channel identity to the contact",
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def identities(self, request, pk=None):
        contact = self.get_object()
        data = _valid(serializers.ContactIdentityInputSerializer, request)
        # A savepoint, so losing a race on the unique (kind, address) leaves the
        # request's connection usable for the 409 answer.
        with transaction.atomic():
            identity = services.contact_identity_add(
                contact=contact, channel_kind=data["kind"], address=data["address"]
            )
        return Response(serializers.ContactIdentitySerializer(identity).data, status=status.HTTP_201_CREATED)


class ContactTimelineViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The customer 360 timeline: everything that happened with one contact, newest first."""

    serializer_class = serializers.TimelineEventSerializer
    filterset_class = filtersets.TimelineEventFilterSet
    search_fields = ["summary"]
    ordering_fields = ["occurred_at"]
    ordering = ["-occurred_at", "-id"]
    queryset = TimelineEvent.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TimelineEvent.objects.none()
        contact = selectors.contacts_visible_to(self.request.user).filter(pk=self.kwargs["contact_pk"]).first()
        if contact is None:
            raise Http404
        return TimelineEvent.objects.filter(contact=contact).select_related("actor")


class CaseViewSet(ReadViewSet):
    """Customer issues tracked to resolution. Agents see the cases they own or work on."""

    serializer_class = serializers.CaseSerializer
    filterset_class = filtersets.CaseFilterSet
    search_fields = ["number", "subject", "contact__first_name", "contact__last_name", "contact__email"]
    ordering_fields = ["created_at", "updated_at", "priority", "severity", "resolve_by", "number"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return selectors.cases_visible_to(self.request.user)

    @extend_schema(request=serializers.CaseCreateSerializer, responses={201: serializers.CaseSerializer})
    def create(self, request):
        data = _valid(serializers.CaseCreateSerializer, request)
        data.setdefault("owner", request.user)
        case = services.case_create(actor=request.user, **data)
        return self._out(case, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.CaseUpdateSerializer, responses=serializers.CaseSerializer)
    def partial_update(self, request, pk=None):
        case = self.get_object()
        data = _valid(serializers.CaseUpdateSerializer, request, partial=True)
        services.case_update(case=case, actor=request.user, **data)
        return self._out(self.get_queryset().get(pk=case.pk))

    @extend_schema(request=serializers.CaseResolveSerializer, responses=serializers.CaseSerializer)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def resolve(self, request, pk=None):
        case = self.get_object()
        data = _valid(serializers.CaseResolveSerializer, request)
        services.case_resolve(case=case, actor=request.user, resolution=data["resolution"])
        return self._out(self.get_queryset().get(pk=case.pk))


class ConversationViewSet(ReadViewSet):
    """Threads with customers. Agents see the conversations assigned to them; supervisors all."""

    serializer_class = serializers.ConversationSerializer
    filterset_class = filtersets.ConversationFilterSet
    search_fields = ["subject", "contact__first_name", "contact__last_name", "contact__email", "contact__phone"]
    ordering_fields = ["created_at", "last_message_at", "closed_at", "status"]
    ordering = ["-last_message_at", "-id"]

    def get_queryset(self):
        return selectors.conversations_visible_to(self.request.user)

    @extend_schema(request=serializers.ConversationCloseSerializer, responses=serializers.ConversationSerializer)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def close(self, request, pk=None):
        conversation = self.get_object()
        data = _valid(serializers.ConversationCloseSerializer, request)
        services.conversation_close(conversation=conversation, actor=request.user, reason=data["reason"])
        return self._out(self.get_queryset().get(pk=conversation.pk))


    @extend_schema(
        request=serializers.CaseFromConversationSerializer,
        responses={201: serializers.CaseSerializer},
        summary="Open a case from the conversation, owned by the caller",
    )
    @action(detail=True, methods=["post"], url_path="case", filter_backends=[], pagination_class=None)
    def open_case(self, request, pk=None):
        conversation = self.get_object()
        data = _valid(serializers.CaseFromConversationSerializer, request)
        case = services.case_open_from_conversation(conversation=conversation, actor=request.user, **data)
        return Response(
            serializers.CaseSerializer(selectors.cases_visible_to(request.user).get(pk=case.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class ConversationMessageViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Messages of one conversation, oldest first; POST sends a reply (or an internal note)."""

    serializer_class = serializers.MessageSerializer
    filterset_class = filtersets.MessageFilterSet
    search_fields = ["body"]
    ordering_fields = ["id", "created_at"]
    ordering = ["id"]

    def _conversation(self) -> Conversation:
        conversation = selectors.conversation_get(
            user=self.request.user, conversation_id=self.kwargs["conversation_pk"]
        )
        if conversation is None:
            raise Http404
        return conversation

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return selectors.messages_visible_to(self.request.user).none()
        return selectors.messages_visible_to(self.request.user).filter(conversation=self._conversation())

    @extend_schema(request=serializers.MessageSendSerializer, responses={201: serializers.MessageSerializer})
    def create(self, request, conversation_pk=None):
        conversation = self._conversation()
        data = _valid(serializers.MessageSendSerializer, request)
        sender_kind = (
            SenderKind.SUPERVISOR
            if is_supervisor(request.user) and conversation.assigned_agent_id != request.user.pk
            else SenderKind.AGENT
        )
        if data["internal"]:
            message = services.note_add(
                conversation=conversation, author=request.user, body=data["body"], sender_kind=sender_kind
            )
        else:
            message = services.message_send(
                conversation=conversation, sender=request.user, body=data["body"], sender_kind=sender_kind
            )
        return Response(self.get_serializer(message).data, status=status.HTTP_201_CREATED)


class ActivityViewSet(ReadViewSet):
    """Tasks, calls, emails and appointments regarding cases or contacts."""

    serializer_class = serializers.ActivitySerializer
    filterset_class = filtersets.ActivityFilterSet
    search_fields = ["subject", "description"]
    ordering_fields = ["due_at", "created_at", "completed_at"]
    ordering = ["due_at", "id"]

    def get_queryset(self):
        return selectors.activities_visible_to(self.request.user)

    @extend_schema(request=serializers.ActivityCreateSerializer, responses={201: serializers.ActivitySerializer})
    def create(self, request):
        data = _valid(serializers.ActivityCreateSerializer, request)
        activity = services.activity_create(actor=request.user, **data)
        return self._out(activity, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.ActivityUpdateSerializer, responses=serializers.ActivitySerializer)
    def partial_update(self, request, pk=None):
        activity = self.get_object()
        data = _valid(serializers.ActivityUpdateSerializer, request, partial=True)
        return self._out(services.activity_update(activity=activity, actor=request.user, **data))
