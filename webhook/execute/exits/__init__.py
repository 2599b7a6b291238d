"""Managed exits: trailing stops, break-even moves and take-profit ladders of filled entries.

Each filled entry that asked for exits gets a durable plan in the journal
(`webhook.journal.exit_plans`). The manager polls each plan's plugin for prices, the pure
decision (`decision`) says what the price changes, and every exit order is a child signal stored
in the same journal transaction as the plan's new state, then run by the executor like any
signal. So a restart resumes every plan where the journal left it and never sends an exit twice.
"""
