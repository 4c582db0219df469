"""Portal pages: summary."""

urls: list = []
