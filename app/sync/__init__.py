"""Sync: outbox, batches, HTTP client, scheduler, USB transfer.

app.sync.protocol is the wire contract shared with the reference server."""
