"""Demo channels of Northwind Electronics: the web chat on /demo/webchat/, an SMS number, an IVR, a mailbox."""

from __future__ import annotations

from datetime import time

from channels_ingress.choices import IvrAction
from channels_ingress.models import (
    CustomChannel,
    EmailChannel,
    IvrMenu,
    IvrOption,
    OperatingHours,
    SmsChannel,
    VoiceChannel,
    WebChatChannel,
)

#: The fixed key the demo page embeds.
DEMO_WEBCHAT_KEY = "northwind-demo-chat"
DEMO_SMS_NUMBER = "+15005550006"
DEMO_VOICE_NUMBER = "+15005550007"
DEMO_MAILBOX = "support@northwind.example"
#: Twilio's documented test credentials shape; real ones are entered in the admin.
DEMO_ACCOUNT_SID = "AC00000000000000000000000000000000"


def _queue(name: str):
    from routing.models import Queue

    return Queue.objects.filter(name__iexact=name).first()


def seed(stdout) -> None:
    WebChatChannel.objects.update_or_create(
        public_key=DEMO_WEBCHAT_KEY,
        defaults={
            "name": "Northwind web chat",
            "title": "Northwind Electronics",
            "subtitle": "We usually reply within a few minutes",
            "greeting": "Hi! Ask us about orders, returns or your devices.",
            "primary_colour": "#0b5cab",
        },
    )
    SmsChannel.objects.get_or_create(
        phone_number=DEMO_SMS_NUMBER,
        defaults={"name": "Northwind SMS", "account_sid": DEMO_ACCOUNT_SID, "auth_token": "demo-auth-token"},
    )
    hours, _ = OperatingHours.objects.get_or_create(
        name="Northwind support hours",
        defaults={
            "time_zone": "America/New_York", "weekdays": [0, 1, 2, 3, 4], "opens_at": time(8), "closes_at": time(20),
        },
    )
    voice, created = VoiceChannel.objects.get_or_create(
        phone_number=DEMO_VOICE_NUMBER,
        defaults={
            "name": "Northwind hotline", "account_sid": DEMO_ACCOUNT_SID, "auth_token": "demo-auth-token",
            "operating_hours": hours,
        },
    )
    if created or voice.root_menu_id is None:
        main = IvrMenu.objects.create(
            channel=voice, name="Main menu",
            prompt="Welcome to Northwind Electronics. For orders and deliveries press 1 or say orders. "
                   "For our opening hours press 2. For technical support press 3. "
                   "To leave a message press 4. To have us call you back press 5.",
        )
        tech = IvrMenu.objects.create(
            channel=voice, name="Technical support",
            prompt="For laptops press 1. For phones and tablets press 2.",
        )
        IvrOption.objects.bulk_create([
            IvrOption(menu=main, position=1, dtmf="1", speech_keywords=["orders", "order", "delivery"], label="Orders",
                      action=IvrAction.QUEUE, queue=_queue("Orders"), skills=["orders"]),
            IvrOption(menu=main, position=2, dtmf="2", speech_keywords=["hours", "opening"], label="Opening hours",
                      action=IvrAction.KNOWLEDGE,
                      answer_text="Our support line is open Monday to Friday, 8 AM to 8 PM Eastern time."),
            IvrOption(menu=main, position=3, dtmf="3", speech_keywords=["support", "technical", "help"],
                      label="Technical support", action=IvrAction.SUBMENU, submenu=tech),
            IvrOption(menu=main, position=4, dtmf="4", speech_keywords=["message", "voicemail"], label="Voicemail",
                      action=IvrAction.VOICEMAIL),
            IvrOption(menu=main, position=5, dtmf="5", speech_keywords=["callback", "call back"], label="Callback",
                      action=IvrAction.CALLBACK),
            IvrOption(menu=tech, position=1, dtmf="1", speech_keywords=["laptop", "computer"], label="Laptops",
                      action=IvrAction.QUEUE, queue=_queue("Technical support"), skills=["laptops"]),
            IvrOption(menu=tech, position=2, dtmf="2", speech_keywords=["phone", "tablet"], label="Phones and tablets",
                      action=IvrAction.QUEUE, queue=_queue("Technical support"), skills=["mobile"]),
        ])
        voice.root_menu = main
        voice.save(update_fields=["root_menu"])
    EmailChannel.objects.get_or_create(address=DEMO_MAILBOX, defaults={"name": "Northwind support mailbox"})
    CustomChannel.objects.get_or_create(key="northwind-app", defaults={"name": "Northwind mobile app chat"})
    stdout.write(
        f"channels: web chat {DEMO_WEBCHAT_KEY} (/demo/webchat/), SMS {DEMO_SMS_NUMBER}, "
        f"voice {DEMO_VOICE_NUMBER}, mailbox {DEMO_MAILBOX}, custom channel northwind-app"
    )
