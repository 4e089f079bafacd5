from rest_framework import serializers


class AttachmentInSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000)
    name = serializers.CharField(max_length=200, required=False, default="attachment")
    content_type = serializers.CharField(max_length=100, required=False, default="application/octet-stream")

    def validate_url(self, value: str) -> str:
        if not value.startswith("https://"):
            raise serializers.ValidationError("Attachment URLs must use https.")
        return value


class ChannelMessageInSerializer(serializers.Serializer):
    sender = serializers.CharField(max_length=200, help_text="The sender's id in the external system.")
    sender_name = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    email = serializers.EmailField(required=False, default="", allow_blank=True)
    body = serializers.CharField(max_length=10000, allow_blank=True, default="", trim_whitespace=False)
    attachments = AttachmentInSerializer(many=True, required=False, default=list)
    context = serializers.DictField(required=False, default=dict)

    def validate_attachments(self, value):
        if len(value) > 10:
            raise serializers.ValidationError("At most 10 attachments.")
        return value

    def validate(self, data):
        if not data["body"].strip() and not data["attachments"]:
            raise serializers.ValidationError({"body": ["Send a body or an attachment."]})
        return data


class ChannelMessageOutSerializer(serializers.Serializer):
    message_id = serializers.IntegerField()
    conversation_id = serializers.IntegerField()
    created = serializers.BooleanField()
