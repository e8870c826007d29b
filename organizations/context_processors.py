"""Template context every staff page needs: the user's reach roots and role summary."""

from .scoping import is_staff_user


def staff_context(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"is_staff_user": is_staff_user(user), "is_worker": getattr(user, "is_worker", False)}
