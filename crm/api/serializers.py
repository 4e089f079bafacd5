from rest_framework import serializers

from crm.models import Message


class MessageSerializer(serializers.ModelSerializer):
    sender_name = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id", "conversation", "direction", "sender_kind", "sender_user", "sender_name", "body", "html",
            "attachments", "channel_kind", "provider_message_id", "delivery_status", "created_at",
        ]
        read_only_fields = fields

    def get_sender_name(self, message: Message) -> str:
        return str(message.sender_user) if message.sender_user else message.get_sender_kind_display()
