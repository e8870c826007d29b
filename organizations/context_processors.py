"""Template context every staff page needs: the user's reach roots and role summary."""

from core.scoping import is_staff_user

from .views.focus import focus_context


def staff_context(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    context = {"is_staff_user": is_staff_user(user), "is_worker": getattr(user, "is_worker", False)}
    if context["is_staff_user"]:
        # The header's organisation switcher (only for users with roles at several organisations).
        context.update(focus_context(request))
    return context
