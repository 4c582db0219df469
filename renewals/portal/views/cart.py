"""Portal pages: cart."""

urls: list = []
