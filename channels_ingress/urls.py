from django.urls import path

from channels_ingress import views

app_name = "channels_ingress"

urlpatterns = [
    path("demo/webchat/", views.demo_webchat, name="demo_webchat"),
    path("webchat/<str:public_key>/attachments/", views.webchat_attachment_upload, name="webchat_upload"),
    path("webchat/<str:public_key>/transcript/", views.webchat_transcript, name="webchat_transcript"),
    path("webchat/attachments/<str:ref>/", views.attachment_download, name="attachment"),
]

urlpatterns += [
    path("channels/twilio/sms/", views.twilio_sms, name="twilio_sms"),
    path("channels/twilio/sms/status/", views.twilio_sms_status, name="twilio_sms_status"),
]

urlpatterns += [
    path("channels/twilio/voice/", views.twilio_voice, name="twilio_voice"),
    path("channels/twilio/voice/menu/<int:menu_id>/", views.twilio_voice_menu, name="twilio_voice_menu"),
    path("channels/twilio/voice/recording/", views.twilio_voice_recording, name="twilio_voice_recording"),
    path("channels/twilio/voice/transcription/", views.twilio_voice_transcription, name="twilio_voice_transcription"),
]

urlpatterns += [
    path("channels/email/<int:channel_id>/inbound/", views.email_inbound, name="email_inbound"),
]
