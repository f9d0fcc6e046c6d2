from datetime import timedelta

from django import template

from orders.domain import labels

register = template.Library()


@register.filter
def duration(value: timedelta) -> str:
    """A short age: 45 s, 12 min, 3 h 5 min, 2 d 4 h."""
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours < 1:
        return f"{minutes} min"
    if days < 1:
        return f"{hours} h {minutes % 60} min" if minutes % 60 else f"{hours} h"
    return f"{days} d {hours % 24} h" if hours % 24 else f"{days} d"


# The words people read for stored values (orders.domain.labels): every admin page uses these
# instead of showing ``in_progress`` or ``order.visit_checked_in``.
register.filter("status_label", labels.status_label)
register.filter("move_verb", labels.move_verb)
register.filter("priority_label", labels.priority_label)
register.filter("category_label", labels.category_label)
register.filter("event_label", labels.event_label)
register.filter("actor_label", labels.actor_label)
register.filter("visibility_label", labels.visibility_label)
register.filter("actor_name", labels.actor_name)
