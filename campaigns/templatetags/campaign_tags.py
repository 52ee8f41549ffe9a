from django import template
from django.template.loader import render_to_string

register = template.Library()


@register.simple_tag(takes_context=True)
def enrolment_form(context, block):
    """Render an enrolment block with its bound form (kept input and errors after a failed POST)."""
    state = (context.get("enrolment_states") or {}).get(block.id)
    if state is None:
        return ""
    return render_to_string(
        block.block.meta.template,
        {"value": block.value, "state": state, "form": state["form"], "page": context.get("page")},
        request=context.get("request"),
    )
