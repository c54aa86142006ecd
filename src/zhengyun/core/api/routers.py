"""The API router: names routes after each viewset's ``model`` (viewsets hold no queryset)."""

from rest_framework.routers import DefaultRouter


class ModelRouter(DefaultRouter):
    def get_default_basename(self, viewset):
        return viewset.model._meta.model_name
