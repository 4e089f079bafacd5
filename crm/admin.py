from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from crm import services
from crm.exceptions import CaseClosed
from crm.models import (
    Account,
    Activity,
    CannedResponse,
    Case,
    CaseDiscussion,
    Contact,
    ContactIdentity,
    Conversation,
    DiscussionPost,
    DispositionCode,
    Message,
    Notification,
    SavedView,
    TimelineEvent,
    WrapUpPolicy,
)


class ContactInline(admin.TabularInline):
    model = Contact
    fields = ["first_name", "last_name", "email", "phone", "is_vip"]
    extra = 0
    show_change_link = True


class IdentityInline(admin.TabularInline):
    model = ContactIdentity
    fields = ["kind", "address", "created_at"]
    readonly_fields = ["created_at"]
    extra = 0


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["created_at", "direction", "sender_kind", "sender_user", "body", "delivery_status"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        # Messages are written by services (ordering lock, timeline, events), never by hand.
        return False


class ActivityInline(admin.TabularInline):
    model = Activity
    fields = ["kind", "subject", "status", "due_at", "owner"]
    extra = 0
    show_change_link = True


class DiscussionPostInline(admin.TabularInline):
    model = DiscussionPost
    fields = ["created_at", "author", "body"]
    readonly_fields = ["created_at"]
    extra = 0


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "tier", "owner", "created_at"]
    list_filter = ["tier"]
    search_fields = ["name", "domain"]
    readonly_fields = ["created_at", "updated_at"]
    raw_id_fields = ["owner"]
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["__str__", "email", "phone", "account", "is_vip", "language", "created_at"]
    list_filter = ["is_vip", "language", "account__tier"]
    search_fields = ["first_name", "last_name", "email", "phone", "identities__address"]
    readonly_fields = ["created_at", "updated_at"]
    list_select_related = ["account"]
    raw_id_fields = ["account"]
    inlines = [IdentityInline]


@admin.register(ContactIdentity)
class ContactIdentityAdmin(admin.ModelAdmin):
    list_display = ["address", "kind", "contact", "created_at"]
    list_filter = ["kind"]
    search_fields = ["address", "contact__first_name", "contact__last_name", "contact__email"]
    readonly_fields = ["created_at"]
    list_select_related = ["contact"]
    raw_id_fields = ["contact"]


@admin.action(description=_("Resolve selected cases (resolution: closed by administrator)"))
def resolve_cases(modeladmin, request, queryset):
    resolved = 0
    for case in queryset:
        try:
            services.case_resolve(case=case, actor=request.user, resolution=str(_("Closed by administrator")))
            resolved += 1
        except CaseClosed:
            continue
    modeladmin.message_user(request, _("%(count)d cases resolved.") % {"count": resolved}, messages.SUCCESS)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "subject",
        "status",
        "priority",
        "severity",
        "contact",
        "owner",
        "resolve_by",
        "created_at",
    ]
    list_filter = ["status", "priority", "severity", "queue"]
    search_fields = ["number", "subject", "contact__email", "contact__last_name", "account__name"]
    readonly_fields = ["number", "created_at", "updated_at", "first_responded_at", "resolved_at", "on_hold_since"]
    list_select_related = ["contact", "owner"]
    raw_id_fields = ["contact", "account", "owner", "merged_into"]
    date_hierarchy = "created_at"
    inlines = [ActivityInline]
    actions = [resolve_cases]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # New cases take their number from the database sequence in the service.
        created = services.case_create(
            contact=obj.contact,
            subject=obj.subject,
            actor=request.user,
            description=obj.description,
            priority=obj.priority,
            severity=obj.severity,
            owner=obj.owner,
            account=obj.account,
            first_response_by=obj.first_response_by,
            resolve_by=obj.resolve_by,
        )
        obj.pk = created.pk
        obj.number = created.number


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "channel_kind",
        "contact",
        "status",
        "assigned_agent",
        "queue",
        "case",
        "created_at",
        "closed_at",
    ]
    list_filter = ["status", "channel_kind", "queue", "disposition_codes"]
    search_fields = ["id", "subject", "contact__first_name", "contact__last_name", "contact__email", "case__number"]
    readonly_fields = [
        "created_at",
        "first_queued_at",
        "assigned_at",
        "first_agent_response_at",
        "last_customer_message_at",
        "last_message_at",
        "closed_at",
        "wrapped_up_at",
        "agent_read_up_to",
    ]
    list_select_related = ["contact", "assigned_agent", "queue", "case"]
    raw_id_fields = ["identity", "contact", "case", "assigned_agent"]
    filter_horizontal = ["disposition_codes"]
    date_hierarchy = "created_at"
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "conversation", "direction", "sender_kind", "sender_user", "delivery_status", "created_at"]
    list_filter = ["direction", "sender_kind", "channel_kind", "delivery_status"]
    search_fields = ["body", "provider_message_id"]
    readonly_fields = ["created_at"]
    list_select_related = ["sender_user", "conversation__contact"]
    raw_id_fields = ["conversation", "sender_user"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["subject", "kind", "status", "due_at", "owner", "case", "contact"]
    list_filter = ["kind", "status"]
    search_fields = ["subject", "case__number", "contact__last_name"]
    readonly_fields = ["created_at", "completed_at"]
    list_select_related = ["owner", "case", "contact"]
    raw_id_fields = ["owner", "case", "contact"]


@admin.register(TimelineEvent)
class TimelineEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "kind", "contact", "summary", "actor"]
    list_filter = ["kind"]
    search_fields = ["summary", "contact__last_name", "contact__email", "case__number"]
    readonly_fields = ["occurred_at"]
    list_select_related = ["contact", "actor"]
    raw_id_fields = ["contact", "actor", "conversation", "case", "message", "activity"]


@admin.register(DispositionCode)
class DispositionCodeAdmin(admin.ModelAdmin):
    list_display = ["label", "code", "category", "is_active", "is_system", "position"]
    list_filter = ["is_active", "is_system", "category"]
    search_fields = ["label", "code", "category"]
    list_editable = ["is_active", "position"]

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_system:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        # Bulk delete would bypass the per-object rule that protects system codes.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(WrapUpPolicy)
class WrapUpPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "disposition_required", "max_dispositions"]

    def has_add_permission(self, request):
        return not WrapUpPolicy.objects.exists() and super().has_add_permission(request)


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ["slug", "title", "owner", "language", "tags", "is_active", "updated_at"]
    list_filter = ["is_active", "language", ("owner", admin.EmptyFieldListFilter)]
    search_fields = ["slug", "title", "body", "tags"]
    readonly_fields = ["created_at", "updated_at"]
    raw_id_fields = ["owner"]


@admin.register(CaseDiscussion)
class CaseDiscussionAdmin(admin.ModelAdmin):
    list_display = ["case", "started_by", "created_at"]
    search_fields = ["case__number", "case__subject"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["case", "started_by"]
    filter_horizontal = ["participants"]
    inlines = [DiscussionPostInline]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "kind", "text", "read_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["text", "recipient__username"]
    readonly_fields = ["created_at", "read_at"]
    raw_id_fields = ["recipient", "actor", "case", "conversation"]


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "created_at"]
    search_fields = ["name", "owner__username"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["owner"]


@admin.register(DiscussionPost)
class DiscussionPostAdmin(admin.ModelAdmin):
    list_display = ["created_at", "discussion", "author", "body"]
    search_fields = ["body", "discussion__case__number"]
    readonly_fields = ["created_at"]
    list_select_related = ["discussion__case", "author"]
    raw_id_fields = ["discussion", "author"]
