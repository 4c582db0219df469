"""Portal pages: subscriptions."""

urls: list = []
