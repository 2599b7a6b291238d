"""Notifications on fills, failures, rejections and kill switch changes.

`targets` (the configuration, imported by the settings), `messages` (what is said, and how each
kind of receiver wants it), `sender` (the background notifier). Telegram, Discord and Slack get
a line of text; a generic `webhook` target gets JSON signed with the Standard Webhooks scheme,
so `webhook.auth.signatures.verify_signature` checks it.
"""
