"""Portal pages: accounts."""

urls: list = []
