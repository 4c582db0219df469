"""Portal pages: payment_methods."""

urls: list = []
