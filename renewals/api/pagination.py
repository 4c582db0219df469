"""Page-number pagination of every list: {"count", "next", "previous", "results"}."""

from urllib.parse import urlencode

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50


def page_links(request, *, page: int, page_size: int, count: int) -> tuple[str | None, str | None]:
    """Return the absolute URLs of the next and previous pages (None at either end)."""

    def link(number: int) -> str:
        params = request.GET.copy()
        params["page"] = str(number)
        params["page_size"] = str(page_size)
        return request.build_absolute_uri(request.path) + "?" + urlencode(sorted(params.items()))

    last = max(1, -(-count // page_size))
    next_url = link(page + 1) if page < last else None
    previous = link(min(page - 1, last)) if page > 1 else None
    return next_url, previous


def page_slice(page: int, page_size: int) -> slice:
    start = (page - 1) * page_size
    return slice(start, start + page_size)
