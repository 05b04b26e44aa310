"""Role changes re-route cases: whenever a Membership is created, changed or ended (in the admin,
a service, a management command), the cases of that school about the person and the reviews in
progress there are routed again (services.incident_reroute_for_roles). Visibility does not wait
for this: IncidentQuerySet reads the subject's roles live. Bulk writes and raw SQL send no signal;
the live rule still holds for them, and the next role change or reopening catches the routing up."""

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from accounts.models import Membership, User


@receiver(pre_save, sender=Membership, dispatch_uid="incidents-membership-before")
def _membership_before(sender, instance, raw=False, **kwargs):
    """Remember who and where the row was, so moving it re-routes the old place too."""
    if raw or instance.pk is None:
        return
    instance._routing_was = Membership.objects.filter(pk=instance.pk).values_list("user_id", "school_id").first()


def _reroute(user_id, school_id):
    from . import services

    user = User.objects.filter(pk=user_id).first()
    if user is not None:
        services.incident_reroute_for_roles(user=user, school_id=school_id)


@receiver(post_save, sender=Membership, dispatch_uid="incidents-membership-saved")
def _membership_saved(sender, instance, raw=False, **kwargs):
    if raw:
        return
    places = {(instance.user_id, instance.school_id)}
    if getattr(instance, "_routing_was", None):
        places.add(instance._routing_was)
    for user_id, school_id in sorted(places):
        _reroute(user_id, school_id)


@receiver(post_delete, sender=Membership, dispatch_uid="incidents-membership-deleted")
def _membership_deleted(sender, instance, **kwargs):
    _reroute(instance.user_id, instance.school_id)


@receiver(post_save, sender=User, dispatch_uid="incidents-user-saved")
def _user_saved(sender, instance, created=False, raw=False, update_fields=None, **kwargs):
    """A governor deactivated (or back) can change who decides a review in progress."""
    if raw or created or (update_fields is not None and "is_active" not in update_fields):
        return
    for school_id in set(Membership.objects.filter(user=instance).values_list("school_id", flat=True)):
        _reroute(instance.pk, school_id)
