"""The built-in retrieval evaluation set: 200 Northwind support articles and 300+ customer queries.

Articles are one per (product, topic): 20 products × 10 support topics, each
with product-specific details (model numbers, button names, light colours,
error codes), so the right answer is one article among ten on the same topic
and twenty on the same product. Queries are written the way customers write:
paraphrases that share no keyword with the article, the generic name of the
device instead of the product name, typos, and exact error codes. Everything
is generated from a fixed seed, so every run evaluates the same set.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# name, model, device (generic words a customer uses), connection, power button, what the article calls it
PRODUCTS = [
    ("Pulse Buds", "PB-210", "wireless earbuds", "Bluetooth", "case button", "true wireless in-ear headphones"),
    ("Pulse Over-Ear", "PH-700", "noise cancelling headphones", "Bluetooth", "power slider", "over-ear ANC headset"),
    ("Northbook 14", "NB-1400", "laptop", "Wi-Fi", "power key", "14-inch notebook computer"),
    ("Northbook Pro 16", "NB-1690", "workstation notebook", "Wi-Fi", "power key", "16-inch performance notebook"),
    ("Vista 55", "TV-5500", "television", "Wi-Fi", "joystick under the logo", "55-inch 4K smart TV"),
    ("Vista 75 QLED", "TV-7510", "big screen tv", "Wi-Fi", "joystick under the logo", "75-inch QLED smart TV"),
    ("NetMax AX3000", "RT-3000", "wifi router", "Ethernet", "power switch", "Wi-Fi 6 router"),
    ("NetMax Mesh", "MS-120", "mesh wifi system", "Ethernet", "power switch", "whole-home mesh network kit"),
    ("Slate 11", "SL-1100", "tablet", "Wi-Fi", "top button", "11-inch Android tablet"),
    ("Reference 8", "RF-2708", "computer monitor", "DisplayPort", "bottom-right button", "27-inch IPS display"),
    ("Orbit Watch 3", "OW-300", "smartwatch", "Bluetooth", "crown", "fitness and health watch"),
    ("Boom Mini", "BM-050", "portable speaker", "Bluetooth", "power button on the side",
     "compact Bluetooth loudspeaker"),
    ("Snap Z50", "SZ-500", "mirrorless camera", "Wi-Fi", "on/off lever", "interchangeable-lens camera"),
    ("PrintJet 420", "PJ-420", "inkjet printer", "Wi-Fi", "power button on the panel", "all-in-one ink printer"),
    ("TypeLite K2", "KB-200", "wireless keyboard", "Bluetooth", "switch on the back", "slim Bluetooth keyboard"),
    ("Glide M5", "MO-500", "wireless mouse", "Bluetooth", "switch underneath", "ergonomic Bluetooth mouse"),
    ("Arcade One", "GC-100", "game console", "Wi-Fi", "power button on the front", "home video game console"),
    ("SkyHop Drone", "DR-400", "camera drone", "Wi-Fi", "battery button", "foldable quadcopter with 4K camera"),
    ("PageOne Reader", "ER-060", "e-reader", "Wi-Fi", "bottom button", "e-ink book reader"),
    ("CinemaBeam", "PJ-900", "home projector", "HDMI", "power button on the top", "1080p LED projector"),
]

LIGHTS = ["white", "blue", "amber", "green", "purple", "cyan"]

# topic key, title template, body template, customer paraphrases (no article keywords), keyword queries
TOPICS = [
    ("connect", "Connect {name} to your phone over {conn}",
     "To pair the {name} ({model}), hold the {button} for {s} seconds until the light blinks {light}. Open "
     "{conn} settings on your phone and choose {name} from the device list. Only one phone can be connected at a time.",
     ["my {device} won't link up with my mobile", "I can't get my new {device} to show up on my cell"],
     ["pair {name}"]),
    ("charging", "{name} battery drains or will not charge",
     "If the {name} ({model}) drains quickly or will not charge, use the original cable and a wall adapter. Leave it "
     "on the charger for {s} minutes; the light turns {light} while charging. Lower brightness and turn on power "
     "saving to make the battery last longer.",
     ["my {device} runs out of juice way too fast", "{device} stays dead even when plugged in overnight"],
     ["{name} battery not charging"]),
    ("power", "{name} will not turn on",
     "If the {name} ({model}) does not start, hold the {button} for {s} seconds to force a restart. If nothing "
     "happens, charge it for 30 minutes and try again; a {light} flash means the battery is empty.",
     ["{device} is completely lifeless, nothing happens when I press anything", "my {device} is dead and won't boot"],
     ["{name} won't power on"]),
    ("reset", "Factory reset the {name}",
     "A factory reset erases all settings of the {name} ({model}). Hold the {button} and the volume or menu button "
     "together for {s} seconds until the light flashes {light} three times. Set it up again from the app afterwards.",
     ["how do I wipe my {device} back to how it came out of the box",
      "erase everything on the {device} before I sell it"],
     ["{name} factory reset"]),
    ("update", "{name} firmware update fails with error {code}",
     "Error {code} on the {name} ({model}) means the firmware download was interrupted. Keep the device charged, "
     "restart it with the {button}, and start the update again from the Northwind app. The light shows {light} "
     "while it installs.",
     ["the software upgrade on my {device} keeps breaking halfway", "{code}"],
     ["{name} update error"]),
    ("overheating", "{name} gets hot or overheats",
     "The {name} ({model}) can get warm during heavy use. Keep the vents clear, remove thick cases, and avoid "
     "direct sunlight. If it shuts down with a {light} light, let it cool for {s} minutes before using it again.",
     ["my {device} is burning up and feels too warm to touch", "{device} cuts out because it gets so toasty"],
     ["{name} overheating"]),
    ("warranty", "Warranty repair for the {name}",
     "The {name} ({model}) has a 2-year warranty against manufacturing defects. Open a claim with the serial number "
     "and a photo of the fault; we send a prepaid box and return the repaired unit in {s} days.",
     ["my {device} broke after a few months, will you fix it for free",
      "is a faulty {device} covered by your guarantee"],
     ["{name} warranty claim"]),
    ("setup", "Set up your {name} for the first time",
     "Unbox the {name} ({model}), charge it fully, and turn it on with the {button}. Install the Northwind app, "
     "sign in, and follow the steps; the light turns {light} when setup is complete. It takes about {s} minutes.",
     ["just bought a {device}, what do I do first to get going", "getting started with my brand new {device}"],
     ["{name} first time setup"]),
    ("slow", "{name} is slow or freezes",
     "If the {name} ({model}) lags or freezes, restart it with the {button} and close apps you do not use. Free up "
     "storage and install the latest firmware. A {light} light during a freeze means it is saving a diagnostic log.",
     ["my {device} keeps getting stuck and lagging", "the {device} hangs and becomes unresponsive all the time"],
     ["{name} freezing"]),
    ("cleaning", "Clean and care for your {name}",
     "Wipe the {name} ({model}) with a soft dry cloth. Do not use alcohol or sprays on the surface or ports. Clean "
     "the ports with a dry brush every {s} weeks; keep it away from water and dust.",
     ["what's the safest way to wipe dirt off my {device}", "how should I look after my {device} so it stays nice"],
     ["{name} cleaning"]),
]


@dataclass(frozen=True)
class EvalArticle:
    key: str
    title: str
    body: str
    product: str


@dataclass(frozen=True)
class EvalQuery:
    text: str
    article_key: str
    kind: str  # paraphrase, typo, code, keyword


def _typo(text: str, rng: random.Random) -> str:
    """Two realistic slips: a swapped pair of letters and a dropped letter, in words longer than 3."""
    words = text.split()
    candidates = [i for i, word in enumerate(words) if len(word) > 3 and word.isalpha()]
    for index in rng.sample(candidates, min(2, len(candidates))):
        word = words[index]
        position = rng.randrange(1, len(word) - 1)
        if rng.random() < 0.5:
            words[index] = word[:position] + word[position + 1] + word[position] + word[position + 2:]
        else:
            words[index] = word[:position] + word[position + 1:]
    return " ".join(words)


def evaluation_set(seed: int = 7) -> tuple[list[EvalArticle], list[EvalQuery]]:
    rng = random.Random(seed)
    articles, queries = [], []
    used_codes: set[str] = set()
    for p_index, (name, model, device, conn, button, kind) in enumerate(PRODUCTS):
        for topic, title, body, paraphrases, keywords in TOPICS:
            code = f"E-{rng.randint(1000, 9999)}"
            while code in used_codes:
                code = f"E-{rng.randint(1000, 9999)}"
            used_codes.add(code)
            values = {"name": name, "model": model, "device": device, "conn": conn, "button": button,
                      "s": rng.choice([3, 5, 8, 10, 15, 20]), "light": rng.choice(LIGHTS), "code": code}
            key = f"{model}/{topic}"
            articles.append(EvalArticle(key=key, title=title.format(**values),
                                        body=f"{name}, {kind}. " + body.format(**values),
                                        product=name))
            queries.append(EvalQuery(paraphrases[0].format(**values), key,
                                     "code" if paraphrases[0] == "{code}" else "paraphrase"))
            second = paraphrases[1].format(**values)
            queries.append(EvalQuery(second, key, "code" if paraphrases[1] == "{code}" else "paraphrase"))
            if (p_index + len(topic)) % 3 == 0:
                queries.append(EvalQuery(_typo(keywords[0].format(**values), rng), key, "typo"))
    return articles, queries
