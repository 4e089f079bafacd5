"""Demo data for Northwind Electronics support: users, customers, cases, conversations, quick replies.

``seed(stdout)`` is idempotent: users, accounts, contacts and reference data
are matched by natural keys, and each demo conversation is created once (it
carries its ``demo_key`` in its context).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from contactcenter.choices import Role
from crm import services
from crm.choices import AccountTier, CasePriority, CaseSeverity, ChannelKind, ConversationStatus, SenderKind
from crm.models import (
    Account,
    CannedResponse,
    Case,
    Contact,
    ContactIdentity,
    Conversation,
    DispositionCode,
    WrapUpPolicy,
)

#: Must match README's "Demo logins" table.
USERS = [
    ("admin", "admin-demo-pass", Role.ADMINISTRATOR, "Ada", "Admin", True),
    ("supervisor", "supervisor-demo-pass", Role.SUPERVISOR, "Sofia", "Reyes", False),
    ("agent1", "agent-demo-pass", Role.AGENT, "Liam", "Chen", False),
    ("agent2", "agent-demo-pass", Role.AGENT, "Priya", "Nair", False),
    ("agent3", "agent-demo-pass", Role.AGENT, "Marcus", "Olsen", False),
]

ACCOUNTS = [
    ("Contoso Hotels", "contosohotels.example", AccountTier.GOLD),
    ("Fabrikam Studios", "fabrikam.example", AccountTier.PLATINUM),
    ("Tailspin Schools", "tailspin.example", AccountTier.SILVER),
]

# email, first, last, phone, account domain or "", vip, extra identities
CONTACTS = [
    (
        "emma.wilson@example.com",
        "Emma",
        "Wilson",
        "+14155550101",
        "",
        False,
        [(ChannelKind.WEBCHAT, "demo-visitor-emma")],
    ),
    ("j.okafor@contosohotels.example", "James", "Okafor", "+14155550102", "contosohotels.example", True, []),
    ("mia.tanaka@example.com", "Mia", "Tanaka", "+14155550103", "", False, [(ChannelKind.WEBCHAT, "demo-visitor-mia")]),
    ("noah.garcia@fabrikam.example", "Noah", "Garcia", "+14155550104", "fabrikam.example", False, []),
    (
        "olivia.brown@example.com",
        "Olivia",
        "Brown",
        "+14155550105",
        "",
        False,
        [(ChannelKind.WEBCHAT, "demo-visitor-olivia")],
    ),
    (
        "r.kowalski@tailspin.example",
        "Robert",
        "Kowalski",
        "+14155550106",
        "tailspin.example",
        False,
        [(ChannelKind.WEBCHAT, "demo-visitor-robert")],
    ),
    (
        "sara.haddad@example.com",
        "Sara",
        "Haddad",
        "+14155550107",
        "",
        True,
        [(ChannelKind.WEBCHAT, "demo-visitor-sara")],
    ),
    ("leo.martin@example.com", "Leo", "Martin", "+14155550108", "", False, []),
]

DISPOSITIONS = [
    ("resolved-first-contact", "Resolved on first contact", "Outcome", 10),
    ("follow-up-needed", "Follow-up needed", "Outcome", 20),
    ("escalated", "Escalated to specialist", "Outcome", 30),
    ("order-status", "Order status", "Topic", 10),
    ("return-refund", "Return or refund", "Topic", 20),
    ("technical-support", "Technical support", "Topic", 30),
    ("warranty-claim", "Warranty claim", "Topic", 40),
]

CANNED = [
    (
        "greeting",
        "Greeting",
        "Hi {customerFirstName}, thanks for contacting Northwind Electronics! My name is {agentName}. How can I help you today?",
        "greeting",
    ),
    (
        "order-status",
        "Order status lookup",
        "Thanks {customerFirstName}. Could you share your order number (it starts with NW-)? I'll check where your package is right away.",
        "orders shipping",
    ),
    (
        "return-label",
        "Return label sent",
        "I've emailed a prepaid return label to {customerEmail}. Please pack the item with all accessories and drop it at any carrier location within 30 days.",
        "returns",
    ),
    (
        "warranty",
        "Warranty coverage",
        "Your product is covered by our 2-year Northwind warranty. I've opened case {caseNumber} so our repair team can arrange a replacement.",
        "warranty returns",
    ),
    (
        "reset-headphones",
        "Reset wireless headphones",
        "Please hold the power and volume-down buttons together for 10 seconds until the light flashes blue and red, then pair again from your phone's Bluetooth settings.",
        "technical audio",
    ),
    (
        "closing",
        "Closing",
        "Is there anything else I can help you with today, {customerFirstName}? Thanks for choosing Northwind Electronics!",
        "greeting",
    ),
]

# key, contact email, channel, agent username or None, status, subject, transcript [(sender, text)], case spec
CONVERSATIONS = [
    (
        "order-late",
        "emma.wilson@example.com",
        ChannelKind.WEBCHAT,
        "agent1",
        ConversationStatus.ACTIVE,
        "Where is my order?",
        [
            ("customer", "Hi, my order NW-48213 was supposed to arrive yesterday but tracking hasn't moved in 3 days."),
            ("agent", "Hi Emma, I'm sorry about the delay. Let me check NW-48213 with the carrier."),
            ("note", "Carrier portal shows the parcel held at the Oakland depot - address label damaged."),
            ("customer", "Thanks. I need the laptop for work on Monday, is there any way to speed it up?"),
        ],
        None,
    ),
    (
        "headphones",
        "mia.tanaka@example.com",
        ChannelKind.WEBCHAT,
        "agent1",
        ConversationStatus.ACTIVE,
        "Headphones not charging",
        [
            ("customer", "My NW Pulse headphones stopped charging"),
            ("bot", "I'll connect you with an agent who can help with that."),
            ("customer", "The LED doesn't turn on at all when I plug them in."),
        ],
        ("Pulse headphones do not charge", CasePriority.NORMAL, "in_progress"),
    ),
    (
        "tv-return",
        "olivia.brown@example.com",
        ChannelKind.WEBCHAT,
        "agent1",
        ConversationStatus.WAITING,
        "Return a TV",
        [
            ("customer", 'I want to return the 55" TV I bought last week, there are dead pixels in the corner.'),
            ("agent", "I'm sorry to hear that, Olivia. Could you send a photo of the screen?"),
            ("customer", "Sure, I'll take one tonight when it's dark."),
        ],
        None,
    ),
    (
        "hotel-bulk",
        "j.okafor@contosohotels.example",
        ChannelKind.EMAIL,
        "agent2",
        ConversationStatus.ACTIVE,
        "Bulk order of 40 smart TVs",
        [
            (
                "customer",
                'Hello,\n\nWe are refurbishing our downtown hotel and need 40 x 43" smart TVs with hospitality mode. Can you quote and confirm delivery by the 15th?\n\nJames Okafor, Contoso Hotels',
            )
        ],
        ("Quote: 40 hospitality TVs for Contoso Hotels", CasePriority.HIGH, "new"),
    ),
    (
        "router-sms",
        "leo.martin@example.com",
        ChannelKind.SMS,
        "agent2",
        ConversationStatus.ACTIVE,
        "",
        [
            ("customer", "Hi my NW mesh router keeps dropping wifi every evening"),
            ("agent", "Hi Leo, which firmware version does the Northwind app show for your router?"),
            ("customer", "It says 2.1.4"),
        ],
        None,
    ),
    (
        "studio-monitors",
        "noah.garcia@fabrikam.example",
        ChannelKind.EMAIL,
        "agent3",
        ConversationStatus.WRAP_UP,
        "Studio monitor buzzing",
        [
            ("customer", "Our pair of NW Reference 8 monitors has developed a buzz on the left channel."),
            (
                "agent",
                "Thanks Noah. That sounds like a faulty amplifier board; this is covered under warranty and I've arranged a swap.",
            ),
            ("customer", "Great, thank you for the quick help."),
        ],
        ("Reference 8 monitor buzzing (warranty)", CasePriority.NORMAL, "on_hold"),
    ),
    (
        "tablet-closed",
        "sara.haddad@example.com",
        ChannelKind.WEBCHAT,
        "agent1",
        ConversationStatus.CLOSED,
        "Tablet screen protector",
        [
            ("customer", "Which screen protector fits the NW Slate 11?"),
            ("agent", "The NW Clear Guard 11 fits perfectly, Sara. It's in stock online and in stores."),
            ("customer", "Perfect, ordered it. Thanks!"),
        ],
        ("Slate 11 accessory question", CasePriority.LOW, "resolved"),
    ),
    (
        "projector-open",
        "r.kowalski@tailspin.example",
        ChannelKind.WEBCHAT,
        None,
        ConversationStatus.OPEN,
        "Projector lamp",
        [("customer", "Hello, how do I order a replacement lamp for a classroom projector NW-P300?")],
        None,
    ),
]

EXTRA_CASES = [
    (
        "emma.wilson@example.com",
        "Refund for duplicate charge on NW-47002",
        CasePriority.HIGH,
        CaseSeverity.MAJOR,
        None,
        -2,
    ),
    (
        "noah.garcia@fabrikam.example",
        "Firmware update bricked audio interface",
        CasePriority.HIGH,
        CaseSeverity.CRITICAL,
        "agent3",
        6,
    ),
    (
        "r.kowalski@tailspin.example",
        "Classroom projectors: extended warranty",
        CasePriority.LOW,
        CaseSeverity.MINOR,
        None,
        72,
    ),
    (
        "mia.tanaka@example.com",
        "Pulse headphones do not charge (duplicate)",
        CasePriority.NORMAL,
        CaseSeverity.MINOR,
        "agent1",
        30,
    ),
]


def _users(stdout) -> dict[str, object]:
    User = get_user_model()
    users = {}
    for username, password, role, first, last, superuser in USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@northwind.example",
                "is_staff": superuser or role == Role.SUPERVISOR,
                "is_superuser": superuser,
            },
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        users[username] = user
    stdout.write("Demo logins (local demo only):")
    for username, password, role, *_rest in USERS:
        stdout.write(f"  {username:<11} {password:<21} {role}")
    return users


def _customers(users) -> dict[str, Contact]:
    accounts = {}
    for name, domain, tier in ACCOUNTS:
        accounts[domain] = Account.objects.get_or_create(
            domain=domain, defaults={"name": name, "tier": tier, "owner": users["supervisor"]}
        )[0]
    contacts = {}
    for email, first, last, phone, domain, vip, identities in CONTACTS:
        contact, _created = Contact.objects.get_or_create(
            email=email,
            defaults={
                "first_name": first,
                "last_name": last,
                "phone": phone,
                "is_vip": vip,
                "account": accounts.get(domain),
            },
        )
        for kind, address in [(ChannelKind.EMAIL, email), (ChannelKind.SMS, phone), *identities]:
            if not ContactIdentity.objects.filter(kind=kind, address=address).exists():
                services.contact_identity_add(contact=contact, channel_kind=kind, address=address)
        contacts[email] = contact
    return contacts


def _reference_data(users) -> None:
    for code, label, category, position in DISPOSITIONS:
        DispositionCode.objects.get_or_create(
            code=code, defaults={"label": label, "category": category, "position": position}
        )
    if not WrapUpPolicy.objects.exists():
        WrapUpPolicy.objects.create(disposition_required=True, max_dispositions=2)
    for slug, title, body, tags in CANNED:
        CannedResponse.objects.get_or_create(
            owner=None, slug=slug, defaults={"title": title, "body": body, "tags": tags}
        )
    CannedResponse.objects.get_or_create(
        owner=users["agent1"],
        slug="my-signoff",
        defaults={
            "title": "My sign-off",
            "body": "Have a great day, {customerFirstName}! - Liam at Northwind",
            "tags": "greeting",
        },
    )


def _conversation(spec, users, contacts) -> None:
    key, email, channel, agent_name, status, subject, transcript, case_spec = spec
    if Conversation.objects.filter(context__demo_key=key).exists():
        return
    contact = contacts[email]
    identity = ContactIdentity.objects.filter(contact=contact, kind=channel).order_by("id").first()
    agent = users.get(agent_name) if agent_name else None
    conversation = None
    context = {"demo_key": key, "pre_chat": {"Name": contact.display_name, "Email": contact.email}}
    if any(sender == "bot" for sender, _text in transcript):
        context["escalation"] = {"last topic": "Charging problem", "reason": "Asked for an agent", "language": "en"}
    if channel == ChannelKind.WEBCHAT:
        context["visitor"] = {"browser": "Chrome 131", "os": "Windows 11", "language": "en-US", "authenticated": False}
    assigned = False

    def assign():
        nonlocal assigned
        if agent is not None and not assigned:
            Conversation.objects.filter(pk=conversation.pk).update(
                assigned_agent=agent,
                status=ConversationStatus.ACTIVE,
                assigned_at=timezone.now(),
                first_queued_at=timezone.now(),
            )
            conversation.refresh_from_db()
            assigned = True

    for n, (sender, text) in enumerate(transcript):
        if sender == "customer":
            result = services.message_ingest(
                channel_kind=channel,
                address=identity.address,
                body=text,
                subject=subject,
                provider_message_id=f"demo-{key}-{n}",
                context=context if conversation is None else None,
            )
            conversation = result.conversation
        elif sender == "bot":
            services.message_send(conversation=conversation, sender=None, body=text, sender_kind=SenderKind.BOT)
        elif sender == "agent":
            assign()
            services.message_send(conversation=conversation, sender=agent, body=text)
        elif sender == "note":
            assign()
            services.note_add(conversation=conversation, author=agent, body=text)
    assign()
    if case_spec:
        case_subject, priority, case_status = case_spec
        case = services.case_open_from_conversation(
            conversation=conversation, actor=agent or users["supervisor"], subject=case_subject, priority=priority
        )
        now = timezone.now()
        Case.objects.filter(pk=case.pk).update(
            first_response_by=case.created_at + timedelta(hours=2),
            resolve_by=now + timedelta(days=2),
            queue=None,
        )
        case.refresh_from_db()
        if case_status == "in_progress":
            services.case_update(case=case, actor=agent, status="in_progress")
        elif case_status == "on_hold":
            services.case_hold(case=case, actor=agent, reason="Waiting for the replacement to ship")
        elif case_status == "resolved":
            services.case_resolve(
                case=case, actor=agent, resolution="Recommended the NW Clear Guard 11; customer ordered it."
            )
    if status == ConversationStatus.WAITING:
        Conversation.objects.filter(pk=conversation.pk).update(status=ConversationStatus.WAITING)
    elif status == ConversationStatus.WRAP_UP:
        services.conversation_end(conversation=conversation, actor=agent)
    elif status == ConversationStatus.CLOSED:
        codes = list(DispositionCode.objects.filter(code__in=["resolved-first-contact"]))
        services.conversation_wrap_up(
            conversation=conversation, actor=agent, disposition_codes=codes, notes="Accessory advice"
        )
    Conversation.objects.filter(pk=conversation.pk).update(agent_read_up_to=0)


def _extra_cases(users, contacts) -> None:
    now = timezone.now()
    for email, subject, priority, severity, owner, resolve_in_hours in EXTRA_CASES:
        if Case.objects.filter(subject=subject).exists():
            continue
        services.case_create(
            contact=contacts[email],
            subject=subject,
            actor=users["supervisor"],
            priority=priority,
            severity=severity,
            owner=users.get(owner) if owner else None,
            description=f"{subject}. Reported by {contacts[email]}.",
            first_response_by=now + timedelta(hours=min(resolve_in_hours, 4)),
            resolve_by=now + timedelta(hours=resolve_in_hours),
        )


def seed(stdout) -> None:
    users = _users(stdout)
    contacts = _customers(users)
    _reference_data(users)
    for spec in CONVERSATIONS:
        _conversation(spec, users, contacts)
    _extra_cases(users, contacts)
    stdout.write(
        f"CRM: {Contact.objects.count()} contacts, {Conversation.objects.count()} conversations, "
        f"{Case.objects.count()} cases, {CannedResponse.objects.count()} quick replies."
    )
