from django import template

from search.reports import synonym_url as build_synonym_url

register = template.Library()


@register.filter
def synonym_url(query):
    return build_synonym_url(query)
