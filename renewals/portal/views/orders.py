"""Portal pages: orders."""

urls: list = []
