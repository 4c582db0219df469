"""The product's URLs plus the benchmark's bare view at /_bench/subscriptions (bench only)."""

from django.urls import path

from bench import bare_view
from renewals.urls import urlpatterns as product_urlpatterns

urlpatterns = [path("_bench/subscriptions", bare_view.subscriptions), *product_urlpatterns]
