import factory

from crm.choices import ChannelKind
from crm.models import Account, Contact, ContactIdentity, Conversation


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Northwind Electronics {n}")
    domain = factory.Sequence(lambda n: f"northwind{n}.example")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")


class ContactIdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactIdentity

    contact = factory.SubFactory(ContactFactory)
    kind = ChannelKind.WEBCHAT
    address = factory.Sequence(lambda n: f"visitor-{n}")


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    identity = factory.SubFactory(ContactIdentityFactory)
    contact = factory.SelfAttribute("identity.contact")
    channel_kind = factory.SelfAttribute("identity.kind")
