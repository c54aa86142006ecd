"""Base API views: reads through the restriction helper, writes through services.

A subclass names its ``model`` and the services functions to call; it never filters by
tenant nor saves a model itself (design rules 1 and 2). Objects the user may not see are
404 exactly like missing ones; objects they may see but not change come back 403 from the
service, which audits the denial.
"""

from rest_framework import mixins, viewsets

from zhengyun.core.services import ensure_may_add


class RestrictedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """List and retrieve what ``model.objects.restrict(user, "view")`` allows.

    Subclasses name a ``model`` (and what to ``select_related`` and ``prefetch_related``),
    never a queryset: there is no unrestricted queryset to forget to narrow.
    """

    model = None
    select_related = ()
    prefetch_related = ()

    def get_queryset(self):
        queryset = self.model.objects.restrict(self.request.user, "view")
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        if self.prefetch_related:
            queryset = queryset.prefetch_related(*self.prefetch_related)
        return queryset


class GuardedCreateMixin(mixins.CreateModelMixin):
    """Creation refused with 403 before the request body is validated, for people who may
    add nothing of this kind (validation messages must not leak others' data)."""

    def create(self, request, *args, **kwargs):
        ensure_may_add(self.model, actor=request.user)
        return super().create(request, *args, **kwargs)


class ServiceCreateDeleteViewSet(
    GuardedCreateMixin, mixins.DestroyModelMixin, RestrictedReadOnlyViewSet
):
    """Create and delete by calling ``create_service`` and ``delete_service`` (services
    functions taking ``actor`` as a keyword), for things that are made and removed but
    never changed."""

    create_service = None
    delete_service = None

    def perform_create(self, serializer):
        serializer.instance = type(self).create_service(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        type(self).delete_service(instance, actor=self.request.user)


class ServiceModelViewSet(mixins.UpdateModelMixin, ServiceCreateDeleteViewSet):
    """Create, update and delete by calling ``create_service``, ``update_service`` and
    ``delete_service``."""

    update_service = None

    def perform_update(self, serializer):
        serializer.instance = type(self).update_service(
            serializer.instance, actor=self.request.user, changes=serializer.validated_data
        )
