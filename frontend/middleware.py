from django.utils.cache import patch_vary_headers


class VaryOnCookieMiddleware:
    """HTML is rendered per 长辈模式 cookie, so any cache must key on the Cookie header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            patch_vary_headers(response, ["Cookie"])
        return response
