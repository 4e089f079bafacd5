from django.contrib import admin
from django.db import models
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from channels_ingress.models import (
    ChatFeedback,
    CustomChannel,
    EmailChannel,
    IvrMenu,
    IvrOption,
    OperatingHours,
    OutboundDelivery,
    SmsChannel,
    VoiceChannel,
    WebChatChannel,
)


class ChannelAdmin(admin.ModelAdmin):
    # Webhook and provider URLs are https unless written otherwise.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(WebChatChannel)
class WebChatChannelAdmin(ChannelAdmin):
    list_display = ["name", "public_key", "is_active", "attachments_enabled", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "public_key"]
    readonly_fields = ["embed_snippet"]
    fieldsets = [
        (None, {"fields": ["name", "public_key", "is_active", "embed_snippet"]}),
        (_("Look"), {"fields": [
            "title", "subtitle", "greeting", "logo_url", "primary_colour", "text_colour", "position",
            "agent_name_mode",
        ]}),
        (_("Pre-chat survey"), {"fields": ["prechat_questions"]}),
        (_("Security and limits"), {"fields": [
            "allowed_origins", "attachments_enabled", "max_attachment_bytes", "blocked_extensions",
            "max_message_chars", "visitor_messages_per_minute", "ip_messages_per_minute",
        ]}),
        (_("Authenticated chat"), {"fields": ["auth_public_key", "auth_issuer", "auth_key_id"]}),
    ]

    @admin.display(description=_("embed snippet"))
    def embed_snippet(self, obj: WebChatChannel) -> str:
        if not obj.pk:
            return "-"
        return format_html(
            "<code>&lt;script src=\"{}\" data-channel=\"{}\" async&gt;&lt;/script&gt;</code>",
            "https://<this server>/static/channels_ingress/widget.js", obj.public_key,
        )


@admin.register(SmsChannel)
class SmsChannelAdmin(ChannelAdmin):
    list_display = ["name", "phone_number", "is_active", "api_base_url"]
    search_fields = ["name", "phone_number"]


class IvrOptionInline(admin.TabularInline):
    model = IvrOption
    fk_name = "menu"
    extra = 1
    fields = [
        "position", "dtmf", "speech_keywords", "label", "action", "queue", "skills", "priority", "answer_text",
        "submenu",
    ]


@admin.register(IvrMenu)
class IvrMenuAdmin(admin.ModelAdmin):
    list_display = ["name", "channel"]
    list_filter = ["channel"]
    inlines = [IvrOptionInline]


@admin.register(VoiceChannel)
class VoiceChannelAdmin(ChannelAdmin):
    list_display = ["name", "phone_number", "root_menu", "operating_hours", "is_active"]
    search_fields = ["name", "phone_number"]


@admin.register(OperatingHours)
class OperatingHoursAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "opens_at", "closes_at"]


@admin.register(EmailChannel)
class EmailChannelAdmin(ChannelAdmin):
    list_display = ["name", "address", "case_creation", "auto_acknowledge", "is_active"]
    search_fields = ["name", "address"]


@admin.register(CustomChannel)
class CustomChannelAdmin(ChannelAdmin):
    list_display = ["name", "key", "webhook_url", "is_active"]
    search_fields = ["name", "key"]


@admin.register(OutboundDelivery)
class OutboundDeliveryAdmin(admin.ModelAdmin):
    list_display = ["message", "channel_kind", "state", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["state", "channel_kind"]
    list_select_related = ["message"]
    readonly_fields = [f.name for f in OutboundDelivery._meta.fields]


@admin.register(ChatFeedback)
class ChatFeedbackAdmin(admin.ModelAdmin):
    list_display = ["conversation", "rating", "created_at"]
    list_filter = ["rating"]
    readonly_fields = ["conversation", "rating", "comment", "created_at"]
