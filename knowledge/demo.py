"""Demo knowledge base for Northwind Electronics: ~15 published articles customers and agents use.

``seed(stdout)`` is idempotent: articles are keyed by external id (``demo/<slug>``)
and go through the same import service as ``import_articles``; unchanged
articles are left alone. Needs crm's demo users (``agent1`` writes, ``supervisor``
approves and publishes).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from crm.choices import CaseStatus
from crm.models import Case
from knowledge import services
from knowledge.choices import ArticleStatus, Visibility
from knowledge.models import ArticleTemplate

EXTERNAL, INTERNAL = Visibility.EXTERNAL, Visibility.INTERNAL

ARTICLES = [
    ("returns", "Return an item for a refund", "All products", "Orders & returns", EXTERNAL,
     ["returns", "refund", "RMA"],
     "Most products can be returned within 30 days of delivery for a full refund.",
     """## Who can return
Any product bought from Northwind Electronics can be returned within **30 days of delivery**, unopened or opened,
as long as all accessories and the original packaging are included. Opened headphones and earbuds must be returned
with the ear tips sealed in their bag for hygiene reasons.

## Start a return
1. Sign in and open **Orders**.
2. Choose the order (for example *NW-47002*) and select **Return items**.
3. Pick the reason and print the prepaid label, or choose drop-off at a partner store.

## Refunds
We refund to the original payment method within **5 business days** after the parcel reaches our warehouse.
Card refunds can take another 3–5 days to show on your statement."""),
    ("warranty", "What the Northwind warranty covers", "All products", "Warranty", EXTERNAL,
     ["warranty", "repair", "defect"],
     "Every product has a 2-year limited warranty against manufacturing defects.",
     """## Coverage
Northwind products carry a **2-year limited warranty** from the delivery date. It covers manufacturing defects such
as dead pixels beyond the allowed count, batteries that hold less than 70 % of their capacity, and buttons or ports
that stop working under normal use.

## Not covered
Accidental damage (drops, liquid), cosmetic wear, and damage from unauthorised repairs are not covered.
Northwind Care+ extends coverage to accidents for 3 years.

## Make a claim
Open a warranty claim from **Orders → Get help** with the serial number and a photo or video of the fault.
We send a prepaid box; repaired or replaced devices ship back within 7–10 days."""),
    ("shipping", "Shipping options and delivery times", "All products", "Orders & returns", EXTERNAL,
     ["shipping", "delivery", "express"],
     "Standard, express and next-day delivery, their prices and cut-off times.",
     """## Options
| Option | Time | Price |
| --- | --- | --- |
| Standard | 3–5 business days | Free over $35 |
| Express | 2 business days | $9.99 |
| Next day | next business day | $19.99 |

Orders placed before **2 pm local time** on a business day ship the same day.

## Large items
TVs of 55 inches and more ship by freight with a delivery appointment; the carrier calls you to book a slot."""),
    ("order-tracking", "Track your order", "All products", "Orders & returns", EXTERNAL,
     ["tracking", "order status", "parcel"],
     "Where to find the tracking link and what each order status means.",
     """## Find the tracking link
When your order ships we email a tracking link. You can also open **Orders**, choose the order and select
**Track package**.

## Order statuses
- **Processing**: we are picking and packing your items.
- **Shipped**: the carrier has the parcel; tracking can take 24 hours to update.
- **Out for delivery**: it arrives today.
- **Delivery exception**: the carrier could not deliver — check the tracking page for the next attempt.

## Parcel marked delivered but not received
Check with neighbours and your building's mail room, then wait 24 hours: carriers sometimes mark parcels early.
If it still has not arrived, contact us and we open an investigation with the carrier."""),
    ("earbuds-pairing", "Pair Pulse Buds earbuds with your phone", "Pulse Buds", "Audio", EXTERNAL,
     ["bluetooth", "pairing", "earbuds"],
     "Put the earbuds in pairing mode and connect them over Bluetooth.",
     """## Put the earbuds in pairing mode
Place both earbuds in the charging case and keep the lid open. Press and hold the button on the back of the case
for **5 seconds** until the status light blinks white.

## Connect
On your phone open **Settings → Bluetooth** and choose **Pulse Buds** from the list of devices.

## They do not appear
Forget *Pulse Buds* in the phone's Bluetooth list, then reset the earbuds: hold the case button for **15 seconds**
until the light flashes amber three times, and pair again. Only one phone can be connected at a time."""),
    ("headphones-charging", "Pulse headphones do not charge", "Pulse Headphones", "Audio", EXTERNAL,
     ["charging", "battery", "USB-C"],
     "What to do when Pulse headphones show no charging light.",
     """## Check the cable and power
Use the supplied USB-C cable and a 5 V wall adapter; some laptop ports do not supply enough power when asleep.
The light turns red while charging and green when full.

## Wake a deeply discharged battery
If the headphones were stored empty for months, leave them on the charger for **30 minutes** before the light
comes on.

## Still no light
Clean the USB-C port gently with a dry brush. If the light stays off after that, the headphones are covered by the
warranty: open a warranty claim."""),
    ("laptop-battery", "Northbook laptop battery drains quickly", "Northbook 14", "Computers", EXTERNAL,
     ["battery life", "power", "laptop"],
     "Settings that make the battery last longer, and how to check battery health.",
     """## Quick fixes
- Lower the screen brightness and turn on **Battery saver**.
- Close apps that keep running in the background, such as video calls and browser tabs that play media.
- Update the BIOS and drivers from **Northwind Update**; BIOS 1.8 fixed a sleep bug that drained the battery.

## Check battery health
Open **Northwind Update → Battery** to see the full-charge capacity. Below 70 % of the design capacity within two
years the battery is replaced under warranty.

## Calibrate
Charge to 100 %, use the laptop until it turns off, then charge it fully again without interruption."""),
    ("tv-no-signal", "TV shows \"No signal\"", "Vista 55", "TV & video", EXTERNAL,
     ["HDMI", "no signal", "input"],
     "The TV is on but shows No signal: pick the right input and check the cable.",
     """## Choose the right input
Press **Source** on the remote and select the HDMI port the cable is plugged into (the number is printed next to
the port on the back of the TV).

## Check the device and cable
Make sure the cable box, console or streaming stick is powered on. Unplug the HDMI cable at both ends and plug it
in firmly, or try another HDMI port or cable.

## Enable HDMI-CEC and signal format
For 4K sources open **Settings → General → External device manager** and turn on **Input signal plus** for that
port. Turning on HDMI-CEC (*Anynet+*) lets the TV switch to the device automatically."""),
    ("router-e1042", "Router shows error E-1042 after an update", "NetMax Router", "Networking", EXTERNAL,
     ["E-1042", "firmware", "router"],
     "Recover a NetMax router whose firmware update was interrupted.",
     """## What E-1042 means
The status light blinks red and the app shows **E-1042** when a firmware update was interrupted, for example by a
power cut.

## Recover the firmware
1. Unplug the router for 10 seconds.
2. Hold the **Reset** button with a paper clip and plug the power back in while holding it.
3. Release after 15 seconds, when the light turns purple; the router reinstalls the last good firmware.
4. Wait up to 5 minutes until the light is solid green.

Your Wi-Fi name and password are kept."""),
    ("wifi-slow", "Wi-Fi is slow or drops", "NetMax Router", "Networking", EXTERNAL,
     ["wifi", "slow internet", "disconnects"],
     "Improve Wi-Fi speed and stop dropouts.",
     """## Placement
Put the router in the open, high up and away from microwaves, cordless phones and thick walls.

## Channels and bands
Use the 5 GHz network for devices near the router and 2.4 GHz for far rooms. In the NetMax app turn on
**Smart channel** so the router avoids crowded channels.

## Restart and update
Restart the router weekly and keep automatic updates on. If speeds are low on a cable connection too, contact your
internet provider."""),
    ("tablet-wont-turn-on", "Slate 11 tablet will not turn on", "Slate 11", "Computers", EXTERNAL,
     ["power", "tablet", "frozen"],
     "Force-restart a frozen or black-screen Slate 11.",
     """## Force restart
Hold **Power** and **Volume down** together for 15 seconds until the Northwind logo appears.

## Charge it
Connect the original charger for at least 30 minutes; a fully drained battery shows no charging icon at first.

## Still black
If the screen stays black but you hear sounds, the display may be faulty — open a warranty claim."""),
    ("monitor-buzzing", "Reference 8 monitor makes a buzzing noise", "Reference 8", "Monitors", EXTERNAL,
     ["buzzing", "noise", "coil whine"],
     "Why a monitor can hum and when it is a warranty fault.",
     """## Normal hum
A faint high-pitched noise at very low brightness can be coil whine and is harmless. Raising the brightness
above 30 % or turning off **Eco dimming** usually removes it.

## Warranty fault
A loud buzz or crackle at any brightness, or a noise that comes with flickering, is a fault covered by the
warranty; open a claim with a short video that records the sound."""),
    ("payment-declined", "Payment declined at checkout", "All products", "Billing", EXTERNAL,
     ["payment", "card declined", "checkout"],
     "Common reasons a card is declined and how to complete the order.",
     """## Check the details
Make sure the billing address matches the one your bank has, and that the card has not expired.

## Bank security checks
Large electronics purchases often trigger a bank's fraud check: approve the payment in your banking app, then
place the order again.

## Duplicate charges
A declined attempt can show as a *pending* charge; it disappears within 3–5 business days. If you see two completed
charges for one order, contact us with the order number."""),
    ("price-match", "Price match policy", "All products", "Billing", EXTERNAL,
     ["price match", "discount", "lower price"],
     "We match a lower price from major retailers within 14 days of purchase.",
     """## Conditions
We match the price of an identical, in-stock product sold by a major national retailer, within **14 days** of your
purchase. Marketplace sellers, clearance and bundle offers are excluded.

## How to ask
Send us the order number and a link to the lower price; we refund the difference to your original payment."""),
    ("escalation-refunds", "Agent guide: approving refunds above $500", "All products", "Internal procedures", INTERNAL,
     ["refund approval", "escalation", "supervisor"],
     "Internal: who approves large refunds and what to record on the case.",
     """## Limits
Agents approve refunds up to **$500**. Refunds above that need a supervisor's approval on the case.

## Steps
1. Check the return was received (warehouse scan on the order).
2. Add an internal note with the amount and reason.
3. Use **Consult** to bring in the supervisor on duty; they approve in the case.

Never promise a refund date before approval."""),
]


TEMPLATES = [
    ("Troubleshooting", "[Product]: [symptom]", "## Symptoms\n\n## Cause\n\n## Resolution\n1. \n",
     ["troubleshooting"], EXTERNAL),
    ("Policy", "[Policy name]", "## Who it applies to\n\n## What we offer\n\n## How to ask\n", ["policy"], EXTERNAL),
    ("Internal procedure", "Agent guide: [task]", "## When\n\n## Steps\n1. \n\n## Escalation\n",
     ["procedure"], INTERNAL),
]


def seed(stdout) -> None:
    users = get_user_model().objects
    author = users.filter(username="agent1").first()
    manager = users.filter(username="supervisor").first() or users.filter(is_superuser=True).first()
    if author is None or manager is None:
        stdout.write("knowledge: skipped (run crm's demo seed first for agent1 and supervisor)")
        return
    for name, title, body, keywords, visibility in TEMPLATES:
        ArticleTemplate.objects.get_or_create(
            name=name, defaults={"title": title, "body": body, "keywords": keywords, "visibility": visibility}
        )
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for slug, title, product, category, visibility, keywords, summary, body in ARTICLES:
        result = services.article_import(
            actor=manager, external_id=f"demo/{slug}", status=ArticleStatus.PUBLISHED, title=title, body=body,
            summary=summary, keywords=keywords, product=product, category=category, visibility=visibility,
        )
        if result.outcome == "created":
            type(result.article).objects.filter(pk=result.article.pk).update(author=author)
        if result.outcome != "unchanged":
            # The seed runs without a Celery worker: embed now so search works at once.
            services.article_index(article_id=result.article.pk)
        counts[result.outcome] += 1
    # Resolved demo cases feed the "similar resolved cases" of smart assist.
    resolved = list(Case.objects.filter(status=CaseStatus.RESOLVED).values_list("pk", flat=True))
    for case_id in resolved:
        services.case_index(case_id=case_id)
    stdout.write(
        "knowledge: {created} articles created, {updated} updated, {unchanged} unchanged".format(**counts)
        + f"; {len(resolved)} resolved cases indexed"
    )
